//! `databricks_instance_profile`: an AWS instance profile registered with a workspace. The native
//! id and the computed `id` are the profile's ARN (object id `<workspace_id>/<ARN>`).
//!
//! The API has no call for one profile: reads list them.

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, ErrorClass, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::nothing_updates;
use super::{done_if_not_found, invalid_input, observed, parse, scoped_id, split_scoped};
use crate::ErrorKind;
use crate::provider::{DatabricksProvider, Workspace};
use crate::workspace::instance_profiles::InstanceProfile;

pub(crate) const KIND: &str = "databricks_instance_profile";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct InstanceProfileAttributes {
    workspace_url: String,
    instance_profile_arn: String,
    #[serde(default)]
    is_meta_instance_profile: bool,
}

/// Refuses what is not an instance profile ARN (`arn:<partition>:iam::<account>:instance-profile/…`);
/// the workspace only finds out at cluster launch.
pub(crate) fn check_arn(kind: &str, attribute: &str, arn: &str) -> Result<(), ProviderError> {
    let resource = arn.splitn(6, ':').nth(5);
    if arn.starts_with("arn:") && resource.is_some_and(|r| r.starts_with("instance-profile/")) {
        return Ok(());
    }
    Err(invalid_input(
        kind,
        format!("`{attribute}` is `{arn}`, not an instance profile ARN"),
    ))
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("workspace_url", AttributeBehaviour::ForcesReplacement)
        .attribute(
            "instance_profile_arn",
            AttributeBehaviour::ForcesReplacement,
        )
        // The edit call only changes the IAM role ARN.
        .attribute(
            "is_meta_instance_profile",
            AttributeBehaviour::ForcesReplacement,
        )
        .attribute("id", AttributeBehaviour::Computed)
}

fn observed_profile(ws: &Workspace, profile: &InstanceProfile) -> Observed {
    let attributes = InstanceProfileAttributes {
        workspace_url: ws.client.host().to_string(),
        instance_profile_arn: profile.instance_profile_arn.clone(),
        is_meta_instance_profile: profile.is_meta_instance_profile,
    };
    observed(
        &scoped_id(ws.id, &profile.instance_profile_arn),
        &attributes,
        [("id", json!(profile.instance_profile_arn))],
    )
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let (workspace_id, arn) = split_scoped(KIND, object_id)?;
    let Some(ws) = p.workspace(workspace_id).await? else {
        return Ok(None);
    };
    Ok(ws
        .client
        .get_instance_profile(arn)
        .await?
        .map(|profile| observed_profile(&ws, &profile)))
}

/// Registers the profile. A profile already registered with the same settings is the object
/// the spec describes (a workspace registers an ARN once; there is nothing else to tell two
/// registrations apart by), so it is adopted: that is also how a create whose answer was lost
/// completes on the next run.
pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    let desired: InstanceProfileAttributes = parse(KIND, &request.attributes)?;
    check_arn(KIND, "instance_profile_arn", &desired.instance_profile_arn)?;
    let ws = p.workspace_at(&desired.workspace_url).await?;
    let profile = InstanceProfile {
        is_meta_instance_profile: desired.is_meta_instance_profile,
        ..InstanceProfile::new(&desired.instance_profile_arn)
    };
    match ws.client.add_instance_profile(&profile, false).await {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            let registered = ws
                .client
                .get_instance_profile(&profile.instance_profile_arn)
                .await?;
            return match registered {
                Some(r) if r.is_meta_instance_profile == profile.is_meta_instance_profile => {
                    Ok(observed_profile(&ws, &r))
                }
                _ => Err(ProviderError::new(
                    ErrorClass::Conflict,
                    e.code(),
                    format!(
                        "{KIND}: `{}` is registered already, with `is_meta_instance_profile` other than desired; hint: remove it from the workspace, then apply again",
                        profile.instance_profile_arn
                    ),
                )),
            };
        }
        Err(e) => return Err(e.into()),
    }
    // The list is the only read; report what it shows, or what was registered while it lags.
    let registered = ws
        .client
        .get_instance_profile(&profile.instance_profile_arn)
        .await?
        .unwrap_or(profile);
    Ok(observed_profile(&ws, &registered))
}

pub(crate) async fn update(
    _p: &DatabricksProvider,
    _object_id: &str,
    _attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    Err(nothing_updates(KIND))
}

pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    let (workspace_id, arn) = split_scoped(KIND, object_id)?;
    let Some(ws) = p.workspace(workspace_id).await? else {
        return Ok(());
    };
    done_if_not_found(ws.client.remove_instance_profile(arn).await)
}

/// The lookup carries no ARN to find by; `create` adopts a registration it collides with, so a
/// lost create completes when the engine creates again.
pub(crate) async fn find(
    _p: &DatabricksProvider,
    _lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_instance_profile_arns_pass() {
        check_arn(KIND, "a", "arn:aws:iam::123456789012:instance-profile/meta").unwrap();
        check_arn(
            KIND,
            "a",
            "arn:aws-us-gov:iam::123456789012:instance-profile/p/x",
        )
        .unwrap();
        for bad in [
            "not-an-arn",
            "arn:aws:iam::123456789012:role/meta",
            "instance-profile/meta",
        ] {
            assert!(check_arn(KIND, "a", bad).is_err(), "{bad}");
        }
    }
}
