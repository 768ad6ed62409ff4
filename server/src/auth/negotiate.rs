//! `GET /signin`: HTTP Negotiate. No header: 401 with `WWW-Authenticate: Negotiate` and the help
//! page (an SSO browser answers with a token at once; others show the page). A token: accepted
//! with the keytab off the async workers, then the session is established and the browser is
//! sent to the start page with the mutual-authentication token.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use shared::SignInMethod;
use tower_sessions::Session;

use super::page::{Seen, unauthorized};
use crate::AppState;

/// What the Authorization header held.
fn read_token(headers: &HeaderMap) -> Result<Option<Vec<u8>>, Seen> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| Seen::Refused(kerberos::Error::NotBase64))?;
    let (scheme, rest) = text.split_once(' ').unwrap_or((text, ""));
    if !scheme.eq_ignore_ascii_case("negotiate") {
        return Err(Seen::OtherScheme(
            scheme.chars().filter(|c| c.is_ascii_alphanumeric()).take(20).collect(),
        ));
    }
    let rest = rest.trim();
    if rest.is_empty() {
        // Chromium and MIT treat an empty token as "no token": so do we.
        return Ok(None);
    }
    base64::engine::general_purpose::STANDARD
        .decode(rest)
        .map(Some)
        .map_err(|_| Seen::Refused(kerberos::Error::NotBase64))
}

/// Runs the blocking GSSAPI accept on tokio's blocking pool. Measured against the two other
/// ways (docs/BENCHMARKS.md, 2026-12-05): `block_in_place` was ~10 % slower (it hands the
/// worker's other tasks to a new thread per call), and accepting on the async worker itself
/// was no faster while it stalled every other request for the accept's duration.
async fn accept(state: &AppState, token: Vec<u8>) -> Result<Result<kerberos::Accepted, kerberos::Error>, ()> {
    let acceptor = state.acceptor.clone();
    tokio::task::spawn_blocking(move || acceptor.accept(&token))
        .await
        .map_err(|_| ())
}

/// Adds the cookie that tells the Kerberos health page what this refused attempt carried
/// (see [`crate::health::sso`]); no session is created for a refused sign-in.
fn remember_seen(state: &AppState, mut resp: Response, code: &str) -> Response {
    let max_age = state.config.session_hours.clamp(1, 24 * 30) * 3600;
    if let Some(v) = crate::health::sso::seen_cookie(code, &state.config.public_origin, max_age) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// `GET /signin`.
pub async fn signin(State(state): State<AppState>, session: Session, uri: Uri, headers: HeaderMap) -> Response {
    let next = super::next_from_query(uri.query());
    let token = match read_token(&headers) {
        Ok(Some(t)) => t,
        Ok(None) => return unauthorized(&state, Seen::NoToken, None, &next),
        Err(seen) => {
            // Kept for the Kerberos health page, should the user then use the password form.
            let code = match &seen {
                Seen::OtherScheme(s) => format!("other_scheme:{}", s.to_ascii_lowercase()),
                Seen::Refused(e) => e.code().to_string(),
                Seen::NoToken => String::new(),
            };
            return remember_seen(&state, unauthorized(&state, seen, None, &next), &code);
        }
    };
    let accepted = match accept(&state, token).await {
        Ok(Ok(a)) => a,
        Ok(Err(e)) => {
            tracing::info!(reason = e.code(), "Negotiate token refused");
            state
                .audit
                .record(None, "sign-in (Negotiate)", None, "refused", Some(e.code()))
                .await;
            let code = e.code();
            return remember_seen(&state, unauthorized(&state, Seen::Refused(e), None, &next), code);
        }
        Err(_) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "The sign-in check was interrupted; reload the page.",
            )
                .into_response();
        }
    };
    let mutual = accepted.response_token.clone();
    match super::establish(&state, &session, accepted, SignInMethod::Negotiate, None).await {
        Ok(_) => {
            let mut resp = Redirect::to(&next).into_response();
            if let Some(tok) = mutual {
                let v = format!("Negotiate {}", base64::engine::general_purpose::STANDARD.encode(tok));
                if let Ok(v) = HeaderValue::from_str(&v) {
                    resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                }
            }
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "could not establish session");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Signed in, but the session could not be saved. Try again in a moment.",
            )
                .into_response()
        }
    }
}
