//! One function per subcommand; each returns the process exit code.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::{EXIT_INVALID_INPUT, SpecArgs};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum GraphFormat {
    Text,
    Dot,
    Json,
}

/// The outcome of reading a spec: the model, or the exit code after the problems were printed.
pub fn load_spec(args: &SpecArgs) -> anyhow::Result<Result<brickstack_spec::Spec, ExitCode>> {
    let path = match (&args.env, &args.file) {
        (_, Some(file)) => file.clone(),
        (Some(env), None) => PathBuf::from("environments").join(format!("{env}.toml")),
        (None, None) => unreachable!("clap requires --env or --file"),
    };
    let display = path.display().to_string();
    let source = match std::fs::read_to_string(&path) {
        Ok(s) => s,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("error: no spec at `{display}`");
            eprintln!(
                "  hint: `-e ENV` reads `environments/ENV.toml` from the current directory; run from the repository root or pass `--file PATH`"
            );
            return Ok(Err(ExitCode::from(EXIT_INVALID_INPUT)));
        }
        Err(err) => return Err(err).with_context(|| format!("reading `{display}`")),
    };
    let parsed = match &args.env {
        Some(env) if args.file.is_none() => {
            brickstack_spec::parse_environment(env, &display, &source)
        }
        _ => brickstack_spec::parse(&display, &source),
    };
    match parsed {
        Ok(spec) => Ok(Ok(spec)),
        Err(errors) => {
            let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            eprint!("{}", errors.render(color));
            Ok(Err(ExitCode::from(EXIT_INVALID_INPUT)))
        }
    }
}

pub fn validate(args: &SpecArgs) -> anyhow::Result<ExitCode> {
    let spec = match load_spec(args)? {
        Ok(spec) => spec,
        Err(code) => return Ok(code),
    };
    println!(
        "environment `{}` is valid ({} in {})",
        spec.environment.name, spec.environment.prefix, spec.environment.region
    );
    Ok(ExitCode::SUCCESS)
}

pub fn graph(args: &SpecArgs, format: GraphFormat, bootstrap: bool) -> anyhow::Result<ExitCode> {
    let spec = match load_spec(args)? {
        Ok(spec) => spec,
        Err(code) => return Ok(code),
    };
    let graph = if bootstrap {
        brickstack_graph::bootstrap(&spec)
    } else {
        brickstack_graph::generate(&spec)
    };
    let graph = match graph {
        Ok(graph) => graph,
        Err(err) => {
            eprintln!("error: {err}");
            eprintln!(
                "  hint: this is a generator bug unless the spec's references form the cycle; please report it with the spec"
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    let text = match format {
        GraphFormat::Text => brickstack_graph::render::text(&graph, false),
        GraphFormat::Dot => brickstack_graph::render::dot(&graph),
        GraphFormat::Json => brickstack_graph::render::json(&graph),
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}
