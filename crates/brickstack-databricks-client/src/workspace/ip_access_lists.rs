//! IP access lists (`/api/2.0/ip-access-lists`): which addresses may reach the workspace. They
//! act only once workspace-conf `enableIpAccessLists` is `"true"`; a change that would block the
//! caller answers `INVALID_STATE`.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::WorkspaceClient;
use super::clusters::{null_as_default, open_enum};
use crate::client::error::Error;

open_enum! {
    /// Whether a list admits or refuses its addresses (block lists are checked first).
    pub enum ListType {
        Allow = "ALLOW",
        Block = "BLOCK",
    }
}

/// What a user specifies of a list: the body of a replace (`PUT`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpAccessListSpec {
    pub label: String,
    pub list_type: ListType,
    /// Addresses and CIDR ranges (at most 1000 across all lists).
    pub ip_addresses: Vec<String>,
    pub enabled: bool,
}

/// A partial update (`PATCH`): members left `None` keep their value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IpAccessListUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_type: Option<ListType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_addresses: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// A list as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpAccessList {
    pub list_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub label: String,
    pub list_type: ListType,
    #[serde(default, deserialize_with = "null_as_default")]
    pub ip_addresses: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_count: Option<i64>,
    #[serde(default = "enabled_by_default", deserialize_with = "null_as_enabled")]
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
}

fn enabled_by_default() -> bool {
    true
}

fn null_as_enabled<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(deserializer)?.unwrap_or(true))
}

#[derive(Deserialize)]
struct One {
    ip_access_list: IpAccessList,
}

const LISTS: &str = "/api/2.0/ip-access-lists";

impl WorkspaceClient {
    /// Creates an enabled list. A create whose answer was lost is looked up by label and type
    /// before it is sent again.
    pub async fn create_ip_access_list(
        &self,
        label: &str,
        list_type: &ListType,
        ip_addresses: &[String],
    ) -> Result<IpAccessList, Error> {
        let body = serde_json::json!({
            "label": label,
            "list_type": list_type,
            "ip_addresses": ip_addresses,
        });
        let created: One = self
            .client()
            .create(LISTS, &body, || async {
                let found = self
                    .list_ip_access_lists()
                    .await?
                    .into_iter()
                    .find(|l| l.label == label && &l.list_type == list_type);
                Ok(found.map(|ip_access_list| One { ip_access_list }))
            })
            .await?;
        Ok(created.ip_access_list)
    }

    /// The list; `None` when it does not exist.
    pub async fn get_ip_access_list(&self, list_id: &str) -> Result<Option<IpAccessList>, Error> {
        match self
            .client()
            .get::<One>(&format!("{LISTS}/{list_id}"), &[])
            .await
        {
            Ok(one) => Ok(Some(one.ip_access_list)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every list of the workspace.
    pub async fn list_ip_access_lists(&self) -> Result<Vec<IpAccessList>, Error> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default, deserialize_with = "null_as_default")]
            ip_access_lists: Vec<IpAccessList>,
        }
        let answer: Answer = self.client().get(LISTS, &[]).await?;
        Ok(answer.ip_access_lists)
    }

    /// Replaces the whole list (`PUT`).
    pub async fn replace_ip_access_list(
        &self,
        list_id: &str,
        spec: &IpAccessListSpec,
    ) -> Result<(), Error> {
        let _: IgnoredAny = self
            .client()
            .put(&format!("{LISTS}/{list_id}"), spec)
            .await?;
        Ok(())
    }

    /// Changes the members `update` sets (`PATCH`).
    pub async fn update_ip_access_list(
        &self,
        list_id: &str,
        update: &IpAccessListUpdate,
    ) -> Result<(), Error> {
        let _: IgnoredAny = self
            .client()
            .patch(&format!("{LISTS}/{list_id}"), &[], update)
            .await?;
        Ok(())
    }

    pub async fn delete_ip_access_list(&self, list_id: &str) -> Result<(), Error> {
        let _: IgnoredAny = self
            .client()
            .delete(&format!("{LISTS}/{list_id}"), &[])
            .await?;
        Ok(())
    }
}
