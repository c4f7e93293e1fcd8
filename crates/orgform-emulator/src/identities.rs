//! The non-human identities of the emulated organization ([`orgform_model::Identities`] in
//! [`crate::State::identities`]): checks of a seed, wire forms, and the `limit` + `page`
//! cursor pagination these endpoint families share (`next_page` in place of the
//! `first_id`/`last_id`/`has_more` envelope of the older lists).
//!
//! Every endpoint here accepts only an OAuth bearer token; the gate is
//! `server::bearer_only`, applied in the request pipeline before any handler.

use std::collections::HashSet;

use jiff::Timestamp;
use orgform_model::{Identities, ServiceAccount, ServiceAccountMember, WorkspaceRole};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::query::Query;
use crate::state::{State, fmt_ts};

/// Every id the identities hold (for uniqueness across the whole state).
pub(crate) fn ids(identities: &Identities) -> impl Iterator<Item = &str> {
    identities
        .service_accounts
        .iter()
        .map(|s| s.id.as_str())
        .chain(identities.federation_issuers.iter().map(|i| i.id.as_str()))
        .chain(identities.federation_rules.iter().map(|r| r.id.as_str()))
}

/// Checks a seed's identities: non-archived service-account names unique, every membership
/// naming a known service account and workspace (the default workspace included) once,
/// with a role a service account can hold.
pub(crate) fn validate(state: &State) -> Result<(), String> {
    let ids = &state.identities;
    let mut names = HashSet::new();
    for sa in ids.service_accounts.iter().filter(|s| !s.is_archived()) {
        if !names.insert(sa.name.as_str()) {
            return Err(format!("service account name {} is used twice", sa.name));
        }
    }
    let mut pairs = HashSet::new();
    for m in &ids.service_account_members {
        if ids.service_account(&m.service_account_id).is_none() {
            return Err(format!(
                "service account member {} is not a service account",
                m.service_account_id
            ));
        }
        if state.workspace(&m.workspace_id).is_none() {
            return Err(format!(
                "service account member {} refers to unknown workspace {}",
                m.service_account_id, m.workspace_id
            ));
        }
        if m.workspace_role == WorkspaceRole::WorkspaceBilling {
            return Err(format!(
                "service account {} cannot hold workspace_billing",
                m.service_account_id
            ));
        }
        if !pairs.insert((&m.workspace_id, &m.service_account_id)) {
            return Err(format!(
                "service account {} is listed twice in workspace {}",
                m.service_account_id, m.workspace_id
            ));
        }
    }
    validate_federation(state)
}

/// Checks a seed's federation objects: an inline key set cannot be seeded (a snapshot holds
/// only its digest, and the emulator must serve the keys); every rule names a known issuer,
/// service account and workspaces.
fn validate_federation(state: &State) -> Result<(), String> {
    let ids = &state.identities;
    if let Some(i) = ids
        .federation_issuers
        .iter()
        .find(|i| matches!(i.jwks, orgform_model::Jwks::Inline { .. }))
    {
        return Err(format!(
            "federation issuer {} has inline keys, which a seed holds only as a digest; create it through the API instead",
            i.id
        ));
    }
    for r in &ids.federation_rules {
        if ids.issuer(&r.issuer_id).is_none() {
            return Err(format!(
                "federation rule {} refers to unknown issuer {}",
                r.id, r.issuer_id
            ));
        }
        if ids.service_account(&r.target_service_account_id).is_none() {
            return Err(format!(
                "federation rule {} targets unknown service account {}",
                r.id, r.target_service_account_id
            ));
        }
        if let Some(ws) = r
            .workspace_ids
            .iter()
            .find(|w| state.workspace(w).is_none() && state.default_workspace.workspace.id != **w)
        {
            return Err(format!(
                "federation rule {} refers to unknown workspace {ws}",
                r.id
            ));
        }
    }
    Ok(())
}

/// The wire form of a service account; `updated_at` is the last write's time (creation for
/// a seeded one). Actors are not modelled: the `*_by_actor_id` fields are `null`.
pub(crate) fn service_account_json(sa: &ServiceAccount, updated_at: Option<Timestamp>) -> Value {
    json!({
        "type": "service_account",
        "id": sa.id,
        "name": sa.name,
        "description": sa.description,
        "organization_role": sa.organization_role.as_str(),
        "created_at": fmt_ts(sa.created_at),
        "created_by_actor_id": null,
        "updated_at": fmt_ts(updated_at.unwrap_or(sa.created_at)),
        "updated_by_actor_id": null,
        "archived_at": sa.archived_at.map(fmt_ts),
        "archived_by_actor_id": null,
    })
}

/// The wire form of a service account's workspace membership.
pub(crate) fn member_json(m: &ServiceAccountMember, implicit: bool) -> Value {
    json!({
        "type": "service_account_workspace_member",
        "service_account_id": m.service_account_id,
        "workspace_id": m.workspace_id,
        "workspace_role": m.workspace_role.as_str(),
        "implicit": implicit,
        "created_by_actor_id": null,
    })
}

/// The `limit` (1-100, default 20) and `page` cursor of a `next_page`-paginated list.
pub(crate) struct CursorPage {
    pub(crate) limit: usize,
    pub(crate) page: Option<String>,
}

impl CursorPage {
    pub(crate) fn parse(q: &Query) -> Result<Self, ApiError> {
        let limit = match q.one("limit")? {
            None => 20,
            Some(raw) => {
                let n: i64 = raw.parse().map_err(|_| {
                    ApiError::invalid(format!(
                        "limit: Input should be a valid integer, unable to parse string as an integer (got \"{raw}\")"
                    ))
                })?;
                if !(1..=100).contains(&n) {
                    return Err(ApiError::invalid(format!(
                        "limit: Input should be between 1 and 100 (got {n})"
                    )));
                }
                usize::try_from(n).unwrap_or(20)
            }
        };
        let page = q.one("page")?.map(str::to_owned);
        Ok(Self { limit, page })
    }

    /// One page of `items` (each with its cursor key, in list order): the items after the
    /// one whose key the `page` cursor names, at most `limit`, and `next_page` (the cursor of
    /// the last item returned) when more follow. A cursor that names no listed item is 400.
    pub(crate) fn render(&self, items: &[(String, Value)]) -> Result<Value, ApiError> {
        self.render_with(items, Vec::new())
    }

    /// [`CursorPage::render`] with `lead` items put before the first page's items (the
    /// implicit default-workspace membership), not counted against `limit`.
    pub(crate) fn render_with(
        &self,
        items: &[(String, Value)],
        lead: Vec<Value>,
    ) -> Result<Value, ApiError> {
        let start = match &self.page {
            None => 0,
            Some(cursor) => {
                let key = decode_cursor(cursor).ok_or_else(|| bad_cursor(cursor))?;
                items
                    .iter()
                    .position(|(k, _)| *k == key)
                    .ok_or_else(|| bad_cursor(cursor))?
                    + 1
            }
        };
        let end = (start + self.limit).min(items.len());
        let mut data = if self.page.is_none() {
            lead
        } else {
            Vec::new()
        };
        data.extend(items[start..end].iter().map(|(_, v)| v.clone()));
        let next_page =
            (end < items.len() && end > start).then(|| encode_cursor(&items[end - 1].0));
        Ok(json!({ "data": data, "next_page": next_page }))
    }
}

/// An opaque-looking cursor for a list key.
fn encode_cursor(key: &str) -> String {
    format!("page_{key}")
}

fn decode_cursor(cursor: &str) -> Option<String> {
    cursor.strip_prefix("page_").map(str::to_owned)
}

fn bad_cursor(cursor: &str) -> ApiError {
    ApiError::invalid(format!(
        "page: the cursor \"{cursor}\" does not match a listed item; restart from the first page"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: usize) -> Vec<(String, Value)> {
        (0..n).map(|i| (format!("k{i}"), json!(i))).collect()
    }

    #[test]
    fn cursor_pages_cover_the_list_once_and_end_with_null() {
        let all = items(5);
        let mut page = CursorPage {
            limit: 2,
            page: None,
        };
        let mut seen = Vec::new();
        loop {
            let out = page.render(&all).unwrap();
            seen.extend(out["data"].as_array().unwrap().iter().cloned());
            match out["next_page"].as_str() {
                Some(next) => page.page = Some(next.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen, (0..5).map(|i| json!(i)).collect::<Vec<_>>());
    }

    #[test]
    fn an_unknown_cursor_is_refused_and_lead_items_come_first_only() {
        let all = items(3);
        let page = CursorPage {
            limit: 1,
            page: Some("page_gone".into()),
        };
        assert_eq!(page.render(&all).unwrap_err().status.as_u16(), 400);
        let first = CursorPage {
            limit: 1,
            page: None,
        }
        .render_with(&all, vec![json!("implicit")])
        .unwrap();
        assert_eq!(first["data"], json!(["implicit", 0]));
        assert_eq!(first["next_page"], "page_k0");
    }
}
