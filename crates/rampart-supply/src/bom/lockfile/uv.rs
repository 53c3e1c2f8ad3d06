//! `uv.lock` (TOML): `[[package]]` tables with a `source` table (`registry`, `git`, `url`, or `virtual`/
//! `editable`/`directory`/`path` for the project's own packages), `dependencies`, `optional-dependencies` and
//! `dev-dependencies` lists of `{ name, version?, source? }`. A package is dev-only when the project's packages
//! reach it only through dev-dependencies.

use std::collections::HashMap;

use serde::Deserialize;

use super::{Lock, LockedPackage};
use crate::bom::purl::{Purl, pep503_name};

#[derive(Deserialize)]
struct UvLock {
    #[serde(default)]
    package: Vec<Package>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Package {
    name: String,
    version: Option<String>,
    #[serde(default)]
    source: toml::Table,
    #[serde(default)]
    dependencies: Vec<Dep>,
    #[serde(default)]
    optional_dependencies: HashMap<String, Vec<Dep>>,
    #[serde(default)]
    dev_dependencies: HashMap<String, Vec<Dep>>,
}

#[derive(Deserialize)]
struct Dep {
    name: String,
    version: Option<String>,
    source: Option<toml::Table>,
}

const PYPI: &str = "https://pypi.org/simple";

pub fn parse(text: &str) -> Result<Lock, String> {
    let lock: UvLock = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, p) in lock.package.iter().enumerate() {
        by_name.entry(pep503_name(&p.name)).or_default().push(i);
    }
    let resolve = |d: &Dep| -> Option<usize> {
        by_name
            .get(&pep503_name(&d.name))?
            .iter()
            .copied()
            .find(|&i| {
                let q = &lock.package[i];
                d.version
                    .as_ref()
                    .is_none_or(|v| q.version.as_ref() == Some(v))
                    && d.source.as_ref().is_none_or(|s| &q.source == s)
            })
    };
    let mut runtime_edges: Vec<Vec<usize>> = Vec::new();
    let mut edges: Vec<Vec<usize>> = Vec::new();
    for p in &lock.package {
        let mut runtime: Vec<usize> = p
            .dependencies
            .iter()
            .chain(p.optional_dependencies.values().flatten())
            .filter_map(resolve)
            .collect();
        runtime.sort_unstable();
        runtime.dedup();
        let mut all: Vec<usize> = runtime
            .iter()
            .copied()
            .chain(p.dev_dependencies.values().flatten().filter_map(resolve))
            .collect();
        all.sort_unstable();
        all.dedup();
        runtime_edges.push(runtime);
        edges.push(all);
    }
    let mut packages: Vec<LockedPackage> = lock.package.iter().map(package).collect();
    // Runtime reachability from the project's own packages decides dev-only status.
    let mut reached = vec![false; packages.len()];
    let mut stack: Vec<usize> = (0..packages.len()).filter(|&i| packages[i].local).collect();
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut reached[i], true) {
            continue;
        }
        stack.extend(runtime_edges[i].iter().copied().filter(|&t| !reached[t]));
    }
    let has_project = packages.iter().any(|p| p.local);
    for (p, reached) in packages.iter_mut().zip(reached) {
        if has_project && !p.local {
            p.dev = Some(!reached);
        }
    }
    Ok(Lock::graph(packages, edges))
}

fn package(p: &Package) -> LockedPackage {
    let s = |k: &str| p.source.get(k).and_then(toml::Value::as_str);
    let version = p.version.as_deref();
    let mut out = LockedPackage {
        name: p.name.clone(),
        version: p.version.clone(),
        ..LockedPackage::default()
    };
    let base = Purl::pypi(&p.name, version);
    let purl = if let Some(reg) = s("registry") {
        if reg.trim_end_matches('/') == PYPI {
            Some(base)
        } else {
            out.source = Some(reg.to_owned());
            Some(base.qualifier("repository_url", reg))
        }
    } else if let Some(git) = s("git") {
        let (url, commit) = git.split_once('#').unwrap_or((git, ""));
        let url = url.split('?').next().unwrap_or(url);
        let vcs = if commit.is_empty() {
            format!("git+{url}")
        } else {
            format!("git+{url}@{commit}")
        };
        out.source = Some(vcs.clone());
        Some(base.qualifier("vcs_url", vcs))
    } else if let Some(url) = s("url") {
        out.source = Some(url.to_owned());
        Some(base.qualifier("download_url", url))
    } else {
        // virtual, editable, directory, path: the project's own code.
        out.local = true;
        out.source = ["virtual", "editable", "directory", "path"]
            .iter()
            .find_map(|k| s(k))
            .map(str::to_owned);
        None
    };
    out.purl = purl.map(|p| p.to_string());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_runtime_and_dev_dependencies() {
        let text = r#"
version = 1
requires-python = ">=3.11"

[[package]]
name = "demo"
version = "0.1.0"
source = { virtual = "." }
dependencies = [{ name = "requests" }]

[package.dev-dependencies]
dev = [{ name = "pytest" }]

[[package]]
name = "requests"
version = "2.32.3"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "certifi" }]
sdist = { url = "https://files.example/requests-2.32.3.tar.gz", hash = "sha256:aa", size = 1 }

[[package]]
name = "certifi"
version = "2024.8.30"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "pytest"
version = "8.3.3"
source = { registry = "https://mirror.example/simple" }
"#;
        let lock = parse(text).unwrap();
        let got: Vec<(Option<&str>, bool, Option<bool>)> = lock
            .packages
            .iter()
            .map(|p| (p.purl.as_deref(), p.local, p.dev))
            .collect();
        assert_eq!(
            got,
            [
                (None, true, None),
                (Some("pkg:pypi/requests@2.32.3"), false, Some(false)),
                (Some("pkg:pypi/certifi@2024.8.30"), false, Some(false)),
                (
                    Some("pkg:pypi/pytest@8.3.3?repository_url=https://mirror.example/simple"),
                    false,
                    Some(true)
                ),
            ]
        );
        assert_eq!(lock.edges.as_ref().unwrap()[0], [1, 3]);
        assert_eq!(lock.project_dependencies(), [0]);
    }
}
