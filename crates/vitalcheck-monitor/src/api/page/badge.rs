//! Status badges for READMEs: `GET /badge/{name}.svg` (a target) and
//! `GET /badge/group/{name}.svg` (a group, its status as a pool: see [`group_status`]).
//! Flat, shields.io-like SVG: the label (the name, or `?label=`) on grey, the status on its
//! colour. `Cache-Control: no-cache`, so image proxies (GitHub's camo) ask again. An
//! unknown name answers 404 with a grey `not found` badge.

use super::super::ApiState;
use super::view::group_status;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use vitalcheck::state::TargetStatus;

/// The longest `?label=` kept (in characters); longer ones are cut.
const MAX_LABEL: usize = 64;

/// `?label=`: the text on the left instead of the name.
#[derive(Debug, Deserialize)]
pub(super) struct BadgeParams {
    label: Option<String>,
}

/// `GET /badge/{name}.svg`.
pub(super) async fn target(
    State(state): State<ApiState>,
    Path(file): Path<String>,
    Query(params): Query<BadgeParams>,
) -> Response {
    let Some(name) = file.strip_suffix(".svg") else { return not_found(&file, params) };
    match state.engine.target(name) {
        Some(t) => answer(StatusCode::OK, &label(name, params), t.snapshot.status.as_str(), color(t.snapshot.status)),
        None => not_found(name, params),
    }
}

/// `GET /badge/group/{name}.svg`.
pub(super) async fn group(
    State(state): State<ApiState>,
    Path(file): Path<String>,
    Query(params): Query<BadgeParams>,
) -> Response {
    let Some(name) = file.strip_suffix(".svg") else { return not_found(&file, params) };
    match state.engine.group(name) {
        Some(members) => {
            let status = group_status(members.iter().map(|m| m.status));
            answer(StatusCode::OK, &label(name, params), status.as_str(), color(status))
        }
        None => not_found(name, params),
    }
}

fn label(name: &str, params: BadgeParams) -> String {
    params.label.unwrap_or_else(|| name.to_owned()).chars().take(MAX_LABEL).collect()
}

fn not_found(name: &str, params: BadgeParams) -> Response {
    answer(StatusCode::NOT_FOUND, &label(name, params), "not found", GREY)
}

fn answer(code: StatusCode, label: &str, message: &str, color: &str) -> Response {
    let headers = [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")];
    (code, headers, svg(label, message, color).into_string()).into_response()
}

const GREY: &str = "#9f9f9f";

/// The badge colour of a status (shields.io's palette).
pub(super) fn color(status: TargetStatus) -> &'static str {
    match status {
        TargetStatus::Healthy => "#4c1",
        TargetStatus::Degraded => "#dfb317",
        TargetStatus::Unhealthy => "#e05d44",
        TargetStatus::Starting => "#007ec6",
        TargetStatus::Unknown => GREY,
    }
}

/// The badge: `label` on grey, `message` on `color`, 20 px high, widths from
/// [`text_width`].
pub(super) fn svg(label: &str, message: &str, color: &str) -> Markup {
    let (lw, mw) = (text_width(label) + 10, text_width(message) + 10);
    let width = lw + mw;
    let title = format!("{label}: {message}");
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(width) height="20" role="img" aria-label=(title) {
            title { (title) }
            linearGradient id="s" x2="0" y2="100%" {
                stop offset="0" stop-color="#bbb" stop-opacity=".1" {}
                stop offset="1" stop-opacity=".1" {}
            }
            clipPath id="r" { rect width=(width) height="20" rx="3" fill="#fff" {} }
            g clip-path="url(#r)" {
                rect width=(lw) height="20" fill="#555" {}
                rect x=(lw) width=(mw) height="20" fill=(color) {}
                rect width=(width) height="20" fill="url(#s)" {}
            }
            g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11" {
                (text(lw / 2, label))
                (text(lw + mw / 2, message))
            }
        }
    }
}

/// Text with shields' drop shadow, centred on `x`.
fn text(x: u32, content: &str) -> Markup {
    html! {
        text x=(x) y="15" fill="#010101" fill-opacity=".3" { (content) }
        text x=(x) y="14" { (content) }
    }
}

/// The width of `text` in Verdana 11 px, estimated per character (close enough that the
/// text fits its box; renderers differ by a pixel or two anyway).
pub(super) fn text_width(text: &str) -> u32 {
    let tenths: u32 = text
        .chars()
        .map(|c| match c {
            'i' | 'l' | 'j' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' => 35,
            ' ' | 'f' | 't' | 'r' | 'I' | '(' | ')' | '[' | ']' | '-' | '/' => 45,
            'm' | 'w' | 'M' | 'W' | '@' | '%' => 105,
            c if c.is_ascii_uppercase() => 76,
            c if c.is_ascii() => 66,
            _ => 90,
        })
        .sum();
    tenths.div_ceil(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn badges_fit_their_text_and_escape_it() {
        assert_eq!(text_width("healthy"), 41);
        assert!(text_width("WWW") > text_width("iii"));
        let svg = svg("a<b>&\"", "healthy", color(TargetStatus::Healthy)).into_string();
        assert!(svg.contains("a&lt;b&gt;&amp;&quot;"), "{svg}");
        assert!(!svg.contains("<b>"));
        assert!(svg.contains("fill=\"#4c1\""));
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), "{svg}");
    }
}
