//! What an audit reports: rules (the stable part), findings, and the checks that could not be made.

use serde::Serialize;

/// How much a finding matters; `--fail-on` compares against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const NAMES: [&'static str; 4] = ["low", "medium", "high", "critical"];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s {
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }

    /// GitHub code scanning's `security-severity` score: the middle of the band it maps back to
    /// this severity (low 0.1–3.9, medium 4.0–6.9, high 7.0–8.9, critical 9.0–10.0).
    pub fn security_severity(self) -> &'static str {
        match self {
            Severity::Low => "3.0",
            Severity::Medium => "5.5",
            Severity::High => "8.0",
            Severity::Critical => "9.5",
        }
    }

    /// SARIF `level`: high and critical are errors, medium a warning, low a note.
    pub fn sarif_level(self) -> &'static str {
        match self {
            Severity::Low => "note",
            Severity::Medium => "warning",
            Severity::High | Severity::Critical => "error",
        }
    }
}

/// The eleven practices of the platform-administration cheat-sheet (seed 003, section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Practice {
    UnityCatalog,
    ClusterPolicies,
    ServicePrincipals,
    Sso,
    Scim,
    AccountGroups,
    IpAccessLists,
    CustomerManagedVpc,
    Secrets,
    TokenExpiry,
    SystemTables,
}

impl Practice {
    pub const ALL: [Practice; 11] = [
        Practice::UnityCatalog,
        Practice::ClusterPolicies,
        Practice::ServicePrincipals,
        Practice::Sso,
        Practice::Scim,
        Practice::AccountGroups,
        Practice::IpAccessLists,
        Practice::CustomerManagedVpc,
        Practice::Secrets,
        Practice::TokenExpiry,
        Practice::SystemTables,
    ];

    /// The stable slug used in JSON and SARIF tags.
    pub fn as_str(self) -> &'static str {
        match self {
            Practice::UnityCatalog => "unity-catalog",
            Practice::ClusterPolicies => "cluster-policies",
            Practice::ServicePrincipals => "service-principals",
            Practice::Sso => "sso",
            Practice::Scim => "scim",
            Practice::AccountGroups => "account-groups",
            Practice::IpAccessLists => "ip-access-lists",
            Practice::CustomerManagedVpc => "customer-managed-vpc",
            Practice::Secrets => "secrets",
            Practice::TokenExpiry => "token-expiry",
            Practice::SystemTables => "system-tables",
        }
    }

    /// The practice as the cheat-sheet words it.
    pub fn title(self) -> &'static str {
        match self {
            Practice::UnityCatalog => "Enable Unity Catalog",
            Practice::ClusterPolicies => "Use cluster policies",
            Practice::ServicePrincipals => {
                "Use Service Principals to connect to third-party software"
            }
            Practice::Sso => "Set up SSO",
            Practice::Scim => "Set up SCIM integration",
            Practice::AccountGroups => "Manage access control with account-level groups",
            Practice::IpAccessLists => "Set up IP access for IP whitelisting",
            Practice::CustomerManagedVpc => {
                "Configure a customer-managed VPC with regional endpoints"
            }
            Practice::Secrets => "Use Databricks Secrets or a cloud provider secrets manager",
            Practice::TokenExpiry => "Set expiration dates on personal access tokens (PATs)",
            Practice::SystemTables => "Use system tables to monitor account usage",
        }
    }
}

/// One check. Ids never change meaning: tools that suppress or track findings key on them.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// `BSA001`…
    pub id: &'static str,
    /// A short kebab-case name (SARIF `name`).
    pub name: &'static str,
    pub practice: Practice,
    pub severity: Severity,
    /// One line: what the rule wants.
    pub title: &'static str,
    /// Why it matters and how to satisfy it, in the spec and in the account.
    pub help: &'static str,
}

/// Whether a check looked at the spec or at what the APIs show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Spec,
    Live,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Spec => "spec",
            Source::Live => "live",
        }
    }
}

/// A place in the spec file: the offending key, or the table the fixing key belongs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The spec file as the caller named it (relative to the repository root when run from it).
    pub file: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// The dotted key path pointed at (`databricks.workspace`); empty for the top of the file.
    pub key: String,
}

/// A practice not followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static Rule,
    pub source: Source,
    /// The deployed object concerned (live findings), e.g. `cluster 0101-abc (adhoc)`.
    pub object: Option<String>,
    /// What was seen. Never a secret value.
    pub seen: String,
    /// The fix, as a spec key (`databricks.workspace.max_token_lifetime_days = 90`).
    pub fix: String,
    pub location: Location,
}

/// A practice whose state neither the spec nor the APIs show: reported, never passed or failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unverified {
    pub rule: &'static Rule,
    pub source: Source,
    pub reason: String,
}

/// Everything one audit found, in rule order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub file: String,
    pub environment: String,
    /// Whether live observations were checked too.
    pub live: bool,
    pub findings: Vec<Finding>,
    pub unverified: Vec<Unverified>,
}

impl Report {
    /// Findings at or above `threshold`: what decides exit code 1.
    pub fn failing(&self, threshold: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.rule.severity >= threshold)
            .count()
    }

    /// Sorts findings by rule, then by place, then by object, so every output is stable.
    pub(crate) fn sort(&mut self) {
        self.findings.sort_by(|a, b| {
            (
                a.rule.id,
                a.source,
                a.location.line,
                a.location.column,
                &a.object,
                &a.seen,
            )
                .cmp(&(
                    b.rule.id,
                    b.source,
                    b.location.line,
                    b.location.column,
                    &b.object,
                    &b.seen,
                ))
        });
        self.unverified
            .sort_by(|a, b| (a.rule.id, a.source).cmp(&(b.rule.id, b.source)));
    }
}
