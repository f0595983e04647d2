//! A resource: one graph node, one cloud object, with its desired attributes.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::address::Address;
use crate::value::{Reference, Value};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resource {
    pub address: Address,
    /// Desired attributes, in the kind's Terraform schema names.
    pub attributes: BTreeMap<String, Value>,
    /// Ordering without a value flowing (a NAT gateway needs the internet gateway attached).
    pub depends_on: BTreeSet<Address>,
    /// The `Name` tag, for kinds that show one in the console.
    pub name_tag: Option<String>,
    /// Once the spec no longer wants this resource, how long its object stays before it is
    /// deleted (a person's single-user cluster after they leave the list); `None`: deleted by
    /// the next apply, as usual. Recorded in state with the resource, since the planner must
    /// honour it when the resource is no longer in the graph.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removal_grace_seconds: Option<u64>,
}

impl Resource {
    pub fn new(kind: &str, name: impl Into<String>) -> Self {
        Resource {
            address: Address::new(kind, name),
            attributes: BTreeMap::new(),
            depends_on: BTreeSet::new(),
            name_tag: None,
            removal_grace_seconds: None,
        }
    }

    pub fn kind(&self) -> &str {
        &self.address.kind
    }

    /// Every resource this one refers to or explicitly depends on.
    pub fn dependencies(&self) -> BTreeSet<Address> {
        self.attributes
            .values()
            .flat_map(Value::references)
            .map(|r| r.address.clone())
            .chain(self.depends_on.iter().cloned())
            .filter(|a| *a != self.address)
            .collect()
    }
}

/// The resources of one graph, collected by the component emitters before the passes run.
#[derive(Debug, Default)]
pub struct Resources {
    pub items: Vec<Resource>,
}

impl Resources {
    /// Adds a resource and returns a handle for referring to it.
    pub fn add(&mut self, kind: &str, name: impl Into<String>, attributes: Value) -> Handle<'_> {
        let mut resource = Resource::new(kind, name);
        if let Value::Map(map) = attributes {
            resource.attributes = map;
        }
        self.items.push(resource);
        let index = self.items.len() - 1;
        Handle {
            resource: &mut self.items[index],
        }
    }
}

/// A just-added resource, for chaining settings and taking references.
pub struct Handle<'a> {
    resource: &'a mut Resource,
}

impl Handle<'_> {
    pub fn name_tag(self, name: impl Into<String>) -> Self {
        self.resource.name_tag = Some(name.into());
        self
    }

    /// Sets [`Resource::removal_grace_seconds`].
    pub fn removal_grace(self, seconds: u64) -> Self {
        self.resource.removal_grace_seconds = Some(seconds);
        self
    }

    pub fn depends_on(self, address: &Address) -> Self {
        self.resource.depends_on.insert(address.clone());
        self
    }

    pub fn address(&self) -> Address {
        self.resource.address.clone()
    }
}

/// A reference to `address.attribute`.
pub fn reference(address: &Address, attribute: &str) -> Value {
    Value::Ref(Reference {
        address: address.clone(),
        attribute: attribute.to_string(),
    })
}
