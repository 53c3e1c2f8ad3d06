//! Shared test helpers.
#![allow(dead_code)]

use std::collections::BTreeMap;

use rampart_core::{Category, Finding, Operator, RedactConfig, Severity, Span};
use rampart_vault::Key;

/// A PII finding of `entity` over the first occurrence of `needle` in `text`.
pub fn at(text: &str, needle: &str, entity: &str, score: f32) -> Finding {
    let start = text.find(needle).expect("needle in text");
    span(
        start,
        start + needle.len(),
        Some(entity),
        "test-rule",
        score,
    )
}

/// A finding over `start..end`.
pub fn span(start: usize, end: usize, entity: Option<&str>, name: &str, score: f32) -> Finding {
    Finding {
        scanner: "test".into(),
        rule: "TST0001".into(),
        name: name.to_owned().into(),
        entity: entity.map(|e| e.to_owned().into()),
        category: Category::Pii,
        severity: Severity::Medium,
        score,
        span: Span { start, end },
        explanation: "test finding".into(),
    }
}

/// A config applying `op` to everything.
pub fn config(op: Operator) -> RedactConfig {
    RedactConfig {
        operator: op,
        entities: BTreeMap::new(),
        key_env: None,
    }
}

/// A fixed raw key, so tokens are reproducible.
pub fn key(byte: u8) -> Key {
    Key::from_bytes([byte; 32])
}
