//! The manifest's types. Field docs double as the JSON Schema's descriptions.
//!
//! Emails keep the spelling the manifest used (they are printed as written); compare them
//! with [`orgform_model::normalize_email`].

use std::collections::BTreeMap;

use indexmap::IndexMap;
use orgform_model::{AllowedGeos, ApiKeyStatus, OrgRole, WorkspaceRole};
use serde::{Deserialize, Serialize};

/// A whole manifest, after fragments are merged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Format version; only `1` exists.
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::version"))]
    pub version: u32,
    /// The organization this manifest describes.
    pub organization: OrganizationSpec,
    /// Policies; every key is optional and defaults to the safe choice.
    #[serde(default)]
    pub settings: Settings,
    /// People, by email.
    #[serde(default)]
    pub members: Vec<MemberSpec>,
    /// Workspaces, by name.
    #[serde(default)]
    pub workspaces: Vec<WorkspaceSpec>,
    /// API keys (which the API cannot create or delete).
    #[serde(default)]
    pub api_keys: Vec<ApiKeySpec>,
    /// Workload identity federation: issuers and rules (read and written only with an OAuth
    /// bearer token).
    #[serde(default, skip_serializing_if = "crate::FederationSpec::is_empty")]
    pub federation: crate::FederationSpec,
    /// Where each entry and setting was written (filled by loading; never serialised, and
    /// never part of equality).
    #[serde(skip)]
    pub sources: crate::Sources,
}

/// `organization:`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct OrganizationSpec {
    /// The organization's UUID; every run checks it against `GET /v1/organizations/me`.
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::uuid"))]
    pub id: String,
    /// Expected display name; a mismatch is only a warning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Kind of organization.
    #[serde(default)]
    pub platform: Platform,
}

/// Which kind of organization this is; it decides the valid roles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// Claude Console (API) organization.
    #[default]
    Console,
    /// Claude Enterprise organization.
    Enterprise,
    /// Claude on AWS: only workspaces exist.
    Aws,
}

/// `settings:`
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Live members not listed in the manifest.
    pub members: MembersSettings,
    /// Invites.
    pub invites: InvitesSettings,
    /// Live workspaces not listed in the manifest.
    pub workspaces: WorkspacesSettings,
    /// Members of listed workspaces that the workspace entry does not name.
    pub workspace_members: WorkspaceMembersSettings,
    /// API keys not listed in the manifest, and key age.
    pub api_keys: ApiKeysSettings,
    /// How many destructive actions one run may take.
    pub limits: Limits,
    /// Emails this tool never removes, demotes or touches the keys of.
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::emails"))]
    pub protected: Vec<String>,
    /// Service accounts (by name) this tool never archives, nor archives or narrows the
    /// federation rules that target them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub protected_service_accounts: Vec<String>,
    /// `drift` reports entries whose `expires` date is at most this many days away
    /// (default [`DEFAULT_EXPIRY_WARNING_DAYS`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiry_warning_days: Option<u32>,
}

/// `settings.expiry_warning_days` when it is not written.
pub const DEFAULT_EXPIRY_WARNING_DAYS: u32 = 14;

/// `settings.members`
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct MembersSettings {
    /// What to do with live members not listed.
    pub unmanaged: MemberPolicy,
    /// How a member is removed (an unlisted one under `unmanaged: remove`, or one whose
    /// `expires` date has passed): at once, or in two stages.
    #[serde(skip_serializing_if = "RemovalPolicy::is_immediate")]
    pub removal: RemovalPolicy,
    /// With `removal: staged`: the days (1 to 365, default [`DEFAULT_GRACE_DAYS`]) between
    /// the first stage, as the audit snapshot records it, and the removal itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grace_days: Option<u32>,
}

/// `settings.members.grace_days` when it is not written.
pub const DEFAULT_GRACE_DAYS: u32 = 7;

/// The largest `settings.members.grace_days`.
pub const MAX_GRACE_DAYS: u32 = 365;

impl MembersSettings {
    /// The grace period of a staged removal, in days.
    pub fn grace_days(&self) -> u32 {
        self.grace_days.unwrap_or(DEFAULT_GRACE_DAYS)
    }
}

/// How members are removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum RemovalPolicy {
    /// The removal is planned as soon as it is wanted.
    #[default]
    Immediate,
    /// First the person's active API keys are deactivated and their explicit workspace
    /// memberships removed; the removal itself is planned once `grace_days` have passed since
    /// the audit snapshot (`orgform snapshot --out`) first recorded them without access.
    Staged,
}

impl RemovalPolicy {
    /// Whether this is the default, [`RemovalPolicy::Immediate`].
    pub fn is_immediate(&self) -> bool {
        *self == Self::Immediate
    }
}

/// Policy for unlisted members.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum MemberPolicy {
    /// Leave them alone: neither planned nor reported, not drift.
    Ignore,
    /// Report them; change nothing (drift finds them).
    #[default]
    Report,
    /// Remove them from the organization.
    Remove,
}

/// `settings.invites`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct InvitesSettings {
    /// What to do with pending invites for emails not listed.
    pub unmanaged: InvitePolicy,
    /// Whether a listed person whose only invite expired gets a new one.
    pub reissue_expired: bool,
}

impl Default for InvitesSettings {
    fn default() -> Self {
        Self {
            unmanaged: InvitePolicy::Report,
            reissue_expired: true,
        }
    }
}

/// Policy for unlisted pending invites.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum InvitePolicy {
    /// Leave them alone: neither planned nor reported, not drift.
    Ignore,
    /// Report them; change nothing (drift finds them).
    #[default]
    Report,
    /// Delete them.
    Revoke,
}

/// `settings.workspaces`
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct WorkspacesSettings {
    /// What to do with live workspaces not listed.
    pub unmanaged: WorkspacePolicy,
}

/// Policy for unlisted workspaces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum WorkspacePolicy {
    /// Leave them alone: neither planned nor reported, not drift.
    Ignore,
    /// Report them; change nothing (drift finds them).
    #[default]
    Report,
    /// Archive them (irreversible; deactivates their keys).
    Archive,
}

/// `settings.workspace_members`
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct WorkspaceMembersSettings {
    /// What to do with members of a managed workspace that its entry does not name.
    pub unmanaged: WorkspaceMemberPolicy,
}

/// Policy for unlisted workspace members (only inside workspaces that have `members:`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum WorkspaceMemberPolicy {
    /// Report them; change nothing.
    Report,
    /// Remove them from the workspace.
    #[default]
    Remove,
}

/// `settings.api_keys`
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct ApiKeysSettings {
    /// What to do with keys not listed.
    pub unmanaged: ApiKeyPolicy,
    /// Active keys older than this many days are reported (a rotation reminder).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age_days: Option<u32>,
    /// `drift` reports active keys with no usage in the last this many days (1 to 365), from
    /// the usage report grouped by API key; keys younger than that are not judged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unused_days: Option<u32>,
}

/// Policy for unlisted API keys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ApiKeyPolicy {
    /// Neither report nor change them.
    #[default]
    Ignore,
    /// Report them.
    Report,
    /// Deactivate the active ones.
    Deactivate,
}

/// `settings.limits`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Destructive actions of one kind allowed in one run.
    pub max_destructive: u32,
    /// ... and as a percentage of the live objects of that kind; the smaller limit applies.
    #[cfg_attr(feature = "schema", schemars(range(max = 100)))]
    pub max_destructive_percent: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_destructive: 10,
            max_destructive_percent: 25,
        }
    }
}

/// One person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MemberSpec {
    /// Compared case-insensitively; printed as written.
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::email"))]
    pub email: String,
    /// Organization role (`admin` is an assertion only: the API cannot grant it).
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::org_role"))]
    pub role: OrgRole,
    /// Time-boxed access: in force through the end of this day (UTC); the first plan after
    /// it removes the person (or revokes their invite).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::date"))]
    pub expires: Option<Expiry>,
}

/// `expires: YYYY-MM-DD`: the last day (UTC) an entry is in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Expiry(pub jiff::civil::Date);

impl Expiry {
    /// The first instant the entry is no longer in force: the next midnight, UTC.
    pub fn end(self) -> jiff::Timestamp {
        self.0
            .tomorrow()
            .ok()
            .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
            .map_or(jiff::Timestamp::MAX, |z| z.timestamp())
    }

    /// Whole days left at `now`: 0 on the last day, negative once it has passed.
    pub fn days_left(self, now: jiff::Timestamp) -> i64 {
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        self.0
            .since((jiff::Unit::Day, today))
            .map_or(0, |span| i64::from(span.get_days()))
    }

    /// Whether the entry is no longer in force at `now`.
    pub fn has_passed(self, now: jiff::Timestamp) -> bool {
        now >= self.end()
    }
}

impl std::fmt::Display for Expiry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for Expiry {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Expiry {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = Expiry;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a date such as 2027-01-31 (YYYY-MM-DD)")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Expiry, E> {
                let text = text.trim();
                let shaped = text.len() == 10
                    && text.char_indices().all(|(i, c)| {
                        if i == 4 || i == 7 {
                            c == '-'
                        } else {
                            c.is_ascii_digit()
                        }
                    });
                shaped
                    .then(|| text.parse::<jiff::civil::Date>().ok())
                    .flatten()
                    .map(Expiry)
                    .ok_or_else(|| E::invalid_value(serde::de::Unexpected::Str(text), &self))
            }
        }
        deserializer.deserialize_str(Visit)
    }
}

/// One workspace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct WorkspaceSpec {
    /// 1-40 characters, unique in the manifest: the workspace's identity.
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = 40)))]
    pub name: String,
    /// Optional pin; with it, a different live name is a rename.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = r"^wrkspc_")))]
    pub id: Option<String>,
    /// `#RRGGBB`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = r"^#[0-9A-Fa-f]{6}$")))]
    pub display_color: Option<String>,
    /// Omitted fields are not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_residency: Option<DataResidencySpec>,
    /// Tags; keys may not start with `anthropic`. Omitted: not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::tags"))]
    pub tags: Option<BTreeMap<String, String>>,
    /// Email -> workspace role (or `{role, expires}`). Omitted: members not managed; `{}`:
    /// managed, nobody explicit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::schema::workspace_members")
    )]
    pub members: Option<IndexMap<String, Grant>>,
    /// Archive the workspace (irreversible; deactivates every key in it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub archived: bool,
}

/// One workspace grant (`email: role`, or `email: {role: ROLE, expires: DATE}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The workspace role.
    pub role: WorkspaceRole,
    /// Time-boxed grant: in force through the end of this day (UTC); the first plan after it
    /// removes the membership.
    pub expires: Option<Expiry>,
}

impl From<WorkspaceRole> for Grant {
    fn from(role: WorkspaceRole) -> Self {
        Self {
            role,
            expires: None,
        }
    }
}

impl Serialize for Grant {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        match self.expires {
            None => self.role.serialize(serializer),
            Some(expires) => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("role", &self.role)?;
                map.serialize_entry("expires", &expires)?;
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Grant {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Full {
            role: WorkspaceRole,
            #[serde(default)]
            expires: Option<Expiry>,
        }
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Grant;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a workspace role, or {role: ROLE, expires: YYYY-MM-DD}")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Grant, E> {
                WorkspaceRole::deserialize(serde::de::value::StrDeserializer::new(text))
                    .map(Grant::from)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Grant, A::Error> {
                let full = Full::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(Grant {
                    role: full.role,
                    expires: full.expires,
                })
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

/// `data_residency:` of a workspace; omitted fields are not managed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DataResidencySpec {
    /// Immutable after creation: a change is blocked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::schema::workspace_geo")
    )]
    pub workspace_geo: Option<String>,
    /// A list of geographies, or `"unrestricted"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::schema::allowed_geos")
    )]
    pub allowed_inference_geos: Option<AllowedGeos>,
    /// Must be in `allowed_inference_geos`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::schema::inference_geo")
    )]
    pub default_inference_geo: Option<String>,
}

/// One API key, matched by `id`, or by `name` (+ `workspace`) when that is unique.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(
    feature = "schema",
    schemars(extend("anyOf" = [{ "required": ["id"] }, { "required": ["name"] }]))
)]
#[serde(deny_unknown_fields)]
pub struct ApiKeySpec {
    /// `apikey_...`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = r"^apikey_")))]
    pub id: Option<String>,
    /// With `id`, a different live name is a rename; without, the match key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Narrows a name match; `default` is the default workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// Wanted status: `active`, `inactive` or `archived` (irreversible).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::schema::key_status")
    )]
    pub status: Option<ApiKeyStatus>,
}
