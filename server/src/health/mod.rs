//! Kerberos health, per user and per device: one module per family of checks, each a pure
//! judgement (unit tested) over figures this module measures. Every finding says what was
//! measured and how to fix it.
//!
//! - [`clock`]: portal ↔ DC and portal ↔ device against AMT's tolerance.
//! - [`ticket`]: the user's real token size for the device's SPNs against its firmware's limit,
//!   and the TokenSZ estimate for users who have not signed in.
//! - [`spn`]: each `HTTP/<fqdn>:16992..16995` registered exactly once.
//! - [`account`]: the device object's key version and password age.
//! - [`dc`]: the device's object the same on every domain controller (the "ad" helper's
//!   [`crate::ad::check_on_every_dc`]).
//! - [`sso`]: the browser's single sign-on setup as seen at sign-in.
//! - [`ldap`]: the directory reads behind them.

pub mod account;
pub mod clock;
pub mod dc;
pub mod ldap;
pub mod spn;
pub mod sso;
pub mod ticket;

use amt::models::inventory::SoftwareIdentity;
use amt::models::kerberos::KerberosSettingData;
use shared::{CheckFamily, Finding, HealthReport, HealthSubject, Severity};

use crate::AppState;
use crate::auth::SessionUser;
use crate::device_access::TokenSource;
use crate::registry::Device;
use ticket::Service;

fn problem(family: CheckFamily, code: &str, title: &str, measured: String, fix: &str) -> Finding {
    Finding {
        family,
        code: code.into(),
        severity: Severity::Problem,
        title: title.into(),
        measured,
        fix: fix.into(),
    }
}

fn warning(family: CheckFamily, code: &str, title: &str, measured: String, fix: &str) -> Finding {
    Finding {
        severity: Severity::Warning,
        ..problem(family, code, title, measured, fix)
    }
}

/// The device port of `service` on `device` (the TLS ports when the device uses TLS).
fn port_of(device: &Device, service: Service) -> u16 {
    service.port() + u16::from(device.tls)
}

/// A Kerberos token for `spn` from `source`, as device access would get it. Blocking work runs
/// off the async workers.
async fn token(source: &TokenSource, spn: &str) -> Result<Vec<u8>, kerberos::Error> {
    let (source, spn) = (source.clone(), spn.to_string());
    tokio::task::spawn_blocking(move || match &source {
        TokenSource::Own { cred, .. } => kerberos::token_for(cred, &spn, false),
        TokenSource::S4u(svc, user) => svc.token_as(user, &spn),
        TokenSource::Portal(svc) => svc.own_token(&spn),
    })
    .await
    .unwrap_or_else(|_| {
        Err(kerberos::Error::Other {
            detail: "the ticket request stopped unexpectedly".into(),
        })
    })
}

fn now_rfc3339() -> String {
    crate::auth::now_rfc3339()
}

impl AppState {
    /// The portal's host name (from its public URL), as browsers' allow-lists name it.
    fn portal_host(&self) -> String {
        crate::config::host_of(&self.config.public_origin)
    }

    async fn dc_clock_finding(&self) -> (Option<i64>, Finding) {
        match &self.directory {
            Some(dir) => match dir.dc_clock_offset().await {
                Ok(o) => (Some(o), clock::dc_skew(o)),
                Err(e) => (
                    None,
                    warning(
                        CheckFamily::Clock,
                        "clock_dc_unknown",
                        "The domain controller's clock could not be read",
                        e,
                        "Check that the portal reaches the directory (PORTAL_LDAP_URL).",
                    ),
                ),
            },
            None => (
                None,
                warning(
                    CheckFamily::Clock,
                    "no_directory",
                    "No directory configured: clock, SPN and account checks are off",
                    "PORTAL_LDAP_URL is not set".into(),
                    "Set PORTAL_LDAP_URL and PORTAL_LDAP_HOST so the portal can read Active Directory.",
                ),
            ),
        }
    }

    /// The firmware version of `device`: from the fleet checks, else read as the user.
    async fn amt_version(&self, device: &Device, client: &amt::client::Client) -> Option<String> {
        if let Some(v) = self.fleet.status(device.id).and_then(|s| s.amt_version) {
            return Some(v);
        }
        let items = client.enumerate::<SoftwareIdentity>().await.ok()?;
        SoftwareIdentity::amt_version(&items).map(str::to_string)
    }

    /// SPN and device-account findings for `device` from the directory.
    async fn directory_findings(&self, device: &Device, device_key_version: Option<u32>) -> Vec<Finding> {
        let Some(dir) = &self.directory else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let spns = spn::device_spns(&device.fqdn);
        let (holders, account) = tokio::join!(ldap::spn_holders(dir, &spns), ldap::device_account(dir, &device.fqdn));
        match holders {
            Ok(h) => out.extend(h.into_iter().map(|(s, dns)| spn::judge(&s, &spn::classify(dns)))),
            Err(e) => out.push(warning(
                CheckFamily::Spn,
                "spn_unknown",
                "The device's SPNs could not be searched",
                e,
                "Check the portal's directory access (PORTAL_LDAP_URL, its keytab).",
            )),
        }
        match account {
            Ok((Some(a), max_age)) => {
                out.push(account::judge_kvno(&a, device_key_version));
                out.push(account::judge_password(
                    &a,
                    time::OffsetDateTime::now_utc().unix_timestamp(),
                    max_age,
                ));
                out.push(self.dc_finding(&a).await);
            }
            Ok((None, _)) => out.push(problem(
                CheckFamily::DeviceAccount,
                "account_missing",
                "The device has no object in Active Directory",
                format!("no object holds HTTP/{}:16992 and no computer has dNSHostName {}", device.fqdn, device.fqdn),
                "Provision the device for Kerberos (the portal's reprovisioning creates the object with its SPNs and key).",
            )),
            Err(e) => out.push(warning(
                CheckFamily::DeviceAccount,
                "account_unknown",
                "The device's AD object could not be read",
                e,
                "Check the portal's directory access (PORTAL_LDAP_URL, its keytab).",
            )),
        }
        out
    }

    /// The device object `a` as every domain controller holds it, against the portal's DC.
    async fn dc_finding(&self, a: &account::AccountFacts) -> Finding {
        let settings = match self.ad_settings().await {
            Ok(s) => s,
            Err(e) => {
                return warning(
                    CheckFamily::DcConsistency,
                    "dc_settings",
                    "The domain controllers could not be listed",
                    e.to_string(),
                    "Check the AD settings (Settings → Active Directory).",
                );
            }
        };
        let expected = crate::ad::Expected {
            spns: a.spns.clone(),
            key_version: a.kvno.unwrap_or(0),
        };
        dc::judge(&a.dn, &crate::ad::check_on_every_dc(&settings, &a.dn, &expected).await)
    }

    /// The signed-in user's findings; with `device`, also that device's (real tickets, read as
    /// the user). `seen` is what a refused Negotiate attempt carried before ([`sso::seen`]).
    pub async fn health_me(&self, user: &SessionUser, seen: Option<String>, device: Option<i64>) -> HealthReport {
        let mut findings = Vec::new();
        let (dc_offset, dc_finding) = self.dc_clock_finding().await;
        findings.push(dc_finding);
        let held = match user.cred_handle.as_deref().and_then(|h| self.creds.get(h)) {
            Some((d, _)) => match d.kind {
                kerberos::DelegationKind::ForwardedTgt => sso::Held::ForwardedTgt,
                kerberos::DelegationKind::PasswordTgt => sso::Held::PasswordTgt,
            },
            None => sso::Held::Nothing,
        };
        let portal_spn = self
            .config
            .service_principal
            .split('@')
            .next()
            .unwrap_or_default()
            .to_string();
        findings.extend(sso::judge(
            user.method,
            held,
            seen.as_deref(),
            &self.portal_host(),
            &portal_spn,
            self.service_identity.is_some(),
        ));
        let mut device_name = None;
        if let Some(id) = device {
            match self.device_and_user(user, id).await {
                Err(r) => findings.push(problem(
                    CheckFamily::TicketSize,
                    r.code,
                    "The portal cannot act as you on this device",
                    r.message,
                    "Follow the explanation above, then run the checks again.",
                )),
                Ok((dev, source)) => {
                    device_name = Some(dev.fqdn.clone());
                    findings.extend(self.device_findings(user, &dev, source, dc_offset).await);
                }
            }
        }
        findings.sort_by_key(|f| f.family);
        HealthReport {
            subject: HealthSubject::Me {
                principal: user.principal.clone(),
            },
            device: device_name,
            findings,
            checked_at: now_rfc3339(),
        }
    }

    async fn device_findings(
        &self,
        user: &SessionUser,
        dev: &Device,
        source: TokenSource,
        dc_offset: Option<i64>,
    ) -> Vec<Finding> {
        let mut out = Vec::new();
        let client = self.client_for(dev, source.clone());
        let version = self.amt_version(dev, &client).await;
        for service in [Service::Http, Service::Redirection] {
            let spn = format!("HTTP/{}:{}", dev.fqdn, port_of(dev, service));
            match token(&source, &spn).await {
                Ok(tok) => out.push(ticket::judge(
                    ticket::base64_len(tok.len()),
                    service,
                    &spn,
                    version.as_deref(),
                    false,
                )),
                Err(kerberos::Error::DelegationRefused { .. }) => {
                    let r = self.why_no_delegation(user, &spn).await;
                    out.push(problem(
                        CheckFamily::TicketSize,
                        r.code,
                        "No ticket: the domain refused constrained delegation",
                        r.message,
                        "Follow the explanation, then run the checks again.",
                    ));
                    break;
                }
                Err(e) => out.push(problem(
                    CheckFamily::TicketSize,
                    "no_ticket",
                    "The KDC gave no ticket for the device",
                    format!("{spn}: {e}"),
                    "Check the device's SPNs below: a missing SPN means the KDC does not know the device.",
                )),
            }
        }
        // The device's own Kerberos settings need an AMT administrator's rights: best effort.
        let settings = client.get::<KerberosSettingData>().await.ok();
        let tolerance = settings.as_ref().and_then(|s| s.maximum_clock_tolerance);
        let key_version = settings.as_ref().and_then(|s| s.key_version);
        match crate::device_page::read_clock(&client).await {
            Ok(c) => out.push(clock::device_skew(c.offset_secs, tolerance, dc_offset)),
            Err(e) => {
                let r = self.explain(dev, user, e, "Network Time").await;
                out.push(warning(
                    CheckFamily::Clock,
                    "clock_device_unknown",
                    "The device's clock could not be read as you",
                    r.message,
                    "The clock is readable with the Network Time realm; ask an AMT administrator to check it, or check the findings above.",
                ));
            }
        }
        out.extend(self.directory_findings(dev, key_version).await);
        out
    }

    /// An administrator's estimate for `account`, who need not have signed in: ticket size from
    /// the groups in the directory (TokenSZ), against `device`'s firmware (or AMT 2–5's limits),
    /// plus that device's directory findings.
    pub async fn health_estimate(
        &self,
        admin: &SessionUser,
        account: &str,
        device: Option<i64>,
    ) -> Result<HealthReport, String> {
        let dir = self
            .directory
            .as_ref()
            .ok_or("no directory configured (PORTAL_LDAP_URL): the estimate needs the user's groups")?;
        let groups = ldap::user_groups(dir, account)
            .await?
            .ok_or_else(|| format!("there is no user named {account:?} in the directory"))?;
        let dev = match device {
            Some(id) => Some(
                crate::registry::get(&self.pool, id)
                    .await
                    .map_err(|e| format!("the device registry could not be read: {e}"))?
                    .ok_or_else(|| format!("there is no device number {id} in the registry"))?,
            ),
            None => None,
        };
        let kinds: Vec<(Option<i64>, bool)> = groups.groups.iter().map(|(_, t, own)| (*t, *own)).collect();
        let counts = ticket::counts_from(&kinds, groups.sid_history);
        let bytes = ticket::tokensz_bytes(counts);
        let version = match &dev {
            Some(d) => self.fleet.status(d.id).and_then(|s| s.amt_version),
            // No device chosen: judge against the oldest firmware's limits.
            None => Some("5.x".to_string()),
        };
        let mut findings = Vec::new();
        for service in [Service::Http, Service::Redirection] {
            let spn = match &dev {
                Some(d) => format!("HTTP/{}:{}", d.fqdn, port_of(d, service)),
                None => format!("HTTP/<device>:{}", service.port()),
            };
            let mut f = ticket::judge(ticket::base64_len(bytes), service, &spn, version.as_deref(), true);
            f.measured.push_str(&format!(
                " (KB327825: 1200 + 40 × {} + 8 × {} = {bytes} bytes; {} groups in tokenGroups)",
                counts.d,
                counts.s,
                groups.groups.len()
            ));
            findings.push(f);
        }
        if let Some(d) = &dev {
            findings.extend(self.directory_findings(d, None).await);
        }
        findings.sort_by_key(|f| f.family);
        crate::audit::record(
            &self.pool,
            Some(&admin.principal),
            "health: estimate for a user",
            dev.as_ref().map(|d| d.fqdn.as_str()),
            "ok",
            Some(&groups.dn),
        )
        .await;
        Ok(HealthReport {
            subject: HealthSubject::Estimate {
                account: account.to_string(),
            },
            device: dev.map(|d| d.fqdn),
            findings,
            checked_at: now_rfc3339(),
        })
    }
}
