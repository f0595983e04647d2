//! Clusters (`/api/2.1/clusters/…`) and their event log, by concern: the typed spec and
//! details ([`spec`]), the calls that create, edit, start, resize, terminate and delete them
//! ([`calls`]), the event log ([`events`]) and the waits for `RUNNING` and `TERMINATED`
//! ([`wait`]). Everything is re-exported here, so `workspace::clusters::X` names any of it.
//!
//! Enumerations the platform keeps extending (states, termination codes and types, event types,
//! security modes) are *open*: a value this client does not know parses as `Other(text)`, so a
//! new code never breaks a read.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

pub mod calls;
pub mod events;
pub mod spec;
pub mod wait;

pub use events::*;
pub use spec::*;
pub use wait::*;

/// An enumeration whose wire form is a string and which keeps values it does not know.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A value this client does not know (yet), as the API sent it.
            Other(String),
        }

        impl $name {
            /// The wire form.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)*
                    $name::Other(text) => text,
                }
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                match text {
                    $($text => $name::$variant,)*
                    other => $name::Other(other.to_string()),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <String as ::serde::Deserialize>::deserialize(deserializer)?;
                Ok($name::from(text.as_str()))
            }
        }
    };
}
pub(crate) use open_enum;

const CLUSTERS: &str = "/api/2.1/clusters";

fn path(call: &str) -> String {
    format!("{CLUSTERS}/{call}")
}

/// A JSON `null` as the type's default (the API sends `null` for empty lists and maps at times).
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A map of scalars as strings (`termination_reason.parameters` is documented as string to
/// string; anything else is kept readable rather than failing the whole answer).
fn string_map<'de, D>(deserializer: D) -> Result<BTreeMap<String, String>, D::Error>
where
    D: Deserializer<'de>,
{
    let raw = Option::<BTreeMap<String, Value>>::deserialize(deserializer)?.unwrap_or_default();
    Ok(raw
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s,
                Value::Null => String::new(),
                other => other.to_string(),
            };
            (k, v)
        })
        .collect())
}
