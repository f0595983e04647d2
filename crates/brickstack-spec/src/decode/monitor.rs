//! `[monitor]` (`docs/monitor.md`, "Configuration"): the cluster-failure monitor of
//! `brickstack serve` — its timings, where its records live, the SSM parameters of its secrets,
//! which clusters it may repair, its circuit breakers and its playbooks.
//!
//! Only what the file writes is kept for the playbooks: the monitor owns their defaults. The
//! policy names of `[monitor.scope]` are checked against `[databricks.cluster_policies]` in
//! `checks`, with the other references.

use crate::diagnostic::DiagnosticCode;
use crate::model::{
    Environment, Monitor, MonitorBreaker, MonitorJobWebhook, MonitorScope, PlaybookSpec,
};
use crate::reader::{Cx, Table};

use super::access::parse_duration;
use super::environment::check_parameter_name;

/// The error types of the monitor's classification, which a playbook key may name.
pub const ERROR_TYPES: [&str; 8] = [
    "DatabricksDriverNotResponding",
    "DatabricksClusterTerminated",
    "DatabricksClusterStartFailure",
    "DatabricksResourceExhausted",
    "DatabricksConfigurationError",
    "DatabricksServiceFault",
    "DatabricksAdministrativeTermination",
    "DatabricksUnclassified",
];

/// A playbook's `action`.
pub const ACTIONS: [&str; 5] = [
    "restart",
    "restart_with_fallback",
    "resize",
    "restart_with_longer_timeout",
    "none",
];

/// `[monitor.scope].unmanaged`.
const UNMANAGED: [&str; 2] = ["ticket", "remediate"];

const MINUTE: u64 = 60;
const HOUR: u64 = 3_600;
const DAY: u64 = 86_400;

/// Bounds of each duration, in seconds, inclusive. The lower bounds keep the monitor from
/// hammering the API (interval), from losing its lease to a slow renewal (a lease is renewed every
/// third of it, so 3 s is one renewal a second) and from a breaker that cannot count; the upper
/// bounds catch a unit mistaken for another (`"30d"` for `"30s"`).
pub const INTERVAL_BOUNDS: (u64, u64) = (1, HOUR);
pub const LEASE_BOUNDS: (u64, u64) = (3, HOUR);
pub const WINDOW_BOUNDS: (u64, u64) = (1, 7 * DAY);
pub const COOLDOWN_BOUNDS: (u64, u64) = (0, 7 * DAY);
pub const PLAYBOOK_TIMEOUT_BOUNDS: (u64, u64) = (1, DAY);

pub const DEFAULT_INTERVAL_SECONDS: u64 = 30;
pub const DEFAULT_LEASE_SECONDS: u64 = 60;
pub const DEFAULT_THRESHOLD: u32 = 3;
pub const DEFAULT_WINDOW_SECONDS: u64 = HOUR;
pub const DEFAULT_COOLDOWN_SECONDS: u64 = 15 * MINUTE;
/// Breakers count up to this many failures; more would never open in practice.
pub const MAX_THRESHOLD: i64 = 1_000;
/// `resize_to` workers, as a cluster's `num_workers` allows.
pub const MAX_RESIZE_TO: i64 = 100_000;

pub(super) fn monitor(
    t: &mut Table<'_, '_>,
    cx: &mut Cx,
    environment: &Environment,
) -> Option<Monitor> {
    if !t.is_present() {
        return None;
    }
    let path = t.path.clone();
    let interval_seconds =
        duration(t, cx, "interval", INTERVAL_BOUNDS).unwrap_or(DEFAULT_INTERVAL_SECONDS);
    let auto_remediation = t.bool(cx, "auto_remediation").unwrap_or(true);
    let lease_seconds = duration(t, cx, "lease", LEASE_BOUNDS).unwrap_or(DEFAULT_LEASE_SECONDS);
    let records = match t.str(cx, "records") {
        Some(records) if records.trim().is_empty() => {
            cx.error_at(
                DiagnosticCode::InvalidValue,
                &format!("{path}.records"),
                "`monitor.records` is empty",
                format!(
                    "name the monitor's SQLite file, e.g. `records = \"state/{}.monitor.sqlite\"` (the default)",
                    environment.name
                ),
            );
            String::new()
        }
        Some(records) => records,
        None => format!("state/{}.monitor.sqlite", environment.name),
    };
    let api_key_parameter = parameter(t, cx, "api_key_parameter");
    let job_webhook = job_webhook(t, cx);
    let slack_webhook_parameter = parameter(t, cx, "slack_webhook_parameter");
    let mut s = t.table(cx, "scope");
    let scope = scope(&mut s, cx);
    s.finish(cx);
    let mut b = t.table(cx, "breaker");
    let breaker = breaker(&mut b, cx);
    b.finish(cx);
    let playbooks = playbooks(t, cx);
    t.finish(cx);
    Some(Monitor {
        interval_seconds,
        auto_remediation,
        lease_seconds,
        records,
        api_key_parameter,
        job_webhook,
        slack_webhook_parameter,
        scope,
        breaker,
        playbooks,
    })
}

/// An optional SSM parameter name, checked when written.
fn parameter(t: &mut Table<'_, '_>, cx: &mut Cx, key: &str) -> Option<String> {
    let value = t.str(cx, key)?;
    check_parameter_name(cx, &format!("{}.{key}", t.path), &value);
    Some(value)
}

/// Both parameters or neither: one alone would leave the route answering nobody.
fn job_webhook(t: &mut Table<'_, '_>, cx: &mut Cx) -> Option<MonitorJobWebhook> {
    let username = parameter(t, cx, "job_webhook_username_parameter");
    let password = parameter(t, cx, "job_webhook_password_parameter");
    match (username, password) {
        (Some(username_parameter), Some(password_parameter)) => Some(MonitorJobWebhook {
            username_parameter,
            password_parameter,
        }),
        (None, None) => None,
        (written, _) => {
            let (has, lacks) = if written.is_some() {
                ("username", "password")
            } else {
                ("password", "username")
            };
            cx.error_at(
                DiagnosticCode::MissingKey,
                &format!("{}.job_webhook_{has}_parameter", t.path),
                format!(
                    "`{0}.job_webhook_{has}_parameter` is set but `{0}.job_webhook_{lacks}_parameter` is not",
                    t.path
                ),
                format!(
                    "`POST /databricks-monitor/jobs` takes HTTP Basic auth: name both SSM SecureString parameters, e.g. `job_webhook_{lacks}_parameter = \"/brickstack/dev/monitor/jobs-{lacks}\"`, or neither"
                ),
            );
            None
        }
    }
}

fn scope(t: &mut Table<'_, '_>, cx: &mut Cx) -> MonitorScope {
    let path = t.path.clone();
    let tags = t.str_map(cx, "tags").unwrap_or_default();
    for (key, _) in &tags {
        if key.trim().is_empty() {
            cx.error_at(
                DiagnosticCode::InvalidValue,
                &format!("{path}.tags"),
                "a tag key is empty",
                "write the custom tag's key, e.g. `tags = { team = \"data\" }`",
            );
        }
    }
    let policies = t.str_list(cx, "policies").unwrap_or_default();
    let remediate_unmanaged = t.choice(cx, "unmanaged", &UNMANAGED).as_deref() == Some("remediate");
    MonitorScope {
        tags,
        policies,
        remediate_unmanaged,
    }
}

fn breaker(t: &mut Table<'_, '_>, cx: &mut Cx) -> MonitorBreaker {
    let threshold = t
        .int(cx, "threshold", 1, MAX_THRESHOLD)
        .map_or(DEFAULT_THRESHOLD, |n| n as u32);
    let window_seconds = duration(t, cx, "window", WINDOW_BOUNDS).unwrap_or(DEFAULT_WINDOW_SECONDS);
    let cooldown_seconds =
        duration(t, cx, "cooldown", COOLDOWN_BOUNDS).unwrap_or(DEFAULT_COOLDOWN_SECONDS);
    MonitorBreaker {
        threshold,
        window_seconds,
        cooldown_seconds,
    }
}

fn playbooks(t: &mut Table<'_, '_>, cx: &mut Cx) -> Vec<PlaybookSpec> {
    let mut out = Vec::new();
    for (key, mut p) in t.named_tables(cx, "playbooks").unwrap_or_default() {
        check_playbook_key(cx, &p.path, &key);
        if let Some(playbook) = playbook(&mut p, cx, key) {
            out.push(playbook);
        }
        p.finish(cx);
    }
    out
}

/// An error type's name, or a termination code as Databricks writes them (`UPPER_SNAKE`).
fn check_playbook_key(cx: &mut Cx, path: &str, key: &str) {
    if ERROR_TYPES.contains(&key) || is_upper_snake(key) {
        return;
    }
    let listed = ERROR_TYPES
        .iter()
        .map(|t| format!("`{t}`"))
        .collect::<Vec<_>>()
        .join(", ");
    // Every type name starts with `Databricks`, which would make any two look alike: compare
    // what follows it, a little more leniently than a key (a type's words are long).
    let suffix = |name: &str| name.trim_start_matches("Databricks").to_string();
    let best = ERROR_TYPES
        .iter()
        .map(|t| (strsim::jaro_winkler(&suffix(key), &suffix(t)), *t))
        .filter(|(score, _)| *score > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, t)| t);
    let upper = key.to_ascii_uppercase().replace('-', "_");
    let help = match best {
        Some(best) => format!("did you mean `{best}`?"),
        None if !key.chars().any(|c| c.is_ascii_uppercase()) && is_upper_snake(&upper) => {
            format!("termination codes are upper case: did you mean `{upper}`?")
        }
        None => format!(
            "a playbook key is an error type ({listed}) or a termination code in upper case, such as `BOOTSTRAP_TIMEOUT`"
        ),
    };
    cx.error_at(
        DiagnosticCode::InvalidValue,
        path,
        format!("`{key}` is neither an error type nor a termination code"),
        help,
    );
}

fn is_upper_snake(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// One playbook; `None` when its action is missing or unusable (its other keys are still read, so
/// their problems are reported too).
fn playbook(t: &mut Table<'_, '_>, cx: &mut Cx, key: String) -> Option<PlaybookSpec> {
    let path = t.path.clone();
    let action = t.choice(cx, "action", &ACTIONS);
    if action.is_none() && !t.has("action") {
        cx.error_at(
            DiagnosticCode::MissingKey,
            &path,
            format!("`[{path}]` needs `action`"),
            format!(
                "write what to do on this failure: `action = ` one of {}",
                ACTIONS
                    .iter()
                    .map(|a| format!("`\"{a}\"`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    let timeout_seconds = duration(t, cx, "timeout", PLAYBOOK_TIMEOUT_BOUNDS);
    let health_check_timeout_seconds =
        duration(t, cx, "health_check_timeout", PLAYBOOK_TIMEOUT_BOUNDS);
    let on_demand = t.bool(cx, "on_demand");
    let instance_types = names(
        t,
        cx,
        "instance_types",
        "an instance type, e.g. `r5d.xlarge`",
    );
    let zones = names(t, cx, "zones", "an availability zone, e.g. `eu-west-1b`");
    let resize_to = t.int(cx, "resize_to", 1, MAX_RESIZE_TO);
    let longer_timeout_seconds = duration(t, cx, "longer_timeout", PLAYBOOK_TIMEOUT_BOUNDS);
    let action = action?;

    // Keys another action would read: written here they do nothing, which is most likely a
    // mistake in `action` or in the key.
    let only_for = |cx: &mut Cx, written: bool, key: &str, for_action: &str| {
        if written && action != for_action {
            cx.error_at(
                DiagnosticCode::InvalidValue,
                &format!("{path}.{key}"),
                format!("`{key}` does nothing with `action = \"{action}\"`"),
                format!("`{key}` is read by `action = \"{for_action}\"` only: remove it, or change the action"),
            );
        }
    };
    only_for(cx, t.has("on_demand"), "on_demand", "restart_with_fallback");
    only_for(
        cx,
        t.has("instance_types"),
        "instance_types",
        "restart_with_fallback",
    );
    only_for(cx, t.has("zones"), "zones", "restart_with_fallback");
    only_for(cx, t.has("resize_to"), "resize_to", "resize");
    only_for(
        cx,
        t.has("longer_timeout"),
        "longer_timeout",
        "restart_with_longer_timeout",
    );
    match action.as_str() {
        "resize" if !t.has("resize_to") => cx.error_at(
            DiagnosticCode::MissingKey,
            &format!("{path}.action"),
            format!("`action = \"resize\"` in `[{path}]` needs `resize_to`"),
            "write the number of workers to resize to, e.g. `resize_to = 8`",
        ),
        "restart_with_fallback"
            if on_demand != Some(true)
                && instance_types.is_empty()
                && zones.is_empty()
                && !cx.is_poisoned(&[
                    &format!("{path}.on_demand"),
                    &format!("{path}.instance_types"),
                    &format!("{path}.zones"),
                ]) =>
        {
            cx.error_at(
                DiagnosticCode::MissingKey,
                &format!("{path}.action"),
                format!(
                    "`action = \"restart_with_fallback\"` in `[{path}]` has nothing to fall back to"
                ),
                "set `on_demand = true` (on-demand instead of spot), `instance_types = [\"i3.xlarge\", \"r5d.xlarge\"]` (the next type after the cluster's) or `zones = [\"eu-west-1a\", \"eu-west-1b\"]` (the next zone)",
            )
        }
        _ => {}
    }
    Some(PlaybookSpec {
        key,
        action,
        timeout_seconds,
        health_check_timeout_seconds,
        on_demand,
        instance_types,
        zones,
        resize_to,
        longer_timeout_seconds,
    })
}

/// A list of names, none empty, each once.
fn names(t: &mut Table<'_, '_>, cx: &mut Cx, key: &str, what: &str) -> Vec<String> {
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
            cx.poison(&path);
            cx.error_at(
                DiagnosticCode::InvalidValue,
                &item,
                format!("an entry of `{path}` is empty"),
                format!("write {what}"),
            );
        } else if let Some(first) = out.iter().position(|n| *n == name) {
            cx.error_at(
                DiagnosticCode::InvalidValue,
                &item,
                format!("`{name}` is listed twice: here and at `{path}[{first}]`"),
                "list each once: the fallback takes them in order",
            );
        } else {
            out.push(name);
        }
    }
    out
}

/// A duration key (`"30s"`, `"10m"`, `"1h"`, `"7d"`) within `bounds` (seconds), or `None` when
/// absent or reported.
fn duration(t: &mut Table<'_, '_>, cx: &mut Cx, key: &str, (min, max): (u64, u64)) -> Option<u64> {
    let text = t.str(cx, key)?;
    let path = format!("{}.{key}", t.path);
    match parse_duration(&text) {
        Some(seconds) if (min..=max).contains(&seconds) => Some(seconds),
        Some(_) => {
            cx.poison(&path);
            cx.error_at(
                DiagnosticCode::InvalidValue,
                &path,
                format!(
                    "`{path}` must be between {} and {}, found `{text}`",
                    human(min),
                    human(max)
                ),
                format!("pick a duration from `{}` to `{}`", human(min), human(max)),
            );
            None
        }
        None => {
            cx.poison(&path);
            cx.error_at(
                DiagnosticCode::InvalidValue,
                &path,
                format!("`{text}` is not a duration"),
                "write a whole number and a unit: `s`, `m`, `h` or `d`, e.g. `\"30s\"`, `\"10m\"` or `\"1h\"`",
            );
            None
        }
    }
}

/// Seconds in the largest unit that divides them: `3600` → `1h`.
fn human(seconds: u64) -> String {
    match seconds {
        0 => "0s".into(),
        s if s % DAY == 0 => format!("{}d", s / DAY),
        s if s % HOUR == 0 => format!("{}h", s / HOUR),
        s if s % MINUTE == 0 => format!("{}m", s / MINUTE),
        s => format!("{s}s"),
    }
}
