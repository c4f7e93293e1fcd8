//! The service-account steps of [`crate::Backend`] for the Admin API client (bearer token
//! only). As for the other kinds, a refused write reads the organization back and reports
//! `AlreadyDone` when the effect is already there (a re-run after an interruption): a
//! service account with the name and role, an archived one, a membership with the role, or
//! no explicit membership left.

use orgform_api::{Client, UpdateServiceAccount};
use orgform_plan::{Op, ServiceAccountRef, WorkspaceRef};

use crate::backend::{Effect, Step, StepError};
use crate::client_backend::{applied, confirm, fail};

/// Runs one service-account step.
pub(crate) async fn execute(client: &Client, step: Step<'_>) -> Result<Effect, StepError> {
    match step.op {
        Op::CreateServiceAccount {
            name,
            description,
            organization_role,
        } => {
            if let Some(sa) = active_named(client, name).await? {
                return Ok(Effect::AlreadyDone {
                    note: format!("a service account named {name:?} exists"),
                    existing_id: Some(sa),
                });
            }
            let written = client
                .create_service_account(name, description.as_deref(), organization_role)
                .await
                .map_err(|e| fail(&e))?;
            Ok(applied(&written, Some(written.value.id.clone())))
        }
        Op::UpdateServiceAccount {
            service_account_id,
            description,
            organization_role,
            ..
        } => {
            let update = UpdateServiceAccount {
                description: description.clone(),
                organization_role: organization_role.clone(),
            };
            let result = client
                .update_service_account(service_account_id, &update)
                .await;
            confirm(result, || async {
                let sa = client.get_service_account(service_account_id).await?;
                Ok(sa
                    .is_some_and(|s| {
                        update
                            .description
                            .as_ref()
                            .is_none_or(|d| s.description.as_deref().unwrap_or_default() == d)
                            && update
                                .organization_role
                                .as_ref()
                                .is_none_or(|r| s.organization_role == *r)
                    })
                    .then(|| "the service account already has these values".to_owned()))
            })
            .await
        }
        Op::ArchiveServiceAccount {
            service_account_id, ..
        } => {
            let result = client.archive_service_account(service_account_id).await;
            confirm(result, || async {
                let sa = client.get_service_account(service_account_id).await?;
                Ok(sa
                    .is_some_and(|s| s.is_archived())
                    .then(|| "the service account is already archived".to_owned()))
            })
            .await
        }
        Op::AddServiceAccountMember {
            workspace,
            service_account,
            role,
            ..
        } => {
            let workspace_id = match (workspace, step.created_workspace_id) {
                (WorkspaceRef::Id(id), _) => id.clone(),
                (WorkspaceRef::Created { .. }, Some(id)) => id.to_owned(),
                (WorkspaceRef::Created { name }, None) => {
                    return Err(error(format!("workspace {name:?} was not created")));
                }
            };
            let sa_id = match service_account {
                ServiceAccountRef::Id(id) => id.clone(),
                ServiceAccountRef::Created { name } => active_named(client, name)
                    .await?
                    .ok_or_else(|| error(format!("service account {name:?} was not created")))?,
            };
            let result = client
                .add_service_account_member(&workspace_id, &sa_id, role)
                .await;
            confirm(result, || async {
                let have = client
                    .get_service_account_member(&workspace_id, &sa_id)
                    .await?;
                Ok(have
                    .is_some_and(|m| m.workspace_role == *role)
                    .then(|| format!("already {role} in the workspace")))
            })
            .await
        }
        Op::UpdateServiceAccountMember {
            workspace_id,
            service_account_id,
            role,
            ..
        } => {
            let result = client
                .update_service_account_member(workspace_id, service_account_id, role)
                .await;
            confirm(result, || async {
                let have = client
                    .get_service_account_member(workspace_id, service_account_id)
                    .await?;
                Ok(have
                    .is_some_and(|m| m.workspace_role == *role)
                    .then(|| format!("already {role} in the workspace")))
            })
            .await
        }
        Op::RemoveServiceAccountMember {
            workspace_id,
            service_account_id,
            ..
        } => {
            let result = client
                .remove_service_account_member(workspace_id, service_account_id)
                .await;
            confirm(result, || async {
                let have = client
                    .get_service_account_member(workspace_id, service_account_id)
                    .await?;
                Ok(have
                    .is_none()
                    .then(|| "no longer a member of the workspace".to_owned()))
            })
            .await
        }
        other => Err(error(format!(
            "{} is not a service-account step",
            other.name()
        ))),
    }
}

/// The id of the non-archived service account named `name`, if any.
async fn active_named(client: &Client, name: &str) -> Result<Option<String>, StepError> {
    Ok(client
        .list_service_accounts(false)
        .await
        .map_err(|e| fail(&e))?
        .into_iter()
        .find(|s| s.name == name && !s.is_archived())
        .map(|s| s.id))
}

fn error(message: String) -> StepError {
    StepError {
        message,
        request_id: None,
    }
}
