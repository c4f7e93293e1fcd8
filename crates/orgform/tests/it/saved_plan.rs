//! `apply PLANFILE` against hand-edited plan files: the real binary and the emulator, playing
//! the attacker who can write the plan file between review and apply. Every tampered file is
//! refused with exit 3 and the emulator sees no write; a saved plan that was already applied
//! exits 0; the `--out` hint repeats the flags the plan was made with.

use std::path::Path;

use crate::common::{Org, Run, demo_manifest, write_replaced};
use serde_json::{Value, json};

/// The demo manifest, with dev.two left out of Production: the plan then removes that
/// workspace membership (a `remove_workspace_member` action).
fn manifest_with_a_membership_removal(dir: &Path) {
    let path = demo_manifest(dir);
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = text.replacen("      dev.two@acme.example: workspace_developer\n", "", 1);
    assert_ne!(text, edited);
    std::fs::write(&path, edited).unwrap();
}

fn read_plan(dir: &Path, name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap()
}

/// Index in `actions` of the first action whose op kind is `kind`.
fn find(plan: &Value, kind: &str) -> usize {
    plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .position(|a| a["op"]["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} action in {plan:#}"))
}

/// Sets `actions_digest` to the digest of the (edited) actions, as a careful attacker would.
fn reseal(plan: &mut Value) {
    let actions: Vec<orgform_plan::Action> =
        serde_json::from_value(plan["actions"].clone()).unwrap();
    plan["actions_digest"] = json!(orgform_plan::actions_digest(&actions));
}

fn apply_file(org: &Org, dir: &Path, plan: &Value) -> Run {
    std::fs::write(
        dir.join("tampered.json"),
        serde_json::to_string_pretty(plan).unwrap(),
    )
    .unwrap();
    org.run(dir, &["apply", "tampered.json", "--auto-approve"])
}

fn assert_refused_without_writes(org: &Org, run: &Run, what: &str, reason: &str) {
    assert_eq!(run.code, 3, "{what}: {run:?}");
    assert!(run.stderr.contains(reason), "{what}: {}", run.stderr);
    assert!(
        run.stderr.contains("nothing was"),
        "{what} says nothing was applied: {}",
        run.stderr
    );
    assert!(
        org.writes().is_empty(),
        "{what}: no write reached the API: {:?}",
        org.writes()
    );
}

/// One way of editing the saved plan, and what the refusal says once the digest is resealed.
struct Tamper {
    what: &'static str,
    edit: Box<dyn Fn(&mut Value)>,
    resealed_reason: &'static str,
}

fn tampers(saved: &Value) -> Vec<Tamper> {
    let removal = find(saved, "remove_workspace_member");
    let invite = find(saved, "create_invite");
    let role = find(saved, "update_user_role");
    let add_member = find(saved, "add_workspace_member");
    let ws = find(saved, "create_workspace");
    let ids: Vec<u64> = saved["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_u64().unwrap())
        .collect();
    let next_id = ids.iter().max().unwrap() + 1;
    let user_of = |i: usize| saved["actions"][i]["op"]["user_id"].clone();
    let removal_user = user_of(removal);
    let other_user = user_of(role);
    let diff = "not the plan a fresh read gives";
    vec![
        Tamper {
            what: "op kind remove_workspace_member -> remove_user",
            edit: Box::new(move |p| {
                p["actions"][removal]["op"]["kind"] = json!("remove_user");
            }),
            resealed_reason: "only in the saved plan: remove_user",
        },
        Tamper {
            what: "target id",
            edit: Box::new(move |p| {
                p["actions"][removal]["op"]["user_id"] = other_user.clone();
            }),
            resealed_reason: "differs in op fields",
        },
        Tamper {
            what: "invite email",
            edit: Box::new(move |p| {
                p["actions"][invite]["op"]["email"] = json!("mallory@evil.example");
            }),
            resealed_reason: "mallory@evil.example",
        },
        Tamper {
            what: "appended action",
            edit: Box::new(move |p| {
                let mut extra = p["actions"][removal].clone();
                extra["id"] = json!(next_id);
                extra["op"] = json!({
                    "kind": "remove_user",
                    "user_id": removal_user.clone(),
                    "email": "ursula@acme.example",
                });
                p["actions"].as_array_mut().unwrap().push(extra);
            }),
            resealed_reason: "only in the saved plan",
        },
        Tamper {
            what: "removals past the destructive limit",
            edit: Box::new(move |p| {
                let template = p["actions"][removal].clone();
                for (n, id) in ["a", "b", "c", "d", "e", "f", "g"].iter().zip(next_id..) {
                    let mut extra = template.clone();
                    extra["id"] = json!(id);
                    extra["op"] = json!({
                        "kind": "remove_user",
                        "user_id": format!("user_01{n}"),
                        "email": format!("{n}@acme.example"),
                    });
                    p["actions"].as_array_mut().unwrap().push(extra);
                }
            }),
            resealed_reason: "7 difference(s)",
        },
        Tamper {
            what: "falsified destructive flag",
            edit: Box::new(move |p| {
                p["actions"][removal]["destructive"] = json!(false);
            }),
            resealed_reason: "differs in destructive",
        },
        Tamper {
            what: "falsified irreversible flag",
            edit: Box::new(move |p| {
                p["actions"][ws]["irreversible"] = json!(true);
            }),
            resealed_reason: "differs in irreversible",
        },
        Tamper {
            what: "dependency cycle",
            edit: Box::new(move |p| {
                let dependent = p["actions"][add_member]["id"].clone();
                p["actions"][ws]["depends_on"] = json!([dependent]);
            }),
            resealed_reason: "cycle",
        },
        Tamper {
            what: "duplicate ids",
            edit: Box::new(move |p| {
                let taken = p["actions"][invite]["id"].clone();
                p["actions"][removal]["id"] = taken;
            }),
            resealed_reason: "appears more than once",
        },
        Tamper {
            what: "an action removed",
            edit: Box::new(move |p| {
                p["actions"].as_array_mut().unwrap().remove(removal);
            }),
            resealed_reason: diff,
        },
    ]
}

#[test]
fn tampered_plan_files_are_refused_with_no_write() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    manifest_with_a_membership_removal(dir.path());
    let saved = org.run(dir.path(), &["plan", "--out", "plan.json"]);
    assert_eq!(saved.code, 0, "{saved:?}");
    let saved = read_plan(dir.path(), "plan.json");

    for tamper in tampers(&saved) {
        let mut edited = saved.clone();
        (tamper.edit)(&mut edited);
        assert_ne!(edited, saved, "{}: the edit changes the file", tamper.what);
        // Edited actions under the old digest: caught on reading, before any request.
        org.emulator.clear_request_log();
        let run = apply_file(&org, dir.path(), &edited);
        assert_refused_without_writes(&org, &run, tamper.what, "actions_digest");
        assert!(
            org.emulator.request_log().is_empty(),
            "{}: refused before reading the organization",
            tamper.what
        );
        // With a matching digest: caught by the structural check or the comparison with a
        // plan made now.
        reseal(&mut edited);
        let run = apply_file(&org, dir.path(), &edited);
        assert_refused_without_writes(&org, &run, tamper.what, tamper.resealed_reason);
    }

    // The digest field alone.
    let mut forged = saved.clone();
    forged["actions_digest"] = json!(format!("sha256:{}", "0".repeat(64)));
    let run = apply_file(&org, dir.path(), &forged);
    assert_refused_without_writes(&org, &run, "edited digest", "actions_digest");
    // An op kind orgform does not know.
    let mut unknown = saved.clone();
    unknown["actions"][0]["op"]["kind"] = json!("delete_organization");
    let run = apply_file(&org, dir.path(), &unknown);
    assert_refused_without_writes(&org, &run, "unknown op kind", "not a valid orgform plan");

    // The untouched file still applies.
    let run = org.run(dir.path(), &["apply", "plan.json", "--auto-approve"]);
    assert_eq!(run.code, 0, "{run:?}");
    let actions = saved["actions"].as_array().unwrap().len();
    assert!(
        run.stdout
            .contains(&format!("Apply: {actions} done, 0 already done, 0 failed")),
        "{}",
        run.stdout
    );
}

#[test]
fn refusals_and_blocked_items_come_from_the_plan_made_now() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    let manifest = demo_manifest(dir.path());
    let text = std::fs::read_to_string(&manifest).unwrap();

    // A plan refused by the destructive limit, with its refusal deleted from the file.
    write_replaced(&manifest, &text, "max_destructive: 5", "max_destructive: 0");
    let refused = org.run(dir.path(), &["plan", "--format", "json"]);
    assert_eq!(refused.code, 3, "{refused:?}");
    let mut plan: Value = serde_json::from_str(&refused.stdout).unwrap();
    assert!(!plan["refusals"].as_array().unwrap().is_empty());
    plan["refusals"] = json!([]);
    let run = apply_file(&org, dir.path(), &plan);
    assert_refused_without_writes(&org, &run, "refusals deleted", "--allow-destructive");

    // A plan with a blocked item (ada is an admin; the API cannot demote her), with the
    // blocked item deleted from the file: it would otherwise run its other actions.
    write_replaced(
        &manifest,
        &text,
        "  - email: ada@acme.example\n    role: admin",
        "  - email: ada@acme.example\n    role: developer",
    );
    let saved = org.run(dir.path(), &["plan", "--out", "plan.json"]);
    assert_eq!(saved.code, 3, "blocked: {saved:?}");
    let mut plan = read_plan(dir.path(), "plan.json");
    assert!(!plan["blocked"].as_array().unwrap().is_empty());
    plan["blocked"] = json!([]);
    let run = apply_file(&org, dir.path(), &plan);
    assert_refused_without_writes(
        &org,
        &run,
        "blocked deleted",
        "blocked item only in a plan made now",
    );

    // A saved plan made with --allow-destructive is applied with it only.
    write_replaced(&manifest, &text, "max_destructive: 5", "max_destructive: 0");
    let saved = org.run(
        dir.path(),
        &["plan", "--allow-destructive", "5", "--out", "plan.json"],
    );
    assert_eq!(saved.code, 0, "{saved:?}");
    let run = org.run(dir.path(), &["apply", "plan.json", "--auto-approve"]);
    assert_refused_without_writes(&org, &run, "limit recomputed", "--allow-destructive");
    let run = org.run(
        dir.path(),
        &[
            "apply",
            "plan.json",
            "--auto-approve",
            "--allow-destructive",
            "5",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn a_saved_plan_applied_twice_says_so_and_exits_0() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("envs")).unwrap();
    let manifest = demo_manifest(dir.path());
    std::fs::rename(&manifest, dir.path().join("envs/prod org.yaml")).unwrap();

    let saved = org.run(
        dir.path(),
        &["plan", "-f", "envs/prod org.yaml", "--out", "plan.json"],
    );
    assert_eq!(saved.code, 0, "{saved:?}");
    // The hint repeats the manifest the plan was made from, quoted for the shell.
    assert!(
        saved
            .stderr
            .contains("apply it with: orgform apply -f 'envs/prod org.yaml' plan.json"),
        "{}",
        saved.stderr
    );
    let hinted: Vec<&str> = vec!["apply", "-f", "envs/prod org.yaml", "plan.json"];
    let first = org.run(
        dir.path(),
        &[hinted.as_slice(), &["--auto-approve"]].concat(),
    );
    assert_eq!(first.code, 0, "the hinted command works: {first:?}");
    let writes = org.writes().len();
    assert!(writes > 0, "the first apply wrote");

    // A retried CI job: the same command again.
    let again = org.run(
        dir.path(),
        &[hinted.as_slice(), &["--auto-approve"]].concat(),
    );
    assert_eq!(again.code, 0, "{again:?}");
    assert!(
        again
            .stderr
            .contains("the saved plan's changes are already in place; nothing to do"),
        "{}",
        again.stderr
    );
    assert_eq!(
        org.writes().len(),
        writes,
        "nothing written the second time"
    );

    // The JSON report says the same on stderr and stays JSON on stdout.
    let json_run = org.run(
        dir.path(),
        &[hinted.as_slice(), &["--auto-approve", "--format", "json"]].concat(),
    );
    assert_eq!(json_run.code, 0, "{json_run:?}");
    let report: Value = serde_json::from_str(&json_run.stdout).unwrap();
    assert_eq!(report["summary"]["done"], 0);
    assert!(json_run.stderr.contains("already in place"));

    // A manifest changed since is still refused, with the existing wording.
    let path = dir.path().join("envs/prod org.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("role: user                 # new", "role: developer"),
    )
    .unwrap();
    let edited = org.run(
        dir.path(),
        &[hinted.as_slice(), &["--auto-approve"]].concat(),
    );
    assert_eq!(edited.code, 3, "{edited:?}");
    assert!(
        edited.stderr.contains("the manifest changed"),
        "{}",
        edited.stderr
    );
    assert_eq!(org.writes().len(), writes);
}

#[test]
fn the_out_hint_repeats_allow_destructive() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    let saved = org.run(
        dir.path(),
        &["plan", "--allow-destructive", "3", "--out", "plan.json"],
    );
    assert_eq!(saved.code, 0, "{saved:?}");
    assert!(
        saved
            .stderr
            .contains("apply it with: orgform apply -f org.yaml --allow-destructive 3 plan.json"),
        "{}",
        saved.stderr
    );
}

#[test]
fn a_plan_file_of_the_previous_format_is_refused_with_a_hint() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    let saved = org.run(dir.path(), &["plan", "--out", "plan.json"]);
    assert_eq!(saved.code, 0, "{saved:?}");
    let mut plan = read_plan(dir.path(), "plan.json");
    assert_eq!(plan["format_version"], orgform_plan::FORMAT_VERSION);
    plan["format_version"] = json!(1);
    plan.as_object_mut().unwrap().remove("actions_digest");
    let run = apply_file(&org, dir.path(), &plan);
    assert_refused_without_writes(&org, &run, "version 1", "format version 1");
    assert!(run.stderr.contains("orgform plan --out"), "{}", run.stderr);
}

#[test]
fn a_live_change_that_leaves_the_actions_as_they_were_does_not_block_the_saved_plan() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    let saved = org.run(dir.path(), &["plan", "--out", "plan.json"]);
    assert_eq!(saved.code, 0, "{saved:?}");
    // Research is an unmanaged workspace, only reported: renaming it changes the live state
    // but no action.
    org.emulator.modify(|state| {
        let research = state
            .workspaces
            .iter_mut()
            .find(|w| w.workspace.name == "Research")
            .unwrap();
        research.workspace.name = "Research (old)".to_owned();
    });
    let run = org.run(dir.path(), &["apply", "plan.json", "--auto-approve"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr
            .contains("a plan made now has exactly the saved actions"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("Apply: 11 done"), "{}", run.stdout);
}
