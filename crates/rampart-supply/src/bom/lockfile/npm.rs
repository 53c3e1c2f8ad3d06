//! `package-lock.json` / `npm-shrinkwrap.json`. Lockfile versions 2 and 3 have a flat `packages` map keyed by
//! install path (`node_modules/a/node_modules/@s/b`); dependencies resolve the way Node resolves them, from the
//! nearest `node_modules` upwards. Version 1 files (npm 6) have only the nested `dependencies` tree; their
//! packages are listed without relations.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use serde_json::Value;

use super::{Lock, LockedPackage, sri_hash};
use crate::bom::purl::Purl;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PackageLock {
    lockfile_version: Option<u64>,
    #[serde(default)]
    packages: BTreeMap<String, Entry>,
    #[serde(default)]
    dependencies: BTreeMap<String, V1Entry>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Entry {
    name: Option<String>,
    version: Option<String>,
    resolved: Option<String>,
    integrity: Option<String>,
    license: Option<Value>,
    #[serde(default)]
    link: bool,
    #[serde(default)]
    dev: bool,
    #[serde(default)]
    dependencies: BTreeMap<String, Value>,
    #[serde(default)]
    optional_dependencies: BTreeMap<String, Value>,
    #[serde(default)]
    peer_dependencies: BTreeMap<String, Value>,
    #[serde(default)]
    dev_dependencies: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
struct V1Entry {
    version: Option<String>,
    integrity: Option<String>,
    #[serde(default)]
    dev: bool,
    #[serde(default)]
    dependencies: BTreeMap<String, V1Entry>,
}

/// The package name an install path ends in (`node_modules/@s/b` → `@s/b`).
fn name_from_path(path: &str) -> &str {
    match path.rfind("node_modules/") {
        Some(i) => &path[i + "node_modules/".len()..],
        None => path.rsplit('/').next().unwrap_or(path),
    }
}

/// Node's lookup: `dep` required from the package installed at `from`, tried at `from/node_modules/dep`, then
/// in each enclosing `node_modules`, up to the root.
fn resolve<'a>(from: &str, dep: &str, packages: &'a BTreeMap<String, Entry>) -> Option<&'a str> {
    let mut base = from.to_owned();
    loop {
        let candidate = if base.is_empty() {
            format!("node_modules/{dep}")
        } else {
            format!("{base}/node_modules/{dep}")
        };
        if let Some((k, _)) = packages.get_key_value(&candidate) {
            return Some(k.as_str());
        }
        if base.is_empty() {
            return None;
        }
        // Step out of the innermost `node_modules/NAME` (or the workspace folder).
        base = match base.rfind("/node_modules/") {
            Some(i) => base[..i].to_owned(),
            None => String::new(),
        };
    }
}

fn license_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        // Old packages write `{"type": "MIT", "url": ...}`.
        Value::Object(o) => o.get("type").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

pub fn parse(text: &str) -> Result<Lock, String> {
    let lock: PackageLock = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if lock.packages.is_empty() {
        return Ok(parse_v1(&lock.dependencies));
    }
    if lock.lockfile_version.is_some_and(|v| v < 2) {
        return Ok(parse_v1(&lock.dependencies));
    }
    // Links (`node_modules/x` → a workspace folder) stand for their target.
    let target_of = |key: &str| -> String {
        match lock.packages.get(key) {
            Some(e) if e.link => e.resolved.clone().unwrap_or_default(),
            _ => key.to_owned(),
        }
    };
    let keys: Vec<&String> = lock
        .packages
        .iter()
        .filter(|(k, e)| !k.is_empty() && !e.link)
        .map(|(k, _)| k)
        .collect();
    let index: HashMap<&str, usize> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    let mut packages = Vec::with_capacity(keys.len());
    for key in &keys {
        let e = &lock.packages[*key];
        let local = !key.contains("node_modules/");
        let name = e
            .name
            .clone()
            .unwrap_or_else(|| name_from_path(key).to_owned());
        let resolved = e.resolved.as_deref();
        let mut purl = Purl::npm(&name, e.version.as_deref());
        let mut source = None;
        if let Some(r) = resolved.filter(|r| r.starts_with("git+") || r.starts_with("git:")) {
            let vcs = match r.split_once('#') {
                Some((url, commit)) => format!("{url}@{commit}"),
                None => r.to_owned(),
            };
            source = Some(vcs.clone());
            purl = purl.qualifier("vcs_url", vcs);
        }
        packages.push(LockedPackage {
            name,
            version: e.version.clone(),
            purl: (!local).then(|| purl.to_string()),
            local,
            dev: (!local).then_some(e.dev),
            hashes: e
                .integrity
                .as_deref()
                .and_then(|i| i.split_whitespace().find_map(sri_hash))
                .into_iter()
                .collect(),
            license: e.license.as_ref().and_then(license_string),
            source,
            constraint: None,
        });
    }
    let deps_of = |from: &str, e: &Entry, with_dev: bool| -> Vec<usize> {
        let mut names: Vec<&String> = e
            .dependencies
            .keys()
            .chain(e.optional_dependencies.keys())
            .chain(e.peer_dependencies.keys())
            .collect();
        if with_dev {
            names.extend(e.dev_dependencies.keys());
        }
        let mut out: Vec<usize> = names
            .into_iter()
            .filter_map(|d| resolve(from, d, &lock.packages))
            .filter_map(|k| index.get(target_of(k).as_str()).copied())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    };
    let edges: Vec<Vec<usize>> = keys
        .iter()
        .map(|k| {
            let e = &lock.packages[*k];
            // A workspace package's devDependencies are installed for it; an installed package's are not.
            let local = !k.contains("node_modules/");
            deps_of(k, e, local)
        })
        .collect();
    let direct = lock.packages.get("").map(|root| deps_of("", root, true));
    Ok(Lock {
        packages,
        edges: Some(edges),
        direct,
    })
}

fn parse_v1(deps: &BTreeMap<String, V1Entry>) -> Lock {
    fn walk(deps: &BTreeMap<String, V1Entry>, out: &mut Vec<LockedPackage>) {
        for (name, e) in deps {
            let purl = Purl::npm(name, e.version.as_deref()).to_string();
            if !out.iter().any(|p| p.purl.as_deref() == Some(purl.as_str())) {
                out.push(LockedPackage {
                    name: name.clone(),
                    version: e.version.clone(),
                    purl: Some(purl),
                    dev: Some(e.dev),
                    hashes: e
                        .integrity
                        .as_deref()
                        .and_then(sri_hash)
                        .into_iter()
                        .collect(),
                    ..LockedPackage::default()
                });
            }
            walk(&e.dependencies, out);
        }
    }
    let mut packages = Vec::new();
    walk(deps, &mut packages);
    Lock::flat(packages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v3_nested_scoped_and_workspace_packages() {
        let text = r#"{
  "name": "web", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
  "packages": {
    "": {"name": "web", "version": "1.0.0", "workspaces": ["packages/ui"],
         "dependencies": {"@scope/lib": "^2.0.0", "ui": "*"}, "devDependencies": {"jest": "^29.0.0"}},
    "node_modules/@scope/lib": {"version": "2.1.0", "resolved": "https://registry.npmjs.org/@scope/lib/-/lib-2.1.0.tgz",
         "integrity": "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=", "license": "MIT", "dependencies": {"dep": "^1.0.0"}},
    "node_modules/@scope/lib/node_modules/dep": {"version": "1.5.0"},
    "node_modules/dep": {"version": "2.0.0"},
    "node_modules/jest": {"version": "29.7.0", "dev": true, "license": {"type": "MIT"}},
    "node_modules/ui": {"resolved": "packages/ui", "link": true},
    "packages/ui": {"name": "ui", "version": "0.0.1", "dependencies": {"dep": "^2.0.0"}}
  }
}"#;
        let lock = parse(text).unwrap();
        let names: Vec<(&str, Option<&str>)> = lock
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.purl.as_deref()))
            .collect();
        assert_eq!(
            names,
            [
                ("@scope/lib", Some("pkg:npm/%40scope/lib@2.1.0")),
                ("dep", Some("pkg:npm/dep@1.5.0")),
                ("dep", Some("pkg:npm/dep@2.0.0")),
                ("jest", Some("pkg:npm/jest@29.7.0")),
                ("ui", None),
            ]
        );
        let edges = lock.edges.as_ref().unwrap();
        assert_eq!(edges[0], [1], "nested copy wins over the hoisted one");
        assert_eq!(
            edges[4],
            [2],
            "workspace package resolves from the root node_modules"
        );
        assert_eq!(lock.direct.as_deref(), Some(&[0, 3, 4][..]));
        assert_eq!(lock.packages[0].license.as_deref(), Some("MIT"));
        assert_eq!(lock.packages[3].license.as_deref(), Some("MIT"));
        assert_eq!(lock.packages[3].dev, Some(true));
        assert_eq!(lock.packages[0].hashes[0].alg, "SHA-1");
    }

    #[test]
    fn v1_tree_is_flattened() {
        let text = r#"{"lockfileVersion": 1, "dependencies": {"a": {"version": "1.0.0", "dependencies": {"b": {"version": "2.0.0", "dev": true}}}}}"#;
        let lock = parse(text).unwrap();
        assert_eq!(lock.packages.len(), 2);
        assert!(lock.edges.is_none());
        assert_eq!(lock.packages[1].dev, Some(true));
    }
}
