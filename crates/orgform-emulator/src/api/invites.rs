//! Invites: `/v1/organizations/invites[/{invite_id}]` (create, list, get, delete; no update).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use jiff::SignedDuration;
use orgform_model::{Invite, InviteStatus, normalize_email};
use serde_json::{Value, json};

use super::{
    ApiResult, Shd, assignable_role, body_object, email_filter, filter_email, ok, role_filter,
    string_field, valid_email,
};
use crate::error::ApiError;
use crate::query::{Query, paginate};
use crate::readings::{DeletedInviteDelete, DeletedInviteGet};
use crate::server::json_bytes;
use crate::state::{invite_json, invite_status};

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
    let email = email_filter(&q)?;
    let roles = role_filter(&q, s.core.read().enterprise)?;
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
                || s.readings.deleted_invite_get == DeletedInviteGet::ShowDeleted
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
        .find(|i| {
            i.id == id
                && (i.status != InviteStatus::Deleted
                    || s.readings.deleted_invite_delete == DeletedInviteDelete::BadRequest)
        })
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
