//! Placeholder while the secrets scanner is written.

use rampart_core::{BuildError, Finding, Input, RuleMeta, Scanner};

/// Scanner id.
pub const ID: &str = "secrets";
/// Example options.
pub const EXAMPLE_CONFIG: &str = "";

struct Stub;
impl Scanner for Stub {
    fn id(&self) -> &'static str {
        ID
    }
    fn rules(&self) -> &[RuleMeta] {
        &[]
    }
    fn scan(&self, _input: &Input<'_>, _out: &mut Vec<Finding>) {}
}

/// Builds the scanner.
pub fn build(_options: &toml::Table) -> Result<Box<dyn Scanner>, BuildError> {
    Ok(Box::new(Stub))
}
