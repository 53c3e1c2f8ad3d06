//! The vocabulary every model-file check reports in: one [`FileReport`] per scanned file, holding
//! [`ModelFinding`]s and a [`Verdict`] derived from them.

use rampart_core::Severity;
use serde::Serialize;

/// What a scan concluded about one file. Ordered from best to worst so `max` picks the overall verdict.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Nothing found that could run code or escape the model's folder.
    #[default]
    Safe,
    /// Something unusual that a person should look at (unknown imports, malformed structure).
    Suspicious,
    /// Code execution, file or network access on load, or an archive built to attack the reader.
    Dangerous,
    /// The file could not be analysed (I/O error, not a model file the scanner understands).
    Error,
}

impl Verdict {
    /// The verdict implied by a finding's severity: critical/high are dangerous, medium/low suspicious,
    /// info changes nothing.
    pub fn from_severity(s: Severity) -> Verdict {
        match s {
            Severity::Critical | Severity::High => Verdict::Dangerous,
            Severity::Medium | Severity::Low => Verdict::Suspicious,
            Severity::Info => Verdict::Safe,
        }
    }
}

/// A file format recognised by its content (magic bytes and structure), never by its extension alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// A bare pickle stream (protocols 0–5), including joblib dumps that are plain pickles.
    Pickle,
    /// A PyTorch zip checkpoint (`archive/data.pkl` plus tensor storages).
    PytorchZip,
    /// A legacy PyTorch checkpoint: a tar archive or several concatenated pickles.
    PytorchLegacy,
    /// A joblib file (pickle with numpy arrays stored inline after `NumpyArrayWrapper` records).
    Joblib,
    /// A NumPy `.npy` array (object arrays carry a pickle).
    Numpy,
    /// A NumPy `.npz` zip of `.npy` members.
    Npz,
    /// A Keras v3 `.keras` zip (config.json, metadata.json, weights).
    Keras,
    /// HDF5, as written by legacy Keras `.h5`.
    Hdf5,
    /// A TensorFlow SavedModel `saved_model.pb` protobuf.
    SavedModel,
    /// An ONNX `ModelProto` protobuf.
    Onnx,
    /// A GGUF file (llama.cpp).
    Gguf,
    /// A safetensors file.
    Safetensors,
    /// A zip archive that is none of the model formats above.
    Zip,
    /// A tar archive that is none of the model formats above.
    Tar,
    /// A gzip stream.
    Gzip,
    /// Not a format the scanner recognises.
    Unknown,
}

impl Format {
    /// The stable name used in JSON, SARIF and the BOM (`pytorch-zip`, `safetensors`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Format::Pickle => "pickle",
            Format::PytorchZip => "pytorch-zip",
            Format::PytorchLegacy => "pytorch-legacy",
            Format::Joblib => "joblib",
            Format::Numpy => "numpy",
            Format::Npz => "npz",
            Format::Keras => "keras",
            Format::Hdf5 => "hdf5",
            Format::SavedModel => "saved-model",
            Format::Onnx => "onnx",
            Format::Gguf => "gguf",
            Format::Safetensors => "safetensors",
            Format::Zip => "zip",
            Format::Tar => "tar",
            Format::Gzip => "gzip",
            Format::Unknown => "unknown",
        }
    }

    /// Whether loading this format with its usual library can execute code embedded in the file
    /// (pickle-based formats), which approval policies such as "no pickle in production" check.
    pub fn can_execute_code(self) -> bool {
        matches!(
            self,
            Format::Pickle
                | Format::PytorchZip
                | Format::PytorchLegacy
                | Format::Joblib
                | Format::Numpy
                | Format::Npz
        )
    }
}

/// One observation about a model file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelFinding {
    /// Stable rule id, e.g. `pickle.dangerous-import` (documented in docs/model-scan.md).
    pub rule: &'static str,
    pub severity: Severity,
    /// Byte offset of the evidence within the member it was found in (or the file when `member` is `None`).
    pub offset: u64,
    /// Member path inside an archive (`archive/data.pkl`, `inner.tar.gz/model.pkl`), outermost first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    /// The imported callable (`os.system`), where the finding is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import: Option<String>,
    /// What was found, with the call chain or offending value shown truncated and redacted.
    pub explanation: String,
}

/// The result of scanning one file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FileReport {
    pub path: String,
    pub format: Format,
    pub verdict: Verdict,
    pub findings: Vec<ModelFinding>,
    /// File size in bytes.
    pub bytes: u64,
    /// Why the file could not be analysed, when `verdict` is `Error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl FileReport {
    /// The verdict implied by the findings (an `Error` verdict is kept).
    pub fn recompute_verdict(&mut self) {
        if self.verdict == Verdict::Error {
            return;
        }
        self.verdict = self
            .findings
            .iter()
            .map(|f| Verdict::from_severity(f.severity))
            .max()
            .unwrap_or(Verdict::Safe);
    }
}
