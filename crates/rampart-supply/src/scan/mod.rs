//! Scanning model files: format sniffing, dispatch to the pickle VM, the archive walker and the format
//! checks, and the per-file [`FileReport`].
//!
//! Files are read through buffered, seeking readers rather than memory maps (mapping a file needs
//! `unsafe`, which this workspace forbids): a torch zip checkpoint costs its central directory and its
//! pickles, never its tensor storages, and a raw pickle streams through a 64 KiB buffer.

mod archive;
mod dispatch;
mod numpy;
mod sniff;

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use rampart_core::Severity;
use rayon::prelude::*;

use crate::pickle::{self, PickleOptions, PickleScan, ReaderSource, SliceSource, Source};
use crate::report::{FileReport, Format, ModelFinding, Verdict};
use crate::rules;
use sniff::{HEAD, Sniffed, sniff};

/// Limits for one scan. Every limit that stops analysis is reported as a finding, never silently.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// Limits of the pickle VM; `pickle.max_depth` also bounds archive nesting (archives in archives,
    /// pickles in pickles, counted together from the file).
    pub pickle: PickleOptions,
    /// Members checked per archive.
    pub max_entries: u64,
    /// Compression ratio above which a member of at least 1 MiB counts as a zip bomb.
    pub max_ratio: u64,
    /// Total uncompressed size that the compressed members of one archive may declare (or that a gzip
    /// stream may expand to).
    pub max_expanded: u64,
    /// Largest archive member or nested blob read into memory to be scanned.
    pub max_member_bytes: u64,
    /// Bytes decompressed or read into memory per top-level file, all members together.
    pub max_read_bytes: u64,
    /// Most bytes of a file handed to a structural format check (HDF5, GGUF, ONNX, ...); larger files
    /// are checked on this prefix and noted (`format.partial`).
    pub max_format_bytes: u64,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            pickle: PickleOptions::default(),
            max_entries: 100_000,
            max_ratio: 100,
            max_expanded: 64 << 30,
            max_member_bytes: 1 << 30,
            max_read_bytes: 4 << 30,
            max_format_bytes: 512 << 20,
        }
    }
}

/// Members below this size never count as zip bombs, whatever their ratio (zero-filled tensors compress
/// extremely well).
const BOMB_MIN_SIZE: u64 = 1 << 20;
/// Concatenated pickles followed in one stream (legacy torch checkpoints have five).
const MAX_STREAM_PICKLES: usize = 64;

/// Where the bytes being scanned are.
#[derive(Clone, Copy)]
pub(crate) enum Input<'a> {
    Mem(&'a [u8]),
    File(&'a File, u64),
}

impl Input<'_> {
    fn len(&self) -> u64 {
        match self {
            Input::Mem(d) => d.len() as u64,
            Input::File(_, n) => *n,
        }
    }

    /// The first `n` bytes (fewer at the end of the input).
    fn prefix(&self, n: u64) -> io::Result<Cow<'_, [u8]>> {
        match self {
            Input::Mem(d) => Ok(Cow::Borrowed(
                &d[..usize::try_from(n).unwrap_or(usize::MAX).min(d.len())],
            )),
            Input::File(f, len) => {
                let mut f: &File = f;
                f.seek(SeekFrom::Start(0))?;
                let mut v = Vec::with_capacity(usize::try_from(n.min(*len)).unwrap_or(0));
                f.take(n).read_to_end(&mut v)?;
                Ok(Cow::Owned(v))
            }
        }
    }
}

/// State of one top-level file's scan.
pub(crate) struct Ctx<'a> {
    pub opts: &'a ScanOptions,
    pub findings: Vec<ModelFinding>,
    /// Archive members (and nested blobs) enclosing what is being scanned, outermost first.
    pub members: Vec<String>,
    /// What may still be read into memory.
    pub read_left: u64,
    /// Folder of the file on disk (ONNX external data is resolved against it).
    pub model_dir: Option<PathBuf>,
    depth_reported: bool,
}

impl<'a> Ctx<'a> {
    fn new(opts: &'a ScanOptions, model_dir: Option<PathBuf>) -> Ctx<'a> {
        Ctx {
            opts,
            findings: Vec::new(),
            members: Vec::new(),
            read_left: opts.max_read_bytes,
            model_dir,
            depth_reported: false,
        }
    }

    fn member(&self) -> Option<String> {
        (!self.members.is_empty()).then(|| self.members.join("/"))
    }

    /// Records a finding about the current member.
    pub fn add(
        &mut self,
        rule: &'static str,
        severity: Severity,
        offset: u64,
        import: Option<String>,
        explanation: String,
    ) {
        let member = self.member();
        self.findings.push(ModelFinding {
            rule,
            severity,
            offset,
            member,
            import,
            explanation,
        });
    }

    /// Takes findings produced by the VM or a format check, filling in the current member.
    pub fn absorb(&mut self, list: Vec<ModelFinding>) {
        let member = self.member();
        self.findings.extend(list.into_iter().map(|mut f| {
            if f.member.is_none() {
                f.member.clone_from(&member);
            }
            f
        }));
    }

    /// True when one more level of nesting is allowed; reports the limit once otherwise.
    pub fn enter(&mut self, depth: usize) -> bool {
        if depth < self.opts.pickle.max_depth {
            return true;
        }
        if !self.depth_reported {
            self.depth_reported = true;
            self.add(
                rules::ARCHIVE_LIMIT,
                Severity::Medium,
                0,
                None,
                format!(
                    "archives or pickles nested more than {} levels deep: the innermost were not checked",
                    self.opts.pickle.max_depth
                ),
            );
        }
        false
    }
}

/// Scans one file. Never panics and never returns an error: I/O failures become a report with
/// [`Verdict::Error`]. Cost: proportional to the pickles and members it has to read, not to the file
/// size (tensor storages in zip checkpoints are skipped unread).
pub fn scan_path(path: &Path, opts: &ScanOptions) -> FileReport {
    let shown = path.display().to_string();
    let error = |e: io::Error, bytes: u64| FileReport {
        path: shown.clone(),
        format: Format::Unknown,
        verdict: Verdict::Error,
        findings: Vec::new(),
        bytes,
        error: Some(e.to_string()),
    };
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => return error(e, 0),
    };
    let len = match file.metadata() {
        Ok(m) if m.is_dir() => return error(io::Error::other("is a directory"), 0),
        Ok(m) => m.len(),
        Err(e) => return error(e, 0),
    };
    let dir = path.parent().map(Path::to_path_buf);
    let mut ctx = Ctx::new(opts, dir);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match scan_any(&mut ctx, Input::File(&file, len), 0, 0, &name) {
        Ok(format) => finish(shown, format, ctx.findings, len),
        Err(e) => error(e, len),
    }
}

/// Scans bytes already in memory as if they were a file called `name` (used for stdin, tests and
/// fuzzing).
pub fn scan_bytes(name: &str, data: &[u8], opts: &ScanOptions) -> FileReport {
    let mut ctx = Ctx::new(opts, None);
    match scan_any(&mut ctx, Input::Mem(data), 0, 0, name) {
        Ok(format) => finish(name.to_owned(), format, ctx.findings, data.len() as u64),
        Err(e) => FileReport {
            path: name.to_owned(),
            format: Format::Unknown,
            verdict: Verdict::Error,
            findings: Vec::new(),
            bytes: data.len() as u64,
            error: Some(e.to_string()),
        },
    }
}

fn finish(path: String, format: Format, mut findings: Vec<ModelFinding>, bytes: u64) -> FileReport {
    findings.sort_by(|a, b| a.member.cmp(&b.member).then(a.offset.cmp(&b.offset)));
    let mut r = FileReport {
        path,
        format,
        verdict: Verdict::Safe,
        findings,
        bytes,
        error: None,
    };
    r.recompute_verdict();
    r
}

/// Progress events from [`scan_paths_with`].
#[derive(Debug)]
pub enum Progress<'a> {
    /// The number of files found, once the paths are expanded.
    Found(usize),
    /// One file done (called from worker threads, in completion order).
    Scanned(&'a FileReport),
}

/// Scans files and directories (recursively, in sorted order, skipping `.git`; symlinked files are
/// followed, symlinked directories are not). Reports come back in path order; paths that cannot be read
/// give `Error` reports. Files are scanned in parallel on rayon's global pool.
pub fn scan_paths(paths: &[PathBuf], opts: &ScanOptions) -> Vec<FileReport> {
    scan_paths_with(paths, opts, &|_| {})
}

/// [`scan_paths`] with a progress callback (for a progress bar).
pub fn scan_paths_with(
    paths: &[PathBuf],
    opts: &ScanOptions,
    progress: &(dyn Fn(Progress<'_>) + Sync),
) -> Vec<FileReport> {
    let mut found = Vec::new();
    for p in paths {
        walk(p, true, &mut found);
    }
    progress(Progress::Found(found.len()));
    found
        .into_par_iter()
        .map(|item| {
            let report = match item {
                Ok(path) => scan_path(&path, opts),
                Err((path, e)) => FileReport {
                    path: path.display().to_string(),
                    format: Format::Unknown,
                    verdict: Verdict::Error,
                    findings: Vec::new(),
                    bytes: 0,
                    error: Some(e.to_string()),
                },
            };
            progress(Progress::Scanned(&report));
            report
        })
        .collect()
}

type Walked = Result<PathBuf, (PathBuf, io::Error)>;

fn walk(path: &Path, top: bool, out: &mut Vec<Walked>) {
    let meta = if top {
        std::fs::metadata(path)
    } else {
        std::fs::symlink_metadata(path)
    };
    let meta = match meta {
        Ok(m) => m,
        Err(e) => {
            out.push(Err((path.to_owned(), e)));
            return;
        }
    };
    if meta.is_dir() {
        if !top && path.file_name().is_some_and(|n| n == ".git") {
            return;
        }
        match std::fs::read_dir(path) {
            Err(e) => out.push(Err((path.to_owned(), e))),
            Ok(entries) => {
                let mut children: Vec<PathBuf> =
                    entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
                children.sort();
                for child in children {
                    walk(&child, false, out);
                }
            }
        }
    } else if meta.is_file() {
        out.push(Ok(path.to_owned()));
    } else if meta.file_type().is_symlink() {
        // Model caches (Hugging Face snapshots) are symlinks to blobs: follow links to files only, so a
        // link cycle cannot trap the walk.
        if std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
            out.push(Ok(path.to_owned()));
        }
    }
}

/// Sniffs `input` and scans it with whatever its format needs. `base` is the offset of the input's first
/// byte within the current member (non-zero for pickles nested in pickles); `depth` counts enclosing
/// archives and pickles; `name` is the input's own name (for naming decompressed streams).
pub(crate) fn scan_any(
    ctx: &mut Ctx<'_>,
    input: Input<'_>,
    base: u64,
    depth: usize,
    name: &str,
) -> io::Result<Format> {
    let len = input.len();
    let head = input.prefix(HEAD as u64)?.into_owned();
    Ok(match sniff(&head, len) {
        Sniffed::Zip => archive::scan_zip(ctx, input, depth)?,
        Sniffed::Tar => archive::scan_tar(ctx, input, depth)?,
        Sniffed::Gzip => archive::scan_gzip(ctx, input, depth, name)?,
        Sniffed::Zlib => match archive::scan_zlib(ctx, input, depth, name)? {
            Some(f) => f,
            None => scan_unknown(ctx, input, base, depth, &head)?,
        },
        Sniffed::Npy => scan_npy(ctx, input, base, depth, &head)?,
        Sniffed::Pickle => pickle_input(ctx, input, base, depth)?,
        Sniffed::Hdf5 => {
            format_check(ctx, input, Format::Hdf5, |d, _, out| dispatch::hdf5(d, out))?
        }
        Sniffed::Gguf => {
            format_check(ctx, input, Format::Gguf, |d, _, out| dispatch::gguf(d, out))?
        }
        Sniffed::Safetensors => format_check(ctx, input, Format::Safetensors, |d, _, out| {
            dispatch::safetensors(d, out)
        })?,
        Sniffed::Unsupported(kind) => {
            ctx.add(
                rules::UNSUPPORTED_COMPRESSION,
                Severity::Medium,
                0,
                None,
                format!(
                    "{kind} data: this scanner does not read {kind}, so its content was not checked"
                ),
            );
            Format::Unknown
        }
        Sniffed::Unknown => scan_unknown(ctx, input, base, depth, &head)?,
    })
}

/// No magic number: a protocol 0/1 pickle, a protobuf model (ONNX, SavedModel), or not a model file.
fn scan_unknown(
    ctx: &mut Ctx<'_>,
    input: Input<'_>,
    base: u64,
    depth: usize,
    head: &[u8],
) -> io::Result<Format> {
    if pickle::plausible_head(head, input.len(), &ctx.opts.pickle) {
        let found = match input {
            Input::Mem(d) => {
                let mut src = SliceSource::new(d, base);
                pickle::sniff_pickle(&mut src, &ctx.opts.pickle, depth)?
                    .map(|first| pickle_stream(ctx, &mut src, depth, Some(first)))
            }
            Input::File(f, len) => {
                let mut src = ReaderSource::new(f, 0, base, len)?;
                pickle::sniff_pickle(&mut src, &ctx.opts.pickle, depth)?
                    .map(|first| pickle_stream(ctx, &mut src, depth, Some(first)))
            }
        };
        if let Some(format) = found {
            return format;
        }
    }
    if dispatch::savedmodel_sniff(head) {
        return format_check(ctx, input, Format::SavedModel, |d, _, out| {
            dispatch::savedmodel(d, out)
        });
    }
    if dispatch::onnx_sniff(head) {
        return format_check(ctx, input, Format::Onnx, |d, dir, out| {
            dispatch::onnx(d, dir, out)
        });
    }
    Ok(Format::Unknown)
}

fn pickle_input(
    ctx: &mut Ctx<'_>,
    input: Input<'_>,
    base: u64,
    depth: usize,
) -> io::Result<Format> {
    match input {
        Input::Mem(d) => pickle_stream(ctx, &mut SliceSource::new(d, base), depth, None),
        Input::File(f, len) => {
            pickle_stream(ctx, &mut ReaderSource::new(f, 0, base, len)?, depth, None)
        }
    }
}

/// Interprets the pickles in `src` from its position: one, or several back to back (a legacy torch
/// checkpoint is five pickles followed by raw storage bytes). `first` is a scan already done.
pub(crate) fn pickle_stream<S: Source>(
    ctx: &mut Ctx<'_>,
    src: &mut S,
    depth: usize,
    first: Option<PickleScan>,
) -> io::Result<Format> {
    let mut first = first;
    let mut count = 0;
    let mut legacy = false;
    let mut joblib = false;
    loop {
        let scan = match first.take() {
            Some(s) => s,
            None => pickle::scan_pickle(src, &ctx.opts.pickle, depth)?,
        };
        count += 1;
        legacy |= count == 1 && scan.torch_magic;
        joblib |= scan.joblib;
        let ok = scan.ok;
        absorb_pickle(ctx, src, scan, depth)?;
        if !ok || src.remaining() == 0 || (legacy && count >= 5) {
            break;
        }
        let at = src.pos();
        let next = src.read_at(at, 2)?;
        if next.len() == 2
            && next[0] == 0x80
            && (2..=5).contains(&next[1])
            && count < MAX_STREAM_PICKLES
        {
            continue;
        }
        if !legacy {
            ctx.add(
                rules::TRAILING_DATA,
                Severity::Info,
                at,
                None,
                format!("{} bytes follow the pickle's STOP opcode", src.remaining()),
            );
        }
        break;
    }
    Ok(if legacy {
        Format::PytorchLegacy
    } else if joblib {
        Format::Joblib
    } else {
        Format::Pickle
    })
}

fn absorb_pickle<S: Source>(
    ctx: &mut Ctx<'_>,
    src: &mut S,
    scan: PickleScan,
    depth: usize,
) -> io::Result<()> {
    ctx.absorb(scan.findings);
    for req in scan.nested {
        let (bytes, base) = match req.data {
            pickle::NestedData::Bytes { data, src: at } => (Some(data), at.unwrap_or(req.at)),
            pickle::NestedData::Range { start, len } => {
                if len <= ctx.opts.max_member_bytes && len <= ctx.read_left {
                    ctx.read_left -= len;
                    let n = usize::try_from(len).unwrap_or(usize::MAX);
                    (Some(src.read_at(start, n)?), start)
                } else {
                    (None, start)
                }
            }
            pickle::NestedData::Unavailable { .. } => (None, req.at),
        };
        let Some(bytes) = bytes else {
            if !req.speculative {
                ctx.add(
                    rules::NESTED_UNSCANNED,
                    Severity::Medium,
                    req.at,
                    req.loader.clone(),
                    format!(
                        "the data passed to {} could not be scanned (too large, or not stored contiguously)",
                        req.loader.as_deref().unwrap_or("a loader")
                    ),
                );
            }
            continue;
        };
        if !ctx.enter(depth + 1) {
            continue;
        }
        let before = ctx.findings.len();
        let kind = sniff(&bytes[..bytes.len().min(HEAD)], bytes.len() as u64);
        let archive = matches!(
            kind,
            Sniffed::Zip | Sniffed::Tar | Sniffed::Gzip | Sniffed::Zlib
        );
        if archive {
            ctx.members.push(format!("@{base}"));
        }
        let format = scan_any(
            ctx,
            Input::Mem(&bytes),
            if archive { 0 } else { base },
            depth + 1,
            "",
        )?;
        if archive {
            ctx.members.pop();
        }
        let noise = |r: &str| matches!(r, rules::MALFORMED | rules::LIMIT | rules::TRAILING_DATA);
        if req.speculative
            && (format == Format::Unknown || ctx.findings[before..].iter().all(|f| noise(f.rule)))
        {
            ctx.findings.truncate(before);
            continue;
        }
        let what = match &req.loader {
            Some(l) => format!("passed to {l} at byte {}", req.at),
            None => "a bytes value that is itself a pickle".to_owned(),
        };
        for f in &mut ctx.findings[before..] {
            f.explanation = format!(
                "in a nested {} at byte {base} ({what}): {}",
                format.name(),
                f.explanation
            );
        }
    }
    Ok(())
}

/// NumPy `.npy`: plain arrays are data; object arrays hold a pickle after the header.
fn scan_npy(
    ctx: &mut Ctx<'_>,
    input: Input<'_>,
    base: u64,
    depth: usize,
    head: &[u8],
) -> io::Result<Format> {
    const MAX_HEADER: u64 = 16 << 20;
    let need = numpy::header_end(head).unwrap_or(0);
    let longer;
    let header_bytes = if need > head.len() as u64 && need <= MAX_HEADER {
        longer = input.prefix(need)?.into_owned();
        &longer[..]
    } else {
        head
    };
    let header = match numpy::parse_header(header_bytes) {
        Ok(Some(h)) => h,
        Ok(None) => {
            ctx.add(
                rules::NUMPY_MALFORMED,
                Severity::Medium,
                0,
                None,
                "the .npy header is truncated or longer than 16 MiB".into(),
            );
            return Ok(Format::Numpy);
        }
        Err(m) => {
            ctx.add(rules::NUMPY_MALFORMED, Severity::Medium, 0, None, m);
            return Ok(Format::Numpy);
        }
    };
    if header.object {
        let off = header.data_offset;
        ctx.add(
            rules::NUMPY_OBJECT,
            Severity::Info,
            base + off,
            None,
            "array of Python objects: its data is a pickle, which numpy.load runs when allow_pickle=True".into(),
        );
        match input {
            Input::Mem(d) => {
                let rest = d
                    .get(usize::try_from(off).unwrap_or(usize::MAX)..)
                    .unwrap_or_default();
                pickle_stream(ctx, &mut SliceSource::new(rest, base + off), depth, None)?;
            }
            Input::File(f, len) => {
                let mut src = ReaderSource::new(f, off, base + off, len.saturating_sub(off))?;
                pickle_stream(ctx, &mut src, depth, None)?;
            }
        }
    }
    Ok(Format::Numpy)
}

/// Hands a non-pickle format to its structural check, with at most `max_format_bytes` of it.
fn format_check(
    ctx: &mut Ctx<'_>,
    input: Input<'_>,
    format: Format,
    check: impl FnOnce(&[u8], Option<&Path>, &mut Vec<ModelFinding>),
) -> io::Result<Format> {
    let cap = ctx.opts.max_format_bytes.min(ctx.read_left);
    let len = input.len();
    let data = input.prefix(cap)?;
    if let Input::File(..) = input {
        ctx.read_left -= data.len() as u64;
    }
    if (data.len() as u64) < len {
        ctx.add(
            rules::FORMAT_PARTIAL,
            Severity::Info,
            0,
            None,
            format!(
                "{}: only the first {} of {len} bytes were checked",
                format.name(),
                data.len()
            ),
        );
    }
    let mut out = Vec::new();
    let dir = if ctx.members.is_empty() {
        ctx.model_dir.clone()
    } else {
        None
    };
    check(&data, dir.as_deref(), &mut out);
    ctx.absorb(out);
    Ok(format)
}
