//! Against the lab AD: the AD settings' "test" action and the settings page's services.
//! svc-portal (Kerberos, its keytab in `KRB5_CLIENT_KTNAME`) passes every check on
//! OU=AMT Provisioning and leaves nothing behind; a missing OU, an account without rights
//! (`bob`, simple bind over LDAPS and over StartTLS) and a bad DC URL each get the exact reason.
//! Saving is for administrators, audited, and refuses a password it cannot seal.

#[allow(dead_code, reason = "shared test helpers: this file uses only some")]
mod common;

use common::TestApp;
use server::ad::probe;
use server::ad::settings;
use server::auth::SessionUser;
use shared::SignInMethod;
use shared::ad::{AdSettingsForm, AdTestReport, BindMethod, CheckOutcome};

fn provision_ou(lab: &lab_env::Lab) -> String {
    lab.get("LAB_PROVISION_OU")
        .cloned()
        .unwrap_or_else(|| format!("OU=AMT Provisioning,{}", lab["LAB_BASE_DN"]))
}

fn form(lab: &lab_env::Lab) -> AdSettingsForm {
    AdSettingsForm {
        domain_controllers: format!("{} {}", lab["LAB_LDAP_URL"], lab["LAB_DC_HOST"]),
        base_dn: lab["LAB_BASE_DN"].clone(),
        device_ou: provision_ou(lab),
        bind: BindMethod::Kerberos,
        approver_groups: "AMT Approvers".into(),
        ..Default::default()
    }
}

fn bob_over(lab: &lab_env::Lab, url: &str) -> AdSettingsForm {
    AdSettingsForm {
        domain_controllers: format!("{url} {}", lab["LAB_DC_HOST"]),
        bind: BindMethod::SimpleTls,
        bind_user: format!("bob@{}", lab["LAB_DNS_DOMAIN"]),
        bind_password: lab["LAB_PASSWORD"].clone(),
        ca_file: lab["LAB_CA_FILE"].clone(),
        ..form(lab)
    }
}

async fn run(f: &AdSettingsForm) -> AdTestReport {
    let s = settings::validate(f, None, true).expect("valid form");
    probe::run(&s).await
}

fn find<'a>(r: &'a AdTestReport, name_part: &str) -> &'a shared::ad::AdCheck {
    r.checks
        .iter()
        .find(|c| c.name.contains(name_part))
        .unwrap_or_else(|| panic!("no check named like {name_part:?} in {r:#?}"))
}

/// Nothing named like the probe is left in `ou` (read with the portal's own bind).
async fn no_probe_left(lab: &lab_env::Lab, ou: &str) {
    let (conn, mut ldap) = ldap3::LdapConnAsync::new(&lab["LAB_LDAP_URL"]).await.unwrap();
    ldap3::drive!(conn);
    ldap.sasl_gssapi_bind(&lab["LAB_DC_HOST"])
        .await
        .unwrap()
        .success()
        .unwrap();
    let (entries, _) = ldap
        .search(ou, ldap3::Scope::Subtree, "(cn=amtportal-probe-*)", vec!["cn"])
        .await
        .unwrap()
        .success()
        .unwrap();
    let _ = ldap.unbind().await;
    assert!(entries.is_empty(), "probe objects left behind: {entries:?}");
}

#[tokio::test]
async fn the_portal_account_passes_every_check_and_leaves_nothing() {
    let Some(lab) = lab_env::load() else { return };
    let r = run(&form(&lab)).await;
    assert!(r.ok(), "{r:#?}");
    assert!(r.checks.iter().all(|c| c.outcome == CheckOutcome::Ok), "{r:#?}");
    let answers = find(&r, &format!("{} answers", lab["LAB_DC_HOST"]));
    assert!(answers.detail.contains("clock"), "{answers:?}");
    assert!(find(&r, "sign in to").detail.contains("svc-portal"), "{r:#?}");
    for part in ["may create", "may change", "may set passwords", "may delete"] {
        let c = find(&r, part);
        assert_eq!(c.outcome, CheckOutcome::Ok, "{c:?}");
        assert!(c.name.starts_with("svc-portal "), "{c:?}");
    }
    assert!(find(&r, "may delete").detail.contains("nothing left behind"));
    no_probe_left(&lab, &provision_ou(&lab)).await;
}

#[tokio::test]
async fn a_missing_ou_is_named() {
    let Some(lab) = lab_env::load() else { return };
    let ou = format!("OU=Nowhere,{}", lab["LAB_BASE_DN"]);
    let r = run(&AdSettingsForm {
        device_ou: ou.clone(),
        ..form(&lab)
    })
    .await;
    assert!(!r.ok());
    let c = find(&r, &format!("{ou} exists"));
    assert_eq!(c.outcome, CheckOutcome::Failed);
    assert_eq!(
        c.detail,
        format!("{ou} does not exist on {}: create it or fix the DN", lab["LAB_DC_HOST"])
    );
    assert_eq!(find(&r, "may create").outcome, CheckOutcome::Skipped);
}

#[tokio::test]
async fn an_account_without_rights_gets_the_missing_right_named() {
    let Some(lab) = lab_env::load() else { return };
    let ou = provision_ou(&lab);
    for url in [lab["LAB_LDAPS_URL"].clone(), lab["LAB_LDAP_URL"].clone()] {
        // ldaps:// is LDAPS; ldap:// with a simple bind is StartTLS.
        let r = run(&bob_over(&lab, &url)).await;
        let signed_in = find(&r, "sign in to");
        assert_eq!(signed_in.outcome, CheckOutcome::Ok, "{url}: {r:#?}");
        assert!(signed_in.detail.contains("bob"), "{signed_in:?}");
        let c = find(&r, "may create");
        assert_eq!(c.outcome, CheckOutcome::Failed, "{url}: {r:#?}");
        assert!(
            c.detail.starts_with(&format!(
                "bob may not create computer objects in {ou}: delegate 'Create Computer objects' on that OU"
            )),
            "{url}: {c:?}"
        );
        assert_eq!(find(&r, "may delete").outcome, CheckOutcome::Skipped);
    }
    no_probe_left(&lab, &ou).await;
}

#[tokio::test]
async fn wrong_password_and_bad_dc_url_are_named() {
    let Some(lab) = lab_env::load() else { return };
    let r = run(&AdSettingsForm {
        bind_password: "not-the-password".into(),
        ..bob_over(&lab, &lab["LAB_LDAPS_URL"])
    })
    .await;
    let c = find(&r, "sign in to");
    assert_eq!(c.outcome, CheckOutcome::Failed);
    assert!(c.detail.contains("wrong user name or password"), "{c:?}");

    let r = run(&AdSettingsForm {
        domain_controllers: format!("ldap://127.0.0.2:3999 {}", lab["LAB_DC_HOST"]),
        ..form(&lab)
    })
    .await;
    let c = find(&r, "answers");
    assert_eq!(c.outcome, CheckOutcome::Failed);
    assert!(c.detail.contains("ldap://127.0.0.2:3999"), "{c:?}");
    assert_eq!(find(&r, "exists").outcome, CheckOutcome::Skipped);
}

fn user_in(principal: &str, groups: &[&str]) -> SessionUser {
    SessionUser {
        principal: principal.into(),
        account: principal.split('@').next().unwrap_or_default().into(),
        display_name: principal.into(),
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
async fn settings_are_for_admins_saved_audited_and_in_force() {
    let Some(app) = TestApp::new("ad-settings").await else {
        return;
    };
    let lab = &app.lab;
    let alice = user_in("alice@EXAMPLE.TEST", &[&lab["LAB_SID_AMT_ADMINS"]]);
    let bob = user_in("bob@EXAMPLE.TEST", &[&lab["LAB_SID_AMT_HELPDESK"]]);

    // Nothing saved: the configuration's values are in force.
    let view = app.state.ad_settings_view(&alice).await.unwrap();
    assert!(view.saved_by.is_none());
    assert!(view.form.domain_controllers.starts_with(&lab["LAB_LDAP_URL"]));
    assert_eq!(view.form.device_ou, format!("OU=AMT Devices,{}", lab["LAB_BASE_DN"]));
    assert!(view.sealing_unavailable.is_some(), "the test portal has no secret key");
    let defaults = app.state.ad_settings().await.expect("defaults are usable");
    assert_eq!(defaults.domain_controllers[0].host, lab["LAB_DC_HOST"]);

    // Not for bob.
    assert!(
        app.state
            .ad_settings_view(&bob)
            .await
            .unwrap_err()
            .contains("AMT Admins")
    );
    assert!(app.state.save_ad_settings(&bob, &form(lab)).await.is_err());
    assert!(app.state.test_ad_settings(&bob, &form(lab)).await.is_err());

    // A password cannot be stored without a secret key.
    let e = app
        .state
        .save_ad_settings(&alice, &bob_over(lab, &lab["LAB_LDAPS_URL"]))
        .await
        .unwrap_err();
    assert!(e.contains("PORTAL_SECRET_KEY_FILE"), "{e}");

    // Saved, in force, audited.
    let msg = app.state.save_ad_settings(&alice, &form(lab)).await.unwrap();
    assert!(msg.contains(&provision_ou(lab)), "{msg}");
    let now = app.state.ad_settings().await.unwrap();
    assert_eq!(now.device_ou, provision_ou(lab));
    assert_eq!(now.approver_groups, vec!["AMT Approvers"]);
    let view = app.state.ad_settings_view(&alice).await.unwrap();
    assert_eq!(view.saved_by.as_deref(), Some("alice@EXAMPLE.TEST"));

    // The test action from the page, audited with its outcome.
    let report = app.state.test_ad_settings(&alice, &form(lab)).await.unwrap();
    assert!(report.ok(), "{report:#?}");

    let audit = server::audit::latest(&app.state.pool, 10).await.unwrap();
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .filter(|e| e.principal.as_deref() == Some("alice@EXAMPLE.TEST"))
        .map(|e| (e.action.as_str(), e.result.as_str()))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("AD settings: test", "ok"),
            ("AD settings: save", "ok"),
            ("AD settings: save", "refused"),
        ]
    );
    assert!(
        audit
            .iter()
            .all(|e| !e.detail.as_deref().unwrap_or("").contains(&lab["LAB_PASSWORD"])),
        "no password in the audit log"
    );
}
