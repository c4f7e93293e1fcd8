//! Runs every scenario folder under `tests/fixtures/scenarios/`.
//!
//! A folder holds `manifest.yaml`, `seed.yaml` (an `orgform_model::Snapshot`, consistent
//! enough to seed the Admin API emulator), an optional `scenario.yaml` and the expected
//! renderings `plan.txt`, `plan.json`, `plan.md`, `drift.txt` and `drift.json`. Set
//! `ORGFORM_UPDATE_SCENARIOS=1` to rewrite the renderings, then review the diff.
//!
//! Besides comparing renderings, every scenario checks the seed's consistency, the
//! expectations written in `scenario.yaml` (outcome and the ordered list of operations, so a
//! wrong rendering cannot simply be blessed), JSON round-trip, determinism, dependency order
//! and the Markdown size bound.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use orgform_manifest::Manifest;
use orgform_model::{InviteStatus, Snapshot, sha256_hex};
use orgform_plan::{Plan, PlanOptions, PlanOutcome, drift, plan, render};
use serde::Deserialize;

use crate::support::conformance;

/// `scenario.yaml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Scenario {
    /// What the scenario covers.
    description: String,
    /// The planning instant (and the emulator's clock for this seed); required.
    now: Option<jiff::Timestamp>,
    /// `--allow-destructive N`.
    allow_destructive: Option<u32>,
    /// For the executor's tests: what a re-plan after applying shows.
    after_apply: Option<AfterApply>,
    /// Expected outcome of the plan.
    expect_outcome: Option<Outcome>,
    /// Expected `kind` of every action, in order.
    expect_ops: Option<Vec<String>>,
    /// Whether `drift` reports drift.
    expect_drift: Option<bool>,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum AfterApply {
    /// A re-plan has no actions, nothing deferred and nothing blocked.
    Converged,
    /// A re-plan has no actions, but deferred or blocked items remain.
    DeferredOrBlockedRemain,
    /// Apply refuses the plan (errors, limits, organization mismatch): nothing changes.
    Refused,
}

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Outcome {
    Refused,
    Blocked,
    Changes,
    NoChanges,
}

/// Used only to carry on after reporting a scenario without `now`.
const DEFAULT_NOW: &str = "2026-11-01T00:00:00Z";

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/scenarios")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Checks that a seed could be loaded into the emulator as is.
fn check_seed(name: &str, seed: &Snapshot) -> Vec<String> {
    let mut problems = Vec::new();
    let mut ids = HashSet::new();
    let prefixed = |id: &str, prefix: &str| id.starts_with(prefix) && id.len() > prefix.len() + 2;
    for u in &seed.users {
        if !prefixed(&u.id, "user_01") {
            problems.push(format!("user id {} lacks the user_01 prefix", u.id));
        }
        ids.insert(u.id.as_str());
    }
    for i in &seed.invites {
        if !prefixed(&i.id, "invite_01") {
            problems.push(format!("invite id {} lacks the invite_01 prefix", i.id));
        }
        if i.expires_at != i.invited_at + jiff::SignedDuration::from_hours(21 * 24) {
            problems.push(format!(
                "invite {} does not expire 21 days after invited_at",
                i.id
            ));
        }
        if (i.status == InviteStatus::Accepted) != i.accepted_at.is_some() {
            problems.push(format!(
                "invite {}: accepted_at must be set exactly when accepted",
                i.id
            ));
        }
        if i.status == InviteStatus::Accepted && seed.user_by_email(&i.email).is_none() {
            problems.push(format!("accepted invite {} has no user", i.id));
        }
    }
    for w in &seed.workspaces {
        if !prefixed(&w.id, "wrkspc_01") {
            problems.push(format!("workspace id {} lacks the wrkspc_01 prefix", w.id));
        }
        if w.name.is_empty() || w.name.chars().count() > 40 {
            problems.push(format!("workspace {} name must be 1-40 characters", w.id));
        }
    }
    let mut memberships = BTreeSet::new();
    for m in &seed.workspace_members {
        if seed.user(&m.user_id).is_none() {
            problems.push(format!("membership of unknown user {}", m.user_id));
        }
        if seed.workspace(&m.workspace_id).is_none() {
            problems.push(format!(
                "membership in unknown workspace {}",
                m.workspace_id
            ));
        }
        if !memberships.insert((&m.workspace_id, &m.user_id)) {
            problems.push(format!(
                "duplicate membership {}/{}",
                m.workspace_id, m.user_id
            ));
        }
    }
    for k in &seed.api_keys {
        if !prefixed(&k.id, "apikey_01") {
            problems.push(format!("key id {} lacks the apikey_01 prefix", k.id));
        }
        if let Some(ws) = &k.workspace_id
            && seed.workspace(ws).is_none()
        {
            problems.push(format!("key {} in unknown workspace {ws}", k.id));
        }
    }
    let mut emails = HashSet::new();
    for u in &seed.users {
        if !emails.insert(orgform_model::normalize_email(&u.email)) {
            problems.push(format!("duplicate user email {}", u.email));
        }
    }
    if !uuid_like(&seed.organization.id) {
        problems.push("organization id is not a UUID".to_owned());
    }
    problems
        .into_iter()
        .map(|p| format!("{name}: seed: {p}"))
        .collect()
}

fn uuid_like(id: &str) -> bool {
    let parts: Vec<&str> = id.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn check_order(plan: &Plan) -> Result<(), String> {
    for (i, a) in plan.actions.iter().enumerate() {
        if a.id as usize != i + 1 {
            return Err(format!("action ids are not 1..n: {} at {}", a.id, i + 1));
        }
        if let Some(d) = a.depends_on.iter().find(|d| **d >= a.id) {
            return Err(format!("action {} depends on later action {d}", a.id));
        }
    }
    Ok(())
}

/// Compares or rewrites one rendering; returns a failure message.
fn compare(dir: &Path, file: &str, actual: &str, update: bool) -> Option<String> {
    let path = dir.join(file);
    if update {
        std::fs::write(&path, actual).unwrap();
        return None;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected == actual {
        return None;
    }
    let mut msg = format!(
        "{} differs (ORGFORM_UPDATE_SCENARIOS=1 rewrites it):\n",
        path.display()
    );
    for (n, (e, a)) in expected.lines().zip(actual.lines()).enumerate() {
        if e != a {
            let _ = writeln!(
                msg,
                "  first difference at line {}:\n  - {e}\n  + {a}",
                n + 1
            );
            break;
        }
    }
    let _ = writeln!(
        msg,
        "  expected {} lines, got {}",
        expected.lines().count(),
        actual.lines().count()
    );
    Some(msg)
}

#[test]
fn scenarios() {
    let update = std::env::var_os("ORGFORM_UPDATE_SCENARIOS").is_some();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(scenarios_dir())
        .expect("scenario folder")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 30,
        "expected at least 30 scenarios, found {}",
        dirs.len()
    );
    let mut failures = Vec::new();
    let mut seen_ops = BTreeSet::new();
    let mut seen_outcomes = BTreeMap::new();
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let manifest_text = read(&dir.join("manifest.yaml"));
        let manifest: Manifest = serde_saphyr::from_str(&manifest_text)
            .unwrap_or_else(|e| panic!("{name}: manifest.yaml: {e}"));
        let seed: Snapshot = serde_saphyr::from_str(&read(&dir.join("seed.yaml")))
            .unwrap_or_else(|e| panic!("{name}: seed.yaml: {e}"));
        let scenario_path = dir.join("scenario.yaml");
        let scenario: Scenario = if scenario_path.exists() {
            serde_saphyr::from_str(&read(&scenario_path))
                .unwrap_or_else(|e| panic!("{name}: scenario.yaml: {e}"))
        } else {
            Scenario::default()
        };
        failures.extend(check_seed(&name, &seed));
        let options = PlanOptions {
            clock_skew: None,
            allow_destructive: scenario.allow_destructive,
            now: scenario.now.unwrap_or_else(|| {
                failures.push(format!("{name}: scenario.yaml needs now"));
                DEFAULT_NOW.parse().unwrap()
            }),
            manifest_digest: sha256_hex(manifest_text.as_bytes()),
            pipeline: orgform_plan::Pipeline::default(),
            no_access: None,
        };
        let p = plan(&manifest, &seed, &options);
        let d = drift(&manifest, &seed, &options);

        // Determinism: planning again, and from a shuffled snapshot, gives the same bytes.
        let mut reversed = seed.clone();
        reversed.users.reverse();
        reversed.invites.reverse();
        reversed.workspaces.reverse();
        reversed.workspace_members.reverse();
        reversed.api_keys.reverse();
        let json = render::json(&p);
        if render::json(&plan(&manifest, &reversed, &options)) != json {
            failures.push(format!(
                "{name}: plan depends on the order of the live lists"
            ));
        }
        if render::json(&plan(&manifest, &seed, &options)) != json {
            failures.push(format!("{name}: planning twice differs"));
        }
        match Plan::from_json(&json) {
            Ok(back) if back == p => {}
            Ok(_) => failures.push(format!("{name}: JSON round trip changed the plan")),
            Err(e) => failures.push(format!("{name}: JSON plan does not parse back: {e}")),
        }
        for action in &p.actions {
            if let Err(e) = conformance::check(action) {
                failures.push(format!("{name}: action {}: {e}", action.id));
            }
        }
        if let Err(e) = check_order(&p) {
            failures.push(format!("{name}: {e}"));
        }
        let md = render::markdown(&p);
        if md.chars().count() >= render::MARKDOWN_LIMIT {
            failures.push(format!("{name}: markdown too long"));
        }
        if !p.errors.is_empty() && !p.actions.is_empty() {
            failures.push(format!("{name}: plan errors but actions"));
        }

        // Expectations written by hand.
        if scenario.description.is_empty() {
            failures.push(format!("{name}: scenario.yaml needs a description"));
        }
        let outcome = match p.outcome() {
            PlanOutcome::Refused => Outcome::Refused,
            PlanOutcome::Blocked => Outcome::Blocked,
            PlanOutcome::Changes => Outcome::Changes,
            PlanOutcome::NoChanges => Outcome::NoChanges,
        };
        *seen_outcomes.entry(format!("{outcome:?}")).or_insert(0) += 1;
        match scenario.expect_outcome {
            Some(expected) if expected != outcome => failures.push(format!(
                "{name}: expected outcome {expected:?}, got {outcome:?}"
            )),
            None => failures.push(format!("{name}: scenario.yaml needs expect_outcome")),
            _ => {}
        }
        let ops: Vec<String> = p.actions.iter().map(|a| a.op.name().to_owned()).collect();
        seen_ops.extend(ops.iter().cloned());
        match &scenario.expect_ops {
            Some(expected) if *expected != ops => {
                failures.push(format!("{name}: expected ops {expected:?}, got {ops:?}"));
            }
            None => failures.push(format!("{name}: scenario.yaml needs expect_ops")),
            _ => {}
        }
        if let Some(expected) = scenario.expect_drift
            && expected != d.has_drift()
        {
            failures.push(format!(
                "{name}: expected has_drift {expected}, got {}",
                d.has_drift()
            ));
        }
        match scenario.after_apply {
            None => failures.push(format!("{name}: scenario.yaml needs after_apply")),
            Some(AfterApply::Refused) if !p.is_refused() => {
                failures.push(format!("{name}: after_apply refused, but the plan is not"));
            }
            Some(AfterApply::Converged)
                if p.is_refused() || p.has_blocked() || !p.deferred.is_empty() =>
            {
                failures.push(format!("{name}: after_apply converged, but the plan is refused or has blocked or deferred items"));
            }
            Some(AfterApply::DeferredOrBlockedRemain)
                if p.deferred.is_empty() && !p.has_blocked() =>
            {
                failures.push(format!("{name}: after_apply deferred_or_blocked_remain, but nothing is deferred or blocked"));
            }
            _ => {}
        }

        failures.extend(compare(dir, "plan.txt", &render::text(&p, false), update));
        failures.extend(compare(dir, "plan.json", &json, update));
        failures.extend(compare(dir, "plan.md", &md, update));
        failures.extend(compare(
            dir,
            "drift.txt",
            &render::drift_text(&d, false),
            update,
        ));
        failures.extend(compare(dir, "drift.json", &render::drift_json(&d), update));
        if render::drift_markdown(&d).chars().count() >= render::MARKDOWN_LIMIT {
            failures.push(format!("{name}: drift markdown too long"));
        }
    }
    for op in [
        "create_invite",
        "replace_invite",
        "revoke_invite",
        "update_user_role",
        "remove_user",
        "create_workspace",
        "update_workspace",
        "archive_workspace",
        "add_workspace_member",
        "update_workspace_member",
        "remove_workspace_member",
        "update_api_key",
    ] {
        if !seen_ops.contains(op) {
            failures.push(format!("no scenario exercises {op}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let _ = seen_outcomes;
}
