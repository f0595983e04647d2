//! SCIM 2.0 pieces shared by the account and workspace SCIM APIs: list responses with
//! `startIndex`/`count`, the `filter` language (a subset: `eq ne co sw ew pr`, joined by `and` /
//! `or`, no parentheses; string comparisons ignore case, SCIM's default), and PATCH operations
//! (`add`, `remove`, `replace`, with paths such as `members[value eq "id"]`).

use std::collections::HashMap;

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;

pub(crate) const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub(crate) const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub(crate) const SERVICE_PRINCIPAL_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServicePrincipal";
const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// 400 with `scimType: invalidFilter` (after [`crate::error::scim_errors`]).
fn invalid_filter(message: impl Into<String>) -> ApiError {
    ApiError::other(StatusCode::BAD_REQUEST, "INVALID_FILTER", message)
}

/// 400 with `scimType: invalidPath`.
pub(crate) fn invalid_path(message: impl Into<String>) -> ApiError {
    ApiError::other(StatusCode::BAD_REQUEST, "INVALID_PATH", message)
}

/// Filters `resources` (as rendered JSON) by `filter` and pages them by `startIndex`/`count`.
pub(crate) fn list_response(
    resources: Vec<Value>,
    query: &HashMap<String, String>,
) -> Result<Value, ApiError> {
    let filter = query
        .get("filter")
        .filter(|f| !f.trim().is_empty())
        .map(|f| Filter::parse(f))
        .transpose()?;
    let matching: Vec<Value> = resources
        .into_iter()
        .filter(|r| filter.as_ref().is_none_or(|f| f.matches(r)))
        .collect();
    let number = |name: &str, default: usize| -> Result<usize, ApiError> {
        match query.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| ApiError::invalid(format!("{name} must be a number, got {v}"))),
        }
    };
    let start = number("startIndex", 1)?.max(1);
    let count = number("count", 10_000)?;
    let total = matching.len();
    let page: Vec<Value> = matching.into_iter().skip(start - 1).take(count).collect();
    Ok(json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": page.len(),
        "Resources": page,
    }))
}

/// A parsed filter: alternatives (`or`) of conjunctions (`and`) of comparisons.
#[derive(Debug)]
pub(crate) struct Filter(Vec<Vec<Comparison>>);

#[derive(Debug)]
struct Comparison {
    attribute: String,
    op: String,
    value: Option<String>,
}

impl Filter {
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        let tokens = tokenize(text)?;
        let mut alternatives = vec![Vec::new()];
        let mut i = 0;
        while i < tokens.len() {
            let attribute = tokens[i].clone();
            let op = tokens
                .get(i + 1)
                .map(|o| o.to_ascii_lowercase())
                .ok_or_else(|| invalid_filter(format!("Invalid filter `{text}`")))?;
            let value = match op.as_str() {
                "pr" => {
                    i += 2;
                    None
                }
                "eq" | "ne" | "co" | "sw" | "ew" => {
                    let v = tokens
                        .get(i + 2)
                        .ok_or_else(|| invalid_filter(format!("Invalid filter `{text}`")))?;
                    i += 3;
                    Some(v.trim_matches('"').to_string())
                }
                other => {
                    return Err(invalid_filter(format!(
                        "Unsupported filter operator `{other}` in `{text}`"
                    )));
                }
            };
            alternatives.last_mut().unwrap().push(Comparison {
                attribute,
                op,
                value,
            });
            match tokens.get(i).map(|t| t.to_ascii_lowercase()).as_deref() {
                None => {}
                Some("and") => i += 1,
                Some("or") => {
                    alternatives.push(Vec::new());
                    i += 1;
                }
                Some(other) => {
                    return Err(invalid_filter(format!(
                        "Unexpected `{other}` in filter `{text}`"
                    )));
                }
            }
        }
        if alternatives.iter().any(Vec::is_empty) {
            return Err(invalid_filter(format!("Invalid filter `{text}`")));
        }
        Ok(Filter(alternatives))
    }

    pub fn matches(&self, resource: &Value) -> bool {
        self.0
            .iter()
            .any(|all| all.iter().all(|c| c.matches(resource)))
    }
}

impl Comparison {
    fn matches(&self, resource: &Value) -> bool {
        let found = lookup(resource, &self.attribute);
        let Some(actual) = found else {
            return self.op == "ne";
        };
        let actual = actual.to_lowercase();
        let expected = self.value.clone().unwrap_or_default().to_lowercase();
        match self.op.as_str() {
            "pr" => true,
            "eq" => actual == expected,
            "ne" => actual != expected,
            "co" => actual.contains(&expected),
            "sw" => actual.starts_with(&expected),
            "ew" => actual.ends_with(&expected),
            _ => false,
        }
    }
}

/// A top-level attribute (any case) or `a.b` (first element of a multi-valued `a`), as a string.
fn lookup(resource: &Value, path: &str) -> Option<String> {
    let (first, rest) = path.split_once('.').unwrap_or((path, ""));
    let object = resource.as_object()?;
    let value = object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(first))
        .map(|(_, v)| v)?;
    let value = if rest.is_empty() {
        value
    } else {
        let inner = match value {
            Value::Array(items) => items.first()?,
            other => other,
        };
        return lookup(inner, rest);
    };
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn tokenize(text: &str) -> Result<Vec<String>, ApiError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut s = String::from('"');
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            s.push(n);
                        }
                    }
                    '"' => {
                        closed = true;
                        break;
                    }
                    _ => s.push(c),
                }
            }
            if !closed {
                return Err(invalid_filter(format!("Unterminated string in `{text}`")));
            }
            s.push('"');
            tokens.push(s);
        } else {
            let mut s = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                s.push(c);
                chars.next();
            }
            tokens.push(s);
        }
    }
    Ok(tokens)
}

/// A SCIM PATCH body.
#[derive(Debug, Deserialize)]
pub(crate) struct PatchRequest {
    #[serde(default)]
    pub schemas: Vec<String>,
    #[serde(rename = "Operations", default)]
    pub operations: Vec<PatchOperation>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PatchOperation {
    pub op: String,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub value: Option<Value>,
}

impl PatchRequest {
    pub fn check(&self) -> Result<(), ApiError> {
        if !self.schemas.is_empty() && !self.schemas.iter().any(|s| s == PATCH_SCHEMA) {
            return Err(ApiError::invalid(format!(
                "PATCH requests must use the schema {PATCH_SCHEMA}"
            )));
        }
        if self.operations.is_empty() {
            return Err(ApiError::invalid("PATCH request has no Operations"));
        }
        for op in &self.operations {
            if !matches!(
                op.op.to_ascii_lowercase().as_str(),
                "add" | "remove" | "replace"
            ) {
                return Err(ApiError::invalid(format!(
                    "Unsupported PATCH op `{}`",
                    op.op
                )));
            }
        }
        Ok(())
    }
}

/// A PATCH path: `attr`, or `attr[value eq "x"]`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct PatchPath {
    /// Lower-cased attribute name.
    pub attribute: String,
    /// The `value` the bracket filter selects.
    pub value_eq: Option<String>,
}

pub(crate) fn parse_path(path: &str) -> Result<PatchPath, ApiError> {
    let path = path.trim();
    let Some((attribute, rest)) = path.split_once('[') else {
        return Ok(PatchPath {
            attribute: path.to_ascii_lowercase(),
            value_eq: None,
        });
    };
    let inner = rest
        .strip_suffix(']')
        .ok_or_else(|| invalid_path(format!("Invalid path `{path}`")))?;
    let filter = Filter::parse(inner)?;
    match filter.0.as_slice() {
        [one] if one.len() == 1 && one[0].attribute == "value" && one[0].op == "eq" => {
            Ok(PatchPath {
                attribute: attribute.to_ascii_lowercase(),
                value_eq: one[0].value.clone(),
            })
        }
        _ => Err(invalid_path(format!(
            "Only `[value eq \"...\"]` selections are supported, got `{path}`"
        ))),
    }
}

/// The `value`s of a multi-valued attribute's PATCH value: `[{"value": "x"}, ...]`, one object,
/// or plain strings.
pub(crate) fn values(value: Option<&Value>) -> Result<Vec<String>, ApiError> {
    let items: Vec<&Value> = match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other) => vec![other],
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::String(s) => Ok(s.clone()),
            Value::Object(o) => match o.get("value") {
                Some(Value::String(s)) => Ok(s.clone()),
                Some(Value::Number(n)) => Ok(n.to_string()),
                _ => Err(ApiError::invalid(format!(
                    "Each value needs a string `value`: {item}"
                ))),
            },
            _ => Err(ApiError::invalid(format!("Invalid value {item}"))),
        })
        .collect()
}

/// `[{"value": v}, ...]` for a multi-valued attribute.
pub(crate) fn value_list(values: &[String]) -> Value {
    Value::Array(values.iter().map(|v| json!({ "value": v })).collect())
}

/// Applies an add / remove / replace of `values` to a multi-valued attribute held as strings.
pub(crate) fn apply_values(
    target: &mut Vec<String>,
    op: &str,
    path: &PatchPath,
    values: Vec<String>,
) {
    match op {
        "add" => {
            for v in values {
                if !target.contains(&v) {
                    target.push(v);
                }
            }
        }
        "remove" => {
            if let Some(one) = &path.value_eq {
                target.retain(|v| v != one);
            } else if values.is_empty() {
                target.clear();
            } else {
                target.retain(|v| !values.contains(v));
            }
        }
        _ => *target = values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters() {
        let user = json!({"userName": "A@example.com", "displayName": "Ann Lee", "active": true});
        let check = |f: &str| Filter::parse(f).unwrap().matches(&user);
        assert!(check(r#"userName eq "a@example.com""#));
        assert!(check(r#"displayName co "lee" and active eq true"#));
        assert!(check(r#"displayName eq "x" or displayName sw "ann""#));
        assert!(!check(r#"displayName eq "Ann""#));
        assert!(check("userName pr"));
        assert!(Filter::parse("displayName eq").is_err());
        assert!(Filter::parse(r#"displayName gt "a""#).is_err());
    }

    #[test]
    fn patch_paths() {
        assert_eq!(
            parse_path(r#"members[value eq "123"]"#).unwrap(),
            PatchPath {
                attribute: "members".into(),
                value_eq: Some("123".into())
            }
        );
        assert_eq!(parse_path("entitlements").unwrap().value_eq, None);
        assert!(parse_path(r#"members[display eq "x"]"#).is_err());
    }
}
