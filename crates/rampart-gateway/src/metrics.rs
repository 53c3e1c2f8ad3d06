//! Every metric the gateway records, declared in one place so names and labels stay consistent.
//!
//! Names follow `rampart_<subsystem>_<what>_<unit>`. The recorder is process-global (the `metrics` facade
//! has one), so several gateways in one process (tests) share it; [`handle`] installs it once.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{counter, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Requests by endpoint and HTTP status.
pub const REQUESTS: &str = "rampart_gateway_requests_total";
/// Whole request duration (streams: until the last byte), by endpoint.
pub const REQUEST_DURATION: &str = "rampart_gateway_request_duration_seconds";
/// Findings that blocked a request or stream, by category and direction.
pub const BLOCKS: &str = "rampart_gateway_blocks_total";
/// Findings that were redacted, by category and direction.
pub const REDACTIONS: &str = "rampart_gateway_redactions_total";
/// Time spent in the policy pipeline per scanned text, by direction.
pub const SCAN_DURATION: &str = "rampart_gateway_scan_duration_seconds";
/// Texts that could not be scanned (scanner panic, text over the policy limit), by fail mode outcome.
pub const SCAN_FAILURES: &str = "rampart_gateway_scan_failures_total";
/// Upstream time to response headers (non-streaming: to the whole body), by upstream.
pub const UPSTREAM_DURATION: &str = "rampart_gateway_upstream_duration_seconds";
/// Upstream failures (timeouts, resets, bad status, malformed bodies), by upstream and reason.
pub const UPSTREAM_ERRORS: &str = "rampart_gateway_upstream_errors_total";
/// Upstream retries, by upstream.
pub const UPSTREAM_RETRIES: &str = "rampart_gateway_upstream_retries_total";
/// Tokens, by kind (`prompt`, `completion`).
pub const TOKENS: &str = "rampart_gateway_tokens_total";
/// Requests refused by a rate limit, by limit kind.
pub const RATE_LIMITED: &str = "rampart_gateway_rate_limited_total";

const LATENCY_BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The Prometheus handle, installing the global recorder on first use. `None` when another recorder was
/// installed first by the host program (metrics then go there and `/metrics` answers 404).
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .ok()?;
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .as_ref()
}

/// Counts a finished request.
pub fn request(endpoint: &'static str, status: u16, duration: Duration) {
    counter!(REQUESTS, "endpoint" => endpoint, "status" => status.to_string()).increment(1);
    histogram!(REQUEST_DURATION, "endpoint" => endpoint).record(duration.as_secs_f64());
}

/// Counts a finding that blocked.
pub fn block(category: &'static str, direction: &'static str) {
    counter!(BLOCKS, "category" => category, "direction" => direction).increment(1);
}

/// Counts a finding that was redacted.
pub fn redaction(category: &'static str, direction: &'static str) {
    counter!(REDACTIONS, "category" => category, "direction" => direction).increment(1);
}

/// Records one pipeline run.
pub fn scan(direction: &'static str, duration: Duration) {
    histogram!(SCAN_DURATION, "direction" => direction).record(duration.as_secs_f64());
}

/// Counts a text that could not be scanned; `outcome` is `passed` (fail-open) or `refused`.
pub fn scan_failure(reason: &'static str, outcome: &'static str) {
    counter!(SCAN_FAILURES, "reason" => reason, "outcome" => outcome).increment(1);
}

/// Records upstream latency.
pub fn upstream(upstream: &str, duration: Duration) {
    histogram!(UPSTREAM_DURATION, "upstream" => upstream.to_owned()).record(duration.as_secs_f64());
}

/// Counts an upstream failure.
pub fn upstream_error(upstream: &str, reason: &'static str) {
    counter!(UPSTREAM_ERRORS, "upstream" => upstream.to_owned(), "reason" => reason).increment(1);
}

/// Counts an upstream retry.
pub fn upstream_retry(upstream: &str) {
    counter!(UPSTREAM_RETRIES, "upstream" => upstream.to_owned()).increment(1);
}

/// Adds tokens of one kind.
pub fn tokens(kind: &'static str, n: u64) {
    if n > 0 {
        counter!(TOKENS, "kind" => kind).increment(n);
    }
}

/// Counts a request refused by a rate limit.
pub fn rate_limited(limit: &'static str) {
    counter!(RATE_LIMITED, "limit" => limit).increment(1);
}
