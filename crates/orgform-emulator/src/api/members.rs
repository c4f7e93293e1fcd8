//! Workspace members: `/v1/organizations/workspaces/{workspace_id}/members[/{user_id}]`.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use jiff::SignedDuration;
use orgform_model::{OrgRole, WorkspaceMember, WorkspaceRole};
use serde_json::{Map, Value, json};

use super::workspaces::workspace_not_found;
use super::{ApiResult, Shd, body_object, ok, string_field, user_not_found};
use crate::Shared;
use crate::error::ApiError;
use crate::query::{Query, paginate};
use crate::readings::ImplicitMemberGet;
use crate::server::json_bytes;
use crate::state::{Core, WorkspaceRecord, member_json, member_key};

/// A workspace that accepts member operations: exists, not default; `write` also refuses an
/// archived one.
fn member_workspace<'a>(
    core: &'a Core,
    id: &str,
    write: bool,
) -> Result<&'a WorkspaceRecord, ApiError> {
    if core.state.default_workspace.workspace.id == id {
        return Err(ApiError::invalid(
            "the default workspace has no member list: access to it follows the organization role",
        ));
    }
    let ws = core
        .state
        .workspace(id)
        .ok_or_else(|| workspace_not_found(id))?;
    if write && let Some(at) = ws.workspace.archived_at {
        return Err(ApiError::invalid(format!(
            "workspace {id} was archived at {} and its members can no longer be changed",
            crate::state::fmt_ts(at)
        )));
    }
    Ok(ws)
}

fn parse_workspace_role(map: &Map<String, Value>) -> Result<WorkspaceRole, ApiError> {
    let raw = string_field(map, "workspace_role")?
        .ok_or_else(|| ApiError::invalid("workspace_role: Field required"))?;
    match WorkspaceRole::parse(raw) {
        WorkspaceRole::WorkspaceBilling => Err(ApiError::invalid(
            "workspace_role: workspace_billing cannot be assigned; it is inherited from the billing organization role",
        )),
        WorkspaceRole::Unknown(other) => Err(ApiError::invalid(format!(
            "workspace_role: Input should be 'workspace_admin', 'workspace_developer', 'workspace_restricted_developer' or 'workspace_user' (got \"{other}\")"
        ))),
        role => Ok(role),
    }
}

/// Refuses changes to implicit members (org admins/owners always; billing unless the target
/// is `workspace_admin`).
fn check_implicit(
    core: &Core,
    user_id: &str,
    target: Option<&WorkspaceRole>,
) -> Result<(), ApiError> {
    let Some(user) = core.state.user(user_id) else {
        return Ok(());
    };
    let implicit = user.role.implicit_workspace_role();
    let refused = if user.role.is_administrative() {
        true
    } else if user.role == OrgRole::Billing {
        target != Some(&WorkspaceRole::WorkspaceAdmin)
    } else {
        false
    };
    if refused {
        let implicit = implicit.map_or_else(|| "workspace_admin".to_owned(), |r| r.to_string());
        return Err(ApiError::invalid(format!(
            "{} ({user_id}) has the {} organization role and is implicitly {implicit} in every workspace; change the organization role first",
            user.email, user.role
        )));
    }
    Ok(())
}

fn note_stale(s: &Shared, core: &mut Core, ws: &str, user: &str) {
    let Some(window) = s.faults.lock().config.stale_member_get else {
        return;
    };
    let now = core.now;
    let key = (ws.to_owned(), user.to_owned());
    let live = core.stale_members.get(&key).is_some_and(|(at, _)| {
        SignedDuration::try_from(window)
            .ok()
            .and_then(|w| at.checked_add(w).ok())
            .is_some_and(|end| end > now)
    });
    if !live {
        let before = core
            .state
            .workspace_members
            .iter()
            .find(|m| m.workspace_id == ws && m.user_id == user)
            .cloned();
        core.stale_members.insert(key, (now, before));
    }
}

fn member_not_found(ws: &str, user: &str) -> ApiError {
    ApiError::not_found(format!("user {user} is not a member of workspace {ws}"))
}

/// `GET /v1/organizations/workspaces/{workspace_id}/members`.
pub(crate) async fn list_members(
    AxState(s): Shd,
    Path(ws): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let page = q.page()?;
    let core = s.core.read();
    member_workspace(&core, &ws, false)?;
    let view = core.members_view();
    let rendered = core.members_rendered();
    let body = paginate(
        &view,
        &rendered,
        &page,
        |user| member_key(&ws, user),
        |m| m.user_id.as_str(),
        |m| m.workspace_id == ws,
        |m| m.workspace_id == ws,
    )?;
    Ok(json_bytes(body))
}

/// `POST /v1/organizations/workspaces/{workspace_id}/members`.
pub(crate) async fn create_member(
    AxState(s): Shd,
    Path(ws): Path<String>,
    body: Bytes,
) -> ApiResult {
    let map = body_object(
        &body,
        &["user_id", "workspace_role"],
        &["user_id", "workspace_role"],
    )?;
    let user_id = string_field(&map, "user_id")?
        .ok_or_else(|| ApiError::invalid("user_id: Field required"))?
        .to_owned();
    let role = parse_workspace_role(&map)?;
    let mut core = s.core.write();
    member_workspace(&core, &ws, true)?;
    if core.state.user(&user_id).is_none() {
        return Err(user_not_found(&user_id));
    }
    if core
        .state
        .workspace_members
        .iter()
        .any(|m| m.workspace_id == ws && m.user_id == user_id)
    {
        return Err(ApiError::invalid(format!(
            "user {user_id} is already a member of workspace {ws}; update the membership instead"
        )));
    }
    check_implicit(&core, &user_id, Some(&role))?;
    note_stale(&s, &mut core, &ws, &user_id);
    let member = WorkspaceMember {
        workspace_id: ws,
        user_id,
        workspace_role: role,
    };
    let out = member_json(&member);
    core.state.workspace_members.push(member);
    core.touch();
    Ok(ok(&out))
}

/// `GET /v1/organizations/workspaces/{workspace_id}/members/{user_id}`.
pub(crate) async fn get_member(
    AxState(s): Shd,
    Path((ws, user)): Path<(String, String)>,
) -> ApiResult {
    let window = s.faults.lock().config.stale_member_get;
    let core = s.core.read();
    member_workspace(&core, &ws, false)?;
    if let Some(window) = window
        && let Some((at, value)) = core.stale_members.get(&(ws.clone(), user.clone()))
        && SignedDuration::try_from(window)
            .ok()
            .and_then(|w| at.checked_add(w).ok())
            .is_some_and(|end| end > core.now)
    {
        return value
            .as_ref()
            .map(|m| ok(&member_json(m)))
            .ok_or_else(|| member_not_found(&ws, &user));
    }
    if let Some(member) = core
        .state
        .workspace_members
        .iter()
        .find(|m| m.workspace_id == ws && m.user_id == user)
    {
        return Ok(ok(&member_json(member)));
    }
    let implicit = core
        .state
        .user(&user)
        .and_then(|u| u.role.implicit_workspace_role())
        .filter(|_| s.readings.implicit_member_get == ImplicitMemberGet::Found)
        .ok_or_else(|| member_not_found(&ws, &user))?;
    Ok(ok(&member_json(&WorkspaceMember {
        workspace_id: ws,
        user_id: user,
        workspace_role: implicit,
    })))
}

/// `POST /v1/organizations/workspaces/{workspace_id}/members/{user_id}`.
pub(crate) async fn update_member(
    AxState(s): Shd,
    Path((ws, user)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let map = body_object(&body, &["workspace_role"], &["workspace_role"])?;
    let role = parse_workspace_role(&map)?;
    let mut core = s.core.write();
    member_workspace(&core, &ws, true)?;
    // Implicit members are refused before the explicit membership is looked for: their
    // membership exists, it just cannot be changed (400, not 404).
    check_implicit(&core, &user, Some(&role))?;
    let explicit = core
        .state
        .workspace_members
        .iter()
        .any(|m| m.workspace_id == ws && m.user_id == user);
    let implicit = core
        .state
        .user(&user)
        .is_some_and(|u| u.role.implicit_workspace_role().is_some());
    if !explicit && !implicit {
        return Err(member_not_found(&ws, &user));
    }
    note_stale(&s, &mut core, &ws, &user);
    let member = WorkspaceMember {
        workspace_id: ws,
        user_id: user,
        workspace_role: role,
    };
    let out = member_json(&member);
    // A billing member's implicit membership becomes an explicit `workspace_admin` one.
    core.state
        .workspace_members
        .retain(|m| !(m.workspace_id == member.workspace_id && m.user_id == member.user_id));
    core.state.workspace_members.push(member);
    core.touch();
    Ok(ok(&out))
}

/// `DELETE /v1/organizations/workspaces/{workspace_id}/members/{user_id}`.
pub(crate) async fn delete_member(
    AxState(s): Shd,
    Path((ws, user)): Path<(String, String)>,
) -> ApiResult {
    let mut core = s.core.write();
    member_workspace(&core, &ws, true)?;
    // As on update: an implicit member is refused (400) whether or not also explicit.
    check_implicit(&core, &user, None)?;
    if !core
        .state
        .workspace_members
        .iter()
        .any(|m| m.workspace_id == ws && m.user_id == user)
    {
        return Err(member_not_found(&ws, &user));
    }
    note_stale(&s, &mut core, &ws, &user);
    core.state
        .workspace_members
        .retain(|m| !(m.workspace_id == ws && m.user_id == user));
    core.touch();
    Ok(ok(&json!({
        "type": "workspace_member_deleted",
        "user_id": user,
        "workspace_id": ws,
    })))
}
