//! Fault injection and rate limits.
//!
//! Random faults are drawn from a ChaCha8 generator seeded with [`FaultConfig::seed`]: one
//! draw per Admin API request, in arrival order, whatever the outcome, so the same seed and the
//! same sequence of requests give the same sequence of faults. Scripted faults
//! ([`crate::Emulator::push_fault`]) take precedence, are one-shot, and do not change the
//! random sequence. Test-control routes are never faulted.
//!
//! Rate limits ([`FaultConfig::enforce_rate_limits`], counted as in `crate::ratelimit`) run on
//! the emulator clock **plus** the wall-clock time since the emulator started: a test triggers
//! the 101st request in a minute instantly and clears it with `advance_clock`, while a client
//! that honours `retry-after` by sleeping (or a long-running `orgform emulator`, whose clock
//! never moves) also sees the window pass. The wall time is tokio's clock, which is the
//! machine's except in a runtime whose time is paused: there a whole run against the limits
//! (client and emulator in one runtime) takes virtual time, as the benchmark does.

use std::collections::VecDeque;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::ratelimit::{Allowance, Budget, Limits};
use crate::readings::RateLimitModel;

/// One kind of injected fault.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// 429 `rate_limit_error` with `retry-after` (seconds) and/or `retry-after-ms`.
    RateLimit {
        /// `retry-after` seconds, when sent.
        #[serde(default)]
        retry_after_secs: Option<u64>,
        /// `retry-after-ms`, when sent.
        #[serde(default)]
        retry_after_ms: Option<u64>,
    },
    /// 500 `api_error`, optionally with `x-should-retry`.
    ServerError {
        /// `x-should-retry` value, when sent.
        #[serde(default)]
        should_retry: Option<bool>,
    },
    /// 529 `overloaded_error`.
    Overloaded,
    /// 409 `conflict_error`.
    Conflict,
    /// The connection is closed before the request is applied.
    DropBeforeApply,
    /// The request is applied, then the connection is closed without a response.
    DropAfterApply,
    /// Extra latency, then a normal response.
    Latency {
        /// Milliseconds.
        ms: u64,
    },
}

impl Fault {
    /// The default mix used by `--fault-rate` when no kinds are given.
    pub fn default_kinds() -> Vec<Fault> {
        vec![
            Fault::RateLimit {
                retry_after_secs: Some(1),
                retry_after_ms: None,
            },
            Fault::ServerError { should_retry: None },
            Fault::Overloaded,
            Fault::DropBeforeApply,
            Fault::DropAfterApply,
        ]
    }
}

/// Which requests a scripted fault applies to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultMatcher {
    /// HTTP method (case-insensitive); `None` matches any.
    #[serde(default)]
    pub method: Option<String>,
    /// Path prefix, e.g. `/v1/organizations/invites`.
    #[serde(default)]
    pub path_prefix: String,
}

impl FaultMatcher {
    /// Matches `method` requests whose path starts with `path_prefix`.
    pub fn new(method: &str, path_prefix: &str) -> Self {
        Self {
            method: Some(method.to_owned()),
            path_prefix: path_prefix.to_owned(),
        }
    }

    /// Matches any request whose path starts with `path_prefix`.
    pub fn any_method(path_prefix: &str) -> Self {
        Self {
            method: None,
            path_prefix: path_prefix.to_owned(),
        }
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && path.starts_with(&self.path_prefix)
    }
}

/// Fault and rate-limit settings. `Default` injects nothing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultConfig {
    /// Seed of the fault sequence.
    pub seed: u64,
    /// Probability (0..=1) that a request gets a random fault.
    pub rate: f64,
    /// Faults to draw from, uniformly.
    pub kinds: Vec<Fault>,
    /// Latency added to every Admin API request.
    pub latency: Duration,
    /// Enforce the documented Admin API rate limits.
    pub enforce_rate_limits: bool,
    /// For this long (emulator clock) after a membership write, the single-member GET returns
    /// the value from before the write while the list is fresh.
    pub stale_member_get: Option<Duration>,
}

/// The JSON form of [`FaultConfig`] used by `PUT /_emulator/faults`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultConfigWire {
    /// See [`FaultConfig::seed`].
    #[serde(default)]
    pub seed: u64,
    /// See [`FaultConfig::rate`].
    #[serde(default)]
    pub rate: f64,
    /// See [`FaultConfig::kinds`].
    #[serde(default)]
    pub kinds: Vec<Fault>,
    /// See [`FaultConfig::latency`], in milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
    /// See [`FaultConfig::enforce_rate_limits`].
    #[serde(default)]
    pub enforce_rate_limits: bool,
    /// See [`FaultConfig::stale_member_get`], in milliseconds.
    #[serde(default)]
    pub stale_member_get_ms: Option<u64>,
}

impl From<FaultConfigWire> for FaultConfig {
    fn from(w: FaultConfigWire) -> Self {
        Self {
            seed: w.seed,
            rate: w.rate,
            kinds: w.kinds,
            latency: Duration::from_millis(w.latency_ms),
            enforce_rate_limits: w.enforce_rate_limits,
            stale_member_get: w.stale_member_get_ms.map(Duration::from_millis),
        }
    }
}

/// Runtime fault state.
#[derive(Debug)]
pub(crate) struct FaultEngine {
    pub(crate) config: FaultConfig,
    rng: ChaCha8Rng,
    scripted: VecDeque<(FaultMatcher, Fault)>,
    limits: Limits,
    started: tokio::time::Instant,
}

impl FaultEngine {
    pub(crate) fn new(config: FaultConfig) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            config,
            scripted: VecDeque::new(),
            limits: Limits::default(),
            started: tokio::time::Instant::now(),
        }
    }

    /// Replaces the configuration and restarts the random sequence.
    pub(crate) fn reconfigure(&mut self, config: FaultConfig) {
        self.rng = ChaCha8Rng::seed_from_u64(config.seed);
        self.config = config;
    }

    pub(crate) fn push(&mut self, matcher: FaultMatcher, fault: Fault) {
        self.scripted.push_back((matcher, fault));
    }

    /// The fault for the next request, if any.
    pub(crate) fn draw(&mut self, method: &str, path: &str) -> Option<Fault> {
        let roll: f64 = self.rng.random();
        let pick: u64 = self.rng.random();
        if let Some(i) = self
            .scripted
            .iter()
            .position(|(m, _)| m.matches(method, path))
        {
            return self.scripted.remove(i).map(|(_, f)| f);
        }
        if self.config.kinds.is_empty() || roll >= self.config.rate {
            return None;
        }
        let len = u64::try_from(self.config.kinds.len()).unwrap_or(1);
        let idx = usize::try_from(pick % len).unwrap_or(0);
        self.config.kinds.get(idx).cloned()
    }

    /// Counts a request against its budget in `model`, on the emulator clock plus the wall
    /// time since start. `Ok(None)` when nothing is counted (limits not enforced and no
    /// headers wanted); `Err(wait)` when refused.
    pub(crate) fn admit(
        &mut self,
        budget: Budget,
        model: RateLimitModel,
        emulator_now: Timestamp,
        headers: bool,
    ) -> Result<Option<Allowance>, SignedDuration> {
        let enforce = self.config.enforce_rate_limits;
        if !enforce && !headers {
            return Ok(None);
        }
        let wall = SignedDuration::try_from(self.started.elapsed()).unwrap_or(SignedDuration::ZERO);
        let now = emulator_now.saturating_add(wall).unwrap_or(emulator_now);
        self.limits.admit(budget, model, now, enforce).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(seed: u64) -> FaultConfig {
        FaultConfig {
            seed,
            rate: 0.5,
            kinds: Fault::default_kinds(),
            ..FaultConfig::default()
        }
    }

    #[test]
    fn same_seed_same_sequence() {
        let run = |seed| {
            let mut e = FaultEngine::new(cfg(seed));
            (0..200)
                .map(|_| e.draw("GET", "/v1/organizations/users"))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(9), run(9));
        assert_ne!(run(9), run(10));
        let hits = run(9).iter().filter(|f| f.is_some()).count();
        assert!((60..140).contains(&hits), "rate 0.5 gave {hits}/200");
    }

    #[test]
    fn scripted_faults_are_one_shot_and_keep_the_random_sequence() {
        let mut plain = FaultEngine::new(cfg(1));
        let mut scripted = FaultEngine::new(cfg(1));
        scripted.push(
            FaultMatcher::new("POST", "/v1/organizations/invites"),
            Fault::Conflict,
        );
        assert_eq!(
            scripted.draw("post", "/v1/organizations/invites"),
            Some(Fault::Conflict)
        );
        plain.draw("GET", "/x");
        for _ in 0..20 {
            assert_eq!(
                plain.draw("POST", "/v1/organizations/invites"),
                scripted.draw("POST", "/v1/organizations/invites")
            );
        }
    }

    const W: RateLimitModel = RateLimitModel::RollingWindow;

    #[test]
    fn rate_limit_counts_on_the_given_clock() {
        let mut e = FaultEngine::new(FaultConfig {
            enforce_rate_limits: true,
            ..FaultConfig::default()
        });
        let t0: Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        for _ in 0..100 {
            e.admit(Budget::Admin, W, t0, false).unwrap();
        }
        assert!(
            matches!(e.admit(Budget::Admin, W, t0, false), Err(w) if (59..=60).contains(&w.as_secs()))
        );
        assert!(e.admit(Budget::InviteCreate, W, t0, false).is_ok());
        let later = t0.checked_add(SignedDuration::from_secs(60)).unwrap();
        assert!(e.admit(Budget::Admin, W, later, false).is_ok());
    }

    #[test]
    fn rate_limit_window_also_passes_in_wall_time() {
        let mut e = FaultEngine::new(FaultConfig {
            enforce_rate_limits: true,
            ..FaultConfig::default()
        });
        let t0: Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        for _ in 0..100 {
            e.admit(Budget::Admin, W, t0, false).unwrap();
        }
        assert!(e.admit(Budget::Admin, W, t0, false).is_err());
        // As if 61 s of real time had passed while the emulator clock stood still.
        e.started = e.started.checked_sub(Duration::from_secs(61)).unwrap();
        assert!(e.admit(Budget::Admin, W, t0, false).is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn rate_limit_window_passes_in_the_virtual_time_of_a_paused_runtime() {
        let mut e = FaultEngine::new(FaultConfig {
            enforce_rate_limits: true,
            ..FaultConfig::default()
        });
        let t0: Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        for _ in 0..100 {
            e.admit(Budget::Admin, W, t0, false).unwrap();
        }
        assert!(e.admit(Budget::Admin, W, t0, false).is_err());
        tokio::time::advance(Duration::from_secs(60)).await;
        assert!(e.admit(Budget::Admin, W, t0, false).is_ok());
    }
}
