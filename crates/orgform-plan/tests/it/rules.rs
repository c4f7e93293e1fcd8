//! Focused tests of the tricky rules: ordering and dependencies, ambiguity errors, limits per
//! kind, invite expiry against `now`, comparisons that must not produce perpetual diffs,
//! the plan file's version check, and the renderers' safety properties.

use std::fmt::Write as _;

use orgform_manifest::Manifest;
use orgform_plan::{
    BlockedKind, DestructiveKind, Op, Plan, PlanErrorKind, PlanFileError, PlanOutcome, Refusal,
    WorkspaceRef, drift, plan, render,
};

use crate::support::inputs;

use inputs::{manifest, opts, seed};

fn users(n: usize, role: &str) -> String {
    let mut out = String::from("users:\n");
    for i in 0..n {
        let _ = writeln!(
            out,
            "  - {{id: user_01U{i:020}, email: u{i}@acme.example, name: U{i}, role: {role}, added_at: '2026-01-01T00:00:00Z'}}"
        );
    }
    out
}

fn ops(p: &Plan) -> Vec<&'static str> {
    p.actions.iter().map(|a| a.op.name()).collect()
}

#[test]
fn member_add_to_created_workspace_depends_on_creation_and_role_update() {
    let m = manifest(
        "members:\n  - {email: u0@acme.example, role: developer}\nworkspaces:\n  - name: fresh\n    members: {u0@acme.example: workspace_admin}\n",
    );
    let s = seed(&users(1, "billing"));
    let p = plan(&m, &s, &opts());
    assert_eq!(
        ops(&p),
        [
            "create_workspace",
            "update_user_role",
            "add_workspace_member"
        ]
    );
    let add = &p.actions[2];
    assert_eq!(add.depends_on, vec![1, 2]);
    match &add.op {
        Op::AddWorkspaceMember { workspace, .. } => {
            assert_eq!(
                workspace,
                &WorkspaceRef::Created {
                    name: "fresh".into()
                }
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_demoted_billing_member_gets_explicit_grants_checked_against_the_new_role() {
    // billing -> developer in this plan: workspace_developer is no longer implicit-blocked.
    let m = manifest(
        "members:\n  - {email: u0@acme.example, role: developer}\nworkspaces:\n  - name: w\n    members: {u0@acme.example: workspace_developer}\n",
    );
    let s = seed(&format!(
        "{}workspaces:\n  - {{id: wrkspc_01W00000000000000000001, name: w, created_at: '2026-01-01T00:00:00Z', display_color: '#111111'}}\n",
        users(1, "billing")
    ));
    let p = plan(&m, &s, &opts());
    assert!(p.blocked.is_empty(), "{:?}", p.blocked);
    assert_eq!(ops(&p), ["update_user_role", "add_workspace_member"]);
    assert_eq!(p.actions[1].depends_on, vec![1]);
}

#[test]
fn destructive_actions_come_after_constructive_ones_in_reverse_order() {
    let m = manifest(
        "settings:\n  members: {unmanaged: remove}\n  invites: {unmanaged: revoke}\n  workspaces: {unmanaged: archive}\n  limits: {max_destructive: 100, max_destructive_percent: 100}\nmembers:\n  - {email: u0@acme.example, role: developer}\n  - {email: new@acme.example, role: user}\nworkspaces:\n  - name: created\n",
    );
    let s = seed(&format!(
        "{}invites:\n  - {{id: invite_01X00000000000000000001, email: x@acme.example, role: user, status: pending, invited_at: '2026-10-25T00:00:00Z', expires_at: '2026-11-15T00:00:00Z'}}\nworkspaces:\n  - {{id: wrkspc_01W00000000000000000001, name: old, created_at: '2026-01-01T00:00:00Z', display_color: '#111111'}}\n",
        users(2, "user")
    ));
    let p = plan(&m, &s, &opts());
    assert_eq!(
        ops(&p),
        [
            "create_workspace",
            "create_invite",
            "update_user_role",
            "revoke_invite",
            "remove_user",
            "archive_workspace"
        ]
    );
    assert!(p.refusals.is_empty());
}

#[test]
fn ambiguity_and_unknown_ids_are_plan_errors_listed_together() {
    let m = manifest(
        "workspaces:\n  - name: twin\n  - name: pinned\n    id: wrkspc_01NOPE0000000000000000\napi_keys:\n  - name: dup\n  - id: apikey_01NOPE00000000000000000\n  - name: absent\n",
    );
    let s = seed(
        "workspaces:\n  - {id: wrkspc_01A00000000000000000001, name: twin, created_at: '2026-01-01T00:00:00Z', display_color: '#111111'}\n  - {id: wrkspc_01B00000000000000000001, name: twin, created_at: '2026-01-01T00:00:00Z', display_color: '#111111'}\napi_keys:\n  - {id: apikey_01A00000000000000000001, name: dup, created_at: '2026-01-01T00:00:00Z', status: active}\n  - {id: apikey_01B00000000000000000001, name: dup, created_at: '2026-01-01T00:00:00Z', status: archived}\n",
    );
    let p = plan(&m, &s, &opts());
    let kinds: Vec<PlanErrorKind> = p.errors.iter().map(|e| e.kind).collect();
    assert!(
        kinds.contains(&PlanErrorKind::AmbiguousWorkspace),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&PlanErrorKind::UnknownWorkspaceId),
        "{kinds:?}"
    );
    assert!(kinds.contains(&PlanErrorKind::AmbiguousApiKey), "{kinds:?}");
    assert!(kinds.contains(&PlanErrorKind::UnknownApiKeyId), "{kinds:?}");
    assert_eq!(p.errors.len(), 4);
    assert!(p.actions.is_empty() && p.is_refused());
    assert_eq!(p.outcome(), PlanOutcome::Refused);
    assert_eq!(
        p.missing.len(),
        1,
        "a name that matches nothing is missing, not an error"
    );
    // Archived namesakes are ignored when matching workspaces by name.
    let m = manifest("workspaces:\n  - name: twin\n");
    let s2 = seed(
        "workspaces:\n  - {id: wrkspc_01A00000000000000000001, name: twin, created_at: '2026-01-01T00:00:00Z', display_color: '#111111'}\n  - {id: wrkspc_01B00000000000000000001, name: twin, created_at: '2026-01-01T00:00:00Z', archived_at: '2026-02-01T00:00:00Z', display_color: '#111111'}\n",
    );
    assert!(plan(&m, &s2, &opts()).errors.is_empty());
}

#[test]
fn two_entries_on_one_live_workspace_are_an_error() {
    let m =
        manifest("workspaces:\n  - name: a\n  - name: b\n    id: wrkspc_01A00000000000000000001\n");
    let s = seed(
        "workspaces:\n  - {id: wrkspc_01A00000000000000000001, name: a, created_at: '2026-01-01T00:00:00Z', display_color: '#111111'}\n",
    );
    let p = plan(&m, &s, &opts());
    assert_eq!(p.errors.len(), 1);
    assert_eq!(p.errors[0].kind, PlanErrorKind::DuplicateMatch);
}

#[test]
fn limits_apply_per_kind_against_the_live_count_of_that_kind() {
    // 8 members, 4 unlisted: limit min(10, 25% of 8 = 2) = 2 -> refused for removals only.
    let mut body = String::from("settings:\n  members: {unmanaged: remove}\nmembers:\n");
    for i in 0..4 {
        let _ = writeln!(body, "  - {{email: u{i}@acme.example, role: user}}");
    }
    let m = manifest(&body);
    let s = seed(&users(8, "user"));
    let p = plan(&m, &s, &opts());
    assert_eq!(
        p.actions.len(),
        4,
        "the refused plan still shows what it would do"
    );
    match p.refusals.as_slice() {
        [
            Refusal::DestructiveLimit {
                destructive_kind,
                count,
                limit,
                live_total,
                override_hint,
            },
        ] => {
            assert_eq!(*destructive_kind, DestructiveKind::MemberRemovals);
            assert_eq!((*count, *limit, *live_total), (4, 2, 8));
            assert!(
                override_hint.contains("--allow-destructive 4"),
                "{override_hint}"
            );
        }
        other => panic!("unexpected refusals {other:?}"),
    }
    // --allow-destructive replaces both limits.
    let mut o = opts();
    o.allow_destructive = Some(4);
    assert!(plan(&m, &s, &o).refusals.is_empty());
    o.allow_destructive = Some(3);
    assert_eq!(plan(&m, &s, &o).refusals.len(), 1);
    // The manifest may raise its limits instead.
    let raised = manifest(&body.replace(
        "settings:\n",
        "settings:\n  limits: {max_destructive: 10, max_destructive_percent: 50}\n",
    ));
    assert!(plan(&raised, &s, &opts()).refusals.is_empty());
}

#[test]
fn invite_expiry_follows_now() {
    let m = manifest("members:\n  - {email: late@acme.example, role: user}\n");
    let s = seed(
        "invites:\n  - {id: invite_01L00000000000000000001, email: late@acme.example, role: user, status: pending, invited_at: '2026-10-01T00:00:00Z', expires_at: '2026-10-22T00:00:00Z'}\n",
    );
    // Read as pending, but past expires_at at `now`: re-issued.
    let p = plan(&m, &s, &opts());
    assert_eq!(ops(&p), ["create_invite"]);
    let mut early = opts();
    early.now = "2026-10-10T00:00:00Z".parse().unwrap();
    let p = plan(&m, &s, &early);
    assert!(p.actions.is_empty());
    assert_eq!(p.pending.len(), 1);
}

#[test]
fn equivalent_values_do_not_diff() {
    // Colour case and the order of inference geos are not changes.
    let m = manifest(
        "workspaces:\n  - name: w\n    display_color: '#abcdef'\n    data_residency: {allowed_inference_geos: [us, global]}\n",
    );
    let s = seed(
        "workspaces:\n  - id: wrkspc_01A00000000000000000001\n    name: w\n    created_at: '2026-01-01T00:00:00Z'\n    display_color: '#ABCDEF'\n    data_residency: {workspace_geo: us, allowed_inference_geos: [global, us], default_inference_geo: us}\n",
    );
    let p = plan(&m, &s, &opts());
    assert!(p.actions.is_empty(), "{}", render::text(&p, false));
}

#[test]
fn unknown_live_roles_are_never_touched() {
    let m = manifest(
        "settings:\n  members: {unmanaged: remove}\nmembers:\n  - {email: u0@acme.example, role: user}\n",
    );
    let s = seed(&users(1, "galactic_emperor").replace(
        "users:\n",
        "users:\n  - {id: user_01Z00000000000000000001, email: z@acme.example, name: Z, role: galactic_emperor, added_at: '2026-01-01T00:00:00Z'}\n",
    ));
    let p = plan(&m, &s, &opts());
    assert!(p.actions.is_empty(), "{}", render::text(&p, false));
    let kinds: Vec<BlockedKind> = p.blocked.iter().map(|b| b.kind).collect();
    assert_eq!(
        kinds,
        [
            BlockedKind::AdministrativeRole,
            BlockedKind::AdministrativeRemoval
        ]
    );
}

#[test]
fn organization_mismatch_stops_everything() {
    let m: Manifest = serde_saphyr::from_str(
        "version: 1\norganization: {id: 00000000-0000-4000-8000-000000000000}\nmembers:\n  - {email: a@acme.example, role: user}\n",
    )
    .unwrap();
    let s = seed("");
    let p = plan(&m, &s, &opts());
    assert!(matches!(
        p.refusals.as_slice(),
        [Refusal::OrganizationMismatch { .. }]
    ));
    assert!(p.actions.is_empty() && p.is_refused());
    let d = drift(&m, &s, &opts());
    assert!(d.is_refused() && d.findings.is_empty());
}

#[test]
fn plan_files_of_another_version_are_refused() {
    let p = plan(&manifest(""), &seed(""), &opts());
    let json = render::json(&p);
    assert!(json.contains("\"format_version\": 2"), "{json}");
    let older = json.replace("\"format_version\": 2", "\"format_version\": 1");
    assert!(matches!(
        Plan::from_json(&older),
        Err(PlanFileError::UnsupportedVersion {
            found: 1,
            supported: 2
        })
    ));
    assert!(matches!(Plan::from_json("{"), Err(PlanFileError::Parse(_))));
    assert_eq!(Plan::from_json(&json).unwrap(), p, "a plan file reads back");
}

#[test]
fn plan_files_whose_actions_do_not_match_their_digest_or_cannot_run_are_refused() {
    let m = manifest(
        "members:\n  - {email: a@acme.example, role: user}\n  - {email: b@acme.example, role: user}\n",
    );
    let p = plan(&m, &seed(""), &opts());
    assert_eq!(p.actions.len(), 2);
    assert_eq!(p.actions_digest, orgform_plan::actions_digest(&p.actions));

    // An edited action without a new digest.
    let edited = render::json(&p).replace("b@acme.example", "mallory@evil.example");
    assert!(matches!(
        Plan::from_json(&edited),
        Err(PlanFileError::DigestMismatch { .. })
    ));
    // An edited digest.
    let mut forged = p.clone();
    forged.actions_digest = format!("sha256:{}", "0".repeat(64));
    assert!(matches!(
        Plan::from_json(&render::json(&forged)),
        Err(PlanFileError::DigestMismatch { .. })
    ));
    // A consistent digest over actions that cannot run: duplicate ids, a cycle.
    let mut duplicate = p.clone();
    duplicate.actions[1].id = 1;
    duplicate.actions_digest = orgform_plan::actions_digest(&duplicate.actions);
    assert!(matches!(
        Plan::from_json(&render::json(&duplicate)),
        Err(PlanFileError::Invalid(
            orgform_plan::InvalidPlan::DuplicateId { id: 1 }
        ))
    ));
    let mut cycle = p;
    cycle.actions[0].depends_on = vec![2];
    cycle.actions[1].depends_on = vec![1];
    cycle.actions_digest = orgform_plan::actions_digest(&cycle.actions);
    assert!(matches!(
        Plan::from_json(&render::json(&cycle)),
        Err(PlanFileError::Invalid(
            orgform_plan::InvalidPlan::DependencyCycle { .. }
        ))
    ));
}

#[test]
fn text_uses_colour_only_when_asked_and_escapes_control_characters() {
    let m = manifest("workspaces:\n  - name: \"evil\\e[2Jname\"\n");
    let p = plan(&m, &seed(""), &opts());
    let plain = render::text(&p, false);
    assert!(!plain.contains('\u{1b}'), "{plain:?}");
    assert!(plain.contains("evil\\u{1b}[2Jname"), "{plain}");
    assert!(plain.contains(
        "Plan: 1 to add, 0 to change, 0 to remove (0 irreversible). 0 deferred, 0 blocked."
    ));
    let colored = render::text(&p, true);
    assert!(colored.contains("\u{1b}["), "colour was asked for");
    // Symbols carry the meaning without colour.
    assert!(plain.contains("\n  +  [1] create workspace"), "{plain}");
    let empty = render::text(&plan(&manifest(""), &seed(""), &opts()), false);
    assert!(empty.contains("\nNo changes.\n"), "{empty}");
}

#[test]
fn markdown_stays_under_the_limit_for_10000_actions() {
    let s = seed(&users(10_000, "user").replace(
        "@acme.example",
        "-with-a-rather-long-mailbox-name@acme.example",
    ));
    let m = manifest("settings:\n  members: {unmanaged: remove}\n");
    let mut o = opts();
    o.allow_destructive = Some(10_000);
    let p = plan(&m, &s, &o);
    assert_eq!(p.actions.len(), 10_000);
    let md = render::markdown(&p);
    let chars = md.chars().count();
    assert!(chars < render::MARKDOWN_LIMIT, "{chars} characters");
    assert!(
        md.starts_with("### orgform plan\n\n**Plan: 0 to add, 0 to change, 10000 to remove"),
        "summary first"
    );
    let shown = md.lines().filter(|l| l.starts_with("- [")).count();
    let hidden: usize = md
        .lines()
        .find_map(|l| l.strip_prefix("_... "))
        .and_then(|rest| rest.split(' ').next())
        .map(|n| n.replace(',', "").parse().unwrap())
        .expect("a count of what was left out");
    assert_eq!(shown + hidden, 10_000);
    assert!(shown > 100, "as many as fit are shown ({shown})");
    assert!(md.contains(
        "<details open><summary>Destructive and irreversible actions (10,000)</summary>"
    ));
    // Destructive actions alone do not fit: the top of the comment says so.
    let top = md.split("| add |").next().unwrap();
    assert!(
        top.contains(
            "destructive or irreversible actions do not fit in this comment; read the JSON plan"
        ),
        "{top}"
    );
    let warned: usize = top
        .lines()
        .find_map(|l| l.strip_prefix("> **"))
        .and_then(|rest| rest.split(' ').next())
        .map(|n| n.replace(',', "").parse().unwrap())
        .expect("a count at the top");
    assert_eq!(warned, hidden);
}

#[test]
fn markdown_shows_every_removal_of_a_large_plan_and_cuts_only_the_rest() {
    // 3,030 new members (invites, additive) and 6 unlisted members to remove: removals come
    // last in the plan's order, and once were cut with the tail.
    let mut body = String::from("settings:\n  members: {unmanaged: remove}\nmembers:\n");
    for i in 0..3_030 {
        let _ = writeln!(
            body,
            "  - {{email: new-person-with-a-long-mailbox-{i}@acme.example, role: developer}}"
        );
    }
    let mut o = opts();
    o.allow_destructive = Some(6);
    let p = plan(&manifest(&body), &seed(&users(6, "user")), &o);
    assert_eq!(p.actions.len(), 3_036);
    assert_eq!(p.summary.destructive, 6);
    assert!(
        p.actions[3_030..].iter().all(|a| a.destructive),
        "removals come last"
    );
    let md = render::markdown(&p);
    let chars = md.chars().count();
    assert!(chars < render::MARKDOWN_LIMIT, "{chars} characters");
    for i in 0..6 {
        let line = format!(
            "- [{}] remove member u{i}@acme.example (destructive)",
            3_031 + i
        );
        assert!(md.contains(&line), "{line} is shown");
    }
    assert!(
        md.contains("<details open><summary>Destructive and irreversible actions (6)</summary>")
    );
    assert!(md.contains("<details><summary>Other actions (3,030)</summary>"));
    assert!(!md.contains("do not fit"), "the removals fit");
    let cut: usize = md
        .lines()
        .find_map(|l| l.strip_prefix("_... "))
        .and_then(|rest| rest.split(' ').next())
        .map(|n| n.replace(',', "").parse().unwrap())
        .expect("the invites that do not fit are counted");
    let shown_invites = md.lines().filter(|l| l.starts_with("+ [")).count();
    assert_eq!(shown_invites + cut, 3_030);
}

#[test]
fn markdown_fences_cannot_be_broken_by_names() {
    let m = manifest("workspaces:\n  - name: \"a```b</details>\"\n");
    let md = render::markdown(&plan(&m, &seed(""), &opts()));
    assert!(md.contains("````diff\n"), "{md}");
}

#[test]
fn duplicate_entries_are_plan_errors_not_double_actions() {
    let m = manifest(
        "members:\n  - {email: New@acme.example, role: user}\n  - {email: new@ACME.example, role: developer}\nworkspaces:\n  - name: w\n  - name: w\n  - name: v\n    members: {new@acme.example: workspace_user, NEW@acme.example: workspace_admin}\n",
    );
    let p = plan(&m, &seed(""), &opts());
    assert_eq!(p.errors.len(), 3, "{:?}", p.errors);
    assert!(
        p.errors
            .iter()
            .all(|e| e.kind == PlanErrorKind::DuplicateMatch)
    );
    assert!(p.actions.is_empty());
}

#[test]
fn drift_markdown_is_bounded_and_counts_what_it_leaves_out() {
    let s = seed(&users(10_000, "user"));
    let d = drift(&manifest(""), &s, &opts());
    assert!(d.has_drift());
    assert_eq!(d.summary.unmanaged, 10_000);
    let md = render::drift_markdown(&d);
    assert!(md.chars().count() < render::MARKDOWN_LIMIT);
    assert!(
        md.starts_with("### orgform drift\n\n**Drift: 10000 unmanaged"),
        "summary first"
    );
    assert!(md.contains("more not shown"));
    let text = render::drift_text(&d, false);
    assert!(text.ends_with("Drift: 10000 unmanaged, 0 changed, 0 missing, 0 blocked, 0 hygiene. 0 pending (not drift).\n"));
    // Nothing to report: "No drift." and no drift.
    let quiet = drift(&manifest(""), &seed(""), &opts());
    assert!(!quiet.has_drift());
    assert!(render::drift_text(&quiet, false).contains("\nNo drift.\n"));
}

#[test]
fn after_an_archive_the_next_plan_finds_the_keys_and_is_quiet() {
    // The state after archiving `old` (its keys archived with it).
    let s = seed(
        "workspaces:\n  - {id: wrkspc_01O00000000000000000001, name: old, created_at: '2026-01-01T00:00:00Z', archived_at: '2026-10-01T00:00:00Z', display_color: '#111111'}\napi_keys:\n  - {id: apikey_01A00000000000000000001, name: runner, created_at: '2026-01-01T00:00:00Z', status: archived, workspace_id: wrkspc_01O00000000000000000001}\n",
    );
    let quiet = manifest(
        "workspaces:\n  - {name: old, archived: true}\napi_keys:\n  - {name: runner, workspace: old, status: inactive}\n",
    );
    let p = plan(&quiet, &s, &opts());
    assert!(
        p.actions.is_empty() && p.blocked.is_empty() && p.missing.is_empty() && p.errors.is_empty(),
        "{}",
        render::text(&p, false)
    );
    let wants_active = manifest(
        "workspaces:\n  - {name: old, archived: true}\napi_keys:\n  - {name: runner, workspace: old, status: active}\n",
    );
    let p = plan(&wants_active, &s, &opts());
    assert!(
        p.missing.is_empty(),
        "the key is found in the archived workspace"
    );
    assert_eq!(p.blocked.len(), 1);
    assert_eq!(p.blocked[0].kind, BlockedKind::ArchivedKey);
}

#[test]
fn differences_name_each_changed_added_and_missing_action() {
    let m = manifest(
        "members:\n  - {email: a@acme.example, role: user}\n  - {email: b@acme.example, role: user}\n",
    );
    let now = plan(&m, &seed(""), &opts());
    assert!(orgform_plan::differences(&now, &now).is_empty());

    let mut saved = now.clone();
    saved.actions[0].op = Op::RemoveUser {
        user_id: "user_x".into(),
        email: "a@acme.example".into(),
    };
    saved.actions[1].destructive = true;
    let mut extra = saved.actions[1].clone();
    extra.id = 3;
    saved.actions.push(extra);
    let lines = orgform_plan::differences(&saved, &now);
    assert_eq!(lines.len(), 4, "{lines:#?}");
    assert!(
        lines[0].starts_with("- #1 only in the saved plan: remove_user {\"user_id\":\"user_x\""),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("~ #2 differs in destructive:\n      saved: create_invite"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("- #3 only in the saved plan: create_invite"),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].starts_with(
            "+ #1 only in a plan made now: create_invite {\"email\":\"a@acme.example\""
        ),
        "{}",
        lines[3]
    );

    // A live change that adds an action before the others renumbers them: one line for the
    // new action, one count for the renumbered ones.
    let wider = plan(
        &manifest(
            "members:\n  - {email: 0@acme.example, role: user}\n  - {email: a@acme.example, role: user}\n  - {email: b@acme.example, role: user}\n",
        ),
        &seed(""),
        &opts(),
    );
    let lines = orgform_plan::differences(&now, &wider);
    assert_eq!(
        lines,
        [
            "+ #1 only in a plan made now: create_invite {\"email\":\"0@acme.example\",\"role\":\"user\"} \"invite 0@acme.example\"",
            "~ 2 action(s) differ only in their ids or dependencies (renumbered)",
        ]
    );

    // Control characters from the file never reach the terminal raw.
    let mut hostile = now.clone();
    hostile.actions[0].target = "member \u{1b}[2Jevil\r\nfake line".into();
    let lines = orgform_plan::differences(&hostile, &now);
    assert_eq!(lines.len(), 2, "{lines:#?}");
    for line in lines {
        assert_eq!(line.lines().count(), 1, "{line}");
        assert!(!line.contains('\u{1b}') && !line.contains('\r'), "{line}");
    }
}
