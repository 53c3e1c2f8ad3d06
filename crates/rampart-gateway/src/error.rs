//! Errors a request can end with, and their OpenAI- or Anthropic-shaped JSON bodies.
//!
//! One type, [`ApiError`], carries the HTTP status, the error `type` and `code` clients branch on, a message a
//! person can act on (naming the offending field), and for policy blocks the findings that caused them.
//! Policy blocks are verdicts rendered as errors, not internal failures: they are counted separately.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rampart_core::FindingReport;
use serde::Serialize;
use serde_json::{Value, json};

/// The `type` of a policy block, as the public contract names it.
pub const POLICY_VIOLATION: &str = "rampart_policy_violation";

/// Which API's error shape to answer with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Flavor {
    /// `{"error": {"message", "type", "code", "param", ...}}`
    #[default]
    OpenAi,
    /// `{"type": "error", "error": {"type", "message", "code", ...}}`
    Anthropic,
}

/// A finding with where it was found in the request or answer.
#[derive(Clone, Debug, Serialize)]
pub struct LocatedFinding {
    /// Where in the JSON body (`messages[2].content`, `choices[0].message.content`, `stream`).
    pub location: String,
    /// `input`, `output` or `document`.
    pub direction: &'static str,
    /// The finding, in the shape `rampart scan --format json` prints.
    #[serde(flatten)]
    pub report: FindingReport,
}

/// An error answer.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Error `type` (`invalid_request_error`, `rampart_policy_violation`, `upstream_error`, ...).
    pub kind: &'static str,
    /// Machine-readable `code` (`input_blocked`, `model_not_allowed`, `body_too_large`, ...).
    pub code: &'static str,
    /// What went wrong, for a person.
    pub message: String,
    /// The request field at fault, if one is.
    pub param: Option<String>,
    /// Findings behind a policy block.
    pub findings: Vec<LocatedFinding>,
    /// Seconds to wait, for 429.
    pub retry_after: Option<Duration>,
    /// An upstream's own 4xx error body, passed on as it is.
    pub upstream_body: Option<Value>,
}

impl ApiError {
    /// A new error with no param, findings or retry hint.
    pub fn new(
        status: StatusCode,
        kind: &'static str,
        code: &'static str,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            kind,
            code,
            message: message.into(),
            param: None,
            findings: Vec::new(),
            retry_after: None,
            upstream_body: None,
        }
    }

    /// 400 `invalid_request_error` about one field.
    pub fn invalid(
        code: &'static str,
        param: impl Into<String>,
        message: impl Into<String>,
    ) -> ApiError {
        let mut e = ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            code,
            message,
        );
        e.param = Some(param.into());
        e
    }

    /// 401.
    pub fn unauthenticated(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "invalid_api_key",
            message,
        )
    }

    /// 403.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "permission_error", code, message)
    }

    /// A policy block: 400 with the findings, or 403 when the block is an authorisation decision (tools).
    pub fn blocked(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
        findings: Vec<LocatedFinding>,
    ) -> ApiError {
        let mut e = ApiError::new(status, POLICY_VIOLATION, code, message);
        e.findings = findings;
        e
    }

    /// 502 with a reason.
    pub fn upstream(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_GATEWAY, "upstream_error", code, message)
    }

    /// 504.
    pub fn upstream_timeout(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "upstream_error",
            "upstream_timeout",
            message,
        )
    }

    /// 500, for bugs and failed internal services; the message must not reveal secrets.
    pub fn internal(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            code,
            message,
        )
    }

    /// True for policy blocks (audited as `block`, not `error`).
    pub fn is_block(&self) -> bool {
        self.kind == POLICY_VIOLATION
    }

    /// The JSON body in the given API's shape.
    pub fn body(&self, flavor: Flavor) -> Value {
        if let Some(body) = &self.upstream_body {
            return body.clone();
        }
        let mut inner = json!({
            "message": self.message,
            "type": self.kind,
            "code": self.code,
        });
        if let Some(obj) = inner.as_object_mut() {
            if flavor == Flavor::OpenAi {
                obj.insert("param".into(), json!(self.param));
            } else if let Some(p) = &self.param {
                obj.insert("param".into(), json!(p));
            }
            if !self.findings.is_empty() || self.is_block() {
                obj.insert("findings".into(), json!(self.findings));
            }
        }
        match flavor {
            Flavor::OpenAi => json!({ "error": inner }),
            Flavor::Anthropic => json!({ "type": "error", "error": inner }),
        }
    }

    /// The HTTP response in the given API's shape.
    pub fn into_response_for(self, flavor: Flavor) -> Response {
        let body = self.body(flavor);
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(after) = self.retry_after {
            // Whole seconds, rounded up so that a client waiting that long is admitted.
            let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.into_response_for(Flavor::OpenAi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let e = ApiError::invalid("invalid_type", "messages", "`messages` must be an array");
        let b = e.body(Flavor::OpenAi);
        assert_eq!(b["error"]["param"], "messages");
        assert_eq!(b["error"]["type"], "invalid_request_error");
        assert!(b["error"].get("findings").is_none());
        let e = ApiError::blocked(StatusCode::BAD_REQUEST, "input_blocked", "blocked", vec![]);
        let b = e.body(Flavor::Anthropic);
        assert_eq!(b["type"], "error");
        assert_eq!(b["error"]["type"], POLICY_VIOLATION);
        assert!(b["error"]["findings"].is_array());
    }

    #[test]
    fn retry_after_rounds_up() {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_error",
            "rate_limited",
            "x",
        );
        e.retry_after = Some(Duration::from_millis(1500));
        let r = e.into_response();
        assert_eq!(r.headers()[header::RETRY_AFTER], "2");
    }
}
