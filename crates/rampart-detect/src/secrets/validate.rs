//! Validators: structure and checksum checks that turn a format match into a confident finding, or reject it.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use super::rules::Validator;

/// What a validator concluded about a candidate.
#[derive(Debug, PartialEq)]
pub(crate) enum Check {
    /// Not this kind of secret after all.
    Reject,
    /// Keep it, with this score and this note for the explanation.
    Keep { score: f32, note: String },
}

/// Runs `validator` on the reported secret `value`; `base` is the rule's score.
pub(crate) fn run(validator: Validator, value: &str, base: f32, now_unix: i64) -> Check {
    match validator {
        Validator::Crc32Github => crc32_github(value, base),
        Validator::Jwt => jwt(value, base, now_unix),
        Validator::BasicAuth => basic_auth(value, base),
        Validator::Bech32Age => bech32_age(value, base),
    }
}

/// CRC-32 (IEEE 802.3, reflected, as zlib computes it). Inputs are tens of bytes, so bitwise is fast enough.
pub(crate) fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `n` in base62, left-padded with `0` to 6 digits (a u32 never needs more).
pub(crate) fn base62_6(mut n: u32) -> [u8; 6] {
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// GitHub's token format (also npm's): after the prefix, 30 random base62 characters and a 6-character
/// base62 CRC32 of those 30.
fn crc32_github(token: &str, base: f32) -> Check {
    let body = token.rsplit('_').next().unwrap_or("").as_bytes();
    if body.len() != 36 {
        return Check::Reject;
    }
    let (random, checksum) = body.split_at(30);
    if base62_6(crc32(random)) == checksum {
        Check::Keep {
            score: 0.98f32.max(base),
            note: "CRC32 checksum valid".into(),
        }
    } else {
        Check::Keep {
            score: 0.6f32.min(base),
            note: "CRC32 checksum does not match (mistyped or made up?)".into(),
        }
    }
}

const BECH32: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/// BIP-173 bech32 checksum over the lower-cased string (`age-secret-key-1…`).
fn bech32_age(value: &str, base: f32) -> Check {
    let lower = value.to_ascii_lowercase();
    let Some((hrp, data)) = lower.rsplit_once('1') else {
        return Check::Reject;
    };
    let mut digits = Vec::with_capacity(data.len());
    for b in data.bytes() {
        match BECH32.iter().position(|&c| c == b) {
            Some(d) => digits.push(d as u8),
            None => return Check::Reject,
        }
    }
    let expanded = hrp
        .bytes()
        .map(|b| b >> 5)
        .chain([0])
        .chain(hrp.bytes().map(|b| b & 31))
        .chain(digits);
    if crate::util::bech32_polymod(expanded) == 1 {
        Check::Keep {
            score: 0.99f32.max(base),
            note: "bech32 checksum valid".into(),
        }
    } else {
        Check::Keep {
            score: 0.6f32.min(base),
            note: "bech32 checksum does not match (mistyped or made up?)".into(),
        }
    }
}

/// Base64 of `user:password` with a non-empty password that is not itself a placeholder.
fn basic_auth(value: &str, base: f32) -> Check {
    let Ok(bytes) = STANDARD.decode(value) else {
        return Check::Reject;
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Check::Reject;
    };
    let Some((user, password)) = text.split_once(':') else {
        return Check::Reject;
    };
    if user.is_empty()
        || password.len() < 4
        || text.chars().any(char::is_control)
        || super::placeholder::is_placeholder(password, true)
    {
        return Check::Reject;
    }
    Check::Keep {
        score: base,
        note: format!(
            "decodes to user:password with a {}-character password",
            password.chars().count()
        ),
    }
}

fn decode_json_part(part: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        serde_json::Value::Object(map) => Some(map),
        _ => None,
    }
}

/// A claim value safe to print: short, without control characters or backticks.
fn printable(s: &str) -> String {
    let mut out: String = s
        .chars()
        .filter(|c| !c.is_control() && *c != '`')
        .take(60)
        .collect();
    if s.chars().count() > 60 {
        out.push('…');
    }
    out
}

/// Header and payload must be JSON objects and the header must carry `alg`; the note names `alg`, `iss` and
/// `exp` (never the signature, never other claims).
fn jwt(token: &str, base: f32, now_unix: i64) -> Check {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Check::Reject;
    };
    let Some(header) = decode_json_part(header) else {
        return Check::Reject;
    };
    let Some(alg) = header.get("alg").and_then(|a| a.as_str()) else {
        return Check::Reject;
    };
    let Some(claims) = decode_json_part(payload) else {
        return Check::Reject;
    };
    let mut score = base;
    let mut note = if alg.eq_ignore_ascii_case("none") {
        "alg none: unsigned, anyone can forge one".to_owned()
    } else {
        format!("alg {}", printable(alg))
    };
    if let Some(iss) = claims.get("iss").and_then(|v| v.as_str()) {
        note.push_str(&format!(", issuer `{}`", printable(iss)));
    }
    match claims
        .get("exp")
        .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
    {
        Some(exp) if exp < now_unix => {
            note.push_str(&format!(", expired {}", civil_date(exp)));
            // An expired token no longer opens anything by itself, but still reveals claims and signing setup.
            score = (base - 0.15).max(0.5);
        }
        Some(exp) => note.push_str(&format!(", valid until {}", civil_date(exp))),
        None => note.push_str(", no expiry claim"),
    }
    Check::Keep { score, note }
}

/// `YYYY-MM-DD` (UTC) for a Unix timestamp, by the days-from-civil inverse; no calendar crate needed.
pub(crate) fn civil_date(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(&base62_6(0), b"000000");
        assert_eq!(&base62_6(61), b"00000z");
    }

    #[test]
    fn github_checksum_is_verified() {
        let random = "Zt3kQ9mWx2LpR7vB4nY8cD1fG6hJ0s";
        let sum = base62_6(crc32(random.as_bytes()));
        let good = format!("ghp_{random}{}", std::str::from_utf8(&sum).unwrap());
        assert!(
            matches!(run(Validator::Crc32Github, &good, 0.9, 0), Check::Keep { score, .. } if score > 0.95)
        );
        let mut bad = good.clone();
        bad.pop();
        bad.push(if good.ends_with('A') { 'B' } else { 'A' });
        assert!(
            matches!(run(Validator::Crc32Github, &bad, 0.9, 0), Check::Keep { score, .. } if score < 0.7)
        );
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(951_782_400), "2000-02-29");
        assert_eq!(civil_date(1_900_000_000), "2030-03-17");
    }

    #[test]
    fn basic_auth_needs_a_real_password() {
        let enc = STANDARD.encode("deploy:s3cr3t-Qz7-92ab");
        assert!(matches!(basic_auth(&enc, 0.88), Check::Keep { .. }));
        assert_eq!(basic_auth(&STANDARD.encode("nocolon"), 0.88), Check::Reject);
        assert_eq!(
            basic_auth(&STANDARD.encode("user:password"), 0.88),
            Check::Reject
        );
        assert_eq!(basic_auth("!!!", 0.88), Check::Reject);
    }
}
