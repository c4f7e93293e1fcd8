//! Loading: one file or a directory of fragments -> a merged, validated [`Manifest`].
//!
//! Each fragment goes through two readers of the same text. serde-saphyr builds the typed
//! values (duplicate keys refused, aliases bounded by its replay limits); a located tree of the
//! parser's events ([`crate::yaml`]) gives every key and value its span, finds every unknown
//! or repeated key in one pass and lets the semantic checks point at exact places. When both
//! readers report a problem on the same line, only the located one is kept.
//!
//! Directory manifests: every `*.yaml`/`*.yml` file directly inside (not recursive), sorted by
//! file name; exactly one holds `version` and `organization`; lists are concatenated in that
//! order; `settings` may appear once. The digest covers each fragment's file name and raw
//! bytes in order, so renaming or reordering fragments changes it, and the directory's own
//! path does not.

use std::path::{Path, PathBuf};

use orgform_model::sha256_hex;
use serde::Deserialize;

use crate::diag::{ManifestError, Problem, SourceFile};
use crate::shape::check_shape;
use crate::types::{ApiKeySpec, Manifest, MemberSpec, OrganizationSpec, Settings, WorkspaceSpec};
use crate::validate::validate;
use crate::yaml::Doc;

/// A manifest that loaded and validated, with its warnings and digest.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The merged manifest.
    pub manifest: Manifest,
    /// Problems that do not stop a run (printed by every command that loads the manifest).
    pub warnings: Vec<Problem>,
    /// `sha256:<hex>` over the fragments' file names and raw bytes, in order.
    pub digest: String,
    /// The files read, in order, as displayed.
    pub files: Vec<String>,
}

/// One fragment as read from disk or given as text.
pub(crate) struct Fragment {
    pub(crate) file: SourceFile,
    pub(crate) doc: Doc,
    pub(crate) raw: RawFragment,
}

/// The typed content of one fragment.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFragment {
    #[serde(default)]
    pub(crate) version: Option<u32>,
    #[serde(default)]
    pub(crate) organization: Option<OrganizationSpec>,
    #[serde(default)]
    pub(crate) settings: Option<Settings>,
    #[serde(default)]
    pub(crate) members: Option<Vec<MemberSpec>>,
    #[serde(default)]
    pub(crate) workspaces: Option<Vec<WorkspaceSpec>>,
    #[serde(default)]
    pub(crate) api_keys: Option<Vec<ApiKeySpec>>,
}

/// Where each merged list entry came from: (fragment index, index in that fragment's list).
#[derive(Debug, Default)]
pub(crate) struct Origins {
    pub(crate) head: usize,
    pub(crate) settings: Option<usize>,
    pub(crate) members: Vec<(usize, usize)>,
    pub(crate) workspaces: Vec<(usize, usize)>,
    pub(crate) api_keys: Vec<(usize, usize)>,
}

/// Reads and validates the manifest at `path` (a file or a directory of fragments).
pub fn load(path: &Path) -> Result<Loaded, ManifestError> {
    let files = list_files(path).map_err(|p| ManifestError::unreadable(vec![*p]))?;
    let mut sources = Vec::new();
    let mut problems = Vec::new();
    for (display, file) in files {
        match std::fs::read(&file) {
            Ok(bytes) => sources.push((display, bytes)),
            Err(err) => problems.push(
                Problem::error(
                    "orgform::unreadable",
                    format!("cannot read `{display}`: {}", io_reason(&err)),
                )
                .help("check the path and its permissions"),
            ),
        }
    }
    if !problems.is_empty() {
        return Err(ManifestError::unreadable(problems));
    }
    load_sources(&sources)
}

/// Validates a manifest given as text; `name` is the file name shown in diagnostics.
pub fn load_str(name: &str, text: &str) -> Result<Loaded, ManifestError> {
    load_sources(&[(name.to_owned(), text.as_bytes().to_vec())])
}

fn io_reason(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => err.to_string().to_lowercase(),
    }
}

/// The fragment files of `path`, as (display name, path).
fn list_files(path: &Path) -> Result<Vec<(String, PathBuf)>, Box<Problem>> {
    let display = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|err| {
        Box::new(Problem::error(
            "orgform::manifest_not_found",
            format!("cannot read the manifest `{display}`: {}", io_reason(&err)),
        )
        .help("pass the manifest with `-f PATH` (a file, or a directory of *.yaml fragments); the default is `org.yaml` in the current directory"))
    })?;
    if !meta.is_dir() {
        return Ok(vec![(display, path.to_path_buf())]);
    }
    let entries = std::fs::read_dir(path).map_err(|err| {
        Box::new(Problem::error(
            "orgform::unreadable",
            format!("cannot list the directory `{display}`: {}", io_reason(&err)),
        ))
    })?;
    let mut files: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file()) // follows symlinks; sub-directories are skipped
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let is_yaml = Path::new(&name)
                .extension()
                .is_some_and(|ext| ext == "yaml" || ext == "yml");
            is_yaml.then(|| (name, e.path()))
        })
        .collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    if files.is_empty() {
        return Err(Box::new(
            Problem::error(
                "orgform::empty_directory",
                format!("the directory `{display}` holds no *.yaml or *.yml file"),
            )
            .help("a directory manifest is made of the *.yaml/*.yml files directly inside it"),
        ));
    }
    Ok(files
        .into_iter()
        .map(|(name, file)| (path.join(&name).display().to_string(), file))
        .collect())
}

/// The digest of the fragments: for each, its file name, its length and its bytes.
fn digest(sources: &[(String, Vec<u8>)]) -> String {
    let mut buffer = Vec::new();
    for (name, bytes) in sources {
        let base = Path::new(name)
            .file_name()
            .map_or_else(|| name.clone(), |n| n.to_string_lossy().into_owned());
        buffer.extend_from_slice(base.as_bytes());
        buffer.push(b'\n');
        buffer.extend_from_slice(bytes.len().to_string().as_bytes());
        buffer.push(b'\n');
        buffer.extend_from_slice(bytes);
    }
    sha256_hex(&buffer)
}

fn load_sources(sources: &[(String, Vec<u8>)]) -> Result<Loaded, ManifestError> {
    let mut problems = Vec::new();
    let mut fragments = Vec::new();
    for (name, bytes) in sources {
        if let Some(fragment) = read_fragment(name, bytes, &mut problems) {
            fragments.push(fragment);
        }
    }
    if problems.iter().any(Problem::is_error) || fragments.len() < sources.len() {
        return Err(ManifestError::new(problems));
    }
    let Some((manifest, origins)) = merge(&mut fragments, &mut problems) else {
        return Err(ManifestError::new(problems));
    };
    validate(&manifest, &fragments, &origins, &mut problems);
    if problems.iter().any(Problem::is_error) {
        return Err(ManifestError::new(problems));
    }
    Ok(Loaded {
        manifest,
        warnings: problems,
        digest: digest(sources),
        files: sources.iter().map(|(n, _)| n.clone()).collect(),
    })
}

/// Parses one fragment; problems go to `problems`, and `None` means it could not be used.
fn read_fragment(name: &str, bytes: &[u8], problems: &mut Vec<Problem>) -> Option<Fragment> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => {
            let valid = String::from_utf8_lossy(&bytes[..err.valid_up_to()]).into_owned();
            let file = SourceFile::new(name, valid);
            problems.push(
                Problem::error("orgform::not_utf8", {
                    let (line, column) = file.line_col(err.valid_up_to());
                    format!(
                        "`{name}` is not UTF-8 text (invalid byte at line {line}, column {column})"
                    )
                })
                .help("save the file as UTF-8"),
            );
            return None;
        }
    };
    let file = SourceFile::new(name, text);
    let doc = match Doc::parse(text) {
        Ok(doc) => doc,
        Err(failure) => {
            problems.push(
                Problem::error(
                    "orgform::yaml_syntax",
                    format!("invalid YAML: {}", failure.message),
                )
                .at(&file, failure.offset..failure.offset, "here"),
            );
            return None;
        }
    };
    let Some(root) = doc.root.as_ref().filter(|r| !r.is_null()) else {
        problems.push(
            Problem::error("orgform::empty_file", format!("`{name}` is empty"))
                .help("a manifest starts with `version: 1` and `organization:`; remove the file if it is not part of the manifest"),
        );
        return None;
    };
    let before = problems.len();
    if !check_shape(&doc, root, &file, problems) {
        return None;
    }
    let raw = match serde_saphyr::from_str_with_options::<RawFragment>(text, yaml_options()) {
        Ok(raw) => raw,
        Err(err) => {
            let offset = err
                .location()
                .and_then(|l| l.span().byte_offset())
                .and_then(|o| usize::try_from(o).ok());
            let line = offset.map(|o| file.line_col(o).0);
            let already = problems[before..]
                .iter()
                .any(|p| p.location.as_ref().map(|l| l.line) == line || line.is_none());
            if !already {
                let mut problem = Problem::error("orgform::yaml", strip_location(&err.to_string()));
                if let Some(offset) = offset {
                    problem = problem.at(&file, offset..offset, "here");
                }
                problems.push(problem);
            } else if problems.len() == before {
                problems.push(Problem::error(
                    "orgform::yaml",
                    strip_location(&err.to_string()),
                ));
            }
            return None;
        }
    };
    if problems[before..].iter().any(Problem::is_error) {
        return None;
    }
    Some(Fragment { file, doc, raw })
}

/// serde-saphyr messages carry the place (`error: line 1 column 10: ...` or `... at line 1
/// column 10`); diagnostics show it themselves.
fn strip_location(message: &str) -> String {
    let mut message = message.lines().next().unwrap_or(message).trim();
    message = message.strip_prefix("error: ").unwrap_or(message);
    if let Some(rest) = message.strip_prefix("line ")
        && let Some((place, text)) = rest.split_once(": ")
        && place
            .split(" column ")
            .all(|n| n.chars().all(|c| c.is_ascii_digit()))
    {
        message = text;
    }
    if let Some(index) = message.rfind(" at line ") {
        message = &message[..index];
    }
    message.trim_end_matches('.').to_owned()
}

/// The reader's limits: duplicate keys refused, aliases allowed but bounded.
pub(crate) fn yaml_options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    let mut budget = serde_saphyr::Budget::default();
    budget.max_aliases = 10_000;
    budget.max_anchors = 10_000;
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = 200_000;
    options.alias_limits.max_replay_stack_depth = 16;
    options
}

/// Merges the fragments; `None` when there is no complete manifest to validate.
fn merge(fragments: &mut [Fragment], problems: &mut Vec<Problem>) -> Option<(Manifest, Origins)> {
    let mut origins = Origins::default();
    let mut head: Option<usize> = None;
    let mut blocked = false;
    for (index, fragment) in fragments.iter().enumerate() {
        let has_head = fragment.raw.version.is_some() || fragment.raw.organization.is_some();
        if !has_head {
            continue;
        }
        if let Some(first) = head {
            let here = key_span(fragment, "organization").or_else(|| key_span(fragment, "version"));
            let there = key_span(&fragments[first], "organization")
                .or_else(|| key_span(&fragments[first], "version"));
            let first_raw = &fragments[first].raw;
            let split = (first_raw.version.is_some() != first_raw.organization.is_some())
                && (fragment.raw.version.is_some() != fragment.raw.organization.is_some())
                && first_raw.version.is_some() != fragment.raw.version.is_some();
            let mut problem = Problem::error(
                "orgform::duplicate_head",
                if split {
                    "`version` and `organization` are split across fragments"
                } else {
                    "`version`/`organization` declared in more than one fragment"
                },
            );
            if let Some(span) = here {
                problem = problem.at(&fragment.file, span, "declared again here");
            }
            if let Some(span) = there {
                problem = problem.help(format!(
                    "first declared at {}; keep them in exactly one fragment",
                    fragments[first].file.place(span.start)
                ));
            }
            problems.push(problem);
            blocked = true;
        } else {
            head = Some(index);
        }
    }
    let Some(head) = head else {
        let names: Vec<&str> = fragments.iter().map(|f| f.file.name.as_str()).collect();
        problems.push(
            Problem::error(
                "orgform::missing_head",
                format!("no `version` and `organization` in {}", names.join(", ")),
            )
            .help("one file (or one fragment of a directory) starts with `version: 1` and `organization: { id: ... }`"),
        );
        return None;
    };
    origins.head = head;
    let (version, organization) = {
        let raw = &fragments[head].raw;
        let mut missing = Vec::new();
        if raw.version.is_none() {
            missing.push("version");
        }
        if raw.organization.is_none() {
            missing.push("organization");
        }
        if !missing.is_empty() {
            let mut problem = Problem::error(
                "orgform::missing_head",
                format!(
                    "missing `{}` in `{}`",
                    missing.join("` and `"),
                    fragments[head].file.name
                ),
            )
            .help("the fragment that holds `version` also holds `organization`");
            if let Some(root) = fragments[head].doc.root.as_ref() {
                problem = problem.at(&fragments[head].file, root.span.start..root.span.start, "");
            }
            problems.push(problem);
            return None;
        }
        (raw.version?, raw.organization.clone()?)
    };
    let mut settings = None;
    for (index, fragment) in fragments.iter().enumerate() {
        if fragment.raw.settings.is_none() {
            continue;
        }
        if let Some(first) = origins.settings {
            let mut problem = Problem::error(
                "orgform::duplicate_settings",
                "`settings` declared in more than one fragment",
            );
            if let Some(span) = key_span(fragment, "settings") {
                problem = problem.at(&fragment.file, span, "declared again here");
            }
            if let Some(span) = key_span(&fragments[first], "settings") {
                problem = problem.help(format!(
                    "first declared at {}; keep `settings` in one fragment",
                    fragments[first].file.place(span.start)
                ));
            }
            problems.push(problem);
            blocked = true;
        } else {
            origins.settings = Some(index);
            settings.clone_from(&fragment.raw.settings);
        }
    }
    if blocked {
        return None;
    }
    let mut manifest = Manifest {
        version,
        organization,
        settings: settings.unwrap_or_default(),
        members: Vec::new(),
        workspaces: Vec::new(),
        api_keys: Vec::new(),
    };
    for (index, fragment) in fragments.iter_mut().enumerate() {
        for (i, member) in fragment
            .raw
            .members
            .take()
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            manifest.members.push(member);
            origins.members.push((index, i));
        }
        for (i, ws) in fragment
            .raw
            .workspaces
            .take()
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            manifest.workspaces.push(ws);
            origins.workspaces.push((index, i));
        }
        for (i, key) in fragment
            .raw
            .api_keys
            .take()
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            manifest.api_keys.push(key);
            origins.api_keys.push((index, i));
        }
    }
    Some((manifest, origins))
}

/// The span of a top-level key of a fragment.
pub(crate) fn key_span(fragment: &Fragment, key: &str) -> Option<std::ops::Range<usize>> {
    fragment
        .doc
        .root
        .as_ref()
        .and_then(|r| r.entry(key))
        .map(|(k, _)| k.span.clone())
}
