//! Set up SSO: people sign in through the identity provider.

use crate::live::LiveObservation;
use crate::model::{Practice, Rule, Severity, Source};
use crate::rules::Cx;

pub static SSO: Rule = Rule {
    id: "BSA006",
    name: "single-sign-on",
    practice: Practice::Sso,
    severity: Severity::Medium,
    title: "People sign in through single sign-on",
    help: "SSO lets people authenticate with the identity provider instead of a password kept by Databricks. It is set in the account console (Settings, Single sign-on); the spec has no key for it and no API brickstack calls shows it, so the audit reports it as cannot be verified: check it in the account console.",
};

pub(crate) fn spec(cx: &mut Cx<'_, '_>) {
    cx.unverified(
        &SSO,
        Source::Spec,
        "single sign-on is configured in the account console; the spec has no key for it",
    );
}

pub(crate) fn live(cx: &mut Cx<'_, '_>, _seen: &LiveObservation) {
    cx.unverified(
        &SSO,
        Source::Live,
        "no API brickstack calls shows the account's single sign-on configuration (nor does the emulator serve one); check the account console",
    );
}
