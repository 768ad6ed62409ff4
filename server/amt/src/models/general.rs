//! `AMT_GeneralSettings`: host name, domain, Digest realm, network switches (§2.3).

use crate::models::model;
use crate::props_struct;

props_struct! {
    /// `AMT_GeneralSettings` (InstanceID `Intel(r) AMT: General Settings`).
    pub struct GeneralSettings {
        /// Whether the AMT network interface is enabled (1 on real firmware).
        amt_network_enabled: Option<u32> = "AMTNetworkEnabled",
        /// DDNS periodic update interval (minutes).
        ddns_periodic_update_interval: Option<u32> = "DDNSPeriodicUpdateInterval",
        /// DDNS TTL (seconds).
        ddns_ttl: Option<u32> = "DDNSTTL",
        /// DDNS updates by the DHCP server.
        ddns_update_by_dhcp_server_enabled: Option<bool> = "DDNSUpdateByDHCPServerEnabled",
        /// DDNS updates by AMT.
        ddns_update_enabled: Option<bool> = "DDNSUpdateEnabled",
        /// DHCP sync requires a host name.
        dhcp_sync_requires_hostname: Option<u32> = "DHCPSyncRequiresHostname",
        /// DHCPv6 configuration timeout.
        dhcpv6_configuration_timeout: Option<u32> = "DHCPv6ConfigurationTimeout",
        /// The Digest realm, `Digest:` + 32 hex digits.
        digest_realm: Option<String> = "DigestRealm",
        /// Domain name.
        domain_name: Option<String> = "DomainName",
        /// Element name.
        element_name: Option<String> = "ElementName",
        /// Host name.
        host_name: Option<String> = "HostName",
        /// Host OS FQDN.
        host_os_fqdn: Option<String> = "HostOSFQDN",
        /// Idle wake timeout.
        idle_wake_timeout: Option<u32> = "IdleWakeTimeout",
        /// Instance key.
        instance_id: Option<String> = "InstanceID",
        /// Network interface enabled.
        network_interface_enabled: Option<bool> = "NetworkInterfaceEnabled",
        /// Answers ICMP ping.
        ping_response_enabled: Option<bool> = "PingResponseEnabled",
        /// 0 AC, 1 battery.
        power_source: Option<u32> = "PowerSource",
        /// Preferred address family.
        preferred_address_family: Option<u32> = "PreferredAddressFamily",
        /// Presence notification interval.
        presence_notification_interval: Option<u32> = "PresenceNotificationInterval",
        /// Privacy level.
        privacy_level: Option<u32> = "PrivacyLevel",
        /// Answers RMCP ping.
        rmcp_ping_response_enabled: Option<bool> = "RmcpPingResponseEnabled",
        /// AMT shares the host's FQDN.
        shared_fqdn: Option<bool> = "SharedFQDN",
        /// Thunderbolt dock enabled.
        thunderbolt_dock_enabled: Option<u32> = "ThunderboltDockEnabled",
        /// WS-Man only mode.
        wsman_only_mode: Option<bool> = "WsmanOnlyMode",
    }
}
model!(GeneralSettings, "AMT_GeneralSettings");

impl GeneralSettings {
    /// The instance key of the one instance.
    pub const INSTANCE_ID: &'static str = "Intel(r) AMT: General Settings";

    /// The FQDN AMT answers to (`HostName.DomainName`), when both are set.
    pub fn fqdn(&self) -> Option<String> {
        match (&self.host_name, &self.domain_name) {
            (Some(h), Some(d)) if !h.is_empty() && !d.is_empty() => Some(format!("{h}.{d}")),
            (Some(h), _) if !h.is_empty() => Some(h.clone()),
            _ => None,
        }
    }
}
