//! The classification table: type first, then the code, unknown codes by type.

use std::collections::BTreeMap;

use brickstack_monitor::{Classification, ErrorType, TerminationReason, classify, known_codes};

fn reason(code: &str, kind: &str, params: &[(&str, &str)]) -> TerminationReason {
    TerminationReason {
        code: code.into(),
        kind: kind.into(),
        parameters: params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// A code, its type, its parameters and the expected classification.
type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], Classification);

#[test]
fn documented_cases() {
    use Classification::{Expected, Failure};
    use ErrorType::*;
    let cases: &[Case] = &[
        (
            "USER_REQUEST",
            "SUCCESS",
            &[("username", "ana@example.com")],
            Expected,
        ),
        (
            "INACTIVITY",
            "SUCCESS",
            &[("inactivity_duration_min", "120")],
            Expected,
        ),
        ("JOB_FINISHED", "SUCCESS", &[], Expected),
        ("USER_REQUEST", "CLIENT_ERROR", &[], Expected),
        ("DRIVER_UNREACHABLE", "SUCCESS", &[], Expected),
        (
            "DRIVER_UNREACHABLE",
            "CLIENT_ERROR",
            &[],
            Failure(DatabricksDriverNotResponding),
        ),
        (
            "DRIVER_UNRESPONSIVE",
            "CLIENT_ERROR",
            &[],
            Failure(DatabricksDriverNotResponding),
        ),
        (
            "COMMUNICATION_LOST",
            "CLOUD_FAILURE",
            &[],
            Failure(DatabricksDriverNotResponding),
        ),
        (
            "SPARK_ERROR",
            "CLIENT_ERROR",
            &[],
            Failure(DatabricksDriverNotResponding),
        ),
        (
            "CLOUD_PROVIDER_SHUTDOWN",
            "CLOUD_FAILURE",
            &[],
            Failure(DatabricksClusterTerminated),
        ),
        (
            "SPOT_INSTANCE_TERMINATION",
            "CLOUD_FAILURE",
            &[],
            Failure(DatabricksClusterTerminated),
        ),
        (
            "CLOUD_PROVIDER_INSTANCE_NOT_LAUNCHED",
            "CLOUD_FAILURE",
            &[],
            Failure(DatabricksClusterTerminated),
        ),
        (
            "SPARK_STARTUP_FAILURE",
            "SERVICE_FAULT",
            &[],
            Failure(DatabricksClusterStartFailure),
        ),
        (
            "BOOTSTRAP_TIMEOUT",
            "CLOUD_FAILURE",
            &[],
            Failure(DatabricksClusterStartFailure),
        ),
        (
            "INSTANCE_UNREACHABLE",
            "CLOUD_FAILURE",
            &[],
            Failure(DatabricksClusterStartFailure),
        ),
        (
            "NPIP_TUNNEL_SETUP_FAILURE",
            "CLOUD_FAILURE",
            &[],
            Failure(DatabricksClusterStartFailure),
        ),
        (
            "CLOUD_PROVIDER_LAUNCH_FAILURE",
            "CLOUD_FAILURE",
            &[],
            Failure(DatabricksClusterStartFailure),
        ),
        (
            "CLOUD_PROVIDER_LAUNCH_FAILURE",
            "CLOUD_FAILURE",
            &[("aws_api_error_code", "InsufficientInstanceCapacity")],
            Failure(DatabricksResourceExhausted),
        ),
        (
            "CLOUD_PROVIDER_LAUNCH_FAILURE",
            "CLOUD_FAILURE",
            &[("aws_api_error_code", "InstanceLimitExceeded")],
            Failure(DatabricksResourceExhausted),
        ),
        (
            "CLOUD_PROVIDER_LAUNCH_FAILURE",
            "CLOUD_FAILURE",
            &[("aws_api_error_code", "SpotMaxPriceTooLow")],
            Failure(DatabricksResourceExhausted),
        ),
        (
            "CLOUD_PROVIDER_LAUNCH_FAILURE",
            "CLOUD_FAILURE",
            &[("aws_spot_request_status", "capacity-not-available")],
            Failure(DatabricksResourceExhausted),
        ),
        (
            "CLOUD_PROVIDER_LAUNCH_FAILURE",
            "CLOUD_FAILURE",
            &[("aws_api_error_code", "UnauthorizedOperation")],
            Failure(DatabricksClusterStartFailure),
        ),
        (
            "AWS_INSUFFICIENT_INSTANCE_CAPACITY_FAILURE",
            "CLOUD_FAILURE",
            &[],
            Failure(DatabricksResourceExhausted),
        ),
        (
            "CLOUD_PROVIDER_RESOURCE_STOCKOUT",
            "CLOUD_FAILURE",
            &[],
            Failure(DatabricksResourceExhausted),
        ),
        (
            "INSUFFICIENT_INSTANCE_CAPACITY",
            "CLOUD_FAILURE",
            &[("region", "eastus2")],
            Failure(DatabricksResourceExhausted),
        ),
        (
            "INVALID_ARGUMENT",
            "CLIENT_ERROR",
            &[],
            Failure(DatabricksConfigurationError),
        ),
        (
            "INIT_SCRIPT_FAILURE",
            "CLIENT_ERROR",
            &[],
            Failure(DatabricksConfigurationError),
        ),
        (
            "BOOTSTRAP_TIMEOUT_DUE_TO_MISCONFIG",
            "CLIENT_ERROR",
            &[],
            Failure(DatabricksConfigurationError),
        ),
        (
            "CLOUD_PROVIDER_RESOURCE_STOCKOUT_DUE_TO_MISCONFIG",
            "CLIENT_ERROR",
            &[],
            Failure(DatabricksConfigurationError),
        ),
        (
            "INSTANCE_POOL_NOT_FOUND",
            "CLIENT_ERROR",
            &[],
            Failure(DatabricksConfigurationError),
        ),
        (
            "INTERNAL_ERROR",
            "SERVICE_FAULT",
            &[],
            Failure(DatabricksServiceFault),
        ),
        (
            "REQUEST_THROTTLED",
            "SERVICE_FAULT",
            &[],
            Failure(DatabricksServiceFault),
        ),
        (
            "UNKNOWN",
            "SERVICE_FAULT",
            &[],
            Failure(DatabricksServiceFault),
        ),
        (
            "MAINTENANCE_MODE",
            "SERVICE_FAULT",
            &[],
            Failure(DatabricksAdministrativeTermination),
        ),
        (
            "ABUSE_DETECTED",
            "CLIENT_ERROR",
            &[],
            Failure(DatabricksAdministrativeTermination),
        ),
        (
            "BUDGET_POLICY_LIMIT_ENFORCEMENT_ACTIVATED",
            "CLIENT_ERROR",
            &[],
            Failure(DatabricksAdministrativeTermination),
        ),
        // Serverless, Azure, GCP and unknown codes: by type.
        (
            "DRIVER_EVICTION",
            "CLOUD_FAILURE",
            &[],
            Failure(DatabricksClusterTerminated),
        ),
        (
            "AZURE_QUOTA_EXCEEDED_EXCEPTION",
            "CLIENT_ERROR",
            &[],
            Failure(DatabricksConfigurationError),
        ),
        (
            "GCP_INSUFFICIENT_CAPACITY",
            "SERVICE_FAULT",
            &[],
            Failure(DatabricksServiceFault),
        ),
        (
            "A_CODE_FROM_2030",
            "CLOUD_FAILURE",
            &[],
            Failure(DatabricksClusterTerminated),
        ),
        (
            "A_CODE_FROM_2030",
            "CLIENT_ERROR",
            &[],
            Failure(DatabricksConfigurationError),
        ),
        (
            "A_CODE_FROM_2030",
            "SERVICE_FAULT",
            &[],
            Failure(DatabricksServiceFault),
        ),
        (
            "A_CODE_FROM_2030",
            "A_TYPE_FROM_2030",
            &[],
            Failure(DatabricksUnclassified),
        ),
        ("A_CODE_FROM_2030", "", &[], Failure(DatabricksUnclassified)),
    ];
    for (code, kind, params, expected) in cases {
        assert_eq!(
            classify(&reason(code, kind, params)),
            *expected,
            "{code} {kind} {params:?}"
        );
    }
}

#[test]
fn the_table_has_every_documented_code_once() {
    let codes: Vec<&str> = known_codes().collect();
    assert_eq!(codes.len(), 187);
    let mut unique = codes.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 187);
}

#[test]
fn error_type_names_round_trip() {
    for t in ErrorType::ALL {
        assert_eq!(t.as_str().parse::<ErrorType>(), Ok(t));
    }
    assert!("DatabricksSomething".parse::<ErrorType>().is_err());
}

/// Every code under each failure type: the whole mapping, reviewed as a snapshot.
#[test]
fn the_whole_mapping() {
    let mut mapping: BTreeMap<String, BTreeMap<&str, String>> = BTreeMap::new();
    for code in known_codes() {
        let row = mapping.entry(code.to_owned()).or_default();
        for kind in ["CLIENT_ERROR", "SERVICE_FAULT", "CLOUD_FAILURE"] {
            let shown = match classify(&reason(code, kind, &[])) {
                Classification::Expected => "expected".to_owned(),
                Classification::Failure(t) => t.as_str().to_owned(),
            };
            row.insert(kind, shown);
        }
    }
    // One line per code: the same type under every type, or each type's.
    let lines: Vec<String> = mapping
        .into_iter()
        .map(|(code, row)| {
            let values: Vec<&String> = row.values().collect();
            if values.iter().all(|v| *v == values[0]) {
                format!("{code}: {}", values[0])
            } else {
                format!(
                    "{code}: {}",
                    row.iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                )
            }
        })
        .collect();
    insta::assert_snapshot!(lines.join("\n"));
}
