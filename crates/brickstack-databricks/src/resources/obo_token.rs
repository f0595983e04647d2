//! `databricks_obo_token`: a token that authenticates as a service principal (`application_id`),
//! minted by the provider's principal (a workspace admin) through token management. It behaves
//! as `databricks_token` does, and shares its implementation (`token.rs`): the value goes only to
//! the secret store, the object id is `<workspace_id>/<token_id>|<value_parameter>`, every
//! attribute forces replacement, and a replacement mints before it revokes.

use brickstack_provider::{Attributes, CreateRequest, KindSchema, Observed, ProviderError};
use brickstack_state::ObjectLookup;

use super::nothing_updates;
use super::token::{Flavor, create_token, delete_token, find_token, read_token, schema_of};
use crate::provider::DatabricksProvider;

pub(crate) const KIND: &str = "databricks_obo_token";

pub(crate) fn schema() -> KindSchema {
    schema_of(KIND)
}

/// The token by id (token management), its principal's application id (from the token's owner),
/// and whether the parameter still holds its value.
pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    read_token(Flavor::OnBehalfOf, p, object_id).await
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    create_token(Flavor::OnBehalfOf, p, request).await
}

pub(crate) async fn update(
    _p: &DatabricksProvider,
    _object_id: &str,
    _attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    Err(nothing_updates(KIND))
}

pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    delete_token(Flavor::OnBehalfOf, p, object_id).await
}

/// As `databricks_token`'s: the marked token whose value the parameter holds is adopted, any
/// other marked one revoked (listed through token management).
pub(crate) async fn find(
    p: &DatabricksProvider,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    find_token(Flavor::OnBehalfOf, p, lookup).await
}
