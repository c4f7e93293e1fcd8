//! Wire shapes of the Admin API and their mapping into `orgform_model` types.
//!
//! Responses are read tolerantly: unknown fields are ignored, unknown enum values are kept
//! (the model enums have `Unknown(String)`), and every field added after January 2026
//! (`data_residency`, `tags`, `accepted_at`, `expires_at`, `created_by`, ...) is optional.
//! Request bodies are the opposite: the spec declares them `additionalProperties: false`, so
//! they carry only documented fields and omit the ones the caller left unset.
//!
//! API keys: late-2026 responses add `scope` and deprecate the top-level `workspace_id`.
//! The snapshot keeps reading the top-level field, because `scope.workspace_id` names the
//! default workspace by a real id, which would make default-workspace keys look like keys of
//! an unknown workspace.

use std::collections::BTreeMap;

use jiff::Timestamp;
use orgform_model::{
    ActorRef, AllowedGeos, ApiKey, ApiKeyStatus, DataResidency, Invite, InviteStatus, OrgRole,
    Organization, User, Workspace, WorkspaceMember, WorkspaceRole,
};
use serde::{Deserialize, Serialize};

/// `{data, first_id, last_id, has_more}`, items kept as JSON until the `integrity` module
/// has checked the page. Missing envelope fields read as `None` so that the check can name
/// them.
#[derive(Debug, Deserialize)]
pub(crate) struct RawPage {
    pub data: Vec<serde_json::Value>,
    #[serde(default)]
    pub first_id: Option<String>,
    #[serde(default)]
    pub last_id: Option<String>,
    #[serde(default)]
    pub has_more: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireOrganization {
    pub id: String,
    #[serde(default)]
    pub name: String,
}

impl From<WireOrganization> for Organization {
    fn from(w: WireOrganization) -> Self {
        Self {
            id: w.id,
            name: w.name,
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireUser {
    pub id: String,
    pub email: String,
    #[serde(default)]
    pub name: String,
    pub role: OrgRole,
    pub added_at: Timestamp,
}

impl From<WireUser> for User {
    fn from(w: WireUser) -> Self {
        Self {
            id: w.id,
            email: w.email,
            name: w.name,
            role: w.role,
            added_at: w.added_at,
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireInvite {
    pub id: String,
    pub email: String,
    pub role: OrgRole,
    pub status: InviteStatus,
    pub invited_at: Timestamp,
    pub expires_at: Timestamp,
    #[serde(default)]
    pub accepted_at: Option<Timestamp>,
}

impl From<WireInvite> for Invite {
    fn from(w: WireInvite) -> Self {
        Self {
            id: w.id,
            email: w.email,
            role: w.role,
            status: w.status,
            invited_at: w.invited_at,
            expires_at: w.expires_at,
            accepted_at: w.accepted_at,
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireDataResidency {
    pub workspace_geo: String,
    pub allowed_inference_geos: AllowedGeos,
    pub default_inference_geo: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireWorkspace {
    pub id: String,
    pub name: String,
    pub created_at: Timestamp,
    #[serde(default)]
    pub archived_at: Option<Timestamp>,
    #[serde(default)]
    pub display_color: String,
    #[serde(default)]
    pub data_residency: Option<WireDataResidency>,
    /// Values are typed nullable by late SDKs; a null value means no tag.
    #[serde(default)]
    pub tags: Option<BTreeMap<String, Option<String>>>,
}

impl From<WireWorkspace> for Workspace {
    fn from(w: WireWorkspace) -> Self {
        Self {
            id: w.id,
            name: w.name,
            created_at: w.created_at,
            archived_at: w.archived_at,
            display_color: w.display_color,
            data_residency: w.data_residency.map(|d| DataResidency {
                workspace_geo: d.workspace_geo,
                allowed_inference_geos: d.allowed_inference_geos,
                default_inference_geo: d.default_inference_geo,
            }),
            tags: w
                .tags
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k, v)))
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireWorkspaceMember {
    pub workspace_id: String,
    pub user_id: String,
    pub workspace_role: WorkspaceRole,
}

impl From<WireWorkspaceMember> for WorkspaceMember {
    fn from(w: WireWorkspaceMember) -> Self {
        Self {
            workspace_id: w.workspace_id,
            user_id: w.user_id,
            workspace_role: w.workspace_role,
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireActor {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireApiKey {
    pub id: String,
    #[serde(default)]
    pub name: String,
    pub created_at: Timestamp,
    #[serde(default)]
    pub created_by: Option<WireActor>,
    #[serde(default)]
    pub partial_key_hint: Option<String>,
    pub status: ApiKeyStatus,
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
    #[serde(default)]
    pub workspace_id: Option<String>,
}

impl From<WireApiKey> for ApiKey {
    fn from(w: WireApiKey) -> Self {
        Self {
            id: w.id,
            name: w.name,
            created_at: w.created_at,
            created_by: w.created_by.map(|a| ActorRef {
                id: a.id,
                kind: a.kind,
            }),
            partial_key_hint: w.partial_key_hint,
            status: w.status,
            expires_at: w.expires_at,
            workspace_id: w.workspace_id,
        }
    }
}

/// Body of `POST /v1/organizations/invites`.
#[derive(Debug, Serialize)]
pub(crate) struct CreateInviteBody<'a> {
    pub email: &'a str,
    pub role: &'a OrgRole,
}

/// Body of `POST /v1/organizations/users/{id}`.
#[derive(Debug, Serialize)]
pub(crate) struct UpdateUserBody<'a> {
    pub role: &'a OrgRole,
}

/// Body of member create.
#[derive(Debug, Serialize)]
pub(crate) struct CreateMemberBody<'a> {
    pub user_id: &'a str,
    pub workspace_role: &'a WorkspaceRole,
}

/// Body of member update.
#[derive(Debug, Serialize)]
pub(crate) struct UpdateMemberBody<'a> {
    pub workspace_role: &'a WorkspaceRole,
}

/// Data residency of a new workspace; unset fields take the server's defaults
/// (`us`, `unrestricted`, `global`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DataResidencyCreate {
    /// Storage geography; immutable afterwards.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspace_geo: Option<String>,
    /// Geographies inference may use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_inference_geos: Option<AllowedGeos>,
    /// Geography used when a request names none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_inference_geo: Option<String>,
}

/// Data residency changes (the storage geography cannot change).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DataResidencyUpdate {
    /// Geographies inference may use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_inference_geos: Option<AllowedGeos>,
    /// Geography used when a request names none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_inference_geo: Option<String>,
}

/// A workspace to create. Only `name` is required.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CreateWorkspace {
    /// 1-40 characters.
    pub name: String,
    /// `#RRGGBB`; the server picks one when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_color: Option<String>,
    /// Data residency; server defaults when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_residency: Option<DataResidencyCreate>,
    /// Tags (keys may not begin with `anthropic`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

/// A partial workspace update: unset fields are left unchanged.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UpdateWorkspace {
    /// New name, 1-40 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New `#RRGGBB` colour.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_color: Option<String>,
    /// Inference geography changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_residency: Option<DataResidencyUpdate>,
    /// Tags to set (`Some`) or remove (`None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, Option<String>>>,
}

impl UpdateWorkspace {
    /// Whether `w` already shows every change this update asks for.
    pub fn is_reflected_in(&self, w: &Workspace) -> bool {
        let name_ok = self.name.as_ref().is_none_or(|n| *n == w.name);
        let color_ok = self
            .display_color
            .as_ref()
            .is_none_or(|c| c.eq_ignore_ascii_case(&w.display_color));
        let residency_ok = self.data_residency.as_ref().is_none_or(|d| {
            w.data_residency.as_ref().is_some_and(|have| {
                d.allowed_inference_geos
                    .as_ref()
                    .is_none_or(|g| *g == have.allowed_inference_geos)
                    && d.default_inference_geo
                        .as_ref()
                        .is_none_or(|g| *g == have.default_inference_geo)
            })
        });
        let tags_ok = self
            .tags
            .as_ref()
            .is_none_or(|tags| tags.iter().all(|(k, v)| w.tags.get(k) == v.as_ref()));
        name_ok && color_ok && residency_ok && tags_ok
    }
}

/// A partial API key update.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UpdateApiKey {
    /// New name, 1-500 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `active`, `inactive` or `archived` (`expired` cannot be set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ApiKeyStatus>,
}

impl UpdateApiKey {
    /// Whether `key` already shows every change this update asks for.
    pub fn is_reflected_in(&self, key: &ApiKey) -> bool {
        self.name.as_ref().is_none_or(|n| *n == key.name)
            && self.status.as_ref().is_none_or(|s| *s == key.status)
    }
}

/// `{"type": "error", "error": {"type", "message"}, "request_id"}`.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorEnvelope {
    pub error: ErrorBody,
    #[serde(default)]
    pub request_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_tolerates_unknown_fields_and_roles() {
        let u: WireUser = serde_json::from_str(
            r#"{"type":"user","id":"user_1","email":"a@x.example","name":"A","role":"space_admiral",
                "added_at":"2024-10-30T23:58:27.427722Z","future_field":{"x":1}}"#,
        )
        .unwrap();
        let u = User::from(u);
        assert_eq!(u.role, OrgRole::Unknown("space_admiral".into()));
    }

    #[test]
    fn january_2026_workspace_shape_reads() {
        let w: WireWorkspace = serde_json::from_str(
            r##"{"type":"workspace","id":"wrkspc_1","name":"W","created_at":"2026-01-01T00:00:00Z",
                "archived_at":null,"display_color":"#6C5BB9"}"##,
        )
        .unwrap();
        let w = Workspace::from(w);
        assert!(w.data_residency.is_none());
        assert!(w.tags.is_empty());
    }

    #[test]
    fn late_workspace_shape_reads() {
        let w: WireWorkspace = serde_json::from_str(
            r##"{"type":"workspace","id":"wrkspc_1","name":"W","created_at":"2026-01-01T00:00:00Z",
                "archived_at":"2026-02-01T00:00:00Z","display_color":"#6C5BB9",
                "data_residency":{"workspace_geo":"us","allowed_inference_geos":"unrestricted","default_inference_geo":"global"},
                "tags":{"team":"core","gone":null},"external_key_id":null,"compartment_id":"c"}"##,
        )
        .unwrap();
        let w = Workspace::from(w);
        assert!(w.is_archived());
        assert_eq!(
            w.data_residency.unwrap().allowed_inference_geos,
            AllowedGeos::UNRESTRICTED
        );
        assert_eq!(w.tags.len(), 1);
    }

    #[test]
    fn api_key_shapes_read() {
        let old: WireApiKey = serde_json::from_str(
            r#"{"type":"api_key","id":"apikey_1","name":"k","created_at":"2025-01-01T00:00:00Z",
                "created_by":{"id":"user_1","type":"user"},"partial_key_hint":"sk-ant-api03-R2D...igAA",
                "status":"active","workspace_id":null}"#,
        )
        .unwrap();
        assert_eq!(ApiKey::from(old).workspace_id, None);
        let late: WireApiKey = serde_json::from_str(
            r#"{"type":"api_key","id":"apikey_2","name":"k","created_at":"2025-01-01T00:00:00Z",
                "created_by":null,"status":"revoked_by_policy","expires_at":null,
                "scope":{"type":"workspace","workspace_id":"wrkspc_9"},"workspace_id":"wrkspc_9",
                "principal":{"type":"user_actor","user_id":"user_1"}}"#,
        )
        .unwrap();
        let late = ApiKey::from(late);
        assert_eq!(
            late.status,
            ApiKeyStatus::Unknown("revoked_by_policy".into())
        );
        assert_eq!(late.workspace_id.as_deref(), Some("wrkspc_9"));
    }

    #[test]
    fn bodies_send_only_set_fields() {
        let body = serde_json::to_value(UpdateWorkspace {
            name: Some("N".into()),
            ..UpdateWorkspace::default()
        })
        .unwrap();
        assert_eq!(body, serde_json::json!({"name": "N"}));
        let body = serde_json::to_value(CreateWorkspace {
            name: "N".into(),
            ..CreateWorkspace::default()
        })
        .unwrap();
        assert_eq!(body, serde_json::json!({"name": "N"}));
        let body = serde_json::to_value(UpdateApiKey {
            status: Some(ApiKeyStatus::Inactive),
            ..UpdateApiKey::default()
        })
        .unwrap();
        assert_eq!(body, serde_json::json!({"status": "inactive"}));
    }

    #[test]
    fn update_reflection() {
        let w = Workspace::from(
            serde_json::from_str::<WireWorkspace>(
                r##"{"id":"wrkspc_1","name":"W","created_at":"2026-01-01T00:00:00Z","display_color":"#AABBCC","tags":{"a":"1"}}"##,
            )
            .unwrap(),
        );
        let mut u = UpdateWorkspace {
            name: Some("W".into()),
            display_color: Some("#aabbcc".into()),
            tags: Some(
                [
                    ("a".to_owned(), Some("1".to_owned())),
                    ("b".to_owned(), None),
                ]
                .into(),
            ),
            ..UpdateWorkspace::default()
        };
        assert!(u.is_reflected_in(&w));
        u.name = Some("X".into());
        assert!(!u.is_reflected_in(&w));
    }
}
