//! DC consistency: the device's object read back from every domain controller (the "ad"
//! helper's [`crate::ad::check_on_every_dc`]) against what the portal's own DC holds. A DC
//! with an older key version or without the object answers some users' ticket requests with
//! the wrong key: their Kerberos logins to the device fail while others' work.

use shared::ad::{DcCheck, DcOutcome};
use shared::{CheckFamily, Finding, Severity};

/// The finding for the per-DC read-backs of the object `dn`.
pub fn judge(dn: &str, checks: &[DcCheck]) -> Finding {
    let bad: Vec<&DcCheck> = checks
        .iter()
        .filter(|c| matches!(c.outcome, DcOutcome::Missing | DcOutcome::Differs(_)))
        .collect();
    let unreachable = checks
        .iter()
        .filter(|c| matches!(c.outcome, DcOutcome::Unreachable(_)))
        .count();
    let all: Vec<String> = checks.iter().map(DcCheck::sentence).collect();
    let (severity, code, title, fix) = if checks.is_empty() {
        (
            Severity::Warning,
            "dc_none",
            "No domain controller could be listed".to_string(),
            "Check the AD settings (Settings → Active Directory): list the domain's DCs.",
        )
    } else if !bad.is_empty() {
        (
            Severity::Problem,
            "dc_inconsistent",
            format!(
                "{} of {} domain controllers hold a different object",
                bad.len(),
                checks.len()
            ),
            "Wait for replication (or force it: `repadmin /syncall`), or reprovision the device so its object is written again; \
             until then users served by those DCs get tickets the device cannot decrypt.",
        )
    } else if unreachable > 0 {
        (
            Severity::Warning,
            "dc_unreachable",
            format!(
                "{unreachable} of {} domain controllers could not be asked",
                checks.len()
            ),
            "Check that the portal reaches every DC (network, firewall, the AD settings' bind account).",
        )
    } else {
        (
            Severity::Ok,
            "dc_consistent",
            format!("All {} domain controllers hold the same object", checks.len()),
            "",
        )
    };
    Finding {
        family: CheckFamily::DcConsistency,
        code: code.into(),
        severity,
        title,
        measured: format!(
            "{dn}: {}",
            if all.is_empty() {
                "no DC answered".into()
            } else {
                all.join("; ")
            }
        ),
        fix: fix.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::ad::DcSource;

    fn check(dc: &str, outcome: DcOutcome) -> DcCheck {
        DcCheck {
            dc: dc.into(),
            source: DcSource::Configured,
            outcome,
        }
    }

    #[test]
    fn classification() {
        let ok = [check("dc1", DcOutcome::Matches), check("dc2", DcOutcome::Matches)];
        let f = judge("CN=amt1", &ok);
        assert_eq!((f.severity, f.code.as_str()), (Severity::Ok, "dc_consistent"));
        assert!(f.title.contains("All 2"));
        let mixed = [
            check("dc1", DcOutcome::Matches),
            check("dc2", DcOutcome::Differs(vec!["key version 2, expected 3".into()])),
            check("dc3", DcOutcome::Unreachable("timeout".into())),
        ];
        let f = judge("CN=amt1", &mixed);
        assert_eq!((f.severity, f.code.as_str()), (Severity::Problem, "dc_inconsistent"));
        assert!(f.measured.contains("dc2: key version 2, expected 3"), "{}", f.measured);
        let f = judge(
            "CN=amt1",
            &[
                check("dc1", DcOutcome::Matches),
                check("dc3", DcOutcome::Unreachable("x".into())),
            ],
        );
        assert_eq!(f.code, "dc_unreachable");
        assert_eq!(
            judge("CN=amt1", &[check("dc2", DcOutcome::Missing)]).severity,
            Severity::Problem
        );
        assert_eq!(judge("CN=amt1", &[]).code, "dc_none");
    }
}
