//! Planning time for a large organization: 10,000 members, 100 workspaces (about 20,000
//! explicit memberships), 10,000 keys, 500 invites, and a manifest that matches most of it
//! with a few hundred differences of every kind.
//!
//! Run in release mode and read the printed figures:
//!
//! ```text
//! cargo run --release -p orgform-plan --example bench_plan
//! ```
//!
//! `BENCH_PLAN_ONLY=N` only plans, N times (for a profiler).

#![expect(clippy::print_stdout, reason = "a benchmark prints its figures")]

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use orgform_manifest::{
    ApiKeySpec, Manifest, MemberPolicy, MemberSpec, OrganizationSpec, Platform, Settings,
    WorkspaceSpec,
};
use orgform_model::{
    ActorRef, ApiKey, ApiKeyStatus, Invite, InviteStatus, OrgRole, Organization, Snapshot,
    Timestamp, User, Workspace, WorkspaceMember, WorkspaceRole,
};
use orgform_plan::{PlanOptions, drift, plan, render};

const USERS: usize = 10_000;
const WORKSPACES: usize = 100;
const KEYS: usize = 10_000;
const INVITES: usize = 500;
const ORG: &str = "6f0c2a4e-0000-4000-8000-000000000001";

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn role(i: usize) -> OrgRole {
    match i % 10 {
        0 => OrgRole::Admin,
        1 | 2 => OrgRole::Developer,
        3 => OrgRole::Billing,
        4 => OrgRole::ClaudeCodeUser,
        _ => OrgRole::User,
    }
}

fn ws_role(i: usize) -> WorkspaceRole {
    match i % 3 {
        0 => WorkspaceRole::WorkspaceUser,
        1 => WorkspaceRole::WorkspaceDeveloper,
        _ => WorkspaceRole::WorkspaceRestrictedDeveloper,
    }
}

fn live() -> Snapshot {
    let mut s = Snapshot {
        organization: Organization {
            id: ORG.into(),
            name: "Big Corp".into(),
        },
        ..Snapshot::default()
    };
    for i in 0..USERS {
        s.users.push(User {
            id: format!("user_01{i:022}"),
            email: format!("person{i}@big.example"),
            name: format!("Person {i}"),
            role: role(i),
            added_at: ts("2026-01-01T00:00:00Z"),
        });
    }
    for i in 0..INVITES {
        let invited_at = ts("2026-10-25T00:00:00Z");
        s.invites.push(Invite {
            id: format!("invite_01{i:022}"),
            email: format!("invitee{i}@big.example"),
            role: OrgRole::Developer,
            status: InviteStatus::Pending,
            invited_at,
            expires_at: invited_at + jiff::SignedDuration::from_hours(21 * 24),
            accepted_at: None,
        });
    }
    for w in 0..WORKSPACES {
        s.workspaces.push(Workspace {
            id: format!("wrkspc_01{w:022}"),
            name: format!("workspace-{w}"),
            created_at: ts("2026-01-01T00:00:00Z"),
            archived_at: None,
            display_color: "#6C5BB9".into(),
            data_residency: None,
            tags: BTreeMap::from([("team".to_owned(), format!("t{w}"))]),
        });
    }
    // Every non-admin, non-billing user is an explicit member of two workspaces.
    for i in 0..USERS {
        if role(i).implicit_workspace_role().is_some() {
            continue;
        }
        for w in [i % WORKSPACES, (i * 7 + 3) % WORKSPACES] {
            if s.workspace_members.iter().rev().take(2).any(|m| {
                m.user_id == format!("user_01{i:022}")
                    && m.workspace_id == format!("wrkspc_01{w:022}")
            }) {
                continue;
            }
            s.workspace_members.push(WorkspaceMember {
                workspace_id: format!("wrkspc_01{w:022}"),
                user_id: format!("user_01{i:022}"),
                workspace_role: ws_role(i + w),
            });
        }
    }
    for k in 0..KEYS {
        s.api_keys.push(ApiKey {
            id: format!("apikey_01{k:022}"),
            name: format!("key-{k}"),
            created_at: ts("2026-02-01T00:00:00Z"),
            created_by: Some(ActorRef {
                id: format!("user_01{:022}", k % USERS),
                kind: "user".into(),
            }),
            partial_key_hint: None,
            status: if k % 5 == 0 {
                ApiKeyStatus::Inactive
            } else {
                ApiKeyStatus::Active
            },
            expires_at: None,
            workspace_id: (k % 4 != 0).then(|| format!("wrkspc_01{:022}", k % WORKSPACES)),
        });
    }
    s
}

/// Members left out of the manifest (one in a hundred): they are removed.
fn unlisted(user: &User) -> bool {
    user.id.ends_with("99")
}

/// A manifest matching most of `live`, with differences of every kind.
fn manifest(live: &Snapshot) -> Manifest {
    let mut settings = Settings::default();
    settings.members.unmanaged = MemberPolicy::Remove;
    let mut members: Vec<MemberSpec> = Vec::new();
    for (i, u) in live.users.iter().enumerate() {
        if unlisted(u) {
            continue;
        }
        let mut r = u.role.clone();
        if i % 97 == 5 && !r.is_administrative() {
            r = OrgRole::Developer; // role updates
        }
        members.push(MemberSpec {
            email: u.email.clone(),
            role: r,
            expires: None,
        });
    }
    for i in 0..INVITES {
        members.push(MemberSpec {
            email: format!("invitee{i}@big.example"),
            role: if i % 10 == 0 {
                OrgRole::User // replacements
            } else {
                OrgRole::Developer
            },
            expires: None,
        });
    }
    for i in 0..200 {
        members.push(MemberSpec {
            email: format!("newcomer{i}@big.example"),
            role: OrgRole::User, // invites,
            expires: None,
        });
    }
    let users: HashMap<&str, &User> = live.users.iter().map(|u| (u.id.as_str(), u)).collect();
    let mut by_workspace: HashMap<&str, Vec<&WorkspaceMember>> = HashMap::new();
    for m in &live.workspace_members {
        by_workspace
            .entry(m.workspace_id.as_str())
            .or_default()
            .push(m);
    }
    let mut workspaces = Vec::new();
    for w in &live.workspaces {
        let mut map: IndexMap<String, orgform_manifest::Grant> = IndexMap::new();
        for m in by_workspace.get(w.id.as_str()).into_iter().flatten() {
            let user = users[m.user_id.as_str()];
            if unlisted(user) {
                continue;
            }
            let role = if user.id.ends_with("17") {
                WorkspaceRole::WorkspaceAdmin // workspace role updates
            } else {
                m.workspace_role.clone()
            };
            map.insert(user.email.clone(), role.into());
        }
        workspaces.push(WorkspaceSpec {
            name: w.name.clone(),
            id: None,
            display_color: Some(w.display_color.clone()),
            data_residency: None,
            tags: Some(w.tags.clone()),
            members: Some(map),
            archived: false,
        });
    }
    for i in 0..10 {
        workspaces.push(WorkspaceSpec {
            name: format!("new-workspace-{i}"),
            id: None,
            display_color: None,
            data_residency: None,
            tags: None,
            members: Some(IndexMap::from([(
                format!("person{}@big.example", i * 10 + 1),
                WorkspaceRole::WorkspaceDeveloper.into(),
            )])),
            archived: false,
        });
    }
    let api_keys = live
        .api_keys
        .iter()
        .enumerate()
        .map(|(k, key)| ApiKeySpec {
            id: (k % 2 == 0).then(|| key.id.clone()),
            name: Some(key.name.clone()),
            workspace: None,
            status: Some(if k % 50 == 1 {
                ApiKeyStatus::Inactive
            } else {
                key.status.clone()
            }),
        })
        .collect();
    Manifest {
        version: 1,
        organization: OrganizationSpec {
            id: ORG.into(),
            name: Some("Big Corp".into()),
            platform: Platform::Console,
        },
        settings,
        members,
        workspaces,
        api_keys,
        federation: orgform_manifest::FederationSpec::default(),
        sources: orgform_manifest::Sources::default(),
    }
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, Duration, T) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let out = f();
        times.push(start.elapsed());
        last = Some(out);
    }
    times.sort();
    (times[0], times[runs / 2], last.expect("at least one run"))
}

fn main() {
    let live = live();
    let manifest = manifest(&live);
    let options = PlanOptions {
        clock_skew: None,
        allow_destructive: Some(1000),
        now: ts("2026-11-01T00:00:00Z"),
        manifest_digest: "sha256:bench".into(),
        pipeline: orgform_plan::Pipeline::default(),
        no_access: None,
    };
    println!(
        "organization: {} members, {} invites, {} workspaces, {} workspace memberships, {} keys",
        live.users.len(),
        live.invites.len(),
        live.workspaces.len(),
        live.workspace_members.len(),
        live.api_keys.len()
    );
    if let Some(n) = std::env::var("BENCH_PLAN_ONLY")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        // For profilers: only planning, `n` times.
        for _ in 0..n {
            std::hint::black_box(plan(&manifest, &live, &options));
        }
        return;
    }
    let runs = 15;
    let (min, median, p) = time(runs, || plan(&manifest, &live, &options));
    assert!(
        p.errors.is_empty(),
        "the benchmark plan has errors: {:?}",
        p.errors.first()
    );
    println!(
        "plan: {} actions, {} deferred, {} blocked, {} unmanaged",
        p.actions.len(),
        p.deferred.len(),
        p.blocked.len(),
        p.unmanaged.len()
    );
    println!(
        "plan(): min {:.1} ms, median {:.1} ms over {runs} runs (target < 100 ms)",
        min.as_secs_f64() * 1e3,
        median.as_secs_f64() * 1e3
    );
    let (_, median, _) = time(runs, || live.digest());
    println!(
        "  of which Snapshot::digest(): median {:.1} ms",
        median.as_secs_f64() * 1e3
    );
    let (_, median, d) = time(runs, || drift(&manifest, &live, &options));
    println!(
        "drift(): median {:.1} ms ({} findings)",
        median.as_secs_f64() * 1e3,
        d.findings.len()
    );
    let (_, median, text) = time(runs, || render::text(&p, false));
    println!(
        "render::text: median {:.1} ms ({} bytes)",
        median.as_secs_f64() * 1e3,
        text.len()
    );
    let (_, median, json) = time(runs, || render::json(&p));
    println!(
        "render::json: median {:.1} ms ({} bytes)",
        median.as_secs_f64() * 1e3,
        json.len()
    );
    let (_, median, md) = time(runs, || render::markdown(&p));
    println!(
        "render::markdown: median {:.1} ms ({} characters)",
        median.as_secs_f64() * 1e3,
        md.chars().count()
    );
}
