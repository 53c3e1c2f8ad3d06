//! Recognises a file's format from its first bytes (magic numbers and header structure), never from its
//! name. Protocol 0/1 pickles and protobuf formats (ONNX, SavedModel) have no magic number; they are
//! tried by the caller when nothing here matches.

/// What the first bytes say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sniffed {
    Zip,
    Tar,
    Gzip,
    /// A zlib stream (joblib's `compress=` default).
    Zlib,
    Npy,
    /// A pickle that opens with a PROTO opcode (protocols 2–5).
    Pickle,
    Hdf5,
    Gguf,
    Safetensors,
    /// A compression or archive format this build does not read.
    Unsupported(&'static str),
    Unknown,
}

/// Bytes of the head the sniffer looks at (HDF5 may sit behind a 512/1024/2048-byte user block).
pub(crate) const HEAD: usize = 4096;

/// Sniffs `head` (the first bytes, up to [`HEAD`]) of an input that is `len` bytes long.
pub(crate) fn sniff(head: &[u8], len: u64) -> Sniffed {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Sniffed::Zip;
    }
    if head.starts_with(b"\x93NUMPY") {
        return Sniffed::Npy;
    }
    const HDF5: &[u8] = b"\x89HDF\r\n\x1a\n";
    if [0usize, 512, 1024, 2048]
        .iter()
        .any(|&o| head.get(o..o + HDF5.len()) == Some(HDF5))
    {
        return Sniffed::Hdf5;
    }
    if head.starts_with(b"GGUF") {
        return Sniffed::Gguf;
    }
    if head.starts_with(b"\x1f\x8b") {
        return Sniffed::Gzip;
    }
    if head.len() >= 2 && head[0] == 0x80 && (2..=5).contains(&head[1]) {
        return Sniffed::Pickle;
    }
    if is_tar_header(head) {
        return Sniffed::Tar;
    }
    if is_safetensors(head, len) {
        return Sniffed::Safetensors;
    }
    if let Some(kind) = unsupported(head) {
        return Sniffed::Unsupported(kind);
    }
    if is_zlib(head) {
        return Sniffed::Zlib;
    }
    Sniffed::Unknown
}

/// A POSIX (`ustar`) header, or an old v7 header whose checksum adds up.
pub(crate) fn is_tar_header(head: &[u8]) -> bool {
    let Some(block) = head.get(..512) else {
        return false;
    };
    if &block[257..262] == b"ustar" {
        return true;
    }
    // v7: the name must start with a printable byte and the octal checksum must match.
    if block[0] == 0 || !block[0].is_ascii_graphic() {
        return false;
    }
    let field = &block[148..156];
    let text: String = field
        .iter()
        .take_while(|&&b| b != 0 && b != b' ')
        .map(|&b| b as char)
        .collect();
    let Ok(stored) = u32::from_str_radix(text.trim(), 8) else {
        return false;
    };
    let sum: u32 = block
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(b)
            }
        })
        .sum();
    stored == sum && stored != 0
}

/// safetensors: an 8-byte little-endian header length, then a JSON object that fits in the file.
fn is_safetensors(head: &[u8], len: u64) -> bool {
    let Some(n) = head.get(..8) else {
        return false;
    };
    let n = u64::from_le_bytes([n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]]);
    n >= 2 && n.checked_add(8).is_some_and(|end| end <= len) && head.get(8) == Some(&b'{')
}

fn is_zlib(head: &[u8]) -> bool {
    // CMF 0x78 = deflate with a 32 KiB window; FLG must make the pair a multiple of 31 and set no
    // preset dictionary. The caller still confirms by decompressing.
    head.len() >= 2
        && head[0] == 0x78
        && (u16::from(head[0]) * 256 + u16::from(head[1])) % 31 == 0
        && head[1] & 0x20 == 0
}

fn unsupported(head: &[u8]) -> Option<&'static str> {
    const KINDS: &[(&[u8], &str)] = &[
        (b"BZh", "bzip2"),
        (b"\xfd7zXZ\x00", "xz"),
        (b"\x28\xb5\x2f\xfd", "zstd"),
        (b"\x04\x22\x4d\x18", "lz4"),
        (b"7z\xbc\xaf\x27\x1c", "7z"),
        (b"Rar!\x1a\x07", "rar"),
    ];
    KINDS
        .iter()
        .find(|(magic, _)| head.starts_with(magic))
        .map(|(_, k)| *k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_magic_numbers() {
        assert_eq!(sniff(b"PK\x03\x04rest", 100), Sniffed::Zip);
        assert_eq!(sniff(b"\x80\x02}q\x00.", 6), Sniffed::Pickle);
        assert_eq!(sniff(b"\x80\x09", 2), Sniffed::Unknown);
        assert_eq!(sniff(b"\x93NUMPY\x01\x00", 100), Sniffed::Npy);
        assert_eq!(sniff(b"GGUF\x03\x00\x00\x00", 100), Sniffed::Gguf);
        assert_eq!(sniff(b"\x89HDF\r\n\x1a\n", 100), Sniffed::Hdf5);
        assert_eq!(sniff(b"\x1f\x8b\x08", 100), Sniffed::Gzip);
        assert_eq!(sniff(b"x\x9c\x01", 100), Sniffed::Zlib);
        assert_eq!(sniff(b"BZh91AY", 100), Sniffed::Unsupported("bzip2"));
        assert_eq!(sniff(b"# README\n", 9), Sniffed::Unknown);
    }

    #[test]
    fn safetensors_header_must_fit() {
        let mut f = 20u64.to_le_bytes().to_vec();
        f.extend_from_slice(b"{\"__metadata__\":{}} ");
        assert_eq!(sniff(&f, f.len() as u64), Sniffed::Safetensors);
        assert_eq!(sniff(&f, 10), Sniffed::Unknown);
    }

    #[test]
    fn tar_headers_by_magic_or_checksum() {
        let mut block = vec![0u8; 512];
        block[..4].copy_from_slice(b"file");
        block[148..156].fill(b' ');
        let sum: u32 = block.iter().map(|&b| u32::from(b)).sum();
        let text = format!("{sum:06o}\0 ");
        block[148..156].copy_from_slice(text.as_bytes());
        assert!(is_tar_header(&block));
        block[0] = b'g';
        assert!(!is_tar_header(&block));
        block[257..262].copy_from_slice(b"ustar");
        assert!(is_tar_header(&block));
    }
}
