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
            // Likewise for a token minted by the token exchange: named by its minting order.
            Caller::Federated(n) => json!({
                "type": "api_actor",
                "api_key_name": format!("federated token {n}"),
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
        _ => return None,
    };
    Some((kind, fields))
}
