//! Test harness: tells tests where the local emulators listen and serves the Databricks emulator.
//!
//! * [`endpoints`]: moto, minilake and our Databricks emulator as started by
//!   `scripts/emulators.sh`, found by *reading* the environment or `.emulators.env` (never by
//!   setting variables), with the skip-or-panic policy of [`require_moto`] and friends.
//! * [`ids`]: per-test isolation (a fresh moto account, unique bucket names, unique Databricks
//!   account ids).
//! * [`DatabricksEmulator`]: an in-memory fake of the Databricks account API ([`account`]) and of
//!   the API of every workspace it creates ([`workspace`]), with a controllable [`clock`], fault
//!   injection ([`faults`]) and controls under `/_emulator/` ([`controls`], [`inventory`]); started
//!   in a test with `DatabricksEmulator::start()`, or as the `brickstack-databricks-emulator`
//!   binary ([`server`] describes the URL layout).

pub mod account;
pub mod clock;
pub mod controls;
pub mod endpoints;
mod error;
pub mod faults;
pub mod ids;
pub mod inventory;
mod scim;
pub mod server;
mod state;
pub mod workspace;

pub use account::Provisioning;
pub use controls::ClusterFailure;
pub use endpoints::{
    CA_BUNDLE_VAR, DatabricksEndpoint, Emulators, EnvFileError, MOTO_PLAIN_HTTP_VAR,
    MinilakeEndpoint, MotoEndpoint, databricks, minilake, moto, require_databricks,
    require_minilake, require_moto,
};
pub use faults::{FaultBody, FaultRule, FaultStatus};
pub use ids::{unique_account_id, unique_bucket_name, unique_moto_account_id, unique_name};
pub use server::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DatabricksEmulator, DatabricksEmulatorConfig,
    EmulatorError, router,
};
pub use state::MintedSecret;
