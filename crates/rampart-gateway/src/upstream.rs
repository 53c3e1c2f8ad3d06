//! Model providers: routing by model, one pooled client each, retries with backoff, timeouts.
//!
//! The client key never leaves the gateway: upstream requests carry the provider key from configuration,
//! and upstream errors that could reveal something about it (401/403) are replaced by the gateway's own.

use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use bytes::Bytes;
use serde_json::Value;

use crate::api::Endpoint;
use crate::config::{ConfigError, UpstreamConfig, UpstreamKind, glob_match};
use crate::error::ApiError;
use crate::metrics;

/// Installs ring as rustls's process-wide crypto provider (reqwest is built without one). Idempotent.
pub fn install_crypto_provider() {
    // `Err` means a provider is already installed, which is all that is needed.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// One configured provider with its connection pool.
pub struct Upstream {
    /// Its configuration.
    pub config: UpstreamConfig,
    base: String,
    key: Option<HeaderValue>,
    client: reqwest::Client,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("name", &self.config.name)
            .field("base", &self.base)
            .field("has_key", &self.key.is_some())
            .finish()
    }
}

/// Headers a client may send that the provider needs to see (Anthropic API versioning and betas).
const FORWARDED_HEADERS: &[&str] = &["anthropic-version", "anthropic-beta", "openai-beta"];

impl Upstream {
    /// Builds the client. Fails when the key variable is unset or the client cannot be built.
    pub fn new(config: UpstreamConfig) -> Result<Upstream, ConfigError> {
        install_crypto_provider();
        let key = config
            .resolve_key()?
            .map(|k| {
                let value = match config.kind {
                    UpstreamKind::Azure | UpstreamKind::Anthropic => k,
                    UpstreamKind::Openai | UpstreamKind::OpenaiCompatible => format!("Bearer {k}"),
                };
                let mut v = HeaderValue::from_str(&value).map_err(|_| {
                    ConfigError::Invalid(format!(
                        "upstreams `{}`: the provider key contains characters not allowed in a header",
                        config.name
                    ))
                })?;
                v.set_sensitive(true);
                Ok::<_, ConfigError>(v)
            })
            .transpose()?;
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(config.connect_timeout_ms))
            .pool_max_idle_per_host(config.pool_max_idle_per_host)
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .build()
            .map_err(|e| {
                ConfigError::Invalid(format!(
                    "upstreams `{}`: cannot build the HTTP client: {e}",
                    config.name
                ))
            })?;
        Ok(Upstream {
            base: config.effective_base_url(),
            key,
            client,
            config,
        })
    }

    /// Name for logs, metrics and audit.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// True when this upstream serves `model`.
    pub fn serves(&self, model: &str) -> bool {
        self.config.models.iter().any(|g| glob_match(g, model))
    }

    /// Whether it can serve an endpoint: Anthropic upstreams speak only `/v1/messages`; OpenAI-style ones
    /// everything else.
    pub fn speaks(&self, endpoint: Endpoint) -> bool {
        (self.config.kind == UpstreamKind::Anthropic) == (endpoint == Endpoint::Messages)
    }

    fn url(&self, endpoint: Endpoint, model: &str) -> String {
        match self.config.kind {
            UpstreamKind::Azure => {
                let deployment = self
                    .config
                    .deployments
                    .get(model)
                    .map_or(model, String::as_str);
                format!(
                    "{}/openai/deployments/{}{}?api-version={}",
                    self.base,
                    encode_segment(deployment),
                    endpoint.upstream_path(),
                    encode_segment(&self.config.api_version)
                )
            }
            _ => format!("{}{}", self.base, endpoint.upstream_path()),
        }
    }

    fn auth(
        &self,
        req: reqwest::RequestBuilder,
        client_headers: &HeaderMap,
    ) -> reqwest::RequestBuilder {
        let mut req = req;
        for name in FORWARDED_HEADERS {
            if let Some(v) = client_headers.get(*name) {
                req = req.header(*name, v);
            }
        }
        if self.config.kind == UpstreamKind::Anthropic
            && !client_headers.contains_key("anthropic-version")
        {
            req = req.header("anthropic-version", &self.config.anthropic_version);
        }
        let Some(key) = &self.key else {
            return req;
        };
        let header = match self.config.kind {
            UpstreamKind::Azure => HeaderName::from_static("api-key"),
            UpstreamKind::Anthropic => HeaderName::from_static("x-api-key"),
            _ => axum::http::header::AUTHORIZATION,
        };
        req.header(header, key)
    }

    /// Sends a request, retrying connection failures, 429 and 5xx with exponential backoff and jitter
    /// (honouring `Retry-After`, capped by `max_backoff_ms`). Returns the first successful response; an
    /// error status after the last retry becomes the matching [`ApiError`].
    ///
    /// `timeout_ms` bounds each attempt until the response headers; a timeout is not retried, since the
    /// provider may still be working on the first attempt.
    pub async fn send(
        &self,
        endpoint: Endpoint,
        model: &str,
        body: Bytes,
        stream: bool,
        client_headers: &HeaderMap,
    ) -> Result<(reqwest::Response, Duration), ApiError> {
        let url = self.url(endpoint, model);
        let timeout = Duration::from_millis(self.config.timeout_ms);
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            let req = self
                .client
                .post(&url)
                .header(axum::http::header::CONTENT_TYPE, "application/json")
                .header(
                    axum::http::header::ACCEPT,
                    if stream {
                        "text/event-stream"
                    } else {
                        "application/json"
                    },
                )
                .body(body.clone());
            let req = self.auth(req, client_headers);
            let retry_after = match tokio::time::timeout(timeout, req.send()).await {
                Err(_) => {
                    metrics::upstream_error(self.name(), "timeout");
                    return Err(ApiError::upstream_timeout(format!(
                        "upstream `{}` did not answer within {} ms",
                        self.name(),
                        self.config.timeout_ms
                    )));
                }
                Ok(Err(e)) => {
                    let reason = if e.is_connect() {
                        "connect"
                    } else {
                        "transport"
                    };
                    metrics::upstream_error(self.name(), reason);
                    if attempt >= self.config.max_retries {
                        let code = if e.is_connect() {
                            "upstream_unreachable"
                        } else {
                            "upstream_connection_lost"
                        };
                        return Err(ApiError::upstream(
                            code,
                            format!("upstream `{}` failed: {}", self.name(), describe(&e)),
                        ));
                    }
                    None
                }
                Ok(Ok(resp)) => {
                    let status = resp.status();
                    let retryable =
                        status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
                    if !retryable || attempt >= self.config.max_retries {
                        if !status.is_success() {
                            metrics::upstream_error(self.name(), "status");
                        }
                        return Ok((resp, started.elapsed()));
                    }
                    metrics::upstream_error(self.name(), "status");
                    parse_retry_after(resp.headers())
                }
            };
            attempt += 1;
            metrics::upstream_retry(self.name());
            tokio::time::sleep(self.backoff(attempt, retry_after)).await;
        }
    }

    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let cap = Duration::from_millis(self.config.max_backoff_ms);
        if let Some(after) = retry_after {
            return after.min(cap);
        }
        let base = self
            .config
            .retry_backoff_ms
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(20));
        // Jitter in [0.5, 1.5) so that clients retrying together spread out.
        let jitter = 0.5 + (random_u64() % 1000) as f64 / 1000.0;
        Duration::from_millis((base as f64 * jitter) as u64).min(cap)
    }

    /// Reads an error answer and maps it: 429 stays 429, 401/403 become a 502 that reveals nothing about the
    /// provider key, other 4xx pass through with the provider's error body, 5xx become 502.
    pub async fn error_from(&self, resp: reqwest::Response, max_bytes: usize) -> ApiError {
        let status = resp.status();
        let retry_after = parse_retry_after(resp.headers());
        let body = read_limited(
            resp,
            max_bytes,
            Duration::from_millis(self.config.timeout_ms),
        )
        .await
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
        match status.as_u16() {
            429 => {
                let mut e = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limit_error",
                    "upstream_rate_limited",
                    format!("upstream `{}` is rate limiting; retry later", self.name()),
                );
                e.retry_after = retry_after;
                e
            }
            401 | 403 => ApiError::upstream(
                "upstream_auth_failed",
                format!(
                    "upstream `{}` rejected the gateway's provider credentials ({status})",
                    self.name()
                ),
            ),
            400..=499 => {
                let mut e = ApiError::new(
                    StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_REQUEST),
                    "invalid_request_error",
                    "upstream_rejected",
                    format!("upstream `{}` rejected the request ({status})", self.name()),
                );
                e.upstream_body = body.filter(|b| b.get("error").is_some());
                e
            }
            _ => ApiError::upstream(
                "upstream_status",
                format!("upstream `{}` answered {status}", self.name()),
            ),
        }
    }

    /// `GET {base}/models`, as JSON.
    pub async fn models(&self, max_bytes: usize) -> Result<Value, ApiError> {
        let req = self.client.get(format!("{}/models", self.base));
        let req = self.auth(req, &HeaderMap::new());
        let timeout = Duration::from_millis(self.config.timeout_ms);
        let resp = tokio::time::timeout(timeout, req.send())
            .await
            .map_err(|_| {
                ApiError::upstream_timeout(format!("upstream `{}` timed out", self.name()))
            })?
            .map_err(|e| ApiError::upstream("upstream_unreachable", describe(&e)))?;
        if !resp.status().is_success() {
            return Err(self.error_from(resp, max_bytes).await);
        }
        let bytes = read_limited(resp, max_bytes, timeout).await?;
        serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::upstream(
                "upstream_malformed_json",
                format!("upstream `{}` sent malformed JSON: {e}", self.name()),
            )
        })
    }
}

/// Reads a whole response body, refusing more than `max_bytes` or a body slower than `timeout`.
pub async fn read_limited(
    mut resp: reqwest::Response,
    max_bytes: usize,
    timeout: Duration,
) -> Result<Bytes, ApiError> {
    let read = async {
        let mut buf = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| {
            ApiError::upstream(
                "upstream_connection_lost",
                format!(
                    "the upstream connection failed while reading the answer: {}",
                    describe(&e)
                ),
            )
        })? {
            if buf.len() + chunk.len() > max_bytes {
                return Err(ApiError::upstream(
                    "upstream_response_too_large",
                    format!("the upstream answer exceeds server.max_response_bytes ({max_bytes})"),
                ));
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(buf))
    };
    tokio::time::timeout(timeout, read)
        .await
        .unwrap_or_else(|_| {
            Err(ApiError::upstream_timeout(
                "the upstream answer did not complete in time",
            ))
        })
}

/// A reqwest error with its causes, without the URL (which may carry an Azure key in a query).
pub fn describe(e: &reqwest::Error) -> String {
    let mut msg = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the body failed"
    } else if e.is_request() {
        "the request failed"
    } else {
        "error"
    }
    .to_owned();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

fn parse_retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A random number for jitter and ids; not for cryptography.
pub fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstream(toml: &str) -> Upstream {
        let c: UpstreamConfig = toml::from_str(toml).unwrap();
        Upstream::new(c).unwrap()
    }

    #[test]
    fn urls_by_kind() {
        let u = upstream("base_url = \"http://h:1/v1/\"");
        assert_eq!(
            u.url(Endpoint::ChatCompletions, "m"),
            "http://h:1/v1/chat/completions"
        );
        let u = upstream(
            "kind = \"azure\"\nbase_url = \"https://r.openai.azure.com\"\ndeployments = { \"gpt-4o\" = \"prod 4o\" }",
        );
        assert_eq!(
            u.url(Endpoint::Embeddings, "gpt-4o"),
            "https://r.openai.azure.com/openai/deployments/prod%204o/embeddings?api-version=2024-10-21"
        );
        let u = upstream("kind = \"anthropic\"");
        assert_eq!(
            u.url(Endpoint::Messages, "c"),
            "https://api.anthropic.com/v1/messages"
        );
        assert!(u.speaks(Endpoint::Messages) && !u.speaks(Endpoint::ChatCompletions));
    }

    #[test]
    fn backoff_is_capped_and_honours_retry_after() {
        let u = upstream("base_url = \"http://h\"\nretry_backoff_ms = 100\nmax_backoff_ms = 1000");
        for attempt in 1..30 {
            assert!(u.backoff(attempt, None) <= Duration::from_millis(1000));
        }
        assert_eq!(
            u.backoff(1, Some(Duration::from_secs(60))),
            Duration::from_millis(1000)
        );
        assert_eq!(
            u.backoff(1, Some(Duration::from_millis(5))),
            Duration::from_millis(5)
        );
    }
}
