//! The one table of scanners: reviewed in one place, deterministic order, no link-time magic.

use rampart_core::{BuildError, RuleMeta, Scanner};

/// How to build one scanner from its policy options.
pub struct ScannerSpec {
    /// Id used in policies (`[scanners.secrets]`).
    pub id: &'static str,
    /// Compiles the scanner; the only fallible step.
    pub build: fn(&toml::Table) -> Result<Box<dyn Scanner>, BuildError>,
    /// Every option with its default, as TOML; `rampart policy init` prints these and a test parses them.
    pub example_config: &'static str,
}

/// Every scanner Rampart knows, in the order the pipeline runs them.
pub static SCANNERS: &[ScannerSpec] = &[
    ScannerSpec {
        id: crate::secrets::ID,
        build: crate::secrets::build,
        example_config: crate::secrets::EXAMPLE_CONFIG,
    },
    ScannerSpec {
        id: crate::pii::ID,
        build: crate::pii::build,
        example_config: crate::pii::EXAMPLE_CONFIG,
    },
    ScannerSpec {
        id: crate::unicode::ID,
        build: crate::unicode::build,
        example_config: crate::unicode::EXAMPLE_CONFIG,
    },
    ScannerSpec {
        id: crate::injection::ID,
        build: crate::injection::build,
        example_config: crate::injection::EXAMPLE_CONFIG,
    },
];

/// Metadata of every rule of every scanner, built with default options.
pub fn all_rules() -> Result<Vec<RuleMeta>, BuildError> {
    let mut rules = Vec::new();
    for spec in SCANNERS {
        let scanner = (spec.build)(&toml::Table::new())?;
        rules.extend(scanner.rules().iter().cloned());
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn scanner_ids_and_rule_ids_are_unique_and_example_configs_build() {
        let mut ids = HashSet::new();
        for spec in SCANNERS {
            assert!(ids.insert(spec.id), "duplicate scanner id {}", spec.id);
            let table: toml::Table = toml::from_str(spec.example_config)
                .unwrap_or_else(|e| panic!("{} example config: {e}", spec.id));
            (spec.build)(&table).unwrap_or_else(|e| panic!("{} example config: {e}", spec.id));
        }
        let rules = all_rules().unwrap();
        let mut seen = HashSet::new();
        for r in &rules {
            assert!(seen.insert(r.id.clone()), "duplicate rule id {}", r.id);
            assert!(
                r.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "rule name {} is not kebab-case",
                r.name
            );
        }
    }
}
