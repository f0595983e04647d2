//! A Slack incoming webhook: one POST of `{"text": ...}` to a URL that is itself the secret
//! (whoever has it can post to the channel), so the URL travels as a [`SecretValue`] and never
//! appears in an error, a log line or a `Debug`.
//!
//! A message reaches a person: posting it twice is worse than not knowing whether it arrived.
//! So a post is sent again only when the webhook surely did not take it: the connection was
//! refused (nothing was sent), or Slack answered `429` (rate limited, not posted). A timeout, a
//! dropped connection or a 5xx may hide a delivered message: the error says so
//! ([`NotifyError::maybe_delivered`]) and nothing is sent again.

use std::fmt;
use std::time::Duration;

use brickstack_provider::{SecretStore, SecretValue};
use serde::Serialize;

use crate::error::NotifyError;

/// How a post is made: timeouts and how often a refused connection or a rate limit is tried again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostOptions {
    /// Connecting to the webhook's host.
    pub connect_timeout: Duration,
    /// The whole request, answer included.
    pub timeout: Duration,
    /// Sends at most this many times, counting the first (only after a refused connection or a
    /// `429`).
    pub attempts: u32,
    /// The wait before the n-th resend is n × this...
    pub backoff: Duration,
    /// ...and a `Retry-After` longer than this ends the tries instead of waiting.
    pub max_retry_after: Duration,
}

impl Default for PostOptions {
    fn default() -> Self {
        PostOptions {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(15),
            attempts: 4,
            backoff: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

/// A Slack incoming webhook to post to.
pub struct SlackWebhook {
    url: SecretValue,
    /// Where the URL came from, to name in errors instead of the URL.
    source: String,
    http: reqwest::Client,
    options: PostOptions,
}

impl fmt::Debug for SlackWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlackWebhook")
            .field("url", &self.url)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Message<'a> {
    text: &'a str,
}

impl SlackWebhook {
    /// The webhook at `url`; `source` names where the URL came from (an SSM parameter's name),
    /// for errors. The URL must be `https://…` or `http://…`.
    pub fn new(
        url: SecretValue,
        source: &str,
        options: PostOptions,
    ) -> Result<SlackWebhook, NotifyError> {
        let scheme_ok = ["https://", "http://"].iter().any(|scheme| {
            url.expose()
                .get(..scheme.len())
                .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
                && url.expose().len() > scheme.len()
        });
        if !scheme_ok {
            return Err(NotifyError::InvalidUrl {
                source_name: source.to_string(),
            });
        }
        let http = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.timeout)
            .user_agent(concat!("brickstack/", env!("CARGO_PKG_VERSION")))
            // Slack answers directly; a redirect would carry the message somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| NotifyError::Client {
                reason: e.without_url().to_string(),
            })?;
        Ok(SlackWebhook {
            url,
            source: source.to_string(),
            http,
            options,
        })
    }

    /// The webhook whose URL the secret store holds under `parameter`.
    pub async fn from_parameter(
        secrets: &impl SecretStore,
        parameter: &str,
        options: PostOptions,
    ) -> Result<SlackWebhook, NotifyError> {
        let url = secrets
            .read(parameter)
            .await
            .map_err(|error| NotifyError::SecretStore {
                parameter: parameter.to_string(),
                error,
            })?
            .ok_or_else(|| NotifyError::MissingParameter {
                parameter: parameter.to_string(),
            })?;
        SlackWebhook::new(url, parameter, options)
    }

    /// Posts `text` once. Sent again only after a refused connection or a `429`, which prove
    /// the message was not posted; any other failure is returned as it is.
    pub async fn post(&self, text: &str) -> Result<(), NotifyError> {
        let mut attempt: u32 = 1;
        loop {
            let wait = match self.post_once(text).await {
                Ok(()) => return Ok(()),
                Err(Refused::Connection(reason)) => {
                    if attempt >= self.options.attempts {
                        return Err(NotifyError::Unreachable {
                            source_name: self.source.clone(),
                            attempts: attempt,
                            reason,
                        });
                    }
                    self.options.backoff.saturating_mul(attempt)
                }
                Err(Refused::RateLimited { retry_after, body }) => {
                    let wait = retry_after.unwrap_or(self.options.backoff.saturating_mul(attempt));
                    if attempt >= self.options.attempts || wait > self.options.max_retry_after {
                        return Err(NotifyError::Rejected {
                            source_name: self.source.clone(),
                            status: 429,
                            body,
                        });
                    }
                    wait
                }
                Err(Refused::Final(error)) => return Err(error),
            };
            tracing::debug!(source = %self.source, attempt, ?wait, "webhook not reached; posting again");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    async fn post_once(&self, text: &str) -> Result<(), Refused> {
        let answer = self
            .http
            .post(self.url.expose())
            .json(&Message { text })
            .send()
            .await;
        let response = match answer {
            Ok(response) => response,
            // Nothing was sent: the connection (TCP or TLS) was never made.
            Err(e) if e.is_connect() => {
                return Err(Refused::Connection(self.describe(e)));
            }
            Err(e) => {
                return Err(Refused::Final(NotifyError::Transport {
                    source_name: self.source.clone(),
                    reason: self.describe(e),
                }));
            }
        };
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = excerpt(
            &response.text().await.unwrap_or_default(),
            self.url.expose(),
        );
        if status.as_u16() == 429 {
            return Err(Refused::RateLimited { retry_after, body });
        }
        Err(Refused::Final(NotifyError::Rejected {
            source_name: self.source.clone(),
            status: status.as_u16(),
            body,
        }))
    }

    /// A transport error's text without the URL (reqwest prints it by default).
    fn describe(&self, e: reqwest::Error) -> String {
        let timed_out = e.is_timeout();
        let e = e.without_url();
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        if timed_out {
            text.push_str(" (timed out)");
        }
        scrub(&text, self.url.expose())
    }
}

/// Why one send did not post.
enum Refused {
    /// The connection was refused or could not be made: nothing was sent.
    Connection(String),
    /// `429`: Slack did not post it.
    RateLimited {
        retry_after: Option<Duration>,
        body: String,
    },
    /// Anything else: not sent again.
    Final(NotifyError),
}

/// `text` with every occurrence of the URL (and of its path, the secret part) removed.
fn scrub(text: &str, url: &str) -> String {
    let mut text = text.replace(url, "<webhook URL>");
    if let Some(path_start) = url
        .find("://")
        .and_then(|i| url[i + 3..].find('/').map(|j| i + 3 + j))
    {
        let path = &url[path_start..];
        if path.len() > 1 {
            text = text.replace(path, "/<redacted>");
        }
    }
    text
}

/// The first line of an answer's body, short, without the URL: Slack says what is wrong there
/// (`invalid_payload`, `no_service`, `channel_is_archived`).
fn excerpt(body: &str, url: &str) -> String {
    const MAX: usize = 200;
    let line = body.lines().next().unwrap_or("").trim();
    let mut cut: String = line.chars().take(MAX).collect();
    if line.chars().count() > MAX {
        cut.push('…');
    }
    scrub(&cut, url)
}

/// Posts `text` to the webhook whose URL the secret store holds under `parameter`: the alarm
/// the engine raises when a person's apply fails. Default [`PostOptions`].
pub async fn post_alarm(
    secrets: &impl SecretStore,
    parameter: &str,
    text: &str,
) -> Result<(), NotifyError> {
    SlackWebhook::from_parameter(secrets, parameter, PostOptions::default())
        .await?
        .post(text)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_and_its_path_are_scrubbed() {
        let url = "https://hooks.slack.com/services/T000/B000/XXXXSECRET";
        let text = format!("error sending request for url ({url}): /services/T000/B000/XXXXSECRET");
        let clean = scrub(&text, url);
        assert!(!clean.contains("XXXXSECRET"), "{clean}");
        assert!(clean.contains("<webhook URL>"), "{clean}");
    }

    #[test]
    fn only_http_urls_are_webhooks_and_the_error_never_shows_them() {
        for bad in [
            "",
            "ftp://x/SECRET",
            "hooks.slack.com/services/SECRET",
            "https://",
        ] {
            let e = SlackWebhook::new(SecretValue::new(bad), "/p/hook", PostOptions::default())
                .unwrap_err();
            let shown = format!("{e} {e:?}");
            assert!(shown.contains("/p/hook"), "{shown}");
            assert!(!shown.contains("SECRET"), "{shown}");
        }
        let ok = SlackWebhook::new(
            SecretValue::new("https://hooks.slack.com/services/SECRET"),
            "/p/hook",
            PostOptions::default(),
        )
        .unwrap();
        assert!(!format!("{ok:?}").contains("SECRET"));
    }

    #[test]
    fn a_body_excerpt_is_one_short_line() {
        let long = "x".repeat(500);
        assert_eq!(
            excerpt(&format!("{long}\nmore"), "http://u/p")
                .chars()
                .count(),
            201
        );
        assert_eq!(excerpt("no_service\n", "http://u/p"), "no_service");
    }
}
