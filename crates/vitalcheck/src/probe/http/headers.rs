//! The request headers of a probe: its own, plus defaults (`User-Agent`, Basic
//! credentials from the URL).

use crate::probe::credentials::Credentials;
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
    if !headers.contains_key(AUTHORIZATION)
        && let Some(basic) = Credentials::of(url).and_then(|c| c.basic())
    {
        headers.insert(AUTHORIZATION, basic);
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_and_user_agent_from_defaults() {
        let h = request_headers(&HeaderMap::new(), &Url::parse("http://user:pa%40ss@h/").unwrap());
        assert_eq!(h[AUTHORIZATION], "Basic dXNlcjpwYUBzcw=="); // base64("user:pa@ss")
        assert!(h[AUTHORIZATION].is_sensitive());
        assert_eq!(h[USER_AGENT], DEFAULT_USER_AGENT);
    }
}
