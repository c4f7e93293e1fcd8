//! Admin API client: typed calls, complete snapshot reads, safe retries and rate limiting.
//!
//! - [`AdminKey`] holds the key and never prints it.
//! - [`ClientConfig`] and [`Client::new`] enforce the base-URL policy (plain `http://` only to
//!   loopback, decided from the URL alone, and never through a proxy), disable redirects and
//!   use rustls.
//! - Typed calls cover every endpoint orgform needs; [`Client::fetch_snapshot`] reads the
//!   whole organization or fails: there is no partial snapshot, and a read that is cut short,
//!   paginates without end, contradicts itself or changes while it is taken fails with
//!   [`ApiError::InconsistentRead`] (`integrity` module; caps in [`ListCap`]).
//! - [`decode_body`] runs every response decoder on given bytes (fuzzing, property tests).
//! - Retries follow the official SDKs (`retry` module); a write that got any retryable answer
//!   is checked by reading back before any resend (`client` module).
//!
//! Every request sends `anthropic-version: 2023-06-01` and, like the official SDKs,
//! `?beta=true`, and with a bearer token `anthropic-beta: oauth-2025-04-20` (the SDKs' OAuth
//! beta). The key goes only in the `x-api-key` header, marked sensitive.

mod bodies;
mod client;
mod clock;
mod config;
mod endpoints;
mod error;
mod federation;
mod identities;
mod integrity;
mod key;
pub mod pacing;
mod progress;
mod reports;
pub mod retry;
mod service_accounts;
mod snapshot;
pub use snapshot::PROGRESS_TARGET;
mod token_exchange;
mod wire;

pub use bodies::{Body, decode_body};
pub use client::{
    API_VERSION, Client, KeyClass, OAUTH_BETA, PAGE_SIZE, Probe, Written, parse_http_date,
};
pub use clock::ApiClock;
pub use config::{Backoff, ClientConfig, DEFAULT_MAX_RETRIES, RateLimit, check_base_url};
pub use endpoints::{ApiKeyFilter, InviteFilter, UserFilter};
pub use error::ApiError;
pub use federation::{IssuerFields, JwksBody, RuleFields};
pub use integrity::{ListCap, READ_ATTEMPTS, ReadProblem};
pub use key::{AdminKey, CredentialKind, KeyError};
pub use progress::Progress;
pub use reports::{Activity, ActivityFeed, MAX_ACTIVITIES, days_before};
pub use service_accounts::UpdateServiceAccount;
pub use snapshot::ReadScope;
pub use token_exchange::{
    EXCHANGE_BETA, ExchangeError, Exchanged, FederationExchange, IdentityToken, JWT_BEARER_GRANT,
    MAX_IDENTITY_TOKEN_BYTES, TOKEN_PATH, exchange_federation_token,
};
pub use wire::{
    CreateWorkspace, DataResidencyCreate, DataResidencyUpdate, UpdateApiKey, UpdateWorkspace,
};
