//! Constrained delegation: acting as a user who delegated nothing (S4U2Self + S4U2Proxy).
//!
//! The portal's service account obtains, from its own keytab, a ticket to itself on behalf of
//! the user (S4U2Self), then a ticket for the device SPN on the user's behalf (S4U2Proxy). The
//! domain decides: the account must be "trusted to authenticate for delegation" with the device
//! SPN in `msDS-AllowedToDelegateTo`, and the user must not be "sensitive and cannot be
//! delegated" (or in Protected Users). The device then sees the user's own PAC, exactly as if
//! the user had come directly. Blocking calls.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use libgssapi::credential::{Cred, CredUsage};
use libgssapi::name::Name;
use libgssapi::oid::GSS_NT_KRB5_PRINCIPAL;

use crate::error::{self, Error};
use crate::ffi;

/// The portal's own Kerberos identity, able to impersonate users towards allowed services.
///
/// Impersonation credentials are kept per user until shortly before they expire, so that the
/// S4U2Self exchange happens once per user and the S4U2Proxy tickets MIT caches with them are
/// reused: one KDC request per user and device per ticket lifetime, not one per click.
pub struct ServiceIdentity {
    cred: Cred,
    principal: String,
    impersonated: Mutex<HashMap<String, (Cred, Instant)>>,
    s4u2self_requests: AtomicUsize,
}

/// A cached impersonation credential is replaced this long before it expires.
const RENEW_BEFORE: Duration = Duration::from_secs(120);

impl ServiceIdentity {
    /// The identity of `principal` (e.g. `HTTP/portal.example.test`) from `keytab`. Its tickets
    /// live in a private in-memory cache.
    pub fn from_keytab(keytab: &Path, principal: &str) -> Result<Self, Error> {
        let kt = keytab.to_str().ok_or_else(|| Error::Keytab {
            detail: "keytab path is not UTF-8".into(),
        })?;
        let cache = format!("MEMORY:s4u-{}", std::process::id());
        let cred = ffi::initiator_from_keytab(&format!("FILE:{kt}"), principal, &cache).map_err(|f| Error::Keytab {
            detail: error::sanitize(&f.message),
        })?;
        Ok(ServiceIdentity {
            cred,
            principal: principal.to_string(),
            impersonated: Mutex::new(HashMap::new()),
            s4u2self_requests: AtomicUsize::new(0),
        })
    }

    /// A credential that acts as `user` (`alice@EXAMPLE.TEST`): S4U2Self now, S4U2Proxy when a
    /// token for a service is requested from it with [`crate::token_for`].
    pub fn impersonate(&self, user: &str) -> Result<Cred, Error> {
        let now = Instant::now();
        {
            let cache = self.impersonated.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((cred, expires)) = cache.get(user)
                && *expires > now + RENEW_BEFORE
            {
                return Ok(cred.clone());
            }
        }
        let cred = self.impersonate_now(user)?;
        let lifetime = cred.lifetime().unwrap_or(Duration::ZERO);
        let mut cache = self.impersonated.lock().unwrap_or_else(|p| p.into_inner());
        cache.retain(|_, (_, e)| *e > now);
        cache.insert(user.to_string(), (cred.clone(), now + lifetime));
        Ok(cred)
    }

    /// How many S4U2Self exchanges this identity has made (each asks the KDC).
    pub fn s4u2self_requests(&self) -> usize {
        self.s4u2self_requests.load(Ordering::Relaxed)
    }

    /// Forgets every cached impersonation credential (e.g. after a group change).
    pub fn forget(&self) {
        self.impersonated.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    fn impersonate_now(&self, user: &str) -> Result<Cred, Error> {
        self.s4u2self_requests.fetch_add(1, Ordering::Relaxed);
        let name = Name::new(user.as_bytes(), Some(GSS_NT_KRB5_PRINCIPAL)).map_err(|_| Error::UnknownUser)?;
        self.cred
            .impersonate(&name, None, CredUsage::Initiate, None)
            .map_err(|e| match error::from_initiate(&e) {
                Error::UnknownUser => Error::UnknownUser,
                other => Error::DelegationRefused {
                    detail: format!("S4U2Self for {user} through {} failed: {other}", self.principal),
                },
            })
    }

    /// A token for `service` as the portal itself: for the background reads a device's ACL
    /// grants the portal's own account (never for a user's action). MIT caches the service
    /// ticket in the identity's memory cache: one KDC request per device per ticket lifetime.
    pub fn own_token(&self, service: &str) -> Result<Vec<u8>, Error> {
        crate::token_for(&self.cred, service, false)
    }

    /// A token for `service` on behalf of `user`, by S4U2Self + S4U2Proxy.
    pub fn token_as(&self, user: &str, service: &str) -> Result<Vec<u8>, Error> {
        let cred = self.impersonate(user)?;
        crate::token_for(&cred, service, false).map_err(|e| match e {
            Error::Other { detail }
                if detail.to_ascii_lowercase().contains("can't fulfill requested option")
                    || detail.contains("constrained delegation") =>
            {
                Error::DelegationRefused { detail }
            }
            other => other,
        })
    }
}
