//! PERSON, LOCATION and ORGANIZATION recognition (placeholder while being written).

use rampart_core::{BuildError, Finding, RuleMeta};

/// Recognises names of people, places and organisations.
pub struct NameRecognizer;

impl NameRecognizer {
    /// Loads the embedded gazetteers and compiles the cue automata.
    pub fn build() -> Result<NameRecognizer, BuildError> {
        Ok(NameRecognizer)
    }

    /// Metadata of the rules this recogniser reports (ids PII0100..PII0199).
    pub fn rules(&self) -> Vec<RuleMeta> {
        Vec::new()
    }

    /// Appends PERSON / LOCATION / ORGANIZATION findings (scanner id `"pii"`) for `text`.
    pub fn scan(&self, _text: &str, _out: &mut Vec<Finding>) {}
}
