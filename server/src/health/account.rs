//! The device's AD object: its key version (msDS-KeyVersionNumber, against the KeyVersion the
//! device stores when it can be read) and its password age (pwdLastSet against the domain's
//! maxPwdAge). AMT holds a key derived from that password: when the password changes or
//! expires without the device being updated, Kerberos to the device stops working.

use shared::{CheckFamily, Finding, Severity};

/// Warn this many days before the password expires.
pub const WARN_DAYS: i64 = 14;

/// `userAccountControl`: the password never expires.
pub const DONT_EXPIRE_PASSWORD: u32 = 0x1_0000;

/// What was read of the device's object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountFacts {
    /// Its DN.
    pub dn: String,
    /// msDS-KeyVersionNumber.
    pub kvno: Option<u32>,
    /// Its servicePrincipalName values.
    pub spns: Vec<String>,
    /// pwdLastSet as Unix seconds (None: never set).
    pub pwd_last_set: Option<i64>,
    /// userAccountControl.
    pub uac: u32,
    /// Whether it is a computer object (AD does not expire computer passwords itself).
    pub computer: bool,
}

/// Converts a Windows FILETIME (100 ns since 1601) to Unix seconds; 0 means "never".
pub fn filetime_to_unix(ft: i64) -> Option<i64> {
    (ft > 0).then(|| ft / 10_000_000 - 11_644_473_600)
}

/// maxPwdAge (negative 100 ns intervals; 0 or the minimum value mean "never") in seconds.
pub fn max_pwd_age_secs(raw: i64) -> Option<i64> {
    (raw < 0 && raw != i64::MIN).then(|| raw.unsigned_abs() as i64 / 10_000_000)
}

/// The password-age finding at `now` (Unix seconds) with the domain's `max_age` in seconds.
pub fn judge_password(a: &AccountFacts, now: i64, max_age: Option<i64>) -> Finding {
    let mk = |severity, code: &str, title: String, measured: String, fix: String| Finding {
        family: CheckFamily::DeviceAccount,
        code: code.into(),
        severity,
        title,
        measured,
        fix,
    };
    let Some(set) = a.pwd_last_set else {
        return mk(
            Severity::Problem,
            "account_no_password",
            "The device object has no password set".into(),
            format!("{}: pwdLastSet is 0 (the account is disabled until a password is set)", a.dn),
            "Reprovision the device: the portal sets a fresh random password on the object and the matching key on the device.".into(),
        );
    };
    let age_days = (now - set).max(0) / 86_400;
    let policy = match max_age {
        None => "the domain's passwords never expire (maxPwdAge 0)".to_string(),
        Some(m) => format!("maxPwdAge {} days", m / 86_400),
    };
    let never = if a.uac & DONT_EXPIRE_PASSWORD != 0 {
        Some("the object's password is set never to expire")
    } else if a.computer {
        Some("Active Directory does not expire computer account passwords")
    } else if max_age.is_none() {
        Some("the domain sets no maximum password age")
    } else {
        None
    };
    let measured = format!("{}: password set {age_days} days ago; {policy}", a.dn);
    let (None, Some(m)) = (never, max_age) else {
        return mk(
            Severity::Ok,
            "account_password_ok",
            "The device's password does not expire".into(),
            format!("{measured} ({})", never.unwrap_or("no expiry")),
            String::new(),
        );
    };
    let left_days = (set + m - now).div_euclid(86_400);
    if left_days < 0 {
        mk(
            Severity::Problem,
            "account_password_expired",
            "The device object's password has expired".into(),
            format!("{measured}; expired {} days ago", -left_days),
            "Reprovision the device now (new password on the object, new key on the device), or set \"password never expires\" on the device object.".into(),
        )
    } else if left_days <= WARN_DAYS {
        mk(
            Severity::Warning,
            "account_password_expiring",
            format!("The device object's password expires in {left_days} days"),
            measured,
            "Reprovision the device before then (it writes a new password and the matching key), or set \"password never expires\" on the device object.".into(),
        )
    } else {
        mk(
            Severity::Ok,
            "account_password_ok",
            format!("The device object's password is valid for {left_days} more days"),
            measured,
            String::new(),
        )
    }
}

/// The key-version finding: AD's kvno against the KeyVersion the device stores (when read).
/// AMT does not check the kvno of tickets, so a mismatch shows that the password was changed in
/// AD without the device learning the new key.
pub fn judge_kvno(a: &AccountFacts, device_key_version: Option<u32>) -> Finding {
    let mk = |severity, code: &str, title: &str, measured: String, fix: &str| Finding {
        family: CheckFamily::DeviceAccount,
        code: code.into(),
        severity,
        title: title.into(),
        measured,
        fix: fix.into(),
    };
    let ad = a.kvno.map(|k| k.to_string()).unwrap_or_else(|| "not readable".into());
    match (a.kvno, device_key_version) {
        (Some(k), Some(d)) if k != d => mk(
            Severity::Problem,
            "kvno_mismatch",
            "The device holds an older key than its AD object",
            format!("msDS-KeyVersionNumber {k} in AD, KeyVersion {d} on the device"),
            "The object's password changed without the device's key being updated: reprovision the device, then have users purge their tickets (`klist purge`).",
        ),
        (Some(k), Some(_)) => mk(
            Severity::Ok,
            "kvno_ok",
            "The device's key version matches its AD object",
            format!("key version {k} in AD and on the device"),
            "",
        ),
        (_, None) => mk(
            Severity::Ok,
            "kvno_ad_only",
            "Key version read from AD only",
            format!("msDS-KeyVersionNumber {ad} in AD; the device's KeyVersion is readable by AMT administrators only"),
            "",
        ),
        (None, Some(d)) => mk(
            Severity::Warning,
            "kvno_unreadable",
            "The object's key version could not be read",
            format!("KeyVersion {d} on the device; msDS-KeyVersionNumber not readable in AD"),
            "Grant the portal's account read access to msDS-KeyVersionNumber on the device OU.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct(set: Option<i64>, uac: u32, computer: bool) -> AccountFacts {
        AccountFacts {
            dn: "CN=AMT1,OU=AMT Devices,DC=example,DC=test".into(),
            kvno: Some(3),
            spns: vec![],
            pwd_last_set: set,
            uac,
            computer,
        }
    }

    const DAY: i64 = 86_400;

    #[test]
    fn filetimes() {
        assert_eq!(filetime_to_unix(0), None);
        assert_eq!(filetime_to_unix(116_444_736_000_000_000), Some(0));
        assert_eq!(max_pwd_age_secs(-36_288_000_000_000), Some(42 * DAY));
        assert_eq!(max_pwd_age_secs(0), None);
        assert_eq!(max_pwd_age_secs(i64::MIN), None);
    }

    #[test]
    fn password_age() {
        let now = 1_000 * DAY;
        let max = Some(42 * DAY);
        // A user object with the SDK sample's layout: expiry applies.
        assert_eq!(
            judge_password(&acct(Some(now - 10 * DAY), 0x200, false), now, max).severity,
            Severity::Ok
        );
        let f = judge_password(&acct(Some(now - 30 * DAY), 0x200, false), now, max);
        assert_eq!(
            (f.severity, f.code.as_str()),
            (Severity::Warning, "account_password_expiring")
        );
        assert!(f.title.contains("12 days"));
        let f = judge_password(&acct(Some(now - 50 * DAY), 0x200, false), now, max);
        assert_eq!(
            (f.severity, f.code.as_str()),
            (Severity::Problem, "account_password_expired")
        );
        assert!(f.measured.contains("expired 8 days ago"));
        // Never expires: flag, computer object, or no domain maximum.
        let old = Some(now - 500 * DAY);
        assert_eq!(
            judge_password(&acct(old, 0x200 | DONT_EXPIRE_PASSWORD, false), now, max).severity,
            Severity::Ok
        );
        assert_eq!(
            judge_password(&acct(old, 0x1000, true), now, max).severity,
            Severity::Ok
        );
        assert_eq!(
            judge_password(&acct(old, 0x200, false), now, None).severity,
            Severity::Ok
        );
        assert_eq!(
            judge_password(&acct(None, 0x1000, true), now, max).code,
            "account_no_password"
        );
    }

    #[test]
    fn key_versions() {
        assert_eq!(judge_kvno(&acct(None, 0, true), Some(2)).code, "kvno_mismatch");
        assert_eq!(judge_kvno(&acct(None, 0, true), Some(3)).severity, Severity::Ok);
        assert_eq!(judge_kvno(&acct(None, 0, true), None).code, "kvno_ad_only");
    }
}
