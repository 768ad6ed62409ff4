//! The fleet as the UI shows it: one row per registered device with its last known status,
//! the query the list is asked with (search, filter, sort, page), refresh progress and the
//! per-device results of a bulk action.

use serde::{Deserialize, Serialize};

use crate::devices::{DeviceOutcome, PowerAction};

/// A device's health at a glance: the one word the fleet picture and the filter use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Health {
    /// Running (S0).
    On,
    /// Off (soft or hard), and AMT answers.
    Off,
    /// AMT answers but the power state could not be read (e.g. a realm is missing).
    Reachable,
    /// AMT did not answer (refused, timed out, no route).
    Unreachable,
    /// AMT answered something the portal could not use (garbage, HTTP 500, refusal).
    Error,
    /// Not checked yet.
    Unknown,
}

impl Health {
    /// Every value, in the order of the fleet picture.
    pub const ALL: [Health; 6] = [
        Health::On,
        Health::Off,
        Health::Reachable,
        Health::Unreachable,
        Health::Error,
        Health::Unknown,
    ];

    /// Label for people.
    pub fn label(self) -> &'static str {
        match self {
            Health::On => "On",
            Health::Off => "Off",
            Health::Reachable => "Reachable, power unknown",
            Health::Unreachable => "Unreachable",
            Health::Error => "Error",
            Health::Unknown => "Not checked yet",
        }
    }

    /// Stable id (CSS classes, element ids, URLs).
    pub fn id(self) -> &'static str {
        match self {
            Health::On => "on",
            Health::Off => "off",
            Health::Reachable => "reachable",
            Health::Unreachable => "unreachable",
            Health::Error => "error",
            Health::Unknown => "unknown",
        }
    }

    /// The value for an [`Health::id`].
    pub fn from_id(id: &str) -> Option<Health> {
        Health::ALL.into_iter().find(|h| h.id() == id)
    }
}

/// One row of the fleet list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetRow {
    /// Registry id.
    pub id: i64,
    /// FQDN.
    pub fqdn: String,
    /// Site.
    pub site: String,
    /// Tags, comma-separated.
    pub tags: String,
    /// Health at a glance.
    pub health: Health,
    /// Power state in words ("On (S0)"), when read.
    pub power: Option<String>,
    /// AMT firmware version, when read.
    pub amt_version: Option<String>,
    /// Control mode in words, when read.
    pub control_mode: Option<String>,
    /// The last error, in words, when the last check failed.
    pub error: Option<String>,
    /// When the device was last checked (RFC 3339 UTC).
    pub checked_at: Option<String>,
}

/// Columns the fleet list can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SortKey {
    /// FQDN.
    #[default]
    Name,
    /// Site, then FQDN.
    Site,
    /// Health, then FQDN.
    Health,
    /// AMT version (numerically), then FQDN.
    AmtVersion,
    /// Last check time, then FQDN.
    CheckedAt,
}

impl SortKey {
    /// Every key, in column order.
    pub const ALL: [SortKey; 5] = [
        SortKey::Name,
        SortKey::Health,
        SortKey::AmtVersion,
        SortKey::Site,
        SortKey::CheckedAt,
    ];

    /// Column header.
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Name => "Device",
            SortKey::Site => "Site",
            SortKey::Health => "State",
            SortKey::AmtVersion => "AMT",
            SortKey::CheckedAt => "Checked",
        }
    }

    /// Stable id.
    pub fn id(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Site => "site",
            SortKey::Health => "health",
            SortKey::AmtVersion => "amt",
            SortKey::CheckedAt => "checked",
        }
    }
}

/// Largest page the fleet list serves.
pub const MAX_PAGE_SIZE: u32 = 500;

/// Most devices one bulk action may touch.
pub const MAX_BULK: usize = 500;

/// What the fleet list asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetQuery {
    /// Words that must all appear in the FQDN, site, tags, AMT version or last error
    /// (case-insensitive).
    pub search: String,
    /// Only devices in this state.
    pub health: Option<Health>,
    /// Sort column.
    pub sort: SortKey,
    /// Descending order.
    pub descending: bool,
    /// Page number, from 0.
    pub page: u32,
    /// Rows per page (1 to [`MAX_PAGE_SIZE`]).
    pub page_size: u32,
}

impl Default for FleetQuery {
    fn default() -> Self {
        FleetQuery {
            search: String::new(),
            health: None,
            sort: SortKey::Name,
            descending: false,
            page: 0,
            page_size: 100,
        }
    }
}

/// How many devices are in each state (the fleet picture).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCounts {
    /// Pairs of state and count, in [`Health::ALL`] order, zeros included.
    pub counts: Vec<(Health, usize)>,
}

impl HealthCounts {
    /// The count for `h`.
    pub fn get(&self, h: Health) -> usize {
        self.counts.iter().find(|(k, _)| *k == h).map(|(_, n)| *n).unwrap_or(0)
    }
}

/// Progress of a fleet refresh.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshProgress {
    /// Whether it is still running.
    pub running: bool,
    /// Devices to check.
    pub total: usize,
    /// Devices checked so far.
    pub done: usize,
    /// Of those, how many failed.
    pub failed: usize,
    /// Started at (RFC 3339 UTC).
    pub started_at: String,
    /// Finished at, when done.
    pub finished_at: Option<String>,
    /// Who started it ("scheduled" or a principal).
    pub started_by: String,
}

/// One page of the fleet list, with the numbers around it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetPage {
    /// The rows of this page.
    pub rows: Vec<FleetRow>,
    /// Registered devices in all.
    pub total: usize,
    /// Devices matching the query (before paging).
    pub matching: usize,
    /// The page served (clamped to the last page).
    pub page: u32,
    /// Rows per page served.
    pub page_size: u32,
    /// States of the whole fleet (not only the matching rows).
    pub counts: HealthCounts,
    /// The current or last refresh.
    pub refresh: Option<RefreshProgress>,
    /// Whether the user may change the registry (member of an admin group), so the UI offers it.
    pub can_manage: bool,
    /// Whether discovery from Active Directory is configured (an OU is set).
    pub discovery_configured: bool,
}

/// A device typed into the "Add a device" form (validated on the server).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDeviceForm {
    /// FQDN, as in the device's SPNs.
    pub fqdn: String,
    /// Address to connect to (empty: the FQDN).
    pub address: String,
    /// WS-Management port (empty: 16992, or 16993 with TLS).
    pub port: String,
    /// TLS on.
    pub tls: bool,
    /// Site.
    pub site: String,
    /// Tags, comma-separated.
    pub tags: String,
}

/// What discovering devices from the Active Directory OU found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoveryView {
    /// The OU searched.
    pub ou: String,
    /// Computer objects with HTTP SPNs found there.
    pub found: usize,
    /// Newly registered devices.
    pub added: usize,
    /// Devices already registered (left as they were).
    pub known: usize,
    /// Objects that could not be used: (distinguished name, reason).
    pub rejected: Vec<(String, String)>,
}

/// The result of a bulk power action on one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkResult {
    /// Registry id.
    pub id: i64,
    /// FQDN (or the id in words when the device is unknown).
    pub fqdn: String,
    /// What happened.
    pub outcome: DeviceOutcome<String>,
}

/// A bulk power action's results, device by device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkReport {
    /// The action.
    pub action: PowerAction,
    /// One result per requested device, in the order asked.
    pub results: Vec<BulkResult>,
}

impl BulkReport {
    /// How many succeeded.
    pub fn succeeded(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, DeviceOutcome::Ok(_)))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_ids_round_trip() {
        for h in Health::ALL {
            assert_eq!(Health::from_id(h.id()), Some(h));
        }
        assert_eq!(Health::from_id("nonsense"), None);
    }
}
