//! Byte encodings: base64, hex (plain, `\x41`, `0x41`, `41 42`), binary octets, percent-encoding and HTML
//! character references. All of them carry arbitrary bytes, so a candidate is kept only when the bytes
//! read as text ([`text_prefix`]); a checksum-free encoding of random bytes (a hash, an image, a key) is
//! dropped there.

use std::ops::Range;

use super::{Cx, text_prefix};

const B64: u8 = 1;
const HEX: u8 = 2;
const BIN: u8 = 4;
const UPPER: u8 = 8;
const LOWER: u8 = 16;
const DIGIT: u8 = 32;
const ALNUM: u8 = UPPER | LOWER | DIGIT;
/// Bytes of the separated hex and binary forms: hex digits, `x`, backslash and separators.
const HEXSEP: u8 = 64;

const fn classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut c = 0;
        if b.is_ascii_uppercase() {
            c |= B64 | UPPER;
        }
        if b.is_ascii_lowercase() {
            c |= B64 | LOWER;
        }
        if b.is_ascii_digit() {
            c |= B64 | DIGIT | HEX;
        }
        if matches!(b, b'a'..=b'f' | b'A'..=b'F') {
            c |= HEX;
        }
        if b == b'0' || b == b'1' {
            c |= BIN;
        }
        if matches!(b, b'+' | b'/' | b'-' | b'_') {
            c |= B64;
        }
        if matches!(b, b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' | b'x' | b'X' | b'\\' | b' ' | b',' | b':' | b'-')
        {
            c |= HEXSEP;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static CLASS: [u8; 256] = classes();

#[inline]
fn class(b: u8) -> u8 {
    CLASS[usize::from(b)]
}

#[inline]
fn class_at(b: &[u8], i: usize) -> u8 {
    b.get(i).map_or(0, |&x| class(x))
}

/// One decoded unit: the source bytes and up to four output bytes.
type Unit = (Range<usize>, [u8; 4], usize);

/// Bytes inspected before allocating: enough to tell text from binary.
const PROBE: usize = 256;

/// Decodes `units`, keeps the result if it reads as text, and emits it with a map built from the units.
/// `units` is called up to three times (probe, decode, map) so nothing is allocated for a rejected run.
fn emit_units<I, F>(cx: &mut Cx<'_>, name: &'static str, units: F) -> bool
where
    I: Iterator<Item = Unit>,
    F: Fn() -> I,
{
    let mut probe = [0u8; PROBE];
    let mut n = 0;
    'probe: for (_, bytes, k) in units() {
        for &b in bytes.iter().take(k) {
            let Some(slot) = probe.get_mut(n) else {
                break 'probe;
            };
            *slot = b;
            n += 1;
        }
    }
    if text_prefix(probe.get(..n).unwrap_or_default()).is_none() {
        return false;
    }
    let cap = cx.budget();
    let mut out = Vec::new();
    for (_, bytes, k) in units() {
        if out.len() + k > cap {
            break;
        }
        out.extend(bytes.iter().take(k));
    }
    let Some(valid) = text_prefix(&out) else {
        return false;
    };
    out.truncate(valid);
    let Ok(text) = String::from_utf8(out) else {
        return false;
    };
    let mut map = cx.map();
    let mut left = text.len();
    for (src, _, k) in units() {
        if left == 0 {
            break;
        }
        let take = k.min(left);
        map.piece(src, take);
        left -= take;
    }
    cx.emit(name, text, map)
}

/// Width of the blocks the gate of [`scan_runs`] inspects.
const BLOCK: usize = 8;

/// Runs of base64-alphabet bytes, which also cover hex, binary and their separated forms.
///
/// Gate: every candidate is at least 16 bytes of base64 alphabet, or of hex digits and separators, so it
/// contains a whole aligned 8-byte block of one of those classes. Prose fails that test within a few bytes
/// of each block (a space, or a letter past `f`), so most text is skipped at about a byte per step and
/// the detailed scan runs only around blocks that pass.
pub(crate) fn scan_runs(text: &str, cx: &mut Cx<'_>) {
    let b = text.as_bytes();
    // With a shorter minimum than a block the gate could miss candidates, so scan everything.
    if cx.min_encoded_len() < 2 * BLOCK {
        scan_runs_in(b, 0, b.len(), cx);
        return;
    }
    let mut done = 0;
    let mut block = 0;
    while block + BLOCK <= b.len() && !cx.is_full() {
        let mut common = B64 | HEXSEP;
        for &c in b.get(block..block + BLOCK).unwrap_or_default() {
            common &= class(c);
            if common == 0 {
                break;
            }
        }
        if common == 0 {
            block += BLOCK;
            continue;
        }
        // Widen to the whole stretch of candidate bytes around the block and scan it in detail.
        let wide = |c: &u8| class(*c) & (B64 | HEXSEP) != 0 || *c == b'=';
        let from = b
            .get(done..block)
            .and_then(|s| s.iter().rposition(|c| !wide(c)))
            .map_or(done, |k| done + k + 1);
        let to = b
            .get(block..)
            .and_then(|s| s.iter().position(|c| !wide(c)))
            .map_or(b.len(), |k| block + k);
        done = scan_runs_in(b, from, to, cx).max(to);
        block = done.div_ceil(BLOCK) * BLOCK;
    }
}

/// Scans runs starting in `from..to` (a run may extend past `to`); returns where scanning stopped.
fn scan_runs_in(b: &[u8], from: usize, to: usize, cx: &mut Cx<'_>) -> usize {
    let min = cx.min_encoded_len();
    let mut i = from;
    while i < to && !cx.is_full() {
        let Some(skip) = b
            .get(i..to)
            .and_then(|rest| rest.iter().position(|&c| class(c) & B64 != 0))
        else {
            break;
        };
        let start = i + skip;
        let (mut any, mut all) = (0u8, 0xFFu8);
        let mut end = start;
        for &c in b.get(start..).unwrap_or_default() {
            let cl = class(c);
            if cl & B64 == 0 {
                break;
            }
            any |= cl;
            all &= cl;
            end += 1;
        }
        i = end;
        let len = end - start;
        // Most runs are ordinary words: too short for a run and not the size of a separated unit.
        if len < min && !matches!(len, 2 | 3 | 4 | 8) {
            continue;
        }
        let before = start.checked_sub(1).and_then(|p| b.get(p)).copied();

        // Separated forms start with one short run: "\x69", "0x69", "69 67", "01101001 01100111".
        let form = if len == 3
            && before == Some(b'\\')
            && matches!(b.get(start), Some(b'x' | b'X'))
            && hex2(b, start + 1).is_some()
        {
            Some(Form::Escaped)
        } else if len == 4
            && b.get(start) == Some(&b'0')
            && matches!(b.get(start + 1), Some(b'x' | b'X'))
            && hex2(b, start + 2).is_some()
        {
            Some(Form::Prefixed)
        } else if len == 2 && all & HEX != 0 {
            Some(Form::Pairs)
        } else if len == 8 && all & BIN != 0 {
            Some(Form::Octets)
        } else {
            None
        };
        if let Some(form) = form {
            let unit_start = if form == Form::Escaped {
                start - 1
            } else {
                start
            };
            if let Some(next) = separated(b, unit_start, form, min, cx) {
                i = next.max(end);
            }
            continue;
        }
        if len < min {
            continue;
        }
        let run = start..end;
        if all & BIN != 0 {
            if len.is_multiple_of(8) {
                emit_units(cx, "binary", || bits(b, run.clone()));
            }
        } else if all & HEX != 0 {
            if len.is_multiple_of(2) && any & DIGIT != 0 && any & (UPPER | LOWER) != 0 {
                emit_units(cx, "hex", || hex_pairs(b, run.clone()));
            }
        } else if any & UPPER != 0 && any & LOWER != 0 {
            // A leading path slash or dash would shift every quad; base64 text rarely starts with one.
            let mut s = start;
            while s < end && class_at(b, s) & ALNUM == 0 {
                s += 1;
            }
            if end - s >= min {
                emit_units(cx, "base64", || base64(b, s..end));
            }
        }
        // Padding belongs to the run just decoded.
        while i < b.len() && b.get(i) == Some(&b'=') && i - end < 2 {
            i += 1;
        }
    }
    i
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    /// `\x69\x67`
    Escaped,
    /// `0x69 0x67`, `0x69,0x67`
    Prefixed,
    /// `69 67 6e`, `69:67:6e`
    Pairs,
    /// `01101001 01100111`
    Octets,
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn hex2(b: &[u8], at: usize) -> Option<u8> {
    Some(hex_val(*b.get(at)?)? << 4 | hex_val(*b.get(at + 1)?)?)
}

/// Parses one unit of `form` at `at`; returns its value and where the unit ends.
fn unit(b: &[u8], at: usize, form: Form) -> Option<(u8, usize)> {
    let alnum_at = |i: usize| class_at(b, i) & ALNUM != 0;
    match form {
        Form::Escaped => {
            (b.get(at) == Some(&b'\\') && matches!(b.get(at + 1), Some(b'x' | b'X')))
                .then_some(())?;
            Some((hex2(b, at + 2)?, at + 4))
        }
        Form::Prefixed => {
            (b.get(at) == Some(&b'0') && matches!(b.get(at + 1), Some(b'x' | b'X')))
                .then_some(())?;
            let v = hex2(b, at + 2)?;
            (!alnum_at(at + 4)).then_some((v, at + 4))
        }
        Form::Pairs => {
            let v = hex2(b, at)?;
            (!alnum_at(at + 2)).then_some((v, at + 2))
        }
        Form::Octets => {
            let mut v = 0u8;
            for k in 0..8 {
                let bit = match b.get(at + k) {
                    Some(b'0') => 0,
                    Some(b'1') => 1,
                    _ => return None,
                };
                v = v << 1 | bit;
            }
            (!alnum_at(at + 8)).then_some((v, at + 8))
        }
    }
}

/// Length of the separator after a unit of `form` at `at` (zero when the next unit may follow directly).
fn separator(b: &[u8], at: usize, form: Form) -> usize {
    match form {
        Form::Escaped | Form::Prefixed => {
            let mut k = 0;
            while k < 2 && matches!(b.get(at + k), Some(b' ' | b',')) {
                k += 1;
            }
            k
        }
        Form::Pairs => usize::from(matches!(b.get(at), Some(b' ' | b':' | b'-'))),
        Form::Octets => usize::from(b.get(at) == Some(&b' ')),
    }
}

/// Iterates the units of a separated sequence starting at `start` and ending at `end`.
fn units_of(b: &[u8], start: usize, end: usize, form: Form) -> impl Iterator<Item = Unit> + '_ {
    let mut pos = start;
    std::iter::from_fn(move || {
        if pos >= end {
            return None;
        }
        let (v, unit_end) = unit(b, pos, form)?;
        let next = (unit_end + separator(b, unit_end, form)).min(end);
        let src = pos..next.max(unit_end);
        pos = next.max(unit_end);
        Some((src, [v, 0, 0, 0], 1))
    })
}

/// Decodes a separated sequence of hex or binary units; returns where it ended when it was long enough to
/// be considered, so the caller skips it.
fn separated(b: &[u8], start: usize, form: Form, min: usize, cx: &mut Cx<'_>) -> Option<usize> {
    let mut count = 0usize;
    let mut pos = start;
    let mut end = start;
    let mut any_letter = false;
    while let Some((_, unit_end)) = unit(b, pos, form) {
        count += 1;
        end = unit_end;
        if form == Form::Pairs {
            any_letter |= b
                .get(pos..unit_end)
                .unwrap_or_default()
                .iter()
                .any(|c| c.is_ascii_alphabetic());
        }
        pos = unit_end + separator(b, unit_end, form);
    }
    let width = end - start;
    let min_units = 3;
    if count < min_units || width < min {
        return None;
    }
    // Decimal-looking pairs ("12 34 56") are numbers far more often than hex.
    if form == Form::Pairs && !any_letter {
        return Some(end);
    }
    let name = if form == Form::Octets {
        "binary"
    } else {
        "hex"
    };
    emit_units(cx, name, || units_of(b, start, end, form));
    Some(end)
}

fn bits(b: &[u8], run: Range<usize>) -> impl Iterator<Item = Unit> + '_ {
    let mut pos = run.start;
    std::iter::from_fn(move || {
        if pos + 8 > run.end {
            return None;
        }
        let octet = b.get(pos..pos + 8)?;
        let v = octet.iter().fold(0u8, |v, &c| v << 1 | u8::from(c == b'1'));
        let src = pos..pos + 8;
        pos += 8;
        Some((src, [v, 0, 0, 0], 1))
    })
}

fn hex_pairs(b: &[u8], run: Range<usize>) -> impl Iterator<Item = Unit> + '_ {
    let mut pos = run.start;
    std::iter::from_fn(move || {
        if pos + 2 > run.end {
            return None;
        }
        let v = hex2(b, pos)?;
        let src = pos..pos + 2;
        pos += 2;
        Some((src, [v, 0, 0, 0], 1))
    })
}

fn b64_val(b: u8) -> Option<u32> {
    let v = match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        // Standard and URL-safe alphabets are accepted alike; mixing them costs an attacker nothing.
        b'+' | b'-' => 62,
        b'/' | b'_' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// Base64 quads of `run` (no padding inside): each yields up to three bytes.
fn base64(b: &[u8], run: Range<usize>) -> impl Iterator<Item = Unit> + '_ {
    let mut pos = run.start;
    std::iter::from_fn(move || {
        let n = (run.end - pos).min(4);
        if n < 2 {
            return None;
        }
        let mut acc = 0u32;
        for k in 0..4 {
            let v = if k < n { b64_val(*b.get(pos + k)?)? } else { 0 };
            acc = acc << 6 | v;
        }
        let [_, x, y, z] = acc.to_be_bytes();
        let src = pos..pos + n;
        pos += n;
        Some((src, [x, y, z, 0], n - 1))
    })
}

/// Percent-encoded tokens. Ordinary URLs escape a space or two; an obfuscated payload escapes letters and
/// digits, which never need it, or escapes most of its bytes.
pub(crate) fn scan_percent(text: &str, cx: &mut Cx<'_>) {
    let b = text.as_bytes();
    let mut done = 0;
    for p in memchr::memchr_iter(b'%', b) {
        if p < done || cx.is_full() {
            continue;
        }
        if hex2(b, p + 1).is_none() {
            continue;
        }
        let is_space = |c: &u8| c.is_ascii_whitespace();
        let start = b
            .get(done..p)
            .and_then(|s| s.iter().rposition(is_space))
            .map_or(done, |k| done + k + 1);
        let end = b
            .get(p..)
            .and_then(|s| s.iter().position(is_space))
            .map_or(b.len(), |k| p + k);
        done = end;
        let (mut escapes, mut needless) = (0usize, 0usize);
        let mut i = start;
        while i < end {
            if b.get(i) == Some(&b'%')
                && let Some(v) = hex2(b, i + 1)
            {
                escapes += 1;
                needless += usize::from(v.is_ascii_alphanumeric() || v >= 0x80);
                i += 3;
            } else {
                i += 1;
            }
        }
        let dense = escapes >= 3 && escapes * 3 * 4 >= end - start;
        if !(needless >= 3 || dense) {
            continue;
        }
        emit_units(cx, "url", || percent_units(b, start, end));
    }
}

fn percent_units(b: &[u8], start: usize, end: usize) -> impl Iterator<Item = Unit> + '_ {
    let mut pos = start;
    std::iter::from_fn(move || {
        if pos >= end {
            return None;
        }
        if b.get(pos) == Some(&b'%')
            && let Some(v) = hex2(b, pos + 1)
        {
            pos += 3;
            return Some((pos - 3..pos, [v, 0, 0, 0], 1));
        }
        let c = *b.get(pos)?;
        pos += 1;
        Some((pos - 1..pos, [c, 0, 0, 0], 1))
    })
}

/// Parses an HTML character reference at `at`: numeric ones yield `(char, end, true)`, the few named ones
/// that occur in escaped markup yield `(char, end, false)`.
fn entity(b: &[u8], at: usize) -> Option<(char, usize, bool)> {
    if b.get(at) != Some(&b'&') {
        return None;
    }
    if b.get(at + 1) == Some(&b'#') {
        let hex = matches!(b.get(at + 2), Some(b'x' | b'X'));
        let digits_at = at + 2 + usize::from(hex);
        let mut v: u32 = 0;
        let mut k = digits_at;
        while k < digits_at + 7 {
            let Some(&c) = b.get(k) else { break };
            let d = if hex {
                hex_val(c)
            } else {
                c.is_ascii_digit().then(|| c - b'0')
            };
            let Some(d) = d else { break };
            v = v * if hex { 16 } else { 10 } + u32::from(d);
            k += 1;
        }
        if k == digits_at || b.get(k) != Some(&b';') {
            return None;
        }
        return Some((char::from_u32(v)?, k + 1, true));
    }
    const NAMED: [(&[u8], char); 6] = [
        (b"lt;", '<'),
        (b"gt;", '>'),
        (b"amp;", '&'),
        (b"quot;", '"'),
        (b"apos;", '\''),
        (b"nbsp;", ' '),
    ];
    let rest = b.get(at + 1..)?;
    NAMED
        .iter()
        .find(|(name, _)| rest.starts_with(name))
        .map(|(name, c)| (*c, at + 1 + name.len(), false))
}

/// Literal bytes allowed between two character references of one run ("&#105;gn&#111;re").
const HTML_GAP: usize = 8;

/// Runs of numeric HTML character references (`&#105;&#x67;`), which spell text no markup needs escaped.
pub(crate) fn scan_html(text: &str, cx: &mut Cx<'_>) {
    let b = text.as_bytes();
    let mut done = 0;
    for p in memchr::memchr_iter(b'&', b) {
        if p < done || cx.is_full() {
            continue;
        }
        let Some((_, mut end, true)) = entity(b, p) else {
            continue;
        };
        let mut numeric = 1usize;
        // Extend over further references separated by short literal gaps.
        loop {
            let mut k = end;
            while k < end + HTML_GAP
                && matches!(b.get(k), Some(&c) if c != b'&' && c != b'<' && c != b'\n')
            {
                k += 1;
            }
            match entity(b, k) {
                Some((_, e, is_numeric)) => {
                    numeric += usize::from(is_numeric);
                    end = e;
                }
                None => break,
            }
        }
        done = end;
        if numeric < 4 {
            continue;
        }
        emit_units(cx, "html", || html_units(b, p, end));
    }
}

fn html_units(b: &[u8], start: usize, end: usize) -> impl Iterator<Item = Unit> + '_ {
    let mut pos = start;
    std::iter::from_fn(move || {
        if pos >= end {
            return None;
        }
        if let Some((c, e, _)) = entity(b, pos) {
            let mut buf = [0u8; 4];
            let n = c.encode_utf8(&mut buf).len();
            let src = pos..e;
            pos = e;
            return Some((src, buf, n));
        }
        let c = *b.get(pos)?;
        pos += 1;
        Some((pos - 1..pos, [c, 0, 0, 0], 1))
    })
}
