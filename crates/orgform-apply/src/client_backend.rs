//! [`Backend`] for the Admin API client.
//!
//! Each step tries its write once (the client itself retries transient failures and reads
//! back writes whose response was lost). When the API refuses, the step reads the
//! organization to learn whether the effect is already there — a re-run after an
//! interruption, or a change someone made meanwhile — and then reports `AlreadyDone`
//! instead of failing. Workspace memberships are checked through the member list, never the
//! single-member GET, which the API may serve stale.

use std::collections::BTreeMap;
use std::future::Future;

use orgform_api::{
    ApiError, Client, CreateWorkspace, DataResidencyCreate, DataResidencyUpdate, InviteFilter,
    UpdateApiKey, UpdateWorkspace, Written,
};
use orgform_model::{InviteStatus, OrgRole, WorkspaceRole, normalize_email};
use orgform_plan::{Op, WorkspaceRef};

use crate::backend::{Backend, Effect, Step, StepError};

impl Backend for Client {
    async fn execute(&self, step: Step<'_>) -> Result<Effect, StepError> {
        match step.op {
            Op::CreateInvite { email, role } => create_invite(self, email, role).await,
            Op::ReplaceInvite {
                invite_id,
                email,
                role,
            } => {
                if let Err(err) = self.delete_invite(invite_id).await {
                    let gone = self
                        .get_invite(invite_id)
                        .await
                        .map_err(|e| fail(&e))?
                        .is_none_or(|i| i.status != InviteStatus::Pending);
                    if !gone {
                        return Err(fail(&err));
                    }
                }
                create_invite(self, email, role).await
            }
            Op::RevokeInvite { invite_id, .. } => {
                let result = self.delete_invite(invite_id).await;
                confirm(result, || async {
                    let invite = self.get_invite(invite_id).await?;
                    Ok(invite
                        .is_none_or(|i| i.status != InviteStatus::Pending)
                        .then(|| "the invite is no longer pending".to_owned()))
                })
                .await
            }
            Op::UpdateUserRole { user_id, role, .. } => {
                let result = self.update_user_role(user_id, role).await;
                confirm(result, || async {
                    let user = self.get_user(user_id).await?;
                    Ok(user
                        .is_some_and(|u| u.role == *role)
                        .then(|| format!("the member already has role {role}")))
                })
                .await
            }
            Op::RemoveUser { user_id, .. } => {
                let result = self.delete_user(user_id).await;
                confirm(result, || async {
                    let user = self.get_user(user_id).await?;
                    Ok(user
                        .is_none()
                        .then(|| "the member is already gone".to_owned()))
                })
                .await
            }
            Op::CreateWorkspace {
                name,
                display_color,
                data_residency,
                tags,
            } => {
                let existing = self.list_workspaces(false).await.map_err(|e| fail(&e))?;
                if let Some(ws) = existing.into_iter().find(|w| w.name == *name) {
                    return Ok(Effect::AlreadyDone {
                        note: format!("an active workspace named {name:?} exists"),
                        existing_id: Some(ws.id),
                    });
                }
                let spec = CreateWorkspace {
                    name: name.clone(),
                    display_color: display_color.clone(),
                    data_residency: data_residency.as_ref().map(|d| DataResidencyCreate {
                        workspace_geo: d.workspace_geo.clone(),
                        allowed_inference_geos: d.allowed_inference_geos.clone(),
                        default_inference_geo: d.default_inference_geo.clone(),
                    }),
                    tags: (!tags.is_empty()).then(|| tags.clone()),
                };
                let written = self.create_workspace(&spec).await.map_err(|e| fail(&e))?;
                Ok(applied(&written, Some(written.value.id.clone())))
            }
            Op::UpdateWorkspace {
                workspace_id,
                name,
                display_color,
                data_residency,
                tags,
            } => {
                let tags = match tags {
                    None => None,
                    Some(wanted) => {
                        let live = self
                            .get_workspace(workspace_id)
                            .await
                            .map_err(|e| fail(&e))?
                            .ok_or_else(|| StepError {
                                message: format!("workspace {workspace_id} no longer exists"),
                                request_id: None,
                            })?;
                        Some(tag_update(&live.tags, wanted))
                    }
                };
                let update = UpdateWorkspace {
                    name: name.clone(),
                    display_color: display_color.clone(),
                    data_residency: data_residency.as_ref().map(|d| DataResidencyUpdate {
                        allowed_inference_geos: d.allowed_inference_geos.clone(),
                        default_inference_geo: d.default_inference_geo.clone(),
                    }),
                    tags,
                };
                let result = self.update_workspace(workspace_id, &update).await;
                confirm(result, || async {
                    let ws = self.get_workspace(workspace_id).await?;
                    Ok(ws
                        .is_some_and(|w| update.is_reflected_in(&w))
                        .then(|| "the workspace already has these values".to_owned()))
                })
                .await
            }
            Op::ArchiveWorkspace { workspace_id, .. } => {
                let result = self.archive_workspace(workspace_id).await;
                confirm(result, || async {
                    let ws = self.get_workspace(workspace_id).await?;
                    Ok(ws
                        .is_some_and(|w| w.is_archived())
                        .then(|| "the workspace is already archived".to_owned()))
                })
                .await
            }
            Op::AddWorkspaceMember {
                workspace,
                user_id,
                role,
                ..
            } => {
                let workspace_id = match (workspace, step.created_workspace_id) {
                    (WorkspaceRef::Id(id), _) => id.as_str(),
                    (WorkspaceRef::Created { .. }, Some(id)) => id,
                    (WorkspaceRef::Created { name }, None) => {
                        return Err(StepError {
                            message: format!("workspace {name:?} was not created"),
                            request_id: None,
                        });
                    }
                };
                let result = self.add_workspace_member(workspace_id, user_id, role).await;
                match result {
                    Ok(written) => Ok(applied(&written, None)),
                    Err(err) => {
                        let current = listed_role(self, workspace_id, user_id)
                            .await
                            .map_err(|e| fail(&e))?;
                        match current {
                            Some(have) if have == *role => Ok(Effect::AlreadyDone {
                                note: format!("already {role} in the workspace"),
                                existing_id: None,
                            }),
                            Some(_) => {
                                let written = self
                                    .update_workspace_member(workspace_id, user_id, role)
                                    .await
                                    .map_err(|e| fail(&e))?;
                                Ok(applied(&written, None))
                            }
                            None => Err(fail(&err)),
                        }
                    }
                }
            }
            Op::UpdateWorkspaceMember {
                workspace_id,
                user_id,
                role,
                ..
            } => {
                let result = self
                    .update_workspace_member(workspace_id, user_id, role)
                    .await;
                confirm(result, || async {
                    let have = listed_role(self, workspace_id, user_id).await?;
                    Ok((have.as_ref() == Some(role))
                        .then(|| format!("already {role} in the workspace")))
                })
                .await
            }
            Op::RemoveWorkspaceMember {
                workspace_id,
                user_id,
                ..
            } => {
                let result = self.remove_workspace_member(workspace_id, user_id).await;
                confirm(result, || async {
                    let have = listed_role(self, workspace_id, user_id).await?;
                    Ok(have
                        .is_none()
                        .then(|| "no longer a member of the workspace".to_owned()))
                })
                .await
            }
            Op::UpdateApiKey {
                key_id,
                name,
                status,
            } => {
                let update = UpdateApiKey {
                    name: name.clone(),
                    status: status.clone(),
                };
                let result = self.update_api_key(key_id, &update).await;
                confirm(result, || async {
                    let key = self.get_api_key(key_id).await?;
                    Ok(key
                        .is_some_and(|k| update.is_reflected_in(&k))
                        .then(|| "the key already has these values".to_owned()))
                })
                .await
            }
            other => crate::federation_backend::execute(self, other)
                .await
                .unwrap_or_else(|| {
                    Err(StepError {
                        message: format!("no backend for {}", other.name()),
                        request_id: None,
                    })
                }),
        }
    }
}

async fn create_invite(client: &Client, email: &str, role: &OrgRole) -> Result<Effect, StepError> {
    match client.create_invite(email, role).await {
        Ok(written) => Ok(applied(&written, Some(written.value.id.clone()))),
        Err(err) => {
            let pending = client
                .list_invites(&InviteFilter {
                    email: Some(email.to_owned()),
                    statuses: vec![InviteStatus::Pending],
                    ..InviteFilter::default()
                })
                .await
                .map_err(|e| fail(&e))?;
            let wanted = normalize_email(email);
            if let Some(invite) = pending.into_iter().find(|i| {
                normalize_email(&i.email) == wanted
                    && i.role == *role
                    && i.status == InviteStatus::Pending
            }) {
                return Ok(Effect::AlreadyDone {
                    note: format!("a pending invite as {role} exists"),
                    existing_id: Some(invite.id),
                });
            }
            Err(fail(&err))
        }
    }
}

/// The member's role as the member list shows it (the single-member GET may be stale).
async fn listed_role(
    client: &Client,
    workspace_id: &str,
    user_id: &str,
) -> Result<Option<WorkspaceRole>, ApiError> {
    Ok(client
        .listed_member(workspace_id, user_id)
        .await?
        .map(|m| m.workspace_role))
}

/// The tag update that turns `live` into `wanted`: every wanted tag set, every other live
/// tag removed (`null`).
fn tag_update(
    live: &BTreeMap<String, String>,
    wanted: &BTreeMap<String, String>,
) -> BTreeMap<String, Option<String>> {
    let mut update: BTreeMap<String, Option<String>> = wanted
        .iter()
        .map(|(k, v)| (k.clone(), Some(v.clone())))
        .collect();
    for key in live.keys() {
        update.entry(key.clone()).or_insert(None);
    }
    update
}

pub(crate) fn applied<T>(written: &Written<T>, created_id: Option<String>) -> Effect {
    Effect::Applied {
        request_id: written.request_id.clone(),
        created_id,
    }
}

pub(crate) fn fail(err: &ApiError) -> StepError {
    StepError {
        message: err.to_string(),
        request_id: err.request_id().map(str::to_owned),
    }
}

/// Turns a write's result into an effect: success, or — when the API refused — a read that
/// shows the effect is already there (`check` returns why), or the original error.
pub(crate) async fn confirm<T, F, Fut>(
    result: Result<Written<T>, ApiError>,
    check: F,
) -> Result<Effect, StepError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Option<String>, ApiError>>,
{
    match result {
        Ok(written) => Ok(applied(&written, None)),
        Err(err) => match check().await {
            Ok(Some(note)) => Ok(Effect::AlreadyDone {
                note,
                existing_id: None,
            }),
            Ok(None) => Err(fail(&err)),
            Err(read_err) => Err(StepError {
                message: format!("{err}; reading back to check also failed: {read_err}"),
                request_id: err.request_id().map(str::to_owned),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_update_removes_unwanted_live_tags() {
        let live = BTreeMap::from([
            ("a".to_owned(), "1".to_owned()),
            ("b".to_owned(), "2".to_owned()),
        ]);
        let wanted = BTreeMap::from([
            ("b".to_owned(), "3".to_owned()),
            ("c".to_owned(), "4".to_owned()),
        ]);
        let update = tag_update(&live, &wanted);
        assert_eq!(update.get("a"), Some(&None));
        assert_eq!(update.get("b"), Some(&Some("3".to_owned())));
        assert_eq!(update.get("c"), Some(&Some("4".to_owned())));
        assert_eq!(update.len(), 3);
    }
}
