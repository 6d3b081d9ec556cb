//! [`ConfigError`]: what is wrong with a config file, and where: file, line, column, the
//! dotted path of the field, a message, and the line of the file with the spot marked.
//!
//! Positions come from toml's spans: a deserialization error carries its own, and a
//! validation error is located by looking its [`FieldPath`] up in the parsed document.

use std::fmt;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// A config file that cannot be used. One type for every mistake: syntax, unknown fields,
/// wrong types, bad values, missing environment variables, unreadable files.
///
/// `Display` reads `FILE:LINE:COLUMN: PATH: MESSAGE`, followed by the offending line with
/// the spot marked when the position is known:
///
/// ```text
/// vitalcheck.toml:14:12: targets[2].interval: must be greater than zero
///    |
/// 14 | interval = "0s"
///    |            ^^^^
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct ConfigError {
    /// The file, as named to [`Config::load`](super::Config::load) or
    /// [`Config::parse`](super::Config::parse).
    pub file: String,
    /// 1-based line of the offending text, when known.
    pub line: Option<u32>,
    /// 1-based column (in characters) of the offending text, when known.
    pub column: Option<u32>,
    /// Dotted path of the field, like `targets[2].http.status`; empty for the whole file.
    pub path: String,
    /// What is wrong and, where it helps, what was expected.
    pub message: String,
    /// The offending line with the spot marked (`^^^`), when the position is known.
    pub snippet: Option<String>,
}

impl ConfigError {
    /// An error without a position (an unreadable file, a value with no place in it).
    pub(crate) fn unplaced(file: &str, path: &FieldPath, message: impl Into<String>) -> Self {
        ConfigError {
            file: file.to_string(),
            line: None,
            column: None,
            path: path.to_string(),
            message: mask_userinfo(&message.into()),
            snippet: None,
        }
    }

    /// An error at byte range `span` of `text`.
    pub(crate) fn at(file: &str, text: &str, span: Range<usize>, path: &FieldPath, message: impl Into<String>) -> Self {
        let mut err = ConfigError::unplaced(file, path, message);
        let (line, column) = line_column(text, span.start);
        err.line = Some(u32::try_from(line).unwrap_or(u32::MAX));
        err.column = Some(u32::try_from(column).unwrap_or(u32::MAX));
        err.snippet = Some(snippet(text, span, line));
        err
    }

    /// The first line of the message: `FILE:LINE:COLUMN: PATH: MESSAGE`, without the snippet.
    pub fn headline(&self) -> String {
        let mut out = self.file.clone();
        if let (Some(line), Some(column)) = (self.line, self.column) {
            out.push_str(&format!(":{line}:{column}"));
        }
        if !self.path.is_empty() {
            out.push_str(&format!(": {}", self.path));
        }
        out.push_str(&format!(": {}", self.message));
        out
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.headline())?;
        if let Some(snippet) = &self.snippet {
            write!(f, "\n{snippet}")?;
        }
        Ok(())
    }
}

/// One step of a [`FieldPath`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// A table key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// Where a field sits in the file: `targets[2].http.headers.Authorization`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FieldPath(Vec<Segment>);

impl FieldPath {
    /// The whole file.
    pub(crate) fn root() -> Self {
        FieldPath(Vec::new())
    }

    /// This path, then `key`.
    pub(crate) fn key(&self, key: &str) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Key(key.to_string()));
        FieldPath(segments)
    }

    /// This path, then `[index]`.
    pub(crate) fn index(&self, index: usize) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Index(index));
        FieldPath(segments)
    }

    /// The path serde_path_to_error tracked.
    pub(crate) fn from_serde(path: &serde_path_to_error::Path) -> Self {
        use serde_path_to_error::Segment as S;
        let segments = path
            .iter()
            .filter_map(|segment| match segment {
                S::Seq { index } => Some(Segment::Index(*index)),
                S::Map { key } => Some(Segment::Key(key.clone())),
                S::Enum { variant } => Some(Segment::Key(variant.clone())),
                S::Unknown => None,
            })
            .collect();
        FieldPath(segments)
    }

    /// The span of the value at this path in the TOML `text` (parsed again: only errors
    /// need it, and keeping the parsed document through validation would double the
    /// memory a config of 100,000 targets takes while it loads). The whole text if it
    /// does not parse.
    pub(crate) fn locate_in(&self, text: &str) -> Range<usize> {
        match DeTable::parse(text) {
            Ok(doc) => self.locate(&doc),
            Err(_) => 0..text.len(),
        }
    }

    /// The span of the value at this path in `doc`, or of the deepest part of the path that
    /// exists there (a missing field points at its table).
    pub(crate) fn locate(&self, doc: &Spanned<DeTable<'_>>) -> Range<usize> {
        let mut span = doc.span();
        let mut table = Some(doc.get_ref());
        let mut array: Option<&[Spanned<DeValue<'_>>]> = None;
        for segment in &self.0 {
            let found = match segment {
                Segment::Key(key) => table.and_then(|t| t.iter().find(|(k, _)| k.get_ref() == key)).map(|(_, v)| v),
                Segment::Index(i) => array.and_then(|a| a.get(*i)),
            };
            let Some(value) = found else { break };
            span = value.span();
            table = value.get_ref().as_table();
            array = value.get_ref().as_array().map(|a| &a[..]);
        }
        span
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Index(index) => write!(f, "[{index}]")?,
                Segment::Key(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    let bare =
                        !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                    if bare { f.write_str(key)? } else { write!(f, "{key:?}")? }
                }
            }
        }
        Ok(())
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[line_start..offset].chars().count() + 1)
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The line holding `span.start`, with the part of `span` on that line marked.
fn snippet(text: &str, span: Range<usize>, line: usize) -> String {
    let start = floor_char_boundary(text, span.start.min(text.len()));
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let source = text[line_start..line_end].trim_end_matches('\r');
    let end = floor_char_boundary(text, span.end.clamp(start, line_start + source.len()));
    let pad = text[line_start..start].chars().count();
    let marks = text[start..end].chars().count().max(1);
    let gutter = " ".repeat(line.to_string().len());
    format!("{gutter} |\n{line} | {}\n{gutter} | {}{}", mask_userinfo(source), " ".repeat(pad), "^".repeat(marks))
}

/// Hides any password in `scheme://user:password@` inside free text (a snippet, a message
/// quoting a value), keeping the length so the marks below a snippet still line up.
pub(crate) fn mask_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let authority_end = tail.find(['/', '?', '#', '"', '\'', ' ']).unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match (authority.find(':'), authority.rfind('@')) {
            (Some(colon), Some(at)) if colon < at => {
                out.push_str(&authority[..=colon]);
                out.push_str(&"*".repeat(authority[colon + 1..at].chars().count()));
                out.push_str(&authority[at..]);
            }
            _ => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_dotted_with_indexes_and_quoted_odd_keys() {
        let p = FieldPath::root().key("targets").index(2).key("http").key("headers").key("X Token");
        assert_eq!(p.to_string(), "targets[2].http.headers.\"X Token\"");
        assert_eq!(FieldPath::root().to_string(), "");
    }

    #[test]
    fn positions_are_one_based_characters() {
        let text = "a = 1\nbé = \"x\"\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, text.find('"').unwrap()), (2, 6));
    }

    #[test]
    fn snippet_marks_the_span_and_masks_passwords() {
        let text = "x = 1\nurl = \"http://u:pw@h:99999/\"\n";
        let start = text.find('"').unwrap();
        let err = ConfigError::at("f.toml", text, start..text.len() - 1, &FieldPath::root().key("url"), "bad");
        assert_eq!(
            err.to_string(),
            "f.toml:2:7: url: bad\n  |\n2 | url = \"http://u:**@h:99999/\"\n  |       ^^^^^^^^^^^^^^^^^^^^^^"
        );
    }

    #[test]
    fn userinfo_masking_leaves_other_text() {
        assert_eq!(mask_userinfo("see \"https://a:b@c/\" and x://y"), "see \"https://a:*@c/\" and x://y");
        assert_eq!(mask_userinfo("no url"), "no url");
    }
}
