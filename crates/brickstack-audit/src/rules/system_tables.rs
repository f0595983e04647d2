//! Use system tables to monitor account usage.

use crate::live::LiveObservation;
use crate::model::{Practice, Rule, Severity, Source};
use crate::rules::Cx;

pub static SYSTEM_SCHEMAS: Rule = Rule {
    id: "BSA016",
    name: "system-tables",
    practice: Practice::SystemTables,
    severity: Severity::Medium,
    title: "The access, billing and compute system schemas are enabled",
    help: "System tables are a Databricks-hosted store of the account's audit logs, lineage and billable usage. They live in the Unity Catalog metastore: the spec needs `[unity_catalog]` with `system_schemas` holding `access`, `billing` and `compute` (the default). Live, the metastore's system schemas must be enabled.",
};

/// The schemas the cheat-sheet's monitoring needs: audit (access), usage (billing), clusters
/// (compute).
pub(crate) const WANTED: [&str; 3] = ["access", "billing", "compute"];

pub(crate) fn spec(cx: &mut Cx<'_, '_>) {
    match &cx.spec.unity_catalog {
        None => {
            let location = cx.at(&["unity_catalog"]);
            cx.finding(
                &SYSTEM_SCHEMAS,
                Source::Spec,
                None,
                "system tables need Unity Catalog, which the spec does not enable",
                "[unity_catalog] system_schemas = [\"access\", \"billing\", \"compute\"]",
                location,
            );
        }
        Some(uc) => {
            let missing: Vec<&str> = WANTED
                .iter()
                .copied()
                .filter(|w| !uc.system_schemas.iter().any(|s| s == w))
                .collect();
            if !missing.is_empty() {
                let location = cx.at(&["unity_catalog", "system_schemas"]);
                let mut all: Vec<String> = uc.system_schemas.clone();
                all.extend(missing.iter().map(|m| m.to_string()));
                cx.finding(
                    &SYSTEM_SCHEMAS,
                    Source::Spec,
                    None,
                    format!(
                        "system schema{} {} not enabled",
                        if missing.len() == 1 { "" } else { "s" },
                        quoted(&missing)
                    ),
                    format!(
                        "unity_catalog.system_schemas = [{}]",
                        all.iter()
                            .map(|s| format!("\"{s}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    location,
                );
            }
        }
    }
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn live(cx: &mut Cx<'_, '_>, seen: &LiveObservation) {
    let Some(schemas) = cx.seen(&SYSTEM_SCHEMAS, &seen.system_schemas) else {
        return;
    };
    let missing: Vec<&str> = WANTED
        .iter()
        .copied()
        .filter(|w| !schemas.iter().any(|s| s.schema == *w && s.enabled))
        .collect();
    if !missing.is_empty() {
        let location = cx.at(&["unity_catalog", "system_schemas"]);
        cx.finding(
            &SYSTEM_SCHEMAS,
            Source::Live,
            Some(format!("workspace {}", seen.workspace)),
            format!("the metastore has {} not enabled", quoted(&missing)),
            "unity_catalog.system_schemas = [\"access\", \"billing\", \"compute\"] (then `brickstack apply`)",
            location,
        );
    }
}
