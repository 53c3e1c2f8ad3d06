//! Per-request costs of admission control on the gateway's hot path.
//!
//! What it proves: the in-memory `RateLimiter::check` (rpm + tpm + concurrency, permit dropped each
//! time) for one hot key and across many keys; token counting of a ~1 KiB chat prompt for both
//! encodings, and of a hostile 64 KiB whitespace run; one tool-call check with a deny pattern and a
//! URL allow-list. Tables and policies are built outside the timed part, as the gateway does at start.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rampart_gateway::limits::{LimitConfig, RateLimiter, RoleLimits};
use rampart_gateway::tokens::{count_tokens, warm_up};
use rampart_gateway::tools::{ArgRule, ToolPolicy};

const PROMPT: &str = include_str!("corpus/prompt-1k.txt");

/// Runs a future that never waits (the memory backend's check) without a runtime in the timing.
fn ready<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the memory backend never waits"),
    }
}

fn limiter() -> RateLimiter {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(RateLimiter::new(&LimitConfig::default()))
        .expect("memory limiter")
}

fn check(c: &mut Criterion) {
    let mut group = c.benchmark_group("limits/memory-check");
    // Generous limits, so every call is admitted and charged (the common path).
    let limits = RoleLimits {
        rpm: Some(u32::MAX),
        tpm: Some(u32::MAX),
        max_concurrency: Some(1_000_000),
    };
    let rl = limiter();
    group.bench_function("one-key", |b| {
        b.iter(|| black_box(ready(rl.check(black_box("rk-hot"), &limits, 300))).is_ok())
    });
    let keys: Vec<String> = (0..10_000).map(|i| format!("rk-{i:05}")).collect();
    let rl = limiter();
    let mut i = 0;
    group.bench_function("10k-keys", |b| {
        b.iter(|| {
            i = (i + 1) % keys.len();
            black_box(ready(rl.check(&keys[i], &limits, 300))).is_ok()
        })
    });
    let none = RoleLimits::default();
    group.bench_function("no-limits", |b| {
        b.iter(|| black_box(ready(rl.check(black_box("rk-hot"), &none, 300))).is_ok())
    });
    group.finish();
}

fn tokens(c: &mut Criterion) {
    warm_up();
    let mut group = c.benchmark_group("tokens/count");
    group.throughput(Throughput::Bytes(PROMPT.len() as u64));
    for model in ["gpt-4o", "gpt-4"] {
        group.bench_function(format!("prompt-1k/{model}"), |b| {
            b.iter(|| count_tokens(model, black_box(PROMPT)))
        });
    }
    let hostile = " ".repeat(64 * 1024) + "x";
    group.throughput(Throughput::Bytes(hostile.len() as u64));
    group.bench_function("spaces-64k/gpt-4o", |b| {
        b.iter(|| count_tokens("gpt-4o", black_box(&hostile)))
    });
    group.finish();
}

fn tools(c: &mut Criterion) {
    let policy = ToolPolicy {
        allow: vec!["search_*".into(), "fetch".into(), "shell".into()],
        deny: vec!["exec_*".into()],
        rules: vec![
            ArgRule {
                tool: "shell".into(),
                argument: "command".into(),
                deny_patterns: vec![
                    r"\brm\s+-[a-zA-Z]*[rf]".into(),
                    r"(?i)\bcurl\b.*\|\s*sh".into(),
                ],
                allow_url_hosts: vec![],
            },
            ArgRule {
                tool: "fetch".into(),
                argument: "url".into(),
                deny_patterns: vec![],
                allow_url_hosts: vec!["example.com".into(), "*.docs.example.org".into()],
            },
        ],
    }
    .compile()
    .expect("policy compiles");
    let fetch =
        r#"{"url":"https://api.docs.example.org/v2/search?q=monitor+stand&lang=en","timeout":10}"#;
    let shell =
        r#"{"command":"ls -la /srv/app && cat /srv/app/README.md | head -n 40","cwd":"/srv/app"}"#;
    let mut group = c.benchmark_group("tools/check-call");
    group.bench_function("fetch-url-rule", |b| {
        b.iter(|| policy.check_call("fetch", black_box(fetch)).is_ok())
    });
    group.bench_function("shell-deny-patterns", |b| {
        b.iter(|| policy.check_call("shell", black_box(shell)).is_ok())
    });
    group.finish();
}

criterion_group!(benches, check, tokens, tools);
criterion_main!(benches);
