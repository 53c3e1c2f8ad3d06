//! End-to-end tests of `rampart model scan` on the model-scan fixtures: exit codes, the JSON shape, SARIF,
//! and the text report (snapshotted).
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rampart-supply/tests/fixtures")
}

fn run(args: &[&str]) -> Output {
    bin().current_dir(fixtures()).args(args).output().unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn dangerous_files_exit_1_and_json_has_the_documented_shape() {
    let out = run(&[
        "model",
        "scan",
        "--format",
        "json",
        "malicious/os_system_reduce.pkl",
        "benign/floats.npy",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    let evil = &files[0];
    assert_eq!(evil["path"], "malicious/os_system_reduce.pkl");
    assert_eq!(evil["format"], "pickle");
    assert_eq!(evil["verdict"], "dangerous");
    let f = &evil["findings"][0];
    assert_eq!(f["rule"], "pickle.dangerous-call");
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["offset"], 35);
    assert_eq!(f["import"], "os.system");
    assert!(
        f["explanation"]
            .as_str()
            .unwrap()
            .contains("os.system('echo pwned')")
    );
    assert_eq!(files[1]["verdict"], "safe");
    assert_eq!(files[1]["findings"].as_array().unwrap().len(), 0);
}

#[test]
fn clean_files_exit_0_and_unreadable_ones_exit_2() {
    let out = run(&["model", "scan", "benign"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = run(&[
        "model",
        "scan",
        "--format",
        "json",
        "benign/floats.npy",
        "no-such-file.pt",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let v = json(&out);
    assert_eq!(v["files"][1]["verdict"], "error");
    assert!(v["files"][1]["error"].as_str().is_some());
    // Dangerous beats unreadable: a gate must still block the payload.
    let out = run(&[
        "model",
        "scan",
        "malicious/inst_form.pkl",
        "no-such-file.pt",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let out = run(&["model", "scan"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a missing path argument is a usage error"
    );
}

#[test]
fn directories_are_walked_in_order_with_every_file_reported() {
    let out = run(&["model", "scan", "--format", "json", "-j", "2", "malicious"]);
    let v = json(&out);
    let paths: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    let mut sorted = paths.clone();
    sorted.sort_unstable();
    assert_eq!(paths, sorted);
    assert_eq!(
        paths.len(),
        std::fs::read_dir(fixtures().join("malicious"))
            .unwrap()
            .count()
    );
}

#[test]
fn stdin_is_scanned_as_one_file() {
    use std::io::Write;
    let data = std::fs::read(fixtures().join("malicious/torch_zip_malicious.pt")).unwrap();
    let mut child = bin()
        .args(["model", "scan", "--format", "json", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&data).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["files"][0]["format"], "pytorch-zip");
    assert_eq!(v["files"][0]["findings"][0]["member"], "archive/data.pkl");
}

#[test]
fn sarif_output_is_a_valid_log_with_rules_and_results() {
    let out = run(&[
        "model",
        "scan",
        "--format",
        "sarif",
        "malicious/torch_zip_malicious.pt",
        "missing.pkl",
    ]);
    let log: serde_sarif::sarif::Sarif = serde_json::from_slice(&out.stdout).unwrap();
    let run = &log.runs[0];
    let rules = run.tool.driver.rules.as_ref().unwrap();
    assert!(rules.iter().any(|r| r.id == "pickle.dangerous-call"));
    let results = run.results.as_ref().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].rule_id.as_deref(), Some("pickle.dangerous-call"));
    let props = &results[0]
        .properties
        .as_ref()
        .unwrap()
        .additional_properties;
    assert_eq!(props["member"], "archive/data.pkl");
    assert_eq!(props["import"], "posix.system");
    let notes = run.invocations.as_ref().unwrap()[0]
        .tool_execution_notifications
        .as_ref()
        .unwrap();
    assert_eq!(notes.len(), 1, "the missing file is a notification");
}

#[test]
fn text_report_of_the_malicious_fixtures() {
    let out = run(&["model", "scan", "malicious"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}
