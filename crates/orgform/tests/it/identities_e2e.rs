//! Service accounts, their workspace grants, federation issuers and rules through the real
//! binary and an OAuth bearer token, as a user runs it: create, update, archive (each followed
//! by an empty `plan --detailed-exitcode`), archives that cannot be undone, drift after a
//! change made outside orgform, the export round trip, destructive limits and protection.
//! Runs use no hidden flag (`--now`, `--rate-limit 0`) unless a step says so; the shared
//! helpers are in `identities_support`.

use orgform_emulator::FaultConfig;
use orgform_emulator::readings::Readings;
use orgform_model::{ServiceAccountRole, WorkspaceRole};
use serde_json::Value;

use crate::identities_support::{
    IdOrg, V1, V2, accounts_archived, all_archived, archived_names, manifest, rule_archived,
    rule_id, sa_named, write,
};

/// The JSON plan's action kinds, in order.
fn action_kinds(stdout: &str) -> Vec<String> {
    let plan: Value = serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap().to_owned())
        .collect()
}

fn apply_ok(org: &IdOrg, dir: &std::path::Path) {
    let apply = org.plain(dir, &["apply", "--auto-approve"], &[]);
    assert_eq!(apply.code, 0, "{apply:?}");
}

/// Create, update, archive: each applied by the binary, each followed by an empty plan.
#[test]
fn create_update_archive_each_apply_then_plan_is_empty() {
    let org = IdOrg::start(Readings::default(), FaultConfig::default());
    let dir = tempfile::tempdir().unwrap();

    write(dir.path(), &manifest(V1));
    let plan = org.plain(dir.path(), &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(plan.code, 2, "{plan:?}");
    for line in [
        "service account ci-bot",
        "federation issuer lab",
        "federation rule deploy",
    ] {
        assert!(plan.stdout.contains(line), "{line}: {}", plan.stdout);
    }
    apply_ok(&org, dir.path());
    org.assert_converged(dir.path());
    let ci = sa_named(&org, "ci-bot");
    assert_eq!(ci.description.as_deref(), Some("deploys"));
    assert_eq!(
        sa_named(&org, "keep-bot").description.as_deref(),
        Some("new words")
    );
    assert_eq!(
        org.explicit_role("ci-bot", "Production"),
        Some(WorkspaceRole::WorkspaceDeveloper)
    );
    assert_eq!(
        org.explicit_role("keep-bot", "Production"),
        Some(WorkspaceRole::WorkspaceAdmin)
    );

    // Update: description, role, grant role, a new grant, rule scope, lifetime, workspaces.
    write(dir.path(), &manifest(V2));
    let plan = org.plain(dir.path(), &["plan", "--format", "json"], &[]);
    let kinds = action_kinds(&plan.stdout);
    for kind in [
        "update_service_account",
        "update_service_account_member",
        "add_service_account_member",
        "update_federation_issuer",
        "update_federation_rule",
        "enable_federation_rule_workspace",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "{kind}: {kinds:?}");
    }
    apply_ok(&org, dir.path());
    org.assert_converged(dir.path());
    let ci = sa_named(&org, "ci-bot");
    assert_eq!(ci.description.as_deref(), Some("deploys prod"));
    assert_eq!(ci.organization_role, ServiceAccountRole::Admin);
    assert_eq!(
        org.explicit_role("ci-bot", "Production"),
        Some(WorkspaceRole::WorkspaceUser)
    );
    assert_eq!(
        org.explicit_role("ci-bot", "Staging"),
        Some(WorkspaceRole::WorkspaceDeveloper)
    );
    let ids = org.identities();
    let rule = &ids.federation_rules[0];
    assert_eq!(rule.oauth_scope, "workspace:inference");
    assert_eq!(rule.token_lifetime_seconds, 900);
    assert_eq!(rule.workspace_ids.len(), 2);
    assert_eq!(ids.federation_issuers[0].max_jwt_lifetime_seconds, 600);

    // Archive: the rule, its issuer and two service accounts.
    write(dir.path(), &manifest(&all_archived(V2)));
    let plan = org.plain(dir.path(), &["plan", "--format", "json"], &[]);
    let kinds = action_kinds(&plan.stdout);
    let position = |k: &str| {
        kinds
            .iter()
            .position(|x| x == k)
            .unwrap_or_else(|| panic!("{k}: {kinds:?}"))
    };
    assert!(position("archive_federation_rule") < position("archive_federation_issuer"));
    assert_eq!(
        kinds
            .iter()
            .filter(|k| *k == "archive_service_account")
            .count(),
        2
    );
    apply_ok(&org, dir.path());
    org.assert_converged(dir.path());
    assert_eq!(
        archived_names(&org),
        ["deploy", "keep-bot", "lab", "old-bot"]
    );
}

/// Archiving cannot be undone: a service account declared again without `archived: true` is
/// blocked (exit 3 for `plan` and `apply`, no write), and a federation rule declared again is
/// planned as a new rule (never an unarchive), which the API refuses while the archived name
/// stays taken; the archived objects stay archived either way.
#[test]
fn archives_cannot_be_undone() {
    let org = IdOrg::start(Readings::default(), FaultConfig::default());
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &manifest(V1));
    apply_ok(&org, dir.path());
    write(
        dir.path(),
        &manifest(&accounts_archived(&rule_archived(V1))),
    );
    apply_ok(&org, dir.path());
    assert_eq!(archived_names(&org), ["deploy", "keep-bot", "old-bot"]);
    org.emulator().clear_request_log();

    // keep-bot and old-bot declared again as live: blocked.
    write(dir.path(), &manifest(&rule_archived(V1)));
    let plan = org.plain(dir.path(), &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(plan.code, 3, "{plan:?}");
    assert!(
        plan.stdout.contains("archiving cannot be undone"),
        "{}",
        plan.stdout
    );
    let apply = org.plain(dir.path(), &["apply", "--auto-approve"], &[]);
    assert_eq!(apply.code, 3, "{apply:?}");
    assert!(org.writes().is_empty(), "{:?}", org.writes());
    assert!(sa_named(&org, "keep-bot").is_archived());

    // The rule declared again: blocked too, never created again (the API may keep the
    // archived name taken, 409, or free it, under the `federation-names` reading).
    let rule = rule_id(&org, "deploy");
    write(dir.path(), &manifest(&accounts_archived(V1)));
    let plan = org.plain(dir.path(), &["plan", "--format", "json"], &[]);
    assert_eq!(plan.code, 3, "{plan:?}");
    assert!(action_kinds(&plan.stdout).is_empty(), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("archived_federation_object"),
        "{}",
        plan.stdout
    );
    let apply = org.plain(dir.path(), &["apply", "--auto-approve"], &[]);
    assert_eq!(apply.code, 3, "{apply:?}");
    assert!(org.writes().is_empty(), "{:?}", org.writes());
    let ids = org.identities();
    assert_eq!(ids.federation_rules.len(), 1, "no second rule");
    assert_eq!(ids.federation_rules[0].id, rule);
    assert!(ids.federation_rules[0].is_archived());
    assert_eq!(archived_names(&org), ["deploy", "keep-bot", "old-bot"]);
}

/// Out-of-band changes (as in the Console) are drift with the right kinds; right after an
/// apply there is none, though every service account holds its implicit membership of the
/// default workspace.
#[test]
fn drift_after_an_out_of_band_change() {
    let org = IdOrg::start(Readings::default(), FaultConfig::default());
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &manifest(V1));
    apply_ok(&org, dir.path());
    let clean = org.plain(dir.path(), &["drift"], &[]);
    assert_eq!(clean.code, 0, "implicit memberships never drift: {clean:?}");
    let default_ws = org.emulator().default_workspace_id();

    let production = org.workspace_id("Production");
    org.emulator().modify(|state| {
        let ids = &mut state.identities;
        let ci = ids
            .service_accounts
            .iter_mut()
            .find(|s| s.name == "ci-bot")
            .unwrap();
        ci.description = Some("changed in the Console".into());
        let ci_id = ci.id.clone();
        ids.service_accounts.push(orgform_model::ServiceAccount {
            id: "svac_01StrayConsole000000000".into(),
            name: "console-bot".into(),
            description: None,
            organization_role: ServiceAccountRole::Developer,
            created_at: "2026-05-01T00:00:00Z".parse().unwrap(),
            archived_at: None,
        });
        let grant = ids
            .service_account_members
            .iter_mut()
            .find(|m| m.service_account_id == ci_id && m.workspace_id == production)
            .unwrap();
        grant.workspace_role = WorkspaceRole::WorkspaceAdmin;
        // A widened match is drift; the token lifetime, which V1 does not state, is not.
        ids.federation_rules[0].rule_match.subject_prefix = Some("system:*".into());
        ids.federation_rules[0].token_lifetime_seconds = 60;
    });
    let drift = org.plain(dir.path(), &["drift", "--format", "json"], &[]);
    assert_eq!(drift.code, 2, "{drift:?}");
    let report: Value = serde_json::from_str(&drift.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let found = |category: &str, object: &str, field: Option<&str>| {
        findings.iter().any(|f| {
            f["category"] == category
                && f["object"].as_str().unwrap().contains(object)
                && field.is_none_or(|x| f["field"] == x)
        })
    };
    assert!(
        found("changed", "service account ci-bot", Some("description")),
        "{findings:#?}"
    );
    assert!(
        found("changed", "ci-bot", Some("workspace_role")),
        "{findings:#?}"
    );
    assert!(
        found("changed", "federation rule deploy", Some("match")),
        "{findings:#?}"
    );
    assert!(
        found("unmanaged", "service account console-bot", None),
        "{findings:#?}"
    );
    assert_eq!(findings.len(), 4, "{findings:#?}");
    assert!(
        !drift.stdout.contains("token_lifetime_seconds"),
        "not managed by V1"
    );
    assert!(
        !drift.stdout.contains(&default_ws),
        "the implicit default-workspace membership never drifts: {}",
        drift.stdout
    );
}

/// `export` of an organization holding every identity kind (live and archived service
/// accounts, grants, an issuer, rules on a list of workspaces and on all) plans empty.
#[test]
fn export_round_trip_of_every_identity_kind_plans_empty() {
    let org = IdOrg::start(Readings::default(), FaultConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let all = V1.replace(
        "  rules:\n",
        "  rules:\n    - name: everywhere\n      issuer: lab\n      service_account: keep-bot\n      oauth_scope: workspace:inference\n      match: {claims: {team: platform}}\n      workspaces: all\n",
    );
    write(dir.path(), &manifest(&all));
    apply_ok(&org, dir.path());
    let archive = manifest(&all).replace(
        "  - name: old-bot\n",
        "  - name: old-bot\n    archived: true\n",
    );
    write(dir.path(), &archive);
    apply_ok(&org, dir.path());

    let export = org.plain(dir.path(), &["export", "--out", "exported.yaml"], &[]);
    assert_eq!(export.code, 0, "{export:?}");
    let text = std::fs::read_to_string(dir.path().join("exported.yaml")).unwrap();
    for needle in [
        "- name: ci-bot",
        "- name: lab",
        "- name: deploy",
        "- name: everywhere",
        "ci-bot: workspace_developer",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    let plan = org.plain(
        dir.path(),
        &["plan", "-f", "exported.yaml", "--detailed-exitcode"],
        &[],
    );
    assert_eq!(plan.code, 0, "{plan:?}\n{text}");
    let drift = org.plain(dir.path(), &["drift", "-f", "exported.yaml"], &[]);
    assert_eq!(drift.code, 0, "{drift:?}\n{text}");
}

/// Archives of each identity kind over their destructive limit: `plan` and `apply` exit 3
/// and nothing is written; `--allow-destructive` lets them through.
#[test]
fn identity_archives_over_the_limit_are_refused_with_no_write() {
    let org = IdOrg::start(Readings::default(), FaultConfig::default());
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &manifest(V1));
    apply_ok(&org, dir.path());
    org.emulator().clear_request_log();
    let over = manifest(&all_archived(V1)).replace(
        "limits: {max_destructive_percent: 100}",
        "limits: {max_destructive: 0}",
    );
    write(dir.path(), &over);
    let plan = org.plain(dir.path(), &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(plan.code, 3, "{plan:?}");
    let text = format!("{}{}", plan.stdout, plan.stderr);
    for kind in [
        "service account archives",
        "federation rule archives",
        "federation issuer archives",
    ] {
        assert!(text.contains(kind), "{kind}: {text}");
    }
    for run in [
        org.plain(dir.path(), &["apply", "--auto-approve"], &[]),
        org.hidden(dir.path(), &["apply", "--auto-approve"], &[]),
    ] {
        assert_eq!(run.code, 3, "{run:?}");
    }
    assert!(org.writes().is_empty(), "{:?}", org.writes());
    assert!(archived_names(&org).is_empty());
    let apply = org.plain(
        dir.path(),
        &["apply", "--auto-approve", "--allow-destructive", "2"],
        &[],
    );
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_eq!(
        archived_names(&org),
        ["deploy", "keep-bot", "lab", "old-bot"]
    );
}

/// The pipeline's own rule (`ANTHROPIC_FEDERATION_RULE_ID`) and the rules of the service
/// account it acts as (`ANTHROPIC_SERVICE_ACCOUNT_ID`) are never archived nor narrowed: exit
/// 3, no write. Run from another credential (the variables unset), the archive goes through.
/// A protected service account's archive needs `--archive-protected-service-accounts`.
#[test]
fn the_pipelines_rule_and_protected_service_accounts_need_the_override() {
    let org = IdOrg::start(Readings::default(), FaultConfig::default());
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &manifest(V2));
    apply_ok(&org, dir.path());
    org.emulator().clear_request_log();
    let rule = rule_id(&org, "deploy");
    let ci = sa_named(&org, "ci-bot").id;

    let narrowed = manifest(V2).replace(
        "workspaces: [Production, Staging]",
        "workspaces: [Production]",
    );
    write(dir.path(), &narrowed);
    let as_ci = [("ANTHROPIC_SERVICE_ACCOUNT_ID", ci.as_str())];
    let plan = org.plain(dir.path(), &["plan"], &as_ci);
    assert_eq!(plan.code, 3, "{plan:?}");
    assert!(
        plan.stdout.contains("ANTHROPIC_SERVICE_ACCOUNT_ID"),
        "{}",
        plan.stdout
    );
    let apply = org.plain(dir.path(), &["apply", "--auto-approve"], &as_ci);
    assert_eq!(apply.code, 3, "{apply:?}");
    assert!(org.writes().is_empty(), "{:?}", org.writes());

    write(dir.path(), &manifest(&rule_archived(V2)));
    let through = [("ANTHROPIC_FEDERATION_RULE_ID", rule.as_str())];
    let plan = org.plain(dir.path(), &["plan"], &through);
    assert_eq!(plan.code, 3, "{plan:?}");
    assert!(
        plan.stdout.contains("ANTHROPIC_FEDERATION_RULE_ID"),
        "{}",
        plan.stdout
    );
    for run in [
        org.plain(dir.path(), &["apply", "--auto-approve"], &through),
        org.hidden(dir.path(), &["apply", "--auto-approve"], &through),
    ] {
        assert_eq!(run.code, 3, "{run:?}");
    }
    assert!(org.writes().is_empty(), "{:?}", org.writes());
    assert!(archived_names(&org).is_empty());
    // Another credential: the rule is archived.
    apply_ok(&org, dir.path());
    assert_eq!(archived_names(&org), ["deploy"]);

    // Protected by name: the service account's archive waits for the flag.
    let protected = manifest(&accounts_archived(&rule_archived(V2))).replace(
        "settings:\n",
        "settings:\n  protected_service_accounts: [keep-bot]\n",
    );
    write(dir.path(), &protected);
    let plan = org.plain(dir.path(), &["plan"], &[]);
    assert_eq!(plan.code, 3, "{plan:?}");
    assert!(
        plan.stdout.contains("protected_service_accounts"),
        "{}",
        plan.stdout
    );
    let apply = org.plain(dir.path(), &["apply", "--auto-approve"], &[]);
    assert_eq!(apply.code, 3, "{apply:?}");
    assert_eq!(
        archived_names(&org),
        ["deploy", "old-bot"],
        "everything else is done"
    );
    let apply = org.plain(
        dir.path(),
        &[
            "apply",
            "--auto-approve",
            "--archive-protected-service-accounts",
        ],
        &[],
    );
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_eq!(archived_names(&org), ["deploy", "keep-bot", "old-bot"]);
    org.assert_converged_with(dir.path(), &["--archive-protected-service-accounts"]);
}

/// `drift --attribute` names who changed a drifted service account and its grant, from the
/// activity feed the emulator records for identity writes made through the API by another
/// credential (outside orgform).
#[test]
fn drift_attribute_names_who_changed_an_identity() {
    let org = IdOrg::start(Readings::default(), FaultConfig::default());
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &manifest(V1));
    apply_ok(&org, dir.path());
    let ci = sa_named(&org, "ci-bot").id;
    let production = org.workspace_id("Production");
    let other = orgform_api::Client::new(
        orgform_api::ClientConfig {
            base_url: org.emulator().base_url(),
            rate_limit: None,
            ..orgform_api::ClientConfig::default()
        },
        orgform_api::AdminKey::bearer(org.emulator().admin_key()).unwrap(),
    )
    .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let update = orgform_api::UpdateServiceAccount {
            description: Some("changed elsewhere".into()),
            organization_role: None,
        };
        other.update_service_account(&ci, &update).await.unwrap();
        other
            .update_service_account_member(&production, &ci, &WorkspaceRole::WorkspaceAdmin)
            .await
            .unwrap();
    });

    let text = org.plain(dir.path(), &["drift", "--attribute"], &[]);
    assert_eq!(text.code, 2, "{text:?}");
    for activity in [
        "(service_account_updated)",
        "(service_account_workspace_member_updated)",
    ] {
        assert!(
            text.stdout.contains(activity),
            "{activity}: {}",
            text.stdout
        );
    }
    assert!(text.stdout.contains("changed by"), "{}", text.stdout);
    let json = org.plain(
        dir.path(),
        &["drift", "--attribute", "--format", "json"],
        &[],
    );
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    let changes = &report["attribution"]["changes"];
    let of_ci = changes["service account ci-bot"].as_array().unwrap();
    let by = |activity: &str| {
        of_ci
            .iter()
            .find(|c| c["activity"] == activity)
            .unwrap_or_else(|| panic!("{activity}: {changes:#}"))["by"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // The change made elsewhere, by the other credential; the creation by orgform's token.
    assert!(
        by("service_account_updated").starts_with("admin api key"),
        "{changes:#}"
    );
    assert_eq!(
        by("service_account_created"),
        "api oauth token 1",
        "{changes:#}"
    );
    // orgform's own writes are attributed too, but never to a drifted object they did not
    // touch: keep-bot, updated by the apply only, does not drift and is not listed.
    assert!(
        changes.get("service account keep-bot").is_none(),
        "{changes:#}"
    );
}
