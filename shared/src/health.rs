//! Kerberos health: findings about one user and one device (clock skew, ticket size, SPNs, the
//! device's AD object, the browser's SSO setup), each with what was measured and how to fix it.

use serde::{Deserialize, Serialize};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Severity {
    /// Nothing to do.
    Ok,
    /// Works today, but will fail soon or under some conditions.
    Warning,
    /// Kerberos to the device fails (or will fail) because of this.
    Problem,
}

impl Severity {
    /// The word shown next to the icon.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Ok => "OK",
            Severity::Warning => "Warning",
            Severity::Problem => "Problem",
        }
    }
}

/// The family a finding belongs to (the page groups findings by it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CheckFamily {
    /// Portal ↔ domain controller ↔ device clocks.
    Clock,
    /// Kerberos ticket size against the device's firmware limit.
    TicketSize,
    /// Service principal names of the device in the forest.
    Spn,
    /// The device's computer object (key version, password age).
    DeviceAccount,
    /// The same answer from every domain controller.
    DcConsistency,
    /// The browser's single sign-on setup.
    BrowserSso,
}

impl CheckFamily {
    /// Heading of the group on the page.
    pub fn title(self) -> &'static str {
        match self {
            CheckFamily::Clock => "Clocks",
            CheckFamily::TicketSize => "Ticket size",
            CheckFamily::Spn => "Service principal names",
            CheckFamily::DeviceAccount => "Device account in Active Directory",
            CheckFamily::DcConsistency => "Domain controllers",
            CheckFamily::BrowserSso => "Browser single sign-on",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Its group.
    pub family: CheckFamily,
    /// Stable code for tests and links (`ticket_too_large`, `spn_duplicate`, ...).
    pub code: String,
    /// OK, warning or problem.
    pub severity: Severity,
    /// A one-line summary.
    pub title: String,
    /// What was measured, with the numbers.
    pub measured: String,
    /// What to do, in a sentence an AD admin or helpdesk engineer acts on (empty when OK).
    pub fix: String,
}

/// Whose findings these are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HealthSubject {
    /// The signed-in user, measured with their real credential.
    Me {
        /// `alice@EXAMPLE.TEST`.
        principal: String,
    },
    /// Another user, looked up in the directory by an administrator: estimates only.
    Estimate {
        /// The account name looked up.
        account: String,
    },
}

/// The findings of one check run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthReport {
    /// Whose.
    pub subject: HealthSubject,
    /// The device checked, if one was chosen (`amt1.example.test`).
    pub device: Option<String>,
    /// The findings, in family order.
    pub findings: Vec<Finding>,
    /// When the checks ran (RFC 3339, UTC).
    pub checked_at: String,
}

impl HealthReport {
    /// The worst severity among the findings (OK when there are none).
    pub fn worst(&self) -> Severity {
        self.findings.iter().map(|f| f.severity).max().unwrap_or(Severity::Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_severity() {
        let f = |severity| Finding {
            family: CheckFamily::Clock,
            code: "x".into(),
            severity,
            title: String::new(),
            measured: String::new(),
            fix: String::new(),
        };
        let mut r = HealthReport {
            subject: HealthSubject::Me { principal: "a".into() },
            device: None,
            findings: vec![],
            checked_at: String::new(),
        };
        assert_eq!(r.worst(), Severity::Ok);
        r.findings = vec![f(Severity::Warning), f(Severity::Ok)];
        assert_eq!(r.worst(), Severity::Warning);
        r.findings.push(f(Severity::Problem));
        assert_eq!(r.worst(), Severity::Problem);
    }
}
