//! Audit log on SQLite: what `append` costs the request path, and how many records per second the one
//! writer makes durable when batches queue up.
#![allow(clippy::unwrap_used)] // bench set-up: a failure is a failed bench

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rampart_gateway::audit::{AuditConfig, AuditFinding, AuditLog, AuditRecord};

fn record(i: u64) -> AuditRecord {
    AuditRecord {
        ts_ms: 1_700_000_000_000 + i64::try_from(i).unwrap(),
        request_id: format!("01HZX3K8Q9{i:016}"),
        key_id: Some("ab12cd34".into()),
        role: Some("dev".into()),
        endpoint: "/v1/chat/completions".into(),
        model: Some("gpt-4o".into()),
        action: "redact".into(),
        status: 200,
        findings: vec![AuditFinding {
            direction: "input".into(),
            scanner: "pii".into(),
            rule: "pii.email".into(),
            category: "LLM02".into(),
            severity: "medium".into(),
            score: 0.9,
            start: 40,
            end: 61,
            location: Some("messages[0].content".into()),
        }],
        latency_ms: 412.7,
        upstream_ms: Some(398.2),
        prompt_tokens: Some(812),
        completion_tokens: Some(230),
        reason: None,
    }
}

const BATCH: u64 = 1_000;

fn bench_audit(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = runtime
        .block_on(AuditLog::open(&AuditConfig::default(), dir.path()))
        .unwrap();
    let mut g = c.benchmark_group("audit/sqlite");
    g.throughput(Throughput::Elements(BATCH));
    // Only the appends are timed; the flush after each batch keeps the queue from filling up.
    g.bench_function("append (request path), per 1000", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let records: Vec<AuditRecord> = (0..BATCH).map(record).collect();
                let start = Instant::now();
                for r in records {
                    log.append(r);
                }
                total += start.elapsed();
                runtime.block_on(log.flush()).unwrap();
            }
            total
        });
    });
    g.bench_function("append + durable flush, per 1000", |b| {
        b.iter(|| {
            for i in 0..BATCH {
                log.append(record(i));
            }
            runtime.block_on(log.flush()).unwrap();
        });
    });
    g.finish();
    assert_eq!(log.dropped_pending(), 0);
}

criterion_group!(benches, bench_audit);
criterion_main!(benches);
