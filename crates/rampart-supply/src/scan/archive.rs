//! Zip, tar, gzip and zlib: member names checked for path traversal and links, expansion checked for
//! bombs, and only the members that can carry code read and scanned (recursively, with a depth limit).
//!
//! In a torch zip checkpoint only `*.pkl` members are decompressed; tensor storages (`archive/data/N`)
//! are never read. Other members are sniffed from their first 4 KiB and read whole only when that shows
//! a format worth scanning.

use std::cell::Cell;
use std::collections::HashSet;
use std::io::{self, BufReader, Cursor, Read, Seek, SeekFrom};
use std::rc::Rc;

use flate2::read::{MultiGzDecoder, ZlibDecoder};
use rampart_core::Severity;
use zip::{CompressionMethod, ZipArchive};

use super::sniff::{HEAD, Sniffed, sniff};
use super::{BOMB_MIN_SIZE, Ctx, Input, dispatch, numpy, pickle_stream, scan_any};
use crate::pickle::{self, SliceSource};
use crate::report::Format;
use crate::rules;

/// Why a member's name is unsafe to extract, if it is.
pub(crate) fn unsafe_name(name: &str) -> Option<&'static str> {
    if name.contains('\0') {
        return Some("contains a NUL byte");
    }
    let n = name.replace('\\', "/");
    if n.starts_with('/') {
        return Some("is an absolute path");
    }
    let b = n.as_bytes();
    if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
        return Some("starts with a Windows drive letter");
    }
    let mut depth = 0i64;
    for part in n.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return Some("climbs out of the extraction folder with ../");
                }
            }
            _ => depth += 1,
        }
    }
    None
}

/// How a member is treated.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Sniff and scan whatever it is.
    Generic,
    /// A pickle (stream) by the container's convention: scan as one even without a PROTO opcode.
    Pickle,
    /// A Keras v3 `config.json`.
    KerasConfig,
    /// Not read: torch tensor storages and bookkeeping files.
    Skip,
}

struct EntryMeta {
    name: String,
    size: u64,
    csize: u64,
    method: CompressionMethod,
    encrypted: bool,
    symlink: bool,
    dir: bool,
    header: u64,
}

pub(super) fn scan_zip(ctx: &mut Ctx<'_>, input: Input<'_>, depth: usize) -> io::Result<Format> {
    match input {
        Input::Mem(d) => walk_zip(ctx, Cursor::new(d), depth),
        Input::File(f, _) => {
            let mut r = BufReader::new(f);
            r.seek(SeekFrom::Start(0))?;
            walk_zip(ctx, r, depth)
        }
    }
}

fn walk_zip<R: Read + Seek>(ctx: &mut Ctx<'_>, reader: R, depth: usize) -> io::Result<Format> {
    let mut z = match ZipArchive::new(reader) {
        Ok(z) => z,
        Err(e) => {
            ctx.add(
                rules::ARCHIVE_MALFORMED,
                Severity::Medium,
                0,
                None,
                format!("starts like a zip archive but cannot be read as one: {e}"),
            );
            return Ok(Format::Zip);
        }
    };
    let total = z.len();
    let limit = usize::try_from(ctx.opts.max_entries).unwrap_or(usize::MAX);
    if total > limit {
        ctx.add(
            rules::ARCHIVE_LIMIT,
            Severity::Medium,
            0,
            None,
            format!("{total} members; only the first {limit} were checked"),
        );
    }
    let mut metas = Vec::with_capacity(total.min(limit));
    for i in 0..total.min(limit) {
        let Ok(e) = z.by_index_data(i) else { continue };
        metas.push(EntryMeta {
            name: String::from_utf8_lossy(e.name_raw()).into_owned(),
            size: e.size(),
            csize: e.compressed_size(),
            method: e.compression(),
            encrypted: e.encrypted(),
            symlink: e.is_symlink(),
            dir: e.is_dir(),
            header: e.central_header_start(),
        });
    }
    check_zip_structure(ctx, &mut z, &metas);

    let is_torch = metas
        .iter()
        .any(|m| m.name == "data.pkl" || m.name.ends_with("/data.pkl"));
    let is_keras = !is_torch
        && metas.iter().any(|m| m.name == "config.json")
        && metas
            .iter()
            .any(|m| m.name == "metadata.json" || m.name.ends_with(".weights.h5"));
    let files: Vec<&EntryMeta> = metas.iter().filter(|m| !m.dir && !m.symlink).collect();
    let is_npz = !is_torch
        && !is_keras
        && !files.is_empty()
        && files.iter().all(|m| m.name.ends_with(".npy"));
    let format = if is_torch {
        Format::PytorchZip
    } else if is_keras {
        Format::Keras
    } else if is_npz {
        Format::Npz
    } else {
        Format::Zip
    };

    for (i, m) in metas.iter().enumerate() {
        if m.dir || m.symlink {
            continue;
        }
        let role = if is_torch {
            torch_role(&m.name)
        } else if is_keras && m.name == "config.json" {
            Role::KerasConfig
        } else {
            Role::Generic
        };
        if role == Role::Skip {
            continue;
        }
        if m.encrypted {
            name_finding(
                ctx,
                &m.name,
                rules::ENCRYPTED,
                Severity::Medium,
                m.header,
                "is encrypted: its content was not checked".into(),
            );
            continue;
        }
        if !matches!(
            m.method,
            CompressionMethod::Stored | CompressionMethod::Deflated
        ) {
            name_finding(
                ctx,
                &m.name,
                rules::UNSUPPORTED_COMPRESSION,
                Severity::Medium,
                m.header,
                format!(
                    "uses compression method {:?}, which this scanner does not read: its content was not checked",
                    m.method
                ),
            );
            continue;
        }
        if ctx.read_left == 0 {
            budget_spent(ctx);
            break;
        }
        let entry = match z.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                name_finding(
                    ctx,
                    &m.name,
                    rules::ARCHIVE_MALFORMED,
                    Severity::Medium,
                    m.header,
                    format!("cannot be read: {e}"),
                );
                continue;
            }
        };
        scan_member(ctx, &m.name, entry, m.size, depth, role)?;
    }
    Ok(format)
}

/// Zip-level checks that need no member data: names, links, duplicates, expansion, overlaps.
fn check_zip_structure<R: Read + Seek>(
    ctx: &mut Ctx<'_>,
    z: &mut ZipArchive<R>,
    metas: &[EntryMeta],
) {
    for m in metas {
        if let Some(why) = unsafe_name(&m.name) {
            name_finding(
                ctx,
                &m.name,
                rules::PATH_TRAVERSAL,
                Severity::High,
                m.header,
                format!(
                    "member name {} {why}: extracting it writes outside the target folder",
                    shown_name(&m.name)
                ),
            );
        }
        if m.symlink {
            name_finding(
                ctx,
                &m.name,
                rules::LINK_ENTRY,
                Severity::Medium,
                m.header,
                "is a symbolic link: extracting it can expose or overwrite files outside the folder".into(),
            );
        }
    }
    if z.has_duplicate_names() {
        ctx.add(
            rules::DUPLICATE_ENTRY,
            Severity::High,
            0,
            None,
            "two or more members share a name: zip readers disagree on which copy they load, so a scanner can \
             be shown one copy and the loader another (only one copy was checked)"
                .into(),
        );
    }
    let mut expanded: u64 = 0;
    let mut worst: Option<&EntryMeta> = None;
    let mut over = 0usize;
    for m in metas
        .iter()
        .filter(|m| m.method != CompressionMethod::Stored)
    {
        expanded = expanded.saturating_add(m.size);
        if m.size >= BOMB_MIN_SIZE && m.size / m.csize.max(1) > ctx.opts.max_ratio {
            over += 1;
            if worst.is_none_or(|w| m.size / m.csize.max(1) > w.size / w.csize.max(1)) {
                worst = Some(m);
            }
        }
    }
    if let Some(w) = worst {
        ctx.add(
            rules::ZIP_BOMB,
            Severity::High,
            w.header,
            None,
            format!(
                "{over} member(s) expand more than {}x; worst: {} from {} to {} bytes ({}x)",
                ctx.opts.max_ratio,
                shown_name(&w.name),
                w.csize,
                w.size,
                w.size / w.csize.max(1)
            ),
        );
    }
    if expanded > ctx.opts.max_expanded {
        ctx.add(
            rules::ZIP_BOMB,
            Severity::High,
            0,
            None,
            format!(
                "compressed members declare {expanded} bytes once expanded (limit {})",
                ctx.opts.max_expanded
            ),
        );
    }
    if matches!(z.has_overlapping_files(), Ok(true)) {
        ctx.add(
            rules::ZIP_BOMB,
            Severity::High,
            0,
            None,
            "members share compressed data (an overlapping-entry zip bomb expands one block many times)".into(),
        );
    }
}

/// Torch zip checkpoints: pickles are read, storages and bookkeeping are not.
fn torch_role(name: &str) -> Role {
    let rest = name.split_once('/').map_or(name, |(_, r)| r);
    if name.ends_with(".pkl") || name.ends_with(".debug_pkl") {
        Role::Pickle
    } else if rest.starts_with("data/")
        || rest.starts_with(".data/")
        || matches!(
            rest,
            "version" | "byteorder" | ".format_version" | ".storage_alignment"
        )
        || rest.starts_with("code/") && rest.ends_with(".py")
    {
        Role::Skip
    } else {
        Role::Generic
    }
}

fn shown_name(name: &str) -> String {
    let mut s = String::new();
    let cut: String = name.chars().take(120).collect();
    crate::pickle::quote_for_report(&mut s, &cut);
    s
}

fn name_finding(
    ctx: &mut Ctx<'_>,
    name: &str,
    rule: &'static str,
    sev: Severity,
    offset: u64,
    text: String,
) {
    let text = if text.starts_with("member name") {
        text
    } else {
        format!("member {} {text}", shown_name(name))
    };
    ctx.members.push(name.to_owned());
    ctx.add(rule, sev, offset, None, text);
    ctx.members.pop();
}

fn budget_spent(ctx: &mut Ctx<'_>) {
    if !ctx
        .findings
        .iter()
        .any(|f| f.rule == rules::ARCHIVE_LIMIT && f.explanation.starts_with("read budget"))
    {
        ctx.add(
            rules::ARCHIVE_LIMIT,
            Severity::Medium,
            0,
            None,
            format!(
                "read budget of {} bytes spent: the remaining members were not checked",
                ctx.opts.max_read_bytes
            ),
        );
    }
}

/// Reads into `buf` until it holds `want` bytes or the reader ends.
fn read_upto(r: &mut impl Read, buf: &mut Vec<u8>, want: usize) -> io::Result<()> {
    let need = want.saturating_sub(buf.len());
    r.take(need as u64).read_to_end(buf)?;
    Ok(())
}

/// [`read_upto`] for an archive member: a read error (a damaged compressed member) is reported on the member
/// and gives `false`.
fn read_member(
    ctx: &mut Ctx<'_>,
    name: &str,
    r: &mut impl Read,
    buf: &mut Vec<u8>,
    want: usize,
) -> bool {
    match read_upto(r, buf, want) {
        Ok(()) => true,
        Err(e) => {
            name_finding(
                ctx,
                name,
                rules::ARCHIVE_MALFORMED,
                Severity::Medium,
                0,
                format!("cannot be decompressed: {e}"),
            );
            false
        }
    }
}

/// Scans one archive member from `r`: sniffs its head, reads the rest only if it can carry code.
fn scan_member(
    ctx: &mut Ctx<'_>,
    name: &str,
    mut r: impl Read,
    declared: u64,
    depth: usize,
    role: Role,
) -> io::Result<()> {
    if !ctx.enter(depth + 1) {
        return Ok(());
    }
    let mut buf = Vec::new();
    if !read_member(ctx, name, &mut r, &mut buf, HEAD) {
        return Ok(());
    }
    let kind = sniff(&buf, declared);
    let whole = match role {
        Role::Pickle | Role::KerasConfig => true,
        Role::Skip => false,
        Role::Generic => match kind {
            Sniffed::Unknown => {
                pickle::plausible_head(&buf, declared, &ctx.opts.pickle)
                    || dispatch::onnx_sniff(&buf)
                    || dispatch::savedmodel_sniff(&buf)
            }
            Sniffed::Npy => match numpy::parse_header(&buf) {
                Ok(Some(h)) => h.object,
                // Header longer than the head, or malformed: read it all and let the scan report.
                _ => true,
            },
            _ => true,
        },
    };
    if !whole {
        return Ok(());
    }
    let limit = ctx.opts.max_member_bytes.min(ctx.read_left);
    let cap = usize::try_from(limit.saturating_add(1)).unwrap_or(usize::MAX);
    if !read_member(ctx, name, &mut r, &mut buf, cap) {
        return Ok(());
    }
    if buf.len() as u64 > limit {
        if limit < ctx.opts.max_member_bytes {
            budget_spent(ctx);
        } else {
            name_finding(
                ctx,
                name,
                rules::ARCHIVE_LIMIT,
                Severity::Medium,
                0,
                format!(
                    "is larger than {} bytes once expanded: not checked",
                    ctx.opts.max_member_bytes
                ),
            );
        }
        return Ok(());
    }
    ctx.read_left -= buf.len() as u64;
    ctx.members.push(name.to_owned());
    let result = match role {
        Role::Pickle => {
            pickle_stream(ctx, &mut SliceSource::new(&buf, 0), depth + 1, None).map(|_| ())
        }
        Role::KerasConfig => {
            let mut out = Vec::new();
            dispatch::keras_config(&buf, &mut out);
            ctx.absorb(out);
            Ok(())
        }
        _ => scan_any(ctx, Input::Mem(&buf), 0, depth + 1, name).map(|_| ()),
    };
    ctx.members.pop();
    result
}

pub(super) fn scan_tar(ctx: &mut Ctx<'_>, input: Input<'_>, depth: usize) -> io::Result<Format> {
    match input {
        Input::Mem(d) => {
            let mut a = tar::Archive::new(Cursor::new(d));
            walk_tar(ctx, a.entries_with_seek(), depth)
        }
        Input::File(f, _) => {
            let mut r = BufReader::new(f);
            r.seek(SeekFrom::Start(0))?;
            let mut a = tar::Archive::new(r);
            walk_tar(ctx, a.entries_with_seek(), depth)
        }
    }
}

/// Names of the members of a pre-1.6 torch tar checkpoint; each holds pickles.
const LEGACY_TORCH_TAR: [&str; 4] = ["sys_info", "pickle", "tensors", "storages"];

fn walk_tar<R: Read>(
    ctx: &mut Ctx<'_>,
    entries: io::Result<tar::Entries<'_, R>>,
    depth: usize,
) -> io::Result<Format> {
    let entries = match entries {
        Ok(e) => e,
        Err(e) => {
            ctx.add(
                rules::ARCHIVE_MALFORMED,
                Severity::Medium,
                0,
                None,
                format!("unreadable tar archive: {e}"),
            );
            return Ok(Format::Tar);
        }
    };
    let mut names = HashSet::new();
    for (i, entry) in entries.enumerate() {
        if i as u64 >= ctx.opts.max_entries {
            ctx.add(
                rules::ARCHIVE_LIMIT,
                Severity::Medium,
                0,
                None,
                format!(
                    "more than {} members; the rest were not checked",
                    ctx.opts.max_entries
                ),
            );
            break;
        }
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => {
                ctx.add(
                    rules::ARCHIVE_MALFORMED,
                    Severity::Medium,
                    0,
                    None,
                    format!("damaged tar archive: {e}"),
                );
                break;
            }
        };
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let header = entry.raw_header_position();
        if let Some(why) = unsafe_name(&name) {
            name_finding(
                ctx,
                &name,
                rules::PATH_TRAVERSAL,
                Severity::High,
                header,
                format!(
                    "member name {} {why}: extracting it writes outside the target folder",
                    shown_name(&name)
                ),
            );
        }
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            let target = entry
                .link_name_bytes()
                .map(|t| String::from_utf8_lossy(&t).into_owned())
                .unwrap_or_default();
            let escapes = unsafe_name(&target).is_some();
            name_finding(
                ctx,
                &name,
                rules::LINK_ENTRY,
                if escapes {
                    Severity::High
                } else {
                    Severity::Medium
                },
                header,
                format!(
                    "is a {} to {}{}",
                    if kind.is_symlink() {
                        "symbolic link"
                    } else {
                        "hard link"
                    },
                    shown_name(&target),
                    if escapes {
                        ", outside the extraction folder"
                    } else {
                        ""
                    }
                ),
            );
            continue;
        }
        if !(kind.is_file() || kind.is_contiguous()) {
            continue;
        }
        if ctx.read_left == 0 {
            budget_spent(ctx);
            break;
        }
        let size = entry.size();
        let role = if LEGACY_TORCH_TAR.contains(&name.as_str()) {
            Role::Pickle
        } else {
            Role::Generic
        };
        names.insert(name.clone());
        scan_member(ctx, &name, &mut entry, size, depth, role)?;
    }
    let legacy =
        names.contains("pickle") && (names.contains("sys_info") || names.contains("storages"));
    Ok(if legacy {
        Format::PytorchLegacy
    } else {
        Format::Tar
    })
}

/// Counts what a decompressor produces and fails once it passes `cap` (a decompression bomb).
struct Capped<R> {
    inner: R,
    produced: u64,
    cap: u64,
    tripped: Rc<Cell<bool>>,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.produced += n as u64;
        if self.produced > self.cap {
            self.tripped.set(true);
            return Err(io::Error::other(
                "decompressed data exceeds the expansion limit",
            ));
        }
        Ok(n)
    }
}

fn expansion_cap(ctx: &Ctx<'_>, compressed: u64) -> u64 {
    compressed
        .saturating_mul(ctx.opts.max_ratio)
        .max(BOMB_MIN_SIZE)
        .min(ctx.opts.max_expanded)
}

fn bomb(ctx: &mut Ctx<'_>, what: &str, compressed: u64, cap: u64) {
    ctx.add(
        rules::ZIP_BOMB,
        Severity::High,
        0,
        None,
        format!("{what} stream of {compressed} bytes expands past {cap} bytes (more than {}x): not checked further", ctx.opts.max_ratio),
    );
}

/// The name of a decompressed stream: `model.pkl.gz` → `model.pkl`.
fn inner_name(name: &str) -> String {
    if let Some(s) = name.strip_suffix(".tgz") {
        return format!("{s}.tar");
    }
    for ext in [".gz", ".gzip", ".z", ".zlib"] {
        if let Some(s) = name.strip_suffix(ext)
            && !s.is_empty()
        {
            return s.to_owned();
        }
    }
    if name.is_empty() {
        "(decompressed)".to_owned()
    } else {
        format!("{name}(decompressed)")
    }
}

pub(super) fn scan_gzip(
    ctx: &mut Ctx<'_>,
    input: Input<'_>,
    depth: usize,
    name: &str,
) -> io::Result<Format> {
    let clen = input.len();
    // Every member of a multi-member gzip file, as Python's gzip module reads them: a second member
    // appended to a harmless first one must not go unseen.
    match input {
        Input::Mem(d) => {
            gunzip(ctx, MultiGzDecoder::new(d), clen, depth, name, "gzip")?;
        }
        Input::File(f, _) => {
            let mut r = BufReader::new(f);
            r.seek(SeekFrom::Start(0))?;
            gunzip(ctx, MultiGzDecoder::new(r), clen, depth, name, "gzip")?;
        }
    }
    Ok(Format::Gzip)
}

/// joblib's `compress=` writes a zlib stream. Returns `None` when the data does not decompress (then it
/// was not zlib after all).
pub(super) fn scan_zlib(
    ctx: &mut Ctx<'_>,
    input: Input<'_>,
    depth: usize,
    name: &str,
) -> io::Result<Option<Format>> {
    let head = input.prefix(HEAD as u64)?;
    let mut probe = Vec::new();
    if ZlibDecoder::new(&head[..])
        .take(16)
        .read_to_end(&mut probe)
        .is_err()
        || probe.is_empty()
    {
        return Ok(None);
    }
    let clen = input.len();
    let inner = match input {
        Input::Mem(d) => gunzip(ctx, ZlibDecoder::new(d), clen, depth, name, "zlib")?,
        Input::File(f, _) => {
            let mut r = BufReader::new(f);
            r.seek(SeekFrom::Start(0))?;
            gunzip(ctx, ZlibDecoder::new(r), clen, depth, name, "zlib")?
        }
    };
    Ok(Some(match inner {
        Some(Format::Pickle | Format::Joblib) => Format::Joblib,
        Some(f) => f,
        None => Format::Unknown,
    }))
}

/// Decompresses a stream: a tar inside is walked as it streams; anything else is read (bounded) and
/// scanned. Returns the inner format.
fn gunzip<R: Read>(
    ctx: &mut Ctx<'_>,
    dec: R,
    clen: u64,
    depth: usize,
    name: &str,
    what: &str,
) -> io::Result<Option<Format>> {
    if !ctx.enter(depth + 1) {
        return Ok(None);
    }
    let cap = expansion_cap(ctx, clen);
    let tripped = Rc::new(Cell::new(false));
    let mut stream = Capped {
        inner: dec,
        produced: 0,
        cap,
        tripped: tripped.clone(),
    };
    // A read error past the expansion cap is the cap tripping (a bomb), any other a damaged stream.
    let failed = |ctx: &mut Ctx<'_>, e: io::Error| {
        if tripped.get() {
            bomb(ctx, what, clen, cap);
        } else {
            ctx.add(
                rules::ARCHIVE_MALFORMED,
                Severity::Medium,
                0,
                None,
                format!("damaged {what} stream: {e}"),
            );
        }
    };
    let inner = inner_name(name);
    let mut head = Vec::new();
    if let Err(e) = read_upto(&mut stream, &mut head, HEAD) {
        failed(ctx, e);
        return Ok(None);
    }
    ctx.members.push(inner.clone());
    let result = if sniff(&head, u64::MAX) == Sniffed::Tar {
        let mut a = tar::Archive::new(Cursor::new(head).chain(stream));
        let f = walk_tar(ctx, a.entries(), depth + 1);
        if tripped.get() {
            bomb(ctx, what, clen, cap);
        }
        f.map(Some)
    } else {
        let limit = ctx.opts.max_member_bytes.min(ctx.read_left);
        let want = usize::try_from(limit.saturating_add(1)).unwrap_or(usize::MAX);
        match read_upto(&mut stream, &mut head, want) {
            Err(e) => {
                failed(ctx, e);
                Ok(None)
            }
            Ok(()) if head.len() as u64 > limit => {
                ctx.add(
                    rules::ARCHIVE_LIMIT,
                    Severity::Medium,
                    0,
                    None,
                    format!("decompresses to more than {limit} bytes: not checked"),
                );
                Ok(None)
            }
            Ok(()) => {
                ctx.read_left -= head.len() as u64;
                scan_any(ctx, Input::Mem(&head), 0, depth + 1, &inner).map(Some)
            }
        }
    };
    ctx.members.pop();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_names() {
        assert_eq!(unsafe_name("archive/data.pkl"), None);
        assert_eq!(unsafe_name("a/../b"), None);
        assert!(unsafe_name("../evil").is_some());
        assert!(unsafe_name("a/../../evil").is_some());
        assert!(unsafe_name("..\\evil").is_some());
        assert!(unsafe_name("/etc/passwd").is_some());
        assert!(unsafe_name("C:/Windows/evil.dll").is_some());
        assert!(unsafe_name("c:evil").is_some());
        assert!(unsafe_name("ok\0.pkl").is_some());
    }

    #[test]
    fn torch_members() {
        assert!(torch_role("archive/data.pkl") == Role::Pickle);
        assert!(torch_role("archive/constants.pkl") == Role::Pickle);
        assert!(torch_role("archive/data/0") == Role::Skip);
        assert!(torch_role("archive/version") == Role::Skip);
        assert!(torch_role("archive/code/__torch__/m.py") == Role::Skip);
        assert!(torch_role("archive/extra/readme.bin") == Role::Generic);
    }

    #[test]
    fn decompressed_names() {
        assert_eq!(inner_name("m.pkl.gz"), "m.pkl");
        assert_eq!(inner_name("m.tgz"), "m.tar");
        assert_eq!(inner_name("blob"), "blob(decompressed)");
    }
}
