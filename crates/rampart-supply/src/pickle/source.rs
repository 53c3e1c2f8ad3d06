//! Where the pickle VM reads from: a byte slice already in memory, or a seekable reader (a file on disk)
//! read through a buffer, so that multi-gigabyte pickles never need to sit in memory whole.
//!
//! Every read is checked against the bytes that remain before anything is allocated, so a length field
//! claiming four gigabytes in a ten-byte file costs nothing.

use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

/// A bounded, seekable byte stream with absolute offsets.
pub trait Source {
    /// Absolute offset of the next byte.
    fn pos(&self) -> u64;
    /// Absolute offset one past the last byte.
    fn end(&self) -> u64;
    /// Bytes left before [`Source::end`].
    fn remaining(&self) -> u64 {
        self.end().saturating_sub(self.pos())
    }
    /// The next byte, or `None` at the end.
    fn byte(&mut self) -> io::Result<Option<u8>>;
    /// Appends the next `n` bytes to `into`. The caller has checked `n <= remaining()`.
    fn fill(&mut self, n: usize, into: &mut Vec<u8>) -> io::Result<()>;
    /// Skips `n` bytes. The caller has checked `n <= remaining()`.
    fn skip(&mut self, n: u64) -> io::Result<()>;
    /// Moves to absolute offset `pos` (clamped to the end).
    fn seek_to(&mut self, pos: u64) -> io::Result<()>;
    /// Reads up to and past the next `\n`, keeping at most `keep` bytes of the line (without the `\n`) in
    /// `into`. Returns the full line length, or `None` when the input ends first (the position is then at
    /// the end).
    fn line(&mut self, keep: usize, into: &mut Vec<u8>) -> io::Result<Option<u64>>;
    /// Reads `len` bytes at absolute offset `at` and restores the position; used for nested pickles after
    /// the outer pass. The caller bounds `len`.
    fn read_at(&mut self, at: u64, len: usize) -> io::Result<Vec<u8>> {
        let back = self.pos();
        self.seek_to(at)?;
        let mut out = Vec::new();
        let n = len.min(usize::try_from(self.remaining()).unwrap_or(usize::MAX));
        self.fill(n, &mut out)?;
        self.seek_to(back)?;
        Ok(out)
    }
}

/// A pickle held in memory. `base` is the absolute offset of `data[0]` in the enclosing file or member, so
/// findings point at the user's bytes.
pub struct SliceSource<'a> {
    data: &'a [u8],
    base: u64,
    at: usize,
}

impl<'a> SliceSource<'a> {
    /// A source over `data`, whose first byte is at absolute offset `base`.
    pub fn new(data: &'a [u8], base: u64) -> SliceSource<'a> {
        SliceSource { data, base, at: 0 }
    }
}

impl Source for SliceSource<'_> {
    fn pos(&self) -> u64 {
        self.base + self.at as u64
    }

    fn end(&self) -> u64 {
        self.base + self.data.len() as u64
    }

    fn byte(&mut self) -> io::Result<Option<u8>> {
        let b = self.data.get(self.at).copied();
        if b.is_some() {
            self.at += 1;
        }
        Ok(b)
    }

    fn fill(&mut self, n: usize, into: &mut Vec<u8>) -> io::Result<()> {
        let Some(chunk) = self.data.get(self.at..self.at.saturating_add(n)) else {
            return Err(io::ErrorKind::UnexpectedEof.into());
        };
        into.extend_from_slice(chunk);
        self.at += n;
        Ok(())
    }

    fn skip(&mut self, n: u64) -> io::Result<()> {
        let n = usize::try_from(n).map_err(|_| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        if n > self.data.len() - self.at {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.at += n;
        Ok(())
    }

    fn seek_to(&mut self, pos: u64) -> io::Result<()> {
        let rel = pos.saturating_sub(self.base);
        self.at = usize::try_from(rel).map_or(self.data.len(), |r| r.min(self.data.len()));
        Ok(())
    }

    fn line(&mut self, keep: usize, into: &mut Vec<u8>) -> io::Result<Option<u64>> {
        let rest = &self.data[self.at..];
        match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                into.extend_from_slice(&rest[..i.min(keep)]);
                self.at += i + 1;
                Ok(Some(i as u64))
            }
            None => {
                self.at = self.data.len();
                Ok(None)
            }
        }
    }
}

/// A pickle read from a seekable reader (usually a file), `len` bytes starting at the reader's current
/// position, which is reported as absolute offset `base`.
pub struct ReaderSource<R> {
    inner: BufReader<R>,
    start: u64,
    base: u64,
    at: u64,
    len: u64,
}

impl<R: Read + Seek> ReaderSource<R> {
    /// Reads `len` bytes of `reader` from offset `reader_pos`, reported as offsets `base..`.
    pub fn new(mut reader: R, reader_pos: u64, base: u64, len: u64) -> io::Result<ReaderSource<R>> {
        reader.seek(SeekFrom::Start(reader_pos))?;
        Ok(ReaderSource {
            inner: BufReader::with_capacity(64 << 10, reader),
            start: reader_pos,
            base,
            at: 0,
            len,
        })
    }
}

impl<R: Read + Seek> Source for ReaderSource<R> {
    fn pos(&self) -> u64 {
        self.base + self.at
    }

    fn end(&self) -> u64 {
        self.base + self.len
    }

    fn byte(&mut self) -> io::Result<Option<u8>> {
        if self.at >= self.len {
            return Ok(None);
        }
        let buf = self.inner.fill_buf()?;
        let Some(&b) = buf.first() else {
            return Err(io::ErrorKind::UnexpectedEof.into());
        };
        self.inner.consume(1);
        self.at += 1;
        Ok(Some(b))
    }

    fn fill(&mut self, n: usize, into: &mut Vec<u8>) -> io::Result<()> {
        if n as u64 > self.len - self.at {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let old = into.len();
        into.resize(old + n, 0);
        self.inner.read_exact(&mut into[old..])?;
        self.at += n as u64;
        Ok(())
    }

    fn skip(&mut self, n: u64) -> io::Result<()> {
        if n > self.len - self.at {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let rel = i64::try_from(n).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        self.inner.seek_relative(rel)?;
        self.at += n;
        Ok(())
    }

    fn seek_to(&mut self, pos: u64) -> io::Result<()> {
        let rel = pos.saturating_sub(self.base).min(self.len);
        self.inner.seek(SeekFrom::Start(self.start + rel))?;
        self.at = rel;
        Ok(())
    }

    fn line(&mut self, keep: usize, into: &mut Vec<u8>) -> io::Result<Option<u64>> {
        let mut total = 0u64;
        loop {
            let left = self.len - self.at;
            if left == 0 {
                return Ok(None);
            }
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let buf = &buf[..buf.len().min(usize::try_from(left).unwrap_or(usize::MAX))];
            let (take, done) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (i, true),
                None => (buf.len(), false),
            };
            let room = keep.saturating_sub(into.len().min(keep));
            into.extend_from_slice(&buf[..take.min(room)]);
            total += take as u64;
            let consumed = take + usize::from(done);
            self.inner.consume(consumed);
            self.at += consumed as u64;
            if done {
                return Ok(Some(total));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercise(s: &mut dyn Source) {
        assert_eq!(s.pos(), 10);
        assert_eq!(s.end(), 10 + 13);
        assert_eq!(s.byte().unwrap(), Some(b'a'));
        let mut line = Vec::new();
        assert_eq!(s.line(2, &mut line).unwrap(), Some(4));
        assert_eq!(line, b"bc");
        s.skip(2).unwrap();
        let mut v = Vec::new();
        s.fill(3, &mut v).unwrap();
        assert_eq!(v, b"hij");
        assert_eq!(s.read_at(11, 3).unwrap(), b"bcd");
        assert_eq!(s.pos(), 21);
        assert!(s.skip(100).is_err());
        let mut rest = Vec::new();
        assert_eq!(s.line(100, &mut rest).unwrap(), None);
        assert_eq!(s.byte().unwrap(), None);
    }

    #[test]
    fn slice_and_reader_sources_agree() {
        let data = b"abcde\nfghijklm";
        exercise(&mut SliceSource::new(&data[..13], 10));
        let cur = io::Cursor::new(data.to_vec());
        exercise(&mut ReaderSource::new(cur, 0, 10, 13).unwrap());
    }
}
