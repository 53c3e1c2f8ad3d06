//! Measures the shipped injection classifier alone (no decoders, no signatures) on the development
//! corpora: precision, recall, F1 and false-positive rate at a 0.5 threshold, per-kind figures,
//! evasion recall per obfuscation, and scoring latency on 1 KB prompts.
//!
//! ```text
//! cargo run --release -p rampart-detect --example eval_classifier -- \
//!     corpora/injection/dev.jsonl corpora/injection/evasion.jsonl
//! ```

use std::collections::BTreeMap;
use std::time::Instant;

use rampart_detect::injection::classifier::Classifier;

const THRESHOLD: f32 = 0.5;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dev = args
        .first()
        .map_or("corpora/injection/dev.jsonl", String::as_str);
    let evasion = args
        .get(1)
        .map_or("corpora/injection/evasion.jsonl", String::as_str);
    let model = Classifier::embedded();

    let rows = read(dev)?;
    let (mut tp, mut fp, mut tn, mut fn_) = (0usize, 0usize, 0usize, 0usize);
    let mut per_kind: BTreeMap<String, (usize, usize, bool)> = BTreeMap::new();
    let mut brier = 0f64;
    for (text, label, kind) in &rows {
        let p = model.score(text);
        brier += f64::from(p - if *label { 1.0 } else { 0.0 }).powi(2);
        let hit = p >= THRESHOLD;
        match (label, hit) {
            (true, true) => tp += 1,
            (true, false) => fn_ += 1,
            (false, true) => fp += 1,
            (false, false) => tn += 1,
        }
        let e = per_kind.entry(kind.clone()).or_insert((0, 0, *label));
        e.0 += 1;
        e.1 += usize::from(hit);
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    let f1 = 2.0 * precision * recall / (precision + recall).max(f64::EPSILON);
    let fpr = fp as f64 / (fp + tn).max(1) as f64;
    println!(
        "{dev}: n={} attacks={} benign={}",
        rows.len(),
        tp + fn_,
        fp + tn
    );
    println!(
        "precision {precision:.4}  recall {recall:.4}  F1 {f1:.4}  FPR {fpr:.4}  Brier {:.4}",
        brier / rows.len().max(1) as f64
    );
    println!("{:<24} {:>6} {:>8}", "kind", "n", "rate");
    for (kind, (n, hits, label)) in &per_kind {
        let what = if *label { "recall" } else { "FPR" };
        println!(
            "{kind:<24} {n:>6} {:>8.4} {what}",
            *hits as f64 / (*n).max(1) as f64
        );
    }

    let ev = read(evasion)?;
    let mut per: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (text, _, kind) in &ev {
        let e = per.entry(kind.clone()).or_insert((0, 0));
        e.0 += 1;
        e.1 += usize::from(model.score(text) >= THRESHOLD);
    }
    println!("\n{evasion}: recall per obfuscation (classifier alone, no decoders)");
    for (kind, (n, hits)) in &per {
        println!(
            "{kind:<24} {n:>6} {:>8.4}",
            *hits as f64 / (*n).max(1) as f64
        );
    }

    // Latency on 1 KB prompts cut from the dev texts.
    let mut prompts: Vec<String> = Vec::new();
    let joined: String = rows
        .iter()
        .map(|r| r.0.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let mut rest = joined.as_str();
    while prompts.len() < 2000 && rest.len() > 1024 {
        let mut cut = 1024;
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        prompts.push(rest[..cut].to_owned());
        rest = &rest[cut..];
    }
    let mut times = Vec::with_capacity(prompts.len());
    let mut sink = 0f32;
    for p in &prompts {
        let t = Instant::now();
        sink += model.score(p);
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    let pct = |q: f64| {
        times
            .get(((times.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or(0.0)
    };
    println!(
        "\nlatency on {} x 1 KB prompts: p50 {:.1} us, p99 {:.1} us (checksum {sink:.1})",
        times.len(),
        pct(0.5),
        pct(0.99)
    );
    Ok(())
}

fn read(path: &str) -> Result<Vec<(String, bool, String)>, String> {
    let data = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut rows = Vec::new();
    for (i, line) in data
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("{path}:{}: {e}", i + 1))?;
        let text = v["text"]
            .as_str()
            .ok_or_else(|| format!("{path}:{}: no text", i + 1))?;
        let label = v["label"]
            .as_u64()
            .ok_or_else(|| format!("{path}:{}: no label", i + 1))?
            == 1;
        let kind = v["kind"]
            .as_str()
            .unwrap_or(if label { "attack" } else { "benign" });
        rows.push((text.to_owned(), label, kind.to_owned()));
    }
    Ok(rows)
}
