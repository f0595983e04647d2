//! What a kind's attributes do when their desired value changes.

/// How an attribute behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeBehaviour {
    /// Changed in place by `update`.
    Updatable,
    /// A change needs a new object: the planner proposes a replacement.
    ForcesReplacement,
    /// Set by the cloud, never desired (an id, an ARN): excluded from diffs.
    Computed,
    /// Desired but never shown or stored by value (a token's value).
    Sensitive,
}

/// A kind's schema: its attributes and lifecycle traits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindSchema {
    pub kind: String,
    /// Attributes by name; an attribute not listed is `Updatable`.
    pub attributes: Vec<(String, AttributeBehaviour)>,
    /// Replace by creating the new object before deleting the old one.
    pub create_before_destroy: bool,
    /// Objects of this kind hold data (a datalake bucket): deleting one needs `--destroy-data`.
    pub holds_data: bool,
}

impl KindSchema {
    pub fn new(kind: impl Into<String>) -> Self {
        KindSchema {
            kind: kind.into(),
            attributes: Vec::new(),
            create_before_destroy: false,
            holds_data: false,
        }
    }

    pub fn attribute(mut self, name: &str, behaviour: AttributeBehaviour) -> Self {
        self.attributes.push((name.to_string(), behaviour));
        self
    }

    pub fn behaviour(&self, name: &str) -> AttributeBehaviour {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map_or(AttributeBehaviour::Updatable, |(_, b)| *b)
    }
}
