//! Evaluation of detectors on labelled corpora (`rampart eval`).
//!
//! A corpus is JSONL, one `{"text": ..., "spans": [{"start", "end", "type"}]}` object per line, with offsets
//! in Unicode code points as Python counts them (see [`Corpus`]). [`evaluate`] runs a caller-supplied
//! detector over every text and scores its findings against the gold spans:
//!
//! - A prediction is **correct** when it overlaps a gold span of the same type; a gold span is **found** when
//!   at least one prediction of its type overlaps it. Overlap rather than exact match because detectors and
//!   annotators disagree on edges (a trailing full stop, `Dr.` before a name) that do not matter to whoever
//!   redacts the text.
//! - Per type: precision = correct predictions / predictions, recall = found gold spans / gold spans
//!   (`support`), F1 their harmonic mean; a ratio with nothing to divide by is 0. Overall is the
//!   micro-average: the same ratios over the sums of all types.
//! - Prediction labels are translated into the corpus's vocabulary (the gold types in the file, or
//!   [`EvalOptions::types`]) by an alias table ([`align`]). A prediction whose type has no counterpart in the
//!   corpus is counted under [`EvalReport::unmapped`] and in neither precision nor recall: the corpus says
//!   nothing about whether, say, a MAC address is there, so calling it wrong would penalise the detector for
//!   the corpus's scope, not its errors. Check the unmapped counts when comparing detectors.
//! - Identical predictions (same bytes, same aligned type) count once, since pipelines that scan several
//!   views of a text may report the same thing twice.

mod align;
pub mod binary;
mod corpus;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use rampart_core::{Finding, Span};
use serde::Serialize;

pub use align::{Aligner, Resolution};
pub use corpus::{Corpus, CorpusError, GoldSpan, Sample};

/// Knobs for [`evaluate`].
#[derive(Clone, Debug)]
pub struct EvalOptions {
    /// Score only these types. `None` uses every gold type seen in the corpus. Gold spans of other types
    /// are ignored, and predictions are aligned into this list.
    pub types: Option<Vec<String>>,
    /// How many missed gold spans and how many false positives to keep, first in corpus order, for
    /// debugging ([`EvalReport::examples`]); 0 keeps none.
    pub max_examples: usize,
}

impl Default for EvalOptions {
    fn default() -> EvalOptions {
        EvalOptions {
            types: None,
            max_examples: 20,
        }
    }
}

/// Precision, recall and F1 over all types.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Overall {
    /// Correct predictions / predictions.
    pub precision: f64,
    /// Found gold spans / gold spans.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Gold spans scored.
    pub support: usize,
    /// Predictions scored (aligned into the vocabulary, duplicates removed).
    pub predicted: usize,
}

/// Scores for one corpus type.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TypeScores {
    /// Correct predictions / predictions of this type.
    pub precision: f64,
    /// Found gold spans / gold spans of this type.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Gold spans of this type.
    pub support: usize,
    /// Predictions aligned to this type.
    pub predicted: usize,
    /// Predictions of this type that overlap a gold span of this type.
    pub correct: usize,
    /// Gold spans of this type overlapped by at least one prediction of this type.
    pub found: usize,
}

/// Whether an [`Example`] is a gold span nobody found or a prediction that matched no gold span.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExampleKind {
    /// A gold span no prediction of its type overlapped.
    Miss,
    /// A prediction that overlapped no gold span of its type.
    FalsePositive,
}

/// One error, kept for debugging.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Example {
    /// Miss or false positive.
    pub kind: ExampleKind,
    /// 1-based line in the corpus file.
    pub line: usize,
    /// Corpus type (for a false positive: the type the prediction was aligned to).
    pub entity: String,
    /// Character offsets in the text, as in the corpus.
    pub start: usize,
    /// End, exclusive, in characters.
    pub end: usize,
    /// The text covered.
    pub matched: String,
    /// Up to 40 characters either side, newlines shown as `⏎`.
    pub context: String,
    /// Rule that produced a false positive; `None` for misses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// The result of [`evaluate`]; its JSON form is what `rampart eval --format json` prints.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EvalReport {
    /// Micro-averaged scores.
    pub overall: Overall,
    /// Scores per corpus type, sorted by name.
    pub per_type: BTreeMap<String, TypeScores>,
    /// Texts scanned.
    pub n_texts: usize,
    /// Texts without gold spans (of the scored types).
    pub negative_texts: usize,
    /// Of those, texts where at least one scored prediction fired.
    pub flagged_negative_texts: usize,
    /// Predictions whose label has no counterpart in the corpus, by label; not scored.
    pub unmapped: BTreeMap<String, usize>,
    /// First misses and false positives, when asked for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<Example>,
}

/// Runs `predict` over every sample and scores its findings (byte spans into the sample text).
pub fn evaluate<F>(corpus: &Corpus, options: &EvalOptions, mut predict: F) -> EvalReport
where
    F: FnMut(&str) -> Vec<Finding>,
{
    let vocab: BTreeSet<String> = match &options.types {
        Some(types) => types.iter().cloned().collect(),
        None => corpus.types(),
    };
    let aligner = Aligner::new(vocab);
    let mut report = EvalReport {
        per_type: aligner
            .vocabulary()
            .iter()
            .map(|t| (t.clone(), TypeScores::default()))
            .collect(),
        ..EvalReport::default()
    };
    let mut misses = Vec::new();
    let mut false_positives = Vec::new();

    for sample in &corpus.samples {
        report.n_texts += 1;
        let gold: Vec<&GoldSpan> = sample
            .spans
            .iter()
            .filter(|g| aligner.vocabulary().contains(&g.entity))
            .collect();
        let findings = predict(&sample.text);

        let mut scored: Vec<(Span, &str, &Finding)> = Vec::with_capacity(findings.len());
        for f in &findings {
            let entity = match aligner.resolve(f) {
                Resolution::One(t) => t,
                Resolution::Several(candidates) => candidates
                    .iter()
                    .copied()
                    .find(|t| {
                        gold.iter()
                            .any(|g| g.entity == *t && g.span.overlaps(f.span))
                    })
                    .unwrap_or(candidates[0]),
                Resolution::Unmapped => {
                    *report.unmapped.entry(Aligner::label(f)).or_default() += 1;
                    continue;
                }
            };
            if !scored.iter().any(|(s, t, _)| *s == f.span && *t == entity) {
                scored.push((f.span, entity, f));
            }
        }

        if gold.is_empty() {
            report.negative_texts += 1;
            if !scored.is_empty() {
                report.flagged_negative_texts += 1;
            }
        }
        for &(span, entity, finding) in &scored {
            let correct = gold
                .iter()
                .any(|g| g.entity == entity && g.span.overlaps(span));
            if let Some(t) = report.per_type.get_mut(entity) {
                t.predicted += 1;
                t.correct += usize::from(correct);
            }
            if !correct && false_positives.len() < options.max_examples {
                false_positives.push(example(
                    ExampleKind::FalsePositive,
                    sample,
                    span,
                    entity,
                    Some(finding.rule.to_string()),
                ));
            }
        }
        for g in &gold {
            let found = scored
                .iter()
                .any(|(s, t, _)| *t == g.entity && s.overlaps(g.span));
            if let Some(t) = report.per_type.get_mut(&g.entity) {
                t.support += 1;
                t.found += usize::from(found);
            }
            if !found && misses.len() < options.max_examples {
                misses.push(example(ExampleKind::Miss, sample, g.span, &g.entity, None));
            }
        }
    }

    let (mut correct, mut found) = (0, 0);
    for t in report.per_type.values_mut() {
        t.precision = ratio(t.correct, t.predicted);
        t.recall = ratio(t.found, t.support);
        t.f1 = f1(t.precision, t.recall);
        correct += t.correct;
        found += t.found;
        report.overall.predicted += t.predicted;
        report.overall.support += t.support;
    }
    report.overall.precision = ratio(correct, report.overall.predicted);
    report.overall.recall = ratio(found, report.overall.support);
    report.overall.f1 = f1(report.overall.precision, report.overall.recall);
    report.examples = misses;
    report.examples.append(&mut false_positives);
    report
}

impl EvalReport {
    /// A table for people: one row per type sorted by name, then the overall row and the counts that the
    /// scores do not show (negatives flagged, unmapped predictions).
    pub fn render_text(&self) -> String {
        let width = self
            .per_type
            .keys()
            .map(|k| k.chars().count())
            .chain([7])
            .max()
            .unwrap_or(7);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<width$}  {:>9}  {:>6}  {:>6}  {:>7}  {:>9}",
            "TYPE", "PRECISION", "RECALL", "F1", "SUPPORT", "PREDICTED"
        );
        let row = |out: &mut String, name: &str, p: f64, r: f64, f: f64, s: usize, n: usize| {
            let _ = writeln!(
                out,
                "{name:<width$}  {p:>9.3}  {r:>6.3}  {f:>6.3}  {s:>7}  {n:>9}"
            );
        };
        for (name, t) in &self.per_type {
            row(
                &mut out,
                name,
                t.precision,
                t.recall,
                t.f1,
                t.support,
                t.predicted,
            );
        }
        let _ = writeln!(out, "{}", "-".repeat(width + 50));
        let o = &self.overall;
        row(
            &mut out,
            "overall",
            o.precision,
            o.recall,
            o.f1,
            o.support,
            o.predicted,
        );
        let _ = writeln!(
            out,
            "\n{} texts; {} without gold spans, of which {} had a prediction",
            self.n_texts, self.negative_texts, self.flagged_negative_texts
        );
        if !self.unmapped.is_empty() {
            let total: usize = self.unmapped.values().sum();
            let list: Vec<String> = self
                .unmapped
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            let _ = writeln!(
                out,
                "{total} predictions of types the corpus does not label (not scored): {}",
                list.join(", ")
            );
        }
        out
    }

    /// The kept misses and false positives, one per line, for `--verbose`.
    pub fn render_examples(&self) -> String {
        let mut out = String::new();
        for (kind, title) in [
            (ExampleKind::Miss, "missed gold spans"),
            (ExampleKind::FalsePositive, "false positives"),
        ] {
            let items: Vec<&Example> = self.examples.iter().filter(|e| e.kind == kind).collect();
            if items.is_empty() {
                continue;
            }
            let _ = writeln!(out, "{title} (first {}):", items.len());
            for e in items {
                let rule = e
                    .rule
                    .as_deref()
                    .map(|r| format!(" [{r}]"))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  line {} {}..{} {}{rule}: {:?} in “{}”",
                    e.line, e.start, e.end, e.entity, e.matched, e.context
                );
            }
        }
        out
    }
}

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

fn example(
    kind: ExampleKind,
    sample: &Sample,
    span: Span,
    entity: &str,
    rule: Option<String>,
) -> Example {
    let text = sample.text.as_str();
    // Predictions come from outside; clamp them onto char boundaries rather than trust them.
    let start = crate::util::floor_char_boundary(text, span.start);
    let end = crate::util::ceil_char_boundary(text, span.end.max(start));
    let (cs, ce) = Span { start, end }.char_range(text);
    let before: String = {
        let mut v: Vec<char> = text[..start].chars().rev().take(40).collect();
        v.reverse();
        v.into_iter().collect()
    };
    let after: String = text[end..].chars().take(40).collect();
    let context = format!("{before}[{}]{after}", &text[start..end]).replace(['\n', '\r'], "⏎");
    Example {
        kind,
        line: sample.line,
        entity: entity.to_owned(),
        start: cs,
        end: ce,
        matched: text[start..end].to_owned(),
        context,
        rule,
    }
}

#[cfg(test)]
mod tests;
