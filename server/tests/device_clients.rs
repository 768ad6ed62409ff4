//! Device clients kept between clicks, through the real router, against the lab AD and a
//! simulated device that verifies tickets with the lab's device keytab: a user's clicks reuse
//! the connections authenticated on the first one (no new ticket check), another user never gets them
//! (the device's audit log names whoever acted), and signing out drops the user's clients.
//!
//! Lab device `amt8`'s twin listens on 127.1.0.228 (the simulator's lab tests use
//! 127.1.0.241-248, the benchmark 127.1.0.227).

#[allow(dead_code, reason = "the shared harness has helpers this binary does not use")]
mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use amt_sim::auth::{KeytabVerifier, TicketVerifier, VerifiedTicket};
use amt_sim::fleet::{Fleet, FleetConfig, device_ip};
use amt_sim::seed::{AclSeed, FleetSeed};
use amt_sim::state::Initiator;
use common::{ORIGIN, TestApp};

const INDEX: u32 = 228;

struct Counting(KeytabVerifier, AtomicUsize);

impl TicketVerifier for Counting {
    fn verify(&self, token: &[u8]) -> Result<VerifiedTicket, String> {
        self.1.fetch_add(1, Ordering::Relaxed);
        self.0.verify(token)
    }
}

async fn sign_in(app: &TestApp, user: &str) -> String {
    let tgt = app.tgt(user).await;
    let tok = app.negotiate(&tgt, "HTTP/portal.example.test", true).await;
    let r = app.get("/signin", Some(&tok), None).await;
    assert_eq!(r.status, 303, "{user} signs in: {}", r.body);
    r.session_cookie().expect("a session")
}

async fn call(app: &TestApp, cookie: &str, endpoint: &str, form: &str) {
    let r = app
        .post_form(&format!("/api/{endpoint}"), form, Some(ORIGIN), Some(cookie))
        .await;
    assert_eq!(r.status, 200, "{endpoint}: {}", r.body);
    assert!(r.body.starts_with("{\"Ok\""), "{endpoint}: {}", r.body);
}

fn last_initiator(f: &Fleet) -> Option<String> {
    match f.device(INDEX)?.snapshot().audit_log.pop()?.initiator {
        Initiator::Kerberos { sid, .. } => Some(sid),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clicks_reuse_the_users_own_connection_and_sign_out_drops_it() {
    let Some(app) = TestApp::new("device-clients").await else {
        return;
    };
    let lab = &app.lab;
    let rcache = std::env::temp_dir().join(format!("device-clients-{}.rcache2", std::process::id()));
    let verifier = Arc::new(Counting(
        KeytabVerifier::from_keytab_with_rcache(
            Path::new(&lab["LAB_DEVICES_KEYTAB"]),
            Some(&format!("file2:{}", rcache.display())),
        )
        .expect("devices keytab usable"),
        AtomicUsize::new(0),
    ));
    let mut seed = FleetSeed::with_count(1);
    seed.defaults.krb_enabled = Some(true);
    seed.defaults.fqdn = Some("amt8.example.test".into());
    seed.defaults.acl = Some(
        ["LAB_SID_AMT_ADMINS", "LAB_SID_AMT_HELPDESK"]
            .iter()
            .map(|k| AclSeed {
                sid: Some(lab[*k].clone()),
                realms: vec![2, 4, 5, 13, 19, 20],
                ..AclSeed::default()
            })
            .collect(),
    );
    let fleet = Fleet::start(FleetConfig {
        seed,
        port: 16992,
        verifier: Some(verifier.clone()),
        first_index: INDEX,
        tls: None,
        redirection: None,
    })
    .await
    .expect("simulated amt8");
    let new = server::registry::NewDevice::parse(
        "amt8.example.test",
        &device_ip(INDEX).to_string(),
        "16992",
        "false",
        "",
        "",
    )
    .unwrap();
    server::registry::upsert(&app.state.pool, &new, "manual").await.unwrap();
    let id = server::registry::list(&app.state.pool).await.unwrap()[0].id;
    let clients = app.state.device_clients.clone();

    let tickets = || verifier.1.load(Ordering::Relaxed);
    // alice's first read authenticates her kept client's connections (the power view reads the
    // power state and the boot capabilities at once: up to two connections); later reads reuse
    // them, so the device checks no further ticket.
    let alice = sign_in(&app, "alice").await;
    call(&app, &alice, "power", &format!("id={id}")).await;
    let first = tickets();
    assert!((1..=2).contains(&first), "one ticket per connection, got {first}");
    for _ in 0..2 {
        call(&app, &alice, "power", &format!("id={id}")).await;
    }
    assert_eq!(tickets(), first, "no new ticket for further reads");
    assert_eq!(clients.len(), 1);

    // bob (AMT Helpdesk) gets his own client and connections, never alice's.
    let bob = sign_in(&app, "bob").await;
    call(&app, &bob, "power", &format!("id={id}")).await;
    let after_bob = tickets();
    assert!(after_bob > first, "bob's ticket is checked too");
    assert_eq!(clients.len(), 2);
    call(&app, &bob, "power-action", &format!("id={id}&action=Cycle")).await;
    assert_eq!(last_initiator(&fleet).as_deref(), Some(lab["LAB_SID_BOB"].as_str()));
    call(&app, &alice, "power-action", &format!("id={id}&action=Cycle")).await;
    assert_eq!(last_initiator(&fleet).as_deref(), Some(lab["LAB_SID_ALICE"].as_str()));
    assert_eq!(tickets(), after_bob, "both actions on the kept connections");

    // alice signs out: her client goes, bob's stays.
    let r = app.post_form("/signout", "", Some(ORIGIN), Some(&alice)).await;
    assert_eq!(r.status, 303);
    assert_eq!(clients.len(), 1, "alice's client is dropped at sign-out");
    call(&app, &bob, "power", &format!("id={id}")).await;
    assert_eq!(tickets(), after_bob);

    // Signing in again (a new credential) starts a new connection.
    let alice = sign_in(&app, "alice").await;
    call(&app, &alice, "power", &format!("id={id}")).await;
    assert!(
        tickets() > after_bob,
        "a new credential means a new connection and ticket"
    );
    assert_eq!(clients.len(), 2);
    fleet.shutdown().await;
    let _ = std::fs::remove_file(&rcache);
}
