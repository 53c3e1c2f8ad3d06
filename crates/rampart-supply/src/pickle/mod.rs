//! A symbolic pickle interpreter: finds what loading a pickle would import and call, without importing
//! or calling anything.
//!
//! [`scan_pickle`] interprets one pickle; the caller (see `crate::scan`) loops for concatenated pickles,
//! and scans [`PickleScan::nested`] blobs recursively with the general format sniffer, since a blob
//! handed to `torch.storage._load_from_bytes` is a whole torch checkpoint, not a bare pickle.

pub mod imports;
pub mod source;
mod value;
mod vm;

use std::io;

use crate::report::ModelFinding;
pub(crate) use crate::rules;
pub use imports::{Classification, ImportClass, ImportTable};
pub use source::{ReaderSource, SliceSource, Source};
pub(crate) use value::quote_str as quote_for_report;
pub(crate) use vm::is_opcode;

/// Limits for one pickle. The defaults handle multi-gigabyte real checkpoints; hostile files hit a limit
/// and are reported (`pickle.limit`) rather than exhausting memory or time.
#[derive(Clone, Debug)]
pub struct PickleOptions {
    /// Opcodes interpreted per pickle (including pickles inlined by joblib).
    pub max_ops: u64,
    /// Stack depth.
    pub max_stack: usize,
    /// Open MARKs.
    pub max_marks: usize,
    /// Memo entries.
    pub max_memo: usize,
    /// Strings, containers and calls tracked; past this, values are shown as `<…>` but imports and calls
    /// are still classified.
    pub max_nodes: usize,
    /// Payload bytes kept in memory per pickle (each string keeps at most 64 KiB; past this budget, 64 B).
    pub max_retained_bytes: usize,
    /// Pickles inside pickles (joblib object arrays, `pickle.loads(b'...')`), counted from the file.
    pub max_depth: usize,
}

impl Default for PickleOptions {
    fn default() -> Self {
        PickleOptions {
            max_ops: 200_000_000,
            max_stack: 1_000_000,
            max_marks: 100_000,
            max_memo: 20_000_000,
            max_nodes: 8_000_000,
            max_retained_bytes: 256 << 20,
            max_depth: 8,
        }
    }
}

/// A serialised blob found inside a pickle that the caller should scan too.
#[derive(Clone, Debug)]
pub struct NestedRequest {
    /// Where the blob's bytes are.
    pub data: NestedData,
    /// The loader it is passed to (`pickle.loads`), or `None` for a bytes value that merely looks like a
    /// pickle.
    pub loader: Option<String>,
    /// Offset of the opcode that passes or creates it.
    pub at: u64,
    /// True when no loader was seen: report only what the nested scan finds beyond malformation.
    pub speculative: bool,
}

/// The bytes of a nested blob.
#[derive(Clone, Debug)]
pub enum NestedData {
    /// Kept in memory; `src` is its absolute offset when it is a contiguous slice of the input.
    Bytes { data: Vec<u8>, src: Option<u64> },
    /// Too large to keep: re-read `len` bytes at absolute offset `start` of the same input.
    Range { start: u64, len: u64 },
    /// Not recoverable (a long protocol 0 string); `len` is its length.
    Unavailable { len: u64 },
}

/// What interpreting one pickle found.
#[derive(Debug)]
pub struct PickleScan {
    /// Findings with absolute offsets; `member` is left for the caller to fill.
    pub findings: Vec<ModelFinding>,
    /// Blobs to scan recursively.
    pub nested: Vec<NestedRequest>,
    /// Offset after the STOP opcode (or where interpretation stopped).
    pub end: u64,
    /// True when STOP was reached without error.
    pub ok: bool,
    /// True when interpretation stopped because the input ended.
    pub truncated: bool,
    /// The PROTO opcode's protocol (0 when absent).
    pub protocol: u8,
    /// Opcodes interpreted.
    pub ops: u64,
    /// Distinct imports.
    pub imports: usize,
    /// The pickled value is the magic number that opens a legacy torch checkpoint.
    pub torch_magic: bool,
    /// joblib `NumpyArrayWrapper` records were seen.
    pub joblib: bool,
}

/// Interprets the pickle at `src`'s position up to its STOP opcode.
///
/// A joblib dump is interpreted twice: as joblib reads it (array bytes skipped after each
/// `NumpyArrayWrapper`) and as plain `pickle.load` reads it (those bytes taken as opcodes), because a file
/// can be built to be harmless one way and hostile the other. Findings of the second reading that the
/// first lacks are added with a note. Cost: linear in the pickle's size (twice for joblib files); memory
/// is bounded by [`PickleOptions`]. `depth` counts enclosing archives and pickles.
pub fn scan_pickle<S: Source>(
    src: &mut S,
    opts: &PickleOptions,
    depth: usize,
) -> io::Result<PickleScan> {
    let start = src.pos();
    let first = vm::Vm::new(opts, depth, true, false).run(src)?;
    if !first.joblib {
        return Ok(first);
    }
    let end = src.pos();
    src.seek_to(start)?;
    let plain = vm::Vm::new(opts, depth, false, false).run(src)?;
    src.seek_to(end)?;
    let mut merged = first;
    for mut f in plain.findings {
        let relevant = matches!(
            f.rule,
            rules::DANGEROUS_CALL
                | rules::DANGEROUS_IMPORT
                | rules::UNKNOWN_IMPORT
                | rules::GLOBAL_MUTATION
                | rules::EXTENSION_CODE
                | rules::INDIRECT_CALL
        );
        let known = merged
            .findings
            .iter()
            .any(|g| g.rule == f.rule && g.offset == f.offset && g.import == f.import);
        if relevant && !known {
            f.explanation.push_str(
                " (seen only when the file is read with plain pickle.load instead of joblib.load: bytes \
                 that joblib treats as array data are opcodes to pickle)",
            );
            merged.findings.push(f);
        }
    }
    merged
        .nested
        .extend(plain.nested.into_iter().filter(|r| !r.speculative));
    merged.findings.sort_by_key(|f| f.offset);
    Ok(merged)
}

/// A cheap first look at data without a PROTO opcode: interpreting `head` (the first bytes of an input
/// `len` bytes long) as a protocol 0/1 pickle must not fail before the head runs out, unless it already
/// imported a well-formed name.
pub(crate) fn plausible_head(head: &[u8], len: u64, opts: &PickleOptions) -> bool {
    if !head.first().is_some_and(|&b| is_opcode(b)) {
        return false;
    }
    let mut src = SliceSource::new(head, 0);
    let Ok(scan) = vm::Vm::new(opts, 0, true, true).run(&mut src) else {
        return false;
    };
    scan.ok || scan.imports > 0 || (scan.truncated && len > head.len() as u64)
}

/// Decides whether data that starts with no PROTO opcode is a protocol 0/1 pickle: it must reach STOP,
/// or import a well-formed Python name before failing. Returns the full scan when it is one (the source
/// is then positioned after it), `None` otherwise (position unspecified).
pub fn sniff_pickle<S: Source>(
    src: &mut S,
    opts: &PickleOptions,
    depth: usize,
) -> io::Result<Option<PickleScan>> {
    let start = src.pos();
    let first = src.byte()?;
    if !first.is_some_and(is_opcode) {
        return Ok(None);
    }
    src.seek_to(start)?;
    let sniff = vm::Vm::new(opts, depth, true, true).run(src)?;
    if !sniff.ok && sniff.imports == 0 {
        return Ok(None);
    }
    // Tiny streams such as `N.` are technically pickles but say nothing; require some substance.
    if sniff.ok && sniff.ops < 3 && sniff.imports == 0 {
        return Ok(None);
    }
    src.seek_to(start)?;
    scan_pickle(src, opts, depth).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules;

    fn scan(data: &[u8]) -> PickleScan {
        scan_with(data, &PickleOptions::default())
    }

    fn scan_with(data: &[u8], opts: &PickleOptions) -> PickleScan {
        scan_pickle(&mut SliceSource::new(data, 0), opts, 0).unwrap()
    }

    fn rules_of(s: &PickleScan) -> Vec<&'static str> {
        s.findings.iter().map(|f| f.rule).collect()
    }

    /// One small, valid program per opcode of protocols 0–5: each must run to STOP.
    #[test]
    fn every_opcode_of_every_protocol_is_understood() {
        let cases: &[(&str, &[u8])] = &[
            ("MARK/TUPLE", b"(K\x01t."),
            ("STOP", b"N."),
            ("POP", b"NN0."),
            ("POP_MARK", b"N(K\x011."),
            ("DUP", b"N2t"),
            ("FLOAT", b"F1.5\n."),
            ("INT", b"I42\n."),
            ("INT bool", b"I01\n."),
            ("BININT", b"J\xff\xff\xff\xff."),
            ("BININT1", b"K\x07."),
            ("LONG", b"L123456789012345678901234567890L\n."),
            ("BININT2", b"M\x01\x02."),
            ("NONE", b"N."),
            ("PERSID", b"Pkey\n."),
            ("BINPERSID", b"K\x01Q."),
            ("REDUCE", b"ccollections\nOrderedDict\n)R."),
            ("STRING", b"S'a\\x41\\n'\n."),
            ("BINSTRING", b"T\x02\x00\x00\x00ab."),
            ("SHORT_BINSTRING", b"U\x02ab."),
            ("UNICODE", b"Vcaf\\u00e9\n."),
            ("BINUNICODE", b"X\x02\x00\x00\x00ab."),
            ("APPEND", b"]K\x01a."),
            ("BUILD", b"ccollections\nOrderedDict\n)R}b."),
            ("GLOBAL", b"cbuiltins\nset\n."),
            ("DICT", b"(K\x01K\x02d."),
            ("EMPTY_DICT", b"}."),
            ("APPENDS", b"](K\x01K\x02e."),
            ("GET", b"Np0\n0g0\n."),
            ("BINGET", b"Nq\x010h\x01."),
            ("INST", b"(K\x01ibuiltins\nset\n."),
            ("LONG_BINGET", b"Nr\x00\x01\x00\x000j\x00\x01\x00\x00."),
            ("LIST", b"(K\x01l."),
            ("EMPTY_LIST", b"]."),
            ("OBJ", b"(cbuiltins\nset\no."),
            ("PUT", b"Np7\n."),
            ("BINPUT", b"Nq\x07."),
            ("LONG_BINPUT", b"Nr\x07\x00\x00\x00."),
            ("SETITEM", b"}K\x01K\x02s."),
            ("TUPLE", b"(t."),
            ("EMPTY_TUPLE", b")."),
            ("SETITEMS", b"}(K\x01K\x02u."),
            ("BINFLOAT", b"G?\xf0\x00\x00\x00\x00\x00\x00."),
            ("PROTO", b"\x80\x05N."),
            ("NEWOBJ", b"\x80\x02cbuiltins\nset\n)\x81."),
            ("EXT1", b"\x80\x02\x82\x01."),
            ("EXT2", b"\x80\x02\x83\x01\x00."),
            ("EXT4", b"\x80\x02\x84\x01\x00\x00\x00."),
            ("TUPLE1", b"\x80\x02K\x01\x85."),
            ("TUPLE2", b"\x80\x02K\x01K\x02\x86."),
            ("TUPLE3", b"\x80\x02K\x01K\x02K\x03\x87."),
            ("NEWTRUE", b"\x80\x02\x88."),
            ("NEWFALSE", b"\x80\x02\x89."),
            ("LONG1", b"\x80\x02\x8a\x02\x00\x01."),
            ("LONG4", b"\x80\x02\x8b\x02\x00\x00\x00\xff\x7f."),
            ("BINBYTES", b"\x80\x03B\x01\x00\x00\x00a."),
            ("SHORT_BINBYTES", b"\x80\x03C\x01a."),
            ("SHORT_BINUNICODE", b"\x80\x04\x8c\x01a."),
            (
                "BINUNICODE8",
                b"\x80\x04\x8d\x01\x00\x00\x00\x00\x00\x00\x00a.",
            ),
            (
                "BINBYTES8",
                b"\x80\x04\x8e\x01\x00\x00\x00\x00\x00\x00\x00a.",
            ),
            ("EMPTY_SET", b"\x80\x04\x8f."),
            ("ADDITEMS", b"\x80\x04\x8f(K\x01\x90."),
            ("FROZENSET", b"\x80\x04(K\x01\x91."),
            (
                "NEWOBJ_EX",
                b"\x80\x04\x8c\x08builtins\x8c\x03set\x93)}\x92.",
            ),
            ("STACK_GLOBAL", b"\x80\x04\x8c\x08builtins\x8c\x03set\x93."),
            ("MEMOIZE", b"\x80\x04N\x94h\x00."),
            ("FRAME", b"\x80\x04\x95\x02\x00\x00\x00\x00\x00\x00\x00N."),
            (
                "BYTEARRAY8",
                b"\x80\x05\x96\x01\x00\x00\x00\x00\x00\x00\x00a.",
            ),
            ("NEXT_BUFFER", b"\x80\x05\x97."),
            ("READONLY_BUFFER", b"\x80\x05\x97\x98."),
        ];
        for (name, data) in cases {
            let data: Vec<u8> = if data.ends_with(b"t") && *name == "DUP" {
                b"(N2t.".to_vec()
            } else {
                data.to_vec()
            };
            let s = scan(&data);
            assert!(s.ok, "{name}: {:?}", s.findings);
            assert!(
                s.findings.iter().all(|f| f.rule == rules::EXTENSION_CODE),
                "{name}: {:?}",
                s.findings
            );
        }
    }

    #[test]
    fn imports_resolve_through_the_memo_and_calls_are_attributed() {
        // STACK_GLOBAL whose strings are memo gets, then a call through the memoised callable.
        let data =
            b"\x80\x04\x8c\x02os\x94\x8c\x06system\x94h\x00h\x01\x93\x94h\x02\x8c\x02id\x85R.";
        let s = scan(data);
        assert_eq!(rules_of(&s), [rules::DANGEROUS_CALL]);
        let f = &s.findings[0];
        assert_eq!(f.import.as_deref(), Some("os.system"));
        assert_eq!(f.offset, data.len() as u64 - 2);
        assert!(
            f.explanation.contains("os.system('id')"),
            "{}",
            f.explanation
        );
    }

    #[test]
    fn calls_through_call_results_are_traced_to_their_import() {
        // builtins.getattr(os, 'system')('id'): the outer call is reported against getattr.
        let data = b"cbuiltins\ngetattr\n(cos\npath\nS'system'\ntR(S'id'\ntR.";
        let s = scan(data);
        let calls: Vec<_> = s
            .findings
            .iter()
            .filter(|f| f.rule == rules::DANGEROUS_CALL)
            .collect();
        assert!(
            calls.iter().any(|f| f
                .explanation
                .contains("builtins.getattr(os.path, 'system')('id')")),
            "{calls:?}"
        );
    }

    #[test]
    fn hostile_lengths_are_checked_before_reading() {
        for data in [
            &b"\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\x7f"[..],
            b"\x80\x04\x8d\x00\x00\x00\x00\x00\x00\x00\x80",
            b"\x80\x05\x96\xff\xff\xff\xff\xff\xff\xff\xff",
            b"\x80\x04\x95\xff\xff\xff\xff\xff\xff\xff\xffN.",
            b"X\xff\xff\xff\xff",
            b"T\xff\xff\xff\x7f",
            b"\x8b\xff\xff\xff\x7f",
        ] {
            let s = scan(data);
            assert!(!s.ok);
            assert!(s.truncated, "{data:?}: {:?}", s.findings);
            assert_eq!(rules_of(&s), [rules::MALFORMED]);
        }
    }

    #[test]
    fn pickle_bombs_hit_the_opcode_budget() {
        // Each `2` doubles nothing in memory here (values are shared), but the budget still bounds work.
        let mut data = b"\x80\x04]".to_vec();
        data.extend(std::iter::repeat_n(b"2", 10_000).flatten());
        data.push(b'.');
        let opts = PickleOptions {
            max_ops: 1000,
            ..PickleOptions::default()
        };
        let s = scan_with(&data, &opts);
        assert_eq!(rules_of(&s), [rules::LIMIT]);
        let opts = PickleOptions {
            max_stack: 100,
            ..PickleOptions::default()
        };
        assert_eq!(rules_of(&scan_with(&data, &opts)), [rules::LIMIT]);
        let marks = vec![b'('; 1000];
        let opts = PickleOptions {
            max_marks: 100,
            ..PickleOptions::default()
        };
        assert_eq!(rules_of(&scan_with(&marks, &opts)), [rules::LIMIT]);
    }

    #[test]
    fn memo_chains_of_a_million_nested_lists_are_cheap() {
        // x = []; x = [x]; ... through BINPUT/BINGET: a structure a million levels deep.
        let mut data = b"\x80\x02]q\x000".to_vec();
        for _ in 0..1_000_000 {
            data.extend_from_slice(b"]h\x00aq\x000");
        }
        data.extend_from_slice(b"h\x00.");
        let s = scan(&data);
        assert!(s.ok, "{:?}", s.findings);
        // Rendering such a value in a call stays short.
        let mut call = b"\x80\x02cos\nsystem\n]q\x000".to_vec();
        for _ in 0..10_000 {
            call.extend_from_slice(b"]h\x00aq\x000");
        }
        call.extend_from_slice(b"h\x00\x85R.");
        let s = scan(&call);
        assert!(
            s.findings[0].explanation.len() < 600,
            "{}",
            s.findings[0].explanation
        );
    }

    #[test]
    fn memo_keys_that_jump_ahead_do_not_allocate_their_range() {
        // 100 000 LONG_BINPUTs 40 000 keys apart: a dense memo would need 4e9 slots.
        let mut data = b"\x80\x02N".to_vec();
        for i in 0..100_000u32 {
            data.push(b'r');
            data.extend_from_slice(&(i * 40_000).to_le_bytes());
        }
        data.extend_from_slice(b"j\x40\x0d\x03\x00.");
        let s = scan(&data);
        assert!(s.ok, "{:?}", s.findings);
    }

    #[test]
    fn node_budget_degrades_without_losing_imports() {
        let mut data = b"\x80\x02".to_vec();
        for _ in 0..100 {
            data.extend_from_slice(b"]0");
        }
        data.extend_from_slice(b"cos\nsystem\nU\x02id\x85R.");
        let opts = PickleOptions {
            max_nodes: 10,
            ..PickleOptions::default()
        };
        let s = scan_with(&data, &opts);
        let r = rules_of(&s);
        assert!(
            r.contains(&rules::DANGEROUS_CALL) && r.contains(&rules::LIMIT),
            "{:?}",
            s.findings
        );
    }

    #[test]
    fn malformed_programs_are_reported_not_crashed_on() {
        for (data, what) in [
            (&b"R."[..], "stack underflow"),
            (b"\x80\x02(R.", "stack underflow"),
            (b"\x80\x06N.", "unsupported protocol"),
            (b"\xff", "unknown opcode"),
            (b"h\x05.", "memo key"),
            (b"\x80\x04K\x01K\x02\x93.", "STACK_GLOBAL"),
            (b"(K\x01d.", "odd number"),
            (b"e.", "MARK"),
            (b"S'unterminated\n.", "quoted"),
            (b"X\x01\x00\x00\x00\xff.", "UTF-8"),
            (b"\x80\x02\x82\x00.", "extension code 0"),
        ] {
            let s = scan(data);
            assert!(!s.ok, "{what}");
            let m = s
                .findings
                .iter()
                .find(|f| f.rule == rules::MALFORMED)
                .unwrap_or_else(|| panic!("{what}: {:?}", s.findings));
            assert!(m.explanation.contains(what), "{what}: {}", m.explanation);
        }
    }

    #[test]
    fn torch_magic_and_joblib_are_recognised() {
        let magic = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.";
        assert!(scan(magic).torch_magic);
        assert!(!scan(b"\x80\x02K\x01.").torch_magic);
    }

    #[test]
    fn speculative_nested_bytes_are_offered_and_loader_arguments_are_not_speculative() {
        let inner = b"\x80\x02cos\nsystem\nU\x02id\x85R.";
        let mut data = b"\x80\x03C".to_vec();
        data.push(inner.len() as u8);
        data.extend_from_slice(inner);
        data.push(b'.');
        let s = scan(&data);
        assert_eq!(s.nested.len(), 1);
        assert!(s.nested[0].speculative);
        let NestedData::Bytes { data: got, src } = &s.nested[0].data else {
            panic!("bytes kept")
        };
        assert_eq!(got, inner);
        assert_eq!(*src, Some(4));
    }
}
