//! [`PostgresCheck`]: does PostgreSQL answer `SELECT 1`?

use super::{CheckConfigError, DEFAULT_TIMEOUT, error_chain, human_duration, slow};
use crate::duration::millis;
use crate::registry::{Check, CheckFuture, ComponentHealth};
use serde_json::json;
use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{Instant, timeout_at};
use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls};

type ClientHandle = Box<dyn Deref<Target = Client> + Send>;
type GetClient = dyn Fn() -> Pin<Box<dyn Future<Output = Result<ClientHandle, String>> + Send>> + Send + Sync;

enum Source {
    /// Open a fresh connection with this configuration for each check.
    Connect(Box<Config>),
    /// Ask the caller for a client (a shared one, or one from a pool).
    Provided(Arc<GetClient>),
}

/// Runs `SELECT 1` against PostgreSQL with tokio-postgres: Healthy when it answers,
/// Degraded when it answers slower than [`degraded_after`](Self::degraded_after),
/// Unhealthy with a readable message otherwise (refused, authentication failed, database
/// missing, timed out).
///
/// By default each check opens a fresh connection (so a server that stops accepting
/// connections is caught) and closes it afterwards. To check over the service's own
/// client or pool instead, use [`with_client`](Self::with_client).
///
/// **TLS is not supported yet**: connections are made with `NoTls`, so `sslmode=require`
/// fails with a message saying so; the default `sslmode=prefer` connects in plain text.
///
/// Messages name the server as `postgres://USER@HOST:PORT/DBNAME`, built from the
/// configuration's parts: the password never appears in a message or in the metadata.
///
/// Metadata: `target`, `latency_ms`, `query_ms`, and on a fresh connection `connect_ms`
/// and `server_version` (as the server reported it when connecting).
///
/// ```
/// use std::time::Duration;
/// use vitalcheck::checks::PostgresCheck;
///
/// let check = PostgresCheck::new("postgres://app:s3cret@db.internal:5432/orders")
///     .unwrap()
///     .degraded_after(Duration::from_millis(100));
/// assert_eq!(check.target(), "postgres://app@db.internal:5432/orders");
/// let check = PostgresCheck::new("host=127.0.0.1 user=postgres dbname=test").unwrap();
/// assert_eq!(check.target(), "postgres://postgres@127.0.0.1:5432/test");
/// ```
pub struct PostgresCheck {
    source: Source,
    target: String,
    timeout: Duration,
    degraded_after: Option<Duration>,
}

impl fmt::Debug for PostgresCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresCheck")
            .field("target", &self.target)
            .field("timeout", &self.timeout)
            .field("degraded_after", &self.degraded_after)
            .finish_non_exhaustive()
    }
}

impl PostgresCheck {
    /// A check opening a fresh connection from a URL (`postgres://user:pass@host/db`) or a
    /// key-value string (`host=… user=… dbname=…`), as tokio-postgres parses them.
    pub fn new(config_or_url: &str) -> Result<Self, CheckConfigError> {
        let config: Config = config_or_url.parse().map_err(|e: tokio_postgres::Error| {
            // tokio-postgres' parse errors name the option, never its value.
            CheckConfigError::new("postgres", error_chain(&e))
        })?;
        Ok(Self::from_config(config))
    }

    /// A check opening a fresh connection with `config`.
    pub fn from_config(config: Config) -> Self {
        let target = describe(&config);
        PostgresCheck {
            source: Source::Connect(Box::new(config)),
            target,
            timeout: DEFAULT_TIMEOUT,
            degraded_after: None,
        }
    }

    /// A check running `SELECT 1` on a client that `get` provides: a shared
    /// [`Client`] (as `Arc<Client>`), or a pooled one (any handle that derefs to a
    /// `Client`; wrap a pool's object in a newtype that does). An error from `get` makes
    /// the check Unhealthy with its text, so it must not hold a password.
    ///
    /// ```no_run
    /// use std::sync::Arc;
    /// use vitalcheck::checks::PostgresCheck;
    ///
    /// # async fn demo() -> Result<(), tokio_postgres::Error> {
    /// let (client, connection) = tokio_postgres::connect("host=db user=app", tokio_postgres::NoTls).await?;
    /// tokio::spawn(connection);
    /// let client = Arc::new(client);
    /// let check = PostgresCheck::with_client(move || {
    ///     let client = Arc::clone(&client);
    ///     async move { Ok::<_, std::convert::Infallible>(client) }
    /// });
    /// # let _ = check;
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_client<F, Fut, C, E>(get: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<C, E>> + Send + 'static,
        C: Deref<Target = Client> + Send + 'static,
        E: fmt::Display,
    {
        let get: Arc<GetClient> = Arc::new(move || {
            let fut = get();
            Box::pin(async move { fut.await.map(|c| Box::new(c) as ClientHandle).map_err(|e| e.to_string()) })
        });
        PostgresCheck {
            source: Source::Provided(get),
            target: "postgres (provided client)".to_string(),
            timeout: DEFAULT_TIMEOUT,
            degraded_after: None,
        }
    }

    /// The check's own timeout for connecting and querying together (default
    /// [`DEFAULT_TIMEOUT`]). Keep it under the timeout the check is registered with.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Reports Degraded when `SELECT 1` takes longer than `limit`.
    pub fn degraded_after(mut self, limit: Duration) -> Self {
        self.degraded_after = Some(limit);
        self
    }

    /// Names the server in messages (default: `postgres://USER@HOST:PORT/DBNAME`, or
    /// `postgres (provided client)`). Must not hold a password.
    pub fn with_target_name(mut self, name: impl Into<String>) -> Self {
        self.target = name.into();
        self
    }

    /// The server as named in messages and metadata (no password).
    pub fn target(&self) -> &str {
        &self.target
    }

    async fn run(&self) -> ComponentHealth {
        let start = Instant::now();
        let deadline = start + self.timeout;
        let mut metadata = serde_json::Map::new();
        metadata.insert("target".into(), json!(self.target));
        let result = match &self.source {
            Source::Connect(config) => self.run_fresh(config, deadline, &mut metadata).await,
            Source::Provided(get) => match timeout_at(deadline, get()).await {
                Err(_) => Err(format!("no client within {}", human_duration(self.timeout))),
                Ok(Err(e)) => Err(format!("cannot get a client: {e}")),
                Ok(Ok(client)) => self.select_one(&client, deadline, &mut metadata).await,
            },
        };
        metadata.insert("latency_ms".into(), json!(millis(start.elapsed())));
        let health = match result {
            Ok(took) => match slow("SELECT 1", took, self.degraded_after) {
                Some(message) => ComponentHealth::degraded(message),
                None => ComponentHealth::healthy().with_message(format!("SELECT 1 in {}", human_duration(took))),
            },
            Err(why) => ComponentHealth::unhealthy(format!("{}: {why}", self.target)),
        };
        health.with_metadata(metadata.into())
    }

    /// Connects, reads the server version, runs `SELECT 1`, and closes the connection.
    async fn run_fresh(
        &self,
        config: &Config,
        deadline: Instant,
        metadata: &mut serde_json::Map<String, serde_json::Value>,
    ) -> Result<Duration, String> {
        let connect_start = Instant::now();
        let mut config = config.clone();
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(self.timeout);
        }
        let (client, connection) = match timeout_at(deadline, config.connect(NoTls)).await {
            Err(_) => return Err(format!("timed out connecting after {}", human_duration(self.timeout))),
            Ok(Err(e)) => return Err(format!("cannot connect: {}", error_chain(&e))),
            Ok(Ok(pair)) => pair,
        };
        metadata.insert("connect_ms".into(), json!(millis(connect_start.elapsed())));
        if let Some(version) = connection.parameter("server_version") {
            metadata.insert("server_version".into(), json!(version));
        }
        // The connection task says goodbye to the server and ends once the client is
        // dropped at the end of this call (or when this future is cancelled).
        tokio::spawn(connection);
        self.select_one(&client, deadline, metadata).await
    }

    /// Runs `SELECT 1` before `deadline`; returns how long it took.
    async fn select_one(
        &self,
        client: &Client,
        deadline: Instant,
        metadata: &mut serde_json::Map<String, serde_json::Value>,
    ) -> Result<Duration, String> {
        let start = Instant::now();
        let row = match timeout_at(deadline, client.query_one("SELECT 1", &[])).await {
            Err(_) => return Err(format!("SELECT 1 timed out (check timeout {})", human_duration(self.timeout))),
            Ok(Err(e)) => return Err(format!("SELECT 1 failed: {}", error_chain(&e))),
            Ok(Ok(row)) => row,
        };
        let took = start.elapsed();
        metadata.insert("query_ms".into(), json!(millis(took)));
        match row.try_get::<_, i32>(0) {
            Ok(1) => Ok(took),
            Ok(other) => Err(format!("SELECT 1 returned {other}")),
            Err(e) => Err(format!("SELECT 1 returned an unexpected row: {}", error_chain(&e))),
        }
    }
}

impl Check for PostgresCheck {
    fn check(&self) -> CheckFuture<'_> {
        Box::pin(self.run())
    }
}

/// `postgres://USER@HOST:PORT[,HOST:PORT…]/DBNAME`, from the parts (never the password).
fn describe(config: &Config) -> String {
    let ports = config.get_ports();
    let port_of = |i: usize| ports.get(i).or_else(|| ports.first()).copied().unwrap_or(5432);
    let mut hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| match host {
            Host::Tcp(name) if name.contains(':') => format!("[{name}]:{}", port_of(i)),
            Host::Tcp(name) => format!("{name}:{}", port_of(i)),
            Host::Unix(path) => format!("{}:{}", path.display(), port_of(i)),
        })
        .collect();
    if hosts.is_empty() {
        hosts = config.get_hostaddrs().iter().enumerate().map(|(i, ip)| format!("{ip}:{}", port_of(i))).collect();
    }
    let user = config.get_user().map(|u| format!("{u}@")).unwrap_or_default();
    let db = config.get_dbname().unwrap_or_default();
    format!("postgres://{user}{}/{db}", hosts.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_names_never_hold_the_password() {
        let check = PostgresCheck::new("postgresql://admin:hunter2@db1:6543,db2/app").unwrap();
        assert_eq!(check.target(), "postgres://admin@db1:6543,db2:5432/app");
        let check = PostgresCheck::new("host=::1 port=5433 user=u password='hunter2' dbname=d").unwrap();
        assert_eq!(check.target(), "postgres://u@[::1]:5433/d");
        assert!(!format!("{check:?}").contains("hunter2"));
    }

    #[test]
    fn bad_configuration_is_rejected_without_the_value() {
        let err = PostgresCheck::new("host=h port=hunter2").unwrap_err();
        assert_eq!(err.check(), "postgres");
        assert!(err.to_string().contains("port"), "{err}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
