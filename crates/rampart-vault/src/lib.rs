//! Anonymisation operators and the restoring vault (placeholder while being written).

use rampart_core::{Finding, RedactConfig};

/// Error.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// Bad key.
    #[error("bad key: {0}")]
    Key(String),
}

/// A secret key for hash and encrypt operators and for sealing vault files.
pub struct Key([u8; 32]);

/// Placeholder map for restoring originals.
#[derive(Default)]
pub struct Vault;
impl Vault {
    /// New empty vault.
    pub fn new() -> Vault { Vault }
    /// Restores placeholders.
    pub fn restore(&self, text: &str) -> String { text.to_owned() }
}

/// Applies operators.
pub struct Anonymizer;
impl Anonymizer {
    /// Builds one.
    pub fn new(_config: &RedactConfig, _key: Option<Key>) -> Result<Anonymizer, VaultError> { Ok(Anonymizer) }
    /// Replaces the findings' spans.
    pub fn anonymize(&self, text: &str, _findings: &[Finding], _vault: &mut Vault) -> String { text.to_owned() }
}
impl Key {
    /// Derives a key from a secret string.
    pub fn from_secret(_s: &str) -> Result<Key, VaultError> { Ok(Key([0; 32])) }
}
impl Key {
    /// Generates a key.
    pub fn generate() -> Result<Key, VaultError> { Ok(Key([0; 32])) }
    /// Hex form.
    pub fn to_hex(&self) -> String { String::new() }
}
impl Vault {
    /// Saves.
    pub fn save(&self, _p: &std::path::Path, _k: &Key) -> Result<(), VaultError> { Ok(()) }
    /// Loads.
    pub fn load(_p: &std::path::Path, _k: &Key, _s: Option<&str>) -> Result<Vault, VaultError> { Ok(Vault) }
    /// Longest placeholder.
    pub fn max_placeholder_len(&self) -> usize { 64 }
}
