//! Manage access control with account-level groups.

use crate::live::LiveObservation;
use crate::model::{Practice, Rule, Severity, Source};
use crate::rules::Cx;

pub static ACCOUNT_GROUPS: Rule = Rule {
    id: "BSA008",
    name: "account-level-groups",
    practice: Practice::AccountGroups,
    severity: Severity::Medium,
    title: "Access is managed with account-level groups assigned to the workspace",
    help: "Account-level groups control access to workspaces, Unity Catalog data and resources in bulk, and can be synced from the identity provider; workspace-local groups cannot be granted Unity Catalog privileges. In the spec, declare `[account_groups.<key>]` with a `workspace_permission`. Live, each group the spec declares must exist in the account.",
};

pub(crate) fn spec(cx: &mut Cx<'_, '_>) {
    let groups = &cx.spec.account_groups;
    if groups.is_empty() {
        let location = cx.at(&["account_groups"]);
        let workspace_groups = cx.spec.databricks.groups.len();
        cx.finding(
            &ACCOUNT_GROUPS,
            Source::Spec,
            None,
            format!(
                "the spec declares no account-level group (only {workspace_groups} workspace group{})",
                if workspace_groups == 1 { "" } else { "s" }
            ),
            "[account_groups.<key>] workspace_permission = \"USER\"",
            location,
        );
    } else if groups.iter().all(|g| g.workspace_permission.is_none()) {
        let location = cx.at(&["account_groups"]);
        let key = &groups[0].key;
        cx.finding(
            &ACCOUNT_GROUPS,
            Source::Spec,
            None,
            "no account-level group is assigned to the workspace",
            format!("account_groups.{key}.workspace_permission = \"USER\""),
            location,
        );
    }
}

pub(crate) fn live(cx: &mut Cx<'_, '_>, seen: &LiveObservation) {
    let Some(live_groups) = cx.seen(&ACCOUNT_GROUPS, &seen.account_groups) else {
        return;
    };
    for g in &cx.spec.account_groups.clone() {
        if !live_groups.contains(&g.display_name) {
            let location = cx.at(&["account_groups", &g.key]);
            cx.finding(
                &ACCOUNT_GROUPS,
                Source::Live,
                Some(format!("account group {}", g.display_name)),
                format!(
                    "account group `{}` does not exist in the account",
                    g.display_name
                ),
                format!("account_groups.{} (run `brickstack apply`)", g.key),
                location,
            );
        }
    }
}
