//! `federation.issuers` and `federation.rules`: reading, fragments, and one test per check,
//! each asserting the problem's code, place and hint.

use orgform_manifest::{Location, ManifestError, Problem, RuleWorkspaces, load_str};

const HEAD: &str = "version: 1\norganization:\n  id: 6f0c2a4e-0000-4000-8000-000000000001\nservice_accounts:\n  - name: ci\nworkspaces:\n  - name: production\n  - name: old\n    archived: true\n";

const ISSUER: &str =
    "    - name: github-actions\n      issuer_url: https://token.actions.githubusercontent.com\n";

fn federation(issuers: &str, rules: &str) -> String {
    format!("{HEAD}federation:\n  issuers:\n{issuers}  rules:\n{rules}")
}

fn rule(extra: &str) -> String {
    format!(
        "    - name: deploy\n      issuer: github-actions\n      service_account: ci\n      oauth_scope: workspace:developer\n      match:\n        subject_prefix: \"repo:acme/infra:ref:refs/heads/main\"\n{extra}"
    )
}

fn fail(text: &str) -> ManifestError {
    match load_str("t.yaml", text) {
        Ok(loaded) => panic!("expected problems, got {:?}", loaded.manifest.federation),
        Err(err) => err,
    }
}

fn only(text: &str) -> Problem {
    let err = fail(text);
    let errors: Vec<&Problem> = err.errors().collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors[0].clone()
}

fn line(p: &Problem) -> usize {
    p.location.clone().map_or(0, |Location { line, .. }| line)
}

#[test]
fn issuers_and_rules_are_read_with_every_field() {
    let text = federation(
        "    - name: github-actions\n      issuer_url: https://token.actions.githubusercontent.com\n      max_jwt_lifetime_seconds: 600\n      check_jti: false\n    - name: lab\n      issuer_url: https://idp.acme.example\n      jwks:\n        keys:\n          - {kty: RSA, kid: a, n: xyz, e: AQAB}\n",
        &rule(
            "        claims: {repository_owner: acme}\n      token_lifetime_seconds: 900\n      description: deploys\n      workspaces: [production]\n",
        ),
    );
    let loaded = load_str("t.yaml", &text).unwrap();
    let fed = &loaded.manifest.federation;
    assert_eq!(fed.issuers.len(), 2);
    assert_eq!(fed.issuers[0].max_jwt_lifetime_seconds, Some(600));
    assert_eq!(fed.issuers[0].check_jti, Some(false));
    let keys = fed.issuers[1].jwks.as_ref().unwrap().key_values().unwrap();
    assert_eq!(keys[0]["kid"], "a");
    let r = &fed.rules[0];
    assert_eq!(r.issuer, "github-actions");
    assert_eq!(r.service_account, "ci");
    assert_eq!(r.token_lifetime_seconds, Some(900));
    assert_eq!(
        r.workspaces,
        Some(RuleWorkspaces::Named(vec!["production".into()]))
    );
    assert_eq!(
        r.rule_match.claims.as_ref().unwrap()["repository_owner"],
        "acme"
    );
    let all = federation(ISSUER, &rule("      workspaces: all\n"));
    let loaded = load_str("t.yaml", &all).unwrap();
    assert_eq!(
        loaded.manifest.federation.rules[0].workspaces,
        Some(RuleWorkspaces::ALL)
    );
}

#[test]
fn a_misspelt_federation_key_is_reported_with_a_suggestion() {
    let text = format!("{HEAD}federation:\n  isuers: []\n");
    let p = only(&text);
    assert_eq!(p.code, "orgform::unknown_key");
    assert_eq!(p.help.as_deref(), Some("did you mean `issuers`?"));
    let text = federation(
        "    - name: a\n      issuer_url: https://a.example\n      jwks: {url: https://a.example/k, kyes: []}\n",
        "",
    );
    assert_eq!(only(&text).help.as_deref(), Some("did you mean `keys`?"));
}

#[test]
fn names_must_be_slugs_and_unique() {
    let text = federation(
        "    - name: GitHub Actions\n      issuer_url: https://a.example\n",
        "",
    );
    let p = only(&text);
    assert_eq!(p.code, "orgform::federation_name");
    assert_eq!(line(&p), 12);
    assert!(p.help.unwrap().contains("`github-actions`"));
    let text = federation(&format!("{ISSUER}{ISSUER}"), "");
    let p = only(&text);
    assert_eq!(p.code, "orgform::duplicate_issuer");
    assert_eq!(line(&p), 14);
    let text = federation(
        ISSUER,
        &format!(
            "{}{}",
            rule("      workspaces: all\n"),
            rule("      workspaces: all\n")
        ),
    );
    let err = fail(&text);
    assert!(err.errors().any(|p| p.code == "orgform::duplicate_rule"));
}

#[test]
fn lifetimes_are_checked_against_the_api_ranges() {
    let text = federation(
        "    - name: a\n      issuer_url: https://a.example\n      max_jwt_lifetime_seconds: 176401\n",
        "",
    );
    let p = only(&text);
    assert_eq!(p.code, "orgform::jwt_lifetime");
    assert_eq!(line(&p), 14);
    let text = federation(
        ISSUER,
        &rule("      workspaces: all\n      token_lifetime_seconds: 59\n"),
    );
    let p = only(&text);
    assert_eq!(p.code, "orgform::token_lifetime");
    assert!(p.help.unwrap().contains("60 to 86400"));
    // The bounds themselves are accepted.
    let ok = federation(
        "    - name: a\n      issuer_url: https://a.example\n      max_jwt_lifetime_seconds: 176400\n    - name: github-actions\n      issuer_url: https://b.example\n      max_jwt_lifetime_seconds: 1\n",
        &rule("      workspaces: all\n      token_lifetime_seconds: 86400\n"),
    );
    load_str("t.yaml", &ok).unwrap();
}

#[test]
fn jwks_takes_one_source_and_public_keys_only() {
    let text = federation(
        "    - name: a\n      issuer_url: https://a.example\n      jwks:\n        url: https://a.example/jwks\n        keys: [{kty: RSA, n: x, e: AQAB}]\n",
        "",
    );
    assert_eq!(only(&text).code, "orgform::jwks_source");
    let text = federation(
        "    - name: a\n      issuer_url: https://a.example\n      jwks:\n        keys:\n          - {kty: RSA, n: x, e: AQAB, d: secret-part}\n",
        "",
    );
    let p = only(&text);
    assert_eq!(p.code, "orgform::private_jwk");
    assert_eq!(line(&p), 16);
    // The message names the member, never its value.
    assert!(p.message.contains("`d`") && !p.message.contains("secret-part"));
    let text = federation(
        "    - name: a\n      issuer_url: https://a.example\n      jwks:\n        keys: []\n",
        "",
    );
    assert_eq!(only(&text).code, "orgform::jwks_keys");
}

#[test]
fn a_match_must_constrain_more_than_the_audience() {
    for (body, expect) in [
        ("        subject_prefix: \"*\"\n", "only a wildcard"),
        (
            "        audience: https://api.anthropic.com\n",
            "audience alone",
        ),
    ] {
        let text = federation(
            ISSUER,
            &format!(
                "    - name: deploy\n      issuer: github-actions\n      service_account: ci\n      oauth_scope: workspace:developer\n      workspaces: all\n      match:\n{body}"
            ),
        );
        let p = only(&text);
        assert_eq!(p.code, "orgform::rule_match");
        assert!(p.message.contains(expect), "{}", p.message);
        assert_eq!(line(&p), 21);
    }
    let text = federation(
        ISSUER,
        "    - name: deploy\n      issuer: github-actions\n      service_account: ci\n      oauth_scope: workspace:developer\n      workspaces: all\n      match:\n        condition: \"true\"\n",
    );
    let err = fail(&text);
    assert!(err.errors().any(|p| p.message.contains("constant `true`")));
    // Claims alone, or a condition, are enough.
    let ok = federation(
        ISSUER,
        "    - name: deploy\n      issuer: github-actions\n      service_account: ci\n      oauth_scope: workspace:developer\n      workspaces: all\n      match:\n        claims: {repository_owner: acme}\n",
    );
    load_str("t.yaml", &ok).unwrap();
}

#[test]
fn an_org_admin_rule_may_be_declared_and_an_unknown_scope_is_a_located_error() {
    // `org:admin` is made in the Console; the manifest declares it for review and drift.
    let admin = federation(
        ISSUER,
        &rule("      workspaces: all\n").replace("workspace:developer", "org:admin"),
    );
    load_str("t.yaml", &admin).unwrap();
    let text = federation(
        ISSUER,
        &rule("      workspaces: all\n").replace("workspace:developer", "org:billing"),
    );
    let p = only(&text);
    assert_eq!(p.code, "orgform::rule_scope");
    assert_eq!(line(&p), 18);
    assert!(p.message.contains("scope `org:billing`"), "{}", p.message);
    assert!(p.help.unwrap().contains("`org:admin`"));
    let two = federation(
        ISSUER,
        &rule("      workspaces: all\n").replace(
            "workspace:developer",
            "workspace:developer workspace:inference",
        ),
    );
    load_str("t.yaml", &two).unwrap();
}

#[test]
fn references_must_resolve() {
    let text = federation(
        ISSUER,
        &rule("      workspaces: [prodution]\n")
            .replace("issuer: github-actions", "issuer: github-action"),
    );
    let err = fail(&text);
    let found: Vec<(&str, Option<String>)> =
        err.errors().map(|p| (p.code, p.help.clone())).collect();
    assert_eq!(
        found,
        [
            (
                "orgform::unknown_issuer",
                Some("did you mean `github-actions`?".to_owned())
            ),
            (
                "orgform::unknown_rule_workspace",
                Some("did you mean `production`?".to_owned())
            ),
        ]
    );
    let archived = federation(ISSUER, &rule("      workspaces: [old]\n"));
    assert_eq!(only(&archived).code, "orgform::unknown_rule_workspace");
}

#[test]
fn a_live_rule_needs_workspaces_and_a_live_issuer() {
    let text = federation(ISSUER, &rule(""));
    assert_eq!(only(&text).code, "orgform::rule_workspaces");
    let text = federation(ISSUER, &rule("      workspaces: []\n"));
    assert_eq!(only(&text).code, "orgform::rule_workspaces");
    let archived_issuer = format!("{ISSUER}      archived: true\n");
    let text = federation(&archived_issuer, &rule("      workspaces: all\n"));
    assert_eq!(only(&text).code, "orgform::archived_issuer");
    // Archiving both is consistent, and an archived rule needs no workspaces.
    let ok = federation(&archived_issuer, &rule("      archived: true\n"));
    load_str("t.yaml", &ok).unwrap();
}

#[test]
fn federation_entries_merge_across_fragments() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.yaml"),
        format!("{HEAD}federation:\n  issuers:\n{ISSUER}"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.yaml"),
        format!("federation:\n  rules:\n{}", rule("      workspaces: all\n")),
    )
    .unwrap();
    let loaded = orgform_manifest::load(dir.path()).unwrap();
    assert_eq!(loaded.manifest.federation.issuers.len(), 1);
    assert_eq!(loaded.manifest.federation.rules.len(), 1);
    // Each entry cites its own fragment and line.
    let sources = &loaded.manifest.sources;
    let issuer = sources.issuer(0).unwrap();
    assert!(issuer.file.unwrap().ends_with("a.yaml"));
    assert_eq!(issuer.line, Some(12));
    assert_eq!(sources.rule(0).and_then(|s| s.line), Some(3));
    assert_eq!(
        sources
            .rule_field(0, "match.subject_prefix")
            .and_then(|s| s.line),
        Some(8)
    );
}

#[test]
fn a_rule_on_a_shared_issuer_must_pin_the_tenant() {
    let loose = federation(
        ISSUER,
        "    - name: deploy\n      issuer: github-actions\n      service_account: ci\n      oauth_scope: workspace:developer\n      workspaces: all\n      match: {subject_prefix: \"deployer\"}\n",
    );
    let p = only(&loose);
    assert_eq!(p.code, "orgform::rule_tenant");
    assert!(p.help.unwrap().contains("repo:YOUR_ORG/"));
    for m in [
        "{claims: {repository_owner: acme}}",
        "{condition: \"claims.repository_owner == 'acme'\"}",
    ] {
        let ok = federation(
            ISSUER,
            &format!(
                "    - name: deploy\n      issuer: github-actions\n      service_account: ci\n      oauth_scope: workspace:developer\n      workspaces: all\n      match: {m}\n"
            ),
        );
        load_str("t.yaml", &ok).unwrap();
    }
}

#[test]
fn a_rule_target_must_be_a_declared_live_service_account() {
    let text = federation(
        ISSUER,
        &rule("      workspaces: all\n").replace("service_account: ci", "service_account: cl"),
    );
    let p = only(&text);
    assert_eq!(p.code, "orgform::unknown_service_account");
    assert_eq!(p.help.as_deref(), Some("did you mean `ci`?"));
}
