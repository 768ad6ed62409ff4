//! `POST /signin/password`: the form for browsers without SSO. The password goes to the KDC in
//! an AS exchange and the result is verified against the portal's keytab (see
//! `kerberos::password_sign_in`). The password is never stored or logged.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shared::SignInMethod;
use tower_sessions::Session;

use super::page::{Seen, unauthorized};
use crate::AppState;

/// The form fields.
#[derive(Deserialize)]
pub struct PasswordForm {
    /// `alice`, `alice@EXAMPLE.TEST` or `EXAMPLE\alice`.
    pub username: String,
    /// The user's AD password.
    pub password: String,
    /// Where to go afterwards (validated).
    #[serde(default)]
    pub next: String,
}

/// `user@REALM` from what people type.
pub fn principal_for(input: &str, realm: &str) -> Option<String> {
    let input = input.trim();
    let user = match input.split_once('\\') {
        Some((_, u)) => u,
        None => input,
    };
    if user.is_empty() || user.len() > 256 || user.chars().any(|c| c.is_control() || c == '/' || c == ' ') {
        return None;
    }
    Some(if user.contains('@') {
        user.to_string()
    } else {
        format!("{user}@{realm}")
    })
}

/// `POST /signin/password`.
pub async fn signin_password(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<PasswordForm>,
) -> Response {
    if !state.config.password_sign_in {
        return (StatusCode::NOT_FOUND, "Password sign-in is turned off on this portal.").into_response();
    }
    let typed = form.username.trim().to_string();
    let next = super::safe_next(&form.next).unwrap_or("/").to_string();
    let Some(principal) = principal_for(&typed, &state.config.realm) else {
        return unauthorized(&state, Seen::Refused(kerberos::Error::UnknownUser), Some(&typed), &next);
    };
    let acceptor = state.acceptor.clone();
    let service = state.config.service_principal.clone();
    let p = principal.clone();
    let password = form.password;
    let result =
        tokio::task::spawn_blocking(move || kerberos::password_sign_in(&acceptor, &service, &p, &password)).await;
    match result {
        Ok(Ok((accepted, tgt))) => {
            match super::establish(&state, &session, accepted, SignInMethod::Password, Some(tgt)).await {
                Ok(_) => Redirect::to(&next).into_response(),
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
        Ok(Err(e)) => {
            tracing::info!(user.principal = %principal, reason = e.code(), "password sign-in refused");
            crate::audit::record(
                &state.pool,
                Some(&principal),
                "sign-in (password)",
                None,
                "refused",
                Some(e.code()),
            )
            .await;
            unauthorized(&state, Seen::Refused(e), Some(&typed), &next)
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "The sign-in check was interrupted; try again.",
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::principal_for;

    #[test]
    fn user_name_forms() {
        assert_eq!(
            principal_for("alice", "EXAMPLE.TEST").as_deref(),
            Some("alice@EXAMPLE.TEST")
        );
        assert_eq!(
            principal_for(" EXAMPLE\\bob ", "EXAMPLE.TEST").as_deref(),
            Some("bob@EXAMPLE.TEST")
        );
        assert_eq!(
            principal_for("erin@EXAMPLE.TEST", "X").as_deref(),
            Some("erin@EXAMPLE.TEST")
        );
        assert_eq!(principal_for("", "X"), None);
        assert_eq!(principal_for("HTTP/portal", "X"), None);
    }
}
