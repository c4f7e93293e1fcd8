//! The real binary against a hostile or broken Admin API (a scripted loopback server): HTML
//! pages, truncated and mistyped bodies, unknown enums, huge pages, redirects, slow and
//! silent servers, 429 storms with odd `retry-after` values and `x-should-retry: false`.
//! Each run must end by itself with the documented exit code and a clear message, without
//! a panic, without the key in its output, and without a single write when the read failed.
//! Rows of docs/reliability.md cite these tests by name.

use crate::support::bounded;
use crate::support::raw_http;

use std::time::Duration;

use bounded::Outcome;
use raw_http::{Reply, Seen, Server};
use serde_json::{Value, json};

const ORG_ID: &str = "6f0c2a4e-0000-4000-8000-0000000000aa";
const KEY: &str = "sk-ant-admin01-hostile-CANARY-4242";
const USERS: &str = "/v1/organizations/users";
const ME: &str = "/v1/organizations/me";

/// The manifest asks for one invite, so a run that got past its reads would write.
const MANIFEST: &str = "\
version: 1
organization:
  id: 6f0c2a4e-0000-4000-8000-0000000000aa
members:
  - email: root@hostile.example
    role: admin
  - email: new@hostile.example
    role: developer
";

fn user(n: usize) -> Value {
    json!({
        "id": format!("user_{n:022}"),
        "type": "user",
        "email": if n == 0 { "root@hostile.example".to_owned() } else { format!("u{n}@hostile.example") },
        "name": format!("User {n}"),
        "role": if n == 0 { "admin" } else { "user" },
        "added_at": "2025-01-01T00:00:00Z",
    })
}

fn page(data: &[Value]) -> Value {
    let first = data.first().map_or(Value::Null, |v| v["id"].clone());
    let last = data.last().map_or(Value::Null, |v| v["id"].clone());
    json!({"data": data, "has_more": false, "first_id": first, "last_id": last})
}

/// A small healthy organization: one admin, nothing else; creating an invite works.
fn healthy(seen: &Seen) -> Reply {
    match (seen.method.as_str(), seen.path.as_str()) {
        ("GET", ME) => Reply::json(
            200,
            &json!({"id": ORG_ID, "type": "organization", "name": "Hostile Co"}),
        ),
        ("GET", USERS) => Reply::json(200, &page(&[user(0)])),
        (
            "GET",
            "/v1/organizations/invites"
            | "/v1/organizations/workspaces"
            | "/v1/organizations/api_keys",
        ) => Reply::json(200, &page(&[])),
        ("POST", "/v1/organizations/invites") => Reply::json(
            200,
            &json!({
                "id": "invite_0000000000000000000001", "type": "invite",
                "email": "new@hostile.example", "role": "developer", "status": "pending",
                "invited_at": "2026-01-01T00:00:00Z", "expires_at": "2099-01-01T00:00:00Z",
            }),
        ),
        _ => Reply::error(404, "not_found_error"),
    }
}

/// `orgform apply --auto-approve EXTRA` against a server that answers `path` with `attack`
/// and everything else like [`healthy`].
fn attack(
    path: &'static str,
    extra: &[&str],
    attack: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
) -> (Server, Outcome) {
    let server = Server::start(move |seen| {
        if seen.path == path && seen.method == "GET" {
            attack(seen)
        } else {
            healthy(seen)
        }
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("org.yaml"), MANIFEST).unwrap();
    let mut cmd = bounded::orgform(dir.path(), &["apply", "--auto-approve"]);
    cmd.args(extra)
        .env("ANTHROPIC_BASE_URL", &server.url)
        .env("ANTHROPIC_ADMIN_KEY", KEY);
    let outcome = bounded::run(cmd, Duration::from_secs(60));
    (server, outcome)
}

/// The run failed cleanly: exit 1, `message` on stderr, no write, no key in any output.
fn refused(server: &Server, outcome: &Outcome, message: &str) {
    outcome.assert_clean_exit(&[1]);
    assert!(
        outcome.stderr.contains(message),
        "stderr lacks {message:?}:\n{}",
        outcome.stderr
    );
    assert_eq!(server.writes(), Vec::<String>::new(), "a failed read wrote");
    assert!(
        !outcome.stdout.contains(KEY) && !outcome.stderr.contains(KEY),
        "the key leaked"
    );
}

fn body(status: u16, content_type: &str, bytes: &[u8]) -> Reply {
    Reply::Http(
        status,
        vec![("content-type", content_type.to_owned())],
        bytes.to_vec(),
    )
}

const HTML: &[u8] = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>\
<body><h1>Bad Gateway</h1><p>upstream said no</p></body></html>";

#[test]
fn the_scripted_organization_is_healthy_and_apply_writes_one_invite() {
    let (server, outcome) = attack(USERS, &[], healthy);
    outcome.assert_clean_exit(&[0]);
    assert_eq!(
        server.writes(),
        vec!["POST /v1/organizations/invites".to_owned()]
    );
}

#[test]
fn html_error_page_is_retried_then_refused_without_dumping_it() {
    let (server, outcome) = attack(USERS, &[], |_| body(502, "text/html", HTML));
    refused(
        &server,
        &outcome,
        "GET /v1/organizations/users failed: http 502",
    );
    assert!(
        outcome.stderr.contains("not an api error object"),
        "{}",
        outcome.stderr
    );
    assert!(!outcome.stderr.contains("<html>"), "{}", outcome.stderr);
    assert_eq!(server.hits(USERS), 3, "one try and the two default retries");
}

#[test]
fn html_page_with_status_200_is_a_decode_error() {
    let (server, outcome) = attack(USERS, &[], |_| body(200, "text/html", HTML));
    refused(&server, &outcome, "unexpected response body");
}

#[test]
fn truncated_json_is_a_decode_error() {
    let (server, outcome) = attack(USERS, &[], |_| {
        body(
            200,
            "application/json",
            br#"{"data": [{"id": "user_1", "em"#,
        )
    });
    refused(
        &server,
        &outcome,
        "GET /v1/organizations/users: unexpected response body",
    );
}

#[test]
fn empty_success_body_is_a_decode_error() {
    let (server, outcome) = attack(USERS, &[], |_| body(200, "application/json", b""));
    refused(&server, &outcome, "unexpected response body");
}

#[test]
fn body_shorter_than_its_content_length_is_a_transport_error() {
    let (server, outcome) = attack(USERS, &[], |_| {
        Reply::Raw(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{\"data\": ["
                .to_vec(),
        )
    });
    refused(&server, &outcome, "GET /v1/organizations/users failed");
    assert_eq!(server.hits(USERS), 3, "a broken body is retried");
}

#[test]
fn connection_reset_before_any_answer_is_retried_then_refused() {
    let (server, outcome) = attack(USERS, &[], |_| Reply::Close);
    refused(&server, &outcome, "GET /v1/organizations/users failed");
    assert_eq!(server.hits(USERS), 3);
}

#[test]
fn an_answer_that_is_not_http_is_refused() {
    let (server, outcome) = attack(USERS, &[], |_| {
        Reply::Raw(b"SSH-2.0-OpenSSH_9.6\r\nProtocol mismatch.\r\n".to_vec())
    });
    refused(&server, &outcome, "GET /v1/organizations/users failed");
}

#[test]
fn a_user_without_an_email_is_a_decode_error() {
    let (server, outcome) = attack(USERS, &[], |_| {
        let mut u = user(0);
        u.as_object_mut().unwrap().remove("email");
        Reply::json(200, &page(&[u]))
    });
    refused(&server, &outcome, "missing field `email`");
}

#[test]
fn a_page_without_data_is_a_decode_error() {
    let (server, outcome) = attack(USERS, &[], |_| {
        Reply::json(
            200,
            &json!({"has_more": false, "first_id": null, "last_id": null}),
        )
    });
    refused(&server, &outcome, "missing field `data`");
}

#[test]
fn has_more_as_a_string_is_a_decode_error() {
    let (server, outcome) = attack(USERS, &[], |_| {
        let mut p = page(&[user(0)]);
        p["has_more"] = json!("yes");
        Reply::json(200, &p)
    });
    refused(&server, &outcome, "invalid type");
}

#[test]
fn data_as_an_object_is_a_decode_error() {
    let (server, outcome) = attack(USERS, &[], |_| {
        Reply::json(200, &json!({"data": {"0": user(0)}, "has_more": false}))
    });
    refused(&server, &outcome, "invalid type");
}

#[test]
fn a_numeric_id_is_a_decode_error() {
    let (server, outcome) = attack(USERS, &[], |_| {
        let mut u = user(0);
        u["id"] = json!(42);
        Reply::json(200, &page(&[u]))
    });
    refused(&server, &outcome, "invalid type");
}

#[test]
fn null_data_is_a_decode_error() {
    let (server, outcome) = attack(USERS, &[], |_| {
        Reply::json(200, &json!({"data": null, "has_more": false}))
    });
    refused(&server, &outcome, "invalid type: null");
}

#[test]
fn a_malformed_timestamp_is_a_decode_error() {
    let (server, outcome) = attack(USERS, &[], |_| {
        let mut u = user(0);
        u["added_at"] = json!("yesterday");
        Reply::json(200, &page(&[u]))
    });
    refused(&server, &outcome, "unexpected response body");
}

#[test]
fn duplicate_json_keys_are_a_decode_error() {
    let (server, outcome) = attack(ME, &[], |_| {
        let body = format!(
            r#"{{"id": "{ORG_ID}", "id": "00000000-0000-4000-8000-000000000000", "type": "organization", "name": "Twice"}}"#
        );
        Reply::Http(
            200,
            vec![("content-type", "application/json".to_owned())],
            body.into_bytes(),
        )
    });
    refused(&server, &outcome, "duplicate field `id`");
}

#[test]
fn invalid_utf8_inside_a_json_string_is_a_decode_error() {
    let (server, outcome) = attack(USERS, &[], |_| {
        let mut bytes =
            br#"{"data": [{"id": "user_1", "email": "root@hostile.example", "name": ""#.to_vec();
        bytes.extend_from_slice(&[0xff, 0xfe, 0x80]);
        bytes.extend_from_slice(
            br#"", "role": "admin", "added_at": "2025-01-01T00:00:00Z"}], "has_more": false}"#,
        );
        body(200, "application/json", &bytes)
    });
    refused(&server, &outcome, "unexpected response body");
}

#[test]
fn json_nested_200000_deep_is_refused_without_a_stack_overflow() {
    let (server, outcome) = attack(USERS, &[], |_| {
        // Inside an unknown field of a user: list items are read as JSON values first, and
        // that reading is bounded by the decoder's recursion limit.
        let depth = 200_000;
        let mut text = user(0).to_string();
        text.pop();
        text.push_str(r#", "extra": "#);
        text.push_str(&"[".repeat(depth));
        text.push_str(&"]".repeat(depth));
        text.push('}');
        let text = format!(r#"{{"has_more": false, "data": [{text}]}}"#);
        body(200, "application/json", text.as_bytes())
    });
    refused(&server, &outcome, "recursion limit exceeded");
}

#[test]
fn a_garbage_content_encoding_is_refused() {
    let (server, outcome) = attack(USERS, &[], |_| {
        Reply::Http(
            200,
            vec![
                ("content-type", "application/json".to_owned()),
                ("content-encoding", "gzip".to_owned()),
            ],
            b"\x1f\x8b\x08\x00garbage-not-gzip".to_vec(),
        )
    });
    refused(&server, &outcome, "GET /v1/organizations/users");
}

#[test]
fn unknown_enum_values_are_kept_and_never_acted_on() {
    let server = Server::start(|seen| match (seen.method.as_str(), seen.path.as_str()) {
        ("GET", USERS) => {
            let mut odd = user(1);
            odd["role"] = json!("galactic_overlord");
            Reply::json(200, &page(&[user(0), odd]))
        }
        ("GET", "/v1/organizations/api_keys") => Reply::json(
            200,
            &page(&[json!({
                "id": "apikey_0000000000000000000001", "type": "api_key", "name": "odd",
                "created_at": "2025-01-01T00:00:00Z", "status": "quarantined",
                "workspace_id": null,
            })]),
        ),
        _ => healthy(seen),
    });
    let dir = tempfile::tempdir().unwrap();
    // The odd user is listed with a known role: orgform must not try to change an unknown one.
    let manifest = MANIFEST.replace(
        "  - email: new@hostile.example\n    role: developer\n",
        "  - email: u1@hostile.example\n    role: developer\n",
    );
    std::fs::write(dir.path().join("org.yaml"), manifest).unwrap();
    let mut cmd = bounded::orgform(dir.path(), &["apply", "--auto-approve", "--format", "json"]);
    cmd.env("ANTHROPIC_BASE_URL", &server.url)
        .env("ANTHROPIC_ADMIN_KEY", KEY);
    let outcome = bounded::run(cmd, Duration::from_secs(60));
    outcome.assert_clean_exit(&[0, 3]);
    assert_eq!(server.writes(), Vec::<String>::new(), "{outcome:?}");
}

#[test]
fn a_page_far_larger_than_asked_is_read_without_acting_on_it() {
    let (server, outcome) = attack(USERS, &[], |_| {
        Reply::json(200, &page(&(0..20_000).map(user).collect::<Vec<_>>()))
    });
    // Unlisted members are only reported (settings.members.unmanaged: report).
    outcome.assert_clean_exit(&[0]);
    assert_eq!(
        server.writes(),
        vec!["POST /v1/organizations/invites".to_owned()],
        "only the invite the manifest asks for"
    );
}

#[test]
fn a_huge_string_field_is_read_without_echoing_it() {
    let (server, outcome) = attack(USERS, &[], |_| {
        let mut u = user(0);
        u["name"] = json!("N".repeat(8 << 20));
        Reply::json(200, &page(&[u]))
    });
    outcome.assert_clean_exit(&[0]);
    assert!(outcome.stdout.len() + outcome.stderr.len() < 1 << 20);
    assert_eq!(
        server.writes(),
        vec!["POST /v1/organizations/invites".to_owned()]
    );
}

fn redirect(status: u16) {
    let (server, outcome) = attack(USERS, &[], move |_| {
        Reply::Http(
            status,
            vec![("location", "/elsewhere/users".to_owned())],
            Vec::new(),
        )
    });
    refused(&server, &outcome, &format!("failed: http {status}"));
    assert_eq!(
        server.hits("/elsewhere/users"),
        0,
        "the redirect was followed"
    );
    assert_eq!(server.hits(USERS), 1, "a redirect is not retried");
}

#[test]
fn redirect_301_is_not_followed() {
    redirect(301);
}

#[test]
fn redirect_302_is_not_followed() {
    redirect(302);
}

#[test]
fn redirect_307_is_not_followed() {
    redirect(307);
}

#[test]
fn redirect_308_is_not_followed() {
    redirect(308);
}

#[test]
fn a_slow_loris_body_is_cut_by_the_timeout() {
    let (server, outcome) = attack(USERS, &["--timeout", "2"], |_| Reply::Trickle {
        len: 100_000,
        gap: Duration::from_millis(100),
    });
    refused(&server, &outcome, "GET /v1/organizations/users failed");
    assert_eq!(server.hits(USERS), 3);
    assert!(
        outcome.elapsed < Duration::from_secs(20),
        "{:?}",
        outcome.elapsed
    );
}

#[test]
fn a_silent_server_is_cut_by_the_timeout() {
    let (server, outcome) = attack(ME, &["--timeout", "2"], |_| Reply::Silent);
    refused(&server, &outcome, "GET /v1/organizations/me failed");
    assert!(
        outcome.elapsed < Duration::from_secs(20),
        "{:?}",
        outcome.elapsed
    );
}

/// Every answer to the user list is a 429 with this `retry-after`: the run gives up after
/// the default two retries, on its own backoff (the odd value is ignored), in seconds.
fn storm(header: &'static str, value: &'static str) {
    let (server, outcome) = attack(USERS, &[], move |_| {
        let Reply::Http(status, mut headers, bytes) = Reply::error(429, "rate_limit_error") else {
            unreachable!()
        };
        headers.push((header, value.to_owned()));
        Reply::Http(status, headers, bytes)
    });
    refused(&server, &outcome, "http 429 rate_limit_error");
    assert_eq!(server.hits(USERS), 3, "one try and two retries");
    assert!(
        outcome.elapsed < Duration::from_secs(15),
        "{:?}",
        outcome.elapsed
    );
}

#[test]
fn rate_limit_storm_with_retry_after_minus_one() {
    storm("retry-after", "-1");
}

#[test]
fn rate_limit_storm_with_retry_after_1e9() {
    storm("retry-after", "1e9");
}

#[test]
fn rate_limit_storm_with_retry_after_abc() {
    storm("retry-after", "abc");
}

#[test]
fn rate_limit_storm_with_a_huge_retry_after() {
    storm("retry-after", "99999999999999999999999999999999999999");
}

#[test]
fn rate_limit_storm_with_retry_after_nan() {
    storm("retry-after", "NaN");
}

#[test]
fn rate_limit_storm_with_a_retry_after_date_in_a_thousand_years() {
    storm("retry-after", "Tue, 01 Jan 3026 00:00:00 GMT");
}

#[test]
fn rate_limit_storm_with_negative_retry_after_ms() {
    storm("retry-after-ms", "-5000");
}

#[test]
fn x_should_retry_false_stops_at_the_first_answer() {
    let (server, outcome) = attack(USERS, &[], |_| {
        let Reply::Http(_, mut headers, bytes) = Reply::error(500, "api_error") else {
            unreachable!()
        };
        headers.push(("x-should-retry", "false".to_owned()));
        Reply::Http(500, headers, bytes)
    });
    refused(&server, &outcome, "http 500 api_error");
    assert_eq!(server.hits(USERS), 1, "x-should-retry: false means one try");
}

#[test]
fn overloaded_529_storm_ends_after_the_retries() {
    let (server, outcome) = attack(USERS, &[], |_| Reply::error(529, "overloaded_error"));
    refused(&server, &outcome, "http 529 overloaded_error");
    assert_eq!(server.hits(USERS), 3);
}

#[test]
fn an_error_message_echoing_the_key_is_redacted() {
    let (server, outcome) = attack(ME, &[], |_| {
        Reply::json(
            401,
            &json!({
                "type": "error",
                "error": {"type": "authentication_error", "message": format!("invalid x-api-key: {KEY}")},
            }),
        )
    });
    refused(&server, &outcome, "invalid x-api-key: [redacted]");
}
