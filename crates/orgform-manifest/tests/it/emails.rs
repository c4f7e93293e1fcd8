//! Emails with control, zero-width or bidirectional-control characters are invalid, naming
//! the code point; emails mixing scripts get a warning naming the code points.

use orgform_manifest::{load_str, render};

const HEAD: &str = "version: 1\norganization:\n  id: 6f0c2a4e-0000-4000-8000-000000000001\n";

fn member(email: &str) -> String {
    format!("{HEAD}members:\n  - email: \"{email}\"\n    role: user\n")
}

#[test]
fn bidi_controls_zero_width_and_control_characters_are_refused() {
    for (email, named) in [
        (
            "alice\u{202E}elpmaxe.emca@x.example",
            "U+202E (right-to-left override)",
        ),
        ("al\u{200B}ice@acme.example", "U+200B (zero width space)"),
        (
            "alice@acme\u{2066}.example",
            "U+2066 (left-to-right isolate)",
        ),
        ("alice@acme.example\u{FEFF}", "U+FEFF"),
        ("ali\\u0007ce@acme.example", "U+0007 (control character)"),
    ] {
        let err = load_str("t.yaml", &member(email)).unwrap_err();
        let problem = err.errors().next().unwrap();
        assert_eq!(problem.code, "orgform::email_character", "{email:?}");
        assert!(problem.message.contains(named), "{}", problem.message);
        assert_eq!(problem.location.as_ref().unwrap().line, 5);
        assert!(problem.help.is_some());
        let rendered = render(&err, false);
        for hidden in ['\u{202E}', '\u{200B}', '\u{2066}', '\u{FEFF}', '\u{7}'] {
            assert!(
                !rendered.contains(hidden),
                "{hidden:?} never reaches the terminal"
            );
        }
    }
}

#[test]
fn hidden_characters_are_refused_in_workspace_members_and_protected_too() {
    let text = format!(
        "{HEAD}settings:\n  protected: [\"ops\u{200D}@acme.example\"]\nmembers:\n  - email: a@acme.example\n    role: user\n\
         workspaces:\n  - name: w\n    members:\n      \"a@acme.example\u{202E}\": workspace_user\n"
    );
    let err = load_str("t.yaml", &text).unwrap_err();
    let codes: Vec<&str> = err.errors().map(|p| p.code).collect();
    assert_eq!(
        codes,
        ["orgform::email_character", "orgform::email_character"]
    );
}

#[test]
fn mixed_script_emails_warn_naming_the_code_points() {
    // A Cyrillic "а" (U+0430) among Latin letters.
    let loaded = load_str("t.yaml", &member("p\u{0430}ypal@acme.example")).unwrap();
    assert_eq!(loaded.warnings.len(), 1);
    let warning = &loaded.warnings[0];
    assert_eq!(warning.code, "orgform::confusable_email");
    assert!(warning.message.contains("U+0430"), "{}", warning.message);
    assert!(
        warning.message.contains("Latin, Cyrillic"),
        "{}",
        warning.message
    );
    // One script, even outside ASCII, is fine.
    for email in ["josé@acme.example", "андрей@пример.рф"] {
        assert!(
            load_str("t.yaml", &member(email))
                .unwrap()
                .warnings
                .is_empty()
        );
    }
}
