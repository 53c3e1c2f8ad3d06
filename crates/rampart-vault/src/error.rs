//! What can go wrong with keys, vault files and restoring.

/// Errors from key handling, sealing, opening and restoring vaults.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The secret is neither 64 hex characters nor a passphrase long enough to stretch.
    #[error(
        "passphrase too short: {len} bytes, need at least {min} (or give a 256-bit key as 64 hex characters)"
    )]
    WeakPassphrase {
        /// Length of the secret after trimming, in bytes.
        len: usize,
        /// Minimum passphrase length in bytes.
        min: usize,
    },
    /// The operating system's random source failed.
    #[error("random source failed: {0}")]
    Random(String),
    /// The redaction settings are inconsistent.
    #[error("{0}")]
    Config(String),
    /// Encryption of a value or vault payload failed (the input exceeds the cipher's limits).
    #[error("encryption failed: input too large")]
    Encrypt,
    /// The sealed bytes end before the length their header announces (or before a header ends).
    #[error("vault file truncated: {len} bytes, expected {expected}")]
    Truncated {
        /// Bytes received.
        len: usize,
        /// Bytes the header announces, or the smallest possible vault when the header itself is cut.
        expected: usize,
    },
    /// The sealed bytes are structurally wrong (impossible length, bytes after the end).
    #[error("vault file corrupt: {0}")]
    Corrupt(String),
    /// The bytes do not start with the vault magic `RVLT`.
    #[error("not a vault file (magic bytes missing)")]
    BadMagic,
    /// The file was written by a format version this build does not read.
    #[error("unsupported vault format version {found} (this build reads version {supported})")]
    UnsupportedVersion {
        /// Version byte in the file.
        found: u8,
        /// Version this build writes and reads.
        supported: u8,
    },
    /// Authentication failed: the key is wrong or the file was altered or damaged.
    #[error("cannot open vault: wrong key, or the file was altered or damaged")]
    Decrypt,
    /// The decrypted payload is not a vault this build understands.
    #[error("vault payload unreadable: {0}")]
    Payload(String),
    /// The vault belongs to another scope (request, session or key id).
    #[error("vault scope mismatch: expected `{expected}`, the vault belongs to {found}")]
    ScopeMismatch {
        /// Scope the caller asked for.
        expected: String,
        /// Scope recorded in the vault, quoted, or `no scope`.
        found: String,
    },
    /// The vault's time to live has passed; its originals are no longer restored.
    #[error("vault expired")]
    Expired,
    /// The vault file is larger than any vault this build writes.
    #[error("vault file too large: {len} bytes (limit {limit})")]
    TooLarge {
        /// Size of the file.
        len: u64,
        /// Largest size accepted.
        limit: u64,
    },
    /// Reading or writing a vault file failed.
    #[error("vault file: {0}")]
    Io(#[from] std::io::Error),
}
