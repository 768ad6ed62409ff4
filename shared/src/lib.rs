//! Types shared by the browser and the server. Serde only: this crate must build for
//! `wasm32-unknown-unknown`, so nothing here touches sockets, files, GSSAPI or SQL.

pub mod ad;
pub mod admin_mode;
pub mod audit;
pub mod console;
pub mod details;
pub mod devices;
pub mod fleet;
pub mod health;
pub mod me;
pub mod profiles;
pub mod provision;

pub use admin_mode::AdminModeView;
pub use audit::{AuditFilter, AuditPage, AuditRow};
pub use console::{ConsoleEvent, ConsoleState};
pub use details::{DeviceDetails, Part};
pub use devices::{BootTarget, DeviceOutcome, DeviceRow, PowerAction, PowerView};
pub use fleet::{
    BulkReport, BulkResult, DiscoveryView, FleetPage, FleetQuery, FleetRow, Health, HealthCounts, MAX_BULK,
    MAX_PAGE_SIZE, NewDeviceForm, RefreshProgress, SortKey,
};
pub use health::{CheckFamily, Finding, HealthReport, HealthSubject, Severity};
pub use me::{AdGroup, DelegationView, KerberosView, Me, SignInMethod};

/// AMT firmware of generations 2 to 5 refuses HTTP Negotiate tokens longer than this, measured
/// in base64 characters (Intel vPro Expert blog, 2009; deployment guide: "4 KB").
pub const AMT_OLD_FIRMWARE_TOKEN_LIMIT: usize = 4096;

/// Kerberos and AMT tolerate at most this clock difference, in seconds.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// A UTC RFC 3339 time (`2026-11-25T14:17:46Z`) as people read it: `2026-11-25 14:17 UTC`.
/// Anything else is returned unchanged.
pub fn human_time(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(date), Some(hm)) if rfc3339.ends_with('Z') && rfc3339.as_bytes().get(10) == Some(&b'T') => {
            format!("{date} {hm} UTC")
        }
        _ => rfc3339.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn human_time() {
        assert_eq!(super::human_time("2026-11-25T14:17:46Z"), "2026-11-25 14:17 UTC");
        assert_eq!(super::human_time("yesterday"), "yesterday");
    }
}
