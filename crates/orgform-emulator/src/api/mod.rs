//! Admin API handlers: `/v1/organizations/...`, one module per resource around the shared
//! body, role and email helpers here.
//!
//! Choices where the Admin API documentation is uncertain (the defaults of
//! [`crate::Readings`] where a switch exists):
//! - Business-rule refusals are 400 `invalid_request_error` with a message naming the object
//!   (101st workspace, updating/removing admins, writes to archived workspaces, default
//!   workspace rename/archive, implicit members).
//! - `GET /invites/{id}` of a deleted invite is 404 by default, consistent with lists that
//!   never show deleted invites ([`crate::DeletedInviteGet`] can show it with
//!   `status: "deleted"`); deleting a deleted invite is 404 (or 400 per
//!   [`crate::readings::DeletedInviteDelete`]).
//! - Org admins (and owners) and billing members are implicit workspace members: by default
//!   they are not listed ([`crate::readings::ImplicitMembers`]), `GET .../members/{user_id}`
//!   is 404 for them unless an explicit membership exists
//!   ([`crate::readings::ImplicitMemberGet`]), and adding, changing or removing them is 400
//!   whether or not they also hold an explicit membership, except that a billing member may be
//!   given `workspace_admin`.
//! - The default workspace has no member list: its member routes are 400.
//! - Workspace `tags` on update merge into the existing map; a `null` value removes a key.
//! - Archiving a workspace sets its keys' status to `archived` ([`crate::ArchiveCascade`]).
//! - API keys: `expired` cannot be set; an expired key accepts only `archived`; leaving
//!   `archived` is refused unless [`crate::Options::allow_unarchive_keys`].
//! - A body that references an unknown user (`user_id` on member create) is 404.
//! - Unknown routes are 404 `not_found_error`; unsupported methods (e.g. `POST /api_keys`,
//!   `DELETE /api_keys/{id}`) too, or 405 per [`crate::readings::WrongMethod`].
//! - Assignable roles follow the organization kind ([`crate::OrganizationKind`]): Console
//!   `user`, `developer`, `billing`, `claude_code_user`; Claude Enterprise `user`, `managed`.
//!   Administrative roles (`admin`, `owner`, `primary_owner`, `membership_admin`) are always 400.

mod activities;
mod federation_issuers;
mod federation_rules;
mod invites;
mod keys;
mod members;
mod oauth_token;
mod organization;
mod reports;
mod service_accounts;
mod users;
mod workspaces;

pub(crate) use activities::activities;
pub(crate) use federation_issuers::{
    archive_federation_issuer, create_federation_issuer, get_federation_issuer,
    list_federation_issuers, update_federation_issuer,
};
pub(crate) use federation_rules::{
    add_federation_rule_workspace, archive_federation_rule, create_federation_rule,
    get_federation_rule, list_federation_rule_workspaces, list_federation_rules,
    remove_federation_rule_workspace, update_federation_rule,
};
pub(crate) use invites::{create_invite, delete_invite, get_invite, list_invites};
pub(crate) use keys::{get_key, list_keys, update_key};
pub(crate) use members::{create_member, delete_member, get_member, list_members, update_member};
pub(crate) use oauth_token::{TOKEN_PATH, oauth_token};
pub(crate) use organization::me;
pub(crate) use reports::{org_rate_limits, usage_report, workspace_rate_limits};
pub(crate) use service_accounts::{
    add_service_account_workspace, add_workspace_service_account, archive_service_account,
    create_service_account, get_service_account, get_workspace_service_account,
    list_service_account_workspaces, list_service_accounts, list_workspace_service_accounts,
    remove_service_account_workspace, remove_workspace_service_account, update_service_account,
    update_workspace_service_account,
};
pub(crate) use users::{delete_user, get_user, list_users, update_user};
pub(crate) use workspaces::{
    archive_workspace, create_workspace, get_workspace, list_workspaces, update_workspace,
};

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::response::{IntoResponse, Response};
use orgform_model::{OrgRole, normalize_email};
use serde_json::{Map, Value};

use crate::Shared;
use crate::error::ApiError;
use crate::query::Query;

/// The state extractor every handler takes.
type Shd = AxState<Arc<Shared>>;
/// What a fallible handler returns.
type ApiResult = Result<Response, ApiError>;

/// Roles the API can assign in a Console organization.
const ASSIGNABLE: &[&str] = &["user", "developer", "billing", "claude_code_user"];
/// Roles the API can assign in a Claude Enterprise organization.
const ASSIGNABLE_ENTERPRISE: &[&str] = &["user", "managed"];

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

/// Roles the `roles[]` filter accepts in a Console organization.
const FILTERABLE: &[&str] = &["user", "developer", "billing", "admin", "claude_code_user"];
/// Roles the `roles[]` filter accepts in a Claude Enterprise organization.
const FILTERABLE_ENTERPRISE: &[&str] = &[
    "user",
    "owner",
    "primary_owner",
    "membership_admin",
    "managed",
];

/// The `roles[]` filter: only the roles of the organization's kind (the spec: Console
/// `user`, `developer`, `billing`, `admin`, `claude_code_user`; Claude Enterprise `user`,
/// `owner`, `primary_owner`, `membership_admin`, `managed`).
fn role_filter(q: &Query, enterprise: bool) -> Result<Vec<OrgRole>, ApiError> {
    let accepted = if enterprise {
        FILTERABLE_ENTERPRISE
    } else {
        FILTERABLE
    };
    q.many("roles")
        .iter()
        .map(|r| {
            if accepted.contains(&r.as_str()) {
                Ok(OrgRole::parse(r))
            } else {
                let kind = if enterprise {
                    "Claude Enterprise"
                } else {
                    "Console"
                };
                Err(ApiError::invalid(format!(
                    "roles: {kind} organizations accept {} (got \"{r}\")",
                    accepted.join(", ")
                )))
            }
        })
        .collect()
}

/// The `email` filter (`format: email` in the spec), in its filter form.
fn email_filter(q: &Query) -> Result<Option<String>, ApiError> {
    match q.one("email")? {
        None => Ok(None),
        Some(e) if valid_email(e.trim()) => Ok(Some(filter_email(e))),
        Some(e) => Err(ApiError::invalid(format!(
            "email: value is not a valid email address (got \"{e}\")"
        ))),
    }
}

fn user_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("user not found: {id}"))
}
