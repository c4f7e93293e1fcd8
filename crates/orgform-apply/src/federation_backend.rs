//! The federation operations of [`crate::Backend`] for the Admin API client.
//!
//! An object an action names as created by an earlier action ([`ObjectRef::Created`],
//! [`WorkspaceRef::Created`]) is found by name among the live, non-archived objects of its
//! kind (names are unique there); the earlier action is in `depends_on`, so it succeeded.
//! A creation that finds its object already live (an earlier, interrupted run) is
//! [`Effect::AlreadyDone`]; a rule's creation then enables its further workspaces one by
//! one (each idempotent), so a re-run completes a half-done creation.

use orgform_api::{ApiError, Client, IssuerFields, JwksBody, RuleFields};
use orgform_manifest::JwksSpec;
use orgform_plan::{ObjectRef, Op, WorkspaceRef};

use crate::backend::{Effect, StepError};
use crate::client_backend::{applied, confirm, fail};

/// The wire form of a manifest key source (`None` in the spec: discovery).
fn jwks_body(spec: &JwksSpec) -> JwksBody {
    if let Some(keys) = spec.key_values() {
        return JwksBody::Inline { keys };
    }
    match &spec.url {
        Some(url) => JwksBody::ExplicitUrl {
            url: url.clone(),
            ca_cert_pem: spec.ca_cert_pem.clone(),
        },
        None => JwksBody::Discovery {
            discovery_base: spec.discovery_base.clone(),
            ca_cert_pem: spec.ca_cert_pem.clone(),
        },
    }
}

fn missing(kind: &str, name: &str) -> StepError {
    StepError {
        message: format!("{kind} {name:?} was not created: no live {kind} has that name"),
        request_id: None,
    }
}

async fn issuer_id(client: &Client, r: &ObjectRef) -> Result<String, StepError> {
    match r {
        ObjectRef::Id(id) => Ok(id.clone()),
        ObjectRef::Created { name } => client
            .list_federation_issuers()
            .await
            .map_err(|e| fail(&e))?
            .into_iter()
            .find(|i| !i.is_archived() && i.name == *name)
            .map(|i| i.id)
            .ok_or_else(|| missing("federation issuer", name)),
    }
}

async fn service_account_id(client: &Client, r: &ObjectRef) -> Result<String, StepError> {
    match r {
        ObjectRef::Id(id) => Ok(id.clone()),
        ObjectRef::Created { name } => client
            .list_service_accounts(false)
            .await
            .map_err(|e| fail(&e))?
            .into_iter()
            .find(|s| s.name == *name)
            .map(|s| s.id)
            .ok_or_else(|| missing("service account", name)),
    }
}

async fn workspace_id(client: &Client, r: &WorkspaceRef) -> Result<String, StepError> {
    match r {
        WorkspaceRef::Id(id) => Ok(id.clone()),
        WorkspaceRef::Created { name } => client
            .list_workspaces(false)
            .await
            .map_err(|e| fail(&e))?
            .into_iter()
            .find(|w| w.name == *name)
            .map(|w| w.id)
            .ok_or_else(|| missing("workspace", name)),
    }
}

/// Runs a federation operation; `None` for any other operation.
#[expect(
    clippy::too_many_lines,
    reason = "one arm per federation operation, each short"
)]
pub(crate) async fn execute(client: &Client, op: &Op) -> Option<Result<Effect, StepError>> {
    Some(match op {
        Op::CreateFederationIssuer {
            name,
            issuer_url,
            jwks,
            max_jwt_lifetime_seconds,
            check_jti,
        } => {
            let existing = match client.list_federation_issuers().await {
                Ok(list) => list
                    .into_iter()
                    .find(|i| !i.is_archived() && i.name == *name),
                Err(e) => return Some(Err(fail(&e))),
            };
            if let Some(issuer) = existing {
                return Some(Ok(Effect::AlreadyDone {
                    note: format!("a live federation issuer named {name:?} exists"),
                    existing_id: Some(issuer.id),
                }));
            }
            let fields = IssuerFields {
                name: Some(name.clone()),
                issuer_url: Some(issuer_url.clone()),
                jwks: jwks.as_ref().map(jwks_body),
                max_jwt_lifetime_seconds: *max_jwt_lifetime_seconds,
                check_jti: *check_jti,
            };
            client
                .create_federation_issuer(&fields)
                .await
                .map(|w| applied(&w, Some(w.value.id.clone())))
                .map_err(|e| fail(&e))
        }
        Op::UpdateFederationIssuer {
            issuer_id,
            issuer_url,
            jwks,
            max_jwt_lifetime_seconds,
            check_jti,
            ..
        } => {
            let fields = IssuerFields {
                name: None,
                issuer_url: issuer_url.clone(),
                jwks: jwks.as_ref().map(jwks_body),
                max_jwt_lifetime_seconds: *max_jwt_lifetime_seconds,
                check_jti: *check_jti,
            };
            let result = client.update_federation_issuer(issuer_id, &fields).await;
            confirm(result, || async {
                let live = client.get_federation_issuer(issuer_id).await?;
                Ok(live
                    .is_some_and(|i| {
                        fields.jwks.as_ref().is_none_or(|j| j.to_model() == i.jwks)
                            && fields
                                .issuer_url
                                .as_ref()
                                .is_none_or(|u| *u == i.issuer_url)
                    })
                    .then(|| "the issuer already has these values".to_owned()))
            })
            .await
        }
        Op::ArchiveFederationIssuer { issuer_id, .. } => {
            let result = client.archive_federation_issuer(issuer_id).await;
            confirm(result, || async {
                let live = client.get_federation_issuer(issuer_id).await?;
                Ok(live
                    .is_some_and(|i| i.is_archived())
                    .then(|| "the issuer is already archived".to_owned()))
            })
            .await
        }
        Op::CreateFederationRule {
            name,
            description,
            issuer,
            rule_match,
            service_account,
            oauth_scope,
            token_lifetime_seconds,
            applies_to_all_workspaces,
            workspaces,
        } => {
            create_rule(
                client,
                name,
                RuleFields {
                    name: Some(name.clone()),
                    description: description.clone(),
                    issuer_id: None,
                    rule_match: Some(rule_match.clone()),
                    service_account_id: None,
                    oauth_scope: Some(oauth_scope.clone()),
                    token_lifetime_seconds: *token_lifetime_seconds,
                    applies_to_all_workspaces: Some(*applies_to_all_workspaces),
                    workspace_id: None,
                },
                (issuer, service_account),
                workspaces,
            )
            .await
        }
        Op::UpdateFederationRule {
            rule_id,
            description,
            rule_match,
            service_account,
            oauth_scope,
            token_lifetime_seconds,
            applies_to_all_workspaces,
            ..
        } => {
            let sa = match service_account {
                Some(r) => match service_account_id(client, r).await {
                    Ok(id) => Some(id),
                    Err(e) => return Some(Err(e)),
                },
                None => None,
            };
            let fields = RuleFields {
                description: description.clone(),
                rule_match: rule_match.clone(),
                service_account_id: sa,
                oauth_scope: oauth_scope.clone(),
                token_lifetime_seconds: *token_lifetime_seconds,
                applies_to_all_workspaces: *applies_to_all_workspaces,
                ..RuleFields::default()
            };
            client
                .update_federation_rule(rule_id, &fields)
                .await
                .map(|w| applied(&w, None))
                .map_err(|e| fail(&e))
        }
        Op::ArchiveFederationRule { rule_id, .. } => {
            let result = client.archive_federation_rule(rule_id).await;
            confirm(result, || async {
                let live = client.get_federation_rule(rule_id).await?;
                Ok(live
                    .is_some_and(|r| r.is_archived())
                    .then(|| "the rule is already archived".to_owned()))
            })
            .await
        }
        Op::EnableFederationRuleWorkspace {
            rule_id, workspace, ..
        } => match workspace_id(client, workspace).await {
            Ok(ws) => client
                .enable_federation_rule_workspace(rule_id, &ws)
                .await
                .map(|w| applied(&w, None))
                .map_err(|e| fail(&e)),
            Err(e) => Err(e),
        },
        Op::DisableFederationRuleWorkspace {
            rule_id,
            workspace_id,
            ..
        } => client
            .disable_federation_rule_workspace(rule_id, workspace_id)
            .await
            .map(|w| applied(&w, None))
            .map_err(|e| fail(&e)),
        _ => return None,
    })
}

/// Creates a rule enabled for its first workspace (or all), then enables the others.
async fn create_rule(
    client: &Client,
    name: &str,
    mut fields: RuleFields,
    (issuer, service_account): (&ObjectRef, &ObjectRef),
    workspaces: &[WorkspaceRef],
) -> Result<Effect, StepError> {
    let mut ids = Vec::with_capacity(workspaces.len());
    for w in workspaces {
        ids.push(workspace_id(client, w).await?);
    }
    let existing = client
        .list_federation_rules()
        .await
        .map_err(|e| fail(&e))?
        .into_iter()
        .find(|r| !r.is_archived() && r.name == name);
    let (rule_id, effect) = if let Some(rule) = existing {
        let id = rule.id.clone();
        (
            id.clone(),
            Effect::AlreadyDone {
                note: format!("a live federation rule named {name:?} exists"),
                existing_id: Some(id),
            },
        )
    } else {
        fields.issuer_id = Some(issuer_id(client, issuer).await?);
        fields.service_account_id = Some(service_account_id(client, service_account).await?);
        fields.workspace_id = ids.first().cloned();
        let written = client
            .create_federation_rule(&fields)
            .await
            .map_err(|e| fail(&e))?;
        let id = written.value.id.clone();
        (id.clone(), applied(&written, Some(id)))
    };
    for ws in ids
        .iter()
        .skip(usize::from(matches!(effect, Effect::Applied { .. })))
    {
        enable(client, &rule_id, ws).await?;
    }
    Ok(effect)
}

async fn enable(client: &Client, rule_id: &str, ws: &str) -> Result<(), StepError> {
    client
        .enable_federation_rule_workspace(rule_id, ws)
        .await
        .map(|_| ())
        .map_err(|e: ApiError| fail(&e))
}
