//! Where the loaded entries were written (provenance for the plan), fragment by fragment, and
//! `expires:` dates checked with their place.

use orgform_manifest::{Source, load, load_str};

const HEAD: &str = "version: 1\norganization:\n  id: 6f0c2a4e-0000-4000-8000-000000000001\n";

#[test]
fn fragments_name_their_own_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("00-head.yaml"),
        format!("{HEAD}settings:\n  members: {{unmanaged: remove}}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("10-people.yaml"),
        "# people\nmembers:\n  - {email: a@acme.example, role: user}\n  - email: b@acme.example\n    role: developer\n    expires: 2027-01-31\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("20-more.yaml"),
        "members:\n  - {email: c@acme.example, role: user}\nworkspaces:\n  - name: w\n    members:\n      c@acme.example: workspace_user\n",
    )
    .unwrap();
    let loaded = load(dir.path()).unwrap();
    let s = &loaded.manifest.sources;
    let file = |name: &str| dir.path().join(name).display().to_string();
    assert_eq!(s.member(0), Some(Source::at(file("10-people.yaml"), 3, 5)));
    assert_eq!(s.member(1), Some(Source::at(file("10-people.yaml"), 4, 5)));
    assert_eq!(
        s.member_field(1, "expires"),
        Some(Source::at(file("10-people.yaml"), 6, 5))
    );
    // A field not written falls back to the entry.
    assert_eq!(s.member_field(0, "expires"), s.member(0));
    assert_eq!(s.member(2), Some(Source::at(file("20-more.yaml"), 2, 5)));
    assert_eq!(
        s.workspace_field(0, "members.c@acme.example"),
        Some(Source::at(file("20-more.yaml"), 6, 7))
    );
    let setting = s.setting("members.unmanaged").unwrap();
    assert_eq!(setting.place(), Some(format!("{}:5", file("00-head.yaml"))));
    assert_eq!(
        setting.setting.as_deref(),
        Some("settings.members.unmanaged")
    );
    let default = s.setting("workspace_members.unmanaged").unwrap();
    assert!(default.default && default.file.is_none());
    // Layout is not part of what a manifest says.
    let same = load_str(
        "x.yaml",
        &format!("{HEAD}settings: {{members: {{unmanaged: remove}}}}\nmembers: [{{email: a@acme.example, role: user}}, {{email: b@acme.example, role: developer, expires: 2027-01-31}}, {{email: c@acme.example, role: user}}]\nworkspaces: [{{name: w, members: {{c@acme.example: workspace_user}}}}]\n"),
    )
    .unwrap();
    assert_eq!(same.manifest, loaded.manifest);
}

#[test]
fn a_bad_expiry_date_is_an_error_at_its_line() {
    for bad in ["2027-02-30", "31/01/2027", "2027-1-31", "tomorrow"] {
        let err = load_str(
            "org.yaml",
            &format!(
                "{HEAD}members:\n  - email: a@acme.example\n    role: user\n    expires: {bad}\n"
            ),
        )
        .unwrap_err();
        let problem = err.errors().next().unwrap();
        assert!(
            problem
                .message
                .contains("`expires` must be a date such as 2027-01-31"),
            "{bad}: {}",
            problem.message
        );
        let at = problem.location.as_ref().unwrap();
        assert_eq!((at.line, at.column), (7, 14), "{bad}");
    }
    // A date already past is valid: the plan removes the access.
    let ok = load_str(
        "org.yaml",
        &format!(
            "{HEAD}members:\n  - {{email: a@acme.example, role: user, expires: 2001-01-01}}\n"
        ),
    )
    .unwrap();
    assert_eq!(
        ok.manifest.members[0]
            .expires
            .map(|e| e.to_string())
            .as_deref(),
        Some("2001-01-01")
    );
}

#[test]
fn a_workspace_grant_can_carry_an_expiry_date() {
    let text = format!(
        "{HEAD}members:\n  - {{email: a@acme.example, role: developer}}\n  - {{email: b@acme.example, role: developer}}\nworkspaces:\n  - name: w\n    members:\n      a@acme.example: workspace_developer\n      b@acme.example: {{role: workspace_user, expires: 2027-01-31}}\n"
    );
    let loaded = load_str("org.yaml", &text).unwrap();
    let grants = loaded.manifest.workspaces[0].members.as_ref().unwrap();
    assert_eq!(grants["a@acme.example"].expires, None);
    let b = &grants["b@acme.example"];
    assert_eq!(b.role.as_str(), "workspace_user");
    assert_eq!(
        b.expires.map(|e| e.to_string()).as_deref(),
        Some("2027-01-31")
    );
    let at = loaded
        .manifest
        .sources
        .workspace_field(0, "members.b@acme.example.expires")
        .unwrap();
    assert_eq!((at.line, at.column), (Some(11), Some(46)));
    // The JSON Schema accepts both forms.
    let json: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    let schema: serde_json::Value = serde_json::from_str(orgform_manifest::SCHEMA_JSON).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(validator.is_valid(&json));

    // A bad date, and an unknown key, are errors at their line; so is a missing role.
    for (grant, says) in [
        ("{role: workspace_user, expires: 2027-02-30}", "date"),
        ("{role: workspace_user, until: 2027-01-31}", "until"),
        ("{expires: 2027-01-31}", "role"),
    ] {
        let err = load_str(
            "org.yaml",
            &text.replace("{role: workspace_user, expires: 2027-01-31}", grant),
        )
        .unwrap_err();
        let problem = err.errors().next().unwrap();
        assert!(
            problem.message.contains(says),
            "{grant}: {}",
            problem.message
        );
        assert_eq!(problem.location.as_ref().unwrap().line, 11, "{grant}");
        let bad: serde_json::Value = serde_saphyr::from_str(
            &text.replace("{role: workspace_user, expires: 2027-01-31}", grant),
        )
        .unwrap();
        if says != "date" {
            assert!(!validator.is_valid(&bad), "{grant}");
        }
    }
}
