//! The real binary against a scripted, hostile Admin API: inconsistent reads end in exit 1
//! with nothing planned and nothing written, and plain-http endpoints never go through a
//! proxy from the environment.

use std::io::Read as _;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[path = "../../../orgform-api/tests/it/support/server.rs"]
pub mod server;

use crate::common::{Run, command_as_user};

use server::{Action, KEY, Seen, Server, error, member, page, paged, user, workspace};

const ORG_ID: &str = "6f0c2a4e-0000-4000-8000-000000000001";

const MANIFEST: &str = "\
version: 1
organization:
  id: 6f0c2a4e-0000-4000-8000-000000000001
members:
  - email: u1@x.example
    role: user
  - email: u2@x.example
    role: user
workspaces:
  - name: W
    members:
      u1@x.example: workspace_developer
      u2@x.example: workspace_developer
";

const PROXY_VARS: [&str; 4] = ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"];

/// A scripted server and the runtime serving it while the test thread waits on the binary.
struct Scripted {
    server: Server,
    _runtime: tokio::runtime::Runtime,
}

impl Scripted {
    /// An organization with the manifest's workspace `W` (`wrkspc_1`); `users` answers the
    /// user list, `members` is W's member list. Writes are refused with a 400.
    fn org(mut users: impl FnMut(&Seen) -> Action + Send + 'static, members: Vec<Value>) -> Self {
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
                "/v1/organizations/users" => users(seen),
                "/v1/organizations/workspaces" => page(vec![workspace("wrkspc_1", "W")], false),
                "/v1/organizations/workspaces/wrkspc_1/members" => {
                    paged(&members, seen, 1000, "user_id")
                }
                _ => page(vec![], false),
            }
        }));
        Self {
            server,
            _runtime: runtime,
        }
    }

    /// The consistent organization the manifest describes.
    fn consistent() -> Self {
        Self::org(
            |seen| paged(&[user(1), user(2)], seen, 1000, "id"),
            vec![
                member("wrkspc_1", "user_00001"),
                member("wrkspc_1", "user_00002"),
            ],
        )
    }

    /// Runs `orgform ARGS` from `dir` against this server as a user does, with `env` added
    /// and every proxy variable of the test's own environment removed.
    fn run(&self, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = command_as_user(env!("CARGO_BIN_EXE_orgform"), &self.server.url, KEY, dir);
        for var in PROXY_VARS.iter().chain(&["HTTPS_PROXY", "https_proxy"]) {
            cmd.env_remove(var);
        }
        cmd.args(args).envs(env.iter().copied());
        // A bound, so that a read that never ends fails the test instead of hanging it.
        assert_cmd::Command::from_std(cmd)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap()
            .into()
    }

    /// Requests other than GET, as `METHOD path`.
    fn writes(&self) -> Vec<String> {
        self.server
            .log()
            .iter()
            .filter(|s| s.method != "GET")
            .map(|s| format!("{} {}", s.method, s.path))
            .collect()
    }
}

/// Runs `apply --auto-approve` of the manifest and checks the refusal: exit 1, an
/// inconsistent-read message containing each of `expected`, nothing planned, no write.
fn assert_refused(org: &Scripted, extra: &[&str], expected: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("org.yaml"), MANIFEST).unwrap();
    let mut args = vec!["apply", "--auto-approve"];
    args.extend_from_slice(extra);
    let run = org.run(dir.path(), &args, &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("inconsistent read of"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("nothing was planned or changed"),
        "{}",
        run.stderr
    );
    for text in expected {
        assert!(
            run.stderr.contains(text),
            "{text:?} missing: {}",
            run.stderr
        );
    }
    assert!(!run.stdout.contains("Plan:"), "{}", run.stdout);
    assert!(org.writes().is_empty(), "writes: {:?}", org.writes());
    assert!(!format!("{run:?}").contains("CANARY"));
}

/// The users list cut short (one page, no `has_more`): today u2 would be invited and
/// removed from W.
#[test]
fn users_list_cut_short_is_refused() {
    let org = Scripted::org(
        |_| Action::Json(200, vec![], json!({"data": [user(1)]})),
        vec![
            member("wrkspc_1", "user_00001"),
            member("wrkspc_1", "user_00002"),
        ],
    );
    assert_refused(&org, &[], &["inconsistent read of users", "`has_more`"]);
}

/// A member whose user is not among the users read: today it is removed as unmanaged.
#[test]
fn member_with_unknown_user_is_refused() {
    let org = Scripted::org(
        |seen| paged(&[user(1), user(2)], seen, 1000, "id"),
        vec![
            member("wrkspc_1", "user_00001"),
            member("wrkspc_1", "user_00002"),
            member("wrkspc_1", "user_00099"),
        ],
    );
    assert_refused(
        &org,
        &[],
        &[
            "inconsistent read of members of workspace wrkspc_1",
            "user_00099",
            "not among the users read",
        ],
    );
}

/// A member list item naming another workspace: today it is filed under that workspace, and
/// u2 is added to W again.
#[test]
fn member_of_another_workspace_is_refused() {
    let org = Scripted::org(
        |seen| paged(&[user(1), user(2)], seen, 1000, "id"),
        vec![
            member("wrkspc_1", "user_00001"),
            member("wrkspc_other", "user_00002"),
        ],
    );
    assert_refused(
        &org,
        &[],
        &[
            "inconsistent read of members of workspace wrkspc_1",
            "wrkspc_other",
            "not the workspace asked for",
        ],
    );
}

/// The same user id on two pages with two emails: today the second copy wins and u2 is
/// removed from W by id.
#[test]
fn same_id_with_two_emails_is_refused() {
    let mut other = user(2);
    other["email"] = json!("other@x.example");
    let all = vec![user(1), user(2), other];
    let org = Scripted::org(
        move |seen| paged(&all, seen, 2, "id"),
        vec![
            member("wrkspc_1", "user_00001"),
            member("wrkspc_1", "user_00002"),
        ],
    );
    assert_refused(
        &org,
        &[],
        &[
            "inconsistent read of users",
            "user_00002",
            "listed twice with different contents",
        ],
    );
}

/// `has_more: true` forever, each page with a new user and a new cursor: the read ends at
/// the users cap (100 pages). `--rate-limit 0` because the default budget of 100 requests
/// a minute alone would stretch those 100 pages over a minute.
#[test]
fn endless_pagination_ends_within_seconds() {
    let mut n = 0;
    let org = Scripted::org(
        move |_| {
            n += 1;
            page(vec![user(n)], true)
        },
        vec![],
    );
    let started = Instant::now();
    assert_refused(
        &org,
        &["--rate-limit", "0"],
        &[
            "inconsistent read of users",
            "pagination did not end after 100 pages",
        ],
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let user_pages = org
        .server
        .log()
        .iter()
        .filter(|s| s.path == "/v1/organizations/users")
        .count();
    assert_eq!(user_pages, 100);
}

/// A loopback listener that counts the connections it receives and closes each at once.
fn proxy_listener() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            counter.fetch_add(1, SeqCst);
            if let Ok(mut stream) = stream {
                let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
                let _ = stream.read(&mut [0; 1024]);
            }
        }
    });
    (url, hits)
}

/// With each proxy variable set, a plain-http loopback endpoint is still reached directly:
/// the proxy receives nothing (it would otherwise see the admin key in clear text).
#[test]
fn plain_http_endpoints_never_use_a_proxy() {
    let (proxy, hits) = proxy_listener();
    for var in PROXY_VARS {
        let org = Scripted::consistent();
        let dir = tempfile::tempdir().unwrap();
        let run = org.run(dir.path(), &["snapshot"], &[(var, &proxy)]);
        assert_eq!(run.code, 0, "{var}: {run:?}");
        assert!(run.stdout.contains("u2@x.example"), "{var}: {}", run.stdout);
        assert_eq!(hits.load(SeqCst), 0, "{var}: the proxy was contacted");
        assert!(
            org.server
                .log()
                .iter()
                .any(|s| s.path == "/v1/organizations/users"),
            "{var}: the endpoint was reached"
        );
    }
}

/// `localhost.` resolves through DNS: plain http to it is refused before any connection.
#[test]
fn trailing_dot_localhost_is_not_loopback() {
    let org = Scripted::consistent();
    let port = org.server.url.rsplit(':').next().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://localhost.:{port}");
    let run = org.run(
        dir.path(),
        &["snapshot"],
        &[("ANTHROPIC_BASE_URL", url.as_str())],
    );
    assert_eq!(run.code, 64, "{run:?}");
    assert!(run.stderr.contains("loopback"), "{}", run.stderr);
    assert!(org.server.log().is_empty(), "{:?}", org.server.log().len());
}
