//! `brickstack-databricks-emulator [PORT]`: serves the Databricks emulator (account API, and the
//! workspace API under `/w/<workspace_id>`) on 127.0.0.1 (port 0 = any free port) and prints the
//! bound address on its first line of stdout, `listening on http://127.0.0.1:<port>`, so
//! `scripts/emulators.sh` can read it without a race.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::Context;
use brickstack_databricks_emulator::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DatabricksEmulatorConfig, Provisioning, router,
};
use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    about = "Databricks emulator (account and workspace APIs) for brickstack's tests (listens on 127.0.0.1 only)"
)]
struct Args {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(default_value_t = 0)]
    port: u16,
    /// The OAuth client id to accept.
    #[arg(long, env = "BRICKSTACK_EMULATOR_CLIENT_ID", default_value = DEFAULT_CLIENT_ID)]
    client_id: String,
    /// The OAuth client secret to accept (test-only).
    #[arg(long, env = "BRICKSTACK_EMULATOR_CLIENT_SECRET", default_value = DEFAULT_CLIENT_SECRET, hide_env_values = true)]
    client_secret: String,
    /// Minimum milliseconds a workspace spends in PROVISIONING.
    #[arg(long, default_value_t = 0)]
    provisioning_delay_ms: u64,
    /// Minimum GETs that see PROVISIONING before one sees RUNNING.
    #[arg(long, default_value_t = 1)]
    provisioning_polls: u32,
    /// Template for `workspace_url` (`{deployment_name}`, `{workspace_id}` are replaced); unset =
    /// `http://127.0.0.1:<port>/w/{workspace_id}`, served by this process.
    #[arg(long)]
    workspace_url_template: Option<String>,
    /// Emulator-clock milliseconds a cluster spends starting, restarting or resizing.
    #[arg(long, default_value_t = 200)]
    cluster_start_delay_ms: u64,
    /// Accepted clusters/create calls per workspace per minute before 429
    /// REQUEST_LIMIT_EXCEEDED; 0 = unlimited.
    #[arg(
        long,
        env = "BRICKSTACK_EMULATOR_CLUSTER_CREATES_PER_MINUTE",
        default_value_t = 0
    )]
    cluster_creates_per_minute: u32,
    /// Seed of the fault rules' random draws.
    #[arg(long, default_value_t = 42)]
    fault_seed: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let config = DatabricksEmulatorConfig {
        client_id: args.client_id,
        client_secret: args.client_secret,
        provisioning: Provisioning {
            delay: Duration::from_millis(args.provisioning_delay_ms),
            polls: args.provisioning_polls,
        },
        workspace_url_template: args.workspace_url_template,
        cluster_start_delay: Duration::from_millis(args.cluster_start_delay_ms),
        fault_seed: args.fault_seed,
        cluster_creates_per_minute: args.cluster_creates_per_minute,
        ..DatabricksEmulatorConfig::default()
    };
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let bound = listener.local_addr()?;
    println!("listening on http://{bound}");
    std::io::stdout().flush()?;
    axum::serve(listener, router(config, &format!("http://{bound}")))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("server failed")?;
    Ok(())
}

/// Ctrl-C or SIGTERM (what `scripts/emulators.sh stop` sends).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
