//! Supply-chain security for AI systems: scanning third-party model files for code that runs on load, and
//! describing a project's models, datasets and libraries as a CycloneDX AI bill of materials.
//!
//! Model scanning: [`scan_path`] / [`scan_paths`] sniff each file's format from its content, interpret
//! every pickle with a symbolic VM ([`pickle`]) that never imports or runs anything, walk archives with
//! limits against bombs and path traversal, and hand other formats to their structural checks.

pub mod bom;
pub mod formats;
pub mod pickle;
pub mod report;
pub mod rules;
pub mod scan;

pub use report::{FileReport, Format, ModelFinding, Verdict};
pub use scan::{Progress, ScanOptions, scan_bytes, scan_path, scan_paths, scan_paths_with};
