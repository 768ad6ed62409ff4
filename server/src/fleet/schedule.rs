//! Starting fleet checks: on a schedule (`PORTAL_POLL_MINUTES`), when a user asks, and for a
//! few devices right after a bulk action. All run in the background under the portal's own
//! Kerberos identity; one full refresh at a time.

use std::sync::Arc;
use std::time::Duration;

use shared::RefreshProgress;

use super::poll::{self, AuthFor, PollSettings};
use crate::AppState;
use crate::device_access::portal_auth;

impl AppState {
    fn poll_auth(&self) -> Result<AuthFor, String> {
        let svc = self.service_identity.clone().ok_or_else(|| {
            format!(
                "the portal has no Kerberos identity of its own (its keytab has no usable key for {}), so it cannot check devices in the background",
                self.config.service_principal
            )
        })?;
        Ok(Arc::new(move |_| portal_auth(svc.clone())))
    }

    fn poll_settings(&self) -> PollSettings {
        PollSettings {
            concurrency: self.config.poll_concurrency,
            timeout: self.config.device_timeout,
        }
    }

    /// Starts a refresh of every registered device unless one is running; returns the progress
    /// of the refresh that now runs (the new one, or the one already under way).
    pub async fn refresh_fleet(&self, started_by: &str) -> Result<RefreshProgress, String> {
        let auth = self.poll_auth()?;
        let fleet = self.fleet.clone();
        let devices = fleet
            .devices(&self.pool)
            .await
            .map_err(|e| format!("the device registry could not be read: {e}"))?;
        match fleet.begin_refresh(devices.len(), started_by) {
            Some(job) => {
                tracing::info!(devices = devices.len(), started_by, "fleet refresh started");
                let progress = job.progress();
                tokio::spawn(poll::refresh(fleet, devices, auth, self.poll_settings(), job));
                Ok(progress)
            }
            None => fleet.progress().ok_or_else(|| "no refresh is known".to_string()),
        }
    }

    /// Re-checks `ids` in the background (after actions changed their power state).
    pub fn recheck(&self, ids: Vec<i64>) {
        let Ok(auth) = self.poll_auth() else { return };
        let state = self.clone();
        tokio::spawn(async move {
            let Ok(all) = state.fleet.devices(&state.pool).await else {
                return;
            };
            let wanted: Arc<Vec<_>> = Arc::new(all.iter().filter(|d| ids.contains(&d.id)).cloned().collect());
            let job = Arc::new(super::RefreshJob::new(wanted.len(), "re-check after an action"));
            poll::refresh(state.fleet.clone(), wanted, auth, state.poll_settings(), job).await;
        });
    }

    /// Checks the whole fleet now and then every `PORTAL_POLL_MINUTES` (not at all when 0).
    pub fn spawn_fleet_poller(&self) {
        let minutes = self.config.poll_minutes;
        if minutes == 0 {
            tracing::info!("scheduled fleet checks are off (PORTAL_POLL_MINUTES=0)");
            return;
        }
        let state = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(minutes * 60));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = state.refresh_fleet("scheduled").await {
                    tracing::warn!(error = %e, "scheduled fleet check not started");
                }
            }
        });
    }
}
