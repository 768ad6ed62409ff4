//! HTTP-level sign-in tests against the real lab AD: every bad token gets a 401 with a clear
//! reason (never a 500), the server keeps serving, sessions are cycled at sign-in, cross-origin
//! state changes are refused, and sign-out destroys the held credential.

mod common;

use base64::Engine;
use common::{ORIGIN, TestApp};

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// SPNEGO NegTokenInit offering only NTLMSSP, as a browser without Kerberos sends it.
fn spnego_ntlm_only() -> Vec<u8> {
    let ntlm_oid = [0x06u8, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a];
    let mech_list = [&[0x30u8, ntlm_oid.len() as u8][..], &ntlm_oid].concat();
    let mech_types = [&[0xa0u8, mech_list.len() as u8][..], &mech_list].concat();
    let seq = [&[0x30u8, mech_types.len() as u8][..], &mech_types].concat();
    let init = [&[0xa0u8, seq.len() as u8][..], &seq].concat();
    let body = [&[0x06u8, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02][..], &init].concat();
    [&[0x60u8, body.len() as u8][..], &body].concat()
}

#[tokio::test]
async fn bad_tokens_get_401_with_a_clear_reason_and_the_server_keeps_serving() {
    let Some(app) = TestApp::new("badtokens").await else {
        return;
    };
    let erin = app.tgt("erin").await;
    let other_service = app.negotiate(&erin, "HTTP/amt1.example.test:16992", false).await;
    let good = app.negotiate(&erin, "HTTP/portal.example.test", false).await;
    let truncated = {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(good.trim_start_matches("Negotiate "))
            .unwrap();
        format!("Negotiate {}", b64(&raw[..raw.len() / 2]))
    };
    let cases: Vec<(&str, Option<String>, &str, &str)> = vec![
        ("no header", None, "no_token", "did not send a Kerberos ticket"),
        (
            "empty token",
            Some("Negotiate ".into()),
            "no_token",
            "did not send a Kerberos ticket",
        ),
        (
            "garbage",
            Some(format!("Negotiate {}", b64(b"\x60\x80this is not a token"))),
            "malformed",
            "malformed",
        ),
        (
            "not base64",
            Some("Negotiate %%%%".into()),
            "not_base64",
            "not valid base64",
        ),
        ("truncated", Some(truncated), "malformed", "malformed"),
        (
            "raw NTLM",
            Some(format!("Negotiate {}", b64(b"NTLMSSP\0\x01\0\0\0\x07\x82\x08\xa2"))),
            "ntlm",
            "sent NTLM",
        ),
        (
            "SPNEGO with only NTLM",
            Some(format!("Negotiate {}", b64(&spnego_ntlm_only()))),
            "ntlm_only_spnego",
            "only NTLM",
        ),
        (
            "NTLM scheme",
            Some("NTLM TlRMTVNTUAABAAAAB4IIog==".into()),
            "ntlm",
            "offered NTLM",
        ),
        (
            "Basic scheme",
            Some("Basic YWxpY2U6eA==".into()),
            "other_scheme",
            "Basic",
        ),
        (
            "ticket for another service",
            Some(other_service),
            "wrong_service",
            "another service",
        ),
    ];
    for (name, header, reason, words) in cases {
        let r = app.get("/signin", header.as_deref(), None).await;
        assert_eq!(r.status, 401, "{name}: {}", r.body);
        assert_eq!(r.reason().as_deref(), Some(reason), "{name}");
        assert!(r.body.contains(words), "{name}: page should say {words:?}");
        assert_eq!(r.headers.get("www-authenticate").unwrap(), "Negotiate", "{name}");
        assert!(r.session_cookie().is_none(), "{name}: no session for a refused sign-in");
        assert!(!r.body.contains('\0'), "{name}: no raw bytes in the page");
    }

    // The good token works once, then is a replay.
    let ok = app.get("/signin", Some(&good), None).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let replay = app.get("/signin", Some(&good), None).await;
    assert_eq!((replay.status, replay.reason().as_deref()), (401, Some("replay")));

    // Still serving.
    let fresh = app.negotiate(&erin, "HTTP/portal.example.test", false).await;
    assert_eq!(app.get("/signin", Some(&fresh), None).await.status, 303);
    assert_eq!(app.get("/healthz", None, None).await.body, "ok");
}

#[tokio::test]
async fn wrong_password_and_unknown_user_in_the_form() {
    let Some(app) = TestApp::new("password").await else {
        return;
    };
    let r = app
        .post_form("/signin/password", "username=bob&password=nope", Some(ORIGIN), None)
        .await;
    assert_eq!((r.status, r.reason().as_deref()), (401, Some("bad_password")));
    assert!(r.body.contains("user name or password is incorrect"));
    assert!(r.body.contains("value=\"bob\""), "the typed user name is kept");
    let r = app
        .post_form(
            "/signin/password",
            "username=nobody-here&password=x",
            Some(ORIGIN),
            None,
        )
        .await;
    assert_eq!((r.status, r.reason().as_deref()), (401, Some("unknown_user")));
    let r = app
        .post_form(
            "/signin/password",
            "username=%3Cscript%3E&password=x",
            Some(ORIGIN),
            None,
        )
        .await;
    assert_eq!(r.status, 401);
    assert!(!r.body.contains("<script>"), "typed input is escaped");
    let pw = format!("username=bob&password={}", app.lab["LAB_PASSWORD"].replace('!', "%21"));
    let r = app.post_form("/signin/password", &pw, Some(ORIGIN), None).await;
    assert_eq!(r.status, 303, "{}", r.body);
}

#[tokio::test]
async fn session_id_cycles_at_sign_in_and_sign_out_destroys_the_credential() {
    let Some(app) = TestApp::new("session").await else {
        return;
    };
    // Bob signs in with a password: session A, with his TGT held.
    let pw = format!("username=bob&password={}", app.lab["LAB_PASSWORD"].replace('!', "%21"));
    let a = app
        .post_form("/signin/password", &pw, Some(ORIGIN), None)
        .await
        .session_cookie()
        .expect("session A");
    assert_eq!(app.state.creds.len(), 1);
    assert_eq!(app.get("/", None, Some(&a)).await.status, 200);

    // Alice signs in by Negotiate on the same browser: a new id, and A is gone.
    let alice = app.tgt("alice").await;
    let tok = app.negotiate(&alice, "HTTP/portal.example.test", true).await;
    let r = app.get("/signin", Some(&tok), Some(&a)).await;
    assert_eq!(r.status, 303);
    let b = r.session_cookie().expect("session B");
    assert_ne!(a, b, "the session id changes at sign-in");
    assert_eq!(
        app.get("/", None, Some(&a)).await.status,
        303,
        "the old id no longer works"
    );
    let home = app.get("/", None, Some(&b)).await;
    assert!(home.body.contains("id=\"display-name\">alice<"), "{}", home.body);
    assert!(home.body.contains("forwarded by your browser"));
    // Strict CSP: scripts only with this page's nonce, which is on the hydration script.
    let csp = home
        .headers
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .expect("a script nonce");
    assert!(
        home.body.contains(&format!("nonce=\"{nonce}\"")),
        "the page's scripts carry the header's nonce"
    );
    assert!(!csp.contains("script-src 'self' 'unsafe-inline'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(
        app.state.creds.len(),
        1,
        "bob's credential was destroyed when the browser's session changed hands"
    );

    // Cross-origin and origin-less state changes are refused before the session is touched.
    for origin in [
        Some("https://evil.example"),
        Some("https://portal.example.test:9999"),
        None,
    ] {
        let r = app.post_form("/signout", "", origin, Some(&b)).await;
        assert_eq!(r.status, 403, "{origin:?}");
        assert!(r.body.contains("did not come from the portal's own pages"));
    }
    assert_eq!(app.state.creds.len(), 1, "a refused sign-out changes nothing");
    let api = app
        .post_form("/api/me", "", Some("https://evil.example"), Some(&b))
        .await;
    assert_eq!(api.status, 403, "server functions are guarded too");

    // Sign-out from the portal's own page.
    let r = app.post_form("/signout", "", Some(ORIGIN), Some(&b)).await;
    assert_eq!(
        (r.status, r.headers.get("location").unwrap().to_str().unwrap()),
        (303, "/signed-out")
    );
    assert_eq!(app.state.creds.len(), 0, "the delegated credential is destroyed");
    assert_eq!(app.get("/", None, Some(&b)).await.status, 303, "the session has ended");
    let audit = server::audit::latest(&app.state.pool, 10).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "sign-out" && e.principal.as_deref() == Some("alice@EXAMPLE.TEST"))
    );
}
