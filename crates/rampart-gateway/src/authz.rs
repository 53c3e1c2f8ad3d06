//! Authorisation decisions for one role: which models it may call and which tools it may use.

use std::sync::Arc;

use rampart_core::{Action, Category, Finding, FindingReport, Severity, Span};

use crate::api::ToolCallRef;
use crate::config::glob_match;
use crate::error::LocatedFinding;
use crate::tools::{CompiledToolPolicy, ToolViolation};

/// True when one of `globs` matches `model`.
pub fn model_allowed(globs: &[String], model: &str) -> bool {
    globs.iter().any(|g| glob_match(g, model))
}

/// The role's compiled tool policy, answering in the finding shape the proxy reports and audits.
#[derive(Clone, Debug)]
pub struct ToolGate {
    policy: Arc<CompiledToolPolicy>,
}

impl ToolGate {
    /// Wraps a compiled policy.
    pub fn new(policy: CompiledToolPolicy) -> ToolGate {
        ToolGate {
            policy: Arc::new(policy),
        }
    }

    /// Checks a tool the client declares in `tools` (at `location`, e.g. `tools[0]`).
    pub fn check_declared(&self, name: &str, location: &str) -> Result<(), LocatedFinding> {
        self.policy
            .check_declared(name)
            .map_err(|v| violation_finding(location, "input", v))
    }

    /// Checks a tool call from a request's assistant message (`direction` "input") or from a model's
    /// answer ("output").
    pub fn check_call(
        &self,
        call: &ToolCallRef,
        direction: &'static str,
    ) -> Result<(), LocatedFinding> {
        self.policy
            .check_call(&call.name, &call.arguments)
            .map_err(|v| violation_finding(&call.location, direction, v))
    }
}

fn violation_finding(location: &str, direction: &'static str, v: ToolViolation) -> LocatedFinding {
    tool_finding(location, direction, v.rule, &v.tool, v.explanation)
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
