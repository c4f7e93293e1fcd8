//! The read-only probes of `orgform doctor` and what they tell. Every request is a GET.
//!
//! The readings are named like the emulator's switches (`orgform emulator --reading
//! NAME=VALUE`), so that what doctor saw on a real organization can be replayed on a copy.
//! Points that only show on a write (deleting a deleted invite, refusing a second workspace of
//! the same name, ...) or with another credential are reported as not seen.

use std::collections::{BTreeMap, BTreeSet};

use orgform_api::{Client, KeyClass, Probe};
use serde_json::Value;

use super::report::{Collection, Level, Observed, Report};

/// Page size of every list (the API's maximum).
const LIMIT: &str = "1000";

/// What the manifest given with `-f` said.
#[derive(Clone, Debug)]
pub enum ManifestPin {
    /// No `-f`.
    None,
    /// The manifest's `organization.id`.
    Pinned(String),
    /// The manifest could not be used.
    Unusable(String),
}

/// Lists read so far, as raw JSON objects in list order.
#[derive(Default)]
struct Lists {
    users: Vec<Value>,
    invites: Vec<Value>,
    workspaces: Vec<Value>,
    /// `(workspace id, members in list order)`.
    members: Vec<(String, Vec<Value>)>,
    keys: Vec<Value>,
}

/// Sends the probes and remembers what every response carried.
struct Reader<'a> {
    client: &'a Client,
    rate_headers: bool,
}

impl Reader<'_> {
    async fn get(&mut self, path: &str, query: &[(&str, String)]) -> anyhow::Result<Probe> {
        let probe = self.client.probe(path, query).await?;
        self.rate_headers |= probe
            .headers
            .contains_key("anthropic-ratelimit-requests-limit");
        Ok(probe)
    }

    /// Every object of a list, and the pages it took.
    async fn list(
        &mut self,
        path: &str,
        query: &[(&str, String)],
    ) -> anyhow::Result<(Vec<Value>, u32)> {
        let mut items = Vec::new();
        let mut pages = 0;
        let mut after: Option<String> = None;
        loop {
            let mut q: Vec<(&str, String)> = query.to_vec();
            q.push(("limit", LIMIT.to_owned()));
            if let Some(a) = &after {
                q.push(("after_id", a.clone()));
            }
            let probe = self.get(path, &q).await?;
            pages += 1;
            if probe.status != 200 {
                anyhow::bail!("GET {path} answered {}", refusal(&probe));
            }
            let data = probe.body["data"].as_array().cloned().unwrap_or_default();
            items.extend(data);
            let more = probe.body["has_more"].as_bool().unwrap_or(false);
            match probe.body["last_id"].as_str() {
                Some(last) if more => after = Some(last.to_owned()),
                _ => return Ok((items, pages)),
            }
        }
    }
}

/// `401 authentication_error: invalid x-api-key`.
fn refusal(p: &Probe) -> String {
    let kind = p.body["error"]["type"].as_str().unwrap_or("unknown");
    let message = p.body["error"]["message"].as_str().unwrap_or("");
    format!("{} {kind}: {message}", p.status)
}

/// Runs every check against `client`.
pub async fn examine(client: &Client, endpoint: &str, pin: &ManifestPin) -> Report {
    let mut report = Report {
        endpoint: endpoint.to_owned(),
        rate_limit_per_minute: client.config().rate_limit.map(|r| r.per_minute),
        ..Report::default()
    };
    let mut reader = Reader {
        client,
        rate_headers: false,
    };
    let me = match reader.get("/v1/organizations/me", &[]).await {
        Ok(p) => p,
        Err(e) => {
            report.find(
                Level::Error,
                "key",
                format!("no answer from {endpoint}: {e:#} (check the endpoint and the network)"),
            );
            return report;
        }
    };
    if !check_key(&mut report, client, &me) {
        return report;
    }
    check_clock(&mut report, &me);
    let id = me.body["id"].as_str().unwrap_or_default().to_owned();
    let name = me.body["name"].as_str().unwrap_or_default().to_owned();
    report.find(Level::Ok, "organization", format!("{name} ({id})"));
    check_pin(&mut report, &id, &name, pin);
    report.organization = Some((id, name));

    let mut lists = Lists::default();
    let mut requests = 1;
    match read_all(&mut reader, &mut report, &mut lists).await {
        Ok(n) => requests += n,
        Err(e) => {
            report.find(
                Level::Error,
                "read",
                format!("{e:#}; plan, drift and snapshot would stop here too"),
            );
            return report;
        }
    }
    report.plan_requests = requests;
    report.plan_seconds = seconds_under_limit(requests, client.config().rate_limit);
    report.find(
        Level::Ok,
        "read",
        format!("every collection read completely in {requests} requests"),
    );
    report.readings = readings(&mut reader, &me, &lists).await;
    check_permissions(&mut reader, &mut report).await;
    report
}

/// The key: 200 on `/me` works; 401 and 403 are explained. False when nothing more can be
/// read.
fn check_key(report: &mut Report, client: &Client, me: &Probe) -> bool {
    match me.status {
        200 => {
            if client.key_class() == KeyClass::Admin {
                report.find(Level::Ok, "key", "the key works and is an Admin API key");
            } else {
                report.find(
                    Level::Warning,
                    "key",
                    "the key works but is not an Admin API key (sk-ant-admin01-...); a scoped key may lack the write permissions apply needs",
                );
            }
            true
        }
        401 => {
            report.find(
                Level::Error,
                "key",
                format!(
                    "the API refused the key ({}); hint: use an Admin API key (sk-ant-admin01-...) of this organization that is neither revoked nor expired",
                    refusal(me)
                ),
            );
            false
        }
        403 => {
            report.find(
                Level::Error,
                "key",
                format!(
                    "the key is valid but may not use the Admin API ({}); hint: orgform needs an Admin API key (sk-ant-admin01-...)",
                    refusal(me)
                ),
            );
            false
        }
        _ => {
            report.find(
                Level::Error,
                "key",
                format!("GET /v1/organizations/me answered {}", refusal(me)),
            );
            false
        }
    }
}

/// The API's clock from the `date` header against the local one.
fn check_clock(report: &mut Report, me: &Probe) {
    let Some(api) = me.date() else {
        report.find(
            Level::Warning,
            "clock",
            "the API sent no date header: plans judge invite expiry by this machine's clock",
        );
        return;
    };
    let skew = api.duration_since(jiff::Timestamp::now()).as_secs();
    report.clock = Some((api, skew));
    if skew.abs() > 60 {
        report.find(
            Level::Warning,
            "clock",
            format!(
                "the API's clock ({api}) and this machine's differ by {}; plans follow the API's clock",
                human_seconds(skew)
            ),
        );
    } else {
        report.find(
            Level::Ok,
            "clock",
            format!(
                "this machine's clock is within {} of the API's",
                human_seconds(skew)
            ),
        );
    }
}

fn human_seconds(secs: i64) -> String {
    let a = secs.unsigned_abs();
    match a {
        0..=119 => format!("{a} s"),
        120..=7199 => format!("{} min", a / 60),
        7200..=172_799 => format!("{} h", a / 3600),
        _ => format!("{} days", a / 86_400),
    }
}

fn check_pin(report: &mut Report, id: &str, name: &str, pin: &ManifestPin) {
    match pin {
        ManifestPin::None => report.find(
            Level::Ok,
            "manifest",
            "no manifest given (-f): the organization pin was not checked",
        ),
        ManifestPin::Pinned(wanted) if wanted.eq_ignore_ascii_case(id) => report.find(
            Level::Ok,
            "manifest",
            "the manifest's organization.id matches the key's organization",
        ),
        ManifestPin::Pinned(wanted) => report.find(
            Level::Error,
            "manifest",
            format!(
                "the manifest pins organization {wanted}, but the key belongs to {id} ({name}): plan, apply and drift would refuse; hint: use that organization's key, or fix organization.id"
            ),
        ),
        ManifestPin::Unusable(why) => {
            report.find(Level::Error, "manifest", format!("cannot use the manifest: {why}"));
        }
    }
}

/// Reads every collection as a plan does; returns the requests made.
async fn read_all(
    reader: &mut Reader<'_>,
    report: &mut Report,
    lists: &mut Lists,
) -> anyhow::Result<u32> {
    let mut requests = 0;
    let mut push = |report: &mut Report, name, count, pages| {
        requests += pages;
        report.collections.push(Collection { name, count, pages });
    };
    let (users, pages) = reader.list("/v1/organizations/users", &[]).await?;
    push(report, "users", users.len(), pages);
    lists.users = users;
    let (invites, pages) = reader.list("/v1/organizations/invites", &[]).await?;
    push(report, "invites", invites.len(), pages);
    lists.invites = invites;
    let (workspaces, pages) = reader
        .list(
            "/v1/organizations/workspaces",
            &[("include_archived", "true".to_owned())],
        )
        .await?;
    push(report, "workspaces", workspaces.len(), pages);
    let (mut count, mut member_pages) = (0, 0);
    for ws in &workspaces {
        let id = ws["id"].as_str().unwrap_or_default().to_owned();
        let (members, pages) = reader
            .list(&format!("/v1/organizations/workspaces/{id}/members"), &[])
            .await?;
        count += members.len();
        member_pages += pages;
        lists.members.push((id, members));
    }
    push(report, "workspace_members", count, member_pages);
    lists.workspaces = workspaces;
    let (keys, pages) = reader.list("/v1/organizations/api_keys", &[]).await?;
    push(report, "api_keys", keys.len(), pages);
    lists.keys = keys;
    Ok(requests)
}

/// Seconds `requests` take under the client's limiter (a burst, then the sustained rate).
pub fn seconds_under_limit(requests: u32, limit: Option<orgform_api::RateLimit>) -> f64 {
    match limit {
        Some(l) if l.per_minute > 0 => {
            f64::from(requests.saturating_sub(l.burst.max(1))) * 60.0 / f64::from(l.per_minute)
        }
        _ => 0.0,
    }
}

/// Every reading doctor can tell apart from reads alone.
async fn readings(reader: &mut Reader<'_>, me: &Probe, lists: &Lists) -> Vec<Observed> {
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

/// Optional features and the permission each needs.
async fn check_permissions(reader: &mut Reader<'_>, report: &mut Report) {
    let path = "/v1/compliance/activities";
    match reader.get(path, &[("limit", "1".to_owned())]).await {
        Ok(p) if p.status == 200 => report.find(
            Level::Ok,
            "permissions",
            "the activity feed is readable (who changed what)",
        ),
        Ok(p) if p.status == 403 => report.find(
            Level::Warning,
            "permissions",
            format!(
                "the activity feed is not readable with this key ({}); hint: enable the Compliance API, then create the admin key again",
                refusal(&p)
            ),
        ),
        Ok(p) => report.find(
            Level::Warning,
            "permissions",
            format!("the activity feed is not available here ({})", refusal(&p)),
        ),
        Err(e) => report.find(
            Level::Warning,
            "permissions",
            format!("the activity feed could not be asked: {e:#}"),
        ),
    }
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

    #[test]
    fn time_under_the_limiter() {
        let limit = orgform_api::RateLimit {
            per_minute: 100,
            burst: 10,
        };
        assert!((seconds_under_limit(10, Some(limit)) - 0.0).abs() < 1e-9);
        assert!((seconds_under_limit(110, Some(limit)) - 60.0).abs() < 1e-9);
        assert!((seconds_under_limit(500, None)).abs() < 1e-9);
    }
}
