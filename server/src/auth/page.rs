//! The sign-in help page (the body of every 401) and the signed-out page: plain server-rendered
//! HTML that works with no JavaScript, no SSO and no session. It says what the portal saw, how
//! to turn SSO on in each browser, and offers the password form. Everything interpolated is
//! HTML-escaped, and reasons come from `kerberos::Error` (printable ASCII only).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::AppState;

/// What the portal saw on the request that ended in a 401.
pub enum Seen {
    /// No Authorization header (or an empty Negotiate token).
    NoToken,
    /// Another scheme, e.g. Basic or NTLM.
    OtherScheme(String),
    /// A token or password that Kerberos refused.
    Refused(kerberos::Error),
}

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn layout(title: &str, body: &str) -> String {
    format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{t} · AMT Portal</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/pkg/portal.css"></head>
<body><header class="topbar"><a class="brand" href="/">AMT Portal</a></header><main>{body}</main></body></html>"#,
        t = esc(title)
    )
}

/// The 401 response: `WWW-Authenticate: Negotiate` and the help page.
pub fn unauthorized(state: &AppState, seen: Seen, username: Option<&str>, next: &str) -> Response {
    let host = esc(state
        .config
        .public_origin
        .split("://")
        .nth(1)
        .unwrap_or_default()
        .split(':')
        .next()
        .unwrap_or_default());
    let (code, what) = match &seen {
        Seen::NoToken => (
            "no_token",
            "Your browser did not send a Kerberos ticket. Either single sign-on is not enabled for this site in your browser, \
             or you are not signed in to the domain (no Kerberos ticket)."
                .to_string(),
        ),
        Seen::OtherScheme(s) if s.eq_ignore_ascii_case("ntlm") => {
            ("ntlm", "Your browser offered NTLM. This portal accepts Kerberos only.".to_string())
        }
        Seen::OtherScheme(s) => ("other_scheme", format!("Your browser offered the {s} scheme. This portal accepts Kerberos (Negotiate) only.")),
        Seen::Refused(e) => (e.code(), format!("Sign-in was refused: {e}.")),
    };
    let password = if state.config.password_sign_in {
        let user = esc(username.unwrap_or_default());
        let next = esc(next);
        format!(
            r#"<section class="card" id="password-sign-in"><h2>Sign in with your domain password</h2>
<form method="post" action="/signin/password" autocomplete="on"><input type="hidden" name="next" value="{next}">
<label for="username">User name</label><input id="username" name="username" value="{user}" autocomplete="username" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" id="password-submit">Sign in</button></form>
<p class="muted">The portal checks your password with the domain controller and verifies the answer with its own key.</p></section>"#
        )
    } else {
        String::new()
    };
    let body = format!(
        r#"<section class="card warn" id="signin-problem" data-reason="{code}" role="alert"><h1>Sign in to the AMT Portal</h1>
<p id="what-we-saw"><strong>What the portal saw:</strong> {what}</p></section>
{password}
<section class="card" id="sso-help"><h2>Turn on single sign-on</h2>
<p>With SSO your browser signs you in with your Windows (Kerberos) sign-in, and can hand the portal a ticket so it acts on AMT devices as you.</p>
<h3>Chrome and Edge</h3><p>Ask your administrator to set the policies <code>AuthServerAllowlist</code> = <code>{host}</code> and, so that the portal can act as you, <code>AuthNegotiateDelegateAllowlist</code> = <code>{host}</code>. On a test machine: <code>--auth-server-allowlist={host}</code>.</p>
<h3>Firefox</h3><p>In <code>about:config</code> set <code>network.negotiate-auth.trusted-uris</code> and <code>network.negotiate-auth.delegation-uris</code> to <code>{host}</code>.</p>
<h3>Still not working?</h3><p>Check that you are signed in to the domain (<code>klist</code> shows a ticket), that your clock is within 5 minutes of the domain controller's, and open the portal by its name ({host}), not its IP address.</p></section>"#,
        what = esc(&what)
    );
    let mut resp = (StatusCode::UNAUTHORIZED, Html(layout("Sign in", &body))).into_response();
    resp.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Negotiate"));
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The page after sign-out.
pub fn signed_out() -> Html<String> {
    Html(layout(
        "Signed out",
        r#"<section class="card" id="signed-out"><h1>You have signed out</h1><p>Your session has ended and the portal no longer holds a Kerberos credential for you.</p><p><a href="/signin">Sign in again</a></p></section>"#,
    ))
}
