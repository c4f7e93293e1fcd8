//! `service_accounts`, service-account grants in workspaces and
//! `settings.protected_service_accounts`: what loads, and each check's code and place.

use orgform_manifest::{Location, ManifestError, load_str};
use orgform_model::{ServiceAccountRole, WorkspaceRole};

const HEAD: &str = "version: 1\norganization:\n  id: 6f0c2a4e-0000-4000-8000-000000000001\n";

fn errors(body: &str) -> Vec<(&'static str, usize, usize)> {
    let err: ManifestError = match load_str("t.yaml", &format!("{HEAD}{body}")) {
        Ok(loaded) => panic!("expected problems, got {:?}", loaded.manifest),
        Err(err) => err,
    };
    err.errors()
        .map(|p| {
            let Location { line, column, .. } = p.location.clone().unwrap();
            (p.code, line, column)
        })
        .collect()
}

#[test]
fn service_accounts_and_their_grants_load() {
    let text = format!(
        "{HEAD}settings:\n  protected_service_accounts: [orgform-ci]\nservice_accounts:\n  - name: orgform-ci\n    description: runs orgform\n    organization_role: admin\n  - name: old-bot\n    archived: true\nworkspaces:\n  - name: prod\n    service_accounts:\n      orgform-ci: workspace_admin\n"
    );
    let m = load_str("t.yaml", &text).unwrap().manifest;
    assert_eq!(m.service_accounts.len(), 2);
    assert_eq!(
        m.service_accounts[0].organization_role,
        Some(ServiceAccountRole::Admin)
    );
    assert!(m.service_accounts[1].archived);
    assert_eq!(m.settings.protected_service_accounts, ["orgform-ci"]);
    assert_eq!(
        m.workspaces[0].service_accounts.as_ref().unwrap()["orgform-ci"],
        WorkspaceRole::WorkspaceAdmin
    );
    assert_eq!(
        m.sources.service_account(1).unwrap().line,
        Some(10),
        "entries are located"
    );
}

#[test]
fn every_service_account_problem_is_located() {
    let body = "settings:\n  protected_service_accounts: [Bad_Name]\nservice_accounts:\n  - name: CI Bot\n  - name: ci\n  - name: ci\n    organization_role: owner\n  - name: gone\n    archived: true\nworkspaces:\n  - name: prod\n    service_accounts:\n      nobody: workspace_user\n      ci: workspace_billing\n      gone: workspace_user\n";
    let mut found = errors(body);
    found.sort_unstable();
    let mut expected = vec![
        ("orgform::service_account_name", 5, 32),
        ("orgform::service_account_name", 7, 11),
        ("orgform::duplicate_service_account", 9, 11),
        ("orgform::unknown_value", 10, 24),
        ("orgform::undeclared_service_account", 16, 7),
        ("orgform::service_account_role", 17, 11),
        ("orgform::archived_service_account_grant", 18, 7),
    ];
    expected.sort_unstable();
    assert_eq!(found, expected);
}
