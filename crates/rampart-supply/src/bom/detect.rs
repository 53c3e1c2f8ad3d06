//! Which files the BOM cares about, and the format name of a model file from its first bytes.
//!
//! This is deliberately shallow: enough to name a format and to refuse a `.bin` that is not a checkpoint.
//! Deep validation is the model scanner's job, and its [`crate::Format`] wins whenever a scan ran.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// What a file is to the BOM, decided from its name alone (content is read later, only for candidates).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A possible model file (by extension, or `saved_model.pb`); [`model_format`] decides.
    ModelCandidate,
    /// A dataset file with its format name.
    Data(&'static str),
    Lockfile(LockKind),
    /// `config.json`, read for model cards.
    HfConfig,
    /// `README.md`, read for YAML front-matter.
    Readme,
    /// `*.json` that counts as data only inside a dataset-card folder.
    Json,
    Other,
}

/// The manifests and lockfiles `rampart bom` parses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LockKind {
    Requirements,
    Poetry,
    Uv,
    Pipfile,
    PackageLock,
    Cargo,
    GoSum,
}

const MODEL_EXTENSIONS: &[&str] = &[
    "safetensors",
    "gguf",
    "onnx",
    "pt",
    "pth",
    "bin",
    "ckpt",
    "pkl",
    "pickle",
    "joblib",
    "h5",
    "hdf5",
    "keras",
    "tflite",
];

/// Classifies a file by its name. `parent_name` is the name of the folder holding it (for
/// `requirements/*.txt`).
pub fn classify(file_name: &str, parent_name: Option<&str>) -> FileKind {
    let lower = file_name.to_ascii_lowercase();
    match lower.as_str() {
        "poetry.lock" => return FileKind::Lockfile(LockKind::Poetry),
        "uv.lock" => return FileKind::Lockfile(LockKind::Uv),
        "pipfile.lock" => return FileKind::Lockfile(LockKind::Pipfile),
        "package-lock.json" | "npm-shrinkwrap.json" => {
            return FileKind::Lockfile(LockKind::PackageLock);
        }
        "cargo.lock" => return FileKind::Lockfile(LockKind::Cargo),
        "go.sum" => return FileKind::Lockfile(LockKind::GoSum),
        "config.json" => return FileKind::HfConfig,
        "readme.md" => return FileKind::Readme,
        "saved_model.pb" => return FileKind::ModelCandidate,
        _ => {}
    }
    let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    if ext == "txt"
        && (lower.starts_with("requirements")
            || parent_name.is_some_and(|p| p.eq_ignore_ascii_case("requirements")))
    {
        return FileKind::Lockfile(LockKind::Requirements);
    }
    if MODEL_EXTENSIONS.contains(&ext) {
        return FileKind::ModelCandidate;
    }
    match ext {
        "jsonl" | "ndjson" => FileKind::Data("jsonl"),
        "csv" => FileKind::Data("csv"),
        "tsv" => FileKind::Data("tsv"),
        "parquet" => FileKind::Data("parquet"),
        "arrow" => FileKind::Data("arrow"),
        "json" => FileKind::Json,
        _ => FileKind::Other,
    }
}

/// What the first bytes of a file say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Magic {
    Safetensors,
    Gguf,
    Zip,
    Hdf5,
    Tflite,
    /// A pickle with a protocol 2+ header (`0x80 0x02..0x05`).
    Pickle,
    Tar,
}

fn sniff(head: &[u8]) -> Option<Magic> {
    if head.starts_with(b"GGUF") {
        return Some(Magic::Gguf);
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Some(Magic::Zip);
    }
    const HDF5: &[u8] = b"\x89HDF\r\n\x1a\n";
    if head.starts_with(HDF5) || head.get(512..520) == Some(HDF5) {
        return Some(Magic::Hdf5);
    }
    if head.get(4..8) == Some(b"TFL3") {
        return Some(Magic::Tflite);
    }
    if head.len() >= 2 && head[0] == 0x80 && (2..=5).contains(&head[1]) {
        return Some(Magic::Pickle);
    }
    if head.get(257..262) == Some(b"ustar") {
        return Some(Magic::Tar);
    }
    if head.len() > 8 {
        let mut len = [0u8; 8];
        len.copy_from_slice(&head[..8]);
        let n = u64::from_le_bytes(len);
        if (2..=MAX_SAFETENSORS_HEADER).contains(&n) && head[8] == b'{' {
            return Some(Magic::Safetensors);
        }
    }
    None
}

/// The model format of a candidate file, named as [`crate::Format::name`] names it (plus `tflite`, which the
/// scanner does not handle). `None` when the file is not a model after all (a `.bin` or `.ckpt` with no
/// checkpoint magic). Cost: reads the first 1 KiB.
pub fn model_format(path: &Path, file_name: &str) -> io::Result<Option<&'static str>> {
    let lower = file_name.to_ascii_lowercase();
    if lower == "saved_model.pb" {
        return Ok(Some("saved-model"));
    }
    let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    let mut head = Vec::with_capacity(1024);
    File::open(path)?.take(1024).read_to_end(&mut head)?;
    let torch = matches!(ext, "pt" | "pth" | "bin" | "ckpt");
    let by_content = sniff(&head).map(|m| match m {
        Magic::Safetensors => "safetensors",
        Magic::Gguf => "gguf",
        Magic::Hdf5 => "hdf5",
        Magic::Tflite => "tflite",
        Magic::Zip if ext == "keras" => "keras",
        Magic::Zip if torch => "pytorch-zip",
        Magic::Zip => "zip",
        Magic::Pickle if ext == "joblib" => "joblib",
        Magic::Pickle if torch => "pytorch-legacy",
        Magic::Pickle => "pickle",
        Magic::Tar if torch => "pytorch-legacy",
        Magic::Tar => "tar",
    });
    if by_content.is_some() {
        return Ok(by_content);
    }
    // Formats without a reliable magic (protobufs, protocol 0/1 pickles) go by an unambiguous extension; a
    // `.bin` or `.ckpt` without magic is ordinary binary data.
    Ok(match ext {
        "safetensors" => Some("safetensors"),
        "gguf" => Some("gguf"),
        "onnx" => Some("onnx"),
        "pt" | "pth" => Some("pytorch-legacy"),
        "pkl" | "pickle" => Some("pickle"),
        "joblib" => Some("joblib"),
        "h5" | "hdf5" => Some("hdf5"),
        "keras" => Some("keras"),
        "tflite" => Some("tflite"),
        _ => None,
    })
}

/// Whether loading `format` with its usual library can run code stored in the file (the pickle family).
/// Mirrors [`crate::Format::can_execute_code`] for format names read back from a BOM.
pub fn format_executes_code(format: &str) -> bool {
    matches!(
        format,
        "pickle" | "pytorch-zip" | "pytorch-legacy" | "joblib" | "numpy" | "npz"
    )
}

/// Largest safetensors header read to count parameters (real headers are well under a megabyte per thousand
/// tensors).
const MAX_SAFETENSORS_HEADER: u64 = 100 * 1024 * 1024;

/// Parameter count and tensor dtypes from a safetensors header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TensorSummary {
    pub parameters: u64,
    /// Sorted, deduplicated (`BF16`, `F32`).
    pub dtypes: Vec<String>,
    pub tensors: u64,
}

/// Reads a safetensors header and sums the element counts of its tensors. `Ok(None)` when the header is
/// missing, oversized or not the documented JSON shape. Cost: reads the header only.
pub fn safetensors_summary(path: &Path) -> io::Result<Option<TensorSummary>> {
    let mut f = File::open(path)?;
    let mut len = [0u8; 8];
    if f.read_exact(&mut len).is_err() {
        return Ok(None);
    }
    let n = u64::from_le_bytes(len);
    if n > MAX_SAFETENSORS_HEADER {
        return Ok(None);
    }
    let mut header = Vec::new();
    f.take(n).read_to_end(&mut header)?;
    if header.len() as u64 != n {
        return Ok(None);
    }
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(&header)
    else {
        return Ok(None);
    };
    let mut summary = TensorSummary::default();
    for (name, tensor) in &map {
        if name == "__metadata__" {
            continue;
        }
        let Some(shape) = tensor.get("shape").and_then(|s| s.as_array()) else {
            return Ok(None);
        };
        let mut elements: u64 = 1;
        for d in shape {
            let Some(d) = d.as_u64() else { return Ok(None) };
            elements = elements.saturating_mul(d);
        }
        summary.parameters = summary.parameters.saturating_add(elements);
        summary.tensors += 1;
        if let Some(dtype) = tensor.get("dtype").and_then(|d| d.as_str())
            && !summary.dtypes.iter().any(|d| d == dtype)
        {
            summary.dtypes.push(dtype.to_owned());
        }
    }
    summary.dtypes.sort();
    Ok(Some(summary))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, data: &[u8]) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, data).unwrap();
        p
    }

    #[test]
    fn names_decide_candidates() {
        assert_eq!(
            classify("Cargo.lock", None),
            FileKind::Lockfile(LockKind::Cargo)
        );
        assert_eq!(
            classify("requirements-dev.txt", None),
            FileKind::Lockfile(LockKind::Requirements)
        );
        assert_eq!(
            classify("base.txt", Some("requirements")),
            FileKind::Lockfile(LockKind::Requirements)
        );
        assert_eq!(classify("notes.txt", None), FileKind::Other);
        assert_eq!(
            classify("model.SafeTensors", None),
            FileKind::ModelCandidate
        );
        assert_eq!(classify("train.jsonl", None), FileKind::Data("jsonl"));
        assert_eq!(classify("saved_model.pb", None), FileKind::ModelCandidate);
        assert_eq!(classify("other.pb", None), FileKind::Other);
    }

    #[test]
    fn content_beats_extension() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let mut st = 2u64.to_le_bytes().to_vec();
        st.extend_from_slice(b"{}");
        assert_eq!(
            model_format(&write(d, "m.safetensors", &st), "m.safetensors").unwrap(),
            Some("safetensors")
        );
        // A pickle wearing a safetensors name is reported as what it is.
        let p = write(d, "evil.safetensors", b"\x80\x04\x95\x00");
        assert_eq!(
            model_format(&p, "evil.safetensors").unwrap(),
            Some("pickle")
        );
        let p = write(d, "pytorch_model.bin", b"PK\x03\x04rest");
        assert_eq!(
            model_format(&p, "pytorch_model.bin").unwrap(),
            Some("pytorch-zip")
        );
        let p = write(d, "vocab.bin", b"\x00\x01\x02\x03 plain bytes");
        assert_eq!(model_format(&p, "vocab.bin").unwrap(), None);
        let p = write(d, "m.gguf", b"GGUF\x03\x00\x00\x00");
        assert_eq!(model_format(&p, "m.gguf").unwrap(), Some("gguf"));
        let p = write(d, "m.joblib", b"\x80\x03}q\x00.");
        assert_eq!(model_format(&p, "m.joblib").unwrap(), Some("joblib"));
        let p = write(d, "m.onnx", b"\x08\x07\x12\x04");
        assert_eq!(model_format(&p, "m.onnx").unwrap(), Some("onnx"));
        let mut tfl = vec![0x1c, 0, 0, 0];
        tfl.extend_from_slice(b"TFL3");
        let p = write(d, "m.tflite", &tfl);
        assert_eq!(model_format(&p, "m.tflite").unwrap(), Some("tflite"));
    }

    #[test]
    fn safetensors_parameters_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let header = br#"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"F16","shape":[4],"data_offsets":[24,32]}}"#;
        let mut data = (header.len() as u64).to_le_bytes().to_vec();
        data.extend_from_slice(header);
        data.extend_from_slice(&[0u8; 32]);
        let p = write(dir.path(), "m.safetensors", &data);
        let s = safetensors_summary(&p).unwrap().unwrap();
        assert_eq!(s.parameters, 10);
        assert_eq!(s.tensors, 2);
        assert_eq!(s.dtypes, ["F16", "F32"]);
        let p = write(dir.path(), "bad.safetensors", &u64::MAX.to_le_bytes());
        assert_eq!(safetensors_summary(&p).unwrap(), None);
    }
}
