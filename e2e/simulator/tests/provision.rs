//! The `amt` crate's provisioning calls (`amt::provision`) against simulated devices over real
//! loopback sockets, as the admin by Digest: Kerberos settings, ACL sync, redirection,
//! user consent, clock.

use amt::client::{Auth, Client, ClientConfig, ClientError};
use amt::models::kerberos::KerberosSettingData;
use amt::models::redirection::OptInRequired;
use amt::models::{Model, authorization::AclUser};
use amt::provision::{KerberosSetup, KeyMaterial, ProvisionError, WantedAclEntry, rc4_key};
use amt::wsman::Request;
use amt::{Realm, Sid};
use amt_sim::fleet::{Fleet, FleetConfig};
use amt_sim::seed::{AclSeed, DeviceSeed, FleetSeed};

const PW: &str = "P@ssw0rd";

fn sid(rid: u32) -> Sid {
    format!("S-1-5-21-3623811015-3361044348-30300820-{rid}")
        .parse()
        .expect("sid")
}

fn wanted(rid: u32, realms: &[u8]) -> WantedAclEntry {
    WantedAclEntry {
        sid: sid(rid),
        access: 2,
        realms: realms.to_vec(),
    }
}

fn admin(f: &Fleet, n: u32) -> Client {
    let addr = f.device(n).expect("device").addr;
    let mut cfg = ClientConfig::new(
        &addr.ip().to_string(),
        Auth::Digest {
            user: "admin".into(),
            password: PW.into(),
        },
    );
    cfg.port = addr.port();
    Client::new(cfg)
}

async fn fleet_with(seed: DeviceSeed) -> Fleet {
    let mut cfg = FleetConfig::for_tests(1);
    cfg.seed = FleetSeed {
        count: 1,
        defaults: seed,
        ..FleetSeed::default()
    };
    Fleet::start(cfg).await.expect("fleet")
}

async fn settings(c: &Client) -> KerberosSettingData {
    c.get_with(Request::get(KerberosSettingData::CLASS).selector("InstanceID", KerberosSettingData::INSTANCE_ID))
        .await
        .expect("get kerberos settings")
}

#[tokio::test]
async fn kerberos_settings_then_acl_on_a_fresh_device() {
    let f = fleet_with(DeviceSeed {
        acl: Some(vec![AclSeed {
            username: Some("operator".into()),
            password: Some("Operat0r!".into()),
            realms: vec![5, 13],
            ..AclSeed::default()
        }]),
        ..DeviceSeed::default()
    })
    .await;
    let c = admin(&f, 1);

    // Kerberos entries need KrbEnabled first: the device refuses, nothing was changed.
    let e = c
        .sync_kerberos_acl(&[wanted(1104, &[5, 13])])
        .await
        .expect_err("Kerberos is off");
    assert_eq!(e.cause.return_code(), Some(16), "{e}");
    assert!(e.to_string().contains("Kerberos must be enabled"), "{e}");
    assert!(!e.done.changed());

    let setup = KerberosSetup::for_firmware("16.1.25", "EXAMPLE.TEST", "amt1", "Secr3t!key", 7, 4);
    c.put_kerberos_settings(&setup).await.expect("put settings");
    let s = settings(&c).await;
    assert_eq!(s.krb_enabled, Some(true));
    assert_eq!(s.realm_name.as_deref(), Some("EXAMPLE.TEST"));
    assert_eq!(s.key_version, Some(7));
    assert_eq!(s.maximum_clock_tolerance, Some(4));
    assert_eq!(s.configured_encryption_algorithms, vec![1, 2]);
    assert_eq!(s.passphrase, None, "the passphrase is write-only");
    let events: Vec<u32> = f
        .device(1)
        .expect("device")
        .snapshot()
        .audit_log
        .iter()
        .map(|r| r.event_number())
        .collect();
    assert!(events.ends_with(&[1613, 1614]), "{events:?}");

    let r = c
        .sync_kerberos_acl(&[wanted(1104, &[5, 13]), wanted(1105, &[3])])
        .await
        .expect("sync");
    assert_eq!(r.added, vec![sid(1104), sid(1105)]);
    assert!(r.updated.is_empty() && r.removed.is_empty() && r.unchanged.is_empty());

    // Changed realms → update; no longer wanted → remove; new → add; Digest untouched.
    let r = c
        .sync_kerberos_acl(&[wanted(1104, &[13, 5, 2]), wanted(1106, &[19])])
        .await
        .expect("sync");
    assert_eq!(r.updated, vec![sid(1104)]);
    assert_eq!(r.removed, vec![sid(1105)]);
    assert_eq!(r.added, vec![sid(1106)]);
    let acl = c.kerberos_acl().await.expect("acl");
    assert_eq!(acl.len(), 3, "{acl:?}");
    assert!(
        acl.iter()
            .any(|e| matches!(&e.user, AclUser::Digest { username, .. } if username == "operator"))
    );
    let e1104 = acl.iter().find(|e| e.sid() == Some(&sid(1104))).expect("1104");
    assert_eq!(
        e1104.sid().map(ToString::to_string).as_deref(),
        Some("S-1-5-21-3623811015-3361044348-30300820-1104")
    );
    let mut realms = e1104.realms.clone();
    realms.sort();
    assert_eq!(
        realms,
        vec![Realm::Redirection, Realm::RemoteControl, Realm::GeneralInfo]
    );

    // Same list again: nothing to do (realm order does not matter).
    let r = c
        .sync_kerberos_acl(&[wanted(1106, &[19]), wanted(1104, &[2, 5, 13])])
        .await
        .expect("sync");
    assert!(!r.changed(), "{r:?}");
    assert_eq!(r.unchanged.len(), 2);

    // An empty list removes every Kerberos entry, never the Digest one.
    let r = c.sync_kerberos_acl(&[]).await.expect("sync");
    assert_eq!(r.removed.len(), 2);
    let acl = c.kerberos_acl().await.expect("acl");
    assert_eq!(acl.len(), 1);
    f.shutdown().await;
}

#[tokio::test]
async fn rc4_master_key_for_old_firmware_and_input_checks() {
    let f = fleet_with(DeviceSeed {
        amt_version: Some("7.1.20".into()),
        ..DeviceSeed::default()
    })
    .await;
    let c = admin(&f, 1);
    let setup = KerberosSetup::for_firmware("7.1.20", "EXAMPLE.TEST", "amt1", "pw", 2, 5);
    assert!(matches!(setup.key, KeyMaterial::Rc4MasterKey(k) if k == rc4_key("pw")));
    c.put_kerberos_settings(&setup).await.expect("put");
    assert_eq!(settings(&c).await.configured_encryption_algorithms, vec![0]);

    // Bad input is refused before anything is sent.
    let mut bad = KerberosSetup::for_firmware("7.1.20", "EXAMPLE.TEST", "amt1", "pw", 2, 9);
    assert!(matches!(
        c.put_kerberos_settings(&bad).await,
        Err(ProvisionError::Invalid(_))
    ));
    bad.clock_tolerance_minutes = 5;
    bad.encryption = vec![0, 2];
    assert!(matches!(
        c.put_kerberos_settings(&bad).await,
        Err(ProvisionError::Invalid(_))
    ));
    let too_many: Vec<_> = (0..33).map(|i| wanted(3000 + i, &[13])).collect();
    let e = c.sync_kerberos_acl(&too_many).await.expect_err("33");
    assert!(matches!(e.cause, ProvisionError::Invalid(_)), "{e}");
    assert!(c.kerberos_acl().await.expect("acl").is_empty());
    // 32 entries fit.
    let r = c.sync_kerberos_acl(&too_many[..32]).await.expect("32 fit");
    assert_eq!(r.added.len(), 32);
    f.shutdown().await;
}

#[tokio::test]
async fn redirection_consent_and_clock() {
    let f = fleet_with(DeviceSeed {
        clock_offset_secs: Some(600),
        ..DeviceSeed::default()
    })
    .await;
    let dev = f.device(1).expect("device");
    let c = admin(&f, 1);

    c.set_redirection_features(true, false).await.expect("sol only");
    let st = dev.snapshot();
    assert_eq!(st.redirection.enabled_state, 32770);
    assert!(st.redirection.listener_enabled);
    c.set_redirection_features(false, false).await.expect("off");
    let st = dev.snapshot();
    assert_eq!(st.redirection.enabled_state, 32768);
    assert!(!st.redirection.listener_enabled);
    c.set_redirection_features(true, true).await.expect("both");
    assert_eq!(dev.snapshot().redirection.enabled_state, 32771);

    c.set_user_consent(OptInRequired::All).await.expect("all");
    assert_eq!(dev.snapshot().opt_in_required, 0xFFFF_FFFF);
    c.set_user_consent(OptInRequired::KvmOnly).await.expect("kvm");
    assert_eq!(dev.snapshot().opt_in_required, 1);
    assert!(matches!(
        c.set_user_consent(OptInRequired::Unknown(7)).await,
        Err(ProvisionError::Invalid(_))
    ));

    let offset = c.sync_clock().await.expect("clock");
    assert!((595..=605).contains(&offset), "{offset}");
    assert!(dev.snapshot().clock_offset_secs.abs() <= 2);
    f.shutdown().await;
}

fn kerberos_seed(count: usize) -> DeviceSeed {
    DeviceSeed {
        krb_enabled: Some(true),
        acl: Some(
            (0..count)
                .map(|i| AclSeed {
                    sid: Some(sid(5000 + i as u32).to_string()),
                    realms: vec![13],
                    ..AclSeed::default()
                })
                .chain(std::iter::once(AclSeed {
                    username: Some("$$uns".into()),
                    password: Some("x".into()),
                    realms: vec![16],
                    access_permission: Some(0),
                    ..AclSeed::default()
                }))
                .collect(),
        ),
        ..DeviceSeed::default()
    }
}

/// The return code of a raw AddUserAclEntryEx for a Kerberos SID given as bytes.
async fn add_raw(c: &Client, sid_bytes: &[u8], realms: &[u32]) -> u32 {
    use base64::Engine;
    let input = amt::wsman::Properties::new()
        .text(
            "KerberosUserSid",
            base64::engine::general_purpose::STANDARD.encode(sid_bytes),
        )
        .text("AccessPermission", 2)
        .list("Realms", realms.iter().copied());
    let out = c
        .invoke_unchecked(&Request::invoke("AMT_AuthorizationService", "AddUserAclEntryEx", input))
        .await
        .expect("invoke");
    amt::models::ReturnOnly::from_element(&out)
        .expect("output")
        .return_value
        .expect("ReturnValue")
}

#[tokio::test]
async fn the_simulator_enforces_firmware_acl_rules() {
    let f = fleet_with(kerberos_seed(31)).await;
    let c = admin(&f, 1);
    // Reserved realm 22: INVALID_REALM.
    assert_eq!(add_raw(&c, &sid(6000).to_bytes(), &[22]).await, 0x807);
    // Six sub-authorities are 32 bytes, over the 28 AMT takes: INVALID_PARAMETER.
    let long: Sid = "S-1-5-21-1-2-3-4-1104".parse().expect("sid");
    assert_eq!(add_raw(&c, &long.to_bytes(), &[13]).await, 36);
    // A SID already in the ACL: DUPLICATE.
    assert_eq!(add_raw(&c, &sid(5000).to_bytes(), &[13]).await, 0x80A);
    // The 32nd fits, the 33rd does not: MAX_KERB_DOMAIN_REACHED, in plain words through sync.
    assert_eq!(add_raw(&c, &sid(6001).to_bytes(), &[13]).await, 0);
    assert_eq!(add_raw(&c, &sid(6002).to_bytes(), &[13]).await, 0x811);
    // The `$$` system entry cannot be removed: NOT_PERMITTED; sync leaves it alone.
    let acl = c.kerberos_acl().await.expect("acl");
    let uns = acl
        .iter()
        .find(|e| matches!(&e.user, AclUser::Digest { username, .. } if username == "$$uns"))
        .expect("$$uns");
    let out = c
        .invoke_unchecked(&amt::models::authorization::remove_user_acl_entry(uns.handle))
        .await
        .expect("invoke");
    assert_eq!(
        amt::models::ReturnOnly::from_element(&out).expect("out").return_value,
        Some(16)
    );
    let r = c.sync_kerberos_acl(&[wanted(5000, &[13])]).await.expect("sync");
    assert_eq!((r.unchanged.len(), r.removed.len()), (1, 31));
    assert_eq!(c.kerberos_acl().await.expect("acl").len(), 2, "5000 and $$uns remain");
    f.shutdown().await;
}

#[tokio::test]
async fn the_simulator_refuses_bad_key_fields_and_consent_changes_without_admin() {
    let f = fleet_with(DeviceSeed {
        acl: Some(vec![AclSeed {
            username: Some("reader".into()),
            password: Some("Read3r!".into()),
            realms: vec![13],
            ..AclSeed::default()
        }]),
        ..DeviceSeed::default()
    })
    .await;
    let c = admin(&f, 1);
    let put = |extra: &[(&str, &str)]| {
        let mut p = amt::wsman::Properties::new()
            .text("InstanceID", KerberosSettingData::INSTANCE_ID)
            .text("KrbEnabled", "true")
            .text("RealmName", "EXAMPLE.TEST");
        for (k, v) in extra {
            p = p.text(k, v);
        }
        Request::put(KerberosSettingData::CLASS, p).selector("InstanceID", KerberosSettingData::INSTANCE_ID)
    };
    let key16 = "AAAAAAAAAAAAAAAAAAAAAA==";
    for bad in [
        vec![
            ("MasterKey", key16),
            ("Passphrase", "pw"),
            ("Salt", "s"),
            ("IterationCount", "4096"),
        ],
        vec![("Passphrase", "pw"), ("IterationCount", "4096")],
        vec![("Passphrase", "pw"), ("Salt", "s"), ("IterationCount", "0")],
        vec![("MasterKey", "AAAA")],
    ] {
        let e = c.send(&put(&bad)).await.expect_err("refused");
        assert!(matches!(e, ClientError::Fault(_)), "{bad:?}: {e}");
    }
    assert_eq!(f.device(1).expect("device").snapshot().kerberos.written_key, None);
    c.send(&put(&[("MasterKey", key16)]))
        .await
        .expect("a 16-byte master key");
    let dev = f.device(1).expect("device");
    let written = dev.snapshot().kerberos.written_key;
    assert!(
        written.as_deref().is_some_and(|w| w.starts_with("RC4 master key")),
        "{written:?}"
    );
    // The key survives a control-API patch of other fields and goes with a reset.
    dev.patch(&serde_json::json!({"power_state": 8})).expect("patch");
    assert!(dev.snapshot().device_key.is_some());
    dev.reset();
    assert!(dev.snapshot().device_key.is_none() && dev.snapshot().kerberos.written_key.is_none());

    // A General Info user reads the consent policy but may not change it.
    let mut cfg = admin(&f, 1).config().clone();
    cfg.auth = Auth::Digest {
        user: "reader".into(),
        password: "Read3r!".into(),
    };
    let reader = Client::new(cfg);
    let _: amt::models::redirection::OptInService = reader.get().await.expect("reads");
    let e = reader.set_user_consent(OptInRequired::All).await.expect_err("refused");
    assert!(
        matches!(e, ProvisionError::Client(ref c) if matches!(**c, ClientError::Fault(_))),
        "{e}"
    );
    assert_eq!(dev.snapshot().opt_in_required, 0);
    f.shutdown().await;
}
