//! Read-only reports: `/v1/organizations/rate_limits`,
//! `/v1/organizations/workspaces/{workspace_id}/rate_limits` and
//! `/v1/organizations/usage_report/messages`.
//!
//! Rate limits: one page (`next_page: null`), `limit` checked (1..=1000) and ignored, `page`
//! ignored, `group_type` filter, `model` filter (404 when no group holds the model). A
//! workspace's list holds only its overrides, with `org_limit` from the organization group.
//!
//! Usage report: `starting_at` required (RFC 3339), `ending_at` exclusive (default: the
//! emulator clock), `bucket_width` `1d` (default), `1h` or `1m`, `limit` per width (defaults
//! 7/24/60, maxima 31/168/1440), `group_by[]` among the documented keys (only `api_key_id`,
//! `workspace_id` and `model` are split; every other grouping key reads `null`), filters
//! `api_key_ids[]`, `workspace_ids[]`, `models[]`; buckets oldest first, one per interval,
//! empty ones with `results: []`; `page` is the opaque `next_page` of the previous answer.

use std::collections::BTreeMap;

use axum::extract::{Path, RawQuery, State as AxState};
use jiff::Timestamp;
use orgform_model::WorkspaceRateLimit;
use serde_json::{Value, json};

use super::{ApiResult, Shd, ok};
use crate::error::ApiError;
use crate::query::Query;
use crate::readings::UsageReport;
use crate::state::fmt_ts;

const GROUP_TYPES: &[&str] = &[
    "batch",
    "files",
    "model_group",
    "skills",
    "token_count",
    "web_search",
];

const GROUP_BY: &[&str] = &[
    "account_id",
    "api_key_id",
    "context_window",
    "inference_geo",
    "model",
    "service_account_id",
    "service_tier",
    "speed",
    "workspace_id",
];

fn group_type_filter(q: &Query) -> Result<Option<&str>, ApiError> {
    match q.one("group_type")? {
        None => Ok(None),
        Some(t) if GROUP_TYPES.contains(&t) => Ok(Some(t)),
        Some(other) => Err(ApiError::invalid(format!(
            "group_type: Input should be 'batch', 'files', 'model_group', 'skills', 'token_count' or 'web_search' (got \"{other}\")"
        ))),
    }
}

fn check_limit(q: &Query, max: usize) -> Result<Option<usize>, ApiError> {
    match q.one("limit")? {
        None => Ok(None),
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
            _ => Err(ApiError::invalid(format!(
                "limit: Input should be between 1 and {max} (got \"{raw}\")"
            ))),
        },
    }
}

/// `GET /v1/organizations/rate_limits`.
pub(crate) async fn org_rate_limits(AxState(s): Shd, RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let group_type = group_type_filter(&q)?;
    check_limit(&q, 1000)?;
    let model = q.one("model")?;
    let reports = s.reports.lock();
    let data: Vec<Value> = reports
        .rate_limits
        .organization
        .iter()
        .filter(|g| group_type.is_none_or(|t| g.group_type == t))
        .filter(|g| {
            model.is_none_or(|m| {
                g.models
                    .as_ref()
                    .is_some_and(|ms| ms.iter().any(|x| x == m))
            })
        })
        .map(|g| {
            json!({
                "type": "rate_limit",
                "id": g.id,
                "group_type": g.group_type,
                "models": g.models,
                "limits": g.limits,
            })
        })
        .collect();
    if let Some(m) = model
        && data.is_empty()
    {
        return Err(ApiError::not_found(format!(
            "model not found or has no rate limits: {m}"
        )));
    }
    Ok(ok(&json!({"data": data, "next_page": null})))
}

/// `GET /v1/organizations/workspaces/{workspace_id}/rate_limits`.
pub(crate) async fn workspace_rate_limits(
    AxState(s): Shd,
    Path(workspace_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let group_type = group_type_filter(&q)?;
    check_limit(&q, 1000)?;
    {
        let core = s.core.read();
        let known = core.state.default_workspace.workspace.id == workspace_id
            || core
                .state
                .workspaces
                .iter()
                .any(|w| w.workspace.id == workspace_id);
        if !known {
            return Err(ApiError::not_found(format!(
                "workspace not found: {workspace_id}"
            )));
        }
    }
    let reports = s.reports.lock();
    let limits = &reports.rate_limits;
    let data: Vec<Value> = limits
        .workspaces
        .get(&workspace_id)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|o: &WorkspaceRateLimit| {
            let group = limits.organization.iter().find(|g| g.id == o.rate_limit_id);
            let group_type = group.map_or(o.group_type.as_str(), |g| g.group_type.as_str());
            let models = group.map_or(o.models.clone(), |g| g.models.clone());
            let values: Vec<Value> = o
                .limits
                .iter()
                .map(|l| {
                    let org = group
                        .and_then(|g| g.limits.iter().find(|x| x.kind == l.kind))
                        .map(|x| x.value);
                    json!({"type": l.kind, "value": l.value, "org_limit": org})
                })
                .collect();
            (
                group_type.to_owned(),
                json!({
                    "type": "workspace_rate_limit",
                    "workspace_id": workspace_id,
                    "rate_limit_id": o.rate_limit_id,
                    "group_type": group_type,
                    "models": models,
                    "limits": values,
                }),
            )
        })
        .filter(|(t, _)| group_type.is_none_or(|g| g == t))
        .map(|(_, v)| v)
        .collect();
    Ok(ok(&json!({"data": data, "next_page": null})))
}

/// One result row's grouping values: API key, workspace, model (each `None` when not grouped).
type GroupKey = (Option<String>, Option<String>, Option<String>);

/// Bucket width in seconds, default limit, maximum limit.
fn width(raw: Option<&str>) -> Result<(i64, usize, usize), ApiError> {
    match raw.unwrap_or("1d") {
        "1d" => Ok((86_400, 7, 31)),
        "1h" => Ok((3_600, 24, 168)),
        "1m" => Ok((60, 60, 1440)),
        other => Err(ApiError::invalid(format!(
            "bucket_width: Input should be '1d', '1h' or '1m' (got \"{other}\")"
        ))),
    }
}

fn timestamp(q: &Query, name: &str) -> Result<Option<Timestamp>, ApiError> {
    q.one(name)?
        .map(|raw| {
            raw.parse::<Timestamp>().map_err(|_| {
                ApiError::invalid(format!(
                    "{name}: Input should be a valid datetime (got \"{raw}\")"
                ))
            })
        })
        .transpose()
}

/// `GET /v1/organizations/usage_report/messages`.
pub(crate) async fn usage_report(AxState(s): Shd, RawQuery(raw): RawQuery) -> ApiResult {
    if s.readings.usage_report == UsageReport::Forbidden {
        return Err(ApiError::forbidden(
            "this credential may not read the usage report",
        ));
    }
    let q = Query::parse(raw.as_deref());
    let starting_at = timestamp(&q, "starting_at")?
        .ok_or_else(|| ApiError::invalid("starting_at: Field required"))?;
    let ending_at = timestamp(&q, "ending_at")?;
    let (step, default_limit, max_limit) = width(q.one("bucket_width")?)?;
    let limit = check_limit(&q, max_limit)?.unwrap_or(default_limit);
    for g in q.many("group_by") {
        if !GROUP_BY.contains(&g.as_str()) {
            return Err(ApiError::invalid(format!(
                "group_by: Input should be one of {} (got \"{g}\")",
                GROUP_BY.join(", ")
            )));
        }
    }
    let grouped = |name: &str| q.many("group_by").iter().any(|g| g == name);
    let snap = |t: i64| t - t.rem_euclid(step);
    let first = match q.one("page")? {
        None => snap(starting_at.as_second()),
        Some(token) => token
            .strip_prefix("page_")
            .and_then(|n| n.parse::<i64>().ok())
            .filter(|n| n.rem_euclid(step) == 0)
            .ok_or_else(|| ApiError::invalid(format!("page: invalid page token \"{token}\"")))?,
    };
    let now = s.core.read().now;
    let end = ending_at.unwrap_or(now).as_second();
    let keys = q.many("api_key_ids");
    let workspaces = q.many("workspace_ids");
    let models = q.many("models");
    let reports = s.reports.lock();
    let mut data = Vec::new();
    let mut start = first;
    while start < end && data.len() < limit {
        let bucket_end = start + step;
        let mut groups: BTreeMap<GroupKey, (u64, u64)> = BTreeMap::new();
        for r in reports.usage.iter().filter(|r| {
            let at = r.at.as_second();
            at >= start
                && at < bucket_end
                && at < end
                && (keys.is_empty() || r.api_key_id.as_ref().is_some_and(|k| keys.contains(k)))
                && (workspaces.is_empty()
                    || r.workspace_id
                        .as_ref()
                        .is_some_and(|w| workspaces.contains(w)))
                && (models.is_empty() || models.contains(&r.model))
        }) {
            let key = (
                r.api_key_id.clone().filter(|_| grouped("api_key_id")),
                r.workspace_id.clone().filter(|_| grouped("workspace_id")),
                Some(r.model.clone()).filter(|_| grouped("model")),
            );
            let sums = groups.entry(key).or_default();
            sums.0 += r.uncached_input_tokens;
            sums.1 += r.output_tokens;
        }
        let results: Vec<Value> = groups
            .into_iter()
            .map(|((api_key_id, workspace_id, model), (input, output))| {
                json!({
                    "uncached_input_tokens": input,
                    "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0},
                    "cache_read_input_tokens": 0,
                    "output_tokens": output,
                    "server_tool_use": {"web_search_requests": 0},
                    "api_key_id": api_key_id,
                    "workspace_id": workspace_id,
                    "account_id": null,
                    "service_account_id": null,
                    "model": model,
                    "service_tier": null,
                    "context_window": null,
                    "inference_geo": null,
                })
            })
            .collect();
        data.push(json!({
            "starting_at": fmt_day(start),
            "ending_at": fmt_day(bucket_end),
            "results": results,
        }));
        start = bucket_end;
    }
    let has_more = start < end;
    let next_page = has_more.then(|| format!("page_{start}"));
    Ok(ok(
        &json!({"data": data, "has_more": has_more, "next_page": next_page}),
    ))
}

fn fmt_day(second: i64) -> String {
    Timestamp::from_second(second).map_or_else(
        |_| String::new(),
        |t| {
            // Bucket edges are whole minutes: written without fractional seconds, as in the
            // documentation's examples.
            let s = fmt_ts(t);
            s.split('.')
                .next()
                .map_or(s.clone(), |head| format!("{head}Z"))
        },
    )
}
