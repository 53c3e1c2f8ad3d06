//! Binary (document-level) evaluation, for detectors whose question is "is this text an attack?" rather
//! than "where is the entity?": `rampart eval injection`.
//!
//! Corpus lines are `{"text": str, "label": 0|1, "kind": str?}`. A text counts as flagged when the detector
//! returns `true`. Per kind, attack kinds (any text labelled 1) report recall and benign kinds (labelled 0)
//! report the false-positive rate, so one table shows both misses and false alarms by slice. Latency is
//! measured around each call, so it includes everything the detector does for one text.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// One labelled text.
#[derive(Clone, Debug, Deserialize)]
pub struct LabelledText {
    /// The text.
    pub text: String,
    /// 1 = attack, 0 = benign.
    pub label: u8,
    /// Slice name (`jailbreak`, `benign-hard`, `evasion-base64`...).
    #[serde(default)]
    pub kind: Option<String>,
}

/// Why a binary corpus could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BinaryCorpusError {
    /// The file could not be read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A line that is not a valid record.
    #[error("line {line}: {message}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        message: String,
    },
}

/// Reads a binary corpus; blank lines are skipped, errors name the line.
pub fn load_binary(path: &Path) -> Result<Vec<LabelledText>, BinaryCorpusError> {
    let file = std::fs::File::open(path)?;
    read_binary(std::io::BufReader::new(file))
}

/// Reads a binary corpus from any reader.
pub fn read_binary(reader: impl BufRead) -> Result<Vec<LabelledText>, BinaryCorpusError> {
    let mut out = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| BinaryCorpusError::Line {
            line: i + 1,
            message: e.to_string(),
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let rec: LabelledText =
            serde_json::from_str(&line).map_err(|e| BinaryCorpusError::Line {
                line: i + 1,
                message: format!("invalid record: {e}"),
            })?;
        if rec.label > 1 {
            return Err(BinaryCorpusError::Line {
                line: i + 1,
                message: format!("label must be 0 or 1, got {}", rec.label),
            });
        }
        out.push(rec);
    }
    Ok(out)
}

/// Figures for one slice.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct KindScores {
    /// Texts in the slice.
    pub n: usize,
    /// Share of attacks flagged (attack slices only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recall: Option<f64>,
    /// Share of benign texts flagged (benign slices only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fpr: Option<f64>,
}

/// Latency percentiles in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// The result of [`evaluate_binary`]; its JSON is the documented `rampart eval injection --format json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct BinaryReport {
    /// Texts.
    pub n: usize,
    /// Flagged attacks / flagged texts.
    pub precision: f64,
    /// Flagged attacks / attacks.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Flagged benign texts / benign texts.
    pub fpr: f64,
    /// Per slice.
    pub per_kind: BTreeMap<String, KindScores>,
    /// Per-text detector latency.
    pub latency_ms: Latency,
    /// Wrong answers in corpus order as (kind, text, label): attacks missed and benign texts flagged. Kept
    /// for `--verbose`, not part of the JSON contract.
    #[serde(skip)]
    pub errors: Vec<(String, String, u8)>,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Runs `detect` on every text and scores it.
pub fn evaluate_binary(
    corpus: &[LabelledText],
    mut detect: impl FnMut(&str) -> bool,
) -> BinaryReport {
    let (mut tp, mut fp, mut pos, mut neg) = (0usize, 0usize, 0usize, 0usize);
    let mut kinds: BTreeMap<String, (usize, usize, u8)> = BTreeMap::new();
    let mut times = Vec::with_capacity(corpus.len());
    let mut errors = Vec::new();
    for rec in corpus {
        let start = Instant::now();
        let flagged = detect(&rec.text);
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        let kind = rec.kind.clone().unwrap_or_else(|| {
            if rec.label == 1 {
                "attack".into()
            } else {
                "benign".into()
            }
        });
        if flagged != (rec.label == 1) {
            errors.push((kind.clone(), rec.text.clone(), rec.label));
        }
        let slot = kinds.entry(kind).or_insert((0, 0, rec.label));
        slot.0 += 1;
        slot.1 += usize::from(flagged);
        slot.2 = slot.2.max(rec.label);
        if rec.label == 1 {
            pos += 1;
            tp += usize::from(flagged);
        } else {
            neg += 1;
            fp += usize::from(flagged);
        }
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| -> f64 {
        if times.is_empty() {
            return 0.0;
        }
        let i = ((times.len() as f64 - 1.0) * p).round() as usize;
        (times[i.min(times.len() - 1)] * 1000.0).round() / 1000.0
    };
    let precision = ratio(tp, tp + fp);
    let recall = ratio(tp, pos);
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    let per_kind = kinds
        .into_iter()
        .map(|(k, (n, flagged, label))| {
            let s = if label == 1 {
                KindScores {
                    n,
                    recall: Some(ratio(flagged, n)),
                    fpr: None,
                }
            } else {
                KindScores {
                    n,
                    recall: None,
                    fpr: Some(ratio(flagged, n)),
                }
            };
            (k, s)
        })
        .collect();
    BinaryReport {
        n: corpus.len(),
        precision,
        recall,
        f1,
        fpr: ratio(fp, neg),
        per_kind,
        latency_ms: Latency {
            p50: pct(0.5),
            p99: pct(0.99),
        },
        errors,
    }
}

impl BinaryReport {
    /// A table for people.
    pub fn render_text(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "n={}  precision={:.3}  recall={:.3}  f1={:.3}  fpr={:.3}  latency p50={:.3} ms p99={:.3} ms",
            self.n,
            self.precision,
            self.recall,
            self.f1,
            self.fpr,
            self.latency_ms.p50,
            self.latency_ms.p99
        );
        let _ = writeln!(s, "{:<28} {:>6} {:>8} {:>8}", "kind", "n", "recall", "fpr");
        for (k, v) in &self.per_kind {
            let f = |x: Option<f64>| x.map_or("-".to_owned(), |v| format!("{v:.3}"));
            let _ = writeln!(s, "{:<28} {:>6} {:>8} {:>8}", k, v.n, f(v.recall), f(v.fpr));
        }
        s
    }

    /// Up to `max` misses and `max` false alarms, one per line, for looking at what the detector gets wrong.
    pub fn render_errors(&self, max: usize) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        for (label, title) in [(1u8, "missed attacks"), (0, "false alarms")] {
            let wrong: Vec<_> = self.errors.iter().filter(|e| e.2 == label).collect();
            let _ = writeln!(s, "\n{title} ({}):", wrong.len());
            for (kind, text, _) in wrong.into_iter().take(max) {
                let one_line: String = text
                    .chars()
                    .take(160)
                    .map(|c| if c.is_control() { ' ' } else { c })
                    .collect();
                let _ = writeln!(s, "  [{kind}] {one_line}");
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_by_hand() {
        let corpus = read_binary(
            r#"{"text": "attack one", "label": 1, "kind": "override"}
{"text": "attack two", "label": 1, "kind": "override"}

{"text": "fine", "label": 0, "kind": "benign"}
{"text": "fine but flagged", "label": 0, "kind": "benign-hard"}
"#
            .as_bytes(),
        )
        .unwrap();
        let r = evaluate_binary(&corpus, |t| t == "attack one" || t.contains("flagged"));
        assert_eq!(r.n, 4);
        assert_eq!(r.precision, 0.5);
        assert_eq!(r.recall, 0.5);
        assert_eq!(r.f1, 0.5);
        assert_eq!(r.fpr, 0.5);
        assert_eq!(
            r.per_kind["override"],
            KindScores {
                n: 2,
                recall: Some(0.5),
                fpr: None
            }
        );
        assert_eq!(r.per_kind["benign-hard"].fpr, Some(1.0));
        let json = serde_json::to_value(&r).unwrap();
        for key in [
            "n",
            "precision",
            "recall",
            "f1",
            "fpr",
            "per_kind",
            "latency_ms",
        ] {
            assert!(json.get(key).is_some(), "{key}");
        }
        assert!(json["latency_ms"].get("p99").is_some());
    }

    #[test]
    fn bad_lines_are_named() {
        let e =
            read_binary("{\"text\": \"x\", \"label\": 1}\n{\"text\": 3}\n".as_bytes()).unwrap_err();
        assert!(e.to_string().starts_with("line 2:"), "{e}");
        let e = read_binary("{\"text\": \"x\", \"label\": 7}\n".as_bytes()).unwrap_err();
        assert!(e.to_string().contains("label"), "{e}");
    }
}
