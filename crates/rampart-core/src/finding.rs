//! A finding: one thing a scanner saw, where, and why it matters.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::Category;

/// Byte range `start..end` into the ORIGINAL input text (never into a normalised or decoded view).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Span {
    /// First byte, inclusive.
    pub start: usize,
    /// Last byte, exclusive.
    pub end: usize,
}

impl Span {
    /// Builds a span; `start` must not exceed `end`.
    pub fn new(start: usize, end: usize) -> Span {
        debug_assert!(start <= end, "span {start}..{end} is reversed");
        Span { start, end }
    }

    /// Length in bytes.
    pub fn len(self) -> usize {
        self.end - self.start
    }

    /// True when the span covers no bytes.
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// True when the two spans share at least one byte.
    pub fn overlaps(self, other: Span) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// Character (Unicode scalar) offsets of this span in `text`, as Python counts them.
    ///
    /// Costs one pass over `text[..end]`; front ends call it once per finding when rendering.
    pub fn char_range(self, text: &str) -> (usize, usize) {
        let start = text.get(..self.start).map_or(0, |s| s.chars().count());
        let inner = text
            .get(self.start..self.end)
            .map_or(0, |s| s.chars().count());
        (start, start + inner)
    }
}

/// How bad a finding is if it is real. Ordered from least to most severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing, no action expected.
    Info,
    /// Minor exposure.
    Low,
    /// Exposure that usually warrants redaction.
    Medium,
    /// Direct harm likely: credentials, government ids, attacks.
    High,
    /// Immediate compromise: private keys, cloud root credentials.
    Critical,
}

impl Severity {
    /// Lower-case name as used in policies and output.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One detection.
///
/// Findings are values, not errors: a scanner that sees nothing pushes nothing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Id of the scanner that produced it (`"pii"`, `"secrets"`, `"hidden-unicode"`).
    pub scanner: Cow<'static, str>,
    /// Stable rule id (`"SEC0001"`, `"PII0003"`); never reused for another meaning.
    pub rule: Cow<'static, str>,
    /// Kebab-case rule name (`"aws-access-key-id"`).
    pub name: Cow<'static, str>,
    /// Entity type, Presidio-compatible where one exists (`"EMAIL_ADDRESS"`, `"CREDIT_CARD"`).
    pub entity: Option<Cow<'static, str>>,
    /// What kind of problem this is; carries the OWASP / ATLAS / NIST mapping.
    pub category: Category,
    /// How bad it is if real.
    pub severity: Severity,
    /// Confidence that the finding is real, `0.0..=1.0`.
    pub score: f32,
    /// Where it is, in bytes of the original input.
    pub span: Span,
    /// One line a person can check: what was seen and why it counts.
    pub explanation: String,
}

impl Finding {
    /// The matched text, or `""` if the span does not fit `text` (a bug in the scanner, never a panic).
    pub fn matched<'t>(&self, text: &'t str) -> &'t str {
        text.get(self.span.start..self.span.end).unwrap_or("")
    }

    /// Excerpt that is safe to log: secrets and identifiers are masked, short context kept.
    pub fn excerpt(&self, text: &str) -> String {
        excerpt(self.matched(text), self.category)
    }
}

/// Excerpt of a matched value that is safe to print or store: it never reveals a whole secret.
pub fn excerpt(matched: &str, category: Category) -> String {
    match category {
        Category::Secret | Category::Pii => mask_excerpt(matched),
        _ => {
            let mut out: String = matched.chars().take(80).collect();
            if matched.chars().nth(80).is_some() {
                out.push('…');
            }
            out
        }
    }
}

/// Keeps a few characters at each end and masks the middle: `AKIA************MPLE`.
///
/// Short values are masked more aggressively so that a 6-digit PIN is never shown whole.
pub fn mask_excerpt(value: &str) -> String {
    let chars: Vec<char> = value.chars().filter(|c| !c.is_control()).collect();
    let n = chars.len();
    let keep = match n {
        0..=6 => 0,
        7..=12 => 2,
        13..=24 => 3,
        _ => 4,
    };
    let hidden = (n - 2 * keep).min(24);
    let mut out = String::with_capacity(n.min(40) + 4);
    out.extend(&chars[..keep]);
    out.extend(std::iter::repeat_n('*', hidden.max(1)));
    out.extend(&chars[n - keep..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_never_reveals_short_values() {
        assert_eq!(mask_excerpt("123456"), "******");
        assert_eq!(mask_excerpt(""), "*");
        assert_eq!(mask_excerpt("AKIAIOSFODNN7EXAMPLE"), "AKI**************PLE");
        let long = "x".repeat(100);
        assert!(mask_excerpt(&long).len() < 40);
    }

    #[test]
    fn char_range_counts_scalars() {
        let t = "héllo wörld";
        let start = t.find("wörld").unwrap();
        let s = Span::new(start, t.len());
        assert_eq!(s.char_range(t), (6, 11));
    }
}
