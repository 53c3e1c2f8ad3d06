//! What the gateway adds to a request's latency.
//!
//! The mock upstream answers instantly on loopback, so `direct` (client → mock) is the floor and the
//! difference to `proxied` (client → gateway → mock) is the gateway's own cost: authentication, limits,
//! parsing, scanning the 1 KiB prompt and the echoed answer, forwarding, restoring and the audit append.
//! Texts the gateway has seen clean are not scanned again (conversation history), so `proxied` measures that
//! path and `proxied-fresh` makes every prompt new (a counter appended) to pay for scanning both ways.
//! `direct-tools` and `proxied-tools` add eight tool definitions, `metadata` and `user` (the strings an agent
//! resends every turn, each scanned too) to the cached prompt. `direct-stream` and `proxied-stream` do the
//! same as `direct` and `proxied-fresh` for the echo streamed word by word (~170 SSE events),
//! adding SSE parsing and hold-back scanning.

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

fn body(stream: bool, n: Option<u64>, tools: bool) -> Vec<u8> {
    let content = match n {
        Some(n) => format!("{PROMPT} (Request {n}.)"),
        None => PROMPT.to_owned(),
    };
    let mut v = serde_json::json!({
        "model": "mock-echo",
        "stream": stream,
        "messages": [{"role": "user", "content": content}],
    });
    if tools {
        v["tools"] = agent_tools();
        v["metadata"] =
            serde_json::json!({"team": "support", "ticket": "SUP-2291", "channel": "web"});
        v["user"] = serde_json::json!("user-8812");
    }
    serde_json::to_vec(&v).unwrap_or_default()
}

/// Eight tool definitions as an agent framework sends them with every turn: a sentence of description and
/// two described parameters each (every string under 256 bytes).
fn agent_tools() -> serde_json::Value {
    let names = [
        "search_orders",
        "get_order",
        "refund_order",
        "lookup_customer",
        "update_address",
        "list_invoices",
        "send_receipt",
        "open_ticket",
    ];
    serde_json::Value::Array(
        names
            .iter()
            .map(|name| {
                serde_json::json!({"type": "function", "function": {
                    "name": name,
                    "description": format!("Calls the {name} service of the shop backend and returns its JSON result; use it only when the customer asks for it."),
                    "parameters": {"type": "object", "properties": {
                        "id": {"type": "string", "description": "The order or customer identifier shown in the account page."},
                        "reason": {"type": "string", "description": "Why the customer wants this, in their own words."}},
                        "required": ["id"]}}})
            })
            .collect(),
    )
}

fn bench(c: &mut Criterion) {
    let s = setup();
    let mut group = c.benchmark_group("gateway/chat-1k");
    group.throughput(Throughput::Bytes(PROMPT.len() as u64));
    // (name, address, stream, fresh prompt every time, with tool definitions and metadata)
    let cases = [
        ("direct", s.mock, false, false, false),
        ("proxied", s.gateway, false, false, false),
        ("proxied-fresh", s.gateway, false, true, false),
        ("direct-tools", s.mock, false, false, true),
        ("proxied-tools", s.gateway, false, false, true),
        ("direct-stream", s.mock, true, true, false),
        ("proxied-stream", s.gateway, true, true, false),
    ];
    let counter = std::sync::atomic::AtomicU64::new(0);
    for (name, addr, stream, fresh, tools) in cases {
        let url = format!("http://{addr}/v1/chat/completions");
        let fixed = body(stream, None, tools);
        group.bench_function(name, |b| {
            b.iter(|| {
                let payload = if fresh {
                    body(
                        stream,
                        Some(counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed)),
                        tools,
                    )
                } else {
                    fixed.clone()
                };
                s.rt.block_on(async {
                    let mut req = s
                        .client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(payload);
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
