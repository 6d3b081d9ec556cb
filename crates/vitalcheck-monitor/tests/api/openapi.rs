//! Checks answers against the OpenAPI document the server serves: the route and status
//! code must be documented, the content type must be one the document lists, and a JSON
//! body must validate against the documented schema (JSON Schema 2020-12, formats
//! checked), and an HTML, SVG or OpenMetrics body must be whole (its first and last
//! markers). Every request `tests/api.rs` makes goes through [`OpenApi::check`].

use jsonschema::Validator;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// The document, read from the same file the server embeds.
pub(crate) fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        serde_json::from_str(include_str!("../../src/api/rest/openapi.json")).expect("openapi.json is JSON")
    })
}

/// Escapes one JSON-pointer token.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The documented path template that `path` (without its query) matches, if any; a
/// literal segment wins over a `{parameter}`.
pub(crate) fn template_of(path: &str) -> Option<&'static str> {
    let path = path.split('?').next().unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    let paths = document()["paths"].as_object().expect("paths");
    let mut best: Option<(&str, usize)> = None;
    for template in paths.keys() {
        let parts: Vec<&str> = template.split('/').collect();
        if parts.len() != segments.len() {
            continue;
        }
        let fits = parts.iter().zip(&segments).all(|(p, s)| (p.starts_with('{') && !s.is_empty()) || p == s);
        let literals = parts.iter().filter(|p| !p.starts_with('{')).count();
        if fits && best.is_none_or(|(_, n)| literals > n) {
            best = Some((template, literals));
        }
    }
    best.map(|(t, _)| t)
}

/// Follows a `$ref` within the document; returns the pointer and the value.
fn resolve(pointer: String) -> (String, &'static Value) {
    let mut pointer = pointer;
    loop {
        let value = document().pointer(&pointer).unwrap_or_else(|| panic!("no {pointer} in the document"));
        match value.get("$ref").and_then(Value::as_str) {
            Some(target) => pointer = target.trim_start_matches('#').to_owned(),
            None => return (pointer, value),
        }
    }
}

/// A validator for the schema at `pointer`, compiled once.
fn validator(pointer: &str) -> std::sync::Arc<Validator> {
    static CACHE: OnceLock<Mutex<HashMap<String, std::sync::Arc<Validator>>>> = OnceLock::new();
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap();
    let entry = cache.entry(pointer.to_owned()).or_insert_with(|| {
        // The whole document is the root resource, so `#/components/...` resolves.
        let mut root = document().clone();
        // A pointer in a URI fragment: `{` and `}` of path templates percent-encoded.
        let fragment = pointer.replace('{', "%7B").replace('}', "%7D");
        root["$ref"] = json!(format!("#{fragment}"));
        let validator = jsonschema::options().should_validate_formats(true).build(&root).expect("a valid schema");
        std::sync::Arc::new(validator)
    });
    std::sync::Arc::clone(entry)
}

/// Panics unless the answer to `method path` (`status`, `content_type`, `body`) is as
/// the document says. Returns the path template it matched.
pub(crate) fn check(method: &str, path: &str, status: u16, content_type: &str, body: &str) -> &'static str {
    let template = template_of(path).unwrap_or_else(|| panic!("{method} {path}: the route is not documented"));
    let operation = format!("/paths/{}/{}", escape(template), method.to_ascii_lowercase());
    assert!(document().pointer(&operation).is_some(), "{method} {template}: the method is not documented");
    let response = format!("{operation}/responses/{status}");
    assert!(
        document().pointer(&response).is_some(),
        "{method} {template}: status {status} is not documented (body: {body})"
    );
    let (response, value) = resolve(response);
    let Some(content) = value.get("content").and_then(Value::as_object) else {
        assert!(body.is_empty(), "{method} {template} {status}: a body where none is documented");
        return template;
    };
    let media = content_type.split(';').next().unwrap_or_default().trim();
    assert!(
        content.contains_key(media),
        "{method} {template} {status}: content type {content_type:?}, documented {:?}",
        content.keys().collect::<Vec<_>>()
    );
    if media == "application/json" {
        let instance: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e})"));
        let schema = format!("{response}/content/{}/schema", escape(media));
        let errors: Vec<String> =
            validator(&schema).iter_errors(&instance).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(
            errors.is_empty(),
            "{method} {path} {status}: the body does not match the document:\n{}\n{body}",
            errors.join("\n")
        );
    }
    // The other media types: what a client of each relies on.
    let expected_start_end = match media {
        "text/html" => Some(("<!DOCTYPE html>", "</html>")),
        "image/svg+xml" => Some(("<svg", "</svg>")),
        "application/openmetrics-text" => Some(("# ", "# EOF\n")),
        _ => None,
    };
    if let Some((start, end)) = expected_start_end {
        assert!(
            body.starts_with(start) && body.ends_with(end),
            "{method} {path} {status}: a {media} body starts with {start:?} and ends with {end:?}: {body:.200}"
        );
    }
    template
}

/// Panics unless `value` validates against `#/components/schemas/{name}`.
pub(crate) fn check_schema(name: &str, value: &Value) {
    let pointer = format!("/components/schemas/{name}");
    let errors: Vec<String> =
        validator(&pointer).iter_errors(value).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{value} does not match {name}:\n{}", errors.join("\n"));
}

/// Every (method, path template) the document names.
pub(crate) fn operations() -> Vec<(String, String)> {
    let mut all = Vec::new();
    for (template, item) in document()["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            all.push((method.to_ascii_uppercase(), template.clone()));
        }
    }
    all
}
