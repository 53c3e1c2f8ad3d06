//! The tamper-evident audit log: one record per request decision, hash-chained.
//!
//! Record `seq` (1, 2, 3, … with no gaps) is stored with
//! `hash = hex(SHA-256("rampart-audit-v1\n" ‖ prev_hash ‖ "\n" ‖ seq ‖ "\n" ‖ body))`, where `body` is the
//! record's canonical JSON (exactly the stored text), `seq` is in decimal and `prev_hash` is the previous
//! record's hash (64 zeros before record 1). Editing, dropping, inserting or reordering a stored record
//! breaks either its own hash or the next record's link, which [`AuditLog::verify`] reports by `seq`.
//! Rewriting the whole chain from some point on, or cutting its tail, is only caught against a hash kept
//! elsewhere: `verify` reports the head (last seq and hash) for operators to anchor, and checks anchors
//! given back to it ([`AuditLog::verify_anchored`]). docs/audit.md describes the fields and semantics.
//!
//! Appending never blocks: [`AuditLog::append`] hands the record to one writer (a thread for SQLite, a task
//! for PostgreSQL) through a bounded queue. The writer takes whatever has queued up (up to
//! 512 records) and commits it as one transaction that also reads and moves the chain head, so several
//! processes or gateway replicas writing one database still build one linear chain: SQLite's
//! `BEGIN IMMEDIATE` and PostgreSQL's `SELECT … FOR UPDATE` on the head row serialise the writers.

mod sqlite;

#[cfg(feature = "postgres")]
mod postgres;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

/// `prev_hash` of record 1.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Most records one writer transaction commits.
const BATCH_MAX: usize = 512;
/// Records the writer holds for a retry while the database fails; past this, new ones are counted as dropped.
const RETAIN_MAX: usize = 8 * BATCH_MAX;
/// Problems `verify` lists before it only counts them.
const PROBLEM_CAP: usize = 1_000;

/// One request's decision, as the gateway records it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// When the request arrived, unix milliseconds.
    pub ts_ms: i64,
    pub request_id: String,
    /// Public id of the virtual key (`rk-<id>_…`), never the key.
    pub key_id: Option<String>,
    pub role: Option<String>,
    /// Path such as `/v1/chat/completions`.
    pub endpoint: String,
    pub model: Option<String>,
    /// "allow" | "redact" | "block" | "error"
    pub action: String,
    /// HTTP status returned to the client.
    pub status: u16,
    pub findings: Vec<AuditFinding>,
    pub latency_ms: f64,
    pub upstream_ms: Option<f64>,
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    /// Short error or block reason; never raw secret values.
    pub reason: Option<String>,
}

/// One detector finding behind a decision: where, which rule, how bad. Never the matched text.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditFinding {
    /// "input" | "output" | "document"
    pub direction: String,
    pub scanner: String,
    pub rule: String,
    pub category: String,
    pub severity: String,
    pub score: f32,
    /// Byte offsets in the scanned text.
    pub start: usize,
    pub end: usize,
    /// Where the scanned text is in the body (`messages[2].content`, `tools[0].function.description`).
    /// Absent in records written before the field existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// Where the audit log lives (`[audit]` in the gateway config).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// `sqlite` (default: `<data_dir>/audit.db`) or `postgres` (needs `url` and the `postgres` feature).
    pub backend: AuditBackend,
    /// PostgreSQL connection URL, e.g. `postgres://rampart:secret@127.0.0.1:5432/rampart`.
    pub url: Option<String>,
    /// PostgreSQL table-name prefix: `<prefix>audit_log` and `<prefix>audit_head`. Lower-case letters,
    /// digits and `_`, at most 40 characters.
    pub table_prefix: String,
    /// Records that may wait for the writer. When full, further records are dropped and counted, and the
    /// writer appends an `action = "error"` record saying how many were lost.
    pub queue_capacity: usize,
    /// SQLite only: `normal` (default) or `full`. The writer commits batches in WAL mode; with `normal` a
    /// commit reaches the operating system but is synced to disk at checkpoints, so a process crash loses
    /// nothing and a power cut or kernel crash may lose the last batches (the chain stays intact: records go
    /// missing only from its end). `full` syncs every batch, at about a tenth of the gateway's CPU under load.
    pub synchronous: AuditSync,
}

/// How hard the SQLite writer pushes each committed batch to disk (`PRAGMA synchronous`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditSync {
    /// Synced at WAL checkpoints: durable across process crashes.
    #[default]
    Normal,
    /// Synced at every commit: durable across power loss too.
    Full,
}

impl Default for AuditConfig {
    fn default() -> AuditConfig {
        AuditConfig {
            backend: AuditBackend::Sqlite,
            url: None,
            table_prefix: "rampart_".to_string(),
            queue_capacity: 65_536,
            synchronous: AuditSync::Normal,
        }
    }
}

/// Audit storage backend.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditBackend {
    /// Embedded SQLite file `<data_dir>/audit.db`.
    #[default]
    Sqlite,
    /// PostgreSQL, shared by several gateway replicas.
    Postgres,
}

/// A record as stored, with its place in the chain.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StoredRecord {
    pub seq: u64,
    pub prev_hash: String,
    pub hash: String,
    pub record: AuditRecord,
}

/// What [`AuditLog::verify`] found.
#[derive(Clone, Debug, Serialize)]
pub struct VerifyReport {
    /// Records read.
    pub records: u64,
    /// No problem found.
    pub ok: bool,
    /// One line per problem, each naming a seq: `"seq 17: hash mismatch (record edited)"`.
    pub problems: Vec<String>,
    /// Seq of the last record read (0 for an empty log): keep it with `head_hash` outside the database
    /// to detect later truncation or rewriting.
    pub head_seq: u64,
    /// Hash of the last record read ([`GENESIS_HASH`] for an empty log).
    pub head_hash: String,
}

/// A hash recorded outside the database for a given seq, e.g. from an earlier [`VerifyReport`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchor {
    pub seq: u64,
    pub hash: String,
}

impl std::str::FromStr for Anchor {
    type Err = AuditError;

    /// `SEQ:HASH`, e.g. `120:3f5a…` (64 hex digits).
    fn from_str(s: &str) -> Result<Anchor, AuditError> {
        let bad = || AuditError::Config(format!("anchor `{s}`: expected SEQ:HASH (64 hex digits)"));
        let (seq, hash) = s.split_once(':').ok_or_else(bad)?;
        let seq: u64 = seq.trim().parse().map_err(|_| bad())?;
        let hash = hash.trim().to_ascii_lowercase();
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        Ok(Anchor { seq, hash })
    }
}

/// Which records [`AuditLog::search`] returns: every given field must match (AND).
#[derive(Clone, Debug, Default)]
pub struct SearchFilter {
    pub key_id: Option<String>,
    pub action: Option<String>,
    /// A finding with exactly this rule id.
    pub rule: Option<String>,
    pub model: Option<String>,
    /// Records at or after this time, unix milliseconds.
    pub since_ms: Option<i64>,
    /// The most recent `limit` matches; 0 means no limit.
    pub limit: usize,
}

/// Errors of the audit log.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit configuration: {0}")]
    Config(String),
    #[error("audit.backend = \"postgres\" needs a build with the `postgres` feature")]
    PostgresNotBuilt,
    #[error("the audit log needs a tokio runtime")]
    NoRuntime,
    #[error("creating data directory {}: {source}", path.display())]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no audit log at {}", .0.display())]
    Missing(PathBuf),
    #[error("starting the audit writer: {0}")]
    Spawn(std::io::Error),
    #[error("audit database (SQLite): {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[cfg(feature = "postgres")]
    #[error("audit database (PostgreSQL): {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[cfg(feature = "postgres")]
    #[error("audit database (PostgreSQL) connection pool: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("audit record seq {seq}: {reason}")]
    Corrupt { seq: i64, reason: String },
    #[error("serialising an audit record: {0}")]
    Serialise(#[from] serde_json::Error),
    #[error("writing the audit log: {0}")]
    Write(String),
    #[error("the audit writer has stopped")]
    WriterGone,
    #[error("audit task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Handle to the audit log. Cheap to clone; all clones feed the same writer.
///
/// Dropping the last clone lets the writer commit what is queued and stop; call [`AuditLog::flush`] before
/// a process exits to be sure everything is on disk.
#[derive(Clone)]
pub struct AuditLog {
    inner: Arc<Inner>,
    reader: AuditReader,
}

struct Inner {
    tx: mpsc::Sender<Msg>,
    dropped: Arc<AtomicU64>,
}

/// Read-only access to an existing audit log: verify, tail, search. Starts no writer and creates nothing,
/// so it works for an auditor who may only read the database. Cheap to clone.
#[derive(Clone)]
pub struct AuditReader {
    backend: Reader,
}

#[derive(Clone)]
enum Reader {
    Sqlite(sqlite::SqliteReader),
    #[cfg(feature = "postgres")]
    Postgres(postgres::PgReader),
}

/// What the writer receives.
pub(crate) enum Msg {
    Record(Box<AuditRecord>),
    /// Answered once every record queued before it is committed (or the commit failed).
    Flush(oneshot::Sender<Result<(), String>>),
}

fn check_backend(cfg: &AuditConfig) -> Result<(), AuditError> {
    match cfg.backend {
        AuditBackend::Sqlite if cfg.url.is_some() => Err(AuditError::Config(
            "audit.url is only used with backend = \"postgres\"".into(),
        )),
        AuditBackend::Sqlite => Ok(()),
        #[cfg(feature = "postgres")]
        AuditBackend::Postgres => Ok(()),
        #[cfg(not(feature = "postgres"))]
        AuditBackend::Postgres => Err(AuditError::PostgresNotBuilt),
    }
}

impl AuditLog {
    /// sqlite: `<data_dir>/audit.db` (created with `data_dir` if missing); postgres: `cfg.url` (feature
    /// "postgres", else [`AuditError::PostgresNotBuilt`]), creating the tables if missing. Starts the
    /// writer. Must run inside a tokio runtime; the PostgreSQL backend needs its IO and time drivers
    /// (`enable_all`, as `#[tokio::main]` does).
    pub async fn open(cfg: &AuditConfig, data_dir: &Path) -> Result<AuditLog, AuditError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| AuditError::NoRuntime)?;
        check_backend(cfg)?;
        let (tx, rx) = mpsc::channel(cfg.queue_capacity.max(1));
        let dropped = Arc::new(AtomicU64::new(0));
        let pending = Pending::new(Arc::clone(&dropped));
        let backend = match cfg.backend {
            AuditBackend::Sqlite => {
                let path = data_dir.join("audit.db");
                let dir = data_dir.to_path_buf();
                let sync = cfg.synchronous;
                let reader = runtime
                    .spawn_blocking(move || sqlite::start(&dir, path, sync, rx, pending))
                    .await??;
                Reader::Sqlite(reader)
            }
            #[cfg(feature = "postgres")]
            AuditBackend::Postgres => Reader::Postgres(postgres::start(cfg, rx, pending).await?),
            #[cfg(not(feature = "postgres"))]
            AuditBackend::Postgres => return Err(AuditError::PostgresNotBuilt),
        };
        Ok(AuditLog {
            inner: Arc::new(Inner { tx, dropped }),
            reader: AuditReader { backend },
        })
    }

    /// Never blocks the request path: queues to ONE writer that assigns seq, prev_hash and hash.
    ///
    /// When the queue is full (the database is stalled) the record is dropped and counted; the writer then
    /// records the loss itself, so the gap is visible in the chain.
    pub fn append(&self, rec: AuditRecord) {
        if self.inner.tx.try_send(Msg::Record(Box::new(rec))).is_err() {
            self.inner.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Resolves once everything appended before the call is durable (committed), or with the error of the
    /// commit that failed. Waits for queue space, so keep it off the request path.
    pub async fn flush(&self) -> Result<(), AuditError> {
        let (done, answer) = oneshot::channel();
        self.inner
            .tx
            .send(Msg::Flush(done))
            .await
            .map_err(|_| AuditError::WriterGone)?;
        answer
            .await
            .map_err(|_| AuditError::WriterGone)?
            .map_err(AuditError::Write)
    }

    /// Records dropped because the queue was full, not yet written to the log as a loss record.
    pub fn dropped_pending(&self) -> u64 {
        self.inner.dropped.load(Ordering::Relaxed)
    }

    /// The read side of this log.
    pub fn reader(&self) -> &AuditReader {
        &self.reader
    }

    /// See [`AuditReader::verify`].
    pub async fn verify(&self) -> Result<VerifyReport, AuditError> {
        self.reader.verify().await
    }

    /// See [`AuditReader::verify_anchored`].
    pub async fn verify_anchored(&self, anchors: &[Anchor]) -> Result<VerifyReport, AuditError> {
        self.reader.verify_anchored(anchors).await
    }

    /// See [`AuditReader::tail`].
    pub async fn tail(&self, n: usize) -> Result<Vec<StoredRecord>, AuditError> {
        self.reader.tail(n).await
    }

    /// See [`AuditReader::search`].
    pub async fn search(&self, filter: &SearchFilter) -> Result<Vec<StoredRecord>, AuditError> {
        self.reader.search(filter).await
    }
}

impl AuditReader {
    /// sqlite: `<data_dir>/audit.db`, which must exist ([`AuditError::Missing`] otherwise); postgres:
    /// `cfg.url`, whose tables must exist. Must run inside a tokio runtime (PostgreSQL: with IO and time
    /// enabled).
    pub async fn open(cfg: &AuditConfig, data_dir: &Path) -> Result<AuditReader, AuditError> {
        tokio::runtime::Handle::try_current().map_err(|_| AuditError::NoRuntime)?;
        check_backend(cfg)?;
        let backend = match cfg.backend {
            AuditBackend::Sqlite => {
                let path = data_dir.join("audit.db");
                if !path.is_file() {
                    return Err(AuditError::Missing(path));
                }
                Reader::Sqlite(sqlite::SqliteReader::new(path))
            }
            #[cfg(feature = "postgres")]
            AuditBackend::Postgres => Reader::Postgres(postgres::reader(cfg)?),
            #[cfg(not(feature = "postgres"))]
            AuditBackend::Postgres => return Err(AuditError::PostgresNotBuilt),
        };
        Ok(AuditReader { backend })
    }

    /// Checks the whole chain in one consistent snapshot; see [`VerifyReport`]. Reads every record once
    /// (streaming, constant memory).
    pub async fn verify(&self) -> Result<VerifyReport, AuditError> {
        self.verify_anchored(&[]).await
    }

    /// [`AuditReader::verify`], and also that the record at each anchor's seq still has the anchored hash.
    pub async fn verify_anchored(&self, anchors: &[Anchor]) -> Result<VerifyReport, AuditError> {
        let check = ChainCheck::new(anchors.to_vec());
        match &self.backend {
            Reader::Sqlite(r) => {
                let r = r.clone();
                tokio::task::spawn_blocking(move || r.verify(check)).await?
            }
            #[cfg(feature = "postgres")]
            Reader::Postgres(r) => r.verify(check).await,
        }
    }

    /// The last `n` records, oldest first.
    pub async fn tail(&self, n: usize) -> Result<Vec<StoredRecord>, AuditError> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let filter = SearchFilter {
            limit: n,
            ..SearchFilter::default()
        };
        self.search(&filter).await
    }

    /// The most recent `filter.limit` records matching `filter`, oldest first.
    pub async fn search(&self, filter: &SearchFilter) -> Result<Vec<StoredRecord>, AuditError> {
        match &self.backend {
            Reader::Sqlite(r) => {
                let (r, filter) = (r.clone(), filter.clone());
                tokio::task::spawn_blocking(move || r.search(&filter)).await?
            }
            #[cfg(feature = "postgres")]
            Reader::Postgres(r) => r.search(filter).await,
        }
    }
}

/// The chain link of record `seq`: hex SHA-256 over a version tag, the previous hash, seq and the body.
/// Anyone can recompute it; docs/audit.md shows how with standard tools.
pub fn chain_hash(prev_hash: &str, seq: u64, body: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"rampart-audit-v1\n");
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(seq.to_string().as_bytes());
    h.update(b"\n");
    h.update(body.as_bytes());
    let digest = h.finalize();
    let mut out = String::with_capacity(64);
    for b in digest.iter() {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The canonical body: serde_json of the record with fields in declaration order. The stored text is what
/// is hashed, so verification never depends on re-serialising.
fn canonical_body(rec: &AuditRecord) -> Result<String, AuditError> {
    Ok(serde_json::to_string(rec)?)
}

/// JSON has no NaN or infinity (serde_json would write `null`, which does not read back as a number);
/// such timings become 0 / absent before the record is sealed.
fn normalise(rec: &mut AuditRecord) {
    if !rec.latency_ms.is_finite() {
        rec.latency_ms = 0.0;
    }
    if rec.upstream_ms.is_some_and(|v| !v.is_finite()) {
        rec.upstream_ms = None;
    }
    for f in &mut rec.findings {
        if !f.score.is_finite() {
            f.score = 0.0;
        }
    }
}

/// The columns stored beside the body so searches can use indexes. `verify` checks they agree with the
/// (hashed) body, so editing them is detected too.
#[derive(Debug, PartialEq)]
pub(crate) struct Columns {
    pub ts_ms: i64,
    pub key_id: Option<String>,
    pub action: String,
    pub model: Option<String>,
    /// Distinct rule ids of the findings, sorted, as `|a|b|` (empty when none) so `|rule|` is a substring test.
    pub rules: String,
}

impl Columns {
    pub(crate) fn of(rec: &AuditRecord) -> Columns {
        let mut rules: Vec<&str> = rec.findings.iter().map(|f| f.rule.as_str()).collect();
        rules.sort_unstable();
        rules.dedup();
        let rules = if rules.is_empty() {
            String::new()
        } else {
            format!("|{}|", rules.join("|"))
        };
        Columns {
            ts_ms: rec.ts_ms,
            key_id: rec.key_id.clone(),
            action: rec.action.clone(),
            model: rec.model.clone(),
            rules,
        }
    }

    /// Names of the columns that differ.
    fn differences(&self, other: &Columns) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.ts_ms != other.ts_ms {
            out.push("ts_ms");
        }
        if self.key_id != other.key_id {
            out.push("key_id");
        }
        if self.action != other.action {
            out.push("action");
        }
        if self.model != other.model {
            out.push("model");
        }
        if self.rules != other.rules {
            out.push("rules");
        }
        out
    }
}

/// The `|rule|` needle for a rule search.
pub(crate) fn rule_needle(rule: &str) -> String {
    format!("|{rule}|")
}

/// A record ready to insert: chained and serialised.
pub(crate) struct SealedRow {
    pub seq: i64,
    pub prev_hash: String,
    pub hash: String,
    pub columns: Columns,
    pub body: String,
}

/// Chains `records` after the head (`head_seq`, `head_hash`) read inside the writing transaction.
pub(crate) fn seal(
    head_seq: i64,
    head_hash: &str,
    records: &[AuditRecord],
) -> Result<Vec<SealedRow>, AuditError> {
    if head_seq < 0 {
        return Err(AuditError::Corrupt {
            seq: head_seq,
            reason: "head row has a negative seq".into(),
        });
    }
    let mut prev = head_hash.to_string();
    let mut out = Vec::with_capacity(records.len());
    for (seq, rec) in (head_seq + 1..).zip(records) {
        let body = canonical_body(rec)?;
        let hash = chain_hash(&prev, seq.unsigned_abs(), &body);
        out.push(SealedRow {
            seq,
            prev_hash: std::mem::replace(&mut prev, hash.clone()),
            hash,
            columns: Columns::of(rec),
            body,
        });
    }
    Ok(out)
}

/// Turns a stored row into a [`StoredRecord`]; a body that does not parse is an error naming the seq.
pub(crate) fn stored_record(
    seq: i64,
    prev_hash: String,
    hash: String,
    body: &str,
) -> Result<StoredRecord, AuditError> {
    let record = serde_json::from_str(body).map_err(|e| AuditError::Corrupt {
        seq,
        reason: format!("body is not an audit record ({e}); run `rampart audit verify`"),
    })?;
    Ok(StoredRecord {
        seq: seq.unsigned_abs(),
        prev_hash,
        hash,
        record,
    })
}

/// The writer's state between commits: records not yet committed and flushes waiting for them.
pub(crate) struct Pending {
    pub records: Vec<AuditRecord>,
    flushers: Vec<oneshot::Sender<Result<(), String>>>,
    dropped: Arc<AtomicU64>,
}

impl Pending {
    pub(crate) fn new(dropped: Arc<AtomicU64>) -> Pending {
        Pending {
            records: Vec::new(),
            flushers: Vec::new(),
            dropped,
        }
    }

    pub(crate) fn absorb(&mut self, msg: Msg) {
        match msg {
            Msg::Record(mut rec) => {
                if self.records.len() < RETAIN_MAX {
                    normalise(&mut rec);
                    self.records.push(*rec);
                } else {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
            Msg::Flush(done) => self.flushers.push(done),
        }
    }

    /// Takes up to a batch of further queued messages without waiting.
    pub(crate) fn absorb_queued(&mut self, rx: &mut mpsc::Receiver<Msg>) {
        for _ in 0..BATCH_MAX {
            match rx.try_recv() {
                Ok(msg) => self.absorb(msg),
                Err(_) => break,
            }
        }
    }

    /// Turns records lost to a full queue into one record of the loss, so the gap is itself audited.
    pub(crate) fn note_dropped(&mut self) {
        let n = self.dropped.swap(0, Ordering::Relaxed);
        if n > 0 {
            self.records.push(AuditRecord {
                ts_ms: crate::db::unix_millis(),
                endpoint: "audit".into(),
                action: "error".into(),
                status: 0,
                reason: Some(format!(
                    "audit queue full: {n} record(s) dropped before this one"
                )),
                ..AuditRecord::default()
            });
        }
    }

    /// Someone waits for the records queued so far to be committed.
    pub(crate) fn flush_waiting(&self) -> bool {
        !self.flushers.is_empty()
    }

    pub(crate) fn has_work(&self) -> bool {
        !self.records.is_empty() || !self.flushers.is_empty()
    }

    pub(crate) fn committed(&mut self) {
        self.records.clear();
        for done in self.flushers.drain(..) {
            let _ = done.send(Ok(()));
        }
    }

    /// Tells waiting flushes about the failure; the records stay for the next attempt.
    pub(crate) fn failed(&mut self, err: &AuditError) {
        let msg = err.to_string();
        for done in self.flushers.drain(..) {
            let _ = done.send(Err(msg.clone()));
        }
    }
}

/// A stored row as `verify` reads it.
pub(crate) struct RawRow {
    pub seq: i64,
    pub prev_hash: String,
    pub hash: String,
    pub columns: Columns,
    pub body: String,
}

/// Walks the rows in seq order and collects problems; independent of the backend.
pub(crate) struct ChainCheck {
    anchors: Vec<Anchor>,
    anchors_seen: Vec<bool>,
    next_seq: i64,
    last_seq: i64,
    last_hash: String,
    records: u64,
    problems: Vec<String>,
    omitted: u64,
}

impl ChainCheck {
    pub(crate) fn new(anchors: Vec<Anchor>) -> ChainCheck {
        ChainCheck {
            anchors_seen: vec![false; anchors.len()],
            anchors,
            next_seq: 1,
            last_seq: 0,
            last_hash: GENESIS_HASH.to_string(),
            records: 0,
            problems: Vec::new(),
            omitted: 0,
        }
    }

    fn problem(&mut self, text: String) {
        if self.problems.len() < PROBLEM_CAP {
            self.problems.push(text);
        } else {
            self.omitted += 1;
        }
    }

    /// Rows must come in ascending seq order.
    pub(crate) fn row(&mut self, row: &RawRow) {
        self.records += 1;
        let seq = row.seq;
        if seq < self.next_seq {
            self.problem(format!(
                "seq {seq}: not a valid position in the chain (record inserted)"
            ));
            return;
        }
        if seq > self.next_seq {
            let gap = missing(self.next_seq, seq - 1);
            self.problem(format!("seq {seq}: {gap} (dropped)"));
        } else if row.prev_hash != self.last_hash {
            let before = if seq == 1 {
                "the genesis value".to_string()
            } else {
                format!("the hash of seq {}", seq - 1)
            };
            self.problem(format!(
                "seq {seq}: prev_hash does not match {before} (a record rewritten, inserted or reordered before it)"
            ));
        }
        let expected = chain_hash(&row.prev_hash, seq.unsigned_abs(), &row.body);
        if expected != row.hash {
            self.problem(format!("seq {seq}: hash mismatch (record edited)"));
        } else {
            match serde_json::from_str::<AuditRecord>(&row.body) {
                Ok(rec) => {
                    let diff = Columns::of(&rec).differences(&row.columns);
                    if !diff.is_empty() {
                        self.problem(format!(
                            "seq {seq}: column(s) {} disagree with the hashed record (columns edited)",
                            diff.join(", ")
                        ));
                    }
                }
                Err(e) => self.problem(format!(
                    "seq {seq}: hashed body is not an audit record ({e})"
                )),
            }
        }
        for i in 0..self.anchors.len() {
            if self.anchors[i].seq == seq.unsigned_abs() {
                self.anchors_seen[i] = true;
                if self.anchors[i].hash != row.hash {
                    self.problem(format!(
                        "seq {seq}: hash differs from the anchor (log rewritten up to here)"
                    ));
                }
            }
        }
        self.next_seq = seq + 1;
        self.last_seq = seq;
        self.last_hash = row.hash.clone();
    }

    /// Compares the end of the log with the head row (`None` if it is missing) and reports unseen anchors.
    pub(crate) fn finish(mut self, head: Option<(i64, String)>) -> VerifyReport {
        match head {
            None => self.problem("head row missing (deleted)".into()),
            Some((head_seq, head_hash)) => {
                let last = self.last_seq;
                if head_seq > last {
                    let gap = missing(last + 1, head_seq);
                    self.problem(format!(
                        "head: the chain head is seq {head_seq} but the log ends at seq {last}: {gap} (tail truncated)"
                    ));
                } else if head_seq < last {
                    self.problem(format!(
                        "head: records {}..={last} lie past the chain head seq {head_seq} (appended outside the writer)",
                        head_seq + 1
                    ));
                } else if head_hash != self.last_hash {
                    self.problem(format!(
                        "head: hash of seq {last} differs from the chain head (last record or head rewritten)"
                    ));
                }
            }
        }
        for i in 0..self.anchors.len() {
            if !self.anchors_seen[i] {
                let seq = self.anchors[i].seq;
                self.problem(format!(
                    "seq {seq}: anchored record is not in the log (truncated or dropped)"
                ));
            }
        }
        if self.omitted > 0 {
            let more = self.omitted;
            self.problems
                .push(format!("… and {more} more problem(s) not listed"));
        }
        VerifyReport {
            records: self.records,
            ok: self.problems.is_empty(),
            problems: self.problems,
            head_seq: self.last_seq.unsigned_abs(),
            head_hash: self.last_hash,
        }
    }
}

/// "record 5 is missing" / "records 5..=9 are missing".
fn missing(first: i64, last: i64) -> String {
    if first == last {
        format!("record {first} is missing")
    } else {
        format!("records {first}..={last} are missing")
    }
}

#[cfg(test)]
mod tests;
