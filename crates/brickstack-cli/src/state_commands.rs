//! `brickstack state list | show | rm` and `brickstack force-unlock`: looking into and repairing
//! state, always through the backend's lock.

use std::process::ExitCode;

use anyhow::Context;
use brickstack_state::{LockRequest, StateStore};
use time::OffsetDateTime;

use crate::backend::Backend;
use crate::{EXIT_INVALID_INPUT, SpecArgs, runner};

async fn backend(
    args: &SpecArgs,
) -> anyhow::Result<Result<(brickstack_spec::Spec, Backend), ExitCode>> {
    Ok(match crate::commands::load_spec(args)? {
        Ok(spec) => {
            let backend = match Backend::for_spec(&spec).await {
                Ok(backend) => backend,
                Err(code) => return Ok(Err(code)),
            };
            Ok((spec, backend))
        }
        Err(code) => Err(code),
    })
}

pub async fn list(args: &SpecArgs) -> anyhow::Result<ExitCode> {
    let (_, backend) = match backend(args).await? {
        Ok(b) => b,
        Err(code) => return Ok(code),
    };
    let Some(state) = backend.read().await.context("reading state")? else {
        eprintln!(
            "no state at {} yet: nothing has been applied",
            backend.location()
        );
        return Ok(ExitCode::SUCCESS);
    };
    for (address, resource) in &state.resources {
        let status = if resource.status.is_live() {
            ""
        } else {
            "  (asleep)"
        };
        println!("{address}  {}{status}", resource.object_id);
    }
    for address in state.pending.keys() {
        println!("{address}  (operation pending: resolved on the next plan or apply)");
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn show(args: &SpecArgs, address: &str) -> anyhow::Result<ExitCode> {
    let (_, backend) = match backend(args).await? {
        Ok(b) => b,
        Err(code) => return Ok(code),
    };
    let state = backend
        .read()
        .await
        .context("reading state")?
        .unwrap_or_else(|| brickstack_state::State::new("", ""));
    match state.resources.get(address) {
        Some(resource) => {
            println!("{}", serde_json::to_string_pretty(resource)?);
            Ok(ExitCode::SUCCESS)
        }
        None => {
            eprintln!(
                "error: `{address}` is not in the state at {}",
                backend.location()
            );
            eprintln!("  hint: `brickstack state list -e ENV` lists what is recorded");
            Ok(ExitCode::from(EXIT_INVALID_INPUT))
        }
    }
}

/// Forgets a resource without touching its object, under the lock, as a new serial.
pub async fn rm(args: &SpecArgs, address: &str) -> anyhow::Result<ExitCode> {
    let (_, backend) = match backend(args).await? {
        Ok(b) => b,
        Err(code) => return Ok(code),
    };
    let lock = backend.lock(&lock_request("state rm")).await?;
    let result = async {
        let Some(mut state) = backend.read().await? else {
            return Ok(None);
        };
        let Some(removed) = state.resources.remove(address) else {
            return Ok(None);
        };
        state.serial += 1;
        backend.write(&lock, &state).await?;
        Ok::<_, brickstack_state::StateError>(Some(removed))
    }
    .await;
    backend.unlock(&lock).await?;
    match result? {
        Some(removed) => {
            println!(
                "removed `{address}` from the state; its object `{}` still exists and brickstack no longer manages it",
                removed.object_id
            );
            Ok(ExitCode::SUCCESS)
        }
        None => {
            eprintln!(
                "error: `{address}` is not in the state at {}",
                backend.location()
            );
            eprintln!("  hint: `brickstack state list -e ENV` lists what is recorded");
            Ok(ExitCode::from(EXIT_INVALID_INPUT))
        }
    }
}

pub async fn force_unlock(args: &SpecArgs, lock_id: &str) -> anyhow::Result<ExitCode> {
    let (_, backend) = match backend(args).await? {
        Ok(b) => b,
        Err(code) => return Ok(code),
    };
    let current = backend.current_lock().await?;
    match backend.force_unlock(lock_id).await {
        Ok(()) => {
            if let Some(holder) = current.filter(|c| c.id == lock_id) {
                println!(
                    "removed lock `{lock_id}` held by `{}` for `{}` since {}; no cloud object was changed",
                    holder.who, holder.operation, holder.created
                );
            } else {
                println!("removed lock `{lock_id}`; no cloud object was changed");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(hint) = e.hint() {
                eprintln!("  hint: {hint}");
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

pub fn lock_request(operation: &str) -> LockRequest {
    let r = runner();
    LockRequest {
        id: uuid::Uuid::new_v4().to_string(),
        operation: operation.to_string(),
        who: r.who,
        version: r.version,
        now: OffsetDateTime::now_utc(),
        lease_seconds: r.lease_seconds,
    }
}
