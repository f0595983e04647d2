//! The `brickstack` command: thin argument handling over the library crates.

mod access;
mod audit_command;
mod aws;
mod backend;
mod commands;
mod databricks;
mod import_command;
mod monitor_command;
mod report;
mod run_commands;
mod schedule;
mod serve_command;
mod sleep_commands;
mod state_commands;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code for invalid input or usage, as clap uses for usage errors.
pub const EXIT_INVALID_INPUT: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "brickstack",
    version,
    about = "Deploy and run Databricks on AWS from one TOML file per environment"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Which spec file a command reads.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub struct SpecArgs {
    /// Environment name: reads `environments/<ENV>.toml`
    #[arg(short = 'e', long = "env", value_name = "ENV")]
    pub env: Option<String>,
    /// Read the spec from this file instead
    #[arg(long = "file", value_name = "PATH")]
    pub file: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a spec and report every problem in it
    Validate {
        #[command(flatten)]
        spec: SpecArgs,
    },
    /// Show what apply would change: drift, then each change attribute by attribute
    Plan(run_commands::PlanArgs),
    /// Make the environment match its spec (or apply a saved plan)
    Apply(run_commands::ApplyArgs),
    /// Destroy every object of the environment, in reverse dependency order
    Destroy(run_commands::DestroyArgs),
    /// Replace every Databricks token: new ones stored and checked first, then the old revoked
    RotateTokens(run_commands::RotateTokensArgs),
    /// Create the state backend: the state bucket, its KMS key and alias, the lock table
    Bootstrap(run_commands::BootstrapArgs),
    /// Destroy the network's idle costs (NAT gateways, their addresses and routes, interface
    /// endpoints), keeping their records for `wake`; refused while clusters run unless `--force`
    Sleep(sleep_commands::SleepArgs),
    /// Recreate what `sleep` destroyed, so the environment matches its spec again
    Wake(sleep_commands::WakeArgs),
    /// Give one person a single-user cluster, or take it away (docs/access.md)
    Access {
        #[command(subcommand)]
        command: AccessCommand,
    },
    /// Run the ops service: the access API for the identity provider's workflow (docs/serve.md)
    /// and the cluster-failure monitor (docs/monitor.md)
    Serve(serve_command::ServeArgs),
    /// The cluster-failure monitor: without a subcommand, run the service (as `serve`); `report`
    /// prints the figures of its records (docs/monitor.md)
    #[command(args_conflicts_with_subcommands = true)]
    Monitor {
        #[command(subcommand)]
        command: Option<MonitorCommand>,
        #[command(flatten)]
        serve: Option<serve_command::ServeArgs>,
    },
    /// Bring existing objects under management: record one (`ADDRESS ID`) or, with
    /// `--discover`, every one found by name and tags; then show the reconciling plan
    Import(import_command::ImportArgs),
    /// Look into or repair the recorded state
    State {
        #[command(subcommand)]
        command: StateCommand,
    },
    /// Remove a lock left by a run that died (its lease shows it as stale)
    ForceUnlock {
        #[command(flatten)]
        spec: SpecArgs,
        /// The lock's id, as the error naming the holder shows it
        lock_id: String,
    },
    /// Print the crontab lines and systemd units that sleep and wake an environment on its schedule
    Schedule(commands::ScheduleArgs),
    /// Check the environment against the platform-administration practices (docs/audit.md):
    /// exit 0 when clean, 1 on findings at or above `--fail-on`, 2 on a bad spec
    Audit(audit_command::AuditArgs),
    /// Print the resource graph an environment compiles to
    Graph {
        #[command(flatten)]
        spec: SpecArgs,
        /// Output format
        #[arg(long, value_enum, default_value_t = commands::GraphFormat::Text)]
        format: commands::GraphFormat,
        /// Print the bootstrap graph (state bucket, its key, lock table) instead
        #[arg(long)]
        bootstrap: bool,
    },
}

#[derive(Debug, Subcommand)]
enum AccessCommand {
    /// Record the person in state and create their cluster: user, cluster booted once,
    /// libraries installed, permission granted, cluster terminated, person notified
    Grant(access::AccessArgs),
    /// Remove the person's grant and delete their cluster at once (refused for a person the
    /// spec lists)
    Revoke(access::AccessArgs),
}

#[derive(Debug, Subcommand)]
enum MonitorCommand {
    /// Failures in the last 24 hours per error type, mean time to recovery, breaker openings,
    /// open tickets: from the records, no API call
    Report(monitor_command::ReportArgs),
}

#[derive(Debug, Subcommand)]
enum StateCommand {
    /// List recorded resources with their object ids
    List {
        #[command(flatten)]
        spec: SpecArgs,
    },
    /// Show one recorded resource as JSON
    Show {
        #[command(flatten)]
        spec: SpecArgs,
        address: String,
    },
    /// Forget a resource without touching its object
    Rm {
        #[command(flatten)]
        spec: SpecArgs,
        address: String,
    },
}

/// Who runs brickstack, for lock information: `user@host`.
pub fn runner() -> brickstack_exec::Runner {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown-host".into());
    brickstack_exec::Runner {
        who: format!("{user}@{host}"),
        version: env!("CARGO_PKG_VERSION").to_string(),
        lease_seconds: 60,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command {
        Command::Plan(args) => run_commands::plan(&args).await,
        Command::Apply(args) => run_commands::apply(&args).await,
        Command::Import(args) => import_command::import(&args).await,
        Command::Destroy(args) => run_commands::destroy(&args).await,
        Command::Bootstrap(args) => run_commands::bootstrap(&args).await,
        Command::RotateTokens(args) => run_commands::rotate_tokens(&args).await,
        Command::Sleep(args) => sleep_commands::sleep(&args).await,
        Command::Wake(args) => sleep_commands::wake(&args).await,
        Command::Access { command } => match command {
            AccessCommand::Grant(args) => access::grant(&args).await,
            AccessCommand::Revoke(args) => access::revoke(&args).await,
        },
        Command::Serve(args) => serve_command::serve(&args).await,
        Command::Monitor { command, serve } => match (command, serve) {
            (Some(MonitorCommand::Report(args)), _) => monitor_command::report(&args),
            (None, Some(args)) => serve_command::serve(&args).await,
            (None, None) => {
                eprintln!(
                    "error: `brickstack monitor` needs `-e ENV` (or `--file PATH`), or a subcommand"
                );
                eprintln!(
                    "  hint: `brickstack monitor -e dev` runs the service; `brickstack monitor report -e dev` prints its figures"
                );
                Ok(ExitCode::from(EXIT_INVALID_INPUT))
            }
        },
        Command::State { command } => match command {
            StateCommand::List { spec } => state_commands::list(&spec).await,
            StateCommand::Show { spec, address } => state_commands::show(&spec, &address).await,
            StateCommand::Rm { spec, address } => state_commands::rm(&spec, &address).await,
        },
        Command::ForceUnlock { spec, lock_id } => {
            state_commands::force_unlock(&spec, &lock_id).await
        }
        Command::Validate { spec } => commands::validate(&spec),
        Command::Audit(args) => audit_command::audit(&args).await,
        Command::Schedule(args) => commands::schedule(&args),
        Command::Graph {
            spec,
            format,
            bootstrap,
        } => commands::graph(&spec, format, bootstrap),
    };
    match result {
        Ok(code) => code,
        // Bad input from the environment (an unusable `AWS_CA_BUNDLE`), found before any call.
        Err(err) if err.is::<brickstack_aws::ConfigError>() => {
            let config = err.downcast_ref::<brickstack_aws::ConfigError>().unwrap();
            eprintln!("error: {config}\n  hint: {}", config.hint());
            ExitCode::from(EXIT_INVALID_INPUT)
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Diagnostics on stderr, filtered by `BRICKSTACK_LOG` (`RUST_LOG` syntax, e.g. `debug` or
/// `brickstack_databricks=debug`); warnings only by default. Secret values are `SecretValue`s,
/// which never print; what the SDK and the HTTP stack log is capped by [`wire_cap`] whatever the
/// filter asks, since at `trace` they print whole requests and bodies (a decrypted SSM parameter,
/// a minted token).
fn init_logging() {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let filter = tracing_subscriber::EnvFilter::try_from_env("BRICKSTACK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let detail = filter
        .max_level_hint()
        .is_some_and(|max| max >= tracing::level_filters::LevelFilter::DEBUG);
    let cap = tracing_subscriber::filter::filter_fn(move |meta| wire_cap(meta, detail));
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_target(true)
                .with_filter(filter)
                .with_filter(cap),
        )
        .init();
}

/// Crates whose logs describe requests and answers on the wire, not brickstack's work.
const WIRE_TARGETS: &[&str] = &[
    "aws_",
    "hyper",
    "h2",
    "reqwest",
    "rustls",
    "tokio_rustls",
    "tower",
    "http_body",
];

/// Whether an event or span may pass: ours always (the filter decides); the SDK's and the HTTP
/// stack's only when the filter asks for `debug` or more (`detail`: the SDK's own warnings, such
/// as instance metadata not answering, mean nothing to a user our error does not say better), and
/// never at `trace`, where they print bodies and headers.
fn wire_cap(meta: &tracing::Metadata<'_>, detail: bool) -> bool {
    let wire = WIRE_TARGETS.iter().any(|t| meta.target().starts_with(t));
    !wire || (detail && *meta.level() < tracing::Level::TRACE)
}
