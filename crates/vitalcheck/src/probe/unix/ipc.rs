//! The IPC exchange of the unix probe: ask, tell a protocol answer from anything else, and
//! judge the answer.

use super::{AUTO_FIRST_BYTE, UnixProbe};
use crate::Status;
use crate::ipc_client::{IpcAnswer, IpcClient, IpcClientError};
use crate::ipc_protocol::{claims_protocol, excerpt};
use crate::probe::{ErrorKind, Observation, Phase, Phases, ProbeError};
use crate::report::{HealthReport, LifecycleState};
use crate::service::CheckType;
use std::time::Duration;
use tokio::net::UnixStream;
use tokio::time::{Instant, timeout_at};

/// The longest answer line the probe reads: full reports of many components are long.
const MAX_ANSWER: usize = 1024 * 1024;

/// At most this many failing components are named in a message.
const SHOW_COMPONENTS: usize = 5;

/// How the exchange went, short of an error.
#[derive(Debug)]
pub(super) enum Exchange {
    /// The socket answered in the protocol.
    Answered(IpcAnswer),
    /// It did not speak the protocol (auto mode only); why, for the detail.
    NotSpoken(String),
}

impl UnixProbe {
    /// Sends the `check_type` request on `stream` and reads the answer before `deadline`.
    /// With `required` false, a peer that does not speak the protocol is [`Exchange::NotSpoken`].
    pub(super) async fn ask(
        &self,
        stream: UnixStream,
        check_type: CheckType,
        required: bool,
        deadline: Instant,
        phases: &mut Phases,
    ) -> Result<Exchange, ProbeError> {
        let asked = check_type.as_str();
        let mut client = IpcClient::from_stream(self.path.clone(), stream).max_line(MAX_ANSWER);
        let sent_at = Instant::now();
        match timeout_at(deadline, client.send(check_type)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return self.not_spoken(required, format!("closed before the {asked} request was sent")),
            Err(_) => return Err(self.error(ErrorKind::Timeout(Phase::FirstByte), "the request was not taken")),
        }
        let first_wait = if required { deadline } else { deadline.min(sent_at + AUTO_FIRST_BYTE) };
        match timeout_at(first_wait, client.first_byte()).await {
            Ok(Ok(true)) => phases.first_byte = Some(sent_at.elapsed()),
            Ok(Ok(false) | Err(_)) => return self.not_spoken(required, format!("closed without answering {asked}")),
            Err(_) if required => {
                return Err(self.error(ErrorKind::Timeout(Phase::FirstByte), format!("no answer to {asked}")));
            }
            Err(_) => return Ok(Exchange::NotSpoken(format!("no IPC answer within {AUTO_FIRST_BYTE:?}"))),
        }
        match timeout_at(deadline, client.receive(check_type)).await {
            Ok(Ok(answer)) => Ok(Exchange::Answered(answer)),
            Ok(Err(err)) => self.bad_answer(err, client.partial(), required),
            Err(_) => {
                let partial = client.partial().trim_ascii_start();
                if !required && !partial.is_empty() && partial[0] != b'{' {
                    return Ok(Exchange::NotSpoken(format!("not an IPC health socket: it said {}", excerpt(partial))));
                }
                Err(self.error(ErrorKind::Timeout(Phase::FirstByte), format!("no complete answer to {asked}")))
            }
        }
    }

    /// Classifies an answer the client could not use.
    fn bad_answer(&self, err: IpcClientError, line: &[u8], required: bool) -> Result<Exchange, ProbeError> {
        match err {
            IpcClientError::NotProtocol { excerpt, .. } if !claims_protocol(line) => {
                self.not_spoken(required, format!("not an IPC health socket: it said {excerpt}"))
            }
            IpcClientError::Closed { .. } => self.not_spoken(required, "closed without answering".into()),
            IpcClientError::Io { source, .. } if required => {
                Err(self.error(ErrorKind::Io, "read failed").with_source(source))
            }
            IpcClientError::Io { .. } => Ok(Exchange::NotSpoken("the connection failed before an answer".into())),
            IpcClientError::NotProtocol { excerpt, .. } => {
                Err(self.error(ErrorKind::Protocol, format!("malformed IPC answer: {excerpt}")))
            }
            IpcClientError::Server { message, .. } => {
                Err(self.error(ErrorKind::Protocol, format!("the server refused the request: {message}")))
            }
            other => Err(self.error(ErrorKind::Protocol, other.to_string())),
        }
    }

    /// `NotSpoken(why)` in auto mode; a protocol error when the protocol is required.
    fn not_spoken(&self, required: bool, why: String) -> Result<Exchange, ProbeError> {
        if required { Err(self.error(ErrorKind::Protocol, why)) } else { Ok(Exchange::NotSpoken(why)) }
    }

    fn error(&self, kind: ErrorKind, detail: impl Into<String>) -> ProbeError {
        ProbeError::new(kind, self.to_string(), detail)
    }

    /// Healthy (or Degraded) for an ok answer; [`ErrorKind::Expectation`] with the reasons
    /// otherwise.
    pub(super) fn judge(
        &self,
        answer: IpcAnswer,
        latency: Duration,
        phases: Phases,
    ) -> Result<Observation, ProbeError> {
        let asked = answer.check_type.as_str();
        let status = answer.report.as_ref().map(|r| r.status);
        if answer.ok {
            let mut obs = Observation::healthy(latency, format!("{asked} ok")).with_phases(phases);
            if let Some(status) = status {
                obs.detail.push_str(&format!(" (status {})", status.as_str()));
                obs.status = if status == Status::Degraded { Status::Degraded } else { Status::Healthy };
            }
            return Ok(obs);
        }
        let reasons = answer.report.as_ref().map(reasons).unwrap_or_else(|| "no report".into());
        Err(self.error(ErrorKind::Expectation, format!("{asked}: not ok ({reasons})")))
    }
}

/// `status unhealthy; lifecycle starting; gate warmup: cold; db: refused`.
fn reasons(report: &HealthReport) -> String {
    let mut parts = vec![format!("status {}", report.status.as_str())];
    if report.lifecycle != LifecycleState::Running {
        parts.push(format!("lifecycle {}", report.lifecycle.as_str()));
    }
    parts.extend(report.failing_gates.iter().map(|gate| format!("gate {gate}")));
    let failing: Vec<_> = report.components.iter().filter(|c| c.status != Status::Healthy).collect();
    for component in failing.iter().take(SHOW_COMPONENTS) {
        let why = component.message.as_deref().unwrap_or(component.status.as_str());
        parts.push(format!("{}: {why}", component.name));
    }
    if failing.len() > SHOW_COMPONENTS {
        parts.push(format!("and {} more", failing.len() - SHOW_COMPONENTS));
    }
    parts.join("; ")
}
