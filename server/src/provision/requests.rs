//! Self-service reprovision requests (table `provision_requests`): a user asks for a device to
//! be reprovisioned, with a reason (a helpdesk member may ask on a named user's behalf); an
//! approver (`PORTAL_APPROVER_GROUPS`) approves, which starts the apply run as the approver, or
//! denies with a comment. The requester follows the state on "My requests" and the device page.
//!
//! The rules are the pure functions [`check_new`] and [`decide`]; the store only writes what
//! they allow, and a decision is written only while the request is still pending (two
//! approvers clicking at once cannot both start a run).

use shared::provision::{MAX_REQUEST_TEXT, NewRequest, RequestState, RequestView};
use sqlx::SqlitePool;

/// An approver's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Approve: the apply run starts.
    Approve,
    /// Deny, with a comment.
    Deny,
}

/// Who acts on a request, and what they may do.
#[derive(Debug, Clone)]
pub struct Actor<'a> {
    /// Principal (`alice@EXAMPLE.TEST`).
    pub principal: &'a str,
    /// In `PORTAL_APPROVER_GROUPS`.
    pub approver: bool,
    /// In `PORTAL_HELPDESK_GROUPS`.
    pub helpdesk: bool,
}

fn same_user(a: &str, b: &str) -> bool {
    let base = |s: &str| s.split('@').next().unwrap_or(s).to_ascii_lowercase();
    a.eq_ignore_ascii_case(b) || (!(a.contains('@') && b.contains('@')) && base(a) == base(b))
}

fn clean(text: &str) -> String {
    text.trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_REQUEST_TEXT)
        .collect()
}

/// Checks a new request; returns `(requester, on_behalf_by, reason)` as stored. `has_profile`
/// says whether the device has a profile to apply (`Err` with the reason when it cannot be known).
pub fn check_new(
    actor: &Actor<'_>,
    form: &NewRequest,
    has_profile: Result<bool, String>,
) -> Result<(String, Option<String>, String), String> {
    let reason = clean(&form.reason);
    if reason.is_empty() {
        return Err("say why the device needs reprovisioning (for example \"my sign-in to the device stopped working\"), so the approver can decide".into());
    }
    let other = form.on_behalf_of.trim();
    let (requester, by) = if other.is_empty() || same_user(other, actor.principal) {
        (actor.principal.to_string(), None)
    } else if !actor.helpdesk {
        return Err(
            "only helpdesk members may request on behalf of another user: leave the name empty to request for yourself"
                .into(),
        );
    } else if other.len() > 256 || other.chars().any(|c| c.is_control() || c == ',' || c == ';') {
        return Err(format!(
            "{other:?} is not a user name: give the account name, e.g. bob or bob@EXAMPLE.TEST"
        ));
    } else {
        let realm = actor.principal.split_once('@').map(|(_, r)| r);
        let named = match (other.contains('@'), realm) {
            (false, Some(r)) => format!("{other}@{r}"),
            _ => other.to_string(),
        };
        (named, Some(actor.principal.to_string()))
    };
    match has_profile {
        Ok(true) => {}
        Ok(false) => {
            return Err("this device has no provisioning profile, so there is nothing to apply: ask an AMT administrator to assign it one first".into());
        }
        Err(e) => return Err(e),
    }
    Ok((requester, by, reason))
}

/// Decides request `r` as `actor`; returns the new state, or why the decision is refused.
pub fn decide(r: &RequestView, actor: &Actor<'_>, decision: Decision, comment: &str) -> Result<RequestState, String> {
    if !actor.approver {
        return Err("only approvers (PORTAL_APPROVER_GROUPS, or the approver groups of the AD settings) may approve or deny reprovision requests".into());
    }
    if r.state != RequestState::Pending {
        return Err(format!(
            "request {} is already {}{}: nothing to decide",
            r.id,
            r.state.label(),
            r.decided_by
                .as_deref()
                .map(|b| format!(" (by {b})"))
                .unwrap_or_default()
        ));
    }
    let own = same_user(actor.principal, &r.requester)
        || r.on_behalf_by.as_deref().is_some_and(|b| same_user(actor.principal, b));
    match decision {
        Decision::Approve if own => {
            Err("you cannot approve a request you made or that is for you: another approver must decide it".into())
        }
        Decision::Approve => Ok(RequestState::Running),
        Decision::Deny if clean(comment).is_empty() => {
            Err("say why you deny it: the requester sees your comment".into())
        }
        Decision::Deny => Ok(RequestState::Denied),
    }
}

fn db(e: sqlx::Error) -> String {
    format!("the portal's database could not be used for reprovision requests: {e}")
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    device_id: i64,
    fqdn: String,
    requester: String,
    on_behalf_by: Option<String>,
    reason: String,
    state: String,
    created_at: String,
    decided_by: Option<String>,
    decided_at: Option<String>,
    comment: Option<String>,
    run_id: Option<i64>,
}

impl From<Row> for RequestView {
    fn from(r: Row) -> Self {
        RequestView {
            id: r.id,
            device_id: r.device_id,
            fqdn: r.fqdn,
            requester: r.requester,
            on_behalf_by: r.on_behalf_by,
            reason: r.reason,
            state: RequestState::from_id(&r.state).unwrap_or(RequestState::Failed),
            created_at: r.created_at,
            decided_by: r.decided_by,
            decided_at: r.decided_at,
            comment: r.comment,
            run_id: r.run_id,
        }
    }
}

const SELECT: &str = "SELECT q.id, q.device_id, d.fqdn, q.requester, q.on_behalf_by, q.reason, q.state, q.created_at,
    q.decided_by, q.decided_at, q.comment, q.run_id FROM provision_requests q JOIN devices d ON d.id = q.device_id";

/// Stores a checked request; returns its id.
pub async fn insert(
    pool: &SqlitePool,
    device_id: i64,
    requester: &str,
    on_behalf_by: Option<&str>,
    reason: &str,
) -> Result<i64, String> {
    sqlx::query_scalar(
        "INSERT INTO provision_requests (device_id, requester, on_behalf_by, reason) VALUES (?, ?, ?, ?) RETURNING id",
    )
    .bind(device_id)
    .bind(requester)
    .bind(on_behalf_by)
    .bind(reason)
    .fetch_one(pool)
    .await
    .map_err(db)
}

/// One request.
pub async fn get(pool: &SqlitePool, id: i64) -> Result<Option<RequestView>, String> {
    let r = sqlx::query_as::<_, Row>(&format!("{SELECT} WHERE q.id = ?"))
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(db)?;
    Ok(r.map(Into::into))
}

/// Requests by or for `principal` (or of one device), newest first.
pub async fn list(
    pool: &SqlitePool,
    principal: Option<&str>,
    device_id: Option<i64>,
    state: Option<RequestState>,
) -> Result<Vec<RequestView>, String> {
    let rows = sqlx::query_as::<_, Row>(&format!(
        "{SELECT} WHERE (?1 IS NULL OR q.requester = ?1 COLLATE NOCASE OR q.on_behalf_by = ?1 COLLATE NOCASE)
           AND (?2 IS NULL OR q.device_id = ?2) AND (?3 IS NULL OR q.state = ?3)
         ORDER BY q.id DESC LIMIT 200"
    ))
    .bind(principal)
    .bind(device_id)
    .bind(state.map(|s| s.id()))
    .fetch_all(pool)
    .await
    .map_err(db)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Writes a decision if the request is still pending; `false` when someone decided first.
pub async fn record_decision(
    pool: &SqlitePool,
    id: i64,
    state: RequestState,
    by: &str,
    comment: &str,
) -> Result<bool, String> {
    let comment = clean(comment);
    let n = sqlx::query(
        "UPDATE provision_requests SET state = ?, decided_by = ?, comment = ?,
           decided_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
         WHERE id = ? AND state = 'pending'",
    )
    .bind(state.id())
    .bind(by)
    .bind((!comment.is_empty()).then_some(comment))
    .bind(id)
    .execute(pool)
    .await
    .map_err(db)?
    .rows_affected();
    Ok(n == 1)
}

/// Links the apply run started by the approval.
pub async fn set_run(pool: &SqlitePool, id: i64, run_id: i64) -> Result<(), String> {
    sqlx::query("UPDATE provision_requests SET run_id = ? WHERE id = ?")
        .bind(run_id)
        .bind(id)
        .execute(pool)
        .await
        .map_err(db)?;
    Ok(())
}

/// Sets the state when its run ends (or could not start).
pub async fn set_state(pool: &SqlitePool, id: i64, state: RequestState) -> Result<(), String> {
    sqlx::query("UPDATE provision_requests SET state = ? WHERE id = ?")
        .bind(state.id())
        .bind(id)
        .execute(pool)
        .await
        .map_err(db)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bob() -> Actor<'static> {
        Actor {
            principal: "bob@EXAMPLE.TEST",
            approver: false,
            helpdesk: false,
        }
    }

    fn alice() -> Actor<'static> {
        Actor {
            principal: "alice@EXAMPLE.TEST",
            approver: true,
            helpdesk: true,
        }
    }

    fn pending(requester: &str, by: Option<&str>) -> RequestView {
        RequestView {
            id: 4,
            device_id: 1,
            fqdn: "amt1.example.test".into(),
            requester: requester.into(),
            on_behalf_by: by.map(str::to_string),
            reason: "sign-in fails".into(),
            state: RequestState::Pending,
            created_at: "2026-12-05T18:00:00Z".into(),
            decided_by: None,
            decided_at: None,
            comment: None,
            run_id: None,
        }
    }

    fn form(reason: &str, other: &str) -> NewRequest {
        NewRequest {
            device_id: 1,
            reason: reason.into(),
            on_behalf_of: other.into(),
        }
    }

    #[test]
    fn a_request_needs_a_reason_and_a_profile() {
        let (who, by, reason) = check_new(&bob(), &form("  my login fails\n", ""), Ok(true)).unwrap();
        assert_eq!(
            (who.as_str(), by, reason.as_str()),
            ("bob@EXAMPLE.TEST", None, "my login fails")
        );
        assert!(
            check_new(&bob(), &form("  ", ""), Ok(true))
                .unwrap_err()
                .contains("say why")
        );
        assert!(
            check_new(&bob(), &form("x", ""), Ok(false))
                .unwrap_err()
                .contains("no provisioning profile")
        );
        assert_eq!(
            check_new(&bob(), &form("x", ""), Err("the registry could not be read".into())).unwrap_err(),
            "the registry could not be read"
        );
    }

    #[test]
    fn only_helpdesk_members_request_for_others() {
        assert!(
            check_new(&bob(), &form("x", "carol"), Ok(true))
                .unwrap_err()
                .contains("only helpdesk")
        );
        // Naming oneself is not "on behalf".
        assert_eq!(check_new(&bob(), &form("x", "BOB"), Ok(true)).unwrap().1, None);
        let helpdesk = Actor {
            principal: "dave@EXAMPLE.TEST",
            approver: false,
            helpdesk: true,
        };
        let (who, by, _) = check_new(&helpdesk, &form("x", "bob"), Ok(true)).unwrap();
        assert_eq!(
            (who.as_str(), by.as_deref()),
            ("bob@EXAMPLE.TEST", Some("dave@EXAMPLE.TEST"))
        );
        assert!(check_new(&helpdesk, &form("x", "bob,carol"), Ok(true)).is_err());
    }

    #[test]
    fn approve_and_deny() {
        let r = pending("bob@EXAMPLE.TEST", None);
        assert_eq!(decide(&r, &alice(), Decision::Approve, ""), Ok(RequestState::Running));
        assert_eq!(
            decide(&r, &alice(), Decision::Deny, "use the spare laptop"),
            Ok(RequestState::Denied)
        );
        assert!(
            decide(&r, &alice(), Decision::Deny, " ")
                .unwrap_err()
                .contains("say why")
        );
    }

    #[test]
    fn self_approval_and_non_approvers_are_refused() {
        let own = pending("alice@EXAMPLE.TEST", None);
        assert!(
            decide(&own, &alice(), Decision::Approve, "")
                .unwrap_err()
                .contains("cannot approve")
        );
        let made_by_alice = pending("bob@EXAMPLE.TEST", Some("alice@EXAMPLE.TEST"));
        assert!(decide(&made_by_alice, &alice(), Decision::Approve, "").is_err());
        let r = pending("carol@EXAMPLE.TEST", None);
        assert!(
            decide(&r, &bob(), Decision::Approve, "")
                .unwrap_err()
                .contains("only approvers")
        );
        assert!(
            decide(&r, &bob(), Decision::Deny, "no")
                .unwrap_err()
                .contains("only approvers")
        );
    }

    #[test]
    fn a_decided_request_is_not_decided_again() {
        let mut r = pending("bob@EXAMPLE.TEST", None);
        r.state = RequestState::Denied;
        r.decided_by = Some("erin@EXAMPLE.TEST".into());
        let e = decide(&r, &alice(), Decision::Approve, "").unwrap_err();
        assert!(e.contains("already denied (by erin@EXAMPLE.TEST)"), "{e}");
    }

    #[tokio::test]
    async fn the_store_writes_a_decision_once() {
        let dir = std::env::temp_dir().join(format!("provision-requests-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let pool = crate::db::open(&dir.join("r.sqlite")).await.unwrap();
        crate::registry::import_csv(&pool, "fqdn\namt1.example.test\n")
            .await
            .unwrap();
        let id = insert(&pool, 1, "bob@EXAMPLE.TEST", None, "sign-in fails")
            .await
            .unwrap();
        let r = get(&pool, id).await.unwrap().unwrap();
        assert_eq!((r.state, r.fqdn.as_str()), (RequestState::Pending, "amt1.example.test"));
        assert!(
            record_decision(&pool, id, RequestState::Denied, "alice@EXAMPLE.TEST", "spare laptop")
                .await
                .unwrap()
        );
        assert!(
            !record_decision(&pool, id, RequestState::Running, "carol@EXAMPLE.TEST", "")
                .await
                .unwrap()
        );
        let r = get(&pool, id).await.unwrap().unwrap();
        assert_eq!(
            (r.state, r.comment.as_deref(), r.decided_by.as_deref()),
            (RequestState::Denied, Some("spare laptop"), Some("alice@EXAMPLE.TEST"))
        );
        assert_eq!(
            list(&pool, Some("BOB@example.test"), None, None).await.unwrap().len(),
            1
        );
        assert!(
            list(&pool, None, None, Some(RequestState::Pending))
                .await
                .unwrap()
                .is_empty()
        );
    }
}
