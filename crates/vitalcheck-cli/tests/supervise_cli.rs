//! `vitalcheck supervise` as a real process over a real child: this test binary run again
//! in child mode (`supervise/child.rs`: an HTTP server that can hang, crash, ignore
//! SIGTERM, start a grandchild, and logs what happens to it). Every wait is bounded
//! (`supervise::BOUND`); no fixed sleeps; delays are checked from recorded timestamps
//! with lower bounds only.

mod supervise;

use rustix::process::Signal;
use std::time::Instant;
use supervise::{Supervise, alive, children_of, free_port, get, poll, zombie};

/// Not a test: the entry point of the child program when `VC_CHILD=1`.
#[test]
fn child_program() {
    if std::env::var("VC_CHILD").as_deref() == Ok("1") {
        supervise::child::main();
    }
}

/// Liveness on the child's port, probed every 100 ms, 3 failures, small backoff and grace.
fn liveness_flags(port: &str) -> Vec<String> {
    [
        "--liveness",
        &format!("http://127.0.0.1:{port}/livez"),
        "--interval",
        "100ms",
        "--timeout",
        "300ms",
        "--failure-threshold",
        "3",
        "--backoff-initial",
        "100ms",
        "--grace",
        "3s",
    ]
    .map(str::to_owned)
    .to_vec()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn starts(log: &[String]) -> Vec<(u32, u128)> {
    log.iter()
        .filter_map(|l| {
            let mut parts = l.strip_prefix("start ")?.split(' ');
            Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
        })
        .collect()
}

#[test]
fn a_hung_child_is_restarted_after_exactly_the_failure_threshold() {
    let port = free_port().to_string();
    let flags = liveness_flags(&port);
    let mut sup = Supervise::start(&strs(&flags), &[("VC_PORT", &port)]);
    sup.wait_for("started pid");
    sup.wait_for("ready");
    let port: u16 = port.parse().expect("port");
    let hung_at = Instant::now();
    assert_eq!(get(port, "/hang").map(|r| r.0), Some(200));
    let (restart, _) = sup.wait_for("restarting in");
    assert!(restart.contains("liveness probe failed 3 times in a row (last: "), "{restart}");
    assert!(restart.contains("restart 1 since reset, 1 in total"), "{restart}");
    // Exactly the threshold: three failed probes logged, three probes that hung.
    let failed = sup.seen.iter().filter(|l| l.contains("liveness probe failed (")).count();
    assert_eq!(failed, 3, "{:#?}", sup.seen);
    let hung_probes = sup.child_log().iter().filter(|l| l.starts_with("request /livez hung=true")).count();
    assert_eq!(hung_probes, 3, "{:#?}", sup.child_log());
    let (started, _) = sup.wait_for("started pid");
    assert!(started.contains("restarts so far: 1"), "{started}");
    let (_, healthy_again) = sup.wait_for("ready");
    eprintln!("FIGURE hang -> restarted child ready: {:?}", healthy_again - hung_at);
    let pids: Vec<u32> = starts(&sup.child_log()).into_iter().map(|(pid, _)| pid).collect();
    assert_eq!(pids.len(), 2, "{pids:?}");
    assert!(!alive(pids[0]), "the hung child is still running");
}

#[test]
fn a_child_ignoring_sigterm_is_killed_after_the_grace_period() {
    let port = free_port().to_string();
    let mut flags = liveness_flags(&port);
    let grace = flags.iter().position(|f| f == "3s").expect("grace");
    flags[grace] = "700ms".into();
    let mut sup = Supervise::start(&strs(&flags), &[("VC_PORT", &port), ("VC_MODE", "ignore-term")]);
    sup.wait_for("ready");
    sup.wait_log("handlers");
    get(port.parse().expect("port"), "/hang");
    sup.wait_for("stopping the child: liveness probe failed");
    let (killed, _) = sup.wait_for("grace period: killed (SIGKILL)");
    assert!(killed.contains("still running after the 700ms grace period"), "{killed}");
    // It got SIGTERM first, ignored it, and lived on for (most of) the grace period: its
    // own clock, not when this test read the lines, which a loaded machine delays.
    let log = sup.child_log();
    let ms = |line: &str| line.rsplit(' ').next().and_then(|n| n.parse::<u64>().ok()).expect("a time");
    let ignored = log.iter().find(|l| l.starts_with("ignored TERM ")).map(|l| ms(l)).expect("SIGTERM ignored");
    let last_alive = log.iter().filter(|l| l.starts_with("alive ")).map(|l| ms(l)).max().unwrap_or(ignored);
    // The heartbeat is every 20 ms; a busy machine may delay the last ones.
    assert!(last_alive - ignored >= 350, "killed {} ms after SIGTERM, before the grace period", last_alive - ignored);
    let (restart, _) = sup.wait_for("restarting in");
    assert!(restart.contains("liveness probe failed 3 times"), "{restart}");
    let first = starts(&sup.child_log())[0].0;
    assert!(!alive(first));
}

#[test]
fn a_crash_looping_child_backs_off_then_gives_up() {
    let flags =
        ["--restart", "on-failure", "--backoff-initial", "200ms", "--backoff-max", "800ms", "--max-restarts", "4"];
    let mut sup = Supervise::start(&flags, &[("VC_MODE", "crash=3")]);
    let status = sup.wait_exit();
    assert_eq!(status.code(), Some(3), "gives up with the child's code");
    let delays: Vec<&str> =
        sup.seen.iter().filter_map(|l| l.split("restarting in ").nth(1)?.split(':').next()).collect();
    assert_eq!(delays, ["200ms", "400ms", "800ms", "800ms"]);
    assert!(sup.seen.iter().any(|l| l.contains("giving up after 4 restarts: the child exited with code 3")));
    assert!(sup.seen.iter().any(|l| l.contains("gave up")));
    // The recorded start times are at least the announced delays apart.
    let times: Vec<u128> = starts(&sup.child_log()).into_iter().map(|(_, ms)| ms).collect();
    assert_eq!(times.len(), 5, "{times:?}");
    for (gap, min) in times.windows(2).map(|w| w[1] - w[0]).zip([200, 400, 800, 800]) {
        assert!(gap >= min, "restart after {gap} ms, expected at least {min} ms: {times:?}");
    }
}

#[test]
fn grandchildren_are_gone_after_a_restart() {
    let port = free_port().to_string();
    let flags = liveness_flags(&port);
    let mut sup = Supervise::start(&strs(&flags), &[("VC_PORT", &port), ("VC_MODE", "grandchild")]);
    sup.wait_for("ready");
    let line = sup.wait_log("grandchild ");
    let grandchild: u32 = line["grandchild ".len()..].parse().expect("pid");
    assert!(alive(grandchild));
    get(port.parse().expect("port"), "/hang");
    sup.wait_for("restarting in");
    sup.wait_for("started pid");
    poll(|| (!alive(grandchild)).then_some(()), "the grandchild to be gone");
    // Not left as a zombie either: it came to vitalcheck (subreaper) and was reaped, or
    // its parent reaped it before dying.
    poll(|| (!zombie(grandchild)).then_some(()), "the grandchild to be reaped");
}

#[test]
fn signals_reach_the_child_and_its_exit_code_passes_through() {
    let mut sup = Supervise::start(&["--grace", "5s"], &[("VC_MODE", "term-code=42")]);
    sup.wait_for("started pid");
    sup.wait_log("handlers");
    for (signal, name) in [(Signal::HUP, "HUP"), (Signal::USR1, "USR1"), (Signal::USR2, "USR2")] {
        sup.signal(signal);
        sup.wait_log(&format!("signal {name}"));
        sup.wait_for(&format!("forwarded SIG{name}"));
    }
    sup.signal(Signal::TERM);
    let status = sup.wait_exit();
    assert!(sup.child_log().iter().any(|l| l == "signal TERM"));
    assert_eq!(status.code(), Some(42));
    assert!(sup.seen.iter().any(|l| l.contains("stopping the child: signal TERM")));
    // Stopped on a signal: no restart.
    assert!(!sup.seen.iter().any(|l| l.contains("restarting")));
}

#[test]
fn sigint_stops_the_child_with_sigint() {
    let mut sup = Supervise::start(&[], &[("VC_MODE", "term-code=5")]);
    sup.wait_log("handlers");
    sup.signal(Signal::INT);
    assert_eq!(sup.wait_exit().code(), Some(5));
    assert!(sup.child_log().iter().any(|l| l == "signal INT"));
}

#[test]
fn exit_codes_pass_through_when_not_restarting() {
    let mut never = Supervise::start(&["--restart", "never"], &[("VC_MODE", "crash=7")]);
    assert_eq!(never.wait_exit().code(), Some(7));
    assert!(never.seen.iter().any(|l| l.contains("child exited with code 7; not restarting (exit 7)")));
    // on-failure: exit 0 is not restarted.
    let mut clean = Supervise::start(&[], &[("VC_MODE", "crash=0")]);
    assert_eq!(clean.wait_exit().code(), Some(0));
    assert_eq!(super_starts(&clean), 1);
    // Killed by a signal: 128 + 9, as a shell reports it.
    let argv = vec!["sh".into(), "-c".into(), "kill -9 $$".into()];
    let mut killed = Supervise::start_with(&["--restart", "never"], &[], argv, |_| {});
    assert_eq!(killed.wait_exit().code(), Some(137));
}

fn super_starts(sup: &Supervise) -> usize {
    sup.seen.iter().filter(|l| l.contains("started pid")).count()
}

#[test]
fn a_missing_program_is_a_failure_that_backs_off_and_gives_up() {
    let argv = vec!["/nonexistent/program".into()];
    let mut sup = Supervise::start_with(&["--backoff-initial", "10ms", "--max-restarts", "1"], &[], argv, |_| {});
    assert_eq!(sup.wait_exit().code(), Some(127));
    assert!(sup.seen.iter().any(|l| l.contains("cannot start \"/nonexistent/program\"")), "{:#?}", sup.seen);
}

#[test]
fn bad_usage_exits_2() {
    for flags in [
        vec!["supervise"],
        vec!["supervise", "--liveness", "nonsense://x", "--", "true"],
        vec!["supervise", "--restart", "sometimes", "--", "true"],
        vec!["supervise", "--interval", "0s", "--", "true"],
        vec!["supervise", "--backoff-initial", "10m", "--backoff-max", "1m", "--", "true"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_vitalcheck")).args(&flags).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn orphans_are_reaped_by_the_subreaper() {
    // The inner sh starts `sleep` in the background and exits: sleep's parent is gone, it
    // comes to vitalcheck (a child subreaper), exits, and must not stay a zombie.
    let script = "sh -c 'sleep 0.2 & echo $! > \"$VC_LOG.orphan\"'; exec sleep 60";
    let argv = vec!["sh".into(), "-c".into(), script.into()];
    let mut sup = Supervise::start_with(&["--grace", "1s"], &[], argv, |_| {});
    let (line, _) = sup.wait_for("reaped orphan pid");
    let orphan = std::fs::read_to_string(format!("{}.orphan", sup.log.display())).expect("orphan pid");
    assert!(line.contains(&format!("pid {} ", orphan.trim())), "{line} vs {orphan}");
    assert!(children_of(sup.pid()).iter().all(|&pid| !zombie(pid)), "a zombie is left");
}

#[test]
fn zombies_are_reaped_as_pid_1_in_a_pid_namespace() {
    // `unshare --pid --fork --mount-proc` needs root (or user namespaces); skip elsewhere,
    // but not in CI, where it is expected to work.
    let probe = std::process::Command::new("unshare").args(["--pid", "--fork", "--mount-proc", "true"]).output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "unshare --pid must work in CI: {probe:?}");
        eprintln!("SKIPPED: unshare --pid --fork --mount-proc does not work here: {probe:?}");
        return;
    }
    let script = "for i in 1 2 3; do sh -c 'sleep 0.1 &'; done; exec sleep 60";
    let argv = vec!["sh".into(), "-c".into(), script.into()];
    let mut sup = Supervise::start_with(&["--grace", "1s"], &[], argv, |command| {
        let program = command.get_program().to_owned();
        let args: Vec<_> = command.get_args().map(ToOwned::to_owned).collect();
        let mut wrapped = std::process::Command::new("unshare");
        wrapped.args(["--pid", "--fork", "--mount-proc", "--kill-child"]).arg(program).args(args);
        for (key, value) in command.get_envs() {
            if let Some(value) = value {
                wrapped.env(key, value);
            }
        }
        wrapped.stdin(std::process::Stdio::null()).stdout(std::process::Stdio::null());
        wrapped.stderr(std::process::Stdio::piped());
        *command = wrapped;
    });
    sup.wait_for("running as PID 1");
    for _ in 0..3 {
        sup.wait_for("reaped orphan pid");
    }
    // vitalcheck is the only child of unshare; none of its children is a zombie.
    let vitalcheck = poll(|| children_of(sup.pid()).first().copied(), "vitalcheck under unshare");
    assert!(children_of(vitalcheck).iter().all(|&pid| !zombie(pid)), "a zombie is left");
    // SIGTERM to unshare is not forwarded; TERM vitalcheck itself (PID 1 in there).
    let pid = rustix::process::Pid::from_raw(i32::try_from(vitalcheck).expect("pid")).expect("pid");
    rustix::process::kill_process(pid, Signal::TERM).expect("kill");
    assert_eq!(sup.wait_exit().code(), Some(128 + 15), "sleep ends on TERM: 143 passes through");
}

#[test]
fn livez_readyz_and_ipc_report_the_child() {
    let port = free_port().to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("health.sock");
    let mut flags = liveness_flags(&port);
    flags.extend(["--listen".into(), "127.0.0.1:0".into(), "--ipc".into(), socket.display().to_string()]);
    let mut sup = Supervise::start(&strs(&flags), &[("VC_PORT", &port)]);
    let (line, _) = sup.wait_for("listening on http://");
    let addr = line.rsplit("http://").next().expect("addr").to_owned();
    let listen: u16 = addr.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port");
    sup.wait_for("ready");
    assert_eq!(get(listen, "/livez").map(|r| r.0), Some(200));
    assert_eq!(get(listen, "/readyz").map(|r| r.0), Some(200));
    let check = |kind: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_vitalcheck"))
            .args(["check", "--check-type", kind, &format!("unix://{}", socket.display())])
            .output()
            .expect("vitalcheck check")
    };
    assert!(check("readiness").status.success());
    assert!(check("liveness").status.success());
    // Hung: liveness fails its threshold, the child is restarted; while it is down
    // and starting again it is not ready.
    get(port.parse().expect("port"), "/hang");
    sup.wait_for("not ready");
    sup.wait_for("restarting in");
    sup.wait_for("ready");
    assert_eq!(get(listen, "/readyz").map(|r| r.0), Some(200));
    let (_, body) = get(listen, "/health").expect("/health");
    assert!(body.contains("\"restarts\":1"), "{body}");
    sup.signal(Signal::TERM);
    sup.wait_exit();
    assert!(!socket.exists(), "the IPC socket file is removed on exit");
}

#[test]
fn systemd_gets_ready_and_watchdog() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&path).expect("bind notify socket");
    socket.set_read_timeout(Some(supervise::BOUND)).expect("timeout");
    let port = free_port().to_string();
    let readiness = format!("http://127.0.0.1:{port}/readyz");
    let flags = ["--readiness", &readiness, "--interval", "100ms"];
    let notify = path.display().to_string();
    let _sup = Supervise::start(&flags, &[("VC_PORT", &port), ("NOTIFY_SOCKET", &notify), ("WATCHDOG_USEC", "200000")]);
    let mut messages = Vec::new();
    let mut buf = [0u8; 512];
    while !(messages.iter().any(|m: &String| m.starts_with("READY=1")) && messages.iter().any(|m| m == "WATCHDOG=1")) {
        let n = socket.recv(&mut buf).unwrap_or_else(|e| panic!("no notify message ({e}); got {messages:?}"));
        messages.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    let ready = messages.iter().position(|m| m.starts_with("READY=1")).expect("READY");
    assert_eq!(messages[ready], "READY=1\nSTATUS=child ready");
}

#[test]
fn vitalcheck_run_owns_a_targets_process() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let [child_exe, filter, exact, nocapture] = <[String; 4]>::try_from(supervise::child_argv()).expect("argv");
    let config = dir.path().join("vitalcheck.toml");
    let text = format!(
        "[storage]\npath = \"vc.db\"\n[server]\nlisten = \"off\"\n\
         [[targets]]\nname = \"app\"\ntarget = \"http://127.0.0.1:{port}/livez\"\ninterval = \"100ms\"\n\
         timeout = \"100ms\"\nfailure_threshold = 2\n\
         process = {{ command = [{child_exe:?}, {filter:?}, {exact:?}, {nocapture:?}], backoff_initial = \"100ms\", grace = \"2s\" }}\n"
    );
    std::fs::write(&config, text).expect("write config");
    let port_text = port.to_string();
    let args = vec!["run".to_owned(), "-c".to_owned(), config.display().to_string()];
    let mut run = Supervise::spawn(args, &[("VC_PORT", &port_text)], |_| {});
    run.wait_for("process started");
    run.wait_for("to=healthy");
    assert_eq!(get(port, "/hang").map(|r| r.0), Some(200));
    let (restart, _) = run.wait_for("restarted (restart 1 since reset, 1 in total): unhealthy: 2 consecutive failures");
    assert!(restart.contains("to=unknown"), "{restart}");
    run.wait_for("to=healthy");
    let pids: Vec<u32> = starts(&run.child_log()).into_iter().map(|(pid, _)| pid).collect();
    assert_eq!(pids.len(), 2, "{pids:?}");
    assert!(!alive(pids[0]));
    run.signal(Signal::TERM);
    assert_eq!(run.wait_exit().code(), Some(0));
    assert!(!alive(pids[1]), "the process outlived vitalcheck run");
    assert!(run.seen.iter().any(|l| l.contains("process stopped")), "{:#?}", run.seen);
}

/// A reload starts the processes of new `process` tables, stops those of removed ones and
/// restarts one whose table changed (the old one gone before the new one starts).
#[test]
fn a_reload_starts_stops_and_restarts_owned_processes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let [child_exe, filter, exact, nocapture] = <[String; 4]>::try_from(supervise::child_argv()).expect("argv");
    // Each child serves its own port: `sh` sets VC_PORT, then becomes the child.
    let target = |name: &str, port: u16, grace: &str| {
        format!(
            "[[targets]]\nname = \"{name}\"\ntarget = \"http://127.0.0.1:{port}/livez\"\ninterval = \"100ms\"\n\
             timeout = \"100ms\"\nprocess = {{ command = [\"sh\", \"-c\", \"VC_PORT={port} exec \\\"$0\\\" \\\"$@\\\"\", \
             {child_exe:?}, {filter:?}, {exact:?}, {nocapture:?}], grace = \"{grace}\" }}\n"
        )
    };
    let (one, two) = (free_port(), free_port());
    let config = dir.path().join("vitalcheck.toml");
    let head = "[storage]\npath = \"vc.db\"\n[server]\nlisten = \"off\"\n";
    std::fs::write(&config, format!("{head}{}", target("one", one, "2s"))).expect("write config");
    let args = vec!["run".to_owned(), "-c".to_owned(), config.display().to_string()];
    let mut run = Supervise::spawn(args, &[], |_| {});
    run.wait_for("to=healthy");
    let first = starts(&run.child_log());
    assert_eq!(first.len(), 1, "{first:?}");

    // "one" changes (its grace), "two" is new.
    std::fs::write(&config, format!("{head}{}{}", target("one", one, "3s"), target("two", two, "2s"))).expect("write");
    run.signal(Signal::HUP);
    let (changed, _) = run.wait_for("processes changed");
    assert!(changed.contains("started=1") && changed.contains("restarted=1"), "{changed}");
    let all = poll(|| Some(starts(&run.child_log())).filter(|s| s.len() == 3), "three starts");
    assert!(!alive(first[0].0), "the changed process's old run is still alive");
    assert!(all[1..].iter().all(|(pid, _)| alive(*pid)), "{all:?}");
    poll(|| get(two, "/livez").filter(|r| r.0 == 200), "the new target's process to answer");
    // Which of the two is which: the port `sh` put in the child's environment.
    let port_of = |pid: u32| {
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        environ
            .split(|b| *b == 0)
            .find_map(|v| std::str::from_utf8(v.strip_prefix(b"VC_PORT=")?).ok()?.parse::<u16>().ok())
    };
    let (one_now, two_now) = if port_of(all[2].0) == Some(two) { (all[1].0, all[2].0) } else { (all[2].0, all[1].0) };
    assert_eq!((port_of(one_now), port_of(two_now)), (Some(one), Some(two)));

    // "one" goes away.
    std::fs::write(&config, format!("{head}{}", target("two", two, "2s"))).expect("write");
    run.signal(Signal::HUP);
    let (changed, _) = run.wait_for("processes changed");
    assert!(changed.contains("stopped=1"), "{changed}");
    poll(|| (!alive(one_now)).then_some(()), "the removed target's process to stop");
    assert!(alive(two_now));
    run.signal(Signal::TERM);
    assert_eq!(run.wait_exit().code(), Some(0));
    assert!(!alive(two_now), "the process outlived vitalcheck run");
}

#[test]
fn a_startup_probe_gates_liveness_and_restarts_a_child_that_never_comes_up() {
    // Nothing listens on `closed`: startup fails 2 times in a row, the child is restarted;
    // liveness (on the same closed port) never runs while startup has not succeeded.
    let closed = free_port();
    let target = format!("tcp://127.0.0.1:{closed}");
    let flags = [
        "--startup",
        &target,
        "--startup-threshold",
        "2",
        "--liveness",
        &target,
        "--interval",
        "100ms",
        "--backoff-initial",
        "100ms",
        "--max-restarts",
        "1",
        "--grace",
        "3s",
    ];
    let mut sup = Supervise::start(&flags, &[("VC_MODE", "term-code=9")]);
    let (restart, _) = sup.wait_for("restarting in");
    assert!(restart.contains("startup probe failed 2 times in a row (last: "), "{restart}");
    assert!(restart.contains("refused"), "{restart}");
    let (gave_up, _) = sup.wait_for("giving up after 1 restarts");
    assert!(gave_up.contains("startup probe failed 2 times"), "{gave_up}");
    assert_eq!(sup.wait_exit().code(), Some(9), "the last child's code (it exited 9 on SIGTERM)");
    assert!(!sup.seen.iter().any(|l| l.contains("liveness probe")), "liveness ran before startup succeeded");
    assert!(!sup.seen.iter().any(|l| l.contains("ready")), "{:#?}", sup.seen);
}

#[test]
fn probe_secrets_never_reach_the_log() {
    let closed = free_port();
    let target = format!("http://user:hunter2@127.0.0.1:{closed}/?token=s3cr3t-value");
    let flags = ["--liveness", &target, "--interval", "100ms", "--failure-threshold", "1", "--max-restarts", "0"];
    let mut sup = Supervise::start(&flags, &[]);
    let (line, _) = sup.wait_for("giving up after 0 restarts");
    assert!(line.contains("liveness probe failed once (last: http://user:***@127.0.0.1"), "{line}");
    sup.wait_exit();
    let all = sup.seen.join("\n");
    assert!(!all.contains("hunter2") && !all.contains("s3cr3t-value"), "{all}");
}
