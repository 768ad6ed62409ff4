//! The step engine: runs a run's steps in order, recording each as it happens (running, then
//! done or failed with its sentence and whether it changed something), audits the start, every
//! change and the end, and stops at the first failure: later steps are marked "not run" and the
//! summary says what was changed, where it stopped and what was not run. Nothing is hidden.
//!
//! The engine knows nothing of AMT or AD: a [`StepOps`] does each step (the live one is
//! [`super::live`]; tests use their own), so the record-keeping is tested on its own.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use shared::provision::{RunState, StepKind, StepOutcome};
use sqlx::SqlitePool;

use super::record;

/// A boxed future (the trait must be object-safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How one step ended, as its doer says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepResult {
    /// Whether the step did what it should.
    pub ok: bool,
    /// Whether it changed something (on the device or in AD), even when it failed part way.
    pub changed: bool,
    /// What happened, in a sentence for a helpdesk engineer. Never a password or key.
    pub message: String,
}

impl StepResult {
    /// The step did its job.
    pub fn done(changed: bool, message: impl Into<String>) -> Self {
        StepResult {
            ok: true,
            changed,
            message: message.into(),
        }
    }

    /// The step failed; `changed` says whether it changed something before failing.
    pub fn failed(changed: bool, message: impl Into<String>) -> Self {
        StepResult {
            ok: false,
            changed,
            message: message.into(),
        }
    }
}

/// Does the steps of one run. Steps run in order on the same value, so a step may keep what a
/// later step needs (the device client, the new password) in memory.
pub trait StepOps: Send {
    /// Does `step`.
    fn run(&mut self, step: StepKind) -> BoxFuture<'_, StepResult>;
}

/// Who runs what, for the audit log.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// The run's id.
    pub run_id: i64,
    /// The acting principal.
    pub actor: String,
    /// The device's FQDN.
    pub fqdn: String,
    /// `apply` or `rotate`.
    pub kind: String,
}

/// A step's recorded end, for the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    /// The step.
    pub step: StepKind,
    /// Its outcome.
    pub outcome: StepOutcome,
    /// Whether it changed something.
    pub changed: bool,
    /// Its sentence.
    pub message: String,
}

/// The run's end in a sentence: what was changed, where it stopped and why, what was not run.
pub fn summarize(ended: &[Ended]) -> String {
    let changed: Vec<&str> = ended.iter().filter(|e| e.changed).map(|e| e.step.title()).collect();
    let changed = if changed.is_empty() {
        "nothing was changed".to_string()
    } else {
        format!("changed: {}", changed.join("; "))
    };
    match ended.iter().find(|e| e.outcome == StepOutcome::Failed) {
        None => format!("Every step is done ({changed})."),
        Some(f) => {
            let not_run: Vec<&str> = ended
                .iter()
                .filter(|e| e.outcome == StepOutcome::NotRun)
                .map(|e| e.step.title())
                .collect();
            let not_run = if not_run.is_empty() {
                String::new()
            } else {
                format!(" Not run: {}.", not_run.join("; "))
            };
            format!(
                "Stopped at \"{}\": {} Before it stopped, {changed}.{not_run} Retry runs every step again from the start; each is safe to repeat.",
                f.step.title(),
                f.message
            )
        }
    }
}

/// Runs `steps` of run `ctx.run_id` with `ops`, each bounded by `step_timeout`, recording
/// everything; returns the run's final state.
pub async fn execute(
    pool: &SqlitePool,
    ctx: &RunContext,
    steps: &[StepKind],
    ops: &mut dyn StepOps,
    step_timeout: Duration,
) -> RunState {
    let audit_target = Some(ctx.fqdn.as_str());
    let what = |s: &str| format!("provision {}: {s}", ctx.kind);
    crate::audit::record(
        pool,
        Some(&ctx.actor),
        &what("start"),
        audit_target,
        "ok",
        Some(&format!("run {}", ctx.run_id)),
    )
    .await;
    let record_failed = |e: String| tracing::error!(run = ctx.run_id, error = %e, "provisioning record not written");
    if let Err(e) = record::set_state(pool, ctx.run_id, RunState::Running, "").await {
        record_failed(e);
    }
    let mut ended: Vec<Ended> = Vec::with_capacity(steps.len());
    let mut failed_at = None;
    for (i, step) in steps.iter().copied().enumerate() {
        if let Err(e) = record::set_step(pool, ctx.run_id, i, StepOutcome::Running, false, "").await {
            record_failed(e);
        }
        let result = match tokio::time::timeout(step_timeout, ops.run(step)).await {
            Ok(r) => r,
            Err(_) => StepResult::failed(
                false,
                format!(
                    "it did not finish within {} seconds (the device or the directory stopped answering); whether it changed something is unknown: retry, and check the device if it fails again",
                    step_timeout.as_secs()
                ),
            ),
        };
        let outcome = if result.ok {
            StepOutcome::Done
        } else {
            StepOutcome::Failed
        };
        if let Err(e) = record::set_step(pool, ctx.run_id, i, outcome, result.changed, &result.message).await {
            record_failed(e);
        }
        if result.changed || !result.ok {
            crate::audit::record(
                pool,
                Some(&ctx.actor),
                &what(step.title()),
                audit_target,
                if result.ok { "ok" } else { "failed" },
                Some(&result.message),
            )
            .await;
        }
        tracing::info!(run = ctx.run_id, device.fqdn = %ctx.fqdn, step = step.id(), ok = result.ok, changed = result.changed, "provisioning step");
        ended.push(Ended {
            step,
            outcome,
            changed: result.changed,
            message: result.message,
        });
        if !result.ok {
            failed_at = Some(i);
            break;
        }
    }
    if let Some(i) = failed_at {
        let why = format!("not run: \"{}\" failed before it", steps[i].title());
        if let Err(e) = record::not_run_from(pool, ctx.run_id, i + 1, &why).await {
            record_failed(e);
        }
        for step in &steps[i + 1..] {
            ended.push(Ended {
                step: *step,
                outcome: StepOutcome::NotRun,
                changed: false,
                message: why.clone(),
            });
        }
    }
    let state = if failed_at.is_some() {
        RunState::Failed
    } else {
        RunState::Done
    };
    let summary = summarize(&ended);
    if let Err(e) = record::set_state(pool, ctx.run_id, state, &summary).await {
        record_failed(e);
    }
    crate::audit::record(
        pool,
        Some(&ctx.actor),
        &what("end"),
        audit_target,
        if failed_at.is_some() { "failed" } else { "ok" },
        Some(&summary),
    )
    .await;
    state
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Does each step as told: ok, failed (with or without a change), or hangs.
    struct Scripted {
        plan: HashMap<StepKind, &'static str>,
        ran: Vec<StepKind>,
    }

    impl StepOps for Scripted {
        fn run(&mut self, step: StepKind) -> BoxFuture<'_, StepResult> {
            self.ran.push(step);
            let what = self.plan.get(&step).copied().unwrap_or("ok");
            Box::pin(async move {
                match what {
                    "hang" => {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        StepResult::done(false, "never")
                    }
                    "fail" => StepResult::failed(false, "the device answered 500"),
                    "fail-changed" => StepResult::failed(true, "3 of 5 entries written, then the device answered 500"),
                    _ => StepResult::done(step != StepKind::CheckProfile, format!("{} ok", step.id())),
                }
            })
        }
    }

    async fn setup(name: &str) -> (SqlitePool, i64) {
        let dir = std::env::temp_dir().join(format!("provision-engine-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let pool = crate::db::open(&dir.join("p.sqlite")).await.unwrap();
        crate::registry::import_csv(&pool, "fqdn\namt1.example.test\n")
            .await
            .unwrap();
        let run = record::create(
            &pool,
            &record::NewRun {
                device_id: 1,
                profile_id: Some(7),
                profile_name: "Lab",
                actor: "alice@EXAMPLE.TEST",
                kind: "apply",
                request_id: None,
                steps: &StepKind::ALL,
            },
        )
        .await
        .unwrap();
        (pool, run)
    }

    fn ctx(run_id: i64) -> RunContext {
        RunContext {
            run_id,
            actor: "alice@EXAMPLE.TEST".into(),
            fqdn: "amt1.example.test".into(),
            kind: "apply".into(),
        }
    }

    #[tokio::test]
    async fn a_new_run_is_queued_with_every_step_pending() {
        let (pool, run) = setup("new").await;
        let v = record::get(&pool, run).await.unwrap().unwrap();
        assert_eq!(
            (v.state, v.fqdn.as_str(), v.profile_name.as_str()),
            (RunState::Queued, "amt1.example.test", "Lab")
        );
        assert_eq!(v.steps.len(), StepKind::ALL.len());
        assert!(v.steps.iter().all(|s| s.outcome == StepOutcome::Pending));
    }

    #[tokio::test]
    async fn every_step_done_is_recorded_and_audited() {
        let (pool, run) = setup("ok").await;
        let mut ops = Scripted {
            plan: HashMap::new(),
            ran: vec![],
        };
        let state = execute(&pool, &ctx(run), &StepKind::ALL, &mut ops, Duration::from_secs(5)).await;
        assert_eq!(state, RunState::Done);
        assert_eq!(ops.ran, StepKind::ALL.to_vec());
        let v = record::get(&pool, run).await.unwrap().unwrap();
        assert_eq!(v.state, RunState::Done);
        assert!(v.finished_at.is_some());
        assert!(v.steps.iter().all(|s| s.outcome == StepOutcome::Done));
        assert_eq!(v.steps[5].message, "acl_entries ok");
        assert!(v.summary.starts_with("Every step is done"), "{}", v.summary);
        let audit = crate::audit::latest(&pool, 100).await.unwrap();
        assert!(audit.iter().any(|e| e.action == "provision apply: start"));
        assert!(
            audit
                .iter()
                .any(|e| e.action == "provision apply: end" && e.result == "ok")
        );
        // The check changes nothing and is not audited as a change; the eight others are.
        assert_eq!(
            audit
                .iter()
                .filter(|e| e.action.starts_with("provision apply: ")
                    && !e.action.ends_with(": start")
                    && !e.action.ends_with(": end"))
                .count(),
            8
        );
    }

    #[tokio::test]
    async fn a_failing_step_stops_the_run_and_later_steps_are_marked_not_run() {
        let (pool, run) = setup("fail").await;
        let mut ops = Scripted {
            plan: HashMap::from([(StepKind::AclEntries, "fail-changed")]),
            ran: vec![],
        };
        let state = execute(&pool, &ctx(run), &StepKind::ALL, &mut ops, Duration::from_secs(5)).await;
        assert_eq!(state, RunState::Failed);
        assert_eq!(
            ops.ran.last(),
            Some(&StepKind::AclEntries),
            "nothing after the failure ran"
        );
        let v = record::get(&pool, run).await.unwrap().unwrap();
        let outcomes: Vec<StepOutcome> = v.steps.iter().map(|s| s.outcome).collect();
        assert_eq!(&outcomes[..5], &[StepOutcome::Done; 5]);
        assert_eq!(outcomes[5], StepOutcome::Failed);
        assert!(v.steps[5].changed, "a partial change is kept in the record");
        assert!(v.steps[5].message.contains("3 of 5 entries"));
        assert_eq!(&outcomes[6..], &[StepOutcome::NotRun; 3]);
        assert!(v.steps[8].message.contains("Write the profile's access list"));
        assert!(
            v.summary
                .contains("Stopped at \"Write the profile's access list to the device\""),
            "{}",
            v.summary
        );
        assert!(
            v.summary.contains("Write the device's Kerberos settings and key"),
            "changes before are named"
        );
        assert!(
            v.summary
                .contains("Not run: Set redirection and user consent; Synchronize the device clock; Prove it")
        );
        let audit = crate::audit::latest(&pool, 100).await.unwrap();
        assert!(
            audit
                .iter()
                .any(|e| e.action == "provision apply: end" && e.result == "failed")
        );
    }

    #[tokio::test]
    async fn a_hanging_step_fails_after_its_timeout() {
        let (pool, run) = setup("hang").await;
        let mut ops = Scripted {
            plan: HashMap::from([(StepKind::AdObject, "hang")]),
            ran: vec![],
        };
        let state = execute(&pool, &ctx(run), &StepKind::ALL, &mut ops, Duration::from_millis(200)).await;
        assert_eq!(state, RunState::Failed);
        let v = record::get(&pool, run).await.unwrap().unwrap();
        assert_eq!(v.steps[2].outcome, StepOutcome::Failed);
        assert!(v.steps[2].message.contains("did not finish within"));
        assert_eq!(v.steps[3].outcome, StepOutcome::NotRun);
        assert!(
            v.summary.contains("Before it stopped, changed: Reach the device"),
            "{}",
            v.summary
        );
    }

    #[tokio::test]
    async fn interrupted_runs_are_closed_at_start_up() {
        let (pool, run) = setup("interrupted").await;
        record::set_state(&pool, run, RunState::Running, "").await.unwrap();
        record::set_step(&pool, run, 0, StepOutcome::Done, false, "ok")
            .await
            .unwrap();
        record::set_step(&pool, run, 1, StepOutcome::Running, false, "")
            .await
            .unwrap();
        assert_eq!(record::close_interrupted(&pool).await.unwrap(), 1);
        let v = record::get(&pool, run).await.unwrap().unwrap();
        assert_eq!(v.state, RunState::Failed);
        assert_eq!(v.steps[0].outcome, StepOutcome::Done);
        assert!(v.steps[1..].iter().all(|s| s.outcome == StepOutcome::NotRun));
        assert!(v.summary.contains("portal stopped"));
    }
}
