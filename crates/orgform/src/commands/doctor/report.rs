//! What `orgform doctor` found, and its two renderings (text for people, JSON for machines).

use std::fmt::Write as _;

use serde_json::{Value, json};

/// Version of the JSON document's layout.
pub const DOCTOR_FORMAT: u32 = 1;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// For information.
    Ok,
    /// orgform works, but look at this.
    Warning,
    /// orgform cannot work with what it saw.
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// One line of the check list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Severity.
    pub level: Level,
    /// Which check (`key`, `organization`, `manifest`, `read`, `clock`, `permissions`).
    pub check: &'static str,
    /// What was seen, with a hint when something is to be done.
    pub message: String,
}

/// One collection: how many objects and how many list requests reading it took.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Collection {
    /// Name (`users`, `invites`, `workspaces`, `workspace_members`, `api_keys`).
    pub name: &'static str,
    /// Objects listed.
    pub count: usize,
    /// List requests (pages of up to 1,000).
    pub pages: u32,
}

/// What the API showed for one uncertain point (named like the emulator's readings).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    /// The reading's name, as in `orgform emulator --reading NAME=VALUE`.
    pub name: &'static str,
    /// The value seen; `None` when it cannot be seen without writing, or nothing showed it.
    pub value: Option<&'static str>,
    /// How it was seen, or why not.
    pub evidence: String,
}

/// The whole report.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The endpoint checked.
    pub endpoint: String,
    /// `(id, name)` from `/me`, when the key worked.
    pub organization: Option<(String, String)>,
    /// Collections read.
    pub collections: Vec<Collection>,
    /// Requests a plan makes (the reads above plus `/me`).
    pub plan_requests: u32,
    /// Seconds those take under the client's rate limit (network time excluded).
    pub plan_seconds: f64,
    /// The client's rate limit, requests per minute (`None`: off).
    pub rate_limit_per_minute: Option<u32>,
    /// The API's clock (`date` header) and its difference to the local clock, in seconds
    /// (positive: the API is ahead).
    pub clock: Option<(jiff::Timestamp, i64)>,
    /// Readings of the uncertain points.
    pub readings: Vec<Observed>,
    /// The check list.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Adds a finding.
    pub fn find(&mut self, level: Level, check: &'static str, message: impl Into<String>) {
        self.findings.push(Finding {
            level,
            check,
            message: message.into(),
        });
    }

    /// True when no finding is an error: orgform can work with what it saw.
    pub fn ok(&self) -> bool {
        self.findings.iter().all(|f| f.level != Level::Error)
    }

    /// The JSON document.
    pub fn json(&self) -> String {
        let value = json!({
            "doctor_format": DOCTOR_FORMAT,
            "ok": self.ok(),
            "endpoint": self.endpoint,
            "organization": self.organization.as_ref().map(|(id, name)| json!({"id": id, "name": name})),
            "collections": self.collections.iter().map(|c| json!({
                "name": c.name, "count": c.count, "pages": c.pages,
            })).collect::<Vec<_>>(),
            "plan": {
                "requests": self.plan_requests,
                "seconds_at_rate_limit": (self.plan_seconds * 10.0).round() / 10.0,
                "rate_limit_per_minute": self.rate_limit_per_minute,
            },
            "clock": self.clock.map(|(api, skew)| json!({
                "api": api.to_string(),
                "skew_seconds": skew,
            })),
            "readings": self.readings.iter().map(|r| json!({
                "name": r.name, "observed": r.value, "evidence": r.evidence,
            })).collect::<Vec<_>>(),
            "findings": self.findings.iter().map(|f| json!({
                "level": f.level.as_str(), "check": f.check, "message": f.message,
            })).collect::<Vec<_>>(),
        });
        let mut text =
            serde_json::to_string_pretty(&value).unwrap_or_else(|_| Value::Null.to_string());
        text.push('\n');
        text
    }

    /// The text report.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "orgform doctor: {}", self.endpoint);
        if let Some((id, name)) = &self.organization {
            let _ = writeln!(out, "organization: {name} ({id})");
        }
        out.push('\n');
        for f in &self.findings {
            let mark = match f.level {
                Level::Ok => "ok  ",
                Level::Warning => "warn",
                Level::Error => "FAIL",
            };
            let _ = writeln!(out, "[{mark}] {}: {}", f.check, f.message);
        }
        if !self.collections.is_empty() {
            out.push_str("\nWhat a plan reads:\n");
            for c in &self.collections {
                let _ = writeln!(
                    out,
                    "  {:<18} {:>7} in {} page{}",
                    c.name,
                    c.count,
                    c.pages,
                    if c.pages == 1 { "" } else { "s" }
                );
            }
            let limit = self.rate_limit_per_minute.map_or_else(
                || "no client rate limit".to_owned(),
                |n| format!("{n} requests/min"),
            );
            let _ = writeln!(
                out,
                "  {} requests, about {:.1} s under {limit} (plus network time)",
                self.plan_requests, self.plan_seconds
            );
        }
        if !self.readings.is_empty() {
            out.push_str("\nHow this API reads the points its documentation leaves open:\n");
            for r in &self.readings {
                let _ = writeln!(
                    out,
                    "  {:<22} {:<20} {}",
                    r.name,
                    r.value.unwrap_or("(not seen)"),
                    r.evidence
                );
            }
        }
        out.push('\n');
        out.push_str(if self.ok() {
            "orgform can work with this organization.\n"
        } else {
            "orgform cannot work with this organization yet: fix the FAIL lines above.\n"
        });
        out
    }
}
