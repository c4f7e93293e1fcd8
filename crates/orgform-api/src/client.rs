//! The HTTP core: one request attempt, the retry loops for reads and writes, and cursor
//! pagination.
//!
//! Every attempt first waits for its budget (the `pacing` module, when enabled), then for a
//! slot of the global concurrency limit; the slot is released before any backoff sleep, so
//! a request waiting to retry never blocks the others.
//!
//! Writes are never blindly resent. Every attempt that failed in a way that invites a retry
//! (408, 409, 429, 529 and every other 5xx, a timeout or a broken connection after the
//! request may have been sent) is followed by a read that tells whether the write took
//! effect; only if it did not is the write sent again, within the same retry budget. Only a
//! failure to connect at all (nothing was sent) is retried without reading back. When an attempt after an unknown outcome
//! is refused with a 4xx (the "already exists" or "not found" answers a repeated write gets),
//! the read decides too. A server could still apply a request after the read-back has
//! looked; that window cannot be closed without idempotency keys, which the Admin API does
//! not offer. A success whose body cannot be decoded is never resent either: the object is
//! taken from the read-back, or the decode error is returned.

use std::fmt;
use std::fmt::Write as _;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderValue};
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use tracing::Instrument as _;
use url::Url;

use crate::config::{ClientConfig, check_base_url};
use crate::integrity::ListCheck;
use crate::pacing::{Budget, Pacer};
use crate::retry;
use crate::wire::{ErrorEnvelope, RawPage};
use crate::{AdminKey, ApiError};

mod probe;
pub use probe::{KeyClass, Probe, parse_http_date};

/// The only current API version.
pub const API_VERSION: &str = "2023-06-01";

/// The `anthropic-beta` value sent with a bearer token (the official SDKs' OAuth beta).
pub const OAUTH_BETA: &str = "oauth-2025-04-20";

/// Page size used for every list: the maximum the API allows.
pub const PAGE_SIZE: u32 = 1000;

/// The result of a write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written<T> {
    /// The object as the server returned it (or as read back).
    pub value: T,
    /// The request id of the successful write, when the write's own response arrived.
    pub request_id: Option<String>,
    /// True when the write's response was lost and its effect was confirmed by reading the
    /// organization back.
    pub confirmed_by_read: bool,
}

/// An Admin API client. Cheap to clone; clones share the rate limiter and the concurrency
/// limit.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: String,
    key_name: reqwest::header::HeaderName,
    key_header: HeaderValue,
    key: AdminKey,
    config: ClientConfig,
    pacer: Option<Pacer>,
    permits: Semaphore,
    counters: crate::progress::Counters,
    clock: crate::clock::ClockRecorder,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base)
            .field("admin_key", &"[redacted]")
            .field("max_retries", &self.inner.config.max_retries)
            .field("rate_limit", &self.inner.config.rate_limit)
            .field("concurrency", &self.inner.config.concurrency)
            .finish_non_exhaustive()
    }
}

/// One HTTP request, before it is sent.
#[derive(Clone, Debug)]
pub(crate) struct Req {
    pub method: Method,
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<Vec<u8>>,
}

impl Req {
    pub(crate) fn get(path: String) -> Self {
        Self {
            method: Method::GET,
            path,
            query: Vec::new(),
            body: None,
        }
    }

    pub(crate) fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    pub(crate) fn post(path: String, body: &impl serde::Serialize) -> Self {
        Self {
            method: Method::POST,
            path,
            query: Vec::new(),
            body: Some(serde_json::to_vec(body).expect("request bodies always serialise")),
        }
    }

    pub(crate) fn post_empty(path: String) -> Self {
        Self {
            method: Method::POST,
            path,
            query: Vec::new(),
            body: None,
        }
    }

    pub(crate) fn delete(path: String) -> Self {
        Self {
            method: Method::DELETE,
            path,
            query: Vec::new(),
            body: None,
        }
    }
}

/// A successful response.
pub(crate) struct Resp {
    pub request_id: Option<String>,
    pub body: Vec<u8>,
}

/// A failed attempt and what it means for the next one.
struct Failure {
    error: ApiError,
    retry: bool,
    wait: Option<Duration>,
    /// The request may have been applied: every retryable answer, and a transport failure
    /// after the request may have left.
    unknown_outcome: bool,
}

/// Percent-encodes one path segment; refuses ids that would change the path's shape.
pub(crate) fn segment(id: &str) -> Result<String, ApiError> {
    if id.is_empty() || id == "." || id == ".." || id.eq_ignore_ascii_case("%2e") {
        return Err(ApiError::InvalidArgument(format!("invalid id {id:?}")));
    }
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    Ok(out)
}

impl Client {
    /// Builds a client. Fails on a base URL the policy refuses (decided from the URL alone,
    /// before any connection) or on unusable settings.
    pub fn new(config: ClientConfig, key: AdminKey) -> Result<Self, ApiError> {
        let base = check_base_url(&config.base_url)?;
        if config.concurrency == 0 {
            return Err(ApiError::Config("concurrency must be at least 1".into()));
        }
        let (key_name, key_header) = key
            .header()
            .map_err(|_| ApiError::Config("the admin key cannot be sent in a header".into()))?;
        let mut headers = HeaderMap::new();
        headers.insert("anthropic-version", HeaderValue::from_static(API_VERSION));
        if key.kind() == crate::CredentialKind::BearerToken {
            // The official SDKs send it on every request made with an OAuth or federated
            // bearer token: it "unlocks `Authorization: Bearer` auth at all".
            headers.insert("anthropic-beta", HeaderValue::from_static(OAUTH_BETA));
        }
        let mut builder = reqwest::Client::builder();
        if base.scheme() == "http" {
            // Plain http goes only to loopback, and never through a proxy: HTTP_PROXY or
            // ALL_PROXY would otherwise receive the key in clear text. https may still use
            // a proxy from the environment, which only sees a CONNECT tunnel.
            builder = builder.no_proxy();
        }
        let http = builder
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .user_agent(config.user_agent.clone())
            .default_headers(headers)
            .use_rustls_tls()
            .build()
            .map_err(|e| ApiError::Config(format!("cannot build the http client: {e}")))?;
        let pacer = match config.rate_limit {
            None => None,
            Some(limit) if limit.per_minute == 0 || limit.invites_per_hour == 0 => {
                return Err(ApiError::Config(
                    "rate limits must allow at least 1 request per window".into(),
                ));
            }
            Some(limit) => Some(Pacer::new(limit)),
        };
        let base = base.as_str().trim_end_matches('/').to_owned();
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base,
                key_name,
                key_header,
                key,
                permits: Semaphore::new(config.concurrency),
                config,
                pacer,
                counters: crate::progress::Counters::default(),
                clock: crate::clock::ClockRecorder::default(),
            }),
        })
    }

    /// How this client's credential is sent (an admin key or an OAuth bearer token).
    pub fn credential_kind(&self) -> crate::CredentialKind {
        self.inner.key.kind()
    }

    /// The settings this client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Requests sent so far, whether one is waiting on the rate limit now, and the
    /// collections of the latest read: what a progress line says.
    pub fn progress(&self) -> crate::Progress {
        self.inner.counters.progress()
    }

    pub(crate) fn counters(&self) -> &crate::progress::Counters {
        &self.inner.counters
    }

    /// Sleeps `wait` before a retry; after a 429 that counts as waiting on the rate limit.
    async fn sleep_before_retry(&self, wait: Duration, failure: &Failure) {
        let _waiting = matches!(failure.error, ApiError::Api { status: 429, .. })
            .then(|| self.inner.counters.waiting());
        tokio::time::sleep(wait).await;
    }

    /// The API's clock as the latest response with a `Date` header told it.
    pub fn api_clock(&self) -> Option<crate::ApiClock> {
        self.inner.clock.latest()
    }

    fn url(&self, req: &Req) -> Result<Url, ApiError> {
        let mut url = Url::parse(&format!("{}{}", self.inner.base, req.path))
            .map_err(|e| ApiError::InvalidArgument(format!("bad request path: {e}")))?;
        // The official SDKs mark every admin call as beta; the server ignores it. The
        // Compliance API is not an admin route and gets only its own parameters.
        let beta = req.path.starts_with("/v1/organizations");
        if beta || !req.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            if beta {
                pairs.append_pair("beta", "true");
            }
            for (k, v) in &req.query {
                pairs.append_pair(k, v);
            }
        }
        Ok(url)
    }

    async fn attempt(&self, req: &Req, attempt: u32) -> Result<Resp, Failure> {
        let url = self.url(req).map_err(|error| Failure {
            error,
            retry: false,
            wait: None,
            unknown_outcome: false,
        })?;
        let paced = match &self.inner.pacer {
            Some(pacer) => Some(
                pacer
                    .acquire(Budget::of(&req.method, &req.path), &self.inner.counters)
                    .await,
            ),
            None => None,
        };
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let span = tracing::debug_span!(
            "admin_api_request",
            method = %req.method,
            path = %req.path,
            attempt,
            status = tracing::field::Empty,
            request_id = tracing::field::Empty,
        );
        async {
            let mut builder = self
                .inner
                .http
                .request(req.method.clone(), url)
                .header(self.inner.key_name.clone(), self.inner.key_header.clone());
            if let Some(body) = &req.body {
                builder = builder
                    .header("content-type", "application/json")
                    .body(body.clone());
            }
            let transport = |e: &reqwest::Error, maybe_sent: bool| Failure {
                error: ApiError::Transport {
                    method: req.method.to_string(),
                    path: req.path.clone(),
                    detail: error_chain(e),
                    maybe_sent,
                    timeout: e.is_timeout(),
                },
                retry: true,
                wait: None,
                unknown_outcome: maybe_sent,
            };
            self.inner.counters.sent();
            let response = builder.send().await.map_err(|e| {
                let f = transport(&e, !e.is_connect());
                tracing::debug!(error = %f.error, "request failed");
                f
            })?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            self.inner.clock.observe(&headers);
            let server_wait = retry::retry_after(&headers, jiff::Timestamp::now());
            if let Some(paced) = paced {
                paced.answered(status, &headers, server_wait);
            }
            let key = self.inner.key.expose().as_bytes();
            let request_id = headers
                .get("request-id")
                .map(|v| String::from_utf8_lossy(&scrub(v.as_bytes(), key)).into_owned());
            let current = tracing::Span::current();
            current.record("status", status);
            if let Some(id) = &request_id {
                current.record("request_id", id.as_str());
            }
            let body = response.bytes().await.map_err(|e| {
                let f = transport(&e, true);
                tracing::debug!(error = %f.error, "response body failed");
                f
            })?;
            // A server or proxy that echoes the key ("invalid x-api-key: sk-ant-...") must not
            // carry it into an error message, a log line or a snapshot.
            let body = scrub(&body, key);
            // One line per request from -v on (the debug span adds the rest at -vv).
            tracing::info!(
                method = %req.method,
                path = %req.path,
                status,
                attempt,
                request_id = request_id.as_deref(),
                "response"
            );
            if (200..300).contains(&status) {
                return Ok(Resp { request_id, body });
            }
            let envelope = serde_json::from_slice::<ErrorEnvelope>(&body).ok();
            let (error_type, message, body_request_id) = match envelope {
                Some(env) => (
                    env.error.kind.unwrap_or_else(|| "unknown".into()),
                    env.error.message.unwrap_or_default(),
                    env.request_id,
                ),
                None => (
                    "unknown".into(),
                    format!(
                        "response body was not an api error object ({} bytes)",
                        body.len()
                    ),
                    None,
                ),
            };
            Err(Failure {
                error: ApiError::Api {
                    method: req.method.to_string(),
                    path: req.path.clone(),
                    status,
                    error_type,
                    message,
                    request_id: request_id.or(body_request_id),
                },
                retry: retry::should_retry(status, &headers),
                wait: server_wait,
                // Any answer that invites a retry may come after the write was applied: a
                // proxy's 408 or 5xx after forwarding, a 429, 529 or 409 from a server that
                // performed the create and then refused. Nothing is resent unread.
                unknown_outcome: retry::status_is_retryable(status),
            })
        }
        .instrument(span)
        .await
    }

    fn wait_before(&self, n: u32, server: Option<Duration>) -> Duration {
        retry::delay(&self.inner.config.backoff, n, server)
    }

    /// Sends a request that changes nothing, retrying whatever is retryable.
    pub(crate) async fn read(&self, req: &Req) -> Result<Resp, ApiError> {
        let max = self.inner.config.max_retries;
        let mut n = 0;
        loop {
            match self.attempt(req, n).await {
                Ok(resp) => return Ok(resp),
                Err(f) if f.retry && n < max => {
                    let wait = self.wait_before(n, f.wait);
                    tracing::info!(error = %f.error, wait_ms = millis(wait), "retrying read");
                    self.sleep_before_retry(wait, &f).await;
                    n += 1;
                }
                Err(f) => return Err(f.error),
            }
        }
    }

    /// Sends a read and decodes its body.
    pub(crate) async fn read_json<T: DeserializeOwned>(&self, req: &Req) -> Result<T, ApiError> {
        let resp = self.read(req).await?;
        decode(req, &resp)
    }

    /// A GET that maps 404 to `None`.
    pub(crate) async fn read_optional<T: DeserializeOwned>(
        &self,
        req: &Req,
    ) -> Result<Option<T>, ApiError> {
        match self.read_json(req).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every item of an `after_id`-paginated list, each page checked by `check` before the
    /// next is asked for (see the `integrity` module).
    pub(crate) async fn list_all<T: DeserializeOwned>(
        &self,
        base: Req,
        mut check: ListCheck,
    ) -> Result<Vec<T>, ApiError> {
        let mut after: Option<String> = None;
        loop {
            let mut req = base.clone().query("limit", PAGE_SIZE.to_string());
            if let Some(cursor) = after.take() {
                req = req.query("after_id", cursor);
            }
            let page: RawPage = self.read_json(&req).await?;
            match check.page(page)? {
                Some(next) => after = Some(next),
                None => return check.finish(&base.path),
            }
        }
    }

    /// Sends a write. When an attempt's outcome is unknown, `verify` reads the organization
    /// back: `Some(value)` means the write took effect.
    pub(crate) async fn write<T, F, Fut>(
        &self,
        operation: &str,
        req: &Req,
        decode_ok: impl Fn(&Resp) -> Result<T, ApiError>,
        verify: F,
    ) -> Result<Written<T>, ApiError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Option<T>, ApiError>>,
    {
        let max = self.inner.config.max_retries;
        let mut unknown_before = false;
        let mut n = 0;
        let confirmed = |value| Written {
            value,
            request_id: None,
            confirmed_by_read: true,
        };
        loop {
            let failure = match self.attempt(req, n).await {
                Ok(resp) => match decode_ok(&resp) {
                    Ok(value) => {
                        return Ok(Written {
                            value,
                            request_id: resp.request_id,
                            confirmed_by_read: false,
                        });
                    }
                    // The write succeeded but its answer is unreadable: the object comes
                    // from reading back, and the write is never repeated.
                    Err(decode_error) => {
                        tracing::debug!(error = %decode_error, operation, "reading back an unreadable success");
                        return match verify().await {
                            Ok(Some(value)) => Ok(Written {
                                value,
                                request_id: resp.request_id,
                                confirmed_by_read: true,
                            }),
                            Ok(None) | Err(_) => Err(decode_error),
                        };
                    }
                },
                Err(f) => f,
            };
            let refused = matches!(failure.error, ApiError::Api { status, .. } if (400..500).contains(&status));
            if failure.unknown_outcome || (unknown_before && refused) {
                unknown_before |= failure.unknown_outcome;
                tracing::debug!(error = %failure.error, operation, "outcome unknown: reading back");
                let found = verify().await.map_err(|source| ApiError::OutcomeUnknown {
                    operation: operation.to_owned(),
                    source: Box::new(source),
                })?;
                if let Some(value) = found {
                    tracing::debug!(operation, "write confirmed by read-back");
                    return Ok(confirmed(value));
                }
            }
            if failure.retry && n < max {
                let wait = self.wait_before(n, failure.wait);
                tracing::info!(
                    error = %failure.error,
                    wait_ms = millis(wait),
                    operation,
                    "retrying write"
                );
                self.sleep_before_retry(wait, &failure).await;
                n += 1;
            } else {
                return Err(failure.error);
            }
        }
    }
}

/// `bytes` with every occurrence of `secret` replaced by `[redacted]`. Secrets shorter than
/// 8 bytes are left alone: no admin key is that short, and replacing a few common bytes would
/// only garble the body.
pub(crate) fn scrub(bytes: &[u8], secret: &[u8]) -> Vec<u8> {
    if secret.len() < 8 {
        return bytes.to_vec();
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some(at) = rest.windows(secret.len()).position(|w| w == secret) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(b"[redacted]");
        rest = &rest[at + secret.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// Decodes a success body.
pub(crate) fn decode<T: DeserializeOwned>(req: &Req, resp: &Resp) -> Result<T, ApiError> {
    serde_json::from_slice(&resp.body).map_err(|e| ApiError::Decode {
        method: req.method.to_string(),
        path: req.path.clone(),
        detail: e.to_string(),
        request_id: resp.request_id.clone(),
    })
}

/// A wait in whole milliseconds, for a log field (structured, not a Debug string).
fn millis(wait: Duration) -> u64 {
    u64::try_from(wait.as_millis()).unwrap_or(u64::MAX)
}

/// The HTTP library's error and its causes on one line, without the request URL (the error
/// names the method and path already; the URL adds the query, e.g. `?beta=true`) and without
/// repeating a cause that a previous one already quotes.
fn error_chain(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(&format!(" for url ({url})"), "");
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let cause = s.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded() {
        assert_eq!(segment("user_01Abc").unwrap(), "user_01Abc");
        assert_eq!(segment("a/b?c").unwrap(), "a%2Fb%3Fc");
        assert_eq!(segment("a.b").unwrap(), "a%2Eb");
        for bad in ["", ".", "..", "%2e"] {
            assert!(segment(bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_id_stays_one_segment(id in "\\PC{1,40}") {
            if let Ok(seg) = segment(&id) {
                let url = Url::parse(&format!("https://h.invalid/v1/users/{seg}")).unwrap();
                let segments: Vec<&str> = url.path_segments().unwrap().collect();
                proptest::prop_assert_eq!(segments.len(), 3);
                proptest::prop_assert!(url.query().is_none() && url.fragment().is_none());
            }
        }
    }

    #[test]
    fn new_refuses_plain_http_before_connecting() {
        let err = Client::new(
            ClientConfig {
                base_url: "http://example.invalid".into(),
                ..ClientConfig::default()
            },
            AdminKey::new("sk-test").unwrap(),
        )
        .unwrap_err();
        assert!(matches!(err, ApiError::UrlPolicy { .. }));
    }

    #[test]
    fn scrub_replaces_every_copy_of_the_secret() {
        let key = b"sk-ant-admin01-CANARY";
        assert_eq!(
            scrub(
                b"{\"m\": \"bad sk-ant-admin01-CANARY and sk-ant-admin01-CANARY!\"}",
                key
            ),
            b"{\"m\": \"bad [redacted] and [redacted]!\"}".to_vec()
        );
        assert_eq!(
            scrub(b"sk-ant-admin01-CANAR", key),
            b"sk-ant-admin01-CANAR".to_vec()
        );
        assert_eq!(
            scrub(b"aaaa", b"a"),
            b"aaaa".to_vec(),
            "too short to be a key"
        );
    }

    #[test]
    fn debug_hides_the_key() {
        let client = Client::new(
            ClientConfig {
                base_url: "http://127.0.0.1:9".into(),
                ..ClientConfig::default()
            },
            AdminKey::new("sk-ant-admin01-CANARY").unwrap(),
        )
        .unwrap();
        let text = format!("{client:?}");
        assert!(!text.contains("CANARY"), "{text}");
        assert!(text.contains("127.0.0.1"));
    }

    #[test]
    fn url_carries_beta_and_bracketed_arrays() {
        let client = Client::new(
            ClientConfig {
                base_url: "http://127.0.0.1:9/".into(),
                ..ClientConfig::default()
            },
            AdminKey::new("sk-test").unwrap(),
        )
        .unwrap();
        let req = Req::get("/v1/organizations/invites".into())
            .query("statuses[]", "pending")
            .query("email", "a+b@x.example");
        let url = client.url(&req).unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/v1/organizations/invites?beta=true&statuses%5B%5D=pending&email=a%2Bb%40x.example"
        );
    }
}
