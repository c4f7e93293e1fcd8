//! The generators the planner's properties share: live organizations, settings and
//! manifests over a small fixed universe of people, workspaces and keys, and the manifest
//! that describes a live organization exactly.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use orgform_manifest::{
    ApiKeyPolicy, ApiKeySpec, DataResidencySpec, InvitePolicy, Manifest, MemberPolicy, MemberSpec,
    OrganizationSpec, Platform, Settings, WorkspaceMemberPolicy, WorkspacePolicy, WorkspaceSpec,
};
use orgform_model::{
    ActorRef, AllowedGeos, ApiKey, ApiKeyStatus, DataResidency, Invite, InviteStatus, OrgRole,
    Organization, Snapshot, Timestamp, User, Workspace, WorkspaceMember, WorkspaceRole,
};
use orgform_plan::PlanOptions;
use proptest::prelude::*;

pub const ORG: &str = "6f0c2a4e-0000-4000-8000-000000000001";
pub const PEOPLE: usize = 8;
pub const WORKSPACES: usize = 4;
pub const KEYS: usize = 6;

pub fn now() -> Timestamp {
    "2026-11-01T00:00:00Z".parse().unwrap()
}

pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

pub fn email(i: usize) -> String {
    // Mixed case on purpose: comparisons must be case-insensitive.
    if i.is_multiple_of(3) {
        format!("Person{i}@Acme.example")
    } else {
        format!("person{i}@acme.example")
    }
}

/// Inference geo lists, in several spellings of the same sets.
pub fn geos(i: usize) -> AllowedGeos {
    match i {
        0 => AllowedGeos::List(vec!["us".into()]),
        1 => AllowedGeos::List(vec!["global".into(), "us".into()]),
        2 => AllowedGeos::List(vec!["us".into(), "global".into()]),
        _ => AllowedGeos::UNRESTRICTED,
    }
}

pub fn org_role() -> impl Strategy<Value = OrgRole> {
    prop_oneof![
        4 => Just(OrgRole::User),
        2 => Just(OrgRole::ClaudeCodeUser),
        4 => Just(OrgRole::Developer),
        2 => Just(OrgRole::Billing),
        2 => Just(OrgRole::Admin),
        1 => Just(OrgRole::Owner),
    ]
}

pub fn ws_role() -> impl Strategy<Value = WorkspaceRole> {
    prop_oneof![
        Just(WorkspaceRole::WorkspaceUser),
        Just(WorkspaceRole::WorkspaceBilling),
        Just(WorkspaceRole::WorkspaceRestrictedDeveloper),
        Just(WorkspaceRole::WorkspaceDeveloper),
        Just(WorkspaceRole::WorkspaceAdmin),
    ]
}

pub fn key_status() -> impl Strategy<Value = ApiKeyStatus> {
    prop_oneof![
        4 => Just(ApiKeyStatus::Active),
        2 => Just(ApiKeyStatus::Inactive),
        1 => Just(ApiKeyStatus::Archived),
        1 => Just(ApiKeyStatus::Expired),
    ]
}

/// What a person is live.
#[derive(Clone, Debug)]
pub enum Person {
    Nothing,
    Member(OrgRole),
    Pending(OrgRole),
    Expired(OrgRole),
}

pub fn person() -> impl Strategy<Value = Person> {
    prop_oneof![
        2 => Just(Person::Nothing),
        5 => org_role().prop_map(Person::Member),
        2 => org_role().prop_map(Person::Pending),
        1 => org_role().prop_map(Person::Expired),
    ]
}

/// 0 = absent, 1 = active, 2 = archived.
pub fn ws_state() -> impl Strategy<Value = u8> {
    prop_oneof![1 => Just(0u8), 4 => Just(1u8), 1 => Just(2u8)]
}

prop_compose! {
    pub fn live_org()(
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

pub fn member_policy() -> impl Strategy<Value = MemberPolicy> {
    prop_oneof![Just(MemberPolicy::Report), Just(MemberPolicy::Remove)]
}

prop_compose! {
    pub fn settings()(
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

pub fn assignable() -> impl Strategy<Value = OrgRole> {
    prop_oneof![
        Just(OrgRole::User),
        Just(OrgRole::ClaudeCodeUser),
        Just(OrgRole::Developer),
        Just(OrgRole::Billing),
        Just(OrgRole::Admin),
    ]
}

prop_compose! {
    pub fn manifest()(
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
                        .map(|(p, r)| (email(p), r.into()))
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
            federation: orgform_manifest::FederationSpec::default(),
            sources: orgform_manifest::Sources::default(),
        }
    }
}

/// The manifest that describes `live` exactly.
pub fn exported(live: &Snapshot, settings: Settings) -> Manifest {
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
                            m.workspace_role.clone().into(),
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
        federation: orgform_manifest::FederationSpec::default(),
        sources: orgform_manifest::Sources::default(),
    }
}

pub fn options(allow: Option<u32>) -> PlanOptions {
    PlanOptions {
        clock_skew: None,
        allow_destructive: allow,
        now: now(),
        manifest_digest: "sha256:test".into(),
        pipeline: orgform_plan::Pipeline::default(),
        no_access: None,
    }
}

pub fn shuffled(live: &Snapshot) -> Snapshot {
    let mut s = live.clone();
    s.users.reverse();
    s.invites.reverse();
    s.workspaces.reverse();
    s.workspace_members.reverse();
    s.api_keys.reverse();
    s
}
