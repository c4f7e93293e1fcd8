//! The official OpenAPI Admin subset (`docs/reference/anthropic-admin-openapi.json`) as an
//! oracle: every planned action maps to request bodies the spec accepts (no `admin` invite or
//! role, no `workspace_billing` grant, no `expired` key status, names within bounds) and to
//! ids of the right kind.

use std::collections::HashMap;
use std::path::Path;
use std::sync::LazyLock;

use orgform_plan::{Action, ObjectRef, Op, WorkspaceRef};
use serde_json::{Map, Value, json};

static SPEC: LazyLock<Value> = LazyLock::new(|| {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/reference/anthropic-admin-openapi.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("the spec subset"))
        .expect("the spec is JSON")
});

static VALIDATORS: LazyLock<HashMap<&'static str, jsonschema::Validator>> = LazyLock::new(|| {
    [
        "BetaCreateInviteParams",
        "BetaUpdateUserParams",
        "BetaWorkspaceCreateParams",
        "BetaWorkspaceUpdateParams",
        "BetaCreateWorkspaceMemberParams",
        "BetaUpdateWorkspaceMemberParams",
        "BetaApiKeyUpdateParams",
        "BetaFederationIssuerCreateParams",
        "BetaFederationIssuerUpdateParams",
        "BetaFederationRuleCreateParams",
        "BetaFederationRuleUpdateParams",
    ]
    .into_iter()
    .map(|name| {
        let root = json!({
            "$ref": format!("#/components/schemas/{name}"),
            "components": SPEC["components"].clone(),
        });
        let validator = jsonschema::validator_for(&root).expect("a valid schema");
        (name, validator)
    })
    .collect()
});

fn validate(schema: &str, body: &Value) -> Result<(), String> {
    let errors: Vec<String> = VALIDATORS[schema]
        .iter_errors(body)
        .map(|e| e.to_string())
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{schema}: body {body} rejected: {errors:?}"))
    }
}

fn prefixed(id: &str, prefix: &str) -> Result<(), String> {
    if id.starts_with(prefix) && id.len() > prefix.len() {
        Ok(())
    } else {
        Err(format!("{id:?} is not a {prefix} id"))
    }
}

fn object(fields: Vec<(&str, Option<Value>)>) -> Value {
    let mut map = Map::new();
    for (k, v) in fields {
        if let Some(v) = v {
            map.insert(k.to_owned(), v);
        }
    }
    Value::Object(map)
}

/// Checks one action against the spec.
pub fn check(action: &Action) -> Result<(), String> {
    match &action.op {
        Op::CreateInvite { email, role } => validate(
            "BetaCreateInviteParams",
            &json!({ "email": email, "role": role }),
        ),
        Op::ReplaceInvite {
            invite_id,
            email,
            role,
        } => {
            prefixed(invite_id, "invite_")?;
            validate(
                "BetaCreateInviteParams",
                &json!({ "email": email, "role": role }),
            )
        }
        Op::RevokeInvite { invite_id, .. } => prefixed(invite_id, "invite_"),
        Op::UpdateUserRole { user_id, role, .. } => {
            prefixed(user_id, "user_")?;
            validate("BetaUpdateUserParams", &json!({ "role": role }))
        }
        Op::RemoveUser { user_id, .. } => prefixed(user_id, "user_"),
        Op::CreateWorkspace {
            name,
            display_color,
            data_residency,
            tags,
        } => validate(
            "BetaWorkspaceCreateParams",
            &object(vec![
                ("name", Some(json!(name))),
                ("display_color", display_color.as_ref().map(|c| json!(c))),
                ("data_residency", data_residency.as_ref().map(|d| json!(d))),
                ("tags", (!tags.is_empty()).then(|| json!(tags))),
            ]),
        ),
        Op::UpdateWorkspace {
            workspace_id,
            name,
            display_color,
            data_residency,
            tags,
        } => {
            prefixed(workspace_id, "wrkspc_")?;
            validate(
                "BetaWorkspaceUpdateParams",
                &object(vec![
                    ("name", name.as_ref().map(|n| json!(n))),
                    ("display_color", display_color.as_ref().map(|c| json!(c))),
                    ("data_residency", data_residency.as_ref().map(|d| json!(d))),
                    ("tags", tags.as_ref().map(|t| json!(t))),
                ]),
            )
        }
        Op::ArchiveWorkspace { workspace_id, .. } => prefixed(workspace_id, "wrkspc_"),
        Op::AddWorkspaceMember {
            workspace,
            user_id,
            role,
            ..
        } => {
            if let WorkspaceRef::Id(id) = workspace {
                prefixed(id, "wrkspc_")?;
            }
            prefixed(user_id, "user_")?;
            validate(
                "BetaCreateWorkspaceMemberParams",
                &json!({ "user_id": user_id, "workspace_role": role }),
            )
        }
        Op::UpdateWorkspaceMember {
            workspace_id,
            user_id,
            role,
            ..
        } => {
            prefixed(workspace_id, "wrkspc_")?;
            prefixed(user_id, "user_")?;
            if role.as_str() == "workspace_billing" {
                return Err("workspace_billing is inherited only, never assigned".into());
            }
            validate(
                "BetaUpdateWorkspaceMemberParams",
                &json!({ "workspace_role": role }),
            )
        }
        Op::RemoveWorkspaceMember {
            workspace_id,
            user_id,
            ..
        } => {
            prefixed(workspace_id, "wrkspc_")?;
            prefixed(user_id, "user_")
        }
        Op::UpdateApiKey {
            key_id,
            name,
            status,
        } => {
            prefixed(key_id, "apikey_")?;
            if name.is_none() && status.is_none() {
                return Err("an api key update that changes nothing".into());
            }
            validate(
                "BetaApiKeyUpdateParams",
                &object(vec![
                    ("name", name.as_ref().map(|n| json!(n))),
                    ("status", status.as_ref().map(|s| json!(s))),
                ]),
            )
        }
        Op::CreateFederationIssuer {
            name,
            issuer_url,
            jwks,
            max_jwt_lifetime_seconds,
            check_jti,
        } => validate(
            "BetaFederationIssuerCreateParams",
            &object(vec![
                ("name", Some(json!(name))),
                ("issuer_url", Some(json!(issuer_url))),
                ("jwks", jwks.as_ref().map(jwks_body)),
                (
                    "max_jwt_lifetime_seconds",
                    max_jwt_lifetime_seconds.map(|l| json!(l)),
                ),
                ("check_jti", check_jti.map(|c| json!(c))),
            ]),
        ),
        Op::UpdateFederationIssuer {
            issuer_id,
            issuer_url,
            jwks,
            max_jwt_lifetime_seconds,
            check_jti,
            ..
        } => {
            prefixed(issuer_id, "fdis_")?;
            validate(
                "BetaFederationIssuerUpdateParams",
                &object(vec![
                    ("issuer_url", issuer_url.as_ref().map(|u| json!(u))),
                    ("jwks", jwks.as_ref().map(jwks_body)),
                    (
                        "max_jwt_lifetime_seconds",
                        max_jwt_lifetime_seconds.map(|l| json!(l)),
                    ),
                    ("check_jti", check_jti.map(|c| json!(c))),
                ]),
            )
        }
        Op::ArchiveFederationIssuer { issuer_id, .. } => prefixed(issuer_id, "fdis_"),
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
            let issuer_id = match issuer {
                ObjectRef::Id(id) => {
                    prefixed(id, "fdis_")?;
                    id.clone()
                }
                ObjectRef::Created { .. } => "fdis_created".to_owned(),
            };
            let sa = match service_account {
                ObjectRef::Id(id) => {
                    prefixed(id, "svac_")?;
                    id.clone()
                }
                ObjectRef::Created { .. } => "svac_created".to_owned(),
            };
            if !applies_to_all_workspaces && workspaces.is_empty() {
                return Err("a rule enabled nowhere".into());
            }
            validate(
                "BetaFederationRuleCreateParams",
                &object(vec![
                    ("name", Some(json!(name))),
                    ("description", description.as_ref().map(|d| json!(d))),
                    ("issuer_id", Some(json!(issuer_id))),
                    ("match", Some(match_body(rule_match))),
                    (
                        "target",
                        Some(json!({"type": "service_account", "service_account_id": sa})),
                    ),
                    ("oauth_scope", Some(json!(oauth_scope))),
                    (
                        "token_lifetime_seconds",
                        token_lifetime_seconds.map(|l| json!(l)),
                    ),
                    (
                        "applies_to_all_workspaces",
                        Some(json!(applies_to_all_workspaces)),
                    ),
                ]),
            )
        }
        Op::UpdateFederationRule {
            rule_id,
            description,
            rule_match,
            oauth_scope,
            token_lifetime_seconds,
            applies_to_all_workspaces,
            ..
        } => {
            prefixed(rule_id, "fdrl_")?;
            validate(
                "BetaFederationRuleUpdateParams",
                &object(vec![
                    ("description", description.as_ref().map(|d| json!(d))),
                    ("match", rule_match.as_ref().map(match_body)),
                    ("oauth_scope", oauth_scope.as_ref().map(|o| json!(o))),
                    (
                        "token_lifetime_seconds",
                        token_lifetime_seconds.map(|l| json!(l)),
                    ),
                    (
                        "applies_to_all_workspaces",
                        applies_to_all_workspaces.map(|a| json!(a)),
                    ),
                ]),
            )
        }
        Op::ArchiveFederationRule { rule_id, .. } => prefixed(rule_id, "fdrl_"),
        Op::EnableFederationRuleWorkspace {
            rule_id, workspace, ..
        } => {
            prefixed(rule_id, "fdrl_")?;
            if let WorkspaceRef::Id(id) = workspace {
                prefixed(id, "wrkspc_")?;
            }
            Ok(())
        }
        Op::DisableFederationRuleWorkspace {
            rule_id,
            workspace_id,
            ..
        } => {
            prefixed(rule_id, "fdrl_")?;
            prefixed(workspace_id, "wrkspc_")
        }
    }
}

/// A manifest key source in the wire form.
fn jwks_body(spec: &orgform_manifest::JwksSpec) -> Value {
    if let Some(keys) = spec.key_values() {
        return json!({"type": "inline", "keys": keys});
    }
    match &spec.url {
        Some(url) => object(vec![
            ("type", Some(json!("explicit_url"))),
            ("url", Some(json!(url))),
            ("ca_cert_pem", spec.ca_cert_pem.as_ref().map(|c| json!(c))),
        ]),
        None => object(vec![
            ("type", Some(json!("discovery"))),
            (
                "discovery_base",
                spec.discovery_base.as_ref().map(|c| json!(c)),
            ),
            ("ca_cert_pem", spec.ca_cert_pem.as_ref().map(|c| json!(c))),
        ]),
    }
}

fn match_body(m: &orgform_model::RuleMatch) -> Value {
    object(vec![
        (
            "subject_prefix",
            m.subject_prefix.as_ref().map(|v| json!(v)),
        ),
        ("claims", (!m.claims.is_empty()).then(|| json!(m.claims))),
        ("condition", m.condition.as_ref().map(|v| json!(v))),
        ("audience", m.audience.as_ref().map(|v| json!(v))),
    ])
}
