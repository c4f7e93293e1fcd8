//! Federation rules: `/v1/organizations/federation_rules[/{id}[/archive]]` and the workspace
//! enablements `/v1/organizations/federation_rules/{id}/workspaces[/{workspace_id}]`. Bearer
//! tokens only (the gate is in the request pipeline).
//!
//! Documented (the endpoint descriptions of the reference) and followed here: names are slugs,
//! unique (409); the issuer and the target service account must exist (400), the workspace
//! reference is validated (400), and `workspace_id` is required unless
//! `applies_to_all_workspaces`; a match needs `subject_prefix` (not wildcard-only), `claims` or
//! `condition` (`audience` alone is 400) and a constant-true condition is 400;
//! `token_lifetime_seconds` is 60-86400 (default 3600); a non-empty `attributes` is 400; an
//! OAuth caller may only set and manage the scopes `workspace:developer` and
//! `workspace:inference` (else per [`crate::readings::ConsoleScope`]); rules on well-known
//! shared issuers must pin the tenant (an identity-bearing claim, a tenant subject prefix, or
//! a condition over one of those claims); `issuer_id` is immutable; an archived rule cannot be
//! updated nor enabled for a workspace (400); archiving is idempotent and empties the
//! workspace targeting; `applies_to_all_workspaces: false` is 400 when no workspace would
//! remain; `workspace_id` on update replaces the single enablement and is 400 when the rule is
//! enabled for more than one; enabling and disabling a workspace are idempotent; the
//! enablement list returns everything at once with `next_page: null`. Membership of the target
//! in a workspace is not checked (the token exchange checks it).
//!
//! Choices where the reference is silent (see docs/service-accounts.md): the legacy
//! `workspace_id` is shown when the rule is enabled for exactly one workspace; the well-known
//! issuers recognised are GitHub Actions and GitLab; an archived issuer or service account
//! cannot be referenced by a new rule (400); whether archived names stay taken
//! ([`crate::readings::FederationNames`]); lists are newest first.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use orgform_model::{FederationRule, RuleMatch};
use serde_json::{Map, Value, json};

use super::federation_issuers::{conflict, console_only, issuer_not_found, oauth_manageable};
use super::service_accounts::check_slug;
use super::{ApiResult, Shd, body_object, ok, string_field};
use crate::error::ApiError;
use crate::identities::CursorPage;
use crate::query::Query;
use crate::readings::FederationNames;
use crate::state::{Core, fmt_ts};

/// Well-known shared issuers and the claims that identify a tenant on them, with the subject
/// prefix that pins one.
const SHARED_ISSUERS: &[(&str, &[&str], &str)] = &[
    (
        "https://token.actions.githubusercontent.com",
        &[
            "repository_owner",
            "repository_owner_id",
            "repository",
            "repository_id",
            "enterprise",
            "enterprise_id",
        ],
        "repo:",
    ),
    (
        "https://gitlab.com",
        &[
            "namespace_path",
            "namespace_id",
            "project_path",
            "project_id",
        ],
        "project_path:",
    ),
];

fn rule_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("federation rule not found: {id}"))
}

/// The wire form of a rule.
pub(crate) fn rule_json(core: &Core, rule: &FederationRule) -> Value {
    let ids = &core.state.identities;
    let updated = core
        .identity_updated
        .get(&rule.id)
        .copied()
        .unwrap_or(rule.created_at);
    let legacy = (rule.workspace_ids.len() == 1).then(|| rule.workspace_ids[0].clone());
    json!({
        "type": "federation_rule",
        "id": rule.id,
        "name": rule.name,
        "description": rule.description,
        "issuer_id": rule.issuer_id,
        "issuer_name": ids.issuer(&rule.issuer_id).map(|i| i.name.clone()),
        "match": match_json(&rule.rule_match),
        "target": {
            "type": "service_account",
            "service_account_id": rule.target_service_account_id,
            "service_account_name": ids.service_account(&rule.target_service_account_id).map(|s| s.name.clone()),
        },
        "oauth_scope": rule.oauth_scope,
        "token_lifetime_seconds": rule.token_lifetime_seconds,
        "applies_to_all_workspaces": rule.applies_to_all_workspaces,
        "workspace_id": legacy,
        "workspace_ids": rule.workspace_ids,
        "attributes": null,
        "created_at": fmt_ts(rule.created_at),
        "created_by_actor_id": null,
        "updated_at": fmt_ts(updated),
        "updated_by_actor_id": null,
        "archived_at": rule.archived_at.map(fmt_ts),
        "archived_by_actor_id": null,
    })
}

fn match_json(m: &RuleMatch) -> Value {
    json!({
        "subject_prefix": m.subject_prefix,
        "claims": (!m.claims.is_empty()).then_some(&m.claims),
        "condition": m.condition,
        "audience": m.audience,
    })
}

fn bounded(map: &Map<String, Value>, name: &str, max: usize) -> Result<Option<String>, ApiError> {
    let value = string_field(map, name)?;
    if value.is_some_and(|v| v.chars().count() > max) {
        return Err(ApiError::invalid(format!(
            "match.{name}: String should have at most {max} characters"
        )));
    }
    Ok(value.map(str::to_owned))
}

fn parse_match(value: &Value) -> Result<RuleMatch, ApiError> {
    let Value::Object(map) = value else {
        return Err(ApiError::invalid("match: Input should be an object"));
    };
    let allowed = ["subject_prefix", "claims", "condition", "audience"];
    if let Some(extra) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ApiError::invalid(format!(
            "match.{extra}: Extra inputs are not permitted"
        )));
    }
    let mut claims = BTreeMap::new();
    match map.get("claims") {
        None | Some(Value::Null) => {}
        Some(Value::Object(c)) => {
            for (k, v) in c {
                let Value::String(v) = v else {
                    return Err(ApiError::invalid(format!(
                        "match.claims.{k}: Input should be a valid string"
                    )));
                };
                claims.insert(k.clone(), v.clone());
            }
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "match.claims: Input should be a valid dictionary",
            ));
        }
    }
    let m = RuleMatch {
        audience: bounded(map, "audience", 1024)?,
        claims,
        condition: bounded(map, "condition", 4096)?,
        subject_prefix: bounded(map, "subject_prefix", 1024)?,
    };
    let subject = m
        .subject_prefix
        .as_deref()
        .is_some_and(|s| !s.chars().all(|c| c == '*' || c.is_whitespace()));
    if !subject && m.claims.is_empty() && m.condition.is_none() {
        return Err(ApiError::invalid(
            "match: at least one of subject_prefix (other than a wildcard-only value like `*`), claims, or condition is required; audience alone is not sufficient",
        ));
    }
    if m.condition.as_deref().is_some_and(|c| c.trim() == "true") {
        return Err(ApiError::invalid(
            "match.condition: a constant-true expression is not allowed",
        ));
    }
    Ok(m)
}

/// Refuses a match on a well-known shared issuer that does not pin the tenant.
fn check_tenant(issuer_url: &str, m: &RuleMatch) -> Result<(), ApiError> {
    let Some((_, claims, prefix)) = SHARED_ISSUERS
        .iter()
        .find(|(url, _, _)| issuer_url.trim_end_matches('/') == *url)
    else {
        return Ok(());
    };
    let by_claim = m.claims.keys().any(|k| claims.contains(&k.as_str()));
    let by_subject = m.subject_prefix.as_deref().is_some_and(|s| {
        s.strip_prefix(prefix)
            .and_then(|rest| rest.split_once('/'))
            .is_some_and(|(tenant, _)| !tenant.is_empty() && !tenant.contains('*'))
    });
    let by_condition = m.condition.as_deref().is_some_and(|c| {
        claims
            .iter()
            .any(|claim| c.contains(&format!("claims.{claim}")))
    });
    if by_claim || by_subject || by_condition {
        return Ok(());
    }
    Err(ApiError::invalid(format!(
        "match: rules on the shared issuer {issuer_url} must constrain tenant identity: an identity-bearing claim ({}), a subject prefix such as `{prefix}YOUR_ORG/...`, or a condition over one of those claims",
        claims.join(", ")
    )))
}

fn parse_scope(core: &Core, map: &Map<String, Value>) -> Result<Option<String>, ApiError> {
    let Some(scope) = string_field(map, "oauth_scope")? else {
        return Ok(None);
    };
    if scope.trim().is_empty() {
        return Err(ApiError::invalid(
            "oauth_scope: String should have at least 1 character",
        ));
    }
    if !oauth_manageable(scope) {
        return Err(console_only(core, &format!("the scope \"{scope}\"")));
    }
    Ok(Some(scope.to_owned()))
}

fn parse_target(core: &Core, value: &Value) -> Result<String, ApiError> {
    let Value::Object(map) = value else {
        return Err(ApiError::invalid("target: Input should be an object"));
    };
    if let Some(extra) = map
        .keys()
        .find(|k| !["type", "service_account_id", "service_account_name"].contains(&k.as_str()))
    {
        return Err(ApiError::invalid(format!(
            "target.{extra}: Extra inputs are not permitted"
        )));
    }
    if string_field(map, "type")? != Some("service_account") {
        return Err(ApiError::invalid(
            "target.type: Input should be 'service_account'",
        ));
    }
    let id = string_field(map, "service_account_id")?
        .ok_or_else(|| ApiError::invalid("target.service_account_id: Field required"))?;
    match core.state.identities.service_account(id) {
        Some(sa) if !sa.is_archived() => Ok(id.to_owned()),
        Some(_) => Err(ApiError::invalid(format!(
            "target.service_account_id: service account {id} is archived"
        ))),
        None => Err(ApiError::invalid(format!(
            "target.service_account_id: service account {id} does not exist in this organization"
        ))),
    }
}

fn parse_lifetime(map: &Map<String, Value>) -> Result<Option<u32>, ApiError> {
    match map.get("token_lifetime_seconds") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if (60..=86_400).contains(&n) => Ok(u32::try_from(n).ok()),
            _ => Err(ApiError::invalid(format!(
                "token_lifetime_seconds: Input should be between 60 and 86400 (got {v})"
            ))),
        },
    }
}

fn check_attributes(map: &Map<String, Value>) -> Result<(), ApiError> {
    match map.get("attributes") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Object(a)) if a.is_empty() => Ok(()),
        Some(_) => Err(ApiError::invalid(
            "attributes: not yet supported; send null or omit it",
        )),
    }
}

/// A workspace a rule may be enabled for: known and not archived.
fn check_workspace(core: &Core, id: &str) -> Result<(), ApiError> {
    if core.state.default_workspace.workspace.id == id {
        return Ok(());
    }
    match core.state.workspace(id) {
        Some(w) if !w.workspace.is_archived() => Ok(()),
        Some(_) => Err(ApiError::invalid(format!("workspace {id} is archived"))),
        None => Err(ApiError::invalid(format!(
            "workspace_id: workspace {id} does not exist in this organization"
        ))),
    }
}

fn name_taken(core: &Core, name: &str, except: &str) -> bool {
    let archived_taken = core.readings.federation_names == FederationNames::Taken;
    core.state
        .identities
        .federation_rules
        .iter()
        .any(|r| r.id != except && r.name == name && (archived_taken || !r.is_archived()))
}

fn position(core: &Core, id: &str) -> Result<usize, ApiError> {
    core.state
        .identities
        .federation_rules
        .iter()
        .position(|r| r.id == id)
        .ok_or_else(|| rule_not_found(id))
}

/// The rule at `i`, refused when archived or when an OAuth caller may not manage it.
fn writable(core: &Core, i: usize, what: &str) -> Result<(), ApiError> {
    let rule = &core.state.identities.federation_rules[i];
    if let Some(at) = rule.archived_at {
        return Err(ApiError::invalid(format!(
            "federation rule {} was archived at {} and can no longer be {what}; create a new rule instead",
            rule.id,
            fmt_ts(at)
        )));
    }
    if !oauth_manageable(&rule.oauth_scope) {
        return Err(console_only(
            core,
            &format!("managing rule {} (scope \"{}\")", rule.id, rule.oauth_scope),
        ));
    }
    Ok(())
}

/// `GET /v1/organizations/federation_rules`: newest first; `issuer_id` filters; archived ones
/// only with `include_archived=true`.
pub(crate) async fn list_federation_rules(AxState(s): Shd, RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let page = CursorPage::parse(&q)?;
    let include_archived = q.bool("include_archived")?;
    let issuer = q.one("issuer_id")?.map(str::to_owned);
    let core = s.core.read();
    let mut rules: Vec<&FederationRule> = core
        .state
        .identities
        .federation_rules
        .iter()
        .filter(|r| include_archived || !r.is_archived())
        .filter(|r| issuer.as_ref().is_none_or(|i| *i == r.issuer_id))
        .collect();
    rules.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    let items: Vec<(String, Value)> = rules
        .into_iter()
        .map(|r| (r.id.clone(), rule_json(&core, r)))
        .collect();
    Ok(ok(&page.render(&items)?))
}

/// `POST /v1/organizations/federation_rules`.
pub(crate) async fn create_federation_rule(AxState(s): Shd, body: Bytes) -> ApiResult {
    let map = body_object(
        &body,
        &[
            "name",
            "description",
            "issuer_id",
            "match",
            "target",
            "oauth_scope",
            "token_lifetime_seconds",
            "workspace_id",
            "applies_to_all_workspaces",
            "attributes",
        ],
        &["issuer_id", "match", "name", "oauth_scope", "target"],
    )?;
    let name = string_field(&map, "name")?
        .ok_or_else(|| ApiError::invalid("name: Input should be a valid string"))?
        .to_owned();
    check_slug(&name)?;
    let description = string_field(&map, "description")?.map(str::to_owned);
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 2000)
    {
        return Err(ApiError::invalid(
            "description: String should have at most 2000 characters",
        ));
    }
    let rule_match = parse_match(&map["match"])?;
    let lifetime = parse_lifetime(&map)?.unwrap_or(3600);
    check_attributes(&map)?;
    let all = match map.get("applies_to_all_workspaces") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ApiError::invalid(
                "applies_to_all_workspaces: Input should be a valid boolean",
            ));
        }
    };
    let workspace = string_field(&map, "workspace_id")?.map(str::to_owned);
    let issuer_id = string_field(&map, "issuer_id")?
        .ok_or_else(|| ApiError::invalid("issuer_id: Input should be a valid string"))?
        .to_owned();
    let mut core = s.core.write();
    let scope = parse_scope(&core, &map)?.unwrap_or_default();
    let issuer_url = match core.state.identities.issuer(&issuer_id) {
        Some(i) if !i.is_archived() => i.issuer_url.clone(),
        Some(_) => {
            return Err(ApiError::invalid(format!(
                "issuer_id: federation issuer {issuer_id} is archived"
            )));
        }
        None => {
            return Err(ApiError::invalid(format!(
                "issuer_id: federation issuer {issuer_id} does not exist in this organization"
            )));
        }
    };
    check_tenant(&issuer_url, &rule_match)?;
    let target = parse_target(&core, &map["target"])?;
    match &workspace {
        Some(ws) => check_workspace(&core, ws)?,
        None if !all => {
            return Err(ApiError::invalid(
                "workspace_id: required unless applies_to_all_workspaces is true",
            ));
        }
        None => {}
    }
    if name_taken(&core, &name, "") {
        return Err(conflict("federation rule", &name));
    }
    let rule = FederationRule {
        id: core.fresh_id(&s.ids, "fdrl"),
        name,
        description,
        issuer_id,
        rule_match,
        target_service_account_id: target,
        oauth_scope: scope,
        token_lifetime_seconds: lifetime,
        applies_to_all_workspaces: all,
        workspace_ids: workspace.into_iter().collect(),
        created_at: core.now,
        archived_at: None,
    };
    let out = rule_json(&core, &rule);
    core.state.identities.federation_rules.push(rule);
    core.touch();
    Ok(ok(&out))
}

/// `GET /v1/organizations/federation_rules/{id}` (archived ones included).
pub(crate) async fn get_federation_rule(AxState(s): Shd, Path(id): Path<String>) -> ApiResult {
    let core = s.core.read();
    let i = position(&core, &id)?;
    Ok(ok(&rule_json(
        &core,
        &core.state.identities.federation_rules[i],
    )))
}

/// `POST /v1/organizations/federation_rules/{id}`.
pub(crate) async fn update_federation_rule(
    AxState(s): Shd,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let map = body_object(
        &body,
        &[
            "name",
            "description",
            "match",
            "target",
            "oauth_scope",
            "token_lifetime_seconds",
            "workspace_id",
            "applies_to_all_workspaces",
            "attributes",
        ],
        &[],
    )?;
    let name = string_field(&map, "name")?.map(str::to_owned);
    if let Some(n) = &name {
        check_slug(n)?;
    }
    // `null` clears the description (stored as an empty string).
    let description = match map.get("description") {
        None => None,
        Some(Value::Null) => Some(String::new()),
        Some(_) => string_field(&map, "description")?.map(str::to_owned),
    };
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 2000)
    {
        return Err(ApiError::invalid(
            "description: String should have at most 2000 characters",
        ));
    }
    let rule_match = match map.get("match") {
        None | Some(Value::Null) => None,
        Some(v) => Some(parse_match(v)?),
    };
    let lifetime = parse_lifetime(&map)?;
    check_attributes(&map)?;
    let all = match map.get("applies_to_all_workspaces") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            return Err(ApiError::invalid(
                "applies_to_all_workspaces: Input should be a valid boolean",
            ));
        }
    };
    let workspace = string_field(&map, "workspace_id")?.map(str::to_owned);
    let mut core = s.core.write();
    let i = position(&core, &id)?;
    writable(&core, i, "updated")?;
    let scope = parse_scope(&core, &map)?;
    let target = match map.get("target") {
        None | Some(Value::Null) => None,
        Some(v) => Some(parse_target(&core, v)?),
    };
    let current = core.state.identities.federation_rules[i].clone();
    let issuer_url = core
        .state
        .identities
        .issuer(&current.issuer_id)
        .map(|i| i.issuer_url.clone())
        .ok_or_else(|| issuer_not_found(&current.issuer_id))?;
    check_tenant(
        &issuer_url,
        rule_match.as_ref().unwrap_or(&current.rule_match),
    )?;
    if let Some(ws) = &workspace {
        check_workspace(&core, ws)?;
        if current.workspace_ids.len() > 1 {
            return Err(ApiError::invalid(
                "workspace_id: the rule is enabled for more than one workspace; use the /federation_rules/{federation_rule_id}/workspaces sub-resource",
            ));
        }
    }
    let remaining = workspace.is_some() || !current.workspace_ids.is_empty();
    if all == Some(false) && !remaining {
        return Err(ApiError::invalid(
            "applies_to_all_workspaces: cannot be set to false while no workspace would remain enabled; enable a workspace first",
        ));
    }
    if let Some(n) = &name
        && name_taken(&core, n, &id)
    {
        return Err(conflict("federation rule", n));
    }
    let now = core.now;
    let rule = &mut core.state.identities.federation_rules[i];
    if let Some(n) = name {
        rule.name = n;
    }
    if let Some(d) = description {
        rule.description = Some(d);
    }
    if let Some(m) = rule_match {
        rule.rule_match = m;
    }
    if let Some(t) = target {
        rule.target_service_account_id = t;
    }
    if let Some(sc) = scope {
        rule.oauth_scope = sc;
    }
    if let Some(l) = lifetime {
        rule.token_lifetime_seconds = l;
    }
    if let Some(a) = all {
        rule.applies_to_all_workspaces = a;
    }
    if let Some(ws) = workspace {
        rule.workspace_ids = vec![ws];
    }
    core.identity_updated.insert(id.clone(), now);
    let out = rule_json(&core, &core.state.identities.federation_rules[i]);
    core.touch();
    Ok(ok(&out))
}

/// `POST /v1/organizations/federation_rules/{id}/archive`.
pub(crate) async fn archive_federation_rule(
    AxState(s): Shd,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    body_object(&body, &[], &[])?;
    let mut core = s.core.write();
    let i = position(&core, &id)?;
    if core.state.identities.federation_rules[i].is_archived() {
        return Ok(ok(&rule_json(
            &core,
            &core.state.identities.federation_rules[i],
        )));
    }
    writable(&core, i, "archived")?;
    let now = core.now;
    let rule = &mut core.state.identities.federation_rules[i];
    rule.archived_at = Some(now);
    rule.workspace_ids.clear();
    core.identity_updated.insert(id.clone(), now);
    let out = rule_json(&core, &core.state.identities.federation_rules[i]);
    core.touch();
    Ok(ok(&out))
}

fn enablement_json(core: &Core, rule: &FederationRule, ws: &str, named: bool) -> Value {
    let name = named.then(|| {
        if core.state.default_workspace.workspace.id == ws {
            core.state.default_workspace.workspace.name.clone()
        } else {
            core.state
                .workspace(ws)
                .map(|w| w.workspace.name.clone())
                .unwrap_or_default()
        }
    });
    let created = core
        .rule_workspace_enabled
        .get(&(rule.id.clone(), ws.to_owned()))
        .copied()
        .unwrap_or(rule.created_at);
    json!({
        "type": "federation_rule_workspace",
        "federation_rule_id": rule.id,
        "workspace_id": ws,
        "workspace_name": name,
        "created_at": fmt_ts(created),
        "created_by_actor_id": null,
    })
}

/// `GET /v1/organizations/federation_rules/{id}/workspaces`: every enablement at once.
pub(crate) async fn list_federation_rule_workspaces(
    AxState(s): Shd,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    // `limit` and `page` are accepted (and checked) but have no effect.
    CursorPage::parse(&Query::parse(raw.as_deref()))?;
    let core = s.core.read();
    let i = position(&core, &id)?;
    let rule = &core.state.identities.federation_rules[i];
    let data: Vec<Value> = rule
        .workspace_ids
        .iter()
        .map(|ws| enablement_json(&core, rule, ws, true))
        .collect();
    Ok(ok(&json!({ "data": data, "next_page": null })))
}

/// `POST /v1/organizations/federation_rules/{id}/workspaces`.
pub(crate) async fn add_federation_rule_workspace(
    AxState(s): Shd,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let map = body_object(&body, &["workspace_id"], &["workspace_id"])?;
    let ws = string_field(&map, "workspace_id")?
        .ok_or_else(|| ApiError::invalid("workspace_id: Input should be a valid string"))?
        .to_owned();
    let mut core = s.core.write();
    let i = position(&core, &id)?;
    writable(&core, i, "enabled for a workspace")?;
    if core.state.default_workspace.workspace.id != ws && core.state.workspace(&ws).is_none() {
        return Err(super::workspaces::workspace_not_found(&ws));
    }
    check_workspace(&core, &ws)?;
    let now = core.now;
    let rule = &mut core.state.identities.federation_rules[i];
    if !rule.workspace_ids.contains(&ws) {
        rule.workspace_ids.push(ws.clone());
        rule.workspace_ids.sort();
        core.rule_workspace_enabled
            .insert((id.clone(), ws.clone()), now);
        core.identity_updated.insert(id.clone(), now);
    }
    let out = enablement_json(
        &core,
        &core.state.identities.federation_rules[i],
        &ws,
        false,
    );
    core.touch();
    Ok(ok(&out))
}

/// `DELETE /v1/organizations/federation_rules/{id}/workspaces/{workspace_id}`: idempotent.
pub(crate) async fn remove_federation_rule_workspace(
    AxState(s): Shd,
    Path((id, ws)): Path<(String, String)>,
) -> ApiResult {
    let mut core = s.core.write();
    let i = position(&core, &id)?;
    if !oauth_manageable(&core.state.identities.federation_rules[i].oauth_scope) {
        writable(&core, i, "changed")?;
    }
    let now = core.now;
    let rule = &mut core.state.identities.federation_rules[i];
    if let Some(at) = rule.workspace_ids.iter().position(|w| *w == ws) {
        rule.workspace_ids.remove(at);
        core.rule_workspace_enabled
            .remove(&(id.clone(), ws.clone()));
        core.identity_updated.insert(id.clone(), now);
        core.touch();
    }
    Ok(ok(&json!({
        "type": "federation_rule_workspace_deleted",
        "federation_rule_id": id,
        "workspace_id": ws,
    })))
}
