//! The Rampart gateway: an OpenAI-compatible reverse proxy that puts Rampart's policy pipeline between
//! clients and model providers.
//!
//! A request passes named phases, each a small function with its own tests:
//! authenticate → authorise (role, model, tools) → limit (rate, tokens, size) → parse into the internal
//! message model → scan input → act (block / redact via the vault) → forward → scan output (whole or
//! streamed) → restore → respond → audit and metrics. [`proxy`] shows them in order.
//!
//! Start one in-process with [`Gateway::new`] and [`server::serve`]; [`mock::MockUpstream`] is a scripted
//! upstream for tests and the demo.

// Errors are built at most once per request and carry the findings a client needs; boxing them would only
// move that one allocation, so the size lint does not apply here.
#![allow(clippy::result_large_err)]

pub mod api;
pub mod audit;
pub mod authz;
pub mod config;
mod db;
pub mod error;
mod keys;
pub mod limits;
pub mod metrics;
pub mod mock;
pub mod proxy;
pub mod scan;
pub mod server;
pub mod state;
pub mod stream;
pub mod strings;
pub mod tokens;
pub mod tools;
pub mod upstream;

pub use config::GatewayConfig;
pub use error::ApiError;
pub use keys::{KEY_PREFIX, KeyInfo, KeyStore, StoreError, parse_duration};
pub use state::{Gateway, GatewayError, Runtime};
