//! The loopback HTTP server the measurements probe.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// The answer to every connection.
const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

/// A tiny HTTP/1.1 server on a std thread: reads each request head, answers 200 "ok",
/// closes. Connections that send nothing (a TCP probe) get the answer too, which they
/// may never read.
pub(crate) struct Server {
    /// The address the listener is bound to.
    addr: SocketAddr,
    /// Set when the server is dropped; the accept loop stops at the next connection.
    stop: Arc<AtomicBool>,
    /// The accept loop, joined on drop.
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves `listener` on a new thread until the server is dropped.
    pub(crate) fn start(listener: TcpListener) -> Server {
        let addr = listener.local_addr().expect("local address of the listener");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = thread::Builder::new()
            .name("e2e-server".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if flag.load(Ordering::Acquire) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        serve(stream);
                    }
                }
            })
            .expect("spawn the server thread");
        Server { addr, stop, thread: Some(thread) }
    }

    /// The port the server listens on.
    pub(crate) fn port(&self) -> u16 {
        self.addr.port()
    }
}

impl Drop for Server {
    /// Stops the accept loop and joins its thread.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wake the blocking accept.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Answers one connection: reads the request head (if any), writes [`RESPONSE`].
fn serve(mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_nodelay(true);
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    // Read the request head: up to the blank line, EOF, an error, or 16 KiB.
    while head.len() < 16 * 1024 && !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let _ = stream.write_all(RESPONSE);
    let _ = stream.flush();
}
