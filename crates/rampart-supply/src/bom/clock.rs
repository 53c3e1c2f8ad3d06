//! Timestamps and serial numbers for BOM metadata, with a reproducible mode for snapshot tests and
//! reproducible builds (`SOURCE_DATE_EPOCH`).

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch now (0 if the clock is before 1970).
pub fn now_epoch() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a Unix time, using the proleptic Gregorian calendar. Years are clamped to
/// 0..=9999 so the result is always a valid RFC 3339 date-time.
pub fn rfc3339(epoch: i64) -> String {
    // Clamp to 0000-01-01T00:00:00Z ..= 9999-12-31T23:59:59Z.
    let epoch = epoch.clamp(-62_167_219_200, 253_402_300_799);
    let days = epoch.div_euclid(86_400);
    let secs = epoch.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Year, month, day of the day `days` after 1970-01-01. Works in 400-year eras (146 097 days), counting years
/// from March so that the leap day falls at the end of the year.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153; // month counted from March
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `urn:uuid:` + a UUID built from 16 bytes, stamped with `version` (4 random, 8 custom) and the RFC variant.
pub fn urn_uuid(mut bytes: [u8; 16], version: u8) -> String {
    bytes[6] = (bytes[6] & 0x0f) | (version << 4);
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let h = super::digest::hex(&bytes);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// A random (version 4) serial number. Falls back to a time-derived value if the OS has no randomness, which
/// still satisfies the schema; a serial number is an identifier, not a secret.
pub fn random_serial() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = t.to_le_bytes();
    }
    urn_uuid(bytes, 4)
}

/// A serial number that is a function of `content` (version 8: "custom", RFC 9562), so that two runs over the
/// same files produce the same BOM.
pub fn derived_serial(content: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(content);
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    urn_uuid(bytes, 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339(i64::MAX), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(i64::MIN), "0000-01-01T00:00:00Z");
    }

    #[test]
    fn serials_have_the_schema_shape() {
        let is_uuid = |s: &str| {
            let u = s.strip_prefix("urn:uuid:").unwrap();
            let parts: Vec<&str> = u.split('-').collect();
            parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
                && u.bytes()
                    .all(|b| b == b'-' || b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        };
        let r = random_serial();
        assert!(is_uuid(&r), "{r}");
        assert_eq!(&r[23..24], "4");
        let d = derived_serial(b"x");
        assert!(is_uuid(&d), "{d}");
        assert_eq!(d, derived_serial(b"x"));
        assert_ne!(d, derived_serial(b"y"));
        assert_eq!(&d[23..24], "8");
    }
}
