//! `[access.single_user_clusters]` and `[serve]` (`docs/access.md`): who gets a single-user
//! cluster, what it is, and how the access service is reached.
//!
//! The e-mails are lower-cased here, since Databricks compares user names without case and the
//! generator derives addresses from them.

use std::collections::BTreeMap;

use crate::defaults;
use crate::diagnostic::DiagnosticCode;
use crate::model::{
    Access, DataSecurityMode, Library, Naming, Notifications, PermissionLevel, Serve, ServeAuth,
    SingleUserClusterTemplate, SingleUserClusters, User,
};
use crate::reader::{Cx, Table};

pub(super) fn access(t: &mut Table<'_, '_>, cx: &mut Cx) -> Access {
    let single_user_clusters = if t.has_table("single_user_clusters") {
        let mut s = t.table(cx, "single_user_clusters");
        let section = single_user_clusters(&mut s, cx);
        s.finish(cx);
        Some(section)
    } else {
        // Reports a `single_user_clusters` that is not a table.
        t.table(cx, "single_user_clusters");
        None
    };
    t.finish(cx);
    Access {
        single_user_clusters,
    }
}

fn single_user_clusters(t: &mut Table<'_, '_>, cx: &mut Cx) -> SingleUserClusters {
    let path = t.path.clone();
    let users = emails(t, cx);
    let groups = group_names(t, cx, "groups");
    let account_groups = group_names(t, cx, "account_groups");
    let permission_level = match t
        .choice(cx, "permission_level", &PermissionLevel::NAMES)
        .as_deref()
    {
        Some("CAN_ATTACH_TO") => PermissionLevel::CanAttachTo,
        Some("CAN_MANAGE") => PermissionLevel::CanManage,
        _ => PermissionLevel::CanRestart,
    };
    let removal_grace_seconds = match t.str(cx, "removal_grace") {
        Some(text) => duration(cx, &format!("{path}.removal_grace"), &text).unwrap_or(0),
        None => parse_duration(defaults::REMOVAL_GRACE).unwrap_or(0),
    };
    // One scheme today; the key exists so another can be added without a breaking change.
    t.choice(cx, "naming", &Naming::NAMES);
    let naming = Naming::FirstLast;
    let mut c = t.table(cx, "cluster");
    let cluster = template(&mut c, cx);
    c.finish(cx);
    let libraries = libraries(t, cx);
    let notifications = notifications(t, cx);
    SingleUserClusters {
        users,
        groups,
        account_groups,
        permission_level,
        removal_grace_seconds,
        naming,
        cluster,
        libraries,
        notifications,
    }
}

/// `users`: valid e-mails, lower-cased, each once (a repeat names the entry it repeats).
fn emails(t: &mut Table<'_, '_>, cx: &mut Cx) -> Vec<User> {
    let path = format!("{}.users", t.path);
    let mut first_at: BTreeMap<String, usize> = BTreeMap::new();
    let mut users = Vec::new();
    for (i, email) in t
        .str_list(cx, "users")
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        let item = format!("{path}[{i}]");
        if !is_email(&email) {
            cx.error_at(
                DiagnosticCode::InvalidValue,
                &item,
                format!("`{email}` is not an e-mail address"),
                "Databricks user names are e-mails, e.g. `ana.silva@example.com`",
            );
            continue;
        }
        let lower = email.to_lowercase();
        if let Some(first) = first_at.get(&lower) {
            cx.error_at(
                DiagnosticCode::Naming,
                &item,
                format!("`{email}` is listed twice: here and at `{path}[{first}]`"),
                "list each person once (e-mails are compared without case)",
            );
            continue;
        }
        first_at.insert(lower.clone(), i);
        users.push(User { email: lower });
    }
    users
}

/// `groups` / `account_groups`: display names, none empty, each once.
fn group_names(t: &mut Table<'_, '_>, cx: &mut Cx, key: &str) -> Vec<String> {
    let path = format!("{}.{key}", t.path);
    let mut out: Vec<String> = Vec::new();
    for (i, name) in t
        .str_list(cx, key)
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        let item = format!("{path}[{i}]");
        if name.trim().is_empty() {
            cx.error_at(
                DiagnosticCode::InvalidValue,
                &item,
                "a group name is empty",
                "write the group's display name, e.g. `\"pii-readers\"`",
            );
        } else if let Some(first) = out.iter().position(|n| *n == name) {
            cx.error_at(
                DiagnosticCode::Naming,
                &item,
                format!("group `{name}` is listed twice: here and at `{path}[{first}]`"),
                "list each group once",
            );
        } else {
            out.push(name);
        }
    }
    out
}

fn template(t: &mut Table<'_, '_>, cx: &mut Cx) -> SingleUserClusterTemplate {
    let spark_version = t
        .str(cx, "spark_version")
        .unwrap_or_else(|| defaults::SPARK_VERSION.to_string());
    let node_type_id = t
        .str(cx, "node_type_id")
        .unwrap_or_else(|| defaults::SINGLE_USER_NODE_TYPE_ID.to_string());
    let num_workers = t.int(cx, "num_workers", 0, 10_000).unwrap_or(0);
    let autotermination_minutes = t
        .int(cx, "autotermination_minutes", 10, 43_200)
        .unwrap_or(defaults::SINGLE_USER_AUTOTERMINATION_MINUTES);
    let data_security_mode = match t
        .choice(cx, "data_security_mode", &DataSecurityMode::NAMES)
        .as_deref()
    {
        Some("DATA_SECURITY_MODE_DEDICATED") => DataSecurityMode::Dedicated,
        Some("LEGACY_SINGLE_USER") => DataSecurityMode::LegacySingleUser,
        _ => DataSecurityMode::SingleUser,
    };
    // `checks` reports a policy the spec does not define.
    let policy = t.str(cx, "policy");
    let instance_profile = t.bool(cx, "instance_profile").unwrap_or(false);
    SingleUserClusterTemplate {
        spark_version,
        node_type_id,
        num_workers,
        autotermination_minutes,
        data_security_mode,
        policy,
        instance_profile,
    }
}

fn libraries(t: &mut Table<'_, '_>, cx: &mut Cx) -> Vec<Library> {
    let mut libraries = Vec::new();
    for mut lib in t.table_array(cx, "libraries").unwrap_or_default() {
        let mut found = Vec::new();
        for key in Library::KEYS {
            if let Some(value) = lib.str(cx, key) {
                found.push(match key {
                    "pypi" => Library::Pypi(value),
                    "maven" => Library::Maven(value),
                    "jar" => Library::Jar(value),
                    _ => Library::Whl(value),
                });
            }
        }
        // Count what was written, not what decoded: a mistyped value is reported on its own.
        let written = Library::KEYS.iter().filter(|k| lib.has(k)).count();
        if written != 1 {
            cx.error_at(
                DiagnosticCode::InvalidValue,
                &lib.path,
                format!(
                    "`{}` must name exactly one library, found {written}",
                    lib.path
                ),
                "write one of `pypi = \"pkg==1.0\"`, `maven = \"g:a:v\"`, `jar = \"s3://…\"`, `whl = \"s3://…\"`",
            );
        }
        for library in &found {
            let (key, value) = match library {
                Library::Pypi(v) => ("pypi", v),
                Library::Maven(v) => ("maven", v),
                Library::Jar(v) => ("jar", v),
                Library::Whl(v) => ("whl", v),
            };
            if let Some(problem) = library_problem(library) {
                cx.error_at(
                    DiagnosticCode::InvalidValue,
                    &format!("{}.{key}", lib.path),
                    format!("`{value}` {problem}"),
                    match key {
                        "pypi" => "write a requirement such as `great-expectations==1.2.0`",
                        "maven" => "write `group:artifact:version`, e.g. `com.amazon.deequ:deequ:2.0.7-spark-3.5`",
                        "jar" => "write the jar's location, e.g. `s3://bucket/libs/x.jar`",
                        _ => "write the wheel's location, e.g. `s3://bucket/libs/x-1.0-py3-none-any.whl`",
                    },
                );
            }
        }
        lib.finish(cx);
        if written == 1 {
            libraries.extend(found);
        }
    }
    libraries
}

/// Why the Libraries API would refuse a library, if it would.
fn library_problem(library: &Library) -> Option<&'static str> {
    match library {
        Library::Pypi(v) if v.trim().is_empty() || v.contains(char::is_whitespace) => {
            Some("is not a PyPI requirement")
        }
        Library::Maven(v)
            if !(3..=4).contains(&v.split(':').count()) || v.split(':').any(str::is_empty) =>
        {
            Some("is not a Maven coordinate")
        }
        Library::Jar(v) | Library::Whl(v) if v.trim().is_empty() => Some("is empty"),
        _ => None,
    }
}

/// Required whenever the section is present: people granted a cluster at run time (groups,
/// `brickstack access grant`, the service) are messaged too, so a missing webhook would only
/// show up mid-apply.
fn notifications(t: &mut Table<'_, '_>, cx: &mut Cx) -> Notifications {
    let path = format!("{}.notifications", t.path);
    let written = t.has("notifications");
    let mut n = t.table(cx, "notifications");
    if !written {
        cx.error_at(
            DiagnosticCode::MissingKey,
            &t.path,
            format!("`[{}]` needs `[{path}]`", t.path),
            format!(
                "name the SSM SecureString parameters holding the Slack incoming-webhook URLs: `[{path}]` with `user_webhook_parameter` and `alarms_webhook_parameter`"
            ),
        );
    }
    let mut parameter = |cx: &mut Cx, key: &str| {
        let key_path = format!("{path}.{key}");
        match n.str(cx, key) {
            Some(value) => {
                super::environment::check_parameter_name(cx, &key_path, &value);
                value
            }
            None => {
                if n.is_present() {
                    let example = key.trim_end_matches("_webhook_parameter");
                    cx.error_at(
                        DiagnosticCode::MissingKey,
                        &key_path,
                        format!("`{key_path}` is required"),
                        format!(
                            "name the SSM SecureString parameter holding the Slack incoming-webhook URL, e.g. `{key} = \"/brickstack/dev/slack/{example}-webhook\"`"
                        ),
                    );
                }
                String::new()
            }
        }
    };
    let user_webhook_parameter = parameter(cx, "user_webhook_parameter");
    let alarms_webhook_parameter = parameter(cx, "alarms_webhook_parameter");
    n.finish(cx);
    Notifications {
        user_webhook_parameter,
        alarms_webhook_parameter,
    }
}

pub(super) fn serve(t: &mut Table<'_, '_>, cx: &mut Cx) -> Option<Serve> {
    if !t.is_present() {
        return None;
    }
    let path = t.path.clone();
    let listen_text = t
        .str(cx, "listen")
        .unwrap_or_else(|| defaults::SERVE_LISTEN.to_string());
    let listen = match listen_text.parse() {
        Ok(addr) => addr,
        Err(_) => {
            cx.error_at(
                DiagnosticCode::InvalidValue,
                &format!("{path}.listen"),
                format!("`{listen_text}` is not an address and port to listen on"),
                "write an IP address and port, e.g. `127.0.0.1:7300` (loopback) or `0.0.0.0:7300` (every interface)",
            );
            defaults::SERVE_LISTEN
                .parse()
                .expect("the default listen address parses")
        }
    };
    let auth = match t.choice(cx, "auth", &ServeAuth::NAMES).as_deref() {
        Some("hmac") => ServeAuth::Hmac,
        _ => ServeAuth::ApiKey,
    };
    let key_path = format!("{path}.key_parameter");
    let key_parameter = match t.str(cx, "key_parameter") {
        Some(value) => {
            super::environment::check_parameter_name(cx, &key_path, &value);
            value
        }
        None => {
            cx.error_at(
                DiagnosticCode::MissingKey,
                &key_path,
                format!("`{key_path}` is required: the service refuses every request without a key"),
                "name the SSM SecureString parameter holding the API key or HMAC secret, e.g. `key_parameter = \"/brickstack/dev/serve/api-key\"`",
            );
            String::new()
        }
    };
    t.finish(cx);
    Some(Serve {
        listen,
        auth,
        key_parameter,
    })
}

/// Reports a duration that does not parse or is out of bounds; its seconds otherwise.
fn duration(cx: &mut Cx, path: &str, text: &str) -> Option<u64> {
    match parse_duration(text) {
        Some(seconds) if seconds <= defaults::REMOVAL_GRACE_MAX_SECONDS => Some(seconds),
        Some(_) => {
            cx.poison(path);
            cx.error_at(
                DiagnosticCode::InvalidValue,
                path,
                format!("`{text}` is longer than a year"),
                "pick a grace of at most `365d`",
            );
            None
        }
        None => {
            cx.poison(path);
            cx.error_at(
                DiagnosticCode::InvalidValue,
                path,
                format!("`{text}` is not a duration"),
                "write a whole number and a unit: `s`, `m`, `h` or `d`, e.g. `\"7d\"` or `\"12h\"`",
            );
            None
        }
    }
}

/// `<digits><unit>` with unit `s`, `m`, `h` or `d`, in seconds.
pub(crate) fn parse_duration(text: &str) -> Option<u64> {
    let unit = text.chars().last()?;
    let number = &text[..text.len() - unit.len_utf8()];
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let scale = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        _ => return None,
    };
    number.parse::<u64>().ok()?.checked_mul(scale)
}

/// A deliberately plain check: one `@`, a non-empty local part, a dotted domain, no spaces.
pub(crate) fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !s.contains(char::is_whitespace)
        && domain.split('.').count() >= 2
        && domain.split('.').all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}
