//! Any bytes through the symbolic pickle VM: no panic, no unbounded work (small limits), and every
//! offset it reports points inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_supply::pickle::{NestedData, PickleOptions, SliceSource, Source, scan_pickle};

fuzz_target!(|data: &[u8]| {
    let opts = PickleOptions {
        max_ops: 100_000,
        max_nodes: 10_000,
        max_stack: 10_000,
        max_memo: 10_000,
        ..PickleOptions::default()
    };
    let mut src = SliceSource::new(data, 7);
    let Ok(scan) = scan_pickle(&mut src, &opts, 0) else {
        return;
    };
    let end = 7 + data.len() as u64;
    assert!(scan.end >= 7 && scan.end <= end);
    assert_eq!(src.pos(), scan.end);
    for f in &scan.findings {
        assert!(f.offset >= 7 && f.offset <= end, "{f:?}");
        assert!(!f.explanation.is_empty());
    }
    for n in &scan.nested {
        match &n.data {
            NestedData::Bytes { data: b, src: Some(s) } => {
                assert!(*s >= 7 && s + b.len() as u64 <= end);
            }
            NestedData::Range { start, len } => assert!(*start >= 7 && start + len <= end),
            _ => {}
        }
    }
});
