//! What is left of an environment in an AWS account: every object still carrying its
//! `brickstack:environment` tag (or, for IAM and S3, whose API lists no tags, named with its
//! prefix), found with plain describe and list calls per service rather than through brickstack's
//! own reads, so a test can prove a destroy left nothing behind.

use aws_sdk_ec2::types::Filter;
use brickstack_provider::{ErrorClass, ProviderError};

use crate::{AwsClients, classify};

const TAG: &str = "brickstack:environment";

/// Every object still carrying the environment's tag (or, for IAM and S3, named with the
/// prefix), found with plain describe calls. Deleted NAT gateways and endpoints that moto keeps
/// listed in a `deleted` state, and keys pending deletion, do not count.
pub async fn leftovers(
    clients: &AwsClients,
    environment: &str,
    prefix: &str,
) -> Result<Vec<String>, ProviderError> {
    let tagged = || {
        Filter::builder()
            .name(format!("tag:{TAG}"))
            .values(environment)
            .build()
    };
    let ec2 = &clients.ec2;
    let mut left = Vec::new();
    let vpcs = ec2
        .describe_vpcs()
        .filters(tagged())
        .send()
        .await
        .map_err(|e| classify("ec2:DescribeVpcs", &e))?;
    left.extend(vpcs.vpcs().iter().map(|v| format!("{v:?}")));
    let subnets = ec2
        .describe_subnets()
        .filters(tagged())
        .send()
        .await
        .map_err(|e| classify("ec2:DescribeSubnets", &e))?;
    left.extend(subnets.subnets().iter().map(|s| format!("{s:?}")));
    let gateways = ec2
        .describe_internet_gateways()
        .filters(tagged())
        .send()
        .await
        .map_err(|e| classify("ec2:DescribeInternetGateways", &e))?;
    left.extend(
        gateways
            .internet_gateways()
            .iter()
            .map(|g| format!("{g:?}")),
    );
    let tables = ec2
        .describe_route_tables()
        .filters(tagged())
        .send()
        .await
        .map_err(|e| classify("ec2:DescribeRouteTables", &e))?;
    left.extend(tables.route_tables().iter().map(|t| format!("{t:?}")));
    let addresses = ec2
        .describe_addresses()
        .filters(tagged())
        .send()
        .await
        .map_err(|e| classify("ec2:DescribeAddresses", &e))?;
    left.extend(addresses.addresses().iter().map(|a| format!("{a:?}")));
    let nats = ec2
        .describe_nat_gateways()
        .filter(tagged())
        .send()
        .await
        .map_err(|e| classify("ec2:DescribeNatGateways", &e))?;
    left.extend(
        nats.nat_gateways()
            .iter()
            .filter(|n| {
                has_tag_ec2(n.tags(), environment)
                    && n.state().map(|s| s.as_str()) != Some("deleted")
            })
            .map(|n| format!("{n:?}")),
    );
    let endpoints = ec2
        .describe_vpc_endpoints()
        .filters(tagged())
        .send()
        .await
        .map_err(|e| classify("ec2:DescribeVpcEndpoints", &e))?;
    left.extend(
        endpoints
            .vpc_endpoints()
            .iter()
            .filter(|e| {
                !e.state()
                    .is_some_and(|s| s.as_str().eq_ignore_ascii_case("deleted"))
            })
            .map(|e| format!("{e:?}")),
    );
    let flow_logs = ec2
        .describe_flow_logs()
        .filter(tagged())
        .send()
        .await
        .map_err(|e| classify("ec2:DescribeFlowLogs", &e))?;
    left.extend(flow_logs.flow_logs().iter().map(|f| format!("{f:?}")));
    let groups = ec2
        .describe_security_groups()
        .filters(tagged())
        .send()
        .await
        .map_err(|e| classify("ec2:DescribeSecurityGroups", &e))?;
    left.extend(groups.security_groups().iter().map(|g| format!("{g:?}")));

    let buckets = clients
        .s3
        .list_buckets()
        .send()
        .await
        .map_err(|e| classify("s3:ListBuckets", &e))?;
    left.extend(
        buckets
            .buckets()
            .iter()
            .filter_map(|b| b.name())
            .filter(|name| name.starts_with(prefix))
            .map(|name| format!("bucket {name}")),
    );

    let keys = clients
        .kms
        .list_keys()
        .send()
        .await
        .map_err(|e| classify("kms:ListKeys", &e))?;
    for key in keys.keys().iter().filter_map(|k| k.key_id()) {
        let described = clients
            .kms
            .describe_key()
            .key_id(key)
            .send()
            .await
            .map_err(|e| classify("kms:DescribeKey", &e))?;
        let pending = described
            .key_metadata()
            .and_then(|m| m.key_state())
            .is_some_and(|s| s.as_str() == "PendingDeletion");
        let tags = clients
            .kms
            .list_resource_tags()
            .key_id(key)
            .send()
            .await
            .map_err(|e| classify("kms:ListResourceTags", &e))?;
        let ours = tags
            .tags()
            .iter()
            .any(|t| t.tag_key() == TAG && t.tag_value() == environment);
        if ours && !pending {
            left.push(format!("KMS key {key}"));
        }
    }

    let iam = &clients.iam;
    let roles = iam
        .list_roles()
        .send()
        .await
        .map_err(|e| classify("iam:ListRoles", &e))?;
    left.extend(
        roles
            .roles()
            .iter()
            .filter(|r| r.role_name().starts_with(prefix))
            .map(|r| format!("role {}", r.role_name())),
    );
    let policies = iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .send()
        .await
        .map_err(|e| classify("iam:ListPolicies", &e))?;
    left.extend(
        policies
            .policies()
            .iter()
            .filter_map(|p| p.policy_name())
            .filter(|name| name.starts_with(prefix))
            .map(|name| format!("policy {name}")),
    );
    let profiles = iam
        .list_instance_profiles()
        .send()
        .await
        .map_err(|e| classify("iam:ListInstanceProfiles", &e))?;
    left.extend(
        profiles
            .instance_profiles()
            .iter()
            .filter(|p| p.instance_profile_name().starts_with(prefix))
            .map(|p| format!("instance profile {}", p.instance_profile_name())),
    );
    let parameters = clients
        .ssm
        .describe_parameters()
        .parameter_filters(
            aws_sdk_ssm::types::ParameterStringFilter::builder()
                .key(format!("tag:{TAG}"))
                .values(environment)
                .build()
                .map_err(|e| ProviderError::new(ErrorClass::Fatal, "BuildError", e.to_string()))?,
        )
        .send()
        .await
        .map_err(|e| classify("ssm:DescribeParameters", &e))?;
    left.extend(
        parameters
            .parameters()
            .iter()
            .filter_map(|p| p.name())
            .map(|name| format!("SSM parameter {name}")),
    );
    Ok(left)
}

/// moto ignores tag filters for NAT gateways: check the tags here.
fn has_tag_ec2(tags: &[aws_sdk_ec2::types::Tag], environment: &str) -> bool {
    tags.iter()
        .any(|t| t.key() == Some(TAG) && t.value() == Some(environment))
}
