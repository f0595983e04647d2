//! [`Pair`]: two providers as one, each kind going to the provider whose schema knows it (AWS
//! and Databricks for a whole environment), so the engine still sees a single provider.

use std::collections::BTreeMap;

use brickstack_state::ObjectLookup;

use crate::error::{ErrorClass, ProviderError};
use crate::provider::{Attributes, CreateRequest, Observed, Presence, Provider, SurveyObject};
use crate::schema::KindSchema;

/// `first` serves the kinds it has a schema for; `second` the rest.
#[derive(Debug)]
pub struct Pair<A, B> {
    pub first: A,
    pub second: B,
}

/// Which of the two serves a kind.
enum Side {
    First,
    Second,
}

impl<A: Provider, B: Provider> Pair<A, B> {
    pub fn new(first: A, second: B) -> Self {
        Pair { first, second }
    }

    fn side(&self, kind: &str) -> Result<Side, ProviderError> {
        if self.first.schema(kind).is_some() {
            Ok(Side::First)
        } else if self.second.schema(kind).is_some() {
            Ok(Side::Second)
        } else {
            Err(ProviderError::new(
                ErrorClass::InvalidInput,
                "UnsupportedKind",
                format!("no provider serves `{kind}`"),
            ))
        }
    }
}

impl<A: Provider, B: Provider> Provider for Pair<A, B> {
    fn schema(&self, kind: &str) -> Option<KindSchema> {
        self.first.schema(kind).or_else(|| self.second.schema(kind))
    }

    /// Both contexts; the first provider's value wins where both set one.
    async fn context(&self) -> Result<BTreeMap<String, String>, ProviderError> {
        let (first, second) = tokio::try_join!(self.first.context(), self.second.context())?;
        let mut merged = second;
        merged.extend(first);
        Ok(merged)
    }

    async fn read(&self, kind: &str, object_id: &str) -> Result<Option<Observed>, ProviderError> {
        match self.side(kind)? {
            Side::First => self.first.read(kind, object_id).await,
            Side::Second => self.second.read(kind, object_id).await,
        }
    }

    async fn read_many(
        &self,
        kind: &str,
        object_ids: &[String],
    ) -> Result<BTreeMap<String, Observed>, ProviderError> {
        match self.side(kind)? {
            Side::First => self.first.read_many(kind, object_ids).await,
            Side::Second => self.second.read_many(kind, object_ids).await,
        }
    }

    async fn create(&self, request: &CreateRequest) -> Result<Observed, ProviderError> {
        match self.side(&request.kind)? {
            Side::First => self.first.create(request).await,
            Side::Second => self.second.create(request).await,
        }
    }

    async fn update(
        &self,
        kind: &str,
        object_id: &str,
        attributes: &Attributes,
    ) -> Result<Observed, ProviderError> {
        match self.side(kind)? {
            Side::First => self.first.update(kind, object_id, attributes).await,
            Side::Second => self.second.update(kind, object_id, attributes).await,
        }
    }

    async fn delete(&self, kind: &str, object_id: &str) -> Result<(), ProviderError> {
        match self.side(kind)? {
            Side::First => self.first.delete(kind, object_id).await,
            Side::Second => self.second.delete(kind, object_id).await,
        }
    }

    async fn find(
        &self,
        kind: &str,
        lookup: &ObjectLookup,
    ) -> Result<Option<Observed>, ProviderError> {
        match self.side(kind)? {
            Side::First => self.first.find(kind, lookup).await,
            Side::Second => self.second.find(kind, lookup).await,
        }
    }

    async fn discover(
        &self,
        kind: &str,
        desired: &Attributes,
        lookup: &ObjectLookup,
    ) -> Result<Option<Observed>, ProviderError> {
        match self.side(kind)? {
            Side::First => self.first.discover(kind, desired, lookup).await,
            Side::Second => self.second.discover(kind, desired, lookup).await,
        }
    }

    /// Each provider surveys its own kinds.
    async fn survey(
        &self,
        environment: &str,
        objects: &[SurveyObject],
    ) -> Result<BTreeMap<SurveyObject, Presence>, ProviderError> {
        let (first, second): (Vec<SurveyObject>, Vec<SurveyObject>) = objects
            .iter()
            .cloned()
            .partition(|o| self.first.schema(&o.kind).is_some());
        let (mut a, b) = tokio::try_join!(
            self.first.survey(environment, &first),
            self.second.survey(environment, &second)
        )?;
        a.extend(b);
        Ok(a)
    }

    async fn contents(&self, kind: &str, object_id: &str) -> Result<u64, ProviderError> {
        match self.side(kind)? {
            Side::First => self.first.contents(kind, object_id).await,
            Side::Second => self.second.contents(kind, object_id).await,
        }
    }

    async fn empty(&self, kind: &str, object_id: &str) -> Result<(), ProviderError> {
        match self.side(kind)? {
            Side::First => self.first.empty(kind, object_id).await,
            Side::Second => self.second.empty(kind, object_id).await,
        }
    }
}
