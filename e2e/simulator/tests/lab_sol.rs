//! Serial-over-LAN with real Kerberos from the lab Active Directory (see lab_kerberos.rs for
//! the set-up): users sign in with their password, their TGT gets service tickets for
//! `HTTP/amtN.example.test:16994` (or `:16995`), and `amt::sol` sends them as auth type 2 to
//! an in-process twin of the lab device that verifies them with the devices' keytab.
//!
//! Twins listen on 127.1.0.(230+N) (WS-Man 16992, redirection 16994/16995), apart from the
//! lab's addresses and from lab_kerberos.rs's twins. Needs `KRB5_CONFIG` and `LAB_ENV`; with
//! `REQUIRE_LAB=1` a missing lab is a failure.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use amt::client::{Auth, Client, ClientConfig, Connector, NegotiateTokens};
use amt::models::power::PowerState;
use amt::sol::{SolAuth, SolConfig, SolError, SolEvent, SolReader};
use amt::tls::Trust;
use amt_sim::auth::KeytabVerifier;
use amt_sim::fleet::{Fleet, FleetConfig, RedirectionPorts, TlsConfig, device_ip};
use amt_sim::seed::{AclSeed, DeviceSeed, FleetSeed};
use amt_sim::state::Initiator;

type Env = HashMap<String, String>;

struct UserTickets {
    tgt: kerberos::Delegated,
}

impl NegotiateTokens for UserTickets {
    fn token(&self, spn: &str) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
        Ok(kerberos::token_for(&self.tgt.cred, spn, false)?)
    }
}

async fn sign_in(env: &Env, user: &str) -> Arc<UserTickets> {
    let (keytab, spn, password) = (
        PathBuf::from(&env["LAB_PORTAL_KEYTAB"]),
        env["LAB_PORTAL_SPN"].clone(),
        env["LAB_PASSWORD"].clone(),
    );
    let user = user.to_string();
    tokio::task::spawn_blocking(move || {
        let acceptor = kerberos::Acceptor::from_keytab(&keytab).expect("portal keytab usable");
        let (_, tgt) =
            kerberos::password_sign_in(&acceptor, &spn, &user, &password).unwrap_or_else(|e| panic!("{user}: {e}"));
        Arc::new(UserTickets { tgt })
    })
    .await
    .unwrap()
}

const fn twin(n: u32) -> u32 {
    230 + n
}

/// AMT Admins and Helpdesk hold Redirection (2); Viewers do not.
async fn device(env: &Env, n: u32, tls: Option<TlsConfig>, tweak: impl FnOnce(&mut DeviceSeed)) -> Fleet {
    let index = twin(n);
    let mut seed = FleetSeed::with_count(1);
    let sid = |k: &str, realms: Vec<u8>| AclSeed {
        sid: Some(env[k].clone()),
        realms,
        ..AclSeed::default()
    };
    seed.defaults.krb_enabled = Some(true);
    seed.defaults.fqdn = Some(format!("amt{n}.example.test"));
    seed.defaults.acl = Some(vec![
        sid("LAB_SID_AMT_ADMINS", vec![2, 4, 5, 13, 19, 20]),
        sid("LAB_SID_AMT_HELPDESK", vec![2, 4, 5, 13]),
        sid("LAB_SID_AMT_VIEWERS", vec![4, 13, 19, 20]),
    ]);
    tweak(&mut seed.defaults);
    let rcache = std::env::temp_dir().join(format!("amt-sim-labsol-{}-{index}.rcache2", std::process::id()));
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
        redirection: Some(RedirectionPorts {
            port: 16994,
            tls_port: Some(16995),
        }),
    })
    .await
    .unwrap_or_else(|e| panic!("amt{n} on {}: {e}", device_ip(index)))
}

fn sol(n: u32, tokens: Arc<dyn NegotiateTokens>) -> SolConfig {
    let mut c = SolConfig::new(&device_ip(twin(n)).to_string(), SolAuth::Kerberos(tokens));
    c.fqdn = Some(format!("amt{n}.example.test"));
    c.timeout = Duration::from_secs(20);
    c
}

fn wsman(n: u32, tokens: Arc<dyn NegotiateTokens>) -> Client {
    let mut cfg = ClientConfig::new(&device_ip(twin(n)).to_string(), Auth::Negotiate(tokens));
    cfg.fqdn = Some(format!("amt{n}.example.test"));
    cfg.timeout = Duration::from_secs(20);
    Client::new(cfg)
}

async fn until(r: &mut SolReader, seen: &mut String, want: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !seen.contains(want) {
        match tokio::time::timeout_at(deadline, r.next()).await {
            Ok(Ok(Some(SolEvent::Data(d)))) => seen.push_str(&String::from_utf8_lossy(&d)),
            Ok(Ok(Some(_))) => {}
            Ok(other) => panic!("session ended while waiting for {want:?}: {other:?}"),
            Err(_) => panic!("no {want:?} within 10 s; seen {seen:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alice_opens_sol_resets_into_bios_and_types() {
    let Some(env) = lab_env::load() else { return };
    let f = device(&env, 1, None, |_| {}).await;
    let dev = f.device(twin(1)).unwrap();
    let alice = sign_in(&env, "alice").await;
    let s = amt::sol::connect(&sol(1, alice.clone()))
        .await
        .unwrap_or_else(|e| panic!("alice opens SOL: {e} ({:?})", dev.last_refusal()));
    assert_eq!(s.info().method, "Kerberos");
    let (mut r, w) = s.split();
    let mut seen = String::new();
    until(&mut r, &mut seen, "amt1 login: ").await;

    // Reset into BIOS setup as alice, through WS-Man, while the console is open.
    dev.with_state(|st| {
        st.boot.settings.insert("BIOSSetup".into(), "true".into());
        st.boot.role_set = true;
    });
    wsman(1, alice.clone())
        .request_power_state_change(PowerState::from_value(10))
        .await
        .expect("alice resets amt1");
    seen.clear();
    until(&mut r, &mut seen, "Press F2 or DEL for setup").await;
    until(&mut r, &mut seen, "Aptio Setup Utility").await;
    seen.clear();
    w.send_keys(b"\x1b[B\x1b[B").await.unwrap();
    until(&mut r, &mut seen, "\x1b[30;47m  Intel(R) AMT").await;

    let opened = dev
        .snapshot()
        .audit_log
        .into_iter()
        .find(|a| a.event_number() == 1804)
        .expect("1804 audited");
    assert!(matches!(opened.initiator, Initiator::Kerberos { ref sid, .. } if *sid == env["LAB_SID_ALICE"]));
    w.end().await.unwrap();
    while tokio::time::timeout(Duration::from_secs(5), r.next())
        .await
        .expect("ends")
        .unwrap()
        .is_some()
    {}
    f.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erin_without_redirection_is_refused_and_a_second_console_is_busy() {
    let Some(env) = lab_env::load() else { return };
    let f = device(&env, 2, None, |_| {}).await;
    let dev = f.device(twin(2)).unwrap();
    let erin = sign_in(&env, "erin").await;
    let e = amt::sol::connect(&sol(2, erin)).await.expect_err("erin is a viewer");
    assert!(matches!(e, SolError::AuthRefused { method: "Kerberos" }), "{e:?}");
    assert!(e.to_string().contains("Redirection realm"), "{e}");
    let why = dev.last_refusal().unwrap_or_default();
    assert!(why.contains("erin@EXAMPLE.TEST lacks the Redirection realm"), "{why}");

    let bob = sign_in(&env, "bob").await;
    let (mut r, _w) = amt::sol::connect(&sol(2, bob.clone()))
        .await
        .expect("bob (helpdesk)")
        .split();
    let e = amt::sol::connect(&sol(2, bob)).await.expect_err("busy");
    assert!(matches!(e, SolError::Busy), "{e:?}");

    // A dropped connection ends the reader with an error, promptly.
    assert!(dev.drop_sol());
    let end = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match r.next().await {
                Ok(Some(_)) => {}
                other => return other,
            }
        }
    })
    .await
    .expect("nothing hangs");
    assert!(matches!(end, Err(SolError::Dropped)), "{end:?}");
    f.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_ticket_is_too_large_for_old_firmware_on_redirection() {
    let Some(env) = lab_env::load() else { return };
    let f = device(&env, 3, None, |d| d.amt_version = Some("5.2.10".into())).await;
    let frank = sign_in(&env, "frank").await;
    let e = amt::sol::connect(&sol(3, frank)).await.expect_err("too big");
    assert!(matches!(e, SolError::TicketTooLarge { limit: 3072, .. }), "{e:?}");
    let why = f.device(twin(3)).unwrap().last_refusal().unwrap_or_default();
    assert!(why.contains("3072-byte redirection limit of AMT 5.2.10"), "{why}");
    // A small ticket works on the same old device.
    let alice = sign_in(&env, "alice").await;
    amt::sol::connect(&sol(3, alice))
        .await
        .expect("alice's ticket is small");
    f.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kerberos_sol_over_tls_on_16995() {
    let Some(env) = lab_env::load() else { return };
    let tls = TlsConfig {
        cert: PathBuf::from(&env["LAB_DEVICE_CERT"]),
        key: PathBuf::from(&env["LAB_DEVICE_KEY"]),
        port: 16993,
    };
    let f = device(&env, 4, Some(tls), |_| {}).await;
    assert_eq!(f.device(twin(4)).unwrap().redir_tls_addr.map(|a| a.port()), Some(16995));
    let alice = sign_in(&env, "alice").await;
    let lab_ca = Connector::tls(&Trust::CaFile(PathBuf::from(&env["LAB_CA_FILE"]))).expect("lab CA");
    let cfg = sol(4, alice).with_tls(lab_ca);
    assert_eq!(cfg.spn(), "HTTP/amt4.example.test:16995");
    let (mut r, _w) = amt::sol::connect(&cfg)
        .await
        .unwrap_or_else(|e| panic!("SOL over TLS: {e} ({:?})", f.device(twin(4)).unwrap().last_refusal()))
        .split();
    let mut seen = String::new();
    until(&mut r, &mut seen, "amt4 login: ").await;
    f.shutdown().await;
}
