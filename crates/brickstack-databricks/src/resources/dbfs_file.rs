//! `databricks_dbfs_file`: SCAFFOLD, to be written (every operation refuses).

use brickstack_provider::{Attributes, CreateRequest, KindSchema, Observed, ProviderError};
use brickstack_state::ObjectLookup;

use super::unsupported_kind;
use crate::provider::DatabricksProvider;

pub(crate) const KIND: &str = "databricks_dbfs_file";

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
}

pub(crate) async fn read(
    _p: &DatabricksProvider,
    _object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    Err(unsupported_kind(KIND))
}

pub(crate) async fn create(
    _p: &DatabricksProvider,
    _request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    Err(unsupported_kind(KIND))
}

pub(crate) async fn update(
    _p: &DatabricksProvider,
    _object_id: &str,
    _attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    Err(unsupported_kind(KIND))
}

pub(crate) async fn delete(_p: &DatabricksProvider, _object_id: &str) -> Result<(), ProviderError> {
    Err(unsupported_kind(KIND))
}

pub(crate) async fn find(
    _p: &DatabricksProvider,
    _lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    Err(unsupported_kind(KIND))
}
