//! Per-key rate limits: requests per minute, tokens per minute and concurrent requests.
//!
//! Both rates use GCRA (the generic cell rate algorithm): each key keeps one "theoretical arrival
//! time" (TAT) per rate. A limit of `L` per minute spaces units `60 s / L` apart and tolerates a burst
//! of the whole minute's budget, so `rpm = 60` allows 60 requests at once and then one per second.
//! A refused request learns exactly when it would have been admitted, which becomes `Retry-After`.
//! A key whose TAT lies in the past is indistinguishable from a new key, so idle state can be dropped
//! without changing any decision: that is what keeps memory bounded.
//!
//! Backends: [`LimitBackend::Memory`] (one process) and, with the `redis` cargo feature,
//! [`LimitBackend::Redis`], where one Lua script checks and charges all three limits atomically so
//! that several gateway replicas share one budget per key.

mod gcra;
mod memory;
#[cfg(feature = "redis")]
mod redis;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use memory::MemoryLimiter;

/// How long a refused concurrency check tells the client to wait: a slot frees when some request
/// of the same key ends, which we cannot predict, so this is only a polite hint.
pub const CONCURRENCY_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The limits of one role (read from the role's `rpm`, `tpm` and `max_concurrency` keys). `None`
/// means unlimited; `Some(0)` refuses everything of that kind.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct RoleLimits {
    /// Requests per minute per key.
    pub rpm: Option<u32>,
    /// Tokens (prompt estimate at admission, corrected by real usage afterwards) per minute per key.
    pub tpm: Option<u32>,
    /// Requests of one key in flight at once.
    pub max_concurrency: Option<u32>,
}

impl RoleLimits {
    /// True when no limit is set, so a check can skip all bookkeeping.
    pub fn is_unlimited(&self) -> bool {
        self.rpm.is_none() && self.tpm.is_none() && self.max_concurrency.is_none()
    }
}

/// Where limit state lives.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LimitBackend {
    /// In this process: exact, cheap, per replica.
    #[default]
    Memory,
    /// In Redis (cargo feature `redis`): shared by every replica using the same `url` and `prefix`.
    Redis,
}

/// The `[limits]` section of the gateway config.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct LimitConfig {
    pub backend: LimitBackend,
    /// Redis URL (`redis://[user:password@]host:port/db`, or `rediss://` with TLS support compiled
    /// in); required for the Redis backend.
    pub url: Option<String>,
    /// Prefix of every Redis key, so several gateways (or tests) can share one Redis.
    pub prefix: String,
    /// When Redis cannot be reached: `true` admits requests under this replica's in-memory limits
    /// (logging a warning at most every 10 s); `false` refuses them with
    /// [`LimitError::Unavailable`].
    pub fail_open: bool,
    /// Connection and response timeout for Redis, in milliseconds.
    pub timeout_ms: u64,
}

impl Default for LimitConfig {
    fn default() -> Self {
        LimitConfig {
            backend: LimitBackend::Memory,
            url: None,
            prefix: "rampart".to_owned(),
            fail_open: false,
            timeout_ms: 500,
        }
    }
}

/// Which limit refused a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    Requests,
    Tokens,
    Concurrency,
}

impl LimitKind {
    /// A stable identifier for logs, metrics and audit reasons.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitKind::Requests => "requests",
            LimitKind::Tokens => "tokens",
            LimitKind::Concurrency => "concurrency",
        }
    }
}

impl std::fmt::Display for LimitKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LimitKind::Requests => "requests per minute",
            LimitKind::Tokens => "tokens per minute",
            LimitKind::Concurrency => "concurrent requests",
        })
    }
}

/// The answer to [`RateLimiter::check`].
#[derive(Debug)]
#[must_use = "an Allowed permit must be held until the request ends"]
pub enum Admission {
    /// Go ahead; keep the permit alive until the response has been fully sent.
    Allowed(Permit),
    /// Refused. `retry_after` is exact for the rate limits (when the same request would be admitted
    /// if nothing else happened) and [`CONCURRENCY_RETRY_AFTER`] for concurrency. When several limits
    /// refuse, the one with the longest wait is reported.
    Limited {
        retry_after: Duration,
        limit: LimitKind,
    },
}

impl Admission {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Admission::Allowed(_))
    }
}

/// Holds one concurrency slot of one key (when the role has `max_concurrency`); dropping it frees the
/// slot. Memory backend: immediately. Redis backend: a background task removes the lease; should that
/// fail (replica crash, Redis outage) the lease expires on its own after
/// [`REDIS_LEASE`](crate::limits::REDIS_LEASE).
#[derive(Debug, Default)]
pub struct Permit {
    slot: Option<Slot>,
}

#[derive(Debug)]
#[expect(dead_code, reason = "a slot is held only for what its Drop releases")]
enum Slot {
    Local(memory::LocalSlot),
    #[cfg(feature = "redis")]
    Remote(redis::Lease),
}

impl Permit {
    /// A permit that holds no slot (no concurrency limit applied).
    pub fn unlimited() -> Permit {
        Permit { slot: None }
    }

    /// Whether this permit occupies a concurrency slot.
    pub fn holds_slot(&self) -> bool {
        self.slot.is_some()
    }
}

/// How long a Redis concurrency lease lives without renewal; live permits are renewed every third
/// of it, so a crashed replica's slots come back after at most this long.
pub const REDIS_LEASE: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    /// The `[limits]` section cannot be used as written.
    #[error("limits config: {0}")]
    Config(String),
    /// The shared backend could not be reached and `fail_open` is false. The proxy answers 503.
    #[error("rate-limit backend unavailable: {0}")]
    Unavailable(String),
}

/// Monotonic time for the limiter, as a duration since an arbitrary fixed origin. Injectable so
/// tests can move time by hand.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Duration;
}

/// Real time: [`Instant`] since the clock was made.
#[derive(Debug)]
pub struct SystemClock {
    origin: Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock {
            origin: Instant::now(),
        }
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// A clock that moves only when told to; clones share the same time.
#[derive(Clone, Debug, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    pub fn new() -> ManualClock {
        ManualClock::default()
    }

    pub fn advance(&self, by: Duration) {
        self.nanos.fetch_add(saturating_nanos(by), Ordering::SeqCst);
    }

    pub fn set(&self, to: Duration) {
        self.nanos.store(saturating_nanos(to), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }
}

fn saturating_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Checks and charges per-key limits. Cheap to clone (shared state).
#[derive(Clone)]
pub struct RateLimiter {
    backend: Arc<Backend>,
}

enum Backend {
    Memory(MemoryLimiter),
    #[cfg(feature = "redis")]
    Redis(redis::RedisLimiter),
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let backend = match &*self.backend {
            Backend::Memory(_) => "memory",
            #[cfg(feature = "redis")]
            Backend::Redis(_) => "redis",
        };
        f.debug_struct("RateLimiter")
            .field("backend", &backend)
            .finish()
    }
}

impl RateLimiter {
    /// Builds the configured backend. Redis: connects now and fails with
    /// [`LimitError::Unavailable`] if it cannot (unless `fail_open`, which connects lazily and
    /// degrades to in-memory limits meanwhile). Must run inside a Tokio runtime for Redis.
    pub async fn new(cfg: &LimitConfig) -> Result<RateLimiter, LimitError> {
        Self::build(cfg, None).await
    }

    /// Like [`RateLimiter::new`] with an explicit clock. The memory backend always uses the given
    /// clock; the Redis backend normally uses the Redis server's clock (so replicas agree) and uses
    /// this one only when it is given here, which is for tests.
    pub async fn with_clock(
        cfg: &LimitConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<RateLimiter, LimitError> {
        Self::build(cfg, Some(clock)).await
    }

    async fn build(
        cfg: &LimitConfig,
        clock: Option<Arc<dyn Clock>>,
    ) -> Result<RateLimiter, LimitError> {
        let backend = match cfg.backend {
            LimitBackend::Memory => {
                let clock = clock.unwrap_or_else(|| Arc::new(SystemClock::default()));
                Backend::Memory(MemoryLimiter::new(clock))
            }
            LimitBackend::Redis => Self::redis_backend(cfg, clock).await?,
        };
        Ok(RateLimiter {
            backend: Arc::new(backend),
        })
    }

    #[cfg(feature = "redis")]
    async fn redis_backend(
        cfg: &LimitConfig,
        clock: Option<Arc<dyn Clock>>,
    ) -> Result<Backend, LimitError> {
        Ok(Backend::Redis(
            redis::RedisLimiter::connect(cfg, clock).await?,
        ))
    }

    #[cfg(not(feature = "redis"))]
    async fn redis_backend(
        _: &LimitConfig,
        _: Option<Arc<dyn Clock>>,
    ) -> Result<Backend, LimitError> {
        Err(LimitError::Config(
            "backend = \"redis\" needs a build with the `redis` cargo feature".to_owned(),
        ))
    }

    /// Checks rpm, tpm (charging `estimated_tokens`) and concurrency for `key_id`, all or nothing: a
    /// refused request charges nothing. A request estimated above the whole `tpm` is admitted only
    /// when the key's budget is full and then leaves the key in debt for the excess, so it can never
    /// be starved forever nor exceed the average rate.
    ///
    /// Cost: memory backend, one short mutex-protected map update (see `benches/limits.rs`); Redis,
    /// one script round trip.
    pub async fn check(
        &self,
        key_id: &str,
        limits: &RoleLimits,
        estimated_tokens: u64,
    ) -> Result<Admission, LimitError> {
        if limits.is_unlimited() {
            return Ok(Admission::Allowed(Permit::unlimited()));
        }
        match &*self.backend {
            Backend::Memory(m) => Ok(m.check(key_id, limits, estimated_tokens)),
            #[cfg(feature = "redis")]
            Backend::Redis(r) => r.check(key_id, limits, estimated_tokens).await,
        }
    }

    /// Corrects the token budget once real usage is known: `delta` = actual − estimated (negative
    /// refunds, but never beyond a full budget). No-op when the role has no `tpm`.
    pub async fn adjust_tokens(
        &self,
        key_id: &str,
        limits: &RoleLimits,
        delta: i64,
    ) -> Result<(), LimitError> {
        let Some(tpm) = limits.tpm else { return Ok(()) };
        if delta == 0 || tpm == 0 {
            return Ok(());
        }
        match &*self.backend {
            Backend::Memory(m) => {
                m.adjust_tokens(key_id, tpm, delta);
                Ok(())
            }
            #[cfg(feature = "redis")]
            Backend::Redis(r) => r.adjust_tokens(key_id, tpm, delta).await,
        }
    }

    /// Resolves once the releases of permits dropped before the call have reached the backend
    /// (immediate for memory; one Redis round trip otherwise). For tests and graceful shutdown.
    pub async fn settle(&self) {
        #[cfg(feature = "redis")]
        if let Backend::Redis(r) = &*self.backend {
            r.settle().await;
        }
    }

    /// Number of keys with state held in this process (memory backend, or the Redis backend's
    /// fail-open fallback). For tests and metrics.
    pub fn tracked_keys(&self) -> usize {
        match &*self.backend {
            Backend::Memory(m) => m.tracked_keys(),
            #[cfg(feature = "redis")]
            Backend::Redis(r) => r.fallback().tracked_keys(),
        }
    }
}

#[cfg(test)]
mod tests;
