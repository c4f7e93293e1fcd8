//! [`Op`]: what the executor does for each action, and the references an action makes to
//! objects that an earlier action of the same plan creates.

use std::collections::BTreeMap;

use orgform_manifest::{DataResidencySpec, JwksSpec};
use orgform_model::{ApiKeyStatus, OrgRole, RuleMatch, WorkspaceRole};
use serde::{Deserialize, Serialize};

use super::ChangeKind;

/// What the executor does. Every id is a live id, except [`WorkspaceRef::Created`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Op {
    /// `POST /v1/organizations/invites`.
    CreateInvite {
        /// Recipient, as the manifest wrote it.
        email: String,
        /// Role.
        role: OrgRole,
    },
    /// Delete the pending invite, then create one with the new role (`-/+`); not destructive:
    /// the person stays invited.
    ReplaceInvite {
        /// The pending invite to delete.
        invite_id: String,
        /// Recipient.
        email: String,
        /// The new role.
        role: OrgRole,
    },
    /// `DELETE /v1/organizations/invites/{invite_id}`.
    RevokeInvite {
        /// The pending invite.
        invite_id: String,
        /// Recipient.
        email: String,
    },
    /// `POST /v1/organizations/users/{user_id}`.
    UpdateUserRole {
        /// The member.
        user_id: String,
        /// Their email.
        email: String,
        /// The new role.
        role: OrgRole,
    },
    /// `DELETE /v1/organizations/users/{user_id}`.
    RemoveUser {
        /// The member.
        user_id: String,
        /// Their email.
        email: String,
    },
    /// `POST /v1/organizations/workspaces`.
    CreateWorkspace {
        /// Name.
        name: String,
        /// `#RRGGBB`, when stated.
        display_color: Option<String>,
        /// Residency, when stated.
        data_residency: Option<DataResidencySpec>,
        /// Tags (empty when not stated).
        tags: BTreeMap<String, String>,
    },
    /// `POST /v1/organizations/workspaces/{workspace_id}`; only changed fields are `Some`.
    UpdateWorkspace {
        /// The workspace.
        workspace_id: String,
        /// New name.
        name: Option<String>,
        /// New colour.
        display_color: Option<String>,
        /// New residency: the stated inference fields (never `workspace_geo`, which is
        /// immutable).
        data_residency: Option<DataResidencySpec>,
        /// The complete wanted tag map: live tags missing from it are to be removed (the
        /// API removes a tag sent as `null`; the plan does not carry the live tags).
        tags: Option<BTreeMap<String, String>>,
    },
    /// `POST /v1/organizations/workspaces/{workspace_id}/archive` (irreversible).
    ArchiveWorkspace {
        /// The workspace.
        workspace_id: String,
        /// Its live name.
        name: String,
    },
    /// `POST /v1/organizations/workspaces/{workspace_id}/members`.
    AddWorkspaceMember {
        /// The workspace, possibly created by an earlier action.
        workspace: WorkspaceRef,
        /// The member.
        user_id: String,
        /// Their email.
        email: String,
        /// Role in the workspace.
        role: WorkspaceRole,
    },
    /// `POST /v1/organizations/workspaces/{workspace_id}/members/{user_id}`.
    UpdateWorkspaceMember {
        /// The workspace.
        workspace_id: String,
        /// The member.
        user_id: String,
        /// Their email.
        email: String,
        /// New role in the workspace.
        role: WorkspaceRole,
    },
    /// `DELETE /v1/organizations/workspaces/{workspace_id}/members/{user_id}`.
    RemoveWorkspaceMember {
        /// The workspace.
        workspace_id: String,
        /// The member.
        user_id: String,
        /// Their email (or the user id when the user is not listed live).
        email: String,
    },
    /// `POST /v1/organizations/api_keys/{key_id}`; only changed fields are `Some`.
    UpdateApiKey {
        /// The key.
        key_id: String,
        /// New name.
        name: Option<String>,
        /// New status.
        status: Option<ApiKeyStatus>,
    },
    /// `POST /v1/organizations/federation_issuers`.
    CreateFederationIssuer {
        /// Slug.
        name: String,
        /// The `iss` claim.
        issuer_url: String,
        /// The key source; `None`: OIDC discovery from `issuer_url`. Inline keys are public
        /// keys and travel whole (the live side is compared by digest).
        jwks: Option<JwksSpec>,
        /// When stated.
        max_jwt_lifetime_seconds: Option<u32>,
        /// When stated.
        check_jti: Option<bool>,
    },
    /// `POST /v1/organizations/federation_issuers/{id}`; only changed fields are `Some`.
    UpdateFederationIssuer {
        /// The issuer.
        issuer_id: String,
        /// Its live name.
        name: String,
        /// New `iss` claim.
        issuer_url: Option<String>,
        /// New key source (replaced whole; discovery from `issuer_url` is an empty spec).
        jwks: Option<JwksSpec>,
        /// New lifetime.
        max_jwt_lifetime_seconds: Option<u32>,
        /// New JTI check.
        check_jti: Option<bool>,
    },
    /// `POST /v1/organizations/federation_issuers/{id}/archive` (irreversible).
    ArchiveFederationIssuer {
        /// The issuer.
        issuer_id: String,
        /// Its live name.
        name: String,
    },
    /// `POST /v1/organizations/federation_rules`, then one enablement per further workspace.
    CreateFederationRule {
        /// Slug.
        name: String,
        /// When stated.
        description: Option<String>,
        /// The issuer, possibly created by an earlier action (listed in `depends_on`).
        issuer: ObjectRef,
        /// What incoming tokens must satisfy.
        rule_match: RuleMatch,
        /// The target service account, possibly created by an earlier action.
        service_account: ObjectRef,
        /// Scopes.
        oauth_scope: String,
        /// When stated.
        token_lifetime_seconds: Option<u32>,
        /// Enabled for every workspace.
        applies_to_all_workspaces: bool,
        /// The workspaces to enable (empty with `applies_to_all_workspaces`).
        workspaces: Vec<WorkspaceRef>,
    },
    /// `POST /v1/organizations/federation_rules/{id}`; only changed fields are `Some`.
    UpdateFederationRule {
        /// The rule.
        rule_id: String,
        /// Its live name.
        name: String,
        /// New description (`""` clears it).
        description: Option<String>,
        /// New match (replaced whole).
        rule_match: Option<RuleMatch>,
        /// New target.
        service_account: Option<ObjectRef>,
        /// New scopes.
        oauth_scope: Option<String>,
        /// New token lifetime.
        token_lifetime_seconds: Option<u32>,
        /// New `applies_to_all_workspaces`.
        applies_to_all_workspaces: Option<bool>,
    },
    /// `POST /v1/organizations/federation_rules/{id}/archive` (irreversible).
    ArchiveFederationRule {
        /// The rule.
        rule_id: String,
        /// Its live name.
        name: String,
    },
    /// `POST /v1/organizations/federation_rules/{id}/workspaces`.
    EnableFederationRuleWorkspace {
        /// The rule.
        rule_id: String,
        /// Its live name.
        name: String,
        /// The workspace, possibly created by an earlier action.
        workspace: WorkspaceRef,
    },
    /// `DELETE /v1/organizations/federation_rules/{id}/workspaces/{workspace_id}`.
    DisableFederationRuleWorkspace {
        /// The rule.
        rule_id: String,
        /// Its live name.
        name: String,
        /// The workspace.
        workspace_id: String,
    },
}

/// An object an action refers to by id, or by name when an earlier action of the plan
/// creates it (names of these kinds are unique in the organization).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectRef {
    /// A live object.
    Id(String),
    /// Created by an earlier action of this plan (listed in `depends_on`).
    Created {
        /// Its name.
        name: String,
    },
}

impl Op {
    /// The `kind` tag as serialised, e.g. `create_invite`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::CreateInvite { .. } => "create_invite",
            Self::ReplaceInvite { .. } => "replace_invite",
            Self::RevokeInvite { .. } => "revoke_invite",
            Self::UpdateUserRole { .. } => "update_user_role",
            Self::RemoveUser { .. } => "remove_user",
            Self::CreateWorkspace { .. } => "create_workspace",
            Self::UpdateWorkspace { .. } => "update_workspace",
            Self::ArchiveWorkspace { .. } => "archive_workspace",
            Self::AddWorkspaceMember { .. } => "add_workspace_member",
            Self::UpdateWorkspaceMember { .. } => "update_workspace_member",
            Self::RemoveWorkspaceMember { .. } => "remove_workspace_member",
            Self::UpdateApiKey { .. } => "update_api_key",
            Self::CreateFederationIssuer { .. } => "create_federation_issuer",
            Self::UpdateFederationIssuer { .. } => "update_federation_issuer",
            Self::ArchiveFederationIssuer { .. } => "archive_federation_issuer",
            Self::CreateFederationRule { .. } => "create_federation_rule",
            Self::UpdateFederationRule { .. } => "update_federation_rule",
            Self::ArchiveFederationRule { .. } => "archive_federation_rule",
            Self::EnableFederationRuleWorkspace { .. } => "enable_federation_rule_workspace",
            Self::DisableFederationRuleWorkspace { .. } => "disable_federation_rule_workspace",
        }
    }

    /// How the operation changes its object.
    pub fn change_kind(&self) -> ChangeKind {
        match self {
            Self::CreateInvite { .. }
            | Self::CreateWorkspace { .. }
            | Self::AddWorkspaceMember { .. }
            | Self::CreateFederationIssuer { .. }
            | Self::CreateFederationRule { .. }
            | Self::EnableFederationRuleWorkspace { .. } => ChangeKind::Add,
            Self::ReplaceInvite { .. } => ChangeKind::Replace,
            Self::UpdateUserRole { .. }
            | Self::UpdateWorkspace { .. }
            | Self::UpdateWorkspaceMember { .. }
            | Self::UpdateApiKey { .. }
            | Self::UpdateFederationIssuer { .. }
            | Self::UpdateFederationRule { .. } => ChangeKind::Change,
            Self::RevokeInvite { .. }
            | Self::RemoveUser { .. }
            | Self::ArchiveWorkspace { .. }
            | Self::RemoveWorkspaceMember { .. }
            | Self::ArchiveFederationIssuer { .. }
            | Self::ArchiveFederationRule { .. }
            | Self::DisableFederationRuleWorkspace { .. } => ChangeKind::Remove,
        }
    }
}

/// A workspace an action refers to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkspaceRef {
    /// A live workspace.
    Id(String),
    /// A workspace created by an earlier action of this plan (listed in `depends_on`).
    Created {
        /// Its name, as in the `create_workspace` action.
        name: String,
    },
}
