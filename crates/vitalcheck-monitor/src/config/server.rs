//! `[server]`: where `vitalcheck run` serves its HTTP API, `/metrics` and status page, and
//! the bearer token its admin actions need.
//!
//! ```toml
//! [server]
//! listen = "127.0.0.1:9755"       # the default; "off" serves nothing
//! token = "${VITALCHECK_TOKEN}"   # admin actions (pause, resume, probe now, reload)
//! public = false                  # true: the status page and badges hide what is probed
//! ```

use super::error::FieldPath;
use super::validate::Ctx;
use crate::config::ConfigError;
use serde::Deserialize;
use std::fmt;
use std::net::SocketAddr;

/// Where the HTTP surfaces listen unless `[server] listen` says otherwise: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9755";

/// The shortest token accepted: a guessable token is no protection.
pub const MIN_TOKEN_LEN: usize = 16;

/// `[server]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawServer {
    pub(crate) listen: Option<String>,
    pub(crate) token: Option<String>,
    pub(crate) public: Option<bool>,
}

/// `[server]`: the HTTP API, `/metrics` and the status page of `vitalcheck run`.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The address to listen on; `None` (`listen = "off"`) serves nothing. Default:
    /// [`DEFAULT_LISTEN`], loopback only.
    pub listen: Option<SocketAddr>,
    /// The bearer token admin actions need (`Authorization: Bearer TOKEN`); without one
    /// configured, admin actions always answer 401. Never shown: `Debug` and the
    /// effective config print `***` (or the `${VAR}` it was written with).
    pub token: Option<Token>,
    /// Hide what targets probe (URLs, hosts) on the status page and badges. Default: false.
    pub public: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig { listen: DEFAULT_LISTEN.parse().ok(), token: None, public: false }
    }
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("listen", &self.listen)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("public", &self.public)
            .finish()
    }
}

/// A secret bearer token: compared in constant time, never displayed.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    value: String,
    /// As written in the file when it came from `${VAR}` (shown), else `None` (`***`).
    written: Option<String>,
}

impl Token {
    /// A token from its value (for embedding programs and tests).
    pub fn new(value: impl Into<String>) -> Self {
        Token { value: value.into(), written: None }
    }

    /// Whether `presented` is this token, compared in time that does not depend on where
    /// the first difference is.
    pub fn matches(&self, presented: &str) -> bool {
        let (a, b) = (self.value.as_bytes(), presented.as_bytes());
        let mut diff = a.len() ^ b.len();
        for (i, byte) in a.iter().enumerate() {
            diff |= usize::from(byte ^ b.get(i).copied().unwrap_or(!byte));
        }
        diff == 0
    }

    /// How the effective config shows it: the `${VAR}` it was written with, or `***`.
    pub(crate) fn shown(&self) -> String {
        self.written.clone().unwrap_or_else(|| "***".into())
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

/// Validates `[server]`.
pub(crate) fn server(ctx: &Ctx<'_>, raw: &RawServer, at: &FieldPath) -> Result<ServerConfig, ConfigError> {
    let listen = match raw.listen.as_deref().map(str::trim) {
        None => ServerConfig::default().listen,
        Some("off") => None,
        Some(text) => Some(text.parse::<SocketAddr>().map_err(|_| {
            let message = format!(
                "{text:?} is not an address to listen on; expected IP:PORT such as \"{DEFAULT_LISTEN}\" or \
                 \"[::1]:9755\", or \"off\""
            );
            ctx.error(&at.key("listen"), message)
        })?),
    };
    let token = match &raw.token {
        None => None,
        Some(written) => {
            let value = ctx.string(&at.key("token"), written)?;
            if value.value.chars().count() < MIN_TOKEN_LEN {
                let message =
                    format!("must be at least {MIN_TOKEN_LEN} characters long (a guessable token protects nothing)");
                return Err(ctx.error(&at.key("token"), message));
            }
            if value.value.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(ctx.error(&at.key("token"), "must not contain spaces or control characters"));
            }
            Some(Token { value: value.value, written: value.from_env.then(|| written.clone()) })
        }
    };
    Ok(ServerConfig { listen, token, public: raw.public.unwrap_or(false) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_only_themselves() {
        let token = Token::new("0123456789abcdef");
        assert!(token.matches("0123456789abcdef"));
        for other in ["", "0123456789abcde", "0123456789abcdeF", "0123456789abcdef0", "x"] {
            assert!(!token.matches(other), "{other:?}");
        }
        assert_eq!(format!("{token:?}"), "Token(***)");
    }
}
