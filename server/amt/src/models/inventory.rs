//! Inventory classes: firmware versions, platform GUID, chassis, BIOS, CPU, memory, NIC (§2.3).

use crate::models::{CimDateTime, model};
use crate::props_struct;
use crate::wsman::EndpointReference;

props_struct! {
    /// One `CIM_SoftwareIdentity` item (InstanceID `AMT`, `Flash`, `Sku`, …).
    pub struct SoftwareIdentity {
        /// Which component (`AMT` holds the AMT version).
        instance_id: Option<String> = "InstanceID",
        /// Always true.
        is_entity: Option<bool> = "IsEntity",
        /// The version (or value) string.
        version_string: Option<String> = "VersionString",
    }
}
model!(SoftwareIdentity, "CIM_SoftwareIdentity");

impl SoftwareIdentity {
    /// The AMT firmware version (`VersionString` of InstanceID `AMT`) among enumerated items.
    pub fn amt_version(items: &[SoftwareIdentity]) -> Option<&str> {
        Self::find(items, "AMT")
    }

    /// The `VersionString` of the item with this InstanceID.
    pub fn find<'a>(items: &'a [SoftwareIdentity], instance_id: &str) -> Option<&'a str> {
        items
            .iter()
            .find(|i| i.instance_id.as_deref() == Some(instance_id))
            .and_then(|i| i.version_string.as_deref())
    }
}

props_struct! {
    /// `CIM_ComputerSystemPackage`: links chassis and system, carries the platform GUID.
    pub struct ComputerSystemPackage {
        /// EPR to the `CIM_Chassis`.
        antecedent: Option<EndpointReference> = "Antecedent",
        /// EPR to the `CIM_ComputerSystem`.
        dependent: Option<EndpointReference> = "Dependent",
        /// 32 hex digits in SMBIOS byte order.
        platform_guid: Option<String> = "PlatformGUID",
    }
}
model!(ComputerSystemPackage, "CIM_ComputerSystemPackage");

impl ComputerSystemPackage {
    /// The GUID as MeshCommander prints it (bytes 0–3, 4–5, 6–7 swapped, dashed, lower case).
    pub fn platform_guid_display(&self) -> Option<String> {
        self.platform_guid.as_deref().and_then(guid_display)
    }
}

/// Formats 32 hex digits in SMBIOS byte order as a dashed GUID with the first three groups
/// byte-swapped (MC `guidToStr`). `None` when the input is not 32 hex digits.
pub fn guid_display(hex32: &str) -> Option<String> {
    let b = hex::decode(hex32.trim()).ok()?;
    if b.len() != 16 {
        return None;
    }
    let h = |r: &[u8]| hex::encode(r);
    let rev = |r: &[u8]| {
        let mut v = r.to_vec();
        v.reverse();
        hex::encode(v)
    };
    Some(format!(
        "{}-{}-{}-{}-{}",
        rev(&b[0..4]),
        rev(&b[4..6]),
        rev(&b[6..8]),
        h(&b[8..10]),
        h(&b[10..16])
    ))
}

props_struct! {
    /// `CIM_Chassis` (Tag `CIM_Chassis`).
    pub struct Chassis {
        /// Chassis package type.
        chassis_package_type: Option<u32> = "ChassisPackageType",
        /// Key.
        creation_class_name: Option<String> = "CreationClassName",
        /// Element name.
        element_name: Option<String> = "ElementName",
        /// Manufacturer.
        manufacturer: Option<String> = "Manufacturer",
        /// Model.
        model: Option<String> = "Model",
        /// Operational status values.
        operational_status: Vec<u16> = "OperationalStatus",
        /// Package type (3 = chassis).
        package_type: Option<u32> = "PackageType",
        /// Serial number.
        serial_number: Option<String> = "SerialNumber",
        /// Key.
        tag: Option<String> = "Tag",
        /// Version.
        version: Option<String> = "Version",
    }
}
model!(Chassis, "CIM_Chassis");

props_struct! {
    /// `CIM_BIOSElement`.
    pub struct BiosElement {
        /// Element name.
        element_name: Option<String> = "ElementName",
        /// Manufacturer.
        manufacturer: Option<String> = "Manufacturer",
        /// Name.
        name: Option<String> = "Name",
        /// Operational status values.
        operational_status: Vec<u16> = "OperationalStatus",
        /// Primary BIOS.
        primary_bios: Option<bool> = "PrimaryBIOS",
        /// Release date (datetime child).
        release_date: Option<CimDateTime> = "ReleaseDate",
        /// Software element ID.
        software_element_id: Option<String> = "SoftwareElementID",
        /// Software element state.
        software_element_state: Option<u32> = "SoftwareElementState",
        /// Target OS.
        target_operating_system: Option<u32> = "TargetOperatingSystem",
        /// BIOS version.
        version: Option<String> = "Version",
    }
}
model!(BiosElement, "CIM_BIOSElement");

props_struct! {
    /// `CIM_Processor`.
    pub struct Processor {
        /// CPU status.
        cpu_status: Option<u32> = "CPUStatus",
        /// Key.
        creation_class_name: Option<String> = "CreationClassName",
        /// MHz.
        current_clock_speed: Option<u32> = "CurrentClockSpeed",
        /// Key, e.g. `CPU 0`.
        device_id: Option<String> = "DeviceID",
        /// Element name.
        element_name: Option<String> = "ElementName",
        /// Enabled state.
        enabled_state: Option<u32> = "EnabledState",
        /// MHz.
        external_bus_clock_speed: Option<u32> = "ExternalBusClockSpeed",
        /// CIM processor family.
        family: Option<u32> = "Family",
        /// Health state.
        health_state: Option<u32> = "HealthState",
        /// MHz.
        max_clock_speed: Option<u32> = "MaxClockSpeed",
        /// Operational status.
        operational_status: Vec<u16> = "OperationalStatus",
        /// Other family description.
        other_family_description: Option<String> = "OtherFamilyDescription",
        /// Requested state.
        requested_state: Option<u32> = "RequestedState",
        /// Role.
        role: Option<String> = "Role",
        /// Stepping.
        stepping: Option<String> = "Stepping",
        /// Key.
        system_creation_class_name: Option<String> = "SystemCreationClassName",
        /// Key.
        system_name: Option<String> = "SystemName",
        /// Upgrade method.
        upgrade_method: Option<u32> = "UpgradeMethod",
    }
}
model!(Processor, "CIM_Processor");

props_struct! {
    /// `CIM_PhysicalMemory` (one DIMM).
    pub struct PhysicalMemory {
        /// Bank label.
        bank_label: Option<String> = "BankLabel",
        /// Bytes.
        capacity: Option<u64> = "Capacity",
        /// MHz.
        configured_memory_clock_speed: Option<u32> = "ConfiguredMemoryClockSpeed",
        /// Key.
        creation_class_name: Option<String> = "CreationClassName",
        /// Element name.
        element_name: Option<String> = "ElementName",
        /// Form factor.
        form_factor: Option<u32> = "FormFactor",
        /// Speed unit flag.
        is_speed_in_mhz: Option<bool> = "IsSpeedInMhz",
        /// JEDEC manufacturer code.
        manufacturer: Option<String> = "Manufacturer",
        /// MHz.
        max_memory_speed: Option<u32> = "MaxMemorySpeed",
        /// Memory type.
        memory_type: Option<u32> = "MemoryType",
        /// Part number (may end with a space).
        part_number: Option<String> = "PartNumber",
        /// Serial number.
        serial_number: Option<String> = "SerialNumber",
        /// Speed (ns).
        speed: Option<u32> = "Speed",
        /// Key.
        tag: Option<String> = "Tag",
    }
}
model!(PhysicalMemory, "CIM_PhysicalMemory");

props_struct! {
    /// `AMT_EthernetPortSettings` (`… 0` wired, `… 1` wireless).
    pub struct EthernetPortSettings {
        /// DHCP on.
        dhcp_enabled: Option<bool> = "DHCPEnabled",
        /// Gateway.
        default_gateway: Option<String> = "DefaultGateway",
        /// Element name.
        element_name: Option<String> = "ElementName",
        /// Key.
        instance_id: Option<String> = "InstanceID",
        /// Static IP address.
        ip_address: Option<String> = "IPAddress",
        /// IP sync with the host.
        ip_sync_enabled: Option<bool> = "IpSyncEnabled",
        /// Link up.
        link_is_up: Option<bool> = "LinkIsUp",
        /// Link policy values.
        link_policy: Vec<u32> = "LinkPolicy",
        /// MAC, `c8-d9-…`.
        mac_address: Option<String> = "MACAddress",
        /// 0 wired, 1 wireless.
        physical_connection_type: Option<u32> = "PhysicalConnectionType",
        /// DNS.
        primary_dns: Option<String> = "PrimaryDNS",
        /// DNS.
        secondary_dns: Option<String> = "SecondaryDNS",
        /// Shared dynamic IP.
        shared_dynamic_ip: Option<bool> = "SharedDynamicIP",
        /// Shared MAC.
        shared_mac: Option<bool> = "SharedMAC",
        /// Shared static IP.
        shared_static_ip: Option<bool> = "SharedStaticIp",
        /// Netmask.
        subnet_mask: Option<String> = "SubnetMask",
    }
}
model!(EthernetPortSettings, "AMT_EthernetPortSettings");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid() {
        assert_eq!(
            guid_display("13AEE355D2BFBB6117A088AEDD7037EA").as_deref(),
            Some("55e3ae13-bfd2-61bb-17a0-88aedd7037ea")
        );
        assert_eq!(guid_display("xyz"), None);
    }
}
