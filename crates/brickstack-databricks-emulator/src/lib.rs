//! The Databricks emulator, for tests only: an in-memory fake of the Databricks account API
//! ([`account`]) and of the API of every workspace it creates ([`workspace`]), with a
//! controllable [`clock`], fault injection ([`faults`]) and controls under `/_emulator/`
//! ([`controls`], [`inventory`]); started in a test with `DatabricksEmulator::start()`, or as the
//! `brickstack-databricks-emulator` binary (`scripts/emulators.sh`); [`server`] describes the URL
//! layout. It listens on 127.0.0.1 only. Nothing but tests and scripts depends on it
//! (`[dev-dependencies]`); finding a running emulator is `brickstack-testkit`'s job.

pub mod account;
pub mod clock;
pub mod controls;
mod error;
pub mod faults;
mod ids;
pub mod inventory;
pub mod limits;
mod scim;
pub mod server;
mod state;
pub mod workspace;

pub use account::Provisioning;
pub use controls::{ClusterFailure, ClusterTermination, FailOn, LibraryFailure, RunFinish};
pub use faults::{FaultBody, FaultRule, FaultStatus};
pub use limits::Limits;
pub use server::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DatabricksEmulator, DatabricksEmulatorConfig,
    EmulatorError, router,
};
pub use state::MintedSecret;
