//! The generators of the identity properties: service accounts (roles, descriptions,
//! archived), their workspace grants, federation issuers and rules, live and declared, over a
//! small fixed universe added to the people generators' organization; the running pipeline's
//! identity and the override flag.
//!
//! The implicit default-workspace membership every service account has never reaches a
//! snapshot through the client (it drops the `implicit: true` entry and reads only listed
//! workspaces), so the only form in which the planner could meet one is an entry in the
//! default workspace, which is never listed: the live generator adds such entries (the
//! [`DEFAULT_WS`] id) and the properties check they never lead anywhere.

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;
use orgform_manifest::{
    FederationSpec, IssuerSpec, JwksSpec, Manifest, MatchSpec, RuleSpec, RuleWorkspaces,
    ServiceAccountSpec, WorkspaceMemberPolicy,
};
use orgform_model::{
    FederationIssuer, FederationRule, Identities, Jwks, RuleMatch, ServiceAccount,
    ServiceAccountMember, ServiceAccountRole, Snapshot, WorkspaceRole,
};
use orgform_plan::{Pipeline, PlanOptions};
use proptest::prelude::*;

use super::generators::{WORKSPACES, live_org, manifest, options, ts};

pub const SAS: usize = 4;
pub const ISSUERS: usize = 2;
pub const RULES: usize = 3;
/// The default workspace: never listed, where every service account is implicitly a member.
pub const DEFAULT_WS: &str = "wrkspc_01Default000000000000";

pub const URLS: [&str; 2] = [
    "https://token.actions.githubusercontent.com",
    "https://idp.acme.example",
];
const SUBJECTS: [&str; 2] = ["repo:acme/infra:ref:refs/heads/main", "repo:acme/app:*"];
const SCOPES: [&str; 3] = ["workspace:developer", "workspace:inference", "org:admin"];
const DESCRIPTIONS: [&str; 3] = ["", "deploys", "nightly jobs"];

pub fn sa_name(i: usize) -> String {
    format!("sa-{i}")
}
pub fn sa_id(i: usize) -> String {
    format!("svac_01S{i:021}")
}
pub fn issuer_name(i: usize) -> String {
    format!("iss-{i}")
}
pub fn rule_name(i: usize) -> String {
    format!("rule-{i}")
}
pub fn rule_id(i: usize) -> String {
    format!("fdrl_01R{i:021}")
}
fn ws_id(w: usize) -> String {
    format!("wrkspc_01W{w:021}")
}

fn sa_ws_role() -> impl Strategy<Value = WorkspaceRole> {
    prop_oneof![
        Just(WorkspaceRole::WorkspaceUser),
        Just(WorkspaceRole::WorkspaceRestrictedDeveloper),
        Just(WorkspaceRole::WorkspaceDeveloper),
        Just(WorkspaceRole::WorkspaceAdmin),
    ]
}

fn sa_role(admin: bool) -> ServiceAccountRole {
    if admin {
        ServiceAccountRole::Admin
    } else {
        ServiceAccountRole::Developer
    }
}

/// 0 = absent, 1 = live, 2 = archived.
fn state() -> impl Strategy<Value = u8> {
    prop_oneof![1 => Just(0u8), 4 => Just(1u8), 1 => Just(2u8)]
}

/// A live rule's draw: state, issuer, service account, scope, subject, all, workspaces,
/// token lifetime.
type LiveRule = (u8, usize, usize, usize, usize, bool, BTreeSet<usize>, bool);

prop_compose! {
    /// The people generators' organization with identities added (or, rarely, not read).
    pub fn live_identities()(
        base in live_org(),
        read in proptest::bool::weighted(0.9),
        sas in proptest::collection::vec((state(), any::<bool>(), proptest::option::of(0..DESCRIPTIONS.len())), SAS),
        members in proptest::collection::vec(proptest::option::weighted(0.35, sa_ws_role()), SAS * WORKSPACES),
        implicit in proptest::bool::weighted(0.5),
        issuers in proptest::collection::vec((state(), 0..URLS.len(), any::<bool>(), any::<bool>()), ISSUERS),
        rules in proptest::collection::vec(
            (state(), 0..ISSUERS, 0..SAS, prop_oneof![4 => Just(0usize), 4 => Just(1usize), 1 => Just(2usize)], 0..SUBJECTS.len(), proptest::bool::weighted(0.3), proptest::collection::btree_set(0..WORKSPACES, 0..3), any::<bool>()),
            RULES),
    ) -> Snapshot {
        let mut s = base;
        if !read {
            return s;
        }
        let created = ts("2026-01-01T00:00:00Z");
        let archived = Some(ts("2026-03-01T00:00:00Z"));
        let mut ids = Identities::default();
        for (i, (st, admin, description)) in sas.iter().enumerate() {
            if *st == 0 {
                continue;
            }
            ids.service_accounts.push(ServiceAccount {
                id: sa_id(i),
                name: sa_name(i),
                description: description.map(|d| DESCRIPTIONS[d].to_owned()),
                organization_role: sa_role(*admin),
                created_at: created,
                archived_at: (*st == 2).then_some(archived).flatten(),
            });
        }
        let listed: Vec<usize> = (0..WORKSPACES)
            .filter(|w| s.workspace(&ws_id(*w)).is_some_and(|x| !x.is_archived()))
            .collect();
        let active_sa = |i: usize| sas[i].0 == 1;
        for (idx, role) in members.iter().enumerate() {
            let (i, w) = (idx / WORKSPACES, idx % WORKSPACES);
            if let Some(role) = role
                && active_sa(i)
                && listed.contains(&w)
            {
                ids.service_account_members.push(ServiceAccountMember {
                    workspace_id: ws_id(w),
                    service_account_id: sa_id(i),
                    workspace_role: role.clone(),
                });
            }
        }
        if implicit {
            for i in (0..SAS).filter(|i| active_sa(*i)) {
                ids.service_account_members.push(ServiceAccountMember {
                    workspace_id: DEFAULT_WS.to_owned(),
                    service_account_id: sa_id(i),
                    workspace_role: WorkspaceRole::WorkspaceUser,
                });
            }
        }
        for (i, (st, url, long, jti)) in issuers.iter().enumerate() {
            if *st == 0 {
                continue;
            }
            ids.federation_issuers.push(FederationIssuer {
                id: format!("fdis_01I{i:021}"),
                name: issuer_name(i),
                issuer_url: URLS[*url].to_owned(),
                jwks: Jwks::Discovery { discovery_base: None, ca_cert_pem: None },
                max_jwt_lifetime_seconds: if *long { 7200 } else { 3600 },
                check_jti: *jti,
                created_at: created,
                archived_at: (*st == 2).then_some(archived).flatten(),
            });
        }
        for (r, draw) in rules.iter().enumerate() {
            let (st, issuer, sa, scope, subject, all, ws, long): &LiveRule = draw;
            let (issuer_state, sa_state) = (issuers[*issuer].0, sas[*sa].0);
            // A read names only objects of the same read (else it is inconsistent); a live
            // rule keeps its issuer and service account live (the API refuses their archive).
            if *st == 0 || issuer_state == 0 || sa_state == 0 {
                continue;
            }
            let live = *st == 1 && issuer_state == 1 && sa_state == 1;
            ids.federation_rules.push(FederationRule {
                id: rule_id(r),
                name: rule_name(r),
                description: None,
                issuer_id: format!("fdis_01I{issuer:021}"),
                rule_match: RuleMatch {
                    subject_prefix: Some(SUBJECTS[*subject].to_owned()),
                    ..RuleMatch::default()
                },
                target_service_account_id: sa_id(*sa),
                oauth_scope: SCOPES[*scope].to_owned(),
                token_lifetime_seconds: if *long { 7200 } else { 3600 },
                applies_to_all_workspaces: live && *all,
                workspace_ids: if live {
                    ws.iter().filter(|w| listed.contains(w)).map(|w| ws_id(*w)).collect()
                } else {
                    Vec::new()
                },
                created_at: created,
                archived_at: (!live).then_some(archived).flatten(),
            });
        }
        ids.normalize();
        s.identities = Some(ids);
        s
    }
}

/// A declared rule's draw: issuer, service account, scope, subject, all, workspaces, token
/// lifetime, description, archived.
type DeclaredRule = (
    usize,
    usize,
    usize,
    usize,
    bool,
    BTreeSet<usize>,
    Option<bool>,
    Option<bool>,
    bool,
);

prop_compose! {
    /// The people generators' manifest with service accounts, grants and federation added,
    /// as the validator accepts them (grants and rules only to declared, non-archived service
    /// accounts; rules on declared issuers and workspaces; Admin-API scopes only).
    pub fn manifest_identities()(
        base in manifest(),
        sas in proptest::collection::vec(proptest::option::weighted(0.75, (proptest::option::of(any::<bool>()), proptest::option::of(0..DESCRIPTIONS.len()), proptest::bool::weighted(0.15))), SAS),
        grants in proptest::collection::vec(proptest::option::weighted(0.6, proptest::collection::btree_map(0..SAS, sa_ws_role(), 0..3)), WORKSPACES),
        protected in proptest::collection::btree_set(0..SAS, 0..3),
        federation in proptest::bool::weighted(0.8),
        issuers in proptest::collection::vec(proptest::option::weighted(0.8, (0..URLS.len(), proptest::bool::weighted(0.15), proptest::option::of(any::<bool>()), proptest::option::of(any::<bool>()))), ISSUERS),
        rules in proptest::collection::vec(proptest::option::weighted(0.75, (0..ISSUERS, 0..SAS, 0usize..2, 0..SUBJECTS.len(), proptest::bool::weighted(0.3), proptest::collection::btree_set(0..WORKSPACES, 1..3), proptest::option::of(any::<bool>()), proptest::option::of(any::<bool>()), proptest::bool::weighted(0.15))), RULES),
        remove_grants in any::<bool>(),
        // What the manifest declares: 0 neither, 1 service accounts only, 2 federation only,
        // 3 both (a read without identities must refuse each on its own).
        mode in prop_oneof![1 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8), 5 => Just(3u8)],
    ) -> Manifest {
        let mut m = base;
        let sas: Vec<_> = if mode % 2 == 1 { sas } else { vec![None; SAS] };
        let grants: Vec<_> = if mode % 2 == 1 { grants } else { vec![None; WORKSPACES] };
        let federation = federation && mode >= 2;
        m.service_accounts = sas
            .iter()
            .enumerate()
            .filter_map(|(i, spec)| {
                spec.map(|(admin, description, archived)| ServiceAccountSpec {
                    name: sa_name(i),
                    description: description.map(|d| DESCRIPTIONS[d].to_owned()),
                    organization_role: admin.map(sa_role),
                    archived,
                })
            })
            .collect();
        let grantable = |i: usize| sas[i].is_some_and(|(_, _, archived)| !archived);
        for ws in &mut m.workspaces {
            let w: usize = ws.name.trim_start_matches("ws-").parse().unwrap();
            if ws.archived {
                continue;
            }
            ws.service_accounts = grants[w].as_ref().map(|g| {
                g.iter()
                    .filter(|(i, _)| grantable(**i))
                    .map(|(i, role)| (sa_name(*i), role.clone()))
                    .collect::<IndexMap<_, _>>()
            });
        }
        m.settings.protected_service_accounts = protected.iter().map(|i| sa_name(*i)).collect();
        if remove_grants {
            m.settings.workspace_members.unmanaged = WorkspaceMemberPolicy::Remove;
        }
        if !federation {
            return m;
        }
        let mut fed = FederationSpec::default();
        for (i, spec) in issuers.iter().enumerate() {
            if let Some((url, archived, long, jti)) = spec {
                fed.issuers.push(IssuerSpec {
                    name: issuer_name(i),
                    issuer_url: URLS[*url].to_owned(),
                    jwks: None::<JwksSpec>,
                    max_jwt_lifetime_seconds: long.map(|l| if l { 7200 } else { 3600 }),
                    check_jti: *jti,
                    archived: *archived,
                });
            }
        }
        let open: BTreeMap<&str, bool> = m
            .workspaces
            .iter()
            .map(|w| (w.name.as_str(), !w.archived))
            .collect();
        for (r, spec) in rules.iter().enumerate() {
            let Some(draw) = spec else { continue };
            let (issuer, sa, scope, subject, all, ws, long, described, archived): &DeclaredRule = draw;
            let Some(issuer_spec) = fed.issuers.iter().find(|x| x.name == issuer_name(*issuer)) else {
                continue;
            };
            // A live rule needs a live issuer and a declared, non-archived service account.
            if !archived && (issuer_spec.archived || !grantable(*sa)) {
                continue;
            }
            let names: Vec<String> = ws
                .iter()
                .map(|w| format!("ws-{w}"))
                .filter(|n| open.get(n.as_str()) == Some(&true))
                .collect();
            let workspaces = if *all || names.is_empty() {
                RuleWorkspaces::ALL
            } else {
                RuleWorkspaces::Named(names)
            };
            fed.rules.push(RuleSpec {
                name: rule_name(r),
                description: described.map(|d| if d { "deploys".to_owned() } else { "ci".to_owned() }),
                issuer: issuer_name(*issuer),
                rule_match: MatchSpec {
                    subject_prefix: Some(SUBJECTS[*subject].to_owned()),
                    ..MatchSpec::default()
                },
                service_account: sa_name(*sa),
                oauth_scope: SCOPES[*scope].to_owned(),
                token_lifetime_seconds: long.map(|l| if l { 7200 } else { 3600 }),
                workspaces: Some(workspaces),
                archived: *archived,
            });
        }
        m.federation = fed;
        m
    }
}

prop_compose! {
    /// Plan options with, sometimes, the running pipeline's rule or service account and the
    /// `--archive-protected-service-accounts` override.
    pub fn identity_options()(
        rule in proptest::option::weighted(0.3, 0..RULES),
        sa in proptest::option::weighted(0.3, 0..SAS),
        archive_protected in proptest::bool::weighted(0.3),
        allow in proptest::option::weighted(0.5, 0u32..4),
    ) -> PlanOptions {
        PlanOptions {
            archive_protected_service_accounts: archive_protected,
            pipeline: Pipeline {
                federation_rule_id: rule.map(rule_id),
                service_account_id: sa.map(sa_id),
            },
            ..options(allow)
        }
    }
}
