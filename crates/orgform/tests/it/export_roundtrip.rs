//! The export round trip on random organizations: the exported manifest validates and
//! planning it against the organization it came from shows no changes.

use orgform_model::{ApiKeyStatus, InviteStatus};
use orgform_plan::PlanOptions;
use proptest::prelude::*;

/// What a read of this seed returns at the default emulator clock: statuses derived from it.
fn as_read(seed: &orgform_model::Snapshot) -> orgform_model::Snapshot {
    let now: jiff::Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
    let mut live = seed.clone();
    for invite in &mut live.invites {
        if invite.status == InviteStatus::Pending && invite.expires_at <= now {
            invite.status = InviteStatus::Expired;
        }
    }
    for key in &mut live.api_keys {
        if key.expires_at.is_some_and(|at| at <= now) && key.status != ApiKeyStatus::Archived {
            key.status = ApiKeyStatus::Expired;
        }
    }
    live
}

fn round_trip(seed: &orgform_model::Snapshot) -> Result<(), String> {
    let live = &as_read(seed);
    let text = orgform::export::render(live);
    let loaded = orgform_manifest::load_str("export.yaml", &text).map_err(|e| {
        format!(
            "{}\n{text}",
            orgform_manifest::render_problems(&e.problems, false)
        )
    })?;
    let options = PlanOptions {
        clock_skew: None,
        allow_destructive: None,
        now: "2026-06-01T00:00:00Z".parse().unwrap(),
        manifest_digest: loaded.digest.clone(),
        no_access: None,
    };
    let plan = orgform_plan::plan(&loaded.manifest, live, &options);
    if plan.has_changes() || plan.is_refused() || plan.has_blocked() {
        return Err(format!(
            "{}\n{text}",
            orgform_plan::render::text(&plan, false)
        ));
    }
    Ok(())
}

#[test]
fn small_seed_round_trips() {
    round_trip(&orgform_emulator::seeds::small()).unwrap();
}

#[test]
fn export_points_editors_at_the_schema_by_its_id() {
    let text = orgform::export::render(&orgform_emulator::seeds::small());
    let first = text.lines().next().unwrap();
    assert_eq!(
        first,
        format!(
            "# yaml-language-server: $schema={}",
            orgform_manifest::SCHEMA_URL
        )
    );
    let schema: serde_json::Value = serde_json::from_str(orgform_manifest::SCHEMA_JSON).unwrap();
    assert_eq!(schema["$id"], orgform_manifest::SCHEMA_URL);
    assert!(orgform_manifest::SCHEMA_URL.starts_with("https://"));
}

#[test]
fn export_is_deterministic() {
    let live = orgform_emulator::seeds::large(3, 50, 5, 40);
    let mut shuffled = live.clone();
    shuffled.users.reverse();
    shuffled.api_keys.reverse();
    shuffled.workspace_members.reverse();
    assert_eq!(
        orgform::export::render(&live),
        orgform::export::render(&shuffled)
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_orgs_round_trip(seed in any::<u64>(), users in 0usize..60, workspaces in 0usize..8, keys in 0usize..50) {
        let live = orgform_emulator::seeds::large(seed, users, workspaces, keys);
        let result = round_trip(&live);
        prop_assert!(result.is_ok(), "{}", result.unwrap_err());
    }
}
