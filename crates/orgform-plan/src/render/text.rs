//! The terminal rendering.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};

use super::{
    clean, drift_summary_line, field_line, finding_field, flags, summary_line, value, verb,
};
use crate::DriftCategory;
use crate::drift::DriftReport;
use crate::types::{ChangeKind, PendingKind, Plan};
use orgform_manifest::Source;

struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_owned()
        }
    }

    fn fg(&self, color: AnsiColor, text: &str) -> String {
        self.paint(Style::new().fg_color(Some(color.into())), text)
    }

    fn bold(&self, text: &str) -> String {
        self.paint(Style::new().bold(), text)
    }

    /// `  org.yaml:42`, dimmed: where the manifest asks for an item (empty without one).
    fn source(&self, source: Option<&Source>) -> String {
        source.map_or_else(String::new, |at| {
            format!(
                "  {}",
                self.paint(Style::new().dimmed(), &clean(&at.to_string()))
            )
        })
    }
}

fn kind_color(kind: ChangeKind) -> AnsiColor {
    match kind {
        ChangeKind::Add => AnsiColor::Green,
        ChangeKind::Change => AnsiColor::Yellow,
        ChangeKind::Remove => AnsiColor::Red,
        ChangeKind::Replace => AnsiColor::Magenta,
    }
}

/// The first 12 hex digits of a `sha256:` digest, as `git` shortens commit ids: enough to
/// tell two reads apart in a header (the JSON carries the whole digest).
fn short_digest(digest: &str) -> String {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    clean(hex.get(..12).unwrap_or(hex))
}

/// Renders a plan.
pub(super) fn plan(plan: &Plan, color: bool) -> String {
    let p = Painter { color };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "orgform plan for organization {} (live state {})",
        clean(&plan.organization_id),
        short_digest(&plan.live_digest)
    );
    for refusal in &plan.refusals {
        let _ = writeln!(
            out,
            "\n{} {}",
            p.fg(AnsiColor::Red, "Refused:"),
            clean(&refusal.message())
        );
    }
    if !plan.errors.is_empty() {
        let _ = writeln!(
            out,
            "\n{} the manifest cannot be matched to the live organization; nothing is planned.",
            p.fg(
                AnsiColor::Red,
                &format!("Plan errors ({}):", plan.errors.len())
            )
        );
        for e in &plan.errors {
            let _ = writeln!(
                out,
                "  x {}: {}{}",
                clean(&e.target),
                clean(&e.message),
                p.source(e.source.as_ref())
            );
            if let Some(hint) = &e.hint {
                let _ = writeln!(out, "      hint: {}", clean(hint));
            }
        }
    }
    if !plan.actions.is_empty() {
        out.push_str("\norgform will perform the following actions, in this order:\n\n");
    }
    for action in &plan.actions {
        let kind = action.kind();
        let symbol = format!("{:>3}", kind.symbol());
        let mark = if action.irreversible {
            p.fg(AnsiColor::Red, "!")
        } else {
            " ".to_owned()
        };
        let _ = writeln!(
            out,
            "{}{mark} [{}] {} {}{}{}",
            p.fg(kind_color(kind), &symbol),
            action.id,
            verb(action),
            p.bold(&clean(&action.target)),
            flags(action),
            p.source(action.source.as_ref())
        );
        for change in &action.changes {
            let _ = writeln!(out, "        {}", field_line(change));
        }
        for consequence in &action.consequences {
            let _ = writeln!(out, "        consequence: {}", clean(consequence));
        }
        if !action.depends_on.is_empty() {
            let ids: Vec<String> = action.depends_on.iter().map(|d| format!("[{d}]")).collect();
            let _ = writeln!(out, "        depends on: {}", ids.join(", "));
        }
    }
    out.push('\n');
    if plan.actions.is_empty() {
        out.push_str("No changes.\n");
    }
    let _ = writeln!(out, "{}", p.bold(&summary_line(&plan.summary)));
    if !plan.blocked.is_empty() {
        let _ = writeln!(
            out,
            "\n{} orgform cannot make these changes; a person must act:",
            p.fg(
                AnsiColor::Red,
                &format!("Blocked ({}):", plan.blocked.len())
            )
        );
        for b in &plan.blocked {
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
            let _ = writeln!(
                out,
                "  # {}{field}{}",
                clean(&b.target),
                p.source(b.source.as_ref())
            );
            let _ = writeln!(out, "      why: {}", clean(&b.reason));
            let _ = writeln!(out, "      what to do: {}", clean(&b.remedy));
        }
    }
    if !plan.deferred.is_empty() {
        let _ = writeln!(
            out,
            "\nDeferred ({}): not executed now, planned again on a later run:",
            plan.deferred.len()
        );
        for d in &plan.deferred {
            let waits = d
                .waits_for_action
                .map(|id| format!(" (after action [{id}])"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  > {}: {}; {}{waits}",
                clean(&d.target),
                d.role,
                clean(&d.reason)
            );
        }
    }
    if !plan.pending.is_empty() {
        let _ = writeln!(out, "\nInvites waiting ({}):", plan.pending.len());
        for pending in &plan.pending {
            let state = match pending.kind {
                PendingKind::InvitePending => "pending until",
                PendingKind::InviteExpired => "expired at (not re-issued)",
            };
            let _ = writeln!(
                out,
                "  . invite {} ({}, {}): {state} {}",
                clean(&pending.email),
                pending.role,
                clean(&pending.invite_id),
                pending.expires_at
            );
        }
    }
    if !plan.expiring.is_empty() {
        let _ = writeln!(
            out,
            "\nTime-boxed access ({}): in force through the end of the day, UTC:",
            plan.expiring.len()
        );
        for e in &plan.expiring {
            let _ = writeln!(
                out,
                "  ~ {}: {}{}",
                clean(&e.target),
                super::expiring_line(e),
                p.source(e.source.as_ref())
            );
        }
    }
    if !plan.staged.is_empty() {
        let _ = writeln!(
            out,
            "\nStaged removal ({}): settings.members.removal: staged:",
            plan.staged.len()
        );
        for st in &plan.staged {
            let _ = writeln!(
                out,
                "  ~ {}: {}{}",
                clean(&st.target),
                clean(&super::staged_line(st)),
                p.source(st.source.as_ref())
            );
        }
    }
    if !plan.missing.is_empty() {
        let _ = writeln!(
            out,
            "\nMissing ({}): declared, not live:",
            plan.missing.len()
        );
        for m in &plan.missing {
            let _ = writeln!(out, "  ? {}: {}", clean(&m.target), clean(&m.reason));
        }
    }
    // Implicit workspace memberships are not unmanaged objects: they get their own list.
    let (implicit, unmanaged): (Vec<_>, Vec<_>) = plan.unmanaged.iter().partition(|u| u.implicit);
    for (items, heading) in [
        (
            unmanaged,
            "Unmanaged ({}): live, not declared, reported only:",
        ),
        (
            implicit,
            "Implicit ({}): workspace memberships that come with an org role, for information:",
        ),
    ] {
        if items.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{}", heading.replace("{}", &items.len().to_string()));
        for u in items {
            // The id is shown once: some targets already name it.
            let id = if u.target.contains(&u.id) {
                String::new()
            } else {
                format!(" [{}]", clean(&u.id))
            };
            let _ = writeln!(out, "  * {}{id}: {}", clean(&u.target), clean(&u.reason));
        }
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(out, "\n{}", p.fg(AnsiColor::Yellow, "Warnings:"));
        for w in &plan.warnings {
            let _ = writeln!(out, "  - {}", clean(w));
        }
    }
    out
}

/// Renders a drift report.
pub(super) fn drift(report: &DriftReport, color: bool) -> String {
    let p = Painter { color };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "orgform drift for organization {} (live state {})",
        clean(&report.organization_id),
        short_digest(&report.live_digest)
    );
    for refusal in &report.refusals {
        let _ = writeln!(
            out,
            "\n{} {}",
            p.fg(AnsiColor::Red, "Refused:"),
            clean(&refusal.message())
        );
    }
    if !report.errors.is_empty() {
        let _ = writeln!(
            out,
            "\n{} the manifest cannot be matched to the live organization.",
            p.fg(
                AnsiColor::Red,
                &format!("Plan errors ({}):", report.errors.len())
            )
        );
        for e in &report.errors {
            let _ = writeln!(
                out,
                "  x {}: {}{}",
                clean(&e.target),
                clean(&e.message),
                p.source(e.source.as_ref())
            );
            if let Some(hint) = &e.hint {
                let _ = writeln!(out, "      hint: {}", clean(hint));
            }
        }
    }
    let sections = [
        (DriftCategory::Unmanaged, "Unmanaged", "live, not declared"),
        (DriftCategory::Changed, "Changed", "a value differs"),
        (DriftCategory::Missing, "Missing", "declared, not live"),
        (
            DriftCategory::Blocked,
            "Blocked",
            "the API cannot make the change",
        ),
        (DriftCategory::Pending, "Pending", "waiting; not drift"),
    ];
    for (category, title, meaning) in sections {
        let items: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.category == category)
            .collect();
        if items.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "\n{} {meaning}:",
            p.bold(&format!("{title} ({}):", items.len()))
        );
        let mut attributed = std::collections::BTreeSet::new();
        for f in items {
            let field = finding_field(f);
            let _ = writeln!(
                out,
                "  {}{field} ({}){}",
                clean(&f.object),
                clean(&f.detail),
                p.source(f.source.as_ref())
            );
            if attributed.insert(f.object.as_str()) {
                for line in super::attribution_lines(report, &f.object) {
                    let _ = writeln!(out, "      {}", p.paint(Style::new().dimmed(), &line));
                }
            }
        }
    }
    if !report.hygiene.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            p.bold(&format!("Hygiene ({}):", report.hygiene.len()))
        );
        for h in &report.hygiene {
            let info = if h.is_drift { "" } else { " [info]" };
            let _ = writeln!(
                out,
                "  {}: {}{info}{}",
                clean(&h.object),
                clean(&h.detail),
                p.source(h.source.as_ref())
            );
            for line in super::attribution_lines(report, &h.object) {
                let _ = writeln!(out, "      {}", p.paint(Style::new().dimmed(), &line));
            }
        }
    }
    if let Some(note) = super::attribution_note(report) {
        let _ = writeln!(out, "\nAttribution: {note}");
    }
    if !report.warnings.is_empty() {
        let _ = writeln!(out, "\n{}", p.fg(AnsiColor::Yellow, "Warnings:"));
        for w in &report.warnings {
            let _ = writeln!(out, "  - {}", clean(w));
        }
    }
    out.push('\n');
    if !report.is_refused() && !report.has_drift() {
        out.push_str("No drift.\n");
    }
    let _ = writeln!(out, "{}", p.bold(&drift_summary_line(report)));
    out
}
