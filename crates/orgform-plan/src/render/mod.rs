//! Renderings of a [`Plan`] and a [`DriftReport`]: text for terminals (Terraform's symbols,
//! colour only on request and never the only carrier of meaning), pretty JSON (the complete,
//! versioned data; also the plan file) and Markdown for pull-request comments (summary first,
//! details collapsed, always under [`MARKDOWN_LIMIT`] characters).
//!
//! Every string that comes from the live organization or the manifest is printed with its
//! control characters escaped, so a workspace named with terminal escape sequences cannot
//! rewrite a reviewer's screen or a comment's layout.

mod markdown;
mod text;

use std::fmt::Write as _;

use serde_json::Value;

use crate::drift::DriftReport;
use crate::types::{Action, Op, Plan, Summary};

pub use markdown::{MARKDOWN_LIMIT, MarkdownOptions};

/// The text plan; `color` adds ANSI styles (the symbols carry the meaning either way).
pub fn text(plan: &Plan, color: bool) -> String {
    text::plan(plan, color)
}

/// The JSON plan: pretty, versioned, everything in [`Plan`]; ends with a newline.
pub fn json(plan: &Plan) -> String {
    to_json(plan)
}

/// The Markdown plan for pull-request comments, under [`MARKDOWN_LIMIT`] characters.
pub fn markdown(plan: &Plan) -> String {
    markdown::plan(plan, &MarkdownOptions::default())
}

/// The Markdown plan with choices (links to the manifest lines behind each item).
pub fn markdown_with(plan: &Plan, options: &MarkdownOptions) -> String {
    markdown::plan(plan, options)
}

/// The text drift report.
pub fn drift_text(report: &DriftReport, color: bool) -> String {
    text::drift(report, color)
}

/// The JSON drift report.
pub fn drift_json(report: &DriftReport) -> String {
    to_json(report)
}

/// The Markdown drift report, under [`MARKDOWN_LIMIT`] characters.
pub fn drift_markdown(report: &DriftReport) -> String {
    markdown::drift(report, &MarkdownOptions::default())
}

/// The Markdown drift report with choices (links to the manifest lines behind findings).
pub fn drift_markdown_with(report: &DriftReport, options: &MarkdownOptions) -> String {
    markdown::drift(report, options)
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    let mut out = json_pretty(value);
    out.push('\n');
    out
}

/// `value` as pretty JSON with every control character escaped (see [`json_controls`]).
pub fn json_pretty<T: serde::Serialize + ?Sized>(value: &T) -> String {
    json_controls(serde_json::to_string_pretty(value).unwrap_or_else(|_| "{}".to_owned()))
}

/// `text` as one JSON string (also a YAML double-quoted scalar) with every control character
/// escaped (see [`json_controls`]).
pub fn json_string(text: &str) -> String {
    json_controls(Value::from(text).to_string())
}

/// `body` as a fenced Markdown code block whose fence is longer than any run of backticks in
/// it, so untrusted text cannot close the block.
pub fn markdown_fenced(lang: &str, body: &str) -> String {
    let fence = markdown::fence_for(body);
    let newline = if body.ends_with('\n') { "" } else { "\n" };
    format!("{fence}{lang}\n{body}{newline}{fence}\n")
}

/// The summary line, e.g. `Plan: 2 to add, 1 to change, 1 to remove (1 irreversible). 1
/// deferred, 0 blocked.` A replacement counts once as an add and once as a remove, as in
/// Terraform.
pub fn summary_line(summary: &Summary) -> String {
    format!(
        "Plan: {} to add, {} to change, {} to remove ({} irreversible). {} deferred, {} blocked.",
        summary.add + summary.replace,
        summary.change,
        summary.remove + summary.replace,
        summary.irreversible,
        summary.deferred,
        summary.blocked,
    )
}

/// Changes shown per drifted object; older ones are counted.
const CHANGES_SHOWN: usize = 3;

/// The attribution lines of a drift finding's object (`drift --attribute`): the newest
/// changes, `changed by WHO at WHEN (ACTIVITY)`, escaped; empty when there is none.
pub(crate) fn attribution_lines(report: &DriftReport, object: &str) -> Vec<String> {
    let Some(changes) = report
        .attribution
        .as_ref()
        .and_then(|a| a.changes.get(object))
    else {
        return Vec::new();
    };
    let mut lines: Vec<String> = changes
        .iter()
        .take(CHANGES_SHOWN)
        .map(|c| {
            format!(
                "changed by {} at {} ({})",
                clean(&c.by),
                c.at,
                clean(&c.activity)
            )
        })
        .collect();
    if changes.len() > CHANGES_SHOWN {
        lines.push(format!(
            "and {} earlier changes",
            changes.len() - CHANGES_SHOWN
        ));
    }
    lines
}

/// The one line about the activity feed when it could not be read or was cut short.
pub(crate) fn attribution_note(report: &DriftReport) -> Option<String> {
    let a = report.attribution.as_ref()?;
    match (&a.note, a.available) {
        (Some(note), _) => Some(clean(note)),
        (None, true) if a.changes.is_empty() => Some(format!(
            "no change to a drifted object in the activity feed since {}",
            a.since
                .map_or_else(|| "the start".to_owned(), |t| t.to_string())
        )),
        _ => None,
    }
}

/// The drift summary line.
pub fn drift_summary_line(report: &DriftReport) -> String {
    let s = &report.summary;
    format!(
        "Drift: {} unmanaged, {} changed, {} missing, {} blocked, {} hygiene. {} pending (not drift).",
        s.unmanaged, s.changed, s.missing, s.blocked, s.hygiene, s.pending
    )
}

/// Escapes control characters (including newlines) of an untrusted string for a terminal or
/// a text document: each becomes `\u{hex}`. Everything orgform prints that comes from the live
/// organization or the manifest goes through this function (or [`json_controls`] for JSON).
pub fn clean(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// Escapes, as `\u00XX`, the control characters serde_json leaves as they are in JSON text
/// (DEL and the C1 range U+0080–U+009F, some of which terminals obey): the JSON value is
/// unchanged, since outside strings JSON text holds none of them. The control characters
/// below U+0020 are already escaped by serde_json (and the line breaks between a pretty
/// document's tokens are left alone).
pub fn json_controls(json: String) -> String {
    let raw = |c: &char| matches!(c, '\u{7f}'..='\u{9f}');
    if !json.chars().any(|c| raw(&c)) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if raw(&c) {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// A value as shown in a `before -> after` pair (JSON, control characters escaped).
pub(crate) fn value(value: Option<&Value>) -> String {
    match value {
        None => "(none)".to_owned(),
        Some(v) => json_controls(serde_json::to_string(v).unwrap_or_default()),
    }
}

/// The verb of an action, e.g. `create`.
pub(crate) fn verb(action: &Action) -> &'static str {
    match &action.op {
        Op::CreateInvite { .. } => "send",
        Op::ReplaceInvite { .. } => "replace",
        Op::RevokeInvite { .. } => "revoke",
        Op::UpdateUserRole { .. }
        | Op::UpdateWorkspace { .. }
        | Op::UpdateWorkspaceMember { .. }
        | Op::UpdateApiKey { .. }
        | Op::UpdateFederationIssuer { .. }
        | Op::UpdateFederationRule { .. } => "update",
        Op::RemoveUser { .. } | Op::RemoveWorkspaceMember { .. } => "remove",
        Op::CreateWorkspace { .. }
        | Op::CreateFederationIssuer { .. }
        | Op::CreateFederationRule { .. } => "create",
        Op::ArchiveWorkspace { .. }
        | Op::ArchiveFederationIssuer { .. }
        | Op::ArchiveFederationRule { .. } => "archive",
        Op::AddWorkspaceMember { .. } => "add",
        Op::EnableFederationRuleWorkspace { .. } => "enable",
        Op::DisableFederationRuleWorkspace { .. } => "disable",
    }
}

/// `expires 2027-01-31, 12 days left` (or `last day`) of a time-boxed entry.
pub(crate) fn expiring_line(e: &crate::Expiring) -> String {
    match e.days_left {
        0 => format!("expires {}, last day", e.expires),
        1 => format!("expires {}, 1 day left", e.expires),
        n => format!("expires {}, {n} days left", e.expires),
    }
}

/// `waiting, 3 day(s) left: ...` of a staged removal.
pub(crate) fn staged_line(st: &crate::Staged) -> String {
    let step = match (st.step, st.days_left) {
        (crate::StagedStep::RevokingAccess, _) => "revoking access".to_owned(),
        (crate::StagedStep::Waiting, Some(1)) => "waiting, 1 day left".to_owned(),
        (crate::StagedStep::Waiting, Some(n)) => format!("waiting, {n} days left"),
        (crate::StagedStep::Waiting, None) => "waiting for evidence".to_owned(),
        (crate::StagedStep::Removing, _) => "removing".to_owned(),
    };
    format!("{step}: {}", st.detail)
}

/// `(destructive, irreversible)` flags after the headline, or an empty string.
pub(crate) fn flags(action: &Action) -> &'static str {
    match (action.destructive, action.irreversible) {
        (true, true) => " (destructive, irreversible)",
        (true, false) => " (destructive)",
        (false, true) => " (irreversible)",
        (false, false) => "",
    }
}

/// One `field: before -> after` line (without indentation).
pub(crate) fn field_line(change: &crate::FieldChange) -> String {
    let field = clean(&change.field);
    match (&change.before, &change.after) {
        (None, Some(after)) => format!("{field}: {}", value(Some(after))),
        (Some(before), None) => format!("{field}: {} -> (removed)", value(Some(before))),
        (before, after) => format!(
            "{field}: {} -> {}",
            value(before.as_ref()),
            value(after.as_ref())
        ),
    }
}

/// ` field: wanted X, live Y` of a drift finding (a side without a value is left out).
pub(crate) fn finding_field(f: &crate::Finding) -> String {
    let Some(field) = &f.field else {
        return String::new();
    };
    let field = clean(field);
    match (&f.wanted, &f.live) {
        (Some(w), None) => format!(" {field}: wanted {}", value(Some(w))),
        (None, Some(l)) => format!(" {field}: live {}", value(Some(l))),
        (w, l) => format!(
            " {field}: wanted {}, live {}",
            value(w.as_ref()),
            value(l.as_ref())
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_del_and_c1_and_reads_back_the_same() {
        let hostile = "a\u{1b}]0;x\u{7}\u{7f}\u{9b}2J\u{85}é\n";
        let text = json_string(hostile);
        assert_eq!(text, "\"a\\u001b]0;x\\u0007\\u007f\\u009b2J\\u0085é\\n\"");
        assert_eq!(serde_json::from_str::<String>(&text).unwrap(), hostile);
        let pretty = json_pretty(&serde_json::json!({ "name": hostile }));
        assert!(
            !pretty.chars().any(|c| c.is_control() && c != '\n'),
            "{pretty}"
        );
        assert_eq!(
            serde_json::from_str::<Value>(&pretty).unwrap()["name"],
            hostile
        );
    }

    #[test]
    fn clean_escapes_every_control_character() {
        assert_eq!(clean("ok é"), "ok é");
        assert_eq!(
            clean("a\u{1b}[2J\u{7}\u{9b}\r\n"),
            "a\\u{1b}[2J\\u{7}\\u{9b}\\u{d}\\u{a}"
        );
    }
}
