//! Console transcripts: what a device's serial console showed during a session, kept when the
//! device's policy says so (`devices.keep_console_transcripts`, set by registry administrators),
//! and read back by the portal's auditors.
//!
//! * Only the device's output is kept, never the keystrokes: a password typed at a prompt that
//!   does not echo it never reaches the transcript. Replaying a transcript with `cat` in a
//!   terminal redraws the screens; the plain-text view strips the escape sequences.
//! * The [`Recorder`] sits in the console relay. It never waits on the database: full chunks go
//!   to a writer task over a channel, so a slow disk cannot slow the console, and the relay loses
//!   nothing to a busy pool. One transcript holds at most [`MAX_TRANSCRIPT_BYTES`]; beyond that
//!   it is marked truncated (and says so) rather than growing without bound.
//! * Transcripts are deleted after `PORTAL_TRANSCRIPT_DAYS` days.

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::console::{TranscriptRow, TranscriptsView};
use sqlx::SqlitePool;
use tokio::sync::mpsc;
use tower_sessions::Session;

use crate::AppState;
use crate::auth::SessionUser;

/// Most output one transcript keeps (a console left open on a chatty host for days stops here).
pub const MAX_TRANSCRIPT_BYTES: usize = 4 * 1024 * 1024;

/// Output is written to the database in chunks of about this size (and at the end).
pub const CHUNK_BYTES: usize = 16 * 1024;

/// Whether the device's policy keeps console transcripts.
pub async fn policy(pool: &SqlitePool, device_id: i64) -> Result<bool, sqlx::Error> {
    let on: Option<i64> = sqlx::query_scalar("SELECT keep_console_transcripts FROM devices WHERE id = ?")
        .bind(device_id)
        .fetch_optional(pool)
        .await?;
    Ok(on.unwrap_or(0) != 0)
}

enum Write {
    Chunk(Vec<u8>),
    End { reason: String, truncated: bool },
}

/// Keeps one console session's output. Made by [`Recorder::start`]; fed by the relay with
/// [`Recorder::output`]; closed with [`Recorder::finish`].
pub struct Recorder {
    id: i64,
    buf: Vec<u8>,
    kept: usize,
    truncated: bool,
    tx: mpsc::UnboundedSender<Write>,
    writer: tokio::task::JoinHandle<()>,
}

impl Recorder {
    /// Opens a transcript for `principal` on the device and starts its writer.
    pub async fn start(
        pool: &SqlitePool,
        device_id: i64,
        fqdn: &str,
        principal: &str,
    ) -> Result<Recorder, sqlx::Error> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO console_transcripts (device_id, device_fqdn, principal) VALUES (?, ?, ?) RETURNING id",
        )
        .bind(device_id)
        .bind(fqdn)
        .bind(principal)
        .fetch_one(pool)
        .await?;
        // Unbounded is bounded here: the recorder sends at most MAX_TRANSCRIPT_BYTES in all.
        let (tx, rx) = mpsc::unbounded_channel();
        let writer = tokio::spawn(write_chunks(pool.clone(), id, rx));
        Ok(Recorder {
            id,
            buf: Vec::with_capacity(CHUNK_BYTES),
            kept: 0,
            truncated: false,
            tx,
            writer,
        })
    }

    /// The transcript's id.
    pub fn id(&self) -> i64 {
        self.id
    }

    /// Keeps `bytes` of the device's output (up to the cap).
    pub fn output(&mut self, bytes: &[u8]) {
        let room = MAX_TRANSCRIPT_BYTES - self.kept;
        if bytes.len() > room {
            self.truncated = true;
        }
        let take = &bytes[..bytes.len().min(room)];
        self.buf.extend_from_slice(take);
        self.kept += take.len();
        if self.buf.len() >= CHUNK_BYTES {
            let _ = self.tx.send(Write::Chunk(std::mem::take(&mut self.buf)));
        }
    }

    /// Writes what is left and closes the transcript with how the console ended; waits for the
    /// writer so the transcript is complete when this returns.
    pub async fn finish(mut self, reason: &str) {
        if !self.buf.is_empty() {
            let _ = self.tx.send(Write::Chunk(std::mem::take(&mut self.buf)));
        }
        let _ = self.tx.send(Write::End {
            reason: reason.to_string(),
            truncated: self.truncated,
        });
        drop(self.tx);
        let _ = self.writer.await;
    }
}

async fn write_chunks(pool: SqlitePool, id: i64, mut rx: mpsc::UnboundedReceiver<Write>) {
    let mut seq = 0i64;
    let mut bytes = 0i64;
    while let Some(w) = rx.recv().await {
        let r =
            match w {
                Write::Chunk(data) => {
                    seq += 1;
                    bytes += data.len() as i64;
                    sqlx::query("INSERT INTO console_transcript_chunks (transcript_id, seq, data) VALUES (?, ?, ?)")
                        .bind(id)
                        .bind(seq)
                        .bind(data)
                        .execute(&pool)
                        .await
                        .and(
                            sqlx::query("UPDATE console_transcripts SET bytes = ? WHERE id = ?")
                                .bind(bytes)
                                .bind(id)
                                .execute(&pool)
                                .await,
                        )
                }
                Write::End { reason, truncated } => sqlx::query(
                    "UPDATE console_transcripts SET ended_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), end_reason = ?, \
                 truncated = ? WHERE id = ?",
                )
                .bind(reason)
                .bind(truncated)
                .bind(id)
                .execute(&pool)
                .await,
            };
        if let Err(e) = r {
            tracing::error!(error = %e, transcript = id, "console transcript write failed");
        }
    }
}

/// The whole output of transcript `id`, in order.
pub async fn output(pool: &SqlitePool, id: i64) -> Result<Vec<u8>, sqlx::Error> {
    let chunks: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT data FROM console_transcript_chunks WHERE transcript_id = ? ORDER BY seq")
            .bind(id)
            .fetch_all(pool)
            .await?;
    Ok(chunks.concat())
}

/// The terminal output as plain text: escape sequences (colours, cursor moves, modes) removed,
/// carriage returns before line feeds dropped, other control bytes left out. Bytes that are not
/// UTF-8 are shown as CP437 would draw them where they are box-drawing, else replaced.
pub fn plain_text(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            0x1b => {
                i += 1;
                match bytes.get(i) {
                    // CSI: parameters and intermediates, then one final byte 0x40..=0x7e.
                    Some(b'[') => {
                        i += 1;
                        while i < bytes.len() && !(0x40..=0x7e).contains(&bytes[i]) {
                            i += 1;
                        }
                        i += 1;
                    }
                    // OSC: up to BEL or ESC \.
                    Some(b']') => {
                        i += 1;
                        while i < bytes.len()
                            && bytes[i] != 0x07
                            && !(bytes[i] == 0x1b && bytes.get(i + 1) == Some(&b'\\'))
                        {
                            i += 1;
                        }
                        i += if bytes.get(i) == Some(&0x07) { 1 } else { 2 };
                    }
                    // Character set selection: ESC ( B and the like.
                    Some(b'(' | b')' | b'*' | b'+' | b'#') => i += 2,
                    Some(_) => i += 1,
                    None => {}
                }
            }
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => i += 1,
            b'\n' | b'\t' => {
                out.push(b);
                i += 1;
            }
            b'\r' => {
                out.push(b'\n');
                i += 1;
            }
            0x00..=0x1f | 0x7f => i += 1,
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Deletes transcripts that started more than `days` ago; returns how many.
pub async fn purge_older_than(pool: &SqlitePool, days: u32) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("DELETE FROM console_transcripts WHERE started_at < strftime('%Y-%m-%dT%H:%M:%SZ', 'now', ?)")
        .bind(format!("-{days} days"))
        .execute(pool)
        .await?;
    Ok(r.rows_affected())
}

/// Deletes expired transcripts now and then once a day, for the life of the process.
pub fn spawn_retention(pool: SqlitePool, days: u32) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(24 * 3600));
        loop {
            tick.tick().await;
            match purge_older_than(&pool, days).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, days, "console transcripts past their retention deleted"),
                Err(e) => tracing::warn!(error = %e, "console transcript retention failed"),
            }
        }
    });
}

/// A transcript as listed.
#[derive(sqlx::FromRow)]
struct Listed {
    id: i64,
    principal: String,
    started_at: String,
    ended_at: Option<String>,
    end_reason: Option<String>,
    bytes: i64,
    truncated: bool,
}

impl AppState {
    /// The transcripts part of a device page for `user`: the policy, whether they may change it,
    /// and the transcripts when they may read them (auditors).
    pub async fn transcripts_view(&self, user: &SessionUser, device_id: i64) -> Result<TranscriptsView, String> {
        let keep = policy(&self.pool, device_id)
            .await
            .map_err(|e| format!("the device registry could not be read: {e}"))?;
        let may_change = self.is_admin(user).await;
        let (items, why_not) = match self.auditor_check(user).await {
            Ok(()) => {
                let rows: Vec<Listed> = sqlx::query_as(
                    "SELECT id, principal, started_at, ended_at, end_reason, bytes, truncated FROM console_transcripts \
                     WHERE device_id = ? ORDER BY id DESC LIMIT 50",
                )
                .bind(device_id)
                .fetch_all(&self.pool)
                .await
                .map_err(|e| format!("the transcripts could not be read: {e}"))?;
                let items = rows
                    .into_iter()
                    .map(|t| TranscriptRow {
                        id: t.id,
                        principal: t.principal,
                        started_at: t.started_at,
                        ended_at: t.ended_at,
                        end_reason: t.end_reason,
                        bytes: t.bytes.max(0) as u64,
                        truncated: t.truncated,
                    })
                    .collect();
                (items, None)
            }
            Err(why) => (Vec::new(), Some(why)),
        };
        Ok(TranscriptsView {
            keep,
            may_change,
            items,
            why_not,
        })
    }

    /// Turns the device's transcript policy on or off (registry administrators); audited.
    pub async fn set_transcript_policy(
        &self,
        user: &SessionUser,
        device_id: i64,
        keep: bool,
    ) -> Result<String, String> {
        if !self.is_admin(user).await {
            return Err(self.not_admin());
        }
        let fqdn: Option<String> = sqlx::query_scalar("SELECT fqdn FROM devices WHERE id = ?")
            .bind(device_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| format!("the device registry could not be read: {e}"))?;
        let Some(fqdn) = fqdn else {
            return Err(format!(
                "There is no device {device_id} in the registry (it may have been removed)."
            ));
        };
        sqlx::query("UPDATE devices SET keep_console_transcripts = ? WHERE id = ?")
            .bind(keep)
            .bind(device_id)
            .execute(&self.pool)
            .await
            .map_err(|e| format!("the policy could not be saved: {e}"))?;
        let what = if keep {
            "console transcripts kept from the next session on"
        } else {
            "console transcripts no longer kept (existing ones stay until their retention ends)"
        };
        crate::audit::record(
            &self.pool,
            Some(&user.principal),
            "device: transcript policy",
            Some(&fqdn),
            "ok",
            Some(what),
        )
        .await;
        Ok(format!("{fqdn}: {what}."))
    }
}

/// `?text=1` asks for the plain-text rendering instead of the raw bytes.
#[derive(Debug, serde::Deserialize)]
pub struct Format {
    #[serde(default)]
    text: Option<u8>,
}

/// `GET /devices/{id}/transcripts/{tid}`: one transcript as a download, for auditors (raw
/// terminal output, or plain text with `?text=1`). The read itself is audited.
pub async fn download(
    State(state): State<AppState>,
    session: Session,
    Path((device_id, tid)): Path<(i64, i64)>,
    Query(format): Query<Format>,
) -> Response {
    let text = |status: StatusCode, msg: String| (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], msg);
    let user = match crate::audit_view::auditor_of(&state, &session).await {
        Ok(u) => u,
        Err(refused) => return refused,
    };
    let row: Result<Option<(String, String)>, _> =
        sqlx::query_as("SELECT device_fqdn, started_at FROM console_transcripts WHERE id = ? AND device_id = ?")
            .bind(tid)
            .bind(device_id)
            .fetch_optional(&state.pool)
            .await;
    let (fqdn, started) = match row {
        Ok(Some(r)) => r,
        Ok(None) => {
            return text(
                StatusCode::NOT_FOUND,
                format!("There is no transcript {tid} for device {device_id} (it may have passed its retention)."),
            )
            .into_response();
        }
        Err(e) => {
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the transcripts could not be read: {e}"),
            )
            .into_response();
        }
    };
    let bytes = match output(&state.pool, tid).await {
        Ok(b) => b,
        Err(e) => {
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the transcript could not be read: {e}"),
            )
            .into_response();
        }
    };
    let plain = format.text == Some(1);
    crate::audit::record(
        &state.pool,
        Some(&user.principal),
        "console: transcript read",
        Some(&fqdn),
        "ok",
        Some(&format!(
            "transcript {tid} of {started}{}",
            if plain { " (text)" } else { "" }
        )),
    )
    .await;
    let stamp: String = started.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    let (body, ext) = if plain {
        (plain_text(&bytes).into_bytes(), "txt")
    } else {
        (bytes, "log")
    };
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"console-{fqdn}-{stamp}.{ext}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_drops_escapes_and_keeps_words() {
        let screen =
            b"\x1b[2J\x1b[H\x1b[1;37;44m BIOS Setup \x1b[0m\r\n\x1b(0lqk\x1b(B\r\nlogin: \x07\x1b]0;title\x07ok\rnext";
        assert_eq!(plain_text(screen), " BIOS Setup \nlqk\nlogin: ok\nnext");
    }

    #[test]
    fn plain_text_survives_cut_sequences() {
        assert_eq!(plain_text(b"abc\x1b["), "abc");
        assert_eq!(plain_text(b"abc\x1b"), "abc");
        assert_eq!(plain_text(b"\x1b]0;never ends"), "");
    }

    async fn pool() -> SqlitePool {
        let dir = std::env::temp_dir().join(format!("portal-transcripts-{}-{}", std::process::id(), rand_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        let pool = crate::db::open(&dir.join("t.sqlite")).await.unwrap();
        sqlx::query("INSERT INTO devices (fqdn, address) VALUES ('amt1.example.test', '127.0.0.1')")
            .execute(&pool)
            .await
            .unwrap();
        pool
    }

    fn rand_suffix() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    }

    #[tokio::test]
    async fn output_is_kept_in_order_in_chunks_up_to_the_cap() {
        let pool = pool().await;
        let mut r = Recorder::start(&pool, 1, "amt1.example.test", "alice@EXAMPLE.TEST")
            .await
            .unwrap();
        let id = r.id();
        let mut want = Vec::new();
        for i in 0..3000u32 {
            let line = format!("line {i}\r\n");
            r.output(line.as_bytes());
            want.extend_from_slice(line.as_bytes());
        }
        r.finish("closed by the user").await;
        assert_eq!(output(&pool, id).await.unwrap(), want);
        let (bytes, truncated, reason, chunks): (i64, bool, String, i64) = sqlx::query_as(
            "SELECT bytes, truncated, end_reason, (SELECT COUNT(*) FROM console_transcript_chunks WHERE transcript_id = t.id) \
             FROM console_transcripts t WHERE id = ?",
        )
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(bytes as usize, want.len());
        assert!(!truncated);
        assert_eq!(reason, "closed by the user");
        assert!(chunks >= 2, "written while running, a chunk at a time: {chunks}");

        // Past the cap: the rest is dropped and the transcript says so.
        let mut r = Recorder::start(&pool, 1, "amt1.example.test", "alice@EXAMPLE.TEST")
            .await
            .unwrap();
        let id = r.id();
        let block = vec![b'x'; 1024 * 1024];
        for _ in 0..5 {
            r.output(&block);
        }
        r.finish("ended by the device").await;
        assert_eq!(output(&pool, id).await.unwrap().len(), MAX_TRANSCRIPT_BYTES);
        let truncated: bool = sqlx::query_scalar("SELECT truncated FROM console_transcripts WHERE id = ?")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert!(truncated);
    }

    #[tokio::test]
    async fn retention_deletes_old_transcripts_with_their_output() {
        let pool = pool().await;
        let mut r = Recorder::start(&pool, 1, "amt1.example.test", "alice@EXAMPLE.TEST")
            .await
            .unwrap();
        r.output(b"hello");
        let id = r.id();
        r.finish("closed by the user").await;
        assert_eq!(purge_older_than(&pool, 1).await.unwrap(), 0);
        sqlx::query("UPDATE console_transcripts SET started_at = '2020-01-01T00:00:00Z' WHERE id = ?")
            .bind(id)
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(purge_older_than(&pool, 1).await.unwrap(), 1);
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM console_transcript_chunks")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(left, 0, "the output goes with its transcript");
    }
}
