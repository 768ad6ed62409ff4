//! Acting as a user: password sign-in (AS exchange verified against our keytab) and tokens
//! for other services from a user's credential.
//!
//! The password check follows mod_auth_gssapi: get a TGT with the password, then obtain a
//! ticket for this server's own principal and accept it with the server's keytab. A spoofed
//! KDC can hand out a TGT, but it cannot produce a ticket that our keytab decrypts.

use std::time::Duration;

use libgssapi::context::{ClientCtx, CtxFlags};
use libgssapi::credential::{Cred, CredUsage};
use libgssapi::name::Name;
use libgssapi::oid::{GSS_MECH_KRB5, GSS_NT_KRB5_PRINCIPAL, OidSet};

use crate::acceptor::{Accepted, Acceptor, Delegated, DelegationKind};
use crate::error::{self, Error};

fn krb5_mechs() -> Result<OidSet, Error> {
    let mut set = OidSet::new();
    set.add(GSS_MECH_KRB5).map_err(|e| error::from_initiate(&e))?;
    Ok(set)
}

/// A Kerberos GSS token (raw krb5 mechanism) for `service` (e.g. `HTTP/amt1.example.test:16992`)
/// from `cred`. Blocking: it may ask the KDC for a service ticket (then cached in the credential).
pub fn token_for(cred: &Cred, service: &str, delegate: bool) -> Result<Vec<u8>, Error> {
    let name = Name::new(service.as_bytes(), Some(GSS_NT_KRB5_PRINCIPAL)).map_err(|e| error::from_initiate(&e))?;
    let flags = if delegate {
        CtxFlags::GSS_C_DELEG_FLAG
    } else {
        CtxFlags::empty()
    };
    let mut ctx = ClientCtx::new(Some(cred.clone()), name, flags, Some(GSS_MECH_KRB5));
    match ctx.step(None, None) {
        Ok(Some(tok)) => Ok(tok.to_vec()),
        Ok(None) => Err(Error::Other {
            detail: "GSSAPI produced no token".into(),
        }),
        Err(e) => Err(error::from_initiate(&e)),
    }
}

/// Signs a user in with a password and verifies the result against `acceptor`, whose keytab
/// holds `own_service`. Returns the accepted identity and the user's TGT as a delegated
/// credential. Blocking.
pub fn password_sign_in(
    acceptor: &Acceptor,
    own_service: &str,
    user: &str,
    password: &str,
) -> Result<(Accepted, Delegated), Error> {
    if user.is_empty() || password.is_empty() {
        return Err(Error::BadPassword);
    }
    let name = Name::new(user.as_bytes(), Some(GSS_NT_KRB5_PRINCIPAL)).map_err(|_| Error::UnknownUser)?;
    let mechs = krb5_mechs()?;
    let cred = Cred::acquire_with_password(Some(&name), password, None, CredUsage::Initiate, Some(&mechs))
        .map_err(|e| error::from_initiate(&e))?;
    let token = token_for(&cred, own_service, false).map_err(|e| match e {
        Error::Other { detail } => Error::NotVerified { detail },
        other => other,
    })?;
    let accepted = acceptor
        .accept(&token)
        .map_err(|e| Error::NotVerified { detail: e.to_string() })?;
    let lifetime = cred.lifetime().unwrap_or(Duration::ZERO);
    Ok((
        accepted,
        Delegated {
            cred,
            kind: DelegationKind::PasswordTgt,
            lifetime,
        },
    ))
}
