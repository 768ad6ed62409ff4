//! The fleet description a simulator starts from (TOML or JSON).
//!
//! ```toml
//! count = 3          # devices amt1..amt3 on 127.1.0.1..127.1.0.3
//! port = 16992       # optional; --port wins
//! [defaults]         # applies to every device
//! admin_password = "P@ssw0rd"
//! amt_version = "16.1.25"
//! [[defaults.acl]]
//! username = "operator"
//! password = "Operat0r!"
//! realms = [4, 5, 13]
//! [devices.3]        # overrides for device 3 (fields replace the defaults)
//! amt_version = "4.2.0"
//! ```
//! See `fleet.example.toml` beside the crate manifest for every field.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Errors loading a seed file.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The file could not be read.
    #[error("cannot read seed file {path}: {source}")]
    Read {
        /// Path of the file.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The TOML is invalid.
    #[error("invalid TOML seed: {0}")]
    Toml(#[from] toml::de::Error),
    /// The JSON is invalid.
    #[error("invalid JSON seed: {0}")]
    Json(#[from] serde_json::Error),
    /// The content is inconsistent.
    #[error("invalid seed: {0}")]
    Invalid(String),
}

/// A whole fleet: how many devices, shared defaults and per-device overrides.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FleetSeed {
    /// Number of devices (1-based indexes 1..=count).
    pub count: u32,
    /// WS-Man port for every device (default 16992).
    pub port: Option<u16>,
    /// Settings for every device.
    pub defaults: DeviceSeed,
    /// Overrides by device index (`"3"`).
    pub devices: BTreeMap<String, DeviceSeed>,
}

/// One ACL entry in a seed: a Digest user (`username` + `password`) or a Kerberos SID.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct AclSeed {
    /// Digest user name (at most 16 ASCII characters).
    pub username: Option<String>,
    /// Digest password.
    pub password: Option<String>,
    /// Kerberos user or group SID (`S-1-5-21-…`).
    pub sid: Option<String>,
    /// Realms (numbers, reference §2.9).
    pub realms: Vec<u8>,
    /// 0 local only, 1 network only, 2 both (default 2).
    pub access_permission: Option<u8>,
}

/// Settings of one device; unset fields take the defaults, then built-in values.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeviceSeed {
    /// Admin user name (default `admin`).
    pub admin_user: Option<String>,
    /// Admin password (default `P@ssw0rd`).
    pub admin_password: Option<String>,
    /// Firmware version `major.minor.hotfix` (default `16.1.25`); ≤ 5 is the old generation.
    pub amt_version: Option<String>,
    /// Firmware build number (default `2049`).
    pub build_number: Option<String>,
    /// DNS domain (default `example.test`); the FQDN is `amt<N>.<domain>`.
    pub domain: Option<String>,
    /// Full FQDN override.
    pub fqdn: Option<String>,
    /// DigestRealm override (`Digest:` + 32 hex); default derived from the FQDN.
    pub digest_realm: Option<String>,
    /// Initial power state (default 2 = on).
    pub power_state: Option<u16>,
    /// 0 none, 1 client (CCM), 2 admin (ACM) (default 2).
    pub control_mode: Option<u8>,
    /// 0 pre, 1 in, 2 post provisioning (default 2).
    pub provisioning_state: Option<u8>,
    /// Kerberos enabled (default false).
    pub krb_enabled: Option<bool>,
    /// Kerberos realm (default `EXAMPLE.TEST`).
    pub krb_realm: Option<String>,
    /// MaximumClockTolerance in minutes (default 5).
    pub krb_max_clock_tolerance: Option<u32>,
    /// Kerberos KeyVersion (default 1).
    pub krb_key_version: Option<u32>,
    /// Device clock minus real time, seconds (default 0).
    pub clock_offset_secs: Option<i64>,
    /// AMT_RedirectionService.EnabledState (default 32771 IDER+SOL).
    pub redirection_enabled_state: Option<u16>,
    /// AMT_RedirectionService.ListenerEnabled (default true).
    pub listener_enabled: Option<bool>,
    /// IPS_OptInService.OptInRequired (default 0).
    pub opt_in_required: Option<u32>,
    /// Chassis manufacturer.
    pub manufacturer: Option<String>,
    /// Chassis model.
    pub model: Option<String>,
    /// ACL entries (replace, not extend, the defaults' list).
    pub acl: Option<Vec<AclSeed>>,
    /// A device never provisioned for Kerberos: KrbEnabled false and unconfigured, no ACL
    /// entries at all (only the Digest admin account), whatever `krb_enabled` and `acl` say.
    /// The portal provisions it (Kerberos settings, key, ACL) over WS-Man.
    pub fresh: Option<bool>,
}

macro_rules! merge_fields {
    ($over:expr, $base:expr, $($f:ident),* $(,)?) => {
        DeviceSeed { $($f: $over.$f.clone().or_else(|| $base.$f.clone())),* }
    };
}

impl DeviceSeed {
    /// `self` with unset fields taken from `base`.
    pub fn over(&self, base: &DeviceSeed) -> DeviceSeed {
        merge_fields!(
            self,
            base,
            admin_user,
            admin_password,
            amt_version,
            build_number,
            domain,
            fqdn,
            digest_realm,
            power_state,
            control_mode,
            provisioning_state,
            krb_enabled,
            krb_realm,
            krb_max_clock_tolerance,
            krb_key_version,
            clock_offset_secs,
            redirection_enabled_state,
            listener_enabled,
            opt_in_required,
            manufacturer,
            model,
            acl,
            fresh,
        )
    }
}

impl FleetSeed {
    /// A fleet of `count` devices with built-in settings.
    pub fn with_count(count: u32) -> FleetSeed {
        FleetSeed {
            count,
            ..FleetSeed::default()
        }
    }

    /// Loads a `.json` file as JSON, anything else as TOML.
    pub fn load(path: &Path) -> Result<FleetSeed, SeedError> {
        let text = std::fs::read_to_string(path).map_err(|source| SeedError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let seed: FleetSeed = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text)?
        } else {
            toml::from_str(&text)?
        };
        seed.validate()?;
        Ok(seed)
    }

    /// Checks override keys and ACL entries.
    pub fn validate(&self) -> Result<(), SeedError> {
        self.validate_from(1)
    }

    /// As [`FleetSeed::validate`], for a fleet whose first device is `first`.
    pub fn validate_from(&self, first: u32) -> Result<(), SeedError> {
        let last = first.saturating_add(self.count).saturating_sub(1);
        for key in self.devices.keys() {
            match key.parse::<u32>() {
                Ok(n) if n >= first && n <= last => {}
                _ => {
                    return Err(SeedError::Invalid(format!(
                        "device override \"{key}\" is not an index in {first}..={last}"
                    )));
                }
            }
        }
        if self.count > 65_000 {
            return Err(SeedError::Invalid("at most 65000 devices".into()));
        }
        for seed in std::iter::once(&self.defaults).chain(self.devices.values()) {
            for a in seed.acl.iter().flatten() {
                match (&a.username, &a.password, &a.sid) {
                    (Some(u), Some(_), None) if u.len() <= 16 && u.is_ascii() => {}
                    (None, None, Some(s)) if s.parse::<amt::Sid>().is_ok() => {}
                    _ => {
                        return Err(SeedError::Invalid(
                            "an ACL entry needs username+password (≤16 ASCII) or a valid sid".into(),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// The effective settings of device `index` (1-based).
    pub fn device(&self, index: u32) -> DeviceSeed {
        match self.devices.get(&index.to_string()) {
            Some(o) => o.over(&self.defaults),
            None => self.defaults.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_replace_defaults() {
        let seed: FleetSeed = toml::from_str(
            r#"
count = 3
[defaults]
amt_version = "12.0.67"
power_state = 2
[devices.2]
power_state = 8
"#,
        )
        .unwrap();
        seed.validate().unwrap();
        assert_eq!(seed.device(2).power_state, Some(8));
        assert_eq!(seed.device(2).amt_version.as_deref(), Some("12.0.67"));
        assert_eq!(seed.device(1).power_state, Some(2));
    }

    #[test]
    fn fresh_devices_have_no_kerberos_and_no_acl() {
        let seed: FleetSeed = toml::from_str(
            r#"
count = 2
[defaults]
krb_enabled = true
[[defaults.acl]]
sid = "S-1-5-21-1-2-3-1104"
realms = [3]
[devices.2]
fresh = true
"#,
        )
        .unwrap();
        seed.validate().unwrap();
        let one = crate::state::DeviceState::from_seed(1, &seed.device(1));
        assert!(one.kerberos.enabled && one.acl.len() == 1);
        let two = crate::state::DeviceState::from_seed(2, &seed.device(2));
        assert!(!two.kerberos.enabled && !two.kerberos.configured && two.acl.is_empty());
        assert_eq!(two.admin_user, "admin");
    }

    #[test]
    fn rejects_bad_override_index() {
        let seed: FleetSeed = toml::from_str("count = 1\n[devices.5]\npower_state = 8\n").unwrap();
        assert!(seed.validate().is_err());
    }

    #[test]
    fn example_file_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fleet.example.toml");
        let seed = FleetSeed::load(&path).unwrap();
        assert!(seed.count >= 1);
    }
}
