//! The grouping window and the repeat interval of one notifier, as pure logic: time is
//! passed in, nothing is sent or stored here.
//!
//! Transitions routed to a notifier wait until `group_wait` after the first of them (by
//! the transition's own time, so a restart that reads them again from the store keeps the
//! window), then all go out as one message (Alertmanager's `group_wait`). A target stays
//! *firing* from its firing message until its resolved one; every `repeat_interval` after
//! the last message that named a firing target, one reminder lists every firing target
//! that is due (Alertmanager's `repeat_interval`).

use super::payload::{Event, FiringTarget, Message, MessageKind};
use super::route::Change;
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;
use std::time::Duration;

/// One notifier's pending events and firing targets.
#[derive(Debug, Clone)]
pub struct Grouper {
    group_wait: Duration,
    repeat_interval: Option<Duration>,
    send_resolved: bool,
    pending: Vec<Event>,
    firing: BTreeMap<String, Firing>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Firing {
    status: String,
    since: Timestamp,
    last_sent: Timestamp,
}

impl Grouper {
    /// An empty grouper.
    pub fn new(group_wait: Duration, repeat_interval: Option<Duration>, send_resolved: bool) -> Self {
        Grouper { group_wait, repeat_interval, send_resolved, pending: Vec::new(), firing: BTreeMap::new() }
    }

    /// New settings (a reload); pending events and firing targets are kept.
    pub fn configure(&mut self, group_wait: Duration, repeat_interval: Option<Duration>, send_resolved: bool) {
        (self.group_wait, self.repeat_interval, self.send_resolved) = (group_wait, repeat_interval, send_resolved);
    }

    /// Marks `target` as already firing with `status` since `since`, last told about at
    /// `now` (what the store's states say at start: reminders resume one interval later).
    pub fn assume_firing(&mut self, target: &str, status: &str, since: Timestamp, now: Timestamp) {
        let firing = Firing { status: status.to_string(), since, last_sent: now };
        self.firing.entry(target.to_string()).or_insert(firing);
    }

    /// Adds a routed event to the window. A target coming up from `unknown` or `starting`
    /// resolves it only when it is firing (or a firing event for it waits in the window):
    /// a process restarted after it went down comes back that way, an ordinary start too.
    pub fn push(&mut self, event: Event) {
        let fresh_start = event.change == Change::Resolved && super::route::is_fresh(&event.from);
        if fresh_start && !self.is_firing(&event.target) {
            return;
        }
        self.pending.push(event);
    }

    /// Whether `target` fires, counting the window's events for it.
    fn is_firing(&self, target: &str) -> bool {
        match self.pending.iter().rev().find(|e| e.target == target) {
            Some(last) => last.change == Change::Firing,
            None => self.firing.contains_key(target),
        }
    }

    /// Whether events wait in the window.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// The targets firing now, by name.
    pub fn firing(&self) -> Vec<&str> {
        self.firing.keys().map(String::as_str).collect()
    }

    /// When [`take`](Self::take) next has something to do, if ever.
    pub fn next_due(&self) -> Option<Timestamp> {
        let window = self.pending.iter().map(|e| e.at).min().map(|first| add(first, self.group_wait));
        let repeat = self.repeat_interval.and_then(|every| self.firing.values().map(|f| add(f.last_sent, every)).min());
        window.into_iter().chain(repeat).min()
    }

    /// The message due at `now`, if any: the window's events once it has closed, else a
    /// reminder of the firing targets due one. A closed window whose events are all
    /// resolved ones with `send_resolved = false` empties without a message (`None`).
    pub fn take(&mut self, now: Timestamp) -> Option<Message> {
        let window_closed =
            self.pending.iter().map(|e| e.at).min().is_some_and(|first| add(first, self.group_wait) <= now);
        if window_closed {
            return self.take_window(now);
        }
        let every = self.repeat_interval?;
        let due: Vec<String> =
            self.firing.iter().filter(|(_, f)| add(f.last_sent, every) <= now).map(|(t, _)| t.clone()).collect();
        if due.is_empty() {
            return None;
        }
        for target in &due {
            if let Some(f) = self.firing.get_mut(target) {
                f.last_sent = now;
            }
        }
        let firing = due.iter().filter_map(|t| self.firing.get(t).map(|f| firing_target(t, f))).collect();
        Some(Message { kind: MessageKind::Repeat, events: Vec::new(), firing })
    }

    fn take_window(&mut self, now: Timestamp) -> Option<Message> {
        let mut events = std::mem::take(&mut self.pending);
        events.sort_by_key(|e| e.at);
        for e in &events {
            match e.change {
                Change::Firing => {
                    let since = self.firing.get(&e.target).map_or(e.at, |f| f.since);
                    let firing = Firing { status: e.to.clone(), since, last_sent: now };
                    self.firing.insert(e.target.clone(), firing);
                }
                Change::Resolved => {
                    self.firing.remove(&e.target);
                }
            }
        }
        if !self.send_resolved {
            events.retain(|e| e.change == Change::Firing);
        }
        if events.is_empty() {
            return None;
        }
        // Every target still firing is named, so the last_sent of all of them moves.
        for f in self.firing.values_mut() {
            f.last_sent = now;
        }
        let firing = self.firing.iter().map(|(t, f)| firing_target(t, f)).collect();
        Some(Message { kind: MessageKind::Alert, events, firing })
    }
}

fn firing_target(target: &str, f: &Firing) -> FiringTarget {
    FiringTarget { target: target.to_string(), status: f.status.clone(), since: f.since }
}

/// `at + d`, saturating at the largest timestamp.
fn add(at: Timestamp, d: Duration) -> Timestamp {
    SignedDuration::try_from(d).ok().and_then(|d| at.checked_add(d).ok()).unwrap_or(Timestamp::MAX)
}

#[cfg(test)]
mod tests;
