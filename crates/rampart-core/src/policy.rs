//! Policies: which scanners run, how findings become actions, what is allowed.
//!
//! A policy is plain data read from TOML with unknown keys rejected, so that a typo in a key fails loudly at
//! load time instead of silently weakening protection. Scanner options are kept as raw TOML tables here and
//! validated by each scanner's builder, which knows its own options.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Category, Direction, Finding, Severity};

/// What to do with an input (or a finding).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Let it through; findings are still reported and audited (`log` is accepted as an alias).
    #[default]
    #[serde(alias = "log")]
    Allow,
    /// Replace the offending spans, then let it through.
    Redact,
    /// Refuse it.
    Block,
}

impl Action {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Redact => "redact",
            Action::Block => "block",
        }
    }
}

/// One line of the action table: the first rule that matches a finding decides its action.
///
/// Every field except `action` is a condition; an absent condition matches anything.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionRule {
    /// Finding category (`"secret"`, `"pii"`, `"hidden-unicode"`, ...).
    pub category: Option<Category>,
    /// Entity types (`["CREDIT_CARD", "US_SSN"]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entities: Vec<String>,
    /// Rule ids (`["SEC0001"]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// Scanner id.
    pub scanner: Option<String>,
    /// Only for this direction.
    pub direction: Option<Direction>,
    /// Only findings at least this severe.
    pub min_severity: Option<Severity>,
    /// Only findings at least this confident.
    pub min_score: Option<f32>,
    /// Only findings at most this confident (to treat weak and strong evidence differently).
    pub max_score: Option<f32>,
    /// What to do.
    pub action: Action,
}

impl ActionRule {
    /// True when every condition of the rule holds for `finding`.
    pub fn matches(&self, finding: &Finding, direction: Direction) -> bool {
        self.category.is_none_or(|c| c == finding.category)
            && (self.entities.is_empty()
                || finding
                    .entity
                    .as_deref()
                    .is_some_and(|e| self.entities.iter().any(|x| x == e)))
            && (self.rules.is_empty() || self.rules.iter().any(|r| *r == finding.rule))
            && self.scanner.as_deref().is_none_or(|s| s == finding.scanner)
            && self.direction.is_none_or(|d| d == direction)
            && self.min_severity.is_none_or(|s| finding.severity >= s)
            && self.min_score.is_none_or(|s| finding.score >= s)
            && self.max_score.is_none_or(|s| finding.score <= s)
    }
}

/// Things that are known to be fine and must never be reported.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AllowList {
    /// Exact matched values to ignore (`"support@example.com"`).
    pub values: Vec<String>,
    /// Regexes; a finding whose whole matched text matches one is ignored.
    pub patterns: Vec<String>,
    /// Rule ids to switch off.
    pub rules: Vec<String>,
}

/// How a redacted value is replaced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operator {
    /// `<EMAIL_ADDRESS_1>`: numbered placeholders, consistent within one request; reversible with a vault.
    #[default]
    Replace,
    /// Keep the last characters, mask the rest with `*`: `************4242`.
    Mask,
    /// Remove the value entirely (`<REDACTED>`).
    Redact,
    /// Keyed hash (`<EMAIL_ADDRESS:3f2a9c1b>`): stable across requests, not reversible.
    Hash,
    /// Authenticated encryption, deterministic per key: `<EMAIL_ADDRESS:enc:...>`; reversible with the key.
    Encrypt,
}

/// Redaction settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedactConfig {
    /// Operator for entities without an entry in `entities`.
    pub operator: Operator,
    /// Per-entity operator (`CREDIT_CARD = "mask"`).
    pub entities: BTreeMap<String, Operator>,
    /// Environment variable holding the key for `hash` and `encrypt` (64 hex chars or any passphrase).
    pub key_env: Option<String>,
}

/// Bounds that keep one input from costing too much.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Inputs larger than this are scanned in pieces of this size by front ends that stream.
    pub max_bytes: usize,
    /// Findings beyond this count are dropped (the verdict says so).
    pub max_findings: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 16 << 20,
            max_findings: 1000,
        }
    }
}

/// A complete policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Name shown in reports and used by the gateway to pick a policy.
    pub name: String,
    /// Findings with a score at or above this drive actions and the CLI exit code.
    pub threshold: f32,
    /// Findings below this score are dropped; between this and `threshold` they are reported only.
    pub report_threshold: f32,
    /// Scanners to run, by id, each with its own options table. `enabled = false` switches one off.
    pub scanners: BTreeMap<String, toml::Table>,
    /// Action table, first match wins.
    pub actions: Vec<ActionRule>,
    /// Action for findings at or above `threshold` that no action rule matches.
    pub default_action: Action,
    /// Known-good values.
    pub allow: AllowList,
    /// How redaction replaces values.
    pub redact: RedactConfig,
    /// Size bounds.
    pub limits: Limits,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            name: "custom".into(),
            threshold: 0.5,
            report_threshold: 0.3,
            scanners: BTreeMap::new(),
            actions: Vec::new(),
            default_action: Action::Allow,
            allow: AllowList::default(),
            redact: RedactConfig::default(),
            limits: Limits::default(),
        }
    }
}

/// Why a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// Not valid TOML, or a key the policy does not know (the message names line and key).
    #[error("invalid policy: {0}")]
    Parse(String),
    /// Valid TOML with a value out of range.
    #[error("invalid policy: {0}")]
    Invalid(String),
}

impl Policy {
    /// Parses and validates a policy.
    pub fn from_toml(text: &str) -> Result<Policy, PolicyError> {
        let policy: Policy = toml::from_str(text).map_err(|e| PolicyError::Parse(e.to_string()))?;
        policy.validate()?;
        Ok(policy)
    }

    /// Checks ranges that serde cannot express.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let unit = |name: &str, v: f32| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(PolicyError::Invalid(format!(
                    "`{name}` must lie in 0.0..=1.0, got {v}"
                )))
            }
        };
        unit("threshold", self.threshold)?;
        unit("report_threshold", self.report_threshold)?;
        if self.report_threshold > self.threshold {
            return Err(PolicyError::Invalid(format!(
                "`report_threshold` ({}) must not exceed `threshold` ({})",
                self.report_threshold, self.threshold
            )));
        }
        for (i, rule) in self.actions.iter().enumerate() {
            if let Some(s) = rule.min_score {
                unit(&format!("actions[{i}].min_score"), s)?;
            }
            if let Some(s) = rule.max_score {
                unit(&format!("actions[{i}].max_score"), s)?;
            }
        }
        if self.limits.max_bytes == 0 {
            return Err(PolicyError::Invalid(
                "`limits.max_bytes` must be positive".into(),
            ));
        }
        Ok(())
    }

    /// The action for one finding: the first matching action rule, else `default_action` if the finding
    /// reached `threshold`, else `allow`.
    pub fn action_for(&self, finding: &Finding, direction: Direction) -> Action {
        if finding.score < self.threshold {
            return Action::Allow;
        }
        self.actions
            .iter()
            .find(|r| r.matches(finding, direction))
            .map_or(self.default_action, |r| r.action)
    }

    /// Whether a scanner is switched on (present and not `enabled = false`).
    pub fn scanner_enabled(&self, id: &str) -> bool {
        self.scanners.get(id).is_some_and(|t| {
            t.get("enabled")
                .and_then(toml::Value::as_bool)
                .unwrap_or(true)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Span;
    use std::borrow::Cow;

    fn finding(category: Category, entity: &'static str, score: f32) -> Finding {
        Finding {
            scanner: Cow::Borrowed("pii"),
            rule: Cow::Borrowed("PII0001"),
            name: Cow::Borrowed("email-address"),
            entity: Some(Cow::Borrowed(entity)),
            category,
            severity: Severity::Medium,
            score,
            span: Span::new(0, 1),
            explanation: String::new(),
        }
    }

    #[test]
    fn first_matching_rule_wins_and_threshold_gates() {
        let p = Policy::from_toml(
            r#"
            threshold = 0.6
            default_action = "redact"
            [[actions]]
            entities = ["CREDIT_CARD"]
            action = "block"
            [[actions]]
            category = "pii"
            direction = "output"
            action = "log"
            "#,
        )
        .unwrap();
        let card = finding(Category::Pii, "CREDIT_CARD", 0.9);
        assert_eq!(p.action_for(&card, Direction::Input), Action::Block);
        let email = finding(Category::Pii, "EMAIL_ADDRESS", 0.9);
        assert_eq!(p.action_for(&email, Direction::Input), Action::Redact);
        assert_eq!(p.action_for(&email, Direction::Output), Action::Allow);
        let weak = finding(Category::Pii, "CREDIT_CARD", 0.4);
        assert_eq!(p.action_for(&weak, Direction::Input), Action::Allow);
    }

    #[test]
    fn unknown_keys_and_bad_ranges_are_rejected() {
        let e = Policy::from_toml("treshold = 0.5").unwrap_err();
        assert!(e.to_string().contains("treshold"), "{e}");
        assert!(Policy::from_toml("threshold = 1.5").is_err());
        assert!(Policy::from_toml("threshold = 0.2\nreport_threshold = 0.4").is_err());
    }
}
