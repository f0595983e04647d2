//! Use service principals for automation: the tokens automation holds belong to service
//! principals, not to people.

use crate::live::LiveObservation;
use crate::model::{Practice, Rule, Severity, Source};
use crate::rules::Cx;

pub static TOKENS_OWNED_BY_SERVICE_PRINCIPALS: Rule = Rule {
    id: "BSA005",
    name: "tokens-owned-by-service-principals",
    practice: Practice::ServicePrincipals,
    severity: Severity::Medium,
    title: "Tokens are owned by service principals, not by users",
    help: "A third-party tool that authenticates with a person's token stops when that person leaves, and acts with all their rights meanwhile. brickstack itself deploys as the account's OAuth service principal and mints the workspace's tokens for service principals (`databricks.service_principal`), so a spec always passes; live, every token the workspace's token management lists must belong to a service principal: mint automation's tokens on behalf of one (`POST /api/2.0/token-management/on-behalf-of/tokens`) and revoke the users'.",
};

/// The spec cannot name any other owner: brickstack's tokens are an on-behalf-of token for the
/// workspace service principal and a token of the account's service principal that deploys.
pub(crate) fn spec(_cx: &mut Cx<'_, '_>) {}

pub(crate) fn live(cx: &mut Cx<'_, '_>, seen: &LiveObservation) {
    let rule = &TOKENS_OWNED_BY_SERVICE_PRINCIPALS;
    let Some(tokens) = cx.seen(rule, &seen.tokens) else {
        return;
    };
    let Some(principals) = cx.seen(rule, &seen.service_principals) else {
        return;
    };
    let principal_ids: Vec<&str> = principals.iter().map(|p| p.id.as_str()).collect();
    for t in tokens {
        let owner = t.owner_id.map(|id| id.to_string());
        if owner
            .as_deref()
            .is_some_and(|id| principal_ids.contains(&id))
        {
            continue;
        }
        let who = match (&t.created_by, &owner) {
            (Some(name), _) => format!("`{name}`"),
            (None, Some(id)) => format!("principal {id}"),
            (None, None) => "an unknown principal".to_string(),
        };
        let location = cx.at(&["databricks", "service_principal"]);
        cx.finding(
            rule,
            Source::Live,
            Some(format!("token {}", t.token_id)),
            format!(
                "token {}{} belongs to {who}, which is not a service principal of the workspace",
                t.token_id,
                t.comment
                    .as_deref()
                    .filter(|c| !c.is_empty())
                    .map(|c| format!(" (`{c}`)"))
                    .unwrap_or_default()
            ),
            "databricks.service_principal.display_name = \"<automation principal>\" (mint automation tokens on its behalf; revoke this one)",
            location,
        );
    }
}
