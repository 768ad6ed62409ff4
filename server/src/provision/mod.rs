//! Applying a profile to devices (reprovision runs) and self-service reprovision requests.
//!
//! - [`record`]: the run record in SQLite, step by step.
//! - [`engine`]: runs the steps in order, records and audits each, stops at the first failure.
//! - [`live`]: the live steps (registry, profile, device, AD); [`deps`]: the seam to the
//!   profile store, the AD module and the device-side provisioning calls.
//! - [`requests`]: requests, approval and denial.
//! - [`rotation`]: which devices' keys are due, and the schedule.
//!
//! Runs start in the background and go a few at a time ([`MAX_CONCURRENT_RUNS`]); one device
//! never has two runs at once. The browser polls a run's record to show progress.

pub mod deps;
pub mod engine;
pub mod live;
pub mod record;
pub mod requests;
pub mod rotation;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use shared::provision::{NewRequest, RequestState, RequestsPage, RunState, RunView, StepKind};
use tokio::sync::Semaphore;

use crate::AppState;
use crate::auth::SessionUser;

/// Runs going at once, all devices together.
pub const MAX_CONCURRENT_RUNS: usize = 8;

/// Longest time one step may take before the run stops there.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(120);

/// Most devices one "apply" click takes.
pub const MAX_DEVICES_PER_APPLY: usize = 1000;

/// The runs under way: a bound on how many at once, and which devices are busy.
pub struct Runner {
    permits: Arc<Semaphore>,
    busy: Mutex<HashSet<i64>>,
}

impl Default for Runner {
    fn default() -> Self {
        Runner {
            permits: Arc::new(Semaphore::new(MAX_CONCURRENT_RUNS)),
            busy: Mutex::new(HashSet::new()),
        }
    }
}

impl Runner {
    fn claim(&self, device_id: i64) -> bool {
        self.busy.lock().unwrap_or_else(|p| p.into_inner()).insert(device_id)
    }

    fn release(&self, device_id: i64) {
        self.busy.lock().unwrap_or_else(|p| p.into_inner()).remove(&device_id);
    }
}

/// What starts a run.
#[derive(Clone)]
pub enum Starter {
    /// An administrator (or the approver of a request), acting as themselves.
    User(Box<SessionUser>),
    /// The key-rotation schedule.
    Schedule,
}

impl Starter {
    fn principal(&self) -> String {
        match self {
            Starter::User(u) => u.principal.clone(),
            Starter::Schedule => "portal (scheduled key rotation)".into(),
        }
    }
}

impl AppState {
    /// Starts a run of `kind` (`apply` or `rotate`) on device `device_id` in the background;
    /// returns its id at once. Refused while the device already has a run under way.
    pub async fn start_run(
        &self,
        starter: Starter,
        device_id: i64,
        kind: &'static str,
        request_id: Option<i64>,
    ) -> Result<i64, String> {
        let device = crate::registry::get(&self.pool, device_id)
            .await
            .map_err(|e| format!("the device registry could not be read: {e}"))?
            .ok_or_else(|| format!("there is no device number {device_id} in the registry"))?;
        if !self.provision.claim(device_id) {
            return Err(format!(
                "{} already has a provisioning run under way: wait for it to end (its steps are shown on the device page)",
                device.fqdn
            ));
        }
        let steps: &'static [StepKind] = if kind == "rotate" {
            &StepKind::KEY_ROTATION
        } else {
            &StepKind::ALL
        };
        let actor = starter.principal();
        let run_id = match record::create(
            &self.pool,
            &record::NewRun {
                device_id,
                profile_id: None,
                profile_name: "",
                actor: &actor,
                kind,
                request_id,
                steps,
            },
        )
        .await
        {
            Ok(id) => id,
            Err(e) => {
                self.provision.release(device_id);
                return Err(e);
            }
        };
        let state = self.clone();
        tokio::spawn(async move {
            let _permit = state.provision.permits.clone().acquire_owned().await;
            let user = match &starter {
                Starter::User(u) => Some((**u).clone()),
                Starter::Schedule => None,
            };
            let mut ops = live::LiveSteps::new(state.clone(), run_id, device_id, user);
            let ctx = engine::RunContext {
                run_id,
                actor,
                fqdn: device.fqdn.clone(),
                kind: kind.to_string(),
            };
            let end = engine::execute(&state.pool, &ctx, steps, &mut ops, STEP_TIMEOUT).await;
            drop(ops);
            state.provision.release(device_id);
            if let Some(req) = request_id {
                let s = if end == RunState::Done {
                    RequestState::Done
                } else {
                    RequestState::Failed
                };
                if let Err(e) = requests::set_state(&state.pool, req, s).await {
                    tracing::error!(error = %e, request = req, "request state not updated");
                }
            }
        });
        Ok(run_id)
    }

    /// Applies each device's profile to `ids` (administrators only); returns the runs started
    /// and, per device that could not start, why.
    pub async fn apply_profiles(&self, user: &SessionUser, ids: Vec<i64>) -> Result<(Vec<i64>, Vec<String>), String> {
        if !self.is_admin(user).await {
            return Err(self.not_admin());
        }
        let mut seen = HashSet::new();
        let ids: Vec<i64> = ids.into_iter().filter(|id| seen.insert(*id)).collect();
        if ids.is_empty() {
            return Err("select at least one device".into());
        }
        if ids.len() > MAX_DEVICES_PER_APPLY {
            return Err(format!(
                "{} devices selected: one apply takes at most {MAX_DEVICES_PER_APPLY}",
                ids.len()
            ));
        }
        let (mut started, mut refused) = (Vec::new(), Vec::new());
        for id in ids {
            match self
                .start_run(Starter::User(Box::new(user.clone())), id, "apply", None)
                .await
            {
                Ok(run) => started.push(run),
                Err(e) => refused.push(e),
            }
        }
        Ok((started, refused))
    }

    /// Runs a failed run again from the start (administrators only): a new run, same device,
    /// kind and request. Every step is idempotent.
    pub async fn retry_run(&self, user: &SessionUser, run_id: i64) -> Result<i64, String> {
        if !self.is_admin(user).await {
            return Err(self.not_admin());
        }
        let run = record::get(&self.pool, run_id)
            .await?
            .ok_or_else(|| format!("there is no provisioning run number {run_id}"))?;
        if !run.state.finished() {
            return Err(format!("run {run_id} is still under way: wait for it to end"));
        }
        let kind = if run.kind == "rotate" { "rotate" } else { "apply" };
        let new = self
            .start_run(
                Starter::User(Box::new(user.clone())),
                run.device_id,
                kind,
                run.request_id,
            )
            .await?;
        if let Some(req) = run.request_id {
            requests::set_run(&self.pool, req, new).await?;
            requests::set_state(&self.pool, req, RequestState::Running).await?;
        }
        Ok(new)
    }

    /// Whether `user` may read run records (administrators and approvers).
    async fn may_read_runs(&self, user: &SessionUser) -> bool {
        self.is_admin(user).await || self.is_approver(user).await
    }

    /// One run's record: for administrators, approvers, and the requester of the run's request.
    pub async fn run_view(&self, user: &SessionUser, run_id: i64) -> Result<RunView, String> {
        let run = record::get(&self.pool, run_id)
            .await?
            .ok_or_else(|| format!("there is no provisioning run number {run_id}"))?;
        if self.may_read_runs(user).await {
            return Ok(run);
        }
        if let Some(req) = run.request_id
            && let Some(r) = requests::get(&self.pool, req).await?
            && (r.requester.eq_ignore_ascii_case(&user.principal)
                || r.on_behalf_by
                    .as_deref()
                    .is_some_and(|b| b.eq_ignore_ascii_case(&user.principal)))
        {
            return Ok(run);
        }
        Err(
            "only AMT administrators and approvers see provisioning runs (and requesters the run of their request)"
                .into(),
        )
    }

    /// The latest runs (of one device, or all), for administrators and approvers.
    pub async fn runs(&self, user: &SessionUser, device_id: Option<i64>) -> Result<Vec<RunView>, String> {
        if !self.may_read_runs(user).await {
            return Err("only AMT administrators and approvers see provisioning runs".into());
        }
        record::latest(&self.pool, device_id, 50).await
    }

    /// Whether `user` approves reprovision requests: a member of the AD settings' approver
    /// groups or of `PORTAL_APPROVER_GROUPS`.
    pub async fn is_approver(&self, user: &SessionUser) -> bool {
        let mut groups = self.config.approver_groups.clone();
        match deps::ad_settings(self).await {
            Ok(s) => groups.extend(s.approver_groups),
            Err(e) => {
                tracing::debug!(error = %e, "AD settings unavailable: approvers from PORTAL_APPROVER_GROUPS only")
            }
        }
        !groups.is_empty() && self.member_of_any(user, &groups).await
    }

    async fn request_actor(&self, user: &SessionUser) -> (bool, bool) {
        let approver = self.is_approver(user).await;
        let helpdesk = self.member_of_any(user, &self.config.helpdesk_groups).await;
        (approver, helpdesk)
    }

    /// Files a reprovision request, audited.
    pub async fn request_reprovision(&self, user: &SessionUser, form: NewRequest) -> Result<String, String> {
        let (approver, helpdesk) = self.request_actor(user).await;
        let actor = requests::Actor {
            principal: &user.principal,
            approver,
            helpdesk,
        };
        let device = crate::registry::get(&self.pool, form.device_id)
            .await
            .map_err(|e| format!("the device registry could not be read: {e}"))?
            .ok_or_else(|| format!("there is no device number {} in the registry", form.device_id))?;
        let has_profile = deps::profile_for_device(self, device.id).await.map(|p| p.is_some());
        let checked = requests::check_new(&actor, &form, has_profile);
        let (requester, by, reason) = match checked {
            Ok(x) => x,
            Err(e) => {
                crate::audit::record(
                    &self.pool,
                    Some(&user.principal),
                    "reprovision request: file",
                    Some(&device.fqdn),
                    "refused",
                    Some(&e),
                )
                .await;
                return Err(e);
            }
        };
        let id = requests::insert(&self.pool, device.id, &requester, by.as_deref(), &reason).await?;
        let detail = match &by {
            Some(b) => format!("request {id} for {requester}, filed by {b}: {reason}"),
            None => format!("request {id}: {reason}"),
        };
        crate::audit::record(
            &self.pool,
            Some(&user.principal),
            "reprovision request: file",
            Some(&device.fqdn),
            "ok",
            Some(&detail),
        )
        .await;
        Ok(format!(
            "Request {id} to reprovision {} is filed for {requester}: an approver will decide it; its state is under \"My requests\".",
            device.fqdn
        ))
    }

    /// Approves (starting the apply run as the approver) or denies a request, audited.
    pub async fn decide_request(
        &self,
        user: &SessionUser,
        id: i64,
        approve: bool,
        comment: String,
    ) -> Result<String, String> {
        let (approver, helpdesk) = self.request_actor(user).await;
        let actor = requests::Actor {
            principal: &user.principal,
            approver,
            helpdesk,
        };
        let r = requests::get(&self.pool, id)
            .await?
            .ok_or_else(|| format!("there is no reprovision request number {id}"))?;
        let decision = if approve {
            requests::Decision::Approve
        } else {
            requests::Decision::Deny
        };
        let what = if approve {
            "reprovision request: approve"
        } else {
            "reprovision request: deny"
        };
        let new_state = match requests::decide(&r, &actor, decision, &comment) {
            Ok(s) => s,
            Err(e) => {
                crate::audit::record(
                    &self.pool,
                    Some(&user.principal),
                    what,
                    Some(&r.fqdn),
                    "refused",
                    Some(&e),
                )
                .await;
                return Err(e);
            }
        };
        if !requests::record_decision(&self.pool, id, new_state, &user.principal, &comment).await? {
            return Err(format!(
                "request {id} was decided by someone else a moment ago: reload the page"
            ));
        }
        let detail = format!("request {id} of {}: {}", r.requester, comment.trim());
        crate::audit::record(
            &self.pool,
            Some(&user.principal),
            what,
            Some(&r.fqdn),
            "ok",
            Some(&detail),
        )
        .await;
        if !approve {
            return Ok(format!("Request {id} is denied; {} sees your comment.", r.requester));
        }
        match self
            .start_run(Starter::User(Box::new(user.clone())), r.device_id, "apply", Some(id))
            .await
        {
            Ok(run) => {
                requests::set_run(&self.pool, id, run).await?;
                Ok(format!(
                    "Request {id} is approved: run {run} applies the profile to {} as you.",
                    r.fqdn
                ))
            }
            Err(e) => {
                requests::set_state(&self.pool, id, RequestState::Failed).await?;
                crate::audit::record(
                    &self.pool,
                    Some(&user.principal),
                    "reprovision request: start run",
                    Some(&r.fqdn),
                    "failed",
                    Some(&e),
                )
                .await;
                Err(format!("Request {id} is approved but its run could not start: {e}"))
            }
        }
    }

    /// The requests page for `user`: their requests, and the pending ones for approvers.
    pub async fn requests_page(&self, user: &SessionUser) -> Result<RequestsPage, String> {
        let (is_approver, is_helpdesk) = self.request_actor(user).await;
        let mine = requests::list(&self.pool, Some(&user.principal), None, None).await?;
        let pending = if is_approver {
            requests::list(&self.pool, None, None, Some(RequestState::Pending)).await?
        } else {
            Vec::new()
        };
        Ok(RequestsPage {
            mine,
            pending,
            is_approver,
            is_helpdesk,
        })
    }

    /// A device's requests: all of them for administrators and approvers, else the user's own.
    pub async fn device_requests(
        &self,
        user: &SessionUser,
        device_id: i64,
    ) -> Result<Vec<shared::provision::RequestView>, String> {
        let all = self.may_read_runs(user).await;
        requests::list(
            &self.pool,
            (!all).then_some(user.principal.as_str()),
            Some(device_id),
            None,
        )
        .await
    }

    /// The provisioning part of device `id`'s page for `user`.
    pub async fn device_provisioning_view(
        &self,
        user: &SessionUser,
        id: i64,
    ) -> Result<shared::provision::DeviceProvisioning, String> {
        let runs = if self.may_read_runs(user).await {
            record::latest(&self.pool, Some(id), 10).await?
        } else {
            Vec::new()
        };
        Ok(shared::provision::DeviceProvisioning {
            can_apply: self.is_admin(user).await,
            runs,
            requests: self.device_requests(user, id).await?,
            is_helpdesk: self.request_actor(user).await.1,
        })
    }

    /// Starts key-rotation runs for the devices whose key is older than the rotation period.
    pub async fn rotate_due_keys(&self) -> Result<usize, String> {
        let period = rotation::period_days(self.config.key_rotation_days, None);
        let due = rotation::due(
            &record::last_key_set(&self.pool).await?,
            time::OffsetDateTime::now_utc(),
            period,
        );
        let mut started = 0;
        for id in due {
            match self.start_run(Starter::Schedule, id, "rotate", None).await {
                Ok(_) => started += 1,
                Err(e) => tracing::warn!(device = id, error = %e, "key rotation not started"),
            }
        }
        Ok(started)
    }
}

/// Closes runs a stopped portal left open, then looks for keys due every hour.
pub fn spawn_schedule(state: AppState) {
    tokio::spawn(async move {
        match record::close_interrupted(&state.pool).await {
            Ok(n) if n > 0 => tracing::warn!(runs = n, "provisioning runs interrupted by a restart marked failed"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "interrupted provisioning runs not closed"),
        }
        let mut tick = tokio::time::interval(rotation::CHECK_EVERY);
        loop {
            tick.tick().await;
            match state.rotate_due_keys().await {
                Ok(n) if n > 0 => tracing::info!(devices = n, "key rotation started"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "key rotation check failed"),
            }
        }
    });
}
