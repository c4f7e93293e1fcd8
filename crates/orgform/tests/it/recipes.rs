//! The GitHub recipes (`examples/ci/github/`, `action.yml`) are valid for GitHub Actions and
//! work: every `run:` block runs under `bash -eo pipefail` against the emulator, with `gh` and
//! `cargo` as recording stubs, and the test checks exit codes, what was posted, and what was
//! committed. `recipes_gitlab.rs` does the same for GitLab CI.

use crate::common;
pub mod fixtures;
pub mod runner;

use crate::common::Org;
use fixtures::{
    MARKER, assert_no_key, commit_count, demo_manifest, exported, git, git_checkout, quiet_org,
};
use runner::{Outcome, Sandbox, check_keys, github, load_yaml};
use serde_json::Value;

const RUN_ID: &str = "4242";

/// A sandbox holding a pull request's checkout of `manifest`, with the values GitHub would
/// give the workflow for this organization.
fn github_sandbox(org: &Org, manifest: &str) -> Sandbox {
    let mut sandbox = Sandbox::new();
    std::fs::write(sandbox.workspace.join("org.yaml"), manifest).unwrap();
    for (k, v) in [
        (
            "secrets.ANTHROPIC_ADMIN_KEY",
            org.emulator.admin_key().to_owned(),
        ),
        ("vars.ANTHROPIC_BASE_URL", org.emulator.base_url()),
        ("github.token", "ghs_workflowtoken".to_owned()),
        ("github.event.pull_request.number", "7".to_owned()),
        ("runner.os", "Linux".to_owned()),
    ] {
        sandbox.expressions.insert(k.to_owned(), v);
    }
    for (k, v) in [
        ("CI", "true"),
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_REPOSITORY", "acme/org-config"),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_RUN_ID", RUN_ID),
        ("GITHUB_SHA", "1111111111111111111111111111111111111111"),
        ("GITHUB_REF_NAME", "main"),
        ("RUNNER_OS", "Linux"),
    ] {
        sandbox.env.insert(k.to_owned(), v.to_owned());
    }
    let workspace = sandbox.workspace.display().to_string();
    sandbox.env.insert("GITHUB_WORKSPACE".into(), workspace);
    sandbox
}

fn comments(sandbox: &Sandbox) -> Vec<Value> {
    sandbox
        .stub_json("comments.json")
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn github_workflows_and_the_action_use_only_keys_github_defines() {
    for file in ["plan.yml", "apply.yml", "drift.yml", "snapshot.yml"] {
        let workflow = load_yaml(&format!("examples/ci/github/{file}"));
        check_keys(&workflow, github::WORKFLOW, file);
        check_keys(&workflow["on"], github::EVENTS, &format!("{file} on"));
        check_keys(&workflow["permissions"], github::PERMISSIONS, file);
        for value in workflow["permissions"].as_object().unwrap().values() {
            assert!(["read", "write", "none"].contains(&value.as_str().unwrap()));
        }
        check_keys(&workflow["concurrency"], github::CONCURRENCY, file);
        for (name, job) in workflow["jobs"].as_object().unwrap() {
            check_keys(job, github::JOB, &format!("{file} job {name}"));
            assert_eq!(job["runs-on"], "ubuntu-latest");
            for step in job["steps"].as_array().unwrap() {
                check_keys(step, github::STEP, &format!("{file} job {name} step"));
                assert!(
                    step.get("run").is_some() != step.get("uses").is_some(),
                    "{file}: a step has exactly one of run and uses: {step}"
                );
                if let Some(uses) = step.get("uses") {
                    assert!(github::KNOWN_ACTIONS.contains(&uses.as_str().unwrap()));
                }
            }
        }
    }
    // An apply in progress is never cancelled.
    let apply = load_yaml("examples/ci/github/apply.yml");
    assert_eq!(
        apply["concurrency"]["cancel-in-progress"],
        Value::Bool(false)
    );

    let action = load_yaml("action.yml");
    check_keys(&action, github::ACTION, "action.yml");
    for input in action["inputs"].as_object().unwrap().values() {
        check_keys(input, github::ACTION_INPUT, "action.yml input");
    }
    for output in action["outputs"].as_object().unwrap().values() {
        check_keys(output, github::ACTION_OUTPUT, "action.yml output");
    }
    check_keys(&action["runs"], github::COMPOSITE_RUNS, "action.yml runs");
    assert_eq!(action["runs"]["using"], "composite");
    for step in action["runs"]["steps"].as_array().unwrap() {
        check_keys(step, github::STEP, "action.yml step");
        if step.get("run").is_some() {
            assert_eq!(
                step["shell"], "bash",
                "a composite run step names its shell"
            );
        }
    }
}

#[test]
fn a_key_outside_the_allow_list_is_caught() {
    let result = std::panic::catch_unwind(|| {
        check_keys(&serde_json::json!({"runs_on": "x"}), github::JOB, "job");
    });
    assert!(result.is_err(), "`runs_on` (a typo) must be refused");
}

#[test]
fn plan_posts_one_comment_then_updates_it_and_keeps_the_json_plan() {
    let org = Org::small();
    let sandbox = github_sandbox(&org, &demo_manifest());
    let first = runner::run_github_job(&sandbox, "plan.yml", "plan");
    assert!(!first.failed, "{first:#?}");
    assert_eq!(
        first.step("Plan"),
        &Outcome::Success,
        "exit 2 must not stop the step"
    );
    let posted = comments(&sandbox);
    assert_eq!(posted.len(), 1, "{posted:?}");
    let body = posted[0]["body"].as_str().unwrap();
    assert!(body.starts_with(MARKER), "{body}");
    assert!(body.contains("**Plan: 5 to add"), "{body}");
    let artifact = sandbox
        .state
        .join(format!("artifacts/{RUN_ID}/orgform-plan/plan.json"));
    let plan: Value = serde_json::from_str(&std::fs::read_to_string(artifact).unwrap()).unwrap();
    assert_eq!(plan["format_version"], 2);
    assert!(
        sandbox.calls().contains("cargo install --locked --path"),
        "{}",
        sandbox.calls()
    );
    assert!(
        org.writes().is_empty(),
        "plan changes nothing: {:?}",
        org.writes()
    );

    // A push to the pull request: the same comment is edited, no second one appears.
    org.demote_dev_two();
    let second = runner::run_github_job(&sandbox, "plan.yml", "plan");
    assert!(!second.failed, "{second:#?}");
    let posted = comments(&sandbox);
    assert_eq!(posted.len(), 1, "still one comment: {posted:?}");
    let updated = posted[0]["body"].as_str().unwrap();
    assert_ne!(updated, body, "the comment shows the new plan");
    assert!(updated.starts_with(MARKER));
    assert!(
        sandbox
            .calls()
            .contains("PATCH repos/acme/org-config/issues/comments/1000")
    );
    assert_no_key(&org, &sandbox, &second);
}

#[test]
fn plan_leaves_comments_of_other_authors_alone() {
    let org = Org::small();
    let sandbox = github_sandbox(&org, &demo_manifest());
    std::fs::write(
        sandbox.state.join("comments.json"),
        serde_json::json!([{"id": 900, "issue": 7, "user": {"login": "mallory"},
                            "body": format!("{MARKER}\nfake plan")}])
        .to_string(),
    )
    .unwrap();
    let run = runner::run_github_job(&sandbox, "plan.yml", "plan");
    assert!(!run.failed, "{run:#?}");
    let posted = comments(&sandbox);
    assert_eq!(posted.len(), 2, "{posted:?}");
    assert_eq!(posted[0]["body"], format!("{MARKER}\nfake plan"));
}

#[test]
fn plan_with_no_changes_posts_and_passes() {
    let org = quiet_org();
    let sandbox = github_sandbox(&org, &exported(&org));
    let run = runner::run_github_job(&sandbox, "plan.yml", "plan");
    assert!(!run.failed, "{run:#?}");
    assert!(run.log.contains("orgform plan: exit 0"), "{}", run.log);
    let posted = comments(&sandbox);
    assert_eq!(posted.len(), 1);
    assert!(posted[0]["body"].as_str().unwrap().contains("0 to add"));
}

#[test]
fn a_refused_plan_is_posted_with_the_reason_and_fails_the_job() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    let manifest =
        std::fs::read_to_string(common::other_organization_manifest(dir.path())).unwrap();
    let sandbox = github_sandbox(&org, &manifest);
    let run = runner::run_github_job(&sandbox, "plan.yml", "plan");
    assert!(run.failed, "{run:#?}");
    assert_eq!(
        run.step("Fail unless a plan was made"),
        &Outcome::Failure(3)
    );
    let posted = comments(&sandbox);
    assert_eq!(
        posted.len(),
        1,
        "the refusal is posted before the job fails"
    );
    let body = posted[0]["body"].as_str().unwrap();
    assert!(body.contains("orgform plan exited 3: refused"), "{body}");
    assert!(
        body.contains("11111111-2222-4333-8444-555555555555"),
        "{body}"
    );
    assert!(!sandbox.state.join(format!("artifacts/{RUN_ID}")).exists());
    assert_no_key(&org, &sandbox, &run);
}

#[test]
fn an_invalid_manifest_is_posted_and_fails_the_job_with_exit_4() {
    let org = Org::small();
    let sandbox = github_sandbox(&org, "version: 1\nmembers: 12\n");
    let run = runner::run_github_job(&sandbox, "plan.yml", "plan");
    assert!(run.failed);
    assert_eq!(
        run.step("Validate the manifest (offline, no key)"),
        &Outcome::Failure(4)
    );
    assert_eq!(
        run.step("Fail unless a plan was made"),
        &Outcome::Failure(4)
    );
    let body = comments(&sandbox)[0]["body"].as_str().unwrap().to_owned();
    assert!(body.contains("the manifest is invalid"), "{body}");
    assert!(body.contains("org.yaml:"), "names the file: {body}");
}

fn issues(sandbox: &Sandbox) -> Vec<Value> {
    sandbox.stub_json("issues.json").as_array().unwrap().clone()
}

#[test]
fn drift_opens_one_issue_updates_it_and_closes_it_when_clean() {
    let org = quiet_org();
    let clean = exported(&org);
    let sandbox = github_sandbox(&org, &demo_manifest());
    let first = runner::run_github_job(&sandbox, "drift.yml", "drift");
    assert!(!first.failed, "drift is reported, not an error: {first:#?}");
    let opened = issues(&sandbox);
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0]["state"], "open");
    assert_eq!(opened[0]["labels"][0]["name"], "orgform-drift");
    assert!(opened[0]["body"].as_str().unwrap().contains("Drift:"));

    let second = runner::run_github_job(&sandbox, "drift.yml", "drift");
    assert!(!second.failed);
    assert_eq!(
        issues(&sandbox).len(),
        1,
        "the open issue is updated, not duplicated"
    );
    assert!(
        sandbox
            .calls()
            .contains("PATCH repos/acme/org-config/issues/1")
    );

    std::fs::write(sandbox.workspace.join("org.yaml"), &clean).unwrap();
    let third = runner::run_github_job(&sandbox, "drift.yml", "drift");
    assert!(!third.failed, "{third:#?}");
    assert!(third.log.contains("closed issue #1"), "{}", third.log);
    let closed = issues(&sandbox);
    assert_eq!(
        (closed.len(), closed[0]["state"].as_str()),
        (1, Some("closed"))
    );
    assert!(
        comments(&sandbox)[0]["body"]
            .as_str()
            .unwrap()
            .contains("No drift")
    );
    assert_no_key(&org, &sandbox, &third);
}

/// `manifest` (the demo's) with the members, invites, workspaces and API keys it does not list
/// left alone (`unmanaged: ignore`).
pub fn ignoring_unmanaged(manifest: &str) -> String {
    let ignoring = manifest
        .replace(
            "unmanaged: remove          # ursula",
            "unmanaged: ignore          # ursula",
        )
        .replace(
            "  invites:\n    unmanaged: report",
            "  invites:\n    unmanaged: ignore",
        )
        .replace(
            "unmanaged: report          # Research",
            "unmanaged: ignore          # Research",
        )
        .replace(
            "  api_keys:\n    unmanaged: report",
            "  api_keys:\n    unmanaged: ignore",
        );
    assert_eq!(
        ignoring.matches("unmanaged: ignore").count(),
        4,
        "{ignoring}"
    );
    ignoring
}

/// The demo manifest with every `unmanaged` setting at `ignore`: right after an apply, the
/// scheduled drift job is green and opens nothing.
#[test]
fn drift_is_green_right_after_an_apply_when_unmanaged_objects_are_ignored() {
    let org = Org::small();
    let manifest = ignoring_unmanaged(&demo_manifest());
    let sandbox = github_sandbox(&org, &manifest);
    let apply = common::run_command(
        org.user_command(&sandbox.workspace)
            .args(["apply", "--auto-approve"]),
    );
    assert_eq!(apply.code, 0, "{apply:?}");
    let run = runner::run_github_job(&sandbox, "drift.yml", "drift");
    assert!(!run.failed, "{run:#?}");
    assert!(run.log.contains("no drift"), "{}", run.log);
    assert!(issues(&sandbox).is_empty(), "no issue is opened");
    assert_no_key(&org, &sandbox, &run);
}

#[test]
fn a_drift_error_fails_the_job_and_leaves_the_issue_alone() {
    let org = quiet_org();
    let mut sandbox = github_sandbox(&org, &demo_manifest());
    sandbox.expressions.insert(
        "secrets.ANTHROPIC_ADMIN_KEY".into(),
        "sk-ant-admin01-wrong-key-000000000000000000".into(),
    );
    let run = runner::run_github_job(&sandbox, "drift.yml", "drift");
    assert!(run.failed);
    assert_eq!(run.step("Drift"), &Outcome::Failure(1));
    assert!(
        run.log
            .contains("::error::orgform drift failed with exit 1")
    );
    assert!(!sandbox.calls().contains("gh api"), "{}", sandbox.calls());
}

/// Runs the plan job, then records it as the successful plan run of the merged pull request.
fn reviewed_plan(org: &Org) -> Sandbox {
    let sandbox = github_sandbox(org, &demo_manifest());
    let plan = runner::run_github_job(&sandbox, "plan.yml", "plan");
    assert!(!plan.failed, "{plan:#?}");
    std::fs::write(
        sandbox.state.join("pulls.json"),
        r#"[{"number": 7, "head": {"sha": "abcdef"}}]"#,
    )
    .unwrap();
    std::fs::write(
        sandbox.state.join("runs.json"),
        format!(
            r#"[{{"id": {RUN_ID}, "workflow": "plan.yml", "head_sha": "abcdef", "conclusion": "success"}}]"#
        ),
    )
    .unwrap();
    sandbox
}

#[test]
fn apply_runs_the_plan_reviewed_on_the_pull_request() {
    let org = Org::small();
    let sandbox = reviewed_plan(&org);
    let run = runner::run_github_job(&sandbox, "apply.yml", "apply");
    assert!(!run.failed, "{run:#?}");
    assert!(
        run.log
            .contains(&format!("the reviewed plan: run {RUN_ID}")),
        "{}",
        run.log
    );
    assert!(!run.log.contains("planning again"), "{}", run.log);
    assert!(run.log.contains("Apply: 11 done"), "{}", run.log);
    assert!(!org.writes().is_empty());
    assert_no_key(&org, &sandbox, &run);
}

#[test]
fn apply_plans_again_when_the_reviewed_plan_is_stale() {
    let org = Org::small();
    let sandbox = reviewed_plan(&org);
    org.demote_dev_two();
    let run = runner::run_github_job(&sandbox, "apply.yml", "apply");
    assert!(!run.failed, "{run:#?}");
    assert!(run.log.contains("the saved plan is stale"), "{}", run.log);
    assert!(run.log.contains("planning again"), "{}", run.log);
    assert!(run.log.contains("Apply: "), "{}", run.log);
}

#[test]
fn apply_without_a_reviewed_plan_plans_and_applies() {
    let org = Org::small();
    let sandbox = github_sandbox(&org, &demo_manifest());
    let run = runner::run_github_job(&sandbox, "apply.yml", "apply");
    assert!(!run.failed, "{run:#?}");
    assert!(run.log.contains("no reviewed plan"), "{}", run.log);
    assert!(!org.writes().is_empty());
}

#[test]
fn snapshot_commits_as_the_bot_only_when_the_organization_changed() {
    let org = Org::small();
    let sandbox = github_sandbox(&org, &demo_manifest());
    let remote = git_checkout(&sandbox);
    let count = || commit_count(&remote);

    let first = runner::run_github_job(&sandbox, "snapshot.yml", "snapshot");
    assert!(!first.failed, "{first:#?}");
    assert_eq!(count(), "2", "{}", first.log);
    let author = git(&remote, &["log", "-1", "--format=%an <%ae>", "main"]);
    assert_eq!(
        author.trim(),
        "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"
    );
    let committed = git(&remote, &["show", "main:org-snapshot.yaml"]);
    assert!(committed.contains("snapshot_format: 1"));

    let second = runner::run_github_job(&sandbox, "snapshot.yml", "snapshot");
    assert!(!second.failed, "{second:#?}");
    assert!(second.log.contains("the organization did not change"));
    assert_eq!(count(), "2", "no commit when nothing changed");

    org.demote_dev_two();
    let third = runner::run_github_job(&sandbox, "snapshot.yml", "snapshot");
    assert!(!third.failed, "{third:#?}");
    assert_eq!(count(), "3");
    let diff = git(&remote, &["diff", "main~1", "main", "--stat"]);
    assert!(diff.contains("org-snapshot.yaml"), "{diff}");
    assert_no_key(&org, &sandbox, &third);
}

#[test]
fn the_docs_name_every_recipe_and_the_install_command() {
    let root = runner::repo_root();
    let ci = std::fs::read_to_string(root.join("docs/ci.md")).unwrap();
    for file in [
        "examples/ci/github/plan.yml",
        "examples/ci/github/apply.yml",
        "examples/ci/github/drift.yml",
        "examples/ci/github/snapshot.yml",
        "examples/ci/github/keyless.yml",
        "examples/ci/gitlab/.gitlab-ci.yml",
    ] {
        assert!(root.join(file).is_file(), "{file} exists");
        assert!(ci.contains(&format!("`{file}`")), "docs/ci.md names {file}");
    }
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let install = "cargo install --locked --path crates/orgform";
    assert!(readme.contains(install) && ci.contains(install));
    assert!(root.join("crates/orgform/Cargo.toml").is_file());
    for variable in ["ANTHROPIC_ADMIN_KEY", "ANTHROPIC_BASE_URL", "NO_COLOR"] {
        assert!(
            readme
                .lines()
                .any(|row| row.starts_with("| `") && row.contains(&format!("`{variable}`"))),
            "README lists {variable}"
        );
    }
}

#[test]
fn the_action_installs_a_given_version_and_reports_the_exit_code_of_its_command() {
    let org = Org::small();
    let sandbox = github_sandbox(&org, &demo_manifest());
    let (run, outputs) = runner::run_orgform_action(
        &sandbox,
        &[("version", "0.1.0"), ("command", "validate -f org.yaml")],
    );
    assert!(!run.failed, "{run:#?}");
    assert!(
        sandbox.calls().contains(
            "cargo install --locked --git https://github.com/orgform/orgform --tag v0.1.0 orgform"
        ),
        "{}",
        sandbox.calls()
    );
    assert!(run.log.contains("org.yaml is valid"), "{}", run.log);
    assert_eq!(outputs["exitcode"], "0");

    std::fs::write(
        sandbox.workspace.join("org.yaml"),
        "version: 1\nmembers: 12\n",
    )
    .unwrap();
    let (invalid, outputs) =
        runner::run_orgform_action(&sandbox, &[("command", "validate -f org.yaml")]);
    assert_eq!(invalid.step("orgform/orgform@main"), &Outcome::Failure(4));
    assert_eq!(outputs["exitcode"], "4");
    assert!(sandbox.calls().contains("cargo install --locked --path"));
}

#[test]
fn the_action_builds_nothing_when_the_cache_holds_the_binary() {
    let org = Org::small();
    let mut sandbox = github_sandbox(&org, &demo_manifest());
    sandbox.cache_hit = true;
    // What the cache restores: ~/.cargo/bin/orgform.
    let bin = sandbox.home.join(".cargo/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_orgform"), bin.join("orgform")).unwrap();
    let (run, outputs) = runner::run_orgform_action(&sandbox, &[("command", "schema")]);
    assert!(!run.failed, "{run:#?}");
    assert!(
        run.log.contains("orgform restored from the cache"),
        "{}",
        run.log
    );
    assert!(!sandbox.calls().contains("cargo"), "{}", sandbox.calls());
    assert_eq!(outputs["exitcode"], "0");
}
