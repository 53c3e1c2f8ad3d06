//! The outcome of running a pipeline over one input.

use serde::Serialize;

use crate::{Action, Finding};

/// What to do with an input, and why.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Verdict {
    /// The strongest action any finding's policy rule asked for.
    pub action: Action,
    /// Overall risk, `0.0..=1.0`: the highest score among findings that reached the policy threshold.
    pub risk: f32,
    /// Findings in span order.
    pub findings: Vec<Finding>,
    /// The text with redacted findings replaced, when the action is `redact`.
    pub sanitized: Option<String>,
}
