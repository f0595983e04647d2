//! The secret store (SSM SecureString under a KMS key) against moto: a value is written
//! encrypted under the given key and tagged, a rewrite is a new version, describing never
//! returns the value, delete is idempotent.

use std::collections::BTreeMap;

use brickstack_aws::AwsProvider;
use brickstack_provider::{SecretStore, SecretValue, SecretWrite};
use brickstack_testkit::unique_name;

use crate::support::{moto_account, ok};

#[tokio::test]
async fn a_secret_is_stored_encrypted_versioned_tagged_and_deleted() {
    let Some(moto) = moto_account("secret_store").await else {
        return;
    };
    let provider = AwsProvider::new(&moto.clients);
    let key = ok("kms:CreateKey", moto.clients.kms.create_key().send().await);
    let key_arn = key
        .key_metadata()
        .and_then(|m| m.arn())
        .expect("a key ARN")
        .to_string();
    let name = format!("/brickstack/{}/databricks/tokens/pat", unique_name("env"));
    let tags = BTreeMap::from([(
        "brickstack:address".to_string(),
        "databricks_token.deployer".to_string(),
    )]);
    let first = SecretValue::new("dapi-first");
    let write = |value| SecretWrite {
        name: &name,
        value,
        kms_key_id: &key_arn,
        description: "deployer token",
        tags: &tags,
    };

    let stored = provider.put(&write(&first)).await.expect("put");
    assert_eq!(stored.version, 1);
    let described = provider
        .describe(&name)
        .await
        .expect("describe")
        .expect("the parameter exists");
    assert_eq!(described, stored);
    assert!(!format!("{described:?}").contains("dapi-first"));

    let parameter = ok(
        "ssm:GetParameter",
        moto.clients
            .ssm
            .get_parameter()
            .name(&name)
            .with_decryption(true)
            .send()
            .await,
    );
    let parameter = parameter.parameter().expect("a parameter");
    assert_eq!(parameter.r#type().map(|t| t.as_str()), Some("SecureString"));
    assert_eq!(parameter.value(), Some("dapi-first"));

    let second = SecretValue::new("dapi-second");
    assert_eq!(provider.put(&write(&second)).await.expect("put").version, 2);

    provider.delete(&name).await.expect("delete");
    assert_eq!(provider.describe(&name).await.expect("describe"), None);
    provider.delete(&name).await.expect("delete again");
}
