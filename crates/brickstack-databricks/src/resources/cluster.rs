//! `databricks_cluster`: an all-purpose cluster. The object id is `<workspace_id>/<cluster_id>`.
//!
//! * Create waits until the cluster is `RUNNING`. One that stops instead (`TERMINATED`, with a
//!   termination reason) or does not start in time is permanently deleted, as Terraform does,
//!   and the create fails naming the reason's code, type and state message; so a retry makes a
//!   fresh cluster and `find` never adopts a broken one. The error's class follows the reason's
//!   type (`CLIENT_ERROR` invalid input, `CLOUD_FAILURE`/`SERVICE_FAULT` retryable).
//! * Update is `clusters/edit` with the whole spec: the API allows it on a `RUNNING` cluster
//!   (which restarts; the update waits for it to run again) or a `TERMINATED` one (which stays
//!   so); a cluster in transition is waited for first.
//! * Delete is `permanent-delete`.
//! * Read reports only what the spec can set. The API adds `state`, `default_tags`, the zone it
//!   picked, node details and more; those are never attributes, so a cluster that
//!   auto-terminates is not drift. With `autoscale`, `num_workers` is the API's current target
//!   and is left out.
//! * `aws_attributes` is managed member by member: `zone_id`, `ebs_volume_iops` and
//!   `ebs_volume_throughput` are the API's choice and are neither sent nor read.
//! * `find` adopts the one cluster with the looked-up name that carries brickstack's
//!   `brickstack:address` tag (when the lookup has it).

use std::collections::BTreeMap;
use std::time::Duration;

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, ErrorClass, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{done_if_not_found, gone, invalid_input, observed, parse, scoped_id, scoped_workspace};
use crate::provider::{DatabricksProvider, Workspace};
use crate::workspace::clusters::{
    AutoScale, AwsAttributes as ApiAwsAttributes, ClusterDetails, ClusterFilter, ClusterLogConf,
    ClusterSpec, ClusterState, DataSecurityMode, InitScriptInfo,
};

pub(crate) const KIND: &str = "databricks_cluster";

/// The tag by which `find` recognises brickstack's cluster for an address.
const ADDRESS_TAG: &str = "brickstack:address";
/// How long a cluster may take to start (Terraform's default is 30 minutes too).
const START_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// How long a transition already under way may take before an edit.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Cluster {
    workspace_url: String,
    cluster_name: String,
    spark_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    node_type_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    autotermination_minutes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    num_workers: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    autoscale: Option<AutoScale>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    aws_attributes: Option<AwsAttributes>,
    // Maps and lists are always reported (empty when unset), so a desired `{}` reads back equal.
    #[serde(default)]
    spark_conf: BTreeMap<String, String>,
    #[serde(default)]
    spark_env_vars: BTreeMap<String, String>,
    #[serde(default)]
    custom_tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cluster_log_conf: Option<ClusterLogConf>,
    #[serde(default)]
    init_scripts: Vec<InitScriptInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    policy_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data_security_mode: Option<DataSecurityMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    single_user_name: Option<String>,
}

/// The members of `aws_attributes` brickstack sets and compares.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AwsAttributes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    availability: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    first_on_demand: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    spot_bid_price_percent: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ebs_volume_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ebs_volume_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ebs_volume_size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    instance_profile_arn: Option<String>,
}

impl From<ApiAwsAttributes> for AwsAttributes {
    fn from(a: ApiAwsAttributes) -> Self {
        AwsAttributes {
            availability: a.availability,
            first_on_demand: a.first_on_demand,
            spot_bid_price_percent: a.spot_bid_price_percent,
            ebs_volume_type: a.ebs_volume_type,
            ebs_volume_count: a.ebs_volume_count,
            ebs_volume_size: a.ebs_volume_size,
            instance_profile_arn: a.instance_profile_arn,
        }
    }
}

impl From<AwsAttributes> for ApiAwsAttributes {
    fn from(a: AwsAttributes) -> Self {
        ApiAwsAttributes {
            availability: a.availability,
            first_on_demand: a.first_on_demand,
            spot_bid_price_percent: a.spot_bid_price_percent,
            ebs_volume_type: a.ebs_volume_type,
            ebs_volume_count: a.ebs_volume_count,
            ebs_volume_size: a.ebs_volume_size,
            instance_profile_arn: a.instance_profile_arn,
            ..ApiAwsAttributes::default()
        }
    }
}

impl Cluster {
    fn desired(attributes: &Attributes) -> Result<Cluster, ProviderError> {
        let cluster: Cluster = parse(KIND, attributes)?;
        if cluster.num_workers.is_some() && cluster.autoscale.is_some() {
            return Err(invalid_input(
                KIND,
                "give either `num_workers` or `autoscale`, not both",
            ));
        }
        // Nested objects are parsed leniently (the API's own types); a member they do not keep
        // would be sent nowhere and never read back, so it is refused here.
        let typed = match serde_json::to_value(&cluster) {
            Ok(Value::Object(map)) => map,
            _ => Attributes::new(),
        };
        for (name, value) in attributes {
            if value.is_null() {
                continue;
            }
            if typed.get(name) != Some(value) {
                return Err(invalid_input(
                    KIND,
                    format!(
                        "`{name}` = `{value}` would read back as `{}`: it has members or values brickstack does not manage",
                        typed.get(name).unwrap_or(&Value::Null)
                    ),
                ));
            }
        }
        Ok(cluster)
    }

    fn spec(&self) -> ClusterSpec {
        ClusterSpec {
            cluster_name: Some(self.cluster_name.clone()),
            spark_version: self.spark_version.clone(),
            node_type_id: self.node_type_id.clone(),
            policy_id: self.policy_id.clone(),
            num_workers: self.num_workers,
            autoscale: self.autoscale,
            autotermination_minutes: self.autotermination_minutes,
            aws_attributes: self.aws_attributes.clone().map(Into::into),
            data_security_mode: self.data_security_mode.clone(),
            single_user_name: self.single_user_name.clone(),
            custom_tags: self.custom_tags.clone(),
            spark_conf: self.spark_conf.clone(),
            spark_env_vars: self.spark_env_vars.clone(),
            init_scripts: self.init_scripts.clone(),
            cluster_log_conf: self.cluster_log_conf.clone(),
            ..ClusterSpec::default()
        }
    }

    /// The attributes of a cluster as the API reports it.
    fn reported(workspace_url: &str, details: ClusterDetails) -> Cluster {
        let s = details.spec;
        let aws_attributes = s
            .aws_attributes
            .map(AwsAttributes::from)
            .filter(|a| a != &AwsAttributes::default());
        Cluster {
            workspace_url: workspace_url.to_string(),
            cluster_name: s.cluster_name.unwrap_or_default(),
            spark_version: s.spark_version,
            node_type_id: s.node_type_id,
            autotermination_minutes: s.autotermination_minutes,
            // With autoscale, `num_workers` is the current target, not a setting.
            num_workers: if s.autoscale.is_some() {
                None
            } else {
                s.num_workers
            },
            autoscale: s.autoscale,
            aws_attributes,
            spark_conf: s.spark_conf,
            spark_env_vars: s.spark_env_vars,
            custom_tags: s.custom_tags,
            cluster_log_conf: s.cluster_log_conf,
            init_scripts: s.init_scripts,
            policy_id: s.policy_id,
            data_security_mode: s.data_security_mode,
            single_user_name: s.single_user_name,
        }
    }
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("workspace_url", AttributeBehaviour::ForcesReplacement)
        .attribute("cluster_id", AttributeBehaviour::Computed)
        .attribute("id", AttributeBehaviour::Computed)
}

fn observed_cluster(workspace: &Workspace, details: ClusterDetails) -> Observed {
    let cluster_id = details.cluster_id.clone();
    let attributes = Cluster::reported(workspace.client.host(), details);
    observed(
        &scoped_id(workspace.id, &cluster_id),
        &attributes,
        [
            ("cluster_id", Value::String(cluster_id.clone())),
            ("id", Value::String(cluster_id)),
        ],
    )
}

/// The workspace of `object_id` and the cluster's id in it; `None` when the workspace is gone.
pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let Some((workspace, cluster_id)) = scoped_workspace(p, KIND, object_id).await? else {
        return Ok(None);
    };
    Ok(workspace
        .client
        .get_cluster(cluster_id)
        .await?
        .map(|details| observed_cluster(&workspace, details)))
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired = Cluster::desired(&request.attributes)?;
    let workspace = p.workspace_at(&desired.workspace_url).await?;
    let cluster_id = workspace
        .client
        .create_cluster(&desired.spec())
        .await
        .map_err(principal_missing)?;
    match workspace
        .client
        .wait_running(&cluster_id, START_TIMEOUT)
        .await
    {
        Ok(details) => Ok(observed_cluster(&workspace, details)),
        Err(failed) => {
            let mut error = ProviderError::from(failed);
            match workspace.client.permanent_delete_cluster(&cluster_id).await {
                Ok(()) => error
                    .message
                    .push_str("; the cluster was deleted, so trying again creates a new one"),
                Err(e) if e.is_not_found() => {}
                Err(e) => {
                    // It stays behind: trying again would make a second one.
                    error.class = ErrorClass::Fatal;
                    error.message.push_str(&format!(
                        "; deleting the cluster that did not start failed too: {e}"
                    ));
                }
            }
            Err(error)
        }
    }
}

/// The vendor's answer when `single_user_name` names no user of the workspace
/// (`400 BAD_REQUEST "Principal: UserName(x) does not exist"`): the spec is not wrong, the user
/// is missing, so the error says which resource makes it. Invalid input: retrying the same
/// create cannot help until the user exists.
fn principal_missing(error: crate::client::error::Error) -> ProviderError {
    let missing = error.api().is_some_and(|a| {
        a.message.contains("Principal: UserName(") && a.message.contains("does not exist")
    });
    let provider_error = ProviderError::from(error);
    if !missing {
        return provider_error;
    }
    ProviderError {
        class: ErrorClass::InvalidInput,
        ..provider_error
    }
    .with_hint(
        "the user must exist first; brickstack creates it when it is in the graph (a `databricks_user` that `single_user_name` refers to)",
    )
}

pub(crate) async fn update(
    p: &DatabricksProvider,
    object_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired = Cluster::desired(attributes)?;
    let (workspace, cluster_id) = scoped_workspace(p, KIND, object_id)
        .await?
        .ok_or_else(|| gone(KIND, object_id))?;
    // `edit` is refused while a transition is under way.
    let settled = workspace
        .client
        .wait_settled(cluster_id, SETTLE_TIMEOUT)
        .await?;
    workspace
        .client
        .edit_cluster(cluster_id, &desired.spec())
        .await
        .map_err(principal_missing)?;
    let details = if settled.state == ClusterState::Running {
        // A running cluster restarts with its new spec.
        workspace
            .client
            .wait_running(cluster_id, START_TIMEOUT)
            .await?
    } else {
        workspace
            .client
            .get_cluster(cluster_id)
            .await?
            .ok_or_else(|| gone(KIND, object_id))?
    };
    Ok(observed_cluster(&workspace, details))
}

pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    let Some((workspace, cluster_id)) = scoped_workspace(p, KIND, object_id).await? else {
        return Ok(());
    };
    done_if_not_found(workspace.client.permanent_delete_cluster(cluster_id).await)
}

/// The one cluster named `lookup.name` in the workspace at `lookup.scope`, carrying the
/// lookup's `brickstack:address` tag when it has one.
pub(crate) async fn find(
    p: &DatabricksProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let (Some(url), Some(name)) = (&lookup.scope, &lookup.name) else {
        return Ok(None);
    };
    let workspace = match p.workspace_at(url).await {
        Ok(w) => w,
        Err(e) if e.class == ErrorClass::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let address = lookup.tags.get(ADDRESS_TAG);
    let matching: Vec<ClusterDetails> = workspace
        .client
        .list_clusters(&ClusterFilter::default())
        .await?
        .into_iter()
        .filter(|c| c.spec.cluster_name.as_ref() == Some(name))
        .filter(|c| address.is_none_or(|a| c.spec.custom_tags.get(ADDRESS_TAG) == Some(a)))
        .collect();
    let cluster_id = match matching.as_slice() {
        [] => return Ok(None),
        [one] => one.cluster_id.clone(),
        several => {
            let ids: Vec<&str> = several.iter().map(|c| c.cluster_id.as_str()).collect();
            return Err(ProviderError::new(
                ErrorClass::Conflict,
                "AMBIGUOUS",
                format!(
                    "{KIND}: clusters {} in `{url}` are all named `{name}`; brickstack adopts none of them (delete the extra ones)",
                    ids.join(", ")
                ),
            ));
        }
    };
    // `list` leaves some fields out on the real API; read as `read` does.
    Ok(workspace
        .client
        .get_cluster(&cluster_id)
        .await?
        .map(|details| observed_cluster(&workspace, details)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// What the generator emits for a cluster (references resolved).
    fn generated() -> Value {
        json!({
            "workspace_url": "https://acme.cloud.databricks.com",
            "cluster_name": "shared-autoscaling",
            "spark_version": "15.4.x-scala2.12",
            "node_type_id": "i3.xlarge",
            "autotermination_minutes": 30,
            "autoscale": { "min_workers": 1, "max_workers": 4 },
            "aws_attributes": {
                "availability": "SPOT_WITH_FALLBACK",
                "first_on_demand": 1,
                "spot_bid_price_percent": 100,
                "ebs_volume_type": "GENERAL_PURPOSE_SSD",
                "ebs_volume_count": 1,
                "ebs_volume_size": 100,
                "instance_profile_arn": "arn:aws:iam::123456789012:instance-profile/meta"
            },
            "spark_conf": { "spark.hadoop.fs.s3a.server-side-encryption-algorithm": "SSE-KMS" },
            "cluster_log_conf": { "s3": {
                "destination": "s3://logs/clusters", "region": "eu-west-1",
                "enable_encryption": true, "encryption_type": "sse-kms", "kms_key": "arn:aws:kms:eu-west-1:1:key/k"
            } },
            "policy_id": "ABC",
            "custom_tags": { "brickstack:address": "databricks_cluster.shared", "brickstack:environment": "dev" }
        })
    }

    #[test]
    fn the_generated_cluster_reads_back_equal_from_what_the_api_reports() {
        let desired = generated();
        let cluster = Cluster::desired(desired.as_object().unwrap()).unwrap();
        // What clusters/get answers for it: the spec plus what the API adds.
        let mut api = serde_json::to_value(cluster.spec()).unwrap();
        let extra = json!({
            "cluster_id": "0123-abc", "state": "RUNNING", "state_message": "",
            "num_workers": 2, "default_tags": { "Vendor": "Databricks" },
            "enable_elastic_disk": true, "start_time": 1, "driver": { "node_id": "n" }
        });
        for (k, v) in extra.as_object().unwrap() {
            api[k] = v.clone();
        }
        api["aws_attributes"]["zone_id"] = json!("eu-west-1a");
        let details: ClusterDetails = serde_json::from_value(api).unwrap();
        let workspace = Workspace {
            id: 9,
            client: crate::WorkspaceClient::new(
                "https://acme.cloud.databricks.com",
                crate::Credentials::Pat(brickstack_provider::SecretValue::new("x")),
                crate::RetryPolicy::none(),
            )
            .unwrap(),
        };
        let o = observed_cluster(&workspace, details);
        assert_eq!(o.object_id, "9/0123-abc");
        for (name, value) in desired.as_object().unwrap() {
            assert_eq!(o.attributes.get(name), Some(value), "{name}");
        }
        assert_eq!(o.attributes["cluster_id"], "0123-abc");
        for never in [
            "state",
            "default_tags",
            "num_workers",
            "enable_elastic_disk",
        ] {
            assert!(
                !o.attributes.contains_key(never),
                "{never} is reported: {:#?}",
                o.attributes
            );
        }
    }

    #[test]
    fn a_single_user_naming_no_user_is_invalid_input_with_a_hint_naming_the_user_resource() {
        let api = |message: &str| {
            crate::Error::new(
                "POST",
                "/api/2.1/clusters/create",
                crate::ErrorDetail::Api(crate::ApiError {
                    status: 400,
                    error_code: "BAD_REQUEST".into(),
                    message: message.into(),
                    retry_after: None,
                    request_id: None,
                }),
            )
        };
        let e = principal_missing(api(
            "Principal: UserName(ana.silva@example.com) does not exist",
        ));
        assert_eq!(e.class, ErrorClass::InvalidInput);
        assert_eq!(e.code, "BAD_REQUEST");
        assert!(e.message.contains("ana.silva@example.com"), "{e}");
        let hint = e.hint.expect("a hint");
        assert!(hint.contains("the user must exist first"), "{hint}");
        assert!(hint.contains("databricks_user"), "{hint}");

        let other = principal_missing(api("Node type x is not supported"));
        assert_eq!(other.class, ErrorClass::InvalidInput);
        assert_eq!(other.hint, None);
    }

    #[test]
    fn members_brickstack_does_not_manage_are_refused() {
        let mut desired = generated();
        desired["aws_attributes"]["zone_id"] = json!("auto");
        let e = Cluster::desired(desired.as_object().unwrap()).unwrap_err();
        assert_eq!(e.class, ErrorClass::InvalidInput);
        assert!(e.message.contains("zone_id"), "{e}");

        let mut desired = generated();
        desired["cluster_log_conf"]["s3"]["bucket_owner"] = json!("x");
        let e = Cluster::desired(desired.as_object().unwrap()).unwrap_err();
        assert!(e.message.contains("cluster_log_conf"), "{e}");

        let mut desired = generated();
        desired["num_workers"] = json!(2);
        assert!(Cluster::desired(desired.as_object().unwrap()).is_err());

        let mut desired = generated();
        desired["is_pinned"] = json!(true);
        assert!(Cluster::desired(desired.as_object().unwrap()).is_err());
    }
}
