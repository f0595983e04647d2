//! One function per subcommand; each returns the process exit code.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::schedule::{Invocation, ScheduleFormat};
use crate::{EXIT_INVALID_INPUT, SpecArgs};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum GraphFormat {
    Text,
    Dot,
    Json,
}

/// The spec file a command reads: `--file`, or `environments/<ENV>.toml`.
pub fn spec_path(args: &SpecArgs) -> PathBuf {
    match (&args.env, &args.file) {
        (_, Some(file)) => file.clone(),
        (Some(env), None) => PathBuf::from("environments").join(format!("{env}.toml")),
        (None, None) => unreachable!("clap requires --env or --file"),
    }
}

/// The outcome of reading a spec: the model, or the exit code after the problems were printed.
pub fn load_spec(args: &SpecArgs) -> anyhow::Result<Result<brickstack_spec::Spec, ExitCode>> {
    let path = spec_path(args);
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

#[derive(Debug, clap::Args)]
pub struct ScheduleArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// What to print
    #[arg(long, value_enum, default_value_t = ScheduleFormat::All)]
    pub format: ScheduleFormat,
    /// Directory the jobs run in, holding `environments/<ENV>.toml` [default: the current directory]
    #[arg(long, value_name = "DIR")]
    pub workdir: Option<PathBuf>,
    /// The brickstack executable the jobs run [default: this one]
    #[arg(long, value_name = "PATH")]
    pub binary: Option<PathBuf>,
}

/// Prints the crontab lines and systemd units that run `sleep` and `wake` on the spec's schedule.
pub fn schedule(args: &ScheduleArgs) -> anyhow::Result<ExitCode> {
    let spec = match load_spec(&args.spec)? {
        Ok(spec) => spec,
        Err(code) => return Ok(code),
    };
    let env = &spec.environment.name;
    let path = spec_path(&args.spec);
    let Some(schedule) = &spec.sleep.schedule else {
        eprintln!(
            "error: environment `{env}` has no `[sleep.schedule]`, so there is nothing to schedule"
        );
        eprintln!(
            "  hint: give `{}` a `[sleep.schedule]` table with `sleep_at` and `wake_at` (docs/spec.md)",
            path.display()
        );
        return Ok(ExitCode::from(EXIT_INVALID_INPUT));
    };
    if let Some(code) = check_time_zone(&schedule.time_zone, &path) {
        return Ok(code);
    }
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let workdir = match &args.workdir {
        Some(dir) => {
            std::path::absolute(dir).with_context(|| format!("resolving `{}`", dir.display()))?
        }
        None => cwd,
    };
    let binary = match &args.binary {
        // A bare name is left for the scheduler to find on its `PATH`.
        Some(name) if name.components().count() == 1 && !name.is_absolute() => name.clone(),
        Some(path) => {
            std::path::absolute(path).with_context(|| format!("resolving `{}`", path.display()))?
        }
        None => std::env::current_exe().unwrap_or_else(|_| PathBuf::from("brickstack")),
    };
    let (Some(workdir), Some(binary)) = (workdir.to_str(), binary.to_str()) else {
        eprintln!("error: the working directory and the executable's path must be UTF-8");
        eprintln!("  hint: pass `--workdir DIR` and `--binary PATH` with UTF-8 paths");
        return Ok(ExitCode::from(EXIT_INVALID_INPUT));
    };
    let invocation = Invocation {
        environment: env,
        workdir,
        binary,
    };
    match crate::schedule::render(schedule, &invocation, args.format) {
        Ok(text) => {
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            eprintln!("error: cannot schedule environment `{env}`: invalid {err}");
            eprintln!(
                "  hint: a crontab line or unit setting cannot hold a control character, and systemd needs an absolute `--workdir`"
            );
            Ok(ExitCode::from(EXIT_INVALID_INPUT))
        }
    }
}

/// The spec checks only the form of a zone name. cronie reads a `CRON_TZ` it cannot find as UTC and
/// systemd refuses a timer naming one, so the name is looked up in the database they use (`TZDIR`,
/// else `/usr/share/zoneinfo`) before anything is printed; `None` when it is there or cannot be checked.
fn check_time_zone(zone: &str, spec: &std::path::Path) -> Option<ExitCode> {
    let db = std::env::var_os("TZDIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/zoneinfo"));
    if !db.is_dir() {
        eprintln!(
            "warning: no time zone database at `{}`, so `{zone}` is not checked",
            db.display()
        );
        return None;
    }
    if db.join(zone).is_file() {
        return None;
    }
    eprintln!(
        "error: `sleep.schedule.time_zone` in `{}` is `{zone}`, which is not in the time zone database at `{}`",
        spec.display(),
        db.display()
    );
    eprintln!("  hint: use a name `timedatectl list-timezones` prints, such as `Europe/Madrid`");
    Some(ExitCode::from(EXIT_INVALID_INPUT))
}
