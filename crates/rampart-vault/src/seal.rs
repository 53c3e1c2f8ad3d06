//! Sealed vault files.
//!
//! Layout (format version 1):
//!
//! ```text
//! "RVLT" | version (1 byte) | sealed length (u32 LE) | nonce (12 bytes, random) | AES-256-GCM-SIV(payload) + tag
//! ```
//!
//! The 9-byte header is the associated data, so neither the version nor the length can be changed unseen;
//! the length tells a file cut short from one altered. The payload
//! is JSON: scope, creation and expiry times, and the recorded entries. The sealing key is a subkey of the
//! [`Key`] (label `rampart-vault/seal/v1`), independent of the keys the operators use.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;

use aes_gcm_siv::Nonce;
use aes_gcm_siv::aead::{Aead, Payload};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::VaultError;
use crate::key::{Crypto, Key, hex};
use crate::token::normalize_label;
use crate::vault::{Entry, Vault};

/// First bytes of every sealed vault.
pub const MAGIC: &[u8; 4] = b"RVLT";
/// Format version written by this build, and the only one it reads.
pub const VERSION: u8 = 1;
const HEADER_LEN: usize = MAGIC.len() + 1 + 4;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const MIN_LEN: usize = HEADER_LEN + NONCE_LEN + TAG_LEN;
/// Largest vault file [`Vault::load`] reads; far above any conversation's worth of placeholders.
pub const MAX_FILE_LEN: u64 = 64 * 1024 * 1024;

#[derive(Serialize)]
struct SealedRef<'a> {
    scope: Option<&'a str>,
    created_ms: u64,
    expires_ms: Option<u64>,
    max_token_len: usize,
    entries: Vec<EntryRef<'a>>,
}

#[derive(Serialize)]
struct EntryRef<'a> {
    entity: &'a str,
    number: u64,
    original: &'a str,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Sealed {
    scope: Option<String>,
    created_ms: u64,
    expires_ms: Option<u64>,
    max_token_len: usize,
    entries: Vec<SealedEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SealedEntry {
    entity: String,
    number: u64,
    original: String,
}

impl Vault {
    /// Encrypts the vault for storage under `key`; a fresh random nonce makes every sealing different.
    pub fn seal(&self, key: &Key) -> Result<Vec<u8>, VaultError> {
        let payload = SealedRef {
            scope: self.scope.as_deref(),
            created_ms: self.created_ms,
            expires_ms: self.expires_ms,
            max_token_len: self.max_token_len,
            entries: self
                .entries
                .iter()
                .map(|e| EntryRef {
                    entity: &e.label,
                    number: e.number,
                    original: &e.original,
                })
                .collect(),
        };
        let json = Zeroizing::new(
            serde_json::to_vec(&payload).map_err(|e| VaultError::Payload(e.to_string()))?,
        );
        let sealed_len = u32::try_from(json.len() + TAG_LEN).map_err(|_| VaultError::Encrypt)?;
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| VaultError::Random(e.to_string()))?;
        let mut out = Vec::with_capacity(MIN_LEN + json.len());
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&sealed_len.to_le_bytes());
        let sealed = Crypto::new(key)
            .seal
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &json,
                    aad: &out,
                },
            )
            .map_err(|_| VaultError::Encrypt)?;
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens a sealed vault. With `scope`, the vault must have been created with exactly that scope.
    ///
    /// Each way a file can be wrong has its own error: not a vault, other version, cut short, trailing
    /// bytes, and (indistinguishable by design) wrong key or altered contents. The result holds no key: add
    /// one with [`Vault::with_key`] to decrypt `encrypt` tokens. An expired vault opens, but does not restore.
    pub fn open(bytes: &[u8], key: &Key, scope: Option<&str>) -> Result<Vault, VaultError> {
        let magic_len = bytes.len().min(MAGIC.len());
        if bytes.get(..magic_len) != MAGIC.get(..magic_len) {
            return Err(VaultError::BadMagic);
        }
        let Some((header, rest)) = bytes.split_at_checked(HEADER_LEN) else {
            return Err(VaultError::Truncated {
                len: bytes.len(),
                expected: MIN_LEN,
            });
        };
        let version = header.get(MAGIC.len()).copied().unwrap_or_default();
        if version != VERSION {
            return Err(VaultError::UnsupportedVersion {
                found: version,
                supported: VERSION,
            });
        }
        let len_bytes: [u8; 4] = header
            .get(MAGIC.len() + 1..)
            .and_then(|b| b.try_into().ok())
            .unwrap_or_default();
        let sealed_len = usize::try_from(u32::from_le_bytes(len_bytes)).unwrap_or(usize::MAX);
        if sealed_len < TAG_LEN {
            return Err(VaultError::Corrupt(format!(
                "payload length {sealed_len} is shorter than a tag"
            )));
        }
        let expected = (HEADER_LEN + NONCE_LEN).saturating_add(sealed_len);
        if bytes.len() < expected {
            return Err(VaultError::Truncated {
                len: bytes.len(),
                expected,
            });
        }
        if bytes.len() > expected {
            return Err(VaultError::Corrupt(format!(
                "{} bytes after the end of the vault",
                bytes.len() - expected
            )));
        }
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| VaultError::Decrypt)?;
        let json = Zeroizing::new(
            Crypto::new(key)
                .seal
                .decrypt(
                    &Nonce::from(nonce),
                    Payload {
                        msg: sealed,
                        aad: header,
                    },
                )
                .map_err(|_| VaultError::Decrypt)?,
        );
        let sealed: Sealed =
            serde_json::from_slice(&json).map_err(|e| VaultError::Payload(e.to_string()))?;
        if let Some(expected) = scope
            && sealed.scope.as_deref() != Some(expected)
        {
            return Err(VaultError::ScopeMismatch {
                expected: expected.to_owned(),
                found: sealed
                    .scope
                    .map_or_else(|| "no scope".to_owned(), |s| format!("`{s}`")),
            });
        }
        let mut vault = Vault::new();
        vault.created_ms = sealed.created_ms;
        vault.expires_ms = sealed.expires_ms;
        vault.scope = sealed.scope;
        vault.max_token_len = sealed.max_token_len;
        for e in sealed.entries {
            if normalize_label(&e.entity) != e.entity.as_str() || e.number == 0 {
                return Err(VaultError::Payload(format!(
                    "invalid entry for entity `{}`",
                    e.entity
                )));
            }
            let entry = Entry::new(e.entity, e.number, e.original);
            if vault.has_placeholder(&entry.placeholder) {
                return Err(VaultError::Payload(format!(
                    "duplicate placeholder {}",
                    entry.placeholder
                )));
            }
            vault.insert(entry);
        }
        Ok(vault)
    }

    /// Seals the vault into `path`: written to a temporary file beside it (mode 0600 on Unix), synced, then
    /// renamed over `path`, so a reader never sees a half-written vault.
    pub fn save(&self, path: impl AsRef<Path>, key: &Key) -> Result<(), VaultError> {
        write_atomic(path.as_ref(), &self.seal(key)?)
    }

    /// Reads and opens a vault written by [`Vault::save`]; see [`Vault::open`] for `scope`.
    pub fn load(
        path: impl AsRef<Path>,
        key: &Key,
        scope: Option<&str>,
    ) -> Result<Vault, VaultError> {
        let file = File::open(path.as_ref())?;
        let len = file.metadata()?.len();
        if len > MAX_FILE_LEN {
            return Err(VaultError::TooLarge {
                len,
                limit: MAX_FILE_LEN,
            });
        }
        let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        // The file may grow between the size check and the read; never read past the limit.
        file.take(MAX_FILE_LEN + 1).read_to_end(&mut bytes)?;
        let read = bytes.len() as u64;
        if read > MAX_FILE_LEN {
            return Err(VaultError::TooLarge {
                len: read,
                limit: MAX_FILE_LEN,
            });
        }
        Vault::open(&bytes, key, scope)
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), VaultError> {
    let name = path.file_name().ok_or_else(|| {
        VaultError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "vault path has no file name",
        ))
    })?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut suffix = [0u8; 6];
    getrandom::fill(&mut suffix).map_err(|e| VaultError::Random(e.to_string()))?;
    let tmp = dir.join(format!(".{}.{}.tmp", name.to_string_lossy(), hex(&suffix)));
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    });
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e.into());
    }
    // Make the rename itself durable; not every platform can sync a directory, so this is best effort.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
