//! The request path, as named phases over a per-request [`Ctx`]:
//!
//! authenticate → authorise (role, model, tools) → read and parse the body → limit (rate, tokens) →
//! scan input (block / redact via the vault) → forward → scan output (whole or streamed) → restore →
//! respond → audit and metrics.
//!
//! [`proxy`] runs them in that order, visibly, in one function; each phase is a small function. Whatever
//! happens, [`finish`] runs exactly once per request (for streams: when the stream ends), recording one audit
//! record and the metrics.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use futures_util::StreamExt;
use rampart_core::Action;
use rampart_vault::Vault;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::api::{self, Endpoint, RequestView};
use crate::audit::{AuditFinding, AuditRecord};
use crate::authz;
use crate::config::UpstreamKind;
use crate::error::{ApiError, LocatedFinding};
use crate::limits::{Admission, Permit, RoleLimits};
use crate::metrics;
use crate::scan;
use crate::state::{Gateway, Role, Runtime};
use crate::stream::{SseEvent, SseParser, StreamFilter};
use crate::upstream::{Upstream, read_limited};

/// Largest single SSE event accepted from an upstream.
const MAX_SSE_EVENT: usize = 4 << 20;

/// What one request carries between phases.
#[derive(Debug)]
pub struct Ctx {
    /// `x-request-id` of the answer.
    pub request_id: String,
    /// The proxied endpoint (for the gateway's own routes, chat completions: the error shape they answer in).
    pub endpoint: Endpoint,
    /// The route's name in metrics, logs and the audit log (`chat_completions`, `models`, `scan`).
    pub route: &'static str,
    /// When the request arrived.
    pub started: Instant,
    /// The authenticated key's id.
    pub key_id: Option<String>,
    /// The key's role.
    pub role: Option<String>,
    /// Requested model.
    pub model: Option<String>,
    /// Strongest action over input and output.
    pub action: Action,
    /// Every finding, input and output.
    pub findings: Vec<LocatedFinding>,
    /// Upstream that served it.
    pub upstream: Option<String>,
    /// Time to the upstream's answer (headers), in milliseconds.
    pub upstream_ms: Option<f64>,
    /// Prompt and completion tokens (reported, else estimated).
    pub prompt_tokens: Option<u64>,
    /// Completion tokens.
    pub completion_tokens: Option<u64>,
    /// Short reason for a block or an error; never a secret value.
    pub reason: Option<String>,
    /// The concurrency slot held until the request (or its stream) ends.
    pub permit: Option<Permit>,
    /// The role's limits and the tokens charged at admission, for the correction afterwards.
    pub charged: Option<(RoleLimits, u64)>,
}

impl Ctx {
    fn new(gw: &Gateway, endpoint: Endpoint) -> Ctx {
        Ctx {
            request_id: gw.next_request_id(),
            endpoint,
            route: endpoint.name(),
            started: Instant::now(),
            key_id: None,
            role: None,
            model: None,
            action: Action::Allow,
            findings: Vec::new(),
            upstream: None,
            upstream_ms: None,
            prompt_tokens: None,
            completion_tokens: None,
            reason: None,
            permit: None,
            charged: None,
        }
    }

    /// A context for one of the gateway's own authenticated routes (`/v1/models`, `/v1/scan`), audited
    /// under `route` like the proxied endpoints.
    pub fn for_route(gw: &Gateway, route: &'static str) -> Ctx {
        let mut ctx = Ctx::new(gw, Endpoint::ChatCompletions);
        ctx.route = route;
        ctx
    }

    /// Records a failed request's block, findings and reason.
    pub fn note_error(&mut self, e: &ApiError) {
        if e.is_block() {
            self.action = Action::Block;
        }
        for f in &e.findings {
            if !self.findings.iter().any(|g| same_finding(g, f)) {
                self.findings.push(f.clone());
            }
        }
        self.reason = Some(format!("{}: {}", e.code, e.message));
    }
}

fn same_finding(a: &LocatedFinding, b: &LocatedFinding) -> bool {
    a.location == b.location && a.report.rule == b.report.rule && a.report.start == b.report.start
}

/// Records the end of a request: metrics, one log line and one audit record.
pub fn finish(gw: &Gateway, ctx: &Ctx, status: StatusCode) {
    let elapsed = ctx.started.elapsed();
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    let action = audit_action(ctx, status);
    metrics::request(ctx.route, status.as_u16(), elapsed);
    if let Some(n) = ctx.prompt_tokens {
        metrics::tokens("prompt", n);
    }
    if let Some(n) = ctx.completion_tokens {
        metrics::tokens("completion", n);
    }
    tracing::info!(
        request_id = %ctx.request_id,
        endpoint = ctx.route,
        key_id = ctx.key_id.as_deref().unwrap_or("-"),
        role = ctx.role.as_deref().unwrap_or("-"),
        model = ctx.model.as_deref().unwrap_or("-"),
        upstream = ctx.upstream.as_deref().unwrap_or("-"),
        status = status.as_u16(),
        action,
        findings = ctx.findings.len(),
        latency_ms,
        upstream_ms = ctx.upstream_ms.unwrap_or(0.0),
        reason = ctx.reason.as_deref().unwrap_or(""),
        "request"
    );
    gw.audit().append(AuditRecord {
        ts_ms: now_ms(),
        request_id: ctx.request_id.clone(),
        key_id: ctx.key_id.clone(),
        role: ctx.role.clone(),
        endpoint: ctx.route.to_owned(),
        model: ctx.model.clone(),
        action: action.to_owned(),
        status: status.as_u16(),
        findings: ctx
            .findings
            .iter()
            .map(|f| AuditFinding {
                direction: f.direction.to_owned(),
                scanner: f.report.scanner.clone(),
                rule: f.report.rule.clone(),
                category: f.report.class.to_owned(),
                severity: f.report.severity.name().to_owned(),
                score: f.report.score,
                start: usize::try_from(f.report.start).unwrap_or(usize::MAX),
                end: usize::try_from(f.report.end).unwrap_or(usize::MAX),
                location: Some(f.location.clone()),
            })
            .collect(),
        latency_ms,
        upstream_ms: ctx.upstream_ms,
        prompt_tokens: ctx.prompt_tokens,
        completion_tokens: ctx.completion_tokens,
        reason: ctx.reason.clone(),
    });
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `allow`, `redact`, `block` or `error`, as the audit log records it.
pub fn audit_action(ctx: &Ctx, status: StatusCode) -> &'static str {
    match ctx.action {
        Action::Block => "block",
        _ if !status.is_success() => "error",
        Action::Redact => "redact",
        Action::Allow => "allow",
    }
}

/// How a request ended.
enum Reply {
    /// A complete response; `finish` runs now.
    Done(Response),
    /// A stream; its task runs `finish` when it ends.
    Streaming(Response),
}

/// Runs one proxied request through every phase.
pub async fn proxy(
    gw: Arc<Gateway>,
    endpoint: Endpoint,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let rt = gw.runtime();
    let mut ctx = Ctx::new(&gw, endpoint);
    let request_id = ctx.request_id.clone();
    let mut resp = match run(&gw, &rt, &mut ctx, &headers, body).await {
        Ok(Reply::Done(resp)) => {
            finish(&gw, &ctx, resp.status());
            settle_tokens(&gw, &ctx);
            resp
        }
        Ok(Reply::Streaming(resp)) => resp,
        Err(e) => {
            ctx.note_error(&e);
            finish(&gw, &ctx, e.status);
            settle_tokens(&gw, &ctx);
            e.into_response_for(endpoint.flavor())
        }
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

async fn run(
    gw: &Arc<Gateway>,
    rt: &Arc<Runtime>,
    ctx: &mut Ctx,
    headers: &HeaderMap,
    body: Body,
) -> Result<Reply, ApiError> {
    let endpoint = ctx.endpoint;
    let role = authenticate(gw, rt, ctx, headers)?;
    let raw = read_body(body, headers, &rt.config.server).await?;
    let (mut value, view) = api::parse_request(endpoint, &raw, rt.config.server.max_messages)?;
    ctx.model = Some(view.model.clone());
    authorize(&role, ctx, &view)?;
    let upstream = rt.route(endpoint, &view.model)?;
    let mut changed = cap_max_tokens(&role, endpoint, &upstream, &view, &mut value)?;
    limit(gw, rt, &role, ctx, &view, &value).await?;
    let mut vault = Vault::new();
    let scanned = scan::scan_request(
        &role.policy,
        &rt.config.scanning,
        &mut value,
        &view.texts,
        &mut vault,
    )
    .await?;
    ctx.action = ctx.action.max(scanned.action);
    ctx.findings.extend(scanned.findings);
    match scanned.action {
        Action::Block => {
            let findings = blocking(&ctx.findings, "");
            return Err(ApiError::blocked(
                StatusCode::BAD_REQUEST,
                "input_blocked",
                "the request was blocked by the gateway's policy",
                findings,
            ));
        }
        Action::Redact => changed = true,
        Action::Allow => {}
    }
    let forward = if changed {
        Bytes::from(
            serde_json::to_vec(&value)
                .map_err(|e| ApiError::internal("serialize", e.to_string()))?,
        )
    } else {
        raw
    };
    ctx.upstream = Some(upstream.name().to_owned());
    let (resp, waited) = upstream
        .send(endpoint, &view.model, forward, view.stream, headers)
        .await?;
    ctx.upstream_ms = Some(waited.as_secs_f64() * 1000.0);
    metrics::upstream(upstream.name(), waited);
    if !resp.status().is_success() {
        return Err(upstream
            .error_from(resp, rt.config.server.max_response_bytes)
            .await);
    }
    let input_action = ctx.action;
    if view.stream {
        return stream_reply(gw, rt, &role, ctx, &upstream, resp, vault, input_action).await;
    }
    whole_reply(rt, &role, ctx, &upstream, resp, &vault).await
}

/// Ends one of the gateway's own routes: audits `ctx` with the answer's status (or the error's, noting it),
/// and sets `x-request-id`. The counterpart of [`proxy`] for routes that forward nothing.
pub fn respond(gw: &Gateway, mut ctx: Ctx, result: Result<Response, ApiError>) -> Response {
    let mut resp = match result {
        Ok(resp) => {
            finish(gw, &ctx, resp.status());
            resp
        }
        Err(e) => {
            ctx.note_error(&e);
            finish(gw, &ctx, e.status);
            axum::response::IntoResponse::into_response(e)
        }
    };
    if let Ok(v) = HeaderValue::from_str(&ctx.request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// Phase 1: the key (`Authorization: Bearer rk-…`, or `x-api-key: rk-…` as Anthropic clients send it) and
/// its role, noted in `ctx`. Revocations made by `rampart keys revoke` apply to the very next request.
pub fn authenticate(
    gw: &Gateway,
    rt: &Runtime,
    ctx: &mut Ctx,
    headers: &HeaderMap,
) -> Result<Arc<Role>, ApiError> {
    let (key_id, role) = verify_key(gw, rt, headers)?;
    ctx.key_id = Some(key_id);
    ctx.role = Some(role.name.clone());
    Ok(role)
}

fn verify_key(
    gw: &Gateway,
    rt: &Runtime,
    headers: &HeaderMap,
) -> Result<(String, Arc<Role>), ApiError> {
    let presented = presented_key(headers).ok_or_else(|| {
        ApiError::unauthenticated(
            "missing API key: send `Authorization: Bearer rk-...` (or `x-api-key: rk-...`)",
        )
    })?;
    let info = gw
        .keys()
        .verify(presented)
        .map_err(|e| {
            tracing::error!(error = %e, "key store failed");
            ApiError::internal(
                "key_store_unavailable",
                "the gateway could not check the API key",
            )
        })?
        .ok_or_else(|| ApiError::unauthenticated("invalid, revoked or expired API key"))?;
    let role = rt.role(&info.role)?;
    Ok((info.id, role))
}

fn presented_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let v = v.trim();
        let (scheme, token) = v.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim())
            .filter(|t| !t.is_empty());
    }
    headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Reads the body within `server.max_body_bytes` and `server.body_read_timeout_ms`.
pub async fn read_body(
    body: Body,
    headers: &HeaderMap,
    server: &crate::config::ServerConfig,
) -> Result<Bytes, ApiError> {
    let max = server.max_body_bytes;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            "body_too_large",
            format!(
                "the request body exceeds this gateway's limit of {max} bytes (server.max_body_bytes)"
            ),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let read = async {
        let mut stream = body.into_data_stream();
        let mut buf = Vec::with_capacity(declared.map_or(8 << 10, |n| n as usize));
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|_| {
                ApiError::invalid(
                    "body_read_failed",
                    "body",
                    "the request body could not be read",
                )
            })?;
            if buf.len() + chunk.len() > max {
                return Err(too_large());
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(buf))
    };
    tokio::time::timeout(Duration::from_millis(server.body_read_timeout_ms), read)
        .await
        .unwrap_or_else(|_| {
            Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "invalid_request_error",
                "body_timeout",
                "the request body did not arrive in time (server.body_read_timeout_ms)",
            ))
        })
}

/// Phase 2: may this role call this model with these tools?
fn authorize(role: &Role, ctx: &mut Ctx, view: &RequestView) -> Result<(), ApiError> {
    if !authz::model_allowed(&role.models, &view.model) {
        return Err(ApiError::forbidden(
            "model_not_allowed",
            format!(
                "this key's role `{}` may not use model `{}`",
                role.name, view.model
            ),
        ));
    }
    let mut violations = Vec::new();
    for (i, name) in view.declared_tools.iter().enumerate() {
        if let Err(v) = role.tools.check_declared(name, &format!("tools[{i}]")) {
            violations.push(v);
        }
    }
    for call in &view.tool_calls {
        if let Err(v) = role.tools.check_call(call, "input") {
            violations.push(v);
        }
    }
    if !violations.is_empty() {
        ctx.action = Action::Block;
        let names: Vec<&str> = violations
            .iter()
            .map(|v| v.report.excerpt.as_str())
            .collect();
        return Err(ApiError::blocked(
            StatusCode::FORBIDDEN,
            "tool_not_allowed",
            format!(
                "this key's role `{}` may not use tool(s): {}",
                role.name,
                names.join(", ")
            ),
            violations,
        ));
    }
    Ok(())
}

/// Phase: rate limits. Charges the prompt's token estimate when the role has a `tpm` (counting only then),
/// takes a concurrency slot, or refuses with 429 and `Retry-After`.
async fn limit(
    gw: &Gateway,
    rt: &Runtime,
    role: &Role,
    ctx: &mut Ctx,
    view: &RequestView,
    body: &Value,
) -> Result<(), ApiError> {
    if role.limits.is_unlimited() {
        return Ok(());
    }
    let estimate = if role.limits.tpm.is_some() {
        estimate_prompt_tokens(rt, view, body).await
    } else {
        0
    };
    let key_id = ctx.key_id.clone().unwrap_or_default();
    let admission = gw
        .limiter()
        .check(&key_id, &role.limits, estimate)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "rate limiter failed");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                "limits_unavailable",
                "the gateway could not check its rate limits",
            )
        })?;
    match admission {
        Admission::Allowed(permit) => {
            ctx.permit = Some(permit);
            if role.limits.tpm.is_some() {
                ctx.charged = Some((role.limits.clone(), estimate));
                ctx.prompt_tokens = Some(estimate);
            }
            Ok(())
        }
        Admission::Limited { retry_after, limit } => {
            metrics::rate_limited(limit.as_str());
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                "rate_limited",
                format!(
                    "rate limit exceeded: this key's role `{}` allows its {limit}; retry after {} s",
                    role.name,
                    retry_after.as_secs_f64().ceil().max(1.0)
                ),
            );
            e.retry_after = Some(retry_after);
            Err(e)
        }
    }
}

/// The prompt's tokens with the model's BPE (off the executor for long prompts).
async fn estimate_prompt_tokens(rt: &Runtime, view: &RequestView, body: &Value) -> u64 {
    let texts: Vec<String> = view
        .texts
        .iter()
        .filter_map(|t| t.loc.get(body).map(str::to_owned))
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    let model = view.model.clone();
    let count = move || {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        crate::tokens::estimate_chat_tokens(&model, &refs)
    };
    if bytes < rt.config.scanning.offload_bytes {
        count()
    } else {
        tokio::task::spawn_blocking(count).await.unwrap_or(0)
    }
}

/// Corrects the key's token budget with what the request really used (reported usage, else the
/// admission estimate plus `extra_completion`). Runs off the response path.
fn settle_tokens(gw: &Arc<Gateway>, ctx: &Ctx) {
    let Some((limits, estimate)) = ctx.charged.clone() else {
        return;
    };
    let actual = ctx.prompt_tokens.unwrap_or(estimate) + ctx.completion_tokens.unwrap_or(0);
    let delta =
        i64::try_from(actual).unwrap_or(i64::MAX) - i64::try_from(estimate).unwrap_or(i64::MAX);
    if delta == 0 {
        return;
    }
    let (gw, key_id) = (Arc::clone(gw), ctx.key_id.clone().unwrap_or_default());
    tokio::spawn(async move {
        if let Err(e) = gw.limiter().adjust_tokens(&key_id, &limits, delta).await {
            tracing::warn!(error = %e, "token budget correction failed");
        }
    });
}

/// Enforces the role's `max_tokens`: a larger request is refused; a request without one gets the role's cap
/// (as `max_completion_tokens` for OpenAI and Azure chat, `max_tokens` elsewhere). Returns whether the body
/// changed.
fn cap_max_tokens(
    role: &Role,
    endpoint: Endpoint,
    upstream: &Upstream,
    view: &RequestView,
    value: &mut Value,
) -> Result<bool, ApiError> {
    let (Some(cap), Some(field)) = (role.max_tokens, endpoint.max_tokens_field()) else {
        return Ok(false);
    };
    match view.max_tokens {
        Some(n) if n > u64::from(cap) => Err(ApiError::invalid(
            "max_tokens_too_large",
            field,
            format!(
                "the request asks for {n} completion tokens; this key's role `{}` allows at most {cap}",
                role.name
            ),
        )),
        Some(_) => Ok(false),
        None => {
            let name = match (endpoint, upstream.config.kind) {
                (Endpoint::ChatCompletions, UpstreamKind::Openai | UpstreamKind::Azure) => {
                    "max_completion_tokens"
                }
                _ => field,
            };
            if let Some(obj) = value.as_object_mut() {
                obj.insert(name.into(), Value::from(cap));
            }
            Ok(true)
        }
    }
}

/// Phase: a whole answer. Read, check tool calls, scan, redact, restore, respond.
async fn whole_reply(
    rt: &Runtime,
    role: &Arc<Role>,
    ctx: &mut Ctx,
    upstream: &Upstream,
    resp: reqwest::Response,
    vault: &Vault,
) -> Result<Reply, ApiError> {
    let timeout = Duration::from_millis(upstream.config.timeout_ms);
    let raw = read_limited(resp, rt.config.server.max_response_bytes, timeout).await?;
    if ctx.endpoint == Endpoint::Embeddings {
        if let Ok(v) = serde_json::from_slice::<Value>(&raw) {
            if let Some((p, _)) = api::usage(&v) {
                ctx.prompt_tokens = Some(p);
            }
        } else {
            metrics::upstream_error(upstream.name(), "malformed");
            return Err(malformed_json(upstream));
        }
        return Ok(Reply::Done(json_response(raw, ctx.action)));
    }
    let mut value: Value = serde_json::from_slice(&raw).map_err(|_| {
        metrics::upstream_error(upstream.name(), "malformed");
        malformed_json(upstream)
    })?;
    if !value.is_object() {
        return Err(malformed_json(upstream));
    }
    let view = api::response_view(ctx.endpoint, &value);
    if let Some((p, c)) = view.usage {
        ctx.prompt_tokens = Some(p);
        ctx.completion_tokens = Some(c);
    }
    for call in &view.tool_calls {
        if let Err(v) = role.tools.check_call(call, "output") {
            return Err(ApiError::blocked(
                StatusCode::BAD_REQUEST,
                "tool_call_blocked",
                format!(
                    "the model called tool `{}`, which this key's role may not use",
                    call.name
                ),
                vec![v],
            ));
        }
    }
    let outcome = scan::scan_response(
        &role.policy,
        &rt.config.scanning,
        &mut value,
        &view.texts,
        vault,
    )
    .await?;
    ctx.action = ctx.action.max(outcome.action);
    ctx.findings.extend(outcome.findings);
    if outcome.action == Action::Block {
        let found = blocking(&ctx.findings, "output");
        return Err(ApiError::blocked(
            StatusCode::BAD_REQUEST,
            "output_blocked",
            "the model's answer was blocked by the gateway's policy",
            found,
        ));
    }
    let body = if outcome.changed {
        Bytes::from(
            serde_json::to_vec(&value)
                .map_err(|e| ApiError::internal("serialize", e.to_string()))?,
        )
    } else {
        raw
    };
    Ok(Reply::Done(json_response(body, ctx.action)))
}

/// The findings that caused a block (of one direction, or all when `direction` is empty): what the error
/// answer lists. The audit record keeps every finding.
fn blocking(findings: &[LocatedFinding], direction: &str) -> Vec<LocatedFinding> {
    findings
        .iter()
        .filter(|f| {
            f.report.action == Action::Block && (direction.is_empty() || f.direction == direction)
        })
        .cloned()
        .collect()
}

fn malformed_json(upstream: &Upstream) -> ApiError {
    ApiError::upstream(
        "upstream_malformed_json",
        format!(
            "upstream `{}` sent an answer that is not valid JSON",
            upstream.name()
        ),
    )
}

fn json_response(body: Bytes, action: Action) -> Response {
    let mut resp = Response::new(Body::from(body));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp.headers_mut()
        .insert("x-rampart-action", HeaderValue::from_static(action.name()));
    resp
}

/// Frames from the stream task to the client body.
enum Item {
    /// The upstream stream produced its first valid event: send the response headers.
    Started,
    /// Bytes for the client.
    Frame(Bytes),
    /// The stream failed before it started: answer with this error instead.
    Failed(ApiError),
}

/// Phase: a streamed answer. A task reads the upstream, filters each event and sends frames to the
/// client's body; headers go out once the first upstream event parsed, so an upstream that fails at once
/// still gets a 502/504 answer rather than a broken stream.
#[allow(clippy::too_many_arguments)]
async fn stream_reply(
    gw: &Arc<Gateway>,
    rt: &Arc<Runtime>,
    role: &Arc<Role>,
    ctx: &mut Ctx,
    upstream: &Arc<Upstream>,
    resp: reqwest::Response,
    vault: Vault,
    input_action: Action,
) -> Result<Reply, ApiError> {
    let filter = StreamFilter::new(
        ctx.endpoint,
        Arc::clone(&role.policy),
        &rt.config.scanning,
        Arc::new(vault),
        role.tools.clone(),
    );
    let (tx, mut rx) = mpsc::channel::<Item>(32);
    let task_ctx = std::mem::replace(ctx, Ctx::new(gw, ctx.endpoint));
    let idle = Duration::from_millis(upstream.config.stream_idle_timeout_ms);
    tokio::spawn(pump(
        Arc::clone(gw),
        task_ctx,
        resp,
        filter,
        tx,
        idle,
        upstream.name().to_owned(),
    ));
    match rx.recv().await {
        Some(Item::Started) | Some(Item::Frame(_)) => {}
        Some(Item::Failed(e)) => {
            // The task has finished the request (audit, metrics); answer without finishing it again.
            return Ok(Reply::Streaming(e.into_response_for(ctx.endpoint.flavor())));
        }
        None => {
            return Ok(Reply::Streaming(
                ApiError::upstream(
                    "upstream_stream_ended",
                    "the upstream stream ended before it started",
                )
                .into_response_for(ctx.endpoint.flavor()),
            ));
        }
    }
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await? {
                Item::Frame(b) => return Some((Ok::<Bytes, std::io::Error>(b), rx)),
                Item::Started | Item::Failed(_) => continue,
            }
        }
    });
    let mut resp = Response::new(Body::from_stream(body));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        "x-rampart-action",
        HeaderValue::from_static(input_action.name()),
    );
    Ok(Reply::Streaming(resp))
}

/// The stream task: upstream bytes → SSE events → filter → client frames. Ends the request exactly once.
async fn pump(
    gw: Arc<Gateway>,
    mut ctx: Ctx,
    resp: reqwest::Response,
    mut filter: StreamFilter,
    tx: mpsc::Sender<Item>,
    idle: Duration,
    upstream: String,
) {
    let mut upstream_body = resp.bytes_stream();
    let mut parser = SseParser::new(MAX_SSE_EVENT);
    let mut events: Vec<SseEvent> = Vec::new();
    let mut frames: Vec<Bytes> = Vec::new();
    let mut started = false;
    let mut client_gone = false;
    let result: Result<(), ApiError> = async {
        loop {
            let next = tokio::time::timeout(idle, upstream_body.next()).await;
            let chunk = match next {
                Err(_) => {
                    metrics::upstream_error(&upstream, "timeout");
                    return Err(ApiError::upstream_timeout(format!(
                        "upstream `{upstream}` sent nothing for {} ms",
                        idle.as_millis()
                    )));
                }
                Ok(None) => None,
                Ok(Some(Err(e))) => {
                    metrics::upstream_error(&upstream, "transport");
                    return Err(ApiError::upstream(
                        "upstream_connection_lost",
                        format!(
                            "the connection to upstream `{upstream}` failed mid-stream: {}",
                            crate::upstream::describe(&e)
                        ),
                    ));
                }
                Ok(Some(Ok(bytes))) => Some(bytes),
            };
            events.clear();
            let parsed = match &chunk {
                Some(bytes) => parser.push(bytes, &mut events),
                None => parser.finish(&mut events),
            };
            parsed.map_err(|e| {
                metrics::upstream_error(&upstream, "malformed");
                ApiError::upstream(
                    "upstream_malformed_stream",
                    format!("upstream `{upstream}` sent invalid SSE: {e}"),
                )
            })?;
            for event in &events {
                frames.clear();
                filter.on_event(event, &mut frames).inspect_err(|e| {
                    if e.code == "upstream_malformed_stream" {
                        metrics::upstream_error(&upstream, "malformed");
                    }
                })?;
                if !started {
                    started = true;
                    if tx.send(Item::Started).await.is_err() {
                        client_gone = true;
                        return Ok(());
                    }
                }
                for f in frames.drain(..) {
                    if tx.send(Item::Frame(f)).await.is_err() {
                        client_gone = true;
                        return Ok(());
                    }
                }
            }
            if chunk.is_none() {
                break;
            }
        }
        frames.clear();
        filter.on_end(&mut frames)?;
        if !started && frames.is_empty() && !filter.finished {
            return Err(ApiError::upstream(
                "upstream_malformed_stream",
                format!("upstream `{upstream}` ended the stream without sending any event"),
            ));
        }
        if !started {
            started = true;
            let _ = tx.send(Item::Started).await;
        }
        if ctx.endpoint.flavor() == crate::error::Flavor::OpenAi {
            frames.push(Bytes::from_static(crate::stream::DONE));
        }
        // The last frames go out after the audit record is appended (below), so a client that has read
        // the whole stream finds the request in the audit log.
        Ok(())
    }
    .await;
    ctx.action = ctx.action.max(filter.action);
    ctx.findings.append(&mut filter.findings);
    match filter.usage {
        Some((p, c)) => {
            ctx.prompt_tokens = Some(p);
            ctx.completion_tokens = Some(c);
        }
        // Streams rarely report usage; count what was sent, for the token budget and the audit.
        None if ctx.charged.is_some() && !filter.answer.is_empty() => {
            let model = ctx.model.clone().unwrap_or_default();
            ctx.completion_tokens = Some(crate::tokens::count_tokens(&model, &filter.answer));
        }
        None => {}
    }
    let mut failed_early = None;
    let (status, tail) = match result {
        Ok(()) => {
            if client_gone {
                ctx.reason = Some("client disconnected".into());
            }
            (StatusCode::OK, std::mem::take(&mut frames))
        }
        Err(e) => {
            ctx.note_error(&e);
            if started {
                // The client got 200 and an error event; the audit records what happened.
                let status = if e.is_block() {
                    StatusCode::OK
                } else {
                    e.status
                };
                (status, filter.error_frames(&e))
            } else {
                let status = e.status;
                failed_early = Some(e);
                (status, Vec::new())
            }
        }
    };
    finish(&gw, &ctx, status);
    settle_tokens(&gw, &ctx);
    if let Some(e) = failed_early {
        let _ = tx.send(Item::Failed(e)).await;
    }
    if !client_gone {
        for f in tail {
            if tx.send(Item::Frame(f)).await.is_err() {
                break;
            }
        }
    }
}
