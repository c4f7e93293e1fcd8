//! Which reading of each undocumented point the API showed, from reads alone.
//!
//! The readings are named like the emulator's switches (`orgform emulator --reading
//! NAME=VALUE`), so that what doctor saw on a real organization can be replayed on a copy.
//! Points that only show on a write (deleting a deleted invite, refusing a second workspace of
//! the same name, ...) or with another credential are reported as not seen.

use std::collections::{BTreeMap, BTreeSet};

use orgform_api::Probe;
use serde_json::Value;

use super::observe::{Lists, Reader, refusal};
use super::report::Observed;

/// Every reading doctor can tell apart from reads alone.
pub(super) async fn readings(reader: &mut Reader<'_>, me: &Probe, lists: &Lists) -> Vec<Observed> {
    let mut out = Vec::new();
    let (implicit, candidate) = implicit_members(lists);
    out.push(implicit);
    out.push(implicit_member_get(reader, candidate).await);
    out.push(not_seen(
        "deleted-invite-get",
        "needs a deleted invite's id, which no list shows",
    ));
    out.push(not_seen(
        "deleted-invite-delete",
        "shows only when deleting",
    ));
    out.push(wrong_method(reader, lists).await);
    out.push(order("users-order", &lists.users, "added_at"));
    out.push(order("invites-order", &lists.invites, "invited_at"));
    out.push(order("workspaces-order", &lists.workspaces, "created_at"));
    out.push(members_order(lists));
    out.push(order("api-keys-order", &lists.keys, "created_at"));
    out.push(not_seen("workspace-key", "needs a workspace API key"));
    out.push(key_shape(&lists.keys));
    out.push(Observed {
        name: "rate-limit-headers",
        value: Some(if reader.rate_headers {
            "present"
        } else {
            "absent"
        }),
        evidence: if reader.rate_headers {
            "anthropic-ratelimit-requests-* headers on the responses".to_owned()
        } else {
            "no anthropic-ratelimit-* header on any response".to_owned()
        },
    });
    out.push(rate_limit_model(me));
    out.push(not_seen(
        "expired-key-inactive",
        "shows only when changing a key",
    ));
    out.push(workspace_names(&lists.workspaces));
    out
}

fn not_seen(name: &'static str, why: &str) -> Observed {
    Observed {
        name,
        value: None,
        evidence: why.to_owned(),
    }
}

/// Org roles whose holders are implicit members of every workspace, with that role.
fn implicit_role(org_role: &str) -> Option<&'static str> {
    match org_role {
        "admin" | "owner" | "primary_owner" => Some("workspace_admin"),
        "billing" => Some("workspace_billing"),
        _ => None,
    }
}

/// A member to GET for `implicit-member-get`: `(workspace, user, listed)`.
type Candidate = Option<(String, String, bool)>;

/// `implicit-members`: listed when a billing member shows as `workspace_billing` (a role
/// only inheritance gives) or every admin shows in every workspace; hidden when an admin is
/// missing from a list.
fn implicit_members(lists: &Lists) -> (Observed, Candidate) {
    let implicit: BTreeMap<&str, &'static str> = lists
        .users
        .iter()
        .filter_map(|u| Some((u["id"].as_str()?, implicit_role(u["role"].as_str()?)?)))
        .collect();
    let name = "implicit-members";
    if implicit.is_empty() || lists.members.is_empty() {
        return (
            not_seen(
                name,
                "no org admin or billing member, or no workspace, to look for",
            ),
            None,
        );
    }
    for (ws, members) in &lists.members {
        for m in members {
            let user = m["user_id"].as_str().unwrap_or_default();
            if m["workspace_role"] == "workspace_billing" {
                return (
                    Observed {
                        name,
                        value: Some("listed"),
                        evidence: format!(
                            "{user} is listed as workspace_billing in {ws}, a role only the billing org role gives"
                        ),
                    },
                    Some((ws.clone(), user.to_owned(), true)),
                );
            }
        }
    }
    for (ws, members) in &lists.members {
        let listed: BTreeSet<&str> = members
            .iter()
            .filter_map(|m| m["user_id"].as_str())
            .collect();
        if let Some(user) = implicit.keys().find(|u| !listed.contains(*u)) {
            return (
                Observed {
                    name,
                    value: Some("hidden"),
                    evidence: format!(
                        "{user} holds an implicit membership of {ws} but is not in its member list"
                    ),
                },
                Some((ws.clone(), (*user).to_owned(), false)),
            );
        }
    }
    let (ws, _) = &lists.members[0];
    let user = implicit
        .keys()
        .next()
        .map(|u| (*u).to_owned())
        .unwrap_or_default();
    (
        Observed {
            name,
            value: Some("listed"),
            evidence: format!(
                "all {} org admins and billing members are in every workspace's member list",
                implicit.len()
            ),
        },
        Some((ws.clone(), user, true)),
    )
}

/// `implicit-member-get`: one GET of an implicit member's membership.
async fn implicit_member_get(reader: &mut Reader<'_>, candidate: Candidate) -> Observed {
    let name = "implicit-member-get";
    let Some((ws, user, listed)) = candidate else {
        return not_seen(name, "no implicit member to look up");
    };
    let path = format!("/v1/organizations/workspaces/{ws}/members/{user}");
    let probe = match reader.get(&path, &[]).await {
        Ok(p) => p,
        Err(e) => return not_seen(name, &format!("GET {path} failed: {e:#}")),
    };
    let seen = if listed { "listed" } else { "not listed" };
    match probe.status {
        200 => Observed {
            name,
            value: Some("found"),
            evidence: format!("GET of {user} in {ws} ({seen}) answered 200"),
        },
        404 => Observed {
            name,
            value: Some("not-found"),
            evidence: format!("GET of {user} in {ws} ({seen}) answered 404"),
        },
        _ => not_seen(
            name,
            &format!("GET of {user} in {ws} answered {}", refusal(&probe)),
        ),
    }
}

/// `wrong-method`: a GET of a path that serves only POST (`.../archive`) changes nothing.
async fn wrong_method(reader: &mut Reader<'_>, lists: &Lists) -> Observed {
    let name = "wrong-method";
    let Some(ws) = lists.workspaces.first().and_then(|w| w["id"].as_str()) else {
        return not_seen(
            name,
            "no workspace whose archive route could be asked with GET",
        );
    };
    let path = format!("/v1/organizations/workspaces/{ws}/archive");
    match reader.get(&path, &[]).await {
        Ok(p) if p.status == 405 => Observed {
            name,
            value: Some("method-not-allowed"),
            evidence: "GET of a workspace's archive route answered 405".to_owned(),
        },
        Ok(p) if p.status == 404 => Observed {
            name,
            value: Some("not-found"),
            evidence: "GET of a workspace's archive route answered 404".to_owned(),
        },
        Ok(p) => not_seen(name, &format!("GET {path} answered {}", refusal(&p))),
        Err(e) => not_seen(name, &format!("GET {path} failed: {e:#}")),
    }
}

/// Which way a sequence goes: `Some(true)` newest (largest) first.
fn direction<T: Ord>(values: &[T]) -> Option<bool> {
    let (mut up, mut down) = (false, false);
    for pair in values.windows(2) {
        match pair[0].cmp(&pair[1]) {
            std::cmp::Ordering::Less => up = true,
            std::cmp::Ordering::Greater => down = true,
            std::cmp::Ordering::Equal => {}
        }
    }
    match (up, down) {
        (true, false) => Some(false),
        (false, true) => Some(true),
        _ => None,
    }
}

fn order_value(newest_first: Option<bool>) -> Option<&'static str> {
    newest_first.map(|n| if n { "newest-first" } else { "oldest-first" })
}

/// A list's order from a timestamp field.
fn order(name: &'static str, items: &[Value], field: &str) -> Observed {
    let times: Vec<jiff::Timestamp> = items
        .iter()
        .filter_map(|i| i[field].as_str()?.parse().ok())
        .collect();
    let value = order_value(direction(&times));
    let evidence = match value {
        Some(v) => format!(
            "{} objects listed by {field}, {}",
            times.len(),
            v.replace('-', " ")
        ),
        None if times.len() < 2 => format!("fewer than two objects to compare by {field}"),
        None => format!("listed in neither order of {field}"),
    };
    Observed {
        name,
        value,
        evidence,
    }
}

/// Member lists' order, by user id within each workspace.
fn members_order(lists: &Lists) -> Observed {
    let mut seen: Option<bool> = None;
    let mut mixed = false;
    for (_, members) in &lists.members {
        let ids: Vec<&str> = members
            .iter()
            .filter_map(|m| m["user_id"].as_str())
            .collect();
        match (direction(&ids), seen) {
            (Some(d), None) => seen = Some(d),
            (Some(d), Some(s)) if d != s => mixed = true,
            (None, _) if ids.len() > 1 && ids.windows(2).any(|w| w[0] != w[1]) => mixed = true,
            _ => {}
        }
    }
    let name = "members-order";
    match (seen, mixed) {
        (Some(newest), false) => Observed {
            name,
            value: order_value(Some(newest)),
            evidence: format!(
                "member lists sorted by user id, {}",
                if newest { "descending" } else { "ascending" }
            ),
        },
        (_, true) => not_seen(name, "member lists follow no user-id order"),
        (None, false) => not_seen(name, "no member list with two members"),
    }
}

/// `key-shape`: `scope` present is the current shape.
fn key_shape(keys: &[Value]) -> Observed {
    let name = "key-shape";
    match keys.first() {
        None => not_seen(name, "no API key to look at"),
        Some(k) if k.get("scope").is_some() => Observed {
            name,
            value: Some("current"),
            evidence: "API keys carry scope and principal".to_owned(),
        },
        Some(_) => Observed {
            name,
            value: Some("earlier"),
            evidence: "API keys carry no scope (the earlier shape)".to_owned(),
        },
    }
}

/// `rate-limit-model`, from the first response's headers: a reset a whole window away with
/// most of the budget left is a rolling window; a reset proportional to what was used is a
/// token bucket.
fn rate_limit_model(me: &Probe) -> Observed {
    let name = "rate-limit-model";
    let num = |h: &str| me.header(h).and_then(|v| v.trim().parse::<u32>().ok());
    let reset = me
        .header("anthropic-ratelimit-requests-reset")
        .and_then(|r| r.parse::<jiff::Timestamp>().ok());
    let (Some(limit), Some(remaining), Some(reset), Some(date)) = (
        num("anthropic-ratelimit-requests-limit"),
        num("anthropic-ratelimit-requests-remaining"),
        reset,
        me.date(),
    ) else {
        return not_seen(
            name,
            "shows only in rate-limit headers or when the limit is reached",
        );
    };
    if remaining * 2 < limit {
        return not_seen(name, "too little of the budget left to tell");
    }
    let reset_in = reset.duration_since(date).as_secs_f64();
    let window = 60.0;
    if reset_in >= window - 2.0 {
        Observed {
            name,
            value: Some("rolling-window"),
            evidence: format!(
                "{remaining}/{limit} left, yet the budget resets only in {reset_in:.0} s"
            ),
        }
    } else {
        Observed {
            name,
            value: Some("token-bucket"),
            evidence: format!("{remaining}/{limit} left and the budget refills in {reset_in:.0} s"),
        }
    }
}

/// `workspace-names`: two active workspaces with one name show that names are free.
fn workspace_names(workspaces: &[Value]) -> Observed {
    let name = "workspace-names";
    let mut seen = BTreeSet::new();
    for w in workspaces.iter().filter(|w| w["archived_at"].is_null()) {
        let n = w["name"].as_str().unwrap_or_default();
        if !seen.insert(n) {
            return Observed {
                name,
                value: Some("free"),
                evidence: format!("two active workspaces are named {n:?}"),
            };
        }
    }
    not_seen(
        name,
        "no two active workspaces share a name; uniqueness shows only when creating one",
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn direction_needs_a_strict_step_one_way() {
        assert_eq!(direction(&[1, 2, 2, 3]), Some(false));
        assert_eq!(direction(&[3, 3, 1]), Some(true));
        assert_eq!(direction(&[1, 3, 2]), None);
        assert_eq!(direction(&[1, 1]), None);
        assert_eq!(direction::<u8>(&[]), None);
    }

    #[test]
    fn implicit_members_from_lists() {
        let users = vec![
            json!({"id": "user_a", "role": "admin"}),
            json!({"id": "user_b", "role": "billing"}),
            json!({"id": "user_d", "role": "developer"}),
        ];
        let listed = Lists {
            users: users.clone(),
            members: vec![(
                "wrkspc_1".to_owned(),
                vec![json!({"user_id": "user_b", "workspace_role": "workspace_billing"})],
            )],
            ..Lists::default()
        };
        assert_eq!(implicit_members(&listed).0.value, Some("listed"));
        let hidden = Lists {
            users,
            members: vec![(
                "wrkspc_1".to_owned(),
                vec![json!({"user_id": "user_d", "workspace_role": "workspace_user"})],
            )],
            ..Lists::default()
        };
        let (seen, candidate) = implicit_members(&hidden);
        assert_eq!(seen.value, Some("hidden"));
        assert!(!candidate.unwrap().2, "a hidden member is not listed");
    }
}
