//! Enable Unity Catalog: the workspace has a metastore.

use crate::live::LiveObservation;
use crate::model::{Practice, Rule, Severity, Source};
use crate::rules::Cx;

pub static ENABLED: Rule = Rule {
    id: "BSA001",
    name: "unity-catalog-enabled",
    practice: Practice::UnityCatalog,
    severity: Severity::High,
    title: "Unity Catalog is enabled: the workspace has a metastore assigned",
    help: "Unity Catalog gives centralised access control, auditing, lineage and data discovery across workspaces. In the spec, a `[unity_catalog]` table (even empty) creates the metastore, its bucket and IAM role, and assigns it to the workspace (docs/unity-catalog.md). Live, the workspace's metastore assignment is read.",
};

pub(crate) fn spec(cx: &mut Cx<'_, '_>) {
    if cx.spec.unity_catalog.is_none() {
        let location = cx.at(&["unity_catalog"]);
        cx.finding(
            &ENABLED,
            Source::Spec,
            None,
            "the spec has no `[unity_catalog]` table, so the workspace gets no metastore",
            "[unity_catalog] (an empty table takes the defaults)",
            location,
        );
    }
}

pub(crate) fn live(cx: &mut Cx<'_, '_>, seen: &LiveObservation) {
    let Some(metastore) = cx.seen(&ENABLED, &seen.metastore_id) else {
        return;
    };
    if metastore.is_none() {
        let location = cx.at(&["unity_catalog"]);
        cx.finding(
            &ENABLED,
            Source::Live,
            Some(format!("workspace {}", seen.workspace)),
            "no metastore is assigned to the workspace",
            "[unity_catalog] (an empty table takes the defaults), then `brickstack apply`",
            location,
        );
    }
}
