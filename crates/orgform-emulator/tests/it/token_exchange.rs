//! The token exchange (`POST /v1/oauth/token`): a verified identity token is exchanged for an
//! access token bound to the rule's service account, scope and workspace; the Admin API
//! accepts it by scope until it expires; every documented failure is one opaque denial whose
//! reason only the authentication history keeps.

use jiff::{SignedDuration, Timestamp};
use orgform_emulator::Readings;
use orgform_emulator::readings::{ExchangeDenial, ExchangeWorkspace};
use orgform_emulator::test_signer::TestSigner;
use orgform_model::{FederationRule, RuleMatch, ServiceAccountRole};
use serde_json::{Value, json};

use crate::common::{Api, Resp, VERSION};

const TOKEN: &str = "/v1/oauth/token";
const ISS: &str = "https://token.actions.githubusercontent.com";
const AUD: &str = "https://api.anthropic.com";
const SUB: &str = "repo:acme/infra:ref:refs/heads/main";

/// An organization with an admin service account, an inline-key issuer and an `org:admin`
/// rule on it (made "in the Console": the API refuses that scope to an OAuth caller).
struct Fixture {
    api: Api,
    signer: TestSigner,
    sa: String,
    issuer: String,
    rule: String,
}

async fn post(api: &Api, path: &str, body: Value) -> Value {
    api.bearer("POST", path, Some(body)).await.ok().clone()
}

async fn fixture_with(readings: Readings, signer: TestSigner, issuer_extra: Value) -> Fixture {
    let api = Api::small_with(readings).await;
    let sa = post(
        &api,
        "/v1/organizations/service_accounts",
        json!({"name": "orgform-pipeline", "organization_role": "admin"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut body = json!({
        "name": "github", "issuer_url": ISS,
        "jwks": {"type": "inline", "keys": [signer.jwk()]},
        "max_jwt_lifetime_seconds": 600,
    });
    for (k, v) in issuer_extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let issuer = post(&api, "/v1/organizations/federation_issuers", body).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rule = console_rule(
        &api,
        &issuer,
        &sa,
        "org:admin",
        "pipeline",
        RuleMatch {
            audience: Some(AUD.into()),
            subject_prefix: Some(SUB.into()),
            claims: [("repository_owner".to_owned(), "acme".to_owned())].into(),
            condition: None,
        },
    );
    Fixture {
        api,
        signer,
        sa,
        issuer,
        rule,
    }
}

async fn fixture() -> Fixture {
    fixture_with(Readings::default(), TestSigner::es256("gh-1"), json!({})).await
}

/// A rule made out of band (as in the Console), enabled for the default workspace only.
fn console_rule(
    api: &Api,
    issuer: &str,
    sa: &str,
    scope: &str,
    name: &str,
    m: RuleMatch,
) -> String {
    let id = format!("fdrl_01Console{}", name.replace('-', ""));
    let default = api.emu.default_workspace_id();
    let now = api.emu.now();
    api.emu.modify(|s| {
        s.identities.federation_rules.push(FederationRule {
            id: id.clone(),
            name: name.into(),
            description: None,
            issuer_id: issuer.into(),
            rule_match: m,
            target_service_account_id: sa.into(),
            oauth_scope: scope.into(),
            token_lifetime_seconds: 900,
            applies_to_all_workspaces: false,
            workspace_ids: vec![default],
            created_at: now,
            archived_at: None,
        });
    });
    id
}

fn claims(now: Timestamp) -> Value {
    let t = now.as_second();
    json!({
        "iss": ISS, "aud": AUD, "sub": SUB, "repository": "acme/infra",
        "repository_owner": "acme", "ref": "refs/heads/main",
        "iat": t, "nbf": t, "exp": t + 300, "jti": format!("jti-{t}-{}", rand_suffix()),
    })
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

impl Fixture {
    fn request(&self, assertion: &str) -> Value {
        json!({
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": assertion,
            "federation_rule_id": self.rule,
            "organization_id": orgform_emulator::DEFAULT_ORG_ID,
            "service_account_id": self.sa,
        })
    }

    async fn exchange(&self, body: Value) -> Resp {
        self.api.raw("POST", TOKEN, Some(body), &[]).await
    }

    async fn exchange_claims(&self, patch: Value) -> Resp {
        let mut c = claims(self.api.emu.now());
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        let jwt = self.signer.sign(&c);
        self.exchange(self.request(&jwt)).await
    }

    async fn with_token(&self, token: &str, path: &str) -> Resp {
        let auth = format!("Bearer {token}");
        self.api
            .raw(
                "GET",
                path,
                None,
                &[("authorization", &auth), ("anthropic-version", VERSION)],
            )
            .await
    }

    /// Asserts the opaque denial of the readings served, with this history reason.
    #[track_caller]
    fn assert_denied(&self, resp: &Resp, reason: &str) {
        match self.api.readings.exchange_denial {
            ExchangeDenial::Unauthorized => {
                resp.assert_error(401, "authentication_error", "Authentication failed");
            }
            ExchangeDenial::InvalidGrant => {
                resp.assert_error(400, "invalid_grant", "Authentication failed");
            }
        }
        assert_eq!(
            resp.message(),
            "Authentication failed",
            "opaque: {}",
            resp.body
        );
        assert_eq!(
            self.api.emu.exchange_denials().last().map(String::as_str),
            Some(reason),
            "{:?}",
            self.api.emu.exchange_denials()
        );
    }
}

#[tokio::test]
async fn an_es256_or_rs256_token_is_exchanged_and_authenticates_until_it_expires() {
    for signer in [TestSigner::es256("gh-1"), TestSigner::rs256("gh-rsa")] {
        let fx = fixture_with(Readings::default(), signer, json!({})).await;
        let resp = fx.exchange_claims(json!({})).await;
        let body = resp.ok();
        let token = body["access_token"].as_str().unwrap();
        assert!(token.starts_with("sk-ant-oat01-"), "{token}");
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 900);
        assert_eq!(body["scope"], "org:admin");
        // A bearer-only family and a plain Admin API endpoint.
        fx.with_token(token, "/v1/organizations/service_accounts")
            .await
            .ok();
        fx.with_token(token, "/v1/organizations/users").await.ok();
        fx.api.emu.advance_clock(SignedDuration::from_secs(899));
        fx.with_token(token, "/v1/organizations/users").await.ok();
        fx.api.emu.advance_clock(SignedDuration::from_secs(1));
        fx.with_token(token, "/v1/organizations/users")
            .await
            .assert_error(401, "authentication_error", "expired");
        // The identity token never reaches the request log.
        let log = serde_json::to_string(&fx.api.emu.request_log()).unwrap();
        assert!(!log.contains("eyJ"), "the assertion was logged");
        assert!(!log.contains(token), "the access token was logged");
    }
}

#[tokio::test]
async fn a_workspace_scope_token_is_refused_by_the_admin_api() {
    let fx = fixture().await;
    let ws = fx.api.emu.state().workspaces[0].id.clone();
    fx.api
        .bearer(
            "POST",
            &format!("/v1/organizations/workspaces/{ws}/service_accounts"),
            Some(json!({"service_account_id": fx.sa, "workspace_role": "workspace_developer"})),
        )
        .await
        .ok();
    let rule = post(
        &fx.api,
        "/v1/organizations/federation_rules",
        json!({
            "name": "inference", "issuer_id": fx.issuer, "oauth_scope": "workspace:inference",
            "match": {"subject_prefix": SUB},
            "target": {"type": "service_account", "service_account_id": fx.sa},
            "workspace_id": ws,
        }),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut body = fx.request(&fx.signer.sign(&claims(fx.api.emu.now())));
    body["federation_rule_id"] = rule.into();
    let resp = fx.exchange(body).await;
    let token = resp.ok()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(resp.body["scope"], "workspace:inference");
    fx.with_token(&token, "/v1/organizations/users")
        .await
        .assert_error(403, "permission_error", "scope");
}

#[tokio::test]
async fn an_org_admin_rule_on_a_developer_service_account_grants_no_admin_access() {
    let fx = fixture().await;
    fx.api.emu.modify(|s| {
        let sa = s
            .identities
            .service_accounts
            .iter_mut()
            .find(|x| x.id == fx.sa)
            .unwrap();
        sa.organization_role = ServiceAccountRole::Developer;
    });
    let token = fx.exchange_claims(json!({})).await.ok()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    fx.with_token(&token, "/v1/organizations/users")
        .await
        .assert_error(403, "permission_error", "admin service account");
}

/// Every check on the identity token, under both readings of the denial.
#[tokio::test]
async fn each_failed_check_is_one_opaque_denial_with_its_own_history_reason() {
    for denial in ExchangeDenial::ALL {
        let readings = Readings {
            exchange_denial: *denial,
            ..Readings::default()
        };
        let fx = fixture_with(readings, TestSigner::es256("gh-1"), json!({})).await;
        let t = fx.api.emu.now().as_second();
        for (patch, reason) in [
            (json!({"repository_owner": "someone-else"}), "match_claims"),
            (
                json!({"sub": "repo:evil/infra:ref:refs/heads/main"}),
                "match_subject_prefix",
            ),
            (
                json!({"aud": "https://elsewhere.example"}),
                "match_audience",
            ),
            (
                json!({"iss": "https://token.actions.githubusercontent.com/"}),
                "issuer_mismatch",
            ),
            (json!({"exp": t - 31}), "expired"),
            (json!({"iat": t + 31}), "issued_in_future"),
            (json!({"nbf": t + 31}), "not_yet_valid"),
            (
                json!({"iat": t - 400, "exp": t + 300}),
                "lifetime_exceeds_issuer_maximum",
            ),
            (json!({"sub": null}), "missing_sub"),
        ] {
            let resp = fx.exchange_claims(patch.clone()).await;
            fx.assert_denied(&resp, reason);
        }
        // A token from another key under the same kid; an unknown kid; HMAC.
        let forger = TestSigner::es256("gh-1");
        let c = claims(fx.api.emu.now());
        fx.assert_denied(
            &fx.exchange(fx.request(&forger.sign(&c))).await,
            "bad_signature",
        );
        let stranger = TestSigner::es256("gh-9");
        fx.assert_denied(
            &fx.exchange(fx.request(&stranger.sign(&c))).await,
            "unknown_kid",
        );
        let hs = fx
            .signer
            .sign_with_header(&json!({"alg": "HS256", "kid": "gh-1"}), &c);
        fx.assert_denied(&fx.exchange(fx.request(&hs)).await, "unsupported_algorithm");
        // Another organization, service account or rule.
        let good = fx.signer.sign(&claims(fx.api.emu.now()));
        let mut other_org = fx.request(&good);
        other_org["organization_id"] = "00000000-0000-0000-0000-000000000000".into();
        fx.assert_denied(&fx.exchange(other_org).await, "rule_not_found");
        let mut other_sa = fx.request(&good);
        other_sa["service_account_id"] = "svac_01Other".into();
        fx.assert_denied(&fx.exchange(other_sa).await, "service_account_mismatch");
        let mut other_rule = fx.request(&good);
        other_rule["federation_rule_id"] = "fdrl_01Unknown".into();
        fx.assert_denied(&fx.exchange(other_rule).await, "rule_not_found");
        // Nothing was minted by any of them: the same token still exchanges once.
        fx.exchange(fx.request(&good)).await.ok();
    }
}

#[tokio::test]
async fn a_jti_is_exchanged_once_unless_the_issuer_does_not_check_it() {
    let fx = fixture().await;
    let jwt = fx.signer.sign(&claims(fx.api.emu.now()));
    fx.exchange(fx.request(&jwt)).await.ok();
    fx.assert_denied(&fx.exchange(fx.request(&jwt)).await, "jti_reused");
    let lax = fixture_with(
        Readings::default(),
        TestSigner::es256("gh-1"),
        json!({"check_jti": false}),
    )
    .await;
    let jwt = lax.signer.sign(&claims(lax.api.emu.now()));
    lax.exchange(lax.request(&jwt)).await.ok();
    lax.exchange(lax.request(&jwt)).await.ok();
}

#[tokio::test]
async fn archived_rules_service_accounts_and_issuers_deny() {
    let fx = fixture().await;
    fx.api.emu.modify(|s| {
        let r = s
            .identities
            .federation_rules
            .iter_mut()
            .find(|r| r.id == fx.rule)
            .unwrap();
        r.archived_at = Some(r.created_at);
    });
    fx.assert_denied(&fx.exchange_claims(json!({})).await, "rule_not_found");
    let fx = fixture().await;
    fx.api.emu.modify(|s| {
        let sa = s
            .identities
            .service_accounts
            .iter_mut()
            .find(|x| x.id == fx.sa)
            .unwrap();
        sa.archived_at = Some(sa.created_at);
    });
    fx.assert_denied(
        &fx.exchange_claims(json!({})).await,
        "service_account_archived",
    );
    let fx = fixture().await;
    fx.api.emu.modify(|s| {
        let i = s
            .identities
            .federation_issuers
            .iter_mut()
            .find(|i| i.id == fx.issuer)
            .unwrap();
        i.archived_at = Some(i.created_at);
    });
    fx.assert_denied(&fx.exchange_claims(json!({})).await, "issuer_archived");
}

#[tokio::test]
async fn a_key_set_by_url_and_a_cel_condition_fail_closed() {
    let fx = fixture().await;
    let discovery = post(
        &fx.api,
        "/v1/organizations/federation_issuers",
        json!({"name": "by-url", "issuer_url": "https://idp.example.invalid"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rule = console_rule(
        &fx.api,
        &discovery,
        &fx.sa,
        "org:admin",
        "by-url",
        RuleMatch {
            subject_prefix: Some("x".into()),
            ..RuleMatch::default()
        },
    );
    let mut body = fx.request(&fx.signer.sign(&claims(fx.api.emu.now())));
    body["federation_rule_id"] = rule.into();
    fx.assert_denied(&fx.exchange(body).await, "jwks_unavailable");
    let cel = console_rule(
        &fx.api,
        &fx.issuer,
        &fx.sa,
        "org:admin",
        "cel",
        RuleMatch {
            condition: Some("claims.sub.startsWith(\"repo:acme/\")".into()),
            ..RuleMatch::default()
        },
    );
    let mut body = fx.request(&fx.signer.sign(&claims(fx.api.emu.now())));
    body["federation_rule_id"] = cel.into();
    fx.assert_denied(&fx.exchange(body).await, "condition_not_evaluated");
}

#[tokio::test]
async fn the_workspace_is_the_rules_own_or_named_and_the_service_account_must_be_in_it() {
    for reading in ExchangeWorkspace::ALL {
        let readings = Readings {
            exchange_workspace: *reading,
            ..Readings::default()
        };
        let fx = fixture_with(readings, TestSigner::es256("gh-1"), json!({})).await;
        let ws = fx.api.emu.state().workspaces[0].id.clone();
        // Enabled for the default workspace and another one.
        fx.api.emu.modify(|s| {
            let r = s
                .identities
                .federation_rules
                .iter_mut()
                .find(|r| r.id == fx.rule)
                .unwrap();
            r.workspace_ids.push(ws.clone());
        });
        let omitted = fx.exchange_claims(json!({})).await;
        match reading {
            ExchangeWorkspace::DefaultIfCovered => {
                omitted.ok();
            }
            ExchangeWorkspace::Required => fx.assert_denied(&omitted, "workspace_id_required"),
        }
        let named = |w: &str| {
            let mut b = fx.request(&fx.signer.sign(&claims(fx.api.emu.now())));
            b["workspace_id"] = w.into();
            b
        };
        fx.exchange(named("default")).await.ok();
        // Not a member of the other workspace yet.
        fx.assert_denied(
            &fx.exchange(named(&ws)).await,
            "service_account_not_in_workspace",
        );
        fx.api
            .bearer(
                "POST",
                &format!("/v1/organizations/workspaces/{ws}/service_accounts"),
                Some(json!({"service_account_id": fx.sa, "workspace_role": "workspace_developer"})),
            )
            .await
            .ok();
        fx.exchange(named(&ws)).await.ok();
        let other = fx.api.emu.state().workspaces[1].id.clone();
        fx.assert_denied(&fx.exchange(named(&other)).await, "workspace_not_enabled");
    }
}

#[tokio::test]
async fn a_malformed_request_is_a_located_400() {
    let fx = fixture().await;
    let jwt = fx.signer.sign(&claims(fx.api.emu.now()));
    for (field, value, fragment) in [
        ("grant_type", json!("client_credentials"), "grant_type"),
        ("assertion", Value::Null, "assertion: Field required"),
        ("federation_rule_id", json!("rule-1"), "federation_rule_id"),
        ("organization_id", json!("acme"), "organization_id"),
        ("service_account_id", json!(7), "service_account_id"),
        ("workspace_id", json!("Default"), "workspace_id"),
    ] {
        let mut body = fx.request(&jwt);
        body[field] = value;
        fx.exchange(body)
            .await
            .assert_error(400, "invalid_request_error", fragment);
    }
    // None of them was a denial, and the token still exchanges.
    assert!(fx.api.emu.exchange_denials().is_empty());
    fx.exchange(fx.request(&jwt)).await.ok();
}
