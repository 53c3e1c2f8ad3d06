//! Invariants of the BOM parsers and encoders over arbitrary input.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use proptest::prelude::*;
use rampart_supply::bom::{fuzzing, purl};

const MANIFESTS: &[&str] = &[
    "requirements.txt",
    "poetry.lock",
    "uv.lock",
    "Pipfile.lock",
    "package-lock.json",
    "Cargo.lock",
    "go.sum",
];

proptest! {
    /// Whatever the name and version, the purl string parses back to them (generic type: no normalisation).
    #[test]
    fn generic_purls_round_trip(name in "\\PC{1,40}", version in proptest::option::of("\\PC{1,20}")) {
        let s = purl::Purl::generic(&name, version.as_deref()).to_string();
        let back = purl::parse(&s).unwrap();
        prop_assert_eq!(back.name, name);
        prop_assert_eq!(back.version, version.filter(|v| !v.is_empty()));
        prop_assert!(s.is_ascii());
    }

    /// npm names keep their scope as the namespace, lowercased.
    #[test]
    fn npm_scopes_round_trip(scope in "[a-zA-Z0-9._-]{1,20}", name in "[a-zA-Z0-9._-]{1,20}") {
        let s = purl::Purl::npm(&format!("@{scope}/{name}"), Some("1.0.0")).to_string();
        let back = purl::parse(&s).unwrap();
        prop_assert_eq!(back.namespace, Some(format!("@{}", scope.to_ascii_lowercase())));
        prop_assert_eq!(back.name, name.to_ascii_lowercase());
    }

    /// Manifest, card and licence parsers never panic on arbitrary text.
    #[test]
    fn parsers_accept_or_reject_arbitrary_text(text in "\\PC{0,400}", which in 0usize..7) {
        let _ = fuzzing::manifest(MANIFESTS[which], &text);
        let _ = fuzzing::cards(&text);
        let _ = fuzzing::license(&text);
        let _ = fuzzing::purl(&text);
    }

    /// The same, for text shaped like the formats (lines of TOML/JSON/requirement syntax).
    #[test]
    fn parsers_survive_format_shaped_noise(
        lines in proptest::collection::vec(
            prop_oneof![
                Just("[[package]]".to_owned()),
                "name = \"[a-z@/]{0,8}\"",
                "version = \"[0-9.]{0,6}\"",
                "dependencies = \\[\"[a-z ()0-9.]{0,12}\"\\]",
                "source = \\{ (virtual|registry|git) = \"[a-z:/.#?=]{0,12}\" \\}",
                "[a-z_-]{1,8}(==|>=|@| )[0-9a-z.:/]{0,8}( ; [a-z_ <=\"0-9.]{0,10})?",
                "[a-z./]{1,12} v[0-9.]{1,6}(/go.mod)? h1:[A-Za-z0-9+/=]{0,8}",
                "---",
                "(license|datasets|base_model|tags): \\[?[a-z0-9 ,&*-]{0,12}\\]?",
                "\\{\"packages\": \\{\"(node_modules/)?[a-z@/]{0,10}\": \\{\"version\": \"1\", \"dependencies\": \\{\"[a-z]{0,3}\": \"\"\\}\\}\\}\\}",
            ],
            0..24,
        ),
        which in 0usize..7,
    ) {
        let text = lines.join("\n");
        let _ = fuzzing::manifest(MANIFESTS[which], &text);
        let _ = fuzzing::cards(&text);
    }
}
