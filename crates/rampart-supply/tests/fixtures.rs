//! Every fixture under `tests/fixtures/` (written by `scripts/gen_model_fixtures.py`) is scanned and
//! checked against `tests/fixtures/expected.toml`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rampart_core::Severity;
use rampart_supply::{ScanOptions, Verdict, scan_bytes, scan_path};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    fixture: Vec<Expected>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    path: String,
    format: String,
    verdict: String,
    #[serde(default)]
    rules: Vec<String>,
    #[serde(default)]
    imports: Vec<String>,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn manifest() -> Manifest {
    let text = std::fs::read_to_string(dir().join("expected.toml")).expect("expected.toml");
    toml::from_str(&text).expect("expected.toml parses")
}

fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Safe => "safe",
        Verdict::Suspicious => "suspicious",
        Verdict::Dangerous => "dangerous",
        Verdict::Error => "error",
    }
}

#[test]
fn every_fixture_gets_its_expected_verdict_rules_and_imports() {
    let opts = ScanOptions::default();
    let mut failures = Vec::new();
    for e in manifest().fixture {
        let report = scan_path(&dir().join(&e.path), &opts);
        let rules: BTreeSet<&str> = report.findings.iter().map(|f| f.rule).collect();
        let imports: BTreeSet<&str> = report
            .findings
            .iter()
            .filter_map(|f| f.import.as_deref())
            .collect();
        let mut problems = Vec::new();
        if report.format.name() != e.format {
            problems.push(format!(
                "format {} (expected {})",
                report.format.name(),
                e.format
            ));
        }
        if verdict_name(report.verdict) != e.verdict {
            problems.push(format!(
                "verdict {} (expected {})",
                verdict_name(report.verdict),
                e.verdict
            ));
        }
        for r in &e.rules {
            if !rules.contains(r.as_str()) {
                problems.push(format!("missing rule {r}"));
            }
        }
        for i in &e.imports {
            if !imports.contains(i.as_str()) {
                problems.push(format!("missing import {i}"));
            }
        }
        if e.verdict == "safe" {
            for f in report
                .findings
                .iter()
                .filter(|f| f.severity > Severity::Info)
            {
                problems.push(format!("unexpected finding {} {}", f.rule, f.explanation));
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{}: {}\n  findings: {:#?}",
                e.path,
                problems.join("; "),
                report.findings
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_fixture_file_is_in_the_manifest() {
    let listed: BTreeSet<String> = manifest().fixture.into_iter().map(|e| e.path).collect();
    let mut on_disk = BTreeSet::new();
    for sub in ["benign", "malicious"] {
        for entry in std::fs::read_dir(dir().join(sub)).expect("fixture folder") {
            let name = entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            on_disk.insert(format!("{sub}/{name}"));
        }
    }
    let missing: Vec<_> = on_disk.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&on_disk).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "unlisted: {missing:?}; listed but absent: {stale:?}"
    );
}

/// A truncated or corrupted file must give a report, never a panic, and offsets must stay inside the
/// data they point into.
#[test]
fn every_prefix_and_single_byte_corruption_of_every_fixture_is_handled() {
    let opts = ScanOptions::default();
    for e in manifest().fixture {
        let data = std::fs::read(dir().join(&e.path)).expect("fixture");
        if data.len() > 4096 {
            continue;
        }
        for cut in 0..data.len() {
            let r = scan_bytes(&e.path, &data[..cut], &opts);
            assert_ne!(
                r.verdict,
                Verdict::Error,
                "{} cut at {cut}: {:?}",
                e.path,
                r.error
            );
            for f in r.findings.iter().filter(|f| f.member.is_none()) {
                assert!(
                    f.offset <= cut as u64,
                    "{} cut at {cut}: offset {} past the end",
                    e.path,
                    f.offset
                );
            }
        }
        for at in 0..data.len() {
            let mut bad = data.clone();
            bad[at] ^= 0x5a;
            let r = scan_bytes(&e.path, &bad, &opts);
            assert_ne!(
                r.verdict,
                Verdict::Error,
                "{} corrupted at {at}: {:?}",
                e.path,
                r.error
            );
        }
    }
}
