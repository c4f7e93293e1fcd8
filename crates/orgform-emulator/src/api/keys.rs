//! Workspace API keys: `/v1/organizations/api_keys[/{api_key_id}]` (list, get, update; keys
//! are created and deleted only in the Console).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use orgform_model::ApiKeyStatus;

use super::{ApiResult, Shd, body_object, ok, string_field};
use crate::error::ApiError;
use crate::query::{Query, paginate};
use crate::readings::ExpiredKeyInactive;
use crate::server::json_bytes;
use crate::state::{key_json, key_status};

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
        s.readings.key_shape,
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
        let accepted = *to == ApiKeyStatus::Archived
            || (*to == ApiKeyStatus::Inactive
                && s.readings.expired_key_inactive == ExpiredKeyInactive::Accepted);
        if current == ApiKeyStatus::Expired && !accepted {
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
    let out = key_json(key, now, &default_id, s.readings.key_shape);
    core.touch();
    Ok(ok(&out))
}
