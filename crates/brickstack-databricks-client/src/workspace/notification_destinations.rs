//! Notification destinations (`/api/2.0/notification-destinations`): where jobs'
//! `webhook_notifications` go. brickstack makes generic webhooks (the cluster-failure monitor's
//! job-failure endpoint): a URL with an optional user name and password for HTTP Basic auth.
//!
//! The URL and the password are secrets ([`SecretValue`]): sent once, never read back (the API
//! answers only `url_set` / `username_set` / `password_set`, and this client keeps nothing else of
//! a config even from a server that echoes values).

use brickstack_provider::SecretValue;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::WorkspaceClient;
use super::clusters::{null_as_default, open_enum};
use crate::client::error::Error;

const DESTINATIONS: &str = "/api/2.0/notification-destinations";

open_enum! {
    /// `destination_type`.
    pub enum DestinationType {
        Email = "EMAIL",
        MicrosoftTeams = "MICROSOFT_TEAMS",
        Pagerduty = "PAGERDUTY",
        Slack = "SLACK",
        /// A generic webhook.
        Webhook = "WEBHOOK",
    }
}

/// What the API tells of a generic webhook's input-only values: whether each is set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenericWebhookInfo {
    #[serde(default, deserialize_with = "null_as_default")]
    pub url_set: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub username_set: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub password_set: bool,
}

/// `config` of a destination as read (other kinds are not modelled).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestinationConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generic_webhook: Option<GenericWebhookInfo>,
}

/// A destination as `get` (with its config) and `list` (without) report it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationDestination {
    pub id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_type: Option<DestinationType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<DestinationConfig>,
}

/// A generic-webhook destination to create (or the values to change, for an update).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhookDestination {
    pub display_name: String,
    pub url: SecretValue,
    pub username: Option<String>,
    pub password: Option<SecretValue>,
}

impl NewWebhookDestination {
    /// The request body; the only place the secrets are exposed.
    fn body(&self) -> Value {
        let mut hook = Map::new();
        hook.insert("url".into(), json!(self.url.expose()));
        if let Some(user) = &self.username {
            hook.insert("username".into(), json!(user));
        }
        if let Some(password) = &self.password {
            hook.insert("password".into(), json!(password.expose()));
        }
        json!({"display_name": self.display_name, "config": {"generic_webhook": hook}})
    }
}

impl WorkspaceClient {
    /// Creates a generic-webhook destination. A create whose answer was lost is looked up by
    /// display name before it is sent again: give destinations unique names.
    pub async fn create_webhook_destination(
        &self,
        destination: &NewWebhookDestination,
    ) -> Result<NotificationDestination, Error> {
        self.client()
            .create(DESTINATIONS, &destination.body(), || async {
                let found = self
                    .list_notification_destinations()
                    .await?
                    .into_iter()
                    .find(|d| d.display_name == destination.display_name);
                match found {
                    Some(d) => self.get_notification_destination(&d.id).await,
                    None => Ok(None),
                }
            })
            .await
    }

    /// Replaces a webhook destination's name, URL and credentials (PATCH).
    pub async fn update_webhook_destination(
        &self,
        id: &str,
        destination: &NewWebhookDestination,
    ) -> Result<NotificationDestination, Error> {
        self.client()
            .patch(&format!("{DESTINATIONS}/{id}"), &[], &destination.body())
            .await
    }

    /// Every destination of the workspace, all pages (without configs, as the API lists them).
    pub async fn list_notification_destinations(
        &self,
    ) -> Result<Vec<NotificationDestination>, Error> {
        #[derive(Deserialize)]
        struct Page {
            #[serde(default, deserialize_with = "null_as_default")]
            results: Vec<NotificationDestination>,
            #[serde(default)]
            next_page_token: Option<String>,
        }
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let query: Vec<(&str, String)> =
                token.iter().map(|t| ("page_token", t.clone())).collect();
            let page: Page = self.client().get(DESTINATIONS, &query).await?;
            let done = page.results.is_empty();
            all.extend(page.results);
            match page.next_page_token.filter(|t| !t.is_empty()) {
                Some(next) if !done && token.as_ref() != Some(&next) => token = Some(next),
                _ => return Ok(all),
            }
        }
    }

    /// The destination; `None` when it does not exist.
    pub async fn get_notification_destination(
        &self,
        id: &str,
    ) -> Result<Option<NotificationDestination>, Error> {
        match self
            .client()
            .get(&format!("{DESTINATIONS}/{id}"), &[])
            .await
        {
            Ok(d) => Ok(Some(d)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Deletes a destination; one already gone counts as deleted.
    pub async fn delete_notification_destination(&self, id: &str) -> Result<(), Error> {
        match self
            .client()
            .delete::<serde::de::IgnoredAny>(&format!("{DESTINATIONS}/{id}"), &[])
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_go_in_the_body_only_and_are_never_read_back() {
        let new = NewWebhookDestination {
            display_name: "monitor".into(),
            url: SecretValue::new("https://hooks.example.com/T0/secret"),
            username: Some("jobs".into()),
            password: Some(SecretValue::new("pw-42")),
        };
        let debug = format!("{new:?}");
        assert!(
            !debug.contains("secret") && !debug.contains("pw-42"),
            "{debug}"
        );
        assert_eq!(
            new.body(),
            json!({"display_name": "monitor", "config": {"generic_webhook":
                   {"url": "https://hooks.example.com/T0/secret", "username": "jobs", "password": "pw-42"}}})
        );
        // A server that echoes the values (minilake does): nothing of them is kept.
        let read: NotificationDestination = serde_json::from_value(json!({
            "id": "d1", "display_name": "monitor", "destination_type": "GENERIC_WEBHOOK",
            "config": {"generic_webhook": {"url": "https://hooks.example.com/T0/secret", "password": "pw-42"}}
        }))
        .unwrap();
        let shown = format!("{read:?} {}", serde_json::to_string(&read).unwrap());
        assert!(
            !shown.contains("secret") && !shown.contains("pw-42"),
            "{shown}"
        );
        assert_eq!(
            read.destination_type,
            Some(DestinationType::Other("GENERIC_WEBHOOK".into()))
        );
    }
}
