use super::*;

fn t(s: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + s).expect("valid")
}

fn ev(target: &str, to: &str, change: Change, at: i64) -> Event {
    let from = if change == Change::Firing { "healthy" } else { "unhealthy" };
    Event {
        target: target.into(),
        group: None,
        tags: vec![],
        from: from.into(),
        to: to.into(),
        change,
        reason: "r".into(),
        at: t(at),
    }
}

const WAIT: Duration = Duration::from_secs(10);
const REPEAT: Duration = Duration::from_secs(3600);

#[test]
fn transitions_within_the_window_go_out_together() {
    let mut g = Grouper::new(WAIT, Some(REPEAT), true);
    assert_eq!(g.next_due(), None);
    g.push(ev("a", "unhealthy", Change::Firing, 0));
    g.push(ev("b", "unhealthy", Change::Firing, 4));
    assert_eq!(g.next_due(), Some(t(10)), "the window runs from the first event");
    for s in [0, 5, 9] {
        assert_eq!(g.take(t(s)), None, "window still open at {s}");
    }
    let m = g.take(t(10)).expect("window closed");
    assert_eq!(m.kind, MessageKind::Alert);
    let names: Vec<&str> = m.events.iter().map(|e| e.target.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(m.firing.len(), 2);
    assert!(!g.has_pending());
    assert_eq!(g.take(t(11)), None, "nothing twice");
    assert_eq!(g.firing(), ["a", "b"]);
}

#[test]
fn events_are_ordered_by_time_and_a_late_one_opens_a_new_window() {
    let mut g = Grouper::new(WAIT, None, true);
    g.push(ev("b", "unhealthy", Change::Firing, 3));
    g.push(ev("a", "unhealthy", Change::Firing, 1));
    let m = g.take(t(11)).expect("closed");
    assert_eq!(m.events.iter().map(|e| e.target.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    g.push(ev("c", "unhealthy", Change::Firing, 20));
    assert_eq!(g.next_due(), Some(t(30)));
    assert_eq!(g.take(t(29)), None);
    assert_eq!(g.take(t(30)).expect("second window").events.len(), 1);
}

#[test]
fn resolved_ends_firing_and_is_sent_unless_disabled() {
    let mut g = Grouper::new(WAIT, Some(REPEAT), true);
    g.push(ev("a", "unhealthy", Change::Firing, 0));
    g.take(t(10)).expect("firing");
    g.push(ev("a", "healthy", Change::Resolved, 100));
    let m = g.take(t(110)).expect("resolved");
    assert_eq!(m.events[0].change, Change::Resolved);
    assert!(m.firing.is_empty());
    assert!(g.firing().is_empty());
    assert_eq!(g.next_due(), None, "no reminder for a resolved target");

    let mut quiet = Grouper::new(WAIT, Some(REPEAT), false);
    quiet.push(ev("a", "unhealthy", Change::Firing, 0));
    quiet.take(t(10)).expect("firing");
    quiet.push(ev("a", "healthy", Change::Resolved, 100));
    assert_eq!(quiet.take(t(110)), None, "send_resolved = false");
    assert!(quiet.firing().is_empty(), "but the target is no longer firing");
    assert!(!quiet.has_pending());
}

#[test]
fn flapping_within_the_window_reports_both_and_ends_resolved() {
    let mut g = Grouper::new(WAIT, Some(REPEAT), true);
    g.push(ev("a", "unhealthy", Change::Firing, 0));
    g.push(ev("a", "healthy", Change::Resolved, 5));
    let m = g.take(t(10)).expect("closed");
    assert_eq!(m.events.len(), 2);
    assert!(m.firing.is_empty());
}

#[test]
fn reminders_every_repeat_interval_while_firing() {
    let mut g = Grouper::new(WAIT, Some(REPEAT), true);
    g.push(ev("a", "unhealthy", Change::Firing, 0));
    g.take(t(10)).expect("first");
    assert_eq!(g.next_due(), Some(t(3610)));
    assert_eq!(g.take(t(3609)), None);
    let r = g.take(t(3610)).expect("reminder");
    assert_eq!(r.kind, MessageKind::Repeat);
    assert!(r.events.is_empty());
    assert_eq!(r.firing.iter().map(|f| f.target.as_str()).collect::<Vec<_>>(), ["a"]);
    assert_eq!(r.firing[0].since, t(0));
    assert_eq!(g.next_due(), Some(t(7210)));
    assert_eq!(g.take(t(3611)), None, "not again before the next interval");
}

#[test]
fn a_reminder_names_only_the_targets_due() {
    let mut g = Grouper::new(WAIT, Some(REPEAT), true);
    g.push(ev("a", "unhealthy", Change::Firing, 0));
    g.take(t(10)).expect("a");
    g.push(ev("b", "unhealthy", Change::Firing, 1000));
    let m = g.take(t(1010)).expect("b");
    assert_eq!(m.firing.len(), 2, "an alert lists every firing target");
    // Both were named at 1010, so both are due at 4610.
    assert_eq!(g.take(t(3610)), None);
    let r = g.take(t(4610)).expect("reminder");
    assert_eq!(r.firing.len(), 2);
}

#[test]
fn repeat_off_never_reminds() {
    let mut g = Grouper::new(WAIT, None, true);
    g.push(ev("a", "unhealthy", Change::Firing, 0));
    g.take(t(10)).expect("first");
    assert_eq!(g.next_due(), None);
    assert_eq!(g.take(t(1_000_000)), None);
}

#[test]
fn assumed_firing_targets_are_reminded_one_interval_later() {
    let mut g = Grouper::new(WAIT, Some(REPEAT), true);
    g.assume_firing("a", "unhealthy", t(-50), t(0));
    assert_eq!(g.next_due(), Some(t(3600)));
    let r = g.take(t(3600)).expect("reminder");
    assert_eq!(r.firing[0].since, t(-50));
    // A firing transition read again keeps the original since.
    g.push(ev("a", "unhealthy", Change::Firing, 3700));
    let m = g.take(t(3710)).expect("alert");
    assert_eq!(m.firing[0].since, t(-50));
}

#[test]
fn a_window_closes_at_once_for_old_events_read_after_a_restart() {
    let mut g = Grouper::new(WAIT, Some(REPEAT), true);
    g.push(ev("a", "unhealthy", Change::Firing, 0));
    assert!(g.take(t(500)).is_some());
}

#[test]
fn coming_up_from_a_restart_resolves_only_a_firing_target() {
    let mut g = Grouper::new(WAIT, Some(REPEAT), true);
    let up_from =
        |target: &str, from: &str, at| Event { from: from.into(), ..ev(target, "healthy", Change::Resolved, at) };
    // An ordinary start: nothing to say.
    g.push(up_from("a", "unknown", 0));
    g.push(up_from("b", "starting", 0));
    assert!(!g.has_pending());
    // A firing target restarted (unhealthy -> unknown, not routed) comes up again.
    g.push(ev("a", "unhealthy", Change::Firing, 1));
    let m = g.take(t(11)).expect("the firing window");
    assert_eq!(m.firing.len(), 1);
    g.push(up_from("a", "unknown", 20));
    let m = g.take(t(30)).expect("the resolved window");
    assert_eq!((m.events.len(), m.events[0].change), (1, Change::Resolved));
    assert!(m.firing.is_empty());
    assert_eq!(g.take(t(30 + 3600)), None, "no reminder for a target that is up");
    // Down and restarted within one window: the recovery is in the same message.
    g.push(ev("b", "unhealthy", Change::Firing, 40));
    g.push(up_from("b", "starting", 42));
    let m = g.take(t(50)).expect("one window");
    assert_eq!(m.events.iter().map(|e| e.change).collect::<Vec<_>>(), [Change::Firing, Change::Resolved]);
    assert!(m.firing.is_empty());
}
