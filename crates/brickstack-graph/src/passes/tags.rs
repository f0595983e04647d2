//! Pass 2: tags. Every object that takes tags carries the environment's tags, `Name` where the
//! console shows one, and `brickstack:environment` / `brickstack:address`, so recovery, drift
//! checks and audits can find it by tag alone. Tags a component set itself are kept (brickstack's
//! two win over them).

use std::collections::BTreeMap;

use brickstack_spec::Spec;

use crate::kinds::{Tagging, tagging};
use crate::resource::Resources;
use crate::value::Value;

pub const ENVIRONMENT_TAG: &str = "brickstack:environment";
pub const ADDRESS_TAG: &str = "brickstack:address";

pub fn apply(spec: &Spec, resources: &mut Resources) {
    for resource in &mut resources.items {
        let attribute = match tagging(resource.kind()) {
            Some(Tagging::Tags) => "tags",
            Some(Tagging::CustomTags) => "custom_tags",
            Some(Tagging::None) | None => continue,
        };
        let mut tags: BTreeMap<String, Value> = spec
            .environment
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().into()))
            .collect();
        // A component's own tags (a person's cluster names its person) come on top.
        if let Some(Value::Map(own)) = resource.attributes.get(attribute) {
            tags.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        if let (Some(name), "tags") = (&resource.name_tag, attribute) {
            tags.insert("Name".into(), name.as_str().into());
        }
        tags.insert(
            ENVIRONMENT_TAG.into(),
            spec.environment.name.as_str().into(),
        );
        tags.insert(ADDRESS_TAG.into(), resource.address.to_string().into());
        resource
            .attributes
            .insert(attribute.into(), Value::Map(tags));
    }
}
