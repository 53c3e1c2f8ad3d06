//! Hand-off to the structural checks of non-pickle formats (Keras config, HDF5, SavedModel, ONNX, GGUF,
//! safetensors), which live in `crate::formats`.

use std::path::Path;

use crate::report::ModelFinding;

use crate::formats;

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
