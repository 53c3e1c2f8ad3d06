//! The secret behind the hash and encrypt operators and sealed vault files, and the subkeys derived from it.

use aes_gcm_siv::aead::KeyInit;
use aes_gcm_siv::{Aes256GcmSiv, Key as CipherKey};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroize;

use crate::VaultError;

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// Shortest passphrase accepted by [`Key::from_secret`], in bytes.
pub const MIN_PASSPHRASE_LEN: usize = 16;

/// PBKDF2 iteration count for passphrases (OWASP's 2023 figure for PBKDF2-HMAC-SHA256). A pipeline derives
/// its key once at build, so the cost is paid per process, not per request.
pub const PASSPHRASE_ITERATIONS: u32 = 600_000;

/// Salt for passphrase stretching. It is fixed so that the same passphrase yields the same key on every
/// host (tokens must restore anywhere the passphrase is configured); the label keeps the derived key
/// distinct from any other use of the same passphrase.
const PASSPHRASE_SALT: &[u8] = b"rampart-vault/passphrase/v1";

/// A 256-bit secret for the hash and encrypt operators and for sealing vault files.
///
/// Wiped from memory when dropped. Its `Debug` output never shows the bytes.
#[derive(Clone)]
pub struct Key([u8; 32]);

impl Key {
    /// Builds a key from a configured secret (typically an environment variable).
    ///
    /// Surrounding whitespace is ignored (a trailing newline from a file is common). Exactly 64 hex characters
    /// are taken as the raw key. Anything else is a passphrase of at least [`MIN_PASSPHRASE_LEN`] bytes,
    /// stretched with PBKDF2-HMAC-SHA256 ([`PASSPHRASE_ITERATIONS`] rounds, fixed salt
    /// `rampart-vault/passphrase/v1`). A fixed salt gives no protection against precomputation, so a
    /// passphrase should be long and random; a raw hex key is better still.
    pub fn from_secret(secret: &str) -> Result<Key, VaultError> {
        let secret = secret.trim();
        if let Some(key) = decode_hex_key(secret) {
            return Ok(key);
        }
        if secret.len() < MIN_PASSPHRASE_LEN {
            return Err(VaultError::WeakPassphrase {
                len: secret.len(),
                min: MIN_PASSPHRASE_LEN,
            });
        }
        Ok(Key(pbkdf2_sha256(
            secret.as_bytes(),
            PASSPHRASE_SALT,
            PASSPHRASE_ITERATIONS,
        )))
    }

    /// A fresh random key from the operating system.
    pub fn generate() -> Result<Key, VaultError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| VaultError::Random(e.to_string()))?;
        Ok(Key(bytes))
    }

    /// Uses `bytes` as the key.
    pub fn from_bytes(bytes: [u8; 32]) -> Key {
        Key(bytes)
    }

    /// The raw key as 64 lower-case hex characters, the form [`Key::from_secret`] reads back. For writing a
    /// newly generated key to a protected file; never log it.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// A short public identifier of the key (HMAC of a fixed label, 8 hex chars), for logs and vault scopes.
    /// It reveals nothing about the key but lets two parties check that they hold the same one.
    pub fn id(&self) -> String {
        let tag = self.subkey(b"rampart-vault/key-id/v1");
        hex(&tag[..4])
    }

    /// Derives an independent 256-bit subkey for one purpose, so that no two operators share key material.
    pub(crate) fn subkey(&self, label: &[u8]) -> [u8; 32] {
        let mut mac = mac_with_key(&self.0);
        mac.update(label);
        mac.finalize().into_bytes().into()
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key(id {})", self.id())
    }
}

fn decode_hex_key(s: &str) -> Option<Key> {
    let bytes = s.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let hi = hex_value(pair.first().copied()?)?;
        let lo = hex_value(pair.get(1).copied()?)?;
        *o = hi << 4 | lo;
    }
    Some(Key(out))
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    push_hex(&mut out, bytes);
    out
}

pub(crate) fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
}

pub(crate) fn mac_with_key(key: &[u8; 32]) -> HmacSha256 {
    keyed_mac(key)
}

/// HMAC accepts keys of every length, so this never fails.
fn keyed_mac(key: &[u8]) -> HmacSha256 {
    <HmacSha256 as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"))
}

/// PBKDF2 (RFC 8018) with HMAC-SHA256, one output block: exactly the 32 bytes a key needs.
fn pbkdf2_sha256(password: &[u8], salt: &[u8], rounds: u32) -> [u8; 32] {
    let keyed = keyed_mac(password);
    let mut mac = keyed.clone();
    mac.update(salt);
    mac.update(&1u32.to_be_bytes());
    let mut u: [u8; 32] = mac.finalize().into_bytes().into();
    let mut out = u;
    for _ in 1..rounds {
        // Cloning the keyed state reuses the precomputed pads instead of rehashing the password each round.
        let mut mac = keyed.clone();
        mac.update(&u);
        u = mac.finalize().into_bytes().into();
        out.iter_mut().zip(&u).for_each(|(o, x)| *o ^= x);
    }
    u.zeroize();
    out
}

/// Keys derived once per [`Key`] for the operators and for sealing.
#[derive(Clone)]
pub(crate) struct Crypto {
    /// Keyed hash for the `hash` operator.
    pub(crate) hash: HmacSha256,
    /// Keyed hash giving the synthetic nonce of the `encrypt` operator.
    pub(crate) nonce: HmacSha256,
    /// Cipher for `encrypt` tokens.
    pub(crate) tokens: Aes256GcmSiv,
    /// Cipher for sealed vault files.
    pub(crate) seal: Aes256GcmSiv,
}

impl Crypto {
    pub(crate) fn new(key: &Key) -> Crypto {
        let mut hash = key.subkey(b"rampart-vault/hash/v1");
        let mut nonce = key.subkey(b"rampart-vault/encrypt-nonce/v1");
        let crypto = Crypto {
            hash: mac_with_key(&hash),
            nonce: mac_with_key(&nonce),
            tokens: cipher(key.subkey(b"rampart-vault/encrypt/v1")),
            seal: cipher(key.subkey(b"rampart-vault/seal/v1")),
        };
        hash.zeroize();
        nonce.zeroize();
        crypto
    }
}

fn cipher(mut raw: [u8; 32]) -> Aes256GcmSiv {
    let mut key = CipherKey::<Aes256GcmSiv>::from(raw);
    let cipher = Aes256GcmSiv::new(&key);
    raw.zeroize();
    key.as_mut_slice().zeroize();
    cipher
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_secret_is_the_raw_key() {
        let k = Key::from_secret(&format!("  {}\n", "0f".repeat(32))).unwrap();
        assert_eq!(k.0, [0x0f; 32]);
        let upper = Key::from_secret(&"AB".repeat(32)).unwrap();
        assert_eq!(upper.0, [0xab; 32]);
    }

    #[test]
    fn short_passphrase_is_refused_with_its_length() {
        let err = Key::from_secret("hunter2").unwrap_err();
        assert!(
            matches!(err, VaultError::WeakPassphrase { len: 7, min: 16 }),
            "{err:?}"
        );
        assert!(err.to_string().contains("at least 16"));
        // 63 hex digits is not a raw key, and 63 bytes is a fine passphrase.
        assert!(Key::from_secret(&"a".repeat(63)).is_ok());
        assert!(matches!(
            Key::from_secret("   "),
            Err(VaultError::WeakPassphrase { len: 0, .. })
        ));
    }

    #[test]
    fn passphrase_is_stretched_with_pbkdf2_and_the_fixed_salt() {
        let k = Key::from_secret(" correct horse battery staple\n").unwrap();
        assert_eq!(
            k.0,
            pbkdf2_sha256(
                b"correct horse battery staple",
                PASSPHRASE_SALT,
                PASSPHRASE_ITERATIONS
            )
        );
        assert_ne!(&k.0[..28], b"correct horse battery staple");
    }

    #[test]
    fn pbkdf2_matches_rfc_7914_vector() {
        // RFC 7914 section 11: PBKDF2-HMAC-SHA256 (P="passwd", S="salt", c=1), first 32 bytes.
        let out = pbkdf2_sha256(b"passwd", b"salt", 1);
        assert_eq!(
            hex(&out),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        );
        // RFC 7914 second vector (P="Password", S="NaCl", c=80000), first 32 bytes.
        let out = pbkdf2_sha256(b"Password", b"NaCl", 80_000);
        assert_eq!(
            hex(&out),
            "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
        );
    }

    #[test]
    fn debug_never_shows_the_key() {
        let k = Key::from_bytes([0xab; 32]);
        let shown = format!("{k:?} {k:#?}");
        assert!(!shown.contains("abab"), "{shown}");
        assert!(!shown.contains("171"), "{shown}");
        assert!(shown.contains(&k.id()));
    }

    #[test]
    fn generated_keys_differ_and_ids_are_short() {
        let a = Key::generate().unwrap();
        let b = Key::generate().unwrap();
        assert_ne!(a.0, b.0);
        assert_eq!(a.id().len(), 8);
        assert_ne!(a.id(), b.id());
    }
}
