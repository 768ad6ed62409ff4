//! The portal audit log's CSV export over HTTP against the lab AD: only members of the auditor
//! groups (default "AMT Admins", matched by name through the directory) get the file, it holds
//! the filtered rows, and the export is itself audited.

#[allow(dead_code, reason = "shared test helpers; this test uses some of them")]
mod common;

use common::{ORIGIN, TestApp};

async fn sign_in(app: &TestApp, user: &str) -> String {
    let form = format!(
        "username={user}&password={}",
        app.lab["LAB_PASSWORD"].replace('!', "%21")
    );
    app.post_form("/signin/password", &form, Some(ORIGIN), None)
        .await
        .session_cookie()
        .unwrap_or_else(|| panic!("{user} signed in"))
}

#[test]
#[expect(
    unsafe_code,
    reason = "as main does: the portal's own identity for LDAP binds comes from its keytab, set before any other thread exists (this binary has one test)"
)]
fn only_auditors_export_the_filtered_audit_log_as_csv() {
    let Some(lab) = common::lab() else {
        return;
    };
    // SAFETY: no other thread exists yet: the runtime is built below, and this is the only test.
    unsafe {
        std::env::set_var("KRB5_CLIENT_KTNAME", &lab["LAB_PORTAL_KEYTAB"]);
        std::env::set_var("KRB5CCNAME", "MEMORY:audit-export-test");
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(export());
}

async fn export() {
    let Some(app) = TestApp::new("auditcsv").await else {
        return;
    };
    let r = app.get("/audit.csv", None, None).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.body.contains("not signed in"));

    let erin = sign_in(&app, "erin").await;
    let r = app.get("/audit.csv", None, Some(&erin)).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("open to members of AMT Admins only"), "{}", r.body);

    server::audit::record(
        &app.state.pool,
        Some("mallory@EXAMPLE.TEST"),
        "=cmd|' /C calc'!A0",
        None,
        "ok",
        None,
    )
    .await;
    let alice = sign_in(&app, "alice").await;
    let r = app
        .get("/audit.csv?user=alice&action=sign-in", None, Some(&alice))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.headers["content-type"], "text/csv; charset=utf-8");
    assert!(
        r.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let lines: Vec<&str> = r.body.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 2, "header and alice's sign-in only: {}", r.body);
    assert!(
        lines[1].contains("\"alice@EXAMPLE.TEST\",\"\",\"sign-in (password)\",\"ok\""),
        "{}",
        lines[1]
    );

    let r = app.get("/audit.csv?user=mallory", None, Some(&alice)).await;
    assert!(
        r.body.contains("\"'=cmd|' /C calc'!A0\""),
        "formula neutralised: {}",
        r.body
    );

    let r = app.get("/audit.csv?from=tomorrow", None, Some(&alice)).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("not a UTC date"), "{}", r.body);

    let exports = server::audit_view::search(
        &app.state.pool,
        &shared::AuditFilter {
            action: "export CSV".into(),
            ..Default::default()
        },
    )
    .await
    .expect("search");
    assert_eq!(exports.total, 2, "both successful exports are audited");
    assert_eq!(exports.rows[0].principal.as_deref(), Some("alice@EXAMPLE.TEST"));
}
