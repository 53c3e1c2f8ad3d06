//! Runs every fixture under tests/fixtures/formats/ through its format's scan and compares the verdict and
//! the set of rules with `expected.json`, which `scripts/gen_format_fixtures.py` writes beside the files.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{gguf, hdf5, keras, onnx, safetensors, savedmodel};
use crate::report::{FileReport, Format, Verdict};

#[derive(Deserialize)]
struct Manifest {
    fixtures: Vec<Expected>,
}

#[derive(Deserialize)]
struct Expected {
    file: String,
    format: String,
    verdict: String,
    rules: Vec<String>,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats")
}

fn scan(path: &Path, format: &str) -> FileReport {
    let data = std::fs::read(path).unwrap();
    let mut findings = Vec::new();
    let format = match format {
        "keras" => {
            keras::scan_config(&data, &mut findings);
            Format::Keras
        }
        "hdf5" => {
            assert!(hdf5::sniff(&data));
            hdf5::scan(&data, &mut findings);
            Format::Hdf5
        }
        "saved-model" => {
            assert!(savedmodel::sniff(&data) && !onnx::sniff(&data));
            savedmodel::scan(&data, &mut findings);
            Format::SavedModel
        }
        "onnx" => {
            assert!(onnx::sniff(&data) && !savedmodel::sniff(&data));
            onnx::scan(&data, path.parent(), &mut findings);
            Format::Onnx
        }
        "gguf" => {
            gguf::scan(&data, &mut findings);
            Format::Gguf
        }
        "safetensors" => {
            safetensors::scan(&data, &mut findings);
            Format::Safetensors
        }
        other => panic!("unknown fixture format {other}"),
    };
    let mut report = FileReport {
        path: path.display().to_string(),
        format,
        verdict: Verdict::Safe,
        findings,
        bytes: data.len() as u64,
        error: None,
    };
    report.recompute_verdict();
    report
}

#[test]
fn fixtures_reach_their_expected_verdicts() {
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(root().join("expected.json")).unwrap()).unwrap();
    assert!(
        manifest.fixtures.len() >= 30,
        "expected.json lists too few fixtures"
    );
    let mut failures = Vec::new();
    for want in &manifest.fixtures {
        let report = scan(&root().join(&want.file), &want.format);
        let verdict = serde_json::to_value(report.verdict).unwrap();
        let rules: BTreeSet<&str> = report.findings.iter().map(|f| f.rule).collect();
        let want_rules: BTreeSet<&str> = want.rules.iter().map(String::as_str).collect();
        if verdict != want.verdict.as_str() || rules != want_rules {
            failures.push(format!(
                "{}: got {verdict} {rules:?}, want {} {want_rules:?}\n{:#?}",
                want.file, want.verdict, report.findings
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_fixture_has_benign_and_malicious_variants() {
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(root().join("expected.json")).unwrap()).unwrap();
    for format in [
        "keras",
        "hdf5",
        "saved-model",
        "onnx",
        "gguf",
        "safetensors",
    ] {
        let verdicts: BTreeSet<&str> = manifest
            .fixtures
            .iter()
            .filter(|f| f.format == format)
            .map(|f| f.verdict.as_str())
            .collect();
        assert!(
            verdicts.contains("safe") && verdicts.len() > 1,
            "{format}: {verdicts:?}"
        );
    }
}

#[test]
fn metadata_of_the_benign_fixtures() {
    let gguf = std::fs::read(root().join("gguf/llama3_style.gguf")).unwrap();
    let info = gguf::metadata(&gguf).unwrap();
    assert_eq!(info.architecture.as_deref(), Some("llama"));
    assert_eq!(info.name.as_deref(), Some("Rampart Tiny Fixture"));
    assert_eq!(info.context_length, Some(8192));
    assert_eq!(info.file_type_name, Some("Q4_K_M"));
    assert_eq!(info.parameter_count, 256 * 6 + 256 + 256 * 256);
    let st = std::fs::read(root().join("safetensors/benign.safetensors")).unwrap();
    let info = safetensors::metadata(&st).unwrap();
    assert_eq!((info.tensor_count, info.parameter_count), (3, 24));
    assert_eq!(
        info.metadata.get("source").map(String::as_str),
        Some("rampart fixtures")
    );
}
