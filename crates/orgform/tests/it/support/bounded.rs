//! Runs the real `orgform` binary with a deadline, for the hostile-input catalogue: a run that
//! outlives its deadline is killed and reported as a hang instead of stalling the suite.

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How one bounded run ended.
#[derive(Debug)]
pub struct Outcome {
    /// The exit code; `None` when a signal ended the process (or it was killed as a hang).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    pub timed_out: bool,
}

impl Outcome {
    /// The run ended by itself within its deadline, with one of `codes`, without a panic.
    pub fn assert_clean_exit(&self, codes: &[i32]) {
        assert!(
            !self.timed_out,
            "hang: killed after {:?}\n{self:?}",
            self.elapsed
        );
        assert!(
            !self.stderr.contains("panicked") && !self.stdout.contains("panicked"),
            "panic:\n{}",
            self.stderr
        );
        assert!(
            self.code.is_some_and(|c| codes.contains(&c)),
            "exit {:?}, expected one of {codes:?}\nstdout:\n{}\nstderr:\n{}",
            self.code,
            self.stdout,
            self.stderr
        );
    }
}

/// `orgform ARGS` run from `dir` with a clean environment (no key, no proxy, no colour).
pub fn orgform(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_orgform"));
    cmd.current_dir(dir)
        .args(args)
        .env_remove("ANTHROPIC_ADMIN_KEY")
        .env_remove("ANTHROPIC_BASE_URL")
        .env("NO_COLOR", "1");
    for var in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Spawns `cmd` with stdin closed and waits at most `limit` for it.
pub fn run(mut cmd: Command, limit: Duration) -> Outcome {
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("orgform starts");
    let drain = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            timed_out = true;
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Outcome {
        code: status.code(),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        elapsed: started.elapsed(),
        timed_out,
    }
}
