//! The identity properties, over generated service accounts, grants, issuers and rules, live
//! and declared:
//!
//! - convergence: the plan applied to the live snapshot by the model applier (which refuses
//!   what the API refuses), then planned again, gives no action;
//! - safety: only `archived: true` archives; undeclared objects are reported, never archived;
//!   a read without identities yields no identity action; protected service accounts and the
//!   pipeline's own rule are never archived or narrowed without the override (the override
//!   lifts only `settings.protected_service_accounts`, and only for archives); the implicit
//!   default-workspace membership never leads to an action, a report or drift;
//! - order: issuers before the rules that name them, service accounts before their grants and
//!   the rules that target them, identity archives last, rules archived before their service
//!   account and issuer;
//! - marks: every archive destructive and irreversible, every narrowing destructive;
//! - limits: a kind is refused exactly when its count passes its limit.

use std::collections::BTreeSet;

use orgform_manifest::{Manifest, WorkspaceMemberPolicy};
use orgform_model::Snapshot;
use orgform_plan::{
    Action, DestructiveKind, ObjectKind, ObjectRef, Op, Plan, PlanOptions, Refusal,
    ServiceAccountRef, WorkspaceRef, plan, render,
};
use proptest::prelude::*;

use super::convergence::simulate;
use super::identity_generators::{
    DEFAULT_WS, identity_options, live_identities, manifest_identities,
};
use super::identity_model::is_identity_op;

fn name_of(live: &Snapshot, sa_id: &str) -> Option<String> {
    live.identities
        .as_ref()?
        .service_account(sa_id)
        .map(|s| s.name.clone())
}

fn rule_of<'a>(live: &'a Snapshot, id: &str) -> Option<&'a orgform_model::FederationRule> {
    live.identities
        .as_ref()?
        .federation_rules
        .iter()
        .find(|r| r.id == id)
}

/// Why the rule with this id is protected without the override: the pipeline's own rule or
/// service account, or a service account of `settings.protected_service_accounts`.
fn pipeline_protects(o: &PlanOptions, live: &Snapshot, rule_id: &str) -> bool {
    let Some(rule) = rule_of(live, rule_id) else {
        return false;
    };
    o.pipeline.federation_rule_id.as_deref() == Some(rule_id)
        || o.pipeline.service_account_id.as_deref() == Some(rule.target_service_account_id.as_str())
}

fn settings_protect(m: &Manifest, live: &Snapshot, rule_id: &str) -> bool {
    rule_of(live, rule_id)
        .and_then(|r| name_of(live, &r.target_service_account_id))
        .is_some_and(|n| m.settings.protected_service_accounts.contains(&n))
}

/// The first safety violation of an identity action, if any.
fn violation(m: &Manifest, live: &Snapshot, o: &PlanOptions, a: &Action) -> Option<String> {
    let declared_archived_sa = |name: &str| {
        m.service_accounts
            .iter()
            .any(|s| s.name == name && s.archived)
    };
    let bad = match &a.op {
        Op::ArchiveServiceAccount {
            service_account_id,
            name,
        } => {
            !declared_archived_sa(name)
                || o.pipeline.service_account_id.as_deref() == Some(service_account_id.as_str())
                || (m.settings.protected_service_accounts.contains(name)
                    && !o.archive_protected_service_accounts)
        }
        Op::ArchiveFederationIssuer { name, .. } => !m
            .federation
            .issuers
            .iter()
            .any(|i| &i.name == name && i.archived),
        Op::ArchiveFederationRule { rule_id, name } => {
            !m.federation
                .rules
                .iter()
                .any(|r| &r.name == name && r.archived)
                || pipeline_protects(o, live, rule_id)
                || (settings_protect(m, live, rule_id) && !o.archive_protected_service_accounts)
        }
        Op::DisableFederationRuleWorkspace { rule_id, .. }
        | Op::UpdateFederationRule {
            rule_id,
            applies_to_all_workspaces: Some(false),
            ..
        } => pipeline_protects(o, live, rule_id) || settings_protect(m, live, rule_id),
        Op::RemoveServiceAccountMember {
            workspace_id, name, ..
        } => {
            let managed = m.workspaces.iter().any(|w| {
                w.service_accounts.is_some()
                    && live
                        .workspace(workspace_id)
                        .is_some_and(|l| l.name == w.name)
            });
            m.settings.workspace_members.unmanaged != WorkspaceMemberPolicy::Remove
                || !managed
                || m.settings.protected_service_accounts.contains(name)
        }
        _ => false,
    };
    if bad {
        return Some(format!("not allowed: #{} {} {:?}", a.id, a.target, a.op));
    }
    if !is_identity_op(&a.op) {
        return None;
    }
    let (destructive, irreversible) = match &a.op {
        Op::ArchiveServiceAccount { .. }
        | Op::ArchiveFederationIssuer { .. }
        | Op::ArchiveFederationRule { .. } => (true, true),
        Op::DisableFederationRuleWorkspace { .. }
        | Op::RemoveServiceAccountMember { .. }
        | Op::UpdateFederationRule {
            applies_to_all_workspaces: Some(false),
            ..
        } => (true, false),
        _ => (false, false),
    };
    if (a.destructive, a.irreversible) != (destructive, irreversible) {
        return Some(format!(
            "#{} {} is destructive={} irreversible={}, should be {destructive} {irreversible}",
            a.id, a.target, a.destructive, a.irreversible
        ));
    }
    let mentions_default = serde_json::to_string(&a.op).unwrap().contains(DEFAULT_WS);
    mentions_default.then(|| format!("#{} acts on the default workspace", a.id))
}

/// The first order violation, if any.
fn order_violation(p: &Plan) -> Option<String> {
    for a in &p.actions {
        if let Some(d) = a.depends_on.iter().find(|d| **d >= a.id) {
            return Some(format!("#{} depends on the later #{d}", a.id));
        }
    }
    let created = |kind: &str, name: &str, before: u32| {
        p.actions.iter().find(|b| {
            b.id < before
                && match (&b.op, kind) {
                    (Op::CreateFederationIssuer { name: n, .. }, "issuer")
                    | (Op::CreateServiceAccount { name: n, .. }, "sa")
                    | (Op::CreateWorkspace { name: n, .. }, "ws") => n == name,
                    _ => false,
                }
        })
    };
    for a in &p.actions {
        let mut needs: Vec<(&str, &str)> = Vec::new();
        match &a.op {
            Op::CreateFederationRule {
                issuer,
                service_account,
                workspaces,
                ..
            } => {
                if let ObjectRef::Created { name } = issuer {
                    needs.push(("issuer", name));
                }
                if let ObjectRef::Created { name } = service_account {
                    needs.push(("sa", name));
                }
                for w in workspaces {
                    if let WorkspaceRef::Created { name } = w {
                        needs.push(("ws", name));
                    }
                }
            }
            Op::UpdateFederationRule {
                service_account: Some(ObjectRef::Created { name }),
                ..
            } => needs.push(("sa", name)),
            Op::AddServiceAccountMember {
                workspace,
                service_account,
                ..
            } => {
                if let ServiceAccountRef::Created { name } = service_account {
                    needs.push(("sa", name));
                }
                if let WorkspaceRef::Created { name } = workspace {
                    needs.push(("ws", name));
                }
            }
            Op::EnableFederationRuleWorkspace {
                workspace: WorkspaceRef::Created { name },
                ..
            } => needs.push(("ws", name)),
            _ => {}
        }
        for (kind, name) in needs {
            match created(kind, name, a.id) {
                Some(b) if a.depends_on.contains(&b.id) => {}
                _ => return Some(format!("#{} needs the {kind} {name} created first", a.id)),
            }
        }
    }
    let is_archive = |op: &Op| {
        matches!(
            op,
            Op::ArchiveServiceAccount { .. }
                | Op::ArchiveFederationIssuer { .. }
                | Op::ArchiveFederationRule { .. }
        )
    };
    if let Some(first) = p.actions.iter().position(|a| is_archive(&a.op))
        && let Some(late) = p.actions[first..].iter().find(|a| !is_archive(&a.op))
    {
        return Some(format!("#{} comes after an identity archive", late.id));
    }
    None
}

/// Rules archived before the service account they target and the issuer they use.
fn archive_order_violation(live: &Snapshot, p: &Plan) -> Option<String> {
    let position = |pred: &dyn Fn(&Op) -> bool| p.actions.iter().position(|a| pred(&a.op));
    for a in &p.actions {
        let Op::ArchiveFederationRule { rule_id, .. } = &a.op else {
            continue;
        };
        let rule = rule_of(live, rule_id)?;
        let here = position(
            &|op| matches!(op, Op::ArchiveFederationRule { rule_id: r, .. } if r == rule_id),
        )?;
        let sa = position(
            &|op| matches!(op, Op::ArchiveServiceAccount { service_account_id, .. } if *service_account_id == rule.target_service_account_id),
        );
        let issuer = position(
            &|op| matches!(op, Op::ArchiveFederationIssuer { issuer_id, .. } if *issuer_id == rule.issuer_id),
        );
        if sa.is_some_and(|s| s < here) || issuer.is_some_and(|i| i < here) {
            return Some(format!("rule {rule_id} is archived after what it needs"));
        }
    }
    None
}

const IDENTITY_KINDS: [DestructiveKind; 5] = [
    DestructiveKind::ServiceAccountArchives,
    DestructiveKind::ServiceAccountMemberRemovals,
    DestructiveKind::FederationIssuerArchives,
    DestructiveKind::FederationRuleArchives,
    DestructiveKind::FederationRuleWorkspaceRemovals,
];

/// The live objects each identity kind counts against, counted here from the snapshot:
/// non-archived objects; explicit memberships in listed workspaces; enabled workspaces and
/// `all` of live rules.
fn total(live: &Snapshot, kind: DestructiveKind) -> u32 {
    let Some(ids) = live.identities.as_ref() else {
        return 0;
    };
    let n = match kind {
        DestructiveKind::ServiceAccountArchives => ids
            .service_accounts
            .iter()
            .filter(|s| !s.is_archived())
            .count(),
        DestructiveKind::ServiceAccountMemberRemovals => ids
            .service_account_members
            .iter()
            .filter(|m| live.workspace(&m.workspace_id).is_some())
            .count(),
        DestructiveKind::FederationIssuerArchives => ids
            .federation_issuers
            .iter()
            .filter(|i| !i.is_archived())
            .count(),
        DestructiveKind::FederationRuleArchives => ids
            .federation_rules
            .iter()
            .filter(|r| !r.is_archived())
            .count(),
        _ => ids
            .federation_rules
            .iter()
            .filter(|r| !r.is_archived())
            .map(|r| r.workspace_ids.len() + usize::from(r.applies_to_all_workspaces))
            .sum(),
    };
    u32::try_from(n).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// The plan applied by the model (which refuses what the API refuses) leaves nothing to
    /// do: planning again gives no action.
    #[test]
    fn identity_plans_converge(live in live_identities(), m in manifest_identities(), o in identity_options()) {
        let o = PlanOptions { allow_destructive: Some(1000), ..o };
        let first = plan(&m, &live, &o);
        if first.is_refused() {
            return Ok(());
        }
        let after = simulate(&live, &first);
        let second = plan(&m, &after, &o);
        prop_assert!(
            second.actions.is_empty() && second.errors.is_empty(),
            "first:\n{}\nsecond:\n{}",
            render::text(&first, false),
            render::text(&second, false)
        );
    }

    /// Safety, order, marks and limits of every generated identity plan.
    #[test]
    fn identity_plans_are_safe_ordered_and_limited(live in live_identities(), m in manifest_identities(), o in identity_options()) {
        let p = plan(&m, &live, &o);
        let text = || render::text(&p, false);
        if live.identities.is_none() {
            prop_assert!(!p.actions.iter().any(|a| is_identity_op(&a.op)), "{}", text());
            let declares = !m.service_accounts.is_empty()
                || !m.federation.is_empty()
                || m.workspaces.iter().any(|w| w.service_accounts.is_some());
            let refused = p.errors.iter().any(|e| e.kind == orgform_plan::PlanErrorKind::IdentitiesNotRead);
            prop_assert_eq!(declares, refused, "{:?}", p.errors);
        }
        for a in &p.actions {
            if let Some(v) = violation(&m, &live, &o, a) {
                prop_assert!(false, "{}\n{}", v, text());
            }
        }
        if let Some(v) = order_violation(&p).or_else(|| archive_order_violation(&live, &p)) {
            prop_assert!(false, "{}\n{}", v, text());
        }
        // Undeclared live objects are reported (never archived: checked above).
        if let Some(ids) = &live.identities {
            let sa_names: BTreeSet<&str> = m.service_accounts.iter().map(|s| s.name.as_str()).collect();
            let declares_sas = !m.service_accounts.is_empty() || m.workspaces.iter().any(|w| w.service_accounts.is_some());
            if p.errors.is_empty() && declares_sas {
                for sa in ids.service_accounts.iter().filter(|s| !s.is_archived() && !sa_names.contains(s.name.as_str())) {
                    prop_assert!(
                        p.unmanaged.iter().any(|u| u.kind == ObjectKind::ServiceAccount && u.id == sa.id),
                        "undeclared {} not reported", sa.name
                    );
                }
            }
            if p.errors.is_empty() && !m.federation.is_empty() {
                let rules: BTreeSet<&str> = m.federation.rules.iter().map(|r| r.name.as_str()).collect();
                for r in ids.federation_rules.iter().filter(|r| !r.is_archived() && !rules.contains(r.name.as_str())) {
                    let u = p.unmanaged.iter().find(|u| u.kind == ObjectKind::FederationRule && u.id == r.id);
                    prop_assert!(u.is_some(), "undeclared rule {} not reported", r.name);
                    prop_assert_eq!(
                        u.unwrap().protected,
                        pipeline_protects(&o, &live, &r.id) || settings_protect(&m, &live, &r.id)
                    );
                }
            }
        }
        // The implicit default-workspace membership: no report, no drift.
        prop_assert!(!p.unmanaged.iter().any(|u| u.id.contains(DEFAULT_WS)), "{:?}", p.unmanaged);
        let d = orgform_plan::drift(&m, &live, &o);
        prop_assert!(!render::drift_json(&d).contains(DEFAULT_WS));
        // Limits: refused exactly when the count passes the limit.
        if p.errors.is_empty() {
            for kind in IDENTITY_KINDS {
                let count = u32::try_from(p.actions.iter().filter(|a| a.destructive_kind() == Some(kind)).count()).unwrap();
                let limits = &m.settings.limits;
                let limit = orgform_plan::destructive_limit(limits.max_destructive, limits.max_destructive_percent, total(&live, kind), o.allow_destructive);
                let refused = p.refusals.iter().any(|r| matches!(r, Refusal::DestructiveLimit { destructive_kind, .. } if *destructive_kind == kind));
                prop_assert_eq!(refused, count > limit, "{:?}: {} against {}\n{}", kind, count, limit, text());
            }
        }
    }
}

/// The generators reach every identity operation, protection, refusal and the implicit
/// membership, so the properties above are not vacuous.
#[test]
fn identity_generators_reach_every_operation() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let strategy = (live_identities(), manifest_identities(), identity_options());
    let (mut kinds, mut protected, mut refused, mut implicit, mut unread) =
        (BTreeSet::new(), 0, 0, 0, 0);
    for _ in 0..600 {
        let (live, m, o) = strategy.new_tree(&mut runner).unwrap().current();
        let p = plan(
            &m,
            &live,
            &PlanOptions {
                allow_destructive: Some(1000),
                ..o.clone()
            },
        );
        kinds.extend(
            p.actions
                .iter()
                .filter(|a| is_identity_op(&a.op))
                .map(|a| a.op.name()),
        );
        protected += usize::from(
            p.blocked
                .iter()
                .any(|b| b.kind == orgform_plan::BlockedKind::Protected),
        );
        refused += usize::from(plan(&m, &live, &o).refusals.iter().any(|r| matches!(r, Refusal::DestructiveLimit { destructive_kind, .. } if IDENTITY_KINDS.contains(destructive_kind))));
        implicit += usize::from(live.identities.as_ref().is_some_and(|i| {
            i.service_account_members
                .iter()
                .any(|x| x.workspace_id == DEFAULT_WS)
        }));
        unread += usize::from(live.identities.is_none());
    }
    assert_eq!(kinds.len(), 14, "identity operations reached: {kinds:?}");
    assert!(protected > 10, "plans with protected items: {protected}");
    assert!(
        refused > 10,
        "plans refused on an identity limit: {refused}"
    );
    assert!(implicit > 100 && unread > 10, "{implicit} {unread}");
}
