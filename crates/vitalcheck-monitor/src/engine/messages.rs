//! The texts of probe results ([`LastResult::message`](super::LastResult::message)) as
//! few `Arc<str>`s: a target that says the same as last time keeps its `Arc`, so the
//! common result (`HTTP 200` again) allocates no text.

use std::sync::Arc;

/// `text` as an `Arc<str>`: `previous` if it says the same, else a new one.
pub(crate) fn share(previous: Option<&Arc<str>>, text: &str) -> Arc<str> {
    match previous {
        Some(previous) if **previous == *text => Arc::clone(previous),
        _ => Arc::from(text),
    }
}
