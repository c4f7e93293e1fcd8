//! Federation end to end against the emulator, with an OAuth bearer token: create, update,
//! archive, re-plan empty each time, drift, the destructive limit and protection, under
//! faults, and an inconsistent read that never archives.

use std::time::Duration;

use orgform_api::{AdminKey, Backoff, Client, ClientConfig};
use orgform_emulator::{Emulator, EmulatorConfig, Fault, FaultConfig, Readings};
use orgform_manifest::{Manifest, load_str};
use orgform_model::{ServiceAccount, ServiceAccountRole, Snapshot};

use orgform_plan::{DriftCategory, Pipeline, Plan, PlanOptions, drift, plan};

use crate::common::{apply, fault_kinds};

const HEAD: &str = "version: 1\norganization:\n  id: ORG\nservice_accounts:\n  - name: ci\nworkspaces:\n  - name: Production\n  - name: Staging\n";

fn seed() -> Snapshot {
    let mut s = orgform_emulator::seeds::small();
    s.identities = Some(orgform_model::Identities {
        service_accounts: vec![ServiceAccount {
            id: "svac_01CiDeployer000000000000".into(),
            name: "ci".into(),
            description: None,
            organization_role: ServiceAccountRole::Developer,
            created_at: "2026-01-01T00:00:00Z".parse().unwrap(),
            archived_at: None,
        }],
        ..Default::default()
    });
    s
}

async fn emulator(faults: FaultConfig) -> Emulator {
    Emulator::start(EmulatorConfig {
        seed: seed(),
        clock_start: "2026-11-01T00:00:00Z".parse().unwrap(),
        faults,
        test_controls: true,
        readings: Readings::default(),
        ..EmulatorConfig::default()
    })
    .await
    .expect("the emulator starts")
}

/// A client with the admin key sent as a bearer token (an `org:admin` OAuth token).
fn bearer_client(emu: &Emulator) -> Client {
    Client::new(
        ClientConfig {
            base_url: emu.base_url(),
            rate_limit: None,
            max_retries: 6,
            timeout: Duration::from_secs(10),
            backoff: Backoff {
                initial: Duration::from_millis(1),
                max: Duration::from_millis(5),
            },
            ..ClientConfig::default()
        },
        AdminKey::bearer(emu.admin_key()).unwrap(),
    )
    .unwrap()
}

fn manifest(emu: &Emulator, body: &str) -> Manifest {
    let org = emu.state().organization.id;
    load_str("t.yaml", &format!("{}{body}", HEAD.replace("ORG", &org)))
        .unwrap_or_else(|e| panic!("{}", orgform_manifest::render_problems(&e.problems, false)))
        .manifest
}

fn options() -> PlanOptions {
    PlanOptions {
        allow_destructive: None,
        now: "2026-11-01T00:00:00Z".parse().unwrap(),
        clock_skew: None,
        manifest_digest: "sha256:t".into(),
        archive_protected_service_accounts: false,
        no_access: None,
        pipeline: Pipeline::default(),
    }
}

const V1: &str = "federation:\n  issuers:\n    - name: lab\n      issuer_url: https://idp.acme.example\n      jwks:\n        keys:\n          - {kty: RSA, kid: k1, n: modulus-one, e: AQAB}\n  rules:\n    - name: deploy\n      issuer: lab\n      service_account: ci\n      oauth_scope: workspace:developer\n      match: {subject_prefix: \"system:serviceaccount:ci:deployer\"}\n      workspaces: [Production, Staging]\n";

async fn live(client: &Client) -> Snapshot {
    client.fetch_snapshot().await.expect("the read succeeds")
}

async fn plan_apply(client: &Client, m: &Manifest) -> Plan {
    let p = plan(m, &live(client).await, &options());
    assert!(p.errors.is_empty() && p.refusals.is_empty(), "{p:#?}");
    let report = apply(client, &p, 4).await;
    assert!(!report.has_failures(), "{report:#?}");
    p
}

async fn converged(client: &Client, m: &Manifest) {
    let again = plan(m, &live(client).await, &options());
    assert!(again.actions.is_empty(), "{:#?}", again.actions);
}

fn names(p: &Plan) -> Vec<&str> {
    p.actions.iter().map(|a| a.op.name()).collect()
}

#[tokio::test]
async fn create_update_archive_each_converge() {
    let emu = emulator(FaultConfig::default()).await;
    let client = bearer_client(&emu);
    let m1 = manifest(&emu, V1);
    let p = plan_apply(&client, &m1).await;
    assert_eq!(
        names(&p),
        ["create_federation_issuer", "create_federation_rule"]
    );
    converged(&client, &m1).await;
    let state = emu.state_read_by_token();
    let rule = &state.identities.as_ref().unwrap().federation_rules[0];
    assert_eq!(rule.workspace_ids.len(), 2);
    // The snapshot holds the digest, never the key document.
    assert!(
        !serde_json::to_string(&state)
            .unwrap()
            .contains("modulus-one")
    );

    // Update: new keys, a longer token, one workspace fewer.
    let v2 = V1.replace("modulus-one", "modulus-two").replace(
        "workspaces: [Production, Staging]",
        "workspaces: [Staging]\n      token_lifetime_seconds: 900",
    );
    let m2 = manifest(&emu, &v2);
    let p = plan_apply(&client, &m2).await;
    assert_eq!(
        names(&p),
        [
            "update_federation_issuer",
            "update_federation_rule",
            "disable_federation_rule_workspace"
        ]
    );
    converged(&client, &m2).await;

    // Archive both: the rule first, then its issuer.
    let v3 = v2
        .replace(
            "      issuer_url: https://idp.acme.example\n",
            "      issuer_url: https://idp.acme.example\n      archived: true\n",
        )
        .replace(
            "      token_lifetime_seconds: 900\n",
            "      token_lifetime_seconds: 900\n      archived: true\n",
        );
    let m3 = manifest(
        &emu,
        &format!("settings:\n  limits: {{max_destructive_percent: 100}}\n{v3}"),
    );
    let p = plan_apply(&client, &m3).await;
    assert_eq!(
        names(&p),
        ["archive_federation_rule", "archive_federation_issuer"]
    );
    converged(&client, &m3).await;
}

#[tokio::test]
async fn drift_and_limits() {
    let emu = emulator(FaultConfig::default()).await;
    let client = bearer_client(&emu);
    let m1 = manifest(&emu, &V1.replace("      jwks:\n        keys:\n          - {kty: RSA, kid: k1, n: modulus-one, e: AQAB}\n", ""));
    plan_apply(&client, &m1).await;
    // A change made outside orgform is drift.
    let mut changed = live(&client).await;
    changed.identities.as_mut().unwrap().federation_rules[0].token_lifetime_seconds = 60;
    let m_lifetime = manifest(
        &emu,
        &V1.replace("      jwks:\n        keys:\n          - {kty: RSA, kid: k1, n: modulus-one, e: AQAB}\n", "")
            .replace("workspaces: [Production, Staging]", "workspaces: [Production, Staging]\n      token_lifetime_seconds: 3600"),
    );
    let report = drift(&m_lifetime, &changed, &options());
    assert!(report.has_drift());
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.category == DriftCategory::Changed && f.object.contains("deploy")),
        "{:#?}",
        report.findings
    );
    // A destructive limit of zero refuses archiving the rule.
    let archive = manifest(
        &emu,
        &format!(
            "settings:\n  limits: {{max_destructive: 0}}\n{}",
            m_lifetime_text().replace("workspaces: [Production, Staging]", "archived: true")
        ),
    );
    let p = plan(&archive, &live(&client).await, &options());
    assert_eq!(p.refusals.len(), 1, "{p:#?}");
}

fn m_lifetime_text() -> String {
    V1.replace(
        "      jwks:\n        keys:\n          - {kty: RSA, kid: k1, n: modulus-one, e: AQAB}\n",
        "",
    )
}

#[tokio::test]
async fn the_pipelines_rule_is_not_archived_and_an_admin_key_read_plans_nothing() {
    let emu = emulator(FaultConfig::default()).await;
    let client = bearer_client(&emu);
    let m1 = manifest(&emu, &m_lifetime_text());
    plan_apply(&client, &m1).await;
    let rule_id = emu
        .state_read_by_token()
        .identities
        .unwrap()
        .federation_rules[0]
        .id
        .clone();
    let archive = manifest(
        &emu,
        &format!(
            "settings:\n  limits: {{max_destructive_percent: 100}}\n{}",
            m_lifetime_text().replace("workspaces: [Production, Staging]", "archived: true")
        ),
    );
    let protected = PlanOptions {
        pipeline: Pipeline {
            federation_rule_id: Some(rule_id),
            service_account_id: None,
        },
        ..options()
    };
    let p = plan(&archive, &live(&client).await, &protected);
    assert!(p.actions.is_empty(), "{:#?}", p.actions);
    assert_eq!(p.blocked.len(), 1);
    // With an admin key nothing of federation is read: a plan error, nothing archived.
    let key_client = crate::common::client(&emu, 2);
    let read = key_client.fetch_snapshot().await.unwrap();
    assert!(read.identities.is_none());
    let p = plan(&archive, &read, &options());
    assert!(p.actions.is_empty() && !p.errors.is_empty());
}

#[tokio::test]
async fn creation_converges_under_faults() {
    for (i, kind) in fault_kinds().into_iter().enumerate() {
        let emu = emulator(FaultConfig {
            seed: 70 + i as u64,
            rate: 0.3,
            kinds: vec![kind.clone()],
            ..FaultConfig::default()
        })
        .await;
        let client = bearer_client(&emu);
        let m = manifest(&emu, V1);
        let mut done = false;
        for _ in 0..5 {
            let Ok(snapshot) = client.fetch_snapshot().await else {
                continue;
            };
            let p = plan(&m, &snapshot, &options());
            assert!(p.errors.is_empty(), "{p:#?}");
            if p.actions.is_empty() {
                done = true;
                break;
            }
            apply(&client, &p, 2).await;
        }
        assert!(done, "{kind:?}: did not converge");
        let ids = emu.state_read_by_token().identities.unwrap();
        assert_eq!(ids.federation_issuers.len(), 1, "{kind:?}: one issuer");
        assert_eq!(ids.federation_rules.len(), 1, "{kind:?}: one rule");
        if matches!(kind, Fault::DropAfterApply) {
            assert_eq!(ids.federation_rules[0].workspace_ids.len(), 2);
        }
    }
}
