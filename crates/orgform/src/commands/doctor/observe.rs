//! The read-only probes of `orgform doctor`: the key, the clock, the manifest pin, a complete
//! read of every collection, and the permissions of optional features. Every request is a
//! GET.

use orgform_api::{Client, KeyClass, Probe};
use serde_json::Value;

use super::report::{Collection, Level, Report};

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
pub(super) struct Lists {
    pub(super) users: Vec<Value>,
    pub(super) invites: Vec<Value>,
    pub(super) workspaces: Vec<Value>,
    /// `(workspace id, members in list order)`.
    pub(super) members: Vec<(String, Vec<Value>)>,
    pub(super) keys: Vec<Value>,
}

/// Sends the probes and remembers what every response carried.
pub(super) struct Reader<'a> {
    client: &'a Client,
    pub(super) rate_headers: bool,
}

impl Reader<'_> {
    pub(super) async fn get(
        &mut self,
        path: &str,
        query: &[(&str, String)],
    ) -> anyhow::Result<Probe> {
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
pub(super) fn refusal(p: &Probe) -> String {
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
    report.readings = super::readings::readings(&mut reader, &me, &lists).await;
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

/// Seconds `requests` take under the client's pacing (a rolling window: the first
/// `per_minute` at once, each further `per_minute` a whole window later).
pub fn seconds_under_limit(requests: u32, limit: Option<orgform_api::RateLimit>) -> f64 {
    match limit {
        Some(l) if l.per_minute > 0 => orgform_api::pacing::window_floor(
            requests,
            l.per_minute,
            orgform_api::pacing::GENERAL_WINDOW,
        )
        .as_secs_f64(),
        _ => 0.0,
    }
}

/// Optional features and the permission each needs: the activity feed (`drift --attribute`)
/// and the usage report (`settings.api_keys.unused_days`). A refusal is a warning, never a
/// failure: orgform works without either.
async fn check_permissions(reader: &mut Reader<'_>, report: &mut Report) {
    let feed = reader
        .get("/v1/compliance/activities", &[("limit", "1".to_owned())])
        .await;
    report_permission(
        report,
        feed,
        "the activity feed",
        "drift --attribute (who changed what)",
        "enable the Compliance API, then create the admin key again",
    );
    // One daily bucket of the last day by the API's clock (the local one if none was seen).
    let now = reader
        .client
        .api_clock()
        .map_or_else(jiff::Timestamp::now, |clock| clock.date);
    let since = orgform_api::days_before(now, 1);
    let usage = reader
        .get(
            "/v1/organizations/usage_report/messages",
            &[
                ("starting_at", since.to_string()),
                ("bucket_width", "1d".to_owned()),
                ("limit", "1".to_owned()),
                ("group_by[]", "api_key_id".to_owned()),
            ],
        )
        .await;
    report_permission(
        report,
        usage,
        "the usage report",
        "unused-key reports (settings.api_keys.unused_days)",
        "read it with an admin key of this organization",
    );
}

/// One `permissions` finding: `what` is readable (for `feature`), or why not.
fn report_permission(
    report: &mut Report,
    answer: anyhow::Result<Probe>,
    what: &str,
    feature: &str,
    hint: &str,
) {
    match answer {
        Ok(p) if p.status == 200 => {
            report.find(
                Level::Ok,
                "permissions",
                format!("{what} is readable, for {feature}"),
            );
        }
        Ok(p) if p.status == 403 => report.find(
            Level::Warning,
            "permissions",
            format!(
                "{what} is not readable with this key ({}); without it, {feature} is not available; hint: {hint}",
                refusal(&p)
            ),
        ),
        Ok(p) => report.find(
            Level::Warning,
            "permissions",
            format!(
                "{what} is not available here ({}); without it, {feature} is not available",
                refusal(&p)
            ),
        ),
        Err(e) => report.find(
            Level::Warning,
            "permissions",
            format!("{what} could not be asked: {e:#}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_under_the_limiter() {
        let limit = orgform_api::RateLimit::default();
        assert!((seconds_under_limit(100, Some(limit)) - 0.0).abs() < 1e-9);
        assert!((seconds_under_limit(110, Some(limit)) - 60.0).abs() < 1e-9);
        assert!((seconds_under_limit(201, Some(limit)) - 120.0).abs() < 1e-9);
        assert!((seconds_under_limit(500, None)).abs() < 1e-9);
    }
}
