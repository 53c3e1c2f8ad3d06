//! The `mask` operator: hide most of a value but keep enough to recognise it.

/// Values with more maskable characters than this keep their last [`KEEP`]; shorter ones are fully masked,
/// since four characters of a six-digit PIN would reveal most of it.
const SHORT: usize = 8;
/// Characters kept at the end of a long value: the usual "card ending in 4242".
const KEEP: usize = 4;

/// Characters kept as they are: they carry the layout (`4242 4242 …`, `+1 (555) 010-…`) but no secret.
fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '-' | '.' | '/' | '(' | ')')
}

/// Appends the masked form of `value` to `out`.
///
/// - E-mail addresses keep the first character of the local part and the domain, with a fixed `***` so the
///   length of the name is not revealed: `j***@example.com`.
/// - Other values keep separators; when they have more than 8 other characters the last 4 of those stay,
///   everything else becomes `*`: `**** **** **** 4242`.
pub(crate) fn push_masked(out: &mut String, label: &str, value: &str) {
    if let Some((first, domain)) = email_parts(label, value) {
        out.push(first);
        out.push_str("***@");
        out.push_str(domain);
        return;
    }
    let maskable = value.chars().filter(|&c| !is_separator(c)).count();
    let keep_from = if maskable > SHORT {
        maskable - KEEP
    } else {
        usize::MAX
    };
    let mut seen = 0;
    for c in value.chars() {
        if is_separator(c) {
            out.push(c);
        } else {
            out.push(if seen >= keep_from { c } else { '*' });
            seen += 1;
        }
    }
}

/// The first character of the local part and the domain, when `value` is an address: the finding says so,
/// or it has the plain `local@domain.tld` shape. URLs with credentials (`user:pw@host`) are not addresses.
fn email_parts<'v>(label: &str, value: &'v str) -> Option<(char, &'v str)> {
    let (local, domain) = value.rsplit_once('@')?;
    let first = local.chars().next()?;
    let plain = |s: &str| {
        !s.is_empty() && !s.contains(|c: char| c.is_whitespace() || matches!(c, ':' | '/' | '@'))
    };
    let looks_like = plain(local) && plain(domain) && domain.contains('.');
    (looks_like || (label == "EMAIL_ADDRESS" && plain(domain))).then_some((first, domain))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(label: &str, v: &str) -> String {
        let mut s = String::new();
        push_masked(&mut s, label, v);
        s
    }

    #[test]
    fn cards_keep_layout_and_last_four() {
        assert_eq!(
            mask("CREDIT_CARD", "4242 4242 4242 4242"),
            "**** **** **** 4242"
        );
        assert_eq!(
            mask("CREDIT_CARD", "4242-4242-4242-4242"),
            "****-****-****-4242"
        );
        assert_eq!(mask("CREDIT_CARD", "4242424242424242"), "************4242");
    }

    #[test]
    fn short_values_are_fully_masked() {
        assert_eq!(mask("PIN", "123456"), "******");
        assert_eq!(mask("PHONE_NUMBER", "555-0100"), "***-****");
        assert_eq!(mask("X", "12345678"), "********");
        assert_eq!(mask("X", "123456789"), "*****6789");
        assert_eq!(mask("X", ""), "");
    }

    #[test]
    fn emails_keep_first_letter_and_domain() {
        assert_eq!(
            mask("EMAIL_ADDRESS", "jane.doe@example.com"),
            "j***@example.com"
        );
        assert_eq!(mask("PII", "élodie@exemple.fr"), "é***@exemple.fr");
        // A connection string is not an address: its password must not survive.
        let url = mask("DATABASE_URL", "postgres://admin:s3cretpw@db.example.com");
        assert!(!url.contains("s3cret"), "{url}");
        assert!(url.ends_with(".com"), "{url}");
    }

    #[test]
    fn symbols_in_secrets_are_masked() {
        assert_eq!(mask("PASSWORD", "p@ss!word#12"), "********d#12");
    }
}
