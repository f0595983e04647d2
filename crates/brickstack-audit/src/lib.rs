//! The audit: an environment checked against the eleven practices of the platform-administration
//! cheat-sheet (seed 003), on its spec and, given what the APIs show, on its deployment.
//!
//! Pure, like `brickstack-spec`: values in (the validated spec, its source text for locations,
//! and a [`live::LiveObservation`]), a [`Report`] out, rendered as text, JSON or SARIF 2.1.0. The
//! network calls behind an observation are the CLI's, through the [`live::LiveAccount`] trait. A
//! crate of its own (not a module of the CLI) so the rules are unit-tested without the AWS SDK
//! the CLI links, and stay apart from the spec's validation: a valid spec may still break a
//! practice.
//!
//! SARIF is built with `serde_json` rather than the `serde-sarif` crate: the log is one small,
//! fixed shape, and `serde-sarif` generates its types from the schema at build time (a build
//! script plus `typed-builder` and friends) for nothing the shape needs. The shape is checked
//! against the official schema in the CLI's tests instead.

pub mod credentials;
pub mod live;
mod locate;
mod model;
pub mod render;
pub mod rules;

pub use locate::Locator;
pub use model::{Finding, Location, Practice, Report, Rule, Severity, Source, Unverified};
pub use rules::RULES;

use brickstack_spec::Spec;

/// Checks `spec` (validated from `source`, which `file` names) and, when given, what the APIs
/// show of its deployment.
pub fn audit(
    file: &str,
    source: &str,
    spec: &Spec,
    live: Option<&live::LiveObservation>,
) -> Report {
    let locator = Locator::new(file, source);
    let mut report = Report {
        file: file.to_string(),
        environment: spec.environment.name.clone(),
        live: live.is_some(),
        findings: Vec::new(),
        unverified: Vec::new(),
    };
    let mut cx = rules::Cx {
        spec,
        locator: &locator,
        report: &mut report,
    };
    rules::spec(&mut cx);
    if let Some(seen) = live {
        rules::live(&mut cx, seen);
    }
    report.sort();
    report
}

/// The rule with id `id`.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().copied().find(|r| r.id == id)
}
