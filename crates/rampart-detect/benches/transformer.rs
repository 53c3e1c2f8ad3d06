//! Cost structure of the optional transformer layer (`--features transformer`).
//!
//! What it proves: where the time of a transformer-scored input goes — tokenising and windowing versus
//! forward passes, and how it grows with input length (one forward pass per 512-token window) — and what the
//! layer adds to the injection scanner's per-prompt cost. The model is a tiny random DeBERTa-v3 (hidden 32,
//! 2 layers) written by the bench itself, so its figures show the structure and the fixed overheads, not the
//! cost of a real checkpoint.
//!
//! With `RAMPART_BENCH_BASE_MODEL=1` it also times a random model with the body of DeBERTa-v3-base (hidden
//! 768, 12 layers, 12 heads): the compute per token of `protectai/deberta-v3-base-prompt-injection-v2` or
//! Prompt Guard 86M, without their large embedding tables (which cost memory, not time). Writing that model
//! takes a few seconds and about 350 MB in a temporary directory.

#[path = "../tests/support/tiny_model.rs"]
mod tiny_model;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rampart_core::Scanner;
use rampart_core::{Direction, Input};
use rampart_detect::injection::InjectionScanner;
use rampart_detect::injection::transformer::{TransformerClassifier, TransformerOptions};
use tiny_model::{Arch, Size};

const LABELS: &[&str] = &["BENIGN", "INJECTION", "JAILBREAK"];
const CHAT: &str = include_str!("corpus/chat-1k.txt");

fn tiny(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    tiny_model::write_model(dir.path(), Arch::DebertaV3, LABELS);
    let clf = TransformerClassifier::load(&TransformerOptions::new(dir.path()))
        .expect("tiny model loads");
    let mut group = c.benchmark_group("transformer/tiny-deberta");
    for tokens in [64usize, 510, 5000] {
        let text = tiny_model::words(tokens);
        group.throughput(Throughput::Elements(tokens as u64));
        group.bench_function(format!("windows/{tokens}-tokens"), |b| {
            b.iter(|| black_box(clf.windows(black_box(&text)).expect("tokenises")))
        });
        group.bench_function(format!("score/{tokens}-tokens"), |b| {
            b.iter(|| {
                black_box(
                    clf.score_texts(&[black_box(text.as_str())])
                        .expect("scores"),
                )
            })
        });
    }
    group.finish();

    // One full window per architecture: what each family's attention costs beyond its matrix products.
    let mut group = c.benchmark_group("transformer/tiny-arch");
    let text = tiny_model::words(510);
    for (name, arch) in [
        ("deberta-v3", Arch::DebertaV3),
        ("modernbert", Arch::ModernBert),
        ("bert", Arch::Bert),
    ] {
        let dir = tempfile::tempdir().expect("temporary directory");
        tiny_model::write_model(dir.path(), arch, LABELS);
        let clf = TransformerClassifier::load(&TransformerOptions::new(dir.path()))
            .expect("tiny model loads");
        group.bench_function(format!("{name}/score/510-tokens"), |b| {
            b.iter(|| {
                black_box(
                    clf.score_texts(&[black_box(text.as_str())])
                        .expect("scores"),
                )
            })
        });
    }
    group.finish();

    // The scanner with and without the layer, on the 1 KiB chat prompt the other benches use.
    let plain = InjectionScanner::from_options(&toml::Table::new()).expect("scanner builds");
    let options: toml::Table = toml::from_str(&format!(
        "transformer = {{ path = {:?} }}",
        dir.path().to_str().expect("UTF-8 temporary path")
    ))
    .expect("options parse");
    let with = InjectionScanner::from_options(&options).expect("scanner with transformer builds");
    let views = rampart_text::views_with_decoded(CHAT);
    let input = Input {
        text: CHAT,
        views: &views,
        direction: Direction::Input,
    };
    let mut group = c.benchmark_group("transformer/injection-scanner");
    group.throughput(Throughput::Bytes(CHAT.len() as u64));
    for (name, scanner) in [("chat-1k/without", &plain), ("chat-1k/with-tiny", &with)] {
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

fn base(c: &mut Criterion) {
    if std::env::var_os("RAMPART_BENCH_BASE_MODEL").is_none() {
        eprintln!(
            "transformer/base-deberta skipped: set RAMPART_BENCH_BASE_MODEL=1 to time a base-size body"
        );
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    tiny_model::write_model_sized(dir.path(), Arch::DebertaV3, LABELS, None, Size::BASE);
    let clf = TransformerClassifier::load(&TransformerOptions::new(dir.path()))
        .expect("base model loads");
    let mut group = c.benchmark_group("transformer/base-deberta");
    group.sample_size(10);
    for tokens in [62usize, 510, 2000] {
        let text = tiny_model::words(tokens);
        group.throughput(Throughput::Elements(tokens as u64));
        group.bench_function(format!("score/{tokens}-tokens"), |b| {
            b.iter(|| {
                black_box(
                    clf.score_texts(&[black_box(text.as_str())])
                        .expect("scores"),
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, tiny, base);
criterion_main!(benches);
