//! `Cargo.lock` (format versions 3 and 4, and version 1/2 files without the legacy `[metadata]` checksums):
//! `[[package]]` tables with name, version, source, checksum and a `dependencies` list whose entries are
//! `name`, `name version` or `name version (source)`, as precise as needed to be unambiguous.

use serde::Deserialize;

use super::{Lock, LockedPackage, sha256_hash};
use crate::bom::purl::Purl;

#[derive(Deserialize)]
struct CargoLock {
    #[serde(default)]
    package: Vec<Package>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    version: String,
    source: Option<String>,
    checksum: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

const CRATES_IO: &[&str] = &[
    "registry+https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
];

pub fn parse(text: &str) -> Result<Lock, String> {
    let lock: CargoLock = toml::from_str(text).map_err(|e| e.to_string())?;
    let packages: Vec<LockedPackage> = lock
        .package
        .iter()
        .map(|p| {
            let source = p.source.as_deref();
            let purl = match source {
                None => None,
                Some(s) if CRATES_IO.contains(&s) => Some(Purl::cargo(&p.name, Some(&p.version))),
                Some(s) => Some(match s.strip_prefix("git+") {
                    // `git+URL?rev=..#COMMIT`: purl's vcs_url wants `git+URL@COMMIT`.
                    Some(git) => {
                        let (url, commit) = git.split_once('#').unwrap_or((git, ""));
                        let url = url.split('?').next().unwrap_or(url);
                        let vcs = if commit.is_empty() {
                            format!("git+{url}")
                        } else {
                            format!("git+{url}@{commit}")
                        };
                        Purl::cargo(&p.name, Some(&p.version)).qualifier("vcs_url", vcs)
                    }
                    None => {
                        let url = s
                            .strip_prefix("registry+")
                            .or_else(|| s.strip_prefix("sparse+"))
                            .unwrap_or(s);
                        Purl::cargo(&p.name, Some(&p.version)).qualifier("repository_url", url)
                    }
                }),
            };
            LockedPackage {
                name: p.name.clone(),
                version: Some(p.version.clone()),
                purl: purl.map(|p| p.to_string()),
                local: source.is_none(),
                hashes: p
                    .checksum
                    .as_deref()
                    .and_then(sha256_hash)
                    .into_iter()
                    .collect(),
                source: source.filter(|s| !CRATES_IO.contains(s)).map(str::to_owned),
                ..LockedPackage::default()
            }
        })
        .collect();
    let mut by_name: std::collections::HashMap<&str, Vec<usize>> = std::collections::HashMap::new();
    for (i, p) in lock.package.iter().enumerate() {
        by_name.entry(p.name.as_str()).or_default().push(i);
    }
    let mut edges = Vec::with_capacity(lock.package.len());
    for p in &lock.package {
        let mut targets = Vec::new();
        for dep in &p.dependencies {
            let mut parts = dep.splitn(3, ' ');
            let name = parts.next().unwrap_or("");
            let version = parts.next();
            let source = parts
                .next()
                .map(|s| s.trim_start_matches('(').trim_end_matches(')'));
            let found = by_name.get(name).into_iter().flatten().copied().find(|&i| {
                let q = &lock.package[i];
                version.is_none_or(|v| q.version == v)
                    && source.is_none_or(|s| q.source.as_deref() == Some(s))
            });
            match found {
                Some(i) => targets.push(i),
                None => {
                    return Err(format!(
                        "package {} depends on {dep:?}, which the lockfile does not list",
                        p.name
                    ));
                }
            }
        }
        targets.sort_unstable();
        targets.dedup();
        edges.push(targets);
    }
    Ok(Lock::graph(packages, edges))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_registry_and_git_packages() {
        let text = r#"
version = 4

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["serde", "rand 0.8.5", "forked"]

[[package]]
name = "serde"
version = "1.0.200"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "ddc6f9cc94d67c0e21aaf7eda3a010fd3af78ebf6e096aa6e2e13c79749cce4f"

[[package]]
name = "rand"
version = "0.8.5"
source = "sparse+https://index.crates.io/"

[[package]]
name = "forked"
version = "0.2.0"
source = "git+https://github.com/acme/forked?branch=main#0123abcd"
"#;
        let lock = parse(text).unwrap();
        let purls: Vec<Option<&str>> = lock.packages.iter().map(|p| p.purl.as_deref()).collect();
        assert_eq!(
            purls,
            [
                None,
                Some("pkg:cargo/serde@1.0.200"),
                Some("pkg:cargo/rand@0.8.5"),
                Some(
                    "pkg:cargo/forked@0.2.0?vcs_url=git%2Bhttps://github.com/acme/forked%400123abcd"
                ),
            ]
        );
        assert!(lock.packages[0].local);
        assert_eq!(lock.packages[1].hashes[0].alg, "SHA-256");
        assert_eq!(lock.edges.as_ref().unwrap()[0], [1, 2, 3]);
        assert_eq!(lock.project_dependencies(), [0]);
        assert!(
            parse("[[package]]\nname = \"a\"\nversion = \"1\"\ndependencies = [\"ghost\"]\n")
                .is_err()
        );
        assert!(parse("not = [toml").is_err());
    }
}
