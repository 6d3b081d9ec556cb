//! Row types of the alert outbox: the messages notifiers owe, and where each notifier is
//! in the stream of transitions.

use super::TransitionRow;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A stored transition with its id: ids grow with every transition written, so a notifier
/// remembers how far it has read as one number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberedTransition {
    /// The row id (greater for later transitions).
    pub id: i64,
    /// The transition.
    pub row: TransitionRow,
}

/// A message waiting in (or done with) the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxRow {
    /// The outbox id: sent as `X-Vitalcheck-Delivery`, so receivers can drop duplicates.
    pub id: i64,
    /// The notifier it is for.
    pub notifier: String,
    /// The message as JSON (never the URL, headers or secrets).
    pub payload: String,
    /// When it was written.
    pub created: Timestamp,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// When the next attempt is due.
    pub next_attempt: Timestamp,
}

/// New outbox rows and cursor moves, written in one transaction by
/// [`Store::enqueue`](super::Store::enqueue).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enqueue {
    /// Messages to append: (notifier, payload JSON).
    pub messages: Vec<(String, String)>,
    /// Cursors to set: (notifier, id of the last transition it has taken).
    pub cursors: Vec<(String, i64)>,
    /// Creation time of the messages, and their first attempt.
    pub at: Timestamp,
}

/// The outcome of one delivery attempt, for [`Store::update_outbox`](super::Store::update_outbox).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxUpdate {
    /// The receiver accepted it.
    Delivered {
        /// The outbox id.
        id: i64,
        /// When.
        at: Timestamp,
    },
    /// It failed; try again at `next_attempt`.
    Retry {
        /// The outbox id.
        id: i64,
        /// Attempts so far.
        attempts: u32,
        /// When to try again.
        next_attempt: Timestamp,
        /// Why it failed (no URL, header or secret in it).
        error: String,
    },
    /// Given up (too many attempts, or its notifier is gone).
    Failed {
        /// The outbox id.
        id: i64,
        /// Attempts made.
        attempts: u32,
        /// When.
        at: Timestamp,
        /// Why.
        error: String,
    },
}
