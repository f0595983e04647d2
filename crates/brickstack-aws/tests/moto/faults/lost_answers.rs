//! A create whose answer is lost after moto applied it, once per AWS kind that creates: the
//! engine applies the kind's first resource (with what it depends on) through the proxy, which
//! drops the connection of that kind's create call the first time; afterwards every address of
//! the selection has exactly one object in moto (counted directly, by brickstack's address tag,
//! or by name for kinds that carry no tags) and the next plan is empty.
//!
//! One row per kind: the operation whose answer is lost → the kind. A resend of a
//! non-idempotent create (VPC, EIP, key, ...) leaves a duplicate; one of a create that fails on
//! an existing object (IAM, routes, aliases) fails the apply. Either is caught here.

use std::collections::BTreeSet;
use std::time::Instant;

use aws_sdk_ec2::types::Filter;
use brickstack_aws::AwsClients;
use brickstack_graph::{ResourceGraph, Value};
use brickstack_testkit::{LostAnswer, unique_name};

use super::{ProxiedAccount, apply, apply_problems, plan_problems, reference_graphs, request};

/// Which graph holds the kind: the environment's, or its bootstrap graph (the lock table).
#[derive(Debug, Clone, Copy)]
enum Graph {
    Environment,
    Bootstrap,
}

struct Row {
    /// `service:Operation` whose first answer is lost.
    operation: &'static str,
    kind: &'static str,
    graph: Graph,
}

macro_rules! lost_answer_rows {
    ($($test:ident: $operation:literal => $kind:literal $(in $graph:ident)?;)*) => {
        $(
            #[tokio::test]
            async fn $test() {
                check(Row {
                    operation: $operation,
                    kind: $kind,
                    graph: lost_answer_rows!(@graph $($graph)?),
                })
                .await;
            }
        )*
    };
    (@graph) => { Graph::Environment };
    (@graph $graph:ident) => { Graph::$graph };
}

lost_answer_rows! {
    lost_create_answer_vpc: "ec2:CreateVpc" => "aws_vpc";
    lost_create_answer_subnet: "ec2:CreateSubnet" => "aws_subnet";
    lost_create_answer_internet_gateway: "ec2:CreateInternetGateway" => "aws_internet_gateway";
    lost_create_answer_eip: "ec2:AllocateAddress" => "aws_eip";
    lost_create_answer_nat_gateway: "ec2:CreateNatGateway" => "aws_nat_gateway";
    lost_create_answer_route_table: "ec2:CreateRouteTable" => "aws_route_table";
    lost_create_answer_route: "ec2:CreateRoute" => "aws_route";
    lost_create_answer_route_table_association: "ec2:AssociateRouteTable" => "aws_route_table_association";
    // Adopting the default group creates nothing; its first write is the tags.
    lost_create_answer_default_security_group: "ec2:CreateTags" => "aws_default_security_group";
    lost_create_answer_flow_log: "ec2:CreateFlowLogs" => "aws_flow_log";
    lost_create_answer_vpc_endpoint: "ec2:CreateVpcEndpoint" => "aws_vpc_endpoint";
    lost_create_answer_kms_key: "kms:CreateKey" => "aws_kms_key";
    lost_create_answer_kms_alias: "kms:CreateAlias" => "aws_kms_alias";
    lost_create_answer_s3_bucket: "s3:CreateBucket" => "aws_s3_bucket";
    lost_create_answer_s3_bucket_versioning: "s3:PutBucketVersioning" => "aws_s3_bucket_versioning";
    lost_create_answer_s3_bucket_policy: "s3:PutBucketPolicy" => "aws_s3_bucket_policy";
    lost_create_answer_s3_bucket_public_access_block: "s3:PutPublicAccessBlock" => "aws_s3_bucket_public_access_block";
    lost_create_answer_s3_bucket_encryption: "s3:PutBucketEncryption" => "aws_s3_bucket_server_side_encryption_configuration";
    lost_create_answer_s3_bucket_lifecycle: "s3:PutBucketLifecycleConfiguration" => "aws_s3_bucket_lifecycle_configuration";
    lost_create_answer_iam_role: "iam:CreateRole" => "aws_iam_role";
    lost_create_answer_iam_policy: "iam:CreatePolicy" => "aws_iam_policy";
    lost_create_answer_iam_role_policy_attachment: "iam:AttachRolePolicy" => "aws_iam_role_policy_attachment";
    lost_create_answer_iam_role_policy: "iam:PutRolePolicy" => "aws_iam_role_policy";
    lost_create_answer_iam_instance_profile: "iam:CreateInstanceProfile" => "aws_iam_instance_profile";
    lost_create_answer_dynamodb_table: "dynamodb:CreateTable" => "aws_dynamodb_table" in Bootstrap;
}

async fn check(row: Row) {
    let test_name = format!("lost_create_answer {}", row.kind);
    let Some(account) = ProxiedAccount::new(&test_name).await else {
        return;
    };
    let prefix = unique_name("lost");
    let (environment, bootstrap) = reference_graphs(&prefix);
    let graph = match row.graph {
        Graph::Environment => &environment,
        Graph::Bootstrap => &bootstrap,
    };
    let target = graph
        .resources()
        .find(|r| r.kind() == row.kind)
        .unwrap_or_else(|| panic!("the graph has no `{}`", row.kind))
        .address
        .to_string();
    let selection = with_dependencies(graph, &target);
    let targets = [target.clone()];
    let request = request(graph, &targets, &[]);
    let engine = account.engine();

    account
        .proxy
        .lose_answers(row.operation, 1, LostAnswer::Drop);
    let started = Instant::now();
    let applied = apply(&engine, &request).await;
    let elapsed = started.elapsed();
    let mut problems: Vec<String> = apply_problems(&applied).into_iter().collect();
    let sent = account.proxy.stats().get(row.operation);
    if sent.answers_lost != 1 {
        problems.push(format!(
            "the proxy lost {} answers of `{}` (expected 1): is it `{}`'s create call?",
            sent.answers_lost, row.operation, row.kind
        ));
    }

    let mut duplicates = 0;
    for address in &selection {
        match count(&account.direct, graph, address).await {
            Ok(1) => {}
            Ok(n) => {
                duplicates += n.saturating_sub(1);
                problems.push(format!("{address}: {n} objects in moto (expected 1)"));
            }
            Err(e) => problems.push(format!("{address}: cannot count: {e}")),
        }
    }
    problems.extend(plan_problems(&engine.plan(&request).await));

    eprintln!(
        "fault-figures: lost-answer kind={} operation={} sent={} resources={} duplicates={} apply={} plan_empty={} seconds={:.1}",
        row.kind,
        row.operation,
        sent.forwarded,
        selection.len(),
        duplicates,
        if apply_problems(&applied).is_none() {
            "ok"
        } else {
            "failed"
        },
        !problems
            .iter()
            .any(|p| p.starts_with("plan failed") || p.starts_with("the plan")),
        elapsed.as_secs_f64(),
    );
    assert!(
        problems.is_empty(),
        "`{}`'s answer lost once while applying `{target}`:\n- {}",
        row.operation,
        problems.join("\n- ")
    );
}

/// `target` and everything it depends on, directly or not: what `--target` applies.
fn with_dependencies(graph: &ResourceGraph, target: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![target.to_string()];
    while let Some(address) = stack.pop() {
        if !seen.insert(address.clone()) {
            continue;
        }
        let resource = graph
            .resources()
            .find(|r| r.address.to_string() == address)
            .expect("an address of the graph");
        stack.extend(
            graph
                .dependencies(&resource.address)
                .into_iter()
                .map(ToString::to_string),
        );
    }
    seen
}

/// The resource at `address`.
fn resource<'g>(graph: &'g ResourceGraph, address: &str) -> &'g brickstack_graph::Resource {
    graph
        .resources()
        .find(|r| r.address.to_string() == address)
        .expect("an address of the graph")
}

/// A literal string attribute of `address` (names are literals in the generator's graphs).
fn literal(graph: &ResourceGraph, address: &str, attribute: &str) -> Result<String, String> {
    match resource(graph, address).attributes.get(attribute) {
        Some(Value::Str(s)) => Ok(s.clone()),
        other => Err(format!("`{attribute}` is not a literal string: {other:?}")),
    }
}

/// The address an attribute of `address` refers to.
fn referenced(graph: &ResourceGraph, address: &str, attribute: &str) -> Result<String, String> {
    match resource(graph, address).attributes.get(attribute) {
        Some(Value::Ref(r)) => Ok(r.address.to_string()),
        other => Err(format!("`{attribute}` is not a reference: {other:?}")),
    }
}

fn tagged(address: &str) -> Filter {
    Filter::builder()
        .name("tag:brickstack:address")
        .values(address)
        .build()
}

fn failed(operation: &str, e: impl std::error::Error) -> String {
    format!(
        "{operation}: {}",
        aws_sdk_ec2::error::DisplayErrorContext(&e)
    )
}

/// How many objects moto holds for `address`, asked of moto directly: by brickstack's address
/// tag for the kinds that carry tags, by name for the others; a setting of which a bucket has at
/// most one counts 1 when present.
async fn count(
    clients: &AwsClients,
    graph: &ResourceGraph,
    address: &str,
) -> Result<usize, String> {
    let kind = address.split('.').next().unwrap_or_default();
    let ec2 = &clients.ec2;
    let s3 = &clients.s3;
    let iam = &clients.iam;
    let present = |found: bool| usize::from(found);
    Ok(match kind {
        "aws_vpc" => ec2
            .describe_vpcs()
            .filters(tagged(address))
            .send()
            .await
            .map_err(|e| failed("DescribeVpcs", e))?
            .vpcs()
            .len(),
        "aws_subnet" => ec2
            .describe_subnets()
            .filters(tagged(address))
            .send()
            .await
            .map_err(|e| failed("DescribeSubnets", e))?
            .subnets()
            .len(),
        "aws_internet_gateway" => ec2
            .describe_internet_gateways()
            .filters(tagged(address))
            .send()
            .await
            .map_err(|e| failed("DescribeInternetGateways", e))?
            .internet_gateways()
            .len(),
        "aws_eip" => ec2
            .describe_addresses()
            .filters(tagged(address))
            .send()
            .await
            .map_err(|e| failed("DescribeAddresses", e))?
            .addresses()
            .len(),
        "aws_nat_gateway" => ec2
            .describe_nat_gateways()
            .filter(tagged(address))
            .send()
            .await
            .map_err(|e| failed("DescribeNatGateways", e))?
            .nat_gateways()
            .iter()
            .filter(|n| !matches!(n.state().map(|s| s.as_str()), Some("deleted" | "deleting")))
            .count(),
        "aws_route_table" => ec2
            .describe_route_tables()
            .filters(tagged(address))
            .send()
            .await
            .map_err(|e| failed("DescribeRouteTables", e))?
            .route_tables()
            .len(),
        "aws_default_security_group" => ec2
            .describe_security_groups()
            .filters(tagged(address))
            .send()
            .await
            .map_err(|e| failed("DescribeSecurityGroups", e))?
            .security_groups()
            .len(),
        "aws_flow_log" => ec2
            .describe_flow_logs()
            .filter(tagged(address))
            .send()
            .await
            .map_err(|e| failed("DescribeFlowLogs", e))?
            .flow_logs()
            .len(),
        "aws_vpc_endpoint" => ec2
            .describe_vpc_endpoints()
            .filters(tagged(address))
            .send()
            .await
            .map_err(|e| failed("DescribeVpcEndpoints", e))?
            .vpc_endpoints()
            .iter()
            .filter(|e| !matches!(e.state().map(|s| s.as_str()), Some("deleted" | "deleting")))
            .count(),
        // Routes and associations carry no tags: counted in the tables tagged with the
        // referenced table's address, and by the subnets tagged with the referenced subnet's.
        "aws_route" => {
            let table = referenced(graph, address, "route_table_id")?;
            let destination = literal(graph, address, "destination_cidr_block")?;
            ec2.describe_route_tables()
                .filters(tagged(&table))
                .send()
                .await
                .map_err(|e| failed("DescribeRouteTables", e))?
                .route_tables()
                .iter()
                .flat_map(|t| t.routes())
                .filter(|r| r.destination_cidr_block() == Some(destination.as_str()))
                .count()
        }
        "aws_route_table_association" => {
            let subnet = referenced(graph, address, "subnet_id")?;
            let subnets: BTreeSet<String> = ec2
                .describe_subnets()
                .filters(tagged(&subnet))
                .send()
                .await
                .map_err(|e| failed("DescribeSubnets", e))?
                .subnets()
                .iter()
                .filter_map(|s| s.subnet_id().map(str::to_string))
                .collect();
            ec2.describe_route_tables()
                .send()
                .await
                .map_err(|e| failed("DescribeRouteTables", e))?
                .route_tables()
                .iter()
                .flat_map(|t| t.associations())
                .filter(|a| a.subnet_id().is_some_and(|s| subnets.contains(s)))
                .count()
        }
        "aws_kms_key" => {
            let keys = clients
                .kms
                .list_keys()
                .limit(1000)
                .send()
                .await
                .map_err(|e| failed("ListKeys", e))?;
            let mut n = 0;
            for key in keys.keys() {
                let id = key.key_id().unwrap_or_default();
                let described = clients
                    .kms
                    .describe_key()
                    .key_id(id)
                    .send()
                    .await
                    .map_err(|e| failed("DescribeKey", e))?;
                let pending = described
                    .key_metadata()
                    .and_then(|m| m.key_state())
                    .is_some_and(|s| s.as_str() == "PendingDeletion");
                let tags = clients
                    .kms
                    .list_resource_tags()
                    .key_id(id)
                    .send()
                    .await
                    .map_err(|e| failed("ListResourceTags", e))?;
                let ours = tags
                    .tags()
                    .iter()
                    .any(|t| t.tag_key() == "brickstack:address" && t.tag_value() == address);
                n += usize::from(ours && !pending);
            }
            n
        }
        "aws_kms_alias" => {
            let name = literal(graph, address, "name")?;
            clients
                .kms
                .list_aliases()
                .limit(1000)
                .send()
                .await
                .map_err(|e| failed("ListAliases", e))?
                .aliases()
                .iter()
                .filter(|a| a.alias_name() == Some(name.as_str()))
                .count()
        }
        "aws_s3_bucket" => {
            let name = literal(graph, address, "bucket")?;
            s3.list_buckets()
                .send()
                .await
                .map_err(|e| failed("ListBuckets", e))?
                .buckets()
                .iter()
                .filter(|b| b.name() == Some(name.as_str()))
                .count()
        }
        "aws_s3_bucket_versioning"
        | "aws_s3_bucket_policy"
        | "aws_s3_bucket_public_access_block"
        | "aws_s3_bucket_server_side_encryption_configuration"
        | "aws_s3_bucket_lifecycle_configuration" => {
            let bucket = literal(graph, &referenced(graph, address, "bucket")?, "bucket")?;
            present(match kind {
                "aws_s3_bucket_versioning" => {
                    match s3.get_bucket_versioning().bucket(&bucket).send().await {
                        Ok(out) => out.status().is_some(),
                        // moto 5.2 answers `<GetBucketVersioningResponse>`, a root the SDK
                        // refuses (the adapter's read works around it the same way).
                        Err(aws_sdk_s3::error::SdkError::ServiceError(e))
                            if e.raw().status().as_u16() == 200 =>
                        {
                            e.raw()
                                .body()
                                .bytes()
                                .and_then(|b| std::str::from_utf8(b).ok())
                                .is_some_and(|body| body.contains("<Status>Enabled</Status>"))
                        }
                        Err(e) => return Err(failed("GetBucketVersioning", e)),
                    }
                }
                "aws_s3_bucket_policy" => {
                    s3.get_bucket_policy().bucket(&bucket).send().await.is_ok()
                }
                "aws_s3_bucket_public_access_block" => s3
                    .get_public_access_block()
                    .bucket(&bucket)
                    .send()
                    .await
                    .is_ok(),
                "aws_s3_bucket_server_side_encryption_configuration" => s3
                    .get_bucket_encryption()
                    .bucket(&bucket)
                    .send()
                    .await
                    .is_ok(),
                _ => s3
                    .get_bucket_lifecycle_configuration()
                    .bucket(&bucket)
                    .send()
                    .await
                    .is_ok(),
            })
        }
        "aws_iam_role" => {
            let name = literal(graph, address, "name")?;
            iam.list_roles()
                .max_items(1000)
                .send()
                .await
                .map_err(|e| failed("ListRoles", e))?
                .roles()
                .iter()
                .filter(|r| r.role_name() == name)
                .count()
        }
        "aws_iam_policy" => {
            let name = literal(graph, address, "name")?;
            iam.list_policies()
                .scope(aws_sdk_iam::types::PolicyScopeType::Local)
                .max_items(1000)
                .send()
                .await
                .map_err(|e| failed("ListPolicies", e))?
                .policies()
                .iter()
                .filter(|p| p.policy_name() == Some(name.as_str()))
                .count()
        }
        "aws_iam_instance_profile" => {
            let name = literal(graph, address, "name")?;
            iam.list_instance_profiles()
                .max_items(1000)
                .send()
                .await
                .map_err(|e| failed("ListInstanceProfiles", e))?
                .instance_profiles()
                .iter()
                .filter(|p| p.instance_profile_name() == name)
                .count()
        }
        "aws_iam_role_policy_attachment" => {
            let role = literal(graph, &referenced(graph, address, "role")?, "name")?;
            let policy = literal(graph, &referenced(graph, address, "policy_arn")?, "name")?;
            iam.list_attached_role_policies()
                .role_name(&role)
                .send()
                .await
                .map_err(|e| failed("ListAttachedRolePolicies", e))?
                .attached_policies()
                .iter()
                .filter(|p| p.policy_name() == Some(policy.as_str()))
                .count()
        }
        "aws_iam_role_policy" => {
            let role = literal(graph, &referenced(graph, address, "role")?, "name")?;
            let name = literal(graph, address, "name")?;
            iam.list_role_policies()
                .role_name(&role)
                .send()
                .await
                .map_err(|e| failed("ListRolePolicies", e))?
                .policy_names()
                .iter()
                .filter(|p| **p == name)
                .count()
        }
        "aws_dynamodb_table" => {
            let name = literal(graph, address, "name")?;
            clients
                .dynamodb
                .list_tables()
                .send()
                .await
                .map_err(|e| failed("ListTables", e))?
                .table_names()
                .iter()
                .filter(|t| **t == name)
                .count()
        }
        other => return Err(format!("no way to count `{other}` objects")),
    })
}
