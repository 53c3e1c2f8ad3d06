//! Throughput of each scanner and of the default pipeline on realistic text.
//!
//! What it proves: the per-prompt cost on the hot path (1 KiB chat prompt, the gateway's common case) and
//! the sustained rate on a 1 MiB document (bulk scanning). Throughput is in bytes so figures compare across
//! input sizes. Scanners are built outside the timed part, as a front end builds them once at start-up.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rampart_core::{Direction, Input};
use rampart_detect::{Pipeline, SCANNERS};

const CHAT: &str = include_str!("corpus/chat-1k.txt");
const DOC_PART: &str = include_str!("corpus/document.txt");

fn document_1m() -> String {
    let mut doc = String::with_capacity(1 << 20);
    while doc.len() < (1 << 20) {
        doc.push_str(DOC_PART);
        doc.push('\n');
    }
    doc
}

fn scanners(c: &mut Criterion) {
    let doc = document_1m();
    for spec in SCANNERS {
        let scanner = (spec.build)(&toml::Table::new()).expect("default scanner builds");
        let mut group = c.benchmark_group(format!("detect/{}", spec.id));
        for (name, text) in [("chat-1k", CHAT), ("doc-1m", doc.as_str())] {
            let views = rampart_text::views(text);
            let input = Input {
                text,
                views: &views,
                direction: Direction::Input,
            };
            group.throughput(Throughput::Bytes(text.len() as u64));
            group.bench_function(name, |b| {
                let mut out = Vec::new();
                b.iter(|| {
                    out.clear();
                    scanner.scan(black_box(&input), &mut out);
                    black_box(out.len())
                })
            });
        }
        group.finish();
    }
}

fn pipeline(c: &mut Criterion) {
    let doc = document_1m();
    let pipeline = Pipeline::with_default_policy().expect("default policy builds");
    let mut group = c.benchmark_group("pipeline/default-policy");
    for (name, text) in [("chat-1k", CHAT), ("doc-1m", doc.as_str())] {
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| black_box(pipeline.scan(black_box(text), Direction::Input)))
        });
    }
    group.finish();

    // The data-protection scanners alone (the default policy minus injection): what the pipeline costs
    // when only secrets, PII and hidden Unicode are wanted.
    let mut policy = rampart_detect::default_policy();
    policy.scanners.remove("injection");
    let pipeline = Pipeline::from_policy(policy).expect("policy builds");
    let mut group = c.benchmark_group("pipeline/data-protection");
    for (name, text) in [("chat-1k", CHAT), ("doc-1m", doc.as_str())] {
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| black_box(pipeline.scan(black_box(text), Direction::Input)))
        });
    }
    group.finish();
}

/// The injection layers separately at the sizes the gateway sees (100 B, 1 KiB, 10 KiB): decoding, the
/// classifier alone, and the whole injection scanner on precomputed views.
fn injection_layers(c: &mut Criterion) {
    let doc = document_1m();
    let scanner = rampart_detect::injection::build(&toml::Table::new()).expect("injection builds");
    let classifier = rampart_detect::injection::classifier::Classifier::embedded();
    let limits = rampart_text::decode::DecodeLimits::default();
    for size in [100usize, 1024, 10 * 1024] {
        let mut end = size.min(doc.len());
        while !doc.is_char_boundary(end) {
            end -= 1;
        }
        let text = &doc[..end];
        let mut group = c.benchmark_group(format!("injection/{size}B"));
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function("decode", |b| {
            b.iter(|| black_box(rampart_text::decode::decode_views(black_box(text), &limits)))
        });
        group.bench_function("classifier", |b| {
            b.iter(|| black_box(classifier.score(black_box(text))))
        });
        let views = rampart_text::views_with_decoded(text);
        let input = Input {
            text,
            views: &views,
            direction: Direction::Input,
        };
        group.bench_function("detector", |b| {
            let mut out = Vec::new();
            b.iter(|| {
                out.clear();
                scanner.scan(black_box(&input), &mut out);
                black_box(out.len())
            })
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = scanners, pipeline, injection_layers
}
criterion_main!(benches);
