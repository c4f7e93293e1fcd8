//! The pull-request rendering: summary first, every list collapsed in `<details>`, and a hard
//! size bound. Lists are filled in order from one byte budget; what does not fit is counted
//! ("... 9,990 more not shown") and left to the JSON rendering. One item never takes more than
//! [`ITEM_LIMIT`] bytes. Bytes are counted, which bounds characters too.
//!
//! Destructive and irreversible actions take the budget first, each in full (no item limit),
//! in their own expanded section: only the other actions, blocked items and reports can be
//! cut. When they alone do not fit, the comment says so at the top and points to the JSON
//! plan, which is never truncated.
//!
//! Every action, blocked item and plan error names where the manifest asks for it (a
//! `source:` line inside its item); with [`MarkdownOptions::source_url_prefix`], a "Manifest
//! lines" section also links each of them to `PREFIX/FILE#LLINE`, so a pull-request comment
//! leads into the diff. Links are built from percent-encoded file names and their text is a
//! code span, so a file name cannot inject Markdown either.
//!
//! Untrusted strings are control-escaped and placed inside code fences that are longer than
//! any backtick run they contain, so names cannot break out into Markdown or HTML.

use std::fmt::Write as _;

use super::{
    clean, drift_summary_line, field_line, finding_field, flags, summary_line, value, verb,
};
use crate::DriftCategory;
use crate::drift::DriftReport;
use crate::types::{Action, PendingKind, Plan};
use orgform_manifest::Source;

/// Choices for the Markdown renderings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MarkdownOptions {
    /// `--source-url-prefix`: where the manifest's files are browsable (e.g. a pull
    /// request's blob URL of the head commit); sources become links `PREFIX/FILE#LLINE`.
    pub source_url_prefix: Option<String>,
}

/// Upper bound of a Markdown rendering, in characters (GitHub comments allow 65,536).
pub const MARKDOWN_LIMIT: usize = 60_000;

/// Budget for the lists, leaving room for the header and the per-section wrappers.
const LIST_BUDGET: usize = 50_000;

/// Longest single item.
const ITEM_LIMIT: usize = 2_000;

/// Longest string in the always-shown header (refusals, errors).
const HEADER_ITEM_LIMIT: usize = 300;

fn truncate(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let mut end = limit.saturating_sub(3);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn longest_backtick_run(body: &str) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    longest
}

pub(super) fn fence_for(body: &str) -> String {
    "`".repeat((longest_backtick_run(body) + 1).max(3))
}

/// How a section shows its items.
#[derive(Clone, Copy)]
struct Style {
    /// Expanded rather than collapsed.
    open: bool,
    /// Items are cut at [`ITEM_LIMIT`] bytes; when false they are shown in full or not at all.
    item_limit: bool,
}

const COLLAPSED: Style = Style {
    open: false,
    item_limit: true,
};

/// Errors and blocked items need a person: they are shown expanded.
const EXPANDED: Style = Style {
    open: true,
    item_limit: true,
};

/// Writes one collapsible section whose items share the remaining budget; returns how many
/// items did not fit.
fn section(
    out: &mut String,
    budget: &mut usize,
    title: &str,
    lang: &str,
    items: &[String],
    style: Style,
) -> usize {
    if items.is_empty() {
        return 0;
    }
    let mut body = String::new();
    let mut shown = 0;
    for item in items {
        let item = if style.item_limit {
            truncate(item, ITEM_LIMIT)
        } else {
            item.clone()
        };
        if item.len() + 1 > *budget {
            break;
        }
        *budget -= item.len() + 1;
        body.push_str(&item);
        body.push('\n');
        shown += 1;
    }
    let fence = fence_for(&body);
    let open = if style.open { " open" } else { "" };
    let _ = write!(
        out,
        "\n<details{open}><summary>{title} ({})</summary>\n\n",
        thousands(items.len())
    );
    if shown > 0 {
        let _ = write!(out, "{fence}{lang}\n{body}{fence}\n");
    }
    let left = items.len() - shown;
    if left > 0 {
        let _ = writeln!(
            out,
            "\n_... {} more not shown (the comment has a size limit); see the JSON rendering._",
            thousands(left)
        );
    }
    out.push_str("\n</details>\n");
    left
}

/// One action as a `diff` item: symbol, id, verb, target, flags, then its changes,
/// consequences and dependencies.
fn action_item(a: &Action) -> String {
    let mut item = format!(
        "{}{} [{}] {} {}{}",
        a.kind().symbol(),
        if a.irreversible { "!" } else { "" },
        a.id,
        verb(a),
        clean(&a.target),
        flags(a)
    );
    for c in &a.changes {
        let _ = write!(item, "\n      {}", field_line(c));
    }
    for c in &a.consequences {
        let _ = write!(item, "\n      consequence: {}", clean(c));
    }
    if !a.depends_on.is_empty() {
        let ids: Vec<String> = a.depends_on.iter().map(|d| format!("[{d}]")).collect();
        let _ = write!(item, "\n      depends on: {}", ids.join(", "));
    }
    item.push_str(&source_line(a.source.as_ref(), "      "));
    item
}

/// `\n<indent>source: org.yaml:42`, or nothing.
fn source_line(source: Option<&Source>, indent: &str) -> String {
    source.map_or_else(String::new, |at| {
        format!("\n{indent}source: {}", clean(&at.to_string()))
    })
}

/// `PREFIX/FILE#LLINE` for a source with a place: the file as named on the command line,
/// `./` dropped, percent-encoded except for `/` and unreserved characters.
pub(crate) fn source_url(prefix: &str, source: &Source) -> Option<String> {
    let (file, line) = (source.file.as_deref()?, source.line?);
    let file = file.strip_prefix("./").unwrap_or(file);
    let mut url = prefix.trim_end_matches('/').to_owned();
    url.push('/');
    for byte in file.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            url.push(char::from(byte));
        } else {
            let _ = write!(url, "%{byte:02X}");
        }
    }
    let _ = write!(url, "#L{line}");
    Some(url)
}

/// A `<details>` list of links to the manifest lines behind the items, as Markdown (not in a
/// code block, so the links work); items without a place in a file are left out.
fn links_section(
    out: &mut String,
    budget: &mut usize,
    prefix: Option<&str>,
    items: &[(String, Option<&Source>)],
) {
    let Some(prefix) = prefix else { return };
    let lines: Vec<String> = items
        .iter()
        .filter_map(|(label, source)| {
            let source = (*source)?;
            let url = source_url(prefix, source)?;
            let place = clean(&source.place()?);
            let fence = "`".repeat(longest_backtick_run(&place) + 1);
            Some(format!("- {label}: [{fence}{place}{fence}]({url})"))
        })
        .collect();
    if lines.is_empty() {
        return;
    }
    let mut body = String::new();
    let mut shown = 0;
    for line in &lines {
        let line = truncate(line, ITEM_LIMIT);
        if line.len() + 1 > *budget {
            break;
        }
        *budget -= line.len() + 1;
        body.push_str(&line);
        body.push('\n');
        shown += 1;
    }
    let _ = write!(
        out,
        "\n<details><summary>Manifest lines ({})</summary>\n\n{body}",
        thousands(lines.len())
    );
    if shown < lines.len() {
        let _ = writeln!(
            out,
            "\n_... {} more not shown (the comment has a size limit); see the JSON rendering._",
            thousands(lines.len() - shown)
        );
    }
    out.push_str("\n</details>\n");
}

fn code_line(text: &str) -> String {
    let text = truncate(text, HEADER_ITEM_LIMIT);
    let fence = "`".repeat(longest_backtick_run(&text) + 1);
    format!("{fence} {text} {fence}")
}

/// Renders a plan.
pub(super) fn plan(plan: &Plan, options: &MarkdownOptions) -> String {
    let mut budget = LIST_BUDGET;
    // Destructive and irreversible actions first, in full, before anything else is cut.
    let (grave, other): (Vec<&Action>, Vec<&Action>) = plan
        .actions
        .iter()
        .partition(|a| a.destructive || a.irreversible);
    let grave: Vec<String> = grave.into_iter().map(action_item).collect();
    let mut grave_section = String::new();
    let grave_left = section(
        &mut grave_section,
        &mut budget,
        "Destructive and irreversible actions",
        "diff",
        &grave,
        Style {
            open: true,
            item_limit: false,
        },
    );
    let mut out = String::new();
    let s = &plan.summary;
    out.push_str("### orgform plan\n\n");
    let _ = writeln!(out, "**{}**\n", summary_line(s));
    if grave_left > 0 {
        let _ = writeln!(
            out,
            "> **{} destructive or irreversible actions do not fit in this comment; read the JSON plan** (`orgform plan --format json`, never truncated) before approving.\n",
            thousands(grave_left)
        );
    }
    if plan.actions.is_empty() && plan.errors.is_empty() {
        out.push_str("No changes.\n\n");
    }
    for refusal in &plan.refusals {
        let _ = writeln!(
            out,
            "> **Refused:** {}\n",
            code_line(&clean(&refusal.message()))
        );
    }
    if !plan.errors.is_empty() {
        let _ = writeln!(
            out,
            "> **{} plan error(s):** the manifest cannot be matched to the live organization; nothing is planned.\n",
            plan.errors.len()
        );
    }
    if !plan.blocked.is_empty() {
        let _ = writeln!(
            out,
            "> **{} blocked:** orgform cannot make these changes; see below for what a person must do.\n",
            plan.blocked.len()
        );
    }
    out.push_str("| add | change | remove | replace | irreversible | destructive | deferred | blocked | unmanaged | pending | missing |\n");
    out.push_str("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
        s.add,
        s.change,
        s.remove,
        s.replace,
        s.irreversible,
        s.destructive,
        s.deferred,
        s.blocked,
        s.unmanaged,
        s.pending,
        s.missing
    );
    out.push_str(&grave_section);
    let errors: Vec<String> = plan
        .errors
        .iter()
        .map(|e| {
            let hint = e
                .hint
                .as_deref()
                .map(|h| format!("\n    hint: {}", clean(h)))
                .unwrap_or_default();
            format!(
                "x {}: {}{hint}{}",
                clean(&e.target),
                clean(&e.message),
                source_line(e.source.as_ref(), "    ")
            )
        })
        .collect();
    section(
        &mut out,
        &mut budget,
        "Plan errors",
        "text",
        &errors,
        EXPANDED,
    );
    let blocked: Vec<String> = plan
        .blocked
        .iter()
        .map(|b| {
            let field = b
                .field
                .as_ref()
                .map(|f| {
                    format!(
                        " ({}: {} -> {})",
                        clean(f),
                        value(b.live.as_ref()),
                        value(b.wanted.as_ref())
                    )
                })
                .unwrap_or_default();
            format!(
                "# {}{field}\n    why: {}\n    what to do: {}{}",
                clean(&b.target),
                clean(&b.reason),
                clean(&b.remedy),
                source_line(b.source.as_ref(), "    ")
            )
        })
        .collect();
    section(&mut out, &mut budget, "Blocked", "text", &blocked, EXPANDED);
    let other: Vec<String> = other.into_iter().map(action_item).collect();
    let title = if grave.is_empty() {
        "Actions"
    } else {
        "Other actions"
    };
    section(&mut out, &mut budget, title, "diff", &other, COLLAPSED);
    let mut linked: Vec<(String, Option<&Source>)> = Vec::new();
    for (i, e) in plan.errors.iter().enumerate() {
        linked.push((format!("plan error {}", i + 1), e.source.as_ref()));
    }
    for (i, b) in plan.blocked.iter().enumerate() {
        linked.push((format!("blocked item {}", i + 1), b.source.as_ref()));
    }
    for a in &plan.actions {
        linked.push((format!("action [{}]", a.id), a.source.as_ref()));
    }
    links_section(
        &mut out,
        &mut budget,
        options.source_url_prefix.as_deref(),
        &linked,
    );
    let deferred: Vec<String> = plan
        .deferred
        .iter()
        .map(|d| format!("> {}: {}; {}", clean(&d.target), d.role, clean(&d.reason)))
        .collect();
    section(
        &mut out,
        &mut budget,
        "Deferred",
        "text",
        &deferred,
        COLLAPSED,
    );
    let pending: Vec<String> = plan
        .pending
        .iter()
        .map(|p| {
            let state = match p.kind {
                PendingKind::InvitePending => "pending until",
                PendingKind::InviteExpired => "expired at (not re-issued)",
            };
            format!(
                "invite {} ({}): {state} {}",
                clean(&p.email),
                p.role,
                p.expires_at
            )
        })
        .collect();
    section(
        &mut out,
        &mut budget,
        "Invites waiting",
        "text",
        &pending,
        COLLAPSED,
    );
    let expiring: Vec<String> = plan
        .expiring
        .iter()
        .map(|e| {
            format!(
                "~ {}: {}{}",
                clean(&e.target),
                super::expiring_line(e),
                source_line(e.source.as_ref(), "    ")
            )
        })
        .collect();
    section(
        &mut out,
        &mut budget,
        "Time-boxed access",
        "text",
        &expiring,
        COLLAPSED,
    );
    let staged: Vec<String> = plan
        .staged
        .iter()
        .map(|st| {
            format!(
                "~ {}: {}{}",
                clean(&st.target),
                clean(&super::staged_line(st)),
                source_line(st.source.as_ref(), "    ")
            )
        })
        .collect();
    section(
        &mut out,
        &mut budget,
        "Staged removal",
        "text",
        &staged,
        COLLAPSED,
    );
    let missing: Vec<String> = plan
        .missing
        .iter()
        .map(|m| format!("? {}: {}", clean(&m.target), clean(&m.reason)))
        .collect();
    section(
        &mut out,
        &mut budget,
        "Missing",
        "text",
        &missing,
        COLLAPSED,
    );
    let line = |u: &crate::Unmanaged| {
        format!(
            "* {} [{}]: {}",
            clean(&u.target),
            clean(&u.id),
            clean(&u.reason)
        )
    };
    let unmanaged: Vec<String> = plan
        .unmanaged
        .iter()
        .filter(|u| !u.implicit)
        .map(line)
        .collect();
    let implicit: Vec<String> = plan
        .unmanaged
        .iter()
        .filter(|u| u.implicit)
        .map(line)
        .collect();
    section(
        &mut out,
        &mut budget,
        "Unmanaged",
        "text",
        &unmanaged,
        COLLAPSED,
    );
    section(
        &mut out,
        &mut budget,
        "Implicit workspace memberships, not drift",
        "text",
        &implicit,
        COLLAPSED,
    );
    let warnings: Vec<String> = plan.warnings.iter().map(|w| clean(w)).collect();
    section(
        &mut out,
        &mut budget,
        "Warnings",
        "text",
        &warnings,
        COLLAPSED,
    );
    let _ = writeln!(
        out,
        "\n<sub>organization {} · live state {} · manifest {}</sub>",
        code_line(&clean(&plan.organization_id)),
        code_line(&plan.live_digest),
        code_line(&clean(&plan.manifest_digest))
    );
    out
}

/// Renders a drift report.
pub(super) fn drift(report: &DriftReport, options: &MarkdownOptions) -> String {
    let mut out = String::new();
    out.push_str("### orgform drift\n\n");
    let _ = writeln!(out, "**{}**\n", drift_summary_line(report));
    if !report.is_refused() && !report.has_drift() {
        out.push_str("No drift.\n\n");
    }
    for refusal in &report.refusals {
        let _ = writeln!(
            out,
            "> **Refused:** {}\n",
            code_line(&clean(&refusal.message()))
        );
    }
    let mut budget = LIST_BUDGET;
    let errors: Vec<String> = report
        .errors
        .iter()
        .map(|e| {
            format!(
                "x {}: {}{}",
                clean(&e.target),
                clean(&e.message),
                source_line(e.source.as_ref(), "    ")
            )
        })
        .collect();
    section(
        &mut out,
        &mut budget,
        "Plan errors",
        "text",
        &errors,
        EXPANDED,
    );
    let sections = [
        (DriftCategory::Unmanaged, "Unmanaged: live, not declared"),
        (DriftCategory::Changed, "Changed: a value differs"),
        (DriftCategory::Missing, "Missing: declared, not live"),
        (
            DriftCategory::Blocked,
            "Blocked: the API cannot make the change",
        ),
        (DriftCategory::Pending, "Pending: waiting, not drift"),
    ];
    for (category, title) in sections {
        let items: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.category == category)
            .map(|f| {
                let field = finding_field(f);
                with_attribution(
                    report,
                    &f.object,
                    format!(
                        "{}{field} ({}){}",
                        clean(&f.object),
                        clean(&f.detail),
                        source_line(f.source.as_ref(), "    ")
                    ),
                )
            })
            .collect();
        section(&mut out, &mut budget, title, "text", &items, COLLAPSED);
    }
    let mut linked: Vec<(String, Option<&Source>)> = Vec::new();
    for (i, e) in report.errors.iter().enumerate() {
        linked.push((format!("plan error {}", i + 1), e.source.as_ref()));
    }
    for (i, f) in report.findings.iter().enumerate() {
        linked.push((format!("finding {}", i + 1), f.source.as_ref()));
    }
    links_section(
        &mut out,
        &mut budget,
        options.source_url_prefix.as_deref(),
        &linked,
    );
    let hygiene: Vec<String> = report
        .hygiene
        .iter()
        .map(|h| {
            let info = if h.is_drift { "" } else { " [info]" };
            with_attribution(
                report,
                &h.object,
                format!(
                    "{}: {}{info}{}",
                    clean(&h.object),
                    clean(&h.detail),
                    source_line(h.source.as_ref(), "    ")
                ),
            )
        })
        .collect();
    section(
        &mut out,
        &mut budget,
        "Hygiene",
        "text",
        &hygiene,
        COLLAPSED,
    );
    if let Some(note) = super::attribution_note(report) {
        let _ = writeln!(out, "Attribution: {}\n", code_line(&note));
    }
    let warnings: Vec<String> = report.warnings.iter().map(|w| clean(w)).collect();
    section(
        &mut out,
        &mut budget,
        "Warnings",
        "text",
        &warnings,
        COLLAPSED,
    );
    let _ = writeln!(
        out,
        "\n<sub>organization {} · live state {}</sub>",
        code_line(&clean(&report.organization_id)),
        code_line(&report.live_digest)
    );
    out
}

/// A drift item followed by its attribution lines, indented, in the same block.
fn with_attribution(report: &DriftReport, object: &str, item: String) -> String {
    let mut item = item;
    for line in super::attribution_lines(report, object) {
        item.push_str("\n    ");
        item.push_str(&line);
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_urls_are_percent_encoded_and_point_at_the_line() {
        let at = Source::at("./manifests/10 people.yaml", 42, 3);
        assert_eq!(
            source_url("https://example.invalid/acme/org/blob/abc/", &at).as_deref(),
            Some("https://example.invalid/acme/org/blob/abc/manifests/10%20people.yaml#L42")
        );
        let hostile = Source::at("a](javascript:x)`.yaml", 1, 1);
        let url = source_url("https://example.invalid", &hostile).unwrap();
        assert_eq!(
            url,
            "https://example.invalid/a%5D%28javascript%3Ax%29%60.yaml#L1"
        );
        let default = Source {
            file: None,
            line: None,
            column: None,
            setting: Some("settings.workspace_members.unmanaged".into()),
            default: true,
        };
        assert_eq!(source_url("https://example.invalid", &default), None);
    }

    #[test]
    fn fences_outgrow_backticks() {
        assert_eq!(fence_for("plain"), "```");
        assert_eq!(fence_for("a ```` b"), "`````");
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        let s = "é".repeat(10);
        let t = truncate(&s, 8);
        assert!(t.len() <= 8 && t.ends_with("..."), "{t}");
        assert_eq!(thousands(9990), "9,990");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
