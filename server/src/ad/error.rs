//! The error of an AD operation: the step that failed, what had already been done (so nothing
//! half-done is hidden), and a sentence saying what went wrong and what to do.

/// The steps of AD operations, as people read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdStep {
    /// Reading or checking the AD settings.
    Settings,
    /// Reaching a domain controller.
    Connect,
    /// Signing in to the directory.
    Bind,
    /// Looking for the device's object in the domain.
    Find,
    /// Creating the computer object.
    Create,
    /// Updating the computer object's attributes.
    Update,
    /// Setting the object's new password.
    SetPassword,
    /// Reading the object back.
    ReadBack,
}

impl AdStep {
    /// The step's name in messages.
    pub fn label(self) -> &'static str {
        match self {
            AdStep::Settings => "AD settings",
            AdStep::Connect => "reaching the domain controller",
            AdStep::Bind => "signing in to the directory",
            AdStep::Find => "looking for the device's AD object",
            AdStep::Create => "creating the computer object",
            AdStep::Update => "updating the computer object",
            AdStep::SetPassword => "setting the computer object's password",
            AdStep::ReadBack => "reading the computer object back",
        }
    }
}

/// An AD operation that did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdError {
    /// The step that failed.
    pub step: AdStep,
    /// What went wrong and what to do.
    pub message: String,
    /// What had already been changed in the directory before the failure (empty: nothing).
    pub done: Vec<String>,
}

impl AdError {
    /// A failure at `step` with nothing changed.
    pub fn new(step: AdStep, message: impl Into<String>) -> AdError {
        AdError {
            step,
            message: message.into(),
            done: Vec::new(),
        }
    }

    /// The same failure, saying what had already been changed.
    pub fn after(mut self, done: impl Into<String>) -> AdError {
        self.done.push(done.into());
        self
    }
}

impl std::fmt::Display for AdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} failed: {}", self.step.label(), self.message)?;
        if !self.done.is_empty() {
            write!(f, " (already done: {})", self.done.join("; "))?;
        }
        Ok(())
    }
}

impl std::error::Error for AdError {}

/// The LDAP result code and diagnostic text of an ldap3 error, when the server answered.
pub fn ldap_rc(e: &ldap3::LdapError) -> Option<(u32, String)> {
    match e {
        ldap3::LdapError::LdapResult { result } => Some((result.rc, result.text.clone())),
        _ => None,
    }
}

/// RFC 4511 names of the result codes AD returns to provisioning.
pub fn rc_name(rc: u32) -> &'static str {
    match rc {
        8 => "strongerAuthRequired",
        13 => "confidentialityRequired",
        19 => "constraintViolation",
        21 => "invalidAttributeSyntax",
        32 => "noSuchObject",
        34 => "invalidDNSyntax",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        53 => "unwillingToPerform",
        64 => "namingViolation",
        65 => "objectClassViolation",
        68 => "entryAlreadyExists",
        _ => "LDAP error",
    }
}

/// `insufficientAccessRights (50): <server text>` for messages (the server's text trimmed).
pub fn describe(e: &ldap3::LdapError) -> String {
    match ldap_rc(e) {
        Some((rc, text)) if text.trim().is_empty() => format!("{} ({rc})", rc_name(rc)),
        Some((rc, text)) => format!("{} ({rc}): {}", rc_name(rc), text.trim()),
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_step_and_what_was_done() {
        let e = AdError::new(AdStep::SetPassword, "insufficientAccessRights (50)")
            .after("CN=amt1,OU=AMT,DC=example,DC=test created");
        assert_eq!(
            e.to_string(),
            "setting the computer object's password failed: insufficientAccessRights (50) (already done: CN=amt1,OU=AMT,DC=example,DC=test created)"
        );
    }
}
