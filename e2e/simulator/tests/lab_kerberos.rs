//! Real Kerberos against the lab Active Directory (Samba AD DC): see e2e/lab/README.md.
//!
//! Users sign in with their password (`kerberos::password_sign_in` against the portal's SPN
//! and keytab), their TGT gets service tickets for `HTTP/amtN.example.test:16992`
//! (`kerberos::token_for`), and the `amt` client sends them with `Auth::Negotiate` to an
//! in-process fleet on the lab's device address 127.1.0.N:16992 that verifies them with the
//! devices' keytab (`kerberos::Acceptor`). Nothing here is a stand-in.
//!
//! Needs `KRB5_CONFIG` and `LAB_ENV` (the lab's `lab.env`) exported before the test process
//! starts. Without `LAB_ENV` the tests say so and pass only when `REQUIRE_LAB` is unset; with
//! `REQUIRE_LAB=1` a missing lab is a failure.
//!
//! Each test owns one lab device (amt1..amt8: its FQDN and SPNs). Its simulated twin listens
//! on 127.1.0.(240+N):16992 rather than the lab's 127.1.0.N, so the tests neither collide with
//! each other nor with a simulator or portal run that holds the lab addresses on this shared
//! machine; the client connects to that address and names the device by FQDN (SPN, TLS). The TLS test serves 16993 with the lab's device certificate and trusts the
//! lab CA (`LAB_CA_FILE`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use amt::client::{Auth, Client, ClientConfig, ClientError, Connector, NegotiateTokens};
use amt::models::general::GeneralSettings;
use amt::models::power::PowerState;
use amt::tls::Trust;
use amt_sim::auth::KeytabVerifier;
use amt_sim::fleet::{Fleet, FleetConfig, TlsConfig, device_ip};
use amt_sim::seed::{AclSeed, DeviceSeed, FleetSeed};
use amt_sim::state::Initiator;
use base64::Engine;

type Env = HashMap<String, String>;

fn lab() -> Option<Env> {
    lab_env::load()
}

/// A signed-in user's TGT, turned into tokens for device SPNs on demand.
struct UserTickets {
    tgt: kerberos::Delegated,
}

impl NegotiateTokens for UserTickets {
    fn token(&self, spn: &str) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
        Ok(kerberos::token_for(&self.tgt.cred, spn, false)?)
    }
}

/// Always the same token: the first one obtained (a replay from the second use on).
struct SameToken {
    user: Arc<UserTickets>,
    first: Mutex<Option<Vec<u8>>>,
}

impl NegotiateTokens for SameToken {
    fn token(&self, spn: &str) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
        let mut first = self.first.lock().unwrap();
        if first.is_none() {
            *first = Some(self.user.token(spn)?);
        }
        Ok(first.clone().unwrap_or_default())
    }
}

/// Tokens for one fixed SPN, whatever the client asks for (a ticket for the wrong port).
struct FixedSpn {
    user: Arc<UserTickets>,
    spn: &'static str,
}

impl NegotiateTokens for FixedSpn {
    fn token(&self, _spn: &str) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
        self.user.token(self.spn)
    }
}

/// Signs `user` in with the lab password (blocking work off the runtime's threads).
async fn sign_in(env: &Env, user: &str) -> Arc<UserTickets> {
    let (keytab, spn, password) = (
        PathBuf::from(&env["LAB_PORTAL_KEYTAB"]),
        env["LAB_PORTAL_SPN"].clone(),
        env["LAB_PASSWORD"].clone(),
    );
    let user = user.to_string();
    tokio::task::spawn_blocking(move || {
        let acceptor = kerberos::Acceptor::from_keytab(&keytab).expect("portal keytab usable");
        let (accepted, tgt) =
            kerberos::password_sign_in(&acceptor, &spn, &user, &password).unwrap_or_else(|e| panic!("{user}: {e}"));
        assert!(accepted.client.starts_with(&format!("{user}@")));
        Arc::new(UserTickets { tgt })
    })
    .await
    .unwrap()
}

/// The lab's ACL: AMT Admins may do everything a helpdesk needs (Remote Control included),
/// AMT Viewers only read (General Info, Hardware Asset, Event Log, Audit Log), frank's own
/// SID reads General Info. dave matches nothing.
fn lab_acl(env: &Env) -> Vec<AclSeed> {
    let sid = |k: &str| AclSeed {
        sid: Some(env[k].clone()),
        ..AclSeed::default()
    };
    vec![
        AclSeed {
            realms: vec![2, 4, 5, 13, 19, 20],
            ..sid("LAB_SID_AMT_ADMINS")
        },
        AclSeed {
            realms: vec![4, 13, 19, 20],
            ..sid("LAB_SID_AMT_VIEWERS")
        },
        AclSeed {
            realms: vec![13],
            ..sid("LAB_SID_FRANK")
        },
    ]
}

/// Device `amt<index>` alone on 127.1.0.<index>:16992, verifying tickets with the devices'
/// keytab and a replay cache of its own.
/// The simulator index (and so the address 127.1.0.x) of lab device `amt<n>` in these tests.
const fn twin(n: u32) -> u32 {
    240 + n
}

/// The simulated twin of lab device `amt<n>`.
fn dev(f: &Fleet, n: u32) -> &Arc<amt_sim::fleet::Device> {
    f.device(twin(n)).expect("device in fleet")
}

async fn device(env: &Env, n: u32, tweak: impl FnOnce(&mut DeviceSeed)) -> Fleet {
    device_with_tls(env, n, None, tweak).await
}

async fn device_with_tls(env: &Env, n: u32, tls: Option<TlsConfig>, tweak: impl FnOnce(&mut DeviceSeed)) -> Fleet {
    let index = twin(n);
    let mut seed = FleetSeed::with_count(1);
    seed.defaults.krb_enabled = Some(true);
    seed.defaults.acl = Some(lab_acl(env));
    seed.defaults.fqdn = Some(format!("amt{n}.example.test"));
    tweak(&mut seed.defaults);
    let rcache = std::env::temp_dir().join(format!("amt-sim-lab-{}-{index}.rcache2", std::process::id()));
    let _ = std::fs::remove_file(&rcache);
    let verifier = KeytabVerifier::from_keytab_with_rcache(
        &PathBuf::from(&env["LAB_DEVICES_KEYTAB"]),
        Some(&format!("file2:{}", rcache.display())),
    )
    .expect("devices keytab usable");
    Fleet::start(FleetConfig {
        seed,
        port: 16992,
        verifier: Some(Arc::new(verifier)),
        first_index: index,
        tls,
        redirection: None,
    })
    .await
    .unwrap_or_else(|e| panic!("amt{n} on {}: {e}", device_ip(index)))
}

fn client(n: u32, tokens: Arc<dyn NegotiateTokens>) -> Client {
    let mut cfg = ClientConfig::new(&device_ip(twin(n)).to_string(), Auth::Negotiate(tokens));
    cfg.fqdn = Some(format!("amt{n}.example.test"));
    cfg.port = 16992;
    cfg.timeout = std::time::Duration::from_secs(20);
    Client::new(cfg)
}

/// A 401 (offering Negotiate again) to the client, and the device's reason contains `why`.
fn assert_refused<T: std::fmt::Debug>(f: &Fleet, index: u32, r: Result<T, ClientError>, why: &str) {
    match r {
        Err(ClientError::Unauthorized { schemes }) => assert!(schemes.iter().any(|s| s == "Negotiate"), "{schemes:?}"),
        other => panic!("amt{index}: expected a 401, got {other:?}"),
    }
    let reason = dev(f, index).last_refusal().unwrap_or_default();
    assert!(
        reason.contains(why),
        "amt{index} refused for {reason:?}, expected {why:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_group_member_power_cycles_and_is_audited_by_sid() {
    let Some(env) = lab() else { return };
    let f = device(&env, 1, |_| {}).await;
    let alice = sign_in(&env, "alice").await;
    let c = client(1, alice);
    let gs: GeneralSettings = c.get().await.expect("alice reads General Settings");
    assert!(format!("{gs:?}").contains("amt1"), "{gs:?}");
    c.request_power_state_change(PowerState::PowerCycleOffSoft)
        .await
        .expect("alice (AMT Admins: Remote Control) power-cycles amt1");

    let dev = dev(&f, 1);
    let last = dev.snapshot().audit_log.pop().expect("an audit record");
    assert_eq!(last.event_number(), 1702, "power cycle is audited as 1702");
    match &last.initiator {
        Initiator::Kerberos { sid, .. } => assert_eq!(sid, &env["LAB_SID_ALICE"]),
        other => panic!("initiator should be alice's SID, is {other:?}"),
    }
    f.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewer_reads_but_is_refused_power_with_a_plain_error() {
    let Some(env) = lab() else { return };
    let f = device(&env, 2, |_| {}).await;
    let erin = sign_in(&env, "erin").await;
    let c = client(2, erin);
    c.get::<GeneralSettings>().await.expect("erin (AMT Viewers) reads");
    let e = c
        .request_power_state_change(PowerState::PowerCycleOffSoft)
        .await
        .expect_err("viewers may not power-cycle");
    assert!(matches!(e, ClientError::Fault(_)), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("access denied"), "{msg}");
    assert!(!msg.contains('<'), "a plain sentence, not XML: {msg}");
    assert_eq!(dev(&f, 2).snapshot().power_state, 2, "still on");
    f.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_in_no_amt_group_is_refused() {
    let Some(env) = lab() else { return };
    let f = device(&env, 3, |_| {}).await;
    let dave = sign_in(&env, "dave").await;
    let r = client(3, dave).get::<GeneralSettings>().await;
    assert_refused(&f, 3, r, "no ACL entry for dave@EXAMPLE.TEST");
    assert!(dev(&f, 3).snapshot().audit_log.is_empty());
    f.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_ticket_is_refused_by_old_generation_and_accepted_by_modern() {
    let Some(env) = lab() else { return };
    let old = device(&env, 4, |d| d.amt_version = Some("5.2.10".into())).await;
    let modern = device(&env, 5, |d| d.amt_version = Some("16.1.25".into())).await;
    let frank = sign_in(&env, "frank").await;

    let probe = {
        let frank = frank.clone();
        tokio::task::spawn_blocking(move || frank.token("HTTP/amt4.example.test:16992").unwrap())
            .await
            .unwrap()
    };
    let b64 = base64::engine::general_purpose::STANDARD.encode(&probe).len();
    assert!(b64 > 4096, "frank's token is only {b64} base64 characters");

    let r = client(4, frank.clone()).get::<GeneralSettings>().await;
    assert_refused(&old, 4, r, "exceeds the 4096-byte limit of AMT 5.2.10");
    client(5, frank)
        .get::<GeneralSettings>()
        .await
        .expect("AMT 16 takes frank's big ticket");
    old.shutdown().await;
    modern.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_clock_beyond_tolerance_refuses() {
    let Some(env) = lab() else { return };
    let f = device(&env, 6, |d| {
        d.krb_max_clock_tolerance = Some(5);
        d.clock_offset_secs = Some(5 * 60 + 30);
    })
    .await;
    let alice = sign_in(&env, "alice").await;
    let r = client(6, alice.clone()).get::<GeneralSettings>().await;
    assert_refused(&f, 6, r, "beyond MaximumClockTolerance of 5 min");
    // The same user, once the device clock is back within tolerance.
    dev(&f, 6)
        .patch(&serde_json::json!({"clock_offset_secs": 4 * 60}))
        .unwrap();
    client(6, alice)
        .get::<GeneralSettings>()
        .await
        .expect("within tolerance");
    f.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_token_is_refused() {
    let Some(env) = lab() else { return };
    let f = device(&env, 7, |_| {}).await;
    let alice = sign_in(&env, "alice").await;
    let same: Arc<dyn NegotiateTokens> = Arc::new(SameToken {
        user: alice,
        first: Mutex::new(None),
    });
    client(7, same.clone())
        .get::<GeneralSettings>()
        .await
        .expect("first use accepted");
    // A new client is a new connection: the token is sent again and must be refused.
    let r = client(7, same).get::<GeneralSettings>().await;
    assert_refused(&f, 7, r, "replay refused");
    f.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kerberos_over_tls_on_16993_trusting_the_lab_ca() {
    let Some(env) = lab() else { return };
    let tls = TlsConfig {
        cert: PathBuf::from(&env["LAB_DEVICE_CERT"]),
        key: PathBuf::from(&env["LAB_DEVICE_KEY"]),
        port: 16993,
    };
    let f = device_with_tls(&env, 8, Some(tls), |_| {}).await;
    let dev = dev(&f, 8);
    assert_eq!(dev.tls_addr.map(|a| a.port()), Some(16993));
    let alice = sign_in(&env, "alice").await;
    let lab_ca = Connector::tls(&Trust::CaFile(PathBuf::from(&env["LAB_CA_FILE"]))).expect("lab CA loads");

    let tls_client = |fqdn: &str, connector: Connector| {
        let mut cfg =
            ClientConfig::new(&device_ip(twin(8)).to_string(), Auth::Negotiate(alice.clone())).with_tls(connector);
        cfg.fqdn = Some(fqdn.into());
        cfg.timeout = std::time::Duration::from_secs(20);
        Client::new(cfg)
    };
    let c = tls_client("amt8.example.test", lab_ca.clone());
    assert_eq!(c.config().spn(), "HTTP/amt8.example.test:16993");
    if let Err(e) = c.get::<GeneralSettings>().await {
        panic!("TLS + Kerberos for HTTP/amt8:16993: {e} ({:?})", dev.last_refusal());
    }
    c.request_power_state_change(PowerState::PowerCycleOffSoft)
        .await
        .expect("alice power-cycles over TLS");
    match dev.snapshot().audit_log.pop().map(|r| r.initiator) {
        Some(Initiator::Kerberos { sid, .. }) => assert_eq!(sid, env["LAB_SID_ALICE"]),
        other => panic!("{other:?}"),
    }

    // A name the certificate does not carry: the handshake fails, in words.
    let e = tls_client("amt9.example.test", lab_ca.clone())
        .get::<GeneralSettings>()
        .await
        .expect_err("amt9 is not in the certificate");
    assert!(matches!(e, ClientError::Tls(_)), "{e:?}");
    assert!(e.to_string().contains("TLS handshake"), "{e}");

    // A ticket for the same device's plain port (same AD account, same key) is not one for 16993.
    let wrong_port = Arc::new(FixedSpn {
        user: alice.clone(),
        spn: "HTTP/amt8.example.test:16992",
    });
    let mut cfg =
        ClientConfig::new(&device_ip(twin(8)).to_string(), Auth::Negotiate(wrong_port)).with_tls(lab_ca.clone());
    cfg.fqdn = Some("amt8.example.test".into());
    let r = Client::new(cfg).get::<GeneralSettings>().await;
    assert_refused(&f, 8, r, "ticket is for \"HTTP/amt8.example.test:16992\"");

    // The labs-only escape hatch still talks TLS, and the plain port still works beside it.
    let insecure = Connector::tls(&Trust::InsecureAcceptAnyCertificate).unwrap();
    tls_client("amt8.example.test", insecure)
        .get::<GeneralSettings>()
        .await
        .expect("insecure trust accepts the lab certificate");
    client(8, alice)
        .get::<GeneralSettings>()
        .await
        .expect("16992 beside 16993");
    f.shutdown().await;
}
