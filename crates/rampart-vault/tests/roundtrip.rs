//! Property tests: anonymise then restore gives the original text back, whatever the text and spans.

mod common;

use common::{config, key, span};
use proptest::prelude::*;
use rampart_core::{Finding, Operator};
use rampart_vault::{Anonymizer, Vault};

const ENTITIES: [&str; 3] = ["EMAIL_ADDRESS", "PERSON", "X"];

/// Text pieces: arbitrary text, bracket soup, and things shaped like our own tokens, so that literal
/// placeholders in the input and values containing `<`/`>` are exercised.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,12}",
        "[<>a-z_ ]{0,8}",
        "<(EMAIL_ADDRESS|PERSON|X)_[1-3]>",
        "<(PERSON|X):enc:[A-Za-z0-9_-]{0,40}>",
    ]
}

/// A text and non-overlapping findings over some of its pieces (in shuffled order).
fn text_and_findings() -> impl Strategy<Value = (String, Vec<Finding>)> {
    prop::collection::vec(
        (piece(), prop::option::of((0..ENTITIES.len(), 0.0f32..1.0))),
        0..12,
    )
    .prop_map(|pieces| {
        let mut text = String::new();
        let mut findings = Vec::new();
        for (s, marked) in pieces {
            let start = text.len();
            text.push_str(&s);
            if let Some((e, score)) = marked {
                findings.push(span(start, text.len(), Some(ENTITIES[e]), "rule", score));
            }
        }
        (text, findings)
    })
    .prop_shuffle_findings()
}

trait ShuffleFindings {
    fn prop_shuffle_findings(self) -> BoxedStrategy<(String, Vec<Finding>)>;
}

impl<S: Strategy<Value = (String, Vec<Finding>)> + 'static> ShuffleFindings for S {
    fn prop_shuffle_findings(self) -> BoxedStrategy<(String, Vec<Finding>)> {
        self.prop_flat_map(|(text, findings)| (Just(text), Just(findings).prop_shuffle()))
            .boxed()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn replace_then_restore_is_identity((text, findings) in text_and_findings()) {
        let anonymizer = Anonymizer::new(&config(Operator::Replace), Some(key(1))).unwrap();
        let mut vault = Vault::new();
        let safe = anonymizer.anonymize(&text, &findings, &mut vault);
        prop_assert_eq!(vault.restore(&safe), text.clone());
        // And again through a sealed copy.
        let opened = Vault::open(&vault.seal(&key(2)).unwrap(), &key(2), None).unwrap();
        prop_assert_eq!(opened.restore(&safe), text);
    }

    #[test]
    fn encrypt_then_restore_with_key_is_identity((text, findings) in text_and_findings()) {
        let anonymizer = Anonymizer::new(&config(Operator::Encrypt), Some(key(1))).unwrap();
        let mut vault = Vault::new();
        let safe = anonymizer.anonymize(&text, &findings, &mut vault);
        prop_assert!(vault.is_empty());
        prop_assert_eq!(Vault::new().restore_with_key(&safe, &key(1)), text);
    }

    /// Arbitrary spans (overlapping, reversed, out of bounds, inside characters) never panic, and what is
    /// chosen still restores exactly.
    #[test]
    fn arbitrary_spans_are_safe(
        text in "\\PC{0,40}",
        raw in prop::collection::vec((0usize..50, 0usize..50, 0..ENTITIES.len(), 0.0f32..1.0), 0..10),
    ) {
        let findings: Vec<Finding> =
            raw.into_iter().map(|(s, e, n, score)| span(s, e, Some(ENTITIES[n]), "rule", score)).collect();
        for op in [Operator::Replace, Operator::Mask, Operator::Redact, Operator::Hash, Operator::Encrypt] {
            let anonymizer = Anonymizer::new(&config(op), Some(key(1))).unwrap();
            let mut vault = Vault::new();
            let safe = anonymizer.anonymize(&text, &findings, &mut vault);
            if matches!(op, Operator::Replace | Operator::Encrypt) {
                prop_assert_eq!(anonymizer.restore(&safe, &vault), text.clone());
            }
        }
    }
}
