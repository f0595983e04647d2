//! EC2 VPCs through the official SDK: the round trip proving the harness reaches a real moto.

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use brickstack_testkit::unique_name;

use crate::support::{moto_account, ok};

const ENVIRONMENT_TAG: &str = "brickstack:environment";

async fn create_tagged_vpc(ec2: &Client, cidr: &str, environment: &str) -> String {
    let tags = TagSpecification::builder()
        .resource_type(ResourceType::Vpc)
        .tags(
            Tag::builder()
                .key(ENVIRONMENT_TAG)
                .value(environment)
                .build(),
        )
        .build();
    let created = ok(
        "CreateVpc",
        ec2.create_vpc()
            .cidr_block(cidr)
            .tag_specifications(tags)
            .send()
            .await,
    );
    created
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("CreateVpc returns the VPC id")
        .to_string()
}

fn environment_filter(environment: &str) -> Filter {
    Filter::builder()
        .name(format!("tag:{ENVIRONMENT_TAG}"))
        .values(environment)
        .build()
}

#[tokio::test]
async fn vpc_is_created_found_by_environment_tag_and_deleted() {
    let Some(moto) = moto_account("vpc_is_created_found_by_environment_tag_and_deleted").await
    else {
        return;
    };
    let ec2 = &moto.clients.ec2;
    let environment = unique_name("dev");
    let vpc_id = create_tagged_vpc(ec2, "10.42.0.0/16", &environment).await;

    let found = ok(
        "DescribeVpcs",
        ec2.describe_vpcs()
            .filters(environment_filter(&environment))
            .send()
            .await,
    );
    let [vpc] = found.vpcs() else {
        panic!("expected exactly our VPC, found {:?}", found.vpcs());
    };
    assert_eq!(vpc.vpc_id(), Some(vpc_id.as_str()));
    assert_eq!(vpc.cidr_block(), Some("10.42.0.0/16"));
    assert_eq!(vpc.owner_id(), Some(moto.account_id.as_str()));
    let tag = vpc
        .tags()
        .iter()
        .find(|t| t.key() == Some(ENVIRONMENT_TAG))
        .expect("the environment tag");
    assert_eq!(tag.value(), Some(environment.as_str()));

    ok("DeleteVpc", ec2.delete_vpc().vpc_id(&vpc_id).send().await);
    let after = ok(
        "DescribeVpcs",
        ec2.describe_vpcs()
            .filters(environment_filter(&environment))
            .send()
            .await,
    );
    assert!(after.vpcs().is_empty(), "{:?}", after.vpcs());
    let err = ec2
        .describe_vpcs()
        .vpc_ids(&vpc_id)
        .send()
        .await
        .map_err(|e| brickstack_aws::AwsError::sdk("DescribeVpcs", e))
        .expect_err("a deleted VPC is not found");
    assert_eq!(err.code(), Some("InvalidVpcID.NotFound"), "{err}");
}

#[tokio::test]
async fn vpcs_of_one_moto_account_are_invisible_from_another() {
    let test = "vpcs_of_one_moto_account_are_invisible_from_another";
    let Some(a) = moto_account(test).await else {
        return;
    };
    let b = moto_account(test)
        .await
        .expect("moto answered a moment ago");
    let environment = unique_name("shared-name");
    let vpc_id = create_tagged_vpc(&a.clients.ec2, "10.7.0.0/16", &environment).await;

    let seen_by_b = ok(
        "DescribeVpcs",
        b.clients
            .ec2
            .describe_vpcs()
            .filters(environment_filter(&environment))
            .send()
            .await,
    );
    assert!(seen_by_b.vpcs().is_empty(), "{:?}", seen_by_b.vpcs());

    ok(
        "DeleteVpc",
        a.clients.ec2.delete_vpc().vpc_id(&vpc_id).send().await,
    );
}
