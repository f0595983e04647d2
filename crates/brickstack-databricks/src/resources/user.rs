//! `databricks_user`: a workspace SCIM user, the person a single-user cluster names. The object
//! id is `<workspace_id>/<SCIM id>`; `id` is computed.
//!
//! A person who has logged in before already exists (the identity provider's SCIM sync or their
//! first login made them): that is the normal case, so `create` adopts the user with the
//! desired `userName` and creates one only when there is none (the person never logged in;
//! posting again would be a 409). The kind is retained on delete (`KindSchema::retain_on_delete`):
//! the identity provider owns users, so the engine only forgets them; `delete`, should it be
//! called, leaves the user in place.

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::workspace_if_any;
use super::{gone, invalid_input, observed, parse, scoped_id, split_scoped, unexpected};
use crate::client::error::Error;
use crate::provider::{DatabricksProvider, Workspace};
use crate::workspace::WorkspaceClient;
use crate::workspace::scim::{User, filter_eq};

pub(crate) const KIND: &str = "databricks_user";

/// Only what the attributes need: a user's groups and entitlements stay on the server.
const READ_ATTRIBUTES: &str = "userName,displayName";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserAttributes {
    workspace_url: String,
    user_name: String,
}

impl UserAttributes {
    fn desired(attributes: &Attributes) -> Result<Self, ProviderError> {
        let user: UserAttributes = parse(KIND, attributes)?;
        if user.user_name.trim().is_empty() {
            return Err(invalid_input(KIND, "`user_name` is empty"));
        }
        Ok(user)
    }
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("workspace_url", AttributeBehaviour::ForcesReplacement)
        // Another person is another user.
        .attribute("user_name", AttributeBehaviour::ForcesReplacement)
        .attribute("id", AttributeBehaviour::Computed)
        .retained_on_delete()
}

fn observed_user(ws: &Workspace, user: &User) -> Result<Observed, ProviderError> {
    let id = user
        .id
        .as_deref()
        .ok_or_else(|| unexpected(KIND, "the workspace reported a user without `id`"))?;
    let attributes = UserAttributes {
        workspace_url: ws.client.host().to_string(),
        // Workspaces compare user names without case and keep them as first written (by the
        // identity provider, maybe `Ana.Silva@…`); brickstack's are lower-cased e-mails, so the
        // name is reported lower-cased, else the same person would read as another.
        user_name: user.user_name.to_lowercase(),
    };
    Ok(observed(
        &scoped_id(ws.id, id),
        &attributes,
        [("id", json!(id))],
    ))
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let (workspace_id, id) = split_scoped(KIND, object_id)?;
    let Some(ws) = p.workspace(workspace_id).await? else {
        return Ok(None);
    };
    match ws
        .client
        .users()
        .get_attributes(id, Some(READ_ATTRIBUTES))
        .await?
    {
        Some(user) => observed_user(&ws, &user).map(Some),
        None => Ok(None),
    }
}

/// A display name for a user brickstack creates (one who never logged in): the e-mail's local
/// part, its words capitalised (`ana.silva@x` → `Ana Silva`), until the identity provider sets
/// theirs.
fn display_name_of(user_name: &str) -> String {
    let local = user_name.split('@').next().unwrap_or(user_name);
    local
        .split(['.', '_', '-', '+'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or_else(String::new, |first| {
                first
                    .to_uppercase()
                    .chain(chars.flat_map(char::to_lowercase))
                    .collect()
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The one user whose `userName` is `user_name`; user names are unique in a workspace.
async fn by_user_name(ws: &WorkspaceClient, user_name: &str) -> Result<Option<User>, Error> {
    let mut found = ws
        .users()
        .list(Some(&filter_eq("userName", user_name)))
        .await?;
    // SCIM compares `userName` case-insensitively; keep only the exact person.
    found.retain(|u| u.user_name.eq_ignore_ascii_case(user_name));
    Ok(if found.len() == 1 { found.pop() } else { None })
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired = UserAttributes::desired(&request.attributes)?;
    let ws = p.workspace_at(&desired.workspace_url).await?;
    let users = ws.client.users();
    let user = match by_user_name(&ws.client, &desired.user_name).await? {
        // The person logged in before: adopt them, as they are (a display name that differs
        // is an update the plan shows, not something a create changes behind its back).
        Some(existing) => existing,
        None => {
            let mut user = User::new(&desired.user_name);
            // The identity provider owns a user's display name (a person who logged in has
            // theirs): brickstack sets one only on a user it creates, and never compares it.
            user.display_name = Some(display_name_of(&desired.user_name));
            match users.create(&user).await {
                Ok(created) => created,
                // Made in the meantime (a first login, the SCIM sync): that user is the person.
                Err(e) if e.kind() == crate::ErrorKind::AlreadyExists => {
                    by_user_name(&ws.client, &desired.user_name)
                        .await?
                        .ok_or_else(|| ProviderError::from(e))?
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    // Read back, so the result is what a read reports; the answer itself while the read lags.
    let read_back = match user.id.as_deref() {
        Some(id) => users.get_attributes(id, Some(READ_ATTRIBUTES)).await?,
        None => None,
    };
    observed_user(&ws, read_back.as_ref().unwrap_or(&user))
}

/// Only the display name changes in place (`user_name` forces replacement).
pub(crate) async fn update(
    p: &DatabricksProvider,
    object_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let desired = UserAttributes::desired(attributes)?;
    let (workspace_id, id) = split_scoped(KIND, object_id)?;
    let ws = p
        .workspace(workspace_id)
        .await?
        .ok_or_else(|| gone(KIND, object_id))?;
    let users = ws.client.users();
    let user = users
        .get_attributes(id, Some(READ_ATTRIBUTES))
        .await?
        .ok_or_else(|| gone(KIND, object_id))?;
    // Every attribute forces a replacement; nothing is changed in place.
    let _ = desired;
    observed_user(&ws, &user)
}

/// Leaves the user in place: the identity provider owns users, and deleting one would take the
/// person's notebooks and grants with it. The engine forgets the record instead
/// (`retain_on_delete`) and never calls this; it is safe should anything else.
pub(crate) async fn delete(_p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    tracing::info!(
        object_id,
        "{KIND}: users are owned by the identity provider; the user is left in place"
    );
    Ok(())
}

/// The user whose `userName` is `lookup.name` in the workspace at `lookup.scope`. (The create
/// adopts an existing user by itself, so a lost create sent again is harmless even when the
/// lookup's name is the display name, which finds nothing here.)
pub(crate) async fn find(
    p: &DatabricksProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let (Some(url), Some(name)) = (&lookup.scope, &lookup.name) else {
        return Ok(None);
    };
    let Some(ws) = workspace_if_any(p, url).await? else {
        return Ok(None);
    };
    match by_user_name(&ws.client, name).await? {
        Some(user) => observed_user(&ws, &user).map(Some),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_without_a_name_is_refused() {
        let attributes = json!({"workspace_url": "https://w", "user_name": " "});
        let e = UserAttributes::desired(attributes.as_object().unwrap()).unwrap_err();
        assert_eq!(e.class, brickstack_provider::ErrorClass::InvalidInput);
    }

    #[test]
    fn a_created_user_is_named_from_the_e_mail() {
        assert_eq!(display_name_of("ana.silva@example.com"), "Ana Silva");
        assert_eq!(display_name_of("BO_LEE-x@example.com"), "Bo Lee X");
        assert_eq!(display_name_of("cy@example.com"), "Cy");
    }

    #[test]
    fn users_are_retained_on_delete() {
        let schema = schema();
        assert!(schema.retain_on_delete);
        assert_eq!(schema.behaviour("id"), AttributeBehaviour::Computed);
    }
}
