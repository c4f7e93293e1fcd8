//! `export` against an organization whose names carry every YAML line break and control
//! characters: nothing the API returns can add an entry to the exported manifest, and the
//! manifest plans no change against the organization it came from.

use crate::common::Org;
use orgform_model::{ApiKey, ApiKeyStatus, Invite, InviteStatus, OrgRole, Snapshot, Workspace};

/// Every YAML line break, and control characters YAML does not allow raw.
const BREAKS: [(&str, char); 8] = [
    ("cr", '\r'),
    ("lf", '\n'),
    ("nel", '\u{85}'),
    ("ls", '\u{2028}'),
    ("ps", '\u{2029}'),
    ("esc", '\u{1b}'),
    ("del", '\u{7f}'),
    ("nul", '\u{0}'),
];

fn ts(text: &str) -> jiff::Timestamp {
    text.parse().unwrap()
}

/// The small seed plus, for each character: an expired invite, an archived workspace and an
/// expired key (all written as comments), and an active key (written as a scalar), each named
/// with a payload that would add an entry if the character ended the line.
fn hostile_seed() -> Snapshot {
    let mut seed = orgform_emulator::seeds::small();
    for (i, (tag, c)) in BREAKS.iter().enumerate() {
        seed.invites.push(Invite {
            id: format!("invite_01Hostile{i:016}"),
            email: format!(
                "late-{tag}@acme.example{c}  - email: injected-{tag}@evil.example{c}    role: developer{c}  #"
            ),
            role: OrgRole::User,
            status: InviteStatus::Pending,
            invited_at: ts("2026-01-01T00:00:00Z"),
            expires_at: ts("2026-01-22T00:00:00Z"),
            accepted_at: None,
        });
        let mut archived: Workspace = seed.workspaces[0].clone();
        archived.id = format!("wrkspc_01Hostile{i:016}");
        archived.name = format!("Old {tag}{c}  - name: Injected {tag}{c}  #");
        archived.archived_at = Some(ts("2026-01-01T00:00:00Z"));
        seed.workspaces.push(archived);
        let template: ApiKey = seed.api_keys[0].clone();
        let mut expired = template.clone();
        expired.id = format!("apikey_01HostileX{i:015}");
        expired.name =
            format!("expired {tag}{c}  - name: injected-{tag}{c}    status: active{c}  #");
        expired.status = ApiKeyStatus::Expired;
        seed.api_keys.push(expired);
        let mut active = template;
        active.id = format!("apikey_01HostileA{i:015}");
        active.name =
            format!("active {tag}{c}  - name: injected-{tag}{c}  # and \"quotes\" \\ too");
        active.status = ApiKeyStatus::Active;
        active.workspace_id = None;
        seed.api_keys.push(active);
    }
    seed
}

#[test]
fn export_escapes_every_line_break_and_control_character() {
    let seed = hostile_seed();
    let org = Org::start(seed.clone());
    let dir = tempfile::tempdir().unwrap();
    let export = org.run(dir.path(), &["export", "--out", "export.yaml"]);
    assert_eq!(export.code, 0, "{export:?}");
    let text = std::fs::read_to_string(dir.path().join("export.yaml")).unwrap();
    for c in [
        '\r', '\u{85}', '\u{2028}', '\u{2029}', '\u{1b}', '\u{7f}', '\u{0}',
    ] {
        assert!(!text.contains(c), "{c:?} is written escaped:\n{text}");
    }
    assert!(!text.contains("\n  - email: injected"), "{text}");

    let loaded = orgform_manifest::load(&dir.path().join("export.yaml")).unwrap_or_else(|e| {
        panic!(
            "{}\n{text}",
            orgform_manifest::render_problems(&e.problems, false)
        )
    });
    let manifest = &loaded.manifest;
    // No injected entries: exactly the people, workspaces and keys of the organization.
    let emails: Vec<&str> = manifest.members.iter().map(|m| m.email.as_str()).collect();
    assert!(
        emails.iter().all(|e| e.ends_with("@acme.example")),
        "{emails:?}"
    );
    assert_eq!(
        emails.len(),
        9,
        "8 members and 1 pending invite: {emails:?}"
    );
    let workspaces: Vec<&str> = manifest
        .workspaces
        .iter()
        .map(|w| w.name.as_str())
        .collect();
    assert_eq!(workspaces, ["Production", "Research", "Staging"]);
    // Active keys' names are scalars and read back exactly.
    for (i, (tag, c)) in BREAKS.iter().enumerate() {
        let id = format!("apikey_01HostileA{i:015}");
        let key = manifest
            .api_keys
            .iter()
            .find(|k| k.id.as_deref() == Some(id.as_str()))
            .unwrap_or_else(|| panic!("{id} is exported"));
        assert_eq!(
            key.name.as_deref(),
            Some(
                format!("active {tag}{c}  - name: injected-{tag}{c}  # and \"quotes\" \\ too")
                    .as_str()
            )
        );
    }
    let live_keys = seed
        .api_keys
        .iter()
        .filter(|k| k.status != ApiKeyStatus::Expired && k.status != ApiKeyStatus::Archived)
        .count();
    assert!(manifest.api_keys.len() <= live_keys, "no injected key");
    assert!(
        manifest
            .api_keys
            .iter()
            .all(|k| k.id.as_deref().is_some_and(|id| id.starts_with("apikey_"))),
        "every exported key is pinned by id"
    );

    let plan = org.run(
        dir.path(),
        &["plan", "-f", "export.yaml", "--detailed-exitcode"],
    );
    assert_eq!(plan.code, 0, "the export plans no change: {plan:?}");
    assert!(org.writes().is_empty());
}
