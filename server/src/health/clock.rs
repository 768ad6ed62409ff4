//! Clock checks: portal ↔ domain controller and portal ↔ device, against Kerberos's and AMT's
//! tolerance (MaximumClockTolerance, at most and by default 5 minutes).

use shared::details::describe_offset;
use shared::{CheckFamily, Finding, MAX_CLOCK_SKEW_SECS, Severity};

/// AMT's default and maximum clock tolerance, in minutes.
pub const AMT_MAX_TOLERANCE_MIN: u32 = 5;

/// Offsets above this many seconds are worth a warning even within the tolerance: drift grows.
pub const DRIFT_WARNING_SECS: i64 = 60;

/// Severity of an offset against a tolerance in seconds: beyond it a problem; beyond a minute or
/// half the tolerance (whichever is smaller) a warning.
pub fn skew_severity(offset_secs: i64, tolerance_secs: i64) -> Severity {
    let a = offset_secs.unsigned_abs() as i64;
    if a > tolerance_secs {
        Severity::Problem
    } else if a > DRIFT_WARNING_SECS.min(tolerance_secs / 2) {
        Severity::Warning
    } else {
        Severity::Ok
    }
}

/// Portal clock minus the domain controller's (`portal_minus_dc`, seconds).
pub fn dc_skew(portal_minus_dc: i64) -> Finding {
    let severity = skew_severity(portal_minus_dc, MAX_CLOCK_SKEW_SECS);
    Finding {
        family: CheckFamily::Clock,
        code: "clock_portal_dc".into(),
        severity,
        title: match severity {
            Severity::Ok => "The portal's clock agrees with the domain controller's".into(),
            Severity::Warning => "The portal's clock drifts from the domain controller's".into(),
            Severity::Problem => "The portal's clock is beyond Kerberos's 5-minute tolerance".into(),
        },
        measured: format!(
            "portal is {} the domain controller (tolerance {} s)",
            offset_words(portal_minus_dc),
            MAX_CLOCK_SKEW_SECS
        ),
        fix: if severity == Severity::Ok {
            String::new()
        } else {
            "Synchronise the portal server's clock with the domain (NTP against a domain controller, e.g. chrony or systemd-timesyncd pointed at the DC).".into()
        },
    }
}

/// Device clock minus the portal's (`device_minus_portal`, seconds), against the device's
/// configured tolerance in minutes when it could be read (else AMT's 5 minutes);
/// `portal_minus_dc` adds the device ↔ domain controller figure when known.
pub fn device_skew(device_minus_portal: i64, tolerance_min: Option<u32>, portal_minus_dc: Option<i64>) -> Finding {
    let tol_min = tolerance_min
        .filter(|t| *t > 0)
        .unwrap_or(AMT_MAX_TOLERANCE_MIN)
        .min(AMT_MAX_TOLERANCE_MIN);
    let tolerance = i64::from(tol_min) * 60;
    let vs_dc = portal_minus_dc.map(|p| device_minus_portal + p);
    let worst = vs_dc
        .map(|d| d.abs().max(device_minus_portal.abs()))
        .unwrap_or(device_minus_portal.abs());
    let severity = skew_severity(worst, tolerance);
    let source = if tolerance_min.is_some() {
        "the device's MaximumClockTolerance"
    } else {
        "AMT's default; the device's own setting could not be read"
    };
    let mut measured = format!("device is {} the portal", offset_words(device_minus_portal));
    if let Some(d) = vs_dc {
        measured.push_str(&format!(" and {} the domain controller", offset_words(d)));
    }
    measured.push_str(&format!("; tolerance {tol_min} min ({source})"));
    Finding {
        family: CheckFamily::Clock,
        code: "clock_device".into(),
        severity,
        title: match severity {
            Severity::Ok => "The device's clock is in step".into(),
            Severity::Warning => "The device's clock drifts".into(),
            Severity::Problem => "The device's clock is beyond its Kerberos tolerance: it refuses every ticket".into(),
        },
        measured,
        fix: match severity {
            Severity::Ok => String::new(),
            _ => "Synchronise the device's clock (device page: \"Synchronize clock\", Network Time realm), and check that the portal and the domain controllers use the same NTP source.".into(),
        },
    }
}

fn offset_words(secs: i64) -> String {
    match describe_offset(secs).as_str() {
        "in step" => "in step with".into(),
        w => format!("{w} of"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds() {
        assert_eq!(skew_severity(0, 300), Severity::Ok);
        assert_eq!(skew_severity(60, 300), Severity::Ok);
        assert_eq!(skew_severity(-61, 300), Severity::Warning);
        assert_eq!(skew_severity(300, 300), Severity::Warning);
        assert_eq!(skew_severity(301, 300), Severity::Problem);
        // A tight tolerance (1 minute) warns from half of it.
        assert_eq!(skew_severity(31, 60), Severity::Warning);
        assert_eq!(skew_severity(61, 60), Severity::Problem);
    }

    #[test]
    fn device_tolerance_and_dc() {
        assert_eq!(device_skew(10, None, Some(5)).severity, Severity::Ok);
        // Within 5 min of the portal but 6 min from the DC: a problem.
        let f = device_skew(200, None, Some(160));
        assert_eq!(f.severity, Severity::Problem);
        assert!(
            f.measured.contains("6 min 0 s ahead of the domain controller"),
            "{}",
            f.measured
        );
        // A device configured for 2 minutes refuses at 3.
        let f = device_skew(-180, Some(2), None);
        assert_eq!(f.severity, Severity::Problem);
        assert!(
            f.measured
                .contains("tolerance 2 min (the device's MaximumClockTolerance)")
        );
        assert!(f.fix.contains("Synchronize clock"));
        // Tolerances above AMT's maximum are capped.
        assert_eq!(device_skew(400, Some(30), None).severity, Severity::Problem);
    }

    #[test]
    fn dc_offsets() {
        assert_eq!(dc_skew(2).severity, Severity::Ok);
        assert!(dc_skew(2).fix.is_empty());
        let f = dc_skew(-400);
        assert_eq!(f.severity, Severity::Problem);
        assert!(f.measured.contains("6 min 40 s behind"));
    }
}
