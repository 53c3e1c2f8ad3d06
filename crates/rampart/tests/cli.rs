//! End-to-end tests of the `rampart` binary: real process, real files, output checked and snapshotted.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rampart"));
    c.env_remove("RAMPART_POLICY")
        .env_remove("RAMPART_VAULT_KEY");
    c
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The finding whose entity (or rule name) is `what`, with the text it covers.
fn covered<'a>(report: &'a serde_json::Value, text: &'a str, what: &str) -> Vec<&'a str> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["entity"] == what || f["name"] == what)
        .map(|f| &text[f["start"].as_u64().unwrap() as usize..f["end"].as_u64().unwrap() as usize])
        .collect()
}

fn examples() -> PathBuf {
    repo().join("examples")
}

#[test]
fn scan_finds_and_locates_pii_in_the_support_ticket() {
    let path = examples().join("support-ticket.txt");
    let text = std::fs::read_to_string(&path).unwrap();
    let out = bin()
        .args(["scan", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reports = json_lines(&out);
    assert_eq!(reports.len(), 1);
    let r = &reports[0];
    assert_eq!(r["action"], "redact");
    assert_eq!(covered(r, &text, "CREDIT_CARD"), ["4666 1760 3137 2159"]);
    assert_eq!(
        covered(r, &text, "IBAN_CODE"),
        ["DE35 3704 0044 0532 0130 99"]
    );
    assert_eq!(
        covered(r, &text, "EMAIL_ADDRESS"),
        ["hannah.lindqvist@example.org"]
    );
    assert_eq!(covered(r, &text, "PHONE_NUMBER"), ["+49 30 901820 42"]);
    assert_eq!(covered(r, &text, "DATE_TIME"), ["14.03.1987"]);
    assert!(
        covered(r, &text, "PERSON").contains(&"Hannah Lindqvist"),
        "{r:#}"
    );
    for f in r["findings"].as_array().unwrap() {
        assert_eq!(f["category"], "LLM02:2025 Sensitive Information Disclosure");
        assert!(!f["explanation"].as_str().unwrap().is_empty());
        // The excerpt never shows a whole card number or IBAN.
        assert!(!f["excerpt"].as_str().unwrap().contains("3137 2159"));
        let (cs, ce) = (
            f["char_start"].as_u64().unwrap() as usize,
            f["char_end"].as_u64().unwrap() as usize,
        );
        let by_chars: String = text.chars().skip(cs).take(ce - cs).collect();
        let by_bytes =
            &text[f["start"].as_u64().unwrap() as usize..f["end"].as_u64().unwrap() as usize];
        assert_eq!(by_chars, by_bytes);
    }
}

#[test]
fn scan_blocks_secrets_and_ignores_placeholders() {
    let path = examples().join("deploy.env");
    let text = std::fs::read_to_string(&path).unwrap();
    let out = bin()
        .args(["scan", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let r = &json_lines(&out)[0];
    assert_eq!(r["action"], "block");
    let secrets: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["scanner"] == "secrets")
        .map(|f| &text[f["start"].as_u64().unwrap() as usize..f["end"].as_u64().unwrap() as usize])
        .collect();
    assert!(
        secrets
            .iter()
            .any(|s| s.contains("sk_live_51NzQ8cKp3Lw9XeTm2RvB7yHdJ4sUa6FgQ0oPiZ")),
        "{secrets:?}"
    );
    assert!(
        secrets.iter().any(|s| s.contains("AKIA4NVX7QW2LM5RT8PZ")),
        "{secrets:?}"
    );
    assert!(
        secrets
            .iter()
            .any(|s| s.contains("q7Vh2Ld9XkR4mT1pW8sZ3nB6yC0fJ5gE2uA9iO7")),
        "{secrets:?}"
    );
    assert!(
        secrets.iter().any(|s| s.contains("Xk9#vQ2!mR7")),
        "{secrets:?}"
    );
    assert!(
        !secrets.iter().any(|s| s.contains("OPENAI_API_KEY")),
        "{secrets:?}"
    );
}

#[test]
fn scan_reports_smuggled_tag_characters_and_lookalike_domains() {
    let out = bin()
        .args(["scan", "--format", "json"])
        .arg(examples().join("hidden-instructions.txt"))
        .output()
        .unwrap();
    let r = &json_lines(&out)[0];
    assert_eq!(r["action"], "block");
    let findings = r["findings"].as_array().unwrap();
    let tags = findings
        .iter()
        .find(|f| f["scanner"] == "hidden-unicode" && f["severity"] != "medium")
        .unwrap();
    assert!(
        tags["explanation"]
            .as_str()
            .unwrap()
            .contains("Ignore all previous"),
        "{tags:#}"
    );
    assert!(findings.iter().any(|f| {
        f["explanation"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("cyrillic")
    }));
}

#[test]
fn clean_text_exits_zero_with_no_findings() {
    let out = bin()
        .args(["scan", "--format", "json"])
        .arg(examples().join("clean-prompt.txt"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json_lines(&out)[0]["findings"].as_array().unwrap().len(), 0);
}

#[test]
fn text_output_of_the_examples_folder() {
    let out = bin()
        .current_dir(repo())
        .args(["scan", "examples"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

#[test]
fn json_output_of_the_examples_folder() {
    let out = bin()
        .current_dir(repo())
        .args(["scan", "--format", "json", "examples"])
        .output()
        .unwrap();
    let reports: Vec<serde_json::Value> = json_lines(&out);
    insta::assert_json_snapshot!(reports);
}

#[test]
fn sarif_output_has_rules_and_located_results() {
    let out = bin()
        .current_dir(repo())
        .args(["scan", "--format", "sarif", "examples"])
        .output()
        .unwrap();
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.len() > 150);
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().unwrap() >= 1);
        assert!(region["byteLength"].as_u64().unwrap() >= 1);
    }
}

#[test]
fn invalid_utf8_is_reported_with_its_offset_and_still_scanned() {
    let mut input = b"contact: ".to_vec();
    input.push(0xC3); // truncated sequence
    input.extend_from_slice(b" jane.roe@example.com\n");
    let out = run_stdin(&["scan", "--format", "json", "-"], &input);
    let r = &json_lines(&out)[0];
    assert!(
        r["notes"][0].as_str().unwrap().contains("byte offset(s) 9"),
        "{r:#}"
    );
    let email = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["entity"] == "EMAIL_ADDRESS")
        .unwrap();
    assert_eq!(email["start"], 11);
    assert_eq!(email["end"], 11 + "jane.roe@example.com".len());
}

#[test]
fn binary_files_are_skipped_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blob.bin");
    std::fs::write(&path, b"\x7fELF\x00\x00\x00 AKIA4NVX7QW2LM5RT8PZ").unwrap();
    let out = bin()
        .args(["scan", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let r = &json_lines(&out)[0];
    assert_eq!(r["skipped"], true);
    assert!(r["notes"][0].as_str().unwrap().contains("binary"));
}

#[test]
fn a_secret_straddling_the_chunk_boundary_is_found_once_at_the_right_offset() {
    // Inputs are read in 1 MiB chunks; put the token across the first boundary.
    let token = "ghp_";
    let mut text = "lorem ipsum dolor sit amet, consectetur adipiscing elit.\n".repeat(20_000);
    let at = (1 << 20) - 10;
    let secret = format!("{token}{}", "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8");
    text.insert_str(at, &format!(" token={secret} "));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.txt");
    std::fs::write(&path, &text).unwrap();
    let out = bin()
        .args(["scan", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    let r = &json_lines(&out)[0];
    let hits: Vec<_> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            let (s, e) = (
                f["start"].as_u64().unwrap() as usize,
                f["end"].as_u64().unwrap() as usize,
            );
            text[s..e].contains("A1b2C3d4")
        })
        .collect();
    assert_eq!(hits.len(), 1, "{hits:#?}");
    assert_eq!(
        hits[0]["start"].as_u64().unwrap() as usize,
        at + " token=".len()
    );
    assert_eq!(
        hits[0]["line"].as_u64().unwrap() as usize,
        text[..at].matches('\n').count() + 1
    );
}

#[test]
fn redact_then_restore_round_trips_through_the_vault() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("session.vault");
    let original = std::fs::read_to_string(examples().join("support-ticket.txt")).unwrap();
    let key = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
    let red = bin()
        .env("RAMPART_VAULT_KEY", key)
        .args(["redact", "--vault"])
        .arg(&vault)
        .arg(examples().join("support-ticket.txt"))
        .output()
        .unwrap();
    assert!(
        red.status.success(),
        "{}",
        String::from_utf8_lossy(&red.stderr)
    );
    let redacted = String::from_utf8(red.stdout).unwrap();
    assert!(!redacted.contains("hannah.lindqvist@example.org"));
    assert!(!redacted.contains("4666 1760 3137 2159"));
    assert!(redacted.contains("<EMAIL_ADDRESS_1>"), "{redacted}");
    assert!(redacted.contains("<CREDIT_CARD_1>"), "{redacted}");
    // A model answer that quotes some placeholders is restored too.
    let answer = format!("{redacted}\nI will refund <CREDIT_CARD_1> and email <EMAIL_ADDRESS_1>.");
    let mut cmd = bin();
    cmd.env("RAMPART_VAULT_KEY", key)
        .args(["restore", "--vault"])
        .arg(&vault);
    let restored = {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(answer.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    let restored = String::from_utf8(restored.stdout).unwrap();
    assert!(restored.starts_with(&original), "{restored}");
    assert!(
        restored
            .ends_with("I will refund 4666 1760 3137 2159 and email hannah.lindqvist@example.org.")
    );
    // The wrong key does not open the vault.
    let wrong = bin()
        .env("RAMPART_VAULT_KEY", "ff".repeat(32))
        .args(["restore", "--vault"])
        .arg(&vault)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(2));
}

#[test]
fn errors_exit_two_with_a_clear_message() {
    let out = bin()
        .args(["scan", "/nonexistent/file.txt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/file.txt"));
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.toml");
    std::fs::write(&policy, "threshhold = 0.4\n").unwrap();
    let out = bin()
        .args(["scan", "--policy"])
        .arg(&policy)
        .arg("-")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("threshhold"));
}

#[test]
fn policy_init_output_is_a_valid_policy() {
    let out = bin().args(["policy", "init"]).output().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.toml");
    std::fs::write(&path, &out.stdout).unwrap();
    let check = bin().args(["policy", "check"]).arg(&path).output().unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}
