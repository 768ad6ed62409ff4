//! `AMT_MessageLog` platform event records: 21 bytes each (§2.4), decoded into
//! [`EventRecord`] with a plain-language description of the common events.
//!
//! Layout: timestamp (u32 LE, seconds since 1970), device address, sensor type, event type,
//! event offset, source type, severity, sensor number, entity, entity instance, 8 data bytes.
//! Descriptions follow the IPMI/PET tables MeshCommander uses; unknown events get a generic
//! description naming their numbers.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

/// Errors decoding an event record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventRecordError {
    /// Not valid base64.
    #[error("event record is not valid base64")]
    BadBase64,
    /// Not 21 bytes.
    #[error("event record has {0} bytes, expected 21")]
    BadLength(usize),
}

/// One decoded event record (serde for device state snapshots, e.g. the simulator's).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EventRecord {
    /// Seconds since 1970 (MC treats it as local-offset time).
    pub timestamp: u32,
    /// Device address.
    pub device_address: u8,
    /// IPMI sensor type (6 = authentication, 15 = firmware progress/error, …).
    pub event_sensor_type: u8,
    /// Event/reading type (0x6F = sensor specific).
    pub event_type: u8,
    /// Event offset.
    pub event_offset: u8,
    /// Source type.
    pub event_source_type: u8,
    /// PET severity bits.
    pub event_severity: u8,
    /// Sensor number.
    pub sensor_number: u8,
    /// IPMI entity.
    pub entity: u8,
    /// Entity instance.
    pub entity_instance: u8,
    /// Event data.
    pub event_data: [u8; 8],
}

const PROGRESS: [&str; 26] = [
    "Unspecified",
    "Memory initialization",
    "Starting hard-disk initialization and test",
    "Secondary processor initialization",
    "User authentication",
    "User-initiated system setup",
    "USB resource configuration",
    "PCI resource configuration",
    "Option ROM initialization",
    "Video initialization",
    "Cache initialization",
    "SMBus initialization",
    "Keyboard controller initialization",
    "Embedded controller/management controller initialization",
    "Docking station attachment",
    "Enabling docking station",
    "Docking station ejection",
    "Disabling docking station",
    "Calling operating system wake-up vector",
    "Starting operating system boot process",
    "Baseboard or motherboard initialization",
    "Reserved",
    "Floppy initialization",
    "Keyboard test",
    "Pointing device test",
    "Primary processor initialization",
];

const FIRMWARE_ERRORS: [&str; 14] = [
    "Unspecified",
    "No system memory is installed",
    "No usable system memory",
    "Unrecoverable hard-disk failure",
    "Unrecoverable system-board failure",
    "Unrecoverable diskette failure",
    "Unrecoverable hard-disk controller failure",
    "Unrecoverable keyboard failure",
    "Removable boot media not found",
    "Unrecoverable video controller failure",
    "No video device detected",
    "Firmware (BIOS) ROM corruption detected",
    "CPU voltage mismatch",
    "CPU speed matching failure",
];

/// IPMI sensor type 22h (System ACPI Power State) offsets.
const ACPI_STATES: [&str; 15] = [
    "S0/G0 working",
    "S1 sleeping, context kept",
    "S2 sleeping, processor context lost",
    "S3 sleeping (suspend to RAM)",
    "S4 hibernating (suspend to disk)",
    "S5/G2 soft off",
    "S4/S5 soft off",
    "G3 mechanical off",
    "sleeping in S1, S2 or S3",
    "G1 sleeping",
    "S5 entered by override",
    "legacy on",
    "legacy off",
    "unspecified",
    "unknown",
];

impl EventRecord {
    /// Size of a record.
    pub const LEN: usize = 21;

    /// Decodes 21 bytes.
    pub fn from_bytes(b: &[u8]) -> Result<Self, EventRecordError> {
        let b: &[u8; 21] = b.try_into().map_err(|_| EventRecordError::BadLength(b.len()))?;
        let mut event_data = [0u8; 8];
        event_data.copy_from_slice(&b[13..21]);
        Ok(EventRecord {
            timestamp: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            device_address: b[4],
            event_sensor_type: b[5],
            event_type: b[6],
            event_offset: b[7],
            event_source_type: b[8],
            event_severity: b[9],
            sensor_number: b[10],
            entity: b[11],
            entity_instance: b[12],
            event_data,
        })
    }

    /// Decodes one base64 `RecordArray` item.
    pub fn from_base64(s: &str) -> Result<Self, EventRecordError> {
        let b = B64.decode(s.trim()).map_err(|_| EventRecordError::BadBase64)?;
        Self::from_bytes(&b)
    }

    /// Encodes to 21 bytes (device side).
    pub fn to_bytes(&self) -> [u8; 21] {
        let mut b = [0u8; 21];
        b[0..4].copy_from_slice(&self.timestamp.to_le_bytes());
        b[4] = self.device_address;
        b[5] = self.event_sensor_type;
        b[6] = self.event_type;
        b[7] = self.event_offset;
        b[8] = self.event_source_type;
        b[9] = self.event_severity;
        b[10] = self.sensor_number;
        b[11] = self.entity;
        b[12] = self.entity_instance;
        b[13..21].copy_from_slice(&self.event_data);
        b
    }

    /// Encodes to base64 (device side).
    pub fn to_base64(&self) -> String {
        B64.encode(self.to_bytes())
    }

    /// The time as a UTC datetime.
    pub fn time(&self) -> Option<time::OffsetDateTime> {
        time::OffsetDateTime::from_unix_timestamp(i64::from(self.timestamp)).ok()
    }

    /// Plain-language severity.
    pub fn severity_name(&self) -> &'static str {
        match self.event_severity {
            0x01 => "Monitor",
            0x02 => "Information",
            0x04 => "OK",
            0x08 => "Non-critical",
            0x10 => "Critical",
            0x20 => "Non-recoverable",
            _ => "Unspecified",
        }
    }

    /// Plain-language name of the entity (IPMI entity IDs).
    pub fn entity_name(&self) -> &'static str {
        match self.entity {
            0x03 => "Processor",
            0x07 => "System board",
            0x08 => "Memory module",
            0x0A => "Power supply",
            0x11 => "Add-in card",
            0x17 => "System chassis",
            0x20 => "Memory device",
            0x22 => "BIOS",
            0x23 => "Operating system",
            0x26 => "Intel AMT (management controller)",
            _ => "Unspecified",
        }
    }

    /// Plain-language description of the event.
    pub fn description(&self) -> String {
        let d = &self.event_data;
        match (self.event_sensor_type, self.event_type, self.event_offset) {
            (6, _, _) => format!(
                "Authentication failed {} times. The system may be under attack.",
                u16::from(d[1]) | (u16::from(d[2]) << 8)
            ),
            (15, 0x6F, 0) => format!(
                "System firmware error: {}",
                FIRMWARE_ERRORS
                    .get(usize::from(d[1]))
                    .copied()
                    .unwrap_or("unknown error")
            ),
            (15, 0x6F, 2) => format!(
                "System firmware progress: {}",
                PROGRESS.get(usize::from(d[1])).copied().unwrap_or("unknown step")
            ),
            (15, 0x6F, 1) => "System firmware hang".to_owned(),
            (30, _, _) => "No bootable media".to_owned(),
            (32, _, _) => "Operating system lockup or power interrupt".to_owned(),
            (35, _, _) => "System boot failure".to_owned(),
            (37, _, _) => "System firmware started (at least one CPU is properly executing)".to_owned(),
            (0x22, _, o) => format!(
                "System power state: {}",
                ACPI_STATES.get(usize::from(o)).copied().unwrap_or("unknown")
            ),
            (s, t, o) => format!("Event: sensor type {s}, event type {t:#04x}, offset {o}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_records() {
        let r = EventRecord::from_base64("Y8iYZf8GbwVoEP8mYaoKAAAAAAAA").expect("decodes");
        assert_eq!(r.timestamp, 0x6598_C863);
        assert_eq!(r.event_sensor_type, 6);
        assert_eq!(r.entity, 0x26);
        assert_eq!(r.severity_name(), "Critical");
        assert_eq!(
            r.description(),
            "Authentication failed 10 times. The system may be under attack."
        );
        assert_eq!(r.to_base64(), "Y8iYZf8GbwVoEP8mYaoKAAAAAAAA");
        let p = EventRecord::from_base64("IgYBZf8PbwJoAf8iAEAHAAAAAAAA").expect("decodes");
        assert_eq!(p.description(), "System firmware progress: PCI resource configuration");
        assert_eq!(p.entity_name(), "BIOS");
        let mut off = p.clone();
        (off.event_sensor_type, off.event_offset) = (0x22, 5);
        assert_eq!(off.description(), "System power state: S5/G2 soft off");
        assert!(EventRecord::from_bytes(&[0; 20]).is_err());
        assert!(EventRecord::from_base64("%%").is_err());
    }
}
