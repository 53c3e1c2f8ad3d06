//! The JSON shape of one finding in reports: `rampart scan --format json`, the gateway's `/v1/scan` and its
//! block errors. Documented in `docs/output.md`; fields may be added, never renamed or removed.

use serde::Serialize;

use crate::{Action, Finding, Severity};

/// One finding as front ends print it: the core finding, its taxonomy, the policy's action and where it is.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FindingReport {
    /// Scanner id.
    pub scanner: String,
    /// Stable rule id.
    pub rule: String,
    /// Kebab-case rule name.
    pub name: String,
    /// Entity type, if any.
    pub entity: Option<String>,
    /// OWASP Top 10 for LLM Applications 2025 entry.
    pub category: &'static str,
    /// Rampart's category name (`pii`, `secret`, ...).
    pub class: &'static str,
    /// MITRE ATLAS techniques.
    pub atlas: &'static [&'static str],
    /// NIST AI RMF subcategories.
    pub nist: &'static [&'static str],
    /// Severity.
    pub severity: Severity,
    /// Confidence, rounded to three decimals.
    pub score: f32,
    /// What the policy does with this finding.
    pub action: Action,
    /// Byte offsets into the original input.
    pub start: u64,
    /// End byte offset, exclusive.
    pub end: u64,
    /// Unicode code point offsets (as Python counts).
    pub char_start: u64,
    /// End code point offset, exclusive.
    pub char_end: u64,
    /// 1-based line.
    pub line: u64,
    /// 1-based column, in characters.
    pub column: u64,
    /// The matched value with its middle masked where it is sensitive.
    pub excerpt: String,
    /// One line: what was seen and why it counts.
    pub explanation: String,
}

impl FindingReport {
    /// The report of `finding` (whose span indexes `text`) under `action`.
    ///
    /// Costs one pass over `text[..span.end]` for the line and character positions; front ends that report
    /// many findings of one long text count incrementally and fill the fields themselves.
    pub fn new(finding: &Finding, action: Action, text: &str) -> FindingReport {
        let start = finding.span.start.min(text.len());
        let before = text.get(..start).unwrap_or("");
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let (char_start, char_end) = finding.span.char_range(text);
        FindingReport::from_parts(
            finding,
            action,
            (finding.span.start as u64, finding.span.end as u64),
            (char_start as u64, char_end as u64),
            (
                before.bytes().filter(|&b| b == b'\n').count() as u64 + 1,
                before.get(line_start..).map_or(0, |l| l.chars().count()) as u64 + 1,
            ),
            finding.excerpt(text),
        )
    }

    /// Assembles a report from positions the caller computed (`bytes` and `chars` as `(start, end)`,
    /// `line_column` 1-based).
    pub fn from_parts(
        finding: &Finding,
        action: Action,
        bytes: (u64, u64),
        chars: (u64, u64),
        line_column: (u64, u64),
        excerpt: String,
    ) -> FindingReport {
        FindingReport {
            scanner: finding.scanner.to_string(),
            rule: finding.rule.to_string(),
            name: finding.name.to_string(),
            entity: finding.entity.as_ref().map(|e| e.to_string()),
            category: finding.category.owasp(),
            class: finding.category.name(),
            atlas: finding.category.atlas(),
            nist: finding.category.nist(),
            severity: finding.severity,
            score: (finding.score * 1000.0).round() / 1000.0,
            action,
            start: bytes.0,
            end: bytes.1,
            char_start: chars.0,
            char_end: chars.1,
            line: line_column.0,
            column: line_column.1,
            excerpt,
            explanation: finding.explanation.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Category, Span};

    #[test]
    fn positions_count_lines_and_chars() {
        let text = "héllo\nmy mail: a@b.example ok";
        let start = text.find("a@b").unwrap();
        let f = Finding {
            scanner: "pii".into(),
            rule: "PII0001".into(),
            name: "email-address".into(),
            entity: Some("EMAIL_ADDRESS".into()),
            category: Category::Pii,
            severity: Severity::Medium,
            score: 0.91234,
            span: Span::new(start, start + 11),
            explanation: "e-mail".into(),
        };
        let r = FindingReport::new(&f, Action::Redact, text);
        assert_eq!((r.line, r.column), (2, 10));
        assert_eq!((r.char_start, r.char_end), (15, 26));
        assert_eq!(r.start, start as u64);
        assert_eq!(r.score, 0.912);
        assert_eq!(r.class, "pii");
        assert!(!r.excerpt.contains("a@b.example"));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["action"], "redact");
        assert_eq!(json["severity"], "medium");
    }
}
