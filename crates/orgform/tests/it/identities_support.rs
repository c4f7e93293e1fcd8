//! Shared by the binary's identity tests: an emulator that accepts one OAuth bearer token,
//! the manifests of a service-account and federation lifecycle, and a runner of the real
//! binary with that token (with or without the hidden flags).

use std::path::Path;

use orgform_emulator::readings::Readings;
use orgform_emulator::{Emulator, EmulatorConfig, FaultConfig};
use orgform_model::{
    Identities, ServiceAccount, ServiceAccountMember, ServiceAccountRole, WorkspaceRole,
};

use crate::common::{Org, Run};

/// The bearer token the emulator accepts; it must never appear in any output.
pub const TOKEN: &str = "oauth-org-admin-CANARY-token-0017";

const HEAD: &str = "version: 1
organization:
  id: 4f6b2a1e-8c3d-4e5f-9a7b-1c2d3e4f5a6b
settings:
  members: {unmanaged: ignore}
  invites: {unmanaged: ignore}
  workspaces: {unmanaged: ignore}
  workspace_members: {unmanaged: report}
  limits: {max_destructive_percent: 100}
";

/// Creates `ci-bot`, updates `keep-bot`'s description and grant, declares `old-bot` as it
/// is, and creates the issuer `lab` and the rule `deploy` (on Production).
pub const V1: &str = "service_accounts:
  - name: ci-bot
    description: deploys
  - name: keep-bot
    description: new words
  - name: old-bot
workspaces:
  - name: Production
    service_accounts:
      ci-bot: workspace_developer
      keep-bot: workspace_admin
federation:
  issuers:
    - name: lab
      issuer_url: https://idp.acme.example
      # issuer
  rules:
    - name: deploy
      issuer: lab
      service_account: ci-bot
      oauth_scope: workspace:developer
      match: {subject_prefix: \"system:serviceaccount:ci:deployer\"}
      workspaces: [Production]
      # rule
";

/// V1 updated: `ci-bot`'s description and role, its grant in Production and a new one in
/// Staging, the issuer's JWT lifetime, the rule's scope, token lifetime and workspaces.
pub const V2: &str = "service_accounts:
  - name: ci-bot
    description: deploys prod
    organization_role: admin
  - name: keep-bot
    description: new words
  - name: old-bot
workspaces:
  - name: Production
    service_accounts:
      ci-bot: workspace_user
      keep-bot: workspace_admin
  - name: Staging
    service_accounts:
      ci-bot: workspace_developer
federation:
  issuers:
    - name: lab
      issuer_url: https://idp.acme.example
      max_jwt_lifetime_seconds: 600
      # issuer
  rules:
    - name: deploy
      issuer: lab
      service_account: ci-bot
      oauth_scope: workspace:inference
      match: {subject_prefix: \"system:serviceaccount:ci:deployer\"}
      workspaces: [Production, Staging]
      token_lifetime_seconds: 900
      # rule
";

/// `body` (V1 or V2) with the rule `deploy` declared `archived: true`.
pub fn rule_archived(body: &str) -> String {
    replaced(
        body,
        "      # rule\n",
        "      archived: true\n      # rule\n",
    )
}

/// `body` (V1 or V2) with `keep-bot` (and its grant) and `old-bot` archived.
pub fn accounts_archived(body: &str) -> String {
    let body = replaced(
        body,
        "  - name: keep-bot\n    description: new words\n",
        "  - name: keep-bot\n    archived: true\n",
    );
    let body = replaced(&body, "      keep-bot: workspace_admin\n", "");
    replaced(
        &body,
        "  - name: old-bot\n",
        "  - name: old-bot\n    archived: true\n",
    )
}

/// `body` (V1 or V2) with every archive: the rule, its issuer, `keep-bot` and `old-bot`.
pub fn all_archived(body: &str) -> String {
    let body = accounts_archived(&rule_archived(body));
    replaced(
        &body,
        "      # issuer\n",
        "      archived: true\n      # issuer\n",
    )
}

fn replaced(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from:?} not in {text}");
    text.replace(from, to)
}

/// The whole manifest of `body`.
pub fn manifest(body: &str) -> String {
    format!("{HEAD}{body}")
}

pub fn write(dir: &Path, manifest: &str) {
    std::fs::write(dir.join("org.yaml"), manifest).unwrap();
}

fn sa(id: &str, name: &str, description: Option<&str>) -> ServiceAccount {
    ServiceAccount {
        id: id.into(),
        name: name.into(),
        description: description.map(str::to_owned),
        organization_role: ServiceAccountRole::Developer,
        created_at: "2026-01-01T00:00:00Z".parse().unwrap(),
        archived_at: None,
    }
}

/// The emulator's small seed with `keep-bot` (a `workspace_user` of Production) and
/// `old-bot`, serving [`TOKEN`].
pub struct IdOrg {
    org: Org,
}

impl IdOrg {
    pub fn start(readings: Readings, faults: FaultConfig) -> Self {
        let mut seed = orgform_emulator::seeds::small();
        let production = seed
            .workspaces
            .iter()
            .find(|w| w.name == "Production")
            .unwrap()
            .id
            .clone();
        seed.identities = Some(Identities {
            service_accounts: vec![
                sa(
                    "svac_01KeepBot00000000000000",
                    "keep-bot",
                    Some("old words"),
                ),
                sa("svac_01OldBot000000000000000", "old-bot", None),
            ],
            service_account_members: vec![ServiceAccountMember {
                workspace_id: production,
                service_account_id: "svac_01KeepBot00000000000000".into(),
                workspace_role: WorkspaceRole::WorkspaceUser,
            }],
            ..Identities::default()
        });
        let org = Org::start_with(EmulatorConfig {
            seed,
            bearer_tokens: vec![TOKEN.to_owned()],
            test_controls: true,
            readings,
            faults,
            ..EmulatorConfig::default()
        });
        Self { org }
    }

    pub fn emulator(&self) -> &Emulator {
        &self.org.emulator
    }

    /// Writes so far (anything but GET), as `METHOD path`.
    pub fn writes(&self) -> Vec<String> {
        self.org.writes()
    }

    /// `orgform ARGS` as a user runs it: the token in `ANTHROPIC_AUTH_TOKEN`, no admin key,
    /// no hidden flag, `env` added.
    pub fn plain(&self, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
        self.run(dir, args, env)
    }

    /// `orgform ARGS --rate-limit 0 --now NOW`, otherwise as [`IdOrg::plain`].
    pub fn hidden(&self, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
        let now = self.emulator().now().to_string();
        let hidden = ["--rate-limit", "0", "--now", now.as_str()];
        self.run(dir, &[args, &hidden].concat(), env)
    }

    fn run(&self, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
        let output = assert_cmd::Command::cargo_bin("orgform")
            .unwrap()
            .current_dir(dir)
            .args(args)
            .env("ANTHROPIC_BASE_URL", self.emulator().base_url())
            .env_remove("ANTHROPIC_ADMIN_KEY")
            .env_remove("ANTHROPIC_FEDERATION_RULE_ID")
            .env_remove("ANTHROPIC_SERVICE_ACCOUNT_ID")
            .env("ANTHROPIC_AUTH_TOKEN", TOKEN)
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .write_stdin("")
            .timeout(std::time::Duration::from_secs(120))
            .output()
            .unwrap();
        let run: Run = output.into();
        assert!(
            !run.stdout.contains("CANARY") && !run.stderr.contains("CANARY"),
            "the token leaked: {run:?}"
        );
        run
    }

    /// `plan --detailed-exitcode` exits 0, with and without the hidden flags.
    pub fn assert_converged(&self, dir: &Path) {
        self.assert_converged_with(dir, &[]);
    }

    pub fn assert_converged_with(&self, dir: &Path, extra: &[&str]) {
        let args = [&["plan", "--detailed-exitcode"][..], extra].concat();
        let plain = self.plain(dir, &args, &[]);
        assert_eq!(plain.code, 0, "converged: {plain:?}");
        let hidden = self.hidden(dir, &args, &[]);
        assert_eq!(hidden.code, 0, "converged (hidden flags): {hidden:?}");
    }

    /// The workspace named `name`.
    pub fn workspace_id(&self, name: &str) -> String {
        self.emulator()
            .state()
            .workspaces
            .iter()
            .find(|w| w.name == name)
            .unwrap_or_else(|| panic!("no workspace {name}"))
            .id
            .clone()
    }

    /// The explicit role of the non-archived service account `sa` in workspace `ws`.
    pub fn explicit_role(&self, sa: &str, ws: &str) -> Option<WorkspaceRole> {
        let id = sa_named(self, sa).id;
        let ws = self.workspace_id(ws);
        self.identities()
            .service_account_members
            .into_iter()
            .find(|m| m.service_account_id == id && m.workspace_id == ws)
            .map(|m| m.workspace_role)
    }

    pub fn identities(&self) -> Identities {
        self.emulator().state_read_by_token().identities.unwrap()
    }
}

/// The service account named `name` (the non-archived one when there is one).
pub fn sa_named(org: &IdOrg, name: &str) -> ServiceAccount {
    let mut all: Vec<ServiceAccount> = org
        .identities()
        .service_accounts
        .into_iter()
        .filter(|s| s.name == name)
        .collect();
    all.sort_by_key(ServiceAccount::is_archived);
    all.into_iter()
        .next()
        .unwrap_or_else(|| panic!("no service account {name}"))
}

/// The id of the federation rule named `name`.
pub fn rule_id(org: &IdOrg, name: &str) -> String {
    org.identities()
        .federation_rules
        .into_iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no rule {name}"))
        .id
}

/// Names of the archived service accounts, issuers and rules, sorted.
pub fn archived_names(org: &IdOrg) -> Vec<String> {
    let ids = org.identities();
    let mut names: Vec<String> = ids
        .service_accounts
        .iter()
        .filter(|s| s.is_archived())
        .map(|s| s.name.clone())
        .chain(
            ids.federation_issuers
                .iter()
                .filter(|i| i.is_archived())
                .map(|i| i.name.clone()),
        )
        .chain(
            ids.federation_rules
                .iter()
                .filter(|r| r.is_archived())
                .map(|r| r.name.clone()),
        )
        .collect();
    names.sort();
    names
}
