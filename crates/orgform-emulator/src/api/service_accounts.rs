//! Service accounts: `/v1/organizations/service_accounts[/{id}[/archive]]` and their
//! workspace memberships from both sides (`/v1/organizations/service_accounts/{id}/workspaces`
//! and `/v1/organizations/workspaces/{id}/service_accounts`). Bearer tokens only (the gate is
//! in the request pipeline).
//!
//! Documented (the endpoint descriptions of the reference) and followed here: names are slugs,
//! unique (409), immutable; `organization_role` defaults to `developer`; `description: null`
//! on update clears it to `""`; an archived service account cannot be updated (400);
//! re-archiving is idempotent and keeps the first `archived_at`; archiving is refused (400)
//! while a non-archived federation rule targets the service account. Memberships never hold
//! `workspace_billing`; adding an existing member replaces its role; removal is idempotent
//! and a no-op on the implicit default-workspace membership; archived workspaces are 400
//! except on the service-account side list; the implicit membership (`implicit: true`,
//! `workspace_user`) is listed first on that list's first page and never on a workspace's
//! list; an archived service account lists no memberships, its single membership GET is 404,
//! and it cannot be added.
//!
//! Choices where the reference is silent (see docs/service-accounts.md): whether archived
//! names stay taken ([`crate::readings::ServiceAccountNames`]); a workspace's list is ordered
//! by service account id, the service-account side by workspace id; archiving drops the
//! service account's memberships (no list can show them again); an unknown service account
//! is 404 on every membership route, delete included.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::StatusCode;
use orgform_model::{ServiceAccount, ServiceAccountMember, ServiceAccountRole, WorkspaceRole};
use serde_json::{Map, Value, json};

use super::workspaces::workspace_not_found;
use super::{ApiResult, Shd, body_object, ok, string_field};
use crate::error::ApiError;
use crate::identities::{CursorPage, member_json, service_account_json};
use crate::query::Query;
use crate::readings::ServiceAccountNames;
use crate::state::{Core, fmt_ts};

fn sa_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("service account not found: {id}"))
}

fn render(core: &Core, sa: &ServiceAccount) -> Value {
    service_account_json(sa, core.identity_updated.get(&sa.id).copied())
}

fn find<'a>(core: &'a Core, id: &str) -> Result<&'a ServiceAccount, ApiError> {
    core.state
        .identities
        .service_account(id)
        .ok_or_else(|| sa_not_found(id))
}

fn position(core: &Core, id: &str) -> Result<usize, ApiError> {
    core.state
        .identities
        .service_accounts
        .iter()
        .position(|s| s.id == id)
        .ok_or_else(|| sa_not_found(id))
}

/// A slug: lowercase letters, digits and hyphens, 1-255 characters.
pub(super) fn check_slug(name: &str) -> Result<(), ApiError> {
    if name.is_empty() {
        return Err(ApiError::invalid(
            "name: String should have at least 1 character",
        ));
    }
    if name.len() > 255 {
        return Err(ApiError::invalid(format!(
            "name: String should have at most 255 characters (got {})",
            name.len()
        )));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(ApiError::invalid(format!(
            "name: must be a slug of lowercase letters, digits and hyphens (got \"{name}\")"
        )));
    }
    Ok(())
}

fn parse_description(map: &Map<String, Value>) -> Result<Option<String>, ApiError> {
    let d = string_field(map, "description")?;
    if let Some(d) = d
        && d.chars().count() > 2000
    {
        return Err(ApiError::invalid(
            "description: String should have at most 2000 characters",
        ));
    }
    Ok(d.map(str::to_owned))
}

fn parse_role(map: &Map<String, Value>) -> Result<Option<ServiceAccountRole>, ApiError> {
    match string_field(map, "organization_role")? {
        None => Ok(None),
        Some(raw @ ("admin" | "developer")) => Ok(Some(ServiceAccountRole::parse(raw))),
        Some(other) => Err(ApiError::invalid(format!(
            "organization_role: Input should be 'admin' or 'developer' (got \"{other}\")"
        ))),
    }
}

/// `GET /v1/organizations/service_accounts`: newest first; archived ones only with
/// `include_archived=true`.
pub(crate) async fn list_service_accounts(AxState(s): Shd, RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let page = CursorPage::parse(&q)?;
    let include_archived = q.bool("include_archived")?;
    let core = s.core.read();
    let mut accounts: Vec<&ServiceAccount> = core
        .state
        .identities
        .service_accounts
        .iter()
        .filter(|sa| include_archived || !sa.is_archived())
        .collect();
    accounts.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    let items: Vec<(String, Value)> = accounts
        .into_iter()
        .map(|sa| (sa.id.clone(), render(&core, sa)))
        .collect();
    Ok(ok(&page.render(&items)?))
}

/// `POST /v1/organizations/service_accounts`.
pub(crate) async fn create_service_account(AxState(s): Shd, body: Bytes) -> ApiResult {
    let map = body_object(
        &body,
        &["name", "description", "organization_role"],
        &["name"],
    )?;
    let name = string_field(&map, "name")?
        .ok_or_else(|| ApiError::invalid("name: Input should be a valid string"))?
        .to_owned();
    check_slug(&name)?;
    let description = parse_description(&map)?;
    let role = parse_role(&map)?.unwrap_or(ServiceAccountRole::Developer);
    let mut core = s.core.write();
    let archived_taken = core.readings.service_account_names == ServiceAccountNames::Taken;
    if core
        .state
        .identities
        .service_accounts
        .iter()
        .any(|sa| sa.name == name && (archived_taken || !sa.is_archived()))
    {
        return Err(ApiError::other(
            StatusCode::CONFLICT,
            "conflict_error",
            format!("a service account named \"{name}\" already exists"),
        ));
    }
    let sa = ServiceAccount {
        id: core.fresh_id(&s.ids, "svac"),
        name,
        description,
        organization_role: role,
        created_at: core.now,
        archived_at: None,
    };
    let out = render(&core, &sa);
    core.state.identities.service_accounts.push(sa);
    core.touch();
    Ok(ok(&out))
}

/// `GET /v1/organizations/service_accounts/{id}` (archived ones included).
pub(crate) async fn get_service_account(AxState(s): Shd, Path(id): Path<String>) -> ApiResult {
    let core = s.core.read();
    let sa = find(&core, &id)?;
    Ok(ok(&render(&core, sa)))
}

/// `POST /v1/organizations/service_accounts/{id}`: `description` (`null` clears to `""`) and
/// `organization_role` (`null` leaves it).
pub(crate) async fn update_service_account(
    AxState(s): Shd,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let map = body_object(&body, &["description", "organization_role"], &[])?;
    let description = if map.contains_key("description") {
        Some(parse_description(&map)?.unwrap_or_default())
    } else {
        None
    };
    let role = parse_role(&map)?;
    let mut core = s.core.write();
    let i = position(&core, &id)?;
    if let Some(at) = core.state.identities.service_accounts[i].archived_at {
        return Err(ApiError::invalid(format!(
            "service account {id} was archived at {} and can no longer be updated",
            fmt_ts(at)
        )));
    }
    let now = core.now;
    let sa = &mut core.state.identities.service_accounts[i];
    if let Some(d) = description {
        sa.description = Some(d);
    }
    if let Some(r) = role {
        sa.organization_role = r;
    }
    let sa = sa.clone();
    core.identity_updated.insert(id, now);
    core.touch();
    Ok(ok(&render(&core, &sa)))
}

/// `POST /v1/organizations/service_accounts/{id}/archive`: idempotent; refused while a
/// non-archived federation rule targets the service account.
pub(crate) async fn archive_service_account(AxState(s): Shd, Path(id): Path<String>) -> ApiResult {
    let mut core = s.core.write();
    let i = position(&core, &id)?;
    if core.state.identities.service_accounts[i].is_archived() {
        return Ok(ok(&render(
            &core,
            &core.state.identities.service_accounts[i],
        )));
    }
    if let Some(rule) = core
        .state
        .identities
        .federation_rules
        .iter()
        .find(|r| !r.is_archived() && r.target_service_account_id == id)
    {
        return Err(ApiError::invalid(format!(
            "service account {id} is the target of federation rule {} ({}); archive the rule or change its target first",
            rule.id, rule.name
        )));
    }
    let now = core.now;
    core.state.identities.service_accounts[i].archived_at = Some(now);
    core.state
        .identities
        .service_account_members
        .retain(|m| m.service_account_id != id);
    core.identity_updated.insert(id, now);
    let sa = core.state.identities.service_accounts[i].clone();
    core.touch();
    Ok(ok(&render(&core, &sa)))
}

// ---- memberships --------------------------------------------------------------------------

/// A workspace a membership route may address (the default one included); archived ones are
/// 400.
fn membership_workspace(core: &Core, ws: &str) -> Result<(), ApiError> {
    let record = core
        .state
        .workspace(ws)
        .ok_or_else(|| workspace_not_found(ws))?;
    if let Some(at) = record.workspace.archived_at {
        return Err(ApiError::invalid(format!(
            "workspace {ws} was archived at {}; list its service accounts from the service account side",
            fmt_ts(at)
        )));
    }
    Ok(())
}

fn parse_workspace_role(map: &Map<String, Value>) -> Result<WorkspaceRole, ApiError> {
    let raw = string_field(map, "workspace_role")?
        .ok_or_else(|| ApiError::invalid("workspace_role: Field required"))?;
    match WorkspaceRole::parse(raw) {
        WorkspaceRole::WorkspaceBilling => Err(ApiError::invalid(
            "workspace_role: service accounts cannot hold the workspace_billing role",
        )),
        WorkspaceRole::Unknown(other) => Err(ApiError::invalid(format!(
            "workspace_role: Input should be 'workspace_admin', 'workspace_developer', 'workspace_restricted_developer' or 'workspace_user' (got \"{other}\")"
        ))),
        role => Ok(role),
    }
}

fn explicit<'a>(core: &'a Core, ws: &str, sa: &str) -> Option<&'a ServiceAccountMember> {
    core.state
        .identities
        .service_account_members
        .iter()
        .find(|m| m.workspace_id == ws && m.service_account_id == sa)
}

/// The implicit default-workspace membership of `sa`.
fn implicit_member(core: &Core, sa: &str) -> ServiceAccountMember {
    ServiceAccountMember {
        workspace_id: core.state.default_workspace.workspace.id.clone(),
        service_account_id: sa.to_owned(),
        workspace_role: WorkspaceRole::WorkspaceUser,
    }
}

/// Adds or replaces an explicit membership (both create routes).
fn upsert(core: &mut Core, ws: &str, sa: &str, role: WorkspaceRole) -> Result<Value, ApiError> {
    membership_workspace(core, ws)?;
    let account = find(core, sa)?;
    if account.is_archived() {
        return Err(ApiError::invalid(format!(
            "service account {sa} is archived and cannot be added to a workspace"
        )));
    }
    let member = ServiceAccountMember {
        workspace_id: ws.to_owned(),
        service_account_id: sa.to_owned(),
        workspace_role: role,
    };
    let members = &mut core.state.identities.service_account_members;
    match members
        .iter_mut()
        .find(|m| m.workspace_id == ws && m.service_account_id == sa)
    {
        Some(m) => m.workspace_role = member.workspace_role.clone(),
        None => members.push(member.clone()),
    }
    core.touch();
    Ok(member_json(&member, false))
}

/// Removes an explicit membership; idempotent (both delete routes).
fn remove(core: &mut Core, ws: &str, sa: &str) -> Result<Value, ApiError> {
    membership_workspace(core, ws)?;
    find(core, sa)?;
    core.state
        .identities
        .service_account_members
        .retain(|m| !(m.workspace_id == ws && m.service_account_id == sa));
    core.touch();
    Ok(json!({
        "type": "service_account_workspace_member_deleted",
        "service_account_id": sa,
        "workspace_id": ws,
    }))
}

/// `GET /v1/organizations/workspaces/{ws}/service_accounts`: explicit memberships of
/// non-archived service accounts, by service account id.
pub(crate) async fn list_workspace_service_accounts(
    AxState(s): Shd,
    Path(ws): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    let page = CursorPage::parse(&Query::parse(raw.as_deref()))?;
    let core = s.core.read();
    membership_workspace(&core, &ws)?;
    let ids = &core.state.identities;
    let mut members: Vec<&ServiceAccountMember> = ids
        .service_account_members
        .iter()
        .filter(|m| m.workspace_id == ws)
        .filter(|m| {
            ids.service_account(&m.service_account_id)
                .is_some_and(|sa| !sa.is_archived())
        })
        .collect();
    members.sort_by(|a, b| a.service_account_id.cmp(&b.service_account_id));
    let items: Vec<(String, Value)> = members
        .into_iter()
        .map(|m| (m.service_account_id.clone(), member_json(m, false)))
        .collect();
    Ok(ok(&page.render(&items)?))
}

/// `POST /v1/organizations/workspaces/{ws}/service_accounts`.
pub(crate) async fn add_workspace_service_account(
    AxState(s): Shd,
    Path(ws): Path<String>,
    body: Bytes,
) -> ApiResult {
    let map = body_object(
        &body,
        &["service_account_id", "workspace_role"],
        &["service_account_id", "workspace_role"],
    )?;
    let sa = string_field(&map, "service_account_id")?
        .ok_or_else(|| ApiError::invalid("service_account_id: Input should be a valid string"))?
        .to_owned();
    let role = parse_workspace_role(&map)?;
    let mut core = s.core.write();
    Ok(ok(&upsert(&mut core, &ws, &sa, role)?))
}

/// `GET /v1/organizations/workspaces/{ws}/service_accounts/{sa}`.
pub(crate) async fn get_workspace_service_account(
    AxState(s): Shd,
    Path((ws, sa)): Path<(String, String)>,
) -> ApiResult {
    let core = s.core.read();
    membership_workspace(&core, &ws)?;
    let account = find(&core, &sa)?;
    if account.is_archived() {
        return Err(sa_not_found(&sa));
    }
    if let Some(m) = explicit(&core, &ws, &sa) {
        return Ok(ok(&member_json(m, false)));
    }
    if ws == core.state.default_workspace.workspace.id {
        return Ok(ok(&member_json(&implicit_member(&core, &sa), true)));
    }
    Err(ApiError::not_found(format!(
        "service account {sa} is not a member of workspace {ws}"
    )))
}

/// `POST /v1/organizations/workspaces/{ws}/service_accounts/{sa}`: explicit memberships only.
pub(crate) async fn update_workspace_service_account(
    AxState(s): Shd,
    Path((ws, sa)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let map = body_object(&body, &["workspace_role"], &["workspace_role"])?;
    let role = parse_workspace_role(&map)?;
    let mut core = s.core.write();
    membership_workspace(&core, &ws)?;
    if find(&core, &sa)?.is_archived() {
        return Err(ApiError::invalid(format!(
            "service account {sa} is archived and its memberships cannot be updated"
        )));
    }
    if explicit(&core, &ws, &sa).is_none() {
        return Err(ApiError::not_found(format!(
            "service account {sa} has no explicit membership in workspace {ws}; add it first"
        )));
    }
    Ok(ok(&upsert(&mut core, &ws, &sa, role)?))
}

/// `DELETE /v1/organizations/workspaces/{ws}/service_accounts/{sa}`.
pub(crate) async fn remove_workspace_service_account(
    AxState(s): Shd,
    Path((ws, sa)): Path<(String, String)>,
) -> ApiResult {
    let mut core = s.core.write();
    Ok(ok(&remove(&mut core, &ws, &sa)?))
}

/// `GET /v1/organizations/service_accounts/{sa}/workspaces`: the implicit default-workspace
/// membership first (first page, when no explicit default row), then explicit ones by
/// workspace id, archived workspaces included; empty for an archived service account.
pub(crate) async fn list_service_account_workspaces(
    AxState(s): Shd,
    Path(sa): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    let page = CursorPage::parse(&Query::parse(raw.as_deref()))?;
    let core = s.core.read();
    let account = find(&core, &sa)?;
    if account.is_archived() {
        // Without a cursor, an empty list; a cursor matches no active membership: 400.
        return Ok(ok(&page.render(&[])?));
    }
    let mut members: Vec<&ServiceAccountMember> = core
        .state
        .identities
        .service_account_members
        .iter()
        .filter(|m| m.service_account_id == sa)
        .collect();
    members.sort_by(|a, b| a.workspace_id.cmp(&b.workspace_id));
    let default_id = &core.state.default_workspace.workspace.id;
    let lead = if members.iter().any(|m| m.workspace_id == *default_id) {
        Vec::new()
    } else {
        vec![member_json(&implicit_member(&core, &sa), true)]
    };
    let items: Vec<(String, Value)> = members
        .into_iter()
        .map(|m| (m.workspace_id.clone(), member_json(m, false)))
        .collect();
    Ok(ok(&page.render_with(&items, lead)?))
}

/// `POST /v1/organizations/service_accounts/{sa}/workspaces`.
pub(crate) async fn add_service_account_workspace(
    AxState(s): Shd,
    Path(sa): Path<String>,
    body: Bytes,
) -> ApiResult {
    let map = body_object(
        &body,
        &["workspace_id", "workspace_role"],
        &["workspace_id", "workspace_role"],
    )?;
    let ws = string_field(&map, "workspace_id")?
        .ok_or_else(|| ApiError::invalid("workspace_id: Input should be a valid string"))?
        .to_owned();
    let role = parse_workspace_role(&map)?;
    let mut core = s.core.write();
    Ok(ok(&upsert(&mut core, &ws, &sa, role)?))
}

/// `DELETE /v1/organizations/service_accounts/{sa}/workspaces/{ws}`.
pub(crate) async fn remove_service_account_workspace(
    AxState(s): Shd,
    Path((sa, ws)): Path<(String, String)>,
) -> ApiResult {
    let mut core = s.core.write();
    Ok(ok(&remove(&mut core, &ws, &sa)?))
}
