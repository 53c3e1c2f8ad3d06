//! `rampart keys` and `rampart audit` as real processes against a real data directory.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use std::path::Path;
use std::process::{Command, Output};

use rampart_gateway::KeyStore;
use rampart_gateway::audit::{AuditConfig, AuditFinding, AuditLog, AuditRecord};

fn rampart(args: &[&str], data_dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("RAMPART_AUDIT_POSTGRES_URL")
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn keys_create_list_revoke() {
    let dir = tempfile::tempdir().unwrap();
    let out = rampart(
        &[
            "keys",
            "create",
            "--role",
            "dev",
            "--name",
            "ci-bot",
            "--expires",
            "30d",
            "--format",
            "json",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{out:?}");
    let created = &json_lines(&out)[0];
    let key = created["key"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(key.starts_with(&format!("rk-{id}_")), "{key}");
    assert_eq!(created["role"], "dev");
    assert_eq!(
        created["expires_at"].as_i64().unwrap() - created["created_at"].as_i64().unwrap(),
        30 * 86_400
    );

    // This process plays the gateway: its own handle, cache warm.
    let gateway = KeyStore::open(dir.path()).unwrap();
    assert_eq!(gateway.verify(&key).unwrap().unwrap().id, id);

    let out = rampart(&["keys", "list", "--format", "json"], dir.path());
    assert!(out.status.success(), "{out:?}");
    let listed = json_lines(&out);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["status"], "active");
    assert!(listed[0].get("key").is_none(), "list never shows a key");
    assert!(!stdout(&out).contains(&key));

    let out = rampart(&["keys", "list"], dir.path());
    let text = stdout(&out);
    assert!(text.starts_with("ID"), "{text}");
    assert!(text.contains(&id) && text.contains("ci-bot") && text.contains("active"));

    let out = rampart(&["keys", "revoke", &id], dir.path());
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out).trim(), format!("revoked {id}"));
    // Revoked from another process: the gateway's very next check refuses the key.
    assert_eq!(gateway.verify(&key).unwrap(), None);

    let out = rampart(&["keys", "list", "--format", "json"], dir.path());
    assert_eq!(json_lines(&out)[0]["status"], "revoked");
    let out = rampart(&["keys", "revoke", &id], dir.path());
    assert!(out.status.success());
    assert!(stdout(&out).contains("already revoked"));
    let out = rampart(&["keys", "revoke", "nosuchid"], dir.path());
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn keys_create_refuses_bad_input_and_unknown_roles() {
    let dir = tempfile::tempdir().unwrap();
    let out = rampart(
        &["keys", "create", "--role", "dev", "--expires", "soon"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid duration"));
    let config = dir.path().join("rampart.toml");
    std::fs::write(&config, "[roles.dev]\n[roles.ops]\n").unwrap();
    let out = rampart(
        &[
            "keys",
            "create",
            "--role",
            "intern",
            "--config",
            config.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not defined in the config"));
    assert!(
        KeyStore::open(dir.path())
            .unwrap()
            .list()
            .unwrap()
            .is_empty()
    );
}

fn record(i: u64) -> AuditRecord {
    let blocked = i.is_multiple_of(4);
    AuditRecord {
        ts_ms: 1_700_000_000_000 + i64::try_from(i).unwrap() * 60_000,
        request_id: format!("req-{i}"),
        key_id: Some("ab12cd34".into()),
        role: Some("dev".into()),
        endpoint: "/v1/chat/completions".into(),
        model: Some("gpt-4o".into()),
        action: if blocked { "block" } else { "allow" }.into(),
        status: if blocked { 403 } else { 200 },
        findings: if blocked {
            vec![AuditFinding {
                direction: "input".into(),
                scanner: "secrets".into(),
                rule: "secrets.aws-access-key".into(),
                category: "LLM02".into(),
                severity: "high".into(),
                score: 0.99,
                start: 3,
                end: 23,
                location: None,
            }]
        } else {
            Vec::new()
        },
        latency_ms: 8.5,
        ..AuditRecord::default()
    }
}

/// Writes `n` records the way the gateway does, and waits until they are durable.
fn write_log(cfg: &AuditConfig, dir: &Path, n: u64) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let log = AuditLog::open(cfg, dir).await.unwrap();
        for i in 1..=n {
            log.append(record(i));
        }
        log.flush().await.unwrap();
    });
}

#[test]
fn audit_verify_tail_and_search_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    write_log(&AuditConfig::default(), dir.path(), 8);

    let out = rampart(&["audit", "verify"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains("records: 8, head: seq 8"), "{text}");
    assert!(text.contains("OK: the hash chain is intact."));

    let out = rampart(&["audit", "verify", "--format", "json"], dir.path());
    let report = &json_lines(&out)[0];
    assert_eq!(report["ok"], true);
    assert_eq!(report["records"], 8);
    let head_hash = report["head_hash"].as_str().unwrap().to_string();

    let out = rampart(
        &["audit", "tail", "-n", "3", "--format", "json"],
        dir.path(),
    );
    let seqs: Vec<u64> = json_lines(&out)
        .iter()
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, vec![6, 7, 8]);
    assert_eq!(json_lines(&out)[2]["hash"], head_hash.as_str());

    let out = rampart(&["audit", "tail", "-n", "1"], dir.path());
    assert!(stdout(&out).starts_with("#8 2023-11-14T22:21:20.000Z block 403 key=ab12cd34"));

    let out = rampart(
        &[
            "audit",
            "search",
            "--rule",
            "secrets.aws-access-key",
            "--key",
            "ab12cd34",
            "--since",
            "2023-11-14T22:18:00Z",
            "--format",
            "json",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{out:?}");
    let found = json_lines(&out);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["seq"], 8);
    assert_eq!(found[0]["record"]["action"], "block");

    // Truncate the tail and roll the head row back: only the anchor notices.
    let conn = rusqlite::Connection::open(dir.path().join("audit.db")).unwrap();
    conn.execute_batch(
        "DELETE FROM audit_log WHERE seq = 8;
         UPDATE audit_head SET seq = 7, hash = (SELECT hash FROM audit_log WHERE seq = 7);",
    )
    .unwrap();
    assert_eq!(
        rampart(&["audit", "verify"], dir.path()).status.code(),
        Some(0)
    );
    let anchor = format!("8:{head_hash}");
    let out = rampart(&["audit", "verify", "--anchor", &anchor], dir.path());
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(stdout(&out).contains("seq 8: anchored record is not in the log"));
}

#[test]
fn audit_verify_exits_1_and_lists_each_problem_on_a_tampered_db() {
    let dir = tempfile::tempdir().unwrap();
    write_log(&AuditConfig::default(), dir.path(), 10);
    let conn = rusqlite::Connection::open(dir.path().join("audit.db")).unwrap();
    conn.execute_batch(
        "UPDATE audit_log SET body = replace(body, '\"block\"', '\"allow\"') WHERE seq = 4;
         DELETE FROM audit_log WHERE seq = 7;",
    )
    .unwrap();
    let out = rampart(&["audit", "verify"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let text = stdout(&out);
    assert!(
        text.contains("seq 4: hash mismatch (record edited)"),
        "{text}"
    );
    assert!(
        text.contains("seq 8: record 7 is missing (dropped)"),
        "{text}"
    );
    assert!(
        text.contains("TAMPERED: 2 problem(s) found in 9 record(s)."),
        "{text}"
    );

    let out = rampart(&["audit", "verify", "--format", "json"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let report = &json_lines(&out)[0];
    assert_eq!(report["ok"], false);
    assert_eq!(report["problems"].as_array().unwrap().len(), 2);
}

#[test]
fn audit_commands_on_a_missing_log_are_errors_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let out = rampart(&["audit", "verify"], &missing);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no audit log at"));
    assert!(!missing.exists());
}

#[cfg(feature = "postgres")]
#[test]
fn audit_verify_reads_postgres() {
    let url = match std::env::var("RAMPART_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "RAMPART_TEST_POSTGRES_URL must be set when CI=true"
            );
            eprintln!(
                "notice: RAMPART_TEST_POSTGRES_URL is not set; skipping this PostgreSQL test"
            );
            return;
        }
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let prefix = format!("rtcli_{}_{nanos:08x}_", std::process::id());
    let cfg = AuditConfig {
        backend: rampart_gateway::audit::AuditBackend::Postgres,
        url: Some(url.clone()),
        table_prefix: prefix.clone(),
        ..AuditConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    write_log(&cfg, dir.path(), 5);
    let args = [
        "audit",
        "verify",
        "--postgres-url",
        &url,
        "--table-prefix",
        &prefix,
    ];
    let out = rampart(&args, dir.path());
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(stdout(&out).contains("records: 5, head: seq 5"));
    assert!(!stdout(&out).contains(&url), "the URL may hold a password");
    // The same through a config file's [audit] section.
    let config = dir.path().join("rampart.toml");
    std::fs::write(
        &config,
        format!("[audit]\nbackend = \"postgres\"\nurl = \"{url}\"\ntable_prefix = \"{prefix}\"\n"),
    )
    .unwrap();
    let out = rampart(
        &[
            "audit",
            "tail",
            "-n",
            "2",
            "--config",
            config.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out).lines().count(), 2);
    // Tamper, then clean up.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = runtime.block_on(async {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
            .batch_execute(&format!("DELETE FROM {prefix}audit_log WHERE seq = 2"))
            .await
            .unwrap();
        client
    });
    let out = rampart(&args, dir.path());
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(stdout(&out).contains("seq 3: record 2 is missing (dropped)"));
    runtime.block_on(async {
        client
            .batch_execute(&format!(
                "DROP TABLE {prefix}audit_log; DROP TABLE {prefix}audit_head;"
            ))
            .await
            .unwrap();
    });
}
