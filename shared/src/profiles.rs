//! Provisioning profiles: which AD users and groups get which AMT realms on a device, where the
//! device's AD object lives, and the device settings applied with it (what Intel SCS called a
//! configuration profile). Validation refuses what firmware would refuse, with a reason.

use serde::{Deserialize, Serialize};

/// SCS and AMT allow at most this many Kerberos (AD user/group) ACL entries per device.
pub const MAX_KERBEROS_ACL_ENTRIES: usize = 32;

/// AMT's Kerberos clock tolerance: default and maximum 5 minutes.
pub const MAX_CLOCK_TOLERANCE_MINUTES: u8 = 5;

/// A profile's longest name, in characters.
pub const MAX_PROFILE_NAME: usize = 64;

/// The AMT realms a profile may grant (AMT_AuthorizationService Realms ValueMap), with the
/// plain names people pick them by. PT Administration implies every realm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Realm {
    Redirection,
    PtAdministration,
    HardwareAsset,
    RemoteControl,
    Storage,
    EventManager,
    StorageAdministration,
    AgentPresenceLocal,
    AgentPresenceRemote,
    CircuitBreaker,
    NetworkTime,
    GeneralInfo,
    EventLogReader,
    AuditLog,
    UserAccessControl,
}

impl Realm {
    /// Every assignable realm, in the order the editor shows them.
    pub const ALL: [Realm; 15] = [
        Realm::PtAdministration,
        Realm::RemoteControl,
        Realm::Redirection,
        Realm::GeneralInfo,
        Realm::HardwareAsset,
        Realm::EventLogReader,
        Realm::AuditLog,
        Realm::NetworkTime,
        Realm::Storage,
        Realm::StorageAdministration,
        Realm::EventManager,
        Realm::AgentPresenceLocal,
        Realm::AgentPresenceRemote,
        Realm::CircuitBreaker,
        Realm::UserAccessControl,
    ];

    /// The realms that only read (what a viewer gets).
    pub const READ: [Realm; 4] = [
        Realm::GeneralInfo,
        Realm::HardwareAsset,
        Realm::EventLogReader,
        Realm::AuditLog,
    ];

    /// The number AMT uses on the wire.
    pub fn value(self) -> u8 {
        match self {
            Realm::Redirection => 2,
            Realm::PtAdministration => 3,
            Realm::HardwareAsset => 4,
            Realm::RemoteControl => 5,
            Realm::Storage => 6,
            Realm::EventManager => 7,
            Realm::StorageAdministration => 8,
            Realm::AgentPresenceLocal => 9,
            Realm::AgentPresenceRemote => 10,
            Realm::CircuitBreaker => 11,
            Realm::NetworkTime => 12,
            Realm::GeneralInfo => 13,
            Realm::EventLogReader => 19,
            Realm::AuditLog => 20,
            Realm::UserAccessControl => 21,
        }
    }

    /// The realm for an AMT number, if it is assignable.
    pub fn from_value(v: u8) -> Option<Realm> {
        Realm::ALL.into_iter().find(|r| r.value() == v)
    }

    /// The plain name ("Remote Control").
    pub fn name(self) -> &'static str {
        match self {
            Realm::Redirection => "Redirection",
            Realm::PtAdministration => "PT Administration",
            Realm::HardwareAsset => "Hardware Asset",
            Realm::RemoteControl => "Remote Control",
            Realm::Storage => "Storage",
            Realm::EventManager => "Event Manager",
            Realm::StorageAdministration => "Storage Administration",
            Realm::AgentPresenceLocal => "Agent Presence Local",
            Realm::AgentPresenceRemote => "Agent Presence Remote",
            Realm::CircuitBreaker => "Circuit Breaker",
            Realm::NetworkTime => "Network Time",
            Realm::GeneralInfo => "General Info",
            Realm::EventLogReader => "Event Log Reader",
            Realm::AuditLog => "Audit Log",
            Realm::UserAccessControl => "User Access Control",
        }
    }

    /// What holding the realm lets a person do, in a few words.
    pub fn meaning(self) -> &'static str {
        match self {
            Realm::Redirection => "open the console (SOL), IDE redirection, turn redirection on",
            Realm::PtAdministration => "everything, including security settings and the ACL",
            Realm::HardwareAsset => "read the hardware inventory",
            Realm::RemoteControl => "power on/off/reset, boot options",
            Realm::Storage => "read/write third-party data storage",
            Realm::EventManager => "alert and event subscriptions",
            Realm::StorageAdministration => "allocate third-party storage",
            Realm::AgentPresenceLocal => "local agent heartbeats",
            Realm::AgentPresenceRemote => "register agents and watchdogs",
            Realm::CircuitBreaker => "System Defense network filters",
            Realm::NetworkTime => "set the device clock",
            Realm::GeneralInfo => "read general settings and status",
            Realm::EventLogReader => "read the event log",
            Realm::AuditLog => "read and manage the audit log",
            Realm::UserAccessControl => "manage one's own ACL entry",
        }
    }
}

/// Where an ACL entry applies (AMT AccessPermission).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum AccessScope {
    /// From the device's own operating system only (0).
    Local,
    /// Over the network only (1).
    Network,
    /// Both (2).
    #[default]
    Both,
}

impl AccessScope {
    /// The AMT AccessPermission number.
    pub fn value(self) -> u8 {
        match self {
            AccessScope::Local => 0,
            AccessScope::Network => 1,
            AccessScope::Both => 2,
        }
    }

    /// Plain name.
    pub fn name(self) -> &'static str {
        match self {
            AccessScope::Local => "local only",
            AccessScope::Network => "network only",
            AccessScope::Both => "local and network",
        }
    }
}

/// Whether an ACL entry names a user or a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PrincipalKind {
    User,
    Group,
}

/// One Kerberos ACL entry of a profile: an AD user or group (stored by SID; the name is what the
/// directory said when it was picked) and the realms it gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileAclEntry {
    /// `S-1-5-21-…` as the directory gave it.
    pub sid: String,
    /// `EXAMPLE\AMT Helpdesk` or the account name, for display.
    pub name: String,
    pub kind: PrincipalKind,
    pub realms: Vec<Realm>,
    pub access: AccessScope,
}

/// TLS on the device's WS-Management and redirection ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum TlsPolicy {
    /// Plain ports (16992/16994) only.
    Off,
    /// TLS ports (16993/16995) used when the device offers them.
    #[default]
    Preferred,
    /// Only the TLS ports are used.
    Required,
}

/// Which redirection features the device enables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedirectionPolicy {
    /// Serial-over-LAN.
    pub sol: bool,
    /// Storage (IDE-R / USB-R).
    pub storage: bool,
    pub kvm: bool,
}

impl Default for RedirectionPolicy {
    fn default() -> Self {
        RedirectionPolicy {
            sol: true,
            storage: false,
            kvm: false,
        }
    }
}

/// When the person at the device must confirm a remote session (IPS_OptInService OptInRequired).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ConsentPolicy {
    /// No consent (Admin Control Mode only).
    #[default]
    None,
    /// Consent for KVM only.
    Kvm,
    /// Consent for every redirection and boot operation.
    All,
}

/// A provisioning profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// 0 for a profile not saved yet.
    pub id: i64,
    pub name: String,
    pub description: String,
    /// At most [`MAX_KERBEROS_ACL_ENTRIES`].
    pub acl: Vec<ProfileAclEntry>,
    /// Distinguished name of the OU where the devices' computer objects are created.
    pub device_ou: String,
    /// 1..=5 minutes.
    pub clock_tolerance_minutes: u8,
    pub tls: TlsPolicy,
    pub redirection: RedirectionPolicy,
    pub consent: ConsentPolicy,
    /// How often the portal synchronizes the device clock, in hours (1..=168).
    pub time_sync_hours: u16,
}

/// One thing wrong with a profile, tied to the field it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileProblem {
    /// `name`, `acl`, `acl.3`, `device_ou`, `clock_tolerance_minutes`, `time_sync_hours`, …
    pub field: String,
    /// What is wrong and what to do, in a sentence.
    pub message: String,
}
