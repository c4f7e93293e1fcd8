//! What a plan reports besides its actions: deferred and blocked changes, unmanaged live
//! objects, pending invites, missing and expiring objects, and planning errors.

use std::fmt;

use orgform_manifest::{Expiry, Source};
use orgform_model::{OrgRole, WorkspaceRole};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A wanted change that waits for something outside this run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deferred {
    /// Human label, e.g. `workspace member bob@acme.example in production`.
    pub target: String,
    /// The person.
    pub email: String,
    /// The workspace (manifest name).
    pub workspace: String,
    /// The wanted workspace role.
    pub role: WorkspaceRole,
    /// What it waits for.
    pub reason: String,
    /// The action of this plan that sends the invite it waits for, if any.
    #[serde(default)]
    pub waits_for_action: Option<u32>,
}

/// Why a wanted change is blocked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockedKind {
    /// Granting or revoking admin or an enterprise owner role.
    AdministrativeRole,
    /// Inviting someone with an administrative role.
    AdministrativeInvite,
    /// Removing an admin or owner.
    AdministrativeRemoval,
    /// A workspace role other than the implicit one for an org admin or billing member.
    ImplicitWorkspaceRole,
    /// Reactivating an archived key.
    ArchivedKey,
    /// Reactivating an expired key.
    ExpiredKey,
    /// A key in a workspace that is (or is being) archived.
    KeyInArchivedWorkspace,
    /// A status the API cannot set, or a live status orgform does not know.
    UnsupportedStatus,
    /// Changing `workspace_geo`.
    WorkspaceGeo,
    /// Demoting, removing or deactivating the keys of a protected email.
    Protected,
    /// Changing or removing a live workspace membership whose role orgform does not know.
    UnknownWorkspaceRole,
    /// Changing a federation rule (or its issuer) whose scope only a Console session may set.
    ConsoleOnlyScope,
    /// Changing a federation rule's issuer, which is fixed once the rule exists.
    RuleIssuer,
    /// Archiving a federation issuer that live rules not being archived still use.
    IssuerInUse,
    /// The first stage of a staged removal that cannot finish: the manifest keeps one of the
    /// person's keys active, or the API cannot remove one of their workspace memberships.
    StagedRemoval,
    /// A declared, non-archived service account that exists only archived (archiving
    /// cannot be undone).
    ArchivedServiceAccount,
    /// A declared, non-archived federation issuer or rule whose name exists only archived:
    /// archiving cannot be undone, and whether the API frees the name is not settled.
    ArchivedFederationObject,
    /// Archiving a service account that live federation rules not archived (nor moved to
    /// another service account) by the same plan still target: the API refuses it.
    ServiceAccountInUse,
}

/// A wanted change the API can never make.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blocked {
    /// Category.
    pub kind: BlockedKind,
    /// Human label.
    pub target: String,
    /// The field concerned, if one.
    #[serde(default)]
    pub field: Option<String>,
    /// The live value.
    #[serde(default)]
    pub live: Option<Value>,
    /// The wanted value.
    #[serde(default)]
    pub wanted: Option<Value>,
    /// Why the API cannot do it.
    pub reason: String,
    /// What a person must do instead.
    pub remedy: String,
    /// The manifest file and line that require it (see [`orgform_manifest::Source`]); for a
    /// removal of an unlisted object, the setting that causes it. Absent when the manifest
    /// was not loaded from files. Not compared when `apply PLANFILE` checks a saved plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
}

/// The kind of a live object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    /// An organization member.
    Member,
    /// An invite.
    Invite,
    /// A workspace.
    Workspace,
    /// An explicit workspace membership.
    WorkspaceMember,
    /// An API key.
    ApiKey,
    /// A federation issuer.
    FederationIssuer,
    /// A federation rule.
    FederationRule,
    /// A service account.
    ServiceAccount,
    /// An explicit workspace membership of a service account.
    ServiceAccountMember,
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Member => "member",
            Self::Invite => "invite",
            Self::Workspace => "workspace",
            Self::WorkspaceMember => "workspace member",
            Self::ApiKey => "api key",
            Self::FederationIssuer => "federation issuer",
            Self::FederationRule => "federation rule",
            Self::ServiceAccount => "service account",
            Self::ServiceAccountMember => "service account member",
        })
    }
}

/// A live object that is not declared and is only reported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unmanaged {
    /// Kind.
    pub kind: ObjectKind,
    /// Live id (`user_...`, `invite_...`, `wrkspc_...`, `apikey_...`; for a workspace
    /// membership `wrkspc_.../user_...`).
    pub id: String,
    /// Human label.
    pub target: String,
    /// Why it is only reported (policy `report`, protected email, admin...).
    pub reason: String,
    /// The email is in `settings.protected`.
    #[serde(default)]
    pub protected: bool,
    /// An implicit workspace membership (an org admin's `workspace_admin`, a billing
    /// member's `workspace_billing`): shown for information, never drift.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub implicit: bool,
}

/// The state of a listed person's invite that is only reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PendingKind {
    /// Pending inside its 21 days, with the wanted role: waiting for acceptance.
    InvitePending,
    /// Expired and not re-issued (`reissue_expired: false`).
    InviteExpired,
}

/// A listed person who is invited but not yet a member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// Category.
    pub kind: PendingKind,
    /// The person.
    pub email: String,
    /// The invite.
    pub invite_id: String,
    /// The invite's role.
    pub role: OrgRole,
    /// When it expires (or expired).
    pub expires_at: jiff::Timestamp,
}

/// A declared object that does not exist live and that the API cannot create.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Missing {
    /// Kind.
    pub kind: ObjectKind,
    /// Human label.
    pub target: String,
    /// What to do about it.
    pub reason: String,
}

/// An entry with `expires:` that is still in force.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expiring {
    /// Human label, e.g. `member alice@acme.example`.
    pub target: String,
    /// The last day (UTC) the entry is in force.
    pub expires: Expiry,
    /// Whole days left by the API's clock: 0 on the last day.
    pub days_left: i64,
    /// Where `expires` is written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
}

/// Why the manifest cannot be matched to the live organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanErrorKind {
    /// Two live non-archived workspaces have the listed name.
    AmbiguousWorkspace,
    /// A pinned workspace id matches nothing.
    UnknownWorkspaceId,
    /// A pinned workspace id is archived but the entry lacks `archived: true`.
    ArchivedWorkspacePinned,
    /// A key name (+ workspace) matches several keys.
    AmbiguousApiKey,
    /// A key id matches nothing.
    UnknownApiKeyId,
    /// A key entry's `workspace` names several live workspaces.
    AmbiguousKeyWorkspace,
    /// A workspace lists an email that is neither under `members` nor a live org admin or
    /// billing member.
    UndeclaredWorkspaceMember,
    /// Two entries resolve to the same live object.
    DuplicateMatch,
    /// The manifest declares service accounts or federation, but the read did not include
    /// them (they need an OAuth bearer token).
    IdentitiesNotRead,
    /// A rule's service account is neither live nor created by this plan.
    UnknownServiceAccount,
}

/// The manifest cannot be matched to the live organization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanError {
    /// Category.
    pub kind: PlanErrorKind,
    /// The manifest entry concerned.
    pub target: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    #[serde(default)]
    pub hint: Option<String>,
    /// The manifest file and line that require it (see [`orgform_manifest::Source`]); for a
    /// removal of an unlisted object, the setting that causes it. Absent when the manifest
    /// was not loaded from files. Not compared when `apply PLANFILE` checks a saved plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
}
