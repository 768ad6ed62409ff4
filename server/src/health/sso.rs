//! The browser's single sign-on setup as the portal saw it at sign-in: Negotiate with Kerberos
//! (with or without a delegated TGT), NTLM or another scheme offered, or the password form; and
//! the browser policy that fixes it.
//!
//! What a refused Negotiate attempt carried is kept as a short code (`ntlm`, `other_scheme:basic`,
//! a `kerberos::Error` code; never a token) in a small cookie set on the 401 answer, not in a
//! session: a refused sign-in creates no server-side state, and the normal sign-in path costs
//! nothing. The code only words the user's own SSO finding, so a forged value harms no one.

use axum::http::{HeaderMap, HeaderValue, header};
use shared::{CheckFamily, Finding, Severity, SignInMethod};

/// Name of the cookie holding the last refused Negotiate attempt's code.
pub const SEEN_COOKIE: &str = "amt-sso-seen";

/// Keeps `[A-Za-z0-9_:-]`, at most 40 characters.
fn clean(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '-'))
        .take(40)
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The `Set-Cookie` value remembering `code` for `max_age_secs` (Secure when the portal's public
/// URL is https); None for an empty code.
pub fn seen_cookie(code: &str, public_origin: &str, max_age_secs: i64) -> Option<HeaderValue> {
    let code = clean(code);
    if code.is_empty() {
        return None;
    }
    let secure = if public_origin.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SEEN_COOKIE}={code}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{secure}"
    ))
    .ok()
}

/// The code remembered by [`seen_cookie`], from a request's headers.
pub fn seen(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| kv.trim().strip_prefix(SEEN_COOKIE)?.strip_prefix('=').map(clean))
        .filter(|c| !c.is_empty())
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
    fn seen_cookie_round_trip() {
        let v = seen_cookie("other_scheme:Basic<script>", "https://portal.example.test", 3600).unwrap();
        let v = v.to_str().unwrap();
        assert!(v.starts_with("amt-sso-seen=other_scheme:basicscript; Path=/; Max-Age=3600; HttpOnly"));
        assert!(v.ends_with("; Secure"));
        assert!(seen_cookie("", "https://x", 1).is_none());
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("__Host-amt-portal=abc; amt-sso-seen=ntlm"),
        );
        assert_eq!(seen(&h).as_deref(), Some("ntlm"));
        h.insert(header::COOKIE, HeaderValue::from_static("amt-sso-seenx=1"));
        assert_eq!(seen(&h), None);
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
