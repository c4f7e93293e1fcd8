//! Convergence: applying a plan (to a model of the Admin API) and planning again leaves
//! nothing to do.

use std::collections::BTreeMap;

use orgform_model::{
    AllowedGeos, ApiKeyStatus, DataResidency, Invite, InviteStatus, Snapshot, User, Workspace,
    WorkspaceMember, normalize_email,
};
use orgform_plan::{Op, Plan, WorkspaceRef, plan, render};
use proptest::prelude::*;

use super::generators::{live_org, manifest, now, options};
use super::identity_model;

/// Applies a plan's actions to a snapshot the way the Admin API would (ids made up, the
/// clock at `now`): a model of the executor, to check that plans converge. Panics where the
/// API would refuse an action.
pub fn simulate(live: &Snapshot, p: &Plan) -> Snapshot {
    let mut s = live.clone();
    let now = now();
    let mut created: BTreeMap<String, String> = BTreeMap::new();
    let mut created_ids = identity_model::Created::default();
    for (n, a) in p.actions.iter().enumerate() {
        match &a.op {
            Op::CreateInvite { email, role } | Op::ReplaceInvite { email, role, .. } => {
                if let Op::ReplaceInvite { invite_id, .. } = &a.op {
                    s.invites.retain(|i| &i.id != invite_id);
                }
                s.invites.push(Invite {
                    id: format!("invite_01New{n:018}"),
                    email: email.clone(),
                    role: role.clone(),
                    status: InviteStatus::Pending,
                    invited_at: now,
                    expires_at: now + jiff::SignedDuration::from_hours(21 * 24),
                    accepted_at: None,
                });
            }
            Op::RevokeInvite { invite_id, .. } => s.invites.retain(|i| &i.id != invite_id),
            Op::UpdateUserRole { user_id, role, .. } => {
                let user = s.users.iter_mut().find(|u| &u.id == user_id).unwrap();
                let implicit = user.role.implicit_workspace_role();
                user.role = role.clone();
                // Leaving billing (or admin) ends the implicit access a listed membership
                // with that role stood for.
                if implicit.is_some() && implicit != role.implicit_workspace_role() {
                    s.workspace_members.retain(|m| {
                        &m.user_id != user_id || Some(&m.workspace_role) != implicit.as_ref()
                    });
                }
            }
            Op::RemoveUser { user_id, .. } => {
                s.users.retain(|u| &u.id != user_id);
                s.workspace_members.retain(|m| &m.user_id != user_id);
            }
            Op::CreateWorkspace {
                name,
                display_color,
                tags,
                data_residency,
            } => {
                let id = format!("wrkspc_01New{n:018}");
                created.insert(name.clone(), id.clone());
                s.workspaces.push(Workspace {
                    id,
                    name: name.clone(),
                    created_at: now,
                    archived_at: None,
                    display_color: display_color.clone().unwrap_or_else(|| "#777777".into()),
                    // The API's defaults for what the request leaves out.
                    data_residency: Some(DataResidency {
                        workspace_geo: data_residency
                            .as_ref()
                            .and_then(|d| d.workspace_geo.clone())
                            .unwrap_or_else(|| "us".into()),
                        allowed_inference_geos: data_residency
                            .as_ref()
                            .and_then(|d| d.allowed_inference_geos.clone())
                            .unwrap_or(AllowedGeos::UNRESTRICTED),
                        default_inference_geo: data_residency
                            .as_ref()
                            .and_then(|d| d.default_inference_geo.clone())
                            .unwrap_or_else(|| "global".into()),
                    }),
                    tags: tags.clone(),
                });
            }
            Op::UpdateWorkspace {
                workspace_id,
                name,
                display_color,
                tags,
                data_residency,
            } => {
                let w = s
                    .workspaces
                    .iter_mut()
                    .find(|w| &w.id == workspace_id)
                    .unwrap();
                if let Some(name) = name {
                    w.name.clone_from(name);
                }
                if let Some(color) = display_color {
                    w.display_color.clone_from(color);
                }
                if let Some(tags) = tags {
                    w.tags.clone_from(tags);
                }
                if let (Some(wanted), Some(live)) = (data_residency, w.data_residency.as_mut()) {
                    assert!(wanted.workspace_geo.is_none(), "workspace_geo is immutable");
                    if let Some(allowed) = &wanted.allowed_inference_geos {
                        live.allowed_inference_geos = allowed.clone();
                    }
                    if let Some(default) = &wanted.default_inference_geo {
                        live.default_inference_geo.clone_from(default);
                    }
                }
            }
            Op::ArchiveWorkspace { workspace_id, .. } => {
                s.workspaces
                    .iter_mut()
                    .find(|w| &w.id == workspace_id)
                    .unwrap()
                    .archived_at = Some(now);
                // A read lists memberships of non-archived workspaces only.
                if let Some(ids) = s.identities.as_mut() {
                    ids.service_account_members
                        .retain(|m| &m.workspace_id != workspace_id);
                }
                for k in &mut s.api_keys {
                    if k.workspace_id.as_ref() == Some(workspace_id)
                        && matches!(k.status, ApiKeyStatus::Active | ApiKeyStatus::Inactive)
                    {
                        k.status = ApiKeyStatus::Archived;
                    }
                }
            }
            Op::AddWorkspaceMember {
                workspace,
                user_id,
                role,
                ..
            } => {
                let workspace_id = match workspace {
                    WorkspaceRef::Id(id) => id.clone(),
                    WorkspaceRef::Created { name } => created[name].clone(),
                };
                s.workspace_members.push(WorkspaceMember {
                    workspace_id,
                    user_id: user_id.clone(),
                    workspace_role: role.clone(),
                });
            }
            Op::UpdateWorkspaceMember {
                workspace_id,
                user_id,
                role,
                ..
            } => {
                s.workspace_members
                    .iter_mut()
                    .find(|m| &m.workspace_id == workspace_id && &m.user_id == user_id)
                    .unwrap()
                    .workspace_role = role.clone();
            }
            Op::RemoveWorkspaceMember {
                workspace_id,
                user_id,
                ..
            } => s
                .workspace_members
                .retain(|m| !(&m.workspace_id == workspace_id && &m.user_id == user_id)),
            Op::UpdateApiKey {
                key_id,
                name,
                status,
            } => {
                let k = s.api_keys.iter_mut().find(|k| &k.id == key_id).unwrap();
                if let Some(name) = name {
                    k.name.clone_from(name);
                }
                if let Some(status) = status {
                    k.status = status.clone();
                }
            }
            op => {
                if let Err(refusal) =
                    identity_model::apply(&mut s, n, op, &created, &mut created_ids)
                {
                    panic!("the API refuses #{} ({}): {refusal}", a.id, a.target);
                }
            }
        }
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Applying a plan and planning again leaves nothing to do: the plan converges in one
    /// apply (deferred and blocked items may remain, but no new ones appear).
    #[test]
    fn applying_a_plan_converges(live in live_org(), m in manifest()) {
        let opts = options(Some(1000));
        let first = plan(&m, &live, &opts);
        // The generated manifests declare no identities, so nothing is planned for them.
        prop_assert!(!first.actions.iter().any(|a| identity_model::is_identity_op(&a.op)));
        if first.is_refused() {
            // Refused plans are not applied (about a third of the cases: plan errors).
            return Ok(());
        }
        let after = simulate(&live, &first);
        let second = plan(&m, &after, &opts);
        // Everyone invited accepts; the deferred grants then happen, and that converges too.
        let mut accepted = after.clone();
        for (n, invite) in after.invites.iter().enumerate() {
            if invite.status == InviteStatus::Pending && invite.expires_at > now() {
                accepted.users.push(User {
                    id: format!("user_01Acc{n:019}"),
                    email: invite.email.clone(),
                    name: format!("Accepted {n}"),
                    role: invite.role.clone(),
                    added_at: now(),
                });
                let i = accepted.invites.iter_mut().find(|i| i.id == invite.id).unwrap();
                i.status = InviteStatus::Accepted;
                i.accepted_at = Some(now());
            }
        }
        let third = plan(&m, &accepted, &opts);
        // Only people without an outstanding invite (expired and not re-issued, or blocked
        // admin invites) can still have deferred grants.
        for d in &third.deferred {
            prop_assert!(
                accepted.invites.iter().all(|i| {
                    normalize_email(&i.email) != normalize_email(&d.email)
                        || i.status != InviteStatus::Pending
                }),
                "deferred although accepted: {:?}",
                d
            );
        }
        if !third.is_refused() {
            let fourth = plan(&m, &simulate(&accepted, &third), &opts);
            prop_assert!(
                fourth.actions.is_empty(),
                "after acceptance:\n{}\nthen:\n{}",
                render::text(&third, false),
                render::text(&fourth, false)
            );
        }
        // Nothing new may turn up: no more blocked or missing items than before.
        prop_assert!(
            second.actions.is_empty()
                && second.errors.is_empty()
                && second.blocked.len() <= first.blocked.len()
                && second.missing.len() <= first.missing.len(),
            "first:\n{}\nsecond:\n{}",
            render::text(&first, false),
            render::text(&second, false)
        );
    }
}
