//! `brickstack serve`: the long-running ops service (`brickstack-serve`) with its access runner,
//! which applies queued grants and revokes, one run (one environment lock) at a time.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use brickstack_exec::ApplyOptions;
use brickstack_monitor::PushAuth;
use brickstack_serve::{
    AccessAction, AccessOutcome, AccessRequest, AccessRunner, Auth, Parts, ServeConfig,
};
use brickstack_spec::ServeAuth;
use brickstack_state::StateStore;

use crate::access::{PersonOutcome, outcomes, post_alarms, run_changes};
use crate::backend::Backend;
use crate::monitor_command::{SlackAlerts, WorkspaceClusters, records_path, required_secret};
use crate::run_commands::Environment;
use crate::{EXIT_INVALID_INPUT, SpecArgs};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Operations running at once within one run
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
    /// Listen here instead of `[serve].listen` (a second replica on the same host)
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
}

pub async fn serve(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let env = match crate::run_commands::environment(&args.spec, false).await? {
        Ok(env) => env,
        Err(code) => return Ok(code),
    };
    let name = env.spec.environment.name.clone();
    let Some(mut settings) = env.spec.serve.clone() else {
        eprintln!("error: environment `{name}` has no `[serve]` section");
        eprintln!(
            "  hint: add `[serve]` with `listen`, `auth` and `key_parameter` (docs/spec.md, docs/serve.md)"
        );
        return Ok(ExitCode::from(EXIT_INVALID_INPUT));
    };
    if let Some(listen) = args.listen {
        settings.listen = listen;
    }
    let serves_access = env.spec.access.single_user_clusters.is_some();
    let monitor = env.spec.monitor.clone();
    if !serves_access && monitor.is_none() {
        eprintln!(
            "error: environment `{name}` has neither `[access.single_user_clusters]` nor `[monitor]`: nothing to serve"
        );
        eprintln!(
            "  hint: the service grants single-user clusters (docs/access.md) and runs the cluster-failure monitor (docs/monitor.md); add either section"
        );
        return Ok(ExitCode::from(EXIT_INVALID_INPUT));
    }
    let key = match required_secret(
        &env.provider.first,
        &settings.key_parameter,
        "the service's key parameter",
    )
    .await
    {
        Ok(key) => key,
        Err((code, message)) => {
            eprintln!("{message}");
            return Ok(code);
        }
    };
    let auth = match settings.auth {
        ServeAuth::ApiKey => Auth::ApiKey(key),
        ServeAuth::Hmac => Auth::Hmac(key),
    };
    let db_path = Path::new("state").join(format!("{name}.serve.sqlite"));
    let config = ServeConfig::new(settings.listen, auth, db_path);
    let env = Arc::new(env);

    // One replica acts: a lease on the state backend's lock table (docs/monitor.md, "Replicas").
    let lease_store = match Backend::for_spec(&env.spec).await {
        Ok(backend) => backend,
        Err(code) => return Ok(code),
    };
    let ttl = Duration::from_secs(monitor.as_ref().map_or(60, |m| m.lease_seconds));
    let replica = replica_id(settings.listen);
    let (election, leadership) = brickstack_serve::election(lease_store, replica.clone(), ttl);
    let mut parts = Parts {
        election: Some(election),
        leadership: leadership.clone(),
        ..Parts::default()
    };
    if let Some(settings) = &monitor {
        match monitor_parts(&env, settings, leadership).await? {
            Ok(monitor) => {
                parts.routes = monitor.routes;
                parts.metrics.push(monitor.metrics);
                parts.tasks.push(monitor.task);
            }
            Err(code) => return Ok(code),
        }
    }
    let runner = serves_access.then(|| Runner {
        env: env.clone(),
        options: ApplyOptions {
            parallelism: args.parallelism,
            ..ApplyOptions::default()
        },
    });
    eprintln!(
        "brickstack serve: environment `{name}` on http://{} (replica {replica}{}{})",
        settings.listen,
        if serves_access { ", access" } else { "" },
        if monitor.is_some() { ", monitor" } else { "" },
    );
    match brickstack_serve::serve(config, runner, parts).await {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// This replica's name in the lease: `user@host/listen-address`. Two replicas on one host listen
/// on different addresses; a replica restarted on its address (the old process is gone: it held
/// the port) takes its own lease back at once instead of waiting for it to expire. Port 0 (any
/// free port) says nothing about the process: its id is added.
fn replica_id(listen: std::net::SocketAddr) -> String {
    let who = crate::runner().who;
    if listen.port() == 0 {
        format!("{who}/{listen}#{}", std::process::id())
    } else {
        format!("{who}/{listen}")
    }
}

/// The monitor's part of the service.
struct MonitorParts {
    routes: axum::Router,
    metrics: brickstack_serve::RegisterMetrics,
    task: brickstack_serve::Task,
}

/// Opens the monitor on its records with the spec's configuration and the secrets its routes
/// check; every missing secret is invalid input.
async fn monitor_parts(
    env: &Arc<Environment>,
    settings: &brickstack_spec::Monitor,
    leadership: tokio::sync::watch::Receiver<brickstack_serve::Leadership>,
) -> anyhow::Result<Result<MonitorParts, ExitCode>> {
    let secrets = &env.provider.first;
    let api_key = match &settings.api_key_parameter {
        Some(parameter) => {
            match required_secret(secrets, parameter, "the monitor's push key parameter").await {
                Ok(key) => Some(key),
                Err((code, message)) => {
                    eprintln!("{message}");
                    return Ok(Err(code));
                }
            }
        }
        None => None,
    };
    let job_webhook = match &settings.job_webhook {
        Some(job) => {
            let user = required_secret(
                secrets,
                &job.username_parameter,
                "the job webhook's user parameter",
            )
            .await;
            let password = required_secret(
                secrets,
                &job.password_parameter,
                "the job webhook's password parameter",
            )
            .await;
            match (user, password) {
                (Ok(user), Ok(password)) => Some((user.expose().to_string(), password)),
                (Err((code, message)), _) | (_, Err((code, message))) => {
                    eprintln!("{message}");
                    return Ok(Err(code));
                }
            }
        }
        None => None,
    };
    let state = match Backend::for_spec(&env.spec).await {
        Ok(backend) => backend.read().await.ok().flatten(),
        Err(code) => return Ok(Err(code)),
    };
    let config = match crate::monitor_command::config(env, settings, state.as_ref()) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("error: {message}");
            return Ok(Err(ExitCode::from(EXIT_INVALID_INPUT)));
        }
    };
    let monitor = brickstack_monitor::Monitor::open(
        config,
        records_path(settings),
        WorkspaceClusters { env: env.clone() },
        SlackAlerts {
            env: env.clone(),
            parameter: settings.slack_webhook_parameter.clone(),
        },
        leadership,
    )?;
    let routes = monitor.routes(PushAuth {
        api_key,
        job_webhook,
    });
    let registering = monitor.clone();
    Ok(Ok(MonitorParts {
        routes,
        metrics: Box::new(move |registry| registering.register_metrics(registry)),
        task: Box::new(move |stop| Box::pin(monitor.run(stop))),
    }))
}

/// Applies a batch of requests in one run under the environment's lock.
struct Runner {
    env: Arc<Environment>,
    options: ApplyOptions,
}

impl AccessRunner for Runner {
    fn run(
        &self,
        batch: &[AccessRequest],
    ) -> impl std::future::Future<Output = Vec<AccessOutcome>> + Send {
        let env = self.env.clone();
        let options = self.options.clone();
        let batch = batch.to_vec();
        async move {
            let grants: Vec<String> = batch
                .iter()
                .filter(|r| r.action == AccessAction::Grant)
                .map(|r| r.username.clone())
                .collect();
            let revokes: Vec<String> = batch
                .iter()
                .filter(|r| r.action == AccessAction::Revoke)
                .map(|r| r.username.clone())
                .collect();
            let failed_all = |error: String| {
                batch
                    .iter()
                    .map(|_| AccessOutcome::Failed {
                        error: error.clone(),
                    })
                    .collect::<Vec<_>>()
            };
            let backend = match Backend::for_spec(&env.spec).await {
                Ok(backend) => backend,
                Err(_) => return failed_all("the state backend could not be reached".into()),
            };
            let cancel = AtomicBool::new(false);
            let events = |event: brickstack_exec::Event| {
                tracing::info!(target: "brickstack::serve", "{event:?}");
            };
            let result = run_changes(
                &env, &backend, &grants, &revokes, "serve", &options, &events, &cancel,
            )
            .await;
            let (report, graph) = match result {
                Ok(Ok(done)) => done,
                Ok(Err(e)) => return failed_all(e.to_string()),
                Err(e) => return failed_all(format!("{e:#}")),
            };
            post_alarms(&env, &graph, &report).await;
            let mut by_person = outcomes(&graph, &report, &grants, &revokes);
            batch
                .iter()
                .map(|request| match by_person.remove(&request.username) {
                    Some(PersonOutcome::Ready {
                        cluster_id,
                        cluster_name,
                    }) => AccessOutcome::Ready {
                        cluster_id,
                        cluster_name,
                    },
                    Some(PersonOutcome::Revoked) => AccessOutcome::Revoked,
                    Some(PersonOutcome::Failed(error)) => AccessOutcome::Failed { error },
                    None => AccessOutcome::Failed {
                        error: "no outcome was recorded for this request".into(),
                    },
                })
                .collect()
        }
    }
}
