//! The kind registry: every resource kind the generator can emit, named after the Terraform type
//! of the same object, with the provider family that serves it, how it carries brickstack's tags,
//! how its object is found again after an interrupted create, and what data it holds.
//!
//! It is the one table the generator (tags), the engine (data guard) and the tests that tie kinds
//! to adapters read: `brickstack-cli/tests/kind_registry.rs` checks it against
//! `brickstack_aws::served_kinds()` and `brickstack_databricks::served_kinds()`, and
//! `every_kind_a_spec_can_produce_is_registered` (in this crate) checks the generator against it
//! with every option of the spec on, so a kind emitted but served by no adapter fails a test.

use Recovery::{
    AtMostOnce, Name, RefusedAsDuplicate, ResentHarmlessly, Tags as ByTags, Unidentifiable,
};

/// Which provider adapter serves a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    /// `brickstack-aws`.
    Aws,
    /// `brickstack-databricks`.
    Databricks,
    /// `brickstack-notify`: messages brickstack posts (Slack incoming webhooks).
    Notify,
}

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

/// How the object of a create that was sent but never recorded (the answer lost, the process
/// killed) is found before anything is sent again, as the adapter's `find` does it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// By brickstack's tags (`brickstack:environment`, `brickstack:address`): the cloud names the
    /// object itself (EC2 ids, KMS key ids), or the name is not unique (workspaces, clusters).
    Tags,
    /// By its deterministic name, unique where it lives (buckets, IAM, account objects).
    Name,
    /// The create carries an idempotency token, so sending it again returns the first object.
    IdempotencyToken,
    /// The create is an idempotent put or grant: sending it again changes nothing.
    ResentHarmlessly,
    /// Sending it again is refused as a duplicate (`RouteAlreadyExists`,
    /// `Resource.AlreadyAssociated`): nothing is duplicated, the conflict is reported.
    RefusedAsDuplicate,
    /// Nothing identifies the effect and sending it again would repeat it (a Slack message): a
    /// create journaled but never recorded is settled as done from the intent's attributes and
    /// never sent again (`KindSchema::at_most_once`), reported as "outcome unknown".
    AtMostOnce,
    /// Nothing identifies the object: a lost create leaves one behind (a token whose value was
    /// never stored; its `comment` names the environment so it can be revoked).
    Unidentifiable,
}

/// What an object of the kind holds that deleting it destroys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Data {
    /// Nothing beyond its own settings.
    Nothing,
    /// Objects the provider counts (`Provider::contents`) and removes (`Provider::empty`) under
    /// `--destroy-data`: a bucket's object versions and delete markers.
    Counted,
    /// Data no API counts cheaply; deleting or replacing the object is always refused without
    /// `--destroy-data`. The text says what is lost.
    Uncounted(&'static str),
}

/// One kind of the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindInfo {
    /// The Terraform type name (`aws_s3_bucket`).
    pub name: &'static str,
    pub family: Family,
    pub tagging: Tagging,
    pub recovery: Recovery,
    pub data: Data,
}

const fn aws(name: &'static str, tagging: Tagging, recovery: Recovery) -> KindInfo {
    KindInfo {
        name,
        family: Family::Aws,
        tagging,
        recovery,
        data: Data::Nothing,
    }
}

const fn databricks(name: &'static str, tagging: Tagging, recovery: Recovery) -> KindInfo {
    KindInfo {
        name,
        family: Family::Databricks,
        tagging,
        recovery,
        data: Data::Nothing,
    }
}

const fn notify(name: &'static str, recovery: Recovery) -> KindInfo {
    KindInfo {
        name,
        family: Family::Notify,
        tagging: Tagging::None,
        recovery,
        data: Data::Nothing,
    }
}

const fn holding(kind: KindInfo, data: Data) -> KindInfo {
    KindInfo { data, ..kind }
}

/// What deleting a workspace destroys, for the refusal that guards it (`ADDR (`ID`) holds …`).
pub const WORKSPACE_DATA: &str = "notebooks, jobs, DBFS files and its users' work, which \
     deleting or replacing a workspace loses (no call counts them)";

/// What deleting a metastore, catalog or schema destroys: Unity Catalog deletes the managed
/// tables' files with them.
pub const CATALOG_DATA: &str = "managed tables, volumes and functions (and the files of the \
     managed ones), which deleting or replacing a metastore, catalog or schema loses (no call \
     counts them cheaply)";

/// Every kind the generator emits (main and bootstrap graphs).
pub const REGISTRY: &[KindInfo] = &[
    aws("aws_vpc", Tagging::Tags, ByTags),
    aws("aws_subnet", Tagging::Tags, ByTags),
    aws("aws_internet_gateway", Tagging::Tags, ByTags),
    aws("aws_eip", Tagging::Tags, ByTags),
    aws("aws_nat_gateway", Tagging::Tags, ByTags),
    aws("aws_route_table", Tagging::Tags, ByTags),
    aws("aws_route", Tagging::None, RefusedAsDuplicate),
    aws(
        "aws_route_table_association",
        Tagging::None,
        RefusedAsDuplicate,
    ),
    aws("aws_default_security_group", Tagging::Tags, ByTags),
    aws("aws_flow_log", Tagging::Tags, ByTags),
    aws("aws_vpc_endpoint", Tagging::Tags, ByTags),
    aws("aws_kms_key", Tagging::Tags, ByTags),
    aws("aws_kms_alias", Tagging::None, Name),
    holding(aws("aws_s3_bucket", Tagging::Tags, Name), Data::Counted),
    aws("aws_s3_bucket_versioning", Tagging::None, ResentHarmlessly),
    aws(
        "aws_s3_bucket_server_side_encryption_configuration",
        Tagging::None,
        ResentHarmlessly,
    ),
    aws(
        "aws_s3_bucket_public_access_block",
        Tagging::None,
        ResentHarmlessly,
    ),
    aws("aws_s3_bucket_policy", Tagging::None, ResentHarmlessly),
    aws(
        "aws_s3_bucket_lifecycle_configuration",
        Tagging::None,
        ResentHarmlessly,
    ),
    aws("aws_s3_bucket_logging", Tagging::None, ResentHarmlessly),
    aws("aws_iam_role", Tagging::Tags, Name),
    aws("aws_iam_role_policy", Tagging::None, ResentHarmlessly),
    aws("aws_iam_policy", Tagging::Tags, Name),
    aws(
        "aws_iam_role_policy_attachment",
        Tagging::None,
        ResentHarmlessly,
    ),
    aws("aws_iam_instance_profile", Tagging::Tags, Name),
    aws("aws_dynamodb_table", Tagging::Tags, Name),
    databricks("databricks_mws_credentials", Tagging::None, Name),
    databricks("databricks_mws_storage_configurations", Tagging::None, Name),
    databricks("databricks_mws_networks", Tagging::None, Name),
    databricks(
        "databricks_mws_customer_managed_keys",
        Tagging::None,
        Unidentifiable,
    ),
    holding(
        databricks("databricks_mws_workspaces", Tagging::CustomTags, ByTags),
        Data::Uncounted(WORKSPACE_DATA),
    ),
    databricks("databricks_mws_log_delivery", Tagging::None, Name),
    databricks("databricks_service_principal", Tagging::None, Name),
    databricks("databricks_group", Tagging::None, Name),
    databricks("databricks_group_member", Tagging::None, ResentHarmlessly),
    databricks("databricks_group_role", Tagging::None, ResentHarmlessly),
    databricks("databricks_permissions", Tagging::None, ResentHarmlessly),
    databricks("databricks_token", Tagging::None, Unidentifiable),
    databricks("databricks_obo_token", Tagging::None, Unidentifiable),
    databricks("databricks_dbfs_file", Tagging::None, Name),
    databricks("databricks_global_init_script", Tagging::None, Name),
    databricks(
        "databricks_instance_profile",
        Tagging::None,
        ResentHarmlessly,
    ),
    databricks(
        "databricks_group_instance_profile",
        Tagging::None,
        ResentHarmlessly,
    ),
    databricks("databricks_cluster", Tagging::CustomTags, ByTags),
    databricks("databricks_cluster_policy", Tagging::None, Name),
    databricks("databricks_ip_access_list", Tagging::None, Name),
    databricks("databricks_workspace_conf", Tagging::None, ResentHarmlessly),
    databricks("databricks_secret_scope", Tagging::None, Name),
    databricks("databricks_secret_acl", Tagging::None, ResentHarmlessly),
    // A person's single-user cluster (`docs/access.md`): the SCIM user is found by its user name;
    // installing libraries and terminating a cluster are harmless to repeat; a message is not.
    databricks("databricks_user", Tagging::None, Name),
    databricks(
        "databricks_cluster_libraries",
        Tagging::None,
        ResentHarmlessly,
    ),
    databricks(
        "databricks_cluster_shutdown",
        Tagging::None,
        ResentHarmlessly,
    ),
    // Unity Catalog and account groups (docs/unity-catalog.md): found by their names; a
    // permission assignment, a grant and a system schema are puts, harmless to repeat.
    databricks("databricks_account_group", Tagging::None, Name),
    databricks(
        "databricks_mws_permission_assignment",
        Tagging::None,
        ResentHarmlessly,
    ),
    holding(
        databricks("databricks_metastore", Tagging::None, Name),
        Data::Uncounted(CATALOG_DATA),
    ),
    databricks(
        "databricks_metastore_assignment",
        Tagging::None,
        ResentHarmlessly,
    ),
    databricks("databricks_storage_credential", Tagging::None, Name),
    databricks("databricks_external_location", Tagging::None, Name),
    holding(
        databricks("databricks_catalog", Tagging::None, Name),
        Data::Uncounted(CATALOG_DATA),
    ),
    holding(
        databricks("databricks_schema", Tagging::None, Name),
        Data::Uncounted(CATALOG_DATA),
    ),
    databricks("databricks_grants", Tagging::None, ResentHarmlessly),
    databricks("databricks_system_schema", Tagging::None, ResentHarmlessly),
    notify("brickstack_slack_message", AtMostOnce),
];

/// The registry's entry for `kind`; `None` for kinds brickstack does not know.
pub fn kind(kind: &str) -> Option<&'static KindInfo> {
    REGISTRY.iter().find(|k| k.name == kind)
}

/// How a kind is tagged; `None` for kinds brickstack does not know.
pub fn tagging(kind: &str) -> Option<Tagging> {
    self::kind(kind).map(|k| k.tagging)
}

/// The registered kinds of one provider family, in registry order.
pub fn of_family(family: Family) -> impl Iterator<Item = &'static str> {
    REGISTRY
        .iter()
        .filter(move |k| k.family == family)
        .map(|k| k.name)
}
