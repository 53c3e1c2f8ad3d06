//! `go.sum`: lines of `MODULE VERSION h1:HASH`, where a `VERSION/go.mod` line covers only the module's go.mod.
//! A module counts as used when its source tree is listed (a line without `/go.mod`); modules present only for
//! their go.mod took part in version selection but contribute no code. The `h1:` hash is a digest of a file
//! list, not of any one file, so it is not emitted as a component hash. go.sum records no relations.

use super::{Lock, LockedPackage};
use crate::bom::purl::Purl;

pub fn parse(text: &str) -> Lock {
    let mut packages: Vec<LockedPackage> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let (Some(module), Some(version), Some(hash)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if version.ends_with("/go.mod") || !hash.starts_with("h1:") {
            continue;
        }
        if !seen.insert((module, version)) {
            continue;
        }
        packages.push(LockedPackage {
            name: module.to_owned(),
            version: Some(version.to_owned()),
            purl: Some(Purl::golang(module, Some(version)).to_string()),
            ..LockedPackage::default()
        });
    }
    Lock::flat(packages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_lines_count_go_mod_lines_do_not() {
        let text = "github.com/google/uuid v1.6.0 h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=\ngithub.com/google/uuid v1.6.0/go.mod h1:TIyPZe4MgqvfeYDBFedMoGGpEw/LqOeaOT+nhxU+yHo=\ngolang.org/x/text v0.3.0/go.mod h1:NqM8EUOU14njkJ3fqMW+pc6Ldnwhi/IjpwHt7yyuwOQ=\ngithub.com/pkg/errors v0.9.1+incompatible h1:AAAA=\n\ngarbage\n";
        let lock = parse(text);
        let purls: Vec<&str> = lock
            .packages
            .iter()
            .map(|p| p.purl.as_deref().unwrap())
            .collect();
        assert_eq!(
            purls,
            [
                "pkg:golang/github.com/google/uuid@v1.6.0",
                "pkg:golang/github.com/pkg/errors@v0.9.1%2Bincompatible"
            ]
        );
    }
}
