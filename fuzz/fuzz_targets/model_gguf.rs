//! Arbitrary bytes behind a GGUF v3 header: the scan never panics, and a file whose header `metadata` accepts
//! gets no `gguf.malformed` finding from `scan` (the two read the header the same way).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_supply::formats::gguf;

fuzz_target!(|data: &[u8]| {
    let mut file = b"GGUF\x03\x00\x00\x00".to_vec();
    file.extend_from_slice(data);
    for input in [data, &file[..]] {
        let mut out = Vec::new();
        gguf::scan(input, &mut out);
        for f in &out {
            assert!(f.offset <= input.len() as u64, "{f:?}");
        }
        if gguf::metadata(input).is_ok() {
            assert!(
                out.iter()
                    .all(|f| f.rule != "gguf.malformed" || f.explanation.starts_with("tensor"))
            );
        }
    }
});
