//! The API's clock, as its responses tell it: the `Date` header (RFC 9110 HTTP-date).
//!
//! The Admin API derives invite and key statuses from its own clock, so a plan is computed
//! at the instant the API says it is, not at the local clock of the machine that runs
//! orgform (a CI runner's clock may be off). The client keeps the latest `Date` it received
//! with the local instant it arrived; a response without a valid `Date` leaves it unchanged.

use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};
use reqwest::header::HeaderMap;

/// What the API's clock said, and when (by the local clock) it said it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApiClock {
    /// The `Date` header of the latest response (whole seconds).
    pub date: Timestamp,
    /// The local clock when that response arrived.
    pub received_at: Timestamp,
}

impl ApiClock {
    /// How far the API's clock is ahead of the local clock (negative: behind). `Date` has
    /// whole seconds, so this is exact to about a second.
    pub fn skew(&self) -> SignedDuration {
        self.date.duration_since(self.received_at)
    }
}

/// Records the latest `Date` seen; shared by the clones of a client.
#[derive(Debug, Default)]
pub(crate) struct ClockRecorder {
    latest: Mutex<Option<ApiClock>>,
}

impl ClockRecorder {
    /// Notes the `Date` header of a response received now, keeping the latest date.
    pub(crate) fn observe(&self, headers: &HeaderMap) {
        let Some(date) = date_header(headers) else {
            return;
        };
        let reading = ApiClock {
            date,
            received_at: Timestamp::now(),
        };
        let mut latest = self
            .latest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if latest.is_none_or(|l| l.date <= date) {
            *latest = Some(reading);
        }
    }

    /// The latest reading, if any response carried a valid `Date`.
    pub(crate) fn latest(&self) -> Option<ApiClock> {
        *self
            .latest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The `Date` header as an instant; `None` when absent or not an HTTP-date.
fn date_header(headers: &HeaderMap) -> Option<Timestamp> {
    crate::parse_http_date(headers.get(reqwest::header::DATE)?.to_str().ok()?)
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn headers(date: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(reqwest::header::DATE, HeaderValue::from_str(date).unwrap());
        h
    }

    #[test]
    fn parses_http_dates_and_ignores_garbage() {
        assert_eq!(
            date_header(&headers("Sun, 01 Mar 2026 10:00:00 GMT")),
            Some("2026-03-01T10:00:00Z".parse().unwrap())
        );
        assert_eq!(date_header(&headers("yesterday")), None);
        assert_eq!(date_header(&HeaderMap::new()), None);
    }

    #[test]
    fn keeps_the_latest_date() {
        let clock = ClockRecorder::default();
        assert_eq!(clock.latest(), None);
        clock.observe(&headers("Sun, 01 Mar 2026 10:00:05 GMT"));
        clock.observe(&headers("Sun, 01 Mar 2026 10:00:01 GMT"));
        clock.observe(&headers("not a date"));
        let latest = clock.latest().unwrap();
        assert_eq!(latest.date, "2026-03-01T10:00:05Z".parse().unwrap());
    }

    #[test]
    fn skew_is_api_minus_local() {
        let clock = ApiClock {
            date: "2026-03-01T10:00:00Z".parse().unwrap(),
            received_at: "2026-03-01T10:02:30Z".parse().unwrap(),
        };
        assert_eq!(clock.skew(), SignedDuration::from_secs(-150));
    }
}
