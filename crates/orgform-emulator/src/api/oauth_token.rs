//! `POST /v1/oauth/token`: the workload identity federation token exchange (RFC 7523
//! `jwt-bearer` grant), as the official "WIF reference" page describes it.
//!
//! Request: a JSON object with `grant_type` (`urn:ietf:params:oauth:grant-type:jwt-bearer`),
//! `assertion` (the identity JWT), `federation_rule_id` (`fdrl_...`), `organization_id` (the
//! organization's UUID), `service_account_id` (`svac_...`) and, when the rule is enabled for
//! several workspaces, `workspace_id` (`wrkspc_...` or `default`). Other fields are ignored
//! (an official SDK: "the gateway transform drops unknown body fields"). No credential is
//! needed; the request is outside the Admin API's authentication.
//!
//! A missing or malformed field is 400 `invalid_request_error` naming it. Every other refusal
//! is one opaque denial, 401 `authentication_error` `Authentication failed` (or 400
//! `invalid_grant` per [`crate::readings::ExchangeDenial`]): another organization, an unknown
//! or archived rule, a service account other than the rule's target or archived, an archived
//! issuer, a key set the emulator cannot use, every JWT check of [`crate::jwt`], a replayed
//! `jti` (when the issuer's `check_jti`), a claim the rule's `match` does not satisfy, a
//! workspace the rule is not enabled for, archived, or that the service account is not a
//! member of, or a missing `workspace_id` on a multi-workspace rule
//! ([`crate::readings::ExchangeWorkspace`]). The reason is kept in the emulator's
//! authentication history ([`crate::Emulator::exchange_denials`]), never in the response.
//!
//! Not modelled: JWKS by URL. The emulator makes no outbound request, so an issuer in
//! `discovery` or `explicit_url` mode denies every exchange (reason `jwks_unavailable`); use
//! an `inline` key set. A rule `condition` (CEL) is not evaluated: a rule with one denies
//! (reason `condition_not_evaluated`), failing closed.
//!
//! Success: `{"access_token": "sk-ant-oat01-...", "token_type": "Bearer", "expires_in": <the
//! rule's token_lifetime_seconds>, "scope": <the rule's scope>}`; the token is minted in the
//! [`crate::tokens::TokenStore`].

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::StatusCode;
use orgform_model::{FederationRule, Jwks, RuleMatch};
use serde_json::{Map, Value, json};

use super::{ApiResult, Shd, ok};
use crate::error::ApiError;
use crate::jwt::{self, Claims, Deny, IssuerCheck};
use crate::readings::{ExchangeDenial, ExchangeWorkspace};
use crate::state::Core;
use crate::tokens::Minted;

/// The only grant accepted.
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The path of the exchange.
pub(crate) const TOKEN_PATH: &str = "/v1/oauth/token";

/// The literal that names the default workspace in `workspace_id`.
const DEFAULT_WORKSPACE: &str = "default";

/// The request's fields.
struct Exchange {
    assertion: String,
    rule_id: String,
    organization_id: String,
    service_account_id: String,
    workspace_id: Option<String>,
}

fn field(map: &Map<String, Value>, name: &str) -> Result<Option<String>, ApiError> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::invalid(format!(
            "{name}: Input should be a non-empty string"
        ))),
    }
}

fn required(map: &Map<String, Value>, name: &str) -> Result<String, ApiError> {
    field(map, name)?.ok_or_else(|| ApiError::invalid(format!("{name}: Field required")))
}

fn tagged(value: &str, prefix: &str) -> bool {
    value
        .strip_prefix(prefix)
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn uuid_shaped(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn parse(body: &Bytes) -> Result<Exchange, ApiError> {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return Err(ApiError::invalid("the request body must be a JSON object"));
    };
    let grant = required(&map, "grant_type")?;
    if grant != JWT_BEARER {
        return Err(ApiError::invalid(format!(
            "grant_type: unsupported grant_type {grant:?}; expected {JWT_BEARER}"
        )));
    }
    let assertion = required(&map, "assertion")?;
    let rule_id = required(&map, "federation_rule_id")?;
    if !tagged(&rule_id, "fdrl_") {
        return Err(ApiError::invalid(
            "federation_rule_id: expected a tagged federation rule id (fdrl_...)",
        ));
    }
    let organization_id = required(&map, "organization_id")?;
    if !uuid_shaped(&organization_id) {
        return Err(ApiError::invalid(
            "organization_id: expected the organization's UUID",
        ));
    }
    let service_account_id = required(&map, "service_account_id")?;
    if !tagged(&service_account_id, "svac_") {
        return Err(ApiError::invalid(
            "service_account_id: expected a tagged service account id (svac_...)",
        ));
    }
    let workspace_id = field(&map, "workspace_id")?;
    if let Some(w) = &workspace_id
        && w != DEFAULT_WORKSPACE
        && !tagged(w, "wrkspc_")
    {
        return Err(ApiError::invalid(
            "workspace_id: expected a tagged workspace id (wrkspc_...) or the literal `default`",
        ));
    }
    Ok(Exchange {
        assertion,
        rule_id,
        organization_id,
        service_account_id,
        workspace_id,
    })
}

/// Whether `claims` satisfy every populated matcher of `m`.
pub(crate) fn rule_matches(m: &RuleMatch, claims: &Claims) -> Result<(), Deny> {
    if let Some(prefix) = &m.subject_prefix {
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let ok = match prefix.strip_suffix('*') {
            Some(head) => sub.starts_with(head),
            None => sub == prefix,
        };
        if !ok {
            return Err("match_subject_prefix");
        }
    }
    if let Some(audience) = &m.audience {
        let ok = match claims.get("aud") {
            Some(Value::String(a)) => a == audience,
            Some(Value::Array(items)) => items.iter().any(|a| a.as_str() == Some(audience)),
            _ => false,
        };
        if !ok {
            return Err("match_audience");
        }
    }
    for (name, wanted) in &m.claims {
        if claims.get(name).and_then(Value::as_str) != Some(wanted.as_str()) {
            return Err("match_claims");
        }
    }
    if m.condition.is_some() {
        return Err("condition_not_evaluated");
    }
    Ok(())
}

/// The workspaces a rule is enabled for (the default workspace's id included when covered).
fn enabled_workspaces(core: &Core, rule: &FederationRule) -> Vec<String> {
    let default = core.state.default_workspace.workspace.id.clone();
    if rule.applies_to_all_workspaces {
        std::iter::once(default)
            .chain(
                core.state
                    .workspaces
                    .iter()
                    .filter(|w| w.workspace.archived_at.is_none())
                    .map(|w| w.workspace.id.clone()),
            )
            .collect()
    } else {
        rule.workspace_ids.clone()
    }
}

/// The workspace the token is scoped to.
fn choose_workspace(
    core: &Core,
    rule: &FederationRule,
    asked: Option<&str>,
) -> Result<String, Deny> {
    let default = core.state.default_workspace.workspace.id.as_str();
    let enabled = enabled_workspaces(core, rule);
    let chosen = match asked {
        Some(DEFAULT_WORKSPACE) => default.to_owned(),
        Some(id) => id.to_owned(),
        None => match enabled.as_slice() {
            [one] => one.clone(),
            [] => return Err("workspace_not_enabled"),
            _ => match core.readings.exchange_workspace {
                ExchangeWorkspace::DefaultIfCovered if enabled.iter().any(|w| w == default) => {
                    default.to_owned()
                }
                _ => return Err("workspace_id_required"),
            },
        },
    };
    if !enabled.contains(&chosen) {
        return Err("workspace_not_enabled");
    }
    if chosen != default {
        match core.state.workspace(&chosen) {
            Some(w) if w.workspace.archived_at.is_none() => {}
            _ => return Err("workspace_archived"),
        }
        let member = core
            .state
            .identities
            .service_account_members
            .iter()
            .any(|m| {
                m.workspace_id == chosen && m.service_account_id == rule.target_service_account_id
            });
        if !member {
            return Err("service_account_not_in_workspace");
        }
    }
    Ok(chosen)
}

/// Every check of an exchange against the organization; the minted binding on success.
fn evaluate(
    core: &Core,
    tokens: &crate::tokens::TokenStore,
    x: &Exchange,
) -> Result<(Minted, Option<(String, String)>), Deny> {
    if x.organization_id != core.state.organization.id {
        return Err("rule_not_found");
    }
    let ids = &core.state.identities;
    let rule = ids
        .federation_rules
        .iter()
        .find(|r| r.id == x.rule_id && !r.is_archived())
        .ok_or("rule_not_found")?;
    if rule.target_service_account_id != x.service_account_id {
        return Err("service_account_mismatch");
    }
    let sa = ids
        .service_account(&rule.target_service_account_id)
        .filter(|sa| !sa.is_archived())
        .ok_or("service_account_archived")?;
    let issuer = ids
        .issuer(&rule.issuer_id)
        .filter(|i| !i.is_archived())
        .ok_or("issuer_archived")?;
    if !matches!(issuer.jwks, Jwks::Inline { .. }) {
        return Err("jwks_unavailable");
    }
    let keys = core.inline_keys.get(&issuer.id).ok_or("jwks_unavailable")?;
    let claims = jwt::verify(
        &x.assertion,
        &IssuerCheck {
            issuer_url: &issuer.issuer_url,
            keys,
            max_lifetime_seconds: issuer.max_jwt_lifetime_seconds,
        },
        core.now,
    )?;
    let jti = match claims.get("jti").and_then(Value::as_str) {
        Some(jti) if issuer.check_jti => {
            if tokens.jti_used(&issuer.id, jti) {
                return Err("jti_reused");
            }
            Some((issuer.id.clone(), jti.to_owned()))
        }
        _ => None,
    };
    rule_matches(&rule.rule_match, &claims)?;
    let workspace_id = choose_workspace(core, rule, x.workspace_id.as_deref())?;
    let expires_at = core
        .now
        .saturating_add(jiff::SignedDuration::from_secs(i64::from(
            rule.token_lifetime_seconds,
        )))
        .unwrap_or(core.now);
    Ok((
        Minted {
            serial: 0,
            service_account_id: rule.target_service_account_id.clone(),
            rule_id: rule.id.clone(),
            scope: rule.oauth_scope.clone(),
            workspace_id,
            expires_at,
            admin: rule
                .oauth_scope
                .split_whitespace()
                .any(|s| s == "org:admin")
                && sa.organization_role == orgform_model::ServiceAccountRole::Admin,
        },
        jti,
    ))
}

/// `POST /v1/oauth/token`.
pub(crate) async fn oauth_token(AxState(s): Shd, body: Bytes) -> ApiResult {
    let x = parse(&body)?;
    let core = s.core.read();
    let mut tokens = s.tokens.lock();
    match evaluate(&core, &tokens, &x) {
        Ok((minted, jti)) => {
            if let Some((issuer, jti)) = jti {
                tokens.use_jti(&issuer, &jti);
            }
            let lifetime = minted
                .expires_at
                .as_second()
                .saturating_sub(core.now.as_second());
            let scope = minted.scope.clone();
            let token = tokens.mint(minted);
            Ok(ok(&json!({
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": lifetime,
                "scope": scope,
            })))
        }
        Err(reason) => {
            s.exchange_denials.lock().push(reason.to_owned());
            Err(match core.readings.exchange_denial {
                ExchangeDenial::Unauthorized => ApiError::other(
                    StatusCode::UNAUTHORIZED,
                    "authentication_error",
                    "Authentication failed",
                ),
                ExchangeDenial::InvalidGrant => ApiError::other(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Authentication failed",
                ),
            })
        }
    }
}
