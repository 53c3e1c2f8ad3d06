//! Streaming file digests: model and dataset files can be many gigabytes, so they are hashed in fixed-size
//! chunks and never held in memory.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

const CHUNK: usize = 256 * 1024;

/// What one pass over a file yields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileDigest {
    /// Lowercase hex SHA-256.
    pub sha256: String,
    pub bytes: u64,
    /// Number of `\n` bytes: the record count of a JSONL file, rows plus header of a simple CSV.
    pub newlines: u64,
}

/// Hashes `path` in 256 KiB chunks, counting newlines when `count_lines` (datasets; `newlines` is 0
/// otherwise). Cost: one sequential read of the file; memory is constant.
pub fn file(path: &Path, count_lines: bool) -> io::Result<FileDigest> {
    let mut f = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut bytes = 0u64;
    let mut newlines = 0u64;
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = &buf[..n];
        hasher.update(chunk);
        bytes += n as u64;
        if count_lines {
            newlines += memchr::memchr_iter(b'\n', chunk).count() as u64;
        }
    }
    Ok(FileDigest {
        sha256: hex(&hasher.finalize()),
        bytes,
        newlines,
    })
}

/// SHA-256 of a byte string, lowercase hex.
#[cfg(test)]
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

/// Reads at most `limit` bytes of `path`; `Ok(None)` when the file is larger (the caller reports it as too big
/// to parse instead of reading a hostile file whole).
pub fn read_bounded(path: &Path, limit: u64) -> io::Result<Option<Vec<u8>>> {
    let f = File::open(path)?;
    let mut data = Vec::new();
    f.take(limit.saturating_add(1)).read_to_end(&mut data)?;
    if data.len() as u64 > limit {
        return Ok(None);
    }
    Ok(Some(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digest_and_counts() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.jsonl");
        std::fs::write(&p, b"{\"a\":1}\n{\"a\":2}\n").unwrap();
        let d = file(&p, true).unwrap();
        assert_eq!(file(&p, false).unwrap().newlines, 0);
        assert_eq!(d.bytes, 16);
        assert_eq!(d.newlines, 2);
        assert_eq!(d.sha256, sha256_hex(b"{\"a\":1}\n{\"a\":2}\n"));
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(read_bounded(&p, 15).unwrap(), None);
        assert_eq!(read_bounded(&p, 16).unwrap().unwrap().len(), 16);
    }
}
