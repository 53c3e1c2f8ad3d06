//! Redis backend tests. They need a Redis server at `RAMPART_TEST_REDIS_URL`; without it they fail
//! when `CI=true` and otherwise print a notice and return. Each test uses its own key prefix, and
//! time comes from a manual clock shared by the "replicas", so no test sleeps.

use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

use super::super::{
    Admission, LimitBackend, LimitConfig, LimitError, LimitKind, ManualClock, RateLimiter,
    RoleLimits,
};

fn redis_url() -> Option<String> {
    match std::env::var("RAMPART_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!(
                "CI=true but RAMPART_TEST_REDIS_URL is not set: the Redis limit tests cannot run"
            )
        }
        _ => {
            eprintln!("notice: RAMPART_TEST_REDIS_URL not set; skipping a Redis rate-limit test");
            None
        }
    }
}

fn unique_prefix(test: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("rampart-test:{test}:{}:{nanos}:{n}", std::process::id())
}

fn config(url: String, prefix: String) -> LimitConfig {
    LimitConfig {
        backend: LimitBackend::Redis,
        url: Some(url),
        prefix,
        fail_open: false,
        timeout_ms: 2_000,
    }
}

/// Two limiters ("replicas") on one Redis and one manual clock, starting at a realistic time.
async fn replicas(test: &str) -> Option<(RateLimiter, RateLimiter, ManualClock)> {
    let url = redis_url()?;
    let cfg = config(url, unique_prefix(test));
    let clock = ManualClock::new();
    clock.set(Duration::from_secs(1_700_000_000));
    let a = RateLimiter::with_clock(&cfg, Arc::new(clock.clone()))
        .await
        .unwrap();
    let b = RateLimiter::with_clock(&cfg, Arc::new(clock.clone()))
        .await
        .unwrap();
    Some((a, b, clock))
}

fn limited(admission: &Admission) -> Option<(Duration, LimitKind)> {
    match admission {
        Admission::Allowed(_) => None,
        Admission::Limited { retry_after, limit } => Some((*retry_after, *limit)),
    }
}

fn limits(rpm: Option<u32>, tpm: Option<u32>, max_concurrency: Option<u32>) -> RoleLimits {
    RoleLimits {
        rpm,
        tpm,
        max_concurrency,
    }
}

#[tokio::test]
async fn rpm_with_exact_retry_after() {
    let Some((rl, _, clock)) = replicas("rpm").await else {
        return;
    };
    let l = limits(Some(2), None, None);
    assert!(rl.check("k", &l, 0).await.unwrap().is_allowed());
    assert!(rl.check("k", &l, 0).await.unwrap().is_allowed());
    assert_eq!(
        limited(&rl.check("k", &l, 0).await.unwrap()),
        Some((Duration::from_secs(30), LimitKind::Requests))
    );
    clock.advance(Duration::from_secs(30));
    assert!(rl.check("k", &l, 0).await.unwrap().is_allowed());
    assert!(!rl.check("k", &l, 0).await.unwrap().is_allowed());
    assert!(rl.check("other", &l, 0).await.unwrap().is_allowed());
}

#[tokio::test]
async fn two_replicas_share_one_budget() {
    let Some((a, b, clock)) = replicas("shared").await else {
        return;
    };
    let l = limits(Some(4), Some(1_000), None);
    assert!(a.check("k", &l, 100).await.unwrap().is_allowed());
    assert!(b.check("k", &l, 100).await.unwrap().is_allowed());
    assert!(a.check("k", &l, 100).await.unwrap().is_allowed());
    assert!(b.check("k", &l, 100).await.unwrap().is_allowed());
    // Four requests in total, whichever replica served them: the fifth waits 15 s on either.
    assert_eq!(
        limited(&a.check("k", &l, 100).await.unwrap()),
        Some((Duration::from_secs(15), LimitKind::Requests))
    );
    assert_eq!(
        limited(&b.check("k", &l, 100).await.unwrap()),
        Some((Duration::from_secs(15), LimitKind::Requests))
    );

    clock.advance(Duration::from_secs(60));
    // Tokens are shared too: 900 through one replica leaves 100 for the other.
    assert!(a.check("k", &l, 900).await.unwrap().is_allowed());
    assert_eq!(
        limited(&b.check("k", &l, 200).await.unwrap()),
        Some((Duration::from_secs(6), LimitKind::Tokens))
    );
    // And a refund made by one replica is seen by the other.
    a.adjust_tokens("k", &l, -500).await.unwrap();
    assert!(b.check("k", &l, 200).await.unwrap().is_allowed());
}

#[tokio::test]
async fn token_debt_and_refunds() {
    let Some((rl, _, clock)) = replicas("tokens").await else {
        return;
    };
    let l = limits(None, Some(1_000), None);
    assert!(rl.check("k", &l, 600).await.unwrap().is_allowed());
    assert_eq!(
        limited(&rl.check("k", &l, 600).await.unwrap()),
        Some((Duration::from_secs(12), LimitKind::Tokens))
    );
    rl.adjust_tokens("k", &l, -400).await.unwrap();
    assert!(rl.check("k", &l, 600).await.unwrap().is_allowed());
    rl.adjust_tokens("k", &l, 500).await.unwrap();
    assert_eq!(
        limited(&rl.check("k", &l, 0).await.unwrap()),
        Some((Duration::from_secs(18), LimitKind::Tokens))
    );
    clock.advance(Duration::from_secs(18));
    assert!(rl.check("k", &l, 0).await.unwrap().is_allowed());
    // Refunds stop at a full budget.
    clock.advance(Duration::from_secs(600));
    rl.adjust_tokens("k", &l, -1_000_000).await.unwrap();
    assert!(rl.check("k", &l, 1_000).await.unwrap().is_allowed());
    assert!(!rl.check("k", &l, 1).await.unwrap().is_allowed());
}

#[tokio::test]
async fn refused_requests_charge_nothing_and_longest_wait_wins() {
    let Some((rl, _, _clock)) = replicas("atomic").await else {
        return;
    };
    let l = limits(Some(2), Some(100), None);
    assert!(rl.check("k", &l, 90).await.unwrap().is_allowed());
    assert_eq!(
        limited(&rl.check("k", &l, 50).await.unwrap()).map(|x| x.1),
        Some(LimitKind::Tokens)
    );
    assert!(rl.check("k", &l, 5).await.unwrap().is_allowed());
    // Now requests (30 s) and tokens (57 s) both refuse: the longer wait is reported.
    let both = rl.check("k", &l, 100).await.unwrap();
    assert_eq!(limited(&both).map(|x| x.1), Some(LimitKind::Tokens));
    let zero = rl
        .check("k", &limits(Some(0), None, None), 0)
        .await
        .unwrap();
    assert_eq!(
        limited(&zero),
        Some((Duration::from_secs(60), LimitKind::Requests))
    );
}

#[tokio::test]
async fn concurrency_is_shared_across_replicas() {
    let Some((a, b, _clock)) = replicas("concurrency").await else {
        return;
    };
    let l = limits(None, None, Some(2));
    let first = a.check("k", &l, 0).await.unwrap();
    let second = b.check("k", &l, 0).await.unwrap();
    assert!(first.is_allowed() && second.is_allowed());
    let third = a.check("k", &l, 0).await.unwrap();
    assert_eq!(limited(&third).map(|x| x.1), Some(LimitKind::Concurrency));
    assert!(!b.check("k", &l, 0).await.unwrap().is_allowed());

    drop(second);
    b.settle().await;
    let again = a.check("k", &l, 0).await.unwrap();
    assert!(
        again.is_allowed(),
        "the slot released through replica b is free for replica a"
    );
    assert!(!a.check("k", &l, 0).await.unwrap().is_allowed());
    drop((first, again));
    a.settle().await;
    assert!(b.check("k", &l, 0).await.unwrap().is_allowed());
}

#[tokio::test]
async fn leases_are_renewed_while_held_and_expire_when_abandoned() {
    let Some((a, b, clock)) = replicas("leases").await else {
        return;
    };
    let l = limits(None, None, Some(1));
    let held = a.check("k", &l, 0).await.unwrap();
    assert!(held.is_allowed());
    let super::super::Backend::Redis(redis_a) = &*a.backend else {
        panic!("redis backend expected")
    };

    // Held and renewed: still taken after more than one lease length.
    clock.advance(Duration::from_secs(20));
    redis_a.renew_now().await;
    clock.advance(Duration::from_secs(20));
    assert_eq!(
        limited(&b.check("k", &l, 0).await.unwrap()).map(|x| x.1),
        Some(LimitKind::Concurrency)
    );

    // Replica a stops renewing (as if it crashed): the lease lapses and b gets the slot.
    clock.advance(Duration::from_secs(31));
    let taken_over = b.check("k", &l, 0).await.unwrap();
    assert!(taken_over.is_allowed());
    drop(held);
    a.settle().await;
    // a's late release removed only its own lease, not b's.
    assert!(!a.check("k", &l, 0).await.unwrap().is_allowed());
}

#[tokio::test]
async fn refused_and_cancelled_checks_leave_no_lease_behind() {
    let Some((rl, _, _clock)) = replicas("cancel").await else {
        return;
    };
    let l = limits(Some(1), None, Some(1));
    let first = rl.check("k", &l, 0).await.unwrap();
    assert!(first.is_allowed());
    drop(first);
    rl.settle().await;
    // Refused on rpm: no slot may be taken by the refusal.
    assert_eq!(
        limited(&rl.check("k", &l, 0).await.unwrap()).map(|x| x.1),
        Some(LimitKind::Requests)
    );
    let conc_only = limits(None, None, Some(1));
    let slot = rl.check("k", &conc_only, 0).await.unwrap();
    assert!(slot.is_allowed());
    drop(slot);
    rl.settle().await;
    // A check dropped mid-flight (polled once, so its script may already be on the wire) releases
    // whatever it may have taken.
    if let Ok(done) = tokio::time::timeout(Duration::ZERO, rl.check("k", &conc_only, 0)).await {
        drop(done);
    }
    rl.settle().await;
    assert!(rl.check("k", &conc_only, 0).await.unwrap().is_allowed());
}

#[tokio::test]
async fn server_clock_is_used_without_an_injected_clock() {
    let Some(url) = redis_url() else { return };
    let rl = RateLimiter::new(&config(url, unique_prefix("server-clock")))
        .await
        .unwrap();
    let l = limits(Some(1), None, None);
    assert!(rl.check("k", &l, 0).await.unwrap().is_allowed());
    let (wait, kind) = limited(&rl.check("k", &l, 0).await.unwrap()).unwrap();
    assert_eq!(kind, LimitKind::Requests);
    // Real time passed between the calls, so only bounds can be asserted.
    assert!(
        wait <= Duration::from_secs(60) && wait > Duration::from_secs(50),
        "{wait:?}"
    );
}

// The tests below need no Redis server: they point at a port where nothing listens.

fn unreachable(fail_open: bool) -> LimitConfig {
    LimitConfig {
        backend: LimitBackend::Redis,
        url: Some("redis://127.0.0.1:1/".into()),
        prefix: "rampart-test".into(),
        fail_open,
        timeout_ms: 200,
    }
}

#[tokio::test]
async fn unreachable_redis_fails_closed_by_default() {
    let err = RateLimiter::new(&unreachable(false)).await.unwrap_err();
    assert!(matches!(err, LimitError::Unavailable(_)), "{err}");
}

#[tokio::test]
async fn unreachable_redis_with_fail_open_limits_per_replica() {
    let clock = ManualClock::new();
    let rl = RateLimiter::with_clock(&unreachable(true), Arc::new(clock.clone()))
        .await
        .unwrap();
    let l = limits(Some(1), None, Some(5));
    let first = rl.check("k", &l, 0).await.unwrap();
    assert!(first.is_allowed());
    assert_eq!(
        limited(&rl.check("k", &l, 0).await.unwrap()),
        Some((Duration::from_secs(60), LimitKind::Requests))
    );
    rl.adjust_tokens("k", &limits(None, Some(10), None), 5)
        .await
        .unwrap();
    assert_eq!(rl.tracked_keys(), 1);
}

#[tokio::test]
async fn bad_urls_are_config_errors() {
    for url in [
        None,
        Some(""),
        Some("http://127.0.0.1/"),
        Some("redis://127.0.0.1:99999/"),
    ] {
        let cfg = LimitConfig {
            backend: LimitBackend::Redis,
            url: url.map(str::to_owned),
            ..LimitConfig::default()
        };
        let err = RateLimiter::new(&cfg).await.unwrap_err();
        assert!(matches!(err, LimitError::Config(_)), "{url:?}: {err}");
    }
}
