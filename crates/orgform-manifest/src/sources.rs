//! Provenance: where each entry, field and setting of a loaded manifest was written, so that
//! every planned action, blocked item and plan error can name the file and line that require
//! it.
//!
//! [`Sources`] is filled by [`crate::load`] from the same located tree the diagnostics use;
//! a fragment of a directory manifest is named as such. A manifest built in code or read
//! with plain serde has empty sources, and the planner then cites nothing. Where a value was
//! written is not part of what the manifest says: two manifests that differ only in layout
//! compare equal.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::load::{Fragment, Origins};
use crate::yaml::{Doc, Kind, Node};

/// How deep inside one entry (or `settings`) keys are recorded: `members.<email>.expires` of
/// a workspace entry is three levels down.
const FIELD_DEPTH: usize = 3;

/// Where a planned item comes from: a place in a manifest file, the setting that causes it,
/// or both. In JSON: `{file, line, column}`, plus `setting` for a setting, plus
/// `default: true` (and no place) for a setting that is not written and applies its default.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Source {
    /// The file as named on the command line; for a directory manifest, the fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// 1-based column (characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// The setting that causes the item (e.g. `settings.members.unmanaged`), when it is a
    /// setting rather than an entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setting: Option<String>,
    /// The setting is not written: its default applies.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub default: bool,
}

impl Source {
    /// A place in a file.
    pub fn at(file: impl Into<String>, line: u32, column: u32) -> Self {
        Self {
            file: Some(file.into()),
            line: Some(line),
            column: Some(column),
            setting: None,
            default: false,
        }
    }

    /// `file:line`, when the source has a place.
    pub fn place(&self) -> Option<String> {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => Some(format!("{file}:{line}")),
            _ => None,
        }
    }
}

impl fmt::Display for Source {
    /// `org.yaml:42`, `org.yaml:7 (settings.members.unmanaged)` or
    /// `settings.workspace_members.unmanaged (default)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.place(), &self.setting) {
            (Some(place), Some(setting)) => write!(f, "{place} ({setting})"),
            (Some(place), None) => f.write_str(&place),
            (None, Some(setting)) if self.default => write!(f, "{setting} (default)"),
            (None, Some(setting)) => f.write_str(setting),
            (None, None) => f.write_str("(unknown)"),
        }
    }
}

/// One located entry: where it starts, and where each of its keys is.
#[derive(Clone, Debug, Default)]
struct Entry {
    at: Option<Source>,
    fields: BTreeMap<String, Source>,
}

impl Entry {
    fn field(&self, path: &str) -> Option<Source> {
        self.fields.get(path).or(self.at.as_ref()).cloned()
    }
}

/// Where the entries of a loaded manifest were written, by their position in the merged
/// lists of [`crate::Manifest`].
#[derive(Clone, Debug, Default)]
pub struct Sources {
    members: Vec<Entry>,
    workspaces: Vec<Entry>,
    api_keys: Vec<Entry>,
    issuers: Vec<Entry>,
    rules: Vec<Entry>,
    /// Keys under `settings`, by dotted path (`members.unmanaged`).
    settings: BTreeMap<String, Source>,
    /// Filled by loading (else the manifest was built in code and cites nothing).
    loaded: bool,
}

impl PartialEq for Sources {
    /// Always equal: where values were written is not part of what a manifest says.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Sources {}

impl Sources {
    /// Where `members[index]` starts.
    pub fn member(&self, index: usize) -> Option<Source> {
        self.members.get(index).and_then(|e| e.at.clone())
    }

    /// Where `members[index].<path>` is written (dotted path), else the entry.
    pub fn member_field(&self, index: usize, path: &str) -> Option<Source> {
        self.members.get(index).and_then(|e| e.field(path))
    }

    /// Where `workspaces[index]` starts.
    pub fn workspace(&self, index: usize) -> Option<Source> {
        self.workspaces.get(index).and_then(|e| e.at.clone())
    }

    /// Where `workspaces[index].<path>` is written (e.g. `members.alice@acme.example`, the
    /// email as written), else the entry.
    pub fn workspace_field(&self, index: usize, path: &str) -> Option<Source> {
        self.workspaces.get(index).and_then(|e| e.field(path))
    }

    /// Where `api_keys[index]` starts.
    pub fn api_key(&self, index: usize) -> Option<Source> {
        self.api_keys.get(index).and_then(|e| e.at.clone())
    }

    /// Where `api_keys[index].<path>` is written, else the entry.
    pub fn api_key_field(&self, index: usize, path: &str) -> Option<Source> {
        self.api_keys.get(index).and_then(|e| e.field(path))
    }

    /// Where `federation.issuers[index]` starts.
    pub fn issuer(&self, index: usize) -> Option<Source> {
        self.issuers.get(index).and_then(|e| e.at.clone())
    }

    /// Where `federation.rules[index]` starts.
    pub fn rule(&self, index: usize) -> Option<Source> {
        self.rules.get(index).and_then(|e| e.at.clone())
    }

    /// Where `federation.rules[index].<path>` is written, else the entry.
    pub fn rule_field(&self, index: usize, path: &str) -> Option<Source> {
        self.rules.get(index).and_then(|e| e.field(path))
    }

    /// The setting `settings.<path>` as a source: where it is written, or its default. A
    /// manifest without sources (built in code) gives `None`.
    pub fn setting(&self, path: &str) -> Option<Source> {
        if self.is_empty() {
            return None;
        }
        let name = format!("settings.{path}");
        Some(match self.settings.get(path) {
            Some(at) => Source {
                setting: Some(name),
                ..at.clone()
            },
            None => Source {
                file: None,
                line: None,
                column: None,
                setting: Some(name),
                default: true,
            },
        })
    }

    /// Whether nothing is recorded (a manifest built in code, not loaded from files).
    pub fn is_empty(&self) -> bool {
        !self.loaded
    }
}

/// The sources of a merged manifest, from its fragments and where each entry came from.
pub(crate) fn collect(fragments: &[Fragment], origins: &Origins) -> Sources {
    let list = |name: &str, origins: &[(usize, usize)]| -> Vec<Entry> {
        origins
            .iter()
            .map(|&(fragment, index)| {
                let f = &fragments[fragment];
                let node = top(f, name).and_then(|l| l.item(index));
                node.map(|n| entry(f, n)).unwrap_or_default()
            })
            .collect()
    };
    let federation = |name: &str, origins: &[(usize, usize)]| -> Vec<Entry> {
        origins
            .iter()
            .map(|&(fragment, index)| {
                let f = &fragments[fragment];
                let node = top(f, "federation")
                    .and_then(|n| n.get(name))
                    .map(|l| f.doc.resolve(l))
                    .and_then(|l| l.item(index));
                node.map(|n| entry(f, n)).unwrap_or_default()
            })
            .collect()
    };
    let mut settings = BTreeMap::new();
    if let Some(index) = origins.settings {
        let f = &fragments[index];
        if let Some(node) = top(f, "settings") {
            fields(f, node, "", 1, &mut settings);
        }
    }
    Sources {
        members: list("members", &origins.members),
        workspaces: list("workspaces", &origins.workspaces),
        api_keys: list("api_keys", &origins.api_keys),
        issuers: federation("issuers", &origins.issuers),
        rules: federation("rules", &origins.rules),
        settings,
        loaded: true,
    }
}

fn top<'a>(fragment: &'a Fragment, key: &str) -> Option<&'a Node> {
    let doc = &fragment.doc;
    doc.root
        .as_ref()
        .and_then(|r| doc.resolve(r).get(key))
        .map(|n| doc.resolve(n))
}

fn source(fragment: &Fragment, node: &Node) -> Source {
    let (line, column) = fragment.file.line_col(node.span.start);
    Source::at(
        fragment.file.name.clone(),
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

fn entry(fragment: &Fragment, node: &Node) -> Entry {
    let node = fragment.doc.resolve(node);
    let mut out = Entry {
        at: Some(source(fragment, node)),
        fields: BTreeMap::new(),
    };
    fields(fragment, node, "", 1, &mut out.fields);
    out
}

/// Records the place of every key of the mapping `node` (and of mappings inside it, down to
/// [`FIELD_DEPTH`] levels) under its dotted path; the first of repeated keys wins, as when
/// the values are read. Aliased values are followed once (the shape check bounded them).
fn fields(
    fragment: &Fragment,
    node: &Node,
    prefix: &str,
    depth: usize,
    out: &mut BTreeMap<String, Source>,
) {
    let doc: &Doc = &fragment.doc;
    let Kind::Map(entries) = &doc.resolve(node).kind else {
        return;
    };
    for (key, value) in entries {
        let Some(name) = key.scalar() else { continue };
        let path = if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}.{name}")
        };
        if out.contains_key(&path) {
            continue;
        }
        out.insert(path.clone(), source(fragment, key));
        if depth < FIELD_DEPTH {
            fields(fragment, value, &path, depth + 1, out);
        }
    }
}
