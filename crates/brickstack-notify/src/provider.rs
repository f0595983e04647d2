//! [`NotifyProvider`]: the engine's `Provider` for `brickstack_slack_message`, a message posted
//! once to a Slack incoming webhook.
//!
//! * Attributes: `webhook_parameter` (the secret store's parameter holding the webhook URL,
//!   never the URL), `text`, `cluster_id` (the cluster the message announces, so a replaced
//!   cluster is announced again); computed `id`. The object id is a random UUID: a message has
//!   no id of its own.
//! * Create reads the URL and posts once ([`SlackWebhook::post`]: sent again only when it was
//!   surely not posted).
//! * The kind is `recorded_only`, `at_most_once` and `retain_on_delete` (`KindSchema`): a
//!   message cannot be read back, must never reach a person twice, and cannot be unsent. So
//!   `read` cannot know the text: it reports the message as present with only its `id` (a
//!   posted message stays posted), and the engine keeps the recorded attributes instead of
//!   comparing them. `find` finds nothing (the engine settles a create it lost from the
//!   intent, never by posting again). `delete` forgets (nothing to remove).
//! * A change of `text` or `webhook_parameter` is an update that posts nothing: the message was
//!   sent; rewording the template must not message every person again. A change of
//!   `cluster_id` replaces the message (a new cluster is announced).

use std::collections::BTreeMap;

use brickstack_provider::{
    AttributeBehaviour, Attributes, CreateRequest, ErrorClass, KindSchema, Observed, Presence,
    Provider, ProviderError, SecretStore, SurveyObject,
};
use brickstack_state::ObjectLookup;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::webhook::{PostOptions, SlackWebhook};

/// The kind this provider serves.
pub const KIND: &str = "brickstack_slack_message";

/// The kinds this provider serves (the kind registry's `notify` family must be exactly these).
pub fn served_kinds() -> &'static [&'static str] {
    &[KIND]
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SlackMessage {
    webhook_parameter: String,
    text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cluster_id: Option<String>,
}

impl SlackMessage {
    fn desired(attributes: &Attributes) -> Result<SlackMessage, ProviderError> {
        let message: SlackMessage = serde_json::from_value(Value::Object(attributes.clone()))
            .map_err(|e| invalid_input(e.to_string()))?;
        if message.webhook_parameter.trim().is_empty() {
            return Err(invalid_input("`webhook_parameter` is empty"));
        }
        if message.text.trim().is_empty() {
            return Err(invalid_input("`text` is empty"));
        }
        Ok(message)
    }

    fn observed(&self, object_id: &str) -> Observed {
        let mut attributes = match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            // A struct of strings always serialises to an object.
            _ => Attributes::new(),
        };
        attributes.insert("id".into(), Value::String(object_id.to_string()));
        Observed {
            object_id: object_id.to_string(),
            attributes,
        }
    }
}

fn invalid_input(reason: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(
        ErrorClass::InvalidInput,
        "InvalidAttributes",
        format!("{KIND}: {reason}"),
    )
}

fn unsupported(kind: &str) -> ProviderError {
    ProviderError::new(
        ErrorClass::InvalidInput,
        "UnsupportedKind",
        format!("the notify provider does not serve `{kind}`"),
    )
}

fn check_kind(kind: &str) -> Result<(), ProviderError> {
    if kind == KIND {
        Ok(())
    } else {
        Err(unsupported(kind))
    }
}

/// The schema of `brickstack_slack_message`.
pub fn schema() -> KindSchema {
    KindSchema::new(KIND)
        .attribute("cluster_id", AttributeBehaviour::ForcesReplacement)
        .attribute("id", AttributeBehaviour::Computed)
        .recorded_only()
        .at_most_once()
        .retained_on_delete()
}

/// The provider of messages, reading webhook URLs from `S`.
pub struct NotifyProvider<S> {
    secrets: S,
    options: PostOptions,
}

impl<S> std::fmt::Debug for NotifyProvider<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotifyProvider")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<S: SecretStore> NotifyProvider<S> {
    /// Posts with the default [`PostOptions`].
    pub fn new(secrets: S) -> Self {
        Self::with_options(secrets, PostOptions::default())
    }

    pub fn with_options(secrets: S, options: PostOptions) -> Self {
        NotifyProvider { secrets, options }
    }

    /// The secret store the webhook URLs are read from.
    pub fn secrets(&self) -> &S {
        &self.secrets
    }
}

impl<S: SecretStore> Provider for NotifyProvider<S> {
    fn schema(&self, kind: &str) -> Option<KindSchema> {
        (kind == KIND).then(schema)
    }

    async fn context(&self) -> Result<BTreeMap<String, String>, ProviderError> {
        Ok(BTreeMap::new())
    }

    /// A posted message stays posted, and Slack cannot say what it said: present, with its `id`
    /// only (the kind is `recorded_only`: the engine keeps the recorded attributes).
    async fn read(&self, kind: &str, object_id: &str) -> Result<Option<Observed>, ProviderError> {
        check_kind(kind)?;
        let mut attributes = Attributes::new();
        attributes.insert("id".into(), Value::String(object_id.to_string()));
        Ok(Some(Observed {
            object_id: object_id.to_string(),
            attributes,
        }))
    }

    async fn read_many(
        &self,
        kind: &str,
        object_ids: &[String],
    ) -> Result<BTreeMap<String, Observed>, ProviderError> {
        let mut found = BTreeMap::new();
        for id in object_ids {
            if let Some(o) = self.read(kind, id).await? {
                found.insert(id.clone(), o);
            }
        }
        Ok(found)
    }

    async fn create(&self, request: &CreateRequest) -> Result<Observed, ProviderError> {
        check_kind(&request.kind)?;
        let message = SlackMessage::desired(&request.attributes)?;
        let webhook = SlackWebhook::from_parameter(
            &self.secrets,
            &message.webhook_parameter,
            self.options.clone(),
        )
        .await?;
        webhook.post(&message.text).await.map_err(|e| {
            let mut error = ProviderError::from(e);
            error.message = format!("{}: {}", request.address, error.message);
            error
        })?;
        let object_id = uuid::Uuid::new_v4().to_string();
        Ok(message.observed(&object_id))
    }

    /// Records the new text or parameter and posts nothing: the message was sent.
    async fn update(
        &self,
        kind: &str,
        object_id: &str,
        attributes: &Attributes,
    ) -> Result<Observed, ProviderError> {
        check_kind(kind)?;
        Ok(SlackMessage::desired(attributes)?.observed(object_id))
    }

    /// A message cannot be unsent: nothing to do (the kind is `retain_on_delete`).
    async fn delete(&self, kind: &str, _object_id: &str) -> Result<(), ProviderError> {
        check_kind(kind)
    }

    /// Nothing identifies a posted message; the engine settles a lost create from its intent.
    async fn find(
        &self,
        kind: &str,
        _lookup: &ObjectLookup,
    ) -> Result<Option<Observed>, ProviderError> {
        check_kind(kind)?;
        Ok(None)
    }

    async fn survey(
        &self,
        _environment: &str,
        _objects: &[SurveyObject],
    ) -> Result<BTreeMap<SurveyObject, Presence>, ProviderError> {
        Ok(BTreeMap::new())
    }

    async fn contents(&self, _kind: &str, _object_id: &str) -> Result<u64, ProviderError> {
        Ok(0)
    }
}
