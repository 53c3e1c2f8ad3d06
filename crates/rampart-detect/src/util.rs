//! Small helpers shared by detectors.

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
