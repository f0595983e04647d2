//! Resource addresses: `<kind>.<name>`, stable across runs, the key of state and plans.

use std::fmt;

use serde::{Serialize, Serializer};

/// The stable identity of a resource: its kind (the Terraform type name) and a name unique within it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address {
    pub kind: String,
    pub name: String,
}

impl Address {
    pub fn new(kind: impl Into<String>, name: impl Into<String>) -> Self {
        Address {
            kind: kind.into(),
            name: name.into(),
        }
    }

    /// Parses `kind.name`; the name may itself contain dots.
    pub fn parse(text: &str) -> Option<Address> {
        let (kind, name) = text.split_once('.')?;
        (!kind.is_empty() && !name.is_empty()).then(|| Address::new(kind, name))
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.kind, self.name)
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}
