//! Loading: one file or a directory of fragments -> a merged, validated [`Manifest`].
//!
//! Each fragment is parsed once into a located tree ([`crate::yaml`]). The shape check walks
//! it and reports every unknown or repeated key and every misspelt closed value; the typed
//! values are then read from the same tree ([`crate::de`]) entry by entry, so a problem in
//! one entry (an unknown key, a value of the wrong type) never stops the others from being
//! read, nor the semantic checks of everything that could be read. A fragment that cannot be
//! parsed at all (not UTF-8, invalid YAML, empty, an alias bomb) leaves the others checked:
//! the checks that would need it (a missing head, undeclared workspace members) are skipped.
//!
//! Directory manifests: every `*.yaml`/`*.yml` file directly inside (not recursive), sorted by
//! file name; exactly one holds `version` and `organization`; lists are concatenated in that
//! order; `settings` may appear once. The digest covers each fragment's file name and raw
//! bytes in order, so renaming or reordering fragments changes it, and the directory's own
//! path does not.

use std::collections::HashSet;
use std::ops::Range;
use std::path::{Path, PathBuf};

use orgform_model::{normalize_email, sha256_hex};

use crate::de::{DeError, Reader, What, map_entries};
use crate::diag::{ManifestError, Problem, SourceFile};
use crate::federation::{FederationSpec, IssuerSpec, RuleSpec};
use crate::shape::{alias_bomb, check_shape, type_hint};
use crate::suggest::closest;
use crate::types::{
    ApiKeySpec, Manifest, MemberSpec, OrganizationSpec, Platform, Settings, WorkspaceSpec,
};
use crate::validate::validate;
use crate::yaml::{ALIAS_BUDGET, Doc, Kind, Node};

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

/// A top-level value of a fragment.
#[derive(Debug, Default)]
pub(crate) enum Part<T> {
    /// Not written (or null).
    #[default]
    Absent,
    /// Written, but not readable (already reported).
    Unreadable,
    /// Read.
    Read(T),
}

impl<T> Part<T> {
    fn is_absent(&self) -> bool {
        matches!(self, Self::Absent)
    }

    fn read(&self) -> Option<&T> {
        match self {
            Self::Read(value) => Some(value),
            _ => None,
        }
    }
}

/// The typed content of one fragment: what could be read of it.
#[derive(Debug, Default)]
pub(crate) struct RawFragment {
    pub(crate) version: Part<u32>,
    pub(crate) organization: Part<OrganizationSpec>,
    pub(crate) settings: Part<Settings>,
    /// Entries as (index in the fragment's list, value); unreadable entries are left out.
    pub(crate) members: Vec<(usize, MemberSpec)>,
    pub(crate) workspaces: Vec<(usize, WorkspaceSpec)>,
    pub(crate) api_keys: Vec<(usize, ApiKeySpec)>,
    /// `federation.issuers` and `federation.rules` entries, as the lists above.
    pub(crate) issuers: Vec<(usize, IssuerSpec)>,
    pub(crate) rules: Vec<(usize, RuleSpec)>,
    /// The emails of member entries that could not be read in full.
    pub(crate) partial_emails: Vec<String>,
    /// False when a member entry (or the whole list) could not be read, email included.
    pub(crate) members_complete: bool,
    /// False when a federation entry (or list) could not be read.
    pub(crate) federation_complete: bool,
    /// False when `organization.platform` is written but not readable.
    pub(crate) platform_known: bool,
}

/// Where each merged list entry came from: (fragment index, index in that fragment's list),
/// and what could not be read.
#[derive(Debug, Default)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent facts about what could be read, each skipping its own checks"
)]
pub(crate) struct Origins {
    /// The fragment with `version` and `organization`, when there is one.
    pub(crate) head: Option<usize>,
    /// Whether `version` was read (else it is not checked).
    pub(crate) version_read: bool,
    /// Whether `organization` was read (else it is not checked).
    pub(crate) organization_read: bool,
    /// Whether the platform is known (else platform-specific checks are skipped).
    pub(crate) platform_known: bool,
    /// Whether every member could be read (else workspace members are not checked against
    /// the declared ones).
    pub(crate) members_complete: bool,
    /// Normalized emails of members that could not be read in full.
    pub(crate) partial_emails: HashSet<String>,
    pub(crate) settings: Option<usize>,
    pub(crate) members: Vec<(usize, usize)>,
    pub(crate) workspaces: Vec<(usize, usize)>,
    pub(crate) api_keys: Vec<(usize, usize)>,
    pub(crate) issuers: Vec<(usize, usize)>,
    pub(crate) rules: Vec<(usize, usize)>,
    /// Whether every issuer and rule entry could be read (else names are not resolved).
    pub(crate) federation_complete: bool,
}

/// Largest manifest file read (each fragment of a directory manifest too).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Reads and validates the manifest at `path` (a file or a directory of fragments).
///
/// Only regular files are read (a symlink to one is fine): a FIFO, a device, a socket, a
/// dangling symlink or a symlink loop is an error naming the path, never skipped nor waited
/// on, and a file over [`MAX_FILE_BYTES`] is refused without being read to its end.
pub fn load(path: &Path) -> Result<Loaded, ManifestError> {
    let files = list_files(path).map_err(|p| ManifestError::unreadable(vec![*p]))?;
    let mut sources = Vec::new();
    let mut problems = Vec::new();
    for (display, file) in files {
        match read_regular(&file) {
            Ok(bytes) => sources.push((display, bytes)),
            Err(reason) => problems.push(
                Problem::error(
                    "orgform::unreadable",
                    format!("cannot read `{display}`: {reason}"),
                )
                .help(unreadable_hint(&reason)),
            ),
        }
    }
    if !problems.is_empty() {
        return Err(ManifestError::unreadable(problems));
    }
    load_sources(&sources)
}

/// Reads a regular file of at most [`MAX_FILE_BYTES`]; the error is the reason, in words.
fn read_regular(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    // Checked before opening: opening a FIFO would wait for a writer.
    let meta = std::fs::metadata(path).map_err(|err| io_reason(path, &err))?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    let file = std::fs::File::open(path).map_err(|err| io_reason(path, &err))?;
    // The file may have been swapped since: check what was opened.
    let meta = file.metadata().map_err(|err| io_reason(path, &err))?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large(meta.len()));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| io_reason(path, &err))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

fn too_large(len: u64) -> String {
    format!(
        "it is larger than the {} MiB limit ({} bytes)",
        MAX_FILE_BYTES / (1024 * 1024),
        len
    )
}

fn unreadable_hint(reason: &str) -> &'static str {
    if reason.contains("limit") {
        "a manifest is at most 64 MiB; split a large one into a directory of fragments"
    } else if reason.contains("not a regular file") {
        "a manifest (and each *.yaml/*.yml entry of a manifest directory) must be a regular file; remove or rename the entry"
    } else if reason.contains("symlink") {
        "fix or remove the symlink; every *.yaml/*.yml entry of a manifest directory is read"
    } else {
        "check the path and its permissions"
    }
}

/// Why a path that exists is not read: what it is instead.
fn not_regular(meta: &std::fs::Metadata) -> String {
    let kind = meta.file_type();
    let what = if kind.is_dir() {
        "a directory"
    } else {
        special_kind(kind)
    };
    format!("not a regular file ({what})")
}

#[cfg(unix)]
fn special_kind(kind: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: std::fs::FileType) -> &'static str {
    "a special file"
}

/// Validates a manifest given as text; `name` is the file name shown in diagnostics.
pub fn load_str(name: &str, text: &str) -> Result<Loaded, ManifestError> {
    load_sources(&[(name.to_owned(), text.as_bytes().to_vec())])
}

/// An I/O error in words; a symlink that leads nowhere is named as such.
fn io_reason(path: &Path, err: &std::io::Error) -> String {
    let symlink = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    match err.kind() {
        std::io::ErrorKind::NotFound if symlink => {
            "a dangling symlink (its target does not exist)".to_owned()
        }
        std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ if symlink && err.raw_os_error() == Some(ELOOP) => {
            "a symlink loop (too many levels of symbolic links)".to_owned()
        }
        _ => err.to_string().to_lowercase(),
    }
}

/// `ELOOP`, "too many levels of symbolic links" (Linux, the BSDs and macOS differ).
#[cfg(target_os = "linux")]
const ELOOP: i32 = 40;
#[cfg(not(target_os = "linux"))]
const ELOOP: i32 = 62;

/// The fragment files of `path`, as (display name, path).
fn list_files(path: &Path) -> Result<Vec<(String, PathBuf)>, Box<Problem>> {
    let display = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|err| {
        Box::new(Problem::error(
            "orgform::manifest_not_found",
            format!("cannot read the manifest `{display}`: {}", io_reason(path, &err)),
        )
        .help("pass the manifest with `-f PATH` (a file, or a directory of *.yaml fragments); the default is `org.yaml` in the current directory"))
    })?;
    if !meta.is_dir() {
        return Ok(vec![(display, path.to_path_buf())]);
    }
    let entries = std::fs::read_dir(path).map_err(|err| {
        Box::new(Problem::error(
            "orgform::unreadable",
            format!(
                "cannot list the directory `{display}`: {}",
                io_reason(path, &err)
            ),
        ))
    })?;
    // Every *.yaml/*.yml entry, whatever it is: reading it refuses what is not a regular file
    // (a sub-directory, a FIFO, a dangling symlink), so nothing is skipped silently.
    let mut files: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
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
    let complete = fragments.len() == sources.len();
    if !fragments.is_empty() {
        let (mut manifest, origins) = merge(&mut fragments, &mut problems, complete);
        validate(&manifest, &fragments, &origins, &mut problems);
        manifest.sources = crate::sources::collect(&fragments, &origins);
        if !problems.iter().any(Problem::is_error) {
            return Ok(Loaded {
                manifest,
                warnings: problems,
                digest: digest(sources),
                files: sources.iter().map(|(n, _)| n.clone()).collect(),
            });
        }
    }
    Err(ManifestError::new(problems))
}

/// Parses one fragment; problems go to `problems`, and `None` means nothing of it could be
/// used.
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
                .at(&file, failure.offset..failure.offset, "here")
                .help("fix the YAML here; the rest of this file is checked once it parses"),
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
    let shape = check_shape(&doc, root, &file, problems);
    if !shape.usable {
        return None;
    }
    let raw = read_typed(&doc, root, &file, &shape.flagged, problems)?;
    Some(Fragment { file, doc, raw })
}

/// Reads the typed values of a fragment whose shape was checked; `None` when its aliases
/// expand too far.
fn read_typed(
    doc: &Doc,
    root: &Node,
    file: &SourceFile,
    flagged: &HashSet<usize>,
    problems: &mut Vec<Problem>,
) -> Option<RawFragment> {
    // The shape check bounded the expansion; reading again after a left-out value may
    // expand the same aliases again, so the typed reading has its own, larger, budget.
    let reader = Reader::new(doc, 4 * ALIAS_BUDGET);
    let mut bomb = false;
    let mut report = |err: DeError| {
        if err.what == What::AliasBudget {
            bomb = true;
            return;
        }
        let Some(span) = err.span.clone() else { return };
        if err.shadowed || flagged.contains(&span.start) {
            return;
        }
        problems.push(typed_problem(file, &err, span));
    };
    let root = doc.resolve(root);
    let mut raw = RawFragment {
        members_complete: true,
        federation_complete: true,
        platform_known: true,
        ..RawFragment::default()
    };
    let mut lists: Vec<(&str, &Node)> = Vec::new();
    for (key, value, _) in map_entries(doc, root) {
        let Some(name) = key.scalar() else { continue };
        if doc.resolve(value).is_null() {
            continue;
        }
        match name {
            "version" => raw.version = part(reader.typed(Some(name), value, &mut report)),
            "organization" => {
                raw.organization = part(reader.typed(Some(name), value, &mut report));
                raw.platform_known = doc.resolve(value).get("platform").is_none_or(|p| {
                    let p = doc.resolve(p);
                    p.is_null() || p.scalar().is_some_and(|v| PLATFORMS.contains(&v))
                });
            }
            "settings" => raw.settings = part(reader.typed(Some(name), value, &mut report)),
            "members" | "workspaces" | "api_keys" => lists.push((name, value)),
            "federation" => {
                for (key, list, _) in map_entries(doc, doc.resolve(value)) {
                    match key.scalar() {
                        Some("issuers") => lists.push(("issuers", list)),
                        Some("rules") => lists.push(("rules", list)),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    for (name, list) in lists {
        let list = doc.resolve(list);
        if list.is_null() {
            continue;
        }
        let Kind::Seq(items) = &list.kind else {
            raw.members_complete &= name != "members";
            raw.federation_complete &= !matches!(name, "issuers" | "rules");
            continue;
        };
        for (index, item) in items.iter().enumerate() {
            match name {
                "members" => match reader.typed(None, item, &mut report) {
                    Some(member) => raw.members.push((index, member)),
                    None => match doc.resolve(item).get("email").map(|e| doc.resolve(e)) {
                        Some(email) if !email.is_null() && email.scalar().is_some() => raw
                            .partial_emails
                            .push(email.scalar().unwrap_or_default().to_owned()),
                        _ => raw.members_complete = false,
                    },
                },
                "workspaces" => {
                    if let Some(ws) = reader.typed(None, item, &mut report) {
                        raw.workspaces.push((index, ws));
                    }
                }
                "issuers" => match reader.typed(None, item, &mut report) {
                    Some(issuer) => raw.issuers.push((index, issuer)),
                    None => raw.federation_complete = false,
                },
                "rules" => match reader.typed(None, item, &mut report) {
                    Some(rule) => raw.rules.push((index, rule)),
                    None => raw.federation_complete = false,
                },
                _ => {
                    if let Some(key) = reader.typed(None, item, &mut report) {
                        raw.api_keys.push((index, key));
                    }
                }
            }
        }
    }
    if bomb {
        problems.push(alias_bomb(file, root.span.start));
        return None;
    }
    Some(raw)
}

/// The platforms `organization.platform` may name.
const PLATFORMS: &[&str] = &["console", "enterprise", "aws"];

fn part<T>(value: Option<T>) -> Part<T> {
    value.map_or(Part::Unreadable, Part::Read)
}

/// The problem for a value that could not be read as its type.
fn typed_problem(file: &SourceFile, err: &DeError, span: Range<usize>) -> Problem {
    match &err.what {
        What::WrongType { expected, .. } => Problem::error("orgform::wrong_type", err.message())
            .at(file, span, format!("expected {expected}"))
            .help(type_hint(expected)),
        What::Missing(field) => Problem::error("orgform::missing_key", err.message())
            .at(file, span.start..span.start, "in this entry")
            .help(format!("add `{field}:` to this entry")),
        What::AliasBudget | What::Other(_) => Problem::error("orgform::yaml", err.message())
            .at(file, span, "here")
            .help("see docs/manifest.md for the form of this value"),
    }
}

/// Merges what could be read of the fragments. `complete` is false when a fragment could not
/// be parsed at all: a missing head is then not reported (it may be in that fragment), and
/// workspace members are not checked against the declared ones.
fn merge(
    fragments: &mut [Fragment],
    problems: &mut Vec<Problem>,
    complete: bool,
) -> (Manifest, Origins) {
    let mut origins = Origins {
        members_complete: complete,
        federation_complete: complete,
        ..Origins::default()
    };
    let mut head_conflict = false;
    for (index, fragment) in fragments.iter().enumerate() {
        let raw = &fragment.raw;
        origins.members_complete &= raw.members_complete;
        origins.federation_complete &= raw.federation_complete;
        origins.partial_emails.extend(
            raw.partial_emails
                .iter()
                .map(|email| normalize_email(email)),
        );
        if raw.version.is_absent() && raw.organization.is_absent() {
            continue;
        }
        let Some(first) = origins.head else {
            origins.head = Some(index);
            continue;
        };
        let here = key_span(fragment, "organization").or_else(|| key_span(fragment, "version"));
        let there = key_span(&fragments[first], "organization")
            .or_else(|| key_span(&fragments[first], "version"));
        let first_raw = &fragments[first].raw;
        let split = (first_raw.version.is_absent() != first_raw.organization.is_absent())
            && (raw.version.is_absent() != raw.organization.is_absent())
            && first_raw.version.is_absent() != raw.version.is_absent();
        let mut problem = Problem::error(
            "orgform::duplicate_head",
            if split {
                "`version` and `organization` are split across fragments"
            } else {
                "`version`/`organization` declared in more than one fragment"
            },
        )
        .help("keep `version` and `organization` in exactly one fragment");
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
        head_conflict = true;
    }
    let mut version = 1;
    let mut organization = OrganizationSpec {
        id: String::new(),
        name: None,
        platform: Platform::default(),
    };
    match origins.head {
        None if complete => {
            let names: Vec<&str> = fragments.iter().map(|f| f.file.name.as_str()).collect();
            problems.push(
                Problem::error(
                    "orgform::missing_head",
                    format!("no `version` and `organization` in {}", names.join(", ")),
                )
                .help("one file (or one fragment of a directory) starts with `version: 1` and `organization: { id: ... }`"),
            );
        }
        None => {}
        Some(head) => {
            let raw = &fragments[head].raw;
            // A misspelt key (`organisation:`) was reported as unknown, with the right name.
            let mut missing = Vec::new();
            if raw.version.is_absent() && !misspelt(&fragments[head], "version") {
                missing.push("version");
            }
            if raw.organization.is_absent() && !misspelt(&fragments[head], "organization") {
                missing.push("organization");
            }
            // Split across fragments: already reported as such.
            if !missing.is_empty() && !head_conflict {
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
                    problem =
                        problem.at(&fragments[head].file, root.span.start..root.span.start, "");
                }
                problems.push(problem);
            }
            if let Some(v) = raw.version.read() {
                version = *v;
                origins.version_read = true;
            }
            if let Some(org) = raw.organization.read() {
                organization = org.clone();
                origins.organization_read = true;
                origins.platform_known = raw.platform_known;
            }
        }
    }
    let mut settings = None;
    for (index, fragment) in fragments.iter().enumerate() {
        if fragment.raw.settings.is_absent() {
            continue;
        }
        if let Some(first) = origins.settings {
            let mut problem = Problem::error(
                "orgform::duplicate_settings",
                "`settings` declared in more than one fragment",
            )
            .help("keep `settings` in one fragment");
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
        } else {
            origins.settings = Some(index);
            settings = fragment.raw.settings.read().cloned();
        }
    }
    let mut manifest = Manifest {
        version,
        organization,
        settings: settings.unwrap_or_default(),
        members: Vec::new(),
        workspaces: Vec::new(),
        api_keys: Vec::new(),
        federation: FederationSpec::default(),
        sources: crate::Sources::default(),
    };
    for (index, fragment) in fragments.iter_mut().enumerate() {
        for (i, member) in std::mem::take(&mut fragment.raw.members) {
            manifest.members.push(member);
            origins.members.push((index, i));
        }
        for (i, ws) in std::mem::take(&mut fragment.raw.workspaces) {
            manifest.workspaces.push(ws);
            origins.workspaces.push((index, i));
        }
        for (i, key) in std::mem::take(&mut fragment.raw.api_keys) {
            manifest.api_keys.push(key);
            origins.api_keys.push((index, i));
        }
        for (i, issuer) in std::mem::take(&mut fragment.raw.issuers) {
            manifest.federation.issuers.push(issuer);
            origins.issuers.push((index, i));
        }
        for (i, rule) in std::mem::take(&mut fragment.raw.rules) {
            manifest.federation.rules.push(rule);
            origins.rules.push((index, i));
        }
    }
    (manifest, origins)
}

/// Whether a top-level key of `fragment` is a misspelling of `key`.
fn misspelt(fragment: &Fragment, key: &str) -> bool {
    match fragment.doc.root.as_ref().map(|r| &r.kind) {
        Some(Kind::Map(entries)) => entries.iter().any(|(k, _)| {
            k.scalar()
                .is_some_and(|k| k != key && closest(k, [key]).is_some())
        }),
        _ => false,
    }
}

/// The span of a top-level key of a fragment.
pub(crate) fn key_span(fragment: &Fragment, key: &str) -> Option<Range<usize>> {
    fragment
        .doc
        .root
        .as_ref()
        .and_then(|r| r.entry(key))
        .map(|(k, _)| k.span.clone())
}
