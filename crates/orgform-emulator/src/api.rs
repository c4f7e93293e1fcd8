//! Admin API handlers: `/v1/organizations/...`.
//!
//! Choices where the Admin API documentation is uncertain (all conservative):
//! - Business-rule refusals are 400 `invalid_request_error` with a message naming the object
//!   (101st workspace, updating/removing admins, writes to archived workspaces, default
//!   workspace rename/archive, implicit members).
//! - `GET /invites/{id}` of a deleted invite is 404 by default, consistent with lists that
//!   never show deleted invites ([`crate::DeletedInviteGet`] can show it with
//!   `status: "deleted"`); deleting a deleted invite is 404.
//! - Org admins (and owners) and billing members are implicit workspace members: they are not
//!   listed, `GET .../members/{user_id}` is 404 for them unless an explicit membership exists,
//!   and adding, changing or removing them is 400, except that a billing member may be given
//!   `workspace_admin`.
//! - The default workspace has no member list: its member routes are 400.
//! - Workspace `tags` on update merge into the existing map; a `null` value removes a key.
//! - Archiving a workspace sets its keys' status to `archived` ([`crate::ArchiveCascade`]).
//! - API keys: `expired` cannot be set; an expired key accepts only `archived`; leaving
//!   `archived` is refused unless [`crate::Options::allow_unarchive_keys`].
//! - A body that references an unknown user (`user_id` on member create) is 404.
//! - Unknown routes and unsupported methods (e.g. `POST /api_keys`, `DELETE /api_keys/{id}`)
//!   are 404 `not_found_error`.
//! - Assignable roles follow the organization kind ([`crate::OrganizationKind`]): Console
//!   `user`, `developer`, `billing`, `claude_code_user`; Claude Enterprise `user`, `managed`.
//!   Administrative roles (`admin`, `owner`, `primary_owner`, `membership_admin`) are always 400.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::response::{IntoResponse, Response};
use jiff::SignedDuration;
use orgform_model::{
    AllowedGeos, ApiKeyStatus, DataResidency, Invite, InviteStatus, OrgRole, WorkspaceMember,
    WorkspaceRole, normalize_email,
};
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::query::{Query, paginate};
use crate::server::json_bytes;
use crate::state::{
    Core, WorkspaceRecord, default_residency, invite_json, invite_status, key_json, key_status,
    member_json, member_key, user_json, workspace_json,
};
use crate::{ArchiveCascade, DeletedInviteGet, Shared};

type Shd = AxState<Arc<Shared>>;
type ApiResult = Result<Response, ApiError>;

/// Roles the API can assign in a Console organization.
const ASSIGNABLE: &[&str] = &["user", "developer", "billing", "claude_code_user"];
/// Roles the API can assign in a Claude Enterprise organization.
const ASSIGNABLE_ENTERPRISE: &[&str] = &["user", "managed"];
/// Geographies accepted for inference.
const GEOS: &[&str] = &["global", "us"];
/// Palette for server-assigned workspace colours.
const PALETTE: &[&str] = &[
    "#6C5BB9", "#3F7D58", "#C2185B", "#1E88E5", "#F4511E", "#8E24AA", "#00897B", "#FDD835",
];

fn ok(value: &Value) -> Response {
    axum::Json(value).into_response()
}

/// Parses a JSON object body with the allowed and required field names.
fn body_object(
    bytes: &Bytes,
    allowed: &[&str],
    required: &[&str],
) -> Result<Map<String, Value>, ApiError> {
    let value: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(bytes)
            .map_err(|e| ApiError::invalid(format!("invalid JSON in request body: {e}")))?
    };
    let Value::Object(map) = value else {
        return Err(ApiError::invalid("request body must be a JSON object"));
    };
    if let Some(extra) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ApiError::invalid(format!(
            "{extra}: Extra inputs are not permitted"
        )));
    }
    if let Some(missing) = required.iter().find(|r| !map.contains_key(**r)) {
        return Err(ApiError::invalid(format!("{missing}: Field required")));
    }
    Ok(map)
}

fn string_field<'a>(map: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, ApiError> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::invalid(format!(
            "{name}: Input should be a valid string"
        ))),
    }
}

fn assignable_role(raw: &str, enterprise: bool) -> Result<OrgRole, ApiError> {
    let allowed = if enterprise {
        ASSIGNABLE_ENTERPRISE
    } else {
        ASSIGNABLE
    };
    if allowed.contains(&raw) {
        return Ok(OrgRole::parse(raw));
    }
    let message = match raw {
        "admin" | "owner" | "primary_owner" | "membership_admin" => {
            format!("role: the {raw} role cannot be assigned through the API")
        }
        "managed" => {
            "role: managed is only available in Claude Enterprise organizations".to_owned()
        }
        "developer" | "billing" | "claude_code_user" if enterprise => format!(
            "role: {raw} is not available in Claude Enterprise organizations, which accept user and managed"
        ),
        other => format!(
            "role: Input should be 'billing', 'claude_code_user', 'developer', 'managed' or 'user' (got \"{other}\")"
        ),
    };
    Err(ApiError::invalid(message))
}

/// The filter form of an email: trimmed, lowercased, `+tag` removed from the local part.
fn filter_email(email: &str) -> String {
    let e = normalize_email(email);
    match e.split_once('@') {
        Some((local, domain)) => {
            let local = local.split_once('+').map_or(local, |(l, _)| l);
            format!("{local}@{domain}")
        }
        None => e,
    }
}

fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(char::is_whitespace)
}

fn role_filter(q: &Query) -> Result<Vec<OrgRole>, ApiError> {
    q.many("roles")
        .iter()
        .map(|r| {
            let role = OrgRole::parse(r);
            if role.is_known() {
                Ok(role)
            } else {
                Err(ApiError::invalid(format!(
                    "roles: Input should be one of {} (got \"{r}\")",
                    OrgRole::KNOWN.join(", ")
                )))
            }
        })
        .collect()
}

fn user_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("user not found: {id}"))
}

/// `GET /v1/organizations/me`.
pub(crate) async fn me(AxState(s): Shd) -> Response {
    let core = s.core.read();
    ok(&json!({
        "type": "organization",
        "id": core.state.organization.id,
        "name": core.state.organization.name,
    }))
}

/// `GET /v1/organizations/users`.
pub(crate) async fn list_users(AxState(s): Shd, RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let page = q.page()?;
    let email = q.one("email")?.map(filter_email);
    let roles = role_filter(&q)?;
    let core = s.core.read();
    let rendered = core.users_rendered();
    let body = paginate(
        &core.state.users,
        &rendered,
        &page,
        str::to_owned,
        |u| u.id.as_str(),
        |_| true,
        |u| {
            email.as_ref().is_none_or(|e| filter_email(&u.email) == *e)
                && (roles.is_empty() || roles.contains(&u.role))
        },
    )?;
    Ok(json_bytes(body))
}

/// `GET /v1/organizations/users/{user_id}`.
pub(crate) async fn get_user(AxState(s): Shd, Path(id): Path<String>) -> ApiResult {
    let core = s.core.read();
    let user = core.state.user(&id).ok_or_else(|| user_not_found(&id))?;
    Ok(ok(&user_json(user)))
}

/// `POST /v1/organizations/users/{user_id}`.
pub(crate) async fn update_user(AxState(s): Shd, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let map = body_object(&body, &["role"], &["role"])?;
    let raw =
        string_field(&map, "role")?.ok_or_else(|| ApiError::invalid("role: Field required"))?;
    let role = assignable_role(raw, s.core.read().enterprise)?;
    let mut core = s.core.write();
    let user = core
        .state
        .users
        .iter_mut()
        .find(|u| u.id == id)
        .ok_or_else(|| user_not_found(&id))?;
    if user.role.is_administrative() {
        return Err(ApiError::invalid(format!(
            "cannot change the role of {} ({}): members with the {} role cannot be updated through the API",
            user.email, user.id, user.role
        )));
    }
    user.role = role;
    let out = user_json(user);
    core.touch();
    Ok(ok(&out))
}

/// `DELETE /v1/organizations/users/{user_id}`.
pub(crate) async fn delete_user(AxState(s): Shd, Path(id): Path<String>) -> ApiResult {
    let mut core = s.core.write();
    let user = core.state.user(&id).ok_or_else(|| user_not_found(&id))?;
    if user.role.is_administrative() {
        return Err(ApiError::invalid(format!(
            "cannot remove {} ({}): members with the {} role cannot be removed through the API",
            user.email, user.id, user.role
        )));
    }
    core.state.users.retain(|u| u.id != id);
    // Memberships belong to the person; their API keys stay as they are.
    core.state.workspace_members.retain(|m| m.user_id != id);
    core.touch();
    Ok(ok(&json!({"id": id, "type": "user_deleted"})))
}

/// `POST /v1/organizations/invites`.
pub(crate) async fn create_invite(AxState(s): Shd, body: Bytes) -> ApiResult {
    let map = body_object(
        &body,
        &["email", "role", "rbac_group_ids"],
        &["email", "role"],
    )?;
    let email =
        string_field(&map, "email")?.ok_or_else(|| ApiError::invalid("email: Field required"))?;
    if !valid_email(email) {
        return Err(ApiError::invalid(format!(
            "email: value is not a valid email address (got \"{email}\")"
        )));
    }
    let raw_role =
        string_field(&map, "role")?.ok_or_else(|| ApiError::invalid("role: Field required"))?;
    let role = assignable_role(raw_role, s.core.read().enterprise)?;
    match map.get("rbac_group_ids") {
        None | Some(Value::Null) => {}
        Some(Value::Array(ids)) if ids.len() > 100 => {
            return Err(ApiError::invalid(
                "rbac_group_ids: List should have at most 100 items",
            ));
        }
        Some(Value::Array(ids)) if ids.is_empty() => {}
        Some(Value::Array(_)) => {
            return Err(ApiError::invalid(
                "rbac_group_ids: only Claude Enterprise organizations with RBAC groups accept rbac_group_ids",
            ));
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "rbac_group_ids: Input should be a valid list",
            ));
        }
    }
    let mut core = s.core.write();
    let now = core.now;
    let key = normalize_email(email);
    if let Some(user) = core
        .state
        .users
        .iter()
        .find(|u| normalize_email(&u.email) == key)
    {
        return Err(ApiError::invalid(format!(
            "{email} is already a member of the organization (user {})",
            user.id
        )));
    }
    if let Some(inv) = core.state.invites.iter().find(|i| {
        normalize_email(&i.email) == key && invite_status(i, now) == InviteStatus::Pending
    }) {
        return Err(ApiError::invalid(format!(
            "a pending invite already exists for {email} (invite {})",
            inv.id
        )));
    }
    if let Some(limit) = s.options.seat_limit {
        let pending = core
            .state
            .invites
            .iter()
            .filter(|i| invite_status(i, now) == InviteStatus::Pending)
            .count();
        if core.state.users.len() + pending >= limit {
            return Err(ApiError::invalid(format!(
                "no seat is available: all {limit} seats are taken by members and pending invites"
            )));
        }
    }
    let invite = Invite {
        id: core.fresh_id(&s.ids, "invite"),
        email: email.to_owned(),
        role,
        status: InviteStatus::Pending,
        invited_at: now,
        expires_at: now
            .checked_add(SignedDuration::from_hours(21 * 24))
            .unwrap_or(now),
        accepted_at: None,
    };
    let out = invite_json(&invite, now);
    core.state.invites.push(invite);
    core.touch();
    Ok(ok(&out))
}

/// `GET /v1/organizations/invites`.
pub(crate) async fn list_invites(AxState(s): Shd, RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let page = q.page()?;
    let email = q.one("email")?.map(filter_email);
    let roles = role_filter(&q)?;
    let statuses = q
        .many("statuses")
        .iter()
        .map(|st| match st.as_str() {
            "pending" | "accepted" | "expired" => Ok(InviteStatus::parse(st)),
            other => Err(ApiError::invalid(format!(
                "statuses: Input should be 'accepted', 'expired' or 'pending' (got \"{other}\")"
            ))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let core = s.core.read();
    let now = core.now;
    let rendered = core.invites_rendered();
    let body = paginate(
        &core.state.invites,
        &rendered,
        &page,
        str::to_owned,
        |i| i.id.as_str(),
        |i| i.status != InviteStatus::Deleted,
        |i| {
            let status = invite_status(i, now);
            status != InviteStatus::Deleted
                && (statuses.is_empty() || statuses.contains(&status))
                && email.as_ref().is_none_or(|e| filter_email(&i.email) == *e)
                && (roles.is_empty() || roles.contains(&i.role))
        },
    )?;
    Ok(json_bytes(body))
}

fn invite_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("invite not found: {id}"))
}

/// `GET /v1/organizations/invites/{invite_id}`.
pub(crate) async fn get_invite(AxState(s): Shd, Path(id): Path<String>) -> ApiResult {
    let core = s.core.read();
    let invite = core
        .state
        .invites
        .iter()
        .find(|i| i.id == id)
        .filter(|i| {
            i.status != InviteStatus::Deleted
                || s.options.deleted_invite_get == DeletedInviteGet::ShowDeleted
        })
        .ok_or_else(|| invite_not_found(&id))?;
    Ok(ok(&invite_json(invite, core.now)))
}

/// `DELETE /v1/organizations/invites/{invite_id}`.
pub(crate) async fn delete_invite(AxState(s): Shd, Path(id): Path<String>) -> ApiResult {
    let mut core = s.core.write();
    let now = core.now;
    let invite = core
        .state
        .invites
        .iter_mut()
        .find(|i| i.id == id && i.status != InviteStatus::Deleted)
        .ok_or_else(|| invite_not_found(&id))?;
    let status = invite_status(invite, now);
    if status != InviteStatus::Pending {
        let hint = if status == InviteStatus::Accepted {
            "; remove the member instead"
        } else {
            ""
        };
        return Err(ApiError::invalid(format!(
            "only pending invites can be deleted: invite {id} is {status}{hint}"
        )));
    }
    invite.status = InviteStatus::Deleted;
    core.touch();
    Ok(ok(&json!({"id": id, "type": "invite_deleted"})))
}

fn workspace_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("workspace not found: {id}"))
}

fn check_name(name: &str) -> Result<(), ApiError> {
    let n = name.chars().count();
    if n == 0 {
        return Err(ApiError::invalid(
            "name: String should have at least 1 character",
        ));
    }
    if n > 40 {
        return Err(ApiError::invalid(format!(
            "name: String should have at most 40 characters (got {n})"
        )));
    }
    Ok(())
}

fn parse_color(map: &Map<String, Value>) -> Result<Option<String>, ApiError> {
    let Some(color) = string_field(map, "display_color")? else {
        return Ok(None);
    };
    let valid = color.len() == 7
        && color.starts_with('#')
        && color[1..].chars().all(|c| c.is_ascii_hexdigit());
    if valid {
        Ok(Some(color.to_owned()))
    } else {
        Err(ApiError::invalid(format!(
            "display_color: String should match pattern '^#[0-9A-Fa-f]{{6}}$' (got \"{color}\")"
        )))
    }
}

/// Tag changes: key to `Some(value)` to set, `None` to remove.
type TagChanges = Vec<(String, Option<String>)>;

/// Parses `tags`: `Some(map of key -> Some(value) | None for removal)`.
fn parse_tags(
    map: &Map<String, Value>,
    allow_null_values: bool,
) -> Result<Option<TagChanges>, ApiError> {
    let tags = match map.get("tags") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(t)) => t,
        Some(_) => {
            return Err(ApiError::invalid(
                "tags: Input should be a valid dictionary",
            ));
        }
    };
    let mut out = Vec::with_capacity(tags.len());
    for (k, v) in tags {
        if k.to_ascii_lowercase().starts_with("anthropic") {
            return Err(ApiError::invalid(format!(
                "tags: key \"{k}\" is reserved: tag keys may not begin with \"anthropic\""
            )));
        }
        match v {
            Value::String(v) => out.push((k.clone(), Some(v.clone()))),
            Value::Null if allow_null_values => out.push((k.clone(), None)),
            _ => {
                return Err(ApiError::invalid(format!(
                    "tags.{k}: Input should be a valid string"
                )));
            }
        }
    }
    Ok(Some(out))
}

fn parse_geos(value: &Value) -> Result<Option<AllowedGeos>, ApiError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s == "unrestricted" => Ok(Some(AllowedGeos::UNRESTRICTED)),
        Value::Array(items) => {
            let mut geos = Vec::with_capacity(items.len());
            for item in items {
                match item.as_str() {
                    Some(g) if GEOS.contains(&g) => geos.push(g.to_owned()),
                    _ => {
                        return Err(ApiError::invalid(format!(
                            "data_residency.allowed_inference_geos: Input should be 'global' or 'us' (got {item})"
                        )));
                    }
                }
            }
            if geos.is_empty() {
                return Err(ApiError::invalid(
                    "data_residency.allowed_inference_geos: List should have at least 1 item",
                ));
            }
            Ok(Some(AllowedGeos::List(geos)))
        }
        other => Err(ApiError::invalid(format!(
            "data_residency.allowed_inference_geos: Input should be a list of geos or \"unrestricted\" (got {other})"
        ))),
    }
}

/// Applies a `data_residency` body to `current` (creation starts from the defaults).
fn apply_residency(
    value: &Value,
    current: &DataResidency,
    creating: bool,
) -> Result<DataResidency, ApiError> {
    let obj = match value {
        Value::Null => return Ok(current.clone()),
        Value::Object(o) => o,
        _ => {
            return Err(ApiError::invalid(
                "data_residency: Input should be an object",
            ));
        }
    };
    let allowed_fields: &[&str] = if creating {
        &[
            "workspace_geo",
            "allowed_inference_geos",
            "default_inference_geo",
        ]
    } else {
        &["allowed_inference_geos", "default_inference_geo"]
    };
    if let Some(extra) = obj.keys().find(|k| !allowed_fields.contains(&k.as_str())) {
        let why = if extra == "workspace_geo" {
            "workspace_geo cannot be changed after creation"
        } else {
            "Extra inputs are not permitted"
        };
        return Err(ApiError::invalid(format!("data_residency.{extra}: {why}")));
    }
    let mut out = current.clone();
    match obj.get("workspace_geo") {
        None | Some(Value::Null) => {}
        Some(Value::String(g)) if g == "us" => out.workspace_geo.clone_from(g),
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "data_residency.workspace_geo: Input should be 'us' (got {other})"
            )));
        }
    }
    if let Some(v) = obj.get("allowed_inference_geos")
        && let Some(geos) = parse_geos(v)?
    {
        out.allowed_inference_geos = geos;
    }
    match obj.get("default_inference_geo") {
        None | Some(Value::Null) => {}
        Some(Value::String(g)) if GEOS.contains(&g.as_str()) => {
            out.default_inference_geo.clone_from(g);
        }
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "data_residency.default_inference_geo: Input should be 'global' or 'us' (got {other})"
            )));
        }
    }
    if !out
        .allowed_inference_geos
        .allows(&out.default_inference_geo)
    {
        return Err(ApiError::invalid(format!(
            "data_residency.default_inference_geo: \"{}\" must be one of allowed_inference_geos",
            out.default_inference_geo
        )));
    }
    Ok(out)
}

fn check_external_key(s: &Shared, map: &Map<String, Value>) -> Result<Option<String>, ApiError> {
    let Some(id) = string_field(map, "external_key_id")? else {
        return Ok(None);
    };
    if !s.options.cmek_enabled {
        return Err(ApiError::invalid(
            "external_key_id: customer-managed encryption keys are not enabled for this organization",
        ));
    }
    Ok(Some(id.to_owned()))
}

/// `POST /v1/organizations/workspaces`.
pub(crate) async fn create_workspace(AxState(s): Shd, body: Bytes) -> ApiResult {
    let map = body_object(
        &body,
        &[
            "name",
            "data_residency",
            "external_key_id",
            "tags",
            "display_color",
        ],
        &["name"],
    )?;
    let name =
        string_field(&map, "name")?.ok_or_else(|| ApiError::invalid("name: Field required"))?;
    check_name(name)?;
    let residency = match map.get("data_residency") {
        None => default_residency(),
        Some(v) => apply_residency(v, &default_residency(), true)?,
    };
    let tags = parse_tags(&map, false)?.unwrap_or_default();
    let color = parse_color(&map)?;
    let external_key_id = check_external_key(&s, &map)?;
    let mut core = s.core.write();
    let active = core
        .state
        .workspaces
        .iter()
        .filter(|w| !w.workspace.is_archived())
        .count();
    if active >= s.options.max_workspaces {
        return Err(ApiError::invalid(format!(
            "the organization already has {active} active workspaces, the maximum is {}; archive one or ask your account team for more",
            s.options.max_workspaces
        )));
    }
    if s.options.unique_workspace_names
        && let Some(w) = core
            .state
            .workspaces
            .iter()
            .find(|w| !w.workspace.is_archived() && w.workspace.name == name)
    {
        return Err(ApiError::invalid(format!(
            "a workspace named \"{name}\" already exists ({})",
            w.workspace.id
        )));
    }
    let n = core.state.workspaces.len();
    let record = WorkspaceRecord {
        workspace: orgform_model::Workspace {
            id: core.fresh_id(&s.ids, "wrkspc"),
            name: name.to_owned(),
            created_at: core.now,
            archived_at: None,
            display_color: color.unwrap_or_else(|| PALETTE[n % PALETTE.len()].to_owned()),
            data_residency: Some(residency),
            tags: tags
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k, v)))
                .collect(),
        },
        external_key_id,
        compartment_id: s.ids.next_uuid(),
    };
    let out = workspace_json(&record);
    core.state.workspaces.push(record);
    core.touch();
    Ok(ok(&out))
}

/// `GET /v1/organizations/workspaces`.
pub(crate) async fn list_workspaces(AxState(s): Shd, RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let page = q.page()?;
    let include_archived = q.bool("include_archived")?;
    let core = s.core.read();
    let rendered = core.workspaces_rendered();
    let body = paginate(
        &core.state.workspaces,
        &rendered,
        &page,
        str::to_owned,
        |w| w.workspace.id.as_str(),
        |_| true,
        |w| include_archived || !w.workspace.is_archived(),
    )?;
    Ok(json_bytes(body))
}

/// `GET /v1/organizations/workspaces/{workspace_id}`.
pub(crate) async fn get_workspace(AxState(s): Shd, Path(id): Path<String>) -> ApiResult {
    let core = s.core.read();
    let ws = core
        .state
        .workspace(&id)
        .ok_or_else(|| workspace_not_found(&id))?;
    Ok(ok(&workspace_json(ws)))
}

/// `POST /v1/organizations/workspaces/{workspace_id}`.
pub(crate) async fn update_workspace(
    AxState(s): Shd,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let map = body_object(
        &body,
        &[
            "name",
            "data_residency",
            "external_key_id",
            "tags",
            "display_color",
        ],
        &[],
    )?;
    let name = match map.get("name") {
        None => None,
        Some(Value::String(n)) => {
            check_name(n)?;
            Some(n.clone())
        }
        Some(_) => return Err(ApiError::invalid("name: Input should be a valid string")),
    };
    let tags = parse_tags(&map, true)?;
    let color = parse_color(&map)?;
    let external_key_id = check_external_key(&s, &map)?;
    let mut core = s.core.write();
    let is_default = core.state.default_workspace.workspace.id == id;
    let record = if is_default {
        &mut core.state.default_workspace
    } else {
        core.state
            .workspaces
            .iter_mut()
            .find(|w| w.workspace.id == id)
            .ok_or_else(|| workspace_not_found(&id))?
    };
    if let Some(at) = record.workspace.archived_at {
        return Err(ApiError::invalid(format!(
            "workspace {id} was archived at {} and can no longer be changed",
            crate::state::fmt_ts(at)
        )));
    }
    if is_default && name.as_ref().is_some_and(|n| *n != record.workspace.name) {
        return Err(ApiError::invalid("the default workspace cannot be renamed"));
    }
    let residency = match map.get("data_residency") {
        None => None,
        Some(v) => {
            let current = record
                .workspace
                .data_residency
                .clone()
                .unwrap_or_else(default_residency);
            Some(apply_residency(v, &current, false)?)
        }
    };
    if let (Some(new), Some(old)) = (&external_key_id, &record.external_key_id)
        && new != old
    {
        return Err(ApiError::invalid(format!(
            "external_key_id is write-once: workspace {id} already uses {old}"
        )));
    }
    if let Some(n) = name {
        record.workspace.name = n;
    }
    if let Some(r) = residency {
        record.workspace.data_residency = Some(r);
    }
    if let Some(t) = tags {
        for (k, v) in t {
            match v {
                Some(v) => {
                    record.workspace.tags.insert(k, v);
                }
                None => {
                    record.workspace.tags.remove(&k);
                }
            }
        }
    }
    if let Some(c) = color {
        record.workspace.display_color = c;
    }
    if external_key_id.is_some() {
        record.external_key_id = external_key_id;
    }
    let out = workspace_json(record);
    core.touch();
    Ok(ok(&out))
}

/// `POST /v1/organizations/workspaces/{workspace_id}/archive`.
pub(crate) async fn archive_workspace(
    AxState(s): Shd,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    body_object(&body, &[], &[])?;
    let mut core = s.core.write();
    if core.state.default_workspace.workspace.id == id {
        return Err(ApiError::invalid(
            "the default workspace cannot be archived",
        ));
    }
    let now = core.now;
    let record = core
        .state
        .workspaces
        .iter_mut()
        .find(|w| w.workspace.id == id)
        .ok_or_else(|| workspace_not_found(&id))?;
    if record.workspace.archived_at.is_some() {
        // One-way and idempotent: the original `archived_at` is returned.
        return Ok(ok(&workspace_json(record)));
    }
    record.workspace.archived_at = Some(now);
    let out = workspace_json(record);
    let cascade = match s.options.archive_cascade {
        ArchiveCascade::Archived => Some(ApiKeyStatus::Archived),
        ArchiveCascade::Inactive => Some(ApiKeyStatus::Inactive),
        ArchiveCascade::None => None,
    };
    if let Some(to) = cascade {
        for key in &mut core.state.api_keys {
            if key.workspace_id.as_deref() == Some(id.as_str())
                && key.status != ApiKeyStatus::Archived
            {
                key.status = to.clone();
            }
        }
    }
    core.touch();
    Ok(ok(&out))
}

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
    let rendered = core.members_rendered();
    let body = paginate(
        &core.state.workspace_members,
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
    let member = core
        .state
        .workspace_members
        .iter()
        .find(|m| m.workspace_id == ws && m.user_id == user)
        .ok_or_else(|| member_not_found(&ws, &user))?;
    Ok(ok(&member_json(member)))
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
    if !core
        .state
        .workspace_members
        .iter()
        .any(|m| m.workspace_id == ws && m.user_id == user)
    {
        return Err(member_not_found(&ws, &user));
    }
    check_implicit(&core, &user, Some(&role))?;
    note_stale(&s, &mut core, &ws, &user);
    let member = core
        .state
        .workspace_members
        .iter_mut()
        .find(|m| m.workspace_id == ws && m.user_id == user)
        .ok_or_else(|| member_not_found(&ws, &user))?;
    member.workspace_role = role;
    let out = member_json(member);
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
    if !core
        .state
        .workspace_members
        .iter()
        .any(|m| m.workspace_id == ws && m.user_id == user)
    {
        return Err(member_not_found(&ws, &user));
    }
    check_implicit(&core, &user, None)?;
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

/// `GET /v1/organizations/api_keys`.
pub(crate) async fn list_keys(AxState(s): Shd, RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let page = q.page()?;
    let status = match q.one("status")? {
        None => None,
        Some(st @ ("active" | "inactive" | "archived" | "expired")) => {
            Some(ApiKeyStatus::parse(st))
        }
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "status: Input should be 'active', 'archived', 'expired' or 'inactive' (got \"{other}\")"
            )));
        }
    };
    let workspace = q.one("workspace_id")?.map(str::to_owned);
    let creator = q.one("created_by_user_id")?.map(str::to_owned);
    let core = s.core.read();
    let now = core.now;
    let default_id = core.state.default_workspace.workspace.id.clone();
    let rendered = core.keys_rendered();
    let body = paginate(
        &core.state.api_keys,
        &rendered,
        &page,
        str::to_owned,
        |k| k.id.as_str(),
        |_| true,
        |k| {
            status.as_ref().is_none_or(|st| key_status(k, now) == *st)
                && workspace
                    .as_ref()
                    .is_none_or(|w| k.workspace_id.as_deref().unwrap_or(default_id.as_str()) == w)
                && creator.as_ref().is_none_or(|c| {
                    k.created_by
                        .as_ref()
                        .is_some_and(|by| by.kind == "user" && by.id == *c)
                })
        },
    )?;
    Ok(json_bytes(body))
}

fn key_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("api key not found: {id}"))
}

/// `GET /v1/organizations/api_keys/{api_key_id}`.
pub(crate) async fn get_key(AxState(s): Shd, Path(id): Path<String>) -> ApiResult {
    let core = s.core.read();
    let key = core
        .state
        .api_keys
        .iter()
        .find(|k| k.id == id)
        .ok_or_else(|| key_not_found(&id))?;
    Ok(ok(&key_json(
        key,
        core.now,
        &core.state.default_workspace.workspace.id,
    )))
}

/// `POST /v1/organizations/api_keys/{api_key_id}`.
pub(crate) async fn update_key(AxState(s): Shd, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let map = body_object(&body, &["name", "status"], &[])?;
    let name = string_field(&map, "name")?.map(str::to_owned);
    if let Some(n) = &name {
        let len = n.chars().count();
        if len == 0 || len > 500 {
            return Err(ApiError::invalid(format!(
                "name: String should have between 1 and 500 characters (got {len})"
            )));
        }
    }
    let status = match string_field(&map, "status")? {
        None => None,
        Some(st @ ("active" | "inactive" | "archived")) => Some(ApiKeyStatus::parse(st)),
        Some("expired") => {
            return Err(ApiError::invalid(
                "status: expired cannot be set; keys expire at their expires_at",
            ));
        }
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "status: Input should be 'active', 'archived' or 'inactive' (got \"{other}\")"
            )));
        }
    };
    let mut core = s.core.write();
    let now = core.now;
    let default_id = core.state.default_workspace.workspace.id.clone();
    let key = core
        .state
        .api_keys
        .iter_mut()
        .find(|k| k.id == id)
        .ok_or_else(|| key_not_found(&id))?;
    let current = key_status(key, now);
    if let Some(to) = &status
        && *to != current
    {
        if current == ApiKeyStatus::Expired && *to != ApiKeyStatus::Archived {
            return Err(ApiError::invalid(format!(
                "api key {id} has expired and cannot be reactivated"
            )));
        }
        if current == ApiKeyStatus::Archived && !s.options.allow_unarchive_keys {
            return Err(ApiError::invalid(format!(
                "api key {id} is archived; archiving cannot be undone"
            )));
        }
    }
    if let Some(n) = name {
        key.name = n;
    }
    if let Some(to) = status
        && to != current
    {
        key.status = to;
    }
    let out = key_json(key, now, &default_id);
    core.touch();
    Ok(ok(&out))
}
