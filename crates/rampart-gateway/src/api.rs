//! OpenAI and Anthropic request and response shapes, as typed views over `serde_json::Value`.
//!
//! The gateway forwards the client's JSON as it came, fields it does not know included, so providers'
//! newer parameters keep working. What it reads (model, stream flag, texts to scan, tool calls) is
//! extracted into small views; every text a scanner sees is addressed by a [`Loc`], so a redaction can be
//! written back into the same place and a finding can say where it was (`messages[2].content`).

use std::fmt;

use rampart_core::Direction;
use serde_json::Value;

use crate::error::{ApiError, Flavor};

/// The proxied endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `POST /v1/chat/completions`
    ChatCompletions,
    /// `POST /v1/completions`
    Completions,
    /// `POST /v1/embeddings`
    Embeddings,
    /// `POST /v1/messages` (Anthropic)
    Messages,
}

impl Endpoint {
    /// Label used in metrics and audit records.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::ChatCompletions => "chat_completions",
            Endpoint::Completions => "completions",
            Endpoint::Embeddings => "embeddings",
            Endpoint::Messages => "messages",
        }
    }

    /// Path below the upstream's base URL.
    pub fn upstream_path(self) -> &'static str {
        match self {
            Endpoint::ChatCompletions => "/chat/completions",
            Endpoint::Completions => "/completions",
            Endpoint::Embeddings => "/embeddings",
            Endpoint::Messages => "/messages",
        }
    }

    /// Error shape clients of this endpoint expect.
    pub fn flavor(self) -> Flavor {
        match self {
            Endpoint::Messages => Flavor::Anthropic,
            _ => Flavor::OpenAi,
        }
    }

    /// The request field that caps the completion length.
    pub fn max_tokens_field(self) -> Option<&'static str> {
        match self {
            Endpoint::Embeddings => None,
            _ => Some("max_tokens"),
        }
    }
}

/// Where a text lives in a request or response body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loc {
    /// `messages[i].content` (a string)
    MessageContent(usize),
    /// `messages[i].content[j].text`
    MessagePart(usize, usize),
    /// `messages[i].tool_calls[j].function.arguments`
    ToolArguments(usize, usize),
    /// `messages[i].function_call.arguments` (legacy functions API)
    FunctionCallArguments(usize),
    /// `messages[i].content[j].content` (Anthropic tool result as a string)
    ToolResult(usize, usize),
    /// `messages[i].content[j].content[k].text` (Anthropic tool result blocks)
    ToolResultPart(usize, usize, usize),
    /// `messages[i].content[j].source.data` (Anthropic text document)
    DocumentData(usize, usize),
    /// `system` (Anthropic, a string)
    System,
    /// `system[j].text` (Anthropic blocks)
    SystemPart(usize),
    /// `prompt` or `input` as one string
    Whole(&'static str),
    /// `prompt[i]` or `input[i]`
    Item(&'static str, usize),
    /// `choices[i].message.content`
    ChoiceContent(usize),
    /// `choices[i].text`
    ChoiceText(usize),
    /// `choices[i].message.tool_calls[j].function.arguments`
    ChoiceToolArguments(usize, usize),
    /// `content[j].text` (Anthropic response)
    ContentText(usize),
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Loc::MessageContent(i) => write!(f, "messages[{i}].content"),
            Loc::MessagePart(i, j) => write!(f, "messages[{i}].content[{j}].text"),
            Loc::ToolArguments(i, j) => {
                write!(f, "messages[{i}].tool_calls[{j}].function.arguments")
            }
            Loc::FunctionCallArguments(i) => write!(f, "messages[{i}].function_call.arguments"),
            Loc::ToolResult(i, j) => write!(f, "messages[{i}].content[{j}].content"),
            Loc::ToolResultPart(i, j, k) => {
                write!(f, "messages[{i}].content[{j}].content[{k}].text")
            }
            Loc::DocumentData(i, j) => write!(f, "messages[{i}].content[{j}].source.data"),
            Loc::System => f.write_str("system"),
            Loc::SystemPart(j) => write!(f, "system[{j}].text"),
            Loc::Whole(field) => f.write_str(field),
            Loc::Item(field, i) => write!(f, "{field}[{i}]"),
            Loc::ChoiceContent(i) => write!(f, "choices[{i}].message.content"),
            Loc::ChoiceText(i) => write!(f, "choices[{i}].text"),
            Loc::ChoiceToolArguments(i, j) => {
                write!(f, "choices[{i}].message.tool_calls[{j}].function.arguments")
            }
            Loc::ContentText(j) => write!(f, "content[{j}].text"),
        }
    }
}

impl Loc {
    fn slot<'a>(&self, root: &'a Value) -> Option<&'a Value> {
        let mut cur = root;
        for seg in self.path() {
            cur = match seg {
                PathSeg::Key(k) => cur.get(k)?,
                PathSeg::Index(i) => cur.get(i)?,
            };
        }
        Some(cur)
    }

    fn slot_mut<'a>(&self, root: &'a mut Value) -> Option<&'a mut Value> {
        let mut cur = root;
        for seg in self.path() {
            cur = match seg {
                PathSeg::Key(k) => cur.get_mut(k)?,
                PathSeg::Index(i) => cur.get_mut(i)?,
            };
        }
        Some(cur)
    }

    /// The JSON path: one description serves both accessors.
    fn path(&self) -> Vec<PathSeg> {
        use PathSeg::{Index as I, Key as K};
        match *self {
            Loc::MessageContent(i) => vec![K("messages"), I(i), K("content")],
            Loc::MessagePart(i, j) => vec![K("messages"), I(i), K("content"), I(j), K("text")],
            Loc::ToolArguments(i, j) => vec![
                K("messages"),
                I(i),
                K("tool_calls"),
                I(j),
                K("function"),
                K("arguments"),
            ],
            Loc::FunctionCallArguments(i) => {
                vec![K("messages"), I(i), K("function_call"), K("arguments")]
            }
            Loc::ToolResult(i, j) => vec![K("messages"), I(i), K("content"), I(j), K("content")],
            Loc::ToolResultPart(i, j, k) => vec![
                K("messages"),
                I(i),
                K("content"),
                I(j),
                K("content"),
                I(k),
                K("text"),
            ],
            Loc::DocumentData(i, j) => vec![
                K("messages"),
                I(i),
                K("content"),
                I(j),
                K("source"),
                K("data"),
            ],
            Loc::System => vec![K("system")],
            Loc::SystemPart(j) => vec![K("system"), I(j), K("text")],
            Loc::Whole(f) => vec![K(f)],
            Loc::Item(f, i) => vec![K(f), I(i)],
            Loc::ChoiceContent(i) => vec![K("choices"), I(i), K("message"), K("content")],
            Loc::ChoiceText(i) => vec![K("choices"), I(i), K("text")],
            Loc::ChoiceToolArguments(i, j) => vec![
                K("choices"),
                I(i),
                K("message"),
                K("tool_calls"),
                I(j),
                K("function"),
                K("arguments"),
            ],
            Loc::ContentText(j) => vec![K("content"), I(j), K("text")],
        }
    }

    /// The text at this location, if it is a string.
    pub fn get<'a>(&self, root: &'a Value) -> Option<&'a str> {
        self.slot(root)?.as_str()
    }

    /// Replaces the text at this location; does nothing if the location no longer exists.
    pub fn set(&self, root: &mut Value, text: String) {
        if let Some(slot) = self.slot_mut(root) {
            *slot = Value::String(text);
        }
    }
}

#[derive(Clone, Copy)]
enum PathSeg {
    Key(&'static str),
    Index(usize),
}

/// A text to scan and which way it flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextSlot {
    /// Where it is.
    pub loc: Loc,
    /// Prompts are `Input`; tool results and documents are `Document`; answers are `Output`.
    pub direction: Direction,
}

/// A tool call found in a body: in a request's assistant message or in a model's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolCallRef {
    /// Where it is, for error messages (`messages[3].tool_calls[0]`).
    pub location: String,
    /// Tool name.
    pub name: String,
    /// Arguments as the raw JSON string (Anthropic `input` objects are serialised).
    pub arguments: String,
}

/// What the gateway reads from a request.
#[derive(Clone, Debug, Default)]
pub struct RequestView {
    /// Requested model.
    pub model: String,
    /// `stream: true`.
    pub stream: bool,
    /// The completion cap the request asks for (`max_tokens`, or `max_completion_tokens`).
    pub max_tokens: Option<u64>,
    /// Names of the tools the request declares.
    pub declared_tools: Vec<String>,
    /// Tool calls in the request's assistant messages.
    pub tool_calls: Vec<ToolCallRef>,
    /// Every text to scan.
    pub texts: Vec<TextSlot>,
    /// Number of messages (chat and messages endpoints).
    pub messages: usize,
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn wrong_type(param: &str, expected: &str, got: &Value) -> ApiError {
    ApiError::invalid(
        "invalid_type",
        param,
        format!("`{param}` must be {expected}, got {}", kind_of(got)),
    )
}

/// Parses a request body and reads what the gateway needs, checking the shape of every field it reads.
///
/// Errors name the field (`messages[2].content[0].text must be a string`). Fields the gateway does not read
/// are left for the provider to judge.
pub fn parse_request(
    endpoint: Endpoint,
    body: &[u8],
    max_messages: usize,
) -> Result<(Value, RequestView), ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::invalid(
            "invalid_json",
            "body",
            format!("request body is not valid JSON: {e}"),
        )
    })?;
    let Some(obj) = value.as_object() else {
        return Err(ApiError::invalid(
            "invalid_type",
            "body",
            format!(
                "request body must be a JSON object, got {}",
                kind_of(&value)
            ),
        ));
    };
    let model = match obj.get("model") {
        Some(Value::String(m)) if !m.is_empty() => m.clone(),
        Some(Value::String(_)) => {
            return Err(ApiError::invalid(
                "invalid_value",
                "model",
                "`model` must not be empty",
            ));
        }
        Some(other) => return Err(wrong_type("model", "a string", other)),
        None => {
            return Err(ApiError::invalid(
                "missing_field",
                "model",
                "`model` is required",
            ));
        }
    };
    let mut view = RequestView {
        model,
        ..RequestView::default()
    };
    view.stream = match obj.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(wrong_type("stream", "a boolean", other)),
    };
    for field in ["max_tokens", "max_completion_tokens"] {
        match obj.get(field) {
            None | Some(Value::Null) => {}
            Some(v) => match v.as_u64() {
                Some(n) => view.max_tokens = Some(view.max_tokens.map_or(n, |m| m.max(n))),
                None => return Err(wrong_type(field, "a non-negative integer", v)),
            },
        }
    }
    match endpoint {
        Endpoint::ChatCompletions => chat_request(&value, &mut view, max_messages)?,
        Endpoint::Messages => messages_request(&value, &mut view, max_messages)?,
        Endpoint::Completions => prompt_like(&value, "prompt", &mut view)?,
        Endpoint::Embeddings => prompt_like(&value, "input", &mut view)?,
    }
    declared_tools(&value, endpoint, &mut view)?;
    Ok((value, view))
}

fn messages_array(value: &Value, max_messages: usize) -> Result<&Vec<Value>, ApiError> {
    let messages = match value.get("messages") {
        Some(Value::Array(a)) => a,
        Some(other) => return Err(wrong_type("messages", "an array of message objects", other)),
        None => {
            return Err(ApiError::invalid(
                "missing_field",
                "messages",
                "`messages` is required",
            ));
        }
    };
    if messages.is_empty() {
        return Err(ApiError::invalid(
            "invalid_value",
            "messages",
            "`messages` must contain at least one message",
        ));
    }
    if messages.len() > max_messages {
        return Err(ApiError::invalid(
            "too_many_messages",
            "messages",
            format!(
                "`messages` has {} messages; this gateway accepts at most {max_messages}",
                messages.len()
            ),
        ));
    }
    Ok(messages)
}

fn role_of(m: &Value, i: usize) -> Result<&str, ApiError> {
    if !m.is_object() {
        return Err(wrong_type(&format!("messages[{i}]"), "an object", m));
    }
    match m.get("role") {
        Some(Value::String(r)) => Ok(r),
        Some(other) => Err(wrong_type(
            &format!("messages[{i}].role"),
            "a string",
            other,
        )),
        None => Err(ApiError::invalid(
            "missing_field",
            format!("messages[{i}].role"),
            format!("`messages[{i}].role` is required"),
        )),
    }
}

fn chat_request(
    value: &Value,
    view: &mut RequestView,
    max_messages: usize,
) -> Result<(), ApiError> {
    let messages = messages_array(value, max_messages)?;
    view.messages = messages.len();
    for (i, m) in messages.iter().enumerate() {
        let role = role_of(m, i)?;
        let direction = if role == "tool" || role == "function" {
            Direction::Document
        } else {
            Direction::Input
        };
        match m.get("content") {
            None | Some(Value::Null) => {}
            Some(Value::String(_)) => view.texts.push(TextSlot {
                loc: Loc::MessageContent(i),
                direction,
            }),
            Some(Value::Array(parts)) => {
                for (j, part) in parts.iter().enumerate() {
                    let param = || format!("messages[{i}].content[{j}]");
                    if !part.is_object() {
                        return Err(wrong_type(&param(), "an object", part));
                    }
                    let is_text = matches!(
                        part.get("type").and_then(Value::as_str),
                        Some("text" | "input_text")
                    );
                    match part.get("text") {
                        Some(Value::String(_)) => view.texts.push(TextSlot {
                            loc: Loc::MessagePart(i, j),
                            direction,
                        }),
                        Some(other) => {
                            return Err(wrong_type(
                                &format!("{}.text", param()),
                                "a string",
                                other,
                            ));
                        }
                        None if is_text => {
                            return Err(ApiError::invalid(
                                "missing_field",
                                format!("{}.text", param()),
                                format!("`{}.text` is required for a text part", param()),
                            ));
                        }
                        None => {}
                    }
                }
            }
            Some(other) => {
                return Err(wrong_type(
                    &format!("messages[{i}].content"),
                    "a string, an array of parts or null",
                    other,
                ));
            }
        }
        if let Some(calls) = m.get("tool_calls") {
            let Some(calls) = calls.as_array() else {
                return Err(wrong_type(
                    &format!("messages[{i}].tool_calls"),
                    "an array",
                    calls,
                ));
            };
            for (j, call) in calls.iter().enumerate() {
                let param = format!("messages[{i}].tool_calls[{j}]");
                let f = call.get("function");
                let name = f.and_then(|f| f.get("name")).and_then(Value::as_str);
                let args = f.and_then(|f| f.get("arguments"));
                let Some(name) = name else {
                    return Err(ApiError::invalid(
                        "missing_field",
                        format!("{param}.function.name"),
                        format!("`{param}.function.name` must be a string"),
                    ));
                };
                let arguments = match args {
                    Some(Value::String(s)) => {
                        view.texts.push(TextSlot {
                            loc: Loc::ToolArguments(i, j),
                            direction: Direction::Input,
                        });
                        s.clone()
                    }
                    None | Some(Value::Null) => String::new(),
                    Some(other) => {
                        return Err(wrong_type(
                            &format!("{param}.function.arguments"),
                            "a string of JSON",
                            other,
                        ));
                    }
                };
                view.tool_calls.push(ToolCallRef {
                    location: param,
                    name: name.to_owned(),
                    arguments,
                });
            }
        }
        if let Some(fc) = m.get("function_call").filter(|v| !v.is_null()) {
            let name = fc.get("name").and_then(Value::as_str).unwrap_or_default();
            let arguments = fc.get("arguments").and_then(Value::as_str);
            if arguments.is_some() {
                view.texts.push(TextSlot {
                    loc: Loc::FunctionCallArguments(i),
                    direction: Direction::Input,
                });
            }
            view.tool_calls.push(ToolCallRef {
                location: format!("messages[{i}].function_call"),
                name: name.to_owned(),
                arguments: arguments.unwrap_or_default().to_owned(),
            });
        }
    }
    Ok(())
}

fn messages_request(
    value: &Value,
    view: &mut RequestView,
    max_messages: usize,
) -> Result<(), ApiError> {
    match value.get("system") {
        None | Some(Value::Null) => {}
        Some(Value::String(_)) => view.texts.push(TextSlot {
            loc: Loc::System,
            direction: Direction::Input,
        }),
        Some(Value::Array(blocks)) => {
            for (j, b) in blocks.iter().enumerate() {
                match b.get("text") {
                    Some(Value::String(_)) => view.texts.push(TextSlot {
                        loc: Loc::SystemPart(j),
                        direction: Direction::Input,
                    }),
                    Some(other) => {
                        return Err(wrong_type(&format!("system[{j}].text"), "a string", other));
                    }
                    None => {}
                }
            }
        }
        Some(other) => {
            return Err(wrong_type(
                "system",
                "a string or an array of blocks",
                other,
            ));
        }
    }
    let messages = messages_array(value, max_messages)?;
    view.messages = messages.len();
    for (i, m) in messages.iter().enumerate() {
        role_of(m, i)?;
        match m.get("content") {
            Some(Value::String(_)) => view.texts.push(TextSlot {
                loc: Loc::MessageContent(i),
                direction: Direction::Input,
            }),
            Some(Value::Array(blocks)) => {
                for (j, b) in blocks.iter().enumerate() {
                    anthropic_block(b, i, j, view)?;
                }
            }
            Some(other) => {
                return Err(wrong_type(
                    &format!("messages[{i}].content"),
                    "a string or an array of content blocks",
                    other,
                ));
            }
            None => {
                return Err(ApiError::invalid(
                    "missing_field",
                    format!("messages[{i}].content"),
                    format!("`messages[{i}].content` is required"),
                ));
            }
        }
    }
    Ok(())
}

fn anthropic_block(b: &Value, i: usize, j: usize, view: &mut RequestView) -> Result<(), ApiError> {
    let param = || format!("messages[{i}].content[{j}]");
    if !b.is_object() {
        return Err(wrong_type(&param(), "an object", b));
    }
    let ty = b.get("type").and_then(Value::as_str).unwrap_or_default();
    match ty {
        "text" => match b.get("text") {
            Some(Value::String(_)) => view.texts.push(TextSlot {
                loc: Loc::MessagePart(i, j),
                direction: Direction::Input,
            }),
            Some(other) => return Err(wrong_type(&format!("{}.text", param()), "a string", other)),
            None => {
                return Err(ApiError::invalid(
                    "missing_field",
                    format!("{}.text", param()),
                    format!("`{}.text` is required for a text block", param()),
                ));
            }
        },
        "tool_result" => match b.get("content") {
            None | Some(Value::Null) => {}
            Some(Value::String(_)) => view.texts.push(TextSlot {
                loc: Loc::ToolResult(i, j),
                direction: Direction::Document,
            }),
            Some(Value::Array(parts)) => {
                for (k, p) in parts.iter().enumerate() {
                    if let Some(t) = p.get("text") {
                        if !t.is_string() {
                            return Err(wrong_type(
                                &format!("{}.content[{k}].text", param()),
                                "a string",
                                t,
                            ));
                        }
                        view.texts.push(TextSlot {
                            loc: Loc::ToolResultPart(i, j, k),
                            direction: Direction::Document,
                        });
                    }
                }
            }
            Some(other) => {
                return Err(wrong_type(
                    &format!("{}.content", param()),
                    "a string or an array of blocks",
                    other,
                ));
            }
        },
        "document" => {
            if let Some(Value::String(_)) = b.get("source").and_then(|s| s.get("data"))
                && b.get("source")
                    .and_then(|s| s.get("type"))
                    .and_then(Value::as_str)
                    == Some("text")
            {
                view.texts.push(TextSlot {
                    loc: Loc::DocumentData(i, j),
                    direction: Direction::Document,
                });
            }
        }
        "tool_use" => {
            let name = b.get("name").and_then(Value::as_str).ok_or_else(|| {
                ApiError::invalid(
                    "missing_field",
                    format!("{}.name", param()),
                    format!("`{}.name` must be a string", param()),
                )
            })?;
            view.tool_calls.push(ToolCallRef {
                location: param(),
                name: name.to_owned(),
                arguments: b.get("input").map(Value::to_string).unwrap_or_default(),
            });
        }
        _ => {}
    }
    Ok(())
}

fn prompt_like(value: &Value, field: &'static str, view: &mut RequestView) -> Result<(), ApiError> {
    match value.get(field) {
        Some(Value::String(_)) => view.texts.push(TextSlot {
            loc: Loc::Whole(field),
            direction: Direction::Input,
        }),
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(_) => view.texts.push(TextSlot {
                        loc: Loc::Item(field, i),
                        direction: Direction::Input,
                    }),
                    // Token ids (or arrays of them) carry no text the scanners could read.
                    Value::Number(_) | Value::Array(_) => {}
                    other => {
                        return Err(wrong_type(
                            &format!("{field}[{i}]"),
                            "a string or token ids",
                            other,
                        ));
                    }
                }
            }
        }
        Some(other) => {
            return Err(wrong_type(field, "a string or an array of strings", other));
        }
        None => {
            return Err(ApiError::invalid(
                "missing_field",
                field,
                format!("`{field}` is required"),
            ));
        }
    }
    Ok(())
}

fn declared_tools(
    value: &Value,
    endpoint: Endpoint,
    view: &mut RequestView,
) -> Result<(), ApiError> {
    for field in ["tools", "functions"] {
        let Some(tools) = value.get(field).filter(|v| !v.is_null()) else {
            continue;
        };
        let Some(tools) = tools.as_array() else {
            return Err(wrong_type(field, "an array", tools));
        };
        for (i, t) in tools.iter().enumerate() {
            // OpenAI: {type: "function", function: {name}}; legacy functions and Anthropic: {name};
            // built-in tools (web search, code interpreter) are named by their type.
            let name = t
                .get("function")
                .and_then(|f| f.get("name"))
                .or_else(|| t.get("name"))
                .or_else(|| t.get("type"))
                .and_then(Value::as_str);
            match name {
                Some(n) => view.declared_tools.push(n.to_owned()),
                None => {
                    let param = if endpoint == Endpoint::Messages || field == "functions" {
                        format!("{field}[{i}].name")
                    } else {
                        format!("{field}[{i}].function.name")
                    };
                    return Err(ApiError::invalid(
                        "missing_field",
                        param.clone(),
                        format!("`{param}` must be a string"),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// What the gateway reads from a non-streaming answer.
#[derive(Clone, Debug, Default)]
pub struct ResponseView {
    /// Texts to scan (all `Output`).
    pub texts: Vec<Loc>,
    /// Tool calls the model wants made.
    pub tool_calls: Vec<ToolCallRef>,
    /// Reported usage: (prompt, completion) tokens.
    pub usage: Option<(u64, u64)>,
}

/// Reads an upstream answer. Unknown shapes yield an empty view: nothing to scan is not an error, since
/// compatible servers add and omit fields freely.
pub fn response_view(endpoint: Endpoint, body: &Value) -> ResponseView {
    let mut view = ResponseView {
        usage: usage(body),
        ..ResponseView::default()
    };
    match endpoint {
        Endpoint::ChatCompletions | Endpoint::Completions => {
            for (i, choice) in body
                .get("choices")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                if choice.get("text").is_some_and(Value::is_string) {
                    view.texts.push(Loc::ChoiceText(i));
                }
                let Some(msg) = choice.get("message") else {
                    continue;
                };
                if msg.get("content").is_some_and(Value::is_string) {
                    view.texts.push(Loc::ChoiceContent(i));
                }
                for (j, call) in msg
                    .get("tool_calls")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let f = call.get("function");
                    let args = f.and_then(|f| f.get("arguments")).and_then(Value::as_str);
                    if args.is_some() {
                        view.texts.push(Loc::ChoiceToolArguments(i, j));
                    }
                    view.tool_calls.push(ToolCallRef {
                        location: format!("choices[{i}].message.tool_calls[{j}]"),
                        name: f
                            .and_then(|f| f.get("name"))
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        arguments: args.unwrap_or_default().to_owned(),
                    });
                }
                if let Some(fc) = msg.get("function_call").filter(|v| v.is_object()) {
                    view.tool_calls.push(ToolCallRef {
                        location: format!("choices[{i}].message.function_call"),
                        name: fc
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        arguments: fc
                            .get("arguments")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                    });
                }
            }
        }
        Endpoint::Messages => {
            for (j, block) in body
                .get("content")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                match block.get("type").and_then(Value::as_str) {
                    Some("text") if block.get("text").is_some_and(Value::is_string) => {
                        view.texts.push(Loc::ContentText(j));
                    }
                    Some("tool_use") => view.tool_calls.push(ToolCallRef {
                        location: format!("content[{j}]"),
                        name: block
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        arguments: block.get("input").map(Value::to_string).unwrap_or_default(),
                    }),
                    _ => {}
                }
            }
        }
        Endpoint::Embeddings => {}
    }
    view
}

/// `(prompt, completion)` tokens from an OpenAI (`usage.prompt_tokens`) or Anthropic (`usage.input_tokens`)
/// usage object.
pub fn usage(body: &Value) -> Option<(u64, u64)> {
    let u = body.get("usage").filter(|u| u.is_object())?;
    let get = |a: &str, b: &str| {
        u.get(a)
            .and_then(Value::as_u64)
            .or_else(|| u.get(b).and_then(Value::as_u64))
    };
    let prompt = get("prompt_tokens", "input_tokens");
    let completion = get("completion_tokens", "output_tokens");
    if prompt.is_none() && completion.is_none() {
        return None;
    }
    Some((prompt.unwrap_or(0), completion.unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(endpoint: Endpoint, body: &str) -> Result<(Value, RequestView), ApiError> {
        parse_request(endpoint, body.as_bytes(), 100)
    }

    #[test]
    fn chat_texts_and_directions() {
        let (v, view) = parse(
            Endpoint::ChatCompletions,
            r#"{"model":"m","stream":true,"max_tokens":10,"messages":[
                {"role":"system","content":"sys"},
                {"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"x"}}]},
                {"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"get","arguments":"{\"a\":1}"}}]},
                {"role":"tool","tool_call_id":"c","content":"result"}],
              "tools":[{"type":"function","function":{"name":"get"}}]}"#,
        )
        .unwrap();
        assert!(view.stream);
        assert_eq!(view.max_tokens, Some(10));
        assert_eq!(view.declared_tools, ["get"]);
        assert_eq!(view.tool_calls[0].name, "get");
        let locs: Vec<String> = view.texts.iter().map(|t| t.loc.to_string()).collect();
        assert_eq!(
            locs,
            [
                "messages[0].content",
                "messages[1].content[0].text",
                "messages[2].tool_calls[0].function.arguments",
                "messages[3].content"
            ]
        );
        assert_eq!(view.texts[3].direction, Direction::Document);
        assert_eq!(view.texts[1].loc.get(&v), Some("hi"));
    }

    #[test]
    fn errors_name_the_field() {
        let e = parse(
            Endpoint::ChatCompletions,
            r#"{"model":"m","messages":[{"role":"user","content":5}]}"#,
        )
        .unwrap_err();
        assert_eq!(e.param.as_deref(), Some("messages[0].content"));
        assert!(e.message.contains("messages[0].content"), "{}", e.message);
        let e = parse(Endpoint::ChatCompletions, r#"{"messages":[]}"#).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("model"));
        let e = parse(
            Endpoint::ChatCompletions,
            r#"{"model":"m","messages":"hi"}"#,
        )
        .unwrap_err();
        assert_eq!(e.param.as_deref(), Some("messages"));
        let e = parse(Endpoint::ChatCompletions, r#"{"model":"m","#).unwrap_err();
        assert_eq!(e.code, "invalid_json");
        let e = parse(Endpoint::Embeddings, r#"{"model":"m","input":{}}"#).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("input"));
        let e = parse(
            Endpoint::ChatCompletions,
            r#"{"model":"m","stream":"yes","messages":[]}"#,
        )
        .unwrap_err();
        assert_eq!(e.param.as_deref(), Some("stream"));
    }

    #[test]
    fn too_many_messages() {
        let body = format!(
            r#"{{"model":"m","messages":[{}]}}"#,
            [r#"{"role":"user","content":"x"}"#; 3].join(",")
        );
        let e = parse_request(Endpoint::ChatCompletions, body.as_bytes(), 2).unwrap_err();
        assert_eq!(e.code, "too_many_messages");
    }

    #[test]
    fn anthropic_blocks() {
        let (v, view) = parse(
            Endpoint::Messages,
            r#"{"model":"claude","max_tokens":5,"system":"be nice","messages":[
              {"role":"user","content":[{"type":"text","text":"q"},
                {"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"doc"}]},
                {"type":"document","source":{"type":"text","media_type":"text/plain","data":"d"}}]},
              {"role":"assistant","content":[{"type":"tool_use","id":"t","name":"search","input":{"q":"x"}}]}]}"#,
        )
        .unwrap();
        let got: Vec<(String, Direction)> = view
            .texts
            .iter()
            .map(|t| (t.loc.get(&v).unwrap().to_owned(), t.direction))
            .collect();
        assert_eq!(got[0], ("be nice".into(), Direction::Input));
        assert_eq!(got[2], ("doc".into(), Direction::Document));
        assert_eq!(got[3], ("d".into(), Direction::Document));
        assert_eq!(view.tool_calls[0].arguments, r#"{"q":"x"}"#);
    }

    #[test]
    fn set_writes_back() {
        let (mut v, view) = parse(
            Endpoint::Completions,
            r#"{"model":"m","prompt":["a", [1,2], "b"]}"#,
        )
        .unwrap();
        assert_eq!(view.texts.len(), 2);
        view.texts[1].loc.set(&mut v, "B".into());
        assert_eq!(v["prompt"][2], "B");
    }

    #[test]
    fn response_views() {
        let body: Value = serde_json::from_str(
            r#"{"choices":[{"message":{"content":"hello","tool_calls":[{"function":{"name":"f","arguments":"{}"}}]}}],
                "usage":{"prompt_tokens":3,"completion_tokens":4}}"#,
        )
        .unwrap();
        let v = response_view(Endpoint::ChatCompletions, &body);
        assert_eq!(
            v.texts,
            [Loc::ChoiceContent(0), Loc::ChoiceToolArguments(0, 0)]
        );
        assert_eq!(v.tool_calls[0].name, "f");
        assert_eq!(v.usage, Some((3, 4)));
        let body: Value = serde_json::from_str(
            r#"{"content":[{"type":"text","text":"a"},{"type":"tool_use","name":"s","input":{}}],"usage":{"input_tokens":1,"output_tokens":2}}"#,
        )
        .unwrap();
        let v = response_view(Endpoint::Messages, &body);
        assert_eq!(v.texts, [Loc::ContentText(0)]);
        assert_eq!(v.usage, Some((1, 2)));
    }
}
