//! Word ciphers without a checksum: ROT13, reversed text and leetspeak.
//!
//! One pass splits the text into tokens and scores each with the embedded word list (`words.rs`): is the
//! token a common word as written, after ROT13, reversed, or with leet digits read as letters? A segment
//! is decoded only where the transformed tokens are common words and the tokens as written are not, so
//! ordinary prose (mostly common words as written) and code (mostly neither) yield nothing.

use super::{Cx, shapes, words};

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

const LETTER: u8 = 1;
const DIGIT: u8 = 2;
/// Symbols leetspeak uses for letters.
const SYM: u8 = 4;
const APOSTROPHE: u8 = 8;
/// A byte of a non-ASCII character: part of a token only if the character is alphanumeric.
const HIGH: u8 = 16;

const fn token_classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        t[i] = if c.is_ascii_alphabetic() {
            LETTER
        } else if c.is_ascii_digit() {
            DIGIT
        } else if matches!(c, b'@' | b'$' | b'|' | b'!' | b'+') {
            SYM
        } else if c == b'\'' {
            APOSTROPHE
        } else if c >= 0x80 {
            HIGH
        } else {
            0
        };
        i += 1;
    }
    t
}

/// Tokens are runs of letters, digits, the symbols leetspeak uses and non-ASCII letters.
static TOKEN: [u8; 256] = token_classes();

fn token_byte(c: u8) -> bool {
    TOKEN[usize::from(c)] & (LETTER | DIGIT | SYM | APOSTROPHE) != 0
}

/// Length of the non-ASCII character at `i` if it is alphanumeric (part of a token), else 0.
fn high_token_len(text: &str, i: usize) -> usize {
    text.get(i..)
        .and_then(|s| s.chars().next())
        .filter(|c| c.is_alphanumeric())
        .map_or(0, char::len_utf8)
}

fn rot13_letter(l: u8) -> u8 {
    if l < b'n' { l + 13 } else { l - 13 }
}

/// ROT13 and reversal scores of a word (ASCII letters) that is not a listed word as written. The shape
/// test (length, first and last letter) rejects most words before any hashing.
#[inline]
fn transformed_scores(word: &[u8]) -> (i32, i32) {
    let (Some(&first), Some(&last)) = (word.first(), word.last()) else {
        return (NEITHER, NEITHER);
    };
    let (f, l) = (first | 0x20, last | 0x20);
    let rot_maybe = words::shape_listed(
        word.len(),
        rot13_letter(f).wrapping_sub(b'a'),
        rot13_letter(l).wrapping_sub(b'a'),
    );
    let rev_maybe = words::shape_listed(word.len(), l.wrapping_sub(b'a'), f.wrapping_sub(b'a'));
    let rot = rot_maybe && {
        let h = word
            .iter()
            .fold(words::SEED, |h, &c| words::step(h, rot13_letter(c | 0x20)));
        words::is_known_hash(h)
    };
    let rev = rev_maybe && {
        let h = word
            .iter()
            .rev()
            .fold(words::SEED, |h, &c| words::step(h, c | 0x20));
        words::is_known_hash(h)
    };
    (
        if rot { HIT } else { NEITHER },
        if rev { HIT } else { NEITHER },
    )
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

/// One pass over the tokens of `text`: ROT13, reversed and leetspeak segments, and the gate of the
/// spaced-letter decoder (a one-letter token, one separator, another one-letter token).
pub(crate) fn scan_words(text: &str, cx: &mut Cx<'_>) {
    let b = text.as_bytes();
    let mut rot = Segment::default();
    let mut rev = Segment::default();
    let mut leet_cl = LeetCluster::default();
    // Starts of the last few tokens, for the context before a leet cluster.
    let mut recent = [0usize; LEET_CONTEXT];
    let mut ntok = 0usize;
    let mut buf = [0u8; 16];
    let mut prev_single: Option<usize> = None;
    let mut i = 0;
    while i < b.len() && !cx.is_full() {
        // Separators are skipped in one sweep.
        let Some(skip) = b
            .get(i..)
            .and_then(|rest| rest.iter().position(|&c| TOKEN[usize::from(c)] != 0))
        else {
            break;
        };
        i += skip;
        let Some(&first) = b.get(i) else { break };
        if first >= 0x80 && high_token_len(text, i) == 0 {
            i += 1;
            continue;
        }
        let mut start = i;
        let (mut acc, mut h) = (0u8, words::SEED);
        loop {
            let mut n = 0;
            for &c in b.get(i..).unwrap_or_default() {
                let class = TOKEN[usize::from(c)];
                if class == 0 || class == HIGH {
                    break;
                }
                acc |= class;
                h = words::step(h, c | 0x20);
                n += 1;
            }
            i += n;
            // Non-ASCII letters continue the token; other non-ASCII characters end it.
            if b.get(i).is_some_and(|&c| c >= 0x80) {
                let n = high_token_len(text, i);
                if n > 0 {
                    acc |= HIGH;
                    i += n;
                    continue;
                }
            }
            break;
        }
        let mut end = i;

        if acc == LETTER && end - start == 1 {
            // Gate of the spaced-letter decoder: "i g n", "i.g.n", "i-g-n".
            if let Some(p) = prev_single
                && p + 2 == start
                && b.get(p + 1)
                    .is_some_and(|c| shapes::SPACED_SEPARATORS.contains(c))
            {
                prev_single = None;
                if let Some(run_end) = shapes::spaced_at(b, p, cx) {
                    i = i.max(run_end);
                    continue;
                }
            }
            prev_single = Some(start);
        } else {
            prev_single = None;
        }

        let (rot_score, rev_score) = if acc == LETTER {
            let len = end - start;
            if len == 1 {
                (single_letter_rot(b.get(start..end).unwrap_or_default()), 0)
            } else if len > 16 {
                (NEITHER, NEITHER)
            } else if b.get(start).zip(b.get(end - 1)).is_some_and(|(&f, &l)| {
                words::shape_listed(len, (f | 0x20) - b'a', (l | 0x20) - b'a')
            }) && words::is_known_hash(h)
            {
                (MISS, MISS)
            } else {
                transformed_scores(b.get(start..end).unwrap_or_default())
            }
        } else if acc & (SYM | APOSTROPHE) != 0 {
            // Quotes and a closing exclamation mark are punctuation; "don't" is scored as "don".
            while end > start && matches!(b.get(end - 1), Some(b'!' | b'\'')) {
                end -= 1;
            }
            while start < end && b.get(start) == Some(&b'\'') {
                start += 1;
            }
            let tok = b.get(start..end).unwrap_or_default();
            let word = tok.split(|&c| c == b'\'').next().unwrap_or(tok);
            match words::hash(word) {
                Some(_) if word.len() < 2 => (0, 0),
                Some(h) if words::is_known_hash(h) => (MISS, MISS),
                Some(_) => transformed_scores(word),
                None => (0, 0),
            }
        } else if acc & HIGH != 0 {
            (NEITHER, NEITHER)
        } else {
            (0, 0)
        };
        if end <= start {
            continue;
        }
        if let Some(seg) = rot.push(rot_score, start, end) {
            emit_rot13(text, seg, cx);
        }
        if let Some(seg) = rev.push(rev_score, start, end) {
            emit_reversed(text, seg, cx);
        }

        // Only tokens mixing letters with digits or symbols can be leetspeak.
        let leet_hit = if acc & LETTER != 0 && acc & (DIGIT | SYM) != 0 && acc & HIGH == 0 {
            // A byte after `%` or a backslash is an escape, not a leet word ("%D0" is not "do").
            let escaped = start
                .checked_sub(1)
                .and_then(|p| b.get(p))
                .is_some_and(|&c| c == b'%' || c == b'\\');
            let tok = b.get(start..end).unwrap_or_default();
            match leet(tok, &mut buf) {
                Some((true, subs)) if !escaped && tok.len() >= 3 => {
                    Some(tok.len() >= 5 && subs >= 2)
                }
                _ => None,
            }
        } else {
            None
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
