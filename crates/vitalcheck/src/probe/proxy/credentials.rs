//! Proxy credentials: the user name and password of the proxy URL, decoded, and the Basic
//! `Proxy-Authorization` value. The password is never shown.

use http::header::HeaderValue;
use std::fmt;
use url::Url;

/// The user name and password of a proxy URL, percent-decoded. `Debug` hides the password.
#[derive(Clone)]
pub(in crate::probe) struct Credentials {
    pub(super) user: Vec<u8>,
    pub(super) password: Vec<u8>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials").field("user", &String::from_utf8_lossy(&self.user)).finish_non_exhaustive()
    }
}

impl Credentials {
    /// The credentials in `url`, if it has a user name or a password.
    pub(super) fn of(url: &Url) -> Option<Self> {
        if url.username().is_empty() && url.password().is_none() {
            return None;
        }
        Some(Credentials {
            user: percent_decode(url.username()),
            password: percent_decode(url.password().unwrap_or_default()),
        })
    }

    /// `Basic base64(user:password)`, marked sensitive.
    pub(super) fn basic(&self) -> Option<HeaderValue> {
        let mut pair = self.user.clone();
        pair.push(b':');
        pair.extend_from_slice(&self.password);
        let mut value = HeaderValue::from_str(&format!("Basic {}", base64(&pair))).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

/// Decodes `%XX` escapes; anything else is kept as is.
pub(super) fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Standard base64 with padding.
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, expected) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy")] {
            assert_eq!(base64(input.as_bytes()), expected, "{input}");
        }
    }

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
