//! Interruption at every point: an apply cancelled after k actions, then a second apply from
//! a fresh plan, converges, and no write is ever done twice.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::{AfterApply, client, duplicated_writes, plan, scenario_emulator, scenarios};
use orgform_apply::{ApplyOptions, Cancel};
use orgform_emulator::{FaultConfig, Readings};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_apply_converges_on_the_next_run_without_repeating_writes() {
    let all = scenarios();
    let chosen: Vec<_> = all
        .iter()
        .filter(|s| s.after_apply() != AfterApply::Refused)
        .filter(|s| s.seed.users.len() + s.manifest.members.len() > 0)
        .collect();
    let mut checked = 0;
    let mut failures = Vec::new();
    for scenario in chosen {
        let emu = scenario_emulator(scenario, FaultConfig::default(), Readings::default()).await;
        let probe = client(&emu, 0);
        let actions = plan(&probe, scenario).await.unwrap().actions.len();
        emu.shutdown().await;
        if actions < 3 {
            continue;
        }
        for stop_after in 1..actions {
            for concurrency in [1, 3] {
                let emu =
                    scenario_emulator(scenario, FaultConfig::default(), Readings::default()).await;
                let client = client(&emu, 0);
                let first = plan(&client, scenario).await.unwrap();
                let cancel = Cancel::new();
                let finished = AtomicUsize::new(0);
                let progress = |_: &orgform_apply::ActionOutcome| {
                    if finished.fetch_add(1, Ordering::SeqCst) + 1 >= stop_after {
                        cancel.cancel();
                    }
                };
                let options = ApplyOptions {
                    concurrency,
                    cancel: cancel.clone(),
                };
                let report = orgform_apply::apply(&first, &client, &options, &progress)
                    .await
                    .expect("the planner's actions are well formed");
                let label = format!(
                    "{} stop after {stop_after} (concurrency {concurrency})",
                    scenario.name
                );
                if !report.interrupted {
                    failures.push(format!("{label}: not marked interrupted"));
                }
                if report.summary.done > stop_after + concurrency {
                    failures.push(format!(
                        "{label}: {} actions ran after the stop",
                        report.summary.done
                    ));
                }
                let second = plan(&client, scenario).await.unwrap();
                let finish =
                    orgform_apply::apply(&second, &client, &ApplyOptions::default(), &|_| {})
                        .await
                        .expect("the planner's actions are well formed");
                let last = plan(&client, scenario).await.unwrap();
                if finish.has_failures() || last.has_changes() {
                    failures.push(format!(
                        "{label}: did not converge:\n{}\n{}",
                        finish.to_text(),
                        orgform_plan::render::text(&last, false)
                    ));
                }
                let dups = duplicated_writes(&emu.request_log());
                if !dups.is_empty() {
                    failures.push(format!("{label}: writes done twice: {dups:?}"));
                }
                checked += 1;
                emu.shutdown().await;
            }
        }
    }
    assert!(
        checked >= 20,
        "enough interruption points were exercised ({checked})"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
