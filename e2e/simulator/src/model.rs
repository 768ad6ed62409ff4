//! The classes a simulated device exposes and their instances, built from the device
//! state on each request (inventory is derived from the device index, not stored).
//!
//! Keys, element names and values follow the captured responses in
//! `server/amt/tests/fixtures/`; properties are written in alphabetical order as AMT does.

use crate::state::{DeviceState, realm};
use amt::digest::md5_hex;
use amt::wsman::{EndpointReference, Properties};

/// Writable properties of AMT_BootSettingData with their defaults (fixture values).
pub const BOOT_WRITABLE: &[(&str, &str)] = &[
    ("BIOSPause", "false"),
    ("BIOSSetup", "false"),
    ("BootMediaIndex", "0"),
    ("ConfigurationDataReset", "false"),
    ("EnforceSecureBoot", "false"),
    ("FirmwareVerbosity", "0"),
    ("ForcedProgressEvents", "false"),
    ("IDERBootDevice", "0"),
    ("LockKeyboard", "false"),
    ("LockPowerButton", "false"),
    ("LockResetButton", "false"),
    ("LockSleepButton", "false"),
    ("PlatformErase", "false"),
    ("ReflashBIOS", "false"),
    ("SecureErase", "false"),
    ("UefiBootNumberOfParams", "0"),
    ("UseIDER", "false"),
    ("UseSOL", "false"),
    ("UseSafeMode", "false"),
    ("UserPasswordBypass", "false"),
];

/// Boot sources a device offers (CIM_BootSourceSetting InstanceIDs).
pub const BOOT_SOURCES: &[&str] = &[
    "Intel(r) AMT: Force Hard-drive Boot",
    "Intel(r) AMT: Force PXE Boot",
    "Intel(r) AMT: Force CD/DVD Boot",
];

/// What the simulator knows about a class.
pub struct ClassInfo {
    /// The realm a user needs to use the class at all.
    pub realm: u8,
    /// Namespace of items in a PullResponse (association classes return another class).
    pub item_class: &'static str,
}

/// The class table: `None` when the device does not have this class (DestinationUnreachable).
pub fn class_info(class: &str, st: &DeviceState) -> Option<ClassInfo> {
    use realm::*;
    let (realm, item_class) = match class {
        "AMT_GeneralSettings" | "CIM_SoftwareIdentity" | "AMT_SetupAndConfigurationService" => (GENERAL_INFO, class),
        "IPS_HostBasedSetupService" | "IPS_OptInService" if !st.old_generation() => (GENERAL_INFO, class),
        "CIM_ComputerSystemPackage"
        | "CIM_Chassis"
        | "CIM_BIOSElement"
        | "CIM_Processor"
        | "CIM_PhysicalMemory"
        | "AMT_EthernetPortSettings" => (HARDWARE_ASSET, class),
        "CIM_AssociatedPowerManagementService"
        | "CIM_PowerManagementService"
        | "CIM_PowerManagementCapabilities"
        | "AMT_BootCapabilities"
        | "AMT_BootSettingData"
        | "CIM_BootConfigSetting"
        | "CIM_BootService"
        | "CIM_BootSourceSetting" => (REMOTE_CONTROL, class),
        "CIM_ServiceAvailableToElement" => (REMOTE_CONTROL, "CIM_AssociatedPowerManagementService"),
        "AMT_RedirectionService" => (REDIRECTION, class),
        "AMT_MessageLog" => (EVENT_LOG_READER, class),
        "AMT_AuditLog" => (AUDIT_LOG, class),
        "AMT_TimeSynchronizationService" => (NETWORK_TIME, class),
        "AMT_KerberosSettingData" | "AMT_AuthorizationService" => (PT_ADMINISTRATION, class),
        _ => return None,
    };
    Some(ClassInfo {
        realm,
        item_class: match item_class {
            "CIM_AssociatedPowerManagementService" => "CIM_AssociatedPowerManagementService",
            _ => static_class(class),
        },
    })
}

fn static_class(class: &str) -> &'static str {
    const ALL: &[&str] = &[
        "AMT_GeneralSettings",
        "CIM_SoftwareIdentity",
        "AMT_SetupAndConfigurationService",
        "IPS_HostBasedSetupService",
        "IPS_OptInService",
        "CIM_ComputerSystemPackage",
        "CIM_Chassis",
        "CIM_BIOSElement",
        "CIM_Processor",
        "CIM_PhysicalMemory",
        "AMT_EthernetPortSettings",
        "CIM_AssociatedPowerManagementService",
        "CIM_PowerManagementService",
        "CIM_PowerManagementCapabilities",
        "AMT_BootCapabilities",
        "AMT_BootSettingData",
        "CIM_BootConfigSetting",
        "CIM_BootService",
        "CIM_BootSourceSetting",
        "AMT_RedirectionService",
        "AMT_MessageLog",
        "AMT_AuditLog",
        "AMT_TimeSynchronizationService",
        "AMT_KerberosSettingData",
        "AMT_AuthorizationService",
    ];
    ALL.iter().copied().find(|c| *c == class).unwrap_or("")
}

/// One instance of a class: its element name and properties, in the order AMT writes them
/// (alphabetical).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// Class name, e.g. `AMT_GeneralSettings`; the element name in responses.
    pub class: String,
    /// Properties.
    pub props: Properties,
}

impl Instance {
    /// An empty instance of a class.
    pub fn new(class: &str) -> Instance {
        Instance {
            class: class.to_string(),
            props: Properties::new(),
        }
    }

    /// Adds a text property.
    pub fn t(mut self, name: &str, value: impl std::fmt::Display) -> Instance {
        self.props = self.props.text(name, value);
        self
    }

    /// Adds an array property (one element per item).
    pub fn list<T: std::fmt::Display>(mut self, name: &str, values: impl IntoIterator<Item = T>) -> Instance {
        self.props = self.props.list(name, values);
        self
    }

    /// Adds a CIM datetime property.
    pub fn datetime(mut self, name: &str, value: &str) -> Instance {
        self.props = self.props.datetime(name, value);
        self
    }

    /// Adds an endpoint reference property.
    pub fn epr(mut self, name: &str, epr: EndpointReference) -> Instance {
        self.props = self.props.epr(name, epr);
        self
    }
}

fn epr(class: &str, selectors: &[(&str, &str)]) -> EndpointReference {
    EndpointReference::new(class, selectors)
}

fn service(class: &str, name: &str) -> Instance {
    Instance::new(class)
        .t("CreationClassName", class)
        .t("ElementName", name)
        .t("Name", name)
        .t("SystemCreationClassName", "CIM_ComputerSystem")
        .t("SystemName", "Intel(r) AMT")
}

fn bool_s(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// The instances of `class` on this device (empty when the class is unknown).
pub fn instances(class: &str, st: &DeviceState) -> Vec<Instance> {
    let n = st.index;
    let host = st.fqdn.split('.').next().unwrap_or_default().to_string();
    let domain = st.fqdn.split_once('.').map(|x| x.1).unwrap_or_default();
    match class {
        "AMT_GeneralSettings" => vec![
            Instance::new(class)
                .t("AMTNetworkEnabled", 1)
                .t("DDNSPeriodicUpdateInterval", 1440)
                .t("DDNSTTL", 900)
                .t("DDNSUpdateByDHCPServerEnabled", "true")
                .t("DDNSUpdateEnabled", "false")
                .t("DHCPSyncRequiresHostname", 1)
                .t("DHCPv6ConfigurationTimeout", 0)
                .t("DigestRealm", &st.digest_realm)
                .t("DomainName", domain)
                .t("ElementName", "Intel(r) AMT: General Settings")
                .t("HostName", &host)
                .t("HostOSFQDN", &st.fqdn)
                .t("IdleWakeTimeout", 1)
                .t("InstanceID", "Intel(r) AMT: General Settings")
                .t("NetworkInterfaceEnabled", "true")
                .t("PingResponseEnabled", "true")
                .t("PowerSource", 0)
                .t("PreferredAddressFamily", 0)
                .t("PresenceNotificationInterval", 0)
                .t("PrivacyLevel", 0)
                .t("RmcpPingResponseEnabled", "true")
                .t("SharedFQDN", "true")
                .t("ThunderboltDockEnabled", 0)
                .t("WsmanOnlyMode", "false"),
        ],
        "CIM_SoftwareIdentity" => {
            let mut v = vec![
                ("Flash", st.amt_version.clone()),
                ("Netstack", st.amt_version.clone()),
                ("AMTApps", st.amt_version.clone()),
                ("AMT", st.amt_version.clone()),
                ("Sku", "16392".to_string()),
                ("VendorID", "8086".to_string()),
                ("Build Number", st.build_number.clone()),
                ("Recovery Version", st.amt_version.clone()),
                ("Recovery Build Num", st.build_number.clone()),
                ("Legacy Mode", "False".to_string()),
            ];
            if !st.old_generation() {
                v.push(("AMT FW Core Version", st.amt_version.clone()));
            }
            v.into_iter()
                .map(|(id, ver)| {
                    Instance::new(class)
                        .t("InstanceID", id)
                        .t("IsEntity", "true")
                        .t("VersionString", ver)
                })
                .collect()
        }
        "AMT_SetupAndConfigurationService" => vec![
            Instance::new(class)
                .t("CreationClassName", class)
                .t("ElementName", "Intel(r) AMT Setup and Configuration Service")
                .t("EnabledState", 5)
                .t("Name", "Intel(r) AMT Setup and Configuration Service")
                .t("PasswordModel", 1)
                .t("ProvisioningMode", if st.control_mode == 1 { 4 } else { 1 })
                .t("ProvisioningServerOTP", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
                .t("ProvisioningState", st.provisioning_state)
                .t("RequestedState", 12)
                .t("SystemCreationClassName", "CIM_ComputerSystem")
                .t("SystemName", "Intel(r) AMT")
                .t("ZeroTouchConfigurationEnabled", "true"),
        ],
        "IPS_HostBasedSetupService" => vec![
            Instance::new(class)
                .list("AllowedControlModes", [2, 1])
                .t("CertChainStatus", 0)
                .t("ConfigurationNonce", "4P3sY7swlhjkhJNxDkEBIUcmpHE=")
                .t("CreationClassName", class)
                .t("CurrentControlMode", st.control_mode)
                .t("ElementName", "Intel(r) AMT Host Based Setup Service")
                .t("Name", "Intel(r) AMT Host Based Setup Service")
                .t("SystemCreationClassName", "CIM_ComputerSystem")
                .t("SystemName", "Intel(r) AMT"),
        ],
        "IPS_OptInService" => vec![
            Instance::new(class)
                .t("CanModifyOptInPolicy", 1)
                .t("CreationClassName", class)
                .t("ElementName", "Intel(r) AMT OptIn Service")
                .t("Name", "Intel(r) AMT OptIn Service")
                .t("OptInCodeTimeout", 120)
                .t("OptInDisplayTimeout", 300)
                .t("OptInRequired", st.opt_in_required)
                .t("OptInState", st.opt_in_state)
                .t("SystemCreationClassName", "CIM_ComputerSystem")
                .t("SystemName", "Intel(r) AMT"),
        ],
        "CIM_ComputerSystemPackage" => vec![
            Instance::new(class)
                .epr(
                    "Antecedent",
                    epr(
                        "CIM_Chassis",
                        &[("CreationClassName", "CIM_Chassis"), ("Tag", "CIM_Chassis")],
                    ),
                )
                .epr(
                    "Dependent",
                    epr(
                        "CIM_ComputerSystem",
                        &[("CreationClassName", "CIM_ComputerSystem"), ("Name", "ManagedSystem")],
                    ),
                )
                .t(
                    "PlatformGUID",
                    md5_hex(&format!("amt-sim guid {}", st.fqdn)).to_uppercase(),
                ),
        ],
        "CIM_Chassis" => vec![
            Instance::new(class)
                .t("ChassisPackageType", 0)
                .t("CreationClassName", class)
                .t("ElementName", "Managed System Chassis")
                .t("Manufacturer", &st.manufacturer)
                .t("Model", &st.model)
                .t("OperationalStatus", 0)
                .t("PackageType", 3)
                .t("SerialNumber", format!("SIM{n:09}"))
                .t("Tag", "CIM_Chassis")
                .t("Version", "K47174-402"),
        ],
        "CIM_BIOSElement" => {
            let ver = if st.old_generation() {
                "DQ4510H.86A.0061.2008.0909.1403"
            } else {
                "QNCFLX70.0054.2020.0810.2227"
            };
            vec![
                Instance::new(class)
                    .t("ElementName", "Primary BIOS")
                    .t("Manufacturer", "Intel Corp.")
                    .t("Name", "Primary BIOS")
                    .t("OperationalStatus", 0)
                    .t("PrimaryBIOS", "true")
                    .datetime("ReleaseDate", "2020-08-10T00:00:00Z")
                    .t("SoftwareElementID", ver)
                    .t("SoftwareElementState", 2)
                    .t("TargetOperatingSystem", 66)
                    .t("Version", ver),
            ]
        }
        "CIM_Processor" => vec![
            Instance::new(class)
                .t("CPUStatus", if st.is_on() { 1 } else { 0 })
                .t("CreationClassName", class)
                .t("CurrentClockSpeed", 2400)
                .t("DeviceID", "CPU 0")
                .t("ElementName", "Managed System CPU")
                .t("EnabledState", 2)
                .t("ExternalBusClockSpeed", 100)
                .t("Family", 198)
                .t("HealthState", 0)
                .t("MaxClockSpeed", 8300)
                .t("OperationalStatus", 0)
                .t("OtherFamilyDescription", "")
                .t("RequestedState", 12)
                .t("Role", "Central")
                .t("Stepping", 13)
                .t("SystemCreationClassName", "CIM_ComputerSystem")
                .t("SystemName", "ManagedSystem")
                .t("UpgradeMethod", 52),
        ],
        "CIM_PhysicalMemory" => (0..2u32)
            .map(|bank| {
                Instance::new(class)
                    .t("BankLabel", format!("BANK {}", bank * 2))
                    .t("Capacity", 17_179_869_184u64)
                    .t("ConfiguredMemoryClockSpeed", 2400)
                    .t("CreationClassName", class)
                    .t("ElementName", "Managed System Memory Chip")
                    .t("FormFactor", 13)
                    .t("IsSpeedInMhz", "true")
                    .t("Manufacturer", "859B")
                    .t("MaxMemorySpeed", 2400)
                    .t("MemoryType", 26)
                    .t("PartNumber", "CT16G4SFD824A.M16FE ")
                    .t("SerialNumber", format!("{:08X}", 0xE0E8_0000u32 + n * 2 + bank))
                    .t("Speed", 0)
                    .t(
                        "Tag",
                        if bank == 0 {
                            "9876543210".to_string()
                        } else {
                            format!("9876543210 (#{bank})")
                        },
                    )
            })
            .collect(),
        "AMT_EthernetPortSettings" => vec![
            Instance::new(class)
                .t("DHCPEnabled", "true")
                .t("DefaultGateway", "192.168.0.1")
                .t("ElementName", "Intel(r) AMT Ethernet Port Settings")
                .t("InstanceID", "Intel(r) AMT Ethernet Port Settings 0")
                .t("IpSyncEnabled", "true")
                .t("LinkIsUp", bool_s(true))
                .list("LinkPolicy", [1, 14])
                .t(
                    "MACAddress",
                    format!(
                        "c8-d9-d2-{:02x}-{:02x}-{:02x}",
                        (n >> 16) & 0xFF,
                        (n >> 8) & 0xFF,
                        n & 0xFF
                    ),
                )
                .t("PhysicalConnectionType", 0)
                .t("PrimaryDNS", "192.168.0.53")
                .t("SecondaryDNS", "192.168.0.54")
                .t("SharedDynamicIP", "true")
                .t("SharedMAC", "true")
                .t("SharedStaticIp", "false")
                .t("SubnetMask", "255.255.255.0"),
        ],
        "CIM_AssociatedPowerManagementService" | "CIM_ServiceAvailableToElement" => vec![
            Instance::new("CIM_AssociatedPowerManagementService")
                .list("AvailableRequestedPowerStates", st.available_power_states())
                .t("PowerState", st.power_state)
                .epr(
                    "ServiceProvided",
                    epr(
                        "CIM_PowerManagementService",
                        &[
                            ("CreationClassName", "CIM_PowerManagementService"),
                            ("Name", "Intel(r) AMT Power Management Service"),
                            ("SystemCreationClassName", "CIM_ComputerSystem"),
                            ("SystemName", "Intel(r) AMT"),
                        ],
                    ),
                )
                .epr(
                    "UserOfService",
                    epr(
                        "CIM_ComputerSystem",
                        &[("CreationClassName", "CIM_ComputerSystem"), ("Name", "ManagedSystem")],
                    ),
                ),
        ],
        "CIM_PowerManagementService" => vec![
            service(class, "Intel(r) AMT Power Management Service")
                .t("EnabledState", 5)
                .t("RequestedState", 12),
        ],
        "CIM_PowerManagementCapabilities" => {
            let states: Vec<u16> = [5u16, 8, 2, 10, 11, 12, 14]
                .into_iter()
                .filter(|s| st.supported_power_states().contains(s))
                .collect();
            vec![
                Instance::new(class)
                    .t("ElementName", "Power Management Capabilities")
                    .t("InstanceID", "Intel(r) AMT:PowerManagementCapabilities 0")
                    .t("OtherPowerChangeCapabilities", "")
                    .list("PowerChangeCapabilities", [2, 3, 4, 7, 8])
                    .list("PowerStatesSupported", states.clone())
                    .list("RequestedPowerStatesSupported", states),
            ]
        }
        "AMT_BootCapabilities" => vec![
            Instance::new(class)
                .t("BIOSPause", "false")
                .t("BIOSReflash", "true")
                .t("BIOSSecureBoot", bool_s(!st.old_generation()))
                .t("BIOSSetup", "true")
                .t("ConfigurationDataReset", "false")
                .t("ElementName", "Intel(r) AMT: Boot Capabilities")
                .t("ForceCDorDVDBoot", "true")
                .t("ForceDiagnosticBoot", "false")
                .t("ForceHardDriveBoot", "true")
                .t("ForceHardDriveSafeModeBoot", "false")
                .t("ForcePXEBoot", "true")
                .t("ForcedProgressEvents", "true")
                .t("IDER", "true")
                .t("InstanceID", "Intel(r) AMT:BootCapabilities 0")
                .t("KeyboardLock", "true")
                .t("PowerButtonLock", "false")
                .t("ResetButtonLock", "false")
                .t("SOL", "true")
                .t("SecureErase", "false")
                .t("SleepButtonLock", "false")
                .t("UserPasswordBypass", "true")
                .t("VerbosityQuiet", "false")
                .t("VerbosityScreenBlank", "false")
                .t("VerbosityVerbose", "false"),
        ],
        "AMT_BootSettingData" => {
            let w = |k: &str| -> String {
                st.boot.settings.get(k).cloned().unwrap_or_else(|| {
                    BOOT_WRITABLE
                        .iter()
                        .find(|(n, _)| *n == k)
                        .map(|(_, v)| v.to_string())
                        .unwrap_or_default()
                })
            };
            let mut i = Instance::new(class)
                .list("BIOSLastStatus", [2, 0])
                .t("BIOSPause", w("BIOSPause"))
                .t("BIOSSetup", w("BIOSSetup"))
                .t("BootMediaIndex", w("BootMediaIndex"))
                .t("BootguardStatus", 127)
                .t("ConfigurationDataReset", w("ConfigurationDataReset"))
                .t("ElementName", "Intel(r) AMT Boot Configuration Settings")
                .t("EnforceSecureBoot", w("EnforceSecureBoot"))
                .t("FirmwareVerbosity", w("FirmwareVerbosity"))
                .t("ForcedProgressEvents", w("ForcedProgressEvents"))
                .t("IDERBootDevice", w("IDERBootDevice"))
                .t("InstanceID", "Intel(r) AMT:BootSettingData 0")
                .t("LockKeyboard", w("LockKeyboard"))
                .t("LockPowerButton", w("LockPowerButton"))
                .t("LockResetButton", w("LockResetButton"))
                .t("LockSleepButton", w("LockSleepButton"))
                .t("OptionsCleared", bool_s(st.boot.settings.is_empty()))
                .t("OwningEntity", "Intel(r) AMT")
                .t("PlatformErase", w("PlatformErase"))
                .t("RPEEnabled", "true")
                .t("RSEPassword", "")
                .t("ReflashBIOS", w("ReflashBIOS"))
                .t("SecureBootControlEnabled", "true")
                .t("SecureErase", w("SecureErase"))
                .t("UEFIHTTPSBootEnabled", "true")
                .t("UEFILocalPBABootEnabled", "true")
                .t("UefiBootNumberOfParams", w("UefiBootNumberOfParams"))
                .t("UseIDER", w("UseIDER"))
                .t("UseSOL", w("UseSOL"))
                .t("UseSafeMode", w("UseSafeMode"))
                .t("UserPasswordBypass", w("UserPasswordBypass"))
                .t("WinREBootEnabled", "true");
            if st.old_generation() {
                i.props
                    .0
                    .retain(|(k, _)| !k.starts_with("UEFI") && !k.starts_with("Uefi") && k != "WinREBootEnabled");
            }
            vec![i]
        }
        "CIM_BootConfigSetting" => vec![
            Instance::new(class)
                .t("ElementName", "Intel(r) AMT: Boot Configuration")
                .t("InstanceID", "Intel(r) AMT: Boot Configuration 0"),
        ],
        "CIM_BootService" => vec![
            service(class, "Intel(r) AMT Boot Service")
                .t("EnabledState", 32769)
                .t("OperationalStatus", 0)
                .t("RequestedState", 12),
        ],
        "CIM_BootSourceSetting" => BOOT_SOURCES
            .iter()
            .map(|id| {
                Instance::new(class)
                    .t("ElementName", *id)
                    .t("FailThroughSupported", 2)
                    .t("InstanceID", *id)
                    .t("StructuredBootString", "CIM:Network:1")
            })
            .collect(),
        "AMT_RedirectionService" => vec![
            Instance::new(class)
                .t("CreationClassName", class)
                .t("ElementName", "Intel(r) AMT Redirection Service")
                .t("EnabledState", st.redirection.enabled_state)
                .t("ListenerEnabled", bool_s(st.redirection.listener_enabled))
                .t("Name", "Intel(r) AMT Redirection Service")
                .t("SystemCreationClassName", "CIM_ComputerSystem")
                .t("SystemName", "Intel(r) AMT"),
        ],
        "AMT_MessageLog" => vec![
            Instance::new(class)
                .t("CreationClassName", class)
                .t("CurrentNumberOfRecords", st.event_log.len())
                .t("ElementName", "Intel(r) AMT:MessageLog 1")
                .t("EnabledState", 2)
                .t("MaxNumberOfRecords", crate::state::EVENT_LOG_CAPACITY)
                .t("Name", "Intel(r) AMT:MessageLog 1")
                .t("OverwritePolicy", 2),
        ],
        "AMT_AuditLog" => vec![
            Instance::new(class)
                .t("CreationClassName", class)
                .t("CurrentNumberOfRecords", st.audit_log.len())
                .t("ElementName", "Intel(r) AMT:Audit Log")
                .t("EnabledState", 2)
                .t("MaxNumberOfRecords", crate::state::AUDIT_LOG_CAPACITY)
                .t("Name", "Intel(r) AMT:Audit Log")
                .t("OverwritePolicy", 2)
                .t("StoragePolicy", 1),
        ],
        "AMT_TimeSynchronizationService" => vec![
            service(class, "Intel(r) AMT Time Synchronization Service")
                .t("EnabledState", 5)
                .t("LocalTimeSyncEnabled", 0)
                .t("RequestedState", 12)
                .t("TimeSource", 1),
        ],
        "AMT_KerberosSettingData" => {
            let k = &st.kerberos;
            let supported: &[u16] = if st.major() >= 8 { &[0, 1, 2] } else { &[0] };
            let mut i = Instance::new(class);
            if k.configured {
                i = i
                    .list("ConfiguredEncryptionAlgorithms", k.configured_encryption.clone())
                    .t("ElementName", "Intel(r) AMT: Kerberos Settings")
                    .t("EncryptionAlgorithm", 0)
                    .t("InstanceID", "Intel (r) AMT: Kerberos Settings")
                    .t("KeyVersion", k.key_version)
                    .t("KrbEnabled", bool_s(k.enabled))
                    .t("MaximumClockTolerance", k.max_clock_tolerance)
                    .t("RealmName", &k.realm)
                    .list("SupportedEncryptionAlgorithms", supported.to_vec());
            } else {
                i = i
                    .t("ElementName", "Intel(r) AMT: Kerberos Settings")
                    .t("InstanceID", "Intel (r) AMT: Kerberos Settings")
                    .t("KrbEnabled", "false")
                    .list("SupportedEncryptionAlgorithms", supported.to_vec());
            }
            vec![i]
        }
        "AMT_AuthorizationService" => vec![
            service(class, "Intel(r) AMT Authorization Service")
                .t("AllowHttpQopAuthOnly", 1)
                .t("EnabledState", 5)
                .t("RequestedState", 12),
        ],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::DeviceSeed;

    #[test]
    fn every_known_class_has_instances() {
        let st = DeviceState::from_seed(1, &DeviceSeed::default());
        for class in [
            "AMT_GeneralSettings",
            "CIM_SoftwareIdentity",
            "CIM_ServiceAvailableToElement",
            "AMT_KerberosSettingData",
            "CIM_BootSourceSetting",
        ] {
            assert!(class_info(class, &st).is_some(), "{class}");
            assert!(!instances(class, &st).is_empty(), "{class}");
        }
        assert!(class_info("AMT_Nope", &st).is_none());
    }
}
