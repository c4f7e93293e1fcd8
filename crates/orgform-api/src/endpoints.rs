//! Typed calls, one per Admin API endpoint orgform uses.
//!
//! Lists return every page, checked page by page by the `integrity` module (envelope
//! fields, cursors, per-collection caps, duplicate ids); a member list must also name the
//! workspace it was asked for. Writes return [`Written`] and carry their own read-back check,
//! used only when an attempt's outcome is unknown (see the `client` module):
//! - create invite: a pending invite for the same (case-insensitive) email with the same role;
//! - create workspace: a non-archived workspace with exactly that name whose id was not listed
//!   before the first attempt (names are not unique, so a same-name workspace that already
//!   existed is never taken for the new one);
//! - updates: GET the object and compare the requested fields;
//! - workspace members: through the member list, because the member GET may serve a stale
//!   cached value for tens of seconds after a write;
//! - deletes: GET answers 404 (or the invite reads `deleted`), or the member is no longer
//!   listed; archive: GET shows `archived_at`.

use std::collections::HashSet;

use orgform_model::{
    ApiKey, ApiKeyStatus, Invite, InviteStatus, OrgRole, Organization, User, Workspace,
    WorkspaceMember, WorkspaceRole, normalize_email,
};

use crate::ApiError;
use crate::client::{Client, Req, Resp, Written, decode, segment};
use crate::integrity::{ListCap, ListCheck, check_members_of, members_collection};
use crate::wire::{
    CreateInviteBody, CreateMemberBody, CreateWorkspace, UpdateApiKey, UpdateMemberBody,
    UpdateUserBody, UpdateWorkspace, WireApiKey, WireInvite, WireOrganization, WireUser,
    WireWorkspace, WireWorkspaceMember,
};

const ORG: &str = "/v1/organizations";

/// Filters of the user list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// Only this email (the server normalises and compares case-insensitively).
    pub email: Option<String>,
    /// Only these roles (OR-ed), sent as `roles[]`.
    pub roles: Vec<OrgRole>,
}

/// Filters of the invite list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InviteFilter {
    /// Only this email.
    pub email: Option<String>,
    /// Only these roles, sent as `roles[]`.
    pub roles: Vec<OrgRole>,
    /// Only these statuses, sent as `statuses[]`; empty lists every listed status.
    pub statuses: Vec<InviteStatus>,
}

/// Filters of the API key list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiKeyFilter {
    /// Only keys with this status.
    pub status: Option<ApiKeyStatus>,
    /// Only keys of this workspace.
    pub workspace_id: Option<String>,
    /// Only keys created by this user.
    pub created_by_user_id: Option<String>,
}

#[expect(
    clippy::unnecessary_wraps,
    reason = "must match the decoder signature every write takes"
)]
fn ignore_body(_: &Resp) -> Result<(), ApiError> {
    Ok(())
}

fn decode_into<W, T>(req: &Req) -> impl Fn(&Resp) -> Result<T, ApiError> + '_
where
    W: serde::de::DeserializeOwned,
    T: From<W>,
{
    move |resp| decode::<W>(req, resp).map(T::from)
}

impl Client {
    // ---- organization -------------------------------------------------------------------

    /// `GET /v1/organizations/me`: the organization the key belongs to.
    pub async fn me(&self) -> Result<Organization, ApiError> {
        let org: WireOrganization = self.read_json(&Req::get(format!("{ORG}/me"))).await?;
        Ok(org.into())
    }

    // ---- users --------------------------------------------------------------------------

    /// Every user matching `filter`.
    pub async fn list_users(&self, filter: &UserFilter) -> Result<Vec<User>, ApiError> {
        let mut req = Req::get(format!("{ORG}/users"));
        if let Some(email) = &filter.email {
            req = req.query("email", email.clone());
        }
        for role in &filter.roles {
            req = req.query("roles[]", role.as_str());
        }
        let users: Vec<WireUser> = self
            .list_all(req, ListCheck::new("users", "id", ListCap::USERS))
            .await?;
        Ok(users.into_iter().map(User::from).collect())
    }

    /// One user; `None` when the API answers 404.
    pub async fn get_user(&self, user_id: &str) -> Result<Option<User>, ApiError> {
        let req = Req::get(format!("{ORG}/users/{}", segment(user_id)?));
        Ok(self.read_optional::<WireUser>(&req).await?.map(User::from))
    }

    /// Changes a user's organization role.
    pub async fn update_user_role(
        &self,
        user_id: &str,
        role: &OrgRole,
    ) -> Result<Written<User>, ApiError> {
        let req = Req::post(
            format!("{ORG}/users/{}", segment(user_id)?),
            &UpdateUserBody { role },
        );
        let op = format!("update role of {user_id} to {role}");
        self.write(&op, &req, decode_into::<WireUser, User>(&req), || async {
            Ok(self.get_user(user_id).await?.filter(|u| u.role == *role))
        })
        .await
    }

    /// Removes a user from the organization.
    pub async fn delete_user(&self, user_id: &str) -> Result<Written<()>, ApiError> {
        let req = Req::delete(format!("{ORG}/users/{}", segment(user_id)?));
        let op = format!("remove user {user_id}");
        self.write(&op, &req, ignore_body, || async {
            Ok(self.get_user(user_id).await?.is_none().then_some(()))
        })
        .await
    }

    // ---- invites ------------------------------------------------------------------------

    /// Every invite matching `filter` (deleted invites are never listed).
    pub async fn list_invites(&self, filter: &InviteFilter) -> Result<Vec<Invite>, ApiError> {
        let mut req = Req::get(format!("{ORG}/invites"));
        if let Some(email) = &filter.email {
            req = req.query("email", email.clone());
        }
        for role in &filter.roles {
            req = req.query("roles[]", role.as_str());
        }
        for status in &filter.statuses {
            req = req.query("statuses[]", status.as_str());
        }
        let invites: Vec<WireInvite> = self
            .list_all(req, ListCheck::new("invites", "id", ListCap::INVITES))
            .await?;
        Ok(invites.into_iter().map(Invite::from).collect())
    }

    /// One invite; `None` when the API answers 404.
    pub async fn get_invite(&self, invite_id: &str) -> Result<Option<Invite>, ApiError> {
        let req = Req::get(format!("{ORG}/invites/{}", segment(invite_id)?));
        Ok(self
            .read_optional::<WireInvite>(&req)
            .await?
            .map(Invite::from))
    }

    /// Invites `email` with `role`.
    pub async fn create_invite(
        &self,
        email: &str,
        role: &OrgRole,
    ) -> Result<Written<Invite>, ApiError> {
        let req = Req::post(format!("{ORG}/invites"), &CreateInviteBody { email, role });
        let op = format!("invite {email} as {role}");
        self.write(
            &op,
            &req,
            decode_into::<WireInvite, Invite>(&req),
            || async {
                let pending = self
                    .list_invites(&InviteFilter {
                        email: Some(email.to_owned()),
                        statuses: vec![InviteStatus::Pending],
                        ..InviteFilter::default()
                    })
                    .await?;
                let wanted = normalize_email(email);
                Ok(pending.into_iter().find(|i| {
                    normalize_email(&i.email) == wanted
                        && i.role == *role
                        && i.status == InviteStatus::Pending
                }))
            },
        )
        .await
    }

    /// Withdraws a pending invite.
    pub async fn delete_invite(&self, invite_id: &str) -> Result<Written<()>, ApiError> {
        let req = Req::delete(format!("{ORG}/invites/{}", segment(invite_id)?));
        let op = format!("delete invite {invite_id}");
        self.write(&op, &req, ignore_body, || async {
            let gone = match self.get_invite(invite_id).await? {
                None => true,
                Some(i) => i.status == InviteStatus::Deleted,
            };
            Ok(gone.then_some(()))
        })
        .await
    }

    // ---- workspaces ---------------------------------------------------------------------

    /// Every workspace; archived ones only when `include_archived`.
    pub async fn list_workspaces(
        &self,
        include_archived: bool,
    ) -> Result<Vec<Workspace>, ApiError> {
        let mut req = Req::get(format!("{ORG}/workspaces"));
        if include_archived {
            req = req.query("include_archived", "true");
        }
        let list: Vec<WireWorkspace> = self
            .list_all(req, ListCheck::new("workspaces", "id", ListCap::WORKSPACES))
            .await?;
        Ok(list.into_iter().map(Workspace::from).collect())
    }

    /// One workspace (archived ones too); `None` when the API answers 404.
    pub async fn get_workspace(&self, workspace_id: &str) -> Result<Option<Workspace>, ApiError> {
        let req = Req::get(format!("{ORG}/workspaces/{}", segment(workspace_id)?));
        Ok(self
            .read_optional::<WireWorkspace>(&req)
            .await?
            .map(Workspace::from))
    }

    /// Creates a workspace. Lists the workspaces of that name first, so that a lost
    /// response can be told apart from a same-name workspace that already existed.
    pub async fn create_workspace(
        &self,
        spec: &CreateWorkspace,
    ) -> Result<Written<Workspace>, ApiError> {
        let same_name = |list: Vec<Workspace>| {
            list.into_iter()
                .filter(|w| w.name == spec.name && !w.is_archived())
        };
        let before: HashSet<String> = same_name(self.list_workspaces(false).await?)
            .map(|w| w.id)
            .collect();
        let req = Req::post(format!("{ORG}/workspaces"), spec);
        let op = format!("create workspace {:?}", spec.name);
        self.write(
            &op,
            &req,
            decode_into::<WireWorkspace, Workspace>(&req),
            || async {
                Ok(same_name(self.list_workspaces(false).await?)
                    .filter(|w| !before.contains(&w.id))
                    .max_by(|a, b| a.created_at.cmp(&b.created_at)))
            },
        )
        .await
    }

    /// Changes a workspace's name, colour, inference geographies or tags.
    pub async fn update_workspace(
        &self,
        workspace_id: &str,
        update: &UpdateWorkspace,
    ) -> Result<Written<Workspace>, ApiError> {
        let req = Req::post(
            format!("{ORG}/workspaces/{}", segment(workspace_id)?),
            update,
        );
        let op = format!("update workspace {workspace_id}");
        self.write(
            &op,
            &req,
            decode_into::<WireWorkspace, Workspace>(&req),
            || async {
                Ok(self
                    .get_workspace(workspace_id)
                    .await?
                    .filter(|w| update.is_reflected_in(w)))
            },
        )
        .await
    }

    /// Archives a workspace (irreversible; the API also deactivates its keys).
    pub async fn archive_workspace(
        &self,
        workspace_id: &str,
    ) -> Result<Written<Workspace>, ApiError> {
        let req = Req::post_empty(format!(
            "{ORG}/workspaces/{}/archive",
            segment(workspace_id)?
        ));
        let op = format!("archive workspace {workspace_id}");
        self.write(
            &op,
            &req,
            decode_into::<WireWorkspace, Workspace>(&req),
            || async {
                Ok(self
                    .get_workspace(workspace_id)
                    .await?
                    .filter(Workspace::is_archived))
            },
        )
        .await
    }

    // ---- workspace members --------------------------------------------------------------

    /// Every explicit member of a workspace. Refused as an inconsistent read when an item
    /// names another workspace.
    pub async fn list_workspace_members(
        &self,
        workspace_id: &str,
    ) -> Result<Vec<WorkspaceMember>, ApiError> {
        let req = Req::get(format!(
            "{ORG}/workspaces/{}/members",
            segment(workspace_id)?
        ));
        let check = ListCheck::new(
            members_collection(workspace_id),
            "user_id",
            ListCap::WORKSPACE_MEMBERS,
        );
        let list: Vec<WireWorkspaceMember> = self.list_all(req, check).await?;
        let members: Vec<WorkspaceMember> = list.into_iter().map(WorkspaceMember::from).collect();
        check_members_of(workspace_id, &members)?;
        Ok(members)
    }

    /// One membership; `None` when the API answers 404. May be stale right after a write.
    pub async fn get_workspace_member(
        &self,
        workspace_id: &str,
        user_id: &str,
    ) -> Result<Option<WorkspaceMember>, ApiError> {
        let req = Req::get(format!(
            "{ORG}/workspaces/{}/members/{}",
            segment(workspace_id)?,
            segment(user_id)?
        ));
        Ok(self
            .read_optional::<WireWorkspaceMember>(&req)
            .await?
            .map(WorkspaceMember::from))
    }

    /// A member as the member list shows it. Use this, not [`Client::get_workspace_member`],
    /// to check a write: the single-member read may be served stale for a while.
    pub async fn listed_member(
        &self,
        workspace_id: &str,
        user_id: &str,
    ) -> Result<Option<WorkspaceMember>, ApiError> {
        Ok(self
            .list_workspace_members(workspace_id)
            .await?
            .into_iter()
            .find(|m| m.user_id == user_id))
    }

    /// Adds a user to a workspace.
    pub async fn add_workspace_member(
        &self,
        workspace_id: &str,
        user_id: &str,
        role: &WorkspaceRole,
    ) -> Result<Written<WorkspaceMember>, ApiError> {
        let req = Req::post(
            format!("{ORG}/workspaces/{}/members", segment(workspace_id)?),
            &CreateMemberBody {
                user_id,
                workspace_role: role,
            },
        );
        let op = format!("add {user_id} to workspace {workspace_id} as {role}");
        self.write(
            &op,
            &req,
            decode_into::<WireWorkspaceMember, WorkspaceMember>(&req),
            || async {
                Ok(self
                    .listed_member(workspace_id, user_id)
                    .await?
                    .filter(|m| m.workspace_role == *role))
            },
        )
        .await
    }

    /// Changes a member's workspace role.
    pub async fn update_workspace_member(
        &self,
        workspace_id: &str,
        user_id: &str,
        role: &WorkspaceRole,
    ) -> Result<Written<WorkspaceMember>, ApiError> {
        let req = Req::post(
            format!(
                "{ORG}/workspaces/{}/members/{}",
                segment(workspace_id)?,
                segment(user_id)?
            ),
            &UpdateMemberBody {
                workspace_role: role,
            },
        );
        let op = format!("set role of {user_id} in workspace {workspace_id} to {role}");
        self.write(
            &op,
            &req,
            decode_into::<WireWorkspaceMember, WorkspaceMember>(&req),
            || async {
                Ok(self
                    .listed_member(workspace_id, user_id)
                    .await?
                    .filter(|m| m.workspace_role == *role))
            },
        )
        .await
    }

    /// Removes a user from a workspace.
    pub async fn remove_workspace_member(
        &self,
        workspace_id: &str,
        user_id: &str,
    ) -> Result<Written<()>, ApiError> {
        let req = Req::delete(format!(
            "{ORG}/workspaces/{}/members/{}",
            segment(workspace_id)?,
            segment(user_id)?
        ));
        let op = format!("remove {user_id} from workspace {workspace_id}");
        self.write(&op, &req, ignore_body, || async {
            Ok(self
                .listed_member(workspace_id, user_id)
                .await?
                .is_none()
                .then_some(()))
        })
        .await
    }

    // ---- API keys -----------------------------------------------------------------------

    /// Every workspace API key matching `filter`.
    pub async fn list_api_keys(&self, filter: &ApiKeyFilter) -> Result<Vec<ApiKey>, ApiError> {
        let mut req = Req::get(format!("{ORG}/api_keys"));
        if let Some(status) = &filter.status {
            req = req.query("status", status.as_str());
        }
        if let Some(ws) = &filter.workspace_id {
            req = req.query("workspace_id", ws.clone());
        }
        if let Some(user) = &filter.created_by_user_id {
            req = req.query("created_by_user_id", user.clone());
        }
        let list: Vec<WireApiKey> = self
            .list_all(req, ListCheck::new("api keys", "id", ListCap::API_KEYS))
            .await?;
        Ok(list.into_iter().map(ApiKey::from).collect())
    }

    /// One API key; `None` when the API answers 404.
    pub async fn get_api_key(&self, api_key_id: &str) -> Result<Option<ApiKey>, ApiError> {
        let req = Req::get(format!("{ORG}/api_keys/{}", segment(api_key_id)?));
        Ok(self
            .read_optional::<WireApiKey>(&req)
            .await?
            .map(ApiKey::from))
    }

    /// Renames a key or changes its status.
    pub async fn update_api_key(
        &self,
        api_key_id: &str,
        update: &UpdateApiKey,
    ) -> Result<Written<ApiKey>, ApiError> {
        let req = Req::post(format!("{ORG}/api_keys/{}", segment(api_key_id)?), update);
        let op = format!("update api key {api_key_id}");
        self.write(
            &op,
            &req,
            decode_into::<WireApiKey, ApiKey>(&req),
            || async {
                Ok(self
                    .get_api_key(api_key_id)
                    .await?
                    .filter(|k| update.is_reflected_in(k)))
            },
        )
        .await
    }
}
