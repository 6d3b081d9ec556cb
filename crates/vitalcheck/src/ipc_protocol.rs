//! The IPC health protocol spoken over a Unix socket: one JSON object per line, tagged by
//! `type`. Shared by the server ([`serve::ipc`](crate::serve)) and the client
//! ([`IpcClient`](crate::ipc_client::IpcClient)).
//!
//! | direction | line |
//! |---|---|
//! | request | `{"type":"health_check","check_type":"liveness"\|"readiness"\|"full"}` |
//! | answer | `{"type":"health_response","check_type":…,"ok":true,"report":{…}\|null}` |
//! | refusal | `{"type":"error","message":"…"}` (malformed JSON, unknown type, line over the cap) |
//!
//! A connection carries any number of requests; each is answered in order, and an error
//! answer does not close the connection. Lines are capped ([`MAX_LINE`] by default): the
//! rest of an over-long line is discarded up to its newline and answered with an error.
//!
//! A server may write whitespace before an answer as soon as it has read a request (the
//! vitalcheck server writes one space, so a client can tell at once that the socket
//! speaks the protocol even when the checks take a while). Every JSON parser skips it.
//!
//! ```
//! use vitalcheck::ipc_protocol::{Request, Response};
//! use vitalcheck::service::CheckType;
//!
//! let line = serde_json::to_string(&Request::HealthCheck { check_type: CheckType::Readiness }).unwrap();
//! assert_eq!(line, r#"{"type":"health_check","check_type":"readiness"}"#);
//! let answer: Response = serde_json::from_str(r#" {"type":"error","message":"unknown type"}"#).unwrap();
//! assert_eq!(answer, Response::Error { message: "unknown type".into() });
//! ```

use crate::report::HealthReport;
use crate::service::CheckType;
use serde::{Deserialize, Serialize};
use std::io;
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// The default cap on the length of one line, in bytes (64 KiB), newline excluded.
pub const MAX_LINE: usize = 64 * 1024;

/// A line a client sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Request {
    /// Ask one question of the service.
    HealthCheck {
        /// Which question.
        check_type: CheckType,
    },
}

/// A line a server answers with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Response {
    /// The answer to a [`Request::HealthCheck`].
    HealthResponse {
        /// The question answered.
        check_type: CheckType,
        /// Whether the answer is yes.
        ok: bool,
        /// The report behind the answer, if the server shares it.
        report: Option<HealthReport>,
    },
    /// The request line was not understood; the connection stays open.
    Error {
        /// Why, for people.
        message: String,
    },
}

impl Response {
    #[cfg(feature = "probes")]
    /// The `type` tags a response may carry: a line whose `type` is one of them speaks the
    /// protocol, even if the rest of it is broken.
    pub(crate) const TYPES: [&'static str; 2] = ["health_response", "error"];

    #[cfg(feature = "ipc")]
    /// Encodes the response as one line, newline included.
    pub(crate) fn to_line(&self) -> Vec<u8> {
        // Serializing these types cannot fail: string keys, no maps with non-string keys.
        let mut line = serde_json::to_vec(self).unwrap_or_else(|e| {
            format!(r#"{{"type":"error","message":"cannot encode the answer: {e}"}}"#).into_bytes()
        });
        line.push(b'\n');
        line
    }
}

/// What [`read_line`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineRead {
    /// A line is in the buffer (newline and a trailing `\r` removed).
    Line,
    /// A line longer than the cap was read and discarded up to its newline (or the end).
    TooLong,
    /// The peer closed the stream with nothing more to read.
    Eof,
}

/// Reads one line of at most `max` bytes into `buf` (cleared first). Memory stays bounded:
/// past `max` the bytes are dropped as they arrive. A last line without a newline counts as
/// a line. If the future is dropped midway, `buf` holds the bytes read so far.
pub(crate) async fn read_line<R>(reader: &mut R, buf: &mut Vec<u8>, max: usize) -> io::Result<LineRead>
where
    R: AsyncBufRead + Unpin,
{
    buf.clear();
    let mut too_long = false;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(match (too_long, buf.is_empty()) {
                (true, _) => LineRead::TooLong,
                (false, true) => LineRead::Eof,
                (false, false) => LineRead::Line,
            });
        }
        let newline = available.iter().position(|&b| b == b'\n');
        let chunk = &available[..newline.unwrap_or(available.len())];
        if !too_long && buf.len() + chunk.len() <= max {
            buf.extend_from_slice(chunk);
        } else {
            too_long = true;
            buf.clear();
        }
        let used = newline.map_or(chunk.len(), |n| n + 1);
        reader.consume(used);
        if newline.is_some() {
            if too_long {
                return Ok(LineRead::TooLong);
            }
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(LineRead::Line);
        }
    }
}

#[cfg(feature = "probes")]
/// Whether `line` claims to be a protocol answer (a JSON object with a known `type`), even
/// if the rest of it does not decode.
pub(crate) fn claims_protocol(line: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Tagged {
        r#type: String,
    }
    serde_json::from_slice::<Tagged>(line).is_ok_and(|t| Response::TYPES.contains(&t.r#type.as_str()))
}

/// The first 64 characters of `line`, lossily decoded, for messages.
pub(crate) fn excerpt(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    let text = text.trim();
    match text.char_indices().nth(64) {
        Some((cut, _)) => format!("{:?}…", &text[..cut]),
        None => format!("{text:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::BufReader;

    async fn lines(input: &[u8], max: usize, capacity: usize) -> Vec<(LineRead, String)> {
        let mut reader = BufReader::with_capacity(capacity, input);
        let mut buf = Vec::new();
        let mut out = Vec::new();
        loop {
            let read = read_line(&mut reader, &mut buf, max).await.expect("read");
            out.push((read, String::from_utf8_lossy(&buf).into_owned()));
            if read == LineRead::Eof {
                return out;
            }
        }
    }

    #[tokio::test]
    async fn splits_lines_and_caps_them_across_buffer_refills() {
        let input = b"short\r\n0123456789abc\nfits-10ch\nlast";
        for capacity in [1, 3, 8, 64] {
            let got = lines(input, 10, capacity).await;
            let expected = [
                (LineRead::Line, "short"),
                (LineRead::TooLong, ""),
                (LineRead::Line, "fits-10ch"),
                (LineRead::Line, "last"),
                (LineRead::Eof, ""),
            ];
            let expected: Vec<_> = expected.iter().map(|(r, s)| (*r, (*s).to_owned())).collect();
            assert_eq!(got, expected, "buffer capacity {capacity}");
        }
    }

    #[tokio::test]
    async fn an_endless_line_at_eof_is_too_long() {
        assert_eq!(lines(&[b'x'; 100], 10, 16).await[0].0, LineRead::TooLong);
    }

    #[cfg(feature = "ipc")]
    #[test]
    fn wire_forms() {
        let answer = Response::HealthResponse { check_type: CheckType::Liveness, ok: true, report: None };
        assert_eq!(
            answer.to_line(),
            b"{\"type\":\"health_response\",\"check_type\":\"liveness\",\"ok\":true,\"report\":null}\n"
        );
        let err: Result<Request, _> = serde_json::from_str(r#"{"type":"health_check","check_type":"deep"}"#);
        assert!(err.is_err());
    }
}
