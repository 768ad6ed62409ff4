//! Delegated Kerberos credentials, held in memory only and only while they are valid.
//!
//! A credential is stored under a random handle (kept in the session, not the session id,
//! which changes at sign-in). It is dropped at sign-out, when it expires (a sweeper runs every
//! minute, and every lookup checks the time), or when the process ends. It is never written to
//! disk (GSSAPI keeps it in a MEMORY ccache) and never logged.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kerberos::Delegated;

struct Held {
    cred: Delegated,
    expires: Instant,
}

/// The store of delegated credentials.
#[derive(Default)]
pub struct CredentialStore {
    inner: Mutex<HashMap<String, Held>>,
}

impl CredentialStore {
    /// Keeps `cred` until it expires; returns its handle.
    pub fn insert(&self, cred: Delegated) -> String {
        let handle = hex::encode(rand::random::<[u8; 16]>());
        let expires = Instant::now() + cred.lifetime;
        self.lock().insert(handle.clone(), Held { cred, expires });
        handle
    }

    /// The credential for `handle`, if it is still valid, with its remaining lifetime.
    pub fn get(&self, handle: &str) -> Option<(Delegated, Duration)> {
        let mut map = self.lock();
        let now = Instant::now();
        match map.get(handle) {
            Some(h) if h.expires > now => Some((h.cred.clone(), h.expires - now)),
            Some(_) => {
                map.remove(handle);
                None
            }
            None => None,
        }
    }

    /// Destroys the credential for `handle`; true if one was held.
    pub fn remove(&self, handle: &str) -> bool {
        self.lock().remove(handle).is_some()
    }

    /// Drops expired credentials; returns how many.
    pub fn sweep(&self) -> usize {
        let now = Instant::now();
        let mut map = self.lock();
        let before = map.len();
        map.retain(|_, h| h.expires > now);
        before - map.len()
    }

    /// How many credentials are held.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when none are held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Held>> {
        // A panic while holding the lock cannot leave the map inconsistent: use it anyway.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}
