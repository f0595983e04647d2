//! The cluster-failure monitor's side of the CLI (docs/monitor.md): its configuration from the
//! spec, [`WorkspaceClusters`] (the monitor's view of the environment's Databricks workspaces,
//! through the Databricks adapter), [`SlackAlerts`], and `brickstack monitor report`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use brickstack_databricks::workspace::WorkspaceClient;
use brickstack_databricks::workspace::clusters::{ClusterDetails, EventsRequest};
use brickstack_monitor::{
    Alert, AlertError, Alerts, ApiError, BreakerConfig, Cluster, ClusterEvent, Clusters,
    LibraryStatus, MonitorConfig, Playbooks, RunInfo, Scope, SpecChange, TerminationReason,
    Workspace,
};
use brickstack_provider::SecretStore;
use brickstack_state::{ResourceStatus, State, StateStore};

use crate::backend::Backend;
use crate::run_commands::Environment;
use crate::{EXIT_INVALID_INPUT, SpecArgs};

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
}

/// `brickstack monitor report`: the figures of the records, without calling any API.
pub fn report(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let spec = match crate::commands::load_spec(&args.spec)? {
        Ok(spec) => spec,
        Err(code) => return Ok(code),
    };
    let Some(monitor) = &spec.monitor else {
        eprintln!(
            "error: environment `{}` has no `[monitor]` section",
            spec.environment.name
        );
        eprintln!("  hint: add `[monitor]` (docs/monitor.md) and run `brickstack serve`");
        return Ok(ExitCode::from(EXIT_INVALID_INPUT));
    };
    let records = PathBuf::from(&monitor.records);
    if !records.exists() {
        eprintln!("error: no monitor records at `{}`", records.display());
        eprintln!(
            "  hint: the monitor writes them once `brickstack serve` has run with `[monitor]`"
        );
        return Ok(ExitCode::from(EXIT_INVALID_INPUT));
    }
    let report = brickstack_monitor::report(&records, time::OffsetDateTime::now_utc())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render_text());
    }
    Ok(ExitCode::SUCCESS)
}

/// The monitor's configuration from `[monitor]`: durations, scope (policy keys resolved to the
/// ids state records), breakers, and the playbooks the file overrides on the defaults.
pub(crate) fn config(
    env: &Environment,
    monitor: &brickstack_spec::Monitor,
    state: Option<&State>,
) -> Result<MonitorConfig, String> {
    let mut playbooks = Playbooks::default();
    for spec in &monitor.playbooks {
        let mut playbook = playbooks.base(&spec.key);
        playbook.action = spec.action.parse().map_err(|_| {
            format!(
                "`[monitor.playbooks.{}]`: unknown action `{}`",
                spec.key, spec.action
            )
        })?;
        if let Some(s) = spec.timeout_seconds {
            playbook.timeout = Duration::from_secs(s);
        }
        if let Some(s) = spec.health_check_timeout_seconds {
            playbook.health_check_timeout = Duration::from_secs(s);
        }
        if let Some(on_demand) = spec.on_demand {
            playbook.on_demand = on_demand;
        }
        if !spec.instance_types.is_empty() {
            playbook.instance_types = spec.instance_types.clone();
        }
        if !spec.zones.is_empty() {
            playbook.zones = spec.zones.clone();
        }
        if spec.resize_to.is_some() {
            playbook.resize_to = spec.resize_to;
        }
        if let Some(s) = spec.longer_timeout_seconds {
            playbook.longer_timeout = Duration::from_secs(s);
        }
        playbooks.set(&spec.key, playbook);
    }
    let mut policy_ids = BTreeSet::new();
    for key in &monitor.scope.policies {
        let address = format!("databricks_cluster_policy.{key}");
        let id = state
            .and_then(|s| s.resources.get(&address))
            .filter(|r| r.status == ResourceStatus::Live)
            .map(|r| {
                let id = r.object_id.as_str();
                id.rsplit('/').next().unwrap_or(id).to_string()
            });
        match id {
            Some(id) => {
                policy_ids.insert(id);
            }
            None => tracing::warn!(
                %address,
                "`[monitor.scope].policies` names a policy state does not record yet: no cluster matches it until it is applied"
            ),
        }
    }
    Ok(MonitorConfig {
        environment: env.spec.environment.name.clone(),
        interval: Duration::from_secs(monitor.interval_seconds),
        auto_remediation: monitor.auto_remediation,
        scope: Scope {
            tags: monitor
                .scope
                .tags
                .iter()
                .cloned()
                .collect::<BTreeMap<_, _>>(),
            policy_ids,
            remediate_unmanaged: monitor.scope.remediate_unmanaged,
        },
        breaker: BreakerConfig {
            threshold: monitor.breaker.threshold,
            window: Duration::from_secs(monitor.breaker.window_seconds),
            cooldown: Duration::from_secs(monitor.breaker.cooldown_seconds),
        },
        playbooks,
    })
}

/// The environment's Databricks workspaces as the monitor sees them: listed from state, called
/// as the account's service principal through the Databricks adapter (whose client retries).
pub(crate) struct WorkspaceClusters {
    pub env: Arc<Environment>,
}

impl WorkspaceClusters {
    async fn client(&self, workspace: &Workspace) -> Result<WorkspaceClient, ApiError> {
        self.env
            .provider
            .second
            .first
            .workspace_client(&workspace.url)
            .await
            .map_err(|e| ApiError {
                message: format!("workspace `{}`: {e}", workspace.name),
                not_found: e.class == brickstack_provider::ErrorClass::NotFound,
                maybe_applied: false,
            })
    }
}

fn api_error(call: &str, e: brickstack_databricks::client::error::Error) -> ApiError {
    ApiError {
        message: format!("{call}: {e}"),
        not_found: e.is_not_found(),
        maybe_applied: e.may_have_been_applied(),
    }
}

fn reason(r: &brickstack_databricks::workspace::clusters::TerminationReason) -> TerminationReason {
    TerminationReason {
        code: r
            .code
            .as_ref()
            .map(|c| c.as_str().to_string())
            .unwrap_or_default(),
        kind: r
            .kind
            .as_ref()
            .map(|k| k.as_str().to_string())
            .unwrap_or_default(),
        parameters: r.parameters.clone(),
    }
}

fn cluster(c: ClusterDetails) -> Cluster {
    let aws = c.spec.aws_attributes.as_ref();
    Cluster {
        state: c.state.as_str().to_string(),
        state_message: c.state_message.clone(),
        termination_reason: c.termination_reason.as_ref().map(reason),
        terminated_time: c.terminated_time,
        cluster_source: c.cluster_source.clone(),
        custom_tags: c.spec.custom_tags.clone(),
        policy_id: c.spec.policy_id.clone(),
        node_type_id: c.spec.node_type_id.clone(),
        availability: aws.and_then(|a| a.availability.clone()),
        zone_id: aws.and_then(|a| a.zone_id.clone()),
        num_workers: c.spec.num_workers,
        autoscale: c
            .spec
            .autoscale
            .as_ref()
            .map(|a| (a.min_workers, a.max_workers)),
        cluster_name: c.spec.cluster_name.clone().unwrap_or_default(),
        cluster_id: c.cluster_id,
    }
}

/// The live workspaces state records.
pub(crate) fn workspaces_in(state: &State) -> Vec<Workspace> {
    let mut workspaces: Vec<Workspace> = state
        .resources
        .iter()
        .filter(|(_, r)| r.kind == "databricks_mws_workspaces" && r.status == ResourceStatus::Live)
        .filter_map(|(address, r)| {
            let url = r.attributes.get("workspace_url")?.as_str()?.to_string();
            let workspace_id = r
                .attributes
                .get("workspace_id")
                .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
                .or_else(|| r.object_id.rsplit('/').next()?.parse().ok())?;
            let name = r
                .attributes
                .get("workspace_name")
                .and_then(|v| v.as_str())
                .unwrap_or(address)
                .to_string();
            Some(Workspace {
                workspace_id,
                name,
                url,
            })
        })
        .collect();
    workspaces.sort();
    workspaces
}

impl Clusters for WorkspaceClusters {
    async fn workspaces(&self) -> Result<Vec<Workspace>, ApiError> {
        let backend = Backend::for_spec(&self.env.spec)
            .await
            .map_err(|_| ApiError {
                message: "the state backend cannot be reached".into(),
                not_found: false,
                maybe_applied: false,
            })?;
        let state = backend.read().await.map_err(|e| ApiError {
            message: format!("reading state: {e}"),
            not_found: false,
            maybe_applied: false,
        })?;
        Ok(state.as_ref().map(workspaces_in).unwrap_or_default())
    }

    async fn server_now_ms(&self, workspace: &Workspace) -> Result<i64, ApiError> {
        let client = self.client(workspace).await?;
        // A cheap call refreshes the server's clock when this client has not answered yet.
        if client.client().server_now_ms() == 0 {
            client
                .spark_versions()
                .await
                .map_err(|e| api_error("clusters/spark-versions", e))?;
        }
        Ok(client.client().server_now_ms())
    }

    async fn list(&self, workspace: &Workspace) -> Result<Vec<Cluster>, ApiError> {
        let client = self.client(workspace).await?;
        let clusters = client
            .list_clusters(&Default::default())
            .await
            .map_err(|e| api_error("clusters/list", e))?;
        Ok(clusters.into_iter().map(cluster).collect())
    }

    async fn get(
        &self,
        workspace: &Workspace,
        cluster_id: &str,
    ) -> Result<Option<Cluster>, ApiError> {
        let client = self.client(workspace).await?;
        let found = client
            .get_cluster(cluster_id)
            .await
            .map_err(|e| api_error(&format!("clusters/get {cluster_id}"), e))?;
        Ok(found.map(cluster))
    }

    async fn events(
        &self,
        workspace: &Workspace,
        cluster_id: &str,
        after_ms: i64,
    ) -> Result<Vec<ClusterEvent>, ApiError> {
        let client = self.client(workspace).await?;
        let request = EventsRequest::after(cluster_id, Some(after_ms));
        let events = client
            .cluster_events(&request)
            .await
            .map_err(|e| api_error(&format!("clusters/events {cluster_id}"), e))?;
        let mut events: Vec<ClusterEvent> = events
            .into_iter()
            .filter_map(|e| {
                let timestamp = e.timestamp?;
                (timestamp > after_ms).then(|| ClusterEvent {
                    cluster_id: e.cluster_id.clone(),
                    timestamp,
                    kind: e.kind.as_str().to_string(),
                    reason: e.details.reason.as_ref().map(reason),
                })
            })
            .collect();
        // Ascending whatever order the server kept.
        events.sort_by_key(|e| e.timestamp);
        Ok(events)
    }

    async fn start(&self, workspace: &Workspace, cluster_id: &str) -> Result<(), ApiError> {
        let client = self.client(workspace).await?;
        client
            .start_cluster(cluster_id)
            .await
            .map_err(|e| api_error(&format!("clusters/start {cluster_id}"), e))
    }

    async fn restart(&self, workspace: &Workspace, cluster_id: &str) -> Result<(), ApiError> {
        let client = self.client(workspace).await?;
        client
            .restart_cluster(cluster_id)
            .await
            .map_err(|e| api_error(&format!("clusters/restart {cluster_id}"), e))
    }

    async fn change_spec(
        &self,
        workspace: &Workspace,
        cluster_id: &str,
        changes: &[SpecChange],
    ) -> Result<(), ApiError> {
        let client = self.client(workspace).await?;
        let call = format!("clusters/edit {cluster_id}");
        let Some(details) = client
            .get_cluster(cluster_id)
            .await
            .map_err(|e| api_error(&format!("clusters/get {cluster_id}"), e))?
        else {
            return Err(ApiError {
                message: format!("{call}: the cluster does not exist"),
                not_found: true,
                maybe_applied: false,
            });
        };
        // The last spec a user sent, as `edit` wants it back (nothing computed, nothing lost).
        let mut spec = details.editable_spec();
        for change in changes {
            match change {
                SpecChange::OnDemand => {
                    let aws = spec.aws_attributes.get_or_insert_with(Default::default);
                    aws.availability = Some("ON_DEMAND".into());
                }
                SpecChange::NodeType(node_type) => {
                    if spec.driver_node_type_id == spec.node_type_id {
                        spec.driver_node_type_id = Some(node_type.clone());
                    }
                    spec.node_type_id = Some(node_type.clone());
                }
                SpecChange::Zone(zone) => {
                    let aws = spec.aws_attributes.get_or_insert_with(Default::default);
                    aws.zone_id = Some(zone.clone());
                }
            }
        }
        client
            .edit_cluster(cluster_id, &spec)
            .await
            .map_err(|e| api_error(&call, e))
    }

    async fn resize(
        &self,
        workspace: &Workspace,
        cluster_id: &str,
        num_workers: i64,
    ) -> Result<(), ApiError> {
        let client = self.client(workspace).await?;
        client
            .resize_cluster(
                cluster_id,
                brickstack_databricks::workspace::clusters::ClusterSize::Fixed(num_workers),
            )
            .await
            .map_err(|e| api_error(&format!("clusters/resize {cluster_id}"), e))
    }

    async fn libraries(
        &self,
        workspace: &Workspace,
        cluster_id: &str,
    ) -> Result<Vec<LibraryStatus>, ApiError> {
        let client = self.client(workspace).await?;
        let statuses = client
            .cluster_library_statuses(cluster_id)
            .await
            .map_err(|e| api_error(&format!("libraries/cluster-status {cluster_id}"), e))?;
        Ok(statuses
            .library_statuses
            .into_iter()
            .map(|s| LibraryStatus {
                library: serde_json::to_string(&s.library).unwrap_or_default(),
                status: s.status.as_str().to_string(),
                messages: s.messages,
            })
            .collect())
    }

    async fn run(&self, workspace: &Workspace, run_id: i64) -> Result<Option<RunInfo>, ApiError> {
        let client = self.client(workspace).await?;
        let Some(run) = client
            .get_run(run_id)
            .await
            .map_err(|e| api_error(&format!("jobs/runs/get {run_id}"), e))?
        else {
            return Ok(None);
        };
        let details = run.termination_details();
        Ok(Some(RunInfo {
            run_id,
            job_id: run.job_id,
            run_name: run.run_name.clone(),
            cluster_ids: run.cluster_ids(),
            termination_code: details
                .and_then(|d| d.code.as_ref())
                .map(|c| c.as_str().to_string()),
            termination_type: details
                .and_then(|d| d.kind.as_ref())
                .map(|k| k.as_str().to_string()),
            termination_message: details.map(|d| d.message.clone()).filter(|m| !m.is_empty()),
        }))
    }
}

/// Alerts to a Slack incoming webhook whose URL is an SSM SecureString parameter, read for each
/// post (a rotated URL is picked up; the URL is never held, logged or shown).
pub(crate) struct SlackAlerts {
    pub env: Arc<Environment>,
    pub parameter: Option<String>,
}

impl Alerts for SlackAlerts {
    async fn send(&self, alert: &Alert) -> Result<(), AlertError> {
        let Some(parameter) = &self.parameter else {
            return Ok(());
        };
        brickstack_notify::post_alarm(&self.env.provider.first, parameter, &alert.text)
            .await
            .map_err(|e| AlertError {
                message: e.to_string(),
            })
    }
}

/// Reads a SecureString the service needs; a missing or empty one is invalid input, with the
/// command that creates it.
pub(crate) async fn required_secret(
    secrets: &impl SecretStore,
    parameter: &str,
    what: &str,
) -> Result<brickstack_provider::SecretValue, (ExitCode, String)> {
    match secrets.read(parameter).await {
        Ok(Some(value)) if !value.expose().is_empty() => Ok(value),
        Ok(_) => Err((
            ExitCode::from(EXIT_INVALID_INPUT),
            format!(
                "error: {what} `{parameter}` does not exist or is empty\n  hint: aws ssm put-parameter --type SecureString --name {parameter} --value <a long random value>"
            ),
        )),
        Err(e) => Err((
            ExitCode::FAILURE,
            format!("error: reading {what} `{parameter}`: {e}"),
        )),
    }
}

/// The records' path as the spec gives it.
pub(crate) fn records_path(monitor: &brickstack_spec::Monitor) -> &Path {
    Path::new(&monitor.records)
}
