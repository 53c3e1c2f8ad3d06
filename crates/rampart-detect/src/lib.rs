//! Rampart's text detectors, the registry that builds them from a policy, and the [`Pipeline`] every front
//! end runs.
//!
//! Detectors follow one shape: rules are data compiled once at build time (aho-corasick keyword prefilters in
//! front of regexes, so clean text costs almost nothing), validators written in code kill false positives
//! (Luhn, mod-97, base58check, JWT structure), and the hot path pushes findings into a caller-owned vector.

pub mod eval;
pub mod injection;
pub mod pii;
mod pipeline;
mod registry;
pub mod secrets;
pub mod unicode;
pub mod util;

pub use pipeline::{DEFAULT_POLICY_TOML, Pipeline, Report, default_policy};
pub use registry::{SCANNERS, ScannerSpec, all_rules};
