//! Chain building, verification and tampering, on the SQLite backend.

use std::path::Path;

use rusqlite::Connection;

use super::*;

pub(super) fn record(i: u64) -> AuditRecord {
    let blocked = i.is_multiple_of(3);
    AuditRecord {
        ts_ms: 1_700_000_000_000 + i64::try_from(i).unwrap() * 1_000,
        request_id: format!("req-{i}"),
        key_id: Some(
            if i.is_multiple_of(2) {
                "keyeven1"
            } else {
                "keyodd11"
            }
            .into(),
        ),
        role: Some("dev".into()),
        endpoint: "/v1/chat/completions".into(),
        model: Some(
            if i.is_multiple_of(4) {
                "gpt-4o"
            } else {
                "claude-sonnet"
            }
            .into(),
        ),
        action: if blocked { "block" } else { "allow" }.into(),
        status: if blocked { 403 } else { 200 },
        findings: if blocked {
            vec![AuditFinding {
                direction: "input".into(),
                scanner: "secrets".into(),
                rule: "secrets.github-pat".into(),
                category: "LLM02".into(),
                severity: "high".into(),
                score: 0.97,
                start: 10,
                end: 50,
                location: None,
            }]
        } else {
            Vec::new()
        },
        latency_ms: 12.5 + i as f64 / 7.0,
        upstream_ms: Some(10.25),
        prompt_tokens: Some(100 + i),
        completion_tokens: None,
        reason: blocked.then(|| "secret in prompt".to_string()),
    }
}

async fn log_with(dir: &Path, n: u64) -> AuditLog {
    let log = AuditLog::open(&AuditConfig::default(), dir).await.unwrap();
    for i in 1..=n {
        log.append(record(i));
    }
    log.flush().await.unwrap();
    log
}

fn db(dir: &Path) -> Connection {
    Connection::open(dir.join("audit.db")).unwrap()
}

fn assert_problem(report: &VerifyReport, needle: &str) {
    assert!(!report.ok, "expected a problem containing {needle:?}");
    assert!(
        report.problems.iter().any(|p| p.contains(needle)),
        "no problem contains {needle:?}: {:#?}",
        report.problems
    );
}

#[test]
fn chain_hash_is_stable_and_covers_every_input() {
    let h = chain_hash(GENESIS_HASH, 1, "{}");
    assert_eq!(h.len(), 64);
    // Fixed value: changing the hashed layout breaks every existing log, so it must be deliberate.
    assert_eq!(
        h,
        "07dcafc615a2f5482c9a1716ba2b30212ac2ab3bc552f81c51671615a2a7047e"
    );
    assert_ne!(h, chain_hash(GENESIS_HASH, 2, "{}"));
    assert_ne!(h, chain_hash(GENESIS_HASH, 1, "{ }"));
    assert_ne!(h, chain_hash(&"1".repeat(64), 1, "{}"));
}

#[test]
fn seal_links_each_record_to_the_previous_one() {
    let records: Vec<AuditRecord> = (1..=3).map(record).collect();
    let rows = seal(0, GENESIS_HASH, &records).unwrap();
    assert_eq!(
        rows.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(rows[0].prev_hash, GENESIS_HASH);
    assert_eq!(rows[1].prev_hash, rows[0].hash);
    assert_eq!(rows[2].prev_hash, rows[1].hash);
    for r in &rows {
        assert_eq!(
            r.hash,
            chain_hash(&r.prev_hash, r.seq.unsigned_abs(), &r.body)
        );
        let back: AuditRecord = serde_json::from_str(&r.body).unwrap();
        assert_eq!(Columns::of(&back), r.columns);
    }
    // Continuing after an existing head.
    let more = seal(3, &rows[2].hash, &records[..1]).unwrap();
    assert_eq!(more[0].seq, 4);
    assert_eq!(more[0].prev_hash, rows[2].hash);
    assert!(seal(-1, GENESIS_HASH, &records).is_err());
}

#[test]
fn canonical_body_round_trips_exactly() {
    let mut rec = record(3);
    rec.latency_ms = 0.1 + 0.2;
    rec.findings[0].score = 0.1;
    let body = canonical_body(&rec).unwrap();
    let back: AuditRecord = serde_json::from_str(&body).unwrap();
    assert_eq!(back, rec);
    assert_eq!(canonical_body(&back).unwrap(), body);
}

#[test]
fn non_finite_numbers_are_normalised_before_sealing() {
    let mut rec = record(3);
    rec.latency_ms = f64::NAN;
    rec.upstream_ms = Some(f64::INFINITY);
    rec.findings[0].score = f32::NEG_INFINITY;
    normalise(&mut rec);
    let body = canonical_body(&rec).unwrap();
    let back: AuditRecord = serde_json::from_str(&body).unwrap();
    assert_eq!(back.latency_ms, 0.0);
    assert_eq!(back.upstream_ms, None);
    assert_eq!(back.findings[0].score, 0.0);
}

#[test]
fn records_lost_to_a_full_queue_are_themselves_recorded() {
    let dropped = Arc::new(AtomicU64::new(0));
    let mut pending = Pending::new(Arc::clone(&dropped));
    pending.absorb(Msg::Record(Box::new(record(1))));
    dropped.fetch_add(7, Ordering::Relaxed);
    pending.note_dropped();
    assert_eq!(pending.records.len(), 2);
    let loss = &pending.records[1];
    assert_eq!(loss.action, "error");
    assert_eq!(
        loss.reason.as_deref(),
        Some("audit queue full: 7 record(s) dropped before this one")
    );
    assert_eq!(dropped.load(Ordering::Relaxed), 0);
    pending.note_dropped();
    assert_eq!(
        pending.records.len(),
        2,
        "nothing new dropped, nothing added"
    );
}

#[test]
fn anchors_parse_from_seq_colon_hash() {
    let a: Anchor = format!("12:{}", "AB".repeat(32)).parse().unwrap();
    assert_eq!(a.seq, 12);
    assert_eq!(a.hash, "ab".repeat(32));
    for bad in [
        "",
        "12",
        "x:00",
        "12:abc",
        &format!("12:{}", "g".repeat(64)),
    ] {
        assert!(bad.parse::<Anchor>().is_err(), "{bad:?}");
    }
}

#[test]
fn config_defaults_and_rejects_unknown_keys() {
    let cfg: AuditConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(cfg.backend, AuditBackend::Sqlite);
    assert_eq!(cfg.table_prefix, "rampart_");
    let cfg: AuditConfig =
        serde_json::from_str(r#"{"backend": "postgres", "url": "postgres://x@h/db"}"#).unwrap();
    assert_eq!(cfg.backend, AuditBackend::Postgres);
    assert!(serde_json::from_str::<AuditConfig>(r#"{"bakend": "sqlite"}"#).is_err());
}

#[tokio::test]
async fn an_untouched_log_verifies_and_reports_its_head() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with(dir.path(), 25).await;
    let report = log.verify().await.unwrap();
    assert!(report.ok, "{:#?}", report.problems);
    assert_eq!(report.records, 25);
    assert_eq!(report.head_seq, 25);
    let last = log.tail(1).await.unwrap();
    assert_eq!(report.head_hash, last[0].hash);
    // The anchor of a healthy log holds.
    let anchor = Anchor {
        seq: 25,
        hash: report.head_hash.clone(),
    };
    assert!(log.verify_anchored(&[anchor]).await.unwrap().ok);
}

#[tokio::test]
async fn an_empty_log_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(&AuditConfig::default(), dir.path())
        .await
        .unwrap();
    log.flush().await.unwrap();
    let report = log.verify().await.unwrap();
    assert!(report.ok);
    assert_eq!((report.records, report.head_seq), (0, 0));
    assert_eq!(report.head_hash, GENESIS_HASH);
    assert!(log.tail(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn tail_returns_the_last_records_oldest_first() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with(dir.path(), 10).await;
    let tail = log.tail(3).await.unwrap();
    assert_eq!(
        tail.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![8, 9, 10]
    );
    assert_eq!(tail[2].record, record(10));
    assert_eq!(tail[1].hash, tail[2].prev_hash);
    assert_eq!(log.tail(100).await.unwrap().len(), 10);
    assert!(log.tail(0).await.unwrap().is_empty());
}

#[tokio::test]
async fn search_combines_filters() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with(dir.path(), 24).await;
    let seqs = |v: Vec<StoredRecord>| v.into_iter().map(|r| r.seq).collect::<Vec<_>>();
    let blocked = log
        .search(&SearchFilter {
            action: Some("block".into()),
            ..SearchFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(seqs(blocked), vec![3, 6, 9, 12, 15, 18, 21, 24]);
    let f = SearchFilter {
        key_id: Some("keyeven1".into()),
        rule: Some("secrets.github-pat".into()),
        model: Some("gpt-4o".into()),
        since_ms: Some(record(13).ts_ms),
        limit: 0,
        action: None,
    };
    assert_eq!(seqs(log.search(&f).await.unwrap()), vec![24]);
    let limited = SearchFilter {
        action: Some("allow".into()),
        limit: 2,
        ..SearchFilter::default()
    };
    assert_eq!(seqs(log.search(&limited).await.unwrap()), vec![22, 23]);
    // A rule id is matched whole, never as a substring of another.
    let partial = SearchFilter {
        rule: Some("secrets.github".into()),
        ..SearchFilter::default()
    };
    assert!(log.search(&partial).await.unwrap().is_empty());
}

#[tokio::test]
async fn appends_from_many_tasks_form_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(&AuditConfig::default(), dir.path())
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for t in 0..8u64 {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..50 {
                log.append(record(t * 1_000 + i));
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    log.flush().await.unwrap();
    let report = log.verify().await.unwrap();
    assert!(report.ok, "{:#?}", report.problems);
    assert_eq!(report.records, 400);
    assert_eq!(log.dropped_pending(), 0);
}

#[tokio::test]
async fn two_handles_on_one_file_keep_the_chain_linear() {
    // Two gateway processes sharing a data directory: each has its own writer and connection.
    let dir = tempfile::tempdir().unwrap();
    let a = AuditLog::open(&AuditConfig::default(), dir.path())
        .await
        .unwrap();
    let b = AuditLog::open(&AuditConfig::default(), dir.path())
        .await
        .unwrap();
    for i in 0..100 {
        a.append(record(i));
        b.append(record(1_000 + i));
    }
    a.flush().await.unwrap();
    b.flush().await.unwrap();
    let report = a.verify().await.unwrap();
    assert!(report.ok, "{:#?}", report.problems);
    assert_eq!(report.records, 200);
}

#[tokio::test]
async fn reopening_continues_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    drop(log_with(dir.path(), 5).await);
    let log = log_with(dir.path(), 5).await;
    let report = log.verify().await.unwrap();
    assert!(report.ok, "{:#?}", report.problems);
    assert_eq!(report.head_seq, 10);
}

#[tokio::test]
async fn an_edited_field_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with(dir.path(), 10).await;
    db(dir.path())
        .execute(
            "UPDATE audit_log SET body = replace(body, '\"block\"', '\"allow\"') WHERE seq = 6",
            [],
        )
        .unwrap();
    let report = log.verify().await.unwrap();
    assert_problem(&report, "seq 6: hash mismatch (record edited)");
    assert_eq!(
        report.problems.len(),
        1,
        "only the edited record: {:#?}",
        report.problems
    );
}

#[tokio::test]
async fn an_edited_index_column_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with(dir.path(), 10).await;
    db(dir.path())
        .execute(
            "UPDATE audit_log SET action = 'allow', key_id = 'someone' WHERE seq = 6",
            [],
        )
        .unwrap();
    let report = log.verify().await.unwrap();
    assert_problem(
        &report,
        "seq 6: column(s) key_id, action disagree with the hashed record",
    );
}

#[tokio::test]
async fn an_edited_record_with_a_recomputed_hash_breaks_the_next_link() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with(dir.path(), 10).await;
    let conn = db(dir.path());
    let (prev, body): (String, String) = conn
        .query_row(
            "SELECT prev_hash, body FROM audit_log WHERE seq = 4",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let body = body.replace("req-4", "req-X");
    conn.execute(
        "UPDATE audit_log SET body = ?1, hash = ?2 WHERE seq = 4",
        rusqlite::params![body, chain_hash(&prev, 4, &body)],
    )
    .unwrap();
    let report = log.verify().await.unwrap();
    assert_problem(&report, "seq 5: prev_hash does not match the hash of seq 4");
}

#[tokio::test]
async fn a_deleted_row_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with(dir.path(), 10).await;
    db(dir.path())
        .execute("DELETE FROM audit_log WHERE seq = 4", [])
        .unwrap();
    let report = log.verify().await.unwrap();
    assert_problem(&report, "seq 5: record 4 is missing (dropped)");
    assert_eq!(report.records, 9);
}

#[tokio::test]
async fn swapped_rows_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with(dir.path(), 10).await;
    // Exchange the seq numbers of rows 3 and 7 (via a free seq, the primary key being unique).
    let conn = db(dir.path());
    conn.execute_batch(
        "UPDATE audit_log SET seq = 1000 WHERE seq = 3;
         UPDATE audit_log SET seq = 3 WHERE seq = 7;
         UPDATE audit_log SET seq = 7 WHERE seq = 1000;",
    )
    .unwrap();
    let report = log.verify().await.unwrap();
    for needle in [
        "seq 3: prev_hash does not match",
        "seq 3: hash mismatch",
        "seq 4: prev_hash does not match",
        "seq 7: prev_hash does not match",
        "seq 7: hash mismatch",
        "seq 8: prev_hash does not match",
    ] {
        assert_problem(&report, needle);
    }
}

#[tokio::test]
async fn an_inserted_row_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with(dir.path(), 10).await;
    // A forged record squeezed in as seq 0, and one at a negative seq.
    let body = canonical_body(&record(99)).unwrap();
    let conn = db(dir.path());
    for seq in [0, -5] {
        conn.execute(
            "INSERT INTO audit_log (seq, prev_hash, hash, ts_ms, key_id, action, model, rules, body)
             VALUES (?1, ?2, ?3, 0, NULL, 'allow', NULL, '', ?4)",
            rusqlite::params![seq, GENESIS_HASH, chain_hash(GENESIS_HASH, 0, &body), body],
        )
        .unwrap();
    }
    let report = log.verify().await.unwrap();
    assert_problem(
        &report,
        "seq 0: not a valid position in the chain (record inserted)",
    );
    assert_problem(
        &report,
        "seq -5: not a valid position in the chain (record inserted)",
    );
}

#[tokio::test]
async fn a_row_inserted_by_renumbering_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with(dir.path(), 6).await;
    let conn = db(dir.path());
    // Shift 4..=6 up by one and put a forged record at 4, linked to seq 3 with a correct hash of its own.
    conn.execute_batch(
        "UPDATE audit_log SET seq = seq + 100 WHERE seq >= 4;
         UPDATE audit_log SET seq = seq - 99 WHERE seq >= 100;",
    )
    .unwrap();
    let prev: String = conn
        .query_row("SELECT hash FROM audit_log WHERE seq = 3", [], |r| r.get(0))
        .unwrap();
    let forged = record(42);
    let body = canonical_body(&forged).unwrap();
    let c = Columns::of(&forged);
    conn.execute(
        "INSERT INTO audit_log (seq, prev_hash, hash, ts_ms, key_id, action, model, rules, body)
         VALUES (4, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        rusqlite::params![
            prev,
            chain_hash(&prev, 4, &body),
            c.ts_ms,
            c.key_id,
            c.action,
            c.model,
            c.rules,
            body
        ],
    )
    .unwrap();
    let report = log.verify().await.unwrap();
    assert_problem(&report, "seq 5: prev_hash does not match the hash of seq 4");
    assert_problem(&report, "seq 5: hash mismatch");
    assert_problem(&report, "lie past the chain head seq 6");
}

#[tokio::test]
async fn a_cut_tail_is_reported_by_the_head_row_and_by_anchors() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with(dir.path(), 10).await;
    let before = log.verify().await.unwrap();
    let anchor = Anchor {
        seq: before.head_seq,
        hash: before.head_hash.clone(),
    };
    let conn = db(dir.path());
    conn.execute("DELETE FROM audit_log WHERE seq > 7", [])
        .unwrap();
    let report = log
        .verify_anchored(std::slice::from_ref(&anchor))
        .await
        .unwrap();
    assert_problem(&report, "records 8..=10 are missing (tail truncated)");
    assert_problem(&report, "seq 10: anchored record is not in the log");
    // A careful intruder also moves the head row back: only the anchor still tells.
    let hash7: String = conn
        .query_row("SELECT hash FROM audit_log WHERE seq = 7", [], |r| r.get(0))
        .unwrap();
    conn.execute(
        "UPDATE audit_head SET seq = 7, hash = ?1 WHERE id = 1",
        [hash7],
    )
    .unwrap();
    assert!(log.verify().await.unwrap().ok);
    let report = log.verify_anchored(&[anchor]).await.unwrap();
    assert_eq!(
        report.problems,
        vec!["seq 10: anchored record is not in the log (truncated or dropped)"]
    );
}

#[tokio::test]
async fn a_rewritten_chain_is_caught_by_an_anchor() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with(dir.path(), 5).await;
    let good = log.verify().await.unwrap();
    let anchor = Anchor {
        seq: 5,
        hash: good.head_hash,
    };
    // Rewrite record 2 and re-chain everything after it: internally consistent.
    let conn = db(dir.path());
    let mut prev: String = conn
        .query_row("SELECT hash FROM audit_log WHERE seq = 1", [], |r| r.get(0))
        .unwrap();
    for seq in 2..=5i64 {
        let mut body: String = conn
            .query_row("SELECT body FROM audit_log WHERE seq = ?1", [seq], |r| {
                r.get(0)
            })
            .unwrap();
        if seq == 2 {
            body = body.replace("req-2", "req-Z");
        }
        let hash = chain_hash(&prev, seq.unsigned_abs(), &body);
        conn.execute(
            "UPDATE audit_log SET prev_hash = ?1, hash = ?2, body = ?3 WHERE seq = ?4",
            rusqlite::params![prev, hash, body, seq],
        )
        .unwrap();
        prev = hash;
    }
    conn.execute("UPDATE audit_head SET hash = ?1 WHERE id = 1", [&prev])
        .unwrap();
    assert!(
        log.verify().await.unwrap().ok,
        "undetectable without an anchor"
    );
    let report = log.verify_anchored(&[anchor]).await.unwrap();
    assert_problem(&report, "seq 5: hash differs from the anchor");
}

#[tokio::test]
async fn a_deleted_head_row_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with(dir.path(), 3).await;
    db(dir.path())
        .execute("DELETE FROM audit_head", [])
        .unwrap();
    assert_problem(&log.verify().await.unwrap(), "head row missing");
}

#[tokio::test]
async fn a_corrupt_body_fails_tail_with_its_seq() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with(dir.path(), 3).await;
    db(dir.path())
        .execute("UPDATE audit_log SET body = 'not json' WHERE seq = 3", [])
        .unwrap();
    let err = log.tail(5).await.unwrap_err();
    assert!(matches!(err, AuditError::Corrupt { seq: 3, .. }), "{err}");
    assert_problem(&log.verify().await.unwrap(), "seq 3: hash mismatch");
}

#[tokio::test]
async fn flush_reports_a_failed_commit_and_the_records_are_kept_for_retry() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with(dir.path(), 2).await;
    // Make the writer's next commit fail by removing the head row it reads, then repair it.
    let conn = db(dir.path());
    let head: String = conn
        .query_row("SELECT hash FROM audit_head", [], |r| r.get(0))
        .unwrap();
    conn.execute("DELETE FROM audit_head", []).unwrap();
    log.append(record(3));
    let err = log.flush().await.unwrap_err();
    assert!(matches!(err, AuditError::Write(_)), "{err}");
    conn.execute(
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, 2, ?1)",
        [head],
    )
    .unwrap();
    log.flush().await.unwrap();
    let report = log.verify().await.unwrap();
    assert!(report.ok, "{:#?}", report.problems);
    assert_eq!(report.records, 3);
}

#[tokio::test]
async fn a_missing_database_is_a_clear_error_for_readers() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with(dir.path(), 1).await;
    std::fs::remove_file(dir.path().join("audit.db")).unwrap();
    assert!(matches!(log.verify().await, Err(AuditError::Missing(_))));
}

#[tokio::test]
async fn sqlite_with_a_url_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = AuditConfig {
        url: Some("postgres://x@127.0.0.1/db".into()),
        ..AuditConfig::default()
    };
    assert!(matches!(
        AuditLog::open(&cfg, dir.path()).await,
        Err(AuditError::Config(_))
    ));
}

#[cfg(not(feature = "postgres"))]
#[tokio::test]
async fn postgres_without_the_feature_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = AuditConfig {
        backend: AuditBackend::Postgres,
        url: Some("postgres://x@127.0.0.1/db".into()),
        ..AuditConfig::default()
    };
    assert!(matches!(
        AuditLog::open(&cfg, dir.path()).await,
        Err(AuditError::PostgresNotBuilt)
    ));
}

#[tokio::test]
async fn a_reader_sees_the_log_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("nothing-here");
    assert!(matches!(
        AuditReader::open(&AuditConfig::default(), &empty).await,
        Err(AuditError::Missing(p)) if p == empty.join("audit.db")
    ));
    assert!(!empty.exists());
    let log = log_with(dir.path(), 4).await;
    let reader = AuditReader::open(&AuditConfig::default(), dir.path())
        .await
        .unwrap();
    let report = reader.verify().await.unwrap();
    assert!(report.ok);
    assert_eq!(report.records, 4);
    assert_eq!(reader.tail(10).await.unwrap(), log.tail(10).await.unwrap());
}

/// Both durability settings write the same chain; the setting is read from the config file's words.
#[tokio::test]
async fn full_and_normal_sync_write_the_same_valid_chain() {
    for word in ["full", "normal"] {
        let cfg: AuditConfig = toml::from_str(&format!("synchronous = \"{word}\"")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(&cfg, dir.path()).await.unwrap();
        for i in 1..=20 {
            log.append(record(i));
        }
        log.flush().await.unwrap();
        let report = log.verify().await.unwrap();
        assert!(report.ok, "{word}: {:?}", report.problems);
        assert_eq!(report.records, 20);
    }
    assert!(toml::from_str::<AuditConfig>("synchronous = \"off\"").is_err());
}
