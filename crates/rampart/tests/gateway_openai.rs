//! The gateway end to end, driven by the official `openai` Python client: `rampart mock-upstream` and
//! `rampart serve` run as real processes on loopback, keys come from `rampart keys create`, and
//! tests/python/test_gateway_openai.py makes the calls. The interpreter comes from `RAMPART_PYTHON` (a virtual
//! environment with `openai` installed; `.ci/run` creates it). Without it the test fails under `CI=true` and
//! is skipped with a notice elsewhere.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::create_key;

const BIN: &str = env!("CARGO_BIN_EXE_rampart");

/// Kills the process when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Status code of `GET path`, or `None` while nothing answers.
fn get_status(port: u16, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    buf.split_whitespace().nth(1)?.parse().ok()
}

/// Waits until the server answers `path` with 200. Readiness polling, not a timing assertion: the generous
/// deadline only turns a server that never starts into a failure instead of a hang.
fn wait_ready(port: u16, path: &str, child: &mut Child, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if get_status(port, path) == Some(200) {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "server exited with {status} before it was ready:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "server on port {port} never became ready:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

fn python() -> Option<String> {
    match std::env::var("RAMPART_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("RAMPART_PYTHON is not set; .ci/run creates a virtual environment with `openai`")
        }
        _ => {
            eprintln!("notice: RAMPART_PYTHON not set; skipping the openai client end-to-end test");
            None
        }
    }
}

#[test]
fn openai_python_client_against_the_gateway() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");

    let mock_port = free_port();
    let mock_log = dir.path().join("mock.log");
    let mut mock = Running(
        Command::new(BIN)
            .args([
                "mock-upstream",
                "--listen",
                &format!("127.0.0.1:{mock_port}"),
            ])
            .stdout(Stdio::from(std::fs::File::create(&mock_log).unwrap()))
            .stderr(Stdio::from(
                std::fs::File::create(dir.path().join("mock.err")).unwrap(),
            ))
            .spawn()
            .unwrap(),
    );
    wait_ready(mock_port, "/v1/models", &mut mock.0, &mock_log);

    let gw_port = free_port();
    let config = dir.path().join("rampart.toml");
    std::fs::write(
        &config,
        format!(
            r#"listen = "127.0.0.1:{gw_port}"
data_dir = "{data}"

[[upstreams]]
name = "mock"
base_url = "http://127.0.0.1:{mock_port}/v1"
max_retries = 0
timeout_ms = 20000

[roles.default]
tools = {{ allow = ["*"] }}

[roles.analyst]
models = ["mock-echo*"]
rpm = 3
tools = {{ allow = ["get_weather", "search_*"] }}
"#,
            data = data_dir.display()
        ),
    )
    .unwrap();
    let key_default = create_key(&data_dir, "default");
    let key_analyst = create_key(&data_dir, "analyst");
    let key_revoke = create_key(&data_dir, "default");

    let gw_log = dir.path().join("gateway.log");
    let mut gateway = Running(
        Command::new(BIN)
            .args(["serve", "--config"])
            .arg(&config)
            .stdout(Stdio::from(std::fs::File::create(&gw_log).unwrap()))
            .stderr(Stdio::from(
                std::fs::File::create(dir.path().join("gateway.err")).unwrap(),
            ))
            .spawn()
            .unwrap(),
    );
    wait_ready(gw_port, "/readyz", &mut gateway.0, &gw_log);

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/test_gateway_openai.py");
    let out = Command::new(&python)
        .arg(&script)
        .env(
            "RAMPART_GATEWAY_URL",
            format!("http://127.0.0.1:{gw_port}/v1"),
        )
        .env("RAMPART_MOCK_URL", format!("http://127.0.0.1:{mock_port}"))
        .env("RAMPART_KEY_DEFAULT", &key_default)
        .env("RAMPART_KEY_ANALYST", &key_analyst)
        .env("RAMPART_KEY_TO_REVOKE", &key_revoke)
        .env("RAMPART_BIN", BIN)
        .env("RAMPART_DATA_DIR", &data_dir)
        .output()
        .unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{report}");
    assert!(
        out.status.success(),
        "python tests failed:\n{report}\n--- gateway log ---\n{}{}",
        std::fs::read_to_string(&gw_log).unwrap_or_default(),
        std::fs::read_to_string(dir.path().join("gateway.err")).unwrap_or_default()
    );

    // Every decision was audited and the chain is intact.
    drop(gateway);
    let verify = Command::new(BIN)
        .args(["audit", "verify", "--data-dir"])
        .arg(&data_dir)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "audit verify failed: {}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}
