//! Rate limits as the read-only Rate Limits API reports them: the organization's limit groups
//! and each workspace's overrides. They cannot be changed through the API (only in the
//! Console), so orgform never plans them; the audit snapshot records them so a change shows up
//! as a diff in git.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One limiter of a group, e.g. `requests_per_minute: 4000`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LimitValue {
    /// The limiter type (`requests_per_minute`, `input_tokens_per_minute`, ...); kept as
    /// text because the API adds types.
    #[serde(rename = "type")]
    pub kind: String,
    /// The configured value.
    pub value: u64,
}

/// One organization rate-limit group (`type: rate_limit`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimitGroup {
    /// Stable id of the group within the organization.
    pub id: String,
    /// `model_group`, `batch`, `token_count`, `files`, `skills`, `web_search`, or a value
    /// added later.
    pub group_type: String,
    /// The models of a `model_group` (aliases included); `None` for other groups.
    pub models: Option<Vec<String>>,
    /// The limiters.
    pub limits: Vec<LimitValue>,
}

/// One workspace override of a limiter, with the organization value for reference.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct WorkspaceLimitValue {
    /// The limiter type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The workspace's value.
    pub value: u64,
    /// The organization's value for the same limiter, when it has one.
    pub org_limit: Option<u64>,
}

/// A workspace's overrides of one group (`type: workspace_rate_limit`); limiters not listed
/// inherit the organization value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceRateLimit {
    /// The workspace.
    pub workspace_id: String,
    /// The organization group this overrides.
    pub rate_limit_id: String,
    /// The group's type.
    pub group_type: String,
    /// The group's models (`model_group` only).
    pub models: Option<Vec<String>>,
    /// The overridden limiters.
    pub limits: Vec<WorkspaceLimitValue>,
}

/// Every rate limit of an organization: its groups and the overrides of each (non-archived)
/// workspace, keyed by workspace id. Workspaces without overrides have an empty list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimits {
    /// The organization's groups.
    pub organization: Vec<RateLimitGroup>,
    /// Overrides per workspace id.
    pub workspaces: BTreeMap<String, Vec<WorkspaceRateLimit>>,
}
