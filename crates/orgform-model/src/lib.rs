//! Domain types of an Anthropic organization: the live [`Snapshot`] that the API client reads
//! and the planner compares against the manifest, plus the role and status enums shared by
//! every crate.
//!
//! No I/O lives here. Every enum that mirrors an API value keeps values it does not know as
//! `Unknown(String)`, because the API may add enum values within a version: a client that
//! failed on them would fail the whole read, and a read that fails never plans anything.

mod enums;
mod identities;
mod limits;
mod snapshot;

pub use enums::{ApiKeyStatus, InviteStatus, OrgRole, ServiceAccountRole, WorkspaceRole};
pub use identities::{
    FederationIssuer, FederationRule, Identities, Jwks, RuleMatch, ServiceAccount,
    ServiceAccountMember, jwks_digest,
};
pub use limits::{LimitValue, RateLimitGroup, RateLimits, WorkspaceLimitValue, WorkspaceRateLimit};
pub use snapshot::{
    ActorRef, AllowedGeos, ApiKey, DataResidency, Invite, Organization, Snapshot, Unrestricted,
    User, Workspace, WorkspaceMember, normalize_email, sha256_hex,
};

/// Timestamps are RFC 3339 UTC instants, as the API writes them.
pub use jiff::Timestamp;
