//! Streamed answers: SSE in, scanned and restored SSE out.
//!
//! The [`StreamFilter`] is the body filter of the proxy (called once per upstream event, then at the end).
//! Text deltas go through a [`HoldBack`] window per choice (OpenAI) or content block (Anthropic), so what
//! the client receives has been scanned with enough context to catch a secret split across chunks; the
//! chunks it receives keep the upstream's ids and fields, with only the text changed. Tool-call deltas are
//! held until the call is complete, checked, and sent as one delta. A block ends the stream with an error
//! event (and `data: [DONE]` for OpenAI clients), never a silent truncation.

pub mod holdback;
pub mod sse;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::StatusCode;
use bytes::Bytes;
use rampart_core::{Action, Direction, Finding, FindingReport};
use rampart_vault::Vault;
use serde_json::{Value, json};

use crate::api::{Endpoint, ToolCallRef};
use crate::authz::ToolGate;
use crate::config::{FailMode, ScanningConfig};
use crate::error::{ApiError, Flavor, LocatedFinding};
use crate::scan::{self, PolicyRuntime};
pub use holdback::{HoldBack, Position, Released, Step};
pub use sse::{SseError, SseEvent, SseParser};

/// The OpenAI end-of-stream marker.
pub const DONE: &[u8] = b"data: [DONE]\n\n";

/// A tool call being assembled from deltas.
#[derive(Debug, Default)]
struct ToolBuffer {
    id: Option<Value>,
    name: String,
    arguments: String,
    /// Anthropic: the `content_block_start` event, re-sent once the call is checked.
    start: Option<Value>,
}

/// Scans and rewrites one streamed answer. See the module docs.
pub struct StreamFilter {
    endpoint: Endpoint,
    policy: Arc<PolicyRuntime>,
    fail_mode: FailMode,
    scan_output: bool,
    step: usize,
    vault: Arc<Vault>,
    answer_vault: Option<Vault>,
    tools: ToolGate,
    texts: BTreeMap<u64, HoldBack>,
    tool_calls: BTreeMap<(u64, u64), ToolBuffer>,
    /// The last chunk's envelope (id, model, created...), to frame text released at the end.
    template: Option<Value>,
    /// Every finding of the answer.
    pub findings: Vec<LocatedFinding>,
    /// The strongest action taken on the answer.
    pub action: Action,
    /// Usage reported by the upstream: (prompt, completion).
    pub usage: Option<(u64, u64)>,
    /// The text sent to the client, for token counting when the upstream reports no usage.
    pub answer: String,
    /// The upstream ended its stream properly (`[DONE]` or `message_stop`).
    pub finished: bool,
}

impl std::fmt::Debug for StreamFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamFilter")
            .field("endpoint", &self.endpoint)
            .field("policy", &self.policy.name)
            .field("action", &self.action)
            .finish()
    }
}

impl StreamFilter {
    /// A filter for one answer; `vault` holds the request's placeholders, `tools` checks tool calls.
    pub fn new(
        endpoint: Endpoint,
        policy: Arc<PolicyRuntime>,
        scanning: &ScanningConfig,
        vault: Arc<Vault>,
        tools: ToolGate,
    ) -> StreamFilter {
        StreamFilter {
            endpoint,
            policy,
            fail_mode: scanning.fail_mode,
            scan_output: scanning.scan_output,
            step: scanning.stream_scan_interval_bytes,
            vault,
            answer_vault: None,
            tools,
            texts: BTreeMap::new(),
            tool_calls: BTreeMap::new(),
            template: None,
            findings: Vec::new(),
            action: Action::Allow,
            usage: None,
            answer: String::new(),
            finished: false,
        }
    }

    /// Handles one upstream event, appending the frames to send to `out`. An `Err` ends the stream: send
    /// [`StreamFilter::error_frames`] and stop reading the upstream.
    pub fn on_event(&mut self, event: &SseEvent, out: &mut Vec<Bytes>) -> Result<(), ApiError> {
        if self.endpoint.flavor() == Flavor::OpenAi && event.data.trim() == "[DONE]" {
            self.finished = true;
            return self.flush_all(out);
        }
        if event.data.is_empty() {
            return Ok(());
        }
        let value: Value = serde_json::from_str(&event.data).map_err(|e| {
            ApiError::upstream(
                "upstream_malformed_stream",
                format!("the upstream sent an event that is not JSON: {e}"),
            )
        })?;
        if let Some(err) = value.get("error").filter(|e| !e.is_null()) {
            let msg = err
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("no message");
            return Err(ApiError::upstream(
                "upstream_stream_error",
                format!("the upstream reported an error mid-stream: {msg}"),
            ));
        }
        match self.endpoint {
            Endpoint::Messages => self.anthropic_event(value, out),
            _ => self.openai_event(value, out),
        }
    }

    /// The upstream stream ended: releases everything held and checks pending tool calls.
    pub fn on_end(&mut self, out: &mut Vec<Bytes>) -> Result<(), ApiError> {
        self.flush_all(out)
    }

    /// The frames that end a stream with `err`.
    pub fn error_frames(&self, err: &ApiError) -> Vec<Bytes> {
        let body = err.body(self.endpoint.flavor());
        match self.endpoint.flavor() {
            Flavor::OpenAi => vec![sse_data(&body), Bytes::from_static(DONE)],
            Flavor::Anthropic => vec![sse_named("error", &body)],
        }
    }

    // ---- OpenAI chat and completions ----

    fn openai_event(&mut self, mut value: Value, out: &mut Vec<Bytes>) -> Result<(), ApiError> {
        if let Some(u) = crate::api::usage(&value) {
            self.usage = Some(u);
        }
        let choices = match value.get_mut("choices").and_then(Value::as_array_mut) {
            Some(c) if !c.is_empty() => std::mem::take(c),
            _ => {
                out.push(sse_data(&value));
                return Ok(());
            }
        };
        self.template = Some(value.clone());
        for (pos, choice) in choices.into_iter().enumerate() {
            let idx = choice
                .get("index")
                .and_then(Value::as_u64)
                .unwrap_or(pos as u64);
            self.openai_choice(idx, choice, &value, out)?;
        }
        Ok(())
    }

    fn openai_choice(
        &mut self,
        idx: u64,
        mut choice: Value,
        template: &Value,
        out: &mut Vec<Bytes>,
    ) -> Result<(), ApiError> {
        let chat = self.endpoint == Endpoint::ChatCompletions;
        let (content, tool_deltas, rest_empty) = if chat {
            let delta = choice.get_mut("delta").and_then(Value::as_object_mut);
            match delta {
                Some(d) => {
                    let content = d.remove("content");
                    let tools = d.remove("tool_calls");
                    (content, tools, d.is_empty())
                }
                None => (None, None, true),
            }
        } else {
            let content = choice.as_object_mut().and_then(|c| c.remove("text"));
            (content, None, true)
        };
        let mut released = match content.as_ref().and_then(Value::as_str) {
            Some(t) if !t.is_empty() => self.push_text(idx, t)?,
            _ => String::new(),
        };
        if let Some(Value::Array(deltas)) = tool_deltas {
            for d in deltas {
                self.buffer_openai_tool(idx, &d)?;
            }
        }
        let finish = choice.get("finish_reason").is_some_and(|f| !f.is_null());
        if finish {
            released.push_str(&self.finish_text(idx)?);
            let calls = self.finish_openai_tools(idx)?;
            if !released.is_empty() {
                let mut c = choice.clone();
                c["finish_reason"] = Value::Null;
                out.push(self.openai_frame(template, c, Some(released)));
            }
            for call in calls {
                let c =
                    json!({"index": idx, "delta": {"tool_calls": [call]}, "finish_reason": null});
                out.push(self.openai_frame(template, c, None));
            }
            let text = if chat { None } else { Some(String::new()) };
            out.push(self.openai_frame(template, choice, text));
        } else if !released.is_empty() || !rest_empty {
            out.push(self.openai_frame(template, choice, Some(released)));
        }
        Ok(())
    }

    /// `template` with `choices = [choice]`, the choice's text set to `text` when given.
    fn openai_frame(&self, template: &Value, mut choice: Value, text: Option<String>) -> Bytes {
        if let Some(t) = text {
            if self.endpoint == Endpoint::ChatCompletions {
                if let Some(d) = choice.get_mut("delta").and_then(Value::as_object_mut) {
                    d.insert("content".into(), Value::String(t));
                } else if let Some(c) = choice.as_object_mut() {
                    c.insert("delta".into(), json!({ "content": t }));
                }
            } else if let Some(c) = choice.as_object_mut() {
                c.insert("text".into(), Value::String(t));
            }
        }
        let mut frame = template.clone();
        frame["choices"] = Value::Array(vec![choice]);
        sse_data(&frame)
    }

    fn buffer_openai_tool(&mut self, idx: u64, delta: &Value) -> Result<(), ApiError> {
        let t = delta.get("index").and_then(Value::as_u64).unwrap_or(0);
        let buf = self.tool_calls.entry((idx, t)).or_default();
        if let Some(id) = delta.get("id").filter(|v| !v.is_null()) {
            buf.id = Some(id.clone());
        }
        if let Some(f) = delta.get("function") {
            if let Some(n) = f.get("name").and_then(Value::as_str) {
                buf.name.push_str(n);
            }
            if let Some(a) = f.get("arguments").and_then(Value::as_str) {
                buf.arguments.push_str(a);
            }
        }
        if buf.arguments.len() > self.policy.pipeline.policy().limits.max_bytes {
            return Err(ApiError::upstream(
                "upstream_malformed_stream",
                "a streamed tool call's arguments exceed the policy's limits.max_bytes",
            ));
        }
        Ok(())
    }

    /// Checks and returns the finished tool calls of one choice, as whole deltas.
    fn finish_openai_tools(&mut self, idx: u64) -> Result<Vec<Value>, ApiError> {
        let keys: Vec<(u64, u64)> = self
            .tool_calls
            .range((idx, 0)..=(idx, u64::MAX))
            .map(|(k, _)| *k)
            .collect();
        let mut calls = Vec::new();
        for key in keys {
            let Some(buf) = self.tool_calls.remove(&key) else {
                continue;
            };
            let location = format!("choices[{}].delta.tool_calls[{}]", key.0, key.1);
            let arguments = self.check_tool(&location, &buf)?;
            calls.push(json!({
                "index": key.1,
                "id": buf.id.unwrap_or(Value::Null),
                "type": "function",
                "function": {"name": buf.name, "arguments": arguments},
            }));
        }
        Ok(calls)
    }

    // ---- Anthropic messages ----

    fn anthropic_event(&mut self, mut value: Value, out: &mut Vec<Bytes>) -> Result<(), ApiError> {
        let ty = value
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let idx = value.get("index").and_then(Value::as_u64).unwrap_or(0);
        match ty.as_str() {
            "message_start" => {
                if let Some(u) = value.get("message").and_then(crate::api::usage) {
                    self.usage = Some(u);
                }
                out.push(sse_named(&ty, &value));
            }
            "message_delta" => {
                if let Some(n) = value
                    .get("usage")
                    .and_then(|u| u.get("output_tokens"))
                    .and_then(Value::as_u64)
                {
                    let prompt = self.usage.map_or(0, |u| u.0);
                    self.usage = Some((prompt, n));
                }
                out.push(sse_named(&ty, &value));
            }
            "message_stop" => {
                self.flush_all(out)?;
                self.finished = true;
                out.push(sse_named(&ty, &value));
            }
            "content_block_start" => {
                let block = value.get("content_block").cloned().unwrap_or(Value::Null);
                match block.get("type").and_then(Value::as_str) {
                    Some("tool_use") => {
                        let name = block
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        let buf = self.tool_calls.entry((idx, 0)).or_default();
                        buf.name = name.to_owned();
                        buf.start = Some(value);
                    }
                    Some("text") => {
                        let initial = block
                            .get("text")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned();
                        value["content_block"]["text"] = Value::String(String::new());
                        out.push(sse_named(&ty, &value));
                        if !initial.is_empty() {
                            let released = self.push_text(idx, &initial)?;
                            self.anthropic_text(idx, released, out);
                        }
                    }
                    _ => out.push(sse_named(&ty, &value)),
                }
            }
            "content_block_delta" => {
                let delta = value.get("delta").cloned().unwrap_or(Value::Null);
                match delta.get("type").and_then(Value::as_str) {
                    Some("text_delta") => {
                        let text = delta
                            .get("text")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        let released = self.push_text(idx, text)?;
                        self.anthropic_text(idx, released, out);
                    }
                    Some("input_json_delta") => {
                        let part = delta
                            .get("partial_json")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        let limit = self.policy.pipeline.policy().limits.max_bytes;
                        let buf = self.tool_calls.entry((idx, 0)).or_default();
                        buf.arguments.push_str(part);
                        if buf.arguments.len() > limit {
                            return Err(ApiError::upstream(
                                "upstream_malformed_stream",
                                "a streamed tool call's input exceeds the policy's limits.max_bytes",
                            ));
                        }
                    }
                    _ => out.push(sse_named(&ty, &value)),
                }
            }
            "content_block_stop" => {
                if let Some(buf) = self.tool_calls.remove(&(idx, 0)) {
                    let location = format!("content[{idx}].input");
                    let arguments = self.check_tool(&location, &buf)?;
                    if let Some(start) = &buf.start {
                        out.push(sse_named("content_block_start", start));
                    }
                    let delta = json!({"type": "content_block_delta", "index": idx,
                        "delta": {"type": "input_json_delta", "partial_json": arguments}});
                    out.push(sse_named("content_block_delta", &delta));
                } else {
                    let released = self.finish_text(idx)?;
                    self.anthropic_text(idx, released, out);
                }
                out.push(sse_named(&ty, &value));
            }
            _ => out.push(sse_named(&ty, &value)),
        }
        Ok(())
    }

    fn anthropic_text(&self, idx: u64, text: String, out: &mut Vec<Bytes>) {
        if text.is_empty() {
            return;
        }
        let delta = json!({"type": "content_block_delta", "index": idx,
            "delta": {"type": "text_delta", "text": text}});
        out.push(sse_named("content_block_delta", &delta));
    }

    // ---- shared ----

    fn text_location(&self, idx: u64) -> String {
        match self.endpoint {
            Endpoint::ChatCompletions => format!("choices[{idx}].delta.content"),
            Endpoint::Completions => format!("choices[{idx}].text"),
            _ => format!("content[{idx}].text"),
        }
    }

    /// The scan a hold-back window runs: the policy on the answer with this request's placeholders
    /// blanked (see [`scan::mask_placeholders`]), or nothing when output scanning is off.
    fn scanner(
        &self,
    ) -> impl FnMut(&str) -> Result<Option<rampart_detect::Report>, ApiError> + use<> {
        let (policy, vault) = (Arc::clone(&self.policy), Arc::clone(&self.vault));
        let (fail_mode, scan_output) = (self.fail_mode, self.scan_output);
        move |t: &str| {
            if !scan_output {
                return Ok(None);
            }
            scan::scan_now(
                &policy,
                fail_mode,
                &scan::mask_placeholders(t, &vault),
                Direction::Output,
            )
        }
    }

    fn push_text(&mut self, idx: u64, text: &str) -> Result<String, ApiError> {
        let (window, step) = if self.scan_output {
            (self.policy.hold_back, self.step)
        } else {
            (1, 1)
        };
        let placeholders = self.vault.max_placeholder_len();
        let mut scan = self.scanner();
        let hb = self
            .texts
            .entry(idx)
            .or_insert_with(|| HoldBack::new(window, step, placeholders));
        let step = hb.push(text, &mut scan)?;
        self.apply(idx, step)
    }

    fn finish_text(&mut self, idx: u64) -> Result<String, ApiError> {
        let Some(mut hb) = self.texts.remove(&idx) else {
            return Ok(String::new());
        };
        let mut scan = self.scanner();
        let step = hb.finish(&mut scan)?;
        self.apply(idx, step)
    }

    /// Records a step's findings, redacts and restores its text, or turns a block into the error.
    fn apply(&mut self, idx: u64, step: Step) -> Result<String, ApiError> {
        let location = self.text_location(idx);
        if !step.blocked.is_empty() {
            let found: Vec<LocatedFinding> =
                step.blocked.iter().map(|r| located(&location, r)).collect();
            for r in &step.blocked {
                crate::metrics::block(r.finding.category.name(), "output");
            }
            self.action = Action::Block;
            self.findings.extend(found.iter().cloned());
            return Err(ApiError::blocked(
                StatusCode::BAD_REQUEST,
                "output_blocked",
                "the answer was stopped: it contains content the policy blocks",
                found,
            ));
        }
        let mut redact: Vec<Finding> = Vec::new();
        for r in &step.findings {
            self.findings.push(located(&location, r));
            self.action = self.action.max(r.action);
            if r.action == Action::Redact {
                crate::metrics::redaction(r.finding.category.name(), "output");
                redact.push(r.finding.clone());
            }
        }
        let sanitized = if redact.is_empty() {
            step.text
        } else {
            let v = self
                .answer_vault
                .get_or_insert_with(|| (*self.vault).clone());
            self.policy.pipeline.anonymize(&step.text, &redact, v)
        };
        let restored = if self.vault.is_empty() {
            sanitized
        } else {
            self.vault.restore(&sanitized)
        };
        self.answer.push_str(&restored);
        Ok(restored)
    }

    /// Scans a complete tool call's arguments and checks it against the role's tool policy; returns the
    /// arguments to send (redacted and restored).
    fn check_tool(&mut self, location: &str, buf: &ToolBuffer) -> Result<String, ApiError> {
        let call = ToolCallRef {
            location: location.to_owned(),
            name: buf.name.clone(),
            arguments: buf.arguments.clone(),
        };
        if let Err(v) = self.tools.check_call(&call, "output") {
            self.action = Action::Block;
            self.findings.push(v.clone());
            return Err(ApiError::blocked(
                StatusCode::BAD_REQUEST,
                "tool_call_blocked",
                format!(
                    "the model called tool `{}`, which this key's role may not use",
                    buf.name
                ),
                vec![v],
            ));
        }
        let mut arguments = buf.arguments.clone();
        if self.scan_output
            && let Some(report) = scan::scan_now(
                &self.policy,
                self.fail_mode,
                &scan::mask_placeholders(&buf.arguments, &self.vault),
                Direction::Output,
            )?
        {
            scan::count_actions(&report, Direction::Output);
            let found = scan::locate(&report, &buf.arguments, &location, Direction::Output);
            self.findings.extend(found.iter().cloned());
            self.action = self.action.max(report.verdict.action);
            match report.verdict.action {
                Action::Block => {
                    return Err(ApiError::blocked(
                        StatusCode::BAD_REQUEST,
                        "output_blocked",
                        "the answer was stopped: a tool call's arguments contain content the policy blocks",
                        found,
                    ));
                }
                Action::Redact => {
                    let v = self
                        .answer_vault
                        .get_or_insert_with(|| (*self.vault).clone());
                    arguments =
                        self.policy
                            .pipeline
                            .anonymize(&arguments, &scan::to_redact(&report), v);
                }
                Action::Allow => {}
            }
        }
        if !self.vault.is_empty() {
            arguments = self.vault.restore(&arguments);
        }
        Ok(arguments)
    }

    /// Releases every held text and tool call (the upstream ended, or ended a message).
    fn flush_all(&mut self, out: &mut Vec<Bytes>) -> Result<(), ApiError> {
        let idxs: Vec<u64> = self.texts.keys().copied().collect();
        for idx in idxs {
            let text = self.finish_text(idx)?;
            if text.is_empty() {
                continue;
            }
            match self.endpoint {
                Endpoint::Messages => self.anthropic_text(idx, text, out),
                _ => {
                    let template = self.template.clone().unwrap_or_else(|| json!({}));
                    let choice = json!({"index": idx, "delta": {}, "finish_reason": null});
                    out.push(self.openai_frame(&template, choice, Some(text)));
                }
            }
        }
        if self.endpoint != Endpoint::Messages {
            let choices: Vec<u64> = self.tool_calls.keys().map(|k| k.0).collect();
            for idx in choices {
                let template = self.template.clone().unwrap_or_else(|| json!({}));
                for call in self.finish_openai_tools(idx)? {
                    let c = json!({"index": idx, "delta": {"tool_calls": [call]}, "finish_reason": null});
                    out.push(self.openai_frame(&template, c, None));
                }
            }
        } else if let Some((&key, _)) = self.tool_calls.iter().next() {
            // A tool_use block the upstream never closed: check it so nothing unchecked can pass.
            if let Some(buf) = self.tool_calls.remove(&key) {
                self.check_tool(&format!("content[{}].input", key.0), &buf)?;
            }
        }
        Ok(())
    }
}

fn located(location: &str, r: &Released) -> LocatedFinding {
    LocatedFinding {
        location: location.to_owned(),
        direction: Direction::Output.name(),
        report: FindingReport::from_parts(
            &r.finding,
            r.action,
            (r.at.bytes, r.end.bytes),
            (r.at.chars, r.end.chars),
            (r.at.line + 1, r.at.column + 1),
            r.excerpt.clone(),
        ),
    }
}

/// `data: JSON\n\n`
pub fn sse_data(value: &Value) -> Bytes {
    let mut buf = Vec::with_capacity(128);
    buf.extend_from_slice(b"data: ");
    // Serialising a Value cannot fail.
    let _ = serde_json::to_writer(&mut buf, value);
    buf.extend_from_slice(b"\n\n");
    Bytes::from(buf)
}

/// `event: NAME\ndata: JSON\n\n`
pub fn sse_named(event: &str, value: &Value) -> Bytes {
    let mut buf = Vec::with_capacity(128);
    buf.extend_from_slice(b"event: ");
    buf.extend_from_slice(event.as_bytes());
    buf.extend_from_slice(b"\ndata: ");
    let _ = serde_json::to_writer(&mut buf, value);
    buf.extend_from_slice(b"\n\n");
    Bytes::from(buf)
}
