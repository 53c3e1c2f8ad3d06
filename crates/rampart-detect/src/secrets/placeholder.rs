//! Values that look like credentials but are not: documentation placeholders, template variables, code that
//! reads a secret from somewhere else, and the well-known defaults nobody should be alerted about.

/// Substrings that mark documentation and template values in any rule (`AKIAIOSFODNN7EXAMPLE`, `<your-key>`).
const MARKERS: &[&str] = &[
    "example",
    "xxxx",
    "***",
    "<",
    ">",
    "${",
    "{{",
    "%(",
    "dummy",
    "placeholder",
    "redacted",
    "changeme",
    "change_me",
    "change-me",
    "replace_me",
    "replaceme",
    "your_",
    "your-",
    "yourapi",
    "yourkey",
    "yourtoken",
    "yourpassword",
    "insert_",
    "insert-",
    "_here",
    "-here",
    "process.env",
    "os.environ",
    "getenv",
    "...",
];

/// Extra substrings for generic assignments, where a literal is only interesting if it looks random.
const GENERIC_MARKERS: &[&str] = &[
    "test",
    "sample",
    "mock",
    "fake",
    "foobar",
    "lorem",
    "secret",
    "password",
    "passwd",
    "token",
    "qwerty",
    "asdf",
    "letmein",
    "123456",
    "234567",
    "abcdef",
    "admin",
    "default",
    "env.",
    "env[",
    "config.",
    "settings.",
];

/// Whole values (compared case-insensitively) that are defaults or type names, never leaked secrets.
const WEAK_VALUES: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "pwd",
    "secret",
    "token",
    "guest",
    "root",
    "admin",
    "postgres",
    "mysql",
    "redis",
    "user",
    "test",
    "null",
    "nil",
    "none",
    "true",
    "false",
    "undefined",
    "string",
    "str",
    "required",
    "optional",
    "empty",
    "hidden",
    "masked",
    "unset",
    "default",
    "auto",
    "yes",
    "no",
    "on",
    "off",
];

/// True when `value` is a placeholder, a template or code reference, or a well-known default.
///
/// `generic` applies the stricter checks used for `password = …` style rules, whose keys carry no format.
pub(crate) fn is_placeholder(value: &str, generic: bool) -> bool {
    if value.is_empty() {
        return true;
    }
    // Lower-casing needs no allocation for the short values rules capture: fold into a stack buffer.
    let mut buf = [0u8; 256];
    let bytes = value.as_bytes();
    let lower: &[u8] = if bytes.len() <= buf.len() {
        for (dst, src) in buf.iter_mut().zip(bytes) {
            *dst = src.to_ascii_lowercase();
        }
        &buf[..bytes.len()]
    } else {
        // Long values (PEM bodies, long tokens) only need the case-sensitive marker scan.
        bytes
    };
    let contains = |needle: &str| memchr::memmem::find(lower, needle.as_bytes()).is_some();
    if MARKERS.iter().any(|m| contains(m)) {
        return true;
    }
    if WEAK_VALUES.iter().any(|w| w.as_bytes() == lower) {
        return true;
    }
    if !generic {
        return false;
    }
    if GENERIC_MARKERS.iter().any(|m| contains(m)) {
        return true;
    }
    let first = bytes[0];
    // Shell and template variables, decorators, references: `$DB_PASS`, `@Value`, `&ref`, `*ptr`.
    if matches!(
        first,
        b'$' | b'%' | b'@' | b'&' | b'*' | b'#' | b'{' | b'[' | b'('
    ) {
        return true;
    }
    // Calls, indexing and generics are code, not literals: `get_password()`, `env["X"]`, `Optional[str]`.
    if bytes.iter().any(|b| matches!(b, b'(' | b')' | b'[' | b']')) {
        return true;
    }
    if is_dotted_identifier(value) || is_path_or_url(value) {
        return true;
    }
    low_variety(bytes)
}

/// `self.password`, `config.db.pass`, `req.Password`: a member access, not a literal.
fn is_dotted_identifier(v: &str) -> bool {
    v.contains('.')
        && v.split('.').all(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

fn is_path_or_url(v: &str) -> bool {
    v.starts_with('/')
        || v.starts_with("./")
        || v.starts_with("../")
        || v.starts_with("~/")
        || v.contains('\\')
        || v.contains("://")
        || [
            ".pem", ".key", ".json", ".txt", ".yaml", ".yml", ".env", ".cfg", ".ini", ".p12",
            ".crt",
        ]
        .iter()
        .any(|ext| v.to_ascii_lowercase().ends_with(ext))
}

/// Fewer than four distinct bytes, or one byte making up more than half: `aaaaaaaa`, `abababab`, `00000001`.
fn low_variety(bytes: &[u8]) -> bool {
    let mut counts = [0u16; 256];
    let mut distinct = 0;
    let mut top = 0;
    for &b in bytes.iter().take(4096) {
        let c = &mut counts[b as usize];
        if *c == 0 {
            distinct += 1;
        }
        *c = c.saturating_add(1);
        top = top.max(*c);
    }
    distinct < 4 || usize::from(top) * 2 > bytes.len().min(4096)
}

/// Character classes present: lower, upper, digit, other. Generic values need more than one.
pub(crate) fn char_classes(v: &str) -> u8 {
    let (mut lower, mut upper, mut digit, mut other) = (false, false, false, false);
    for b in v.bytes() {
        match b {
            b'a'..=b'z' => lower = true,
            b'A'..=b'Z' => upper = true,
            b'0'..=b'9' => digit = true,
            _ => other = true,
        }
    }
    u8::from(lower) + u8::from(upper) + u8::from(digit) + u8::from(other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documentation_and_template_values_are_placeholders() {
        for v in [
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "xxxxxxxxxxxxxxxxxxxx",
            "****",
            "<your-key>",
            "${VAR}",
            "{{ var }}",
            "%(var)s",
            "changeme",
            "REDACTED",
            "sk_live_your_key_here",
        ] {
            assert!(is_placeholder(v, false), "{v}");
        }
        for v in [
            "$VAR",
            "process.env.X",
            "os.environ['X']",
            "password123",
            "aaaaaaaaaaaa",
            "123456789",
            "dummy",
            "test-key-1",
            "sample",
            "null",
            "None",
            "true",
            "/etc/secrets/db.pass",
            "https://vault.local/v1/x",
            "self.password",
            "getPassword()",
            "abababab",
        ] {
            assert!(is_placeholder(v, true), "{v}");
        }
    }

    #[test]
    fn random_values_are_not_placeholders() {
        for v in [
            "Qz7-UxZs3skHjf",
            "Tr0ub4dor&3",
            "hunter2",
            "ghp_9fK2LmQ8xR4vT1wY6zB3nC5dE7gH0jA2kS4u",
        ] {
            assert!(!is_placeholder(v, true), "{v}");
        }
        // Stripe test keys are real credentials; only generic rules treat `test` as a placeholder.
        assert!(!is_placeholder("sk_test_51HqLyjWDarjtT1zdp7dcXYZ", false));
    }

    #[test]
    fn classes_are_counted() {
        assert_eq!(char_classes("abc"), 1);
        assert_eq!(char_classes("aB3!"), 4);
    }
}
