//! Active Directory lookups over LDAP (ldap3), bound with SASL GSSAPI from the portal's keytab:
//! names for SIDs (a user's groups, audit log initiators; batched, cached), the domain
//! controller's clock, the computer objects of AMT devices in the configured OU (discovery), and
//! users and groups for the profile editor (type-ahead search, SID resolution).
//!
//! Lookups are best effort for display: when the directory does not answer, the UI shows SIDs
//! and says why. Names are cached in memory (they rarely change; the cache is small).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ldap3::{LdapConnAsync, LdapConnSettings, Scope, SearchEntry, SearchOptions};
use shared::profiles::{Principal, PrincipalKind};

use crate::ad::conn::parse_generalized_time;
use crate::config::LdapConfig;

/// A client of the directory.
pub struct Directory {
    cfg: LdapConfig,
    names: Mutex<HashMap<String, String>>,
    /// SIDs the directory did not know, and when it was asked: not asked again for a while
    /// (deleted accounts in a device's audit log would otherwise cost a search per page view).
    unknown: Mutex<HashMap<String, Instant>>,
    /// The last measured clock offset and when: every page shows it, the DC need not be asked
    /// every time.
    clock: Mutex<Option<(Instant, i64)>>,
}

/// Most SID → name entries kept (group SIDs of signed-in users, audit log initiators).
const NAMES_CACHE_MAX: usize = 10_000;

/// How long a SID the directory did not know is shown as a SID before it is asked again.
const UNKNOWN_MAX_AGE: Duration = Duration::from_secs(600);

/// How long a measured clock offset is shown before the DC is asked again.
const CLOCK_MAX_AGE: Duration = Duration::from_secs(60);

/// The escaped binary form of `sid` for an LDAP filter (`(objectSid=…)`).
pub(crate) fn sid_filter_value(sid: &str) -> Option<String> {
    let mut parts = sid.strip_prefix("S-")?.split('-');
    let revision: u8 = parts.next()?.parse().ok()?;
    let authority: u64 = parts.next()?.parse().ok()?;
    let subs: Vec<u32> = parts.map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let mut b = vec![revision, subs.len() as u8];
    b.extend(&authority.to_be_bytes()[2..]);
    for s in subs {
        b.extend(s.to_le_bytes());
    }
    Some(b.iter().map(|x| format!("\\{x:02x}")).collect())
}

/// An LDAP filter matching any of `sids` by `objectSid` (SIDs that do not parse are left out).
pub(crate) fn objectsid_any(sids: &[String]) -> String {
    let alternatives: String = sids
        .iter()
        .filter_map(|s| sid_filter_value(s))
        .map(|v| format!("(objectSid={v})"))
        .collect();
    format!("(|{alternatives})")
}

impl Directory {
    /// A directory client for `cfg`.
    pub fn new(cfg: LdapConfig) -> Self {
        Directory {
            cfg,
            names: Mutex::new(HashMap::new()),
            unknown: Mutex::new(HashMap::new()),
            clock: Mutex::new(None),
        }
    }

    /// A connection to the directory, bound with the portal's keytab when `bind` (also used by
    /// [`crate::health`]'s lookups).
    pub(crate) async fn connect(&self, bind: bool) -> Result<ldap3::Ldap, String> {
        let settings = LdapConnSettings::new().set_conn_timeout(Duration::from_secs(5));
        let (conn, mut ldap) = LdapConnAsync::with_settings(settings, &self.cfg.url)
            .await
            .map_err(|e| format!("cannot reach the directory at {}: {e}", self.cfg.url))?;
        ldap3::drive!(conn);
        if bind {
            ldap.sasl_gssapi_bind(&self.cfg.host)
                .await
                .and_then(|r| r.success())
                .map_err(|e| {
                    format!(
                        "the portal could not sign in to the directory with its keytab (ldap/{}): {e}",
                        self.cfg.host
                    )
                })?;
        }
        Ok(ldap)
    }

    /// The directory's settings (URL, host, base DN).
    pub(crate) fn config(&self) -> &LdapConfig {
        &self.cfg
    }

    /// Names (sAMAccountName) for `sids`; SIDs the directory does not know are left out.
    pub async fn names_for(&self, sids: &[String]) -> Result<HashMap<String, String>, String> {
        let mut out = HashMap::new();
        let mut missing = Vec::new();
        {
            let cache = self.names.lock().unwrap_or_else(|p| p.into_inner());
            let unknown = self.unknown.lock().unwrap_or_else(|p| p.into_inner());
            for s in sids {
                match cache.get(s) {
                    Some(n) => {
                        out.insert(s.clone(), n.clone());
                    }
                    None if unknown.get(s).is_some_and(|at| at.elapsed() < UNKNOWN_MAX_AGE) => {}
                    None => missing.push(s.clone()),
                }
            }
        }
        if missing.is_empty() {
            return Ok(out);
        }
        let mut ldap = self.connect(true).await?;
        for chunk in missing.chunks(100) {
            let filter = objectsid_any(chunk);
            let (entries, _) = ldap
                .search(
                    &self.cfg.base_dn,
                    Scope::Subtree,
                    &filter,
                    vec!["sAMAccountName", "objectSid"],
                )
                .await
                .and_then(|r| r.success())
                .map_err(|e| format!("directory search failed: {e}"))?;
            for e in entries {
                let e = SearchEntry::construct(e);
                let name = e.attrs.get("sAMAccountName").and_then(|v| v.first()).cloned();
                let sid = e
                    .bin_attrs
                    .get("objectSid")
                    .and_then(|v| v.first())
                    .and_then(|b| kerberos::pac::sid_to_string(b, None));
                if let (Some(n), Some(s)) = (name, sid) {
                    out.insert(s, n);
                }
            }
        }
        let _ = ldap.unbind().await;
        let mut cache = self.names.lock().unwrap_or_else(|p| p.into_inner());
        // Keep the cache small: names are cheap to ask again, memory is not unbounded.
        if cache.len() + out.len() > NAMES_CACHE_MAX {
            cache.clear();
        }
        for (s, n) in &out {
            cache.insert(s.clone(), n.clone());
        }
        drop(cache);
        let mut unknown = self.unknown.lock().unwrap_or_else(|p| p.into_inner());
        unknown.retain(|_, at| at.elapsed() < UNKNOWN_MAX_AGE);
        let now = Instant::now();
        for s in missing.iter().filter(|s| !out.contains_key(*s)) {
            if unknown.len() < NAMES_CACHE_MAX {
                unknown.insert(s.clone(), now);
            }
        }
        Ok(out)
    }

    /// The `userAccountControl` flags of the account with `sid`, if the directory knows it.
    pub async fn user_account_control(&self, sid: &str) -> Result<Option<u32>, String> {
        let value = sid_filter_value(sid).ok_or_else(|| format!("{sid} is not a SID"))?;
        let mut ldap = self.connect(true).await?;
        let (entries, _) = ldap
            .search(
                &self.cfg.base_dn,
                Scope::Subtree,
                &format!("(objectSid={value})"),
                vec!["userAccountControl"],
            )
            .await
            .and_then(|r| r.success())
            .map_err(|e| format!("directory search failed: {e}"))?;
        let _ = ldap.unbind().await;
        Ok(entries.into_iter().next().map(SearchEntry::construct).and_then(|e| {
            e.attrs
                .get("userAccountControl")
                .and_then(|v| v.first())
                .and_then(|v| v.parse::<u32>().ok())
        }))
    }

    /// Our clock minus the domain controller's, in seconds (rootDSE `currentTime`, read
    /// anonymously: allowed on every DC); measured at most once a minute.
    pub async fn dc_clock_offset(&self) -> Result<i64, String> {
        if let Some((at, offset)) = *self.clock.lock().unwrap_or_else(|p| p.into_inner())
            && at.elapsed() < CLOCK_MAX_AGE
        {
            return Ok(offset);
        }
        let offset = self.measure_clock_offset().await?;
        *self.clock.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), offset));
        Ok(offset)
    }

    async fn measure_clock_offset(&self) -> Result<i64, String> {
        let mut ldap = self.connect(false).await?;
        let before = time::OffsetDateTime::now_utc();
        let (entries, _) = ldap
            .search("", Scope::Base, "(objectClass=*)", vec!["currentTime"])
            .await
            .and_then(|r| r.success())
            .map_err(|e| format!("rootDSE search failed: {e}"))?;
        let after = time::OffsetDateTime::now_utc();
        let _ = ldap.unbind().await;
        let raw = entries
            .into_iter()
            .next()
            .map(SearchEntry::construct)
            .and_then(|e| e.attrs.get("currentTime").and_then(|v| v.first()).cloned())
            .ok_or("the directory did not report its time (rootDSE currentTime)")?;
        let dc = parse_generalized_time(&raw).ok_or_else(|| format!("unreadable DC time {raw:?}"))?;
        let mid: time::OffsetDateTime = before + (after - before) / 2;
        let diff: time::Duration = mid - dc;
        Ok(diff.whole_seconds())
    }
}

/// An AD computer object found in the device OU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceObject {
    /// Its distinguished name.
    pub dn: String,
    /// `dNSHostName`, when set.
    pub dns_host_name: Option<String>,
    /// Its `servicePrincipalName` values.
    pub spns: Vec<String>,
}

impl Directory {
    /// Computer objects under `ou` (subtree) that carry at least one `HTTP/...` SPN.
    pub async fn device_objects(&self, ou: &str) -> Result<Vec<DeviceObject>, String> {
        let mut ldap = self.connect(true).await?;
        let result = ldap
            .search(
                ou,
                Scope::Subtree,
                "(&(objectClass=computer)(servicePrincipalName=HTTP/*))",
                vec!["dNSHostName", "servicePrincipalName"],
            )
            .await
            .and_then(|r| r.success());
        let _ = ldap.unbind().await;
        let (entries, _) = result.map_err(|e| match &e {
            ldap3::LdapError::LdapResult { result } if result.rc == 32 => {
                format!("the OU {ou} does not exist in the directory (LDAP: no such object): check PORTAL_DEVICE_OU")
            }
            _ => format!("searching {ou} failed: {e}"),
        })?;
        Ok(entries
            .into_iter()
            .map(SearchEntry::construct)
            .map(|e| DeviceObject {
                dns_host_name: e.attrs.get("dNSHostName").and_then(|v| v.first()).cloned(),
                spns: e.attrs.get("servicePrincipalName").cloned().unwrap_or_default(),
                dn: e.dn,
            })
            .collect())
    }
}

/// Most principals a type-ahead search returns.
pub const MAX_SEARCH_RESULTS: usize = 20;

/// Users (not computers) and groups.
const PRINCIPALS: &str = "(|(&(objectClass=user)(!(objectClass=computer)))(objectClass=group))";

/// The LDAP filter for principals whose sAMAccountName, cn or displayName starts with `query`
/// (escaped: `*`, `(`, `)`, `\` and NUL are literal).
pub fn principal_filter(query: &str) -> String {
    let q = ldap3::ldap_escape(query.trim());
    format!("(&{PRINCIPALS}(|(sAMAccountName={q}*)(cn={q}*)(displayName={q}*)))")
}

fn principal_of(e: SearchEntry) -> Option<Principal> {
    let first = |a: &str| e.attrs.get(a).and_then(|v| v.first()).cloned();
    let name = first("sAMAccountName")?;
    let sid = e
        .bin_attrs
        .get("objectSid")
        .and_then(|v| v.first())
        .and_then(|b| kerberos::pac::sid_to_string(b, None))?;
    let is_group = e
        .attrs
        .get("objectClass")
        .is_some_and(|v| v.iter().any(|c| c.eq_ignore_ascii_case("group")));
    Some(Principal {
        sid,
        detail: first("displayName")
            .or_else(|| first("description"))
            .filter(|d| *d != name)
            .unwrap_or_default(),
        name,
        kind: if is_group {
            PrincipalKind::Group
        } else {
            PrincipalKind::User
        },
    })
}

const PRINCIPAL_ATTRS: [&str; 5] = [
    "sAMAccountName",
    "objectSid",
    "objectClass",
    "displayName",
    "description",
];

impl Directory {
    /// Users and groups whose account name, cn or display name starts with `query`, at most
    /// [`MAX_SEARCH_RESULTS`], groups first, then by name. Computers are never offered.
    pub async fn search_principals(&self, query: &str) -> Result<Vec<Principal>, String> {
        let query = query.trim();
        if query.is_empty() {
            return Ok(Vec::new());
        }
        if query.chars().count() > 64 {
            return Err("type at most 64 characters of the name".into());
        }
        let mut ldap = self.connect(true).await?;
        // One more than shown, to know there are more; the DC stops at the size limit (rc 4).
        let result = ldap
            .with_search_options(SearchOptions::new().sizelimit(MAX_SEARCH_RESULTS as i32 + 1))
            .search(
                &self.cfg.base_dn,
                Scope::Subtree,
                &principal_filter(query),
                PRINCIPAL_ATTRS.to_vec(),
            )
            .await;
        let _ = ldap.unbind().await;
        let ldap3::SearchResult(entries, res) = result.map_err(|e| format!("directory search failed: {e}"))?;
        if res.rc != 0 && res.rc != 4 {
            return Err(format!("directory search failed: {}", ldap3::LdapError::from(res)));
        }
        let mut out: Vec<Principal> = entries
            .into_iter()
            .map(SearchEntry::construct)
            .filter_map(principal_of)
            .collect();
        out.sort_by(|a, b| {
            (a.kind != PrincipalKind::Group, a.name.to_lowercase())
                .cmp(&(b.kind != PrincipalKind::Group, b.name.to_lowercase()))
        });
        out.truncate(MAX_SEARCH_RESULTS);
        Ok(out)
    }

    /// The users and groups the directory knows among `sids` (others are left out: deleted or
    /// from another domain), found in one search per 100 SIDs. Not cached: saving a profile must
    /// see the directory as it is now.
    pub async fn resolve_sids(&self, sids: &[String]) -> Result<HashMap<String, Principal>, String> {
        let mut out = HashMap::new();
        let values: Vec<String> = sids.iter().filter_map(|s| sid_filter_value(s)).collect();
        if values.is_empty() {
            return Ok(out);
        }
        let mut ldap = self.connect(true).await?;
        for chunk in values.chunks(100) {
            let filter = format!(
                "(&{PRINCIPALS}(|{}))",
                chunk.iter().map(|v| format!("(objectSid={v})")).collect::<String>()
            );
            let (entries, _) = ldap
                .search(&self.cfg.base_dn, Scope::Subtree, &filter, PRINCIPAL_ATTRS.to_vec())
                .await
                .and_then(|r| r.success())
                .map_err(|e| format!("directory search failed: {e}"))?;
            for p in entries.into_iter().map(SearchEntry::construct).filter_map(principal_of) {
                out.insert(p.sid.clone(), p);
            }
        }
        let _ = ldap.unbind().await;
        Ok(out)
    }

    /// The user or group with `sid`, if the directory knows it.
    pub async fn resolve_sid(&self, sid: &str) -> Result<Option<Principal>, String> {
        Ok(self.resolve_sids(&[sid.to_string()]).await?.remove(sid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sid_filter_escapes_binary_form() {
        assert_eq!(
            sid_filter_value("S-1-5-21-1-2-3-500").unwrap(),
            "\\01\\05\\00\\00\\00\\00\\00\\05\\15\\00\\00\\00\\01\\00\\00\\00\\02\\00\\00\\00\\03\\00\\00\\00\\f4\\01\\00\\00"
        );
        assert_eq!(sid_filter_value("nonsense"), None);
    }

    #[test]
    fn principal_filter_escapes_the_query() {
        assert_eq!(
            principal_filter(" AMT H"),
            "(&(|(&(objectClass=user)(!(objectClass=computer)))(objectClass=group))(|(sAMAccountName=AMT H*)(cn=AMT H*)(displayName=AMT H*)))"
        );
        let f = principal_filter("*)(objectClass=*");
        assert!(f.contains("sAMAccountName=\\2a\\29\\28objectClass=\\2a*)"), "{f}");
    }

    #[test]
    fn generalized_time() {
        let t = parse_generalized_time("20261125133224.0Z").unwrap();
        assert_eq!((t.year(), t.hour(), t.second()), (2026, 13, 24));
        assert!(parse_generalized_time("2026").is_none());
    }
}
