//! `Pipfile.lock` (JSON): `default` (runtime) and `develop` sections mapping names to `{"version": "==X",
//! "hashes": [...]}` or to VCS entries (`{"git": URL, "ref": COMMIT}`). The file records no relations.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{Lock, LockedPackage};
use crate::bom::purl::Purl;

#[derive(Deserialize)]
struct PipfileLock {
    #[serde(default)]
    default: Map<String, Value>,
    #[serde(default)]
    develop: Map<String, Value>,
}

pub fn parse(text: &str) -> Result<Lock, String> {
    let lock: PipfileLock = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut packages: Vec<LockedPackage> = Vec::new();
    for (section, dev) in [(&lock.default, false), (&lock.develop, true)] {
        for (name, entry) in section {
            let version = entry.get("version").and_then(Value::as_str).map(|v| {
                v.trim_start_matches("===")
                    .trim_start_matches("==")
                    .to_owned()
            });
            let mut purl = Purl::pypi(name, version.as_deref());
            let mut source = None;
            if let Some(git) = entry.get("git").and_then(Value::as_str) {
                let commit = entry.get("ref").and_then(Value::as_str).unwrap_or("");
                let vcs = if commit.is_empty() {
                    format!("git+{git}")
                } else {
                    format!("git+{git}@{commit}")
                };
                source = Some(vcs.clone());
                purl = purl.qualifier("vcs_url", vcs);
            }
            let purl = purl.to_string();
            // A package in both sections is a runtime dependency.
            if let Some(existing) = packages
                .iter_mut()
                .find(|p| p.purl.as_deref() == Some(purl.as_str()))
            {
                existing.dev = Some(existing.dev == Some(true) && dev);
                continue;
            }
            packages.push(LockedPackage {
                name: name.clone(),
                version,
                purl: Some(purl),
                dev: Some(dev),
                source,
                ..LockedPackage::default()
            });
        }
    }
    Ok(Lock::flat(packages))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_set_scope() {
        let text = r#"{"_meta":{"hash":{"sha256":"x"}},"default":{"requests":{"version":"==2.32.3","hashes":["sha256:aa"]},"mylib":{"git":"https://github.com/acme/mylib.git","ref":"abc123"}},"develop":{"pytest":{"version":"==8.2.0"},"requests":{"version":"==2.32.3"}}}"#;
        let lock = parse(text).unwrap();
        let mut got: Vec<(&str, Option<bool>)> = lock
            .packages
            .iter()
            .map(|p| (p.purl.as_deref().unwrap(), p.dev))
            .collect();
        got.sort();
        assert_eq!(
            got,
            [
                (
                    "pkg:pypi/mylib?vcs_url=git%2Bhttps://github.com/acme/mylib.git%40abc123",
                    Some(false)
                ),
                ("pkg:pypi/pytest@8.2.0", Some(true)),
                ("pkg:pypi/requests@2.32.3", Some(false)),
            ]
        );
        assert!(parse("42").is_err());
        assert!(parse(r#"{"default": []}"#).is_err());
    }
}
