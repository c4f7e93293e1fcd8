//! `orgform emulator`: serves the local Admin API emulator until Ctrl-C.
//!
//! The first stdout line is `listening on http://HOST:PORT`. The accepted key is the one in
//! `ANTHROPIC_ADMIN_KEY` when set (never printed); otherwise a random key is generated and
//! printed on the second line as `admin key: ...`. The key is resolved by
//! [`resolve_admin_key`] from the environment snapshot orgform reads once at start-up
//! ([`crate::settings::Environment`]); this command reads nothing else from the environment.
//!
//! It also accepts, as `Authorization: Bearer` OAuth tokens, the token in
//! `ANTHROPIC_AUTH_TOKEN` (or the file of `--auth-token-file`) and the token of each
//! `--accept-token-file`; none is ever printed.
//!
//! The emulator has no TLS, so a listen address other than loopback is refused unless
//! `--allow-remote` is given.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use orgform_emulator::{Emulator, EmulatorConfig, Fault, FaultConfig, Options, Readings, seeds};

use crate::cli::GlobalArgs;
use crate::commands::Refusal;
use crate::exit::Exit;

/// Arguments of `orgform emulator`.
#[derive(Debug, clap::Args)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent command-line switches"
)]
pub struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Initial organization: a snapshot file (JSON or YAML).
    #[arg(long, value_name = "PATH", conflicts_with_all = ["seed_small", "large"])]
    pub seed: Option<PathBuf>,
    /// Start with the built-in small sample organization.
    #[arg(long, conflicts_with = "large")]
    pub seed_small: bool,
    /// Start with a generated organization of N users (N/20 workspaces up to 100 active,
    /// 3N/2 keys).
    #[arg(long, value_name = "N")]
    pub large: Option<usize>,
    /// Enable the /_emulator/* test-control routes.
    #[arg(long)]
    pub test_controls: bool,
    /// Probability (0 to 1) of a random fault per request.
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    pub fault_rate: f64,
    /// Seed of the fault sequence.
    #[arg(long, default_value_t = 0, value_name = "SEED")]
    pub fault_seed: u64,
    /// Latency added to every request, in milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub latency_ms: u64,
    /// Enforce the Admin API rate limits (counted on the emulator clock).
    #[arg(long)]
    pub rate_limits: bool,
    /// Serve a stale single-member GET for this many seconds after a membership write.
    #[arg(long, value_name = "SECONDS")]
    pub stale_member_get: Option<u64>,
    /// Do not require the anthropic-version header.
    #[arg(long)]
    pub no_version_check: bool,
    /// Serve under a named readings profile of the undocumented points: default, all-flipped,
    /// or one switch's name (that switch flipped).
    #[arg(long, value_name = "PROFILE", default_value = "default")]
    pub readings: String,
    /// Read one undocumented point another way, as NAME=VALUE (repeatable; applied after
    /// --readings). See docs/emulator.md for the names.
    #[arg(long = "reading", value_name = "NAME=VALUE")]
    pub reading: Vec<String>,
    /// Start of the emulator clock: an RFC 3339 time or `now` (default 2026-06-01T00:00:00Z).
    #[arg(long, value_name = "TIME")]
    pub clock: Option<String>,
    /// Allow a non-loopback listen address (the emulator has no TLS).
    #[arg(long)]
    pub allow_remote: bool,
    /// Also accept the OAuth bearer token held in this file (repeatable), besides the one in
    /// ANTHROPIC_AUTH_TOKEN or --auth-token-file.
    #[arg(long, value_name = "PATH")]
    pub accept_token_file: Vec<PathBuf>,
}

/// The bearer tokens the emulator accepts: `--auth-token-file` (or `ANTHROPIC_AUTH_TOKEN`)
/// and every `--accept-token-file`, with the file rules of the client's credential files.
/// Never printed.
fn bearer_tokens(global: &GlobalArgs, args: &Args) -> anyhow::Result<Vec<String>> {
    let mut files: Vec<(&std::path::Path, &str)> = args
        .accept_token_file
        .iter()
        .map(|p| (p.as_path(), "--accept-token-file"))
        .collect();
    let mut tokens = Vec::new();
    match &global.connection.auth_token_file {
        Some(path) => files.push((path, "--auth-token-file")),
        None => {
            if let Some(token) = global.env.auth_token.as_deref().map(str::trim)
                && !token.is_empty()
            {
                tokens.push(token.to_owned());
            }
        }
    }
    for (path, flag) in files {
        let text = crate::files::read_capped(path, flag, crate::files::KEY_FILE_LIMIT)?;
        let key = orgform_api::AdminKey::from_source(
            &text,
            &format!("{flag} {}", path.display()),
            orgform_api::CredentialKind::BearerToken,
        )?;
        drop(key);
        tokens.push(text.trim().to_owned());
    }
    Ok(tokens)
}

/// The key the emulator accepts: the configured one, or a generated one to print.
///
/// Returns the key and whether it was generated (and so may be printed).
pub fn resolve_admin_key(configured: Option<&str>) -> (String, bool) {
    match configured.map(str::trim).filter(|k| !k.is_empty()) {
        Some(key) => (key.to_owned(), false),
        None => (orgform_emulator::generate_admin_key(), true),
    }
}

/// Runs `orgform emulator`.
pub fn run(global: &GlobalArgs, args: &Args) -> anyhow::Result<Exit> {
    if !args.listen.ip().is_loopback() && !args.allow_remote {
        return Err(Refusal {
            exit: Exit::Usage,
            message: format!(
                "refusing to listen on {}: the emulator has no TLS and accepts an admin key; use a loopback address or pass --allow-remote",
                args.listen
            ),
        }
        .into());
    }
    if !(0.0..=1.0).contains(&args.fault_rate) {
        return Err(Refusal {
            exit: Exit::Usage,
            message: format!(
                "--fault-rate must be between 0 and 1, got {}",
                args.fault_rate
            ),
        }
        .into());
    }
    let readings = readings(args)?;
    let clock_start = match args.clock.as_deref() {
        None => EmulatorConfig::default().clock_start,
        Some("now") => jiff::Timestamp::now(),
        Some(raw) => raw.parse().map_err(|e| Refusal {
            exit: Exit::Usage,
            message: format!(
                "--clock {raw:?} is not an RFC 3339 time ({e}); for example 2026-06-01T00:00:00Z, or now"
            ),
        })?,
    };
    let (seed, rate_limits) = if let Some(path) = &args.seed {
        seeds::load_with_rate_limits(path)?
    } else if args.seed_small {
        (seeds::small(), None)
    } else if let Some(n) = args.large {
        (seeds::large(42, n, (n / 20).max(1), n * 3 / 2), None)
    } else {
        (EmulatorConfig::default().seed, None)
    };
    let (admin_key, generated) = resolve_admin_key(global.env.admin_key.as_deref());
    let bearer_tokens = bearer_tokens(global, args)?;
    let config = EmulatorConfig {
        listen: args.listen,
        admin_key,
        bearer_tokens,
        seed,
        options: Options {
            require_version: !args.no_version_check,
            ..Options::default()
        },
        faults: FaultConfig {
            seed: args.fault_seed,
            rate: args.fault_rate,
            kinds: if args.fault_rate > 0.0 {
                Fault::default_kinds()
            } else {
                Vec::new()
            },
            latency: Duration::from_millis(args.latency_ms),
            enforce_rate_limits: args.rate_limits,
            stale_member_get: args.stale_member_get.map(Duration::from_secs),
        },
        test_controls: args.test_controls,
        readings,
        clock_start,
        rate_limits,
        usage: Vec::new(),
    };
    crate::settings::runtime()?.block_on(async move {
        let emulator = Emulator::start(config).await?;
        let mut lines = format!("listening on {}\n", emulator.base_url());
        if generated {
            lines.push_str("admin key: ");
            lines.push_str(emulator.admin_key());
            lines.push('\n');
        }
        crate::output::stdout(&lines)?;
        tokio::signal::ctrl_c().await?;
        emulator.shutdown().await;
        anyhow::Ok(())
    })?;
    Ok(Exit::Success)
}

/// The readings of `--readings` then each `--reading`.
fn readings(args: &Args) -> Result<Readings, Refusal> {
    let usage = |e: orgform_emulator::readings::ReadingError| Refusal {
        exit: Exit::Usage,
        message: e.to_string(),
    };
    let mut readings = Readings::profile(&args.readings).map_err(usage)?;
    for pair in &args.reading {
        readings.set_pair(pair).map_err(usage)?;
    }
    Ok(readings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_key_is_used_and_not_flagged_for_printing() {
        let (key, generated) = resolve_admin_key(Some("sk-ant-admin01-from-env"));
        assert_eq!(key, "sk-ant-admin01-from-env");
        assert!(!generated);
    }

    #[test]
    fn missing_or_blank_key_is_generated() {
        let (a, gen_a) = resolve_admin_key(None);
        let (b, gen_b) = resolve_admin_key(Some("  "));
        assert!(gen_a && gen_b);
        assert!(a.starts_with("sk-ant-admin01-"));
        assert_ne!(a, b, "generated keys are random");
    }
}

#[cfg(test)]
mod refusal_tests {
    use clap::Parser as _;

    use crate::cli::{Cli, Command};
    use crate::commands::Refusal;
    use crate::exit::Exit;

    fn refusal(command_line: &[&str]) -> Option<Exit> {
        let cli = Cli::try_parse_from(command_line).expect("arguments parse");
        let Command::Emulator(args) = &cli.command else {
            panic!("not the emulator command");
        };
        let err = super::run(&cli.global, args).expect_err("refused");
        err.downcast_ref::<Refusal>().map(|r| r.exit)
    }

    #[test]
    fn non_loopback_listen_is_refused_without_allow_remote() {
        assert_eq!(
            refusal(&["orgform", "emulator", "--listen", "192.0.2.10:8080"]),
            Some(Exit::Usage)
        );
        assert_eq!(
            refusal(&["orgform", "emulator", "--listen", "[::]:0"]),
            Some(Exit::Usage)
        );
    }

    #[test]
    fn unknown_readings_and_bad_clocks_are_usage_errors() {
        for bad in [
            &["--readings", "sometimes"][..],
            &["--reading", "implicit-members=maybe"],
            &["--reading", "colour=red"],
            &["--clock", "yesterday"],
        ] {
            let mut line = vec!["orgform", "emulator", "--listen", "127.0.0.1:0"];
            line.extend_from_slice(bad);
            assert_eq!(refusal(&line), Some(Exit::Usage), "{bad:?}");
        }
    }

    #[test]
    fn fault_rate_outside_zero_to_one_is_refused() {
        assert_eq!(
            refusal(&[
                "orgform",
                "emulator",
                "--listen",
                "127.0.0.1:0",
                "--fault-rate",
                "1.5"
            ]),
            Some(Exit::Usage)
        );
    }
}
