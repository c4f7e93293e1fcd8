//! Every planner scenario, applied to the emulator: the re-plan is empty (or only deferred
//! and blocked items remain, as the scenario says), refused plans change nothing, and the
//! final state is snapshot-tested. Then the same under injected faults, converging within
//! three applies without any write done twice.

mod common;

use common::{AfterApply, apply, client, duplicated_writes, plan, scenario_emulator, scenarios};
use orgform_emulator::{Fault, FaultConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_converges_after_one_apply() {
    let mut failures = Vec::new();
    for scenario in scenarios() {
        let emu = scenario_emulator(&scenario, FaultConfig::default()).await;
        let client = client(&emu, 2);
        let before = emu.state();
        let first = plan(&client, &scenario)
            .await
            .expect("fetch succeeds without faults");
        let report = apply(&client, &first, 1).await;
        let after = plan(&client, &scenario).await.unwrap();
        let name = &scenario.name;
        match scenario.after_apply() {
            AfterApply::Refused => {
                if !first.is_refused() {
                    failures.push(format!("{name}: expected a refused plan"));
                }
                if emu.state() != before {
                    failures.push(format!("{name}: a refused plan changed the organization"));
                }
                if report.summary.done + report.summary.already_done != 0 {
                    failures.push(format!("{name}: a refused plan executed actions"));
                }
            }
            expected => {
                if report.has_failures() {
                    failures.push(format!("{name}: apply failed:\n{}", report.to_text()));
                }
                if after.has_changes() {
                    failures.push(format!(
                        "{name}: re-plan is not empty:\n{}",
                        orgform_plan::render::text(&after, false)
                    ));
                }
                let remain = !after.deferred.is_empty() || !after.blocked.is_empty();
                if remain != (expected == AfterApply::DeferredOrBlockedRemain) {
                    failures.push(format!(
                        "{name}: expected {expected:?}, deferred/blocked remain: {remain}\n{}",
                        orgform_plan::render::text(&after, false)
                    ));
                }
                if report.summary.done != first.actions.len() {
                    failures.push(format!(
                        "{name}: {} of {} actions done",
                        report.summary.done,
                        first.actions.len()
                    ));
                }
            }
        }
        let state = serde_json::to_string_pretty(&emu.state()).unwrap();
        insta::assert_snapshot!(format!("final_state__{name}"), state);
        emu.shutdown().await;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_converges_under_faults_without_duplicate_writes() {
    let kinds = vec![
        Fault::RateLimit {
            retry_after_secs: None,
            retry_after_ms: Some(1),
        },
        Fault::ServerError { should_retry: None },
        Fault::Overloaded,
        Fault::DropBeforeApply,
        Fault::DropAfterApply,
    ];
    let mut failures = Vec::new();
    let mut total_faults = 0;
    for (i, scenario) in scenarios().into_iter().enumerate() {
        if scenario.after_apply() == AfterApply::Refused {
            continue;
        }
        let faults = FaultConfig {
            seed: 1000 + i as u64,
            rate: 0.2,
            kinds: kinds.clone(),
            ..FaultConfig::default()
        };
        let emu = scenario_emulator(&scenario, faults).await;
        let client = client(&emu, 4);
        let mut converged = false;
        for _attempt in 0..3 {
            let Ok(current) = plan(&client, &scenario).await else {
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
            converged = plan(&client, &scenario)
                .await
                .is_ok_and(|p| !p.has_changes());
        }
        let log = emu.request_log();
        total_faults += log.iter().filter(|e| e.fault.is_some()).count();
        if !converged {
            failures.push(format!(
                "{}: not converged after three applies",
                scenario.name
            ));
        }
        let dups = duplicated_writes(&log);
        if !dups.is_empty() {
            failures.push(format!("{}: writes done twice: {dups:?}", scenario.name));
        }
        emu.shutdown().await;
    }
    assert!(total_faults > 50, "faults were injected ({total_faults})");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
