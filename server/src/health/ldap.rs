//! The directory reads behind the health checks: who holds an SPN, the device's object (key
//! version, password), the domain's maxPwdAge, and a user's tokenGroups with group types (for
//! the TokenSZ estimate). All bound with the portal's keytab; read only.

use ldap3::{Scope, SearchEntry, ldap_escape};

use super::account::{AccountFacts, filetime_to_unix, max_pwd_age_secs};
use crate::directory::{Directory, objectsid_any};

fn search_error(e: ldap3::LdapError) -> String {
    format!("directory search failed: {e}")
}

fn first<'a>(e: &'a SearchEntry, attr: &str) -> Option<&'a String> {
    e.attrs.get(attr).and_then(|v| v.first())
}

/// For each SPN, the DNs of the objects that hold it (searched from the base DN, subtree: the
/// whole single-domain forest; for several domains point the portal at a global catalog).
pub async fn spn_holders(dir: &Directory, spns: &[String]) -> Result<Vec<(String, Vec<String>)>, String> {
    let mut ldap = dir.connect(true).await?;
    let base = dir.config().base_dn.clone();
    let mut out = Vec::new();
    for spn in spns {
        let r = ldap
            .search(
                &base,
                Scope::Subtree,
                &format!("(servicePrincipalName={})", ldap_escape(spn)),
                vec!["1.1"],
            )
            .await
            .and_then(|r| r.success());
        match r {
            Ok((entries, _)) => out.push((
                spn.clone(),
                entries.into_iter().map(|e| SearchEntry::construct(e).dn).collect(),
            )),
            Err(e) => {
                let _ = ldap.unbind().await;
                return Err(search_error(e));
            }
        }
    }
    let _ = ldap.unbind().await;
    Ok(out)
}

/// The device's AD object (holder of `HTTP/<fqdn>:16992`, else the computer with that
/// dNSHostName) and the domain's maxPwdAge in seconds (None: never).
pub async fn device_account(dir: &Directory, fqdn: &str) -> Result<(Option<AccountFacts>, Option<i64>), String> {
    let mut ldap = dir.connect(true).await?;
    let base = dir.config().base_dn.clone();
    let filter = format!(
        "(|(servicePrincipalName={})(&(objectClass=computer)(dNSHostName={})))",
        ldap_escape(format!("HTTP/{fqdn}:16992")),
        ldap_escape(fqdn)
    );
    let objects = ldap
        .search(
            &base,
            Scope::Subtree,
            &filter,
            vec![
                "msDS-KeyVersionNumber",
                "pwdLastSet",
                "userAccountControl",
                "objectClass",
                "servicePrincipalName",
            ],
        )
        .await
        .and_then(|r| r.success());
    let domain = ldap
        .search(&base, Scope::Base, "(objectClass=*)", vec!["maxPwdAge"])
        .await
        .and_then(|r| r.success());
    let _ = ldap.unbind().await;
    let (objects, _) = objects.map_err(search_error)?;
    let (domain, _) = domain.map_err(search_error)?;
    let max_age = domain
        .into_iter()
        .next()
        .map(SearchEntry::construct)
        .and_then(|e| first(&e, "maxPwdAge").and_then(|v| v.parse::<i64>().ok()))
        .and_then(max_pwd_age_secs);
    let facts = objects
        .into_iter()
        .next()
        .map(SearchEntry::construct)
        .map(|e| AccountFacts {
            kvno: first(&e, "msDS-KeyVersionNumber").and_then(|v| v.parse().ok()),
            spns: e.attrs.get("servicePrincipalName").cloned().unwrap_or_default(),
            pwd_last_set: first(&e, "pwdLastSet")
                .and_then(|v| v.parse::<i64>().ok())
                .and_then(filetime_to_unix),
            uac: first(&e, "userAccountControl")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            computer: e
                .attrs
                .get("objectClass")
                .is_some_and(|c| c.iter().any(|c| c.eq_ignore_ascii_case("computer"))),
            dn: e.dn,
        });
    Ok((facts, max_age))
}

/// A user's token groups as the directory computes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserGroups {
    /// The account's DN.
    pub dn: String,
    /// Each group SID of the token with its `groupType` (None: unknown to this directory) and
    /// whether it is of the user's own domain.
    pub groups: Vec<(String, Option<i64>, bool)>,
    /// Entries in sIDHistory.
    pub sid_history: usize,
}

/// `account` (`frank` or `frank@REALM`)'s tokenGroups with group types; None if there is no such
/// user. tokenGroups is readable with a base-scope search only.
pub async fn user_groups(dir: &Directory, account: &str) -> Result<Option<UserGroups>, String> {
    let name = account.split('@').next().unwrap_or_default().trim();
    if name.is_empty() || name.len() > 256 {
        return Err("give an account name such as frank".into());
    }
    let mut ldap = dir.connect(true).await?;
    let base = dir.config().base_dn.clone();
    let result = async {
        let (users, _) = ldap
            .search(
                &base,
                Scope::Subtree,
                &format!(
                    "(&(objectCategory=person)(objectClass=user)(sAMAccountName={}))",
                    ldap_escape(name)
                ),
                vec!["objectSid", "sIDHistory"],
            )
            .await
            .and_then(|r| r.success())
            .map_err(search_error)?;
        let Some(user) = users.into_iter().next().map(SearchEntry::construct) else {
            return Ok(None);
        };
        let user_sid = user
            .bin_attrs
            .get("objectSid")
            .and_then(|v| v.first())
            .and_then(|b| kerberos::pac::sid_to_string(b, None))
            .unwrap_or_default();
        let domain_prefix = user_sid
            .rsplit_once('-')
            .map(|(d, _)| format!("{d}-"))
            .unwrap_or_default();
        let sid_history = user.bin_attrs.get("sIDHistory").map(Vec::len).unwrap_or(0);
        let (tg, _) = ldap
            .search(&user.dn, Scope::Base, "(objectClass=*)", vec!["tokenGroups"])
            .await
            .and_then(|r| r.success())
            .map_err(search_error)?;
        let sids: Vec<String> = tg
            .into_iter()
            .next()
            .map(SearchEntry::construct)
            .and_then(|e| e.bin_attrs.get("tokenGroups").cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|b| kerberos::pac::sid_to_string(b, None))
            .collect();
        let mut types = std::collections::HashMap::new();
        for chunk in sids.chunks(100) {
            let filter = objectsid_any(chunk);
            let (entries, _) = ldap
                .search(&base, Scope::Subtree, &filter, vec!["objectSid", "groupType"])
                .await
                .and_then(|r| r.success())
                .map_err(search_error)?;
            for e in entries.into_iter().map(SearchEntry::construct) {
                let sid = e
                    .bin_attrs
                    .get("objectSid")
                    .and_then(|v| v.first())
                    .and_then(|b| kerberos::pac::sid_to_string(b, None));
                let t = first(&e, "groupType").and_then(|v| v.parse::<i64>().ok());
                if let (Some(s), Some(t)) = (sid, t) {
                    types.insert(s, t);
                }
            }
        }
        let groups = sids
            .into_iter()
            .map(|s| {
                let own = !domain_prefix.is_empty() && s.starts_with(&domain_prefix);
                let t = types.get(&s).copied();
                (s, t, own)
            })
            .collect();
        Ok(Some(UserGroups {
            dn: user.dn,
            groups,
            sid_history,
        }))
    }
    .await;
    let _ = ldap.unbind().await;
    result
}
