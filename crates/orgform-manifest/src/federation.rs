//! `federation:`: the outside identity providers an organization trusts (issuers) and the
//! rules that let their tokens act as a service account (rules). Field docs double as the JSON
//! Schema's descriptions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Shortest and longest `max_jwt_lifetime_seconds` of an issuer.
pub const JWT_LIFETIME_RANGE: std::ops::RangeInclusive<u32> = 1..=176_400;
/// Shortest and longest `token_lifetime_seconds` of a rule.
pub const TOKEN_LIFETIME_RANGE: std::ops::RangeInclusive<u32> = 60..=86_400;
/// The OAuth scopes a rule managed through the Admin API may carry; any other scope (such as
/// `org:admin`) can only be set in a Console session.
pub const RULE_SCOPES: &[&str] = &["workspace:developer", "workspace:inference"];
/// The scopes a declared rule may carry although only a Console session sets them: such a rule
/// is created and changed in the Console, and the manifest holds it for review, drift and
/// protection (orgform compares it, never writes it).
pub const CONSOLE_SCOPES: &[&str] = &["org:admin"];

/// `federation:`
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct FederationSpec {
    /// Outside OIDC identity providers, by name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub issuers: Vec<IssuerSpec>,
    /// Rules binding an outside identity to a service account, by name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleSpec>,
}

impl FederationSpec {
    /// Whether the manifest declares no issuer and no rule.
    pub fn is_empty(&self) -> bool {
        self.issuers.is_empty() && self.rules.is_empty()
    }
}

/// One federation issuer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct IssuerSpec {
    /// Slug (lowercase letters, digits, hyphens), unique among issuers: the issuer's identity.
    #[cfg_attr(
        feature = "schema",
        schemars(length(min = 1, max = 255), regex(pattern = r"^[a-z0-9-]+$"))
    )]
    pub name: String,
    /// The `iss` claim incoming tokens must carry exactly.
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    pub issuer_url: String,
    /// Where the signing keys come from; omitted: OIDC discovery from `issuer_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<JwksSpec>,
    /// Longest `iat`→`exp` spread accepted, 1-176400 seconds. Omitted: not managed (3600 on
    /// creation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 176_400)))]
    pub max_jwt_lifetime_seconds: Option<u32>,
    /// Whether a token's `jti` may be used once only. Omitted: not managed (true on creation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_jti: Option<bool>,
    /// Archive the issuer (irreversible; its rules must be archived too).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub archived: bool,
}

/// `jwks:` of an issuer: at most one of `discovery_base`, `url` and `keys`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct JwksSpec {
    /// OIDC discovery starting here instead of at `issuer_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery_base: Option<String>,
    /// A JWKS document at this fixed URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A custom CA (PEM) for fetching discovery or `url` (a public certificate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(length(max = 8192)))]
    pub ca_cert_pem: Option<String>,
    /// Public keys (JWK objects) given inline; compared with the live issuer by digest only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    pub keys: Option<Vec<BTreeMap<String, serde_json::Value>>>,
}

impl JwksSpec {
    /// The inline keys as JSON values, when given.
    pub fn key_values(&self) -> Option<Vec<serde_json::Value>> {
        self.keys.as_ref().map(|keys| {
            keys.iter()
                .map(|k| serde_json::Value::Object(k.clone().into_iter().collect()))
                .collect()
        })
    }
}

/// JWK members that carry private key material: an inline key holding one is refused.
pub const PRIVATE_JWK_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// One federation rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Slug (lowercase letters, digits, hyphens), unique among rules: the rule's identity.
    #[cfg_attr(
        feature = "schema",
        schemars(length(min = 1, max = 255), regex(pattern = r"^[a-z0-9-]+$"))
    )]
    pub name: String,
    /// Free text. Omitted: not managed; `""` clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(length(max = 2000)))]
    pub description: Option<String>,
    /// The issuer (by `federation.issuers[].name`) whose tokens the rule accepts; fixed once
    /// the rule exists.
    pub issuer: String,
    /// What an incoming token must satisfy: `subject_prefix` (not a bare `*`), `claims` or
    /// `condition`; `audience` alone is not enough.
    #[serde(rename = "match")]
    pub rule_match: MatchSpec,
    /// The service account (by `service_accounts[].name`) the minted tokens act as.
    pub service_account: String,
    /// Space-separated OAuth scopes of the minted tokens: `workspace:developer` and/or
    /// `workspace:inference`, or `org:admin` for a rule made in the Console (orgform compares
    /// and protects such a rule, never creates or changes it).
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    pub oauth_scope: String,
    /// Lifetime of minted tokens, 60-86400 seconds. Omitted: not managed (3600 on creation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 60, max = 86_400)))]
    pub token_lifetime_seconds: Option<u32>,
    /// `all` (every workspace, present and future) or a list of workspace names from
    /// `workspaces:`; required unless the rule is archived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::schema::rule_workspaces")
    )]
    pub workspaces: Option<RuleWorkspaces>,
    /// Archive the rule (irreversible; token exchange through it stops at once).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub archived: bool,
}

/// `match:` of a rule; absent fields are not checked by the rule.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MatchSpec {
    /// The `sub` claim: exact, or a prefix when it ends with `*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(length(max = 1024)))]
    pub subject_prefix: Option<String>,
    /// Exact-match string claims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<BTreeMap<String, String>>,
    /// A CEL expression over `claims` (not a constant `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(length(max = 4096)))]
    pub condition: Option<String>,
    /// Exact `aud` match (any element if an array).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(length(max = 1024)))]
    pub audience: Option<String>,
}

/// The workspaces a rule is enabled for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RuleWorkspaces {
    /// These workspaces, by name.
    Named(Vec<String>),
    /// Every workspace, present and future (the value `all`).
    All(AllWorkspaces),
}

/// The single value `all`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AllWorkspaces {
    /// `all`
    #[serde(rename = "all")]
    All,
}

impl RuleWorkspaces {
    /// `all`.
    pub const ALL: Self = Self::All(AllWorkspaces::All);

    /// Whether this is `all`.
    pub fn is_all(&self) -> bool {
        matches!(self, Self::All(_))
    }
}

/// Whether `name` is a slug: 1-255 lowercase ASCII letters, digits and hyphens.
pub fn is_slug(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Whether a `subject_prefix` matches anything at all: only `*` (and blanks).
pub fn is_wildcard_only(subject_prefix: &str) -> bool {
    subject_prefix
        .chars()
        .all(|c| c == '*' || c.is_whitespace())
}
