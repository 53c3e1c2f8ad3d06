//! Any bytes through the whole model scanner (format sniffing, zip/tar/gzip walking, NumPy headers, the
//! pickle VM): no panic, never an error report for in-memory input.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use rampart_supply::{ScanOptions, Verdict, scan_bytes};

static OPTS: LazyLock<ScanOptions> = LazyLock::new(|| {
    let mut o = ScanOptions::default();
    o.pickle.max_ops = 100_000;
    o.pickle.max_nodes = 10_000;
    o.max_member_bytes = 1 << 20;
    o.max_read_bytes = 4 << 20;
    o.max_expanded = 8 << 20;
    o
});

fuzz_target!(|data: &[u8]| {
    let r = scan_bytes("fuzz", data, &OPTS);
    assert_ne!(r.verdict, Verdict::Error, "{:?}", r.error);
});
