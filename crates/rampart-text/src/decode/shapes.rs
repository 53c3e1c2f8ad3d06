//! Text hidden in its shape rather than in an encoding: Unicode tag characters (invisible ASCII), Morse
//! code and letters spaced out with a separator (`i g n o r e`, `i.g.n.o.r.e`).

use super::{Cx, words};

const TAG_FIRST: u32 = 0xE0000;
const TAG_LAST: u32 = 0xE007F;
const CANCEL_TAG: char = '\u{E007F}';
/// Emoji subdivision flags (England, Scotland, Wales) are a black flag followed by tag letters and a
/// cancel tag; they are the one legitimate use of tags.
const BLACK_FLAG: char = '\u{1F3F4}';

/// Runs of Unicode tag characters, which render as nothing but carry ASCII a model reads.
pub(crate) fn scan_tags(text: &str, cx: &mut Cx<'_>) {
    let b = text.as_bytes();
    let mut done = 0;
    // Every tag character is encoded F3 A0 80..81 xx.
    for p in memchr::memchr_iter(0xF3, b) {
        if p < done || cx.is_full() {
            continue;
        }
        let is_tag = |c: char| (TAG_FIRST..=TAG_LAST).contains(&u32::from(c));
        let Some(rest) = text.get(p..) else { continue };
        let run_len: usize = rest
            .chars()
            .take_while(|&c| is_tag(c))
            .map(char::len_utf8)
            .sum();
        if run_len == 0 {
            continue;
        }
        let end = p + run_len;
        done = end;
        let Some(run) = text.get(p..end) else {
            continue;
        };
        let visible = run
            .chars()
            .filter(|&c| (0xE0020..0xE007F).contains(&u32::from(c)))
            .count();
        let flag = text.get(..p).is_some_and(|s| s.ends_with(BLACK_FLAG))
            && run.ends_with(CANCEL_TAG)
            && visible <= 7;
        if flag || visible == 0 {
            continue;
        }
        let mut out = String::with_capacity(visible);
        let mut map = cx.map();
        for (k, c) in run.char_indices() {
            let src = p + k..p + k + c.len_utf8();
            match char::from_u32(u32::from(c) - TAG_FIRST) {
                Some(a) if (' '..='~').contains(&a) => {
                    out.push(a);
                    map.piece(src, 1);
                }
                _ => map.piece(src, 0),
            }
        }
        cx.emit("tags", out, map);
    }
}

/// Morse code for letters, digits and common punctuation, indexed by `(1 << len) | bits` with dot = 0 and
/// dash = 1, first symbol in the highest bit.
const fn morse_table() -> [u8; 128] {
    const CODES: [(&str, u8); 40] = [
        (".-", b'a'),
        ("-...", b'b'),
        ("-.-.", b'c'),
        ("-..", b'd'),
        (".", b'e'),
        ("..-.", b'f'),
        ("--.", b'g'),
        ("....", b'h'),
        ("..", b'i'),
        (".---", b'j'),
        ("-.-", b'k'),
        (".-..", b'l'),
        ("--", b'm'),
        ("-.", b'n'),
        ("---", b'o'),
        (".--.", b'p'),
        ("--.-", b'q'),
        (".-.", b'r'),
        ("...", b's'),
        ("-", b't'),
        ("..-", b'u'),
        ("...-", b'v'),
        (".--", b'w'),
        ("-..-", b'x'),
        ("-.--", b'y'),
        ("--..", b'z'),
        ("-----", b'0'),
        (".----", b'1'),
        ("..---", b'2'),
        ("...--", b'3'),
        ("....-", b'4'),
        (".....", b'5'),
        ("-....", b'6'),
        ("--...", b'7'),
        ("---..", b'8'),
        ("----.", b'9'),
        (".-.-.-", b'.'),
        ("--..--", b','),
        ("..--..", b'?'),
        (".----.", b'\''),
    ];
    let mut t = [0u8; 128];
    let mut i = 0;
    while i < CODES.len() {
        let code = CODES[i].0.as_bytes();
        let mut idx = 1usize;
        let mut k = 0;
        while k < code.len() {
            idx = idx << 1 | (code[k] == b'-') as usize;
            k += 1;
        }
        t[idx] = CODES[i].1;
        i += 1;
    }
    t
}

static MORSE: [u8; 128] = morse_table();

fn morse_letter(code: &[u8]) -> Option<u8> {
    if code.is_empty() || code.len() > 6 {
        return None;
    }
    let idx = code
        .iter()
        .fold(1usize, |idx, &c| idx << 1 | usize::from(c != b'.'));
    MORSE.get(idx).copied().filter(|&l| l != 0)
}

fn is_morse_byte(c: u8) -> bool {
    matches!(c, b'.' | b'-' | b'_' | b' ' | b'/')
}

/// Morse code: symbols `.` and `-` (or `_`), letters separated by a space, words by `/` or several spaces.
pub(crate) fn scan_morse(text: &str, cx: &mut Cx<'_>) {
    let b = text.as_bytes();
    let mut done = 0;
    for p in memchr::memchr2_iter(b'.', b'-', b) {
        if p < done || cx.is_full() {
            continue;
        }
        let mut start = p;
        // The full stop ending a sentence is not the letter E.
        if b.get(p) == Some(&b'.')
            && p.checked_sub(1)
                .and_then(|q| b.get(q))
                .is_some_and(|c| c.is_ascii_alphanumeric())
        {
            start = p + 1;
        }
        let mut end = start;
        while b.get(end).is_some_and(|&c| is_morse_byte(c)) {
            end += 1;
        }
        done = end.max(p + 1);
        while end > start && b.get(end - 1).is_some_and(|&c| c == b' ' || c == b'/') {
            end -= 1;
        }
        let Some(run) = b.get(start..end) else {
            continue;
        };
        if run.len() < 8 {
            continue;
        }
        let (mut letters, mut seen) = (0usize, 0u128);
        let mut valid = true;
        for code in run
            .split(|&c| c == b' ' || c == b'/')
            .filter(|c| !c.is_empty())
        {
            match morse_letter(code) {
                Some(l) => {
                    letters += 1;
                    seen |= 1u128 << (l & 127);
                }
                None => {
                    valid = false;
                    break;
                }
            }
        }
        // A line of dashes or dots is a rule or an ellipsis, not a message.
        if !valid || letters < 4 || seen.count_ones() < 3 {
            continue;
        }
        let mut out = String::with_capacity(letters + letters / 3);
        let mut map = cx.map();
        let mut i = start;
        while i < end {
            let gap_start = i;
            while i < end && b.get(i).is_some_and(|&c| c == b' ' || c == b'/') {
                i += 1;
            }
            if i > gap_start {
                let gap = b.get(gap_start..i).unwrap_or_default();
                let word_break = gap_start > start && (gap.contains(&b'/') || gap.len() >= 2);
                if word_break {
                    out.push(' ');
                }
                map.piece(gap_start..i, usize::from(word_break));
                continue;
            }
            let code_start = i;
            while i < end && b.get(i).is_some_and(|&c| c != b' ' && c != b'/') {
                i += 1;
            }
            if let Some(l) = b.get(code_start..i).and_then(morse_letter) {
                out.push(char::from(l));
                map.piece(code_start..i, 1);
            }
        }
        cx.emit("morse", out, map);
    }
}

/// Separators between spaced-out letters. Symbols that leetspeak uses inside words are not among them.
pub(crate) const SPACED_SEPARATORS: &[u8] = b" .-_*/~,";

fn alnum_at(b: &[u8], i: usize) -> bool {
    b.get(i).is_some_and(u8::is_ascii_alphanumeric)
}

fn letter_at(b: &[u8], i: usize) -> bool {
    b.get(i).is_some_and(u8::is_ascii_alphabetic)
}

/// A letter standing alone: no letter or digit on either side.
fn isolated_letter(b: &[u8], i: usize) -> bool {
    letter_at(b, i) && !alnum_at(b, i + 1) && (i == 0 || !alnum_at(b, i - 1))
}

/// Letters written one by one with a separator (`i g n o r e   a l l`, `i.g.n.o.r.e`, `i-g-n-o-r-e`),
/// starting at the letter at `start`. The word scan calls this when it meets two one-letter tokens one
/// separator apart; returns where the run ended, or `None` when `start` does not begin one.
pub(crate) fn spaced_at(b: &[u8], start: usize, cx: &mut Cx<'_>) -> Option<usize> {
    let &sep = b.get(start + 1)?;
    if !(isolated_letter(b, start)
        && SPACED_SEPARATORS.contains(&sep)
        && isolated_letter(b, start + 2))
    {
        return None;
    }
    let (letters, end) = spaced_run(b, start, sep);
    emit_spaced(b, &letters, cx);
    Some(end)
}

/// Parses a spaced run from the letter at `start`; returns each letter's offset with whether a word
/// break precedes it, and where the run ends.
fn spaced_run(b: &[u8], start: usize, sep: u8) -> (Vec<(usize, bool)>, usize) {
    let mut letters = vec![(start, false)];
    let mut p = start + 1;
    loop {
        let gap_start = p;
        while p < b.len() && p - gap_start < 4 && !alnum_at(b, p) && b.get(p) != Some(&b'\n') {
            p += 1;
        }
        let gap = b.get(gap_start..p).unwrap_or_default();
        if gap.is_empty() || !isolated_letter(b, p) {
            break;
        }
        let word_break = if gap == [sep] {
            false
        } else if sep == b' ' {
            gap.len() >= 2
                && gap
                    .iter()
                    .all(|&c| c == b' ' || c == b'\t' || c == b'/' || c == b'|')
        } else {
            gap.iter().any(|&c| c == b' ' || c == b'\t')
                && gap
                    .iter()
                    .all(|&c| c == sep || c == b' ' || c == b'\t' || c == b'/')
        };
        if gap != [sep] && !word_break {
            break;
        }
        letters.push((p, word_break));
        p += 1;
    }
    let end = letters.last().map_or(start + 1, |&(pos, _)| pos + 1);
    (letters, end)
}

fn emit_spaced(b: &[u8], letters: &[(usize, bool)], cx: &mut Cx<'_>) {
    if letters.len() < 5 {
        return;
    }
    // Word lengths and whether any word is a listed one; a run of single letters ("a, b, c, d, e") is a
    // list, not a hidden word.
    let mut word = [0u8; 16];
    let (mut wlen, mut longest, mut any_known) = (0usize, 0usize, false);
    let check = |wlen: usize, word: &[u8; 16], longest: &mut usize, any_known: &mut bool| {
        *longest = (*longest).max(wlen);
        *any_known |= wlen >= 3 && word.get(..wlen).is_some_and(words::is_known);
    };
    for &(pos, brk) in letters {
        if brk {
            check(wlen, &word, &mut longest, &mut any_known);
            wlen = 0;
        }
        if let (Some(slot), Some(&c)) = (word.get_mut(wlen), b.get(pos)) {
            *slot = c;
        }
        wlen += 1;
    }
    check(wlen, &word, &mut longest, &mut any_known);
    let single_word = !letters.iter().any(|&(_, brk)| brk);
    let glued: Vec<u8> = if single_word {
        letters
            .iter()
            .filter_map(|&(p, _)| b.get(p).copied())
            .collect()
    } else {
        Vec::new()
    };
    let cuts = if single_word && letters.len() >= 6 {
        words::segment(&glued.to_ascii_lowercase())
    } else {
        None
    };
    if longest < 3 || !(any_known || cuts.as_ref().is_some_and(|c| !c.is_empty())) {
        return;
    }
    let cuts = cuts.unwrap_or_default();
    let mut out = String::with_capacity(letters.len() + cuts.len() + 8);
    let mut map = cx.map();
    let mut prev_end: Option<usize> = None;
    for (k, &(pos, brk)) in letters.iter().enumerate() {
        if let Some(prev) = prev_end {
            let space = brk || cuts.contains(&k);
            if space {
                out.push(' ');
            }
            map.piece(prev..pos, usize::from(space));
        }
        out.push(char::from(*b.get(pos).unwrap_or(&b'?')));
        map.piece(pos..pos + 1, 1);
        prev_end = Some(pos + 1);
    }
    cx.emit("spaced", out, map);
}
