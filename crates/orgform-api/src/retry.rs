//! When to retry and how long to wait, matching the official SDKs.
//!
//! Decision order: the server's `x-should-retry` header (`true`/`false`) wins; otherwise
//! 408, 409, 429 and every status from 500 up (529 included) are retried, and so are
//! transport failures. The wait is the server's `retry-after-ms` (milliseconds), else
//! `retry-after` (seconds, or an HTTP date), honoured only when it lies in (0, 60] seconds as
//! the Python SDK does; otherwise `min(initial * 2^n, max)` times a jitter factor in
//! (0.75, 1].

use std::time::Duration;

use reqwest::header::HeaderMap;

use crate::config::Backoff;

/// The longest server-requested wait that is honoured.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Whether a status is retryable when the server gives no `x-should-retry` hint.
pub fn status_is_retryable(status: u16) -> bool {
    matches!(status, 408 | 409 | 429) || status >= 500
}

/// Whether to retry a response with this status and these headers.
pub fn should_retry(status: u16, headers: &HeaderMap) -> bool {
    match headers
        .get("x-should-retry")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
    {
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        _ => status_is_retryable(status),
    }
}

/// The wait the server asked for, if it asked for one within (0, 60] seconds.
pub fn retry_after(headers: &HeaderMap, now: jiff::Timestamp) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let honoured = |secs: f64| {
        (secs.is_finite() && secs > 0.0 && secs <= MAX_RETRY_AFTER.as_secs_f64())
            .then(|| Duration::from_secs_f64(secs))
    };
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return honoured(ms / 1000.0);
    }
    let value = header("retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return honoured(secs);
    }
    let date = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let secs = date.duration_since(now).as_secs_f64();
    honoured(secs)
}

/// The backoff before retry number `n` (0 for the first retry), given a jitter sample
/// `unit` in [0, 1).
pub fn backoff_delay(backoff: &Backoff, n: u32, unit: f64) -> Duration {
    let base = backoff.initial.as_secs_f64() * 2f64.powi(i32::try_from(n.min(30)).unwrap_or(30));
    let capped = base.min(backoff.max.as_secs_f64());
    let jitter = 1.0 - 0.25 * unit.clamp(0.0, 1.0);
    Duration::from_secs_f64(capped * jitter)
}

/// The wait before retry `n`: the server's wish if it stated one, else jittered backoff.
pub fn delay(backoff: &Backoff, n: u32, server: Option<Duration>) -> Duration {
    server.unwrap_or_else(|| backoff_delay(backoff, n, rand::random::<f64>()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn x_should_retry_overrides_status() {
        assert!(!should_retry(500, &headers(&[("x-should-retry", "false")])));
        assert!(should_retry(400, &headers(&[("x-should-retry", "true")])));
        assert!(should_retry(529, &HeaderMap::new()));
        assert!(should_retry(409, &HeaderMap::new()));
        assert!(!should_retry(404, &HeaderMap::new()));
        assert!(should_retry(503, &headers(&[("x-should-retry", "maybe")])));
    }

    #[test]
    fn retry_after_ms_first_then_seconds_then_date() {
        let now: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(
            retry_after(
                &headers(&[("retry-after-ms", "1500"), ("retry-after", "9")]),
                now
            ),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "2.5")]), now),
            Some(Duration::from_millis(2500))
        );
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "Thu, 01 Jan 2026 00:00:30 GMT")]),
                now
            ),
            Some(Duration::from_secs(30))
        );
    }

    #[test]
    fn retry_after_out_of_range_is_ignored() {
        let now: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        for v in ["0", "-1", "61", "nonsense", "Thu, 01 Jan 2026 01:00:00 GMT"] {
            assert_eq!(
                retry_after(&headers(&[("retry-after", v)]), now),
                None,
                "{v}"
            );
        }
        assert_eq!(
            retry_after(&headers(&[("retry-after-ms", "60000")]), now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after-ms", "60001")]), now),
            None
        );
    }

    #[test]
    fn backoff_sequence_matches_sdks() {
        let b = Backoff::default();
        let secs: Vec<f64> = (0..7)
            .map(|n| backoff_delay(&b, n, 0.0).as_secs_f64())
            .collect();
        assert_eq!(secs, vec![0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]);
        assert!((backoff_delay(&b, 0, 0.999_999).as_secs_f64() - 0.375).abs() < 1e-3);
    }

    proptest! {
        #[test]
        fn backoff_jitter_in_range(n in 0u32..100, unit in 0.0f64..1.0) {
            let b = Backoff::default();
            let d = backoff_delay(&b, n, unit).as_secs_f64();
            let full = (0.5 * 2f64.powi(i32::try_from(n.min(30)).unwrap())).min(8.0);
            prop_assert!(d > full * 0.75 - 1e-9 && d <= full + 1e-9);
        }
    }
}
