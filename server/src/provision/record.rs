//! The record of apply runs (tables `provision_runs`, `provision_steps`): created with every step
//! pending, then written step by step as the run goes. Messages are the steps' own sentences;
//! nothing secret is ever passed here.

use shared::provision::{RunState, RunView, StepKind, StepOutcome, StepView};
use sqlx::SqlitePool;

/// What a new run is for.
#[derive(Debug, Clone)]
pub struct NewRun<'a> {
    /// The device.
    pub device_id: i64,
    /// The profile applied, if known when the run is created.
    pub profile_id: Option<i64>,
    /// Its name, kept as applied.
    pub profile_name: &'a str,
    /// Who starts it.
    pub actor: &'a str,
    /// `apply` or `rotate`.
    pub kind: &'a str,
    /// The request it carries out.
    pub request_id: Option<i64>,
    /// Its steps, in order.
    pub steps: &'a [StepKind],
}

fn db(e: sqlx::Error) -> String {
    format!("the portal's database could not record the run: {e}")
}

/// Creates a queued run with all its steps pending; returns its id.
pub async fn create(pool: &SqlitePool, run: &NewRun<'_>) -> Result<i64, String> {
    let mut tx = pool.begin().await.map_err(db)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO provision_runs (device_id, profile_id, profile_name, actor, kind, request_id)
         VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(run.device_id)
    .bind(run.profile_id)
    .bind(run.profile_name)
    .bind(run.actor)
    .bind(run.kind)
    .bind(run.request_id)
    .fetch_one(&mut *tx)
    .await
    .map_err(db)?;
    for (i, s) in run.steps.iter().enumerate() {
        sqlx::query("INSERT INTO provision_steps (run_id, position, step) VALUES (?, ?, ?)")
            .bind(id)
            .bind(i as i64)
            .bind(s.id())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
    }
    tx.commit().await.map_err(db)?;
    Ok(id)
}

/// Sets the run's state (and, when it ends, its summary and end time).
pub async fn set_state(pool: &SqlitePool, run_id: i64, state: RunState, summary: &str) -> Result<(), String> {
    sqlx::query(
        "UPDATE provision_runs SET state = ?, summary = ?,
           finished_at = CASE WHEN ? THEN strftime('%Y-%m-%dT%H:%M:%SZ', 'now') ELSE NULL END
         WHERE id = ?",
    )
    .bind(state.id())
    .bind(summary)
    .bind(state.finished())
    .bind(run_id)
    .execute(pool)
    .await
    .map_err(db)?;
    Ok(())
}

/// Records the profile once the run has read it.
pub async fn set_profile(pool: &SqlitePool, run_id: i64, profile_id: i64, name: &str) -> Result<(), String> {
    sqlx::query("UPDATE provision_runs SET profile_id = ?, profile_name = ? WHERE id = ?")
        .bind(profile_id)
        .bind(name)
        .bind(run_id)
        .execute(pool)
        .await
        .map_err(db)?;
    Ok(())
}

/// Writes one step's outcome.
pub async fn set_step(
    pool: &SqlitePool,
    run_id: i64,
    position: usize,
    outcome: StepOutcome,
    changed: bool,
    message: &str,
) -> Result<(), String> {
    sqlx::query(
        "UPDATE provision_steps SET outcome = ?, changed = ?, message = ?,
           started_at = CASE WHEN ? = 'running' THEN strftime('%Y-%m-%dT%H:%M:%SZ', 'now') ELSE started_at END,
           finished_at = CASE WHEN ? IN ('done', 'failed') THEN strftime('%Y-%m-%dT%H:%M:%SZ', 'now') ELSE finished_at END
         WHERE run_id = ? AND position = ?",
    )
    .bind(outcome.id())
    .bind(changed)
    .bind(message)
    .bind(outcome.id())
    .bind(outcome.id())
    .bind(run_id)
    .bind(position as i64)
    .execute(pool)
    .await
    .map_err(db)?;
    Ok(())
}

/// Marks every step from `position` on as not run.
pub async fn not_run_from(pool: &SqlitePool, run_id: i64, position: usize, why: &str) -> Result<(), String> {
    sqlx::query("UPDATE provision_steps SET outcome = 'not_run', message = ? WHERE run_id = ? AND position >= ?")
        .bind(why)
        .bind(run_id)
        .bind(position as i64)
        .execute(pool)
        .await
        .map_err(db)?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct RunRow {
    id: i64,
    device_id: i64,
    fqdn: String,
    profile_name: String,
    actor: String,
    kind: String,
    request_id: Option<i64>,
    state: String,
    started_at: String,
    finished_at: Option<String>,
    summary: String,
}

#[derive(sqlx::FromRow)]
struct StepRow {
    run_id: i64,
    step: String,
    outcome: String,
    changed: bool,
    message: String,
}

const RUN_COLUMNS: &str = "r.id, r.device_id, d.fqdn, r.profile_name, r.actor, r.kind, r.request_id, r.state,
    r.started_at, r.finished_at, r.summary FROM provision_runs r JOIN devices d ON d.id = r.device_id";

async fn with_steps(pool: &SqlitePool, rows: Vec<RunRow>) -> Result<Vec<RunView>, String> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let steps = sqlx::query_as::<_, StepRow>(
            "SELECT run_id, step, outcome, changed, message FROM provision_steps WHERE run_id = ? ORDER BY position",
        )
        .bind(r.id)
        .fetch_all(pool)
        .await
        .map_err(db)?;
        out.push(RunView {
            id: r.id,
            device_id: r.device_id,
            fqdn: r.fqdn,
            profile_name: r.profile_name,
            actor: r.actor,
            kind: r.kind,
            request_id: r.request_id,
            state: RunState::from_id(&r.state).unwrap_or(RunState::Failed),
            started_at: r.started_at,
            finished_at: r.finished_at,
            summary: r.summary,
            steps: steps
                .into_iter()
                .filter(|s| s.run_id == r.id)
                .filter_map(|s| {
                    let step = StepKind::from_id(&s.step)?;
                    Some(StepView {
                        step,
                        title: step.title().to_string(),
                        outcome: StepOutcome::from_id(&s.outcome).unwrap_or(StepOutcome::Pending),
                        changed: s.changed,
                        message: s.message,
                    })
                })
                .collect(),
        });
    }
    Ok(out)
}

/// One run with its steps.
pub async fn get(pool: &SqlitePool, run_id: i64) -> Result<Option<RunView>, String> {
    let rows = sqlx::query_as::<_, RunRow>(&format!("SELECT {RUN_COLUMNS} WHERE r.id = ?"))
        .bind(run_id)
        .fetch_all(pool)
        .await
        .map_err(db)?;
    Ok(with_steps(pool, rows).await?.pop())
}

/// The latest runs (of one device, or all), newest first.
pub async fn latest(pool: &SqlitePool, device_id: Option<i64>, limit: i64) -> Result<Vec<RunView>, String> {
    let rows = sqlx::query_as::<_, RunRow>(&format!(
        "SELECT {RUN_COLUMNS} WHERE (? IS NULL OR r.device_id = ?) ORDER BY r.id DESC LIMIT ?"
    ))
    .bind(device_id)
    .bind(device_id)
    .bind(limit)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    with_steps(pool, rows).await
}

/// Runs left queued or running by a portal that stopped: marked failed at start-up, with the
/// steps that never finished marked not run, so no record claims to be under way forever.
pub async fn close_interrupted(pool: &SqlitePool) -> Result<u64, String> {
    let why = "the portal stopped while this run was under way; retry it";
    sqlx::query(
        "UPDATE provision_steps SET outcome = 'not_run', message = ?
         WHERE outcome IN ('pending', 'running') AND run_id IN (SELECT id FROM provision_runs WHERE state IN ('queued', 'running'))",
    )
    .bind(why)
    .execute(pool)
    .await
    .map_err(db)?;
    let n = sqlx::query(
        "UPDATE provision_runs SET state = 'failed', summary = ?, finished_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
         WHERE state IN ('queued', 'running')",
    )
    .bind(why)
    .execute(pool)
    .await
    .map_err(db)?
    .rows_affected();
    Ok(n)
}

/// When each device's key was last set by a finished run (its Kerberos settings step done):
/// `(device_id, fqdn, RFC 3339 time)`, for the key rotation.
pub async fn last_key_set(pool: &SqlitePool) -> Result<Vec<(i64, String, String)>, String> {
    sqlx::query_as::<_, (i64, String, String)>(
        "SELECT r.device_id, d.fqdn, MAX(s.finished_at) FROM provision_steps s
           JOIN provision_runs r ON r.id = s.run_id JOIN devices d ON d.id = r.device_id
         WHERE s.step = 'kerberos_settings' AND s.outcome = 'done' AND s.finished_at IS NOT NULL
         GROUP BY r.device_id",
    )
    .fetch_all(pool)
    .await
    .map_err(db)
}
