//! Instance profiles (`/api/2.0/instance-profiles/…`): the AWS instance profiles a workspace's
//! clusters may be launched with. Registering, editing and removing are admin-only.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::WorkspaceClient;
use crate::client::error::Error;

/// A registered instance profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceProfile {
    pub instance_profile_arn: String,
    /// Needed only when the role's name differs from the profile's (and for serverless SQL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iam_role_arn: Option<String>,
    /// A meta instance profile's role only assumes other roles (credential passthrough).
    #[serde(default)]
    pub is_meta_instance_profile: bool,
}

impl InstanceProfile {
    pub fn new(instance_profile_arn: impl Into<String>) -> Self {
        InstanceProfile {
            instance_profile_arn: instance_profile_arn.into(),
            iam_role_arn: None,
            is_meta_instance_profile: false,
        }
    }
}

#[derive(Serialize)]
struct AddInstanceProfile<'a> {
    #[serde(flatten)]
    profile: &'a InstanceProfile,
    /// Skips the dry-run launch Databricks validates a profile with (not the IAM checks).
    skip_validation: bool,
}

#[derive(Deserialize)]
struct InstanceProfiles {
    #[serde(default)]
    instance_profiles: Vec<InstanceProfile>,
}

impl WorkspaceClient {
    /// Registers `profile`; one already registered is `RESOURCE_ALREADY_EXISTS`.
    pub async fn add_instance_profile(
        &self,
        profile: &InstanceProfile,
        skip_validation: bool,
    ) -> Result<(), Error> {
        let body = AddInstanceProfile {
            profile,
            skip_validation,
        };
        let _: Value = self
            .client()
            .post("/api/2.0/instance-profiles/add", &body)
            .await?;
        Ok(())
    }

    /// Changes a registered profile's role ARN.
    pub async fn edit_instance_profile(&self, profile: &InstanceProfile) -> Result<(), Error> {
        let _: Value = self
            .client()
            .post("/api/2.0/instance-profiles/edit", profile)
            .await?;
        Ok(())
    }

    /// The registered profiles the caller may use (all of them, for an admin).
    pub async fn list_instance_profiles(&self) -> Result<Vec<InstanceProfile>, Error> {
        let list: InstanceProfiles = self
            .client()
            .get("/api/2.0/instance-profiles/list", &[])
            .await?;
        Ok(list.instance_profiles)
    }

    /// The registered profile `arn`; `None` when it is not registered. There is no call for one
    /// profile: this lists them.
    pub async fn get_instance_profile(&self, arn: &str) -> Result<Option<InstanceProfile>, Error> {
        Ok(self
            .list_instance_profiles()
            .await?
            .into_iter()
            .find(|p| p.instance_profile_arn == arn))
    }

    /// Unregisters the profile `arn`; clusters running with it keep running.
    pub async fn remove_instance_profile(&self, arn: &str) -> Result<(), Error> {
        let _: Value = self
            .client()
            .post(
                "/api/2.0/instance-profiles/remove",
                &serde_json::json!({ "instance_profile_arn": arn }),
            )
            .await?;
        Ok(())
    }
}
