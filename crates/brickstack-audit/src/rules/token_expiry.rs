//! Set expiration dates on personal access tokens: a workspace maximum, and every token bounded.

use crate::live::LiveObservation;
use crate::model::{Practice, Rule, Severity, Source};
use crate::rules::Cx;

pub static MAX_TOKEN_LIFETIME: Rule = Rule {
    id: "BSA014",
    name: "max-token-lifetime",
    practice: Practice::TokenExpiry,
    severity: Severity::High,
    title: "The workspace sets a maximum lifetime for new personal access tokens",
    help: "Without a maximum, anyone can create a token that never expires: a lost or leaked token then works forever. In the spec, set `databricks.workspace.max_token_lifetime_days` (brickstack writes it to the workspace conf's `maxTokenLifetimeDays`). Live, the workspace conf must hold a non-zero `maxTokenLifetimeDays`.",
};

pub static TOKEN_LIFETIME_BOUNDED: Rule = Rule {
    id: "BSA015",
    name: "token-lifetime-bounded",
    practice: Practice::TokenExpiry,
    severity: Severity::Medium,
    title: "Every token expires, within the workspace's maximum",
    help: "A maximum lifetime only applies to tokens created after it was set. In the spec, `databricks.tokens.lifetime_seconds` (brickstack's own tokens) must not exceed 90 days. Live, every token must have an expiry time, no later than the workspace's maximum after its creation; revoke the others.",
};

/// Longest lifetime the audit accepts for the spec's tokens when the workspace sets no maximum.
const NINETY_DAYS: i64 = 90 * 24 * 3600;
const DAY_MS: i64 = 24 * 3600 * 1000;

pub(crate) fn spec(cx: &mut Cx<'_, '_>) {
    let db = &cx.spec.databricks;
    if db.max_token_lifetime_days.is_none() {
        let location = cx.at(&["databricks", "workspace", "max_token_lifetime_days"]);
        cx.finding(
            &MAX_TOKEN_LIFETIME,
            Source::Spec,
            None,
            "the spec sets no `databricks.workspace.max_token_lifetime_days`: new tokens may never expire",
            "databricks.workspace.max_token_lifetime_days = 90",
            location,
        );
    }
    // With a maximum set the spec refuses a longer lifetime itself.
    let lifetime = db.tokens.lifetime_seconds;
    if db.max_token_lifetime_days.is_none() && lifetime > NINETY_DAYS {
        let location = cx.at(&["databricks", "tokens", "lifetime_seconds"]);
        cx.finding(
            &TOKEN_LIFETIME_BOUNDED,
            Source::Spec,
            None,
            format!(
                "brickstack's tokens live {} days (`lifetime_seconds = {lifetime}`), more than 90",
                lifetime / (24 * 3600)
            ),
            format!("databricks.tokens.lifetime_seconds = {NINETY_DAYS}"),
            location,
        );
    }
}

pub(crate) fn live(cx: &mut Cx<'_, '_>, seen: &LiveObservation) {
    let mut max_days: Option<i64> = None;
    if let Some(conf) = cx.seen(&MAX_TOKEN_LIFETIME, &seen.workspace_conf) {
        max_days = conf
            .max_token_lifetime_days
            .as_deref()
            .and_then(|d| d.trim().parse::<i64>().ok())
            .filter(|d| *d > 0);
        if max_days.is_none() {
            let location = cx.at(&["databricks", "workspace", "max_token_lifetime_days"]);
            cx.finding(
                &MAX_TOKEN_LIFETIME,
                Source::Live,
                Some(format!("workspace {}", seen.workspace)),
                format!(
                    "the workspace conf has `maxTokenLifetimeDays` {}: new tokens may never expire",
                    conf.max_token_lifetime_days
                        .as_deref()
                        .map_or("unset".to_string(), |v| format!("`{v}`"))
                ),
                "databricks.workspace.max_token_lifetime_days = 90",
                location,
            );
        }
    }
    let Some(tokens) = cx.seen(&TOKEN_LIFETIME_BOUNDED, &seen.tokens) else {
        return;
    };
    for t in tokens {
        let seen_text = if t.expiry_time < 0 {
            format!("token {} never expires", t.token_id)
        } else if let Some(days) = max_days
            && t.expiry_time - t.creation_time > days * DAY_MS
        {
            format!(
                "token {} lives {} days, more than the workspace's maximum of {days}",
                t.token_id,
                (t.expiry_time - t.creation_time) / DAY_MS
            )
        } else {
            continue;
        };
        let location = cx.at(&["databricks", "workspace", "max_token_lifetime_days"]);
        cx.finding(
            &TOKEN_LIFETIME_BOUNDED,
            Source::Live,
            Some(format!("token {}", t.token_id)),
            seen_text,
            "databricks.workspace.max_token_lifetime_days = 90 (and revoke the token: the maximum applies to new tokens only)",
            location,
        );
    }
}
