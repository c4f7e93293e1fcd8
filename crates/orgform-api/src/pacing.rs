//! Client-side pacing shaped like the documented Admin API limits.
//!
//! The Admin API allows 100 requests per minute per organization, shared by every admin
//! endpoint, except invite creation (`POST /v1/organizations/invites`), which draws from its
//! own 1,200 per hour instead. A server may count "100 per minute" as a rolling window (never
//! more than 100 in any 60 s) or as a token bucket (100 at once, refilled at 100 per 60 s).
//! Each budget is paced as a **rolling window** here, which is safe under both: a sequence
//! with at most N requests in any window W never asks a bucket of N refilled at N / W for
//! more than it holds. So up to N requests go at network speed, and the N+1st waits until
//! the first has been out of the window for a whole W.
//!
//! A request occupies its window slot from the moment it is sent until a whole window after
//! its answer arrived (the server counted it somewhere in between), so the client never
//! credits a slot earlier than the server can.
//!
//! When the server sends `anthropic-ratelimit-requests-{limit,remaining,reset}`, those are
//! followed too:
//! - `remaining` no higher than the requests sent since (other clients of the same
//!   organization share the budget) holds every request of that budget until `reset`;
//! - a reset sooner than a whole window while part of the budget is used shows a token bucket
//!   refilling continuously; from then on the budget is paced by the server's own count
//!   (`remaining`, minus what was sent since, plus the refill since) instead of the window,
//!   when the window is not stricter than the server (a `--rate-limit` below the server's).
//!
//! A 429 pauses the whole budget for its `retry-after` (1 s when absent) and returns to
//! window pacing: whatever the headers suggested was wrong.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderMap;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::config::RateLimit;
use crate::progress::Counters;

/// The window of the general Admin API budget.
pub const GENERAL_WINDOW: Duration = Duration::from_secs(60);

/// The window of the invite-creation budget.
pub const INVITE_WINDOW: Duration = Duration::from_secs(3600);

/// Which budget a request draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    /// Every Admin API request but invite creation.
    General,
    /// `POST /v1/organizations/invites`.
    InviteCreate,
}

impl Budget {
    /// The budget of a request.
    pub fn of(method: &Method, path: &str) -> Self {
        if method == Method::POST && path.trim_end_matches('/') == "/v1/organizations/invites" {
            Budget::InviteCreate
        } else {
            Budget::General
        }
    }
}

/// The shortest time `requests` take under a rolling window of `cap` per `window`, from the
/// first send to the last (network time excluded): every `cap` requests after the first
/// `cap` wait one more window.
pub fn window_floor(requests: u32, cap: u32, window: Duration) -> Duration {
    if requests == 0 || cap == 0 {
        return Duration::ZERO;
    }
    window * ((requests - 1) / cap)
}

/// The shortest time `requests` take against a full token bucket of `cap` refilled at
/// `cap` per `window` (network time excluded).
pub fn bucket_floor(requests: u32, cap: u32, window: Duration) -> Duration {
    if requests <= cap || cap == 0 {
        return Duration::ZERO;
    }
    window.mul_f64(f64::from(requests - cap) / f64::from(cap))
}

/// Both budgets of one client.
#[derive(Debug)]
pub(crate) struct Pacer {
    general: Lane,
    invites: Lane,
}

impl Pacer {
    pub(crate) fn new(limit: RateLimit) -> Self {
        Self {
            general: Lane::new(limit.per_minute, GENERAL_WINDOW),
            invites: Lane::new(limit.invites_per_hour, INVITE_WINDOW),
        }
    }

    fn lane(&self, budget: Budget) -> &Lane {
        match budget {
            Budget::General => &self.general,
            Budget::InviteCreate => &self.invites,
        }
    }

    /// Waits until a request of `budget` may be sent, and counts it; while it waits, it is
    /// counted as waiting on the rate limit in `counters`.
    pub(crate) async fn acquire(&self, budget: Budget, counters: &Counters) -> Permit<'_> {
        let lane = self.lane(budget);
        let id = lane.acquire(counters).await;
        Permit { lane, id }
    }
}

/// A sent request's slot; dropping it records the answer's arrival.
pub(crate) struct Permit<'a> {
    lane: &'a Lane,
    id: u64,
}

impl Permit<'_> {
    /// Records the answer: its rate-limit headers (`server_date` is its `date` header, the
    /// clock `reset` is read against), or the wait a 429 asked for.
    pub(crate) fn answered(self, status: u16, headers: &HeaderMap, retry_after: Option<Duration>) {
        let now = Instant::now();
        self.lane.finish(self.id, now);
        if status == 429 {
            self.lane
                .refused(now, retry_after.unwrap_or(Duration::from_secs(1)));
        } else if let Some(seen) = Seen::from_headers(headers) {
            self.lane.observe(now, seen);
        }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.lane.finish(self.id, Instant::now());
    }
}

/// The `anthropic-ratelimit-requests-*` headers of one answer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Seen {
    limit: u32,
    remaining: u32,
    /// Until the budget is whole again, on the server's clock (`reset` - `date`).
    reset_in: Duration,
}

impl Seen {
    pub(crate) fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        };
        let limit = text("anthropic-ratelimit-requests-limit")?.parse().ok()?;
        let remaining = text("anthropic-ratelimit-requests-remaining")?
            .parse()
            .ok()?;
        let reset: jiff::Timestamp = text("anthropic-ratelimit-requests-reset")?.parse().ok()?;
        // `date` has whole seconds: reading `reset` against it errs on the long side.
        let date = text("date")
            .and_then(crate::client::parse_http_date)
            .unwrap_or_else(jiff::Timestamp::now);
        let reset_in = Duration::try_from(reset.duration_since(date)).unwrap_or(Duration::ZERO);
        Some(Self {
            limit,
            remaining,
            reset_in,
        })
    }
}

impl Seen {
    /// Whether these headers show a bucket refilling continuously at `limit` per `window`:
    /// part of the budget used, and a reset in proportion to it (within 2 s), sooner than a
    /// whole window. A rolling window resets a whole window after its latest request.
    fn shows_a_bucket(&self, window: Duration) -> bool {
        if self.remaining >= self.limit || self.limit == 0 {
            return false;
        }
        let used = f64::from(self.limit - self.remaining) / f64::from(self.limit);
        let expected = window.as_secs_f64() * used;
        let reset = self.reset_in.as_secs_f64();
        reset + 2.0 < window.as_secs_f64() && (reset - expected).abs() <= 2.0
    }
}

/// One budget.
#[derive(Debug)]
struct Lane {
    state: Mutex<LaneState>,
    changed: Notify,
}

#[derive(Debug)]
struct LaneState {
    cap: u32,
    window: Duration,
    /// Counted requests in the order sent: `done` is when the answer arrived (`None` while in
    /// flight).
    slots: VecDeque<Slot>,
    next_id: u64,
    /// Nothing is sent before this (a 429's `retry-after`).
    paused_until: Option<Instant>,
    /// The latest rate-limit headers, with what was sent since.
    server: Option<ServerView>,
    /// The server's headers showed a continuously refilling bucket.
    bucket: bool,
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    id: u64,
    done: Option<Instant>,
}

#[derive(Clone, Copy, Debug)]
struct ServerView {
    limit: u32,
    /// Requests the server would still admit at `at`, less those that may not be counted in
    /// its answer yet (in flight then).
    tokens: f64,
    at: Instant,
    reset_at: Instant,
    /// Requests sent since `at`.
    sent: u32,
}

impl ServerView {
    /// Requests the server would admit at `now`: `tokens` less what was sent since, plus,
    /// for a bucket, its refill (`limit` per `window`) since.
    fn available(&self, now: Instant, window: Duration, bucket: bool) -> f64 {
        let mut tokens = self.tokens - f64::from(self.sent);
        if bucket {
            let rate = f64::from(self.limit) / window.as_secs_f64();
            tokens += now.saturating_duration_since(self.at).as_secs_f64() * rate;
            tokens = tokens.min(f64::from(self.limit));
        }
        tokens
    }
}

/// What the lane decided for the next request.
#[derive(Debug, PartialEq)]
enum Decision {
    Go,
    Until(Instant),
    /// Every slot is taken by a request in flight: wait for an answer.
    Answer,
}

impl Lane {
    fn new(cap: u32, window: Duration) -> Self {
        Self {
            state: Mutex::new(LaneState {
                cap: cap.max(1),
                window,
                slots: VecDeque::new(),
                next_id: 0,
                paused_until: None,
                server: None,
                bucket: false,
            }),
            changed: Notify::new(),
        }
    }

    async fn acquire(&self, counters: &Counters) -> u64 {
        let mut waiting = None;
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let decision = {
                let mut state = self.state.lock().expect("pacing state is never poisoned");
                let decision = state.decide(Instant::now());
                if decision == Decision::Go {
                    return state.count();
                }
                decision
            };
            waiting.get_or_insert_with(|| counters.waiting());
            match decision {
                Decision::Go => unreachable!("returned above"),
                Decision::Until(at) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        () = &mut notified => {}
                    }
                }
                Decision::Answer => notified.await,
            }
        }
    }

    fn finish(&self, id: u64, now: Instant) {
        {
            let mut state = self.state.lock().expect("pacing state is never poisoned");
            if let Some(slot) = state.slots.iter_mut().find(|s| s.id == id) {
                slot.done.get_or_insert(now);
            }
        }
        self.changed.notify_waiters();
    }

    fn observe(&self, now: Instant, seen: Seen) {
        self.state
            .lock()
            .expect("pacing state is never poisoned")
            .observe(now, seen);
        self.changed.notify_waiters();
    }

    fn refused(&self, now: Instant, wait: Duration) {
        let mut state = self.state.lock().expect("pacing state is never poisoned");
        let until = now + wait;
        state.paused_until = Some(state.paused_until.map_or(until, |p| p.max(until)));
        state.bucket = false;
        state.server = None;
    }
}

impl LaneState {
    /// Frees the slots whose answer left the window.
    fn prune(&mut self, now: Instant) {
        let window = self.window;
        self.slots
            .retain(|s| s.done.is_none_or(|done| done + window > now));
    }

    fn decide(&mut self, now: Instant) -> Decision {
        self.prune(now);
        if let Some(until) = self.paused_until {
            if until > now {
                return Decision::Until(until);
            }
            self.paused_until = None;
        }
        if let Some(view) = self.server {
            let available = view.available(now, self.window, self.bucket);
            // The server's bucket replaces the window only when the window is not stricter.
            if self.bucket && view.limit <= self.cap {
                if available >= 1.0 {
                    return Decision::Go;
                }
                let rate = f64::from(view.limit) / self.window.as_secs_f64();
                let wait = Duration::from_secs_f64((1.0 - available) / rate);
                // At least a millisecond: a wait that rounds to nothing would spin.
                return Decision::Until(now + wait.max(Duration::from_millis(1)));
            }
            if available < 1.0 && now < view.reset_at {
                return Decision::Until(view.reset_at);
            }
        }
        if u32::try_from(self.slots.len()).unwrap_or(u32::MAX) < self.cap {
            return Decision::Go;
        }
        let window = self.window;
        self.slots
            .iter()
            .filter_map(|s| s.done.map(|done| done + window))
            .min()
            .map_or(Decision::Answer, Decision::Until)
    }

    /// Counts a request being sent now.
    fn count(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.slots.push_back(Slot { id, done: None });
        if let Some(view) = &mut self.server {
            view.sent = view.sent.saturating_add(1);
        }
        id
    }

    fn observe(&mut self, now: Instant, seen: Seen) {
        let in_flight = self.slots.iter().filter(|s| s.done.is_none()).count();
        let fresh =
            f64::from(seen.remaining) - f64::from(u32::try_from(in_flight).unwrap_or(u32::MAX));
        let was_bucket = self.bucket;
        if seen.shows_a_bucket(self.window) {
            self.bucket = true;
        }
        // Answers arrive out of order: in a bucket, an older answer's higher `remaining` must
        // not undo what a newer one said, so the lower estimate wins (the refill since is
        // known).
        let tokens = match self.server {
            Some(old) if was_bucket => fresh.min(old.available(now, self.window, true)),
            _ => fresh,
        };
        self.server = Some(ServerView {
            limit: seen.limit,
            tokens,
            at: now,
            reset_at: now + seen.reset_in,
            sent: 0,
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use reqwest::header::HeaderValue;

    use super::*;

    fn limit(per_minute: u32) -> RateLimit {
        RateLimit {
            per_minute,
            ..RateLimit::default()
        }
    }

    /// Sends `n` requests of `budget` one after another, each answered at once; returns the
    /// send times since the start.
    async fn send(pacer: &Pacer, budget: Budget, n: usize) -> Vec<Duration> {
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..n {
            let permit = pacer.acquire(budget, &Counters::default()).await;
            times.push(start.elapsed());
            drop(permit);
        }
        times
    }

    fn max_in_any(times: &[Duration], window: Duration) -> usize {
        times
            .iter()
            .map(|t| {
                times
                    .iter()
                    .filter(|u| **u >= *t && **u < *t + window)
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    #[tokio::test(start_paused = true)]
    async fn a_hundred_requests_go_at_once_and_the_next_waits_a_whole_window() {
        let pacer = Pacer::new(limit(100));
        let times = send(&pacer, Budget::General, 250).await;
        assert!(
            times[..100].iter().all(|t| *t == Duration::ZERO),
            "{times:?}"
        );
        assert_eq!(times[100], GENERAL_WINDOW);
        assert_eq!(times[199], GENERAL_WINDOW);
        assert_eq!(times[200], GENERAL_WINDOW * 2);
        assert_eq!(max_in_any(&times, GENERAL_WINDOW), 100);
        assert_eq!(
            *times.last().unwrap(),
            window_floor(250, 100, GENERAL_WINDOW)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_window_counts_from_the_answer_not_the_send() {
        let pacer = Pacer::new(limit(2));
        let start = Instant::now();
        let a = pacer.acquire(Budget::General, &Counters::default()).await;
        let b = pacer.acquire(Budget::General, &Counters::default()).await;
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(a);
        drop(b);
        pacer
            .acquire(Budget::General, &Counters::default())
            .await
            .answered(200, &HeaderMap::new(), None);
        assert_eq!(start.elapsed(), Duration::from_secs(65));
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_window_of_requests_in_flight_waits_for_an_answer() {
        let pacer = Arc::new(Pacer::new(limit(1)));
        let counters = Arc::new(Counters::default());
        let first = pacer.acquire(Budget::General, &counters).await;
        assert!(
            !counters.progress().waiting_on_rate_limit,
            "the first went at once"
        );
        let (p, c) = (pacer.clone(), counters.clone());
        let waiter = tokio::spawn(async move {
            let start = Instant::now();
            drop(p.acquire(Budget::General, &c).await);
            start.elapsed()
        });
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert!(!waiter.is_finished());
        assert!(counters.progress().waiting_on_rate_limit);
        drop(first);
        assert_eq!(waiter.await.unwrap(), Duration::from_secs(90));
        assert!(!counters.progress().waiting_on_rate_limit);
    }

    #[tokio::test(start_paused = true)]
    async fn invites_have_their_own_budget_of_1200_an_hour() {
        let pacer = Pacer::new(limit(100));
        let general = send(&pacer, Budget::General, 100).await;
        let invites = send(&pacer, Budget::InviteCreate, 1300).await;
        assert_eq!(*general.last().unwrap(), Duration::ZERO);
        assert!(invites[..1200].iter().all(|t| *t == Duration::ZERO));
        assert_eq!(invites[1200], INVITE_WINDOW);
        assert_eq!(max_in_any(&invites, INVITE_WINDOW), 1200);
    }

    #[test]
    fn invite_creation_alone_draws_from_the_invite_budget() {
        assert_eq!(
            Budget::of(&Method::POST, "/v1/organizations/invites"),
            Budget::InviteCreate
        );
        assert_eq!(
            Budget::of(&Method::GET, "/v1/organizations/invites"),
            Budget::General
        );
        assert_eq!(
            Budget::of(&Method::DELETE, "/v1/organizations/invites/invite_1"),
            Budget::General
        );
    }

    fn headers(limit: u32, remaining: u32, reset_in_secs: f64) -> HeaderMap {
        let date: jiff::Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        let reset = date
            .checked_add(jiff::SignedDuration::from_secs_f64(reset_in_secs))
            .unwrap();
        let mut map = HeaderMap::new();
        let mut put = |k: &'static str, v: String| {
            map.insert(k, HeaderValue::from_str(&v).unwrap());
        };
        put("date", "Mon, 01 Jun 2026 00:00:00 GMT".to_owned());
        put("anthropic-ratelimit-requests-limit", limit.to_string());
        put(
            "anthropic-ratelimit-requests-remaining",
            remaining.to_string(),
        );
        put("anthropic-ratelimit-requests-reset", reset.to_string());
        map
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_that_says_nothing_is_left_holds_requests_until_its_reset() {
        let pacer = Pacer::new(limit(100));
        let start = Instant::now();
        // Another client used the organization's budget: 0 left for 20 s.
        pacer
            .acquire(Budget::General, &Counters::default())
            .await
            .answered(200, &headers(100, 0, 20.0), None);
        drop(pacer.acquire(Budget::General, &Counters::default()).await);
        assert_eq!(start.elapsed(), Duration::from_secs(20));
    }

    #[tokio::test(start_paused = true)]
    async fn a_refilling_bucket_is_followed_past_the_window() {
        let pacer = Pacer::new(limit(100));
        let start = Instant::now();
        // A bucket of 100 refilled at 100 per 60 s: after n requests, 100 - n left and a
        // reset n * 0.6 s away.
        let mut times = Vec::new();
        for n in 1..=130u32 {
            let permit = pacer.acquire(Budget::General, &Counters::default()).await;
            let elapsed = start.elapsed();
            times.push(elapsed);
            // What such a server says, from its own count.
            let tokens = (100.0 - f64::from(n) + elapsed.as_secs_f64() / 0.6).min(100.0);
            let remaining = tokens.max(0.0).floor();
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "0..=100"
            )]
            let remaining = remaining as u32;
            permit.answered(200, &headers(100, remaining, (100.0 - tokens) * 0.6), None);
        }
        // The window would hold the 101st for 60 s; the bucket has one more every 0.6 s.
        let last = times.last().unwrap().as_secs_f64();
        let floor = bucket_floor(130, 100, GENERAL_WINDOW).as_secs_f64();
        assert!(
            last >= floor - 1e-6 && last <= floor + 1.0,
            "{last} vs {floor}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_pauses_the_budget_and_returns_to_the_window() {
        let pacer = Pacer::new(limit(100));
        let start = Instant::now();
        pacer
            .acquire(Budget::General, &Counters::default())
            .await
            .answered(429, &HeaderMap::new(), Some(Duration::from_secs(7)));
        drop(pacer.acquire(Budget::General, &Counters::default()).await);
        assert_eq!(start.elapsed(), Duration::from_secs(7));
        // The other budget is not paused.
        let before = Instant::now();
        drop(
            pacer
                .acquire(Budget::InviteCreate, &Counters::default())
                .await,
        );
        assert_eq!(before.elapsed(), Duration::ZERO);
    }

    #[test]
    fn a_bucket_shows_in_a_reset_proportional_to_what_was_used() {
        let seen = |remaining, reset_in: f64| Seen {
            limit: 100,
            remaining,
            reset_in: Duration::from_secs_f64(reset_in),
        };
        assert!(seen(99, 0.6).shows_a_bucket(GENERAL_WINDOW));
        assert!(seen(50, 30.0).shows_a_bucket(GENERAL_WINDOW));
        // A rolling window: a whole window away whatever was used.
        assert!(!seen(99, 60.0).shows_a_bucket(GENERAL_WINDOW));
        // Nothing left, but the oldest request leaves soon: others use the window.
        assert!(!seen(0, 20.0).shows_a_bucket(GENERAL_WINDOW));
        assert!(!seen(100, 0.0).shows_a_bucket(GENERAL_WINDOW));
    }

    #[test]
    fn floors() {
        assert_eq!(window_floor(0, 100, GENERAL_WINDOW), Duration::ZERO);
        assert_eq!(window_floor(100, 100, GENERAL_WINDOW), Duration::ZERO);
        assert_eq!(window_floor(101, 100, GENERAL_WINDOW), GENERAL_WINDOW);
        assert_eq!(window_floor(529, 100, GENERAL_WINDOW), GENERAL_WINDOW * 5);
        assert_eq!(bucket_floor(100, 100, GENERAL_WINDOW), Duration::ZERO);
        assert_eq!(
            bucket_floor(1000, 100, GENERAL_WINDOW),
            Duration::from_secs(540)
        );
    }
}
