//! Random organizations and manifests, applied under injected faults: within three applies
//! the re-plan is empty, and no write is ever made twice.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::common::{client, duplicated_writes, emulator, fault_kinds, report_line};
use indexmap::IndexMap;
use orgform_emulator::{FaultConfig, Readings};
use orgform_manifest::{
    ApiKeySpec, InvitePolicy, Manifest, MemberPolicy, MemberSpec, OrganizationSpec, Settings,
    WorkspaceSpec,
};
use orgform_model::{
    ApiKey, ApiKeyStatus, Invite, InviteStatus, OrgRole, Organization, Snapshot, User, Workspace,
    WorkspaceMember, WorkspaceRole,
};
use orgform_plan::PlanOptions;
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};

const ORG: &str = "6f0c2a4e-0000-4000-8000-000000000001";
const ROLES: [OrgRole; 4] = [
    OrgRole::User,
    OrgRole::Developer,
    OrgRole::ClaudeCodeUser,
    OrgRole::Billing,
];
const WS_ROLES: [WorkspaceRole; 3] = [
    WorkspaceRole::WorkspaceUser,
    WorkspaceRole::WorkspaceDeveloper,
    WorkspaceRole::WorkspaceAdmin,
];

fn ts(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

fn id(prefix: &str, n: usize) -> String {
    format!("{prefix}_01{n:0>22}")
}

/// Everything random about one case, drawn as plain numbers.
#[derive(Debug, Clone)]
struct Case {
    users: Vec<(usize, bool, usize)>, // (live role, listed, wanted role)
    invites: usize,
    new_people: Vec<usize>,
    workspaces: Vec<(Vec<(usize, usize)>, bool)>, // (live members (user, role), manage members)
    wanted_members: Vec<Vec<(usize, usize)>>,     // per workspace: (person index, role)
    keys: Vec<(usize, bool, bool)>, // (workspace index or default, live active, want active)
    new_workspace: bool,
    remove_unlisted: bool,
    revoke_unlisted: bool,
    fault_seed: u64,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec((0..4usize, prop::bool::weighted(0.8), 0..4usize), 0..6),
        0..3usize,
        prop::collection::vec(0..4usize, 0..3),
        prop::collection::vec(
            (
                prop::collection::vec((0..6usize, 0..3usize), 0..4),
                any::<bool>(),
            ),
            0..3,
        ),
        prop::collection::vec(prop::collection::vec((0..9usize, 0..3usize), 0..4), 3),
        prop::collection::vec((0..4usize, any::<bool>(), any::<bool>()), 0..4),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(
            |(
                users,
                invites,
                new_people,
                workspaces,
                wanted_members,
                keys,
                new_workspace,
                remove_unlisted,
                revoke_unlisted,
                fault_seed,
            )| Case {
                users,
                invites,
                new_people,
                workspaces,
                wanted_members,
                keys,
                new_workspace,
                remove_unlisted,
                revoke_unlisted,
                fault_seed,
            },
        )
}

fn build(case: &Case) -> (Snapshot, Manifest) {
    let t0 = ts("2026-01-01T00:00:00Z");
    let mut seed = Snapshot {
        organization: Organization {
            id: ORG.into(),
            name: "Acme".into(),
        },
        ..Snapshot::default()
    };
    let mut members = vec![MemberSpec {
        email: "root@acme.example".into(),
        role: OrgRole::Admin,
        expires: None,
    }];
    seed.users.push(User {
        id: id("user", 999),
        email: "root@acme.example".into(),
        name: "root".into(),
        role: OrgRole::Admin,
        added_at: t0,
    });
    // People who may appear in workspace member maps: listed, non-billing.
    let mut grantable: Vec<(String, Option<String>)> = Vec::new();
    for (i, (live, listed, wanted)) in case.users.iter().enumerate() {
        let email = format!("u{i}@acme.example");
        let user_id = id("user", i);
        seed.users.push(User {
            id: user_id.clone(),
            email: email.clone(),
            name: format!("u{i}"),
            role: ROLES[*live].clone(),
            added_at: t0,
        });
        if *listed {
            members.push(MemberSpec {
                email: email.clone(),
                role: ROLES[*wanted].clone(),
                expires: None,
            });
            if ROLES[*wanted] != OrgRole::Billing && ROLES[*live] != OrgRole::Billing {
                grantable.push((email, Some(user_id)));
            }
        }
    }
    for i in 0..case.invites {
        seed.invites.push(Invite {
            id: id("invite", i),
            email: format!("inv{i}@acme.example"),
            role: OrgRole::User,
            status: InviteStatus::Pending,
            invited_at: ts("2026-05-25T00:00:00Z"),
            expires_at: ts("2026-06-15T00:00:00Z"),
            accepted_at: None,
        });
        if i == 0 {
            members.push(MemberSpec {
                email: format!("inv{i}@acme.example"),
                role: OrgRole::Developer,
                expires: None,
            });
        }
    }
    for (i, role) in case.new_people.iter().enumerate() {
        let email = format!("new{i}@acme.example");
        members.push(MemberSpec {
            email: email.clone(),
            role: ROLES[*role % 3].clone(),
            expires: None,
        });
        grantable.push((email, None));
    }
    let mut workspaces = Vec::new();
    for (w, (live_members, manage)) in case.workspaces.iter().enumerate() {
        let ws_id = id("wrkspc", w);
        seed.workspaces.push(Workspace {
            id: ws_id.clone(),
            name: format!("ws{w}"),
            created_at: t0,
            archived_at: None,
            display_color: "#123456".into(),
            data_residency: None,
            tags: BTreeMap::new(),
        });
        let mut added = std::collections::BTreeSet::new();
        for (u, role) in live_members {
            if let Some((live, _, _)) = case.users.get(*u)
                && ROLES[*live] != OrgRole::Billing
                && added.insert(*u)
            {
                seed.workspace_members.push(WorkspaceMember {
                    workspace_id: ws_id.clone(),
                    user_id: id("user", *u),
                    workspace_role: WS_ROLES[*role].clone(),
                });
            }
        }
        let wanted = manage.then(|| {
            let mut map = IndexMap::new();
            for (p, role) in &case.wanted_members[w] {
                if let Some((email, _)) = grantable.get(*p) {
                    map.insert(email.clone(), WS_ROLES[*role].clone().into());
                }
            }
            map
        });
        workspaces.push(WorkspaceSpec {
            name: format!("ws{w}"),
            id: None,
            display_color: None,
            data_residency: None,
            tags: None,
            members: wanted,
            archived: false,
        });
    }
    if case.new_workspace {
        let mut map = IndexMap::new();
        if let Some((email, _)) = grantable.first() {
            map.insert(email.clone(), WorkspaceRole::WorkspaceDeveloper.into());
        }
        workspaces.push(WorkspaceSpec {
            name: "fresh".into(),
            id: None,
            display_color: Some("#654321".into()),
            data_residency: None,
            tags: Some(BTreeMap::from([("team".into(), "new".into())])),
            members: Some(map),
            archived: false,
        });
    }
    let mut api_keys = Vec::new();
    for (k, (ws, live_active, want_active)) in case.keys.iter().enumerate() {
        let workspace_id = (*ws < case.workspaces.len()).then(|| id("wrkspc", *ws));
        let status = |active: bool| {
            if active {
                ApiKeyStatus::Active
            } else {
                ApiKeyStatus::Inactive
            }
        };
        seed.api_keys.push(ApiKey {
            id: id("apikey", k),
            name: format!("key{k}"),
            created_at: t0,
            created_by: None,
            partial_key_hint: None,
            status: status(*live_active),
            expires_at: None,
            workspace_id,
        });
        api_keys.push(ApiKeySpec {
            id: Some(id("apikey", k)),
            name: None,
            workspace: None,
            status: Some(status(*want_active)),
        });
    }
    let mut settings = Settings::default();
    settings.members.unmanaged = if case.remove_unlisted {
        MemberPolicy::Remove
    } else {
        MemberPolicy::Report
    };
    settings.invites.unmanaged = if case.revoke_unlisted {
        InvitePolicy::Revoke
    } else {
        InvitePolicy::Report
    };
    settings.limits.max_destructive = 100;
    settings.limits.max_destructive_percent = 100;
    let manifest = Manifest {
        version: 1,
        organization: OrganizationSpec {
            id: ORG.into(),
            name: None,
            platform: orgform_manifest::Platform::default(),
        },
        settings,
        members,
        workspaces,
        api_keys,
        federation: orgform_manifest::FederationSpec::default(),
        sources: orgform_manifest::Sources::default(),
    };
    (seed, manifest)
}

/// Random organizations per reading: the default, every switch flipped, and all flipped.
const CASES_PER_READING: u32 = 24;

/// Applies one random case to an emulator reading the undocumented points as `readings`
/// says, under faults: it converges within three applies and no write is made twice.
fn converges(case: &Case, readings: Readings) -> Result<(), String> {
    let (seed, manifest) = build(case);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let now = ts("2026-06-01T00:00:00Z");
        let faults = FaultConfig {
            seed: case.fault_seed,
            rate: 0.2,
            kinds: fault_kinds(),
            ..FaultConfig::default()
        };
        let emu = emulator(seed, now, faults, readings).await;
        let client = client(&emu, 4);
        let options = PlanOptions {
            clock_skew: None,
            allow_destructive: None,
            now,
            manifest_digest: "sha256:test".into(),
            pipeline: orgform_plan::Pipeline::default(),
            no_access: None,
        };
        let mut converged = false;
        for _ in 0..4 {
            let Ok(live) = client.fetch_snapshot().await else {
                continue;
            };
            let plan = orgform_plan::plan(&manifest, &live, &options);
            if plan.is_refused() {
                return Err(format!("refused: {:?} {:?}", plan.errors, plan.refusals));
            }
            if !plan.has_changes() {
                converged = true;
                break;
            }
            let opts = orgform_apply::ApplyOptions {
                concurrency: 3,
                ..Default::default()
            };
            orgform_apply::apply(&plan, &client, &opts, &|_| {})
                .await
                .map_err(|e| format!("malformed plan: {e}"))?;
        }
        let dups = duplicated_writes(&emu.request_log());
        emu.shutdown().await;
        if !converged {
            return Err("not converged after three applies".into());
        }
        if !dups.is_empty() {
            return Err(format!("writes done twice: {dups:?}"));
        }
        Ok(())
    })
}

#[test]
fn random_orgs_converge_under_faults_under_every_reading() {
    let started = Instant::now();
    let mut failures = Vec::new();
    let profiles = Readings::profiles();
    for (profile, readings) in &profiles {
        let clock = Instant::now();
        let cases = CASES_PER_READING;
        let mut runner = TestRunner::new(ProptestConfig {
            cases,
            failure_persistence: None,
            ..ProptestConfig::default()
        });
        let result = runner.run(&case(), |case| {
            converges(&case, *readings).map_err(TestCaseError::fail)
        });
        report_line(&format!(
            "readings {profile:<24} {}: {cases} random organizations under faults ({} ms)",
            if result.is_ok() { "ok" } else { "FAILED" },
            clock.elapsed().as_millis()
        ));
        if let Err(e) = result {
            failures.push(format!("[{profile}] {e}"));
        }
    }
    report_line(&format!(
        "readings matrix (random organizations): {} profiles in {:.1} s, {} failures",
        profiles.len(),
        started.elapsed().as_secs_f64(),
        failures.len()
    ));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
