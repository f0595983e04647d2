//! Set up IP access lists, on the workspaces and on the account console.

use crate::live::LiveObservation;
use crate::model::{Practice, Rule, Severity, Source};
use crate::rules::Cx;

pub static WORKSPACE: Rule = Rule {
    id: "BSA009",
    name: "workspace-ip-access-lists",
    practice: Practice::IpAccessLists,
    severity: Severity::High,
    title: "The workspace accepts connections only from allowed networks",
    help: "IP access lists keep users on unsecured networks away from the workspace and its data. In the spec, any `[databricks.ip_access_lists.<key>]` turns the lists on (`enableIpAccessLists`); at least one must be an `ALLOW` list. Live, the workspace conf must have `enableIpAccessLists = true` and an enabled `ALLOW` list.",
};

pub static ACCOUNT_CONSOLE: Rule = Rule {
    id: "BSA010",
    name: "account-console-ip-access-lists",
    practice: Practice::IpAccessLists,
    severity: Severity::Medium,
    title: "The account console accepts connections only from allowed networks",
    help: "The cheat-sheet asks for IP access lists on the account console as well as on workspaces. The spec has no key for the account's lists and brickstack's client does not read them, so the audit reports them as cannot be verified: check the account console (Settings, Security).",
};

const EXAMPLE: &str = "databricks.ip_access_lists.office.ip_addresses = [\"203.0.113.0/24\"]";

pub(crate) fn spec(cx: &mut Cx<'_, '_>) {
    let lists = &cx.spec.databricks.ip_access_lists;
    if lists.is_empty() {
        let location = cx.at(&["databricks", "ip_access_lists"]);
        cx.finding(
            &WORKSPACE,
            Source::Spec,
            None,
            "the spec has no `[databricks.ip_access_lists]`: the workspace accepts connections from any address",
            EXAMPLE,
            location,
        );
    } else if !lists.iter().any(|l| l.list_type == "ALLOW") {
        let location = cx.at(&["databricks", "ip_access_lists"]);
        cx.finding(
            &WORKSPACE,
            Source::Spec,
            None,
            "every IP access list of the spec is a `BLOCK` list: any other address is accepted",
            EXAMPLE,
            location,
        );
    }
    cx.unverified(
        &ACCOUNT_CONSOLE,
        Source::Spec,
        "the spec has no key for the account console's IP access lists",
    );
}

pub(crate) fn live(cx: &mut Cx<'_, '_>, seen: &LiveObservation) {
    cx.unverified(
        &ACCOUNT_CONSOLE,
        Source::Live,
        "brickstack's client does not read the account console's IP access lists",
    );
    if let Some(conf) = cx.seen(&WORKSPACE, &seen.workspace_conf)
        && conf.enable_ip_access_lists.as_deref() != Some("true")
    {
        let location = cx.at(&["databricks", "ip_access_lists"]);
        cx.finding(
            &WORKSPACE,
            Source::Live,
            Some(format!("workspace {}", seen.workspace)),
            format!(
                "the workspace conf has `enableIpAccessLists` {}: lists, if any, are not enforced",
                conf.enable_ip_access_lists
                    .as_deref()
                    .map_or("unset".to_string(), |v| format!("`{v}`"))
            ),
            EXAMPLE,
            location,
        );
    }
    if let Some(lists) = cx.seen(&WORKSPACE, &seen.ip_access_lists)
        && !lists.iter().any(|l| l.enabled && l.list_type == "ALLOW")
    {
        let location = cx.at(&["databricks", "ip_access_lists"]);
        cx.finding(
            &WORKSPACE,
            Source::Live,
            Some(format!("workspace {}", seen.workspace)),
            format!(
                "the workspace has no enabled `ALLOW` IP access list ({} list{} in all)",
                lists.len(),
                if lists.len() == 1 { "" } else { "s" }
            ),
            EXAMPLE,
            location,
        );
    }
}
