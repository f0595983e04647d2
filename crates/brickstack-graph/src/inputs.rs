//! What a run knows besides the spec: the people whose single-user clusters it wants, since
//! group members and grants are read when the run starts (`docs/access.md`, "The people").

use std::fmt;

/// Where a person of a run comes from; says why they have a cluster in errors and reports.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PersonSource {
    /// `access.single_user_clusters.users`.
    Spec,
    /// A member of this workspace group (display name).
    Group(String),
    /// A member of this account group (display name).
    AccountGroup(String),
    /// A grant recorded in state by `brickstack access grant` or the access service.
    Grant,
}

impl fmt::Display for PersonSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PersonSource::Spec => f.write_str("the spec"),
            PersonSource::Group(name) => write!(f, "workspace group `{name}`"),
            PersonSource::AccountGroup(name) => write!(f, "account group `{name}`"),
            PersonSource::Grant => f.write_str("a grant"),
        }
    }
}

/// One person who should have a single-user cluster.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Person {
    /// Their Databricks user name; compared without case.
    pub email: String,
    pub source: PersonSource,
}

impl Person {
    pub fn new(email: impl Into<String>, source: PersonSource) -> Self {
        Person {
            email: email.into(),
            source,
        }
    }
}

/// The run-time inputs of [`crate::generate_with`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunInputs {
    /// People beside the spec's `users` (group members, grants). The spec's users are always
    /// included; a person given twice (in any case, from any sources) gets one cluster, and the
    /// first source given (the spec's before these) is the one reported.
    pub people: Vec<Person>,
}
