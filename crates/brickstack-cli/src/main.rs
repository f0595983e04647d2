//! The `brickstack` command: thin argument handling over the library crates.

mod commands;

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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate { spec } => commands::validate(&spec),
        Command::Graph {
            spec,
            format,
            bootstrap,
        } => commands::graph(&spec, format, bootstrap),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
