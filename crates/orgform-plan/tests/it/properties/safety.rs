//! Safety properties: no action comes before an action it depends on; destructive actions
//! appear only when the manifest or its settings ask for them, and never against protected
//! emails; a converged organization plans nothing; planning is deterministic (also across
//! reorderings of the live lists), the JSON plan reads back to the same plan, plan errors
//! leave no actions, Markdown stays bounded.

use std::collections::BTreeSet;

use orgform_manifest::{
    ApiKeyPolicy, InvitePolicy, Manifest, MemberPolicy, WorkspaceMemberPolicy, WorkspacePolicy,
};
use orgform_model::{ApiKeyStatus, OrgRole, Snapshot, normalize_email};
use orgform_plan::{Op, Plan, plan, render};
use proptest::prelude::*;

use super::generators::{exported, live_org, manifest, options, settings, shuffled};
use crate::support::conformance;

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
