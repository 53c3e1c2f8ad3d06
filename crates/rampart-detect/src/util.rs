//! Small helpers shared by detectors.

use regex_automata::meta;
use regex_automata::util::syntax;

use rampart_core::BuildError;

/// Reads an optional boolean option.
pub fn opt_bool(
    scanner: &str,
    t: &toml::Table,
    key: &str,
    default: bool,
) -> Result<bool, BuildError> {
    match t.get(key) {
        None => Ok(default),
        Some(v) => v.as_bool().ok_or_else(|| BuildError::Config {
            scanner: scanner.into(),
            message: format!("`{key}` must be true or false"),
        }),
    }
}

/// Reads an optional float option in `0.0..=1.0`.
pub fn opt_unit(
    scanner: &str,
    t: &toml::Table,
    key: &str,
    default: f32,
) -> Result<f32, BuildError> {
    match t.get(key) {
        None => Ok(default),
        Some(v) => v
            .as_float()
            .or_else(|| v.as_integer().map(|i| i as f64))
            .filter(|f| (0.0..=1.0).contains(f))
            .map(|f| f as f32)
            .ok_or_else(|| BuildError::Config {
                scanner: scanner.into(),
                message: format!("`{key}` must be a number in 0.0..=1.0"),
            }),
    }
}

/// Reads an optional list of strings.
pub fn opt_strings(scanner: &str, t: &toml::Table, key: &str) -> Result<Vec<String>, BuildError> {
    match t.get(key) {
        None => Ok(Vec::new()),
        Some(toml::Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| BuildError::Config {
                        scanner: scanner.into(),
                        message: format!("`{key}` must be a list of strings"),
                    })
            })
            .collect(),
        Some(_) => Err(BuildError::Config {
            scanner: scanner.into(),
            message: format!("`{key}` must be a list of strings"),
        }),
    }
}

/// Rejects options a scanner does not know, so that typos fail at load time.
pub fn check_keys(scanner: &str, t: &toml::Table, known: &[&str]) -> Result<(), BuildError> {
    for key in t.keys() {
        if key != "enabled" && !known.contains(&key.as_str()) {
            return Err(BuildError::Config {
                scanner: scanner.into(),
                message: format!(
                    "unknown option `{key}` (known: enabled, {})",
                    known.join(", ")
                ),
            });
        }
    }
    Ok(())
}

/// Shannon entropy of `s` in bits per byte.
pub fn shannon_entropy(s: &[u8]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in s {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Moves `i` left to the nearest char boundary of `s`.
pub fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Moves `i` right to the nearest char boundary of `s`.
pub fn ceil_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Compiles a rule regex with the smallest footprint its text allows.
///
/// A pattern written in ASCII is compiled in byte mode (Unicode off, UTF-8 not required): `\w`, `\s`, `\d` and
/// `(?i)` are ASCII-only and a negated class such as `[^\s"']` matches any other byte, including each byte of a
/// multi-byte character. A bounded repetition of a Unicode class (`\S{1,253}`) is a copy of a UTF-8 automaton
/// per count and dominated the detectors' memory; in byte mode it is one byte class per count, 3 to 40 times
/// smaller. A match may then start or end inside a multi-byte character (a repetition stopping at its cap), so
/// callers snap spans with [`char_span`] before slicing. Patterns holding non-ASCII text (and any pattern that
/// byte mode rejects) keep full Unicode semantics.
///
/// Cost: compile time grows with the pattern; memory is [`meta::Regex::memory_usage`] plus one cache per
/// searching thread.
pub(crate) fn compile_rule_regex(
    pattern: &str,
    config: meta::Config,
) -> Result<meta::Regex, Box<meta::BuildError>> {
    if pattern.is_ascii() {
        let bytes = meta::Regex::builder()
            .configure(config.clone())
            .syntax(syntax::Config::new().unicode(false).utf8(false))
            .build(pattern);
        if let Ok(re) = bytes {
            return Ok(re);
        }
    }
    meta::Regex::builder()
        .configure(config)
        .build(pattern)
        .map_err(Box::new)
}

/// Shrinks `start..end` to the whole characters of `text` it covers; `None` when it lies inside one multi-byte
/// character (a byte-mode match). An empty range on a boundary stays empty. Slicing `text` with the result
/// cannot panic.
pub(crate) fn char_span(text: &str, start: usize, end: usize) -> Option<std::ops::Range<usize>> {
    let start = ceil_char_boundary(text, start);
    let end = floor_char_boundary(text, end);
    (start <= end).then_some(start..end)
}

/// Lower-cased window of up to `n` bytes before `start` (on char boundaries), for context-word checks.
pub fn context_before(text: &str, start: usize, n: usize) -> &str {
    let from = floor_char_boundary(text, start.saturating_sub(n));
    &text[from..start.min(text.len())]
}

/// Window of up to `n` bytes after `end` (on char boundaries).
pub fn context_after(text: &str, end: usize, n: usize) -> &str {
    let to = ceil_char_boundary(text, end + n);
    let end = ceil_char_boundary(text, end);
    &text[end..to]
}

/// Among the findings pushed since `from`, keeps the strongest of each group of overlapping ones (higher
/// score, then longer span, then the earlier one, so the original text wins over a view's repeat of it).
/// Used by scanners whose rules or views may report the same value twice.
pub fn keep_strongest_overlapping(out: &mut Vec<rampart_core::Finding>, from: usize) {
    let from = from.min(out.len());
    out[from..].sort_by(|a, b| {
        a.span
            .start
            .cmp(&b.span.start)
            .then(b.span.end.cmp(&a.span.end))
    });
    let mut kept = from;
    for i in from..out.len() {
        if kept > from && out[kept - 1].span.overlaps(out[i].span) {
            let (last, cur) = (&out[kept - 1], &out[i]);
            let better = cur.score > last.score
                || (cur.score == last.score && cur.span.len() > last.span.len());
            if better {
                out.swap(kept - 1, i);
            }
        } else {
            out.swap(kept, i);
            kept += 1;
        }
    }
    out.truncate(kept);
}

/// The BIP-173 checksum polymod over 5-bit values: 1 for a valid bech32 string, `0x2bc830a3` for bech32m.
pub fn bech32_polymod(values: impl Iterator<Item = u8>) -> u32 {
    const GEN: [u32; 5] = [
        0x3b6a_57b2,
        0x2650_8e6d,
        0x1ea1_19fa,
        0x3d42_33dd,
        0x2a14_62b3,
    ];
    let mut chk = 1u32;
    for v in values {
        let top = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}
