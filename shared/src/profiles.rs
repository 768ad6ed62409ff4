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

/// The most sub-authorities a SID may have for AMT: it takes the binary SID in 1 to 28 bytes
/// (8 bytes of header, 4 per sub-authority), as a domain user or group `S-1-5-21-a-b-c-RID` is.
pub const MAX_SID_SUB_AUTHORITIES: usize = 5;

/// The shortest and longest time-sync interval, in hours.
pub const TIME_SYNC_HOURS: std::ops::RangeInclusive<u16> = 1..=168;

impl Realm {
    /// "Helpdesk": power and boot, the console, and the read realms.
    pub const HELPDESK: [Realm; 6] = [
        Realm::RemoteControl,
        Realm::Redirection,
        Realm::GeneralInfo,
        Realm::HardwareAsset,
        Realm::EventLogReader,
        Realm::AuditLog,
    ];

    /// "Administrator (all realms)": PT Administration implies every realm.
    pub const ADMINISTRATOR: [Realm; 1] = [Realm::PtAdministration];

    /// A stable identifier for forms and tests (`remote-control`).
    pub fn id(self) -> String {
        self.name().to_ascii_lowercase().replace(' ', "-")
    }
}

impl AccessScope {
    /// Every scope, in the order the editor shows them.
    pub const ALL: [AccessScope; 3] = [AccessScope::Both, AccessScope::Network, AccessScope::Local];

    /// The scope for an AMT AccessPermission number.
    pub fn from_value(v: u8) -> Option<AccessScope> {
        AccessScope::ALL.into_iter().find(|a| a.value() == v)
    }
}

impl TlsPolicy {
    /// Every policy, in the order the editor shows them.
    pub const ALL: [TlsPolicy; 3] = [TlsPolicy::Preferred, TlsPolicy::Required, TlsPolicy::Off];

    /// Stable identifier (`off`, `preferred`, `required`), as stored.
    pub fn id(self) -> &'static str {
        match self {
            TlsPolicy::Off => "off",
            TlsPolicy::Preferred => "preferred",
            TlsPolicy::Required => "required",
        }
    }

    /// The policy for an identifier.
    pub fn from_id(id: &str) -> Option<TlsPolicy> {
        TlsPolicy::ALL.into_iter().find(|t| t.id() == id)
    }

    /// Plain description.
    pub fn name(self) -> &'static str {
        match self {
            TlsPolicy::Off => "off: plain ports 16992/16994 only",
            TlsPolicy::Preferred => "preferred: TLS ports when the device offers them",
            TlsPolicy::Required => "required: TLS ports 16993/16995 only",
        }
    }
}

impl ConsentPolicy {
    /// Every policy, in the order the editor shows them.
    pub const ALL: [ConsentPolicy; 3] = [ConsentPolicy::None, ConsentPolicy::Kvm, ConsentPolicy::All];

    /// Stable identifier (`none`, `kvm`, `all`), as stored.
    pub fn id(self) -> &'static str {
        match self {
            ConsentPolicy::None => "none",
            ConsentPolicy::Kvm => "kvm",
            ConsentPolicy::All => "all",
        }
    }

    /// The policy for an identifier.
    pub fn from_id(id: &str) -> Option<ConsentPolicy> {
        ConsentPolicy::ALL.into_iter().find(|c| c.id() == id)
    }

    /// IPS_OptInService OptInRequired: 0 none, 1 KVM only, 4294967295 all.
    pub fn opt_in_required(self) -> u32 {
        match self {
            ConsentPolicy::None => 0,
            ConsentPolicy::Kvm => 1,
            ConsentPolicy::All => u32::MAX,
        }
    }

    /// Plain description.
    pub fn name(self) -> &'static str {
        match self {
            ConsentPolicy::None => "none (Admin Control Mode devices only)",
            ConsentPolicy::Kvm => "for KVM sessions only",
            ConsentPolicy::All => "for every redirection and boot operation",
        }
    }
}

impl PrincipalKind {
    /// Stable identifier (`user`, `group`), as stored.
    pub fn id(self) -> &'static str {
        match self {
            PrincipalKind::User => "user",
            PrincipalKind::Group => "group",
        }
    }
}

impl Default for Profile {
    /// A new, empty profile with AMT's defaults (5 minutes tolerance, daily clock sync).
    fn default() -> Self {
        Profile {
            id: 0,
            name: String::new(),
            description: String::new(),
            acl: Vec::new(),
            device_ou: String::new(),
            clock_tolerance_minutes: MAX_CLOCK_TOLERANCE_MINUTES,
            tls: TlsPolicy::default(),
            redirection: RedirectionPolicy::default(),
            consent: ConsentPolicy::default(),
            time_sync_hours: 24,
        }
    }
}

/// An AD user or group found by a directory search, for the editor's type-ahead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// `S-1-5-21-…`.
    pub sid: String,
    /// `EXAMPLE\AMT Helpdesk`.
    pub name: String,
    pub kind: PrincipalKind,
    /// displayName or description, when the directory has one.
    pub detail: String,
}

/// A row of the profiles list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileSummary {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// Number of ACL entries.
    pub entries: usize,
    /// FQDNs of the devices using the profile.
    pub devices: Vec<String>,
    pub updated_by: String,
    pub updated_at: String,
}

/// A registered device as the profile page's "assign devices" list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileDevice {
    pub id: i64,
    pub fqdn: String,
    /// The profile it uses now, if any: (id, name).
    pub profile: Option<(i64, String)>,
}

/// The device page's profile chooser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DeviceProfileView {
    /// Whether the user may choose (administrators); nothing else is filled otherwise.
    pub allowed: bool,
    /// The device's profile id.
    pub current: Option<i64>,
    /// Every profile: (id, name).
    pub profiles: Vec<(i64, String)>,
}

/// What saving a profile answered: its id, or the problems to show by their fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SaveOutcome {
    Saved { id: i64, message: String },
    Problems(Vec<ProfileProblem>),
}

/// Whether `sid` is a well-formed SID AMT can hold: `S-1-<authority>-<sub>…` with 1 to
/// [`MAX_SID_SUB_AUTHORITIES`] 32-bit sub-authorities and a 48-bit authority.
pub fn sid_is_well_formed(sid: &str) -> bool {
    let Some(rest) = sid.strip_prefix("S-1-") else {
        return false;
    };
    let mut parts = rest.split('-');
    let authority_ok = parts
        .next()
        .is_some_and(|a| digits(a) && a.parse::<u64>().is_ok_and(|v| v < (1 << 48)));
    let subs: Vec<&str> = parts.collect();
    authority_ok
        && (1..=MAX_SID_SUB_AUTHORITIES).contains(&subs.len())
        && subs.iter().all(|s| digits(s) && s.parse::<u32>().is_ok())
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.len() <= 10 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The `attr=value` components of a distinguished name (`\,` escapes kept), or `None` when one
/// of them is not `attr=value`.
fn dn_components(dn: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    let mut push = |c: &str| -> Option<()> {
        let (k, v) = c.split_once('=')?;
        let (k, v) = (k.trim(), v.trim());
        if k.is_empty() || v.is_empty() || !k.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-') {
            return None;
        }
        out.push((k.to_ascii_uppercase(), v.to_string()));
        Some(())
    };
    for ch in dn.chars() {
        if escaped {
            current.push(ch);
            escaped = false;
        } else if ch == '\\' {
            current.push(ch);
            escaped = true;
        } else if ch == ',' {
            push(&current)?;
            current.clear();
        } else {
            current.push(ch);
        }
    }
    push(&current)?;
    Some(out)
}

impl Profile {
    /// Everything wrong with the profile that the portal or the firmware would refuse, each
    /// problem tied to its field and saying what to do. Empty when the profile can be saved.
    /// Whether each SID still exists in the directory is checked by the server, not here.
    pub fn validate(&self) -> Vec<ProfileProblem> {
        let mut problems = Vec::new();
        let mut say = |field: String, message: String| problems.push(ProfileProblem { field, message });

        let name = self.name.trim();
        if name.is_empty() {
            say(
                "name".into(),
                "Give the profile a name (for example \"Helpdesk devices\").".into(),
            );
        } else if name.chars().count() > MAX_PROFILE_NAME {
            say(
                "name".into(),
                format!(
                    "The name is {} characters long: shorten it to at most {MAX_PROFILE_NAME}.",
                    name.chars().count()
                ),
            );
        } else if name.chars().any(char::is_control) {
            say(
                "name".into(),
                "The name holds control characters (tabs, line breaks): use printable characters only.".into(),
            );
        }
        if self.description.chars().count() > 500 || self.description.chars().any(|c| c.is_control() && c != '\n') {
            say(
                "description".into(),
                "The description must be at most 500 printable characters.".into(),
            );
        }

        if self.acl.is_empty() {
            say(
                "acl".into(),
                "Add at least one AD user or group: without an entry nobody can use the device with Kerberos.".into(),
            );
        }
        if self.acl.len() > MAX_KERBEROS_ACL_ENTRIES {
            say(
                "acl".into(),
                format!(
                    "The profile has {} entries: SCS and AMT allow at most {MAX_KERBEROS_ACL_ENTRIES}. Remove {} (grant realms to groups rather than to single users).",
                    self.acl.len(),
                    self.acl.len() - MAX_KERBEROS_ACL_ENTRIES
                ),
            );
        }
        let mut seen_sids: Vec<(String, usize)> = Vec::new();
        for (i, e) in self.acl.iter().enumerate() {
            let field = format!("acl.{i}");
            let who = if e.name.trim().is_empty() {
                e.sid.as_str()
            } else {
                e.name.as_str()
            };
            if !sid_is_well_formed(&e.sid) {
                say(
                    field.clone(),
                    format!(
                        "Entry {} ({who}): \"{}\" is not a SID AMT can hold (S-1-5-21-…-RID, at most {MAX_SID_SUB_AUTHORITIES} parts after the authority): remove it and pick the user or group again by searching.",
                        i + 1,
                        e.sid
                    ),
                );
            }
            if let Some((_, first)) = seen_sids.iter().find(|(s, _)| s.eq_ignore_ascii_case(&e.sid)) {
                say(
                    field.clone(),
                    format!(
                        "Entry {} ({who}) is already entry {}: AMT keeps one entry per SID; remove one and give the other every realm it needs.",
                        i + 1,
                        first + 1
                    ),
                );
            } else {
                seen_sids.push((e.sid.clone(), i));
            }
            if e.realms.is_empty() {
                say(
                    field.clone(),
                    format!(
                        "Entry {} ({who}) has no realm: tick at least one, or remove the entry.",
                        i + 1
                    ),
                );
            }
            let mut realms = e.realms.clone();
            realms.sort();
            if let Some(w) = realms.windows(2).find(|w| w[0] == w[1]) {
                say(
                    field,
                    format!(
                        "Entry {} ({who}) lists the realm {} twice: list it once.",
                        i + 1,
                        w[0].name()
                    ),
                );
            }
        }

        let ou = self.device_ou.trim();
        match dn_components(ou) {
            _ if ou.is_empty() => say(
                "device_ou".into(),
                "Give the OU for the devices' computer objects, e.g. OU=AMT Devices,DC=example,DC=com.".into(),
            ),
            Some(parts) if parts.iter().any(|(k, _)| k == "OU") => {}
            _ => say(
                "device_ou".into(),
                format!(
                    "\"{ou}\" is not the distinguished name of an OU: it must contain OU=, e.g. OU=AMT Devices,DC=example,DC=com."
                ),
            ),
        }

        if !(1..=MAX_CLOCK_TOLERANCE_MINUTES).contains(&self.clock_tolerance_minutes) {
            say(
                "clock_tolerance_minutes".into(),
                format!(
                    "The clock tolerance must be 1 to {MAX_CLOCK_TOLERANCE_MINUTES} minutes (AMT refuses more; Kerberos allows at most 5): {} is not.",
                    self.clock_tolerance_minutes
                ),
            );
        }
        if !TIME_SYNC_HOURS.contains(&self.time_sync_hours) {
            say(
                "time_sync_hours".into(),
                format!(
                    "Synchronize the device clock every 1 to 168 hours (a week at most, so it stays within the tolerance): {} is not.",
                    self.time_sync_hours
                ),
            );
        }
        if self.consent == ConsentPolicy::Kvm && !self.redirection.kvm {
            say(
                "consent".into(),
                "Consent \"for KVM sessions only\" with KVM off asks nobody for anything: turn KVM on, or choose no consent or consent for everything.".into(),
            );
        }
        problems
    }

    /// What the firmware of a device in the given control mode refuses of this profile: in
    /// Client Control Mode user consent cannot be lowered (IPS_OptInService keeps OptInRequired
    /// at "all"; CanModifyOptInPolicy is false), so only [`ConsentPolicy::All`] can be applied.
    pub fn problems_for_device(&self, client_control_mode: bool) -> Vec<ProfileProblem> {
        let mut out = Vec::new();
        if client_control_mode && self.consent != ConsentPolicy::All {
            out.push(ProfileProblem {
                field: "consent".into(),
                message: format!(
                    "The device is in Client Control Mode: its firmware requires user consent for every redirection and boot operation and refuses \"{}\". Choose consent for everything, or provision the device in Admin Control Mode.",
                    self.consent.name()
                ),
            });
        }
        out
    }

    /// The AMT realm numbers of an entry, as written to the device (`AddUserAclEntryEx`).
    pub fn realm_values(entry: &ProfileAclEntry) -> Vec<u8> {
        entry.realms.iter().map(|r| r.value()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOMAIN: &str = "S-1-5-21-1414061449-2125073827-2226478567";

    fn entry(rid: u32, realms: &[Realm]) -> ProfileAclEntry {
        ProfileAclEntry {
            sid: format!("{DOMAIN}-{rid}"),
            name: format!("EXAMPLE\\g{rid}"),
            kind: PrincipalKind::Group,
            realms: realms.to_vec(),
            access: AccessScope::Both,
        }
    }

    fn good() -> Profile {
        Profile {
            name: "Lab devices".into(),
            acl: vec![
                entry(1118, &Realm::ADMINISTRATOR),
                entry(1119, &Realm::HELPDESK),
                entry(1120, &Realm::READ),
            ],
            device_ou: "OU=AMT Devices,DC=example,DC=test".into(),
            ..Profile::default()
        }
    }

    fn fields(p: &Profile) -> Vec<String> {
        p.validate().into_iter().map(|x| x.field).collect()
    }

    #[test]
    fn a_sensible_profile_has_no_problem() {
        assert_eq!(good().validate(), vec![]);
    }

    #[test]
    fn names_are_checked() {
        let mut p = good();
        p.name = "  ".into();
        assert_eq!(fields(&p), ["name"]);
        p.name = "x".repeat(65);
        assert!(p.validate()[0].message.contains("at most 64"));
        p.name = "é".repeat(64);
        assert_eq!(fields(&p), Vec::<String>::new(), "64 characters, not bytes");
        p.name = "a\tb".into();
        assert!(p.validate()[0].message.contains("printable"));
    }

    #[test]
    fn at_most_32_entries() {
        let mut p = good();
        p.acl = (0..32).map(|i| entry(2000 + i, &Realm::READ)).collect();
        assert_eq!(p.validate(), vec![]);
        p.acl.push(entry(3000, &Realm::READ));
        let problems = p.validate();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].field, "acl");
        assert!(problems[0].message.contains("at most 32"), "{}", problems[0].message);
        p.acl.clear();
        assert_eq!(fields(&p), ["acl"]);
    }

    #[test]
    fn sids_must_fit_amt() {
        for ok in [
            "S-1-5-21-1-2-3-500",
            "S-1-5-32-544",
            "S-1-1-0",
            "S-1-5-21-4294967295-2-3-4",
        ] {
            assert!(sid_is_well_formed(ok), "{ok}");
        }
        for bad in [
            "",
            "S-1-5",
            "S-2-5-21-1-2-3-4",
            "S-1-5-21-1-2-3-4-5",
            "S-1-5-21-1-2-3-4294967296",
            "S-1-5-21-x-2-3-4",
            "S-1-5--1",
            "s-1-5-21-1-2-3-4",
            "S-1-281474976710656-1",
        ] {
            assert!(!sid_is_well_formed(bad), "{bad}");
        }
        let mut p = good();
        p.acl[1].sid = "S-1-5-21-1-2-3-4-5".into();
        let problems = p.validate();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].field, "acl.1");
        assert!(problems[0].message.contains("not a SID AMT can hold"));
    }

    #[test]
    fn entries_need_realms_and_no_duplicates() {
        let mut p = good();
        p.acl[2].realms.clear();
        assert_eq!(fields(&p), ["acl.2"]);
        p.acl[2].realms = vec![Realm::GeneralInfo, Realm::AuditLog, Realm::GeneralInfo];
        let problems = p.validate();
        assert_eq!(problems[0].field, "acl.2");
        assert!(problems[0].message.contains("General Info twice"));
        let mut p = good();
        p.acl[2].sid = p.acl[0].sid.to_ascii_lowercase().replace("s-", "S-");
        let problems = p.validate();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].field, "acl.2");
        assert!(problems[0].message.contains("already entry 1"));
    }

    #[test]
    fn the_ou_must_be_a_dn_with_an_ou() {
        let mut p = good();
        for bad in [
            "",
            "AMT Devices",
            "DC=example,DC=test",
            "OU=,DC=x",
            "OU=A,,DC=x",
            "CN=Computers,DC=example",
        ] {
            p.device_ou = bad.into();
            assert_eq!(fields(&p), ["device_ou"], "{bad:?}");
        }
        p.device_ou = "ou=AMT\\, Devices,OU=Sites,DC=example,DC=test".into();
        assert_eq!(fields(&p), Vec::<String>::new());
        p.device_ou = "AMT Devices".into();
        assert!(p.validate()[0].message.contains("must contain OU="));
    }

    #[test]
    fn tolerance_and_time_sync_ranges() {
        let mut p = good();
        for (t, ok) in [(0, false), (1, true), (5, true), (6, false)] {
            p.clock_tolerance_minutes = t;
            assert_eq!(fields(&p).is_empty(), ok, "{t}");
        }
        p.clock_tolerance_minutes = 6;
        assert!(p.validate()[0].message.contains("1 to 5 minutes"));
        p.clock_tolerance_minutes = 5;
        for (h, ok) in [(0, false), (1, true), (168, true), (169, false)] {
            p.time_sync_hours = h;
            assert_eq!(fields(&p).is_empty(), ok, "{h}");
        }
    }

    #[test]
    fn consent_and_kvm() {
        let mut p = good();
        p.consent = ConsentPolicy::Kvm;
        assert_eq!(fields(&p), ["consent"], "KVM consent with KVM off");
        p.redirection.kvm = true;
        assert_eq!(fields(&p), Vec::<String>::new());
        assert_eq!(p.problems_for_device(false), vec![]);
        let ccm = p.problems_for_device(true);
        assert_eq!(ccm.len(), 1);
        assert!(ccm[0].message.contains("Client Control Mode"));
        p.consent = ConsentPolicy::All;
        assert_eq!(p.problems_for_device(true), vec![]);
        assert_eq!(ConsentPolicy::All.opt_in_required(), 4_294_967_295);
    }

    #[test]
    fn every_problem_at_once_keeps_its_field() {
        let p = Profile {
            name: String::new(),
            acl: vec![entry(1, &[])],
            device_ou: "nope".into(),
            clock_tolerance_minutes: 9,
            time_sync_hours: 0,
            ..Profile::default()
        };
        assert_eq!(
            fields(&p),
            [
                "name",
                "acl.0",
                "device_ou",
                "clock_tolerance_minutes",
                "time_sync_hours"
            ]
        );
    }

    #[test]
    fn ids_round_trip() {
        for t in TlsPolicy::ALL {
            assert_eq!(TlsPolicy::from_id(t.id()), Some(t));
        }
        for c in ConsentPolicy::ALL {
            assert_eq!(ConsentPolicy::from_id(c.id()), Some(c));
        }
        for a in AccessScope::ALL {
            assert_eq!(AccessScope::from_value(a.value()), Some(a));
        }
        assert_eq!(Realm::RemoteControl.id(), "remote-control");
        assert_eq!(
            Profile::realm_values(&entry(5, &Realm::HELPDESK)),
            [5, 2, 13, 4, 19, 20]
        );
    }
}
