//! Provider-level lifecycles of the compute kinds, for any workspace a `DatabricksProvider`
//! reaches at `url`: create → read returns exactly the desired attributes (and what create
//! returned) → update → read → delete → read is none → delete again succeeds; and `find` after
//! a create whose result was lost adopts the same object.
//!
//! `cluster_lifecycle` takes the desired attributes: `generated_cluster` is the generator's full
//! shape (`aws_attributes`, `cluster_log_conf`: needs a faithful emulator), `plain_cluster` what
//! minilake keeps.

use brickstack_databricks::DatabricksProvider;
use brickstack_provider::{AttributeBehaviour, Attributes, CreateRequest, Observed, Provider};
use brickstack_state::ObjectLookup;
use brickstack_testkit::unique_name;
use serde_json::{Value, json};

use super::ok;

pub const CLUSTER: &str = "databricks_cluster";
pub const CLUSTER_POLICY: &str = "databricks_cluster_policy";
pub const DBFS_FILE: &str = "databricks_dbfs_file";
pub const GLOBAL_INIT_SCRIPT: &str = "databricks_global_init_script";
pub const IP_ACCESS_LIST: &str = "databricks_ip_access_list";
pub const WORKSPACE_CONF: &str = "databricks_workspace_conf";

pub fn attributes(value: &Value) -> Attributes {
    match value {
        Value::Object(map) => map.clone(),
        other => panic!("attributes must be an object, not {other}"),
    }
}

/// The lookup the engine journals before a create (`brickstack-exec`'s `lookup_for`): a name
/// attribute, brickstack's tags, and the workspace URL as the scope.
pub fn lookup_for(desired: &Value) -> ObjectLookup {
    const NAMES: [&str; 11] = [
        "name",
        "bucket",
        "cluster_name",
        "display_name",
        "workspace_name",
        "credentials_name",
        "storage_configuration_name",
        "network_name",
        "config_name",
        "label",
        "path",
    ];
    let name = NAMES
        .iter()
        .find_map(|k| desired.get(*k).and_then(Value::as_str))
        .map(str::to_string);
    let tags = ["tags", "custom_tags"]
        .iter()
        .filter_map(|k| desired.get(*k).and_then(Value::as_object))
        .flat_map(|m| m.iter())
        .filter(|(k, _)| k.starts_with("brickstack:"))
        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
        .collect();
    ObjectLookup {
        name,
        tags,
        scope: desired
            .get("workspace_url")
            .and_then(Value::as_str)
            .map(str::to_string),
    }
}

pub async fn create(p: &DatabricksProvider, kind: &str, desired: &Value) -> Observed {
    let request = CreateRequest {
        address: format!("{kind}.test"),
        kind: kind.to_string(),
        attributes: attributes(desired),
        lookup: lookup_for(desired),
    };
    ok(&format!("create {kind}"), p.create(&request).await)
}

pub async fn read(p: &DatabricksProvider, kind: &str, object_id: &str) -> Option<Observed> {
    ok(
        &format!("read {kind} `{object_id}`"),
        p.read(kind, object_id).await,
    )
}

/// What the planner checks for a no-op: every desired attribute is observed with the same value
/// (sets compared as sets).
pub fn assert_reads_as(p: &DatabricksProvider, kind: &str, observed: &Observed, desired: &Value) {
    let schema = p.schema(kind).expect("the provider serves the kind");
    for (name, value) in attributes(desired) {
        if schema.behaviour(&name) == AttributeBehaviour::Computed {
            continue;
        }
        let got = observed.attributes.get(&name);
        assert!(
            got.is_some_and(|o| schema.same_value(&name, &value, o)),
            "{kind}.{name} reads back as {got:?}, desired {value}: a plan would not be a no-op\nobserved: {:#?}",
            observed.attributes
        );
    }
}

/// Create → read (equal to create's answer and to `desired`) → update to `updated` (same
/// object id) → read → delete → read is none → delete again. Returns the object id.
pub async fn lifecycle(
    p: &DatabricksProvider,
    kind: &str,
    desired: &Value,
    updated: &Value,
) -> String {
    let created = create(p, kind, desired).await;
    assert_reads_as(p, kind, &created, desired);
    let object_id = created.object_id.clone();
    let first = read(p, kind, &object_id)
        .await
        .expect("the created object reads");
    assert_eq!(
        first, created,
        "{kind}: read differs from what create returned"
    );

    let after = ok(
        &format!("update {kind}"),
        p.update(kind, &object_id, &attributes(updated)).await,
    );
    assert_eq!(
        after.object_id, object_id,
        "{kind}: update keeps the object id"
    );
    assert_reads_as(p, kind, &after, updated);
    let second = read(p, kind, &object_id)
        .await
        .expect("the updated object reads");
    assert_eq!(
        second, after,
        "{kind}: read differs from what update returned"
    );

    ok(&format!("delete {kind}"), p.delete(kind, &object_id).await);
    assert!(
        read(p, kind, &object_id).await.is_none(),
        "{kind}: a deleted object reads as none"
    );
    ok(
        &format!("delete {kind} again"),
        p.delete(kind, &object_id).await,
    );
    object_id
}

/// A create whose result was lost: `find` with the journaled lookup adopts the same object.
pub async fn found_after_a_lost_create(p: &DatabricksProvider, kind: &str, desired: &Value) {
    let created = create(p, kind, desired).await;
    let found = ok(
        &format!("find {kind}"),
        p.find(kind, &lookup_for(desired)).await,
    )
    .unwrap_or_else(|| panic!("{kind}: find does not see the created object"));
    assert_eq!(found, created, "{kind}: find adopts what create made");
    let mut elsewhere = lookup_for(desired);
    elsewhere.name = Some(unique_name("bs-nothing-by-this-name"));
    assert!(
        ok("find nothing", p.find(kind, &elsewhere).await).is_none(),
        "{kind}: find by another name finds nothing"
    );
    ok("delete", p.delete(kind, &created.object_id).await);
}

/// Every compute kind reads a missing object, and deletes it, in a workspace the account does
/// not have.
pub async fn objects_in_a_missing_workspace_are_gone(p: &DatabricksProvider) {
    for (kind, native) in [
        (CLUSTER, "0000-000000-nosuchcl"),
        (CLUSTER_POLICY, "NOSUCHPOLICY"),
        (DBFS_FILE, "/tmp/no/such/file"),
        (GLOBAL_INIT_SCRIPT, "NOSUCHSCRIPT"),
        (IP_ACCESS_LIST, "nosuchlist"),
        (WORKSPACE_CONF, "workspace_conf:enableGp3"),
    ] {
        let object_id = format!("1/{native}");
        assert!(read(p, kind, &object_id).await.is_none(), "{kind}");
        ok(&format!("delete {kind}"), p.delete(kind, &object_id).await);
    }
}

/// Every compute kind reads a missing object in an existing workspace as none.
pub async fn missing_objects_read_as_none(p: &DatabricksProvider, workspace_id: i64) {
    for (kind, native) in [
        (CLUSTER, "0000-000000-nosuchcl"),
        (CLUSTER_POLICY, "NOSUCHPOLICY"),
        (DBFS_FILE, "/tmp/no/such/file"),
        (GLOBAL_INIT_SCRIPT, "NOSUCHSCRIPT"),
        (IP_ACCESS_LIST, "nosuchlist"),
    ] {
        let object_id = format!("{workspace_id}/{native}");
        assert!(read(p, kind, &object_id).await.is_none(), "{kind}");
        ok(&format!("delete {kind}"), p.delete(kind, &object_id).await);
    }
}

// --- clusters ----------------------------------------------------------------------------------

/// A cluster as the generator emits it (the tag pass adds `custom_tags`).
pub fn generated_cluster(url: &str, spark_version: &str, node_type_id: &str) -> Value {
    let name = unique_name("bs-kind-cluster");
    json!({
        "workspace_url": url,
        "cluster_name": name,
        "spark_version": spark_version,
        "node_type_id": node_type_id,
        "autotermination_minutes": 30,
        "autoscale": { "min_workers": 1, "max_workers": 2 },
        "aws_attributes": {
            "availability": "SPOT_WITH_FALLBACK",
            "first_on_demand": 1,
            "spot_bid_price_percent": 100,
            "ebs_volume_type": "GENERAL_PURPOSE_SSD",
            "ebs_volume_count": 1,
            "ebs_volume_size": 100
        },
        "spark_conf": { "spark.hadoop.fs.s3a.server-side-encryption-algorithm": "SSE-KMS" },
        "cluster_log_conf": { "s3": {
            "destination": format!("s3://bs-logs/{name}"),
            "region": "eu-west-1",
            "enable_encryption": true,
            "encryption_type": "sse-kms",
            "kms_key": "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
        } },
        "custom_tags": {
            "brickstack:address": format!("databricks_cluster.{name}"),
            "brickstack:environment": "test"
        }
    })
}

/// A cluster without the parts minilake drops (`aws_attributes`, `cluster_log_conf`).
pub fn plain_cluster(url: &str, spark_version: &str, node_type_id: &str) -> Value {
    let mut cluster = generated_cluster(url, spark_version, node_type_id);
    let map = cluster.as_object_mut().unwrap();
    map.remove("aws_attributes");
    map.remove("cluster_log_conf");
    cluster
}

/// The cluster lifecycle (create waits for RUNNING; update edits a running cluster) and `find`.
pub async fn cluster_lifecycle(p: &DatabricksProvider, desired: &Value) {
    let mut updated = desired.clone();
    updated["autotermination_minutes"] = json!(60);
    updated["spark_conf"]["spark.speculation"] = json!("true");
    updated["autoscale"] = json!({ "min_workers": 1, "max_workers": 3 });
    let object_id = lifecycle(p, CLUSTER, desired, &updated).await;
    let (_, cluster_id) = object_id.split_once('/').unwrap();
    assert!(!cluster_id.is_empty());

    let mut again = desired.clone();
    again["cluster_name"] = json!(unique_name("bs-kind-cluster-found"));
    found_after_a_lost_create(p, CLUSTER, &again).await;
}

/// `find` adopts only the cluster carrying the lookup's address tag: one of the same name made
/// for another address is not brickstack's for this one.
pub async fn cluster_find_needs_the_address_tag(p: &DatabricksProvider, desired: &Value) {
    let created = create(p, CLUSTER, desired).await;
    let mut lookup = lookup_for(desired);
    lookup.tags.insert(
        "brickstack:address".into(),
        "databricks_cluster.someone_else".into(),
    );
    assert!(
        ok("find with another address", p.find(CLUSTER, &lookup).await).is_none(),
        "a cluster of another address is not adopted"
    );
    ok("delete", p.delete(CLUSTER, &created.object_id).await);
}

// --- the others --------------------------------------------------------------------------------

/// A policy (its definition in canonical form, as the generator should give it), and a cluster
/// governed by it referencing its computed `id`.
pub async fn cluster_policy_lifecycle(p: &DatabricksProvider, url: &str) {
    let name = unique_name("bs-kind-policy");
    let desired = json!({
        "workspace_url": url,
        "name": name,
        "definition": r#"{"autotermination_minutes":{"maxValue":120,"type":"range"}}"#,
    });
    let mut updated = desired.clone();
    updated["definition"] =
        json!(r#"{"autotermination_minutes":{"hidden":true,"type":"fixed","value":30}}"#);
    lifecycle(p, CLUSTER_POLICY, &desired, &updated).await;

    let created = create(p, CLUSTER_POLICY, &desired).await;
    let id = created.attributes["id"].as_str().expect("a computed id");
    assert_eq!(created.attributes["policy_id"], id);
    assert_eq!(
        created.object_id,
        format!("{}/{id}", created.object_id.split('/').next().unwrap())
    );
    ok("delete", p.delete(CLUSTER_POLICY, &created.object_id).await);

    let mut again = desired.clone();
    again["name"] = json!(unique_name("bs-kind-policy-found"));
    found_after_a_lost_create(p, CLUSTER_POLICY, &again).await;
}

/// A policy whose definition is written with other whitespace and key order reads back in the
/// canonical form.
pub async fn cluster_policy_definition_is_compared_as_json(p: &DatabricksProvider, url: &str) {
    let desired = json!({
        "workspace_url": url,
        "name": unique_name("bs-kind-policy-json"),
        "definition": "{\n  \"spark_version\": {\"type\": \"unlimited\"},\n  \"autotermination_minutes\": {\"value\": 30, \"type\": \"fixed\"}\n}\n",
    });
    let created = create(p, CLUSTER_POLICY, &desired).await;
    assert_eq!(
        created.attributes["definition"],
        r#"{"autotermination_minutes":{"type":"fixed","value":30},"spark_version":{"type":"unlimited"}}"#
    );
    ok("delete", p.delete(CLUSTER_POLICY, &created.object_id).await);
}

pub async fn dbfs_file_lifecycle(p: &DatabricksProvider, url: &str) {
    let path = format!("/tmp/{}/core-site.xml", unique_name("bs-kind-dbfs"));
    let desired = json!({
        "workspace_url": url,
        "path": path,
        "content": "<property>\n  <name>fs.s3a.server-side-encryption-algorithm</name>\n  <value>SSE-KMS</value>\n</property>\n",
    });
    let mut updated = desired.clone();
    updated["content"] = json!("<property><name>changed</name></property>\n");
    let object_id = lifecycle(p, DBFS_FILE, &desired, &updated).await;
    assert!(
        object_id.ends_with(&format!("/{path}")),
        "the object id is `<workspace_id>/<path>`: {object_id}"
    );

    let created = create(p, DBFS_FILE, &desired).await;
    assert_eq!(
        created.attributes["file_size"],
        json!(desired["content"].as_str().unwrap().len())
    );
    ok("delete", p.delete(DBFS_FILE, &created.object_id).await);

    let mut again = desired.clone();
    again["path"] = json!(format!("/tmp/{}/found.xml", unique_name("bs-kind-dbfs")));
    found_after_a_lost_create(p, DBFS_FILE, &again).await;
}

pub async fn global_init_script_lifecycle(p: &DatabricksProvider, url: &str) {
    let desired = json!({
        "workspace_url": url,
        "name": unique_name("bs-kind-init"),
        "enabled": true,
        "content": "#!/bin/bash\nset -euo pipefail\necho brickstack\n",
    });
    let mut updated = desired.clone();
    updated["content"] = json!("#!/bin/bash\necho changed\n");
    updated["enabled"] = json!(false);
    lifecycle(p, GLOBAL_INIT_SCRIPT, &desired, &updated).await;

    let mut again = desired.clone();
    again["name"] = json!(unique_name("bs-kind-init-found"));
    found_after_a_lost_create(p, GLOBAL_INIT_SCRIPT, &again).await;
}

/// A block list of documentation addresses (never locks the caller out); the addresses are a
/// set, given in another order than the API may keep them.
pub async fn ip_access_list_lifecycle(p: &DatabricksProvider, url: &str) {
    let desired = json!({
        "workspace_url": url,
        "label": unique_name("bs-kind-ips"),
        "list_type": "BLOCK",
        "ip_addresses": ["198.51.100.7", "192.0.2.0/28"],
    });
    let mut updated = desired.clone();
    updated["ip_addresses"] = json!(["203.0.113.0/30", "198.51.100.7", "192.0.2.0/28"]);
    updated["enabled"] = json!(false);
    let object_id = lifecycle(p, IP_ACCESS_LIST, &desired, &updated).await;
    assert!(object_id.contains('/'));

    let mut disabled = desired.clone();
    disabled["label"] = json!(unique_name("bs-kind-ips-disabled"));
    disabled["enabled"] = json!(false);
    let created = create(p, IP_ACCESS_LIST, &disabled).await;
    assert_reads_as(p, IP_ACCESS_LIST, &created, &disabled);
    ok("delete", p.delete(IP_ACCESS_LIST, &created.object_id).await);

    let mut again = desired.clone();
    again["label"] = json!(unique_name("bs-kind-ips-found"));
    found_after_a_lost_create(p, IP_ACCESS_LIST, &again).await;
}

/// The managed keys are in the object id; an update that drops a key moves to a new id and
/// resets the dropped key; delete resets the rest (`enable*` to `"false"`); `find` finds
/// nothing (the create is an idempotent PATCH).
pub async fn workspace_conf_lifecycle(p: &DatabricksProvider, url: &str) {
    const FLAG: &str = "enableDeprecatedClusterNamedInitScripts";
    const DAYS: &str = "maxTokenLifetimeDays";
    let desired = json!({
        "workspace_url": url,
        "custom_config": { DAYS: "90", FLAG: "true" },
    });
    let created = create(p, WORKSPACE_CONF, &desired).await;
    assert_reads_as(p, WORKSPACE_CONF, &created, &desired);
    let workspace_id = created.object_id.split('/').next().unwrap().to_string();
    assert_eq!(
        created.object_id,
        format!("{workspace_id}/workspace_conf:{FLAG},{DAYS}")
    );
    assert_eq!(
        read(p, WORKSPACE_CONF, &created.object_id).await.as_ref(),
        Some(&created)
    );

    let updated = json!({ "workspace_url": url, "custom_config": { FLAG: "true" } });
    let after = ok(
        "update conf",
        p.update(WORKSPACE_CONF, &created.object_id, &attributes(&updated))
            .await,
    );
    assert_eq!(
        after.object_id,
        format!("{workspace_id}/workspace_conf:{FLAG}")
    );
    assert_reads_as(p, WORKSPACE_CONF, &after, &updated);
    let old = read(p, WORKSPACE_CONF, &created.object_id).await.unwrap();
    assert_eq!(
        old.attributes["custom_config"][DAYS], "",
        "a dropped key is unset"
    );

    ok(
        "delete conf",
        p.delete(WORKSPACE_CONF, &after.object_id).await,
    );
    let reset = read(p, WORKSPACE_CONF, &after.object_id).await.unwrap();
    assert_eq!(reset.attributes["custom_config"][FLAG], "false");
    ok(
        "delete conf again",
        p.delete(WORKSPACE_CONF, &after.object_id).await,
    );
    assert!(
        ok(
            "find conf",
            p.find(WORKSPACE_CONF, &lookup_for(&desired)).await
        )
        .is_none(),
        "the configuration has nothing to find it by"
    );
}
