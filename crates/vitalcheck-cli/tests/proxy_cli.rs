//! `vitalcheck check 'proxy+http://…'` against a loopback forward proxy requiring Basic
//! credentials, in front of a loopback origin (both plain std threads).

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use assert_cmd::Command;
use predicates::prelude::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;

const PASSWORD: &str = "s3cret-pw";
/// `Basic base64("user:s3cret-pw")`.
const BASIC: &str = "Basic dXNlcjpzM2NyZXQtcHc=";

/// Runs `handle` on every connection to a fresh 127.0.0.1 listener, one thread each.
fn serve(handle: fn(TcpStream)) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || handle(stream));
        }
    });
    addr
}

fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

fn origin(mut stream: TcpStream) {
    read_head(&mut stream);
    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
}

/// Forwards absolute-form GETs when the right `Proxy-Authorization` is sent; 407 otherwise.
fn proxy(mut client: TcpStream) {
    let head = read_head(&mut client);
    let authorized = head.lines().any(|l| {
        l.split_once(':').is_some_and(|(k, v)| k.eq_ignore_ascii_case("proxy-authorization") && v.trim() == BASIC)
    });
    if !authorized {
        let _ = client.write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n");
        return;
    }
    let target = head.split_whitespace().nth(1).unwrap();
    let rest = target.strip_prefix("http://").unwrap();
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut upstream = TcpStream::connect(authority).unwrap();
    write!(upstream, "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n").unwrap();
    let _ = std::io::copy(&mut upstream, &mut client);
}

#[test]
fn check_through_a_proxy_with_and_without_credentials() {
    let (origin, proxy) = (serve(origin), serve(proxy));
    let target = format!("proxy+http://user:{PASSWORD}@{proxy}?url=http://{origin}/health");
    let shown = format!("proxy+http://user:***@{proxy}?url=http://{origin}/health");
    Command::cargo_bin("vitalcheck")
        .unwrap()
        .args(["check", &target])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("healthy").and(predicate::str::contains(&shown)))
        .stdout(predicate::str::contains("200 OK via HTTP proxy").and(predicate::str::contains(PASSWORD).not()));

    let no_credentials = format!("proxy+http://{proxy}?url=http://{origin}/health");
    Command::cargo_bin("vitalcheck")
        .unwrap()
        .args(["check", &no_credentials])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("HTTP status 407: proxy authentication required"));
}
