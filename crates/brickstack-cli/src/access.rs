//! Single-user clusters (docs/access.md): who gets one at run time, `brickstack access grant` and
//! `revoke`, the alarm of a person whose steps failed, and the access service's runner.

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use anyhow::Context;
use brickstack_exec::{
    ApplyOptions, ApplyReport, Desired, Engine, GrantChange, RefreshMode, Refusal,
};
use brickstack_graph::components::access as people;
use brickstack_graph::{Address, Person, PersonSource, ResourceGraph, RunInputs};
use brickstack_plan::RunMode;
use brickstack_spec::Spec;
use brickstack_state::{AccessGrant, State, StateStore};

use crate::backend::Backend;
use crate::run_commands::{Environment, Progress, report_engine_error, summarise};
use crate::{EXIT_INVALID_INPUT, SpecArgs, runner};

#[derive(Debug, clap::Args)]
pub struct AccessArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// The person, by e-mail (their Databricks user name)
    #[arg(long = "user", value_name = "EMAIL")]
    pub user: String,
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
}

/// The people of a run beside the spec's own `users`: the grants recorded in `state`, and the
/// members of the spec's workspace groups (read from the workspace `state` records, so none
/// before it exists).
pub(crate) async fn run_inputs(
    env: &Environment,
    state: Option<&State>,
) -> anyhow::Result<RunInputs> {
    let Some(section) = &env.spec.access.single_user_clusters else {
        return Ok(RunInputs::default());
    };
    let mut inputs = RunInputs::default();
    if let Some(state) = state {
        inputs.people.extend(
            state
                .access_grants
                .keys()
                .map(|email| Person::new(email.clone(), PersonSource::Grant)),
        );
    }
    for group in &section.account_groups {
        inputs.people.extend(
            account_group_members(env, group)
                .await?
                .into_iter()
                .map(|email| Person::new(email, PersonSource::AccountGroup(group.clone()))),
        );
    }
    if section.groups.is_empty() {
        return Ok(inputs);
    }
    let Some(workspace_url) = state.and_then(workspace_url) else {
        return Ok(inputs);
    };
    for group in &section.groups {
        let members = env
            .provider
            .second
            .first
            .group_member_user_names(&workspace_url, group)
            .await
            .with_context(|| format!("reading the members of workspace group `{group}`"))?;
        inputs.people.extend(
            members
                .into_iter()
                .map(|email| Person::new(email, PersonSource::Group(group.clone()))),
        );
    }
    Ok(inputs)
}

/// The user names (e-mail addresses) of the account group named `display_name`. Members that are
/// not users (service principals, nested groups) have no single-user cluster. A group of the
/// spec's `[account_groups]` not made yet has no members; any other missing group is an error,
/// since a misspelt name must not silently remove its members' clusters.
async fn account_group_members(
    env: &Environment,
    display_name: &str,
) -> anyhow::Result<Vec<String>> {
    let account = env.provider.second.first.account();
    let found = account
        .find_account_group(display_name)
        .await
        .with_context(|| format!("reading account group `{display_name}`"))?;
    let Some(group) = found else {
        if env
            .spec
            .account_groups
            .iter()
            .any(|g| g.display_name == display_name)
        {
            return Ok(Vec::new());
        }
        anyhow::bail!(
            "account group `{display_name}` (access.single_user_clusters.account_groups) does not exist in the account; declare it in `[account_groups]` or fix the name"
        );
    };
    let mut emails = Vec::new();
    for member in &group.members {
        let is_user = member
            .reference
            .as_deref()
            .is_none_or(|r| r.starts_with("Users/"));
        if !is_user {
            continue;
        }
        if let Some(user) = account
            .get_account_user(&member.value)
            .await
            .with_context(|| {
                format!(
                    "reading member {} of account group `{display_name}`",
                    member.value
                )
            })?
            && user.active
        {
            emails.push(user.user_name.to_lowercase());
        }
    }
    Ok(emails)
}

/// The environment's workspace URL as state records it.
fn workspace_url(state: &State) -> Option<String> {
    state
        .resources
        .values()
        .find(|r| r.kind == "databricks_mws_workspaces" && r.status.is_live())
        .and_then(|r| r.attributes.get("workspace_url"))
        .and_then(|v| v.as_str())
        .map(str::to_string)
}

/// Posts one alarm per person whose steps failed in `report` to the spec's alarms webhook,
/// naming the person, their cluster and each failed step's error. A failure to post is reported
/// and does not change the run's outcome.
pub(crate) async fn post_alarms(env: &Environment, graph: &ResourceGraph, report: &ApplyReport) {
    let Some(section) = &env.spec.access.single_user_clusters else {
        return;
    };
    let mut failed: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (address, error) in &report.failed {
        let Some(parsed) = Address::parse(address) else {
            continue;
        };
        if let Some(person) = people::person_of(graph, &parsed) {
            failed
                .entry(person)
                .or_default()
                .push(format!("`{address}`: {error}"));
        }
    }
    for (person, errors) in failed {
        let cluster = people::cluster_name_of(graph, person).unwrap_or("(unnamed)");
        let text = format!(
            ":rotating_light: brickstack `{}`: the single-user cluster `{cluster}` of {person} is not ready. {} The next apply resumes at the failed step.",
            env.spec.environment.name,
            errors.join("; ")
        );
        if let Err(e) = brickstack_notify::post_alarm(
            &env.provider.first,
            &section.notifications.alarms_webhook_parameter,
            &text,
        )
        .await
        {
            eprintln!(
                "warning: the alarm for {person} could not be posted to `{}`: {e}",
                section.notifications.alarms_webhook_parameter
            );
        }
    }
}

/// The line of the spec that lists `email` in `users`, for a refused revoke.
fn listed_at(spec_file: &std::path::Path, email: &str) -> Option<String> {
    let text = std::fs::read_to_string(spec_file).ok()?;
    text.lines().enumerate().find_map(|(i, line)| {
        let column = line.to_lowercase().find(&format!("\"{email}\""))?;
        Some(format!("{}:{}:{}", spec_file.display(), i + 1, column + 2))
    })
}

fn listed_by_spec(spec: &Spec, email: &str) -> bool {
    spec.access
        .single_user_clusters
        .as_ref()
        .is_some_and(|s| s.users.iter().any(|u| u.email.eq_ignore_ascii_case(email)))
}

/// What one run of grants or revokes did for each person.
pub(crate) enum PersonOutcome {
    Ready {
        cluster_id: String,
        cluster_name: String,
    },
    Revoked,
    Failed(String),
}

/// Records the grants and revokes in state and applies them under one lock: grants create the people's
/// resources (with what they depend on), revokes delete them at once. Returns the run's report
/// (or the engine's error) and the graph it applied.
#[allow(
    clippy::too_many_arguments,
    reason = "the engine's apply arguments with the people granted and revoked; call sites name each"
)]
pub(crate) async fn run_changes<S: StateStore>(
    env: &Environment,
    store: &S,
    grants: &[String],
    revokes: &[String],
    source: &str,
    options: &ApplyOptions,
    events: &(dyn Fn(brickstack_exec::Event) + Send + Sync),
    cancel: &AtomicBool,
) -> anyhow::Result<Result<(ApplyReport, ResourceGraph), brickstack_exec::EngineError>> {
    let engine = Engine {
        provider: &env.provider,
        store,
        runner: runner(),
    };
    // Group members are read before the lock (a network call); grants inside it, from the state
    // the run holds.
    let current = store.read().await.ok().flatten();
    let mut base = run_inputs(env, current.as_ref()).await?;
    base.people.retain(|p| p.source != PersonSource::Grant);
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let mut changes: Vec<GrantChange> = grants
        .iter()
        .map(|email| GrantChange::Grant {
            email: email.clone(),
            grant: AccessGrant {
                granted_at: now.clone(),
                source: source.to_string(),
            },
        })
        .collect();
    changes.extend(revokes.iter().map(|email| GrantChange::Revoke {
        email: email.clone(),
    }));
    let spec = &env.spec;
    let mut built = None;
    let desired = |state: &State| -> Result<Desired, Refusal> {
        let mut inputs = base.clone();
        inputs.people.extend(
            state
                .access_grants
                .keys()
                .map(|email| Person::new(email.clone(), PersonSource::Grant)),
        );
        let graph = brickstack_graph::generate_with(spec, &inputs).map_err(|e| Refusal {
            message: e.to_string(),
            hint: "check the person's e-mail".into(),
        })?;
        // A revoked person's addresses are those they had: from a graph that still has them.
        let mut targets: BTreeSet<String> = BTreeSet::new();
        for email in grants {
            targets.extend(
                brickstack_graph::selections::person(&graph, email)
                    .iter()
                    .map(ToString::to_string),
            );
        }
        if !revokes.is_empty() {
            let mut with = inputs.clone();
            with.people.extend(
                revokes
                    .iter()
                    .map(|e| Person::new(e.clone(), PersonSource::Grant)),
            );
            let before = brickstack_graph::generate_with(spec, &with).map_err(|e| Refusal {
                message: e.to_string(),
                hint: "check the person's e-mail".into(),
            })?;
            for email in revokes {
                targets.extend(
                    brickstack_graph::selections::person(&before, email)
                        .iter()
                        .map(ToString::to_string),
                );
            }
        }
        built = Some(graph.clone());
        Ok(Desired {
            graph,
            targets: targets.into_iter().collect(),
            excludes: Vec::new(),
            refresh: RefreshMode::Full,
        })
    };
    let mode = if revokes.is_empty() {
        RunMode::Reconcile
    } else {
        RunMode::Destroy
    };
    let result = engine
        .apply_with_grants(
            &spec.environment.name,
            &changes,
            desired,
            &mode,
            options,
            events,
            cancel,
        )
        .await;
    Ok(result.map(|report| (report, built.unwrap_or_else(brickstack_exec::nothing))))
}

/// Each person's outcome, read from the run's report and the state it left.
pub(crate) fn outcomes(
    graph: &ResourceGraph,
    report: &ApplyReport,
    grants: &[String],
    revokes: &[String],
) -> BTreeMap<String, PersonOutcome> {
    let mut out = BTreeMap::new();
    let failures = |email: &str| -> Vec<String> {
        report
            .failed
            .iter()
            .filter(|(address, _)| {
                Address::parse(address).is_some_and(|a| people::person_of(graph, &a) == Some(email))
            })
            .map(|(address, error)| format!("{address}: {error}"))
            .collect()
    };
    for email in grants {
        let addresses = brickstack_graph::selections::person(graph, email);
        let cluster = addresses
            .iter()
            .find(|a| a.kind == "databricks_cluster")
            .and_then(|a| report.state.resources.get(&a.to_string()));
        let all_live = !addresses.is_empty()
            && addresses.iter().all(|a| {
                report
                    .state
                    .resources
                    .get(&a.to_string())
                    .is_some_and(|r| r.status.is_live())
            });
        let outcome = match (all_live, cluster) {
            (true, Some(cluster)) => PersonOutcome::Ready {
                cluster_id: cluster
                    .attributes
                    .get("cluster_id")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string(),
                cluster_name: cluster
                    .attributes
                    .get("cluster_name")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string(),
            },
            _ => {
                let errors = failures(email);
                PersonOutcome::Failed(if errors.is_empty() {
                    "the run did not finish this person's steps; see the service's log".into()
                } else {
                    errors.join("; ")
                })
            }
        };
        out.insert(email.clone(), outcome);
    }
    for email in revokes {
        let key = people::key(email);
        let left: Vec<&String> = report
            .state
            .resources
            .iter()
            .filter(|(address, r)| address.ends_with(&format!(".su_{key}")) && r.status.is_live())
            .map(|(address, _)| address)
            .collect();
        out.insert(
            email.clone(),
            if left.is_empty() {
                PersonOutcome::Revoked
            } else {
                PersonOutcome::Failed(format!("still recorded: {left:?}"))
            },
        );
    }
    out
}

pub async fn grant(args: &AccessArgs) -> anyhow::Result<ExitCode> {
    change(args, true).await
}

pub async fn revoke(args: &AccessArgs) -> anyhow::Result<ExitCode> {
    change(args, false).await
}

async fn change(args: &AccessArgs, grant: bool) -> anyhow::Result<ExitCode> {
    let env = match crate::run_commands::environment(&args.spec, false).await? {
        Ok(env) => env,
        Err(code) => return Ok(code),
    };
    let email = args.user.trim().to_lowercase();
    if env.spec.access.single_user_clusters.is_none() {
        eprintln!(
            "error: environment `{}` has no `[access.single_user_clusters]` section",
            env.spec.environment.name
        );
        eprintln!(
            "  hint: add the section (docs/spec.md) to say how single-user clusters are made"
        );
        return Ok(ExitCode::from(EXIT_INVALID_INPUT));
    }
    if let Err(problem) = brickstack_graph::generate_with(
        &env.spec,
        &RunInputs {
            people: vec![Person::new(email.clone(), PersonSource::Grant)],
        },
    ) {
        eprintln!("error: {problem}");
        eprintln!("  hint: `--user` takes the person's e-mail, their Databricks user name");
        return Ok(ExitCode::from(EXIT_INVALID_INPUT));
    }
    if !grant && listed_by_spec(&env.spec, &email) {
        let path = crate::commands::spec_path(&args.spec);
        eprintln!(
            "error: {email} is listed in the spec{}; a revoke would be undone by the next apply",
            listed_at(&path, &email)
                .map(|at| format!(" at {at}"))
                .unwrap_or_default()
        );
        eprintln!(
            "  hint: remove them from `access.single_user_clusters.users`; their cluster goes after the removal grace"
        );
        return Ok(ExitCode::from(EXIT_INVALID_INPUT));
    }
    let backend = match Backend::for_spec(&env.spec).await {
        Ok(backend) => backend,
        Err(code) => return Ok(code),
    };
    let options = ApplyOptions {
        parallelism: args.parallelism,
        ..ApplyOptions::default()
    };
    let cancel = Arc::new(AtomicBool::new(false));
    crate::run_commands::cancel_on_ctrl_c(cancel.clone());
    let progress = Progress::new();
    let started = Instant::now();
    let (grants, revokes) = if grant {
        (vec![email.clone()], Vec::new())
    } else {
        (Vec::new(), vec![email.clone()])
    };
    let result = run_changes(
        &env,
        &backend,
        &grants,
        &revokes,
        "cli",
        &options,
        &|e| progress.event(e),
        &cancel,
    )
    .await?;
    let (report, graph) = match result {
        Ok(done) => done,
        Err(e) => return Ok(report_engine_error(&e)),
    };
    post_alarms(&env, &graph, &report).await;
    let code = summarise(&report, started.elapsed(), backend.location());
    match outcomes(&graph, &report, &grants, &revokes).remove(&email) {
        Some(PersonOutcome::Ready {
            cluster_id,
            cluster_name,
        }) => println!("{email}: single-user cluster `{cluster_name}` ({cluster_id}) is ready."),
        Some(PersonOutcome::Revoked) => println!("{email}: revoked; their cluster is deleted."),
        Some(PersonOutcome::Failed(error)) => eprintln!("{email}: not done: {error}"),
        None => {}
    }
    Ok(code)
}
