//! Federation issuers: `/v1/organizations/federation_issuers[/{id}[/archive]]`. Bearer tokens
//! only (the gate is in the request pipeline).
//!
//! Documented (the endpoint descriptions of the reference) and followed here: names are slugs,
//! unique (409); `jwks` is one of `discovery`, `explicit_url` or `inline` (at least one key),
//! discovery by default; `max_jwt_lifetime_seconds` is 1-176400 (default 3600), `check_jti`
//! defaults to true; an update sets only the fields sent (`null` leaves one unchanged) and
//! `jwks` replaces the whole key configuration; `jwks_polling_disabled` accepts only `false`;
//! an archived issuer cannot be updated (400); re-archiving is idempotent and keeps the first
//! `archived_at`; archiving is refused (400) while a live rule references the issuer;
//! updating an issuer that backs a rule with a scope other than `workspace:developer` or
//! `workspace:inference` needs a Console session (refused per
//! [`crate::readings::ConsoleScope`]).
//!
//! Choices where the reference is silent (see docs/service-accounts.md): whether archived
//! names stay taken ([`crate::readings::FederationNames`]); lists are newest first; polling is
//! not modelled (`poll_status` and `jwks_polling_disabled_at` are `null`).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::StatusCode;
use orgform_model::{FederationIssuer, Jwks, jwks_digest};
use serde_json::{Map, Value, json};

use super::service_accounts::check_slug;
use super::{ApiResult, Shd, body_object, ok, string_field};
use crate::error::ApiError;
use crate::identities::CursorPage;
use crate::query::Query;
use crate::readings::{ConsoleScope, FederationNames};
use crate::state::{Core, fmt_ts};

/// The scopes an OAuth caller may manage rules with.
pub(super) const OAUTH_SCOPES: &[&str] = &["workspace:developer", "workspace:inference"];

pub(super) fn issuer_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("federation issuer not found: {id}"))
}

/// Whether every scope of `scope` is one an OAuth caller may manage.
pub(super) fn oauth_manageable(scope: &str) -> bool {
    scope.split_whitespace().all(|s| OAUTH_SCOPES.contains(&s))
}

/// The refusal of a change an OAuth caller may not make (a Console session is needed).
pub(super) fn console_only(core: &Core, what: &str) -> ApiError {
    let message = format!(
        "{what} requires a Console session: OAuth callers may only manage rules whose oauth_scope is workspace:developer or workspace:inference"
    );
    match core.readings.console_scope {
        ConsoleScope::Forbidden => ApiError::forbidden(message),
        ConsoleScope::Invalid => ApiError::invalid(message),
    }
}

pub(super) fn conflict(kind: &str, name: &str) -> ApiError {
    ApiError::other(
        StatusCode::CONFLICT,
        "conflict_error",
        format!("a {kind} named \"{name}\" already exists"),
    )
}

/// The wire form of an issuer; inline keys come from the documents the emulator keeps.
pub(crate) fn issuer_json(core: &Core, issuer: &FederationIssuer) -> Value {
    let jwks = match &issuer.jwks {
        Jwks::Discovery {
            discovery_base,
            ca_cert_pem,
        } => {
            json!({"type": "discovery", "discovery_base": discovery_base, "ca_cert_pem": ca_cert_pem})
        }
        Jwks::ExplicitUrl { url, ca_cert_pem } => {
            json!({"type": "explicit_url", "url": url, "ca_cert_pem": ca_cert_pem})
        }
        Jwks::Inline { .. } => json!({
            "type": "inline",
            "keys": core.inline_keys.get(&issuer.id).cloned().unwrap_or_default(),
        }),
    };
    let updated = core
        .identity_updated
        .get(&issuer.id)
        .copied()
        .unwrap_or(issuer.created_at);
    json!({
        "type": "federation_issuer",
        "id": issuer.id,
        "name": issuer.name,
        "issuer_url": issuer.issuer_url,
        "jwks": jwks,
        "max_jwt_lifetime_seconds": issuer.max_jwt_lifetime_seconds,
        "check_jti": issuer.check_jti,
        "created_at": fmt_ts(issuer.created_at),
        "created_by_actor_id": null,
        "updated_at": fmt_ts(updated),
        "updated_by_actor_id": null,
        "archived_at": issuer.archived_at.map(fmt_ts),
        "archived_by_actor_id": null,
        "jwks_polling_disabled_at": null,
        "poll_status": null,
    })
}

/// Parses a `jwks` object: the model form and, for inline keys, the documents.
fn parse_jwks(value: &Value) -> Result<(Jwks, Option<Vec<Value>>), ApiError> {
    let Value::Object(map) = value else {
        return Err(ApiError::invalid("jwks: Input should be an object"));
    };
    let kind = string_field(map, "type")?.ok_or_else(|| {
        ApiError::invalid("jwks: Unable to extract tag using discriminator 'type'")
    })?;
    let allowed: &[&str] = match kind {
        "discovery" => &["type", "discovery_base", "ca_cert_pem"],
        "explicit_url" => &["type", "url", "ca_cert_pem"],
        "inline" => &["type", "keys"],
        other => {
            return Err(ApiError::invalid(format!(
                "jwks: Input tag '{other}' found using 'type' does not match any of the expected tags: 'discovery', 'explicit_url', 'inline'"
            )));
        }
    };
    if let Some(extra) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ApiError::invalid(format!(
            "jwks.{kind}.{extra}: Extra inputs are not permitted"
        )));
    }
    let ca = string_field(map, "ca_cert_pem")?.map(str::to_owned);
    if ca.as_ref().is_some_and(|c| c.chars().count() > 8192) {
        return Err(ApiError::invalid(
            "jwks.ca_cert_pem: String should have at most 8192 characters",
        ));
    }
    Ok(match kind {
        "discovery" => (
            Jwks::Discovery {
                discovery_base: string_field(map, "discovery_base")?.map(str::to_owned),
                ca_cert_pem: ca,
            },
            None,
        ),
        "explicit_url" => {
            let url = string_field(map, "url")?
                .ok_or_else(|| ApiError::invalid("jwks.explicit_url.url: Field required"))?;
            if url.is_empty() {
                return Err(ApiError::invalid(
                    "jwks.explicit_url.url: String should have at least 1 character",
                ));
            }
            (
                Jwks::ExplicitUrl {
                    url: url.to_owned(),
                    ca_cert_pem: ca,
                },
                None,
            )
        }
        _ => {
            let keys = match map.get("keys") {
                Some(Value::Array(keys)) => keys,
                Some(_) => {
                    return Err(ApiError::invalid(
                        "jwks.inline.keys: Input should be a valid list",
                    ));
                }
                None => return Err(ApiError::invalid("jwks.inline.keys: Field required")),
            };
            if keys.is_empty() {
                return Err(ApiError::invalid(
                    "jwks.inline.keys: List should have at least 1 item",
                ));
            }
            if keys.iter().any(|k| !k.is_object()) {
                return Err(ApiError::invalid(
                    "jwks.inline.keys: Input should be a valid dictionary",
                ));
            }
            (
                Jwks::Inline {
                    keys_digest: jwks_digest(keys),
                    key_count: keys.len(),
                },
                Some(keys.clone()),
            )
        }
    })
}

fn parse_lifetime(map: &Map<String, Value>) -> Result<Option<u32>, ApiError> {
    match map.get("max_jwt_lifetime_seconds") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if (1..=176_400).contains(&n) => Ok(u32::try_from(n).ok()),
            _ => Err(ApiError::invalid(format!(
                "max_jwt_lifetime_seconds: Input should be greater than 0 and at most 176400 (got {v})"
            ))),
        },
    }
}

fn parse_bool(map: &Map<String, Value>, name: &str) -> Result<Option<bool>, ApiError> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ApiError::invalid(format!(
            "{name}: Input should be a valid boolean"
        ))),
    }
}

fn name_taken(core: &Core, name: &str, except: &str) -> bool {
    let archived_taken = core.readings.federation_names == FederationNames::Taken;
    core.state
        .identities
        .federation_issuers
        .iter()
        .any(|i| i.id != except && i.name == name && (archived_taken || !i.is_archived()))
}

fn position(core: &Core, id: &str) -> Result<usize, ApiError> {
    core.state
        .identities
        .federation_issuers
        .iter()
        .position(|i| i.id == id)
        .ok_or_else(|| issuer_not_found(id))
}

/// `GET /v1/organizations/federation_issuers`: newest first; archived ones only with
/// `include_archived=true`.
pub(crate) async fn list_federation_issuers(AxState(s): Shd, RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let page = CursorPage::parse(&q)?;
    let include_archived = q.bool("include_archived")?;
    let core = s.core.read();
    let mut issuers: Vec<&FederationIssuer> = core
        .state
        .identities
        .federation_issuers
        .iter()
        .filter(|i| include_archived || !i.is_archived())
        .collect();
    issuers.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    let items: Vec<(String, Value)> = issuers
        .into_iter()
        .map(|i| (i.id.clone(), issuer_json(&core, i)))
        .collect();
    Ok(ok(&page.render(&items)?))
}

/// `POST /v1/organizations/federation_issuers`.
pub(crate) async fn create_federation_issuer(AxState(s): Shd, body: Bytes) -> ApiResult {
    let map = body_object(
        &body,
        &[
            "name",
            "issuer_url",
            "jwks",
            "max_jwt_lifetime_seconds",
            "check_jti",
        ],
        &["name", "issuer_url"],
    )?;
    let name = string_field(&map, "name")?
        .ok_or_else(|| ApiError::invalid("name: Input should be a valid string"))?
        .to_owned();
    check_slug(&name)?;
    let issuer_url = string_field(&map, "issuer_url")?
        .ok_or_else(|| ApiError::invalid("issuer_url: Input should be a valid string"))?
        .to_owned();
    if issuer_url.is_empty() {
        return Err(ApiError::invalid(
            "issuer_url: String should have at least 1 character",
        ));
    }
    let (jwks, keys) = match map.get("jwks") {
        None | Some(Value::Null) => (
            Jwks::Discovery {
                discovery_base: None,
                ca_cert_pem: None,
            },
            None,
        ),
        Some(v) => parse_jwks(v)?,
    };
    let lifetime = parse_lifetime(&map)?.unwrap_or(3600);
    let check_jti = parse_bool(&map, "check_jti")?.unwrap_or(true);
    let mut core = s.core.write();
    if name_taken(&core, &name, "") {
        return Err(conflict("federation issuer", &name));
    }
    let issuer = FederationIssuer {
        id: core.fresh_id(&s.ids, "fdis"),
        name,
        issuer_url,
        jwks,
        max_jwt_lifetime_seconds: lifetime,
        check_jti,
        created_at: core.now,
        archived_at: None,
    };
    if let Some(keys) = keys {
        core.inline_keys.insert(issuer.id.clone(), keys);
    }
    let out = issuer_json(&core, &issuer);
    core.state.identities.federation_issuers.push(issuer);
    core.touch();
    Ok(ok(&out))
}

/// `GET /v1/organizations/federation_issuers/{id}` (archived ones included).
pub(crate) async fn get_federation_issuer(AxState(s): Shd, Path(id): Path<String>) -> ApiResult {
    let core = s.core.read();
    let i = position(&core, &id)?;
    Ok(ok(&issuer_json(
        &core,
        &core.state.identities.federation_issuers[i],
    )))
}

/// `POST /v1/organizations/federation_issuers/{id}`.
pub(crate) async fn update_federation_issuer(
    AxState(s): Shd,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let map = body_object(
        &body,
        &[
            "name",
            "issuer_url",
            "jwks",
            "jwks_polling_disabled",
            "max_jwt_lifetime_seconds",
            "check_jti",
        ],
        &[],
    )?;
    let name = string_field(&map, "name")?.map(str::to_owned);
    if let Some(n) = &name {
        check_slug(n)?;
    }
    let issuer_url = string_field(&map, "issuer_url")?.map(str::to_owned);
    if issuer_url.as_ref().is_some_and(String::is_empty) {
        return Err(ApiError::invalid(
            "issuer_url: String should have at least 1 character",
        ));
    }
    let jwks = match map.get("jwks") {
        None | Some(Value::Null) => None,
        Some(v) => Some(parse_jwks(v)?),
    };
    if parse_bool(&map, "jwks_polling_disabled")? == Some(true) {
        return Err(ApiError::invalid(
            "jwks_polling_disabled: only false is accepted (polling is paused automatically)",
        ));
    }
    let lifetime = parse_lifetime(&map)?;
    let check_jti = parse_bool(&map, "check_jti")?;
    let mut core = s.core.write();
    let i = position(&core, &id)?;
    if let Some(at) = core.state.identities.federation_issuers[i].archived_at {
        return Err(ApiError::invalid(format!(
            "federation issuer {id} was archived at {} and can no longer be updated; create a new issuer instead",
            fmt_ts(at)
        )));
    }
    if core
        .state
        .identities
        .federation_rules
        .iter()
        .any(|r| r.issuer_id == id && !r.is_archived() && !oauth_manageable(&r.oauth_scope))
    {
        return Err(console_only(
            &core,
            "updating an issuer that backs a rule with another scope",
        ));
    }
    if let Some(n) = &name
        && name_taken(&core, n, &id)
    {
        return Err(conflict("federation issuer", n));
    }
    let now = core.now;
    let issuer = &mut core.state.identities.federation_issuers[i];
    if let Some(n) = name {
        issuer.name = n;
    }
    if let Some(u) = issuer_url {
        issuer.issuer_url = u;
    }
    if let Some(l) = lifetime {
        issuer.max_jwt_lifetime_seconds = l;
    }
    if let Some(c) = check_jti {
        issuer.check_jti = c;
    }
    let mut keys_change = None;
    if let Some((jwks, keys)) = jwks {
        issuer.jwks = jwks;
        keys_change = Some(keys);
    }
    match keys_change {
        Some(Some(keys)) => {
            core.inline_keys.insert(id.clone(), keys);
        }
        Some(None) => {
            core.inline_keys.remove(&id);
        }
        None => {}
    }
    core.identity_updated.insert(id.clone(), now);
    let out = issuer_json(&core, &core.state.identities.federation_issuers[i]);
    core.touch();
    Ok(ok(&out))
}

/// `POST /v1/organizations/federation_issuers/{id}/archive`.
pub(crate) async fn archive_federation_issuer(
    AxState(s): Shd,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    body_object(&body, &[], &[])?;
    let mut core = s.core.write();
    let i = position(&core, &id)?;
    if core.state.identities.federation_issuers[i]
        .archived_at
        .is_some()
    {
        return Ok(ok(&issuer_json(
            &core,
            &core.state.identities.federation_issuers[i],
        )));
    }
    if let Some(rule) = core
        .state
        .identities
        .federation_rules
        .iter()
        .find(|r| r.issuer_id == id && !r.is_archived())
    {
        return Err(ApiError::invalid(format!(
            "federation issuer {id} is still referenced by live federation rule {}; archive its rules first",
            rule.id
        )));
    }
    let now = core.now;
    core.state.identities.federation_issuers[i].archived_at = Some(now);
    core.identity_updated.insert(id.clone(), now);
    let out = issuer_json(&core, &core.state.identities.federation_issuers[i]);
    core.touch();
    Ok(ok(&out))
}
