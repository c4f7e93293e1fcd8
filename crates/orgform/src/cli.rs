//! Raw command-line input (clap). The contract is `docs/cli.md`: names, flags, variables and
//! exit codes may be added to, never renamed or removed.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::commands;

/// Manage an Anthropic (Claude) organization as code.
///
/// A YAML manifest declares members and roles, workspaces and their members, and API key
/// statuses. orgform reads the live organization through the Admin API, prints an ordered
/// plan, and applies it idempotently.
#[derive(Debug, Parser)]
#[command(
    name = "orgform",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Options every command accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags shared by every command.
#[derive(Clone, Debug, Args)]
pub struct GlobalArgs {
    /// More log output on stderr (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// When to colour output (`auto` honours NO_COLOR, CLICOLOR, CLICOLOR_FORCE and TERM=dumb).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    /// Format of log lines on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, value_name = "FORMAT")]
    pub log_format: LogFormat,
    /// Connection to the Admin API.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Compute plans as of this instant (RFC 3339) instead of the API's clock: reproducible
    /// output.
    #[arg(long, global = true, value_name = "TIMESTAMP", hide = true)]
    pub now: Option<jiff::Timestamp>,
    /// The environment, read once by [`crate::settings::Environment::from_process`].
    #[arg(skip)]
    pub env: crate::settings::Environment,
}

/// How to reach the Admin API. The key itself is never a command-line value.
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Connection")]
pub struct ConnectionArgs {
    /// Admin API base URL; plain http:// only to loopback addresses.
    #[arg(
        long,
        global = true,
        env = "ANTHROPIC_BASE_URL",
        hide_env_values = true,
        value_name = "URL",
        default_value = "https://api.anthropic.com"
    )]
    pub endpoint: String,
    /// File holding the Admin API key (else the ANTHROPIC_ADMIN_KEY variable).
    #[arg(long, global = true, value_name = "PATH")]
    pub admin_key_file: Option<PathBuf>,
    /// File holding an OAuth bearer token with the org:admin scope, used instead of an admin
    /// key (else the ANTHROPIC_AUTH_TOKEN variable).
    #[arg(long, global = true, value_name = "PATH")]
    pub auth_token_file: Option<PathBuf>,
    /// Per-request timeout in seconds.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 60)]
    pub timeout: u64,
    /// Retries after a retryable failure (408, 409, 429, 5xx, connection errors).
    #[arg(long, global = true, value_name = "N", default_value_t = 2)]
    pub max_retries: u32,
    /// Client-side request budget per minute (the Admin API allows 100); 0 turns it off.
    #[arg(long, global = true, value_name = "N", default_value_t = 100)]
    pub rate_limit: u32,
}

/// `--color`
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and `NO_COLOR` is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// `--log-format`
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// `--format` of reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Terminal text.
    #[default]
    Text,
    /// Versioned JSON for machines.
    Json,
    /// Markdown for pull-request comments.
    Markdown,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and check the manifest offline; print every problem.
    Validate(commands::validate::Args),
    /// Read the live organization and print the ordered plan.
    ///
    /// Changes nothing. Exit codes: 0 success (with --detailed-exitcode: no changes), 1 error,
    /// 2 changes pending (with --detailed-exitcode), 3 refused (organization mismatch,
    /// destructive limit exceeded, plan errors, blocked items), 4 invalid manifest. Pending
    /// invites, deferred workspace grants and objects only reported are not changes.
    Plan(commands::plan::Args),
    /// Execute the plan (asks for confirmation on a terminal).
    ///
    /// With -f, plan now, show the plan and ask; with PLANFILE (from `orgform plan --out`),
    /// execute that plan after checking that neither the manifest nor the live organization
    /// changed since it was made. Asks for `yes` on a terminal; refuses (exit 64) when stdin is
    /// not a terminal, unless --auto-approve is given. Ctrl-C finishes the requests in flight,
    /// stops, and reports what was and was not done; the next run converges.
    ///
    /// Exit codes: 0 done, 1 some actions failed or the apply was interrupted, 3 refused
    /// (organization mismatch, destructive limit, stale plan file, plan errors) or blocked
    /// items remain, 4 invalid manifest, 64 no confirmation possible.
    Apply(commands::apply::Args),
    /// Report how the live organization differs from the manifest, without changing it.
    ///
    /// Findings: unmanaged, changed, missing, pending and blocked, plus the hygiene findings
    /// the manifest asks for (old keys, keys of departed members, expired invites). Exit codes:
    /// 0 no drift, 1 error, 2 drift found, 3 refused (organization mismatch or plan errors),
    /// 4 invalid manifest.
    Drift(commands::drift::Args),
    /// Write a deterministic, secret-free YAML picture of the live organization.
    ///
    /// For committing to git as an audit trail: two snapshots of an unchanged organization are
    /// byte-identical, and a change is a small diff.
    Snapshot(commands::snapshot::Args),
    /// Generate a manifest that reproduces the live organization.
    ///
    /// For adopting orgform on an existing organization: planning the export against the same
    /// organization shows no changes. What the API cannot manage is written as comments.
    Export(commands::export::Args),
    /// Print the manifest's JSON Schema.
    Schema(commands::schema::Args),
    /// Serve the local Admin API emulator.
    ///
    /// The first line on stdout is `listening on http://HOST:PORT`. The emulator accepts
    /// exactly one admin key: the one in ANTHROPIC_ADMIN_KEY when that is set (never printed);
    /// otherwise it generates a key and prints it on the second line as `admin key: ...`.
    /// Point orgform at it with --endpoint (or ANTHROPIC_BASE_URL) and that key.
    Emulator(commands::emulator::Args),
    /// Check a first contact with an organization, changing nothing.
    ///
    /// Reports whether the key works and is an Admin API key; the organization (and, with -f,
    /// whether the manifest pins it); what a plan reads (counts, pages, time under the rate
    /// limit); which reading the API shows on each point its documentation leaves open; the
    /// clock skew; and permissions optional features need. Only GET requests are sent.
    /// Exit codes: 0 orgform can work with what it saw, 1 otherwise.
    Doctor(commands::doctor::Args),
    /// A first run on a built-in emulator: plan, apply, re-plan, a refused plan, drift, revert.
    Demo(commands::demo::Args),
    /// Print shell completions.
    Completions(commands::completions::Args),
    /// Print or write the manual pages.
    Man(commands::man::Args),
}

/// Commands that never talk to the Admin API: their help does not list the connection flags
/// (clap still accepts them there, as global flags, and ignores them).
pub const OFFLINE_COMMANDS: &[&str] = &[
    "validate",
    "schema",
    "emulator",
    "demo",
    "completions",
    "man",
];

/// The connection flags' ids.
const CONNECTION_FLAGS: &[&str] = &[
    "endpoint",
    "admin_key_file",
    "auth_token_file",
    "timeout",
    "max_retries",
    "rate_limit",
];

/// The command line as parsed, helped and documented (completions, man page): the derived
/// [`Cli`] with the connection flags hidden from the help of [`OFFLINE_COMMANDS`]. Each of
/// those commands gets a hidden copy of the global flag, which clap then does not propagate
/// to it: parsing is unchanged.
pub fn command() -> clap::Command {
    use clap::CommandFactory as _;
    let command = Cli::command();
    let hidden: Vec<clap::Arg> = command
        .get_arguments()
        .filter(|a| CONNECTION_FLAGS.contains(&a.get_id().as_str()))
        .map(|a| a.clone().hide(true))
        .collect();
    OFFLINE_COMMANDS.iter().fold(command, |command, name| {
        if command.find_subcommand(name).is_none() {
            return command;
        }
        command.mut_subcommand(name, |sub| sub.args(hidden.iter().cloned()))
    })
}

/// Parses the process's arguments with [`command`].
pub fn parse() -> Result<Cli, clap::Error> {
    use clap::FromArgMatches as _;
    let matches = command().try_get_matches()?;
    Cli::from_arg_matches(&matches)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::Cli;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
