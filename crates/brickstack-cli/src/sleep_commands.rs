//! `sleep` and `wake`: the network's costly idle parts (the `sleep` selection the generator
//! defines) destroyed overnight with their records kept as asleep, and recreated in the morning.

use std::collections::BTreeSet;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use brickstack_databricks::DatabricksProvider;
use brickstack_databricks::workspace::clusters::ClusterDetails;
use brickstack_exec::{ApplyOptions, Engine, RefreshMode, Refusal, Request};
use brickstack_graph::saving::hourly_saving;
use brickstack_plan::{Plan, RunMode};
use brickstack_provider::ErrorClass;
use brickstack_state::{ResourceStatus, State, StateStore};

use crate::backend::Backend;
use crate::run_commands::{
    Environment, Progress, color, environment, report_engine_error, summarise,
};
use crate::{SpecArgs, runner};

#[derive(Debug, clap::Args)]
pub struct SleepArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Sleep even while clusters of the workspace run (they lose their route out)
    #[arg(long)]
    pub force: bool,
    /// Sleep without asking for confirmation
    #[arg(long)]
    pub auto_approve: bool,
}

#[derive(Debug, clap::Args)]
pub struct WakeArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Wake without asking for confirmation
    #[arg(long)]
    pub auto_approve: bool,
}

/// Destroys the `sleep` selection's live objects, keeping their records as asleep. Refused while
/// a cluster of the environment's workspace runs, unless `--force`.
pub async fn sleep(args: &SleepArgs) -> anyhow::Result<ExitCode> {
    let env = match environment(&args.spec, false).await? {
        Ok(env) => env,
        Err(code) => return Ok(code),
    };
    let name = env.spec.environment.name.clone();
    let backend = match Backend::for_spec(&env.spec).await {
        Ok(backend) => backend,
        Err(code) => return Ok(code),
    };
    let selection =
        brickstack_graph::selections::select("sleep", &env.spec, &env.graph).unwrap_or_default();
    let saving = hourly_saving(&env.spec, &env.graph, &selection);
    if selection.is_empty() {
        println!(
            "`{name}` has nothing to put to sleep: its `[sleep]` section selects nothing its network has."
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mode = RunMode::Sleep(selection.iter().map(ToString::to_string).collect());
    let engine = Engine {
        provider: &env.provider,
        store: &backend,
        runner: runner(),
    };
    let request = request(&env);
    let plan = match engine.plan_for(&request, &mode).await {
        Ok(plan) => plan,
        Err(e) => return Ok(report_engine_error(&e)),
    };
    print!("{}", brickstack_plan::render::text(&plan, color()));
    if !plan.has_changes() {
        if plan.asleep.is_empty() {
            println!(
                "\nNothing of `{name}`'s sleep selection is deployed: nothing to put to sleep."
            );
        } else {
            println!("\n`{name}` is already asleep: nothing to do.");
            print!("{}", saving.text());
        }
        return Ok(ExitCode::SUCCESS);
    }
    // Checked before asking, and again under the lock right before anything is destroyed. With
    // `--force`, what will lose its route out is only named.
    let state = backend
        .read()
        .await?
        .unwrap_or_else(|| State::new(&name, ""));
    if let Err(refusal) = no_cluster_running(&env.provider.second.first, &state, &name).await {
        if !args.force {
            return Ok(refuse(&refusal));
        }
        eprintln!("warning: {} (sleeping anyway: --force)", refusal.message);
    }
    if !args.auto_approve && !confirm("sleep", &format!("put `{name}` to sleep as shown"), &name)? {
        eprintln!("sleep cancelled: nothing was changed");
        return Ok(ExitCode::FAILURE);
    }
    let force = args.force;
    let databricks = &env.provider.second.first;
    let admit = async |state: &State| {
        if force {
            Ok(())
        } else {
            no_cluster_running(databricks, state, &name).await
        }
    };
    let code = apply(&engine, &request, &mode, &plan, admit).await?;
    if code == ExitCode::SUCCESS {
        println!();
        print!("{}", saving.text());
        println!("`brickstack wake -e {name}` recreates what sleeps.");
    }
    Ok(code)
}

/// Recreates every asleep resource still in the spec, and updates what depends on it.
pub async fn wake(args: &WakeArgs) -> anyhow::Result<ExitCode> {
    let env = match environment(&args.spec, false).await? {
        Ok(env) => env,
        Err(code) => return Ok(code),
    };
    let name = env.spec.environment.name.clone();
    let backend = match Backend::for_spec(&env.spec).await {
        Ok(backend) => backend,
        Err(code) => return Ok(code),
    };
    let engine = Engine {
        provider: &env.provider,
        store: &backend,
        runner: runner(),
    };
    let request = request(&env);
    let plan = match engine.plan_for(&request, &RunMode::Wake).await {
        Ok(plan) => plan,
        Err(e) => return Ok(report_engine_error(&e)),
    };
    print!("{}", brickstack_plan::render::text(&plan, color()));
    if !plan.has_changes() {
        println!("\n`{name}` is awake: nothing asleep to wake.");
        return Ok(ExitCode::SUCCESS);
    }
    if !args.auto_approve && !confirm("wake", &format!("wake `{name}` as shown"), &name)? {
        eprintln!("wake cancelled: nothing was changed");
        return Ok(ExitCode::FAILURE);
    }
    let code = apply(
        &engine,
        &request,
        &RunMode::Wake,
        &plan,
        async |_: &State| Ok(()),
    )
    .await?;
    if code == ExitCode::SUCCESS {
        println!("`{name}` is awake.");
    }
    Ok(code)
}

/// The whole graph, fully refreshed: sleep and wake decide themselves what they touch.
fn request(env: &Environment) -> Request<'_> {
    Request {
        environment: &env.spec.environment.name,
        graph: &env.graph,
        targets: &[],
        excludes: &[],
        replace: &[],
        refresh: RefreshMode::Full,
    }
}

/// Applies `plan` (a run of `mode`) under the lock, with progress and Ctrl-C, after `admit`
/// allowed it against the state as it is then.
async fn apply<S: StateStore>(
    engine: &Engine<'_, crate::run_commands::Providers, S>,
    request: &Request<'_>,
    mode: &RunMode,
    plan: &Plan,
    admit: impl AsyncFn(&State) -> Result<(), Refusal>,
) -> anyhow::Result<ExitCode> {
    let cancel = Arc::new(AtomicBool::new(false));
    let on_interrupt = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!(
                "\ninterrupted: finishing the operations under way, then saving state and releasing the lock"
            );
            on_interrupt.store(true, Ordering::SeqCst);
        }
    });
    let progress = Progress::new();
    let started = Instant::now();
    let result = engine
        .apply_for(
            request,
            mode,
            Some(plan),
            admit,
            &ApplyOptions::default(),
            &|e| progress.event(e),
            &cancel,
        )
        .await;
    match result {
        Ok(report) => Ok(summarise(
            &report,
            started.elapsed(),
            engine.store.location(),
        )),
        Err(brickstack_exec::EngineError::Refused(refusal)) => Ok(refuse(&refusal)),
        Err(e) => Ok(report_engine_error(&e)),
    }
}

/// Asks before `command` changes anything; only `yes` goes on.
fn confirm(command: &str, question: &str, environment: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "{command} needs confirmation but standard input is not a terminal; pass `--auto-approve` to {command} `{environment}` without asking"
        );
    }
    print!("\nDo you want to {question}? Only `yes` is accepted: ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}

fn refuse(refusal: &Refusal) -> ExitCode {
    eprintln!("error: {}", refusal.message);
    eprintln!("  hint: {}", refusal.hint);
    ExitCode::FAILURE
}

/// Refuses while a cluster of the environment's workspace is starting, running, resizing or
/// restarting: without the NAT gateway it loses its route out. The workspace is the one state
/// records (`databricks_mws_workspaces`, its `workspace_url`); without one, nothing runs.
async fn no_cluster_running(
    databricks: &DatabricksProvider,
    state: &State,
    environment: &str,
) -> Result<(), Refusal> {
    let mut running: Vec<ClusterDetails> = Vec::new();
    for url in workspace_urls(state) {
        match databricks.running_clusters(&url).await {
            Ok(clusters) => running.extend(clusters),
            // The workspace is gone: nothing of it runs.
            Err(e) if e.class == ErrorClass::NotFound => {}
            Err(e) => {
                return Err(Refusal {
                    message: format!(
                        "could not list the clusters of `{environment}`'s workspace `{url}`: {e}"
                    ),
                    hint: "sleep checks that no cluster would lose its route out; retry, or pass `--force` to sleep without checking".into(),
                });
            }
        }
    }
    if running.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = running
        .iter()
        .map(|c| {
            format!(
                "`{}` ({}, id `{}`)",
                c.spec.cluster_name.as_deref().unwrap_or("(unnamed)"),
                c.state,
                c.cluster_id
            )
        })
        .collect();
    Err(Refusal {
        message: format!(
            "{} cluster(s) of `{environment}`'s workspace are running: {}; asleep, the network would leave them without a route out",
            running.len(),
            names.join(", ")
        ),
        hint: "terminate them first (or wait for their auto-termination), or pass `--force` to sleep anyway".into(),
    })
}

/// The URLs of the live workspaces state records.
fn workspace_urls(state: &State) -> BTreeSet<String> {
    state
        .resources
        .values()
        .filter(|r| r.kind == "databricks_mws_workspaces" && r.status == ResourceStatus::Live)
        .filter_map(|r| {
            r.attributes
                .get("workspace_url")?
                .as_str()
                .map(str::to_string)
        })
        .collect()
}
