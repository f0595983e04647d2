//! `databricks_grants`: the privileges of the account groups brickstack names on one catalog or
//! schema. The object id is `<workspace_id>/<securable type>/<full name>#<principals>`, the
//! principals it manages percent-encoded and comma-separated.
//!
//! * Authoritative for those principals only: read reports just their privileges, and changes
//!   add and remove just theirs; other principals' grants (an owner's, a hand-made one) stay.
//!   A principal dropped from the spec loses what it held here; the new object id names the
//!   principals now managed.
//! * Create and update are one `PATCH` of `changes` computed against what the principals hold:
//!   harmless to resend, so `find` finds nothing to adopt.
//! * `grant` is a set (by principal); each principal's `privileges` are sorted.
//! * Delete removes the managed principals' privileges (nothing to do once the securable is gone).

use std::collections::{BTreeMap, BTreeSet};

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, KindSchema, Observed, ProviderError,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};

use super::{invalid_input, observed, parse, scoped_id, scoped_workspace, split_scoped};
use crate::provider::{DatabricksProvider, Workspace};
use crate::workspace::unity_catalog::grants::{
    PermissionsChange, PrivilegeAssignment, SecurableType,
};
use crate::workspace::unity_catalog::is_missing_metastore;

pub(crate) const KIND: &str = "databricks_grants";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantsAttributes {
    workspace_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    catalog: Option<String>,
    /// `catalog.schema`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    schema: Option<String>,
    grant: Vec<Grant>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Grant {
    principal: String,
    privileges: Vec<String>,
}

impl GrantsAttributes {
    fn securable(&self) -> Result<(SecurableType, &str), ProviderError> {
        match (&self.catalog, &self.schema) {
            (Some(c), None) => Ok((SecurableType::Catalog, c)),
            (None, Some(s)) => Ok((SecurableType::Schema, s)),
            _ => Err(invalid_input(
                KIND,
                "give exactly one of `catalog` and `schema`",
            )),
        }
    }

    /// Privileges by principal, sorted.
    fn wanted(&self) -> BTreeMap<String, BTreeSet<String>> {
        self.grant
            .iter()
            .map(|g| (g.principal.clone(), g.privileges.iter().cloned().collect()))
            .collect()
    }
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("workspace_url", AttributeBehaviour::ForcesReplacement)
        .attribute("catalog", AttributeBehaviour::ForcesReplacement)
        .attribute("schema", AttributeBehaviour::ForcesReplacement)
        .unordered("grant")
}

/// What a grants object is about: the securable and the principals it manages.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    securable: SecurableType,
    full_name: String,
    principals: BTreeSet<String>,
}

const ESCAPED: [(char, &str); 3] = [('%', "%25"), (',', "%2C"), ('#', "%23")];

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match ESCAPED.iter().find(|(e, _)| *e == c) {
            Some((_, code)) => out.push_str(code),
            None => out.push(c),
        }
    }
    out
}

fn unescape(s: &str) -> String {
    // `%25` last, so an escaped `%` never forms another code.
    s.replace("%2C", ",")
        .replace("%23", "#")
        .replace("%25", "%")
}

impl Target {
    fn native_id(&self) -> String {
        let principals: Vec<String> = self.principals.iter().map(|p| escape(p)).collect();
        format!(
            "{}/{}#{}",
            self.securable,
            escape(&self.full_name),
            principals.join(",")
        )
    }

    fn parse(native: &str) -> Result<Target, ProviderError> {
        let bad = || {
            invalid_input(
                KIND,
                format!("object id part `{native}` is not `<type>/<full name>#<principals>`"),
            )
        };
        let (securable, rest) = native.split_once('/').ok_or_else(bad)?;
        let (full_name, principals) = rest.rsplit_once('#').ok_or_else(bad)?;
        let securable = match securable {
            "catalog" => SecurableType::Catalog,
            "schema" => SecurableType::Schema,
            _ => return Err(bad()),
        };
        Ok(Target {
            securable,
            full_name: unescape(full_name),
            principals: principals
                .split(',')
                .filter(|p| !p.is_empty())
                .map(unescape)
                .collect(),
        })
    }
}

/// The managed principals' privileges on the securable; `None` when the securable (or the
/// workspace's metastore) is gone.
async fn held(
    ws: &Workspace,
    target: &Target,
) -> Result<Option<BTreeMap<String, BTreeSet<String>>>, ProviderError> {
    let all = match ws
        .client
        .get_grants(&target.securable, &target.full_name, None)
        .await
    {
        Ok(all) => all,
        Err(e) if e.is_not_found() || is_missing_metastore(&e) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    Ok(Some(managed(&all, &target.principals)))
}

fn managed(
    all: &[PrivilegeAssignment],
    principals: &BTreeSet<String>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for a in all.iter().filter(|a| principals.contains(&a.principal)) {
        out.entry(a.principal.clone())
            .or_default()
            .extend(a.privileges.iter().cloned());
    }
    out.retain(|_, p| !p.is_empty());
    out
}

fn observe(ws: &Workspace, target: &Target, held: &BTreeMap<String, BTreeSet<String>>) -> Observed {
    let name = Some(target.full_name.clone());
    let (catalog, schema) = match target.securable {
        SecurableType::Catalog => (name, None),
        _ => (None, name),
    };
    let attributes = GrantsAttributes {
        workspace_url: ws.client.host().to_string(),
        catalog,
        schema,
        grant: held
            .iter()
            .map(|(principal, privileges)| Grant {
                principal: principal.clone(),
                privileges: privileges.iter().cloned().collect(),
            })
            .collect(),
    };
    observed(&scoped_id(ws.id, &target.native_id()), &attributes, [])
}

/// What turns `held` into `wanted` for every principal of either.
fn changes(
    held: &BTreeMap<String, BTreeSet<String>>,
    wanted: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<PermissionsChange> {
    let empty = BTreeSet::new();
    let principals: BTreeSet<&String> = held.keys().chain(wanted.keys()).collect();
    principals
        .into_iter()
        .filter_map(|principal| {
            let has = held.get(principal).unwrap_or(&empty);
            let wants = wanted.get(principal).unwrap_or(&empty);
            let change = PermissionsChange {
                principal: principal.clone(),
                add: wants.difference(has).cloned().collect(),
                remove: has.difference(wants).cloned().collect(),
            };
            (!change.add.is_empty() || !change.remove.is_empty()).then_some(change)
        })
        .collect()
}

pub(crate) async fn read(
    p: &DatabricksProvider,
    object_id: &str,
) -> Result<Option<Observed>, ProviderError> {
    let Some((ws, native)) = scoped_workspace(p, KIND, object_id).await? else {
        return Ok(None);
    };
    let target = Target::parse(native)?;
    Ok(held(&ws, &target)
        .await?
        .map(|held| observe(&ws, &target, &held)))
}

/// Sets the desired principals' privileges, and takes away those of `dropped` (principals this
/// object managed that the spec no longer names).
async fn apply(
    p: &DatabricksProvider,
    attributes: &Attributes,
    dropped: BTreeSet<String>,
) -> Result<Observed, ProviderError> {
    let desired: GrantsAttributes = parse(KIND, attributes)?;
    let (securable, full_name) = desired.securable()?;
    let ws = p.workspace_at(&desired.workspace_url).await?;
    let wanted = desired.wanted();
    let target = Target {
        securable,
        full_name: full_name.to_string(),
        principals: wanted.keys().cloned().collect(),
    };
    let all = ws
        .client
        .get_grants(&target.securable, &target.full_name, None)
        .await?;
    let every: BTreeSet<String> = target.principals.union(&dropped).cloned().collect();
    let held = managed(&all, &every);
    let changes = changes(&held, &wanted);
    let after = if changes.is_empty() {
        all
    } else {
        ws.client
            .update_grants(&target.securable, &target.full_name, &changes)
            .await?
    };
    Ok(observe(&ws, &target, &managed(&after, &target.principals)))
}

pub(crate) async fn create(
    p: &DatabricksProvider,
    request: &CreateRequest,
) -> Result<Observed, ProviderError> {
    apply(p, &request.attributes, BTreeSet::new()).await
}

pub(crate) async fn update(
    p: &DatabricksProvider,
    object_id: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let (_, native) = split_scoped(KIND, object_id)?;
    let before = Target::parse(native)?;
    apply(p, attributes, before.principals).await
}

pub(crate) async fn delete(p: &DatabricksProvider, object_id: &str) -> Result<(), ProviderError> {
    let Some((ws, native)) = scoped_workspace(p, KIND, object_id).await? else {
        return Ok(());
    };
    let target = Target::parse(native)?;
    let Some(held) = held(&ws, &target).await? else {
        return Ok(());
    };
    let changes = changes(&held, &BTreeMap::new());
    if changes.is_empty() {
        return Ok(());
    }
    match ws
        .client
        .update_grants(&target.securable, &target.full_name, &changes)
        .await
    {
        Err(e) if !(e.is_not_found() || is_missing_metastore(&e)) => Err(e.into()),
        _ => Ok(()),
    }
}

/// The `PATCH` is harmless to resend: nothing to adopt.
pub(crate) async fn find(
    _p: &DatabricksProvider,
    _lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    Ok(None)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_object_id_round_trips_principals_with_separators_in_their_names() {
        let target = Target {
            securable: SecurableType::Schema,
            full_name: "raw.landing".into(),
            principals: set(&["analysts", "a,b#c%d"]),
        };
        let native = target.native_id();
        assert_eq!(native, "schema/raw.landing#a%2Cb%23c%25d,analysts");
        assert_eq!(Target::parse(&native).unwrap(), target);
        assert!(Target::parse("table/x#a").is_err());
        assert!(Target::parse("catalog/x").is_err());
    }

    #[test]
    fn changes_touch_only_the_named_principals_and_only_what_differs() {
        let all = vec![
            PrivilegeAssignment {
                principal: "analysts".into(),
                privileges: vec!["SELECT".into(), "MODIFY".into()],
            },
            PrivilegeAssignment {
                principal: "someone-else".into(),
                privileges: vec!["ALL_PRIVILEGES".into()],
            },
        ];
        let held = managed(&all, &set(&["analysts", "auditors"]));
        assert_eq!(held.len(), 1, "someone-else is not brickstack's");
        let wanted: BTreeMap<String, BTreeSet<String>> = [
            ("analysts".to_string(), set(&["SELECT", "USE_SCHEMA"])),
            ("auditors".to_string(), set(&["USE_SCHEMA"])),
        ]
        .into();
        let changes = changes(&held, &wanted);
        assert_eq!(
            serde_json::to_value(&changes).unwrap(),
            json!([
                {"principal": "analysts", "add": ["USE_SCHEMA"], "remove": ["MODIFY"]},
                {"principal": "auditors", "add": ["USE_SCHEMA"]},
            ])
        );
        assert!(super::changes(&wanted, &wanted).is_empty());
    }

    #[test]
    fn the_graph_shape_parses_and_names_one_securable() {
        let desired = json!({
            "workspace_url": "https://w",
            "schema": "raw.landing",
            "grant": [{"principal": "analysts", "privileges": ["SELECT", "USE_SCHEMA"]}],
        });
        let parsed: GrantsAttributes = parse(KIND, desired.as_object().unwrap()).unwrap();
        assert_eq!(
            parsed.securable().unwrap(),
            (SecurableType::Schema, "raw.landing")
        );
        let both = json!({"workspace_url": "w", "catalog": "a", "schema": "a.b", "grant": []});
        let both: GrantsAttributes = parse(KIND, both.as_object().unwrap()).unwrap();
        assert!(both.securable().is_err());
    }
}
