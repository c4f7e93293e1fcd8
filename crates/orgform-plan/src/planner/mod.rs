//! The engine behind [`crate::plan`] and [`crate::drift`]: it indexes the live snapshot once
//! (by normalised email and by id, so planning stays near-linear), walks the manifest's rules
//! in `docs/manifest.md` ("Meaning") and collects draft actions that are sorted into the
//! documented order at the end.
//!
//! The rules live with their object kind: [`workspaces`], [`people`] (members and invites),
//! [`workspace_members`], [`keys`] and [`service_accounts`]; each module's documentation lists the decisions the
//! contract leaves open for its kind, taken conservatively. This module holds what they
//! share: the indexes, the draft actions, the documented order and the limits check.
//!
//! - On `platform: aws` only workspaces exist, so members, invites and keys are not planned.
//! - The validator rejects duplicate emails and workspace names; should a merged manifest
//!   still carry one, it is a plan error here rather than two conflicting actions.
//!
//! Order and determinism: each draft action gets its class (the documented order) and a sort
//! key that always contains an id; actions are sorted by (class, sort key) and numbered from
//! 1, so reordering the manifest or the live lists never changes the plan. `depends_on` holds
//! what must succeed first: a grant in a workspace this plan creates depends on the creation,
//! a grant to a person whose org role this plan changes depends on that change. Dependencies
//! always point to earlier classes, so the numbering respects them.

mod expiry;
mod federation;
mod federation_rules;
mod keys;
mod people;
mod service_accounts;
mod staged;
mod workspace_members;
mod workspaces;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::Timestamp;
use orgform_manifest::{Manifest, MemberSpec, Platform, Source};
use orgform_model::{
    ApiKey, ApiKeyStatus, Invite, InviteStatus, OrgRole, Snapshot, User, Workspace,
    WorkspaceMember, normalize_email,
};
use serde_json::Value;

use crate::limits;
use crate::types::{
    Action, Blocked, BlockedKind, ChangeKind, Deferred, Expiring, FORMAT_VERSION, FieldChange,
    Missing, NoAccessRecord, ObjectKind, Op, Pending, Plan, PlanError, PlanErrorKind, Refusal,
    Staged, Summary, Unmanaged,
};
use crate::{DriftCategory, PlanOptions};

/// Execution classes, in the documented order.
mod class {
    pub const CREATE_WORKSPACE: u8 = 0;
    pub const UPDATE_WORKSPACE: u8 = 1;
    pub const SERVICE_ACCOUNT: u8 = 2;
    pub const INVITE: u8 = 3;
    pub const ROLE_UPDATE: u8 = 4;
    pub const WORKSPACE_MEMBER: u8 = 5;
    pub const SERVICE_ACCOUNT_MEMBER: u8 = 6;
    pub const KEY_CONSTRUCTIVE: u8 = 7;
    pub const KEY_DESTRUCTIVE: u8 = 8;
    pub const WORKSPACE_MEMBER_REMOVAL: u8 = 9;
    pub const SERVICE_ACCOUNT_MEMBER_REMOVAL: u8 = 10;
    pub const INVITE_REVOCATION: u8 = 11;
    pub const MEMBER_REMOVAL: u8 = 12;
    pub const WORKSPACE_ARCHIVE: u8 = 13;
    pub const FEDERATION_ISSUER: u8 = 14;
    pub const FEDERATION_RULE: u8 = 15;
    pub const FEDERATION_RULE_ENABLE: u8 = 16;
    pub const FEDERATION_RULE_DISABLE: u8 = 17;
    pub const FEDERATION_RULE_ARCHIVE: u8 = 18;
    /// After rule archives: the API refuses to archive a service account a live rule targets.
    pub const SERVICE_ACCOUNT_ARCHIVE: u8 = 19;
    pub const FEDERATION_ISSUER_ARCHIVE: u8 = 20;
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
    source: Option<Source>,
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
    /// What the running credential says about the pipeline it belongs to.
    pipeline: crate::Pipeline,
    /// `--archive-protected-service-accounts`: the protection of
    /// `settings.protected_service_accounts` is lifted for archives in this run.
    archive_protected_service_accounts: bool,
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
    /// Active keys by the id of the user who created them.
    active_keys_by_creator: HashMap<&'a str, Vec<&'a ApiKey>>,
    /// Explicit workspace memberships by user id.
    wm_by_user: HashMap<&'a str, Vec<&'a WorkspaceMember>>,
    /// The audit snapshot's record of members without access (`--audit-snapshot`).
    no_access: Option<&'a NoAccessRecord>,
    /// Wanted status of each key a key entry matched, by key id (`None`: not managed).
    declared_keys: HashMap<&'a str, Option<ApiKeyStatus>>,
    /// People whose staged removal is in its first stage, planned after the keys.
    leaving: Vec<staged::Leaving<'a>>,
    /// Where each staged removal stands.
    staged: Vec<Staged>,
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
    /// Normalised emails whose member entry has expired (their grants are not planned).
    expired: BTreeSet<String>,
    /// Entries with `expires` still in force.
    expiring: Vec<Expiring>,
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
    /// Where the manifest asks for what is being planned now: cited by the actions, blocked
    /// items and plan errors made until it is set again.
    here: Option<Source>,
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
        expiring: Vec::new(),
        staged: Vec::new(),
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
    engine.pipeline = options.pipeline.clone();
    engine.archive_protected_service_accounts = options.archive_protected_service_accounts;
    engine.no_access = options.no_access.as_ref();
    if let Some(name) = &manifest.organization.name
        && name != &live.organization.name
    {
        engine.warnings.push(format!(
            "organization name differs: the manifest says {name:?}, the live organization is {:?}",
            live.organization.name
        ));
    }
    if let Some(warning) = clock_warning(options) {
        engine.warnings.push(warning);
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
        engine.plan_service_accounts(options);
        engine.plan_staged_access();
    }
    if !manifest.federation.is_empty() {
        engine.plan_federation();
    }
    engine.hold_service_accounts_in_use();
    engine.here = None;
    engine.finish(plan, options)
}

/// The warning a plan carries when the local clock and the API's differ by more than a
/// minute: the plan is right (it runs on the API's clock), but the machine's clock is off.
fn clock_warning(options: &PlanOptions) -> Option<String> {
    let skew = options.clock_skew?;
    let size = skew.unsigned_abs();
    if size <= std::time::Duration::from_secs(60) {
        return None;
    }
    let secs = size.as_secs();
    let amount = match secs {
        s if s >= 2 * 86_400 => format!("{} days", s / 86_400),
        s if s >= 2 * 3_600 => format!("{} hours", s / 3_600),
        s if s >= 2 * 60 => format!("{} minutes", s / 60),
        s => format!("{s} seconds"),
    };
    let direction = if skew.is_positive() {
        "behind"
    } else {
        "ahead of"
    };
    Some(format!(
        "clock skew: the local clock is {amount} {direction} the API's clock; invite expiry and key age are judged by the API's clock ({})",
        options.now
    ))
}

/// Whether a listed membership is the one the person's live org role gives them in every
/// workspace (an org admin's `workspace_admin`, a billing member's `workspace_billing`): the
/// API may list it, but it is implicit, not an explicit membership.
pub(crate) fn is_implicit(user: &User, wm: &WorkspaceMember) -> bool {
    user.role.implicit_workspace_role().as_ref() == Some(&wm.workspace_role)
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

impl<'a> Engine<'a> {
    fn new(m: &'a Manifest, live: &'a Snapshot, now: Timestamp) -> Self {
        // Sized up front: an organization of 100,000 members is indexed without rehashing.
        let mut users_by_email = HashMap::with_capacity(live.users.len());
        let mut users_by_id = HashMap::with_capacity(live.users.len());
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
        let mut ws_by_id = HashMap::with_capacity(live.workspaces.len());
        let mut ws_by_name: HashMap<&str, Vec<&Workspace>> = HashMap::new();
        for ws in &live.workspaces {
            ws_by_id.insert(ws.id.as_str(), ws);
            ws_by_name.entry(ws.name.as_str()).or_default().push(ws);
        }
        for list in ws_by_name.values_mut() {
            list.sort_by(|a, b| a.id.cmp(&b.id));
        }
        let mut wm_by_ws: HashMap<&str, Vec<&WorkspaceMember>> = HashMap::new();
        let mut wm_by_user: HashMap<&str, Vec<&WorkspaceMember>> =
            HashMap::with_capacity(live.users.len());
        for wm in &live.workspace_members {
            wm_by_ws
                .entry(wm.workspace_id.as_str())
                .or_default()
                .push(wm);
            if !users_by_id
                .get(wm.user_id.as_str())
                .is_some_and(|u| is_implicit(u, wm))
            {
                wm_by_user.entry(wm.user_id.as_str()).or_default().push(wm);
            }
        }
        let mut keys_by_id = HashMap::with_capacity(live.api_keys.len());
        let mut keys_by_name: HashMap<&str, Vec<&ApiKey>> = HashMap::new();
        let mut keys_by_ws: HashMap<Option<&str>, Vec<&ApiKey>> = HashMap::new();
        let mut keys_by_creator: HashMap<&str, usize> = HashMap::new();
        let mut active_keys_by_creator: HashMap<&str, Vec<&ApiKey>> = HashMap::new();
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
            if let Some(creator) = &key.created_by
                && key.status == ApiKeyStatus::Active
            {
                active_keys_by_creator
                    .entry(creator.id.as_str())
                    .or_default()
                    .push(key);
            }
        }
        for list in keys_by_name.values_mut() {
            list.sort_by(|a, b| a.id.cmp(&b.id));
        }
        for list in keys_by_ws.values_mut() {
            list.sort_by(|a, b| a.id.cmp(&b.id));
        }
        for list in active_keys_by_creator.values_mut() {
            list.sort_by(|a, b| a.id.cmp(&b.id));
        }
        for list in wm_by_user.values_mut() {
            list.sort_by(|a, b| a.workspace_id.cmp(&b.workspace_id));
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
            pipeline: crate::Pipeline::default(),
            archive_protected_service_accounts: false,
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
            active_keys_by_creator,
            wm_by_user,
            no_access: None,
            declared_keys: HashMap::new(),
            leaving: Vec::new(),
            staged: Vec::new(),
            protected,
            listed,
            effective_role,
            role_update_key: HashMap::new(),
            invite_key: BTreeMap::new(),
            removed_users: BTreeSet::new(),
            expired: BTreeSet::new(),
            expiring: Vec::new(),
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
            here: None,
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
            source: self.here.clone(),
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
            source: self.here.clone(),
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
            implicit: false,
        });
    }

    /// Reports an implicit workspace membership the manifest does not declare.
    fn implicit(&mut self, id: &str, target: String, reason: &str, protected: bool) {
        self.unmanaged.push(Unmanaged {
            kind: ObjectKind::WorkspaceMember,
            id: id.to_owned(),
            target,
            reason: reason.to_owned(),
            protected,
            implicit: true,
        });
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
                source: draft.source.clone(),
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
        self.expiring
            .sort_by(|a, b| (a.expires, &a.target).cmp(&(b.expires, &b.target)));
        self.staged
            .sort_by(|a, b| (&a.target, &a.user_id).cmp(&(&b.target, &b.user_id)));
        self.errors
            .sort_by(|a, b| (&a.target, a.kind, &a.message).cmp(&(&b.target, b.kind, &b.message)));

        plan.blocked = self.blocked;
        plan.unmanaged = self.unmanaged;
        plan.pending = self.pending;
        plan.missing = self.missing;
        plan.expiring = self.expiring;
        plan.staged = self.staged;
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
    // Implicit workspace memberships come with an org role: listed, never counted as unmanaged.
    summary.unmanaged = count(plan.unmanaged.iter().filter(|u| !u.implicit).count());
    summary.pending = count(plan.pending.len());
    summary.missing = count(plan.missing.len());
    summary.errors = count(plan.errors.len());
    summary
}
