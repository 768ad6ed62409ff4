//! AMT ACL realms (§2.9) and access permissions, with plain names.
//!
//! `Realm` covers the MOF ValueMap 0..24; unknown numbers are kept in `Realm::Unknown`.
//! Realm 21's name follows TWM/McAfee ("User Access Control"; MC calls it "ACL Realm").

macro_rules! num_enum {
    ($(#[$m:meta])* $name:ident : $t:ty { $($(#[$vm:meta])* $var:ident = $val:expr => $text:expr,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vm])* $var,)*
            /// A value not in the table.
            Unknown($t),
        }
        impl $name {
            /// From the numeric value.
            pub fn from_value(v: $t) -> Self {
                match v { $($val => $name::$var,)* other => $name::Unknown(other) }
            }
            /// The numeric value.
            pub fn value(self) -> $t {
                match self { $($name::$var => $val,)* $name::Unknown(v) => v }
            }
            /// Plain name.
            pub fn name(self) -> &'static str {
                match self { $($name::$var => $text,)* $name::Unknown(_) => "Unknown" }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self {
                    $name::Unknown(v) => write!(f, "Unknown ({v})"),
                    other => f.write_str(other.name()),
                }
            }
        }
        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.trim().parse::<$t>().map(Self::from_value)
            }
        }
    };
}
pub(crate) use num_enum;

num_enum! {
    /// An AMT ACL realm.
    Realm: u32 {
        /// 0 (invalid).
        Invalid = 0 => "Invalid",
        /// 1 (reserved).
        Reserved0 = 1 => "Reserved",
        /// 2: enable/disable redirection (SOL/IDER/KVM).
        Redirection = 2 => "Redirection",
        /// 3: administration; implies all realms.
        PtAdministration = 3 => "PT Administration",
        /// 4: hardware inventory.
        HardwareAsset = 4 => "Hardware Asset",
        /// 5: power control and boot options.
        RemoteControl = 5 => "Remote Control",
        /// 6: third-party data storage.
        Storage = 6 => "Storage",
        /// 7: alert/event subscriptions.
        EventManager = 7 => "Event Manager",
        /// 8: storage allocation.
        StorageAdmin = 8 => "Storage Administration",
        /// 9: local agent heartbeats.
        AgentPresenceLocal = 9 => "Agent Presence Local",
        /// 10: register agents/watchdogs.
        AgentPresenceRemote = 10 => "Agent Presence Remote",
        /// 11: System Defense.
        CircuitBreaker = 11 => "Circuit Breaker",
        /// 12: set the AMT clock.
        NetworkTime = 12 => "Network Time",
        /// 13: read general settings.
        GeneralInfo = 13 => "General Info",
        /// 14.
        FirmwareUpdate = 14 => "Firmware Update",
        /// 15.
        Eit = 15 => "EIT",
        /// 16: local user notification.
        LocalUn = 16 => "LocalUN",
        /// 17: NAC/NAP posture.
        EndpointAccessControl = 17 => "Endpoint Access Control",
        /// 18: NAC/NAP configuration.
        EndpointAccessControlAdmin = 18 => "Endpoint Access Control Admin",
        /// 19: read the event log.
        EventLogReader = 19 => "Event Log Reader",
        /// 20: audit log.
        AuditLog = 20 => "Audit Log",
        /// 21: users manage their own ACL entry ("ACL Realm" in MC).
        UserAccessControl = 21 => "User Access Control",
        /// 22 (reserved).
        Reserved1 = 22 => "Reserved",
        /// 23 (reserved).
        Reserved2 = 23 => "Reserved",
        /// 24: local applications.
        LocalSystem = 24 => "Local System",
    }
}

impl Realm {
    /// The realms a console may assign (2..=24 less the reserved ones).
    pub fn assignable() -> impl Iterator<Item = Realm> {
        (2u32..=24)
            .map(Realm::from_value)
            .filter(|r| !matches!(r, Realm::Reserved1 | Realm::Reserved2))
    }
}

num_enum! {
    /// Where an ACL entry may be used from.
    AccessPermission: u32 {
        /// 0: from the host only.
        LocalOnly = 0 => "Local only",
        /// 1: from the network only.
        NetworkOnly = 1 => "Network only",
        /// 2: both.
        LocalAndNetwork = 2 => "Local and network",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(Realm::from_value(19).to_string(), "Event Log Reader");
        assert_eq!(Realm::from_value(99).to_string(), "Unknown (99)");
        assert_eq!("3".parse::<Realm>().ok(), Some(Realm::PtAdministration));
        assert_eq!(Realm::assignable().count(), 21);
        assert_eq!(AccessPermission::from_value(2), AccessPermission::LocalAndNetwork);
    }
}
