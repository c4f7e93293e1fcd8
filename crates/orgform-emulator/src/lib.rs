//! A faithful in-memory Anthropic Admin API emulator: the tool's tests, demo and benchmarks
//! talk to it instead of a live organization.
//!
//! It serves `/v1/organizations/{me, users, invites, workspaces, workspaces/{id}/members,
//! api_keys}`, the read-only `rate_limits`, `workspaces/{id}/rate_limits` and
//! `usage_report/messages`, the Compliance API's `/v1/compliance/activities` (see the
//! `reports` module), and the workload identity federation token exchange `/v1/oauth/token`
//! (see the `api::oauth_token` module, the `jwt` and `tokens` modules and [`test_signer`])
//! over plain HTTP on loopback, with the Admin API's authentication, headers,
//! error envelope, validation, pagination and business rules as documented in
//! `docs/reference/admin-api.md`. Where that document marks behaviour **uncertain**, the
//! emulator picks one reading by default and, for each point a client could trip over, a
//! [`Readings`] switch reads it the other way (set it with [`EmulatorConfig::readings`],
//! [`EmulatorConfig::with_readings`], a named profile from [`Readings::profiles`], or
//! `orgform emulator --readings PROFILE --reading NAME=VALUE`).
//!
//! | Uncertain point | Switch (`--reading NAME=...`) | Default, then the other value(s) |
//! |---|---|---|
//! | Implicit members (org admins/owners: `workspace_admin`; billing: `workspace_billing`) in member lists | `implicit-members` | `hidden`; `listed` |
//! | Single `GET` of an implicit member with no explicit membership | `implicit-member-get` | `not-found` (404); `found` (200) |
//! | `GET` of a deleted invite | `deleted-invite-get` | `not-found` (404); `deleted-status` |
//! | `DELETE` of a deleted invite | `deleted-invite-delete` | `not-found` (404); `bad-request` (400) |
//! | A method a known path does not serve (`POST /api_keys`, `DELETE /api_keys/{id}`) | `wrong-method` | `not-found` (404); `method-not-allowed` (405) |
//! | List order: users, invites | `users-order`, `invites-order` | `newest-first` (documented); `oldest-first` |
//! | List order: workspaces, members (by user id), API keys | `workspaces-order`, `members-order`, `api-keys-order` | `oldest-first`; `newest-first` |
//! | Workspace key on admin routes | `workspace-key` | `unauthorized` (401 `invalid x-api-key`); `forbidden` (403) |
//! | API key shape | `key-shape` | `current` (`scope` with the real workspace id, `principal: null`); `earlier` (no `scope`, `principal` = creator) |
//! | `anthropic-ratelimit-requests-*` headers | `rate-limit-headers` | `absent`; `present` |
//! | How "100/min" and "1,200 invites/hour" are counted | `rate-limit-model` | `rolling-window`; `token-bucket` |
//! | Setting an expired key to `inactive` | `expired-key-inactive` | `refused` (400); `accepted` (still reads `expired`) |
//! | Workspace name uniqueness | `workspace-names` | `free`; `unique` (400) |
//! | Whether the activity feed answers, and how it refuses | `activity-feed` | `served`; `forbidden` (403); `not-found` (404) |
//! | Whether the usage report answers every credential | `usage-report` | `served`; `forbidden` (403) |
//! | How a denied token exchange (`POST /v1/oauth/token`) is refused | `exchange-denial` | `unauthorized` (401); `invalid-grant` (400) |
//! | The workspace of an exchange without `workspace_id` on a multi-workspace rule | `exchange-workspace` | `default-if-covered`; `required` (denied) |
//!
//! Other choices, fixed or set through [`Options`]:
//!
//! | Uncertain point | Choice |
//! |---|---|
//! | Order of checks | authentication, then `anthropic-version`, then rate limits, then routing (so an unknown path without the version header is a 400) |
//! | Unknown routes | 404 `not_found_error` envelope |
//! | Business-rule refusals (101st workspace, admins, archived workspaces, default workspace, implicit members, duplicates) | 400 `invalid_request_error` naming the object |
//! | Unknown body fields, bad `limit`, both cursors, unknown cursor | 400; a cursor whose object is gone (deleted meanwhile) is unknown |
//! | Changing or removing an implicit member's membership | 400 (whether or not an explicit membership exists), except billing → `workspace_admin` |
//! | Default workspace | real `wrkspc_` id, `GET` returns `"Default"`, not listed; rename and archive 400; member routes 400; other updates allowed |
//! | Archiving a workspace | one-way; re-archive returns the original `archived_at`; keys become `archived` ([`ArchiveCascade`]); later writes 400 |
//! | API key status | `expired` never settable; an expired key accepts `archived` (and `inactive` per `expired-key-inactive`); `archived` terminal ([`Options::allow_unarchive_keys`]) |
//! | Workspace `tags` on update | merged; a `null` value removes the key |
//! | `external_key_id` | refused unless [`Options::cmek_enabled`]; write-once |
//! | Organization kind | Console unless the seed has Enterprise-only roles ([`OrganizationKind`]) |
//! | Rate limits | enforced with [`FaultConfig::enforce_rate_limits`]; emulator clock plus wall time since start |
//! | `date` header | every response, from the emulator clock |
//! | Stale single-member GET | window measured on the emulator clock |
//! | Request bodies over 2 MiB | 413 `request_too_large` |
//!
//! # Rust API
//!
//! ```no_run
//! # async fn demo() -> Result<(), orgform_emulator::EmulatorError> {
//! use orgform_emulator::{Emulator, EmulatorConfig, seeds};
//! let emu = Emulator::start(EmulatorConfig {
//!     seed: seeds::small(),
//!     test_controls: true,
//!     ..EmulatorConfig::default()
//! })
//! .await?;
//! let url = emu.base_url(); // http://127.0.0.1:PORT
//! emu.advance_clock(jiff::SignedDuration::from_hours(24 * 22)); // invites expire
//! let snapshot = emu.state();
//! # let _ = (url, snapshot);
//! emu.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Test-control routes
//!
//! With [`EmulatorConfig::test_controls`], these routes exist (same admin key in `x-api-key`;
//! no `anthropic-version` needed; never faulted, rate-limited or logged):
//!
//! | Route | Effect |
//! |---|---|
//! | `GET /_emulator/state` | the full state as a `Snapshot` (as [`Emulator::state`]) |
//! | `PUT /_emulator/state` | replace the state with the `Snapshot` in the body |
//! | `POST /_emulator/invites/accept` | body `{"email": ...}`: accept that pending invite; returns the new user |
//! | `GET /_emulator/clock` | `{"now": RFC 3339}` |
//! | `POST /_emulator/clock/advance` | body `{"seconds": n}`: move the clock forward (or back, if negative) |
//! | `GET /_emulator/requests` | the request log (as [`Emulator::request_log`]) |
//! | `DELETE /_emulator/requests` | clear the request log |
//! | `PUT /_emulator/faults` | body [`FaultConfigWire`]: replace the fault configuration |
//! | `POST /_emulator/faults/push` | body `{"matcher": FaultMatcher, "fault": Fault}`: one-shot fault |
//!
//! # Secrets
//!
//! The admin key is never logged: the request log records method, path, query and body, never
//! headers.

mod api;
mod controls;
mod error;
mod faults;
mod identities;
mod ids;
mod jwt;
mod query;
mod ratelimit;
pub mod readings;
mod reports;
pub mod seeds;
mod server;
mod snapshot_seed;
mod state;
pub mod test_signer;
mod tokens;

use std::net::SocketAddr;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use orgform_model::{InviteStatus, Organization, Snapshot, User, normalize_email};
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

pub use error::{ApiError, EmulatorError};
pub use faults::{Fault, FaultConfig, FaultConfigWire, FaultMatcher};
pub use readings::{DeletedInviteGet, Readings, WorkspaceKeyRefusal};
pub use reports::{UsageRecord, default_rate_limits};
pub use state::{State, WorkspaceRecord};

use crate::faults::FaultEngine;
use crate::ids::IdGen;
use crate::state::Core;

/// What archiving a workspace does to its API keys (undocumented status value).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ArchiveCascade {
    /// Keys become `archived` (default, as third-party providers observed).
    #[default]
    Archived,
    /// Keys become `inactive`.
    Inactive,
    /// Keys are left alone.
    None,
}

/// Which kind of organization is emulated; it decides the roles the API can assign.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OrganizationKind {
    /// Claude Enterprise when the seed holds an Enterprise-only role (`managed`, `owner`,
    /// `primary_owner`, `membership_admin`), else Console (default).
    #[default]
    Auto,
    /// A Console / API organization: assignable `user`, `developer`, `billing`,
    /// `claude_code_user`.
    Console,
    /// A Claude Enterprise organization: assignable `user`, `managed`.
    Enterprise,
}

/// Fidelity switches. `Default` is the faithful (and, where undocumented, conservative) mode.
#[derive(Clone, Debug, PartialEq, Eq)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent on/off switches, each documented"
)]
pub struct Options {
    /// Require `anthropic-version` (default true; the OpenAPI spec marks it optional).
    pub require_version: bool,
    /// Accept `Authorization: Bearer <admin key>` as an `org:admin` token (default true).
    pub accept_bearer: bool,
    /// Maximum number of non-archived workspaces (default 100).
    pub max_workspaces: usize,
    /// What archiving a workspace does to its keys.
    pub archive_cascade: ArchiveCascade,
    /// Allow an API key to leave `archived` (default false).
    pub allow_unarchive_keys: bool,
    /// CMEK enabled, so `external_key_id` may be set (default false).
    pub cmek_enabled: bool,
    /// A finite seat pool: members + pending invites may not exceed it (default none).
    pub seat_limit: Option<usize>,
    /// Seed of generated ids.
    pub id_seed: u64,
    /// Console or Claude Enterprise.
    pub organization_kind: OrganizationKind,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            require_version: true,
            accept_bearer: true,
            max_workspaces: 100,
            archive_cascade: ArchiveCascade::default(),
            allow_unarchive_keys: false,
            cmek_enabled: false,
            seat_limit: None,
            id_seed: 0x0A11_CE5E_ED00_0001,
            organization_kind: OrganizationKind::default(),
        }
    }
}

/// How to start an [`Emulator`].
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    /// Listen address (default `127.0.0.1:0`).
    pub listen: SocketAddr,
    /// The only accepted admin key.
    pub admin_key: String,
    /// OAuth bearer tokens (`org:admin` scope) accepted in `Authorization: Bearer`, as
    /// issued by workload identity federation; none by default.
    pub bearer_tokens: Vec<String>,
    /// Initial state.
    pub seed: Snapshot,
    /// Start of the emulator clock, which only moves when told.
    pub clock_start: Timestamp,
    /// Fidelity switches.
    pub options: Options,
    /// How the emulator reads each point the documentation leaves open.
    pub readings: Readings,
    /// Faults to inject.
    pub faults: FaultConfig,
    /// Enable the `/_emulator/*` routes.
    pub test_controls: bool,
    /// The organization's rate limits and workspace overrides (keyed by workspace id);
    /// `None` serves [`default_rate_limits`].
    pub rate_limits: Option<orgform_model::RateLimits>,
    /// Messages usage the usage report aggregates.
    pub usage: Vec<UsageRecord>,
}

/// The fixed organization of the default configuration.
pub const DEFAULT_ORG_ID: &str = "4f6b2a1e-8c3d-4e5f-9a7b-1c2d3e4f5a6b";
/// The default admin key.
pub const DEFAULT_ADMIN_KEY: &str = "sk-ant-admin01-emulator-test-key";

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin_key: DEFAULT_ADMIN_KEY.to_owned(),
            bearer_tokens: Vec::new(),
            seed: Snapshot {
                organization: Organization {
                    id: DEFAULT_ORG_ID.to_owned(),
                    name: "Emulated Organization".to_owned(),
                },
                ..Snapshot::default()
            },
            clock_start: "2026-06-01T00:00:00Z"
                .parse()
                .unwrap_or(Timestamp::UNIX_EPOCH),
            options: Options::default(),
            readings: Readings::default(),
            faults: FaultConfig::default(),
            test_controls: false,
            rate_limits: None,
            usage: Vec::new(),
        }
    }
}

impl EmulatorConfig {
    /// This configuration with other readings of the undocumented points.
    #[must_use]
    pub fn with_readings(mut self, readings: Readings) -> Self {
        self.readings = readings;
        self
    }
}

/// One served request, as recorded in the request log (headers are never recorded).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoggedRequest {
    /// HTTP method.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Raw query string.
    pub query: Option<String>,
    /// Request body, when it was JSON.
    pub body: Option<serde_json::Value>,
    /// Status produced; `None` when the connection was dropped before the request was applied.
    /// For a drop after apply, the status the client never saw.
    pub status: Option<u16>,
    /// `req_...`
    pub request_id: String,
    /// Fault injected, if any.
    pub fault: Option<Fault>,
}

/// State shared by the server and the handle.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) admin_key: String,
    pub(crate) bearer_tokens: Vec<String>,
    pub(crate) options: Options,
    pub(crate) readings: Readings,
    pub(crate) test_controls: bool,
    pub(crate) core: RwLock<Core>,
    pub(crate) ids: IdGen,
    pub(crate) req_ids: IdGen,
    pub(crate) faults: Mutex<FaultEngine>,
    pub(crate) log: Mutex<std::collections::VecDeque<LoggedRequest>>,
    pub(crate) reports: Mutex<reports::Reports>,
    /// Access tokens minted by the token exchange, and the `jti` values exchanged.
    pub(crate) tokens: Mutex<tokens::TokenStore>,
    /// Why each denied token exchange was denied, oldest first (the Console's
    /// authentication history).
    pub(crate) exchange_denials: Mutex<Vec<String>>,
}

/// The request log keeps at most this many entries (the oldest are dropped), so that a
/// long-running `orgform emulator` does not grow without bound.
pub const REQUEST_LOG_CAPACITY: usize = 100_000;

impl Shared {
    pub(crate) fn record(&self, entry: LoggedRequest) {
        let mut log = self.log.lock();
        if log.len() >= REQUEST_LOG_CAPACITY {
            log.pop_front();
        }
        log.push_back(entry);
    }

    pub(crate) fn replace_state(&self, seed: Snapshot) -> Result<(), EmulatorError> {
        let state = State::from_snapshot(seed, &self.ids);
        state.validate().map_err(EmulatorError::InvalidSeed)?;
        let mut core = self.core.write();
        let now = core.now;
        *core = Core::new(state, now, self.options.organization_kind, self.readings);
        Ok(())
    }

    pub(crate) fn accept_invite(&self, email: &str) -> Result<User, EmulatorError> {
        let mut core = self.core.write();
        let now = core.now;
        let key = normalize_email(email);
        if core
            .state
            .users
            .iter()
            .any(|u| normalize_email(&u.email) == key)
        {
            return Err(EmulatorError::AlreadyMember(email.to_owned()));
        }
        let new_id = core.fresh_id(&self.ids, "user");
        let invite = core
            .state
            .invites
            .iter_mut()
            .find(|i| {
                normalize_email(&i.email) == key
                    && state::invite_status(i, now) == InviteStatus::Pending
            })
            .ok_or_else(|| EmulatorError::NoPendingInvite(email.to_owned()))?;
        invite.status = InviteStatus::Accepted;
        invite.accepted_at = Some(now);
        let name = invite
            .email
            .split('@')
            .next()
            .unwrap_or_default()
            .replace(['.', '_'], " ");
        let user = User {
            id: new_id,
            email: invite.email.clone(),
            name,
            role: invite.role.clone(),
            added_at: now,
        };
        core.state.users.push(user.clone());
        core.touch();
        Ok(user)
    }

    pub(crate) fn advance_clock(&self, by: SignedDuration) {
        let mut core = self.core.write();
        core.now = state::to_micros(core.now.saturating_add(by).unwrap_or(core.now));
        core.touch();
    }
}

/// A running emulator.
#[derive(Debug)]
pub struct Emulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Emulator {
    /// Binds and starts serving.
    pub async fn start(config: EmulatorConfig) -> Result<Emulator, EmulatorError> {
        let ids = IdGen::new(config.options.id_seed);
        let id_seed = config.options.id_seed;
        let state = State::from_snapshot(config.seed, &ids);
        state.validate().map_err(EmulatorError::InvalidSeed)?;
        let shared = Arc::new(Shared {
            admin_key: config.admin_key,
            bearer_tokens: config.bearer_tokens,
            test_controls: config.test_controls,
            core: RwLock::new(Core::new(
                state,
                config.clock_start,
                config.options.organization_kind,
                config.readings,
            )),
            req_ids: IdGen::new(config.options.id_seed ^ 0x005E_ED0F_4E51),
            ids,
            options: config.options,
            readings: config.readings,
            faults: Mutex::new(FaultEngine::new(config.faults)),
            log: Mutex::new(std::collections::VecDeque::new()),
            reports: Mutex::new(reports::Reports::new(
                config.rate_limits,
                config.usage,
                id_seed,
            )),
            tokens: Mutex::new(tokens::TokenStore::default()),
            exchange_denials: Mutex::new(Vec::new()),
        });
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| EmulatorError::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind {
                addr: config.listen,
                source,
            })?;
        let app = server::router(&shared);
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(server::serve(listener, app, stop_rx));
        Ok(Emulator {
            shared,
            addr,
            stop,
            task,
        })
    }

    /// `http://HOST:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The accepted admin key.
    pub fn admin_key(&self) -> &str {
        &self.shared.admin_key
    }

    /// Why each denied token exchange (`POST /v1/oauth/token`) was denied, oldest first: the
    /// reasons the Console's authentication history shows and the response never does
    /// (`match_subject_prefix`, `bad_signature`, `jti_reused`, ...).
    pub fn exchange_denials(&self) -> Vec<String> {
        self.shared.exchange_denials.lock().clone()
    }

    /// What a complete, correct API read with an Admin API key returns now: deleted invites
    /// excluded, time-derived statuses applied, normalised, and `identities: None` (an admin
    /// key cannot read them; see [`Emulator::state_read_by_token`]).
    pub fn state(&self) -> Snapshot {
        Snapshot {
            identities: None,
            ..self.state_read_by_token()
        }
    }

    /// What a complete, correct read with an OAuth bearer token returns now:
    /// [`Emulator::state`] with the identities (service accounts and their memberships,
    /// federation issuers and rules) as [`State::identities`] holds them.
    pub fn state_read_by_token(&self) -> Snapshot {
        let core = self.shared.core.read();
        core.state.to_snapshot(core.now)
    }

    /// The default workspace's id.
    pub fn default_workspace_id(&self) -> String {
        self.shared
            .core
            .read()
            .state
            .default_workspace
            .workspace
            .id
            .clone()
    }

    /// Changes the state out of band, as if in the Console.
    pub fn modify<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut core = self.shared.core.write();
        let out = f(&mut core.state);
        core.touch();
        out
    }

    /// Adds a federation issuer with an `inline` key set out of band, as if in the Console
    /// (a seed holds inline keys only as a digest, so it cannot carry one); returns its id.
    pub fn add_inline_issuer(
        &self,
        name: &str,
        issuer_url: &str,
        keys: Vec<serde_json::Value>,
        max_jwt_lifetime_seconds: u32,
        check_jti: bool,
    ) -> String {
        let mut core = self.shared.core.write();
        let id = core.fresh_id(&self.shared.ids, "fdis");
        let issuer = orgform_model::FederationIssuer {
            id: id.clone(),
            name: name.to_owned(),
            issuer_url: issuer_url.to_owned(),
            jwks: orgform_model::Jwks::Inline {
                keys_digest: orgform_model::jwks_digest(&keys),
                key_count: keys.len(),
            },
            max_jwt_lifetime_seconds,
            check_jti,
            created_at: core.now,
            archived_at: None,
        };
        core.inline_keys.insert(id.clone(), keys);
        core.state.identities.federation_issuers.push(issuer);
        core.touch();
        id
    }

    /// Replaces the whole state with a new seed.
    pub fn reseed(&self, seed: Snapshot) -> Result<(), EmulatorError> {
        self.shared.replace_state(seed)
    }

    /// Accepts the pending invite for `email`: creates the user with the invite's role.
    pub fn accept_invite(&self, email: &str) -> Result<User, EmulatorError> {
        self.shared.accept_invite(email)
    }

    /// The emulator clock.
    pub fn now(&self) -> Timestamp {
        self.shared.core.read().now
    }

    /// Moves the clock.
    pub fn advance_clock(&self, by: SignedDuration) {
        self.shared.advance_clock(by);
    }

    /// Every Admin API request served so far (the latest [`REQUEST_LOG_CAPACITY`]).
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.shared.log.lock().iter().cloned().collect()
    }

    /// Empties the request log.
    pub fn clear_request_log(&self) {
        self.shared.log.lock().clear();
    }

    /// Replaces the fault configuration (restarting the random sequence from its seed).
    pub fn set_faults(&self, faults: FaultConfig) {
        self.shared.faults.lock().reconfigure(faults);
    }

    /// Queues a one-shot fault for the next request matching `matcher`.
    pub fn push_fault(&self, matcher: FaultMatcher, fault: Fault) {
        self.shared.faults.lock().push(matcher, fault);
    }

    /// Replaces the rate limits the Rate Limits API serves (overrides keyed by workspace id),
    /// as if changed in the Console.
    pub fn set_rate_limits(&self, limits: orgform_model::RateLimits) {
        self.shared.reports.lock().rate_limits = limits;
    }

    /// Adds Messages API usage for the usage report.
    pub fn record_usage(&self, record: UsageRecord) {
        self.shared.reports.lock().usage.push(record);
    }

    /// Adds an activity to the feed at the emulator clock's now, as if a person did it in the
    /// Console: `actor_email` as a `user_actor`, `kind` the activity type, `fields` its
    /// type-specific fields.
    pub fn record_activity(
        &self,
        actor_email: &str,
        kind: &str,
        fields: serde_json::Map<String, serde_json::Value>,
    ) {
        let now = self.now();
        let actor = serde_json::json!({
            "type": "user_actor",
            "email_address": actor_email,
            "user_id": null,
            "ip_address": "192.0.2.1",
            "user_agent": "Mozilla/5.0",
        });
        self.shared.reports.lock().push(now, actor, kind, fields);
    }

    /// Every activity of the feed, oldest first.
    pub fn activities(&self) -> Vec<serde_json::Value> {
        self.shared.reports.lock().activities.clone()
    }

    /// Stops serving and closes every connection.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// A fresh random admin key (`sk-ant-admin01-` + 48 base58 characters) for a served emulator.
pub fn generate_admin_key() -> String {
    use rand::Rng as _;
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut rng = rand::rng();
    let tail: String = (0..48)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("sk-ant-admin01-{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_request_log_keeps_the_latest_entries_only() {
        let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
        let entry = |n: usize| LoggedRequest {
            method: "GET".to_owned(),
            path: format!("/{n}"),
            query: None,
            body: None,
            status: Some(200),
            request_id: String::new(),
            fault: None,
        };
        for n in 0..=REQUEST_LOG_CAPACITY {
            emu.shared.record(entry(n));
        }
        let log = emu.request_log();
        assert_eq!(log.len(), REQUEST_LOG_CAPACITY);
        assert_eq!(log[0].path, "/1");
        assert_eq!(log.last().unwrap().path, format!("/{REQUEST_LOG_CAPACITY}"));
        emu.shutdown().await;
    }
}
