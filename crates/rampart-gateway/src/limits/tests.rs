//! Memory-backend behaviour, driven by a manual clock: no sleeps, exact retry-after values.

use std::sync::Arc;
use std::time::Duration;

use super::*;

fn limits(rpm: Option<u32>, tpm: Option<u32>, max_concurrency: Option<u32>) -> RoleLimits {
    RoleLimits {
        rpm,
        tpm,
        max_concurrency,
    }
}

async fn memory_limiter() -> (RateLimiter, ManualClock) {
    let clock = ManualClock::new();
    let limiter = RateLimiter::with_clock(&LimitConfig::default(), Arc::new(clock.clone()))
        .await
        .unwrap();
    (limiter, clock)
}

fn limited(admission: &Admission) -> Option<(Duration, LimitKind)> {
    match admission {
        Admission::Allowed(_) => None,
        Admission::Limited { retry_after, limit } => Some((*retry_after, *limit)),
    }
}

#[tokio::test]
async fn rpm_refuses_the_third_request_for_exactly_half_a_minute() {
    let (rl, clock) = memory_limiter().await;
    let l = limits(Some(2), None, None);
    assert!(rl.check("k", &l, 0).await.unwrap().is_allowed());
    assert!(rl.check("k", &l, 0).await.unwrap().is_allowed());
    let third = rl.check("k", &l, 0).await.unwrap();
    assert_eq!(
        limited(&third),
        Some((Duration::from_secs(30), LimitKind::Requests))
    );

    clock.advance(Duration::from_secs(10));
    let still = rl.check("k", &l, 0).await.unwrap();
    assert_eq!(
        limited(&still),
        Some((Duration::from_secs(20), LimitKind::Requests))
    );

    clock.advance(Duration::from_secs(20));
    assert!(rl.check("k", &l, 0).await.unwrap().is_allowed());
    // One slot was used again, so the next waits for the second original slot's half minute.
    let next = rl.check("k", &l, 0).await.unwrap();
    assert_eq!(
        limited(&next),
        Some((Duration::from_secs(30), LimitKind::Requests))
    );
}

#[tokio::test]
async fn keys_have_separate_budgets() {
    let (rl, _clock) = memory_limiter().await;
    let l = limits(Some(1), None, None);
    assert!(rl.check("a", &l, 0).await.unwrap().is_allowed());
    assert!(!rl.check("a", &l, 0).await.unwrap().is_allowed());
    assert!(rl.check("b", &l, 0).await.unwrap().is_allowed());
}

#[tokio::test]
async fn clones_share_state() {
    let (rl, _clock) = memory_limiter().await;
    let other = rl.clone();
    let l = limits(Some(1), None, None);
    assert!(rl.check("k", &l, 0).await.unwrap().is_allowed());
    assert!(!other.check("k", &l, 0).await.unwrap().is_allowed());
}

#[tokio::test]
async fn token_budget_with_adjustments() {
    let (rl, clock) = memory_limiter().await;
    let l = limits(None, Some(1_000), None);
    assert!(rl.check("k", &l, 600).await.unwrap().is_allowed());
    // 400 left; 600 more needs 200 tokens to come back: 200 * 60 s / 1000 = 12 s.
    let refused = rl.check("k", &l, 600).await.unwrap();
    assert_eq!(
        limited(&refused),
        Some((Duration::from_secs(12), LimitKind::Tokens))
    );

    // The first request really used only 200 tokens: refund 400, and 600 fit again at once.
    rl.adjust_tokens("k", &l, -400).await.unwrap();
    assert!(rl.check("k", &l, 600).await.unwrap().is_allowed());
    // 200 + 600 used; the answer of the second was longer than estimated by 500: now in debt by 300.
    rl.adjust_tokens("k", &l, 500).await.unwrap();
    let in_debt = rl.check("k", &l, 0).await.unwrap();
    assert_eq!(
        limited(&in_debt),
        Some((Duration::from_secs(18), LimitKind::Tokens))
    );

    clock.advance(Duration::from_secs(18));
    assert!(rl.check("k", &l, 0).await.unwrap().is_allowed());
    assert!(!rl.check("k", &l, 1).await.unwrap().is_allowed());
}

#[tokio::test]
async fn refunds_never_exceed_a_full_budget() {
    let (rl, _clock) = memory_limiter().await;
    let l = limits(None, Some(100), None);
    rl.adjust_tokens("k", &l, -10_000).await.unwrap();
    assert!(rl.check("k", &l, 100).await.unwrap().is_allowed());
    let refused = rl.check("k", &l, 1).await.unwrap();
    assert_eq!(
        limited(&refused),
        Some((Duration::from_millis(600), LimitKind::Tokens))
    );
}

#[tokio::test]
async fn adjust_without_tpm_is_a_no_op() {
    let (rl, _clock) = memory_limiter().await;
    rl.adjust_tokens("k", &limits(Some(5), None, None), 1_000_000)
        .await
        .unwrap();
    assert_eq!(rl.tracked_keys(), 0);
}

#[tokio::test]
async fn oversized_request_waits_for_a_full_budget_then_leaves_debt() {
    let (rl, clock) = memory_limiter().await;
    let l = limits(None, Some(1_000), None);
    assert!(rl.check("k", &l, 1).await.unwrap().is_allowed());
    // 2500 tokens can never fit in 1000/min; it is judged as a whole minute's budget.
    let refused = rl.check("k", &l, 2_500).await.unwrap();
    assert_eq!(
        limited(&refused),
        Some((Duration::from_millis(60), LimitKind::Tokens))
    );
    clock.advance(Duration::from_millis(60));
    assert!(rl.check("k", &l, 2_500).await.unwrap().is_allowed());
    // 1500 tokens of debt: 90 s until even one more token fits, plus that token's 60 ms.
    let after = rl.check("k", &l, 1).await.unwrap();
    assert_eq!(
        limited(&after),
        Some((Duration::from_millis(90_060), LimitKind::Tokens))
    );
}

#[tokio::test]
async fn refused_requests_charge_nothing() {
    let (rl, _clock) = memory_limiter().await;
    let l = limits(Some(2), Some(100), None);
    assert!(rl.check("k", &l, 90).await.unwrap().is_allowed());
    // Refused on tokens: must not use the second request slot.
    assert_eq!(
        limited(&rl.check("k", &l, 50).await.unwrap()).map(|x| x.1),
        Some(LimitKind::Tokens)
    );
    assert!(rl.check("k", &l, 5).await.unwrap().is_allowed());
}

#[tokio::test]
async fn the_longest_wait_is_reported() {
    let (rl, _clock) = memory_limiter().await;
    let l = limits(Some(1), Some(100), Some(1));
    let _held = rl.check("k", &l, 100).await.unwrap();
    // requests: 60 s; tokens (100 used, 10 needed): 6 s; concurrency: full. Requests wins.
    let refused = rl.check("k", &l, 10).await.unwrap();
    assert_eq!(
        limited(&refused),
        Some((Duration::from_secs(60), LimitKind::Requests))
    );
}

#[tokio::test]
async fn concurrency_slots_release_on_drop() {
    let (rl, _clock) = memory_limiter().await;
    let l = limits(None, None, Some(2));
    let first = match rl.check("k", &l, 0).await.unwrap() {
        Admission::Allowed(p) => p,
        other => panic!("expected a permit, got {other:?}"),
    };
    assert!(first.holds_slot());
    let second = rl.check("k", &l, 0).await.unwrap();
    assert!(second.is_allowed());
    let third = rl.check("k", &l, 0).await.unwrap();
    assert_eq!(
        limited(&third),
        Some((CONCURRENCY_RETRY_AFTER, LimitKind::Concurrency))
    );
    drop(first);
    let fourth = rl.check("k", &l, 0).await.unwrap();
    assert!(fourth.is_allowed());
    assert!(!rl.check("k", &l, 0).await.unwrap().is_allowed());
    drop((second, fourth));
    assert!(rl.check("k", &l, 0).await.unwrap().is_allowed());
}

#[tokio::test]
async fn zero_limits_refuse_everything() {
    let (rl, _clock) = memory_limiter().await;
    let rpm0 = rl
        .check("k", &limits(Some(0), None, None), 0)
        .await
        .unwrap();
    assert_eq!(
        limited(&rpm0),
        Some((Duration::from_secs(60), LimitKind::Requests))
    );
    let tpm0 = rl
        .check("k", &limits(None, Some(0), None), 0)
        .await
        .unwrap();
    assert_eq!(
        limited(&tpm0),
        Some((Duration::from_secs(60), LimitKind::Tokens))
    );
    let conc0 = rl
        .check("k", &limits(None, None, Some(0)), 0)
        .await
        .unwrap();
    assert_eq!(limited(&conc0).map(|x| x.1), Some(LimitKind::Concurrency));
}

#[tokio::test]
async fn no_limits_means_no_state() {
    let (rl, _clock) = memory_limiter().await;
    match rl
        .check("k", &RoleLimits::default(), 1_000_000)
        .await
        .unwrap()
    {
        Admission::Allowed(p) => assert!(!p.holds_slot()),
        other => panic!("expected a permit, got {other:?}"),
    }
    assert_eq!(rl.tracked_keys(), 0);
}

#[tokio::test]
async fn idle_keys_are_evicted_but_busy_ones_kept() {
    let (rl, clock) = memory_limiter().await;
    let l = limits(Some(10), Some(1_000), None);
    for i in 0..500 {
        assert!(
            rl.check(&format!("key-{i}"), &l, 10)
                .await
                .unwrap()
                .is_allowed()
        );
    }
    let held = rl
        .check("busy", &limits(None, None, Some(1)), 0)
        .await
        .unwrap();
    assert_eq!(rl.tracked_keys(), 501);

    // After a window every rate budget is full again: those entries are equivalent to none.
    clock.advance(Duration::from_secs(61));
    // Each shard sweeps when next touched; 2000 random keys touch all 16 (all but surely).
    for i in 0..2_000 {
        assert!(
            rl.check(&format!("fresh-{i}"), &l, 1)
                .await
                .unwrap()
                .is_allowed()
        );
    }
    assert_eq!(
        rl.tracked_keys(),
        2_000 + 1,
        "only the fresh keys and the one holding a permit remain"
    );
    assert!(held.is_allowed());
    // The busy key's slot is still taken after the sweep.
    assert!(
        !rl.check("busy", &limits(None, None, Some(1)), 0)
            .await
            .unwrap()
            .is_allowed()
    );
}

#[tokio::test]
async fn eviction_does_not_change_decisions() {
    let (rl, clock) = memory_limiter().await;
    let l = limits(Some(1), None, None);
    for i in 0..2_000 {
        assert!(
            rl.check(&format!("early-{i}"), &l, 0)
                .await
                .unwrap()
                .is_allowed()
        );
    }
    clock.advance(Duration::from_secs(30));
    assert!(rl.check("k", &l, 0).await.unwrap().is_allowed());
    clock.advance(Duration::from_secs(35));
    // Sweeps are due everywhere now: the early keys go, `k` (TAT 25 s ahead) must stay.
    for i in 0..2_000 {
        assert!(
            rl.check(&format!("late-{i}"), &l, 0)
                .await
                .unwrap()
                .is_allowed()
        );
    }
    assert_eq!(rl.tracked_keys(), 2_000 + 1);
    assert_eq!(
        limited(&rl.check("k", &l, 0).await.unwrap()),
        Some((Duration::from_secs(25), LimitKind::Requests))
    );
}

#[test]
fn config_defaults_and_strict_parsing() {
    let cfg: LimitConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(cfg, LimitConfig::default());
    assert_eq!(cfg.backend, LimitBackend::Memory);
    assert_eq!(cfg.prefix, "rampart");
    assert!(!cfg.fail_open);

    let cfg: LimitConfig = serde_json::from_str(
        r#"{"backend":"redis","url":"redis://127.0.0.1:6379/","fail_open":true}"#,
    )
    .unwrap();
    assert_eq!(cfg.backend, LimitBackend::Redis);
    assert!(cfg.fail_open);
    assert!(serde_json::from_str::<LimitConfig>(r#"{"backend":"etcd"}"#).is_err());
    assert!(serde_json::from_str::<LimitConfig>(r#"{"fail_opn":true}"#).is_err());

    let role: RoleLimits = serde_json::from_str(r#"{"rpm":60,"max_concurrency":4}"#).unwrap();
    assert_eq!(role, limits(Some(60), None, Some(4)));
    assert!(serde_json::from_str::<RoleLimits>(r#"{"rpm":-1}"#).is_err());
    assert!(serde_json::from_str::<RoleLimits>(r#"{"rps":1}"#).is_err());
}

#[test]
fn kinds_read_well() {
    assert_eq!(LimitKind::Requests.to_string(), "requests per minute");
    assert_eq!(LimitKind::Tokens.to_string(), "tokens per minute");
    assert_eq!(LimitKind::Concurrency.to_string(), "concurrent requests");
    assert_eq!(LimitKind::Tokens.as_str(), "tokens");
}

#[cfg(not(feature = "redis"))]
#[tokio::test]
async fn redis_backend_needs_the_feature() {
    let cfg = LimitConfig {
        backend: LimitBackend::Redis,
        url: Some("redis://127.0.0.1/".into()),
        ..Default::default()
    };
    let err = RateLimiter::new(&cfg).await.unwrap_err();
    assert!(matches!(err, LimitError::Config(_)), "{err}");
}
