//! The keyless pipeline: `examples/ci/github/keyless.yml` with the manifest fragment
//! `examples/keyless.yaml`, run as the other GitHub recipes are (every `run:` block under bash
//! against the emulator), with a loopback stand-in for GitHub's OIDC token endpoint
//! (`ACTIONS_ID_TOKEN_REQUEST_URL`) that signs the job's identity token with a test key whose
//! public JWK is the issuer's inline key set. Then orgform itself, run directly with the
//! official SDKs' federation variables: what it refuses, and that neither token ever reaches
//! its output or a plan file.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use orgform_emulator::DEFAULT_ORG_ID;
use orgform_emulator::test_signer::TestSigner;
use orgform_model::{FederationRule, RuleMatch, ServiceAccount, ServiceAccountRole};
use serde_json::{Value, json};

use crate::common::{Org, Run};
use crate::recipes::fixtures::{assert_no_key, demo_manifest};
use crate::recipes::runner::{self, Sandbox, check_keys, github, load_yaml};

const ISS: &str = "https://token.actions.githubusercontent.com";
const RULE_ID: &str = "fdrl_01OrgformPipeline";
const SA_ID: &str = "svac_01OrgformPipeline";
const REQUEST_TOKEN: &str = "ghs_id-token-request-token";
const SUBJECT: &str = "repo:acme/org-config:environment:orgform";

/// GitHub's token endpoint, for one job identity: answers `GET ...&audience=A` carrying the
/// request token with `{"value": JWT}`, a fresh `jti` each time, on the emulator's clock.
struct OidcStub {
    url: String,
    served: Arc<AtomicU64>,
}

impl OidcStub {
    fn start(signer: Arc<TestSigner>, now: i64, repository: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/_apis/token?api-version=2.0",
            listener.local_addr().unwrap()
        );
        let served = Arc::new(AtomicU64::new(0));
        let count = served.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let target = line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned();
                let mut authorized = false;
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap() == 0 || header == "\r\n" {
                        break;
                    }
                    let lower = header.to_ascii_lowercase();
                    if lower.starts_with("authorization:")
                        && header
                            .trim_end()
                            .ends_with(&format!("Bearer {REQUEST_TOKEN}"))
                    {
                        authorized = true;
                    }
                }
                let audience = target
                    .split_once("audience=")
                    .map(|(_, a)| a.split('&').next().unwrap_or_default().to_owned());
                let (status, body) = match (authorized, audience) {
                    (true, Some(aud)) => {
                        let n = count.fetch_add(1, Ordering::Relaxed);
                        let owner = repository.split('/').next().unwrap();
                        let jwt = signer.sign(&json!({
                            "iss": ISS, "aud": aud,
                            "sub": format!("repo:{repository}:environment:orgform"),
                            "repository": repository, "repository_owner": owner,
                            "environment": "orgform", "ref": "refs/heads/main",
                            "iat": now, "nbf": now, "exp": now + 300,
                            "jti": format!("gh-jti-{n}"),
                        }));
                        ("200 OK", json!({"count": 1, "value": jwt}).to_string())
                    }
                    _ => ("401 Unauthorized", "{}".to_owned()),
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Self { url, served }
    }
}

/// An organization whose Console holds the pipeline's service account, GitHub's issuer (the
/// test key inline) and the `org:admin` rule, exactly as `examples/keyless.yaml` declares them.
fn keyless_org(signer: &TestSigner) -> Org {
    keyless_org_with(signer, orgform_emulator::Readings::default())
}

fn keyless_org_with(signer: &TestSigner, readings: orgform_emulator::Readings) -> Org {
    let mut seed = orgform_emulator::seeds::small();
    let now: jiff::Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
    let mut ids = seed.identities.take().unwrap_or_default();
    ids.service_accounts.push(ServiceAccount {
        id: SA_ID.into(),
        name: "orgform-pipeline".into(),
        description: Some("runs orgform from GitHub Actions, keyless".into()),
        organization_role: ServiceAccountRole::Admin,
        created_at: now,
        archived_at: None,
    });
    seed.identities = Some(ids);
    let org = Org::start_with(orgform_emulator::EmulatorConfig {
        seed,
        test_controls: true,
        readings,
        ..orgform_emulator::EmulatorConfig::default()
    });
    let issuer =
        org.emulator
            .add_inline_issuer("github-actions", ISS, vec![signer.jwk()], 3600, true);
    org.emulator.modify(|s| {
        s.identities.federation_rules.push(FederationRule {
            id: RULE_ID.into(),
            name: "orgform-pipeline".into(),
            description: Some("acme/org-config, environment orgform (required reviewers)".into()),
            issuer_id: issuer,
            rule_match: RuleMatch {
                audience: Some("https://api.anthropic.com".into()),
                claims: [
                    ("repository".to_owned(), "acme/org-config".to_owned()),
                    ("repository_owner".to_owned(), "acme".to_owned()),
                ]
                .into(),
                condition: None,
                subject_prefix: Some(SUBJECT.into()),
            },
            target_service_account_id: SA_ID.into(),
            oauth_scope: "org:admin".into(),
            token_lifetime_seconds: 900,
            applies_to_all_workspaces: true,
            workspace_ids: Vec::new(),
            created_at: now,
            archived_at: None,
        });
    });
    org
}

/// The demo manifest with the keyless fragment, its issuer given the test key inline (GitHub's
/// real keys come by discovery; the emulator fetches nothing).
fn keyless_manifest(signer: &TestSigner) -> String {
    let fragment =
        std::fs::read_to_string(runner::repo_root().join("examples/keyless.yaml")).unwrap();
    let marker = "      # no jwks: OIDC discovery; GitHub publishes its keys and rotates them\n";
    assert!(
        fragment.contains(marker),
        "the fragment changed: update this test"
    );
    let keys = format!("      jwks: {{keys: [{}]}}\n", signer.jwk());
    format!("{}\n{}", demo_manifest(), fragment.replace(marker, &keys))
}

fn keyless_sandbox(org: &Org, manifest: &str, stub: &OidcStub) -> Sandbox {
    let mut sandbox = Sandbox::new();
    std::fs::write(sandbox.workspace.join("org.yaml"), manifest).unwrap();
    let temp = sandbox.home.join("runner-temp");
    std::fs::create_dir_all(&temp).unwrap();
    for (k, v) in [
        ("vars.ANTHROPIC_BASE_URL", org.emulator.base_url()),
        ("vars.ANTHROPIC_FEDERATION_RULE_ID", RULE_ID.to_owned()),
        ("vars.ANTHROPIC_ORGANIZATION_ID", DEFAULT_ORG_ID.to_owned()),
        ("vars.ANTHROPIC_SERVICE_ACCOUNT_ID", SA_ID.to_owned()),
        ("runner.temp", temp.display().to_string()),
        ("runner.os", "Linux".to_owned()),
    ] {
        sandbox.expressions.insert(k.to_owned(), v);
    }
    for (k, v) in [
        ("CI", "true"),
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_REPOSITORY", "acme/org-config"),
        ("GITHUB_RUN_ID", "4343"),
        ("RUNNER_OS", "Linux"),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN),
    ] {
        sandbox.env.insert(k.to_owned(), v.to_owned());
    }
    sandbox
        .env
        .insert("ACTIONS_ID_TOKEN_REQUEST_URL".into(), stub.url.clone());
    sandbox
        .env
        .insert("RUNNER_TEMP".into(), temp.display().to_string());
    sandbox
}

/// The organization's writes: every request but a GET and the token exchange (which changes
/// nothing in the organization).
fn writes(org: &Org) -> Vec<String> {
    org.writes()
        .into_iter()
        .filter(|w| w != "POST /v1/oauth/token")
        .collect()
}

/// Neither an access token nor an identity token in the job log or anything the job wrote
/// (the identity token file under `$RUNNER_TEMP` aside).
fn assert_no_tokens(sandbox: &Sandbox, log: &str) {
    assert!(
        !log.contains("sk-ant-oat01"),
        "an access token reached the log"
    );
    assert!(!log.contains("eyJ"), "an identity token reached the log");
    for entry in std::fs::read_dir(&sandbox.workspace).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
        assert!(!text.contains("sk-ant-oat01") && !text.contains(".eyJ"));
    }
}

#[test]
fn the_keyless_workflow_uses_only_keys_github_defines() {
    let workflow = load_yaml("examples/ci/github/keyless.yml");
    check_keys(&workflow, github::WORKFLOW, "keyless.yml");
    check_keys(&workflow["permissions"], github::PERMISSIONS, "keyless.yml");
    assert_eq!(workflow["permissions"]["id-token"], "write");
    check_keys(&workflow["concurrency"], github::CONCURRENCY, "keyless.yml");
    for (name, job) in workflow["jobs"].as_object().unwrap() {
        check_keys(job, github::JOB, &format!("keyless.yml job {name}"));
        assert_eq!(
            job["environment"], "orgform",
            "{name} runs behind the reviewed environment"
        );
        for step in job["steps"].as_array().unwrap() {
            check_keys(step, github::STEP, &format!("keyless.yml job {name} step"));
            if let Some(uses) = step.get("uses") {
                assert!(github::KNOWN_ACTIONS.contains(&uses.as_str().unwrap()));
            }
            // No credential anywhere: the identity token is the only one.
            let text = step.to_string();
            assert!(!text.contains("secrets."), "{text}");
        }
    }
}

#[test]
fn plan_and_apply_run_through_the_exchanged_token_and_protect_the_pipelines_rule() {
    let signer = Arc::new(TestSigner::es256("gh-test-1"));
    let org = keyless_org(&signer);
    let stub = OidcStub::start(
        signer.clone(),
        org.emulator.now().as_second(),
        "acme/org-config",
    );
    let sandbox = keyless_sandbox(&org, &keyless_manifest(&signer), &stub);

    let plan = runner::run_github_job(&sandbox, "keyless.yml", "plan");
    assert!(!plan.failed, "{plan:#?}");
    assert!(plan.log.contains("orgform plan: exit 2"), "{}", plan.log);
    let summary = std::fs::read_to_string(sandbox.state.join("step-summary.md")).unwrap();
    assert!(summary.contains("to add"), "{summary}");
    // The pipeline's own service account, issuer and rule are equal to the live ones.
    assert!(!summary.contains("orgform-pipeline"), "{summary}");
    assert!(writes(&org).is_empty(), "{:?}", writes(&org));

    let apply = runner::run_github_job(&sandbox, "keyless.yml", "apply");
    assert!(!apply.failed, "{apply:#?}");
    assert!(apply.log.contains("Apply: "), "{}", apply.log);
    assert!(!writes(&org).is_empty());
    // One identity token per job, each exchanged once; nothing denied.
    assert_eq!(stub.served.load(Ordering::Relaxed), 2);
    let exchanges = org
        .emulator
        .request_log()
        .iter()
        .filter(|r| r.path == "/v1/oauth/token" && r.status == Some(200))
        .count();
    assert_eq!(exchanges, 2);
    assert!(org.emulator.exchange_denials().is_empty());
    assert_no_key(&org, &sandbox, &apply);
    assert_no_tokens(&sandbox, &format!("{}{}", plan.log, apply.log));

    // The rule is the run's own: a manifest that archives it plans nothing for it.
    let archiving = keyless_manifest(&signer).replace(
        "      workspaces: all\n",
        "      workspaces: all\n      archived: true\n",
    );
    std::fs::write(sandbox.workspace.join("org.yaml"), archiving).unwrap();
    let before = writes(&org).len();
    let blocked = runner::run_github_job(&sandbox, "keyless.yml", "apply");
    assert!(blocked.failed, "{blocked:#?}");
    assert!(
        blocked.log.contains("ANTHROPIC_FEDERATION_RULE_ID"),
        "{}",
        blocked.log
    );
    assert_eq!(writes(&org).len(), before, "nothing archived");
    assert!(
        org.emulator
            .state_read_by_token()
            .identities
            .unwrap()
            .federation_rules
            .iter()
            .all(|r| r.archived_at.is_none())
    );
}

#[test]
fn a_job_from_another_repository_is_refused_with_a_clear_message_and_writes_nothing() {
    let signer = Arc::new(TestSigner::es256("gh-test-1"));
    let org = keyless_org(&signer);
    let stub = OidcStub::start(
        signer.clone(),
        org.emulator.now().as_second(),
        "mallory/org-config",
    );
    let sandbox = keyless_sandbox(&org, &keyless_manifest(&signer), &stub);
    let run = runner::run_github_job(&sandbox, "keyless.yml", "apply");
    assert!(run.failed, "{run:#?}");
    for fragment in [
        "the token exchange through federation rule fdrl_01OrgformPipeline was refused",
        "http 401 authentication_error: Authentication failed",
        "hint:",
    ] {
        assert!(
            run.log.contains(fragment),
            "{fragment:?} missing from {}",
            run.log
        );
    }
    assert!(writes(&org).is_empty(), "{:?}", writes(&org));
    assert_eq!(
        org.emulator.exchange_denials(),
        ["match_subject_prefix"],
        "denied for the subject, before any other claim"
    );
    assert_no_tokens(&sandbox, &run.log);
}

/// `orgform` run directly, with the federation variables and no key.
fn federated(org: &Org, dir: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = assert_cmd::Command::cargo_bin("orgform").unwrap();
    cmd.current_dir(dir)
        .args(args)
        .env_remove("ANTHROPIC_ADMIN_KEY")
        .env_remove("ANTHROPIC_AUTH_TOKEN")
        .env("ANTHROPIC_BASE_URL", org.emulator.base_url())
        .env("ANTHROPIC_FEDERATION_RULE_ID", RULE_ID)
        .env("ANTHROPIC_ORGANIZATION_ID", DEFAULT_ORG_ID)
        .env("ANTHROPIC_SERVICE_ACCOUNT_ID", SA_ID)
        .env("ANTHROPIC_WORKSPACE_ID", "default")
        .env("NO_COLOR", "1")
        .write_stdin("");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = cmd.output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

fn jwt(signer: &TestSigner, org: &Org, jti: &str) -> String {
    let t = org.emulator.now().as_second();
    signer.sign(&json!({
        "iss": ISS, "aud": "https://api.anthropic.com", "sub": SUBJECT,
        "repository": "acme/org-config", "repository_owner": "acme",
        "iat": t, "exp": t + 300, "jti": jti,
    }))
}

#[test]
fn no_token_reaches_the_output_or_the_plan_file() {
    let signer = TestSigner::es256("gh-test-1");
    let org = keyless_org(&signer);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("org.yaml"), keyless_manifest(&signer)).unwrap();
    let identity = jwt(&signer, &org, "direct-1");
    let token_file = dir.path().join("identity-token");
    std::fs::write(&token_file, format!("{identity}\n")).unwrap();
    let file = token_file.display().to_string();
    let run = federated(
        &org,
        dir.path(),
        &[
            ("ANTHROPIC_IDENTITY_TOKEN_FILE", &file),
            ("RUST_LOG", "debug"),
        ],
        &[
            "plan",
            "-f",
            "org.yaml",
            "--out",
            "plan.json",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{run:#?}");
    let plan = std::fs::read_to_string(dir.path().join("plan.json")).unwrap();
    let plan_json: Value = serde_json::from_str(&plan).unwrap();
    assert!(
        plan_json["actions"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    for text in [&run.stdout, &run.stderr, &plan] {
        assert!(
            !text.contains(&identity) && !text.contains("eyJ"),
            "identity token leaked"
        );
        assert!(!text.contains("sk-ant-oat01"), "access token leaked");
    }
    // The identity token can also come from ANTHROPIC_IDENTITY_TOKEN.
    let again = jwt(&signer, &org, "direct-2");
    let run = federated(
        &org,
        dir.path(),
        &[("ANTHROPIC_IDENTITY_TOKEN", &again)],
        &["drift", "-f", "org.yaml"],
    );
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(!run.stdout.contains("eyJ") && !run.stderr.contains("eyJ"));
}

#[test]
fn federation_inputs_are_refused_with_located_errors_before_any_request() {
    let signer = TestSigner::es256("gh-test-1");
    let org = keyless_org(&signer);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("org.yaml"), keyless_manifest(&signer)).unwrap();
    let missing = dir.path().join("nowhere");
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "\n").unwrap();
    let good = dir.path().join("good");
    std::fs::write(&good, jwt(&signer, &org, "refusals-1")).unwrap();
    let path = |p: &std::path::Path| p.display().to_string();
    let (missing, empty, good) = (path(&missing), path(&empty), path(&good));
    let key = org.emulator.admin_key().to_owned();
    for (env, fragment) in [
        (
            vec![("ANTHROPIC_IDENTITY_TOKEN_FILE", missing.as_str())],
            "does not exist\n  hint: the step that fetches",
        ),
        (
            vec![("ANTHROPIC_IDENTITY_TOKEN_FILE", empty.as_str())],
            "is empty",
        ),
        (
            vec![("ANTHROPIC_IDENTITY_TOKEN", "not-a-jwt")],
            "is not a JWT",
        ),
        (
            vec![
                ("ANTHROPIC_IDENTITY_TOKEN_FILE", good.as_str()),
                ("ANTHROPIC_ADMIN_KEY", key.as_str()),
            ],
            "both a credential (ANTHROPIC_ADMIN_KEY) and a workload identity federation token",
        ),
        (
            vec![
                ("ANTHROPIC_IDENTITY_TOKEN_FILE", good.as_str()),
                ("ANTHROPIC_ORGANIZATION_ID", ""),
            ],
            "but ANTHROPIC_ORGANIZATION_ID is not set",
        ),
    ] {
        let before = org.emulator.request_log().len();
        let run = federated(&org, dir.path(), &env, &["plan", "-f", "org.yaml"]);
        assert_eq!(run.code, 1, "{env:?}: {run:#?}");
        assert!(run.stderr.contains(fragment), "{env:?}: {}", run.stderr);
        assert_eq!(
            org.emulator.request_log().len(),
            before,
            "{env:?}: nothing sent"
        );
    }
    // Refused by the server: its message, the rule and a hint.
    let other = TestSigner::es256("gh-test-1");
    let forged = dir.path().join("forged");
    std::fs::write(&forged, jwt(&other, &org, "forged-1")).unwrap();
    let run = federated(
        &org,
        dir.path(),
        &[("ANTHROPIC_IDENTITY_TOKEN_FILE", &path(&forged))],
        &["plan", "-f", "org.yaml"],
    );
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stderr
            .contains("fdrl_01OrgformPipeline was refused: http 401"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("authentication history"),
        "{}",
        run.stderr
    );
    assert_eq!(org.emulator.exchange_denials(), ["bad_signature"]);
}

/// Under each reading of the exchange's open points: the recipe's `ANTHROPIC_WORKSPACE_ID=default`
/// is accepted either way, and a denial is reported with its status and message either way.
#[test]
fn the_exchange_works_and_fails_clearly_under_every_reading() {
    use orgform_emulator::readings::{ExchangeDenial, ExchangeWorkspace};
    for (workspace, denial) in [
        (
            ExchangeWorkspace::DefaultIfCovered,
            ExchangeDenial::Unauthorized,
        ),
        (ExchangeWorkspace::Required, ExchangeDenial::InvalidGrant),
    ] {
        let readings = orgform_emulator::Readings {
            exchange_workspace: workspace,
            exchange_denial: denial,
            ..orgform_emulator::Readings::default()
        };
        let signer = TestSigner::es256("gh-test-1");
        let org = keyless_org_with(&signer, readings);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("org.yaml"), keyless_manifest(&signer)).unwrap();
        let good = jwt(&signer, &org, "reading-1");
        let run = federated(
            &org,
            dir.path(),
            &[("ANTHROPIC_IDENTITY_TOKEN", &good)],
            &["plan", "-f", "org.yaml"],
        );
        assert_eq!(run.code, 0, "{workspace:?}: {run:#?}");
        let forged = jwt(&TestSigner::es256("gh-test-1"), &org, "reading-2");
        let run = federated(
            &org,
            dir.path(),
            &[("ANTHROPIC_IDENTITY_TOKEN", &forged)],
            &["plan", "-f", "org.yaml"],
        );
        assert_eq!(run.code, 1, "{denial:?}: {run:#?}");
        let status = match denial {
            ExchangeDenial::Unauthorized => "http 401 authentication_error: Authentication failed",
            ExchangeDenial::InvalidGrant => "http 400 invalid_grant: Authentication failed",
        };
        assert!(run.stderr.contains(status), "{}", run.stderr);
        assert!(run.stderr.contains("hint:"), "{}", run.stderr);
    }
}
