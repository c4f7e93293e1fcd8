//! Benchmark: load and validate generated manifests: 5,000 members with 100 workspaces and
//! 500 keys, and 100,000 members with 1,000 workspaces and 5,000 keys.
//!
//! `cargo run --release -p orgform-manifest --example bench_validate` prints each manifest's
//! size and the best and median load+validate times over several runs.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

const MEMBERS_PER_WORKSPACE: usize = 50;

/// One generated case: members, workspaces, keys, and how many runs to time.
struct Case {
    members: usize,
    workspaces: usize,
    keys: usize,
    runs: usize,
}

const CASES: [Case; 2] = [
    Case {
        members: 5_000,
        workspaces: 100,
        keys: 500,
        runs: 7,
    },
    Case {
        members: 100_000,
        workspaces: 1_000,
        keys: 5_000,
        runs: 3,
    },
];

fn manifest(case: &Case) -> String {
    let Case {
        members,
        workspaces,
        keys,
        ..
    } = *case;
    let roles = ["user", "developer", "claude_code_user", "billing"];
    let ws_roles = [
        "workspace_user",
        "workspace_developer",
        "workspace_restricted_developer",
        "workspace_admin",
    ];
    let mut text = String::from(
        "version: 1\norganization:\n  id: 6f0c2a4e-0000-4000-8000-000000000001\n  name: Bench\n\
         settings:\n  members:\n    unmanaged: report\n  protected: [person0@bench.example]\nmembers:\n",
    );
    for i in 0..members {
        let role = if i == 0 {
            "admin"
        } else {
            roles[i % roles.len()]
        };
        let _ = writeln!(text, "  - email: person{i}@bench.example\n    role: {role}");
    }
    text.push_str("workspaces:\n");
    for w in 0..workspaces {
        let _ = writeln!(
            text,
            "  - name: workspace-{w}\n    display_color: \"#{:06X}\"\n    tags:\n      team: team-{}\n    data_residency:\n      allowed_inference_geos: [us, global]\n      default_inference_geo: us\n    members:",
            w * 2_654_435 % 0xFF_FFFF,
            w % 10
        );
        for m in 0..MEMBERS_PER_WORKSPACE {
            let person = (w * MEMBERS_PER_WORKSPACE + m) % members;
            // Skip the admin and billing members: their workspace role is implicit.
            if person == 0 || person % roles.len() == 3 {
                continue;
            }
            let _ = writeln!(
                text,
                "      person{person}@bench.example: {}",
                ws_roles[m % ws_roles.len()]
            );
        }
    }
    text.push_str("api_keys:\n");
    for k in 0..keys {
        let _ = writeln!(
            text,
            "  - id: apikey_01Bench{k:08}\n    name: key-{k}\n    status: {}",
            if k % 3 == 0 { "inactive" } else { "active" }
        );
    }
    text
}

#[expect(clippy::print_stdout, reason = "a benchmark prints its figures")]
fn main() {
    for case in &CASES {
        let text = manifest(case);
        let runs = case.runs;
        let mut times: Vec<Duration> = Vec::with_capacity(runs);
        let mut counts = (0, 0, 0);
        for _ in 0..runs {
            let start = Instant::now();
            let loaded = orgform_manifest::load_str("bench.yaml", &text)
                .expect("the generated manifest is valid");
            times.push(start.elapsed());
            counts = (
                loaded.manifest.members.len(),
                loaded.manifest.workspaces.len(),
                loaded.manifest.api_keys.len(),
            );
        }
        times.sort();
        println!(
            "manifest: {} bytes, {} lines; {} members, {} workspaces, {} API keys",
            text.len(),
            text.lines().count(),
            counts.0,
            counts.1,
            counts.2
        );
        println!(
            "load+validate over {runs} runs: best {:.1} ms, median {:.1} ms",
            times[0].as_secs_f64() * 1e3,
            times[runs / 2].as_secs_f64() * 1e3
        );
    }
}
