//! Typed calls for federation issuers and rules (bearer token only).
//!
//! Reads take the minimum of requests: one list of issuers and one list of rules (archived
//! ones included); a rule carries its `workspace_ids`, so the per-rule enablement list is not
//! read, and the legacy single `workspace_id` is folded into `workspace_ids`. An inline key
//! set is reduced to its digest ([`orgform_model::jwks_digest`]) as it is decoded: the key
//! documents never reach a snapshot.
//!
//! Writes return [`Written`] and carry their read-back check, used only when an attempt's
//! outcome is unknown:
//! - create: a non-archived object with exactly that name (names are unique, 409 otherwise);
//! - update: GET the object and compare the requested fields;
//! - archive: GET shows `archived_at` (archiving again is idempotent anyway);
//! - workspace enable/disable: GET the rule and look for the workspace.

use std::collections::BTreeMap;

use orgform_model::{FederationIssuer, FederationRule, Jwks, RuleMatch, jwks_digest};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ApiError;
use crate::client::{Client, Req, Resp, Written, decode, segment};
use crate::integrity::{ListCap, ListCheck};

const ORG: &str = "/v1/organizations";

/// `jwks` on the wire.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireJwks {
    Discovery {
        #[serde(default)]
        discovery_base: Option<String>,
        #[serde(default)]
        ca_cert_pem: Option<String>,
    },
    ExplicitUrl {
        url: String,
        #[serde(default)]
        ca_cert_pem: Option<String>,
    },
    Inline {
        keys: Vec<Value>,
    },
}

impl From<WireJwks> for Jwks {
    fn from(w: WireJwks) -> Self {
        match w {
            WireJwks::Discovery {
                discovery_base,
                ca_cert_pem,
            } => Self::Discovery {
                discovery_base,
                ca_cert_pem,
            },
            WireJwks::ExplicitUrl { url, ca_cert_pem } => Self::ExplicitUrl { url, ca_cert_pem },
            // The documents are dropped here: only their digest is kept.
            WireJwks::Inline { keys } => Self::Inline {
                keys_digest: jwks_digest(&keys),
                key_count: keys.len(),
            },
        }
    }
}

/// An issuer on the wire (actors, `updated_at` and polling state are ignored).
#[derive(Debug, Deserialize)]
struct WireIssuer {
    id: String,
    name: String,
    issuer_url: String,
    jwks: WireJwks,
    max_jwt_lifetime_seconds: u32,
    check_jti: bool,
    created_at: jiff::Timestamp,
    #[serde(default)]
    archived_at: Option<jiff::Timestamp>,
}

impl From<WireIssuer> for FederationIssuer {
    fn from(w: WireIssuer) -> Self {
        Self {
            id: w.id,
            name: w.name,
            issuer_url: w.issuer_url,
            jwks: w.jwks.into(),
            max_jwt_lifetime_seconds: w.max_jwt_lifetime_seconds,
            check_jti: w.check_jti,
            created_at: w.created_at,
            archived_at: w.archived_at,
        }
    }
}

#[derive(Debug, Deserialize)]
struct WireMatch {
    #[serde(default)]
    subject_prefix: Option<String>,
    #[serde(default)]
    claims: Option<BTreeMap<String, String>>,
    #[serde(default)]
    condition: Option<String>,
    #[serde(default)]
    audience: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireTarget {
    service_account_id: String,
}

/// A rule on the wire.
#[derive(Debug, Deserialize)]
struct WireRule {
    id: String,
    name: String,
    #[serde(default)]
    description: Option<String>,
    issuer_id: String,
    #[serde(rename = "match")]
    rule_match: WireMatch,
    target: WireTarget,
    oauth_scope: String,
    token_lifetime_seconds: u32,
    applies_to_all_workspaces: bool,
    #[serde(default)]
    workspace_id: Option<String>,
    #[serde(default)]
    workspace_ids: Vec<String>,
    created_at: jiff::Timestamp,
    #[serde(default)]
    archived_at: Option<jiff::Timestamp>,
}

impl From<WireRule> for FederationRule {
    fn from(w: WireRule) -> Self {
        let mut workspace_ids = w.workspace_ids;
        workspace_ids.extend(w.workspace_id);
        workspace_ids.sort();
        workspace_ids.dedup();
        Self {
            id: w.id,
            name: w.name,
            description: w.description,
            issuer_id: w.issuer_id,
            rule_match: RuleMatch {
                audience: w.rule_match.audience,
                claims: w.rule_match.claims.unwrap_or_default(),
                condition: w.rule_match.condition,
                subject_prefix: w.rule_match.subject_prefix,
            },
            target_service_account_id: w.target.service_account_id,
            oauth_scope: w.oauth_scope,
            token_lifetime_seconds: w.token_lifetime_seconds,
            applies_to_all_workspaces: w.applies_to_all_workspaces,
            workspace_ids,
            created_at: w.created_at,
            archived_at: w.archived_at,
        }
    }
}

/// How an issuer's keys are obtained, in the form a write sends: inline keys travel whole.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JwksBody {
    /// OIDC discovery.
    Discovery {
        /// Where discovery starts, when not at the issuer URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        discovery_base: Option<String>,
        /// Custom CA (PEM).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ca_cert_pem: Option<String>,
    },
    /// A fixed JWKS URL.
    ExplicitUrl {
        /// The URL.
        url: String,
        /// Custom CA (PEM).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ca_cert_pem: Option<String>,
    },
    /// Public keys given inline.
    Inline {
        /// JWK objects.
        keys: Vec<Value>,
    },
}

impl JwksBody {
    /// The model form (inline keys as their digest), to compare with a read.
    pub fn to_model(&self) -> Jwks {
        match self.clone() {
            Self::Discovery {
                discovery_base,
                ca_cert_pem,
            } => Jwks::Discovery {
                discovery_base,
                ca_cert_pem,
            },
            Self::ExplicitUrl { url, ca_cert_pem } => Jwks::ExplicitUrl { url, ca_cert_pem },
            Self::Inline { keys } => Jwks::Inline {
                keys_digest: jwks_digest(&keys),
                key_count: keys.len(),
            },
        }
    }
}

/// Fields of an issuer create or update; `None` is left out of the body.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct IssuerFields {
    /// Slug.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The `iss` claim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer_url: Option<String>,
    /// The key source (replaced whole).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<JwksBody>,
    /// 1-176400.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_jwt_lifetime_seconds: Option<u32>,
    /// JTI single use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_jti: Option<bool>,
}

/// A rule's match on the wire (absent fields are not sent).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct MatchBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    subject_prefix: Option<&'a str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    claims: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    condition: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    audience: Option<&'a str>,
}

impl<'a> From<&'a RuleMatch> for MatchBody<'a> {
    fn from(m: &'a RuleMatch) -> Self {
        Self {
            subject_prefix: m.subject_prefix.as_deref(),
            claims: &m.claims,
            condition: m.condition.as_deref(),
            audience: m.audience.as_deref(),
        }
    }
}

#[derive(Debug, Serialize)]
struct TargetBody<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    service_account_id: &'a str,
}

/// Fields of a rule create or update; `None` is left out of the body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleFields {
    /// Slug.
    pub name: Option<String>,
    /// Description (`Some("")` clears it).
    pub description: Option<String>,
    /// The issuer (create only: it is immutable).
    pub issuer_id: Option<String>,
    /// The match, replaced whole.
    pub rule_match: Option<RuleMatch>,
    /// The target service account.
    pub service_account_id: Option<String>,
    /// Scopes.
    pub oauth_scope: Option<String>,
    /// 60-86400.
    pub token_lifetime_seconds: Option<u32>,
    /// Every workspace.
    pub applies_to_all_workspaces: Option<bool>,
    /// The single workspace enabled at creation.
    pub workspace_id: Option<String>,
}

impl RuleFields {
    fn body(&self) -> Value {
        let mut out = serde_json::Map::new();
        let mut put = |k: &str, v: Value| {
            out.insert(k.to_owned(), v);
        };
        if let Some(v) = &self.name {
            put("name", v.clone().into());
        }
        if let Some(v) = &self.description {
            put("description", v.clone().into());
        }
        if let Some(v) = &self.issuer_id {
            put("issuer_id", v.clone().into());
        }
        if let Some(m) = &self.rule_match {
            put(
                "match",
                serde_json::to_value(MatchBody::from(m)).unwrap_or_default(),
            );
        }
        if let Some(id) = &self.service_account_id {
            put(
                "target",
                serde_json::to_value(TargetBody {
                    kind: "service_account",
                    service_account_id: id,
                })
                .unwrap_or_default(),
            );
        }
        if let Some(v) = &self.oauth_scope {
            put("oauth_scope", v.clone().into());
        }
        if let Some(v) = self.token_lifetime_seconds {
            put("token_lifetime_seconds", v.into());
        }
        if let Some(v) = self.applies_to_all_workspaces {
            put("applies_to_all_workspaces", v.into());
        }
        if let Some(v) = &self.workspace_id {
            put("workspace_id", v.clone().into());
        }
        Value::Object(out)
    }

    /// Whether `rule` shows every field this write sets.
    fn shown_by(&self, rule: &FederationRule) -> bool {
        self.name.as_ref().is_none_or(|v| *v == rule.name)
            && self
                .description
                .as_ref()
                .is_none_or(|v| rule.description.as_deref().unwrap_or_default() == v)
            && self
                .rule_match
                .as_ref()
                .is_none_or(|v| *v == rule.rule_match)
            && self
                .service_account_id
                .as_ref()
                .is_none_or(|v| *v == rule.target_service_account_id)
            && self
                .oauth_scope
                .as_ref()
                .is_none_or(|v| *v == rule.oauth_scope)
            && self
                .token_lifetime_seconds
                .is_none_or(|v| v == rule.token_lifetime_seconds)
            && self
                .applies_to_all_workspaces
                .is_none_or(|v| v == rule.applies_to_all_workspaces)
    }
}

fn decode_issuer(req: &Req) -> impl Fn(&Resp) -> Result<FederationIssuer, ApiError> + '_ {
    move |resp| decode::<WireIssuer>(req, resp).map(FederationIssuer::from)
}

fn decode_rule(req: &Req) -> impl Fn(&Resp) -> Result<FederationRule, ApiError> + '_ {
    move |resp| decode::<WireRule>(req, resp).map(FederationRule::from)
}

#[expect(
    clippy::unnecessary_wraps,
    reason = "must match the decoder signature every write takes"
)]
fn ignore_body(_: &Resp) -> Result<(), ApiError> {
    Ok(())
}

fn issuer_shows(fields: &IssuerFields, issuer: &FederationIssuer) -> bool {
    fields.name.as_ref().is_none_or(|v| *v == issuer.name)
        && fields
            .issuer_url
            .as_ref()
            .is_none_or(|v| *v == issuer.issuer_url)
        && fields
            .jwks
            .as_ref()
            .is_none_or(|v| v.to_model() == issuer.jwks)
        && fields
            .max_jwt_lifetime_seconds
            .is_none_or(|v| v == issuer.max_jwt_lifetime_seconds)
        && fields.check_jti.is_none_or(|v| v == issuer.check_jti)
}

impl Client {
    /// Every federation issuer, archived ones included.
    pub async fn list_federation_issuers(&self) -> Result<Vec<FederationIssuer>, ApiError> {
        let req = Req::get(format!("{ORG}/federation_issuers")).query("include_archived", "true");
        let check = ListCheck::new("federation issuers", "id", ListCap::FEDERATION);
        let list: Vec<WireIssuer> = self.list_cursor(req, check).await?;
        Ok(list.into_iter().map(FederationIssuer::from).collect())
    }

    /// Every federation rule, archived ones included.
    pub async fn list_federation_rules(&self) -> Result<Vec<FederationRule>, ApiError> {
        let req = Req::get(format!("{ORG}/federation_rules")).query("include_archived", "true");
        let check = ListCheck::new("federation rules", "id", ListCap::FEDERATION);
        let list: Vec<WireRule> = self.list_cursor(req, check).await?;
        Ok(list.into_iter().map(FederationRule::from).collect())
    }

    /// One issuer; `None` when the API answers 404.
    pub async fn get_federation_issuer(
        &self,
        id: &str,
    ) -> Result<Option<FederationIssuer>, ApiError> {
        let req = Req::get(format!("{ORG}/federation_issuers/{}", segment(id)?));
        Ok(self
            .read_optional::<WireIssuer>(&req)
            .await?
            .map(FederationIssuer::from))
    }

    /// One rule; `None` when the API answers 404.
    pub async fn get_federation_rule(&self, id: &str) -> Result<Option<FederationRule>, ApiError> {
        let req = Req::get(format!("{ORG}/federation_rules/{}", segment(id)?));
        Ok(self
            .read_optional::<WireRule>(&req)
            .await?
            .map(FederationRule::from))
    }

    /// Creates an issuer (`name` and `issuer_url` set).
    pub async fn create_federation_issuer(
        &self,
        fields: &IssuerFields,
    ) -> Result<Written<FederationIssuer>, ApiError> {
        let req = Req::post(format!("{ORG}/federation_issuers"), fields);
        let name = fields.name.clone().unwrap_or_default();
        let op = format!("create federation issuer {name}");
        self.write(&op, &req, decode_issuer(&req), || async {
            Ok(self
                .list_federation_issuers()
                .await?
                .into_iter()
                .find(|i| !i.is_archived() && i.name == name))
        })
        .await
    }

    /// Updates an issuer's fields that are set.
    pub async fn update_federation_issuer(
        &self,
        id: &str,
        fields: &IssuerFields,
    ) -> Result<Written<FederationIssuer>, ApiError> {
        let req = Req::post(format!("{ORG}/federation_issuers/{}", segment(id)?), fields);
        let op = format!("update federation issuer {id}");
        self.write(&op, &req, decode_issuer(&req), || async {
            Ok(self
                .get_federation_issuer(id)
                .await?
                .filter(|i| issuer_shows(fields, i)))
        })
        .await
    }

    /// Archives an issuer (irreversible; idempotent on the server).
    pub async fn archive_federation_issuer(
        &self,
        id: &str,
    ) -> Result<Written<FederationIssuer>, ApiError> {
        let req = Req::post_empty(format!("{ORG}/federation_issuers/{}/archive", segment(id)?));
        let op = format!("archive federation issuer {id}");
        self.write(&op, &req, decode_issuer(&req), || async {
            Ok(self
                .get_federation_issuer(id)
                .await?
                .filter(FederationIssuer::is_archived))
        })
        .await
    }

    /// Creates a rule.
    pub async fn create_federation_rule(
        &self,
        fields: &RuleFields,
    ) -> Result<Written<FederationRule>, ApiError> {
        let req = Req::post(format!("{ORG}/federation_rules"), &fields.body());
        let name = fields.name.clone().unwrap_or_default();
        let op = format!("create federation rule {name}");
        self.write(&op, &req, decode_rule(&req), || async {
            Ok(self
                .list_federation_rules()
                .await?
                .into_iter()
                .find(|r| !r.is_archived() && r.name == name))
        })
        .await
    }

    /// Updates a rule's fields that are set.
    pub async fn update_federation_rule(
        &self,
        id: &str,
        fields: &RuleFields,
    ) -> Result<Written<FederationRule>, ApiError> {
        let req = Req::post(
            format!("{ORG}/federation_rules/{}", segment(id)?),
            &fields.body(),
        );
        let op = format!("update federation rule {id}");
        self.write(&op, &req, decode_rule(&req), || async {
            Ok(self
                .get_federation_rule(id)
                .await?
                .filter(|r| fields.shown_by(r)))
        })
        .await
    }

    /// Archives a rule (irreversible; token exchange through it stops at once).
    pub async fn archive_federation_rule(
        &self,
        id: &str,
    ) -> Result<Written<FederationRule>, ApiError> {
        let req = Req::post_empty(format!("{ORG}/federation_rules/{}/archive", segment(id)?));
        let op = format!("archive federation rule {id}");
        self.write(&op, &req, decode_rule(&req), || async {
            Ok(self
                .get_federation_rule(id)
                .await?
                .filter(FederationRule::is_archived))
        })
        .await
    }

    /// Enables a rule for a workspace (idempotent on the server).
    pub async fn enable_federation_rule_workspace(
        &self,
        rule_id: &str,
        workspace_id: &str,
    ) -> Result<Written<()>, ApiError> {
        let req = Req::post(
            format!("{ORG}/federation_rules/{}/workspaces", segment(rule_id)?),
            &serde_json::json!({ "workspace_id": workspace_id }),
        );
        let op = format!("enable federation rule {rule_id} for workspace {workspace_id}");
        self.write(&op, &req, ignore_body, || async {
            Ok(self
                .get_federation_rule(rule_id)
                .await?
                .filter(|r| r.workspace_ids.iter().any(|w| w == workspace_id))
                .map(|_| ()))
        })
        .await
    }

    /// Disables a rule for a workspace (idempotent on the server).
    pub async fn disable_federation_rule_workspace(
        &self,
        rule_id: &str,
        workspace_id: &str,
    ) -> Result<Written<()>, ApiError> {
        let req = Req::delete(format!(
            "{ORG}/federation_rules/{}/workspaces/{}",
            segment(rule_id)?,
            segment(workspace_id)?
        ));
        let op = format!("disable federation rule {rule_id} for workspace {workspace_id}");
        self.write(&op, &req, ignore_body, || async {
            Ok(self
                .get_federation_rule(rule_id)
                .await?
                .filter(|r| !r.workspace_ids.iter().any(|w| w == workspace_id))
                .map(|_| ()))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inline_key_set_is_read_as_its_digest_only() {
        let wire: WireIssuer = serde_json::from_value(serde_json::json!({
            "id": "fdis_1", "name": "lab", "issuer_url": "https://idp.example",
            "jwks": {"type": "inline", "keys": [{"kty": "RSA", "kid": "k1", "n": "secret-looking", "e": "AQAB"}]},
            "max_jwt_lifetime_seconds": 3600, "check_jti": true,
            "created_at": "2026-01-01T00:00:00Z", "archived_at": null
        }))
        .unwrap();
        let issuer = FederationIssuer::from(wire);
        let text = serde_json::to_string(&issuer).unwrap();
        assert!(!text.contains("secret-looking"), "{text}");
        assert!(matches!(issuer.jwks, Jwks::Inline { key_count: 1, .. }));
    }

    #[test]
    fn the_legacy_workspace_id_is_folded_into_workspace_ids() {
        let wire: WireRule = serde_json::from_value(serde_json::json!({
            "id": "fdrl_1", "name": "ci", "description": null, "issuer_id": "fdis_1",
            "match": {"subject_prefix": "repo:acme/x:*", "claims": null},
            "target": {"type": "service_account", "service_account_id": "svac_1"},
            "oauth_scope": "workspace:developer", "token_lifetime_seconds": 600,
            "applies_to_all_workspaces": false, "workspace_id": "wrkspc_b",
            "workspace_ids": ["wrkspc_c", "wrkspc_b"],
            "created_at": "2026-01-01T00:00:00Z", "archived_at": null
        }))
        .unwrap();
        let rule = FederationRule::from(wire);
        assert_eq!(rule.workspace_ids, ["wrkspc_b", "wrkspc_c"]);
        assert!(rule.rule_match.claims.is_empty());
    }
}
