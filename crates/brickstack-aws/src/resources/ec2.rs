//! What the EC2 kinds share: tags as a map (EC2 reports them as a list), tagging at create,
//! retagging on update, filters by object id and by brickstack's tags.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use brickstack_provider::{Observed, ProviderError};
use brickstack_state::ObjectLookup;

use super::Tags;
use crate::classify::classify;
use crate::provider::AwsProvider;

/// An idempotency token (`ClientToken`) for the create of the object tagged `tags`: the same for
/// every send of this run's create of its address (the SDK's own attempts and the engine's resend
/// after a lookup found nothing), another in another run (a replacement), because EC2 answers a
/// reused token with the first object it made, even one deleted since. The provider does not see
/// the intent's journal time, so its own start time stands in for it: one run creates an address
/// at most once. `None` (the SDK makes one) for an object without brickstack's address tag.
pub(crate) fn client_token(aws: &AwsProvider, tags: &Tags) -> Option<String> {
    use std::hash::{Hash, Hasher};
    let address = tags.get("brickstack:address")?;
    let environment = tags
        .get("brickstack:environment")
        .map_or("", String::as_str);
    let mut hasher = std::hash::DefaultHasher::new();
    (environment, address, aws.started()).hash(&mut hasher);
    Some(format!("brickstack-{:016x}", hasher.finish()))
}

/// The most values one EC2 filter takes.
const FILTER_VALUES: usize = 200;

/// EC2's tag list as brickstack's map.
pub(crate) fn tags_of(tags: &[Tag]) -> Tags {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

fn tag_list(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// `tags` for a create call, so the object is never untagged (and `find` can adopt it).
pub(crate) fn tag_specification(resource: ResourceType, tags: &Tags) -> Option<TagSpecification> {
    (!tags.is_empty()).then(|| {
        TagSpecification::builder()
            .resource_type(resource)
            .set_tags(Some(tag_list(tags)))
            .build()
    })
}

/// Filters selecting `ids` by the filter `name` (e.g. `vpc-id`), at most [`FILTER_VALUES`] ids
/// each. Describing by filter, not by id, leaves a missing object out instead of failing the call.
pub(crate) fn id_filters(name: &str, ids: &[String]) -> Vec<Filter> {
    ids.chunks(FILTER_VALUES)
        .map(|chunk| {
            Filter::builder()
                .name(name)
                .set_values(Some(chunk.to_vec()))
                .build()
        })
        .collect()
}

/// Filters matching every tag `lookup` carries (brickstack's address and environment), or `None`
/// when it carries none: an untagged lookup could match another environment's object.
pub(crate) fn lookup_filters(lookup: &ObjectLookup) -> Option<Vec<Filter>> {
    (!lookup.tags.is_empty()).then(|| {
        lookup
            .tags
            .iter()
            .map(|(k, v)| Filter::builder().name(format!("tag:{k}")).values(v).build())
            .collect()
    })
}

/// Moves the tags of `resource_id` from `current` to `desired`: one call to add or change, one
/// to remove, none when they agree.
pub(crate) async fn retag(
    aws: &AwsProvider,
    resource_id: &str,
    current: &Tags,
    desired: &Tags,
) -> Result<(), ProviderError> {
    let ec2 = &aws.clients().ec2;
    let changed: Tags = desired
        .iter()
        .filter(|(k, v)| current.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !changed.is_empty() {
        ec2.create_tags()
            .resources(resource_id)
            .set_tags(Some(tag_list(&changed)))
            .send()
            .await
            .map_err(|e| classify("ec2:CreateTags", &e))?;
    }
    let removed: Vec<Tag> = current
        .keys()
        .filter(|k| !desired.contains_key(*k))
        .map(|k| Tag::builder().key(k).build())
        .collect();
    if !removed.is_empty() {
        ec2.delete_tags()
            .resources(resource_id)
            .set_tags(Some(removed))
            .send()
            .await
            .map_err(|e| classify("ec2:DeleteTags", &e))?;
    }
    Ok(())
}

/// The `tags` an observed object carries (none if it has no `tags` attribute).
pub(crate) fn observed_tags(observed: &Observed) -> Tags {
    observed
        .attributes
        .get("tags")
        .and_then(|t| serde_json::from_value(t.clone()).ok())
        .unwrap_or_default()
}

/// The first of `found` carrying every tag of `lookup`. The tag filters already select these in
/// AWS, but moto ignores them for some kinds (NAT gateways), and adopting another environment's
/// object would be far worse than one more comparison.
pub(crate) fn first_matching(
    found: BTreeMap<String, Observed>,
    lookup: &ObjectLookup,
) -> Option<Observed> {
    found.into_values().find(|o| {
        let tags = observed_tags(o);
        lookup.tags.iter().all(|(k, v)| tags.get(k) == Some(v))
    })
}

/// A filter on one value (`vpc-id`, `cidr-block`, `tag:Name`).
pub(crate) fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

/// The `Name` tag the desired attributes give an object, if any.
pub(crate) fn desired_name_tag(desired: &brickstack_provider::Attributes) -> Option<&str> {
    desired.get("tags")?.get("Name")?.as_str()
}

/// For `discover`: the one object of `found` that can be the desired one, made outside
/// brickstack. An object carrying a brickstack tag that disagrees with the lookup's (another
/// environment's, another address's) is never taken; two candidates are an error, not a guess.
pub(crate) fn the_one(
    kind: &str,
    found: BTreeMap<String, Observed>,
    lookup: &ObjectLookup,
) -> Result<Option<Observed>, ProviderError> {
    let mut candidates: Vec<Observed> = found
        .into_values()
        .filter(|o| {
            observed_tags(o)
                .iter()
                .filter(|(k, _)| k.starts_with("brickstack:"))
                .all(|(k, v)| lookup.tags.get(k).is_none_or(|want| want == v))
        })
        .collect();
    match candidates.len() {
        0 => Ok(None),
        1 => Ok(candidates.pop()),
        _ => Err(ProviderError::new(
            brickstack_provider::ErrorClass::Conflict,
            "AmbiguousDiscovery",
            format!(
                "{kind}: {} objects match ({}); hint: import the right one with `brickstack import ADDRESS ID`",
                candidates.len(),
                candidates
                    .iter()
                    .map(|o| o.object_id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// Every object among `ids`: one `describe` call (which pages) per chunk of ids, filtered by the
/// id filter `filter`, so a missing object is left out instead of failing the call.
pub(crate) async fn describe_ids<F, Fut>(
    filter: &str,
    ids: &[String],
    describe: F,
) -> Result<BTreeMap<String, Observed>, ProviderError>
where
    F: Fn(Vec<Filter>) -> Fut,
    Fut: Future<Output = Result<BTreeMap<String, Observed>, ProviderError>>,
{
    let mut found = BTreeMap::new();
    for chunk in id_filters(filter, ids) {
        found.extend(describe(vec![chunk]).await?);
    }
    Ok(found)
}

/// The object carrying every tag of `lookup`, described by tag filters; `None` for an untagged
/// lookup.
pub(crate) async fn find_tagged<F, Fut>(
    lookup: &ObjectLookup,
    describe: F,
) -> Result<Option<Observed>, ProviderError>
where
    F: FnOnce(Vec<Filter>) -> Fut,
    Fut: Future<Output = Result<BTreeMap<String, Observed>, ProviderError>>,
{
    let Some(filters) = lookup_filters(lookup) else {
        return Ok(None);
    };
    Ok(first_matching(describe(filters).await?, lookup))
}

/// The first failure a batch call (`DeleteVpcEndpoints`, `CreateFlowLogs`, ...) reports in its
/// answer instead of as an error, as an error about `subject`. moto puts the HTTP status where
/// the code goes, so a numeric code is classified as a status.
pub(crate) fn unsuccessful(
    operation: &str,
    subject: &str,
    items: &[aws_sdk_ec2::types::UnsuccessfulItem],
) -> Option<ProviderError> {
    let error = items.iter().find_map(|u| u.error())?;
    let code = error.code();
    Some(ProviderError::new(
        crate::classify::classify_code(code, code.and_then(|c| c.parse().ok())),
        code.unwrap_or("Unsuccessful"),
        format!(
            "{operation} failed for `{subject}`: {}",
            error.message().unwrap_or_default()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AwsClients, StaticEndpoint, static_sdk_config};

    fn provider() -> AwsProvider {
        AwsProvider::new(&AwsClients::new(
            &static_sdk_config(&StaticEndpoint {
                url: "http://127.0.0.1:9".into(),
                region: "eu-west-1".into(),
                access_key_id: "testing".into(),
                secret_access_key: "testing".into(),
                ca_bundle: None,
            })
            .expect("no CA bundle to read"),
        ))
    }

    fn tags(environment: &str, address: &str) -> Tags {
        Tags::from([
            (
                "brickstack:environment".to_string(),
                environment.to_string(),
            ),
            ("brickstack:address".to_string(), address.to_string()),
            ("Name".to_string(), "n".to_string()),
        ])
    }

    #[test]
    fn a_client_token_is_one_per_run_and_address() {
        let run = provider();
        let token = client_token(&run, &tags("dev", "aws_nat_gateway.a")).expect("a token");
        assert!(token.len() <= 64 && token.is_ascii(), "{token}");
        assert_eq!(
            client_token(&run, &tags("dev", "aws_nat_gateway.a")),
            Some(token.clone()),
            "every send of this run's create"
        );
        for other in [
            client_token(&run, &tags("dev", "aws_nat_gateway.b")),
            client_token(&run, &tags("prod", "aws_nat_gateway.a")),
            client_token(&provider(), &tags("dev", "aws_nat_gateway.a")),
        ] {
            assert_ne!(other, Some(token.clone()));
        }
        assert_eq!(
            client_token(&run, &Tags::new()),
            None,
            "no address, no token"
        );
    }

    fn object(id: &str, tags: &[(&str, &str)]) -> (String, Observed) {
        let tags: Tags = tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut attributes = brickstack_provider::Attributes::new();
        attributes.insert("tags".into(), serde_json::to_value(tags).unwrap());
        (
            id.to_string(),
            Observed {
                object_id: id.to_string(),
                attributes,
            },
        )
    }

    #[test]
    fn discovery_takes_the_one_untagged_or_own_object_and_refuses_to_guess_between_two() {
        let lookup = ObjectLookup {
            tags: tags("dev", "aws_vpc.main")
                .into_iter()
                .filter(|(k, _)| k.starts_with("brickstack:"))
                .collect(),
            ..Default::default()
        };
        let quickstart = object("vpc-1", &[("Name", "main")]);
        let other_environment = object(
            "vpc-2",
            &[("Name", "main"), ("brickstack:environment", "prod")],
        );
        let other_address = object(
            "vpc-3",
            &[("Name", "main"), ("brickstack:address", "aws_vpc.other")],
        );
        let found = the_one(
            "aws_vpc",
            BTreeMap::from([quickstart.clone(), other_environment, other_address]),
            &lookup,
        )
        .unwrap();
        assert_eq!(found.map(|o| o.object_id).as_deref(), Some("vpc-1"));

        let error = the_one(
            "aws_vpc",
            BTreeMap::from([quickstart, object("vpc-4", &[("Name", "main")])]),
            &lookup,
        )
        .unwrap_err();
        assert_eq!(error.code, "AmbiguousDiscovery");
        assert!(error.to_string().contains("vpc-1, vpc-4"), "{error}");
        assert_eq!(the_one("aws_vpc", BTreeMap::new(), &lookup).unwrap(), None);
    }
}
