//! Non-human identities: service accounts, their workspace memberships, and the federation
//! issuers and rules that let an outside identity act as one of them: [`Identities`].
//!
//! The Admin API serves these kinds only to an OAuth bearer token; an admin key is refused.
//! A [`crate::Snapshot`] therefore holds them as an `Option`: `None` means "not read", never
//! "none exist", so nothing is ever planned for them from a read that did not include them.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{ServiceAccountRole, WorkspaceRole, snapshot::sha256_hex};

/// Service accounts and federation, read completely.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identities {
    /// Service accounts, archived ones included.
    #[serde(default)]
    pub service_accounts: Vec<ServiceAccount>,
    /// Explicit workspace memberships of service accounts (the implicit default-workspace
    /// membership every service account has is never listed here).
    #[serde(default)]
    pub service_account_members: Vec<ServiceAccountMember>,
    /// Federation issuers, archived ones included.
    #[serde(default)]
    pub federation_issuers: Vec<FederationIssuer>,
    /// Federation rules, archived ones included.
    #[serde(default)]
    pub federation_rules: Vec<FederationRule>,
}

/// A named non-human identity (`svac_…`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceAccount {
    /// `svac_...`
    pub id: String,
    /// Slug (lowercase letters, digits, hyphens); unique in the organization.
    pub name: String,
    /// Free text; the API stores a cleared description as an empty string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Organization role.
    pub organization_role: ServiceAccountRole,
    /// Creation time.
    pub created_at: Timestamp,
    /// Set once archived; archiving cannot be undone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_at: Option<Timestamp>,
}

impl ServiceAccount {
    /// Whether the service account is archived.
    pub fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }
}

/// An explicit membership of a service account in a workspace.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceAccountMember {
    /// `wrkspc_...`
    pub workspace_id: String,
    /// `svac_...`
    pub service_account_id: String,
    /// Role in that workspace (never `workspace_billing` for a service account).
    pub workspace_role: WorkspaceRole,
}

/// A registered outside OIDC identity provider (`fdis_…`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationIssuer {
    /// `fdis_...`
    pub id: String,
    /// Slug; unique in the organization.
    pub name: String,
    /// The `iss` claim incoming tokens must carry exactly.
    pub issuer_url: String,
    /// Where the signing keys come from.
    pub jwks: Jwks,
    /// Longest `iat`→`exp` spread accepted (1-176400 seconds).
    pub max_jwt_lifetime_seconds: u32,
    /// Whether a `jti` may be used once only.
    pub check_jti: bool,
    /// Creation time.
    pub created_at: Timestamp,
    /// Set once archived; archiving cannot be undone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_at: Option<Timestamp>,
}

impl FederationIssuer {
    /// Whether the issuer is archived.
    pub fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }
}

/// How an issuer's signing keys are obtained.
///
/// Inline key sets are kept as a digest only: a snapshot is committed to git, and a key set
/// pasted inline is not known to be public the way a URL-served one is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Jwks {
    /// OIDC discovery from the issuer URL (or `discovery_base`).
    Discovery {
        /// Set when discovery starts elsewhere than the issuer URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        discovery_base: Option<String>,
        /// Custom CA for the fetch (a public certificate).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ca_cert_pem: Option<String>,
    },
    /// A JWKS document at a fixed URL.
    ExplicitUrl {
        /// The JWKS endpoint.
        url: String,
        /// Custom CA for the fetch (a public certificate).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ca_cert_pem: Option<String>,
    },
    /// Keys supplied inline, kept as [`jwks_digest`] of the key list and its length.
    Inline {
        /// `sha256:<hex>` of the canonical JSON of the key list.
        keys_digest: String,
        /// How many keys the list holds.
        key_count: usize,
    },
}

/// `sha256:<hex>` of the canonical JSON (object keys sorted, no spaces) of an inline key list:
/// equal key sets digest equal whatever order their fields were written in.
pub fn jwks_digest(keys: &[serde_json::Value]) -> String {
    let canonical: Vec<serde_json::Value> = keys.iter().map(sorted).collect();
    let json = serde_json::to_vec(&canonical).expect("JSON values always serialise");
    sha256_hex(&json)
}

/// `value` with every object's keys in sorted order, whatever order the map type keeps.
fn sorted(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            serde_json::Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sorted(v)))
                    .collect(),
            )
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.iter().map(sorted).collect())
        }
        other => other.clone(),
    }
}

/// What an incoming token must satisfy for a rule to apply; absent fields are skipped.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleMatch {
    /// Exact `aud` match (any element if an array).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// Exact-match string claims.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claims: BTreeMap<String, String>,
    /// A CEL expression over `claims`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// The `sub` claim: exact, or a prefix when it ends with `*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_prefix: Option<String>,
}

/// An authorization rule binding an outside identity to a service account (`fdrl_…`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationRule {
    /// `fdrl_...`
    pub id: String,
    /// Slug; unique in the organization.
    pub name: String,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `fdis_...` of the issuer whose tokens the rule accepts.
    pub issuer_id: String,
    /// What the token must satisfy.
    #[serde(rename = "match")]
    pub rule_match: RuleMatch,
    /// `svac_...` the minted tokens act as.
    pub target_service_account_id: String,
    /// Space-separated OAuth scopes of the minted tokens.
    pub oauth_scope: String,
    /// Lifetime of minted tokens (60-86400 seconds).
    pub token_lifetime_seconds: u32,
    /// Enabled for every workspace, present and future.
    pub applies_to_all_workspaces: bool,
    /// Workspaces the rule is enabled for, sorted (the legacy single `workspace_id` binding
    /// included); ignored when `applies_to_all_workspaces`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workspace_ids: Vec<String>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Set once archived; archiving cannot be undone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_at: Option<Timestamp>,
}

impl FederationRule {
    /// Whether the rule is archived.
    pub fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }
}

impl Identities {
    /// Sorts every collection by id (memberships by workspace, then service account).
    pub fn normalize(&mut self) {
        self.service_accounts.sort_by(|a, b| a.id.cmp(&b.id));
        self.service_account_members.sort();
        self.federation_issuers.sort_by(|a, b| a.id.cmp(&b.id));
        self.federation_rules.sort_by(|a, b| a.id.cmp(&b.id));
        for rule in &mut self.federation_rules {
            rule.workspace_ids.sort();
            rule.workspace_ids.dedup();
        }
    }

    /// Whether every collection is in the order [`Identities::normalize`] gives.
    pub fn is_normalized(&self) -> bool {
        self.service_accounts.is_sorted_by(|a, b| a.id <= b.id)
            && self.service_account_members.is_sorted()
            && self.federation_issuers.is_sorted_by(|a, b| a.id <= b.id)
            && self.federation_rules.is_sorted_by(|a, b| a.id <= b.id)
            && self
                .federation_rules
                .iter()
                .all(|r| r.workspace_ids.is_sorted_by(|a, b| a < b))
    }

    /// The service account with this id.
    pub fn service_account(&self, id: &str) -> Option<&ServiceAccount> {
        self.service_accounts.iter().find(|s| s.id == id)
    }

    /// The federation issuer with this id.
    pub fn issuer(&self, id: &str) -> Option<&FederationIssuer> {
        self.federation_issuers.iter().find(|i| i.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn jwks_digest_ignores_field_order_but_not_content() {
        let a: Vec<serde_json::Value> =
            serde_json::from_str(r#"[{"kty":"RSA","kid":"a","n":"xyz","e":"AQAB"}]"#).unwrap();
        let b: Vec<serde_json::Value> =
            serde_json::from_str(r#"[{"e":"AQAB","n":"xyz","kid":"a","kty":"RSA"}]"#).unwrap();
        let c: Vec<serde_json::Value> =
            serde_json::from_str(r#"[{"kty":"RSA","kid":"b","n":"xyz","e":"AQAB"}]"#).unwrap();
        assert_eq!(jwks_digest(&a), jwks_digest(&b));
        assert_ne!(jwks_digest(&a), jwks_digest(&c));
        assert!(jwks_digest(&a).starts_with("sha256:"));
    }

    #[test]
    fn jwks_wire_forms_are_tagged_by_type() {
        let j: Jwks =
            serde_json::from_str(r#"{"type":"explicit_url","url":"https://x.invalid/jwks"}"#)
                .unwrap();
        assert_eq!(
            j,
            Jwks::ExplicitUrl {
                url: "https://x.invalid/jwks".into(),
                ca_cert_pem: None
            }
        );
        let d: Jwks = serde_json::from_str(r#"{"type":"discovery"}"#).unwrap();
        assert!(matches!(
            d,
            Jwks::Discovery {
                discovery_base: None,
                ..
            }
        ));
        assert!(serde_json::from_str::<Jwks>(r#"{"type":"inline","keys":[]}"#).is_err());
    }

    #[test]
    fn rule_match_field_is_spelled_match() {
        let rule = FederationRule {
            id: "fdrl_1".into(),
            name: "ci".into(),
            description: None,
            issuer_id: "fdis_1".into(),
            rule_match: RuleMatch {
                subject_prefix: Some("repo:acme/org:ref:refs/heads/main".into()),
                ..RuleMatch::default()
            },
            target_service_account_id: "svac_1".into(),
            oauth_scope: "workspace:developer".into(),
            token_lifetime_seconds: 3600,
            applies_to_all_workspaces: false,
            workspace_ids: vec!["wrkspc_b".into(), "wrkspc_a".into()],
            created_at: ts("2026-01-01T00:00:00Z"),
            archived_at: None,
        };
        let json = serde_json::to_value(&rule).unwrap();
        assert_eq!(
            json["match"]["subject_prefix"],
            "repo:acme/org:ref:refs/heads/main"
        );
        let mut ids = Identities {
            federation_rules: vec![rule],
            ..Identities::default()
        };
        assert!(!ids.is_normalized());
        ids.normalize();
        assert!(ids.is_normalized());
        assert_eq!(
            ids.federation_rules[0].workspace_ids,
            ["wrkspc_a", "wrkspc_b"]
        );
    }
}
