//! Kerberos failures in words a helpdesk engineer can act on.
//!
//! Each variant says what went wrong; `Display` gives the sentence shown to users. The raw MIT
//! message is kept in `detail` for logs and the "technical details" line, reduced to printable
//! ASCII so that it can never smuggle bytes into a page (a NUL byte once made Chromium treat a
//! whole 401 page as a download).

use crate::ffi::GssFailure;

/// Why a sign-in, a ticket or a credential was refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// The Authorization header carried no token.
    #[error("the browser sent no Kerberos token")]
    NoToken,
    /// The token was not valid base64.
    #[error("the Negotiate token is not valid base64")]
    NotBase64,
    /// Raw NTLM instead of Kerberos.
    #[error(
        "the browser sent NTLM, not Kerberos: it has no Kerberos ticket for this site, or the site is not in its Negotiate allow-list"
    )]
    Ntlm,
    /// SPNEGO that offers only NTLM.
    #[error("the browser offered only NTLM inside SPNEGO: it could not get a Kerberos ticket for this site")]
    NtlmOnlySpnego,
    /// Not a token at all, or a broken one.
    #[error("the Negotiate token is malformed ({detail})")]
    Malformed {
        /// MIT's words.
        detail: String,
    },
    /// A ticket for some other service.
    #[error("the ticket was issued for another service, not this one ({detail})")]
    WrongService {
        /// MIT's words.
        detail: String,
    },
    /// The ticket names this service but was encrypted with a key it no longer holds (or does
    /// not hold yet): the service account's password changed after the ticket was issued (a
    /// reprovisioned AMT device), or the keytab is out of date.
    #[error(
        "the ticket was encrypted with another key of this service: its account password changed since the ticket was issued \
         (purge the client's tickets and get a new one) or the keytab is out of date ({detail})"
    )]
    KeyMismatch {
        /// MIT's words.
        detail: String,
    },
    /// The same authenticator seen twice.
    #[error("the token was already used once (replay refused)")]
    Replay,
    /// The ticket's lifetime is over.
    #[error("the Kerberos ticket has expired: sign in to Windows again or run kinit")]
    Expired,
    /// Clocks too far apart.
    #[error(
        "the clocks of the client, the server and the domain controller differ by more than Kerberos allows (5 minutes)"
    )]
    ClockSkew,
    /// Password sign-in: wrong password.
    #[error("the user name or password is incorrect")]
    BadPassword,
    /// Password sign-in: no such principal.
    #[error("the domain does not know this user")]
    UnknownUser,
    /// The account cannot sign in (disabled, locked, expired password).
    #[error("the account cannot sign in now: {detail}")]
    AccountUnusable {
        /// MIT's words.
        detail: String,
    },
    /// No KDC answered.
    #[error("no domain controller (KDC) answered: {detail}")]
    KdcUnreachable {
        /// MIT's words.
        detail: String,
    },
    /// The reply of the KDC could not be verified with the service key.
    #[error("the domain controller's answer could not be verified with this server's keytab: {detail}")]
    NotVerified {
        /// MIT's words.
        detail: String,
    },
    /// The domain refused constrained delegation (S4U2Proxy) for this user and service.
    #[error(
        "the domain refused to let the portal act as you towards this device: either your account is marked \"sensitive and cannot be delegated\" (or is in Protected Users), or the portal's service account is not trusted to delegate to this device's SPN (msDS-AllowedToDelegateTo) ({detail})"
    )]
    DelegationRefused {
        /// MIT's words.
        detail: String,
    },
    /// The service's own keytab is unusable.
    #[error("this server's keytab cannot be used: {detail}")]
    Keytab {
        /// MIT's words.
        detail: String,
    },
    /// Anything else GSSAPI reported.
    #[error("Kerberos refused: {detail}")]
    Other {
        /// MIT's words.
        detail: String,
    },
}

impl Error {
    /// A short stable code for logs, metrics and tests.
    pub fn code(&self) -> &'static str {
        match self {
            Error::NoToken => "no_token",
            Error::NotBase64 => "not_base64",
            Error::Ntlm => "ntlm",
            Error::NtlmOnlySpnego => "ntlm_only_spnego",
            Error::Malformed { .. } => "malformed",
            Error::WrongService { .. } => "wrong_service",
            Error::KeyMismatch { .. } => "key_mismatch",
            Error::Replay => "replay",
            Error::Expired => "expired",
            Error::ClockSkew => "clock_skew",
            Error::BadPassword => "bad_password",
            Error::UnknownUser => "unknown_user",
            Error::AccountUnusable { .. } => "account_unusable",
            Error::KdcUnreachable { .. } => "kdc_unreachable",
            Error::NotVerified { .. } => "not_verified",
            Error::DelegationRefused { .. } => "delegation_refused",
            Error::Keytab { .. } => "keytab",
            Error::Other { .. } => "other",
        }
    }
}

/// Keeps printable ASCII only, and at most 300 characters.
pub fn sanitize(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(300)
        .collect()
}

const GSS_S_BAD_MECH: u32 = 1 << 16;
const GSS_S_DEFECTIVE_TOKEN: u32 = 9 << 16;
const GSS_S_NO_CRED: u32 = 7 << 16;
const GSS_S_CREDENTIALS_EXPIRED: u32 = 11 << 16;
const ROUTINE_MASK: u32 = 0x00ff_0000;

/// Maps an acceptor-side GSSAPI failure to a plain reason.
pub(crate) fn from_accept(f: &GssFailure) -> Error {
    let detail = sanitize(&f.message);
    let lower = detail.to_ascii_lowercase();
    if lower.contains("replay") {
        return Error::Replay;
    }
    if lower.contains("cannot decrypt ticket") || lower.contains("keytab is likely out of date") {
        return Error::KeyMismatch { detail };
    }
    if lower.contains("not found in keytab") || lower.contains("wrong principal") {
        return Error::WrongService { detail };
    }
    if lower.contains("clock skew") {
        return Error::ClockSkew;
    }
    if lower.contains("ticket expired") || f.major & ROUTINE_MASK == GSS_S_CREDENTIALS_EXPIRED {
        return Error::Expired;
    }
    match f.major & ROUTINE_MASK {
        GSS_S_BAD_MECH => Error::Malformed {
            detail: format!("unsupported mechanism: {detail}"),
        },
        GSS_S_DEFECTIVE_TOKEN => Error::Malformed { detail },
        GSS_S_NO_CRED => Error::Keytab { detail },
        _ if lower.contains("token") => Error::Malformed { detail },
        _ => Error::Other { detail },
    }
}

/// Maps an initiator-side failure (password sign-in, service tickets) to a plain reason.
pub(crate) fn from_initiate(e: &libgssapi::error::Error) -> Error {
    let detail = sanitize(&e.to_string());
    let lower = detail.to_ascii_lowercase();
    if lower.contains("preauthentication failed")
        || lower.contains("password incorrect")
        || lower.contains("decrypt integrity")
    {
        Error::BadPassword
    } else if lower.contains("not found in kerberos database") && lower.contains("client") {
        Error::UnknownUser
    } else if lower.contains("revoked")
        || lower.contains("disabled")
        || lower.contains("locked")
        || lower.contains("password has expired")
    {
        Error::AccountUnusable { detail }
    } else if lower.contains("cannot contact any kdc") || lower.contains("cannot find kdc") {
        Error::KdcUnreachable { detail }
    } else if lower.contains("clock skew") {
        Error::ClockSkew
    } else if lower.contains("expired") {
        Error::Expired
    } else {
        Error::Other { detail }
    }
}
