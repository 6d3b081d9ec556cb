//! The message a notifier sends, as documented JSON (the generic webhook's body, a
//! command's stdin), and its text form for chat webhooks (Slack, Discord).
//!
//! ```json
//! {
//!   "version": 1,
//!   "notifier": "ops",
//!   "kind": "alert",
//!   "status": "firing",
//!   "created": "2026-01-02T03:04:05Z",
//!   "summary": "1 firing, 1 resolved: api unhealthy; db resolved",
//!   "events": [
//!     {"target": "api", "group": null, "tags": ["prod"], "from": "healthy", "to": "unhealthy",
//!      "change": "firing", "reason": "3 consecutive failures: connection refused",
//!      "at": "2026-01-02T03:03:55Z"},
//!     {"target": "db", "group": "pool", "tags": [], "from": "unhealthy", "to": "healthy",
//!      "change": "resolved", "reason": "1 consecutive success", "at": "2026-01-02T03:03:58Z"}
//!   ],
//!   "firing": [{"target": "api", "status": "unhealthy", "since": "2026-01-02T03:03:55Z"}]
//! }
//! ```
//!
//! `kind` is `alert` (new transitions, in `events`) or `repeat` (a reminder: `events` is
//! empty and `firing` lists the targets still down). `status` is `firing` while any
//! target in `firing` remains, else `resolved`.

use super::route::Change;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// One routed transition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The target.
    pub target: String,
    /// Its group, if any.
    pub group: Option<String>,
    /// Its tags.
    pub tags: Vec<String>,
    /// The status before.
    pub from: String,
    /// The status after.
    pub to: String,
    /// Firing or resolved.
    pub change: Change,
    /// Why (the state machine's reason).
    pub reason: String,
    /// When.
    pub at: Timestamp,
}

/// A target that is firing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiringTarget {
    /// The target.
    pub target: String,
    /// Its firing status.
    pub status: String,
    /// Firing since.
    pub since: Timestamp,
}

/// New transitions or a reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    /// Transitions of the grouping window.
    Alert,
    /// A reminder of targets still firing.
    Repeat,
}

/// What the grouper decided to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Alert or reminder.
    pub kind: MessageKind,
    /// The transitions (empty for a reminder).
    pub events: Vec<Event>,
    /// The targets firing after this message (for a reminder: those due).
    pub firing: Vec<FiringTarget>,
}

/// The JSON document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    /// Format version: 1.
    pub version: u32,
    /// The notifier's name.
    pub notifier: String,
    /// Alert or reminder.
    pub kind: MessageKind,
    /// `firing` or `resolved`.
    pub status: String,
    /// When the message was made.
    pub created: Timestamp,
    /// One line for people.
    pub summary: String,
    /// The transitions.
    pub events: Vec<Event>,
    /// The targets still firing.
    pub firing: Vec<FiringTarget>,
}

impl Payload {
    /// The payload of `message` for `notifier`, made at `created`.
    pub fn new(notifier: &str, message: Message, created: Timestamp) -> Payload {
        let status = if message.firing.is_empty() { "resolved" } else { "firing" }.to_string();
        let summary = summary(&message);
        Payload {
            version: 1,
            notifier: notifier.to_string(),
            kind: message.kind,
            status,
            created,
            summary,
            events: message.events,
            firing: message.firing,
        }
    }

    /// The text of a chat message: the summary, then one line per event or firing target,
    /// cut to `limit` characters (Discord takes 2,000).
    pub fn text(&self, limit: usize) -> String {
        let mut out = format!("[vitalcheck] {}", self.summary);
        let lines: Vec<String> = match self.kind {
            MessageKind::Alert => self
                .events
                .iter()
                .map(|e| {
                    let mark = if e.change == Change::Firing { "FIRING" } else { "RESOLVED" };
                    format!("{mark} {}: {} -> {} at {} ({})", e.target, e.from, e.to, e.at, e.reason)
                })
                .collect(),
            MessageKind::Repeat => {
                self.firing.iter().map(|f| format!("STILL {} {} since {}", f.status, f.target, f.since)).collect()
            }
        };
        for line in lines {
            out.push('\n');
            out.push_str(&line);
        }
        if out.chars().count() > limit {
            out = out.chars().take(limit.saturating_sub(1)).collect();
            out.push('…');
        }
        out
    }
}

fn summary(m: &Message) -> String {
    match m.kind {
        MessageKind::Repeat => {
            let names: Vec<&str> = m.firing.iter().map(|f| f.target.as_str()).collect();
            format!("{} still firing: {}", names.len(), names.join(", "))
        }
        MessageKind::Alert => {
            let firing = m.events.iter().filter(|e| e.change == Change::Firing).count();
            let resolved = m.events.len() - firing;
            let parts: Vec<String> = m
                .events
                .iter()
                .map(|e| match e.change {
                    Change::Firing => format!("{} {}", e.target, e.to),
                    Change::Resolved => format!("{} resolved", e.target),
                })
                .collect();
            format!("{firing} firing, {resolved} resolved: {}", parts.join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(target: &str, to: &str, change: Change) -> Event {
        Event {
            target: target.into(),
            group: None,
            tags: vec!["prod".into()],
            from: "healthy".into(),
            to: to.into(),
            change,
            reason: "3 consecutive failures: connection refused".into(),
            at: Timestamp::from_second(1_767_323_035).expect("valid"),
        }
    }

    #[test]
    fn the_documented_shape() {
        let at = Timestamp::from_second(1_767_323_045).expect("valid");
        let message = Message {
            kind: MessageKind::Alert,
            events: vec![event("api", "unhealthy", Change::Firing)],
            firing: vec![FiringTarget { target: "api".into(), status: "unhealthy".into(), since: at }],
        };
        let json = serde_json::to_value(Payload::new("ops", message, at)).expect("serializes");
        let want = serde_json::json!({
            "version": 1, "notifier": "ops", "kind": "alert", "status": "firing",
            "created": "2026-01-02T03:04:05Z",
            "summary": "1 firing, 0 resolved: api unhealthy",
            "events": [{"target": "api", "group": null, "tags": ["prod"], "from": "healthy", "to": "unhealthy",
                        "change": "firing", "reason": "3 consecutive failures: connection refused",
                        "at": "2026-01-02T03:03:55Z"}],
            "firing": [{"target": "api", "status": "unhealthy", "since": "2026-01-02T03:04:05Z"}],
        });
        assert_eq!(json, want);
    }

    #[test]
    fn resolved_status_and_text() {
        let at = Timestamp::from_second(1_767_323_045).expect("valid");
        let message = Message {
            kind: MessageKind::Alert,
            events: vec![event("db", "healthy", Change::Resolved)],
            firing: vec![],
        };
        let p = Payload::new("ops", message, at);
        assert_eq!(p.status, "resolved");
        assert_eq!(p.summary, "0 firing, 1 resolved: db resolved");
        let text = p.text(2000);
        assert!(text.starts_with("[vitalcheck] 0 firing, 1 resolved"), "{text}");
        assert!(text.contains("RESOLVED db: healthy -> healthy"), "{text}");
        let short = p.text(20);
        assert_eq!(short.chars().count(), 20);
        assert!(short.ends_with('…'));
    }

    #[test]
    fn a_reminder_lists_the_firing_targets() {
        let at = Timestamp::from_second(1_767_323_045).expect("valid");
        let firing = vec![FiringTarget { target: "api".into(), status: "unhealthy".into(), since: at }];
        let p = Payload::new("ops", Message { kind: MessageKind::Repeat, events: vec![], firing }, at);
        assert_eq!((p.status.as_str(), p.summary.as_str()), ("firing", "1 still firing: api"));
        assert!(p.text(2000).contains("STILL unhealthy api since"));
    }
}
