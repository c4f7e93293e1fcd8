//! The live organization as one complete read: [`Snapshot`].

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{ApiKeyStatus, Identities, InviteStatus, OrgRole, WorkspaceRole};

/// The whole live organization, read completely (a partial read is never a `Snapshot`).
///
/// It is also the emulator's seed format, so a test can seed a state, fetch it back and
/// compare the two.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// `GET /v1/organizations/me`.
    pub organization: Organization,
    /// Members of the organization.
    #[serde(default)]
    pub users: Vec<User>,
    /// Invites of every listed status (pending, accepted, expired).
    #[serde(default)]
    pub invites: Vec<Invite>,
    /// Workspaces, archived ones included; the default workspace is never among them.
    #[serde(default)]
    pub workspaces: Vec<Workspace>,
    /// Explicit workspace memberships of every workspace.
    #[serde(default)]
    pub workspace_members: Vec<WorkspaceMember>,
    /// Workspace API keys of every status.
    #[serde(default)]
    pub api_keys: Vec<ApiKey>,
    /// Service accounts and federation; `None` when they were not read (the API serves them
    /// to an OAuth bearer token only), which never means "none exist".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identities: Option<Identities>,
}

/// The organization a key belongs to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    /// A UUID.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// A member of the organization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// `user_...`
    pub id: String,
    /// As the API returns it.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Organization role.
    pub role: OrgRole,
    /// When the person joined.
    pub added_at: Timestamp,
}

/// An invitation to join the organization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invite {
    /// `invite_...`
    pub id: String,
    /// Recipient.
    pub email: String,
    /// Role the person gets on acceptance.
    pub role: OrgRole,
    /// Status as read (the API derives `expired` from the clock).
    pub status: InviteStatus,
    /// Creation time.
    pub invited_at: Timestamp,
    /// `invited_at` + 21 days.
    pub expires_at: Timestamp,
    /// When it was accepted, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<Timestamp>,
}

/// Where a workspace's data lives and where inference may run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataResidency {
    /// Storage geography; immutable after creation.
    pub workspace_geo: String,
    /// Geographies inference may use.
    pub allowed_inference_geos: AllowedGeos,
    /// Geography used when a request names none.
    pub default_inference_geo: String,
}

/// `allowed_inference_geos`: a list, or the string `"unrestricted"`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AllowedGeos {
    /// Specific geographies.
    List(Vec<String>),
    /// Any geography (the wire value `"unrestricted"`).
    Unrestricted(Unrestricted),
}

impl AllowedGeos {
    /// `"unrestricted"`.
    pub const UNRESTRICTED: Self = Self::Unrestricted(Unrestricted::Unrestricted);

    /// Whether `geo` may be used.
    pub fn allows(&self, geo: &str) -> bool {
        match self {
            Self::List(list) => list.iter().any(|g| g == geo),
            Self::Unrestricted(_) => true,
        }
    }
}

/// The single wire value `"unrestricted"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Unrestricted {
    /// `"unrestricted"`
    #[serde(rename = "unrestricted")]
    Unrestricted,
}

/// A workspace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workspace {
    /// `wrkspc_...`
    pub id: String,
    /// 1-40 characters.
    pub name: String,
    /// Creation time.
    pub created_at: Timestamp,
    /// Set once archived; archiving cannot be undone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_at: Option<Timestamp>,
    /// `#RRGGBB`.
    pub display_color: String,
    /// Absent on workspaces read from an API version before data residency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_residency: Option<DataResidency>,
    /// Free-form tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

impl Workspace {
    /// Whether the workspace is archived.
    pub fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }
}

/// An explicit membership of a user in a workspace.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceMember {
    /// `wrkspc_...`
    pub workspace_id: String,
    /// `user_...`
    pub user_id: String,
    /// Role in that workspace.
    pub workspace_role: WorkspaceRole,
}

/// Who created a key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActorRef {
    /// `user_...` or `svac_...`
    pub id: String,
    /// `user` or `service_account`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// A workspace API key (never its secret: the API does not return it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    /// `apikey_...`
    pub id: String,
    /// 1-500 characters.
    pub name: String,
    /// Creation time.
    pub created_at: Timestamp,
    /// Creator; absent for legacy or system keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<ActorRef>,
    /// The redacted hint the Console shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial_key_hint: Option<String>,
    /// Status as read (the API derives `expired` from `expires_at`).
    pub status: ApiKeyStatus,
    /// Expiry, if the key has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    /// Owning workspace; `None` is the default workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_id: Option<String>,
}

impl Snapshot {
    /// Sorts every collection by id so that equal organizations compare and hash equal
    /// whatever order the API returned them in.
    pub fn normalize(&mut self) {
        self.users.sort_by(|a, b| a.id.cmp(&b.id));
        self.invites.sort_by(|a, b| a.id.cmp(&b.id));
        self.workspaces.sort_by(|a, b| a.id.cmp(&b.id));
        self.workspace_members.sort();
        self.api_keys.sort_by(|a, b| a.id.cmp(&b.id));
        if let Some(identities) = &mut self.identities {
            identities.normalize();
        }
    }

    /// A normalised copy.
    #[must_use]
    pub fn normalized(mut self) -> Self {
        self.normalize();
        self
    }

    /// Whether every collection is in the order [`Snapshot::normalize`] gives.
    pub fn is_normalized(&self) -> bool {
        self.users.is_sorted_by(|a, b| a.id <= b.id)
            && self.invites.is_sorted_by(|a, b| a.id <= b.id)
            && self.workspaces.is_sorted_by(|a, b| a.id <= b.id)
            && self.workspace_members.is_sorted()
            && self.api_keys.is_sorted_by(|a, b| a.id <= b.id)
            && self
                .identities
                .as_ref()
                .is_none_or(Identities::is_normalized)
    }

    /// `sha256:<hex>` of the normalised state, used to tell whether a saved plan is stale.
    /// A snapshot already normalised (every read is) is hashed as it is, streamed into the
    /// hash without a copy; any other is normalised in a copy first.
    pub fn digest(&self) -> String {
        if !self.is_normalized() {
            return self.clone().normalized().digest();
        }
        let mut hasher = Sha256::new();
        serde_json::to_writer(&mut hasher, self).expect("a snapshot always serialises");
        hex_digest(&hasher.finalize())
    }

    /// The user with this email (case-insensitive, surrounding whitespace ignored).
    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        let key = normalize_email(email);
        self.users.iter().find(|u| normalize_email(&u.email) == key)
    }

    /// The user with this id.
    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    /// The workspace with this id.
    pub fn workspace(&self, id: &str) -> Option<&Workspace> {
        self.workspaces.iter().find(|w| w.id == id)
    }
}

/// `sha256:<lowercase hex>` of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex_digest(&Sha256::digest(bytes))
}

fn hex_digest(hash: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in hash {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// The comparison form of an email: trimmed and lowercased. Emails are printed as written.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn user(id: &str, email: &str) -> User {
        User {
            id: id.into(),
            email: email.into(),
            name: id.into(),
            role: OrgRole::Developer,
            added_at: ts("2026-01-01T00:00:00Z"),
        }
    }

    #[test]
    fn digest_ignores_order_but_not_content() {
        let a = Snapshot {
            users: vec![user("user_a", "a@x.example"), user("user_b", "b@x.example")],
            ..Snapshot::default()
        };
        let mut b = a.clone();
        b.users.reverse();
        assert_eq!(a.digest(), b.digest());
        b.users[0].role = OrgRole::User;
        assert_ne!(a.digest(), b.digest());
        assert!(a.digest().starts_with("sha256:"));
    }

    #[test]
    fn digest_of_a_normalised_snapshot_hashes_its_json_as_before() {
        let mut s = Snapshot {
            users: vec![user("user_b", "b@x.example"), user("user_a", "a@x.example")],
            ..Snapshot::default()
        };
        assert!(!s.is_normalized());
        let unsorted = s.digest();
        s.normalize();
        assert!(s.is_normalized());
        // The form saved plans were written with: the hash of the normalised JSON.
        let json = serde_json::to_vec(&s).unwrap();
        assert_eq!(s.digest(), sha256_hex(&json));
        assert_eq!(unsorted, sha256_hex(&json));
    }

    #[test]
    fn email_lookup_is_case_insensitive() {
        let s = Snapshot {
            users: vec![user("user_a", "Alice@X.example")],
            ..Snapshot::default()
        };
        assert_eq!(s.user_by_email(" alice@x.EXAMPLE ").unwrap().id, "user_a");
    }

    #[test]
    fn allowed_geos_wire_forms() {
        let u: AllowedGeos = serde_json::from_str("\"unrestricted\"").unwrap();
        assert_eq!(u, AllowedGeos::UNRESTRICTED);
        assert!(u.allows("eu"));
        let l: AllowedGeos = serde_json::from_str("[\"us\"]").unwrap();
        assert!(l.allows("us") && !l.allows("global"));
        assert_eq!(
            serde_json::to_string(&AllowedGeos::UNRESTRICTED).unwrap(),
            "\"unrestricted\""
        );
    }
}
