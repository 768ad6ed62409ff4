//! Service principal names: each of a device's `HTTP/<fqdn>:16992..16995` must be registered on
//! exactly one object in the forest. Missing: no client can get a ticket; duplicated: the KDC
//! may encrypt tickets with the wrong object's key and the device refuses them.

use shared::{CheckFamily, Finding, Severity};

/// The device ports AMT registers SPNs for (SOAP over HTTP/TLS, redirection over TCP/TLS).
pub const PORTS: [u16; 4] = [16992, 16993, 16994, 16995];

/// The SPNs a device with `fqdn` needs.
pub fn device_spns(fqdn: &str) -> Vec<String> {
    PORTS
        .iter()
        .map(|p| format!("HTTP/{}:{p}", fqdn.to_ascii_lowercase()))
        .collect()
}

/// How one SPN is registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registration {
    /// On no object.
    Missing,
    /// On exactly one object (its DN).
    Once(String),
    /// On several objects (their DNs).
    Duplicate(Vec<String>),
}

/// Classifies the objects (DNs) found holding one SPN.
pub fn classify(mut holders: Vec<String>) -> Registration {
    holders.sort();
    holders.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    match holders.len() {
        0 => Registration::Missing,
        1 => Registration::Once(holders.remove(0)),
        _ => Registration::Duplicate(holders),
    }
}

/// The finding for `spn`.
pub fn judge(spn: &str, registration: &Registration) -> Finding {
    let (severity, code, title, measured, fix) = match registration {
        Registration::Once(dn) => (
            Severity::Ok,
            "spn_ok",
            format!("{spn} is registered once"),
            format!("held by {dn}"),
            String::new(),
        ),
        Registration::Missing => (
            Severity::Problem,
            "spn_missing",
            format!("{spn} is not registered"),
            "no object in the directory holds it".to_string(),
            format!(
                "Register it on the device's computer object (reprovision the device, or `setspn -S {spn} <device object>`): \
                 without it no client can get a ticket for the device."
            ),
        ),
        Registration::Duplicate(dns) => (
            Severity::Problem,
            "spn_duplicate",
            format!("{spn} is registered {} times", dns.len()),
            format!("held by: {}", dns.join("; ")),
            format!(
                "Remove {spn} from every object but the device's current one (`setspn -D {spn} <object>`, or delete the stale object), \
                 then have users purge their tickets (`klist purge`): duplicates make the KDC pick the wrong key."
            ),
        ),
    };
    Finding {
        family: CheckFamily::Spn,
        code: code.into(),
        severity,
        title,
        measured,
        fix,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spns_of_a_device() {
        assert_eq!(
            device_spns("AMT1.example.test"),
            [
                "HTTP/amt1.example.test:16992",
                "HTTP/amt1.example.test:16993",
                "HTTP/amt1.example.test:16994",
                "HTTP/amt1.example.test:16995"
            ]
        );
    }

    #[test]
    fn duplicate_classification() {
        assert_eq!(classify(vec![]), Registration::Missing);
        assert_eq!(classify(vec!["CN=a".into()]), Registration::Once("CN=a".into()));
        // The same object returned twice (e.g. by two searches) is one holder.
        assert_eq!(
            classify(vec!["CN=a".into(), "cn=A".into()]),
            Registration::Once("CN=a".into())
        );
        assert_eq!(
            classify(vec!["CN=b".into(), "CN=a".into()]),
            Registration::Duplicate(vec!["CN=a".into(), "CN=b".into()])
        );
        let f = judge("HTTP/x:16992", &classify(vec!["CN=b".into(), "CN=a".into()]));
        assert_eq!((f.severity, f.code.as_str()), (Severity::Problem, "spn_duplicate"));
        assert!(f.measured.contains("CN=a; CN=b"));
        let f = judge("HTTP/x:16992", &Registration::Missing);
        assert_eq!(f.code, "spn_missing");
        assert!(f.fix.contains("setspn -S HTTP/x:16992"));
        assert_eq!(
            judge("HTTP/x:16992", &Registration::Once("CN=a".into())).severity,
            Severity::Ok
        );
    }
}
