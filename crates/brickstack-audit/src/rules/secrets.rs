//! Use Databricks secrets: no credential written inline in Spark conf, environment variables or
//! policy definitions.

use serde_json::Value;

use crate::credentials::{classify, masked};
use crate::live::LiveObservation;
use crate::model::{Practice, Rule, Severity, Source};
use crate::rules::{Cx, key_path};

pub static INLINE_CREDENTIALS: Rule = Rule {
    id: "BSA013",
    name: "no-inline-credentials",
    practice: Practice::Secrets,
    severity: Severity::Critical,
    title: "No credential is written inline in cluster configuration",
    help: "A credential in Spark conf is readable by everyone who can see the cluster, and lands in the spec's repository, the state and the logs. Keep it in a secret scope and reference it: `\"fs.s3a.secret.key\" = \"{{secrets/<scope>/<key>}}\"`, or better use the instance profile brickstack attaches. Checked: the spec's cluster Spark conf and policy definitions; live, every cluster's Spark conf and environment variables, every policy definition and every line of the global init scripts. Recognised: AWS access key ids (AKIA/ASIA), 40-character AWS secret keys under a secret-key name, Databricks tokens (dapi…), and any value under a name saying password, secret key, token or credential. Cluster-scoped init scripts are files whose content the cluster APIs do not show; they are not checked.",
};

fn secret_reference_fix(path: &[&str]) -> String {
    format!("{} = \"{{{{secrets/<scope>/<key>}}}}\"", key_path(path))
}

/// Every string of a policy definition with the attribute path that holds it.
fn policy_strings(definition: &str) -> Vec<(String, String)> {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(definition) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (attribute, element) in &map {
        let mut push = |v: &Value| {
            if let Some(s) = v.as_str() {
                out.push((attribute.clone(), s.to_string()));
            }
        };
        for key in ["value", "defaultValue"] {
            if let Some(v) = element.get(key) {
                push(v);
            }
        }
        if let Some(values) = element.get("values").and_then(Value::as_array) {
            values.iter().for_each(&mut push);
        }
    }
    out
}

/// The credentials a script's lines hold: `NAME=value`, `export NAME=value`, `--conf
/// name=value` words are classified by name and value, and every line by its shape (access key
/// ids, tokens). One entry per line: its number and what it holds.
pub(crate) fn script_credentials(content: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in content.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let by_word = line.split_whitespace().find_map(|word| {
            let (name, value) = word.split_once('=')?;
            let value = value.trim_matches(|c| c == '"' || c == '\'');
            classify(name, value).map(|kind| masked(kind, value))
        });
        if let Some(found) =
            by_word.or_else(|| classify("", line).map(|k| k.describe().to_string()))
        {
            out.push((i + 1, found));
        }
    }
    out
}

pub(crate) fn spec(cx: &mut Cx<'_, '_>) {
    let clusters = cx.spec.databricks.clusters.clone();
    for c in &clusters {
        for (name, value) in &c.spark_conf {
            let Some(kind) = classify(name, value) else {
                continue;
            };
            let path = [
                "databricks",
                "clusters",
                c.key.as_str(),
                "spark_conf",
                name.as_str(),
            ];
            let location = cx.at(&path);
            cx.finding(
                &INLINE_CREDENTIALS,
                Source::Spec,
                None,
                format!(
                    "cluster `{}` has `{name}` set to {}",
                    c.name,
                    masked(kind, value)
                ),
                secret_reference_fix(&path),
                location,
            );
        }
    }
    let policies = cx.spec.databricks.cluster_policies.clone();
    for p in &policies {
        for (attribute, value) in policy_strings(&p.definition) {
            let Some(kind) = classify(&attribute, &value) else {
                continue;
            };
            let path = [
                "databricks",
                "cluster_policies",
                p.key.as_str(),
                "definition",
            ];
            let location = cx.at(&path);
            cx.finding(
                &INLINE_CREDENTIALS,
                Source::Spec,
                None,
                format!(
                    "cluster policy `{}` sets `{attribute}` to {}",
                    p.name,
                    masked(kind, &value)
                ),
                format!(
                    "{} with \"{attribute}\" set to \"{{{{secrets/<scope>/<key>}}}}\"",
                    key_path(&path)
                ),
                location,
            );
        }
    }
}

pub(crate) fn live(cx: &mut Cx<'_, '_>, seen: &LiveObservation) {
    if let Some(clusters) = cx.seen(&INLINE_CREDENTIALS, &seen.clusters) {
        for c in clusters {
            let spec_key = cx
                .spec
                .databricks
                .clusters
                .iter()
                .find(|s| s.name == c.name)
                .map(|s| s.key.clone())
                .unwrap_or_else(|| "<key>".into());
            for (what, entries) in [
                ("spark_conf", &c.spark_conf),
                ("spark_env_vars", &c.spark_env_vars),
            ] {
                for (name, value) in entries {
                    let Some(kind) = classify(name, value) else {
                        continue;
                    };
                    let path = [
                        "databricks",
                        "clusters",
                        spec_key.as_str(),
                        what,
                        name.as_str(),
                    ];
                    let location = cx.at(&path[..3]);
                    // The spec has no `spark_env_vars`: such a cluster is not brickstack's.
                    let fix = if what == "spark_conf" {
                        secret_reference_fix(&path)
                    } else {
                        format!(
                            "{name} = \"{{{{secrets/<scope>/<key>}}}}\" in the cluster's spark_env_vars"
                        )
                    };
                    cx.finding(
                        &INLINE_CREDENTIALS,
                        Source::Live,
                        Some(format!("cluster {} ({})", c.cluster_id, c.name)),
                        format!(
                            "cluster `{}` has {what} `{name}` set to {}",
                            c.name,
                            masked(kind, value)
                        ),
                        fix,
                        location,
                    );
                }
            }
        }
    }
    if let Some(scripts) = cx.seen(&INLINE_CREDENTIALS, &seen.init_scripts) {
        for script in scripts {
            for (line, found) in script_credentials(&script.content) {
                let location = cx.at(&["databricks", "workspace"]);
                cx.finding(
                    &INLINE_CREDENTIALS,
                    Source::Live,
                    Some(format!("global init script {} ({})", script.script_id, script.name)),
                    format!("global init script `{}` holds {found} on line {line}", script.name),
                    "read it from an environment variable set to \"{{secrets/<scope>/<key>}}\" in the cluster's spark_env_vars (and rotate it)",
                    location,
                );
            }
        }
    }
    if let Some(policies) = cx.seen(&INLINE_CREDENTIALS, &seen.policies) {
        for p in policies {
            for (attribute, value) in policy_strings(&p.definition) {
                let Some(kind) = classify(&attribute, &value) else {
                    continue;
                };
                let location = cx.at(&["databricks", "cluster_policies"]);
                cx.finding(
                    &INLINE_CREDENTIALS,
                    Source::Live,
                    Some(format!("cluster policy {} ({})", p.policy_id, p.name)),
                    format!("cluster policy `{}` sets `{attribute}` to {}", p.name, masked(kind, &value)),
                    format!("databricks.cluster_policies.<key>.definition with \"{attribute}\" set to \"{{{{secrets/<scope>/<key>}}}}\""),
                    location,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_lines_holding_credentials_are_found_by_line() {
        let script = "#!/bin/bash\n# AWS_SECRET_ACCESS_KEY=commented-out\nexport AWS_SECRET_ACCESS_KEY=\"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"\necho ok\ncurl -H \"Authorization: Bearer dapi0123456789abcdef0123456789abcdef\" x\nDB_PASSWORD={{secrets/etl/db}}\n";
        let found = script_credentials(script);
        assert_eq!(
            found,
            [
                (
                    3,
                    "a literal AWS secret access key (40 characters, not shown)".to_string()
                ),
                (5, "a literal Databricks personal access token".to_string()),
            ]
        );
    }

    #[test]
    fn policy_strings_reach_fixed_default_and_allowed_values() {
        let found = policy_strings(
            r#"{"spark_conf.fs.s3a.secret.key": {"type": "fixed", "value": "x"},
                "spark_env_vars.TOKEN": {"type": "allowlist", "values": ["a", "b"]},
                "autotermination_minutes": {"type": "fixed", "value": 30}}"#,
        );
        assert_eq!(
            found,
            [
                ("spark_conf.fs.s3a.secret.key".to_string(), "x".to_string()),
                ("spark_env_vars.TOKEN".to_string(), "a".to_string()),
                ("spark_env_vars.TOKEN".to_string(), "b".to_string()),
            ]
        );
    }
}
