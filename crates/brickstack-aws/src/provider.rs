//! [`AwsProvider`]: the engine's `Provider` for AWS kinds. Each operation goes to its kind's
//! module under `resources/`; a kind without a module is refused with `UnsupportedKind`.

use std::collections::BTreeMap;

use brickstack_provider::{
    Attributes, CreateRequest, KindSchema, Observed, Provider, ProviderError,
};
use brickstack_state::ObjectLookup;
use tokio::sync::OnceCell;

use crate::AwsClients;
use crate::calls::CallCounter;
use crate::classify::{classify, missing_field, unsupported_kind};
use crate::resources::{
    default_security_group, dynamodb_table, eip, internet_gateway, kms_alias, kms_key, nat_gateway,
    route, route_table, route_table_association, s3_bucket, s3_bucket_lifecycle_configuration,
    s3_bucket_policy, s3_bucket_public_access_block,
    s3_bucket_server_side_encryption_configuration, s3_bucket_versioning, subnet, vpc,
};

/// The AWS provider, acting with the credentials and in the region its clients were built with.
#[derive(Debug)]
pub struct AwsProvider {
    clients: AwsClients,
    calls: CallCounter,
    identity: OnceCell<Identity>,
}

/// Who the credentials are, from `sts:GetCallerIdentity` (asked once).
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub account_id: String,
    /// `aws`, `aws-cn`, `aws-us-gov`, ...: the caller's ARN says, so no region table is needed.
    pub partition: String,
}

impl AwsProvider {
    /// A provider using `clients` (copies of them that count their calls, see [`Self::calls`]).
    pub fn new(clients: &AwsClients) -> Self {
        let calls = CallCounter::default();
        AwsProvider {
            clients: calls.instrument(clients),
            calls,
            identity: OnceCell::new(),
        }
    }

    /// The API calls made so far, by operation.
    pub fn calls(&self) -> &CallCounter {
        &self.calls
    }

    pub(crate) fn clients(&self) -> &AwsClients {
        &self.clients
    }

    pub(crate) async fn identity(&self) -> Result<&Identity, ProviderError> {
        self.identity
            .get_or_try_init(|| async {
                const OPERATION: &str = "sts:GetCallerIdentity";
                let out = self
                    .clients
                    .sts
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| classify(OPERATION, &e))?;
                let account_id = out
                    .account()
                    .ok_or_else(|| missing_field(OPERATION, "Account"))?;
                let arn = out.arn().ok_or_else(|| missing_field(OPERATION, "Arn"))?;
                let partition = arn
                    .split(':')
                    .nth(1)
                    .filter(|p| !p.is_empty())
                    .ok_or_else(|| missing_field(OPERATION, "Arn (partition)"))?;
                Ok(Identity {
                    account_id: account_id.to_string(),
                    partition: partition.to_string(),
                })
            })
            .await
    }

    /// The region the clients act in.
    pub(crate) fn region(&self) -> Result<String, ProviderError> {
        self.clients
            .s3
            .config()
            .region()
            .map(|r| r.to_string())
            .ok_or_else(|| {
                ProviderError::new(
                    brickstack_provider::ErrorClass::InvalidInput,
                    "NoRegion",
                    "no AWS region is configured; hint: set `AWS_REGION` or the profile's region",
                )
            })
    }
}

/// The kinds this provider serves: those of the bootstrap graph and the network's (issue #4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    KmsKey,
    KmsAlias,
    S3Bucket,
    S3BucketVersioning,
    S3BucketServerSideEncryptionConfiguration,
    S3BucketPublicAccessBlock,
    S3BucketLifecycleConfiguration,
    S3BucketPolicy,
    DynamodbTable,
    Vpc,
    Subnet,
    InternetGateway,
    RouteTable,
    Route,
    RouteTableAssociation,
    Eip,
    NatGateway,
    DefaultSecurityGroup,
}

impl Kind {
    const ALL: [Kind; 18] = [
        Kind::KmsKey,
        Kind::KmsAlias,
        Kind::S3Bucket,
        Kind::S3BucketVersioning,
        Kind::S3BucketServerSideEncryptionConfiguration,
        Kind::S3BucketPublicAccessBlock,
        Kind::S3BucketLifecycleConfiguration,
        Kind::S3BucketPolicy,
        Kind::DynamodbTable,
        Kind::Vpc,
        Kind::Subnet,
        Kind::InternetGateway,
        Kind::RouteTable,
        Kind::Route,
        Kind::RouteTableAssociation,
        Kind::Eip,
        Kind::NatGateway,
        Kind::DefaultSecurityGroup,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::KmsKey => kms_key::KIND,
            Kind::KmsAlias => kms_alias::KIND,
            Kind::S3Bucket => s3_bucket::KIND,
            Kind::S3BucketVersioning => s3_bucket_versioning::KIND,
            Kind::S3BucketServerSideEncryptionConfiguration => {
                s3_bucket_server_side_encryption_configuration::KIND
            }
            Kind::S3BucketPublicAccessBlock => s3_bucket_public_access_block::KIND,
            Kind::S3BucketLifecycleConfiguration => s3_bucket_lifecycle_configuration::KIND,
            Kind::S3BucketPolicy => s3_bucket_policy::KIND,
            Kind::DynamodbTable => dynamodb_table::KIND,
            Kind::Vpc => vpc::KIND,
            Kind::Subnet => subnet::KIND,
            Kind::InternetGateway => internet_gateway::KIND,
            Kind::RouteTable => route_table::KIND,
            Kind::Route => route::KIND,
            Kind::RouteTableAssociation => route_table_association::KIND,
            Kind::Eip => eip::KIND,
            Kind::NatGateway => nat_gateway::KIND,
            Kind::DefaultSecurityGroup => default_security_group::KIND,
        }
    }

    fn of(kind: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == kind)
    }

    fn supported(kind: &str) -> Result<Kind, ProviderError> {
        Kind::of(kind).ok_or_else(|| unsupported_kind(kind))
    }
}

impl Provider for AwsProvider {
    fn schema(&self, kind: &str) -> Option<KindSchema> {
        Some(match Kind::of(kind)? {
            Kind::KmsKey => kms_key::schema(),
            Kind::KmsAlias => kms_alias::schema(),
            Kind::S3Bucket => s3_bucket::schema(),
            Kind::S3BucketVersioning => s3_bucket_versioning::schema(),
            Kind::S3BucketServerSideEncryptionConfiguration => {
                s3_bucket_server_side_encryption_configuration::schema()
            }
            Kind::S3BucketPublicAccessBlock => s3_bucket_public_access_block::schema(),
            Kind::S3BucketLifecycleConfiguration => s3_bucket_lifecycle_configuration::schema(),
            Kind::S3BucketPolicy => s3_bucket_policy::schema(),
            Kind::DynamodbTable => dynamodb_table::schema(),
            Kind::Vpc => vpc::schema(),
            Kind::Subnet => subnet::schema(),
            Kind::InternetGateway => internet_gateway::schema(),
            Kind::RouteTable => route_table::schema(),
            Kind::Route => route::schema(),
            Kind::RouteTableAssociation => route_table_association::schema(),
            Kind::Eip => eip::schema(),
            Kind::NatGateway => nat_gateway::schema(),
            Kind::DefaultSecurityGroup => default_security_group::schema(),
        })
    }

    async fn context(&self) -> Result<BTreeMap<String, String>, ProviderError> {
        let identity = self.identity().await?;
        Ok(BTreeMap::from([(
            "account_id".to_string(),
            identity.account_id.clone(),
        )]))
    }

    async fn read(&self, kind: &str, object_id: &str) -> Result<Option<Observed>, ProviderError> {
        match Kind::supported(kind)? {
            Kind::KmsKey => kms_key::read(self, object_id).await,
            Kind::KmsAlias => kms_alias::read(self, object_id).await,
            Kind::S3Bucket => s3_bucket::read(self, object_id).await,
            Kind::S3BucketVersioning => s3_bucket_versioning::read(self, object_id).await,
            Kind::S3BucketServerSideEncryptionConfiguration => {
                s3_bucket_server_side_encryption_configuration::read(self, object_id).await
            }
            Kind::S3BucketPublicAccessBlock => {
                s3_bucket_public_access_block::read(self, object_id).await
            }
            Kind::S3BucketLifecycleConfiguration => {
                s3_bucket_lifecycle_configuration::read(self, object_id).await
            }
            Kind::S3BucketPolicy => s3_bucket_policy::read(self, object_id).await,
            Kind::DynamodbTable => dynamodb_table::read(self, object_id).await,
            Kind::Vpc => vpc::read(self, object_id).await,
            Kind::Subnet => subnet::read(self, object_id).await,
            Kind::InternetGateway => internet_gateway::read(self, object_id).await,
            Kind::RouteTable => route_table::read(self, object_id).await,
            Kind::Route => route::read(self, object_id).await,
            Kind::RouteTableAssociation => route_table_association::read(self, object_id).await,
            Kind::Eip => eip::read(self, object_id).await,
            Kind::NatGateway => nat_gateway::read(self, object_id).await,
            Kind::DefaultSecurityGroup => default_security_group::read(self, object_id).await,
        }
    }

    async fn read_many(
        &self,
        kind: &str,
        object_ids: &[String],
    ) -> Result<BTreeMap<String, Observed>, ProviderError> {
        match Kind::supported(kind)? {
            Kind::KmsKey => kms_key::read_many(self, object_ids).await,
            Kind::KmsAlias => kms_alias::read_many(self, object_ids).await,
            Kind::S3Bucket => s3_bucket::read_many(self, object_ids).await,
            Kind::S3BucketVersioning => s3_bucket_versioning::read_many(self, object_ids).await,
            Kind::S3BucketServerSideEncryptionConfiguration => {
                s3_bucket_server_side_encryption_configuration::read_many(self, object_ids).await
            }
            Kind::S3BucketPublicAccessBlock => {
                s3_bucket_public_access_block::read_many(self, object_ids).await
            }
            Kind::S3BucketLifecycleConfiguration => {
                s3_bucket_lifecycle_configuration::read_many(self, object_ids).await
            }
            Kind::S3BucketPolicy => s3_bucket_policy::read_many(self, object_ids).await,
            Kind::DynamodbTable => dynamodb_table::read_many(self, object_ids).await,
            Kind::Vpc => vpc::read_many(self, object_ids).await,
            Kind::Subnet => subnet::read_many(self, object_ids).await,
            Kind::InternetGateway => internet_gateway::read_many(self, object_ids).await,
            Kind::RouteTable => route_table::read_many(self, object_ids).await,
            Kind::Route => route::read_many(self, object_ids).await,
            Kind::RouteTableAssociation => {
                route_table_association::read_many(self, object_ids).await
            }
            Kind::Eip => eip::read_many(self, object_ids).await,
            Kind::NatGateway => nat_gateway::read_many(self, object_ids).await,
            Kind::DefaultSecurityGroup => default_security_group::read_many(self, object_ids).await,
        }
    }

    async fn create(&self, request: &CreateRequest) -> Result<Observed, ProviderError> {
        let attributes = &request.attributes;
        match Kind::supported(&request.kind)? {
            Kind::KmsKey => kms_key::create(self, attributes).await,
            Kind::KmsAlias => kms_alias::create(self, attributes).await,
            Kind::S3Bucket => s3_bucket::create(self, attributes).await,
            Kind::S3BucketVersioning => s3_bucket_versioning::create(self, attributes).await,
            Kind::S3BucketServerSideEncryptionConfiguration => {
                s3_bucket_server_side_encryption_configuration::create(self, attributes).await
            }
            Kind::S3BucketPublicAccessBlock => {
                s3_bucket_public_access_block::create(self, attributes).await
            }
            Kind::S3BucketLifecycleConfiguration => {
                s3_bucket_lifecycle_configuration::create(self, attributes).await
            }
            Kind::S3BucketPolicy => s3_bucket_policy::create(self, attributes).await,
            Kind::DynamodbTable => dynamodb_table::create(self, attributes).await,
            Kind::Vpc => vpc::create(self, attributes).await,
            Kind::Subnet => subnet::create(self, attributes).await,
            Kind::InternetGateway => internet_gateway::create(self, attributes).await,
            Kind::RouteTable => route_table::create(self, attributes).await,
            Kind::Route => route::create(self, attributes).await,
            Kind::RouteTableAssociation => route_table_association::create(self, attributes).await,
            Kind::Eip => eip::create(self, attributes).await,
            Kind::NatGateway => nat_gateway::create(self, attributes).await,
            Kind::DefaultSecurityGroup => default_security_group::create(self, attributes).await,
        }
    }

    async fn update(
        &self,
        kind: &str,
        object_id: &str,
        attributes: &Attributes,
    ) -> Result<Observed, ProviderError> {
        match Kind::supported(kind)? {
            Kind::KmsKey => kms_key::update(self, object_id, attributes).await,
            Kind::KmsAlias => kms_alias::update(self, object_id, attributes).await,
            Kind::S3Bucket => s3_bucket::update(self, object_id, attributes).await,
            Kind::S3BucketVersioning => {
                s3_bucket_versioning::update(self, object_id, attributes).await
            }
            Kind::S3BucketServerSideEncryptionConfiguration => {
                s3_bucket_server_side_encryption_configuration::update(self, object_id, attributes)
                    .await
            }
            Kind::S3BucketPublicAccessBlock => {
                s3_bucket_public_access_block::update(self, object_id, attributes).await
            }
            Kind::S3BucketLifecycleConfiguration => {
                s3_bucket_lifecycle_configuration::update(self, object_id, attributes).await
            }
            Kind::S3BucketPolicy => s3_bucket_policy::update(self, object_id, attributes).await,
            Kind::DynamodbTable => dynamodb_table::update(self, object_id, attributes).await,
            Kind::Vpc => vpc::update(self, object_id, attributes).await,
            Kind::Subnet => subnet::update(self, object_id, attributes).await,
            Kind::InternetGateway => internet_gateway::update(self, object_id, attributes).await,
            Kind::RouteTable => route_table::update(self, object_id, attributes).await,
            Kind::Route => route::update(self, object_id, attributes).await,
            Kind::RouteTableAssociation => {
                route_table_association::update(self, object_id, attributes).await
            }
            Kind::Eip => eip::update(self, object_id, attributes).await,
            Kind::NatGateway => nat_gateway::update(self, object_id, attributes).await,
            Kind::DefaultSecurityGroup => {
                default_security_group::update(self, object_id, attributes).await
            }
        }
    }

    async fn delete(&self, kind: &str, object_id: &str) -> Result<(), ProviderError> {
        match Kind::supported(kind)? {
            Kind::KmsKey => kms_key::delete(self, object_id).await,
            Kind::KmsAlias => kms_alias::delete(self, object_id).await,
            Kind::S3Bucket => s3_bucket::delete(self, object_id).await,
            Kind::S3BucketVersioning => s3_bucket_versioning::delete(self, object_id).await,
            Kind::S3BucketServerSideEncryptionConfiguration => {
                s3_bucket_server_side_encryption_configuration::delete(self, object_id).await
            }
            Kind::S3BucketPublicAccessBlock => {
                s3_bucket_public_access_block::delete(self, object_id).await
            }
            Kind::S3BucketLifecycleConfiguration => {
                s3_bucket_lifecycle_configuration::delete(self, object_id).await
            }
            Kind::S3BucketPolicy => s3_bucket_policy::delete(self, object_id).await,
            Kind::DynamodbTable => dynamodb_table::delete(self, object_id).await,
            Kind::Vpc => vpc::delete(self, object_id).await,
            Kind::Subnet => subnet::delete(self, object_id).await,
            Kind::InternetGateway => internet_gateway::delete(self, object_id).await,
            Kind::RouteTable => route_table::delete(self, object_id).await,
            Kind::Route => route::delete(self, object_id).await,
            Kind::RouteTableAssociation => route_table_association::delete(self, object_id).await,
            Kind::Eip => eip::delete(self, object_id).await,
            Kind::NatGateway => nat_gateway::delete(self, object_id).await,
            Kind::DefaultSecurityGroup => default_security_group::delete(self, object_id).await,
        }
    }

    async fn find(
        &self,
        kind: &str,
        lookup: &ObjectLookup,
    ) -> Result<Option<Observed>, ProviderError> {
        match Kind::supported(kind)? {
            // A key has no name of its own: brickstack's tags, or its alias.
            Kind::KmsKey => kms_key::find(self, lookup).await,
            // EC2 names its objects: they are found by brickstack's tags.
            Kind::Vpc => vpc::find(self, lookup).await,
            Kind::Subnet => subnet::find(self, lookup).await,
            Kind::InternetGateway => internet_gateway::find(self, lookup).await,
            Kind::RouteTable => route_table::find(self, lookup).await,
            Kind::Eip => eip::find(self, lookup).await,
            Kind::NatGateway => nat_gateway::find(self, lookup).await,
            Kind::DefaultSecurityGroup => default_security_group::find(self, lookup).await,
            // Routes and associations take no tags; every other kind's object id is its
            // deterministic name.
            kind => match &lookup.name {
                Some(name) => self.read(kind.name(), name).await,
                None => Ok(None),
            },
        }
    }

    async fn contents(&self, kind: &str, object_id: &str) -> Result<u64, ProviderError> {
        match Kind::supported(kind)? {
            Kind::S3Bucket => s3_bucket::contents(self, object_id).await,
            // Nothing else holds data.
            _ => Ok(0),
        }
    }
}
