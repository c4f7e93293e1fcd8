//! `orgform apply`: execute a plan, idempotently, after confirmation.

use std::fmt::Write as _;
use std::io::{BufRead as _, IsTerminal as _};
use std::path::PathBuf;

use anyhow::Context as _;
use orgform_apply::{ActionOutcome, ApplyOptions, Cancel};
use orgform_plan::Plan;

use super::saved_plan::Verdict;
use super::{ManifestArg, Refusal};
use crate::cli::GlobalArgs;
use crate::exit::Exit;

/// Arguments of `orgform apply`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The manifest (with a PLANFILE, the one the plan was made from).
    #[command(flatten)]
    pub manifest: ManifestArg,
    /// A plan saved by `orgform plan --out`: the plan is made again and runs only when its
    /// actions are exactly the saved ones.
    #[arg(value_name = "PLANFILE")]
    pub plan_file: Option<PathBuf>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Allow up to N destructive actions of each kind in this run (replaces the manifest's
    /// limits).
    #[arg(long, value_name = "N")]
    pub allow_destructive: Option<u32>,
    /// Archive service accounts named in `settings.protected_service_accounts` when the
    /// manifest declares them `archived: true` (they are otherwise never archived).
    #[arg(long)]
    pub archive_protected_service_accounts: bool,
    /// Format of the final report.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Actions run at once inside one step of the plan.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub concurrency: usize,
    /// The audit snapshot (staged removal).
    #[command(flatten)]
    pub audit: super::AuditSnapshotArg,
}

/// `apply --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// The plan preview and a text report.
    Text,
    /// Only the JSON report on stdout.
    Json,
}

/// Runs `orgform apply`.
pub fn run(global: &GlobalArgs, args: &Args) -> anyhow::Result<Exit> {
    let saved = match &args.plan_file {
        Some(path) => {
            let text =
                crate::files::read_capped(path, "the plan file", crate::files::PLAN_FILE_LIMIT)?;
            Some(super::saved_plan::parse(path, &text)?)
        }
        None => None,
    };
    let super::prepare::Inputs {
        loaded,
        client,
        runtime,
        live,
        options,
    } = super::prepare::inputs(
        global,
        &args.manifest.path,
        args.allow_destructive,
        args.audit.audit_snapshot.as_deref(),
        args.archive_protected_service_accounts,
    )?;
    // Only the plan made now is ever executed; a saved plan only says which actions it may
    // have (and they must be exactly these).
    let plan = orgform_plan::plan(&loaded.manifest, &live, &options);
    let verdict = match &saved {
        Some(saved) => Some(super::saved_plan::check(saved, &plan, &loaded.digest)?),
        None => None,
    };
    let text_mode = args.format == ReportFormat::Text;
    let color = crate::output::stdout_color(global.color, global.env.no_color);
    if text_mode {
        crate::output::stdout(&orgform_plan::render::text(&plan, color))?;
    }
    match verdict {
        Some(Verdict::AlreadyApplied) => {
            crate::output::stderr("the saved plan's changes are already in place; nothing to do");
        }
        Some(Verdict::Same { live_changed: true }) if !global.quiet => crate::output::stderr(
            "note: the live organization changed since the plan was made, but a plan made now \
             has exactly the saved actions; applying them",
        ),
        _ => {}
    }
    for line in super::prepare::refusal_lines(&plan) {
        crate::output::stderr(&line);
    }
    if plan.is_refused() {
        return Err(Refusal {
            exit: Exit::Refused,
            message: "the plan is refused; nothing was applied".to_owned(),
        }
        .into());
    }
    if plan.has_changes() && !args.auto_approve {
        confirm()?;
    }
    let report = if plan.has_changes() {
        runtime
            .block_on(execute(global, &client, &plan, args.concurrency))
            .map_err(|err| Refusal {
                exit: Exit::Refused,
                message: format!("the plan cannot be executed: {err}; nothing was applied"),
            })?
    } else {
        orgform_apply::ApplyReport::new(&plan, Vec::new(), false)
    };
    if text_mode {
        crate::output::stdout(&report.to_text())?;
    } else {
        crate::output::stdout(&report.to_json())?;
    }
    Ok(if report.has_failures() || report.interrupted {
        Exit::Error
    } else if plan.has_blocked() {
        Exit::Refused
    } else {
        Exit::Success
    })
}

/// Asks for `yes` on a terminal; refuses when there is no terminal to ask on.
fn confirm() -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() {
        return Err(Refusal {
            exit: Exit::Usage,
            message: "refusing to apply without confirmation: stdin is not a terminal\n  hint: \
                      review the plan above, then run again with --auto-approve"
                .to_owned(),
        }
        .into());
    }
    crate::output::stderr(
        "\nDo you want to perform these actions?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ",
    );
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("cannot read the answer")?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(Refusal {
            exit: Exit::Error,
            message: "apply cancelled; nothing was changed".to_owned(),
        }
        .into())
    }
}

async fn execute(
    global: &GlobalArgs,
    client: &orgform_api::Client,
    plan: &Plan,
    concurrency: usize,
) -> Result<orgform_apply::ApplyReport, orgform_plan::InvalidPlan> {
    let cancel = Cancel::new();
    let watcher = {
        let cancel = cancel.clone();
        let quiet = global.quiet;
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                if !quiet {
                    crate::output::stderr(
                        "\ninterrupt: finishing the requests in flight, starting nothing new \
                         (interrupt again to exit at once)",
                    );
                }
                cancel.cancel();
            }
            if tokio::signal::ctrl_c().await.is_ok() {
                exit_now(&cancel.in_flight());
            }
        })
    };
    let bar = if !global.quiet && std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(plan.actions.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(bar)
    } else {
        None
    };
    // Targets name live objects: their control characters are escaped on every channel.
    let progress = |outcome: &ActionOutcome| {
        let target = orgform_plan::render::clean(&outcome.target);
        if let Some(bar) = &bar {
            bar.inc(1);
            bar.set_message(target.clone());
        }
        // Structured fields only (no Debug strings): the status, and its note or error.
        let (status, detail, request_id) = match &outcome.outcome {
            orgform_apply::Outcome::Done { request_id, .. } => ("done", None, request_id.clone()),
            orgform_apply::Outcome::AlreadyDone { note, .. } => {
                ("already_done", Some(note.clone()), None)
            }
            orgform_apply::Outcome::Failed { error, request_id } => {
                ("failed", Some(error.clone()), request_id.clone())
            }
            orgform_apply::Outcome::Skipped { because } => (
                "skipped",
                Some(format!(
                    "depends on #{}",
                    because
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", #")
                )),
                None,
            ),
            orgform_apply::Outcome::NotStarted => ("not_started", None, None),
        };
        let detail = detail.map(|d| orgform_plan::render::clean(&d));
        tracing::info!(
            target: orgform_api::PROGRESS_TARGET,
            action = outcome.id,
            target = %target,
            outcome = status,
            detail = detail.as_deref(),
            request_id = request_id.as_deref(),
            "action finished"
        );
    };
    let options = ApplyOptions {
        concurrency,
        cancel,
    };
    let ticker = crate::logging::progress_lines(global)
        .then(|| super::live::heartbeat("applying the plan", client.clone(), false));
    let report = orgform_apply::apply(plan, client, &options, &progress).await;
    if let Some(ticker) = ticker {
        ticker.abort();
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    watcher.abort();
    report
}

/// The second interrupt: says which writes may or may not have happened, then exits 130.
fn exit_now(in_flight: &[(u32, String)]) -> ! {
    let mut text = format!(
        "\ninterrupt again: exiting now; the outcome of {} action(s) in flight is unknown:",
        in_flight.len()
    );
    for (id, target) in in_flight {
        let _ = write!(text, "\n  ? #{id} {}", orgform_plan::render::clean(target));
    }
    text.push_str(
        "\n  run `orgform plan` to see what is left; the next apply converges without repeating \
         what was done",
    );
    crate::output::stderr(&text);
    std::process::exit(i32::from(Exit::Interrupted as u8))
}
