//! Against the lab AD: the apply run's AD step. `ensure_device_object` creates a test device's
//! computer object in OU=AMT Provisioning (bound as svc-portal with its keytab: run with
//! `KRB5_CLIENT_KTNAME` naming the lab's portal keytab), with its SPNs and dNSHostName on the DC;
//! the new password works (an AS exchange as the machine account, and a ticket for
//! `HTTP/<fqdn>:16992` that a key derived from the password decrypts); applying again raises the
//! key version; a duplicate elsewhere is named; `check_on_every_dc` sees what was written.
//! Every object made here is deleted at the end.

use std::process::{Command, Stdio};

use ldap3::{LdapConnAsync, Scope, SearchEntry};
use server::ad::settings::{self, AdSettings};
use server::ad::{AdStep, Expected, check_on_every_dc, ensure_device_object};
use shared::ad::{AdSettingsForm, BindMethod, DcOutcome};

fn lab_settings(lab: &lab_env::Lab) -> AdSettings {
    let form = AdSettingsForm {
        domain_controllers: format!("{} {}", lab["LAB_LDAP_URL"], lab["LAB_DC_HOST"]),
        base_dn: lab["LAB_BASE_DN"].clone(),
        device_ou: provision_ou(lab),
        bind: BindMethod::Kerberos,
        approver_groups: "AMT Approvers".into(),
        ..Default::default()
    };
    settings::validate(&form, None, false).expect("lab settings are valid")
}

fn provision_ou(lab: &lab_env::Lab) -> String {
    lab.get("LAB_PROVISION_OU")
        .cloned()
        .unwrap_or_else(|| format!("OU=AMT Provisioning,{}", lab["LAB_BASE_DN"]))
}

/// A unique test host name (so parallel runs and leftovers never collide).
fn test_host(prefix: &str) -> String {
    format!("{prefix}{:06x}", rand::random::<u32>() & 0xff_ffff)
}

/// The DC's view of `dn` (as svc-portal): SPNs, dNSHostName, userAccountControl, kvno.
async fn read(lab: &lab_env::Lab, dn: &str) -> Option<SearchEntry> {
    let (conn, mut ldap) = LdapConnAsync::new(&lab["LAB_LDAP_URL"]).await.unwrap();
    ldap3::drive!(conn);
    ldap.sasl_gssapi_bind(&lab["LAB_DC_HOST"])
        .await
        .unwrap()
        .success()
        .unwrap();
    let r = ldap
        .search(
            dn,
            Scope::Base,
            "(objectClass=*)",
            vec![
                "servicePrincipalName",
                "dNSHostName",
                "userAccountControl",
                "msDS-KeyVersionNumber",
                "msDS-SupportedEncryptionTypes",
                "sAMAccountName",
            ],
        )
        .await
        .unwrap();
    let _ = ldap.unbind().await;
    r.success()
        .ok()
        .and_then(|(e, _)| e.into_iter().next().map(SearchEntry::construct))
}

/// Deletes `dn` as svc-portal (it holds "Delete Computer objects" on the OU).
async fn delete(lab: &lab_env::Lab, dn: &str) {
    let (conn, mut ldap) = LdapConnAsync::new(&lab["LAB_LDAP_URL"]).await.unwrap();
    ldap3::drive!(conn);
    ldap.sasl_gssapi_bind(&lab["LAB_DC_HOST"])
        .await
        .unwrap()
        .success()
        .unwrap();
    let _ = ldap.delete(dn).await;
    let _ = ldap.unbind().await;
}

/// Writes a keytab holding `principal`'s key derived from `password` (salt, kvno, enctype), with
/// MIT's ktutil; the password goes through a pipe, the file into `dir`.
fn keytab_from_password(
    dir: &std::path::Path,
    principal: &str,
    kvno: u32,
    salt: &str,
    password: &str,
) -> std::path::PathBuf {
    let path = dir.join("device.keytab");
    let _ = std::fs::remove_file(&path);
    let mut child = Command::new("ktutil")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ktutil (krb5-user) runs");
    {
        use std::io::Write;
        let stdin = child.stdin.as_mut().unwrap();
        writeln!(
            stdin,
            "addent -password -p {principal} -k {kvno} -e aes256-cts-hmac-sha1-96 -s {salt}\n{password}\nwkt {}\nquit",
            path.display()
        )
        .unwrap();
    }
    assert!(child.wait().unwrap().success());
    assert!(path.is_file(), "ktutil wrote no keytab");
    path
}

#[tokio::test]
async fn ensure_device_object_creates_updates_and_the_password_works() {
    let Some(lab) = lab_env::load() else { return };
    let settings = lab_settings(&lab);
    let ou = provision_ou(&lab);
    let host = test_host("amtt");
    let fqdn = format!("{host}.{}", lab["LAB_DNS_DOMAIN"]);
    let dn = format!("CN={host},{ou}");

    // Create.
    let first = ensure_device_object(&settings, &fqdn, &ou, true).await;
    let first = match first {
        Ok(o) => o,
        Err(e) => {
            delete(&lab, &dn).await;
            panic!("create failed: {e}");
        }
    };
    assert!(first.created);
    assert_eq!(first.dn, dn);
    assert_eq!(first.host, host);
    assert_eq!(first.realm, lab["LAB_REALM"]);
    assert!(
        !format!("{first:?}").contains(first.password.expose()),
        "Debug redacts the password"
    );
    let entry = read(&lab, &dn).await.expect("the object is on the DC");
    let mut spns = entry.attrs["servicePrincipalName"].clone();
    spns.sort();
    assert_eq!(
        spns,
        [16992, 16993, 16994, 16995]
            .iter()
            .map(|p| format!("HTTP/{fqdn}:{p}"))
            .collect::<Vec<_>>()
    );
    assert_eq!(entry.attrs["dNSHostName"], vec![fqdn.clone()]);
    assert_eq!(entry.attrs["sAMAccountName"], vec![format!("{}$", host.to_uppercase())]);
    assert_eq!(entry.attrs["msDS-SupportedEncryptionTypes"], vec!["24"]);
    assert_eq!(
        entry.attrs["userAccountControl"],
        vec!["4096"],
        "enabled workstation trust"
    );
    assert_eq!(
        entry.attrs["msDS-KeyVersionNumber"],
        vec![first.key_version.to_string()]
    );

    // The per-DC read-back agrees (one lab DC; CN=Sites lists the same one).
    let checks = check_on_every_dc(
        &settings,
        &dn,
        &Expected {
            spns: first.spns.clone(),
            key_version: first.key_version,
        },
    )
    .await;
    assert_eq!(checks.len(), 1, "{checks:?}");
    assert_eq!(checks[0].outcome, DcOutcome::Matches, "{checks:?}");
    assert_eq!(checks[0].dc, lab["LAB_DC_HOST"]);
    // A key version the DC does not have is reported with what it has.
    let stale = check_on_every_dc(
        &settings,
        &dn,
        &Expected {
            spns: first.spns.clone(),
            key_version: first.key_version + 1,
        },
    )
    .await;
    assert!(
        matches!(&stale[0].outcome, DcOutcome::Differs(f) if f[0].contains(&format!("key version {}", first.key_version))),
        "{stale:?}"
    );

    // Apply again: updated in place, new password, higher key version.
    let second = ensure_device_object(&settings, &fqdn, &ou, true).await;
    let second = match second {
        Ok(o) => o,
        Err(e) => {
            delete(&lab, &dn).await;
            panic!("update failed: {e}");
        }
    };
    assert!(!second.created);
    assert!(
        second.key_version > first.key_version,
        "{} > {}",
        second.key_version,
        first.key_version
    );
    assert_ne!(second.password.expose(), first.password.expose());

    // The password works: an AS exchange as the machine account, then a ticket for the device's
    // SPN that a key derived from the password (AD's salt, the read-back kvno) decrypts.
    let dir = std::env::temp_dir().join(format!("ad-object-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spn = format!("HTTP/{fqdn}:16992@{}", lab["LAB_REALM"]);
    let keytab = keytab_from_password(
        &dir,
        &spn,
        second.key_version,
        &second.aes_salt(),
        second.password.expose(),
    );
    let acceptor = kerberos::Acceptor::from_keytab(&keytab).expect("acceptor from the derived key");
    let machine = format!("{}$@{}", host.to_uppercase(), lab["LAB_REALM"]);
    let signed_in = kerberos::password_sign_in(&acceptor, &spn, &machine, second.password.expose());
    // The old password no longer works.
    let old = kerberos::password_sign_in(&acceptor, &spn, &machine, first.password.expose());
    let _ = std::fs::remove_dir_all(&dir);
    delete(&lab, &dn).await;
    let (accepted, _) = signed_in.expect("the new password gets a ticket the derived key decrypts");
    assert!(accepted.client.eq_ignore_ascii_case(&machine), "{}", accepted.client);
    assert!(old.is_err(), "the previous password was replaced");
    assert!(read(&lab, &dn).await.is_none(), "the test object is deleted");
}

#[tokio::test]
async fn a_device_object_elsewhere_is_named_not_moved() {
    let Some(lab) = lab_env::load() else { return };
    let settings = lab_settings(&lab);
    // amt1 lives in OU=AMT Devices (the discovery test's OU).
    let err = ensure_device_object(
        &settings,
        &format!("amt1.{}", lab["LAB_DNS_DOMAIN"]),
        &provision_ou(&lab),
        true,
    )
    .await
    .expect_err("a duplicate is refused");
    assert_eq!(err.step, AdStep::Find);
    assert!(
        err.message
            .contains(&format!("CN=amt1,OU=AMT Devices,{}", lab["LAB_BASE_DN"])),
        "{err}"
    );
    assert!(err.message.contains("SPN HTTP/amt1."), "{err}");
    assert!(err.done.is_empty());
}

#[tokio::test]
async fn a_missing_ou_is_named() {
    let Some(lab) = lab_env::load() else { return };
    let settings = lab_settings(&lab);
    let ou = format!("OU=No Such OU,{}", lab["LAB_BASE_DN"]);
    let host = test_host("amtn");
    let err = ensure_device_object(&settings, &format!("{host}.{}", lab["LAB_DNS_DOMAIN"]), &ou, true)
        .await
        .expect_err("no such OU");
    assert_eq!(err.step, AdStep::Create);
    assert!(
        err.message
            .contains(&format!("{ou} does not exist on {}", lab["LAB_DC_HOST"])),
        "{err}"
    );
}

#[tokio::test]
async fn a_bad_dc_url_is_named() {
    let Some(lab) = lab_env::load() else { return };
    let mut settings = lab_settings(&lab);
    settings.domain_controllers[0].url = "ldap://127.0.0.2:3999".into();
    let err = ensure_device_object(
        &settings,
        &format!("amtx.{}", lab["LAB_DNS_DOMAIN"]),
        &provision_ou(&lab),
        true,
    )
    .await
    .expect_err("nothing listens there");
    assert_eq!(err.step, AdStep::Connect);
    assert!(err.message.contains("ldap://127.0.0.2:3999"), "{err}");
}

#[tokio::test]
async fn rc4_only_firmware_gets_rc4_on_its_object() {
    let Some(lab) = lab_env::load() else { return };
    let settings = lab_settings(&lab);
    let ou = provision_ou(&lab);
    let host = test_host("amtr");
    let dn = format!("CN={host},{ou}");
    let made = ensure_device_object(&settings, &format!("{host}.{}", lab["LAB_DNS_DOMAIN"]), &ou, false).await;
    let entry = read(&lab, &dn).await;
    delete(&lab, &dn).await;
    let made = made.expect("created");
    assert_eq!(made.encryption_types, 4);
    assert_eq!(
        entry.expect("on the DC").attrs["msDS-SupportedEncryptionTypes"],
        vec!["4"]
    );
    assert!(read(&lab, &dn).await.is_none(), "the test object is deleted");
}
