//! The report as JSON: a stable document (`format_version` changes when a field changes meaning).

use serde_json::{Value, json};

use crate::model::{Report, Severity};

/// The report as a JSON document; keys in a fixed order.
pub fn json(report: &Report, fail_on: Severity) -> Value {
    let count = |s: Severity| {
        report
            .findings
            .iter()
            .filter(|f| f.rule.severity == s)
            .count()
    };
    json!({
        "format_version": 1,
        "environment": report.environment,
        "file": report.file,
        "live": report.live,
        "fail_on": fail_on.as_str(),
        "summary": {
            "findings": report.findings.len(),
            "failing": report.failing(fail_on),
            "critical": count(Severity::Critical),
            "high": count(Severity::High),
            "medium": count(Severity::Medium),
            "low": count(Severity::Low),
            "cannot_be_verified": report.unverified.len(),
        },
        "findings": report.findings.iter().map(|f| json!({
            "rule": f.rule.id,
            "practice": f.rule.practice.as_str(),
            "severity": f.rule.severity.as_str(),
            "title": f.rule.title,
            "source": f.source.as_str(),
            "object": f.object,
            "seen": f.seen,
            "fix": f.fix,
            "location": {
                "file": f.location.file,
                "line": f.location.line,
                "column": f.location.column,
                "key": f.location.key,
            },
        })).collect::<Vec<_>>(),
        "cannot_be_verified": report.unverified.iter().map(|u| json!({
            "rule": u.rule.id,
            "practice": u.rule.practice.as_str(),
            "source": u.source.as_str(),
            "reason": u.reason,
        })).collect::<Vec<_>>(),
    })
}
