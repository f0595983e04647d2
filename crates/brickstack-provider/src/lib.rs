//! The contract between the engine and the clouds: the `Provider` trait, what each kind's
//! attributes do on change (`schema`), how errors are classified (`error`), and an in-memory
//! provider with failure injection for engine tests and benchmarks (`memory`), where secret
//! values go (`secrets`), and two providers as one (`pair`).

mod error;
pub mod memory;
mod pair;
mod provider;
mod schema;
mod secrets;

pub use error::{ErrorClass, ProviderError};
pub use pair::Pair;
pub use provider::{Attributes, CreateRequest, Observed, Presence, Provider, SurveyObject};
pub use schema::{AttributeBehaviour, KindSchema, Rotation};
pub use secrets::{SecretMetadata, SecretStore, SecretValue, SecretWrite};
