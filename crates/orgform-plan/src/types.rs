//! The plan's data: what the planner decided, in the form the executor runs and the renderers
//! print. The JSON form of [`Plan`] is also the `--out` plan file that `apply PLANFILE` reads
//! back, so every type here serialises and deserialises, and fields are only ever added.

mod staged;

use std::fmt;

use orgform_manifest::Source;
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod findings;
mod op;
pub use findings::{
    Blocked, BlockedKind, Deferred, Expiring, Missing, ObjectKind, Pending, PendingKind, PlanError,
    PlanErrorKind, Unmanaged,
};
pub use op::{ObjectRef, Op, ServiceAccountRef, WorkspaceRef};

pub use staged::{NoAccessRecord, Staged, StagedStep};

/// The plan format this crate writes and reads. Version 2 added `actions_digest`; a plan
/// file of version 1 (which has none) is refused, and the hint is to make the plan again.
pub const FORMAT_VERSION: u32 = 2;

/// An ordered plan: every action to execute, plus everything only reported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// The live organization's id.
    pub organization_id: String,
    /// Digest of the manifest the plan was computed from (given by the caller).
    pub manifest_digest: String,
    /// [`orgform_model::Snapshot::digest`] of the live state the plan was computed from.
    pub live_digest: String,
    /// [`crate::actions_digest`] of `actions`: a plan file whose actions were edited without
    /// it is refused on reading.
    pub actions_digest: String,
    /// Actions in execution order; empty when there are errors or an organization mismatch.
    pub actions: Vec<Action>,
    /// Wanted changes that wait for something (a workspace grant waits for an invite).
    pub deferred: Vec<Deferred>,
    /// Wanted changes the API can never make, with what a person must do instead.
    pub blocked: Vec<Blocked>,
    /// Live objects that are not declared and are only reported.
    pub unmanaged: Vec<Unmanaged>,
    /// Invites waiting for acceptance, and expired invites that are not re-issued.
    #[serde(default)]
    pub pending: Vec<Pending>,
    /// Declared objects that do not exist live and cannot be created (API keys).
    #[serde(default)]
    pub missing: Vec<Missing>,
    /// Entries with `expires:` still in force, with the days left (time-boxed access).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expiring: Vec<Expiring>,
    /// People removed in stages (`settings.members.removal: staged`): where each stands.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub staged: Vec<Staged>,
    /// Plan errors: the manifest cannot be matched to the live org. When non-empty, nothing
    /// is planned.
    pub errors: Vec<PlanError>,
    /// Reasons the plan must not be applied as it stands.
    pub refusals: Vec<Refusal>,
    /// Things worth a look that change nothing (e.g. the organization name differs).
    pub warnings: Vec<String>,
    /// Counts.
    pub summary: Summary,
}

impl Plan {
    /// Whether the plan has actions to execute (the CLI's "changes pending"). Reported
    /// unmanaged objects, pending invites, deferred grants and blocked items are not changes.
    pub fn has_changes(&self) -> bool {
        !self.actions.is_empty()
    }

    /// Whether the plan must not be applied: a refusal (organization mismatch, destructive
    /// limit exceeded) or plan errors.
    pub fn is_refused(&self) -> bool {
        !self.refusals.is_empty() || !self.errors.is_empty()
    }

    /// Whether some wanted change can never be made through the API.
    pub fn has_blocked(&self) -> bool {
        !self.blocked.is_empty()
    }

    /// The outcome the CLI maps to an exit code (`docs/cli.md`, "What counts").
    pub fn outcome(&self) -> PlanOutcome {
        if self.is_refused() {
            PlanOutcome::Refused
        } else if self.has_blocked() {
            PlanOutcome::Blocked
        } else if self.has_changes() {
            PlanOutcome::Changes
        } else {
            PlanOutcome::NoChanges
        }
    }

    /// The action with this id.
    pub fn action(&self, id: u32) -> Option<&Action> {
        self.actions.iter().find(|a| a.id == id)
    }

    /// Parses a plan file written by [`crate::render::json`], checking its format version,
    /// that `actions_digest` is the digest of its actions, and that the actions can run in
    /// their order ([`crate::check_actions`]).
    ///
    /// A plan file is a proposal: what it may be used for is comparing it with the plan made
    /// now (`apply PLANFILE` runs only the fresh plan, and only when the actions match).
    pub fn from_json(text: &str) -> Result<Self, PlanFileError> {
        #[derive(Deserialize)]
        struct Version {
            format_version: u32,
        }
        let version: Version = serde_json::from_str(text).map_err(PlanFileError::Parse)?;
        if version.format_version != FORMAT_VERSION {
            return Err(PlanFileError::UnsupportedVersion {
                found: version.format_version,
                supported: FORMAT_VERSION,
            });
        }
        let plan: Self = serde_json::from_str(text).map_err(PlanFileError::Parse)?;
        let computed = crate::actions_digest(&plan.actions);
        if plan.actions_digest != computed {
            return Err(PlanFileError::DigestMismatch {
                recorded: plan.actions_digest,
                computed,
            });
        }
        crate::check_actions(&plan.actions).map_err(PlanFileError::Invalid)?;
        Ok(plan)
    }
}

/// What a plan means for the exit code; the first that applies wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanOutcome {
    /// Refusals or plan errors: exit 3, nothing is applied.
    Refused,
    /// Blocked items: the rest may be applied, then exit 3.
    Blocked,
    /// Executable actions: exit 2 with `--detailed-exitcode`.
    Changes,
    /// Nothing to execute: exit 0.
    NoChanges,
}

/// A plan file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    /// Not JSON of the plan's shape.
    #[error("the plan file is not a valid orgform plan: {0}")]
    Parse(#[source] serde_json::Error),
    /// Written by another version of orgform.
    #[error(
        "plan file format version {found} is not supported (this orgform reads version {supported})"
    )]
    UnsupportedVersion {
        /// The file's `format_version`.
        found: u32,
        /// The version this crate reads.
        supported: u32,
    },
    /// The actions are not the ones the recorded digest was made of: the file was edited.
    #[error(
        "the plan file's actions do not match its actions_digest (recorded {recorded}, the actions give {computed}): it was edited after it was made"
    )]
    DigestMismatch {
        /// The file's `actions_digest`.
        recorded: String,
        /// The digest of the file's actions.
        computed: String,
    },
    /// The actions cannot run in their order.
    #[error("the plan file's actions cannot run as listed: {0}")]
    Invalid(#[source] crate::InvalidPlan),
}

/// One step of the plan. In JSON it also carries `kind` (the op's kind, e.g.
/// `create_invite`) at the top, for readers; reading ignores it, since `op.kind` says the same.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Action {
    /// 1-based position in execution order, stable for the same inputs.
    pub id: u32,
    /// Everything the executor needs; it makes no choices of its own.
    pub op: Op,
    /// Human label, e.g. `member alice@acme.example`.
    pub target: String,
    /// Field by field, before and after.
    pub changes: Vec<FieldChange>,
    /// Removes access or objects (counted against the destructive limits).
    pub destructive: bool,
    /// Cannot be undone (archives).
    pub irreversible: bool,
    /// Ids of earlier actions that must succeed first.
    pub depends_on: Vec<u32>,
    /// Side effects the API performs on its own, e.g. keys archived with their workspace.
    pub consequences: Vec<String>,
    /// The manifest file and line that require it (see [`orgform_manifest::Source`]); for a
    /// removal of an unlisted object, the setting that causes it. Absent when the manifest
    /// was not loaded from files. Not compared when `apply PLANFILE` checks a saved plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
}

impl Serialize for Action {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut out = serializer.serialize_struct("Action", 10)?;
        out.serialize_field("id", &self.id)?;
        out.serialize_field("kind", self.op.name())?;
        out.serialize_field("op", &self.op)?;
        out.serialize_field("target", &self.target)?;
        out.serialize_field("changes", &self.changes)?;
        out.serialize_field("destructive", &self.destructive)?;
        out.serialize_field("irreversible", &self.irreversible)?;
        out.serialize_field("depends_on", &self.depends_on)?;
        out.serialize_field("consequences", &self.consequences)?;
        if let Some(source) = &self.source {
            out.serialize_field("source", source)?;
        } else {
            out.skip_field("source")?;
        }
        out.end()
    }
}

impl Action {
    /// How this action changes its object.
    pub fn kind(&self) -> ChangeKind {
        self.op.change_kind()
    }

    /// The destructive limit this action counts against, if it is destructive.
    pub fn destructive_kind(&self) -> Option<DestructiveKind> {
        if !self.destructive {
            return None;
        }
        Some(match &self.op {
            Op::RemoveUser { .. } => DestructiveKind::MemberRemovals,
            Op::RevokeInvite { .. } => DestructiveKind::InviteRevocations,
            Op::RemoveWorkspaceMember { .. } => DestructiveKind::WorkspaceMemberRemovals,
            Op::ArchiveWorkspace { .. } => DestructiveKind::WorkspaceArchives,
            Op::ArchiveFederationIssuer { .. } => DestructiveKind::FederationIssuerArchives,
            Op::ArchiveFederationRule { .. } => DestructiveKind::FederationRuleArchives,
            Op::DisableFederationRuleWorkspace { .. } | Op::UpdateFederationRule { .. } => {
                DestructiveKind::FederationRuleWorkspaceRemovals
            }
            Op::ArchiveServiceAccount { .. } => DestructiveKind::ServiceAccountArchives,
            Op::RemoveServiceAccountMember { .. } => DestructiveKind::ServiceAccountMemberRemovals,
            _ => DestructiveKind::KeyDeactivations,
        })
    }
}

/// Terraform's change symbols.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// `+`
    Add,
    /// `~`
    Change,
    /// `-`
    Remove,
    /// `-/+`: delete, then create.
    Replace,
}

impl ChangeKind {
    /// `+`, `~`, `-` or `-/+`.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Add => "+",
            Self::Change => "~",
            Self::Remove => "-",
            Self::Replace => "-/+",
        }
    }
}

/// One field's change; `None` means absent on that side.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// Field name, e.g. `role`.
    pub field: String,
    /// Live value.
    #[serde(default)]
    pub before: Option<Value>,
    /// Wanted value.
    #[serde(default)]
    pub after: Option<Value>,
}

/// A kind of destructive action; each has its own limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DestructiveKind {
    /// Organization member removals (against live members).
    MemberRemovals,
    /// Invite revocations (against live pending invites).
    InviteRevocations,
    /// Workspace member removals (against live explicit workspace memberships).
    WorkspaceMemberRemovals,
    /// Key deactivations and archivals (against live active and inactive keys).
    KeyDeactivations,
    /// Workspace archives (against live non-archived workspaces).
    WorkspaceArchives,
    /// Federation issuer archives (against live non-archived issuers).
    FederationIssuerArchives,
    /// Federation rule archives (against live non-archived rules).
    FederationRuleArchives,
    /// Workspaces a federation rule stops applying to: disabled enablements, and a rule
    /// leaving `all` (against the live enablements of non-archived rules).
    FederationRuleWorkspaceRemovals,
    /// Service account archives (against live non-archived service accounts).
    ServiceAccountArchives,
    /// Removals of service accounts from workspaces (against their live explicit
    /// memberships).
    ServiceAccountMemberRemovals,
}

impl DestructiveKind {
    /// Every kind, in the order reports list them.
    pub const ALL: [Self; 10] = [
        Self::MemberRemovals,
        Self::InviteRevocations,
        Self::WorkspaceMemberRemovals,
        Self::KeyDeactivations,
        Self::WorkspaceArchives,
        Self::FederationIssuerArchives,
        Self::FederationRuleArchives,
        Self::FederationRuleWorkspaceRemovals,
        Self::ServiceAccountArchives,
        Self::ServiceAccountMemberRemovals,
    ];
}

impl fmt::Display for DestructiveKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MemberRemovals => "member removals",
            Self::InviteRevocations => "invite revocations",
            Self::WorkspaceMemberRemovals => "workspace member removals",
            Self::KeyDeactivations => "api key deactivations and archivals",
            Self::WorkspaceArchives => "workspace archives",
            Self::FederationIssuerArchives => "federation issuer archives",
            Self::FederationRuleArchives => "federation rule archives",
            Self::FederationRuleWorkspaceRemovals => "federation rule workspace removals",
            Self::ServiceAccountArchives => "service account archives",
            Self::ServiceAccountMemberRemovals => "service account workspace removals",
        })
    }
}

/// Why the plan must not be applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Refusal {
    /// The manifest's organization id is not the live one; nothing else is planned.
    OrganizationMismatch {
        /// `organization.id` in the manifest.
        manifest: String,
        /// The live organization id.
        live: String,
    },
    /// More destructive actions of one kind than the limits allow.
    DestructiveLimit {
        /// The kind.
        destructive_kind: DestructiveKind,
        /// Destructive actions of that kind in the plan.
        count: u32,
        /// The limit that applied.
        limit: u32,
        /// Live objects of that kind.
        live_total: u32,
        /// What raises the limit.
        override_hint: String,
    },
}

impl Refusal {
    /// One line for people.
    pub fn message(&self) -> String {
        match self {
            Self::OrganizationMismatch { manifest, live } => format!(
                "the manifest describes organization {manifest} but the admin key belongs to organization {live}"
            ),
            Self::DestructiveLimit {
                destructive_kind,
                count,
                limit,
                live_total,
                override_hint,
            } => format!(
                "{count} {destructive_kind} exceed the limit of {limit} (of {live_total} live); {override_hint}"
            ),
        }
    }
}

/// Counts; `add`, `change`, `remove` and `replace` count executable actions by kind.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// `+` actions.
    pub add: u32,
    /// `~` actions.
    pub change: u32,
    /// `-` actions.
    pub remove: u32,
    /// `-/+` actions.
    pub replace: u32,
    /// Irreversible actions.
    pub irreversible: u32,
    /// Destructive actions.
    #[serde(default)]
    pub destructive: u32,
    /// Deferred items.
    pub deferred: u32,
    /// Blocked items.
    pub blocked: u32,
    /// Unmanaged objects reported.
    pub unmanaged: u32,
    /// Pending invites reported.
    #[serde(default)]
    pub pending: u32,
    /// Missing keys reported.
    #[serde(default)]
    pub missing: u32,
    /// Plan errors.
    #[serde(default)]
    pub errors: u32,
}
