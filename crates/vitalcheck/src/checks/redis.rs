//! [`RedisCheck`]: does Redis answer `PING` with `PONG`?

use super::{CheckConfigError, DEFAULT_TIMEOUT, error_chain, human_duration, slow};
use crate::duration::millis;
use crate::redact::{REDACTED, redact_str, redact_url};
use crate::registry::{Check, CheckFuture, ComponentHealth};
use redis::AsyncConnectionConfig;
use serde_json::json;
use std::fmt;
use std::time::Duration;
use tokio::time::{Instant, timeout_at};

/// Sends `PING` to Redis on a fresh connection (with AUTH and the database from the URL)
/// and expects `PONG`: Healthy when it comes, Degraded when it comes slower than
/// [`degraded_after`](Self::degraded_after), Unhealthy with a readable message otherwise.
///
/// URLs: `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]` and `redis+unix:///path.sock`.
/// **TLS (`rediss://`) is not supported yet.** Messages and metadata show the URL with the
/// password replaced by `***`.
///
/// Metadata: `url` (redacted), `latency_ms`.
///
/// ```
/// use vitalcheck::checks::RedisCheck;
///
/// let check = RedisCheck::new("redis://:s3cret@cache.internal:6379/2").unwrap();
/// assert_eq!(check.url(), "redis://:***@cache.internal:6379/2");
/// assert!(RedisCheck::new("http://cache:6379").is_err());
/// ```
#[derive(Clone)]
pub struct RedisCheck {
    client: redis::Client,
    url: String,
    password: Option<String>,
    timeout: Duration,
    degraded_after: Option<Duration>,
}

impl fmt::Debug for RedisCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCheck")
            .field("url", &self.url)
            .field("timeout", &self.timeout)
            .field("degraded_after", &self.degraded_after)
            .finish_non_exhaustive()
    }
}

impl RedisCheck {
    /// A check of the server at `url`.
    pub fn new(url: &str) -> Result<Self, CheckConfigError> {
        let parsed = url::Url::parse(url)
            .map_err(|e| CheckConfigError::new("redis", format!("{:?} is not a valid URL: {e}", redact_str(url))))?;
        let shown = redact_url(&parsed);
        let client = redis::Client::open(parsed.as_str()).map_err(|e| {
            CheckConfigError::new("redis", format!("{shown:?}: {}", scrub(&e.to_string(), parsed.password())))
        })?;
        let password = parsed.password().filter(|p| !p.is_empty()).map(str::to_string);
        Ok(RedisCheck { client, url: shown, password, timeout: DEFAULT_TIMEOUT, degraded_after: None })
    }

    /// The check's own timeout for connecting and `PING` together (default
    /// [`DEFAULT_TIMEOUT`]). Keep it under the timeout the check is registered with.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Reports Degraded when connecting and `PING` take longer than `limit`.
    pub fn degraded_after(mut self, limit: Duration) -> Self {
        self.degraded_after = Some(limit);
        self
    }

    /// The URL as shown in messages and metadata (password redacted).
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn run(&self) -> ComponentHealth {
        let start = Instant::now();
        let result = self.ping(start + self.timeout).await;
        let latency = start.elapsed();
        let metadata = json!({ "url": self.url, "latency_ms": millis(latency) });
        let health = match result {
            Ok(()) => match slow("PING", latency, self.degraded_after) {
                Some(message) => ComponentHealth::degraded(message),
                None => ComponentHealth::healthy().with_message(format!("PONG in {}", human_duration(latency))),
            },
            Err(why) => ComponentHealth::unhealthy(format!("{}: {}", self.url, scrub(&why, self.password.as_deref()))),
        };
        health.with_metadata(metadata)
    }

    async fn ping(&self, deadline: Instant) -> Result<(), String> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout));
        let connect = self.client.get_multiplexed_async_connection_with_config(&config);
        let mut conn = match timeout_at(deadline, connect).await {
            Err(_) => return Err(format!("timed out connecting after {}", human_duration(self.timeout))),
            Ok(Err(e)) => return Err(format!("cannot connect: {}", error_chain(&e))),
            Ok(Ok(conn)) => conn,
        };
        let reply = timeout_at(deadline, redis::cmd("PING").query_async::<String>(&mut conn)).await;
        match reply {
            Err(_) => Err(format!("PING timed out (check timeout {})", human_duration(self.timeout))),
            Ok(Err(e)) => Err(format!("PING failed: {}", error_chain(&e))),
            Ok(Ok(reply)) if reply == "PONG" => Ok(()),
            Ok(Ok(reply)) => Err(format!("PING answered {:?}, expected \"PONG\"", shorten(&reply))),
        }
    }
}

impl Check for RedisCheck {
    fn check(&self) -> CheckFuture<'_> {
        Box::pin(self.run())
    }
}

/// `text` with any occurrence of `password` replaced: the redis crate's errors do not
/// quote it, and this makes sure of it.
fn scrub(text: &str, password: Option<&str>) -> String {
    match password.filter(|p| !p.is_empty()) {
        Some(password) => text.replace(password, REDACTED),
        None => text.to_string(),
    }
}

fn shorten(reply: &str) -> String {
    reply.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_is_redacted_in_url_and_debug() {
        let check = RedisCheck::new("redis://user:hunter2@127.0.0.1:6379/0").unwrap();
        assert_eq!(check.url(), "redis://user:***@127.0.0.1:6379/0");
        assert!(!format!("{check:?}").contains("hunter2"));
    }

    #[test]
    fn bad_urls_are_rejected_without_the_password() {
        let err = RedisCheck::new("redis://u:hunter2@h:99999/").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let err = RedisCheck::new("http://u:hunter2@h/").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert_eq!(err.check(), "redis");
    }

    #[test]
    fn scrub_hides_the_password() {
        assert_eq!(scrub("auth hunter2 failed", Some("hunter2")), "auth *** failed");
        assert_eq!(scrub("x", Some("")), "x");
    }
}
