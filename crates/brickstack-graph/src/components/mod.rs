//! Component emitters: each turns one part of the spec into resources. Pure and order-free; the
//! passes in `passes` connect and check what they emit.

pub mod access;
pub mod bootstrap;
pub mod buckets;
pub mod databricks;
pub mod iam;
pub mod kms;
pub mod network;
pub mod unity_catalog;

/// Well-known addresses other components refer to, so a rename happens in one place.
pub mod addresses {
    use crate::address::Address;

    pub fn vpc() -> Address {
        Address::new("aws_vpc", "main")
    }
    pub fn default_security_group() -> Address {
        Address::new("aws_default_security_group", "main")
    }
    pub fn private_subnet(az: &str) -> Address {
        Address::new("aws_subnet", format!("private-{az}"))
    }
    pub fn kms_key(name: &str) -> Address {
        Address::new("aws_kms_key", name)
    }
    pub fn kms_alias(name: &str) -> Address {
        Address::new("aws_kms_alias", name)
    }
    pub fn bucket(key: &str) -> Address {
        Address::new("aws_s3_bucket", key)
    }
    pub fn bucket_policy(key: &str) -> Address {
        Address::new("aws_s3_bucket_policy", key)
    }
    pub fn role(name: &str) -> Address {
        Address::new("aws_iam_role", name)
    }
    pub fn instance_profile(name: &str) -> Address {
        Address::new("aws_iam_instance_profile", name)
    }
    pub fn workspace() -> Address {
        Address::new("databricks_mws_workspaces", "main")
    }
    pub fn meta_instance_profile() -> Address {
        Address::new("databricks_instance_profile", "meta")
    }
    pub fn cluster_policy(key: &str) -> Address {
        Address::new("databricks_cluster_policy", key)
    }
    pub fn account_group(key: &str) -> Address {
        Address::new("databricks_account_group", key)
    }
    pub fn external_location(bucket_key: &str) -> Address {
        Address::new("databricks_external_location", bucket_key)
    }
}
