//! Who may see the details of a report: [`Details`], and the [`BearerToken`] it may ask for.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

/// A secret a caller presents as `Authorization: Bearer <token>` to see report details.
///
/// It is compared in constant time (for a given length) and never shown: its `Debug`
/// prints `BearerToken(<redacted>)`, and no response or log repeats it. An empty token
/// matches nothing.
#[derive(Clone)]
pub struct BearerToken(Arc<[u8]>);

impl BearerToken {
    /// A token with the secret `secret`.
    pub fn new(secret: impl AsRef<[u8]>) -> Self {
        BearerToken(Arc::from(secret.as_ref()))
    }

    /// Whether an `Authorization` header value presents this token (`Bearer`, any case,
    /// then the token after one or more spaces).
    pub fn matches(&self, authorization: &[u8]) -> bool {
        let Some(presented) = bearer_credentials(authorization) else {
            return false;
        };
        !self.0.is_empty() && constant_time_eq(presented, &self.0)
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken(<redacted>)")
    }
}

/// Who may see each check's output (message) and metadata in a report. Without the
/// right, callers still see every status, the lifecycle and which gates fail.
///
/// The default is [`LoopbackOnly`](Details::LoopbackOnly): operators on the machine
/// (and sidecars in the same network namespace) see why a check fails, the rest of the
/// network sees only statuses. Behind a reverse proxy on the same host every caller looks
/// local; use [`BearerToken`](Details::BearerToken) there.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum Details {
    /// Everyone sees details.
    Always,
    /// Nobody sees details.
    Never,
    /// Callers whose address is loopback (127.0.0.0/8, ::1, IPv4-mapped 127.x) see
    /// details. The address comes from axum's `ConnectInfo<SocketAddr>`: a router served
    /// without connect info treats every caller as not loopback.
    #[default]
    LoopbackOnly,
    /// Callers presenting the token see details.
    BearerToken(BearerToken),
    /// Loopback callers, and callers presenting the token, see details.
    LoopbackOrToken(BearerToken),
}

impl Details {
    /// Whether a caller from `peer` (None: unknown) sending the `Authorization` header
    /// value `authorization` (None: absent) may see details.
    pub fn allows(&self, peer: Option<IpAddr>, authorization: Option<&[u8]>) -> bool {
        let loopback = || peer.is_some_and(|ip| ip.to_canonical().is_loopback());
        let token = |t: &BearerToken| authorization.is_some_and(|a| t.matches(a));
        match self {
            Details::Always => true,
            Details::Never => false,
            Details::LoopbackOnly => loopback(),
            Details::BearerToken(t) => token(t),
            Details::LoopbackOrToken(t) => loopback() || token(t),
        }
    }
}

/// The credentials of a `Bearer` authorization value.
fn bearer_credentials(value: &[u8]) -> Option<&[u8]> {
    const SCHEME: &[u8] = b"bearer ";
    let head = value.get(..SCHEME.len())?;
    if !head.eq_ignore_ascii_case(SCHEME) {
        return None;
    }
    let rest = &value[SCHEME.len()..];
    let start = rest.iter().position(|b| *b != b' ')?;
    let end = rest.iter().rposition(|b| *b != b' ')? + 1;
    Some(&rest[start..end])
}

/// Compares without stopping at the first difference, so the time taken does not tell
/// how much of a guess was right (the length may show).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const LOCAL: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    const REMOTE: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)));

    #[test]
    fn loopback_policy() {
        let d = Details::default();
        assert!(d.allows(LOCAL, None));
        assert!(d.allows(Some(IpAddr::V6(Ipv6Addr::LOCALHOST)), None));
        assert!(d.allows(Some(IpAddr::V6(Ipv4Addr::new(127, 0, 0, 9).to_ipv6_mapped())), None));
        assert!(!d.allows(REMOTE, None));
        assert!(!d.allows(None, None), "unknown peers are not loopback");
    }

    #[test]
    fn token_policy() {
        let d = Details::BearerToken(BearerToken::new("s3cret"));
        assert!(d.allows(REMOTE, Some(b"Bearer s3cret")));
        assert!(d.allows(None, Some(b"bearer   s3cret ")));
        assert!(!d.allows(LOCAL, None), "token only: loopback is not enough");
        for wrong in [&b"Bearer s3cre"[..], b"Bearer s3cret2", b"Basic s3cret", b"Bearer", b"s3cret", b""] {
            assert!(!d.allows(REMOTE, Some(wrong)), "{:?}", String::from_utf8_lossy(wrong));
        }
        let both = Details::LoopbackOrToken(BearerToken::new("s3cret"));
        assert!(both.allows(LOCAL, None) && both.allows(REMOTE, Some(b"Bearer s3cret")));
        assert!(!both.allows(REMOTE, Some(b"Bearer nope")));
    }

    #[test]
    fn empty_token_matches_nothing_and_never_shows() {
        let empty = BearerToken::new("");
        assert!(!empty.matches(b"Bearer "));
        assert!(!empty.matches(b"Bearer"));
        assert!(!Details::Never.allows(LOCAL, Some(b"Bearer x")));
        assert!(Details::Always.allows(None, None));
        let shown = format!("{:?}", Details::BearerToken(BearerToken::new("hunter2")));
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
