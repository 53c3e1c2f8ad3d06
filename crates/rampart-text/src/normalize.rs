//! The normalised view and its offset map.
//!
//! NFKC is applied to short character clusters (a starter and the characters that may combine with it)
//! rather than to the whole text, so that every output byte is attributable to one cluster of input bytes
//! and the [`OffsetMap`] stays exact. Clusters are capped at [`MAX_CLUSTER_CHARS`] characters, which keeps
//! the work per cluster bounded on "Zalgo" text with thousands of stacked marks; NFKC across a cap boundary
//! may then differ from whole-text NFKC, which only matters for text no detector reads as words anyway.

use rampart_core::{OffsetMap, View, ViewKind};
use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};
use unicode_script::Script;

use crate::confusable::{ConfusableWord, ascii_lookalike, confusable_words};
use crate::hidden::{classify, is_stray_control};

/// Longest cluster handed to NFKC at once, in characters (the Stream-Safe Text Format's limit is 30 marks).
pub const MAX_CLUSTER_CHARS: usize = 32;

/// Characters the view drops entirely.
fn is_removed(c: char) -> bool {
    classify(c).is_some() || is_stray_control(c)
}

fn is_removed_byte(b: u8) -> bool {
    matches!(b, 0..=8 | 0x0B | 0x0C | 0x0E..=0x1F | 0x7F)
}

/// Letters of the most common alphabets that are NFKC-stable starters and never compose with a neighbour:
/// Latin-1 letters, basic Greek, Cyrillic, Hebrew and Arabic letters, kana, CJK ideographs and Hangul
/// syllables. Checked first so that ordinary non-English text skips the normalisation tables.
fn is_stable_letter(c: char) -> bool {
    matches!(
        c as u32,
        0xC0..=0xFF
            | 0x391..=0x3A1
            | 0x3A3..=0x3A9
            | 0x3B1..=0x3C9
            | 0x410..=0x44F
            | 0x5D0..=0x5EA
            | 0x621..=0x63A
            | 0x641..=0x64A
            | 0x3041..=0x3096
            | 0x30A1..=0x30FA
            | 0x4E00..=0x9FFF
            | 0xAC00..=0xD7A3
    )
}

/// True when `c` may change under NFKC together with the character before it (combining marks, Hangul
/// vowel and final jamo, and other characters whose NFKC quick-check answer is "maybe").
fn continues_cluster(c: char) -> bool {
    !c.is_ascii()
        && !is_stable_letter(c)
        && !is_removed(c)
        && (canonical_combining_class(c) != 0
            || is_nfkc_quick(std::iter::once(c)) == IsNormalized::Maybe)
}

/// True when `text` is printable ASCII plus tab and newlines: the view would equal the text.
pub(crate) fn is_plain_ascii(text: &str) -> bool {
    // No early exit inside a block, so the byte test compiles to vector instructions.
    text.is_ascii()
        && text
            .as_bytes()
            .chunks(64)
            .all(|block| block.iter().fold(true, |ok, &b| ok & !is_removed_byte(b)))
}

/// Length of the leading printable-ASCII bytes of `bytes`, 32 bytes at a time.
fn plain_prefix_len(bytes: &[u8]) -> usize {
    let plain = |b: u8| b.is_ascii() && !is_removed_byte(b);
    let mut base = 0;
    for block in bytes.chunks(32) {
        if !block.iter().fold(true, |ok, &b| ok & plain(b)) {
            return base + block.iter().position(|&b| !plain(b)).unwrap_or(block.len());
        }
        base += block.len();
    }
    base
}

/// Builds the normalised text and its map; the flag says whether anything changed.
pub(crate) fn build(text: &str) -> (String, OffsetMap, bool) {
    let bytes = text.as_bytes();
    let len = bytes.len();
    let mut out = String::with_capacity(len);
    let mut map = OffsetMap::new();
    let mut changed = false;
    // Latin words with foreign look-alike letters, consumed in step with the text.
    let mut words = confusable_words(text).filter(|w| w.base == Script::Latin);
    let mut word: Option<ConfusableWord> = None;
    let mut words_done = false;

    let mut i = 0;
    while i < len {
        if bytes.get(i).is_some_and(|b| b.is_ascii()) {
            let run = bytes.get(i..).unwrap_or_default();
            let n = plain_prefix_len(run);
            if n == 0 {
                // A stray control byte.
                map.push_replaced(i..i + 1, 0);
                changed = true;
                i += 1;
                continue;
            }
            let mut j = i + n;
            // The last ASCII letter may compose with what follows ("e" + U+0301): leave it to the cluster.
            if text
                .get(j..)
                .and_then(|t| t.chars().next())
                .is_some_and(continues_cluster)
            {
                j -= 1;
            }
            if j > i {
                out.push_str(text.get(i..j).unwrap_or_default());
                map.push_verbatim(i..j);
                i = j;
                continue;
            }
        }
        let Some(c) = text.get(i..).and_then(|t| t.chars().next()) else {
            break;
        };
        let c_len = c.len_utf8();
        if is_removed(c) {
            map.push_replaced(i..i + c_len, 0);
            changed = true;
            i += c_len;
            continue;
        }
        let mut end = i + c_len;
        let mut count = 1;
        while count < MAX_CLUSTER_CHARS {
            match text.get(end..).and_then(|t| t.chars().next()) {
                Some(n) if continues_cluster(n) => {
                    end += n.len_utf8();
                    count += 1;
                }
                _ => break,
            }
        }
        let cluster = text.get(i..end).unwrap_or_default();

        // Advance the look-alike word cursor to the first word not entirely before `i`.
        while !words_done && word.is_none_or(|w| w.span.end <= i) {
            word = words.next();
            words_done = word.is_none();
        }
        let fold = word
            .filter(|w| w.span.start <= i && i < w.span.end)
            .and_then(|_| ascii_lookalike(c));

        let before = out.len();
        match fold {
            Some(a) => {
                out.push(a);
                out.extend(cluster.get(c_len..).unwrap_or_default().nfkc());
            }
            None if (count == 1 && is_stable_letter(c))
                || is_nfkc_quick(cluster.chars()) == IsNormalized::Yes =>
            {
                out.push_str(cluster);
                map.push_verbatim(i..end);
                i = end;
                continue;
            }
            None => out.extend(cluster.nfkc()),
        }
        if out.get(before..) == Some(cluster) {
            map.push_verbatim(i..end);
        } else {
            map.push_replaced(i..end, out.len() - before);
            changed = true;
        }
        i = end;
    }
    (out, map, changed)
}

/// The normalised view of `text`, even when it equals the text (then the map is the identity).
pub(crate) fn view(text: &str) -> View {
    let (text, map, _) = build(text);
    View {
        kind: ViewKind::Normalized,
        text,
        map,
    }
}
