//! Single-user clusters (`docs/access.md`): for each person, six resources that are the steps of
//! giving them a cluster, so the engine journals each, a crash resumes at the step it stopped,
//! and nothing finished (the Slack message above all) is done twice.
//!
//! Addresses come from the e-mail alone (`su_<key>`), never from the cluster's name, so adding
//! or removing one person adds or removes exactly their six addresses, and a rename (two people
//! whose names collide) is an in-place edit of `cluster_name`. Every step is linear in the number
//! of people: collisions are counted in maps, never by comparing pairs.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use brickstack_spec::{BucketRole, Library, SingleUserClusters, Spec};
use sha2::{Digest, Sha256};

use super::addresses;
use crate::error::GraphError;
use crate::graph::ResourceGraph;
use crate::inputs::{Person, PersonSource, RunInputs};
use crate::resource::{Resources, reference};
use crate::value::Value;
use crate::{Address, list, map};

/// The kinds of a person's resources, in the order of their dependencies.
pub const KINDS: [&str; 6] = [USER, CLUSTER, LIBRARIES, PERMISSIONS, SHUTDOWN, MESSAGE];

const USER: &str = "databricks_user";
const CLUSTER: &str = "databricks_cluster";
const LIBRARIES: &str = "databricks_cluster_libraries";
const PERMISSIONS: &str = "databricks_permissions";
const SHUTDOWN: &str = "databricks_cluster_shutdown";
const MESSAGE: &str = "brickstack_slack_message";

/// The cluster tag that names its person (an e-mail), for alarms and audits.
pub const PERSON_TAG: &str = "brickstack:person";

/// Every person's resources. Nobody gets any when the spec has no `[access.single_user_clusters]`
/// (removing the section retires every cluster, after the grace period recorded with each).
pub fn emit(spec: &Spec, inputs: &RunInputs, out: &mut Resources) -> Result<(), GraphError> {
    let Some(section) = &spec.access.single_user_clusters else {
        return Ok(());
    };
    let people = people(section, inputs)?;
    let names = Names::of(&people);
    let template = Template::new(spec, section);
    for person in &people {
        template.emit(person, &names, out);
    }
    Ok(())
}

/// The spec's users then `inputs.people`, lower-cased, each once (the first source kept).
fn people(section: &SingleUserClusters, inputs: &RunInputs) -> Result<Vec<Person>, GraphError> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let given = section
        .users
        .iter()
        .map(|u| Person::new(&u.email, PersonSource::Spec))
        .chain(inputs.people.iter().cloned());
    for person in given {
        if !is_user_name(&person.email) {
            return Err(GraphError::InvalidPerson {
                email: person.email,
                from: person.source,
            });
        }
        let email = person.email.to_lowercase();
        if seen.insert(email.clone()) {
            out.push(Person::new(email, person.source));
        }
    }
    Ok(out)
}

/// One `@` between a non-empty local part and domain, nothing blank or invisible.
fn is_user_name(email: &str) -> bool {
    email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && !domain.is_empty() && !domain.contains('@')
    }) && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The key of an e-mail: lower-cased, each run of characters other than `a-z0-9` one `_`.
pub fn key(email: &str) -> String {
    let mut out = String::with_capacity(email.len());
    let mut in_run = false;
    for c in email.to_lowercase().chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
            in_run = false;
        } else if !in_run {
            out.push('_');
            in_run = true;
        }
    }
    out
}

/// The first 8 hex digits of the e-mail's SHA-256: the stable suffix that tells collisions apart.
fn short_hash(email: &str) -> String {
    hex::encode(Sha256::digest(email.to_lowercase().as_bytes()))[..8].to_string()
}

/// `firstname_lastname_su_cluster`: the words of the e-mail's local part, in ASCII.
pub fn cluster_base_name(email: &str) -> String {
    let local = email.split('@').next().unwrap_or_default().to_lowercase();
    let ascii: String = local.chars().map(transliterate).collect();
    let words: Vec<&str> = ascii
        .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        // Nothing readable in the local part: the hash names the cluster.
        return format!("{}_su_cluster", short_hash(email));
    }
    format!("{}_su_cluster", words.join("_"))
}

/// The common Latin letters with marks, as their base letters; anything else unchanged (and
/// then dropped as a separator if it is not ASCII).
fn transliterate(c: char) -> String {
    let base = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'č' => "c",
        'ď' | 'đ' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
        'ğ' => "g",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => "i",
        'ł' | 'ľ' => "l",
        'ñ' | 'ń' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
        'œ' => "oe",
        'ř' => "r",
        'ś' | 'š' | 'ş' => "s",
        'ß' => "ss",
        'ť' | 'ţ' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' => "u",
        'ý' | 'ÿ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        other => return other.to_string(),
    };
    base.to_string()
}

/// `Ana Silva` for `ana.silva@…`: the local part's words, capitalised.
pub fn display_name(email: &str) -> String {
    let local = email.split('@').next().unwrap_or_default();
    local
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            let first = chars.next().map(|c| c.to_uppercase().collect::<String>());
            first.unwrap_or_default() + &chars.as_str().to_lowercase()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Each person's resource name and cluster name, collisions resolved with the e-mail's hash.
struct Names {
    resource: HashMap<String, String>,
    cluster: HashMap<String, String>,
}

impl Names {
    fn of(people: &[Person]) -> Names {
        let mut keys: HashMap<String, usize> = HashMap::new();
        let mut clusters: HashMap<String, usize> = HashMap::new();
        for p in people {
            *keys.entry(key(&p.email)).or_default() += 1;
            *clusters.entry(cluster_base_name(&p.email)).or_default() += 1;
        }
        let mut resource = HashMap::with_capacity(people.len());
        let mut cluster = HashMap::with_capacity(people.len());
        for p in people {
            let k = key(&p.email);
            let name = if keys[&k] > 1 {
                format!("su_{k}_{}", short_hash(&p.email))
            } else {
                format!("su_{k}")
            };
            resource.insert(p.email.clone(), name);
            let base = cluster_base_name(&p.email);
            let name = if clusters[&base] > 1 {
                format!("{base}_{}", short_hash(&p.email))
            } else {
                base
            };
            cluster.insert(p.email.clone(), name);
        }
        Names { resource, cluster }
    }
}

/// What every person's resources share, computed once.
struct Template<'s> {
    section: &'s SingleUserClusters,
    url: Value,
    spark_conf: BTreeMap<String, Value>,
    libraries: Value,
    policy: Option<Value>,
    instance_profile: Option<Value>,
}

impl<'s> Template<'s> {
    fn new(spec: &Spec, section: &'s SingleUserClusters) -> Self {
        let cluster = &section.cluster;
        let mut spark_conf = BTreeMap::new();
        if cluster.num_workers == 0 {
            // What Databricks asks of a cluster without workers (its single-node mode).
            spark_conf.insert(
                "spark.databricks.cluster.profile".into(),
                "singleNode".into(),
            );
            spark_conf.insert("spark.master".into(), "local[*, 4]".into());
        }
        // Writes to a datalake bucket that requires SSE-KMS, as the shared clusters do.
        if spec
            .buckets
            .by_role(BucketRole::Datalake)
            .any(|b| b.enforce_sse_kms)
        {
            spark_conf.insert(
                "spark.hadoop.fs.s3a.server-side-encryption-algorithm".into(),
                "SSE-KMS".into(),
            );
            spark_conf.insert(
                "spark.hadoop.fs.s3a.server-side-encryption.key".into(),
                reference(&addresses::kms_key(&spec.databricks.storage_cmk), "arn"),
            );
        }
        let libraries = Value::List(
            section
                .libraries
                .iter()
                .map(|l| match l {
                    Library::Pypi(package) => map! { "pypi" => map! { "package" => package } },
                    Library::Maven(coordinates) => {
                        map! { "maven" => map! { "coordinates" => coordinates } }
                    }
                    Library::Jar(path) => map! { "jar" => path },
                    Library::Whl(path) => map! { "whl" => path },
                })
                .collect(),
        );
        Template {
            section,
            url: reference(&addresses::workspace(), "workspace_url"),
            spark_conf,
            libraries,
            policy: cluster
                .policy
                .as_ref()
                .map(|p| reference(&addresses::cluster_policy(p), "id")),
            instance_profile: cluster.instance_profile.then(|| {
                map! {
                    "instance_profile_arn" => reference(&addresses::meta_instance_profile(), "instance_profile_arn"),
                }
            }),
        }
    }

    fn emit(&self, person: &Person, names: &Names, out: &mut Resources) {
        let email = person.email.as_str();
        let name = &names.resource[email];
        let cluster_name = &names.cluster[email];
        let display = display_name(email);
        let grace = self.section.removal_grace_seconds;
        let cluster = &self.section.cluster;
        let url = || self.url.clone();

        let user = out
            .add(
                USER,
                name,
                map! {
                    "workspace_url" => url(),
                    "user_name" => email,
                },
            )
            .removal_grace(grace)
            .address();

        let mut tags = map! { PERSON_TAG => email };
        if cluster.num_workers == 0
            && let Value::Map(m) = &mut tags
        {
            m.insert("ResourceClass".into(), "SingleNode".into());
        }
        let mut attributes = map! {
            "workspace_url" => url(),
            "cluster_name" => cluster_name.as_str(),
            "spark_version" => &cluster.spark_version,
            "node_type_id" => &cluster.node_type_id,
            "num_workers" => cluster.num_workers,
            "autotermination_minutes" => cluster.autotermination_minutes,
            "data_security_mode" => cluster.data_security_mode.as_str(),
            // A reference, so the user exists before the cluster names them.
            "single_user_name" => reference(&user, "user_name"),
            "spark_conf" => Value::Map(self.spark_conf.clone()),
            "custom_tags" => tags,
        };
        if let Value::Map(m) = &mut attributes {
            if let Some(policy) = &self.policy {
                m.insert("policy_id".into(), policy.clone());
            }
            if let Some(profile) = &self.instance_profile {
                m.insert("aws_attributes".into(), profile.clone());
            }
        }
        let cluster_address = out
            .add(CLUSTER, name, attributes)
            .removal_grace(grace)
            .address();
        let cluster_id = reference(&cluster_address, "cluster_id");

        let libraries = out
            .add(
                LIBRARIES,
                name,
                map! {
                    "workspace_url" => url(),
                    "cluster_id" => cluster_id.clone(),
                    "libraries" => self.libraries.clone(),
                },
            )
            .removal_grace(grace)
            .address();
        let permissions = out
            .add(
                PERMISSIONS,
                name,
                map! {
                    "workspace_url" => url(),
                    "cluster_id" => cluster_id.clone(),
                    "access_control" => list![map! {
                        "user_name" => email,
                        "permission_level" => self.section.permission_level.as_str(),
                    }],
                },
            )
            .removal_grace(grace)
            .address();
        let shutdown = out
            .add(
                SHUTDOWN,
                name,
                map! {
                    "workspace_url" => url(),
                    "cluster_id" => cluster_id.clone(),
                    "libraries_id" => reference(&libraries, "id"),
                    "permissions_id" => reference(&permissions, "id"),
                },
            )
            .removal_grace(grace)
            .address();
        out.add(
            MESSAGE,
            name,
            map! {
                "webhook_parameter" => &self.section.notifications.user_webhook_parameter,
                "text" => Value::Concat(vec![
                    format!(
                        "Hi {display} ({email}), your single-user cluster `{cluster_name}` is ready: only you can run code on it, and the team's libraries are installed. It is stopped until you need it: start it from Compute in Databricks, at "
                    )
                    .into(),
                    url(),
                    "/#setting/clusters/".into(),
                    cluster_id.clone(),
                    "/configuration (Start), or attach a notebook to it and start it there.".into(),
                ]),
                "cluster_id" => cluster_id,
            },
        )
        .removal_grace(grace)
        // Only once the cluster is booted, set up and stopped is the person told it is ready.
        .depends_on(&shutdown);
    }
}

/// The resource name (`su_<key>`, or with the hash when keys collide) of a person in `graph`.
fn resource_name<'g>(graph: &'g ResourceGraph, email: &str) -> Option<&'g str> {
    let email = email.to_lowercase();
    let k = key(&email);
    [format!("su_{k}"), format!("su_{k}_{}", short_hash(&email))]
        .into_iter()
        .find_map(|name| {
            let user = graph.get(&Address::new(USER, name))?;
            (user.attributes.get("user_name")?.as_str()? == email)
                .then_some(user.address.name.as_str())
        })
}

/// A person's resources in `graph` (their six addresses), or none if they have no cluster there.
pub fn addresses_of(graph: &ResourceGraph, email: &str) -> BTreeSet<Address> {
    let Some(name) = resource_name(graph, email) else {
        return BTreeSet::new();
    };
    KINDS
        .iter()
        .map(|kind| Address::new(*kind, name))
        .filter(|a| graph.get(a).is_some())
        .collect()
}

/// The person (e-mail) a resource of `graph` is one of the steps for, if it is; for alarms.
pub fn person_of<'g>(graph: &'g ResourceGraph, address: &Address) -> Option<&'g str> {
    if !KINDS.contains(&address.kind.as_str()) || !address.name.starts_with("su_") {
        return None;
    }
    graph
        .get(&Address::new(USER, &address.name))?
        .attributes
        .get("user_name")?
        .as_str()
}

/// The name of a person's cluster in `graph`, for messages and alarms.
pub fn cluster_name_of<'g>(graph: &'g ResourceGraph, email: &str) -> Option<&'g str> {
    let name = resource_name(graph, email)?;
    graph
        .get(&Address::new(CLUSTER, name))?
        .attributes
        .get("cluster_name")?
        .as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_replace_each_run_of_other_characters_with_one_underscore() {
        assert_eq!(key("Ana.Silva@Example.com"), "ana_silva_example_com");
        assert_eq!(key("a..b+c@x.io"), "a_b_c_x_io");
        assert_eq!(key("josé@x.io"), "jos_x_io");
    }

    #[test]
    fn cluster_names_come_from_the_local_part() {
        assert_eq!(cluster_base_name("ana.silva@x.com"), "ana_silva_su_cluster");
        assert_eq!(cluster_base_name("ana@x.com"), "ana_su_cluster");
        assert_eq!(
            cluster_base_name("Bo-Lee+test@x.com"),
            "bo_lee_test_su_cluster"
        );
        assert_eq!(
            cluster_base_name("joão.ñúñez@x.com"),
            "joao_nunez_su_cluster"
        );
        assert_eq!(cluster_base_name("李.wei@x.com"), "wei_su_cluster");
        let unreadable = cluster_base_name("李@x.com");
        assert_eq!(unreadable, format!("{}_su_cluster", short_hash("李@x.com")));
    }

    #[test]
    fn display_names_capitalise_each_word() {
        assert_eq!(display_name("ana.silva@x.com"), "Ana Silva");
        assert_eq!(display_name("JOÃO_nuñez@x.com"), "João Nuñez");
        assert_eq!(display_name("bo@x.com"), "Bo");
    }
}
