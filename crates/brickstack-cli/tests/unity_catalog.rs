//! Unity Catalog in the local environment (`environments/local.toml`: account groups `analysts`,
//! granted on the raw catalog, and `auditors`, granted nothing) through the built binary, against
//! moto and brickstack's Databricks emulator: apply; a table created through the metastore in the
//! catalog brickstack made is visible to a member of `analysts` and not to a member of
//! `auditors`; the next plan is empty; a grant changed by hand is put back by the next apply
//! without touching another principal's; destroy leaves nothing of it.

mod support;

use std::time::Duration;

use brickstack_databricks::account::groups::PatchOp;
use brickstack_databricks::account::service_principals::NewServicePrincipal;
use brickstack_databricks::workspace::unity_catalog::grants::{PermissionsChange, SecurableType};
use brickstack_databricks::workspace::unity_catalog::tables::{ColumnInfo, NewTable};
use brickstack_databricks::{AccountClient, Credentials, ErrorKind, RetryPolicy, WorkspaceClient};
use brickstack_provider::SecretValue;
use brickstack_testkit::{DatabricksEndpoint, require_databricks, require_moto, unique_account_id};
use serde_json::Value;
use support::{Cli, emulator_env, leftover_objects, local_spec, text};

const CATALOG: &str = "bs_local_raw";
const SCHEMA: &str = "bs_local_raw.landing";
const TABLE: &str = "bs_local_raw.landing.events";

fn retry() -> RetryPolicy {
    RetryPolicy {
        budget: Duration::from_secs(10),
        ..RetryPolicy::default()
    }
}

fn oauth(client_id: &str, secret: &str) -> Credentials {
    Credentials::OAuthM2m {
        client_id: client_id.to_string(),
        client_secret: SecretValue::new(secret),
    }
}

/// A workspace client of a new account service principal in the account group `display_name`.
async fn member_of(account: &AccountClient, url: &str, display_name: &str) -> WorkspaceClient {
    let sp = account
        .create_service_principal(&NewServicePrincipal {
            display_name: format!("{display_name}-reader"),
            ..NewServicePrincipal::default()
        })
        .await
        .unwrap();
    let secret = account
        .create_service_principal_secret(&sp.id, None)
        .await
        .unwrap();
    let group = account
        .find_account_group(display_name)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("brickstack made no account group `{display_name}`"));
    account
        .patch_account_group(&group.id, &[PatchOp::add("members", [sp.id.clone()])])
        .await
        .unwrap();
    WorkspaceClient::new(
        url,
        oauth(&sp.application_id.unwrap(), secret.secret.expose()),
        retry(),
    )
    .unwrap()
}

/// The URL of the account's one workspace.
async fn workspace_url(account: &AccountClient, databricks: &DatabricksEndpoint) -> String {
    let workspaces = account.list_workspaces().await.unwrap();
    assert_eq!(workspaces.len(), 1, "{workspaces:?}");
    workspaces[0].url(&databricks.url).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_table_in_a_catalog_brickstack_made_is_visible_to_the_granted_group_only() {
    const TEST: &str = "a_table_in_a_catalog_brickstack_made_is_visible_to_the_granted_group_only";
    let Some(moto) = require_moto(TEST) else {
        return;
    };
    let Some(databricks) = require_databricks(TEST) else {
        return;
    };
    let suffix = format!("{:08x}", fastrand::u32(..));
    let environment = format!("uc{suffix}");
    let prefix = format!("bs-{suffix}");
    let account_id = unique_account_id();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("env.toml"),
        local_spec(&environment, &prefix, &account_id),
    )
    .unwrap();
    let cli = Cli {
        dir: dir.path(),
        env: emulator_env(&moto, &databricks),
    };

    let apply = cli
        .run(&["apply", "--file", "env.toml", "--auto-approve"])
        .await;
    assert!(apply.status.success(), "apply failed:\n{}", text(&apply));

    let state: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(format!("state/{environment}.json"))).unwrap(),
    )
    .unwrap();
    let resources = state["resources"].as_object().unwrap();
    for address in [
        "aws_s3_bucket.metastore",
        "aws_iam_role.unity_catalog",
        "aws_iam_role_policy.unity_catalog",
        "databricks_account_group.analysts",
        "databricks_account_group.auditors",
        "databricks_mws_permission_assignment.analysts",
        "databricks_mws_permission_assignment.auditors",
        "databricks_metastore.this",
        "databricks_metastore_assignment.this",
        "databricks_storage_credential.unity_catalog",
        "databricks_external_location.raw",
        "databricks_external_location.prepared",
        "databricks_external_location.trusted",
        "databricks_catalog.raw",
        "databricks_schema.raw_landing",
        "databricks_grants.catalog_raw",
        "databricks_grants.schema_raw_landing",
        "databricks_system_schema.access",
        "databricks_system_schema.billing",
        "databricks_system_schema.compute",
    ] {
        assert!(resources.contains_key(address), "{address} is not in state");
    }
    // The role trusts the external id the credential was given: the cycle was broken, not lost.
    let external_id =
        resources["databricks_storage_credential.unity_catalog"]["attributes"]["external_id"]
            .as_str()
            .expect("the credential's external id")
            .to_string();
    let trust =
        resources["aws_iam_role.unity_catalog"]["attributes"]["assume_role_policy"].to_string();
    assert!(trust.contains(&external_id), "{trust}");

    // A table made through the metastore by the deployer, in the schema brickstack made.
    let account = AccountClient::new(
        &databricks.url,
        &account_id,
        oauth(&databricks.client_id, &databricks.client_secret),
        retry(),
    )
    .unwrap();
    let url = workspace_url(&account, &databricks).await;
    let deployer = WorkspaceClient::new(
        &url,
        oauth(&databricks.client_id, &databricks.client_secret),
        retry(),
    )
    .unwrap();
    // Each layer's location asks for SSE-KMS with the key its bucket is encrypted with, so the
    // bucket's policy (`enforce_sse_kms`) takes Unity Catalog's writes.
    for layer in ["raw", "prepared", "trusted"] {
        let key = resources[&format!("aws_s3_bucket_server_side_encryption_configuration.{layer}")]
            ["attributes"]["rule"]["kms_master_key_id"]
            .as_str()
            .unwrap_or_else(|| panic!("the {layer} bucket's key"))
            .to_string();
        assert!(key.starts_with("arn:aws:kms:"), "{key}");
        let location = deployer
            .get_external_location(&format!("{prefix}-{layer}"))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no external location for {layer}"));
        let sse = location
            .encryption_details
            .and_then(|e| e.sse_encryption_details)
            .unwrap_or_else(|| panic!("{layer}: no encryption details"));
        assert_eq!(sse.algorithm.as_deref(), Some("AWS_SSE_KMS"), "{layer}");
        assert_eq!(
            sse.aws_kms_key_arn.as_deref(),
            Some(key.as_str()),
            "{layer}"
        );
    }
    deployer
        .create_table(&NewTable {
            name: "events".into(),
            catalog_name: CATALOG.into(),
            schema_name: "landing".into(),
            table_type: "MANAGED".into(),
            columns: vec![ColumnInfo::new("id", "bigint", "LONG")],
            ..NewTable::default()
        })
        .await
        .unwrap();

    let analyst = member_of(&account, &url, "bs-local-analysts").await;
    // The auditors' name is the default, `<prefix>-auditors`.
    let auditors = format!("{prefix}-auditors");
    let auditor = member_of(&account, &url, &auditors).await;
    let seen = analyst.list_tables(CATALOG, "landing").await.unwrap();
    assert_eq!(
        seen.iter().map(|t| t.qualified_name()).collect::<Vec<_>>(),
        [TABLE]
    );
    assert!(analyst.get_table(TABLE).await.unwrap().is_some());
    let denied = auditor.get_table(TABLE).await.unwrap_err();
    assert_eq!(denied.kind(), ErrorKind::PermissionDenied, "{denied}");
    assert!(
        !auditor
            .list_catalogs()
            .await
            .unwrap()
            .iter()
            .any(|c| c.name == CATALOG),
        "the auditors see the catalog"
    );
    let effective = deployer
        .get_effective_grants(&SecurableType::Table, TABLE, Some("bs-local-analysts"))
        .await
        .unwrap();
    assert!(effective.iter().any(|a| a.holds("SELECT")), "{effective:?}");
    let effective = deployer
        .get_effective_grants(&SecurableType::Table, TABLE, Some(&auditors))
        .await
        .unwrap();
    assert!(
        effective.iter().all(|a| a.privileges.is_empty()),
        "{effective:?}"
    );

    let replan = cli
        .run(&["plan", "--file", "env.toml", "--detailed-exitcode"])
        .await;
    assert_eq!(
        replan.status.code(),
        Some(0),
        "the plan after apply is not empty:\n{}",
        text(&replan)
    );

    // By hand: the analysts lose SELECT on the schema, the auditors are given MODIFY there.
    // The next apply puts the analysts' grant back and leaves the auditors' alone (brickstack
    // manages the principals it names, not the schema's every grant).
    deployer
        .update_grants(
            &SecurableType::Schema,
            SCHEMA,
            &[
                PermissionsChange {
                    principal: "bs-local-analysts".into(),
                    add: Vec::new(),
                    remove: vec!["SELECT".into()],
                },
                PermissionsChange {
                    principal: auditors.clone(),
                    add: vec!["MODIFY".into()],
                    remove: Vec::new(),
                },
            ],
        )
        .await
        .unwrap();
    let drifted = cli
        .run(&["plan", "--file", "env.toml", "--detailed-exitcode"])
        .await;
    assert_eq!(drifted.status.code(), Some(2), "{}", text(&drifted));
    assert!(
        text(&drifted).contains("databricks_grants.schema_raw_landing"),
        "{}",
        text(&drifted)
    );
    let reapply = cli
        .run(&["apply", "--file", "env.toml", "--auto-approve"])
        .await;
    assert!(reapply.status.success(), "{}", text(&reapply));
    let grants = deployer
        .get_grants(&SecurableType::Schema, SCHEMA, None)
        .await
        .unwrap();
    let of = |principal: &str| {
        let mut p: Vec<String> = grants
            .iter()
            .filter(|g| g.principal == principal)
            .flat_map(|g| g.privileges.clone())
            .collect();
        p.sort();
        p
    };
    assert_eq!(of("bs-local-analysts"), ["SELECT", "USE_SCHEMA"]);
    assert_eq!(of(&auditors), ["MODIFY"]);
    let replan = cli
        .run(&["plan", "--file", "env.toml", "--detailed-exitcode"])
        .await;
    assert_eq!(replan.status.code(), Some(0), "{}", text(&replan));

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
    // The test's own service principals stay; nothing brickstack made does.
    let inventory: Value = reqwest::get(format!(
        "{}/_emulator/inventory?account_id={account_id}",
        databricks.url
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let left: Vec<String> = leftover_objects(&inventory)
        .into_iter()
        .filter(|path| !path.contains("service_principal"))
        .collect();
    assert!(
        left.is_empty(),
        "left in the Databricks emulator after destroy: {left:#?}\n{inventory:#}"
    );
}
