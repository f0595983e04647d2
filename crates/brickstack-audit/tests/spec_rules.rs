//! The rules on specs: a spec in, the report out (text, and JSON/SARIF for one), snapshot-tested.
//! The environment files themselves are audited by the CLI's tests (`tests/audit.rs`).

use brickstack_audit::live::{
    LiveCluster, LiveInitScript, LiveIpAccessList, LiveObservation, LivePolicy,
    LiveServicePrincipal, LiveToken, LiveWorkspaceConf, Observed,
};
use brickstack_audit::{Report, Severity, audit, render};

/// A spec that follows every practice a spec can show, except where a test changes it.
const BASE: &str = r#"
[environment]
name = "audit"
stage = "dev"
prefix = "bs-audit"
region = "eu-west-1"

[databricks.account]
account_id = "00000000-0000-4000-8000-000000000001"

[databricks.workspace]
max_token_lifetime_days = 30

[databricks.cluster_policies.small]
name = "small"
definition = '{"autotermination_minutes": {"type": "range", "minValue": 10, "maxValue": 60, "defaultValue": 10}}'

[databricks.ip_access_lists.office]
ip_addresses = ["203.0.113.0/24"]

[databricks.clusters.small]
name = "small"
autotermination_minutes = 10
policy = "small"
"#;

fn report(source: &str) -> Report {
    let spec = brickstack_spec::parse("environments/audit.toml", source)
        .unwrap_or_else(|e| panic!("the test spec does not validate:\n{e}"));
    audit("environments/audit.toml", source, &spec, None)
}

fn check(source: &str) -> String {
    render::text(&report(source), Severity::Medium)
}

fn ids(report: &Report) -> Vec<&'static str> {
    report.findings.iter().map(|f| f.rule.id).collect()
}

#[test]
fn a_spec_following_every_practice_it_can_show_has_only_the_unity_catalog_findings() {
    // `[unity_catalog]` and `[account_groups]` are decoded by the Unity Catalog work (#14); until
    // they are, no spec can enable them and these three findings stay.
    let r = report(BASE);
    assert_eq!(ids(&r), ["BSA001", "BSA008", "BSA016"]);
    insta::assert_snapshot!(check(BASE));
}

/// The issue's spec: a cluster that never terminates, no token lifetime, a literal AWS secret
/// key in Spark conf.
pub const THREE_PROBLEMS: &str = r#"
[environment]
name = "audit"
stage = "dev"
prefix = "bs-audit"
region = "eu-west-1"

[databricks.account]
account_id = "00000000-0000-4000-8000-000000000001"

[databricks.cluster_policies.always_on]
name = "always-on"
definition = '{"autotermination_minutes": {"type": "fixed", "value": 0}}'

[databricks.ip_access_lists.office]
ip_addresses = ["203.0.113.0/24"]

[databricks.clusters.etl]
name = "etl"
policy = "always_on"

[databricks.clusters.etl.spark_conf]
"spark.hadoop.fs.s3a.access.key" = "{{secrets/etl/aws-access-key}}"
"spark.hadoop.fs.s3a.secret.key" = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
"#;

#[test]
fn the_three_problems_are_found_where_they_are_written() {
    let r = report(THREE_PROBLEMS);
    assert_eq!(
        ids(&r),
        ["BSA001", "BSA003", "BSA008", "BSA013", "BSA014", "BSA016"]
    );
    let located: Vec<String> = r
        .findings
        .iter()
        .filter(|f| ["BSA003", "BSA013", "BSA014"].contains(&f.rule.id))
        .map(|f| {
            format!(
                "{} {}:{}:{} {}",
                f.rule.id, f.location.file, f.location.line, f.location.column, f.location.key
            )
        })
        .collect();
    assert_eq!(
        located,
        [
            "BSA003 environments/audit.toml:13:1 databricks.cluster_policies.always_on.definition",
            "BSA013 environments/audit.toml:24:1 databricks.clusters.etl.spark_conf.spark.hadoop.fs.s3a.secret.key",
            // No `[databricks.workspace]`: the nearest table written, `databricks`.
            "BSA014 environments/audit.toml:8:2 databricks",
        ]
    );
    let text = check(THREE_PROBLEMS);
    assert!(
        !text.contains("wJalrXUtnFEMI"),
        "the secret is shown:\n{text}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn json_and_sarif_show_no_secret_and_are_stable() {
    let r = report(THREE_PROBLEMS);
    let json = serde_json::to_string_pretty(&render::json(&r, Severity::Medium)).unwrap();
    let sarif =
        serde_json::to_string_pretty(&render::sarif(&r, "0.1.0", "environments/audit.toml"))
            .unwrap();
    for out in [&json, &sarif] {
        assert!(!out.contains("wJalrXUtnFEMI"));
    }
    insta::assert_snapshot!("three_problems_json", json);
    insta::assert_snapshot!("three_problems_sarif", sarif);
}

#[test]
fn policies_endpoints_lists_and_lifetimes_are_checked() {
    let source = format!(
        "{BASE}{}",
        r#"
[databricks.cluster_policies.loose]
definition = '{"autotermination_minutes": {"type": "range", "maxValue": 60}, "spark_conf.spark.datasource.password": {"type": "fixed", "value": "hunter2"}}'

[databricks.cluster_policies.never]
definition = '{"autotermination_minutes": {"type": "forbidden"}}'

[databricks.clusters.adhoc]
name = "adhoc"

[databricks.ip_access_lists.bad]
list_type = "BLOCK"
ip_addresses = ["198.51.100.7"]

[databricks.tokens]
lifetime_seconds = 15552000

[network.endpoints]
sts = false
"#
    );
    // `max_token_lifetime_days = 30` refuses a 180-day `lifetime_seconds`: drop the maximum.
    let source = source.replace("max_token_lifetime_days = 30", "");
    insta::assert_snapshot!(check(&source));
}

#[test]
fn a_block_only_list_and_no_list_are_both_findings() {
    let none = BASE.replace(
        "[databricks.ip_access_lists.office]\nip_addresses = [\"203.0.113.0/24\"]",
        "",
    );
    assert!(ids(&report(&none)).contains(&"BSA009"));
    let block = BASE.replace(
        "ip_addresses = [\"203.0.113.0/24\"]",
        "list_type = \"BLOCK\"\nip_addresses = [\"203.0.113.0/24\"]",
    );
    assert!(ids(&report(&block)).contains(&"BSA009"));
    assert!(!ids(&report(BASE)).contains(&"BSA009"));
}

fn observation() -> LiveObservation {
    LiveObservation {
        workspace: "https://local.example".into(),
        clusters: Observed::Seen(vec![
            LiveCluster {
                cluster_id: "0101-small".into(),
                name: "small".into(),
                source: Some("API".into()),
                autotermination_minutes: Some(10),
                policy_id: Some("P1".into()),
                ..Default::default()
            },
            LiveCluster {
                cluster_id: "0102-adhoc".into(),
                name: "adhoc".into(),
                source: Some("UI".into()),
                autotermination_minutes: Some(0),
                spark_env_vars: vec![("DB_TOKEN".into(), format!("dapi{}", "ab".repeat(16)))],
                ..Default::default()
            },
            LiveCluster {
                cluster_id: "0103-job".into(),
                name: "job-123".into(),
                source: Some("JOB".into()),
                autotermination_minutes: Some(0),
                ..Default::default()
            },
        ]),
        policies: Observed::Seen(vec![
            LivePolicy {
                policy_id: "P1".into(),
                name: "small".into(),
                definition: r#"{"autotermination_minutes": {"type": "fixed", "value": 10}}"#.into(),
                is_default: false,
            },
            LivePolicy {
                policy_id: "P2".into(),
                name: "Personal Compute".into(),
                definition: "{}".into(),
                is_default: true,
            },
        ]),
        init_scripts: Observed::Seen(vec![LiveInitScript {
            script_id: "S1".into(),
            name: "proxy".into(),
            content: "#!/bin/bash\nexport HTTPS_PROXY_PASSWORD=hunter22\n".into(),
        }]),
        tokens: Observed::Seen(vec![
            LiveToken {
                token_id: "t-sp".into(),
                owner_id: Some(7),
                creation_time: 0,
                expiry_time: 86_400_000,
                ..Default::default()
            },
            LiveToken {
                token_id: "t-user".into(),
                comment: Some("laptop".into()),
                owner_id: Some(9),
                created_by: Some("someone@example.com".into()),
                creation_time: 0,
                expiry_time: -1,
            },
        ]),
        service_principals: Observed::Seen(vec![LiveServicePrincipal {
            id: "7".into(),
            application_id: Some("app".into()),
            display_name: "deployer".into(),
        }]),
        workspace_conf: Observed::Seen(LiveWorkspaceConf {
            max_token_lifetime_days: Some("30".into()),
            enable_ip_access_lists: Some("true".into()),
        }),
        ip_access_lists: Observed::Seen(vec![LiveIpAccessList {
            label: "office".into(),
            list_type: "ALLOW".into(),
            enabled: true,
            addresses: 1,
        }]),
        network_id: Observed::Seen(Some("net-1".into())),
        metastore_id: Observed::CannotBeVerified("no Unity Catalog client yet".into()),
        system_schemas: Observed::CannotBeVerified("no Unity Catalog client yet".into()),
        account_groups: Observed::CannotBeVerified("no account groups client yet".into()),
    }
}

#[test]
fn live_observations_are_checked_and_what_cannot_be_seen_is_said() {
    let spec = brickstack_spec::parse("environments/audit.toml", BASE).unwrap();
    let r = audit("environments/audit.toml", BASE, &spec, Some(&observation()));
    let text = render::text(&r, Severity::Medium);
    assert!(
        !text.contains("dapiabab") && !text.contains("hunter22"),
        "a secret is shown:\n{text}"
    );
    // The job cluster is not all-purpose; the built-in policy is not brickstack's.
    assert!(
        !text.contains("job-123") && !text.contains("Personal Compute"),
        "{text}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn an_observation_that_failed_is_unverified_not_passed() {
    let spec = brickstack_spec::parse("environments/audit.toml", BASE).unwrap();
    let mut seen = observation();
    seen.workspace_conf = Observed::CannotBeVerified("workspace-conf: HTTP 503".into());
    let r = audit("environments/audit.toml", BASE, &spec, Some(&seen));
    let unverified: Vec<&str> = r.unverified.iter().map(|u| u.rule.id).collect();
    assert!(
        unverified.contains(&"BSA009") && unverified.contains(&"BSA014"),
        "{unverified:?}"
    );
}

#[test]
fn every_rule_has_a_unique_id_in_order_and_says_what_it_checks() {
    let rules = brickstack_audit::RULES;
    for (i, r) in rules.iter().enumerate() {
        assert_eq!(r.id, format!("BSA{:03}", i + 1));
        assert!(
            !r.title.is_empty() && r.help.len() > 80 && r.help.len() <= 1024,
            "{}",
            r.id
        );
    }
    // Every practice of the cheat-sheet has a rule.
    for p in brickstack_audit::Practice::ALL {
        assert!(rules.iter().any(|r| r.practice == p), "{p:?}");
    }
}
