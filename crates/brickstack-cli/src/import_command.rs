//! `brickstack import`: bring objects made outside brickstack under management (docs/import.md).
//! The use cases are the engine's (`Engine::import`, `Engine::discover`); this prints them.

use std::process::ExitCode;

use brickstack_exec::{Engine, ImportFailure, ImportReport, RefreshMode, Request};

use crate::backend::Backend;
use crate::run_commands::{color, environment, report_engine_error};
use crate::{EXIT_INVALID_INPUT, SpecArgs, runner};

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// The spec's address to record the object at (`brickstack graph` lists them)
    #[arg(value_name = "ADDRESS", required_unless_present = "discover")]
    pub address: Option<String>,
    /// The object's id, in its kind's format (docs/import.md)
    #[arg(value_name = "ID", required_unless_present = "discover")]
    pub id: Option<String>,
    /// Find the existing object of every resource not yet recorded, by name and tags, and
    /// propose importing them
    #[arg(long, conflicts_with_all = ["address", "id"])]
    pub discover: bool,
    /// With `--discover`: record the proposed imports (without it nothing is written)
    #[arg(long, requires = "discover")]
    pub yes: bool,
}

pub async fn import(args: &ImportArgs) -> anyhow::Result<ExitCode> {
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
    let request = Request {
        environment: &env.spec.environment.name,
        graph: &env.graph,
        targets: &[],
        excludes: &[],
        replace: &[],
        refresh: RefreshMode::Full,
    };
    let result = match (&args.address, &args.id) {
        (Some(address), Some(id)) if !args.discover => engine.import(&request, address, id).await,
        _ => engine.discover(&request, args.yes).await,
    };
    let report = match result {
        Ok(report) => report,
        Err(ImportFailure::Refused(refused)) => {
            eprintln!("error: {refused}\n  hint: {}", refused.hint());
            return Ok(ExitCode::from(EXIT_INVALID_INPUT));
        }
        Err(ImportFailure::Engine(e)) => return Ok(report_engine_error(&e)),
    };
    print_report(&report, args.discover, &env.spec.environment.name);
    Ok(ExitCode::SUCCESS)
}

fn print_report(report: &ImportReport, discover: bool, environment: &str) {
    if discover {
        if report.imported.is_empty() {
            println!("Found no existing object for the resources not yet recorded.");
        } else if report.recorded {
            println!("Imported {} object(s):", report.imported.len());
        } else {
            println!("Proposed imports ({}):", report.imported.len());
        }
    }
    for i in &report.imported {
        println!("  {} <- {}", i.address, i.object_id);
    }
    if !report.left_out.is_empty() {
        println!(
            "Not found, left for apply to create ({}):",
            report.left_out.len()
        );
        for left in &report.left_out {
            println!("  {}: {}", left.address, left.reason);
        }
    }
    if discover && !report.recorded && !report.imported.is_empty() {
        println!(
            "Nothing was recorded: `brickstack import -e {environment} --discover --yes` records these imports."
        );
    } else if !discover {
        println!("Recorded in state; the object was not changed.");
    }
    println!();
    print!("{}", brickstack_plan::render::text(&report.plan, color()));
}
