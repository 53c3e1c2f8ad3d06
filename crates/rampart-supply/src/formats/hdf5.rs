//! Legacy Keras `.h5` files: find the `model_config` (and `training_config`) attribute and check its JSON
//! with [`super::keras::scan_config`].
//!
//! What is parsed:
//! - the superblock signature, searched at 0, 512, 1024, ... as the HDF5 spec allows a user block before
//!   it, and the superblock's version, offset and length sizes and base address (versions 0 to 3);
//! - attribute messages (object header message type 0x000C, versions 1, 2 and 3) named `model_config` or
//!   `training_config`: they are located by their NUL-terminated name, then the message header just before
//!   the name is checked (version, name size 13 or 16, datatype and dataspace sizes), then the datatype
//!   (fixed-length string, class 3, or variable-length string, class 9) and the dataspace (one element);
//! - for a variable-length string, the global heap collection (`GCOL`) the value points to.
//!
//! What is not parsed: the object header and B-tree structure that leads to the root group (a candidate
//! message is trusted when its own header is consistent, not because a walk from the superblock reached
//! it), shared datatypes or dataspaces, attributes stored in compressed or filtered storage, and datasets.
//! When no attribute message can be decoded, a documented fallback searches the file for JSON objects that
//! begin with `{"class_name"` or `{"module"` and checks those (rule `hdf5.config-heuristic`, info).

use memchr::memmem;
use rampart_core::Severity;

use super::{Cursor, FormatError, Rule, Sink, keras};
use crate::report::ModelFinding;

pub static MALFORMED: Rule = Rule {
    id: "hdf5.malformed",
    severity: Severity::Medium,
    summary: "No HDF5 signature, or a superblock that cannot be read.",
};
pub static CONFIG_HEURISTIC: Rule = Rule {
    id: "hdf5.config-heuristic",
    severity: Severity::Info,
    summary: "The model config was found by searching for its JSON, not through an attribute message.",
};
pub static NO_MODEL_CONFIG: Rule = Rule {
    id: "hdf5.no-model-config",
    severity: Severity::Info,
    summary: "No Keras model config in the file (a weights-only file); nothing in it names code to run.",
};

const SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";
const ATTRIBUTE_NAMES: [&str; 2] = ["model_config", "training_config"];
/// Candidate name occurrences examined per attribute name: a real file has one or two.
const MAX_CANDIDATES: usize = 64;
/// JSON objects tried by the fallback search.
const MAX_FALLBACK: usize = 16;

/// Whether `data` has an HDF5 superblock signature at one of the offsets the format allows.
pub fn sniff(data: &[u8]) -> bool {
    find_superblock(data).is_some()
}

/// Finds the Keras config attributes of an HDF5 file and checks their JSON; offsets in findings are file
/// offsets. Cost: a signature check, one substring search per attribute name over the whole file and a
/// JSON parse of each config found; tensor data is never copied.
pub fn scan(data: &[u8], out: &mut Vec<ModelFinding>) {
    let mut sink = Sink::new(out);
    let superblock = match find_superblock(data).map(|at| Superblock::parse(data, at)) {
        None => {
            sink.emit(&MALFORMED, 0, || {
                "no HDF5 superblock signature at offset 0, 512, 1024, ...".to_string()
            });
            return;
        }
        Some(Err(e)) => {
            sink.emit(&MALFORMED, 0, || format!("unreadable superblock: {e}"));
            return;
        }
        Some(Ok(sb)) => sb,
    };
    let mut configs = Vec::new();
    for name in ATTRIBUTE_NAMES {
        let mut pattern = name.as_bytes().to_vec();
        pattern.push(0);
        for at in memmem::find_iter(data, &pattern).take(MAX_CANDIDATES) {
            if let Some(value) = attribute_value(data, &superblock, at, name.len() + 1) {
                configs.push(value);
            }
        }
    }
    // Findings from the configs go straight to `out`; keep this sink's own findings ordered before them.
    drop(sink);
    if !configs.is_empty() {
        for (start, json) in configs {
            keras::scan_config_at(json, start as u64, out);
        }
        return;
    }
    let mut sink = Sink::new(out);
    let mut starts: Vec<usize> = [&b"{\"class_name\""[..], b"{\"module\""]
        .iter()
        .flat_map(|prefix| memmem::find_iter(data, prefix).take(MAX_FALLBACK))
        .collect();
    starts.sort_unstable();
    let mut found = Vec::new();
    let mut covered = 0;
    for at in starts {
        // An object inside one already parsed is part of that config, not another one.
        if at < covered {
            continue;
        }
        let mut stream =
            serde_json::Deserializer::from_slice(&data[at..]).into_iter::<serde_json::Value>();
        if let Some(Ok(v)) = stream.next()
            && v.get("class_name").is_some()
        {
            covered = at + stream.byte_offset();
            found.push((at, &data[at..covered]));
        }
    }
    if found.is_empty() {
        sink.emit(&NO_MODEL_CONFIG, 0, || {
            "no model_config attribute: weights only".to_string()
        });
        return;
    }
    for (at, _) in &found {
        sink.emit(&CONFIG_HEURISTIC, *at as u64, || {
            "Keras config located by searching for its JSON; no attribute message named model_config decoded"
                .to_string()
        });
    }
    drop(sink);
    for (at, json) in found {
        keras::scan_config_at(json, at as u64, out);
    }
}

fn find_superblock(data: &[u8]) -> Option<usize> {
    let mut at = 0usize;
    while at.checked_add(SIGNATURE.len())? <= data.len() {
        if &data[at..at + SIGNATURE.len()] == SIGNATURE {
            return Some(at);
        }
        at = if at == 0 { 512 } else { at.checked_mul(2)? };
    }
    None
}

/// The superblock fields needed to follow a global heap address.
#[derive(Debug)]
struct Superblock {
    offset_size: u8,
    length_size: u8,
    base: u64,
}

impl Superblock {
    fn parse(data: &[u8], at: usize) -> Result<Self, FormatError> {
        let mut c = Cursor::new(data, at + SIGNATURE.len());
        let version = c.u8("superblock version")?;
        let (offset_size, length_size) = match version {
            0 | 1 => {
                c.bytes(4, "superblock versions")?;
                (c.u8("size of offsets")?, c.u8("size of lengths")?)
            }
            2 | 3 => (c.u8("size of offsets")?, c.u8("size of lengths")?),
            v => {
                return Err(FormatError::UnsupportedVersion {
                    format: "HDF5 superblock",
                    version: u64::from(v),
                });
            }
        };
        for size in [offset_size, length_size] {
            if !matches!(size, 2 | 4 | 8) {
                return Err(FormatError::Malformed {
                    offset: (at + 13) as u64,
                    reason: format!("offset/length size {size} is not 2, 4 or 8"),
                });
            }
        }
        let base_at = match version {
            0 => at + 24,
            1 => at + 28,
            _ => at + 12,
        };
        let base = Cursor::new(data, base_at).uint(offset_size, "base address")?;
        Ok(Superblock {
            offset_size,
            length_size,
            base,
        })
    }
}

/// The string value of the attribute message whose name starts at `name_at`, with its file offset, when
/// the bytes around it form a consistent attribute message.
fn attribute_value<'a>(
    data: &'a [u8],
    sb: &Superblock,
    name_at: usize,
    name_size: usize,
) -> Option<(usize, &'a [u8])> {
    let size16 = |at: usize| {
        data.get(at..at + 2)
            .map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])))
    };
    let pad8 = |n: usize| n.div_ceil(8) * 8;
    // (version, header start): version 3 has an extra encoding byte before the name.
    for (version, header) in [
        (3u8, name_at.checked_sub(9)?),
        (1, name_at.checked_sub(8)?),
        (2, name_at.checked_sub(8)?),
    ] {
        if data.get(header) != Some(&version) || size16(header + 2) != Some(name_size) {
            continue;
        }
        let flags = data[header + 1];
        if version == 1 && flags != 0 {
            continue;
        }
        // Shared datatype or dataspace messages are stored elsewhere; not followed.
        if version >= 2 && flags & 0b11 != 0 {
            continue;
        }
        if version == 3 && data.get(header + 8).is_none_or(|&e| e > 1) {
            continue;
        }
        let (dt_size, ds_size) = (size16(header + 4)?, size16(header + 6)?);
        let (dt_at, ds_at, value_at) = if version == 1 {
            let dt_at = name_at + pad8(name_size);
            (
                dt_at,
                dt_at + pad8(dt_size),
                dt_at + pad8(dt_size) + pad8(ds_size),
            )
        } else {
            let dt_at = name_at + name_size;
            (dt_at, dt_at + dt_size, dt_at + dt_size + ds_size)
        };
        let datatype = data.get(dt_at..dt_at.checked_add(dt_size)?)?;
        let dataspace = data.get(ds_at..ds_at.checked_add(ds_size)?)?;
        if !single_element(dataspace, sb.length_size) || datatype.len() < 8 {
            continue;
        }
        let class = datatype[0] & 0x0f;
        let size =
            u32::from_le_bytes([datatype[4], datatype[5], datatype[6], datatype[7]]) as usize;
        let value = match class {
            // Fixed-length string: the value is inline, padded with NULs or spaces.
            3 => data
                .get(value_at..value_at.checked_add(size)?)
                .map(|v| (value_at, v)),
            // Variable-length: sequence length, global heap collection address, object index.
            9 if datatype[1] & 0x0f == 1 => vlen_string(data, sb, value_at),
            _ => None,
        };
        if let Some((at, v)) = value {
            let end = v
                .iter()
                .rposition(|&b| b != 0 && b != b' ')
                .map_or(0, |p| p + 1);
            return Some((at, &v[..end]));
        }
    }
    None
}

/// Whether a dataspace message describes exactly one element (scalar, or one dimension of size 1).
fn single_element(ds: &[u8], length_size: u8) -> bool {
    let (Some(&version), Some(&rank)) = (ds.first(), ds.get(1)) else {
        return false;
    };
    let dims_at = match version {
        1 => 8,
        2 => {
            // Type 0 is scalar, 1 simple, 2 null (no element).
            match ds.get(3) {
                Some(0) => return true,
                Some(1) => 4,
                _ => return false,
            }
        }
        _ => return false,
    };
    if rank == 0 {
        return version == 1;
    }
    let mut c = Cursor::new(ds, dims_at);
    rank == 1 && c.uint(length_size, "dimension").is_ok_and(|d| d == 1)
}

/// Follows a variable-length string reference into its global heap collection.
fn vlen_string<'a>(data: &'a [u8], sb: &Superblock, value_at: usize) -> Option<(usize, &'a [u8])> {
    let mut c = Cursor::new(data, value_at);
    let length = c.u32("sequence length").ok()? as usize;
    let address = c.uint(sb.offset_size, "heap address").ok()?;
    let index = c.u32("heap index").ok()?;
    let collection = usize::try_from(sb.base.checked_add(address)?).ok()?;
    if data.get(collection..collection + 5)? != b"GCOL\x01" {
        return None;
    }
    let mut c = Cursor::new(data, collection + 8);
    let collection_size = usize::try_from(c.uint(sb.length_size, "collection size").ok()?).ok()?;
    let end = collection.checked_add(collection_size)?.min(data.len());
    while c.pos() + 16 <= end {
        let object_index = c.u16("object index").ok()?;
        c.bytes(6, "object header").ok()?;
        let size = usize::try_from(c.uint(sb.length_size, "object size").ok()?).ok()?;
        if object_index == 0 {
            return None;
        }
        let at = c.pos();
        let bytes = c
            .bytes(size.div_ceil(8).checked_mul(8)?, "heap object")
            .ok()?;
        if u32::from(object_index) == index {
            return Some((at, bytes.get(..length.min(size))?));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(data: &[u8]) -> Vec<&'static str> {
        let mut out = Vec::new();
        scan(data, &mut out);
        out.iter().map(|f| f.rule).collect()
    }

    /// A version 0 superblock followed by a version 1 attribute message holding `json` as a fixed string.
    fn v1_file(json: &str) -> Vec<u8> {
        let mut d = SIGNATURE.to_vec();
        d.extend_from_slice(&[0, 0, 0, 0, 0, 8, 8, 0, 4, 0, 16, 0, 0, 0, 0, 0]);
        d.extend_from_slice(&[0; 8]); // base address
        d.resize(64, 0);
        let name = b"model_config\0\0\0\0";
        let mut datatype = vec![0x13, 0, 0, 0];
        datatype.extend_from_slice(&(json.len() as u32).to_le_bytes());
        let dataspace = [1u8, 0, 0, 0, 0, 0, 0, 0];
        d.extend_from_slice(&[1, 0, 13, 0, 8, 0, 8, 0]);
        d.extend_from_slice(name);
        d.extend_from_slice(&datatype);
        d.extend_from_slice(&dataspace);
        d.extend_from_slice(json.as_bytes());
        d.extend_from_slice(&[0; 8]);
        d
    }

    #[test]
    fn reads_fixed_string_attribute() {
        let lambda = r#"{"class_name":"Sequential","config":{"layers":[{"class_name":"Lambda","config":{"name":"x","function":"system","function_type":"function","module":"os"}}]}}"#;
        assert_eq!(rules(&v1_file(lambda)), ["keras.lambda-layer"]);
        assert_eq!(
            rules(&v1_file(
                r#"{"class_name":"Sequential","config":{"layers":[]}}"#
            )),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn falls_back_to_json_search_and_reports_it() {
        let mut d = v1_file("{}");
        d[64] = 9; // break the attribute message's version
        d.extend_from_slice(br#"xx{"class_name":"Model","config":{"layers":[{"class_name":"Lambda","config":{}}]}}yy"#);
        assert_eq!(rules(&d), ["hdf5.config-heuristic", "keras.lambda-layer"]);
    }

    #[test]
    fn weights_only_and_garbage() {
        let mut d = SIGNATURE.to_vec();
        d.extend_from_slice(&[2, 8, 8, 0]);
        d.extend_from_slice(&[0; 40]);
        assert_eq!(rules(&d), ["hdf5.no-model-config"]);
        assert_eq!(rules(b"not hdf5"), ["hdf5.malformed"]);
        let mut bad = SIGNATURE.to_vec();
        bad.extend_from_slice(&[0, 0, 0, 0, 0, 3, 8]);
        assert_eq!(rules(&bad), ["hdf5.malformed"]);
        let mut user_block = vec![0u8; 512];
        user_block.extend_from_slice(&d);
        assert!(sniff(&user_block));
    }

    #[test]
    fn truncated_candidates_never_panic() {
        let full = v1_file(r#"{"class_name":"Sequential","config":{}}"#);
        for cut in 0..full.len() {
            let mut out = Vec::new();
            scan(&full[..cut], &mut out);
        }
    }
}
