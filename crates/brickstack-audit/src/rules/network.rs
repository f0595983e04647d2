//! Configure a customer-managed VPC with regional endpoints.

use crate::live::LiveObservation;
use crate::model::{Practice, Rule, Severity, Source};
use crate::rules::Cx;

pub static CUSTOMER_MANAGED_VPC: Rule = Rule {
    id: "BSA011",
    name: "customer-managed-vpc",
    practice: Practice::CustomerManagedVpc,
    severity: Severity::High,
    title: "The workspace runs in a customer-managed VPC",
    help: "A customer-managed VPC lets the organisation apply its own network controls. brickstack always deploys the workspace into the VPC the spec's `[network]` describes, so a spec always passes; live, the workspace must have a network configuration (`network_id`).",
};

pub static REGIONAL_ENDPOINTS: Rule = Rule {
    id: "BSA012",
    name: "regional-vpc-endpoints",
    practice: Practice::CustomerManagedVpc,
    severity: Severity::Low,
    title: "The VPC reaches AWS services through regional endpoints",
    help: "Regional VPC endpoints to S3, STS and Kinesis keep that traffic off the NAT gateway and the internet: more direct and cheaper than the global endpoints. In the spec, keep `network.endpoints.s3`, `sts` and `kinesis_streams` true (the default). The endpoints are AWS objects that no Databricks API shows; `brickstack plan` reports their drift.",
};

pub(crate) fn spec(cx: &mut Cx<'_, '_>) {
    let endpoints = cx.spec.network.endpoints.clone();
    for (key, on, service) in [
        ("s3", endpoints.s3_gateway, "S3 (gateway)"),
        ("sts", endpoints.sts, "STS"),
        (
            "kinesis_streams",
            endpoints.kinesis_streams,
            "Kinesis Data Streams",
        ),
    ] {
        if !on {
            let location = cx.at(&["network", "endpoints", key]);
            cx.finding(
                &REGIONAL_ENDPOINTS,
                Source::Spec,
                None,
                format!("the VPC has no regional {service} endpoint: that traffic goes through the NAT gateway"),
                format!("network.endpoints.{key} = true"),
                location,
            );
        }
    }
}

pub(crate) fn live(cx: &mut Cx<'_, '_>, seen: &LiveObservation) {
    cx.unverified(
        &REGIONAL_ENDPOINTS,
        Source::Live,
        "VPC endpoints are AWS objects no Databricks API shows; `brickstack plan` reports their drift",
    );
    let Some(network) = cx.seen(&CUSTOMER_MANAGED_VPC, &seen.network_id) else {
        return;
    };
    if network.is_none() {
        let location = cx.at(&["network"]);
        cx.finding(
            &CUSTOMER_MANAGED_VPC,
            Source::Live,
            Some(format!("workspace {}", seen.workspace)),
            "the workspace has no network configuration: it runs in a Databricks-managed VPC",
            "[network] (brickstack deploys the workspace into it; recreate the workspace to move it)",
            location,
        );
    }
}
