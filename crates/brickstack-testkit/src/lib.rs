//! Test harness: tells tests where the local emulators listen, and gives them identifiers no
//! other test uses.
//!
//! * [`endpoints`]: moto, minilake and our Databricks emulator as started by
//!   `scripts/emulators.sh`, found by *reading* the environment or `.emulators.env` (never by
//!   setting variables), with the skip-or-panic policy of [`require_moto`] and friends.
//! * [`ids`]: per-test isolation (a fresh moto account, unique bucket names, unique Databricks
//!   account ids).
//! * [`FaultProxy`] ([`proxy`]): a fault-injecting HTTP proxy on loopback in front of moto (or
//!   any upstream) that loses answers after the upstream applied a request, or throttles.
//!
//! * [`browser`]: a headless Chromium for server-rendered pages (DOM dump, PNG screenshot into
//!   `target/test-artifacts/`), with the same skip-or-panic policy ([`require_chromium`]).
//!
//! The Databricks emulator itself is the `brickstack-databricks-emulator` crate.

pub mod browser;
pub mod endpoints;
pub mod ids;
pub mod proxy;

pub use browser::{BrowserError, Chromium, artifacts_dir, find_chromium, require_chromium};
pub use endpoints::{
    CA_BUNDLE_VAR, DatabricksEndpoint, Emulators, EnvFileError, MOTO_PLAIN_HTTP_VAR,
    MinilakeEndpoint, MotoEndpoint, databricks, minilake, moto, require_databricks,
    require_minilake, require_moto,
};
pub use ids::{unique_account_id, unique_bucket_name, unique_moto_account_id, unique_name};
pub use proxy::{FaultProxy, LostAnswer, OperationCounts, ProxyStats, RequestInfo};
