//! The device page's reads and actions, all as the signed-in user: status and inventory, event
//! and audit logs (Kerberos initiators named from the directory), the clock and its
//! synchronisation, and the boot options behind "to BIOS setup" and "to PXE".
//!
//! Reads are grouped by the realm they need, so a refused group shows "not allowed: needs the
//! Hardware Asset realm" instead of failing the page, and the same answers tell the user what
//! they may do before they try (no extra device round trips). The power read goes first: when
//! it shows the device will not take the user at all (ticket refused, unreachable, no
//! delegation), the page says why once instead of asking the device (and the KDC) twenty more
//! times. Everything else then runs concurrently.

use std::collections::HashMap;

use amt::client::{Client, ClientError};
use amt::fault::FaultSubcode;
use amt::models::boot::{self, BootSettingData, BootSource};
use amt::models::general::GeneralSettings;
use amt::models::inventory::{
    BiosElement, Chassis, ComputerSystemPackage, EthernetPortSettings, PhysicalMemory, Processor, SoftwareIdentity,
};
use amt::models::logs::{self, GetRecordsOutput, PositionToFirstRecordOutput, ReadRecordsOutput};
use amt::models::setup::{HostBasedSetupService, SetupAndConfigurationService};
use amt::models::time_sync::{self, GetLowAccuracyTimeSynchOutput};
use amt::records::auditlog::{AuditRecord, Initiator};
use amt::records::eventlog::EventRecord;
use shared::details::{
    AuditEntry, AuditLogView, ClockView, DeviceDetails, EventEntry, General, Hardware, MemoryModule, Nic, Part, Right,
    describe_offset, realms,
};
use shared::{BootTarget, DeviceOutcome};

use crate::AppState;
use crate::auth::SessionUser;

/// Event log records shown (newest first).
pub const EVENTS_SHOWN: usize = 100;
/// Audit log records shown (newest first); read 10 per call, concurrently.
pub const AUDIT_SHOWN: u32 = 50;

/// RFC 3339 UTC text of a Unix time.
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| format!("{unix} (not a valid time)"))
}

fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Whether an error means the device refused the realm (the user is in, but not allowed this).
pub fn is_access_denied(e: &ClientError) -> bool {
    matches!(e, ClientError::Fault(f) if f.subcode == Some(FaultSubcode::AccessDenied))
}

/// Whether an error means the device will not take this user at all (so no part can be read).
pub fn is_fatal(e: &ClientError) -> bool {
    matches!(
        e,
        ClientError::Negotiate { .. }
            | ClientError::Unauthorized { .. }
            | ClientError::ConnectRefused(_)
            | ClientError::Timeout(_)
            | ClientError::Http(_)
            | ClientError::Tls(_)
    )
}

/// A part from a read needing `realm`.
pub fn part<T>(fqdn: &str, realm: &str, r: Result<T, ClientError>) -> Part<T> {
    match r {
        Ok(t) => Part::Ok(t),
        Err(e) if is_access_denied(&e) => Part::NotAllowed {
            realm: realm.to_string(),
            message: format!("not allowed: needs the {realm} realm"),
        },
        Err(e) => Part::Failed {
            message: format!("{fqdn}: {e}"),
        },
    }
}

/// Hardware inventory from the Hardware Asset reads.
pub fn hardware(
    chassis: &[Chassis],
    package: &[ComputerSystemPackage],
    bios: &[BiosElement],
    cpus: &[Processor],
    memory: &[PhysicalMemory],
    nics: &[EthernetPortSettings],
) -> Hardware {
    let s = |o: &Option<String>| o.as_deref().unwrap_or_default().trim().to_string();
    let c = chassis.first().cloned().unwrap_or_default();
    let b = bios
        .iter()
        .find(|b| b.primary_bios == Some(true))
        .or(bios.first())
        .cloned()
        .unwrap_or_default();
    Hardware {
        manufacturer: s(&c.manufacturer),
        model: s(&c.model),
        serial: s(&c.serial_number),
        platform_guid: package
            .iter()
            .find_map(|p| p.platform_guid_display())
            .unwrap_or_default(),
        bios_vendor: s(&b.manufacturer),
        bios_version: s(&b.version),
        bios_date: b
            .release_date
            .as_ref()
            .map(|d| d.0.get(..10).unwrap_or(d.0.as_str()).to_string())
            .unwrap_or_default(),
        processors: cpus
            .iter()
            .map(|p| shared::details::Processor {
                id: s(&p.device_id),
                max_mhz: p.max_clock_speed,
                current_mhz: p.current_clock_speed,
                stepping: s(&p.stepping),
            })
            .collect(),
        memory: memory
            .iter()
            .map(|m| MemoryModule {
                bank: s(&m.bank_label),
                capacity_bytes: m.capacity,
                speed_mhz: m.configured_memory_clock_speed.or(m.max_memory_speed),
                manufacturer: s(&m.manufacturer),
                part_number: s(&m.part_number),
                serial: s(&m.serial_number),
            })
            .collect(),
        network: nics
            .iter()
            .map(|n| Nic {
                kind: match n.physical_connection_type {
                    Some(1) => "wireless".into(),
                    _ => "wired".into(),
                },
                mac: s(&n.mac_address).replace('-', ":"),
                ip: s(&n.ip_address),
                dhcp: n.dhcp_enabled,
                link_up: n.link_is_up,
            })
            .collect(),
    }
}

/// Firmware, provisioning and names from the General Info reads. `hbs` is `None` when the
/// firmware has no `IPS_HostBasedSetupService` (AMT before 6: always Admin Control Mode).
pub fn general(
    software: &[SoftwareIdentity],
    settings: &GeneralSettings,
    setup: &SetupAndConfigurationService,
    hbs: Option<&HostBasedSetupService>,
) -> General {
    let s = |o: &Option<String>| o.as_deref().unwrap_or_default().to_string();
    General {
        amt_version: SoftwareIdentity::amt_version(software).unwrap_or_default().to_string(),
        build: SoftwareIdentity::find(software, "Build Number")
            .unwrap_or_default()
            .to_string(),
        provisioning_state: setup
            .provisioning_state
            .map(|p| p.name().to_string())
            .unwrap_or_else(|| "not reported".into()),
        control_mode: match hbs.and_then(|h| h.current_control_mode) {
            Some(m) => m.name().to_string(),
            None => {
                "not reported by this firmware (before AMT 6 every provisioned device is in Admin Control Mode)".into()
            }
        },
        host_name: s(&settings.host_name),
        domain_name: s(&settings.domain_name),
    }
}

/// Event log entries, newest first, at most [`EVENTS_SHOWN`]; undecodable records are named.
pub fn event_entries(records: &[String]) -> Vec<EventEntry> {
    records
        .iter()
        .rev()
        .take(EVENTS_SHOWN)
        .map(|b64| match EventRecord::from_base64(b64) {
            Ok(r) => EventEntry {
                time: rfc3339(i64::from(r.timestamp)),
                severity: r.severity_name().to_string(),
                source: r.entity_name().to_string(),
                description: r.description(),
            },
            Err(e) => EventEntry {
                time: String::new(),
                severity: "Unspecified".into(),
                source: "Unspecified".into(),
                description: format!("unreadable record: {e}"),
            },
        })
        .collect()
}

/// What an audit record says happened, without the who.
pub fn audit_event_text(r: &AuditRecord) -> String {
    let what = match r.event_name() {
        Some(n) => n.to_string(),
        None => format!("{} event {}", r.app_name(), r.event_id),
    };
    match r.firmware_update_versions() {
        Some((from, to)) => format!("{what} from {from} to {to}"),
        None => what,
    }
}

/// The SIDs of Kerberos initiators among decoded records.
pub fn initiator_sids(records: &[AuditRecord]) -> Vec<String> {
    let mut sids: Vec<String> = records
        .iter()
        .filter_map(|r| match &r.initiator {
            Initiator::Kerberos { sid: Some(s), .. } => Some(s.to_string()),
            _ => None,
        })
        .collect();
    sids.sort();
    sids.dedup();
    sids
}

/// Audit entries, newest first, with Kerberos initiators named from `names` (SID → account),
/// falling back to the SID.
pub fn audit_entries(records: &[AuditRecord], names: &HashMap<String, String>) -> Vec<AuditEntry> {
    let mut out: Vec<AuditEntry> = records
        .iter()
        .map(|r| {
            let (initiator, initiator_sid) = match &r.initiator {
                Initiator::Digest(u) => (format!("{u} (Digest)"), None),
                Initiator::Kerberos { sid: Some(s), .. } => {
                    let sid = s.to_string();
                    (names.get(&sid).cloned().unwrap_or_else(|| sid.clone()), Some(sid))
                }
                Initiator::Kerberos { sid: None, .. } => ("a Kerberos user (unreadable SID)".into(), None),
                Initiator::Local => ("the local host".into(), None),
                Initiator::KvmDefaultPort => ("the KVM default port".into(), None),
                Initiator::Other(o) => (format!("initiator type {o}"), None),
            };
            AuditEntry {
                time: rfc3339(i64::from(r.timestamp)),
                event: audit_event_text(r),
                initiator,
                initiator_sid,
                address: r.net_address.clone(),
            }
        })
        .collect();
    out.reverse();
    out
}

/// The 1-based start indexes of `ReadRecords` calls that cover the newest `want` of `total`
/// records, given that the call from index 1 (its first 10) is already done.
pub fn audit_read_starts(total: u32, want: u32) -> Vec<u32> {
    if total <= 10 {
        return Vec::new();
    }
    let first = total.saturating_sub(want).max(10) + 1;
    (first..=total).step_by(10).collect()
}

/// Reads the newest audit records: one call learns the count, the rest run concurrently.
async fn read_audit(client: &Client) -> Result<(u32, Vec<AuditRecord>), ClientError> {
    let first = ReadRecordsOutput::from_element(&client.invoke(&logs::read_records(1)).await?)?;
    let total = first.total_record_count.unwrap_or(0);
    let mut raw: Vec<(u32, Vec<String>)> = vec![(1, first.event_records)];
    let more = futures::future::join_all(audit_read_starts(total, AUDIT_SHOWN).into_iter().map(|s| async move {
        let out = client.invoke(&logs::read_records(s)).await?;
        Ok::<_, ClientError>((s, ReadRecordsOutput::from_element(&out)?.event_records))
    }))
    .await;
    for m in more {
        raw.push(m?);
    }
    raw.sort_by_key(|(s, _)| *s);
    let keep_from = total.saturating_sub(AUDIT_SHOWN) + 1;
    let mut records = Vec::new();
    for (start, items) in raw {
        for (i, b64) in items.iter().enumerate() {
            let index = start + i as u32;
            if index < keep_from {
                continue;
            }
            // A record that does not decode is skipped; the rest of the log still shows.
            match AuditRecord::from_base64(b64) {
                Ok(r) => records.push(r),
                Err(e) => tracing::warn!(error = %e, index, "audit record not decoded"),
            }
        }
    }
    Ok((total, records))
}

/// Reads the whole event log (390 records per call, as MeshCommander does).
async fn read_events(client: &Client) -> Result<Vec<String>, ClientError> {
    let first = PositionToFirstRecordOutput::from_element(&client.invoke(&logs::position_to_first_record()).await?)?;
    let mut id = first.iteration_identifier.unwrap_or(1);
    let mut records = Vec::new();
    for _ in 0..8 {
        let out = GetRecordsOutput::from_element(&client.invoke(&logs::get_records(id, 390)).await?)?;
        let n = out.record_array.len();
        records.extend(out.record_array);
        match out.iteration_identifier {
            Some(next) if out.no_more_records != Some(true) && n > 0 => id = next,
            _ => break,
        }
    }
    Ok(records)
}

/// The device's clock against ours.
pub(crate) async fn read_clock(client: &Client) -> Result<ClockView, ClientError> {
    let out =
        GetLowAccuracyTimeSynchOutput::from_element(&client.invoke(&time_sync::get_low_accuracy_time_synch()).await?)?;
    let portal = now_unix();
    let device = i64::from(out.ta0.unwrap_or(0));
    Ok(ClockView {
        device_time: rfc3339(device),
        portal_time: rfc3339(portal),
        offset_secs: device - portal,
    })
}

/// Sets the device clock to the portal's (AMT_TimeSynchronizationService, Network Time realm);
/// returns how far off it was, in seconds (device minus portal). Used by the device page's
/// button and by the provisioning run.
pub async fn set_clock(client: &Client) -> Result<i64, ClientError> {
    let before = read_clock(client).await?;
    let ta0 = u32::try_from(before.offset_secs + now_unix()).unwrap_or(0);
    let tm = u32::try_from(now_unix()).unwrap_or(0);
    client
        .invoke(&time_sync::set_high_accuracy_time_synch(ta0, tm, tm))
        .await?;
    Ok(before.offset_secs)
}

/// Sets the boot options for `target` as MeshCommander does (amt-protocol.md §2.2): clear any
/// forced boot source, Put the boot settings, make them the next single-use configuration,
/// then force PXE where asked. The power change follows separately.
pub async fn set_boot_target(client: &Client, target: BootTarget) -> Result<(), ClientError> {
    client.invoke(&boot::change_boot_order(BootSource::None)).await?;
    let mut settings: BootSettingData = client.get().await?;
    settings.bios_setup = Some(target == BootTarget::BiosSetup);
    settings.bios_pause = Some(false);
    settings.use_ider = Some(false);
    settings.use_sol = Some(false);
    settings.use_safe_mode = Some(false);
    settings.reflash_bios = Some(false);
    client.send(&settings.put_request()).await?;
    client.invoke(&boot::set_boot_config_role()).await?;
    if target == BootTarget::Pxe {
        client.invoke(&boot::change_boot_order(BootSource::Pxe)).await?;
    }
    Ok(())
}

/// The rights the page's reads revealed.
fn rights(d: &DeviceDetails) -> Vec<Right> {
    let r = |id: &str, realm: &str, what: &str, allowed: Option<bool>| Right {
        id: id.into(),
        realm: realm.into(),
        what: what.into(),
        allowed,
    };
    vec![
        r(
            "remote-control",
            realms::REMOTE_CONTROL,
            "power on, off and reset; boot to BIOS setup or PXE",
            d.power.allowed(),
        ),
        r(
            "network-time",
            realms::NETWORK_TIME,
            "read and synchronise the device clock",
            d.clock.allowed(),
        ),
        r(
            "hardware-asset",
            realms::HARDWARE_ASSET,
            "read the inventory",
            d.hardware.allowed(),
        ),
        r(
            "general-info",
            realms::GENERAL_INFO,
            "read firmware and provisioning facts",
            d.general.allowed(),
        ),
        r(
            "event-log",
            realms::EVENT_LOG_READER,
            "read the event log",
            d.events.allowed(),
        ),
        r("audit-log", realms::AUDIT_LOG, "read the audit log", d.audit.allowed()),
    ]
}

impl AppState {
    /// Everything the device page shows, read as `user`.
    pub async fn device_details(&self, user: &SessionUser, id: i64) -> DeviceOutcome<DeviceDetails> {
        let (device, source) = match self.device_and_user(user, id).await {
            Ok(x) => x,
            Err(r) => return r.into(),
        };
        let acting_as = source.describe().to_string();
        let client = self.client_for(&device, source);
        let fqdn = device.fqdn.clone();

        let power = match self.read_power(&device, &client, &acting_as).await {
            Err(e) if is_fatal(&e) => return self.explain(&device, user, e, realms::REMOTE_CONTROL).await.into(),
            r => part(&fqdn, realms::REMOTE_CONTROL, r),
        };

        let hardware_read = async {
            let (chassis, package, bios, cpus, memory, nics) = tokio::join!(
                client.enumerate::<Chassis>(),
                client.enumerate::<ComputerSystemPackage>(),
                client.enumerate::<BiosElement>(),
                client.enumerate::<Processor>(),
                client.enumerate::<PhysicalMemory>(),
                client.enumerate::<EthernetPortSettings>(),
            );
            Ok::<_, ClientError>(hardware(&chassis?, &package?, &bios?, &cpus?, &memory?, &nics?))
        };
        let general_read = async {
            let (software, settings, setup, hbs) = tokio::join!(
                client.enumerate::<SoftwareIdentity>(),
                client.get::<GeneralSettings>(),
                client.get::<SetupAndConfigurationService>(),
                client.get::<HostBasedSetupService>(),
            );
            let hbs = match hbs {
                Ok(h) => Some(h),
                Err(e) if is_access_denied(&e) || is_fatal(&e) => return Err(e),
                // Older firmware has no host-based setup service.
                Err(_) => None,
            };
            Ok::<_, ClientError>(general(&software?, &settings?, &setup?, hbs.as_ref()))
        };
        let (hardware, general, clock, events, audit) = tokio::join!(
            hardware_read,
            general_read,
            read_clock(&client),
            read_events(&client),
            read_audit(&client)
        );
        let audit = match audit {
            Ok((total, records)) => {
                let names = self.sid_names(&initiator_sids(&records)).await;
                Ok(AuditLogView {
                    total,
                    entries: audit_entries(&records, &names),
                })
            }
            Err(e) => Err(e),
        };
        let mut details = DeviceDetails {
            device: shared::DeviceRow::from(&device),
            acting_as,
            power,
            hardware: part(&fqdn, realms::HARDWARE_ASSET, hardware),
            general: part(&fqdn, realms::GENERAL_INFO, general),
            clock: part(&fqdn, realms::NETWORK_TIME, clock),
            events: part(&fqdn, realms::EVENT_LOG_READER, events.map(|r| event_entries(&r))),
            audit: part(&fqdn, realms::AUDIT_LOG, audit),
            rights: Vec::new(),
        };
        details.rights = rights(&details);
        DeviceOutcome::Ok(details)
    }

    /// Account names for SIDs, best effort: an unknown SID, or a directory that does not
    /// answer, leaves the SID shown.
    async fn sid_names(&self, sids: &[String]) -> HashMap<String, String> {
        if sids.is_empty() {
            return HashMap::new();
        }
        match &self.directory {
            Some(dir) => dir.names_for(sids).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "audit log initiators not resolved");
                HashMap::new()
            }),
            None => HashMap::new(),
        }
    }

    /// Sets the device clock to the portal's, as `user` (Network Time realm), audited.
    pub async fn sync_clock(&self, user: &SessionUser, id: i64) -> DeviceOutcome<String> {
        let (device, source) = match self.device_and_user(user, id).await {
            Ok(x) => x,
            Err(r) => return r.into(),
        };
        let client = self.client_for(&device, source);
        let what = "clock: synchronize";
        let result = set_clock(&client).await;
        match result {
            Ok(offset) => {
                let detail = format!("the device clock was {}", describe_offset(offset));
                crate::audit::record(
                    &self.pool,
                    Some(&user.principal),
                    what,
                    Some(&device.fqdn),
                    "ok",
                    Some(&detail),
                )
                .await;
                tracing::info!(user.principal = %user.principal, device.fqdn = %device.fqdn, offset, "device clock synchronised");
                DeviceOutcome::Ok(format!(
                    "{}: clock synchronized (it was {}).",
                    device.fqdn,
                    describe_offset(offset)
                ))
            }
            Err(e) => self
                .refuse_audited(&device, user, e, realms::NETWORK_TIME, what)
                .await
                .into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use amt::Sid;

    fn rec(initiator: Initiator, app_id: u16, event_id: u16, ts: u32) -> AuditRecord {
        AuditRecord {
            app_id,
            event_id,
            initiator,
            timestamp: ts,
            mc_location_type: 0,
            net_address: "10.0.0.5".into(),
            extended_data: Vec::new(),
        }
    }

    #[test]
    fn audit_initiators_are_named_from_the_directory_or_left_as_sids() {
        let alice: Sid = "S-1-5-21-1-2-3-1104".parse().expect("sid");
        let stranger: Sid = "S-1-5-21-1-2-3-9999".parse().expect("sid");
        let k = |s: &Sid| Initiator::Kerberos {
            user_in_domain: 0,
            sid: Some(s.clone()),
            raw: s.to_bytes(),
        };
        let records = vec![
            rec(Initiator::Digest("admin".into()), 16, 2, 1_700_000_000),
            rec(k(&alice), 17, 2, 1_700_000_100),
            rec(k(&stranger), 17, 2, 1_700_000_200),
        ];
        assert_eq!(
            initiator_sids(&records),
            vec!["S-1-5-21-1-2-3-1104".to_string(), "S-1-5-21-1-2-3-9999".to_string()]
        );
        let names = HashMap::from([("S-1-5-21-1-2-3-1104".to_string(), "alice".to_string())]);
        let e = audit_entries(&records, &names);
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].initiator, "S-1-5-21-1-2-3-9999", "newest first, unknown SID kept");
        assert_eq!(e[1].initiator, "alice");
        assert_eq!(e[1].initiator_sid.as_deref(), Some("S-1-5-21-1-2-3-1104"));
        assert_eq!(e[2].initiator, "admin (Digest)");
        assert_eq!(e[2].time, "2023-11-14T22:13:20Z");
        assert_eq!(e[2].address, "10.0.0.5");
    }

    #[test]
    fn audit_reads_cover_the_newest_records() {
        assert!(audit_read_starts(7, 50).is_empty());
        assert_eq!(audit_read_starts(25, 50), vec![11, 21]);
        assert_eq!(audit_read_starts(100, 50), vec![51, 61, 71, 81, 91]);
        assert_eq!(audit_read_starts(1000, 50), vec![951, 961, 971, 981, 991]);
    }

    #[test]
    fn event_log_is_decoded_newest_first() {
        let records = vec![
            "IgYBZf8PbwJoAf8iAEAHAAAAAAAA".to_string(),
            "Y8iYZf8GbwVoEP8mYaoKAAAAAAAA".to_string(),
            "%%".to_string(),
        ];
        let e = event_entries(&records);
        assert_eq!(e.len(), 3);
        assert!(e[0].description.starts_with("unreadable record"));
        assert_eq!(e[1].severity, "Critical");
        assert_eq!(
            e[1].description,
            "Authentication failed 10 times. The system may be under attack."
        );
        assert_eq!(e[2].source, "BIOS");
        assert_eq!(e[2].description, "System firmware progress: PCI resource configuration");
    }

    #[test]
    fn inventory_is_flattened_for_the_page() {
        let c = Chassis {
            manufacturer: Some("Intel Corporation".into()),
            model: Some("NUC".into()),
            serial_number: Some("SIM000000001".into()),
            ..Default::default()
        };
        let p = ComputerSystemPackage {
            platform_guid: Some("13AEE355D2BFBB6117A088AEDD7037EA".into()),
            ..Default::default()
        };
        let n = EthernetPortSettings {
            mac_address: Some("c8-d9-d2-00-00-01".into()),
            dhcp_enabled: Some(true),
            physical_connection_type: Some(0),
            ..Default::default()
        };
        let h = hardware(&[c], &[p], &[], &[], &[], &[n]);
        assert_eq!(h.manufacturer, "Intel Corporation");
        assert_eq!(h.platform_guid, "55e3ae13-bfd2-61bb-17a0-88aedd7037ea");
        assert_eq!(h.network[0].mac, "c8:d9:d2:00:00:01");
        assert_eq!(h.network[0].kind, "wired");
        let g = general(
            &[SoftwareIdentity {
                instance_id: Some("AMT".into()),
                is_entity: Some(true),
                version_string: Some("16.1.25".into()),
            }],
            &GeneralSettings {
                host_name: Some("amt1".into()),
                domain_name: Some("example.test".into()),
                ..Default::default()
            },
            &SetupAndConfigurationService {
                provisioning_state: Some(amt::models::setup::ProvisioningState::Post),
                ..Default::default()
            },
            None,
        );
        assert_eq!(g.amt_version, "16.1.25");
        assert_eq!(g.provisioning_state, "Post-provisioning (provisioned)");
        assert!(g.control_mode.starts_with("not reported"));
    }

    #[test]
    fn refusals_map_to_parts() {
        let denied = ClientError::Fault(amt::Fault {
            code: (String::new(), "Sender".into()),
            subcode: Some(FaultSubcode::AccessDenied),
            reason: "The sender was not authorized to access the resource.".into(),
            detail: None,
        });
        assert!(is_access_denied(&denied));
        match part::<u8>("amt1", realms::HARDWARE_ASSET, Err(denied)) {
            Part::NotAllowed { message, .. } => assert_eq!(message, "not allowed: needs the Hardware Asset realm"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            part::<u8>("amt1", realms::HARDWARE_ASSET, Err(ClientError::ServerError)),
            Part::Failed { .. }
        ));
        assert!(is_fatal(&ClientError::Unauthorized { schemes: vec![] }));
        assert!(!is_fatal(&ClientError::ServerError));
    }
}
