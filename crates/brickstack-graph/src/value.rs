//! Desired attribute values: literals, references to other resources' attributes, and values the
//! environment supplies at run time (account id, partition).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::address::Address;

/// A value known only at run time, from the credentials in use rather than from another resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContextValue {
    /// The AWS account id of the caller.
    AccountId,
}

/// An attribute of another resource, known once that resource exists; becomes a graph edge.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Reference {
    pub address: Address,
    pub attribute: String,
}

/// A desired attribute value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    /// Another resource's attribute.
    Ref(Reference),
    /// A run-time value of the environment.
    Context(ContextValue),
    /// A string made of parts, some of them references: `arn:aws:iam::` + account id + `:root`.
    Concat(Vec<Value>),
}

impl Value {
    /// Every reference inside this value, depth first.
    pub fn references(&self) -> Vec<&Reference> {
        let mut out = Vec::new();
        self.collect_references(&mut out);
        out
    }

    fn collect_references<'a>(&'a self, out: &mut Vec<&'a Reference>) {
        match self {
            Value::Ref(r) => out.push(r),
            Value::List(items) | Value::Concat(items) => {
                items.iter().for_each(|v| v.collect_references(out))
            }
            Value::Map(map) => map.values().for_each(|v| v.collect_references(out)),
            Value::Bool(_) | Value::Int(_) | Value::Str(_) | Value::Context(_) => {}
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    /// A compact, HCL-like rendering for the text graph and plans.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Map(map) => {
                f.write_str("{")?;
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k} = {v}")?;
                }
                f.write_str("}")
            }
            Value::Ref(r) => write!(f, "{}.{}", r.address, r.attribute),
            Value::Context(c) => match c {
                ContextValue::AccountId => f.write_str("${account_id}"),
            },
            Value::Concat(parts) => {
                f.write_str("\"")?;
                for p in parts {
                    match p {
                        Value::Str(s) => f.write_str(s)?,
                        other => write!(f, "${{{other}}}")?,
                    }
                }
                f.write_str("\"")
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}
impl From<&String> for Value {
    fn from(s: &String) -> Self {
        Value::Str(s.clone())
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<Reference> for Value {
    fn from(r: Reference) -> Self {
        Value::Ref(r)
    }
}
impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(items: Vec<T>) -> Self {
        Value::List(items.into_iter().map(Into::into).collect())
    }
}
impl From<BTreeMap<String, Value>> for Value {
    fn from(map: BTreeMap<String, Value>) -> Self {
        Value::Map(map)
    }
}

/// Builds a `Value::Map` from `key => value` pairs.
#[macro_export]
macro_rules! map {
    ($($key:expr => $value:expr),* $(,)?) => {{
        #[allow(unused_mut)]
        let mut m = ::std::collections::BTreeMap::<String, $crate::Value>::new();
        $( m.insert(($key).to_string(), $crate::Value::from($value)); )*
        $crate::Value::Map(m)
    }};
}

/// Builds a `Value::List` from values of mixed types.
#[macro_export]
macro_rules! list {
    ($($value:expr),* $(,)?) => {
        $crate::Value::List(vec![$($crate::Value::from($value)),*])
    };
}

/// `arn:aws:iam::<account>:root`, the account's own principal (never `*`).
pub fn account_root() -> Value {
    Value::Concat(vec![
        "arn:aws:iam::".into(),
        Value::Context(ContextValue::AccountId),
        ":root".into(),
    ])
}

impl Value {
    /// The value as JSON, references and context values looked up; `None` while any part is
    /// unknown (a reference to an object not created yet).
    pub fn resolve(
        &self,
        reference: &dyn Fn(&Reference) -> Option<serde_json::Value>,
        context: &dyn Fn(ContextValue) -> Option<String>,
    ) -> Option<serde_json::Value> {
        use serde_json::Value as Json;
        Some(match self {
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::Str(s) => Json::String(s.clone()),
            Value::List(items) => Json::Array(
                items
                    .iter()
                    .map(|v| v.resolve(reference, context))
                    .collect::<Option<Vec<_>>>()?,
            ),
            Value::Map(map) => Json::Object(
                map.iter()
                    .map(|(k, v)| Some((k.clone(), v.resolve(reference, context)?)))
                    .collect::<Option<serde_json::Map<_, _>>>()?,
            ),
            Value::Ref(r) => reference(r)?,
            Value::Context(c) => Json::String(context(*c)?),
            Value::Concat(parts) => {
                let mut out = String::new();
                for part in parts {
                    match part.resolve(reference, context)? {
                        Json::String(s) => out.push_str(&s),
                        other => out.push_str(&other.to_string()),
                    }
                }
                Json::String(out)
            }
        })
    }
}

impl ContextValue {
    /// The key a provider's context map uses for this value.
    pub fn key(self) -> &'static str {
        match self {
            ContextValue::AccountId => "account_id",
        }
    }
}
