//! `AMT_AuditLog` records (§2.5): big-endian integers, variable-length initiator, address and
//! extended data. [`AuditRecord`] decodes one record and names its application and event as
//! far as the notes give them (MC's table).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use crate::sid::Sid;

/// Errors decoding an audit record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditRecordError {
    /// Not valid base64.
    #[error("audit record is not valid base64")]
    BadBase64,
    /// The record ended early.
    #[error("audit record is truncated")]
    Truncated,
}

/// Who caused an audited event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Initiator {
    /// A Digest user.
    Digest(String),
    /// A Kerberos user (by SID).
    Kerberos {
        /// `UserInDomain` field.
        user_in_domain: u32,
        /// The SID, when the bytes are a valid SID.
        sid: Option<Sid>,
        /// The raw bytes.
        raw: Vec<u8>,
    },
    /// The local host.
    Local,
    /// KVM default port (MC's type 3).
    KvmDefaultPort,
    /// Another type.
    Other(u8),
}

/// One decoded audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Application ID (19 = Firmware Update Manager).
    pub app_id: u16,
    /// Event ID within the application.
    pub event_id: u16,
    /// Initiator.
    pub initiator: Initiator,
    /// Seconds since 1970.
    pub timestamp: u32,
    /// 0 IPv4, 1 IPv6, 2 none.
    pub mc_location_type: u8,
    /// Network address (ASCII).
    pub net_address: String,
    /// Extended data.
    pub extended_data: Vec<u8>,
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], AuditRecordError> {
        let end = self.pos.checked_add(n).ok_or(AuditRecordError::Truncated)?;
        let s = self.b.get(self.pos..end).ok_or(AuditRecordError::Truncated)?;
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, AuditRecordError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, AuditRecordError> {
        let s = self.take(2)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }
    fn u32(&mut self) -> Result<u32, AuditRecordError> {
        let s = self.take(4)?;
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
}

impl AuditRecord {
    /// Decodes one record.
    pub fn from_bytes(b: &[u8]) -> Result<Self, AuditRecordError> {
        let mut c = Cursor { b, pos: 0 };
        let app_id = c.u16()?;
        let event_id = c.u16()?;
        let itype = c.u8()?;
        let initiator = match itype {
            0 => {
                let n = usize::from(c.u8()?);
                Initiator::Digest(String::from_utf8_lossy(c.take(n)?).into_owned())
            }
            1 => {
                let user_in_domain = c.u32()?;
                let n = usize::from(c.u8()?);
                let raw = c.take(n)?.to_vec();
                Initiator::Kerberos {
                    user_in_domain,
                    sid: Sid::from_bytes(&raw).ok(),
                    raw,
                }
            }
            2 => Initiator::Local,
            3 => Initiator::KvmDefaultPort,
            o => Initiator::Other(o),
        };
        let timestamp = c.u32()?;
        let mc_location_type = c.u8()?;
        let n = usize::from(c.u8()?);
        let net_address = String::from_utf8_lossy(c.take(n)?).trim_end_matches('\0').to_owned();
        let n = usize::from(c.u8()?);
        let extended_data = c.take(n)?.to_vec();
        Ok(AuditRecord {
            app_id,
            event_id,
            initiator,
            timestamp,
            mc_location_type,
            net_address,
            extended_data,
        })
    }

    /// Decodes one base64 `EventRecords` item.
    pub fn from_base64(s: &str) -> Result<Self, AuditRecordError> {
        let b = B64.decode(s.trim()).map_err(|_| AuditRecordError::BadBase64)?;
        Self::from_bytes(&b)
    }

    /// Encodes the record (device side). Lengths above 255 are truncated.
    pub fn to_bytes(&self) -> Vec<u8> {
        fn put_str(out: &mut Vec<u8>, s: &[u8]) {
            let n = s.len().min(255);
            out.push(u8::try_from(n).unwrap_or(u8::MAX));
            out.extend_from_slice(&s[..n]);
        }
        let mut out = Vec::new();
        out.extend_from_slice(&self.app_id.to_be_bytes());
        out.extend_from_slice(&self.event_id.to_be_bytes());
        match &self.initiator {
            Initiator::Digest(u) => {
                out.push(0);
                put_str(&mut out, u.as_bytes());
            }
            Initiator::Kerberos {
                user_in_domain, raw, ..
            } => {
                out.push(1);
                out.extend_from_slice(&user_in_domain.to_be_bytes());
                put_str(&mut out, raw);
            }
            Initiator::Local => out.push(2),
            Initiator::KvmDefaultPort => out.push(3),
            Initiator::Other(o) => out.push(*o),
        }
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.push(self.mc_location_type);
        put_str(&mut out, self.net_address.as_bytes());
        put_str(&mut out, &self.extended_data);
        out
    }

    /// Base64 of [`AuditRecord::to_bytes`].
    pub fn to_base64(&self) -> String {
        B64.encode(self.to_bytes())
    }

    /// The combined event number (`app_id * 100 + event_id`, e.g. 1900).
    pub fn event_number(&self) -> u32 {
        u32::from(self.app_id) * 100 + u32::from(self.event_id)
    }

    /// Application name.
    pub fn app_name(&self) -> &'static str {
        app_name(self.app_id)
    }

    /// Event name, or `None` when not in the table.
    pub fn event_name(&self) -> Option<&'static str> {
        event_name(self.event_number())
    }

    /// For "Firmware Updated" (1900): the old and new versions from the extended data.
    pub fn firmware_update_versions(&self) -> Option<(String, String)> {
        if self.event_number() != 1900 || self.extended_data.len() < 16 {
            return None;
        }
        let v = |o: usize| {
            let e = &self.extended_data;
            let w = |i: usize| u16::from_be_bytes([e[o + 2 * i], e[o + 2 * i + 1]]);
            format!("{}.{}.{}.{}", w(0), w(1), w(2), w(3))
        };
        Some((v(0), v(8)))
    }

    /// The time as a UTC datetime.
    pub fn time(&self) -> Option<time::OffsetDateTime> {
        time::OffsetDateTime::from_unix_timestamp(i64::from(self.timestamp)).ok()
    }

    /// A one-line plain description.
    pub fn description(&self) -> String {
        let who = match &self.initiator {
            Initiator::Digest(u) => format!("user {u}"),
            Initiator::Kerberos { sid: Some(s), .. } => format!("Kerberos user {s}"),
            Initiator::Kerberos { sid: None, .. } => "a Kerberos user".to_owned(),
            Initiator::Local => "the local host".to_owned(),
            Initiator::KvmDefaultPort => "the KVM default port".to_owned(),
            Initiator::Other(o) => format!("initiator type {o}"),
        };
        let what = match self.event_name() {
            Some(n) => n.to_owned(),
            None => format!("{} event {}", self.app_name(), self.event_id),
        };
        match self.firmware_update_versions() {
            Some((from, to)) => format!("{what} from {from} to {to}, by {who}"),
            None => format!("{what}, by {who}"),
        }
    }
}

/// Name of an audit application ID.
pub fn app_name(app_id: u16) -> &'static str {
    match app_id {
        16 => "Security Admin",
        17 => "RCO",
        18 => "Redirection Manager",
        19 => "Firmware Update Manager",
        20 => "Security Audit Log",
        21 => "Network Time",
        22 => "Network Administration",
        23 => "Storage Administration",
        24 => "Event Manager",
        25 => "Circuit Breaker Manager",
        26 => "Agent Presence Manager",
        27 => "Wireless Configuration",
        28 => "EAC",
        29 => "KVM",
        30 => "User Opt-In",
        _ => "Unknown application",
    }
}

/// Name of a combined event number (app × 100 + event).
pub fn event_name(number: u32) -> Option<&'static str> {
    Some(match number {
        1600 => "Provisioning Started",
        1601 => "Provisioning Completed",
        1602 => "ACL Entry Added",
        1603 => "ACL Entry Modified",
        1604 => "ACL Entry Removed",
        1613 => "Kerberos Settings Modified",
        1614 => "Kerberos Main Key Modified",
        1700 => "Remote Power Up",
        1701 => "Remote Power Down",
        1702 => "Remote Power Cycle",
        1703 => "Remote Reset",
        1704 => "Set Boot Options",
        1800 => "IDE-R Session Opened",
        1801 => "IDE-R Session Closed",
        1802 => "IDE-R Enabled",
        1803 => "IDE-R Disabled",
        1804 => "SoL Session Opened",
        1805 => "SoL Session Closed",
        1806 => "SoL Enabled",
        1807 => "SoL Disabled",
        1808 => "KVM Session Started",
        1809 => "KVM Session Ended",
        1810 => "KVM Enabled",
        1811 => "KVM Disabled",
        1900 => "Firmware Updated",
        2100 => "Intel AMT Time Set",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_record() {
        let r = AuditRecord::from_base64("ABMAAAI/9M1uAgAQAAwAAAAoBZkADAAAACQFlA==").expect("ok");
        assert_eq!(r.app_id, 19);
        assert_eq!(r.event_number(), 1900);
        assert_eq!(r.event_name(), Some("Firmware Updated"));
        assert_eq!(r.initiator, Initiator::Local);
        assert_eq!(
            r.firmware_update_versions(),
            Some(("12.0.40.1433".to_owned(), "12.0.36.1428".to_owned()))
        );
        assert_eq!(r.to_base64(), "ABMAAAI/9M1uAgAQAAwAAAAoBZkADAAAACQFlA==");
    }

    #[test]
    fn kerberos_round_trip_and_truncation() {
        let sid = Sid::from_base64("AQUAAAAAAAUVAAAAVcoTQfagZTk1F8IXVgQAAA==").expect("sid");
        let r = AuditRecord {
            app_id: 17,
            event_id: 0,
            initiator: Initiator::Kerberos {
                user_in_domain: 0,
                sid: Some(sid.clone()),
                raw: sid.to_bytes(),
            },
            timestamp: 1,
            mc_location_type: 0,
            net_address: "10.0.0.1".into(),
            extended_data: vec![],
        };
        let b = r.to_bytes();
        assert_eq!(AuditRecord::from_bytes(&b).expect("rt"), r);
        for n in 0..b.len() {
            assert_eq!(AuditRecord::from_bytes(&b[..n]), Err(AuditRecordError::Truncated));
        }
        assert!(r.description().contains("Remote Power Up"));
    }
}
