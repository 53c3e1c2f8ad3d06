//! Hand-off to the structural checks of non-pickle formats (Keras config, HDF5, SavedModel, ONNX, GGUF,
//! safetensors), which live in `crate::formats`.
//!
//! Until those checks are part of this build, the `pending` module below stands in for them with the same
//! signatures: it recognises nothing by protobuf structure and reports each recognised file with an
//! informational `format.unchecked` finding. Wiring the real checks is one line: replace
//! `use pending as formats;` with `use crate::formats;` and delete `mod pending`.

use std::path::Path;

use crate::report::ModelFinding;

use pending as formats;

/// Checks a Keras v3 `config.json` (Lambda layers, custom objects, ...).
pub(crate) fn keras_config(json: &[u8], out: &mut Vec<ModelFinding>) {
    formats::keras::scan_config(json, out);
}

pub(crate) fn hdf5(data: &[u8], out: &mut Vec<ModelFinding>) {
    formats::hdf5::scan(data, out);
}

pub(crate) fn savedmodel_sniff(data: &[u8]) -> bool {
    formats::savedmodel::sniff(data)
}

pub(crate) fn savedmodel(data: &[u8], out: &mut Vec<ModelFinding>) {
    formats::savedmodel::scan(data, out);
}

pub(crate) fn onnx_sniff(data: &[u8]) -> bool {
    formats::onnx::sniff(data)
}

/// `model_dir` is the folder of an ONNX file on disk, against which external-data paths are checked;
/// `None` inside archives.
pub(crate) fn onnx(data: &[u8], model_dir: Option<&Path>, out: &mut Vec<ModelFinding>) {
    formats::onnx::scan(data, model_dir, out);
}

pub(crate) fn gguf(data: &[u8], out: &mut Vec<ModelFinding>) {
    formats::gguf::scan(data, out);
}

pub(crate) fn safetensors(data: &[u8], out: &mut Vec<ModelFinding>) {
    formats::safetensors::scan(data, out);
}

mod pending {
    use rampart_core::Severity;

    use crate::report::ModelFinding;
    use crate::rules;

    fn unchecked(format: &str, out: &mut Vec<ModelFinding>) {
        out.push(ModelFinding {
            rule: rules::FORMAT_UNCHECKED,
            severity: Severity::Info,
            offset: 0,
            member: None,
            import: None,
            explanation: format!("{format}: format checks not built yet"),
        });
    }

    pub mod keras {
        pub fn scan_config(_json: &[u8], out: &mut Vec<super::ModelFinding>) {
            super::unchecked("Keras config.json", out);
        }
    }

    pub mod hdf5 {
        pub fn scan(_data: &[u8], out: &mut Vec<super::ModelFinding>) {
            super::unchecked("HDF5", out);
        }
    }

    pub mod savedmodel {
        pub fn sniff(_data: &[u8]) -> bool {
            false
        }

        pub fn scan(_data: &[u8], out: &mut Vec<super::ModelFinding>) {
            super::unchecked("SavedModel", out);
        }
    }

    pub mod onnx {
        pub fn sniff(_data: &[u8]) -> bool {
            false
        }

        pub fn scan(
            _data: &[u8],
            _model_dir: Option<&std::path::Path>,
            out: &mut Vec<super::ModelFinding>,
        ) {
            super::unchecked("ONNX", out);
        }
    }

    pub mod gguf {
        pub fn scan(_data: &[u8], out: &mut Vec<super::ModelFinding>) {
            super::unchecked("GGUF", out);
        }
    }

    pub mod safetensors {
        pub fn scan(_data: &[u8], out: &mut Vec<super::ModelFinding>) {
            super::unchecked("safetensors", out);
        }
    }
}
