//! The browser's single sign-on setup as the portal saw it at sign-in: Negotiate with Kerberos
//! (with or without a delegated TGT), NTLM or another scheme offered, or the password form; and
//! the browser policy that fixes it. Only a short code of what a refused Negotiate attempt
//! carried is kept in the session (never a token), and only on the rare refused path, so the
//! normal sign-in costs no extra session write.

use shared::{CheckFamily, Finding, Severity, SignInMethod};
use tower_sessions::Session;

/// Session key of the last refused Negotiate attempt's code.
pub const SEEN_KEY: &str = "sso_seen";

/// Remembers what a refused Negotiate attempt carried (`ntlm`, `other_scheme:basic`, a
/// `kerberos::Error` code...). Best effort: a session store error only loses the hint.
pub async fn remember(session: &Session, code: &str) {
    let code: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '-'))
        .take(40)
        .collect();
    if let Err(e) = session.insert(SEEN_KEY, code).await {
        tracing::debug!(error = %e, "could not remember the refused sign-in attempt");
    }
}

/// The code remembered by [`remember`], if any.
pub async fn seen(session: &Session) -> Option<String> {
    session.get::<String>(SEEN_KEY).await.ok().flatten()
}

/// How the portal holds the user's credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// A TGT the browser forwarded.
    ForwardedTgt,
    /// The TGT of the password sign-in.
    PasswordTgt,
    /// Nothing (no delegation, or it expired).
    Nothing,
}

/// The browser policies that allow Negotiate (and delegation) towards `host`.
pub fn policy_words(host: &str, delegation: bool) -> String {
    let mut s = format!(
        "Chrome/Edge: policy AuthServerAllowlist = \"{host}\"; Firefox: network.negotiate-auth.trusted-uris = \"https://{host}\""
    );
    if delegation {
        s = format!(
            "Chrome/Edge: policies AuthServerAllowlist and AuthNegotiateDelegateAllowlist = \"{host}\"; \
             Firefox: network.negotiate-auth.trusted-uris and network.negotiate-auth.delegation-uris = \"https://{host}\""
        );
    }
    s
}

/// The findings for a sign-in by `method`, the credential `held`, what a refused Negotiate
/// attempt carried before (`seen`), to the portal at `host` whose SPN is `spn`; `s4u` says
/// whether the portal can fall back to constrained delegation.
pub fn judge(method: SignInMethod, held: Held, seen: Option<&str>, host: &str, spn: &str, s4u: bool) -> Vec<Finding> {
    let mk = |severity, code: &str, title: String, measured: String, fix: String| Finding {
        family: CheckFamily::BrowserSso,
        code: code.into(),
        severity,
        title,
        measured,
        fix,
    };
    let mut out = Vec::new();
    match method {
        SignInMethod::Negotiate => {
            out.push(mk(
                Severity::Ok,
                "sso_kerberos",
                "Your browser signs in with Kerberos".into(),
                "the browser answered the Negotiate challenge with a Kerberos ticket".into(),
                String::new(),
            ));
            out.push(match (held, s4u) {
                (Held::ForwardedTgt, _) => mk(
                    Severity::Ok,
                    "sso_delegated",
                    "Your browser delegates your ticket".into(),
                    "the browser forwarded a ticket-granting ticket; the portal uses it for device actions".into(),
                    String::new(),
                ),
                (_, true) => mk(
                    Severity::Ok,
                    "sso_not_delegated_s4u",
                    "Your browser does not delegate; the portal uses constrained delegation".into(),
                    "no ticket-granting ticket was forwarded; device actions use S4U2Proxy through the portal's account".into(),
                    format!(
                        "Optional: to let the portal use your own ticket, set {}.",
                        policy_words(host, true)
                    ),
                ),
                (_, false) => mk(
                    Severity::Problem,
                    "sso_not_delegated",
                    "Your browser does not delegate, and the portal has no constrained delegation".into(),
                    "no ticket-granting ticket was forwarded and no S4U2Proxy identity is configured".into(),
                    format!("Set {}, then sign out and in again.", policy_words(host, true)),
                ),
            });
        }
        SignInMethod::Password => {
            let (code, measured, cause) = match seen {
                Some("ntlm") | Some("other_scheme:ntlm") | Some("ntlm_only_spnego") => (
                    "sso_ntlm",
                    "before the password form, the browser offered NTLM instead of Kerberos".to_string(),
                    format!(
                        "The site is not in the browser's Negotiate allow-list, the computer has no Kerberos ticket, or {spn} is not \
                         registered (check with `setspn -Q {spn}`)."
                    ),
                ),
                Some(other) if other.starts_with("other_scheme") => (
                    "sso_other_scheme",
                    format!(
                        "before the password form, the browser offered the {} scheme",
                        other.trim_start_matches("other_scheme:")
                    ),
                    "The browser is not configured for Negotiate towards this site.".to_string(),
                ),
                Some(code) => (
                    "sso_refused",
                    format!("before the password form, the browser's Kerberos ticket was refused ({code})"),
                    "See the sign-in page's explanation of that reason (often the clock or a stale ticket: `klist purge`).".to_string(),
                ),
                None => (
                    "sso_no_token",
                    "the browser sent no Kerberos ticket; you signed in with the password form".to_string(),
                    "The site is not in the browser's Negotiate allow-list, or you are not signed in to the domain.".to_string(),
                ),
            };
            out.push(mk(
                Severity::Warning,
                code,
                "Single sign-on did not work: you signed in with your password".into(),
                measured,
                format!("{cause} Set {}.", policy_words(host, true)),
            ));
            if held == Held::Nothing {
                out.push(mk(
                    Severity::Warning,
                    "sso_credential_expired",
                    "The portal no longer holds your password sign-in ticket".into(),
                    "the ticket from the password sign-in has expired".into(),
                    "Sign out and in again.".into(),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "portal.example.test";
    const SPN: &str = "HTTP/portal.example.test";

    #[test]
    fn negotiate_with_and_without_delegation() {
        let f = judge(SignInMethod::Negotiate, Held::ForwardedTgt, None, HOST, SPN, true);
        assert!(f.iter().all(|f| f.severity == Severity::Ok));
        assert_eq!(f[1].code, "sso_delegated");
        let f = judge(SignInMethod::Negotiate, Held::Nothing, Some("ntlm"), HOST, SPN, true);
        assert_eq!(f[1].code, "sso_not_delegated_s4u");
        assert!(f[1].fix.contains("AuthNegotiateDelegateAllowlist"));
        let f = judge(SignInMethod::Negotiate, Held::Nothing, None, HOST, SPN, false);
        assert_eq!(
            (f[1].severity, f[1].code.as_str()),
            (Severity::Problem, "sso_not_delegated")
        );
        assert!(
            f[1].fix
                .contains("network.negotiate-auth.delegation-uris = \"https://portal.example.test\"")
        );
    }

    #[test]
    fn password_sign_in_says_why() {
        let f = judge(SignInMethod::Password, Held::PasswordTgt, Some("ntlm"), HOST, SPN, true);
        assert_eq!((f.len(), f[0].code.as_str()), (1, "sso_ntlm"));
        assert!(f[0].fix.contains("setspn -Q HTTP/portal.example.test"));
        assert!(f[0].fix.contains("AuthServerAllowlist"));
        let f = judge(
            SignInMethod::Password,
            Held::PasswordTgt,
            Some("other_scheme:basic"),
            HOST,
            SPN,
            true,
        );
        assert!(f[0].measured.contains("basic scheme"));
        let f = judge(SignInMethod::Password, Held::Nothing, None, HOST, SPN, true);
        assert_eq!(f[0].code, "sso_no_token");
        assert_eq!(f[1].code, "sso_credential_expired");
        let f = judge(
            SignInMethod::Password,
            Held::PasswordTgt,
            Some("clock_skew"),
            HOST,
            SPN,
            true,
        );
        assert!(f[0].measured.contains("(clock_skew)"));
    }
}
