//! The mutable state of one simulated device, and the state changes firmware makes
//! (power transitions, boot option consumption, logs).
//!
//! Everything a test may want to read or patch is here and serialisable; the inventory is
//! not stored but derived from the device index when asked for (see `model`), which keeps
//! a 10,000-device fleet small.

use serde::{Deserialize, Serialize};

use crate::seed::{AclSeed, DeviceSeed};
use amt::digest;
use amt::records::eventlog::EventRecord;

/// Audit log capacity; the oldest records are dropped beyond it.
pub const AUDIT_LOG_CAPACITY: usize = 1000;
/// Event log capacity (AMT keeps a few hundred records).
pub const EVENT_LOG_CAPACITY: usize = 390;

/// Well-known realms (reference §2.9).
pub mod realm {
    /// Redirection.
    pub const REDIRECTION: u8 = 2;
    /// PT Administration: implies every realm.
    pub const PT_ADMINISTRATION: u8 = 3;
    /// Hardware Asset.
    pub const HARDWARE_ASSET: u8 = 4;
    /// Remote Control.
    pub const REMOTE_CONTROL: u8 = 5;
    /// Network Time.
    pub const NETWORK_TIME: u8 = 12;
    /// General Info.
    pub const GENERAL_INFO: u8 = 13;
    /// Event Log Reader.
    pub const EVENT_LOG_READER: u8 = 19;
    /// Audit Log.
    pub const AUDIT_LOG: u8 = 20;

    /// True for realm numbers AMT accepts in an ACL entry (2–21 and 24).
    pub fn assignable(r: u8) -> bool {
        (2..=21).contains(&r) || r == 24
    }
}

/// One ACL entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AclEntry {
    /// Handle returned by AddUserAclEntryEx.
    pub handle: u32,
    /// Digest user name, for Digest entries.
    pub username: Option<String>,
    /// HA1 hex = MD5(user:DigestRealm:password), for Digest entries.
    pub ha1: Option<String>,
    /// SID text, for Kerberos entries.
    pub sid: Option<String>,
    /// 0 local, 1 network, 2 both.
    pub access_permission: u8,
    /// Realms.
    pub realms: Vec<u8>,
    /// SetAclEnabledState.
    pub enabled: bool,
}

impl AclEntry {
    /// True when the entry may be used over the network.
    pub fn network_allowed(&self) -> bool {
        self.enabled && self.access_permission != 0
    }
}

/// AMT_KerberosSettingData.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KerberosSettings {
    /// KrbEnabled.
    pub enabled: bool,
    /// RealmName.
    pub realm: String,
    /// MaximumClockTolerance (minutes).
    pub max_clock_tolerance: u32,
    /// KeyVersion.
    pub key_version: u32,
    /// ConfiguredEncryptionAlgorithms.
    pub configured_encryption: Vec<u16>,
    /// True once a Put configured the settings (Get then shows them).
    pub configured: bool,
    /// The key written over WS-Man, described without secrets; `None`: the fleet's shared
    /// keytab verifies tickets (see [`crate::devkey`]).
    #[serde(default)]
    pub written_key: Option<String>,
}

/// Boot configuration kept until the next power-on or reset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootState {
    /// Writable AMT_BootSettingData properties that differ from the defaults.
    pub settings: std::collections::BTreeMap<String, String>,
    /// Forced boot source from ChangeBootOrder (`Intel(r) AMT: Force PXE Boot`, …).
    pub boot_source: Option<String>,
    /// SetBootConfigRole(IsNext/IsNextSingleUse) was called: settings apply at next boot.
    pub role_set: bool,
    /// What the machine booted into last time ("normal", "BIOS setup", "PXE", …).
    pub last_boot: String,
    /// Boots since start.
    pub boot_count: u32,
}

/// AMT_RedirectionService and the (simulated) session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redirection {
    /// EnabledState 32768–32771.
    pub enabled_state: u16,
    /// ListenerEnabled.
    pub listener_enabled: bool,
    /// A redirection (SOL) session is open.
    pub session_open: bool,
}

/// Fault injection for one device, applied to every WS-Man request before anything else.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Added latency before answering, in milliseconds.
    pub latency_ms: u64,
    /// Close the connection without an answer.
    pub drop_connection: bool,
    /// Never answer (until the fleet stops).
    pub hang: bool,
    /// Answer HTTP 500.
    pub http_500: bool,
    /// Answer 200 with a truncated, malformed XML body.
    pub malformed_xml: bool,
    /// Answer a QuotaLimit fault ("The service is busy servicing other requests.").
    pub busy: bool,
}

impl Faults {
    /// True when no fault is set.
    pub fn is_clear(&self) -> bool {
        *self == Faults::default()
    }
}

/// The full state of one device.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceState {
    /// 1-based index.
    pub index: u32,
    /// FQDN, `amt<N>.example.test`.
    pub fqdn: String,
    /// Firmware version `major.minor.hotfix`.
    pub amt_version: String,
    /// Firmware build number.
    pub build_number: String,
    /// CIM PowerState.
    pub power_state: u16,
    /// Boot options.
    pub boot: BootState,
    /// AMT_GeneralSettings.DigestRealm.
    pub digest_realm: String,
    /// IPS_HostBasedSetupService.CurrentControlMode.
    pub control_mode: u8,
    /// AMT_SetupAndConfigurationService.ProvisioningState.
    pub provisioning_state: u8,
    /// Admin user name (Digest only).
    pub admin_user: String,
    /// Admin HA1 hex.
    pub admin_ha1: String,
    /// ACL entries.
    pub acl: Vec<AclEntry>,
    /// Next ACL handle.
    pub next_acl_handle: u32,
    /// Kerberos settings.
    pub kerberos: KerberosSettings,
    /// Device clock minus real time, seconds.
    pub clock_offset_secs: i64,
    /// Redirection.
    pub redirection: Redirection,
    /// IPS_OptInService.OptInRequired.
    pub opt_in_required: u32,
    /// IPS_OptInService.OptInState.
    pub opt_in_state: u8,
    /// Chassis manufacturer.
    pub manufacturer: String,
    /// Chassis model.
    pub model: String,
    /// Event log, oldest first.
    pub event_log: Vec<EventRecord>,
    /// Audit log, oldest first.
    pub audit_log: Vec<AuditRecord>,
    /// Fault injection.
    pub faults: Faults,
    /// Open enumeration contexts: (context number, class, next item).
    #[serde(skip)]
    pub enum_contexts: Vec<(u32, String, usize)>,
    /// Next enumeration context number.
    #[serde(skip)]
    pub next_context: u32,
    /// The key written over WS-Man (its keytab and verifier), when one was.
    #[serde(skip)]
    pub device_key: Option<std::sync::Arc<crate::devkey::DeviceKey>>,
}

/// Unix time now, seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl DeviceState {
    /// Builds the initial state of device `index` from its effective seed.
    pub fn from_seed(index: u32, seed: &DeviceSeed) -> DeviceState {
        let domain = seed.domain.clone().unwrap_or_else(|| "example.test".into());
        let fqdn = seed.fqdn.clone().unwrap_or_else(|| format!("amt{index}.{domain}"));
        let digest_realm = seed.digest_realm.clone().unwrap_or_else(|| {
            format!(
                "Digest:{}",
                digest::md5_hex(&format!("amt-sim realm {fqdn}")).to_uppercase()
            )
        });
        let admin_user = seed.admin_user.clone().unwrap_or_else(|| "admin".into());
        let admin_password = seed.admin_password.clone().unwrap_or_else(|| "P@ssw0rd".into());
        let mut st = DeviceState {
            index,
            admin_ha1: digest::ha1_hex(&admin_user, &digest_realm, &admin_password),
            admin_user,
            fqdn,
            amt_version: seed.amt_version.clone().unwrap_or_else(|| "16.1.25".into()),
            build_number: seed.build_number.clone().unwrap_or_else(|| "2049".into()),
            power_state: seed.power_state.unwrap_or(2),
            boot: BootState {
                last_boot: "normal".into(),
                ..BootState::default()
            },
            digest_realm,
            control_mode: seed.control_mode.unwrap_or(2),
            provisioning_state: seed.provisioning_state.unwrap_or(2),
            acl: Vec::new(),
            next_acl_handle: 1,
            kerberos: KerberosSettings {
                enabled: seed.krb_enabled.unwrap_or(false),
                realm: seed.krb_realm.clone().unwrap_or_else(|| "EXAMPLE.TEST".into()),
                max_clock_tolerance: seed.krb_max_clock_tolerance.unwrap_or(5),
                key_version: seed.krb_key_version.unwrap_or(1),
                configured_encryption: vec![1, 2],
                configured: seed.krb_enabled.unwrap_or(false),
                written_key: None,
            },
            clock_offset_secs: seed.clock_offset_secs.unwrap_or(0),
            redirection: Redirection {
                enabled_state: seed.redirection_enabled_state.unwrap_or(32771),
                listener_enabled: seed.listener_enabled.unwrap_or(true),
                session_open: false,
            },
            opt_in_required: seed.opt_in_required.unwrap_or(0),
            opt_in_state: 0,
            manufacturer: seed
                .manufacturer
                .clone()
                .unwrap_or_else(|| "Intel(R) Client Systems".into()),
            model: seed.model.clone().unwrap_or_else(|| "NUC9V7QNX".into()),
            event_log: Vec::new(),
            audit_log: Vec::new(),
            faults: Faults::default(),
            enum_contexts: Vec::new(),
            next_context: 0x2DD,
            device_key: None,
        };
        if seed.fresh == Some(true) {
            st.kerberos.enabled = false;
            st.kerberos.configured = false;
            return st;
        }
        for a in seed.acl.iter().flatten() {
            st.add_seed_acl(a);
        }
        st
    }

    fn add_seed_acl(&mut self, a: &AclSeed) {
        let handle = self.next_acl_handle;
        self.next_acl_handle += 1;
        let ha1 = match (&a.username, &a.password) {
            (Some(u), Some(p)) => Some(digest::ha1_hex(u, &self.digest_realm, p)),
            _ => None,
        };
        self.acl.push(AclEntry {
            handle,
            username: a.username.clone(),
            ha1,
            sid: a.sid.clone(),
            access_permission: a.access_permission.unwrap_or(2),
            realms: a.realms.clone(),
            enabled: true,
        });
    }

    /// Firmware major version.
    pub fn major(&self) -> u32 {
        self.amt_version
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(0)
    }

    /// AMT 2–5: the old generation (4 KB Kerberos ticket limit, no IPS_* classes, no
    /// graceful power states, RC4 only).
    pub fn old_generation(&self) -> bool {
        self.major() <= 5
    }

    /// Kerberos ticket limit in base64 characters, when the generation has a known one.
    pub fn max_ticket_b64(&self) -> Option<usize> {
        self.old_generation().then_some(4096)
    }

    /// The device clock now (seconds since 1970).
    pub fn device_time(&self) -> i64 {
        unix_now() + self.clock_offset_secs
    }

    /// Power states this generation can be asked for at all.
    pub fn supported_power_states(&self) -> &'static [u16] {
        if self.major() >= 9 {
            &[2, 4, 5, 7, 8, 10, 11, 12, 14]
        } else {
            &[2, 5, 8, 10, 11]
        }
    }

    /// True when the host is in a running state.
    pub fn is_on(&self) -> bool {
        matches!(self.power_state, 2 | 3)
    }

    /// AvailableRequestedPowerStates in the current state, in AMT's order.
    pub fn available_power_states(&self) -> Vec<u16> {
        let order: &[u16] = if self.is_on() {
            &[10, 8, 5, 11, 4, 7, 14, 12]
        } else {
            &[2]
        };
        let supported = self.supported_power_states();
        order.iter().copied().filter(|s| supported.contains(s)).collect()
    }

    /// Appends an audit record (app, event) for `initiator` from `peer`.
    pub fn audit(&mut self, app_id: u16, event_id: u16, initiator: Initiator, peer: Option<String>, extended: Vec<u8>) {
        if self.audit_log.len() >= AUDIT_LOG_CAPACITY {
            self.audit_log.remove(0);
        }
        let timestamp = self.device_time().max(0) as u32;
        self.audit_log.push(AuditRecord {
            app_id,
            event_id,
            initiator,
            timestamp,
            net_address: peer,
            extended,
        });
    }

    /// Appends an event log record.
    pub fn event(&mut self, sensor_type: u8, event_offset: u8, entity: u8, data0: u8) {
        if self.event_log.len() >= EVENT_LOG_CAPACITY {
            self.event_log.remove(0);
        }
        let timestamp = self.device_time().max(0) as u32;
        self.event_log.push(EventRecord {
            timestamp,
            device_address: 0xFF,
            event_sensor_type: sensor_type,
            event_type: 0x6F,
            event_offset,
            event_source_type: 0x68,
            event_severity: 1,
            sensor_number: 0xFF,
            entity,
            entity_instance: 0,
            event_data: [data0, 0x07, 0, 0, 0, 0, 0, 0],
        });
    }

    /// A boot happens: apply and consume the pending boot options.
    fn boot(&mut self) {
        let b = &mut self.boot;
        let flag = |k: &str| b.settings.get(k).is_some_and(|v| v == "true");
        let target = if b.role_set || b.boot_source.is_some() {
            if flag("BIOSSetup") {
                "BIOS setup".to_string()
            } else if flag("BIOSPause") {
                "BIOS pause".to_string()
            } else if let Some(src) = &b.boot_source {
                match src.as_str() {
                    "Intel(r) AMT: Force PXE Boot" => "PXE".to_string(),
                    "Intel(r) AMT: Force Hard-drive Boot" => "hard drive".to_string(),
                    "Intel(r) AMT: Force CD/DVD Boot" => "CD/DVD".to_string(),
                    "Intel(r) AMT: Force Diagnostic Boot" => "diagnostics".to_string(),
                    other => other.to_string(),
                }
            } else if flag("UseIDER") {
                "IDE-R".to_string()
            } else {
                "normal".to_string()
            }
        } else {
            "normal".to_string()
        };
        b.last_boot = target;
        b.boot_count += 1;
        // Single-use options are cleared once the BIOS has read them.
        b.settings.clear();
        b.boot_source = None;
        b.role_set = false;
        // BIOS progress: "system firmware started" as in the captured event log.
        self.event(0x0F, 2, 0x22, 0x40);
    }

    /// Applies a RequestPowerStateChange; returns the method ReturnValue and, on success,
    /// the audit event (app 17, event id).
    ///
    /// Codes: 0 done; 1 not supported by this generation (CIM "Not Supported"); 2 not
    /// valid in the current power state; 6 refused while a redirection session is open
    /// (the real code is unconfirmed, reference §8: any non-zero value).
    pub fn request_power_state(&mut self, requested: u16) -> (u32, Option<u16>) {
        if !self.supported_power_states().contains(&requested) {
            return (1, None);
        }
        if self.redirection.session_open && matches!(requested, 5 | 8 | 12) {
            return (6, None);
        }
        if !self.available_power_states().contains(&requested) {
            return (2, None);
        }
        let event = match requested {
            2 => {
                self.power_state = 2;
                self.boot();
                0
            }
            8 | 12 => {
                self.power_state = 8;
                // ACPI state sensor: S5 soft-off.
                self.event(0x22, 5, 0x22, 0);
                1
            }
            5 => {
                self.power_state = 2;
                self.event(0x22, 5, 0x22, 0);
                self.boot();
                2
            }
            10 | 14 => {
                self.power_state = 2;
                self.boot();
                3
            }
            4 | 7 => {
                self.power_state = requested;
                return (0, None);
            }
            _ => return (0, None), // 11: NMI, no state change
        };
        (0, Some(event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_records_encode_through_amt() {
        let r = AuditRecord {
            app_id: 17,
            event_id: 2,
            initiator: Initiator::Kerberos {
                sid: "S-1-5-21-1-2-3-1104".into(),
                user_in_domain: 0,
            },
            timestamp: 1_700_000_000,
            net_address: Some("127.0.0.1".into()),
            extended: vec![1, 2],
        };
        let back = amt::records::auditlog::AuditRecord::from_base64(&r.to_amt().to_base64()).unwrap();
        assert_eq!(back.event_number(), 1702);
        assert_eq!(back.net_address, "127.0.0.1");
        assert_eq!(back.extended_data, vec![1, 2]);
        match back.initiator {
            amt::records::auditlog::Initiator::Kerberos { sid, .. } => {
                assert_eq!(sid.unwrap().to_string(), "S-1-5-21-1-2-3-1104")
            }
            other => panic!("{other:?}"),
        }
        let local = AuditRecord {
            initiator: Initiator::Local,
            net_address: None,
            ..r
        };
        assert_eq!(local.to_amt().mc_location_type, 2);
    }

    fn dev(version: &str) -> DeviceState {
        DeviceState::from_seed(
            1,
            &DeviceSeed {
                amt_version: Some(version.into()),
                ..DeviceSeed::default()
            },
        )
    }

    #[test]
    fn power_transitions() {
        let mut d = dev("16.1.25");
        assert_eq!(d.request_power_state(2), (2, None)); // already on
        assert_eq!(d.request_power_state(8), (0, Some(1)));
        assert_eq!(d.power_state, 8);
        assert_eq!(d.available_power_states(), vec![2]);
        assert_eq!(d.request_power_state(2), (0, Some(0)));
        d.redirection.session_open = true;
        assert_eq!(d.request_power_state(5).0, 6);
        assert_eq!(d.request_power_state(10), (0, Some(3)));
    }

    #[test]
    fn old_generation_has_no_graceful_states() {
        let mut d = dev("4.2.0");
        assert_eq!(d.request_power_state(12), (1, None));
        assert_eq!(d.max_ticket_b64(), Some(4096));
    }

    #[test]
    fn boot_options_are_consumed() {
        let mut d = dev("12.0.67");
        d.boot.settings.insert("BIOSSetup".into(), "true".into());
        d.boot.role_set = true;
        d.request_power_state(10);
        assert_eq!(d.boot.last_boot, "BIOS setup");
        d.request_power_state(10);
        assert_eq!(d.boot.last_boot, "normal");
    }
}

/// Who caused an audited action (the device's view; JSON-friendly for the control API).
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
        /// UserInDomain field.
        user_in_domain: u32,
    },
    /// InitiatorType 2: local (firmware, host).
    Local,
}

/// One audit log entry as the device keeps it; encoded on the wire by `amt::records`.
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
    /// Network address of the initiator (IPv4 or IPv6 text), if any.
    pub net_address: Option<String>,
    /// Extended data bytes (hex in JSON).
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

impl AuditRecord {
    /// The combined event number as AMT documents it (app × 100 + event, e.g. 1702).
    pub fn event_number(&self) -> u32 {
        self.to_amt().event_number()
    }

    /// The record in the protocol library's terms (what `AMT_AuditLog.ReadRecords` sends).
    pub fn to_amt(&self) -> amt::records::auditlog::AuditRecord {
        use amt::records::auditlog::Initiator as I;
        let initiator = match &self.initiator {
            Initiator::Digest { user } => I::Digest(user.clone()),
            Initiator::Kerberos { sid, user_in_domain } => {
                let sid = sid.parse::<amt::Sid>().ok();
                I::Kerberos {
                    user_in_domain: *user_in_domain,
                    raw: sid.as_ref().map(amt::Sid::to_bytes).unwrap_or_default(),
                    sid,
                }
            }
            Initiator::Local => I::Local,
        };
        let (mc_location_type, net_address) = match &self.net_address {
            Some(a) => (u8::from(a.contains(':')), a.clone()),
            None => (2, String::new()),
        };
        amt::records::auditlog::AuditRecord {
            app_id: self.app_id,
            event_id: self.event_id,
            initiator,
            timestamp: self.timestamp,
            mc_location_type,
            net_address,
            extended_data: self.extended.clone(),
        }
    }
}
