//! WS-Man behaviour of simulated devices over real loopback sockets (Digest only).

use std::time::Duration;

use amt::ns;
use amt::wsman::{Element, EndpointReference, Properties, Request};
use amt_sim::client::{ClientAuth, WsmanClient};
use amt_sim::fleet::{Fleet, FleetConfig};
use amt_sim::ops::digest_password_b64;
use amt_sim::seed::{AclSeed, FleetSeed};
use amt_sim::state::Faults;
use amt_sim::state::Initiator;

const PW: &str = "P@ssw0rd";

fn get(class: &str, selectors: &[(&str, &str)]) -> String {
    selectors
        .iter()
        .fold(Request::get(class), |r, (k, v)| r.selector(k, v))
        .to_xml(1)
}

fn invoke(class: &str, method: &str, args: &[(&str, &str)]) -> String {
    let input = args.iter().fold(Properties::new(), |p, (k, v)| p.text(k, v));
    Request::invoke(class, method, input).to_xml(2)
}

fn power(state: u16) -> String {
    invoke(
        "CIM_PowerManagementService",
        "RequestPowerStateChange",
        &[("PowerState", &state.to_string())],
    )
}

fn text_of(body: &str, name: &str) -> Option<String> {
    fn find(e: &Element, name: &str) -> Option<String> {
        if e.local == name {
            return Some(e.text.clone());
        }
        e.children.iter().find_map(|c| find(c, name))
    }
    find(&Element::parse(body).ok()?, name)
}

async fn fleet(count: u32) -> Fleet {
    Fleet::start(FleetConfig::for_tests(count)).await.unwrap()
}

fn admin(f: &Fleet, n: u32) -> WsmanClient {
    WsmanClient::digest(f.device(n).unwrap().addr, "admin", PW)
}

#[tokio::test]
async fn digest_challenge_has_amt_shape_then_admin_succeeds() {
    let f = fleet(1).await;
    let dev = f.device(1).unwrap();
    let mut c = WsmanClient::new(dev.addr, ClientAuth::None);
    let r = c.post_once(&get("AMT_GeneralSettings", &[])).await.unwrap();
    assert_eq!(r.status, 401);
    let realm = dev.snapshot().digest_realm;
    let www: Vec<&str> = r
        .headers
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(www.len(), 1, "no Negotiate while Kerberos is off");
    let prefix = format!("Digest realm=\"{realm}\", nonce=\"");
    assert!(www[0].starts_with(&prefix), "{}", www[0]);
    assert!(www[0].ends_with("\",stale=\"false\",qop=\"auth\""), "{}", www[0]);
    assert_eq!(r.headers["content-type"], "text/html");
    assert_eq!(r.headers["connection"], "close");
    assert!(
        r.body
            .contains("Log on failed. Incorrect user name or password, or user account temporarily locked.")
    );
    assert!(realm.starts_with("Digest:") && realm.len() == 39);

    let mut c = admin(&f, 1);
    let r = c.post(&get("AMT_GeneralSettings", &[])).await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "application/soap+xml; charset=UTF-8");
    assert_eq!(r.headers["transfer-encoding"], "chunked");
    assert_eq!(r.headers["x-frame-options"], "DENY");
    assert!(
        r.headers["server"]
            .to_str()
            .unwrap()
            .starts_with("Intel(R) Active Management Technology 16.1.25")
    );
    assert_eq!(text_of(&r.body, "DigestRealm").as_deref(), Some(realm.as_str()));
    assert_eq!(text_of(&r.body, "RelatesTo").as_deref(), Some("1"));
    // The nonce is reused with a higher nc on the same connection.
    let r = c.post_once(&get("AMT_GeneralSettings", &[])).await.unwrap();
    assert_eq!(r.status, 200);
    f.shutdown().await;
}

#[tokio::test]
async fn wrong_password_is_refused() {
    let f = fleet(1).await;
    let mut c = WsmanClient::digest(f.device(1).unwrap().addr, "admin", "wrong");
    let r = c.post(&get("AMT_GeneralSettings", &[])).await.unwrap();
    assert_eq!(r.status, 401);
    let mut c = WsmanClient::digest(f.device(1).unwrap().addr, "nobody", PW);
    assert_eq!(c.post(&get("AMT_GeneralSettings", &[])).await.unwrap().status, 401);
    f.shutdown().await;
}

#[tokio::test]
async fn power_cycle_changes_state_and_audits_the_digest_user() {
    let f = fleet(2).await;
    let dev = f.device(2).unwrap();
    let mut c = admin(&f, 2);
    let r = c.post(&power(8)).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(text_of(&r.body, "ReturnValue").as_deref(), Some("0"));
    assert_eq!(dev.snapshot().power_state, 8);
    // Off: only power up is available now.
    let r = c.post(&get("CIM_AssociatedPowerManagementService", &[])).await.unwrap();
    assert_eq!(text_of(&r.body, "PowerState").as_deref(), Some("8"));
    let r = c.post(&power(5)).await.unwrap();
    assert_ne!(text_of(&r.body, "ReturnValue").as_deref(), Some("0"));
    let r = c.post(&power(2)).await.unwrap();
    assert_eq!(text_of(&r.body, "ReturnValue").as_deref(), Some("0"));
    let r = c.post(&power(5)).await.unwrap();
    assert_eq!(text_of(&r.body, "ReturnValue").as_deref(), Some("0"));
    let st = dev.snapshot();
    assert_eq!(st.power_state, 2);
    let events: Vec<u32> = st.audit_log.iter().map(|r| r.event_number()).collect();
    assert_eq!(events, vec![1701, 1700, 1702]);
    assert_eq!(st.audit_log[2].initiator, Initiator::Digest { user: "admin".into() });
    assert_eq!(st.audit_log[2].net_address.as_deref(), Some("127.0.0.1"));
    // The audit log reads back over WS-Man, 1-based.
    let r = c
        .post(&invoke("AMT_AuditLog", "ReadRecords", &[("StartIndex", "1")]))
        .await
        .unwrap();
    assert_eq!(text_of(&r.body, "TotalRecordCount").as_deref(), Some("3"));
    assert_eq!(text_of(&r.body, "RecordsReturned").as_deref(), Some("3"));
    // Device 1 untouched.
    assert!(f.device(1).unwrap().snapshot().audit_log.is_empty());
    f.shutdown().await;
}

#[tokio::test]
async fn power_off_refused_while_redirection_is_open() {
    let f = fleet(1).await;
    let dev = f.device(1).unwrap();
    dev.set_redirection_session(true).unwrap();
    let mut c = admin(&f, 1);
    for state in [8, 5] {
        let r = c.post(&power(state)).await.unwrap();
        assert_eq!(r.status, 200);
        assert_ne!(text_of(&r.body, "ReturnValue").as_deref(), Some("0"));
    }
    assert_eq!(dev.snapshot().power_state, 2);
    // Reset is still allowed.
    let r = c.post(&power(10)).await.unwrap();
    assert_eq!(text_of(&r.body, "ReturnValue").as_deref(), Some("0"));
    dev.set_redirection_session(false).unwrap();
    let r = c.post(&power(8)).await.unwrap();
    assert_eq!(text_of(&r.body, "ReturnValue").as_deref(), Some("0"));
    f.shutdown().await;
}

#[tokio::test]
async fn unsupported_power_state_on_old_generation() {
    let mut seed = FleetSeed::with_count(1);
    seed.defaults.amt_version = Some("4.2.0".into());
    let f = Fleet::start(FleetConfig {
        seed,
        ..FleetConfig::for_tests(1)
    })
    .await
    .unwrap();
    let mut c = admin(&f, 1);
    let r = c.post(&power(12)).await.unwrap();
    assert_eq!(text_of(&r.body, "ReturnValue").as_deref(), Some("1"));
    // No IPS_* classes on AMT 4.
    let r = c.post(&get("IPS_HostBasedSetupService", &[])).await.unwrap();
    assert_eq!(r.status, 400);
    f.shutdown().await;
}

#[tokio::test]
async fn faults_affect_only_their_device() {
    let f = fleet(2).await;
    let (d1, d2) = (f.device(1).unwrap(), f.device(2).unwrap());
    let mut ok = admin(&f, 2);
    let req = get("AMT_GeneralSettings", &[]);

    d1.set_faults(Faults {
        hang: true,
        ..Faults::default()
    });
    let mut c = admin(&f, 1);
    c.timeout = Duration::from_millis(300);
    assert!(matches!(c.post(&req).await, Err(amt_sim::client::ClientError::Timeout)));
    assert_eq!(ok.post(&req).await.unwrap().status, 200);

    d1.set_faults(Faults {
        http_500: true,
        ..Faults::default()
    });
    let mut c = admin(&f, 1);
    assert_eq!(c.post(&req).await.unwrap().status, 500);

    d1.set_faults(Faults {
        drop_connection: true,
        ..Faults::default()
    });
    let mut c = admin(&f, 1);
    assert!(c.post(&req).await.is_err());

    d1.set_faults(Faults {
        malformed_xml: true,
        ..Faults::default()
    });
    let mut c = admin(&f, 1);
    let r = c.post(&req).await.unwrap();
    assert_eq!(r.status, 200);
    assert!(Element::parse(&r.body).is_err());

    d1.set_faults(Faults {
        busy: true,
        ..Faults::default()
    });
    let mut c = admin(&f, 1);
    let r = c.post(&req).await.unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(text_of(&r.body, "Value").as_deref(), Some("a:Sender"));
    assert!(r.body.contains("e:QuotaLimit"));

    d1.set_faults(Faults {
        latency_ms: 200,
        ..Faults::default()
    });
    let mut c = admin(&f, 1);
    let t = std::time::Instant::now();
    assert_eq!(c.post(&req).await.unwrap().status, 200);
    assert!(t.elapsed() >= Duration::from_millis(200));

    assert_eq!(ok.post(&req).await.unwrap().status, 200);
    assert!(d2.snapshot().faults.is_clear());
    f.shutdown().await;
}

#[tokio::test]
async fn unknown_selector_and_class_are_destination_unreachable() {
    let f = fleet(1).await;
    let mut c = admin(&f, 1);
    for req in [
        get("AMT_GeneralSettings", &[("InstanceID", "nope")]),
        get("AMT_NoSuchClass", &[]),
    ] {
        let r = c.post(&req).await.unwrap();
        assert_eq!(r.status, 400);
        let root = Element::parse(&r.body).unwrap();
        let body = root.child(ns::SOAP, "Body").unwrap();
        let fault = body.child(ns::SOAP, "Fault").unwrap();
        let sub = fault
            .child(ns::SOAP, "Code")
            .and_then(|c| c.child(ns::SOAP, "Subcode"))
            .and_then(|s| s.child(ns::SOAP, "Value"))
            .unwrap();
        assert_eq!(sub.text, "b:DestinationUnreachable");
        assert!(
            r.body
                .contains("xmlns:b=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\"")
        );
        assert_eq!(text_of(&r.body, "RelatesTo").as_deref(), Some("1"));
    }
    // A matching selector works.
    let r = c
        .post(&get(
            "AMT_GeneralSettings",
            &[("InstanceID", "Intel(r) AMT: General Settings")],
        ))
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    // Bad XML and unknown actions.
    let r = c.post("<Envelope><Header>").await.unwrap();
    assert_eq!(r.status, 400);
    assert!(r.body.contains("SchemaValidationError"));
    let frob = Request::invoke("AMT_GeneralSettings", "Frobnicate", Properties::new());
    let r = c.post(&frob.to_xml(3)).await.unwrap();
    assert_eq!(r.status, 400);
    assert!(r.body.contains("b:ActionNotSupported"));
    f.shutdown().await;
}

/// Namespace declarations (prefix → URI) of a response's root element, in order.
fn prefixes(body: &str) -> Vec<(String, String)> {
    let start = body.find("<a:Envelope").unwrap();
    let end = body[start..].find('>').unwrap() + start;
    body[start..end]
        .split("xmlns:")
        .skip(1)
        .map(|d| {
            let (p, rest) = d.split_once('=').unwrap();
            let uri = rest.trim().trim_matches('"');
            let uri = uri.split('"').next().unwrap();
            (p.to_string(), uri.to_string())
        })
        .collect()
}

fn fixture(path: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../server/amt/tests/fixtures")
        .join(path);
    std::fs::read_to_string(p).unwrap()
}

#[tokio::test]
async fn prefixes_match_captured_get_and_pull() {
    let f = fleet(1).await;
    let mut c = admin(&f, 1);
    let r = c.post(&get("AMT_GeneralSettings", &[])).await.unwrap();
    let mut want = prefixes(&fixture("amt/general/get.xml"));
    // The capture has odd spaces (`xmlns:a= "…"`); prefixes() trims them.
    want.iter_mut().for_each(|(_, u)| *u = u.trim().to_string());
    assert_eq!(prefixes(&r.body), want);
    let mid = text_of(&r.body, "MessageID").unwrap();
    assert!(mid.starts_with("uuid:00000000-8086-8086-8086-") && mid.len() == 41);

    let uri = ns::resource_uri("CIM_SoftwareIdentity");
    let r = c.post(&Request::enumerate(&uri).to_xml(4)).await.unwrap();
    assert_eq!(
        prefixes(&r.body),
        prefixes(&fixture("cim/software/identity/enumerate.xml"))
    );
    let ctx = text_of(&r.body, "EnumerationContext").unwrap();
    let pull = Request::pull(&uri, &ctx);
    let r = c.post(&pull.to_xml(5)).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(prefixes(&r.body), prefixes(&fixture("cim/software/identity/pull.xml")));
    assert!(r.body.contains("<h:InstanceID>AMT</h:InstanceID>"));
    assert!(r.body.contains("<g:EndOfSequence></g:EndOfSequence>"));
    // The context is used up.
    let r = c.post(&pull.to_xml(6)).await.unwrap();
    assert_eq!(r.status, 400);

    // Association pull: items are CIM_AssociatedPowerManagementService.
    let uri = ns::resource_uri("CIM_ServiceAvailableToElement");
    let r = c.post(&Request::enumerate(&uri).to_xml(7)).await.unwrap();
    let ctx = text_of(&r.body, "EnumerationContext").unwrap();
    let r = c.post(&Request::pull(&uri, &ctx).to_xml(8)).await.unwrap();
    assert_eq!(
        prefixes(&r.body),
        prefixes(&fixture("cim/service/availabletoelement/pull.xml"))
    );
    f.shutdown().await;
}

fn seed_with_operator() -> FleetSeed {
    let mut seed = FleetSeed::with_count(1);
    seed.defaults.acl = Some(vec![AclSeed {
        username: Some("viewer".into()),
        password: Some("V1ewer!pass".into()),
        realms: vec![13, 4],
        ..AclSeed::default()
    }]);
    seed
}

#[tokio::test]
async fn digest_user_without_remote_control_is_refused() {
    let f = Fleet::start(FleetConfig {
        seed: seed_with_operator(),
        ..FleetConfig::for_tests(1)
    })
    .await
    .unwrap();
    let mut c = WsmanClient::digest(f.device(1).unwrap().addr, "viewer", "V1ewer!pass");
    let r = c.post(&get("AMT_GeneralSettings", &[])).await.unwrap();
    assert_eq!(r.status, 200);
    let r = c.post(&power(8)).await.unwrap();
    assert_eq!(r.status, 400);
    assert!(r.body.contains("e:AccessDenied"));
    assert_eq!(f.device(1).unwrap().snapshot().power_state, 2);
    let r = c.post(&get("AMT_KerberosSettingData", &[])).await.unwrap();
    assert_eq!(r.status, 400);
    f.shutdown().await;
}

#[tokio::test]
async fn acl_methods_add_users_who_can_then_log_in() {
    let f = fleet(1).await;
    let dev = f.device(1).unwrap();
    let realm = dev.snapshot().digest_realm;
    let mut c = admin(&f, 1);
    let pw = digest_password_b64("ops", &realm, "0ps!Pass");
    let r = c
        .post(&invoke(
            "AMT_AuthorizationService",
            "AddUserAclEntryEx",
            &[
                ("DigestUsername", "ops"),
                ("DigestPassword", &pw),
                ("AccessPermission", "2"),
                ("Realms", "5"),
                ("Realms", "13"),
            ],
        ))
        .await
        .unwrap();
    assert_eq!(text_of(&r.body, "ReturnValue").as_deref(), Some("0"), "{}", r.body);
    let mut ops = WsmanClient::digest(dev.addr, "ops", "0ps!Pass");
    let r = ops.post(&power(10)).await.unwrap();
    assert_eq!(text_of(&r.body, "ReturnValue").as_deref(), Some("0"));
    let st = dev.snapshot();
    let last = st.audit_log.last().unwrap();
    assert_eq!(last.event_number(), 1703);
    assert_eq!(last.initiator, Initiator::Digest { user: "ops".into() });
    assert_eq!(st.audit_log[0].event_number(), 1602);
    f.shutdown().await;
}

#[tokio::test]
async fn boot_to_bios_is_consumed_by_the_next_reset() {
    let f = fleet(1).await;
    let dev = f.device(1).unwrap();
    let mut c = admin(&f, 1);
    let put = Properties::new()
        .text("BIOSPause", false)
        .text("BIOSSetup", true)
        .text("InstanceID", "Intel(r) AMT:BootSettingData 0")
        .text("UseSOL", false);
    let r = c
        .post(&Request::put("AMT_BootSettingData", put).to_xml(9))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(text_of(&r.body, "BIOSSetup").as_deref(), Some("true"));
    let cfg = EndpointReference::new(
        "CIM_BootConfigSetting",
        &[("InstanceID", "Intel(r) AMT: Boot Configuration 0")],
    )
    .with_address(ns::ADDRESSING);
    let role = Properties::new().epr("BootConfigSetting", cfg).text("Role", 1);
    let r = c
        .post(&Request::invoke("CIM_BootService", "SetBootConfigRole", role).to_xml(10))
        .await
        .unwrap();
    assert_eq!(text_of(&r.body, "ReturnValue").as_deref(), Some("0"), "{}", r.body);
    c.post(&power(10)).await.unwrap();
    assert_eq!(dev.snapshot().boot.last_boot, "BIOS setup");
    c.post(&power(10)).await.unwrap();
    assert_eq!(dev.snapshot().boot.last_boot, "normal");
    f.shutdown().await;
}

#[tokio::test]
async fn seeded_state_from_a_file_is_honoured() {
    let dir = std::env::temp_dir().join(format!("amt-sim-seed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("fleet.toml");
    std::fs::write(
        &path,
        r#"
count = 2
[defaults]
admin_password = "Seeded!Pw1"
amt_version = "12.0.67"
[devices.2]
power_state = 8
amt_version = "4.2.0"
"#,
    )
    .unwrap();
    let seed = FleetSeed::load(&path).unwrap();
    let f = Fleet::start(FleetConfig {
        seed,
        ..FleetConfig::for_tests(2)
    })
    .await
    .unwrap();
    let mut c = WsmanClient::digest(f.device(2).unwrap().addr, "admin", "Seeded!Pw1");
    let r = c.post(&get("CIM_AssociatedPowerManagementService", &[])).await.unwrap();
    assert_eq!(text_of(&r.body, "PowerState").as_deref(), Some("8"));
    assert!(r.headers["server"].to_str().unwrap().contains(" 4.2.0"));
    let mut c = WsmanClient::digest(f.device(1).unwrap().addr, "admin", "Seeded!Pw1");
    let r = c.post(&get("AMT_GeneralSettings", &[])).await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(text_of(&r.body, "HostName").as_deref(), Some("amt1"));
    f.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn identify_answers_without_authentication() {
    let f = fleet(1).await;
    let mut c = WsmanClient::new(f.device(1).unwrap().addr, ClientAuth::None);
    let body = format!(
        "<s:Envelope xmlns:s=\"{}\" xmlns:i=\"{}\"><s:Header/><s:Body><i:Identify/></s:Body></s:Envelope>",
        ns::SOAP,
        ns::IDENTITY
    );
    let r = c.post(&body).await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(text_of(&r.body, "ProductVersion").as_deref(), Some("AMT 16.1"));
    f.shutdown().await;
}

#[tokio::test]
async fn time_sync_sets_the_clock_offset_and_audits() {
    let f = fleet(1).await;
    let dev = f.device(1).unwrap();
    dev.patch(&serde_json::json!({"clock_offset_secs": 3600})).unwrap();
    let mut c = admin(&f, 1);
    let r = c
        .post(&invoke(
            "AMT_TimeSynchronizationService",
            "GetLowAccuracyTimeSynch",
            &[],
        ))
        .await
        .unwrap();
    let ta0: i64 = text_of(&r.body, "Ta0").unwrap().parse().unwrap();
    let now = amt_sim::state::unix_now();
    assert!((ta0 - now - 3600).abs() <= 2);
    let n = now.to_string();
    let r = c
        .post(&invoke(
            "AMT_TimeSynchronizationService",
            "SetHighAccuracyTimeSynch",
            &[("Ta0", &ta0.to_string()), ("Tm1", &n), ("Tm2", &n)],
        ))
        .await
        .unwrap();
    assert_eq!(text_of(&r.body, "ReturnValue").as_deref(), Some("0"));
    let st = dev.snapshot();
    assert!(st.clock_offset_secs.abs() <= 2);
    assert_eq!(st.audit_log.last().unwrap().event_number(), 2100);
    f.shutdown().await;
}
