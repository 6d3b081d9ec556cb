//! The texts of probe results ([`LastResult::message`](super::LastResult::message)) as
//! few, shared `Arc<str>`s: a target that says the same as last time keeps its `Arc` (no
//! allocation per result), and targets that say the same thing (`HTTP 200`) share one
//! through a small bounded interner, so copying 100,000 snapshots bumps a few hot
//! reference counts instead of one scattered over the heap per target.

use std::collections::HashSet;
use std::sync::Arc;

/// The most distinct texts shared between targets.
pub(crate) const CAPACITY: usize = 4096;

/// The texts shared between targets; past [`CAPACITY`] texts a target only reuses its own.
#[derive(Debug, Default)]
pub(crate) struct Messages {
    shared: HashSet<Arc<str>>,
}

impl Messages {
    /// `text` as an `Arc<str>`: `previous` if it says the same (the common case, looked up
    /// without hashing), else the one other targets share, else a new one, shared from now
    /// on if there is room.
    pub(crate) fn share(&mut self, previous: Option<&Arc<str>>, text: &str) -> Arc<str> {
        if let Some(previous) = previous.filter(|p| ***p == *text) {
            return Arc::clone(previous);
        }
        if let Some(shared) = self.shared.get(text) {
            return Arc::clone(shared);
        }
        let new: Arc<str> = Arc::from(text);
        if self.shared.len() >= CAPACITY {
            self.make_room();
        }
        if self.shared.len() < CAPACITY {
            self.shared.insert(Arc::clone(&new));
        }
        new
    }

    /// How many texts are shared now.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shared.len()
    }

    /// Forgets the texts at most one other owner holds (one-off texts such as
    /// `connected to 10.0.0.7:22` gain nothing from sharing), and everything if that
    /// frees less than half: a few hot texts come back with their next change.
    fn make_room(&mut self) {
        self.shared.retain(|m| Arc::strong_count(m) > 2);
        if self.shared.len() > CAPACITY / 2 {
            self.shared.clear();
        }
    }
}
