//! Workload identity federation: exchanging an outside identity token (a CI job's OIDC JWT)
//! for a short-lived Anthropic access token, as the official SDKs do
//! (`POST /v1/oauth/token`, RFC 7523 `jwt-bearer` grant; the "WIF reference" page).
//!
//! The request carries `grant_type`, `assertion`, `federation_rule_id`, `organization_id`,
//! `service_account_id` and, when given, `workspace_id`, with the SDKs' `anthropic-beta`
//! header. It goes to the same base URL as the Admin API, under the same policy (`https`, or
//! plain `http` to loopback only, never through a proxy, no redirects): the body carries the
//! identity token. The identity token and the access token live in [`SecretString`]s and the
//! redacting [`AdminKey`]; neither is ever part of an error, and a server message that echoes
//! the assertion has it replaced by `[redacted]`.

use std::fmt;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use crate::config::{ClientConfig, check_base_url};
use crate::{AdminKey, ApiError, CredentialKind};

/// The exchange's path.
pub const TOKEN_PATH: &str = "/v1/oauth/token";

/// The grant type of the exchange.
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The `anthropic-beta` value the official SDKs send on a `jwt-bearer` exchange.
pub const EXCHANGE_BETA: &str = "oauth-2025-04-20,oidc-federation-2026-04-01";

/// The largest identity token the exchange accepts (the reference: "at most 16 KiB").
pub const MAX_IDENTITY_TOKEN_BYTES: usize = 16 * 1024;

/// The largest exchange response read.
const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// Longest server message repeated in an error.
const MAX_MESSAGE_CHARS: usize = 300;

/// An identity token (the outside JWT). Never printed: `Debug` shows `[redacted]`.
#[derive(Clone)]
pub struct IdentityToken(SecretString);

impl fmt::Debug for IdentityToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdentityToken([redacted])")
    }
}

impl IdentityToken {
    /// The token read from `origin` (a variable's name, or a variable and the file it
    /// names): surrounding whitespace ignored; empty, oversized or non-ASCII is refused.
    pub fn from_source(raw: &str, origin: &str) -> Result<Self, ExchangeError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(ExchangeError::EmptyIdentityToken {
                origin: origin.to_owned(),
            });
        }
        if trimmed.len() > MAX_IDENTITY_TOKEN_BYTES {
            return Err(ExchangeError::IdentityTokenTooLarge {
                origin: origin.to_owned(),
            });
        }
        let base64url = |part: &str| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'='))
        };
        let parts: Vec<&str> = trimmed.split('.').collect();
        if parts.len() != 3 || !parts.iter().all(|p| base64url(p)) {
            return Err(ExchangeError::NotAJwt {
                origin: origin.to_owned(),
            });
        }
        Ok(Self(SecretString::from(trimmed.to_owned())))
    }
}

/// What an exchange needs: the ids the official SDKs read from `ANTHROPIC_FEDERATION_RULE_ID`,
/// `ANTHROPIC_ORGANIZATION_ID`, `ANTHROPIC_SERVICE_ACCOUNT_ID` and `ANTHROPIC_WORKSPACE_ID`,
/// and the identity token.
#[derive(Clone, Debug)]
pub struct FederationExchange {
    /// `fdrl_...`: the rule to evaluate.
    pub federation_rule_id: String,
    /// The organization's UUID.
    pub organization_id: String,
    /// `svac_...`: the service account the token acts as.
    pub service_account_id: String,
    /// `wrkspc_...` or `default`; needed when the rule is enabled for several workspaces.
    pub workspace_id: Option<String>,
    /// The outside identity token.
    pub identity_token: IdentityToken,
}

/// A successful exchange.
#[derive(Debug)]
pub struct Exchanged {
    /// The access token, as the run's bearer credential.
    pub credential: AdminKey,
    /// Seconds until it expires.
    pub expires_in: u64,
    /// The scope the rule granted.
    pub scope: String,
}

/// Why no access token was obtained. No variant holds a token.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// The identity token source held only whitespace.
    #[error(
        "the identity token from {origin} is empty\n  hint: the step that fetches the CI job's OIDC token must write it before orgform runs"
    )]
    EmptyIdentityToken {
        /// Where it came from.
        origin: String,
    },
    /// Larger than the exchange accepts.
    #[error(
        "the identity token from {origin} is larger than 16 KiB, which the token exchange refuses\n  hint: check that it names the OIDC token, not a key or a certificate"
    )]
    IdentityTokenTooLarge {
        /// Where it came from.
        origin: String,
    },
    /// Not three dot-separated base64url parts.
    #[error(
        "the identity token from {origin} is not a JWT\n  hint: write only the token itself (the `value` field of the CI provider's answer), without quotes or JSON"
    )]
    NotAJwt {
        /// Where it came from.
        origin: String,
    },
    /// The base URL is refused.
    #[error(transparent)]
    Url(Box<ApiError>),
    /// The exchange did not complete.
    #[error(
        "POST {TOKEN_PATH} failed: {detail}\n  hint: check the endpoint (ANTHROPIC_BASE_URL or --endpoint) and the network"
    )]
    Transport {
        /// What happened (never the body).
        detail: String,
    },
    /// The server refused the exchange.
    #[error(
        "the token exchange through federation rule {rule} was refused: http {status} {error_type}: {message} (request id {})\n  hint: {hint}",
        request_id.as_deref().unwrap_or("none")
    )]
    Refused {
        /// The rule asked for.
        rule: String,
        /// HTTP status.
        status: u16,
        /// `error.type` (or the OAuth `error`).
        error_type: String,
        /// The server's message, cleaned and shortened.
        message: String,
        /// `request-id`.
        request_id: Option<String>,
        /// What to check.
        hint: &'static str,
    },
    /// A success whose body is not a token response.
    #[error(
        "the token exchange answered with an unusable response: {detail} (request id {})",
        request_id.as_deref().unwrap_or("none")
    )]
    BadResponse {
        /// What is wrong (never the body).
        detail: String,
        /// `request-id`.
        request_id: Option<String>,
    },
}

/// What to check after a refusal with this status.
fn hint_for(status: u16) -> &'static str {
    match status {
        400 => {
            "check ANTHROPIC_FEDERATION_RULE_ID (fdrl_...), ANTHROPIC_ORGANIZATION_ID (the organization's UUID), ANTHROPIC_SERVICE_ACCOUNT_ID (svac_...) and ANTHROPIC_WORKSPACE_ID (wrkspc_... or default); a denied identity token is also 400 invalid_grant on some deployments: see below"
        }
        401 => {
            "the rule did not accept this identity token: its claims (iss, aud, sub, ...) must match the rule and the issuer, it must be fresh and used once (jti), the rule, its issuer and its service account must not be archived, and a rule enabled for several workspaces needs ANTHROPIC_WORKSPACE_ID; the Console's workload identity authentication history names the failed check"
        }
        _ => "retry later; if it persists, quote the request id to support",
    }
}

/// `text` on one line, without control characters, the assertion replaced, and shortened.
fn clean(text: &str, assertion: &str) -> String {
    let text = if assertion.is_empty() {
        text.to_owned()
    } else {
        text.replace(assertion, "[redacted]")
    };
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_MESSAGE_CHARS)
        .collect();
    if text.chars().count() > MAX_MESSAGE_CHARS {
        out.push_str("...");
    }
    out
}

/// Exchanges the identity token for an access token at `config.base_url`.
pub async fn exchange_federation_token(
    config: &ClientConfig,
    x: &FederationExchange,
) -> Result<Exchanged, ExchangeError> {
    let base = check_base_url(&config.base_url).map_err(|e| ExchangeError::Url(Box::new(e)))?;
    let mut builder = reqwest::Client::builder();
    if base.scheme() == "http" {
        builder = builder.no_proxy();
    }
    let http = builder
        .redirect(reqwest::redirect::Policy::none())
        .timeout(config.timeout)
        .connect_timeout(config.timeout.min(Duration::from_secs(10)))
        .user_agent(config.user_agent.clone())
        .use_rustls_tls()
        .build()
        .map_err(|e| ExchangeError::Transport {
            detail: format!("cannot build the http client: {e}"),
        })?;
    let assertion = x.identity_token.0.expose_secret();
    let mut body = json!({
        "grant_type": JWT_BEARER_GRANT,
        "assertion": assertion,
        "federation_rule_id": x.federation_rule_id,
        "organization_id": x.organization_id,
        "service_account_id": x.service_account_id,
    });
    if let Some(w) = &x.workspace_id {
        body["workspace_id"] = w.clone().into();
    }
    let url = format!("{}{TOKEN_PATH}", base.as_str().trim_end_matches('/'));
    let resp = http
        .post(&url)
        .header("anthropic-beta", HeaderValue::from_static(EXCHANGE_BETA))
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| ExchangeError::Transport {
            // reqwest's error names the URL, never the body.
            detail: e.without_url().to_string(),
        })?;
    let status = resp.status().as_u16();
    let request_id = resp
        .headers()
        .get("request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = resp.bytes().await.map_err(|e| ExchangeError::Transport {
        detail: e.without_url().to_string(),
    })?;
    if bytes.len() > MAX_RESPONSE_BYTES {
        return Err(ExchangeError::BadResponse {
            detail: format!("the body is larger than {MAX_RESPONSE_BYTES} bytes"),
            request_id,
        });
    }
    let parsed: Option<Value> = serde_json::from_slice(&bytes).ok();
    if status != 200 {
        let (error_type, message) = match &parsed {
            // The API error shape, or the OAuth one (RFC 6749 section 5.2).
            Some(v) if v["error"].is_object() => (
                v["error"]["type"].as_str().unwrap_or("unknown").to_owned(),
                v["error"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            ),
            Some(v) if v["error"].is_string() => (
                v["error"].as_str().unwrap_or("unknown").to_owned(),
                v["error_description"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            ),
            _ => (
                "unknown".to_owned(),
                "the body is not an error object".to_owned(),
            ),
        };
        return Err(ExchangeError::Refused {
            rule: clean(&x.federation_rule_id, assertion),
            status,
            error_type: clean(&error_type, assertion),
            message: clean(&message, assertion),
            request_id,
            hint: hint_for(status),
        });
    }
    let bad = |detail: &str| ExchangeError::BadResponse {
        detail: detail.to_owned(),
        request_id: request_id.clone(),
    };
    let v = parsed.ok_or_else(|| bad("the body is not JSON"))?;
    if let Some(t) = v.get("token_type").and_then(Value::as_str)
        && !t.eq_ignore_ascii_case("bearer")
    {
        return Err(bad("token_type is not Bearer"));
    }
    let token = v["access_token"]
        .as_str()
        .ok_or_else(|| bad("no access_token"))?;
    let expires_in = v["expires_in"]
        .as_u64()
        .ok_or_else(|| bad("no expires_in"))?;
    let credential =
        AdminKey::from_source(token, "the token exchange", CredentialKind::BearerToken)
            .map_err(|_| bad("the access_token cannot be sent in a header"))?;
    Ok(Exchanged {
        credential,
        expires_in,
        scope: v["scope"].as_str().unwrap_or_default().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_identity_token_is_checked_and_never_printed() {
        let jwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
        let t = IdentityToken::from_source(&format!("  {jwt}\n"), "X").unwrap();
        assert!(!format!("{t:?}").contains("eyJ"));
        for (raw, fragment) in [
            (" \n", "is empty"),
            ("\"eyJ.a.b\"", "not a JWT"),
            ("{\"value\": \"x\"}", "not a JWT"),
        ] {
            let e = IdentityToken::from_source(raw, "ANTHROPIC_IDENTITY_TOKEN").unwrap_err();
            assert!(e.to_string().contains(fragment), "{e}");
            assert!(e.to_string().contains("ANTHROPIC_IDENTITY_TOKEN"), "{e}");
        }
        let big = format!("a.{}.b", "x".repeat(MAX_IDENTITY_TOKEN_BYTES));
        assert!(
            IdentityToken::from_source(&big, "F")
                .unwrap_err()
                .to_string()
                .contains("16 KiB")
        );
    }

    #[test]
    fn a_server_message_never_repeats_the_assertion() {
        let m = clean("bad assertion eyJ.a.b\nsecond line", "eyJ.a.b");
        assert_eq!(m, "bad assertion [redacted] second line");
        assert!(clean(&"x".repeat(400), "a").ends_with("..."));
    }
}
