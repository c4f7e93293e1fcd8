//! Files orgform writes (`--out` of `plan`, `snapshot`, `export`) and reads besides the
//! manifest (the admin key file, a saved plan), hardened against what a shared directory or a
//! mistyped path can hold.
//!
//! Writing ([`write_output`]):
//!
//! - a path that does not exist, or holds a regular file, is replaced atomically: a temporary
//!   file with a random name is created exclusively (`O_EXCL`) in the same directory, written,
//!   flushed to disk, then renamed over the path. A symbolic link planted at any name cannot
//!   redirect the write, and an interrupted or failed write leaves the old file whole and no
//!   temporary file behind;
//! - the new file keeps the permission bits of the file it replaces (set-id bits dropped), and
//!   its owner when the process may set it; a new file gets the mode of its [`NewFile`] kind:
//!   `0600` for plans and snapshots, `0644` for an exported manifest;
//! - a FIFO or a character device (`/dev/null`, `/dev/stdout` on a terminal, `/dev/full`) is
//!   written through, never replaced, and its write errors are reported;
//! - a symbolic link is followed only to a FIFO or a character device; a link to a regular
//!   file, a dangling link, a directory, a block device or a socket is refused with an error
//!   and nothing is written.
//!
//! Reading ([`read_capped`]): only a regular file (after following links) is read, and at most
//! a given size, so a FIFO cannot block the command and `/dev/zero` cannot exhaust memory.

use std::fs::{File, Metadata, OpenOptions, Permissions};
use std::io::{Read as _, Write as _};
use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _, PermissionsExt as _};
use std::path::Path;

use anyhow::{Context as _, bail};

/// The largest admin key file read (`--admin-key-file`).
pub const KEY_FILE_LIMIT: u64 = 4 * 1024;

/// The largest saved plan read (`orgform apply PLANFILE`).
pub const PLAN_FILE_LIMIT: u64 = 256 * 1024 * 1024;

/// What a file written by orgform is, which decides the mode of a new file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewFile {
    /// Plans and snapshots name people and keys: a new file is `0600`.
    Private,
    /// An exported manifest is meant to be committed and shared: a new file is `0644`.
    Shared,
}

impl NewFile {
    fn mode(self) -> u32 {
        match self {
            Self::Private => 0o600,
            Self::Shared => 0o644,
        }
    }
}

/// Writes `text` to `path`, given by `flag` (e.g. `--out`), as described in the module
/// documentation.
pub fn write_output(path: &Path, flag: &str, text: &str, kind: NewFile) -> anyhow::Result<()> {
    let shown = path.display();
    match std::fs::symlink_metadata(path) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            replace(path, kind.mode(), None, |file| {
                file.write_all(text.as_bytes())
            })
            .with_context(|| format!("cannot write {flag} {shown}"))
        }
        Err(err) => Err(err).with_context(|| format!("cannot write {flag} {shown}")),
        Ok(meta) if meta.file_type().is_file() => replace(
            path,
            meta.permissions().mode() & 0o777,
            Some(&meta),
            |file| file.write_all(text.as_bytes()),
        )
        .with_context(|| format!("cannot write {flag} {shown}")),
        Ok(meta) if meta.file_type().is_symlink() => match std::fs::metadata(path) {
            Ok(target) if writes_through(&target) => write_through(path, flag, text),
            Ok(target) => bail!(
                "refusing to write {flag} {shown}: it is a symbolic link to {}, which orgform \
                 does not follow\n  hint: give the path of the file itself, or remove the link",
                describe(&target)
            ),
            Err(_) => bail!(
                "refusing to write {flag} {shown}: it is a symbolic link to nothing, which \
                 orgform does not follow\n  hint: remove the link, or give another path"
            ),
        },
        Ok(meta) if writes_through(&meta) => write_through(path, flag, text),
        Ok(meta) => bail!(
            "refusing to write {flag} {shown}: it is {}\n  hint: give the path of a regular \
             file",
            describe(&meta)
        ),
    }
}

/// Reads the regular file at `path` (named by `what`, e.g. `--admin-key-file`) as UTF-8 text,
/// refusing anything else (a FIFO, a device, a directory) and anything over `limit` bytes.
pub fn read_capped(path: &Path, what: &str, limit: u64) -> anyhow::Result<String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {what} {shown}"))?;
    check_readable(&meta, what, path, limit)?;
    let file = File::open(path).with_context(|| format!("cannot read {what} {shown}"))?;
    // The path may have changed between the two looks: check what was actually opened.
    let opened = file
        .metadata()
        .with_context(|| format!("cannot read {what} {shown}"))?;
    check_readable(&opened, what, path, limit)?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {what} {shown}"))?;
    if bytes.len() as u64 > limit {
        bail!(too_large(what, path, limit));
    }
    String::from_utf8(bytes).map_err(|_| {
        anyhow::anyhow!("cannot read {what} {shown}: it is not UTF-8 text\n  hint: check the path")
    })
}

fn check_readable(meta: &Metadata, what: &str, path: &Path, limit: u64) -> anyhow::Result<()> {
    if !meta.file_type().is_file() {
        bail!(
            "refusing to read {what} {}: it is {}, not a regular file\n  hint: give the path \
             of a regular file",
            path.display(),
            describe(meta)
        );
    }
    if meta.len() > limit {
        bail!(too_large(what, path, limit));
    }
    Ok(())
}

fn too_large(what: &str, path: &Path, limit: u64) -> String {
    format!(
        "refusing to read {what} {}: it is larger than {}\n  hint: check the path",
        path.display(),
        size(limit)
    )
}

fn size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{} MiB", bytes / (1024 * 1024))
    } else {
        format!("{} KiB", bytes / 1024)
    }
}

/// Whether orgform writes through what `meta` describes instead of replacing it.
fn writes_through(meta: &Metadata) -> bool {
    let kind = meta.file_type();
    kind.is_fifo() || kind.is_char_device()
}

/// What a non-regular file is, for messages.
fn describe(meta: &Metadata) -> &'static str {
    let kind = meta.file_type();
    if kind.is_file() {
        "a regular file"
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Writes into the FIFO or character device at `path` (following links), without creating or
/// truncating anything.
fn write_through(path: &Path, flag: &str, text: &str) -> anyhow::Result<()> {
    let shown = path.display();
    let mut file = OpenOptions::new()
        .write(true)
        .open(path)
        .with_context(|| format!("cannot write {flag} {shown}"))?;
    // The path may have changed since it was looked at: nothing is written (and nothing was
    // truncated) unless the opened file is still one to write through.
    let opened = file
        .metadata()
        .with_context(|| format!("cannot write {flag} {shown}"))?;
    if !writes_through(&opened) {
        bail!(
            "refusing to write {flag} {shown}: it changed while being opened (now {})",
            describe(&opened)
        );
    }
    file.write_all(text.as_bytes())
        .and_then(|()| file.flush())
        .with_context(|| format!("cannot write {flag} {shown}"))
}

/// Replaces `path` atomically with what `write` puts into a new temporary file of the given
/// mode (and the owner of `previous`, when there is one and the process may set it). On any
/// failure the temporary file is removed and `path` is left as it was.
fn replace(
    path: &Path,
    mode: u32,
    previous: Option<&Metadata>,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(path.file_name().unwrap_or_default());
    prefix.push(".");
    // Created with O_EXCL under a random name: an existing file or link is never opened.
    let mut tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".orgform-tmp")
        .tempfile_in(dir)?;
    tmp.as_file()
        .set_permissions(Permissions::from_mode(mode))?;
    if let Some(previous) = previous {
        // Best effort: only root (or the owner, for the group) may set these.
        let _ =
            std::os::unix::fs::fchown(tmp.as_file(), Some(previous.uid()), Some(previous.gid()));
    }
    write(tmp.as_file_mut())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|err| err.error)?;
    // The rename is durable once the directory is; a failure here leaves the new file in
    // place, which is all a caller could ask for, so it is not reported.
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        std::fs::write(&path, "old").unwrap();
        let err = replace(&path, 0o600, None, |file| {
            file.write_all(b"half")?;
            Err(std::io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "only plan.json"
        );
    }

    #[test]
    fn the_mode_is_set_whatever_the_umask() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.yaml");
        write_output(&path, "--out", "a: 1\n", NewFile::Shared).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        std::fs::set_permissions(&path, Permissions::from_mode(0o640)).unwrap();
        write_output(&path, "--out", "a: 2\n", NewFile::Private).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640, "an existing file keeps its mode");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a: 2\n");
    }

    #[test]
    fn read_capped_reads_up_to_the_limit_and_refuses_more() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "abcd").unwrap();
        assert_eq!(read_capped(&path, "--admin-key-file", 4).unwrap(), "abcd");
        let err = read_capped(&path, "--admin-key-file", 3).unwrap_err();
        assert!(err.to_string().contains("larger than"), "{err}");
        std::fs::write(&path, [0xff, 0xfe]).unwrap();
        let err = read_capped(&path, "--admin-key-file", 4).unwrap_err();
        assert!(err.to_string().contains("not UTF-8"), "{err}");
    }

    #[test]
    fn sizes_read_plainly() {
        assert_eq!(size(KEY_FILE_LIMIT), "4 KiB");
        assert_eq!(size(PLAN_FILE_LIMIT), "256 MiB");
    }
}
