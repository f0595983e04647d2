//! The reference architecture's values (seed001 inventory), used wherever a spec is silent.

/// Databricks' own AWS account, trusted by the cross-account role and the root bucket policy.
pub const DATABRICKS_AWS_ACCOUNT: &str = "414351767826";
pub const REGION: &str = "eu-west-1";
pub const ACCOUNT_HOST: &str = "https://accounts.cloud.databricks.com";

pub const VPC_NAME: &str = "customer-managed-vpc";
pub const VPC_CIDR: &str = "10.0.0.0/16";
/// Private subnets in the region's first three zones, the public one in the third.
pub const PRIVATE_SUBNETS: &[&str] = &["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"];
pub const PUBLIC_SUBNETS: &[&str] = &["10.0.101.0/24"];
pub const DEFAULT_SG_NAME: &str = "def-sg";
pub const FLOW_LOG_AGGREGATION_SECONDS: i64 = 60;

pub const KMS_DELETION_WINDOW_DAYS: i64 = 7;

/// `(key, description, allow log services)`.
pub const KMS_KEYS: &[(&str, &str, bool)] = &[
    (
        "logging",
        "KMS key to encrypt objects inside s3 bucket logging",
        true,
    ),
    (
        "datalake",
        "KMS key to encrypt objects inside s3 bucket (root, raw, prepared & trusted)",
        false,
    ),
];

/// Lifecycle of the logging buckets (the seed declared it and never applied it).
pub const LOG_GLACIER_DAYS: i64 = 30;
pub const LOG_EXPIRE_DAYS: i64 = 180;

/// `(layer, versioning)`.
pub const DATALAKE_LAYERS: &[(&str, bool)] =
    &[("raw", false), ("prepared", true), ("trusted", true)];

pub const TOKEN_LIFETIME_SECONDS: i64 = 518_400;
pub const TOKEN_ROTATE_BEFORE_SECONDS: i64 = 86_400;
/// One hour to two years: shorter breaks a deploy mid-run; longer defeats expiry.
pub const TOKEN_LIFETIME_MIN: i64 = 3_600;
pub const TOKEN_LIFETIME_MAX: i64 = 63_072_000;

pub const SPARK_VERSION: &str = "15.4.x-scala2.12";
pub const NODE_TYPE_ID: &str = "r5.large";

/// The high-concurrency cluster's Spark configuration from the seed.
pub const SPARK_CONF: &[(&str, &str)] = &[
    ("spark.databricks.repl.allowedLanguages", "python,sql"),
    ("spark.databricks.cluster.profile", "serverless"),
    ("spark.databricks.passthrough.enabled", "true"),
    ("spark.databricks.pyspark.enableProcessIsolation", "true"),
    (
        "spark.databricks.hive.metastore.glueCatalog.enabled",
        "true",
    ),
    ("spark.hadoop.aws.glue.cache.db.enable", "true"),
    ("spark.hadoop.aws.glue.cache.db.size", "1000"),
    ("spark.hadoop.aws.glue.cache.db.ttl-mins", "30"),
    ("spark.hadoop.aws.glue.cache.table.enable", "true"),
    ("spark.hadoop.aws.glue.cache.table.size", "1000"),
    ("spark.hadoop.aws.glue.cache.table.ttl-mins", "30"),
];

/// `[access.single_user_clusters]`: a departed person's cluster stays a week, so a mistaken
/// removal from a group costs nothing.
pub const REMOVAL_GRACE: &str = "7d";
/// The longest grace a spec may set: a year.
pub const REMOVAL_GRACE_MAX_SECONDS: u64 = 365 * 86_400;
/// A personal cluster is small: one general-purpose node.
pub const SINGLE_USER_NODE_TYPE_ID: &str = "m5.large";
pub const SINGLE_USER_AUTOTERMINATION_MINUTES: i64 = 30;

/// `[serve]`: loopback only unless the spec says otherwise.
pub const SERVE_LISTEN: &str = "127.0.0.1:7300";
