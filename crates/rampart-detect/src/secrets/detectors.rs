//! Detectors that a regex cannot express well: armoured key blocks whose END line must repeat the BEGIN label,
//! bounded in length so that a missing END line costs a bounded search.

use memchr::memmem;

/// A candidate found by a detector, before it becomes a finding.
#[derive(Debug, PartialEq)]
pub(crate) struct Hit {
    pub start: usize,
    pub end: usize,
    pub score: f32,
    pub note: String,
}

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')
}

/// Human name of a PEM label.
fn key_kind(label: &str) -> &'static str {
    match label {
        "RSA PRIVATE KEY" => "RSA private key (PKCS#1)",
        "EC PRIVATE KEY" => "EC private key (SEC 1)",
        "DSA PRIVATE KEY" => "DSA private key",
        "OPENSSH PRIVATE KEY" => "OpenSSH private key",
        "PRIVATE KEY" => "private key (PKCS#8)",
        "ENCRYPTED PRIVATE KEY" => "passphrase-encrypted private key (PKCS#8)",
        "PGP PRIVATE KEY BLOCK" => "OpenPGP private key block",
        _ => "private key",
    }
}

/// Finds `-----BEGIN <label>-----` blocks starting in `from..to` of `text`. `pgp` selects OpenPGP private
/// key blocks; otherwise every other `… PRIVATE KEY` label. Each block may extend `cap` bytes past its header.
pub(crate) fn pem(
    text: &str,
    from: usize,
    to: usize,
    pgp: bool,
    cap: usize,
    out: &mut impl FnMut(Hit),
) {
    const BEGIN: &[u8] = b"-----BEGIN ";
    let bytes = text.as_bytes();
    let mut pos = from;
    while pos < to {
        let Some(i) = memmem::find(&bytes[pos..to], BEGIN) else {
            return;
        };
        let start = pos + i;
        pos = start + BEGIN.len();
        let label_start = pos;
        // Labels are short upper-case words; anything else is not armour.
        let label_end = match bytes[label_start..]
            .iter()
            .take(48)
            .position(|&b| b == b'-')
        {
            Some(n) => label_start + n,
            None => continue,
        };
        let Some(label) = text.get(label_start..label_end) else {
            continue;
        };
        if !bytes[label_end..].starts_with(b"-----")
            || !label
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ')
        {
            continue;
        }
        let is_pgp = label == "PGP PRIVATE KEY BLOCK";
        if is_pgp != pgp || !(is_pgp || label.ends_with("PRIVATE KEY")) {
            continue;
        }
        let body_start = label_end + 5;
        let limit = (body_start + cap).min(bytes.len());
        let (body_end, end, complete) = match find_end(bytes, body_start, limit, label.as_bytes()) {
            Some((body_end, end)) => (body_end, end, true),
            None => {
                // No END line within the cap: a truncated paste still leaks most of the key.
                let run = bytes[body_start..limit]
                    .iter()
                    .position(|&b| !(is_b64(b) || b.is_ascii_whitespace() || b == b'\\'))
                    .map_or(limit, |n| body_start + n);
                (run, run, false)
            }
        };
        let body = &bytes[body_start..body_end];
        let b64 = body.iter().filter(|&&b| is_b64(b)).count();
        // Real keys are hundreds of base64 characters of high entropy; `...` and `<key>` are not.
        if b64 < 48 || body.contains(&b'"') || crate::util::shannon_entropy(body) < 4.0 {
            continue;
        }
        let mut note = format!("{}, {} bytes", key_kind(label), end - start);
        if memmem::find(body, b"ENCRYPTED").is_some() {
            note.push_str(", legacy passphrase encryption");
        }
        if memmem::find(body, b"\\n").is_some() {
            note.push_str(", inside an escaped string");
        }
        let mut score = if label.starts_with("ENCRYPTED") || note.contains("legacy passphrase") {
            0.85
        } else {
            0.95
        };
        if !complete {
            note.push_str(", no END line (truncated)");
            score -= 0.1;
        }
        out(Hit {
            start,
            end,
            score,
            note,
        });
        pos = end.max(pos);
    }
}

/// Locates `-----END <label>-----` in `bytes[from..limit]`; returns (body end, block end).
fn find_end(bytes: &[u8], from: usize, limit: usize, label: &[u8]) -> Option<(usize, usize)> {
    const END: &[u8] = b"-----END ";
    let i = memmem::find(&bytes[from..limit], END)? + from;
    let after = i + END.len();
    let rest = bytes.get(after..)?;
    if rest.starts_with(label) && rest[label.len()..].starts_with(b"-----") {
        Some((i, after + label.len() + 5))
    } else {
        // An END for a different label means the armour is broken; do not guess.
        None
    }
}

/// Finds PuTTY `.ppk` files whose header starts in `from..to`: from `PuTTY-User-Key-File-N:` to the end of the
/// `Private-MAC:` hex.
pub(crate) fn putty(text: &str, from: usize, to: usize, cap: usize, out: &mut impl FnMut(Hit)) {
    const HEADER: &[u8] = b"PuTTY-User-Key-File-";
    const MAC: &[u8] = b"Private-MAC: ";
    let bytes = text.as_bytes();
    let mut pos = from;
    while pos < to {
        let Some(i) = memmem::find(&bytes[pos..to], HEADER) else {
            return;
        };
        let start = pos + i;
        pos = start + HEADER.len();
        let limit = (start + cap).min(bytes.len());
        let region = &bytes[start..limit];
        let Some(mac) = memmem::find(region, MAC) else {
            continue;
        };
        if memmem::find(&region[..mac], b"Private-Lines:").is_none() {
            continue;
        }
        let hex_start = start + mac + MAC.len();
        let hex_len = bytes[hex_start..]
            .iter()
            .take(128)
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        if hex_len < 40 {
            continue;
        }
        let end = hex_start + hex_len;
        let line_end = memchr::memchr(b'\n', &region[..mac]).map_or(mac, |n| n);
        let header = text.get(start..start + line_end).unwrap_or("");
        let algorithm = header.split_once(':').map_or("", |(_, a)| a.trim());
        let encrypted = memmem::find(&region[..mac], b"Encryption: none").is_none();
        let note = format!(
            "PuTTY private key{}{}",
            if algorithm.is_empty() {
                String::new()
            } else {
                format!(" ({})", algorithm.chars().take(32).collect::<String>())
            },
            if encrypted {
                ", passphrase-encrypted"
            } else {
                ", not encrypted"
            }
        );
        out(Hit {
            start,
            end,
            score: if encrypted { 0.85 } else { 0.95 },
            note,
        });
        pos = end;
    }
}
