//! Cluster policies (`/api/2.0/policies/clusters/…`): rules a cluster's spec must follow.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::WorkspaceClient;
use super::clusters::null_as_default;
use crate::client::error::Error;

/// What a user specifies of a policy: the body of `create`, and with `policy_id` of `edit`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicySpec {
    /// Unique in the workspace, 1–100 characters.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// The policy document, JSON text (not an object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_clusters_per_user: Option<i64>,
    /// A built-in family, instead of `definition`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_family_id: Option<String>,
    /// JSON text amending the family's definition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_family_definition_overrides: Option<String>,
}

/// A policy as `get` and `list` report it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub policy_id: String,
    #[serde(flatten)]
    pub spec: PolicySpec,
    /// The workspace's built-in policies, which cannot be deleted.
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_default: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at_timestamp: Option<i64>,
}

#[derive(Deserialize)]
struct Created {
    policy_id: String,
}

impl WorkspaceClient {
    /// Creates a policy and returns its id. Names are unique, so a create whose answer was lost
    /// is found by name before it is sent again.
    pub async fn create_policy(&self, spec: &PolicySpec) -> Result<String, Error> {
        let created: Created = self
            .client()
            .create("/api/2.0/policies/clusters/create", spec, || async {
                Ok(self.policy_named(&spec.name).await?.map(|p| Created {
                    policy_id: p.policy_id,
                }))
            })
            .await?;
        Ok(created.policy_id)
    }

    /// Replaces a policy's spec (clusters governed by it are checked at their next edit).
    pub async fn edit_policy(&self, policy_id: &str, spec: &PolicySpec) -> Result<(), Error> {
        #[derive(Serialize)]
        struct Edit<'a> {
            policy_id: &'a str,
            #[serde(flatten)]
            spec: &'a PolicySpec,
        }
        let _: IgnoredAny = self
            .client()
            .post("/api/2.0/policies/clusters/edit", &Edit { policy_id, spec })
            .await?;
        Ok(())
    }

    /// Deletes a policy (a default policy, or one clusters use, cannot be).
    pub async fn delete_policy(&self, policy_id: &str) -> Result<(), Error> {
        let _: IgnoredAny = self
            .client()
            .post(
                "/api/2.0/policies/clusters/delete",
                &serde_json::json!({ "policy_id": policy_id }),
            )
            .await?;
        Ok(())
    }

    /// The policy; `None` when it does not exist.
    pub async fn get_policy(&self, policy_id: &str) -> Result<Option<Policy>, Error> {
        match self
            .client()
            .get(
                "/api/2.0/policies/clusters/get",
                &[("policy_id", policy_id.to_string())],
            )
            .await
        {
            Ok(policy) => Ok(Some(policy)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every policy of the workspace, the built-in ones included.
    pub async fn list_policies(&self) -> Result<Vec<Policy>, Error> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default, deserialize_with = "null_as_default")]
            policies: Vec<Policy>,
        }
        let answer: Answer = self
            .client()
            .get("/api/2.0/policies/clusters/list", &[])
            .await?;
        Ok(answer.policies)
    }

    /// The policy named `name`, if any (names are unique).
    pub async fn policy_named(&self, name: &str) -> Result<Option<Policy>, Error> {
        Ok(self
            .list_policies()
            .await?
            .into_iter()
            .find(|p| p.spec.name == name))
    }
}
