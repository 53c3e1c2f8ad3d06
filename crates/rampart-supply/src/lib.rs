//! Supply-chain security for AI systems: scanning third-party model files for code that runs on load, and
//! describing a project's models, datasets and libraries as a CycloneDX AI bill of materials.

pub mod formats;
pub mod bom;
pub mod report;

pub use report::{FileReport, Format, ModelFinding, Verdict};
