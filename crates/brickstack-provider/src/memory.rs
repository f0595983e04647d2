//! An in-memory provider with failure injection, for engine tests and no-network benchmarks.
//!
//! Objects live in a map. Faults are matched by operation and address (or kind) and can return an
//! error, add latency, or simulate a crash: `HangBeforeCall` never performs the operation and
//! `HangAfterCall` performs it but never returns, so a test that drops the run there reproduces a
//! process killed between the cloud call and the state commit. `FailAfterCall` performs it and
//! then fails: an answer lost on the way back.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use brickstack_state::ObjectLookup;
use serde_json::Value;

use crate::error::ProviderError;
use crate::provider::{Attributes, CreateRequest, Observed, Presence, Provider, SurveyObject};
use crate::schema::{AttributeBehaviour, KindSchema};
use crate::secrets::{SecretMetadata, SecretStore, SecretValue, SecretWrite};

/// The provider operations a fault can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Read,
    Create,
    Update,
    Delete,
    Find,
    Survey,
    /// [`Provider::empty`]: the object's data removed before its delete.
    Empty,
}

/// What an injected fault does.
#[derive(Debug, Clone)]
pub enum FaultEffect {
    Fail(ProviderError),
    Delay(Duration),
    HangBeforeCall,
    HangAfterCall,
    /// The operation takes effect, then this error is returned (mark it `maybe_applied` for a
    /// timeout or a dropped connection).
    FailAfterCall(ProviderError),
}

#[derive(Debug, Clone)]
struct Fault {
    operation: Operation,
    /// An address (`aws_vpc.main`) or a kind (`aws_vpc`).
    target: String,
    effect: FaultEffect,
    remaining: usize,
}

/// One object held by the provider.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryObject {
    pub kind: String,
    pub address: String,
    pub object_id: String,
    pub attributes: Attributes,
    pub lookup: ObjectLookup,
    /// Data the object holds (files in a bucket), for the destroy-data guard.
    pub contents: u64,
}

#[derive(Debug, Default)]
struct Inner {
    objects: BTreeMap<String, MemoryObject>,
    next_id: u64,
    faults: Vec<Fault>,
    calls: Vec<(Operation, String)>,
}

/// The in-memory provider. Cheap to share behind an `Arc`.
#[derive(Debug, Default)]
pub struct MemoryProvider {
    inner: Mutex<Inner>,
    schemas: Mutex<BTreeMap<String, KindSchema>>,
    /// Kinds `survey` leaves out, as a cloud's tagging listing leaves out untaggable kinds.
    unsurveyed: Mutex<Vec<String>>,
    /// Attributes a kind's cloud computes (`key_id`, `workspace_url`), set on create.
    computed: Mutex<BTreeMap<String, Vec<String>>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl MemoryProvider {
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares a kind's schema; kinds without one get `id` and `arn` computed, all else updatable.
    pub fn with_schema(self, schema: KindSchema) -> Self {
        self.schemas
            .lock()
            .unwrap()
            .insert(schema.kind.clone(), schema);
        self
    }

    /// Makes `create` of `kind` report `attribute` (its value: the object id), as a cloud
    /// computes a key's `key_id` or a workspace's `workspace_url`, for graphs that refer to it.
    pub fn with_computed(self, kind: &str, attribute: &str) -> Self {
        self.computed
            .lock()
            .unwrap()
            .entry(kind.to_string())
            .or_default()
            .push(attribute.to_string());
        self
    }

    /// Leaves `kind` out of `survey` answers (a kind the tagging listing does not cover).
    pub fn without_survey(self, kind: &str) -> Self {
        self.unsurveyed.lock().unwrap().push(kind.to_string());
        self
    }

    /// Injects a fault for the next `times` matching calls.
    pub fn inject(&self, operation: Operation, target: &str, effect: FaultEffect, times: usize) {
        self.inner.lock().unwrap().faults.push(Fault {
            operation,
            target: target.to_string(),
            effect,
            remaining: times,
        });
    }

    pub fn clear_faults(&self) {
        self.inner.lock().unwrap().faults.clear();
    }

    /// Every object, by object id.
    pub fn objects(&self) -> Vec<MemoryObject> {
        self.inner
            .lock()
            .unwrap()
            .objects
            .values()
            .cloned()
            .collect()
    }

    /// Objects created for an address (more than one means a duplicate).
    pub fn objects_for(&self, address: &str) -> Vec<MemoryObject> {
        self.objects()
            .into_iter()
            .filter(|o| o.address == address)
            .collect()
    }

    /// Changes an object behind brickstack's back (drift).
    pub fn set_attribute(&self, object_id: &str, name: &str, value: Value) {
        if let Some(o) = self.inner.lock().unwrap().objects.get_mut(object_id) {
            o.attributes.insert(name.to_string(), value);
        }
    }

    /// Deletes an object behind brickstack's back.
    pub fn remove_object(&self, object_id: &str) {
        self.inner.lock().unwrap().objects.remove(object_id);
    }

    /// Puts data into an object (files into a bucket).
    pub fn set_contents(&self, object_id: &str, contents: u64) {
        if let Some(o) = self.inner.lock().unwrap().objects.get_mut(object_id) {
            o.contents = contents;
        }
    }

    /// The calls made so far, in order, as `(operation, address or kind)`.
    pub fn calls(&self) -> Vec<(Operation, String)> {
        self.inner.lock().unwrap().calls.clone()
    }

    /// The most operations that were ever running at once.
    pub fn max_concurrency(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    fn take_fault(&self, operation: Operation, address: &str, kind: &str) -> Option<FaultEffect> {
        let mut inner = self.inner.lock().unwrap();
        inner.calls.push((operation, address.to_string()));
        let fault = inner.faults.iter_mut().find(|f| {
            f.operation == operation && f.remaining > 0 && (f.target == address || f.target == kind)
        })?;
        fault.remaining -= 1;
        Some(fault.effect.clone())
    }

    /// Runs `body` under the fault that matches, tracking concurrency.
    async fn call<T>(
        &self,
        operation: Operation,
        address: &str,
        kind: &str,
        body: impl FnOnce(&Self) -> Result<T, ProviderError>,
    ) -> Result<T, ProviderError> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let _guard = InFlight(&self.in_flight);
        // Let other tasks run, as a network call would.
        tokio::task::yield_now().await;
        match self.take_fault(operation, address, kind) {
            Some(FaultEffect::Fail(error)) => Err(error),
            Some(FaultEffect::Delay(delay)) => {
                tokio::time::sleep(delay).await;
                body(self)
            }
            Some(FaultEffect::HangBeforeCall) => std::future::pending().await,
            Some(FaultEffect::HangAfterCall) => {
                let _ = body(self);
                std::future::pending().await
            }
            Some(FaultEffect::FailAfterCall(error)) => {
                let _ = body(self);
                Err(error)
            }
            None => body(self),
        }
    }

    fn address_of(&self, object_id: &str) -> String {
        self.inner
            .lock()
            .unwrap()
            .objects
            .get(object_id)
            .map(|o| o.address.clone())
            .unwrap_or_default()
    }

    fn observed(object: &MemoryObject) -> Observed {
        Observed {
            object_id: object.object_id.clone(),
            attributes: object.attributes.clone(),
        }
    }
}

struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn default_schema(kind: &str) -> KindSchema {
    KindSchema::new(kind)
        .attribute("id", AttributeBehaviour::Computed)
        .attribute("arn", AttributeBehaviour::Computed)
}

impl Provider for MemoryProvider {
    fn schema(&self, kind: &str) -> Option<KindSchema> {
        Some(
            self.schemas
                .lock()
                .unwrap()
                .get(kind)
                .cloned()
                .unwrap_or_else(|| default_schema(kind)),
        )
    }

    async fn context(&self) -> Result<BTreeMap<String, String>, ProviderError> {
        Ok(BTreeMap::from([(
            "account_id".to_string(),
            "123456789012".to_string(),
        )]))
    }

    async fn read(&self, kind: &str, object_id: &str) -> Result<Option<Observed>, ProviderError> {
        let address = self.address_of(object_id);
        self.call(Operation::Read, &address, kind, |p| {
            Ok(p.inner
                .lock()
                .unwrap()
                .objects
                .get(object_id)
                .map(Self::observed))
        })
        .await
    }

    async fn read_many(
        &self,
        kind: &str,
        object_ids: &[String],
    ) -> Result<BTreeMap<String, Observed>, ProviderError> {
        self.call(Operation::Read, kind, kind, |p| {
            let inner = p.inner.lock().unwrap();
            Ok(object_ids
                .iter()
                .filter_map(|id| inner.objects.get(id))
                .filter(|o| o.kind == kind)
                .map(|o| (o.object_id.clone(), Self::observed(o)))
                .collect())
        })
        .await
    }

    async fn create(&self, request: &CreateRequest) -> Result<Observed, ProviderError> {
        self.call(Operation::Create, &request.address, &request.kind, |p| {
            let mut inner = p.inner.lock().unwrap();
            inner.next_id += 1;
            let object_id = format!("{}-{:04}", request.kind.replace('_', "-"), inner.next_id);
            let mut attributes = request.attributes.clone();
            attributes.insert("id".into(), Value::String(object_id.clone()));
            attributes.insert(
                "arn".into(),
                Value::String(format!("arn:memory:{}:{object_id}", request.kind)),
            );
            for name in p
                .computed
                .lock()
                .unwrap()
                .get(&request.kind)
                .into_iter()
                .flatten()
            {
                attributes
                    .entry(name.clone())
                    .or_insert_with(|| Value::String(object_id.clone()));
            }
            let object = MemoryObject {
                kind: request.kind.clone(),
                address: request.address.clone(),
                object_id: object_id.clone(),
                attributes,
                lookup: request.lookup.clone(),
                contents: 0,
            };
            let observed = Self::observed(&object);
            inner.objects.insert(object_id, object);
            Ok(observed)
        })
        .await
    }

    async fn update(
        &self,
        kind: &str,
        object_id: &str,
        attributes: &Attributes,
    ) -> Result<Observed, ProviderError> {
        let address = self.address_of(object_id);
        self.call(Operation::Update, &address, kind, |p| {
            let mut inner = p.inner.lock().unwrap();
            let Some(object) = inner.objects.get_mut(object_id) else {
                return Err(ProviderError::new(
                    crate::ErrorClass::NotFound,
                    "NotFound",
                    format!("no {kind} `{object_id}`"),
                ));
            };
            for (k, v) in attributes {
                object.attributes.insert(k.clone(), v.clone());
            }
            Ok(Self::observed(object))
        })
        .await
    }

    /// Refuses an object that still holds data, as S3 refuses a bucket that is not empty.
    async fn delete(&self, kind: &str, object_id: &str) -> Result<(), ProviderError> {
        let address = self.address_of(object_id);
        self.call(Operation::Delete, &address, kind, |p| {
            let mut inner = p.inner.lock().unwrap();
            if let Some(held) = inner.objects.get(object_id).map(|o| o.contents)
                && held > 0
            {
                return Err(ProviderError::new(
                    crate::ErrorClass::Conflict,
                    "NotEmpty",
                    format!("{kind} `{object_id}` still holds {held} object(s)"),
                ));
            }
            inner.objects.remove(object_id);
            Ok(())
        })
        .await
    }

    async fn find(
        &self,
        kind: &str,
        lookup: &ObjectLookup,
    ) -> Result<Option<Observed>, ProviderError> {
        let address = lookup
            .tags
            .get("brickstack:address")
            .cloned()
            .unwrap_or_default();
        self.call(Operation::Find, &address, kind, |p| {
            let inner = p.inner.lock().unwrap();
            Ok(inner
                .objects
                .values()
                .find(|o| {
                    o.kind == kind
                        && ((lookup.name.is_some() && o.lookup.name == lookup.name)
                            || (!lookup.tags.is_empty()
                                && lookup
                                    .tags
                                    .iter()
                                    .all(|(k, v)| o.lookup.tags.get(k) == Some(v))))
                })
                .map(Self::observed))
        })
        .await
    }

    /// One call for every object: present (with its `tags` attribute) or gone, except the kinds
    /// set aside with [`MemoryProvider::without_survey`].
    async fn survey(
        &self,
        environment: &str,
        objects: &[SurveyObject],
    ) -> Result<BTreeMap<SurveyObject, Presence>, ProviderError> {
        self.call(Operation::Survey, environment, "", |p| {
            let unsurveyed = p.unsurveyed.lock().unwrap();
            let inner = p.inner.lock().unwrap();
            Ok(objects
                .iter()
                .filter(|o| !unsurveyed.contains(&o.kind))
                .map(|o| {
                    let presence = match inner.objects.get(&o.object_id) {
                        Some(found) => Presence::Present {
                            tags: found
                                .attributes
                                .get("tags")
                                .and_then(|t| serde_json::from_value(t.clone()).ok()),
                        },
                        None => Presence::Gone,
                    };
                    (o.clone(), presence)
                })
                .collect())
        })
        .await
    }

    async fn empty(&self, kind: &str, object_id: &str) -> Result<(), ProviderError> {
        let address = self.address_of(object_id);
        self.call(Operation::Empty, &address, kind, |p| {
            if let Some(o) = p.inner.lock().unwrap().objects.get_mut(object_id) {
                o.contents = 0;
            }
            Ok(())
        })
        .await
    }

    async fn contents(&self, _kind: &str, object_id: &str) -> Result<u64, ProviderError> {
        Ok(self
            .inner
            .lock()
            .unwrap()
            .objects
            .get(object_id)
            .map_or(0, |o| o.contents))
    }
}

/// A [`SecretStore`] in memory, for tests of kinds that store secrets: versions count up per
/// name like SSM's, and [`MemorySecrets::values`] lets a test search output for leaks.
#[derive(Debug, Default)]
pub struct MemorySecrets {
    secrets: Mutex<BTreeMap<String, (SecretValue, SecretMetadata)>>,
}

impl MemorySecrets {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every stored value, by name.
    pub fn values(&self) -> BTreeMap<String, SecretValue> {
        self.secrets
            .lock()
            .unwrap()
            .iter()
            .map(|(name, (value, _))| (name.clone(), value.clone()))
            .collect()
    }
}

impl SecretStore for MemorySecrets {
    async fn put(&self, secret: &SecretWrite<'_>) -> Result<SecretMetadata, ProviderError> {
        let mut secrets = self.secrets.lock().unwrap();
        let version = secrets
            .get(secret.name)
            .map_or(1, |(_, meta)| meta.version + 1);
        let meta = SecretMetadata {
            name: secret.name.to_string(),
            version,
            kms_key_id: Some(secret.kms_key_id.to_string()),
            tags: secret.tags.clone(),
        };
        secrets.insert(
            secret.name.to_string(),
            (secret.value.clone(), meta.clone()),
        );
        Ok(meta)
    }

    async fn describe(&self, name: &str) -> Result<Option<SecretMetadata>, ProviderError> {
        Ok(self
            .secrets
            .lock()
            .unwrap()
            .get(name)
            .map(|(_, meta)| meta.clone()))
    }

    async fn read(&self, name: &str) -> Result<Option<SecretValue>, ProviderError> {
        Ok(self
            .secrets
            .lock()
            .unwrap()
            .get(name)
            .map(|(value, _)| value.clone()))
    }

    async fn delete(&self, name: &str) -> Result<(), ProviderError> {
        self.secrets.lock().unwrap().remove(name);
        Ok(())
    }
}
