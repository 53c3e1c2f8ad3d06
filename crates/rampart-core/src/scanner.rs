//! The contract between detectors and front ends.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::{Category, Finding, Severity, Views};

/// Which way the text flows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// A prompt on its way to a model.
    #[default]
    Input,
    /// A model's answer on its way to a user.
    Output,
    /// Data the model reads: retrieved documents, web pages, tool results.
    Document,
}

impl Direction {
    /// Lower-case name as used in policies and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Input => "input",
            Direction::Output => "output",
            Direction::Document => "document",
        }
    }
}

/// One text to scan, with its precomputed views.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    /// The original text. Every reported span indexes into it.
    pub text: &'a str,
    /// Normalised and decoded views, computed once for all scanners.
    pub views: &'a Views,
    /// Where the text is going.
    pub direction: Direction,
}

/// Everything a user needs to know about a rule without reading code: used for `rampart rules`, SARIF
/// `rules[]`, and policy validation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleMeta {
    /// Stable id (`"SEC0001"`).
    pub id: Cow<'static, str>,
    /// Kebab-case name (`"aws-access-key-id"`).
    pub name: Cow<'static, str>,
    /// Entity type reported, if any.
    pub entity: Option<Cow<'static, str>>,
    /// Category of its findings.
    pub category: Category,
    /// Default severity.
    pub severity: Severity,
    /// One sentence: what it detects and why it matters.
    pub description: Cow<'static, str>,
}

/// A text detector.
///
/// Scanners are built once from configuration (where regexes and automata are compiled, and where they may
/// fail), then shared immutably across threads. `scan` is the hot path: it must not allocate except for the
/// findings it reports, and it must run in time linear in the input.
pub trait Scanner: Send + Sync {
    /// Stable scanner id, as used in policies (`"secrets"`).
    fn id(&self) -> &'static str;

    /// Metadata for every rule this scanner can report.
    fn rules(&self) -> &[RuleMeta];

    /// Appends findings for `input` to `out`. Spans must index `input.text`, on char boundaries.
    fn scan(&self, input: &Input<'_>, out: &mut Vec<Finding>);

    /// Whether this scanner reads `input.views.decoded`. Decoding (base64, hex, rot13, ...) is only done when
    /// some scanner of the pipeline asks for it, so pipelines without one pay nothing. Default: `false`.
    fn needs_decoded_views(&self) -> bool {
        false
    }

    /// Longest span any rule can match, in bytes, if bounded. Streaming front ends hold back that many bytes
    /// so that a match split across chunks is still seen whole. The default, `None`, means the scanner needs
    /// the whole text.
    fn max_span(&self) -> Option<usize> {
        None
    }
}

/// Why a scanner or pipeline could not be built from its configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A scanner name in the policy that no registered scanner has.
    #[error("unknown scanner `{0}`")]
    UnknownScanner(String),
    /// An option the scanner does not understand, or a value of the wrong type.
    #[error("scanner `{scanner}`: {message}")]
    Config {
        /// Scanner whose options were wrong.
        scanner: String,
        /// What was wrong, naming the key.
        message: String,
    },
    /// A rule that does not compile (bad regex, duplicate id).
    #[error("rule {rule}: {message}")]
    Rule {
        /// Rule id.
        rule: String,
        /// What was wrong.
        message: String,
    },
}
