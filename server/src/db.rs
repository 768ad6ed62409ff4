//! The SQLite pool (WAL, created if missing, bounded acquire time) and the embedded migrations.
//!
//! Measured (docs/BENCHMARKS.md): with `synchronous=FULL` and eight connections, every sign-in
//! waited on ~1.5 fsyncs and on SQLite's busy-handler sleeps (writers are serialised anyway), and
//! the portal ran at a fifth of Apache's rate. So: `synchronous=NORMAL`, which in WAL mode never
//! corrupts the database and can lose only the last commits on power failure (sessions and audit
//! rows, not configuration), and a single connection, so that writers queue in the pool (cheap)
//! instead of sleeping in SQLite. Every statement here is short.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

/// Opens (creating if needed) the database at `path` and applies the migrations.
pub async fn open(path: &Path) -> Result<SqlitePool, String> {
    let url = format!("sqlite://{}", path.display());
    let opts = SqliteConnectOptions::from_str(&url)
        .map_err(|e| format!("database path {}: {e}", path.display()))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(opts)
        .await
        .map_err(|e| format!("cannot open the database {}: {e}", path.display()))?;
    sqlx::migrate!("../migrations")
        .run(&pool)
        .await
        .map_err(|e| format!("database migrations failed on {}: {e}", path.display()))?;
    Ok(pool)
}
