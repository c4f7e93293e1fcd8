//! The binary against an emulator that injects faults into the identity writes: a service
//! account created, granted, archived (and an issuer and a rule created and archived) while
//! the API drops the connection after committing the write, answers 500, 529 or 429. Each run
//! reads back instead of writing twice; the organization converges to exactly one service
//! account of each name and the next plan is empty, whether archived names stay taken or not.

use orgform_emulator::readings::{Readings, ServiceAccountNames};
use orgform_emulator::{Fault, FaultConfig, FaultMatcher};

use crate::identities_support::{
    IdOrg, V1, accounts_archived, archived_names, manifest, rule_archived, write,
};

const SA: &str = "/v1/organizations/service_accounts";
const WS: &str = "/v1/organizations/workspaces/";
const ISSUERS: &str = "/v1/organizations/federation_issuers";
const RULES: &str = "/v1/organizations/federation_rules";

/// Queues one fault for the next `POST` under each prefix.
fn push(org: &IdOrg, faults: &[(&str, Fault)]) {
    for (prefix, fault) in faults {
        org.emulator()
            .push_fault(FaultMatcher::new("POST", prefix), fault.clone());
    }
}

/// Applies until `plan --detailed-exitcode` is 0 (at most three applies), then checks that
/// every queued fault was served and no write succeeded twice.
fn apply_until_converged(org: &IdOrg, dir: &std::path::Path, faults: usize) {
    let mut applies = 0;
    loop {
        let plan = org.plain(dir, &["plan", "--detailed-exitcode"], &[]);
        if plan.code == 0 {
            break;
        }
        assert_eq!(plan.code, 2, "{plan:?}");
        assert!(
            applies < 3,
            "not converged after {applies} applies: {plan:?}"
        );
        let apply = org.plain(dir, &["apply", "--auto-approve"], &[]);
        assert!(apply.code == 0 || apply.code == 1, "{apply:?}");
        applies += 1;
    }
    let log = org.emulator().request_log();
    let served = log.iter().filter(|e| e.fault.is_some()).count();
    assert_eq!(served, faults, "every queued fault was served");
    let mut done = std::collections::BTreeMap::new();
    for e in log
        .iter()
        .filter(|e| e.method != "GET" && e.status == Some(200))
    {
        let key = format!(
            "{} {} {}",
            e.method,
            e.path,
            e.body.as_ref().map(ToString::to_string).unwrap_or_default()
        );
        *done.entry(key).or_insert(0) += 1;
    }
    done.retain(|_, n| *n > 1);
    assert!(done.is_empty(), "writes done twice: {done:#?}");
}

#[test]
fn identity_writes_converge_under_faults_with_no_duplicate() {
    for names in [ServiceAccountNames::Taken, ServiceAccountNames::Freed] {
        let readings = Readings {
            service_account_names: names,
            ..Readings::default()
        };
        let org = IdOrg::start(readings, FaultConfig::default());
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &manifest(V1));
        let drop = Fault::DropAfterApply;
        let create = [
            (SA, drop.clone()),
            (SA, Fault::ServerError { should_retry: None }),
            (WS, drop.clone()),
            (WS, Fault::Overloaded),
            (
                ISSUERS,
                Fault::RateLimit {
                    retry_after_secs: None,
                    retry_after_ms: Some(1),
                },
            ),
            (ISSUERS, drop.clone()),
            (RULES, drop.clone()),
        ];
        push(&org, &create);
        apply_until_converged(&org, dir.path(), create.len());
        let ids = org.identities();
        for name in ["ci-bot", "keep-bot", "old-bot"] {
            let n = ids
                .service_accounts
                .iter()
                .filter(|s| s.name == name)
                .count();
            assert_eq!(n, 1, "{names:?}: {name}");
        }
        assert_eq!(ids.federation_issuers.len(), 1, "{names:?}");
        assert_eq!(ids.federation_rules.len(), 1, "{names:?}");
        assert_eq!(ids.service_account_members.len(), 2, "{names:?}");

        org.emulator().clear_request_log();
        write(
            dir.path(),
            &manifest(&accounts_archived(&rule_archived(V1))),
        );
        let archive = [
            (SA, drop.clone()),
            (SA, Fault::ServerError { should_retry: None }),
            (RULES, drop.clone()),
        ];
        push(&org, &archive);
        apply_until_converged(&org, dir.path(), archive.len());
        assert_eq!(archived_names(&org), ["deploy", "keep-bot", "old-bot"]);
        assert_eq!(org.identities().service_accounts.len(), 3, "{names:?}");
    }
}
