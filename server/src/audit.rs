//! The portal's own audit log (table `audit_log`): who, what, which target, result, when.
//! Writing never fails a request: a database problem is logged and the action goes on.

use sqlx::SqlitePool;

/// Appends one entry.
pub async fn record(
    pool: &SqlitePool,
    principal: Option<&str>,
    action: &str,
    target: Option<&str>,
    result: &str,
    detail: Option<&str>,
) {
    let r = sqlx::query("INSERT INTO audit_log (principal, action, target, result, detail) VALUES (?, ?, ?, ?, ?)")
        .bind(principal)
        .bind(action)
        .bind(target)
        .bind(result)
        .bind(detail)
        .execute(pool)
        .await;
    if let Err(e) = r {
        tracing::error!(error = %e, action, "audit log write failed");
    }
}

/// One audit entry as stored.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Entry {
    /// Row id.
    pub id: i64,
    /// UTC time.
    pub at: String,
    /// Who.
    pub principal: Option<String>,
    /// What.
    pub action: String,
    /// On what.
    pub target: Option<String>,
    /// Outcome.
    pub result: String,
    /// More.
    pub detail: Option<String>,
}

/// The latest entries, newest first.
pub async fn latest(pool: &SqlitePool, limit: i64) -> Result<Vec<Entry>, sqlx::Error> {
    sqlx::query_as::<_, Entry>(
        "SELECT id, at, principal, action, target, result, detail FROM audit_log ORDER BY id DESC LIMIT ?",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}
