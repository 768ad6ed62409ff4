//! `POST /signout`: destroys the held credential, ends the session, shows the signed-out page
//! (a 200, not a 401: otherwise an SSO browser would sign straight back in).

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use crate::AppState;

/// `POST /signout`.
pub async fn signout(State(state): State<AppState>, session: Session) -> Response {
    if let Some(user) = super::current_user(&session).await {
        let destroyed = user.cred_handle.as_deref().is_some_and(|h| state.creds.remove(h));
        state
            .device_clients
            .forget_user(user.cred_handle.as_deref(), &user.principal);
        crate::audit::record(
            &state.pool,
            Some(&user.principal),
            "sign-out",
            None,
            "ok",
            destroyed.then_some("credential destroyed"),
        )
        .await;
        tracing::info!(user.principal = %user.principal, credential_destroyed = destroyed, "signed out");
    }
    let _ = session.flush().await;
    Redirect::to("/signed-out").into_response()
}

/// `GET /signed-out`.
pub async fn signed_out() -> Response {
    super::page::signed_out().into_response()
}
