//! The portal's one typed configuration: read from the environment (and optionally a TOML
//! file named by `PORTAL_CONFIG`), validated before anything starts.
//!
//! Every setting, with its default (the README's table is generated from the same list):
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `PORTAL_CONFIG` | TOML file with the same keys in lower case without the prefix (`listen = "…"`) | none |
//! | `PORTAL_LISTEN` | address and port to listen on | `127.0.0.1:8443` |
//! | `PORTAL_PUBLIC_URL` | the URL users open; its origin is the only one allowed to change state | `https://portal.example.test:8443` |
//! | `PORTAL_TLS_CERT` / `PORTAL_TLS_KEY` | PEM certificate chain and key; without them the portal serves plain HTTP, and only on loopback | none |
//! | `PORTAL_KEYTAB` | keytab holding the portal's service key | required |
//! | `PORTAL_SERVICE_PRINCIPAL` | the SPN browsers get tickets for; must be in the keytab | `HTTP/<host of PORTAL_PUBLIC_URL>` |
//! | `PORTAL_KRB5_CONFIG` | krb5.conf to use (sets `KRB5_CONFIG`) | the system's |
//! | `PORTAL_DATABASE` | SQLite file (created if missing) | `portal.sqlite` |
//! | `PORTAL_LDAP_URL` | directory for group names and the DC clock (`ldap://dc`); SASL GSSAPI with the keytab | none (groups shown as SIDs) |
//! | `PORTAL_LDAP_HOST` | DNS name in the directory's SPN `ldap/<host>` | host of `PORTAL_LDAP_URL` |
//! | `PORTAL_LDAP_BASE_DN` | search base | derived from the realm |
//! | `PORTAL_SESSION_HOURS` | idle time after which a session ends | `8` |
//! | `PORTAL_PASSWORD_SIGN_IN` | offer the password form (`true`/`false`) | `true` |
//! | `PORTAL_RCACHE` | Kerberos replay cache (`file2:/path`, MIT 1.18+); replay detection is always on | MIT's default |
//! | `PORTAL_POLL_MINUTES` | minutes between background checks of every device (0: only when a user asks) | `5` |
//! | `PORTAL_POLL_CONCURRENCY` | devices checked at once (1-1024) | `128` |
//! | `PORTAL_DEVICE_TIMEOUT_SECS` | how long a device may take to answer one request (1-120) | `10` |
//! | `PORTAL_ADMIN_GROUPS` | AD groups (names or SIDs, comma-separated) whose members manage the registry | `AMT Admins` |
//! | `PORTAL_DEVICE_OU` | DN of the OU holding the devices' AD computer objects, for discovery | none |
//! | `PORTAL_SECRET_KEY_FILE` | file with 64 hex characters (mode 600) sealing stored Digest admin passwords; without it admin mode is off | none |
//! | `PORTAL_TRANSCRIPT_DAYS` | days console transcripts are kept (devices whose policy keeps them), 1-3650 | `90` |
//! | `PORTAL_AUDITOR_GROUPS` | AD groups (names or SIDs, comma-separated) whose members may read and export the portal's audit log | `AMT Admins` |
//! | `PORTAL_APPROVER_GROUPS` | AD groups (names or SIDs) whose members approve self-service reprovision requests (until the AD settings name them) | none |
//! | `PORTAL_HELPDESK_GROUPS` | AD groups (names or SIDs) whose members may request reprovisioning on behalf of another user | `AMT Helpdesk` |
//! | `PORTAL_KEY_ROTATION_DAYS` | days after which a device's AMT Kerberos key is renewed (1-365; kept below the domain's maximum password age) | `30` |
//!
//! Values from the environment override the file. Each mistake is reported with what to do.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A configuration error, phrased for the person starting the portal.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The URL users open, without a trailing slash.
    pub public_url: String,
    /// The origin (scheme://host[:port]) derived from `public_url`.
    pub public_origin: String,
    /// TLS certificate and key, when serving HTTPS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// The service keytab.
    pub keytab: PathBuf,
    /// The acceptor principal, e.g. `HTTP/portal.example.test`.
    pub service_principal: String,
    /// krb5.conf, when not the system's.
    pub krb5_config: Option<PathBuf>,
    /// SQLite database file.
    pub database: PathBuf,
    /// Directory lookups, if configured.
    pub ldap: Option<LdapConfig>,
    /// Idle session lifetime in hours.
    pub session_hours: i64,
    /// Whether the password form is offered.
    pub password_sign_in: bool,
    /// Replay cache name.
    pub rcache: Option<String>,
    /// The realm of the service principal (users typing a bare name in the password form are in it).
    pub realm: String,
    /// Background fleet checks: minutes between runs (0: off).
    pub poll_minutes: u64,
    /// Devices checked at once.
    pub poll_concurrency: usize,
    /// Per-request timeout towards devices.
    pub device_timeout: std::time::Duration,
    /// Days a console transcript is kept.
    pub transcript_days: u32,
    /// Groups (names or SIDs) whose members manage the registry.
    pub admin_groups: Vec<String>,
    /// DN of the OU holding device computer objects.
    pub device_ou: Option<String>,
    /// Key file sealing Digest admin passwords (checked: readable, private, 64 hex characters).
    pub secret_key_file: Option<PathBuf>,
    /// AD groups (names or SIDs) whose members may read and export the portal's audit log.
    pub auditor_groups: Vec<String>,
    /// AD groups (names or SIDs) whose members approve reprovision requests; empty: nobody.
    pub approver_groups: Vec<String>,
    /// AD groups (names or SIDs) whose members may request on behalf of others.
    pub helpdesk_groups: Vec<String>,
    /// Days after which a device's Kerberos key is renewed.
    pub key_rotation_days: u32,
}

/// Where and how to reach the directory.
#[derive(Debug, Clone)]
pub struct LdapConfig {
    /// `ldap://host[:port]`.
    pub url: String,
    /// Host name in the LDAP SPN.
    pub host: String,
    /// Search base, e.g. `DC=example,DC=test`.
    pub base_dn: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    listen: Option<String>,
    public_url: Option<String>,
    tls_cert: Option<String>,
    tls_key: Option<String>,
    keytab: Option<String>,
    service_principal: Option<String>,
    krb5_config: Option<String>,
    database: Option<String>,
    ldap_url: Option<String>,
    ldap_host: Option<String>,
    ldap_base_dn: Option<String>,
    session_hours: Option<i64>,
    password_sign_in: Option<bool>,
    rcache: Option<String>,
    poll_minutes: Option<u64>,
    poll_concurrency: Option<u64>,
    device_timeout_secs: Option<u64>,
    transcript_days: Option<u64>,
    admin_groups: Option<String>,
    device_ou: Option<String>,
    secret_key_file: Option<String>,
    auditor_groups: Option<String>,
    approver_groups: Option<String>,
    helpdesk_groups: Option<String>,
    key_rotation_days: Option<u64>,
}

/// A whole number from the environment, or a sentence saying what is wrong with it.
fn number(var: &str, v: &str) -> Result<u64, ConfigError> {
    v.trim()
        .parse()
        .map_err(|_| ConfigError(format!("{var}={v} is not a whole number")))
}

/// `value` when it lies in `range`, else a sentence naming the variable and the range.
fn in_range(var: &str, value: u64, range: std::ops::RangeInclusive<u64>) -> Result<u64, ConfigError> {
    if range.contains(&value) {
        Ok(value)
    } else {
        err(format!(
            "{var}={value} must be between {} and {}",
            range.start(),
            range.end()
        ))
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError(msg.into()))
}

impl Config {
    /// Reads `PORTAL_*` variables (and `PORTAL_CONFIG`'s file) and validates them.
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Same as [`Config::from_env`] with a custom variable source (for tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut raw = match get("PORTAL_CONFIG") {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| ConfigError(format!("PORTAL_CONFIG={path} cannot be read: {e}")))?;
                toml::from_str::<Raw>(&text)
                    .map_err(|e| ConfigError(format!("PORTAL_CONFIG={path} is not valid: {}", e.message())))?
            }
            None => Raw::default(),
        };
        macro_rules! env_over {
            ($field:ident, $var:literal) => {
                if let Some(v) = get($var) {
                    raw.$field = Some(v);
                }
            };
        }
        env_over!(listen, "PORTAL_LISTEN");
        env_over!(public_url, "PORTAL_PUBLIC_URL");
        env_over!(tls_cert, "PORTAL_TLS_CERT");
        env_over!(tls_key, "PORTAL_TLS_KEY");
        env_over!(keytab, "PORTAL_KEYTAB");
        env_over!(service_principal, "PORTAL_SERVICE_PRINCIPAL");
        env_over!(krb5_config, "PORTAL_KRB5_CONFIG");
        env_over!(database, "PORTAL_DATABASE");
        env_over!(ldap_url, "PORTAL_LDAP_URL");
        env_over!(ldap_host, "PORTAL_LDAP_HOST");
        env_over!(ldap_base_dn, "PORTAL_LDAP_BASE_DN");
        env_over!(rcache, "PORTAL_RCACHE");
        env_over!(admin_groups, "PORTAL_ADMIN_GROUPS");
        env_over!(device_ou, "PORTAL_DEVICE_OU");
        env_over!(secret_key_file, "PORTAL_SECRET_KEY_FILE");
        for (var, field) in [
            ("PORTAL_POLL_MINUTES", &mut raw.poll_minutes),
            ("PORTAL_POLL_CONCURRENCY", &mut raw.poll_concurrency),
            ("PORTAL_DEVICE_TIMEOUT_SECS", &mut raw.device_timeout_secs),
            ("PORTAL_TRANSCRIPT_DAYS", &mut raw.transcript_days),
        ] {
            if let Some(v) = get(var) {
                *field = Some(number(var, &v)?);
            }
        }
        env_over!(auditor_groups, "PORTAL_AUDITOR_GROUPS");
        env_over!(approver_groups, "PORTAL_APPROVER_GROUPS");
        env_over!(helpdesk_groups, "PORTAL_HELPDESK_GROUPS");
        if let Some(v) = get("PORTAL_KEY_ROTATION_DAYS") {
            raw.key_rotation_days = Some(number("PORTAL_KEY_ROTATION_DAYS", &v)?);
        }
        if let Some(v) = get("PORTAL_SESSION_HOURS") {
            raw.session_hours = Some(
                v.parse()
                    .map_err(|_| ConfigError(format!("PORTAL_SESSION_HOURS={v} is not a whole number of hours")))?,
            );
        }
        if let Some(v) = get("PORTAL_PASSWORD_SIGN_IN") {
            raw.password_sign_in = Some(match v.as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                _ => return err(format!("PORTAL_PASSWORD_SIGN_IN={v}: use true or false")),
            });
        }
        Self::validate(raw)
    }

    fn validate(raw: Raw) -> Result<Config, ConfigError> {
        let listen_text = raw.listen.unwrap_or_else(|| "127.0.0.1:8443".into());
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            ConfigError(format!(
                "PORTAL_LISTEN={listen_text} is not an address:port such as 127.0.0.1:8443"
            ))
        })?;

        let tls = match (raw.tls_cert, raw.tls_key) {
            (Some(c), Some(k)) => {
                for (what, p) in [("PORTAL_TLS_CERT", &c), ("PORTAL_TLS_KEY", &k)] {
                    if std::fs::metadata(p).is_err() {
                        return err(format!("{what}={p} does not exist or cannot be read"));
                    }
                }
                Some((PathBuf::from(c), PathBuf::from(k)))
            }
            (None, None) => None,
            _ => {
                return err(
                    "PORTAL_TLS_CERT and PORTAL_TLS_KEY go together: give both, or neither for plain HTTP on loopback",
                );
            }
        };
        if tls.is_none() && !listen.ip().is_loopback() {
            return err(format!(
                "plain HTTP is only allowed on a loopback address, and PORTAL_LISTEN={listen} is not one: set PORTAL_TLS_CERT and PORTAL_TLS_KEY"
            ));
        }

        let scheme = if tls.is_some() { "https" } else { "http" };
        let public_url = raw
            .public_url
            .unwrap_or_else(|| format!("{scheme}://portal.example.test:{}", listen.port()))
            .trim_end_matches('/')
            .to_string();
        let public_origin = origin_of(&public_url).ok_or_else(|| {
            ConfigError(format!(
                "PORTAL_PUBLIC_URL={public_url} is not an http(s) URL such as https://portal.example.com"
            ))
        })?;
        let host = public_origin
            .split("://")
            .nth(1)
            .unwrap_or_default()
            .split(':')
            .next()
            .unwrap_or_default()
            .to_string();

        let keytab = PathBuf::from(raw.keytab.ok_or_else(|| {
            ConfigError("PORTAL_KEYTAB is required: the keytab with the portal's HTTP/<host> key".into())
        })?);
        let principals = keytab_principals(&keytab)?;
        let service_principal = raw.service_principal.unwrap_or_else(|| format!("HTTP/{host}"));
        let wanted = service_principal.split('@').next().unwrap_or_default().to_string();
        if !principals.iter().any(|p| p.split('@').next() == Some(wanted.as_str())) {
            return err(format!(
                "the keytab {} has no key for {service_principal} (it holds: {}). Export the key of the account that carries this SPN, or set PORTAL_SERVICE_PRINCIPAL",
                keytab.display(),
                principals.join(", ")
            ));
        }

        let krb5_config = match raw.krb5_config {
            Some(p) => {
                std::fs::read_to_string(&p)
                    .map_err(|e| ConfigError(format!("PORTAL_KRB5_CONFIG={p} cannot be read: {e}")))?;
                Some(PathBuf::from(p))
            }
            None => None,
        };

        let database = PathBuf::from(raw.database.unwrap_or_else(|| "portal.sqlite".into()));
        let dir = match database.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            return err(format!(
                "PORTAL_DATABASE={}: the folder {} does not exist",
                database.display(),
                dir.display()
            ));
        }
        if database.is_dir() {
            return err(format!(
                "PORTAL_DATABASE={} is a folder; name a file",
                database.display()
            ));
        }

        // The realm of the service principal's own keytab entry.
        let realm = principals
            .iter()
            .filter_map(|p| p.split_once('@'))
            .find(|(name, _)| *name == wanted)
            .map(|(_, r)| r.to_string())
            .unwrap_or_default();
        let ldap = match raw.ldap_url {
            Some(url) => {
                if !url.starts_with("ldap://") && !url.starts_with("ldaps://") {
                    return err(format!("PORTAL_LDAP_URL={url} must start with ldap:// or ldaps://"));
                }
                let url_host = host_of(&url);
                let base_dn = raw.ldap_base_dn.unwrap_or_else(|| {
                    realm
                        .split('.')
                        .filter(|s| !s.is_empty())
                        .map(|s| format!("DC={}", s.to_lowercase()))
                        .collect::<Vec<_>>()
                        .join(",")
                });
                Some(LdapConfig {
                    host: raw.ldap_host.unwrap_or(url_host),
                    url,
                    base_dn,
                })
            }
            None => None,
        };

        let session_hours = raw.session_hours.unwrap_or(8);
        if !(1..=24 * 7).contains(&session_hours) {
            return err(format!(
                "PORTAL_SESSION_HOURS={session_hours} must be between 1 and 168"
            ));
        }

        let transcript_days = in_range("PORTAL_TRANSCRIPT_DAYS", raw.transcript_days.unwrap_or(90), 1..=3650)? as u32;
        let poll_minutes = in_range("PORTAL_POLL_MINUTES", raw.poll_minutes.unwrap_or(5), 0..=1440)?;
        let poll_concurrency =
            in_range("PORTAL_POLL_CONCURRENCY", raw.poll_concurrency.unwrap_or(128), 1..=1024)? as usize;
        let device_timeout = std::time::Duration::from_secs(in_range(
            "PORTAL_DEVICE_TIMEOUT_SECS",
            raw.device_timeout_secs.unwrap_or(10),
            1..=120,
        )?);
        let admin_groups = parse_groups(raw.admin_groups.as_deref().unwrap_or("AMT Admins"));
        let device_ou = match raw.device_ou.map(|o| o.trim().to_string()).filter(|o| !o.is_empty()) {
            Some(ou) if !ou.to_ascii_uppercase().contains("DC=") => {
                return err(format!(
                    "PORTAL_DEVICE_OU={ou} is not a distinguished name such as OU=AMT Devices,DC=example,DC=com"
                ));
            }
            other => other,
        };

        let secret_key_file = match raw.secret_key_file {
            Some(p) => {
                let path = PathBuf::from(&p);
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| ConfigError(format!("PORTAL_SECRET_KEY_FILE={p} cannot be read: {e}")))?;
                crate::admin_mode::Sealer::from_key_text(&text)
                    .map_err(|e| ConfigError(format!("PORTAL_SECRET_KEY_FILE={p}: {e}")))?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let mode = std::fs::metadata(&path).map(|m| m.permissions().mode()).unwrap_or(0);
                    if mode & 0o077 != 0 {
                        return err(format!(
                            "PORTAL_SECRET_KEY_FILE={p} can be read by other accounts (mode {:o}): make it private with chmod 600",
                            mode & 0o777
                        ));
                    }
                }
                Some(path)
            }
            None => None,
        };
        let auditor_groups = parse_groups(raw.auditor_groups.as_deref().unwrap_or("AMT Admins"));
        if auditor_groups.is_empty() {
            return err(
                "PORTAL_AUDITOR_GROUPS names no group: give at least one AD group name or SID (default \"AMT Admins\")",
            );
        }

        let key_rotation_days =
            in_range("PORTAL_KEY_ROTATION_DAYS", raw.key_rotation_days.unwrap_or(30), 1..=365)? as u32;
        Ok(Config {
            approver_groups: parse_groups(raw.approver_groups.as_deref().unwrap_or("")),
            helpdesk_groups: parse_groups(raw.helpdesk_groups.as_deref().unwrap_or("AMT Helpdesk")),
            key_rotation_days,
            auditor_groups,
            listen,
            public_url,
            public_origin,
            tls,
            keytab,
            service_principal,
            krb5_config,
            database,
            ldap,
            session_hours,
            password_sign_in: raw.password_sign_in.unwrap_or(true),
            rcache: raw.rcache,
            realm,
            poll_minutes,
            poll_concurrency,
            device_timeout,
            transcript_days,
            admin_groups,
            device_ou,
            secret_key_file,
        })
    }
}

/// A comma-separated list of group names or SIDs, trimmed, empty items dropped.
pub fn parse_groups(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_string)
        .collect()
}

/// The host of a URL (`ldap://dc1.example.test:389` → `dc1.example.test`); empty when there is none.
pub fn host_of(url: &str) -> String {
    url.split("://")
        .nth(1)
        .unwrap_or_default()
        .split([':', '/'])
        .next()
        .unwrap_or_default()
        .to_string()
}

/// `scheme://host[:port]` of an http(s) URL, lower-cased, default ports dropped.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?.to_ascii_lowercase();
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let authority = match (scheme.as_str(), authority.rsplit_once(':')) {
        ("https", Some((h, "443"))) | ("http", Some((h, "80"))) => h.to_string(),
        _ => authority,
    };
    Some(format!("{scheme}://{authority}"))
}

/// Lists the principals of an MIT keytab file (format version 0x0502), `name/inst@REALM`.
pub fn keytab_principals(path: &Path) -> Result<Vec<String>, ConfigError> {
    let data = std::fs::read(path)
        .map_err(|e| ConfigError(format!("PORTAL_KEYTAB={} cannot be read: {e}", path.display())))?;
    let bad = || {
        ConfigError(format!(
            "PORTAL_KEYTAB={} is not a Kerberos keytab (MIT format 0x0502)",
            path.display()
        ))
    };
    if data.get(..2) != Some(&[5, 2][..]) {
        return Err(bad());
    }
    let mut pos = 2usize;
    let mut out: Vec<String> = Vec::new();
    let be32 = |p: usize| data.get(p..p + 4).map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    let be16 = |p: usize| data.get(p..p + 2).map(|b| u16::from_be_bytes([b[0], b[1]]) as usize);
    while let Some(size) = be32(pos) {
        pos += 4;
        if size < 0 {
            pos += size.unsigned_abs() as usize; // a deleted entry
            continue;
        }
        let entry = pos;
        let count = be16(entry).ok_or_else(bad)?;
        let mut p = entry + 2;
        let realm_len = be16(p).ok_or_else(bad)?;
        let realm = String::from_utf8_lossy(data.get(p + 2..p + 2 + realm_len).ok_or_else(bad)?).into_owned();
        p += 2 + realm_len;
        let mut parts = Vec::new();
        for _ in 0..count {
            let l = be16(p).ok_or_else(bad)?;
            parts.push(String::from_utf8_lossy(data.get(p + 2..p + 2 + l).ok_or_else(bad)?).into_owned());
            p += 2 + l;
        }
        let name = format!("{}@{realm}", parts.join("/"));
        if !out.contains(&name) {
            out.push(name);
        }
        pos = entry + size as usize;
    }
    if out.is_empty() {
        return Err(ConfigError(format!("PORTAL_KEYTAB={} holds no keys", path.display())));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    fn keytab(dir: &Path) -> PathBuf {
        // One entry: HTTP/portal.example.test@EXAMPLE.TEST, aes256 key of zeroes.
        let mut e = Vec::new();
        e.extend(2u16.to_be_bytes());
        for s in ["EXAMPLE.TEST", "HTTP", "portal.example.test"] {
            e.extend((s.len() as u16).to_be_bytes());
            e.extend(s.as_bytes());
        }
        e.extend(1u32.to_be_bytes()); // name type
        e.extend(0u32.to_be_bytes()); // timestamp
        e.push(1); // kvno
        e.extend(18u16.to_be_bytes());
        e.extend(32u16.to_be_bytes());
        e.extend([0u8; 32]);
        let mut f = vec![5u8, 2];
        f.extend((e.len() as i32).to_be_bytes());
        f.extend(e);
        let p = dir.join("portal.keytab");
        std::fs::write(&p, f).unwrap();
        p
    }

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("portal-config-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn fleet_settings_have_defaults_and_ranges() {
        let d = tmp("fleet");
        let kt = keytab(&d);
        let kt = kt.to_str().unwrap();
        let c = cfg(&[("PORTAL_KEYTAB", kt)]).unwrap();
        assert_eq!(
            (c.poll_minutes, c.poll_concurrency, c.device_timeout.as_secs()),
            (5, 128, 10)
        );
        assert_eq!(
            (c.admin_groups.clone(), c.device_ou.clone()),
            (vec!["AMT Admins".to_string()], None)
        );
        let c = cfg(&[
            ("PORTAL_KEYTAB", kt),
            ("PORTAL_POLL_MINUTES", "0"),
            ("PORTAL_ADMIN_GROUPS", "AMT Admins, S-1-5-21-1-2-3-512,"),
            ("PORTAL_DEVICE_OU", "OU=AMT Devices,DC=example,DC=test"),
        ])
        .unwrap();
        assert_eq!(c.poll_minutes, 0);
        assert_eq!(c.admin_groups, vec!["AMT Admins", "S-1-5-21-1-2-3-512"]);
        assert_eq!(c.device_ou.as_deref(), Some("OU=AMT Devices,DC=example,DC=test"));
        let bad = |k: &str, v: &str| cfg(&[("PORTAL_KEYTAB", kt), (k, v)]).unwrap_err().0;
        assert!(bad("PORTAL_POLL_CONCURRENCY", "0").contains("between 1 and 1024"));
        assert!(bad("PORTAL_DEVICE_TIMEOUT_SECS", "soon").contains("not a whole number"));
        assert!(bad("PORTAL_DEVICE_OU", "AMT Devices").contains("distinguished name"));
        let key = d.join("secret.key");
        std::fs::write(&key, "00".repeat(32)).unwrap();
        let key_path = key.to_str().unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(bad("PORTAL_SECRET_KEY_FILE", key_path).contains("chmod 600"));
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let c = cfg(&[("PORTAL_KEYTAB", kt), ("PORTAL_SECRET_KEY_FILE", key_path)]).unwrap();
        assert_eq!(c.secret_key_file.as_deref(), Some(key.as_path()));
        std::fs::write(&key, "not hex").unwrap();
        assert!(bad("PORTAL_SECRET_KEY_FILE", key_path).contains("64 hexadecimal"));
        assert!(bad("PORTAL_SECRET_KEY_FILE", "/nonexistent/key").contains("cannot be read"));
    }

    #[test]
    fn each_mistake_has_its_own_message() {
        let d = tmp("mistakes");
        let kt = keytab(&d);
        let kt = kt.to_str().unwrap();
        assert!(cfg(&[]).unwrap_err().0.contains("PORTAL_KEYTAB is required"));
        assert!(
            cfg(&[("PORTAL_KEYTAB", "/nonexistent/kt")])
                .unwrap_err()
                .0
                .contains("cannot be read")
        );
        let junk = d.join("junk");
        std::fs::write(&junk, b"hello").unwrap();
        assert!(
            cfg(&[("PORTAL_KEYTAB", junk.to_str().unwrap())])
                .unwrap_err()
                .0
                .contains("not a Kerberos keytab")
        );
        let e = cfg(&[
            ("PORTAL_KEYTAB", kt),
            ("PORTAL_SERVICE_PRINCIPAL", "HTTP/other.example.test"),
        ])
        .unwrap_err();
        assert!(
            e.0.contains("has no key for HTTP/other.example.test")
                && e.0.contains("HTTP/portal.example.test@EXAMPLE.TEST"),
            "{e}"
        );
        assert!(
            cfg(&[("PORTAL_KEYTAB", kt), ("PORTAL_KRB5_CONFIG", "/nope/krb5.conf")])
                .unwrap_err()
                .0
                .contains("PORTAL_KRB5_CONFIG")
        );
        assert!(
            cfg(&[("PORTAL_KEYTAB", kt), ("PORTAL_DATABASE", "/nope/dir/p.sqlite")])
                .unwrap_err()
                .0
                .contains("does not exist")
        );
        assert!(
            cfg(&[("PORTAL_KEYTAB", kt), ("PORTAL_LISTEN", "0.0.0.0:80")])
                .unwrap_err()
                .0
                .contains("only allowed on a loopback")
        );
        assert!(
            cfg(&[("PORTAL_KEYTAB", kt), ("PORTAL_TLS_CERT", "/x")])
                .unwrap_err()
                .0
                .contains("go together")
        );
        assert!(
            cfg(&[("PORTAL_KEYTAB", kt), ("PORTAL_LISTEN", "nonsense")])
                .unwrap_err()
                .0
                .contains("not an address")
        );
    }

    #[test]
    fn defaults_and_derived_values() {
        let d = tmp("defaults");
        let kt = keytab(&d);
        let c = cfg(&[
            ("PORTAL_KEYTAB", kt.to_str().unwrap()),
            ("PORTAL_LISTEN", "127.0.0.1:8080"),
            ("PORTAL_LDAP_URL", "ldap://127.0.0.2"),
            ("PORTAL_LDAP_HOST", "dc1.example.test"),
        ])
        .unwrap();
        assert_eq!(c.public_origin, "http://portal.example.test:8080");
        assert_eq!(c.service_principal, "HTTP/portal.example.test");
        assert_eq!(c.ldap.unwrap().base_dn, "DC=example,DC=test");
        assert_eq!(c.realm, "EXAMPLE.TEST");
        assert!(c.password_sign_in);
    }

    #[test]
    fn auditor_groups_list() {
        assert_eq!(
            parse_groups(" AMT Admins, S-1-5-21-1-2-3-512 ,,"),
            vec!["AMT Admins", "S-1-5-21-1-2-3-512"]
        );
        assert!(parse_groups(" , ").is_empty());
    }

    #[test]
    fn origins() {
        assert_eq!(
            origin_of("https://Portal.Example.test:443/x").as_deref(),
            Some("https://portal.example.test")
        );
        assert_eq!(origin_of("http://a:8080").as_deref(), Some("http://a:8080"));
        assert_eq!(origin_of("ftp://a"), None);
        assert_eq!(origin_of("https://user@evil"), None);
    }
}
