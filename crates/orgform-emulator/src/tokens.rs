//! Access tokens minted by the token exchange (`POST /v1/oauth/token`), and the `jti` values
//! already exchanged. Kept beside the organization's state, never in a snapshot: they are
//! credentials.
//!
//! A minted token is opaque (`sk-ant-oat01-` and random characters) and bound to the service
//! account, the rule, the scope and the workspace of its exchange, with an expiry on the
//! emulator clock. On the Admin API it authenticates while unexpired; only the `org:admin`
//! scope of an `admin` service account reaches Admin API endpoints (another scope is 403 `permission_error`, the reference:
//! "a request to an endpoint outside the token's scope returns HTTP 403"); an expired token is
//! 401 `authentication_error`. Archiving the rule afterwards does not revoke a token already
//! minted (it stays valid until it expires).

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use rand::Rng as _;

/// The prefix of a minted access token.
pub(crate) const ACCESS_TOKEN_PREFIX: &str = "sk-ant-oat01-";

/// What a minted token is bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Minted {
    /// Its number, in minting order (names it in the activity feed).
    pub(crate) serial: u64,
    /// The service account it acts as.
    pub(crate) service_account_id: String,
    /// The rule it was exchanged through.
    pub(crate) rule_id: String,
    /// The rule's OAuth scope when it was minted.
    pub(crate) scope: String,
    /// The workspace it was scoped to.
    pub(crate) workspace_id: String,
    /// When it stops authenticating.
    pub(crate) expires_at: Timestamp,
    /// Whether it reaches the Admin API: the scope holds `org:admin` and the service account
    /// was an `admin` when it was minted (the reference: effective permissions are "the
    /// intersection of the rule's scope and the service account's role").
    pub(crate) admin: bool,
}

/// Every minted token and every `jti` exchanged.
#[derive(Debug, Default)]
pub(crate) struct TokenStore {
    tokens: HashMap<String, Minted>,
    used_jti: HashSet<(String, String)>,
    next: u64,
}

impl TokenStore {
    /// Mints a token bound to `minted` (its `serial` is set here); returns the token.
    pub(crate) fn mint(&mut self, mut minted: Minted) -> String {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut rng = rand::rng();
        let mut token = String::from(ACCESS_TOKEN_PREFIX);
        for _ in 0..86 {
            token.push(char::from(CHARS[rng.random_range(0..CHARS.len())]));
        }
        self.next += 1;
        minted.serial = self.next;
        self.tokens.insert(token.clone(), minted);
        token
    }

    /// The token's binding, if it was minted here.
    pub(crate) fn get(&self, token: &str) -> Option<&Minted> {
        self.tokens.get(token)
    }

    /// Records `jti` as exchanged with `issuer_id`; false when it already was.
    pub(crate) fn use_jti(&mut self, issuer_id: &str, jti: &str) -> bool {
        self.used_jti.insert((issuer_id.to_owned(), jti.to_owned()))
    }

    /// Whether `jti` was already exchanged with `issuer_id`.
    pub(crate) fn jti_used(&self, issuer_id: &str, jti: &str) -> bool {
        self.used_jti
            .contains(&(issuer_id.to_owned(), jti.to_owned()))
    }
}
