//! A scripted OpenAI- and Anthropic-compatible upstream, for tests, load tests and `rampart serve --demo`.
//!
//! Behaviour is chosen by the requested model name, so a test needs no setup beyond picking a model:
//!
//! | model | answer |
//! |---|---|
//! | `mock-echo`, `rampart-demo-echo`, any unknown name | the last user message (streamed word by word) |
//! | `mock-echo-split-N` | the same, streamed in pieces of N bytes (placeholders get cut) |
//! | `mock-chunks` | the request's extra field `mock_chunks` (array of strings), one SSE chunk each |
//! | `mock-tool-call` | a call of tool `mock_tool.name` (default `get_weather`) with `mock_tool.arguments` |
//! | `mock-status-NNN` | HTTP NNN with an OpenAI-style error, every time |
//! | `mock-flaky-NNN-K` | HTTP NNN the first K times for the same last user message, then the echo |
//! | `mock-malformed-json` | 200 with a truncated JSON body (streaming: as `mock-malformed-sse`) |
//! | `mock-malformed-sse` | one good chunk, then an event that is not JSON |
//! | `mock-reset` | the connection drops mid-body (streaming: after one chunk) |
//! | `mock-hang` | never answers |
//! | `mock-hang-stream` | one chunk, then silence (non-streaming: never answers) |
//!
//! `POST /v1/embeddings` answers deterministic 8-dimensional vectors, `GET /v1/models` lists the names
//! above, and `GET /mock/requests` returns what the mock received (path, auth headers, body), so a test
//! can check what the gateway forwarded (`DELETE` clears it). Azure's
//! `/openai/deployments/{name}/chat/completions` is served with the deployment name as the model.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use serde::Serialize;
use serde_json::{Value, json};

/// The demo model's name.
pub const DEMO_MODEL: &str = "rampart-demo-echo";

const SCRIPTED: &[&str] = &[
    "mock-echo",
    "mock-echo-split-3",
    "mock-chunks",
    "mock-tool-call",
    "mock-status-500",
    "mock-status-429",
    "mock-flaky-500-2",
    "mock-flaky-429-1",
    "mock-malformed-json",
    "mock-malformed-sse",
    "mock-reset",
    "mock-hang",
    "mock-hang-stream",
];

/// Requests kept for `/mock/requests`.
const MAX_RECORDED: usize = 1000;

/// One request the mock received.
#[derive(Clone, Debug, Serialize)]
pub struct RecordedRequest {
    /// Request path.
    pub path: String,
    /// `Authorization` header, if any.
    pub authorization: Option<String>,
    /// `x-api-key` header (Anthropic), if any.
    pub x_api_key: Option<String>,
    /// `api-key` header (Azure), if any.
    pub api_key: Option<String>,
    /// The JSON body (`null` if it was not JSON).
    pub body: Value,
}

#[derive(Default)]
struct MockState {
    demo: bool,
    recorded: Mutex<VecDeque<RecordedRequest>>,
    failures: Mutex<HashMap<String, u32>>,
}

/// The mock upstream. Cloning shares its state.
#[derive(Clone, Default)]
pub struct MockUpstream {
    state: Arc<MockState>,
}

impl std::fmt::Debug for MockUpstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockUpstream")
            .field("demo", &self.state.demo)
            .finish()
    }
}

impl MockUpstream {
    /// A mock listing the scripted models.
    pub fn new() -> MockUpstream {
        MockUpstream::default()
    }

    /// The demo upstream: lists only [`DEMO_MODEL`] (the scripts still answer).
    pub fn demo() -> MockUpstream {
        MockUpstream {
            state: Arc::new(MockState {
                demo: true,
                ..MockState::default()
            }),
        }
    }

    /// The axum application.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/v1/completions", post(completions))
            .route("/v1/messages", post(messages))
            .route("/v1/embeddings", post(embeddings))
            .route("/v1/models", get(models))
            .route(
                "/openai/deployments/{deployment}/chat/completions",
                post(azure_chat),
            )
            .route("/mock/requests", get(recorded).delete(clear))
            .with_state(self.clone())
    }

    /// Binds `addr` and serves in a background task; returns the bound address (use port 0 for any).
    pub async fn start(&self, addr: SocketAddr) -> std::io::Result<SocketAddr> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let app = self.router();
        // Streams are many small writes: without TCP_NODELAY, Nagle and delayed ACKs add ~40 ms per stream.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "mock upstream stopped");
            }
        });
        Ok(local)
    }

    /// Every recorded request, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state
            .recorded
            .lock()
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The most recent request.
    pub fn last_request(&self) -> Option<RecordedRequest> {
        self.state.recorded.lock().ok()?.back().cloned()
    }

    fn record(&self, path: &str, headers: &HeaderMap, body: &Value) {
        let h = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        if let Ok(mut r) = self.state.recorded.lock() {
            if r.len() >= MAX_RECORDED {
                r.pop_front();
            }
            r.push_back(RecordedRequest {
                path: path.to_owned(),
                authorization: h("authorization"),
                x_api_key: h("x-api-key"),
                api_key: h("api-key"),
                body: body.clone(),
            });
        }
    }

    /// Counts a failure for `key`; true while fewer than `times` were counted before.
    fn should_fail(&self, key: String, times: u32) -> bool {
        let Ok(mut f) = self.state.failures.lock() else {
            return false;
        };
        let n = f.entry(key).or_insert(0);
        if *n < times {
            *n += 1;
            true
        } else {
            false
        }
    }
}

/// What a model name asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Script {
    Echo { split: Option<usize> },
    Chunks,
    ToolCall,
    Status(u16),
    Flaky(u16, u32),
    MalformedJson,
    MalformedSse,
    Reset,
    Hang,
    HangStream,
}

fn script(model: &str) -> Script {
    if let Some(n) = model.strip_prefix("mock-echo-split-") {
        return Script::Echo {
            split: n.parse().ok().filter(|&n: &usize| n > 0),
        };
    }
    if let Some(code) = model.strip_prefix("mock-status-")
        && let Ok(code) = code.parse::<u16>()
    {
        return Script::Status(code);
    }
    if let Some(rest) = model.strip_prefix("mock-flaky-")
        && let Some((code, times)) = rest.split_once('-')
        && let (Ok(code), Ok(times)) = (code.parse::<u16>(), times.parse::<u32>())
    {
        return Script::Flaky(code, times);
    }
    match model {
        "mock-chunks" => Script::Chunks,
        "mock-tool-call" => Script::ToolCall,
        "mock-malformed-json" => Script::MalformedJson,
        "mock-malformed-sse" => Script::MalformedSse,
        "mock-reset" => Script::Reset,
        "mock-hang" => Script::Hang,
        "mock-hang-stream" => Script::HangStream,
        _ => Script::Echo { split: None },
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Api {
    Chat,
    Completions,
    Messages,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

fn last_user_text(api: Api, body: &Value) -> String {
    if api == Api::Completions {
        return match body.get("prompt") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n"),
            Some(p) => p.as_str().unwrap_or_default().to_owned(),
            None => String::new(),
        };
    }
    body.get("messages")
        .and_then(Value::as_array)
        .and_then(|m| {
            m.iter()
                .rev()
                .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        })
        .and_then(|m| m.get("content"))
        .map(text_of)
        .unwrap_or_default()
}

/// Splits into words with their leading whitespace: "a  b" → ["a", "  b"].
fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut has_word = false;
    let mut prev_space = false;
    for c in text.chars() {
        let space = c.is_whitespace();
        if space && !prev_space && has_word {
            out.push(std::mem::take(&mut cur));
            has_word = false;
        }
        has_word |= !space;
        prev_space = space;
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn pieces(text: &str, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + n).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        out.push(text[start..end].to_owned());
        start = end;
    }
    out
}

fn error_body(status: u16) -> Value {
    json!({"error": {"message": format!("mock upstream error {status}"), "type": "mock_error", "code": status}})
}

fn status_response(status: u16) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (code, axum::Json(error_body(status))).into_response();
    if status == 429 {
        resp.headers_mut().insert(
            header::RETRY_AFTER,
            axum::http::HeaderValue::from_static("0"),
        );
    }
    resp
}

fn sse_response(frames: Vec<Result<Bytes, std::io::Error>>, hang: bool) -> Response {
    let stream = futures_util::stream::iter(frames);
    let body = if hang {
        use futures_util::StreamExt;
        Body::from_stream(stream.chain(futures_util::stream::pending()))
    } else {
        Body::from_stream(stream)
    };
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(body)
        .unwrap_or_default()
}

fn data(v: &Value) -> Result<Bytes, std::io::Error> {
    Ok(Bytes::from(format!("data: {v}\n\n")))
}

fn named(event: &str, v: &Value) -> Result<Bytes, std::io::Error> {
    Ok(Bytes::from(format!("event: {event}\ndata: {v}\n\n")))
}

fn reset_error() -> Result<Bytes, std::io::Error> {
    Err(std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "mock reset",
    ))
}

/// The answer a script produces: text pieces or a tool call.
enum Answer {
    Text(Vec<String>),
    Tool { name: String, arguments: String },
}

fn answer(script: &Script, api: Api, body: &Value) -> Answer {
    match script {
        Script::Chunks => Answer::Text(
            body.get("mock_chunks")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        ),
        Script::ToolCall => {
            let t = body.get("mock_tool");
            Answer::Tool {
                name: t
                    .and_then(|t| t.get("name"))
                    .and_then(Value::as_str)
                    .unwrap_or("get_weather")
                    .to_owned(),
                arguments: t
                    .and_then(|t| t.get("arguments"))
                    .and_then(Value::as_str)
                    .unwrap_or(r#"{"city":"Paris"}"#)
                    .to_owned(),
            }
        }
        Script::Echo { split: Some(n) } => Answer::Text(pieces(&last_user_text(api, body), *n)),
        _ => Answer::Text(words(&last_user_text(api, body))),
    }
}

async fn handle(
    mock: MockUpstream,
    api: Api,
    path: &str,
    headers: HeaderMap,
    raw: Bytes,
    model_override: Option<String>,
) -> Response {
    let body: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    mock.record(path, &headers, &body);
    let model = model_override.unwrap_or_else(|| {
        body.get("model")
            .and_then(Value::as_str)
            .unwrap_or("mock-echo")
            .to_owned()
    });
    let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let script = script(&model);
    match script {
        Script::Status(code) => return status_response(code),
        Script::Flaky(code, times)
            if mock.should_fail(format!("{model}\u{0}{}", last_user_text(api, &body)), times) =>
        {
            return status_response(code);
        }
        Script::Hang => std::future::pending::<()>().await,
        Script::HangStream if !stream => std::future::pending::<()>().await,
        Script::MalformedJson | Script::MalformedSse if !stream => {
            return Response::builder()
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    r#"{"id": "mock", "choices": [{"message": {"content": "trunc"#,
                ))
                .unwrap_or_default();
        }
        Script::Reset if !stream => {
            let frames: Vec<Result<Bytes, std::io::Error>> = vec![
                Ok(Bytes::from_static(b"{\"id\": \"mock\", ")),
                reset_error(),
            ];
            return Response::builder()
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from_stream(futures_util::stream::iter(frames)))
                .unwrap_or_default();
        }
        _ => {}
    }
    let ans = answer(&script, api, &body);
    let prompt_tokens = words(&last_user_text(api, &body)).len() as u64;
    if !stream {
        return axum::Json(whole(api, &model, &ans, prompt_tokens)).into_response();
    }
    let mut frames = streamed(api, &model, &ans, prompt_tokens);
    let hang = match script {
        Script::MalformedJson | Script::MalformedSse => {
            frames.truncate(2);
            frames.push(Ok(Bytes::from_static(b"data: {not json\n\n")));
            false
        }
        Script::Reset => {
            frames.truncate(2);
            frames.push(reset_error());
            false
        }
        Script::HangStream => {
            frames.truncate(2);
            true
        }
        _ => false,
    };
    sse_response(frames, hang)
}

fn whole(api: Api, model: &str, ans: &Answer, prompt_tokens: u64) -> Value {
    let (text, tool) = match ans {
        Answer::Text(p) => (p.concat(), None),
        Answer::Tool { name, arguments } => (String::new(), Some((name, arguments))),
    };
    let completion_tokens = words(&text).len() as u64 + u64::from(tool.is_some());
    match api {
        Api::Messages => {
            let content = match tool {
                Some((name, args)) => {
                    json!([{"type": "tool_use", "id": "toolu_mock_1", "name": name,
                    "input": serde_json::from_str::<Value>(args).unwrap_or(json!({}))}])
                }
                None => json!([{"type": "text", "text": text}]),
            };
            json!({"id": "msg_mock", "type": "message", "role": "assistant", "model": model,
                "content": content, "stop_reason": if tool.is_some() {"tool_use"} else {"end_turn"},
                "usage": {"input_tokens": prompt_tokens, "output_tokens": completion_tokens}})
        }
        Api::Completions => {
            json!({"id": "cmpl-mock", "object": "text_completion", "created": now(),
            "model": model, "choices": [{"index": 0, "text": text, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}})
        }
        Api::Chat => {
            let (message, finish) = match tool {
                Some((name, args)) => (
                    json!({"role": "assistant", "content": null, "tool_calls": [{"id": "call_mock_1",
                        "type": "function", "function": {"name": name, "arguments": args}}]}),
                    "tool_calls",
                ),
                None => (json!({"role": "assistant", "content": text}), "stop"),
            };
            json!({"id": "chatcmpl-mock", "object": "chat.completion", "created": now(), "model": model,
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                          "total_tokens": prompt_tokens + completion_tokens}})
        }
    }
}

fn streamed(
    api: Api,
    model: &str,
    ans: &Answer,
    prompt_tokens: u64,
) -> Vec<Result<Bytes, std::io::Error>> {
    let mut frames = Vec::new();
    match api {
        Api::Messages => {
            frames.push(named("message_start", &json!({"type": "message_start", "message": {"id": "msg_mock",
                "type": "message", "role": "assistant", "model": model, "content": [], "stop_reason": null,
                "usage": {"input_tokens": prompt_tokens, "output_tokens": 0}}})));
            let (stop, n) = match ans {
                Answer::Text(pieces) => {
                    frames.push(named(
                        "content_block_start",
                        &json!({"type": "content_block_start", "index": 0,
                        "content_block": {"type": "text", "text": ""}}),
                    ));
                    for p in pieces {
                        frames.push(named(
                            "content_block_delta",
                            &json!({"type": "content_block_delta",
                            "index": 0, "delta": {"type": "text_delta", "text": p}}),
                        ));
                    }
                    ("end_turn", pieces.len())
                }
                Answer::Tool { name, arguments } => {
                    frames.push(named("content_block_start", &json!({"type": "content_block_start", "index": 0,
                        "content_block": {"type": "tool_use", "id": "toolu_mock_1", "name": name, "input": {}}})));
                    for p in pieces(arguments, arguments.len().div_ceil(2).max(1)) {
                        frames.push(named(
                            "content_block_delta",
                            &json!({"type": "content_block_delta",
                            "index": 0, "delta": {"type": "input_json_delta", "partial_json": p}}),
                        ));
                    }
                    ("tool_use", 1)
                }
            };
            frames.push(named(
                "content_block_stop",
                &json!({"type": "content_block_stop", "index": 0}),
            ));
            frames.push(named("message_delta", &json!({"type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": null}, "usage": {"output_tokens": n}})));
            frames.push(named("message_stop", &json!({"type": "message_stop"})));
        }
        Api::Completions => {
            let chunk = |text: &str, finish: Value| {
                json!({"id": "cmpl-mock", "object": "text_completion",
                "created": now(), "model": model, "choices": [{"index": 0, "text": text, "finish_reason": finish}]})
            };
            frames.push(data(&chunk("", Value::Null)));
            if let Answer::Text(pieces) = ans {
                for p in pieces {
                    frames.push(data(&chunk(p, Value::Null)));
                }
            }
            frames.push(data(&chunk("", json!("stop"))));
            frames.push(Ok(Bytes::from_static(b"data: [DONE]\n\n")));
        }
        Api::Chat => {
            let chunk = |delta: Value, finish: Value| {
                json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk",
                "created": now(), "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
            };
            frames.push(data(&chunk(
                json!({"role": "assistant", "content": ""}),
                Value::Null,
            )));
            let finish = match ans {
                Answer::Text(pieces) => {
                    for p in pieces {
                        frames.push(data(&chunk(json!({"content": p}), Value::Null)));
                    }
                    "stop"
                }
                Answer::Tool { name, arguments } => {
                    frames.push(data(&chunk(
                        json!({"tool_calls": [{"index": 0, "id": "call_mock_1", "type": "function",
                        "function": {"name": name, "arguments": ""}}]}),
                        Value::Null,
                    )));
                    for p in pieces(arguments, arguments.len().div_ceil(2).max(1)) {
                        frames.push(data(&chunk(
                            json!({"tool_calls": [{"index": 0, "function": {"arguments": p}}]}),
                            Value::Null,
                        )));
                    }
                    "tool_calls"
                }
            };
            frames.push(data(&chunk(json!({}), json!(finish))));
            frames.push(Ok(Bytes::from_static(b"data: [DONE]\n\n")));
        }
    }
    frames
}

async fn chat(State(mock): State<MockUpstream>, headers: HeaderMap, body: Bytes) -> Response {
    handle(mock, Api::Chat, "/v1/chat/completions", headers, body, None).await
}

async fn azure_chat(
    State(mock): State<MockUpstream>,
    Path(deployment): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/openai/deployments/{deployment}/chat/completions");
    handle(mock, Api::Chat, &path, headers, body, Some(deployment)).await
}

async fn completions(
    State(mock): State<MockUpstream>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(
        mock,
        Api::Completions,
        "/v1/completions",
        headers,
        body,
        None,
    )
    .await
}

async fn messages(State(mock): State<MockUpstream>, headers: HeaderMap, body: Bytes) -> Response {
    handle(mock, Api::Messages, "/v1/messages", headers, body, None).await
}

async fn embeddings(State(mock): State<MockUpstream>, headers: HeaderMap, raw: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    mock.record("/v1/embeddings", &headers, &body);
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("mock-embed");
    if let Script::Status(code) = script(model) {
        return status_response(code);
    }
    let inputs: Vec<String> = match body.get("input") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, text)| json!({"object": "embedding", "index": i, "embedding": vector(text)}))
        .collect();
    let tokens: u64 = inputs.iter().map(|t| words(t).len() as u64).sum();
    axum::Json(json!({"object": "list", "data": data, "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}))
    .into_response()
}

/// Eight deterministic components in [-1, 1) derived from the text (FNV-1a), so equal texts embed equally.
fn vector(text: &str) -> Vec<f64> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    (0..8)
        .map(|i| {
            for b in text.bytes().chain([i as u8]) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
            (h % 2000) as f64 / 1000.0 - 1.0
        })
        .collect()
}

async fn models(State(mock): State<MockUpstream>) -> Response {
    let names: Vec<&str> = if mock.state.demo {
        vec![DEMO_MODEL]
    } else {
        SCRIPTED.to_vec()
    };
    let owner = if mock.state.demo {
        "rampart-demo"
    } else {
        "rampart-mock"
    };
    let data: Vec<Value> = names
        .iter()
        .map(|n| json!({"id": n, "object": "model", "created": 0, "owned_by": owner}))
        .collect();
    axum::Json(json!({"object": "list", "data": data})).into_response()
}

async fn recorded(State(mock): State<MockUpstream>) -> Response {
    axum::Json(mock.requests()).into_response()
}

async fn clear(State(mock): State<MockUpstream>) -> Response {
    if let Ok(mut r) = mock.state.recorded.lock() {
        r.clear();
    }
    StatusCode::NO_CONTENT.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_by_name() {
        assert_eq!(script("mock-status-503"), Script::Status(503));
        assert_eq!(script("mock-flaky-429-3"), Script::Flaky(429, 3));
        assert_eq!(script("mock-echo-split-4"), Script::Echo { split: Some(4) });
        assert_eq!(script("gpt-4o"), Script::Echo { split: None });
        assert_eq!(script("mock-hang"), Script::Hang);
    }

    #[test]
    fn words_keep_spacing() {
        assert_eq!(words("Hello  big world"), ["Hello", "  big", " world"]);
        assert_eq!(words("").len(), 0);
        assert_eq!(pieces("héllo", 2), ["h\u{e9}", "ll", "o"]);
    }
}
