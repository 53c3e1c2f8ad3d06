//! The GCRA arithmetic shared by the backends (the Redis script mirrors it in Lua). Times are
//! integers in one unit chosen by the caller (nanoseconds in memory, microseconds in Redis).

/// The span every limit is expressed over: "per minute".
pub(crate) const WINDOW_SECS: u64 = 60;

/// What one request costs on one rate, in time units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cost {
    /// Used to decide admission.
    pub check: u64,
    /// Added to the TAT when admitted.
    pub charge: u64,
}

/// Cost of `units` against `limit` per `window`. Admission is judged on at most one window's worth
/// of units, so a request larger than the whole budget is admitted when the budget is full (and the
/// excess becomes debt) instead of never.
pub(crate) fn cost(window: u64, limit: u32, units: u64) -> Cost {
    Cost {
        check: spacing(window, limit, units.min(u64::from(limit))),
        charge: spacing(window, limit, units),
    }
}

/// `ceil(units * window / limit)`; rounding once per request (not per unit) keeps the error below
/// one time unit per request. `limit` must not be zero.
pub(crate) fn spacing(window: u64, limit: u32, units: u64) -> u64 {
    let total = u128::from(units) * u128::from(window);
    u64::try_from(total.div_ceil(u128::from(limit.max(1)))).unwrap_or(u64::MAX)
}

/// Admits (returning the new TAT) or refuses (returning how long until the same request would be
/// admitted). A TAT in the past means a full budget.
pub(crate) fn decide(tat: u64, now: u64, cost: Cost, window: u64) -> Result<u64, u64> {
    let base = tat.max(now);
    let allow_at = base.saturating_add(cost.check).saturating_sub(window);
    if allow_at > now {
        Err(allow_at - now)
    } else {
        Ok(base.saturating_add(cost.charge))
    }
}

/// The TAT after charging (`delta > 0`) or refunding (`delta < 0`) `|delta|` time units. Refunds
/// stop at a full budget (`now`).
pub(crate) fn adjust(tat: u64, now: u64, delta: i128) -> u64 {
    let magnitude = u64::try_from(delta.unsigned_abs()).unwrap_or(u64::MAX);
    if delta >= 0 {
        tat.max(now).saturating_add(magnitude)
    } else {
        tat.saturating_sub(magnitude).max(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: u64 = 60_000;

    #[test]
    fn burst_then_evenly_spaced() {
        // 2 per minute: two at once, the third must wait until the first's half-minute slot frees.
        let c = cost(W, 2, 1);
        assert_eq!(
            c,
            Cost {
                check: 30_000,
                charge: 30_000
            }
        );
        let t1 = decide(0, 0, c, W).unwrap();
        let t2 = decide(t1, 0, c, W).unwrap();
        assert_eq!(decide(t2, 0, c, W), Err(30_000));
        assert_eq!(decide(t2, 29_999, c, W), Err(1));
        assert!(decide(t2, 30_000, c, W).is_ok());
    }

    #[test]
    fn oversized_requests_are_admitted_on_a_full_budget_and_leave_debt() {
        let c = cost(W, 100, 250);
        assert_eq!(c.check, W);
        assert_eq!(c.charge, 150_000);
        let tat = decide(0, 1_000, c, W).unwrap();
        assert_eq!(tat, 151_000);
        // Debt: even a one-unit request waits until the budget has recovered.
        assert_eq!(
            decide(tat, 1_000, cost(W, 100, 1), W),
            Err(150_000 + 600 - W)
        );
        // On a budget that is not full, the oversized request is refused.
        let partly_used = decide(0, 0, cost(W, 100, 1), W).unwrap();
        assert_eq!(decide(partly_used, 0, c, W), Err(600));
    }

    #[test]
    fn zero_units_pass_unless_in_debt() {
        assert!(decide(0, 5, cost(W, 10, 0), W).is_ok());
        assert!(decide(W + 10, 5, cost(W, 10, 0), W).is_err());
    }

    #[test]
    fn spacing_rounds_up_and_saturates() {
        assert_eq!(spacing(60, 7, 1), 9);
        assert_eq!(spacing(60, 7, 7), 60);
        assert_eq!(spacing(u64::MAX, 1, u64::MAX), u64::MAX);
        assert_eq!(spacing(60, 0, 1), 60);
    }

    #[test]
    fn adjust_charges_and_refunds_down_to_full() {
        assert_eq!(adjust(100, 50, 10), 110);
        assert_eq!(adjust(10, 50, 10), 60);
        assert_eq!(adjust(100, 50, -30), 70);
        assert_eq!(adjust(100, 50, -500), 50);
        assert_eq!(adjust(u64::MAX - 1, 0, i128::MAX), u64::MAX);
    }
}
