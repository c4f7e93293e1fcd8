//! An emulator running in-process for the binary's end-to-end tests, and a way to run the
//! real `orgform` binary against it.

use std::path::Path;
use std::time::{Duration, Instant};

use orgform_emulator::{Emulator, EmulatorConfig};
use orgform_model::Snapshot;

/// A running emulator and the runtime that serves it while the test thread waits on the
/// binary.
pub struct Org {
    pub emulator: Emulator,
    #[allow(
        dead_code,
        reason = "held, not read: it serves the emulator until the test ends"
    )]
    runtime: tokio::runtime::Runtime,
}

/// The exit code and both streams of one run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<std::process::Output> for Run {
    fn from(output: std::process::Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Org {
    pub fn start(seed: Snapshot) -> Self {
        Self::start_with(EmulatorConfig {
            seed,
            test_controls: true,
            ..EmulatorConfig::default()
        })
    }

    pub fn start_with(config: EmulatorConfig) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let emulator = runtime
            .block_on(Emulator::start(config))
            .expect("emulator starts");
        Self { emulator, runtime }
    }

    pub fn small() -> Self {
        Self::start(orgform_emulator::seeds::small())
    }

    /// The small seed behind 150 ms of latency per request, so that an apply of the demo
    /// manifest is still writing when a test interrupts it.
    pub fn slow_small() -> Self {
        Self::start_with(EmulatorConfig {
            seed: orgform_emulator::seeds::small(),
            test_controls: true,
            faults: orgform_emulator::FaultConfig {
                latency: Duration::from_millis(150),
                ..orgform_emulator::FaultConfig::default()
            },
            ..EmulatorConfig::default()
        })
    }

    /// Runs `orgform ARGS` against this emulator from `dir`, with its key in the environment.
    pub fn run(&self, dir: &Path, args: &[&str]) -> Run {
        self.run_with_key(dir, args, self.emulator.admin_key())
    }

    pub fn run_with_key(&self, dir: &Path, args: &[&str], key: &str) -> Run {
        let now = self.emulator.now().to_string();
        let hidden = ["--rate-limit", "0", "--now", &now];
        run_plain(
            dir,
            &self.emulator.base_url(),
            key,
            &[args, &hidden].concat(),
        )
    }

    /// Runs `orgform ARGS` against this emulator as a user would: no hidden flags.
    pub fn run_plain(&self, dir: &Path, args: &[&str], key: &str) -> Run {
        run_plain(dir, &self.emulator.base_url(), key, args)
    }

    /// Writes made so far (anything but GET), as `METHOD path`.
    pub fn writes(&self) -> Vec<String> {
        self.emulator
            .request_log()
            .into_iter()
            .filter(|r| r.method != "GET")
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }

    /// An out-of-band change, as if made in the Console: `dev.two@acme.example` (small seed)
    /// becomes a `user`.
    pub fn demote_dev_two(&self) {
        self.emulator.modify(|state| {
            let user = state
                .users
                .iter_mut()
                .find(|u| u.email == "dev.two@acme.example")
                .expect("the small seed has dev.two");
            user.role = orgform_model::OrgRole::User;
        });
    }

    /// `orgform apply --auto-approve --concurrency 1` against this emulator from `dir`, started
    /// and left running with both streams piped, for a test to interrupt.
    pub fn spawn_apply(&self, dir: &Path) -> std::process::Child {
        self.user_command(dir)
            .args(["apply", "--auto-approve", "--concurrency", "1"])
            .args([
                "--rate-limit",
                "0",
                "--now",
                &self.emulator.now().to_string(),
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// After an interrupted apply of the demo manifest: it stopped before its 11 writes; with
    /// the faults lifted, the next apply succeeds, a plan then finds nothing to do, and each
    /// action was done exactly once across both runs.
    pub fn assert_stopped_early_then_converges(&self, dir: &Path) {
        let done_first = self.writes().len();
        assert!(
            done_first < 11,
            "the apply stopped early ({done_first} writes)"
        );
        self.emulator
            .set_faults(orgform_emulator::FaultConfig::default());
        let again = self.run(dir, &["apply", "--auto-approve"]);
        assert_eq!(again.code, 0, "{again:?}");
        let last = self.run(dir, &["plan", "--detailed-exitcode"]);
        assert_eq!(last.code, 0, "converged: {last:?}");
        let mut writes = self.emulator.request_log();
        writes.retain(|r| r.method != "GET" && r.status == Some(200));
        assert_eq!(
            writes.len(),
            11,
            "every action done exactly once across both runs"
        );
    }
}

/// Writes `text` to `path` with `from` replaced by `to`; `text` must contain `from`.
pub fn write_replaced(path: &Path, text: &str, from: &str, to: &str) {
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(path, text.replace(from, to)).unwrap();
}

/// Sends `signal` (a name such as `INT`) to `child`.
pub fn send_signal(child: &std::process::Child, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} failed");
}

/// Waits up to `limit` for `done`; fails the test naming `what` if it never happens.
pub fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "never saw: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The demo manifest (it matches the small seed).
pub fn demo_manifest(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("org.yaml");
    std::fs::write(&path, orgform::commands::demo::DEMO_MANIFEST).unwrap();
    path
}

/// The demo manifest pinned to another organization than the small seed's.
pub fn other_organization_manifest(dir: &Path) -> std::path::PathBuf {
    let path = demo_manifest(dir);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace(
            "4f6b2a1e-8c3d-4e5f-9a7b-1c2d3e4f5a6b",
            "11111111-2222-4333-8444-555555555555",
        ),
    )
    .unwrap();
    path
}

/// `program` (the `orgform` binary, or a shell that execs it) run from `dir` as a user runs
/// it: endpoint and key in the environment, no colour, no hidden flags, stdin empty.
pub fn command_as_user(
    program: impl AsRef<std::ffi::OsStr>,
    base_url: &str,
    key: &str,
    dir: &Path,
) -> std::process::Command {
    let mut cmd = std::process::Command::new(program);
    cmd.current_dir(dir)
        .env("ANTHROPIC_BASE_URL", base_url)
        .env("ANTHROPIC_ADMIN_KEY", key)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null());
    cmd
}

impl Org {
    /// The `orgform` binary against this emulator, as a user runs it (see
    /// [`command_as_user`]).
    pub fn user_command(&self, dir: &Path) -> std::process::Command {
        command_as_user(
            env!("CARGO_BIN_EXE_orgform"),
            &self.emulator.base_url(),
            self.emulator.admin_key(),
            dir,
        )
    }
}

/// Runs `cmd` to the end and collects its exit code and both streams.
pub fn run_command(cmd: &mut std::process::Command) -> Run {
    cmd.output().unwrap().into()
}

/// Makes a FIFO at `path`.
pub fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

/// The names in `dir`, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Runs `orgform ARGS` against `url` from `dir` as a user would: endpoint and key from the
/// environment, no hidden flags.
pub fn run_plain(dir: &Path, url: &str, key: &str, args: &[&str]) -> Run {
    let output = assert_cmd::Command::cargo_bin("orgform")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .env("ANTHROPIC_BASE_URL", url)
        .env("ANTHROPIC_ADMIN_KEY", key)
        .env("NO_COLOR", "1")
        .write_stdin("")
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}
