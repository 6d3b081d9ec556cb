//! Slack incoming webhooks (and Slack-compatible ones: Mattermost, Rocket.Chat):
//! `{"text": "..."}` posted to the webhook URL.

use super::payload::Payload;
use super::{DELIVERY_HEADER, http};
use crate::config::{CaFile, SecretUrl};
use hyper::body::Bytes;

/// Slack cuts long messages; stay well inside its 40,000 characters.
const LIMIT: usize = 4_000;

/// The request body for `payload`.
pub(crate) fn body(payload: &Payload) -> String {
    serde_json::json!({ "text": payload.text(LIMIT) }).to_string()
}

/// Posts `payload` to the webhook.
pub(crate) async fn send(url: &SecretUrl, ca: Option<&CaFile>, delivery: i64, payload: &Payload) -> Result<(), String> {
    let headers = [(DELIVERY_HEADER.to_string(), delivery.to_string())];
    http::post(url.expose(), ca, &headers, Bytes::from(body(payload))).await.map(drop)
}
