//! The official OpenAPI Admin subset (`docs/reference/anthropic-admin-openapi.json`) as an
//! oracle: every planned action maps to request bodies the spec accepts (no `admin` invite or
//! role, no `workspace_billing` grant, no `expired` key status, names within bounds) and to
//! ids of the right kind.

use std::collections::HashMap;
use std::path::Path;
use std::sync::LazyLock;

use orgform_plan::{Action, Op, WorkspaceRef};
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
        "BetaServiceAccountCreateParams",
        "BetaServiceAccountUpdateParams",
        "BetaServiceAccountWorkspaceMemberCreateParams",
        "BetaServiceAccountWorkspaceMemberUpdateParams",
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
        Op::CreateServiceAccount {
            name,
            description,
            organization_role,
        } => validate(
            "BetaServiceAccountCreateParams",
            &object(vec![
                ("name", Some(json!(name))),
                ("description", description.as_ref().map(|d| json!(d))),
                ("organization_role", Some(json!(organization_role))),
            ]),
        ),
        Op::UpdateServiceAccount {
            service_account_id,
            description,
            organization_role,
            ..
        } => {
            prefixed(service_account_id, "svac_")?;
            validate(
                "BetaServiceAccountUpdateParams",
                &object(vec![
                    ("description", description.as_ref().map(|d| json!(d))),
                    (
                        "organization_role",
                        organization_role.as_ref().map(|r| json!(r)),
                    ),
                ]),
            )
        }
        Op::ArchiveServiceAccount {
            service_account_id, ..
        } => prefixed(service_account_id, "svac_"),
        Op::AddServiceAccountMember {
            workspace,
            service_account,
            role,
            ..
        } => {
            if let WorkspaceRef::Id(id) = workspace {
                prefixed(id, "wrkspc_")?;
            }
            let id = match service_account {
                orgform_plan::ServiceAccountRef::Id(id) => {
                    prefixed(id, "svac_")?;
                    id.clone()
                }
                orgform_plan::ServiceAccountRef::Created { .. } => "svac_created".to_owned(),
            };
            validate(
                "BetaServiceAccountWorkspaceMemberCreateParams",
                &json!({ "service_account_id": id, "workspace_role": role }),
            )
        }
        Op::UpdateServiceAccountMember {
            workspace_id,
            service_account_id,
            role,
            ..
        } => {
            prefixed(workspace_id, "wrkspc_")?;
            prefixed(service_account_id, "svac_")?;
            validate(
                "BetaServiceAccountWorkspaceMemberUpdateParams",
                &json!({ "workspace_role": role }),
            )
        }
        Op::RemoveServiceAccountMember {
            workspace_id,
            service_account_id,
            ..
        } => {
            prefixed(workspace_id, "wrkspc_")?;
            prefixed(service_account_id, "svac_")
        }
    }
}
