//! The IAM kinds against moto: per kind, create → read returns exactly the desired attributes
//! (plus the computed ones) → update → read → delete → read is none; a role deleted while it
//! still has an inline policy, an attached policy and an instance profile; a managed policy
//! updated past IAM's five versions; batched reads that are one GetAccountAuthorizationDetails
//! whatever the number of objects; `find` by name, refused for another environment's tags.
//!
//! Policy documents carry a space, a `+` and a `*` in a resource, so that their URL encoding
//! (RFC 3986, which is not a form's) is really decoded.

use std::collections::BTreeMap;

use brickstack_aws::AwsProvider;
use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, Observed, Provider, ProviderError,
};
use brickstack_state::ObjectLookup;
use brickstack_testkit::unique_name;
use serde_json::{Value, json};

use crate::support::{MotoAccount, moto_account, ok};

const ROLE: &str = "aws_iam_role";
const ROLE_POLICY: &str = "aws_iam_role_policy";
const POLICY: &str = "aws_iam_policy";
const ATTACHMENT: &str = "aws_iam_role_policy_attachment";
const PROFILE: &str = "aws_iam_instance_profile";
const GAAD: &str = "iam:GetAccountAuthorizationDetails";

struct Iam {
    moto: MotoAccount,
    provider: AwsProvider,
    environment: String,
}

impl Iam {
    async fn new(test_name: &str) -> Option<Iam> {
        let moto = moto_account(test_name).await?;
        let provider = AwsProvider::new(&moto.clients);
        Some(Iam {
            moto,
            provider,
            environment: unique_name("iam"),
        })
    }

    fn brickstack_tags(&self, address: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("brickstack:address".to_string(), address.to_string()),
            (
                "brickstack:environment".to_string(),
                self.environment.clone(),
            ),
        ])
    }

    fn tags(&self, address: &str) -> Value {
        json!(self.brickstack_tags(address))
    }

    fn lookup(&self, address: &str, name: Option<&str>) -> ObjectLookup {
        ObjectLookup {
            name: name.map(str::to_string),
            tags: self.brickstack_tags(address),
            scope: None,
        }
    }

    async fn create(&self, kind: &str, address: &str, desired: &Value) -> Observed {
        let request = CreateRequest {
            address: address.to_string(),
            kind: kind.to_string(),
            attributes: attributes(desired.clone()),
            lookup: self.lookup(address, desired.get("name").and_then(Value::as_str)),
        };
        must(
            &format!("create {address}"),
            self.provider.create(&request).await,
        )
    }

    async fn read(&self, kind: &str, object_id: &str) -> Option<Observed> {
        must(
            &format!("read {kind} `{object_id}`"),
            self.provider.read(kind, object_id).await,
        )
    }

    async fn update(&self, kind: &str, object_id: &str, desired: &Value) -> Observed {
        must(
            &format!("update {kind} `{object_id}`"),
            self.provider
                .update(kind, object_id, &attributes(desired.clone()))
                .await,
        )
    }

    async fn delete(&self, kind: &str, object_id: &str) {
        must(
            &format!("delete {kind} `{object_id}`"),
            self.provider.delete(kind, object_id).await,
        );
    }

    /// Reads `object_id`, asserting it equals what create or update `returned` and, computed
    /// attributes aside, exactly `desired`.
    async fn assert_reads(&self, kind: &str, returned: &Observed, desired: &Value) {
        let id = &returned.object_id;
        let observed = self
            .read(kind, id)
            .await
            .unwrap_or_else(|| panic!("{kind} `{id}` reads as missing"));
        assert_eq!(
            &observed, returned,
            "{kind}: read differs from create/update"
        );
        assert_eq!(
            without_computed(&self.provider, kind, &observed),
            attributes(desired.clone()),
            "{kind}: read is not exactly the desired attributes"
        );
    }

    /// Create → read → update (if given) → read → delete → read is none → delete again.
    async fn lifecycle(&self, kind: &str, desired: &Value, updated: Option<&Value>) -> Observed {
        let address = format!("{kind}.test");
        let created = self.create(kind, &address, desired).await;
        self.assert_reads(kind, &created, desired).await;
        let mut last = created;
        if let Some(updated) = updated {
            last = self.update(kind, &last.object_id, updated).await;
            self.assert_reads(kind, &last, updated).await;
        }
        self.delete(kind, &last.object_id).await;
        assert_eq!(
            self.read(kind, &last.object_id).await,
            None,
            "{kind} reads after delete"
        );
        self.delete(kind, &last.object_id).await;
        last
    }

    /// `find` by `name` returns `observed` for this environment's tags, nothing for another
    /// environment's, nothing without a name.
    async fn assert_found_by_name(
        &self,
        kind: &str,
        address: &str,
        name: &str,
        observed: &Observed,
    ) {
        let found = must(
            &format!("find {address}"),
            self.provider
                .find(kind, &self.lookup(address, Some(name)))
                .await,
        );
        assert_eq!(found.as_ref(), Some(observed), "{address}: find by name");
        let mut elsewhere = self.lookup(address, Some(name));
        elsewhere.tags.insert(
            "brickstack:environment".to_string(),
            "another-environment".to_string(),
        );
        let found = must(
            &format!("find {address} in another environment"),
            self.provider.find(kind, &elsewhere).await,
        );
        assert_eq!(found, None, "{address}: adopted from another environment");
        let found = must(
            &format!("find {address} without a name"),
            self.provider.find(kind, &self.lookup(address, None)).await,
        );
        assert_eq!(found, None, "{address}: found without a name");
    }

    fn role(&self, name: &str, service: &str) -> Value {
        json!({
            "name": name,
            "assume_role_policy": trust_policy(service),
            "tags": self.tags(&format!("{ROLE}.{name}")),
        })
    }

    async fn create_role(&self, name: &str) -> Observed {
        let desired = self.role(name, "ec2.amazonaws.com");
        self.create(ROLE, &format!("{ROLE}.{name}"), &desired).await
    }

    fn policy(&self, name: &str, action: &str) -> Value {
        json!({
            "name": name,
            "path": "/",
            "policy": permissions(action),
            "tags": self.tags(&format!("{POLICY}.{name}")),
        })
    }

    async fn create_policy(&self, name: &str) -> Observed {
        let desired = self.policy(name, "s3:GetObject");
        self.create(POLICY, &format!("{POLICY}.{name}"), &desired)
            .await
    }

    /// The API calls `run` makes, by operation.
    async fn calls_of<T>(&self, run: impl Future<Output = T>) -> (T, BTreeMap<String, u64>) {
        let before = self.provider.calls().snapshot();
        let result = run.await;
        let after = self.provider.calls().snapshot();
        let delta = after
            .into_iter()
            .map(|(op, n)| {
                let n = n - before.get(&op).copied().unwrap_or(0);
                (op, n)
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        (result, delta)
    }
}

fn trust_policy(service: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
        }],
    })
}

/// A permissions policy whose resource needs percent-encoding (a space, a `+`, a `*`).
fn permissions(action: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "Datalake",
            "Effect": "Allow",
            "Action": [action, "s3:ListBucket"],
            "Resource": ["arn:aws:s3:::bucket/a b+c/*", "arn:aws:s3:::bucket"],
        }],
    })
}

fn attributes(value: Value) -> Attributes {
    match value {
        Value::Object(map) => map,
        other => panic!("attributes must be an object, not {other}"),
    }
}

/// `observed`'s attributes less those `kind`'s schema marks computed.
fn without_computed(provider: &AwsProvider, kind: &str, observed: &Observed) -> Attributes {
    let schema = provider.schema(kind).expect("a supported kind");
    let mut attributes = observed.attributes.clone();
    attributes.retain(|name, _| schema.behaviour(name) != AttributeBehaviour::Computed);
    attributes
}

fn must<T>(what: &str, result: Result<T, ProviderError>) -> T {
    result.unwrap_or_else(|e| panic!("{what}: {e}"))
}

// --- aws_iam_role --------------------------------------------------------------------------

#[tokio::test]
async fn role_lifecycle_updates_trust_policy_description_and_tags_in_place() {
    let Some(iam) = Iam::new("iam_role_lifecycle").await else {
        return;
    };
    let name = unique_name("role");
    let address = format!("{ROLE}.main");
    let mut desired = iam.role(&name, "ec2.amazonaws.com");
    desired["description"] = json!("(test) delivery role");
    desired["tags"]["Team"] = json!("data");
    desired["tags"]["Old"] = json!("gone soon");

    let created = iam.create(ROLE, &address, &desired).await;
    assert_eq!(created.object_id, name, "a role's id is its name");
    assert_eq!(created.attributes["id"], json!(name));
    assert_eq!(
        created.attributes["arn"],
        json!(format!("arn:aws:iam::{}:role/{name}", iam.moto.account_id))
    );
    iam.assert_reads(ROLE, &created, &desired).await;

    let mut updated = iam.role(&name, "lambda.amazonaws.com");
    updated["description"] = json!("(test) renamed delivery role");
    updated["tags"]["Team"] = json!("platform");
    updated["tags"]["New"] = json!("here");
    let returned = iam.update(ROLE, &name, &updated).await;
    iam.assert_reads(ROLE, &returned, &updated).await;

    // The description cleared, by leaving it out.
    let cleared = iam.role(&name, "lambda.amazonaws.com");
    let returned = iam.update(ROLE, &name, &cleared).await;
    iam.assert_reads(ROLE, &returned, &cleared).await;

    iam.delete(ROLE, &name).await;
    assert_eq!(
        iam.read(ROLE, &name).await,
        None,
        "the role reads after delete"
    );
    iam.delete(ROLE, &name).await;
}

#[tokio::test]
async fn role_is_found_by_name_only_with_this_environments_tags() {
    let Some(iam) = Iam::new("iam_role_find").await else {
        return;
    };
    let name = unique_name("role");
    let created = iam.create_role(&name).await;
    iam.assert_found_by_name(ROLE, &format!("{ROLE}.{name}"), &name, &created)
        .await;
    let missing = must(
        "find a missing role",
        iam.provider
            .find(
                ROLE,
                &iam.lookup("aws_iam_role.missing", Some("bs-missing")),
            )
            .await,
    );
    assert_eq!(missing, None);
}

#[tokio::test]
async fn iam_creates_sent_again_return_the_object_the_first_send_made() {
    // The second send of a create whose first answer was lost is refused `EntityAlreadyExists`;
    // the object of that name with this environment's tags is the first send's.
    let Some(iam) = Iam::new("iam_create_sent_again").await else {
        return;
    };
    let name = unique_name("role");
    let first = iam.create_role(&name).await;
    let again = iam.create_role(&name).await;
    assert_eq!(again, first, "the role that is there");
    let name = unique_name("policy");
    let first = iam.create_policy(&name).await;
    assert_eq!(
        iam.create_policy(&name).await,
        first,
        "the policy that is there"
    );
}

#[tokio::test]
async fn an_iam_create_refused_for_another_environments_name_is_a_conflict_not_an_adoption() {
    let Some(iam) = Iam::new("iam_create_other_environment").await else {
        return;
    };
    let name = unique_name("role");
    iam.create_role(&name).await;
    let mut desired = iam.role(&name, "ec2.amazonaws.com");
    desired["tags"]["brickstack:environment"] = json!("another-environment");
    let request = CreateRequest {
        address: format!("{ROLE}.{name}"),
        kind: ROLE.to_string(),
        attributes: attributes(desired),
        lookup: iam.lookup(&format!("{ROLE}.{name}"), Some(&name)),
    };
    let error = iam
        .provider
        .create(&request)
        .await
        .expect_err("the name is another environment's");
    assert_eq!(error.code, "EntityAlreadyExists", "{error:?}");
}

#[tokio::test]
async fn role_delete_frees_it_of_inline_policies_attachments_and_instance_profiles() {
    let Some(iam) = Iam::new("iam_role_delete").await else {
        return;
    };
    let name = unique_name("role");
    iam.create_role(&name).await;
    let policy = iam.create_policy(&unique_name("policy")).await;
    let inline = json!({"role": name, "name": "inline", "policy": permissions("s3:GetObject")});
    iam.create(ROLE_POLICY, "aws_iam_role_policy.inline", &inline)
        .await;
    let attachment = json!({"role": name, "policy_arn": policy.object_id});
    iam.create(ATTACHMENT, "aws_iam_role_policy_attachment.a", &attachment)
        .await;
    let profile_name = unique_name("profile");
    let profile = json!({"name": profile_name, "role": name, "path": "/"});
    iam.create(PROFILE, "aws_iam_instance_profile.p", &profile)
        .await;

    iam.delete(ROLE, &name).await;
    assert_eq!(
        iam.read(ROLE, &name).await,
        None,
        "the role reads after delete"
    );
    assert_eq!(iam.read(ROLE_POLICY, &format!("{name}:inline")).await, None);
    assert_eq!(
        iam.read(ATTACHMENT, &format!("{name}/{}", policy.object_id))
            .await,
        None
    );
    // The profile and the policy stay, free of the role.
    let profile = iam
        .read(PROFILE, &profile_name)
        .await
        .expect("the profile outlives its role");
    assert_eq!(profile.attributes.get("role"), None);
    assert!(iam.read(POLICY, &policy.object_id).await.is_some());
    iam.delete(PROFILE, &profile_name).await;
    iam.delete(POLICY, &policy.object_id).await;
}

// --- aws_iam_role_policy -------------------------------------------------------------------

#[tokio::test]
async fn role_policy_lifecycle_puts_the_new_document_in_place() {
    let Some(iam) = Iam::new("iam_role_policy_lifecycle").await else {
        return;
    };
    let role = unique_name("role");
    iam.create_role(&role).await;
    let desired = json!({"role": role, "name": "datalake", "policy": permissions("s3:GetObject")});
    let updated = json!({"role": role, "name": "datalake", "policy": permissions("s3:PutObject")});
    let last = iam.lifecycle(ROLE_POLICY, &desired, Some(&updated)).await;
    assert_eq!(last.object_id, format!("{role}:datalake"));
    assert_eq!(last.attributes["id"], json!(last.object_id));
    // Inline policies are never adopted: putting one again is harmless.
    let found = must(
        "find an inline policy",
        iam.provider
            .find(
                ROLE_POLICY,
                &iam.lookup("aws_iam_role_policy.x", Some("datalake")),
            )
            .await,
    );
    assert_eq!(found, None);
    iam.delete(ROLE, &role).await;
}

// --- aws_iam_policy ------------------------------------------------------------------------

#[tokio::test]
async fn policy_lifecycle_adds_a_version_and_retags_in_place() {
    let Some(iam) = Iam::new("iam_policy_lifecycle").await else {
        return;
    };
    let name = unique_name("policy");
    let mut desired = iam.policy(&name, "s3:GetObject");
    desired["description"] = json!("reads the datalake");
    let mut updated = iam.policy(&name, "s3:PutObject");
    updated["description"] = json!("reads the datalake");
    updated["tags"]["Team"] = json!("platform");
    let last = iam.lifecycle(POLICY, &desired, Some(&updated)).await;
    let arn = format!("arn:aws:iam::{}:policy/{name}", iam.moto.account_id);
    assert_eq!(last.object_id, arn);
    assert_eq!(last.attributes["arn"], json!(arn));
    assert_eq!(last.attributes["id"], json!(arn));
}

#[tokio::test]
async fn policy_under_a_path_is_found_by_name_only_with_this_environments_tags() {
    let Some(iam) = Iam::new("iam_policy_find").await else {
        return;
    };
    let name = unique_name("policy");
    let address = format!("{POLICY}.{name}");
    let mut desired = iam.policy(&name, "s3:GetObject");
    desired["path"] = json!("/brickstack/");
    let created = iam.create(POLICY, &address, &desired).await;
    assert_eq!(
        created.object_id,
        format!(
            "arn:aws:iam::{}:policy/brickstack/{name}",
            iam.moto.account_id
        )
    );
    iam.assert_reads(POLICY, &created, &desired).await;
    iam.assert_found_by_name(POLICY, &address, &name, &created)
        .await;
    iam.delete(POLICY, &created.object_id).await;
}

#[tokio::test]
async fn policy_updated_six_times_stays_within_five_versions() {
    let Some(iam) = Iam::new("iam_policy_versions").await else {
        return;
    };
    let name = unique_name("policy");
    let created = iam.create_policy(&name).await;
    let arn = created.object_id.clone();
    for i in 1..=6 {
        let desired = iam.policy(&name, &format!("s3:Action{i}"));
        let returned = iam.update(POLICY, &arn, &desired).await;
        iam.assert_reads(POLICY, &returned, &desired).await;
    }
    let versions = ok(
        "ListPolicyVersions",
        iam.moto
            .clients
            .iam
            .list_policy_versions()
            .policy_arn(&arn)
            .send()
            .await,
    );
    assert_eq!(versions.versions().len(), 5, "IAM keeps five versions");
    // Delete removes the non-default versions first.
    iam.delete(POLICY, &arn).await;
    assert_eq!(iam.read(POLICY, &arn).await, None);
}

// --- aws_iam_role_policy_attachment --------------------------------------------------------

#[tokio::test]
async fn attachment_lifecycle_is_role_slash_policy_arn() {
    let Some(iam) = Iam::new("iam_attachment_lifecycle").await else {
        return;
    };
    let role = unique_name("role");
    iam.create_role(&role).await;
    let policy = iam.create_policy(&unique_name("policy")).await;
    let desired = json!({"role": role, "policy_arn": policy.object_id});
    let last = iam.lifecycle(ATTACHMENT, &desired, None).await;
    assert_eq!(last.object_id, format!("{role}/{}", policy.object_id));
    assert_eq!(last.attributes["id"], json!(last.object_id));
    iam.delete(ROLE, &role).await;
    // The attachment of a deleted role reads as missing, and deletes as done.
    assert_eq!(iam.read(ATTACHMENT, &last.object_id).await, None);
    iam.delete(ATTACHMENT, &last.object_id).await;
    iam.delete(POLICY, &policy.object_id).await;
}

// --- aws_iam_instance_profile --------------------------------------------------------------

#[tokio::test]
async fn instance_profile_lifecycle_swaps_its_role_and_retags_in_place() {
    let Some(iam) = Iam::new("iam_profile_lifecycle").await else {
        return;
    };
    let first = unique_name("role");
    let second = unique_name("role");
    iam.create_role(&first).await;
    iam.create_role(&second).await;
    let name = unique_name("profile");
    let address = format!("{PROFILE}.{name}");
    let desired = json!({"name": name, "role": first, "path": "/", "tags": iam.tags(&address)});
    let mut updated = desired.clone();
    updated["role"] = json!(second);
    updated["tags"]["Team"] = json!("platform");

    let created = iam.create(PROFILE, &address, &desired).await;
    assert_eq!(created.object_id, name);
    assert_eq!(
        created.attributes["arn"],
        json!(format!(
            "arn:aws:iam::{}:instance-profile/{name}",
            iam.moto.account_id
        ))
    );
    iam.assert_reads(PROFILE, &created, &desired).await;
    iam.assert_found_by_name(PROFILE, &address, &name, &created)
        .await;
    let returned = iam.update(PROFILE, &name, &updated).await;
    iam.assert_reads(PROFILE, &returned, &updated).await;
    iam.delete(PROFILE, &name).await;
    assert_eq!(iam.read(PROFILE, &name).await, None);
    iam.delete(PROFILE, &name).await;
    iam.delete(ROLE, &first).await;
    iam.delete(ROLE, &second).await;
}

#[tokio::test]
async fn instance_profile_as_the_generator_emits_it_reads_back_without_changes() {
    let Some(iam) = Iam::new("iam_profile_generated").await else {
        return;
    };
    let role = unique_name("role");
    iam.create_role(&role).await;
    let name = unique_name("profile");
    let address = format!("{PROFILE}.{name}");
    // No `path`: IAM's default, read back as "/".
    let desired = json!({"name": name, "role": role, "tags": iam.tags(&address)});
    let created = iam.create(PROFILE, &address, &desired).await;
    let observed = iam.read(PROFILE, &name).await.expect("the profile reads");
    assert_eq!(observed, created);
    for (attribute, value) in attributes(desired) {
        assert_eq!(
            observed.attributes.get(&attribute),
            Some(&value),
            "{attribute}"
        );
    }
    assert_eq!(observed.attributes["path"], json!("/"));
    iam.delete(PROFILE, &name).await;
    iam.delete(ROLE, &role).await;
}

// --- batched reads -------------------------------------------------------------------------

#[tokio::test]
async fn read_many_is_one_authorization_details_call_for_every_iam_kind() {
    let Some(iam) = Iam::new("iam_read_many").await else {
        return;
    };
    let mut roles = BTreeMap::new();
    let mut inline = BTreeMap::new();
    let mut policies = BTreeMap::new();
    let mut attachments = BTreeMap::new();
    let mut profiles = BTreeMap::new();
    for i in 0..3 {
        let role_name = unique_name(&format!("role{i}"));
        let mut desired = iam.role(&role_name, "ec2.amazonaws.com");
        if i == 0 {
            desired["description"] = json!("the first role");
        }
        let role = iam.create(ROLE, &format!("{ROLE}.r{i}"), &desired).await;
        roles.insert(role.object_id.clone(), role);

        let desired = json!({"role": role_name, "name": format!("inline{i}"), "policy": permissions("s3:GetObject")});
        let policy = iam
            .create(ROLE_POLICY, &format!("{ROLE_POLICY}.p{i}"), &desired)
            .await;
        inline.insert(policy.object_id.clone(), policy);

        let mut desired = iam.policy(&unique_name(&format!("policy{i}")), "s3:GetObject");
        if i == 0 {
            desired["description"] = json!("the first policy");
        }
        let policy = iam
            .create(POLICY, &format!("{POLICY}.p{i}"), &desired)
            .await;

        let desired = json!({"role": role_name, "policy_arn": policy.object_id});
        let attachment = iam
            .create(ATTACHMENT, &format!("{ATTACHMENT}.a{i}"), &desired)
            .await;
        attachments.insert(attachment.object_id.clone(), attachment);
        policies.insert(policy.object_id.clone(), policy);

        let profile_name = unique_name(&format!("profile{i}"));
        let address = format!("{PROFILE}.p{i}");
        let desired = json!({"name": profile_name, "role": role_name, "path": "/", "tags": iam.tags(&address)});
        let profile = iam.create(PROFILE, &address, &desired).await;
        profiles.insert(profile.object_id.clone(), profile);
    }
    let a_role = roles.keys().next().cloned().expect("three roles");
    let missing_policy = format!("arn:aws:iam::{}:policy/bs-missing", iam.moto.account_id);

    // Per kind: the objects, a missing id, and the calls one batched read makes.
    let cases = [
        (
            ROLE,
            &roles,
            "bs-missing-role".to_string(),
            // GAAD's role details carry no description: one ListRoles brings them all.
            BTreeMap::from([(GAAD, 1), ("iam:ListRoles", 1)]),
        ),
        (
            ROLE_POLICY,
            &inline,
            format!("{a_role}:missing"),
            BTreeMap::from([(GAAD, 1)]),
        ),
        (
            POLICY,
            &policies,
            missing_policy.clone(),
            // GAAD reports no managed policy's tags: one ListPolicyTags per policy found.
            BTreeMap::from([(GAAD, 1), ("iam:ListPolicyTags", 3)]),
        ),
        (
            ATTACHMENT,
            &attachments,
            format!("{a_role}/{missing_policy}"),
            BTreeMap::from([(GAAD, 1)]),
        ),
        (
            PROFILE,
            &profiles,
            "bs-missing-profile".to_string(),
            // A profile in no role's list is read alone: here only the missing one.
            BTreeMap::from([(GAAD, 1), ("iam:GetInstanceProfile", 1)]),
        ),
    ];
    for (kind, expected, missing, calls) in cases {
        let mut ids: Vec<String> = expected.keys().cloned().collect();
        ids.push(missing);
        let (found, made) = iam.calls_of(iam.provider.read_many(kind, &ids)).await;
        let found = must(&format!("read_many {kind}"), found);
        assert_eq!(&found, expected, "{kind}: read_many");
        let calls: BTreeMap<String, u64> = calls
            .into_iter()
            .map(|(op, n): (&str, u64)| (op.to_string(), n))
            .collect();
        assert_eq!(made, calls, "{kind}: the calls of read_many");
    }
}

#[tokio::test]
async fn read_many_reads_a_profile_without_a_role_alone() {
    let Some(iam) = Iam::new("iam_read_many_roleless").await else {
        return;
    };
    let name = unique_name("profile");
    let address = format!("{PROFILE}.{name}");
    let desired = json!({"name": name, "path": "/", "tags": iam.tags(&address)});
    let created = iam.create(PROFILE, &address, &desired).await;
    iam.assert_reads(PROFILE, &created, &desired).await;
    let (found, made) = iam
        .calls_of(iam.provider.read_many(PROFILE, std::slice::from_ref(&name)))
        .await;
    let found = must("read_many a roleless profile", found);
    assert_eq!(found, BTreeMap::from([(name.clone(), created)]));
    assert_eq!(
        made,
        BTreeMap::from([
            (GAAD.to_string(), 1),
            ("iam:GetInstanceProfile".to_string(), 1)
        ])
    );
    iam.delete(PROFILE, &name).await;
}
