//! In-process limits: GCRA cells and an in-flight counter per key, in a sharded map.
//!
//! Why our own GCRA rather than `governor`: a keyed governor limiter has one quota for all keys
//! (roles differ, and reloads change them), cannot charge a variable token cost beyond its burst,
//! and cannot refund. The arithmetic is ten lines (`gcra.rs`) and gives exact retry-after values.
//!
//! Memory stays bounded: a key's entry is dropped once both TATs are in the past and no permit is
//! out, which is exactly when it is equivalent to no entry. Each shard sweeps itself at most once per
//! window, when touched, so state lives at most about two minutes past a key's last request.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::gcra::{self, WINDOW_SECS};
use super::{Admission, CONCURRENCY_RETRY_AFTER, Clock, LimitKind, Permit, RoleLimits, Slot};

const SHARDS: usize = 16;
const WINDOW_NS: u64 = WINDOW_SECS * 1_000_000_000;

pub(crate) struct MemoryLimiter {
    shards: Box<[Mutex<Shard>]>,
    hasher: std::hash::RandomState,
    clock: Arc<dyn Clock>,
}

#[derive(Default)]
struct Shard {
    keys: HashMap<Box<str>, KeyState>,
    /// Clock time (ns) after which the next sweep is due.
    next_sweep: u64,
}

#[derive(Default)]
struct KeyState {
    requests_tat: u64,
    tokens_tat: u64,
    /// Shared with permits so they can release without taking the shard lock. Only cloned under the
    /// lock, so `strong_count == 1` under the lock means no permit is out.
    in_flight: Arc<AtomicU32>,
}

impl KeyState {
    fn is_idle(&self, now: u64) -> bool {
        self.requests_tat <= now
            && self.tokens_tat <= now
            && Arc::strong_count(&self.in_flight) == 1
    }
}

/// A concurrency slot of the memory backend.
#[derive(Debug)]
pub(crate) struct LocalSlot(Arc<AtomicU32>);

impl Drop for LocalSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl MemoryLimiter {
    pub(crate) fn new(clock: Arc<dyn Clock>) -> MemoryLimiter {
        MemoryLimiter {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            hasher: std::hash::RandomState::new(),
            clock,
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.clock.now().as_nanos()).unwrap_or(u64::MAX)
    }

    fn shard(&self, key_id: &str) -> MutexGuard<'_, Shard> {
        let index = (self.hasher.hash_one(key_id) % SHARDS as u64) as usize;
        // A panic while holding the lock cannot leave a half-updated entry (each update is a few
        // plain stores), so a poisoned shard is still consistent.
        self.shards[index]
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    pub(crate) fn check(
        &self,
        key_id: &str,
        limits: &RoleLimits,
        estimated_tokens: u64,
    ) -> Admission {
        let now = self.now();
        let mut shard = self.shard(key_id);
        shard.sweep_if_due(now);
        let state = match shard.keys.get_mut(key_id) {
            Some(state) => state,
            None => shard.keys.entry(key_id.into()).or_default(),
        };
        decide(state, now, limits, estimated_tokens)
    }

    pub(crate) fn adjust_tokens(&self, key_id: &str, tpm: u32, delta: i64) {
        let now = self.now();
        let change = i128::from(delta.signum())
            * i128::from(gcra::spacing(WINDOW_NS, tpm, delta.unsigned_abs()));
        let mut shard = self.shard(key_id);
        match shard.keys.get_mut(key_id) {
            Some(state) => state.tokens_tat = gcra::adjust(state.tokens_tat, now, change),
            // Nothing to refund on a key we hold no state for: its budget is already full.
            None if delta > 0 => {
                let state = KeyState {
                    tokens_tat: gcra::adjust(0, now, change),
                    ..KeyState::default()
                };
                shard.keys.insert(key_id.into(), state);
            }
            None => {}
        }
    }

    pub(crate) fn tracked_keys(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).keys.len())
            .sum()
    }
}

impl Shard {
    fn sweep_if_due(&mut self, now: u64) {
        if now < self.next_sweep {
            return;
        }
        self.keys.retain(|_, state| !state.is_idle(now));
        self.next_sweep = now.saturating_add(WINDOW_NS);
    }
}

/// Decides for one key under its shard lock, committing only when every limit admits.
fn decide(state: &mut KeyState, now: u64, limits: &RoleLimits, tokens: u64) -> Admission {
    let mut refusal: Option<(u64, LimitKind)> = None;
    let mut refuse = |wait: u64, kind: LimitKind| {
        if refusal.is_none_or(|(worst, _)| wait > worst) {
            refusal = Some((wait, kind));
        }
    };
    let mut rate = |tat: u64, limit: Option<u32>, units: u64, kind: LimitKind| -> Option<u64> {
        match limit {
            None => Some(tat),
            Some(0) => {
                refuse(WINDOW_NS, kind);
                None
            }
            Some(limit) => {
                match gcra::decide(tat, now, gcra::cost(WINDOW_NS, limit, units), WINDOW_NS) {
                    Ok(new_tat) => Some(new_tat),
                    Err(wait) => {
                        refuse(wait, kind);
                        None
                    }
                }
            }
        }
    };
    let requests_tat = rate(state.requests_tat, limits.rpm, 1, LimitKind::Requests);
    let tokens_tat = rate(state.tokens_tat, limits.tpm, tokens, LimitKind::Tokens);
    let full = limits
        .max_concurrency
        .is_some_and(|max| state.in_flight.load(Ordering::Acquire) >= max);
    if full && refusal.is_none() {
        return Admission::Limited {
            retry_after: CONCURRENCY_RETRY_AFTER,
            limit: LimitKind::Concurrency,
        };
    }
    if let Some((wait, kind)) = refusal {
        return Admission::Limited {
            retry_after: std::time::Duration::from_nanos(wait),
            limit: kind,
        };
    }
    if let (Some(r), Some(t)) = (requests_tat, tokens_tat) {
        state.requests_tat = r;
        state.tokens_tat = t;
    }
    if limits.max_concurrency.is_none() {
        return Admission::Allowed(Permit::unlimited());
    }
    state.in_flight.fetch_add(1, Ordering::AcqRel);
    Admission::Allowed(Permit {
        slot: Some(Slot::Local(LocalSlot(Arc::clone(&state.in_flight)))),
    })
}
