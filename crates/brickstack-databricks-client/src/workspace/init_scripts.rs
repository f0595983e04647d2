//! Global init scripts (`/api/2.0/global-init-scripts`): shell scripts every cluster of the
//! workspace runs at start, in `position` order. The API carries the script base64 encoded;
//! these calls take and give the plain bytes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::WorkspaceClient;
use super::clusters::null_as_default;
use crate::client::error::{Error, ErrorDetail};

/// What a user specifies of a global init script.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GlobalInitScriptSpec {
    pub name: String,
    /// The script itself (not base64).
    pub script: Vec<u8>,
    pub enabled: bool,
    /// 0 runs first; `None` appends it (on create) or keeps its place (on update).
    pub position: Option<i64>,
}

/// A global init script as `get` reports it (`list` leaves the script out).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GlobalInitScript {
    pub script_id: String,
    pub name: String,
    pub enabled: bool,
    pub position: Option<i64>,
    /// The decoded script; `None` in a listing.
    pub script: Option<Vec<u8>>,
    pub created_at: Option<i64>,
    pub updated_at: Option<i64>,
}

/// The wire form of a script.
#[derive(Debug, Clone, Default, Deserialize)]
struct Details {
    script_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    enabled: bool,
    #[serde(default)]
    position: Option<i64>,
    #[serde(default)]
    script: Option<String>,
    #[serde(default)]
    created_at: Option<i64>,
    #[serde(default)]
    updated_at: Option<i64>,
}

#[derive(Serialize)]
struct Body<'a> {
    name: &'a str,
    script: String,
    enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<i64>,
}

impl<'a> Body<'a> {
    fn of(spec: &'a GlobalInitScriptSpec) -> Self {
        Body {
            name: &spec.name,
            script: STANDARD.encode(&spec.script),
            enabled: spec.enabled,
            position: spec.position,
        }
    }
}

#[derive(Deserialize)]
struct Created {
    script_id: String,
}

const SCRIPTS: &str = "/api/2.0/global-init-scripts";

impl Details {
    fn decode(self, method: &str, path: &str) -> Result<GlobalInitScript, Error> {
        let script = match self.script {
            None => None,
            Some(text) => Some(STANDARD.decode(text.as_bytes()).map_err(|e| {
                Error::new(
                    method,
                    path,
                    ErrorDetail::Decode(format!("`script` is not base64: {e}")),
                )
            })?),
        };
        Ok(GlobalInitScript {
            script_id: self.script_id,
            name: self.name,
            enabled: self.enabled,
            position: self.position,
            script,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

impl WorkspaceClient {
    /// Creates a global init script and returns its id. A create whose answer was lost is
    /// looked up by name before it is sent again (brickstack's names are unique; the API's
    /// need not be).
    pub async fn create_global_init_script(
        &self,
        spec: &GlobalInitScriptSpec,
    ) -> Result<String, Error> {
        let created: Created = self
            .client()
            .create(SCRIPTS, &Body::of(spec), || async {
                let found = self
                    .list_global_init_scripts()
                    .await?
                    .into_iter()
                    .find(|s| s.name == spec.name);
                Ok(found.map(|s| Created {
                    script_id: s.script_id,
                }))
            })
            .await?;
        Ok(created.script_id)
    }

    /// Every global init script, in execution order, without their scripts.
    pub async fn list_global_init_scripts(&self) -> Result<Vec<GlobalInitScript>, Error> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default, deserialize_with = "null_as_default")]
            scripts: Vec<Details>,
        }
        let answer: Answer = self.client().get(SCRIPTS, &[]).await?;
        answer
            .scripts
            .into_iter()
            .map(|d| d.decode("GET", SCRIPTS))
            .collect()
    }

    /// The script with its contents; `None` when it does not exist.
    pub async fn get_global_init_script(
        &self,
        script_id: &str,
    ) -> Result<Option<GlobalInitScript>, Error> {
        let path = format!("{SCRIPTS}/{script_id}");
        match self.client().get::<Details>(&path, &[]).await {
            Ok(details) => details.decode("GET", &path).map(Some),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Replaces the script's name, contents, enablement and (when given) position.
    pub async fn update_global_init_script(
        &self,
        script_id: &str,
        spec: &GlobalInitScriptSpec,
    ) -> Result<(), Error> {
        let _: IgnoredAny = self
            .client()
            .patch(&format!("{SCRIPTS}/{script_id}"), &[], &Body::of(spec))
            .await?;
        Ok(())
    }

    pub async fn delete_global_init_script(&self, script_id: &str) -> Result<(), Error> {
        let _: IgnoredAny = self
            .client()
            .delete(&format!("{SCRIPTS}/{script_id}"), &[])
            .await?;
        Ok(())
    }
}
