//! Where text comes from: stdin, files, directories; read in bounded chunks so a 1 GB file never sits in
//! memory whole.
//!
//! Invalid UTF-8 bytes are replaced one-for-one with `?` so that every byte offset we report still points at
//! the user's real bytes, and each replacement is noted with its offset.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// One input to scan.
#[derive(Clone, Debug)]
pub enum Source {
    /// Standard input (`-`).
    Stdin,
    /// A file on disk.
    File(PathBuf),
}

impl Source {
    /// Name to show in reports (`-` for stdin).
    pub fn display(&self) -> String {
        match self {
            Source::Stdin => "-".into(),
            Source::File(p) => p.display().to_string(),
        }
    }

    /// Opens the source for reading.
    pub fn open(&self) -> io::Result<Box<dyn Read>> {
        Ok(match self {
            Source::Stdin => Box::new(io::stdin().lock()),
            Source::File(p) => Box::new(std::fs::File::open(p)?),
        })
    }
}

/// Expands the command-line paths: `-` is stdin, directories are walked recursively in sorted order
/// (skipping `.git` and symlinked directories). Paths that cannot be read are returned as errors.
pub fn expand(paths: &[PathBuf]) -> (Vec<Source>, Vec<(PathBuf, io::Error)>) {
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    if paths.is_empty() {
        sources.push(Source::Stdin);
    }
    for p in paths {
        if p.as_os_str() == "-" {
            sources.push(Source::Stdin);
        } else {
            walk(p, &mut sources, &mut errors, true);
        }
    }
    (sources, errors)
}

fn walk(path: &Path, out: &mut Vec<Source>, errors: &mut Vec<(PathBuf, io::Error)>, top: bool) {
    let meta = if top {
        std::fs::metadata(path)
    } else {
        std::fs::symlink_metadata(path)
    };
    match meta {
        Err(e) => errors.push((path.to_owned(), e)),
        Ok(m) if m.is_dir() => {
            if !top && path.file_name().is_some_and(|n| n == ".git") {
                return;
            }
            match std::fs::read_dir(path) {
                Err(e) => errors.push((path.to_owned(), e)),
                Ok(entries) => {
                    let mut children: Vec<PathBuf> =
                        entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
                    children.sort();
                    for child in children {
                        walk(&child, out, errors, false);
                    }
                }
            }
        }
        Ok(m) if m.is_file() => out.push(Source::File(path.to_owned())),
        // Symlinks found while walking (possible loops) and special files are not followed.
        Ok(_) => {}
    }
}

/// What reading noticed about an input.
#[derive(Debug, Default)]
pub struct ReadStats {
    /// Bytes read.
    pub bytes: u64,
    /// Byte offsets of invalid UTF-8 (first 16 kept).
    pub invalid_utf8: Vec<u64>,
    /// Count of invalid UTF-8 sequences.
    pub invalid_count: u64,
    /// The input looks binary (NUL in the first 8 KiB) and was not scanned.
    pub binary: bool,
}

/// A piece of the input handed to the scanning callback.
pub struct Chunk<'a> {
    /// Valid UTF-8 text; invalid bytes already replaced by `?`.
    pub text: &'a str,
    /// Byte offset of `text` in the whole input.
    pub offset: u64,
    /// No more input follows.
    pub is_last: bool,
}

/// Reads `reader` in chunks of about `chunk_size` bytes and calls `f` for each. `f` returns how many bytes
/// of the chunk it has finished with (at least 1 unless the chunk is the last); the rest is carried into the
/// next chunk, which is how callers keep an overlap window for matches that straddle a boundary.
pub fn read_chunks(
    mut reader: impl Read,
    chunk_size: usize,
    mut f: impl FnMut(Chunk<'_>) -> usize,
) -> io::Result<ReadStats> {
    let mut stats = ReadStats::default();
    let mut buf: Vec<u8> = Vec::with_capacity(chunk_size.min(1 << 20) + 4096);
    let mut offset = 0u64;
    let mut eof = false;
    let mut first = true;
    // Bytes at the front of `buf` already checked for UTF-8 validity (and repaired).
    loop {
        while !eof && buf.len() < chunk_size {
            let old = buf.len();
            buf.resize(chunk_size.max(old + 4096), 0);
            let n = match reader.read(&mut buf[old..]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
                Err(e) => return Err(e),
            };
            buf.truncate(old + n);
            stats.bytes += n as u64;
            if n == 0 {
                eof = true;
            }
        }
        if first {
            first = false;
            if memchr_nul(&buf[..buf.len().min(8192)]) {
                stats.binary = true;
                // Drain the rest so that the byte count is right, without keeping it.
                stats.bytes += io::copy(&mut reader, &mut io::sink())?;
                return Ok(stats);
            }
        }
        let valid = repair_utf8(&mut buf, offset, eof, &mut stats);
        let text = std::str::from_utf8(&buf[..valid]).unwrap_or_default();
        let is_last = eof && valid == buf.len();
        let used = f(Chunk {
            text,
            offset,
            is_last,
        })
        .min(valid);
        if is_last {
            return Ok(stats);
        }
        // A callback that consumed nothing on a full chunk would loop forever; force progress.
        let used = if used == 0 && valid > 0 { valid } else { used };
        buf.drain(..used);
        offset += used as u64;
        if used == 0 && eof {
            return Ok(stats);
        }
    }
}

fn memchr_nul(b: &[u8]) -> bool {
    b.contains(&0)
}

/// Replaces invalid UTF-8 sequences in place with `?` (one byte each) and returns the length of the valid
/// prefix; an incomplete sequence at the end is left for the next read unless the input has ended.
fn repair_utf8(buf: &mut [u8], offset: u64, eof: bool, stats: &mut ReadStats) -> usize {
    let mut pos = 0;
    loop {
        match std::str::from_utf8(&buf[pos..]) {
            Ok(_) => return buf.len(),
            Err(e) => {
                let bad = pos + e.valid_up_to();
                match e.error_len() {
                    Some(n) => {
                        note_invalid(stats, offset + bad as u64);
                        buf[bad..bad + n].fill(b'?');
                        pos = bad + n;
                    }
                    None if eof => {
                        note_invalid(stats, offset + bad as u64);
                        buf[bad..].fill(b'?');
                        return buf.len();
                    }
                    None => return bad,
                }
            }
        }
    }
}

fn note_invalid(stats: &mut ReadStats, at: u64) {
    stats.invalid_count += 1;
    if stats.invalid_utf8.len() < 16 {
        stats.invalid_utf8.push(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &[u8], chunk: usize, keep: usize) -> (String, ReadStats) {
        let mut seen = String::new();
        let stats = read_chunks(input, chunk, |c| {
            let used = if c.is_last {
                c.text.len()
            } else {
                c.text.len().saturating_sub(keep)
            };
            let mut used = used;
            while !c.text.is_char_boundary(used) {
                used -= 1;
            }
            seen.push_str(&c.text[..used]);
            used
        })
        .unwrap();
        (seen, stats)
    }

    #[test]
    fn chunks_reassemble_the_input_exactly() {
        let text = "héllo wörld — ünïcödé ".repeat(500);
        for chunk in [16, 17, 100, 4096] {
            let (seen, stats) = collect(text.as_bytes(), chunk, 5);
            assert_eq!(seen, text, "chunk {chunk}");
            assert_eq!(stats.bytes, text.len() as u64);
            assert_eq!(stats.invalid_count, 0);
        }
    }

    #[test]
    fn invalid_utf8_is_replaced_one_for_one_and_located() {
        let mut input = b"abc ".to_vec();
        input.push(0xff);
        input.extend_from_slice(b" def \xe2\x82");
        let (seen, stats) = collect(&input, 4096, 0);
        assert_eq!(seen.len(), input.len());
        assert_eq!(seen, "abc ? def ??");
        assert_eq!(stats.invalid_utf8, vec![4, 10]);
    }

    #[test]
    fn binary_input_is_detected() {
        let (_, stats) = collect(b"PK\x03\x04\x00\x00binary", 4096, 0);
        assert!(stats.binary);
    }
}
