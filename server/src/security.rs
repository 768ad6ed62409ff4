//! Request guards and response headers that apply to the whole portal.
//!
//! - [`origin_guard`]: a state-changing request (anything but GET/HEAD/OPTIONS) must come from
//!   the portal's own origin (`Origin`, or `Referer` when a browser omits it). This runs before
//!   the session is read, so a cross-site form can never act with the user's cookie.
//! - [`security_headers`]: a strict Content-Security-Policy (rendered pages add the script nonce
//!   Leptos puts on their hydration scripts), nosniff, no framing, no referrer leaks, HSTS.
//! - [`require_user`]: pages need a signed-in session; others are sent to `/signin`.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use crate::AppState;
use crate::config::origin_of;

/// Refuses cross-origin state changes.
pub async fn origin_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let h = req.headers();
    let claimed = h
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| h.get(header::REFERER).and_then(|v| v.to_str().ok()).and_then(origin_of));
    match claimed {
        Some(o) if origin_of(&o).as_deref() == Some(state.config.public_origin.as_str()) => next.run(req).await,
        other => {
            tracing::warn!(origin = ?other, path = %req.uri().path(), "cross-origin state change refused");
            (
                StatusCode::FORBIDDEN,
                format!(
                    "Refused: this request did not come from the portal's own pages ({}), so it could have been forged by another site. Open the portal at {} and try again.",
                    other.as_deref().unwrap_or("no Origin header"),
                    state.config.public_url
                ),
            )
                .into_response()
        }
    }
}

/// The Content-Security-Policy: scripts only from this origin, plus the hydration scripts that
/// carry `nonce` (a fresh one per rendered page), plus WebAssembly compilation.
pub fn csp(nonce: Option<&str>) -> String {
    let nonce = nonce.map(|n| format!(" 'nonce-{n}'")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'{nonce} 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'"
    )
}

/// Adds the security headers to every response. Pages rendered by Leptos set their own CSP with
/// their script nonce (see `app`); every other response gets the policy without a nonce.
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    if !resp.headers().contains_key(header::CONTENT_SECURITY_POLICY)
        && let Ok(v) = HeaderValue::from_str(&csp(None))
    {
        resp.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    let h = resp.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if state.config.tls.is_some() {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    resp
}

/// Sends requests for pages without a signed-in session to `/signin`.
pub async fn require_user(session: Session, req: Request<Body>, next: Next) -> Response {
    let is_page = req.method() == Method::GET && !req.uri().path().starts_with("/api/");
    if is_page && crate::auth::current_user(&session).await.is_none() {
        let wanted = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let to = match crate::auth::safe_next(wanted) {
            Some(next) if next != "/" => format!("/signin?next={}", crate::auth::encode_query(next)),
            _ => "/signin".to_string(),
        };
        return Redirect::to(&to).into_response();
    }
    next.run(req).await
}
