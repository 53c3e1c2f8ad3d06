//! Every string of a request body that the upstream will see, beyond the texts [`crate::api`] models.
//!
//! The request views name the conversation's texts (messages, tool results, system prompts). Everything
//! else in the forwarded JSON (tool and function definitions, `metadata`, `user`, `response_format`
//! schemas, vendor extensions, fields no API has yet) reaches the provider too, so it is scanned as well:
//! [`unmodelled`] walks the body once and lists each string value the views did not already name, with a
//! [`JsonPath`] that locates it for findings and for writing a redaction back.
//!
//! Directions: strings inside tool or function definitions, tool results and documents are `Document`
//! (what a third party wrote, where indirect-injection rules apply: a poisoned tool description is exactly
//! that); everything else is `Input`.
//!
//! Left out, so that each scan is worth its cost: the top-level `model` (the routing key, checked against
//! the role), `role` and `type` values that are protocol words (lower-case identifiers such as `user` or
//! `function`), and binary payloads (base64 `data:` URLs, `source.data` of a base64 source, and long runs
//! of the base64 alphabet without spaces), which a text scanner cannot read. Object keys are not scanned.
//! The walk's depth is bounded by the JSON parser's nesting limit (128) and its work by the body size.

use std::fmt;

use rampart_core::Direction;
use serde_json::Value;

use crate::api::TextSlot;

/// Strings of the base64 alphabet at least this long, without spaces, are taken as binary payloads.
const BINARY_MIN_BYTES: usize = 1024;
/// Longest `role` or `type` value treated as a protocol word.
const VOCAB_MAX_BYTES: usize = 40;
/// Request keys under which a third party's text travels: tool and function definitions.
const DOCUMENT_ROOTS: &[&str] = &["tools", "functions"];

/// One step of a [`JsonPath`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    /// An object member.
    Key(String),
    /// An array element.
    Index(usize),
}

/// Where a string lives in a JSON body, written as `tools[0].function.description` (keys that are not
/// plain identifiers as `metadata["a b"]`), like the locations of [`crate::api::Loc`].
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct JsonPath(pub Vec<Seg>);

impl JsonPath {
    fn slot<'a>(&self, root: &'a Value) -> Option<&'a Value> {
        self.0.iter().try_fold(root, |cur, seg| match seg {
            Seg::Key(k) => cur.get(k.as_str()),
            Seg::Index(i) => cur.get(*i),
        })
    }

    /// The string at this path, if there is one.
    pub fn get<'a>(&self, root: &'a Value) -> Option<&'a str> {
        self.slot(root)?.as_str()
    }

    /// Replaces the string at this path; does nothing if the path no longer exists.
    pub fn set(&self, root: &mut Value, text: String) {
        let slot = self.0.iter().try_fold(root, |cur, seg| match seg {
            Seg::Key(k) => cur.get_mut(k.as_str()),
            Seg::Index(i) => cur.get_mut(*i),
        });
        if let Some(slot) = slot {
            *slot = Value::String(text);
        }
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Index(i) => write!(f, "[{i}]")?,
                Seg::Key(k) if is_identifier(k) => {
                    if n > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Seg::Key(k) => write!(f, "[{}]", Value::String(k.clone()))?,
            }
        }
        Ok(())
    }
}

fn is_identifier(k: &str) -> bool {
    let mut bytes = k.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A string of the body that the request view does not name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtraText {
    /// Where it is.
    pub path: JsonPath,
    /// How to scan it.
    pub direction: Direction,
}

/// Lists, in document order, the non-empty strings of `body` that `modelled` does not already name and
/// that are worth scanning (see the module doc). One pass over the body; allocates only for what it
/// lists.
pub fn unmodelled(body: &Value, modelled: &[TextSlot]) -> Vec<ExtraText> {
    // The modelled strings, by address: the walk meets the very same `String`s.
    let mut known: Vec<usize> = modelled
        .iter()
        .filter_map(|s| s.loc.get(body))
        .filter(|t| !t.is_empty())
        .map(|t| t.as_ptr() as usize)
        .collect();
    known.sort_unstable();
    let mut walk = Walk {
        known,
        path: Vec::new(),
        out: Vec::new(),
    };
    if let Value::Object(members) = body {
        for (k, v) in members {
            if k == "model" {
                continue;
            }
            let document = DOCUMENT_ROOTS.contains(&k.as_str());
            walk.path.push(Step::Key(k));
            walk.value(v, Some(k), document);
            walk.path.pop();
        }
    }
    walk.out
}

#[derive(Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

struct Walk<'a> {
    known: Vec<usize>,
    path: Vec<Step<'a>>,
    out: Vec<ExtraText>,
}

impl<'a> Walk<'a> {
    /// `key`: the member name `v` sits under (None in arrays); `document`: inside a third party's text.
    fn value(&mut self, v: &'a Value, key: Option<&str>, document: bool) {
        match v {
            Value::String(s) => self.string(s, key, document),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.path.push(Step::Index(i));
                    self.value(item, None, document);
                    self.path.pop();
                }
            }
            Value::Object(members) => {
                let document = document || carries_document(v);
                let base64_source = v.get("type").and_then(Value::as_str) == Some("base64");
                for (k, item) in members {
                    if base64_source && k == "data" {
                        continue;
                    }
                    self.path.push(Step::Key(k));
                    self.value(item, Some(k), document);
                    self.path.pop();
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    fn string(&mut self, s: &str, key: Option<&str>, document: bool) {
        if s.is_empty()
            || self.known.binary_search(&(s.as_ptr() as usize)).is_ok()
            || (matches!(key, Some("role" | "type")) && is_protocol_word(s))
            || is_binary(s)
        {
            return;
        }
        let path = self
            .path
            .iter()
            .map(|step| match *step {
                Step::Key(k) => Seg::Key(k.to_owned()),
                Step::Index(i) => Seg::Index(i),
            })
            .collect();
        self.out.push(ExtraText {
            path: JsonPath(path),
            direction: if document {
                Direction::Document
            } else {
                Direction::Input
            },
        });
    }
}

/// A tool result (chat `role: tool`/`function`, Anthropic `tool_result`) or a document block.
fn carries_document(v: &Value) -> bool {
    matches!(
        v.get("role").and_then(Value::as_str),
        Some("tool" | "function")
    ) || matches!(
        v.get("type").and_then(Value::as_str),
        Some("tool_result" | "document" | "search_result")
    )
}

/// `user`, `tool_result`, `web_search_20250305`: the words the APIs use for roles and block types.
fn is_protocol_word(s: &str) -> bool {
    s.len() <= VOCAB_MAX_BYTES
        && s.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// An inline binary payload: a base64 `data:` URL, or a long unbroken run of the base64 alphabet.
fn is_binary(s: &str) -> bool {
    if let Some(rest) = s.strip_prefix("data:") {
        let head = rest.get(..rest.len().min(128)).unwrap_or(rest);
        if head.contains(";base64,") {
            return true;
        }
    }
    s.len() >= BINARY_MIN_BYTES
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Endpoint, parse_request};

    fn extras(endpoint: Endpoint, body: &str) -> Vec<(String, Direction, String)> {
        let (v, view) = parse_request(endpoint, body.as_bytes(), 100).unwrap();
        unmodelled(&v, &view.texts)
            .into_iter()
            .map(|e| {
                let text = e.path.get(&v).unwrap().to_owned();
                (e.path.to_string(), e.direction, text)
            })
            .collect()
    }

    #[test]
    fn lists_what_the_view_does_not_name_once() {
        let got = extras(
            Endpoint::ChatCompletions,
            r#"{"model":"gpt-4o","user":"u-42","metadata":{"note":"hi","a b":"x"},
                "messages":[{"role":"user","name":"jane","content":[{"type":"text","text":"q"},
                    {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},
                  {"role":"tool","tool_call_id":"call_Ab12","content":"result"}],
                "tools":[{"type":"function","function":{"name":"get","description":"Gets it.",
                  "parameters":{"type":"object","properties":{"city":{"type":"string","description":"City."}}}}}],
                "response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"description":"Out."}}}}"#,
        );
        let want = [
            ("user", Direction::Input, "u-42"),
            ("metadata.note", Direction::Input, "hi"),
            ("metadata[\"a b\"]", Direction::Input, "x"),
            ("messages[0].name", Direction::Input, "jane"),
            ("messages[1].tool_call_id", Direction::Document, "call_Ab12"),
            ("tools[0].function.name", Direction::Document, "get"),
            (
                "tools[0].function.description",
                Direction::Document,
                "Gets it.",
            ),
            (
                "tools[0].function.parameters.properties.city.description",
                Direction::Document,
                "City.",
            ),
            ("response_format.json_schema.name", Direction::Input, "r"),
            (
                "response_format.json_schema.schema.description",
                Direction::Input,
                "Out.",
            ),
        ];
        let mut got = got;
        let mut want: Vec<(String, Direction, String)> = want
            .iter()
            .map(|(p, d, t)| ((*p).to_owned(), *d, (*t).to_owned()))
            .collect();
        got.sort_by(|a, b| a.0.cmp(&b.0));
        want.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(got, want);
    }

    #[test]
    fn anthropic_tools_inputs_and_binary_sources() {
        let image = "A".repeat(2000);
        let got = extras(
            Endpoint::Messages,
            &format!(
                r#"{{"model":"claude","max_tokens":5,"system":[{{"type":"text","text":"s"}}],
                  "metadata":{{"user_id":"abc"}},
                  "tools":[{{"name":"search","description":"Searches.","input_schema":{{"type":"object"}}}}],
                  "messages":[{{"role":"user","content":[
                    {{"type":"image","source":{{"type":"base64","media_type":"image/png","data":"{image}"}}}},
                    {{"type":"tool_result","tool_use_id":"toolu_1","content":[{{"type":"text","text":"r"}}]}}]}},
                   {{"role":"assistant","content":[{{"type":"tool_use","id":"toolu_1","name":"search","input":{{"q":"weather"}}}}]}}]}}"#
            ),
        );
        let paths: Vec<(&str, Direction)> = got.iter().map(|(p, d, _)| (p.as_str(), *d)).collect();
        assert!(paths.contains(&("metadata.user_id", Direction::Input)));
        assert!(paths.contains(&("tools[0].description", Direction::Document)));
        assert!(paths.contains(&("messages[0].content[0].source.media_type", Direction::Input)));
        assert!(paths.contains(&("messages[0].content[1].tool_use_id", Direction::Document)));
        assert!(paths.contains(&("messages[1].content[0].input.q", Direction::Input)));
        // Named by the view already, binary, or protocol words: not listed.
        assert!(!paths.iter().any(|(p, _)| p.starts_with("system")
            || p.ends_with(".data")
            || p.ends_with(".type")
            || p.ends_with(".role")
            || *p == "model"));
    }

    #[test]
    fn paths_write_back() {
        let mut v: Value = serde_json::json!({"metadata": {"k": ["a", "b"]}});
        let p = JsonPath(vec![
            Seg::Key("metadata".into()),
            Seg::Key("k".into()),
            Seg::Index(1),
        ]);
        assert_eq!(p.to_string(), "metadata.k[1]");
        assert_eq!(p.get(&v), Some("b"));
        p.set(&mut v, "B".into());
        assert_eq!(v["metadata"]["k"][1], "B");
        // A path that no longer exists changes nothing.
        JsonPath(vec![Seg::Key("gone".into()), Seg::Index(3)]).set(&mut v, "x".into());
        assert_eq!(v, serde_json::json!({"metadata": {"k": ["a", "B"]}}));
    }

    #[test]
    fn protocol_words_and_binary() {
        assert!(is_protocol_word("user") && is_protocol_word("web_search_20250305"));
        assert!(!is_protocol_word("AKIA72LLSDD4VEYX2GSA"));
        assert!(!is_protocol_word("ignore previous instructions"));
        assert!(is_binary("data:image/png;base64,AAAA"));
        assert!(!is_binary("data: some text"));
        assert!(!is_binary(&"word ".repeat(400)));
        assert!(is_binary(&"QUJD".repeat(300)));
    }
}
