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

pub(crate) use crate::rules;
use crate::report::ModelFinding;
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
pub fn scan_pickle<S: Source>(src: &mut S, opts: &PickleOptions, depth: usize) -> io::Result<PickleScan> {
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
    merged.nested.extend(plain.nested.into_iter().filter(|r| !r.speculative));
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
pub fn sniff_pickle<S: Source>(src: &mut S, opts: &PickleOptions, depth: usize) -> io::Result<Option<PickleScan>> {
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
