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
        pipeline: orgform_plan::Pipeline::default(),
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

/// Federation round trips too: issuers by URL or discovery, rules for all or named
/// workspaces; an inline-key issuer, a Console-only rule and an archived one are left out in
/// comments, and being unlisted they are only reported, never changed.
#[test]
fn federation_round_trips_and_inline_keys_are_never_invented() {
    let mut seed = orgform_emulator::seeds::small();
    let ws = seed
        .workspaces
        .iter()
        .find(|w| !w.is_archived())
        .unwrap()
        .id
        .clone();
    let ids: orgform_model::Identities = serde_saphyr::from_str(&format!(
        "service_accounts:\n  - {{id: svac_ci, name: ci, organization_role: developer, created_at: 2026-01-01T00:00:00Z}}\nfederation_issuers:\n  - {{id: fdis_gh, name: github-actions, issuer_url: \"https://token.actions.githubusercontent.com\", jwks: {{type: discovery}}, max_jwt_lifetime_seconds: 3600, check_jti: true, created_at: 2026-01-01T00:00:00Z}}\n  - {{id: fdis_lab, name: lab, issuer_url: \"https://idp.acme.example\", jwks: {{type: explicit_url, url: \"https://idp.acme.example/jwks\"}}, max_jwt_lifetime_seconds: 600, check_jti: false, created_at: 2026-01-01T00:00:00Z}}\n  - {{id: fdis_pin, name: pinned, issuer_url: \"https://pin.acme.example\", jwks: {{type: inline, keys_digest: \"sha256:abc\", key_count: 2}}, max_jwt_lifetime_seconds: 3600, check_jti: true, created_at: 2026-01-01T00:00:00Z}}\nfederation_rules:\n  - {{id: fdrl_a, name: deploy, description: \"main branch\", issuer_id: fdis_gh, match: {{subject_prefix: \"repo:acme/infra:ref:refs/heads/main\", claims: {{environment: prod}}}}, target_service_account_id: svac_ci, oauth_scope: workspace:developer, token_lifetime_seconds: 900, applies_to_all_workspaces: false, workspace_ids: [{ws}], created_at: 2026-01-01T00:00:00Z}}\n  - {{id: fdrl_b, name: lab-all, issuer_id: fdis_lab, match: {{condition: \"claims.team == 'x'\"}}, target_service_account_id: svac_ci, oauth_scope: workspace:inference, token_lifetime_seconds: 3600, applies_to_all_workspaces: true, created_at: 2026-01-01T00:00:00Z}}\n  - {{id: fdrl_c, name: admin-ci, issuer_id: fdis_gh, match: {{claims: {{repository_owner: acme}}}}, target_service_account_id: svac_ci, oauth_scope: \"org:admin\", token_lifetime_seconds: 3600, applies_to_all_workspaces: true, created_at: 2026-01-01T00:00:00Z}}\n  - {{id: fdrl_d, name: on-pinned, issuer_id: fdis_pin, match: {{subject_prefix: x}}, target_service_account_id: svac_ci, oauth_scope: workspace:developer, token_lifetime_seconds: 3600, applies_to_all_workspaces: true, created_at: 2026-01-01T00:00:00Z}}\n"
    ))
    .unwrap();
    seed.identities = Some(ids);
    let text = orgform::export::render(&as_read(&seed));
    assert!(
        text.contains("name: deploy") && text.contains("workspaces: all"),
        "{text}"
    );
    assert!(
        text.contains("sha256:abc") && text.contains("supply them"),
        "{text}"
    );
    assert!(
        !text.lines().any(|l| l.trim_start().starts_with("keys:")),
        "no key is invented: {text}"
    );
    assert!(text.contains("left out: rule admin-ci"), "{text}");
    round_trip(&seed).unwrap();
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
