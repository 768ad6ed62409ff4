//! Device clients kept between clicks, per user credential and device.
//!
//! Without this, every action opened a new TCP connection to the device and sent a fresh
//! Negotiate token, which the device had to decrypt and check (and add to its replay cache).
//! With it, a user's next action on the same device reuses the kept-alive connection the
//! device has already authenticated for that user, as a management console does.
//!
//! The rules, each tested below:
//! - An entry belongs to one [`Owner`]: the credential held for one sign-in (its handle in
//!   [`crate::credentials::CredentialStore`]), or one user acted for by constrained delegation.
//!   It is only ever handed back to that same owner, so one user's connection never serves
//!   another user.
//! - An entry ends after [`DEFAULT_IDLE`] without use, when its credential expires, when its
//!   owner signs out or signs in again ([`DeviceClients::forget`], [`DeviceClients::forget_user`]),
//!   or when the credential is no longer held ([`DeviceClients::sweep`], run every minute by
//!   [`spawn_sweeper`]).
//! - At most [`DEFAULT_MAX_ENTRIES`] entries are kept (each holds up to two sockets); the least
//!   recently used goes first.
//! - A different address, port, name or transport for the device is a different entry.
//!
//! Nothing here talks to the network: a [`Client`] connects on its first request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use amt::client::Client;

use crate::credentials::CredentialStore;
use crate::registry::Device;

/// Idle time after which a kept client (and its connections) is dropped. Firmware closes idle
/// connections too; the `amt` client replaces one it finds closed.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(60);

/// Most clients kept at once, all users together.
pub const DEFAULT_MAX_ENTRIES: usize = 256;

/// Whose credential a kept client authenticates with.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Owner {
    /// The credential held under this handle (the TGT a browser forwarded, or a password sign-in's).
    Credential(String),
    /// Constrained delegation (S4U2Proxy) for this principal.
    Delegation(String),
}

/// The device as the client sees it: any change makes a new client.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeviceKey {
    /// Registry id.
    pub id: i64,
    /// Address connected to.
    pub address: String,
    /// WS-Management port.
    pub port: i64,
    /// FQDN (the SPN's host).
    pub fqdn: String,
    /// TLS on.
    pub tls: bool,
}

impl From<&Device> for DeviceKey {
    fn from(d: &Device) -> Self {
        DeviceKey {
            id: d.id,
            address: d.address.clone(),
            port: d.wsman_port,
            fqdn: d.fqdn.clone(),
            tls: d.tls,
        }
    }
}

struct Entry {
    client: Arc<Client>,
    last_used: Instant,
    /// When the owner's credential expires, if known.
    expires: Option<Instant>,
}

impl Entry {
    fn usable(&self, now: Instant, idle: Duration) -> bool {
        now.saturating_duration_since(self.last_used) < idle && self.expires.is_none_or(|e| now < e)
    }
}

/// The kept clients of all users.
pub struct DeviceClients {
    entries: Mutex<HashMap<(Owner, DeviceKey), Entry>>,
    max_entries: usize,
    idle: Duration,
}

impl Default for DeviceClients {
    fn default() -> Self {
        DeviceClients::new(DEFAULT_MAX_ENTRIES, DEFAULT_IDLE)
    }
}

impl DeviceClients {
    /// Keeps at most `max_entries` clients, each for `idle` after its last use.
    pub fn new(max_entries: usize, idle: Duration) -> Self {
        DeviceClients {
            entries: Mutex::new(HashMap::new()),
            max_entries,
            idle,
        }
    }

    /// Keeps nothing: every call makes a new client (one connection and token per action).
    pub fn disabled() -> Self {
        DeviceClients::new(0, Duration::ZERO)
    }

    /// The kept client of `owner` for `device`, or a new one from `make` (kept from now on).
    /// `expires` is when the owner's credential ends; the client is not used after it.
    pub fn client(
        &self,
        owner: Owner,
        expires: Option<Instant>,
        device: DeviceKey,
        make: impl FnOnce() -> Client,
    ) -> Arc<Client> {
        self.client_at(Instant::now(), owner, expires, device, make)
    }

    fn client_at(
        &self,
        now: Instant,
        owner: Owner,
        expires: Option<Instant>,
        device: DeviceKey,
        make: impl FnOnce() -> Client,
    ) -> Arc<Client> {
        if self.max_entries == 0 {
            return Arc::new(make());
        }
        let key = (owner, device);
        let mut map = self.lock();
        if let Some(e) = map.get_mut(&key) {
            if e.usable(now, self.idle) {
                e.last_used = now;
                return e.client.clone();
            }
            map.remove(&key);
        }
        if map.len() >= self.max_entries {
            map.retain(|_, e| e.usable(now, self.idle));
        }
        if map.len() >= self.max_entries
            && let Some(oldest) = map.iter().min_by_key(|(_, e)| e.last_used).map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        let client = Arc::new(make());
        map.insert(
            key,
            Entry {
                client: client.clone(),
                last_used: now,
                expires,
            },
        );
        client
    }

    /// Drops every client of `owner`; returns how many.
    pub fn forget(&self, owner: &Owner) -> usize {
        let mut map = self.lock();
        let before = map.len();
        map.retain(|(o, _), _| o != owner);
        before - map.len()
    }

    /// Drops every kept client of device `id`, all users: after its key or ACL changed, kept
    /// connections must not stand for the old state. Returns how many.
    pub fn forget_device(&self, id: i64) -> usize {
        let mut map = self.lock();
        let before = map.len();
        map.retain(|(_, d), _| d.id != id);
        before - map.len()
    }

    /// Drops the clients of a user who signs out: those made with the credential `handle` and
    /// those made by constrained delegation for `principal`. Returns how many.
    pub fn forget_user(&self, handle: Option<&str>, principal: &str) -> usize {
        let by_credential = handle.map_or(0, |h| self.forget(&Owner::Credential(h.to_string())));
        by_credential + self.forget(&Owner::Delegation(principal.to_string()))
    }

    /// Drops idle clients, clients whose credential has expired, and clients whose owner
    /// `held` says is gone. Returns how many.
    pub fn sweep(&self, held: impl Fn(&Owner) -> bool) -> usize {
        self.sweep_at(Instant::now(), held)
    }

    fn sweep_at(&self, now: Instant, held: impl Fn(&Owner) -> bool) -> usize {
        let mut map = self.lock();
        let before = map.len();
        map.retain(|(o, _), e| e.usable(now, self.idle) && held(o));
        before - map.len()
    }

    /// How many clients are kept.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when none are kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<(Owner, DeviceKey), Entry>> {
        // A panic while holding the lock cannot leave the map inconsistent: use it anyway.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Every minute, drops kept clients that are idle, expired, or whose credential `creds` no
/// longer holds (it expired or was destroyed).
pub fn spawn_sweeper(clients: Arc<DeviceClients>, creds: Arc<CredentialStore>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            let n = clients.sweep(|owner| match owner {
                Owner::Credential(handle) => creds.get(handle).is_some(),
                Owner::Delegation(_) => true,
            });
            if n > 0 {
                tracing::debug!(dropped = n, "idle or orphaned device clients dropped");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use amt::client::{Auth, ClientConfig};

    fn device(id: i64) -> DeviceKey {
        DeviceKey {
            id,
            address: format!("127.1.0.{id}"),
            port: 16992,
            fqdn: format!("amt{id}.example.test"),
            tls: false,
        }
    }

    fn make(key: &DeviceKey) -> impl FnOnce() -> Client + use<> {
        let host = key.address.clone();
        move || {
            Client::new(ClientConfig::new(
                &host,
                Auth::Digest {
                    user: "unused".into(),
                    password: "unused".into(),
                },
            ))
        }
    }

    fn alice() -> Owner {
        Owner::Credential("handle-alice".into())
    }

    fn bob() -> Owner {
        Owner::Credential("handle-bob".into())
    }

    #[test]
    fn the_same_owner_gets_the_same_client_and_another_owner_never_does() {
        let c = DeviceClients::default();
        let d = device(7);
        let a1 = c.client(alice(), None, d.clone(), make(&d));
        let a2 = c.client(alice(), None, d.clone(), make(&d));
        assert!(Arc::ptr_eq(&a1, &a2), "alice's second click reuses her client");
        let b = c.client(bob(), None, d.clone(), make(&d));
        assert!(!Arc::ptr_eq(&a1, &b), "bob never gets alice's client");
        let s = c.client(
            Owner::Delegation("alice@EXAMPLE.TEST".into()),
            None,
            d.clone(),
            make(&d),
        );
        assert!(
            !Arc::ptr_eq(&a1, &s),
            "constrained delegation for alice is not her own credential's client"
        );
        let other = c.client(alice(), None, device(8), make(&device(8)));
        assert!(!Arc::ptr_eq(&a1, &other), "another device, another client");
        assert_eq!(c.len(), 4);
    }

    #[test]
    fn a_changed_address_is_a_new_client() {
        let c = DeviceClients::default();
        let d = device(7);
        let first = c.client(alice(), None, d.clone(), make(&d));
        let moved = DeviceKey {
            address: "127.1.0.99".into(),
            ..d.clone()
        };
        let second = c.client(alice(), None, moved.clone(), make(&moved));
        assert!(!Arc::ptr_eq(&first, &second));
        assert_eq!(second.config().host, "127.1.0.99");
    }

    #[test]
    fn sign_out_forgets_only_that_users_clients() {
        let c = DeviceClients::default();
        for id in [1, 2] {
            c.client(alice(), None, device(id), make(&device(id)));
            c.client(bob(), None, device(id), make(&device(id)));
        }
        c.client(
            Owner::Delegation("alice@EXAMPLE.TEST".into()),
            None,
            device(3),
            make(&device(3)),
        );
        assert_eq!(c.forget_user(Some("handle-alice"), "alice@EXAMPLE.TEST"), 3);
        assert_eq!(c.len(), 2, "bob's two clients stay");
        assert_eq!(c.forget(&alice()), 0);
        assert_eq!(c.forget(&bob()), 2);
        assert!(c.is_empty());
    }

    #[test]
    fn idle_clients_and_expired_credentials_are_not_used() {
        let c = DeviceClients::new(16, Duration::from_secs(60));
        let d = device(7);
        let t0 = Instant::now();
        let first = c.client_at(t0, alice(), None, d.clone(), make(&d));
        let t1 = t0 + Duration::from_secs(59);
        assert!(Arc::ptr_eq(
            &first,
            &c.client_at(t1, alice(), None, d.clone(), make(&d))
        ));
        // Used at t1, so idle from t1: still good at t1 + 59 s, gone at t1 + 61 s.
        let t2 = t1 + Duration::from_secs(59);
        assert!(Arc::ptr_eq(
            &first,
            &c.client_at(t2, alice(), None, d.clone(), make(&d))
        ));
        let t3 = t2 + Duration::from_secs(61);
        let after_idle = c.client_at(t3, alice(), None, d.clone(), make(&d));
        assert!(
            !Arc::ptr_eq(&first, &after_idle),
            "idle for over a minute: a new client"
        );

        let expires = t3 + Duration::from_secs(5);
        let b = c.client_at(t3, bob(), Some(expires), d.clone(), make(&d));
        assert!(Arc::ptr_eq(
            &b,
            &c.client_at(t3 + Duration::from_secs(4), bob(), Some(expires), d.clone(), make(&d))
        ));
        let renewed = t3 + Duration::from_secs(6);
        let after_expiry = c.client_at(
            renewed,
            bob(),
            Some(renewed + Duration::from_secs(600)),
            d.clone(),
            make(&d),
        );
        assert!(!Arc::ptr_eq(&b, &after_expiry), "never past the credential's end");
    }

    #[test]
    fn sweep_drops_idle_expired_and_orphaned_clients() {
        let c = DeviceClients::new(16, Duration::from_secs(60));
        let t0 = Instant::now();
        c.client_at(t0, alice(), None, device(1), make(&device(1)));
        c.client_at(
            t0,
            bob(),
            Some(t0 + Duration::from_secs(10)),
            device(1),
            make(&device(1)),
        );
        c.client_at(
            t0 + Duration::from_secs(50),
            Owner::Credential("handle-gone".into()),
            None,
            device(2),
            make(&device(2)),
        );
        c.client_at(
            t0 + Duration::from_secs(50),
            Owner::Delegation("carol@EXAMPLE.TEST".into()),
            None,
            device(3),
            make(&device(3)),
        );
        let held = |o: &Owner| o != &Owner::Credential("handle-gone".into());
        assert_eq!(
            c.sweep_at(t0 + Duration::from_secs(20), held),
            2,
            "bob expired, handle-gone destroyed"
        );
        assert_eq!(c.len(), 2);
        assert_eq!(c.sweep_at(t0 + Duration::from_secs(61), held), 1, "alice idle");
        assert_eq!(c.sweep_at(t0 + Duration::from_secs(111), held), 1, "carol idle");
        assert!(c.is_empty());
    }

    #[test]
    fn the_number_of_clients_is_bounded_and_the_least_recently_used_goes() {
        let c = DeviceClients::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        let one = c.client_at(t0, alice(), None, device(1), make(&device(1)));
        c.client_at(t0 + Duration::from_secs(1), alice(), None, device(2), make(&device(2)));
        // Device 1 is used again, so device 2 is now the least recently used.
        c.client_at(t0 + Duration::from_secs(2), alice(), None, device(1), make(&device(1)));
        c.client_at(t0 + Duration::from_secs(3), alice(), None, device(3), make(&device(3)));
        assert_eq!(c.len(), 2);
        let again = c.client_at(t0 + Duration::from_secs(4), alice(), None, device(1), make(&device(1)));
        assert!(Arc::ptr_eq(&one, &again), "device 1 was kept");
        assert_eq!(c.len(), 2);
        let two = c.client_at(t0 + Duration::from_secs(5), alice(), None, device(2), make(&device(2)));
        assert_eq!(two.config().host, "127.1.0.2");
        assert_eq!(c.len(), 2, "still bounded");
    }

    #[test]
    fn disabled_keeps_nothing() {
        let c = DeviceClients::disabled();
        let d = device(7);
        let a = c.client(alice(), None, d.clone(), make(&d));
        let b = c.client(alice(), None, d.clone(), make(&d));
        assert!(!Arc::ptr_eq(&a, &b));
        assert!(c.is_empty());
    }
}
