//! Package URLs (purl) for the ecosystems the BOM knows, following the purl specification and its per-type
//! rules: PyPI names normalised as in PEP 503, npm scopes as a percent-encoded namespace, Go module paths split
//! into namespace segments and lowercased, Hugging Face revisions lowercased.

use std::fmt::{self, Write};

/// A package URL under construction; `Display` writes the canonical string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Purl {
    kind: &'static str,
    namespace: Vec<String>,
    name: String,
    version: Option<String>,
    /// Kept sorted by key, as the spec's canonical form requires.
    qualifiers: Vec<(&'static str, String)>,
}

impl Purl {
    fn new(kind: &'static str, name: impl Into<String>) -> Purl {
        Purl {
            kind,
            namespace: Vec::new(),
            name: name.into(),
            version: None,
            qualifiers: Vec::new(),
        }
    }

    fn version(mut self, version: Option<&str>) -> Purl {
        self.version = version.filter(|v| !v.is_empty()).map(str::to_owned);
        self
    }

    /// Adds a qualifier; empty values are dropped, as the spec requires.
    pub fn qualifier(mut self, key: &'static str, value: impl Into<String>) -> Purl {
        let value = value.into();
        if !value.is_empty() {
            self.qualifiers.push((key, value));
            self.qualifiers.sort();
        }
        self
    }

    /// `pkg:pypi/NAME@VERSION` with the name normalised (lowercase, runs of `-_.` become `-`).
    pub fn pypi(name: &str, version: Option<&str>) -> Purl {
        Purl::new("pypi", pep503_name(name)).version(version)
    }

    /// `pkg:npm/%40SCOPE/NAME@VERSION`; the name is lowercased.
    pub fn npm(name: &str, version: Option<&str>) -> Purl {
        let lower = name.to_ascii_lowercase();
        let mut p = match lower
            .strip_prefix('@')
            .and_then(|rest| rest.split_once('/'))
        {
            Some((scope, bare)) => {
                let mut p = Purl::new("npm", bare);
                p.namespace.push(format!("@{scope}"));
                p
            }
            None => Purl::new("npm", lower),
        };
        p = p.version(version);
        p
    }

    /// `pkg:cargo/NAME@VERSION`.
    pub fn cargo(name: &str, version: Option<&str>) -> Purl {
        Purl::new("cargo", name).version(version)
    }

    /// `pkg:golang/NAMESPACE.../NAME@VERSION` from a module path such as `github.com/gorilla/mux`.
    pub fn golang(module: &str, version: Option<&str>) -> Purl {
        let lower = module.to_ascii_lowercase();
        let mut segments: Vec<String> = lower
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let name = segments.pop().unwrap_or_default();
        let mut p = Purl::new("golang", name).version(version);
        p.namespace = segments;
        p
    }

    /// `pkg:huggingface/ORG/NAME@REVISION` for a Hub repository id (`org/name` or a bare `name`).
    pub fn huggingface(repo_id: &str, revision: Option<&str>) -> Purl {
        let (ns, name) = match repo_id.split_once('/') {
            Some((ns, name)) => (Some(ns), name),
            None => (None, repo_id),
        };
        let rev = revision.map(str::to_ascii_lowercase);
        let mut p = Purl::new("huggingface", name).version(rev.as_deref());
        if let Some(ns) = ns {
            p.namespace.push(ns.to_owned());
        }
        p
    }

    /// `pkg:generic/NAME@VERSION`, for things with no package ecosystem (a model file in a project).
    pub fn generic(name: &str, version: Option<&str>) -> Purl {
        Purl::new("generic", name).version(version)
    }
}

impl fmt::Display for Purl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pkg:{}/", self.kind)?;
        for segment in &self.namespace {
            f.write_str(&encode(segment, false))?;
            f.write_char('/')?;
        }
        f.write_str(&encode(&self.name, false))?;
        if let Some(v) = &self.version {
            write!(f, "@{}", encode(v, false))?;
        }
        for (i, (k, v)) in self.qualifiers.iter().enumerate() {
            write!(
                f,
                "{}{k}={}",
                if i == 0 { '?' } else { '&' },
                encode(v, true)
            )?;
        }
        Ok(())
    }
}

/// Percent-encodes one purl component. Unreserved characters and `:` stay as they are (the spec forbids
/// encoding the colon); `/` also stays inside qualifier values, which hold URLs.
fn encode(s: &str, qualifier_value: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'.' | b'-' | b'_' | b'~' | b':')
            || (qualifier_value && b == b'/');
        if keep {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(&h), Some(&l)) = (bytes.get(i + 1), bytes.get(i + 2))
            && let (Some(h), Some(l)) = (hex(h), hex(l))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// PEP 503 normalisation: lowercase, and every run of `-`, `_`, `.` becomes one `-`.
pub fn pep503_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.extend(c.to_lowercase());
            in_run = false;
        }
    }
    out
}

/// The parts of a purl string that policies look at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedPurl {
    pub kind: String,
    /// Decoded namespace segments joined with `/` (`@angular`, `github.com/gorilla`), if any.
    pub namespace: Option<String>,
    pub name: String,
    pub version: Option<String>,
}

/// Splits `pkg:type/namespace/name@version?qualifiers#subpath`; `None` when it is not a purl.
pub fn parse(purl: &str) -> Option<ParsedPurl> {
    let rest = purl.strip_prefix("pkg:")?;
    let rest = rest.split('#').next().unwrap_or(rest);
    let rest = rest.split('?').next().unwrap_or(rest);
    let (kind, path) = rest.trim_start_matches('/').split_once('/')?;
    let (path, version) = match path.rsplit_once('@') {
        Some((p, v)) => (p, Some(decode(v))),
        None => (path, None),
    };
    let mut segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    let name = segments.pop()?;
    let namespace = (!segments.is_empty()).then(|| segments.join("/"));
    Some(ParsedPurl {
        kind: kind.to_ascii_lowercase(),
        namespace,
        name,
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecosystems_follow_the_type_rules() {
        assert_eq!(
            Purl::pypi("Typing_Extensions", Some("4.12.2")).to_string(),
            "pkg:pypi/typing-extensions@4.12.2"
        );
        assert_eq!(
            Purl::pypi("zope.interface", None).to_string(),
            "pkg:pypi/zope-interface"
        );
        assert_eq!(
            Purl::npm("@Angular/core", Some("17.0.0")).to_string(),
            "pkg:npm/%40angular/core@17.0.0"
        );
        assert_eq!(
            Purl::cargo("serde", Some("1.0.0+build.1")).to_string(),
            "pkg:cargo/serde@1.0.0%2Bbuild.1"
        );
        assert_eq!(
            Purl::golang("github.com/BurntSushi/toml", Some("v1.3.2")).to_string(),
            "pkg:golang/github.com/burntsushi/toml@v1.3.2"
        );
        assert_eq!(
            Purl::huggingface("Acme/Sentiment-Mini", Some("ABCDEF0")).to_string(),
            "pkg:huggingface/Acme/Sentiment-Mini@abcdef0"
        );
        assert_eq!(
            Purl::cargo("x", Some("1.0.0"))
                .qualifier("vcs_url", "git+https://example.com/x.git@abc")
                .to_string(),
            "pkg:cargo/x@1.0.0?vcs_url=git%2Bhttps://example.com/x.git%40abc"
        );
    }

    #[test]
    fn parse_reads_back_what_display_writes() {
        let p = parse("pkg:npm/%40angular/core@17.0.0?x=y#sub").unwrap();
        assert_eq!(p.kind, "npm");
        assert_eq!(p.namespace.as_deref(), Some("@angular"));
        assert_eq!(p.name, "core");
        assert_eq!(p.version.as_deref(), Some("17.0.0"));
        let g = parse(&Purl::golang("golang.org/x/text", Some("v0.14.0")).to_string()).unwrap();
        assert_eq!(g.namespace.as_deref(), Some("golang.org/x"));
        assert_eq!(parse("not-a-purl"), None);
        assert_eq!(parse("pkg:%"), None);
    }
}
