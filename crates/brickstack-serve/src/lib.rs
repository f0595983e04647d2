//! The ops service's HTTP side (`brickstack serve`): the access endpoint the identity provider's
//! workflow calls, a durable SQLite queue of its requests, one worker that hands every queued
//! request to the caller's [`AccessRunner`] one batch at a time, `/healthz` and `/metrics`.
//!
//! It knows nothing of AWS, Databricks, specs or state: the runner (the CLI's) does the work under
//! the environment's lock. See `docs/serve.md` for the HTTP contract.

mod access;
mod auth;
mod election;
mod error;
mod metrics;
mod ops;
mod server;
mod store;
mod username;
mod worker;

pub use access::{AccessAction, AccessOutcome, AccessRequest, AccessRunner};
pub use auth::{
    API_KEY_HEADER, Auth, HMAC_WINDOW, SIGNATURE_HEADER, TIMESTAMP_HEADER, Target, sign,
};
pub use brickstack_monitor::Leadership;
pub use brickstack_provider::SecretValue;
pub use election::{Election, SERVE_LEASE, election, sole_replica};
pub use error::ServeError;
pub use server::{
    DEFAULT_POLL_INTERVAL, Parts, RegisterMetrics, ServeConfig, Server, Task, serve,
    shutdown_signal,
};
pub use store::{SCHEMA_VERSION, StoreError};
