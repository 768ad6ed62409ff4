//! Keys written over WS-Man are the keys a simulated device uses, proved with real tickets
//! from the lab Active Directory (see e2e/lab/README.md).
//!
//! The lab has a computer account `amtkey$` (CN=Computers) with the SPNs
//! `HTTP/amtkey.example.test:16992..16995` and a fixed password (`LAB_KEYTEST_FQDN`,
//! `LAB_KEYTEST_PASSWORD` in lab.env). A fresh simulated device for that FQDN is provisioned by
//! the `amt` crate's calls as the Digest admin: Kerberos settings with the password as the AES
//! passphrase, the MS-KILE salt and 4096 iterations; an ACL granting AMT Admins Remote Control
//! and General Info. Then alice's real service ticket (password sign-in, as the other lab tests)
//! reads the power state over Negotiate; a wrong passphrase makes the same ticket fail; erin
//! (in no granted group) is refused. A second device shows that a written key replaces the
//! fleet's shared keytab.
//!
//! Addresses: 127.1.0.212 and 127.1.0.213 on port 16992 (the SPN names the port), apart from
//! the other lab tests' 127.1.0.221-248.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use amt::client::{Auth, Client, ClientConfig, ClientError, NegotiateTokens};
use amt::provision::{KerberosSetup, KeyMaterial, WantedAclEntry, ad_computer_salt};
use amt_sim::auth::KeytabVerifier;
use amt_sim::fleet::{Fleet, FleetConfig, device_ip};
use amt_sim::seed::{AclSeed, FleetSeed};

type Env = HashMap<String, String>;

const KEYTEST_INDEX: u32 = 212;
const REPLACED_INDEX: u32 = 213;

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
    .expect("sign-in task")
}

/// One device `fqdn` on 127.1.0.<index>:16992 with the fleet's shared verifier (the devices'
/// keytab, own replay cache), as `amt-sim --keytab` runs it.
async fn device(env: &Env, index: u32, fqdn: &str, tweak: impl FnOnce(&mut FleetSeed)) -> Fleet {
    let mut seed = FleetSeed::with_count(1);
    seed.defaults.fqdn = Some(fqdn.to_string());
    tweak(&mut seed);
    let rcache = std::env::temp_dir().join(format!("amt-sim-labkeys-{}-{index}.rcache2", std::process::id()));
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
        tls: None,
        redirection: None,
    })
    .await
    .unwrap_or_else(|e| panic!("{fqdn} on {}: {e}", device_ip(index)))
}

fn client(index: u32, fqdn: &str, auth: Auth) -> Client {
    let mut cfg = ClientConfig::new(&device_ip(index).to_string(), auth);
    cfg.fqdn = Some(fqdn.to_string());
    cfg.port = 16992;
    cfg.timeout = std::time::Duration::from_secs(20);
    Client::new(cfg)
}

fn admin(index: u32, fqdn: &str) -> Client {
    client(
        index,
        fqdn,
        Auth::Digest {
            user: "admin".into(),
            password: "P@ssw0rd".into(),
        },
    )
}

fn setup(env: &Env, fqdn: &str, passphrase: &str) -> KerberosSetup {
    KerberosSetup {
        realm: env["LAB_REALM"].clone(),
        key: KeyMaterial::Passphrase {
            passphrase: passphrase.to_string(),
            salt: ad_computer_salt(&env["LAB_REALM"], fqdn),
            iterations: 4096,
        },
        key_version: 2,
        clock_tolerance_minutes: 5,
        encryption: vec![1, 2],
    }
}

/// The device refused with a 401 and its reason contains `why`.
fn assert_refused<T: std::fmt::Debug>(f: &Fleet, index: u32, r: Result<T, ClientError>, why: &str) {
    match r {
        Err(ClientError::Unauthorized { .. }) => {}
        other => panic!("expected a 401, got {other:?}"),
    }
    let reason = f.device(index).and_then(|d| d.last_refusal()).unwrap_or_default();
    assert!(reason.contains(why), "refused for {reason:?}, expected {why:?}");
}

/// The device refused with a 401 and its reason contains one of `whys` (which one depends on
/// whether the lab account's key version happens to match the one written).
fn assert_refused_any<T: std::fmt::Debug>(f: &Fleet, index: u32, r: Result<T, ClientError>, whys: &[&str]) {
    match r {
        Err(ClientError::Unauthorized { .. }) => {}
        other => panic!("expected a 401, got {other:?}"),
    }
    let reason = f.device(index).and_then(|d| d.last_refusal()).unwrap_or_default();
    assert!(
        whys.iter().any(|w| reason.contains(w)),
        "refused for {reason:?}, expected one of {whys:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_device_given_the_ad_accounts_key_accepts_real_tickets() {
    let Some(env) = lab_env::load() else { return };
    let fqdn = env
        .get("LAB_KEYTEST_FQDN")
        .expect("LAB_KEYTEST_FQDN in lab.env (run e2e/lab/lab.sh up)")
        .clone();
    let password = env["LAB_KEYTEST_PASSWORD"].clone();
    let f = device(&env, KEYTEST_INDEX, &fqdn, |s| s.defaults.fresh = Some(true)).await;
    let alice = sign_in(&env, "alice").await;

    // Never provisioned: Kerberos is off, whatever the ticket.
    let r = client(KEYTEST_INDEX, &fqdn, Auth::Negotiate(alice.clone()))
        .power_state()
        .await;
    assert_refused(&f, KEYTEST_INDEX, r, "not enabled");

    let a = admin(KEYTEST_INDEX, &fqdn);
    a.put_kerberos_settings(&setup(&env, &fqdn, &password))
        .await
        .expect("admin writes the Kerberos settings");
    let report = a
        .sync_kerberos_acl(&[WantedAclEntry {
            sid: env["LAB_SID_AMT_ADMINS"].parse().expect("AMT Admins SID"),
            access: 2,
            realms: vec![5, 13],
        }])
        .await
        .expect("admin writes the ACL");
    assert_eq!(report.added.len(), 1);
    let written = f.device(KEYTEST_INDEX).expect("device").snapshot().kerberos.written_key;
    assert!(
        written
            .as_deref()
            .is_some_and(|w| w.contains("AES256") && w.contains("4096")),
        "{written:?}"
    );

    let state = client(KEYTEST_INDEX, &fqdn, Auth::Negotiate(alice.clone()))
        .power_state()
        .await
        .expect("alice (AMT Admins) reads the power state with a ticket opened by the written key");
    assert_eq!(state.power_state.map(|p| p.value()), Some(2), "{state:?}");

    let erin = sign_in(&env, "erin").await;
    let r = client(KEYTEST_INDEX, &fqdn, Auth::Negotiate(erin)).power_state().await;
    assert_refused(&f, KEYTEST_INDEX, r, "no ACL entry");

    // A wrong passphrase: the device's key no longer opens alice's ticket.
    a.put_kerberos_settings(&setup(&env, &fqdn, "not-the-password"))
        .await
        .expect("admin writes a wrong key");
    let r = client(KEYTEST_INDEX, &fqdn, Auth::Negotiate(alice.clone()))
        .power_state()
        .await;
    // MIT finds no key that opens the ticket: the device holds another key of this principal
    // (key_mismatch when the key version matches, wrong_service when even that differs).
    assert_refused_any(&f, KEYTEST_INDEX, r, &["[key_mismatch]", "[wrong_service]"]);

    // The right key again: accepted again.
    a.put_kerberos_settings(&setup(&env, &fqdn, &password))
        .await
        .expect("admin writes the right key");
    client(KEYTEST_INDEX, &fqdn, Auth::Negotiate(alice))
        .power_state()
        .await
        .expect("the right key opens the ticket again");
    f.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_written_key_replaces_the_shared_keytab() {
    let Some(env) = lab_env::load() else { return };
    let fqdn = "amt3.example.test";
    let f = device(&env, REPLACED_INDEX, fqdn, |s| {
        s.defaults.krb_enabled = Some(true);
        s.defaults.acl = Some(vec![AclSeed {
            sid: Some(env["LAB_SID_AMT_ADMINS"].clone()),
            realms: vec![5, 13],
            ..AclSeed::default()
        }]);
    })
    .await;
    let alice = sign_in(&env, "alice").await;
    client(REPLACED_INDEX, fqdn, Auth::Negotiate(alice.clone()))
        .power_state()
        .await
        .expect("the shared devices keytab holds amt3's key");

    // Another account's password as amt3's key: amt3's real tickets no longer open.
    admin(REPLACED_INDEX, fqdn)
        .put_kerberos_settings(&setup(&env, fqdn, &env["LAB_KEYTEST_PASSWORD"]))
        .await
        .expect("admin writes a key");
    let r = client(REPLACED_INDEX, fqdn, Auth::Negotiate(alice)).power_state().await;
    assert_refused_any(&f, REPLACED_INDEX, r, &["[key_mismatch]", "[wrong_service]"]);
    f.shutdown().await;
}
