//! Scheduled key rotation: a device's AMT Kerberos key is the password of its AD computer
//! object; it is renewed (the key steps of a run: new password, every DC checked, Kerberos
//! settings written, clock, proof) before it gets older than `PORTAL_KEY_ROTATION_DAYS`, kept
//! below the domain's maximum password age when that is known.

use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The rotation period in days: the configured one, but at least a day under the domain's
/// maximum password age (`maxPwdAge`, in days) when the directory gives it.
pub fn period_days(configured: u32, max_pwd_age_days: Option<u32>) -> u32 {
    match max_pwd_age_days {
        Some(max) if max > 1 => configured.min(max - 1),
        _ => configured,
    }
    .max(1)
}

/// The devices whose key was last set more than `period_days` before `now`, from
/// `(device_id, fqdn, when the key was last set)`; a time that cannot be read counts as due.
pub fn due(last_set: &[(i64, String, String)], now: OffsetDateTime, period_days: u32) -> Vec<i64> {
    let limit = now - time::Duration::days(i64::from(period_days));
    last_set
        .iter()
        .filter(|(_, _, at)| OffsetDateTime::parse(at, &Rfc3339).map_or(true, |t| t <= limit))
        .map(|(id, _, _)| *id)
        .collect()
}

/// How often the schedule looks for devices due.
pub const CHECK_EVERY: Duration = Duration::from_secs(3600);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_older_than_the_period_are_due() {
        let now = OffsetDateTime::parse("2026-12-05T12:00:00Z", &Rfc3339).unwrap();
        let rows = vec![
            (1, "amt1".to_string(), "2026-11-01T12:00:00Z".to_string()),
            (2, "amt2".to_string(), "2026-11-20T12:00:00Z".to_string()),
            (3, "amt3".to_string(), "2026-11-05T12:00:00Z".to_string()),
            (4, "amt4".to_string(), "garbage".to_string()),
        ];
        assert_eq!(due(&rows, now, 30), vec![1, 3, 4], "exactly 30 days old is due");
        assert_eq!(due(&rows, now, 10), vec![1, 2, 3, 4]);
        assert_eq!(due(&rows, now, 60), vec![4]);
    }

    #[test]
    fn the_period_stays_below_the_domains_maximum_password_age() {
        assert_eq!(period_days(30, None), 30);
        assert_eq!(period_days(30, Some(42)), 30);
        assert_eq!(period_days(60, Some(42)), 41);
        assert_eq!(
            period_days(30, Some(1)),
            30,
            "a maximum of a day or none is not a limit"
        );
        assert_eq!(period_days(30, Some(2)), 1);
    }
}
