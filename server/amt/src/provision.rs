//! Provisioning a device for Kerberos (§2.6–§2.9, §3): the device key from the AD account's
//! password, the `AMT_KerberosSettingData` Put, the Kerberos ACL synchronized with a wanted
//! list, redirection features, the user-consent policy and the clock.
//!
//! * Keys: RC4-HMAC is MD4 of the UTF-16LE password (RFC 4757), written as `MasterKey`
//!   (AMT before 8.0). From AMT 8.0 the console writes `Passphrase` + `Salt` +
//!   `IterationCount` and the firmware runs the RFC 3962 string-to-key itself; the salt of an
//!   AD computer account is given by MS-KILE ([`ad_computer_salt`]).
//! * Secrets ([`KeyMaterial`]) are kept in memory only, never shown by `Debug`, and zeroed
//!   when dropped. The request body that carries them to the device is not logged.
//! * ACL sync touches Kerberos entries only: Digest users and `$$` system accounts are left
//!   alone. A failure part way returns what was already changed ([`AclSyncError::done`]).

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use zeroize::{Zeroize, Zeroizing};

use crate::client::{Client, ClientError};
use crate::models::authorization::{
    self, AclEntry, AclUser, AddUserAclEntryExOutput, EnumerateUserAclEntriesOutput, UserAclEntryExOutput,
};
use crate::models::kerberos::KerberosSettingData;
use crate::models::redirection::{
    OptInRequired, OptInService, RedirectionService, RedirectionState, redirection_request_state_change,
};
use crate::models::time_sync::{self, GetLowAccuracyTimeSynchOutput};
use crate::models::{Model, ReturnOnly};
use crate::realm::{AccessPermission, Realm};
use crate::sid::Sid;
use crate::status::PtStatus;
use crate::wsman::{Element, Request};

/// Kerberos ACL entries a device holds at most (SCS limit; firmware answers 0x811 beyond it).
pub const MAX_KERBEROS_ENTRIES: usize = 32;

/// The RFC 3962 iteration count AD uses for its AES keys (and the one to write to AMT).
pub const AD_AES_ITERATIONS: u32 = 4096;

/// `ConfiguredEncryptionAlgorithms` values.
pub mod enctype {
    /// RC4-HMAC.
    pub const RC4_HMAC: u16 = 0;
    /// AES128-CTS-HMAC-SHA1-96.
    pub const AES128: u16 = 1;
    /// AES256-CTS-HMAC-SHA1-96.
    pub const AES256: u16 = 2;
}

/// The RC4-HMAC Kerberos key of `password`: MD4 of its UTF-16LE encoding (RFC 4757 §4).
pub fn rc4_key(password: &str) -> [u8; 16] {
    let mut utf16: Zeroizing<Vec<u8>> = Zeroizing::new(password.encode_utf16().flat_map(u16::to_le_bytes).collect());
    let key = md4(&utf16);
    utf16.zeroize();
    key
}

/// The AES salt AD gives a computer account (MS-KILE §3.1.1.2): upper-case realm, `host`,
/// the lower-case account name without `$`, `.`, the lower-case realm. `host` may be the
/// account name (`AMT9$`), the short name or the FQDN (its first label is used).
pub fn ad_computer_salt(realm: &str, host: &str) -> String {
    let short = host.trim().split('.').next().unwrap_or_default().trim_end_matches('$');
    format!(
        "{}host{}.{}",
        realm.trim().to_uppercase(),
        short.to_lowercase(),
        realm.trim().to_lowercase()
    )
}

/// The major version of an AMT firmware version string (`16.1.25` → 16).
pub fn amt_major(version: &str) -> Option<u32> {
    version.trim().split('.').next()?.parse().ok()
}

/// The key a device is given: an RC4 master key, or the AES passphrase fields (AMT ≥ 8).
pub enum KeyMaterial {
    /// `MasterKey`: the 16-byte RC4-HMAC key (AMT before 8.0; deprecated from 8.0).
    Rc4MasterKey([u8; 16]),
    /// `Passphrase` + `Salt` + `IterationCount`: the device derives the AES keys (RFC 3962).
    Passphrase {
        /// The AD account's password.
        passphrase: String,
        /// The account's salt ([`ad_computer_salt`]).
        salt: String,
        /// RFC 3962 iteration count (AD: 4096).
        iterations: u32,
    },
}

impl KeyMaterial {
    /// The key material firmware of major version `amt_major` takes for an AD computer
    /// account with `password` in `realm`: AMT 8 and later get the AES passphrase fields
    /// (AES needs them), older firmware the RC4 master key.
    pub fn for_firmware(amt_major: u32, password: &str, realm: &str, host: &str) -> KeyMaterial {
        if amt_major >= 8 {
            KeyMaterial::Passphrase {
                passphrase: password.to_owned(),
                salt: ad_computer_salt(realm, host),
                iterations: AD_AES_ITERATIONS,
            }
        } else {
            KeyMaterial::Rc4MasterKey(rc4_key(password))
        }
    }

    /// The encryption types this key material serves: RC4 for a master key, AES128 and
    /// AES256 for a passphrase.
    pub fn encryption(&self) -> Vec<u16> {
        match self {
            KeyMaterial::Rc4MasterKey(_) => vec![enctype::RC4_HMAC],
            KeyMaterial::Passphrase { .. } => vec![enctype::AES128, enctype::AES256],
        }
    }
}

impl std::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyMaterial::Rc4MasterKey(_) => f.write_str("Rc4MasterKey(<redacted>)"),
            KeyMaterial::Passphrase { salt, iterations, .. } => f
                .debug_struct("Passphrase")
                .field("passphrase", &"<redacted>")
                .field("salt", salt)
                .field("iterations", iterations)
                .finish(),
        }
    }
}

impl Drop for KeyMaterial {
    fn drop(&mut self) {
        match self {
            KeyMaterial::Rc4MasterKey(k) => k.zeroize(),
            KeyMaterial::Passphrase { passphrase, .. } => passphrase.zeroize(),
        }
    }
}

/// Everything written to `AMT_KerberosSettingData`.
#[derive(Debug)]
pub struct KerberosSetup {
    /// Kerberos realm (the AD domain, e.g. `EXAMPLE.TEST`).
    pub realm: String,
    /// The device's key.
    pub key: KeyMaterial,
    /// `KeyVersion` (the AD object's msDS-KeyVersionNumber; AMT stores it, does not compare it).
    pub key_version: u32,
    /// `MaximumClockTolerance`, 1..=5 minutes.
    pub clock_tolerance_minutes: u8,
    /// `ConfiguredEncryptionAlgorithms` ([`enctype`] values).
    pub encryption: Vec<u16>,
}

impl KerberosSetup {
    /// The setup for firmware `amt_version` (`16.1.25`): key material from
    /// [`KeyMaterial::for_firmware`] and its encryption types. Unknown versions count as new.
    pub fn for_firmware(
        amt_version: &str,
        realm: &str,
        host: &str,
        password: &str,
        key_version: u32,
        clock_tolerance_minutes: u8,
    ) -> KerberosSetup {
        let key = KeyMaterial::for_firmware(amt_major(amt_version).unwrap_or(u32::MAX), password, realm, host);
        KerberosSetup {
            realm: realm.to_owned(),
            encryption: key.encryption(),
            key,
            key_version,
            clock_tolerance_minutes,
        }
    }

    /// Checks what firmware would refuse, with a plain reason.
    pub fn validate(&self) -> Result<(), ProvisionError> {
        let bad = |s: &str| Err(ProvisionError::Invalid(s.to_owned()));
        if self.realm.trim().is_empty() {
            return bad("the Kerberos realm is empty: give the AD domain name, e.g. EXAMPLE.TEST");
        }
        if !(1..=5).contains(&self.clock_tolerance_minutes) {
            return bad("the clock tolerance must be 1 to 5 minutes (AMT allows at most 5)");
        }
        if self.encryption.is_empty() || self.encryption.iter().any(|e| *e > enctype::AES256) {
            return bad("the encryption types must be some of 0 (RC4), 1 (AES128), 2 (AES256)");
        }
        match &self.key {
            KeyMaterial::Rc4MasterKey(_) if self.encryption.iter().any(|e| *e != enctype::RC4_HMAC) => {
                bad("an RC4 master key serves RC4 only: AES needs the passphrase, salt and iteration count")
            }
            KeyMaterial::Passphrase {
                passphrase,
                salt,
                iterations,
            } => {
                if passphrase.is_empty() || salt.is_empty() || *iterations == 0 {
                    bad("the AES key needs a passphrase, a salt and an iteration count")
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    /// The instance to Put over `current` (what a Get returned): Kerberos on, these settings,
    /// the key fields of the chosen kind only (MasterKey and Passphrase cannot be combined).
    pub fn to_setting_data(&self, current: &KerberosSettingData) -> KerberosSettingData {
        let mut d = current.clone();
        d.instance_id = Some(KerberosSettingData::INSTANCE_ID.to_owned());
        d.element_name = Some("Intel(r) AMT: Kerberos Settings".to_owned());
        d.realm_name = Some(self.realm.trim().to_owned());
        d.krb_enabled = Some(true);
        d.key_version = Some(self.key_version);
        d.maximum_clock_tolerance = Some(u32::from(self.clock_tolerance_minutes));
        d.configured_encryption_algorithms = self.encryption.clone();
        d.encryption_algorithm = Some(0);
        d.master_key = None;
        d.passphrase = None;
        d.salt = None;
        d.iteration_count = None;
        match &self.key {
            KeyMaterial::Rc4MasterKey(k) => d.master_key = Some(B64.encode(k)),
            KeyMaterial::Passphrase {
                passphrase,
                salt,
                iterations,
            } => {
                d.passphrase = Some(passphrase.clone());
                d.salt = Some(salt.clone());
                d.iteration_count = Some(*iterations);
            }
        }
        d
    }
}

/// One Kerberos ACL entry the device should hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WantedAclEntry {
    /// User or group SID.
    pub sid: Sid,
    /// 0 local only, 1 network only, 2 both.
    pub access: u8,
    /// AMT realm numbers (§2.9).
    pub realms: Vec<u8>,
}

/// An ACL entry as the device holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAclEntry {
    /// The device's handle for the entry.
    pub handle: u32,
    /// Kerberos (by SID, `S-1-5-…` when displayed) or Digest (by user name).
    pub user: AclUser,
    /// Where it may be used from.
    pub access: AccessPermission,
    /// Granted realms.
    pub realms: Vec<Realm>,
}

impl DeviceAclEntry {
    /// The SID of a Kerberos entry.
    pub fn sid(&self) -> Option<&Sid> {
        match &self.user {
            AclUser::Kerberos(s) => Some(s),
            AclUser::Digest { .. } => None,
        }
    }
}

/// What [`Client::sync_kerberos_acl`] changed, by SID.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AclSyncReport {
    /// Entries added.
    pub added: Vec<Sid>,
    /// Entries whose access or realms changed.
    pub updated: Vec<Sid>,
    /// Kerberos entries removed (not wanted any more, or duplicates).
    pub removed: Vec<Sid>,
    /// Entries already as wanted.
    pub unchanged: Vec<Sid>,
}

impl AclSyncReport {
    /// True when the device was changed.
    pub fn changed(&self) -> bool {
        !(self.added.is_empty() && self.updated.is_empty() && self.removed.is_empty())
    }
}

/// A failed ACL sync, with what was already changed on the device before the failure.
#[derive(Debug, thiserror::Error)]
#[error("{cause} (before this: {} added, {} updated, {} removed)", done.added.len(), done.updated.len(), done.removed.len())]
pub struct AclSyncError {
    /// What was done before the failure.
    pub done: AclSyncReport,
    /// The failure.
    #[source]
    pub cause: ProvisionError,
}

/// Errors of the provisioning calls, in plain words.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// The WS-Man call failed (connection, authentication, fault, …).
    #[error(transparent)]
    Client(Box<ClientError>),
    /// The input would be refused by firmware; nothing was sent.
    #[error("{0}")]
    Invalid(String),
    /// The device answered a method with a non-zero return code.
    #[error("{action}: {}", plain(*code))]
    Refused {
        /// What was being done, e.g. `adding the Kerberos entry S-1-5-21-…-1104`.
        action: String,
        /// The PT_STATUS return code.
        code: u32,
    },
}

impl From<ClientError> for ProvisionError {
    fn from(e: ClientError) -> Self {
        ProvisionError::Client(Box::new(e))
    }
}

impl ProvisionError {
    /// The device's return code, when the device refused.
    pub fn return_code(&self) -> Option<u32> {
        match self {
            ProvisionError::Refused { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// The return codes of this module's methods in plain words, with what to do.
fn plain(code: u32) -> String {
    let text = match code {
        0x811 => "the device already holds the most Kerberos entries it can (32): remove some first",
        0x807 => "one of the realms is not one the device can grant (2 to 21 or 24)",
        0x80A => "the device already has an entry for this user or group",
        0x805 => "the device has no entry with this handle (it changed meanwhile): read the ACL again and retry",
        16 => {
            "the device does not permit this: Kerberos must be enabled (write the Kerberos settings first), and system ($$) accounts cannot be removed"
        }
        36 => "the device refused a parameter (a SID longer than 28 bytes, or an access permission other than 0, 1, 2)",
        23 => "the device's table is full",
        0x821 => "the device requires user consent (a code shown on its screen) first",
        _ => return format!("{} (code {code:#x})", PtStatus::from_code(code)),
    };
    format!("{text} (code {code:#x})")
}

fn return_code(out: &Element) -> Result<u32, ProvisionError> {
    Ok(ReturnOnly::from_element(out)
        .map_err(ClientError::from)?
        .return_value
        .unwrap_or(0))
}

fn check(out: &Element, action: impl FnOnce() -> String) -> Result<(), ProvisionError> {
    match return_code(out)? {
        0 => Ok(()),
        code => Err(ProvisionError::Refused { action: action(), code }),
    }
}

/// Checks a wanted ACL as firmware would (≤ 32 entries, one per SID, SIDs of at most 28 bytes,
/// assignable realms, access 0..=2).
pub fn validate_wanted_acl(wanted: &[WantedAclEntry]) -> Result<(), ProvisionError> {
    if wanted.len() > MAX_KERBEROS_ENTRIES {
        return Err(ProvisionError::Invalid(format!(
            "{} Kerberos entries were asked for; a device holds at most {MAX_KERBEROS_ENTRIES}",
            wanted.len()
        )));
    }
    let mut seen = BTreeSet::new();
    for w in wanted {
        if !seen.insert(&w.sid) {
            return Err(ProvisionError::Invalid(format!(
                "{} is listed twice: give each user or group once, with all its realms",
                w.sid
            )));
        }
        if w.sid.to_bytes().len() > 28 || w.sid.sub_authorities.is_empty() {
            return Err(ProvisionError::Invalid(format!(
                "{} is not a SID the device can hold (at most 5 sub-authorities, 28 bytes)",
                w.sid
            )));
        }
        if w.access > 2 {
            return Err(ProvisionError::Invalid(format!(
                "the access for {} must be 0 (local), 1 (network) or 2 (both)",
                w.sid
            )));
        }
        if w.realms.is_empty() {
            return Err(ProvisionError::Invalid(format!("{} has no realms", w.sid)));
        }
        if let Some(r) = w
            .realms
            .iter()
            .find(|r| !Realm::assignable().any(|a| a.value() == u32::from(**r)))
        {
            return Err(ProvisionError::Invalid(format!(
                "realm {r} given to {} is not one a device can grant (2 to 21 or 24)",
                w.sid
            )));
        }
    }
    Ok(())
}

fn realm_set(realms: impl IntoIterator<Item = u32>) -> BTreeSet<u32> {
    realms.into_iter().collect()
}

impl Client {
    /// Writes the Kerberos settings (Get, then a WS-Transfer Put of the whole instance with
    /// `KrbEnabled` true and the key). Validates first; nothing is sent when invalid.
    pub async fn put_kerberos_settings(&self, setup: &KerberosSetup) -> Result<(), ProvisionError> {
        setup.validate()?;
        let current: KerberosSettingData = self
            .get_with(Request::get(KerberosSettingData::CLASS).selector("InstanceID", KerberosSettingData::INSTANCE_ID))
            .await?;
        let mut data = setup.to_setting_data(&current);
        let req = data.put_request();
        data.master_key.zeroize();
        data.passphrase.zeroize();
        self.send(&req).await?;
        Ok(())
    }

    /// Every ACL entry the device holds (EnumerateUserAclEntries, then GetUserAclEntryEx
    /// of each handle). Entries the device answers without a user are left out.
    pub async fn kerberos_acl(&self) -> Result<Vec<DeviceAclEntry>, ProvisionError> {
        let mut handles = Vec::new();
        let mut start = 1u32;
        loop {
            let out = self
                .invoke_unchecked(&authorization::enumerate_user_acl_entries(start))
                .await?;
            check(&out, || "reading the list of ACL entries".to_owned())?;
            let page = EnumerateUserAclEntriesOutput::from_element(&out).map_err(ClientError::from)?;
            let got = page.handles.len();
            handles.extend(page.handles);
            let total = page.total_count.unwrap_or(0) as usize;
            if got == 0 || handles.len() >= total || handles.len() > 1000 {
                break;
            }
            start = start.saturating_add(u32::try_from(got).unwrap_or(u32::MAX));
        }
        let mut entries = Vec::with_capacity(handles.len());
        for handle in handles {
            let out = self
                .invoke_unchecked(&authorization::get_user_acl_entry_ex(handle))
                .await?;
            check(&out, || format!("reading ACL entry {handle}"))?;
            let e = UserAclEntryExOutput::from_element(&out).map_err(ClientError::from)?;
            if let Some(AclEntry { user, access, realms }) = e.entry() {
                entries.push(DeviceAclEntry {
                    handle,
                    user,
                    access,
                    realms,
                });
            }
        }
        Ok(entries)
    }

    /// Makes the device's Kerberos ACL entries exactly `wanted`: removes the Kerberos entries
    /// not wanted (first, to make room), updates those whose access or realms differ, adds the
    /// missing ones. Digest and `$$` system entries are never touched.
    pub async fn sync_kerberos_acl(&self, wanted: &[WantedAclEntry]) -> Result<AclSyncReport, AclSyncError> {
        let mut done = AclSyncReport::default();
        let fail = |done: &AclSyncReport, cause: ProvisionError| AclSyncError {
            done: done.clone(),
            cause,
        };
        validate_wanted_acl(wanted).map_err(|e| fail(&done, e))?;
        let current = self.kerberos_acl().await.map_err(|e| fail(&done, e))?;
        let mut kept: BTreeSet<Sid> = BTreeSet::new();
        let mut updates = Vec::new();
        let mut removes = Vec::new();
        for e in &current {
            let Some(sid) = e.sid() else { continue };
            match wanted.iter().find(|w| &w.sid == sid) {
                Some(w) if kept.insert(sid.clone()) => {
                    let same = u32::from(w.access) == e.access.value()
                        && realm_set(w.realms.iter().map(|r| u32::from(*r)))
                            == realm_set(e.realms.iter().map(|r| r.value()));
                    if same {
                        done.unchanged.push(sid.clone());
                    } else {
                        updates.push((e.handle, w));
                    }
                }
                _ => removes.push((e.handle, sid.clone())),
            }
        }
        for (handle, sid) in removes {
            let out = self
                .invoke_unchecked(&authorization::remove_user_acl_entry(handle))
                .await
                .map_err(|e| fail(&done, e.into()))?;
            check(&out, || format!("removing the Kerberos entry {sid}")).map_err(|e| fail(&done, e))?;
            done.removed.push(sid);
        }
        for (handle, w) in updates {
            let entry = to_acl_entry(w);
            let out = self
                .invoke_unchecked(&authorization::update_user_acl_entry_ex(handle, &entry, ""))
                .await
                .map_err(|e| fail(&done, e.into()))?;
            check(&out, || format!("updating the Kerberos entry {}", w.sid)).map_err(|e| fail(&done, e))?;
            done.updated.push(w.sid.clone());
        }
        for w in wanted.iter().filter(|w| !kept.contains(&w.sid)) {
            let entry = to_acl_entry(w);
            let out = self
                .invoke_unchecked(&authorization::add_user_acl_entry_ex(&entry, ""))
                .await
                .map_err(|e| fail(&done, e.into()))?;
            check(&out, || format!("adding the Kerberos entry {}", w.sid)).map_err(|e| fail(&done, e))?;
            let _ = AddUserAclEntryExOutput::from_element(&out);
            done.added.push(w.sid.clone());
        }
        Ok(done)
    }

    /// Turns Serial-over-LAN and storage redirection (IDE-R) on or off: RequestStateChange
    /// to the matching EnabledState (32768..=32771), then a Put of `ListenerEnabled` (on when
    /// either feature is). KVM is not covered (the simulator does not model KVM).
    pub async fn set_redirection_features(&self, sol: bool, storage: bool) -> Result<(), ProvisionError> {
        let state = RedirectionState::from_flags(storage, sol);
        let out = self.invoke_unchecked(&redirection_request_state_change(state)).await?;
        check(&out, || format!("setting redirection to \"{state}\""))?;
        let mut service: RedirectionService = self.get().await?;
        let listener = sol || storage;
        if service.listener_enabled != Some(listener) {
            service.listener_enabled = Some(listener);
            self.send(&service.put_request()).await?;
        }
        Ok(())
    }

    /// Sets the user-consent policy (`IPS_OptInService.OptInRequired`: 0 none, 1 KVM only,
    /// 4294967295 all) with a Put of the instance.
    pub async fn set_user_consent(&self, policy: OptInRequired) -> Result<(), ProvisionError> {
        if let OptInRequired::Unknown(v) = policy {
            return Err(ProvisionError::Invalid(format!(
                "{v} is not a consent policy: use none (0), KVM only (1) or all (4294967295)"
            )));
        }
        let mut service: OptInService = self.get().await?;
        if service.can_modify_opt_in_policy == Some(0) {
            return Err(ProvisionError::Invalid(
                "the device does not let its user-consent policy be changed (CanModifyOptInPolicy is 0; in client control mode consent is always required)"
                    .to_owned(),
            ));
        }
        if service.opt_in_required == Some(policy) {
            return Ok(());
        }
        service.opt_in_required = Some(policy);
        service.opt_in_state = None;
        self.send(&Request::put(OptInService::CLASS, service.to_properties()))
            .await?;
        Ok(())
    }

    /// Sets the device clock to this machine's (GetLowAccuracyTimeSynch, then
    /// SetHighAccuracyTimeSynch) and returns how far off it was, in seconds (device − here).
    pub async fn sync_clock(&self) -> Result<i64, ProvisionError> {
        let now = || time::OffsetDateTime::now_utc().unix_timestamp();
        let out = self.invoke_unchecked(&time_sync::get_low_accuracy_time_synch()).await?;
        check(&out, || "reading the device clock".to_owned())?;
        let ta0 = GetLowAccuracyTimeSynchOutput::from_element(&out)
            .map_err(ClientError::from)?
            .ta0
            .unwrap_or(0);
        let tm1 = now();
        let offset = i64::from(ta0) - tm1;
        let tm = u32::try_from(now()).unwrap_or(u32::MAX);
        let out = self
            .invoke_unchecked(&time_sync::set_high_accuracy_time_synch(
                ta0,
                u32::try_from(tm1).unwrap_or(tm),
                tm,
            ))
            .await?;
        check(&out, || "setting the device clock".to_owned())?;
        Ok(offset)
    }
}

fn to_acl_entry(w: &WantedAclEntry) -> AclEntry {
    AclEntry {
        user: AclUser::Kerberos(w.sid.clone()),
        access: AccessPermission::from_value(u32::from(w.access)),
        realms: w.realms.iter().map(|r| Realm::from_value(u32::from(*r))).collect(),
    }
}

/// MD4 (RFC 1320), only for the RC4-HMAC key; not for anything needing collision resistance.
fn md4(data: &[u8]) -> [u8; 16] {
    let mut msg = Zeroizing::new(data.to_vec());
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_le_bytes());
    let mut s: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    let f = |x: u32, y: u32, z: u32| (x & y) | (!x & z);
    let g = |x: u32, y: u32, z: u32| (x & y) | (x & z) | (y & z);
    let h = |x: u32, y: u32, z: u32| x ^ y ^ z;
    for block in msg.chunks_exact(64) {
        let mut x = [0u32; 16];
        for (i, w) in block.chunks_exact(4).enumerate() {
            x[i] = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        }
        let [mut a, mut b, mut c, mut d] = s;
        for &i in &[0usize, 4, 8, 12] {
            a = a.wrapping_add(f(b, c, d)).wrapping_add(x[i]).rotate_left(3);
            d = d.wrapping_add(f(a, b, c)).wrapping_add(x[i + 1]).rotate_left(7);
            c = c.wrapping_add(f(d, a, b)).wrapping_add(x[i + 2]).rotate_left(11);
            b = b.wrapping_add(f(c, d, a)).wrapping_add(x[i + 3]).rotate_left(19);
        }
        for &i in &[0usize, 1, 2, 3] {
            let k = 0x5a82_7999u32;
            a = a
                .wrapping_add(g(b, c, d))
                .wrapping_add(x[i])
                .wrapping_add(k)
                .rotate_left(3);
            d = d
                .wrapping_add(g(a, b, c))
                .wrapping_add(x[i + 4])
                .wrapping_add(k)
                .rotate_left(5);
            c = c
                .wrapping_add(g(d, a, b))
                .wrapping_add(x[i + 8])
                .wrapping_add(k)
                .rotate_left(9);
            b = b
                .wrapping_add(g(c, d, a))
                .wrapping_add(x[i + 12])
                .wrapping_add(k)
                .rotate_left(13);
        }
        for &i in &[0usize, 2, 1, 3] {
            let k = 0x6ed9_eba1u32;
            a = a
                .wrapping_add(h(b, c, d))
                .wrapping_add(x[i])
                .wrapping_add(k)
                .rotate_left(3);
            d = d
                .wrapping_add(h(a, b, c))
                .wrapping_add(x[i + 8])
                .wrapping_add(k)
                .rotate_left(9);
            c = c
                .wrapping_add(h(d, a, b))
                .wrapping_add(x[i + 4])
                .wrapping_add(k)
                .rotate_left(11);
            b = b
                .wrapping_add(h(c, d, a))
                .wrapping_add(x[i + 12])
                .wrapping_add(k)
                .rotate_left(15);
        }
        s[0] = s[0].wrapping_add(a);
        s[1] = s[1].wrapping_add(b);
        s[2] = s[2].wrapping_add(c);
        s[3] = s[3].wrapping_add(d);
        x.zeroize();
    }
    let mut out = [0u8; 16];
    for (i, v) in s.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md4_known_answers_rfc1320() {
        assert_eq!(hex::encode(md4(b"")), "31d6cfe0d16ae931b73c59d7e0c089c0");
        assert_eq!(hex::encode(md4(b"abc")), "a448017aaf21d8525fc10ae87aa6729d");
        assert_eq!(
            hex::encode(md4(
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
            )),
            "e33b4ddc9c38f2199c3e7b164fcc0536"
        );
    }

    #[test]
    fn rc4_key_is_the_nt_hash() {
        // The NT hash of "password" (MD4 of UTF-16LE), as Samba and Windows compute it.
        assert_eq!(hex::encode(rc4_key("password")), "8846f7eaee8fb117ad06bdd830b7586c");
        assert_eq!(hex::encode(rc4_key("")), "31d6cfe0d16ae931b73c59d7e0c089c0");
    }

    #[test]
    fn computer_salt_per_ms_kile() {
        let want = "EXAMPLE.TESThostamt9.example.test";
        assert_eq!(ad_computer_salt("EXAMPLE.TEST", "amt9"), want);
        assert_eq!(ad_computer_salt("example.test", "AMT9$"), want);
        assert_eq!(ad_computer_salt("EXAMPLE.TEST", "amt9.example.test"), want);
    }

    #[test]
    fn firmware_picks_the_key_kind_and_debug_hides_secrets() {
        let new = KerberosSetup::for_firmware("16.1.25", "EXAMPLE.TEST", "amt9", "S3cret!pw", 2, 5);
        assert!(
            matches!(&new.key, KeyMaterial::Passphrase { salt, iterations: 4096, .. } if salt == "EXAMPLE.TESThostamt9.example.test")
        );
        assert_eq!(new.encryption, vec![1, 2]);
        let shown = format!("{new:?}");
        assert!(!shown.contains("S3cret!pw"), "{shown}");
        let old = KerberosSetup::for_firmware("7.1.0", "EXAMPLE.TEST", "amt9", "S3cret!pw", 2, 5);
        assert!(matches!(old.key, KeyMaterial::Rc4MasterKey(k) if k == rc4_key("S3cret!pw")));
        assert_eq!(old.encryption, vec![0]);
        assert!(!format!("{old:?}").contains(&hex::encode(rc4_key("S3cret!pw"))));
        old.validate().expect("valid");
    }

    #[test]
    fn setting_data_carries_one_kind_of_key() {
        let s = KerberosSetup::for_firmware("7.0.0", "EXAMPLE.TEST", "amt9", "pw", 3, 4);
        let d = s.to_setting_data(&KerberosSettingData::default());
        assert_eq!(d.master_key.as_deref(), Some(B64.encode(rc4_key("pw")).as_str()));
        assert!(d.passphrase.is_none() && d.salt.is_none());
        assert_eq!(d.krb_enabled, Some(true));
        assert_eq!(d.instance_id.as_deref(), Some("Intel (r) AMT: Kerberos Settings"));
        let xml = d.put_request().to_xml(1);
        assert!(
            xml.contains("Name=\"InstanceID\">Intel (r) AMT: Kerberos Settings</"),
            "{xml}"
        );
        let s = KerberosSetup::for_firmware("12.0.0", "EXAMPLE.TEST", "amt9", "pw", 3, 4);
        let d = s.to_setting_data(&KerberosSettingData::default());
        assert!(d.master_key.is_none());
        assert_eq!(d.iteration_count, Some(4096));
        let mut bad = KerberosSetup::for_firmware("12.0.0", "EXAMPLE.TEST", "amt9", "pw", 3, 6);
        assert!(bad.validate().is_err());
        bad.clock_tolerance_minutes = 5;
        bad.realm = " ".into();
        assert!(bad.validate().is_err());
    }

    #[test]
    fn wanted_acl_rules() {
        let sid: Sid = "S-1-5-21-1-2-3-1104".parse().expect("sid");
        let ok = WantedAclEntry {
            sid: sid.clone(),
            access: 2,
            realms: vec![5, 13],
        };
        validate_wanted_acl(std::slice::from_ref(&ok)).expect("valid");
        assert!(validate_wanted_acl(&[ok.clone(), ok.clone()]).is_err(), "duplicate SID");
        let mut r = ok.clone();
        r.realms = vec![22];
        assert!(validate_wanted_acl(&[r]).is_err(), "reserved realm");
        let mut a = ok.clone();
        a.access = 3;
        assert!(validate_wanted_acl(&[a]).is_err());
        let long = WantedAclEntry {
            sid: "S-1-5-21-1-2-3-4-1104".parse().expect("sid"),
            ..ok.clone()
        };
        assert!(
            validate_wanted_acl(&[long]).is_err(),
            "six sub-authorities are 32 bytes"
        );
        let many: Vec<_> = (0..33)
            .map(|i| WantedAclEntry {
                sid: format!("S-1-5-21-1-2-3-{}", 2000 + i).parse().expect("sid"),
                ..ok.clone()
            })
            .collect();
        assert!(validate_wanted_acl(&many).is_err());
        assert!(validate_wanted_acl(&many[..32]).is_ok());
    }

    #[test]
    fn refusals_read_in_plain_words() {
        let e = ProvisionError::Refused {
            action: "adding the Kerberos entry S-1-5-21-1-2-3-1104".into(),
            code: 0x811,
        };
        assert!(
            e.to_string()
                .contains("the device already holds the most Kerberos entries it can")
        );
        assert_eq!(e.return_code(), Some(0x811));
    }
}
