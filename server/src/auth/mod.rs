//! Signing in and out. Routes live in submodules; this module holds what the session stores.
//!
//! - [`negotiate`]: `GET /signin`, HTTP Negotiate (SPNEGO); the 401 answer is a real page.
//! - [`password`]: `POST /signin/password`, the form for browsers without SSO.
//! - [`signout`]: `POST /signout`, ends the session and destroys the held credential.
//! - [`page`]: the HTML of the 401 / help page and the signed-out page.
//!
//! Every sign-in cycles the session id, keeps the delegated credential in memory
//! ([`crate::credentials`]) under a handle stored in the session, and writes the audit log.

pub mod negotiate;
pub mod page;
pub mod password;
pub mod signout;

use serde::{Deserialize, Serialize};
use shared::SignInMethod;
use tower_sessions::Session;

use crate::AppState;

/// Session key of [`SessionUser`].
pub const USER_KEY: &str = "user";

/// What the session remembers about the signed-in user. No secrets: the credential itself is
/// in [`crate::credentials::CredentialStore`], found by `cred_handle`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionUser {
    /// `alice@EXAMPLE.TEST`.
    pub principal: String,
    /// sAMAccountName.
    pub account: String,
    /// Display name from the PAC, or the account.
    pub display_name: String,
    /// User SID from the PAC.
    pub sid: Option<String>,
    /// Group SIDs from the PAC.
    pub group_sids: Vec<String>,
    /// How the user signed in.
    pub method: SignInMethod,
    /// RFC 3339.
    pub signed_in_at: String,
    /// Size of the ticket received.
    pub ticket_bytes: Option<usize>,
    /// Size of the Negotiate token received.
    pub token_bytes: Option<usize>,
    /// Handle of the delegated credential in the store.
    pub cred_handle: Option<String>,
    /// Why no credential was delegated.
    pub no_delegation_reason: Option<String>,
}

/// The signed-in user of a session, if any.
pub async fn current_user(session: &Session) -> Option<SessionUser> {
    session.get::<SessionUser>(USER_KEY).await.ok().flatten()
}

/// Makes `accepted` the session's user: new session id, credential kept in memory, audit entry.
pub(crate) async fn establish(
    state: &AppState,
    session: &Session,
    accepted: kerberos::Accepted,
    method: SignInMethod,
    tgt: Option<kerberos::Delegated>,
) -> Result<SessionUser, String> {
    // Never let a pre-sign-in session id survive (session fixation).
    session.cycle_id().await.map_err(|e| format!("session store: {e}"))?;
    if let Some(old) = current_user(session).await.and_then(|u| u.cred_handle) {
        state.creds.remove(&old);
        state
            .device_clients
            .forget(&crate::device_clients::Owner::Credential(old));
    }
    let pac = accepted.pac.clone();
    let account = pac
        .as_ref()
        .map(|p| p.account_name.clone())
        .unwrap_or_else(|| accepted.client.split('@').next().unwrap_or_default().to_string());
    let delegated = tgt.or(accepted.delegated);
    let no_delegation_reason = delegated.is_none().then(|| {
        "the browser did not delegate a ticket (its Negotiate delegation allow-list does not include this site); \
         device actions will use constrained delegation (S4U2Proxy) where the directory allows it"
            .to_string()
    });
    let cap = std::time::Duration::from_secs(state.config.session_hours as u64 * 3600);
    let cred_handle = delegated.map(|mut d| {
        d.lifetime = d.lifetime.min(cap);
        state.creds.insert(d)
    });
    let user = SessionUser {
        principal: accepted.client.clone(),
        display_name: pac
            .as_ref()
            .map(|p| p.full_name.clone())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| account.clone()),
        account,
        sid: pac.as_ref().map(|p| p.user_sid.clone()),
        group_sids: pac.map(|p| p.group_sids).unwrap_or_default(),
        method,
        signed_in_at: now_rfc3339(),
        ticket_bytes: accepted.token.ticket_bytes,
        token_bytes: Some(accepted.token_bytes),
        cred_handle,
        no_delegation_reason,
    };
    session
        .insert(USER_KEY, &user)
        .await
        .map_err(|e| format!("session store: {e}"))?;
    let how = match method {
        SignInMethod::Negotiate => "sign-in (Negotiate)",
        SignInMethod::Password => "sign-in (password)",
    };
    state.audit.record(Some(&user.principal), how, None, "ok", None).await;
    tracing::info!(user.principal = %user.principal, method = how, delegated = user.cred_handle.is_some(), "signed in");
    Ok(user)
}

/// Current UTC time, RFC 3339, seconds precision.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `next` if it is a path on this site (`/…`, not `//…` or `/\\…`), else None: never an open redirect.
pub fn safe_next(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 512
        && next.chars().all(|c| c.is_ascii_graphic());
    ok.then_some(next)
}

/// Percent-encodes a query value.
pub fn encode_query(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Decodes a percent-encoded query value (`+` is a space); None if malformed.
pub fn decode_query(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Where to go after signing in: the validated `next` of a query string, else `/`.
pub fn next_from_query(query: Option<&str>) -> String {
    query
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("next=")))
        .and_then(decode_query)
        .filter(|n| safe_next(n).is_some())
        .unwrap_or_else(|| "/".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_never_an_open_redirect() {
        assert_eq!(next_from_query(Some("next=%2Fdevices%2F3")), "/devices/3");
        assert_eq!(next_from_query(Some("a=1&next=/devices")), "/devices");
        for evil in [
            "next=https://evil.example",
            "next=//evil.example",
            "next=/%5Cevil",
            "next=%2F%2Fevil",
            "next=/x%0Ay",
            "next=%zz",
        ] {
            assert_eq!(next_from_query(Some(evil)), "/", "{evil}");
        }
        assert_eq!(next_from_query(None), "/");
        assert_eq!(
            decode_query(&encode_query("/devices?x=a b")).as_deref(),
            Some("/devices?x=a b")
        );
    }
}
