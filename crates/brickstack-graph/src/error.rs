//! Why a graph could not be built.

use crate::address::Address;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// Two resources claim one address: a generator bug or two spec entries mapping to one name.
    #[error("two resources have the address `{address}`")]
    DuplicateAddress { address: Address },
    /// A resource refers to an address no resource has.
    #[error("`{from}` refers to `{to}`, which the graph does not contain")]
    UndefinedReference { from: Address, to: Address },
    /// A person given to [`crate::generate_with`] whose e-mail cannot be a Databricks user name.
    #[error(
        "`{email}` (from {from}) is not an e-mail address, so it cannot be given a single-user cluster"
    )]
    InvalidPerson {
        email: String,
        from: crate::inputs::PersonSource,
    },
    /// The dependencies form a cycle; `cycle` lists it in order, first repeated last.
    #[error("dependency cycle: {}", cycle.iter().map(ToString::to_string).collect::<Vec<_>>().join(" -> "))]
    Cycle { cycle: Vec<Address> },
}
