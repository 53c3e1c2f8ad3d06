//! pip requirements files: one requirement per logical line (PEP 508 name, extras, specifiers, markers), with
//! `\` continuations, `#` comments and pip options. Only `==`/`===` pins give a version; other specifiers are
//! kept as the package's constraint. Includes (`-r`, `-c`) are not followed: each file is parsed where the walk
//! finds it.

use super::{Lock, LockedPackage};
use crate::bom::purl::Purl;

/// Parses a requirements file. Files named like `requirements-dev.txt` or `requirements-test.txt` mark their
/// packages as development-only.
pub fn parse(text: &str, file_name: &str) -> Lock {
    let lower = file_name.to_ascii_lowercase();
    let dev = ["dev", "test", "lint", "docs"]
        .iter()
        .any(|w| lower.contains(w));
    let mut packages: Vec<LockedPackage> = Vec::new();
    for line in logical_lines(text) {
        if let Some(mut p) = requirement(&line) {
            p.dev = Some(dev);
            if !packages
                .iter()
                .any(|q| q.purl == p.purl && q.constraint == p.constraint)
            {
                packages.push(p);
            }
        }
    }
    Lock::flat(packages)
}

/// Joins `\` continuations and drops comments (a `#` at the start or after whitespace; a `#` inside a URL
/// fragment such as `#egg=` is kept).
fn logical_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for raw in text.lines() {
        let line = strip_comment(raw);
        if let Some(cont) = line.trim_end().strip_suffix('\\') {
            current.push_str(cont);
            current.push(' ');
            continue;
        }
        current.push_str(line);
        let done = std::mem::take(&mut current);
        if !done.trim().is_empty() {
            out.push(done.trim().to_owned());
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_owned());
    }
    out
}

fn strip_comment(line: &str) -> &str {
    let b = line.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if c == b'#' && (i == 0 || b[i - 1].is_ascii_whitespace()) {
            return &line[..i];
        }
    }
    line
}

/// One requirement line → package; `None` for option lines (`-r`, `--index-url`, `-e`) and local paths.
fn requirement(line: &str) -> Option<LockedPackage> {
    // A line that is only a URL (no `name @` before the scheme) names no package.
    let bare_url = line.find("://").is_some_and(|i| !line[..i].contains('@'));
    if line.starts_with(['-', '.', '/']) || bare_url {
        return None;
    }
    // Per-requirement options (`--hash=...`) follow the requirement after whitespace.
    let spec = line.split(" --").next().unwrap_or(line).trim();
    let name_end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(spec.len());
    let name = &spec[..name_end];
    if name.is_empty() || !name.as_bytes()[0].is_ascii_alphanumeric() {
        return None;
    }
    let mut rest = spec[name_end..].trim_start();
    if rest.starts_with('[') {
        rest = rest.split_once(']').map_or("", |(_, r)| r).trim_start();
    }
    // `name @ url` (a direct reference) has no version; markers follow `;`.
    if let Some(url) = rest.strip_prefix('@') {
        let url = url.split(';').next().unwrap_or("").trim();
        return Some(LockedPackage {
            name: name.to_owned(),
            purl: Some(Purl::pypi(name, None).to_string()),
            source: (!url.is_empty()).then(|| url.to_owned()),
            ..LockedPackage::default()
        });
    }
    let specifiers = rest.split(';').next().unwrap_or("").trim();
    let specifiers = specifiers
        .trim_start_matches('(')
        .trim_end_matches(')')
        .trim();
    let pinned = specifiers
        .strip_prefix("===")
        .or_else(|| specifiers.strip_prefix("=="))
        .map(str::trim)
        .filter(|v| !v.is_empty() && !v.contains([',', '*', ' ', '<', '>', '!', '~']));
    Some(LockedPackage {
        name: name.to_owned(),
        version: pinned.map(str::to_owned),
        purl: Some(Purl::pypi(name, pinned).to_string()),
        constraint: (pinned.is_none() && !specifiers.is_empty()).then(|| specifiers.to_owned()),
        ..LockedPackage::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_constraints_options_and_comments() {
        let text = "# top comment\n--index-url https://example.com/simple\n-r base.txt\ntorch==2.3.1 \\\n    --hash=sha256:aaaa\ntransformers[torch]>=4.40,<5 ; python_version >= \"3.9\"\nNumPy===1.26.4  # pinned\nsafetensors\nmypkg @ https://example.com/mypkg-1.0.tar.gz\n-e git+https://github.com/x/y.git#egg=y\n./local/pkg\n";
        let lock = parse(text, "requirements.txt");
        type Row<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>);
        let got: Vec<Row> = lock
            .packages
            .iter()
            .map(|p| {
                (
                    p.purl.as_deref().unwrap(),
                    p.version.as_deref(),
                    p.constraint.as_deref(),
                    p.source.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("pkg:pypi/torch@2.3.1", Some("2.3.1"), None, None),
                ("pkg:pypi/transformers", None, Some(">=4.40,<5"), None),
                ("pkg:pypi/numpy@1.26.4", Some("1.26.4"), None, None),
                ("pkg:pypi/safetensors", None, None, None),
                (
                    "pkg:pypi/mypkg",
                    None,
                    None,
                    Some("https://example.com/mypkg-1.0.tar.gz")
                ),
            ]
        );
        assert!(lock.packages.iter().all(|p| p.dev == Some(false)));
        assert!(lock.edges.is_none());
        let dev = parse("pytest==8.0.0\n", "requirements-dev.txt");
        assert_eq!(dev.packages[0].dev, Some(true));
    }
}
