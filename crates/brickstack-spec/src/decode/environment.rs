//! `[environment]`, `[state]` and `[databricks.account]`.

use crate::defaults;
use crate::diagnostic::{Diagnostic, DiagnosticCode};
use crate::model::{DatabricksAccount, Environment, S3Backend, Stage, StateBackend};
use crate::reader::{Cx, Table, join};
use crate::regions;

pub(super) fn environment(t: &mut Table<'_, '_>, cx: &mut Cx) -> Environment {
    if !t.is_present() {
        cx.error_at(
            DiagnosticCode::MissingKey,
            "environment",
            "the spec has no `[environment]` table",
            "start the file with `[environment]` and at least `name = \"dev\"`",
        );
    }
    let name = t.str(cx, "name").unwrap_or_default();
    if t.is_present() && !t.has("name") {
        cx.error_at(
            DiagnosticCode::MissingKey,
            "environment",
            "`environment.name` is required",
            "add `name = \"<environment>\"`; it names the state file and tags every object",
        );
    } else if !name.is_empty() && !is_identifier(&name) {
        cx.poison("environment.name");
        cx.error_at(
            DiagnosticCode::InvalidValue,
            "environment.name",
            format!("`{name}` is not a valid environment name"),
            "use lowercase letters, digits and `-`, starting with a letter",
        );
    }
    let stage = t
        .choice(cx, "stage", &Stage::NAMES)
        .and_then(|s| Stage::parse(&s))
        .or_else(|| Stage::parse(&name))
        .unwrap_or(Stage::Dev);
    let qualifiers = t.str_list(cx, "qualifiers").unwrap_or_default();
    for (i, q) in qualifiers.iter().enumerate() {
        if !is_identifier(&q.to_lowercase()) {
            cx.error_at(
                DiagnosticCode::InvalidValue,
                &format!("environment.qualifiers[{i}]"),
                format!("`{q}` is not a valid qualifier"),
                "a qualifier is a region or team tag such as `eu` or `datateam`: letters, digits, `-`",
            );
        }
    }
    let project = t.str(cx, "project");
    let prefix = t.str(cx, "prefix").unwrap_or_else(|| {
        project
            .iter()
            .cloned()
            .chain([stage.as_str().to_string()])
            .chain(qualifiers.iter().map(|q| q.to_lowercase()))
            .collect::<Vec<_>>()
            .join("-")
    });
    if !prefix.is_empty() && !is_identifier(&prefix) {
        cx.poison("environment.prefix");
        cx.error_at(
            DiagnosticCode::Naming,
            "environment.prefix",
            format!("`{prefix}` is not a valid name prefix"),
            "the prefix starts bucket names: use lowercase letters, digits and `-`, starting with a letter",
        );
    }
    let region = t
        .str(cx, "region")
        .unwrap_or_else(|| defaults::REGION.to_string());
    if !regions::is_known_region(&region) {
        cx.poison("environment.region");
        let help = match crate::reader::did_you_mean(&region, regions::region_names()) {
            Some(best) => format!("did you mean `{best}`?"),
            None => "use an AWS region where Databricks runs, e.g. `eu-west-1`".to_string(),
        };
        cx.error_at(
            DiagnosticCode::InvalidValue,
            "environment.region",
            format!("`{region}` is not an AWS region where Databricks runs"),
            help,
        );
    }
    let tags = t.str_map(cx, "tags").unwrap_or_default();
    for (k, _) in &tags {
        if k.starts_with("brickstack:") || k.starts_with("aws:") {
            let path = join("environment.tags", k);
            let span = cx
                .key_spans
                .get(&path)
                .cloned()
                .unwrap_or_else(|| cx.locate(&path));
            cx.report(
                Diagnostic::new(
                    DiagnosticCode::InvalidValue,
                    &path,
                    span,
                    format!("tag key `{k}` is reserved"),
                )
                .with_help("brickstack sets `brickstack:*` tags itself and AWS reserves `aws:*`; rename the tag"),
            );
        }
    }
    t.finish(cx);
    Environment {
        name,
        stage,
        qualifiers,
        prefix,
        region,
        tags,
    }
}

pub(super) fn state(t: &mut Table<'_, '_>, cx: &mut Cx, env: &Environment) -> StateBackend {
    let chosen = t.choice(cx, "backend", &["local", "s3"]);
    // A mistyped backend is reported once; which keys belong to it is then unknown.
    let backend_known = chosen.is_some() || !t.has("backend");
    let backend = chosen.unwrap_or_else(|| "local".to_string());
    let path = t.str(cx, "path");
    let bucket = t.str(cx, "bucket");
    let key = t.str(cx, "key");
    let lock_table = t.str(cx, "lock_table");
    let kms_key_alias = t.str(cx, "kms_key_alias");
    let region = t.str(cx, "region");
    let (only_for, misplaced): (&str, &[&str]) = if backend == "s3" {
        ("local", &["path"])
    } else {
        (
            "s3",
            &["bucket", "key", "lock_table", "kms_key_alias", "region"],
        )
    };
    for k in misplaced {
        if backend_known && t.has(k) {
            cx.error_at(
                DiagnosticCode::InvalidValue,
                &join("state", k),
                format!("`state.{k}` applies only to the `{only_for}` backend"),
                format!("set `backend = \"{only_for}\"` or remove the key"),
            );
        }
    }
    t.finish(cx);
    if backend == "s3" {
        let default = S3Backend::default_for(env);
        StateBackend::S3(S3Backend {
            bucket: bucket.unwrap_or(default.bucket),
            key: key.unwrap_or(default.key),
            lock_table: lock_table.unwrap_or(default.lock_table),
            kms_key_alias: kms_key_alias
                .map(|a| a.trim_start_matches("alias/").to_string())
                .unwrap_or(default.kms_key_alias),
            region: region.unwrap_or(default.region),
        })
    } else {
        StateBackend::Local {
            path: path.unwrap_or_else(|| format!("state/{}.json", env.name)),
        }
    }
}

pub(super) fn account(t: &mut Table<'_, '_>, cx: &mut Cx, env: &Environment) -> DatabricksAccount {
    for key in [
        "username",
        "password",
        "username_parameter",
        "password_parameter",
    ] {
        if t.has(key) {
            let _ = t.str(cx, key);
            cx.error_at(
                DiagnosticCode::Unsupported,
                &join(&t.path, key),
                "Databricks ended username/password authentication on 2024-07-10",
                "authenticate as an OAuth service principal: set `client_id_parameter` and \
                 `client_secret_parameter` to SSM parameters holding its client id and secret",
            );
        }
    }
    let written_id = t.str(cx, "account_id");
    let account_id = written_id.clone().unwrap_or_default();
    if !t.has("account_id") {
        cx.error_at(
            DiagnosticCode::MissingKey,
            &t.path,
            "`databricks.account.account_id` is required",
            "add `[databricks.account]` with `account_id = \"<uuid>\"` from the account console",
        );
    } else if written_id.is_some() && !is_uuid(&account_id) {
        cx.error_at(
            DiagnosticCode::InvalidValue,
            "databricks.account.account_id",
            format!("`{account_id}` is not a Databricks account id"),
            "an account id is a UUID such as `0d26daa6-5e44-4c97-a497-ef015f91254a`",
        );
    }
    let host = t
        .str(cx, "host")
        .unwrap_or_else(|| defaults::ACCOUNT_HOST.to_string());
    let client_id_parameter = t
        .str(cx, "client_id_parameter")
        .unwrap_or_else(|| format!("/brickstack/{}/databricks/client-id", env.name));
    let client_secret_parameter = t
        .str(cx, "client_secret_parameter")
        .unwrap_or_else(|| format!("/brickstack/{}/databricks/client-secret", env.name));
    for (key, value) in [
        ("client_id_parameter", &client_id_parameter),
        ("client_secret_parameter", &client_secret_parameter),
    ] {
        // Defaults derive from `environment.name`, which is checked on its own.
        if t.has(key) {
            check_parameter_name(cx, &join("databricks.account", key), value);
        }
    }
    t.finish(cx);
    DatabricksAccount {
        account_id,
        host,
        client_id_parameter,
        client_secret_parameter,
    }
}

/// SSM parameter names used as paths: absolute, no spaces, at most 1011 characters.
pub(super) fn check_parameter_name(cx: &mut Cx, path: &str, value: &str) {
    let valid_chars = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/_.-".contains(c));
    if !value.starts_with('/') || !valid_chars || value.len() > 1011 {
        cx.error_at(
            DiagnosticCode::InvalidValue,
            path,
            format!("`{value}` is not an SSM parameter path"),
            "write an absolute path such as `/brickstack/dev/databricks/client-id` (letters, digits, `/_.-`)",
        );
    }
}

pub(crate) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.ends_with('-')
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}
