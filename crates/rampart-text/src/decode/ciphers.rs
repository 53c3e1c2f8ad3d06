//! Word ciphers without a checksum: ROT13, reversed text and leetspeak.
//!
//! One pass splits the text into tokens and scores each with the embedded word list (`words.rs`): is the
//! token a common word as written, after ROT13, reversed, or with leet digits read as letters? A segment
//! is decoded only where the transformed tokens are common words and the tokens as written are not, so
//! ordinary prose (mostly common words as written) and code (mostly neither) yield nothing.

use super::{Cx, words};

/// Score of a token whose transformation is a common word and whose written form is not.
const HIT: i32 = 3;
/// Score of a token that is a common word as written: evidence against the cipher.
const MISS: i32 = -3;
/// Score of a token that is neither: unknown words weaken a segment without ending it at once.
const NEITHER: i32 = -1;
/// A segment ends once its running score falls this far below its best.
const DROP: i32 = 6;
/// Fewest transformed common words for a ROT13 or reversed segment.
const MIN_HITS: usize = 3;
/// Lowest segment score for a ROT13 or reversed segment.
const MIN_SCORE: i32 = 8;

/// Tokens are runs of letters, digits, non-ASCII bytes and the symbols leetspeak uses for letters.
fn token_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'@' | b'$' | b'|' | b'!' | b'+' | b'\'')
}

/// Length of the token character at `i`, or 0 when the byte there separates tokens. Non-ASCII letters
/// belong to tokens (a German word is one token); non-ASCII punctuation such as curly quotes does not.
fn token_len(text: &str, i: usize) -> usize {
    match text.as_bytes().get(i) {
        Some(&c) if c < 0x80 => usize::from(token_byte(c)),
        Some(_) => text
            .get(i..)
            .and_then(|s| s.chars().next())
            .filter(|c| c.is_alphanumeric())
            .map_or(0, char::len_utf8),
        None => 0,
    }
}

/// Letter a leet symbol stands for; `1` is tried as `i` and then as `l`.
fn leet_letter(c: u8, one: u8) -> Option<u8> {
    Some(match c {
        b'0' => b'o',
        b'1' => one,
        b'3' => b'e',
        b'4' | b'@' => b'a',
        b'5' | b'$' => b's',
        b'7' | b'+' => b't',
        b'8' => b'b',
        b'9' => b'g',
        b'!' => b'i',
        b'|' => b'l',
        _ => return None,
    })
}

/// Keys of a token: as written, after ROT13, and reversed. `None` unless the token is 2..=16 ASCII letters.
fn keys(tok: &[u8]) -> Option<(u128, u128, u128)> {
    let n = tok.len();
    if !(2..=16).contains(&n) {
        return None;
    }
    let (mut fwd, mut rot, mut rev) = (0u128, 0u128, 0u128);
    for (i, &c) in tok.iter().enumerate() {
        let l = c | 0x20;
        if !l.is_ascii_lowercase() {
            return None;
        }
        let r = b'a' + (l - b'a' + 13) % 26;
        fwd |= u128::from(l) << (8 * i);
        rot |= u128::from(r) << (8 * i);
        rev |= u128::from(l) << (8 * (n - 1 - i));
    }
    Some((fwd, rot, rev))
}

/// Decodes a leet token into `out` (lowercase letters); returns whether the result is a listed word and
/// how many symbols were substituted. `None` when the token is not leetspeak (no letter, no symbol, or a
/// byte that is neither).
fn leet(tok: &[u8], out: &mut [u8; 16]) -> Option<(bool, usize)> {
    if !(2..=16).contains(&tok.len()) || !tok.iter().any(u8::is_ascii_alphabetic) {
        return None;
    }
    let mut subs = 0;
    for one in [b'i', b'l'] {
        subs = 0;
        for (slot, &c) in out.iter_mut().zip(tok) {
            *slot = if c.is_ascii_alphabetic() {
                c.to_ascii_lowercase()
            } else {
                subs += 1;
                leet_letter(c, one)?
            };
        }
        if subs == 0 {
            return None;
        }
        if words::is_known(out.get(..tok.len())?) {
            return Some((true, subs));
        }
        if !tok.contains(&b'1') {
            break;
        }
    }
    // Leave the `i` reading in place for an unlisted word.
    for (slot, &c) in out.iter_mut().zip(tok) {
        if c == b'1' {
            *slot = b'i';
        }
    }
    Some((false, subs))
}

/// Running state of one cipher (ROT13 or reversal) over the token stream.
#[derive(Default)]
struct Segment {
    open: bool,
    start: usize,
    best_end: usize,
    cur: i32,
    best: i32,
    hits: usize,
    best_hits: usize,
}

impl Segment {
    /// Adds a token's score; returns a finished segment `(start, end)` worth decoding.
    fn push(&mut self, score: i32, tok_start: usize, tok_end: usize) -> Option<(usize, usize)> {
        if !self.open {
            if score <= 0 {
                return None;
            }
            *self = Segment {
                open: true,
                start: tok_start,
                ..Segment::default()
            };
        }
        self.cur += score;
        if score == HIT {
            self.hits += 1;
        }
        if self.cur > self.best {
            self.best = self.cur;
            self.best_end = tok_end;
            self.best_hits = self.hits;
        }
        if self.cur <= 0 || self.cur < self.best - DROP {
            return self.close();
        }
        None
    }

    fn close(&mut self) -> Option<(usize, usize)> {
        let done = self.open && self.best_hits >= MIN_HITS && self.best >= MIN_SCORE;
        self.open = false;
        done.then_some((self.start, self.best_end))
    }
}

/// Running state of a leetspeak cluster: hits close to each other plus a few words of context.
#[derive(Default)]
struct LeetCluster {
    open: bool,
    start: usize,
    end: usize,
    hits: usize,
    strong: bool,
    since_hit: usize,
}

/// Tokens of context kept on each side of a leet cluster, and the most non-hits between two hits.
const LEET_CONTEXT: usize = 4;

pub(crate) fn scan_words(text: &str, cx: &mut Cx<'_>) {
    let b = text.as_bytes();
    let mut rot = Segment::default();
    let mut rev = Segment::default();
    let mut leet_cl = LeetCluster::default();
    // Starts of the last few tokens, for the context before a leet cluster.
    let mut recent = [0usize; LEET_CONTEXT];
    let mut ntok = 0usize;
    let mut buf = [0u8; 16];
    let mut i = 0;
    while i < b.len() && !cx.is_full() {
        if token_len(text, i) == 0 {
            i += 1;
            continue;
        }
        let mut start = i;
        loop {
            let n = token_len(text, i);
            if n == 0 {
                break;
            }
            i += n;
        }
        // Quotes and a closing exclamation mark are punctuation, not leet.
        let mut end = i;
        while end > start && matches!(b.get(end - 1), Some(b'!' | b'\'')) {
            end -= 1;
        }
        while start < end && b.get(start) == Some(&b'\'') {
            start += 1;
        }
        let Some(tok) = b.get(start..end).filter(|t| !t.is_empty()) else {
            continue;
        };
        let word = tok.split(|&c| c == b'\'').next().unwrap_or(tok);

        let (rot_score, rev_score) = match keys(word) {
            Some((f, r, v)) => {
                if words::is_known_key(f) {
                    (MISS, MISS)
                } else {
                    (
                        if words::is_known_key(r) { HIT } else { NEITHER },
                        if words::is_known_key(v) { HIT } else { NEITHER },
                    )
                }
            }
            None if word.len() == 1 => (single_letter_rot(word), 0),
            None if word.iter().all(u8::is_ascii_digit) => (0, 0),
            None if word.iter().any(|&c| c >= 0x80) => (NEITHER, NEITHER),
            None => (0, 0),
        };
        if let Some(seg) = rot.push(rot_score, start, end) {
            emit_rot13(text, seg, cx);
        }
        if let Some(seg) = rev.push(rev_score, start, end) {
            emit_reversed(text, seg, cx);
        }

        // A byte after `%` or `\\x` is an escape, not a leet word ("%D0" is not "do").
        let escaped = start
            .checked_sub(1)
            .and_then(|p| b.get(p))
            .is_some_and(|&c| c == b'%' || c == b'\\');
        let leet_hit = match leet(tok, &mut buf).filter(|_| !escaped && tok.len() >= 3) {
            Some((true, subs)) => Some(tok.len() >= 5 && subs >= 2),
            _ => None,
        };
        match leet_hit {
            Some(strong) => {
                if leet_cl.open && leet_cl.since_hit > LEET_CONTEXT {
                    finish_leet(text, &mut leet_cl, cx);
                }
                if !leet_cl.open {
                    let back = recent
                        .get(ntok % LEET_CONTEXT)
                        .copied()
                        .filter(|_| ntok >= LEET_CONTEXT)
                        .unwrap_or(0);
                    let line = b
                        .get(..start)
                        .and_then(|s| s.iter().rposition(|&c| c == b'\n'))
                        .map_or(0, |k| k + 1);
                    leet_cl = LeetCluster {
                        open: true,
                        start: back.max(line),
                        ..LeetCluster::default()
                    };
                }
                leet_cl.hits += 1;
                leet_cl.strong |= strong;
                leet_cl.since_hit = 0;
                leet_cl.end = end;
            }
            None if leet_cl.open => {
                leet_cl.since_hit += 1;
                if leet_cl.since_hit <= LEET_CONTEXT
                    && !b
                        .get(leet_cl.end..start)
                        .unwrap_or_default()
                        .contains(&b'\n')
                {
                    leet_cl.end = end;
                } else {
                    finish_leet(text, &mut leet_cl, cx);
                }
            }
            None => {}
        }
        if let Some(slot) = recent.get_mut(ntok % LEET_CONTEXT) {
            *slot = start;
        }
        ntok += 1;
    }
    if let Some(seg) = rot.close() {
        emit_rot13(text, seg, cx);
    }
    if let Some(seg) = rev.close() {
        emit_reversed(text, seg, cx);
    }
    if leet_cl.open {
        finish_leet(text, &mut leet_cl, cx);
    }
}

/// ROT13 turns the common one-letter words into `n` and `v`.
fn single_letter_rot(word: &[u8]) -> i32 {
    match word.first().map(|c| c | 0x20) {
        Some(b'n' | b'v') => 1,
        Some(b'a' | b'i') => -1,
        _ => 0,
    }
}

fn emit_rot13(text: &str, (start, end): (usize, usize), cx: &mut Cx<'_>) {
    let Some(seg) = text.get(start..end) else {
        return;
    };
    let mut out = String::with_capacity(seg.len());
    let mut map = cx.map();
    for (k, c) in seg.char_indices() {
        let r = match c {
            'a'..='z' => char::from(b'a' + (c as u8 - b'a' + 13) % 26),
            'A'..='Z' => char::from(b'A' + (c as u8 - b'A' + 13) % 26),
            _ => c,
        };
        out.push(r);
        map.piece(start + k..start + k + c.len_utf8(), r.len_utf8());
    }
    cx.emit("rot13", out, map);
}

fn emit_reversed(text: &str, (start, end): (usize, usize), cx: &mut Cx<'_>) {
    let Some(seg) = text.get(start..end) else {
        return;
    };
    let out: String = seg.chars().rev().collect();
    // Reversal does not keep order, so the whole segment is one piece of the map.
    let mut map = cx.map();
    map.piece(start..end, out.len());
    cx.emit("reversed", out, map);
}

fn finish_leet(text: &str, cl: &mut LeetCluster, cx: &mut Cx<'_>) {
    cl.open = false;
    if !(cl.hits >= 2 || cl.strong) {
        return;
    }
    let (start, end) = (cl.start, cl.end);
    let Some(seg) = text.get(start..end) else {
        return;
    };
    let b = seg.as_bytes();
    let mut out = String::with_capacity(seg.len());
    let mut map = cx.map();
    let mut buf = [0u8; 16];
    let mut i = 0;
    while i < b.len() {
        if !b.get(i).is_some_and(|&c| token_byte(c)) || b.get(i).is_some_and(|&c| c >= 0x80) {
            // Copy up to the next ASCII token byte, whole characters at a time.
            let from = i;
            i += 1;
            while i < b.len() && !seg.is_char_boundary(i) {
                i += 1;
            }
            let piece = seg.get(from..i).unwrap_or_default();
            out.push_str(piece);
            map.piece(start + from..start + i, piece.len());
            continue;
        }
        let from = i;
        while b.get(i).is_some_and(|&c| token_byte(c) && c < 0x80) {
            i += 1;
        }
        let mut to = i;
        while to > from && matches!(b.get(to - 1), Some(b'!' | b'\'')) {
            to -= 1;
        }
        let tok = b.get(from..to).unwrap_or_default();
        match leet(tok, &mut buf) {
            Some(_) => {
                for &c in buf.iter().take(tok.len()) {
                    out.push(char::from(c));
                }
                let rest = seg.get(to..i).unwrap_or_default();
                out.push_str(rest);
            }
            None => out.push_str(seg.get(from..i).unwrap_or_default()),
        }
        map.piece(start + from..start + i, i - from);
    }
    cx.emit("leet", out, map);
}
