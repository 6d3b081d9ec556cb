//! Discord webhooks: `{"content": "..."}` (at most 2,000 characters) posted to the
//! webhook URL.

use super::payload::Payload;
use super::{DELIVERY_HEADER, http};
use crate::config::{CaFile, SecretUrl};
use hyper::body::Bytes;

/// Discord's limit for `content`.
const LIMIT: usize = 2_000;

/// The request body for `payload`.
pub(crate) fn body(payload: &Payload) -> String {
    serde_json::json!({ "content": payload.text(LIMIT), "allowed_mentions": { "parse": [] } }).to_string()
}

/// Posts `payload` to the webhook.
pub(crate) async fn send(url: &SecretUrl, ca: Option<&CaFile>, delivery: i64, payload: &Payload) -> Result<(), String> {
    let headers = [(DELIVERY_HEADER.to_string(), delivery.to_string())];
    http::post(url.expose(), ca, &headers, Bytes::from(body(payload))).await.map(drop)
}
