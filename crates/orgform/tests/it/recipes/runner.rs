//! A small stand-in for the GitHub Actions and GitLab CI runners: it checks the keys a recipe
//! uses against each platform's keyword list, then runs every `run:`/`script:` block under
//! `bash --noprofile --norc -eo pipefail` with the environment the runner would give it,
//! `gh`, `glab` and `cargo` replaced by recording stubs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The repository root (recipes, `action.yml`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A recipe file parsed as YAML.
pub fn load_yaml(relative: &str) -> Value {
    let path = repo_root().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{relative}: {e}"));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{relative} is not YAML: {e}"))
}

/// Panics when `value` (a mapping) has a key outside `allowed`.
pub fn check_keys(value: &Value, allowed: &[&str], what: &str) {
    let map = value
        .as_object()
        .unwrap_or_else(|| panic!("{what} is not a mapping: {value}"));
    for key in map.keys() {
        assert!(
            allowed.contains(&key.as_str()),
            "{what}: `{key}` is not a key the platform defines (allowed: {allowed:?})"
        );
    }
}

/// How a step or job ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure(i32),
    Skipped,
}

/// One finished job: whether it failed, each step's outcome, and the whole log.
#[derive(Debug)]
pub struct JobRun {
    pub failed: bool,
    pub steps: Vec<(String, Outcome)>,
    pub log: String,
}

impl JobRun {
    /// The outcome of the step named `name`.
    pub fn step(&self, name: &str) -> &Outcome {
        &self
            .steps
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no step {name} in {:?}", self.steps))
            .1
    }
}

/// A job's sandbox: a workspace, a home, a stub `bin/` first on `PATH`, the stubs' state.
pub struct Sandbox {
    _dir: tempfile::TempDir,
    pub workspace: PathBuf,
    pub home: PathBuf,
    pub bin: PathBuf,
    pub state: PathBuf,
    /// `${{ … }}` values: `secrets.X`, `vars.X`, `github.X`, `runner.os`.
    pub expressions: BTreeMap<String, String>,
    /// Variables every step sees (`GITHUB_*`, `CI_*`, CI/CD variables).
    pub env: BTreeMap<String, String>,
    /// Whether `actions/cache` finds the key it is given (it restores nothing itself).
    pub cache_hit: bool,
    run_counter: std::cell::Cell<u32>,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let (workspace, home, bin, state) = (
            root.join("work"),
            root.join("home"),
            root.join("bin"),
            root.join("state"),
        );
        for d in [&workspace, &home, &bin, &state] {
            std::fs::create_dir_all(d).unwrap();
        }
        for (name, text) in [
            ("gh", include_str!("gh")),
            ("glab", include_str!("glab")),
            ("cargo", include_str!("cargo")),
        ] {
            let path = bin.join(name);
            std::fs::write(&path, text).unwrap();
            let mut perms = std::fs::metadata(&path).unwrap().permissions();
            std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
            std::fs::set_permissions(&path, perms).unwrap();
        }
        Self {
            _dir: dir,
            workspace,
            home,
            bin,
            state,
            expressions: BTreeMap::new(),
            env: BTreeMap::new(),
            cache_hit: false,
            run_counter: std::cell::Cell::new(0),
        }
    }

    /// The command lines the stubs recorded, one per line.
    pub fn calls(&self) -> String {
        std::fs::read_to_string(self.state.join("calls.log")).unwrap_or_default()
    }

    /// A stub state file (`comments.json`, `issues.json`, …) as JSON; `[]` when absent.
    pub fn stub_json(&self, file: &str) -> Value {
        std::fs::read_to_string(self.state.join(file))
            .map_or(Value::Array(vec![]), |t| serde_json::from_str(&t).unwrap())
    }

    /// Runs `script` as the runner does and returns its exit code and output.
    fn bash(
        &self,
        script: &str,
        env: &BTreeMap<String, String>,
        path: &[PathBuf],
    ) -> (i32, String) {
        let n = self.run_counter.get() + 1;
        self.run_counter.set(n);
        let file = self.state.join(format!("step-{n}.sh"));
        std::fs::write(&file, script).unwrap();
        let mut dirs = vec![self.bin.clone()];
        dirs.extend(path.iter().cloned());
        dirs.extend(["/usr/local/bin", "/usr/bin", "/bin"].map(PathBuf::from));
        let output = std::process::Command::new("/bin/bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&file)
            .current_dir(&self.workspace)
            .env_clear()
            .env("PATH", std::env::join_paths(dirs).unwrap())
            .env("HOME", &self.home)
            .env("GH_STUB_STATE", &self.state)
            .env("ORGFORM_UNDER_TEST", env!("CARGO_BIN_EXE_orgform"))
            .env("NO_COLOR", "1")
            .envs(&self.env)
            .envs(env)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let log = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.code().unwrap_or(-1), log)
    }
}

/// The GitHub Actions keywords the recipes may use.
pub mod github {
    pub const WORKFLOW: &[&str] = &[
        "name",
        "run-name",
        "on",
        "permissions",
        "env",
        "defaults",
        "concurrency",
        "jobs",
    ];
    pub const EVENTS: &[&str] = &[
        "pull_request",
        "pull_request_target",
        "push",
        "schedule",
        "workflow_dispatch",
        "workflow_call",
        "merge_group",
    ];
    pub const PERMISSIONS: &[&str] = &[
        "actions",
        "attestations",
        "checks",
        "contents",
        "deployments",
        "discussions",
        "id-token",
        "issues",
        "packages",
        "pages",
        "pull-requests",
        "repository-projects",
        "security-events",
        "statuses",
    ];
    pub const CONCURRENCY: &[&str] = &["group", "cancel-in-progress"];
    pub const JOB: &[&str] = &[
        "name",
        "permissions",
        "needs",
        "if",
        "runs-on",
        "environment",
        "concurrency",
        "outputs",
        "env",
        "defaults",
        "steps",
        "timeout-minutes",
        "strategy",
        "continue-on-error",
        "container",
        "services",
        "uses",
        "with",
        "secrets",
    ];
    pub const STEP: &[&str] = &[
        "id",
        "if",
        "name",
        "uses",
        "run",
        "working-directory",
        "shell",
        "with",
        "env",
        "continue-on-error",
        "timeout-minutes",
    ];
    pub const ACTION: &[&str] = &[
        "name",
        "author",
        "description",
        "inputs",
        "outputs",
        "runs",
        "branding",
    ];
    pub const ACTION_INPUT: &[&str] = &["description", "required", "default", "deprecationMessage"];
    pub const ACTION_OUTPUT: &[&str] = &["description", "value"];
    pub const COMPOSITE_RUNS: &[&str] = &["using", "steps"];
    /// Actions a recipe may call besides this repository's own; the runner stands in for them.
    pub const KNOWN_ACTIONS: &[&str] = &[
        "actions/checkout@v4",
        "actions/cache@v4",
        "actions/upload-artifact@v4",
        "orgform/orgform@main",
    ];
}

/// The GitLab CI keywords the recipes may use.
pub mod gitlab {
    pub const GLOBAL: &[&str] = &[
        "default",
        "include",
        "stages",
        "variables",
        "workflow",
        "image",
        "services",
        "cache",
        "before_script",
        "after_script",
    ];
    pub const JOB: &[&str] = &[
        "after_script",
        "allow_failure",
        "artifacts",
        "before_script",
        "cache",
        "coverage",
        "dependencies",
        "environment",
        "extends",
        "hooks",
        "id_tokens",
        "image",
        "inherit",
        "interruptible",
        "needs",
        "parallel",
        "release",
        "resource_group",
        "retry",
        "rules",
        "script",
        "secrets",
        "services",
        "stage",
        "tags",
        "timeout",
        "trigger",
        "variables",
        "when",
    ];
    pub const RULE: &[&str] = &[
        "if",
        "changes",
        "exists",
        "when",
        "allow_failure",
        "variables",
        "needs",
    ];
    pub const ARTIFACTS: &[&str] = &[
        "paths",
        "exclude",
        "expire_in",
        "expose_as",
        "name",
        "public",
        "access",
        "reports",
        "untracked",
        "when",
    ];
    pub const CACHE: &[&str] = &[
        "key",
        "paths",
        "policy",
        "when",
        "untracked",
        "unprotect",
        "fallback_keys",
    ];
    pub const ENVIRONMENT: &[&str] = &[
        "name",
        "url",
        "on_stop",
        "action",
        "auto_stop_in",
        "kubernetes",
        "deployment_tier",
    ];
}

/// Values visible to `${{ … }}` inside one workflow job or composite action.
struct Scope<'a> {
    sandbox: &'a Sandbox,
    env: BTreeMap<String, String>,
    inputs: BTreeMap<String, String>,
    outputs: BTreeMap<String, BTreeMap<String, String>>,
}

impl Scope<'_> {
    /// Evaluates the few expression forms the recipes use; anything else is a test failure, so
    /// the recipes stay within what this runner can check.
    fn eval(&self, expr: &str) -> String {
        let expr = expr.trim();
        if let Some((left, right)) = expr.split_once("||") {
            let left = self.eval(left);
            return if left.is_empty() {
                self.eval(right)
            } else {
                left
            };
        }
        if let Some(literal) = expr.strip_prefix('\'').and_then(|e| e.strip_suffix('\'')) {
            return literal.to_owned();
        }
        let parts: Vec<&str> = expr.split('.').collect();
        match parts.as_slice() {
            ["env", name] => self.env.get(*name).cloned().unwrap_or_default(),
            ["inputs", name] => self.inputs.get(*name).cloned().unwrap_or_default(),
            ["steps", id, "outputs", name] => self
                .outputs
                .get(*id)
                .and_then(|o| o.get(*name))
                .cloned()
                .unwrap_or_default(),
            ["vars", _] => self
                .sandbox
                .expressions
                .get(expr)
                .cloned()
                .unwrap_or_default(),
            ["secrets" | "github" | "runner", ..] => self
                .sandbox
                .expressions
                .get(expr)
                .cloned()
                .unwrap_or_else(|| panic!("the test gives no value for ${{{{ {expr} }}}}")),
            _ => panic!("unsupported expression ${{{{ {expr} }}}}"),
        }
    }

    fn substitute(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find("}}").expect("closed expression") + start;
            out.push_str(&self.eval(&rest[start + 3..end]));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }

    fn map(&self, value: Option<&Value>) -> BTreeMap<String, String> {
        value
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), self.substitute(&scalar(v))))
            .collect()
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Runs job `job` of the GitHub workflow `examples/ci/github/<file>` in `sandbox`.
pub fn run_github_job(sandbox: &Sandbox, file: &str, job: &str) -> JobRun {
    let workflow = load_yaml(&format!("examples/ci/github/{file}"));
    let job_value = &workflow["jobs"][job];
    let mut scope = Scope {
        sandbox,
        env: BTreeMap::new(),
        inputs: BTreeMap::new(),
        outputs: BTreeMap::new(),
    };
    let workflow_env = scope.map(workflow.get("env"));
    scope.env.extend(workflow_env);
    let job_env = scope.map(job_value.get("env"));
    scope.env.extend(job_env);
    let mut run = JobRun {
        failed: false,
        steps: vec![],
        log: String::new(),
    };
    let mut path = vec![];
    let steps = job_value["steps"].as_array().expect("steps");
    run_steps(&mut scope, steps, &mut run, &mut path, None);
    run
}

/// Runs `action.yml` on its own, as a step `uses: orgform/orgform@main` with `with`, and
/// returns the run and the action's outputs.
pub fn run_orgform_action(
    sandbox: &Sandbox,
    with: &[(&str, &str)],
) -> (JobRun, BTreeMap<String, String>) {
    let scope = Scope {
        sandbox,
        env: BTreeMap::new(),
        inputs: BTreeMap::new(),
        outputs: BTreeMap::new(),
    };
    let with = with
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let mut run = JobRun {
        failed: false,
        steps: vec![],
        log: String::new(),
    };
    let uses = "orgform/orgform@main";
    let (code, outputs) = run_action(&scope, uses, &with, BTreeMap::new(), &mut run, &mut vec![]);
    run.failed = code != 0;
    let outcome = if code == 0 {
        Outcome::Success
    } else {
        Outcome::Failure(code)
    };
    run.steps.push((uses.to_owned(), outcome));
    (run, outputs)
}

/// Runs `steps` in order the way the runner does; a composite action's steps run through
/// here too, with `action_path` set.
fn run_steps(
    scope: &mut Scope<'_>,
    steps: &[Value],
    run: &mut JobRun,
    path: &mut Vec<PathBuf>,
    action_path: Option<&Path>,
) {
    for (i, step) in steps.iter().enumerate() {
        let name = step
            .get("name")
            .or_else(|| step.get("uses"))
            .map_or_else(|| format!("step {i}"), scalar);
        let go = match step.get("if").map(scalar).as_deref() {
            None | Some("success()") => !run.failed,
            Some("always()") => true,
            Some("failure()") => run.failed,
            Some(other) => panic!("{name}: unsupported condition `{other}`"),
        };
        if !go {
            run.steps.push((name, Outcome::Skipped));
            continue;
        }
        let mut env = scope.env.clone();
        env.extend(scope.map(step.get("env")));
        let output_file = scope
            .sandbox
            .state
            .join(format!("output-{}", run.steps.len()));
        std::fs::write(&output_file, "").unwrap();
        let path_file = scope.sandbox.state.join("github-path");
        std::fs::write(&path_file, "").unwrap();
        env.insert("GITHUB_OUTPUT".into(), output_file.display().to_string());
        env.insert("GITHUB_PATH".into(), path_file.display().to_string());
        env.insert(
            "GITHUB_STEP_SUMMARY".into(),
            scope
                .sandbox
                .state
                .join("step-summary.md")
                .display()
                .to_string(),
        );
        if let Some(p) = action_path {
            env.insert("GITHUB_ACTION_PATH".into(), p.display().to_string());
        }
        let (code, outputs) = if let Some(script) = step.get("run") {
            if let Some(shell) = step.get("shell") {
                assert_eq!(scalar(shell), "bash", "{name}: the recipes use bash");
            } else {
                assert!(
                    action_path.is_none(),
                    "{name}: a composite step needs `shell`"
                );
            }
            let script = scope.substitute(&scalar(script));
            let (code, log) = scope.sandbox.bash(&script, &env, path);
            run.log.push_str(&log);
            (code, parse_output_file(&output_file))
        } else {
            let uses = scalar(&step["uses"]);
            let with = scope.map(step.get("with"));
            run_action(scope, &uses, &with, env, run, path)
        };
        for line in std::fs::read_to_string(&path_file).unwrap().lines() {
            path.insert(0, PathBuf::from(line));
        }
        if let Some(id) = step.get("id") {
            scope.outputs.insert(scalar(id), outputs);
        }
        let outcome = if code == 0 {
            Outcome::Success
        } else {
            Outcome::Failure(code)
        };
        let tolerated = step.get("continue-on-error") == Some(&Value::Bool(true));
        if code != 0 && !tolerated {
            run.failed = true;
        }
        run.steps.push((name, outcome));
    }
}

fn parse_output_file(file: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Stands in for one `uses:` step; returns its exit code and outputs.
fn run_action(
    scope: &Scope<'_>,
    uses: &str,
    with: &BTreeMap<String, String>,
    env: BTreeMap<String, String>,
    run: &mut JobRun,
    path: &mut Vec<PathBuf>,
) -> (i32, BTreeMap<String, String>) {
    assert!(
        github::KNOWN_ACTIONS.contains(&uses),
        "`uses: {uses}` is not an action the recipes are tested with"
    );
    let workspace = &scope.sandbox.workspace;
    match uses.split('@').next().unwrap() {
        "actions/upload-artifact" => {
            // Kept where `gh run download` (the stub) finds it, under this run's id.
            let source = workspace.join(&with["path"]);
            if source.exists() {
                let run_id = &scope.sandbox.env["GITHUB_RUN_ID"];
                let dir = scope
                    .sandbox
                    .state
                    .join(format!("artifacts/{run_id}/{}", with["name"]));
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::copy(&source, dir.join(source.file_name().unwrap())).unwrap();
            }
            (0, BTreeMap::new())
        }
        "orgform/orgform" => {
            let action = load_yaml("action.yml");
            let mut inner = Scope {
                sandbox: scope.sandbox,
                env,
                inputs: BTreeMap::new(),
                outputs: BTreeMap::new(),
            };
            for (name, input) in action["inputs"].as_object().unwrap() {
                let value = with
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| input.get("default").map(scalar).unwrap_or_default());
                inner.inputs.insert(name.clone(), value);
            }
            for name in with.keys() {
                assert!(
                    inner.inputs.contains_key(name),
                    "action.yml has no input `{name}`"
                );
            }
            let mut inner_run = JobRun {
                failed: false,
                steps: vec![],
                log: String::new(),
            };
            let steps = action["runs"]["steps"].as_array().unwrap();
            run_steps(&mut inner, steps, &mut inner_run, path, Some(&repo_root()));
            run.log.push_str(&inner_run.log);
            let outputs = action["outputs"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), inner.substitute(&scalar(&v["value"]))))
                .collect();
            let code = inner_run
                .steps
                .iter()
                .find_map(|(_, o)| match o {
                    Outcome::Failure(c) => Some(*c),
                    _ => None,
                })
                .unwrap_or(0);
            (code, outputs)
        }
        "actions/cache" => {
            assert!(
                with["key"].starts_with("orgform-Linux-"),
                "cache key {with:?}"
            );
            let hit = if scope.sandbox.cache_hit {
                "true"
            } else {
                "false"
            };
            (
                0,
                BTreeMap::from([("cache-hit".to_owned(), hit.to_owned())]),
            )
        }
        // checkout: the test prepared the workspace.
        _ => (0, BTreeMap::new()),
    }
}

/// Runs GitLab job `job` of `examples/ci/gitlab/.gitlab-ci.yml`: `before_script` and `script`
/// in one shell, as the runner does, with the job's and the global variables.
pub fn run_gitlab_job(sandbox: &Sandbox, job: &str) -> JobRun {
    let pipeline = load_yaml("examples/ci/gitlab/.gitlab-ci.yml");
    let job_value = resolved_gitlab_job(&pipeline, job);
    let lines = |key: &str| -> Vec<String> {
        job_value
            .get(key)
            .or_else(|| pipeline.get("default").and_then(|d| d.get(key)))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(scalar)
            .collect()
    };
    let mut env = BTreeMap::new();
    for source in [pipeline.get("variables"), job_value.get("variables")] {
        for (k, v) in source.and_then(Value::as_object).into_iter().flatten() {
            let value = match v {
                Value::Object(o) => o.get("value").map(scalar).unwrap_or_default(),
                other => scalar(other),
            };
            env.insert(k.clone(), expand_gitlab(&value, &sandbox.env));
        }
    }
    let mut script = lines("before_script");
    script.extend(lines("script"));
    let (code, log) = sandbox.bash(&script.join("\n"), &env, &[]);
    JobRun {
        failed: code != 0,
        steps: vec![(
            job.to_owned(),
            if code == 0 {
                Outcome::Success
            } else {
                Outcome::Failure(code)
            },
        )],
        log,
    }
}

/// A job with its `extends:` template merged in (the job's own keys win).
pub fn resolved_gitlab_job(pipeline: &Value, job: &str) -> Value {
    let mut value = pipeline[job].clone();
    assert!(value.is_object(), "no job {job}");
    if let Some(parent) = value.get("extends").map(scalar) {
        let mut merged = resolved_gitlab_job(pipeline, &parent);
        for (k, v) in value.as_object().unwrap() {
            if k == "variables" {
                let vars = merged["variables"].as_object().cloned().unwrap_or_default();
                let mut vars = vars;
                vars.extend(v.as_object().unwrap().clone());
                merged["variables"] = Value::Object(vars);
            } else {
                merged[k] = v.clone();
            }
        }
        value = merged;
    }
    value
}

/// GitLab expands `$NAME` in variable values with the predefined and project variables.
fn expand_gitlab(value: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = value.to_owned();
    for (k, v) in vars {
        out = out
            .replace(&format!("${{{k}}}"), v)
            .replace(&format!("${k}"), v);
    }
    out
}
