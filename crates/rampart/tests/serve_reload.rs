//! `rampart serve` reloads its configuration on SIGHUP: the real binary on loopback, a real signal, and one
//! keep-alive HTTP/1.1 connection that must survive the reload.
//!
//! The test never sleeps for timing: it waits for the server's own log lines (JSON, on stderr), read line by
//! line on a thread. The deadlines below only turn a server that never answers into a failure instead of a
//! hang.
#![cfg(unix)]
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::create_key;

const BIN: &str = env!("CARGO_BIN_EXE_rampart");
/// How long to wait for a log line before calling the server stuck.
const PATIENCE: Duration = Duration::from_secs(120);

/// Kills the process when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The server's stderr, one line at a time, as parsed JSON log events (other lines as `{"raw": line}`).
struct Log {
    lines: Receiver<Value>,
    seen: Vec<Value>,
}

impl Log {
    fn follow(stderr: ChildStderr) -> Log {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let event = serde_json::from_str::<Value>(&line)
                    .unwrap_or_else(|_| serde_json::json!({ "raw": line }));
                if tx.send(event).is_err() {
                    break;
                }
            }
        });
        Log {
            lines: rx,
            seen: Vec::new(),
        }
    }

    /// Blocks until a line satisfies `pred`, and returns it.
    fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(event) => {
                    self.seen.push(event.clone());
                    if pred(&event) {
                        return event;
                    }
                }
                Err(_) => panic!(
                    "no log line for {what}; the server said:\n{}",
                    self.seen
                        .iter()
                        .map(Value::to_string)
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
            }
        }
    }

    /// Blocks until the server logs the structured event `event` (its `event` field).
    fn wait_event(&mut self, event: &str) -> Value {
        self.wait_for(event, |v| v["event"] == event)
    }
}

/// One HTTP/1.1 connection kept open across requests.
struct KeepAlive {
    reader: BufReader<TcpStream>,
}

impl KeepAlive {
    fn connect(addr: &str) -> KeepAlive {
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        KeepAlive {
            reader: BufReader::new(stream),
        }
    }

    /// Sends one request on this connection and reads the whole answer: (status, headers, JSON body).
    fn post(&mut self, path: &str, key: &str, body: &Value) -> (u16, Vec<(String, String)>, Value) {
        let body = serde_json::to_vec(body).unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: rampart\r\nAuthorization: Bearer {key}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let stream = self.reader.get_mut();
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&body).unwrap();
        let mut status_line = String::new();
        self.reader.read_line(&mut status_line).unwrap();
        assert!(
            !status_line.is_empty(),
            "the server closed the keep-alive connection"
        );
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (k, v) = line.split_once(':').unwrap();
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let mut buf = Vec::new();
        if let Some(n) = header("content-length") {
            buf.resize(n.parse().unwrap(), 0);
            self.reader.read_exact(&mut buf).unwrap();
        } else {
            assert_eq!(header("transfer-encoding").as_deref(), Some("chunked"));
            loop {
                let mut size = String::new();
                self.reader.read_line(&mut size).unwrap();
                let size = usize::from_str_radix(size.trim(), 16).unwrap();
                let mut chunk = vec![0; size + 2];
                self.reader.read_exact(&mut chunk).unwrap();
                if size == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..size]);
            }
        }
        let value = serde_json::from_slice(&buf).unwrap_or(Value::Null);
        (status, headers, value)
    }
}

fn config(data_dir: &Path, models: &str) -> String {
    format!(
        "listen = \"127.0.0.1:0\"\ndata_dir = {data_dir:?}\n\n[roles.analyst]\nmodels = [{models}]\n",
        data_dir = data_dir.display().to_string()
    )
}

fn chat(model: &str) -> Value {
    serde_json::json!({"model": model, "messages": [{"role": "user", "content": "Write a haiku about autumn."}]})
}

fn hup(child: &Child) {
    let status = Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -HUP failed");
}

#[test]
fn sighup_applies_the_new_config_and_keeps_open_connections() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config_path = dir.path().join("rampart.toml");
    std::fs::write(&config_path, config(&data, r#""mock-echo", "mock-chunks""#)).unwrap();
    let key = create_key(&data, "analyst");

    // The demo upstream (in the server's own process) answers the `mock-*` models.
    let mut child = Command::new(BIN)
        .args(["serve", "--demo", "--log-format", "json", "--config"])
        .arg(&config_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = Log::follow(child.stderr.take().unwrap());
    let server = Running(child);
    let listening = log.wait_for("the listening address", |v| {
        v["message"] == "rampart gateway listening"
    });
    let addr = listening["listen"].as_str().unwrap().to_owned();

    let mut conn = KeepAlive::connect(&addr);
    let (status, _, body) = conn.post("/v1/chat/completions", &key, &chat("mock-echo"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Write a haiku about autumn."
    );

    // The role loses `mock-echo`.
    std::fs::write(&config_path, config(&data, r#""mock-chunks""#)).unwrap();
    hup(&server.0);
    let reloaded = log.wait_event("config_reloaded");
    assert_eq!(reloaded["level"], "INFO");

    // Same connection: the new rules apply, the connection still works.
    let (status, headers, body) = conn.post("/v1/chat/completions", &key, &chat("mock-echo"));
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "model_not_allowed");
    assert!(
        !headers
            .iter()
            .any(|(k, v)| k == "connection" && v.eq_ignore_ascii_case("close")),
        "{headers:?}"
    );
    let chunks = serde_json::json!({"model": "mock-chunks", "mock_chunks": ["a", "b"],
        "messages": [{"role": "user", "content": "hello"}]});
    let (status, _, body) = conn.post("/v1/chat/completions", &key, &chunks);
    assert_eq!(status, 200, "{body}");

    // A broken file: the reload fails, is logged as an error, and the previous configuration stays.
    std::fs::write(&config_path, "[roles.analyst\nmodels = 5\n").unwrap();
    hup(&server.0);
    let failed = log.wait_event("config_reload_failed");
    assert_eq!(failed["level"], "ERROR");
    assert!(
        failed["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{failed}"
    );
    assert!(
        failed["config"]
            .as_str()
            .is_some_and(|p| p.ends_with("rampart.toml")),
        "{failed}"
    );
    let (status, _, body) = conn.post("/v1/chat/completions", &key, &chat("mock-echo"));
    assert_eq!(
        status, 403,
        "the failed reload must keep the reloaded config: {body}"
    );
    let (status, _, body) = conn.post("/v1/chat/completions", &key, &chunks);
    assert_eq!(status, 200, "{body}");

    // A fresh connection sees the same configuration.
    let mut fresh = KeepAlive::connect(&addr);
    let (status, _, _) = fresh.post("/v1/chat/completions", &key, &chat("mock-echo"));
    assert_eq!(status, 403);
}
