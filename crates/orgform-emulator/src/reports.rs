//! What the read-only reporting endpoints serve: rate limits, the messages usage report and
//! the Compliance API activity feed. Kept apart from the organization [`crate::State`]: none
//! of it is part of a snapshot of the organization, and replacing the state keeps it.
//!
//! - Rate limits are seeded ([`crate::EmulatorConfig::rate_limits`],
//!   [`crate::Emulator::set_rate_limits`]); a workspace override's `group_type`, `models` and
//!   `org_limit` are derived from the organization group it overrides, as the API does.
//! - Usage is seeded per API key ([`UsageRecord`], [`crate::Emulator::record_usage`]).
//! - Activities are recorded for every Admin API write the emulator serves (see
//!   [`record_write`]), and may be added as if made in the Console
//!   ([`crate::Emulator::record_activity`]).

use jiff::Timestamp;
use orgform_model::{LimitValue, RateLimitGroup, RateLimits};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::ids::IdGen;
use crate::server::Caller;
use crate::state::fmt_ts;

/// Messages API usage of one API key (or of the Console when `api_key_id` is `None`) at one
/// moment, as the usage report aggregates it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageRecord {
    /// The key used; `None` for Console or Playground usage.
    #[serde(default)]
    pub api_key_id: Option<String>,
    /// The key's workspace; `None` for the default workspace.
    #[serde(default)]
    pub workspace_id: Option<String>,
    /// The model.
    pub model: String,
    /// When the requests were made.
    pub at: Timestamp,
    /// Uncached input tokens.
    pub uncached_input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
}

/// The reporting data of a running emulator.
#[derive(Debug)]
pub(crate) struct Reports {
    pub(crate) rate_limits: RateLimits,
    pub(crate) usage: Vec<UsageRecord>,
    /// Activities, oldest first.
    pub(crate) activities: Vec<Value>,
    pub(crate) activity_ids: IdGen,
    /// The id the activity feed gives the emulator's admin key.
    pub(crate) admin_key_id: String,
}

impl Reports {
    pub(crate) fn new(rate_limits: Option<RateLimits>, usage: Vec<UsageRecord>, seed: u64) -> Self {
        let activity_ids = IdGen::new(seed ^ 0x0AC7_1F17_7EED);
        let admin_key_id = activity_ids.next("apikey");
        Self {
            rate_limits: rate_limits.unwrap_or_else(default_rate_limits),
            usage,
            activities: Vec::new(),
            activity_ids,
            admin_key_id,
        }
    }

    /// Appends an activity of `kind` at `now` by `actor` with type-specific `fields`.
    pub(crate) fn push(
        &mut self,
        now: Timestamp,
        actor: Value,
        kind: &str,
        fields: Map<String, Value>,
    ) {
        let mut activity = Map::new();
        activity.insert(
            "id".into(),
            Value::String(self.activity_ids.next("activity")),
        );
        activity.insert("created_at".into(), Value::String(fmt_ts(now)));
        activity.insert("organization_id".into(), Value::Null);
        activity.insert("organization_uuid".into(), Value::Null);
        activity.insert("actor".into(), actor);
        activity.insert("type".into(), Value::String(kind.to_owned()));
        activity.extend(fields);
        self.activities.push(Value::Object(activity));
    }

    /// The actor object of an authenticated caller.
    pub(crate) fn actor(&self, caller: Caller, user_agent: Option<&str>) -> Value {
        match caller {
            Caller::AdminKey | Caller::AdminKeyAsBearer => json!({
                "type": "admin_api_key_actor",
                "admin_api_key_id": self.admin_key_id,
                "ip_address": "127.0.0.1",
                "user_agent": user_agent,
            }),
            // How a federated OAuth token appears in the feed is undocumented: the emulator
            // names the token by its position among the configured tokens.
            Caller::Token(n) => json!({
                "type": "api_actor",
                "api_key_name": format!("oauth token {}", n + 1),
                "ip_address": "127.0.0.1",
                "user_agent": user_agent,
            }),
        }
    }
}

/// The organization's groups when none are seeded: three model groups and the batch group,
/// with the values of a new organization at a middle usage tier (illustrative).
pub fn default_rate_limits() -> RateLimits {
    let limit = |kind: &str, value: u64| LimitValue {
        kind: kind.to_owned(),
        value,
    };
    let models = |names: &[&str]| Some(names.iter().map(|m| (*m).to_owned()).collect());
    let tokens = |rpm, itpm, otpm| {
        vec![
            limit("requests_per_minute", rpm),
            limit("input_tokens_per_minute", itpm),
            limit("output_tokens_per_minute", otpm),
        ]
    };
    RateLimits {
        organization: vec![
            RateLimitGroup {
                id: "ratelimit_01opus".to_owned(),
                group_type: "model_group".to_owned(),
                models: models(&["claude-opus-4-1", "claude-opus-4-1-20250805"]),
                limits: tokens(2_000, 800_000, 160_000),
            },
            RateLimitGroup {
                id: "ratelimit_01sonnet".to_owned(),
                group_type: "model_group".to_owned(),
                models: models(&["claude-sonnet-4-5", "claude-sonnet-4-5-20250929"]),
                limits: tokens(4_000, 2_000_000, 400_000),
            },
            RateLimitGroup {
                id: "ratelimit_01haiku".to_owned(),
                group_type: "model_group".to_owned(),
                models: models(&["claude-haiku-4-5", "claude-haiku-4-5-20251001"]),
                limits: tokens(4_000, 4_000_000, 800_000),
            },
            RateLimitGroup {
                id: "ratelimit_01batch".to_owned(),
                group_type: "batch".to_owned(),
                models: None,
                limits: vec![
                    limit("requests_per_minute", 4_000),
                    limit("enqueued_batch_requests", 500_000),
                ],
            },
        ],
        workspaces: std::collections::BTreeMap::new(),
    }
}

/// The activity an Admin API write stands for, from its method, path, request body and
/// response body (type names from the Compliance API's list of activity types; the
/// type-specific fields are undocumented and follow the object's wire names). `None` for
/// routes that record nothing.
pub(crate) fn write_activity(
    method: &str,
    path: &str,
    request: Option<&Value>,
    response: &Value,
) -> Option<(&'static str, Map<String, Value>)> {
    let segs: Vec<&str> = path
        .trim_end_matches('/')
        .strip_prefix("/v1/organizations/")?
        .split('/')
        .collect();
    let str_of = |v: Option<&Value>, name: &str| -> Value {
        v.and_then(|b| b.get(name)).cloned().unwrap_or(Value::Null)
    };
    let mut fields = Map::new();
    let kind = match (method, segs.as_slice()) {
        ("POST", ["invites"]) => {
            fields.insert("invite_id".into(), str_of(Some(response), "id"));
            fields.insert("email".into(), str_of(Some(response), "email"));
            fields.insert("role".into(), str_of(Some(response), "role"));
            "org_user_invite_sent"
        }
        ("DELETE", ["invites", id]) => {
            fields.insert("invite_id".into(), Value::String((*id).to_owned()));
            "org_user_invite_deleted"
        }
        ("POST", ["users", id]) => {
            fields.insert("user_id".into(), Value::String((*id).to_owned()));
            fields.insert("email".into(), str_of(Some(response), "email"));
            fields.insert("role".into(), str_of(request, "role"));
            "org_user_role_updated"
        }
        ("DELETE", ["users", id]) => {
            fields.insert("user_id".into(), Value::String((*id).to_owned()));
            "org_user_deleted"
        }
        ("POST", ["workspaces"]) => {
            fields.insert("workspace_id".into(), str_of(Some(response), "id"));
            fields.insert("name".into(), str_of(Some(response), "name"));
            "platform_workspace_created"
        }
        ("POST", ["workspaces", id]) => {
            fields.insert("workspace_id".into(), Value::String((*id).to_owned()));
            if let Some(Value::Object(body)) = request {
                fields.insert("changes".into(), Value::Object(body.clone()));
            }
            "platform_workspace_updated"
        }
        ("POST", ["workspaces", id, "archive"]) => {
            fields.insert("workspace_id".into(), Value::String((*id).to_owned()));
            "platform_workspace_archived"
        }
        ("POST", ["workspaces", id, "members"]) => {
            fields.insert("workspace_id".into(), Value::String((*id).to_owned()));
            fields.insert("user_id".into(), str_of(Some(response), "user_id"));
            fields.insert(
                "workspace_role".into(),
                str_of(Some(response), "workspace_role"),
            );
            "platform_workspace_member_added"
        }
        ("POST", ["workspaces", id, "members", user]) => {
            fields.insert("workspace_id".into(), Value::String((*id).to_owned()));
            fields.insert("user_id".into(), Value::String((*user).to_owned()));
            fields.insert(
                "workspace_role".into(),
                str_of(Some(response), "workspace_role"),
            );
            "platform_workspace_member_updated"
        }
        ("DELETE", ["workspaces", id, "members", user]) => {
            fields.insert("workspace_id".into(), Value::String((*id).to_owned()));
            fields.insert("user_id".into(), Value::String((*user).to_owned()));
            "platform_workspace_member_removed"
        }
        ("POST", ["api_keys", id]) => {
            fields.insert("api_key_id".into(), Value::String((*id).to_owned()));
            if let Some(Value::Object(body)) = request {
                fields.insert("changes".into(), Value::Object(body.clone()));
            }
            "platform_api_key_updated"
        }
        _ => identity_activity(method, &segs, request, response, &mut fields)?,
    };
    Some((kind, fields))
}

/// The activity of a write to a service account, its workspace memberships (from either
/// side), a federation issuer or rule. The reference names none of these types: they follow
/// the objects' names (`service_account_created`, `federation_rule_workspace_enabled` ...),
/// and the fields carry the ids under the objects' wire names. An issuer update records the
/// names of the fields sent, never the key documents.
fn identity_activity(
    method: &str,
    segs: &[&str],
    request: Option<&Value>,
    response: &Value,
    fields: &mut Map<String, Value>,
) -> Option<&'static str> {
    let id = |v: &str| Value::String(v.to_owned());
    let of = |v: Option<&Value>, name: &str| -> Value {
        v.and_then(|b| b.get(name)).cloned().unwrap_or(Value::Null)
    };
    let changes = |fields: &mut Map<String, Value>| {
        if let Some(Value::Object(body)) = request {
            fields.insert("changes".into(), Value::Object(body.clone()));
        }
    };
    let kind = match (method, segs) {
        ("POST", ["service_accounts"]) => {
            fields.insert("service_account_id".into(), of(Some(response), "id"));
            fields.insert("name".into(), of(Some(response), "name"));
            fields.insert(
                "organization_role".into(),
                of(Some(response), "organization_role"),
            );
            "service_account_created"
        }
        ("POST", ["service_accounts", sa]) => {
            fields.insert("service_account_id".into(), id(sa));
            changes(fields);
            "service_account_updated"
        }
        ("POST", ["service_accounts", sa, "archive"]) => {
            fields.insert("service_account_id".into(), id(sa));
            "service_account_archived"
        }
        ("POST", ["workspaces", _, "service_accounts"] | ["service_accounts", _, "workspaces"]) => {
            fields.insert("workspace_id".into(), of(Some(response), "workspace_id"));
            fields.insert(
                "service_account_id".into(),
                of(Some(response), "service_account_id"),
            );
            fields.insert(
                "workspace_role".into(),
                of(Some(response), "workspace_role"),
            );
            "service_account_workspace_member_added"
        }
        ("POST", ["workspaces", ws, "service_accounts", sa]) => {
            fields.insert("workspace_id".into(), id(ws));
            fields.insert("service_account_id".into(), id(sa));
            fields.insert(
                "workspace_role".into(),
                of(Some(response), "workspace_role"),
            );
            "service_account_workspace_member_updated"
        }
        (
            "DELETE",
            ["workspaces", ws, "service_accounts", sa] | ["service_accounts", sa, "workspaces", ws],
        ) => {
            fields.insert("workspace_id".into(), id(ws));
            fields.insert("service_account_id".into(), id(sa));
            "service_account_workspace_member_removed"
        }
        ("POST", ["federation_issuers"]) => {
            fields.insert("federation_issuer_id".into(), of(Some(response), "id"));
            fields.insert("name".into(), of(Some(response), "name"));
            "federation_issuer_created"
        }
        ("POST", ["federation_issuers", issuer]) => {
            fields.insert("federation_issuer_id".into(), id(issuer));
            if let Some(Value::Object(body)) = request {
                let names = body.keys().map(|k| Value::String(k.clone())).collect();
                fields.insert("changed_fields".into(), Value::Array(names));
            }
            "federation_issuer_updated"
        }
        ("POST", ["federation_issuers", issuer, "archive"]) => {
            fields.insert("federation_issuer_id".into(), id(issuer));
            "federation_issuer_archived"
        }
        ("POST", ["federation_rules"]) => {
            fields.insert("federation_rule_id".into(), of(Some(response), "id"));
            fields.insert("name".into(), of(Some(response), "name"));
            fields.insert(
                "federation_issuer_id".into(),
                of(Some(response), "issuer_id"),
            );
            fields.insert(
                "service_account_id".into(),
                of(response.get("target"), "service_account_id"),
            );
            "federation_rule_created"
        }
        ("POST", ["federation_rules", rule]) => {
            fields.insert("federation_rule_id".into(), id(rule));
            changes(fields);
            "federation_rule_updated"
        }
        ("POST", ["federation_rules", rule, "archive"]) => {
            fields.insert("federation_rule_id".into(), id(rule));
            "federation_rule_archived"
        }
        ("POST", ["federation_rules", rule, "workspaces"]) => {
            fields.insert("federation_rule_id".into(), id(rule));
            fields.insert("workspace_id".into(), of(request, "workspace_id"));
            "federation_rule_workspace_enabled"
        }
        ("DELETE", ["federation_rules", rule, "workspaces", ws]) => {
            fields.insert("federation_rule_id".into(), id(rule));
            fields.insert("workspace_id".into(), id(ws));
            "federation_rule_workspace_disabled"
        }
        _ => return None,
    };
    Some(kind)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::write_activity;

    /// The type and the named fields recorded for one write.
    fn recorded(
        method: &str,
        path: &str,
        request: Option<&serde_json::Value>,
        response: &serde_json::Value,
    ) -> (String, serde_json::Map<String, serde_json::Value>) {
        let (kind, fields) = write_activity(method, path, request, response)
            .unwrap_or_else(|| panic!("{method} {path} records nothing"));
        (kind.to_owned(), fields)
    }

    /// Every identity write names the ids `drift --attribute` matches on.
    #[test]
    fn identity_writes_name_their_objects() {
        let org = "/v1/organizations";
        let sa = json!({"id": "svac_1", "name": "ci-bot", "organization_role": "developer"});
        let member = json!({"workspace_id": "wrkspc_1", "service_account_id": "svac_1",
                            "workspace_role": "workspace_user"});
        let rule = json!({"id": "fdrl_1", "name": "deploy", "issuer_id": "fdis_1",
                          "target": {"type": "service_account", "service_account_id": "svac_1"}});
        let none = json!({});
        let cases = [
            (
                "POST",
                format!("{org}/service_accounts"),
                None,
                &sa,
                "service_account_created",
                vec![("service_account_id", "svac_1")],
            ),
            (
                "POST",
                format!("{org}/service_accounts/svac_1"),
                Some(json!({"description": "x"})),
                &sa,
                "service_account_updated",
                vec![("service_account_id", "svac_1")],
            ),
            (
                "POST",
                format!("{org}/service_accounts/svac_1/archive"),
                None,
                &sa,
                "service_account_archived",
                vec![("service_account_id", "svac_1")],
            ),
            (
                "POST",
                format!("{org}/workspaces/wrkspc_1/service_accounts"),
                None,
                &member,
                "service_account_workspace_member_added",
                vec![
                    ("workspace_id", "wrkspc_1"),
                    ("service_account_id", "svac_1"),
                ],
            ),
            (
                "POST",
                format!("{org}/service_accounts/svac_1/workspaces"),
                None,
                &member,
                "service_account_workspace_member_added",
                vec![
                    ("workspace_id", "wrkspc_1"),
                    ("service_account_id", "svac_1"),
                ],
            ),
            (
                "POST",
                format!("{org}/workspaces/wrkspc_1/service_accounts/svac_1"),
                None,
                &member,
                "service_account_workspace_member_updated",
                vec![
                    ("workspace_id", "wrkspc_1"),
                    ("service_account_id", "svac_1"),
                ],
            ),
            (
                "DELETE",
                format!("{org}/workspaces/wrkspc_1/service_accounts/svac_1"),
                None,
                &none,
                "service_account_workspace_member_removed",
                vec![
                    ("workspace_id", "wrkspc_1"),
                    ("service_account_id", "svac_1"),
                ],
            ),
            (
                "DELETE",
                format!("{org}/service_accounts/svac_1/workspaces/wrkspc_1"),
                None,
                &none,
                "service_account_workspace_member_removed",
                vec![
                    ("workspace_id", "wrkspc_1"),
                    ("service_account_id", "svac_1"),
                ],
            ),
            (
                "POST",
                format!("{org}/federation_issuers"),
                None,
                &json!({"id": "fdis_1", "name": "lab"}),
                "federation_issuer_created",
                vec![("federation_issuer_id", "fdis_1")],
            ),
            (
                "POST",
                format!("{org}/federation_issuers/fdis_1/archive"),
                None,
                &none,
                "federation_issuer_archived",
                vec![("federation_issuer_id", "fdis_1")],
            ),
            (
                "POST",
                format!("{org}/federation_rules"),
                None,
                &rule,
                "federation_rule_created",
                vec![
                    ("federation_rule_id", "fdrl_1"),
                    ("federation_issuer_id", "fdis_1"),
                    ("service_account_id", "svac_1"),
                ],
            ),
            (
                "POST",
                format!("{org}/federation_rules/fdrl_1"),
                Some(json!({"token_lifetime_seconds": 60})),
                &rule,
                "federation_rule_updated",
                vec![("federation_rule_id", "fdrl_1")],
            ),
            (
                "POST",
                format!("{org}/federation_rules/fdrl_1/archive"),
                None,
                &rule,
                "federation_rule_archived",
                vec![("federation_rule_id", "fdrl_1")],
            ),
            (
                "POST",
                format!("{org}/federation_rules/fdrl_1/workspaces"),
                Some(json!({"workspace_id": "wrkspc_1"})),
                &none,
                "federation_rule_workspace_enabled",
                vec![
                    ("federation_rule_id", "fdrl_1"),
                    ("workspace_id", "wrkspc_1"),
                ],
            ),
            (
                "DELETE",
                format!("{org}/federation_rules/fdrl_1/workspaces/wrkspc_1"),
                None,
                &none,
                "federation_rule_workspace_disabled",
                vec![
                    ("federation_rule_id", "fdrl_1"),
                    ("workspace_id", "wrkspc_1"),
                ],
            ),
        ];
        for (method, path, request, response, kind, ids) in cases {
            let (got, fields) = recorded(method, &path, request.as_ref(), response);
            assert_eq!(got, kind, "{method} {path}");
            for (field, value) in ids {
                assert_eq!(fields[field], value, "{method} {path}: {field}");
            }
        }
    }

    /// An issuer update records which fields were sent, never an inline key document.
    #[test]
    fn an_issuer_update_records_field_names_not_keys() {
        let body = json!({"jwks": {"type": "inline", "keys": [{"kty": "RSA", "n": "modulus-one", "e": "AQAB"}]}});
        let (kind, fields) = recorded(
            "POST",
            "/v1/organizations/federation_issuers/fdis_1",
            Some(&body),
            &json!({"id": "fdis_1"}),
        );
        assert_eq!(kind, "federation_issuer_updated");
        assert_eq!(fields["changed_fields"], json!(["jwks"]));
        assert!(
            !serde_json::to_string(&fields)
                .unwrap()
                .contains("modulus-one")
        );
    }

    /// Reads and unknown routes record nothing.
    #[test]
    fn reads_record_nothing() {
        assert!(
            write_activity(
                "GET",
                "/v1/organizations/service_accounts",
                None,
                &json!({})
            )
            .is_none()
        );
        assert!(
            write_activity(
                "POST",
                "/v1/organizations/federation_rules/fdrl_1/other",
                None,
                &json!({})
            )
            .is_none()
        );
    }
}
