//! [`Client::probe`]: one GET whose status, headers and raw JSON body are all returned, for
//! `orgform doctor`, which looks at what the typed calls hide (the `date` and rate-limit
//! headers, the exact shape of an object, the status of a refusal).
//!
//! A probe goes through the same rate limiter, concurrency limit, key header and
//! `anthropic-version` as every other request, and retries what a read retries; a refusal
//! (4xx) is returned as a [`Probe`], not an error, since telling refusals apart is the point.

use reqwest::Method;
use reqwest::header::HeaderMap;

use super::Client;
use crate::{ApiError, retry};

/// What one GET returned.
#[derive(Clone, Debug)]
pub struct Probe {
    /// HTTP status.
    pub status: u16,
    /// Response headers (the server never echoes the key).
    pub headers: HeaderMap,
    /// The body as JSON; `Null` when it was not JSON.
    pub body: serde_json::Value,
}

impl Probe {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The server's clock from the `date` header (RFC 7231 IMF-fixdate).
    pub fn date(&self) -> Option<jiff::Timestamp> {
        parse_http_date(self.header("date")?)
    }
}

/// The class of the credential, from its documented prefix (the key itself never leaves the
/// client).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyClass {
    /// `sk-ant-admin01-...`: a Console Admin API key.
    Admin,
    /// `sk-ant-api...`: a workspace API key, or a Claude Enterprise scoped key.
    Api,
    /// Anything else.
    Other,
}

/// Parses an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn parse_http_date(raw: &str) -> Option<jiff::Timestamp> {
    jiff::fmt::rfc2822::parse(raw.trim())
        .ok()
        .map(|zoned| zoned.timestamp())
}

impl Client {
    /// The class of the configured credential.
    pub fn key_class(&self) -> KeyClass {
        let key = self.inner.key.expose().as_bytes();
        if key.starts_with(b"sk-ant-admin01-") {
            KeyClass::Admin
        } else if key.starts_with(b"sk-ant-api") {
            KeyClass::Api
        } else {
            KeyClass::Other
        }
    }

    /// One GET of `path` (e.g. `/v1/organizations/me`) with `query`, retried like a read;
    /// any status is returned. Fails only when no response arrived.
    pub async fn probe(&self, path: &str, query: &[(&str, String)]) -> Result<Probe, ApiError> {
        let mut url = self.url(&super::Req::get(path.to_owned()))?;
        {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        let max = self.inner.config.max_retries;
        let mut n = 0;
        loop {
            let paced = match &self.inner.pacer {
                Some(pacer) => Some(
                    pacer
                        .acquire(crate::pacing::Budget::General, &self.inner.counters)
                        .await,
                ),
                None => None,
            };
            let sent = {
                let _permit = self
                    .inner
                    .permits
                    .acquire()
                    .await
                    .expect("the semaphore is never closed");
                self.inner.counters.sent();
                let response = self
                    .inner
                    .http
                    .request(Method::GET, url.clone())
                    .header(self.inner.key_name.clone(), self.inner.key_header.clone())
                    .send()
                    .await;
                match response {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        let headers = r.headers().clone();
                        if let Some(paced) = paced {
                            let wait = retry::retry_after(&headers, jiff::Timestamp::now());
                            paced.answered(status, &headers, wait);
                        }
                        r.bytes().await.map(|b| (status, headers, b))
                    }
                    Err(e) => Err(e),
                }
            };
            match sent {
                Ok((status, headers, body)) => {
                    if retry::should_retry(status, &headers) && n < max {
                        let wait = retry::retry_after(&headers, jiff::Timestamp::now());
                        tokio::time::sleep(self.wait_before(n, wait)).await;
                        n += 1;
                        continue;
                    }
                    return Ok(Probe {
                        status,
                        headers,
                        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
                    });
                }
                Err(e) if n < max => {
                    tracing::debug!(error = %e, "probe failed; retrying");
                    tokio::time::sleep(self.wait_before(n, None)).await;
                    n += 1;
                }
                Err(e) => {
                    return Err(ApiError::Transport {
                        method: "GET".to_owned(),
                        path: path.to_owned(),
                        detail: super::error_chain(&e),
                        maybe_sent: !e.is_connect(),
                        timeout: e.is_timeout(),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_parse() {
        let ts = parse_http_date("Mon, 01 Jun 2026 00:00:00 GMT").unwrap();
        assert_eq!(ts.to_string(), "2026-06-01T00:00:00Z");
        assert!(parse_http_date("yesterday").is_none());
    }
}
