//! The seam between the apply run and the parts other modules own: the profile store
//! ([`crate::profiles`]), the AD computer object ([`crate::ad`]) and the device-side
//! provisioning calls (`amt::provision`). Each function here only adapts their API to the run's
//! steps (plain sentences, what changed); nothing of theirs is reimplemented.

use amt::client::Client;
use amt::models::redirection::OptInRequired;
use amt::provision::{KerberosSetup, WantedAclEntry};
use amt::sid::Sid;
use shared::profiles::{ConsentPolicy, Profile, ProfileAclEntry, RedirectionPolicy};

use crate::AppState;
use crate::ad::{self, AdSettings, DeviceObject};

/// The profile assigned to device `device_id`, if any.
pub async fn profile_for_device(state: &AppState, device_id: i64) -> Result<Option<Profile>, String> {
    crate::profiles::for_device(&state.pool, device_id)
        .await
        .map_err(|e| format!("the device's profile cannot be read: {e}"))
}

/// What is wrong with `profile`, one sentence each (empty when it is valid).
pub fn profile_problems(profile: &Profile) -> Vec<String> {
    profile
        .validate()
        .into_iter()
        .map(|p| format!("{}: {}", p.field, p.message))
        .collect()
}

/// The AD settings in force (saved, else from the configuration).
pub async fn ad_settings(state: &AppState) -> Result<AdSettings, String> {
    ad::settings::load(&state.pool, &state.config, state.sealer.as_deref())
        .await
        .map_err(|e| e.to_string())
}

/// Creates or updates the device's computer object in `ou` (the profile's OU, else the AD
/// settings' default) with a fresh random password. The error says what was already done.
pub async fn ensure_device_object(state: &AppState, fqdn: &str, ou: &str, aes: bool) -> Result<DeviceObject, String> {
    let settings = ad_settings(state).await?;
    let ou = if ou.trim().is_empty() {
        settings.device_ou.clone()
    } else {
        ou.to_string()
    };
    ad::ensure_device_object(&settings, fqdn, &ou, aes)
        .await
        .map_err(|e| e.to_string())
}

/// Reads the object back on every domain controller; `Ok` says what each has, `Err` names the
/// DCs that differ (the "bindless update").
pub async fn check_on_every_dc(state: &AppState, object: &DeviceObject) -> Result<String, String> {
    let settings = ad_settings(state).await?;
    let expected = ad::Expected {
        spns: object.spns.clone(),
        key_version: object.key_version,
    };
    let checks = ad::check_on_every_dc(&settings, &object.dn, &expected).await;
    if checks.is_empty() {
        return Err("no domain controller is configured to check the object on: fill in the AD settings".into());
    }
    let sentences: Vec<String> = checks.iter().map(|c| c.sentence()).collect();
    if checks.iter().all(|c| c.outcome == shared::ad::DcOutcome::Matches) {
        Ok(format!(
            "Every domain controller has the object as written ({}): {}.",
            checks.len(),
            sentences.join("; ")
        ))
    } else {
        Err(format!(
            "not every domain controller has the object as written, so some users' logins to the device would fail: {}. Wait for replication and retry, or check the DC that differs",
            sentences.join("; ")
        ))
    }
}

/// Writes the device's Kerberos settings: the realm, the key from the object's new password
/// (AES passphrase/salt/iterations for AMT 8+, else the RC4 master key), its key version, the
/// profile's clock tolerance.
pub async fn write_kerberos(
    client: &Client,
    object: &DeviceObject,
    tolerance_minutes: u8,
    amt_version: Option<&str>,
) -> Result<String, String> {
    let setup = KerberosSetup::for_firmware(
        amt_version.unwrap_or(""),
        &object.realm,
        &object.host,
        object.password.expose(),
        object.key_version,
        tolerance_minutes,
    );
    let kind = match &setup.key {
        amt::provision::KeyMaterial::Rc4MasterKey(_) => "an RC4 master key".to_string(),
        amt::provision::KeyMaterial::Passphrase { salt, iterations, .. } => {
            format!("AES from the passphrase (salt {salt}, {iterations} iterations)")
        }
    };
    client
        .put_kerberos_settings(&setup)
        .await
        .map_err(|e| format!("the device refused its Kerberos settings: {e}"))?;
    Ok(format!(
        "Kerberos on for realm {}, key version {}, {kind}, clock tolerance {tolerance_minutes} minutes.",
        object.realm, object.key_version
    ))
}

/// The profile's entries as the device takes them.
pub fn wanted_acl(acl: &[ProfileAclEntry]) -> Result<Vec<WantedAclEntry>, String> {
    acl.iter()
        .map(|e| {
            let sid: Sid = e.sid.parse().map_err(|_| {
                format!(
                    "the profile's entry {} has a SID the device cannot take ({})",
                    e.name, e.sid
                )
            })?;
            Ok(WantedAclEntry {
                sid,
                access: e.access.value(),
                realms: e.realms.iter().map(|r| r.value()).collect(),
            })
        })
        .collect()
}

/// Makes the device's Kerberos ACL entries those of the profile (Digest and system entries are
/// left alone); `(sentence, changed)` either way, so a failure part way says what it changed.
pub async fn write_acl(client: &Client, acl: &[ProfileAclEntry]) -> Result<(String, bool), (String, bool)> {
    let wanted = wanted_acl(acl).map_err(|e| (e, false))?;
    let count = |v: &[Sid], what: &str| (!v.is_empty()).then(|| format!("{} {what}", v.len()));
    match client.sync_kerberos_acl(&wanted).await {
        Ok(r) => {
            let parts: Vec<String> = [
                count(&r.added, "added"),
                count(&r.updated, "updated"),
                count(&r.removed, "removed"),
                count(&r.unchanged, "already right"),
            ]
            .into_iter()
            .flatten()
            .collect();
            Ok((
                format!(
                    "The device's Kerberos access list is the profile's ({} {}: {}).",
                    wanted.len(),
                    if wanted.len() == 1 { "entry" } else { "entries" },
                    if parts.is_empty() {
                        "none".into()
                    } else {
                        parts.join(", ")
                    }
                ),
                r.changed(),
            ))
        }
        Err(e) => Err((format!("the access list was not fully written: {e}"), e.done.changed())),
    }
}

/// Sets redirection (SOL, storage) and the user-consent policy. KVM is not set by this portal
/// (the `amt` crate and the simulator do not model it): the sentence says so when asked for.
pub async fn write_redirection(
    client: &Client,
    redirection: RedirectionPolicy,
    consent: ConsentPolicy,
) -> Result<String, String> {
    client
        .set_redirection_features(redirection.sol, redirection.storage)
        .await
        .map_err(|e| format!("redirection could not be set: {e}"))?;
    let policy = match consent {
        ConsentPolicy::None => OptInRequired::None,
        ConsentPolicy::Kvm => OptInRequired::KvmOnly,
        ConsentPolicy::All => OptInRequired::All,
    };
    client
        .set_user_consent(policy)
        .await
        .map_err(|e| format!("redirection is set, but the user-consent policy could not be: {e}"))?;
    let on_off = |b: bool| if b { "on" } else { "off" };
    Ok(format!(
        "Serial-over-LAN {}, storage redirection {}, user consent: {}.{}",
        on_off(redirection.sol),
        on_off(redirection.storage),
        match consent {
            ConsentPolicy::None => "none",
            ConsentPolicy::Kvm => "for KVM",
            ConsentPolicy::All => "for every redirection and boot action",
        },
        if redirection.kvm {
            " KVM was not changed: this portal does not set KVM yet; set it with the device's own tools."
        } else {
            ""
        }
    ))
}
