//! The device page: status and inventory, event and audit logs, clock, and what the user may
//! do, each read as the signed-in user. Every part either holds what the device answered or
//! says why it could not be read ("not allowed: needs the Hardware Asset realm"), so one
//! refused read never fails the page.

use serde::{Deserialize, Serialize};

use crate::devices::{DeviceRow, PowerView};

/// One part of the page, read with one realm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Part<T> {
    /// The device answered.
    Ok(T),
    /// The device refused: none of the user's ACL entries grants `realm`.
    NotAllowed {
        /// The realm the read needs ("Hardware Asset").
        realm: String,
        /// The sentence shown in place of the part.
        message: String,
    },
    /// Another problem (timeout, unreadable answer, not on this firmware generation).
    Failed {
        /// The sentence shown in place of the part.
        message: String,
    },
}

impl<T> Part<T> {
    /// The value, when the device answered.
    pub fn ok(&self) -> Option<&T> {
        match self {
            Part::Ok(t) => Some(t),
            _ => None,
        }
    }

    /// Whether the read was allowed: `Some(true)` answered, `Some(false)` refused for lack of
    /// the realm, `None` unknown (another error).
    pub fn allowed(&self) -> Option<bool> {
        match self {
            Part::Ok(_) => Some(true),
            Part::NotAllowed { .. } => Some(false),
            Part::Failed { .. } => None,
        }
    }
}

/// System, BIOS, processors, memory and network (Hardware Asset realm).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hardware {
    /// Chassis manufacturer.
    pub manufacturer: String,
    /// Chassis model.
    pub model: String,
    /// Chassis serial number.
    pub serial: String,
    /// Platform GUID, dashed, as consoles print it.
    pub platform_guid: String,
    /// BIOS vendor.
    pub bios_vendor: String,
    /// BIOS version.
    pub bios_version: String,
    /// BIOS release date (`2020-08-10`).
    pub bios_date: String,
    /// Processors.
    pub processors: Vec<Processor>,
    /// Memory modules.
    pub memory: Vec<MemoryModule>,
    /// Network interfaces AMT manages.
    pub network: Vec<Nic>,
}

/// One processor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Processor {
    /// Socket or id (`CPU 0`).
    pub id: String,
    /// Maximum speed in MHz.
    pub max_mhz: Option<u32>,
    /// Current speed in MHz.
    pub current_mhz: Option<u32>,
    /// Stepping.
    pub stepping: String,
}

/// One memory module.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryModule {
    /// Bank label.
    pub bank: String,
    /// Capacity in bytes.
    pub capacity_bytes: Option<u64>,
    /// Speed in MHz.
    pub speed_mhz: Option<u32>,
    /// Manufacturer (JEDEC code or name).
    pub manufacturer: String,
    /// Part number.
    pub part_number: String,
    /// Serial number.
    pub serial: String,
}

/// One network interface.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nic {
    /// "wired" or "wireless".
    pub kind: String,
    /// MAC address, `c8:d9:…`.
    pub mac: String,
    /// IP address, when AMT reports one.
    pub ip: String,
    /// DHCP on.
    pub dhcp: Option<bool>,
    /// Link up.
    pub link_up: Option<bool>,
}

/// Firmware, provisioning and names (General Info realm).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct General {
    /// AMT firmware version.
    pub amt_version: String,
    /// Firmware build number.
    pub build: String,
    /// Provisioning state in words.
    pub provisioning_state: String,
    /// Control mode in words (Admin / Client Control Mode), when the firmware reports it.
    pub control_mode: String,
    /// AMT's host name.
    pub host_name: String,
    /// AMT's domain name.
    pub domain_name: String,
}

/// The device clock against the portal's (Network Time realm).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockView {
    /// Device time, RFC 3339 UTC.
    pub device_time: String,
    /// Portal time when read, RFC 3339 UTC.
    pub portal_time: String,
    /// Device minus portal, seconds.
    pub offset_secs: i64,
}

impl ClockView {
    /// How serious the offset is.
    pub fn severity(&self) -> ClockSeverity {
        clock_severity(self.offset_secs)
    }
}

/// How much a clock offset matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClockSeverity {
    /// Within a minute.
    Fine,
    /// Over a minute, within the Kerberos tolerance.
    Drifting,
    /// Beyond 5 minutes: Kerberos sign-in to the device fails.
    Broken,
}

/// Classifies a clock offset (seconds).
pub fn clock_severity(offset_secs: i64) -> ClockSeverity {
    let a = offset_secs.unsigned_abs();
    if a > crate::MAX_CLOCK_SKEW_SECS.unsigned_abs() {
        ClockSeverity::Broken
    } else if a > 60 {
        ClockSeverity::Drifting
    } else {
        ClockSeverity::Fine
    }
}

/// An offset in words: "15 min 0 s ahead", "3 s behind", "in step".
pub fn describe_offset(offset_secs: i64) -> String {
    if offset_secs == 0 {
        return "in step".into();
    }
    let a = offset_secs.unsigned_abs();
    let (h, m, s) = (a / 3600, (a % 3600) / 60, a % 60);
    let amount = if h > 0 {
        format!("{h} h {m} min")
    } else if m > 0 {
        format!("{m} min {s} s")
    } else {
        format!("{s} s")
    };
    format!("{amount} {}", if offset_secs > 0 { "ahead" } else { "behind" })
}

/// One event log record in plain words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventEntry {
    /// RFC 3339 UTC (device clock).
    pub time: String,
    /// Severity in words.
    pub severity: String,
    /// What reported it (BIOS, processor, …).
    pub source: String,
    /// What happened.
    pub description: String,
}

/// One audit log record in plain words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// RFC 3339 UTC (device clock).
    pub time: String,
    /// What happened ("Power Cycle", "Firmware Updated from … to …").
    pub event: String,
    /// Who: an AD account name, a Digest user, or the SID when the directory does not know it.
    pub initiator: String,
    /// The initiator's SID, for Kerberos initiators.
    pub initiator_sid: Option<String>,
    /// The address it came from.
    pub address: String,
}

/// The newest audit records and how many the device holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLogView {
    /// Records in the device's log.
    pub total: u32,
    /// The newest records, newest first.
    pub entries: Vec<AuditEntry>,
}

/// One thing the user may or may not do on the device, known from the page's reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Right {
    /// Stable id (`remote-control`, `network-time`, …).
    pub id: String,
    /// The realm.
    pub realm: String,
    /// What it allows, in words.
    pub what: String,
    /// `Some(true)` granted, `Some(false)` refused, `None` not known (the read failed otherwise).
    pub allowed: Option<bool>,
}

/// Everything the device page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceDetails {
    /// The device.
    pub device: DeviceRow,
    /// How the portal authenticated as the user.
    pub acting_as: String,
    /// Power state and the actions offered (Remote Control realm).
    pub power: Part<PowerView>,
    /// System, BIOS, CPU, memory, network (Hardware Asset realm).
    pub hardware: Part<Hardware>,
    /// Firmware, provisioning, names (General Info realm).
    pub general: Part<General>,
    /// Clock (Network Time realm).
    pub clock: Part<ClockView>,
    /// Event log, newest first (Event Log Reader realm).
    pub events: Part<Vec<EventEntry>>,
    /// Audit log (Audit Log realm).
    pub audit: Part<AuditLogView>,
    /// What the user may do here.
    pub rights: Vec<Right>,
}

impl DeviceDetails {
    /// The right with this id, if listed.
    pub fn right(&self, id: &str) -> Option<&Right> {
        self.rights.iter().find(|r| r.id == id)
    }
}

/// Realm names, as AMT documents them.
pub mod realms {
    /// Power and boot control.
    pub const REMOTE_CONTROL: &str = "Remote Control";
    /// Inventory.
    pub const HARDWARE_ASSET: &str = "Hardware Asset";
    /// Firmware and provisioning facts.
    pub const GENERAL_INFO: &str = "General Info";
    /// Device clock.
    pub const NETWORK_TIME: &str = "Network Time";
    /// Event log.
    pub const EVENT_LOG_READER: &str = "Event Log Reader";
    /// Audit log.
    pub const AUDIT_LOG: &str = "Audit Log";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_in_words_and_severity() {
        assert_eq!(describe_offset(0), "in step");
        assert_eq!(describe_offset(900), "15 min 0 s ahead");
        assert_eq!(describe_offset(-3), "3 s behind");
        assert_eq!(describe_offset(3700), "1 h 1 min ahead");
        assert_eq!(clock_severity(30), ClockSeverity::Fine);
        assert_eq!(clock_severity(-120), ClockSeverity::Drifting);
        assert_eq!(clock_severity(300), ClockSeverity::Drifting);
        assert_eq!(clock_severity(301), ClockSeverity::Broken);
        assert_eq!(clock_severity(-900), ClockSeverity::Broken);
    }

    #[test]
    fn part_allowed() {
        assert_eq!(Part::Ok(1).allowed(), Some(true));
        let no: Part<u8> = Part::NotAllowed {
            realm: "Network Time".into(),
            message: String::new(),
        };
        assert_eq!(no.allowed(), Some(false));
        assert_eq!(Part::<u8>::Failed { message: String::new() }.allowed(), None);
    }
}
