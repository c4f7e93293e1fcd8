//! One test per validation rule, through the public API: each asserts the problem's code,
//! its place (line:column) and, where there is one, its hint.

use std::fmt::Write as _;

use orgform_manifest::{Location, ManifestError, Platform, Problem, load, load_str};
use proptest::prelude::*;

const HEAD: &str = "version: 1\norganization:\n  id: 6f0c2a4e-0000-4000-8000-000000000001\n";

fn with_head(body: &str) -> String {
    format!("{HEAD}{body}")
}

fn fail(text: &str) -> ManifestError {
    match load_str("t.yaml", text) {
        Ok(loaded) => panic!("expected problems, got {:?}", loaded.manifest),
        Err(err) => err,
    }
}

/// (code, line, column) of every error.
fn errors(text: &str) -> Vec<(&'static str, usize, usize)> {
    fail(text)
        .errors()
        .map(|p| {
            let Location { line, column, .. } = p.location.clone().unwrap_or(Location {
                file: String::new(),
                line: 0,
                column: 0,
            });
            (p.code, line, column)
        })
        .collect()
}

fn only(text: &str) -> Problem {
    let err = fail(text);
    let errors: Vec<&Problem> = err.errors().collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors[0].clone()
}

fn warnings(text: &str) -> Vec<Problem> {
    load_str("t.yaml", text).expect("valid").warnings
}

#[test]
fn a_minimal_manifest_loads_with_defaults() {
    let loaded = load_str("t.yaml", HEAD).unwrap();
    assert_eq!(loaded.manifest.organization.platform, Platform::Console);
    assert_eq!(loaded.manifest.settings.limits.max_destructive, 10);
    assert!(loaded.warnings.is_empty());
    assert!(loaded.digest.starts_with("sha256:"));
    assert_eq!(loaded.digest.len(), 7 + 64);
}

#[test]
fn unknown_keys_are_all_reported_with_a_suggestion() {
    let text = with_head("members:\n  - email: a@b.example\n    rol: user\nworkspace: []\n");
    let err = fail(&text);
    let found: Vec<_> = err.errors().map(|p| (p.code, p.help.clone())).collect();
    assert_eq!(
        found,
        vec![
            (
                "orgform::unknown_key",
                Some("did you mean `role`?".to_owned())
            ),
            (
                "orgform::unknown_key",
                Some("did you mean `workspaces`?".to_owned())
            ),
        ]
    );
}

#[test]
fn version_other_than_1_is_refused() {
    let p = only("version: 3\norganization:\n  id: 6f0c2a4e-0000-4000-8000-000000000001\n");
    assert_eq!((p.code, p.location.unwrap().line), ("orgform::version", 1));
}

#[test]
fn organization_id_must_be_a_uuid() {
    let p = only("version: 1\norganization:\n  id: acme\n");
    assert_eq!(p.code, "orgform::organization_id");
    assert_eq!(p.location.unwrap().column, 7);
}

#[test]
fn duplicate_emails_are_compared_trimmed_and_case_insensitively() {
    let text = with_head(
        "members:\n  - email: a@b.example\n    role: user\n  - email: ' A@B.EXAMPLE '\n    role: user\n",
    );
    let p = only(&text);
    assert_eq!(p.code, "orgform::duplicate_email");
    assert_eq!(p.location.clone().unwrap().line, 7);
    assert!(
        p.message.contains("' A@B.EXAMPLE '".trim_matches('\'')),
        "printed as written: {}",
        p.message
    );
    assert!(
        p.help.unwrap().contains("t.yaml:5:12"),
        "cites the first place"
    );
}

#[test]
fn emails_must_look_like_emails() {
    let text = with_head("members:\n  - email: alice\n    role: user\n");
    assert_eq!(errors(&text), vec![("orgform::email", 5, 12)]);
}

#[test]
fn roles_are_checked_against_the_platform_with_suggestions() {
    let p = only(&with_head(
        "members:\n  - email: a@b.example\n    role: develper\n",
    ));
    assert_eq!(p.code, "orgform::unknown_role");
    assert_eq!(p.help.as_deref(), Some("did you mean `developer`?"));

    let p = only(&with_head(
        "members:\n  - email: a@b.example\n    role: owner\n",
    ));
    assert_eq!(p.code, "orgform::platform_role");

    let enterprise = "version: 1\norganization:\n  id: 6f0c2a4e-0000-4000-8000-000000000001\n  platform: enterprise\nmembers:\n";
    for role in [
        "user",
        "managed",
        "owner",
        "primary_owner",
        "membership_admin",
    ] {
        load_str(
            "t.yaml",
            &format!("{enterprise}  - email: a@b.example\n    role: {role}\n"),
        )
        .unwrap_or_else(|e| panic!("{role}: {e:?}"));
    }
    for role in ["developer", "billing", "admin", "claude_code_user"] {
        let p = only(&format!(
            "{enterprise}  - email: a@b.example\n    role: {role}\n"
        ));
        assert_eq!(p.code, "orgform::platform_role", "{role}");
    }
}

#[test]
fn workspace_billing_is_refused_except_as_a_billing_members_implicit_role() {
    let body = |role: &str| {
        with_head(&format!(
            "members:\n  - email: a@b.example\n    role: {role}\nworkspaces:\n  - name: w\n    members:\n      a@b.example: workspace_billing\n"
        ))
    };
    assert_eq!(
        errors(&body("developer")),
        vec![("orgform::workspace_billing", 10, 20)]
    );
    load_str("t.yaml", &body("billing")).expect("the implicit role is a no-op");
}

#[test]
fn workspace_members_must_be_declared() {
    let text =
        with_head("workspaces:\n  - name: w\n    members:\n      x@y.example: workspace_user\n");
    assert_eq!(errors(&text), vec![("orgform::undeclared_member", 7, 7)]);
    // Declared with another case: fine.
    let text = with_head(
        "members:\n  - email: X@y.example\n    role: user\nworkspaces:\n  - name: w\n    members:\n      x@Y.example: workspace_user\n",
    );
    load_str("t.yaml", &text).unwrap();
}

#[test]
fn unknown_workspace_roles_get_a_suggestion() {
    let text = with_head(
        "members:\n  - email: a@b.example\n    role: user\nworkspaces:\n  - name: w\n    members:\n      a@b.example: workspace_admn\n",
    );
    let p = only(&text);
    assert_eq!(p.code, "orgform::unknown_role");
    assert_eq!(p.help.as_deref(), Some("did you mean `workspace_admin`?"));
}

#[test]
fn admins_with_another_workspace_role_get_a_warning() {
    let text = with_head(
        "members:\n  - email: a@b.example\n    role: admin\n  - email: c@b.example\n    role: billing\nworkspaces:\n  - name: w\n    members:\n      a@b.example: workspace_user\n      c@b.example: workspace_admin\n",
    );
    let found: Vec<_> = warnings(&text).into_iter().map(|w| w.code).collect();
    assert_eq!(
        found,
        vec!["orgform::implicit_role"],
        "billing -> workspace_admin is allowed"
    );
}

#[test]
fn workspace_names_are_1_to_40_characters_and_unique() {
    let forty = "w".repeat(40);
    load_str(
        "t.yaml",
        &with_head(&format!("workspaces:\n  - name: {forty}\n")),
    )
    .unwrap();
    let text = with_head(&format!(
        "workspaces:\n  - name: {forty}x\n  - name: ''\n  - name: a\n  - name: a\n  - name: Default\n"
    ));
    let codes: Vec<_> = errors(&text).into_iter().map(|(c, l, _)| (c, l)).collect();
    assert_eq!(
        codes,
        vec![
            ("orgform::name", 5),
            ("orgform::name", 6),
            ("orgform::duplicate_workspace", 8),
            ("orgform::default_workspace", 9),
        ]
    );
    // Multi-byte characters count as one.
    load_str(
        "t.yaml",
        &with_head(&format!("workspaces:\n  - name: {}\n", "é".repeat(40))),
    )
    .unwrap();
}

#[test]
fn workspace_ids_have_a_prefix_and_are_pinned_once() {
    let text = with_head(
        "workspaces:\n  - name: a\n    id: ws_1\n  - name: b\n    id: wrkspc_1\n  - name: c\n    id: wrkspc_1\n",
    );
    let codes: Vec<_> = errors(&text).into_iter().map(|(c, l, _)| (c, l)).collect();
    assert_eq!(
        codes,
        vec![
            ("orgform::workspace_id", 6),
            ("orgform::duplicate_workspace_id", 10)
        ]
    );
}

#[test]
fn colours_are_hex_rrggbb() {
    load_str(
        "t.yaml",
        &with_head("workspaces:\n  - name: a\n    display_color: '#a1B2c3'\n"),
    )
    .unwrap();
    for bad in ["'#abc'", "red", "'#12345G'", "'123456'"] {
        let p = only(&with_head(&format!(
            "workspaces:\n  - name: a\n    display_color: {bad}\n"
        )));
        assert_eq!(p.code, "orgform::color", "{bad}");
    }
}

#[test]
fn anthropic_tag_prefix_is_reserved_in_any_case() {
    let text =
        with_head("workspaces:\n  - name: a\n    tags:\n      ok: x\n      Anthropic-team: y\n");
    assert_eq!(errors(&text), vec![("orgform::reserved_tag", 8, 7)]);
}

#[test]
fn residency_default_must_be_allowed_and_geos_known() {
    let res = |body: &str| {
        with_head(&format!(
            "workspaces:\n  - name: a\n    data_residency:\n{body}"
        ))
    };
    let p = only(&res(
        "      allowed_inference_geos: [us]\n      default_inference_geo: global\n",
    ));
    assert_eq!(p.code, "orgform::default_geo");
    let p = only(&res("      allowed_inference_geos: []\n"));
    assert_eq!(p.code, "orgform::geo");
    load_str(
        "t.yaml",
        &res("      allowed_inference_geos: unrestricted\n      default_inference_geo: us\n"),
    )
    .unwrap();
    // Unknown geographies are warnings: the API may add regions.
    let found: Vec<_> = warnings(&res("      workspace_geo: eu\n      allowed_inference_geos: [eu]\n      default_inference_geo: eu\n"))
        .into_iter()
        .map(|w| (w.code, w.location.unwrap().line))
        .collect();
    assert_eq!(
        found,
        vec![
            ("orgform::geo", 7),
            ("orgform::geo", 8),
            ("orgform::geo", 9)
        ]
    );
}

#[test]
fn aws_platform_allows_only_workspaces() {
    let text = "version: 1\norganization:\n  id: 6f0c2a4e-0000-4000-8000-000000000001\n  platform: aws\nsettings:\n  invites:\n    unmanaged: revoke\nmembers:\n  - email: a@b.example\n    role: user\napi_keys:\n  - name: k\nworkspaces:\n  - name: w\n    members: {}\n";
    let codes: Vec<_> = errors(text).into_iter().map(|(c, l, _)| (c, l)).collect();
    assert_eq!(
        codes,
        vec![
            ("orgform::aws_platform", 6),
            ("orgform::aws_platform", 8),
            ("orgform::aws_platform", 11),
            ("orgform::aws_platform", 15),
        ]
    );
}

#[test]
fn api_keys_need_an_identity_a_prefix_and_a_settable_status() {
    let text = with_head(
        "api_keys:\n  - status: active\n  - id: key_1\n  - name: k\n    status: expired\n  - name: j\n    status: actve\n  - name: w\n    workspace: ''\n",
    );
    let found: Vec<_> = errors(&text).into_iter().map(|(c, l, _)| (c, l)).collect();
    assert_eq!(
        found,
        vec![
            ("orgform::key_identity", 5),
            ("orgform::key_id", 6),
            ("orgform::key_status", 8),
            ("orgform::key_status", 10),
            ("orgform::key_workspace", 12),
        ]
    );
    let p = fail(&text);
    let hint = p
        .errors()
        .find(|p| p.message.contains("actve"))
        .unwrap()
        .help
        .clone();
    assert_eq!(hint.as_deref(), Some("did you mean `active`?"));
}

#[test]
fn api_keys_are_unique_by_id_or_by_name_and_workspace() {
    let text = with_head(
        "api_keys:\n  - id: apikey_1\n  - id: apikey_1\n  - name: k\n    workspace: a\n  - name: k\n    workspace: b\n  - name: k\n    workspace: a\n",
    );
    let found: Vec<_> = errors(&text).into_iter().map(|(c, l, _)| (c, l)).collect();
    assert_eq!(
        found,
        vec![
            ("orgform::duplicate_key", 6),
            ("orgform::duplicate_key", 11)
        ]
    );
    // A key's workspace may be an unmanaged live workspace or `default`.
    load_str("t.yaml", &with_head("api_keys:\n  - name: k\n    workspace: not-listed\n  - name: k\n    workspace: default\n")).unwrap();
}

#[test]
fn limits_and_protected_entries_are_checked() {
    let text = with_head(
        "settings:\n  limits:\n    max_destructive_percent: 101\n  protected: [ops, a@b.example, A@b.example]\n",
    );
    let found: Vec<_> = errors(&text).into_iter().map(|(c, l, _)| (c, l)).collect();
    assert_eq!(
        found,
        vec![
            ("orgform::limits", 6),
            ("orgform::protected_email", 7),
            ("orgform::duplicate_protected", 7)
        ]
    );
    load_str(
        "t.yaml",
        &with_head("settings:\n  limits:\n    max_destructive_percent: 100\n"),
    )
    .unwrap();
}

#[test]
fn archived_workspaces_with_changes_warn() {
    let found: Vec<_> = warnings(&with_head(
        "workspaces:\n  - name: a\n    archived: true\n    display_color: '#000000'\n",
    ))
    .into_iter()
    .map(|w| (w.code, w.message))
    .collect();
    assert_eq!(
        found,
        vec![(
            "orgform::archived_changes",
            "workspace `a` is archived; its `display_color` are ignored".to_owned()
        )]
    );
    assert!(warnings(&with_head("workspaces:\n  - name: a\n    archived: true\n")).is_empty());
}

#[test]
fn closed_enums_of_settings_get_suggestions() {
    let p = only(&with_head("settings:\n  members:\n    unmanaged: remov\n"));
    assert_eq!(
        (p.code, p.help.as_deref()),
        ("orgform::unknown_value", Some("did you mean `remove`?"))
    );
}

#[test]
fn duplicate_yaml_keys_cite_both_places() {
    let p = only(&with_head("members: []\nmembers: []\n"));
    assert_eq!(p.code, "orgform::duplicate_key");
    assert_eq!(p.location.unwrap().line, 5);
}

#[test]
fn alias_bombs_are_refused_quickly() {
    let mut text = with_head("settings:\n  protected:\n    - &a [x, x, x, x, x, x, x, x, x, x]\n");
    for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h"]
        .iter()
        .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
    {
        let aliases = vec![format!("*{prev}"); 10].join(", ");
        let _ = writeln!(text, "    - &{name} [{aliases}]");
    }
    let start = std::time::Instant::now();
    let p = only(&text);
    assert_eq!(p.code, "orgform::alias_bomb");
    assert!(
        start.elapsed().as_secs() < 30,
        "refused without expanding 10^9 nodes"
    );
}

#[test]
fn small_aliases_and_merge_keys_are_fine() {
    let text = with_head(
        "members:\n  - &dev {email: a@b.example, role: developer}\n  - <<: *dev\n    email: c@b.example\n",
    );
    let loaded = load_str("t.yaml", &text).unwrap();
    assert_eq!(loaded.manifest.members[1].role.as_str(), "developer");
}

#[test]
fn empty_files_and_non_utf8_are_clear_errors() {
    assert_eq!(only("# only a comment\n").code, "orgform::empty_file");
    assert_eq!(only("").code, "orgform::empty_file");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("org.yaml");
    std::fs::write(&path, b"version: 1\n\xff\n").unwrap();
    let err = load(&path).unwrap_err();
    let p = err.errors().next().unwrap();
    assert_eq!(p.code, "orgform::not_utf8");
    assert!(p.message.contains("line 2, column 1"), "{}", p.message);
}

#[test]
fn a_missing_file_names_the_path_with_a_hint() {
    let err = load(std::path::Path::new("does/not/exist.yaml")).unwrap_err();
    assert_eq!(err.to_string(), "the manifest cannot be read");
    let p = err.errors().next().unwrap();
    assert!(p.message.contains("`does/not/exist.yaml`"), "{}", p.message);
    assert!(p.help.as_deref().unwrap().contains("-f PATH"));
}

#[test]
fn directories_merge_sorted_fragments_and_ignore_other_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("b.yml"),
        "members:\n  - email: b@x.example\n    role: user\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("a.yaml"),
        with_head("members:\n  - email: a@x.example\n    role: user\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join("c.txt"), "not: [yaml").unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/d.yaml"), "bogus: 1").unwrap();
    let loaded = load(dir.path()).unwrap();
    let emails: Vec<_> = loaded
        .manifest
        .members
        .iter()
        .map(|m| m.email.as_str())
        .collect();
    assert_eq!(emails, ["a@x.example", "b@x.example"]);
    assert_eq!(loaded.files.len(), 2);

    // The digest covers names and bytes.
    let before = loaded.digest;
    std::fs::rename(dir.path().join("b.yml"), dir.path().join("b2.yml")).unwrap();
    assert_ne!(load(dir.path()).unwrap().digest, before);
}

#[test]
fn directories_need_exactly_one_head_and_one_settings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), "settings: {}\n").unwrap();
    let err = load(dir.path()).unwrap_err();
    assert_eq!(err.errors().next().unwrap().code, "orgform::missing_head");

    std::fs::write(dir.path().join("b.yaml"), with_head("settings: {}\n")).unwrap();
    let err = load(dir.path()).unwrap_err();
    let p = err.errors().next().unwrap();
    assert_eq!(p.code, "orgform::duplicate_settings");
    assert!(
        p.help.as_deref().unwrap().contains("a.yaml:1:1"),
        "{:?}",
        p.help
    );

    let split = tempfile::tempdir().unwrap();
    std::fs::write(split.path().join("a.yaml"), "version: 1\n").unwrap();
    std::fs::write(
        split.path().join("b.yaml"),
        "organization:\n  id: 6f0c2a4e-0000-4000-8000-000000000001\n",
    )
    .unwrap();
    let err = load(split.path()).unwrap_err();
    let p = err.errors().next().unwrap();
    assert_eq!(
        p.message,
        "`version` and `organization` are split across fragments"
    );

    let empty = tempfile::tempdir().unwrap();
    assert_eq!(
        load(empty.path())
            .unwrap_err()
            .errors()
            .next()
            .unwrap()
            .code,
        "orgform::empty_directory"
    );
}

#[test]
fn rendering_without_colour_shows_place_and_underline() {
    let err = fail(&with_head(
        "members:\n  - email: a@b.example\n    role: develper\n",
    ));
    let text = orgform_manifest::render_problems(&err.problems, false);
    assert!(text.contains("t.yaml:6:11"), "{text}");
    assert!(text.contains("role: develper"), "{text}");
    assert!(text.contains("did you mean `developer`?"), "{text}");
    assert!(!text.contains('\u{1b}'));
    assert!(orgform_manifest::render(&err, true).contains('\u{1b}'));
}

proptest! {
    #[test]
    fn any_case_variant_of_a_declared_email_is_a_duplicate(mask in proptest::collection::vec(any::<bool>(), 11)) {
        let email = "abc@def.xyz";
        let variant: String = email
            .chars()
            .zip(mask)
            .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
            .collect();
        let text = with_head(&format!(
            "members:\n  - email: {email}\n    role: user\n  - email: '  {variant} '\n    role: user\n"
        ));
        let p = only(&text);
        prop_assert_eq!(p.code, "orgform::duplicate_email");
    }

    #[test]
    fn workspace_name_length_rule(len in 1usize..60) {
        let text = with_head(&format!("workspaces:\n  - name: {}\n", "n".repeat(len)));
        prop_assert_eq!(load_str("t.yaml", &text).is_ok(), len <= 40);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the text, loading returns (never panics), and every located problem points
    /// inside the text.
    #[test]
    fn arbitrary_text_never_panics(
        pieces in proptest::collection::vec(
            proptest::sample::select(vec![
                "version: 1\n", "organization:\n", "  id: x\n", "members:\n", "  - email: a@b.c\n",
                "    role: ", "user\n", "workspaces:\n", "  - name: w\n", "    members:\n",
                "      a@b.c: workspace_user\n", "    tags: {a: b}\n", "&a ", "*a\n", "<<: *a\n",
                "- ", ": ", "[", "]", "{", "}", "\"", "'", "\n", "  ", "é", "\t", "#c\n", "---\n",
            ]),
            0..40,
        )
    ) {
        let text: String = pieces.concat();
        match load_str("p.yaml", &text) {
            Ok(loaded) => prop_assert_eq!(loaded.manifest.version, 1),
            Err(err) => {
                prop_assert!(err.errors().count() > 0);
                let lines = text.lines().count().max(1) + 1;
                for p in &err.problems {
                    if let Some(l) = &p.location {
                        prop_assert!(l.line <= lines, "{:?} in {:?}", l, text);
                    }
                }
                let _ = orgform_manifest::render(&err, false);
            }
        }
    }
}

#[test]
fn grace_days_outside_one_to_365_is_located_with_a_hint() {
    for days in [0, 366] {
        let text = with_head(&format!(
            "settings:\n  members:\n    unmanaged: remove\n    removal: staged\n    grace_days: {days}\n"
        ));
        let p = only(&text);
        assert_eq!(p.code, "orgform::grace_days");
        let at = p.location.clone().expect("located");
        assert_eq!((at.line, at.column), (8, 17), "{p:?}");
        assert!(p.message.contains("outside 1-365"), "{}", p.message);
        assert!(
            p.help.as_deref().is_some_and(|h| h.contains("e.g. 7")),
            "{p:?}"
        );
    }
    let ok = with_head("settings:\n  members:\n    removal: staged\n    grace_days: 30\n");
    let loaded = load_str("t.yaml", &ok).expect("valid");
    assert_eq!(
        loaded.manifest.settings.members.removal,
        orgform_manifest::RemovalPolicy::Staged
    );
    assert_eq!(loaded.manifest.settings.members.grace_days(), 30);
    let default = load_str("t.yaml", HEAD).expect("valid");
    assert_eq!(
        default.manifest.settings.members.removal,
        orgform_manifest::RemovalPolicy::Immediate
    );
    assert_eq!(default.manifest.settings.members.grace_days(), 7);
    // A misspelt policy is a shape error with a suggestion.
    let p = only(&with_head(
        "settings:\n  members:\n    removal: staggered\n",
    ));
    assert!(
        p.help.as_deref().is_some_and(|h| h.contains("staged")),
        "{p:?}"
    );
}
