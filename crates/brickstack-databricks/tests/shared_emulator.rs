//! The shared workspace-API scenarios (`tests/shared/`) against brickstack's own Databricks
//! emulator, reached as a deployment reaches it (a workspace made through the account API, OAuth
//! at the workspace): the same functions pass against minilake (`shared_minilake.rs`), so the
//! emulator agrees with an independent implementation. Then the identity kinds' provider-level
//! lifecycles, which minilake cannot serve (no account API, no token management).

mod emulator;
mod shared;

use std::sync::Arc;

use brickstack_provider::memory::MemorySecrets;
use emulator::EmulatorWorkspace;

macro_rules! against_the_emulator {
    ($($scenario:ident),* $(,)?) => {
        mod client {
            use super::*;
            $(
                #[tokio::test]
                async fn $scenario() {
                    let ws = EmulatorWorkspace::start().await;
                    shared::$scenario(&ws.client()).await;
                }
            )*
        }
    };
}

against_the_emulator! {
    me_identifies_the_caller,
    scim_users_round_trip,
    scim_groups_round_trip,
    scim_service_principals_round_trip,
    scim_lists_page_through_total_results,
    tokens_round_trip,
    instance_profiles_round_trip,
    token_permissions_round_trip,
    secrets_round_trip,
}

macro_rules! kinds_against_the_emulator {
    ($($lifecycle:ident),* $(,)?) => {
        mod kinds {
            use super::*;
            $(
                #[tokio::test]
                async fn $lifecycle() {
                    let ws = EmulatorWorkspace::start().await;
                    let p = ws.provider(MemorySecrets::new());
                    shared::kinds::$lifecycle(&p, &ws.url).await;
                }
            )*
        }
    };
}

kinds_against_the_emulator! {
    service_principal_lifecycle,
    group_lifecycle,
    group_member_lifecycle,
    instance_profile_and_group_roles_lifecycle,
    token_permissions_lifecycle,
    secret_scope_and_acl_lifecycle,
}

#[tokio::test]
async fn token_lifecycle() {
    let ws = EmulatorWorkspace::start().await;
    let secrets = Arc::new(MemorySecrets::new());
    let p = ws.provider(shared::kinds::SharedSecrets(secrets.clone()));
    shared::kinds::token_lifecycle(&p, &secrets, &ws.url).await;
}

#[tokio::test]
async fn obo_token_lifecycle() {
    let ws = EmulatorWorkspace::start().await;
    let secrets = Arc::new(MemorySecrets::new());
    let p = ws.provider(shared::kinds::SharedSecrets(secrets.clone()));
    shared::kinds::obo_token_lifecycle(&p, &secrets, &ws.url).await;
}
