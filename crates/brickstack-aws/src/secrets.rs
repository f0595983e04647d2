//! The secret store on AWS: SSM `SecureString` parameters encrypted under a KMS key. Writes
//! overwrite (a new version); tags go on with a second call, since SSM refuses tags together with
//! `Overwrite`. Describing never decrypts: `DescribeParameters` and `ListTagsForResource` only; `read`
//! (`GetParameter` with decryption) is for credentials brickstack is given, never for values it minted.

use aws_sdk_ssm::types::{ParameterStringFilter, ParameterType, ResourceTypeForTagging, Tag};
use brickstack_provider::{ProviderError, SecretMetadata, SecretStore, SecretValue, SecretWrite};

use crate::classify::{absent_if_not_found, classify, done_if_not_found, invalid_input};
use crate::provider::AwsProvider;

const WHAT: &str = "SSM parameter";

impl SecretStore for AwsProvider {
    async fn put(&self, secret: &SecretWrite<'_>) -> Result<SecretMetadata, ProviderError> {
        let ssm = &self.clients().ssm;
        let put = ssm
            .put_parameter()
            .name(secret.name)
            .value(secret.value.expose())
            .r#type(ParameterType::SecureString)
            .key_id(secret.kms_key_id)
            .description(secret.description)
            .overwrite(true)
            .send()
            .await
            .map_err(|e| classify("ssm:PutParameter", &e))?;
        if !secret.tags.is_empty() {
            let tags = secret
                .tags
                .iter()
                .map(|(k, v)| {
                    Tag::builder()
                        .key(k)
                        .value(v)
                        .build()
                        .map_err(|e| invalid_input(WHAT, e))
                })
                .collect::<Result<Vec<Tag>, ProviderError>>()?;
            ssm.add_tags_to_resource()
                .resource_type(ResourceTypeForTagging::Parameter)
                .resource_id(secret.name)
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(|e| classify("ssm:AddTagsToResource", &e))?;
        }
        Ok(SecretMetadata {
            name: secret.name.to_string(),
            version: put.version(),
            kms_key_id: Some(secret.kms_key_id.to_string()),
            tags: secret.tags.clone(),
        })
    }

    async fn describe(&self, name: &str) -> Result<Option<SecretMetadata>, ProviderError> {
        let ssm = &self.clients().ssm;
        let filter = ParameterStringFilter::builder()
            .key("Name")
            .option("Equals")
            .values(name)
            .build()
            .map_err(|e| invalid_input(WHAT, e))?;
        let described = ssm
            .describe_parameters()
            .parameter_filters(filter)
            .send()
            .await
            .map_err(|e| classify("ssm:DescribeParameters", &e))?;
        let Some(parameter) = described
            .parameters()
            .iter()
            .find(|p| p.name() == Some(name))
        else {
            return Ok(None);
        };
        let tags = match ssm
            .list_tags_for_resource()
            .resource_type(ResourceTypeForTagging::Parameter)
            .resource_id(name)
            .send()
            .await
        {
            Ok(out) => out
                .tag_list()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
            // Deleted between the calls.
            Err(e) => return absent_if_not_found(classify("ssm:ListTagsForResource", &e)),
        };
        Ok(Some(SecretMetadata {
            name: name.to_string(),
            version: parameter.version(),
            kms_key_id: parameter.key_id().map(str::to_string),
            tags,
        }))
    }

    async fn read(&self, name: &str) -> Result<Option<SecretValue>, ProviderError> {
        match self
            .clients()
            .ssm
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
        {
            Ok(out) => Ok(out
                .parameter()
                .and_then(|p| p.value())
                .map(SecretValue::new)),
            Err(e) => absent_if_not_found(classify("ssm:GetParameter", &e)),
        }
    }

    async fn delete(&self, name: &str) -> Result<(), ProviderError> {
        match self
            .clients()
            .ssm
            .delete_parameter()
            .name(name)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => done_if_not_found(classify("ssm:DeleteParameter", &e)),
        }
    }
}
