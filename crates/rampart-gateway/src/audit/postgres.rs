//! Scale-out backend: PostgreSQL tables `<prefix>audit_log` and `<prefix>audit_head`, shared by several
//! gateway replicas. Each replica runs one writer task; a transaction that locks the head row
//! (`SELECT … FOR UPDATE`) makes replicas take turns, so the chain stays linear.

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio::sync::mpsc;
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, NoTls, Row};

use super::{
    AuditConfig, AuditError, AuditRecord, ChainCheck, Columns, GENESIS_HASH, Msg, Pending, RawRow,
    SearchFilter, StoredRecord, VerifyReport, rule_needle, seal, stored_record,
};

/// Connections per replica: the writer's plus a few for verify/tail/search.
const POOL_SIZE: usize = 4;
/// Rows `verify` reads per round trip.
const VERIFY_PAGE: i64 = 2_000;
/// Retry delays of a writer whose commits fail (database down, failover).
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

const ROW_COLUMNS: &str = "seq, prev_hash, hash, ts_ms, key_id, action, model, rules, body";

/// SQL text for one table prefix, built once.
struct Sql {
    prefix: String,
    ddl: String,
    head: String,
    head_for_update: String,
    insert: String,
    update_head: String,
    page: String,
}

impl Sql {
    fn new(prefix: &str) -> Sql {
        let log = format!("{prefix}audit_log");
        let head = format!("{prefix}audit_head");
        Sql {
            prefix: prefix.to_string(),
            ddl: format!(
                "CREATE TABLE IF NOT EXISTS {log} (
                    seq        BIGINT PRIMARY KEY,
                    prev_hash  TEXT NOT NULL,
                    hash       TEXT NOT NULL,
                    ts_ms      BIGINT NOT NULL,
                    key_id     TEXT,
                    action     TEXT NOT NULL,
                    model      TEXT,
                    rules      TEXT NOT NULL,
                    body       TEXT NOT NULL
                );
                CREATE INDEX IF NOT EXISTS {log}_ts ON {log} (ts_ms);
                CREATE INDEX IF NOT EXISTS {log}_key ON {log} (key_id, seq);
                CREATE TABLE IF NOT EXISTS {head} (
                    id    SMALLINT PRIMARY KEY CHECK (id = 1),
                    seq   BIGINT NOT NULL,
                    hash  TEXT NOT NULL
                );
                INSERT INTO {head} (id, seq, hash) VALUES (1, 0, '{GENESIS_HASH}')
                    ON CONFLICT (id) DO NOTHING;"
            ),
            head: format!("SELECT seq, hash FROM {head} WHERE id = 1"),
            head_for_update: format!("SELECT seq, hash FROM {head} WHERE id = 1 FOR UPDATE"),
            // One statement per batch whatever its size: the columns travel as arrays.
            insert: format!(
                "INSERT INTO {log} ({ROW_COLUMNS})
                 SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[],
                                      $6::text[], $7::text[], $8::text[], $9::text[])"
            ),
            update_head: format!("UPDATE {head} SET seq = $1, hash = $2 WHERE id = 1"),
            page: format!(
                "SELECT {ROW_COLUMNS} FROM {log} WHERE seq > $1 ORDER BY seq LIMIT $2"
            ),
        }
    }

    fn log_table(&self) -> String {
        format!("{}audit_log", self.prefix)
    }
}

/// The prefix is spliced into SQL, so only plain lower-case identifiers are accepted.
fn check_prefix(prefix: &str) -> Result<(), AuditError> {
    let ok = prefix.len() <= 40
        && prefix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !prefix.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(AuditError::Config(format!(
            "audit.table_prefix `{prefix}`: use at most 40 characters from a-z 0-9 _, not starting with a digit"
        )))
    }
}

/// Connects, creates the tables if missing and starts the writer task on the current runtime.
pub(super) async fn start(
    cfg: &AuditConfig,
    rx: mpsc::Receiver<Msg>,
    pending: Pending,
) -> Result<PgReader, AuditError> {
    let reader = reader(cfg)?;
    create_schema(&reader.pool, &reader.sql).await?;
    tokio::spawn(writer(
        reader.pool.clone(),
        Arc::clone(&reader.sql),
        rx,
        pending,
    ));
    Ok(reader)
}

/// A pool for `cfg.url` (connections are made on first use) and the SQL for `cfg.table_prefix`.
pub(super) fn reader(cfg: &AuditConfig) -> Result<PgReader, AuditError> {
    let url = cfg
        .url
        .as_deref()
        .ok_or_else(|| AuditError::Config("audit.backend = \"postgres\" needs audit.url".into()))?;
    check_prefix(&cfg.table_prefix)?;
    // The URL may carry a password: never echo it in errors.
    let mut pg: tokio_postgres::Config = url
        .parse()
        .map_err(|e| AuditError::Config(format!("audit.url is not a PostgreSQL URL: {e}")))?;
    if pg.get_connect_timeout().is_none() {
        pg.connect_timeout(Duration::from_secs(10));
    }
    let manager = Manager::from_config(
        pg,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager)
        .max_size(POOL_SIZE)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(Duration::from_secs(30)))
        .build()
        .map_err(|e| AuditError::Config(format!("PostgreSQL pool: {e}")))?;
    Ok(PgReader {
        pool,
        sql: Arc::new(Sql::new(&cfg.table_prefix)),
    })
}

async fn create_schema(pool: &Pool, sql: &Sql) -> Result<(), AuditError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    // Replicas starting together would race: CREATE TABLE IF NOT EXISTS is not atomic against a
    // concurrent creator. A transaction-scoped advisory lock makes them take turns.
    let lock_name = sql.log_table();
    tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&lock_name])
        .await?;
    tx.batch_execute(&sql.ddl).await?;
    tx.commit().await?;
    Ok(())
}

/// The replica's one writer. While commits fail it retries with a growing delay, keeping the records
/// (up to a bound; later ones are counted as dropped and recorded as a loss once the database is back).
async fn writer(pool: Pool, sql: Arc<Sql>, mut rx: mpsc::Receiver<Msg>, mut pending: Pending) {
    let mut backoff = BACKOFF_MIN;
    loop {
        let next = if pending.records.is_empty() {
            Some(rx.recv().await)
        } else {
            tokio::time::timeout(backoff, rx.recv()).await.ok()
        };
        match next {
            Some(None) => break,
            Some(Some(msg)) => {
                pending.absorb(msg);
                pending.absorb_queued(&mut rx);
            }
            // The retry delay passed with nothing new.
            None => {}
        }
        pending.note_dropped();
        match commit(&pool, &sql, &pending.records).await {
            Ok(()) => {
                pending.committed();
                backoff = BACKOFF_MIN;
            }
            Err(e) => {
                pending.failed(&e);
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
    pending.note_dropped();
    if pending.has_work() && commit(&pool, &sql, &pending.records).await.is_ok() {
        pending.committed();
    }
}

async fn commit(pool: &Pool, sql: &Sql, records: &[AuditRecord]) -> Result<(), AuditError> {
    if records.is_empty() {
        return Ok(());
    }
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    // Blocks until another replica's batch commits; READ COMMITTED then returns the row as it committed.
    let head = tx.query_one(&sql.head_for_update, &[]).await?;
    let (head_seq, head_hash): (i64, String) = (head.try_get(0)?, head.try_get(1)?);
    let rows = seal(head_seq, &head_hash, records)?;
    let n = rows.len();
    let mut seq = Vec::with_capacity(n);
    let mut prev_hash = Vec::with_capacity(n);
    let mut hash = Vec::with_capacity(n);
    let mut ts_ms = Vec::with_capacity(n);
    let mut key_id = Vec::with_capacity(n);
    let mut action = Vec::with_capacity(n);
    let mut model = Vec::with_capacity(n);
    let mut rules = Vec::with_capacity(n);
    let mut body = Vec::with_capacity(n);
    for r in rows {
        seq.push(r.seq);
        prev_hash.push(r.prev_hash);
        hash.push(r.hash);
        ts_ms.push(r.columns.ts_ms);
        key_id.push(r.columns.key_id);
        action.push(r.columns.action);
        model.push(r.columns.model);
        rules.push(r.columns.rules);
        body.push(r.body);
    }
    let insert = tx.prepare_cached(&sql.insert).await?;
    tx.execute(
        &insert,
        &[
            &seq, &prev_hash, &hash, &ts_ms, &key_id, &action, &model, &rules, &body,
        ],
    )
    .await?;
    if let (Some(last_seq), Some(last_hash)) = (seq.last(), hash.last()) {
        tx.execute(&sql.update_head, &[last_seq, last_hash]).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Read side, sharing the replica's pool.
#[derive(Clone)]
pub(super) struct PgReader {
    pool: Pool,
    sql: Arc<Sql>,
}

impl PgReader {
    /// Pages through the log in one REPEATABLE READ snapshot, so concurrent appends do not show up half-way.
    pub(super) async fn verify(&self, mut check: ChainCheck) -> Result<VerifyReport, AuditError> {
        let mut client = self.pool.get().await?;
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let head = match tx.query_opt(&self.sql.head, &[]).await? {
            Some(row) => Some((row.try_get::<_, i64>(0)?, row.try_get::<_, String>(1)?)),
            None => None,
        };
        let page = tx.prepare_cached(&self.sql.page).await?;
        let mut after = i64::MIN;
        loop {
            let rows = tx.query(&page, &[&after, &VERIFY_PAGE]).await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get(0)?;
            for row in &rows {
                check.row(&raw_row(row)?);
            }
        }
        tx.commit().await?;
        Ok(check.finish(head))
    }

    pub(super) async fn search(&self, f: &SearchFilter) -> Result<Vec<StoredRecord>, AuditError> {
        let mut sql = format!(
            "SELECT seq, prev_hash, hash, body FROM {} WHERE TRUE",
            self.sql.log_table()
        );
        let mut args: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
        let mut add = |clause: &str, v: Box<dyn ToSql + Sync + Send>| {
            args.push(v);
            sql.push_str(&clause.replace('?', &format!("${}", args.len())));
        };
        if let Some(k) = &f.key_id {
            add(" AND key_id = ?", Box::new(k.clone()));
        }
        if let Some(a) = &f.action {
            add(" AND action = ?", Box::new(a.clone()));
        }
        if let Some(m) = &f.model {
            add(" AND model = ?", Box::new(m.clone()));
        }
        if let Some(r) = &f.rule {
            add(" AND strpos(rules, ?) > 0", Box::new(rule_needle(r)));
        }
        if let Some(t) = f.since_ms {
            add(" AND ts_ms >= ?", Box::new(t));
        }
        if f.limit > 0 {
            add(
                " ORDER BY seq DESC LIMIT ?",
                Box::new(i64::try_from(f.limit).unwrap_or(i64::MAX)),
            );
        } else {
            sql.push_str(" ORDER BY seq DESC");
        }
        let client = self.pool.get().await?;
        let params: Vec<&(dyn ToSql + Sync)> = args
            .iter()
            .map(|b| b.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let rows = client.query(&sql, &params).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows.iter().rev() {
            let body: String = row.try_get(3)?;
            out.push(stored_record(
                row.try_get(0)?,
                row.try_get(1)?,
                row.try_get(2)?,
                &body,
            )?);
        }
        Ok(out)
    }
}

fn raw_row(row: &Row) -> Result<RawRow, tokio_postgres::Error> {
    Ok(RawRow {
        seq: row.try_get(0)?,
        prev_hash: row.try_get(1)?,
        hash: row.try_get(2)?,
        columns: Columns {
            ts_ms: row.try_get(3)?,
            key_id: row.try_get(4)?,
            action: row.try_get(5)?,
            model: row.try_get(6)?,
            rules: row.try_get(7)?,
        },
        body: row.try_get(8)?,
    })
}

#[cfg(test)]
mod tests {
    //! Against a real server: `RAMPART_TEST_POSTGRES_URL`. Each test uses its own table prefix and drops
    //! its tables at the end, so tests run in parallel and repeatedly against one database.

    use std::sync::atomic::{AtomicU32, Ordering};

    use super::super::tests::record;
    use super::super::{AuditBackend, AuditLog};
    use super::*;

    fn test_url() -> Option<String> {
        match std::env::var("RAMPART_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => Some(url),
            _ => {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "RAMPART_TEST_POSTGRES_URL must be set when CI=true"
                );
                eprintln!(
                    "notice: RAMPART_TEST_POSTGRES_URL is not set; skipping this PostgreSQL test"
                );
                None
            }
        }
    }

    /// A prefix no other test (in this run or a concurrent one) uses.
    fn unique_prefix() -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        let mut rnd = [0u8; 4];
        getrandom::fill(&mut rnd).unwrap();
        format!(
            "rt_{}_{}_{:08x}_",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            u32::from_le_bytes(rnd)
        )
    }

    fn config(url: &str, prefix: &str) -> AuditConfig {
        AuditConfig {
            backend: AuditBackend::Postgres,
            url: Some(url.to_string()),
            table_prefix: prefix.to_string(),
            ..AuditConfig::default()
        }
    }

    async fn connect(url: &str) -> tokio_postgres::Client {
        let (client, conn) = tokio_postgres::connect(url, NoTls).await.unwrap();
        tokio::spawn(conn);
        client
    }

    async fn drop_tables(client: &tokio_postgres::Client, prefix: &str) {
        client
            .batch_execute(&format!(
                "DROP TABLE IF EXISTS {prefix}audit_log; DROP TABLE IF EXISTS {prefix}audit_head;"
            ))
            .await
            .unwrap();
    }

    fn assert_problem(report: &VerifyReport, needle: &str) {
        assert!(
            report.problems.iter().any(|p| p.contains(needle)),
            "no problem contains {needle:?}: {:#?}",
            report.problems
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn append_verify_tail_and_search() {
        let Some(url) = test_url() else { return };
        let prefix = unique_prefix();
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(&config(&url, &prefix), dir.path())
            .await
            .unwrap();
        for i in 1..=30 {
            log.append(record(i));
        }
        log.flush().await.unwrap();
        let report = log.verify().await.unwrap();
        assert!(report.ok, "{:#?}", report.problems);
        assert_eq!((report.records, report.head_seq), (30, 30));
        let tail = log.tail(2).await.unwrap();
        assert_eq!(tail.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![29, 30]);
        assert_eq!(tail[1].record, record(30));
        assert_eq!(tail[1].hash, report.head_hash);
        let f = SearchFilter {
            key_id: Some("keyeven1".into()),
            rule: Some("secrets.github-pat".into()),
            since_ms: Some(record(10).ts_ms),
            limit: 2,
            ..SearchFilter::default()
        };
        let found = log.search(&f).await.unwrap();
        assert_eq!(
            found.iter().map(|r| r.seq).collect::<Vec<_>>(),
            vec![24, 30]
        );
        // Nothing appends to the directory: the database is PostgreSQL.
        assert!(!dir.path().join("audit.db").exists());
        // A read-only handle (what `rampart audit` uses) sees the same chain.
        let reader = super::super::AuditReader::open(&config(&url, &prefix), dir.path())
            .await
            .unwrap();
        assert_eq!(reader.verify().await.unwrap().head_hash, report.head_hash);
        drop_tables(&connect(&url).await, &prefix).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn replicas_writing_at_once_build_one_linear_chain() {
        let Some(url) = test_url() else { return };
        let prefix = unique_prefix();
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(&url, &prefix);
        // Three replicas: separate pools, separate writer tasks, one set of tables.
        let mut replicas = Vec::new();
        for _ in 0..3 {
            replicas.push(AuditLog::open(&cfg, dir.path()).await.unwrap());
        }
        let mut tasks = Vec::new();
        for (r, log) in replicas.iter().enumerate() {
            for t in 0..2u64 {
                let log = log.clone();
                let base = (r as u64) * 10_000 + t * 1_000;
                tasks.push(tokio::spawn(async move {
                    for i in 0..150 {
                        log.append(record(base + i));
                        if i.is_multiple_of(25) {
                            // Interleave commits from all replicas rather than one big batch each.
                            log.flush().await.unwrap();
                        }
                    }
                    log.flush().await.unwrap();
                }));
            }
        }
        for t in tasks {
            t.await.unwrap();
        }
        let report = replicas[0].verify().await.unwrap();
        assert!(report.ok, "{:#?}", report.problems);
        assert_eq!(report.records, 900);
        assert_eq!(report.head_seq, 900);
        drop_tables(&connect(&url).await, &prefix).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tampering_is_reported() {
        let Some(url) = test_url() else { return };
        let prefix = unique_prefix();
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(&config(&url, &prefix), dir.path())
            .await
            .unwrap();
        for i in 1..=12 {
            log.append(record(i));
        }
        log.flush().await.unwrap();
        let good = log.verify().await.unwrap();
        assert!(good.ok, "{:#?}", good.problems);
        let t = format!("{prefix}audit_log");
        let client = connect(&url).await;
        client
            .batch_execute(&format!(
                "UPDATE {t} SET body = replace(body, 'req-2', 'req-X') WHERE seq = 2;
                 UPDATE {t} SET model = 'gpt-5' WHERE seq = 3;
                 DELETE FROM {t} WHERE seq = 5;
                 UPDATE {t} SET seq = 1000 WHERE seq = 8;
                 UPDATE {t} SET seq = 8 WHERE seq = 9;
                 UPDATE {t} SET seq = 9 WHERE seq = 1000;
                 DELETE FROM {t} WHERE seq = 12;"
            ))
            .await
            .unwrap();
        let anchor = super::super::Anchor {
            seq: 12,
            hash: good.head_hash.clone(),
        };
        let report = log.verify_anchored(&[anchor]).await.unwrap();
        assert!(!report.ok);
        for needle in [
            "seq 2: hash mismatch (record edited)",
            "seq 3: column(s) model disagree with the hashed record",
            "seq 6: record 5 is missing (dropped)",
            "seq 8: hash mismatch",
            "seq 9: hash mismatch",
            "seq 10: prev_hash does not match the hash of seq 9",
            "record 12 is missing (tail truncated)",
            "seq 12: anchored record is not in the log",
        ] {
            assert_problem(&report, needle);
        }
        drop_tables(&client, &prefix).await;
    }

    #[tokio::test]
    async fn bad_settings_are_config_errors() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config("postgres://rampart@127.0.0.1:1/db", "Bad-Prefix");
        assert!(matches!(
            AuditLog::open(&cfg, dir.path()).await,
            Err(AuditError::Config(_))
        ));
        cfg.table_prefix = "ok_".into();
        cfg.url = None;
        assert!(matches!(
            AuditLog::open(&cfg, dir.path()).await,
            Err(AuditError::Config(_))
        ));
        cfg.url = Some("not a url at all = =".into());
        assert!(matches!(
            AuditLog::open(&cfg, dir.path()).await,
            Err(AuditError::Config(_))
        ));
    }
}
