//! The signals a supervisor handles: TERM and INT stop the child (and the supervisor);
//! HUP, USR1 and USR2 are passed on to it.

use rustix::process::Signal;
use std::io;
use tokio::signal::unix::{SignalKind, signal};

/// What a received signal asks of the supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// TERM or INT: stop the child with this signal, do not restart, exit.
    Stop(Signal),
    /// HUP, USR1 or USR2: send it to the child.
    Forward(Signal),
}

impl Received {
    /// The signal's name (`TERM`, `HUP`, ...).
    pub fn name(self) -> &'static str {
        let (Received::Stop(signal) | Received::Forward(signal)) = self;
        match signal {
            Signal::TERM => "TERM",
            Signal::INT => "INT",
            Signal::HUP => "HUP",
            Signal::USR1 => "USR1",
            Signal::USR2 => "USR2",
            _ => "?",
        }
    }
}

/// The five signal streams, registered once.
#[derive(Debug)]
pub struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
    usr1: tokio::signal::unix::Signal,
    usr2: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs the handlers (from now on these signals no longer end this process).
    pub fn install() -> io::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
            usr1: signal(SignalKind::user_defined1())?,
            usr2: signal(SignalKind::user_defined2())?,
        })
    }

    /// The next signal (cancel safe).
    pub async fn recv(&mut self) -> Received {
        tokio::select! {
            Some(()) = self.term.recv() => Received::Stop(Signal::TERM),
            Some(()) = self.int.recv() => Received::Stop(Signal::INT),
            Some(()) = self.hup.recv() => Received::Forward(Signal::HUP),
            Some(()) = self.usr1.recv() => Received::Forward(Signal::USR1),
            Some(()) = self.usr2.recv() => Received::Forward(Signal::USR2),
            else => std::future::pending().await,
        }
    }
}
