//! The pipeline: views, then scanners, then the policy's allow-lists and action table, then redaction.
//!
//! A [`Pipeline`] is built once from a [`Policy`] (the only fallible step: regexes and automata compile
//! here) and is then immutable, so front ends share it behind an `Arc` and swap it on reload.

use std::collections::HashSet;

use rampart_core::{Action, BuildError, Direction, Finding, Input, Policy, Scanner, Verdict};
use rampart_vault::{Anonymizer, Key, Vault};

use crate::registry::SCANNERS;

/// The embedded default policy (`crates/rampart-detect/policies/default.toml`).
pub const DEFAULT_POLICY_TOML: &str = include_str!("../policies/default.toml");

/// Parses the embedded default policy.
///
/// # Panics
/// Never in a released build: a unit test parses the embedded file.
pub fn default_policy() -> Policy {
    #[allow(clippy::expect_used)]
    Policy::from_toml(DEFAULT_POLICY_TOML).expect("embedded default policy is valid")
}

/// Everything one scan produced.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Action, risk, findings and sanitised text.
    pub verdict: Verdict,
    /// The policy's action for each finding, parallel to `verdict.findings`.
    pub actions: Vec<Action>,
    /// Findings dropped because `limits.max_findings` was reached.
    pub dropped: usize,
}

/// Scanners plus a compiled policy.
pub struct Pipeline {
    policy: Policy,
    scanners: Vec<Box<dyn Scanner>>,
    allow_values: HashSet<String>,
    allow_patterns: regex::RegexSet,
    anonymizer: Anonymizer,
    /// Some scanner reads decoded views, so the pipeline decodes once for all of them.
    decode: bool,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("policy", &self.policy.name)
            .field(
                "scanners",
                &self.scanners.iter().map(|s| s.id()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Pipeline {
    /// Builds every scanner the policy enables, in registry order, and compiles its allow-lists.
    ///
    /// The keyed `hash` and `encrypt` operators read their key from the environment variable named by
    /// `redact.key_env`; without one, a random per-process key is used (placeholders then differ across runs).
    pub fn from_policy(policy: Policy) -> Result<Pipeline, BuildError> {
        for id in policy.scanners.keys() {
            if !SCANNERS.iter().any(|s| s.id == id) {
                return Err(BuildError::UnknownScanner(id.clone()));
            }
        }
        let mut scanners = Vec::new();
        for spec in SCANNERS {
            if policy.scanner_enabled(spec.id) {
                let mut options = policy.scanners.get(spec.id).cloned().unwrap_or_default();
                options.remove("enabled");
                scanners.push((spec.build)(&options)?);
            }
        }
        let allow_patterns =
            regex::RegexSet::new(policy.allow.patterns.iter().map(|p| format!("^(?:{p})$")))
                .map_err(|e| BuildError::Config {
                    scanner: "policy".into(),
                    message: format!("allow.patterns: {e}"),
                })?;
        let key = match &policy.redact.key_env {
            Some(var) => match std::env::var(var) {
                Ok(v) => Some(Key::from_secret(&v).map_err(|e| BuildError::Config {
                    scanner: "policy".into(),
                    message: format!("redact.key_env `{var}`: {e}"),
                })?),
                Err(_) => {
                    return Err(BuildError::Config {
                        scanner: "policy".into(),
                        message: format!("redact.key_env names `{var}`, which is not set"),
                    });
                }
            },
            None => None,
        };
        let anonymizer = Anonymizer::new(&policy.redact, key).map_err(|e| BuildError::Config {
            scanner: "policy".into(),
            message: format!("redact: {e}"),
        })?;
        Ok(Pipeline {
            decode: scanners.iter().any(|s| s.needs_decoded_views()),
            allow_values: policy.allow.values.iter().cloned().collect(),
            allow_patterns,
            anonymizer,
            scanners,
            policy,
        })
    }

    /// The pipeline of the embedded default policy.
    pub fn with_default_policy() -> Result<Pipeline, BuildError> {
        Pipeline::from_policy(default_policy())
    }

    /// The policy this pipeline was built from.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The scanners, in run order.
    pub fn scanners(&self) -> &[Box<dyn Scanner>] {
        &self.scanners
    }

    /// The hold-back window a streaming front end needs: the longest span any scanner can match, or `None`
    /// when some scanner needs the whole text.
    pub fn max_span(&self) -> Option<usize> {
        self.scanners
            .iter()
            .try_fold(0usize, |acc, s| s.max_span().map(|m| acc.max(m)))
    }

    /// Runs every scanner and filters the findings through the policy's allow-lists and thresholds, sorted by
    /// span. This is the part of [`Pipeline::scan`] that does not decide anything.
    pub fn findings(&self, text: &str, direction: Direction) -> (Vec<Finding>, usize) {
        let views = if self.decode {
            rampart_text::views_with_decoded(text)
        } else {
            rampart_text::views(text)
        };
        let input = Input {
            text,
            views: &views,
            direction,
        };
        let mut findings = Vec::new();
        for scanner in &self.scanners {
            scanner.scan(&input, &mut findings);
        }
        let policy = &self.policy;
        findings.retain(|f| {
            f.score >= policy.report_threshold
                && !policy.allow.rules.iter().any(|r| *r == f.rule)
                && !self.is_allowed_value(f.matched(text))
        });
        findings.sort_by(|a, b| {
            (a.span.start, b.span.end, &a.rule)
                .cmp(&(b.span.start, a.span.end, &b.rule))
                .then(b.score.total_cmp(&a.score))
        });
        // Two scanners (or one scanner over two views) may report the same thing twice: keep the strongest.
        findings.dedup_by(|later, kept| later.span == kept.span && later.rule == kept.rule);
        // Personal data inside a credential (the host or user of a connection string) is part of that
        // credential: one finding, the stronger one, explains it.
        let secrets: Vec<_> = findings
            .iter()
            .filter(|f| f.category == rampart_core::Category::Secret)
            .map(|f| f.span)
            .collect();
        if !secrets.is_empty() {
            findings.retain(|f| {
                f.category != rampart_core::Category::Pii
                    || !secrets
                        .iter()
                        .any(|s| s.start <= f.span.start && f.span.end <= s.end)
            });
        }
        let max = policy.limits.max_findings;
        let dropped = findings.len().saturating_sub(max);
        findings.truncate(max);
        (findings, dropped)
    }

    fn is_allowed_value(&self, matched: &str) -> bool {
        (!self.allow_values.is_empty() && self.allow_values.contains(matched))
            || (!self.allow_patterns.is_empty() && self.allow_patterns.is_match(matched))
    }

    /// Scans `text` and decides. When the decision is `redact`, the sanitised text uses a fresh vault; use
    /// [`Pipeline::scan_with_vault`] to keep the mapping for restoring an answer.
    pub fn scan(&self, text: &str, direction: Direction) -> Report {
        self.scan_with_vault(text, direction, &mut Vault::new())
    }

    /// Scans `text` and decides; placeholders for redacted values are recorded in `vault`.
    pub fn scan_with_vault(&self, text: &str, direction: Direction, vault: &mut Vault) -> Report {
        let mut report = self.assess(text, direction);
        if report.verdict.action == Action::Redact {
            let redact: Vec<Finding> = report
                .verdict
                .findings
                .iter()
                .zip(&report.actions)
                .filter(|(_, a)| **a == Action::Redact)
                .map(|(f, _)| f.clone())
                .collect();
            report.verdict.sanitized = Some(self.anonymizer.anonymize(text, &redact, vault));
        }
        report
    }

    /// Scans and decides without producing sanitised text: for front ends that report findings but do not
    /// forward the text (`rampart scan`), so they do not pay for redaction they would throw away.
    pub fn assess(&self, text: &str, direction: Direction) -> Report {
        let (findings, dropped) = self.findings(text, direction);
        let actions: Vec<Action> = findings
            .iter()
            .map(|f| self.policy.action_for(f, direction))
            .collect();
        let action = actions.iter().copied().max().unwrap_or(Action::Allow);
        let risk = findings
            .iter()
            .filter(|f| f.score >= self.policy.threshold)
            .map(|f| f.score)
            .fold(0.0f32, f32::max);
        Report {
            verdict: Verdict {
                action,
                risk,
                findings,
                sanitized: None,
            },
            actions,
            dropped,
        }
    }

    /// Findings at or above the policy threshold, whatever their action: what `rampart redact` replaces.
    pub fn redaction_targets(&self, text: &str, direction: Direction) -> Vec<Finding> {
        let (mut findings, _) = self.findings(text, direction);
        findings.retain(|f| f.score >= self.policy.threshold);
        findings
    }

    /// Replaces the spans of `findings` in `text` with the policy's operators, recording placeholders in
    /// `vault`.
    pub fn anonymize(&self, text: &str, findings: &[Finding], vault: &mut Vault) -> String {
        self.anonymizer.anonymize(text, findings, vault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_builds() {
        let p = Pipeline::with_default_policy().unwrap();
        assert_eq!(p.policy().name, "default");
        assert_eq!(p.scanners().len(), SCANNERS.len());
    }

    #[test]
    fn unknown_scanner_is_an_error() {
        let policy = Policy::from_toml("[scanners.nope]").unwrap();
        assert!(
            matches!(Pipeline::from_policy(policy), Err(BuildError::UnknownScanner(s)) if s == "nope")
        );
    }
}
