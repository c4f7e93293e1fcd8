//! The engine behind [`crate::plan`] and [`crate::drift`]: it indexes the live snapshot once
//! (by normalised email and by id, so planning stays near-linear), walks the manifest's rules
//! in `docs/manifest.md` ("Meaning") and collects draft actions that are sorted into the
//! documented order at the end.
//!
//! Decisions the contract leaves open, taken conservatively:
//!
//! - An invite counts as expired when its status is `expired` or when it is `pending` but its
//!   `expires_at` is not after [`crate::PlanOptions::now`] (the API derives the status from the
//!   clock, so both views agree).
//! - An `admin` entry is also satisfied by a live `owner` or `primary_owner` (the Console
//!   counts owners as admins). Any other change to or from an administrative role (admin,
//!   owner, primary owner, membership admin, or a role orgform does not know) is blocked.
//! - "Demoting" a protected person means any role change that is not strictly upwards along
//!   user/managed < claude_code_user < developer < billing < admin; the same goes for their
//!   pending invite's role and their explicit workspace roles (workspace_user <
//!   workspace_restricted_developer < workspace_developer < workspace_admin).
//! - A workspace entry whose email is neither under `members:` nor a live org admin or billing
//!   member is a plan error (the validator cannot know live roles; the planner can).
//! - Explicit memberships of org admins and billing members are never removed: the API refuses
//!   it while they hold that role, so they are reported instead.
//! - A pinned workspace id that matches nothing is a plan error even with `archived: true`:
//!   archived workspaces stay readable, so a miss means a typo.
//! - A key entry's `workspace:` names a manifest workspace (which may pin an id), or else a
//!   live workspace by exact name (a unique non-archived one wins over archived namesakes).
//! - An `expired` key already satisfies a wanted `inactive` (it cannot be used); `archived` on
//!   an expired key is planned; `active` is blocked. In a workspace that is archived, or that
//!   this plan archives, any key that is (or the archive makes) inactive, archived or expired
//!   satisfies a wanted `inactive` or `archived`: the archive did it, and the plan after an
//!   archive must be empty, not blocked.
//! - Data residency is compared only when the live workspace reports it; inference geo lists
//!   compare as sets; colours compare case-insensitively.
//! - Keys of a workspace this plan archives are consequences of the archive and do not count
//!   against the key deactivation limit.
//! - A removed member's explicit workspace memberships end with them: no separate actions.
//! - On `platform: aws` only workspaces exist, so members, invites and keys are not planned.
//! - Archiving a workspace archives its keys, so a workspace holding active or inactive keys
//!   created by a protected email is never archived: blocked when the manifest asks, kept and
//!   reported under `settings.workspaces.unmanaged: archive`.
//! - The validator rejects duplicate emails and workspace names; should a merged manifest
//!   still carry one, it is a plan error here rather than two conflicting actions.
//! - A pending invite with the wanted role waits, even an `admin` invite sent from the
//!   Console; only a new or changed invite with an administrative role is blocked.
//! - `workspace_billing` (inherited only) and workspace roles orgform does not know are never
//!   granted: blocked, unless an explicit live membership already has that role.
//!
//! Order and determinism: each draft action gets its class (the documented order) and a sort
//! key that always contains an id; actions are sorted by (class, sort key) and numbered from
//! 1, so reordering the manifest or the live lists never changes the plan. `depends_on` holds
//! what must succeed first: a grant in a workspace this plan creates depends on the creation,
//! a grant to a person whose org role this plan changes depends on that change. Dependencies
//! always point to earlier classes, so the numbering respects them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::Timestamp;
use orgform_manifest::{
    ApiKeyPolicy, ApiKeySpec, DataResidencySpec, InvitePolicy, Manifest, MemberPolicy, MemberSpec,
    Platform, WorkspaceMemberPolicy, WorkspacePolicy, WorkspaceSpec,
};
use orgform_model::{
    AllowedGeos, ApiKey, ApiKeyStatus, Invite, InviteStatus, OrgRole, Snapshot, User, Workspace,
    WorkspaceMember, WorkspaceRole, normalize_email,
};
use serde_json::Value;

use crate::limits;
use crate::types::{
    Action, Blocked, BlockedKind, ChangeKind, Deferred, FORMAT_VERSION, FieldChange, Missing,
    ObjectKind, Op, Pending, PendingKind, Plan, PlanError, PlanErrorKind, Refusal, Summary,
    Unmanaged, WorkspaceRef,
};
use crate::{DriftCategory, PlanOptions};

/// Execution classes, in the documented order.
mod class {
    pub const CREATE_WORKSPACE: u8 = 0;
    pub const UPDATE_WORKSPACE: u8 = 1;
    pub const INVITE: u8 = 2;
    pub const ROLE_UPDATE: u8 = 3;
    pub const WORKSPACE_MEMBER: u8 = 4;
    pub const KEY_CONSTRUCTIVE: u8 = 5;
    pub const KEY_DESTRUCTIVE: u8 = 6;
    pub const WORKSPACE_MEMBER_REMOVAL: u8 = 7;
    pub const INVITE_REVOCATION: u8 = 8;
    pub const MEMBER_REMOVAL: u8 = 9;
    pub const WORKSPACE_ARCHIVE: u8 = 10;
}

/// An action before it has its place and id.
struct Draft {
    class: u8,
    sort_key: String,
    key: String,
    op: Op,
    target: String,
    changes: Vec<FieldChange>,
    destructive: bool,
    irreversible: bool,
    deps: Vec<String>,
    consequences: Vec<String>,
    category: DriftCategory,
}

/// A deferred grant before its invite action has an id.
struct DraftDeferred {
    item: Deferred,
    waits_for: Option<String>,
}

/// How a manifest workspace entry resolved.
#[derive(Clone, Debug)]
enum WsRes {
    /// A live workspace; `archiving` when this plan archives it.
    Live {
        id: String,
        archiving: bool,
        archived: bool,
    },
    /// Created by the draft with this key.
    Create { key: String },
    /// `archived: true` and nothing live: nothing to do.
    Absent,
    /// `archived: true`, but the archive is blocked: the workspace is left alone.
    Held { id: String },
    /// A plan error was reported for it.
    Error,
}

/// Where a key entry's `workspace:` points.
enum KeyWs {
    /// No `workspace:`: any workspace.
    Any,
    /// This live workspace (`None`: the default workspace).
    In(Option<String>),
    /// A workspace that does not exist live, so no key can be in it.
    Nowhere,
    /// A plan error was reported.
    Error,
}

/// The engine's complete output.
pub(crate) struct Outcome {
    pub plan: Plan,
    /// Drift category of each action of `plan.actions`, same order.
    pub categories: Vec<DriftCategory>,
}

struct Engine<'a> {
    m: &'a Manifest,
    live: &'a Snapshot,
    now: Timestamp,
    aws: bool,
    users_by_email: HashMap<String, &'a User>,
    users_by_id: HashMap<&'a str, &'a User>,
    invites_by_email: BTreeMap<String, Vec<&'a Invite>>,
    ws_by_id: HashMap<&'a str, &'a Workspace>,
    ws_by_name: HashMap<&'a str, Vec<&'a Workspace>>,
    wm_by_ws: HashMap<&'a str, Vec<&'a WorkspaceMember>>,
    keys_by_id: HashMap<&'a str, &'a ApiKey>,
    keys_by_name: HashMap<&'a str, Vec<&'a ApiKey>>,
    keys_by_ws: HashMap<Option<&'a str>, Vec<&'a ApiKey>>,
    keys_by_creator: HashMap<&'a str, usize>,
    wm_by_user: HashMap<&'a str, usize>,
    protected: BTreeSet<String>,
    listed: HashMap<String, &'a MemberSpec>,
    /// Org role of each live user after this plan.
    effective_role: HashMap<&'a str, OrgRole>,
    /// Key of the role update draft per user id.
    role_update_key: HashMap<&'a str, String>,
    /// Key of the invite draft per normalised email.
    invite_key: BTreeMap<String, String>,
    /// Users this plan removes.
    removed_users: BTreeSet<&'a str>,
    ws_res: BTreeMap<String, WsRes>,
    archiving: BTreeSet<String>,
    drafts: Vec<Draft>,
    deferred: Vec<DraftDeferred>,
    blocked: Vec<Blocked>,
    unmanaged: Vec<Unmanaged>,
    pending: Vec<Pending>,
    missing: Vec<Missing>,
    errors: Vec<PlanError>,
    warnings: Vec<String>,
}

/// Runs the engine.
pub(crate) fn run(manifest: &Manifest, live: &Snapshot, options: &PlanOptions) -> Outcome {
    let mut plan = Plan {
        format_version: FORMAT_VERSION,
        organization_id: live.organization.id.clone(),
        manifest_digest: options.manifest_digest.clone(),
        live_digest: live.digest(),
        actions_digest: String::new(),
        actions: Vec::new(),
        deferred: Vec::new(),
        blocked: Vec::new(),
        unmanaged: Vec::new(),
        pending: Vec::new(),
        missing: Vec::new(),
        errors: Vec::new(),
        refusals: Vec::new(),
        warnings: Vec::new(),
        summary: Summary::default(),
    };
    if !manifest
        .organization
        .id
        .trim()
        .eq_ignore_ascii_case(live.organization.id.trim())
    {
        plan.refusals.push(Refusal::OrganizationMismatch {
            manifest: manifest.organization.id.clone(),
            live: live.organization.id.clone(),
        });
        plan.summary = summarize(&plan);
        plan.actions_digest = crate::actions_digest(&plan.actions);
        return Outcome {
            plan,
            categories: Vec::new(),
        };
    }
    let mut engine = Engine::new(manifest, live, options.now);
    if let Some(name) = &manifest.organization.name
        && name != &live.organization.name
    {
        engine.warnings.push(format!(
            "organization name differs: the manifest says {name:?}, the live organization is {:?}",
            live.organization.name
        ));
    }
    engine.plan_workspaces();
    if !engine.aws {
        engine.plan_people();
        engine.plan_unlisted_users();
        engine.plan_unlisted_invites();
    }
    engine.plan_workspace_members();
    if !engine.aws {
        engine.plan_api_keys();
    }
    engine.finish(plan, options)
}

fn s(value: &str) -> Value {
    Value::String(value.to_owned())
}

fn change(field: &str, before: Option<Value>, after: Option<Value>) -> FieldChange {
    FieldChange {
        field: field.to_owned(),
        before,
        after,
    }
}

/// Rank of an org role for "demotion" of protected people.
fn org_rank(role: &OrgRole) -> u8 {
    match role {
        OrgRole::User | OrgRole::Managed => 0,
        OrgRole::ClaudeCodeUser => 1,
        OrgRole::Developer => 2,
        OrgRole::Billing => 3,
        OrgRole::Admin | OrgRole::MembershipAdmin | OrgRole::Unknown(_) => 4,
        OrgRole::Owner => 5,
        OrgRole::PrimaryOwner => 6,
    }
}

/// Rank of a workspace role for "demotion" of protected people.
fn ws_rank(role: &WorkspaceRole) -> u8 {
    match role {
        WorkspaceRole::WorkspaceUser => 0,
        WorkspaceRole::WorkspaceRestrictedDeveloper => 1,
        WorkspaceRole::WorkspaceDeveloper => 2,
        WorkspaceRole::WorkspaceBilling => 3,
        WorkspaceRole::WorkspaceAdmin | WorkspaceRole::Unknown(_) => 4,
    }
}

/// Whether the live role already is the wanted one (`admin` is satisfied by owners).
fn role_satisfied(live: &OrgRole, wanted: &OrgRole) -> bool {
    live == wanted
        || (*wanted == OrgRole::Admin && matches!(live, OrgRole::Owner | OrgRole::PrimaryOwner))
}

fn normalized_geos(geos: &AllowedGeos) -> AllowedGeos {
    match geos {
        AllowedGeos::List(list) => {
            let mut list = list.clone();
            list.sort();
            list.dedup();
            AllowedGeos::List(list)
        }
        AllowedGeos::Unrestricted(u) => AllowedGeos::Unrestricted(*u),
    }
}

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn key_label(key: &ApiKey) -> String {
    format!("api key {} ({})", key.name, key.id)
}

impl<'a> Engine<'a> {
    fn new(m: &'a Manifest, live: &'a Snapshot, now: Timestamp) -> Self {
        let mut users_by_email = HashMap::new();
        let mut users_by_id = HashMap::new();
        for user in &live.users {
            users_by_id.insert(user.id.as_str(), user);
            users_by_email
                .entry(normalize_email(&user.email))
                .and_modify(|u: &mut &User| {
                    if user.id < u.id {
                        *u = user;
                    }
                })
                .or_insert(user);
        }
        let mut invites_by_email: BTreeMap<String, Vec<&Invite>> = BTreeMap::new();
        for invite in &live.invites {
            invites_by_email
                .entry(normalize_email(&invite.email))
                .or_default()
                .push(invite);
        }
        for list in invites_by_email.values_mut() {
            // Newest first, ties by id: "the" invite of a person is the first.
            list.sort_by(|a, b| b.invited_at.cmp(&a.invited_at).then(a.id.cmp(&b.id)));
        }
        let mut ws_by_id = HashMap::new();
        let mut ws_by_name: HashMap<&str, Vec<&Workspace>> = HashMap::new();
        for ws in &live.workspaces {
            ws_by_id.insert(ws.id.as_str(), ws);
            ws_by_name.entry(ws.name.as_str()).or_default().push(ws);
        }
        for list in ws_by_name.values_mut() {
            list.sort_by(|a, b| a.id.cmp(&b.id));
        }
        let mut wm_by_ws: HashMap<&str, Vec<&WorkspaceMember>> = HashMap::new();
        let mut wm_by_user: HashMap<&str, usize> = HashMap::new();
        for wm in &live.workspace_members {
            wm_by_ws
                .entry(wm.workspace_id.as_str())
                .or_default()
                .push(wm);
            *wm_by_user.entry(wm.user_id.as_str()).or_default() += 1;
        }
        let mut keys_by_id = HashMap::new();
        let mut keys_by_name: HashMap<&str, Vec<&ApiKey>> = HashMap::new();
        let mut keys_by_ws: HashMap<Option<&str>, Vec<&ApiKey>> = HashMap::new();
        let mut keys_by_creator: HashMap<&str, usize> = HashMap::new();
        for key in &live.api_keys {
            keys_by_id.insert(key.id.as_str(), key);
            keys_by_name.entry(key.name.as_str()).or_default().push(key);
            keys_by_ws
                .entry(key.workspace_id.as_deref())
                .or_default()
                .push(key);
            if let Some(creator) = &key.created_by
                && matches!(key.status, ApiKeyStatus::Active | ApiKeyStatus::Inactive)
            {
                *keys_by_creator.entry(creator.id.as_str()).or_default() += 1;
            }
        }
        for list in keys_by_name.values_mut() {
            list.sort_by(|a, b| a.id.cmp(&b.id));
        }
        for list in keys_by_ws.values_mut() {
            list.sort_by(|a, b| a.id.cmp(&b.id));
        }
        let protected = m
            .settings
            .protected
            .iter()
            .map(|e| normalize_email(e))
            .collect();
        let listed = m
            .members
            .iter()
            .map(|spec| (normalize_email(&spec.email), spec))
            .collect();
        let effective_role = live
            .users
            .iter()
            .map(|u| (u.id.as_str(), u.role.clone()))
            .collect();
        Self {
            m,
            live,
            now,
            aws: m.organization.platform == Platform::Aws,
            users_by_email,
            users_by_id,
            invites_by_email,
            ws_by_id,
            ws_by_name,
            wm_by_ws,
            keys_by_id,
            keys_by_name,
            keys_by_ws,
            keys_by_creator,
            wm_by_user,
            protected,
            listed,
            effective_role,
            role_update_key: HashMap::new(),
            invite_key: BTreeMap::new(),
            removed_users: BTreeSet::new(),
            ws_res: BTreeMap::new(),
            archiving: BTreeSet::new(),
            drafts: Vec::new(),
            deferred: Vec::new(),
            blocked: Vec::new(),
            unmanaged: Vec::new(),
            pending: Vec::new(),
            missing: Vec::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn is_protected(&self, email: &str) -> bool {
        self.protected.contains(&normalize_email(email))
    }

    fn invite_expired(&self, invite: &Invite) -> bool {
        match invite.status {
            InviteStatus::Expired => true,
            InviteStatus::Pending => invite.expires_at <= self.now,
            _ => false,
        }
    }

    fn invite_pending(&self, invite: &Invite) -> bool {
        invite.status == InviteStatus::Pending && invite.expires_at > self.now
    }

    fn error(&mut self, kind: PlanErrorKind, target: String, message: String, hint: &str) {
        self.errors.push(PlanError {
            kind,
            target,
            message,
            hint: Some(hint.to_owned()),
        });
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one place builds every blocked item"
    )]
    fn block(
        &mut self,
        kind: BlockedKind,
        target: String,
        field: Option<&str>,
        live: Option<Value>,
        wanted: Option<Value>,
        reason: &str,
        remedy: &str,
    ) {
        self.blocked.push(Blocked {
            kind,
            target,
            field: field.map(str::to_owned),
            live,
            wanted,
            reason: reason.to_owned(),
            remedy: remedy.to_owned(),
        });
    }

    fn unmanaged(
        &mut self,
        kind: ObjectKind,
        id: &str,
        target: String,
        reason: &str,
        protected: bool,
    ) {
        self.unmanaged.push(Unmanaged {
            kind,
            id: id.to_owned(),
            target,
            reason: reason.to_owned(),
            protected,
        });
    }

    // ----- workspaces -------------------------------------------------------------------

    fn plan_workspaces(&mut self) {
        let m = self.m;
        let mut claimed: BTreeMap<String, String> = BTreeMap::new();
        for spec in &m.workspaces {
            if self.ws_res.contains_key(&spec.name) {
                self.error(
                    PlanErrorKind::DuplicateMatch,
                    format!("workspace {}", spec.name),
                    format!("workspace {:?} is listed twice", spec.name),
                    "keep one entry per workspace",
                );
                continue;
            }
            let res = self.plan_workspace(spec);
            if let WsRes::Live { id, .. } | WsRes::Held { id } = &res
                && let Some(other) = claimed.insert(id.clone(), spec.name.clone())
            {
                self.error(
                    PlanErrorKind::DuplicateMatch,
                    format!("workspace {}", spec.name),
                    format!(
                        "workspace entries {other:?} and {:?} both match live workspace {id}",
                        spec.name
                    ),
                    "give each entry its own workspace: pin distinct ids or remove one entry",
                );
            }
            self.ws_res.insert(spec.name.clone(), res);
        }
        // Unlisted live workspaces.
        let policy = m.settings.workspaces.unmanaged;
        let mut workspaces: Vec<&Workspace> = self.live.workspaces.iter().collect();
        workspaces.sort_by(|a, b| a.id.cmp(&b.id));
        for ws in workspaces {
            if ws.is_archived() || claimed.contains_key(&ws.id) {
                continue;
            }
            match policy {
                WorkspacePolicy::Report => self.unmanaged(
                    ObjectKind::Workspace,
                    &ws.id,
                    format!("workspace {}", ws.name),
                    "not declared; settings.workspaces.unmanaged: report",
                    false,
                ),
                WorkspacePolicy::Archive if self.holds_protected_keys(ws) => self.unmanaged(
                    ObjectKind::Workspace,
                    &ws.id,
                    format!("workspace {}", ws.name),
                    "not declared; holds keys created by a protected email (settings.protected): kept",
                    true,
                ),
                WorkspacePolicy::Archive => {
                    self.archive_workspace(ws, DriftCategory::Unmanaged);
                }
            }
        }
    }

    fn plan_workspace(&mut self, spec: &WorkspaceSpec) -> WsRes {
        let target = format!("workspace {}", spec.name);
        let live: &Workspace = if let Some(id) = &spec.id {
            let Some(ws) = self.ws_by_id.get(id.as_str()).copied() else {
                self.error(
                    PlanErrorKind::UnknownWorkspaceId,
                    target,
                    format!("workspace id {id} matches no live workspace"),
                    "check the id, or remove it to match by name",
                );
                return WsRes::Error;
            };
            if ws.is_archived() {
                if spec.archived {
                    return WsRes::Live {
                        id: ws.id.clone(),
                        archiving: false,
                        archived: true,
                    };
                }
                self.error(
                    PlanErrorKind::ArchivedWorkspacePinned,
                    target,
                    format!("workspace id {id} is archived, and archiving cannot be undone"),
                    "add `archived: true` to the entry, or remove the entry (or its id) to create a new workspace",
                );
                return WsRes::Error;
            }
            ws
        } else {
            let candidates: Vec<&Workspace> = self
                .ws_by_name
                .get(spec.name.as_str())
                .map(|list| list.iter().copied().filter(|w| !w.is_archived()).collect())
                .unwrap_or_default();
            match candidates.as_slice() {
                [] => {
                    if spec.archived {
                        return WsRes::Absent;
                    }
                    return self.create_workspace(spec);
                }
                [one] => one,
                many => {
                    let ids: Vec<&str> = many.iter().map(|w| w.id.as_str()).collect();
                    self.error(
                        PlanErrorKind::AmbiguousWorkspace,
                        target,
                        format!(
                            "{} live workspaces are named {:?}: {}",
                            many.len(),
                            spec.name,
                            ids.join(", ")
                        ),
                        "pin the intended workspace with `id:`",
                    );
                    return WsRes::Error;
                }
            }
        };
        if spec.archived && self.holds_protected_keys(live) {
            self.block(
                BlockedKind::Protected,
                target,
                Some("archived"),
                Some(Value::Bool(false)),
                Some(Value::Bool(true)),
                "archiving would archive keys created by a protected email (settings.protected)",
                "move or retire those keys in the Console first, or remove the email from settings.protected",
            );
            return WsRes::Held {
                id: live.id.clone(),
            };
        }
        if spec.archived {
            self.archive_workspace(live, DriftCategory::Changed);
            return WsRes::Live {
                id: live.id.clone(),
                archiving: true,
                archived: false,
            };
        }
        self.update_workspace(spec, live);
        WsRes::Live {
            id: live.id.clone(),
            archiving: false,
            archived: false,
        }
    }

    fn create_workspace(&mut self, spec: &WorkspaceSpec) -> WsRes {
        let key = format!("ws-create:{}", spec.name);
        let mut changes = vec![change("name", None, Some(s(&spec.name)))];
        if let Some(color) = &spec.display_color {
            changes.push(change("display_color", None, Some(s(color))));
        }
        if let Some(dr) = &spec.data_residency {
            changes.push(change("data_residency", None, Some(to_value(dr))));
        }
        if let Some(tags) = &spec.tags {
            changes.push(change("tags", None, Some(to_value(tags))));
        }
        self.drafts.push(Draft {
            class: class::CREATE_WORKSPACE,
            sort_key: spec.name.clone(),
            key: key.clone(),
            op: Op::CreateWorkspace {
                name: spec.name.clone(),
                display_color: spec.display_color.clone(),
                data_residency: spec.data_residency.clone(),
                tags: spec.tags.clone().unwrap_or_default(),
            },
            target: format!("workspace {}", spec.name),
            changes,
            destructive: false,
            irreversible: false,
            deps: Vec::new(),
            consequences: Vec::new(),
            category: DriftCategory::Missing,
        });
        WsRes::Create { key }
    }

    fn update_workspace(&mut self, spec: &WorkspaceSpec, live: &Workspace) {
        let target = format!("workspace {}", spec.name);
        let mut changes = Vec::new();
        let mut name = None;
        let mut display_color = None;
        let mut data_residency = None;
        let mut tags = None;
        if spec.name != live.name {
            changes.push(change("name", Some(s(&live.name)), Some(s(&spec.name))));
            name = Some(spec.name.clone());
        }
        if let Some(color) = &spec.display_color
            && !color.eq_ignore_ascii_case(&live.display_color)
        {
            changes.push(change(
                "display_color",
                Some(s(&live.display_color)),
                Some(s(color)),
            ));
            display_color = Some(color.clone());
        }
        if let Some(dr) = &spec.data_residency {
            let live_dr = live.data_residency.as_ref();
            if let (Some(geo), Some(live_dr)) = (&dr.workspace_geo, live_dr)
                && geo != &live_dr.workspace_geo
            {
                self.block(
                    BlockedKind::WorkspaceGeo,
                    target.clone(),
                    Some("data_residency.workspace_geo"),
                    Some(s(&live_dr.workspace_geo)),
                    Some(s(geo)),
                    "a workspace's storage geography is fixed when it is created",
                    "create a new workspace in the wanted geography and move work to it",
                );
            }
            let mut differs = false;
            if let Some(allowed) = &dr.allowed_inference_geos {
                let live_allowed = live_dr.map(|d| normalized_geos(&d.allowed_inference_geos));
                if live_allowed.as_ref() != Some(&normalized_geos(allowed)) {
                    differs = true;
                    changes.push(change(
                        "data_residency.allowed_inference_geos",
                        live_dr.map(|d| to_value(&d.allowed_inference_geos)),
                        Some(to_value(allowed)),
                    ));
                }
            }
            if let Some(default) = &dr.default_inference_geo {
                let live_default = live_dr.map(|d| d.default_inference_geo.as_str());
                if live_default != Some(default.as_str()) {
                    differs = true;
                    changes.push(change(
                        "data_residency.default_inference_geo",
                        live_default.map(s),
                        Some(s(default)),
                    ));
                }
            }
            if differs {
                data_residency = Some(DataResidencySpec {
                    workspace_geo: None,
                    allowed_inference_geos: dr.allowed_inference_geos.clone(),
                    default_inference_geo: dr.default_inference_geo.clone(),
                });
            }
        }
        if let Some(wanted) = &spec.tags
            && wanted != &live.tags
        {
            changes.push(change(
                "tags",
                Some(to_value(&live.tags)),
                Some(to_value(wanted)),
            ));
            tags = Some(wanted.clone());
        }
        if changes.is_empty() {
            return;
        }
        self.drafts.push(Draft {
            class: class::UPDATE_WORKSPACE,
            sort_key: format!("{}\u{0}{}", spec.name, live.id),
            key: format!("ws-update:{}", live.id),
            op: Op::UpdateWorkspace {
                workspace_id: live.id.clone(),
                name,
                display_color,
                data_residency,
                tags,
            },
            target,
            changes,
            destructive: false,
            irreversible: false,
            deps: Vec::new(),
            consequences: Vec::new(),
            category: DriftCategory::Changed,
        });
    }

    /// Whether archiving `ws` would archive active or inactive keys of a protected email.
    fn holds_protected_keys(&self, ws: &Workspace) -> bool {
        self.keys_by_ws
            .get(&Some(ws.id.as_str()))
            .is_some_and(|keys| {
                keys.iter().any(|k| {
                    matches!(k.status, ApiKeyStatus::Active | ApiKeyStatus::Inactive)
                        && self.key_creator_protected(k)
                })
            })
    }

    fn archive_workspace(&mut self, ws: &Workspace, category: DriftCategory) {
        self.archiving.insert(ws.id.clone());
        let mut consequences = Vec::new();
        if let Some(keys) = self.keys_by_ws.get(&Some(ws.id.as_str())) {
            for key in keys {
                if matches!(key.status, ApiKeyStatus::Active | ApiKeyStatus::Inactive) {
                    consequences.push(format!(
                        "api key {} ({}) will be archived",
                        key.name, key.id
                    ));
                }
            }
        }
        self.drafts.push(Draft {
            class: class::WORKSPACE_ARCHIVE,
            sort_key: format!("{}\u{0}{}", ws.name, ws.id),
            key: format!("ws-archive:{}", ws.id),
            op: Op::ArchiveWorkspace {
                workspace_id: ws.id.clone(),
                name: ws.name.clone(),
            },
            target: format!("workspace {}", ws.name),
            changes: vec![change(
                "archived",
                Some(Value::Bool(false)),
                Some(Value::Bool(true)),
            )],
            destructive: true,
            irreversible: true,
            deps: Vec::new(),
            consequences,
            category,
        });
    }

    // ----- people -----------------------------------------------------------------------

    fn plan_people(&mut self) {
        let m = self.m;
        let mut seen = BTreeSet::new();
        for spec in &m.members {
            let email = normalize_email(&spec.email);
            if !seen.insert(email.clone()) {
                self.error(
                    PlanErrorKind::DuplicateMatch,
                    format!("member {}", spec.email),
                    format!(
                        "{} is listed twice under `members` (emails compare case-insensitively)",
                        spec.email
                    ),
                    "keep one entry per person",
                );
                continue;
            }
            if let Some(user) = self.users_by_email.get(&email).copied() {
                self.plan_member_role(spec, user);
            } else {
                self.plan_invitee(spec, &email);
            }
        }
    }

    fn plan_member_role(&mut self, spec: &MemberSpec, user: &'a User) {
        if role_satisfied(&user.role, &spec.role) {
            return;
        }
        let target = format!("member {}", spec.email);
        let before = Some(s(user.role.as_str()));
        let after = Some(s(spec.role.as_str()));
        if user.role.is_administrative() || spec.role.is_administrative() {
            self.block(
                BlockedKind::AdministrativeRole,
                target,
                Some("role"),
                before,
                after,
                "the API can neither grant nor revoke admin or owner roles",
                "change this person's role in the Console",
            );
            return;
        }
        if self.is_protected(&spec.email) && org_rank(&spec.role) <= org_rank(&user.role) {
            self.block(
                BlockedKind::Protected,
                target,
                Some("role"),
                before,
                after,
                "this email is protected (settings.protected): it is never demoted",
                "remove the email from settings.protected, or keep its current role in the manifest",
            );
            return;
        }
        let key = format!("role:{}", user.id);
        self.role_update_key.insert(user.id.as_str(), key.clone());
        self.effective_role
            .insert(user.id.as_str(), spec.role.clone());
        self.drafts.push(Draft {
            class: class::ROLE_UPDATE,
            sort_key: format!("{}\u{0}{}", normalize_email(&spec.email), user.id),
            key,
            op: Op::UpdateUserRole {
                user_id: user.id.clone(),
                email: user.email.clone(),
                role: spec.role.clone(),
            },
            target,
            changes: vec![change("role", before, after)],
            destructive: false,
            irreversible: false,
            deps: Vec::new(),
            consequences: Vec::new(),
            category: DriftCategory::Changed,
        });
    }

    fn plan_invitee(&mut self, spec: &MemberSpec, email: &str) {
        let invites: Vec<&'a Invite> = self
            .invites_by_email
            .get(email)
            .cloned()
            .unwrap_or_default();
        let pending = invites.iter().copied().find(|i| self.invite_pending(i));
        let expired = invites.iter().copied().find(|i| self.invite_expired(i));
        let target = format!("invite {}", spec.email);
        if let Some(invite) = pending
            && invite.role == spec.role
        {
            // Waiting for acceptance (even an admin invite sent from the Console).
            self.pending.push(Pending {
                kind: PendingKind::InvitePending,
                email: spec.email.clone(),
                invite_id: invite.id.clone(),
                role: invite.role.clone(),
                expires_at: invite.expires_at,
            });
            return;
        }
        if spec.role.is_administrative() {
            self.block(
                BlockedKind::AdministrativeInvite,
                target,
                Some("role"),
                pending.map(|i| s(i.role.as_str())),
                Some(s(spec.role.as_str())),
                "the API cannot invite someone with an admin or owner role",
                "invite this person from the Console, or list a non-admin role and promote them there later",
            );
            return;
        }
        if let Some(invite) = pending {
            if self.is_protected(&spec.email) && org_rank(&spec.role) <= org_rank(&invite.role) {
                self.block(
                    BlockedKind::Protected,
                    target,
                    Some("role"),
                    Some(s(invite.role.as_str())),
                    Some(s(spec.role.as_str())),
                    "this email is protected (settings.protected): it is never demoted",
                    "remove the email from settings.protected, or keep the invite's role in the manifest",
                );
                return;
            }
            let key = format!("invite:{email}");
            self.invite_key.insert(email.to_owned(), key.clone());
            self.drafts.push(Draft {
                class: class::INVITE,
                sort_key: email.to_owned(),
                key,
                op: Op::ReplaceInvite {
                    invite_id: invite.id.clone(),
                    email: spec.email.clone(),
                    role: spec.role.clone(),
                },
                target,
                changes: vec![change(
                    "role",
                    Some(s(invite.role.as_str())),
                    Some(s(spec.role.as_str())),
                )],
                destructive: false,
                irreversible: false,
                deps: Vec::new(),
                consequences: vec![format!(
                    "invite {} is deleted and a new one is sent; the 21 days start again",
                    invite.id
                )],
                category: DriftCategory::Changed,
            });
            return;
        }
        let mut consequences = Vec::new();
        let mut changes = vec![change("role", None, Some(s(spec.role.as_str())))];
        if let Some(old) = expired {
            if !self.m.settings.invites.reissue_expired {
                self.pending.push(Pending {
                    kind: PendingKind::InviteExpired,
                    email: spec.email.clone(),
                    invite_id: old.id.clone(),
                    role: old.role.clone(),
                    expires_at: old.expires_at,
                });
                return;
            }
            changes.insert(0, change("status", Some(s("expired")), Some(s("pending"))));
            consequences.push(format!("re-issues expired invite {}", old.id));
        }
        let key = format!("invite:{email}");
        self.invite_key.insert(email.to_owned(), key.clone());
        self.drafts.push(Draft {
            class: class::INVITE,
            sort_key: email.to_owned(),
            key,
            op: Op::CreateInvite {
                email: spec.email.clone(),
                role: spec.role.clone(),
            },
            target,
            changes,
            destructive: false,
            irreversible: false,
            deps: Vec::new(),
            consequences,
            category: DriftCategory::Missing,
        });
    }

    fn plan_unlisted_users(&mut self) {
        let policy = self.m.settings.members.unmanaged;
        let mut users: Vec<&'a User> = self.users_by_email.values().copied().collect();
        users.sort_by(|a, b| a.id.cmp(&b.id));
        for user in users {
            let email = normalize_email(&user.email);
            if self.listed.contains_key(&email) {
                continue;
            }
            let target = format!("member {}", user.email);
            if self.is_protected(&user.email) {
                self.unmanaged(
                    ObjectKind::Member,
                    &user.id,
                    target,
                    "not declared; protected (settings.protected): kept",
                    true,
                );
                continue;
            }
            match policy {
                MemberPolicy::Report => self.unmanaged(
                    ObjectKind::Member,
                    &user.id,
                    target,
                    "not declared; settings.members.unmanaged: report",
                    false,
                ),
                MemberPolicy::Remove if user.role.is_administrative() => self.block(
                    BlockedKind::AdministrativeRemoval,
                    target,
                    None,
                    Some(s(user.role.as_str())),
                    None,
                    "admins and owners cannot be removed through the API",
                    "list this person in the manifest, or remove them in the Console",
                ),
                MemberPolicy::Remove => {
                    self.removed_users.insert(user.id.as_str());
                    let mut consequences = Vec::new();
                    if let Some(n) = self.wm_by_user.get(user.id.as_str()) {
                        consequences
                            .push(format!("{n} explicit workspace membership(s) end with it"));
                    }
                    if let Some(n) = self.keys_by_creator.get(user.id.as_str()) {
                        consequences.push(format!(
                            "{n} api key(s) this person created keep their status (Claude Code keys stop working)"
                        ));
                    }
                    self.drafts.push(Draft {
                        class: class::MEMBER_REMOVAL,
                        sort_key: format!("{email}\u{0}{}", user.id),
                        key: format!("remove-user:{}", user.id),
                        op: Op::RemoveUser {
                            user_id: user.id.clone(),
                            email: user.email.clone(),
                        },
                        target,
                        changes: vec![change("role", Some(s(user.role.as_str())), None)],
                        destructive: true,
                        irreversible: false,
                        deps: Vec::new(),
                        consequences,
                        category: DriftCategory::Unmanaged,
                    });
                }
            }
        }
    }

    fn plan_unlisted_invites(&mut self) {
        let policy = self.m.settings.invites.unmanaged;
        let mut found: Vec<&'a Invite> = Vec::new();
        for (email, invites) in &self.invites_by_email {
            if self.listed.contains_key(email) || self.users_by_email.contains_key(email) {
                continue;
            }
            found.extend(invites.iter().copied().filter(|i| self.invite_pending(i)));
        }
        for invite in found {
            let target = format!("invite {}", invite.email);
            if self.is_protected(&invite.email) {
                self.unmanaged(
                    ObjectKind::Invite,
                    &invite.id,
                    target,
                    "not declared; protected (settings.protected): kept",
                    true,
                );
                continue;
            }
            match policy {
                InvitePolicy::Report => self.unmanaged(
                    ObjectKind::Invite,
                    &invite.id,
                    target,
                    "not declared; settings.invites.unmanaged: report",
                    false,
                ),
                InvitePolicy::Revoke => self.drafts.push(Draft {
                    class: class::INVITE_REVOCATION,
                    sort_key: format!("{}\u{0}{}", normalize_email(&invite.email), invite.id),
                    key: format!("revoke:{}", invite.id),
                    op: Op::RevokeInvite {
                        invite_id: invite.id.clone(),
                        email: invite.email.clone(),
                    },
                    target,
                    changes: vec![change("status", Some(s("pending")), Some(s("deleted")))],
                    destructive: true,
                    irreversible: false,
                    deps: Vec::new(),
                    consequences: Vec::new(),
                    category: DriftCategory::Unmanaged,
                }),
            }
        }
    }

    // ----- workspace members ------------------------------------------------------------

    fn plan_workspace_members(&mut self) {
        let m = self.m;
        let policy = m.settings.workspace_members.unmanaged;
        for spec in &m.workspaces {
            let Some(members) = &spec.members else {
                continue;
            };
            let (ws_ref, live_id, create_key) = match self.ws_res.get(&spec.name).cloned() {
                Some(WsRes::Live {
                    id,
                    archiving: false,
                    archived: false,
                }) => (WorkspaceRef::Id(id.clone()), Some(id), None),
                Some(WsRes::Create { key }) => (
                    WorkspaceRef::Created {
                        name: spec.name.clone(),
                    },
                    None,
                    Some(key),
                ),
                _ => continue,
            };
            let live_members: BTreeMap<&str, &WorkspaceMember> = live_id
                .as_deref()
                .and_then(|id| self.wm_by_ws.get(id))
                .map(|list| list.iter().map(|wm| (wm.user_id.as_str(), *wm)).collect())
                .unwrap_or_default();
            let mut wanted_users: BTreeSet<&str> = BTreeSet::new();
            let mut seen = BTreeSet::new();
            for (email, role) in members {
                if !seen.insert(normalize_email(email)) {
                    self.error(
                        PlanErrorKind::DuplicateMatch,
                        format!("workspace member {email} in {}", spec.name),
                        format!("{email} is listed twice in workspace {:?} (emails compare case-insensitively)", spec.name),
                        "keep one entry per person",
                    );
                    continue;
                }
                if let Some(user_id) = self.plan_workspace_member(
                    spec,
                    &ws_ref,
                    create_key.as_deref(),
                    &live_members,
                    email,
                    role,
                ) {
                    wanted_users.insert(user_id);
                }
            }
            let Some(ws_id) = live_id else { continue };
            for (user_id, wm) in &live_members {
                if wanted_users.contains(user_id) || self.removed_users.contains(user_id) {
                    continue;
                }
                let user = self.users_by_id.get(user_id).copied();
                let email = user.map_or_else(|| (*user_id).to_owned(), |u| u.email.clone());
                let target = format!("workspace member {email} in {}", spec.name);
                let id = format!("{ws_id}/{user_id}");
                if user.is_some_and(|u| self.is_protected(&u.email)) {
                    self.unmanaged(
                        ObjectKind::WorkspaceMember,
                        &id,
                        target,
                        "not declared; protected (settings.protected): kept",
                        true,
                    );
                    continue;
                }
                if let Some(role) = self.effective_role.get(user_id)
                    && role.implicit_workspace_role().is_some()
                {
                    self.unmanaged(
                        ObjectKind::WorkspaceMember,
                        &id,
                        target,
                        "not declared; org admins and billing members cannot be removed from a workspace",
                        false,
                    );
                    continue;
                }
                match policy {
                    WorkspaceMemberPolicy::Report => self.unmanaged(
                        ObjectKind::WorkspaceMember,
                        &id,
                        target,
                        "not declared; settings.workspace_members.unmanaged: report",
                        false,
                    ),
                    WorkspaceMemberPolicy::Remove => self.drafts.push(Draft {
                        class: class::WORKSPACE_MEMBER_REMOVAL,
                        sort_key: format!(
                            "{}\u{0}{}\u{0}{user_id}",
                            spec.name,
                            normalize_email(&email)
                        ),
                        key: format!("wm-remove:{ws_id}/{user_id}"),
                        op: Op::RemoveWorkspaceMember {
                            workspace_id: ws_id.clone(),
                            user_id: (*user_id).to_owned(),
                            email,
                        },
                        target,
                        changes: vec![change(
                            "workspace_role",
                            Some(s(wm.workspace_role.as_str())),
                            None,
                        )],
                        destructive: true,
                        irreversible: false,
                        deps: Vec::new(),
                        consequences: Vec::new(),
                        category: DriftCategory::Unmanaged,
                    }),
                }
            }
        }
    }

    /// Plans one `email: role` of a workspace; returns the live user id it accounts for.
    fn plan_workspace_member(
        &mut self,
        spec: &WorkspaceSpec,
        ws_ref: &WorkspaceRef,
        create_key: Option<&str>,
        live_members: &BTreeMap<&str, &'a WorkspaceMember>,
        email: &str,
        role: &WorkspaceRole,
    ) -> Option<&'a str> {
        let norm = normalize_email(email);
        let target = format!("workspace member {email} in {}", spec.name);
        let user = self.users_by_email.get(&norm).copied();
        let listed = self.listed.get(&norm).copied();
        // The org role this person will hold after this plan.
        let org_role = match (user, listed) {
            (Some(u), _) => self.effective_role.get(u.id.as_str()).cloned(),
            (None, Some(spec)) => Some(spec.role.clone()),
            (None, None) => None,
        };
        let Some(org_role) = org_role else {
            self.error(
                PlanErrorKind::UndeclaredWorkspaceMember,
                target,
                format!("{email} is neither listed under `members` nor a live member of the organization"),
                "add the person under `members`, or remove them from the workspace",
            );
            return None;
        };
        if user.is_some() && listed.is_none() && org_role.implicit_workspace_role().is_none() {
            self.error(
                PlanErrorKind::UndeclaredWorkspaceMember,
                target,
                format!("{email} is not listed under `members` (only org admins and billing members may be left out)"),
                "add the person under `members`",
            );
            return user.map(|u| u.id.as_str());
        }
        // An explicit membership that already has the wanted role needs nothing, whatever
        // the org role (a developer promoted to billing keeps explicit memberships).
        if let Some(u) = user
            && live_members
                .get(u.id.as_str())
                .is_some_and(|wm| wm.workspace_role == *role)
        {
            return Some(u.id.as_str());
        }
        if let Some(implicit) = org_role.implicit_workspace_role() {
            if *role == implicit {
                return user.map(|u| u.id.as_str());
            }
            let upgrade = implicit == WorkspaceRole::WorkspaceBilling
                && *role == WorkspaceRole::WorkspaceAdmin;
            if !upgrade {
                self.block(
                    BlockedKind::ImplicitWorkspaceRole,
                    target,
                    Some("workspace_role"),
                    Some(s(implicit.as_str())),
                    Some(s(role.as_str())),
                    &format!(
                        "as an org {org_role} this person is implicitly {implicit} in every workspace, which the API cannot change"
                    ),
                    &format!("declare {implicit} (or remove the entry), or change the org role first"),
                );
                return user.map(|u| u.id.as_str());
            }
        }
        if *role == WorkspaceRole::WorkspaceBilling || !role.is_known() {
            self.block(
                BlockedKind::ImplicitWorkspaceRole,
                target,
                Some("workspace_role"),
                None,
                Some(s(role.as_str())),
                "workspace_billing is only inherited from the org billing role, and unknown roles cannot be granted",
                "declare workspace_user, workspace_restricted_developer, workspace_developer or workspace_admin",
            );
            return user.map(|u| u.id.as_str());
        }
        let Some(user) = user else {
            let waits_for = self.invite_key.get(&norm).cloned();
            let pending = self
                .invites_by_email
                .get(&norm)
                .and_then(|list| list.iter().find(|i| self.invite_pending(i)));
            let reason = match (&waits_for, pending) {
                (Some(_), _) => "waits for the invite this plan sends to be accepted".to_owned(),
                (None, Some(invite)) => {
                    format!("waits for the person to accept invite {}", invite.id)
                }
                (None, None) => "waits for the person to join; no invite is outstanding".to_owned(),
            };
            self.deferred.push(DraftDeferred {
                item: Deferred {
                    target,
                    email: email.to_owned(),
                    workspace: spec.name.clone(),
                    role: role.clone(),
                    reason,
                    waits_for_action: None,
                },
                waits_for,
            });
            return None;
        };
        let mut deps: Vec<String> = create_key.map(str::to_owned).into_iter().collect();
        if let Some(key) = self.role_update_key.get(user.id.as_str()) {
            deps.push(key.clone());
        }
        let sort_key = format!("{}\u{0}{norm}\u{0}{}", spec.name, user.id);
        match live_members.get(user.id.as_str()) {
            Some(wm) if wm.workspace_role == *role => {}
            Some(wm) => {
                if self.is_protected(email) && ws_rank(role) <= ws_rank(&wm.workspace_role) {
                    self.block(
                        BlockedKind::Protected,
                        target,
                        Some("workspace_role"),
                        Some(s(wm.workspace_role.as_str())),
                        Some(s(role.as_str())),
                        "this email is protected (settings.protected): it is never demoted",
                        "remove the email from settings.protected, or keep its workspace role",
                    );
                    return Some(user.id.as_str());
                }
                self.drafts.push(Draft {
                    class: class::WORKSPACE_MEMBER,
                    sort_key,
                    key: format!("wm:{}/{}", wm.workspace_id, user.id),
                    op: Op::UpdateWorkspaceMember {
                        workspace_id: wm.workspace_id.clone(),
                        user_id: user.id.clone(),
                        email: user.email.clone(),
                        role: role.clone(),
                    },
                    target,
                    changes: vec![change(
                        "workspace_role",
                        Some(s(wm.workspace_role.as_str())),
                        Some(s(role.as_str())),
                    )],
                    destructive: false,
                    irreversible: false,
                    deps,
                    consequences: Vec::new(),
                    category: DriftCategory::Changed,
                });
            }
            None => {
                self.drafts.push(Draft {
                    class: class::WORKSPACE_MEMBER,
                    sort_key,
                    key: format!("wm:{}/{}", spec.name, user.id),
                    op: Op::AddWorkspaceMember {
                        workspace: ws_ref.clone(),
                        user_id: user.id.clone(),
                        email: user.email.clone(),
                        role: role.clone(),
                    },
                    target,
                    changes: vec![change("workspace_role", None, Some(s(role.as_str())))],
                    destructive: false,
                    irreversible: false,
                    deps,
                    consequences: Vec::new(),
                    category: DriftCategory::Missing,
                });
            }
        }
        Some(user.id.as_str())
    }

    // ----- api keys ---------------------------------------------------------------------

    /// Resolves a key entry's `workspace:`.
    fn key_workspace(&mut self, spec: &ApiKeySpec, label: &str) -> KeyWs {
        let Some(name) = &spec.workspace else {
            return KeyWs::Any;
        };
        if name == "default" {
            return KeyWs::In(None);
        }
        match self.ws_res.get(name) {
            Some(WsRes::Live { id, .. } | WsRes::Held { id }) => {
                return KeyWs::In(Some(id.clone()));
            }
            Some(WsRes::Create { .. }) => return KeyWs::Nowhere,
            Some(WsRes::Error) => return KeyWs::Error,
            // `archived: true` with no active namesake: its keys live in the archived one.
            Some(WsRes::Absent) | None => {}
        }
        let all: Vec<&Workspace> = self
            .ws_by_name
            .get(name.as_str())
            .cloned()
            .unwrap_or_default();
        let active: Vec<&Workspace> = all.iter().copied().filter(|w| !w.is_archived()).collect();
        let chosen = match (active.as_slice(), all.as_slice()) {
            ([one], _) | ([], [one]) => one,
            ([], []) => return KeyWs::Nowhere,
            _ => {
                self.error(
                    PlanErrorKind::AmbiguousKeyWorkspace,
                    label.to_owned(),
                    format!("{} live workspaces are named {name:?}", all.len()),
                    "match the key by `id:` instead",
                );
                return KeyWs::Error;
            }
        };
        KeyWs::In(Some(chosen.id.clone()))
    }

    fn plan_api_keys(&mut self) {
        let m = self.m;
        let mut matched: BTreeMap<String, String> = BTreeMap::new();
        for spec in &m.api_keys {
            let label = match (&spec.id, &spec.name) {
                (Some(id), _) => format!("api key {id}"),
                (None, Some(name)) => match &spec.workspace {
                    Some(ws) => format!("api key {name} in {ws}"),
                    None => format!("api key {name}"),
                },
                (None, None) => continue,
            };
            let key: &'a ApiKey = if let Some(id) = &spec.id {
                let Some(key) = self.keys_by_id.get(id.as_str()).copied() else {
                    self.error(
                        PlanErrorKind::UnknownApiKeyId,
                        label,
                        format!("api key id {id} matches no live key"),
                        "check the id; keys are created only in the Console",
                    );
                    continue;
                };
                key
            } else {
                let name = spec.name.as_deref().unwrap_or_default();
                let ws_filter = self.key_workspace(spec, &label);
                let candidates: Vec<&'a ApiKey> = match &ws_filter {
                    KeyWs::Error => continue,
                    KeyWs::Nowhere => Vec::new(),
                    KeyWs::Any | KeyWs::In(_) => self
                        .keys_by_name
                        .get(name)
                        .map(|list| {
                            list.iter()
                                .copied()
                                .filter(|k| match &ws_filter {
                                    KeyWs::In(ws) => k.workspace_id == *ws,
                                    _ => true,
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                };
                match candidates.as_slice() {
                    [] => {
                        self.missing.push(Missing {
                            kind: ObjectKind::ApiKey,
                            target: label,
                            reason:
                                "no live key has this name; keys are created only in the Console"
                                    .to_owned(),
                        });
                        continue;
                    }
                    [one] => one,
                    many => {
                        let ids: Vec<&str> = many.iter().map(|k| k.id.as_str()).collect();
                        self.error(
                            PlanErrorKind::AmbiguousApiKey,
                            label,
                            format!("{} live keys match: {}", many.len(), ids.join(", ")),
                            "match the key by `id:`, or narrow it with `workspace:`",
                        );
                        continue;
                    }
                }
            };
            if let Some(other) = matched.insert(key.id.clone(), label.clone()) {
                self.error(
                    PlanErrorKind::DuplicateMatch,
                    label,
                    format!("entries {other:?} and this one both match {}", key.id),
                    "keep one entry per key",
                );
                continue;
            }
            self.plan_key(spec, key);
        }
        self.plan_unlisted_keys(&matched);
    }

    fn key_creator_protected(&self, key: &ApiKey) -> bool {
        key.created_by
            .as_ref()
            .and_then(|c| self.users_by_id.get(c.id.as_str()))
            .is_some_and(|u| self.is_protected(&u.email))
    }

    fn plan_key(&mut self, spec: &ApiKeySpec, key: &'a ApiKey) {
        let target = key_label(key);
        let in_archiving = key
            .workspace_id
            .as_ref()
            .is_some_and(|w| self.archiving.contains(w));
        let ws_archived = key
            .workspace_id
            .as_deref()
            .and_then(|w| self.ws_by_id.get(w))
            .is_some_and(|w| w.is_archived());
        if in_archiving && spec.status == Some(ApiKeyStatus::Active) {
            self.block(
                BlockedKind::KeyInArchivedWorkspace,
                target,
                Some("status"),
                Some(s(key.status.as_str())),
                Some(s("active")),
                "this plan archives the key's workspace, which archives every key in it",
                "keep the workspace, or drop `status: active` from the key entry",
            );
            return;
        }
        // In a workspace that is archived (or that this plan archives), a key that is off, or
        // that the archive switches off, already is what `inactive` or `archived` asks for:
        // the archive did it, and the plan after an archive must not plan or block on it.
        let off = |status: &ApiKeyStatus| {
            matches!(
                status,
                ApiKeyStatus::Inactive | ApiKeyStatus::Archived | ApiKeyStatus::Expired
            )
        };
        let wanted_status = spec.status.as_ref().filter(|wanted| {
            let settled = (ws_archived || in_archiving)
                && matches!(wanted, ApiKeyStatus::Inactive | ApiKeyStatus::Archived)
                && (in_archiving || off(&key.status));
            **wanted != key.status && !settled
        });
        let mut changes = Vec::new();
        let mut new_name = None;
        let mut new_status = None;
        if spec.id.is_some()
            && let Some(name) = &spec.name
            && name != &key.name
        {
            changes.push(change("name", Some(s(&key.name)), Some(s(name))));
            new_name = Some(name.clone());
        }
        if let Some(wanted) = wanted_status {
            let before = Some(s(key.status.as_str()));
            let after = Some(s(wanted.as_str()));
            let blocked = match (&key.status, wanted) {
                (_, ApiKeyStatus::Expired | ApiKeyStatus::Unknown(_)) => Some((
                    BlockedKind::UnsupportedStatus,
                    "the API can only set active, inactive or archived",
                    "use one of active, inactive, archived",
                )),
                (ApiKeyStatus::Unknown(_), _) => Some((
                    BlockedKind::UnsupportedStatus,
                    "the live status is one this version of orgform does not know",
                    "check the key in the Console",
                )),
                (ApiKeyStatus::Archived, _) => Some((
                    BlockedKind::ArchivedKey,
                    "an archived key cannot be reactivated",
                    "create a new key in the Console and set `status: archived` on this entry",
                )),
                (ApiKeyStatus::Expired, ApiKeyStatus::Active) => Some((
                    BlockedKind::ExpiredKey,
                    "an expired key cannot be reactivated",
                    "create a new key in the Console",
                )),
                (_, ApiKeyStatus::Active) if ws_archived => Some((
                    BlockedKind::KeyInArchivedWorkspace,
                    "the key's workspace is archived",
                    "create a key in an active workspace",
                )),
                (_, ApiKeyStatus::Inactive | ApiKeyStatus::Archived)
                    if self.key_creator_protected(key) =>
                {
                    Some((
                        BlockedKind::Protected,
                        "the key's creator is protected (settings.protected): their keys are never deactivated",
                        "remove the email from settings.protected, or keep the key active",
                    ))
                }
                _ => None,
            };
            if let Some((kind, reason, remedy)) = blocked {
                self.block(
                    kind,
                    target.clone(),
                    Some("status"),
                    before,
                    after,
                    reason,
                    remedy,
                );
            } else if !(key.status == ApiKeyStatus::Expired && *wanted == ApiKeyStatus::Inactive) {
                changes.push(change("status", before, after));
                new_status = Some(wanted.clone());
            }
        }
        if changes.is_empty() {
            return;
        }
        let destructive = matches!(
            new_status,
            Some(ApiKeyStatus::Inactive | ApiKeyStatus::Archived)
        );
        let irreversible = new_status == Some(ApiKeyStatus::Archived);
        self.drafts.push(Draft {
            class: if destructive {
                class::KEY_DESTRUCTIVE
            } else {
                class::KEY_CONSTRUCTIVE
            },
            sort_key: format!("{}\u{0}{}", key.name, key.id),
            key: format!("key:{}", key.id),
            op: Op::UpdateApiKey {
                key_id: key.id.clone(),
                name: new_name,
                status: new_status,
            },
            target,
            changes,
            destructive,
            irreversible,
            deps: Vec::new(),
            consequences: Vec::new(),
            category: DriftCategory::Changed,
        });
    }

    fn plan_unlisted_keys(&mut self, matched: &BTreeMap<String, String>) {
        let policy = self.m.settings.api_keys.unmanaged;
        if policy == ApiKeyPolicy::Ignore {
            return;
        }
        let mut keys: Vec<&'a ApiKey> = self.live.api_keys.iter().collect();
        keys.sort_by(|a, b| a.id.cmp(&b.id));
        for key in keys {
            if matched.contains_key(&key.id)
                || !matches!(key.status, ApiKeyStatus::Active | ApiKeyStatus::Inactive)
                || key
                    .workspace_id
                    .as_ref()
                    .is_some_and(|w| self.archiving.contains(w))
            {
                continue;
            }
            let target = key_label(key);
            let protected = self.key_creator_protected(key);
            if policy == ApiKeyPolicy::Report || key.status == ApiKeyStatus::Inactive || protected {
                let reason = if protected {
                    "not declared; created by a protected email (settings.protected): kept"
                } else if policy == ApiKeyPolicy::Report {
                    "not declared; settings.api_keys.unmanaged: report"
                } else {
                    "not declared; already inactive"
                };
                self.unmanaged(ObjectKind::ApiKey, &key.id, target, reason, protected);
                continue;
            }
            self.drafts.push(Draft {
                class: class::KEY_DESTRUCTIVE,
                sort_key: format!("{}\u{0}{}", key.name, key.id),
                key: format!("key:{}", key.id),
                op: Op::UpdateApiKey {
                    key_id: key.id.clone(),
                    name: None,
                    status: Some(ApiKeyStatus::Inactive),
                },
                target,
                changes: vec![change("status", Some(s("active")), Some(s("inactive")))],
                destructive: true,
                irreversible: false,
                deps: Vec::new(),
                consequences: Vec::new(),
                category: DriftCategory::Unmanaged,
            });
        }
    }

    // ----- finishing --------------------------------------------------------------------

    fn finish(mut self, mut plan: Plan, options: &PlanOptions) -> Outcome {
        // Sort keys carry ids, so they are unique; the draft key breaks any tie all the same,
        // so that no input order can leak into the plan.
        self.drafts
            .sort_by(|a, b| (a.class, &a.sort_key, &a.key).cmp(&(b.class, &b.sort_key, &b.key)));
        let ids: HashMap<&str, u32> = self
            .drafts
            .iter()
            .enumerate()
            .map(|(i, d)| (d.key.as_str(), u32::try_from(i + 1).unwrap_or(u32::MAX)))
            .collect();
        let mut categories = Vec::with_capacity(self.drafts.len());
        let mut actions = Vec::with_capacity(self.drafts.len());
        for (i, draft) in self.drafts.iter().enumerate() {
            let mut depends_on: Vec<u32> = draft
                .deps
                .iter()
                .filter_map(|k| ids.get(k.as_str()).copied())
                .collect();
            depends_on.sort_unstable();
            depends_on.dedup();
            categories.push(draft.category);
            actions.push(Action {
                id: u32::try_from(i + 1).unwrap_or(u32::MAX),
                op: draft.op.clone(),
                target: draft.target.clone(),
                changes: draft.changes.clone(),
                destructive: draft.destructive,
                irreversible: draft.irreversible,
                depends_on,
                consequences: draft.consequences.clone(),
            });
        }
        let mut deferred: Vec<Deferred> = self
            .deferred
            .into_iter()
            .map(|d| {
                let mut item = d.item;
                item.waits_for_action = d.waits_for.and_then(|k| ids.get(k.as_str()).copied());
                item
            })
            .collect();
        deferred.sort_by(|a, b| (&a.workspace, &a.email).cmp(&(&b.workspace, &b.email)));
        self.blocked
            .sort_by(|a, b| (&a.target, &a.field, a.kind).cmp(&(&b.target, &b.field, b.kind)));
        self.unmanaged
            .sort_by(|a, b| (a.kind, &a.target, &a.id).cmp(&(b.kind, &b.target, &b.id)));
        self.pending.sort_by(|a, b| {
            (normalize_email(&a.email), &a.invite_id)
                .cmp(&(normalize_email(&b.email), &b.invite_id))
        });
        self.missing.sort_by(|a, b| a.target.cmp(&b.target));
        self.errors
            .sort_by(|a, b| (&a.target, a.kind, &a.message).cmp(&(&b.target, b.kind, &b.message)));

        plan.blocked = self.blocked;
        plan.unmanaged = self.unmanaged;
        plan.pending = self.pending;
        plan.missing = self.missing;
        plan.warnings = self.warnings;
        if self.errors.is_empty() {
            plan.refusals = limits::check(self.m, self.live, &actions, options.allow_destructive);
            plan.actions = actions;
            plan.deferred = deferred;
        } else {
            plan.errors = self.errors;
            categories.clear();
        }
        plan.summary = summarize(&plan);
        plan.actions_digest = crate::actions_digest(&plan.actions);
        Outcome { plan, categories }
    }
}

/// Counts a plan's parts.
pub(crate) fn summarize(plan: &Plan) -> Summary {
    let mut summary = Summary::default();
    for action in &plan.actions {
        match action.kind() {
            ChangeKind::Add => summary.add += 1,
            ChangeKind::Change => summary.change += 1,
            ChangeKind::Remove => summary.remove += 1,
            ChangeKind::Replace => summary.replace += 1,
        }
        summary.irreversible += u32::from(action.irreversible);
        summary.destructive += u32::from(action.destructive);
    }
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    summary.deferred = count(plan.deferred.len());
    summary.blocked = count(plan.blocked.len());
    summary.unmanaged = count(plan.unmanaged.len());
    summary.pending = count(plan.pending.len());
    summary.missing = count(plan.missing.len());
    summary.errors = count(plan.errors.len());
    summary
}
