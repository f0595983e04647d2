//! `brickstack audit`: the environment checked against the platform-administration practices
//! (docs/audit.md). The rules are `brickstack-audit`'s; this module reads the spec, and for
//! `--live` asks the deployed workspace (found in state) through the Databricks client.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use brickstack_audit::Severity;
use brickstack_audit::live::{
    LiveAccount, LiveCluster, LiveInitScript, LiveIpAccessList, LivePolicy, LiveServicePrincipal,
    LiveSystemSchema, LiveToken, LiveWorkspaceConf, Observed,
};
use brickstack_databricks::DatabricksProvider;
use brickstack_databricks::workspace::WorkspaceClient;
use brickstack_databricks::workspace::clusters::ClusterFilter;
use brickstack_state::StateStore;

use crate::backend::Backend;
use crate::{EXIT_INVALID_INPUT, SpecArgs};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum AuditFormat {
    Text,
    Json,
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Low,
    Medium,
    High,
    Critical,
}

impl FailOn {
    fn severity(self) -> Severity {
        match self {
            FailOn::Low => Severity::Low,
            FailOn::Medium => Severity::Medium,
            FailOn::High => Severity::High,
            FailOn::Critical => Severity::Critical,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Also check the deployed account and workspace (the workspace state records)
    #[arg(long)]
    pub live: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = AuditFormat::Text)]
    pub format: AuditFormat,
    /// Same as `--format json`
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Exit 1 when a finding is at or above this severity
    #[arg(long, value_enum, default_value_t = FailOn::Medium)]
    pub fail_on: FailOn,
    /// Write the report to this file instead of standard output
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub async fn audit(args: &AuditArgs) -> anyhow::Result<ExitCode> {
    let path = crate::commands::spec_path(&args.spec);
    let file = display_path(&path);
    let source = match std::fs::read_to_string(&path) {
        Ok(s) => s,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("error: no spec at `{file}`");
            eprintln!(
                "  hint: `-e ENV` reads `environments/ENV.toml` from the current directory; run from the repository root or pass `--file PATH`"
            );
            return Ok(ExitCode::from(EXIT_INVALID_INPUT));
        }
        Err(err) => return Err(err).with_context(|| format!("reading `{file}`")),
    };
    let parsed = match &args.spec.env {
        Some(env) if args.spec.file.is_none() => {
            brickstack_spec::parse_environment(env, &file, &source)
        }
        _ => brickstack_spec::parse(&file, &source),
    };
    let spec = match parsed {
        Ok(spec) => spec,
        Err(errors) => {
            let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            eprint!("{}", errors.render(color));
            return Ok(ExitCode::from(EXIT_INVALID_INPUT));
        }
    };
    let observation = if args.live {
        match observe(args).await? {
            Ok(seen) => Some(seen),
            Err(code) => return Ok(code),
        }
    } else {
        None
    };
    let report = brickstack_audit::audit(&file, &source, &spec, observation.as_ref());
    let fail_on = args.fail_on.severity();
    let format = if args.json {
        AuditFormat::Json
    } else {
        args.format
    };
    let mut rendered = match format {
        AuditFormat::Text => brickstack_audit::render::text(&report, fail_on),
        AuditFormat::Json => {
            serde_json::to_string_pretty(&brickstack_audit::render::json(&report, fail_on))?
        }
        AuditFormat::Sarif => serde_json::to_string_pretty(&brickstack_audit::render::sarif(
            &report,
            env!("CARGO_PKG_VERSION"),
            &file,
        ))?,
    };
    if !rendered.ends_with('\n') {
        rendered.push('\n');
    }
    match &args.output {
        Some(out) => std::fs::write(out, &rendered)
            .with_context(|| format!("writing `{}`", out.display()))?,
        None => print!("{rendered}"),
    }
    Ok(if report.failing(fail_on) > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The spec's path as findings name it: relative, `/`-separated, without `./`, so SARIF's
/// `artifactLocation.uri` resolves against the repository root when run from it.
fn display_path(path: &Path) -> String {
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf());
    let text = relative.to_string_lossy().replace('\\', "/");
    text.strip_prefix("./").unwrap_or(&text).to_string()
}

/// What the deployed workspace shows: its URL from state, the calls through the environment's
/// Databricks provider (the account's service principal, the client's retries).
async fn observe(
    args: &AuditArgs,
) -> anyhow::Result<Result<brickstack_audit::live::LiveObservation, ExitCode>> {
    let env = match crate::run_commands::environment(&args.spec, false).await? {
        Ok(env) => env,
        Err(code) => return Ok(Err(code)),
    };
    let backend = match Backend::for_spec(&env.spec).await {
        Ok(backend) => backend,
        Err(code) => return Ok(Err(code)),
    };
    let state = backend.read().await.context("reading state")?;
    let workspaces = state
        .as_ref()
        .map(crate::monitor_command::workspaces_in)
        .unwrap_or_default();
    let Some(workspace) = workspaces.into_iter().next() else {
        eprintln!(
            "error: `--live` found no deployed workspace of `{}` in state ({})",
            env.spec.environment.name,
            backend.location()
        );
        eprintln!(
            "  hint: deploy it first (`brickstack apply`), or audit the spec alone without `--live`"
        );
        return Ok(Err(ExitCode::from(EXIT_INVALID_INPUT)));
    };
    let provider = &env.provider.second.first;
    let client = match provider.workspace_client(&workspace.url).await {
        Ok(client) => Some(client),
        Err(e) => {
            eprintln!("warning: workspace `{}`: {e}", workspace.url);
            None
        }
    };
    let live = CliLive {
        provider,
        client,
        url: workspace.url,
        workspace_id: workspace.workspace_id,
    };
    Ok(Ok(brickstack_audit::live::observe(&live).await))
}

/// [`LiveAccount`] over brickstack's Databricks client.
struct CliLive<'a> {
    provider: &'a DatabricksProvider,
    /// `None` when no client of the workspace could be made: every workspace check is then
    /// unverified, with the reason printed once on stderr.
    client: Option<WorkspaceClient>,
    url: String,
    workspace_id: i64,
}

fn unverified<T>(call: &str, e: impl std::fmt::Display) -> Observed<T> {
    Observed::CannotBeVerified(format!("{call} failed: {e}"))
}

impl CliLive<'_> {
    fn client(&self) -> Result<&WorkspaceClient, String> {
        self.client
            .as_ref()
            .ok_or_else(|| format!("no client of workspace `{}` could be made", self.url))
    }
}

impl LiveAccount for CliLive<'_> {
    fn workspace(&self) -> String {
        self.url.clone()
    }

    async fn clusters(&self) -> Observed<Vec<LiveCluster>> {
        let client = match self.client() {
            Ok(c) => c,
            Err(e) => return Observed::CannotBeVerified(e),
        };
        match client.list_clusters(&ClusterFilter::default()).await {
            Ok(clusters) => Observed::Seen(
                clusters
                    .into_iter()
                    .map(|c| LiveCluster {
                        name: c.spec.cluster_name.clone().unwrap_or_default(),
                        source: c.cluster_source.clone(),
                        autotermination_minutes: c.spec.autotermination_minutes,
                        policy_id: c.spec.policy_id.clone(),
                        spark_conf: c.spec.spark_conf.clone().into_iter().collect(),
                        spark_env_vars: c.spec.spark_env_vars.clone().into_iter().collect(),
                        cluster_id: c.cluster_id,
                    })
                    .collect(),
            ),
            Err(e) => unverified("clusters/list", e),
        }
    }

    async fn policies(&self) -> Observed<Vec<LivePolicy>> {
        let client = match self.client() {
            Ok(c) => c,
            Err(e) => return Observed::CannotBeVerified(e),
        };
        match client.list_policies().await {
            Ok(policies) => Observed::Seen(
                policies
                    .into_iter()
                    .map(|p| LivePolicy {
                        policy_id: p.policy_id,
                        name: p.spec.name,
                        definition: p.spec.definition.unwrap_or_else(|| "{}".into()),
                        is_default: p.is_default,
                    })
                    .collect(),
            ),
            Err(e) => unverified("policies/clusters/list", e),
        }
    }

    /// Listing leaves the scripts' content out: each is read with `get`.
    async fn init_scripts(&self) -> Observed<Vec<LiveInitScript>> {
        let client = match self.client() {
            Ok(c) => c,
            Err(e) => return Observed::CannotBeVerified(e),
        };
        let listed = match client.list_global_init_scripts().await {
            Ok(listed) => listed,
            Err(e) => return unverified("global-init-scripts", e),
        };
        let mut scripts = Vec::new();
        for script in listed {
            match client.get_global_init_script(&script.script_id).await {
                Ok(Some(full)) => scripts.push(LiveInitScript {
                    content: String::from_utf8_lossy(&full.script.unwrap_or_default()).into_owned(),
                    script_id: full.script_id,
                    name: full.name,
                }),
                // Deleted since the listing: nothing to check.
                Ok(None) => {}
                Err(e) => return unverified("global-init-scripts/get", e),
            }
        }
        Observed::Seen(scripts)
    }

    async fn tokens(&self) -> Observed<Vec<LiveToken>> {
        let client = match self.client() {
            Ok(c) => c,
            Err(e) => return Observed::CannotBeVerified(e),
        };
        match client.list_managed_tokens(None).await {
            Ok(tokens) => Observed::Seen(
                tokens
                    .into_iter()
                    .map(|t| LiveToken {
                        token_id: t.token_id,
                        comment: t.comment,
                        owner_id: t.owner_id,
                        created_by: t.created_by_username,
                        creation_time: t.creation_time,
                        expiry_time: t.expiry_time,
                    })
                    .collect(),
            ),
            Err(e) => unverified("token-management/tokens", e),
        }
    }

    async fn service_principals(&self) -> Observed<Vec<LiveServicePrincipal>> {
        let client = match self.client() {
            Ok(c) => c,
            Err(e) => return Observed::CannotBeVerified(e),
        };
        match client.service_principals().list(None).await {
            Ok(principals) => Observed::Seen(
                principals
                    .into_iter()
                    .map(|p| LiveServicePrincipal {
                        id: p.id.unwrap_or_default(),
                        application_id: p.application_id,
                        display_name: p.display_name,
                    })
                    .collect(),
            ),
            Err(e) => unverified("scim/v2/ServicePrincipals", e),
        }
    }

    async fn workspace_conf(&self) -> Observed<LiveWorkspaceConf> {
        let client = match self.client() {
            Ok(c) => c,
            Err(e) => return Observed::CannotBeVerified(e),
        };
        match client
            .get_workspace_conf(&["maxTokenLifetimeDays", "enableIpAccessLists"])
            .await
        {
            Ok(mut conf) => Observed::Seen(LiveWorkspaceConf {
                max_token_lifetime_days: conf.remove("maxTokenLifetimeDays"),
                enable_ip_access_lists: conf.remove("enableIpAccessLists"),
            }),
            Err(e) => unverified("workspace-conf", e),
        }
    }

    async fn ip_access_lists(&self) -> Observed<Vec<LiveIpAccessList>> {
        let client = match self.client() {
            Ok(c) => c,
            Err(e) => return Observed::CannotBeVerified(e),
        };
        match client.list_ip_access_lists().await {
            Ok(lists) => Observed::Seen(
                lists
                    .into_iter()
                    .map(|l| LiveIpAccessList {
                        addresses: l.ip_addresses.len(),
                        label: l.label,
                        list_type: l.list_type.as_str().to_string(),
                        enabled: l.enabled,
                    })
                    .collect(),
            ),
            Err(e) => unverified("ip-access-lists", e),
        }
    }

    async fn network_id(&self) -> Observed<Option<String>> {
        match self
            .provider
            .account()
            .get_workspace(self.workspace_id)
            .await
        {
            Ok(Some(w)) => Observed::Seen(w.network_id),
            Ok(None) => Observed::CannotBeVerified(format!(
                "the account has no workspace {} (state is out of date: run `brickstack plan`)",
                self.workspace_id
            )),
            Err(e) => unverified("accounts/workspaces", e),
        }
    }

    async fn metastore_id(&self) -> Observed<Option<String>> {
        let client = match self.client() {
            Ok(c) => c,
            Err(e) => return Observed::CannotBeVerified(e),
        };
        match client.current_metastore_assignment().await {
            Ok(assignment) => Observed::Seen(assignment.map(|a| a.metastore_id)),
            Err(e) => unverified("unity-catalog/current-metastore-assignment", e),
        }
    }

    /// The schemas of the workspace's metastore; none when it has no metastore (nothing can be
    /// enabled then, which BSA016 reports).
    async fn system_schemas(&self) -> Observed<Vec<LiveSystemSchema>> {
        let client = match self.client() {
            Ok(c) => c,
            Err(e) => return Observed::CannotBeVerified(e),
        };
        let metastore_id = match client.current_metastore_assignment().await {
            Ok(Some(a)) => a.metastore_id,
            Ok(None) => return Observed::Seen(Vec::new()),
            Err(e) => return unverified("unity-catalog/current-metastore-assignment", e),
        };
        match client.list_system_schemas(&metastore_id).await {
            Ok(schemas) => Observed::Seen(
                schemas
                    .into_iter()
                    .map(|s| LiveSystemSchema {
                        enabled: s.state.is_enabled(),
                        state: s.state.as_str().to_string(),
                        schema: s.schema,
                    })
                    .collect(),
            ),
            Err(e) => unverified("unity-catalog/metastores/systemschemas", e),
        }
    }

    async fn account_groups(&self) -> Observed<Vec<String>> {
        match self.provider.account().list_account_groups(None).await {
            Ok(groups) => Observed::Seen(groups.into_iter().map(|g| g.display_name).collect()),
            Err(e) => unverified("accounts/scim/v2/Groups", e),
        }
    }
}
