//! Negotiate (Kerberos) handling with an in-process ticket verifier standing in for the
//! GSSAPI acceptor: the device-side rules (SPN, clock, size limit, SID union, connection
//! session) are the simulator's own and are tested here with tokens the tests can shape
//! freely. Real tickets from the lab AD through the real acceptor: `tests/lab_kerberos.rs`.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use amt::wsman::{Properties, Request};
use amt_sim::auth::{TicketVerifier, VerifiedTicket};
use amt_sim::client::{ClientAuth, WsmanClient};
use amt_sim::fleet::{Fleet, FleetConfig};
use amt_sim::seed::{AclSeed, FleetSeed};
use amt_sim::state::Initiator;
use base64::Engine;

const USER_SID: &str = "S-1-5-21-1-2-3-1104";
const GROUP_SID: &str = "S-1-5-21-1-2-3-1200";

/// Token = "client|target|user_sid|group,group"; each token is accepted once.
#[derive(Default)]
struct FakeAcceptor {
    seen: Mutex<HashSet<Vec<u8>>>,
}

impl TicketVerifier for FakeAcceptor {
    fn verify(&self, token: &[u8]) -> Result<VerifiedTicket, String> {
        if !self.seen.lock().unwrap().insert(token.to_vec()) {
            return Err("replay".into());
        }
        let s = std::str::from_utf8(token).map_err(|_| "garbage token")?;
        let p: Vec<&str> = s.split('|').collect();
        if p.len() != 4 {
            return Err("garbage token".into());
        }
        Ok(VerifiedTicket {
            client: p[0].into(),
            target: Some(p[1].into()),
            user_sid: Some(p[2].into()),
            group_sids: p[3].split(',').filter(|g| !g.is_empty()).map(String::from).collect(),
            response_token: Some(b"mutual".to_vec()),
        })
    }
}

fn token(target: &str, groups: &str, nonce: u32) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!(
        "alice@EXAMPLE.TEST|{target}|{USER_SID}|{groups}{}",
        if nonce > 0 {
            format!(",S-1-5-21-9-9-9-{nonce}")
        } else {
            String::new()
        }
    ))
}

async fn fleet() -> Fleet {
    let mut seed = FleetSeed::with_count(2);
    seed.defaults.krb_enabled = Some(true);
    seed.defaults.acl = Some(vec![
        AclSeed {
            sid: Some(USER_SID.into()),
            realms: vec![13],
            ..AclSeed::default()
        },
        AclSeed {
            sid: Some(GROUP_SID.into()),
            realms: vec![5],
            ..AclSeed::default()
        },
    ]);
    Fleet::start(FleetConfig {
        seed,
        port: 0,
        verifier: Some(Arc::new(FakeAcceptor::default())),
        ..FleetConfig::for_tests(2)
    })
    .await
    .unwrap()
}

fn power(state: u16) -> String {
    let input = Properties::new().text("PowerState", state);
    Request::invoke("CIM_PowerManagementService", "RequestPowerStateChange", input).to_xml(1)
}

fn general() -> String {
    Request::get("AMT_GeneralSettings").to_xml(1)
}

#[tokio::test]
async fn negotiate_union_of_realms_session_and_audit() {
    let f = fleet().await;
    let dev = f.device(1).unwrap();
    let spn = format!("HTTP/amt1.example.test:{}@EXAMPLE.TEST", f.port());

    // 401 advertises Negotiate when Kerberos is on.
    let mut anon = WsmanClient::new(dev.addr, ClientAuth::None);
    let r = anon.post(&general()).await.unwrap();
    assert_eq!(r.headers.get_all("www-authenticate").iter().count(), 2);

    // User SID alone: General Info only.
    let mut c = WsmanClient::new(dev.addr, ClientAuth::Negotiate(token(&spn, "", 1)));
    assert_eq!(c.post(&general()).await.unwrap().status, 200);
    let r = c.post(&power(10)).await.unwrap();
    assert_eq!(r.status, 400, "no Remote Control without the group");
    assert!(r.body.contains("AccessDenied"));

    // With the group: union of realms; later requests ride the connection's session.
    let mut c = WsmanClient::new(dev.addr, ClientAuth::Negotiate(token(&spn, GROUP_SID, 2)));
    let r = c.post(&general()).await.unwrap();
    assert_eq!(r.status, 200);
    assert!(
        r.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Negotiate ")
    );
    let r = c.post(&power(10)).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let last = dev.snapshot().audit_log.pop().unwrap();
    assert_eq!(last.event_number(), 1703);
    assert!(matches!(last.initiator, Initiator::Kerberos { ref sid, .. } if sid == USER_SID));
    f.shutdown().await;
}

#[tokio::test]
async fn negotiate_refusals() {
    let f = fleet().await;
    let dev = f.device(1).unwrap();
    let spn = format!("HTTP/amt1.example.test:{}@EXAMPLE.TEST", f.port());
    let try_token = |t: String| {
        let addr = dev.addr;
        async move {
            let mut c = WsmanClient::new(addr, ClientAuth::Negotiate(t));
            c.post(&general()).await.unwrap().status
        }
    };
    // Wrong service (another device's SPN).
    let other = format!("HTTP/amt2.example.test:{}@EXAMPLE.TEST", f.port());
    assert_eq!(try_token(token(&other, "", 3)).await, 401);
    // Replay.
    let t = token(&spn, "", 4);
    assert_eq!(try_token(t.clone()).await, 200);
    assert_eq!(try_token(t).await, 401);
    // Garbage.
    assert_eq!(try_token("bm90IGEgdGlja2V0".into()).await, 401);
    // Clock beyond tolerance.
    dev.patch(&serde_json::json!({"clock_offset_secs": 301})).unwrap();
    assert_eq!(try_token(token(&spn, "", 5)).await, 401);
    dev.patch(&serde_json::json!({"clock_offset_secs": 0, "amt_version": "5.2.10"}))
        .unwrap();
    // Old generation: tickets over 4096 base64 characters are refused.
    let many: Vec<String> = (0..400).map(|i| format!("S-1-5-21-7-7-7-{i}")).collect();
    let big = token(&spn, &many.join(","), 6);
    assert!(big.len() > 4096);
    assert_eq!(try_token(big.clone()).await, 401);
    dev.patch(&serde_json::json!({"amt_version": "16.1.25"})).unwrap();
    assert_eq!(try_token(token(&spn, &many.join(","), 7)).await, 200);
    // Kerberos off: refused.
    dev.patch(&serde_json::json!({"kerberos": {"enabled": false}})).unwrap();
    assert_eq!(try_token(token(&spn, "", 8)).await, 401);
    f.shutdown().await;
}

#[tokio::test]
async fn control_api_over_http() {
    let f = fleet().await;
    let ctl = amt_sim::control::serve("127.0.0.1:0".parse().unwrap(), f.handle())
        .await
        .unwrap();
    let http = |method: &'static str, path: String, body: &'static str| async move {
        use http_body_util::{BodyExt, Full};
        let stream = tokio::net::TcpStream::connect(ctl).await.unwrap();
        let (mut s, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        let req = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", "ctl")
            .body(Full::new(bytes::Bytes::from_static(body.as_bytes())))
            .unwrap();
        let r = s.send_request(req).await.unwrap();
        let status = r.status().as_u16();
        let b = r.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice::<serde_json::Value>(&b).unwrap())
    };
    let (s, v) = http("GET", "/devices".into(), "").await;
    assert_eq!(s, 200);
    assert_eq!(v.as_array().unwrap().len(), 2);
    let (s, v) = http("POST", "/devices/2/state".into(), r#"{"power_state": 8}"#).await;
    assert_eq!(s, 200);
    assert_eq!(v["power_state"], 8);
    assert_eq!(f.device(2).unwrap().snapshot().power_state, 8);
    let (s, _) = http("POST", "/devices/2/faults".into(), r#"{"http_500": true}"#).await;
    assert_eq!(s, 200);
    assert!(f.device(2).unwrap().snapshot().faults.http_500);
    let (s, _) = http("POST", "/devices/1/redirection-open".into(), "").await;
    assert_eq!(s, 200);
    let (_, v) = http("GET", "/devices/1".into(), "").await;
    assert_eq!(v["redirection"]["session_open"], true);
    assert_eq!(v["audit_log"][0]["event"], 1804);
    assert_eq!(v["audit_log"][0]["initiator"]["type"], "local");
    let (s, _) = http("POST", "/reset".into(), "").await;
    assert_eq!(s, 200);
    assert_eq!(f.device(2).unwrap().snapshot().power_state, 2);
    assert!(f.device(2).unwrap().snapshot().faults.is_clear());
    let (s, _) = http("GET", "/devices/9".into(), "").await;
    assert_eq!(s, 404);
    f.shutdown().await;
}
