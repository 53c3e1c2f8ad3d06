//! End-to-end tests of `rampart bom` and `rampart bom check`: the real binary over the fixture project.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rampart"));
    c.env_remove("SOURCE_DATE_EPOCH");
    c
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture() -> PathBuf {
    repo().join("crates/rampart-supply/tests/fixtures/bom-project")
}

fn example_policy() -> PathBuf {
    repo().join("examples/bom-policy.toml")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn bom_writes_the_same_reproducible_document_to_a_file_and_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bom.json");
    let out = bin()
        .args(["bom", "--reproducible", "-o"])
        .arg(&file)
        .arg(fixture())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let written = std::fs::read(&file).unwrap();
    let out = bin()
        .args(["bom", "--reproducible"])
        .arg(fixture())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(out.stdout, written);
    let doc: serde_json::Value = serde_json::from_slice(&written).unwrap();
    assert_eq!(doc["bomFormat"], "CycloneDX");
    assert_eq!(doc["specVersion"], "1.6");
    assert!(doc["metadata"].get("timestamp").is_none());
    let models: Vec<&str> = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["type"] == "machine-learning-model")
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        models,
        ["legacy-classifier.pkl", "sentiment-mini", "tiny-llm.gguf"]
    );
}

#[test]
fn source_date_epoch_sets_the_timestamp() {
    let out = bin()
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .arg("bom")
        .arg(fixture())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
    let bad = bin()
        .env("SOURCE_DATE_EPOCH", "yesterday")
        .arg("bom")
        .arg(fixture())
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("SOURCE_DATE_EPOCH"),
        "{}",
        stderr(&bad)
    );
}

fn write_bom(dir: &Path) -> PathBuf {
    let file = dir.join("bom.json");
    let out = bin()
        .args(["bom", "--reproducible", "-o"])
        .arg(&file)
        .arg(fixture())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    file
}

#[test]
fn check_fails_the_fixture_under_the_example_policy() {
    let dir = tempfile::tempdir().unwrap();
    let bom = write_bom(dir.path());
    let out = bin()
        .args(["bom", "check", "--policy"])
        .arg(example_policy())
        .arg(&bom)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("[model.format-denied] format `pickle` can execute code when loaded"),
        "{text}"
    );
    assert!(text.lines().last().unwrap().contains("FAIL"), "{text}");

    let out = bin()
        .args(["bom", "check", "--format", "json", "--policy"])
        .arg(example_policy())
        .arg(&bom)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["passed"], false);
    assert_eq!(report["policy"], "production");
    assert_eq!(report["models"], 3);
    let rules: Vec<&str> = report["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"model.verdict-denied"), "{rules:?}");
}

#[test]
fn check_passes_under_a_permissive_policy_and_reads_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let bom = write_bom(dir.path());
    let policy = dir.path().join("ok.toml");
    std::fs::write(&policy, "[models]\ndenied_formats = [\"onnx\"]\n").unwrap();
    let out = bin()
        .args(["bom", "check", "--policy"])
        .arg(&policy)
        .arg(&bom)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(": pass ("));

    let out = bin()
        .args(["bom", "check", "--policy"])
        .arg(&policy)
        .arg("-")
        .stdin(std::fs::File::open(&bom).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("<stdin>: pass"));
}

#[test]
fn check_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bom = write_bom(dir.path());
    let bad_policy = dir.path().join("bad.toml");
    std::fs::write(&bad_policy, "[models]\ndeny_verdicts = [\"terrible\"]\n").unwrap();
    let out = bin()
        .args(["bom", "check", "--policy"])
        .arg(&bad_policy)
        .arg(&bom)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("terrible"), "{}", stderr(&out));

    let not_a_bom = dir.path().join("spdx.json");
    std::fs::write(&not_a_bom, r#"{"spdxVersion": "SPDX-2.3"}"#).unwrap();
    let out = bin()
        .args(["bom", "check", "--policy"])
        .arg(example_policy())
        .arg(&not_a_bom)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    let out = bin()
        .args(["bom", "check", "--policy"])
        .arg(example_policy())
        .arg(dir.path().join("missing.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = bin()
        .args(["bom"])
        .arg(dir.path().join("missing"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
