//! The seam between the apply run and the parts other modules own: the profile store
//! (`crate::profiles`), the AD computer object (`crate::ad`) and the device-side provisioning
//! calls (`amt::provision`). Each function here only adapts their API to the run's steps (plain
//! sentences, what changed); nothing of theirs is reimplemented.

use amt::client::Client;
use shared::profiles::{ConsentPolicy, Profile, ProfileAclEntry, RedirectionPolicy};

use crate::AppState;

/// Said by a step whose part is not in this build of the portal.
const NOT_IN_BUILD: &str =
    "this build of the portal cannot do this step yet (its module is not merged): nothing was changed here";

/// The device's computer object as the AD step left it. The password is only in memory and
/// never shown (Debug is redacted).
pub struct AdObject {
    /// Its distinguished name.
    pub dn: String,
    /// Whether the step created it (else it updated it).
    pub created: bool,
    /// `msDS-KeyVersionNumber` after the new password.
    pub key_version: u32,
    /// The realm (`EXAMPLE.TEST`), for the key's salt.
    pub realm: String,
    /// The host part of the FQDN, for the key's salt.
    pub host: String,
    password: String,
}

impl AdObject {
    /// The object as the AD module returned it.
    pub fn new(dn: String, created: bool, key_version: u32, realm: String, host: String, password: String) -> Self {
        AdObject {
            dn,
            created,
            key_version,
            realm,
            host,
            password,
        }
    }

    /// The new password, for deriving the device's key (memory only).
    pub fn password(&self) -> &str {
        &self.password
    }
}

impl std::fmt::Debug for AdObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdObject")
            .field("dn", &self.dn)
            .field("created", &self.created)
            .field("key_version", &self.key_version)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// The profile assigned to device `device_id`, if any.
pub async fn profile_for_device(_state: &AppState, _device_id: i64) -> Result<Option<Profile>, String> {
    Err(format!("the device's profile cannot be read: {NOT_IN_BUILD}"))
}

/// What is wrong with `profile`, one sentence each (empty when it is valid).
pub fn profile_problems(_profile: &Profile) -> Vec<String> {
    Vec::new()
}

/// Creates or updates the device's computer object in `ou` with a fresh random password.
pub async fn ensure_device_object(_state: &AppState, _fqdn: &str, _ou: &str, _aes: bool) -> Result<AdObject, String> {
    Err(NOT_IN_BUILD.into())
}

/// Reads the object back on every domain controller; `Ok` says what was checked.
pub async fn check_on_every_dc(_state: &AppState, _object: &AdObject) -> Result<String, String> {
    Err(NOT_IN_BUILD.into())
}

/// Writes the device's Kerberos settings (realm, key from the new password, tolerance).
pub async fn write_kerberos(
    _client: &Client,
    _object: &AdObject,
    _tolerance_minutes: u8,
    _aes: bool,
) -> Result<String, String> {
    Err(NOT_IN_BUILD.into())
}

/// Makes the device's Kerberos ACL entries those of the profile; `(sentence, changed)` either way.
pub async fn write_acl(_client: &Client, _acl: &[ProfileAclEntry]) -> Result<(String, bool), (String, bool)> {
    Err((NOT_IN_BUILD.into(), false))
}

/// Sets redirection (SOL, storage) and the user-consent policy.
pub async fn write_redirection(
    _client: &Client,
    _redirection: RedirectionPolicy,
    _consent: ConsentPolicy,
) -> Result<String, String> {
    Err(NOT_IN_BUILD.into())
}
