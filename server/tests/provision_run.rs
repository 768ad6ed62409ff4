//! Against the lab AD and a simulated device: applying a profile end to end through the real
//! run (`AppState::start_run`): the device's stored Digest admin account reaches it (a fresh
//! device has nothing else), its computer object is created in OU=AMT Provisioning and read
//! back on the DC, the Kerberos settings, access list, redirection/consent and clock are
//! written to the device, and the proof runs as alice with her own TGT. Then the request
//! workflow on the same device: bob requests, bob cannot approve it, alice approves, the run
//! starts as alice and bob's request follows it. Every object made here is deleted at the end.
//!
//! Run with the lab's environment and `KRB5_CLIENT_KTNAME` naming the portal's keytab (AD
//! binds as svc-portal), as `dev`'s run_tests does.

use std::collections::HashMap;
use std::time::Duration;

use amt::client::{Auth, Client, ClientConfig};
use amt::models::Model;
use amt::models::kerberos::KerberosSettingData;
use amt::wsman::Request;
use amt_sim::fleet::{Fleet, FleetConfig, device_ip};
use amt_sim::seed::FleetSeed;
use leptos::config::LeptosOptions;
use server::AppState;
use server::auth::SessionUser;
use server::config::Config;
use server::provision::Starter;
use shared::profiles::{AccessScope, PrincipalKind, Profile, ProfileAclEntry, Realm};
use shared::provision::{NewRequest, RequestState, RunState, RunView, StepKind, StepOutcome};

const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const SIM_ADMIN_PASSWORD: &str = "P@ssw0rd";
/// 127.1.0.214:16992, apart from the other lab tests' addresses (212-213, 221-248).
const SIM_INDEX: u32 = 214;

fn user(name: &str, lab: &HashMap<String, String>, groups: &[&str]) -> SessionUser {
    SessionUser {
        principal: format!("{name}@{}", lab["LAB_REALM"]),
        account: name.into(),
        display_name: name.into(),
        sid: lab.get(&format!("LAB_SID_{}", name.to_uppercase())).cloned(),
        group_sids: groups.iter().map(|g| lab[*g].clone()).collect(),
        method: shared::SignInMethod::Password,
        signed_in_at: "2026-12-05T18:00:00Z".into(),
        ticket_bytes: None,
        token_bytes: None,
        cred_handle: None,
        no_delegation_reason: None,
    }
}

async fn state(lab: &HashMap<String, String>, dir: &std::path::Path) -> AppState {
    let key_file = dir.join("secret.key");
    std::fs::write(&key_file, KEY).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let admins = lab["LAB_SID_AMT_ADMINS"].clone();
    let vars: HashMap<&str, String> = HashMap::from([
        ("PORTAL_KEYTAB", lab["LAB_PORTAL_KEYTAB"].clone()),
        ("PORTAL_TLS_CERT", lab["LAB_PORTAL_CERT"].clone()),
        ("PORTAL_TLS_KEY", lab["LAB_PORTAL_KEY"].clone()),
        ("PORTAL_PUBLIC_URL", "https://portal.example.test:8443".to_string()),
        ("PORTAL_DATABASE", dir.join("portal.sqlite").display().to_string()),
        ("PORTAL_LDAP_URL", lab["LAB_LDAP_URL"].clone()),
        ("PORTAL_LDAP_HOST", lab["LAB_DC_HOST"].clone()),
        ("PORTAL_DEVICE_OU", lab["LAB_PROVISION_OU"].clone()),
        ("PORTAL_SECRET_KEY_FILE", key_file.display().to_string()),
        ("PORTAL_ADMIN_GROUPS", admins.clone()),
        ("PORTAL_APPROVER_GROUPS", admins),
    ]);
    let config = Config::from_lookup(|k| vars.get(k).cloned()).expect("valid test config");
    let leptos = LeptosOptions::builder()
        .output_name("portal")
        .site_root("target/site")
        .build();
    AppState::new(config, leptos).await.expect("state")
}

async fn wait_for_end(state: &AppState, run: i64) -> RunView {
    for _ in 0..600 {
        let v = server::provision::record::get(&state.pool, run).await.unwrap().unwrap();
        if v.state.finished() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("run {run} did not end within a minute");
}

fn step(v: &RunView, s: StepKind) -> &shared::provision::StepView {
    v.steps.iter().find(|x| x.step == s).expect("step recorded")
}

/// `u` signed in with the password form: the portal holds their TGT.
async fn signed_in(st: &AppState, lab: &HashMap<String, String>, mut u: SessionUser) -> SessionUser {
    let (acc, spn, who, pw) = (
        st.acceptor.clone(),
        st.config.service_principal.clone(),
        u.account.clone(),
        lab["LAB_PASSWORD"].clone(),
    );
    let tgt = tokio::task::spawn_blocking(move || {
        kerberos::password_sign_in(&acc, &spn, &who, &pw)
            .expect("lab user signs in")
            .1
    })
    .await
    .unwrap();
    u.cred_handle = Some(st.creds.insert(tgt));
    let now = time::OffsetDateTime::now_utc();
    u.signed_in_at = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    u
}

async fn delete_object(lab: &HashMap<String, String>, dn: &str) {
    let (conn, mut ldap) = ldap3::LdapConnAsync::new(&lab["LAB_LDAP_URL"]).await.unwrap();
    ldap3::drive!(conn);
    ldap.sasl_gssapi_bind(&lab["LAB_DC_HOST"])
        .await
        .unwrap()
        .success()
        .unwrap();
    let _ = ldap.delete(dn).await;
    let _ = ldap.unbind().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_applied_to_a_fresh_simulated_device_then_a_request_approved() {
    let Some(lab) = lab_env::load() else { return };
    let lab: HashMap<String, String> = lab.into_iter().collect();
    let dir = std::env::temp_dir().join(format!("provision-run-ok-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let st = state(&lab, &dir).await;
    let host = format!("prv{:06x}", rand::random::<u32>() & 0xff_ffff);
    let fqdn = format!("{host}.{}", lab["LAB_REALM"].to_lowercase());
    // A fresh device (no Kerberos, only its Digest admin) on port 16992, as the SPNs name it.
    let mut seed = FleetSeed::with_count(1);
    seed.defaults.fqdn = Some(fqdn.clone());
    seed.defaults.fresh = Some(true);
    let fleet = Fleet::start(FleetConfig {
        seed,
        port: 16992,
        first_index: SIM_INDEX,
        ..FleetConfig::for_tests(1)
    })
    .await
    .expect("simulator");
    let addr = fleet.device(SIM_INDEX).expect("device").addr;
    assert_eq!(addr.ip(), std::net::IpAddr::V4(device_ip(SIM_INDEX)));
    let dn = format!("CN={host},{}", lab["LAB_PROVISION_OU"]);

    server::registry::import_csv(
        &st.pool,
        &format!("fqdn,address,port\n{fqdn},{},{}\n", addr.ip(), addr.port()),
    )
    .await
    .unwrap();
    let alice = user("alice", &lab, &["LAB_SID_AMT_ADMINS"]);
    let bob = user("bob", &lab, &["LAB_SID_AMT_HELPDESK"]);

    // No profile yet: the run stops at its first step and says so; nothing else ran.
    let run = st
        .start_run(Starter::User(Box::new(alice.clone())), 1, "apply", None)
        .await
        .unwrap();
    let v = wait_for_end(&st, run).await;
    assert_eq!(v.state, RunState::Failed);
    assert!(
        step(&v, StepKind::CheckProfile)
            .message
            .contains("has no provisioning profile"),
        "{v:?}"
    );
    assert!(v.steps[1..].iter().all(|s| s.outcome == StepOutcome::NotRun));
    // … and a request for it is refused with the reason.
    let e = st
        .request_reprovision(
            &bob,
            NewRequest {
                device_id: 1,
                reason: "sign-in fails".into(),
                on_behalf_of: String::new(),
            },
        )
        .await
        .unwrap_err();
    assert!(e.contains("no provisioning profile"), "{e}");

    let profile = Profile {
        name: format!("Lab {host}"),
        acl: vec![
            ProfileAclEntry {
                sid: lab["LAB_SID_AMT_ADMINS"].clone(),
                name: "AMT Admins".into(),
                kind: PrincipalKind::Group,
                realms: vec![Realm::PtAdministration],
                access: AccessScope::Both,
            },
            ProfileAclEntry {
                sid: lab["LAB_SID_AMT_HELPDESK"].clone(),
                name: "AMT Helpdesk".into(),
                kind: PrincipalKind::Group,
                realms: [Realm::RemoteControl, Realm::Redirection]
                    .into_iter()
                    .chain(Realm::READ)
                    .collect(),
                access: AccessScope::Both,
            },
        ],
        device_ou: lab["LAB_PROVISION_OU"].clone(),
        ..Profile::default()
    };
    let pid = server::profiles::save(&st.pool, &profile, "test").await.unwrap();
    server::profiles::assign(&st.pool, &[1], Some(pid)).await.unwrap();
    st.set_admin_account(&alice, 1, "admin", SIM_ADMIN_PASSWORD)
        .await
        .unwrap();
    // alice proves the key with her own TGT (the portal holds it as after a password sign-in).
    let alice = signed_in(&st, &lab, alice).await;

    let run = st
        .start_run(Starter::User(Box::new(alice.clone())), 1, "apply", None)
        .await
        .unwrap();
    // One device never has two runs at once.
    let busy = st
        .start_run(Starter::User(Box::new(alice.clone())), 1, "apply", None)
        .await;
    let v = wait_for_end(&st, run).await;
    let cleanup = delete_object(&lab, &dn);
    assert!(busy.unwrap_err().contains("already has a provisioning run"));
    for s in [
        StepKind::CheckProfile,
        StepKind::ReachDevice,
        StepKind::AdObject,
        StepKind::AdCheckDcs,
        StepKind::KerberosSettings,
        StepKind::AclEntries,
        StepKind::Redirection,
        StepKind::Clock,
    ] {
        assert_eq!(step(&v, s).outcome, StepOutcome::Done, "{s:?}: {}", step(&v, s).message);
    }
    assert!(
        step(&v, StepKind::ReachDevice)
            .message
            .contains("stored Digest admin account admin")
    );
    assert!(
        step(&v, StepKind::AdObject).message.contains(&dn),
        "{}",
        step(&v, StepKind::AdObject).message
    );
    assert!(
        step(&v, StepKind::AdCheckDcs)
            .message
            .contains("Every domain controller")
    );
    for s in &v.steps {
        eprintln!("{:?}: {:?} {}", s.step, s.outcome, s.message);
    }
    // The proof: alice's real ticket, encrypted with the key from the new AD password, works.
    let prove = step(&v, StepKind::Prove);
    assert_eq!(prove.outcome, StepOutcome::Done, "{}", prove.message);
    assert!(prove.message.contains("alice@"), "{}", prove.message);
    assert_eq!(v.state, RunState::Done, "{}", v.summary);
    // No secret in the record.
    assert!(!format!("{v:?}").to_lowercase().contains("passphrase\":"));
    assert!(!format!("{v:?}").contains(SIM_ADMIN_PASSWORD));

    // The device holds what was written.
    let mut cfg = ClientConfig::new(
        &addr.ip().to_string(),
        Auth::Digest {
            user: "admin".into(),
            password: SIM_ADMIN_PASSWORD.into(),
        },
    );
    cfg.port = addr.port();
    let admin = Client::new(cfg);
    let k: KerberosSettingData = admin
        .get_with(Request::get(KerberosSettingData::CLASS).selector("InstanceID", KerberosSettingData::INSTANCE_ID))
        .await
        .unwrap();
    assert_eq!(k.krb_enabled, Some(true));
    assert_eq!(k.realm_name.as_deref(), Some(lab["LAB_REALM"].as_str()));
    let acl = admin.kerberos_acl().await.unwrap();
    assert!(
        acl.iter()
            .any(|e| e.sid().map(|s| s.to_string()) == Some(lab["LAB_SID_AMT_ADMINS"].clone()))
    );

    // alice and bob (Helpdesk: Remote Control) read the power state as themselves; erin cannot.
    assert!(matches!(st.power_view(&alice, 1).await, shared::DeviceOutcome::Ok(_)));
    let bob = signed_in(&st, &lab, bob).await;
    match st.power_view(&bob, 1).await {
        shared::DeviceOutcome::Ok(p) => assert!(p.acting_as.contains("your own Kerberos ticket")),
        other => panic!("bob: {other:?}"),
    }
    let erin = signed_in(&st, &lab, user("erin", &lab, &[])).await;
    assert!(matches!(
        st.power_view(&erin, 1).await,
        shared::DeviceOutcome::Refused { .. }
    ));

    // The audit log has the start, the changes and the end under alice's name.
    let audit = server::audit::latest(&st.pool, 200).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "provision apply: start" && e.principal.as_deref() == Some(alice.principal.as_str()))
    );
    assert!(
        audit
            .iter()
            .any(|e| e.action.contains("Write the device's Kerberos settings") && e.result == "ok")
    );

    // Requests: bob asks; bob may not decide; alice approves and the run starts as alice.
    let msg = st
        .request_reprovision(
            &bob,
            NewRequest {
                device_id: 1,
                reason: "my sign-in to it fails".into(),
                on_behalf_of: String::new(),
            },
        )
        .await
        .unwrap();
    assert!(msg.contains("is filed for bob@"), "{msg}");
    let req = server::provision::requests::list(&st.pool, Some(&bob.principal), None, None)
        .await
        .unwrap()[0]
        .clone();
    assert_eq!(req.state, RequestState::Pending);
    assert!(
        st.decide_request(&bob, req.id, true, String::new())
            .await
            .unwrap_err()
            .contains("only approvers")
    );
    let page = st.requests_page(&alice).await.unwrap();
    assert!(page.is_approver && page.pending.iter().any(|r| r.id == req.id));
    // alice's held credential caches the device's service ticket under the old key; a new
    // sign-in (as after re-keying, users sign in again) proves the new one.
    let alice = signed_in(&st, &lab, user("alice", &lab, &["LAB_SID_AMT_ADMINS"])).await;
    let msg = st.decide_request(&alice, req.id, true, "ok".into()).await.unwrap();
    assert!(msg.contains("is approved"), "{msg}");
    let r = server::provision::requests::get(&st.pool, req.id)
        .await
        .unwrap()
        .unwrap();
    let run = r.run_id.expect("the approval started a run");
    let v = wait_for_end(&st, run).await;
    assert_eq!(v.actor, alice.principal);
    assert_eq!(v.request_id, Some(req.id));
    let r = server::provision::requests::get(&st.pool, req.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v.state, RunState::Done, "{}", v.summary);
    assert_eq!(r.state, RequestState::Done, "bob sees the run's end");
    assert!(
        st.requests_page(&bob)
            .await
            .unwrap()
            .mine
            .iter()
            .any(|x| x.id == req.id && x.state == RequestState::Done)
    );
    assert_eq!(
        step(&v, StepKind::AdObject).outcome,
        StepOutcome::Done,
        "{}",
        step(&v, StepKind::AdObject).message
    );
    assert!(
        step(&v, StepKind::AdObject).message.starts_with("Updated"),
        "the second run updates the object"
    );
    // bob signed in before this re-key: his session's ticket for the device is under the old
    // key. The device refuses it, and the portal says why and what to do (not "no realm").
    match st.power_view(&bob, 1).await {
        shared::DeviceOutcome::Refused { code, message } => {
            assert_eq!(code, "device_rekeyed", "{message}");
            assert!(message.contains("Sign out and sign in again"), "{message}");
        }
        other => panic!("bob's stale ticket: {other:?}"),
    }
    let bob = signed_in(&st, &lab, user("bob", &lab, &["LAB_SID_AMT_HELPDESK"])).await;
    assert!(
        matches!(st.power_view(&bob, 1).await, shared::DeviceOutcome::Ok(_)),
        "a new sign-in gets a ticket under the new key"
    );
    // A decided request is not decided again.
    assert!(
        st.decide_request(&alice, req.id, false, "no".into())
            .await
            .unwrap_err()
            .contains("already")
    );

    cleanup.await;
    fleet.shutdown().await;
}

/// The live steps, with the device made to answer HTTP 500 from the ACL step on: a device
/// that fails part way.
struct FailAtAcl {
    live: server::provision::live::LiveSteps,
    device: std::sync::Arc<amt_sim::fleet::Device>,
}

impl server::provision::engine::StepOps for FailAtAcl {
    fn run(
        &mut self,
        step: StepKind,
    ) -> server::provision::engine::BoxFuture<'_, server::provision::engine::StepResult> {
        if step == StepKind::AclEntries {
            self.device.set_faults(amt_sim::state::Faults {
                http_500: true,
                ..Default::default()
            });
        }
        self.live.run(step)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_failing_at_the_acl_step_shows_which_steps_ran() {
    let Some(lab) = lab_env::load() else { return };
    let lab: HashMap<String, String> = lab.into_iter().collect();
    let dir = std::env::temp_dir().join(format!("provision-run-fail-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let st = state(&lab, &dir).await;
    let host = format!("prf{:06x}", rand::random::<u32>() & 0xff_ffff);
    let fqdn = format!("{host}.{}", lab["LAB_REALM"].to_lowercase());
    let dn = format!("CN={host},{}", lab["LAB_PROVISION_OU"]);
    let mut seed = FleetSeed::with_count(1);
    seed.defaults.fqdn = Some(fqdn.clone());
    seed.defaults.fresh = Some(true);
    let fleet = Fleet::start(FleetConfig {
        seed,
        port: 16992,
        first_index: SIM_INDEX + 1,
        ..FleetConfig::for_tests(1)
    })
    .await
    .expect("simulator");
    let device = fleet.device(SIM_INDEX + 1).expect("device").clone();
    server::registry::import_csv(
        &st.pool,
        &format!("fqdn,address,port\n{fqdn},{},16992\n", device.addr.ip()),
    )
    .await
    .unwrap();
    let alice = user("alice", &lab, &["LAB_SID_AMT_ADMINS"]);
    let profile = Profile {
        name: format!("Lab {host}"),
        acl: vec![ProfileAclEntry {
            sid: lab["LAB_SID_AMT_ADMINS"].clone(),
            name: "AMT Admins".into(),
            kind: PrincipalKind::Group,
            realms: vec![Realm::PtAdministration],
            access: AccessScope::Both,
        }],
        device_ou: lab["LAB_PROVISION_OU"].clone(),
        ..Profile::default()
    };
    let pid = server::profiles::save(&st.pool, &profile, "test").await.unwrap();
    server::profiles::assign(&st.pool, &[1], Some(pid)).await.unwrap();
    st.set_admin_account(&alice, 1, "admin", SIM_ADMIN_PASSWORD)
        .await
        .unwrap();

    let steps = StepKind::ALL;
    let run = server::provision::record::create(
        &st.pool,
        &server::provision::record::NewRun {
            device_id: 1,
            profile_id: Some(pid),
            profile_name: &profile.name,
            actor: &alice.principal,
            kind: "apply",
            request_id: None,
            steps: &steps,
        },
    )
    .await
    .unwrap();
    let mut ops = FailAtAcl {
        live: server::provision::live::LiveSteps::new(st.clone(), run, 1, Some(alice.clone())),
        device,
    };
    let ctx = server::provision::engine::RunContext {
        run_id: run,
        actor: alice.principal.clone(),
        fqdn: fqdn.clone(),
        kind: "apply".into(),
    };
    let end = server::provision::engine::execute(&st.pool, &ctx, &steps, &mut ops, Duration::from_secs(30)).await;
    delete_object(&lab, &dn).await;
    assert_eq!(end, RunState::Failed);
    let v = server::provision::record::get(&st.pool, run).await.unwrap().unwrap();
    let outcomes: Vec<StepOutcome> = v.steps.iter().map(|s| s.outcome).collect();
    assert_eq!(&outcomes[..5], &[StepOutcome::Done; 5], "{v:?}");
    assert_eq!(step(&v, StepKind::AclEntries).outcome, StepOutcome::Failed);
    assert!(!step(&v, StepKind::AclEntries).message.is_empty());
    assert_eq!(&outcomes[6..], &[StepOutcome::NotRun; 3]);
    assert!(
        v.summary
            .contains("Stopped at \"Write the profile's access list to the device\""),
        "{}",
        v.summary
    );
    assert!(
        v.summary.contains("Create or update the device's computer object"),
        "the AD change is named: {}",
        v.summary
    );
    assert!(
        v.summary.contains("Write the device's Kerberos settings and key"),
        "{}",
        v.summary
    );
    assert!(
        v.summary
            .contains("Not run: Set redirection and user consent; Synchronize the device clock; Prove it"),
        "{}",
        v.summary
    );
    fleet.shutdown().await;
}
