//! What the status page shows, read from the engine's public views in one go and
//! arranged for display: groups with their members, then the targets without a group,
//! each with the words for its last error. Nothing here formats HTML.

use crate::engine::{Engine, LastResult, TargetDetail};
use jiff::Timestamp;
use std::sync::Arc;
use vitalcheck::state::TargetStatus;

/// The whole page's data.
#[derive(Debug)]
pub(super) struct PageView {
    /// Groups in name order, then the targets without a group (a section without a name).
    pub(super) sections: Vec<Section>,
    /// When this view was read.
    pub(super) now: Timestamp,
    /// `[server] public`: hide what targets probe.
    pub(super) public: bool,
    /// Targets left off past [`MAX_TARGETS`].
    pub(super) hidden: usize,
}

/// The most targets one page shows (in config order); the JSON API lists the rest. A page
/// of 100,000 would be hundreds of megabytes.
pub(super) const MAX_TARGETS: usize = 2_000;

/// A group and its members, or (`name: None`) the targets without a group.
#[derive(Debug)]
pub(super) struct Section {
    /// The group's name.
    pub(super) name: Option<Arc<str>>,
    /// The group's status ([`group_status`]).
    pub(super) status: TargetStatus,
    /// Its members, in config order.
    pub(super) members: Vec<Row>,
}

/// One target on the page.
#[derive(Debug)]
pub(super) struct Row {
    /// Everything the engine knows about it.
    pub(super) detail: TargetDetail,
    /// Its last error in words, and when; `None` if it never failed.
    pub(super) error: Option<(String, Timestamp)>,
}

impl PageView {
    /// Reads the first [`MAX_TARGETS`] targets from `engine`. Targets removed by a reload while this runs are
    /// left out.
    pub(super) fn read(engine: &Engine, public: bool) -> PageView {
        let all = engine.snapshot();
        let details = all.iter().take(MAX_TARGETS).filter_map(|t| engine.target(&t.name)).collect();
        let mut view = PageView::arrange(details, Timestamp::now(), public);
        view.hidden = all.len().saturating_sub(MAX_TARGETS);
        view
    }

    /// Arranges `details` (in config order) into sections: groups by name, then the
    /// targets without a group.
    pub(super) fn arrange(details: Vec<TargetDetail>, now: Timestamp, public: bool) -> PageView {
        let mut grouped: Vec<(Arc<str>, Vec<Row>)> = Vec::new();
        let mut loose = Vec::new();
        for detail in details {
            let row = Row { error: last_error(&detail, public), detail };
            match row.detail.snapshot.group.clone() {
                Some(group) => match grouped.iter_mut().find(|(name, _)| *name == group) {
                    Some((_, rows)) => rows.push(row),
                    None => grouped.push((group, vec![row])),
                },
                None => loose.push(row),
            }
        }
        grouped.sort_by(|a, b| a.0.cmp(&b.0));
        let mut sections: Vec<Section> =
            grouped.into_iter().map(|(name, members)| Section::new(Some(name), members)).collect();
        if !loose.is_empty() {
            sections.push(Section::new(None, loose));
        }
        PageView { sections, now, public, hidden: 0 }
    }

    /// Every target on the page.
    pub(super) fn rows(&self) -> impl Iterator<Item = &Row> {
        self.sections.iter().flat_map(|s| s.members.iter())
    }

    /// How many targets have each status, in display order (healthy first).
    pub(super) fn counts(&self) -> [(TargetStatus, usize); 5] {
        DISPLAY_ORDER.map(|status| (status, self.rows().filter(|r| r.detail.snapshot.status == status).count()))
    }
}

impl Section {
    fn new(name: Option<Arc<str>>, members: Vec<Row>) -> Section {
        let status = group_status(members.iter().map(|r| r.detail.snapshot.status));
        Section { name, status, members }
    }
}

/// Statuses in the order the page lists their counts.
pub(super) const DISPLAY_ORDER: [TargetStatus; 5] = [
    TargetStatus::Healthy,
    TargetStatus::Degraded,
    TargetStatus::Unhealthy,
    TargetStatus::Starting,
    TargetStatus::Unknown,
];

/// A group's status, as a pool sees it: `healthy` when every member is healthy,
/// `degraded` when every member is up but some only degraded, or when some members are up
/// and others not; `unhealthy` when no member is up and one is unhealthy; otherwise
/// `starting` while a member starts, and `unknown` (also for a group without members).
pub(crate) fn group_status(members: impl IntoIterator<Item = TargetStatus>) -> TargetStatus {
    let (mut total, mut up, mut healthy, mut unhealthy, mut starting) = (0, 0, 0, 0, 0);
    for status in members {
        total += 1;
        match status {
            TargetStatus::Healthy => (up, healthy) = (up + 1, healthy + 1),
            TargetStatus::Degraded => up += 1,
            TargetStatus::Unhealthy => unhealthy += 1,
            TargetStatus::Starting => starting += 1,
            TargetStatus::Unknown => {}
        }
    }
    match () {
        () if total == 0 => TargetStatus::Unknown,
        () if healthy == total => TargetStatus::Healthy,
        () if up > 0 => TargetStatus::Degraded,
        () if unhealthy > 0 => TargetStatus::Unhealthy,
        () if starting > 0 => TargetStatus::Starting,
        () => TargetStatus::Unknown,
    }
}

/// The latest failure in words, and when it happened. Public mode gives only the kind of
/// error (probe messages name hosts and addresses); otherwise the probe's own message,
/// which never holds a secret.
fn last_error(detail: &TargetDetail, public: bool) -> Option<(String, Timestamp)> {
    let failure = detail.snapshot.last.as_ref().filter(|l| l.failed()).or(detail.last_failure.as_ref())?;
    let words = if public { kind_in_words(failure).to_owned() } else { message(failure) };
    Some((words, failure.at))
}

/// The probe's message, prefixed with the probe for targets with several.
fn message(failure: &LastResult) -> String {
    let text = if failure.message.is_empty() { kind_in_words(failure) } else { &failure.message };
    match failure.probe {
        Some(probe) => format!("{probe} probe: {text}"),
        None => text.to_owned(),
    }
}

/// What an error kind means, without any detail that could name a host.
fn kind_in_words(failure: &LastResult) -> &'static str {
    match failure.error_kind {
        Some("refused") => "connection refused",
        Some("timeout") => "timed out",
        Some("dns") => "name lookup failed",
        Some("tls") => "TLS handshake failed",
        Some("status") => "unexpected HTTP status",
        Some("protocol") => "protocol error",
        Some("expectation") => "the answer did not match what was expected",
        Some("exit") => "the command failed",
        Some("io") => "I/O error",
        _ => "the check failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TargetStatus::{Degraded as D, Healthy as H, Starting as S, Unhealthy as U, Unknown as N};

    #[test]
    fn group_status_follows_the_pool() {
        let cases: [(&[TargetStatus], TargetStatus); 10] = [
            (&[], N),
            (&[H, H], H),
            (&[H, D], D),
            (&[H, U], D),
            (&[H, S], D),
            (&[U, U], U),
            (&[U, S, N], U),
            (&[S, N], S),
            (&[N], N),
            (&[D], D),
        ];
        for (members, expected) in cases {
            assert_eq!(group_status(members.iter().copied()), expected, "{members:?}");
        }
    }
}
