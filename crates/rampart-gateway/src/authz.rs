//! Authorisation decisions for one role: which models it may call and which tools it may use.

use std::sync::Arc;

use rampart_core::{Action, Category, Finding, FindingReport, Severity, Span};

use crate::api::ToolCallRef;
use crate::config::glob_match;
use crate::error::LocatedFinding;

/// True when one of `globs` matches `model`.
pub fn model_allowed(globs: &[String], model: &str) -> bool {
    globs.iter().any(|g| glob_match(g, model))
}

/// The role's tool policy, applied to declared tools and to tool calls.
#[derive(Clone, Debug, Default)]
pub struct ToolGate {
    policy: Option<Arc<()>>,
}

impl ToolGate {
    /// A gate that lets every tool through.
    pub fn allow_all() -> ToolGate {
        ToolGate { policy: None }
    }

    /// Checks a tool the client declares in `tools`.
    pub fn check_declared(&self, _name: &str, _location: &str) -> Result<(), LocatedFinding> {
        let _ = &self.policy;
        Ok(())
    }

    /// Checks a tool call, from a request's assistant message or from a model's answer.
    pub fn check_call(&self, _call: &ToolCallRef) -> Result<(), LocatedFinding> {
        Ok(())
    }
}

/// A tool violation in the finding shape used by block errors and the audit log.
pub fn tool_finding(
    location: &str,
    direction: &'static str,
    rule: &'static str,
    tool: &str,
    explanation: String,
) -> LocatedFinding {
    let finding = Finding {
        scanner: "tools".into(),
        rule: rule.into(),
        name: rule.trim_start_matches("tools.").to_owned().into(),
        entity: None,
        category: Category::ExcessiveAgency,
        severity: Severity::High,
        score: 1.0,
        span: Span::new(0, 0),
        explanation,
    };
    let mut report = FindingReport::new(&finding, Action::Block, "");
    report.excerpt = tool.to_owned();
    LocatedFinding {
        location: location.to_owned(),
        direction,
        report,
    }
}
