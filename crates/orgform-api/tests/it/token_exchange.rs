//! The client side of workload identity federation: an identity token exchanged at
//! `POST /v1/oauth/token` for an access token that reads the organization; refusals carry the
//! server's message and a hint, and never the identity token.

use std::time::Duration;

use orgform_api::{
    Client, ClientConfig, ExchangeError, FederationExchange, IdentityToken,
    exchange_federation_token,
};
use orgform_emulator::test_signer::TestSigner;
use orgform_emulator::{DEFAULT_ORG_ID, Emulator, EmulatorConfig, seeds};
use orgform_model::{FederationRule, RuleMatch, ServiceAccount, ServiceAccountRole};
use serde_json::{Value, json};

const ISS: &str = "https://token.actions.githubusercontent.com";
const SUB: &str = "repo:acme/infra:ref:refs/heads/main";

struct Org {
    emu: Emulator,
    signer: TestSigner,
}

/// An organization whose `org:admin` rule `fdrl_01Pipeline` lets `repo:acme/infra` on main
/// act as the admin service account `svac_01Pipeline`.
async fn org() -> Org {
    let mut seed = seeds::small();
    let mut ids = seed.identities.take().unwrap_or_default();
    let now: jiff::Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
    ids.service_accounts.push(ServiceAccount {
        id: "svac_01Pipeline".into(),
        name: "orgform-pipeline".into(),
        description: None,
        organization_role: ServiceAccountRole::Admin,
        created_at: now,
        archived_at: None,
    });
    seed.identities = Some(ids);
    let emu = Emulator::start(EmulatorConfig {
        seed,
        test_controls: true,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let signer = TestSigner::es256("gh-1");
    let issuer = emu.add_inline_issuer("github", ISS, vec![signer.jwk()], 3600, true);
    let default = emu.default_workspace_id();
    emu.modify(|s| {
        s.identities.federation_rules.push(FederationRule {
            id: "fdrl_01Pipeline".into(),
            name: "orgform-pipeline".into(),
            description: None,
            issuer_id: issuer,
            rule_match: RuleMatch {
                subject_prefix: Some(SUB.into()),
                audience: Some("https://api.anthropic.com".into()),
                ..RuleMatch::default()
            },
            target_service_account_id: "svac_01Pipeline".into(),
            oauth_scope: "org:admin".into(),
            token_lifetime_seconds: 600,
            applies_to_all_workspaces: false,
            workspace_ids: vec![default],
            created_at: now,
            archived_at: None,
        });
    });
    Org { emu, signer }
}

fn inputs(jwt: &str) -> FederationExchange {
    FederationExchange {
        federation_rule_id: "fdrl_01Pipeline".into(),
        organization_id: DEFAULT_ORG_ID.into(),
        service_account_id: "svac_01Pipeline".into(),
        workspace_id: None,
        identity_token: IdentityToken::from_source(jwt, "ANTHROPIC_IDENTITY_TOKEN_FILE x").unwrap(),
    }
}

fn config(base_url: String) -> ClientConfig {
    ClientConfig {
        base_url,
        timeout: Duration::from_secs(10),
        max_retries: 0,
        rate_limit: None,
        ..ClientConfig::default()
    }
}

impl Org {
    fn jwt(&self, sub: &str) -> String {
        let t = self.emu.now().as_second();
        self.signer.sign(&json!({
            "iss": ISS, "aud": "https://api.anthropic.com", "sub": sub,
            "iat": t, "exp": t + 300, "jti": format!("{sub}-{t}"),
        }))
    }
}

#[tokio::test]
async fn an_exchanged_token_reads_the_organization_and_its_identities() {
    let org = org().await;
    let jwt = org.jwt(SUB);
    let got = exchange_federation_token(&config(org.emu.base_url()), &inputs(&jwt))
        .await
        .unwrap();
    assert_eq!((got.expires_in, got.scope.as_str()), (600, "org:admin"));
    assert!(!format!("{got:?}").contains("sk-ant-oat01"), "{got:?}");
    let client = Client::new(config(org.emu.base_url()), got.credential).unwrap();
    let snap = client.fetch_snapshot().await.unwrap();
    let ids = snap.identities.expect("a bearer token reads identities");
    assert!(
        ids.federation_rules
            .iter()
            .any(|r| r.id == "fdrl_01Pipeline")
    );
    // The request went out as the official SDKs send it.
    let log = org.emu.request_log();
    let exchange = log.iter().find(|r| r.path == "/v1/oauth/token").unwrap();
    let body = exchange.body.as_ref().unwrap();
    assert_eq!(
        body["grant_type"],
        "urn:ietf:params:oauth:grant-type:jwt-bearer"
    );
    assert_eq!(body["assertion"], "[redacted]");
    assert_eq!(body["organization_id"], DEFAULT_ORG_ID);
    assert!(body.get("workspace_id").is_none());
}

#[tokio::test]
async fn a_refused_exchange_names_the_rule_the_status_and_a_hint_but_not_the_token() {
    let org = org().await;
    let jwt = org.jwt("repo:someone-else/infra:ref:refs/heads/main");
    let err = exchange_federation_token(&config(org.emu.base_url()), &inputs(&jwt))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, ExchangeError::Refused { status: 401, .. }),
        "{text}"
    );
    for fragment in [
        "fdrl_01Pipeline",
        "http 401",
        "Authentication failed",
        "hint:",
        "request id req_",
    ] {
        assert!(text.contains(fragment), "{fragment:?} missing from {text}");
    }
    assert!(!text.contains(&jwt) && !text.contains("eyJ"), "{text}");
    // A malformed id is the server's located 400.
    let mut inputs = inputs(&org.jwt(SUB));
    inputs.workspace_id = Some("Default".into());
    let text = exchange_federation_token(&config(org.emu.base_url()), &inputs)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("http 400 invalid_request_error: workspace_id"),
        "{text}"
    );
    assert!(text.contains("ANTHROPIC_WORKSPACE_ID"), "{text}");
}

#[tokio::test]
async fn the_exchange_follows_the_endpoint_policy_and_redacts_an_echoed_assertion() {
    let org = org().await;
    let jwt = org.jwt(SUB);
    let err =
        exchange_federation_token(&config("http://idp.example.invalid".into()), &inputs(&jwt))
            .await
            .unwrap_err();
    assert!(
        err.to_string()
            .contains("plain http is only allowed to loopback"),
        "{err}"
    );
    // A server that repeats the assertion in its error message.
    let app = axum::Router::new().route(
        "/v1/oauth/token",
        axum::routing::post(|body: String| async move {
            let v: Value = serde_json::from_str(&body).unwrap();
            let echoed = format!("bad assertion {}", v["assertion"].as_str().unwrap());
            (
                axum::http::StatusCode::BAD_REQUEST,
                axum::Json(json!({"type": "error", "error": {"type": "invalid_request_error", "message": echoed}})),
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let text = exchange_federation_token(&config(format!("http://{addr}")), &inputs(&jwt))
        .await
        .unwrap_err()
        .to_string();
    assert!(text.contains("bad assertion [redacted]"), "{text}");
    assert!(!text.contains(&jwt), "{text}");
}

#[tokio::test]
async fn a_bearer_client_sends_the_oauth_beta_and_a_key_client_does_not() {
    use std::sync::{Arc, Mutex};
    let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/v1/organizations/me",
        axum::routing::get(move |headers: axum::http::HeaderMap| {
            let record = record.clone();
            async move {
                record.lock().unwrap().push(
                    headers
                        .get("anthropic-beta")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned),
                );
                axum::Json(json!({"id": DEFAULT_ORG_ID, "type": "organization", "name": "Acme"}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let url = format!("http://{addr}");
    let bearer = orgform_api::AdminKey::bearer("sk-ant-oat01-test").unwrap();
    Client::new(config(url.clone()), bearer)
        .unwrap()
        .me()
        .await
        .unwrap();
    let key = orgform_api::AdminKey::new("sk-ant-admin01-test").unwrap();
    Client::new(config(url), key).unwrap().me().await.unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [Some(orgform_api::OAUTH_BETA.to_owned()), None]
    );
}
