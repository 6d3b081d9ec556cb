//! The status page's HTML (maud: checked at compile time, every value escaped). One
//! self-contained document: the stylesheet and the refresh script are inlined, nothing is
//! loaded from elsewhere, and everything reads without JavaScript.

use super::sparkline::{HEIGHT, WIDTH, sparkline};
use super::text::{age, latency, percent, short_time, utc};
use super::view::{PageView, Row, Section};
use crate::history::Sample;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use vitalcheck::Status;
use vitalcheck::state::TargetStatus;

/// How many results the bar shows (fewer cells are filled while history is short).
pub(super) const BAR_CELLS: usize = 90;

const STYLE: &str = include_str!("style.css");
const SCRIPT: &str = include_str!("refresh.js");

/// The whole document.
pub(super) fn page(view: &PageView) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { "Service status" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                main #page {
                    header.top {
                        h1 { "Service status" }
                        p.updated { "Updated " time datetime=(view.now.to_string()) { (utc(view.now)) } }
                    }
                    (banner(view))
                    @for (i, section) in view.sections.iter().enumerate() {
                        (group(view, i, section))
                    }
                    @if view.hidden > 0 {
                        p.muted { (view.hidden) " more targets are not shown here: see the JSON API." }
                    }
                    @if view.sections.is_empty() {
                        p.targets.empty { "No targets are configured." }
                    }
                    footer {
                        "vitalcheck · "
                        a href="api/v1/targets" { "JSON API" }
                        noscript { " · reload the page to update it" }
                    }
                }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    }
}

/// The line at the top: overall state in words, and how many targets have each status.
fn banner(view: &PageView) -> Markup {
    let counts = view.counts();
    let count = |s: TargetStatus| counts.iter().find(|(c, _)| *c == s).map_or(0, |(_, n)| *n);
    let total: usize = counts.iter().map(|(_, n)| n).sum();
    let (status, words) = match (count(TargetStatus::Unhealthy), count(TargetStatus::Degraded)) {
        _ if total == 0 => (TargetStatus::Unknown, "Nothing to watch yet"),
        (down, _) if down == total => (TargetStatus::Unhealthy, "Major outage"),
        (down, _) if down > 0 => (TargetStatus::Unhealthy, "Partial outage"),
        (_, slow) if slow > 0 => (TargetStatus::Degraded, "Degraded performance"),
        _ if count(TargetStatus::Healthy) == total => (TargetStatus::Healthy, "All systems operational"),
        _ => (TargetStatus::Starting, "Checking"),
    };
    html! {
        section.banner.(class(status)) role="status" {
            strong { (words) }
            span.counts {
                @for (i, (s, n)) in counts.iter().filter(|(_, n)| *n > 0).enumerate() {
                    @if i > 0 { " · " }
                    (n) " " (s.as_str())
                }
            }
        }
    }
}

/// A group's heading and its members (or the targets without a group).
fn group(view: &PageView, index: usize, section: &Section) -> Markup {
    let up = section.members.iter().filter(|r| r.detail.snapshot.is_up()).count();
    let heading = format!("g{index}");
    html! {
        section.group aria-labelledby=(heading) data-group=[section.name.as_deref()] {
            div.group-head {
                h2 id=(heading) { (section.name.as_deref().unwrap_or("Targets")) }
                @if section.name.is_some() { (pill(section.status)) }
                span.muted { (up) " of " (section.members.len()) " up" }
            }
            ul.targets {
                @for row in &section.members { (target(view, row)) }
            }
        }
    }
}

/// One target: name, status, since when, the bar, uptimes, the sparkline, the last error.
fn target(view: &PageView, row: &Row) -> Markup {
    let d = &row.detail;
    let s = &d.snapshot;
    let shown: Vec<String> = if view.public {
        Vec::new()
    } else {
        d.probes.iter().map(|p| p.kind.map_or_else(|| p.target.to_string(), |k| format!("{k}: {}", p.target))).collect()
    };
    html! {
        li.target data-target=(s.name) data-status=(s.status.as_str()) {
            div.head {
                div.who {
                    h3 { (s.name) }
                    @if !shown.is_empty() { span.addr { (shown.join(" · ")) } }
                }
                @if s.paused { span.paused { "paused" } }
                span.since title={ "since " (utc(s.since)) } { "for " (age(view.now, s.since)) }
                (pill(s.status))
            }
            (bar(view, &d.recent))
            div.foot {
                dl.uptime {
                    @for (label, value) in [("1 h", d.uptime.hour), ("24 h", d.uptime.day), ("7 d", d.uptime.week), ("30 d", d.uptime.month)] {
                        div { dt { (label) } dd { (percent(value)) } }
                    }
                }
                (response_time(row))
            }
            @if let Some((words, at)) = &row.error {
                @let current = s.last.as_ref().is_some_and(|l| l.failed());
                p.error.past[!current] title=(utc(*at)) {
                    @if current { "Failing: " } @else { "Last error " (age(view.now, *at)) " ago: " }
                    (words)
                }
            }
        }
    }
}

/// The bar of the last [`BAR_CELLS`] results, oldest on the left, empty cells first while
/// there are fewer; each cell's tooltip says when, what and how fast.
fn bar(view: &PageView, recent: &[Sample]) -> Markup {
    let shown = &recent[recent.len().saturating_sub(BAR_CELLS)..];
    let down = shown.iter().filter(|s| s.status == Status::Unhealthy).count();
    let label = format!("Last {} results: {} up, {down} down", shown.len(), shown.len() - down);
    let ago = |from_end: usize| {
        shown.len().checked_sub(from_end).and_then(|i| shown.get(i)).or(shown.first()).map(|s| age(view.now, s.at))
    };
    html! {
        div.bar role="img" aria-label=(label) {
            @for _ in shown.len()..BAR_CELLS { span title="no data" {} }
            @for s in shown {
                span class=(cell_class(s.status))
                    title={ (short_time(view.now, s.at)) " · " (s.status.as_str()) " · " (latency(s.latency)) } {}
            }
        }
        div.scale aria-hidden="true" {
            span {
                @if let Some(full) = ago(BAR_CELLS) {
                    span.older { (full) " ago" }
                    span.older-short { (ago(BAR_CELLS / 2).unwrap_or_default()) " ago" }
                }
            }
            span { "now" }
        }
    }
}

/// The response-time sparkline with the latest figure, or nothing without up results.
fn response_time(row: &Row) -> Markup {
    let Some(line) = sparkline(&row.detail.recent) else { return html! {} };
    let mut tip = format!("Response time: latest {}, highest shown {}", latency(line.last), latency(line.max));
    if let Some(p) = row.detail.latency {
        tip.push_str(&format!("; p50 {}, p95 {}, p99 {}", latency(p.p50), latency(p.p95), latency(p.p99)));
    }
    html! {
        div.rt title=(tip) {
            svg viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } preserveAspectRatio="none" role="img" aria-label=(tip) {
                polygon points=(line.points) {}
            }
            span { (latency(line.last)) }
        }
    }
}

/// A bar cell's class (short: a page of 1,000 targets has 90,000 cells).
fn cell_class(status: Status) -> &'static str {
    match status {
        Status::Healthy => "h",
        Status::Degraded => "d",
        Status::Unhealthy => "u",
    }
}

/// A status as coloured text (the colour is never the only sign: the word is there).
fn pill(status: TargetStatus) -> Markup {
    html! { span.pill.(class(status)) { (label(status)) } }
}

/// The CSS class of a status: `s-healthy`, ...
fn class(status: TargetStatus) -> String {
    format!("s-{}", status.as_str())
}

/// A status as a word for people.
fn label(status: TargetStatus) -> &'static str {
    match status {
        TargetStatus::Healthy => "Healthy",
        TargetStatus::Degraded => "Degraded",
        TargetStatus::Unhealthy => "Unhealthy",
        TargetStatus::Starting => "Starting",
        TargetStatus::Unknown => "Unknown",
    }
}
