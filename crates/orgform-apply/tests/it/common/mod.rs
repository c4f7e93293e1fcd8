//! Shared helpers of the executor's end-to-end tests: scenario folders, an emulator per
//! test, a client tuned for tests (no rate limit, millisecond backoff), and the
//! plan-apply-replan loop.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use orgform_api::{AdminKey, Backoff, Client, ClientConfig};
use orgform_apply::{ApplyOptions, ApplyReport};
use orgform_emulator::{
    Emulator, EmulatorConfig, Fault, FaultConfig, LoggedRequest, Options, OrganizationKind,
    Readings,
};
use orgform_manifest::{Manifest, Platform};
use orgform_model::Snapshot;
use orgform_plan::{Plan, PlanOptions};
use serde::Deserialize;

/// `scenario.yaml`, the fields the executor's tests read.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ScenarioFile {
    pub description: String,
    pub now: Option<jiff::Timestamp>,
    pub allow_destructive: Option<u32>,
    pub after_apply: Option<AfterApply>,
    /// The operations of the first plan, in order (`kind` of each action).
    pub expect_ops: Option<Vec<String>>,
    /// Whether `drift` on the seed reports drift.
    pub expect_drift: Option<bool>,
}

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum AfterApply {
    Converged,
    DeferredOrBlockedRemain,
    Refused,
}

/// One scenario folder, loaded.
pub struct Scenario {
    pub name: String,
    pub manifest: Manifest,
    pub digest: String,
    pub seed: Snapshot,
    pub file: ScenarioFile,
}

impl Scenario {
    pub fn now(&self) -> jiff::Timestamp {
        self.file
            .now
            .unwrap_or_else(|| "2026-11-01T00:00:00Z".parse().unwrap())
    }

    pub fn options(&self) -> PlanOptions {
        PlanOptions {
            clock_skew: None,
            allow_destructive: self.file.allow_destructive,
            now: self.now(),
            manifest_digest: self.digest.clone(),
            pipeline: orgform_plan::Pipeline::default(),
            no_access: None,
        }
    }

    pub fn after_apply(&self) -> AfterApply {
        self.file.after_apply.unwrap_or(AfterApply::Converged)
    }
}

pub fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/scenarios")
}

/// Every scenario whose manifest passes validation (the CLI never plans an invalid one).
pub fn scenarios() -> Vec<Scenario> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(scenarios_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("manifest.yaml").exists())
        .collect();
    dirs.sort();
    let mut out = Vec::new();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let Ok(loaded) = orgform_manifest::load(&dir.join("manifest.yaml")) else {
            continue;
        };
        let seed = orgform_emulator::seeds::load(&dir.join("seed.yaml"))
            .unwrap_or_else(|e| panic!("{name}: seed does not load: {e}"));
        let file: ScenarioFile = match std::fs::read_to_string(dir.join("scenario.yaml")) {
            Ok(text) => serde_saphyr::from_str(&text).unwrap(),
            Err(_) => ScenarioFile::default(),
        };
        out.push(Scenario {
            name,
            manifest: loaded.manifest,
            digest: loaded.digest,
            seed,
            file,
        });
    }
    assert!(
        out.len() >= 30,
        "expected the scenario folders, found {}",
        out.len()
    );
    out
}

pub async fn emulator(
    seed: Snapshot,
    now: jiff::Timestamp,
    faults: FaultConfig,
    readings: Readings,
) -> Emulator {
    emulator_of_kind(seed, now, faults, OrganizationKind::Auto, readings).await
}

/// An emulator of the kind of organization the manifest describes, reading the undocumented
/// points as `readings` says.
pub async fn scenario_emulator(
    scenario: &Scenario,
    faults: FaultConfig,
    readings: Readings,
) -> Emulator {
    let kind = match scenario.manifest.organization.platform {
        Platform::Enterprise => OrganizationKind::Enterprise,
        Platform::Console | Platform::Aws => OrganizationKind::Console,
    };
    emulator_of_kind(
        scenario.seed.clone(),
        scenario.now(),
        faults,
        kind,
        readings,
    )
    .await
}

async fn emulator_of_kind(
    seed: Snapshot,
    now: jiff::Timestamp,
    faults: FaultConfig,
    organization_kind: OrganizationKind,
    readings: Readings,
) -> Emulator {
    Emulator::start(EmulatorConfig {
        seed,
        clock_start: now,
        faults,
        test_controls: true,
        options: Options {
            organization_kind,
            ..Options::default()
        },
        readings,
        ..EmulatorConfig::default()
    })
    .await
    .expect("the emulator starts")
}

/// The faults the convergence tests inject: every retryable kind and both connection drops.
pub fn fault_kinds() -> Vec<Fault> {
    vec![
        Fault::RateLimit {
            retry_after_secs: None,
            retry_after_ms: Some(1),
        },
        Fault::ServerError { should_retry: None },
        Fault::Overloaded,
        Fault::DropBeforeApply,
        Fault::DropAfterApply,
    ]
}

/// Writes a line to the test's stderr even when the harness captures output, so a matrix's
/// per-profile results show in every `cargo test` run.
pub fn report_line(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

pub fn client(emulator: &Emulator, max_retries: u32) -> Client {
    Client::new(
        ClientConfig {
            base_url: emulator.base_url(),
            rate_limit: None,
            max_retries,
            timeout: Duration::from_secs(10),
            backoff: Backoff {
                initial: Duration::from_millis(1),
                max: Duration::from_millis(5),
            },
            ..ClientConfig::default()
        },
        AdminKey::new(emulator.admin_key()).unwrap(),
    )
    .unwrap()
}

/// Reads the organization and plans.
pub async fn plan(client: &Client, scenario: &Scenario) -> Result<Plan, orgform_api::ApiError> {
    let live = client.fetch_snapshot().await?;
    Ok(orgform_plan::plan(
        &scenario.manifest,
        &live,
        &scenario.options(),
    ))
}

pub async fn apply(client: &Client, plan: &Plan, concurrency: usize) -> ApplyReport {
    let options = ApplyOptions {
        concurrency,
        ..ApplyOptions::default()
    };
    orgform_apply::apply(plan, client, &options, &|_| {})
        .await
        .expect("the planner's actions are well formed")
}

/// Successful writes by (method, path, body): a write that appears twice was done twice.
pub fn duplicated_writes(log: &[LoggedRequest]) -> Vec<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for entry in log {
        if entry.method == "GET" || entry.status != Some(200) {
            continue;
        }
        let key = format!(
            "{} {} {}",
            entry.method,
            entry.path,
            entry
                .body
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        );
        *seen.entry(key).or_default() += 1;
    }
    seen.into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(k, n)| format!("{n}x {k}"))
        .collect()
}
