//! `[databricks]`: the workspace and everything inside it.

use crate::defaults;
use crate::diagnostic::DiagnosticCode;
use crate::model::{
    Autoscale, AwsAttributes, Cluster, ClusterPolicy, DataAccess, Databricks, Environment, Group,
    IpAccessList, SecretScope, Tokens,
};
use crate::reader::{Cx, Table};

pub(super) fn databricks(t: &mut Table<'_, '_>, cx: &mut Cx, env: &Environment) -> Databricks {
    let mut w = t.table(cx, "workspace");
    let workspace_name = w
        .str(cx, "name")
        .unwrap_or_else(|| default_workspace_name(env));
    let storage_cmk = w
        .str(cx, "storage_cmk")
        .unwrap_or_else(|| "datalake".to_string());
    let pricing_tier = w
        .choice(cx, "pricing_tier", &["PREMIUM", "ENTERPRISE"])
        .unwrap_or_else(|| "PREMIUM".to_string());
    let max_token_lifetime_days = w.int(cx, "max_token_lifetime_days", 1, 730);
    let dbfs_sse_kms = w.bool(cx, "dbfs_sse_kms").unwrap_or(true);
    w.finish(cx);

    let mut l = t.table(cx, "log_delivery");
    let log_delivery_billable_usage = l.bool(cx, "billable_usage").unwrap_or(true);
    let log_delivery_audit_logs = l.bool(cx, "audit_logs").unwrap_or(true);
    l.finish(cx);

    let mut sp = t.table(cx, "service_principal");
    let service_principal_name = sp
        .str(cx, "display_name")
        .unwrap_or_else(|| format!("{}-deployer", env.prefix));
    sp.finish(cx);

    let mut tk = t.table(cx, "tokens");
    let lifetime_seconds = tk
        .int(
            cx,
            "lifetime_seconds",
            defaults::TOKEN_LIFETIME_MIN,
            defaults::TOKEN_LIFETIME_MAX,
        )
        .unwrap_or(defaults::TOKEN_LIFETIME_SECONDS);
    let rotate_before_seconds = tk
        .int(cx, "rotate_before_seconds", 0, defaults::TOKEN_LIFETIME_MAX)
        .unwrap_or(defaults::TOKEN_ROTATE_BEFORE_SECONDS);
    let parameter_prefix = tk
        .str(cx, "parameter_prefix")
        .unwrap_or_else(|| format!("/brickstack/{}/databricks/tokens", env.name));
    if tk.has("parameter_prefix") {
        super::environment::check_parameter_name(
            cx,
            "databricks.tokens.parameter_prefix",
            &parameter_prefix,
        );
    }
    tk.finish(cx);

    let groups = match t.named_tables(cx, "groups") {
        Some(tables) => tables
            .into_iter()
            .map(|(k, mut g)| group(&mut g, cx, k))
            .collect(),
        None => vec![
            Group {
                key: "read_only".into(),
                display_name: "Read only".into(),
                data_access: DataAccess::Read,
                allow_cluster_create: false,
            },
            Group {
                key: "all_access".into(),
                display_name: "All access".into(),
                data_access: DataAccess::Write,
                allow_cluster_create: false,
            },
        ],
    };
    let meta_instance_profile_groups = t
        .str_list(cx, "meta_instance_profile_groups")
        .unwrap_or_else(|| vec!["admins".to_string()]);

    let clusters = match t.named_tables(cx, "clusters") {
        Some(tables) => tables
            .into_iter()
            .map(|(k, mut c)| {
                let name = k.clone();
                cluster(&mut c, cx, k, &name)
            })
            .collect(),
        None => vec![cluster(
            &mut Table::absent_at("databricks.clusters.high_concurrency".into()),
            cx,
            "high_concurrency".into(),
            "High-Concurrency",
        )],
    };
    let cluster_policies = t
        .named_tables(cx, "cluster_policies")
        .unwrap_or_default()
        .into_iter()
        .map(|(key, mut p)| {
            let name = p.str(cx, "name").unwrap_or_else(|| key.clone());
            let definition = p.str(cx, "definition").unwrap_or_else(|| {
                cx.error_at(
                    DiagnosticCode::MissingKey,
                    &p.path,
                    format!("`{}` needs `definition`", p.path),
                    "give the policy definition as JSON text, e.g. `definition = '{\"autotermination_minutes\": {\"type\": \"fixed\", \"value\": 30}}'`",
                );
                "{}".to_string()
            });
            // Canonical when it parses; `checks` reports it when it does not.
            let definition = canonical_json_object(&definition).unwrap_or(definition);
            p.finish(cx);
            ClusterPolicy { key, name, definition }
        })
        .collect();
    let ip_access_lists = t
        .named_tables(cx, "ip_access_lists")
        .unwrap_or_default()
        .into_iter()
        .map(|(key, mut a)| {
            let label = a.str(cx, "label").unwrap_or_else(|| key.clone());
            let list_type = a
                .choice(cx, "list_type", &["ALLOW", "BLOCK"])
                .unwrap_or_else(|| "ALLOW".to_string());
            let ip_addresses = a.str_list(cx, "ip_addresses").unwrap_or_default();
            a.finish(cx);
            IpAccessList {
                key,
                label,
                list_type,
                ip_addresses,
            }
        })
        .collect();
    let secret_scopes = t
        .named_tables(cx, "secret_scopes")
        .unwrap_or_default()
        .into_iter()
        .map(|(key, mut s)| {
            let name = s.str(cx, "name").unwrap_or_else(|| key.clone());
            let readers = s.str_list(cx, "readers").unwrap_or_default();
            s.finish(cx);
            SecretScope { key, name, readers }
        })
        .collect();

    Databricks {
        workspace_name,
        storage_cmk,
        pricing_tier,
        log_delivery_billable_usage,
        log_delivery_audit_logs,
        service_principal_name,
        tokens: Tokens {
            lifetime_seconds,
            rotate_before_seconds,
            parameter_prefix,
        },
        groups,
        meta_instance_profile_groups,
        dbfs_sse_kms,
        clusters,
        cluster_policies,
        ip_access_lists,
        max_token_lifetime_days,
        secret_scopes,
    }
}

/// The naming convention: stage then qualifiers, e.g. `prod-eu-datateam`.
fn default_workspace_name(env: &Environment) -> String {
    std::iter::once(env.stage.as_str().to_string())
        .chain(env.qualifiers.iter().map(|q| q.to_lowercase()))
        .collect::<Vec<_>>()
        .join("-")
}

fn group(t: &mut Table<'_, '_>, cx: &mut Cx, key: String) -> Group {
    let display_name = t.str(cx, "display_name").unwrap_or_else(|| key.clone());
    let data_access = match t.choice(cx, "data_access", &DataAccess::NAMES).as_deref() {
        Some("read") => DataAccess::Read,
        Some("write") => DataAccess::Write,
        _ => DataAccess::None,
    };
    let allow_cluster_create = t.bool(cx, "allow_cluster_create").unwrap_or(false);
    t.finish(cx);
    Group {
        key,
        display_name,
        data_access,
        allow_cluster_create,
    }
}

/// A cluster; its name defaults to `default_name` (the table key for written clusters).
fn cluster(t: &mut Table<'_, '_>, cx: &mut Cx, key: String, default_name: &str) -> Cluster {
    let name = t
        .str(cx, "name")
        .unwrap_or_else(|| default_name.to_string());
    let spark_version = t
        .str(cx, "spark_version")
        .unwrap_or_else(|| defaults::SPARK_VERSION.to_string());
    let node_type_id = t
        .str(cx, "node_type_id")
        .unwrap_or_else(|| defaults::NODE_TYPE_ID.to_string());
    // 0 is the API's "never stops": valid, so the spec takes it and `brickstack audit` reports it
    // (BSA003); 1 to 9 the API refuses.
    let autotermination_minutes = match t.int(cx, "autotermination_minutes", 0, 43_200) {
        Some(1..=9) => {
            cx.error_at(
                DiagnosticCode::InvalidValue,
                &crate::reader::join(&t.path, "autotermination_minutes"),
                format!(
                    "`{}.autotermination_minutes` must be 0 (never stops) or between 10 and 43200",
                    t.path
                ),
                "pick 10 or more; 0 turns auto-termination off, which `brickstack audit` reports",
            );
            30
        }
        Some(minutes) => minutes,
        None => 30,
    };
    let mut a = t.table(cx, "autoscale");
    let autoscale = Autoscale {
        min_workers: a.int(cx, "min_workers", 0, 10_000).unwrap_or(1),
        max_workers: a.int(cx, "max_workers", 1, 10_000).unwrap_or(2),
    };
    a.finish(cx);
    if autoscale.min_workers > autoscale.max_workers {
        cx.error_at(
            DiagnosticCode::InvalidValue,
            &format!("{}.autoscale", t.path),
            format!(
                "`min_workers` ({}) is larger than `max_workers` ({})",
                autoscale.min_workers, autoscale.max_workers
            ),
            "make `min_workers` at most `max_workers`",
        );
    }
    let mut aws = t.table(cx, "aws_attributes");
    let aws_attributes = AwsAttributes {
        availability: aws
            .choice(
                cx,
                "availability",
                &["SPOT", "ON_DEMAND", "SPOT_WITH_FALLBACK"],
            )
            .unwrap_or_else(|| "SPOT_WITH_FALLBACK".to_string()),
        first_on_demand: aws.int(cx, "first_on_demand", 0, 10_000).unwrap_or(1),
        spot_bid_price_percent: aws
            .int(cx, "spot_bid_price_percent", 1, 10_000)
            .unwrap_or(60),
        ebs_volume_count: aws.int(cx, "ebs_volume_count", 0, 10).unwrap_or(1),
        ebs_volume_size_gb: aws.int(cx, "ebs_volume_size_gb", 32, 4096).unwrap_or(32),
    };
    aws.finish(cx);
    let spark_conf = t.str_map(cx, "spark_conf").unwrap_or_else(|| {
        defaults::SPARK_CONF
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    });
    let log_prefix = match t.str(cx, "log_prefix") {
        Some(p) if p.is_empty() => None,
        Some(p) => Some(p),
        None => Some("cluster-logs".to_string()),
    };
    let policy = t.str(cx, "policy");
    t.finish(cx);
    Cluster {
        key,
        name,
        spark_version,
        node_type_id,
        autoscale,
        autotermination_minutes,
        aws_attributes,
        spark_conf,
        log_prefix,
        policy,
    }
}

/// A JSON object as compact text with its keys sorted at every level: the form the Databricks
/// provider reads policies back in, so whitespace or key order in the spec never shows as a change.
pub(crate) fn canonical_json_object(text: &str) -> Result<String, String> {
    fn sorted(value: serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Object(map) => {
                let mut entries: Vec<(String, serde_json::Value)> = map.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                serde_json::Value::Object(
                    entries.into_iter().map(|(k, v)| (k, sorted(v))).collect(),
                )
            }
            serde_json::Value::Array(items) => {
                serde_json::Value::Array(items.into_iter().map(sorted).collect())
            }
            other => other,
        }
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value @ serde_json::Value::Object(_)) => Ok(sorted(value).to_string()),
        Ok(_) => Err("it is JSON, but not an object".into()),
        Err(e) => Err(e.to_string()),
    }
}
