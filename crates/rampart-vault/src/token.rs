//! Token grammar shared by the operators and the restorer.
//!
//! Every reversible token is `<` + label + `>` with no `<` or `>` inside, so a single left-to-right scan finds
//! each one exactly, whatever text surrounds it:
//! - replace: `<EMAIL_ADDRESS_1>` (label `[A-Z0-9_]+`, then `_` and a number);
//! - hash: `<EMAIL_ADDRESS:1f3a9c0b2d4e>` (12 lower-case hex digits, not reversible);
//! - encrypt: `<EMAIL_ADDRESS:enc:BASE64URL>` where the payload is `nonce (12 bytes) || ciphertext || tag`.

use std::borrow::Cow;

use aes_gcm_siv::aead::{Aead, Payload};
use aes_gcm_siv::{Aes256GcmSiv, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac;
use rampart_core::Finding;

use crate::VaultError;
use crate::key::{HmacSha256, push_hex};

/// Longest entity label kept in a token; longer names are cut so a token stays short.
const MAX_LABEL: usize = 64;
/// Hex digits in a hash token: 48 bits, enough to tell values apart within any realistic data set while
/// keeping the token short for the model.
pub(crate) const HASH_HEX: usize = 12;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// The entity label of a finding: its entity type, else its rule name, as `[A-Z0-9_]` (`aws-access-key-id` →
/// `AWS_ACCESS_KEY_ID`). Borrowed when the name is already in that form, which is the common case.
pub(crate) fn entity_label(finding: &Finding) -> Cow<'_, str> {
    normalize_label(finding.entity.as_deref().unwrap_or(&finding.name))
}

/// Upper-cases ASCII letters and turns every other character outside `[A-Z0-9_]` into `_`, so that a label
/// can never break the token grammar.
pub(crate) fn normalize_label(name: &str) -> Cow<'_, str> {
    let valid = |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_';
    if !name.is_empty() && name.len() <= MAX_LABEL && name.bytes().all(valid) {
        return Cow::Borrowed(name);
    }
    let mut out: String = name
        .chars()
        .take(MAX_LABEL)
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() {
        out.push_str("ENTITY");
    }
    Cow::Owned(out)
}

fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_LABEL
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// Byte ranges of every `<...>` run in `text` with no `<` or `>` inside and at most `max_len` bytes long.
///
/// Linear: each byte is passed over once, however many unmatched `<` the text holds.
pub(crate) fn bracketed(text: &str, max_len: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
    let bytes = text.as_bytes();
    let mut pos = 0;
    std::iter::from_fn(move || {
        loop {
            let lt = pos + memchr::memchr(b'<', bytes.get(pos..)?)?;
            let after = lt + 1;
            let Some(i) = memchr::memchr2(b'<', b'>', bytes.get(after..)?) else {
                pos = bytes.len();
                return None;
            };
            let close = after + i;
            if bytes.get(close) == Some(&b'<') {
                pos = close;
                continue;
            }
            pos = close + 1;
            if pos - lt <= max_len {
                return Some((lt, pos));
            }
        }
    })
}

/// Appends `<LABEL:hhhhhhhhhhhh>`: HMAC-SHA256(hash key, label || 0 || value), truncated.
pub(crate) fn push_hash_token(out: &mut String, mac: &HmacSha256, label: &str, value: &str) {
    let mut mac = mac.clone();
    mac.update(label.as_bytes());
    mac.update(&[0]);
    mac.update(value.as_bytes());
    let digest = mac.finalize().into_bytes();
    out.push('<');
    out.push_str(label);
    out.push(':');
    push_hex(out, &digest[..HASH_HEX / 2]);
    out.push('>');
}

/// Appends `<LABEL:enc:...>`: deterministic AES-256-GCM-SIV of `value` with the label as associated data.
///
/// The nonce is synthetic (HMAC of label and value), so the same value always gives the same token under
/// one key, which keeps a conversation consistent; GCM-SIV stays safe when a nonce repeats, and here a
/// repeat only ever happens for the same plaintext. Returns the token's length in bytes.
pub(crate) fn push_encrypt_token(
    out: &mut String,
    nonce_mac: &HmacSha256,
    cipher: &Aes256GcmSiv,
    label: &str,
    value: &str,
) -> Result<usize, VaultError> {
    let mut mac = nonce_mac.clone();
    mac.update(label.as_bytes());
    mac.update(&[0]);
    mac.update(value.as_bytes());
    let digest = mac.finalize().into_bytes();
    let mut nonce_bytes = [0u8; NONCE_LEN];
    // The digest is a fixed 32 bytes, longer than the nonce.
    nonce_bytes.copy_from_slice(&digest[..NONCE_LEN]);
    let nonce = Nonce::from(nonce_bytes);
    let sealed = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: value.as_bytes(),
                aad: label.as_bytes(),
            },
        )
        .map_err(|_| VaultError::Encrypt)?;
    let mut raw = Vec::with_capacity(NONCE_LEN + sealed.len());
    raw.extend_from_slice(&nonce_bytes);
    raw.extend_from_slice(&sealed);
    let start = out.len();
    out.push('<');
    out.push_str(label);
    out.push_str(":enc:");
    URL_SAFE_NO_PAD.encode_string(&raw, out);
    out.push('>');
    Ok(out.len() - start)
}

/// Decrypts an encrypt token (`<LABEL:enc:...>`, brackets included). `None` when the token is not of that
/// form, fails authentication (other key, altered, label swapped) or does not hold UTF-8.
pub(crate) fn decrypt_token(cipher: &Aes256GcmSiv, token: &str) -> Option<String> {
    let inner = token.strip_prefix('<')?.strip_suffix('>')?;
    let (label, payload) = inner.split_once(":enc:")?;
    if !is_label(label) {
        return None;
    }
    let raw = URL_SAFE_NO_PAD.decode(payload).ok()?;
    if raw.len() < NONCE_LEN + TAG_LEN {
        return None;
    }
    let (nonce, sealed) = raw.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
    let plain = cipher
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: sealed,
                aad: label.as_bytes(),
            },
        )
        .ok()?;
    String::from_utf8(plain).ok()
}

/// True when `token` (brackets included) could be a replace placeholder: `<LABEL_N>`.
pub(crate) fn is_placeholder_shaped(token: &str) -> bool {
    let Some(inner) = token.strip_prefix('<').and_then(|t| t.strip_suffix('>')) else {
        return false;
    };
    match inner.rsplit_once('_') {
        Some((label, n)) => {
            is_label(label) && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_token_safe() {
        assert_eq!(normalize_label("EMAIL_ADDRESS"), "EMAIL_ADDRESS");
        assert!(matches!(normalize_label("EMAIL_ADDRESS"), Cow::Borrowed(_)));
        assert_eq!(normalize_label("aws-access-key-id"), "AWS_ACCESS_KEY_ID");
        assert_eq!(normalize_label("a<b>:c é"), "A_B__C__");
        assert_eq!(normalize_label(""), "ENTITY");
        assert_eq!(normalize_label(&"x".repeat(100)).len(), MAX_LABEL);
    }

    #[test]
    fn bracketed_finds_innermost_runs() {
        let t = "a <b> <<c> <d <e>> f> <";
        let found: Vec<&str> = bracketed(t, 100).map(|(s, e)| &t[s..e]).collect();
        assert_eq!(found, ["<b>", "<c>", "<e>"]);
        let long = format!("<{}>", "x".repeat(50));
        assert_eq!(bracketed(&long, 10).count(), 0);
        assert_eq!(bracketed(&long, 52).count(), 1);
    }

    #[test]
    fn bracketed_is_linear_on_many_open_brackets() {
        let t = "<".repeat(200_000) + &"x".repeat(10) + ">";
        assert_eq!(bracketed(&t, 64).count(), 1);
        let t = "<x".repeat(200_000);
        assert_eq!(bracketed(&t, 64).count(), 0);
    }

    #[test]
    fn placeholder_shape() {
        assert!(is_placeholder_shaped("<EMAIL_ADDRESS_12>"));
        assert!(!is_placeholder_shaped("<EMAIL_ADDRESS_>"));
        assert!(!is_placeholder_shaped("<email_1>"));
        assert!(!is_placeholder_shaped("<EMAIL:abc>"));
        assert!(!is_placeholder_shaped("EMAIL_1"));
    }
}
