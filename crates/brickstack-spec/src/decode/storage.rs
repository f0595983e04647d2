//! `[kms]`, `[buckets]` and `[datalake]`: keys and the buckets they encrypt.

use crate::defaults;
use crate::diagnostic::DiagnosticCode;
use crate::model::{Bucket, BucketRole, Buckets, Environment, KmsKey, LifecycleRule};
use crate::reader::{Cx, Table};

pub(super) fn kms(t: &mut Table<'_, '_>, cx: &mut Cx, env: &Environment) -> Vec<KmsKey> {
    let mut written = t.named_tables(cx, "keys").unwrap_or_default();
    let mut keys = Vec::new();
    // The two keys the architecture needs always exist; `[kms.keys.<name>]` tunes or adds.
    for (name, description, log_services) in defaults::KMS_KEYS {
        let table = written
            .iter()
            .position(|(n, _)| n == name)
            .map(|i| written.remove(i).1);
        keys.push(key(table, cx, env, name, description, *log_services));
    }
    for (name, table) in written {
        keys.push(key(Some(table), cx, env, &name, "", false));
    }
    t.finish(cx);
    keys
}

fn key(
    table: Option<Table<'_, '_>>,
    cx: &mut Cx,
    env: &Environment,
    name: &str,
    description: &str,
    log_services: bool,
) -> KmsKey {
    let mut default = KmsKey {
        name: name.to_string(),
        alias: format!("{}-{name}", env.prefix),
        description: if description.is_empty() {
            format!("{} {name} key", env.prefix)
        } else {
            description.to_string()
        },
        rotation: true,
        deletion_window_days: defaults::KMS_DELETION_WINDOW_DAYS,
        allow_log_services: log_services,
    };
    let Some(mut t) = table else { return default };
    if let Some(alias) = t.str(cx, "alias") {
        default.alias = alias.trim_start_matches("alias/").to_string();
    }
    if let Some(d) = t.str(cx, "description") {
        default.description = d;
    }
    if let Some(r) = t.bool(cx, "rotation") {
        default.rotation = r;
    }
    if let Some(w) = t.int(cx, "deletion_window_days", 7, 30) {
        default.deletion_window_days = w;
    }
    if let Some(l) = t.bool(cx, "allow_log_services") {
        default.allow_log_services = l;
    }
    t.finish(cx);
    default
}

/// A bucket's settings as written, over the defaults of its role.
struct BucketDefaults<'a> {
    key: &'a str,
    role: BucketRole,
    suffix: &'a str,
    kms_key: &'a str,
    versioning: bool,
    lifecycle: Option<LifecycleRule>,
    enforce_sse_kms: bool,
}

fn log_lifecycle() -> Option<LifecycleRule> {
    Some(LifecycleRule {
        transition_to_glacier_days: Some(defaults::LOG_GLACIER_DAYS),
        expire_days: Some(defaults::LOG_EXPIRE_DAYS),
        noncurrent_expire_days: None,
    })
}

pub(super) fn buckets(
    t: &mut Table<'_, '_>,
    datalake: &mut Table<'_, '_>,
    cx: &mut Cx,
    env: &Environment,
) -> Buckets {
    let mut all = Vec::new();
    let services = [
        BucketDefaults {
            key: "access_logs",
            role: BucketRole::AccessLogs,
            suffix: "s3-logging",
            kms_key: "logging",
            versioning: true,
            lifecycle: log_lifecycle(),
            enforce_sse_kms: false,
        },
        BucketDefaults {
            key: "databricks_logs",
            role: BucketRole::DatabricksLogs,
            suffix: "databricks-logging",
            kms_key: "logging",
            versioning: false,
            lifecycle: log_lifecycle(),
            enforce_sse_kms: false,
        },
        BucketDefaults {
            key: "workspace_root",
            role: BucketRole::WorkspaceRoot,
            suffix: "rootbucket",
            kms_key: "datalake",
            versioning: false,
            lifecycle: None,
            enforce_sse_kms: true,
        },
    ];
    for d in services {
        let mut table = t.table(cx, d.key);
        all.push(bucket(&mut table, cx, env, d));
        table.finish(cx);
    }
    t.finish(cx);

    let kms_key = datalake
        .str(cx, "kms_key")
        .unwrap_or_else(|| "datalake".to_string());
    let enforce_sse_kms = datalake.bool(cx, "enforce_sse_kms").unwrap_or(true);
    match datalake.named_tables(cx, "layers") {
        Some(layers) if layers.is_empty() => cx.error_at(
            DiagnosticCode::InvalidValue,
            "datalake.layers",
            "`datalake.layers` defines no layer",
            "add a layer such as `[datalake.layers.raw]`, or remove `[datalake.layers]` for raw, prepared and trusted",
        ),
        Some(layers) => {
            for (name, mut table) in layers {
                let d = BucketDefaults {
                    key: &name,
                    role: BucketRole::Datalake,
                    suffix: &name,
                    kms_key: &kms_key,
                    versioning: false,
                    lifecycle: None,
                    enforce_sse_kms,
                };
                all.push(bucket(&mut table, cx, env, d));
                table.finish(cx);
            }
        }
        None => {
            for (name, versioning) in defaults::DATALAKE_LAYERS {
                all.push(bucket(
                    &mut Table::absent_at(format!("datalake.layers.{name}")),
                    cx,
                    env,
                    BucketDefaults {
                        key: name,
                        role: BucketRole::Datalake,
                        suffix: name,
                        kms_key: &kms_key,
                        versioning: *versioning,
                        lifecycle: None,
                        enforce_sse_kms,
                    },
                ));
            }
        }
    }
    datalake.finish(cx);
    Buckets { all }
}

fn bucket(t: &mut Table<'_, '_>, cx: &mut Cx, env: &Environment, d: BucketDefaults<'_>) -> Bucket {
    let suffix = t.str(cx, "suffix").unwrap_or_else(|| d.suffix.to_string());
    let lifecycle = if t.has("lifecycle") && !t.has_table("lifecycle") {
        // `lifecycle = false` turns the default rule off; `true` asks for the logging buckets' rule.
        match t.bool(cx, "lifecycle") {
            Some(false) => None,
            Some(true) => d.lifecycle.or_else(log_lifecycle),
            None => d.lifecycle,
        }
    } else if t.has_table("lifecycle") {
        let mut l = t.table(cx, "lifecycle");
        let rule = LifecycleRule {
            transition_to_glacier_days: l.int(cx, "transition_to_glacier_days", 1, 36_500),
            expire_days: l.int(cx, "expire_days", 1, 36_500),
            noncurrent_expire_days: l.int(cx, "noncurrent_expire_days", 1, 36_500),
        };
        let path = l.path.clone();
        let written = [
            "transition_to_glacier_days",
            "expire_days",
            "noncurrent_expire_days",
        ]
        .iter()
        .any(|k| l.has(k));
        l.finish(cx);
        if !written {
            cx.error_at(
                DiagnosticCode::InvalidValue,
                &path,
                format!("`{path}` sets no rule"),
                "give `transition_to_glacier_days`, `expire_days` or `noncurrent_expire_days`, or write `lifecycle = false`",
            );
        }
        if let (Some(glacier), Some(expire)) = (rule.transition_to_glacier_days, rule.expire_days)
            && expire <= glacier
        {
            cx.error_at(
                    DiagnosticCode::InvalidValue,
                    &format!("{path}.expire_days"),
                    format!("objects would expire after {expire} days, before their move to Glacier at {glacier}"),
                    "make `expire_days` larger than `transition_to_glacier_days`, or drop the transition",
                );
        }
        Some(rule)
    } else {
        d.lifecycle
    };
    Bucket {
        key: d.key.to_string(),
        role: d.role,
        name: format!("{}-{suffix}", env.prefix),
        kms_key: t
            .str(cx, "kms_key")
            .unwrap_or_else(|| d.kms_key.to_string()),
        versioning: t.bool(cx, "versioning").unwrap_or(d.versioning),
        lifecycle,
        enforce_sse_kms: t.bool(cx, "enforce_sse_kms").unwrap_or(d.enforce_sse_kms),
        enforce_tls: t.bool(cx, "enforce_tls").unwrap_or(true),
        access_logging: t.bool(cx, "access_logging").unwrap_or(false),
    }
}
