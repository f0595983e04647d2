//! The rules, one module per cheat-sheet practice. Each module declares its rules and two
//! functions: `spec` (the checks on the spec) and `live` (the checks on what the APIs show).

pub mod account_groups;
pub mod cluster_policies;
pub mod ip_access_lists;
pub mod network;
pub mod scim;
pub mod secrets;
pub mod service_principals;
pub mod sso;
pub mod system_tables;
pub mod token_expiry;
pub mod unity_catalog;

use brickstack_spec::Spec;

use crate::live::{LiveObservation, Observed};
use crate::locate::Locator;
use crate::model::{Finding, Location, Report, Rule, Source, Unverified};

/// Every rule, in id order.
pub static RULES: [&Rule; 16] = [
    &unity_catalog::ENABLED,
    &cluster_policies::CLUSTER_USES_POLICY,
    &cluster_policies::CLUSTER_AUTO_TERMINATION,
    &cluster_policies::POLICY_AUTO_TERMINATION,
    &service_principals::TOKENS_OWNED_BY_SERVICE_PRINCIPALS,
    &sso::SSO,
    &scim::SCIM,
    &account_groups::ACCOUNT_GROUPS,
    &ip_access_lists::WORKSPACE,
    &ip_access_lists::ACCOUNT_CONSOLE,
    &network::CUSTOMER_MANAGED_VPC,
    &network::REGIONAL_ENDPOINTS,
    &secrets::INLINE_CREDENTIALS,
    &token_expiry::MAX_TOKEN_LIFETIME,
    &token_expiry::TOKEN_LIFETIME_BOUNDED,
    &system_tables::SYSTEM_SCHEMAS,
];

/// What a rule sees and where it reports.
pub(crate) struct Cx<'a, 's> {
    pub spec: &'a Spec,
    pub locator: &'a Locator<'s>,
    pub report: &'a mut Report,
}

impl Cx<'_, '_> {
    pub fn at(&self, path: &[&str]) -> Location {
        self.locator.at(path)
    }

    pub fn finding(
        &mut self,
        rule: &'static Rule,
        source: Source,
        object: Option<String>,
        seen: impl Into<String>,
        fix: impl Into<String>,
        location: Location,
    ) {
        self.report.findings.push(Finding {
            rule,
            source,
            object,
            seen: seen.into(),
            fix: fix.into(),
            location,
        });
    }

    pub fn unverified(&mut self, rule: &'static Rule, source: Source, reason: impl Into<String>) {
        self.report.unverified.push(Unverified {
            rule,
            source,
            reason: reason.into(),
        });
    }

    /// The observed value, or `None` after recording why `rule` could not be checked live.
    pub fn seen<'o, T>(&mut self, rule: &'static Rule, observed: &'o Observed<T>) -> Option<&'o T> {
        match observed {
            Observed::Seen(t) => Some(t),
            Observed::CannotBeVerified(reason) => {
                self.unverified(rule, Source::Live, reason.clone());
                None
            }
        }
    }
}

/// Runs every rule's spec checks.
pub(crate) fn spec(cx: &mut Cx<'_, '_>) {
    unity_catalog::spec(cx);
    cluster_policies::spec(cx);
    service_principals::spec(cx);
    sso::spec(cx);
    scim::spec(cx);
    account_groups::spec(cx);
    ip_access_lists::spec(cx);
    network::spec(cx);
    secrets::spec(cx);
    token_expiry::spec(cx);
    system_tables::spec(cx);
}

/// Runs every rule's live checks.
pub(crate) fn live(cx: &mut Cx<'_, '_>, seen: &LiveObservation) {
    unity_catalog::live(cx, seen);
    cluster_policies::live(cx, seen);
    service_principals::live(cx, seen);
    sso::live(cx, seen);
    scim::live(cx, seen);
    account_groups::live(cx, seen);
    ip_access_lists::live(cx, seen);
    network::live(cx, seen);
    secrets::live(cx, seen);
    token_expiry::live(cx, seen);
    system_tables::live(cx, seen);
}

/// A TOML key segment as written in a fix: bare when it can be, quoted otherwise.
pub(crate) fn toml_key(segment: &str) -> String {
    // `<key>` stands for a key the reader picks: shown as is.
    let placeholder = segment.starts_with('<') && segment.ends_with('>');
    if placeholder
        || !segment.is_empty()
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        segment.to_string()
    } else {
        format!("\"{}\"", segment.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// A dotted key path for a fix.
pub(crate) fn key_path(segments: &[&str]) -> String {
    segments
        .iter()
        .map(|s| toml_key(s))
        .collect::<Vec<_>>()
        .join(".")
}
