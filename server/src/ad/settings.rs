//! The AD settings: stored in SQLite (table `ad_settings`, one row; the simple-bind password
//! sealed with the portal's [`Sealer`]), validated with a reason for every refusal, and, when
//! nothing is saved, taken from the configuration (`PORTAL_LDAP_URL`, `PORTAL_LDAP_HOST`,
//! `PORTAL_LDAP_BASE_DN`, `PORTAL_DEVICE_OU`) so the demo works with nothing saved.

use std::path::PathBuf;

use shared::ad::{AdSettingsForm, BindMethod};
use sqlx::SqlitePool;

use super::error::{AdError, AdStep};
use crate::admin_mode::Sealer;
use crate::config::Config;

/// The associated data of the sealed bind password (so no other sealed value opens as it).
const SEAL_CONTEXT: &str = "ad-bind-password";

/// Approver groups when nothing is saved.
pub const DEFAULT_APPROVER_GROUP: &str = "AMT Approvers";

/// Most domain controllers and approver groups in the settings.
const MAX_ENTRIES: usize = 50;

/// A secret in memory only: its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `s`.
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The secret itself (for the directory or the device only: never log it).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// One domain controller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainController {
    /// `ldap://host[:port]` or `ldaps://host[:port]`.
    pub url: String,
    /// Its DNS name: the Kerberos service is `ldap/<host>`, and messages name it.
    pub host: String,
}

/// How the portal binds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bind {
    /// SASL GSSAPI with the portal's keytab (`KRB5_CLIENT_KTNAME`): sealed on `ldap://`.
    Kerberos,
    /// Simple bind over LDAPS (`ldaps://`) or StartTLS (`ldap://`).
    SimpleTls {
        /// Bind name (`user@domain`, `DOMAIN\user` or a DN).
        user: String,
        /// Its password.
        password: Secret,
    },
    /// Simple bind without TLS (allowed only with "allow insecure").
    SimplePlain {
        /// Bind name.
        user: String,
        /// Its password.
        password: Secret,
    },
}

impl Bind {
    /// The account as messages name it.
    pub fn account(&self) -> &str {
        match self {
            Bind::Kerberos => "the portal's service account",
            Bind::SimpleTls { user, .. } | Bind::SimplePlain { user, .. } => user,
        }
    }
}

/// The AD settings in force, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdSettings {
    /// The domain controllers, in the order they are tried.
    pub domain_controllers: Vec<DomainController>,
    /// The domain's base DN.
    pub base_dn: String,
    /// The default OU for AMT computer objects.
    pub device_ou: String,
    /// How the portal binds.
    pub bind: Bind,
    /// CA file for LDAPS/StartTLS; `None`: the system's trusted CAs.
    pub ca_file: Option<PathBuf>,
    /// Approver groups (names or SIDs) for self-service reprovision requests.
    pub approver_groups: Vec<String>,
    /// The Kerberos realm (the base DN's domain in upper case), e.g. `EXAMPLE.TEST`.
    pub realm: String,
}

/// The settings form from the configuration (what is in force when nothing is saved).
pub fn defaults(config: &Config) -> AdSettingsForm {
    let (dcs, base_dn) = match &config.ldap {
        Some(l) => {
            let url_host = host_of(&l.url).unwrap_or_default();
            let line = if url_host.eq_ignore_ascii_case(&l.host) {
                l.url.clone()
            } else {
                format!("{} {}", l.url, l.host)
            };
            (line, l.base_dn.clone())
        }
        None => (String::new(), base_dn_of_realm(&config.realm)),
    };
    AdSettingsForm {
        domain_controllers: dcs,
        device_ou: config.device_ou.clone().unwrap_or_default(),
        base_dn,
        bind: BindMethod::Kerberos,
        bind_user: String::new(),
        bind_password: String::new(),
        allow_insecure: false,
        ca_file: String::new(),
        approver_groups: DEFAULT_APPROVER_GROUP.into(),
    }
}

fn base_dn_of_realm(realm: &str) -> String {
    realm
        .split('.')
        .filter(|p| !p.is_empty())
        .map(|p| format!("DC={}", p.to_ascii_lowercase()))
        .collect::<Vec<_>>()
        .join(",")
}

/// The host of an `ldap://` / `ldaps://` URL (without port or brackets).
pub fn host_of(url: &str) -> Option<String> {
    let rest = url.strip_prefix("ldaps://").or_else(|| url.strip_prefix("ldap://"))?;
    let authority = rest.split('/').next()?;
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    (!host.is_empty()).then(|| host.to_string())
}

/// `DC=example,DC=test` → `EXAMPLE.TEST`; `None` without DC components.
pub fn realm_of(base_dn: &str) -> Option<String> {
    let parts: Vec<String> = split_dn(base_dn)
        .into_iter()
        .filter_map(|rdn| {
            let (k, v) = rdn.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("DC")
                .then(|| v.trim().to_ascii_uppercase())
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("."))
}

fn split_dn(dn: &str) -> Vec<String> {
    // DNs here are typed by people: split on commas not escaped with a backslash.
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut escaped = false;
    for c in dn.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
        } else if c == '\\' {
            cur.push(c);
            escaped = true;
        } else if c == ',' {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out.into_iter().map(|s| s.trim().to_string()).collect()
}

/// A DN compared loosely: lower case, no spaces around `,` and `=`.
pub fn normalize_dn(dn: &str) -> String {
    split_dn(dn)
        .iter()
        .map(|rdn| match rdn.split_once('=') {
            Some((k, v)) => format!("{}={}", k.trim(), v.trim()),
            None => rdn.clone(),
        })
        .collect::<Vec<_>>()
        .join(",")
        .to_lowercase()
}

fn check_dn(what: &str, dn: &str) -> Result<(), String> {
    if dn.trim().is_empty() {
        return Err(format!(
            "{what} is empty: give a DN such as OU=AMT Devices,DC=example,DC=test"
        ));
    }
    if let Some(bad) = split_dn(dn).iter().find(|rdn| {
        rdn.split_once('=')
            .is_none_or(|(k, v)| k.trim().is_empty() || v.trim().is_empty())
    }) {
        return Err(format!(
            "{what} \"{dn}\" is not a DN: \"{bad}\" is not of the form NAME=value (e.g. OU=AMT Devices,DC=example,DC=test)"
        ));
    }
    Ok(())
}

fn split_list(text: &str) -> Vec<String> {
    text.split(['\n', ','])
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn is_sid(s: &str) -> bool {
    let Some(rest) = s.to_ascii_uppercase().strip_prefix("S-1-").map(str::to_string) else {
        return false;
    };
    !rest.is_empty()
        && rest
            .split('-')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// Parses one DC line: `URL [DNS name]`.
fn parse_dc(line: &str, kerberos: bool) -> Result<DomainController, String> {
    let mut words = line.split_whitespace();
    let url = words.next().unwrap_or_default().trim_end_matches('/').to_string();
    let name = words.next();
    if words.next().is_some() {
        return Err(format!(
            "\"{line}\": give one DC per line, as a URL and optionally its DNS name (ldap://10.0.0.5 dc1.corp.example)"
        ));
    }
    if !url.starts_with("ldap://") && !url.starts_with("ldaps://") {
        return Err(format!("\"{url}\" must start with ldap:// or ldaps://"));
    }
    let host = host_of(&url).ok_or_else(|| format!("\"{url}\" names no host"))?;
    if let Some(port) = url.split("//").nth(1).and_then(|a| a.rsplit_once(':')).map(|(_, p)| p)
        && !host.contains(':')
        && port.parse::<u16>().is_err()
    {
        return Err(format!("\"{url}\": the port \"{port}\" is not a number"));
    }
    let host = match name {
        Some(n) => n.trim_end_matches('.').to_ascii_lowercase(),
        None => host,
    };
    if kerberos && host.parse::<std::net::IpAddr>().is_ok() {
        return Err(format!(
            "\"{url}\" is an address: Kerberos needs the DC's DNS name for its service ldap/<name>; write it after the URL (\"{url} dc1.example.test\")"
        ));
    }
    Ok(DomainController { url, host })
}

/// Validates a form into settings. `stored_password` is the stored (opened) bind password,
/// used when the form leaves the password empty; `can_seal` says whether a password could be
/// stored (a secret key is configured).
pub fn validate(form: &AdSettingsForm, stored_password: Option<Secret>, can_seal: bool) -> Result<AdSettings, String> {
    let kerberos = form.bind == BindMethod::Kerberos;
    let lines = split_lines(&form.domain_controllers);
    if lines.is_empty() {
        return Err("give at least one domain controller, e.g. ldap://dc1.example.test".into());
    }
    if lines.len() > MAX_ENTRIES {
        return Err(format!("at most {MAX_ENTRIES} domain controllers"));
    }
    let dcs = lines
        .iter()
        .map(|l| parse_dc(l, kerberos))
        .collect::<Result<Vec<_>, _>>()?;
    let base_dn = form.base_dn.trim().to_string();
    check_dn("the base DN", &base_dn)?;
    let realm = realm_of(&base_dn).ok_or_else(|| {
        format!("the base DN \"{base_dn}\" has no DC= parts: give the domain's DN, e.g. DC=example,DC=test")
    })?;
    let device_ou = form.device_ou.trim().to_string();
    check_dn("the OU for AMT objects", &device_ou)?;
    let (ou, base) = (normalize_dn(&device_ou), normalize_dn(&base_dn));
    if ou == base || !ou.ends_with(&format!(",{base}")) {
        return Err(format!(
            "the OU for AMT objects \"{device_ou}\" is not inside the base DN \"{base_dn}\": give an OU of that domain"
        ));
    }
    let password = || -> Result<Secret, String> {
        if form.bind_user.trim().is_empty() {
            return Err("give the bind user (user@domain, DOMAIN\\user or a DN) for a simple bind".into());
        }
        if !form.bind_password.is_empty() {
            if !can_seal {
                return Err("a bind password cannot be stored: the portal has no secret key to seal it with (set PORTAL_SECRET_KEY_FILE), or use the portal's service account (Kerberos)".into());
            }
            return Ok(Secret::new(form.bind_password.clone()));
        }
        stored_password
            .clone()
            .ok_or_else(|| "give the bind user's password (none is stored yet)".to_string())
    };
    let bind = match form.bind {
        BindMethod::Kerberos => Bind::Kerberos,
        BindMethod::SimpleTls => Bind::SimpleTls {
            user: form.bind_user.trim().to_string(),
            password: password()?,
        },
        BindMethod::SimplePlain => {
            if !form.allow_insecure {
                return Err("a simple bind without TLS sends the password in clear: use LDAPS/StartTLS or Kerberos, or tick \"allow insecure (lab only)\"".into());
            }
            if let Some(dc) = dcs.iter().find(|d| d.url.starts_with("ldaps://")) {
                return Err(format!(
                    "{} is an LDAPS URL: choose \"User and password over LDAPS or StartTLS\" for it",
                    dc.url
                ));
            }
            Bind::SimplePlain {
                user: form.bind_user.trim().to_string(),
                password: password()?,
            }
        }
    };
    let ca_file = match form.ca_file.trim() {
        "" => None,
        p => {
            std::fs::metadata(p).map_err(|e| format!("the CA file {p} cannot be read: {e}"))?;
            Some(PathBuf::from(p))
        }
    };
    let approver_groups = split_list(&form.approver_groups);
    if approver_groups.len() > MAX_ENTRIES {
        return Err(format!("at most {MAX_ENTRIES} approver groups"));
    }
    if let Some(bad) = approver_groups
        .iter()
        .find(|g| g.to_ascii_uppercase().starts_with("S-") && !is_sid(g))
    {
        return Err(format!(
            "approver group \"{bad}\" looks like a SID but is not one (S-1-5-21-…): give the group's name or its exact SID"
        ));
    }
    if let Some(bad) = approver_groups.iter().find(|g| g.len() > 256) {
        return Err(format!("approver group \"{bad}\" is longer than 256 characters"));
    }
    Ok(AdSettings {
        domain_controllers: dcs,
        base_dn,
        device_ou,
        bind,
        ca_file,
        approver_groups,
        realm,
    })
}

fn split_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[derive(sqlx::FromRow)]
struct Row {
    domain_controllers: String,
    base_dn: String,
    device_ou: String,
    bind_method: String,
    bind_user: String,
    bind_password: Option<Vec<u8>>,
    allow_insecure: bool,
    ca_file: String,
    approver_groups: String,
    saved_by: String,
    saved_at: String,
}

/// What is stored: the form (password empty), whether a password is stored, who saved it when.
pub struct Stored {
    /// The form as saved, without the password.
    pub form: AdSettingsForm,
    /// The sealed password, if any.
    pub sealed_password: Option<Vec<u8>>,
    /// Who saved.
    pub saved_by: String,
    /// When.
    pub saved_at: String,
}

/// The saved settings, if any.
pub async fn stored(pool: &SqlitePool) -> Result<Option<Stored>, String> {
    let row = sqlx::query_as::<_, Row>(
        "SELECT domain_controllers, base_dn, device_ou, bind_method, bind_user, bind_password, allow_insecure,
                ca_file, approver_groups, saved_by, saved_at FROM ad_settings WHERE id = 1",
    )
    .fetch_optional(pool)
    .await
    .map_err(|e| format!("the AD settings could not be read from the portal's database: {e}"))?;
    Ok(row.map(|r| Stored {
        form: AdSettingsForm {
            domain_controllers: r.domain_controllers,
            base_dn: r.base_dn,
            device_ou: r.device_ou,
            bind: BindMethod::from_key(&r.bind_method).unwrap_or_default(),
            bind_user: r.bind_user,
            bind_password: String::new(),
            allow_insecure: r.allow_insecure,
            ca_file: r.ca_file,
            approver_groups: r.approver_groups,
        },
        sealed_password: r.bind_password,
        saved_by: r.saved_by,
        saved_at: r.saved_at,
    }))
}

/// Opens a stored (sealed) bind password.
pub fn open_stored_password(sealer: &Sealer, sealed: &[u8]) -> Result<Secret, String> {
    open_password(Some(sealed), Some(sealer)).map(|p| p.unwrap_or_else(|| Secret::new("")))
}

fn open_password(sealed: Option<&[u8]>, sealer: Option<&Sealer>) -> Result<Option<Secret>, String> {
    match (sealed, sealer) {
        (None, _) => Ok(None),
        (Some(_), None) => Err(
            "the stored bind password cannot be opened: the portal has no secret key now (PORTAL_SECRET_KEY_FILE)"
                .into(),
        ),
        (Some(s), Some(sealer)) => sealer
            .open(SEAL_CONTEXT, s)
            .map(|p| Some(Secret::new(p)))
            .map_err(|_| "the stored bind password cannot be opened (the secret key changed): enter it again on the AD settings page".into()),
    }
}

/// The settings in force: the saved ones, else the configuration's.
pub async fn load(pool: &SqlitePool, config: &Config, sealer: Option<&Sealer>) -> Result<AdSettings, AdError> {
    let settings = |e: String| AdError::new(AdStep::Settings, e);
    match stored(pool).await.map_err(settings)? {
        Some(s) => {
            let pw = open_password(s.sealed_password.as_deref(), sealer).map_err(settings)?;
            validate(&s.form, pw, sealer.is_some())
                .map_err(|e| settings(format!("the saved AD settings are not valid: {e}: fix them on the AD settings page")))
        }
        None => validate(&defaults(config), None, sealer.is_some()).map_err(|e| {
            settings(format!(
                "Active Directory is not set up ({e}): fill in the AD settings page, or set PORTAL_LDAP_URL and PORTAL_DEVICE_OU"
            ))
        }),
    }
}

/// Validates and saves `form` (a new password is sealed; an empty one keeps the stored one).
/// Returns the settings now in force.
pub async fn save(
    pool: &SqlitePool,
    form: &AdSettingsForm,
    sealer: Option<&Sealer>,
    by: &str,
) -> Result<AdSettings, String> {
    let previous = stored(pool).await?;
    let previous_sealed = previous.and_then(|p| p.sealed_password);
    let stored_pw = if form.bind_password.is_empty() {
        open_password(previous_sealed.as_deref(), sealer)?
    } else {
        None
    };
    let settings = validate(form, stored_pw, sealer.is_some())?;
    let sealed = match (&settings.bind, sealer) {
        (Bind::Kerberos, _) => None,
        (_, Some(sealer)) if !form.bind_password.is_empty() => Some(sealer.seal(SEAL_CONTEXT, &form.bind_password)),
        _ => previous_sealed,
    };
    sqlx::query(
        "INSERT INTO ad_settings (id, domain_controllers, base_dn, device_ou, bind_method, bind_user, bind_password,
                                  allow_insecure, ca_file, approver_groups, saved_by)
         VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET domain_controllers = excluded.domain_controllers, base_dn = excluded.base_dn,
           device_ou = excluded.device_ou, bind_method = excluded.bind_method, bind_user = excluded.bind_user,
           bind_password = excluded.bind_password, allow_insecure = excluded.allow_insecure,
           ca_file = excluded.ca_file, approver_groups = excluded.approver_groups, saved_by = excluded.saved_by,
           saved_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
    )
    .bind(split_lines(&form.domain_controllers).join("\n"))
    .bind(&settings.base_dn)
    .bind(&settings.device_ou)
    .bind(form.bind.key())
    .bind(if settings.bind == Bind::Kerberos {
        ""
    } else {
        form.bind_user.trim()
    })
    .bind(sealed)
    .bind(form.allow_insecure)
    .bind(form.ca_file.trim())
    .bind(settings.approver_groups.join("\n"))
    .bind(by)
    .execute(pool)
    .await
    .map_err(|e| format!("the AD settings could not be saved: {e}"))?;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> AdSettingsForm {
        AdSettingsForm {
            domain_controllers: "ldap://127.0.0.2 dc1.example.test\nldaps://dc2.example.test:636".into(),
            base_dn: "DC=example,DC=test".into(),
            device_ou: "OU=AMT Provisioning, DC=example,DC=test".into(),
            bind: BindMethod::Kerberos,
            approver_groups: "AMT Approvers, S-1-5-21-1-2-3-1121".into(),
            ..Default::default()
        }
    }

    #[test]
    fn valid_form_parses() {
        let s = validate(&form(), None, false).unwrap();
        assert_eq!(s.realm, "EXAMPLE.TEST");
        assert_eq!(
            s.domain_controllers,
            vec![
                DomainController {
                    url: "ldap://127.0.0.2".into(),
                    host: "dc1.example.test".into()
                },
                DomainController {
                    url: "ldaps://dc2.example.test:636".into(),
                    host: "dc2.example.test".into()
                },
            ]
        );
        assert_eq!(s.approver_groups, vec!["AMT Approvers", "S-1-5-21-1-2-3-1121"]);
    }

    #[test]
    fn refusals_say_why() {
        let mut f = form();
        f.domain_controllers = "ldap://127.0.0.2".into();
        assert!(validate(&f, None, false).unwrap_err().contains("DNS name"));
        f.domain_controllers = "http://dc1".into();
        assert!(validate(&f, None, false).unwrap_err().contains("ldap://"));
        f = form();
        f.device_ou = "OU=AMT,DC=other,DC=test".into();
        assert!(
            validate(&f, None, false)
                .unwrap_err()
                .contains("not inside the base DN")
        );
        f.device_ou = "AMT Devices".into();
        assert!(validate(&f, None, false).unwrap_err().contains("is not a DN"));
        f = form();
        f.approver_groups = "S-1-5-x".into();
        assert!(validate(&f, None, false).unwrap_err().contains("SID"));
        f = form();
        f.base_dn = "O=Example".into();
        assert!(validate(&f, None, false).unwrap_err().contains("DC="));
    }

    #[test]
    fn simple_binds_need_a_password_a_key_and_tls() {
        let mut f = form();
        f.bind = BindMethod::SimpleTls;
        f.bind_user = "bob@example.test".into();
        assert!(validate(&f, None, true).unwrap_err().contains("password"));
        f.bind_password = "secret".into();
        assert!(
            validate(&f, None, false)
                .unwrap_err()
                .contains("PORTAL_SECRET_KEY_FILE")
        );
        let s = validate(&f, None, true).unwrap();
        assert!(matches!(s.bind, Bind::SimpleTls { ref user, .. } if user == "bob@example.test"));
        // An empty password keeps the stored one.
        f.bind_password.clear();
        assert!(validate(&f, Some(Secret::new("kept")), true).is_ok());
        f.bind = BindMethod::SimplePlain;
        f.domain_controllers = "ldap://127.0.0.2".into();
        assert!(
            validate(&f, Some(Secret::new("kept")), true)
                .unwrap_err()
                .contains("allow insecure")
        );
        f.allow_insecure = true;
        assert!(validate(&f, Some(Secret::new("kept")), true).is_ok());
    }

    #[test]
    fn secrets_are_redacted() {
        assert_eq!(format!("{:?}", Secret::new("Passw0rd")), "Secret(<redacted>)");
    }

    #[test]
    fn dn_helpers() {
        assert_eq!(
            realm_of("OU=x,DC=corp,DC=Example,DC=com").as_deref(),
            Some("CORP.EXAMPLE.COM")
        );
        assert_eq!(normalize_dn("OU=A B, DC=x"), "ou=a b,dc=x");
        assert_eq!(host_of("ldaps://dc1.x:636").as_deref(), Some("dc1.x"));
        assert_eq!(host_of("ldap://[::1]:389").as_deref(), Some("::1"));
        assert_eq!(base_dn_of_realm("EXAMPLE.TEST"), "DC=example,DC=test");
    }
}
