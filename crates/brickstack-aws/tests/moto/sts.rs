//! STS: the per-test moto account is the account the credentials act in.

use crate::support::moto_account;

#[tokio::test]
async fn caller_identity_is_the_per_test_account() {
    let Some(moto) = moto_account("caller_identity_is_the_per_test_account").await else {
        return;
    };
    let account = moto
        .clients
        .caller_account()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(account, moto.account_id);
    assert_ne!(account, "123456789012", "not moto's default account");
}
