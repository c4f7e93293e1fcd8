//! Every planner scenario, applied to the emulator under every reading of the points the
//! Admin API documentation leaves open (`orgform_emulator::Readings::profiles`: the default,
//! each switch flipped once, and everything flipped). Under each: the plan made from what
//! the emulator lists has the operations the scenario expects, `drift` finds drift exactly
//! when the scenario says, the re-plan is empty (or only
//! deferred and blocked items remain, as the scenario says), refused plans change nothing,
//! and the final state is the one the default reading reaches (snapshot-tested). Then the
//! same under injected faults, converging within three applies without any write done twice.
//!
//! Each profile's name, result and time are written to stderr, uncaptured, so they show in
//! every `cargo test` run.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::common::{
    AfterApply, Scenario, apply, client, duplicated_writes, fault_kinds, plan, report_line,
    scenario_emulator, scenarios,
};
use orgform_emulator::{FaultConfig, Readings};
use orgform_model::Snapshot;

/// Plans, applies once and re-plans one scenario; returns the problems and the final state.
async fn apply_once(scenario: &Scenario, readings: Readings) -> (Vec<String>, Snapshot) {
    let mut failures = Vec::new();
    let emu = scenario_emulator(scenario, FaultConfig::default(), readings).await;
    let client = client(&emu, 2);
    let before = emu.state();
    let live = client
        .fetch_snapshot()
        .await
        .expect("fetch succeeds without faults");
    let first = orgform_plan::plan(&scenario.manifest, &live, &scenario.options());
    let drift = orgform_plan::drift(&scenario.manifest, &live, &scenario.options());
    if let Some(expected) = scenario.file.expect_drift
        && drift.has_drift() != expected
    {
        failures.push(format!(
            "drift reports drift: {}, the scenario expects {expected}:\n{}",
            drift.has_drift(),
            orgform_plan::render::drift_text(&drift, false)
        ));
    }
    if let Some(expected) = &scenario.file.expect_ops {
        let ops: Vec<&str> = first.actions.iter().map(|a| a.op.name()).collect();
        if ops != *expected {
            failures.push(format!(
                "plan has {ops:?}, the scenario expects {expected:?}"
            ));
        }
    }
    let report = apply(&client, &first, 1).await;
    let after = plan(&client, scenario).await.unwrap();
    match scenario.after_apply() {
        AfterApply::Refused => {
            if !first.is_refused() {
                failures.push("expected a refused plan".to_owned());
            }
            if emu.state() != before {
                failures.push("a refused plan changed the organization".to_owned());
            }
            if report.summary.done + report.summary.already_done != 0 {
                failures.push("a refused plan executed actions".to_owned());
            }
        }
        expected => {
            if report.has_failures() {
                failures.push(format!("apply failed:\n{}", report.to_text()));
            }
            if after.has_changes() {
                failures.push(format!(
                    "re-plan is not empty:\n{}",
                    orgform_plan::render::text(&after, false)
                ));
            }
            let remain = !after.deferred.is_empty() || !after.blocked.is_empty();
            if remain != (expected == AfterApply::DeferredOrBlockedRemain) {
                failures.push(format!(
                    "expected {expected:?}, deferred/blocked remain: {remain}\n{}",
                    orgform_plan::render::text(&after, false)
                ));
            }
            if report.summary.done != first.actions.len() {
                failures.push(format!(
                    "{} of {} actions done",
                    report.summary.done,
                    first.actions.len()
                ));
            }
        }
    }
    let state = emu.state();
    emu.shutdown().await;
    (failures, state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_converges_after_one_apply_under_every_reading() {
    let all = scenarios();
    let started = Instant::now();
    let mut failures = Vec::new();
    let mut reached: BTreeMap<String, Snapshot> = BTreeMap::new();
    let profiles = Readings::profiles();
    for (profile, readings) in &profiles {
        let clock = Instant::now();
        let mut failed = 0;
        for scenario in &all {
            let name = &scenario.name;
            let (mut problems, state) = apply_once(scenario, *readings).await;
            if *profile == "default" {
                let text = serde_json::to_string_pretty(&state).unwrap();
                insta::assert_snapshot!(format!("final_state__{name}"), text);
                reached.insert(name.clone(), state);
            } else if reached.get(name) != Some(&state) {
                problems.push("the final state differs from the default reading's".to_owned());
            }
            if !problems.is_empty() {
                failed += 1;
                failures.push(format!("[{profile}] {name}: {}", problems.join("\n")));
            }
        }
        report_line(&format!(
            "readings {profile:<24} {}: {}/{} scenarios converge after one apply ({} ms)",
            if failed == 0 { "ok" } else { "FAILED" },
            all.len() - failed,
            all.len(),
            clock.elapsed().as_millis()
        ));
    }
    report_line(&format!(
        "readings matrix (one apply): {} profiles x {} scenarios in {:.1} s, {} failures",
        profiles.len(),
        all.len(),
        started.elapsed().as_secs_f64(),
        failures.len()
    ));
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_converges_under_faults_without_duplicate_writes_under_every_reading() {
    let kinds = fault_kinds();
    let all = scenarios();
    let started = Instant::now();
    let mut failures = Vec::new();
    let profiles = Readings::profiles();
    for (profile, readings) in &profiles {
        let clock = Instant::now();
        let mut failed = 0;
        let mut total_faults = 0;
        let mut run = 0;
        for (i, scenario) in all.iter().enumerate() {
            if scenario.after_apply() == AfterApply::Refused {
                continue;
            }
            run += 1;
            let faults = FaultConfig {
                seed: 1000 + i as u64,
                rate: 0.2,
                kinds: kinds.clone(),
                ..FaultConfig::default()
            };
            let emu = scenario_emulator(scenario, faults, *readings).await;
            let client = client(&emu, 4);
            let mut converged = false;
            for _attempt in 0..3 {
                let Ok(current) = plan(&client, scenario).await else {
                    continue;
                };
                if !current.has_changes() {
                    converged = true;
                    break;
                }
                apply(&client, &current, 4).await;
            }
            if !converged {
                // The third apply may have been the one that finished the work.
                converged = plan(&client, scenario)
                    .await
                    .is_ok_and(|p| !p.has_changes());
            }
            let log = emu.request_log();
            total_faults += log.iter().filter(|e| e.fault.is_some()).count();
            let mut problems = Vec::new();
            if !converged {
                problems.push("not converged after three applies".to_owned());
            }
            let dups = duplicated_writes(&log);
            if !dups.is_empty() {
                problems.push(format!("writes done twice: {dups:?}"));
            }
            if !problems.is_empty() {
                failed += 1;
                failures.push(format!(
                    "[{profile}] {}: {}",
                    scenario.name,
                    problems.join("; ")
                ));
            }
            emu.shutdown().await;
        }
        if total_faults <= 50 {
            failures.push(format!(
                "[{profile}] only {total_faults} faults were injected"
            ));
        }
        report_line(&format!(
            "readings {profile:<24} {}: {}/{run} scenarios converge under {total_faults} faults ({} ms)",
            if failed == 0 { "ok" } else { "FAILED" },
            run - failed,
            clock.elapsed().as_millis()
        ));
    }
    report_line(&format!(
        "readings matrix (faults): {} profiles x {} scenarios in {:.1} s, {} failures",
        profiles.len(),
        all.len(),
        started.elapsed().as_secs_f64(),
        failures.len()
    ));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
