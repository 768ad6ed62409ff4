//! Binary log records: the audit log (`AMT_AuditLog`, big-endian, reference §2.5) and the
//! 21-byte event log records (`AMT_MessageLog`, reference §2.4).

use serde::{Deserialize, Serialize};

use super::sid;

/// Who caused an audited action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Initiator {
    /// InitiatorType 0: a Digest user (admin or ACL user).
    Digest {
        /// User name.
        user: String,
    },
    /// InitiatorType 1: a Kerberos user, by SID.
    Kerberos {
        /// SID text `S-1-5-21-…`.
        sid: String,
        /// UserInDomain field (AMT writes the RID-bearing user entry; kept as given).
        user_in_domain: u32,
    },
    /// InitiatorType 2: local (firmware, host).
    Local,
}

/// Errors decoding a record.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RecordError {
    /// The record ends early.
    #[error("record truncated")]
    Truncated,
    /// Unknown initiator type.
    #[error("unknown initiator type {0}")]
    InitiatorType(u8),
    /// A Kerberos initiator carries a bad SID.
    #[error(transparent)]
    Sid(#[from] sid::SidError),
}

/// One audit log record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// AuditAppID (e.g. 17 Remote Control Operations).
    pub app_id: u16,
    /// EventID within the application (1702 = app 17, event 2).
    pub event_id: u16,
    /// Who acted.
    pub initiator: Initiator,
    /// Seconds since 1970 (device clock).
    pub timestamp: u32,
    /// Network address of the initiator (IPv4 text), if any.
    pub net_address: Option<String>,
    /// Extended data bytes.
    #[serde(with = "hex_bytes")]
    pub extended: Vec<u8>,
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        hex::decode(s).map_err(serde::de::Error::custom)
    }
}

fn push_short_str(out: &mut Vec<u8>, b: &[u8]) {
    let n = b.len().min(255);
    out.push(n as u8);
    out.extend_from_slice(&b[..n]);
}

impl AuditRecord {
    /// The combined event number as AMT documents it (app × 100 + event, e.g. 1702).
    pub fn event_number(&self) -> u32 {
        self.app_id as u32 * 100 + self.event_id as u32
    }

    /// Encodes the record as stored in `EventRecords`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(48);
        out.extend_from_slice(&self.app_id.to_be_bytes());
        out.extend_from_slice(&self.event_id.to_be_bytes());
        match &self.initiator {
            Initiator::Digest { user } => {
                out.push(0);
                push_short_str(&mut out, user.as_bytes());
            }
            Initiator::Kerberos { sid, user_in_domain } => {
                out.push(1);
                out.extend_from_slice(&user_in_domain.to_be_bytes());
                push_short_str(&mut out, &sid::to_binary(sid).unwrap_or_default());
            }
            Initiator::Local => out.push(2),
        }
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        match &self.net_address {
            Some(a) => {
                out.push(if a.contains(':') { 1 } else { 0 });
                push_short_str(&mut out, a.as_bytes());
            }
            None => {
                out.push(2);
                out.push(0);
            }
        }
        push_short_str(&mut out, &self.extended);
        out
    }

    /// Decodes a record.
    pub fn decode(b: &[u8]) -> Result<AuditRecord, RecordError> {
        let mut r = Cursor { b, pos: 0 };
        let app_id = r.u16()?;
        let event_id = r.u16()?;
        let initiator = match r.u8()? {
            0 => {
                let n = r.u8()? as usize;
                Initiator::Digest {
                    user: String::from_utf8_lossy(r.take(n)?).into_owned(),
                }
            }
            1 => {
                let user_in_domain = r.u32()?;
                let n = r.u8()? as usize;
                Initiator::Kerberos {
                    user_in_domain,
                    sid: sid::to_text(r.take(n)?)?,
                }
            }
            2 => Initiator::Local,
            t => return Err(RecordError::InitiatorType(t)),
        };
        let timestamp = r.u32()?;
        let loc = r.u8()?;
        let n = r.u8()? as usize;
        let addr = r.take(n)?;
        let net_address = (loc != 2 && n > 0).then(|| String::from_utf8_lossy(addr).into_owned());
        let n = r.u8()? as usize;
        let extended = r.take(n)?.to_vec();
        Ok(AuditRecord {
            app_id,
            event_id,
            initiator,
            timestamp,
            net_address,
            extended,
        })
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], RecordError> {
        let s = self.b.get(self.pos..self.pos + n).ok_or(RecordError::Truncated)?;
        self.pos += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, RecordError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, RecordError> {
        let s = self.take(2)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }
    fn u32(&mut self) -> Result<u32, RecordError> {
        let s = self.take(4)?;
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
}

/// One 21-byte platform event log record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Seconds since 1970 (little-endian on the wire).
    pub timestamp: u32,
    /// DeviceAddress.
    pub device_address: u8,
    /// EventSensorType.
    pub sensor_type: u8,
    /// EventType.
    pub event_type: u8,
    /// EventOffset.
    pub event_offset: u8,
    /// EventSourceType.
    pub source_type: u8,
    /// EventSeverity.
    pub severity: u8,
    /// SensorNumber.
    pub sensor_number: u8,
    /// Entity.
    pub entity: u8,
    /// EntityInstance.
    pub entity_instance: u8,
    /// EventData.
    pub data: [u8; 8],
}

impl EventRecord {
    /// Encodes the 21 bytes.
    pub fn encode(&self) -> [u8; 21] {
        let mut o = [0u8; 21];
        o[..4].copy_from_slice(&self.timestamp.to_le_bytes());
        o[4] = self.device_address;
        o[5] = self.sensor_type;
        o[6] = self.event_type;
        o[7] = self.event_offset;
        o[8] = self.source_type;
        o[9] = self.severity;
        o[10] = self.sensor_number;
        o[11] = self.entity;
        o[12] = self.entity_instance;
        o[13..].copy_from_slice(&self.data);
        o
    }

    /// Decodes 21 bytes.
    pub fn decode(b: &[u8]) -> Result<EventRecord, RecordError> {
        if b.len() != 21 {
            return Err(RecordError::Truncated);
        }
        let mut data = [0u8; 8];
        data.copy_from_slice(&b[13..21]);
        Ok(EventRecord {
            timestamp: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            device_address: b[4],
            sensor_type: b[5],
            event_type: b[6],
            event_offset: b[7],
            source_type: b[8],
            severity: b[9],
            sensor_number: b[10],
            entity: b[11],
            entity_instance: b[12],
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

    #[test]
    fn decodes_captured_audit_record() {
        let b = B64.decode("ABMAAAI/9M1uAgAQAAwAAAAoBZkADAAAACQFlA==").unwrap();
        let r = AuditRecord::decode(&b).unwrap();
        assert_eq!(r.event_number(), 1900);
        assert_eq!(r.initiator, Initiator::Local);
        assert_eq!(r.net_address, None);
        assert_eq!(r.extended.len(), 16);
        assert_eq!(r.encode(), b);
    }

    #[test]
    fn kerberos_initiator_round_trips() {
        let r = AuditRecord {
            app_id: 17,
            event_id: 2,
            initiator: Initiator::Kerberos {
                sid: "S-1-5-21-1-2-3-1104".into(),
                user_in_domain: 0,
            },
            timestamp: 1_700_000_000,
            net_address: Some("127.0.0.1".into()),
            extended: vec![],
        };
        assert_eq!(AuditRecord::decode(&r.encode()).unwrap(), r);
    }

    #[test]
    fn decodes_captured_event_record() {
        let b = B64.decode("IgYBZf8PbwJoAf8iAEAHAAAAAAAA").unwrap();
        let r = EventRecord::decode(&b).unwrap();
        assert_eq!(r.sensor_type, 0x0F);
        assert_eq!(r.entity, 0x22);
        assert_eq!(r.encode().to_vec(), b);
    }
}
