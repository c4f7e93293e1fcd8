//! Benchmark: applying a large plan to the emulator with 20 ms of emulated latency per
//! request, serially and with bounded concurrency. Prints the requests made per action and
//! the wall time against the serial floor (requests x 20 ms).
//!
//! Run: `cargo run --release -p orgform-apply --example bench_apply`

#![expect(clippy::print_stdout, reason = "a benchmark prints its figures")]

use std::time::{Duration, Instant};

use indexmap::IndexMap;
use orgform_api::{AdminKey, Client, ClientConfig};
use orgform_apply::{ApplyOptions, apply};
use orgform_emulator::{Emulator, EmulatorConfig, FaultConfig};
use orgform_manifest::{Manifest, MemberSpec, OrganizationSpec, Settings, WorkspaceSpec};
use orgform_model::{OrgRole, Snapshot, WorkspaceRole};
use orgform_plan::PlanOptions;

const LATENCY: Duration = Duration::from_millis(20);

/// A manifest that keeps everyone, changes every fourth person's role, invites 150 people and
/// rewrites the members of the first 30 workspaces.
fn manifest(live: &Snapshot) -> Manifest {
    let mut members: Vec<MemberSpec> = live
        .users
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let role = match (&u.role, i % 4) {
                (OrgRole::Developer, 0) => OrgRole::User,
                (OrgRole::User, 0) => OrgRole::Developer,
                (role, _) => role.clone(),
            };
            MemberSpec {
                email: u.email.clone(),
                role,
                expires: None,
            }
        })
        .collect();
    for invite in &live.invites {
        if invite.status == orgform_model::InviteStatus::Pending {
            members.push(MemberSpec {
                email: invite.email.clone(),
                role: invite.role.clone(),
                expires: None,
            });
        }
    }
    for i in 0..150 {
        members.push(MemberSpec {
            email: format!("new{i}@bench.example"),
            role: OrgRole::User,
            expires: None,
        });
    }
    let grantable: Vec<&str> = live
        .users
        .iter()
        .filter(|u| {
            matches!(
                u.role,
                OrgRole::User | OrgRole::Developer | OrgRole::ClaudeCodeUser
            )
        })
        .map(|u| u.email.as_str())
        .collect();
    let workspaces = live
        .workspaces
        .iter()
        .filter(|w| !w.is_archived())
        .enumerate()
        .map(|(i, w)| WorkspaceSpec {
            name: w.name.clone(),
            id: Some(w.id.clone()),
            display_color: None,
            data_residency: None,
            tags: None,
            members: (i < 30).then(|| {
                let mut map = IndexMap::new();
                for (j, email) in grantable.iter().enumerate().skip(i * 7).take(10) {
                    let role = if j % 2 == 0 {
                        WorkspaceRole::WorkspaceDeveloper
                    } else {
                        WorkspaceRole::WorkspaceUser
                    };
                    map.insert((*email).to_owned(), role.into());
                }
                map
            }),
            archived: false,
        })
        .collect();
    let mut settings = Settings::default();
    settings.limits.max_destructive = 10_000;
    settings.limits.max_destructive_percent = 100;
    Manifest {
        version: 1,
        organization: OrganizationSpec {
            id: live.organization.id.clone(),
            name: None,
            platform: orgform_manifest::Platform::default(),
        },
        settings,
        members,
        workspaces,
        api_keys: Vec::new(),
        federation: orgform_manifest::FederationSpec::default(),
        sources: orgform_manifest::Sources::default(),
    }
}

async fn run(concurrency: usize) -> (usize, usize, Duration) {
    let seed = orgform_emulator::seeds::large(42, 2000, 100, 3000);
    let emulator = Emulator::start(EmulatorConfig {
        seed,
        faults: FaultConfig {
            latency: LATENCY,
            ..FaultConfig::default()
        },
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator");
    let client = Client::new(
        ClientConfig {
            base_url: emulator.base_url(),
            rate_limit: None,
            ..ClientConfig::default()
        },
        AdminKey::new(emulator.admin_key()).expect("key"),
    )
    .expect("client");
    let live = client.fetch_snapshot().await.expect("fetch");
    let manifest = manifest(&live);
    let options = PlanOptions {
        clock_skew: None,
        allow_destructive: None,
        now: emulator.now(),
        manifest_digest: "sha256:bench".into(),
        pipeline: orgform_plan::Pipeline::default(),
        no_access: None,
    };
    let plan = orgform_plan::plan(&manifest, &live, &options);
    assert!(!plan.is_refused(), "{:?}", plan.refusals);
    emulator.clear_request_log();
    let started = Instant::now();
    let report = apply(
        &plan,
        &client,
        &ApplyOptions {
            concurrency,
            ..Default::default()
        },
        &|_| {},
    )
    .await
    .expect("the planner's actions are well formed");
    let elapsed = started.elapsed();
    assert!(!report.has_failures(), "{}", report.to_text());
    let requests = emulator.request_log().len();
    let after = client.fetch_snapshot().await.expect("fetch");
    assert!(
        !orgform_plan::plan(&manifest, &after, &options).has_changes(),
        "converged"
    );
    emulator.shutdown().await;
    (plan.actions.len(), requests, elapsed)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    println!("apply benchmark: 2,000 users, 100 workspaces, 3,000 keys; 20 ms latency per request");
    for concurrency in [1, 4, 8] {
        let (actions, requests, elapsed) = run(concurrency).await;
        let floor = LATENCY * u32::try_from(requests).unwrap_or(u32::MAX);
        println!(
            "concurrency {concurrency}: {actions} actions, {requests} requests ({:.2} per action), \
             {:.2} s wall, serial floor {:.2} s, {:.1}x faster than serial",
            f64::from(u32::try_from(requests).unwrap_or(u32::MAX))
                / f64::from(u32::try_from(actions).unwrap_or(u32::MAX)),
            elapsed.as_secs_f64(),
            floor.as_secs_f64(),
            floor.as_secs_f64() / elapsed.as_secs_f64()
        );
    }
}
