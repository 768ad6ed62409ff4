//! Accepting Negotiate tokens: who the client is, which groups they are in, what they delegated.
//!
//! `Acceptor::accept` is blocking (GSSAPI talks to the replay cache on disk and may take
//! milliseconds): async callers run it on `spawn_blocking`. Before GSSAPI sees a token it is
//! classified by `token::inspect`, so NTLM and garbage get a reason a person can act on.

use std::path::Path;
use std::time::Duration;

use libgssapi::credential::Cred;

use crate::error::{self, Error};
use crate::ffi::{self, AcceptorCredential};
use crate::pac::{self, Pac};
use crate::token::{self, TokenFacts, TokenKind};

const GSS_C_DELEG_FLAG: u32 = 1;

/// Accepts tickets for the principals of one keytab.
pub struct Acceptor {
    cred: AcceptorCredential,
}

/// How the client's credential came to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DelegationKind {
    /// The browser forwarded its TGT (unconstrained delegation).
    ForwardedTgt,
    /// The user's own TGT from a password sign-in verified by this server.
    PasswordTgt,
}

/// A credential that lets the server act as the user. Lives in memory only.
#[derive(Clone)]
pub struct Delegated {
    /// The GSSAPI credential (MIT keeps it in a MEMORY ccache); released when dropped.
    pub cred: Cred,
    /// How it was obtained.
    pub kind: DelegationKind,
    /// Remaining lifetime when it was received.
    pub lifetime: Duration,
}

impl std::fmt::Debug for Delegated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the credential itself.
        f.debug_struct("Delegated")
            .field("kind", &self.kind)
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

/// A token that was accepted.
#[derive(Debug)]
pub struct Accepted {
    /// The client principal, `user@REALM`.
    pub client: String,
    /// The service principal the ticket was issued for.
    pub target: Option<String>,
    /// Identity and groups from the PAC (absent for tickets from a KDC without PACs).
    pub pac: Option<Pac>,
    /// Why the PAC is absent or unreadable, if it is.
    pub pac_problem: Option<String>,
    /// Mutual-authentication token to return in `WWW-Authenticate: Negotiate …`.
    pub response_token: Option<Vec<u8>>,
    /// A forwarded TGT, if the client delegated one.
    pub delegated: Option<Delegated>,
    /// What the token looked like (ticket size).
    pub token: TokenFacts,
    /// Size of the whole token received, in bytes.
    pub token_bytes: usize,
    /// How long the ticket remains valid.
    pub ticket_lifetime: Duration,
}

impl Acceptor {
    /// Acquires an acceptor credential from `keytab`; any principal in it is accepted.
    /// `rcache` names the replay cache (e.g. `dfl:` or `file2:/path`); `None` keeps MIT's default.
    pub fn from_keytab_with_rcache(keytab: &Path, rcache: Option<&str>) -> Result<Self, Error> {
        let path = keytab.to_str().ok_or_else(|| Error::Keytab {
            detail: "keytab path is not UTF-8".into(),
        })?;
        if !keytab.is_file() {
            return Err(Error::Keytab {
                detail: format!("{path} does not exist or is not a file"),
            });
        }
        let cred = AcceptorCredential::acquire(&format!("FILE:{path}"), rcache, false).map_err(|f| Error::Keytab {
            detail: error::sanitize(&f.message),
        })?;
        Ok(Acceptor { cred })
    }

    /// Acquires an acceptor credential from a keytab by MIT name (`MEMORY:…`, `FILE:…`), e.g.
    /// a [`crate::keys::MemoryKeytab`], which must outlive the acceptor.
    pub fn from_keytab_name(name: &str, rcache: Option<&str>) -> Result<Self, Error> {
        let cred = AcceptorCredential::acquire(name, rcache, false).map_err(|f| Error::Keytab {
            detail: error::sanitize(&f.message),
        })?;
        Ok(Acceptor { cred })
    }

    /// Acquires an acceptor credential from `keytab` with MIT's default replay cache.
    pub fn from_keytab(keytab: &Path) -> Result<Self, Error> {
        Self::from_keytab_with_rcache(keytab, None)
    }

    /// Accepts one Negotiate token (already base64-decoded). Blocking.
    pub fn accept(&self, token: &[u8]) -> Result<Accepted, Error> {
        if token.is_empty() {
            return Err(Error::NoToken);
        }
        let facts = token::inspect(token);
        match facts.kind {
            TokenKind::RawNtlm => return Err(Error::Ntlm),
            TokenKind::SpnegoNtlmOnly => return Err(Error::NtlmOnlySpnego),
            _ => {}
        }
        let raw = ffi::accept(&self.cred, token).map_err(|f| match error::from_accept(&f) {
            // MIT is vague about broken framing; the DER walk already knows it is not a whole token.
            Error::Other { detail } if facts.kind == TokenKind::Unknown => Error::Malformed {
                detail: format!("not a complete Kerberos or SPNEGO token; {detail}"),
            },
            other => other,
        })?;
        let (pac, pac_problem) = match raw.logon_info.as_deref().map(pac::decode_logon_info) {
            Some(Ok(p)) => (Some(p), None),
            Some(Err(e)) => (None, Some(e.to_string())),
            None => (
                None,
                Some("the ticket carries no verified PAC (not issued by Active Directory?)".into()),
            ),
        };
        // Only a real forwarded TGT counts: an acceptor credential usable for both directions
        // would make MIT hand back the server's own impersonation credential instead.
        let delegated = match raw.delegated {
            Some(cred) if raw.flags & GSS_C_DELEG_FLAG != 0 && matches!(cred.proxy(), Ok(None)) => {
                let lifetime = cred.lifetime().unwrap_or(Duration::ZERO);
                Some(Delegated {
                    cred,
                    kind: DelegationKind::ForwardedTgt,
                    lifetime,
                })
            }
            _ => None,
        };
        Ok(Accepted {
            client: raw.client,
            // The ticket's own sname: MIT names the first keytab entry whose key fits.
            target: facts.service.clone().or(raw.target),
            pac,
            pac_problem,
            response_token: (!raw.output_token.is_empty()).then_some(raw.output_token),
            delegated,
            token: facts,
            token_bytes: token.len(),
            ticket_lifetime: Duration::from_secs(u64::from(raw.lifetime_secs)),
        })
    }
}
