//! Reads the document `orgform snapshot` writes (`snapshot_format: 1`) back into a
//! [`Snapshot`], so that a copy of a real organization can be served for a rehearsal.
//!
//! The document names people by email and workspaces by name where the API uses ids; both
//! are resolved here: a workspace member's key is a member's email (or, for someone who is
//! no longer a member, a user id), a key's `workspace` is a workspace name or `default`
//! (with `workspace_id` beside it), and `created_by` is an email or `<kind> <id>`.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use orgform_model::{
    ActorRef, ApiKey, ApiKeyStatus, DataResidency, Invite, InviteStatus, LimitValue, OrgRole,
    Organization, RateLimitGroup, RateLimits, Snapshot, User, Workspace, WorkspaceLimitValue,
    WorkspaceMember, WorkspaceRateLimit, WorkspaceRole, normalize_email,
};
use serde::Deserialize;

/// The only layout this reader knows.
pub(crate) const SNAPSHOT_FORMAT: u32 = 1;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    snapshot_format: u32,
    organization: Organization,
    #[serde(default)]
    members: Vec<Member>,
    #[serde(default)]
    invites: Vec<DocInvite>,
    #[serde(default)]
    workspaces: Vec<DocWorkspace>,
    #[serde(default)]
    api_keys: Vec<DocKey>,
    #[serde(default)]
    rate_limits: Option<DocRateLimits>,
}

/// The `rate_limits:` section: groups and overrides with their limiters as a map.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DocRateLimits {
    #[serde(default)]
    organization: Vec<DocGroup>,
    #[serde(default)]
    workspaces: Vec<DocWorkspaceLimits>,
    /// Written when the limits could not be read: the copy serves the default limits.
    #[serde(default)]
    unreadable: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DocGroup {
    group_type: String,
    id: String,
    #[serde(default)]
    models: Option<Vec<String>>,
    #[serde(default)]
    limits: BTreeMap<String, u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DocWorkspaceLimits {
    #[serde(rename = "workspace")]
    _name: String,
    workspace_id: String,
    #[serde(default)]
    overrides: Vec<DocOverride>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DocOverride {
    group_type: String,
    rate_limit_id: String,
    #[serde(default)]
    models: Option<Vec<String>>,
    #[serde(default)]
    limits: BTreeMap<String, u64>,
}

impl DocRateLimits {
    fn into_model(self) -> Option<RateLimits> {
        if self.unreadable.is_some() {
            return None;
        }
        let values = |m: BTreeMap<String, u64>| {
            m.into_iter()
                .map(|(kind, value)| LimitValue { kind, value })
                .collect()
        };
        let organization = self
            .organization
            .into_iter()
            .map(|g| RateLimitGroup {
                id: g.id,
                group_type: g.group_type,
                models: g.models,
                limits: values(g.limits),
            })
            .collect();
        let workspaces = self
            .workspaces
            .into_iter()
            .map(|w| {
                let overrides = w
                    .overrides
                    .into_iter()
                    .map(|o| WorkspaceRateLimit {
                        workspace_id: w.workspace_id.clone(),
                        rate_limit_id: o.rate_limit_id,
                        group_type: o.group_type,
                        models: o.models,
                        limits: o
                            .limits
                            .into_iter()
                            .map(|(kind, value)| WorkspaceLimitValue {
                                kind,
                                value,
                                org_limit: None,
                            })
                            .collect(),
                    })
                    .collect();
                (w.workspace_id, overrides)
            })
            .collect();
        Some(RateLimits {
            organization,
            workspaces,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Member {
    email: String,
    role: String,
    name: String,
    id: String,
    added_at: Timestamp,
    /// An audit record of the snapshot (since when the member has had no access), not state.
    #[serde(default, rename = "no_access_since")]
    _no_access_since: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DocInvite {
    email: String,
    role: String,
    status: String,
    id: String,
    invited_at: Timestamp,
    expires_at: Timestamp,
    #[serde(default)]
    accepted_at: Option<Timestamp>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DocWorkspace {
    name: String,
    id: String,
    display_color: String,
    created_at: Timestamp,
    #[serde(default)]
    archived_at: Option<Timestamp>,
    #[serde(default)]
    data_residency: Option<DataResidency>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    #[serde(default)]
    members: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DocKey {
    name: String,
    id: String,
    status: String,
    workspace: String,
    #[serde(default)]
    workspace_id: Option<String>,
    #[serde(default)]
    created_by: Option<String>,
    #[serde(default)]
    partial_key_hint: Option<String>,
    created_at: Timestamp,
    #[serde(default)]
    expires_at: Option<Timestamp>,
}

/// Whether a YAML text is an `orgform snapshot` document (it has a top-level
/// `snapshot_format`).
pub(crate) fn is_snapshot_document(text: &str) -> bool {
    text.lines().any(|l| l.starts_with("snapshot_format:"))
}

/// Parses an `orgform snapshot` document; the error names the field at fault.
#[cfg(test)]
pub(crate) fn parse(text: &str) -> Result<Snapshot, String> {
    parse_with_rate_limits(text).map(|(snapshot, _)| snapshot)
}

/// Parses an `orgform snapshot` document and its `rate_limits:` section (absent, or recorded
/// as unreadable: `None`).
pub(crate) fn parse_with_rate_limits(text: &str) -> Result<(Snapshot, Option<RateLimits>), String> {
    let doc: Document = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    if doc.snapshot_format != SNAPSHOT_FORMAT {
        return Err(format!(
            "snapshot_format {} is not supported (this version reads {SNAPSHOT_FORMAT}); take the snapshot again with this orgform",
            doc.snapshot_format
        ));
    }
    let by_email: HashMap<String, String> = doc
        .members
        .iter()
        .map(|m| (normalize_email(&m.email), m.id.clone()))
        .collect();
    let users = doc
        .members
        .into_iter()
        .map(|m| User {
            id: m.id,
            email: m.email,
            name: m.name,
            role: OrgRole::parse(&m.role),
            added_at: m.added_at,
        })
        .collect();
    let invites = doc
        .invites
        .into_iter()
        .map(|i| Invite {
            id: i.id,
            email: i.email,
            role: OrgRole::parse(&i.role),
            status: InviteStatus::parse(&i.status),
            invited_at: i.invited_at,
            expires_at: i.expires_at,
            accepted_at: i.accepted_at,
        })
        .collect();
    let mut workspaces = Vec::with_capacity(doc.workspaces.len());
    let mut workspace_members = Vec::new();
    for ws in doc.workspaces {
        for (who, role) in ws.members {
            let user_id = by_email
                .get(&normalize_email(&who))
                .cloned()
                .or_else(|| who.starts_with("user_").then(|| who.clone()))
                .ok_or_else(|| {
                    format!(
                        "workspace {:?}: member {who:?} is neither a member's email nor a user id",
                        ws.name
                    )
                })?;
            workspace_members.push(WorkspaceMember {
                workspace_id: ws.id.clone(),
                user_id,
                workspace_role: WorkspaceRole::parse(&role),
            });
        }
        workspaces.push(Workspace {
            id: ws.id,
            name: ws.name,
            created_at: ws.created_at,
            archived_at: ws.archived_at,
            display_color: ws.display_color,
            data_residency: ws.data_residency,
            tags: ws.tags,
        });
    }
    let api_keys = doc
        .api_keys
        .into_iter()
        .map(|k| {
            let created_by = k
                .created_by
                .map(|by| actor(&by, &by_email))
                .transpose()
                .map_err(|e| format!("api key {:?}: {e}", k.name))?;
            if k.workspace != "default" && k.workspace_id.is_none() {
                return Err(format!(
                    "api key {:?}: workspace {:?} has no workspace_id",
                    k.name, k.workspace
                ));
            }
            Ok(ApiKey {
                id: k.id,
                name: k.name,
                created_at: k.created_at,
                created_by,
                partial_key_hint: k.partial_key_hint,
                status: ApiKeyStatus::parse(&k.status),
                expires_at: k.expires_at,
                workspace_id: k.workspace_id,
            })
        })
        .collect::<Result<_, String>>()?;
    let rate_limits = doc.rate_limits.and_then(DocRateLimits::into_model);
    Ok((
        Snapshot {
            organization: doc.organization,
            users,
            invites,
            workspaces,
            workspace_members,
            api_keys,
            identities: None,
        },
        rate_limits,
    ))
}

/// `created_by`: a member's email, or `<kind> <id>` for anyone else.
fn actor(by: &str, by_email: &HashMap<String, String>) -> Result<ActorRef, String> {
    if let Some((kind, id)) = by.split_once(' ') {
        return Ok(ActorRef {
            id: id.to_owned(),
            kind: kind.to_owned(),
        });
    }
    by_email
        .get(&normalize_email(by))
        .map(|id| ActorRef {
            id: id.clone(),
            kind: "user".to_owned(),
        })
        .ok_or_else(|| format!("created_by {by:?} is neither a member's email nor \"<kind> <id>\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r##"# orgform snapshot
snapshot_format: 1
organization:
  id: 4f6b2a1e-8c3d-4e5f-9a7b-1c2d3e4f5a6b
  name: Acme
members:
  - email: ada@acme.example
    role: admin
    name: Ada
    id: user_01A
    added_at: 2025-01-10T09:00:00Z
invites: []
workspaces:
  - name: Research
    id: wrkspc_01R
    display_color: "#6C5BB9"
    created_at: 2025-01-10T09:00:00Z
    tags: {}
    members:
      ada@acme.example: workspace_admin
      user_01Gone: workspace_user
api_keys:
  - name: ci
    id: apikey_01K
    status: active
    workspace: Research
    workspace_id: wrkspc_01R
    created_by: ada@acme.example
    created_at: 2025-01-11T09:00:00Z
  - name: old
    id: apikey_01L
    status: inactive
    workspace: default
    created_by: service_account svac_01S
    created_at: 2025-01-11T09:00:00Z
"##;

    #[test]
    fn resolves_emails_names_and_actors() {
        assert!(is_snapshot_document(DOC));
        let s = parse(DOC).unwrap();
        assert_eq!(s.users[0].role, OrgRole::Admin);
        assert_eq!(s.workspace_members.len(), 2);
        assert!(
            s.workspace_members
                .iter()
                .any(|m| m.user_id == "user_01A"
                    && m.workspace_role == WorkspaceRole::WorkspaceAdmin)
        );
        assert!(
            s.workspace_members
                .iter()
                .any(|m| m.user_id == "user_01Gone")
        );
        assert_eq!(s.api_keys[0].created_by.as_ref().unwrap().id, "user_01A");
        assert_eq!(
            s.api_keys[1].created_by.as_ref().unwrap().kind,
            "service_account"
        );
        assert_eq!(s.api_keys[1].workspace_id, None);
    }

    #[test]
    fn a_members_no_access_since_is_an_audit_record_not_state() {
        let dated = DOC.replace(
            "    added_at: 2025-01-10T09:00:00Z\ninvites",
            "    added_at: 2025-01-10T09:00:00Z\n    no_access_since: \"2026-06-01T00:00:00Z\"\ninvites",
        );
        assert_ne!(dated, DOC);
        assert_eq!(parse(&dated).unwrap(), parse(DOC).unwrap());
        // Any other unknown member field is still refused.
        let wrong = dated.replace("no_access_since", "no_access_after");
        assert!(parse(&wrong).is_err());
    }

    #[test]
    fn refuses_another_format_and_unknown_people() {
        let e = parse(&DOC.replace("snapshot_format: 1", "snapshot_format: 2")).unwrap_err();
        assert!(e.contains("snapshot_format 2 is not supported"), "{e}");
        let e = parse(&DOC.replace("user_01Gone", "someone")).unwrap_err();
        assert!(e.contains("\"someone\" is neither"), "{e}");
        let e = parse(&DOC.replace("created_by: ada@acme.example", "created_by: x@y.example"))
            .unwrap_err();
        assert!(e.contains("api key \"ci\""), "{e}");
    }
}
