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
    /// List attributes that are sets to the cloud (subnet ids of an endpoint): compared without
    /// regard to order, since the cloud reports them in its own order and the graph in address
    /// order.
    pub unordered: Vec<String>,
    /// Objects that expire and are replaced before they do (tokens): see [`Rotation`].
    pub rotation: Option<Rotation>,
    /// Deleting a resource of this kind forgets it (drops its record) and leaves the object in
    /// place: objects another system owns once they exist (a workspace user, whom the identity
    /// provider's SCIM sync manages), as Pulumi's `retainOnDelete`.
    pub retain_on_delete: bool,
    /// The object cannot be read back (a step such as a cluster's first shutdown, a message
    /// posted): refresh keeps the recorded attributes, and the object counts as gone once
    /// something it depends on is gone.
    pub recorded_only: bool,
    /// A create is sent at most once: one journaled but never recorded (the run died while it
    /// was in flight) is settled as done from the intent's attributes, never sent again, and
    /// reported as "outcome unknown" (a Slack message: a repeat would reach a person twice).
    pub at_most_once: bool,
}

/// A kind's rotation rule: the planner replaces an object whose observed `expires_in` attribute
/// (seconds until it expires, judged by the cloud's clock; negative once expired; absent for an
/// object that never expires) is at most its desired `rotate_before` attribute (absent: 0, so
/// only an expired object is rotated).
///
/// `rotate_before` is a setting of the plan, not of the object: the cloud cannot report it back,
/// so the planner never compares it, and changing it alone changes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The observed attribute: seconds until the object expires.
    pub expires_in: String,
    /// The desired attribute: how many seconds before expiry to rotate.
    pub rotate_before: String,
}

impl KindSchema {
    pub fn new(kind: impl Into<String>) -> Self {
        KindSchema {
            kind: kind.into(),
            attributes: Vec::new(),
            create_before_destroy: false,
            holds_data: false,
            unordered: Vec::new(),
            rotation: None,
            retain_on_delete: false,
            recorded_only: false,
            at_most_once: false,
        }
    }

    /// Marks the kind [`KindSchema::recorded_only`].
    pub fn recorded_only(mut self) -> Self {
        self.recorded_only = true;
        self
    }

    /// Marks the kind [`KindSchema::at_most_once`].
    pub fn at_most_once(mut self) -> Self {
        self.at_most_once = true;
        self
    }

    /// Marks the kind [`KindSchema::retain_on_delete`].
    pub fn retained_on_delete(mut self) -> Self {
        self.retain_on_delete = true;
        self
    }

    /// Gives the kind a rotation rule (see [`Rotation`]).
    pub fn rotation(mut self, expires_in: &str, rotate_before: &str) -> Self {
        self.rotation = Some(Rotation {
            expires_in: expires_in.to_string(),
            rotate_before: rotate_before.to_string(),
        });
        self
    }

    /// Whether the planner compares the desired attribute `name` with what the cloud reports:
    /// not for computed attributes, nor for the rotation rule's threshold, which only the plan
    /// reads.
    pub fn compared(&self, name: &str) -> bool {
        self.behaviour(name) != AttributeBehaviour::Computed
            && self
                .rotation
                .as_ref()
                .is_none_or(|r| r.rotate_before != name)
    }

    pub fn attribute(mut self, name: &str, behaviour: AttributeBehaviour) -> Self {
        self.attributes.push((name.to_string(), behaviour));
        self
    }

    /// Marks the list attribute `name` as a set: order never makes a difference.
    pub fn unordered(mut self, name: &str) -> Self {
        self.unordered.push(name.to_string());
        self
    }

    /// Whether `desired` and `observed` values of `name` are the same: equal, or for an
    /// unordered list, the same items in any order.
    pub fn same_value(
        &self,
        name: &str,
        desired: &serde_json::Value,
        observed: &serde_json::Value,
    ) -> bool {
        if desired == observed {
            return true;
        }
        if !self.unordered.iter().any(|n| n == name) {
            return false;
        }
        match (desired, observed) {
            (serde_json::Value::Array(a), serde_json::Value::Array(b)) if a.len() == b.len() => {
                let key = |v: &serde_json::Value| v.to_string();
                let mut a: Vec<String> = a.iter().map(key).collect();
                let mut b: Vec<String> = b.iter().map(key).collect();
                a.sort();
                b.sort();
                a == b
            }
            _ => false,
        }
    }

    pub fn behaviour(&self, name: &str) -> AttributeBehaviour {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map_or(AttributeBehaviour::Updatable, |(_, b)| *b)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::KindSchema;

    #[test]
    fn only_unordered_lists_ignore_order() {
        let schema = KindSchema::new("k").unordered("set");
        assert!(schema.same_value("set", &json!(["a", "b"]), &json!(["b", "a"])));
        assert!(!schema.same_value("list", &json!(["a", "b"]), &json!(["b", "a"])));
        assert!(!schema.same_value("set", &json!(["a", "a"]), &json!(["a", "b"])));
        assert!(!schema.same_value("set", &json!(["a"]), &json!(["a", "b"])));
        assert!(schema.same_value("list", &json!(["a"]), &json!(["a"])));
    }
}
