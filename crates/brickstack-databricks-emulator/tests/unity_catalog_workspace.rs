//! The emulator's Unity Catalog on a workspace's API (storage credentials, external locations,
//! catalogs, schemas, tables, grants, effective permissions, system schemas, the current
//! metastore), account SCIM groups, and visibility by privilege, through real HTTP.

mod common;

use brickstack_testkit::unique_name;
use common::{Api, Env, error, oauth};
use reqwest::StatusCode;
use serde_json::{Value, json};

const UC: &str = "/api/2.1/unity-catalog";

/// The account's metastore (root `s3://<bucket>/root`), assigned to the workspace.
async fn with_metastore(env: &Env) -> (String, String) {
    let bucket = unique_name("metastore");
    let created = env
        .account
        .ok(
            "metastores",
            json!({"metastore_info": {"name": unique_name("m"), "region": "eu-west-1", "storage_root": format!("s3://{bucket}/root")}}),
        )
        .await;
    let id = created["metastore_info"]["metastore_id"]
        .as_str()
        .unwrap()
        .to_string();
    env.account
        .ok(
            &format!("workspaces/{}/metastores/{id}", env.workspace_id),
            json!({"metastore_assignment": {"metastore_id": id}}),
        )
        .await;
    (id, bucket)
}

/// A storage credential and an external location on `s3://<bucket>/`.
async fn location(env: &Env, bucket: &str) -> Value {
    env.ws
        .ok(
            &format!("{UC}/storage-credentials"),
            json!({"name": format!("{bucket}-cred"), "aws_iam_role": {"role_arn": "arn:aws:iam::123456789012:role/uc"}, "skip_validation": true}),
        )
        .await;
    env.ws
        .ok(
            &format!("{UC}/external-locations"),
            json!({"name": bucket, "url": format!("s3://{bucket}/"), "credential_name": format!("{bucket}-cred")}),
        )
        .await
}

/// A catalog `name` rooted in the external location of `bucket`, a schema and a table in it.
async fn catalog_with_table(env: &Env, name: &str, bucket: &str) {
    env.ws
        .ok(
            &format!("{UC}/catalogs"),
            json!({"name": name, "storage_root": format!("s3://{bucket}/{name}")}),
        )
        .await;
    env.ws
        .ok(
            &format!("{UC}/schemas"),
            json!({"name": "landing", "catalog_name": name}),
        )
        .await;
    env.ws
        .ok(
            &format!("{UC}/tables"),
            json!({"name": "events", "catalog_name": name, "schema_name": "landing",
                   "table_type": "MANAGED",
                   "columns": [{"name": "id", "type_text": "bigint", "type_name": "LONG"},
                               {"name": "Payload", "type_text": "string", "type_name": "STRING"}]}),
        )
        .await;
}

/// An account service principal in a new account group `group`, with a workspace token of its
/// own: `(its application id, its workspace API)`.
async fn member_of(env: &Env, group: &str) -> (String, Api) {
    let (status, sp) = env
        .account
        .post(
            "scim/v2/ServicePrincipals",
            json!({"displayName": unique_name("sp")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sp}");
    let id = sp["id"].as_str().unwrap();
    let application_id = sp["applicationId"].as_str().unwrap().to_string();
    let secret = env
        .account
        .ok(
            &format!("servicePrincipals/{id}/credentials/secrets"),
            json!({}),
        )
        .await;
    let (status, g) = env
        .account
        .post(
            "scim/v2/Groups",
            json!({"displayName": group, "members": [{"value": id}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{g}");
    let (status, token) = oauth(
        &env.ws.http,
        &format!(
            "{}/w/{}/oidc/v1/token",
            env.emulator.url(),
            env.workspace_id
        ),
        &application_id,
        secret["secret"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{token}");
    (
        application_id,
        env.ws.with_token(token["access_token"].as_str().unwrap()),
    )
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key}: {list}"))
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn every_call_needs_a_metastore_assigned_to_the_workspace() {
    let env = Env::start().await;
    let calls = [
        env.ws
            .get(&format!("{UC}/current-metastore-assignment"))
            .await,
        env.ws.get(&format!("{UC}/metastore_summary")).await,
        env.ws.get(&format!("{UC}/catalogs")).await,
        env.ws
            .post(&format!("{UC}/catalogs"), json!({"name": "raw"}))
            .await,
        env.ws.get(&format!("{UC}/storage-credentials")).await,
        env.ws.get(&format!("{UC}/external-locations")).await,
        env.ws.get(&format!("{UC}/schemas?catalog_name=raw")).await,
        env.ws.get(&format!("{UC}/tables/raw.a.b")).await,
        env.ws.get(&format!("{UC}/permissions/catalog/raw")).await,
        env.ws
            .get(&format!("{UC}/effective-permissions/catalog/raw"))
            .await,
        env.ws
            .get(&format!("{UC}/metastores/x/systemschemas"))
            .await,
    ];
    for call in calls {
        let body = call.1.clone();
        assert_eq!(
            error(call),
            (StatusCode::NOT_FOUND, "METASTORE_DOES_NOT_EXIST".into())
        );
        assert_eq!(
            body["message"],
            "No metastore assigned for the current workspace."
        );
    }
    // Once the account assigns one, the workspace reports it.
    let (id, _) = with_metastore(&env).await;
    let current = env
        .ws
        .read(&format!("{UC}/current-metastore-assignment"))
        .await;
    assert_eq!(current["metastore_id"], id.as_str());
    assert_eq!(current["workspace_id"], env.workspace_id);
    let summary = env.ws.read(&format!("{UC}/metastore_summary")).await;
    assert_eq!(summary["metastore_id"], id.as_str());
}

#[tokio::test]
async fn storage_credentials_and_external_locations_check_what_they_point_at() {
    let env = Env::start().await;
    let (metastore_id, metastore_bucket) = with_metastore(&env).await;
    let created = env
        .ws
        .ok(
            &format!("{UC}/storage-credentials"),
            json!({"name": "UC-Role", "aws_iam_role": {"role_arn": "arn:aws:iam::123456789012:role/uc"}}),
        )
        .await;
    assert_eq!(created["name"], "uc-role", "names are kept in lower case");
    let role = &created["aws_iam_role"];
    assert_eq!(role["role_arn"], "arn:aws:iam::123456789012:role/uc");
    assert_eq!(role["external_id"].as_str().unwrap().len(), 36, "{created}");
    assert_eq!(
        role["unity_catalog_iam_arn"],
        "arn:aws:iam::414351767826:role/unity-catalog-prod-UCMasterRole-14S5ZJVKOTYTL"
    );
    assert_eq!(created["metastore_id"], metastore_id.as_str());
    // The same object the account API lists under the metastore.
    let account_view = env
        .account
        .read(&format!("metastores/{metastore_id}/storage-credentials"))
        .await;
    assert_eq!(
        account_view["storage_credentials"][0]["aws_iam_role"]["external_id"],
        role["external_id"]
    );
    // One made through the account API, in any case, is the workspace's too.
    env.account
        .ok(
            &format!("metastores/{metastore_id}/storage-credentials"),
            json!({"credential_info": {"name": "Acct-Cred", "aws_iam_role": {"role_arn": "arn:aws:iam::123456789012:role/acct"}}}),
        )
        .await;
    let from_account = env
        .ws
        .read(&format!("{UC}/storage-credentials/ACCT-CRED"))
        .await;
    assert_eq!(from_account["name"], "acct-cred");
    for (body, status, code) in [
        (
            json!({"name": "uc-role", "aws_iam_role": {"role_arn": "arn:aws:iam::123456789012:role/uc"}}),
            StatusCode::CONFLICT,
            "STORAGE_CREDENTIAL_ALREADY_EXISTS",
        ),
        (
            json!({"name": "other", "aws_iam_role": {"role_arn": "uc"}}),
            StatusCode::BAD_REQUEST,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            json!({"name": "other"}),
            StatusCode::BAD_REQUEST,
            "INVALID_PARAMETER_VALUE",
        ),
    ] {
        let got = env
            .ws
            .post(&format!("{UC}/storage-credentials"), body)
            .await;
        assert_eq!(error(got), (status, code.to_string()));
    }

    let locations = format!("{UC}/external-locations");
    for (body, status, code) in [
        (
            json!({"name": "raw", "url": "https://raw/", "credential_name": "uc-role"}),
            StatusCode::BAD_REQUEST,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            json!({"name": "raw", "url": "s3://raw/", "credential_name": "missing"}),
            StatusCode::NOT_FOUND,
            "STORAGE_CREDENTIAL_DOES_NOT_EXIST",
        ),
        (
            json!({"name": "root", "url": format!("s3://{metastore_bucket}/"), "credential_name": "uc-role"}),
            StatusCode::BAD_REQUEST,
            "INVALID_PARAMETER_VALUE",
        ),
    ] {
        let got = env.ws.post(&locations, body.clone()).await;
        assert_eq!(error(got), (status, code.to_string()), "{body}");
    }
    let raw = env
        .ws
        .ok(
            &locations,
            json!({"name": "raw", "url": "s3://raw-bucket/", "credential_name": "uc-role"}),
        )
        .await;
    assert_eq!(raw["credential_id"], created["id"]);
    assert!(raw.get("encryption_details").is_none(), "{raw}");

    // Encryption details: an unknown algorithm, or SSE-KMS without its key, is refused; what is
    // accepted is answered as sent, an update replaces it and an empty object clears it.
    for details in [
        json!({"sse_encryption_details": {"algorithm": "AES256"}}),
        json!({"sse_encryption_details": {"algorithm": "AWS_SSE_KMS"}}),
        json!({"sse_encryption_details": {"algorithm": "AWS_SSE_KMS", "aws_kms_key_arn": ""}}),
    ] {
        let body = json!({"name": "kms", "url": "s3://kms-bucket/", "credential_name": "uc-role", "encryption_details": details});
        let got = env.ws.post(&locations, body.clone()).await;
        assert_eq!(
            error(got),
            (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE".into()),
            "{body}"
        );
        let got = env
            .ws
            .patch(
                &format!("{locations}/raw"),
                json!({"encryption_details": details}),
            )
            .await;
        assert_eq!(
            error(got),
            (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE".into()),
            "{details}"
        );
    }
    let key = "arn:aws:kms:us-east-1:123456789012:key/0000-kms";
    let sse_kms =
        json!({"sse_encryption_details": {"algorithm": "AWS_SSE_KMS", "aws_kms_key_arn": key}});
    let kms = env
        .ws
        .ok(
            &locations,
            json!({"name": "kms", "url": "s3://kms-bucket/", "credential_name": "uc-role", "encryption_details": sse_kms}),
        )
        .await;
    assert_eq!(kms["encryption_details"], sse_kms);
    assert_eq!(
        env.ws.read(&format!("{locations}/kms")).await["encryption_details"],
        sse_kms
    );
    let sse_s3 = json!({"sse_encryption_details": {"algorithm": "AWS_SSE_S3"}});
    let updated = success(
        env.ws
            .patch(
                &format!("{locations}/kms"),
                json!({"encryption_details": sse_s3}),
            )
            .await,
    );
    assert_eq!(updated["encryption_details"], sse_s3);
    let updated = success(
        env.ws
            .patch(&format!("{locations}/kms"), json!({"comment": "kept"}))
            .await,
    );
    assert_eq!(
        updated["encryption_details"], sse_s3,
        "a PATCH without it keeps it"
    );
    let cleared = success(
        env.ws
            .patch(
                &format!("{locations}/kms"),
                json!({"encryption_details": {}}),
            )
            .await,
    );
    assert!(cleared.get("encryption_details").is_none(), "{cleared}");
    success(env.ws.delete(&format!("{locations}/kms")).await);
    let overlapping = env
        .ws
        .post(
            &locations,
            json!({"name": "raw2", "url": "s3://raw-bucket/sub", "credential_name": "uc-role"}),
        )
        .await;
    assert_eq!(
        error(overlapping),
        (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE".into())
    );
    let duplicate = env
        .ws
        .post(
            &locations,
            json!({"name": "RAW", "url": "s3://other/", "credential_name": "uc-role"}),
        )
        .await;
    assert_eq!(
        error(duplicate),
        (
            StatusCode::CONFLICT,
            "EXTERNAL_LOCATION_ALREADY_EXISTS".into()
        )
    );
    assert_eq!(
        names(&env.ws.read(&locations).await, "external_locations"),
        ["raw"]
    );

    // In use: the credential by the location, the location by a catalog.
    env.ws
        .ok(
            &format!("{UC}/catalogs"),
            json!({"name": "raw", "storage_root": "s3://raw-bucket/catalog"}),
        )
        .await;
    for path in [
        format!("{UC}/storage-credentials/uc-role"),
        format!("{locations}/raw"),
    ] {
        assert_eq!(
            error(env.ws.delete(&path).await),
            (StatusCode::BAD_REQUEST, "INVALID_STATE".into()),
            "{path}"
        );
    }
    let (status, _) = env.ws.delete(&format!("{UC}/catalogs/raw")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = env.ws.delete(&format!("{locations}/raw")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = env
        .ws
        .delete(&format!("{UC}/storage-credentials/uc-role"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        error(env.ws.get(&format!("{locations}/raw")).await),
        (
            StatusCode::NOT_FOUND,
            "EXTERNAL_LOCATION_DOES_NOT_EXIST".into()
        )
    );
}

#[tokio::test]
async fn catalogs_schemas_and_tables_need_their_parents_and_storage_under_a_location() {
    let env = Env::start().await;
    let (_, metastore_bucket) = with_metastore(&env).await;
    let bucket = unique_name("lake");
    location(&env, &bucket).await;

    let refused = env
        .ws
        .post(
            &format!("{UC}/catalogs"),
            json!({"name": "raw", "storage_root": "s3://elsewhere/raw"}),
        )
        .await;
    assert_eq!(
        error(refused),
        (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE".into())
    );
    let catalog = env
        .ws
        .ok(
            &format!("{UC}/catalogs"),
            json!({"name": "Raw", "storage_root": format!("s3://{bucket}/raw"), "comment": "landing zone"}),
        )
        .await;
    assert_eq!(catalog["name"], "raw");
    assert_eq!(catalog["comment"], "landing zone");
    assert!(
        catalog["storage_location"]
            .as_str()
            .unwrap()
            .starts_with(&format!("s3://{bucket}/raw/__unitystorage/catalogs/")),
        "{catalog}"
    );
    assert_eq!(catalog["owner"], env.emulator.config().client_id.as_str());
    // Without a root of its own a catalog uses the metastore's.
    let plain = env
        .ws
        .ok(&format!("{UC}/catalogs"), json!({"name": "plain"}))
        .await;
    assert!(
        plain["storage_location"]
            .as_str()
            .unwrap()
            .starts_with(&format!("s3://{metastore_bucket}/root/")),
        "{plain}"
    );
    assert_eq!(
        error(
            env.ws
                .post(&format!("{UC}/catalogs"), json!({"name": "raw"}))
                .await
        ),
        (StatusCode::CONFLICT, "CATALOG_ALREADY_EXISTS".into())
    );
    assert_eq!(
        error(
            env.ws
                .post(&format!("{UC}/catalogs"), json!({"name": "a.b"}))
                .await
        ),
        (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE".into())
    );
    assert_eq!(
        names(&env.ws.read(&format!("{UC}/catalogs")).await, "catalogs"),
        ["raw", "plain"]
    );
    assert_eq!(
        names(
            &env.ws.read(&format!("{UC}/schemas?catalog_name=raw")).await,
            "schemas"
        ),
        ["default", "information_schema"]
    );

    assert_eq!(
        error(
            env.ws
                .post(
                    &format!("{UC}/schemas"),
                    json!({"name": "landing", "catalog_name": "missing"})
                )
                .await
        ),
        (StatusCode::NOT_FOUND, "CATALOG_DOES_NOT_EXIST".into())
    );
    let schema = env
        .ws
        .ok(
            &format!("{UC}/schemas"),
            json!({"name": "landing", "catalog_name": "raw"}),
        )
        .await;
    assert_eq!(schema["full_name"], "raw.landing");
    assert_eq!(
        error(
            env.ws
                .post(
                    &format!("{UC}/tables"),
                    json!({"name": "t", "catalog_name": "raw", "schema_name": "nope",
                           "columns": [{"name": "id", "type_text": "int"}]})
                )
                .await
        ),
        (StatusCode::NOT_FOUND, "SCHEMA_DOES_NOT_EXIST".into())
    );
    assert_eq!(
        error(
            env.ws
                .post(
                    &format!("{UC}/tables"),
                    json!({"name": "t", "catalog_name": "raw", "schema_name": "landing", "columns": []})
                )
                .await
        ),
        (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE".into())
    );
    let table = env
        .ws
        .ok(
            &format!("{UC}/tables"),
            json!({"name": "Events", "catalog_name": "raw", "schema_name": "landing",
                   "columns": [{"name": "Id", "type_text": "bigint", "type_name": "LONG"},
                               {"name": "body", "type_name": "STRING"}]}),
        )
        .await;
    assert_eq!(table["full_name"], "raw.landing.events");
    assert_eq!(table["table_type"], "MANAGED");
    assert_eq!(table["data_source_format"], "DELTA");
    assert_eq!(table["columns"][0]["name"], "Id");
    assert_eq!(table["columns"][1]["type_text"], "string");
    assert_eq!(table["columns"][1]["position"], 1);
    let read = env
        .ws
        .read(&format!("{UC}/tables/raw.landing.events"))
        .await;
    assert_eq!(read, table);
    let listed = env
        .ws
        .read(&format!("{UC}/tables?catalog_name=raw&schema_name=landing"))
        .await;
    assert_eq!(listed["tables"], json!([table]));
    assert_eq!(
        error(
            env.ws
                .post(
                    &format!("{UC}/tables"),
                    json!({"name": "events", "catalog_name": "raw", "schema_name": "landing",
                           "columns": [{"name": "id", "type_text": "int"}]})
                )
                .await
        ),
        (StatusCode::CONFLICT, "TABLE_ALREADY_EXISTS".into())
    );
    let external = env
        .ws
        .post(
            &format!("{UC}/tables"),
            json!({"name": "ext", "catalog_name": "raw", "schema_name": "landing", "table_type": "EXTERNAL",
                   "storage_location": "s3://nowhere/ext", "columns": [{"name": "id", "type_text": "int"}]}),
        )
        .await;
    assert_eq!(
        error(external),
        (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE".into())
    );

    // A catalog or schema holding tables goes only with force, and takes them along.
    assert_eq!(
        error(env.ws.delete(&format!("{UC}/schemas/raw.landing")).await),
        (StatusCode::BAD_REQUEST, "SCHEMA_NOT_EMPTY".into())
    );
    assert_eq!(
        error(env.ws.delete(&format!("{UC}/catalogs/raw")).await),
        (StatusCode::BAD_REQUEST, "CATALOG_NOT_EMPTY".into())
    );
    let (status, _) = env
        .ws
        .delete(&format!("{UC}/catalogs/raw?force=true"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        error(env.ws.get(&format!("{UC}/tables/raw.landing.events")).await),
        (StatusCode::NOT_FOUND, "TABLE_DOES_NOT_EXIST".into())
    );
    assert_eq!(
        error(env.ws.get(&format!("{UC}/schemas/raw.landing")).await),
        (StatusCode::NOT_FOUND, "SCHEMA_DOES_NOT_EXIST".into())
    );
}

#[tokio::test]
async fn grants_are_inherited_and_effective_permissions_name_their_source() {
    let env = Env::start().await;
    let (metastore_id, _) = with_metastore(&env).await;
    let bucket = unique_name("lake");
    location(&env, &bucket).await;
    catalog_with_table(&env, "raw", &bucket).await;
    for group in ["analysts", "engineers"] {
        let (status, g) = env
            .account
            .post("scim/v2/Groups", json!({"displayName": group}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{g}");
    }

    let update = |kind: &str, name: &str, changes: Value| {
        let path = format!("{UC}/permissions/{kind}/{name}");
        let ws = env.ws.clone();
        async move { ws.patch(&path, json!({ "changes": changes })).await }
    };
    let (status, after) = update(
        "catalog",
        "raw",
        json!([{"principal": "analysts", "add": ["USE_CATALOG", "use_schema"]}]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(
        after,
        json!({"privilege_assignments": [{"principal": "analysts", "privileges": ["USE_CATALOG", "USE_SCHEMA"]}]})
    );
    let (status, _) = update(
        "SCHEMA",
        "raw.landing",
        json!([{"principal": "analysts", "add": ["SELECT"]}, {"principal": "engineers", "add": ["MODIFY", "SELECT"]}]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = update(
        "table",
        "raw.landing.events",
        json!([{"principal": "engineers", "add": ["SELECT"]}]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = update(
        "metastore",
        &metastore_id,
        json!([{"principal": "account users", "add": ["CREATE_CATALOG"]}]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // A get shows direct grants only.
    let direct = env
        .ws
        .read(&format!("{UC}/permissions/table/raw.landing.events"))
        .await;
    assert_eq!(
        direct,
        json!({"privilege_assignments": [{"principal": "engineers", "privileges": ["SELECT"]}]})
    );
    let effective = env
        .ws
        .read(&format!(
            "{UC}/effective-permissions/table/raw.landing.events"
        ))
        .await;
    assert_eq!(
        effective,
        json!({"privilege_assignments": [
            {"principal": "account users", "privileges": [
                {"privilege": "CREATE_CATALOG", "inherited_from_type": "METASTORE", "inherited_from_name": metastore_id}]},
            {"principal": "analysts", "privileges": [
                {"privilege": "SELECT", "inherited_from_type": "SCHEMA", "inherited_from_name": "raw.landing"},
                {"privilege": "USE_CATALOG", "inherited_from_type": "CATALOG", "inherited_from_name": "raw"},
                {"privilege": "USE_SCHEMA", "inherited_from_type": "CATALOG", "inherited_from_name": "raw"}]},
            {"principal": "engineers", "privileges": [
                {"privilege": "MODIFY", "inherited_from_type": "SCHEMA", "inherited_from_name": "raw.landing"},
                {"privilege": "SELECT"}]}
        ]})
    );
    let only = env
        .ws
        .read(&format!(
            "{UC}/effective-permissions/table/raw.landing.events?principal=analysts"
        ))
        .await;
    assert_eq!(only["privilege_assignments"].as_array().unwrap().len(), 1);
    assert_eq!(only["privilege_assignments"][0]["principal"], "analysts");

    // Removing the last privilege drops the principal.
    let (_, after) = update(
        "table",
        "raw.landing.events",
        json!([{"principal": "engineers", "remove": ["SELECT"]}]),
    )
    .await;
    assert_eq!(after, json!({"privilege_assignments": []}));

    for (kind, name, changes, status, code) in [
        (
            "catalog",
            "raw",
            json!([{"principal": "nobody", "add": ["SELECT"]}]),
            StatusCode::BAD_REQUEST,
            "PRINCIPAL_DOES_NOT_EXIST",
        ),
        (
            "catalog",
            "raw",
            json!([{"principal": "analysts", "add": ["READ_MINDS"]}]),
            StatusCode::BAD_REQUEST,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            "catalog",
            "missing",
            json!([{"principal": "analysts", "add": ["SELECT"]}]),
            StatusCode::NOT_FOUND,
            "CATALOG_DOES_NOT_EXIST",
        ),
        (
            "table",
            "raw.landing",
            json!([{"principal": "analysts", "add": ["SELECT"]}]),
            StatusCode::NOT_FOUND,
            "TABLE_DOES_NOT_EXIST",
        ),
    ] {
        assert_eq!(
            error(update(kind, name, changes).await),
            (status, code.to_string()),
            "{kind} {name}"
        );
    }
    // A refused update changed nothing.
    let on_catalog = env.ws.read(&format!("{UC}/permissions/catalog/raw")).await;
    assert_eq!(
        on_catalog["privilege_assignments"],
        json!([{"principal": "analysts", "privileges": ["USE_CATALOG", "USE_SCHEMA"]}])
    );
}

#[tokio::test]
async fn a_table_is_visible_to_the_group_granted_on_it_and_not_to_another() {
    let env = Env::start().await;
    with_metastore(&env).await;
    let bucket = unique_name("lake");
    location(&env, &bucket).await;
    catalog_with_table(&env, "raw", &bucket).await;
    let analysts = unique_name("analysts");
    let (_, granted) = member_of(&env, &analysts).await;
    let (_, other) = member_of(&env, &unique_name("others")).await;
    let (status, _) = env
        .ws
        .patch(
            &format!("{UC}/permissions/catalog/raw"),
            json!({"changes": [{"principal": analysts, "add": ["USE_CATALOG", "USE_SCHEMA", "SELECT"]}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let tables = format!("{UC}/tables?catalog_name=raw&schema_name=landing");
    assert_eq!(
        names(&granted.read(&format!("{UC}/catalogs")).await, "catalogs"),
        ["raw"]
    );
    assert_eq!(names(&granted.read(&tables).await, "tables"), ["events"]);
    granted
        .read(&format!("{UC}/tables/raw.landing.events"))
        .await;

    assert_eq!(
        names(&other.read(&format!("{UC}/catalogs")).await, "catalogs"),
        Vec::<String>::new()
    );
    for path in [
        format!("{UC}/catalogs/raw"),
        format!("{UC}/schemas/raw.landing"),
        format!("{UC}/tables/raw.landing.events"),
        tables.clone(),
    ] {
        assert_eq!(
            error(other.get(&path).await),
            (StatusCode::FORBIDDEN, "PERMISSION_DENIED".into()),
            "{path}"
        );
    }
    // The configured client is a metastore admin and sees everything.
    assert_eq!(names(&env.ws.read(&tables).await, "tables"), ["events"]);

    // USE_CATALOG and USE_SCHEMA alone show the catalog and schema but not the table.
    let (status, _) = env
        .ws
        .patch(
            &format!("{UC}/permissions/catalog/raw"),
            json!({"changes": [{"principal": analysts, "remove": ["SELECT"]}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        names(&granted.read(&tables).await, "tables"),
        Vec::<String>::new()
    );
    assert_eq!(
        error(
            granted
                .get(&format!("{UC}/tables/raw.landing.events"))
                .await
        ),
        (StatusCode::FORBIDDEN, "PERMISSION_DENIED".into())
    );
}

#[tokio::test]
async fn system_schemas_are_enabled_and_disabled_per_metastore() {
    let env = Env::start().await;
    let (metastore_id, _) = with_metastore(&env).await;
    let path = format!("{UC}/metastores/{metastore_id}/systemschemas");
    let states = |list: &Value| -> Vec<(String, String)> {
        list["schemas"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["schema"].as_str().unwrap().to_string(),
                    s["state"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let before = states(&env.ws.read(&path).await);
    assert!(
        before.iter().all(|(_, state)| state == "AVAILABLE"),
        "{before:?}"
    );
    for schema in ["access", "billing", "access"] {
        let (status, body) = env.ws.put(&format!("{path}/{schema}"), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let after = states(&env.ws.read(&path).await);
    for (schema, state) in &after {
        let enabled = schema == "access" || schema == "billing";
        assert_eq!(
            state,
            if enabled {
                "ENABLE_COMPLETED"
            } else {
                "AVAILABLE"
            }
        );
    }
    let (status, _) = env.ws.delete(&format!("{path}/access")).await;
    assert_eq!(status, StatusCode::OK);
    let after = states(&env.ws.read(&path).await);
    assert!(after.contains(&("access".into(), "AVAILABLE".into())));
    assert!(after.contains(&("billing".into(), "ENABLE_COMPLETED".into())));

    let unknown = env.ws.put(&format!("{path}/nonsense"), json!({})).await;
    assert_eq!(
        error(unknown),
        (StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST".into())
    );
    let other_metastore = env
        .ws
        .get(&format!("{UC}/metastores/not-this-one/systemschemas"))
        .await;
    assert_eq!(
        error(other_metastore),
        (StatusCode::NOT_FOUND, "METASTORE_DOES_NOT_EXIST".into())
    );
}

#[tokio::test]
async fn account_groups_are_unique_by_name_and_hold_known_principals() {
    let env = Env::start().await;
    let (status, sp) = env
        .account
        .post("scim/v2/ServicePrincipals", json!({"displayName": "etl"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let sp_id = sp["id"].as_str().unwrap();
    let (status, user) = env
        .account
        .post("scim/v2/Users", json!({"userName": "ann@example.com"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let user_id = user["id"].as_str().unwrap();

    let (status, group) = env
        .account
        .post(
            "scim/v2/Groups",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "analysts", "members": [{"value": sp_id}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    let id = group["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 16);
    assert_eq!(group["members"][0]["value"], sp_id);
    assert_eq!(group["members"][0]["display"], "etl");
    assert_eq!(group["meta"]["resourceType"], "Group");

    let (status, duplicate) = env
        .account
        .post("scim/v2/Groups", json!({"displayName": "Analysts"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(duplicate["scimType"], "uniqueness", "{duplicate}");
    let (status, unknown) = env
        .account
        .post(
            "scim/v2/Groups",
            json!({"displayName": "x", "members": [{"value": "42"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{unknown}");

    let found = env
        .account
        .read("scim/v2/Groups?filter=displayName%20eq%20%22analysts%22")
        .await;
    assert_eq!(found["totalResults"], 1);
    assert_eq!(found["Resources"][0]["id"], id.as_str());
    let none = env
        .account
        .read("scim/v2/Groups?filter=displayName%20eq%20%22nobody%22")
        .await;
    assert_eq!(none["totalResults"], 0);

    let patch = |ops: Value| {
        let account = env.account.clone();
        let path = format!("scim/v2/Groups/{id}");
        async move {
            account
                .patch(
                    &path,
                    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops}),
                )
                .await
        }
    };
    let (status, patched) =
        patch(json!([{"op": "add", "path": "members", "value": [{"value": user_id}]}])).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["members"].as_array().unwrap().len(), 2);
    let (status, patched) =
        patch(json!([{"op": "remove", "path": format!("members[value eq \"{sp_id}\"]")}])).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(
        patched["members"],
        json!([{"value": user_id, "display": "ann@example.com", "$ref": format!("Users/{user_id}")}])
    );

    // A group is a principal of workspace permission assignments once there is a metastore.
    with_metastore(&env).await;
    let (status, body) = env
        .account
        .put(
            &format!(
                "workspaces/{}/permissionassignments/principals/{id}",
                env.workspace_id
            ),
            json!({"permissions": ["USER"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let assignments = env
        .account
        .read(&format!(
            "workspaces/{}/permissionassignments",
            env.workspace_id
        ))
        .await;
    assert_eq!(
        assignments["permission_assignments"],
        json!([{"principal": {"principal_id": id.parse::<i64>().unwrap(), "display_name": "analysts", "group_name": "analysts"}, "permissions": ["USER"]}])
    );

    // Deleting the group takes its assignment with it.
    let (status, _) = env.account.delete(&format!("scim/v2/Groups/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let assignments = env
        .account
        .read(&format!(
            "workspaces/{}/permissionassignments",
            env.workspace_id
        ))
        .await;
    assert_eq!(assignments["permission_assignments"], json!([]));
    let (status, _) = env.account.get(&format!("scim/v2/Groups/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn inventory_shows_unity_catalog_objects_and_reset_forgets_them() {
    let env = Env::start().await;
    let (metastore_id, _) = with_metastore(&env).await;
    let bucket = unique_name("lake");
    location(&env, &bucket).await;
    catalog_with_table(&env, "raw", &bucket).await;
    let (status, _) = env
        .account
        .post("scim/v2/Groups", json!({"displayName": "analysts"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    env.ws
        .patch(
            &format!("{UC}/permissions/catalog/raw"),
            json!({"changes": [{"principal": "analysts", "add": ["USE_CATALOG"]}]}),
        )
        .await;
    env.ws
        .put(
            &format!("{UC}/metastores/{metastore_id}/systemschemas/access"),
            json!({}),
        )
        .await;

    let inventory_path = format!("inventory?account_id={}", env.account_id);
    let (status, inventory) = env
        .control(reqwest::Method::GET, &inventory_path, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(inventory["groups"][0]["displayName"], "analysts");
    let m = &inventory["metastores"][0];
    assert_eq!(m["storage_credentials"], json!([format!("{bucket}-cred")]));
    assert_eq!(m["external_locations"][0]["url"], format!("s3://{bucket}/"));
    assert_eq!(m["catalogs"][0]["name"], "raw");
    let schemas: Vec<&str> = m["schemas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["full_name"].as_str().unwrap())
        .collect();
    assert_eq!(schemas, ["raw.default", "raw.landing"]);
    assert_eq!(
        m["tables"],
        json!([{"full_name": "raw.landing.events", "table_type": "MANAGED"}])
    );
    assert_eq!(
        m["grants"],
        json!([{"securable_type": "CATALOG", "full_name": "raw", "principal": "analysts", "privileges": ["USE_CATALOG"]}])
    );
    assert_eq!(m["system_schemas"], json!(["access"]));

    let (status, _) = env.control(reqwest::Method::POST, "reset", None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, inventory) = env
        .control(reqwest::Method::GET, &inventory_path, None)
        .await;
    assert_eq!(inventory, json!({"account_id": env.account_id}));
}

/// The body of an answer that must succeed.
fn success((status, body): (StatusCode, Value)) -> Value {
    assert!(status.is_success(), "{status} {body}");
    body
}
