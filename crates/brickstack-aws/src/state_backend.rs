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
//! * State object: `GetObject` (the document and its ETag); `PutObject` with `aws:kms` and the
//!   key, `If-Match: <ETag>` (or `If-None-Match: *` when there was no object): a concurrent writer
//!   makes S3 answer 412, which is [`StateError::WriteConflict`].
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
use brickstack_state::{LockInfo, LockRequest, State, StateError, StateStore, check_write};
use time::OffsetDateTime;

use crate::classify::classify;
use crate::clients::AwsClients;

/// The lock table's partition key (a string).
pub const LOCK_TABLE_KEY: &str = "LockID";
const ID: &str = "ID";
const INFO: &str = "Info";

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
        let fetched = self.fetch().await?;
        *self.view() = fetched.seen;
        Ok(fetched.state)
    }

    async fn write(&self, lock: &LockInfo, state: &State) -> Result<(), StateError> {
        self.held(&lock.id).await?;
        let stored = self.fetch().await?;
        check_write(stored.state.as_ref(), state)?;
        let seen_here = self.view().clone();
        if let Some(seen_here) = seen_here
            && stored.seen.as_ref() != Some(&seen_here)
        {
            return Err(StateError::WriteConflict {
                detail: format!(
                    "`{}` holds {}, not the version this run last read or wrote",
                    self.location(),
                    describe(stored.state.as_ref())
                ),
            });
        }
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
        let put = match stored.seen {
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
