//! `GET /v1/compliance/activities`: the Compliance API activity feed, as far as an Admin key
//! may read it.
//!
//! Served per [`crate::readings::ActivityFeed`] (or refused with 403 / 404). Query: `limit`
//! (1..=5000, default 100), at most one of `after_id` / `before_id` (an activity id; unknown is
//! 400), `order` `desc` (default) or `asc`, `created_at.gte|gt|lte|lt` (RFC 3339; a bad value
//! is 400 naming the parameter), `activity_types[]`. Envelope `{data, has_more, first_id,
//! last_id}` as the ID-cursor lists. The emulator records the Admin API writes it serves and
//! activities added with [`crate::Emulator::record_activity`]; it does not record reads
//! (`org_users_listed` and the like), which the real feed does.

use axum::extract::{RawQuery, State as AxState};
use jiff::Timestamp;
use serde_json::{Value, json};

use super::{ApiResult, Shd, ok};
use crate::error::ApiError;
use crate::query::Query;
use crate::readings::ActivityFeed;

fn bound(q: &Query, name: &str) -> Result<Option<Timestamp>, ApiError> {
    q.one(name)?
        .map(|raw| {
            raw.parse::<Timestamp>().map_err(|_| {
                ApiError::invalid(format!(
                    "Invalid `{name}` parameter: expected an RFC 3339 timestamp, got \"{raw}\""
                ))
            })
        })
        .transpose()
}

/// `GET /v1/compliance/activities`.
pub(crate) async fn activities(AxState(s): Shd, RawQuery(raw): RawQuery) -> ApiResult {
    match s.readings.activity_feed {
        ActivityFeed::Served => {}
        ActivityFeed::Forbidden => {
            return Err(ApiError::forbidden(
                "Missing required scopes. Got: []. Needed: [read:compliance_activities]",
            ));
        }
        ActivityFeed::NotFound => return Err(ApiError::not_found("Not found")),
    }
    let q = Query::parse(raw.as_deref());
    let limit = match q.one("limit")? {
        None => 100,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=5000).contains(&n) => n,
            _ => {
                return Err(ApiError::invalid(format!(
                    "The limit parameter must be between 1 and 5000, inclusive. Got {raw}."
                )));
            }
        },
    };
    let after = q.one("after_id")?;
    let before = q.one("before_id")?;
    if after.is_some() && before.is_some() {
        return Err(ApiError::invalid(
            "Only one of `after_id` and `before_id` may be given",
        ));
    }
    let ascending = match q.one("order")? {
        None | Some("desc") => false,
        Some("asc") => true,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "Invalid `order` parameter: expected asc or desc, got \"{other}\""
            )));
        }
    };
    let gte = bound(&q, "created_at.gte")?;
    let gt = bound(&q, "created_at.gt")?;
    let lte = bound(&q, "created_at.lte")?;
    let lt = bound(&q, "created_at.lt")?;
    let types = q.many("activity_types");
    let reports = s.reports.lock();
    let at = |a: &Value| {
        a["created_at"]
            .as_str()
            .and_then(|t| t.parse::<Timestamp>().ok())
            .unwrap_or(Timestamp::UNIX_EPOCH)
    };
    let mut list: Vec<&Value> = reports
        .activities
        .iter()
        .filter(|a| {
            let t = at(a);
            gte.is_none_or(|b| t >= b)
                && gt.is_none_or(|b| t > b)
                && lte.is_none_or(|b| t <= b)
                && lt.is_none_or(|b| t < b)
                && (types.is_empty() || types.iter().any(|k| a["type"] == k.as_str()))
        })
        .collect();
    if !ascending {
        list.reverse();
    }
    let id = |a: &Value| a["id"].as_str().unwrap_or_default().to_owned();
    let find = |cursor: &str, name: &str| {
        list.iter().position(|a| id(a) == cursor).ok_or_else(|| {
            ApiError::invalid(format!(
                "Invalid `{name}`. No activity found with id {cursor}"
            ))
        })
    };
    let (page, has_more): (Vec<&Value>, bool) = if let Some(b) = before {
        let end = find(b, "before_id")?;
        let begin = end.saturating_sub(limit);
        (list[begin..end].to_vec(), begin > 0)
    } else {
        let begin = after
            .map(|a| find(a, "after_id"))
            .transpose()?
            .map_or(0, |i| i + 1);
        let end = (begin + limit).min(list.len());
        (list[begin..end].to_vec(), end < list.len())
    };
    Ok(ok(&json!({
        "data": page,
        "has_more": has_more,
        "first_id": page.first().map(|a| id(a)),
        "last_id": page.last().map(|a| id(a)),
    })))
}
