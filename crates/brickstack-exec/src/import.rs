//! `brickstack import`: bringing objects made outside brickstack under management without
//! recreating them. Under the state lock, an object is read through its provider and recorded as
//! a completed create would record it (one commit: serial + 1, lineage kept); then the plan that
//! reconciles it with the spec is made as `plan` makes it. Importing never changes an object in
//! the cloud: the next apply does, after the user saw the plan (docs/import.md).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use brickstack_graph::{Address, ContextValue, Reference, Resource, ResourceGraph};
use brickstack_plan::{Plan, RunMode};
use brickstack_provider::{AttributeBehaviour, Attributes, KindSchema, Observed, Provider};
use brickstack_state::{RecordedResource, State, StateStore};

use crate::engine::{Engine, EngineError, Request};
use crate::error::ExecError;
use crate::journal::{StateWriter, reconcile_pending};
use crate::walk::{lookup_for, without_sensitive};

/// Why an import was refused; nothing was recorded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImportError {
    #[error("`{address}` is not a resource of environment `{environment}`")]
    NotInSpec {
        address: String,
        environment: String,
        /// The spec's address closest to the one given, if any is close.
        suggestion: Option<String>,
    },
    #[error("`{address}` is already recorded in state, as object `{object_id}`")]
    AlreadyRecorded { address: String, object_id: String },
    #[error("{address}: no {kind} with id `{object_id}` exists")]
    NotFound {
        address: String,
        kind: String,
        object_id: String,
    },
    #[error("{address}: object `{object_id}` is already recorded as `{other}`")]
    RecordedElsewhere {
        address: String,
        object_id: String,
        other: String,
    },
    #[error("{address}: a {kind} cannot be imported: {why}")]
    NotImportable {
        address: String,
        kind: String,
        why: &'static str,
    },
}

impl ImportError {
    pub fn hint(&self) -> String {
        match self {
            ImportError::NotInSpec { suggestion, .. } => match suggestion {
                Some(s) => format!(
                    "did you mean `{s}`? `brickstack graph -e ENV` lists every address of the spec; an object must be in the spec before it can be imported"
                ),
                None => "`brickstack graph -e ENV` lists every address of the spec; add the object to the spec first, then import it".into(),
            },
            ImportError::AlreadyRecorded { .. } => "to record another object at this address, `brickstack state rm -e ENV ADDRESS` forgets the recorded one (without touching it), then import again".into(),
            ImportError::NotFound { kind, .. } => format!(
                "`{kind}` objects are imported by {} (docs/import.md lists every kind's)",
                id_format(kind)
            ),
            ImportError::RecordedElsewhere { other, .. } => format!(
                "one object is managed from one address: `brickstack state rm -e ENV {other}` first if it belongs here"
            ),
            ImportError::NotImportable { .. } => {
                "leave it out: `brickstack apply` creates it (docs/import.md)".into()
            }
        }
    }
}

/// What an object id of `kind` looks like: the error hint's half of docs/import.md's table.
pub fn id_format(kind: &str) -> &'static str {
    match kind {
        "aws_vpc" => "the VPC id (`vpc-…`)",
        "aws_subnet" => "the subnet id (`subnet-…`)",
        "aws_default_security_group" => "the VPC's default security group id (`sg-…`)",
        "aws_internet_gateway" => "the gateway id (`igw-…`)",
        "aws_route_table" => "the route table id (`rtb-…`)",
        "aws_route" => "`<route_table_id>_<destination_cidr_block>`",
        "aws_route_table_association" => "the association id (`rtbassoc-…`)",
        "aws_eip" => "the allocation id (`eipalloc-…`)",
        "aws_nat_gateway" => "the NAT gateway id (`nat-…`)",
        "aws_vpc_endpoint" => "the endpoint id (`vpce-…`)",
        "aws_flow_log" => "the flow log id (`fl-…`)",
        "aws_kms_key" => "the key id (a UUID)",
        "aws_kms_alias" => "the alias name (`alias/…`)",
        "aws_iam_role" | "aws_iam_instance_profile" => "its name",
        "aws_iam_policy" => "the policy ARN",
        "aws_iam_role_policy" => "`<role name>:<policy name>`",
        "aws_iam_role_policy_attachment" => "`<role name>/<policy ARN>`",
        "aws_dynamodb_table" => "the table name",
        k if k.starts_with("aws_s3_bucket") => "the bucket name",
        "databricks_mws_credentials" => "the credential configuration id",
        "databricks_mws_storage_configurations" => "the storage configuration id",
        "databricks_mws_networks" => "the network configuration id",
        "databricks_mws_customer_managed_keys" => "the key configuration id",
        "databricks_mws_workspaces" => "the workspace id (a number)",
        "databricks_mws_log_delivery" => "the log delivery configuration id",
        k if k.starts_with("databricks_") => {
            "`<workspace_id>/<id>` (the workspace's numeric id, then the object's id in it)"
        }
        _ => "the id its provider reports",
    }
}

/// Why `import` stopped: refused (bad input, exit 2), or the engine's errors (the lock, a
/// provider, the state).
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    #[error(transparent)]
    Refused(#[from] ImportError),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<ExecError> for ImportFailure {
    fn from(e: ExecError) -> Self {
        ImportFailure::Engine(e.into())
    }
}

impl From<brickstack_state::StateError> for ImportFailure {
    fn from(e: brickstack_state::StateError) -> Self {
        ImportFailure::Engine(e.into())
    }
}

/// One object recorded (or, without `--yes`, proposed) at an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub address: String,
    pub kind: String,
    pub object_id: String,
}

/// A desired resource discovery left for apply to create, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    pub address: String,
    pub reason: String,
}

/// What an import did: the objects recorded (or proposed) and the plan that would reconcile the
/// environment with its spec afterwards.
#[derive(Debug, Clone)]
pub struct ImportReport {
    pub imported: Vec<Imported>,
    /// `--discover`: the desired resources not found (apply creates them).
    pub left_out: Vec<LeftOut>,
    /// Whether `imported` was recorded in state (`false`: `--discover` without `--yes`).
    pub recorded: bool,
    pub plan: Plan,
}

impl<P: Provider, S: StateStore> Engine<'_, P, S> {
    /// Records the existing object `object_id` at `address`, a resource of `request.graph` not
    /// yet recorded, then plans. Refused ([`ImportError`]) with nothing recorded when the
    /// address is not in the spec, is already recorded, or the object does not exist.
    pub async fn import(
        &self,
        request: &Request<'_>,
        address: &str,
        object_id: &str,
    ) -> Result<ImportReport, ImportFailure> {
        let lock = self.lock("import").await?;
        let cancel = AtomicBool::new(false);
        let work = async {
            let writer = self.settled_writer(&lock, request.environment).await?;
            let resource = desired_resource(request, address)?;
            let recorded = writer.snapshot().await;
            if let Some(r) = recorded.resources.get(address) {
                return Err(ImportError::AlreadyRecorded {
                    address: address.into(),
                    object_id: r.object_id.clone(),
                }
                .into());
            }
            importable(self.provider, address, resource.kind())?;
            let observed = self
                .provider
                .read(resource.kind(), object_id)
                .await
                .map_err(|error| ExecError::Provider {
                    address: address.into(),
                    operation: "read",
                    error,
                })?
                .ok_or_else(|| ImportError::NotFound {
                    address: address.into(),
                    kind: resource.kind().into(),
                    object_id: object_id.into(),
                })?;
            if let Some(other) = recorded_as(&recorded, resource.kind(), &observed.object_id) {
                return Err(ImportError::RecordedElsewhere {
                    address: address.into(),
                    object_id: observed.object_id,
                    other,
                }
                .into());
            }
            let imported = Imported {
                address: address.into(),
                kind: resource.kind().into(),
                object_id: observed.object_id.clone(),
            };
            let record = self.record_of(request.graph, resource, observed);
            if cancel.load(Ordering::SeqCst) {
                return Ok(None);
            }
            writer
                .commit(|edit| {
                    edit.insert_resource(address.to_string(), record);
                })
                .await?;
            let state = writer.into_state().await;
            let (plan, _) = self.plan_state(request, &RunMode::Reconcile, state).await?;
            Ok::<_, ImportFailure>(Some(ImportReport {
                imported: vec![imported],
                left_out: Vec::new(),
                recorded: true,
                plan,
            }))
        };
        self.finish_locked(&lock, &cancel, work).await
    }

    /// Finds, for every desired resource not yet recorded, the existing object it would be
    /// (`Provider::discover`: by name, tags, and what identifies the kind's object), in creation
    /// order so that a dependent is looked up with what its dependencies were found to be (a
    /// subnet in the VPC found, a workspace-level object in the workspace found). With `record`,
    /// every object found is recorded in one commit; without, nothing is written. Either way the
    /// plan returned is the one that would follow.
    pub async fn discover(
        &self,
        request: &Request<'_>,
        record: bool,
    ) -> Result<ImportReport, ImportFailure> {
        let lock = self.lock("import").await?;
        let cancel = AtomicBool::new(false);
        let work = async {
            let writer = self.settled_writer(&lock, request.environment).await?;
            let context = self
                .provider
                .context()
                .await
                .map_err(|error| ExecError::Provider {
                    address: "(provider)".into(),
                    operation: "context",
                    error,
                })?;
            let mut working = writer.snapshot().await;
            let mut imported = Vec::new();
            let mut left_out = Vec::new();
            for resource in request.graph.creation_order() {
                // The lease was lost: stop looking; `finish_locked` reports it, nothing is written.
                if cancel.load(Ordering::SeqCst) {
                    return Ok(None);
                }
                let address = resource.address.to_string();
                if working.resources.contains_key(&address) {
                    continue;
                }
                if importable(self.provider, &address, resource.kind()).is_err() {
                    left_out.push(LeftOut {
                        address,
                        reason: "its kind cannot be looked up".into(),
                    });
                    continue;
                }
                let schema = self.provider.schema(resource.kind());
                let desired = match resolve(resource, &working, &context, schema.as_ref()) {
                    Ok(desired) => desired,
                    Err(reference) => {
                        left_out.push(LeftOut {
                            address,
                            reason: format!("it needs `{reference}`, which was not found"),
                        });
                        continue;
                    }
                };
                let found = self
                    .provider
                    .discover(resource.kind(), &desired, &lookup_for(&desired))
                    .await
                    .map_err(|error| ExecError::Provider {
                        address: address.clone(),
                        operation: "discover",
                        error,
                    })?;
                let Some(observed) = found else {
                    left_out.push(LeftOut {
                        address,
                        reason: "not found".into(),
                    });
                    continue;
                };
                if let Some(other) = recorded_as(&working, resource.kind(), &observed.object_id) {
                    left_out.push(LeftOut {
                        address,
                        reason: format!(
                            "the object found, `{}`, is already `{other}`'s",
                            observed.object_id
                        ),
                    });
                    continue;
                }
                imported.push(Imported {
                    address: address.clone(),
                    kind: resource.kind().into(),
                    object_id: observed.object_id.clone(),
                });
                let record = self.record_of(request.graph, resource, observed);
                working.resources.insert(address, record);
            }
            if cancel.load(Ordering::SeqCst) {
                return Ok(None);
            }
            let state = if record && !imported.is_empty() {
                // One commit for all of them: the state never holds half a discovery.
                writer
                    .commit(|edit| {
                        for i in &imported {
                            if let Some(r) = working.resources.get(&i.address) {
                                edit.insert_resource(i.address.clone(), r.clone());
                            }
                        }
                    })
                    .await?;
                writer.into_state().await
            } else {
                working
            };
            let (plan, _) = self.plan_state(request, &RunMode::Reconcile, state).await?;
            Ok::<_, ImportFailure>(Some(ImportReport {
                recorded: record && !imported.is_empty(),
                imported,
                left_out,
                plan,
            }))
        };
        self.finish_locked(&lock, &cancel, work).await
    }

    /// Runs `work` with the lock's lease renewed, then unlocks. `work` answers `None` when it
    /// stopped because the lease was lost (`cancel`), before writing anything.
    async fn finish_locked(
        &self,
        lock: &brickstack_state::LockInfo,
        cancel: &AtomicBool,
        work: impl Future<Output = Result<Option<ImportReport>, ImportFailure>>,
    ) -> Result<ImportReport, ImportFailure> {
        let (result, lost) = self
            .with_heartbeat(lock, cancel, async { Ok(work.await) })
            .await;
        let unlocked = self.store.unlock(lock).await;
        if let Some(cause) = lost {
            return Err(EngineError::LeaseLost {
                cause,
                report: None,
            }
            .into());
        }
        let report = result?.and_then(|r| r.ok_or_else(unreachable_lost))?;
        unlocked?;
        Ok(report)
    }

    /// The state under the lock with what a dead run left pending settled, as a plan does first.
    async fn settled_writer<'w>(
        &'w self,
        lock: &'w brickstack_state::LockInfo,
        environment: &str,
    ) -> Result<StateWriter<'w, S>, ImportFailure> {
        let state = self.current_state(environment).await?;
        let writer = StateWriter::new(self.store, lock, state);
        if writer.with_state(|state| !state.pending.is_empty()).await {
            reconcile_pending(self.provider, &writer).await?;
        }
        Ok(writer)
    }

    /// The record a completed create of `resource` would leave: what was read, less what is
    /// sensitive, with the resource's dependencies and removal grace.
    fn record_of(
        &self,
        graph: &ResourceGraph,
        resource: &Resource,
        observed: Observed,
    ) -> RecordedResource {
        let attributes = without_sensitive(
            self.provider.schema(resource.kind()).as_ref(),
            observed.attributes,
        );
        let dependencies = graph
            .dependencies(&resource.address)
            .into_iter()
            .map(ToString::to_string)
            .collect();
        RecordedResource {
            removal_grace_seconds: resource.removal_grace_seconds,
            ..RecordedResource::new(
                resource.kind(),
                observed.object_id,
                attributes,
                dependencies,
            )
        }
    }
}

/// The desired resource at `address`, or why there is none.
fn desired_resource<'g>(request: &Request<'g>, address: &str) -> Result<&'g Resource, ImportError> {
    Address::parse(address)
        .and_then(|a| request.graph.get(&a))
        .ok_or_else(|| ImportError::NotInSpec {
            address: address.into(),
            environment: request.environment.into(),
            suggestion: closest(request.graph, address),
        })
}

/// Refuses kinds no provider serves and kinds whose objects cannot be read back.
fn importable<P: Provider>(provider: &P, address: &str, kind: &str) -> Result<(), ImportError> {
    let refused = |why| ImportError::NotImportable {
        address: address.into(),
        kind: kind.into(),
        why,
    };
    match provider.schema(kind) {
        None => Err(refused("no provider serves this kind")),
        Some(s) if s.recorded_only || s.at_most_once => Err(refused(
            "its objects cannot be read back (brickstack records what it sent)",
        )),
        Some(_) => Ok(()),
    }
}

/// The address under which `object_id` of `kind` is recorded, if any.
fn recorded_as(state: &State, kind: &str, object_id: &str) -> Option<String> {
    state
        .resources
        .iter()
        .find(|(_, r)| r.kind == kind && r.object_id == object_id)
        .map(|(a, _)| a.clone())
}

/// `resource`'s attributes with every reference read from `state`; the first reference that
/// cannot be resolved (its resource not recorded) otherwise. An attribute the kind updates in
/// place is left out instead when it cannot be resolved: the object is still found by what
/// identifies it, and apply sets the attribute once what it refers to exists (a workspace found
/// before the key configuration it is to use is created).
fn resolve(
    resource: &Resource,
    state: &State,
    context: &BTreeMap<String, String>,
    schema: Option<&KindSchema>,
) -> Result<Attributes, String> {
    let lookup = |r: &Reference| {
        state
            .resources
            .get(&r.address.to_string())
            .and_then(|rec| rec.attributes.get(&r.attribute).cloned())
    };
    let context = |c: ContextValue| context.get(c.key()).cloned();
    let updatable =
        |name: &str| schema.is_some_and(|s| s.behaviour(name) == AttributeBehaviour::Updatable);
    let unresolved = |name: &str, value: &brickstack_graph::Value| {
        value
            .references()
            .iter()
            .find(|r| lookup(r).is_none())
            .map_or_else(
                || name.to_string(),
                |r| format!("{}.{}", r.address, r.attribute),
            )
    };
    resource
        .attributes
        .iter()
        .filter_map(|(name, value)| match value.resolve(&lookup, &context) {
            Some(v) => Some(Ok((name.clone(), v))),
            None if updatable(name) => None,
            None => Some(Err(unresolved(name, value))),
        })
        .collect()
}

/// The spec's address most like `given`: same kind first, then the fewest differing characters.
fn closest(graph: &ResourceGraph, given: &str) -> Option<String> {
    let distance = |a: &str, b: &str| {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.iter().enumerate() {
            let mut prev = row[0];
            row[0] = i + 1;
            for (j, cb) in b.iter().enumerate() {
                let next = (row[j + 1] + 1)
                    .min(row[j] + 1)
                    .min(prev + usize::from(ca != cb));
                prev = row[j + 1];
                row[j + 1] = next;
            }
        }
        row[b.len()]
    };
    graph
        .resources()
        .map(|r| r.address.to_string())
        .map(|a| (distance(&a, given), a))
        .filter(|(d, a)| *d <= a.len() / 3)
        .min()
        .map(|(_, a)| a)
}

/// `work` stopped for a lost lease that the heartbeat did not report: cannot happen, since only
/// the heartbeat sets `cancel`; an error rather than a panic all the same.
fn unreachable_lost() -> ImportFailure {
    ImportFailure::Engine(EngineError::Exec(ExecError::State(
        brickstack_state::StateError::Backend {
            backend: "(import)".into(),
            detail: "the run stopped for a lost lease that was not reported".into(),
            retryable: false,
        },
    )))
}
