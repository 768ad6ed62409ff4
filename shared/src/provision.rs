//! Applying a profile to a device (a reprovision run) and self-service reprovision requests, as
//! the browser sees them: the ordered steps of a run with their outcomes, the runs list, and a
//! request's life (pending → approved/running → done/failed, or denied with the approver's comment).

use serde::{Deserialize, Serialize};

/// One step of an apply run, in the order they run. Every step is safe to repeat, so "Retry"
/// simply runs them all again from the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StepKind {
    /// The device is registered and has a profile; the profile is valid.
    CheckProfile,
    /// The portal reaches the device as an administrator (stored Digest admin account, else the
    /// acting administrator's own Kerberos identity).
    ReachDevice,
    /// The device's computer object in AD: created or updated, SPNs, fresh random password.
    AdObject,
    /// The object read back on every domain controller (catches the "bindless update").
    AdCheckDcs,
    /// The device's Kerberos settings: realm, key derived from the new password, tolerance.
    KerberosSettings,
    /// The profile's Kerberos ACL entries on the device.
    AclEntries,
    /// Redirection (SOL, storage) and user-consent settings.
    Redirection,
    /// The device clock set to the portal's.
    Clock,
    /// A Kerberos call to the device as a test user proves the new key and ACL work.
    Prove,
}

impl StepKind {
    /// Every step, in the order a run takes them.
    pub const ALL: [StepKind; 9] = [
        StepKind::CheckProfile,
        StepKind::ReachDevice,
        StepKind::AdObject,
        StepKind::AdCheckDcs,
        StepKind::KerberosSettings,
        StepKind::AclEntries,
        StepKind::Redirection,
        StepKind::Clock,
        StepKind::Prove,
    ];

    /// The steps a key rotation runs (no ACL, redirection or consent changes).
    pub const KEY_ROTATION: [StepKind; 7] = [
        StepKind::CheckProfile,
        StepKind::ReachDevice,
        StepKind::AdObject,
        StepKind::AdCheckDcs,
        StepKind::KerberosSettings,
        StepKind::Clock,
        StepKind::Prove,
    ];

    /// Stable id (database, element ids).
    pub fn id(self) -> &'static str {
        match self {
            StepKind::CheckProfile => "check_profile",
            StepKind::ReachDevice => "reach_device",
            StepKind::AdObject => "ad_object",
            StepKind::AdCheckDcs => "ad_check_dcs",
            StepKind::KerberosSettings => "kerberos_settings",
            StepKind::AclEntries => "acl_entries",
            StepKind::Redirection => "redirection",
            StepKind::Clock => "clock",
            StepKind::Prove => "prove",
        }
    }

    /// The step for an id.
    pub fn from_id(id: &str) -> Option<StepKind> {
        StepKind::ALL.into_iter().find(|s| s.id() == id)
    }

    /// What the step does, in a few plain words.
    pub fn title(self) -> &'static str {
        match self {
            StepKind::CheckProfile => "Check the device and its profile",
            StepKind::ReachDevice => "Reach the device as an administrator",
            StepKind::AdObject => "Create or update the device's computer object in Active Directory",
            StepKind::AdCheckDcs => "Check the computer object on every domain controller",
            StepKind::KerberosSettings => "Write the device's Kerberos settings and key",
            StepKind::AclEntries => "Write the profile's access list to the device",
            StepKind::Redirection => "Set redirection and user consent",
            StepKind::Clock => "Synchronize the device clock",
            StepKind::Prove => "Prove it: a Kerberos call to the device",
        }
    }
}

/// How one step of a run ended (or that it has not yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepOutcome {
    /// Not started yet.
    Pending,
    /// Under way.
    Running,
    /// Done.
    Done,
    /// Failed: the run stopped here.
    Failed,
    /// Not run because an earlier step failed.
    NotRun,
}

impl StepOutcome {
    /// Stable id (database, `data-outcome`).
    pub fn id(self) -> &'static str {
        match self {
            StepOutcome::Pending => "pending",
            StepOutcome::Running => "running",
            StepOutcome::Done => "done",
            StepOutcome::Failed => "failed",
            StepOutcome::NotRun => "not_run",
        }
    }

    /// The outcome for an id.
    pub fn from_id(id: &str) -> Option<StepOutcome> {
        [
            StepOutcome::Pending,
            StepOutcome::Running,
            StepOutcome::Done,
            StepOutcome::Failed,
            StepOutcome::NotRun,
        ]
        .into_iter()
        .find(|o| o.id() == id)
    }

    /// Plain words.
    pub fn label(self) -> &'static str {
        match self {
            StepOutcome::Pending => "waiting",
            StepOutcome::Running => "running…",
            StepOutcome::Done => "done",
            StepOutcome::Failed => "failed",
            StepOutcome::NotRun => "not run",
        }
    }
}

/// Where a whole run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunState {
    /// Waiting for a free slot (runs for many devices go a few at a time).
    Queued,
    /// Steps are running.
    Running,
    /// Every step done.
    Done,
    /// A step failed; the record says what was and was not changed.
    Failed,
}

impl RunState {
    /// Stable id.
    pub fn id(self) -> &'static str {
        match self {
            RunState::Queued => "queued",
            RunState::Running => "running",
            RunState::Done => "done",
            RunState::Failed => "failed",
        }
    }

    /// The state for an id.
    pub fn from_id(id: &str) -> Option<RunState> {
        [RunState::Queued, RunState::Running, RunState::Done, RunState::Failed]
            .into_iter()
            .find(|s| s.id() == id)
    }

    /// Whether the run has ended.
    pub fn finished(self) -> bool {
        matches!(self, RunState::Done | RunState::Failed)
    }
}

/// One step as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepView {
    pub step: StepKind,
    pub title: String,
    pub outcome: StepOutcome,
    /// Whether the step changed something (on the device or in AD).
    pub changed: bool,
    /// What happened, in a sentence (never a password or key).
    pub message: String,
}

/// One run as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunView {
    pub id: i64,
    pub device_id: i64,
    pub fqdn: String,
    pub profile_name: String,
    /// Who started it (the administrator, or the approver of a request).
    pub actor: String,
    /// `apply` or `rotate`.
    pub kind: String,
    /// The request it carries out, if any.
    pub request_id: Option<i64>,
    pub state: RunState,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// The end in a sentence: what changed, where it stopped, what was not run.
    pub summary: String,
    pub steps: Vec<StepView>,
}

/// Where a self-service request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestState {
    /// Waiting for an approver.
    Pending,
    /// Denied, with the approver's comment.
    Denied,
    /// Approved: the apply run is under way.
    Running,
    /// The apply run finished.
    Done,
    /// The apply run failed.
    Failed,
}

impl RequestState {
    /// Stable id.
    pub fn id(self) -> &'static str {
        match self {
            RequestState::Pending => "pending",
            RequestState::Denied => "denied",
            RequestState::Running => "running",
            RequestState::Done => "done",
            RequestState::Failed => "failed",
        }
    }

    /// The state for an id.
    pub fn from_id(id: &str) -> Option<RequestState> {
        [
            RequestState::Pending,
            RequestState::Denied,
            RequestState::Running,
            RequestState::Done,
            RequestState::Failed,
        ]
        .into_iter()
        .find(|s| s.id() == id)
    }

    /// Plain words for the requester.
    pub fn label(self) -> &'static str {
        match self {
            RequestState::Pending => "waiting for approval",
            RequestState::Denied => "denied",
            RequestState::Running => "approved, reprovisioning",
            RequestState::Done => "done",
            RequestState::Failed => "approved, but reprovisioning failed",
        }
    }
}

/// A self-service reprovision request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestView {
    pub id: i64,
    pub device_id: i64,
    pub fqdn: String,
    /// Whose device use it is for (`bob@EXAMPLE.TEST`).
    pub requester: String,
    /// Who typed it, when a helpdesk member asked on the requester's behalf.
    pub on_behalf_by: Option<String>,
    pub reason: String,
    pub state: RequestState,
    pub created_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    /// The approver's comment (always given with a denial).
    pub comment: Option<String>,
    /// The apply run started by the approval.
    pub run_id: Option<i64>,
}

/// What the requests page shows a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestsPage {
    /// The user's own requests (and those a helpdesk member made for others), newest first.
    pub mine: Vec<RequestView>,
    /// Pending requests to decide, for approvers (empty for others).
    pub pending: Vec<RequestView>,
    /// Whether the user approves requests.
    pub is_approver: bool,
    /// Whether the user may request on behalf of others.
    pub is_helpdesk: bool,
}

/// A new request as the form sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRequest {
    pub device_id: i64,
    pub reason: String,
    /// The user it is for (helpdesk members only); empty for oneself.
    #[serde(default)]
    pub on_behalf_of: String,
}

/// What "Apply the profile" started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyReport {
    /// The runs started, one per device.
    pub runs: Vec<i64>,
    /// Per device that could not start, why.
    pub refused: Vec<String>,
}

/// The provisioning part of a device page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceProvisioning {
    /// Whether the user may apply the profile (administrators).
    pub can_apply: bool,
    /// The device's latest runs, newest first (administrators and approvers; else empty).
    pub runs: Vec<RunView>,
    /// The device's requests (all for administrators and approvers, else the user's own).
    pub requests: Vec<RequestView>,
    /// Whether the user may request on behalf of another user (helpdesk).
    pub is_helpdesk: bool,
}

/// The longest reason or comment kept, in characters.
pub const MAX_REQUEST_TEXT: usize = 500;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for s in StepKind::ALL {
            assert_eq!(StepKind::from_id(s.id()), Some(s));
        }
        for s in [RequestState::Pending, RequestState::Denied, RequestState::Done] {
            assert_eq!(RequestState::from_id(s.id()), Some(s));
        }
        assert_eq!(RunState::from_id("failed"), Some(RunState::Failed));
        assert_eq!(StepOutcome::from_id("not_run"), Some(StepOutcome::NotRun));
        assert!(StepKind::from_id("drop table").is_none());
        assert!(StepKind::KEY_ROTATION.iter().all(|s| StepKind::ALL.contains(s)));
    }
}
