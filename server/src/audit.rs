//! The portal's own audit log (table `audit_log`): who, what, which target, result, when.
//! Writing never fails a request: a database problem is logged and the action goes on.
//!
//! Two ways in: [`record`] writes one row at once (rare actions), and [`Writer`] queues rows
//! for one task that writes each batch in a single statement (sign-ins, which can come by the
//! thousand per second: docs/BENCHMARKS.md). The queue is bounded and a full queue
//! makes the caller wait, never drops a row; [`Writer::close`] writes what is queued at a clean
//! shutdown, and after it rows are written directly.

use std::sync::{Arc, Mutex};

use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

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

/// Rows queued at most; a sign-in waits for room beyond that (back-pressure, no loss).
const QUEUE: usize = 4096;
/// Rows written in one statement at most (6 bound values each, well under SQLite's limit).
const BATCH: usize = 256;

/// One row waiting to be written. `at` is taken when the action happened, not when written.
#[derive(Debug, Clone)]
struct Row {
    at: String,
    principal: Option<String>,
    action: String,
    target: Option<String>,
    result: String,
    detail: Option<String>,
}

enum Msg {
    Row(Row),
    /// Answered once every row queued before it is written.
    Flush(oneshot::Sender<()>),
    /// Write what is queued, answer, stop.
    Close(oneshot::Sender<()>),
}

/// Queues audit rows for one writer task (see the module header). Cheap to clone.
#[derive(Clone)]
pub struct Writer {
    pool: SqlitePool,
    tx: mpsc::Sender<Msg>,
    task: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("queued", &(QUEUE - self.tx.capacity()))
            .finish()
    }
}

impl Writer {
    /// Starts the writer task on the current tokio runtime.
    pub fn spawn(pool: SqlitePool) -> Writer {
        let (tx, rx) = mpsc::channel(QUEUE);
        let task = tokio::spawn(run(pool.clone(), rx));
        Writer {
            pool,
            tx,
            task: Arc::new(Mutex::new(Some(task))),
        }
    }

    /// Queues one entry; waits only while the queue is full. After [`Writer::close`] the row is
    /// written directly, so no entry is ever lost to a shutdown in progress.
    pub async fn record(
        &self,
        principal: Option<&str>,
        action: &str,
        target: Option<&str>,
        result: &str,
        detail: Option<&str>,
    ) {
        let row = Row {
            at: now_millis(),
            principal: principal.map(str::to_string),
            action: action.to_string(),
            target: target.map(str::to_string),
            result: result.to_string(),
            detail: detail.map(str::to_string),
        };
        if let Err(mpsc::error::SendError(Msg::Row(row))) = self.tx.send(Msg::Row(row)).await {
            write_one(&self.pool, &row).await;
        }
    }

    /// Returns once every entry queued before this call is in the database (read-your-writes
    /// for the audit page and its export).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    /// Writes everything queued and stops the task; later entries are written one by one.
    /// Call it once the server has stopped taking requests.
    pub async fn close(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Close(done)).await.is_ok() {
            let _ = wait.await;
        }
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

/// The writer task: takes what is queued (up to [`BATCH`] rows; when there are few, it waits
/// [`LINGER`] for more, so that a busy portal writes one statement per many sign-ins), writes
/// it, then answers the flushes that were waiting for those rows.
async fn run(pool: SqlitePool, mut rx: mpsc::Receiver<Msg>) {
    let mut batch = Batch::default();
    while let Some(first) = rx.recv().await {
        batch.take(first);
        batch.drain(&mut rx);
        if batch.closing.is_none() && batch.waiting.is_empty() && batch.rows.len() < BATCH {
            tokio::time::sleep(LINGER).await;
            batch.drain(&mut rx);
        }
        if batch.closing.is_some() {
            // Nothing sent before the Close may be left behind.
            rx.close();
            while let Ok(msg) = rx.try_recv() {
                match msg {
                    Msg::Row(r) => batch.rows.push(r),
                    Msg::Flush(done) | Msg::Close(done) => batch.waiting.push(done),
                }
            }
        }
        for chunk in batch.rows.chunks(BATCH) {
            write_batch(&pool, chunk).await;
        }
        batch.rows.clear();
        for done in batch.waiting.drain(..) {
            let _ = done.send(());
        }
        if let Some(done) = batch.closing.take() {
            let _ = done.send(());
            return;
        }
    }
}

/// How long the writer waits for more rows when only a few are queued.
const LINGER: std::time::Duration = std::time::Duration::from_millis(5);

/// What the writer has taken from the queue and not written yet.
#[derive(Default)]
struct Batch {
    rows: Vec<Row>,
    waiting: Vec<oneshot::Sender<()>>,
    closing: Option<oneshot::Sender<()>>,
}

impl Batch {
    fn take(&mut self, msg: Msg) {
        match msg {
            Msg::Row(r) => self.rows.push(r),
            Msg::Flush(done) => self.waiting.push(done),
            Msg::Close(done) => self.closing = Some(done),
        }
    }

    /// Takes what is queued until a batch is full or a Close arrives.
    fn drain(&mut self, rx: &mut mpsc::Receiver<Msg>) {
        while self.closing.is_none() && self.rows.len() < BATCH {
            match rx.try_recv() {
                Ok(msg) => self.take(msg),
                Err(_) => break,
            }
        }
    }
}

/// Writes `rows` in one statement; if that fails, row by row, so one bad row loses no others.
async fn write_batch(pool: &SqlitePool, rows: &[Row]) {
    if rows.is_empty() {
        return;
    }
    let mut q: QueryBuilder<Sqlite> =
        QueryBuilder::new("INSERT INTO audit_log (at, principal, action, target, result, detail) ");
    q.push_values(rows, |mut b, r| {
        b.push_bind(&r.at)
            .push_bind(&r.principal)
            .push_bind(&r.action)
            .push_bind(&r.target)
            .push_bind(&r.result)
            .push_bind(&r.detail);
    });
    if let Err(e) = q.build().persistent(false).execute(pool).await {
        tracing::warn!(error = %e, rows = rows.len(), "audit batch write failed; writing the rows one by one");
        for r in rows {
            write_one(pool, r).await;
        }
    }
}

async fn write_one(pool: &SqlitePool, r: &Row) {
    let res =
        sqlx::query("INSERT INTO audit_log (at, principal, action, target, result, detail) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(&r.at)
            .bind(&r.principal)
            .bind(&r.action)
            .bind(&r.target)
            .bind(&r.result)
            .bind(&r.detail)
            .execute(pool)
            .await;
    if let Err(e) = res {
        tracing::error!(error = %e, action = r.action, "audit log write failed");
    }
}

/// Now in the format of the table's default (`strftime('%Y-%m-%dT%H:%M:%fZ')`): UTC, milliseconds.
fn now_millis() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    async fn pool() -> SqlitePool {
        let dir = std::env::temp_dir().join(format!("audit-writer-{}-{}", std::process::id(), rand::random::<u64>()));
        std::fs::create_dir_all(&dir).expect("dir");
        crate::db::open(&dir.join("p.sqlite")).await.expect("db")
    }

    async fn count(pool: &SqlitePool) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
            .fetch_one(pool)
            .await
            .expect("count")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queued_rows_are_written_in_order_and_flush_waits_for_them() {
        let pool = pool().await;
        let w = Writer::spawn(pool.clone());
        // More than the queue and several batches, from many tasks at once: back-pressure, no loss.
        let mut tasks = Vec::new();
        for t in 0..8 {
            let w = w.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..700 {
                    let who = format!("user{t}@EXAMPLE.TEST");
                    w.record(Some(&who), "sign-in (Negotiate)", None, "ok", Some(&i.to_string()))
                        .await;
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        w.flush().await;
        assert_eq!(
            count(&pool).await,
            8 * 700,
            "every queued row is in the table after flush"
        );
        // Each task's rows keep their order.
        let details: Vec<String> =
            sqlx::query_scalar("SELECT detail FROM audit_log WHERE principal = 'user3@EXAMPLE.TEST' ORDER BY id")
                .fetch_all(&pool)
                .await
                .expect("rows");
        assert_eq!(details, (0..700).map(|i| i.to_string()).collect::<Vec<_>>());
        // `at` has the table default's format and is the time of the action.
        let at: String = sqlx::query_scalar("SELECT at FROM audit_log ORDER BY id LIMIT 1")
            .fetch_one(&pool)
            .await
            .expect("at");
        assert_eq!(at.len(), "2026-12-05T18:07:12.123Z".len(), "{at}");
        assert!(
            at.ends_with('Z') && at.as_bytes()[10] == b'T' && at.as_bytes()[19] == b'.',
            "{at}"
        );
        w.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn close_writes_everything_queued_and_later_rows_are_written_directly() {
        let pool = pool().await;
        let w = Writer::spawn(pool.clone());
        for i in 0..1000 {
            w.record(None, "sign-in (Negotiate)", None, "refused", Some(&i.to_string()))
                .await;
        }
        // No flush: closing alone must leave nothing behind.
        w.close().await;
        assert_eq!(count(&pool).await, 1000, "close writes every queued row");
        assert!(w.task.lock().expect("lock").is_none(), "the writer task has stopped");

        // A sign-out that races the shutdown is still recorded, and flush does not hang.
        w.record(Some("bob@EXAMPLE.TEST"), "sign-out", None, "ok", None).await;
        w.flush().await;
        w.close().await;
        assert_eq!(count(&pool).await, 1001);
    }

    #[tokio::test]
    async fn a_failing_batch_falls_back_to_single_rows_and_loses_no_good_row() {
        let pool = pool().await;
        let mut rows: Vec<Row> = (0..3)
            .map(|i| Row {
                at: now_millis(),
                principal: None,
                action: format!("a{i}"),
                target: None,
                result: "ok".into(),
                detail: None,
            })
            .collect();
        // `action` is NOT NULL: make one row fail the way a broken row would.
        sqlx::query("CREATE TRIGGER no_bad BEFORE INSERT ON audit_log WHEN NEW.action = 'bad' BEGIN SELECT RAISE(ABORT, 'bad row'); END")
            .execute(&pool)
            .await
            .expect("trigger");
        rows[1].action = "bad".into();
        write_batch(&pool, &rows).await;
        let actions: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_log ORDER BY id")
            .fetch_all(&pool)
            .await
            .expect("rows");
        assert_eq!(actions, vec!["a0", "a2"]);
    }
}
