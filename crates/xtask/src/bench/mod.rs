//! `cargo run --release -p xtask -- bench [--quick] [--sizes 100,2000,...]`: requests, time
//! against each server rate-limit model, planner CPU and peak memory, and applies of 1,000
//! invites and 1,000 role changes, printed as one report (`docs/performance.md`).
//!
//! Everything runs on loopback against the built-in emulator. Times against the limits are
//! virtual (see `runs`): the emulator enforces its limits on the runtime's paused clock and
//! adds 20 ms of latency to every request, so a run that waits minutes for a window takes
//! seconds of real time. Planner CPU and peak memory are real, measured in a process of
//! their own (`child`).

pub mod child;
pub mod org;
pub mod runs;

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, bail};
use orgform_api::pacing::{GENERAL_WINDOW, INVITE_WINDOW};
use orgform_model::Snapshot;
use runs::{LATENCY, ServerModel};

/// The sizes of the full report.
const SIZES: [usize; 4] = [100, 2_000, 10_000, 50_000];

/// The sizes of `--quick`.
const QUICK: [usize; 2] = [100, 2_000];

/// Requests in flight at once (the client's default).
const CONCURRENCY: u32 = 8;

/// The general budget and the invite budget.
const GENERAL_CAP: u32 = 100;
const INVITE_CAP: u32 = 1_200;

/// Pages of 1,000 (at least one).
fn pages(n: usize) -> u32 {
    u32::try_from(n.div_ceil(1000).max(1)).unwrap_or(u32::MAX)
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The fewest requests a complete, checked read for a plan can make: the organization once,
/// every page of users, invites, workspaces and keys, every page of each active workspace's
/// members, and the second listing of users and workspaces that shows the read was stable.
pub fn minimum_requests(live: &Snapshot) -> u32 {
    let members: u32 = live
        .workspaces
        .iter()
        .filter(|w| !w.is_archived())
        .map(|w| {
            pages(
                live.workspace_members
                    .iter()
                    .filter(|m| m.workspace_id == w.id)
                    .count(),
            )
        })
        .sum();
    let (users, workspaces) = (pages(live.users.len()), pages(live.workspaces.len()));
    1 + users
        + pages(live.invites.len())
        + workspaces
        + members
        + pages(live.api_keys.len())
        + users
        + workspaces
}

/// Requests of a tool that refreshes every object it manages with one request of its own.
pub fn per_object_requests(live: &Snapshot) -> u32 {
    1 + count(live.users.len())
        + count(live.invites.len())
        + count(live.workspaces.len())
        + count(live.workspace_members.len())
        + count(live.api_keys.len())
}

/// The shortest time a run takes under `model`: the limits' floor for its `general` requests
/// and `invites` invite creations plus one round trip, or the network's floor when that is
/// longer: `reads` at the client's concurrency, `writes` at the apply's, and at least the
/// four dependent round trips of a read (organization; lists; member lists; second listing).
fn floor(model: ServerModel, general: u32, invites: u32, reads: u32, writes: u32) -> Duration {
    let limits = model
        .floor(general, GENERAL_CAP, GENERAL_WINDOW)
        .max(model.floor(invites, INVITE_CAP, INVITE_WINDOW));
    let wave = count(orgform_apply::ApplyOptions::default().concurrency);
    let network =
        (LATENCY * reads.div_ceil(CONCURRENCY)).max(LATENCY * 4) + LATENCY * writes.div_ceil(wave);
    (limits + LATENCY).max(network)
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 10.0 {
        format!("{s:.2} s")
    } else {
        format!("{s:.0} s")
    }
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

fn write_manifest(dir: &Path, name: &str, text: &str) -> anyhow::Result<std::path::PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// One size's row; returns what the measuring process measured, for the CPU table.
fn size_row(n: usize, dir: &Path, out: &mut String) -> anyhow::Result<child::Measured> {
    let live = org::organization(n);
    let manifest = write_manifest(dir, &format!("org-{n}.yaml"), &org::manifest(&live))?;
    let base = runs::plan(&live, &manifest, None)?;
    let minimum = minimum_requests(&live);
    let mut cells = vec![
        format!("{n}"),
        format!("{}", base.requests),
        format!("{minimum}"),
        format!("{:.2}", f64::from(base.requests) / f64::from(minimum)),
    ];
    for model in ServerModel::ALL {
        let run = runs::plan(&live, &manifest, Some(model))?;
        let floor = floor(model, run.requests, 0, run.requests, 0);
        cells.push(format!(
            "{} / {} ({:.2}x), {}",
            secs(run.wall),
            secs(floor),
            ratio(run.wall, floor),
            run.refused
        ));
    }
    let measured = child::measure(&live, &manifest)?;
    cells.push(ms(measured.plan));
    cells.push(format!("{:.0} MiB", kib_to_mib(measured.peak_kib)));
    let per_object = per_object_requests(&live);
    let per_object_time =
        orgform_api::pacing::window_floor(per_object, GENERAL_CAP, GENERAL_WINDOW) + LATENCY;
    cells.push(format!("{per_object}, {}", secs(per_object_time)));
    let _ = writeln!(out, "| {} |", cells.join(" | "));
    Ok(measured)
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// The header of the CPU table.
const CPU_HEADER: &str = "| manifest | load: wall, CPU | plan(): CPU, wall | of which live digest | render as text | peak |\n|---|---|---|---|---|---|";

/// One row of the CPU table.
fn cpu_row(label: &str, m: &child::Measured, out: &mut String) {
    let _ = writeln!(
        out,
        "| {label} | {}, {} | {}, {} | {} | {} | {:.0} MiB |",
        ms(m.load),
        ms(m.load_cpu),
        ms(m.plan),
        ms(m.plan_wall),
        ms(m.digest),
        ms(m.render),
        kib_to_mib(m.peak_kib)
    );
}

#[expect(
    clippy::cast_precision_loss,
    reason = "memory sizes are far below 2^52 KiB"
)]
fn kib_to_mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The apply rows: 1,000 invites and 1,000 role changes on an organization of 2,000.
fn apply_rows(dir: &Path, out: &mut String) -> anyhow::Result<()> {
    let wanted = org::organization(2_000);
    let manifest = write_manifest(dir, "apply-2000.yaml", &org::manifest(&wanted))?;
    let cases = [
        ("1,000 invites", org::without_members(&wanted, 1_000)),
        ("1,000 role changes", org::with_other_roles(&wanted, 1_000)),
    ];
    for (name, live) in &cases {
        for model in ServerModel::ALL {
            let run = runs::apply(live, &manifest, model)?;
            if run.applied < 1_000 {
                bail!("{name}: only {} actions were planned", run.applied);
            }
            let invites = run.invite_creations;
            let general = run.requests - invites;
            let writes = run.applied;
            let floor = floor(model, general, invites, run.requests - writes, writes);
            let _ = writeln!(
                out,
                "| {name} | {} | {} ({general} general, {invites} invite) | {} | {} | {:.2}x | {} |",
                model.label(),
                run.requests,
                secs(run.wall),
                secs(floor),
                ratio(run.wall, floor),
                run.refused
            );
        }
    }
    Ok(())
}

/// A manifest of 100,000 members, in one file and in fragments of 10,000: load, plan,
/// peak memory.
fn hundred_thousand(dir: &Path, out: &mut String) -> anyhow::Result<()> {
    let live = org::organization(100_000);
    let text = org::manifest(&live);
    let file = write_manifest(dir, "org-100000.yaml", &text)?;
    let fragments = dir.join("org-100000.d");
    std::fs::create_dir_all(&fragments)?;
    for (name, body) in org::fragments(&text, 10_000) {
        write_manifest(&fragments, &name, &body)?;
    }
    for (label, path) in [("one file", file), ("fragments of 10,000", fragments)] {
        let m = child::measure(&live, &path)?;
        let label = format!(
            "100,000 members, {label} ({:.1} MiB of YAML)",
            bytes_to_mib(text.len())
        );
        cpu_row(&label, &m, out);
    }
    Ok(())
}

#[expect(clippy::cast_precision_loss, reason = "file sizes are far below 2^52")]
fn bytes_to_mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The options of `bench`.
struct Options {
    sizes: Vec<usize>,
    apply: bool,
    large: bool,
}

fn options(args: &[String]) -> anyhow::Result<Options> {
    let mut o = Options {
        sizes: SIZES.to_vec(),
        apply: true,
        large: true,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => {
                o.sizes = QUICK.to_vec();
                o.large = false;
            }
            "--sizes" => {
                let list = args.next().context("--sizes needs a list, e.g. 100,2000")?;
                o.sizes = list
                    .split(',')
                    .map(|s| s.trim().replace('_', "").parse::<usize>())
                    .collect::<Result<_, _>>()
                    .context("--sizes takes numbers separated by commas, e.g. 100,2000")?;
                if o.sizes.iter().any(|n| *n < 100 || *n > 100_000) {
                    bail!("--sizes: each size must be between 100 and 100000");
                }
            }
            "--no-apply" => o.apply = false,
            "--no-large" => o.large = false,
            other => bail!(
                "unexpected argument to `bench`: {other}\n  usage: bench [--quick] [--sizes 100,2000] [--no-apply] [--no-large]"
            ),
        }
    }
    Ok(o)
}

/// The whole report.
pub fn run(args: &[String]) -> anyhow::Result<String> {
    let o = options(args)?;
    let dir = tempfile::tempdir()?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Plan of an unchanged organization (the manifest is its export). Times against the\n\
         limits are virtual: a {} ms round trip per request, limits enforced by the emulator\n\
         (100 requests per 60 s; invite creation 1,200 per hour). Cells: wall / floor (ratio),\n\
         429s. Planner: CPU time of one plan() on one thread. Peak: the peak resident memory\n\
         of a process that loads the manifest, reads the organization, plans and renders.\n\
         Per-object tool: computed (one request per object, archived workspaces' members\n\
         included, at 100 per 60 s), not run.\n",
        LATENCY.as_millis()
    );
    let models: Vec<String> = ServerModel::ALL.iter().map(|m| m.label()).collect();
    let _ = writeln!(
        out,
        "| members | requests | minimum | ratio | {} | planner | peak | per-object tool: requests, time |",
        models.join(" | ")
    );
    let _ = writeln!(out, "|{}", "---|".repeat(7 + models.len()));
    let mut measured = Vec::new();
    for n in &o.sizes {
        measured.push((*n, size_row(*n, dir.path(), &mut out)?));
    }
    let _ = writeln!(
        out,
        "\nCPU and memory of `orgform plan`'s work, in a process of its own (CPU: of the one\n\
         thread, mean over repetitions of at least 1 s; wall: median; load: once, as\n\
         `orgform plan` does it). plan() includes the live digest; rendering is not in it.\n\n{CPU_HEADER}"
    );
    for (n, m) in &measured {
        cpu_row(&format!("{n} members, one file"), m, &mut out);
    }
    if o.apply {
        let _ = writeln!(
            out,
            "\nApply on an organization of 2,000 members (plan read included), apply concurrency {}.\n",
            orgform_apply::ApplyOptions::default().concurrency
        );
        let _ = writeln!(
            out,
            "| change | server | requests | wall | floor | ratio | 429s |\n|---|---|---|---|---|---|---|"
        );
        apply_rows(dir.path(), &mut out)?;
    }
    if o.large {
        let _ = writeln!(out, "\n{CPU_HEADER}");
        hundred_thousand(dir.path(), &mut out)?;
    }
    Ok(out)
}
