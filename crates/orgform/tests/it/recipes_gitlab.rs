//! The GitLab recipe (`examples/ci/gitlab/.gitlab-ci.yml`) is valid for GitLab CI and works:
//! every job's `before_script` and `script` run in one `bash -eo pipefail` shell against the
//! emulator, with `glab` and `cargo` as recording stubs.

use crate::common;
use crate::recipes::fixtures;
use crate::recipes::runner;

use crate::common::Org;
use fixtures::{
    MARKER, assert_no_key, commit_count, demo_manifest, exported, git, git_checkout, quiet_org,
};
use runner::{Outcome, Sandbox, check_keys, gitlab, load_yaml};
use serde_json::Value;

/// A sandbox for a GitLab job of project `acme/org-config`, its variables set as a project
/// would set them.
fn gitlab_sandbox(org: &Org, manifest: &str) -> Sandbox {
    let mut sandbox = Sandbox::new();
    std::fs::write(sandbox.workspace.join("org.yaml"), manifest).unwrap();
    let workspace = sandbox.workspace.display().to_string();
    let remote = sandbox.state.join("remote.git").display().to_string();
    for (k, v) in [
        ("CI", "true"),
        ("GITLAB_CI", "true"),
        ("CI_PROJECT_ID", "42"),
        ("CI_PROJECT_DIR", &workspace),
        ("CI_PROJECT_PATH", "acme/org-config"),
        ("CI_SERVER_HOST", "gitlab.example"),
        ("CI_SERVER_URL", "https://gitlab.example"),
        ("CI_MERGE_REQUEST_IID", "7"),
        ("CI_COMMIT_BRANCH", "main"),
        ("CI_COMMIT_SHA", "2222222222222222222222222222222222222222"),
        ("CI_DEFAULT_BRANCH", "main"),
        (
            "CI_JOB_URL",
            "https://gitlab.example/acme/org-config/-/jobs/99",
        ),
        ("GITLAB_TOKEN", "glpat-projecttoken"),
        ("ANTHROPIC_ADMIN_KEY", org.emulator.admin_key()),
        ("ANTHROPIC_BASE_URL", &org.emulator.base_url()),
        // The push URL of the snapshot job leads to the local bare remote.
        ("GIT_CONFIG_COUNT", "1"),
        ("GIT_CONFIG_KEY_0", &format!("url.{remote}.insteadOf")),
        (
            "GIT_CONFIG_VALUE_0",
            "https://orgform-bot:glpat-projecttoken@gitlab.example/acme/org-config.git",
        ),
    ] {
        sandbox.env.insert(k.to_owned(), v.to_owned());
    }
    sandbox
}

fn notes(sandbox: &Sandbox) -> Vec<Value> {
    sandbox.stub_json("notes.json").as_array().unwrap().clone()
}

#[test]
fn the_gitlab_pipeline_uses_only_keys_gitlab_defines() {
    let pipeline = load_yaml("examples/ci/gitlab/.gitlab-ci.yml");
    let mut jobs = 0;
    for (name, job) in pipeline.as_object().unwrap() {
        if gitlab::GLOBAL.contains(&name.as_str()) {
            continue;
        }
        jobs += 1;
        check_keys(job, gitlab::JOB, name);
        for rule in job
            .get("rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            check_keys(rule, gitlab::RULE, &format!("{name} rules"));
        }
        if let Some(artifacts) = job.get("artifacts") {
            check_keys(artifacts, gitlab::ARTIFACTS, &format!("{name} artifacts"));
        }
        if let Some(cache) = job.get("cache") {
            check_keys(cache, gitlab::CACHE, &format!("{name} cache"));
        }
        if let Some(environment) = job.get("environment") {
            check_keys(
                environment,
                gitlab::ENVIRONMENT,
                &format!("{name} environment"),
            );
        }
        if !name.starts_with('.') {
            let resolved = runner::resolved_gitlab_job(&pipeline, name);
            let stage = resolved["stage"].as_str().unwrap();
            assert!(
                pipeline["stages"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|s| s == stage),
                "{name}: stage {stage} is declared"
            );
            assert!(resolved["script"].is_array(), "{name} has a script");
        }
    }
    assert_eq!(jobs, 5, ".orgform, plan, apply, drift, snapshot");
    let apply = &pipeline["apply"];
    assert_eq!(apply["resource_group"], "orgform-apply");
    assert!(
        apply["rules"][0]["if"]
            .as_str()
            .unwrap()
            .contains("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH")
    );
}

#[test]
fn gitlab_plan_posts_one_note_then_updates_it() {
    let org = Org::small();
    let sandbox = gitlab_sandbox(&org, &demo_manifest());
    let first = runner::run_gitlab_job(&sandbox, "plan");
    assert!(!first.failed, "{first:#?}");
    assert!(sandbox.calls().contains("cargo install --locked --git"));
    assert!(
        sandbox.workspace.join("plan.json").is_file(),
        "the artifact"
    );
    org.demote_dev_two();
    let second = runner::run_gitlab_job(&sandbox, "plan");
    assert!(!second.failed, "{second:#?}");
    assert!(second.log.contains("updated note 500"), "{}", second.log);
    let posted = notes(&sandbox);
    assert_eq!(posted.len(), 1, "{posted:?}");
    let body = posted[0]["body"].as_str().unwrap();
    assert!(
        body.starts_with(MARKER) && body.contains("Plan: "),
        "{body}"
    );
    assert_no_key(&org, &sandbox, &second);
}

#[test]
fn gitlab_plan_refused_is_posted_and_fails() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    let manifest =
        std::fs::read_to_string(common::other_organization_manifest(dir.path())).unwrap();
    let sandbox = gitlab_sandbox(&org, &manifest);
    let run = runner::run_gitlab_job(&sandbox, "plan");
    assert_eq!(run.step("plan"), &Outcome::Failure(3), "{run:#?}");
    let body = notes(&sandbox)[0]["body"].as_str().unwrap().to_owned();
    assert!(body.contains("orgform plan exited 3: refused"), "{body}");
}

#[test]
fn gitlab_apply_without_a_reviewed_plan_plans_and_applies() {
    let org = Org::small();
    let sandbox = gitlab_sandbox(&org, &demo_manifest());
    let run = runner::run_gitlab_job(&sandbox, "apply");
    assert!(!run.failed, "{run:#?}");
    assert!(run.log.contains("no reviewed plan"), "{}", run.log);
    assert!(run.log.contains("Apply: 11 done"), "{}", run.log);
}

/// Runs the GitLab plan job, then records it as the successful `plan` job (77) of pipeline 55
/// of merge request !7, whose merge commit is being applied.
fn gitlab_reviewed_plan(org: &Org) -> Sandbox {
    let sandbox = gitlab_sandbox(org, &demo_manifest());
    let plan = runner::run_gitlab_job(&sandbox, "plan");
    assert!(!plan.failed, "{plan:#?}");
    let artifacts = sandbox.state.join("job-artifacts/77");
    std::fs::create_dir_all(&artifacts).unwrap();
    // The apply job's checkout does not hold the plan job's files.
    std::fs::rename(
        sandbox.workspace.join("plan.json"),
        artifacts.join("plan.json"),
    )
    .unwrap();
    for (file, json) in [
        ("mrs.json", r#"[{"iid": 7, "sha": "abcdef"}]"#),
        (
            "pipelines.json",
            r#"[{"id": 55, "mr": 7, "sha": "abcdef"}]"#,
        ),
        (
            "jobs.json",
            r#"[{"id": 76, "name": "validate", "status": "success", "pipeline": 55},
                {"id": 77, "name": "plan", "status": "success", "pipeline": 55}]"#,
        ),
    ] {
        std::fs::write(sandbox.state.join(file), json).unwrap();
    }
    sandbox
}

#[test]
fn gitlab_apply_runs_the_plan_reviewed_on_the_merge_request() {
    let org = Org::small();
    let sandbox = gitlab_reviewed_plan(&org);
    let run = runner::run_gitlab_job(&sandbox, "apply");
    assert!(!run.failed, "{run:#?}");
    assert!(
        run.log
            .contains("the reviewed plan: job 77, merge request !7"),
        "{}",
        run.log
    );
    assert!(!run.log.contains("planning again"), "{}", run.log);
    assert!(run.log.contains("Apply: 11 done"), "{}", run.log);
}

#[test]
fn gitlab_apply_plans_again_when_the_reviewed_plan_is_stale() {
    let org = Org::small();
    let sandbox = gitlab_reviewed_plan(&org);
    org.demote_dev_two();
    let run = runner::run_gitlab_job(&sandbox, "apply");
    assert!(!run.failed, "{run:#?}");
    assert!(run.log.contains("the saved plan is stale"), "{}", run.log);
    assert!(run.log.contains("planning again"), "{}", run.log);
}

#[test]
fn gitlab_drift_opens_updates_and_closes_one_issue_and_fails_on_errors() {
    let org = quiet_org();
    let clean = exported(&org);
    let mut sandbox = gitlab_sandbox(&org, &demo_manifest());
    for _ in 0..2 {
        let run = runner::run_gitlab_job(&sandbox, "drift");
        assert!(!run.failed, "{run:#?}");
    }
    let opened = sandbox.stub_json("issues.json");
    assert_eq!(opened.as_array().unwrap().len(), 1, "{opened}");
    assert_eq!(opened[0]["labels"][0], "orgform-drift");
    assert_eq!(opened[0]["state"], "opened");

    std::fs::write(sandbox.workspace.join("org.yaml"), &clean).unwrap();
    let clean_run = runner::run_gitlab_job(&sandbox, "drift");
    assert!(clean_run.log.contains("closed issue #1"), "{clean_run:#?}");
    assert_eq!(sandbox.stub_json("issues.json")[0]["state"], "closed");

    sandbox.env.insert(
        "ANTHROPIC_ADMIN_KEY".into(),
        "sk-ant-admin01-wrong-key-000000000000000000".into(),
    );
    let calls = sandbox.calls();
    let failed = runner::run_gitlab_job(&sandbox, "drift");
    assert_eq!(failed.step("drift"), &Outcome::Failure(1), "{failed:#?}");
    assert!(!sandbox.calls()[calls.len()..].contains("glab"));
}

/// As on GitHub: with every `unmanaged` setting at `ignore`, the scheduled drift job right
/// after an apply is green and opens no issue.
#[test]
fn gitlab_drift_is_green_right_after_an_apply_when_unmanaged_objects_are_ignored() {
    let org = Org::small();
    let manifest = crate::recipes::ignoring_unmanaged(&demo_manifest());
    let sandbox = gitlab_sandbox(&org, &manifest);
    let apply = common::run_command(
        org.user_command(&sandbox.workspace)
            .args(["apply", "--auto-approve"]),
    );
    assert_eq!(apply.code, 0, "{apply:?}");
    let run = runner::run_gitlab_job(&sandbox, "drift");
    assert!(!run.failed, "{run:#?}");
    assert!(run.log.contains("no drift"), "{}", run.log);
    assert!(
        sandbox
            .stub_json("issues.json")
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_no_key(&org, &sandbox, &run);
}

#[test]
fn gitlab_snapshot_commits_only_when_the_organization_changed() {
    let org = Org::small();
    let sandbox = gitlab_sandbox(&org, &demo_manifest());
    let remote = git_checkout(&sandbox);
    let count = || commit_count(&remote);
    let first = runner::run_gitlab_job(&sandbox, "snapshot");
    assert!(!first.failed, "{first:#?}");
    assert_eq!(count(), "2");
    assert_eq!(
        git(&remote, &["log", "-1", "--format=%an", "main"]).trim(),
        "orgform-bot"
    );
    let second = runner::run_gitlab_job(&sandbox, "snapshot");
    assert!(
        second.log.contains("the organization did not change"),
        "{second:#?}"
    );
    assert_eq!(count(), "2");
}
