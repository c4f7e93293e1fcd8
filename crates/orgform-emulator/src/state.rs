//! The emulator's in-memory organization ([`State`]) and how it reads on the wire.
//!
//! `State` keeps more than a [`Snapshot`]: deleted invites (the API hides them but they still
//! exist), the default workspace (never listed, but it has an id), and the workspace fields a
//! snapshot does not carry (`external_key_id`, `compartment_id`).
//!
//! Statuses that depend on time are derived on read from the emulator clock: a `pending`
//! invite whose `expires_at` has passed reads `expired`; an `active` or `inactive` key whose
//! `expires_at` has passed reads `expired` (an `archived` key stays `archived`).
//!
//! Collections are kept sorted in list order (users and invites newest first, the other
//! collections oldest first, then by id; each [`Readings`] may reverse), and each collection's wire JSON is cached until the
//! next write or clock move, so that list requests only copy bytes.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use jiff::Timestamp;
use orgform_model::{
    AllowedGeos, ApiKey, ApiKeyStatus, DataResidency, Identities, Invite, InviteStatus, OrgRole,
    Organization, Snapshot, User, Workspace, WorkspaceMember,
};
use serde_json::{Value, json};

use crate::ids::IdGen;
use crate::readings::{ImplicitMembers, KeyShape, ListOrder, Readings};

/// A workspace with the fields a [`Snapshot`] does not carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkspaceRecord {
    /// The workspace as a snapshot sees it.
    pub workspace: Workspace,
    /// CMEK key id; write-once.
    pub external_key_id: Option<String>,
    /// Encryption compartment, UUID-shaped.
    pub compartment_id: String,
}

/// The whole emulated organization. Mutable through [`crate::Emulator::modify`], as if changed
/// in the Console.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    /// Organization identity (`/me`).
    pub organization: Organization,
    /// The default workspace: never listed, cannot be archived or renamed.
    pub default_workspace: WorkspaceRecord,
    /// Members.
    pub users: Vec<User>,
    /// Invites including deleted ones; the stored status is never `expired` unless seeded so.
    pub invites: Vec<Invite>,
    /// Workspaces, archived included, default excluded.
    pub workspaces: Vec<WorkspaceRecord>,
    /// Explicit workspace memberships.
    pub workspace_members: Vec<WorkspaceMember>,
    /// Workspace API keys; `workspace_id: None` is the default workspace.
    pub api_keys: Vec<ApiKey>,
    /// Service accounts, their explicit workspace memberships (the default workspace's
    /// included when explicit), federation issuers and rules. Only a bearer token reads them.
    pub identities: Identities,
}

impl State {
    /// Builds a state from a seed snapshot; new ids come from `ids`.
    pub(crate) fn from_snapshot(seed: Snapshot, ids: &IdGen) -> Self {
        let default_workspace = WorkspaceRecord {
            workspace: Workspace {
                id: crate::ids::make_id(
                    "wrkspc",
                    crate::ids::splitmix(seed_hash(&seed.organization.id)),
                    0,
                ),
                name: "Default".to_owned(),
                created_at: Timestamp::UNIX_EPOCH,
                archived_at: None,
                display_color: "#6C5BB9".to_owned(),
                data_residency: Some(default_residency()),
                tags: BTreeMap::new(),
            },
            external_key_id: None,
            compartment_id: ids.next_uuid(),
        };
        let mut state = Self {
            organization: seed.organization,
            default_workspace,
            users: seed.users,
            invites: seed.invites,
            workspaces: seed
                .workspaces
                .into_iter()
                .map(|workspace| WorkspaceRecord {
                    workspace,
                    external_key_id: None,
                    compartment_id: ids.next_uuid(),
                })
                .collect(),
            workspace_members: seed.workspace_members,
            api_keys: seed.api_keys,
            identities: seed.identities.unwrap_or_default(),
        };
        state.sort(&Readings::default());
        state
    }

    /// Checks that ids are unique and references resolve.
    pub(crate) fn validate(&self) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        let all = self
            .users
            .iter()
            .map(|u| u.id.as_str())
            .chain(self.invites.iter().map(|i| i.id.as_str()))
            .chain(self.workspaces.iter().map(|w| w.workspace.id.as_str()))
            .chain(self.api_keys.iter().map(|k| k.id.as_str()))
            .chain(crate::identities::ids(&self.identities))
            .chain(std::iter::once(
                self.default_workspace.workspace.id.as_str(),
            ));
        for id in all {
            if !seen.insert(id) {
                return Err(format!("duplicate id {id}"));
            }
        }
        // Looked up in sets, not by scanning: a seed of 100,000 members is checked at once.
        let users: std::collections::HashSet<&str> =
            self.users.iter().map(|u| u.id.as_str()).collect();
        let workspaces: std::collections::HashSet<&str> = self
            .workspaces
            .iter()
            .map(|w| w.workspace.id.as_str())
            .chain(std::iter::once(
                self.default_workspace.workspace.id.as_str(),
            ))
            .collect();
        let mut pairs = std::collections::HashSet::new();
        for m in &self.workspace_members {
            if !users.contains(m.user_id.as_str()) {
                return Err(format!("workspace member {} is not a user", m.user_id));
            }
            if !workspaces.contains(m.workspace_id.as_str()) {
                return Err(format!(
                    "workspace member {} refers to unknown workspace {}",
                    m.user_id, m.workspace_id
                ));
            }
            if !pairs.insert((&m.workspace_id, &m.user_id)) {
                return Err(format!(
                    "user {} is listed twice in workspace {}",
                    m.user_id, m.workspace_id
                ));
            }
        }
        for k in &self.api_keys {
            if let Some(ws) = &k.workspace_id
                && !workspaces.contains(ws.as_str())
            {
                return Err(format!("api key {} refers to unknown workspace {ws}", k.id));
            }
        }
        crate::identities::validate(self)
    }

    /// Puts every collection in list order: users and invites newest first, the others
    /// oldest first (members by workspace, then user id), each as `readings` may reverse.
    pub(crate) fn sort(&mut self, readings: &Readings) {
        let newest = readings.users_order.newest_first();
        self.users.sort_by(|a, b| {
            let o = a.added_at.cmp(&b.added_at).then_with(|| a.id.cmp(&b.id));
            if newest { o.reverse() } else { o }
        });
        let newest = readings.invites_order.newest_first();
        self.invites.sort_by(|a, b| {
            let o = a
                .invited_at
                .cmp(&b.invited_at)
                .then_with(|| a.id.cmp(&b.id));
            if newest { o.reverse() } else { o }
        });
        let newest = readings.workspaces_order.newest_first();
        self.workspaces.sort_by(|a, b| {
            let o = a
                .workspace
                .created_at
                .cmp(&b.workspace.created_at)
                .then_with(|| a.workspace.id.cmp(&b.workspace.id));
            if newest { o.reverse() } else { o }
        });
        sort_members(&mut self.workspace_members, readings.members_order);
        let newest = readings.api_keys_order.newest_first();
        self.api_keys.sort_by(|a, b| {
            let o = a
                .created_at
                .cmp(&b.created_at)
                .then_with(|| a.id.cmp(&b.id));
            if newest { o.reverse() } else { o }
        });
    }

    /// Every membership a member list can show: the explicit ones, plus, for each workspace
    /// (not the default), the implicit `workspace_admin` of org admins and owners and
    /// `workspace_billing` of billing members who have no explicit membership there.
    pub(crate) fn members_with_implicit(&self, order: ListOrder) -> Vec<WorkspaceMember> {
        let mut out = self.workspace_members.clone();
        let explicit: std::collections::HashSet<(&str, &str)> = self
            .workspace_members
            .iter()
            .map(|m| (m.workspace_id.as_str(), m.user_id.as_str()))
            .collect();
        for ws in &self.workspaces {
            for user in &self.users {
                if let Some(role) = user.role.implicit_workspace_role()
                    && !explicit.contains(&(ws.workspace.id.as_str(), user.id.as_str()))
                {
                    out.push(WorkspaceMember {
                        workspace_id: ws.workspace.id.clone(),
                        user_id: user.id.clone(),
                        workspace_role: role,
                    });
                }
            }
        }
        sort_members(&mut out, order);
        out
    }

    /// The user with this id.
    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    /// The workspace with this id (the default workspace included).
    pub fn workspace(&self, id: &str) -> Option<&WorkspaceRecord> {
        if self.default_workspace.workspace.id == id {
            return Some(&self.default_workspace);
        }
        self.workspaces.iter().find(|w| w.workspace.id == id)
    }

    /// What a complete, correct read with an OAuth bearer token returns at `now`, normalised
    /// (identities included; a read with an admin key has `identities: None`).
    pub(crate) fn to_snapshot(&self, now: Timestamp) -> Snapshot {
        Snapshot {
            organization: self.organization.clone(),
            users: self.users.clone(),
            invites: self
                .invites
                .iter()
                .filter(|i| i.status != InviteStatus::Deleted)
                .map(|i| {
                    let mut i = i.clone();
                    i.status = invite_status(&i, now);
                    i
                })
                .collect(),
            workspaces: self
                .workspaces
                .iter()
                .map(|w| w.workspace.clone())
                .collect(),
            workspace_members: self.workspace_members.clone(),
            api_keys: self
                .api_keys
                .iter()
                .map(|k| {
                    let mut k = k.clone();
                    k.status = key_status(&k, now);
                    k
                })
                .collect(),
            identities: Some(self.identities.clone()),
        }
        .normalized()
    }
}

/// Members grouped by workspace (ascending), then by user id in `order`.
fn sort_members(members: &mut [WorkspaceMember], order: ListOrder) {
    members.sort_by(|a, b| {
        let users = a.user_id.cmp(&b.user_id);
        a.workspace_id
            .cmp(&b.workspace_id)
            .then(if order.newest_first() {
                users.reverse()
            } else {
                users
            })
    });
}

fn seed_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// `{workspace_geo: us, allowed_inference_geos: unrestricted, default_inference_geo: global}`.
pub(crate) fn default_residency() -> DataResidency {
    DataResidency {
        workspace_geo: "us".to_owned(),
        allowed_inference_geos: AllowedGeos::UNRESTRICTED,
        default_inference_geo: "global".to_owned(),
    }
}

/// The status an invite reads as at `now`.
pub(crate) fn invite_status(invite: &Invite, now: Timestamp) -> InviteStatus {
    if invite.status == InviteStatus::Pending && invite.expires_at <= now {
        InviteStatus::Expired
    } else {
        invite.status.clone()
    }
}

/// The status a key reads as at `now`.
pub(crate) fn key_status(key: &ApiKey, now: Timestamp) -> ApiKeyStatus {
    match (&key.status, key.expires_at) {
        (ApiKeyStatus::Active | ApiKeyStatus::Inactive, Some(exp)) if exp <= now => {
            ApiKeyStatus::Expired
        }
        (status, _) => status.clone(),
    }
}

/// RFC 3339 with exactly six fractional digits, as the API writes timestamps.
pub(crate) fn fmt_ts(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Truncates a timestamp to whole microseconds.
pub(crate) fn to_micros(ts: Timestamp) -> Timestamp {
    let micros = ts.as_microsecond();
    Timestamp::from_microsecond(micros).unwrap_or(ts)
}

/// The wire form of a user.
pub(crate) fn user_json(u: &User) -> Value {
    json!({
        "type": "user",
        "id": u.id,
        "email": u.email,
        "name": u.name,
        "role": u.role.as_str(),
        "added_at": fmt_ts(u.added_at),
    })
}

/// The wire form of an invite at `now`.
pub(crate) fn invite_json(i: &Invite, now: Timestamp) -> Value {
    json!({
        "type": "invite",
        "id": i.id,
        "email": i.email,
        "role": i.role.as_str(),
        "status": invite_status(i, now).as_str(),
        "invited_at": fmt_ts(i.invited_at),
        "expires_at": fmt_ts(i.expires_at),
        "accepted_at": i.accepted_at.map(fmt_ts),
        "rbac_group_ids": [],
    })
}

/// The wire form of a workspace.
pub(crate) fn workspace_json(w: &WorkspaceRecord) -> Value {
    let ws = &w.workspace;
    let residency = ws.data_residency.clone().unwrap_or_else(default_residency);
    json!({
        "type": "workspace",
        "id": ws.id,
        "name": ws.name,
        "created_at": fmt_ts(ws.created_at),
        "archived_at": ws.archived_at.map(fmt_ts),
        "display_color": ws.display_color,
        "data_residency": residency,
        "tags": ws.tags,
        "external_key_id": w.external_key_id,
        "compartment_id": w.compartment_id,
    })
}

/// The wire form of a workspace membership.
pub(crate) fn member_json(m: &WorkspaceMember) -> Value {
    json!({
        "type": "workspace_member",
        "user_id": m.user_id,
        "workspace_id": m.workspace_id,
        "workspace_role": m.workspace_role.as_str(),
    })
}

/// The wire form of an API key at `now`, in `shape`.
///
/// [`KeyShape::Current`]: `scope` carries the real workspace id even for the default
/// workspace; `principal` is `null` (the emulator has no principal-bound keys).
/// [`KeyShape::Earlier`]: no `scope`; `principal` repeats the creator (`{id, type}`).
pub(crate) fn key_json(
    k: &ApiKey,
    now: Timestamp,
    default_workspace_id: &str,
    shape: KeyShape,
) -> Value {
    let created_by = k
        .created_by
        .as_ref()
        .map(|c| json!({"id": c.id, "type": c.kind}));
    let mut out = json!({
        "type": "api_key",
        "id": k.id,
        "name": k.name,
        "created_at": fmt_ts(k.created_at),
        "created_by": created_by,
        "partial_key_hint": k.partial_key_hint,
        "status": key_status(k, now).as_str(),
        "expires_at": k.expires_at.map(fmt_ts),
        "workspace_id": k.workspace_id,
    });
    match shape {
        KeyShape::Current => {
            out["scope"] = json!({
                "type": "workspace",
                "workspace_id": k.workspace_id.as_deref().unwrap_or(default_workspace_id),
            });
            out["principal"] = Value::Null;
        }
        KeyShape::Earlier => out["principal"] = created_by.unwrap_or(Value::Null),
    }
    out
}

/// One collection's cached wire JSON, parallel to the collection, plus id positions.
#[derive(Debug, Default)]
pub(crate) struct Rendered {
    pub(crate) json: Vec<Box<[u8]>>,
    pub(crate) pos: HashMap<String, usize>,
}

impl Rendered {
    fn build<T>(items: &[T], key: impl Fn(&T) -> String, render: impl Fn(&T) -> Value) -> Self {
        let mut json = Vec::with_capacity(items.len());
        let mut pos = HashMap::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            json.push(
                serde_json::to_vec(&render(item))
                    .unwrap_or_default()
                    .into_boxed_slice(),
            );
            pos.insert(key(item), i);
        }
        Self { json, pos }
    }
}

/// Lazily built caches, dropped on every write or clock move.
#[derive(Debug, Default)]
pub(crate) struct Caches {
    users: OnceLock<Arc<Rendered>>,
    invites: OnceLock<Arc<Rendered>>,
    workspaces: OnceLock<Arc<Rendered>>,
    members: OnceLock<Arc<Rendered>>,
    keys: OnceLock<Arc<Rendered>>,
}

/// The key of a membership in the members cache.
pub(crate) fn member_key(workspace_id: &str, user_id: &str) -> String {
    format!("{workspace_id}/{user_id}")
}

/// The mutable core behind the server's lock.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) state: State,
    pub(crate) now: Timestamp,
    pub(crate) caches: Caches,
    /// Stale single-member GET cache: (workspace, user) -> (cached at, value then).
    pub(crate) stale_members: HashMap<(String, String), (Timestamp, Option<WorkspaceMember>)>,
    /// A Claude Enterprise organization (assignable roles `user` and `managed`).
    pub(crate) enterprise: bool,
    /// The readings the server answers under.
    pub(crate) readings: Readings,
    /// When each identity object (`svac_`, `fdis_`, `fdrl_`) was last written through the
    /// API; objects never written since seeding are absent (their `updated_at` is their
    /// `created_at`).
    pub(crate) identity_updated: HashMap<String, Timestamp>,
    /// The inline key documents of federation issuers (the model keeps only their digest).
    pub(crate) inline_keys: HashMap<String, Vec<Value>>,
    /// When each (rule, workspace) enablement was made through the API; seeded ones are
    /// absent (their time is the rule's creation).
    pub(crate) rule_workspace_enabled: HashMap<(String, String), Timestamp>,
    /// The memberships member lists show (explicit, plus implicit ones when listed), in
    /// list order, parallel to the members cache.
    members_view: OnceLock<Arc<Vec<WorkspaceMember>>>,
}

impl Core {
    pub(crate) fn new(
        mut state: State,
        now: Timestamp,
        kind: crate::OrganizationKind,
        readings: Readings,
    ) -> Self {
        state.sort(&readings);
        let enterprise = match kind {
            crate::OrganizationKind::Console => false,
            crate::OrganizationKind::Enterprise => true,
            crate::OrganizationKind::Auto => state
                .users
                .iter()
                .map(|u| &u.role)
                .chain(state.invites.iter().map(|i| &i.role))
                .any(OrgRole::is_enterprise_only),
        };
        Self {
            state,
            now: to_micros(now),
            caches: Caches::default(),
            stale_members: HashMap::new(),
            enterprise,
            readings,
            identity_updated: HashMap::new(),
            inline_keys: HashMap::new(),
            rule_workspace_enabled: HashMap::new(),
            members_view: OnceLock::new(),
        }
    }

    /// A generated id no object of the state already has (seeds bring their own ids).
    pub(crate) fn fresh_id(&self, ids: &IdGen, prefix: &str) -> String {
        loop {
            let id = ids.next(prefix);
            let s = &self.state;
            let taken = s.users.iter().any(|u| u.id == id)
                || s.invites.iter().any(|i| i.id == id)
                || s.workspaces.iter().any(|w| w.workspace.id == id)
                || s.default_workspace.workspace.id == id
                || crate::identities::ids(&s.identities).any(|taken| taken == id);
            if !taken {
                return id;
            }
        }
    }

    /// Re-sorts and drops every cache; call after any change.
    pub(crate) fn touch(&mut self) {
        self.state.sort(&self.readings);
        self.caches = Caches::default();
        self.members_view = OnceLock::new();
    }

    pub(crate) fn users_rendered(&self) -> Arc<Rendered> {
        self.caches
            .users
            .get_or_init(|| {
                Arc::new(Rendered::build(
                    &self.state.users,
                    |u| u.id.clone(),
                    user_json,
                ))
            })
            .clone()
    }

    pub(crate) fn invites_rendered(&self) -> Arc<Rendered> {
        let now = self.now;
        self.caches
            .invites
            .get_or_init(|| {
                Arc::new(Rendered::build(
                    &self.state.invites,
                    |i| i.id.clone(),
                    |i| invite_json(i, now),
                ))
            })
            .clone()
    }

    pub(crate) fn workspaces_rendered(&self) -> Arc<Rendered> {
        self.caches
            .workspaces
            .get_or_init(|| {
                Arc::new(Rendered::build(
                    &self.state.workspaces,
                    |w| w.workspace.id.clone(),
                    workspace_json,
                ))
            })
            .clone()
    }

    /// The memberships member lists show, in list order (see [`State::members_with_implicit`]).
    pub(crate) fn members_view(&self) -> Arc<Vec<WorkspaceMember>> {
        self.members_view
            .get_or_init(|| {
                Arc::new(match self.readings.implicit_members {
                    ImplicitMembers::Hidden => self.state.workspace_members.clone(),
                    ImplicitMembers::Listed => self
                        .state
                        .members_with_implicit(self.readings.members_order),
                })
            })
            .clone()
    }

    /// The cached wire JSON of [`Core::members_view`].
    pub(crate) fn members_rendered(&self) -> Arc<Rendered> {
        let view = self.members_view();
        self.caches
            .members
            .get_or_init(|| {
                Arc::new(Rendered::build(
                    &view,
                    |m| member_key(&m.workspace_id, &m.user_id),
                    member_json,
                ))
            })
            .clone()
    }

    pub(crate) fn keys_rendered(&self) -> Arc<Rendered> {
        let now = self.now;
        let default_id = self.state.default_workspace.workspace.id.clone();
        let shape = self.readings.key_shape;
        self.caches
            .keys
            .get_or_init(|| {
                Arc::new(Rendered::build(
                    &self.state.api_keys,
                    |k| k.id.clone(),
                    |k| key_json(k, now, &default_id, shape),
                ))
            })
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_microseconds() {
        let ts: Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        assert_eq!(fmt_ts(ts), "2026-06-01T00:00:00.000000Z");
        let ts: Timestamp = "2024-10-30T23:58:27.427722123Z".parse().unwrap();
        assert_eq!(fmt_ts(to_micros(ts)), "2024-10-30T23:58:27.427722Z");
    }
}
