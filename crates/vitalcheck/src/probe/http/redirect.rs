//! Following redirects: where the next hop goes, loops, the hop limit, and which headers
//! must not follow a redirect to another host.

use crate::redact::redact_url;
use http::header::{AUTHORIZATION, COOKIE, LOCATION, PROXY_AUTHORIZATION};
use http::{HeaderMap, StatusCode};
use url::Url;

/// The URLs visited so far, starting with the target's own.
pub(super) struct Redirects {
    chain: Vec<Url>,
    max: u32,
}

impl Redirects {
    pub(super) fn new(start: &Url, max: u32) -> Self {
        Redirects { chain: vec![without_fragment(start)], max }
    }

    /// How many redirects were followed.
    pub(super) fn followed(&self) -> usize {
        self.chain.len() - 1
    }

    /// Where to go after a `status` answer with `headers` from `current`: `Ok(None)` when it
    /// is not a redirect to follow (not a redirect status, no `Location`, or following is
    /// off), `Err(detail)` for a loop, too many hops or a bad `Location` (all Protocol).
    pub(super) fn next(
        &mut self,
        current: &Url,
        status: StatusCode,
        headers: &HeaderMap,
    ) -> Result<Option<Url>, String> {
        if self.max == 0 || !is_redirect(status) {
            return Ok(None);
        }
        let Some(location) = headers.get(LOCATION) else { return Ok(None) };
        let location = location.to_str().map_err(|_| format!("{status} with a non-ASCII Location header"))?;
        let next = current.join(location.trim()).map_err(|e| format!("{status} redirect to an invalid URL ({e})"))?;
        if !matches!(next.scheme(), "http" | "https") || next.host_str().is_none_or(str::is_empty) {
            return Err(format!("{status} redirect to {}, which is not an http(s) URL", redact_url(&next)));
        }
        let next = without_fragment(&next);
        if self.chain.contains(&next) {
            let mut shown: Vec<String> = self.chain.iter().map(redact_url).collect();
            shown.push(redact_url(&next));
            return Err(format!("redirect loop: {}", shown.join(" -> ")));
        }
        if self.followed() >= self.max as usize {
            return Err(format!("too many redirects ({})", self.max));
        }
        self.chain.push(next.clone());
        Ok(Some(next))
    }
}

/// 301, 302, 303, 307 and 308 are followed.
fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

fn without_fragment(url: &Url) -> Url {
    let mut url = url.clone();
    url.set_fragment(None);
    url
}

/// Drops credentials when a redirect goes to another host (or port): they were meant for
/// the first one.
pub(super) fn strip_credentials(headers: &mut HeaderMap, from: &Url, to: &Url) {
    let same_host = from.host_str() == to.host_str() && from.port_or_known_default() == to.port_or_known_default();
    if !same_host {
        for name in [AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION] {
            headers.remove(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn loc(to: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(LOCATION, HeaderValue::from_str(to).unwrap());
        h
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn relative_locations_resolve_against_current() {
        let start = url("http://h/a/b");
        let mut r = Redirects::new(&start, 10);
        let next = r.next(&start, StatusCode::FOUND, &loc("c?x=1")).unwrap().unwrap();
        assert_eq!(next.as_str(), "http://h/a/c?x=1");
        let next = r.next(&next, StatusCode::MOVED_PERMANENTLY, &loc("/d")).unwrap().unwrap();
        assert_eq!(next.as_str(), "http://h/d");
        assert_eq!(r.followed(), 2);
    }

    #[test]
    fn not_followed_without_location_or_when_off() {
        let start = url("http://h/");
        assert_eq!(Redirects::new(&start, 10).next(&start, StatusCode::FOUND, &HeaderMap::new()), Ok(None));
        assert_eq!(Redirects::new(&start, 0).next(&start, StatusCode::FOUND, &loc("/x")), Ok(None));
        assert_eq!(Redirects::new(&start, 10).next(&start, StatusCode::NOT_MODIFIED, &loc("/x")), Ok(None));
    }

    #[test]
    fn loops_and_limits() {
        let a = url("http://u:pw@h/a");
        let mut r = Redirects::new(&a, 10);
        let b = r.next(&a, StatusCode::FOUND, &loc("/b")).unwrap().unwrap();
        let e = r.next(&b, StatusCode::FOUND, &loc("http://u:pw@h/a")).unwrap_err();
        assert_eq!(e, "redirect loop: http://u:***@h/a -> http://u:***@h/b -> http://u:***@h/a");
        let mut r = Redirects::new(&a, 1);
        let b = r.next(&a, StatusCode::FOUND, &loc("/b")).unwrap().unwrap();
        assert_eq!(r.next(&b, StatusCode::FOUND, &loc("/c")).unwrap_err(), "too many redirects (1)");
        assert!(r.next(&b, StatusCode::FOUND, &loc("ftp://x/")).unwrap_err().contains("not an http(s) URL"));
    }

    #[test]
    fn credentials_dropped_across_hosts_only() {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        h.insert(COOKIE, HeaderValue::from_static("a=b"));
        h.insert("x-keep", HeaderValue::from_static("1"));
        strip_credentials(&mut h, &url("http://h/a"), &url("http://h:80/b"));
        assert_eq!(h.len(), 3);
        strip_credentials(&mut h, &url("http://h/a"), &url("http://other/b"));
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("x-keep"));
    }
}
