//! `aws_dynamodb_table`: a DynamoDB table (brickstack's lock table). The object id is the name.
//!
//! * Create waits until the table is `ACTIVE`, then turns on point-in-time recovery if asked;
//!   delete waits until the table is gone. A table being deleted reads as gone.
//! * `server_side_encryption.enabled = true` means the AWS-managed KMS key (`alias/aws/dynamodb`),
//!   false the AWS-owned default; a customer-managed key is not offered yet.
//! * `read_capacity`/`write_capacity` are present exactly when `billing_mode` is `PROVISIONED`.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, PointInTimeRecoverySpecification,
    PointInTimeRecoveryStatus, ProvisionedThroughput, ScalarAttributeType, SseSpecification,
    SseStatus, TableDescription, TableStatus, Tag,
};
use brickstack_provider::{AttributeBehaviour, Attributes, KindSchema, Observed, ProviderError};
use serde::{Deserialize, Serialize};

use super::{Tags, built, observed, parse, read_each, wait_for};
use crate::classify::{
    absent_if_not_found, after_created, classify, gone, invalid_input, missing_field,
};
use crate::provider::AwsProvider;

pub(crate) const KIND: &str = "aws_dynamodb_table";

const PAY_PER_REQUEST: &str = "PAY_PER_REQUEST";
const PROVISIONED: &str = "PROVISIONED";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    name: String,
    #[serde(default = "provisioned")]
    billing_mode: String,
    hash_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    range_key: Option<String>,
    /// The key attributes' types, in the order given.
    attribute: Vec<KeyAttribute>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    read_capacity: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    write_capacity: Option<i64>,
    #[serde(default)]
    server_side_encryption: Toggle,
    #[serde(default)]
    point_in_time_recovery: Toggle,
    #[serde(default)]
    tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyAttribute {
    name: String,
    /// `S`, `N` or `B`.
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Toggle {
    enabled: bool,
}

fn provisioned() -> String {
    PROVISIONED.into()
}

impl Table {
    fn desired(attributes: &Attributes) -> Result<Table, ProviderError> {
        let table: Table = parse(KIND, attributes)?;
        match table.billing_mode.as_str() {
            PAY_PER_REQUEST if table.read_capacity.is_some() || table.write_capacity.is_some() => {
                Err(invalid_input(
                    KIND,
                    "`read_capacity`/`write_capacity` apply to `PROVISIONED` billing only",
                ))
            }
            PROVISIONED if table.read_capacity.is_none() || table.write_capacity.is_none() => {
                Err(invalid_input(
                    KIND,
                    "`PROVISIONED` billing needs `read_capacity` and `write_capacity`",
                ))
            }
            PAY_PER_REQUEST | PROVISIONED => Ok(table),
            other => Err(invalid_input(
                KIND,
                format!("`billing_mode` is `{other}`; use `PAY_PER_REQUEST` or `PROVISIONED`"),
            )),
        }
    }

    fn key_schema(&self) -> Result<Vec<KeySchemaElement>, ProviderError> {
        let keys = std::iter::once((&self.hash_key, KeyType::Hash))
            .chain(self.range_key.iter().map(|r| (r, KeyType::Range)));
        keys.map(|(name, key_type)| {
            built(
                KIND,
                KeySchemaElement::builder()
                    .attribute_name(name)
                    .key_type(key_type)
                    .build(),
            )
        })
        .collect()
    }

    fn attribute_definitions(&self) -> Result<Vec<AttributeDefinition>, ProviderError> {
        self.attribute
            .iter()
            .map(|a| {
                built(
                    KIND,
                    AttributeDefinition::builder()
                        .attribute_name(&a.name)
                        .attribute_type(ScalarAttributeType::from(a.kind.as_str()))
                        .build(),
                )
            })
            .collect()
    }

    fn throughput(&self) -> Result<Option<ProvisionedThroughput>, ProviderError> {
        match (self.read_capacity, self.write_capacity) {
            (Some(read), Some(write)) => built(
                KIND,
                ProvisionedThroughput::builder()
                    .read_capacity_units(read)
                    .write_capacity_units(write)
                    .build(),
            )
            .map(Some),
            _ => Ok(None),
        }
    }

    fn sse(&self) -> SseSpecification {
        SseSpecification::builder()
            .enabled(self.server_side_encryption.enabled)
            .build()
    }

    fn observed(&self, arn: &str) -> Observed {
        observed(&self.name, self, [("arn", arn.to_string())])
    }
}

pub(crate) fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("name", AttributeBehaviour::ForcesReplacement)
        .attribute("hash_key", AttributeBehaviour::ForcesReplacement)
        .attribute("range_key", AttributeBehaviour::ForcesReplacement)
        .attribute("attribute", AttributeBehaviour::ForcesReplacement)
        .attribute("arn", AttributeBehaviour::Computed)
}

/// The table's description, `None` when it is gone.
async fn describe(ddb: &Client, name: &str) -> Result<Option<TableDescription>, ProviderError> {
    match ddb.describe_table().table_name(name).send().await {
        Ok(out) => Ok(out.table),
        Err(e) => absent_if_not_found(classify("dynamodb:DescribeTable", &e)),
    }
}

async fn list_tags(ddb: &Client, arn: &str) -> Result<Tags, ProviderError> {
    let mut tags = Tags::new();
    let mut next: Option<String> = None;
    loop {
        let page = ddb
            .list_tags_of_resource()
            .resource_arn(arn)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| classify("dynamodb:ListTagsOfResource", &e))?;
        tags.extend(
            page.tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string())),
        );
        match page.next_token() {
            Some(token) => next = Some(token.to_string()),
            None => return Ok(tags),
        }
    }
}

fn ddb_tags<'a>(
    tags: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> Result<Vec<Tag>, ProviderError> {
    tags.into_iter()
        .map(|(k, v)| built(KIND, Tag::builder().key(k).value(v).build()))
        .collect()
}

async fn pitr_enabled(ddb: &Client, name: &str) -> Result<bool, ProviderError> {
    let out = ddb
        .describe_continuous_backups()
        .table_name(name)
        .send()
        .await
        .map_err(|e| classify("dynamodb:DescribeContinuousBackups", &e))?;
    Ok(out
        .continuous_backups_description()
        .and_then(|c| c.point_in_time_recovery_description())
        .and_then(|p| p.point_in_time_recovery_status())
        == Some(&PointInTimeRecoveryStatus::Enabled))
}

async fn set_pitr(ddb: &Client, name: &str, enabled: bool) -> Result<(), ProviderError> {
    let specification = built(
        KIND,
        PointInTimeRecoverySpecification::builder()
            .point_in_time_recovery_enabled(enabled)
            .build(),
    )?;
    ddb.update_continuous_backups()
        .table_name(name)
        .point_in_time_recovery_specification(specification)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| classify("dynamodb:UpdateContinuousBackups", &e))
}

/// A table as the cloud has it, with its ARN.
async fn current(aws: &AwsProvider, name: &str) -> Result<Option<(Table, String)>, ProviderError> {
    let ddb = &aws.clients().dynamodb;
    let Some(description) = describe(ddb, name).await? else {
        return Ok(None);
    };
    if description.table_status() == Some(&TableStatus::Deleting) {
        return Ok(None);
    }
    let arn = description
        .table_arn()
        .ok_or_else(|| missing_field("dynamodb:DescribeTable", "TableArn"))?
        .to_string();
    let (pitr, tags) = match tokio::try_join!(pitr_enabled(ddb, name), list_tags(ddb, &arn)) {
        Ok(parts) => parts,
        // Deleted between the calls.
        Err(e) => return absent_if_not_found(e),
    };
    let key = |key_type: KeyType| {
        description
            .key_schema()
            .iter()
            .find(|k| *k.key_type() == key_type)
            .map(|k| k.attribute_name().to_string())
    };
    let billing_mode = description
        .billing_mode_summary()
        .and_then(|b| b.billing_mode())
        .map_or(PROVISIONED, |b| b.as_str())
        .to_string();
    let throughput = description
        .provisioned_throughput()
        .filter(|_| billing_mode == PROVISIONED);
    let table = Table {
        name: name.to_string(),
        hash_key: key(KeyType::Hash).unwrap_or_default(),
        range_key: key(KeyType::Range),
        attribute: description
            .attribute_definitions()
            .iter()
            .map(|a| KeyAttribute {
                name: a.attribute_name().to_string(),
                kind: a.attribute_type().as_str().to_string(),
            })
            .collect(),
        read_capacity: throughput.and_then(|t| t.read_capacity_units()),
        write_capacity: throughput.and_then(|t| t.write_capacity_units()),
        billing_mode,
        server_side_encryption: Toggle {
            enabled: description.sse_description().is_some_and(|s| {
                matches!(
                    s.status(),
                    Some(SseStatus::Enabled | SseStatus::Enabling | SseStatus::Updating)
                )
            }),
        },
        point_in_time_recovery: Toggle { enabled: pitr },
        tags,
    };
    Ok(Some((table, arn)))
}

pub(crate) async fn read(aws: &AwsProvider, name: &str) -> Result<Option<Observed>, ProviderError> {
    Ok(current(aws, name)
        .await?
        .map(|(table, arn)| table.observed(&arn)))
}

/// DynamoDB has no batch describe: the tables are read a few at a time.
pub(crate) async fn read_many(
    aws: &AwsProvider,
    names: &[String],
) -> Result<BTreeMap<String, Observed>, ProviderError> {
    read_each(names, |name| read(aws, name)).await
}

/// Waits until the table is `ACTIVE`.
async fn wait_active(ddb: &Client, name: &str) -> Result<(), ProviderError> {
    wait_for(&format!("table `{name}` to become ACTIVE"), || async {
        match describe(ddb, name).await? {
            Some(t) if t.table_status() == Some(&TableStatus::Active) => Ok(Some(())),
            Some(_) => Ok(None),
            None => Err(gone(KIND, name)),
        }
    })
    .await
}

pub(crate) async fn create(
    aws: &AwsProvider,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let table = Table::desired(attributes)?;
    let ddb = &aws.clients().dynamodb;
    let created = ddb
        .create_table()
        .table_name(&table.name)
        .billing_mode(BillingMode::from(table.billing_mode.as_str()))
        .set_key_schema(Some(table.key_schema()?))
        .set_attribute_definitions(Some(table.attribute_definitions()?))
        .set_provisioned_throughput(table.throughput()?)
        .sse_specification(table.sse())
        .set_tags(
            (!table.tags.is_empty())
                .then(|| ddb_tags(&table.tags))
                .transpose()?,
        )
        .send()
        .await
        .map_err(|e| classify("dynamodb:CreateTable", &e))?;
    let arn = created
        .table_description()
        .and_then(|t| t.table_arn())
        .ok_or_else(|| missing_field("dynamodb:CreateTable", "TableArn"))?
        .to_string();
    let configured = async {
        wait_active(ddb, &table.name).await?;
        if table.point_in_time_recovery.enabled {
            set_pitr(ddb, &table.name, true).await?;
        }
        Ok(())
    };
    configured
        .await
        .map_err(|e| after_created(KIND, &table.name, e))?;
    Ok(table.observed(&arn))
}

pub(crate) async fn update(
    aws: &AwsProvider,
    name: &str,
    attributes: &Attributes,
) -> Result<Observed, ProviderError> {
    let table = Table::desired(attributes)?;
    let ddb = &aws.clients().dynamodb;
    let (current, arn) = current(aws, name).await?.ok_or_else(|| gone(KIND, name))?;
    if table.name != name
        || table.hash_key != current.hash_key
        || table.range_key != current.range_key
        || table.attribute != current.attribute
    {
        return Err(invalid_input(
            KIND,
            "`name`, `hash_key`, `range_key` and `attribute` change only by replacing the table",
        ));
    }
    // One change per UpdateTable, each waited for: DynamoDB refuses a second while one runs.
    if table.billing_mode != current.billing_mode
        || table.read_capacity != current.read_capacity
        || table.write_capacity != current.write_capacity
    {
        ddb.update_table()
            .table_name(name)
            .billing_mode(BillingMode::from(table.billing_mode.as_str()))
            .set_provisioned_throughput(table.throughput()?)
            .send()
            .await
            .map_err(|e| classify("dynamodb:UpdateTable", &e))?;
        wait_active(ddb, name).await?;
    }
    if table.server_side_encryption != current.server_side_encryption {
        ddb.update_table()
            .table_name(name)
            .sse_specification(table.sse())
            .send()
            .await
            .map_err(|e| classify("dynamodb:UpdateTable", &e))?;
        wait_active(ddb, name).await?;
    }
    if table.point_in_time_recovery != current.point_in_time_recovery {
        set_pitr(ddb, name, table.point_in_time_recovery.enabled).await?;
    }
    let removed: Vec<String> = current
        .tags
        .keys()
        .filter(|k| !table.tags.contains_key(*k))
        .cloned()
        .collect();
    if !removed.is_empty() {
        ddb.untag_resource()
            .resource_arn(&arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(|e| classify("dynamodb:UntagResource", &e))?;
    }
    let changed: Vec<(&String, &String)> = table
        .tags
        .iter()
        .filter(|(k, v)| current.tags.get(*k) != Some(*v))
        .collect();
    if !changed.is_empty() {
        ddb.tag_resource()
            .resource_arn(&arn)
            .set_tags(Some(ddb_tags(changed)?))
            .send()
            .await
            .map_err(|e| classify("dynamodb:TagResource", &e))?;
    }
    Ok(table.observed(&arn))
}

/// Deletes the table and waits until it is gone.
pub(crate) async fn delete(aws: &AwsProvider, name: &str) -> Result<(), ProviderError> {
    let ddb = &aws.clients().dynamodb;
    if let Err(e) = ddb.delete_table().table_name(name).send().await {
        let error = classify("dynamodb:DeleteTable", &e);
        match describe(ddb, name).await? {
            None => return Ok(()),
            // Already being deleted (ResourceInUseException): wait for it like any other.
            Some(t) if t.table_status() == Some(&TableStatus::Deleting) => {}
            Some(_) => return Err(error),
        }
    }
    wait_for(&format!("table `{name}` to be deleted"), || async {
        Ok(describe(ddb, name).await?.is_none().then_some(()))
    })
    .await
}
