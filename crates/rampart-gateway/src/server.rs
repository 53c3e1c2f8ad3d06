//! Routes, the non-proxy handlers (`/v1/models`, `/v1/scan`, health, metrics), and the accept loop with
//! optional TLS, slow-client timeouts and graceful shutdown.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rampart_core::{Direction, FindingReport};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::api::Endpoint;
use crate::authz;
use crate::error::ApiError;
use crate::proxy::{self, Ctx, read_body};
use crate::scan;
use crate::state::{Gateway, GatewayError, Runtime};

/// Time a TLS client has to finish its handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The gateway's routes.
pub fn router(gw: Arc<Gateway>) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(chat_completions))
        .route("/v1/completions", post(completions))
        .route("/v1/embeddings", post(embeddings))
        .route("/v1/messages", post(messages))
        .route("/v1/models", get(models))
        .route("/v1/scan", post(scan_text))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .fallback(not_found)
        .with_state(gw)
}

async fn chat_completions(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    proxy::proxy(gw, Endpoint::ChatCompletions, headers, body).await
}

async fn completions(State(gw): State<Arc<Gateway>>, headers: HeaderMap, body: Body) -> Response {
    proxy::proxy(gw, Endpoint::Completions, headers, body).await
}

async fn embeddings(State(gw): State<Arc<Gateway>>, headers: HeaderMap, body: Body) -> Response {
    proxy::proxy(gw, Endpoint::Embeddings, headers, body).await
}

async fn messages(State(gw): State<Arc<Gateway>>, headers: HeaderMap, body: Body) -> Response {
    proxy::proxy(gw, Endpoint::Messages, headers, body).await
}

async fn not_found() -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        "unknown_route",
        "no such route on this gateway",
    )
    .into_response()
}

async fn healthz() -> Response {
    axum::Json(json!({"status": "ok"})).into_response()
}

async fn readyz(State(gw): State<Arc<Gateway>>) -> Response {
    if gw.is_ready() {
        axum::Json(json!({"status": "ready"})).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "draining"})),
        )
            .into_response()
    }
}

async fn metrics_text(State(gw): State<Arc<Gateway>>) -> Response {
    let handle = crate::metrics::handle();
    match handle {
        Some(h) if gw.runtime().config.metrics.enabled => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            h.render(),
        )
            .into_response(),
        _ => not_found().await,
    }
}

/// `GET /v1/models`: the models of every upstream this key's role may use, merged. Audited as `models`.
async fn models(State(gw): State<Arc<Gateway>>, headers: HeaderMap) -> Response {
    let rt = gw.runtime();
    let mut ctx = Ctx::for_route(&gw, "models");
    let result = list_models(&gw, &rt, &mut ctx, &headers).await;
    proxy::respond(&gw, ctx, result)
}

async fn list_models(
    gw: &Gateway,
    rt: &Runtime,
    ctx: &mut Ctx,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let role = proxy::authenticate(gw, rt, ctx, headers)?;
    let mut data: Vec<Value> = Vec::new();
    let mut failures = 0;
    for u in &rt.upstreams {
        match u.models(rt.config.server.max_response_bytes).await {
            Ok(list) => {
                for m in list
                    .get("data")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let Some(id) = m.get("id").and_then(Value::as_str) else {
                        continue;
                    };
                    if u.serves(id)
                        && authz::model_allowed(&role.models, id)
                        && !data
                            .iter()
                            .any(|d| d.get("id").and_then(Value::as_str) == Some(id))
                    {
                        data.push(m.clone());
                    }
                }
            }
            Err(e) => {
                failures += 1;
                tracing::warn!(upstream = u.name(), error = %e.message, "listing models failed");
            }
        }
    }
    if failures > 0 && failures == rt.upstreams.len() {
        return Err(ApiError::upstream(
            "upstream_unreachable",
            "no upstream could list its models",
        ));
    }
    Ok(axum::Json(json!({"object": "list", "data": data})).into_response())
}

/// `POST /v1/scan` `{text, direction?, policy?}`: the verdict of a policy on one text, without forwarding.
/// Audited as `scan`, with the verdict as the action and its findings at location `text`.
async fn scan_text(State(gw): State<Arc<Gateway>>, headers: HeaderMap, body: Body) -> Response {
    let rt = gw.runtime();
    let mut ctx = Ctx::for_route(&gw, "scan");
    let result = verdict(&gw, &rt, &mut ctx, &headers, body)
        .await
        .map(|v| axum::Json(v).into_response());
    proxy::respond(&gw, ctx, result)
}

async fn verdict(
    gw: &Gateway,
    rt: &Runtime,
    ctx: &mut Ctx,
    headers: &HeaderMap,
    body: Body,
) -> Result<Value, ApiError> {
    let role = proxy::authenticate(gw, rt, ctx, headers)?;
    let raw = read_body(body, headers, &rt.config.server).await?;
    let req: Value = serde_json::from_slice(&raw).map_err(|e| {
        ApiError::invalid(
            "invalid_json",
            "body",
            format!("request body is not valid JSON: {e}"),
        )
    })?;
    let text = match req.get("text") {
        Some(Value::String(t)) => t.as_str(),
        Some(_) => {
            return Err(ApiError::invalid(
                "invalid_type",
                "text",
                "`text` must be a string",
            ));
        }
        None => {
            return Err(ApiError::invalid(
                "missing_field",
                "text",
                "`text` is required",
            ));
        }
    };
    if req.get("direction").is_some_and(|d| !d.is_string()) {
        return Err(ApiError::invalid(
            "invalid_type",
            "direction",
            "`direction` must be a string",
        ));
    }
    let direction = match req.get("direction").and_then(Value::as_str) {
        None | Some("input") => Direction::Input,
        Some("output") => Direction::Output,
        Some("document") => Direction::Document,
        Some(other) => {
            return Err(ApiError::invalid(
                "invalid_value",
                "direction",
                format!("`direction` must be input, output or document, got `{other}`"),
            ));
        }
    };
    let policy = match req.get("policy") {
        None | Some(Value::Null) => Arc::clone(&role.policy),
        Some(Value::String(name)) => rt.policies.get(name).cloned().ok_or_else(|| {
            ApiError::invalid(
                "unknown_policy",
                "policy",
                format!("no policy named `{name}` is configured"),
            )
        })?,
        Some(_) => {
            return Err(ApiError::invalid(
                "invalid_type",
                "policy",
                "`policy` must be a string",
            ));
        }
    };
    let report = scan::scan(&policy, &rt.config.scanning, text, direction).await?;
    let Some(report) = report else {
        return Ok(json!({"policy": policy.name, "direction": direction.name(),
            "action": "allow", "risk": 0.0, "findings": []}));
    };
    ctx.action = report.verdict.action;
    ctx.findings = scan::locate(&report, text, &"text", direction);
    let findings: Vec<FindingReport> = report
        .verdict
        .findings
        .iter()
        .zip(&report.actions)
        .map(|(f, a)| FindingReport::new(f, *a, text))
        .collect();
    let mut out = json!({"policy": policy.name, "direction": direction.name(),
        "action": report.verdict.action, "risk": (report.verdict.risk * 1000.0).round() / 1000.0,
        "findings": findings});
    if report.verdict.action == rampart_core::Action::Redact {
        let mut vault = rampart_vault::Vault::new();
        let sanitized = policy
            .pipeline
            .anonymize(text, &scan::to_redact(&report), &mut vault);
        out["sanitized"] = Value::String(sanitized);
    }
    Ok(out)
}

/// Loads the listener's certificate chain and key (PEM) into a rustls server config offering h2 and
/// http/1.1.
pub fn tls_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, GatewayError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    crate::upstream::install_crypto_provider();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| GatewayError::Io(format!("tls.cert {}: {e}", cert.display())))?
        .collect::<Result<_, _>>()
        .map_err(|e| GatewayError::Io(format!("tls.cert {}: {e}", cert.display())))?;
    if certs.is_empty() {
        return Err(GatewayError::Io(format!(
            "tls.cert {}: no certificate found",
            cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| GatewayError::Io(format!("tls.key {}: {e}", key.display())))?;
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| GatewayError::Io(format!("tls: {e}")))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves the gateway on `listener` until `shutdown` resolves, then stops accepting, marks itself not
/// ready, and waits up to `server.shutdown_grace_ms` for in-flight requests and streams to finish.
///
/// HTTP/1.1 and HTTP/2 (h2c, or ALPN with TLS) are both served. Clients get `server.header_read_timeout_ms`
/// to send their headers and, with TLS, ten seconds to finish the handshake.
pub async fn serve(
    gw: Arc<Gateway>,
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let config = gw.runtime().config.clone();
    let app = router(Arc::clone(&gw));
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(config.server.header_read_timeout_ms));
    builder.http2().timer(TokioTimer::new());
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors or similar: back off briefly instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let builder = builder.clone();
        let watcher = graceful.watcher();
        match &acceptor {
            None => {
                tokio::spawn(async move {
                    let conn = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .into_owned();
                    if let Err(e) = watcher.watch(conn).await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let tls =
                        match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream))
                            .await
                        {
                            Ok(Ok(s)) => s,
                            Ok(Err(e)) => {
                                tracing::debug!(error = %e, "TLS handshake failed");
                                return;
                            }
                            Err(_) => {
                                tracing::debug!("TLS handshake timed out");
                                return;
                            }
                        };
                    let conn = builder
                        .serve_connection(TokioIo::new(tls), service)
                        .into_owned();
                    if let Err(e) = watcher.watch(conn).await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
            }
        }
    }
    drop(listener);
    gw.set_ready(false);
    let in_flight = graceful.count();
    tracing::info!(
        connections = in_flight,
        "shutting down: draining in-flight requests"
    );
    let grace = Duration::from_millis(config.server.shutdown_grace_ms);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_ms = config.server.shutdown_grace_ms,
            "grace period over; closing remaining connections"
        );
    }
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// Reloads the configuration on every SIGHUP, for as long as the process runs. Errors keep the old
/// configuration and are logged.
pub fn spawn_reload_on_sighup(gw: Arc<Gateway>) {
    #[cfg(unix)]
    tokio::spawn(async move {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            tracing::warn!("cannot listen for SIGHUP; configuration reload is off");
            return;
        };
        while hup.recv().await.is_some() {
            let config = gw
                .config_path()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            // `event` names the outcome for whoever follows the log (operators, the reload test).
            match gw.reload() {
                Ok(()) => {
                    let rt = gw.runtime();
                    tracing::info!(
                        event = "config_reloaded",
                        config,
                        roles = rt.roles.len(),
                        policies = rt.policies.len(),
                        upstreams = rt.upstreams.len(),
                        "configuration reloaded"
                    );
                }
                Err(e) => tracing::error!(
                    event = "config_reload_failed",
                    config,
                    error = %e,
                    "configuration reload failed; keeping the previous one"
                ),
            }
        }
    });
    #[cfg(not(unix))]
    let _ = gw;
}
