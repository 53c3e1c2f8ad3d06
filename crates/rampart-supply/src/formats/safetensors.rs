//! safetensors: an 8-byte little-endian header length, a JSON header, then the tensor bytes.
//!
//! The format cannot carry code, so the checks are about the header lying: sizes that do not match shapes,
//! offsets outside the data, tensors aliasing each other, bytes hidden after the last tensor (a second file
//! appended, e.g. a pickle), duplicate keys that parsers resolve differently, and headers large enough to
//! exhaust a reader's memory. The `safetensors` crate validates the same layout but stops at the first
//! error; this module reports every problem with its own rule and offset. Keys are read in file order with
//! duplicates kept; the JSON parser's nesting limit (128) bounds recursion.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use rampart_core::Severity;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{FormatError, Rule, Sink, preview};
use crate::report::ModelFinding;

pub static HEADER_TOO_LARGE: Rule = Rule {
    id: "safetensors.header-too-large",
    severity: Severity::High,
    summary: "The header claims more than 100 MB, which the reference loader refuses; it only serves to exhaust a parser's memory.",
};
pub static MALFORMED: Rule = Rule {
    id: "safetensors.malformed",
    severity: Severity::Medium,
    summary: "The header is truncated, not UTF-8 JSON, or a tensor entry lacks a valid dtype, shape or data_offsets.",
};
pub static DUPLICATE_KEY: Rule = Rule {
    id: "safetensors.duplicate-key",
    severity: Severity::Medium,
    summary: "A tensor name appears twice in the header; JSON parsers disagree on which entry wins.",
};
pub static UNKNOWN_DTYPE: Rule = Rule {
    id: "safetensors.unknown-dtype",
    severity: Severity::Medium,
    summary: "A dtype the format does not define; its size could not be checked.",
};
pub static SIZE_MISMATCH: Rule = Rule {
    id: "safetensors.size-mismatch",
    severity: Severity::Medium,
    summary: "A tensor's byte range does not equal its shape times its dtype size (or that product overflows).",
};
pub static OUT_OF_BOUNDS: Rule = Rule {
    id: "safetensors.out-of-bounds",
    severity: Severity::High,
    summary: "A tensor's data_offsets point past the end of the file: a reader that trusts them reads other memory.",
};
pub static OVERLAPPING_TENSORS: Rule = Rule {
    id: "safetensors.overlapping-tensors",
    severity: Severity::Medium,
    summary: "Two tensors share bytes; a writer never produces that, a crafted file uses it to alias data.",
};
pub static GAP: Rule = Rule {
    id: "safetensors.gap",
    severity: Severity::Low,
    summary: "Bytes between tensors that no tensor claims; the reference loader rejects such files.",
};
pub static TRAILING_DATA: Rule = Rule {
    id: "safetensors.trailing-data",
    severity: Severity::Medium,
    summary: "Bytes after the last tensor: room for a second payload (a pickle or archive) hidden behind valid tensors.",
};
pub static BAD_METADATA: Rule = Rule {
    id: "safetensors.bad-metadata",
    severity: Severity::Low,
    summary: "`__metadata__` is not a map of strings to strings as the format requires.",
};

/// The reference loader's header limit.
pub const MAX_HEADER_BYTES: u64 = 100_000_000;

/// What the AI-BOM records about a safetensors file.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SafetensorsInfo {
    /// Bytes of JSON header.
    pub header_len: u64,
    pub tensor_count: u64,
    /// Sum over tensors of the product of their shape (saturating).
    pub parameter_count: u64,
    /// Tensor count per dtype.
    pub dtypes: BTreeMap<String, u64>,
    /// The `__metadata__` map (non-string values are left out).
    pub metadata: BTreeMap<String, String>,
}

/// Reads the header for the bill of materials. Cost: one JSON parse of the header; tensor data is not read.
///
/// # Errors
/// [`FormatError`] when the header is oversized, truncated, not JSON, or a tensor entry is malformed.
pub fn metadata(data: &[u8]) -> Result<SafetensorsInfo, FormatError> {
    let header = parse_header(data).map_err(|p| FormatError::Malformed {
        offset: p.offset,
        reason: p.reason,
    })?;
    let mut info = SafetensorsInfo {
        header_len: header.len as u64,
        ..Default::default()
    };
    for (key, value) in &header.entries {
        if key == "__metadata__" {
            if let Value::Object(m) = value {
                info.metadata = m
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect();
            }
            continue;
        }
        let entry = TensorEntry::from_value(value).map_err(|reason| FormatError::Malformed {
            offset: 8,
            reason: format!("tensor `{}`: {reason}", preview(key, 100)),
        })?;
        info.tensor_count += 1;
        *info.dtypes.entry(entry.dtype.clone()).or_insert(0) += 1;
        info.parameter_count = info
            .parameter_count
            .saturating_add(entry.shape.iter().fold(1u64, |a, &d| a.saturating_mul(d)));
    }
    Ok(info)
}

/// Validates a safetensors file and appends findings; offsets point at the tensor's key in the header or
/// at the data in question. Cost: one JSON parse of the header and a sort of the tensor ranges.
pub fn scan(data: &[u8], out: &mut Vec<ModelFinding>) {
    let mut sink = Sink::new(out);
    let header = match parse_header(data) {
        Ok(h) => h,
        Err(p) => {
            sink.emit(p.rule, p.offset, || p.reason);
            return;
        }
    };
    let json = &data[8..8 + header.len];
    let data_start = 8 + header.len;
    let data_len = (data.len() - data_start) as u64;
    let key_offset = |key: &str, nth: usize| -> u64 {
        let quoted = serde_json::to_string(key).unwrap_or_default();
        memchr::memmem::find_iter(json, quoted.as_bytes())
            .nth(nth)
            .map_or(8, |p| 8 + p as u64)
    };
    let mut seen = HashSet::new();
    let mut extents: Vec<(u64, u64, &str)> = Vec::new();
    for (key, value) in &header.entries {
        if !seen.insert(key.as_str()) {
            sink.emit(&DUPLICATE_KEY, key_offset(key, 1), || {
                format!(
                    "`{}` appears more than once in the header",
                    preview(key, 100)
                )
            });
        }
        if key == "__metadata__" {
            let ok = value
                .as_object()
                .is_some_and(|m| m.values().all(Value::is_string));
            if !ok {
                sink.emit(&BAD_METADATA, key_offset(key, 0), || {
                    "`__metadata__` must map strings to strings".to_string()
                });
            }
            continue;
        }
        let name = || preview(key, 100);
        let entry = match TensorEntry::from_value(value) {
            Ok(e) => e,
            Err(why) => {
                sink.emit(&MALFORMED, key_offset(key, 0), || {
                    format!("tensor `{}`: {why}", name())
                });
                continue;
            }
        };
        let [begin, end] = entry.data_offsets;
        if begin > end {
            sink.emit(&MALFORMED, key_offset(key, 0), || {
                format!(
                    "tensor `{}` has data_offsets [{begin}, {end}] that run backwards",
                    name()
                )
            });
            continue;
        }
        match dtype_bits(&entry.dtype) {
            None => sink.emit(&UNKNOWN_DTYPE, key_offset(key, 0), || {
                format!(
                    "tensor `{}` has dtype `{}`",
                    name(),
                    preview(&entry.dtype, 40)
                )
            }),
            Some(bits) => {
                let want = entry
                    .shape
                    .iter()
                    .try_fold(bits, |acc, &d| acc.checked_mul(d));
                match want {
                    Some(b) if b % 8 == 0 && b / 8 == end - begin => {}
                    Some(b) => sink.emit(&SIZE_MISMATCH, key_offset(key, 0), || {
                        format!(
                            "tensor `{}` is {} {:?} = {} bits but claims {} bytes",
                            name(),
                            entry.dtype,
                            entry.shape,
                            b,
                            end - begin
                        )
                    }),
                    None => sink.emit(&SIZE_MISMATCH, key_offset(key, 0), || {
                        format!(
                            "tensor `{}` shape {:?} overflows a 64-bit size",
                            name(),
                            entry.shape
                        )
                    }),
                }
            }
        }
        if end > data_len {
            sink.emit(&OUT_OF_BOUNDS, key_offset(key, 0), || {
                format!(
                    "tensor `{}` claims bytes {begin}..{end} of a {data_len}-byte data section",
                    name()
                )
            });
        }
        // Clipped to the file, so the bytes an out-of-bounds tensor does cover are not called trailing.
        extents.push((begin.min(data_len), end.min(data_len), key));
    }
    extents.sort_unstable();
    let abs = |o: u64| data_start as u64 + o;
    let mut covered: Option<(u64, &str)> = None;
    for &(begin, end, key) in &extents {
        let prev_end = covered.map_or(0, |(e, _)| e);
        if begin < prev_end && begin < end {
            let other = covered.map_or("", |(_, k)| k);
            sink.emit(&OVERLAPPING_TENSORS, abs(begin), || {
                format!(
                    "tensor `{}` overlaps tensor `{}`",
                    preview(key, 100),
                    preview(other, 100)
                )
            });
        } else if begin > prev_end {
            sink.emit(&GAP, abs(prev_end), || {
                format!(
                    "{} unclaimed bytes before tensor `{}`",
                    begin - prev_end,
                    preview(key, 100)
                )
            });
        }
        if end > prev_end {
            covered = Some((end, key));
        }
    }
    let claimed = covered.map_or(0, |(e, _)| e);
    if claimed < data_len {
        let tail = &data[data_start + claimed as usize..];
        sink.emit(&TRAILING_DATA, abs(claimed), || {
            format!(
                "{} bytes after the last tensor{}",
                data_len - claimed,
                describe_payload(tail)
            )
        });
    }
}

/// Names a recognisable file format at the start of hidden bytes.
fn describe_payload(tail: &[u8]) -> &'static str {
    match tail {
        [0x80, 2..=5, ..] => ", starting like a pickle",
        [b'P', b'K', 3, 4, ..] => ", starting like a zip archive",
        [0x1f, 0x8b, ..] => ", starting like gzip",
        [0x7f, b'E', b'L', b'F', ..] => ", starting like an ELF executable",
        [b'M', b'Z', ..] => ", starting like a Windows executable",
        [b'#', b'!', ..] => ", starting like a script",
        _ => "",
    }
}

/// Bits per element of each dtype the format defines.
fn dtype_bits(dtype: &str) -> Option<u64> {
    Some(match dtype {
        "F4" => 4,
        "F6_E2M3" | "F6_E3M2" => 6,
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" | "F8_E8M0" => 8,
        "I16" | "U16" | "F16" | "BF16" => 16,
        "I32" | "U32" | "F32" => 32,
        "I64" | "U64" | "F64" | "C64" => 64,
        _ => return None,
    })
}

struct Header {
    len: usize,
    entries: Vec<(String, Value)>,
}

struct Problem {
    rule: &'static Rule,
    offset: u64,
    reason: String,
}

fn parse_header(data: &[u8]) -> Result<Header, Problem> {
    let problem = |rule, offset, reason: String| Problem {
        rule,
        offset,
        reason,
    };
    let Some(len_bytes) = data.get(..8) else {
        return Err(problem(
            &MALFORMED,
            0,
            format!(
                "{} bytes: shorter than the 8-byte header length",
                data.len()
            ),
        ));
    };
    let len = u64::from_le_bytes([
        len_bytes[0],
        len_bytes[1],
        len_bytes[2],
        len_bytes[3],
        len_bytes[4],
        len_bytes[5],
        len_bytes[6],
        len_bytes[7],
    ]);
    if len > MAX_HEADER_BYTES {
        return Err(problem(
            &HEADER_TOO_LARGE,
            0,
            format!(
                "header length {len} exceeds the {MAX_HEADER_BYTES}-byte limit of the reference loader"
            ),
        ));
    }
    let available = data.len() as u64 - 8;
    if len > available {
        return Err(problem(
            &MALFORMED,
            0,
            format!("header claims {len} bytes but only {available} follow"),
        ));
    }
    let len = len as usize;
    let json = &data[8..8 + len];
    if json.first() != Some(&b'{') {
        return Err(problem(
            &MALFORMED,
            8,
            "header does not start with `{`".to_string(),
        ));
    }
    if let Err(e) = std::str::from_utf8(json) {
        return Err(problem(
            &MALFORMED,
            8 + e.valid_up_to() as u64,
            "header is not UTF-8".to_string(),
        ));
    }
    match serde_json::from_slice::<Entries>(json) {
        Ok(Entries(entries)) => Ok(Header { len, entries }),
        Err(e) => Err(problem(
            &MALFORMED,
            8,
            format!("header is not a JSON object: {e}"),
        )),
    }
}

/// A JSON object's members in file order, duplicates kept.
struct Entries(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        d.deserialize_map(V)
    }
}

struct TensorEntry {
    dtype: String,
    shape: Vec<u64>,
    data_offsets: [u64; 2],
}

impl TensorEntry {
    fn from_value(v: &Value) -> Result<Self, String> {
        let obj = v.as_object().ok_or("entry is not an object")?;
        let dtype = obj
            .get("dtype")
            .and_then(Value::as_str)
            .ok_or("dtype is missing or not a string")?;
        let shape = obj
            .get("shape")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().map(Value::as_u64).collect::<Option<Vec<_>>>())
            .ok_or("shape is missing or not a list of non-negative integers")?;
        let offsets = obj
            .get("data_offsets")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().map(Value::as_u64).collect::<Option<Vec<_>>>())
            .filter(|o| o.len() == 2)
            .ok_or("data_offsets is missing or not two non-negative integers")?;
        Ok(TensorEntry {
            dtype: dtype.to_string(),
            shape,
            data_offsets: [offsets[0], offsets[1]],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(header: &str, data_len: usize) -> Vec<u8> {
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(header.as_bytes());
        out.resize(out.len() + data_len, 0);
        out
    }

    fn rules(data: &[u8]) -> Vec<&'static str> {
        let mut out = Vec::new();
        scan(data, &mut out);
        out.iter().map(|f| f.rule).collect()
    }

    const BENIGN: &str = r#"{"__metadata__":{"format":"pt"},"b":{"dtype":"BF16","shape":[2,3],"data_offsets":[16,28]},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"f":{"dtype":"F4","shape":[3,2],"data_offsets":[28,31]}}  "#;

    #[test]
    fn benign_file_is_safe_and_described() {
        let data = file(BENIGN, 31);
        assert_eq!(rules(&data), Vec::<&str>::new());
        let info = metadata(&data).unwrap();
        assert_eq!((info.tensor_count, info.parameter_count), (3, 16));
        assert_eq!(info.metadata.get("format").map(String::as_str), Some("pt"));
        assert_eq!(info.dtypes.get("BF16"), Some(&1));
    }

    #[test]
    fn layout_problems() {
        let header = r#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]},"c":{"dtype":"F32","shape":[2],"data_offsets":[40,48]},"d":{"dtype":"F32","shape":[1],"data_offsets":[60,64]}}"#;
        assert_eq!(
            rules(&file(header, 70)),
            [
                "safetensors.overlapping-tensors",
                "safetensors.gap",
                "safetensors.gap",
                "safetensors.trailing-data"
            ]
        );
        let oob = r#"{"a":{"dtype":"U8","shape":[100],"data_offsets":[0,100]}}"#;
        assert_eq!(rules(&file(oob, 10)), ["safetensors.out-of-bounds"]);
    }

    #[test]
    fn entry_problems() {
        let header = r#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,12]},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"q":{"dtype":"Q9","shape":[1],"data_offsets":[16,17]},"h":{"dtype":"F16","shape":[18446744073709551615,2],"data_offsets":[17,17]},"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]},"r":{"dtype":"F32","shape":[0],"data_offsets":[9,8]},"__metadata__":{"k":1}}"#;
        assert_eq!(
            rules(&file(header, 17)),
            [
                "safetensors.size-mismatch",
                "safetensors.duplicate-key",
                "safetensors.unknown-dtype",
                "safetensors.size-mismatch",
                "safetensors.malformed",
                "safetensors.malformed",
                "safetensors.bad-metadata",
                "safetensors.overlapping-tensors"
            ]
        );
    }

    #[test]
    fn header_problems() {
        let mut huge = (MAX_HEADER_BYTES + 1).to_le_bytes().to_vec();
        huge.extend_from_slice(b"{}");
        assert_eq!(rules(&huge), ["safetensors.header-too-large"]);
        assert_eq!(rules(b"\x05\0\0\0\0\0\0\0{}"), ["safetensors.malformed"]);
        assert_eq!(rules(b"\x02\0\0\0\0\0\0\0[]"), ["safetensors.malformed"]);
        assert_eq!(
            rules(b"\x03\0\0\0\0\0\0\0{\xff}"),
            ["safetensors.malformed"]
        );
        assert_eq!(rules(b"\x01\0"), ["safetensors.malformed"]);
        assert_eq!(rules(&file("{}", 0)), Vec::<&str>::new());
        let mut out = Vec::new();
        scan(
            &file(
                r#"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}"#,
                4,
            ),
            &mut out,
        );
        assert_eq!(
            out.iter().map(|f| f.rule).collect::<Vec<_>>(),
            ["safetensors.trailing-data"]
        );
        let mut pickle_tail = file(
            r#"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}"#,
            2,
        );
        pickle_tail.extend_from_slice(b"\x80\x04\x95cos\nsystem\n");
        let mut out = Vec::new();
        scan(&pickle_tail, &mut out);
        assert!(
            out[0].explanation.contains("like a pickle"),
            "{}",
            out[0].explanation
        );
        assert!(metadata(&huge).is_err());
    }
}
