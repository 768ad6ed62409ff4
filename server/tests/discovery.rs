//! Against the lab AD: device discovery from the OU's computer objects, and registry
//! administrators recognised by their AD group (by name through LDAP, or by SID).
//!
//! The portal binds to LDAP as itself: run with `KRB5_CLIENT_KTNAME` naming the lab's portal
//! keytab (`./dev test` sets it), as `amt-portal` sets it for itself at start-up.

#[allow(dead_code, reason = "shared test helpers: this file uses only some")]
mod common;

use common::TestApp;
use server::auth::SessionUser;
use shared::SignInMethod;

fn user_in(groups: &[&str]) -> SessionUser {
    SessionUser {
        principal: "someone@EXAMPLE.TEST".into(),
        account: "someone".into(),
        display_name: "someone".into(),
        sid: None,
        group_sids: groups.iter().map(|g| g.to_string()).collect(),
        method: SignInMethod::Password,
        signed_in_at: "2026-12-05T00:00:00Z".into(),
        ticket_bytes: None,
        token_bytes: None,
        cred_handle: None,
        no_delegation_reason: None,
    }
}

#[tokio::test]
async fn discovery_registers_the_ous_amt_devices_once() {
    let Some(app) = TestApp::new("discovery").await else {
        return;
    };
    let count: usize = app.lab["LAB_DEVICE_COUNT"].parse().unwrap();
    let first = app.state.discover_devices("test").await.expect("discovery runs");
    assert_eq!(first.found, count, "{first:?}");
    assert_eq!(
        (first.added, first.known, first.rejected.len()),
        (count, 0, 0),
        "{first:?}"
    );
    let all = server::registry::list(&app.state.pool).await.unwrap();
    assert!(
        all.iter()
            .any(|d| d.fqdn == "amt1.example.test" && d.wsman_port == 16992 && d.source == "ad")
    );
    let again = app.state.discover_devices("test").await.unwrap();
    assert_eq!((again.added, again.known), (0, count), "known devices are left alone");
    let audit = server::audit::latest(&app.state.pool, 5).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "discover devices" && e.principal.as_deref() == Some("test"))
    );
}

#[tokio::test]
async fn a_missing_ou_is_named_in_the_error() {
    let Some(app) = TestApp::new("discovery-missing").await else {
        return;
    };
    let dir = app.state.directory.clone().expect("directory configured");
    let ou = format!("OU=No Such OU,{}", app.lab["LAB_BASE_DN"]);
    let e = dir.device_objects(&ou).await.unwrap_err();
    assert!(e.contains("does not exist") && e.contains("No Such OU"), "{e}");
}

#[tokio::test]
async fn registry_administrators_come_from_ad_groups() {
    let Some(app) = TestApp::new("roles").await else {
        return;
    };
    let admins = app.lab["LAB_SID_AMT_ADMINS"].as_str();
    let helpdesk = app.lab["LAB_SID_AMT_HELPDESK"].as_str();
    assert!(
        app.state.is_admin(&user_in(&[helpdesk, admins])).await,
        "AMT Admins, matched by name through LDAP"
    );
    assert!(!app.state.is_admin(&user_in(&[helpdesk])).await);
    assert!(!app.state.is_admin(&user_in(&[])).await);
    assert!(app.state.not_admin().contains("AMT Admins"));
}
