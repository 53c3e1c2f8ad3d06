//! Virtual API keys: what clients present to the gateway instead of a provider's key.
//!
//! A key reads `rk-<id>_<secret>`:
//! - `id` is 8 base32 characters (40 random bits). It is public: logs, metrics and the audit trail name a
//!   key by its id, and `rampart keys revoke ID` takes it.
//! - `secret` is 52 base32 characters carrying 256 bits from the operating system's random number
//!   generator. It exists only in the string [`KeyStore::create`] returns once.
//!
//! The store keeps `SHA-256(whole key)` in `<data_dir>/rampart.db` (SQLite, WAL), never the key itself.
//!
//! **Why SHA-256 and not a password hash such as argon2.** A password hash is slow on purpose, because
//! passwords come from a small space an attacker can enumerate: slowing each guess is the only defence.
//! These secrets are 256 uniformly random bits, so someone holding a stolen hash faces 2^256 candidates
//! (2^255 on average) whatever the cost of one guess; SHA-256's preimage resistance alone settles it, and
//! stretching would add nothing but latency. A memory-hard hash would instead cost milliseconds and megabytes
//! on *every* request and hand anyone holding a malformed-but-plausible key a cheap way to exhaust the
//! gateway's CPU. One SHA-256 of 64 bytes costs well under a microsecond.
//!
//! Hashes are compared in constant time ([`subtle`]), so response timing reveals nothing about how much of
//! a guessed secret was right.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, params};
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::db;

/// Every key starts with this.
pub const KEY_PREFIX: &str = "rk-";
/// Random bytes behind an id (8 base32 characters).
const ID_BYTES: usize = 5;
const ID_CHARS: usize = 8;
/// Random bytes behind a secret (52 base32 characters).
const SECRET_BYTES: usize = 32;
const SECRET_CHARS: usize = 52;
/// `rk-` + id + `_` + secret.
const KEY_CHARS: usize = KEY_PREFIX.len() + ID_CHARS + 1 + SECRET_CHARS;
/// RFC 4648 base32 alphabet, lower-cased: no `_` (the separator), nothing to escape in a header or URL.
const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
/// Entries (known and unknown ids) the verify cache holds before it starts over; bounds the memory a
/// client can make the cache use by presenting well-formed keys with random ids.
const CACHE_CAP: usize = 65_536;
/// Longest accepted duration for `parse_duration`: 100 years of 365.25 days.
const MAX_DURATION_SECS: u64 = 3_155_760_000;
/// Schema version kept in SQLite's `user_version`.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS api_keys (
    id          TEXT PRIMARY KEY NOT NULL,
    key_sha256  BLOB NOT NULL,
    role        TEXT NOT NULL,
    name        TEXT,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    revoked_at  INTEGER
) STRICT;
";

const COLUMNS: &str = "id, key_sha256, role, name, created_at, expires_at, revoked_at";

/// Errors of the key store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("key store database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("creating data directory {}: {source}", path.display())]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} was created by a newer Rampart (schema {found}, this build knows {SCHEMA_VERSION})", path.display())]
    NewerSchema { path: PathBuf, found: i64 },
    #[error("operating-system random number generator: {0}")]
    Random(String),
    #[error("invalid duration `{input}`: {reason}")]
    InvalidDuration { input: String, reason: &'static str },
    #[error("invalid role `{0}`: use 1 to 64 characters from A-Z a-z 0-9 . _ -")]
    InvalidRole(String),
    #[error("invalid key name: {0}")]
    InvalidName(&'static str),
    #[error("could not find an unused key id")]
    IdsExhausted,
    #[error("stored key `{0}` is malformed (hash is not 32 bytes)")]
    CorruptHash(String),
}

/// What the store knows about a key; never the key or its hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    /// Public id, the part between `rk-` and `_`.
    pub id: String,
    /// Gateway role (from the config's `roles`) whose policy applies to requests with this key.
    pub role: String,
    /// Free-form label for people ("ci-bot", "alice laptop").
    pub name: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; the key stops working at this instant.
    pub expires_at: Option<i64>,
    /// Unix seconds; set once by [`KeyStore::revoke`].
    pub revoked_at: Option<i64>,
}

impl KeyInfo {
    /// Whether the key would be accepted at `now` (unix seconds), given a matching secret.
    pub fn is_active(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

/// The key store: create, verify, revoke and list virtual API keys.
///
/// Cheap to clone (an `Arc`); clones share one SQLite connection and one cache. Separate handles
/// (other [`KeyStore::open`] calls, other processes such as `rampart keys revoke`) may write the same
/// database: [`KeyStore::verify`] notices their commits through SQLite's `PRAGMA data_version` and drops
/// its cache, so a revocation takes effect on the very next request.
#[derive(Clone)]
pub struct KeyStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    state: Mutex<State>,
}

struct State {
    conn: Connection,
    /// `PRAGMA data_version` when the cache was last known to match the database.
    data_version: Option<i64>,
    /// id → stored key, or `None` for an id known not to exist.
    cache: HashMap<String, Option<Arc<StoredKey>>>,
}

struct StoredKey {
    hash: [u8; 32],
    info: KeyInfo,
}

impl KeyStore {
    /// Opens or creates `<data_dir>/rampart.db` (SQLite, WAL). Creates `data_dir` if missing.
    pub fn open(data_dir: &Path) -> Result<KeyStore, StoreError> {
        db::create_data_dir(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join("rampart.db");
        let conn = db::open_rw(&path)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path,
                found: version,
            });
        }
        conn.execute_batch(SCHEMA)?;
        if version < SCHEMA_VERSION {
            conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        }
        Ok(KeyStore {
            inner: Arc::new(Inner {
                path,
                state: Mutex::new(State {
                    conn,
                    data_version: None,
                    cache: HashMap::new(),
                }),
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// New key `rk-<id>_<secret>` (secret: 256 bits from the OS RNG); stores only a SHA-256 hash of the key.
    /// Returns the info and the full key, which is shown once and never stored.
    ///
    /// `role` is 1 to 64 characters from `A-Z a-z 0-9 . _ -`; `name` at most 200 characters without control
    /// characters. One INSERT with a durable commit.
    pub fn create(
        &self,
        role: &str,
        name: Option<&str>,
        expires_in: Option<Duration>,
    ) -> Result<(KeyInfo, String), StoreError> {
        validate_role(role)?;
        if let Some(n) = name {
            validate_name(n)?;
        }
        let created_at = db::unix_secs();
        let expires_at = expires_in
            .map(|d| created_at.saturating_add(i64::try_from(d.as_secs()).unwrap_or(i64::MAX)));
        let mut state = self.lock();
        // 40-bit ids collide rarely enough that a handful of retries is plenty.
        for _ in 0..8 {
            let id = random_base32::<ID_BYTES>()?;
            let secret = random_base32::<SECRET_BYTES>()?;
            let key = format!("{KEY_PREFIX}{id}_{secret}");
            let hash = key_hash(&key);
            let inserted = state.conn.execute(
                "INSERT INTO api_keys (id, key_sha256, role, name, created_at, expires_at, revoked_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL)",
                params![id, &hash[..], role, name, created_at, expires_at],
            );
            match inserted {
                Ok(_) => {
                    // A negative cache entry for this id may exist; our own commits do not move this
                    // connection's data_version, so forget the id by hand.
                    state.cache.remove(&id);
                    let info = KeyInfo {
                        id,
                        role: role.to_string(),
                        name: name.map(str::to_string),
                        created_at,
                        expires_at,
                        revoked_at: None,
                    };
                    return Ok((info, key));
                }
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == ErrorCode::ConstraintViolation =>
                {
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::IdsExhausted)
    }

    /// The key's info if it exists, is not revoked and not expired; constant-time comparison of hashes.
    ///
    /// Sees a revocation made by another handle or process on the very next call: each call asks SQLite for
    /// `PRAGMA data_version` (a read of the WAL index in shared memory, no disk I/O) and drops the cache when
    /// another connection has committed. With a warm cache a call costs one SHA-256, that pragma and a hash
    /// map lookup under a mutex; a cold id costs one indexed SELECT more.
    ///
    /// Anything that is not a well-formed key (wrong prefix, length or alphabet) is `Ok(None)`, never an
    /// error: errors mean the database failed.
    pub fn verify(&self, presented: &str) -> Result<Option<KeyInfo>, StoreError> {
        let Some(id) = parse_key(presented) else {
            return Ok(None);
        };
        let presented_hash = key_hash(presented);
        let stored = {
            let mut state = self.lock();
            state.sync()?;
            match state.cache.get(id) {
                Some(entry) => entry.clone(),
                None => {
                    let entry = state
                        .conn
                        .prepare_cached(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = ?1"))?
                        .query_row([id], stored_key)
                        .optional()?
                        .map(|r| r.map(Arc::new))
                        .transpose()?;
                    if state.cache.len() >= CACHE_CAP {
                        state.cache.clear();
                    }
                    state.cache.insert(id.to_string(), entry.clone());
                    entry
                }
            }
        };
        let Some(stored) = stored else {
            return Ok(None);
        };
        if !bool::from(stored.hash.ct_eq(&presented_hash)) {
            return Ok(None);
        }
        if !stored.info.is_active(db::unix_secs()) {
            return Ok(None);
        }
        Ok(Some(stored.info.clone()))
    }

    /// Revokes key `id` at once. `true` if the key existed and was not yet revoked; `false` if it is unknown
    /// or already revoked (the first revocation time is kept).
    pub fn revoke(&self, id: &str) -> Result<bool, StoreError> {
        let mut state = self.lock();
        let changed = state.conn.execute(
            "UPDATE api_keys SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL",
            params![db::unix_secs(), id],
        )?;
        state.cache.remove(id);
        Ok(changed == 1)
    }

    /// One key's info, whatever its state.
    pub fn get(&self, id: &str) -> Result<Option<KeyInfo>, StoreError> {
        let state = self.lock();
        let mut stmt = state
            .conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = ?1"))?;
        Ok(stmt
            .query_row([id], stored_key)
            .optional()?
            .transpose()?
            .map(|k| k.info))
    }

    /// Every key (active, expired and revoked), oldest first.
    pub fn list(&self) -> Result<Vec<KeyInfo>, StoreError> {
        let state = self.lock();
        let mut stmt = state.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM api_keys ORDER BY created_at, id"
        ))?;
        let rows = stmt.query_map([], stored_key)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??.info);
        }
        Ok(out)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock can leave the cache stale but never the database inconsistent
        // (every write is one statement); start the cache over and carry on.
        self.inner.state.lock().unwrap_or_else(|poisoned| {
            let mut state = poisoned.into_inner();
            state.data_version = None;
            state.cache.clear();
            state
        })
    }
}

impl State {
    /// Drops the cache if another connection committed since the last call.
    fn sync(&mut self) -> Result<(), StoreError> {
        let version: i64 = self
            .conn
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |r| r.get(0))?;
        if self.data_version != Some(version) {
            self.cache.clear();
            self.data_version = Some(version);
        }
        Ok(())
    }
}

/// Row of `SELECT {COLUMNS}` → stored key; a hash of the wrong length is reported, not trusted.
fn stored_key(row: &Row<'_>) -> rusqlite::Result<Result<StoredKey, StoreError>> {
    let id: String = row.get(0)?;
    let hash: Vec<u8> = row.get(1)?;
    let info = KeyInfo {
        role: row.get(2)?,
        name: row.get(3)?,
        created_at: row.get(4)?,
        expires_at: row.get(5)?,
        revoked_at: row.get(6)?,
        id,
    };
    Ok(match <[u8; 32]>::try_from(hash.as_slice()) {
        Ok(hash) => Ok(StoredKey { hash, info }),
        Err(_) => Err(StoreError::CorruptHash(info.id)),
    })
}

/// The id of a well-formed key; `None` for anything else.
fn parse_key(presented: &str) -> Option<&str> {
    if presented.len() != KEY_CHARS {
        return None;
    }
    let rest = presented.strip_prefix(KEY_PREFIX)?;
    let (id, secret) = rest.split_at_checked(ID_CHARS)?;
    let secret = secret.strip_prefix('_')?;
    let in_alphabet = |s: &str| s.bytes().all(|b| BASE32.contains(&b));
    (in_alphabet(id) && in_alphabet(secret)).then_some(id)
}

/// What the store keeps for a key: SHA-256 of the whole `rk-…` string (the id is bound into the hash, so a
/// stored hash cannot be moved to another id).
fn key_hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// `N` bytes from the OS RNG, base32 without padding.
fn random_base32<const N: usize>() -> Result<String, StoreError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Random(e.to_string()))?;
    Ok(base32(&bytes))
}

fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((acc >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((acc << (5 - bits)) & 31) as usize]));
    }
    out
}

fn validate_role(role: &str) -> Result<(), StoreError> {
    let ok = !role.is_empty()
        && role.len() <= 64
        && role
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidRole(role.to_string()))
    }
}

fn validate_name(name: &str) -> Result<(), StoreError> {
    if name.chars().count() > 200 {
        return Err(StoreError::InvalidName("longer than 200 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(StoreError::InvalidName("contains control characters"));
    }
    Ok(())
}

/// Parses a whole number followed by one unit: `45s`, `90m`, `12h`, `30d`, `2w`. Zero and more than
/// 100 years are refused.
pub fn parse_duration(s: &str) -> Result<Duration, StoreError> {
    let err = |reason| StoreError::InvalidDuration {
        input: s.to_string(),
        reason,
    };
    let t = s.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| err("missing unit: use s, m, h, d or w"))?;
    let (number, unit) = t.split_at(split);
    if number.is_empty() {
        return Err(err("expected a number before the unit"));
    }
    let unit_secs: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(err("unknown unit: use s, m, h, d or w")),
    };
    let n: u64 = number.parse().map_err(|_| err("number too large"))?;
    if n == 0 {
        return Err(err("must be greater than zero"));
    }
    n.checked_mul(unit_secs)
        .filter(|&secs| secs <= MAX_DURATION_SECS)
        .map(Duration::from_secs)
        .ok_or_else(|| err("longer than 100 years"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, KeyStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = KeyStore::open(dir.path()).unwrap();
        (dir, store)
    }

    #[test]
    fn created_key_has_the_documented_shape_and_verifies() {
        let (_dir, store) = store();
        let (info, key) = store.create("dev", Some("ci bot"), None).unwrap();
        assert_eq!(key.len(), KEY_CHARS);
        assert!(key.starts_with(&format!("rk-{}_", info.id)), "{key}");
        assert_eq!(info.id.len(), ID_CHARS);
        assert_eq!(info.role, "dev");
        assert_eq!(info.name.as_deref(), Some("ci bot"));
        assert_eq!(info.expires_at, None);
        assert_eq!(store.verify(&key).unwrap(), Some(info.clone()));
        // Twice: the second call is served from the cache.
        assert_eq!(store.verify(&key).unwrap(), Some(info));
    }

    #[test]
    fn the_key_itself_is_never_stored() {
        let (dir, store) = store();
        let (_, key) = store.create("dev", None, None).unwrap();
        drop(store);
        let secret = key.split_once('_').unwrap().1;
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "secret found in a database file"
            );
        }
    }

    #[test]
    fn wrong_secret_unknown_id_and_garbage_are_rejected_without_error() {
        let (_dir, store) = store();
        let (info, key) = store.create("dev", None, None).unwrap();
        // Same id, last character of the secret changed.
        let mut wrong = key.clone();
        let last = wrong.pop().unwrap();
        wrong.push(if last == 'a' { 'b' } else { 'a' });
        assert_eq!(store.verify(&wrong).unwrap(), None);
        let unknown = format!(
            "rk-{}_{}",
            "zzzzzzzz",
            &key[KEY_PREFIX.len() + ID_CHARS + 1..]
        );
        assert_ne!(info.id, "zzzzzzzz");
        assert_eq!(store.verify(&unknown).unwrap(), None);
        for garbage in [
            "",
            "rk-",
            "Bearer whatever",
            &key[..key.len() - 1],
            &format!("{key}a"),
            &key.to_uppercase(),
            &key.replacen("rk-", "sk-", 1),
            &key.replacen('_', "-", 1),
            "rk-ééééé_ééééééééééééééééééééééééééééééééééééééééééééééééééé",
        ] {
            assert_eq!(store.verify(garbage).unwrap(), None, "{garbage:?}");
        }
    }

    #[test]
    fn revocation_is_immediate_and_idempotent() {
        let (_dir, store) = store();
        let (info, key) = store.create("dev", None, None).unwrap();
        assert!(store.verify(&key).unwrap().is_some());
        assert!(store.revoke(&info.id).unwrap());
        assert_eq!(store.verify(&key).unwrap(), None);
        assert!(!store.revoke(&info.id).unwrap(), "second revocation");
        assert!(!store.revoke("nosuchid").unwrap());
        let listed = store.get(&info.id).unwrap().unwrap();
        assert!(listed.revoked_at.is_some());
    }

    #[test]
    fn revocation_through_another_handle_is_seen_on_the_next_verify() {
        let dir = tempfile::tempdir().unwrap();
        // The gateway's handle, with its cache warm.
        let gateway = KeyStore::open(dir.path()).unwrap();
        let (info, key) = gateway.create("dev", None, None).unwrap();
        assert!(gateway.verify(&key).unwrap().is_some());
        assert!(gateway.verify(&key).unwrap().is_some());
        // `rampart keys revoke` in another process: its own connection to the same file.
        let cli = KeyStore::open(dir.path()).unwrap();
        assert!(cli.revoke(&info.id).unwrap());
        assert_eq!(gateway.verify(&key).unwrap(), None);
    }

    #[test]
    fn a_remembered_miss_is_forgotten_when_another_connection_adds_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let gateway = KeyStore::open(dir.path()).unwrap();
        let key = format!("rk-abcdefgh_{}", "a".repeat(SECRET_CHARS));
        assert_eq!(
            gateway.verify(&key).unwrap(),
            None,
            "unknown id, now cached as a miss"
        );
        let other = Connection::open(gateway.path()).unwrap();
        other
            .execute(
                "INSERT INTO api_keys (id, key_sha256, role, name, created_at, expires_at, revoked_at)
                 VALUES ('abcdefgh', ?1, 'dev', NULL, 0, NULL, NULL)",
                [&key_hash(&key)[..]],
            )
            .unwrap();
        assert_eq!(
            gateway.verify(&key).unwrap().map(|i| i.role),
            Some("dev".into())
        );
    }

    #[test]
    fn expired_keys_are_rejected_and_listed() {
        let (_dir, store) = store();
        let (_, live) = store
            .create("dev", None, Some(Duration::from_secs(3600)))
            .unwrap();
        // Created with a lifetime of zero: expired at its creation instant, no waiting needed.
        let (gone_info, gone) = store.create("dev", None, Some(Duration::ZERO)).unwrap();
        assert!(store.verify(&live).unwrap().is_some());
        assert_eq!(store.verify(&gone).unwrap(), None);
        let listed = store.list().unwrap();
        assert_eq!(listed.len(), 2);
        let expired = listed.iter().find(|k| k.id == gone_info.id).unwrap();
        assert!(!expired.is_active(db::unix_secs()));
        let live_info = listed.iter().find(|k| k.id != gone_info.id).unwrap();
        assert_eq!(
            live_info.expires_at,
            Some(live_info.created_at + 3600),
            "expiry is relative to creation"
        );
    }

    #[test]
    fn invalid_roles_and_names_are_refused() {
        let (_dir, store) = store();
        for role in ["", "has space", "semi;colon", &"r".repeat(65)] {
            assert!(
                matches!(
                    store.create(role, None, None),
                    Err(StoreError::InvalidRole(_))
                ),
                "{role:?}"
            );
        }
        assert!(matches!(
            store.create("dev", Some("line\nbreak"), None),
            Err(StoreError::InvalidName(_))
        ));
        assert!(store.list().unwrap().is_empty());
    }

    #[test]
    fn a_corrupt_stored_hash_is_an_error_not_a_match() {
        let dir = tempfile::tempdir().unwrap();
        let store = KeyStore::open(dir.path()).unwrap();
        let (info, key) = store.create("dev", None, None).unwrap();
        let conn = Connection::open(store.path()).unwrap();
        conn.execute(
            "UPDATE api_keys SET key_sha256 = x'00' WHERE id = ?1",
            [&info.id],
        )
        .unwrap();
        assert!(matches!(
            store.verify(&key),
            Err(StoreError::CorruptHash(id)) if id == info.id
        ));
    }

    #[test]
    fn reopening_keeps_keys() {
        let dir = tempfile::tempdir().unwrap();
        let (info, key) = KeyStore::open(dir.path())
            .unwrap()
            .create("dev", None, None)
            .unwrap();
        let reopened = KeyStore::open(dir.path()).unwrap();
        assert_eq!(reopened.verify(&key).unwrap(), Some(info));
    }

    #[test]
    fn open_creates_nested_private_data_dirs() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        let store = KeyStore::open(&nested).unwrap();
        assert_eq!(store.path(), nested.join("rampart.db"));
        assert!(store.path().is_file());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&nested).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "data dir readable by others: {mode:o}");
        }
    }

    #[test]
    fn handles_can_be_shared_across_threads() {
        fn shareable<T: Clone + Send + Sync + 'static>() {}
        shareable::<KeyStore>();
        shareable::<crate::audit::AuditLog>();
        shareable::<crate::audit::AuditReader>();
        let (_dir, store) = store();
        let (_, key) = store.create("dev", None, None).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (store, key) = (store.clone(), key.clone());
                std::thread::spawn(move || (0..50).all(|_| store.verify(&key).unwrap().is_some()))
            })
            .collect();
        for t in threads {
            assert!(t.join().unwrap());
        }
    }

    #[test]
    fn base32_matches_rfc4648_vectors() {
        // RFC 4648 §10, lower-cased and without padding.
        for (input, want) in [
            ("", ""),
            ("f", "my"),
            ("fo", "mzxq"),
            ("foo", "mzxw6"),
            ("foob", "mzxw6yq"),
            ("fooba", "mzxw6ytb"),
            ("foobar", "mzxw6ytboi"),
        ] {
            assert_eq!(base32(input.as_bytes()), want, "{input}");
        }
        assert_eq!(base32(&[0u8; SECRET_BYTES]).len(), SECRET_CHARS);
        assert_eq!(base32(&[0u8; ID_BYTES]).len(), ID_CHARS);
    }

    #[test]
    fn parse_duration_accepts_each_unit() {
        for (s, secs) in [
            ("45s", 45),
            ("90m", 5_400),
            ("12h", 43_200),
            ("30d", 2_592_000),
            ("2w", 1_209_600),
            (" 7d ", 604_800),
        ] {
            assert_eq!(parse_duration(s).unwrap(), Duration::from_secs(secs), "{s}");
        }
    }

    #[test]
    fn parse_duration_rejects_malformed_input() {
        for s in [
            "",
            "d",
            "30",
            "30x",
            "30 d",
            "-1d",
            "1.5h",
            "0d",
            "1d2h",
            "30D",
            "99999999999999999999999s",
            "5300w",
            "٣d",
        ] {
            assert!(
                matches!(parse_duration(s), Err(StoreError::InvalidDuration { .. })),
                "{s:?}"
            );
        }
    }
}
