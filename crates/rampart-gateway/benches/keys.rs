//! Cost of `KeyStore::verify` on the request path: a warm cache, a wrong secret, malformed input, and a
//! verify right after another connection committed.
#![allow(clippy::unwrap_used)] // bench set-up: a failure is a failed bench

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rampart_gateway::KeyStore;

fn bench_verify(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = KeyStore::open(dir.path()).unwrap();
    // A realistic table: the looked-up key among a thousand others.
    for i in 0..1_000 {
        store.create("dev", Some(&format!("k{i}")), None).unwrap();
    }
    let (_, key) = store.create("dev", Some("bench"), None).unwrap();
    let mut wrong = key.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == 'a' { 'b' } else { 'a' });

    let mut g = c.benchmark_group("keys/verify");
    g.bench_function("valid, warm cache", |b| {
        b.iter(|| assert!(store.verify(black_box(&key)).unwrap().is_some()));
    });
    g.bench_function("wrong secret", |b| {
        b.iter(|| assert!(store.verify(black_box(&wrong)).unwrap().is_none()));
    });
    g.bench_function("malformed", |b| {
        b.iter(|| {
            assert!(
                store
                    .verify(black_box("Bearer sk-not-ours"))
                    .unwrap()
                    .is_none()
            )
        });
    });
    // Another connection's commit between calls: what the first request after a `rampart keys revoke`
    // pays (the cache is dropped and the key read again).
    let other = rusqlite::Connection::open(store.path()).unwrap();
    let mut n = 0u64;
    g.bench_function("valid, after another connection's commit", |b| {
        b.iter_batched(
            || {
                n += 1;
                other
                    .execute(
                        "UPDATE api_keys SET name = ?1 WHERE name = 'k0' OR name LIKE 'churn%'",
                        [format!("churn{n}")],
                    )
                    .unwrap();
            },
            |()| assert!(store.verify(black_box(&key)).unwrap().is_some()),
            criterion::BatchSize::PerIteration,
        );
    });
    g.finish();
}

criterion_group!(benches, bench_verify);
criterion_main!(benches);
