//! The fleet: every registered device with its last known status, kept in memory so the list
//! answers searches over 10,000 devices without touching the database, and refreshed by a
//! background job with bounded concurrency.
//!
//! - [`query`]: search, filter, sort and paging (pure functions).
//! - [`poll`]: checking one device and refreshing many, with progress.
//! - `schedule`: when refreshes start (timer, user request, after bulk actions).
//! - `discovery`: new devices from the AD OU's computer objects.
//!
//! The registry (SQLite) stays the only source of device addresses: the in-memory copy is
//! reloaded whenever another process (such as `amt-portal import-devices`) changed the
//! database (`PRAGMA data_version`), and after the portal's own registry changes.
//!
//! Background checks run under the portal's own Kerberos identity (its service account, which
//! a device's ACL grants read realms); they only ever read. Every action and every view of
//! logs or inventory runs as the signed-in user ([`crate::device_access`]).

mod discovery;
pub mod poll;
pub mod query;
mod schedule;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use shared::{FleetPage, FleetQuery, FleetRow, Health, RefreshProgress};
use sqlx::SqlitePool;

use crate::registry::Device;

/// What the last check of a device found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceStatus {
    /// Health at a glance.
    pub health: Health,
    /// Power state in words.
    pub power: Option<String>,
    /// AMT firmware version.
    pub amt_version: Option<String>,
    /// Control mode in words.
    pub control_mode: Option<String>,
    /// The error, in words, when the check failed.
    pub error: Option<String>,
    /// When (RFC 3339 UTC).
    pub checked_at: String,
}

/// A running or finished refresh: counters the UI polls.
#[derive(Debug)]
pub struct RefreshJob {
    running: AtomicBool,
    total: usize,
    done: AtomicUsize,
    failed: AtomicUsize,
    started_at: String,
    started_by: String,
    finished_at: Mutex<Option<String>>,
}

impl RefreshJob {
    fn new(total: usize, started_by: &str) -> Self {
        RefreshJob {
            running: AtomicBool::new(true),
            total,
            done: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            started_at: now_rfc3339(),
            started_by: started_by.to_string(),
            finished_at: Mutex::new(None),
        }
    }

    /// Counts one checked device.
    fn tick(&self, failed: bool) {
        self.done.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn finish(&self) {
        *self.finished_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(now_rfc3339());
        self.running.store(false, Ordering::Release);
    }

    /// Whether it still runs.
    pub fn running(&self) -> bool {
        self.running.load(Ordering::Acquire)
    }

    /// A snapshot for the UI.
    pub fn progress(&self) -> RefreshProgress {
        RefreshProgress {
            running: self.running(),
            total: self.total,
            done: self.done.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            started_at: self.started_at.clone(),
            finished_at: self.finished_at.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            started_by: self.started_by.clone(),
        }
    }
}

/// The current time, RFC 3339 UTC, to the second.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// The registry and the status of every device, in memory.
#[derive(Default)]
pub struct Fleet {
    devices: RwLock<Arc<Vec<Device>>>,
    /// `PRAGMA data_version` when `devices` was loaded (another process's commit changes it).
    loaded_version: Mutex<Option<i64>>,
    status: RwLock<HashMap<i64, DeviceStatus>>,
    job: Mutex<Option<Arc<RefreshJob>>>,
}

impl Fleet {
    /// Reloads the registry from the database now.
    pub async fn reload(&self, pool: &SqlitePool) -> Result<(), sqlx::Error> {
        let version: i64 = sqlx::query_scalar("PRAGMA data_version").fetch_one(pool).await?;
        let devices = crate::registry::list(pool).await?;
        let ids: std::collections::HashSet<i64> = devices.iter().map(|d| d.id).collect();
        self.status
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|id, _| ids.contains(id));
        *self.devices.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(devices);
        *self.loaded_version.lock().unwrap_or_else(|p| p.into_inner()) = Some(version);
        Ok(())
    }

    /// The registry, reloaded first if another process changed the database since.
    pub async fn devices(&self, pool: &SqlitePool) -> Result<Arc<Vec<Device>>, sqlx::Error> {
        let version: i64 = sqlx::query_scalar("PRAGMA data_version").fetch_one(pool).await?;
        let loaded = *self.loaded_version.lock().unwrap_or_else(|p| p.into_inner());
        if loaded != Some(version) {
            self.reload(pool).await?;
        }
        Ok(self.devices.read().unwrap_or_else(|p| p.into_inner()).clone())
    }

    /// Records the result of checking device `id`.
    pub fn set_status(&self, id: i64, status: DeviceStatus) {
        self.status
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, status);
    }

    /// The last status of device `id`.
    pub fn status(&self, id: i64) -> Option<DeviceStatus> {
        self.status.read().unwrap_or_else(|p| p.into_inner()).get(&id).cloned()
    }

    /// Every device as a list row.
    pub fn rows(&self, devices: &[Device]) -> Vec<FleetRow> {
        let status = self.status.read().unwrap_or_else(|p| p.into_inner());
        devices
            .iter()
            .map(|d| {
                let s = status.get(&d.id);
                FleetRow {
                    id: d.id,
                    fqdn: d.fqdn.clone(),
                    site: d.site.clone(),
                    tags: d.tags.clone(),
                    health: s.map(|s| s.health).unwrap_or(Health::Unknown),
                    power: s.and_then(|s| s.power.clone()),
                    amt_version: s.and_then(|s| s.amt_version.clone()),
                    control_mode: s.and_then(|s| s.control_mode.clone()),
                    error: s.and_then(|s| s.error.clone()),
                    checked_at: s.map(|s| s.checked_at.clone()),
                }
            })
            .collect()
    }

    /// One page of the list for `q`, with the refresh's progress.
    pub async fn page(&self, pool: &SqlitePool, q: &FleetQuery) -> Result<FleetPage, sqlx::Error> {
        let devices = self.devices(pool).await?;
        Ok(self.page_of(&devices, q))
    }

    /// One page of `devices` for `q`, with the refresh's progress.
    pub fn page_of(&self, devices: &[Device], q: &FleetQuery) -> FleetPage {
        let mut page = query::run(&self.rows(devices), q);
        page.refresh = self.progress();
        page
    }

    /// The current or last refresh.
    pub fn progress(&self) -> Option<RefreshProgress> {
        self.job
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|j| j.progress())
    }

    /// Starts a refresh job for `total` devices unless one is running; returns the new job, or
    /// `None` when one was already running (its progress is what callers then show).
    pub fn begin_refresh(&self, total: usize, started_by: &str) -> Option<Arc<RefreshJob>> {
        let mut job = self.job.lock().unwrap_or_else(|p| p.into_inner());
        if job.as_ref().is_some_and(|j| j.running()) {
            return None;
        }
        let j = Arc::new(RefreshJob::new(total, started_by));
        *job = Some(j.clone());
        Some(j)
    }
}
