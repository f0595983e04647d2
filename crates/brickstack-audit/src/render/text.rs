//! Findings grouped by practice, each headed by its location.

use std::fmt::Write;

use crate::model::{Practice, Report, Severity};

/// The report for a terminal: per practice, its findings (`file:line:col`, severity, rule, what
/// was seen, the fix) and what could not be verified; then a summary line against `fail_on`.
pub fn text(report: &Report, fail_on: Severity) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "audit of `{}` ({}{})",
        report.environment,
        report.file,
        if report.live {
            ", spec and live"
        } else {
            ", spec only"
        }
    );
    for practice in Practice::ALL {
        let findings: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.rule.practice == practice)
            .collect();
        let unverified: Vec<_> = report
            .unverified
            .iter()
            .filter(|u| u.rule.practice == practice)
            .collect();
        if findings.is_empty() && unverified.is_empty() {
            let _ = writeln!(out, "\n✓ {}", practice.title());
            continue;
        }
        let mark = if findings.is_empty() { "?" } else { "✗" };
        let _ = writeln!(out, "\n{mark} {}", practice.title());
        for f in findings {
            let l = &f.location;
            let _ = writeln!(
                out,
                "  {}:{}:{}: {} {} ({}): {}",
                l.file,
                l.line,
                l.column,
                f.rule.severity.as_str(),
                f.rule.id,
                f.source.as_str(),
                f.seen
            );
            let _ = writeln!(out, "    fix: {}", f.fix);
        }
        for u in unverified {
            let _ = writeln!(
                out,
                "  cannot be verified {} ({}): {}",
                u.rule.id,
                u.source.as_str(),
                u.reason
            );
        }
    }
    let failing = report.failing(fail_on);
    let _ = writeln!(
        out,
        "\n{} finding{} ({} at or above `{}`), {} check{} cannot be verified",
        report.findings.len(),
        if report.findings.len() == 1 { "" } else { "s" },
        failing,
        fail_on.as_str(),
        report.unverified.len(),
        if report.unverified.len() == 1 {
            ""
        } else {
            "s"
        },
    );
    out
}
