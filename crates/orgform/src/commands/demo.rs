//! `orgform demo`: the first run a newcomer sees. An Admin API emulator starts in-process
//! (loopback only, no network), seeded with a small organization, "Acme Research"; orgform
//! then plans, applies, plans again (nothing left to do), refuses a mistaken edit that would
//! remove more members than the limits allow, sees an out-of-band change made as if in the
//! Console, reports it as drift, and applies its revert. Every line is under 100 columns.
//!
//! The emulator's clock and ids are fixed and the apply runs one action at a time, so the
//! demo prints the same text on every run (its output is snapshot-tested).

use std::fmt::Write as _;

use orgform_api::{Client, ClientConfig, UpdateApiKey};
use orgform_emulator::{Emulator, EmulatorConfig};
use orgform_model::{ApiKeyStatus, OrgRole, Snapshot};
use orgform_plan::{Plan, PlanOptions};

use crate::cli::GlobalArgs;
use crate::exit::Exit;

/// The manifest the demo applies.
pub const DEMO_MANIFEST: &str = include_str!("demo/manifest.yaml");

/// A first run on a built-in emulator: plan, apply, re-plan, a mistaken edit refused by the
/// destructive limits, an out-of-band change reported as drift, and its revert applied. Needs
/// no key and no network.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the demo's manifest and exit.
    #[arg(long)]
    pub show_manifest: bool,
}

/// Runs `orgform demo`.
pub fn run(global: &GlobalArgs, args: &Args) -> anyhow::Result<Exit> {
    if args.show_manifest {
        crate::output::stdout(DEMO_MANIFEST)?;
        return Ok(Exit::Success);
    }
    let color = crate::output::stdout_color(global.color, global.env.no_color);
    let text = crate::settings::runtime()?.block_on(demo(color))?;
    crate::output::stdout(&text)?;
    Ok(Exit::Success)
}

/// Runs the whole demo and returns what it prints.
pub async fn demo(color: bool) -> anyhow::Result<String> {
    let loaded = orgform_manifest::load_str("demo/manifest.yaml", DEMO_MANIFEST)
        .map_err(|e| anyhow::anyhow!("the demo manifest is invalid: {e}"))?;
    let emulator = Emulator::start(EmulatorConfig {
        seed: orgform_emulator::seeds::small(),
        test_controls: true,
        ..EmulatorConfig::default()
    })
    .await?;
    let client = Client::new(
        ClientConfig {
            base_url: emulator.base_url(),
            rate_limit: None,
            ..ClientConfig::default()
        },
        orgform_api::AdminKey::new(emulator.admin_key())?,
    )?;
    let options = PlanOptions {
        clock_skew: None,
        allow_destructive: None,
        now: emulator.now(),
        manifest_digest: loaded.digest.clone(),
        pipeline: orgform_plan::Pipeline::default(),
        no_access: None,
    };
    let mut out = String::new();
    let seeded = emulator.state();
    heading(&mut out, "orgform demo");
    let _ = write!(
        out,
        "An Admin API emulator runs on this machine (loopback only), seeded with the\n\
         organization \"{}\": {}.\n\
         The manifest is built in (`orgform demo --show-manifest` prints it).\n",
        seeded.organization.name,
        describe(&seeded)
    );

    heading(
        &mut out,
        "1. orgform plan: what would change (each item ends with the manifest line behind it)",
    );
    let live = client.fetch_snapshot().await?;
    let plan = orgform_plan::plan(&loaded.manifest, &live, &options);
    out.push_str(&orgform_plan::render::text(&plan, color));

    heading(&mut out, "2. orgform apply --auto-approve");
    let report = apply(&client, &plan).await?;
    anyhow::ensure!(
        !report.has_failures(),
        "the demo apply failed:\n{}",
        report.to_text()
    );
    // The report has one line per action, with the API's request id (shown in step 7), then
    // this summary.
    let text = report.to_text();
    let summary = text.lines().find(|l| l.starts_with("Apply: "));
    let _ = writeln!(out, "{}", summary.unwrap_or_default());

    heading(&mut out, "3. orgform plan again: nothing left to do");
    let live = client.fetch_snapshot().await?;
    let again = orgform_plan::plan(&loaded.manifest, &live, &options);
    anyhow::ensure!(!again.has_changes(), "the demo did not converge");
    let _ = writeln!(
        out,
        "{}\n(the deferred grant, the waiting invites and the unmanaged objects are as in 1.)",
        orgform_plan::render::summary_line(&again.summary)
    );

    heading(
        &mut out,
        "4. A mistaken edit: four people deleted from the manifest",
    );
    let mut risky = loaded.manifest.clone();
    risky
        .members
        .retain(|m| !RISKY_REMOVALS.contains(&m.email.as_str()));
    for workspace in &mut risky.workspaces {
        if let Some(members) = &mut workspace.members {
            members.retain(|email, _| !RISKY_REMOVALS.contains(&email.as_str()));
        }
    }
    let refused = orgform_plan::plan(&risky, &live, &options);
    anyhow::ensure!(
        refused.is_refused(),
        "the demo's risky plan was not refused"
    );
    let _ = writeln!(
        out,
        "{}",
        orgform_plan::render::summary_line(&refused.summary)
    );
    for refusal in &refused.refusals {
        let _ = writeln!(out, "refused: {}", refusal.message());
    }
    out.push_str("Nothing was applied (exit 3).\n");

    heading(
        &mut out,
        "5. Meanwhile, someone changes the organization in the Console",
    );
    let dev_two = live
        .user_by_email("dev.two@acme.example")
        .ok_or_else(|| anyhow::anyhow!("the demo seed lost dev.two@acme.example"))?
        .id
        .clone();
    client.update_user_role(&dev_two, &OrgRole::User).await?;
    let legacy = live
        .api_keys
        .iter()
        .find(|k| k.name == "default-legacy")
        .ok_or_else(|| anyhow::anyhow!("the demo seed lost the default-legacy key"))?
        .id
        .clone();
    client
        .update_api_key(
            &legacy,
            &UpdateApiKey {
                name: None,
                status: Some(ApiKeyStatus::Active),
            },
        )
        .await?;
    out.push_str(
        "dev.two@acme.example is demoted to user; the default-legacy key is switched back on.\n",
    );

    heading(&mut out, "6. orgform drift: what a scheduled check reports");
    let live = client.fetch_snapshot().await?;
    let drift = orgform_plan::drift(&loaded.manifest, &live, &options);
    out.push_str(&orgform_plan::render::drift_text(&drift, color));

    heading(
        &mut out,
        "7. orgform apply --auto-approve: the revert, within the limits",
    );
    let revert = orgform_plan::plan(&loaded.manifest, &live, &options);
    anyhow::ensure!(!revert.is_refused(), "the demo's revert was refused");
    let report = apply(&client, &revert).await?;
    anyhow::ensure!(!report.has_failures(), "the demo revert failed");
    out.push_str(&report.to_text());

    heading(&mut out, "Next");
    out.push_str(
        "Point orgform at your organization:\n  \
         export ANTHROPIC_ADMIN_KEY=...        # or --admin-key-file PATH\n  \
         orgform export --out org.yaml         # adopt: a manifest of what exists today\n  \
         orgform plan -f org.yaml              # review\n  \
         orgform apply -f org.yaml             # change\n\
         Or serve this emulator yourself: orgform emulator --seed-small\n",
    );
    emulator.shutdown().await;
    Ok(fit(&out, WIDTH))
}

/// The people step 4 deletes from the manifest: more member removals than the demo's limits
/// allow (`max_destructive_percent: 50` of the members left after the apply).
const RISKY_REMOVALS: [&str; 4] = [
    "bill@acme.example",
    "dev.one@acme.example",
    "dev.two@acme.example",
    "cody@acme.example",
];

/// Every line of the demo is shorter than this many columns.
pub const WIDTH: usize = 100;

/// `text` with every line of `width` columns or more broken at spaces, the continuation
/// indented four columns deeper than the line it comes from.
fn fit(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let mut rest = line;
        let mut first = true;
        loop {
            let pad = if first { 0 } else { indent + 4 };
            let room = width - 1 - pad;
            if rest.chars().count() <= room {
                out.push_str(&" ".repeat(pad));
                out.push_str(rest);
                out.push('\n');
                break;
            }
            let limit = rest.char_indices().nth(room).map_or(rest.len(), |(i, _)| i);
            // Break at the last space that leaves something on the line; else at the limit.
            let cut = rest[..limit]
                .rfind(' ')
                .filter(|&i| i > indent)
                .unwrap_or(limit);
            out.push_str(&" ".repeat(pad));
            out.push_str(rest[..cut].trim_end());
            out.push('\n');
            rest = rest[cut..].trim_start();
            first = false;
            if rest.is_empty() {
                break;
            }
        }
    }
    out
}

async fn apply(
    client: &Client,
    plan: &Plan,
) -> Result<orgform_apply::ApplyReport, orgform_plan::InvalidPlan> {
    // One action at a time, so the emulator hands out ids in the same order on every run.
    let options = orgform_apply::ApplyOptions {
        concurrency: 1,
        ..Default::default()
    };
    orgform_apply::apply(plan, client, &options, &|_| {}).await
}

fn describe(s: &Snapshot) -> String {
    let active = s.workspaces.iter().filter(|w| !w.is_archived()).count();
    format!(
        "{} members, {} invites,\n{} workspaces ({} archived) and {} API keys",
        s.users.len(),
        s.invites.len(),
        s.workspaces.len(),
        s.workspaces.len() - active,
        s.api_keys.len()
    )
}

fn heading(out: &mut String, title: &str) {
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str("== ");
    out.push_str(title);
    out.push_str(" ==\n\n");
}
