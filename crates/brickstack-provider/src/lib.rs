//! The contract between the engine and the clouds: the `Provider` trait, what each kind's
//! attributes do on change (`schema`), how errors are classified (`error`), and an in-memory
//! provider with failure injection for engine tests and benchmarks (`memory`), where secret
//! values go (`secrets`), two providers as one (`pair`), and the one retry policy (`retry`).

mod error;
pub mod memory;
mod pair;
mod provider;
mod retry;
mod schema;
mod secrets;

pub use error::{ErrorClass, ProviderError};
pub use pair::Pair;
pub use provider::{Attributes, CreateRequest, Observed, Presence, Provider, SurveyObject};
pub use retry::RetryPolicy;
pub use schema::{AttributeBehaviour, KindSchema, Rotation};
pub use secrets::{SecretMetadata, SecretStore, SecretValue, SecretWrite};
