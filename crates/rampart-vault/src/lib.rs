//! Anonymisation operators and the restoring vault.
//!
//! An [`Anonymizer`] replaces the spans of [`rampart_core::Finding`]s with the operator the policy chooses
//! per entity ([`rampart_core::Operator`]): numbered placeholders (`<EMAIL_ADDRESS_1>`), masks
//! (`j***@example.com`), a fixed `<REDACTED>`, keyed hashes (`<EMAIL_ADDRESS:1f3a9c0b2d4e>`) or
//! deterministic encryption (`<EMAIL_ADDRESS:enc:…>`). A [`Vault`] records placeholders so that a model's
//! answer can be restored, can be sealed to bytes or a file under a [`Key`] (AES-256-GCM-SIV), and carries
//! a scope and an optional time to live.
//!
//! # Keys
//!
//! One [`Key`] serves every keyed operation, through independent subkeys
//! `HMAC-SHA256(key, "rampart-vault/<purpose>/v1")` for the hash operator, the encrypt operator's synthetic
//! nonce, the encrypt operator's cipher and sealed files. So a hash token reveals nothing usable against the
//! encrypt tokens or a vault file made with the same key.
//!
//! - hash: `HMAC-SHA256(hash subkey, entity || 0x00 || value)`, first 6 bytes as hex;
//! - encrypt: nonce = first 12 bytes of `HMAC-SHA256(nonce subkey, entity || 0x00 || value)`, then
//!   AES-256-GCM-SIV with the entity as associated data; the token carries `base64url(nonce || ciphertext)`.
//!   A token moved to another entity label, altered, or read with another key fails authentication and is
//!   left as it is by restore.
//!
//! ```
//! use rampart_core::{Category, Finding, RedactConfig, Severity, Span};
//! use rampart_vault::{Anonymizer, Key, Vault};
//!
//! let text = "Write to jane@example.com today.";
//! let finding = Finding {
//!     scanner: "pii".into(),
//!     rule: "PII0001".into(),
//!     name: "email-address".into(),
//!     entity: Some("EMAIL_ADDRESS".into()),
//!     category: Category::Pii,
//!     severity: Severity::Medium,
//!     score: 0.9,
//!     span: Span::new(9, 25),
//!     explanation: "e-mail address".into(),
//! };
//! let anonymizer = Anonymizer::new(&RedactConfig::default(), None)?;
//! let mut vault = Vault::new();
//! let safe = anonymizer.anonymize(text, &[finding], &mut vault);
//! assert_eq!(safe, "Write to <EMAIL_ADDRESS_1> today.");
//! assert_eq!(vault.restore("Sent to <EMAIL_ADDRESS_1>."), "Sent to jane@example.com.");
//!
//! let key = Key::generate()?;
//! let sealed = vault.seal(&key)?;
//! assert_eq!(Vault::open(&sealed, &key, None)?.restore(&safe), text);
//! # Ok::<(), rampart_vault::VaultError>(())
//! ```
#![deny(missing_docs)]

mod anonymize;
mod error;
mod key;
mod mask;
mod seal;
mod token;
mod vault;

pub use anonymize::{Anonymizer, REDACTED};
pub use error::VaultError;
pub use key::{Key, MIN_PASSPHRASE_LEN, PASSPHRASE_ITERATIONS};
pub use seal::{MAGIC, MAX_FILE_LEN, VERSION};
pub use vault::Vault;
