//! Provenance: every action, blocked item and plan error names the manifest file and line
//! that require it; removals of unlisted objects cite the setting that causes them, at its
//! line or as its default; a saved plan's sources are not what decides whether it is stale.

use crate::support::inputs;

use inputs::{manifest, opts, seed};
use orgform_manifest::{Manifest, Source, load_str};
use orgform_plan::{Op, Plan, PlanErrorKind, differences, drift, plan, render};

const HEAD: &str = "version: 1\norganization:\n  id: 6f0c2a4e-0000-4000-8000-000000000001\n";

const LIVE: &str = "users:
  - {id: user_01Root00000000000000, email: root@acme.example, name: Root, role: admin, added_at: '2026-01-01T00:00:00Z'}
  - {id: user_01Dev000000000000000, email: dev@acme.example, name: Dev, role: user, added_at: '2026-01-01T00:00:00Z'}
  - {id: user_01Gone00000000000000, email: gone@acme.example, name: Gone, role: user, added_at: '2026-01-01T00:00:00Z'}
workspaces:
  - {id: wrkspc_01Research00000000, name: research, created_at: '2026-01-01T00:00:00Z', display_color: '#112233'}
  - {id: wrkspc_01Old0000000000000, name: old, created_at: '2026-01-01T00:00:00Z', display_color: '#112233'}
workspace_members:
  - {workspace_id: wrkspc_01Research00000000, user_id: user_01Gone00000000000000, workspace_role: workspace_user}
api_keys:
  - {id: apikey_01Ci0000000000000000000, name: ci, created_at: '2026-01-01T00:00:00Z', status: active}
";

/// A manifest read from text, as `org.yaml`: its sources are filled.
fn loaded(body: &str) -> Manifest {
    load_str("org.yaml", &format!("{HEAD}{body}"))
        .unwrap_or_else(|e| panic!("{e:?}"))
        .manifest
}

fn place(file: &str, line: u32, column: u32) -> Source {
    Source::at(file, line, column)
}

fn action<'p>(p: &'p Plan, kind: &str) -> &'p orgform_plan::Action {
    p.actions
        .iter()
        .find(|a| a.op.name() == kind)
        .unwrap_or_else(|| panic!("no {kind} in {:#?}", p.actions))
}

#[test]
fn each_action_names_the_entry_that_asks_for_it() {
    // The header takes lines 1-3: `settings:` is line 4, `members:` line 8.
    let m = loaded(
        "settings:
  members:
    unmanaged: remove
  workspaces: {unmanaged: archive}
members:
  - email: root@acme.example
    role: admin
  - email: dev@acme.example
    role: developer
  - {email: new@acme.example, role: user}
workspaces:
  - name: research
    members:
      dev@acme.example: workspace_developer
  - name: fresh
api_keys:
  - name: ci
    status: inactive
",
    );
    let p = plan(&m, &seed(LIVE), &opts());
    assert!(p.errors.is_empty(), "{p:#?}");
    // The member entry of dev (line 11), not the line of `role:`.
    assert_eq!(
        action(&p, "update_user_role").source,
        Some(place("org.yaml", 11, 5))
    );
    assert_eq!(
        action(&p, "create_invite").source,
        Some(place("org.yaml", 13, 5))
    );
    assert_eq!(
        action(&p, "create_workspace").source,
        Some(place("org.yaml", 18, 5))
    );
    // The workspace member's own line inside `members:`.
    assert_eq!(
        action(&p, "add_workspace_member").source,
        Some(place("org.yaml", 17, 7))
    );
    assert_eq!(
        action(&p, "update_api_key").source,
        Some(place("org.yaml", 20, 5))
    );
    // Removals of unlisted objects cite the setting, at its line.
    let remove = action(&p, "remove_user");
    assert_eq!(
        remove.source,
        Some(Source {
            setting: Some("settings.members.unmanaged".into()),
            ..Source::at("org.yaml", 6, 5)
        })
    );
    assert_eq!(
        remove.source.as_ref().unwrap().to_string(),
        "org.yaml:6 (settings.members.unmanaged)"
    );
    let archive = action(&p, "archive_workspace");
    assert_eq!(
        archive.source.as_ref().unwrap().to_string(),
        "org.yaml:7 (settings.workspaces.unmanaged)"
    );
}

#[test]
fn a_removal_by_a_default_cites_the_default() {
    // `settings.workspace_members.unmanaged` defaults to `remove`: not written anywhere.
    let m = loaded(
        "members:
  - {email: root@acme.example, role: admin}
  - {email: dev@acme.example, role: user}
  - {email: gone@acme.example, role: user}
workspaces:
  - name: research
    members: {}
  - name: old
",
    );
    let p = plan(&m, &seed(LIVE), &opts());
    let removal = action(&p, "remove_workspace_member");
    let source = removal.source.clone().expect("a source");
    assert!(source.default && source.file.is_none() && source.line.is_none());
    assert_eq!(
        source.to_string(),
        "settings.workspace_members.unmanaged (default)"
    );
    let json = render::json(&p);
    assert!(
        json.contains(
            "\"source\": {\n        \"setting\": \"settings.workspace_members.unmanaged\",\n        \"default\": true\n      }"
        ),
        "{json}"
    );
}

#[test]
fn blocked_items_and_plan_errors_name_their_entry() {
    let m = loaded(
        "members:
  - {email: root@acme.example, role: developer}
  - {email: dev@acme.example, role: user}
  - {email: gone@acme.example, role: user}
workspaces:
  - name: research
  - name: old
    id: wrkspc_01Nope00000000000000
",
    );
    let p = plan(&m, &seed(LIVE), &opts());
    assert_eq!(p.errors.len(), 1, "{p:#?}");
    assert_eq!(p.errors[0].kind, PlanErrorKind::UnknownWorkspaceId);
    assert_eq!(p.errors[0].source, Some(place("org.yaml", 10, 5)));
    // Demoting an admin is blocked, and the block names root's entry.
    let p = plan(
        &loaded(
            "members:
  - {email: root@acme.example, role: developer}
",
        ),
        &seed(LIVE),
        &opts(),
    );
    assert_eq!(p.blocked.len(), 1, "{p:#?}");
    assert_eq!(p.blocked[0].source, Some(place("org.yaml", 5, 5)));
    let text = render::text(&p, false);
    assert!(
        text.contains(
            "  # member root@acme.example (role: \"admin\" -> \"developer\")  org.yaml:5"
        ),
        "{text}"
    );
}

#[test]
fn text_shows_a_dim_suffix_and_drift_carries_the_sources() {
    let m = loaded("members:\n  - {email: new@acme.example, role: user}\n");
    let p = plan(&m, &seed(LIVE), &opts());
    let plain = render::text(&p, false);
    assert!(
        plain.contains("[1] send invite new@acme.example  org.yaml:5\n"),
        "{plain}"
    );
    let coloured = render::text(&p, true);
    assert!(
        coloured.contains("\u{1b}[2morg.yaml:5\u{1b}[0m"),
        "{coloured}"
    );
    let report = drift(&m, &seed(LIVE), &opts());
    let missing = report
        .findings
        .iter()
        .find(|f| f.object == "invite new@acme.example")
        .expect("the missing invite");
    assert_eq!(missing.source, Some(place("org.yaml", 5, 5)));
    assert!(render::drift_text(&report, false).contains("(declared, not live)  org.yaml:5"));
}

#[test]
fn markdown_links_into_the_diff_only_when_given_a_prefix() {
    let m = loaded("members:\n  - {email: new@acme.example, role: user}\n");
    let p = plan(&m, &seed(LIVE), &opts());
    let bare = render::markdown(&p);
    assert!(bare.contains("      source: org.yaml:5\n"), "{bare}");
    assert!(!bare.contains("Manifest lines"), "{bare}");
    let linked = render::markdown_with(
        &p,
        &render::MarkdownOptions {
            source_url_prefix: Some("https://example.invalid/acme/org/blob/0123abc/".into()),
        },
    );
    assert!(
        linked.contains(
            "- action [1]: [`org.yaml:5`](https://example.invalid/acme/org/blob/0123abc/org.yaml#L5)"
        ),
        "{linked}"
    );
    assert!(linked.len() <= render::MARKDOWN_LIMIT);
}

#[test]
fn sources_are_not_compared_with_a_saved_plan_but_are_digested() {
    let body = "members:\n  - {email: new@acme.example, role: user}\n";
    let live = seed(LIVE);
    let here = plan(&loaded(body), &live, &opts());
    let there = plan(
        &load_str("./elsewhere/org.yaml", &format!("{HEAD}{body}"))
            .unwrap()
            .manifest,
        &live,
        &opts(),
    );
    assert_ne!(here.actions[0].source, there.actions[0].source);
    assert!(differences(&here, &there).is_empty());
    // The digest covers them: an edited source in a plan file is an edited file.
    assert_ne!(here.actions_digest, there.actions_digest);
    // A manifest built in code cites nothing, and its digest is the one plans had before.
    let bare = manifest(body);
    let p = plan(&bare, &live, &opts());
    assert_eq!(p.actions[0].source, None);
    assert!(!render::json(&p).contains("\"source\""));
    assert!(matches!(&p.actions[0].op, Op::CreateInvite { .. }));
}
