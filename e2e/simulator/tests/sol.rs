//! Serial-over-LAN against the simulator with Digest (no lab needed): the `amt` crate's
//! console session (`amt::sol`) talks to the fleet's redirection listeners, power actions go
//! through the `amt` WS-Man client. Kerberos is in `lab_sol.rs`.

use std::time::Duration;

use amt::client::{Auth, Client, ClientConfig};
use amt::models::power::PowerState;
use amt::sol::{SolAuth, SolConfig, SolError, SolEvent, SolReader, SolWriter};
use amt_sim::fleet::{Fleet, FleetConfig, RedirectionPorts};
use amt_sim::seed::{AclSeed, FleetSeed};
use amt_sim::state::Initiator;

const ADMIN_PW: &str = "P@ssw0rd";

async fn fleet(count: u32, tweak: impl FnOnce(&mut FleetSeed)) -> Fleet {
    let mut seed = FleetSeed::with_count(count);
    seed.defaults.acl = Some(vec![
        AclSeed {
            username: Some("operator".into()),
            password: Some("Op3rator!pw".into()),
            realms: vec![2, 5, 13],
            ..AclSeed::default()
        },
        AclSeed {
            username: Some("viewer".into()),
            password: Some("V1ewer!pass".into()),
            realms: vec![4, 13],
            ..AclSeed::default()
        },
    ]);
    tweak(&mut seed);
    Fleet::start(FleetConfig {
        seed,
        redirection: Some(RedirectionPorts {
            port: 0,
            tls_port: None,
        }),
        ..FleetConfig::for_tests(count)
    })
    .await
    .expect("fleet starts")
}

fn sol_cfg(f: &Fleet, n: u32, user: &str, password: &str) -> SolConfig {
    let addr = f.device(n).and_then(|d| d.redir_addr).expect("redirection address");
    let mut c = SolConfig::new(
        &addr.ip().to_string(),
        SolAuth::Digest {
            user: user.into(),
            password: password.into(),
        },
    );
    c.port = addr.port();
    c.timeout = Duration::from_secs(5);
    c
}

async fn open(f: &Fleet, n: u32) -> (SolReader, SolWriter) {
    amt::sol::connect(&sol_cfg(f, n, "admin", ADMIN_PW))
        .await
        .expect("admin opens SOL")
        .split()
}

fn wsman(f: &Fleet, n: u32) -> Client {
    let addr = f.device(n).expect("device").addr;
    let mut cfg = ClientConfig::new(
        &addr.ip().to_string(),
        Auth::Digest {
            user: "admin".into(),
            password: ADMIN_PW.into(),
        },
    );
    cfg.port = addr.port();
    Client::new(cfg)
}

/// Reads serial output until it contains `want` (or fails after 5 s).
async fn until(r: &mut SolReader, seen: &mut String, want: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !seen.contains(want) {
        match tokio::time::timeout_at(deadline, r.next()).await {
            Ok(Ok(Some(SolEvent::Data(d)))) => seen.push_str(&String::from_utf8_lossy(&d)),
            Ok(Ok(Some(SolEvent::LineStatus { .. }))) => {}
            Ok(other) => panic!("session ended while waiting for {want:?}: {other:?}; seen {seen:?}"),
            Err(_) => panic!("no {want:?} within 5 s; seen {seen:?}"),
        }
    }
}

#[tokio::test]
async fn admin_sees_post_setup_and_shell_and_power_is_reflected() {
    let f = fleet(1, |_| {}).await;
    let dev = f.device(1).unwrap();
    let (mut r, w) = open(&f, 1).await;
    assert!(dev.snapshot().redirection.session_open, "the redirection flag is set");
    let mut seen = String::new();
    // The running host shows its login prompt; the line status says it is powered.
    match r.next().await.unwrap() {
        Some(SolEvent::LineStatus { status, .. }) => assert_eq!(status & 4, 4),
        other => panic!("{other:?}"),
    }
    until(&mut r, &mut seen, "amt1 login: ").await;
    w.send_keys(b"alice\r").await.unwrap();
    until(&mut r, &mut seen, "alice@amt1:~$ ").await;
    w.send_keys(b"echo hi there\r").await.unwrap();
    until(&mut r, &mut seen, "hi there\r\nalice@amt1:~$ ").await;

    // Power cycle and off are refused while the session is open (AMT does this); reset works.
    let c = wsman(&f, 1);
    let e = c
        .request_power_state_change(PowerState::PowerCycleOffSoft)
        .await
        .expect_err("refused during SOL");
    assert!(e.to_string().contains("RequestPowerStateChange"), "{e}");
    c.request_power_state_change(PowerState::from_value(10))
        .await
        .expect("reset");
    seen.clear();
    until(&mut r, &mut seen, "Press F2 or DEL for setup").await;
    assert!(seen.contains("\x1b[2J"), "POST clears the screen");
    until(&mut r, &mut seen, "amt1 login: ").await;

    // Reset into BIOS setup (the boot option the portal sets through WS-Man).
    dev.with_state(|st| {
        st.boot.settings.insert("BIOSSetup".into(), "true".into());
        st.boot.role_set = true;
    });
    c.request_power_state_change(PowerState::from_value(10))
        .await
        .expect("reset into setup");
    seen.clear();
    until(&mut r, &mut seen, "Aptio Setup Utility").await;
    assert!(seen.contains("\x1b[37;44m"), "blue setup screen");
    seen.clear();
    w.send_keys(b"\x1b[B").await.unwrap();
    until(&mut r, &mut seen, "\x1b[30;47m  Boot Mode").await;
    seen.clear();
    w.send_keys(b"\x1b").await.unwrap();
    until(&mut r, &mut seen, "amt1 login: ").await;

    // F2 during POST enters setup too.
    c.request_power_state_change(PowerState::from_value(10))
        .await
        .expect("reset");
    seen.clear();
    until(&mut r, &mut seen, "Press F2").await;
    w.send_keys(b"\x1bOQ").await.unwrap();
    until(&mut r, &mut seen, "Aptio Setup Utility").await;

    // Orderly end: the session closes, the flag clears, 1804 and 1805 are audited.
    w.end().await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match tokio::time::timeout_at(deadline, r.next()).await.expect("ends in time") {
            Ok(None) => break,
            Ok(Some(_)) => {}
            Err(e) => panic!("orderly end expected, got {e}"),
        }
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let st = dev.snapshot();
    assert!(!st.redirection.session_open);
    let sol: Vec<u32> = st
        .audit_log
        .iter()
        .filter(|a| a.app_id == 18)
        .map(|a| a.event_number())
        .collect();
    assert_eq!(sol, [1804, 1805]);
    assert!(
        matches!(&st.audit_log.iter().find(|a| a.app_id == 18).unwrap().initiator, Initiator::Digest { user } if user == "admin")
    );
    c.request_power_state_change(PowerState::PowerCycleOffSoft)
        .await
        .expect("power cycle allowed again");
    f.shutdown().await;
}

#[tokio::test]
async fn power_off_is_shown_and_the_line_status_follows() {
    let f = fleet(1, |_| {}).await;
    let dev = f.device(1).unwrap();
    let (mut r, _w) = open(&f, 1).await;
    let mut seen = String::new();
    until(&mut r, &mut seen, "login: ").await;
    // Off through the control API (WS-Man refuses it while SOL is open, as AMT does).
    dev.patch(&serde_json::json!({"power_state": 8})).unwrap();
    let mut off_status = None;
    seen.clear();
    while !seen.contains("[power off]") {
        match tokio::time::timeout(Duration::from_secs(5), r.next())
            .await
            .expect("in time")
            .unwrap()
        {
            Some(SolEvent::LineStatus { status, .. }) => off_status = Some(status),
            Some(SolEvent::Data(d)) => seen.push_str(&String::from_utf8_lossy(&d)),
            None => panic!("ended"),
        }
    }
    assert_eq!(off_status.map(|s| s & 4), Some(0), "SYSTEM_POWER_STATE clear");
    f.shutdown().await;
}

#[tokio::test]
async fn second_console_is_busy_and_a_drop_ends_the_first_with_an_error() {
    let f = fleet(1, |_| {}).await;
    let dev = f.device(1).unwrap();
    let (mut r, w) = open(&f, 1).await;
    let e = amt::sol::connect(&sol_cfg(&f, 1, "admin", ADMIN_PW))
        .await
        .expect_err("busy");
    assert!(matches!(e, SolError::Busy), "{e:?}");
    assert!(dev.sol_connected());

    assert!(dev.drop_sol(), "a session was open");
    let e = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match r.next().await {
                Ok(Some(_)) => {}
                other => return other,
            }
        }
    })
    .await
    .expect("the reader notices the drop, nothing hangs")
    .expect_err("dropped");
    assert!(matches!(e, SolError::Dropped), "{e:?}");
    drop(w);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!dev.sol_connected() && !dev.snapshot().redirection.session_open);
    // The device is free again.
    let (mut r2, _w2) = open(&f, 1).await;
    let mut seen = String::new();
    until(&mut r2, &mut seen, "login: ").await;
    f.shutdown().await;
}

#[tokio::test]
async fn refusals_name_the_reason() {
    let f = fleet(4, |s| {
        s.devices.insert(
            "2".into(),
            amt_sim::seed::DeviceSeed {
                listener_enabled: Some(false),
                ..Default::default()
            },
        );
        s.devices.insert(
            "3".into(),
            amt_sim::seed::DeviceSeed {
                redirection_enabled_state: Some(32769),
                ..Default::default()
            },
        );
        s.devices.insert(
            "4".into(),
            amt_sim::seed::DeviceSeed {
                opt_in_required: Some(u32::MAX),
                ..Default::default()
            },
        );
    })
    .await;
    let err = |n: u32, user: &'static str, pw: &'static str| {
        let cfg = sol_cfg(&f, n, user, pw);
        async move { amt::sol::connect(&cfg).await.expect_err("refused") }
    };
    let e = err(1, "admin", "wrong").await;
    assert!(matches!(e, SolError::AuthRefused { method: "Digest" }), "{e:?}");
    let e = err(1, "viewer", "V1ewer!pass").await;
    assert!(matches!(e, SolError::AuthRefused { .. }), "{e:?}");
    assert!(
        f.device(1)
            .unwrap()
            .last_refusal()
            .unwrap_or_default()
            .contains("lacks the Redirection realm")
    );
    amt::sol::connect(&sol_cfg(&f, 1, "operator", "Op3rator!pw"))
        .await
        .expect("an ACL user with the Redirection realm");
    let e = err(2, "admin", ADMIN_PW).await;
    assert!(matches!(e, SolError::ListenerOff), "{e:?}");
    let e = err(3, "admin", ADMIN_PW).await;
    assert!(matches!(e, SolError::SolDisabled), "{e:?}");
    let e = err(4, "admin", ADMIN_PW).await;
    assert!(matches!(e, SolError::ConsentRequired), "{e:?}");
    // None of the refused attempts left the device busy (the operator's session has ended).
    tokio::time::sleep(Duration::from_millis(200)).await;
    for n in 1..=4 {
        assert!(!f.device(n).unwrap().snapshot().redirection.session_open, "amt{n}");
    }
    f.shutdown().await;
}
