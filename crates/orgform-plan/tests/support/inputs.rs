//! Small inputs for the planner's focused tests: a manifest or a live snapshot from a YAML
//! body under the test organization's header, and the options of a plan at a fixed instant.

use orgform_manifest::Manifest;
use orgform_model::Snapshot;
use orgform_plan::PlanOptions;

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
    }
}
