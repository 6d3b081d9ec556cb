//! The generic webhook: `POST url` with the JSON payload as the body, the notifier's
//! headers, `X-Vitalcheck-Delivery: <outbox id>` (the same on every retry, so a receiver
//! can drop a duplicate) and, with a `secret`, `X-Vitalcheck-Timestamp` and
//! `X-Vitalcheck-Signature` (see `sign.rs`).

use super::sign::{SIGNATURE_HEADER, TIMESTAMP_HEADER, signature};
use super::{DELIVERY_HEADER, http};
use crate::config::{CaFile, Secret, SecretUrl};
use hyper::body::Bytes;

/// The headers of one webhook request, in order.
pub(crate) fn headers(
    custom: &[(String, Secret)],
    secret: Option<&Secret>,
    delivery: i64,
    now_unix: i64,
    body: &[u8],
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        custom.iter().map(|(name, value)| (name.clone(), value.expose().to_string())).collect();
    out.push((DELIVERY_HEADER.to_string(), delivery.to_string()));
    if let Some(secret) = secret {
        out.push((TIMESTAMP_HEADER.to_string(), now_unix.to_string()));
        out.push((SIGNATURE_HEADER.to_string(), signature(secret.expose().as_bytes(), now_unix, body)));
    }
    out
}

/// Sends `payload` (the JSON document) to the webhook.
pub(crate) async fn send(
    url: &SecretUrl,
    ca: Option<&CaFile>,
    custom: &[(String, Secret)],
    secret: Option<&Secret>,
    delivery: i64,
    payload: &str,
) -> Result<(), String> {
    let now = jiff::Timestamp::now().as_second();
    let headers = headers(custom, secret, delivery, now, payload.as_bytes());
    http::post(url.expose(), ca, &headers, Bytes::copy_from_slice(payload.as_bytes())).await.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_carry_the_delivery_id_and_a_signature_of_the_body() {
        let custom = vec![("X-Api-Key".to_string(), Secret::new("k"))];
        let h = headers(&custom, Some(&Secret::new("key")), 42, 1_700_000_000, br#"{"a":1}"#);
        let get = |n: &str| h.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.as_str());
        assert_eq!(get("x-api-key"), Some("k"));
        assert_eq!(get("x-vitalcheck-delivery"), Some("42"));
        assert_eq!(get("x-vitalcheck-timestamp"), Some("1700000000"));
        assert_eq!(
            get("x-vitalcheck-signature"),
            Some("sha256=a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03")
        );
        let unsigned = headers(&[], None, 7, 1, b"{}");
        assert_eq!(unsigned, [("x-vitalcheck-delivery".to_string(), "7".to_string())]);
    }
}
