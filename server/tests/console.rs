//! The serial console's WebSocket over a real socket: the portal (`server::app` on
//! 127.0.0.1:0), a browser-like WebSocket client (tokio-tungstenite) with the session cookie and
//! the portal's Origin, and an in-process simulated twin of lab device amt1 on 127.1.0.221
//! (WS-Man 16992, redirection 16994) verifying the users' real tickets from the lab AD.
//! Needs the lab (LAB_ENV / REQUIRE_LAB, see tests/common).

#[allow(dead_code, reason = "the shared harness has helpers this binary does not use")]
mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use amt_sim::auth::KeytabVerifier;
use amt_sim::fleet::{Fleet, FleetConfig, RedirectionPorts, device_ip};
use amt_sim::seed::{AclSeed, FleetSeed};
use common::{ORIGIN, TestApp};
use futures::{SinkExt, StreamExt};
use shared::console::{ConsoleEvent, ConsoleState};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

const TWIN: u32 = 221;

async fn twin(app: &TestApp) -> Fleet {
    let lab = &app.lab;
    let sid = |k: &str, realms: Vec<u8>| AclSeed {
        sid: Some(lab[k].clone()),
        realms,
        ..AclSeed::default()
    };
    let mut seed = FleetSeed::with_count(1);
    seed.defaults.krb_enabled = Some(true);
    seed.defaults.fqdn = Some("amt1.example.test".into());
    seed.defaults.acl = Some(vec![
        sid("LAB_SID_AMT_ADMINS", vec![2, 4, 5, 13, 19, 20]),
        sid("LAB_SID_AMT_VIEWERS", vec![4, 13, 19, 20]),
    ]);
    let rcache = std::env::temp_dir().join(format!("portal-console-{}.rcache2", std::process::id()));
    let _ = std::fs::remove_file(&rcache);
    let verifier = KeytabVerifier::from_keytab_with_rcache(
        &PathBuf::from(&lab["LAB_DEVICES_KEYTAB"]),
        Some(&format!("file2:{}", rcache.display())),
    )
    .expect("devices keytab");
    Fleet::start(FleetConfig {
        seed,
        port: 16992,
        verifier: Some(Arc::new(verifier)),
        first_index: TWIN,
        tls: None,
        redirection: Some(RedirectionPorts {
            port: 16994,
            tls_port: None,
        }),
    })
    .await
    .expect("twin of amt1 starts")
}

async fn sign_in(app: &TestApp, user: &str) -> String {
    let form = format!(
        "username={user}&password={}",
        app.lab["LAB_PASSWORD"].replace('!', "%21")
    );
    let r = app.post_form("/signin/password", &form, Some(ORIGIN), None).await;
    assert_eq!(r.status, 303, "{}", r.body);
    r.session_cookie().expect("session cookie")
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(addr: std::net::SocketAddr, id: i64, cookie: Option<&str>, origin: &str) -> Result<Ws, WsError> {
    let mut req = format!("ws://{addr}/devices/{id}/console")
        .into_client_request()
        .unwrap();
    req.headers_mut().insert("Origin", origin.parse().unwrap());
    if let Some(c) = cookie {
        req.headers_mut().insert("Cookie", c.parse().unwrap());
    }
    tokio_tungstenite::connect_async(req).await.map(|(ws, _)| ws)
}

/// Next event (text frame), skipping nothing: binary frames before it are returned as text too.
async fn next(ws: &mut Ws) -> Option<Result<ConsoleEvent, Vec<u8>>> {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("the portal answers in time")?
            .ok()?;
        match m {
            Message::Text(t) => return Some(Ok(serde_json::from_str(&t).expect("a ConsoleEvent"))),
            Message::Binary(b) => return Some(Err(b.to_vec())),
            Message::Close(_) => return None,
            _ => {}
        }
    }
}

async fn output_until(ws: &mut Ws, want: &str) -> String {
    let mut seen = String::new();
    while !seen.contains(want) {
        match next(ws).await {
            Some(Err(bytes)) => seen.push_str(&String::from_utf8_lossy(&bytes)),
            other => panic!("waiting for {want:?}, got {other:?} after {seen:?}"),
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_over_a_real_socket_as_the_signed_in_user() {
    let Some(app) = TestApp::new("console").await else {
        return;
    };
    let fleet = twin(&app).await;
    let dev = server::registry::NewDevice::parse(
        "amt1.example.test",
        &device_ip(TWIN).to_string(),
        "16992",
        "no",
        "Lab",
        "",
    )
    .unwrap();
    server::registry::upsert(&app.state.pool, &dev, "manual").await.unwrap();
    let id: i64 = sqlx::query_scalar("SELECT id FROM devices WHERE fqdn = 'amt1.example.test'")
        .fetch_one(&app.state.pool)
        .await
        .unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });

    let alice = sign_in(&app, "alice").await;
    // Another site's page, or no session: refused before any upgrade.
    match open(addr, id, Some(&alice), "https://evil.example").await {
        Err(WsError::Http(r)) => assert_eq!(r.status(), 403),
        other => panic!("cross-origin console must be refused: {:?}", other.map(|_| ())),
    }
    match open(addr, id, None, ORIGIN).await {
        Err(WsError::Http(r)) => assert_eq!(r.status(), 401),
        other => panic!("a console needs a session: {:?}", other.map(|_| ())),
    }

    // erin (AMT Viewers: no Redirection realm) is refused with an explanation (before
    // anyone holds the device: a busy device answers "busy" before it checks anyone's rights).
    let erin = sign_in(&app, "erin").await;
    let mut ws_erin = open(addr, id, Some(&erin), ORIGIN).await.expect("upgrade");
    let refusal = loop {
        match next(&mut ws_erin).await {
            Some(Ok(ConsoleEvent::Error { code, message })) => break (code, message),
            Some(_) => {}
            None => panic!("closed without a reason"),
        }
    };
    assert_eq!(refusal.0, "access_denied", "{}", refusal.1);
    assert!(refusal.1.contains("Redirection realm"), "{}", refusal.1);

    // The device's policy keeps transcripts: only an administrator may say so (erin may not).
    let r = app
        .post_form(
            "/api/transcript-policy",
            &format!("id={id}&keep=true"),
            Some(ORIGIN),
            Some(&erin),
        )
        .await;
    assert_ne!(r.status, 200, "erin is no registry administrator: {}", r.body);
    let r = app
        .post_form(
            "/api/transcript-policy",
            &format!("id={id}&keep=true"),
            Some(ORIGIN),
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("console transcripts kept"), "{}", r.body);

    let mut ws = open(addr, id, Some(&alice), ORIGIN).await.expect("alice's console");
    let mut states = Vec::new();
    let mut open_message = String::new();
    while states.last() != Some(&ConsoleState::Open) {
        match next(&mut ws).await {
            Some(Ok(ConsoleEvent::Status { state, message })) => {
                states.push(state);
                open_message = message;
            }
            other => panic!(
                "expected status events, got {other:?} ({:?})",
                fleet.devices()[0].last_refusal()
            ),
        }
    }
    assert_eq!(
        states,
        [
            ConsoleState::Connecting,
            ConsoleState::Authenticating,
            ConsoleState::Open
        ]
    );
    assert!(
        open_message.contains("keeps a transcript"),
        "the user is told: {open_message}"
    );
    output_until(&mut ws, "amt1 login: ").await;
    ws.send(Message::Binary(b"alice\r".to_vec().into())).await.unwrap();
    output_until(&mut ws, "alice@amt1:~$ ").await;

    // A second console on the busy device is refused with a reason.
    let mut second = open(addr, id, Some(&alice), ORIGIN).await.expect("upgrade");
    let refusal = loop {
        match next(&mut second).await {
            Some(Ok(ConsoleEvent::Error { code, message })) => break (code, message),
            Some(_) => {}
            None => panic!("closed without a reason"),
        }
    };
    assert_eq!(refusal.0, "busy", "{}", refusal.1);
    assert!(refusal.1.contains("only one is allowed"), "{}", refusal.1);

    // The device drops the connection: the browser is told, the socket closes.
    assert!(fleet.devices()[0].drop_sol());
    let end = loop {
        match next(&mut ws).await {
            Some(Ok(ConsoleEvent::Error { code, message })) => break (code, message),
            Some(_) => {}
            None => panic!("closed without a reason"),
        }
    };
    assert_eq!(end.0, "device_closed", "{}", end.1);
    assert!(matches!(
        next(&mut ws).await,
        Some(Ok(ConsoleEvent::Status {
            state: ConsoleState::Closed,
            ..
        }))
    ));
    assert!(next(&mut ws).await.is_none(), "the socket closes");

    // The portal's audit log: start and end for alice, refusals for the busy try and erin.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let rows: Vec<(Option<String>, String, String)> =
        sqlx::query_as("SELECT principal, action, result FROM audit_log WHERE action LIKE 'console%' ORDER BY id")
            .fetch_all(&app.state.pool)
            .await
            .unwrap();
    let alice_p = rows
        .iter()
        .filter(|r| r.0.as_deref().is_some_and(|p| p.starts_with("alice@")));
    let actions: Vec<(&str, &str)> = alice_p.map(|r| (r.1.as_str(), r.2.as_str())).collect();
    assert_eq!(
        actions,
        [
            ("console: start", "ok"),
            ("console", "refused"),
            ("console: end", "error")
        ]
    );
    assert!(
        rows.iter()
            .any(|r| r.0.as_deref().is_some_and(|p| p.starts_with("erin@")) && r.2 == "refused")
    );
    fleet.shutdown().await;
}
