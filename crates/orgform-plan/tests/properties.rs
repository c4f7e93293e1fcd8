//! Property tests over generated manifests and live organizations.
//!
//! - a converged organization (a manifest exported from the live state) plans nothing;
//! - no action comes before an action it depends on;
//! - destructive actions appear only when the manifest or its settings ask for them, and
//!   never against protected emails;
//! - planning is deterministic (also across reorderings of the live lists), the JSON plan
//!   reads back to the same plan, plan errors leave no actions, Markdown stays bounded.

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;
use orgform_manifest::{
    ApiKeyPolicy, ApiKeySpec, DataResidencySpec, InvitePolicy, Manifest, MemberPolicy, MemberSpec,
    OrganizationSpec, Platform, Settings, WorkspaceMemberPolicy, WorkspacePolicy, WorkspaceSpec,
};
use orgform_model::{
    ActorRef, AllowedGeos, ApiKey, ApiKeyStatus, DataResidency, Invite, InviteStatus, OrgRole,
    Organization, Snapshot, Timestamp, User, Workspace, WorkspaceMember, WorkspaceRole,
    normalize_email,
};
use orgform_plan::{Op, Plan, PlanOptions, WorkspaceRef, plan, render};
use proptest::prelude::*;

#[path = "support/conformance.rs"]
mod conformance;

const ORG: &str = "6f0c2a4e-0000-4000-8000-000000000001";
const PEOPLE: usize = 8;
const WORKSPACES: usize = 4;
const KEYS: usize = 6;

fn now() -> Timestamp {
    "2026-11-01T00:00:00Z".parse().unwrap()
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn email(i: usize) -> String {
    // Mixed case on purpose: comparisons must be case-insensitive.
    if i.is_multiple_of(3) {
        format!("Person{i}@Acme.example")
    } else {
        format!("person{i}@acme.example")
    }
}

/// Inference geo lists, in several spellings of the same sets.
fn geos(i: usize) -> AllowedGeos {
    match i {
        0 => AllowedGeos::List(vec!["us".into()]),
        1 => AllowedGeos::List(vec!["global".into(), "us".into()]),
        2 => AllowedGeos::List(vec!["us".into(), "global".into()]),
        _ => AllowedGeos::UNRESTRICTED,
    }
}

fn org_role() -> impl Strategy<Value = OrgRole> {
    prop_oneof![
        4 => Just(OrgRole::User),
        2 => Just(OrgRole::ClaudeCodeUser),
        4 => Just(OrgRole::Developer),
        2 => Just(OrgRole::Billing),
        2 => Just(OrgRole::Admin),
        1 => Just(OrgRole::Owner),
    ]
}

fn ws_role() -> impl Strategy<Value = WorkspaceRole> {
    prop_oneof![
        Just(WorkspaceRole::WorkspaceUser),
        Just(WorkspaceRole::WorkspaceBilling),
        Just(WorkspaceRole::WorkspaceRestrictedDeveloper),
        Just(WorkspaceRole::WorkspaceDeveloper),
        Just(WorkspaceRole::WorkspaceAdmin),
    ]
}

fn key_status() -> impl Strategy<Value = ApiKeyStatus> {
    prop_oneof![
        4 => Just(ApiKeyStatus::Active),
        2 => Just(ApiKeyStatus::Inactive),
        1 => Just(ApiKeyStatus::Archived),
        1 => Just(ApiKeyStatus::Expired),
    ]
}

/// What a person is live.
#[derive(Clone, Debug)]
enum Person {
    Nothing,
    Member(OrgRole),
    Pending(OrgRole),
    Expired(OrgRole),
}

fn person() -> impl Strategy<Value = Person> {
    prop_oneof![
        2 => Just(Person::Nothing),
        5 => org_role().prop_map(Person::Member),
        2 => org_role().prop_map(Person::Pending),
        1 => org_role().prop_map(Person::Expired),
    ]
}

/// 0 = absent, 1 = active, 2 = archived.
fn ws_state() -> impl Strategy<Value = u8> {
    prop_oneof![1 => Just(0u8), 4 => Just(1u8), 1 => Just(2u8)]
}

prop_compose! {
    fn live_org()(
        people in proptest::collection::vec(person(), PEOPLE),
        workspaces in proptest::collection::vec((ws_state(), 0usize..3), WORKSPACES),
        memberships in proptest::collection::vec(proptest::option::weighted(0.3, ws_role()), PEOPLE * WORKSPACES),
        keys in proptest::collection::vec((proptest::option::of(0..WORKSPACES), key_status(), proptest::option::of(0..PEOPLE + 2)), KEYS),
        twin_key in proptest::bool::weighted(0.15),
    ) -> Snapshot {
        let mut s = Snapshot {
            organization: Organization { id: ORG.into(), name: "Acme".into() },
            ..Snapshot::default()
        };
        for (i, p) in people.iter().enumerate() {
            match p {
                Person::Nothing => {}
                Person::Member(role) => s.users.push(User {
                    id: format!("user_01P{i:021}"),
                    email: email(i).to_lowercase(),
                    name: format!("P{i}"),
                    role: role.clone(),
                    added_at: ts("2026-01-01T00:00:00Z"),
                }),
                Person::Pending(role) | Person::Expired(role) => {
                    let expired = matches!(p, Person::Expired(_));
                    let invited_at = if expired { ts("2026-08-01T00:00:00Z") } else { ts("2026-10-25T00:00:00Z") };
                    s.invites.push(Invite {
                        id: format!("invite_01P{i:021}"),
                        email: email(i),
                        role: role.clone(),
                        status: if expired { InviteStatus::Expired } else { InviteStatus::Pending },
                        invited_at,
                        expires_at: invited_at + jiff::SignedDuration::from_hours(21 * 24),
                        accepted_at: None,
                    });
                }
            }
        }
        let colors = ["#111111", "#222222", "#333333"];
        for (w, (state, color)) in workspaces.iter().enumerate() {
            if *state == 0 {
                continue;
            }
            s.workspaces.push(Workspace {
                id: format!("wrkspc_01W{w:021}"),
                name: format!("ws-{w}"),
                created_at: ts("2026-01-01T00:00:00Z"),
                archived_at: (*state == 2).then(|| ts("2026-05-01T00:00:00Z")),
                display_color: colors[*color].into(),
                data_residency: Some(DataResidency {
                    workspace_geo: if w == 3 { "eu".into() } else { "us".into() },
                    allowed_inference_geos: geos(*color),
                    default_inference_geo: if *color == 1 { "global".into() } else { "us".into() },
                }),
                tags: BTreeMap::from([("n".to_owned(), color.to_string())]),
            });
        }
        for (idx, role) in memberships.iter().enumerate() {
            let (p, w) = (idx / WORKSPACES, idx % WORKSPACES);
            let Some(role) = role else { continue };
            let Some(user) = s.users.iter().find(|u| u.id == format!("user_01P{p:021}")) else { continue };
            let Some(ws) = s.workspaces.iter().find(|x| x.id == format!("wrkspc_01W{w:021}")) else { continue };
            if ws.is_archived() {
                continue;
            }
            s.workspace_members.push(WorkspaceMember {
                workspace_id: ws.id.clone(),
                user_id: user.id.clone(),
                workspace_role: role.clone(),
            });
        }
        for (k, (ws, status, creator)) in keys.iter().enumerate() {
            let workspace_id = ws
                .map(|w| format!("wrkspc_01W{w:021}"))
                .filter(|id| s.workspace(id).is_some());
            // Creators past PEOPLE are users who left.
            let created_by = creator.map(|c| ActorRef { id: format!("user_01P{c:021}"), kind: "user".into() });
            let name = if twin_key && k == 1 { "key-0".to_owned() } else { format!("key-{k}") };
            s.api_keys.push(ApiKey {
                id: format!("apikey_01K{k:021}"),
                name,
                created_at: ts("2026-02-01T00:00:00Z"),
                created_by,
                partial_key_hint: None,
                status: status.clone(),
                expires_at: None,
                workspace_id,
            });
        }
        s
    }
}

fn member_policy() -> impl Strategy<Value = MemberPolicy> {
    prop_oneof![Just(MemberPolicy::Report), Just(MemberPolicy::Remove)]
}

prop_compose! {
    fn settings()(
        members in member_policy(),
        revoke in any::<bool>(),
        reissue in any::<bool>(),
        archive in any::<bool>(),
        ws_members in any::<bool>(),
        keys in prop_oneof![Just(ApiKeyPolicy::Ignore), Just(ApiKeyPolicy::Report), Just(ApiKeyPolicy::Deactivate)],
        max_destructive in 0u32..12,
        percent in prop_oneof![Just(0u32), Just(25u32), Just(100u32)],
        protected in proptest::collection::btree_set(0..PEOPLE, 0..3),
    ) -> Settings {
        let mut s = Settings::default();
        s.members.unmanaged = members;
        s.invites.unmanaged = if revoke { InvitePolicy::Revoke } else { InvitePolicy::Report };
        s.invites.reissue_expired = reissue;
        s.workspaces.unmanaged = if archive { WorkspacePolicy::Archive } else { WorkspacePolicy::Report };
        s.workspace_members.unmanaged = if ws_members { WorkspaceMemberPolicy::Remove } else { WorkspaceMemberPolicy::Report };
        s.api_keys.unmanaged = keys;
        s.limits.max_destructive = max_destructive;
        s.limits.max_destructive_percent = percent;
        // Protected emails written in another case than the live ones.
        s.protected = protected.into_iter().map(|i| email(i).to_uppercase()).collect();
        s
    }
}

fn assignable() -> impl Strategy<Value = OrgRole> {
    prop_oneof![
        Just(OrgRole::User),
        Just(OrgRole::ClaudeCodeUser),
        Just(OrgRole::Developer),
        Just(OrgRole::Billing),
        Just(OrgRole::Admin),
    ]
}

prop_compose! {
    fn manifest()(
        settings in settings(),
        members in proptest::collection::btree_map(0..PEOPLE, assignable(), PEOPLE / 2..=PEOPLE),
        workspaces in proptest::collection::vec(
            (proptest::bool::weighted(0.8), proptest::option::of(0usize..3), proptest::bool::weighted(0.3), proptest::option::weighted(0.7, proptest::collection::btree_map(0..PEOPLE, ws_role(), 0..6)), proptest::bool::weighted(0.1), proptest::option::weighted(0.4, (any::<bool>(), proptest::option::of(0usize..4), proptest::option::of(any::<bool>())))),
            WORKSPACES),
        keys in proptest::collection::btree_map(0..KEYS, (proptest::option::of(prop_oneof![Just(ApiKeyStatus::Active), Just(ApiKeyStatus::Inactive), Just(ApiKeyStatus::Archived)]), any::<bool>()), 0..KEYS),
    ) -> Manifest {
        let colors = ["#111111", "#222222", "#abcdef"];
        let members_list: Vec<MemberSpec> = members
            .iter()
            .map(|(i, role)| MemberSpec { email: email(*i), role: role.clone(), expires: None })
            .collect();
        let mut ws_specs = Vec::new();
        for (w, (listed, color, pin, ws_members, archived, residency)) in workspaces.into_iter().enumerate() {
            if !listed {
                continue;
            }
            ws_specs.push(WorkspaceSpec {
                name: format!("ws-{w}"),
                id: pin.then(|| format!("wrkspc_01W{w:021}")),
                display_color: color.map(|c| colors[c].to_owned()),
                data_residency: residency.map(|(geo, allowed, global)| DataResidencySpec {
                    workspace_geo: geo.then(|| "us".to_owned()),
                    allowed_inference_geos: allowed.map(geos),
                    // A default inside the allowed geos, as the validator requires.
                    default_inference_geo: global.map(|g| {
                        if g && allowed.is_none_or(|a| geos(a).allows("global")) { "global" } else { "us" }.to_owned()
                    }),
                }),
                tags: None,
                // Workspace members only among listed people (as the validator requires).
                members: ws_members.map(|m| {
                    m.into_iter()
                        .filter(|(p, _)| members.contains_key(p))
                        .map(|(p, r)| (email(p), r))
                        .collect::<IndexMap<_, _>>()
                }),
                archived,
            });
        }
        let api_keys = keys
            .into_iter()
            .map(|(k, (status, by_id))| ApiKeySpec {
                id: by_id.then(|| format!("apikey_01K{k:021}")),
                name: (!by_id).then(|| format!("key-{k}")),
                workspace: None,
                status,
            })
            .collect();
        Manifest {
            version: 1,
            organization: OrganizationSpec { id: ORG.into(), name: None, platform: Platform::Console },
            settings,
            members: members_list,
            workspaces: ws_specs,
            api_keys,
            sources: Default::default(),
        }
    }
}

/// The manifest that describes `live` exactly.
fn exported(live: &Snapshot, settings: Settings) -> Manifest {
    let mut members: Vec<MemberSpec> = live
        .users
        .iter()
        .map(|u| MemberSpec {
            email: u.email.clone(),
            role: u.role.clone(),
            expires: None,
        })
        .collect();
    for invite in &live.invites {
        if invite.status == InviteStatus::Pending && live.user_by_email(&invite.email).is_none() {
            members.push(MemberSpec {
                email: invite.email.clone(),
                role: invite.role.clone(),
                expires: None,
            });
        }
    }
    let workspaces = live
        .workspaces
        .iter()
        .map(|w| WorkspaceSpec {
            name: w.name.clone(),
            id: Some(w.id.clone()),
            display_color: Some(w.display_color.clone()),
            data_residency: w.data_residency.as_ref().map(|d| DataResidencySpec {
                workspace_geo: Some(d.workspace_geo.clone()),
                allowed_inference_geos: Some(d.allowed_inference_geos.clone()),
                default_inference_geo: Some(d.default_inference_geo.clone()),
            }),
            tags: Some(w.tags.clone()),
            members: (!w.is_archived()).then(|| {
                live.workspace_members
                    .iter()
                    .filter(|m| m.workspace_id == w.id)
                    .map(|m| {
                        (
                            live.user(&m.user_id).unwrap().email.clone(),
                            m.workspace_role.clone(),
                        )
                    })
                    .collect()
            }),
            archived: w.is_archived(),
        })
        .collect();
    let api_keys = live
        .api_keys
        .iter()
        .map(|k| ApiKeySpec {
            id: Some(k.id.clone()),
            name: Some(k.name.clone()),
            workspace: None,
            status: Some(k.status.clone()),
        })
        .collect();
    Manifest {
        version: 1,
        organization: OrganizationSpec {
            id: ORG.into(),
            name: Some(live.organization.name.clone()),
            platform: Platform::Console,
        },
        settings,
        members,
        workspaces,
        api_keys,
        sources: Default::default(),
    }
}

fn options(allow: Option<u32>) -> PlanOptions {
    PlanOptions {
        clock_skew: None,
        allow_destructive: allow,
        now: now(),
        manifest_digest: "sha256:test".into(),
    }
}

fn shuffled(live: &Snapshot) -> Snapshot {
    let mut s = live.clone();
    s.users.reverse();
    s.invites.reverse();
    s.workspaces.reverse();
    s.workspace_members.reverse();
    s.api_keys.reverse();
    s
}

/// Checks that each destructive action is asked for by the manifest and spares protected
/// people; returns a description of the first violation.
fn destructive_violation(m: &Manifest, live: &Snapshot, p: &Plan) -> Option<String> {
    let protected: BTreeSet<String> = m
        .settings
        .protected
        .iter()
        .map(|e| normalize_email(e))
        .collect();
    let is_protected = |email: &str| protected.contains(&normalize_email(email));
    let creator_protected = |key_id: &str| {
        live.api_keys
            .iter()
            .find(|k| k.id == key_id)
            .and_then(|k| k.created_by.as_ref())
            .and_then(|c| live.user(&c.id))
            .is_some_and(|u| is_protected(&u.email))
    };
    for a in &p.actions {
        let bad = match &a.op {
            Op::RemoveUser { email, .. } => {
                m.settings.members.unmanaged != MemberPolicy::Remove || is_protected(email)
            }
            Op::RevokeInvite { email, .. } => {
                m.settings.invites.unmanaged != InvitePolicy::Revoke || is_protected(email)
            }
            Op::RemoveWorkspaceMember {
                workspace_id,
                user_id,
                ..
            } => {
                let managed = m.workspaces.iter().any(|w| {
                    w.members.is_some()
                        && (w.id.as_deref() == Some(workspace_id.as_str())
                            || live
                                .workspace(workspace_id)
                                .is_some_and(|l| l.name == w.name))
                });
                let email = live
                    .user(user_id)
                    .map(|u| u.email.clone())
                    .unwrap_or_default();
                m.settings.workspace_members.unmanaged != WorkspaceMemberPolicy::Remove
                    || !managed
                    || is_protected(&email)
            }
            Op::ArchiveWorkspace { workspace_id, .. } => {
                let ws = live.workspace(workspace_id).unwrap();
                let protected_keys = live.api_keys.iter().any(|k| {
                    k.workspace_id.as_deref() == Some(workspace_id.as_str())
                        && matches!(k.status, ApiKeyStatus::Active | ApiKeyStatus::Inactive)
                        && creator_protected(&k.id)
                });
                let asked = m.workspaces.iter().any(|w| {
                    w.archived
                        && (w.id.as_deref() == Some(workspace_id.as_str()) || w.name == ws.name)
                });
                protected_keys
                    || (!asked && m.settings.workspaces.unmanaged != WorkspacePolicy::Archive)
            }
            Op::UpdateApiKey {
                key_id,
                status: Some(ApiKeyStatus::Inactive | ApiKeyStatus::Archived),
                ..
            } => {
                let key = live.api_keys.iter().find(|k| &k.id == key_id).unwrap();
                let listed = m.api_keys.iter().any(|s| {
                    matches!(
                        s.status,
                        Some(ApiKeyStatus::Inactive | ApiKeyStatus::Archived)
                    ) && (s.id.as_deref() == Some(key_id.as_str())
                        || s.name.as_deref() == Some(key.name.as_str()))
                });
                (!listed && m.settings.api_keys.unmanaged != ApiKeyPolicy::Deactivate)
                    || creator_protected(key_id)
            }
            Op::UpdateUserRole {
                email,
                role,
                user_id,
            } => {
                let live_role = &live.user(user_id).unwrap().role;
                is_protected(email) && rank(role) <= rank(live_role)
            }
            _ => false,
        };
        let flagged = matches!(
            a.op,
            Op::RemoveUser { .. }
                | Op::RevokeInvite { .. }
                | Op::RemoveWorkspaceMember { .. }
                | Op::ArchiveWorkspace { .. }
        ) || matches!(
            a.op,
            Op::UpdateApiKey {
                status: Some(ApiKeyStatus::Inactive | ApiKeyStatus::Archived),
                ..
            }
        );
        if flagged != a.destructive {
            return Some(format!(
                "action {} is destructive={} but should be {flagged}",
                a.id, a.destructive
            ));
        }
        if bad {
            return Some(format!(
                "action {} ({}) is not allowed: {a:?}",
                a.id, a.target
            ));
        }
    }
    None
}

fn rank(role: &OrgRole) -> u8 {
    match role {
        OrgRole::User | OrgRole::Managed => 0,
        OrgRole::ClaudeCodeUser => 1,
        OrgRole::Developer => 2,
        OrgRole::Billing => 3,
        _ => 4,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn converged_org_plans_nothing(live in live_org(), settings in settings()) {
        let m = exported(&live, settings);
        let p = plan(&m, &live, &options(None));
        prop_assert!(p.errors.is_empty(), "errors: {:?}", p.errors);
        prop_assert!(p.actions.is_empty(), "actions: {}", render::text(&p, false));
        prop_assert!(p.blocked.is_empty(), "blocked: {:?}", p.blocked);
        prop_assert!(p.deferred.is_empty(), "deferred: {:?}", p.deferred);
        prop_assert!(!p.is_refused());
        prop_assert!(p.missing.is_empty());
        let d = orgform_plan::drift(&m, &live, &options(None));
        prop_assert!(d.findings.iter().all(|f| !f.is_drift), "drift: {:?}", d.findings);
    }

    #[test]
    fn plans_are_ordered_safe_and_deterministic(live in live_org(), m in manifest(), allow in proptest::option::of(0u32..5)) {
        let opts = options(allow);
        let p = plan(&m, &live, &opts);
        for a in &p.actions {
            for d in &a.depends_on {
                prop_assert!(*d < a.id, "action {} depends on {}", a.id, d);
            }
        }
        for (i, a) in p.actions.iter().enumerate() {
            prop_assert_eq!(a.id as usize, i + 1);
        }
        for a in &p.actions {
            if let Err(e) = conformance::check(a) {
                prop_assert!(false, "action {} does not conform: {}", a.id, e);
            }
        }
        if let Some(v) = destructive_violation(&m, &live, &p) {
            prop_assert!(false, "{}\n{}", v, render::text(&p, false));
        }
        if !p.errors.is_empty() {
            prop_assert!(p.actions.is_empty());
        }
        // Refusals are exactly the kinds whose count exceeds the limit.
        if allow.is_none() && p.errors.is_empty() {
            for r in &p.refusals {
                if let orgform_plan::Refusal::DestructiveLimit { count, limit, .. } = r {
                    prop_assert!(count > limit);
                }
            }
        }
        let json = render::json(&p);
        prop_assert_eq!(Plan::from_json(&json).unwrap(), p.clone());
        prop_assert_eq!(&render::json(&plan(&m, &live, &opts)), &json);
        prop_assert_eq!(&render::json(&plan(&m, &shuffled(&live), &opts)), &json);
        prop_assert_eq!(render::text(&plan(&m, &shuffled(&live), &opts), false), render::text(&p, false));
        prop_assert!(render::markdown(&p).chars().count() < render::MARKDOWN_LIMIT);
        let d = orgform_plan::drift(&m, &live, &opts);
        prop_assert_eq!(render::drift_json(&d), render::drift_json(&orgform_plan::drift(&m, &shuffled(&live), &opts)));
    }

    #[test]
    fn report_only_settings_never_destroy(live in live_org(), mut m in manifest()) {
        m.settings.members.unmanaged = MemberPolicy::Report;
        m.settings.invites.unmanaged = InvitePolicy::Report;
        m.settings.workspaces.unmanaged = WorkspacePolicy::Report;
        m.settings.workspace_members.unmanaged = WorkspaceMemberPolicy::Report;
        m.settings.api_keys.unmanaged = ApiKeyPolicy::Report;
        for w in &mut m.workspaces {
            w.archived = false;
        }
        for k in &mut m.api_keys {
            if matches!(k.status, Some(ApiKeyStatus::Inactive | ApiKeyStatus::Archived)) {
                k.status = Some(ApiKeyStatus::Active);
            }
        }
        let p = plan(&m, &live, &options(Some(1000)));
        prop_assert!(p.actions.iter().all(|a| !a.destructive), "{}", render::text(&p, false));
        prop_assert!(p.refusals.is_empty());
    }
}

/// The generators reach the interesting cases, so the properties above are not vacuous.
#[test]
fn generators_reach_every_kind_of_outcome() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRng, TestRunner};
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(proptest::test_runner::RngAlgorithm::ChaCha),
    );
    let strategy = (live_org(), manifest());
    let (mut destructive, mut errors, mut blocked, mut deferred, mut refused, mut kinds) =
        (0, 0, 0, 0, 0, BTreeSet::new());
    for _ in 0..300 {
        let (live, m) = strategy.new_tree(&mut runner).unwrap().current();
        let p = plan(&m, &live, &options(Some(3)));
        destructive += usize::from(p.actions.iter().any(|a| a.destructive));
        errors += usize::from(!p.errors.is_empty());
        blocked += usize::from(!p.blocked.is_empty());
        deferred += usize::from(!p.deferred.is_empty());
        refused += usize::from(!p.refusals.is_empty());
        kinds.extend(p.actions.iter().map(|a| a.op.name()));
    }
    assert!(destructive > 10, "destructive plans: {destructive}");
    assert!(errors > 10, "plans with errors: {errors}");
    assert!(blocked > 10, "plans with blocked items: {blocked}");
    assert!(deferred > 10, "plans with deferred grants: {deferred}");
    assert!(refused > 0, "refused plans: {refused}");
    assert_eq!(
        kinds.len(),
        12,
        "operations reached: {kinds:?} ({destructive} {errors} {blocked} {deferred} {refused})"
    );
}

/// Applies a plan's actions to a snapshot the way the Admin API would (ids made up, the
/// clock at `now`): a model of the executor, to check that plans converge.
fn simulate(live: &Snapshot, p: &Plan) -> Snapshot {
    let mut s = live.clone();
    let now = now();
    let mut created: BTreeMap<String, String> = BTreeMap::new();
    for (n, a) in p.actions.iter().enumerate() {
        match &a.op {
            Op::CreateInvite { email, role } | Op::ReplaceInvite { email, role, .. } => {
                if let Op::ReplaceInvite { invite_id, .. } = &a.op {
                    s.invites.retain(|i| &i.id != invite_id);
                }
                s.invites.push(Invite {
                    id: format!("invite_01New{n:018}"),
                    email: email.clone(),
                    role: role.clone(),
                    status: InviteStatus::Pending,
                    invited_at: now,
                    expires_at: now + jiff::SignedDuration::from_hours(21 * 24),
                    accepted_at: None,
                });
            }
            Op::RevokeInvite { invite_id, .. } => s.invites.retain(|i| &i.id != invite_id),
            Op::UpdateUserRole { user_id, role, .. } => {
                let user = s.users.iter_mut().find(|u| &u.id == user_id).unwrap();
                let implicit = user.role.implicit_workspace_role();
                user.role = role.clone();
                // Leaving billing (or admin) ends the implicit access a listed membership
                // with that role stood for.
                if implicit.is_some() && implicit != role.implicit_workspace_role() {
                    s.workspace_members.retain(|m| {
                        &m.user_id != user_id || Some(&m.workspace_role) != implicit.as_ref()
                    });
                }
            }
            Op::RemoveUser { user_id, .. } => {
                s.users.retain(|u| &u.id != user_id);
                s.workspace_members.retain(|m| &m.user_id != user_id);
            }
            Op::CreateWorkspace {
                name,
                display_color,
                tags,
                data_residency,
            } => {
                let id = format!("wrkspc_01New{n:018}");
                created.insert(name.clone(), id.clone());
                s.workspaces.push(Workspace {
                    id,
                    name: name.clone(),
                    created_at: now,
                    archived_at: None,
                    display_color: display_color.clone().unwrap_or_else(|| "#777777".into()),
                    // The API's defaults for what the request leaves out.
                    data_residency: Some(DataResidency {
                        workspace_geo: data_residency
                            .as_ref()
                            .and_then(|d| d.workspace_geo.clone())
                            .unwrap_or_else(|| "us".into()),
                        allowed_inference_geos: data_residency
                            .as_ref()
                            .and_then(|d| d.allowed_inference_geos.clone())
                            .unwrap_or(AllowedGeos::UNRESTRICTED),
                        default_inference_geo: data_residency
                            .as_ref()
                            .and_then(|d| d.default_inference_geo.clone())
                            .unwrap_or_else(|| "global".into()),
                    }),
                    tags: tags.clone(),
                });
            }
            Op::UpdateWorkspace {
                workspace_id,
                name,
                display_color,
                tags,
                data_residency,
            } => {
                let w = s
                    .workspaces
                    .iter_mut()
                    .find(|w| &w.id == workspace_id)
                    .unwrap();
                if let Some(name) = name {
                    w.name.clone_from(name);
                }
                if let Some(color) = display_color {
                    w.display_color.clone_from(color);
                }
                if let Some(tags) = tags {
                    w.tags.clone_from(tags);
                }
                if let (Some(wanted), Some(live)) = (data_residency, w.data_residency.as_mut()) {
                    assert!(wanted.workspace_geo.is_none(), "workspace_geo is immutable");
                    if let Some(allowed) = &wanted.allowed_inference_geos {
                        live.allowed_inference_geos = allowed.clone();
                    }
                    if let Some(default) = &wanted.default_inference_geo {
                        live.default_inference_geo.clone_from(default);
                    }
                }
            }
            Op::ArchiveWorkspace { workspace_id, .. } => {
                s.workspaces
                    .iter_mut()
                    .find(|w| &w.id == workspace_id)
                    .unwrap()
                    .archived_at = Some(now);
                for k in &mut s.api_keys {
                    if k.workspace_id.as_ref() == Some(workspace_id)
                        && matches!(k.status, ApiKeyStatus::Active | ApiKeyStatus::Inactive)
                    {
                        k.status = ApiKeyStatus::Archived;
                    }
                }
            }
            Op::AddWorkspaceMember {
                workspace,
                user_id,
                role,
                ..
            } => {
                let workspace_id = match workspace {
                    WorkspaceRef::Id(id) => id.clone(),
                    WorkspaceRef::Created { name } => created[name].clone(),
                };
                s.workspace_members.push(WorkspaceMember {
                    workspace_id,
                    user_id: user_id.clone(),
                    workspace_role: role.clone(),
                });
            }
            Op::UpdateWorkspaceMember {
                workspace_id,
                user_id,
                role,
                ..
            } => {
                s.workspace_members
                    .iter_mut()
                    .find(|m| &m.workspace_id == workspace_id && &m.user_id == user_id)
                    .unwrap()
                    .workspace_role = role.clone();
            }
            Op::RemoveWorkspaceMember {
                workspace_id,
                user_id,
                ..
            } => s
                .workspace_members
                .retain(|m| !(&m.workspace_id == workspace_id && &m.user_id == user_id)),
            Op::UpdateApiKey {
                key_id,
                name,
                status,
            } => {
                let k = s.api_keys.iter_mut().find(|k| &k.id == key_id).unwrap();
                if let Some(name) = name {
                    k.name.clone_from(name);
                }
                if let Some(status) = status {
                    k.status = status.clone();
                }
            }
        }
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Applying a plan and planning again leaves nothing to do: the plan converges in one
    /// apply (deferred and blocked items may remain, but no new ones appear).
    #[test]
    fn applying_a_plan_converges(live in live_org(), m in manifest()) {
        let opts = options(Some(1000));
        let first = plan(&m, &live, &opts);
        if first.is_refused() {
            // Refused plans are not applied (about a third of the cases: plan errors).
            return Ok(());
        }
        let after = simulate(&live, &first);
        let second = plan(&m, &after, &opts);
        // Everyone invited accepts; the deferred grants then happen, and that converges too.
        let mut accepted = after.clone();
        for (n, invite) in after.invites.iter().enumerate() {
            if invite.status == InviteStatus::Pending && invite.expires_at > now() {
                accepted.users.push(User {
                    id: format!("user_01Acc{n:019}"),
                    email: invite.email.clone(),
                    name: format!("Accepted {n}"),
                    role: invite.role.clone(),
                    added_at: now(),
                });
                let i = accepted.invites.iter_mut().find(|i| i.id == invite.id).unwrap();
                i.status = InviteStatus::Accepted;
                i.accepted_at = Some(now());
            }
        }
        let third = plan(&m, &accepted, &opts);
        // Only people without an outstanding invite (expired and not re-issued, or blocked
        // admin invites) can still have deferred grants.
        for d in &third.deferred {
            prop_assert!(
                accepted.invites.iter().all(|i| {
                    normalize_email(&i.email) != normalize_email(&d.email)
                        || i.status != InviteStatus::Pending
                }),
                "deferred although accepted: {:?}",
                d
            );
        }
        if !third.is_refused() {
            let fourth = plan(&m, &simulate(&accepted, &third), &opts);
            prop_assert!(
                fourth.actions.is_empty(),
                "after acceptance:\n{}\nthen:\n{}",
                render::text(&third, false),
                render::text(&fourth, false)
            );
        }
        // Nothing new may turn up: no more blocked or missing items than before.
        prop_assert!(
            second.actions.is_empty()
                && second.errors.is_empty()
                && second.blocked.len() <= first.blocked.len()
                && second.missing.len() <= first.missing.len(),
            "first:\n{}\nsecond:\n{}",
            render::text(&first, false),
            render::text(&second, false)
        );
    }
}
