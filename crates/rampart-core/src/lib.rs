//! Rampart's shared vocabulary.
//!
//! Every front end (CLI, gateway, dataset scanner) feeds text through [`Scanner`]s and turns their
//! [`Finding`]s into a [`Verdict`] under a [`Policy`]. This crate holds only those types, so that detectors
//! and front ends can depend on it without depending on each other. It has no detection logic and few
//! dependencies on purpose: it is the one crate everything else compiles against.
#![deny(missing_docs)]

mod finding;
mod offsets;
mod policy;
mod report;
mod scanner;
mod taxonomy;
mod verdict;

pub use finding::{Finding, Severity, Span, excerpt, mask_excerpt};
pub use offsets::{OffsetMap, View, ViewKind, Views};
pub use policy::{
    Action, ActionRule, AllowList, Limits, Operator, Policy, PolicyError, RedactConfig,
};
pub use report::FindingReport;
pub use scanner::{BuildError, Direction, Input, RuleMeta, Scanner};
pub use taxonomy::Category;
pub use verdict::Verdict;
