//! The documented Admin API rate limits, counted in either model a server may use.
//!
//! Two budgets: 100 requests per minute shared by every authenticated Admin API request,
//! except invite creation, which draws from its own 1,200 per hour instead. Each budget is
//! counted as [`RateLimitModel::RollingWindow`] (never more than the budget in any window)
//! or [`RateLimitModel::TokenBucket`] (a bucket of the budget's size refilled continuously at
//! budget / window). Refused requests do not count.
//!
//! Counting runs whenever the limits are enforced or the rate-limit headers are sent; a
//! request over the budget is refused only when enforced (otherwise `remaining` reads 0).

use std::collections::VecDeque;

use jiff::{SignedDuration, Timestamp};

use crate::readings::RateLimitModel;

/// Which budget a request draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Budget {
    /// 100 requests per minute.
    Admin,
    /// Invite creation: 1,200 per hour.
    InviteCreate,
}

impl Budget {
    fn cap(self) -> u32 {
        match self {
            Budget::Admin => 100,
            Budget::InviteCreate => 1200,
        }
    }

    fn span(self) -> SignedDuration {
        match self {
            Budget::Admin => SignedDuration::from_secs(60),
            Budget::InviteCreate => SignedDuration::from_secs(3600),
        }
    }
}

/// What an admitted request learns about its budget (the `anthropic-ratelimit-requests-*`
/// headers).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Allowance {
    /// The budget's size.
    pub(crate) limit: u32,
    /// Requests left now.
    pub(crate) remaining: u32,
    /// Time until the budget is fully replenished.
    pub(crate) reset_in: SignedDuration,
}

/// One budget's counter, holding the state of both models (only the configured one is used).
#[derive(Debug)]
struct Counter {
    budget: Budget,
    window: VecDeque<Timestamp>,
    tokens: f64,
    last: Option<Timestamp>,
}

impl Counter {
    fn new(budget: Budget) -> Self {
        Self {
            budget,
            window: VecDeque::new(),
            tokens: f64::from(budget.cap()),
            last: None,
        }
    }

    fn rate_per_sec(&self) -> f64 {
        f64::from(self.budget.cap()) / secs_f64(self.budget.span())
    }

    fn admit(
        &mut self,
        model: RateLimitModel,
        now: Timestamp,
        enforce: bool,
    ) -> Result<Allowance, SignedDuration> {
        match model {
            RateLimitModel::RollingWindow => self.admit_window(now, enforce),
            RateLimitModel::TokenBucket => self.admit_bucket(now, enforce),
        }
    }

    fn admit_window(&mut self, now: Timestamp, enforce: bool) -> Result<Allowance, SignedDuration> {
        let span = self.budget.span();
        let cap = self.budget.cap();
        while self
            .window
            .front()
            .is_some_and(|t| t.saturating_add(span).is_ok_and(|end| end <= now))
        {
            self.window.pop_front();
        }
        let used = u32::try_from(self.window.len()).unwrap_or(u32::MAX);
        if enforce && used >= cap {
            let oldest = self.window.front().copied().unwrap_or(now);
            return Err(oldest
                .saturating_add(span)
                .map_or(span, |end| end.duration_since(now)));
        }
        self.window.push_back(now);
        Ok(Allowance {
            limit: cap,
            remaining: cap.saturating_sub(used + 1),
            reset_in: span,
        })
    }

    fn admit_bucket(&mut self, now: Timestamp, enforce: bool) -> Result<Allowance, SignedDuration> {
        let cap = f64::from(self.budget.cap());
        let rate = self.rate_per_sec();
        let elapsed = self
            .last
            .map_or(0.0, |last| secs_f64(now.duration_since(last)).max(0.0));
        self.tokens = (self.tokens + elapsed * rate).min(cap);
        self.last = Some(now);
        if self.tokens < 1.0 {
            if enforce {
                return Err(SignedDuration::from_secs_f64((1.0 - self.tokens) / rate));
            }
            self.tokens = 1.0;
        }
        self.tokens -= 1.0;
        Ok(Allowance {
            limit: self.budget.cap(),
            // Whole tokens left; the bucket never holds more than `cap`.
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "0 <= tokens <= cap, a u32"
            )]
            remaining: self.tokens.floor() as u32,
            reset_in: SignedDuration::from_secs_f64((cap - self.tokens) / rate),
        })
    }
}

fn secs_f64(d: SignedDuration) -> f64 {
    d.as_secs_f64()
}

/// Both budgets' counters.
#[derive(Debug)]
pub(crate) struct Limits {
    admin: Counter,
    invites: Counter,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            admin: Counter::new(Budget::Admin),
            invites: Counter::new(Budget::InviteCreate),
        }
    }
}

impl Limits {
    /// Counts a request against `budget` at `now`; `Err(wait)` when refused.
    pub(crate) fn admit(
        &mut self,
        budget: Budget,
        model: RateLimitModel,
        now: Timestamp,
        enforce: bool,
    ) -> Result<Allowance, SignedDuration> {
        match budget {
            Budget::Admin => self.admin.admit(model, now, enforce),
            Budget::InviteCreate => self.invites.admit(model, now, enforce),
        }
    }
}

/// Whole seconds to wait, rounded up, at least 1 (the `retry-after` value).
pub(crate) fn retry_after_secs(wait: SignedDuration) -> u64 {
    let secs = wait.as_secs() + i64::from(wait.subsec_nanos() > 0);
    u64::try_from(secs.max(1)).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> Timestamp {
        "2026-06-01T00:00:00Z".parse().unwrap()
    }

    fn at(secs: f64) -> Timestamp {
        t0().checked_add(SignedDuration::from_secs_f64(secs))
            .unwrap()
    }

    /// How many of `n` requests spread evenly over `secs` seconds are admitted.
    fn admitted(model: RateLimitModel, n: u32, secs: f64) -> u32 {
        let mut l = Limits::default();
        (0..n)
            .filter(|i| {
                l.admit(
                    Budget::Admin,
                    model,
                    at(secs * f64::from(*i) / f64::from(n)),
                    true,
                )
                .is_ok()
            })
            .count()
            .try_into()
            .unwrap()
    }

    #[test]
    fn both_models_admit_a_burst_of_100_and_refuse_the_101st() {
        for model in RateLimitModel::ALL {
            let mut l = Limits::default();
            for i in 0..100 {
                let a = l.admit(Budget::Admin, *model, t0(), true).unwrap();
                assert_eq!(a.remaining, 99 - i, "{model}");
                assert_eq!(a.limit, 100);
            }
            let wait = l.admit(Budget::Admin, *model, t0(), true).unwrap_err();
            assert!(wait > SignedDuration::ZERO, "{model}");
            // The invite budget is separate.
            assert!(l.admit(Budget::InviteCreate, *model, t0(), true).is_ok());
        }
    }

    #[test]
    fn the_models_differ_after_the_burst() {
        // A rolling window waits for the oldest request to leave: nothing for 60 s.
        let mut w = Limits::default();
        let mut b = Limits::default();
        for _ in 0..100 {
            w.admit(Budget::Admin, RateLimitModel::RollingWindow, t0(), true)
                .unwrap();
            b.admit(Budget::Admin, RateLimitModel::TokenBucket, t0(), true)
                .unwrap();
        }
        assert!(
            w.admit(Budget::Admin, RateLimitModel::RollingWindow, at(1.0), true)
                .is_err()
        );
        // A token bucket refills one request every 0.6 s.
        let wait = b
            .admit(Budget::Admin, RateLimitModel::TokenBucket, at(0.3), true)
            .unwrap_err();
        assert!((wait.as_secs_f64() - 0.3).abs() < 0.01, "{wait:?}");
        assert!(
            b.admit(Budget::Admin, RateLimitModel::TokenBucket, at(0.61), true)
                .is_ok()
        );
        assert!(
            w.admit(Budget::Admin, RateLimitModel::RollingWindow, at(60.0), true)
                .is_ok()
        );
    }

    #[test]
    fn over_two_minutes_a_bucket_admits_more_than_a_window_allows_in_any_minute() {
        // 400 requests evenly over 120 s: the window admits 100 per 60 s; the bucket its
        // burst of 100 plus the refill of 1 per 0.6 s.
        let window = admitted(RateLimitModel::RollingWindow, 400, 120.0);
        let bucket = admitted(RateLimitModel::TokenBucket, 400, 120.0);
        assert!(window <= 200, "window admitted {window}");
        assert!(bucket > window, "bucket {bucket} vs window {window}");
    }

    #[test]
    fn unenforced_counting_never_refuses_and_reads_zero_remaining() {
        for model in RateLimitModel::ALL {
            let mut l = Limits::default();
            for _ in 0..150 {
                l.admit(Budget::Admin, *model, t0(), false).unwrap();
            }
            let a = l.admit(Budget::Admin, *model, t0(), false).unwrap();
            assert_eq!(a.remaining, 0, "{model}");
        }
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(SignedDuration::from_millis(300)), 1);
        assert_eq!(retry_after_secs(SignedDuration::from_millis(59_001)), 60);
        assert_eq!(retry_after_secs(SignedDuration::ZERO), 1);
    }
}
