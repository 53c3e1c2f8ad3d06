//! Checks for model formats that are not pickle-based: Keras configs (`.keras`, legacy `.h5`), TensorFlow
//! SavedModel and ONNX protobufs, GGUF and safetensors.
//!
//! Each format module exposes a `scan(data, out)` that appends [`ModelFinding`]s for one file or archive
//! member; the caller sniffs the format and sets `member`. Every scan works on a borrowed slice, never copies
//! tensor data, checks every length against the bytes that remain, bounds its recursion, and reports
//! malformed input as findings instead of panicking. The rules, their severities and why they matter are
//! listed in [`RULES`] and documented in `docs/model-formats.md`.

use std::collections::HashMap;
use std::fmt::Write as _;

use rampart_core::Severity;

use crate::report::ModelFinding;

pub mod gguf;
pub mod hdf5;
pub mod keras;
pub mod onnx;
pub(crate) mod proto;
pub mod safetensors;
pub mod savedmodel;
pub mod template;

#[cfg(test)]
mod fixtures_test;

/// Why a format's structure could not be read, with the byte offset where reading stopped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// The data ends before a field the format requires.
    #[error("truncated {what} at offset {offset}")]
    Truncated { what: &'static str, offset: u64 },
    /// The data does not start with the format's magic bytes.
    #[error("not a {format} file: bad magic")]
    BadMagic { format: &'static str },
    /// A version of the format this reader does not parse.
    #[error("unsupported {format} version {version}")]
    UnsupportedVersion { format: &'static str, version: u64 },
    /// A field holds a value the format does not allow.
    #[error("malformed at offset {offset}: {reason}")]
    Malformed { offset: u64, reason: String },
}

/// A check's stable identity: findings of one rule always carry the same severity.
#[derive(Debug)]
pub struct Rule {
    /// Stable id (`gguf.template-injection`), never reused for a different check.
    pub id: &'static str,
    pub severity: Severity,
    /// One line saying what the rule detects and why it matters.
    pub summary: &'static str,
}

/// Every rule the format checks can report, in documentation order.
pub static RULES: &[&Rule] = &[
    &keras::LAMBDA_LAYER,
    &keras::SERIALIZED_LAMBDA,
    &keras::DANGEROUS_REFERENCE,
    &keras::TFOP_DANGEROUS,
    &keras::CUSTOM_OBJECT,
    &keras::MALFORMED_CONFIG,
    &keras::DEPTH_LIMIT,
    &hdf5::MALFORMED,
    &hdf5::CONFIG_HEURISTIC,
    &hdf5::NO_MODEL_CONFIG,
    &savedmodel::DANGEROUS_OP,
    &savedmodel::SUSPICIOUS_OP,
    &savedmodel::UNEXPECTED_CHECKPOINT_OP,
    &savedmodel::MALFORMED,
    &onnx::CUSTOM_OP_DOMAIN,
    &onnx::EXTERNAL_DATA_ESCAPE,
    &onnx::EXTERNAL_DATA_MISSING,
    &onnx::EXTERNAL_DATA_RANGE,
    &onnx::MALFORMED,
    &onnx::DEPTH_LIMIT,
    &gguf::TEMPLATE_INJECTION,
    &gguf::TEMPLATE_SUSPICIOUS,
    &gguf::MALFORMED,
    &gguf::UNSUPPORTED,
    &gguf::DUPLICATE_KEY,
    &gguf::DUPLICATE_TENSOR,
    &gguf::BAD_ALIGNMENT,
    &gguf::MISALIGNED_TENSOR,
    &gguf::TENSOR_OUT_OF_BOUNDS,
    &gguf::OVERLAPPING_TENSORS,
    &gguf::UNKNOWN_TENSOR_TYPE,
    &safetensors::HEADER_TOO_LARGE,
    &safetensors::MALFORMED,
    &safetensors::DUPLICATE_KEY,
    &safetensors::UNKNOWN_DTYPE,
    &safetensors::SIZE_MISMATCH,
    &safetensors::OUT_OF_BOUNDS,
    &safetensors::OVERLAPPING_TENSORS,
    &safetensors::GAP,
    &safetensors::TRAILING_DATA,
    &safetensors::BAD_METADATA,
];

/// Findings of one rule listed per file before the rest are summarised in a single finding, so a hostile
/// file with a million custom nodes yields a readable report of bounded size.
const MAX_PER_RULE: u32 = 50;

/// Appends findings to the caller's vector, capping each rule at [`MAX_PER_RULE`]; on drop it adds one
/// finding per capped rule saying how many were left out.
pub(crate) struct Sink<'o> {
    out: &'o mut Vec<ModelFinding>,
    counts: HashMap<&'static str, (u32, &'static Rule, u64)>,
}

impl<'o> Sink<'o> {
    pub(crate) fn new(out: &'o mut Vec<ModelFinding>) -> Self {
        Sink {
            out,
            counts: HashMap::new(),
        }
    }

    /// Records a finding; `explain` only runs when the finding is kept.
    pub(crate) fn emit(
        &mut self,
        rule: &'static Rule,
        offset: u64,
        explain: impl FnOnce() -> String,
    ) {
        self.emit_with_import(rule, offset, None, explain);
    }

    /// Like [`Sink::emit`], naming the callable or module the finding is about.
    pub(crate) fn emit_with_import(
        &mut self,
        rule: &'static Rule,
        offset: u64,
        import: Option<String>,
        explain: impl FnOnce() -> String,
    ) {
        let entry = self.counts.entry(rule.id).or_insert((0, rule, offset));
        entry.0 = entry.0.saturating_add(1);
        if entry.0 > MAX_PER_RULE {
            return;
        }
        self.out.push(ModelFinding {
            rule: rule.id,
            severity: rule.severity,
            offset,
            member: None,
            import,
            explanation: explain(),
        });
    }
}

impl Drop for Sink<'_> {
    fn drop(&mut self) {
        let mut capped: Vec<_> = self
            .counts
            .values()
            .filter(|(n, _, _)| *n > MAX_PER_RULE)
            .collect();
        capped.sort_by_key(|(_, rule, _)| rule.id);
        for (n, rule, offset) in capped {
            self.out.push(ModelFinding {
                rule: rule.id,
                severity: rule.severity,
                offset: *offset,
                member: None,
                import: None,
                explanation: format!(
                    "{} more findings of this rule were not listed",
                    n - MAX_PER_RULE
                ),
            });
        }
    }
}

/// A printable, single-line excerpt of untrusted text of at most `max` characters: control characters and
/// backticks are escaped so a hostile value cannot forge lines or markup in a report.
pub(crate) fn preview(text: &str, max: usize) -> String {
    let mut s = String::new();
    let mut chars = text.chars();
    for c in chars.by_ref().take(max) {
        match c {
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            '`' => s.push('\''),
            c if c.is_control() || is_invisible(c) => {
                let _ = write!(s, "\\u{{{:x}}}", c as u32);
            }
            c => s.push(c),
        }
    }
    if chars.next().is_some() {
        s.push('…');
    }
    s
}

/// Format characters that render as nothing (bidi overrides, zero-width joiners, tag characters).
fn is_invisible(c: char) -> bool {
    matches!(c as u32, 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x2069 | 0xFEFF | 0xE0000..=0xE007F)
}

/// [`preview`] of bytes that should be UTF-8 but come from an untrusted file.
pub(crate) fn preview_bytes(bytes: &[u8], max: usize) -> String {
    preview(
        &String::from_utf8_lossy(&bytes[..bytes.len().min(max.saturating_mul(4))]),
        max,
    )
}

/// A little-endian cursor over an untrusted slice: every read is bounds-checked and reports the offset.
pub(crate) struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(data: &'a [u8], pos: usize) -> Self {
        Cursor { data, pos }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    pub(crate) fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], FormatError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or(FormatError::Truncated {
                what,
                offset: self.pos as u64,
            })?;
        let b = &self.data[self.pos..end];
        self.pos = end;
        Ok(b)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, FormatError> {
        Ok(self.bytes(1, what)?[0])
    }

    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16, FormatError> {
        let b = self.bytes(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, FormatError> {
        let b = self.bytes(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn u64(&mut self, what: &'static str) -> Result<u64, FormatError> {
        let b = self.bytes(8, what)?;
        Ok(u64::from_le_bytes([
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
        ]))
    }

    /// An unsigned little-endian integer of `size` bytes (1 to 8), as HDF5 stores offsets and lengths.
    pub(crate) fn uint(&mut self, size: u8, what: &'static str) -> Result<u64, FormatError> {
        let b = self.bytes(usize::from(size), what)?;
        if b.len() > 8 {
            return Err(FormatError::Malformed {
                offset: self.pos as u64,
                reason: format!("{what} is {size} bytes wide"),
            });
        }
        Ok(b.iter()
            .rev()
            .fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_and_namespaced() {
        let mut seen = std::collections::HashSet::new();
        for rule in RULES {
            assert!(seen.insert(rule.id), "duplicate rule id {}", rule.id);
            let (format, name) = rule
                .id
                .split_once('.')
                .expect("rule id has a format prefix");
            assert!(
                ["keras", "hdf5", "savedmodel", "onnx", "gguf", "safetensors"].contains(&format)
            );
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{}",
                rule.id
            );
        }
    }

    #[test]
    fn every_rule_is_documented_with_its_severity() {
        let doc = include_str!("../../../../docs/model-formats.md");
        for rule in RULES {
            let row = format!("| `{}` | {} |", rule.id, rule.severity.name());
            assert!(
                doc.contains(&row),
                "docs/model-formats.md lacks the row `{row}`"
            );
        }
    }

    #[test]
    fn sink_caps_each_rule_and_summarises() {
        let mut out = Vec::new();
        {
            let mut sink = Sink::new(&mut out);
            for i in 0..(MAX_PER_RULE + 7) {
                sink.emit(&gguf::DUPLICATE_KEY, u64::from(i), || "dup".to_string());
            }
            sink.emit(&gguf::MALFORMED, 3, || "bad".to_string());
        }
        assert_eq!(out.len(), MAX_PER_RULE as usize + 2);
        let last = out.last().expect("summary");
        assert_eq!(last.rule, "gguf.duplicate-key");
        assert!(last.explanation.starts_with("7 more"));
    }

    #[test]
    fn preview_escapes_and_truncates() {
        assert_eq!(preview("a\nb`c\u{202e}d", 20), "a\\nb'c\\u{202e}d");
        assert_eq!(preview("abcdef", 3), "abc…");
    }

    #[test]
    fn cursor_reports_truncation_offset() {
        let mut c = Cursor::new(&[1, 0, 0], 0);
        assert_eq!(c.u16("x"), Ok(1));
        assert_eq!(
            c.u32("y"),
            Err(FormatError::Truncated {
                what: "y",
                offset: 2
            })
        );
        let mut c = Cursor::new(&[1, 2, 3], 0);
        assert_eq!(c.uint(3, "z"), Ok(0x030201));
    }
}
