//! The request headers of a probe: its own, plus defaults (`User-Agent`, Basic
//! credentials from the URL).

use http::HeaderMap;
use http::header::{AUTHORIZATION, HeaderValue, USER_AGENT};
use url::Url;

/// The `User-Agent` sent unless the probe sets one.
pub(super) const DEFAULT_USER_AGENT: &str = concat!("vitalcheck/", env!("CARGO_PKG_VERSION"));

/// The headers sent: `own`, plus `User-Agent` and Basic credentials from `url` unless set.
/// Values added here are marked sensitive.
pub(super) fn request_headers(own: &HeaderMap, url: &Url) -> HeaderMap {
    let mut headers = own.clone();
    if !headers.contains_key(USER_AGENT) {
        headers.insert(USER_AGENT, HeaderValue::from_static(DEFAULT_USER_AGENT));
    }
    if !headers.contains_key(AUTHORIZATION) && (!url.username().is_empty() || url.password().is_some()) {
        let user = percent_decode(url.username());
        let pass = percent_decode(url.password().unwrap_or_default());
        let creds = base64([user, b":".to_vec(), pass].concat().as_slice());
        if let Ok(mut value) = HeaderValue::from_str(&format!("Basic {creds}")) {
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
    }
    headers
}

/// Decodes `%XX` escapes (URL user info is stored percent-encoded); leaves bad escapes.
fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
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

/// Standard base64 with padding (RFC 4648), for Basic credentials.
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
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
    fn base64_and_percent_decode() {
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b""), "");
        assert_eq!(percent_decode("p%40ss%2"), b"p@ss%2");
    }

    #[test]
    fn basic_auth_and_user_agent_from_defaults() {
        let h = request_headers(&HeaderMap::new(), &Url::parse("http://user:pa%40ss@h/").unwrap());
        assert_eq!(h[AUTHORIZATION], format!("Basic {}", base64(b"user:pa@ss")));
        assert!(h[AUTHORIZATION].is_sensitive());
        assert_eq!(h[USER_AGENT], DEFAULT_USER_AGENT);
    }
}
