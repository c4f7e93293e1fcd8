//! Workspace members: declared memberships, grants deferred until an invite is accepted, and
//! live memberships the manifest does not declare.
//!
//! - A workspace entry whose email is neither under `members:` nor a live org admin or billing
//!   member is a plan error (the validator cannot know live roles; the planner can).
//! - Explicit memberships of org admins and billing members are never removed: the API refuses
//!   it while they hold that role, so they are reported instead.
//! - `workspace_billing` (inherited only) and workspace roles orgform does not know are never
//!   granted: blocked, unless an explicit live membership already has that role.
//! - A listed membership whose role is the one the person's live org role gives in every
//!   workspace (an org admin's or owner's `workspace_admin`, a billing member's
//!   `workspace_billing`) is implicit, whether or not the API lists such memberships: when
//!   not declared it is shown for information (never drift, never removed), and it does not
//!   count against the workspace member removal limit (`crate::limits`).
//!   A grant to a person whose listed membership is implicit adds an explicit membership; it
//!   never updates the implicit one.
//! - A live membership whose role orgform does not know is never changed or removed:
//!   blocked, like an unknown org role.

use std::collections::{BTreeMap, HashSet};

use orgform_manifest::{WorkspaceMemberPolicy, WorkspaceSpec};
use orgform_model::{WorkspaceMember, WorkspaceRole, normalize_email};

use super::expiry::GrantEnd;
use super::{Draft, DraftDeferred, Engine, WsRes, change, class, is_implicit, s};
use crate::DriftCategory;
use crate::types::{BlockedKind, Deferred, ObjectKind, Op, PlanErrorKind, WorkspaceRef};

impl<'a> Engine<'a> {
    pub(super) fn plan_workspace_members(&mut self) {
        let m = self.m;
        let policy = m.settings.workspace_members.unmanaged;
        for (index, spec) in m.workspaces.iter().enumerate() {
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
            let mut wanted_users: HashSet<&str> = HashSet::with_capacity(members.len());
            let mut seen = HashSet::with_capacity(members.len());
            for (email, grant) in members {
                let role = &grant.role;
                self.here = m
                    .sources
                    .workspace_field(index, &format!("members.{email}"));
                // Normalised once per entry, and passed on.
                let norm = normalize_email(email);
                if self.expired.contains(&norm) {
                    // The person's access ended: no grant is planned (a live membership ends
                    // with their removal).
                    continue;
                }
                if seen.contains(&norm) {
                    self.error(
                        PlanErrorKind::DuplicateMatch,
                        format!("workspace member {email} in {}", spec.name),
                        format!("{email} is listed twice in workspace {:?} (emails compare case-insensitively)", spec.name),
                        "keep one entry per person",
                    );
                    continue;
                }
                if let Some(expiry) = grant.expires {
                    if let GrantEnd::Ended(user) =
                        self.plan_grant_expiry(index, spec, &live_members, email, expiry)
                    {
                        wanted_users.extend(user);
                        continue;
                    }
                    self.here = m
                        .sources
                        .workspace_field(index, &format!("members.{email}"));
                }
                if let Some(user_id) = self.plan_workspace_member(
                    spec,
                    &ws_ref,
                    create_key.as_deref(),
                    &live_members,
                    (email, &norm),
                    role,
                ) {
                    wanted_users.insert(user_id);
                }
                seen.insert(norm);
            }
            let Some(ws_id) = live_id else { continue };
            self.here = m.sources.setting("workspace_members.unmanaged");
            for (user_id, wm) in &live_members {
                if wanted_users.contains(user_id) || self.removed_users.contains(user_id) {
                    continue;
                }
                let user = self.users_by_id.get(user_id).copied();
                let email = user.map_or_else(|| (*user_id).to_owned(), |u| u.email.clone());
                let target = format!("workspace member {email} in {}", spec.name);
                let id = format!("{ws_id}/{user_id}");
                if let Some(u) = user
                    && is_implicit(u, wm)
                {
                    let reason = format!(
                        "implicit: the org role {} gives {} in every workspace; shown for information, never changed",
                        u.role, wm.workspace_role
                    );
                    self.implicit(&id, target, &reason, self.is_protected(&u.email));
                    continue;
                }
                if !wm.workspace_role.is_known() {
                    self.block_unknown_role(target, wm, None);
                    continue;
                }
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
                        source: self.here.clone(),
                    }),
                }
            }
        }
    }

    /// Blocks changing (`wanted`) or removing a membership whose live role orgform does not
    /// know.
    pub(super) fn block_unknown_role(
        &mut self,
        target: String,
        wm: &WorkspaceMember,
        wanted: Option<&WorkspaceRole>,
    ) {
        self.block(
            BlockedKind::UnknownWorkspaceRole,
            target,
            Some("workspace_role"),
            Some(s(wm.workspace_role.as_str())),
            wanted.map(|r| s(r.as_str())),
            "the live workspace role is one orgform does not know, so it is never changed or removed",
            "change or remove this membership in the Console, or upgrade orgform",
        );
    }

    /// Plans one `email: role` of a workspace (`email` as written, and normalised); returns
    /// the live user id it accounts for. Nothing is allocated for an entry that needs nothing.
    fn plan_workspace_member(
        &mut self,
        spec: &WorkspaceSpec,
        ws_ref: &WorkspaceRef,
        create_key: Option<&str>,
        live_members: &BTreeMap<&str, &'a WorkspaceMember>,
        (email, norm): (&str, &str),
        role: &WorkspaceRole,
    ) -> Option<&'a str> {
        let target = || format!("workspace member {email} in {}", spec.name);
        let user = self.users_by_email.get(norm).copied();
        let listed = self.listed.get(norm).copied();
        // The org role this person will hold after this plan.
        let org_role = match (user, listed) {
            (Some(u), _) => self.effective_role.get(u.id.as_str()).cloned(),
            (None, Some(spec)) => Some(spec.role.clone()),
            (None, None) => None,
        };
        let Some(org_role) = org_role else {
            self.error(
                PlanErrorKind::UndeclaredWorkspaceMember,
                target(),
                format!("{email} is neither listed under `members` nor a live member of the organization"),
                "add the person under `members`, or remove them from the workspace",
            );
            return None;
        };
        if user.is_some() && listed.is_none() && org_role.implicit_workspace_role().is_none() {
            self.error(
                PlanErrorKind::UndeclaredWorkspaceMember,
                target(),
                format!("{email} is not listed under `members` (only org admins and billing members may be left out)"),
                "add the person under `members`",
            );
            return user.map(|u| u.id.as_str());
        }
        // An explicit membership that already has the wanted role needs nothing, whatever
        // the org role (a developer promoted to billing keeps explicit memberships); an
        // implicit one only while the org role after this plan still gives it.
        if let Some(u) = user
            && live_members.get(u.id.as_str()).is_some_and(|wm| {
                wm.workspace_role == *role
                    && (!is_implicit(u, wm)
                        || org_role.implicit_workspace_role().as_ref() == Some(role))
            })
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
                    target(),
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
                target(),
                Some("workspace_role"),
                None,
                Some(s(role.as_str())),
                "workspace_billing is only inherited from the org billing role, and unknown roles cannot be granted",
                "declare workspace_user, workspace_restricted_developer, workspace_developer or workspace_admin",
            );
            return user.map(|u| u.id.as_str());
        }
        let Some(user) = user else {
            let waits_for = self.invite_key.get(norm).cloned();
            let pending = self
                .invites_by_email
                .get(norm)
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
                    target: target(),
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
        // An implicit membership the API lists is not one the API can update: the grant is a
        // new explicit membership (made after the org role change this plan may make).
        let explicit = live_members
            .get(user.id.as_str())
            .filter(|wm| !is_implicit(user, wm));
        match explicit {
            Some(wm) if wm.workspace_role == *role => {}
            Some(wm) if !wm.workspace_role.is_known() => {
                self.block_unknown_role(target(), wm, Some(role));
            }
            Some(wm) => {
                if self.is_protected(email) && ws_rank(role) <= ws_rank(&wm.workspace_role) {
                    self.block(
                        BlockedKind::Protected,
                        target(),
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
                    target: target(),
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
                    source: self.here.clone(),
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
                    target: target(),
                    changes: vec![change("workspace_role", None, Some(s(role.as_str())))],
                    destructive: false,
                    irreversible: false,
                    deps,
                    consequences: Vec::new(),
                    category: DriftCategory::Missing,
                    source: self.here.clone(),
                });
            }
        }
        Some(user.id.as_str())
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
