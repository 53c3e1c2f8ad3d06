//! Arbitrary bytes, raw and behind a length prefix that fits: the scan never panics, offsets stay in the
//! file, and a header `metadata` accepts is never reported as malformed JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_supply::formats::safetensors;

fuzz_target!(|data: &[u8]| {
    let mut file = (data.len() as u64 / 2).to_le_bytes().to_vec();
    file.extend_from_slice(data);
    for input in [data, &file[..]] {
        let mut out = Vec::new();
        safetensors::scan(input, &mut out);
        for f in &out {
            assert!(f.offset <= input.len() as u64, "{f:?}");
        }
        if safetensors::metadata(input).is_ok() {
            assert!(
                out.iter()
                    .all(|f| !f.explanation.contains("not a JSON object"))
            );
        }
    }
});
