//! The S3 state backend: the state object in a versioned bucket, encrypted with SSE-KMS and
//! written conditionally on the ETag this handle last saw; the lock an item of a DynamoDB table,
//! taken, renewed and removed with conditional writes.
//!
//! * Lock item: `LockID = "<bucket>/<key>"` (Terraform's layout, so one table serves many states),
//!   `ID` = the lock id (for conditions), `Info` = the [`LockInfo`] as JSON (for people and
//!   `force-unlock`). Lock: `PutItem` if `attribute_not_exists(LockID)`; heartbeat: `UpdateItem`
//!   of `Info` if `ID` matches; unlock and force-unlock: `DeleteItem` if `ID` matches. Every
//!   refusal returns the item as it was (`ReturnValuesOnConditionCheckFailure=ALL_OLD`), so the
//!   error names the actual holder without a second, racy read.
//! * Lease items ([`LeaseStore`]): `LockID = "<bucket>/<key>#<name>"`, `Holder` (string) and
//!   `Expires` (epoch milliseconds, a number) in the same table. Acquire: `PutItem` if
//!   `attribute_not_exists(LockID) OR Expires <= :now OR Holder = :me` (free, expired, or a
//!   renewal); a refusal returns the item (the holder's lease), else `GetItem` reads it. Release:
//!   `DeleteItem` if `Holder = :me`; a refusal means it was not ours, which is nothing to do. A
//!   renewal sent again after a lost answer is still ours by its condition; the release is not
//!   sent again (as the unlock), and after an ambiguous failure the item says whether it went.
//! * State object: `GetObject` (the document and its ETag); `PutObject` with `aws:kms` and the
//!   key, `If-Match: <ETag>` (or `If-None-Match: *` when there was no object): a concurrent writer
//!   makes S3 answer 412, which is [`StateError::WriteConflict`].
//! * Journal: a write that hands over its delta ([`StateStore::write_delta`]) puts one object
//!   `<key>.journal/<serial, 20 digits>.json` (the record, [`Delta::to_json_line`]) with
//!   `If-None-Match: *`: two writers of one serial cannot both land, and a 412 is a
//!   `WriteConflict` (unless the object holds exactly this record: an attempt whose answer was
//!   lost). It then checks with `HeadObject` that the document is still the one this handle saw
//!   (a compaction in between would leave the record behind it, skipped on replay). Every whole
//!   write (a compaction, `write`) first claims its serial the same way with an empty record,
//!   then puts the document with `If-Match`, then deletes the records it holds. A read lists the
//!   prefix and replays the records above the document's serial in order. So a write costs
//!   three calls and its delta's bytes, plus, amortised, a compaction once the records outweigh
//!   the document ([`compaction_due`]).
//! * Retries: the SDK's one retry layer (`crate::retry`) sends the conditional writes again after
//!   a lost answer, because each reads its own lost answer correctly: a `PutObject` refused 412 is
//!   ours if the object now holds exactly our bytes; a lock `PutItem` refused is ours if the
//!   holder's id is ours; a heartbeat's condition still holds. The unlock's `DeleteItem` is not
//!   sent again (its second send would be refused as if the lock had never been ours): after an
//!   ambiguous failure the lock item says whether it went through.

#![allow(
    clippy::result_large_err,
    reason = "`StateError` names the lock holder (a `LockInfo`); it is returned once per backend call, next to disk or network I/O"
)]

use std::collections::HashMap;
use std::error::Error;
use std::sync::{Mutex, MutexGuard, PoisonError};

use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use brickstack_state::{
    Delta, Lease, LeaseStore, LockInfo, LockRequest, State, StateError, StateStore, check_write,
    compaction_due,
};
use time::OffsetDateTime;

use crate::classify::classify;
use crate::clients::AwsClients;

/// The lock table's partition key (a string).
pub const LOCK_TABLE_KEY: &str = "LockID";
const ID: &str = "ID";
const INFO: &str = "Info";
/// A lease item's holder (a string) and expiry (epoch milliseconds, a number).
const HOLDER: &str = "Holder";
const EXPIRES: &str = "Expires";

/// One environment's state in S3, locked in DynamoDB.
#[derive(Debug)]
pub struct S3Store {
    s3: aws_sdk_s3::Client,
    dynamodb: aws_sdk_dynamodb::Client,
    bucket: String,
    key: String,
    lock_table: String,
    kms_key_id: String,
    /// The object version this handle last read or wrote; `None`: not read yet (or S3 gave no
    /// ETag). Writes are conditional on it.
    view: Mutex<Option<Seen>>,
    /// The state (document and records) this handle last read or wrote, for appends.
    journal: Mutex<Option<JournalView>>,
}

/// What a handle knows of the stored state beyond the document's ETag.
#[derive(Debug, Clone, PartialEq, Eq)]
struct JournalView {
    /// Lineage and serial of the state with its records replayed; `None`: no state.
    version: Option<(String, u64)>,
    document_bytes: u64,
    /// Bytes of the records above the document's serial.
    journal_bytes: u64,
}

/// What a handle saw at the state's key.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    NoObject,
    Object { etag: String },
}

/// The object as fetched.
struct Fetched {
    state: Option<State>,
    bytes: Option<Vec<u8>>,
    seen: Option<Seen>,
}

/// The document with its records replayed.
struct Replayed {
    state: Option<State>,
    seen: Option<Seen>,
    journal: JournalView,
}

impl S3Store {
    /// The state at `s3://bucket/key`, encrypted with `kms_key_id` (id, ARN or alias), locked in
    /// `lock_table` (partition key [`LOCK_TABLE_KEY`], a string). Makes no call.
    pub fn new(
        clients: &AwsClients,
        bucket: impl Into<String>,
        key: impl Into<String>,
        lock_table: impl Into<String>,
        kms_key_id: impl Into<String>,
    ) -> Self {
        S3Store {
            s3: clients.s3.clone(),
            dynamodb: clients.dynamodb.clone(),
            bucket: bucket.into(),
            key: key.into(),
            lock_table: lock_table.into(),
            kms_key_id: kms_key_id.into(),
            view: Mutex::new(None),
            journal: Mutex::new(None),
        }
    }

    /// The bucket the state is in.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The S3 client the store calls with.
    pub fn s3(&self) -> &aws_sdk_s3::Client {
        &self.s3
    }

    /// The prefix the journal's records live under: `<key>.journal/`.
    pub fn journal_prefix(&self) -> String {
        format!("{}.journal/", self.key)
    }

    /// The record of `serial`: `<key>.journal/<serial, 20 digits>.json`, so keys sort by serial.
    pub fn record_key(&self, serial: u64) -> String {
        format!("{}{serial:020}.json", self.journal_prefix())
    }

    fn journal_view(&self) -> MutexGuard<'_, Option<JournalView>> {
        self.journal.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every record's key and serial, in serial order.
    async fn list_records(&self) -> Result<Vec<(u64, String)>, StateError> {
        let prefix = self.journal_prefix();
        let mut records = Vec::new();
        let mut pages = self
            .s3
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.sdk_error("s3:ListObjectsV2", e))?;
            for object in page.contents() {
                let Some(key) = object.key() else { continue };
                let serial = key
                    .strip_prefix(&prefix)
                    .and_then(|name| name.strip_suffix(".json"))
                    .and_then(|digits| digits.parse::<u64>().ok());
                match serial {
                    Some(serial) => records.push((serial, key.to_string())),
                    None => {
                        return Err(StateError::Corrupt {
                            detail: format!(
                                "`s3://{}/{key}` is in the journal's prefix but is not a record",
                                self.bucket
                            ),
                        });
                    }
                }
            }
        }
        records.sort();
        Ok(records)
    }

    /// A record's bytes, or `None` if it does not exist.
    async fn get_record(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        match self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(output) => Ok(Some(
                output
                    .body
                    .collect()
                    .await
                    .map_err(|e| StateError::Backend {
                        backend: self.location(),
                        detail: format!(
                            "s3:GetObject failed reading `{key}`: {}",
                            DisplayErrorContext(&e)
                        ),
                        retryable: true,
                    })?
                    .to_vec(),
            )),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => Ok(None),
            Err(e) => Err(self.sdk_error("s3:GetObject", e)),
        }
    }

    /// The document with every record above its serial applied in order.
    async fn fetch_replayed(&self) -> Result<Replayed, StateError> {
        let fetched = self.fetch().await?;
        let document_bytes = fetched.bytes.as_ref().map_or(0, |b| b.len() as u64);
        let mut state = fetched.state;
        let mut journal_bytes = 0;
        for (serial, key) in self.list_records().await? {
            if state.as_ref().is_some_and(|s| serial <= s.serial) {
                continue;
            }
            let Some(bytes) = self.get_record(&key).await? else {
                // Deleted by a compaction since the listing: it is in the document now.
                continue;
            };
            let corrupt = |e: StateError| match e {
                StateError::Corrupt { detail } => StateError::Corrupt {
                    detail: format!("`s3://{}/{key}`: {detail}", self.bucket),
                },
                other => other,
            };
            let delta = Delta::from_json(&bytes).map_err(corrupt)?;
            let Some(state) = state.as_mut() else {
                return Err(corrupt(StateError::Corrupt {
                    detail: "a journal record with no state document".into(),
                }));
            };
            delta.apply_to(state).map_err(corrupt)?;
            journal_bytes += bytes.len() as u64;
        }
        Ok(Replayed {
            journal: JournalView {
                version: state.as_ref().map(|s| (s.lineage.clone(), s.serial)),
                document_bytes,
                journal_bytes,
            },
            state,
            seen: fetched.seen,
        })
    }

    /// Puts the record of `delta.serial` if no record of that serial exists. `Ok(false)`: one
    /// does, and it is not this one.
    async fn put_record(&self, delta: &Delta) -> Result<bool, StateError> {
        let key = self.record_key(delta.serial);
        let bytes = delta.to_json_line();
        let put = self
            .s3
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .body(ByteStream::from(bytes.clone()))
            .content_type("application/json")
            .server_side_encryption(ServerSideEncryption::AwsKms)
            .ssekms_key_id(&self.kms_key_id)
            .if_none_match("*")
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            // Ours, if an attempt whose answer was lost went through.
            Err(e) if is_precondition_failure(&e) => {
                Ok(self.get_record(&key).await?.as_deref() == Some(&bytes[..]))
            }
            Err(e) => Err(self.sdk_error("s3:PutObject", e)),
        }
    }

    /// Deletes the records at or below `serial` (in the document now). Best effort: a record
    /// left behind is skipped on replay and deleted by the next compaction.
    async fn drop_records(&self, serial: u64) {
        let result: Result<(), StateError> = async {
            let keys: Vec<String> = self
                .list_records()
                .await?
                .into_iter()
                .filter(|(s, _)| *s <= serial)
                .map(|(_, key)| key)
                .collect();
            for chunk in keys.chunks(1000) {
                let objects = chunk
                    .iter()
                    .map(|key| {
                        aws_sdk_s3::types::ObjectIdentifier::builder()
                            .key(key)
                            .build()
                            .expect("a key is set")
                    })
                    .collect();
                let delete = aws_sdk_s3::types::Delete::builder()
                    .set_objects(Some(objects))
                    .quiet(true)
                    .build()
                    .expect("objects are set");
                self.s3
                    .delete_objects()
                    .bucket(&self.bucket)
                    .delete(delete)
                    .send()
                    .await
                    .map_err(|e| self.sdk_error("s3:DeleteObjects", e))?;
            }
            Ok(())
        }
        .await;
        if let Err(error) = result {
            tracing::warn!(%error, "dropping the journal's compacted records failed; they are skipped on replay");
        }
    }

    /// The lock item's `LockID`: `<bucket>/<key>`.
    pub fn lock_id(&self) -> String {
        format!("{}/{}", self.bucket, self.key)
    }

    fn view(&self) -> MutexGuard<'_, Option<Seen>> {
        self.view.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// An SDK failure as a backend error, classified as every AWS error is ([`classify`]).
    fn sdk_error<E>(&self, operation: &str, error: SdkError<E, HttpResponse>) -> StateError
    where
        E: Error + ProvideErrorMetadata + 'static,
    {
        let classified = classify(operation, &error);
        StateError::Backend {
            backend: self.location(),
            retryable: classified.is_retryable(),
            // The code too: `StateError` shows only `detail`.
            detail: classified.to_string(),
        }
    }

    fn parse_lock(&self, item: &HashMap<String, AttributeValue>) -> Result<LockInfo, StateError> {
        let corrupt = |why: String| StateError::Corrupt {
            detail: format!(
                "lock item `{}` in DynamoDB table `{}`: {why}; if no brickstack run is going, delete the item",
                self.lock_id(),
                self.lock_table
            ),
        };
        let info = item
            .get(INFO)
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| corrupt(format!("no string attribute `{INFO}`")))?;
        serde_json::from_str(info).map_err(|e| corrupt(format!("`{INFO}` is not lock info ({e})")))
    }

    fn parse_old_lock(
        &self,
        item: Option<&HashMap<String, AttributeValue>>,
    ) -> Result<Option<LockInfo>, StateError> {
        item.filter(|i| !i.is_empty())
            .map(|i| self.parse_lock(i))
            .transpose()
    }

    /// `LockNotHeld` for `id`, naming the holder found in a refused conditional write's old item.
    fn not_held(&self, id: &str, old_item: Option<&HashMap<String, AttributeValue>>) -> StateError {
        match self.parse_old_lock(old_item) {
            Ok(current) => StateError::LockNotHeld {
                id: id.into(),
                current,
            },
            Err(e) => e,
        }
    }

    /// The current lock if its id is `id`, else `LockNotHeld` naming the actual holder.
    async fn held(&self, id: &str) -> Result<LockInfo, StateError> {
        match self.current_lock().await? {
            Some(current) if current.id == id => Ok(current),
            current => Err(StateError::LockNotHeld {
                id: id.into(),
                current,
            }),
        }
    }

    async fn fetch(&self) -> Result<Fetched, StateError> {
        let response = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .send()
            .await;
        let output = match response {
            Ok(output) => output,
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                return Ok(Fetched {
                    state: None,
                    bytes: None,
                    seen: Some(Seen::NoObject),
                });
            }
            Err(e) => return Err(self.sdk_error("s3:GetObject", e)),
        };
        let seen = output.e_tag().map(|etag| Seen::Object {
            etag: etag.to_string(),
        });
        let bytes = output
            .body
            .collect()
            .await
            .map_err(|e| StateError::Backend {
                backend: self.location(),
                detail: format!(
                    "s3:GetObject failed reading the body: {}",
                    DisplayErrorContext(&e)
                ),
                retryable: true,
            })?
            .to_vec();
        let state = State::from_json(&bytes).map_err(|e| match e {
            StateError::Corrupt { detail } => StateError::Corrupt {
                detail: format!("`{}`: {detail}", self.location()),
            },
            other => other,
        })?;
        Ok(Fetched {
            state: Some(state),
            bytes: Some(bytes),
            seen,
        })
    }
}

impl StateStore for S3Store {
    fn location(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    async fn lock(&self, request: &LockRequest) -> Result<LockInfo, StateError> {
        let info = LockInfo::from_request(request, self.location());
        // A lock released between our refused put and our look at it: try again.
        for _ in 0..3 {
            let response = self
                .dynamodb
                .put_item()
                .table_name(&self.lock_table)
                .item(LOCK_TABLE_KEY, AttributeValue::S(self.lock_id()))
                .item(ID, AttributeValue::S(info.id.clone()))
                .item(INFO, AttributeValue::S(lock_json(&info)))
                .condition_expression("attribute_not_exists(#lock_id)")
                .expression_attribute_names("#lock_id", LOCK_TABLE_KEY)
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            let refused_by = match response {
                Ok(_) => return Ok(info),
                Err(e) => match e.as_service_error() {
                    Some(PutItemError::ConditionalCheckFailedException(refused)) => {
                        self.parse_old_lock(refused.item())?
                    }
                    _ => return Err(self.sdk_error("dynamodb:PutItem", e)),
                },
            };
            let holder = match refused_by {
                Some(holder) => Some(holder),
                // No old item in the refusal (not every DynamoDB returns it): look.
                None => self.current_lock().await?,
            };
            match holder {
                // Our own lock: an earlier attempt went through but its answer was lost.
                Some(holder) if holder.id == request.id => return Ok(holder),
                Some(holder) => return Err(StateError::locked(holder, request.now)),
                None => continue,
            }
        }
        Err(StateError::Backend {
            backend: self.location(),
            detail: format!(
                "lock item `{}` in `{}` kept appearing and disappearing",
                self.lock_id(),
                self.lock_table
            ),
            retryable: true,
        })
    }

    async fn heartbeat(
        &self,
        lock: &LockInfo,
        now: OffsetDateTime,
    ) -> Result<LockInfo, StateError> {
        let renewed = LockInfo {
            heartbeat: now,
            ..lock.clone()
        };
        let response = self
            .dynamodb
            .update_item()
            .table_name(&self.lock_table)
            .key(LOCK_TABLE_KEY, AttributeValue::S(self.lock_id()))
            .update_expression("SET #info = :info")
            .condition_expression("#id = :id")
            .expression_attribute_names("#info", INFO)
            .expression_attribute_names("#id", ID)
            .expression_attribute_values(":info", AttributeValue::S(lock_json(&renewed)))
            .expression_attribute_values(":id", AttributeValue::S(lock.id.clone()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match response {
            Ok(_) => Ok(renewed),
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(refused)) => {
                    Err(self.not_held(&lock.id, refused.item()))
                }
                _ => Err(self.sdk_error("dynamodb:UpdateItem", e)),
            },
        }
    }

    async fn unlock(&self, lock: &LockInfo) -> Result<(), StateError> {
        self.force_unlock(&lock.id).await
    }

    async fn force_unlock(&self, lock_id: &str) -> Result<(), StateError> {
        // Conditional on the id in one call: never removes a lock taken meanwhile by another run.
        let response = self
            .dynamodb
            .delete_item()
            .table_name(&self.lock_table)
            .key(LOCK_TABLE_KEY, AttributeValue::S(self.lock_id()))
            .condition_expression("#id = :id")
            .expression_attribute_names("#id", ID)
            .expression_attribute_values(":id", AttributeValue::S(lock_id.into()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match response {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(DeleteItemError::ConditionalCheckFailedException(refused)) => {
                    Err(self.not_held(lock_id, refused.item()))
                }
                // The delete may have gone through without an answer saying so (the SDK does not
                // send it again, `crate::retry`: a second send would be refused as if the lock
                // had never been ours): the lock item says.
                _ if classify("dynamodb:DeleteItem", &e).maybe_applied => {
                    match self.current_lock().await? {
                        Some(current) if current.id == lock_id => {
                            Err(self.sdk_error("dynamodb:DeleteItem", e))
                        }
                        _ => Ok(()),
                    }
                }
                _ => Err(self.sdk_error("dynamodb:DeleteItem", e)),
            },
        }
    }

    async fn current_lock(&self) -> Result<Option<LockInfo>, StateError> {
        let response = self
            .dynamodb
            .get_item()
            .table_name(&self.lock_table)
            .key(LOCK_TABLE_KEY, AttributeValue::S(self.lock_id()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.sdk_error("dynamodb:GetItem", e))?;
        self.parse_old_lock(response.item())
    }

    async fn read(&self) -> Result<Option<State>, StateError> {
        let replayed = self.fetch_replayed().await?;
        *self.view() = replayed.seen;
        *self.journal_view() = Some(replayed.journal);
        Ok(replayed.state)
    }

    async fn write(&self, lock: &LockInfo, state: &State) -> Result<(), StateError> {
        self.held(&lock.id).await?;
        let replayed = self.fetch_replayed().await?;
        check_write(replayed.state.as_ref(), state)?;
        let seen_here = self.view().clone();
        let journal_here = self.journal_view().clone();
        let view_differs = seen_here
            .as_ref()
            .is_some_and(|seen| replayed.seen.as_ref() != Some(seen))
            || journal_here
                .as_ref()
                .is_some_and(|seen| seen.version != replayed.journal.version);
        if view_differs {
            return Err(StateError::WriteConflict {
                detail: format!(
                    "`{}` holds {}, not the version this run last read or wrote",
                    self.location(),
                    describe(replayed.state.as_ref())
                ),
            });
        }
        // Claim the serial, so that no append of it lands behind this document.
        if let Some(stored) = &replayed.state {
            let claim = Delta {
                lineage: stored.lineage.clone(),
                serial: state.serial,
                ..Delta::default()
            };
            if !self.put_record(&claim).await? {
                return Err(StateError::WriteConflict {
                    detail: format!(
                        "`{}` has a record of serial {} written by someone else",
                        self.location(),
                        state.serial
                    ),
                });
            }
        }
        self.put_document(state, replayed.seen).await?;
        *self.journal_view() = Some(JournalView {
            version: Some((state.lineage.clone(), state.serial)),
            document_bytes: state.to_json().len() as u64,
            journal_bytes: 0,
        });
        if replayed.state.is_some() {
            self.drop_records(state.serial).await;
        }
        Ok(())
    }

    async fn write_delta(
        &self,
        lock: &LockInfo,
        delta: &Delta,
        state: &State,
    ) -> Result<(), StateError> {
        let seen = self.view().clone();
        let journal = self.journal_view().clone();
        let (
            Some(Seen::Object { etag }),
            Some(JournalView {
                version: Some((lineage, serial)),
                document_bytes,
                journal_bytes,
            }),
        ) = (seen, journal)
        else {
            // Not read yet, or no state: the first write is whole.
            return self.write(lock, state).await;
        };
        self.held(&lock.id).await?;
        if delta.lineage != lineage {
            return Err(StateError::LineageMismatch {
                stored: lineage,
                attempted: delta.lineage.clone(),
            });
        }
        if delta.serial != serial + 1 || state.serial != delta.serial {
            return Err(StateError::WriteConflict {
                detail: format!(
                    "a delta to serial {} does not follow serial {serial}, the state this run last read or wrote",
                    delta.serial
                ),
            });
        }
        if !self.put_record(delta).await? {
            return Err(StateError::WriteConflict {
                detail: format!(
                    "`{}` already has a record of serial {}: someone else wrote since this run read it",
                    self.location(),
                    delta.serial
                ),
            });
        }
        // A document rewritten since this handle saw it may hold a later state, and then this
        // record lies behind it, skipped on replay.
        let head = self
            .s3
            .head_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .send()
            .await
            .map_err(|e| self.sdk_error("s3:HeadObject", e))?;
        let mut etag = etag;
        if head.e_tag() != Some(etag.as_str()) {
            let now = self.fetch().await?;
            match &now.state {
                Some(document) if document.lineage == lineage && document.serial < delta.serial => {
                    // Rewritten at or below this handle's serial (the same state, compacted):
                    // this record follows it.
                    if let Some(Seen::Object { etag: new }) = now.seen {
                        etag = new;
                    }
                }
                other => {
                    return Err(StateError::WriteConflict {
                        detail: format!(
                            "`{}` was rewritten by someone else while this run wrote it; it now holds {}",
                            self.location(),
                            describe(other.as_ref())
                        ),
                    });
                }
            }
        }
        let journal_bytes = journal_bytes + delta.to_json_line().len() as u64;
        *self.view() = Some(Seen::Object { etag: etag.clone() });
        *self.journal_view() = Some(JournalView {
            version: Some((lineage.clone(), delta.serial)),
            document_bytes,
            journal_bytes,
        });
        if compaction_due(journal_bytes, document_bytes) {
            // The record is stored: a failed compaction only leaves the journal long.
            match self.put_document(state, Some(Seen::Object { etag })).await {
                Ok(()) => {
                    *self.journal_view() = Some(JournalView {
                        version: Some((lineage, delta.serial)),
                        document_bytes: state.to_json().len() as u64,
                        journal_bytes: 0,
                    });
                    self.drop_records(delta.serial).await;
                }
                Err(error) => {
                    tracing::warn!(%error, "compacting the state's journal failed; the next write tries again");
                }
            }
        }
        Ok(())
    }
}

impl S3Store {
    /// Puts the document conditionally on `seen` (the document as last seen).
    async fn put_document(&self, state: &State, seen: Option<Seen>) -> Result<(), StateError> {
        let bytes = state.to_json();
        let put = self
            .s3
            .put_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .body(ByteStream::from(bytes.clone()))
            .content_type("application/json")
            .server_side_encryption(ServerSideEncryption::AwsKms)
            .ssekms_key_id(&self.kms_key_id);
        let put = match seen {
            Some(Seen::NoObject) => put.if_none_match("*"),
            Some(Seen::Object { etag }) => put.if_match(etag),
            None => {
                return Err(StateError::Backend {
                    backend: self.location(),
                    detail:
                        "s3:GetObject returned no ETag, so the write cannot be made conditional"
                            .into(),
                    retryable: false,
                });
            }
        };
        match put.send().await {
            Ok(output) => {
                *self.view() = output.e_tag().map(|etag| Seen::Object {
                    etag: etag.to_string(),
                });
                Ok(())
            }
            Err(e) if is_precondition_failure(&e) => {
                // Someone wrote between our GetObject and our PutObject, unless that someone was
                // this very write: an attempt that went through and whose answer was lost.
                let now = self.fetch().await?;
                if now.bytes.as_deref() == Some(&bytes[..]) {
                    *self.view() = now.seen;
                    return Ok(());
                }
                Err(StateError::WriteConflict {
                    detail: format!(
                        "`{}` was written by someone else while this run wrote it; it now holds {}",
                        self.location(),
                        describe(now.state.as_ref())
                    ),
                })
            }
            Err(e) => Err(self.sdk_error("s3:PutObject", e)),
        }
    }
}

impl S3Store {
    /// The lease item's `LockID`: `<bucket>/<key>#<name>`, beside the lock item.
    pub fn lease_id(&self, name: &str) -> String {
        format!("{}#{name}", self.lock_id())
    }

    fn parse_lease(
        &self,
        name: &str,
        item: &HashMap<String, AttributeValue>,
    ) -> Result<Lease, StateError> {
        let corrupt = |why: &str| StateError::Corrupt {
            detail: format!(
                "lease item `{}` in DynamoDB table `{}`: {why}; if no `brickstack serve` is running, delete the item",
                self.lease_id(name),
                self.lock_table
            ),
        };
        let holder = item
            .get(HOLDER)
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| corrupt("no string attribute `Holder`"))?;
        let expires_at = item
            .get(EXPIRES)
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<i64>().ok())
            .and_then(from_epoch_ms)
            .ok_or_else(|| corrupt("no attribute `Expires` of epoch milliseconds"))?;
        Ok(Lease {
            name: name.into(),
            holder: holder.clone(),
            expires_at,
        })
    }

    async fn current_lease(&self, name: &str) -> Result<Option<Lease>, StateError> {
        let response = self
            .dynamodb
            .get_item()
            .table_name(&self.lock_table)
            .key(LOCK_TABLE_KEY, AttributeValue::S(self.lease_id(name)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.sdk_error("dynamodb:GetItem", e))?;
        response
            .item()
            .filter(|i| !i.is_empty())
            .map(|i| self.parse_lease(name, i))
            .transpose()
    }
}

impl LeaseStore for S3Store {
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: std::time::Duration,
        now: OffsetDateTime,
    ) -> Result<Lease, StateError> {
        let now_ms = epoch_ms(now);
        let expires_ms = time::Duration::try_from(ttl)
            .ok()
            .and_then(|ttl| now.checked_add(ttl))
            .map(epoch_ms)
            .filter(|ms| from_epoch_ms(*ms).is_some())
            .ok_or_else(|| StateError::Backend {
                backend: self.location(),
                detail: format!("a lease of {ttl:?} from {now} ends beyond the calendar"),
                retryable: false,
            })?;
        // A lease released between our refused put and our look at it: try again.
        for _ in 0..3 {
            let response = self
                .dynamodb
                .put_item()
                .table_name(&self.lock_table)
                .item(LOCK_TABLE_KEY, AttributeValue::S(self.lease_id(name)))
                .item(HOLDER, AttributeValue::S(holder.into()))
                .item(EXPIRES, AttributeValue::N(expires_ms.to_string()))
                .condition_expression(
                    "attribute_not_exists(#lock_id) OR #expires <= :now OR #holder = :me",
                )
                .expression_attribute_names("#lock_id", LOCK_TABLE_KEY)
                .expression_attribute_names("#expires", EXPIRES)
                .expression_attribute_names("#holder", HOLDER)
                .expression_attribute_values(":now", AttributeValue::N(now_ms.to_string()))
                .expression_attribute_values(":me", AttributeValue::S(holder.into()))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            let refused_by = match response {
                Ok(_) => {
                    return Ok(Lease {
                        name: name.into(),
                        holder: holder.into(),
                        expires_at: from_epoch_ms(expires_ms).expect("checked above"),
                    });
                }
                Err(e) => match e.as_service_error() {
                    Some(PutItemError::ConditionalCheckFailedException(refused)) => refused
                        .item()
                        .filter(|i| !i.is_empty())
                        .map(|i| self.parse_lease(name, i))
                        .transpose()?,
                    _ => return Err(self.sdk_error("dynamodb:PutItem", e)),
                },
            };
            // No old item in the refusal (not every DynamoDB returns it): look.
            let current = match refused_by {
                Some(current) => Some(current),
                None => self.current_lease(name).await?,
            };
            if let Some(current) = current {
                return Ok(current);
            }
        }
        Err(StateError::Backend {
            backend: self.location(),
            detail: format!(
                "lease item `{}` in `{}` kept appearing and disappearing",
                self.lease_id(name),
                self.lock_table
            ),
            retryable: true,
        })
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StateError> {
        let response = self
            .dynamodb
            .delete_item()
            .table_name(&self.lock_table)
            .key(LOCK_TABLE_KEY, AttributeValue::S(self.lease_id(name)))
            .condition_expression("#holder = :me")
            .expression_attribute_names("#holder", HOLDER)
            .expression_attribute_values(":me", AttributeValue::S(holder.into()))
            .send()
            .await;
        match response {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                // Another's lease, or none: a release by a non-holder does nothing.
                Some(DeleteItemError::ConditionalCheckFailedException(_)) => Ok(()),
                _ if classify("dynamodb:DeleteItem", &e).maybe_applied => {
                    match self.current_lease(name).await? {
                        Some(current) if current.holder == holder => {
                            Err(self.sdk_error("dynamodb:DeleteItem", e))
                        }
                        _ => Ok(()),
                    }
                }
                _ => Err(self.sdk_error("dynamodb:DeleteItem", e)),
            },
        }
    }
}

/// Milliseconds since the epoch (sub-millisecond parts dropped).
fn epoch_ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

fn from_epoch_ms(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}

fn lock_json(info: &LockInfo) -> String {
    serde_json::to_string(info).expect("lock info serialises")
}

fn describe(state: Option<&State>) -> String {
    match state {
        Some(s) => format!("serial {} of lineage `{}`", s.serial, s.lineage),
        None => "no state".into(),
    }
}

/// S3's answers to a failed `If-Match` / `If-None-Match`: 412, 409 when two conditional writes
/// race, and 404 when the object matched by `If-Match` was deleted.
fn is_precondition_failure<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> bool {
    let status = error.raw_response().map(|r| r.status().as_u16());
    matches!(
        error.code(),
        Some("PreconditionFailed" | "ConditionalRequestConflict" | "NoSuchKey")
    ) || matches!(status, Some(412))
}
