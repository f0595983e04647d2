//! The resource kinds brickstack manages, named after the Terraform type of the same object.

/// How a kind carries brickstack's tags, if its API takes tags at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tagging {
    /// AWS `tags` map.
    Tags,
    /// Databricks `custom_tags` map (propagated to the EC2 instances).
    CustomTags,
    /// The API has no tags; the object is found by its deterministic name or id.
    None,
}

/// `(kind, tagging)` for every kind the generator emits.
pub const KINDS: &[(&str, Tagging)] = &[
    ("aws_vpc", Tagging::Tags),
    ("aws_subnet", Tagging::Tags),
    ("aws_internet_gateway", Tagging::Tags),
    ("aws_eip", Tagging::Tags),
    ("aws_nat_gateway", Tagging::Tags),
    ("aws_route_table", Tagging::Tags),
    ("aws_route", Tagging::None),
    ("aws_route_table_association", Tagging::None),
    ("aws_default_security_group", Tagging::Tags),
    ("aws_flow_log", Tagging::Tags),
    ("aws_vpc_endpoint", Tagging::Tags),
    ("aws_kms_key", Tagging::Tags),
    ("aws_kms_alias", Tagging::None),
    ("aws_s3_bucket", Tagging::Tags),
    ("aws_s3_bucket_versioning", Tagging::None),
    (
        "aws_s3_bucket_server_side_encryption_configuration",
        Tagging::None,
    ),
    ("aws_s3_bucket_public_access_block", Tagging::None),
    ("aws_s3_bucket_policy", Tagging::None),
    ("aws_s3_bucket_lifecycle_configuration", Tagging::None),
    ("aws_s3_bucket_logging", Tagging::None),
    ("aws_iam_role", Tagging::Tags),
    ("aws_iam_role_policy", Tagging::None),
    ("aws_iam_policy", Tagging::Tags),
    ("aws_iam_role_policy_attachment", Tagging::None),
    ("aws_iam_instance_profile", Tagging::Tags),
    ("aws_dynamodb_table", Tagging::Tags),
    ("databricks_mws_credentials", Tagging::None),
    ("databricks_mws_storage_configurations", Tagging::None),
    ("databricks_mws_networks", Tagging::None),
    ("databricks_mws_customer_managed_keys", Tagging::None),
    ("databricks_mws_workspaces", Tagging::CustomTags),
    ("databricks_mws_log_delivery", Tagging::None),
    ("databricks_service_principal", Tagging::None),
    ("databricks_group", Tagging::None),
    ("databricks_group_member", Tagging::None),
    ("databricks_group_role", Tagging::None),
    ("databricks_permissions", Tagging::None),
    ("databricks_token", Tagging::None),
    ("databricks_obo_token", Tagging::None),
    ("databricks_dbfs_file", Tagging::None),
    ("databricks_global_init_script", Tagging::None),
    ("databricks_instance_profile", Tagging::None),
    ("databricks_group_instance_profile", Tagging::None),
    ("databricks_cluster", Tagging::CustomTags),
    ("databricks_cluster_policy", Tagging::None),
    ("databricks_ip_access_list", Tagging::None),
    ("databricks_workspace_conf", Tagging::None),
    ("databricks_secret_scope", Tagging::None),
    ("databricks_secret_acl", Tagging::None),
];

/// How a kind is tagged; `None` for kinds brickstack does not know.
pub fn tagging(kind: &str) -> Option<Tagging> {
    KINDS.iter().find(|(k, _)| *k == kind).map(|(_, t)| *t)
}
