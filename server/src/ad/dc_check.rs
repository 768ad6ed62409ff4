//! Reads a device's computer object back from every domain controller (those in the settings,
//! and those listed under `CN=Sites` in the configuration partition when they answer) and
//! compares it with what was written. This catches the "bindless update" of old SCS releases:
//! the write went to one DC, another answers the device's users, and only their later Kerberos
//! logins fail. Each DC's outcome says what it has.

use std::collections::BTreeSet;

use ldap3::{Scope, SearchEntry};
use shared::ad::{DcCheck, DcOutcome, DcSource};

use super::conn::{self, OP_TIMEOUT};
use super::error::{describe, ldap_rc};
use super::settings::{AdSettings, DomainController};

/// What the object should look like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// Its SPNs.
    pub spns: Vec<String>,
    /// `msDS-KeyVersionNumber` after the password was set.
    pub key_version: u32,
}

/// What one DC holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Observed {
    /// Its SPNs.
    pub spns: Vec<String>,
    /// Its key version, when readable.
    pub key_version: Option<u32>,
}

/// Compares what a DC holds (`None`: no such object there) with what was written.
pub fn compare(expected: &Expected, observed: Option<&Observed>) -> DcOutcome {
    let Some(o) = observed else {
        return DcOutcome::Missing;
    };
    let lower = |v: &[String]| v.iter().map(|s| s.to_ascii_lowercase()).collect::<BTreeSet<_>>();
    let (want, have) = (lower(&expected.spns), lower(&o.spns));
    let mut findings = Vec::new();
    let missing: Vec<&String> = want.difference(&have).collect();
    if !missing.is_empty() {
        findings.push(format!(
            "SPNs missing: {}",
            missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    let extra: Vec<&String> = have.difference(&want).collect();
    if !extra.is_empty() {
        findings.push(format!(
            "SPNs not written by the portal: {}",
            extra.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    match o.key_version {
        Some(k) if k == expected.key_version => {}
        Some(k) if k < expected.key_version => findings.push(format!(
            "key version {k}, expected {} (it has an older password: the write has not reached it)",
            expected.key_version
        )),
        Some(k) => findings.push(format!(
            "key version {k}, expected {} (the password was changed again after this write)",
            expected.key_version
        )),
        None => findings.push("key version not readable".into()),
    }
    if findings.is_empty() {
        DcOutcome::Matches
    } else {
        DcOutcome::Differs(findings)
    }
}

/// What `dc` holds for `dn`: `Ok(None)` when it has no such object, `Err` when it cannot be asked.
async fn read_on(settings: &AdSettings, dc: &DomainController, dn: &str) -> Result<Option<Observed>, String> {
    let mut s = conn::open(settings, dc).await.map_err(|e| e.message)?;
    let r = s
        .ldap
        .with_timeout(OP_TIMEOUT)
        .search(
            dn,
            Scope::Base,
            "(objectClass=*)",
            vec!["servicePrincipalName", "msDS-KeyVersionNumber"],
        )
        .await
        .and_then(|r| r.success());
    s.close().await;
    match r {
        Ok((entries, _)) => Ok(entries
            .into_iter()
            .next()
            .map(SearchEntry::construct)
            .map(|e| Observed {
                spns: e.attrs.get("servicePrincipalName").cloned().unwrap_or_default(),
                key_version: e
                    .attrs
                    .get("msDS-KeyVersionNumber")
                    .and_then(|v| v.first())
                    .and_then(|v| v.parse().ok()),
            })),
        Err(e) if ldap_rc(&e).is_some_and(|(rc, _)| rc == 32) => Ok(None),
        Err(e) => Err(format!("reading {dn} failed: {}", describe(&e))),
    }
}

/// The DCs listed under `CN=Sites` of the configuration partition (their `dNSHostName`s), as
/// the first configured DC that answers tells; empty when none answers.
async fn site_dcs(settings: &AdSettings) -> Vec<String> {
    for dc in &settings.domain_controllers {
        let Ok(root) = conn::root_dse(settings, dc).await else {
            continue;
        };
        let Some(config_nc) = root.config_nc else { continue };
        let Ok(mut s) = conn::open(settings, dc).await else {
            continue;
        };
        let r = s
            .ldap
            .with_timeout(OP_TIMEOUT)
            .search(
                &format!("CN=Sites,{config_nc}"),
                Scope::Subtree,
                "(objectClass=server)",
                vec!["dNSHostName"],
            )
            .await
            .and_then(|r| r.success());
        s.close().await;
        if let Ok((entries, _)) = r {
            return entries
                .into_iter()
                .map(SearchEntry::construct)
                .filter_map(|e| e.attrs.get("dNSHostName")?.first().map(|h| h.to_ascii_lowercase()))
                .collect();
        }
    }
    Vec::new()
}

/// The DCs to ask: the configured ones, then those under `CN=Sites` not already listed (reached
/// by their DNS name with the first configured DC's scheme).
async fn every_dc(settings: &AdSettings) -> Vec<(DomainController, DcSource)> {
    let mut dcs: Vec<(DomainController, DcSource)> = settings
        .domain_controllers
        .iter()
        .map(|d| (d.clone(), DcSource::Configured))
        .collect();
    let scheme = settings
        .domain_controllers
        .first()
        .map_or("ldap", |d| if d.url.starts_with("ldaps://") { "ldaps" } else { "ldap" });
    for name in site_dcs(settings).await {
        if !dcs.iter().any(|(d, _)| d.host.eq_ignore_ascii_case(&name)) {
            dcs.push((
                DomainController {
                    url: format!("{scheme}://{name}"),
                    host: name,
                },
                DcSource::Sites,
            ));
        }
    }
    dcs
}

/// Reads `dn` on every domain controller (at once) and compares it with `expected`.
pub async fn check_on_every_dc(settings: &AdSettings, dn: &str, expected: &Expected) -> Vec<DcCheck> {
    let dcs = every_dc(settings).await;
    let reads = dcs.iter().map(|(dc, _)| read_on(settings, dc, dn));
    let results = futures::future::join_all(reads).await;
    dcs.into_iter()
        .zip(results)
        .map(|((dc, source), r)| DcCheck {
            dc: dc.host,
            source,
            outcome: match r {
                Ok(observed) => compare(expected, observed.as_ref()),
                Err(e) => DcOutcome::Unreachable(e),
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected() -> Expected {
        Expected {
            spns: vec![
                "HTTP/amt1.example.test:16992".into(),
                "HTTP/amt1.example.test:16993".into(),
            ],
            key_version: 3,
        }
    }

    #[test]
    fn same_object_matches_whatever_the_case() {
        let o = Observed {
            spns: vec![
                "http/AMT1.example.test:16993".into(),
                "HTTP/amt1.example.test:16992".into(),
            ],
            key_version: Some(3),
        };
        assert_eq!(compare(&expected(), Some(&o)), DcOutcome::Matches);
    }

    #[test]
    fn a_dc_without_the_object_is_missing() {
        assert_eq!(compare(&expected(), None), DcOutcome::Missing);
    }

    #[test]
    fn a_dc_the_write_did_not_reach_says_what_it_has() {
        let o = Observed {
            spns: vec!["HTTP/amt1.example.test:16992".into(), "HOST/amt1.example.test".into()],
            key_version: Some(2),
        };
        let DcOutcome::Differs(f) = compare(&expected(), Some(&o)) else {
            panic!("expected differences");
        };
        assert_eq!(
            f,
            vec![
                "SPNs missing: http/amt1.example.test:16993".to_string(),
                "SPNs not written by the portal: host/amt1.example.test".to_string(),
                "key version 2, expected 3 (it has an older password: the write has not reached it)".to_string(),
            ]
        );
    }

    #[test]
    fn a_newer_key_version_is_reported_too() {
        let o = Observed {
            spns: expected().spns,
            key_version: Some(4),
        };
        assert!(matches!(compare(&expected(), Some(&o)), DcOutcome::Differs(f) if f[0].contains("changed again")));
        let o = Observed {
            spns: expected().spns,
            key_version: None,
        };
        assert!(matches!(compare(&expected(), Some(&o)), DcOutcome::Differs(f) if f[0].contains("not readable")));
    }
}
