//! The "test" action of the AD settings: every DC answers (rootDSE, its clock against ours),
//! the bind works, the OU exists, and the bound account has the delegated rights provisioning
//! needs in it. Rights are proven, not guessed: a uniquely named probe computer object is
//! created, modified (the attributes apply writes), given a password, and deleted; the first
//! refusal names the exact right to delegate. The probe is always deleted, even after a partial
//! failure; if that delete fails, the check says which DN was left behind.

use std::collections::HashSet;

use ldap3::{Mod, Scope, SearchEntry};
use shared::ad::{AdCheck, AdTestReport, CheckOutcome};

use super::conn::{self, OP_TIMEOUT, Session};
use super::error::{describe, ldap_rc};
use super::object::{UF_ACCOUNTDISABLE, UF_WORKSTATION_TRUST_ACCOUNT, random_password, unicode_pwd};
use super::settings::{AdSettings, normalize_dn};

/// Clock difference from which the check warns (Kerberos refuses at 5 minutes).
const CLOCK_WARN_SECS: i64 = 60;

fn check(name: impl Into<String>, outcome: CheckOutcome, detail: impl Into<String>) -> AdCheck {
    AdCheck {
        name: name.into(),
        outcome,
        detail: detail.into(),
    }
}

fn set<S: Into<Vec<u8>>>(values: impl IntoIterator<Item = S>) -> HashSet<Vec<u8>> {
    values.into_iter().map(Into::into).collect()
}

fn clock_sentence(offset: i64) -> String {
    match offset {
        0 => "its clock agrees with ours".into(),
        o if o > 0 => format!("its clock is {o} s behind ours"),
        o => format!("its clock is {} s ahead of ours", -o),
    }
}

/// Runs every check for `settings`, in order.
pub async fn run(settings: &AdSettings) -> AdTestReport {
    let mut checks = Vec::new();
    let mut first_bound: Option<Session> = None;
    for dc in &settings.domain_controllers {
        let name = format!("{} answers", dc.host);
        match conn::root_dse(settings, dc).await {
            Err(e) => {
                checks.push(check(
                    name,
                    CheckOutcome::Failed,
                    format!("{}: check the URL, the DC and the network", e.message),
                ));
                checks.push(check(
                    format!("sign in to {}", dc.host),
                    CheckOutcome::Skipped,
                    "the DC did not answer",
                ));
                continue;
            }
            Ok(root) => {
                let mut outcome = CheckOutcome::Ok;
                let mut detail = format!("{} answers", dc.url);
                match root.clock_offset_secs {
                    Some(o) if o.abs() >= shared::MAX_CLOCK_SKEW_SECS => {
                        outcome = CheckOutcome::Failed;
                        detail.push_str(&format!(
                            "; {}: Kerberos fails beyond 5 minutes: synchronise the portal's and the DC's clocks (NTP)",
                            clock_sentence(o)
                        ));
                    }
                    Some(o) if o.abs() >= CLOCK_WARN_SECS => {
                        outcome = CheckOutcome::Warning;
                        detail.push_str(&format!(
                            "; {} (Kerberos allows 5 minutes): check NTP",
                            clock_sentence(o)
                        ));
                    }
                    Some(o) => detail.push_str(&format!("; {}", clock_sentence(o))),
                    None => detail.push_str("; it did not report its time"),
                }
                if let Some(nc) = &root.default_nc
                    && normalize_dn(nc) != normalize_dn(&settings.base_dn)
                {
                    outcome = CheckOutcome::Failed;
                    detail.push_str(&format!(
                        "; it serves the domain {nc}, not the base DN {}: fix the base DN or the DC",
                        settings.base_dn
                    ));
                }
                checks.push(check(name, outcome, detail));
            }
        }
        let bind_name = format!("sign in to {} as {}", dc.host, settings.bind.account());
        match conn::open(settings, dc).await {
            Ok(s) => {
                let how = match (&settings.bind, s.encrypted) {
                    (super::Bind::Kerberos, _) if dc.url.starts_with("ldaps://") => "Kerberos over LDAPS",
                    (super::Bind::Kerberos, _) => "Kerberos, sealed",
                    (super::Bind::SimpleTls { .. }, _) if dc.url.starts_with("ldaps://") => "simple bind over LDAPS",
                    (super::Bind::SimpleTls { .. }, _) => "simple bind over StartTLS",
                    (super::Bind::SimplePlain { .. }, _) => "simple bind WITHOUT TLS (lab only)",
                };
                let outcome = if matches!(settings.bind, super::Bind::SimplePlain { .. }) {
                    CheckOutcome::Warning
                } else {
                    CheckOutcome::Ok
                };
                checks.push(check(
                    bind_name,
                    outcome,
                    format!("signed in as {} ({how})", s.account()),
                ));
                if first_bound.is_none() {
                    first_bound = Some(s);
                } else {
                    s.close().await;
                }
            }
            Err(e) => checks.push(check(bind_name, CheckOutcome::Failed, e.message)),
        }
    }
    let Some(mut s) = first_bound else {
        checks.push(check(
            format!("{} exists", settings.device_ou),
            CheckOutcome::Skipped,
            "no domain controller could be signed in to",
        ));
        return AdTestReport { checks };
    };
    rights(&mut s, settings, &mut checks).await;
    s.close().await;
    AdTestReport { checks }
}

/// Whether `class` is among the OU's `allowedChildClassesEffective` for the bound account
/// (`None` when the DC did not say).
async fn may_create(s: &mut Session, ou: &str, class: &str) -> Option<bool> {
    let (entries, _) = s
        .ldap
        .with_timeout(OP_TIMEOUT)
        .search(ou, Scope::Base, "(objectClass=*)", vec!["allowedChildClassesEffective"])
        .await
        .and_then(|r| r.success())
        .ok()?;
    let e = entries.into_iter().next().map(SearchEntry::construct)?;
    let classes = e.attrs.get("allowedChildClassesEffective")?;
    Some(classes.iter().any(|c| c.eq_ignore_ascii_case(class)))
}

/// The OU exists; create, modify, set the password of, and delete a probe computer object.
async fn rights(s: &mut Session, settings: &AdSettings, checks: &mut Vec<AdCheck>) {
    let ou = settings.device_ou.clone();
    let account = s.account();
    let exists = s
        .ldap
        .with_timeout(OP_TIMEOUT)
        .search(&ou, Scope::Base, "(objectClass=*)", vec!["objectClass"])
        .await
        .and_then(|r| r.success());
    match exists {
        Ok(_) => checks.push(check(
            format!("{ou} exists"),
            CheckOutcome::Ok,
            format!("found on {}", s.dc),
        )),
        Err(e) => {
            let detail = match ldap_rc(&e) {
                Some((32, _)) => format!("{ou} does not exist on {}: create it or fix the DN", s.dc),
                _ => format!("{ou} could not be read on {}: {}", s.dc, describe(&e)),
            };
            checks.push(check(format!("{ou} exists"), CheckOutcome::Failed, detail));
            checks.push(check(
                format!("{account} may create, change and delete computer objects in {ou}"),
                CheckOutcome::Skipped,
                "the OU is missing",
            ));
            return;
        }
    }

    let tag = format!("{:06x}", rand::random::<u32>() & 0xff_ffff);
    let cn = format!("amtportal-probe-{tag}");
    let dn = format!("CN={cn},{ou}");
    let sam = format!("AMTPROBE{}$", tag.to_ascii_uppercase());
    let realm_lower = settings.realm.to_ascii_lowercase();
    let fqdn = format!("{cn}.{realm_lower}");

    // Create.
    let name = format!("{account} may create computer objects in {ou}");
    let attrs: Vec<(Vec<u8>, HashSet<Vec<u8>>)> = vec![
        (
            b"objectClass".to_vec(),
            set(["top", "person", "organizationalPerson", "user", "computer"]),
        ),
        (b"sAMAccountName".to_vec(), set([sam.as_str()])),
        (
            b"userAccountControl".to_vec(),
            set([(UF_WORKSTATION_TRUST_ACCOUNT | UF_ACCOUNTDISABLE).to_string()]),
        ),
        (
            b"description".to_vec(),
            set(["AMT portal rights probe: delete me if you find me"]),
        ),
    ];
    let created = s
        .ldap
        .with_timeout(OP_TIMEOUT)
        .add(&dn, attrs)
        .await
        .and_then(|r| r.success());
    if let Err(e) = created {
        let detail = match ldap_rc(&e) {
            Some((50, _)) => {
                let confirm = match may_create(s, &ou, "computer").await {
                    Some(false) => " (the DC lists no computer class among what it may create there)",
                    _ => "",
                };
                format!(
                    "{account} may not create computer objects in {ou}: delegate 'Create Computer objects' on that OU{confirm}"
                )
            }
            _ => format!(
                "creating a probe computer object in {ou} on {} failed: {}",
                s.dc,
                describe(&e)
            ),
        };
        checks.push(check(name, CheckOutcome::Failed, detail));
        for what in ["change", "delete"] {
            checks.push(check(
                format!("{account} may {what} computer objects in {ou}"),
                CheckOutcome::Skipped,
                "no probe object could be created",
            ));
        }
        return;
    }
    checks.push(check(name, CheckOutcome::Ok, format!("created {dn}")));

    // Modify: the attributes apply writes.
    let name = format!("{account} may change computer objects in {ou}");
    let mods = vec![
        Mod::Replace(b"dNSHostName".to_vec(), set([fqdn.as_str()])),
        Mod::Replace(b"servicePrincipalName".to_vec(), set([format!("HTTP/{fqdn}:16992")])),
        Mod::Replace(b"msDS-SupportedEncryptionTypes".to_vec(), set(["24"])),
    ];
    match s
        .ldap
        .with_timeout(OP_TIMEOUT)
        .modify(&dn, mods)
        .await
        .and_then(|r| r.success())
    {
        Ok(_) => checks.push(check(
            name,
            CheckOutcome::Ok,
            "wrote dNSHostName, servicePrincipalName and msDS-SupportedEncryptionTypes",
        )),
        Err(e) => checks.push(check(
            name,
            CheckOutcome::Failed,
            match ldap_rc(&e) {
                Some((50, _)) => format!(
                    "{account} may not change computer objects in {ou} (dNSHostName, SPNs, encryption types): delegate 'Full control' of descendant Computer objects on that OU"
                ),
                _ => format!("changing the probe object on {} failed: {}", s.dc, describe(&e)),
            },
        )),
    }

    // Password.
    let name = format!("{account} may set passwords of computer objects in {ou}");
    if s.encrypted {
        let pw = random_password();
        match s
            .ldap
            .with_timeout(OP_TIMEOUT)
            .modify(&dn, vec![Mod::Replace(b"unicodePwd".to_vec(), set([unicode_pwd(pw.expose())]))])
            .await
            .and_then(|r| r.success())
        {
            Ok(_) => checks.push(check(name, CheckOutcome::Ok, "set a random password on the probe")),
            Err(e) => checks.push(check(
                name,
                CheckOutcome::Failed,
                match ldap_rc(&e) {
                    Some((50, _)) => format!(
                        "{account} may not reset passwords of computer objects in {ou}: delegate 'Reset password' (or 'Full control') of descendant Computer objects on that OU"
                    ),
                    _ => format!("setting the probe's password on {} failed: {}", s.dc, describe(&e)),
                },
            )),
        }
    } else {
        checks.push(check(
            name,
            CheckOutcome::Failed,
            "this connection is not encrypted, and AD takes passwords only over LDAPS, StartTLS or a sealed Kerberos bind: applying a profile will fail; choose one of those",
        ));
    }

    // Delete (always, whatever failed before).
    let name = format!("{account} may delete computer objects in {ou}");
    match s.ldap.with_timeout(OP_TIMEOUT).delete(&dn).await.and_then(|r| r.success()) {
        Ok(_) => checks.push(check(name, CheckOutcome::Ok, format!("deleted {dn}: nothing left behind"))),
        Err(e) => checks.push(check(
            name,
            CheckOutcome::Failed,
            match ldap_rc(&e) {
                Some((50, _)) => format!(
                    "{account} may not delete computer objects in {ou}: delegate 'Delete Computer objects' on that OU. The probe object {dn} was left behind: delete it by hand"
                ),
                _ => format!(
                    "deleting the probe object on {} failed: {}. It was left behind: delete {dn} by hand",
                    s.dc,
                    describe(&e)
                ),
            },
        )),
    }
}
