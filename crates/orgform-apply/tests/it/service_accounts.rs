//! Service accounts end to end against the emulator: create, update, archive, grants (in a
//! workspace created by the same plan too), re-plan empty, drift, limits, protection, the
//! same under injected faults, and the refusal to plan them from a read that does not hold
//! them.

use std::time::Duration;

use orgform_api::{AdminKey, Backoff, Client, ClientConfig};
use orgform_apply::ApplyOptions;
use orgform_emulator::readings::ServiceAccountNames;
use orgform_emulator::{Emulator, EmulatorConfig, FaultConfig, Readings, seeds};
use orgform_manifest::{Manifest, load_str};
use orgform_model::{
    Identities, ServiceAccount, ServiceAccountMember, ServiceAccountRole, Snapshot, WorkspaceRole,
};
use orgform_plan::{DestructiveKind, Op, Plan, PlanErrorKind, PlanOptions, Refusal};

const HEAD: &str = "version: 1
organization:
  id: 4f6b2a1e-8c3d-4e5f-9a7b-1c2d3e4f5a6b
settings:
  members: {unmanaged: ignore}
  invites: {unmanaged: ignore}
  workspaces: {unmanaged: ignore}
  workspace_members: {unmanaged: remove}
";

fn sa(id: &str, name: &str, role: ServiceAccountRole, description: Option<&str>) -> ServiceAccount {
    ServiceAccount {
        id: id.into(),
        name: name.into(),
        description: description.map(str::to_owned),
        organization_role: role,
        created_at: "2026-01-01T00:00:00Z".parse().unwrap(),
        archived_at: None,
    }
}

/// The small seed with three service accounts; `keep-bot` is a `workspace_user` of
/// Production and `stray-bot` a `workspace_developer` there.
fn seed() -> Snapshot {
    let mut seed = seeds::small();
    let production = seed
        .workspaces
        .iter()
        .find(|w| w.name == "Production")
        .unwrap()
        .id
        .clone();
    seed.identities = Some(Identities {
        service_accounts: vec![
            sa(
                "svac_keep",
                "keep-bot",
                ServiceAccountRole::Developer,
                Some("old words"),
            ),
            sa("svac_old", "old-bot", ServiceAccountRole::Developer, None),
            sa(
                "svac_stray",
                "stray-bot",
                ServiceAccountRole::Developer,
                None,
            ),
        ],
        service_account_members: vec![
            ServiceAccountMember {
                workspace_id: production.clone(),
                service_account_id: "svac_keep".into(),
                workspace_role: WorkspaceRole::WorkspaceUser,
            },
            ServiceAccountMember {
                workspace_id: production,
                service_account_id: "svac_stray".into(),
                workspace_role: WorkspaceRole::WorkspaceDeveloper,
            },
        ],
        ..Identities::default()
    });
    seed
}

const MANIFEST: &str = "service_accounts:
  - name: ci-bot
    description: deploys
    organization_role: admin
  - name: keep-bot
    description: new words
  - name: old-bot
    archived: true
  - name: stray-bot
workspaces:
  - name: Production
    service_accounts:
      ci-bot: workspace_developer
      keep-bot: workspace_admin
  - name: SA Lab
    service_accounts:
      ci-bot: workspace_user
";

fn manifest(extra_settings: &str, body: &str) -> Manifest {
    load_str("t.yaml", &format!("{HEAD}{extra_settings}{body}"))
        .unwrap()
        .manifest
}

fn options(allow_protected: bool) -> PlanOptions {
    PlanOptions {
        allow_destructive: None,
        now: "2026-06-01T00:00:00Z".parse().unwrap(),
        clock_skew: None,
        manifest_digest: String::new(),
        archive_protected_service_accounts: allow_protected,
        no_access: None,
        pipeline: orgform_plan::Pipeline::default(),
    }
}

async fn emulator() -> Emulator {
    emulator_with(Readings::default(), FaultConfig::default()).await
}

async fn emulator_with(readings: Readings, faults: FaultConfig) -> Emulator {
    Emulator::start(EmulatorConfig {
        seed: seed(),
        test_controls: true,
        readings,
        faults,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap()
}

/// A client whose credential is a bearer token (the admin key sent as one, which the
/// emulator accepts as an `org:admin` token), or the admin key itself.
fn client(emu: &Emulator, bearer: bool) -> Client {
    client_retrying(emu, bearer, 2)
}

fn client_retrying(emu: &Emulator, bearer: bool, max_retries: u32) -> Client {
    let key = if bearer {
        AdminKey::bearer(emu.admin_key()).unwrap()
    } else {
        AdminKey::new(emu.admin_key()).unwrap()
    };
    Client::new(
        ClientConfig {
            base_url: emu.base_url(),
            rate_limit: None,
            max_retries,
            timeout: Duration::from_secs(10),
            backoff: Backoff {
                initial: Duration::from_millis(1),
                max: Duration::from_millis(5),
            },
            ..ClientConfig::default()
        },
        key,
    )
    .unwrap()
}

async fn plan_with(client: &Client, m: &Manifest, options: &PlanOptions) -> Plan {
    let live = client.fetch_snapshot().await.unwrap();
    orgform_plan::plan(m, &live, options)
}

async fn apply(client: &Client, plan: &Plan) {
    let report = orgform_apply::apply(plan, client, &ApplyOptions::default(), &|_| {})
        .await
        .unwrap();
    assert!(
        report.actions.iter().all(|a| a.outcome.is_success()),
        "{report:#?}"
    );
}

fn ops(plan: &Plan) -> Vec<&str> {
    plan.actions.iter().map(|a| a.op.name()).collect()
}

#[tokio::test]
async fn create_update_archive_and_grant_then_replan_is_empty() {
    let emu = emulator().await;
    let c = client(&emu, true);
    let m = manifest("", MANIFEST);
    let first = plan_with(&c, &m, &options(false)).await;
    assert!(first.errors.is_empty(), "{:#?}", first.errors);
    assert_eq!(
        ops(&first),
        [
            "create_workspace",
            "create_service_account",
            "update_service_account",
            "update_service_account_member",
            "add_service_account_member",
            "add_service_account_member",
            "remove_service_account_member",
            "archive_service_account",
        ]
    );
    let archive = first.actions.last().unwrap();
    assert!(archive.destructive && archive.irreversible);
    let drift = orgform_plan::drift(&m, &c.fetch_snapshot().await.unwrap(), &options(false));
    assert!(drift.has_drift());
    apply(&c, &first).await;

    let again = plan_with(&c, &m, &options(false)).await;
    assert!(again.actions.is_empty(), "{:#?}", again.actions);
    let drift = orgform_plan::drift(&m, &c.fetch_snapshot().await.unwrap(), &options(false));
    assert!(!drift.has_drift());
    let ids = emu.state_read_by_token().identities.unwrap();
    let by_name = |n: &str| ids.service_accounts.iter().find(|s| s.name == n).unwrap();
    assert_eq!(
        by_name("ci-bot").organization_role,
        ServiceAccountRole::Admin
    );
    assert_eq!(
        by_name("keep-bot").description.as_deref(),
        Some("new words")
    );
    assert!(by_name("old-bot").is_archived());
    assert!(
        !by_name("stray-bot").is_archived(),
        "declared, never archived"
    );
    let ci = &by_name("ci-bot").id;
    assert_eq!(
        ids.service_account_members
            .iter()
            .filter(|m| m.service_account_id == *ci)
            .count(),
        2,
        "granted in Production and in the workspace created by the same plan"
    );
}

#[tokio::test]
async fn an_admin_key_read_is_a_plan_error_never_a_plan() {
    let emu = emulator().await;
    let before = emu.state_read_by_token();
    let p = plan_with(
        &client(&emu, false),
        &manifest("", MANIFEST),
        &options(false),
    )
    .await;
    assert!(p.actions.is_empty());
    let e = p
        .errors
        .iter()
        .find(|e| e.kind == PlanErrorKind::IdentitiesNotRead)
        .expect("the error");
    assert!(e.message.contains("bearer token"), "{}", e.message);
    assert!(e.hint.as_deref().unwrap().contains("--auth-token-file"));
    // A manifest without service accounts plans as before from the same read.
    let plain = plan_with(&client(&emu, false), &manifest("", ""), &options(false)).await;
    assert!(plain.errors.is_empty(), "{:#?}", plain.errors);
    assert_eq!(emu.state_read_by_token(), before);
}

#[tokio::test]
async fn a_protected_service_account_is_archived_only_with_the_override() {
    let emu = emulator().await;
    let c = client(&emu, true);
    let body = "service_accounts:\n  - name: old-bot\n    archived: true\n";
    let m = manifest("  protected_service_accounts: [old-bot]\n", body);
    let held = plan_with(&c, &m, &options(false)).await;
    assert!(held.actions.is_empty(), "{:#?}", held.actions);
    assert!(
        held.blocked
            .iter()
            .any(|b| b.target == "service account old-bot")
    );
    let allowed = plan_with(&c, &m, &options(true)).await;
    assert_eq!(ops(&allowed), ["archive_service_account"]);
    apply(&c, &allowed).await;
    assert!(
        emu.state_read_by_token()
            .identities
            .unwrap()
            .service_accounts[1]
            .is_archived()
    );
}

#[tokio::test]
async fn archives_count_against_their_own_limit() {
    let emu = emulator().await;
    let c = client(&emu, true);
    let body = "service_accounts:\n  - name: old-bot\n    archived: true\n  - name: stray-bot\n    archived: true\n";
    let m = manifest("  limits: {max_destructive: 1}\n", body);
    let p = plan_with(&c, &m, &options(false)).await;
    assert!(p.refusals.iter().any(|r| matches!(
        r,
        Refusal::DestructiveLimit {
            destructive_kind: DestructiveKind::ServiceAccountArchives,
            count: 2,
            limit: 1,
            ..
        }
    )));
    let before = emu.state_read_by_token();
    let report = orgform_apply::apply(&p, &c, &ApplyOptions::default(), &|_| {})
        .await
        .unwrap();
    assert!(report.actions.iter().all(|a| !a.outcome.is_success()));
    assert_eq!(
        emu.state_read_by_token(),
        before,
        "a refused plan changes nothing"
    );
}

/// A read that lost service accounts (or a tampered snapshot without them) never archives:
/// only `archived: true` archives, and an undeclared service account is only reported.
#[test]
fn a_snapshot_missing_service_accounts_never_yields_an_archive() {
    let m = manifest(
        "",
        "service_accounts:\n  - name: keep-bot\n  - name: ci-bot\n",
    );
    let mut live = seed();
    live.identities
        .as_mut()
        .unwrap()
        .service_accounts
        .retain(|s| s.name == "stray-bot");
    live.identities
        .as_mut()
        .unwrap()
        .service_account_members
        .clear();
    let p = orgform_plan::plan(&m, &live, &options(true));
    assert!(
        p.actions
            .iter()
            .all(|a| !matches!(a.op, Op::ArchiveServiceAccount { .. })),
        "{:#?}",
        p.actions
    );
    assert_eq!(
        ops(&p),
        ["create_service_account", "create_service_account"]
    );
    assert!(
        p.unmanaged
            .iter()
            .any(|u| u.target == "service account stray-bot")
    );
}

/// Creating a service account, updating one, granting it (in a workspace the same plan
/// creates too), removing an undeclared grant and archiving converge under each fault kind
/// (429, 500, 529, a connection dropped before or after the write is applied), under both
/// readings of whether an archived name stays taken: exactly one `ci-bot`, no write done
/// twice, and the next plan is empty.
#[tokio::test]
async fn creation_grants_and_archives_converge_under_faults_under_both_name_readings() {
    let m = manifest("", MANIFEST);
    let mut injected = 0;
    for names in [ServiceAccountNames::Taken, ServiceAccountNames::Freed] {
        for (i, kind) in crate::common::fault_kinds().into_iter().enumerate() {
            let readings = Readings {
                service_account_names: names,
                ..Readings::default()
            };
            let faults = FaultConfig {
                seed: 170 + i as u64,
                rate: 0.3,
                kinds: vec![kind.clone()],
                ..FaultConfig::default()
            };
            let emu = emulator_with(readings, faults).await;
            let c = client_retrying(&emu, true, 6);
            let mut converged = false;
            for _ in 0..6 {
                let Ok(live) = c.fetch_snapshot().await else {
                    continue;
                };
                let p = orgform_plan::plan(&m, &live, &options(false));
                assert!(
                    p.errors.is_empty() && p.refusals.is_empty() && p.blocked.is_empty(),
                    "{names:?} {kind:?}: {p:#?}"
                );
                if p.actions.is_empty() {
                    converged = true;
                    break;
                }
                orgform_apply::apply(&p, &c, &ApplyOptions::default(), &|_| {})
                    .await
                    .unwrap();
            }
            assert!(converged, "{names:?} {kind:?}: did not converge");
            let log = emu.request_log();
            injected += log.iter().filter(|e| e.fault.is_some()).count();
            let twice = crate::common::duplicated_writes(&log);
            assert!(twice.is_empty(), "{names:?} {kind:?}: {twice:#?}");
            let ids = emu.state_read_by_token().identities.unwrap();
            let named = |n: &str| ids.service_accounts.iter().filter(|s| s.name == n).count();
            assert_eq!(named("ci-bot"), 1, "{names:?} {kind:?}: one ci-bot");
            assert_eq!(ids.service_accounts.len(), 4, "{names:?} {kind:?}");
            let ci = ids
                .service_accounts
                .iter()
                .find(|s| s.name == "ci-bot")
                .unwrap();
            assert_eq!(ci.organization_role, ServiceAccountRole::Admin);
            assert_eq!(
                ids.service_account_members
                    .iter()
                    .filter(|m| m.service_account_id == ci.id)
                    .count(),
                2,
                "{names:?} {kind:?}: both grants"
            );
            assert!(
                ids.service_accounts
                    .iter()
                    .any(|s| s.name == "old-bot" && s.is_archived())
            );
            assert!(
                !ids.service_account_members
                    .iter()
                    .any(|m| m.service_account_id == "svac_stray"),
                "{names:?} {kind:?}: the undeclared grant is removed"
            );
        }
    }
    assert!(injected >= 20, "only {injected} faults were injected");
}
