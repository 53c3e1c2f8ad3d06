//! AI bill of materials: a CycloneDX 1.6 description of the models, datasets and packages in a project
//! folder ([`generate`]), and an approval-policy check over such a BOM ([`policy`]).
//!
//! What [`generate`] recognises:
//! - **Models** (`machine-learning-model`): `.safetensors`, `.gguf`, `.onnx`, `.pt`/`.pth`/`.bin`/`.ckpt`
//!   (the last two only with checkpoint magic), `.pkl`/`.pickle`/`.joblib`, `.h5`/`.hdf5`/`.keras`,
//!   `saved_model.pb`, `.tflite`. Files in a Hugging Face–style folder (one with a model `config.json` or a
//!   model-card `README.md`) form one model, described from the card; other files are models of their own.
//! - **Datasets** (`data`): `.jsonl`, `.csv`, `.tsv`, `.parquet`, `.arrow`, plus `.json` inside a folder whose
//!   README is a dataset card.
//! - **Packages** (`library`, or `framework` for ML frameworks): requirements*.txt, poetry.lock, uv.lock,
//!   Pipfile.lock, package-lock.json/npm-shrinkwrap.json, Cargo.lock, go.sum.
//!
//! The model scanner is injected as a function so that this module does not depend on how scanning is done;
//! its verdict is recorded per model file as the property `rampart:scan:verdict`.

pub mod cyclonedx;
pub mod policy;
pub mod purl;

mod card;
mod clock;
mod detect;
mod digest;
mod generate;
mod license;
mod lockfile;

use std::path::{Path, PathBuf};

use crate::report::FileReport;

pub use cyclonedx::Bom;
pub use detect::format_executes_code;
pub use generate::PROJECT_REF;
pub use license::{Expr as LicenseExpr, parse_expression as parse_license_expression};

/// Names of the properties this crate writes (the `rampart:` namespace). They are part of the BOM's
/// documented shape (docs/bom.md): policies and other tools read them.
pub mod props {
    /// Path of the file or folder, relative to the scanned root, `/`-separated.
    pub const FILE_PATH: &str = "rampart:file:path";
    /// Size in bytes (the sum over files for a multi-file model or dataset).
    pub const FILE_SIZE: &str = "rampart:file:size";
    /// Model file format (`safetensors`, `gguf`, `pytorch-zip`, `pickle`, ...); repeated per format for a
    /// multi-file model.
    pub const MODEL_FORMAT: &str = "rampart:model:format";
    /// `safe`, `suspicious`, `dangerous`, `error` (from `rampart model scan`) or `not-scanned`. On a
    /// multi-file model: the worst of its files.
    pub const SCAN_VERDICT: &str = "rampart:scan:verdict";
    /// Number of scanner findings.
    pub const SCAN_FINDINGS: &str = "rampart:scan:findings";
    /// One scanner rule id that fired (repeated).
    pub const SCAN_RULE: &str = "rampart:scan:rule";
    /// Dataset file format (`jsonl`, `csv`, `parquet`, ...).
    pub const DATA_FORMAT: &str = "rampart:data:format";
    /// Newline count of a text dataset file (JSONL records; CSV rows plus header).
    pub const DATA_LINES: &str = "rampart:data:lines";
    /// A dataset card's `task_categories` entry.
    pub const DATA_TASK: &str = "rampart:data:task";
    /// A dataset card's `size_categories` entry.
    pub const DATA_SIZE_CATEGORY: &str = "rampart:data:size-category";
    /// `split=examples` from a dataset card's `dataset_info`.
    pub const DATA_SPLIT: &str = "rampart:data:split";
    /// Manifest or lockfile that lists the package (repeated).
    pub const PACKAGE_MANIFEST: &str = "rampart:package:manifest";
    /// Version constraint from a manifest that pins no exact version.
    pub const PACKAGE_CONSTRAINT: &str = "rampart:package:constraint";
    /// `local` for the project's own packages, else a non-default source (git URL, private index).
    pub const PACKAGE_SOURCE: &str = "rampart:package:source";
    /// Model card: parameter count from the safetensors headers.
    pub const CARD_PARAMETERS: &str = "rampart:model:parameters";
    /// Model card: a tensor dtype present in the weights (repeated).
    pub const CARD_DTYPE: &str = "rampart:model:dtype";
    /// Model card: `torch_dtype` from config.json.
    pub const CARD_TORCH_DTYPE: &str = "rampart:model:torch-dtype";
    /// Model card: `transformers_version` from config.json.
    pub const CARD_TRANSFORMERS_VERSION: &str = "rampart:model:transformers-version";
    /// Model card: the card's `library_name`.
    pub const CARD_LIBRARY: &str = "rampart:model:library";
    /// Model card: a `language` entry (repeated).
    pub const CARD_LANGUAGE: &str = "rampart:model:language";
}

/// How [`generate`] stamps the BOM.
#[derive(Clone, Debug)]
pub struct BomOptions {
    /// Make the BOM a function of the files alone: the serial number is derived from the content, and the
    /// timestamp is `source_date_epoch` or left out.
    pub reproducible: bool,
    /// Unix time to write as the timestamp (the `SOURCE_DATE_EPOCH` convention); implies a derived serial.
    pub source_date_epoch: Option<i64>,
    /// Largest manifest or lockfile parsed; bigger ones are skipped with a warning.
    pub max_manifest_bytes: u64,
}

impl Default for BomOptions {
    fn default() -> BomOptions {
        BomOptions {
            reproducible: false,
            source_date_epoch: None,
            max_manifest_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Something [`generate`] skipped or could only partly describe (an unreadable file, a lockfile that does not
/// parse). The BOM is still produced.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BomWarning {
    /// Relative path of the file concerned.
    pub path: String,
    pub message: String,
}

/// The result of [`generate`].
#[derive(Clone, Debug)]
pub struct GeneratedBom {
    pub bom: Bom,
    pub warnings: Vec<BomWarning>,
}

/// Why no BOM could be produced.
#[derive(Debug, thiserror::Error)]
pub enum BomError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Walks `root` (a folder, or a single file) and describes what it holds as a CycloneDX 1.6 BOM.
///
/// `scan` is called once per model file and returns the model scanner's report, or `None` when no scan was
/// made; its verdict becomes the `rampart:scan:verdict` property and its format, when known, replaces the one
/// guessed from magic bytes.
///
/// Cost: every model and dataset file is read once, sequentially, to hash it (constant memory), plus whatever
/// `scan` costs; manifests and cards are read whole up to their size caps. `.git`, `node_modules`, `target`,
/// `__pycache__` and Python virtual environments are not entered; symlinks to folders are not followed.
///
/// Output is deterministic for the same files apart from the timestamp and serial number, which
/// [`BomOptions::reproducible`] and [`BomOptions::source_date_epoch`] fix.
pub fn generate(
    root: &Path,
    opts: &BomOptions,
    scan: &dyn Fn(&Path) -> Option<FileReport>,
) -> Result<GeneratedBom, BomError> {
    generate::generate(root, opts, scan)
}

/// Entry points for the fuzz targets (`fuzz/fuzz_targets/bom_inputs.rs`): every parser here that reads
/// untrusted bytes, without touching the file system. Not a stable API.
#[doc(hidden)]
pub mod fuzzing {
    /// Parses `text` as the manifest that `file_name` names (`Cargo.lock`, `uv.lock`, ...); returns the number
    /// of packages the project depends on directly, or `None` when the name is no manifest or parsing failed.
    pub fn manifest(file_name: &str, text: &str) -> Option<usize> {
        match super::detect::classify(file_name, None) {
            super::detect::FileKind::Lockfile(kind) => {
                super::lockfile::parse(kind, text, file_name)
                    .ok()
                    .map(|l| l.project_dependencies().len())
            }
            _ => None,
        }
    }

    /// Reads `text` as a README with front-matter and as a `config.json`; returns whether either was a card.
    pub fn cards(text: &str) -> bool {
        let readme = matches!(super::card::front_matter(text), Ok(Some(_)));
        let config = super::card::parse_config(text.as_bytes()).is_some();
        readme || config
    }

    /// Turns `text` into a licence entry and evaluates it as an expression.
    pub fn license(text: &str) -> bool {
        let _ = super::license::choice(text, Some(text), None);
        super::license::parse_expression(text)
            .is_some_and(|e| e.satisfiable(&|id| id.len() % 2 == 0))
    }

    /// Parses and re-renders a purl.
    pub fn purl(text: &str) -> Option<String> {
        let p = super::purl::parse(text)?;
        Some(super::purl::Purl::generic(&p.name, p.version.as_deref()).to_string())
    }
}
