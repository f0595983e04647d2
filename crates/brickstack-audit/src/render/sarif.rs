//! The report as a SARIF 2.1.0 log for code scanning (GitHub's `upload-sarif` and others).
//!
//! One run; every rule in `tool.driver.rules` (GitHub needs `shortDescription`,
//! `fullDescription`, `help`; `properties.security-severity` ranks the alert); one result per
//! finding, located in the spec file; what cannot be verified as the invocation's notifications,
//! since it is neither a pass nor a failure.

use serde_json::{Value, json};

use crate::model::{Finding, Report};
use crate::rules::RULES;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The report as a SARIF log. `uri_base` is the spec file's path relative to the repository
/// root, as code scanning resolves it (`environments/dev.toml`).
pub fn sarif(report: &Report, version: &str, uri_base: &str) -> Value {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.name,
                "shortDescription": { "text": r.title },
                "fullDescription": { "text": format!("{}: {}", r.practice.title(), r.title) },
                "help": { "text": r.help },
                "defaultConfiguration": { "level": r.severity.sarif_level() },
                "properties": {
                    "security-severity": r.severity.security_severity(),
                    "tags": ["security", r.practice.as_str()],
                    "precision": "high",
                },
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| result(f, uri_base))
        .collect();
    let notifications: Vec<Value> = report
        .unverified
        .iter()
        .map(|u| {
            json!({
                "level": "note",
                "message": { "text": format!("cannot be verified ({}): {}", u.source.as_str(), u.reason) },
                "associatedRule": { "id": u.rule.id, "index": rule_index(u.rule.id) },
            })
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "brickstack audit",
                "semanticVersion": version,
                "rules": rules,
            }},
            "automationDetails": { "id": format!("brickstack-audit/{}/", report.environment) },
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    })
}

fn rule_index(id: &str) -> usize {
    RULES.iter().position(|r| r.id == id).unwrap_or(0)
}

fn result(f: &Finding, uri_base: &str) -> Value {
    let mut message = format!("{}. Fix: `{}`", f.seen, f.fix);
    if let Some(object) = &f.object {
        message = format!("{object}: {message}");
    }
    json!({
        "ruleId": f.rule.id,
        "ruleIndex": rule_index(f.rule.id),
        "level": f.rule.severity.sarif_level(),
        "kind": "fail",
        "message": { "text": message },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": { "uri": uri_base },
                "region": { "startLine": f.location.line, "startColumn": f.location.column },
            },
        }],
        "partialFingerprints": { "primaryLocationLineHash": fingerprint(f) },
        "properties": {
            "practice": f.rule.practice.as_str(),
            "severity": f.rule.severity.as_str(),
            "source": f.source.as_str(),
            "key": f.location.key,
        },
    })
}

/// Identifies a finding across runs whatever line it moves to: the rule, the key pointed at, the
/// object and what was seen (never a secret: `seen` shows none). FNV-1a 64 bits, hex, with
/// GitHub's `:1` occurrence suffix.
fn fingerprint(f: &Finding) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let parts = [
        f.rule.id,
        f.source.as_str(),
        f.location.key.as_str(),
        f.object.as_deref().unwrap_or(""),
        f.seen.as_str(),
    ];
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}:1")
}
