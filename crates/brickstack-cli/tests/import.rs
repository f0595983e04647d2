//! `brickstack import` through the built binary, against moto and brickstack's Databricks
//! emulator.
//!
//! The quickstart test builds a deployment the way the seed's quickstart does, outside
//! brickstack: an AWS network (VPC, private and public subnets, internet gateway, private route
//! table and its associations), the workspace root bucket and the cross-account role, then,
//! through the Databricks account API, the credentials, the storage configuration, the network
//! and the workspace, and in the workspace a cluster policy. No object carries brickstack's tags and no state exists. `import
//! --discover` proposes them, `--yes` records them, `apply` brings the rest; nothing made
//! beforehand is made again, and the next plan is empty.
//!
//! The EC2 objects and the bucket are made with the AWS adapter's `create` (the SDK underneath;
//! only a `Name` tag, no brickstack tag, no state), since the CLI's tests have no EC2 SDK types
//! to build tags with; the role with the IAM SDK client, the account objects with the Databricks
//! account client.

mod support;

use brickstack_aws::AwsProvider;
use brickstack_databricks::account::networks::NewNetwork;
use brickstack_databricks::account::storage::{NewStorageConfiguration, RootBucketInfo};
use brickstack_databricks::account::workspaces::NewWorkspace;
use brickstack_databricks::workspace::policies::PolicySpec;
use brickstack_databricks::{AccountClient, Credentials, RetryPolicy, WorkspaceClient};
use brickstack_provider::{CreateRequest, Provider, SecretValue};
use brickstack_testkit::{
    DatabricksEndpoint, MotoEndpoint, require_databricks, require_moto, unique_account_id,
};
use serde_json::{Value, json};
use support::{Cli, emulator_env, local_spec, moto_clients, text};

/// The local environment under fresh names; the VPC named after the prefix too (its default
/// name is the same in every environment).
fn spec(environment: &str, prefix: &str, account_id: &str) -> String {
    format!(
        "{}\n[network]\nname = \"{prefix}-vpc\"\n",
        local_spec(environment, prefix, account_id)
    )
}

struct Fixture {
    moto: MotoEndpoint,
    databricks: DatabricksEndpoint,
    environment: String,
    prefix: String,
    account_id: String,
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new(moto: MotoEndpoint, databricks: DatabricksEndpoint, name: &str) -> Self {
        let suffix = format!("{:08x}", fastrand::u32(..));
        let fixture = Fixture {
            moto,
            databricks,
            environment: format!("{name}{suffix}"),
            prefix: format!("bs-{suffix}"),
            account_id: unique_account_id(),
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::write(
            fixture.dir.path().join("env.toml"),
            spec(&fixture.environment, &fixture.prefix, &fixture.account_id),
        )
        .unwrap();
        fixture
    }

    fn cli(&self) -> Cli<'_> {
        Cli {
            dir: self.dir.path(),
            env: emulator_env(&self.moto, &self.databricks),
        }
    }

    fn account(&self) -> AccountClient {
        AccountClient::new(
            &self.databricks.url,
            &self.account_id,
            Credentials::OAuthM2m {
                client_id: self.databricks.client_id.clone(),
                client_secret: SecretValue::new(self.databricks.client_secret.as_str()),
            },
            RetryPolicy::default(),
        )
        .unwrap()
    }

    fn state(&self) -> Option<Value> {
        let path = self
            .dir
            .path()
            .join(format!("state/{}.json", self.environment));
        std::fs::read_to_string(path)
            .ok()
            .map(|t| serde_json::from_str(&t).unwrap())
    }
}

/// An object made outside brickstack: no brickstack tag, no record anywhere.
async fn outside(aws: &AwsProvider, kind: &str, attributes: Value) -> String {
    let Value::Object(attributes) = attributes else {
        unreachable!("an object literal")
    };
    aws.create(&CreateRequest {
        address: format!("quickstart.{kind}"),
        kind: kind.into(),
        attributes,
        lookup: Default::default(),
    })
    .await
    .unwrap_or_else(|e| panic!("making the quickstart's {kind}: {e}"))
    .object_id
}

/// The addresses the quickstart made, with the ids it got.
async fn quickstart(f: &Fixture) -> Vec<(&'static str, String)> {
    let clients = moto_clients(&f.moto);
    let aws = AwsProvider::new(&clients);
    let p = &f.prefix;
    let name = |n: &str| json!({ "Name": n });
    let mut made = Vec::new();

    let vpc = outside(
        &aws,
        "aws_vpc",
        json!({"cidr_block": "10.0.0.0/16", "tags": name(&format!("{p}-vpc"))}),
    )
    .await;
    made.push(("aws_vpc.main", vpc.clone()));
    let mut private = Vec::new();
    for (address, az, cidr) in [
        ("aws_subnet.private-eu-west-1a", "eu-west-1a", "10.0.1.0/24"),
        ("aws_subnet.private-eu-west-1b", "eu-west-1b", "10.0.2.0/24"),
        ("aws_subnet.private-eu-west-1c", "eu-west-1c", "10.0.3.0/24"),
    ] {
        let id = outside(
            &aws,
            "aws_subnet",
            json!({"vpc_id": vpc, "cidr_block": cidr, "availability_zone": az,
                   "tags": name(&format!("{p}-vpc-private-{az}"))}),
        )
        .await;
        private.push(id.clone());
        made.push((address, id));
    }
    let public = outside(
        &aws,
        "aws_subnet",
        json!({"vpc_id": vpc, "cidr_block": "10.0.101.0/24", "availability_zone": "eu-west-1c",
               "map_public_ip_on_launch": true, "tags": name(&format!("{p}-vpc-public-eu-west-1c"))}),
    )
    .await;
    made.push(("aws_subnet.public-eu-west-1c", public));
    let igw = outside(
        &aws,
        "aws_internet_gateway",
        json!({"vpc_id": vpc, "tags": name(&format!("{p}-vpc"))}),
    )
    .await;
    made.push(("aws_internet_gateway.main", igw));
    let table = outside(
        &aws,
        "aws_route_table",
        json!({"vpc_id": vpc, "tags": name(&format!("{p}-vpc-private"))}),
    )
    .await;
    made.push(("aws_route_table.private", table.clone()));
    for (address, subnet) in [
        "aws_route_table_association.private-eu-west-1a",
        "aws_route_table_association.private-eu-west-1b",
        "aws_route_table_association.private-eu-west-1c",
    ]
    .into_iter()
    .zip(&private)
    {
        let id = outside(
            &aws,
            "aws_route_table_association",
            json!({"subnet_id": subnet, "route_table_id": table}),
        )
        .await;
        made.push((address, id));
    }
    // Every VPC has its default security group: the quickstart's network uses it.
    let groups = clients.ec2.describe_security_groups().send().await.unwrap();
    let sg = groups
        .security_groups()
        .iter()
        .find(|g| g.vpc_id() == Some(vpc.as_str()) && g.group_name() == Some("default"))
        .and_then(|g| g.group_id())
        .expect("the VPC's default security group")
        .to_string();
    made.push(("aws_default_security_group.main", sg.clone()));

    let bucket = format!("{p}-rootbucket");
    outside(&aws, "aws_s3_bucket", json!({ "bucket": bucket })).await;
    made.push(("aws_s3_bucket.workspace_root", bucket.clone()));
    let role_name = format!("{p}-cross-account-role");
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::414351767826:root"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": f.account_id}}}]});
    let role = clients
        .iam
        .create_role()
        .role_name(&role_name)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap();
    let role_arn = role.role().unwrap().arn().to_string();
    made.push(("aws_iam_role.cross_account", role_name));

    let account = f.account();
    let credentials = account
        .create_credential(&format!("{p}-creds"), &role_arn)
        .await
        .unwrap();
    made.push((
        "databricks_mws_credentials.workspace",
        credentials.credentials_id.clone(),
    ));
    let storage = account
        .create_storage_configuration(&NewStorageConfiguration {
            storage_configuration_name: format!("{p}-storage"),
            root_bucket_info: RootBucketInfo {
                bucket_name: Some(bucket),
            },
            role_arn: None,
        })
        .await
        .unwrap();
    made.push((
        "databricks_mws_storage_configurations.workspace_root",
        storage.storage_configuration_id.clone(),
    ));
    let network = account
        .create_network(&NewNetwork {
            network_name: format!("{p}-network"),
            vpc_id: vpc,
            subnet_ids: private,
            security_group_ids: vec![sg],
            vpc_endpoints: None,
        })
        .await
        .unwrap();
    let network_id = network.network_id.clone();
    made.push(("databricks_mws_networks.workspace", network_id.clone()));
    let workspace = account
        .create_workspace(&NewWorkspace {
            workspace_name: "local".into(),
            deployment_name: None,
            aws_region: "eu-west-1".into(),
            pricing_tier: Some("PREMIUM".into()),
            credentials_id: Some(credentials.credentials_id),
            storage_configuration_id: Some(storage.storage_configuration_id),
            network_id: Some(network_id),
            private_access_settings_id: None,
            managed_services_customer_managed_key_id: None,
            storage_customer_managed_key_id: None,
            custom_tags: None,
        })
        .await
        .unwrap();
    made.push((
        "databricks_mws_workspaces.main",
        workspace.workspace_id.to_string(),
    ));

    // Inside the workspace, once it runs: a cluster policy named as the spec's, with another
    // definition (apply edits it in place). Its lookup scope is the workspace found.
    let running = account
        .wait_running(workspace.workspace_id, std::time::Duration::from_secs(60))
        .await
        .unwrap();
    let inside = WorkspaceClient::new(
        &running.url(&f.databricks.url).expect("the workspace's URL"),
        Credentials::OAuthM2m {
            client_id: f.databricks.client_id.clone(),
            client_secret: SecretValue::new(f.databricks.client_secret.as_str()),
        },
        RetryPolicy::default(),
    )
    .unwrap();
    let policy = inside
        .create_policy(&PolicySpec {
            name: "local-small".into(),
            definition: Some(
                r#"{"autotermination_minutes": {"type": "fixed", "value": 30}}"#.into(),
            ),
            ..Default::default()
        })
        .await
        .unwrap();
    made.push((
        "databricks_cluster_policy.small",
        format!("{}/{policy}", workspace.workspace_id),
    ));
    made
}

#[tokio::test(flavor = "multi_thread")]
async fn a_quickstart_deployment_is_discovered_imported_and_converges_without_recreating_anything()
{
    const TEST: &str =
        "a_quickstart_deployment_is_discovered_imported_and_converges_without_recreating_anything";
    let Some(moto) = require_moto(TEST) else {
        return;
    };
    let Some(databricks) = require_databricks(TEST) else {
        return;
    };
    let f = Fixture::new(moto, databricks, "imp");
    let made = quickstart(&f).await;
    let cli = f.cli();

    // Without --yes: proposed, shown with the plan, nothing written.
    let proposed = cli
        .run(&["import", "--file", "env.toml", "--discover"])
        .await;
    assert!(proposed.status.success(), "{}", text(&proposed));
    let stdout = String::from_utf8_lossy(&proposed.stdout).to_string();
    for (address, id) in &made {
        assert!(
            stdout.contains(&format!("  {address} <- {id}\n")),
            "{address} <- {id} is not proposed:\n{stdout}"
        );
    }
    assert!(stdout.contains("Nothing was recorded"), "{stdout}");
    assert!(stdout.contains("Plan: "), "the reconciling plan: {stdout}");
    assert!(f.state().is_none(), "without --yes nothing is recorded");

    let recorded = cli
        .run(&["import", "--file", "env.toml", "--discover", "--yes"])
        .await;
    assert!(recorded.status.success(), "{}", text(&recorded));
    let state = f.state().expect("the imports are recorded");
    assert_eq!(state["serial"], 1, "one commit for the whole discovery");
    for (address, id) in &made {
        assert_eq!(
            state["resources"][address]["object_id"], *id,
            "{address} in state"
        );
    }

    // The reconciling plan updates what it imported in place: nothing replaced or deleted.
    let reconcile = cli.run(&["plan", "--file", "env.toml", "--json"]).await;
    assert!(reconcile.status.success(), "{}", text(&reconcile));
    let plan: Value = serde_json::from_slice(&reconcile.stdout).unwrap();
    let summary = &plan["summary"];
    assert_eq!(summary["replace"], 0, "{summary:#}");
    assert_eq!(summary["delete"], 0, "{summary:#}");
    assert!(
        summary["update"].as_u64().unwrap() > 0,
        "brickstack's tags at least: {summary:#}"
    );

    let apply = cli
        .run(&["apply", "--file", "env.toml", "--auto-approve"])
        .await;
    assert!(apply.status.success(), "apply failed:\n{}", text(&apply));
    let state = f.state().unwrap();
    for (address, id) in &made {
        assert_eq!(
            state["resources"][address]["object_id"], *id,
            "{address} was recreated by the apply"
        );
    }
    let replan = cli
        .run(&["plan", "--file", "env.toml", "--detailed-exitcode"])
        .await;
    assert_eq!(
        replan.status.code(),
        Some(0),
        "the plan after apply is not empty:\n{}",
        text(&replan)
    );

    // One object each in the emulators: none was made a second time beside the first.
    let clients = moto_clients(&f.moto);
    let vpc_name = format!("{}-vpc", f.prefix);
    let vpcs = clients.ec2.describe_vpcs().send().await.unwrap();
    let named: Vec<_> = vpcs
        .vpcs()
        .iter()
        .filter(|v| {
            v.tags()
                .iter()
                .any(|t| t.key() == Some("Name") && t.value() == Some(vpc_name.as_str()))
        })
        .collect();
    assert_eq!(named.len(), 1, "VPCs named {vpc_name}: {named:?}");
    let vpc = &made[0].1;
    let subnets = clients.ec2.describe_subnets().send().await.unwrap();
    let mut cidrs: Vec<&str> = subnets
        .subnets()
        .iter()
        .filter(|s| s.vpc_id() == Some(vpc.as_str()))
        .filter_map(|s| s.cidr_block())
        .collect();
    cidrs.sort();
    assert_eq!(
        cidrs,
        ["10.0.1.0/24", "10.0.101.0/24", "10.0.2.0/24", "10.0.3.0/24"]
    );
    let account = f.account();
    assert_eq!(account.list_workspaces().await.unwrap().len(), 1);
    assert_eq!(
        account.list_credentials().await.unwrap().len(),
        2,
        "the workspace's and log delivery's"
    );
    assert_eq!(
        account
            .list_networks()
            .await
            .unwrap()
            .iter()
            .filter(|n| n.network_name == format!("{}-network", f.prefix))
            .count(),
        1
    );
    assert_eq!(
        account
            .list_storage_configurations()
            .await
            .unwrap()
            .iter()
            .filter(|s| s.storage_configuration_name == format!("{}-storage", f.prefix))
            .count(),
        1
    );

    let workspace_url =
        state["resources"]["databricks_mws_workspaces.main"]["attributes"]["workspace_url"]
            .as_str()
            .unwrap();
    let inside = WorkspaceClient::new(
        workspace_url,
        Credentials::OAuthM2m {
            client_id: f.databricks.client_id.clone(),
            client_secret: SecretValue::new(f.databricks.client_secret.as_str()),
        },
        RetryPolicy::default(),
    )
    .unwrap();
    let policies = inside.list_policies().await.unwrap();
    let small: Vec<_> = policies
        .iter()
        .filter(|p| p.spec.name == "local-small")
        .collect();
    assert_eq!(small.len(), 1, "{small:?}");
    assert!(
        small[0]
            .spec
            .definition
            .as_deref()
            .unwrap_or_default()
            .contains("range"),
        "apply edited the quickstart's policy in place: {small:?}"
    );

    let destroy = cli
        .run(&[
            "destroy",
            "--file",
            "env.toml",
            "--auto-approve",
            "--destroy-data",
        ])
        .await;
    assert!(
        destroy.status.success(),
        "destroy failed:\n{}",
        text(&destroy)
    );
}

/// The `error:` and `hint:` lines of a run (stderr also carries the debug log), with the test's
/// fresh names replaced.
fn error_lines(output: &std::process::Output, f: &Fixture) -> String {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|l| l.starts_with("error:") || l.starts_with("  hint:"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace(&f.prefix, "[prefix]")
        .replace(&f.environment, "[environment]")
}

#[tokio::test(flavor = "multi_thread")]
async fn one_object_is_imported_by_address_and_id_and_bad_imports_are_refused_with_nothing_recorded()
 {
    const TEST: &str = "one_object_is_imported_by_address_and_id_and_bad_imports_are_refused_with_nothing_recorded";
    let Some(moto) = require_moto(TEST) else {
        return;
    };
    let Some(databricks) = require_databricks(TEST) else {
        return;
    };
    let f = Fixture::new(moto, databricks, "imp1");
    let aws = AwsProvider::new(&moto_clients(&f.moto));
    let bucket = format!("{}-rootbucket", f.prefix);
    outside(&aws, "aws_s3_bucket", json!({ "bucket": bucket })).await;
    let cli = f.cli();

    let unknown = cli
        .run(&[
            "import",
            "--file",
            "env.toml",
            "aws_s3_bucket.workspace_rot",
            &bucket,
        ])
        .await;
    assert_eq!(unknown.status.code(), Some(2), "{}", text(&unknown));
    insta::assert_snapshot!("import_unknown_address", error_lines(&unknown, &f));

    let missing = cli
        .run(&[
            "import",
            "--file",
            "env.toml",
            "aws_s3_bucket.workspace_root",
            &format!("{}-nowhere", f.prefix),
        ])
        .await;
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    insta::assert_snapshot!("import_missing_id", error_lines(&missing, &f));
    assert!(f.state().is_none(), "a refused import records nothing");

    let imported = cli
        .run(&[
            "import",
            "--file",
            "env.toml",
            "aws_s3_bucket.workspace_root",
            &bucket,
        ])
        .await;
    assert!(imported.status.success(), "{}", text(&imported));
    let stdout = String::from_utf8_lossy(&imported.stdout);
    assert!(
        stdout.contains(&format!("  aws_s3_bucket.workspace_root <- {bucket}\n")),
        "{stdout}"
    );
    // The reconciling plan: the bucket is updated in place (brickstack's tags), not replaced.
    assert!(
        stdout.contains("~ aws_s3_bucket.workspace_root"),
        "the bucket's update is planned:\n{stdout}"
    );
    let state = f.state().unwrap();
    assert_eq!(state["serial"], 1);
    assert_eq!(
        state["resources"]["aws_s3_bucket.workspace_root"]["object_id"],
        bucket
    );
    assert_eq!(state["resources"].as_object().unwrap().len(), 1);

    let again = cli
        .run(&[
            "import",
            "--file",
            "env.toml",
            "aws_s3_bucket.workspace_root",
            &bucket,
        ])
        .await;
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    insta::assert_snapshot!("import_already_recorded", error_lines(&again, &f));
    assert_eq!(f.state().unwrap()["serial"], 1, "nothing more was written");

    let usage = cli.run(&["import", "--file", "env.toml"]).await;
    assert_eq!(
        usage.status.code(),
        Some(2),
        "ADDRESS and ID, or --discover"
    );

    // The bucket is left as the test found it: removed.
    let clients = moto_clients(&f.moto);
    clients
        .s3
        .delete_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
}
