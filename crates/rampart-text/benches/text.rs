//! What `views` costs per input, in bytes per second.
//!
//! Every scan computes the views once, so this is a floor under every detector's latency. The three inputs
//! back three claims: an ordinary ASCII chat prompt takes the shortcut (no view, no allocation) and costs a
//! vectorised byte scan; a short multilingual message (German, Russian, Japanese, Greek, French, emoji ZWJ
//! sequences, whose joiners and selectors the view strips) pays one pass with script and quick-check
//! lookups per non-ASCII character; a 1 MB policy document with typographic punctuation and no-break
//! spaces, so that a view is built, is normalised in one linear pass.
//!
//! Run: `cargo bench -p rampart-text --bench text`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

const CHAT_PROMPT: &str = include_str!("corpus/chat_prompt.txt");
const MIXED_SCRIPT: &str = include_str!("corpus/mixed_script.txt");
const DOCUMENT_PARAGRAPHS: &str = include_str!("corpus/document_paragraphs.txt");

/// Repeats the paragraphs until the text reaches `target` bytes.
fn document(target: usize) -> String {
    let mut doc = String::with_capacity(target + DOCUMENT_PARAGRAPHS.len());
    while doc.len() < target {
        doc.push_str(DOCUMENT_PARAGRAPHS);
    }
    doc
}

fn bench_views(c: &mut Criterion) {
    let document = document(1 << 20);
    let inputs: [(&str, &str); 3] = [
        ("ascii-chat-1k", CHAT_PROMPT),
        ("mixed-script-1k", MIXED_SCRIPT),
        ("document-1m", &document),
    ];
    let mut group = c.benchmark_group("text/views");
    for (name, text) in inputs {
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(name, |b| b.iter(|| rampart_text::views(black_box(text))));
    }
    group.finish();
}

criterion_group!(benches, bench_views);
criterion_main!(benches);
