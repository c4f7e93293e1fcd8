//! Inputs for the planner's focused tests: a manifest or a live snapshot from a YAML body
//! under the test organization's header, the options of a plan at a fixed instant, and the
//! plan of the `every-op` scenario.

use std::path::Path;

use orgform_manifest::Manifest;
use orgform_model::{Snapshot, sha256_hex};
use orgform_plan::{Plan, PlanOptions, plan};

const HEAD: &str = "version: 1\norganization:\n  id: 6f0c2a4e-0000-4000-8000-000000000001\n";

const SEED_HEAD: &str = "organization:\n  id: 6f0c2a4e-0000-4000-8000-000000000001\n  name: Acme\n";

/// A manifest of the test organization with `body` after its header.
pub fn manifest(body: &str) -> Manifest {
    serde_saphyr::from_str(&format!("{HEAD}{body}")).expect("manifest")
}

/// A snapshot of the test organization with `body` after its header.
pub fn seed(body: &str) -> Snapshot {
    serde_saphyr::from_str(&format!("{SEED_HEAD}{body}")).expect("seed")
}

/// Plan options at 2026-11-01, on the API's clock with no skew.
pub fn opts() -> PlanOptions {
    PlanOptions {
        clock_skew: None,
        allow_destructive: None,
        now: "2026-11-01T00:00:00Z".parse().unwrap(),
        manifest_digest: "sha256:m".into(),
        pipeline: orgform_plan::Pipeline::default(),
        no_access: None,
    }
}

/// The plan of the `every-op` scenario (tests/fixtures/scenarios), which holds every
/// operation.
pub fn every_op_plan() -> Plan {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/scenarios/every-op");
    let manifest_text = std::fs::read_to_string(dir.join("manifest.yaml")).unwrap();
    let manifest: Manifest = serde_saphyr::from_str(&manifest_text).unwrap();
    let seed: Snapshot =
        serde_saphyr::from_str(&std::fs::read_to_string(dir.join("seed.yaml")).unwrap()).unwrap();
    let options = PlanOptions {
        clock_skew: None,
        allow_destructive: Some(5),
        now: "2026-11-01T00:00:00Z".parse().unwrap(),
        manifest_digest: sha256_hex(manifest_text.as_bytes()),
        pipeline: orgform_plan::Pipeline::default(),
        no_access: None,
    };
    plan(&manifest, &seed, &options)
}
