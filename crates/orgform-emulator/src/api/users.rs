//! Organization members: `/v1/organizations/users[/{user_id}]` (there is no create: people
//! join by accepting an invite).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use serde_json::json;

use super::{
    ApiResult, Shd, assignable_role, body_object, email_filter, filter_email, ok, role_filter,
    string_field, user_not_found,
};
use crate::error::ApiError;
use crate::query::{Query, paginate};
use crate::server::json_bytes;
use crate::state::user_json;

/// `GET /v1/organizations/users`.
pub(crate) async fn list_users(AxState(s): Shd, RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let page = q.page()?;
    let email = email_filter(&q)?;
    let roles = role_filter(&q, s.core.read().enterprise)?;
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
