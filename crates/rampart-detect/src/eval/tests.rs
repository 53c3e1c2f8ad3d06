use std::borrow::Cow;

use rampart_core::{Category, Finding, Severity, Span};

use super::*;

fn finding(entity: Option<&str>, name: &str, category: Category, span: Span) -> Finding {
    Finding {
        scanner: Cow::Borrowed("test"),
        rule: Cow::Owned(format!("T-{name}")),
        name: Cow::Owned(name.to_owned()),
        entity: entity.map(|e| Cow::Owned(e.to_owned())),
        category,
        severity: Severity::Medium,
        score: 0.9,
        span,
        explanation: String::new(),
    }
}

/// A prediction of `entity` on the first occurrence of `needle` (byte offsets, as scanners report).
fn on(text: &str, needle: &str, entity: &str) -> Finding {
    let start = text.find(needle).expect("needle in text");
    let span = Span::new(start, start + needle.len());
    finding(Some(entity), &entity.to_lowercase(), Category::Pii, span)
}

fn line(text: &str, spans: &[(usize, usize, &str)]) -> String {
    let spans: Vec<serde_json::Value> = spans
        .iter()
        .map(|(s, e, t)| serde_json::json!({"start": s, "end": e, "type": t}))
        .collect();
    serde_json::json!({"text": text, "spans": spans}).to_string()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn gold_char_offsets_meet_finding_byte_offsets() {
    // 9 three-byte characters before the name: char offset 10 is byte 28. Read as bytes, the gold span would
    // sit inside the ideographs and miss the prediction.
    let text = "日本語日本語日本語 Bob called.";
    let corpus = Corpus::parse(&line(text, &[(10, 13, "PERSON")])).unwrap();
    let report = evaluate(&corpus, &EvalOptions::default(), |t| {
        vec![on(t, "Bob", "PERSON")]
    });
    let p = &report.per_type["PERSON"];
    assert_eq!((p.support, p.predicted, p.correct, p.found), (1, 1, 1, 1));
    assert!(close(report.overall.f1, 1.0));
}

#[test]
fn hand_computed_scores_with_overlapping_and_duplicate_predictions() {
    let t1 = "Maria Schneider wrote to maria@firma.de from Köln.";
    let t2 = "Nothing personal here, just Monday.";
    let t3 = "Call Jörg at +49 30 1234567 or jörg@x.de.";
    let jsonl = [
        line(
            t1,
            &[
                (0, 15, "PERSON"),
                (25, 39, "EMAIL_ADDRESS"),
                (45, 49, "LOCATION"),
            ],
        ),
        String::new(),
        line(t2, &[]),
        line(
            t3,
            &[
                (5, 9, "PERSON"),
                (13, 27, "PHONE_NUMBER"),
                (31, 40, "EMAIL_ADDRESS"),
            ],
        ),
    ]
    .join("\n");
    let corpus = Corpus::parse(&jsonl).unwrap();
    assert_eq!(corpus.gold_count(), 6);
    let report = evaluate(&corpus, &EvalOptions::default(), |t| {
        if t == t1 {
            vec![
                // Two partial predictions and a duplicated whole one over the same name.
                on(t, "Maria", "PERSON"),
                on(t, "Schneider", "PERSON"),
                on(t, "Maria Schneider", "PERSON"),
                on(t, "Maria Schneider", "PERSON"),
                on(t, "maria@firma.de", "EMAIL_ADDRESS"),
                // Right place, wrong type: neither correct nor a find for LOCATION.
                on(t, "Köln", "PERSON"),
            ]
        } else if t == t2 {
            vec![on(t, "Monday", "PERSON")]
        } else {
            vec![
                on(t, "+49 30 1234567", "PHONE_NUMBER"),
                on(t, "Jörg", "PERSON"),
            ]
        }
    });
    let per = &report.per_type;
    // PERSON: 3 distinct + Köln + Monday + Jörg = 6 predictions, 4 correct; both gold names found.
    assert_eq!((per["PERSON"].predicted, per["PERSON"].correct), (6, 4));
    assert_eq!((per["PERSON"].support, per["PERSON"].found), (2, 2));
    assert!(close(per["PERSON"].precision, 4.0 / 6.0));
    assert!(close(per["PERSON"].recall, 1.0));
    assert!(close(per["PERSON"].f1, 0.8));
    // EMAIL_ADDRESS: 1 of 1 prediction correct, 1 of 2 found.
    assert!(close(per["EMAIL_ADDRESS"].precision, 1.0));
    assert!(close(per["EMAIL_ADDRESS"].recall, 0.5));
    // LOCATION: nothing predicted, so precision is 0 by convention.
    assert_eq!(per["LOCATION"].predicted, 0);
    assert!(close(per["LOCATION"].precision, 0.0) && close(per["LOCATION"].f1, 0.0));
    // Micro: 6 correct of 8 predictions; 4 found of 6 gold spans.
    assert_eq!((report.overall.predicted, report.overall.support), (8, 6));
    assert!(close(report.overall.precision, 0.75));
    assert!(close(report.overall.recall, 4.0 / 6.0));
    assert!(close(
        report.overall.f1,
        2.0 * 0.75 * (4.0 / 6.0) / (0.75 + 4.0 / 6.0)
    ));
    assert_eq!(
        (
            report.n_texts,
            report.negative_texts,
            report.flagged_negative_texts
        ),
        (3, 1, 1)
    );

    let misses: Vec<&Example> = report
        .examples
        .iter()
        .filter(|e| e.kind == ExampleKind::Miss)
        .collect();
    assert_eq!(misses.len(), 2);
    assert_eq!(
        (
            misses[0].line,
            misses[0].entity.as_str(),
            misses[0].matched.as_str()
        ),
        (1, "LOCATION", "Köln")
    );
    assert_eq!((misses[0].start, misses[0].end), (45, 49));
    assert_eq!(misses[1].line, 4);
    assert_eq!(misses[1].matched, "jörg@x.de");
    let fps: Vec<&Example> = report
        .examples
        .iter()
        .filter(|e| e.kind == ExampleKind::FalsePositive)
        .collect();
    assert_eq!(fps.len(), 2);
    assert_eq!(fps[0].matched, "Köln");
    assert_eq!(fps[0].rule.as_deref(), Some("T-person"));
    assert!(
        fps[1].context.contains("just [Monday]."),
        "{}",
        fps[1].context
    );
}

#[test]
fn predictions_are_aligned_into_the_corpus_vocabulary() {
    let text = "PER Ann Lee, EMAIL ann@lee.io, SSN 123-45-6789";
    let corpus = Corpus::parse(&line(text, &[(4, 11, "PER"), (19, 29, "EMAIL")])).unwrap();
    let report = evaluate(&corpus, &EvalOptions::default(), |t| {
        vec![
            on(t, "Ann Lee", "PERSON"),
            on(t, "ann@lee.io", "EMAIL_ADDRESS"),
            on(t, "123-45-6789", "US_SSN"),
            on(t, "123-45-6789", "US_SSN"),
        ]
    });
    assert_eq!(report.per_type.keys().collect::<Vec<_>>(), ["EMAIL", "PER"]);
    assert!(close(report.overall.precision, 1.0) && close(report.overall.recall, 1.0));
    // Unmapped predictions are counted (every one, before de-duplication) but never scored.
    assert_eq!(report.unmapped.get("US_SSN"), Some(&2));
    assert_eq!(report.overall.predicted, 2);
}

#[test]
fn secret_labels_resolve_by_family_and_by_overlap() {
    let text = "token=ghp_abc password=hunter2hunter2";
    let corpus = Corpus::parse(&line(text, &[(6, 13, "API_KEY"), (23, 37, "PASSWORD")])).unwrap();
    let report = evaluate(&corpus, &EvalOptions::default(), |t| {
        let at = |needle: &str| {
            let s = t.find(needle).unwrap();
            Span::new(s, s + needle.len())
        };
        vec![
            // Provider rule without an entity: the family is inferred (provider tokens are API keys).
            finding(None, "github-pat", Category::Secret, at("ghp_abc")),
            // A generic label fits both corpus types and is scored as the one it overlaps.
            finding(
                Some("SECRET"),
                "generic-secret",
                Category::Secret,
                at("hunter2hunter2"),
            ),
        ]
    });
    assert_eq!(report.per_type["API_KEY"].correct, 1);
    assert_eq!(report.per_type["PASSWORD"].correct, 1);
    assert!(report.unmapped.is_empty());
    assert!(close(report.overall.f1, 1.0));
}

#[test]
fn explicit_types_restrict_the_scored_vocabulary() {
    let text = "Ann Lee lives in Rome.";
    let corpus = Corpus::parse(&line(text, &[(0, 7, "PERSON"), (17, 21, "LOCATION")])).unwrap();
    let options = EvalOptions {
        types: Some(vec!["LOCATION".to_owned()]),
        max_examples: 0,
    };
    let report = evaluate(&corpus, &options, |t| vec![on(t, "Ann Lee", "PERSON")]);
    assert_eq!(report.per_type.len(), 1);
    assert_eq!(report.per_type["LOCATION"].support, 1);
    assert!(close(report.overall.recall, 0.0));
    assert_eq!(report.unmapped.get("PERSON"), Some(&1));
    assert!(report.examples.is_empty(), "max_examples 0 keeps none");
}

#[test]
fn out_of_bounds_predictions_do_not_panic() {
    let text = "é";
    let corpus = Corpus::parse(&line(text, &[(0, 1, "PERSON")])).unwrap();
    let report = evaluate(&corpus, &EvalOptions::default(), |_| {
        vec![finding(
            Some("PERSON"),
            "p",
            Category::Pii,
            Span::new(1, 99),
        )]
    });
    assert_eq!(report.per_type["PERSON"].correct, 1);
    let report = evaluate(&corpus, &EvalOptions::default(), |_| {
        vec![finding(
            Some("PERSON"),
            "p",
            Category::Pii,
            Span::new(50, 99),
        )]
    });
    assert_eq!(report.examples.len(), 2);
    assert_eq!(report.examples[1].matched, "");
}

#[test]
fn json_has_the_documented_shape() {
    let text = "Ann Lee";
    let corpus = Corpus::parse(&line(text, &[(0, 7, "PERSON")])).unwrap();
    let report = evaluate(&corpus, &EvalOptions::default(), |t| {
        vec![on(t, "Ann", "PERSON")]
    });
    let v = serde_json::to_value(&report).unwrap();
    for key in ["precision", "recall", "f1"] {
        assert!(v["overall"][key].is_f64(), "overall.{key}");
        assert!(
            v["per_type"]["PERSON"][key].is_f64(),
            "per_type.PERSON.{key}"
        );
    }
    assert_eq!(v["per_type"]["PERSON"]["support"], 1);
    assert_eq!(v["n_texts"], 1);
    assert!(v.get("examples").is_none(), "no errors, no examples key");
}

#[test]
fn text_table_is_aligned_and_sorted() {
    let text = "Ann Lee, ann@lee.io";
    let corpus = Corpus::parse(&line(text, &[(0, 7, "PERSON"), (9, 19, "EMAIL_ADDRESS")])).unwrap();
    let report = evaluate(&corpus, &EvalOptions::default(), |t| {
        vec![on(t, "Ann Lee", "PERSON"), on(t, "Lee", "IBAN_CODE")]
    });
    let table = report.render_text();
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("TYPE "));
    assert!(lines[1].starts_with("EMAIL_ADDRESS "));
    assert!(lines[2].starts_with("PERSON "));
    assert!(lines[4].starts_with("overall "));
    let header_len = lines[0].len();
    for l in [lines[1], lines[2], lines[4]] {
        assert_eq!(l.len(), header_len, "{l:?}");
    }
    assert!(lines[2].contains("1.000   1.000   1.000"), "{}", lines[2]);
    assert!(
        table
            .contains("1 predictions of types the corpus does not label (not scored): IBAN_CODE 1")
    );
    let verbose = report.render_examples();
    assert!(
        verbose.starts_with("missed gold spans (first 1):\n  line 1 9..19 EMAIL_ADDRESS"),
        "{verbose}"
    );
}

/// The shipped development corpora parse, carry the documented vocabularies, and score perfectly against
/// their own gold spans (which proves the code-point offsets written by the generator land on the right
/// bytes here).
#[test]
fn shipped_corpora_parse_and_round_trip() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpora");
    for (file, n_types, n_texts) in [("pii-dev.jsonl", 30, 1500), ("secrets-dev.jsonl", 5, 800)] {
        let corpus = Corpus::load(&root.join(file)).unwrap();
        assert_eq!(corpus.samples.len(), n_texts, "{file}");
        assert_eq!(corpus.types().len(), n_types, "{file}");
        let negatives = corpus.samples.iter().filter(|s| s.spans.is_empty()).count();
        assert!(
            negatives * 10 >= n_texts * 2 && negatives * 10 <= n_texts * 4,
            "{file}: {negatives}"
        );
        let oracle = |text: &str| {
            let sample = corpus.samples.iter().find(|s| s.text == text).unwrap();
            sample
                .spans
                .iter()
                .map(|g| finding(Some(&g.entity), "oracle", Category::Pii, g.span))
                .collect()
        };
        let report = evaluate(&corpus, &EvalOptions::default(), oracle);
        assert!(close(report.overall.f1, 1.0), "{file}");
        assert_eq!(report.flagged_negative_texts, 0);
        for s in &corpus.samples {
            for g in &s.spans {
                assert!(
                    s.text.is_char_boundary(g.span.start) && s.text.is_char_boundary(g.span.end)
                );
                assert_eq!(
                    s.text[g.span.start..g.span.end].trim(),
                    &s.text[g.span.start..g.span.end]
                );
            }
        }
    }
}
