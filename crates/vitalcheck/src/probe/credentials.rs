//! Credentials from a URL's user info, decoded, and their HTTP Basic value (for
//! `Authorization` on http targets and `Proxy-Authorization` / SOCKS5 on proxies). The
//! password is never shown.

use base64::Engine as _;
use http::header::HeaderValue;
use std::fmt;
use url::Url;

/// The user name and password of a URL, percent-decoded. `Debug` hides the password.
#[derive(Clone)]
pub(in crate::probe) struct Credentials {
    pub(in crate::probe) user: Vec<u8>,
    pub(in crate::probe) password: Vec<u8>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials").field("user", &String::from_utf8_lossy(&self.user)).finish_non_exhaustive()
    }
}

impl Credentials {
    /// The credentials in `url`, if it has a user name or a password.
    pub(in crate::probe) fn of(url: &Url) -> Option<Self> {
        if url.username().is_empty() && url.password().is_none() {
            return None;
        }
        Some(Credentials {
            user: percent_decode(url.username()),
            password: percent_decode(url.password().unwrap_or_default()),
        })
    }

    /// `Basic base64(user:password)`, marked sensitive.
    pub(in crate::probe) fn basic(&self) -> Option<HeaderValue> {
        let mut pair = self.user.clone();
        pair.push(b':');
        pair.extend_from_slice(&self.password);
        let encoded = base64::engine::general_purpose::STANDARD.encode(&pair);
        let mut value = HeaderValue::from_str(&format!("Basic {encoded}")).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

/// Decodes `%XX` escapes (URL user info is stored percent-encoded); bad escapes are kept.
pub(in crate::probe) fn percent_decode(s: &str) -> Vec<u8> {
    percent_encoding::percent_decode_str(s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("p%40ss%3A%zz"), b"p@ss:%zz");
    }

    #[test]
    fn credentials_are_decoded_and_hidden_from_debug() {
        let url = Url::parse("http://bob:p%40ss@h:1").unwrap();
        let creds = Credentials::of(&url).unwrap();
        assert_eq!(creds.password, b"p@ss");
        assert!(!format!("{creds:?}").contains("p@ss"));
        let basic = creds.basic().unwrap();
        assert!(basic.is_sensitive());
        assert_eq!(basic, "Basic Ym9iOnBAc3M=");
        assert!(Credentials::of(&Url::parse("http://h:1").unwrap()).is_none());
    }
}
