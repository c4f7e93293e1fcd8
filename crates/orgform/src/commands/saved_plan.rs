//! `apply PLANFILE`: a saved plan is a proposal, not a program. The file is read and checked
//! (format version, its `actions_digest`, actions that can run as listed), then compared with
//! the plan made now from the manifest and a fresh read. Only the plan made now is ever
//! executed, and only when its actions (and blocked items) are exactly the saved ones; limits,
//! protected emails, refusals and blocked items always come from the plan made now.

use std::fmt::Write as _;
use std::path::Path;

use orgform_plan::Plan;

use super::Refusal;
use crate::exit::Exit;

/// Differences shown when a saved plan is refused; the rest are counted.
const SHOWN_DIFFERENCES: usize = 10;

/// What `apply PLANFILE` does with the plan made now.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The saved actions are the ones a plan made now gives: run the plan made now.
    Same {
        /// The live organization changed since the plan was made (in ways that leave the
        /// actions as they were, e.g. an unmanaged object that is only reported).
        live_changed: bool,
    },
    /// The saved plan had actions, the plan made now has none: they are already in place.
    AlreadyApplied,
}

/// Parses a plan file's text; anything wrong with its content refuses the run (exit 3).
pub fn parse(path: &Path, text: &str) -> anyhow::Result<Plan> {
    Plan::from_json(text).map_err(|err| {
        let hint = if looks_like_a_manifest(text) {
            format!(
                "{} looks like a manifest, not a saved plan: did you mean `orgform apply -f {}`?",
                path.display(),
                path.display()
            )
        } else {
            "run `orgform plan --out PLANFILE` again, review it, then apply it".to_owned()
        };
        Refusal {
            exit: Exit::Refused,
            message: format!(
                "cannot use the plan file {}: {err}; nothing was read or applied\n  hint: {hint}",
                path.display()
            ),
        }
        .into()
    })
}

/// Whether a file given as a plan file is YAML with a manifest's top-level keys.
fn looks_like_a_manifest(text: &str) -> bool {
    !text.trim_start().starts_with('{')
        && text
            .lines()
            .any(|line| line.starts_with("organization:") || line.starts_with("members:"))
}

/// Compares the saved plan with the plan made now; refuses (exit 3) unless the plan made now
/// may run as the saved plan's reviewed actions.
pub fn check(saved: &Plan, fresh: &Plan, manifest_digest: &str) -> anyhow::Result<Verdict> {
    let mut stale = Vec::new();
    if saved.organization_id != fresh.organization_id {
        stale.push(format!(
            "the plan was made for organization {}, the key belongs to {}",
            saved.organization_id, fresh.organization_id
        ));
    }
    if saved.manifest_digest != manifest_digest {
        stale.push(format!(
            "the manifest changed since the plan was made ({} -> {})",
            short(&saved.manifest_digest),
            short(manifest_digest)
        ));
    }
    if !stale.is_empty() {
        return Err(refusal(&format!(
            "the saved plan is stale; nothing was applied:\n  - {}",
            stale.join("\n  - ")
        )));
    }
    let live_changed = saved.live_digest != fresh.live_digest;
    if fresh.is_refused() {
        // The plan made now is refused on its own (limits, plan errors): the caller reports
        // it as for any refused plan.
        return Ok(Verdict::Same { live_changed });
    }
    if !saved.actions.is_empty() && fresh.actions.is_empty() {
        return Ok(Verdict::AlreadyApplied);
    }
    let differences = orgform_plan::differences(saved, fresh);
    if differences.is_empty() {
        return Ok(Verdict::Same { live_changed });
    }
    let mut lines = Vec::new();
    if live_changed {
        lines.push(format!(
            "the live organization changed since the plan was made ({} -> {}); a plan made now \
             would be: {}",
            short(&saved.live_digest),
            short(&fresh.live_digest),
            orgform_plan::render::summary_line(&fresh.summary)
        ));
    } else {
        lines.push(
            "the live organization is as it was, so the plan file's actions were edited, or a \
             time-dependent decision (an invite's expiry) changed"
                .to_owned(),
        );
    }
    lines.push(format!(
        "{} difference(s) between the saved plan and a plan made now:",
        differences.len()
    ));
    let headline = if live_changed {
        "the saved plan is stale: a plan made now has other actions; nothing was applied"
    } else {
        "the saved plan is not the plan a fresh read gives; nothing was applied"
    };
    let mut text = format!("{headline}:\n  - {}", lines.join("\n  - "));
    for difference in differences.iter().take(SHOWN_DIFFERENCES) {
        text.push_str("\n    ");
        text.push_str(difference);
    }
    if differences.len() > SHOWN_DIFFERENCES {
        let _ = write!(
            text,
            "\n    ... and {} more",
            differences.len() - SHOWN_DIFFERENCES
        );
    }
    Err(refusal(&text))
}

fn refusal(text: &str) -> anyhow::Error {
    Refusal {
        exit: Exit::Refused,
        message: format!(
            "{text}\n  hint: run `orgform plan --out PLANFILE` again, review it, then apply it"
        ),
    }
    .into()
}

fn short(digest: &str) -> &str {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    hex.get(..12).unwrap_or(hex)
}

#[cfg(test)]
mod tests {
    use orgform_model::{
        FederationIssuer, FederationRule, Identities, Jwks, RuleMatch, ServiceAccount,
        ServiceAccountRole, Snapshot,
    };
    use orgform_plan::{Action, Op, PlanOptions, actions_digest, plan};

    use super::*;

    const ORG: &str = "6f0c2a4e-0000-4000-8000-000000000001";

    fn live() -> Snapshot {
        let at = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut s: Snapshot = serde_saphyr::from_str(&format!(
            "organization:\n  id: {ORG}\n  name: Acme\nworkspaces:\n  - id: wrkspc_prod\n    name: production\n    created_at: 2026-01-01T00:00:00Z\n    display_color: \"#000000\"\n"
        ))
        .unwrap();
        s.identities = Some(Identities {
            service_accounts: vec![ServiceAccount {
                id: "svac_ci".into(),
                name: "ci".into(),
                description: None,
                organization_role: ServiceAccountRole::Developer,
                created_at: at,
                archived_at: None,
            }],
            federation_issuers: vec![FederationIssuer {
                id: "fdis_gh".into(),
                name: "github-actions".into(),
                issuer_url: "https://token.actions.githubusercontent.com".into(),
                jwks: Jwks::Discovery {
                    discovery_base: None,
                    ca_cert_pem: None,
                },
                max_jwt_lifetime_seconds: 3600,
                check_jti: true,
                created_at: at,
                archived_at: None,
            }],
            federation_rules: vec![FederationRule {
                id: "fdrl_deploy".into(),
                name: "deploy".into(),
                description: None,
                issuer_id: "fdis_gh".into(),
                rule_match: RuleMatch {
                    subject_prefix: Some("repo:acme/infra:ref:refs/heads/main".into()),
                    ..RuleMatch::default()
                },
                target_service_account_id: "svac_ci".into(),
                oauth_scope: "workspace:developer".into(),
                token_lifetime_seconds: 3600,
                applies_to_all_workspaces: false,
                workspace_ids: vec!["wrkspc_prod".into()],
                created_at: at,
                archived_at: None,
            }],
            ..Identities::default()
        });
        s
    }

    /// The attacker who can write the plan file adds the archive of the pipeline's own rule
    /// (protected, so the plan made now has no such action) and reseals the digest: the
    /// saved plan is refused, since only the plan made now may run.
    #[test]
    fn a_resealed_plan_that_archives_a_protected_rule_is_refused() {
        let manifest: orgform_manifest::Manifest = serde_saphyr::from_str(&format!(
            "version: 1\norganization:\n  id: {ORG}\nsettings:\n  protected_service_accounts: [ci]\nworkspaces:\n  - name: production\nfederation:\n  issuers:\n    - name: github-actions\n      issuer_url: https://token.actions.githubusercontent.com\n    - name: lab\n      issuer_url: https://idp.acme.example\n  rules:\n    - name: deploy\n      issuer: github-actions\n      service_account: ci\n      oauth_scope: workspace:developer\n      match: {{subject_prefix: \"repo:acme/infra:ref:refs/heads/main\"}}\n      archived: true\n"
        ))
        .unwrap();
        let options = PlanOptions {
            allow_destructive: None,
            now: "2026-11-01T00:00:00Z".parse().unwrap(),
            clock_skew: None,
            manifest_digest: "sha256:m".into(),
            no_access: None,
            pipeline: orgform_plan::Pipeline::default(),
        };
        let fresh = plan(&manifest, &live(), &options);
        assert_eq!(
            fresh.actions.len(),
            1,
            "only the new issuer: {:#?}",
            fresh.actions
        );
        assert_eq!(fresh.blocked.len(), 1);
        let mut saved = fresh.clone();
        saved.actions.push(Action {
            id: 2,
            op: Op::ArchiveFederationRule {
                rule_id: "fdrl_deploy".into(),
                name: "deploy".into(),
            },
            target: "federation rule deploy".into(),
            changes: Vec::new(),
            destructive: true,
            irreversible: true,
            depends_on: Vec::new(),
            consequences: Vec::new(),
            source: None,
        });
        saved.actions_digest = actions_digest(&saved.actions);
        let text = serde_json::to_string(&saved).unwrap();
        let reread = parse(Path::new("tampered.json"), &text).expect("a resealed file parses");
        let err = check(&reread, &fresh, "sha256:m").unwrap_err();
        assert!(err.to_string().contains("hint"), "{err}");
    }
}
