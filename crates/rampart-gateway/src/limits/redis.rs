//! Limits shared by several gateway replicas through Redis (≥ 5, for scripts that read the server
//! clock before writing).
//!
//! One Lua script per request checks and charges rpm, tpm and concurrency atomically, with the same
//! GCRA arithmetic as the memory backend in microseconds of the Redis server's clock, so replicas with
//! skewed clocks still agree. Per key (`<prefix>:limits:{<key id>}:…`, the braces keep one key's
//! state in one Redis Cluster slot):
//! - `rpm`, `tpm`: the TAT as a decimal string, expiring when the TAT passes (then the budget is full,
//!   which is what a missing key means), so idle keys cost nothing;
//! - `conc`: a sorted set of leases, member = permit id, score = lease expiry. A replica renews its
//!   live leases every [`REDIS_LEASE`]/3 and removes them when permits drop; leases of a crashed
//!   replica expire within [`REDIS_LEASE`]. A request that runs longer than that while its replica
//!   cannot reach Redis loses its slot early (the limit is briefly loose, never stuck).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use redis::Script;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::{mpsc, oneshot};

use super::gcra::{self, WINDOW_SECS};
use super::memory::MemoryLimiter;
use super::{
    Admission, CONCURRENCY_RETRY_AFTER, Clock, LimitConfig, LimitError, LimitKind, Permit,
    REDIS_LEASE, RoleLimits, Slot, SystemClock,
};

const WINDOW_US: u64 = WINDOW_SECS * 1_000_000;
/// Leases renewed per script call, so one call stays short.
const RENEW_BATCH: usize = 256;

/// The opening every script shares: `now` in microseconds from ARGV[1], or from the server's clock when it is
/// empty (the clock all replicas agree on).
macro_rules! now_lua {
    () => {
        r"local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
"
    };
}

const CHECK_LUA: &str = concat!(
    r"
-- KEYS: requests TAT, tokens TAT, lease set.
-- ARGV: now in us ('' = server clock), window, rpm check/charge, tpm check/charge
--       (-1 = no limit, -2 = limit 0), max concurrency (-1 = none), lease length, lease member.
-- Returns {0, 0} when admitted, else {kind (1 requests, 2 tokens, 3 concurrency), wait in us}.
",
    now_lua!(),
    r"local window = tonumber(ARGV[2])
local kind, wait = 0, -1
local tats = {}
for i = 1, 2 do
  local check = tonumber(ARGV[2 * i + 1])
  local charge = tonumber(ARGV[2 * i + 2])
  if check == -2 then
    if window > wait then kind, wait = i, window end
  elseif check >= 0 then
    local tat = math.max(tonumber(redis.call('GET', KEYS[i]) or 0), now)
    local allow_at = tat + check - window
    if allow_at > now then
      if allow_at - now > wait then kind, wait = i, allow_at - now end
    else
      tats[i] = tat + charge
    end
  end
end
if wait >= 0 then return {kind, wait} end
local max_conc = tonumber(ARGV[7])
if max_conc >= 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  if redis.call('ZCARD', KEYS[3]) >= max_conc then return {3, 0} end
end
for i = 1, 2 do
  if tats[i] then
    redis.call('SET', KEYS[i], string.format('%.0f', tats[i]), 'PX', math.floor((tats[i] - now) / 1000) + 1)
  end
end
if max_conc >= 0 then
  local lease = tonumber(ARGV[8])
  redis.call('ZADD', KEYS[3], now + lease, ARGV[9])
  redis.call('PEXPIRE', KEYS[3], math.floor(lease / 1000) + 1)
end
return {0, 0}
"
);

const ADJUST_LUA: &str = concat!(
    r"
-- KEYS: tokens TAT. ARGV: now in us ('' = server clock), signed change in us.
",
    now_lua!(),
    r"local delta = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or 0)
if delta >= 0 then tat = math.max(tat, now) + delta else tat = math.max(tat + delta, now) end
if tat > now then
  redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.floor((tat - now) / 1000) + 1)
else
  redis.call('DEL', KEYS[1])
end
return 0
"
);

const RENEW_LUA: &str = concat!(
    r"
-- KEYS: lease sets. ARGV: now in us ('' = server clock), lease length, then one member per key.
",
    now_lua!(),
    r"local lease = tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  if redis.call('ZADD', key, 'XX', 'CH', now + lease, ARGV[i + 2]) == 1 then
    redis.call('PEXPIRE', key, math.floor(lease / 1000) + 1)
  end
end
return 0
"
);

pub(crate) struct RedisLimiter {
    conn: ConnectionManager,
    prefix: String,
    /// `None`: the Redis server's clock.
    clock: Option<Arc<dyn Clock>>,
    fail_open: bool,
    fallback: MemoryLimiter,
    warn: WarnThrottle,
    book: Arc<LeaseBook>,
    check_script: Script,
    adjust_script: Script,
}

impl RedisLimiter {
    pub(crate) async fn connect(
        cfg: &LimitConfig,
        clock: Option<Arc<dyn Clock>>,
    ) -> Result<Self, LimitError> {
        let url = cfg
            .url
            .as_deref()
            .filter(|u| !u.is_empty())
            .ok_or_else(|| {
                LimitError::Config(
                    "backend = \"redis\" needs `url` (redis://host:port/db)".to_owned(),
                )
            })?;
        // The URL may hold a password, so it is never echoed; the parser's errors name only the problem.
        let client = redis::Client::open(url)
            .map_err(|e| LimitError::Config(format!("invalid Redis url: {e}")))?;
        let timeout = Duration::from_millis(cfg.timeout_ms.max(1));
        let manager_cfg = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(1));
        let conn = match ConnectionManager::new_with_config(client.clone(), manager_cfg.clone())
            .await
        {
            Ok(conn) => conn,
            Err(e) if cfg.fail_open => {
                tracing::warn!(error = %e, "Redis for rate limits unreachable at start; limiting per replica until it is");
                ConnectionManager::new_lazy_with_config(client, manager_cfg)
                    .map_err(|e| LimitError::Config(format!("Redis client: {e}")))?
            }
            Err(e) => {
                return Err(LimitError::Unavailable(format!(
                    "cannot connect to Redis: {e}"
                )));
            }
        };
        let (book, releases) = LeaseBook::new();
        let fallback_clock = clock
            .clone()
            .unwrap_or_else(|| Arc::new(SystemClock::default()));
        tokio::spawn(lease_keeper(
            conn.clone(),
            clock.clone(),
            Arc::downgrade(&book),
            releases,
        ));
        Ok(RedisLimiter {
            conn,
            prefix: cfg.prefix.clone(),
            clock,
            fail_open: cfg.fail_open,
            fallback: MemoryLimiter::new(fallback_clock),
            warn: WarnThrottle::new(),
            book,
            check_script: Script::new(CHECK_LUA),
            adjust_script: Script::new(ADJUST_LUA),
        })
    }

    pub(crate) fn fallback(&self) -> &MemoryLimiter {
        &self.fallback
    }

    fn key(&self, key_id: &str, what: &str) -> String {
        format!("{}:limits:{{{key_id}}}:{what}", self.prefix)
    }

    pub(crate) async fn check(
        &self,
        key_id: &str,
        limits: &RoleLimits,
        tokens: u64,
    ) -> Result<Admission, LimitError> {
        let lease_key = self.key(key_id, "conc");
        // Registered before the round trip: if this future is dropped mid-flight, the lease's drop
        // still removes whatever the script may have added.
        let lease = limits
            .max_concurrency
            .map(|_| Lease::register(&self.book, lease_key.clone()));
        let mut call = self.check_script.prepare_invoke();
        call.key(self.key(key_id, "rpm"))
            .key(self.key(key_id, "tpm"))
            .key(&lease_key)
            .arg(now_arg(self.clock.as_deref()))
            .arg(WINDOW_US);
        for (limit, units) in [(limits.rpm, 1), (limits.tpm, tokens)] {
            match limit {
                None => call.arg(-1).arg(0),
                Some(0) => call.arg(-2).arg(0),
                Some(limit) => {
                    let cost = gcra::cost(WINDOW_US, limit, units);
                    call.arg(cost.check).arg(cost.charge)
                }
            };
        }
        call.arg(limits.max_concurrency.map_or(-1, i64::from))
            .arg(duration_us(REDIS_LEASE))
            .arg(lease.as_ref().map_or("", |l| l.member.as_str()));
        let mut conn = self.conn.clone();
        match call.invoke_async::<(i64, i64)>(&mut conn).await {
            Ok((0, _)) => Ok(Admission::Allowed(Permit {
                slot: lease.map(Slot::Remote),
            })),
            Ok((kind, wait_us)) => {
                if let Some(lease) = lease {
                    lease.disarm();
                }
                let limit = match kind {
                    1 => LimitKind::Requests,
                    2 => LimitKind::Tokens,
                    _ => LimitKind::Concurrency,
                };
                let retry_after = if limit == LimitKind::Concurrency {
                    CONCURRENCY_RETRY_AFTER
                } else {
                    Duration::from_micros(u64::try_from(wait_us).unwrap_or(0))
                };
                Ok(Admission::Limited { retry_after, limit })
            }
            Err(e) => {
                // A timed-out script may still have run: release (not just forget) its lease.
                drop(lease);
                self.unavailable(e)?;
                Ok(self.fallback.check(key_id, limits, tokens))
            }
        }
    }

    pub(crate) async fn adjust_tokens(
        &self,
        key_id: &str,
        tpm: u32,
        delta: i64,
    ) -> Result<(), LimitError> {
        let change = delta.signum()
            * i64::try_from(gcra::spacing(WINDOW_US, tpm, delta.unsigned_abs()))
                .unwrap_or(i64::MAX);
        let mut conn = self.conn.clone();
        let result = self
            .adjust_script
            .key(self.key(key_id, "tpm"))
            .arg(now_arg(self.clock.as_deref()))
            .arg(change)
            .invoke_async::<i64>(&mut conn)
            .await;
        if let Err(e) = result {
            self.unavailable(e)?;
            self.fallback.adjust_tokens(key_id, tpm, delta);
        }
        Ok(())
    }

    /// `Ok` when failing open (after a throttled warning), else the error for the proxy.
    fn unavailable(&self, e: redis::RedisError) -> Result<(), LimitError> {
        if !self.fail_open {
            return Err(LimitError::Unavailable(e.to_string()));
        }
        if self.warn.should_warn() {
            tracing::warn!(error = %e, "Redis for rate limits unreachable; limiting per replica (fail_open)");
        }
        Ok(())
    }

    /// Resolves once every permit dropped before the call has been released in Redis (or the
    /// attempt failed).
    pub(crate) async fn settle(&self) {
        let (done, wait) = oneshot::channel();
        if self.book.releases.send(KeeperMsg::Barrier(done)).is_ok() {
            let _ = wait.await;
        }
    }

    /// Renews every live lease now rather than at the next tick.
    #[cfg(test)]
    pub(crate) async fn renew_now(&self) {
        renew(&mut self.conn.clone(), self.clock.as_deref(), &self.book).await;
    }
}

fn now_arg(clock: Option<&dyn Clock>) -> String {
    clock
        .map(|c| duration_us(c.now()).to_string())
        .unwrap_or_default()
}

fn duration_us(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Leases this replica holds, so they can be renewed, and the channel to the task that releases them.
struct LeaseBook {
    held: Mutex<HashMap<u64, (String, String)>>,
    next_id: AtomicU64,
    /// Random per process: permit ids must not collide across replicas.
    nonce: u64,
    releases: mpsc::UnboundedSender<KeeperMsg>,
}

enum KeeperMsg {
    Release { key: String, member: String },
    Barrier(oneshot::Sender<()>),
}

impl LeaseBook {
    fn new() -> (Arc<LeaseBook>, mpsc::UnboundedReceiver<KeeperMsg>) {
        use std::hash::BuildHasher;
        let (tx, rx) = mpsc::unbounded_channel();
        let seed = (std::process::id(), std::time::SystemTime::now());
        let book = LeaseBook {
            held: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            nonce: std::hash::RandomState::new().hash_one(seed),
            releases: tx,
        };
        (Arc::new(book), rx)
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (String, String)>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A concurrency slot in Redis: removed from the lease set when dropped.
pub(crate) struct Lease {
    id: u64,
    member: String,
    book: Arc<LeaseBook>,
    armed: bool,
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease")
            .field("member", &self.member)
            .finish()
    }
}

impl Lease {
    fn register(book: &Arc<LeaseBook>, key: String) -> Lease {
        let id = book.next_id.fetch_add(1, Ordering::Relaxed);
        let member = format!("{:016x}-{id}", book.nonce);
        book.held().insert(id, (key, member.clone()));
        Lease {
            id,
            member,
            book: Arc::clone(book),
            armed: true,
        }
    }

    /// Forgets a lease the script did not grant, without a round trip.
    fn disarm(mut self) {
        self.armed = false;
        self.book.held().remove(&self.id);
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Some((key, member)) = self.book.held().remove(&self.id) {
            // Fails only once the keeper task is gone (runtime shutting down); the lease then expires.
            let _ = self.book.releases.send(KeeperMsg::Release { key, member });
        }
    }
}

/// Releases dropped leases and renews live ones until the limiter and all its permits are gone.
async fn lease_keeper(
    mut conn: ConnectionManager,
    clock: Option<Arc<dyn Clock>>,
    book: Weak<LeaseBook>,
    mut inbox: mpsc::UnboundedReceiver<KeeperMsg>,
) {
    let mut tick = tokio::time::interval(REDIS_LEASE / 3);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            msg = inbox.recv() => {
                let Some(first) = msg else { break };
                let mut releases = redis::pipe();
                let mut barriers = Vec::new();
                let mut next = Some(first);
                while let Some(msg) = next {
                    match msg {
                        KeeperMsg::Release { key, member } => {
                            releases.zrem(key, member).ignore();
                        }
                        KeeperMsg::Barrier(done) => barriers.push(done),
                    }
                    next = inbox.try_recv().ok();
                }
                if let Err(e) = releases.query_async::<()>(&mut conn).await {
                    tracing::debug!(error = %e, "releasing concurrency leases failed; they will expire");
                }
                for done in barriers {
                    let _ = done.send(());
                }
            }
            _ = tick.tick() => {
                let Some(book) = book.upgrade() else { break };
                renew(&mut conn, clock.as_deref(), &book).await;
            }
        }
    }
}

async fn renew(conn: &mut ConnectionManager, clock: Option<&dyn Clock>, book: &LeaseBook) {
    let held: Vec<(String, String)> = book.held().values().cloned().collect();
    let script = Script::new(RENEW_LUA);
    for batch in held.chunks(RENEW_BATCH) {
        let mut call = script.prepare_invoke();
        call.arg(now_arg(clock)).arg(duration_us(REDIS_LEASE));
        for (key, member) in batch {
            call.key(key).arg(member);
        }
        if let Err(e) = call.invoke_async::<i64>(conn).await {
            tracing::debug!(error = %e, "renewing concurrency leases failed");
            return;
        }
    }
}

/// Logs a backend outage at most once per interval, however many requests hit it.
struct WarnThrottle {
    origin: Instant,
    next_ms: AtomicU64,
}

impl WarnThrottle {
    const INTERVAL_MS: u64 = 10_000;

    fn new() -> WarnThrottle {
        WarnThrottle {
            origin: Instant::now(),
            next_ms: AtomicU64::new(0),
        }
    }

    fn should_warn(&self) -> bool {
        let now = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        let next = self.next_ms.load(Ordering::Relaxed);
        now >= next
            && self
                .next_ms
                .compare_exchange(
                    next,
                    now.saturating_add(Self::INTERVAL_MS),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
    }
}

#[cfg(test)]
mod tests;
