//! Which notifier gets which transition: by the target's group and tags and by the
//! statuses the notifier fires on. Pure.

use crate::config::RouteConfig;
use serde::{Deserialize, Serialize};

/// What a transition means to one notifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// The target entered a status the notifier fires on (or moved between two of them).
    Firing,
    /// The target left every firing status for `healthy` or `degraded`, or came up from
    /// `unknown` / `starting` (a restarted process, a target a reload started over): the
    /// latter resolves only a target that is firing (the [`Grouper`](super::group::Grouper)
    /// drops it otherwise, so an ordinary start says nothing).
    Resolved,
}

/// How a transition `from -> to` of a target in `group` with `tags` routes under `route`:
/// `None` when the notifier does not care about it.
///
/// A target matches when its group is one of `route.groups` (or that list is empty) and
/// it has one of `route.tags` (or that list is empty). Whether resolved messages are sent
/// (`send_resolved`) is decided when the message is made, not here: a resolved
/// transition still ends the target's firing state.
pub fn classify(route: &RouteConfig, from: &str, to: &str, group: Option<&str>, tags: &[String]) -> Option<Change> {
    let group_ok = route.groups.is_empty() || group.is_some_and(|g| route.groups.iter().any(|r| r == g));
    let tags_ok = route.tags.is_empty() || tags.iter().any(|t| route.tags.contains(t));
    if !group_ok || !tags_ok || from == to {
        return None;
    }
    let fires = |status: &str| route.statuses.iter().any(|s| s.as_str() == status);
    if fires(to) {
        Some(Change::Firing)
    } else if matches!(to, "healthy" | "degraded") && (fires(from) || is_fresh(from)) {
        Some(Change::Resolved)
    } else {
        None
    }
}

/// Whether `status` is where a target starts over: `unknown` (after a restart of its
/// process, or a reload that reset it) or `starting`.
pub(crate) fn is_fresh(status: &str) -> bool {
    matches!(status, "unknown" | "starting")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AlertStatus;

    const ALL: [&str; 5] = ["unknown", "starting", "healthy", "degraded", "unhealthy"];

    fn route(groups: &[&str], tags: &[&str], statuses: &[AlertStatus]) -> RouteConfig {
        RouteConfig {
            groups: groups.iter().map(|s| s.to_string()).collect(),
            tags: tags.iter().map(|s| s.to_string()).collect(),
            statuses: statuses.to_vec(),
            ..RouteConfig::default()
        }
    }

    #[test]
    fn every_pair_of_statuses_under_the_default_route() {
        let r = RouteConfig::default();
        for from in ALL {
            for to in ALL {
                let got = classify(&r, from, to, None, &[]);
                let want = if from == to {
                    None
                } else if to == "unhealthy" {
                    Some(Change::Firing)
                } else if matches!(from, "unhealthy" | "unknown" | "starting") && matches!(to, "healthy" | "degraded") {
                    Some(Change::Resolved)
                } else {
                    None
                };
                assert_eq!(got, want, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn degraded_fires_when_listed() {
        let r = route(&[], &[], &[AlertStatus::Degraded, AlertStatus::Unhealthy]);
        assert_eq!(classify(&r, "healthy", "degraded", None, &[]), Some(Change::Firing));
        assert_eq!(classify(&r, "degraded", "unhealthy", None, &[]), Some(Change::Firing));
        assert_eq!(classify(&r, "unhealthy", "degraded", None, &[]), Some(Change::Firing));
        assert_eq!(classify(&r, "degraded", "healthy", None, &[]), Some(Change::Resolved));
        let only_degraded = route(&[], &[], &[AlertStatus::Degraded]);
        assert_eq!(classify(&only_degraded, "healthy", "unhealthy", None, &[]), None);
    }

    #[test]
    fn groups_and_tags_must_both_match() {
        let r = route(&["proxies"], &["prod", "eu"], &[AlertStatus::Unhealthy]);
        let tags = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let fire = |group, t: &[&str]| classify(&r, "healthy", "unhealthy", group, &tags(t));
        assert_eq!(fire(Some("proxies"), &["eu"]), Some(Change::Firing));
        assert_eq!(fire(Some("proxies"), &["dev", "prod"]), Some(Change::Firing));
        assert_eq!(fire(Some("proxies"), &["dev"]), None);
        assert_eq!(fire(Some("proxies"), &[]), None);
        assert_eq!(fire(Some("db"), &["prod"]), None);
        assert_eq!(fire(None, &["prod"]), None);
        let any_group = route(&[], &["prod"], &[AlertStatus::Unhealthy]);
        assert_eq!(classify(&any_group, "healthy", "unhealthy", None, &tags(&["prod"])), Some(Change::Firing));
    }
}
