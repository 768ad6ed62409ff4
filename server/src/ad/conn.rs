//! One LDAP connection to one domain controller, bound as the AD settings say: SASL GSSAPI
//! with the portal's keytab (on `ldap://` ldap3 negotiates a sealed layer, which AD accepts for
//! password writes), simple bind over LDAPS or StartTLS (the lab CA or the system's CAs), or,
//! only when allowed, plain simple bind. Also the anonymous rootDSE read (time, naming contexts).

use std::sync::Arc;
use std::time::Duration;

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry};

use super::error::{AdError, AdStep, describe};
use super::settings::{AdSettings, Bind, DomainController};

/// How long reaching a DC may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long one LDAP operation may take.
pub const OP_TIMEOUT: Duration = Duration::from_secs(15);

/// A bound connection.
pub struct Session {
    /// The handle for operations.
    pub ldap: Ldap,
    /// The DC's name.
    pub dc: String,
    /// Whether traffic is encrypted (TLS, or a sealed SASL layer): AD takes passwords only then.
    pub encrypted: bool,
    /// Who the directory says we are (`u:EXAMPLE\svc-portal`), for messages.
    pub who: String,
}

impl Session {
    /// The bound account's short name for messages (`svc-portal`).
    pub fn account(&self) -> String {
        let who = self.who.strip_prefix("u:").unwrap_or(&self.who);
        let short = who.rsplit('\\').next().unwrap_or(who);
        if short.is_empty() {
            "the bound account".into()
        } else {
            short.to_string()
        }
    }

    /// Ends the session (errors do not matter any more).
    pub async fn close(mut self) {
        let _ = self.ldap.unbind().await;
    }
}

fn tls_config(settings: &AdSettings) -> Result<Arc<rustls::ClientConfig>, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    match &settings.ca_file {
        Some(path) => {
            for cert in CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("the CA file {} cannot be read: {e}", path.display()))?
            {
                let cert = cert.map_err(|e| format!("the CA file {} is not PEM: {e}", path.display()))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("the CA file {} holds an unusable certificate: {e}", path.display()))?;
            }
            if roots.is_empty() {
                return Err(format!("the CA file {} holds no certificate", path.display()));
            }
        }
        None => {
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up failed: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Opens an unbound connection to `dc` (TLS as the URL and the bind method need).
pub async fn connect(settings: &AdSettings, dc: &DomainController) -> Result<Ldap, AdError> {
    let mut conn_settings = LdapConnSettings::new().set_conn_timeout(CONNECT_TIMEOUT);
    let ldaps = dc.url.starts_with("ldaps://");
    let starttls = !ldaps && matches!(settings.bind, Bind::SimpleTls { .. });
    if ldaps || starttls {
        let tls = tls_config(settings).map_err(|e| AdError::new(AdStep::Settings, e))?;
        conn_settings = conn_settings.set_config(tls).set_starttls(starttls);
    }
    let (conn, ldap) = tokio::time::timeout(
        CONNECT_TIMEOUT + Duration::from_secs(5),
        LdapConnAsync::with_settings(conn_settings, &dc.url),
    )
    .await
    .map_err(|_| {
        AdError::new(
            AdStep::Connect,
            format!("{} ({}) did not answer in time", dc.host, dc.url),
        )
    })?
    .map_err(|e| {
        let hint = if starttls {
            " (StartTLS: does the DC have a certificate, and is the CA file right?)"
        } else if ldaps {
            " (LDAPS: is port 636 open, does the DC's certificate name it, and is the CA file right?)"
        } else {
            ""
        };
        AdError::new(
            AdStep::Connect,
            format!("{} ({}) cannot be reached: {e}{hint}", dc.host, dc.url),
        )
    })?;
    ldap3::drive!(conn);
    Ok(ldap)
}

/// Opens a connection to `dc` and binds as the settings say.
pub async fn open(settings: &AdSettings, dc: &DomainController) -> Result<Session, AdError> {
    let mut ldap = connect(settings, dc).await?;
    let tls = dc.url.starts_with("ldaps://") || matches!(settings.bind, Bind::SimpleTls { .. });
    let bound = match &settings.bind {
        Bind::Kerberos => ldap
            .sasl_gssapi_bind(&dc.host)
            .await
            .and_then(|r| r.success())
            .map_err(|e| {
                format!(
                    "the portal could not sign in to {} with its keytab (Kerberos service ldap/{}): {e}: check KRB5_CLIENT_KTNAME / PORTAL_KEYTAB and the DC's name",
                    dc.host, dc.host
                )
            }),
        Bind::SimpleTls { user, password } | Bind::SimplePlain { user, password } => ldap
            .simple_bind(user, password.expose())
            .await
            .and_then(|r| r.success())
            .map_err(|e| match super::error::ldap_rc(&e) {
                Some((49, _)) => format!("{user} could not sign in to {}: wrong user name or password", dc.host),
                Some((8 | 13, _)) => format!(
                    "{} refuses a simple bind without TLS (strongerAuthRequired): use LDAPS/StartTLS or Kerberos",
                    dc.host
                ),
                _ => format!("{user} could not sign in to {}: {}", dc.host, describe(&e)),
            }),
    };
    if let Err(e) = bound {
        let _ = ldap.unbind().await;
        return Err(AdError::new(AdStep::Bind, e));
    }
    let who = match ldap.extended(ldap3::exop::WhoAmI).await.and_then(|r| r.success()) {
        Ok((exop, _)) => exop.parse::<ldap3::exop::WhoAmIResp>().authzid,
        // Samba does not implement "Who am I?": find the account among the rootDSE's tokenGroups.
        Err(_) => who_by_token_groups(&mut ldap, &settings.base_dn)
            .await
            .unwrap_or_default(),
    };
    Ok(Session {
        ldap,
        dc: dc.host.clone(),
        // Kerberos on ldap:// is sealed by ldap3 (SASL privacy layer); with TLS everything is.
        encrypted: tls || matches!(settings.bind, Bind::Kerberos),
        who,
    })
}

/// The bound account as `u:<sAMAccountName>`: the user object whose SID is among the rootDSE's
/// `tokenGroups` (Samba lists the account's own SID there).
async fn who_by_token_groups(ldap: &mut Ldap, base_dn: &str) -> Option<String> {
    let (entries, _) = ldap
        .with_timeout(OP_TIMEOUT)
        .search("", Scope::Base, "(objectClass=*)", vec!["tokenGroups"])
        .await
        .and_then(|r| r.success())
        .ok()?;
    let e = entries.into_iter().next().map(SearchEntry::construct)?;
    let sids = e.bin_attrs.get("tokenGroups")?;
    // Domain SIDs only (S-1-5-21-…: revision 1, authority 5, first sub-authority 21).
    let alternatives: String = sids
        .iter()
        .filter(|b| b.len() == 28 && b.get(..2) == Some(&[1, 5]) && b.get(8..12) == Some(&[21, 0, 0, 0]))
        .map(|b| {
            format!(
                "(objectSid={})",
                b.iter().map(|x| format!("\\{x:02x}")).collect::<String>()
            )
        })
        .collect();
    if alternatives.is_empty() {
        return None;
    }
    let (entries, _) = ldap
        .with_timeout(OP_TIMEOUT)
        .search(
            base_dn,
            Scope::Subtree,
            &format!("(&(objectClass=user)(|{alternatives}))"),
            vec!["sAMAccountName"],
        )
        .await
        .and_then(|r| r.success())
        .ok()?;
    let name = entries
        .into_iter()
        .map(SearchEntry::construct)
        .find_map(|e| e.attrs.get("sAMAccountName")?.first().cloned())?;
    Some(format!("u:{name}"))
}

/// Opens a session to the first configured DC that answers and binds; the errors of the
/// others are kept in the message when none works.
pub async fn open_first(settings: &AdSettings) -> Result<Session, AdError> {
    let mut last: Option<AdError> = None;
    let mut tried = Vec::new();
    for dc in &settings.domain_controllers {
        match open(settings, dc).await {
            Ok(s) => return Ok(s),
            // A bind failure is the account's problem: another DC will say the same.
            Err(e) if e.step == AdStep::Bind || e.step == AdStep::Settings => return Err(e),
            Err(e) => {
                tried.push(e.message.clone());
                last = Some(e);
            }
        }
    }
    Err(match last {
        Some(e) if tried.len() > 1 => {
            AdError::new(e.step, format!("no domain controller answered: {}", tried.join("; ")))
        }
        Some(e) => e,
        None => AdError::new(
            AdStep::Settings,
            "no domain controller is configured: add one on the AD settings page",
        ),
    })
}

/// What a DC's rootDSE says.
#[derive(Debug, Clone, Default)]
pub struct RootDse {
    /// `currentTime` as read, and our clock minus it in seconds.
    pub clock_offset_secs: Option<i64>,
    /// `defaultNamingContext`.
    pub default_nc: Option<String>,
    /// `configurationNamingContext`.
    pub config_nc: Option<String>,
    /// `dnsHostName`.
    pub dns_host_name: Option<String>,
}

/// Reads `dc`'s rootDSE anonymously (allowed on every DC).
pub async fn root_dse(settings: &AdSettings, dc: &DomainController) -> Result<RootDse, AdError> {
    let mut ldap = connect(settings, dc).await?;
    let before = time::OffsetDateTime::now_utc();
    let r = ldap
        .with_timeout(OP_TIMEOUT)
        .search(
            "",
            Scope::Base,
            "(objectClass=*)",
            vec![
                "currentTime",
                "defaultNamingContext",
                "configurationNamingContext",
                "dnsHostName",
            ],
        )
        .await
        .and_then(|r| r.success());
    let after = time::OffsetDateTime::now_utc();
    let _ = ldap.unbind().await;
    let (entries, _) = r.map_err(|e| {
        AdError::new(
            AdStep::Connect,
            format!(
                "{} ({}) did not answer a rootDSE read: {}",
                dc.host,
                dc.url,
                describe(&e)
            ),
        )
    })?;
    let e = entries
        .into_iter()
        .next()
        .map(SearchEntry::construct)
        .ok_or_else(|| AdError::new(AdStep::Connect, format!("{} returned no rootDSE", dc.host)))?;
    let first = |a: &str| e.attrs.get(a).and_then(|v| v.first()).cloned();
    let clock_offset_secs = first("currentTime")
        .as_deref()
        .and_then(parse_generalized_time)
        .map(|dc_time| {
            let mid: time::OffsetDateTime = before + (after - before) / 2;
            let diff: time::Duration = mid - dc_time;
            diff.whole_seconds()
        });
    Ok(RootDse {
        clock_offset_secs,
        default_nc: first("defaultNamingContext"),
        config_nc: first("configurationNamingContext"),
        dns_host_name: first("dnsHostName"),
    })
}

/// Parses LDAP GeneralizedTime such as `20261125133224.0Z`.
pub fn parse_generalized_time(s: &str) -> Option<time::OffsetDateTime> {
    let digits = s.get(..14)?;
    let n = |a: usize, b: usize| digits.get(a..b)?.parse::<u32>().ok();
    let date = time::Date::from_calendar_date(
        n(0, 4)? as i32,
        time::Month::try_from(n(4, 6)? as u8).ok()?,
        n(6, 8)? as u8,
    )
    .ok()?;
    let t = time::Time::from_hms(n(8, 10)? as u8, n(10, 12)? as u8, n(12, 14)? as u8).ok()?;
    Some(time::PrimitiveDateTime::new(date, t).assume_utc())
}

/// Escapes a value for an LDAP filter (RFC 4515).
pub fn filter_escape(v: &str) -> String {
    ldap3::ldap_escape(v).into_owned()
}
