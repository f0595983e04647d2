//! Use cluster policies: every all-purpose cluster is created under a policy, stops when idle,
//! and every policy enforces auto-termination.

use serde_json::Value;

use crate::live::LiveObservation;
use crate::model::{Location, Practice, Rule, Severity, Source};
use crate::rules::{Cx, key_path};

pub static CLUSTER_USES_POLICY: Rule = Rule {
    id: "BSA002",
    name: "cluster-uses-policy",
    practice: Practice::ClusterPolicies,
    severity: Severity::Medium,
    title: "Every all-purpose cluster is created under a cluster policy",
    help: "Cluster policies cap costs (auto-termination, maximum sizes, instance types) and keep clusters observable (tags). In the spec, give each `[databricks.clusters.<key>]` (and `[access.single_user_clusters.cluster]`) a `policy` naming a `[databricks.cluster_policies.<key>]`. Live, every cluster not started by a job must have a policy id.",
};

pub static CLUSTER_AUTO_TERMINATION: Rule = Rule {
    id: "BSA003",
    name: "cluster-auto-termination",
    practice: Practice::ClusterPolicies,
    severity: Severity::Medium,
    title: "Every all-purpose cluster terminates when idle",
    help: "An all-purpose cluster without auto-termination (`autotermination_minutes = 0`, or a policy fixing it at 0 or forbidding it) runs, and bills, until someone stops it. In the spec, set `autotermination_minutes` on the cluster and keep its policy from fixing it at 0. Live, every cluster not started by a job must have a non-zero `autotermination_minutes`.",
};

pub static POLICY_AUTO_TERMINATION: Rule = Rule {
    id: "BSA004",
    name: "policy-auto-termination",
    practice: Practice::ClusterPolicies,
    severity: Severity::Medium,
    title: "Every cluster policy enforces auto-termination",
    help: "A policy that leaves `autotermination_minutes` unconstrained (absent, `unlimited`, a range starting at 0, an allowlist holding 0) lets clusters under it run forever. Add `\"autotermination_minutes\": {\"type\": \"range\", \"minValue\": 10, \"maxValue\": 120, \"defaultValue\": 30}` (or a `fixed` non-zero value) to the definition. Checked on the spec's policies and, live, on the workspace's own policies (not its built-in ones).",
};

/// What a policy definition does to `autotermination_minutes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AutoTermination {
    /// Only non-zero values are possible.
    Enforced,
    /// Clusters under the policy never terminate (fixed at 0, or the attribute forbidden).
    Never(&'static str),
    /// Zero, or nothing, is allowed.
    Allowed(&'static str),
    /// The definition is not a JSON object (the spec refuses it; the API should too).
    Unreadable,
}

pub(crate) fn policy_auto_termination(definition: &str) -> AutoTermination {
    let Ok(Value::Object(definition)) = serde_json::from_str::<Value>(definition) else {
        return AutoTermination::Unreadable;
    };
    let Some(element) = definition.get("autotermination_minutes") else {
        return AutoTermination::Allowed("does not constrain `autotermination_minutes`");
    };
    let number = |key: &str| element.get(key).and_then(Value::as_f64);
    match element.get("type").and_then(Value::as_str).unwrap_or("") {
        "fixed" => match number("value") {
            Some(v) if v > 0.0 => AutoTermination::Enforced,
            _ => AutoTermination::Never("fixes `autotermination_minutes` at 0 (never)"),
        },
        "forbidden" => AutoTermination::Never(
            "forbids `autotermination_minutes`, so clusters under it never terminate",
        ),
        "range" => match number("minValue") {
            Some(min) if min > 0.0 => AutoTermination::Enforced,
            _ => AutoTermination::Allowed(
                "lets `autotermination_minutes` be 0: its range has no `minValue` above 0",
            ),
        },
        "allowlist" => {
            let values = element.get("values").and_then(Value::as_array);
            if values.is_some_and(|v| {
                !v.is_empty() && v.iter().all(|x| x.as_f64().is_some_and(|n| n > 0.0))
            }) {
                AutoTermination::Enforced
            } else {
                AutoTermination::Allowed("allows `autotermination_minutes` = 0")
            }
        }
        "unlimited" => AutoTermination::Allowed("leaves `autotermination_minutes` `unlimited`"),
        _ => AutoTermination::Allowed(
            "does not restrict `autotermination_minutes` to non-zero values (`blocklist`/`regex`)",
        ),
    }
}

/// The recommended element, as a fix.
const ELEMENT: &str = r#""autotermination_minutes": {"type": "range", "minValue": 10, "maxValue": 120, "defaultValue": 30}"#;

/// An all-purpose cluster of the spec: where it is written and what it says.
struct SpecCluster {
    label: String,
    path: Vec<String>,
    policy: Option<String>,
    autotermination_minutes: i64,
}

fn spec_clusters(cx: &Cx<'_, '_>) -> Vec<SpecCluster> {
    let mut out: Vec<SpecCluster> = cx
        .spec
        .databricks
        .clusters
        .iter()
        .map(|c| SpecCluster {
            label: format!("cluster `{}`", c.name),
            path: vec!["databricks".into(), "clusters".into(), c.key.clone()],
            policy: c.policy.clone(),
            autotermination_minutes: c.autotermination_minutes,
        })
        .collect();
    if let Some(su) = &cx.spec.access.single_user_clusters {
        out.push(SpecCluster {
            label: "every single-user cluster".into(),
            path: vec![
                "access".into(),
                "single_user_clusters".into(),
                "cluster".into(),
            ],
            policy: su.cluster.policy.clone(),
            autotermination_minutes: su.cluster.autotermination_minutes,
        });
    }
    out
}

fn policy_definition<'a>(cx: &'a Cx<'_, '_>, key: &str) -> Option<&'a str> {
    cx.spec
        .databricks
        .cluster_policies
        .iter()
        .find(|p| p.key == key)
        .map(|p| p.definition.as_str())
}

fn definition_location(cx: &Cx<'_, '_>, key: &str) -> Location {
    cx.at(&["databricks", "cluster_policies", key, "definition"])
}

pub(crate) fn spec(cx: &mut Cx<'_, '_>) {
    let clusters = spec_clusters(cx);
    // Policies whose "never" is reported on the clusters under them (BSA003), not again here.
    let mut reported_on_clusters: Vec<String> = Vec::new();
    for c in &clusters {
        let path: Vec<&str> = c.path.iter().map(String::as_str).collect();
        match &c.policy {
            None => {
                let mut policy_path = path.clone();
                policy_path.push("policy");
                let example = cx.spec.databricks.cluster_policies.first().map_or(
                    "<key of a [databricks.cluster_policies] table>".to_string(),
                    |p| p.key.clone(),
                );
                let location = cx.at(&path);
                cx.finding(
                    &CLUSTER_USES_POLICY,
                    Source::Spec,
                    None,
                    format!("{} is created under no cluster policy", c.label),
                    format!("{} = \"{example}\"", key_path(&policy_path)),
                    location,
                );
            }
            Some(policy) => {
                if let Some(AutoTermination::Never(why)) =
                    policy_definition(cx, policy).map(policy_auto_termination)
                {
                    reported_on_clusters.push(policy.clone());
                    let location = definition_location(cx, policy);
                    cx.finding(
                        &CLUSTER_AUTO_TERMINATION,
                        Source::Spec,
                        None,
                        format!(
                            "{} never terminates when idle: its policy `{policy}` {why}",
                            c.label
                        ),
                        format!(
                            "{} with {ELEMENT}",
                            key_path(&["databricks", "cluster_policies", policy, "definition"])
                        ),
                        location,
                    );
                    continue;
                }
            }
        }
        if c.autotermination_minutes == 0 {
            let mut key = path.clone();
            key.push("autotermination_minutes");
            let location = cx.at(&key);
            cx.finding(
                &CLUSTER_AUTO_TERMINATION,
                Source::Spec,
                None,
                format!(
                    "{} never terminates when idle (`autotermination_minutes = 0`)",
                    c.label
                ),
                format!("{} = 30", key_path(&key)),
                location,
            );
        }
    }
    for policy in &cx.spec.databricks.cluster_policies {
        if reported_on_clusters.contains(&policy.key) {
            continue;
        }
        let why = match policy_auto_termination(&policy.definition) {
            AutoTermination::Enforced | AutoTermination::Unreadable => continue,
            AutoTermination::Never(why) | AutoTermination::Allowed(why) => why,
        };
        let location = definition_location(cx, &policy.key);
        cx.finding(
            &POLICY_AUTO_TERMINATION,
            Source::Spec,
            None,
            format!("cluster policy `{}` {why}", policy.name),
            format!(
                "{} with {ELEMENT}",
                key_path(&["databricks", "cluster_policies", &policy.key, "definition"])
            ),
            location,
        );
    }
}

/// Where a live cluster's fix goes: its table when the spec defines a cluster of that name;
/// else `[databricks.clusters]`, with a note that the cluster is not the spec's.
fn cluster_fix(cx: &Cx<'_, '_>, name: &str, key: &str, value: &str) -> (Location, String) {
    match cx.spec.databricks.clusters.iter().find(|c| c.name == name) {
        Some(c) => {
            let path = ["databricks", "clusters", c.key.as_str()];
            (
                cx.at(&path),
                format!(
                    "{} = {value}",
                    key_path(&["databricks", "clusters", &c.key, key])
                ),
            )
        }
        None => (
            cx.at(&["databricks", "clusters"]),
            format!(
                "{} = {value} (the cluster is not the spec's: describe it there, or delete it)",
                key_path(&["databricks", "clusters", "<key>", key])
            ),
        ),
    }
}

pub(crate) fn live(cx: &mut Cx<'_, '_>, seen: &LiveObservation) {
    if let Some(clusters) = cx.seen(&CLUSTER_USES_POLICY, &seen.clusters) {
        // The same observation serves BSA003: a failure to list is reported once per rule.
        for c in clusters.iter().filter(|c| c.is_all_purpose()) {
            let object = Some(format!("cluster {} ({})", c.cluster_id, c.name));
            if c.policy_id.as_deref().is_none_or(str::is_empty) {
                let (location, fix) = cluster_fix(cx, &c.name, "policy", "\"<policy key>\"");
                cx.finding(
                    &CLUSTER_USES_POLICY,
                    Source::Live,
                    object.clone(),
                    format!("cluster `{}` runs under no cluster policy", c.name),
                    fix,
                    location,
                );
            }
            if c.autotermination_minutes.unwrap_or(0) == 0 {
                let (location, fix) = cluster_fix(cx, &c.name, "autotermination_minutes", "30");
                cx.finding(
                    &CLUSTER_AUTO_TERMINATION,
                    Source::Live,
                    object,
                    format!(
                        "cluster `{}` never terminates when idle (`autotermination_minutes` {})",
                        c.name,
                        c.autotermination_minutes
                            .map_or("unset".into(), |m| m.to_string())
                    ),
                    fix,
                    location,
                );
            }
        }
    } else if let crate::live::Observed::CannotBeVerified(reason) = &seen.clusters {
        cx.unverified(&CLUSTER_AUTO_TERMINATION, Source::Live, reason.clone());
    }
    let Some(policies) = cx.seen(&POLICY_AUTO_TERMINATION, &seen.policies) else {
        return;
    };
    for p in policies.iter().filter(|p| !p.is_default) {
        let why = match policy_auto_termination(&p.definition) {
            AutoTermination::Enforced => continue,
            AutoTermination::Unreadable => "has a definition that is not a JSON object",
            AutoTermination::Never(why) | AutoTermination::Allowed(why) => why,
        };
        let spec_key = cx
            .spec
            .databricks
            .cluster_policies
            .iter()
            .find(|s| s.name == p.name)
            .map(|s| s.key.clone());
        let (location, key) = match &spec_key {
            Some(k) => (
                definition_location(cx, k),
                key_path(&["databricks", "cluster_policies", k, "definition"]),
            ),
            None => (
                cx.at(&["databricks", "cluster_policies"]),
                key_path(&["databricks", "cluster_policies", "<key>", "definition"]),
            ),
        };
        cx.finding(
            &POLICY_AUTO_TERMINATION,
            Source::Live,
            Some(format!("cluster policy {} ({})", p.policy_id, p.name)),
            format!("cluster policy `{}` {why}", p.name),
            format!("{key} with {ELEMENT}"),
            location,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_definitions_are_read_for_auto_termination() {
        let check = policy_auto_termination;
        assert_eq!(
            check(r#"{"autotermination_minutes": {"type": "fixed", "value": 30}}"#),
            AutoTermination::Enforced
        );
        assert!(matches!(
            check(r#"{"autotermination_minutes": {"type": "fixed", "value": 0}}"#),
            AutoTermination::Never(_)
        ));
        assert!(matches!(
            check(r#"{"autotermination_minutes": {"type": "forbidden"}}"#),
            AutoTermination::Never(_)
        ));
        assert_eq!(
            check(
                r#"{"autotermination_minutes": {"type": "range", "minValue": 10, "maxValue": 60}}"#
            ),
            AutoTermination::Enforced
        );
        assert!(matches!(
            check(r#"{"autotermination_minutes": {"type": "range", "maxValue": 60}}"#),
            AutoTermination::Allowed(_)
        ));
        assert!(matches!(
            check(r#"{"autotermination_minutes": {"type": "allowlist", "values": [0, 30]}}"#),
            AutoTermination::Allowed(_)
        ));
        assert!(matches!(
            check(r#"{"node_type_id": {"type": "fixed", "value": "m5.large"}}"#),
            AutoTermination::Allowed(_)
        ));
        assert_eq!(check("[]"), AutoTermination::Unreadable);
    }
}
