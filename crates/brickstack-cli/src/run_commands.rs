//! `plan`, `apply`, `destroy` and `bootstrap`: the engine's use cases with a terminal around them
//! (plan rendering, confirmation, a progress line per resource, Ctrl-C).

use std::collections::HashMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use brickstack_aws::{AwsClients, AwsProvider};
use brickstack_databricks::DatabricksProvider;
use brickstack_exec::{
    ApplyOptions, ApplyReport, Engine, EngineError, Event, RefreshMode, Request,
};
use brickstack_graph::ResourceGraph;
use brickstack_notify::NotifyProvider;
use brickstack_plan::{Action, Plan};
use brickstack_provider::Pair;
use brickstack_spec::Spec;
use brickstack_state::StateStore;
use brickstack_state_local::LocalStore;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::backend::Backend;
use crate::{EXIT_INVALID_INPUT, SpecArgs, runner};

/// Options shared by the commands that plan.
#[derive(Debug, clap::Args)]
pub struct Selection {
    /// Only this resource and what it depends on (repeatable)
    #[arg(long = "target", value_name = "ADDR")]
    pub targets: Vec<String>,
    /// Leave out this resource and everything that depends on it (repeatable)
    #[arg(long = "exclude", value_name = "ADDR")]
    pub excludes: Vec<String>,
    /// Only a named selection the generator defines: `sleep` or `tokens`
    #[arg(long = "select", value_name = "NAME", value_parser = clap::builder::PossibleValuesParser::new(brickstack_graph::selections::NAMES))]
    pub select: Option<String>,
    /// Replace this resource even though nothing forces it (repeatable); its dependencies are
    /// left as they are
    #[arg(long = "replace", value_name = "ADDR")]
    pub replace: Vec<String>,
}

impl Selection {
    /// `--target` addresses plus those of the named selection; a named selection the spec leaves
    /// empty is refused (exit 2, after saying so), since no targets would mean the whole
    /// environment.
    fn targets(&self, spec: &Spec, graph: &ResourceGraph) -> Result<Vec<String>, ExitCode> {
        let mut targets = self.targets.clone();
        if let Some(name) = &self.select {
            let named = brickstack_graph::selections::select(name, spec, graph).unwrap_or_default();
            if named.is_empty() {
                eprintln!(
                    "error: the selection is empty: `--select {name}` selects nothing in environment `{}`",
                    spec.environment.name
                );
                eprintln!(
                    "  hint: {}",
                    match name.as_str() {
                        "sleep" =>
                            "the spec's `[sleep]` table names what sleeps (`nat`, `interface_endpoints`, `s3_gateway_endpoint`); without `--select` the run covers the whole environment",
                        _ =>
                            "the spec defines no object of this selection; without `--select` the run covers the whole environment",
                    }
                );
                return Err(ExitCode::from(EXIT_INVALID_INPUT));
            }
            targets.extend(named.iter().map(ToString::to_string));
        }
        Ok(targets)
    }
}

/// How much to read of the cloud before planning, and whether to count it.
#[derive(Debug, clap::Args)]
pub struct RefreshArgs {
    /// `full` reads every object (drift in any attribute shows); `minimal` checks only that
    /// objects exist and their tags, in a few listing calls (AWS: one tagging-API listing and one
    /// IAM listing), and trusts state for the rest
    #[arg(long, value_enum, default_value_t = RefreshArg::Full)]
    pub refresh: RefreshArg,
    /// Print the cloud API calls made, per service, on stderr
    #[arg(long)]
    pub stats: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RefreshArg {
    Full,
    Minimal,
}

impl RefreshArgs {
    fn mode(&self) -> RefreshMode {
        match self.refresh {
            RefreshArg::Full => RefreshMode::Full,
            RefreshArg::Minimal => RefreshMode::Minimal,
        }
    }

    /// With `--stats`: the calls the providers made, per service (AWS) and per endpoint
    /// (Databricks), on stderr.
    async fn report(&self, providers: &Providers, graph: &ResourceGraph) {
        if !self.stats {
            return;
        }
        let calls = providers.first.calls().snapshot();
        let mut per_service: std::collections::BTreeMap<&str, u64> = Default::default();
        for (operation, count) in &calls {
            let service = operation.split(':').next().unwrap_or(operation);
            *per_service.entry(service).or_default() += count;
        }
        let total: u64 = per_service.values().sum();
        let resources = graph
            .resources()
            .filter(|r| r.kind().starts_with("aws_"))
            .count();
        eprintln!(
            "AWS API calls: {total} for {resources} AWS resources ({:.2} per resource)",
            total as f64 / resources.max(1) as f64
        );
        for (service, count) in &per_service {
            eprintln!("  {service:<8} {count:>4}");
            for (operation, count) in calls
                .iter()
                .filter(|(o, _)| o.split(':').next() == Some(service))
            {
                eprintln!("    {operation:<40} {count:>4}");
            }
        }
        let calls = providers.second.first.calls().await;
        let total: u64 = calls.values().sum();
        let resources = graph
            .resources()
            .filter(|r| r.kind().starts_with("databricks_"))
            .count();
        eprintln!(
            "Databricks API calls: {total} for {resources} Databricks resources ({:.2} per resource)",
            total as f64 / resources.max(1) as f64
        );
        for (call, count) in &calls {
            eprintln!("    {call:<60} {count:>4}");
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub refresh: RefreshArgs,
    /// Print the plan as JSON (stable schema: changes with address, kind, action, before, after; summary)
    #[arg(long)]
    pub json: bool,
    /// Exit 0 when there are no changes, 1 on error, 2 when there are changes
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Save the plan to apply it later with `brickstack apply FILE`
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub refresh: RefreshArgs,
    /// A plan saved with `brickstack plan --out`; refused if the state or spec changed since
    pub plan_file: Option<PathBuf>,
    /// Apply without asking for confirmation
    #[arg(long)]
    pub auto_approve: bool,
    /// Operations running at once
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
}

#[derive(Debug, clap::Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Only this resource and everything that depends on it (repeatable): destroying a VPC
    /// takes its subnets
    #[arg(long = "target", value_name = "ADDR")]
    pub targets: Vec<String>,
    /// Keep this resource and what it depends on (repeatable): a kept subnet keeps its VPC;
    /// what depends on it is still destroyed
    #[arg(long = "exclude", value_name = "ADDR")]
    pub excludes: Vec<String>,
    /// Destroy without asking for confirmation
    #[arg(long)]
    pub auto_approve: bool,
    /// Also destroy objects that still hold data (datalake buckets, the state bucket)
    #[arg(long)]
    pub destroy_data: bool,
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
}

#[derive(Debug, clap::Args)]
pub struct RotateTokensArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Rotate without asking for confirmation
    #[arg(long)]
    pub auto_approve: bool,
}

#[derive(Debug, clap::Args)]
pub struct BootstrapArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Create without asking for confirmation
    #[arg(long)]
    pub auto_approve: bool,
}

/// AWS, Databricks and the messages brickstack posts (Slack webhooks, their URLs in SSM), as one
/// provider for the engine.
pub(crate) type Providers =
    Pair<AwsProvider, Pair<DatabricksProvider, NotifyProvider<AwsProvider>>>;

/// The spec, its graph and the providers of one environment.
pub(crate) struct Environment {
    pub(crate) spec: Spec,
    pub(crate) graph: ResourceGraph,
    pub(crate) provider: Providers,
    /// The access grants the graph was built with (`None`: no state yet).
    pub(crate) grants_seen: Option<std::collections::BTreeSet<String>>,
}

pub(crate) async fn environment(
    args: &SpecArgs,
    bootstrap: bool,
) -> anyhow::Result<Result<Environment, ExitCode>> {
    let spec = match crate::commands::load_spec(args)? {
        Ok(spec) => spec,
        Err(code) => return Ok(Err(code)),
    };
    let config = match crate::aws::sdk_config(&spec.environment.region).await {
        Ok(config) => config,
        Err(code) => return Ok(Err(code)),
    };
    let clients = AwsClients::new(&config);
    let databricks = match crate::databricks::provider(&spec, &clients, !bootstrap).await {
        Ok(provider) => provider,
        Err(e) => {
            eprintln!("error: {e}\n  hint: {}", e.hint());
            return Ok(Err(ExitCode::from(EXIT_INVALID_INPUT)));
        }
    };
    let provider = Pair::new(
        AwsProvider::new(&clients),
        Pair::new(databricks, NotifyProvider::new(AwsProvider::new(&clients))),
    );
    let mut env = Environment {
        graph: brickstack_exec::nothing(),
        spec,
        provider,
        grants_seen: None,
    };
    env.graph = if bootstrap {
        brickstack_graph::bootstrap(&env.spec).context("compiling the spec into its graph")?
    } else {
        // The people of single-user clusters come from the spec, the grants state records and
        // the workspace's groups (docs/access.md). State is read here without the lock; the
        // apply checks under the lock that the grants are still these.
        let state = match Backend::for_spec(&env.spec).await {
            Ok(backend) => backend.read().await.ok().flatten(),
            Err(code) => return Ok(Err(code)),
        };
        let inputs = crate::access::run_inputs(&env, state.as_ref()).await?;
        env.grants_seen = state.map(|s| s.access_grants.into_keys().collect());
        brickstack_graph::generate_with(&env.spec, &inputs)
            .context("compiling the spec into its graph")?
    };
    Ok(Ok(env))
}

pub(crate) fn color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

pub(crate) fn report_engine_error(error: &EngineError) -> ExitCode {
    if let EngineError::LeaseLost {
        report: Some(report),
        ..
    } = error
    {
        for address in &report.finished {
            eprintln!("done before the run stopped: {address}");
        }
        for (_, failed) in &report.failed {
            eprintln!(
                "{}",
                crate::report::render(failed, failed.hint().as_deref())
            );
        }
        if !report.not_started.is_empty() {
            eprintln!("not started: {}", report.not_started.join(", "));
        }
    }
    let hint = match error {
        EngineError::Exec(e) => e.hint(),
        EngineError::Plan(e) => Some(e.hint().to_string()),
        EngineError::Selection(e) => Some(e.hint().to_string()),
        EngineError::Refused(refusal) => Some(refusal.hint.clone()),
        EngineError::LeaseLost { .. } => Some(
            "what finished is recorded; make sure no other run holds the state (`brickstack state list -e ENV` shows what is recorded), then apply again"
                .into(),
        ),
    };
    eprintln!("{}", crate::report::render(error, hint.as_deref()));
    match error {
        EngineError::Selection(_) => ExitCode::from(EXIT_INVALID_INPUT),
        _ => ExitCode::FAILURE,
    }
}

pub async fn plan(args: &PlanArgs) -> anyhow::Result<ExitCode> {
    let env = match environment(&args.spec, false).await? {
        Ok(env) => env,
        Err(code) => return Ok(code),
    };
    let backend = match Backend::for_spec(&env.spec).await {
        Ok(backend) => backend,
        Err(code) => return Ok(code),
    };
    let engine = Engine {
        provider: &env.provider,
        store: &backend,
        runner: runner(),
    };
    let targets = match args.selection.targets(&env.spec, &env.graph) {
        Ok(targets) => targets,
        Err(code) => return Ok(code),
    };
    let request = Request {
        environment: &env.spec.environment.name,
        graph: &env.graph,
        targets: &targets,
        excludes: &args.selection.excludes,
        replace: &args.selection.replace,
        refresh: args.refresh.mode(),
    };
    let planned = engine.plan(&request).await;
    args.refresh.report(&env.provider, &env.graph).await;
    let plan = match planned {
        Ok(plan) => plan,
        Err(e) => return Ok(report_engine_error(&e)),
    };
    if args.json {
        print!("{}", brickstack_plan::render::json(&plan));
    } else {
        print!("{}", brickstack_plan::render::text(&plan, color()));
    }
    if let Some(out) = &args.out {
        std::fs::write(out, brickstack_plan::render::json(&plan))
            .with_context(|| format!("writing the plan to `{}`", out.display()))?;
        if !args.json {
            println!(
                "\nSaved the plan to `{}`: `brickstack apply -e {} {}` applies exactly it.",
                out.display(),
                env.spec.environment.name,
                out.display()
            );
        }
    }
    Ok(if args.detailed_exitcode && plan.has_changes() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

pub async fn apply(args: &ApplyArgs) -> anyhow::Result<ExitCode> {
    let env = match environment(&args.spec, false).await? {
        Ok(env) => env,
        Err(code) => return Ok(code),
    };
    let backend = match Backend::for_spec(&env.spec).await {
        Ok(backend) => backend,
        Err(code) => return Ok(code),
    };
    let saved = match &args.plan_file {
        Some(path) => Some(read_plan(path)?),
        None => None,
    };
    let options = ApplyOptions {
        parallelism: args.parallelism,
        ..ApplyOptions::default()
    };
    let code = run(
        &env,
        &env.graph,
        &backend,
        &args.selection,
        saved,
        args.auto_approve,
        &options,
        args.refresh.mode(),
        "apply",
    )
    .await;
    args.refresh.report(&env.provider, &env.graph).await;
    code
}

pub async fn destroy(args: &DestroyArgs) -> anyhow::Result<ExitCode> {
    let env = match environment(&args.spec, false).await? {
        Ok(env) => env,
        Err(code) => return Ok(code),
    };
    let backend = match Backend::for_spec(&env.spec).await {
        Ok(backend) => backend,
        Err(code) => return Ok(code),
    };
    let options = ApplyOptions {
        parallelism: args.parallelism,
        destroy_data: args.destroy_data,
        ..ApplyOptions::default()
    };
    let nothing = brickstack_exec::nothing();
    // Against the empty graph every address is one the run deletes, so the selection runs the
    // delete's way (`brickstack_plan::Selection`): targets take their dependents.
    let selection = Selection {
        targets: args.targets.clone(),
        excludes: args.excludes.clone(),
        select: None,
        replace: Vec::new(),
    };
    run(
        &env,
        &nothing,
        &backend,
        &selection,
        None,
        args.auto_approve,
        &options,
        RefreshMode::Full,
        "destroy",
    )
    .await
}

/// Replaces every token of the `tokens` selection, due or not: a partial run targeting the
/// tokens (their dependencies are refreshed and planned, never replaced) with each of them
/// replaced. Each new token is minted, checked with a call made with it, and stored (a new
/// parameter version) before the old one is revoked.
pub async fn rotate_tokens(args: &RotateTokensArgs) -> anyhow::Result<ExitCode> {
    let env = match environment(&args.spec, false).await? {
        Ok(env) => env,
        Err(code) => return Ok(code),
    };
    let tokens: Vec<String> = brickstack_graph::selections::select("tokens", &env.spec, &env.graph)
        .unwrap_or_default()
        .iter()
        .map(ToString::to_string)
        .collect();
    // No targets would mean the whole environment.
    if tokens.is_empty() {
        println!(
            "The environment `{}` has no tokens to rotate.",
            env.spec.environment.name
        );
        return Ok(ExitCode::SUCCESS);
    }
    let backend = match Backend::for_spec(&env.spec).await {
        Ok(backend) => backend,
        Err(code) => return Ok(code),
    };
    let selection = Selection {
        targets: tokens.clone(),
        excludes: Vec::new(),
        select: None,
        replace: tokens,
    };
    run(
        &env,
        &env.graph,
        &backend,
        &selection,
        None,
        args.auto_approve,
        &ApplyOptions::default(),
        RefreshMode::Full,
        "apply",
    )
    .await
}

/// Creates the state backend's own resources; their state stays in a local file beside the
/// environment's, since the backend cannot hold the state of its own creation.
pub async fn bootstrap(args: &BootstrapArgs) -> anyhow::Result<ExitCode> {
    let env = match environment(&args.spec, true).await? {
        Ok(env) => env,
        Err(code) => return Ok(code),
    };
    let path = Path::new("state").join(format!("{}.bootstrap.json", env.spec.environment.name));
    let backend = LocalStore::new(path);
    let selection = Selection {
        targets: Vec::new(),
        excludes: Vec::new(),
        select: None,
        replace: Vec::new(),
    };
    run(
        &env,
        &env.graph,
        &backend,
        &selection,
        None,
        args.auto_approve,
        &ApplyOptions::default(),
        RefreshMode::Full,
        "bootstrap",
    )
    .await
}

fn read_plan(path: &Path) -> anyhow::Result<Plan> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the plan `{}`", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("`{}` is not a brickstack plan", path.display()))
}

/// Plan, show, confirm, apply under the lock with progress, report.
#[allow(clippy::too_many_arguments)]
async fn run<S: StateStore>(
    env: &Environment,
    graph: &ResourceGraph,
    backend: &S,
    selection: &Selection,
    saved: Option<Plan>,
    auto_approve: bool,
    options: &ApplyOptions,
    refresh: RefreshMode,
    verb: &str,
) -> anyhow::Result<ExitCode> {
    let engine = Engine {
        provider: &env.provider,
        store: backend,
        runner: runner(),
    };
    let targets = match selection.targets(&env.spec, graph) {
        Ok(targets) => targets,
        Err(code) => return Ok(code),
    };
    let request = Request {
        environment: &env.spec.environment.name,
        graph,
        targets: &targets,
        excludes: &selection.excludes,
        replace: &selection.replace,
        refresh,
    };
    let plan = match saved {
        Some(plan) => plan,
        None => match engine.plan(&request).await {
            Ok(plan) => plan,
            Err(e) => return Ok(report_engine_error(&e)),
        },
    };
    print!("{}", brickstack_plan::render::text(&plan, color()));
    if !plan.has_changes() {
        return Ok(ExitCode::SUCCESS);
    }
    if !auto_approve && !confirm(verb, &env.spec.environment.name)? {
        eprintln!("{verb} cancelled: nothing was changed");
        return Ok(ExitCode::FAILURE);
    }
    let cancel = Arc::new(AtomicBool::new(false));
    cancel_on_ctrl_c(cancel.clone());
    let progress = Progress::new();
    let started = Instant::now();
    // The people the graph was built from include the grants state held when it was read; a
    // grant or revoke since (the access service) would make this plan take or leave the wrong
    // clusters.
    let grants_seen = env.grants_seen.clone();
    let admit = async |state: &brickstack_state::State| {
        let now: std::collections::BTreeSet<String> = state.access_grants.keys().cloned().collect();
        match &grants_seen {
            Some(seen) if *seen != now => Err(brickstack_exec::Refusal {
                message: "the recorded access grants changed since the spec was read (a grant or revoke ran meanwhile)".into(),
                hint: "run the command again: it reads the grants afresh".into(),
            }),
            _ => Ok(()),
        }
    };
    let result = engine
        .apply_for(
            &request,
            &brickstack_plan::RunMode::Reconcile,
            Some(&plan),
            admit,
            options,
            &|e| progress.event(e),
            &cancel,
        )
        .await;
    let report = match result {
        Ok(report) => report,
        Err(e) => return Ok(report_engine_error(&e)),
    };
    crate::access::post_alarms(env, graph, &report).await;
    Ok(summarise(&report, started.elapsed(), backend.location()))
}

/// On Ctrl-C, sets `cancel`: the engine stops scheduling, lets what runs finish, saves state and
/// releases the lock.
pub(crate) fn cancel_on_ctrl_c(cancel: Arc<AtomicBool>) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!(
                "\ninterrupted: finishing the operations under way, then saving state and releasing the lock"
            );
            cancel.store(true, Ordering::SeqCst);
        }
    });
}

fn confirm(verb: &str, environment: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "{verb} needs confirmation but standard input is not a terminal; pass `--auto-approve` to {verb} `{environment}` without asking"
        );
    }
    print!("\nDo you want to {verb} these changes to `{environment}`? Only `yes` is accepted: ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}

pub(crate) fn summarise(report: &ApplyReport, elapsed: Duration, location: String) -> ExitCode {
    println!(
        "\n{} operation(s) done in {:.1}s; state saved to {location} (serial {}).",
        report.finished.len(),
        elapsed.as_secs_f64(),
        report.state.serial
    );
    for (_, error) in &report.failed {
        eprintln!("{}", crate::report::render(error, error.hint().as_deref()));
    }
    for (address, because) in &report.skipped {
        eprintln!("skipped {address}: it waits on {because}, which failed");
    }
    if !report.not_started.is_empty() {
        eprintln!(
            "not started, because the run was interrupted: {}",
            report.not_started.join(", ")
        );
    }
    if report.succeeded() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// A line per resource: a spinner while its operation runs, its outcome after.
pub(crate) struct Progress {
    bars: MultiProgress,
    lines: Mutex<HashMap<String, (ProgressBar, Instant)>>,
}

impl Progress {
    pub(crate) fn new() -> Self {
        Progress {
            bars: MultiProgress::new(),
            lines: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn event(&self, event: Event) {
        let style = ProgressStyle::with_template("{spinner} {msg}").expect("a valid template");
        let mut lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            Event::Started { address, action } => {
                let bar = self.bars.add(ProgressBar::new_spinner().with_style(style));
                bar.enable_steady_tick(Duration::from_millis(120));
                bar.set_message(format!("{address}: {}…", doing(action)));
                lines.insert(address, (bar, Instant::now()));
            }
            Event::LookingUp {
                address,
                attempt,
                error,
            } => {
                if let Some((bar, _)) = lines.get(&address) {
                    bar.set_message(format!(
                        "{address}: no answer to the create ({error}); looking it up before sending it again (lookup {attempt})"
                    ));
                }
            }
            Event::Finished { address, action } => {
                if let Some((bar, started)) = lines.remove(&address) {
                    bar.finish_with_message(format!(
                        "{address}: {} ({:.1}s)",
                        action.verb(),
                        started.elapsed().as_secs_f64()
                    ));
                }
            }
            Event::Failed { address, error } => {
                if let Some((bar, _)) = lines.remove(&address) {
                    bar.abandon_with_message(format!("{address}: failed: {error}"));
                }
            }
            Event::Skipped { address, because } => {
                let _ = self
                    .bars
                    .println(format!("  {address}: skipped, it waits on {because}"));
            }
            Event::OutcomeUnknown { address, error } => {
                if let Some((bar, _)) = lines.get(&address) {
                    bar.set_message(format!(
                        "{address}: no answer ({error}); sent at most once, so recorded as done: outcome unknown"
                    ));
                }
            }
        }
    }
}

fn doing(action: Action) -> &'static str {
    match action {
        Action::Create => "creating",
        Action::Update => "updating",
        Action::Replace => "replacing",
        Action::Delete => "destroying",
        Action::Sleep => "putting to sleep",
        Action::Retire => "marking for removal",
        Action::Keep => "keeping",
        Action::NoOp => "checking",
    }
}
