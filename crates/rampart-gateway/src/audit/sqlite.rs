//! Embedded backend: `<data_dir>/audit.db` (SQLite, WAL), written by one thread.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use tokio::sync::mpsc;

use super::{
    AuditError, AuditRecord, AuditSync, ChainCheck, Columns, GENESIS_HASH, Msg, Pending, RawRow,
    SearchFilter, StoredRecord, VerifyReport, rule_needle, seal, stored_record,
};
use crate::db;

fn schema() -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS audit_log (
            seq        INTEGER PRIMARY KEY NOT NULL,
            prev_hash  TEXT NOT NULL,
            hash       TEXT NOT NULL,
            ts_ms      INTEGER NOT NULL,
            key_id     TEXT,
            action     TEXT NOT NULL,
            model      TEXT,
            rules      TEXT NOT NULL,
            body       TEXT NOT NULL
        ) STRICT;
        CREATE INDEX IF NOT EXISTS audit_log_ts ON audit_log (ts_ms);
        CREATE INDEX IF NOT EXISTS audit_log_key ON audit_log (key_id);
        CREATE TABLE IF NOT EXISTS audit_head (
            id    INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
            seq   INTEGER NOT NULL,
            hash  TEXT NOT NULL
        ) STRICT;
        INSERT OR IGNORE INTO audit_head (id, seq, hash) VALUES (1, 0, '{GENESIS_HASH}');"
    )
}

const ROW_COLUMNS: &str = "seq, prev_hash, hash, ts_ms, key_id, action, model, rules, body";

/// Opens or creates the database and starts the writer thread.
pub(super) fn start(
    dir: &Path,
    path: PathBuf,
    sync: AuditSync,
    rx: mpsc::Receiver<Msg>,
    pending: Pending,
) -> Result<SqliteReader, AuditError> {
    db::create_data_dir(dir).map_err(|source| AuditError::DataDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let conn = db::open_rw(&path)?;
    if sync == AuditSync::Normal {
        conn.pragma_update(None, "synchronous", "NORMAL")?;
    }
    conn.execute_batch(&schema())?;
    std::thread::Builder::new()
        .name("rampart-audit".into())
        .spawn(move || writer(conn, rx, pending))
        .map_err(AuditError::Spawn)?;
    Ok(SqliteReader::new(path))
}

/// How long the writer lets further records join a transaction before committing, unless a flush is waiting.
/// Each commit costs a WAL write of several pages whatever its size; under load, gathering the records of a few
/// milliseconds into one commit cut the writer's share of the gateway's CPU several-fold. The request path never
/// waits for this: records are queued and the response goes out at once.
const GROUP_COMMIT_WINDOW: Duration = Duration::from_millis(5);

/// The one writer: waits for a message, lets others join for [`GROUP_COMMIT_WINDOW`], takes whatever has
/// queued up, commits it as one transaction. A failed commit keeps the records and is retried with the next
/// message.
fn writer(mut conn: Connection, mut rx: mpsc::Receiver<Msg>, mut pending: Pending) {
    while let Some(msg) = rx.blocking_recv() {
        pending.absorb(msg);
        if !pending.flush_waiting() {
            std::thread::sleep(GROUP_COMMIT_WINDOW);
        }
        pending.absorb_queued(&mut rx);
        pending.note_dropped();
        match commit(&mut conn, &pending.records) {
            Ok(()) => pending.committed(),
            Err(e) => pending.failed(&e),
        }
    }
    // Every handle is gone: one last attempt for what is still held.
    pending.note_dropped();
    if pending.has_work() && commit(&mut conn, &pending.records).is_ok() {
        pending.committed();
    }
}

/// Appends `records` after the head, inside `BEGIN IMMEDIATE` so another process writing the same file
/// waits instead of forking the chain.
fn commit(conn: &mut Connection, records: &[AuditRecord]) -> Result<(), AuditError> {
    if records.is_empty() {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (head_seq, head_hash): (i64, String) = tx
        .prepare_cached("SELECT seq, hash FROM audit_head WHERE id = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let rows = seal(head_seq, &head_hash, records)?;
    {
        let mut insert = tx.prepare_cached(&format!(
            "INSERT INTO audit_log ({ROW_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        ))?;
        for r in &rows {
            insert.execute(params![
                r.seq,
                r.prev_hash,
                r.hash,
                r.columns.ts_ms,
                r.columns.key_id,
                r.columns.action,
                r.columns.model,
                r.columns.rules,
                r.body,
            ])?;
        }
    }
    if let Some(last) = rows.last() {
        tx.prepare_cached("UPDATE audit_head SET seq = ?1, hash = ?2 WHERE id = 1")?
            .execute(params![last.seq, last.hash])?;
    }
    tx.commit()?;
    Ok(())
}

/// Read side: a fresh read-only connection per call (the CLI and admin paths, not the request path).
#[derive(Clone)]
pub(super) struct SqliteReader {
    path: Arc<PathBuf>,
}

impl SqliteReader {
    pub(super) fn new(path: PathBuf) -> SqliteReader {
        SqliteReader {
            path: Arc::new(path),
        }
    }

    fn connect(&self) -> Result<Connection, AuditError> {
        if !self.path.is_file() {
            return Err(AuditError::Missing(self.path.to_path_buf()));
        }
        Ok(db::open_ro(&self.path)?)
    }

    /// Streams every row through `check` inside one read transaction (one WAL snapshot).
    pub(super) fn verify(&self, mut check: ChainCheck) -> Result<VerifyReport, AuditError> {
        let mut conn = self.connect()?;
        let tx = conn.transaction()?;
        let head: Option<(i64, String)> = tx
            .query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        {
            let mut stmt =
                tx.prepare(&format!("SELECT {ROW_COLUMNS} FROM audit_log ORDER BY seq"))?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                check.row(&raw_row(row)?);
            }
        }
        tx.finish()?;
        Ok(check.finish(head))
    }

    pub(super) fn search(&self, f: &SearchFilter) -> Result<Vec<StoredRecord>, AuditError> {
        let conn = self.connect()?;
        let mut sql = String::from("SELECT seq, prev_hash, hash, body FROM audit_log WHERE 1 = 1");
        let mut args: Vec<Value> = Vec::new();
        let mut add = |clause: &str, v: Value| {
            sql.push_str(clause);
            args.push(v);
        };
        if let Some(k) = &f.key_id {
            add(" AND key_id = ?", Value::Text(k.clone()));
        }
        if let Some(a) = &f.action {
            add(" AND action = ?", Value::Text(a.clone()));
        }
        if let Some(m) = &f.model {
            add(" AND model = ?", Value::Text(m.clone()));
        }
        if let Some(r) = &f.rule {
            add(" AND instr(rules, ?) > 0", Value::Text(rule_needle(r)));
        }
        if let Some(t) = f.since_ms {
            add(" AND ts_ms >= ?", Value::Integer(t));
        }
        // SQLite reads a negative LIMIT as "no limit".
        let limit = if f.limit == 0 {
            -1
        } else {
            i64::try_from(f.limit).unwrap_or(i64::MAX)
        };
        add(" ORDER BY seq DESC LIMIT ?", Value::Integer(limit));
        let mut stmt = conn.prepare(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let body: String = row.get(3)?;
            out.push(stored_record(row.get(0)?, row.get(1)?, row.get(2)?, &body)?);
        }
        out.reverse();
        Ok(out)
    }
}

fn raw_row(row: &Row<'_>) -> rusqlite::Result<RawRow> {
    Ok(RawRow {
        seq: row.get(0)?,
        prev_hash: row.get(1)?,
        hash: row.get(2)?,
        columns: Columns {
            ts_ms: row.get(3)?,
            key_id: row.get(4)?,
            action: row.get(5)?,
            model: row.get(6)?,
            rules: row.get(7)?,
        },
        body: row.get(8)?,
    })
}
