//! Any bytes, read as the CLI reads them, through the default pipeline: no panic, spans in bounds and on
//! char boundaries, redaction output is valid.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use rampart_core::Direction;
use rampart_detect::Pipeline;

static PIPELINE: LazyLock<Pipeline> =
    LazyLock::new(|| Pipeline::with_default_policy().expect("default policy builds"));

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for direction in [Direction::Input, Direction::Output] {
        let report = PIPELINE.scan(&text, direction);
        for f in &report.verdict.findings {
            assert!(f.span.start <= f.span.end && f.span.end <= text.len());
            assert!(text.is_char_boundary(f.span.start) && text.is_char_boundary(f.span.end));
            assert!((0.0..=1.0).contains(&f.score));
        }
    }
});
