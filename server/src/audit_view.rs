//! Reading the portal's own audit log: who may (members of `PORTAL_AUDITOR_GROUPS`), the
//! filtered and paged search (in SQL), and the CSV export of the filtered rows
//! (`GET /audit.csv?user=…`), escaped so no cell is ever taken for a spreadsheet formula.

use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::audit::{AUDIT_PAGE_SIZE, AuditFilter, AuditPage, AuditRow};
use sqlx::SqlitePool;
use tower_sessions::Session;

use crate::AppState;
use crate::auth::{SessionUser, current_user};

/// Most rows one CSV export holds.
pub const CSV_MAX_ROWS: i64 = 100_000;

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The filter's bound values, in the order of [`WHERE`].
fn bounds(f: &AuditFilter) -> [String; 6] {
    let like = |s: &str| {
        let s = s.trim();
        if s.is_empty() {
            String::new()
        } else {
            format!("%{}%", like_escape(s))
        }
    };
    let time = |s: &str| s.trim().replace(' ', "T");
    [
        like(&f.user),
        like(&f.device),
        like(&f.action),
        f.result.trim().to_string(),
        time(&f.from),
        time(&f.to),
    ]
}

/// Empty bounds match everything; times compare as text at the precision given.
const WHERE: &str = "WHERE (?1 = '' OR principal LIKE ?1 ESCAPE '\\') \
     AND (?2 = '' OR target LIKE ?2 ESCAPE '\\') \
     AND (?3 = '' OR action LIKE ?3 ESCAPE '\\') \
     AND (?4 = '' OR result = ?4) \
     AND (?5 = '' OR at >= ?5) \
     AND (?6 = '' OR substr(at, 1, length(?6)) <= ?6)";

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    at: String,
    principal: Option<String>,
    action: String,
    target: Option<String>,
    result: String,
    detail: Option<String>,
}

impl From<Row> for AuditRow {
    fn from(r: Row) -> Self {
        AuditRow {
            id: r.id,
            at: r.at,
            principal: r.principal,
            action: r.action,
            target: r.target,
            result: r.result,
            detail: r.detail,
        }
    }
}

async fn rows(pool: &SqlitePool, f: &AuditFilter, limit: i64, offset: i64) -> Result<Vec<AuditRow>, sqlx::Error> {
    let sql = format!(
        "SELECT id, at, principal, action, target, result, detail FROM audit_log {WHERE} ORDER BY id DESC LIMIT ?7 OFFSET ?8"
    );
    let mut q = sqlx::query_as::<_, Row>(&sql);
    for b in bounds(f) {
        q = q.bind(b);
    }
    Ok(q.bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(AuditRow::from)
        .collect())
}

/// One page of the rows matching `f`, newest first, and how many match.
pub async fn search(pool: &SqlitePool, f: &AuditFilter) -> Result<AuditPage, String> {
    f.validate()?;
    let sql = format!("SELECT COUNT(*) FROM audit_log {WHERE}");
    let mut q = sqlx::query_scalar::<_, i64>(&sql);
    for b in bounds(f) {
        q = q.bind(b);
    }
    let total = q
        .fetch_one(pool)
        .await
        .map_err(|e| format!("the audit log could not be read: {e}"))?;
    let size = i64::from(AUDIT_PAGE_SIZE);
    let rows = rows(pool, f, size, i64::from(f.page) * size)
        .await
        .map_err(|e| format!("the audit log could not be read: {e}"))?;
    Ok(AuditPage {
        rows,
        total,
        page: f.page,
        page_size: AUDIT_PAGE_SIZE,
    })
}

/// One CSV cell: text that a spreadsheet would run as a formula (leading `=`, `+`, `-`, `@`,
/// tab or carriage return) gets a leading `'`; every cell is quoted, quotes doubled.
pub fn csv_cell(s: &str) -> String {
    let neutral = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    format!("\"{}\"", neutral.replace('"', "\"\""))
}

/// The rows as CSV (RFC 4180, CRLF line ends) with a header line.
pub fn to_csv(rows: &[AuditRow]) -> String {
    let mut out = String::from("\"when (UTC)\",\"who\",\"device\",\"what\",\"result\",\"detail\"\r\n");
    for r in rows {
        let cells = [
            r.at.as_str(),
            r.principal.as_deref().unwrap_or_default(),
            r.target.as_deref().unwrap_or_default(),
            r.action.as_str(),
            r.result.as_str(),
            r.detail.as_deref().unwrap_or_default(),
        ];
        out.push_str(&cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

impl AppState {
    /// Whether `user` may read the portal's audit log; otherwise the sentence saying why not.
    pub async fn auditor_check(&self, user: &SessionUser) -> Result<(), String> {
        let wanted = &self.config.auditor_groups;
        if self.member_of_any(user, wanted).await {
            Ok(())
        } else {
            Err(format!(
                "The portal's audit log is open to members of {} only, and you are in none of them. \
                 An administrator can change this with PORTAL_AUDITOR_GROUPS.",
                wanted.join(", ")
            ))
        }
    }
}

/// The signed-in auditor behind a download request, or the plain-text answer saying why not
/// (401 when not signed in, 403 when not an auditor).
pub(crate) async fn auditor_of(state: &AppState, session: &Session) -> Result<SessionUser, Response> {
    let text = |status: StatusCode, msg: String| (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], msg);
    let Some(user) = current_user(session).await else {
        return Err(text(
            StatusCode::UNAUTHORIZED,
            "You are not signed in (your session may have ended): open the portal and sign in again.".into(),
        )
        .into_response());
    };
    match state.auditor_check(&user).await {
        Ok(()) => Ok(user),
        Err(why) => Err(text(StatusCode::FORBIDDEN, why).into_response()),
    }
}

/// `GET /audit.csv?user=…&device=…`: the filtered rows as a download, for auditors. The export
/// itself is audited.
pub async fn export_csv(
    State(state): State<AppState>,
    session: Session,
    Query(filter): Query<AuditFilter>,
) -> Response {
    let text = |status: StatusCode, msg: String| (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], msg);
    let user = match auditor_of(&state, &session).await {
        Ok(u) => u,
        Err(refused) => return refused,
    };
    if let Err(why) = filter.validate() {
        return text(StatusCode::BAD_REQUEST, why).into_response();
    }
    // Sign-ins are written in batches: include every one queued before this request.
    state.audit.flush().await;
    match rows(&state.pool, &filter, CSV_MAX_ROWS, 0).await {
        Ok(list) => {
            let query = filter.to_query();
            crate::audit::record(
                &state.pool,
                Some(&user.principal),
                "audit: export CSV",
                None,
                "ok",
                Some(&format!(
                    "{} rows; filter: {}",
                    list.len(),
                    if query.is_empty() { "none" } else { &query }
                )),
            )
            .await;
            let mut resp = to_csv(&list).into_response();
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            h.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"portal-audit.csv\""),
            );
            resp
        }
        Err(e) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the audit log could not be read: {e}"),
        )
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn pool() -> SqlitePool {
        let dir = std::env::temp_dir().join(format!("audit-view-{}-{}", std::process::id(), rand::random::<u64>()));
        std::fs::create_dir_all(&dir).expect("dir");
        crate::db::open(&dir.join("p.sqlite")).await.expect("db")
    }

    #[test]
    fn csv_cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_cell("plain"), "\"plain\"");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "\"'+1\"");
        assert_eq!(csv_cell("-2"), "\"'-2\"");
        assert_eq!(csv_cell("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(csv_cell("\tx"), "\"'\tx\"");
        assert_eq!(csv_cell(""), "\"\"");
    }

    #[test]
    fn auditor_groups_match_by_sid_or_name() {
        let sids = vec!["S-1-5-21-1-2-3-1111".to_string()];
        let names = vec!["AMT Admins".to_string()];
        assert!(crate::roles::in_groups(&["amt admins".into()], &sids, &names));
        assert!(crate::roles::in_groups(&["S-1-5-21-1-2-3-1111".into()], &sids, &[]));
        assert!(!crate::roles::in_groups(&["AMT Auditors".into()], &sids, &names));
        assert!(!crate::roles::in_groups(&["S-1-5-21-1-2-3-2222".into()], &sids, &names));
    }

    #[tokio::test]
    async fn search_filters_and_pages_in_sql() {
        let pool = pool().await;
        for i in 0..60 {
            let who = if i % 2 == 0 {
                "alice@EXAMPLE.TEST"
            } else {
                "bob@EXAMPLE.TEST"
            };
            let result = if i % 3 == 0 { "refused" } else { "ok" };
            crate::audit::record(
                &pool,
                Some(who),
                "power: Reset",
                Some(&format!("amt{}.example.test", i % 4)),
                result,
                None,
            )
            .await;
        }
        crate::audit::record(&pool, Some("carol@EXAMPLE.TEST"), "100%_done", None, "ok", Some("=1+1")).await;

        let all = search(&pool, &AuditFilter::default()).await.expect("search");
        assert_eq!(all.total, 61);
        assert_eq!(all.rows.len(), AUDIT_PAGE_SIZE as usize);
        assert_eq!(all.rows[0].action, "100%_done", "newest first");
        let second = search(
            &pool,
            &AuditFilter {
                page: 1,
                ..Default::default()
            },
        )
        .await
        .expect("page 2");
        assert_eq!(second.rows.len(), 11);

        let alice_refused = search(
            &pool,
            &AuditFilter {
                user: "alice".into(),
                result: "refused".into(),
                ..Default::default()
            },
        )
        .await
        .expect("filtered");
        assert_eq!(alice_refused.total, 10, "i even and divisible by 3: 0, 6, …, 54");
        assert!(
            alice_refused
                .rows
                .iter()
                .all(|r| r.principal.as_deref() == Some("alice@EXAMPLE.TEST"))
        );

        let dev = search(
            &pool,
            &AuditFilter {
                device: "amt3".into(),
                ..Default::default()
            },
        )
        .await
        .expect("device");
        assert_eq!(dev.total, 15);
        // LIKE wildcards typed by the user are literal.
        let pct = search(
            &pool,
            &AuditFilter {
                action: "%_".into(),
                ..Default::default()
            },
        )
        .await
        .expect("literal");
        assert_eq!(pct.total, 1);

        let today = time::OffsetDateTime::now_utc().date().to_string();
        let window = AuditFilter {
            from: today.clone(),
            to: today,
            ..Default::default()
        };
        assert_eq!(search(&pool, &window).await.expect("today").total, 61);
        let past = AuditFilter {
            to: "2000-01-01".into(),
            ..Default::default()
        };
        assert_eq!(search(&pool, &past).await.expect("past").total, 0);
        assert!(
            search(
                &pool,
                &AuditFilter {
                    from: "soon".into(),
                    ..Default::default()
                }
            )
            .await
            .is_err()
        );

        let csv = to_csv(
            &rows(
                &pool,
                &AuditFilter {
                    user: "carol".into(),
                    ..Default::default()
                },
                10,
                0,
            )
            .await
            .expect("rows"),
        );
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(
            lines[0],
            "\"when (UTC)\",\"who\",\"device\",\"what\",\"result\",\"detail\""
        );
        assert!(
            lines[1].ends_with("\"carol@EXAMPLE.TEST\",\"\",\"100%_done\",\"ok\",\"'=1+1\""),
            "{}",
            lines[1]
        );
    }
}
