//! Acceptance: an expired Kerberos ticket gets a 401 with a clear reason (`expired`), never a 500,
//! and the server keeps serving.
//!
//! No honest client sends an expired ticket (MIT's initiator refuses to build the AP-REQ), so the
//! token is crafted by e2e/lab/expired_token.py (impacket, `python3` on PATH; `./dev setup`
//! installs it) from a short-lived service ticket, with an authenticator stamped with the real
//! time. MIT's acceptor forgives an ended ticket within its clock skew (300 s by default), so
//! the acceptor runs with `clockskew = 1`: this test re-executes its own binary with
//! `KRB5_CONFIG` pointing at a copy of the lab's krb5.conf that adds it. Re-executing, rather
//! than `std::env::set_var` inside the test, keeps the test free of `unsafe` and guarantees MIT
//! reads the setting when its first context is made, whatever ran before in this process.
//!
//! The service ticket comes from `kinit -S HTTP/portal.example.test -l 5s` (an AS exchange
//! straight for the service): the lab's Samba KDC answers a TGS request made with a TGT that has
//! less than about two minutes left with "Ticket expired", so `kinit -l 5s` + `kvno` cannot
//! produce a short service ticket. A control token crafted the same way from a ticket valid for
//! ten minutes must be accepted (303), which proves the crafted tokens are sound and the refusal
//! really is about the ticket's end.

#[allow(dead_code, reason = "the shared harness has helpers this binary does not use")]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::TestApp;

const TEST: &str = "expired_ticket_gets_401_expired_and_the_server_keeps_serving";
/// Set in the re-executed child, which runs the real test.
const CHILD: &str = "PORTAL_TEST_EXPIRED_CHILD";
const SPN: &str = "HTTP/portal.example.test";
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../e2e/lab/expired_token.py");
/// The acceptor's clock skew in the child, and the short ticket's lifetime, in seconds.
const SKEW: u64 = 1;
const SHORT_LIFE: u64 = 5;

#[test]
fn expired_ticket_gets_401_expired_and_the_server_keeps_serving() {
    if std::env::var_os(CHILD).is_some() {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(child());
        return;
    }
    if common::lab().is_none() {
        return;
    }
    let dir = scratch("parent");
    let lab_conf = std::env::var("KRB5_CONFIG").unwrap();
    let text = std::fs::read_to_string(&lab_conf).expect("the lab's krb5.conf");
    let conf = dir.join("krb5.conf");
    let with_skew = text.replacen("[libdefaults]", &format!("[libdefaults]\n    clockskew = {SKEW}"), 1);
    assert_ne!(with_skew, text, "{lab_conf} has a [libdefaults] section");
    std::fs::write(&conf, with_skew).unwrap();
    let status = Command::new(std::env::current_exe().unwrap())
        .args([TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env("KRB5_CONFIG", &conf)
        .env(CHILD, "1")
        .status()
        .expect("re-execute the test binary");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        status.success(),
        "the test failed in the child process (see its output above)"
    );
}

async fn child() {
    let Some(app) = TestApp::new("expired").await else {
        return;
    };
    let dir = scratch("child");
    let user = "erin";
    let pw = app.lab["LAB_PASSWORD"].clone();

    // Control: a crafted token from a ticket that is still valid signs in.
    let long = dir.join("long.ccache");
    kinit_service(&long, user, &pw, "10m");
    let control = craft(&long, &["--expect-valid-for", "60"]).expect("a valid ticket");
    let r = app.get("/signin", Some(&control), None).await;
    assert_eq!(
        r.status, 303,
        "a crafted token from a valid ticket is accepted: {}",
        r.body
    );

    // A ticket that ended longer ago than the acceptor's skew.
    let short = dir.join("short.ccache");
    let issued = Instant::now();
    kinit_service(&short, user, &pw, &format!("{SHORT_LIFE}s"));
    std::thread::sleep(Duration::from_secs(SHORT_LIFE + SKEW + 1));
    let expired_by = (SKEW + 1).to_string();
    let expired = loop {
        match craft(&short, &["--expect-expired-by", &expired_by]) {
            Ok(t) => break t,
            Err(e) if issued.elapsed() < Duration::from_secs(15) => {
                eprintln!("{e}: waiting");
                std::thread::sleep(Duration::from_millis(500));
            }
            Err(e) => panic!("the {SHORT_LIFE} s ticket has not ended within 15 s: {e}"),
        }
    };
    let raw = craft(&short, &["--raw", "--expect-expired-by", &expired_by]).expect("still expired");
    for (name, token) in [("SPNEGO", &expired), ("bare krb5", &raw)] {
        let r = app.get("/signin", Some(token), None).await;
        assert_eq!(
            r.status, 401,
            "{name}: an expired ticket is refused, never a 500: {}",
            r.body
        );
        assert_eq!(r.reason().as_deref(), Some("expired"), "{name}: {}", r.body);
        assert!(
            r.body
                .contains("the Kerberos ticket has expired: sign in to Windows again or run kinit"),
            "{name}: the page says why and what to do: {}",
            r.body
        );
        assert_eq!(r.headers.get("www-authenticate").unwrap(), "Negotiate", "{name}");
        assert!(r.session_cookie().is_none(), "{name}: no session for a refused sign-in");
    }

    // Still serving: a fresh token from the portal's own initiator signs in.
    let tgt = app.tgt(user).await;
    let fresh = app.negotiate(&tgt, SPN, false).await;
    let r = app.get("/signin", Some(&fresh), None).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.session_cookie().is_some());
    assert_eq!(app.get("/healthz", None, None).await.body, "ok");
    let _ = std::fs::remove_dir_all(&dir);
}

fn scratch(role: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("portal-expired-{role}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn check(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what}: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A service ticket for the portal straight from an AS exchange, with the given lifetime.
fn kinit_service(ccache: &Path, user: &str, password: &str, lifetime: &str) {
    use std::io::Write;
    let mut kinit = Command::new("kinit")
        .args(["-l", lifetime, "-S", SPN, user])
        .env("KRB5CCNAME", format!("FILE:{}", ccache.display()))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("kinit (MIT krb5-user) on PATH");
    writeln!(kinit.stdin.take().unwrap(), "{password}").unwrap();
    check(
        &format!("kinit -l {lifetime} -S {SPN} {user}"),
        &kinit.wait_with_output().unwrap(),
    );
}

/// A `Negotiate …` header value crafted by expired_token.py; `Err` with its words when it
/// refuses because the ticket's end time does not meet the expectation (exit 3).
fn craft(ccache: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("python3")
        .arg(SCRIPT)
        .arg(ccache)
        .args(args)
        .output()
        .expect("python3 on PATH");
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    if out.status.code() == Some(3) {
        return Err(stderr);
    }
    check("expired_token.py (impacket installed? run ./dev setup)", &out);
    eprintln!("{stderr}");
    Ok(format!("Negotiate {}", String::from_utf8_lossy(&out.stdout).trim()))
}
