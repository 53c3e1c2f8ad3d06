//! GGUF (llama.cpp) version 2 and 3: the header, metadata, tensor table and chat templates.
//!
//! Parsed: magic, version, tensor and metadata counts; every metadata key and value of every type
//! (including arrays and arrays of arrays), with each length and count checked against the bytes that
//! remain before it is used; the tensor infos (name, up to 4 dimensions, ggml type, offset) and where the
//! data section starts (`general.alignment`, default 32). Tensor data is never read: its extent is computed
//! from the shape and the type's block size and checked against the file.
//!
//! Reported: chat templates (`tokenizer.chat_template` and `tokenizer.chat_template.<name>`) that try to
//! leave the Jinja sandbox (see [`super::template`]); header structures no exporter writes and that
//! earlier GGUF parsers mishandled (lengths beyond the file, counts that cannot fit, more than 4
//! dimensions, shapes whose byte size overflows); duplicate keys or tensors; bad alignment; tensors outside
//! the file or overlapping each other. GGUF v1 (32-bit lengths) and big-endian files are not parsed.

use std::collections::{BTreeMap, HashSet};

use rampart_core::Severity;
use serde::Serialize;

use super::template::check_chat_template;
use super::{Cursor, FormatError, Rule, Sink, preview_bytes};
use crate::report::ModelFinding;

pub static TEMPLATE_INJECTION: Rule = Rule {
    id: "gguf.template-injection",
    severity: Severity::High,
    summary: "A chat template reaches Python internals or command execution (Jinja sandbox escape) when it is rendered.",
};
pub static TEMPLATE_SUSPICIOUS: Rule = Rule {
    id: "gguf.template-suspicious",
    severity: Severity::Medium,
    summary: "A chat template builds attribute names at run time or loads other templates; no chat template needs to.",
};
pub static MALFORMED: Rule = Rule {
    id: "gguf.malformed",
    severity: Severity::High,
    summary: "A header length, count, type or shape that no exporter writes and that earlier GGUF parsers overflowed on.",
};
pub static UNSUPPORTED: Rule = Rule {
    id: "gguf.unsupported",
    severity: Severity::Medium,
    summary: "Not GGUF v2 or v3 (bad magic, version 1, big-endian or a future version); the header was not checked.",
};
pub static DUPLICATE_KEY: Rule = Rule {
    id: "gguf.duplicate-key",
    severity: Severity::Medium,
    summary: "A metadata key appears twice; readers disagree on which value wins.",
};
pub static DUPLICATE_TENSOR: Rule = Rule {
    id: "gguf.duplicate-tensor",
    severity: Severity::Medium,
    summary: "A tensor name appears twice; readers disagree on which tensor is used.",
};
pub static BAD_ALIGNMENT: Rule = Rule {
    id: "gguf.bad-alignment",
    severity: Severity::Medium,
    summary: "`general.alignment` is not a non-zero power of two stored as a u32.",
};
pub static MISALIGNED_TENSOR: Rule = Rule {
    id: "gguf.misaligned-tensor",
    severity: Severity::Medium,
    summary: "A tensor offset is not a multiple of the file's alignment.",
};
pub static TENSOR_OUT_OF_BOUNDS: Rule = Rule {
    id: "gguf.tensor-out-of-bounds",
    severity: Severity::Medium,
    summary: "A tensor's data extends past the end of the file (truncated download or crafted offsets).",
};
pub static OVERLAPPING_TENSORS: Rule = Rule {
    id: "gguf.overlapping-tensors",
    severity: Severity::Medium,
    summary: "Two tensors share bytes; an exporter never writes that, a crafted file uses it to alias data.",
};
pub static UNKNOWN_TENSOR_TYPE: Rule = Rule {
    id: "gguf.unknown-tensor-type",
    severity: Severity::Low,
    summary: "A tensor type this checker does not know; its size could not be checked.",
};

const MAGIC: &[u8; 4] = b"GGUF";
const DEFAULT_ALIGNMENT: u64 = 32;
/// ggml's GGML_MAX_DIMS.
const MAX_DIMS: u32 = 4;
/// Arrays nested in arrays followed; the format allows it, no model uses more than one level.
const MAX_ARRAY_DEPTH: usize = 4;
/// Smallest encodings, used to reject counts that cannot fit before looping over them.
const MIN_KV_BYTES: usize = 8 + 4 + 1;
const MIN_TENSOR_INFO_BYTES: usize = 8 + 4 + 4 + 8;

/// What the AI-BOM records about a GGUF model.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct GgufInfo {
    pub version: u32,
    pub tensor_count: u64,
    pub metadata_count: u64,
    /// `general.architecture` (`llama`, `qwen2`, ...).
    pub architecture: Option<String>,
    /// `general.name`.
    pub name: Option<String>,
    /// `general.license`.
    pub license: Option<String>,
    /// `general.size_label` (`8B`).
    pub size_label: Option<String>,
    /// `<architecture>.context_length`.
    pub context_length: Option<u64>,
    /// `general.file_type`, llama.cpp's quantisation scheme id.
    pub file_type: Option<u32>,
    /// llama.cpp's name for `file_type` (`Q4_K_M`).
    pub file_type_name: Option<&'static str>,
    /// Sum over tensors of the product of their dimensions (saturating).
    pub parameter_count: u64,
    /// Tensor count per ggml type name (`Q4_K`, `F32`).
    pub tensor_types: BTreeMap<String, u64>,
    /// Data section alignment in bytes.
    pub alignment: u64,
    /// Keys of the chat templates present.
    pub chat_templates: Vec<String>,
}

/// Reads a GGUF header for the bill of materials. Cost: one pass over the metadata and tensor table
/// (tokenizer arrays included); tensor data is not read.
///
/// # Errors
/// [`FormatError`] when the file is not GGUF v2/v3 or its header is malformed.
pub fn metadata(data: &[u8]) -> Result<GgufInfo, FormatError> {
    let (header, error) = parse(data);
    if let Some(e) = error {
        return Err(e);
    }
    let text = |key: &str| match header
        .kvs
        .iter()
        .find(|kv| kv.key == key.as_bytes())
        .map(|kv| &kv.value)
    {
        Some(Val::Str { bytes, .. }) => Some(String::from_utf8_lossy(bytes).into_owned()),
        _ => None,
    };
    let uint = |key: &str| match header
        .kvs
        .iter()
        .find(|kv| kv.key == key.as_bytes())
        .map(|kv| &kv.value)
    {
        Some(Val::Uint(v)) => Some(*v),
        Some(Val::Int(v)) => u64::try_from(*v).ok(),
        _ => None,
    };
    let architecture = text("general.architecture");
    let context_length = architecture
        .as_ref()
        .and_then(|a| uint(&format!("{a}.context_length")));
    let file_type = uint("general.file_type").and_then(|v| u32::try_from(v).ok());
    let mut tensor_types = BTreeMap::new();
    let mut parameter_count = 0u64;
    for t in &header.tensors {
        let name = ggml_type(t.ggml_type)
            .map_or_else(|| format!("type{}", t.ggml_type), |g| g.name.to_string());
        *tensor_types.entry(name).or_insert(0) += 1;
        parameter_count =
            parameter_count.saturating_add(t.dims.iter().fold(1u64, |a, &d| a.saturating_mul(d)));
    }
    Ok(GgufInfo {
        version: header.version,
        tensor_count: header.tensor_count,
        metadata_count: header.kv_count,
        name: text("general.name"),
        license: text("general.license"),
        size_label: text("general.size_label"),
        context_length,
        file_type,
        file_type_name: file_type.and_then(file_type_name),
        parameter_count,
        tensor_types,
        alignment: header.alignment().unwrap_or(DEFAULT_ALIGNMENT),
        chat_templates: header
            .kvs
            .iter()
            .filter(|kv| is_chat_template_key(kv.key) && matches!(kv.value, Val::Str { .. }))
            .map(|kv| String::from_utf8_lossy(kv.key).into_owned())
            .collect(),
        architecture,
    })
}

/// Checks a GGUF file and appends findings; offsets are file offsets (a template finding points at the
/// offending token inside the template string). Cost: one pass over the header, one pass over each chat
/// template, and a sort of the tensor table.
pub fn scan(data: &[u8], out: &mut Vec<ModelFinding>) {
    let mut sink = Sink::new(out);
    let (header, error) = parse(data);
    match &error {
        Some(e @ (FormatError::BadMagic { .. } | FormatError::UnsupportedVersion { .. })) => {
            sink.emit(&UNSUPPORTED, 0, || e.to_string());
            return;
        }
        Some(e) => {
            let offset = match e {
                FormatError::Truncated { offset, .. } | FormatError::Malformed { offset, .. } => {
                    *offset
                }
                _ => 0,
            };
            sink.emit(&MALFORMED, offset, || format!("GGUF header: {e}"));
        }
        None => {}
    }
    let mut keys = HashSet::new();
    for kv in &header.kvs {
        if !keys.insert(kv.key) {
            sink.emit(&DUPLICATE_KEY, kv.offset as u64, || {
                format!(
                    "metadata key `{}` appears more than once",
                    preview_bytes(kv.key, 100)
                )
            });
        }
        if let (true, Val::Str { bytes, offset }) = (is_chat_template_key(kv.key), &kv.value) {
            check_template(&mut sink, kv.key, bytes, *offset);
        }
    }
    let alignment = match header.alignment_checked() {
        Ok(a) => a,
        Err((at, why)) => {
            sink.emit(&BAD_ALIGNMENT, at as u64, || {
                format!("general.alignment {why}; using {DEFAULT_ALIGNMENT}")
            });
            DEFAULT_ALIGNMENT
        }
    };
    if error.is_none() {
        check_tensors(&mut sink, data, &header, alignment);
    }
}

fn is_chat_template_key(key: &[u8]) -> bool {
    key == b"tokenizer.chat_template" || key.starts_with(b"tokenizer.chat_template.")
}

fn check_template(sink: &mut Sink<'_>, key: &[u8], bytes: &[u8], offset: usize) {
    let template = String::from_utf8_lossy(bytes);
    for issue in check_chat_template(&template) {
        let rule = if issue.severity >= Severity::High {
            &TEMPLATE_INJECTION
        } else {
            &TEMPLATE_SUSPICIOUS
        };
        // Offsets are exact while the template is valid UTF-8 (lossy decoding keeps byte positions then).
        sink.emit(
            rule,
            (offset + issue.offset.min(bytes.len())) as u64,
            || {
                format!(
                    "{} in `{}`: {}",
                    issue.what,
                    preview_bytes(key, 80),
                    issue.excerpt
                )
            },
        );
    }
}

fn check_tensors(sink: &mut Sink<'_>, data: &[u8], header: &Header<'_>, alignment: u64) {
    let Some(data_start) = (header.infos_end as u64).checked_next_multiple_of(alignment) else {
        return;
    };
    let mut names = HashSet::new();
    let mut extents: Vec<(u64, u64, &[u8])> = Vec::new();
    for t in &header.tensors {
        let name = || preview_bytes(t.name, 100);
        if !names.insert(t.name) {
            sink.emit(&DUPLICATE_TENSOR, t.info_offset as u64, || {
                format!("tensor `{}` is defined twice", name())
            });
        }
        if t.data_offset % alignment != 0 {
            sink.emit(&MISALIGNED_TENSOR, t.info_offset as u64, || {
                format!(
                    "tensor `{}` starts at data offset {}, not a multiple of {alignment}",
                    name(),
                    t.data_offset
                )
            });
        }
        let Some(ty) = ggml_type(t.ggml_type) else {
            sink.emit(&UNKNOWN_TENSOR_TYPE, t.info_offset as u64, || {
                format!(
                    "tensor `{}` has ggml type {}, unknown here",
                    name(),
                    t.ggml_type
                )
            });
            continue;
        };
        let size = match tensor_bytes(&t.dims, ty) {
            Ok(s) => s,
            Err(why) => {
                sink.emit(&MALFORMED, t.info_offset as u64, || {
                    format!("tensor `{}`: {why}", name())
                });
                continue;
            }
        };
        let start = data_start.checked_add(t.data_offset);
        let end = start.and_then(|s| s.checked_add(size));
        match (start, end) {
            (Some(s), Some(e)) if e <= data.len() as u64 => {
                if size > 0 {
                    extents.push((s, e, t.name));
                }
            }
            _ => sink.emit(&TENSOR_OUT_OF_BOUNDS, t.info_offset as u64, || {
                format!(
                    "tensor `{}` ({} {:?}, {size} bytes at data offset {}) ends past the end of the {}-byte file",
                    name(),
                    ty.name,
                    t.dims,
                    t.data_offset,
                    data.len()
                )
            }),
        }
    }
    extents.sort_unstable();
    let mut furthest: Option<(u64, &[u8])> = None;
    for &(start, end, name) in &extents {
        if let Some((prev_end, prev)) = furthest
            && start < prev_end
        {
            sink.emit(&OVERLAPPING_TENSORS, start, || {
                format!(
                    "tensor `{}` overlaps tensor `{}`",
                    preview_bytes(name, 100),
                    preview_bytes(prev, 100)
                )
            });
        }
        if furthest.is_none_or(|(e, _)| end > e) {
            furthest = Some((end, name));
        }
    }
}

/// Bytes a tensor of this shape occupies; errors when the row size is not a whole number of blocks or the
/// size overflows.
fn tensor_bytes(dims: &[u64], ty: &GgmlType) -> Result<u64, String> {
    let Some((&ne0, rest)) = dims.split_first() else {
        return Ok(ty.type_size);
    };
    if ne0 % ty.block_size != 0 {
        return Err(format!(
            "first dimension {ne0} is not a multiple of the {} block size {}",
            ty.name, ty.block_size
        ));
    }
    rest.iter()
        .try_fold(
            (ne0 / ty.block_size).checked_mul(ty.type_size),
            |acc, &d| Some(acc?.checked_mul(d)),
        )
        .flatten()
        .filter(|&b| b <= i64::MAX as u64)
        .ok_or_else(|| {
            format!(
                "shape {dims:?} of type {} overflows a 64-bit byte size",
                ty.name
            )
        })
}

/// A metadata value; arrays are skipped over, not kept.
#[derive(Debug)]
enum Val<'a> {
    Uint(u64),
    Int(i64),
    /// A float or bool: not needed by any check, skipped.
    Other,
    Str {
        bytes: &'a [u8],
        offset: usize,
    },
    Array,
}

#[derive(Debug)]
struct Kv<'a> {
    key: &'a [u8],
    offset: usize,
    value: Val<'a>,
    value_type: u32,
}

#[derive(Debug)]
struct TensorInfo<'a> {
    name: &'a [u8],
    info_offset: usize,
    dims: Vec<u64>,
    ggml_type: u32,
    data_offset: u64,
}

#[derive(Debug, Default)]
struct Header<'a> {
    version: u32,
    tensor_count: u64,
    kv_count: u64,
    kvs: Vec<Kv<'a>>,
    tensors: Vec<TensorInfo<'a>>,
    infos_end: usize,
}

impl Header<'_> {
    fn alignment(&self) -> Option<u64> {
        self.alignment_checked().ok()
    }

    /// `general.alignment`, or the default when absent; an error with the key's offset when invalid.
    fn alignment_checked(&self) -> Result<u64, (usize, String)> {
        let Some(kv) = self.kvs.iter().find(|kv| kv.key == b"general.alignment") else {
            return Ok(DEFAULT_ALIGNMENT);
        };
        match (&kv.value, kv.value_type) {
            (Val::Uint(a), 4) if *a > 0 && a.is_power_of_two() => Ok(*a),
            (Val::Uint(a), 4) => Err((kv.offset, format!("is {a}, not a non-zero power of two"))),
            (v, t) => Err((kv.offset, format!("has value type {t} ({v:?}), not u32"))),
        }
    }
}

/// Parses as much of the header as is well formed; the error, if any, says where parsing stopped.
fn parse(data: &[u8]) -> (Header<'_>, Option<FormatError>) {
    let mut header = Header::default();
    let error = parse_into(data, &mut header).err();
    (header, error)
}

fn parse_into<'a>(data: &'a [u8], h: &mut Header<'a>) -> Result<(), FormatError> {
    let mut c = Cursor::new(data, 0);
    if c.bytes(4, "magic").ok() != Some(&MAGIC[..]) {
        return Err(FormatError::BadMagic { format: "GGUF" });
    }
    h.version = c.u32("version")?;
    if !matches!(h.version, 2 | 3) {
        return Err(FormatError::UnsupportedVersion {
            format: "GGUF",
            version: u64::from(h.version),
        });
    }
    h.tensor_count = c.u64("tensor count")?;
    h.kv_count = c.u64("metadata count")?;
    fits(&c, h.kv_count, MIN_KV_BYTES, "metadata entries")?;
    for _ in 0..h.kv_count {
        let offset = c.pos();
        let key = string(&mut c, "metadata key")?;
        let value_type = c.u32("value type")?;
        let value = value(&mut c, value_type, 0)?;
        h.kvs.push(Kv {
            key,
            offset,
            value,
            value_type,
        });
    }
    fits(&c, h.tensor_count, MIN_TENSOR_INFO_BYTES, "tensor infos")?;
    for _ in 0..h.tensor_count {
        let info_offset = c.pos();
        let name = string(&mut c, "tensor name")?;
        let n_dims = c.u32("dimension count")?;
        if n_dims > MAX_DIMS {
            return Err(malformed(
                info_offset,
                format!("tensor has {n_dims} dimensions, more than {MAX_DIMS}"),
            ));
        }
        let mut dims = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            let d = c.u64("dimension")?;
            if d > i64::MAX as u64 {
                return Err(malformed(
                    c.pos() - 8,
                    format!("dimension {d} exceeds the signed 64-bit range ggml uses"),
                ));
            }
            dims.push(d);
        }
        if dims
            .iter()
            .try_fold(1u64, |a, &d| a.checked_mul(d))
            .is_none_or(|n| n > i64::MAX as u64)
        {
            return Err(malformed(
                info_offset,
                format!("element count of shape {dims:?} overflows"),
            ));
        }
        let ggml_type = c.u32("tensor type")?;
        let data_offset = c.u64("tensor offset")?;
        h.tensors.push(TensorInfo {
            name,
            info_offset,
            dims,
            ggml_type,
            data_offset,
        });
    }
    h.infos_end = c.pos();
    Ok(())
}

fn malformed(offset: usize, reason: String) -> FormatError {
    FormatError::Malformed {
        offset: offset as u64,
        reason,
    }
}

/// Rejects a count whose smallest encoding would not fit in the remaining bytes.
fn fits(c: &Cursor<'_>, count: u64, min_bytes: usize, what: &str) -> Result<(), FormatError> {
    if count > (c.remaining() / min_bytes) as u64 {
        return Err(malformed(
            c.pos(),
            format!(
                "{count} {what} cannot fit in the {} bytes that remain",
                c.remaining()
            ),
        ));
    }
    Ok(())
}

fn string<'a>(c: &mut Cursor<'a>, what: &'static str) -> Result<&'a [u8], FormatError> {
    let at = c.pos();
    let len = c.u64(what)?;
    if len > c.remaining() as u64 {
        return Err(malformed(
            at,
            format!("{what} of {len} bytes runs past the end of the file"),
        ));
    }
    c.bytes(len as usize, what)
}

/// Encoded size of a fixed-size value type.
fn scalar_size(value_type: u32) -> Option<usize> {
    match value_type {
        0 | 1 | 7 => Some(1),
        2 | 3 => Some(2),
        4..=6 => Some(4),
        10..=12 => Some(8),
        _ => None,
    }
}

fn value<'a>(c: &mut Cursor<'a>, value_type: u32, depth: usize) -> Result<Val<'a>, FormatError> {
    let at = c.pos();
    Ok(match value_type {
        0 => Val::Uint(u64::from(c.u8("u8")?)),
        1 => Val::Int(i64::from(c.u8("i8")? as i8)),
        2 => Val::Uint(u64::from(c.u16("u16")?)),
        3 => Val::Int(i64::from(c.u16("i16")? as i16)),
        4 => Val::Uint(u64::from(c.u32("u32")?)),
        5 => Val::Int(i64::from(c.u32("i32")? as i32)),
        6 => {
            c.u32("f32")?;
            Val::Other
        }
        7 => {
            c.u8("bool")?;
            Val::Other
        }
        8 => {
            let bytes = string(c, "string value")?;
            Val::Str {
                bytes,
                offset: at + 8,
            }
        }
        9 => {
            if depth >= MAX_ARRAY_DEPTH {
                return Err(malformed(
                    at,
                    format!("arrays nested more than {MAX_ARRAY_DEPTH} deep"),
                ));
            }
            let elem_type = c.u32("array element type")?;
            let count = c.u64("array length")?;
            match scalar_size(elem_type) {
                Some(size) => {
                    let total = count
                        .checked_mul(size as u64)
                        .filter(|&t| t <= c.remaining() as u64)
                        .ok_or_else(|| {
                            malformed(
                                at,
                                format!("array of {count} values runs past the end of the file"),
                            )
                        })?;
                    c.bytes(total as usize, "array")?;
                }
                None if matches!(elem_type, 8 | 9) => {
                    let min = if elem_type == 8 { 8 } else { 12 };
                    fits(c, count, min, "array elements")?;
                    for _ in 0..count {
                        value(c, elem_type, depth + 1)?;
                    }
                }
                None => {
                    return Err(malformed(
                        at,
                        format!("array element type {elem_type} is not a GGUF type"),
                    ));
                }
            }
            Val::Array
        }
        10 => Val::Uint(c.u64("u64")?),
        11 => Val::Int(c.u64("i64")? as i64),
        12 => {
            c.u64("f64")?;
            Val::Other
        }
        t => {
            return Err(malformed(
                at.saturating_sub(4),
                format!("value type {t} is not a GGUF type"),
            ));
        }
    })
}

/// A ggml tensor type: elements per block and bytes per block.
#[derive(Debug)]
struct GgmlType {
    name: &'static str,
    block_size: u64,
    type_size: u64,
}

/// ggml types by id (ggml.h `enum ggml_type`); ids retired from the format are absent.
fn ggml_type(id: u32) -> Option<&'static GgmlType> {
    const fn t(name: &'static str, block_size: u64, type_size: u64) -> GgmlType {
        GgmlType {
            name,
            block_size,
            type_size,
        }
    }
    static TYPES: &[(u32, GgmlType)] = &[
        (0, t("F32", 1, 4)),
        (1, t("F16", 1, 2)),
        (2, t("Q4_0", 32, 18)),
        (3, t("Q4_1", 32, 20)),
        (6, t("Q5_0", 32, 22)),
        (7, t("Q5_1", 32, 24)),
        (8, t("Q8_0", 32, 34)),
        (9, t("Q8_1", 32, 36)),
        (10, t("Q2_K", 256, 84)),
        (11, t("Q3_K", 256, 110)),
        (12, t("Q4_K", 256, 144)),
        (13, t("Q5_K", 256, 176)),
        (14, t("Q6_K", 256, 210)),
        (15, t("Q8_K", 256, 292)),
        (16, t("IQ2_XXS", 256, 66)),
        (17, t("IQ2_XS", 256, 74)),
        (18, t("IQ3_XXS", 256, 98)),
        (19, t("IQ1_S", 256, 50)),
        (20, t("IQ4_NL", 32, 18)),
        (21, t("IQ3_S", 256, 110)),
        (22, t("IQ2_S", 256, 82)),
        (23, t("IQ4_XS", 256, 136)),
        (24, t("I8", 1, 1)),
        (25, t("I16", 1, 2)),
        (26, t("I32", 1, 4)),
        (27, t("I64", 1, 8)),
        (28, t("F64", 1, 8)),
        (29, t("IQ1_M", 256, 56)),
        (30, t("BF16", 1, 2)),
        (34, t("TQ1_0", 256, 54)),
        (35, t("TQ2_0", 256, 66)),
        (39, t("MXFP4", 32, 17)),
    ];
    TYPES.iter().find(|(i, _)| *i == id).map(|(_, t)| t)
}

/// llama.cpp's `llama_ftype` names (`general.file_type`).
fn file_type_name(id: u32) -> Option<&'static str> {
    Some(match id {
        0 => "F32",
        1 => "F16",
        2 => "Q4_0",
        3 => "Q4_1",
        7 => "Q8_0",
        8 => "Q5_0",
        9 => "Q5_1",
        10 => "Q2_K",
        11 => "Q3_K_S",
        12 => "Q3_K_M",
        13 => "Q3_K_L",
        14 => "Q4_K_S",
        15 => "Q4_K_M",
        16 => "Q5_K_S",
        17 => "Q5_K_M",
        18 => "Q6_K",
        19 => "IQ2_XXS",
        20 => "IQ2_XS",
        21 => "Q2_K_S",
        22 => "IQ3_XS",
        23 => "IQ3_XXS",
        24 => "IQ1_S",
        25 => "IQ4_NL",
        26 => "IQ3_S",
        27 => "IQ3_M",
        28 => "IQ2_S",
        29 => "IQ2_M",
        30 => "IQ4_XS",
        31 => "IQ1_M",
        32 => "BF16",
        36 => "TQ1_0",
        37 => "TQ2_0",
        38 => "MXFP4_MOE",
        _ => return None,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds GGUF files in tests; mirrors the fixture script.
    #[derive(Default)]
    pub(crate) struct Builder {
        kvs: Vec<u8>,
        kv_count: u64,
        infos: Vec<u8>,
        tensor_count: u64,
        data: Vec<u8>,
        pub(crate) alignment: u64,
    }

    fn gstr(s: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(&(s.len() as u64).to_le_bytes());
        out.extend_from_slice(s);
    }

    impl Builder {
        pub(crate) fn new() -> Self {
            Builder {
                alignment: 32,
                ..Default::default()
            }
        }

        pub(crate) fn kv_str(mut self, key: &str, v: &str) -> Self {
            gstr(key.as_bytes(), &mut self.kvs);
            self.kvs.extend_from_slice(&8u32.to_le_bytes());
            gstr(v.as_bytes(), &mut self.kvs);
            self.kv_count += 1;
            self
        }

        pub(crate) fn kv_u32(mut self, key: &str, v: u32) -> Self {
            gstr(key.as_bytes(), &mut self.kvs);
            self.kvs.extend_from_slice(&4u32.to_le_bytes());
            self.kvs.extend_from_slice(&v.to_le_bytes());
            self.kv_count += 1;
            self
        }

        pub(crate) fn kv_raw(mut self, key: &str, value_type: u32, raw: &[u8]) -> Self {
            gstr(key.as_bytes(), &mut self.kvs);
            self.kvs.extend_from_slice(&value_type.to_le_bytes());
            self.kvs.extend_from_slice(raw);
            self.kv_count += 1;
            self
        }

        /// A tensor at an explicit data offset with `bytes` of data appended at that offset.
        pub(crate) fn tensor(
            mut self,
            name: &str,
            dims: &[u64],
            ty: u32,
            offset: u64,
            bytes: usize,
        ) -> Self {
            gstr(name.as_bytes(), &mut self.infos);
            self.infos
                .extend_from_slice(&(dims.len() as u32).to_le_bytes());
            for d in dims {
                self.infos.extend_from_slice(&d.to_le_bytes());
            }
            self.infos.extend_from_slice(&ty.to_le_bytes());
            self.infos.extend_from_slice(&offset.to_le_bytes());
            let end = offset as usize + bytes;
            if self.data.len() < end {
                self.data.resize(end, 0);
            }
            self.tensor_count += 1;
            self
        }

        pub(crate) fn build(self) -> Vec<u8> {
            let mut out = b"GGUF".to_vec();
            out.extend_from_slice(&3u32.to_le_bytes());
            out.extend_from_slice(&self.tensor_count.to_le_bytes());
            out.extend_from_slice(&self.kv_count.to_le_bytes());
            out.extend_from_slice(&self.kvs);
            out.extend_from_slice(&self.infos);
            out.resize(out.len().next_multiple_of(self.alignment as usize), 0);
            out.extend_from_slice(&self.data);
            out
        }
    }

    fn rules(data: &[u8]) -> Vec<&'static str> {
        let mut out = Vec::new();
        scan(data, &mut out);
        out.iter().map(|f| f.rule).collect()
    }

    fn benign() -> Builder {
        let mut tokens = Vec::new();
        tokens.extend_from_slice(&8u32.to_le_bytes());
        tokens.extend_from_slice(&3u64.to_le_bytes());
        for t in ["<s>", "</s>", "hi"] {
            gstr(t.as_bytes(), &mut tokens);
        }
        Builder::new()
            .kv_str("general.architecture", "llama")
            .kv_str("general.name", "Tiny")
            .kv_str("general.license", "apache-2.0")
            .kv_u32("llama.context_length", 4096)
            .kv_u32("general.file_type", 15)
            .kv_raw("tokenizer.ggml.tokens", 9, &tokens)
            .kv_str("tokenizer.chat_template", "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] }}{% endfor %}")
            .tensor("tok_embd.weight", &[256, 4], 12, 0, 4 * 144)
            .tensor("output_norm.weight", &[8], 0, 576, 32)
    }

    #[test]
    fn benign_file_is_safe_and_described() {
        let data = benign().build();
        assert_eq!(rules(&data), Vec::<&str>::new());
        let info = metadata(&data).unwrap();
        assert_eq!(info.architecture.as_deref(), Some("llama"));
        assert_eq!(info.context_length, Some(4096));
        assert_eq!(info.file_type_name, Some("Q4_K_M"));
        assert_eq!(info.parameter_count, 256 * 4 + 8);
        assert_eq!(info.tensor_types.get("Q4_K"), Some(&1));
        assert_eq!(info.chat_templates, ["tokenizer.chat_template"]);
    }

    #[test]
    fn template_injection_points_into_the_template() {
        let evil = "{{ cycler.__init__.__globals__.os.popen('id').read() }}";
        let data = Builder::new()
            .kv_str("tokenizer.chat_template.tool_use", evil)
            .build();
        let mut out = Vec::new();
        scan(&data, &mut out);
        assert!(
            out.iter().all(|f| f.rule == "gguf.template-injection"),
            "{out:#?}"
        );
        assert!(
            out[0]
                .explanation
                .contains("tokenizer.chat_template.tool_use")
        );
        assert_eq!(&data[out[0].offset as usize..][..6], b"cycler");
    }

    #[test]
    fn tensor_table_problems() {
        let data = Builder::new()
            .tensor("a", &[32], 0, 0, 128)
            .tensor("b", &[32], 0, 64, 128)
            .tensor("a", &[4], 0, 256, 16)
            .tensor("c", &[8], 0, 300, 0)
            .tensor("d", &[10], 2, 512, 0)
            .tensor("e", &[4], 77, 512, 0)
            .tensor("f", &[1 << 20, 1 << 20], 0, 1024, 0)
            .build();
        assert_eq!(
            rules(&data),
            [
                "gguf.duplicate-tensor",
                "gguf.misaligned-tensor",
                "gguf.malformed",
                "gguf.unknown-tensor-type",
                "gguf.tensor-out-of-bounds",
                "gguf.overlapping-tensors"
            ]
        );
    }

    #[test]
    fn alignment_and_duplicates() {
        let data = Builder::new()
            .kv_u32("general.alignment", 48)
            .kv_u32("general.alignment", 48)
            .build();
        assert_eq!(rules(&data), ["gguf.duplicate-key", "gguf.bad-alignment"]);
        let mut b = Builder::new()
            .kv_u32("general.alignment", 64)
            .tensor("x", &[16], 0, 64, 64);
        b.alignment = 64;
        assert_eq!(rules(&b.build()), Vec::<&str>::new());
    }

    #[test]
    fn hostile_headers() {
        let mut huge_count = b"GGUF\x03\x00\x00\x00".to_vec();
        huge_count.extend_from_slice(&0u64.to_le_bytes());
        huge_count.extend_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(rules(&huge_count), ["gguf.malformed"]);
        let long_string = Builder::new()
            .kv_raw("k", 8, &u64::MAX.to_le_bytes())
            .build();
        assert_eq!(rules(&long_string), ["gguf.malformed"]);
        let mut big_array = 4u32.to_le_bytes().to_vec();
        big_array.extend_from_slice(&(u64::MAX / 2).to_le_bytes());
        assert_eq!(
            rules(&Builder::new().kv_raw("k", 9, &big_array).build()),
            ["gguf.malformed"]
        );
        let mut nested = Vec::new();
        for _ in 0..6 {
            nested.extend_from_slice(&9u32.to_le_bytes());
            nested.extend_from_slice(&1u64.to_le_bytes());
        }
        assert_eq!(
            rules(&Builder::new().kv_raw("k", 9, &nested).build()),
            ["gguf.malformed"]
        );
        assert_eq!(
            rules(&Builder::new().kv_raw("k", 13, &[]).build()),
            ["gguf.malformed"]
        );
        assert_eq!(
            rules(
                &Builder::new()
                    .tensor("t", &[1, 1, 1, 1, 1], 0, 0, 0)
                    .build()
            ),
            ["gguf.malformed"]
        );
        assert_eq!(rules(b"GGUF\x01\x00\x00\x00"), ["gguf.unsupported"]);
        assert_eq!(rules(b"GGUF\x00\x00\x00\x03"), ["gguf.unsupported"]);
        assert_eq!(rules(b"GGML"), ["gguf.unsupported"]);
        assert!(metadata(&huge_count).is_err());
    }

    #[test]
    fn every_truncation_is_handled() {
        let data = benign().build();
        for cut in 0..data.len() {
            let mut out = Vec::new();
            scan(&data[..cut], &mut out);
            assert!(
                !out.is_empty() || cut == data.len(),
                "cut at {cut} went unnoticed"
            );
        }
    }

    #[test]
    fn type_table_sizes() {
        assert_eq!(ggml_type(12).map(|t| t.type_size), Some(144));
        assert!(ggml_type(4).is_none());
        assert!(ggml_type(u32::MAX).is_none());
        let q4k = ggml_type(12).unwrap();
        assert_eq!(
            tensor_bytes(&[4096, 4096], q4k),
            Ok(4096 / 256 * 144 * 4096)
        );
        assert!(tensor_bytes(&[100], q4k).is_err());
        assert!(tensor_bytes(&[u64::MAX - 255, u64::MAX], ggml_type(0).unwrap()).is_err());
    }
}
