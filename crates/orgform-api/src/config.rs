//! Client settings and the base-URL policy.
//!
//! The URL policy is decided from the URL text alone, before any name lookup or connection:
//! `https://` anywhere, plain `http://` only to a literal loopback address (127.0.0.0/8,
//! `::1`) or exactly the name `localhost`. Names such as `foo.localhost` or the
//! fully-qualified `localhost.` are refused even though RFC 6761 reserves them, because
//! whether they resolve to loopback depends on the resolver. Plain-http clients also ignore
//! proxy settings from the environment (see `Client::new`).
//! Credentials, queries and fragments in the base URL are refused: the key travels only in
//! its header.

use std::time::Duration;

use url::{Host, Url};

use crate::ApiError;

/// The official SDKs' default number of retries.
pub const DEFAULT_MAX_RETRIES: u32 = 2;

/// Client-side request budgets, each paced as a rolling window (`pacing` module): the Admin
/// API allows 100 requests per minute per organization, shared by every admin endpoint, and
/// 1,200 invite creations per hour, which do not draw from the 100.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests in any 60 s, invite creation excepted.
    pub per_minute: u32,
    /// Invite creations in any hour.
    pub invites_per_hour: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            per_minute: 100,
            invites_per_hour: 1200,
        }
    }
}

/// Exponential backoff between retries: `min(initial * 2^n, max)` for the n-th retry,
/// times a jitter factor in (0.75, 1].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The delay before the first retry (0.5 s in the official SDKs).
    pub initial: Duration,
    /// The cap (8 s in the official SDKs).
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(8),
        }
    }
}

/// How to reach the Admin API and how hard to try.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// `https://api.anthropic.com`, or a loopback `http://` URL (the emulator).
    pub base_url: String,
    /// Per-request timeout, connection to last body byte.
    pub timeout: Duration,
    /// Retries after a retryable failure; 0 disables retrying.
    pub max_retries: u32,
    /// Delays between retries when the server does not say how long to wait.
    pub backoff: Backoff,
    /// Client-side rate limit; `None` disables it (tests, the emulator).
    pub rate_limit: Option<RateLimit>,
    /// Requests in flight at once, across every collection and workspace.
    pub concurrency: usize,
    /// The `user-agent` header.
    pub user_agent: String,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            base_url: "https://api.anthropic.com".to_owned(),
            timeout: Duration::from_secs(60),
            max_retries: DEFAULT_MAX_RETRIES,
            backoff: Backoff::default(),
            rate_limit: Some(RateLimit::default()),
            concurrency: 8,
            user_agent: concat!("orgform/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

/// Checks `base_url` against the policy and returns it parsed, without a trailing slash in
/// its path.
pub fn check_base_url(base_url: &str) -> Result<Url, ApiError> {
    let refuse = |reason: &str| ApiError::UrlPolicy {
        url: base_url.to_owned(),
        reason: reason.to_owned(),
    };
    let mut url = Url::parse(base_url).map_err(|e| refuse(&format!("not a valid url ({e})")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("credentials in the url are not accepted"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(refuse("a base url cannot carry a query or fragment"));
    }
    match url.scheme() {
        "https" => {}
        "http" => {
            let loopback = match url.host() {
                Some(Host::Ipv4(ip)) => ip.is_loopback(),
                Some(Host::Ipv6(ip)) => ip.is_loopback(),
                // Only the exact name: `localhost.` and `*.localhost` go through the
                // resolver, which may send them anywhere.
                Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
                None => false,
            };
            if !loopback {
                return Err(refuse(
                    "plain http is only allowed to loopback addresses (127.0.0.0/8, ::1, localhost); use https",
                ));
            }
        }
        other => return Err(refuse(&format!("unsupported scheme `{other}`"))),
    }
    if url.host().is_none() {
        return Err(refuse("no host"));
    }
    let trimmed = url.path().trim_end_matches('/').to_owned();
    url.set_path(&trimmed);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere() {
        assert!(check_base_url("https://api.anthropic.com").is_ok());
        assert!(check_base_url("https://proxy.example.invalid/anthropic/").is_ok());
    }

    #[test]
    fn plain_http_only_to_loopback() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.5.6.7",
            "http://[::1]:9000/",
            "http://localhost:1234",
            "http://LOCALHOST",
        ] {
            assert!(check_base_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.invalid",
            "http://10.0.0.1",
            "http://[::2]",
            "http://localhost.example.invalid",
            "http://foo.localhost",
            "http://localhost.",
            "http://localhost.:8080",
            "http://LOCALHOST./",
            "http://localhost..",
            "http://localhost%2e",
            "http://localhost4",
            "http://ip6-localhost",
            "http://0.0.0.0:8080",
        ] {
            let err = check_base_url(bad).unwrap_err();
            assert!(matches!(err, ApiError::UrlPolicy { .. }), "{bad}");
            assert!(err.to_string().contains("loopback"), "{err}");
        }
    }

    #[test]
    fn odd_urls_refused() {
        for bad in [
            "ftp://127.0.0.1",
            "not a url",
            "https://user:pw@api.example.invalid",
            "https://api.example.invalid/?x=1",
            "https://api.example.invalid/#f",
        ] {
            assert!(check_base_url(bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn plain_http_to_an_ipv4_is_allowed_iff_loopback(ip: [u8; 4], port in 1u16..) {
            let addr = std::net::Ipv4Addr::from(ip);
            let result = check_base_url(&format!("http://{addr}:{port}"));
            proptest::prop_assert_eq!(result.is_ok(), addr.is_loopback());
            let https = check_base_url(&format!("https://{addr}:{port}"));
            proptest::prop_assert!(https.is_ok());
        }
    }

    #[test]
    fn trailing_slash_trimmed() {
        let url = check_base_url("http://127.0.0.1:1/prefix/").unwrap();
        assert_eq!(url.path(), "/prefix");
    }
}
