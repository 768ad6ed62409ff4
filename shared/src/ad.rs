//! Active Directory settings as the settings page edits them (domain controllers, base DN, the
//! OU for AMT objects, how the portal binds, approver groups), and the outcomes of the "test"
//! action and of the per-DC read-back of a device's computer object.

use serde::{Deserialize, Serialize};

/// How the portal binds to the domain controllers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum BindMethod {
    /// The portal's service account, SASL GSSAPI from its keytab (sealed on `ldap://`).
    #[default]
    Kerberos,
    /// Simple bind with a user and password over LDAPS (`ldaps://`) or StartTLS (`ldap://`).
    SimpleTls,
    /// Simple bind without TLS: the password crosses the network in clear. Lab only, and only
    /// when "allow insecure" is ticked.
    SimplePlain,
}

impl BindMethod {
    /// What the settings page calls it.
    pub fn label(self) -> &'static str {
        match self {
            BindMethod::Kerberos => "Portal service account (Kerberos, from its keytab)",
            BindMethod::SimpleTls => "User and password over LDAPS or StartTLS",
            BindMethod::SimplePlain => "User and password without TLS (lab only)",
        }
    }

    /// The form value.
    pub fn key(self) -> &'static str {
        match self {
            BindMethod::Kerberos => "kerberos",
            BindMethod::SimpleTls => "simple-tls",
            BindMethod::SimplePlain => "simple-plain",
        }
    }

    /// The method for a form value.
    pub fn from_key(key: &str) -> Option<BindMethod> {
        [BindMethod::Kerberos, BindMethod::SimpleTls, BindMethod::SimplePlain]
            .into_iter()
            .find(|m| m.key() == key)
    }
}

/// The settings form as typed (lists as text, one entry per line or comma-separated).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AdSettingsForm {
    /// One domain controller per line: `ldap://host` or `ldaps://host[:port]`, optionally followed
    /// by a space and the DC's DNS name when the URL holds an address (`ldap://10.0.0.5 dc1.corp.example`).
    pub domain_controllers: String,
    /// The domain's base DN, e.g. `DC=example,DC=test`.
    pub base_dn: String,
    /// The default OU for AMT computer objects.
    pub device_ou: String,
    /// How the portal binds.
    pub bind: BindMethod,
    /// The bind user for simple binds (`user@domain`, `DOMAIN\user` or a DN).
    pub bind_user: String,
    /// A new bind password; empty keeps the stored one.
    pub bind_password: String,
    /// Allows [`BindMethod::SimplePlain`] (lab only).
    pub allow_insecure: bool,
    /// PEM file (on the portal's host) with the CA that signed the DCs' certificates; empty: the
    /// system's trusted CAs.
    pub ca_file: String,
    /// AD groups (names or SIDs) whose members approve self-service reprovision requests.
    pub approver_groups: String,
}

/// The settings page's data.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AdSettingsView {
    /// The settings in force (the password is never sent back: `bind_password` is empty).
    pub form: AdSettingsForm,
    /// Whether a bind password is stored (sealed).
    pub password_stored: bool,
    /// `None`: nothing saved yet, the values come from the portal's configuration.
    pub saved_by: Option<String>,
    /// When they were saved (RFC 3339 UTC).
    pub saved_at: Option<String>,
    /// Why passwords cannot be stored, when the portal has no secret key.
    pub sealing_unavailable: Option<String>,
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CheckOutcome {
    /// It works.
    Ok,
    /// It works, with something to look at.
    Warning,
    /// It does not work: the detail says what to do.
    Failed,
    /// Not run, because an earlier check failed.
    Skipped,
}

/// One check of the "test" action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdCheck {
    /// What was checked (`dc1.example.test answers`, `create computer objects in OU=…`).
    pub name: String,
    /// Its outcome.
    pub outcome: CheckOutcome,
    /// What was found, and what to do when it failed.
    pub detail: String,
}

/// The result of the "test" action: every check, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AdTestReport {
    /// The checks, in the order they ran.
    pub checks: Vec<AdCheck>,
}

impl AdTestReport {
    /// Whether no check failed.
    pub fn ok(&self) -> bool {
        !self.checks.iter().any(|c| c.outcome == CheckOutcome::Failed)
    }
}

/// Where a domain controller of a per-DC check came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DcSource {
    /// Listed in the AD settings.
    Configured,
    /// Found under `CN=Sites` in the configuration partition.
    Sites,
}

/// What one domain controller holds for a device's computer object, against what was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DcOutcome {
    /// The object is there with the expected SPNs and key version.
    Matches,
    /// The object is there, but differs: one sentence per difference.
    Differs(Vec<String>),
    /// The DC does not have the object (yet): replication, or the write went elsewhere.
    Missing,
    /// The DC could not be asked: why.
    Unreachable(String),
}

/// One domain controller's view of a device's computer object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DcCheck {
    /// The DC (its DNS name, or URL when the name is unknown).
    pub dc: String,
    /// Where it came from.
    pub source: DcSource,
    /// What it holds.
    pub outcome: DcOutcome,
}

impl DcCheck {
    /// One sentence for people: `dc1.example.test: has it as written`, or the differences.
    pub fn sentence(&self) -> String {
        match &self.outcome {
            DcOutcome::Matches => format!("{}: has the object as written", self.dc),
            DcOutcome::Differs(d) => format!("{}: {}", self.dc, d.join("; ")),
            DcOutcome::Missing => format!(
                "{}: does not have the object (the write went to another DC, or has not replicated yet)",
                self.dc
            ),
            DcOutcome::Unreachable(why) => format!("{}: could not be asked ({why})", self.dc),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_method_keys_round_trip() {
        for m in [BindMethod::Kerberos, BindMethod::SimpleTls, BindMethod::SimplePlain] {
            assert_eq!(BindMethod::from_key(m.key()), Some(m));
        }
        assert_eq!(BindMethod::from_key("anonymous"), None);
    }

    #[test]
    fn report_fails_when_one_check_fails() {
        let check = |outcome| AdCheck {
            name: "x".into(),
            outcome,
            detail: String::new(),
        };
        let mut r = AdTestReport {
            checks: vec![check(CheckOutcome::Ok), check(CheckOutcome::Warning)],
        };
        assert!(r.ok());
        r.checks.push(check(CheckOutcome::Failed));
        assert!(!r.ok());
    }
}
