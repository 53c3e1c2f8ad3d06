//! The Rampart gateway: an OpenAI-compatible reverse proxy that puts Rampart's policy pipeline between
//! clients and model providers.
//!
//! A request passes named phases, each a small function with its own tests:
//! authenticate → authorise (role, model, tools) → limit (rate, tokens, size) → parse into the internal
//! message model → scan input → act (block / redact via the vault) → forward → scan output (whole or
//! streamed) → restore → respond → audit and metrics.

pub mod audit;
mod db;
mod keys;

pub use keys::{KEY_PREFIX, KeyInfo, KeyStore, StoreError, parse_duration};
pub mod limits;
pub mod tokens;
pub mod tools;
