//! Arbitrary bytes through the hand-written protobuf walkers (ONNX and SavedModel) and their sniffers: no
//! panic, offsets inside the input, and no file is both ONNX and a SavedModel.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_supply::formats::{onnx, savedmodel};

fuzz_target!(|data: &[u8]| {
    assert!(!(onnx::sniff(data) && savedmodel::sniff(data)));
    let mut out = Vec::new();
    onnx::scan(data, None, &mut out);
    savedmodel::scan(data, &mut out);
    for f in &out {
        assert!(f.offset <= data.len() as u64, "{f:?}");
    }
});
