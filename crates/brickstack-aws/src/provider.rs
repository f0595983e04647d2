//! [`AwsProvider`]: the engine's `Provider` for AWS kinds. Each operation goes to its kind's
//! module under `resources/`; a kind without a module is refused with `UnsupportedKind`.

use std::collections::BTreeMap;

use brickstack_provider::{
    Attributes, CreateRequest, KindSchema, Observed, Presence, Provider, ProviderError,
    SurveyObject,
};
use brickstack_state::ObjectLookup;
use tokio::sync::OnceCell;

use crate::AwsClients;
use crate::calls::CallCounter;
use crate::classify::{classify, missing_field, unsupported_kind};
use crate::resources::{
    default_security_group, dynamodb_table, eip, flow_log, iam_instance_profile, iam_policy,
    iam_role, iam_role_policy, iam_role_policy_attachment, internet_gateway, kms_alias, kms_key,
    nat_gateway, route, route_table, route_table_association, s3_bucket,
    s3_bucket_lifecycle_configuration, s3_bucket_logging, s3_bucket_policy,
    s3_bucket_public_access_block, s3_bucket_server_side_encryption_configuration,
    s3_bucket_versioning, subnet, vpc, vpc_endpoint,
};

/// The AWS provider, acting with the credentials and in the region its clients were built with.
#[derive(Debug)]
pub struct AwsProvider {
    clients: AwsClients,
    calls: CallCounter,
    identity: OnceCell<Identity>,
    /// When this provider was made (ns since the epoch): part of the EC2 idempotency tokens,
    /// so that a later run's create of an address gets another token (`ec2::client_token`).
    started: u128,
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
            started: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        }
    }

    pub(crate) fn started(&self) -> u128 {
        self.started
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

/// The kinds this provider serves, each with its module under `resources/`. Every module has
/// `KIND`, `schema`, `read`, `read_many`, `create`, `update` and `delete`; this writes the
/// dispatch from kind to module once.
macro_rules! served_kinds {
    ($($variant:ident => $module:ident),* $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Kind {
            $($variant),*
        }

        /// The kinds this provider serves, from its dispatch table (the kind registry's
        /// `aws` family must be exactly these: `brickstack-cli`'s registry test checks it).
        pub fn served_kinds() -> &'static [&'static str] {
            &[$($module::KIND),*]
        }

        impl Kind {
            const ALL: &[Kind] = &[$(Kind::$variant),*];

            fn name(self) -> &'static str {
                match self {
                    $(Kind::$variant => $module::KIND),*
                }
            }

            fn schema(self) -> KindSchema {
                match self {
                    $(Kind::$variant => $module::schema()),*
                }
            }
        }

        impl AwsProvider {
            async fn read_kind(
                &self,
                kind: Kind,
                object_id: &str,
            ) -> Result<Option<Observed>, ProviderError> {
                match kind {
                    $(Kind::$variant => $module::read(self, object_id).await),*
                }
            }

            async fn read_many_kind(
                &self,
                kind: Kind,
                object_ids: &[String],
            ) -> Result<BTreeMap<String, Observed>, ProviderError> {
                match kind {
                    $(Kind::$variant => $module::read_many(self, object_ids).await),*
                }
            }

            async fn create_kind(
                &self,
                kind: Kind,
                attributes: &Attributes,
            ) -> Result<Observed, ProviderError> {
                match kind {
                    $(Kind::$variant => $module::create(self, attributes).await),*
                }
            }

            async fn update_kind(
                &self,
                kind: Kind,
                object_id: &str,
                attributes: &Attributes,
            ) -> Result<Observed, ProviderError> {
                match kind {
                    $(Kind::$variant => $module::update(self, object_id, attributes).await),*
                }
            }

            async fn delete_kind(&self, kind: Kind, object_id: &str) -> Result<(), ProviderError> {
                match kind {
                    $(Kind::$variant => $module::delete(self, object_id).await),*
                }
            }
        }
    };
}

served_kinds! {
    KmsKey => kms_key,
    KmsAlias => kms_alias,
    S3Bucket => s3_bucket,
    S3BucketVersioning => s3_bucket_versioning,
    S3BucketServerSideEncryptionConfiguration => s3_bucket_server_side_encryption_configuration,
    S3BucketPublicAccessBlock => s3_bucket_public_access_block,
    S3BucketLifecycleConfiguration => s3_bucket_lifecycle_configuration,
    S3BucketLogging => s3_bucket_logging,
    S3BucketPolicy => s3_bucket_policy,
    DynamodbTable => dynamodb_table,
    Vpc => vpc,
    Subnet => subnet,
    InternetGateway => internet_gateway,
    RouteTable => route_table,
    Route => route,
    RouteTableAssociation => route_table_association,
    Eip => eip,
    NatGateway => nat_gateway,
    DefaultSecurityGroup => default_security_group,
    VpcEndpoint => vpc_endpoint,
    FlowLog => flow_log,
    IamRole => iam_role,
    IamRolePolicy => iam_role_policy,
    IamPolicy => iam_policy,
    IamRolePolicyAttachment => iam_role_policy_attachment,
    IamInstanceProfile => iam_instance_profile,
}

impl AwsProvider {
    /// `read_many` for a kind named by its string (the survey confirms absences with it).
    pub(crate) async fn read_many_of(
        &self,
        kind: &str,
        object_ids: &[String],
    ) -> Result<BTreeMap<String, Observed>, ProviderError> {
        self.read_many_kind(Kind::supported(kind)?, object_ids)
            .await
    }
}

impl Kind {
    fn of(kind: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.name() == kind)
    }

    fn supported(kind: &str) -> Result<Kind, ProviderError> {
        Kind::of(kind).ok_or_else(|| unsupported_kind(kind))
    }
}

impl Provider for AwsProvider {
    fn schema(&self, kind: &str) -> Option<KindSchema> {
        Kind::of(kind).map(Kind::schema)
    }

    async fn context(&self) -> Result<BTreeMap<String, String>, ProviderError> {
        let identity = self.identity().await?;
        Ok(BTreeMap::from([(
            "account_id".to_string(),
            identity.account_id.clone(),
        )]))
    }

    async fn read(&self, kind: &str, object_id: &str) -> Result<Option<Observed>, ProviderError> {
        self.read_kind(Kind::supported(kind)?, object_id).await
    }

    async fn read_many(
        &self,
        kind: &str,
        object_ids: &[String],
    ) -> Result<BTreeMap<String, Observed>, ProviderError> {
        self.read_many_kind(Kind::supported(kind)?, object_ids)
            .await
    }

    async fn create(&self, request: &CreateRequest) -> Result<Observed, ProviderError> {
        self.create_kind(Kind::supported(&request.kind)?, &request.attributes)
            .await
    }

    async fn update(
        &self,
        kind: &str,
        object_id: &str,
        attributes: &Attributes,
    ) -> Result<Observed, ProviderError> {
        self.update_kind(Kind::supported(kind)?, object_id, attributes)
            .await
    }

    async fn delete(&self, kind: &str, object_id: &str) -> Result<(), ProviderError> {
        self.delete_kind(Kind::supported(kind)?, object_id).await
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
            Kind::VpcEndpoint => vpc_endpoint::find(self, lookup).await,
            Kind::FlowLog => flow_log::find(self, lookup).await,
            // IAM names are unique in the account: found by name, adopted only with matching tags.
            Kind::IamRole => iam_role::find(self, lookup).await,
            Kind::IamPolicy => iam_policy::find(self, lookup).await,
            Kind::IamInstanceProfile => iam_instance_profile::find(self, lookup).await,
            // Untagged, and putting or attaching them again is harmless: never adopted (the
            // inline policy's `name` alone is not its `ROLE:NAME` id).
            Kind::IamRolePolicy | Kind::IamRolePolicyAttachment => Ok(None),
            // Routes and associations take no tags; every other kind's object id is its
            // deterministic name.
            kind => match &lookup.name {
                Some(name) => self.read_kind(kind, name).await,
                None => Ok(None),
            },
        }
    }

    /// What brickstack's `find` adopts only with brickstack's tags, found as a quickstart or
    /// another tool made it (docs/import.md): EC2 objects by their `Name` tag and place (a
    /// subnet by VPC and CIDR block, the VPC's default security group, its gateway), roles by
    /// name, routes, inline policies and attachments by the id the desired attributes make.
    async fn discover(
        &self,
        kind: &str,
        desired: &Attributes,
        lookup: &ObjectLookup,
    ) -> Result<Option<Observed>, ProviderError> {
        let kind = Kind::supported(kind)?;
        if let Some(found) = self.find(kind.name(), lookup).await? {
            return Ok(Some(found));
        }
        match kind {
            Kind::Vpc => vpc::discover(self, desired, lookup).await,
            Kind::Subnet => subnet::discover(self, desired, lookup).await,
            Kind::DefaultSecurityGroup => {
                default_security_group::discover(self, desired, lookup).await
            }
            Kind::InternetGateway => internet_gateway::discover(self, desired, lookup).await,
            Kind::RouteTable => route_table::discover(self, desired, lookup).await,
            Kind::RouteTableAssociation => route_table_association::discover(self, desired).await,
            Kind::IamRole => iam_role::discover(self, lookup).await,
            // Their ids are made of desired attributes: read them.
            Kind::Route => route::discover(self, desired).await,
            Kind::IamRolePolicy => iam_role_policy::discover(self, desired).await,
            Kind::IamRolePolicyAttachment => {
                iam_role_policy_attachment::discover(self, desired).await
            }
            _ => Ok(None),
        }
    }

    async fn survey(
        &self,
        environment: &str,
        objects: &[SurveyObject],
    ) -> Result<BTreeMap<SurveyObject, Presence>, ProviderError> {
        self.survey_all(environment, objects).await
    }

    async fn contents(&self, kind: &str, object_id: &str) -> Result<u64, ProviderError> {
        match Kind::supported(kind)? {
            Kind::S3Bucket => s3_bucket::contents(self, object_id).await,
            // Nothing else holds data.
            _ => Ok(0),
        }
    }

    async fn empty(&self, kind: &str, object_id: &str) -> Result<(), ProviderError> {
        match Kind::supported(kind)? {
            Kind::S3Bucket => s3_bucket::empty(self, object_id).await,
            _ => Err(ProviderError::new(
                brickstack_provider::ErrorClass::Fatal,
                "NothingToEmpty",
                format!("kind `{kind}` holds no data to remove (`{object_id}`)"),
            )),
        }
    }
}
