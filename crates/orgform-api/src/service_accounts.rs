//! Typed calls for service accounts and their workspace memberships (bearer token only).
//!
//! Lists follow the `page` cursor ([`Client::list_cursor`]) and are checked page by page;
//! a membership list must name the object it was asked for. Writes return [`Written`] and
//! carry their read-back check, used only when an attempt's outcome is unknown:
//! - create: a non-archived service account with exactly that name and role (names are
//!   unique in the organization, so a match is the one created);
//! - update: GET the service account and compare the requested fields;
//! - archive: GET shows `archived_at` (archiving again is idempotent anyway);
//! - memberships: GET the membership and compare the role; removal: the GET answers 404.

use orgform_model::{ServiceAccount, ServiceAccountMember, ServiceAccountRole, WorkspaceRole};
use serde::{Deserialize, Serialize};

use crate::ApiError;
use crate::client::{Client, Req, Resp, Written, decode, segment};
use crate::integrity::{ListCap, ListCheck, ReadProblem, inconsistent};

const ORG: &str = "/v1/organizations";

/// A service account on the wire (the `*_by_actor_id` and `updated_at` fields are ignored).
#[derive(Debug, Deserialize)]
pub(crate) struct WireServiceAccount {
    id: String,
    name: String,
    #[serde(default)]
    description: Option<String>,
    organization_role: ServiceAccountRole,
    created_at: jiff::Timestamp,
    #[serde(default)]
    archived_at: Option<jiff::Timestamp>,
}

impl From<WireServiceAccount> for ServiceAccount {
    fn from(w: WireServiceAccount) -> Self {
        Self {
            id: w.id,
            name: w.name,
            description: w.description,
            organization_role: w.organization_role,
            created_at: w.created_at,
            archived_at: w.archived_at,
        }
    }
}

/// A service account's workspace membership on the wire.
#[derive(Debug, Deserialize)]
pub(crate) struct WireServiceAccountMember {
    service_account_id: String,
    workspace_id: String,
    workspace_role: WorkspaceRole,
    #[serde(default)]
    implicit: Option<bool>,
}

impl WireServiceAccountMember {
    fn into_member(self) -> ServiceAccountMember {
        ServiceAccountMember {
            workspace_id: self.workspace_id,
            service_account_id: self.service_account_id,
            workspace_role: self.workspace_role,
        }
    }
}

/// Body of service account create.
#[derive(Debug, Serialize)]
struct CreateBody<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    organization_role: &'a ServiceAccountRole,
}

/// What a service account update changes; `None` fields are left as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UpdateServiceAccount {
    /// New description; `Some("")` clears it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// New organization role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_role: Option<ServiceAccountRole>,
}

#[derive(Debug, Serialize)]
struct AddMemberBody<'a> {
    service_account_id: &'a str,
    workspace_role: &'a WorkspaceRole,
}

#[derive(Debug, Serialize)]
struct RoleBody<'a> {
    workspace_role: &'a WorkspaceRole,
}

fn decode_account(req: &Req) -> impl Fn(&Resp) -> Result<ServiceAccount, ApiError> + '_ {
    move |resp| decode::<WireServiceAccount>(req, resp).map(ServiceAccount::from)
}

fn decode_member(req: &Req) -> impl Fn(&Resp) -> Result<ServiceAccountMember, ApiError> + '_ {
    move |resp| {
        decode::<WireServiceAccountMember>(req, resp).map(WireServiceAccountMember::into_member)
    }
}

#[expect(
    clippy::unnecessary_wraps,
    reason = "must match the decoder signature every write takes"
)]
fn ignore_body(_: &Resp) -> Result<(), ApiError> {
    Ok(())
}

/// Every item must name `id` in `field`.
fn check_owner(
    collection: &str,
    field: &'static str,
    id: &str,
    members: &[WireServiceAccountMember],
) -> Result<(), ApiError> {
    let wrong = members.iter().find(|m| {
        let listed = if field == "workspace_id" {
            &m.workspace_id
        } else {
            &m.service_account_id
        };
        listed != id
    });
    match wrong {
        Some(m) => Err(inconsistent(
            collection,
            ReadProblem::WrongOwner {
                field,
                listed: if field == "workspace_id" {
                    m.workspace_id.clone()
                } else {
                    m.service_account_id.clone()
                },
            },
        )),
        None => Ok(()),
    }
}

impl Client {
    /// Every service account, archived ones too when `include_archived`.
    pub async fn list_service_accounts(
        &self,
        include_archived: bool,
    ) -> Result<Vec<ServiceAccount>, ApiError> {
        let mut req = Req::get(format!("{ORG}/service_accounts"));
        if include_archived {
            req = req.query("include_archived", "true");
        }
        let check = ListCheck::new("service accounts", "id", ListCap::SERVICE_ACCOUNTS);
        let list: Vec<WireServiceAccount> = self.list_cursor(req, check).await?;
        Ok(list.into_iter().map(ServiceAccount::from).collect())
    }

    /// One service account; `None` when the API answers 404.
    pub async fn get_service_account(&self, id: &str) -> Result<Option<ServiceAccount>, ApiError> {
        let req = Req::get(format!("{ORG}/service_accounts/{}", segment(id)?));
        Ok(self
            .read_optional::<WireServiceAccount>(&req)
            .await?
            .map(ServiceAccount::from))
    }

    /// The explicit service-account memberships of a (non-archived) workspace.
    pub async fn list_workspace_service_accounts(
        &self,
        workspace_id: &str,
    ) -> Result<Vec<ServiceAccountMember>, ApiError> {
        let req = Req::get(format!(
            "{ORG}/workspaces/{}/service_accounts",
            segment(workspace_id)?
        ));
        let collection = format!("service accounts of workspace {workspace_id}");
        self.explicit_memberships(
            req,
            collection,
            "service_account_id",
            ("workspace_id", workspace_id),
        )
        .await
    }

    /// The explicit workspace memberships of a service account (the implicit
    /// default-workspace entry left out).
    pub async fn list_service_account_workspaces(
        &self,
        service_account_id: &str,
    ) -> Result<Vec<ServiceAccountMember>, ApiError> {
        let req = Req::get(format!(
            "{ORG}/service_accounts/{}/workspaces",
            segment(service_account_id)?
        ));
        let collection = format!("workspaces of service account {service_account_id}");
        self.explicit_memberships(
            req,
            collection,
            "workspace_id",
            ("service_account_id", service_account_id),
        )
        .await
    }

    /// One side's membership list: every page read and checked, every entry owned by `owner`
    /// (field name, id), the implicit default-workspace entry left out.
    async fn explicit_memberships(
        &self,
        req: Req,
        collection: String,
        id_field: &'static str,
        (owner_field, owner_id): (&'static str, &str),
    ) -> Result<Vec<ServiceAccountMember>, ApiError> {
        let check = ListCheck::new(
            collection.clone(),
            id_field,
            ListCap::SERVICE_ACCOUNT_MEMBERS,
        );
        let list: Vec<WireServiceAccountMember> = self.list_cursor(req, check).await?;
        check_owner(&collection, owner_field, owner_id, &list)?;
        Ok(list
            .into_iter()
            .filter(|m| m.implicit != Some(true))
            .map(WireServiceAccountMember::into_member)
            .collect())
    }

    /// One explicit membership; `None` on 404 or when only the implicit one exists.
    pub async fn get_service_account_member(
        &self,
        workspace_id: &str,
        service_account_id: &str,
    ) -> Result<Option<ServiceAccountMember>, ApiError> {
        let req = Req::get(format!(
            "{ORG}/workspaces/{}/service_accounts/{}",
            segment(workspace_id)?,
            segment(service_account_id)?
        ));
        Ok(self
            .read_optional::<WireServiceAccountMember>(&req)
            .await?
            .filter(|m| m.implicit != Some(true))
            .map(WireServiceAccountMember::into_member))
    }

    /// Creates a service account.
    pub async fn create_service_account(
        &self,
        name: &str,
        description: Option<&str>,
        role: &ServiceAccountRole,
    ) -> Result<Written<ServiceAccount>, ApiError> {
        let req = Req::post(
            format!("{ORG}/service_accounts"),
            &CreateBody {
                name,
                description,
                organization_role: role,
            },
        );
        let op = format!("create service account {name}");
        self.write(&op, &req, decode_account(&req), || async {
            Ok(self
                .list_service_accounts(false)
                .await?
                .into_iter()
                .find(|s| s.name == name && s.organization_role == *role))
        })
        .await
    }

    /// Updates a service account's description and/or organization role.
    pub async fn update_service_account(
        &self,
        id: &str,
        update: &UpdateServiceAccount,
    ) -> Result<Written<ServiceAccount>, ApiError> {
        let req = Req::post(format!("{ORG}/service_accounts/{}", segment(id)?), update);
        let op = format!("update service account {id}");
        self.write(&op, &req, decode_account(&req), || async {
            Ok(self.get_service_account(id).await?.filter(|s| {
                update
                    .description
                    .as_ref()
                    .is_none_or(|d| s.description.as_deref().unwrap_or_default() == d)
                    && update
                        .organization_role
                        .as_ref()
                        .is_none_or(|r| s.organization_role == *r)
            }))
        })
        .await
    }

    /// Archives a service account (irreversible; idempotent on the server).
    pub async fn archive_service_account(
        &self,
        id: &str,
    ) -> Result<Written<ServiceAccount>, ApiError> {
        let req = Req::post_empty(format!("{ORG}/service_accounts/{}/archive", segment(id)?));
        let op = format!("archive service account {id}");
        self.write(&op, &req, decode_account(&req), || async {
            Ok(self
                .get_service_account(id)
                .await?
                .filter(ServiceAccount::is_archived))
        })
        .await
    }

    /// Adds a service account to a workspace (or replaces its role there).
    pub async fn add_service_account_member(
        &self,
        workspace_id: &str,
        service_account_id: &str,
        role: &WorkspaceRole,
    ) -> Result<Written<ServiceAccountMember>, ApiError> {
        let req = Req::post(
            format!(
                "{ORG}/workspaces/{}/service_accounts",
                segment(workspace_id)?
            ),
            &AddMemberBody {
                service_account_id,
                workspace_role: role,
            },
        );
        let op = format!(
            "add service account {service_account_id} to workspace {workspace_id} as {role}"
        );
        self.write(&op, &req, decode_member(&req), || async {
            Ok(self
                .get_service_account_member(workspace_id, service_account_id)
                .await?
                .filter(|m| m.workspace_role == *role))
        })
        .await
    }

    /// Changes a service account's role in a workspace (explicit memberships only).
    pub async fn update_service_account_member(
        &self,
        workspace_id: &str,
        service_account_id: &str,
        role: &WorkspaceRole,
    ) -> Result<Written<ServiceAccountMember>, ApiError> {
        let req = Req::post(
            format!(
                "{ORG}/workspaces/{}/service_accounts/{}",
                segment(workspace_id)?,
                segment(service_account_id)?
            ),
            &RoleBody {
                workspace_role: role,
            },
        );
        let op = format!(
            "set role of service account {service_account_id} in workspace {workspace_id} to {role}"
        );
        self.write(&op, &req, decode_member(&req), || async {
            Ok(self
                .get_service_account_member(workspace_id, service_account_id)
                .await?
                .filter(|m| m.workspace_role == *role))
        })
        .await
    }

    /// Removes a service account from a workspace (idempotent on the server).
    pub async fn remove_service_account_member(
        &self,
        workspace_id: &str,
        service_account_id: &str,
    ) -> Result<Written<()>, ApiError> {
        let req = Req::delete(format!(
            "{ORG}/workspaces/{}/service_accounts/{}",
            segment(workspace_id)?,
            segment(service_account_id)?
        ));
        let op =
            format!("remove service account {service_account_id} from workspace {workspace_id}");
        self.write(&op, &req, ignore_body, || async {
            Ok(self
                .get_service_account_member(workspace_id, service_account_id)
                .await?
                .is_none()
                .then_some(()))
        })
        .await
    }
}
