//! Arbitrary bytes as a Keras config, as an HDF5 file, and behind an HDF5 signature: no panic, and the
//! chat-template checker (shared with GGUF) survives the same bytes as text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_supply::formats::{hdf5, keras, template};

fuzz_target!(|data: &[u8]| {
    let mut out = Vec::new();
    keras::scan_config(data, &mut out);
    hdf5::scan(data, &mut out);
    let mut file = b"\x89HDF\r\n\x1a\n".to_vec();
    file.extend_from_slice(data);
    hdf5::scan(&file, &mut out);
    for issue in template::check_chat_template(&String::from_utf8_lossy(data)) {
        assert!(issue.offset <= data.len() * 3);
    }
});
