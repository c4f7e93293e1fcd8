//! The read-only reporting endpoints orgform reads beside the organization itself: rate
//! limits (for the audit snapshot), the messages usage report grouped by API key (unused
//! keys) and the Compliance API activity feed (who changed a drifted object).
//!
//! Each read is complete or an error: a page-token list that does not end, repeats a token or
//! is cut short is refused, never returned in part (a missing page of usage would make a used
//! key look unused; a missing page of limits would look like a removed limit in git).

use std::collections::{BTreeMap, BTreeSet};

use jiff::{SignedDuration, Timestamp};
use orgform_model::{RateLimitGroup, RateLimits, WorkspaceRateLimit};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::ApiError;
use crate::client::{Client, Req, segment};

const ORG: &str = "/v1/organizations";

/// At most this many pages of one page-token list (a year of daily usage buckets is 12).
const MAX_PAGES: usize = 400;

/// Activities read at most (the feed also logs every read, so it can be long).
pub const MAX_ACTIVITIES: usize = 20_000;

#[derive(Deserialize)]
struct TokenPage<T> {
    data: Vec<T>,
    #[serde(default)]
    has_more: Option<bool>,
    next_page: Option<String>,
}

#[derive(Deserialize)]
struct UsageBucket {
    results: Vec<UsageItem>,
}

#[derive(Deserialize)]
struct UsageItem {
    api_key_id: Option<String>,
    #[serde(default)]
    uncached_input_tokens: u64,
    #[serde(default)]
    cache_read_input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    cache_creation: Option<Map<String, Value>>,
}

impl UsageItem {
    fn tokens(&self) -> u64 {
        let created: u64 = self
            .cache_creation
            .iter()
            .flat_map(|m| m.values())
            .filter_map(Value::as_u64)
            .sum();
        self.uncached_input_tokens
            .saturating_add(self.cache_read_input_tokens)
            .saturating_add(self.output_tokens)
            .saturating_add(created)
    }
}

/// One activity of the Compliance API feed: its id, time, type, actor, and the type-specific
/// fields as they came.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Activity {
    /// `activity_...`
    pub id: String,
    /// When it happened.
    pub created_at: Timestamp,
    /// The activity type, e.g. `platform_workspace_member_updated`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Who did it (`type` plus type-specific fields such as `email_address`).
    #[serde(default)]
    pub actor: Value,
    /// Every other field.
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

impl Activity {
    /// Who did it, for a person to read: the actor's email, else the key, token, service
    /// account or user id it names, else its type.
    pub fn actor_label(&self) -> String {
        let get = |name: &str| self.actor.get(name).and_then(Value::as_str);
        if let Some(email) = get("email_address") {
            return email.to_owned();
        }
        for (field, what) in [
            ("admin_api_key_id", "admin api key"),
            ("api_key_name", "api"),
            ("api_key_id", "api key"),
            ("service_account_id", "service account"),
            ("user_id", "user"),
        ] {
            if let Some(id) = get(field) {
                return format!("{what} {id}");
            }
        }
        get("type").unwrap_or("unknown actor").to_owned()
    }

    /// Whether the activity records a read (`..._listed`, `..._viewed`), which changes
    /// nothing.
    pub fn is_read(&self) -> bool {
        ["_listed", "_viewed", "_retrieved", "_accessed", "_read"]
            .iter()
            .any(|s| self.kind.ends_with(s))
    }

    /// Whether a string among the type-specific fields (at any depth, the actor excluded)
    /// equals `needle` (an id, or a lowercased email, compared case-insensitively).
    pub fn mentions_one(&self, needle: &str) -> bool {
        fn walk(v: &Value, needle: &str) -> bool {
            match v {
                Value::String(s) => {
                    s == needle || (s.contains('@') && s.eq_ignore_ascii_case(needle))
                }
                Value::Array(items) => items.iter().any(|i| walk(i, needle)),
                Value::Object(map) => map.values().any(|i| walk(i, needle)),
                _ => false,
            }
        }
        self.fields.values().any(|v| walk(v, needle))
    }
}

/// What the activity feed gave.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivityFeed {
    /// Activities, newest first.
    pub activities: Vec<Activity>,
    /// Whether [`MAX_ACTIVITIES`] cut the read short (older activities were not read).
    pub truncated: bool,
}

impl Client {
    /// Every page of a page-token list (`page` in, `next_page` out), refusing a list whose
    /// tokens repeat or do not end within [`MAX_PAGES`].
    async fn token_pages<T: DeserializeOwned>(&self, base: Req) -> Result<Vec<T>, ApiError> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        let mut page: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut req = base.clone();
            if let Some(token) = page.take() {
                req = req.query("page", token);
            }
            let body: TokenPage<T> = self.read_json(&req).await?;
            out.extend(body.data);
            match (body.next_page, body.has_more) {
                (Some(next), more) if more != Some(false) => {
                    if !seen.insert(next.clone()) {
                        return Err(bad_list(&base, "the same next_page token came twice"));
                    }
                    page = Some(next);
                }
                (None, Some(true)) => {
                    return Err(bad_list(&base, "has_more is true but next_page is null"));
                }
                _ => return Ok(out),
            }
        }
        Err(bad_list(
            &base,
            &format!("more than {MAX_PAGES} pages; refusing to read on"),
        ))
    }

    /// The organization's rate limits and the overrides of each workspace in
    /// `workspace_ids` (read-only endpoints).
    pub async fn rate_limits(&self, workspace_ids: &[String]) -> Result<RateLimits, ApiError> {
        let organization: Vec<RateLimitGroup> = self
            .token_pages(Req::get(format!("{ORG}/rate_limits")))
            .await?;
        let mut workspaces = BTreeMap::new();
        for id in workspace_ids {
            let req = Req::get(format!("{ORG}/workspaces/{}/rate_limits", segment(id)?));
            let overrides: Vec<WorkspaceRateLimit> = self.token_pages(req.clone()).await?;
            if let Some(other) = overrides.iter().find(|o| o.workspace_id != *id) {
                return Err(bad_list(
                    &req,
                    &format!(
                        "an override of workspace {} in the list of {id}",
                        other.workspace_id
                    ),
                ));
            }
            workspaces.insert(id.clone(), overrides);
        }
        Ok(RateLimits {
            organization,
            workspaces,
        })
    }

    /// Tokens used per API key id from `since` until now, from the messages usage report
    /// grouped by `api_key_id` in daily buckets. Keys with no usage are absent.
    pub async fn usage_by_api_key(
        &self,
        since: Timestamp,
    ) -> Result<BTreeMap<String, u64>, ApiError> {
        let req = Req::get(format!("{ORG}/usage_report/messages"))
            .query("starting_at", since.to_string())
            .query("bucket_width", "1d")
            .query("limit", "31")
            .query("group_by[]", "api_key_id");
        let buckets: Vec<UsageBucket> = self.token_pages(req).await?;
        let mut used: BTreeMap<String, u64> = BTreeMap::new();
        for item in buckets.iter().flat_map(|b| &b.results) {
            if let Some(id) = &item.api_key_id {
                let total = used.entry(id.clone()).or_default();
                *total = total.saturating_add(item.tokens());
            }
        }
        Ok(used)
    }

    /// The Compliance API activity feed from `since` until now, newest first, at most
    /// [`MAX_ACTIVITIES`].
    pub async fn activities(&self, since: Timestamp) -> Result<ActivityFeed, ApiError> {
        let base = Req::get("/v1/compliance/activities".to_owned())
            .query("limit", "1000")
            .query("created_at.gte", since.to_string());
        let mut activities: Vec<Activity> = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut req = base.clone();
            if let Some(cursor) = after.take() {
                req = req.query("after_id", cursor);
            }
            let page: ActivityPage = self.read_json(&req).await?;
            let last = page.data.last().map(|a| a.id.clone());
            if page.last_id.is_some() && page.last_id != last {
                return Err(bad_list(
                    &base,
                    "last_id is not the id of the last activity",
                ));
            }
            activities.extend(page.data);
            if activities.len() >= MAX_ACTIVITIES {
                activities.truncate(MAX_ACTIVITIES);
                return Ok(ActivityFeed {
                    activities,
                    truncated: page.has_more,
                });
            }
            match (page.has_more, last) {
                (true, Some(cursor)) => after = Some(cursor),
                (true, None) => return Err(bad_list(&base, "has_more with an empty page")),
                (false, _) => {
                    return Ok(ActivityFeed {
                        activities,
                        truncated: false,
                    });
                }
            }
        }
    }
}

#[derive(Deserialize)]
struct ActivityPage {
    data: Vec<Activity>,
    has_more: bool,
    #[serde(default)]
    last_id: Option<String>,
}

fn bad_list(req: &Req, detail: &str) -> ApiError {
    ApiError::Decode {
        method: req.method.to_string(),
        path: req.path.clone(),
        detail: detail.to_owned(),
        request_id: None,
    }
}

/// `now` minus `days` whole days.
pub fn days_before(now: Timestamp, days: u32) -> Timestamp {
    now.saturating_sub(SignedDuration::from_hours(i64::from(days) * 24))
        .unwrap_or(now)
}
