//! The trait each cloud adapter implements, one operation per call.

use std::collections::BTreeMap;
use std::future::Future;

use brickstack_state::ObjectLookup;

use crate::error::{ErrorClass, ProviderError};
use crate::schema::KindSchema;

/// Attribute values as JSON, references already resolved.
pub type Attributes = serde_json::Map<String, serde_json::Value>;

/// An object as the cloud reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub object_id: String,
    pub attributes: Attributes,
}

/// Everything `create` needs: what to make, and how to find it again if the result is lost.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateRequest {
    pub address: String,
    pub kind: String,
    pub attributes: Attributes,
    pub lookup: ObjectLookup,
}

/// What a minimal refresh learned of one object without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    /// The object exists; `tags` are its tags when the listing reports them.
    Present {
        tags: Option<BTreeMap<String, String>>,
    },
    /// The object no longer exists.
    Gone,
}

/// One recorded object a minimal refresh asks about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SurveyObject {
    pub kind: String,
    pub object_id: String,
}

/// Read, batched read, create, update, delete and find for the kinds a provider serves.
///
/// Lifecycle contract (`docs/lifecycle.md`): `read` of a missing object is `Ok(None)`, never an
/// error; `delete` of a missing object succeeds; `find` locates an object by its deterministic
/// name or brickstack's tags so an interrupted create can be adopted instead of duplicated.
pub trait Provider: Send + Sync {
    /// The kinds this provider serves and how their attributes behave.
    fn schema(&self, kind: &str) -> Option<KindSchema>;

    /// Values the credentials in use determine, such as `account_id`.
    fn context(
        &self,
    ) -> impl Future<Output = Result<BTreeMap<String, String>, ProviderError>> + Send;

    fn read(
        &self,
        kind: &str,
        object_id: &str,
    ) -> impl Future<Output = Result<Option<Observed>, ProviderError>> + Send;

    /// Reads many objects of one kind, with as few calls as the API allows. Missing objects are
    /// absent from the result.
    fn read_many(
        &self,
        kind: &str,
        object_ids: &[String],
    ) -> impl Future<Output = Result<BTreeMap<String, Observed>, ProviderError>> + Send;

    fn create(
        &self,
        request: &CreateRequest,
    ) -> impl Future<Output = Result<Observed, ProviderError>> + Send;

    fn update(
        &self,
        kind: &str,
        object_id: &str,
        attributes: &Attributes,
    ) -> impl Future<Output = Result<Observed, ProviderError>> + Send;

    fn delete(
        &self,
        kind: &str,
        object_id: &str,
    ) -> impl Future<Output = Result<(), ProviderError>> + Send;

    /// Finds an object by name or tags; used to resolve a create journaled but never recorded.
    fn find(
        &self,
        kind: &str,
        lookup: &ObjectLookup,
    ) -> impl Future<Output = Result<Option<Observed>, ProviderError>> + Send;

    /// Finds the existing object a desired resource would be (`brickstack import --discover`):
    /// `desired` is the resource's attributes with every reference resolved, `lookup` what
    /// [`Provider::find`] would get for it. Defaults to `find`; a kind whose objects were made
    /// outside brickstack (without its tags) overrides it to match on what identifies such an
    /// object (a subnet by its VPC and CIDR block, a workspace by its name). Only ever reads.
    fn discover(
        &self,
        kind: &str,
        desired: &Attributes,
        lookup: &ObjectLookup,
    ) -> impl Future<Output = Result<Option<Observed>, ProviderError>> + Send {
        let _ = desired;
        self.find(kind, lookup)
    }

    /// The minimal refresh (`--refresh=minimal`): whether each of `objects` of `environment` still
    /// exists, and its tags, in as few calls as the cloud allows, without the per-object reads
    /// of a full refresh. Objects it cannot check this way are left out of the answer, and the
    /// engine keeps what state recorded for them.
    fn survey(
        &self,
        environment: &str,
        objects: &[SurveyObject],
    ) -> impl Future<Output = Result<BTreeMap<SurveyObject, Presence>, ProviderError>> + Send;

    /// For kinds that hold data: how many objects (files, versions) the object holds.
    fn contents(
        &self,
        kind: &str,
        object_id: &str,
    ) -> impl Future<Output = Result<u64, ProviderError>> + Send;

    /// For kinds that hold data: removes everything the object holds (every object version and
    /// delete marker of a bucket), so that `delete` can then delete it. The engine calls it only
    /// under `--destroy-data`, right before the delete. A kind with nothing to remove is refused
    /// (`NothingToEmpty`) rather than silently skipped.
    fn empty(
        &self,
        kind: &str,
        object_id: &str,
    ) -> impl Future<Output = Result<(), ProviderError>> + Send {
        let refused = ProviderError::new(
            ErrorClass::Fatal,
            "NothingToEmpty",
            format!("kind `{kind}` holds no data this provider can remove (`{object_id}`)"),
        );
        async move { Err(refused) }
    }
}
