//! `poetry.lock` (TOML, lock-version 1.x and 2.x): `[[package]]` tables with `[package.dependencies]` naming
//! other packages, a `category` (Poetry < 1.5) or `groups` (Poetry 2) saying whether they are dev-only, and an
//! optional `[package.source]` for git, path, URL and private-index packages. A dependency missing from the
//! lock (an extra that was not selected) has no edge.

use std::collections::HashMap;

use serde::Deserialize;

use super::{Lock, LockedPackage};
use crate::bom::purl::{Purl, pep503_name};

#[derive(Deserialize)]
struct PoetryLock {
    #[serde(default)]
    package: Vec<Package>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    version: String,
    category: Option<String>,
    groups: Option<Vec<String>>,
    #[serde(default)]
    dependencies: toml::Table,
    source: Option<Source>,
}

#[derive(Deserialize)]
struct Source {
    #[serde(rename = "type")]
    kind: String,
    url: Option<String>,
    resolved_reference: Option<String>,
}

pub fn parse(text: &str) -> Result<Lock, String> {
    let lock: PoetryLock = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for (i, p) in lock.package.iter().enumerate() {
        by_name.entry(pep503_name(&p.name)).or_insert(i);
    }
    let packages = lock
        .package
        .iter()
        .map(|p| {
            let mut purl = Some(Purl::pypi(&p.name, Some(&p.version)));
            let mut local = false;
            let mut source = None;
            if let Some(s) = &p.source {
                let url = s.url.clone().unwrap_or_default();
                match s.kind.as_str() {
                    "git" => {
                        let vcs = match &s.resolved_reference {
                            Some(r) => format!("git+{url}@{r}"),
                            None => format!("git+{url}"),
                        };
                        purl = purl.map(|u| u.qualifier("vcs_url", vcs.clone()));
                        source = Some(vcs);
                    }
                    "directory" | "file" => {
                        local = true;
                        purl = None;
                        source = Some(url);
                    }
                    "url" => {
                        purl = purl.map(|u| u.qualifier("download_url", url.clone()));
                        source = Some(url);
                    }
                    _ => {
                        purl = purl.map(|u| u.qualifier("repository_url", url.clone()));
                        source = Some(url);
                    }
                }
            }
            let dev = match (&p.category, &p.groups) {
                (_, Some(groups)) => Some(!groups.iter().any(|g| g == "main")),
                (Some(c), None) => Some(c == "dev"),
                (None, None) => None,
            };
            LockedPackage {
                name: p.name.clone(),
                version: Some(p.version.clone()),
                purl: purl.map(|u| u.to_string()),
                local,
                dev,
                source,
                ..LockedPackage::default()
            }
        })
        .collect();
    let edges = lock
        .package
        .iter()
        .map(|p| {
            let mut targets: Vec<usize> = p
                .dependencies
                .keys()
                .filter_map(|d| by_name.get(&pep503_name(d)).copied())
                .collect();
            targets.sort_unstable();
            targets.dedup();
            targets
        })
        .collect();
    Ok(Lock::graph(packages, edges))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_groups_and_sources() {
        let text = r#"
[[package]]
name = "Requests"
version = "2.32.3"
groups = ["main"]
files = [{file = "requests-2.32.3-py3-none-any.whl", hash = "sha256:aa"}]

[package.dependencies]
certifi = ">=2017.4.17"
urllib3 = {version = ">=1.21.1,<3"}
PySocks = {version = "!=1.5.7", optional = true}

[[package]]
name = "certifi"
version = "2024.8.30"
category = "main"

[[package]]
name = "urllib3"
version = "2.2.3"

[[package]]
name = "pytest"
version = "8.3.3"
groups = ["dev"]

[[package]]
name = "tool"
version = "0.1.0"

[package.source]
type = "git"
url = "https://github.com/acme/tool.git"
reference = "main"
resolved_reference = "0123abcd"

[metadata]
lock-version = "2.1"
"#;
        let lock = parse(text).unwrap();
        assert_eq!(lock.edges.as_ref().unwrap()[0], [1, 2]);
        assert_eq!(
            lock.packages[0].purl.as_deref(),
            Some("pkg:pypi/requests@2.32.3")
        );
        assert_eq!(lock.packages[0].dev, Some(false));
        assert_eq!(lock.packages[3].dev, Some(true));
        assert_eq!(lock.packages[2].dev, None);
        assert_eq!(
            lock.packages[4].purl.as_deref(),
            Some("pkg:pypi/tool@0.1.0?vcs_url=git%2Bhttps://github.com/acme/tool.git%400123abcd")
        );
        assert_eq!(lock.project_dependencies(), [0, 3, 4]);
    }
}
