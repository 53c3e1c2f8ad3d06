//! What the gateway adds to a request's latency.
//!
//! The mock upstream answers instantly on loopback, so `direct` (client → mock) is the floor and the
//! difference to `proxied` (client → gateway → mock) is the gateway's own cost: authentication, limits,
//! parsing, scanning the 1 KiB prompt and the echoed answer, forwarding, restoring and the audit append.
//! `proxied-stream` adds SSE parsing and hold-back scanning of the streamed echo.

use std::net::SocketAddr;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rampart_gateway::config::UpstreamConfig;
use rampart_gateway::mock::MockUpstream;
use rampart_gateway::{Gateway, GatewayConfig};

const PROMPT: &str = include_str!("corpus/chat-1k.txt");

struct Setup {
    rt: tokio::runtime::Runtime,
    client: reqwest::Client,
    mock: SocketAddr,
    gateway: SocketAddr,
    key: String,
    _dir: tempfile::TempDir,
}

#[allow(clippy::unwrap_used)] // bench setup: a failure here is a broken bench
fn setup() -> Setup {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (mock, gateway, key) = rt.block_on(async {
        let mock = MockUpstream::new()
            .start("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let config = GatewayConfig {
            data_dir: dir.path().to_owned(),
            upstreams: vec![UpstreamConfig {
                name: "mock".into(),
                base_url: format!("http://{mock}/v1"),
                ..UpstreamConfig::default()
            }],
            ..GatewayConfig::default()
        };
        let gw = Gateway::new(config, None, None).await.unwrap();
        let key = bench_key(&gw);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(rampart_gateway::server::serve(
            Arc::clone(&gw),
            listener,
            None,
            std::future::pending(),
        ));
        (mock, addr, key)
    });
    Setup {
        rt,
        client: reqwest::Client::new(),
        mock,
        gateway,
        key,
        _dir: dir,
    }
}

/// A client key of the built-in `default` role (no limits, default policy).
#[allow(clippy::unwrap_used)] // bench setup
fn bench_key(gw: &Gateway) -> String {
    gw.keys().create("default", Some("bench"), None).unwrap().1
}

fn body(stream: bool) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "model": "mock-echo",
        "stream": stream,
        "messages": [{"role": "user", "content": PROMPT}],
    }))
    .unwrap_or_default()
}

fn bench(c: &mut Criterion) {
    let s = setup();
    let mut group = c.benchmark_group("gateway/chat-1k");
    group.throughput(Throughput::Bytes(PROMPT.len() as u64));
    let cases = [
        ("direct", s.mock, false),
        ("proxied", s.gateway, false),
        ("proxied-stream", s.gateway, true),
    ];
    for (name, addr, stream) in cases {
        let url = format!("http://{addr}/v1/chat/completions");
        let payload = body(stream);
        group.bench_function(name, |b| {
            b.iter(|| {
                s.rt.block_on(async {
                    let mut req = s
                        .client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(payload.clone());
                    if !s.key.is_empty() {
                        req = req.bearer_auth(&s.key);
                    }
                    let resp = req.send().await.map_err(|e| e.to_string())?;
                    if !resp.status().is_success() {
                        return Err(format!("status {}", resp.status()));
                    }
                    resp.bytes()
                        .await
                        .map(|b| b.len())
                        .map_err(|e| e.to_string())
                })
                .unwrap_or_else(|e| panic!("{name}: {e}"))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
