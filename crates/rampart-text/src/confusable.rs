//! Look-alike letters from other scripts hidden inside words ("pаypal" with a Cyrillic `а`).
//!
//! A word that is written in one script is never flagged, whatever it looks like: Russian and Greek text is
//! Russian and Greek text. A word is a *confusable mix* when it combines letters of two scripts and every
//! letter from the minority side has a twin in the main script, which is what a spoofed brand name, domain
//! or keyword looks like and what honest mixed words ("Tシャツ", "iPhone") do not.
//!
//! "Twin" is decided with the Unicode confusables data (UTS #39 skeletons from `unicode-security`): a
//! Cyrillic, Greek, Armenian or Cherokee letter is a twin of the ASCII letter with the same skeleton. That
//! table is derived once, on first use, from the few hundred letters of those scripts.

use std::sync::LazyLock;

use rampart_core::Span;
use unicode_script::{Script, UnicodeScript};

use crate::hidden::classify;

/// Scripts whose letters are commonly passed off as Latin letters (and the other way round).
const LOOKALIKE_SCRIPTS: [Script; 4] = [
    Script::Cyrillic,
    Script::Greek,
    Script::Armenian,
    Script::Cherokee,
];

/// Code point ranges holding the letters of [`LOOKALIKE_SCRIPTS`].
const LOOKALIKE_RANGES: [(u32, u32); 8] = [
    (0x0370, 0x03FF),
    (0x0400, 0x052F),
    (0x0530, 0x058F),
    (0x13A0, 0x13FF),
    (0x1C80, 0x1C8F),
    (0x1D00, 0x1D7F),
    (0xA640, 0xA69F),
    (0xAB70, 0xABBF),
];

/// Words with more distinct scripts than this are not spoofs of one script (they are usually garbage or
/// transliteration tables), and the per-word counters stay on the stack.
const MAX_SCRIPTS: usize = 4;

/// Spoofed words are real words: at least this many letters.
const MIN_LETTERS: usize = 3;

struct Lookalikes {
    /// (foreign letter, ASCII letter it imitates), sorted by the foreign letter.
    folds: Vec<(char, char)>,
    /// For each ASCII byte, a bit per entry of [`LOOKALIKE_SCRIPTS`] that has a twin of it.
    twins: [u8; 128],
}

static LOOKALIKES: LazyLock<Lookalikes> = LazyLock::new(build_lookalikes);

fn script_bit(s: Script) -> u8 {
    LOOKALIKE_SCRIPTS
        .iter()
        .position(|&x| x == s)
        .map_or(0, |i| 1 << i)
}

fn skeleton(c: char) -> String {
    let mut buf = [0u8; 4];
    unicode_security::skeleton(c.encode_utf8(&mut buf)).collect()
}

fn build_lookalikes() -> Lookalikes {
    let ascii: Vec<(String, char)> = ('A'..='Z')
        .chain('a'..='z')
        .map(|a| (skeleton(a), a))
        .collect();
    let mut folds = Vec::new();
    let mut twins = [0u8; 128];
    for &(lo, hi) in &LOOKALIKE_RANGES {
        for c in (lo..=hi).filter_map(char::from_u32) {
            let bit = script_bit(c.script());
            if bit == 0 || !c.is_alphabetic() {
                continue;
            }
            let sk = skeleton(c);
            let mut best: Option<char> = None;
            for (ask, a) in &ascii {
                if *ask != sk {
                    continue;
                }
                twins[*a as usize] |= bit;
                // `І` (Cyrillic capital) and `l` share a skeleton with `I`: fold to the letter of the same case.
                let same_case = a.is_uppercase() == c.is_uppercase();
                if best.is_none() || same_case {
                    best = Some(*a);
                }
            }
            if let Some(a) = best {
                folds.push((c, a));
            }
        }
    }
    folds.sort_unstable();
    Lookalikes { folds, twins }
}

/// The ASCII letter that a Cyrillic, Greek, Armenian or Cherokee letter is confusable with (`'а'` (U+0430)
/// gives `'a'`), or `None` if it has no ASCII twin or is not from one of those scripts.
///
/// Cost: a binary search in a table of a few hundred entries; the first call builds the table (tens of
/// microseconds).
pub fn ascii_lookalike(c: char) -> Option<char> {
    if c.is_ascii() {
        return None;
    }
    let folds = &LOOKALIKES.folds;
    folds
        .binary_search_by_key(&c, |&(f, _)| f)
        .ok()
        .and_then(|i| folds.get(i))
        .map(|&(_, a)| a)
}

fn has_twin_in(ascii: char, script: Script) -> bool {
    let bit = script_bit(script);
    ascii.is_ascii_alphabetic() && bit != 0 && LOOKALIKES.twins[ascii as usize] & bit != 0
}

/// A word that mixes scripts with look-alike letters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfusableWord {
    /// The word, in bytes of the text it was found in (first to last letter or digit).
    pub span: Span,
    /// The script the word is written in.
    pub base: Script,
    /// The script of the first foreign letter.
    pub foreign: Script,
    /// Number of letters not in `base`.
    pub foreign_letters: usize,
    /// Number of letters in the word.
    pub letters: usize,
    /// The first foreign letter.
    pub first_foreign: char,
    /// The ASCII letter `first_foreign` imitates, when `base` is Latin.
    pub looks_like: Option<char>,
}

/// Iterator over the confusable mixed-script words of a text; see [`confusable_words`].
#[derive(Clone, Debug)]
pub struct ConfusableWords<'t> {
    text: &'t str,
    pos: usize,
}

/// Finds words that hide look-alike letters from another script, in text order.
///
/// Words are runs of letters, digits and combining marks; invisible characters inside a word do not end it
/// (so "p\u{200B}аypal" is one word), punctuation and spaces do. A word is reported when it has at least
/// three letters from at most four scripts, some of them ASCII, and either
/// * it has Latin letters and every other letter has an ASCII twin (`base` is Latin), or
/// * one script has strictly the most letters and every other letter is an ASCII letter with a twin in it
///   ("Москвa" with a Latin `a`).
///
/// Cost: one pass over the text; ASCII-only words are skipped after a byte check, other words cost a script
/// lookup per letter. No allocation.
pub fn confusable_words(text: &str) -> ConfusableWords<'_> {
    ConfusableWords { text, pos: 0 }
}

fn is_visible_word_char(c: char) -> bool {
    is_letter(c) || c.is_numeric() || unicode_normalization::char::is_combining_mark(c)
}

/// `char::is_alphabetic`, answered from ranges for the letters of the most common alphabets (Latin, Greek,
/// Cyrillic, Hebrew, Arabic, kana, CJK, Hangul) before falling back to the Unicode tables.
fn is_letter(c: char) -> bool {
    matches!(
        c as u32,
        0x61..=0x7A
            | 0x41..=0x5A
            | 0xC0..=0xD6
            | 0xD8..=0xF6
            | 0xF8..=0x24F
            | 0x388..=0x38A
            | 0x38C
            | 0x38E..=0x3A1
            | 0x3A3..=0x3CE
            | 0x400..=0x481
            | 0x48A..=0x52F
            | 0x5D0..=0x5EA
            | 0x620..=0x64A
            | 0x3041..=0x3096
            | 0x30A1..=0x30FA
            | 0x4E00..=0x9FFF
            | 0xAC00..=0xD7A3
    ) || c.is_alphabetic()
}

impl Iterator for ConfusableWords<'_> {
    type Item = ConfusableWord;

    fn next(&mut self) -> Option<ConfusableWord> {
        let text = self.text;
        let bytes = text.as_bytes();
        let len = bytes.len();
        let char_at = |i: usize| text.get(i..).and_then(|t| t.chars().next());
        let mut i = self.pos;
        while i < len {
            // A look-alike word has a non-ASCII letter: jump to the next non-ASCII character, then back to
            // the start of the ASCII letters before it. Pure ASCII stretches cost a vectorised scan.
            let Some(off) = bytes.get(i..).and_then(first_non_ascii) else {
                break;
            };
            let p = i + off;
            let Some(c) = char_at(p) else { break };
            let mut start = p;
            while start > i && bytes.get(start - 1).is_some_and(u8::is_ascii_alphanumeric) {
                start -= 1;
            }
            if !(is_visible_word_char(c) || (start < p && classify(c).is_some())) {
                i = p + c.len_utf8();
                continue;
            }
            i = start;
            let mut visible_end = i;
            // A spoof imitates ASCII, so it has ASCII letters and non-ASCII ones; other words need no script
            // lookups at all.
            let mut ascii_letter = false;
            let mut other_letter = false;
            while let Some(&b) = bytes.get(i) {
                if b.is_ascii() {
                    if !b.is_ascii_alphanumeric() {
                        break;
                    }
                    ascii_letter |= b.is_ascii_alphabetic();
                    i += 1;
                    visible_end = i;
                    continue;
                }
                let Some(c) = char_at(i) else { break };
                let alphabetic = is_letter(c);
                if alphabetic || is_visible_word_char(c) {
                    other_letter |= alphabetic;
                    i += c.len_utf8();
                    visible_end = i;
                } else if classify(c).is_some() {
                    // Invisible characters inside a word do not end it; trailing ones are not part of it.
                    i += c.len_utf8();
                } else {
                    break;
                }
            }
            if i == start {
                // Only reachable if `i` were not a char boundary; stop rather than spin.
                break;
            }
            self.pos = i;
            if ascii_letter
                && other_letter
                && let Some(found) = text.get(start..visible_end).and_then(|w| analyse(w, start))
            {
                return Some(found);
            }
        }
        self.pos = len;
        None
    }
}

/// Offset of the first non-ASCII byte, checking 32 bytes at a time without branches inside a block.
fn first_non_ascii(bytes: &[u8]) -> Option<usize> {
    let mut base = 0;
    for block in bytes.chunks(32) {
        if block.iter().fold(false, |any, &b| any | !b.is_ascii()) {
            return block.iter().position(|b| !b.is_ascii()).map(|k| base + k);
        }
        base += block.len();
    }
    None
}

fn analyse(word: &str, offset: usize) -> Option<ConfusableWord> {
    let mut scripts: [(Script, usize); MAX_SCRIPTS] = [(Script::Unknown, 0); MAX_SCRIPTS];
    let mut distinct = 0;
    let mut letters = 0;
    for c in word.chars().filter(|&c| is_letter(c)) {
        let s = c.script();
        if matches!(s, Script::Common | Script::Inherited | Script::Unknown) {
            continue;
        }
        letters += 1;
        match scripts.iter_mut().take(distinct).find(|(x, _)| *x == s) {
            Some(slot) => slot.1 += 1,
            None => {
                let slot = scripts.get_mut(distinct)?;
                *slot = (s, 1);
                distinct += 1;
            }
        }
    }
    if distinct < 2 || letters < MIN_LETTERS {
        return None;
    }
    let used = scripts.get(..distinct)?;
    let base = if used.iter().any(|(s, _)| *s == Script::Latin)
        && foreign_letters(word, Script::Latin).all(|c| ascii_lookalike(c).is_some())
    {
        Script::Latin
    } else {
        let &(main, main_count) = used.iter().max_by_key(|(_, n)| *n)?;
        let unique = used.iter().filter(|(_, n)| *n == main_count).count() == 1;
        if !unique || !foreign_letters(word, main).all(|c| has_twin_in(c, main)) {
            return None;
        }
        main
    };
    let first_foreign = foreign_letters(word, base).next()?;
    Some(ConfusableWord {
        span: Span::new(offset, offset + word.len()),
        base,
        foreign: first_foreign.script(),
        foreign_letters: foreign_letters(word, base).count(),
        letters,
        first_foreign,
        looks_like: if base == Script::Latin {
            ascii_lookalike(first_foreign)
        } else {
            None
        },
    })
}

/// Letters of `word` that belong to a script other than `base` (script-neutral letters excluded).
fn foreign_letters(word: &str, base: Script) -> impl Iterator<Item = char> + '_ {
    word.chars().filter(move |&c| {
        is_letter(c)
            && !matches!(
                c.script(),
                Script::Common | Script::Inherited | Script::Unknown
            )
            && c.script() != base
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<(&str, Script, char)> {
        confusable_words(text)
            .map(|w| {
                (
                    text.get(w.span.start..w.span.end).unwrap_or(""),
                    w.base,
                    w.first_foreign,
                )
            })
            .collect()
    }

    #[test]
    fn letter_ranges_agree_with_the_unicode_tables() {
        for c in (0..0x1_0000).filter_map(char::from_u32) {
            assert_eq!(is_letter(c), c.is_alphabetic(), "{c:?}");
        }
    }

    #[test]
    fn folds_cyrillic_and_greek_twins_to_ascii() {
        assert_eq!(ascii_lookalike('а'), Some('a'));
        assert_eq!(ascii_lookalike('о'), Some('o'));
        assert_eq!(ascii_lookalike('р'), Some('p'));
        assert_eq!(ascii_lookalike('А'), Some('A'));
        assert_eq!(ascii_lookalike('І'), Some('I'), "capital stays capital");
        assert_eq!(ascii_lookalike('ο'), Some('o'), "Greek omicron");
        assert_eq!(ascii_lookalike('Ж'), None);
        assert_eq!(ascii_lookalike('a'), None);
        assert!(has_twin_in('a', Script::Cyrillic));
        assert!(!has_twin_in('a', Script::Han));
    }

    #[test]
    fn finds_latin_words_with_foreign_lookalikes() {
        assert_eq!(
            words("pay at pаypal now"),
            vec![("pаypal", Script::Latin, 'а')]
        );
        assert_eq!(
            words("visit аpple.com"),
            vec![("аpple", Script::Latin, 'а')]
        );
        assert_eq!(words("ρaypal"), vec![("ρaypal", Script::Latin, 'ρ')]);
        // Invisible characters inside the word do not hide it.
        assert_eq!(
            words("pа\u{200B}ypal"),
            vec![("pа\u{200B}ypal", Script::Latin, 'а')]
        );
        assert_eq!(
            words("\u{200B}pаypal\u{200B}"),
            vec![("pаypal", Script::Latin, 'а')]
        );
        assert_eq!(
            words("pay\u{200B}pаl"),
            vec![("pay\u{200B}pаl", Script::Latin, 'а')]
        );
        let long = format!("{} Micrоsoft", "plain words ".repeat(1000));
        assert_eq!(words(&long), vec![("Micrоsoft", Script::Latin, 'о')]);
    }

    #[test]
    fn finds_cyrillic_words_with_latin_lookalikes() {
        let found = words("Москвa");
        assert_eq!(found, vec![("Москвa", Script::Cyrillic, 'a')]);
    }

    #[test]
    fn leaves_genuine_words_alone() {
        for text in [
            "Москва-2024 и Санкт-Петербург",
            "Καλημέρα κόσμε",
            "iPhone 15 Pro",
            "Tシャツを買いました",
            "Grüße aus München, naïve café",
            "東京タワーとスカイツリー",
            "IT-специалист и VPN-сервер",
            "μm",
        ] {
            assert!(words(text).is_empty(), "{text}: {:?}", words(text));
        }
    }
}
