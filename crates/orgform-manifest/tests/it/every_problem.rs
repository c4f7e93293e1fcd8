//! Every problem at once: structural problems (unknown keys, wrong types, unknown values) in
//! one entry do not stop the checks of the others, nor the semantic checks of what could be
//! read; the same across the fragments of a directory. Each problem is reported once, with a
//! place and a hint.

use orgform_manifest::{ManifestError, load, load_str};

const HEAD: &str = "version: 1\norganization:\n  id: 6f0c2a4e-0000-4000-8000-000000000001\n";

fn fail(text: &str) -> ManifestError {
    match load_str("t.yaml", text) {
        Ok(loaded) => panic!("expected problems, got {:?}", loaded.manifest),
        Err(err) => err,
    }
}

/// (code, line) of every error, in order.
fn errors(err: &ManifestError) -> Vec<(&'static str, usize)> {
    err.errors()
        .map(|p| (p.code, p.location.as_ref().map_or(0, |l| l.line)))
        .collect()
}

fn assert_every_problem_has_a_place_and_a_hint(err: &ManifestError) {
    for p in &err.problems {
        assert!(p.location.is_some(), "{} has a place", p.message);
        assert!(p.help.is_some(), "{} has a hint", p.message);
    }
}

#[test]
fn the_issue_manifest_reports_all_four_problems() {
    let text = "version: 1
organization:
  id: e25febc4-ff94-45b2-8d2a-ce171213510d
  name: Soylent
members:
  - email: alice@soylent.example
    role: developer
    nickname: Al
  - email: bob@soylent.example
    role: develper
  - email: Alice@Soylent.example
    role: user
workspaces:
  - name: quarterly-forecasting-and-planning-sandbox-01
";
    let err = fail(text);
    assert_eq!(
        errors(&err),
        [
            ("orgform::unknown_key", 8),
            ("orgform::unknown_role", 10),
            ("orgform::duplicate_email", 11),
            ("orgform::name", 14),
        ]
    );
    assert_eq!(err.to_string(), "the manifest is invalid: 4 errors");
    assert_every_problem_has_a_place_and_a_hint(&err);
}

#[test]
fn an_entry_with_an_unknown_key_is_still_checked_for_its_other_keys() {
    let err = fail(&format!(
        "{HEAD}members:\n  - email: not-an-email\n    role: develper\n    nick: x\n"
    ));
    assert_eq!(
        errors(&err),
        [
            ("orgform::email", 5),
            ("orgform::unknown_role", 6),
            ("orgform::unknown_key", 7),
        ]
    );
}

#[test]
fn a_value_of_the_wrong_type_leaves_the_rest_of_its_entry_checked() {
    let err = fail(&format!(
        "{HEAD}workspaces:\n  - name: research\n  - name: research\n    archived: maybe\n    display_color: nope\n"
    ));
    assert_eq!(
        errors(&err),
        [
            ("orgform::duplicate_workspace", 6),
            ("orgform::wrong_type", 7),
            ("orgform::color", 8),
        ]
    );
    let wrong = err.errors().nth(1).unwrap();
    assert_eq!(
        wrong.message,
        "`archived` must be `true` or `false`, found `maybe`"
    );
    assert_every_problem_has_a_place_and_a_hint(&err);
}

#[test]
fn an_unreadable_entry_does_not_cascade_into_false_problems() {
    // bob's role is a list: his entry cannot be read, but he is declared, so the workspace
    // that names him is not reported as naming an undeclared member.
    let err = fail(&format!(
        "{HEAD}members:\n  - email: bob@acme.example\n    role: [user]\n\
         workspaces:\n  - name: w\n    members:\n      bob@acme.example: workspace_user\n"
    ));
    assert_eq!(errors(&err), [("orgform::wrong_type", 6)]);
    // A required key missing is reported once, at its entry.
    let err = fail(&format!("{HEAD}members:\n  - role: user\n"));
    assert_eq!(errors(&err), [("orgform::missing_key", 5)]);
}

#[test]
fn a_misspelt_closed_value_is_reported_once_and_the_rest_is_checked() {
    let err = fail(&format!(
        "{HEAD}  platform: enterprize\nsettings:\n  members:\n    unmanaged: delete\n\
         members:\n  - email: a@acme.example\n    role: user\n  - email: A@acme.example\n    role: user\n"
    ));
    assert_eq!(
        errors(&err),
        [
            ("orgform::unknown_value", 4),
            ("orgform::unknown_value", 7),
            ("orgform::duplicate_email", 11),
        ]
    );
    assert_every_problem_has_a_place_and_a_hint(&err);
}

#[test]
fn a_structural_problem_in_one_fragment_does_not_hide_the_others() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("00-org.yaml"),
        format!("{HEAD}settings:\n  limits:\n    max_destructive: lots\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("10-people.yaml"),
        "members:\n  - email: alice@acme.example\n    role: developer\n    manager: bob\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("20-more.yaml"),
        "members:\n  - email: ALICE@acme.example\n    role: user\nworkspaces:\n  - name: w\n    members:\n      dave@acme.example: workspace_user\n",
    )
    .unwrap();
    let err = load(dir.path()).unwrap_err();
    let found: Vec<(&str, String, usize)> = err
        .errors()
        .map(|p| {
            let l = p.location.clone().unwrap();
            let file = l.file.rsplit('/').next().unwrap().to_owned();
            (p.code, file, l.line)
        })
        .collect();
    assert_eq!(
        found,
        [
            ("orgform::wrong_type", "00-org.yaml".to_owned(), 6),
            ("orgform::unknown_key", "10-people.yaml".to_owned(), 4),
            ("orgform::duplicate_email", "20-more.yaml".to_owned(), 2),
            ("orgform::undeclared_member", "20-more.yaml".to_owned(), 7),
        ]
    );
}

#[test]
fn a_fragment_that_does_not_parse_leaves_the_others_checked_without_guesses() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("00-org.yaml"),
        "version: 1\norganization: [\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("10-people.yaml"),
        "members:\n  - email: a@acme.example\n    role: develper\n  - email: A@acme.example\n    role: user\n\
         workspaces:\n  - name: w\n    members:\n      dave@acme.example: workspace_user\n",
    )
    .unwrap();
    let err = load(dir.path()).unwrap_err();
    let codes: Vec<&str> = err.errors().map(|p| p.code).collect();
    // The head may be in the broken fragment: no "missing organization"; dave may be
    // declared there: no "undeclared member".
    assert_eq!(
        codes,
        [
            "orgform::yaml_syntax",
            "orgform::unknown_role",
            "orgform::duplicate_email"
        ]
    );
}
