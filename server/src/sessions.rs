//! Sessions in memory: the store behind tower-sessions' layer.
//!
//! A session holds only ids and names (who signed in, their group SIDs, the handle of the
//! delegated credential); the credential itself already lives in memory only, so a restart
//! already meant signing in again. Keeping sessions in memory too takes two SQLite writes off
//! every sign-in (docs/BENCHMARKS.md). Expired sessions are never returned and are swept every
//! minute ([`spawn_sweeper`]); the console checks [`Sessions::alive`] to close when its session ends.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// Live sessions by id, shared by the session layer, the console and the sweeper.
#[derive(Debug, Clone, Default)]
pub struct Sessions {
    map: Arc<Mutex<HashMap<Id, Record>>>,
}

impl Sessions {
    fn lock(&self) -> MutexGuard<'_, HashMap<Id, Record>> {
        // A panic while holding the lock leaves a consistent map (every change is one call).
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// True while the session `id` (the cookie's value) exists and has not expired.
    pub fn alive(&self, id: &str) -> bool {
        let Ok(id) = Id::from_str(id) else { return false };
        let now = OffsetDateTime::now_utc();
        self.lock().get(&id).is_some_and(|r| r.expiry_date > now)
    }

    /// Drops every expired session; returns how many.
    pub fn sweep(&self) -> usize {
        let now = OffsetDateTime::now_utc();
        let mut map = self.lock();
        let before = map.len();
        map.retain(|_, r| r.expiry_date > now);
        before - map.len()
    }

    /// How many sessions are held (expired ones not yet swept included).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait::async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let mut map = self.lock();
        // Ids are 128 random bits; a collision is still never allowed to join two sessions.
        while map.contains_key(&record.id) {
            record.id = Id::default();
        }
        map.insert(record.id, record.clone());
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.lock().insert(record.id, record.clone());
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = OffsetDateTime::now_utc();
        let mut map = self.lock();
        match map.get(id) {
            Some(r) if r.expiry_date > now => Ok(Some(r.clone())),
            Some(_) => {
                map.remove(id);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.lock().remove(id);
        Ok(())
    }
}

/// Sweeps expired sessions every minute.
pub fn spawn_sweeper(sessions: Sessions) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            let n = sessions.sweep();
            if n > 0 {
                tracing::debug!(dropped = n, "expired sessions dropped");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(expires_in: time::Duration) -> Record {
        Record {
            id: Id::default(),
            data: HashMap::from([(
                "user".to_string(),
                serde_json::json!({"principal": "alice@EXAMPLE.TEST"}),
            )]),
            expiry_date: OffsetDateTime::now_utc() + expires_in,
        }
    }

    #[tokio::test]
    async fn saved_sessions_load_until_they_expire_and_the_sweep_drops_only_expired_ones() {
        let s = Sessions::default();
        let mut live = record(time::Duration::hours(8));
        let mut dead = record(time::Duration::seconds(-1));
        s.create(&mut live).await.expect("create");
        s.create(&mut dead).await.expect("create");
        assert_eq!(s.len(), 2);

        let loaded = s.load(&live.id).await.expect("load").expect("a live session loads");
        assert_eq!(loaded.data, live.data);
        assert!(s.alive(&live.id.to_string()));
        assert!(!s.alive(&dead.id.to_string()), "an expired session is not alive");
        assert!(!s.alive("not an id"));

        assert_eq!(s.sweep(), 1, "only the expired session is swept");
        assert_eq!(s.len(), 1);
        assert!(s.load(&dead.id).await.expect("load").is_none());
        assert!(s.load(&live.id).await.expect("load").is_some());
    }

    #[tokio::test]
    async fn loading_an_expired_session_forgets_it() {
        let s = Sessions::default();
        let mut dead = record(time::Duration::seconds(-1));
        s.create(&mut dead).await.expect("create");
        assert!(s.load(&dead.id).await.expect("load").is_none());
        assert!(s.is_empty(), "an expired session is dropped when it is looked up");
    }

    #[tokio::test]
    async fn create_never_reuses_an_existing_id_and_delete_ends_the_session() {
        let s = Sessions::default();
        let mut a = record(time::Duration::hours(1));
        s.create(&mut a).await.expect("create");
        let mut b = record(time::Duration::hours(1));
        b.id = a.id;
        s.create(&mut b).await.expect("create");
        assert_ne!(a.id, b.id, "a colliding id is replaced");
        assert_eq!(s.len(), 2);

        // Saving (the layer does this when the expiry moves) updates in place.
        let mut later = a.clone();
        later.expiry_date += time::Duration::hours(1);
        s.save(&later).await.expect("save");
        assert_eq!(
            s.load(&a.id).await.expect("load").expect("a").expiry_date,
            later.expiry_date
        );

        s.delete(&a.id).await.expect("delete");
        assert!(!s.alive(&a.id.to_string()));
        assert!(s.alive(&b.id.to_string()));
    }
}
