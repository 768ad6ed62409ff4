//! The device's AD computer object, as the apply run needs it: created (or updated) in the
//! profile's OU as `CN=<host>` with `sAMAccountName` `<HOST>$`, `dNSHostName`, the SPNs
//! `HTTP/<fqdn>:16992..16995`, a workstation trust `userAccountControl` and the encryption
//! types the firmware supports; then a fresh random password (the device's Kerberos secret) and
//! the key version read back.
//!
//! A device object elsewhere in the domain (same `dNSHostName`, SPN or account name in another
//! OU) is an error that names it: a duplicate SPN breaks Kerberos, and moving objects silently
//! is not ours to do. Every failure says which step failed and what was already changed.

use std::collections::HashSet;

use ldap3::{Mod, Scope, SearchEntry};
use rand::Rng;

use super::conn::{self, OP_TIMEOUT, Session};
use super::error::{AdError, AdStep, describe, ldap_rc};
use super::settings::{AdSettings, Secret, normalize_dn};

/// The device's new password: in memory only, redacted in `Debug`.
pub type MachinePassword = Secret;

/// AMT's ports: SOAP over HTTP and HTTPS, redirection over TCP and TLS.
pub const AMT_PORTS: [u16; 4] = [16992, 16993, 16994, 16995];

/// `userAccountControl`: workstation trust account.
pub const UF_WORKSTATION_TRUST_ACCOUNT: u32 = 0x1000;

/// `userAccountControl`: account disabled.
pub const UF_ACCOUNTDISABLE: u32 = 0x2;

/// `msDS-SupportedEncryptionTypes` for AMT 8+ firmware: AES128 + AES256.
pub const ENCTYPES_AES: u32 = 24;

/// `msDS-SupportedEncryptionTypes` for RC4-only firmware.
pub const ENCTYPES_RC4: u32 = 4;

/// Length of the generated password.
const PASSWORD_LEN: usize = 32;

/// The computer object after [`ensure_device_object`].
#[derive(Debug, Clone)]
pub struct DeviceObject {
    /// Its DN.
    pub dn: String,
    /// Whether it was created now (else it existed and was updated).
    pub created: bool,
    /// `msDS-KeyVersionNumber` after the password was set.
    pub key_version: u32,
    /// The new password (the device's Kerberos secret). Never logged or stored in clear.
    pub password: MachinePassword,
    /// The SPNs written.
    pub spns: Vec<String>,
    /// `msDS-SupportedEncryptionTypes` written (24 AES, 4 RC4).
    pub encryption_types: u32,
    /// The DC that took the write (check the others with [`super::check_on_every_dc`]).
    pub written_on: String,
    /// Salt input: the realm, upper case (`EXAMPLE.TEST`).
    pub realm: String,
    /// Salt input: the host name, lower case, without `$` (`amt1`).
    pub host: String,
}

impl DeviceObject {
    /// The AES salt AD uses for this computer account (MS-KILE §3.1.1.2):
    /// `REALM` + `host` + `hostname` + `.` + `realm-lower-case`, e.g. `EXAMPLE.TESThostamt1.example.test`.
    pub fn aes_salt(&self) -> String {
        aes_salt(&self.realm, &self.host)
    }
}

/// The AD AES salt of computer account `host` in `realm`.
pub fn aes_salt(realm: &str, host: &str) -> String {
    format!(
        "{}host{}.{}",
        realm.to_ascii_uppercase(),
        host.to_ascii_lowercase(),
        realm.to_ascii_lowercase()
    )
}

/// The SPNs of an AMT device.
pub fn device_spns(fqdn: &str) -> Vec<String> {
    AMT_PORTS.iter().map(|p| format!("HTTP/{fqdn}:{p}")).collect()
}

/// A random password of 32 characters with upper and lower case letters, digits and symbols
/// (meets AD's complexity rule; printable ASCII, as AMT's passphrase field takes).
pub fn random_password() -> MachinePassword {
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const DIGIT: &[u8] = b"23456789";
    const SYMBOL: &[u8] = b"-_.+=!#";
    let mut rng = rand::thread_rng();
    let all: Vec<u8> = [UPPER, LOWER, DIGIT, SYMBOL].concat();
    let mut chars: Vec<u8> = [UPPER, LOWER, DIGIT, SYMBOL]
        .iter()
        .map(|set| set[rng.gen_range(0..set.len())])
        .collect();
    while chars.len() < PASSWORD_LEN {
        chars.push(all[rng.gen_range(0..all.len())]);
    }
    // Shuffle so the classes are not at fixed places.
    for i in (1..chars.len()).rev() {
        chars.swap(i, rng.gen_range(0..=i));
    }
    Secret::new(String::from_utf8_lossy(&chars).into_owned())
}

/// `unicodePwd` as AD wants it: the password in double quotes, UTF-16LE.
pub fn unicode_pwd(password: &str) -> Vec<u8> {
    format!("\"{password}\"")
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect()
}

/// The host label of `fqdn`, checked: lower case letters, digits and hyphens, at most 19
/// characters (sAMAccountName holds 20 with the `$`).
pub fn host_of_fqdn(fqdn: &str) -> Result<String, String> {
    let fqdn = fqdn.trim().trim_end_matches('.');
    let (host, domain) = fqdn
        .split_once('.')
        .ok_or_else(|| format!("\"{fqdn}\" is not a fully qualified name (host.domain): Kerberos needs the FQDN"))?;
    let ok_label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if !ok_label(host) || !domain.split('.').all(ok_label) {
        return Err(format!("\"{fqdn}\" is not a valid DNS name"));
    }
    if host.len() > 19 {
        return Err(format!(
            "the host name \"{host}\" is longer than 19 characters: its AD account name {}$ would exceed AD's 20",
            host.to_ascii_uppercase()
        ));
    }
    Ok(host.to_ascii_lowercase())
}

fn set<S: Into<Vec<u8>>>(values: impl IntoIterator<Item = S>) -> HashSet<Vec<u8>> {
    values.into_iter().map(Into::into).collect()
}

/// The right an LDAP failure most likely lacks, as the delegation wizard names it.
fn rights_hint(step: AdStep, account: &str, ou_dn: &str) -> String {
    match step {
        AdStep::Create => format!(
            "{account} may not create computer objects in {ou_dn}: delegate 'Create Computer objects' on that OU"
        ),
        AdStep::Update => format!(
            "{account} may not change computer objects in {ou_dn}: delegate 'Full control' of descendant Computer objects on that OU"
        ),
        AdStep::SetPassword => format!(
            "{account} may not reset passwords of computer objects in {ou_dn}: delegate 'Reset password' (or 'Full control') of descendant Computer objects on that OU"
        ),
        _ => format!("{account} lacks a right in {ou_dn}"),
    }
}

/// Explains a failed write at `step`.
fn write_error(step: AdStep, e: &ldap3::LdapError, s: &Session, ou_dn: &str, dn: &str) -> AdError {
    let msg = match ldap_rc(e) {
        Some((50, _)) => rights_hint(step, &s.account(), ou_dn),
        Some((32, _)) => format!("{ou_dn} does not exist on {}: create it or fix the DN", s.dc),
        Some((8 | 13, _)) | Some((53, _))
            if step == AdStep::SetPassword || (step == AdStep::Create && !s.encrypted) =>
        {
            format!(
                "{} refused the password ({}): AD takes passwords only over an encrypted connection (LDAPS, StartTLS or a sealed Kerberos bind) and only when they meet the domain's password policy",
                s.dc,
                describe(e)
            )
        }
        Some((19, text)) if text.to_ascii_lowercase().contains("spn") || text.contains("servicePrincipalName") => {
            format!(
                "{} refused the SPNs of {dn} ({}): another object in the forest holds them; find it with setspn -Q HTTP/<fqdn>:* and remove the duplicate",
                s.dc,
                describe(e)
            )
        }
        Some((68, _)) => format!(
            "{dn} already exists on {} but was not found by its account name: remove or rename it",
            s.dc
        ),
        _ => format!("{} refused the change of {dn}: {}", s.dc, describe(e)),
    };
    AdError::new(step, msg)
}

/// Objects in the domain holding `fqdn`'s name, SPNs or account name: `(dn, what matched)`.
async fn find_existing(
    s: &mut Session,
    base_dn: &str,
    fqdn: &str,
    sam: &str,
) -> Result<Vec<(String, Vec<String>)>, AdError> {
    let f = conn::filter_escape(fqdn);
    let filter = format!(
        "(|(sAMAccountName={})(dNSHostName={f})(servicePrincipalName=HTTP/{f}:*))",
        conn::filter_escape(sam)
    );
    let (entries, _) = s
        .ldap
        .with_timeout(OP_TIMEOUT)
        .search(
            base_dn,
            Scope::Subtree,
            &filter,
            vec!["sAMAccountName", "dNSHostName", "servicePrincipalName"],
        )
        .await
        .and_then(|r| r.success())
        .map_err(|e| {
            AdError::new(
                AdStep::Find,
                format!("searching {base_dn} on {} failed: {}", s.dc, describe(&e)),
            )
        })?;
    Ok(entries
        .into_iter()
        .map(SearchEntry::construct)
        .map(|e| {
            let mut what = Vec::new();
            if e.attrs
                .get("sAMAccountName")
                .is_some_and(|v| v.iter().any(|x| x.eq_ignore_ascii_case(sam)))
            {
                what.push(format!("account name {sam}"));
            }
            if e.attrs
                .get("dNSHostName")
                .is_some_and(|v| v.iter().any(|x| x.eq_ignore_ascii_case(fqdn)))
            {
                what.push(format!("dNSHostName {fqdn}"));
            }
            let prefix = format!("http/{}:", fqdn.to_ascii_lowercase());
            for spn in e.attrs.get("servicePrincipalName").into_iter().flatten() {
                if spn.to_ascii_lowercase().starts_with(&prefix) {
                    what.push(format!("SPN {spn}"));
                }
            }
            (e.dn, what)
        })
        .collect())
}

/// Reads `msDS-KeyVersionNumber` of `dn`.
async fn key_version(s: &mut Session, dn: &str) -> Result<u32, String> {
    let (entries, _) = s
        .ldap
        .with_timeout(OP_TIMEOUT)
        .search(dn, Scope::Base, "(objectClass=*)", vec!["msDS-KeyVersionNumber"])
        .await
        .and_then(|r| r.success())
        .map_err(|e| describe(&e))?;
    entries
        .into_iter()
        .next()
        .map(SearchEntry::construct)
        .and_then(|e| e.attrs.get("msDS-KeyVersionNumber")?.first()?.parse().ok())
        .ok_or_else(|| format!("{} did not return msDS-KeyVersionNumber of {dn}", s.dc))
}

/// Creates or updates the computer object of the device `fqdn` in `ou_dn`, sets a fresh random
/// password and reads back its key version. `firmware_has_aes`: AMT 8+ (AES keys) or RC4 only.
pub async fn ensure_device_object(
    settings: &AdSettings,
    fqdn: &str,
    ou_dn: &str,
    firmware_has_aes: bool,
) -> Result<DeviceObject, AdError> {
    let host = host_of_fqdn(fqdn).map_err(|e| AdError::new(AdStep::Settings, e))?;
    let fqdn = fqdn.trim().trim_end_matches('.').to_ascii_lowercase();
    let ou_dn = ou_dn.trim();
    if ou_dn.is_empty() {
        return Err(AdError::new(
            AdStep::Settings,
            "no OU is given for the device's AD object: set one in the profile or on the AD settings page",
        ));
    }
    let mut s = conn::open_first(settings).await?;
    let result = ensure_on(&mut s, settings, &fqdn, &host, ou_dn, firmware_has_aes).await;
    s.close().await;
    result
}

async fn ensure_on(
    s: &mut Session,
    settings: &AdSettings,
    fqdn: &str,
    host: &str,
    ou_dn: &str,
    firmware_has_aes: bool,
) -> Result<DeviceObject, AdError> {
    let dn = format!("CN={host},{ou_dn}");
    let sam = format!("{}$", host.to_ascii_uppercase());
    let spns = device_spns(fqdn);
    let enctypes = if firmware_has_aes { ENCTYPES_AES } else { ENCTYPES_RC4 };
    let uac = UF_WORKSTATION_TRUST_ACCOUNT;

    let found = find_existing(s, &settings.base_dn, fqdn, &sam).await?;
    let target = normalize_dn(&dn);
    let (here, elsewhere): (Vec<_>, Vec<_>) = found.into_iter().partition(|(d, _)| normalize_dn(d) == target);
    if !elsewhere.is_empty() {
        let list = elsewhere
            .iter()
            .map(|(d, what)| format!("{d} (holds {})", what.join(", ")))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(AdError::new(
            AdStep::Find,
            format!(
                "{fqdn} already has an AD object elsewhere in the domain: {list}. Two objects with the same SPNs break Kerberos for the device: delete or move that object (or use its OU in the profile), then apply again"
            ),
        ));
    }
    let password = random_password();
    let created = here.is_empty();
    if created {
        let attrs: Vec<(Vec<u8>, HashSet<Vec<u8>>)> = vec![
            (
                b"objectClass".to_vec(),
                set(["top", "person", "organizationalPerson", "user", "computer"]),
            ),
            (b"sAMAccountName".to_vec(), set([sam.as_str()])),
            (b"dNSHostName".to_vec(), set([fqdn])),
            (b"servicePrincipalName".to_vec(), set(spns.iter().map(String::as_str))),
            (b"userAccountControl".to_vec(), set([uac.to_string()])),
            (b"msDS-SupportedEncryptionTypes".to_vec(), set([enctypes.to_string()])),
            (
                b"description".to_vec(),
                set(["Intel AMT device (managed by the AMT portal)"]),
            ),
            (b"unicodePwd".to_vec(), set([unicode_pwd(password.expose())])),
        ];
        s.ldap
            .with_timeout(OP_TIMEOUT)
            .add(&dn, attrs)
            .await
            .and_then(|r| r.success())
            .map_err(|e| write_error(AdStep::Create, &e, s, ou_dn, &dn))?;
    } else {
        let mods = vec![
            Mod::Replace(b"dNSHostName".to_vec(), set([fqdn])),
            Mod::Replace(b"servicePrincipalName".to_vec(), set(spns.iter().map(String::as_str))),
            Mod::Replace(b"msDS-SupportedEncryptionTypes".to_vec(), set([enctypes.to_string()])),
        ];
        s.ldap
            .with_timeout(OP_TIMEOUT)
            .modify(&dn, mods)
            .await
            .and_then(|r| r.success())
            .map_err(|e| write_error(AdStep::Update, &e, s, ou_dn, &dn))?;
        s.ldap
            .with_timeout(OP_TIMEOUT)
            .modify(
                &dn,
                vec![Mod::Replace(
                    b"unicodePwd".to_vec(),
                    set([unicode_pwd(password.expose())]),
                )],
            )
            .await
            .and_then(|r| r.success())
            .map_err(|e| {
                write_error(AdStep::SetPassword, &e, s, ou_dn, &dn).after(format!(
                    "{dn}: dNSHostName, SPNs and encryption types updated; the old password still holds"
                ))
            })?;
        // The account may have been disabled (a fresh object or by hand): enable it now that
        // it has a password.
        s.ldap
            .with_timeout(OP_TIMEOUT)
            .modify(
                &dn,
                vec![Mod::Replace(b"userAccountControl".to_vec(), set([uac.to_string()]))],
            )
            .await
            .and_then(|r| r.success())
            .map_err(|e| {
                write_error(AdStep::Update, &e, s, ou_dn, &dn).after(format!(
                    "{dn}: attributes updated and new password set (the account may still be disabled)"
                ))
            })?;
    }
    let done = if created {
        format!("{dn} created with its SPNs and new password")
    } else {
        format!("{dn} updated and new password set")
    };
    let key_version = key_version(s, &dn).await.map_err(|e| {
        AdError::new(
            AdStep::ReadBack,
            format!("{e}: read the key version again before writing the device"),
        )
        .after(done)
    })?;
    Ok(DeviceObject {
        dn,
        created,
        key_version,
        password,
        spns,
        encryption_types: enctypes,
        written_on: s.dc.clone(),
        realm: settings.realm.clone(),
        host: host.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_random_and_complex() {
        let a = random_password();
        let b = random_password();
        assert_ne!(a.expose(), b.expose());
        let p = a.expose();
        assert_eq!(p.len(), PASSWORD_LEN);
        assert!(p.chars().any(|c| c.is_ascii_uppercase()));
        assert!(p.chars().any(|c| c.is_ascii_lowercase()));
        assert!(p.chars().any(|c| c.is_ascii_digit()));
        assert!(p.chars().any(|c| !c.is_ascii_alphanumeric()));
        assert!(!format!("{a:?}").contains(p));
    }

    #[test]
    fn unicode_pwd_is_quoted_utf16le() {
        assert_eq!(unicode_pwd("ab"), vec![b'"', 0, b'a', 0, b'b', 0, b'"', 0]);
    }

    #[test]
    fn salt_and_spns() {
        assert_eq!(aes_salt("EXAMPLE.TEST", "AMT1"), "EXAMPLE.TESThostamt1.example.test");
        assert_eq!(device_spns("amt1.example.test")[3], "HTTP/amt1.example.test:16995");
    }

    #[test]
    fn host_names_are_checked() {
        assert_eq!(host_of_fqdn("AMT1.example.test.").unwrap(), "amt1");
        assert!(host_of_fqdn("amt1").unwrap_err().contains("fully qualified"));
        assert!(host_of_fqdn("a b.example.test").unwrap_err().contains("valid DNS"));
        assert!(
            host_of_fqdn("averyveryverylonghostname.example.test")
                .unwrap_err()
                .contains("19")
        );
    }
}
