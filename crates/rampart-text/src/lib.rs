//! Text views (placeholder).
pub mod decode;
use rampart_core::Views;
/// Computes the views of `text`.
pub fn views(_text: &str) -> Views { Views::default() }
