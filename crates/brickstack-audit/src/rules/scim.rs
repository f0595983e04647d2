//! Set up SCIM: the identity provider provisions and removes users and groups.

use crate::live::LiveObservation;
use crate::model::{Practice, Rule, Severity, Source};
use crate::rules::Cx;

pub static SCIM: Rule = Rule {
    id: "BSA007",
    name: "scim-provisioning",
    practice: Practice::Scim,
    severity: Severity::Medium,
    title: "Users and groups are provisioned by the identity provider (SCIM)",
    help: "With SCIM provisioning a person removed from the identity provider is removed from Databricks too. The provisioning connector lives in the identity provider and the account console; the spec has no key for it, and the SCIM API shows the users and groups but not who provisioned them, so the audit reports it as cannot be verified.",
};

pub(crate) fn spec(cx: &mut Cx<'_, '_>) {
    cx.unverified(
        &SCIM,
        Source::Spec,
        "SCIM provisioning is set up in the identity provider and the account console; the spec has no key for it",
    );
}

pub(crate) fn live(cx: &mut Cx<'_, '_>, _seen: &LiveObservation) {
    cx.unverified(
        &SCIM,
        Source::Live,
        "the SCIM API lists users and groups but not whether an identity provider provisions them",
    );
}
