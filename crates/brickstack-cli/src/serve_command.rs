//! `brickstack serve`: the long-running ops service (`brickstack-serve`) with its access runner,
//! which applies queued grants and revokes, one run (one environment lock) at a time.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use brickstack_exec::ApplyOptions;
use brickstack_provider::SecretStore;
use brickstack_serve::{
    AccessAction, AccessOutcome, AccessRequest, AccessRunner, Auth, ServeConfig,
};
use brickstack_spec::ServeAuth;

use crate::access::{PersonOutcome, outcomes, post_alarms, run_changes};
use crate::backend::Backend;
use crate::run_commands::Environment;
use crate::{EXIT_INVALID_INPUT, SpecArgs};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Operations running at once within one run
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
}

pub async fn serve(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let env = match crate::run_commands::environment(&args.spec, false).await? {
        Ok(env) => env,
        Err(code) => return Ok(code),
    };
    let name = env.spec.environment.name.clone();
    let Some(settings) = env.spec.serve.clone() else {
        eprintln!("error: environment `{name}` has no `[serve]` section");
        eprintln!(
            "  hint: add `[serve]` with `listen`, `auth` and `key_parameter` (docs/spec.md, docs/serve.md)"
        );
        return Ok(ExitCode::from(EXIT_INVALID_INPUT));
    };
    if env.spec.access.single_user_clusters.is_none() {
        eprintln!("error: environment `{name}` has no `[access.single_user_clusters]` section");
        eprintln!(
            "  hint: the access service grants single-user clusters; add the section (docs/spec.md)"
        );
        return Ok(ExitCode::from(EXIT_INVALID_INPUT));
    }
    let key = match env.provider.first.read(&settings.key_parameter).await {
        Ok(Some(key)) if !key.expose().is_empty() => key,
        Ok(_) => {
            eprintln!(
                "error: the service's key parameter `{}` does not exist or is empty",
                settings.key_parameter
            );
            eprintln!(
                "  hint: aws ssm put-parameter --type SecureString --name {} --value <a long random key>",
                settings.key_parameter
            );
            return Ok(ExitCode::from(EXIT_INVALID_INPUT));
        }
        Err(e) => {
            eprintln!(
                "error: reading the service's key parameter `{}`: {e}",
                settings.key_parameter
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    let auth = match settings.auth {
        ServeAuth::ApiKey => Auth::ApiKey(key),
        ServeAuth::Hmac => Auth::Hmac(key),
    };
    let db_path = Path::new("state").join(format!("{name}.serve.sqlite"));
    let config = ServeConfig::new(settings.listen, auth, db_path);
    let runner = Runner {
        env: Arc::new(env),
        options: ApplyOptions {
            parallelism: args.parallelism,
            ..ApplyOptions::default()
        },
    };
    eprintln!(
        "brickstack serve: environment `{name}` on http://{}",
        settings.listen
    );
    match brickstack_serve::serve(config, runner).await {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
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
