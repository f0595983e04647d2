//! Workspace configuration (`/api/2.0/workspace-conf`): a flat map of string settings
//! (`enableIpAccessLists`, `maxTokenLifetimeDays`, `enableTokensConfig`, ...). Every value is a
//! string, booleans included (`"true"`).

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde_json::Value;

use super::WorkspaceClient;
use crate::client::error::Error;

const CONF: &str = "/api/2.0/workspace-conf";

impl WorkspaceClient {
    /// The values of `keys`. A key the workspace has no value for is absent from the answer
    /// (some servers answer it as `""`, which is kept). No call is made for no keys.
    pub async fn get_workspace_conf(
        &self,
        keys: &[&str],
    ) -> Result<BTreeMap<String, String>, Error> {
        if keys.is_empty() {
            return Ok(BTreeMap::new());
        }
        let answer: Option<BTreeMap<String, Value>> =
            self.client().get(CONF, &[("keys", keys.join(","))]).await?;
        Ok(answer
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(k, v)| {
                let v = match v {
                    Value::Null => return None,
                    Value::String(s) => s,
                    Value::Bool(b) => b.to_string(),
                    other => other.to_string(),
                };
                Some((k, v))
            })
            .collect())
    }

    /// Sets the given keys (others keep their values). The real API refuses unknown keys.
    pub async fn patch_workspace_conf(
        &self,
        values: &BTreeMap<String, String>,
    ) -> Result<(), Error> {
        if values.is_empty() {
            return Ok(());
        }
        let _: IgnoredAny = self.client().patch(CONF, &[], values).await?;
        Ok(())
    }
}
