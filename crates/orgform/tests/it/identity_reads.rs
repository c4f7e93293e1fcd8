//! The real binary, with an OAuth bearer token, against a scripted Admin API whose identity
//! lists (service accounts, their workspace memberships, federation issuers and rules) are
//! inconsistent: each read ends in exit 1, a message naming the collection, nothing planned
//! and no write, although the manifest asks to archive a service account and a rule that a
//! consistent read plans to archive. A failed identity read never turns into archives.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::Run;
use crate::read_integrity::server::{Action, Seen, Server, TOKEN, error, page, user, workspace};

const ORG_ID: &str = "6f0c2a4e-0000-4000-8000-000000000001";
const SAS: &str = "/v1/organizations/service_accounts";
const W_SAS: &str = "/v1/organizations/workspaces/wrkspc_1/service_accounts";
const ISSUERS: &str = "/v1/organizations/federation_issuers";
const RULES: &str = "/v1/organizations/federation_rules";

const MANIFEST: &str = "\
version: 1
organization:
  id: 6f0c2a4e-0000-4000-8000-000000000001
settings:
  members: {unmanaged: ignore}
  invites: {unmanaged: ignore}
  workspaces: {unmanaged: ignore}
  workspace_members: {unmanaged: remove}
  limits: {max_destructive_percent: 100}
service_accounts:
  - name: bot-a
  - name: bot-b
    archived: true
workspaces:
  - name: W
    service_accounts:
      bot-a: workspace_developer
federation:
  issuers:
    - name: lab
      issuer_url: https://idp.acme.example
  rules:
    - name: deploy
      issuer: lab
      service_account: bot-b
      oauth_scope: workspace:developer
      match: {subject_prefix: \"system:serviceaccount:ci:deployer\"}
      archived: true
";

fn sa(id: &str) -> Value {
    json!({"type": "service_account", "id": id, "name": id.replace("svac_", "bot-"),
           "description": null, "organization_role": "developer",
           "created_at": "2026-01-01T00:00:00Z", "created_by_actor_id": null,
           "updated_at": "2026-01-01T00:00:00Z", "updated_by_actor_id": null,
           "archived_at": null, "archived_by_actor_id": null})
}

fn membership(sa: &str) -> Value {
    json!({"type": "service_account_workspace_member", "service_account_id": sa,
           "workspace_id": "wrkspc_1", "workspace_role": "workspace_developer",
           "implicit": false, "created_by_actor_id": null})
}

fn issuer(id: &str) -> Value {
    json!({"type": "federation_issuer", "id": id, "name": "lab",
           "issuer_url": "https://idp.acme.example", "jwks": {"type": "discovery"},
           "max_jwt_lifetime_seconds": 3600, "check_jti": true,
           "created_at": "2026-01-01T00:00:00Z", "archived_at": null})
}

fn rule(issuer: &str, target: &str) -> Value {
    json!({"type": "federation_rule", "id": "fdrl_1", "name": "deploy", "description": null,
           "issuer_id": issuer,
           "match": {"subject_prefix": "system:serviceaccount:ci:deployer"},
           "target": {"type": "service_account", "service_account_id": target},
           "oauth_scope": "workspace:developer", "token_lifetime_seconds": 3600,
           "applies_to_all_workspaces": false, "workspace_ids": ["wrkspc_1"],
           "created_at": "2026-01-01T00:00:00Z", "archived_at": null})
}

/// A cursor page: `data`, then `next_page` (`null` on the last page).
fn cursor(data: &[Value], next: Option<&str>) -> Action {
    Action::Json(200, vec![], json!({"data": data, "next_page": next}))
}

/// How the identity routes answer; each is called with the request.
struct Identities {
    sas: Box<dyn FnMut(&Seen) -> Action + Send>,
    members: Vec<Value>,
    issuers: Vec<Value>,
    /// `None`: the rules list answers 400.
    rules: Option<Vec<Value>>,
}

impl Identities {
    /// The consistent organization: bot-a and bot-b (one page each), bot-a in W, the issuer
    /// and a live rule targeting bot-b.
    fn consistent() -> Self {
        Self {
            sas: Box::new(two_pages(vec![sa("svac_a")], vec![sa("svac_b")])),
            members: vec![membership("svac_a")],
            issuers: vec![issuer("fdis_1")],
            rules: Some(vec![rule("fdis_1", "svac_b")]),
        }
    }
}

/// The service-account list in two pages.
fn two_pages(first: Vec<Value>, second: Vec<Value>) -> impl FnMut(&Seen) -> Action + Send {
    move |seen| match seen.q("page") {
        None => cursor(&first, Some("c1")),
        Some(_) => cursor(&second, None),
    }
}

struct Scripted {
    server: Server,
    _runtime: tokio::runtime::Runtime,
}

impl Scripted {
    /// The organization (one user, workspace W = `wrkspc_1`) with `ids`; writes are 400.
    fn start(mut ids: Identities) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = runtime.block_on(Server::start(move |seen| {
            if seen.method != "GET" {
                return error(400, "invalid_request_error");
            }
            match seen.path.as_str() {
                "/v1/organizations/me" => Action::Json(
                    200,
                    vec![],
                    json!({"type": "organization", "id": ORG_ID, "name": "Org"}),
                ),
                "/v1/organizations/users" => page(vec![user(1)], false),
                "/v1/organizations/workspaces" => page(vec![workspace("wrkspc_1", "W")], false),
                SAS => (ids.sas)(seen),
                W_SAS => cursor(&ids.members, None),
                ISSUERS => cursor(&ids.issuers, None),
                RULES => match &ids.rules {
                    Some(rules) => cursor(rules, None),
                    None => error(400, "invalid_request_error"),
                },
                p if p.starts_with(SAS) => cursor(&[], None),
                _ => page(vec![], false),
            }
        }));
        Self {
            server,
            _runtime: runtime,
        }
    }

    /// `orgform ARGS` from `dir` with the bearer token, as a user runs it, bounded in time.
    fn run(&self, dir: &Path, args: &[&str]) -> Run {
        let output = assert_cmd::Command::cargo_bin("orgform")
            .unwrap()
            .current_dir(dir)
            .args(args)
            .env("ANTHROPIC_BASE_URL", &self.server.url)
            .env_remove("ANTHROPIC_ADMIN_KEY")
            .env_remove("ANTHROPIC_FEDERATION_RULE_ID")
            .env_remove("ANTHROPIC_SERVICE_ACCOUNT_ID")
            .env("ANTHROPIC_AUTH_TOKEN", TOKEN)
            .env("NO_COLOR", "1")
            .write_stdin("")
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        let run: Run = output.into();
        assert!(!format!("{run:?}").contains("CANARY"), "{run:?}");
        run
    }

    fn writes(&self) -> Vec<String> {
        self.server
            .log()
            .iter()
            .filter(|s| s.method != "GET")
            .map(|s| format!("{} {}", s.method, s.path))
            .collect()
    }
}

/// `apply --auto-approve` (plus `extra`) is refused: exit 1, an inconsistent read of
/// `collection` with each of `expected`, nothing planned, no write.
fn assert_refused(ids: Identities, extra: &[&str], collection: &str, expected: &[&str]) {
    let org = Scripted::start(ids);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("org.yaml"), MANIFEST).unwrap();
    let mut args = vec!["apply", "--auto-approve"];
    args.extend_from_slice(extra);
    let run = org.run(dir.path(), &args);
    assert_eq!(run.code, 1, "{run:?}");
    let heading = format!("inconsistent read of {collection}");
    for text in [heading.as_str(), "nothing was planned or changed"]
        .iter()
        .chain(expected)
    {
        assert!(
            run.stderr.contains(text),
            "{text:?} missing: {}",
            run.stderr
        );
    }
    assert!(!run.stdout.contains("Plan:"), "{}", run.stdout);
    assert!(org.writes().is_empty(), "writes: {:?}", org.writes());
}

/// The consistent organization plans the two archives and the grant the tests below must
/// never reach.
#[test]
fn the_consistent_identity_read_plans_the_archives() {
    let org = Scripted::start(Identities::consistent());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("org.yaml"), MANIFEST).unwrap();
    let run = org.run(dir.path(), &["plan", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let plan: Value = serde_json::from_str(&run.stdout).unwrap();
    let kinds: Vec<&str> = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["archive_federation_rule", "archive_service_account"],
        "{}",
        run.stdout
    );
}

#[test]
fn a_service_account_page_repeating_its_cursor_is_refused() {
    let ids = Identities {
        sas: Box::new(|_: &Seen| cursor(&[sa("svac_a")], Some("c1"))),
        ..Identities::consistent()
    };
    assert_refused(ids, &[], "service accounts", &["repeats the cursor"]);
}

#[test]
fn a_service_account_page_without_next_page_is_refused() {
    let ids = Identities {
        sas: Box::new(|_: &Seen| {
            Action::Json(200, vec![], json!({"data": [sa("svac_a"), sa("svac_b")]}))
        }),
        ..Identities::consistent()
    };
    assert_refused(ids, &[], "service accounts", &["`next_page`"]);
}

/// bot-b is gone from the second page but W's membership list still names it.
#[test]
fn a_service_account_vanishing_between_pages_is_refused() {
    let ids = Identities {
        sas: Box::new(two_pages(vec![sa("svac_a")], vec![])),
        members: vec![membership("svac_a"), membership("svac_b")],
        ..Identities::consistent()
    };
    assert_refused(
        ids,
        &[],
        "service account memberships",
        &[
            "\"svac_b\"",
            "not among the non-archived service accounts read",
        ],
    );
}

/// bot-b is gone from the second page; only the rule that targets it still names it.
#[test]
fn a_rule_targeting_a_vanished_service_account_is_refused() {
    let ids = Identities {
        sas: Box::new(two_pages(vec![sa("svac_a")], vec![])),
        ..Identities::consistent()
    };
    assert_refused(
        ids,
        &[],
        "federation rules",
        &["a rule targets service account \"svac_b\""],
    );
}

#[test]
fn a_membership_of_an_unlisted_service_account_is_refused() {
    let ids = Identities {
        members: vec![membership("svac_a"), membership("svac_9")],
        ..Identities::consistent()
    };
    assert_refused(ids, &[], "service account memberships", &["\"svac_9\""]);
}

#[test]
fn a_rule_naming_a_missing_issuer_is_refused() {
    let ids = Identities {
        rules: Some(vec![rule("fdis_9", "svac_b")]),
        ..Identities::consistent()
    };
    assert_refused(
        ids,
        &[],
        "federation rules",
        &["a rule names issuer \"fdis_9\""],
    );
}

/// `next_page` forever, each page with a new service account and a new cursor: the read ends
/// at the cap (100 pages). `--rate-limit 0` because the default budget of 100 requests a
/// minute alone would stretch those pages over a minute.
#[test]
fn endless_service_account_pages_end_within_seconds() {
    let ids = Identities {
        sas: Box::new(|seen: &Seen| {
            let n: usize = seen
                .q("page")
                .and_then(|p| p.strip_prefix('c'))
                .map_or(0, |p| p.parse().unwrap());
            let next = format!("c{}", n + 1);
            cursor(&[sa(&format!("svac_{n}"))], Some(next.as_str()))
        }),
        ..Identities::consistent()
    };
    let started = Instant::now();
    assert_refused(
        ids,
        &["--rate-limit", "0"],
        "service accounts",
        &["pagination did not end after 100 pages"],
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

/// An identity list that fails outright (a 400 on the rules) fails the whole read: exit 1,
/// no write, nothing archived.
#[test]
fn a_failed_identity_list_fails_the_run_without_writes() {
    let org = Scripted::start(Identities {
        rules: None,
        ..Identities::consistent()
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("org.yaml"), MANIFEST).unwrap();
    let run = org.run(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("nothing was planned or changed"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("federation_rules"), "{}", run.stderr);
    assert!(org.writes().is_empty(), "writes: {:?}", org.writes());
}
