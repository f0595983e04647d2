//! Messages brickstack posts to people: Slack incoming webhooks whose URLs the secret store
//! holds. `webhook` posts (at most once whenever the message may have arrived); `provider` serves
//! the `brickstack_slack_message` kind, a person's message as a step of the graph; `post_alarm`
//! is the alarm the engine raises when a person's apply fails.

mod error;
mod provider;
mod webhook;

pub use error::NotifyError;
pub use provider::{KIND, NotifyProvider, served_kinds};
pub use webhook::{PostOptions, SlackWebhook, post_alarm};
