//! Test harness: tells tests where the local emulators listen and serves the Databricks account-API emulator.
//!
//! * [`endpoints`]: moto, minilake and the account-API emulator as started by `scripts/emulators.sh`,
//!   found by *reading* the environment or `.emulators.env` (never by setting variables), with the
//!   skip-or-panic policy of [`require_moto`] and friends.
//! * [`ids`]: per-test isolation (a fresh moto account, unique bucket names, unique Databricks account ids).
//! * [`account`]: an in-memory fake of the Databricks account API (`AccountEmulator::start()` in a test,
//!   or the `brickstack-account-emulator` binary).

pub mod account;
pub mod endpoints;
pub mod ids;

pub use account::{AccountEmulator, AccountEmulatorConfig, EmulatorError};
pub use endpoints::{
    AccountApiEndpoint, Emulators, EnvFileError, MinilakeEndpoint, MotoEndpoint, account_api,
    minilake, moto, require_account_api, require_minilake, require_moto,
};
pub use ids::{unique_account_id, unique_bucket_name, unique_moto_account_id, unique_name};
