//! Provisioning profiles in SQLite (tables `profiles`, `profile_acl_entries`, and
//! `devices.profile_id`), and the administrators' services on them.
//!
//! - The store functions (`list`, `get`, `for_device`, `save`, `delete`, `assign`,
//!   `devices_of`) take the pool and do no authorization: the apply run and the services here
//!   call them.
//! - The services on [`AppState`] are for members of `PORTAL_ADMIN_GROUPS` only
//!   ([`crate::roles`]), validate with [`Profile::validate`], check every ACL entry's SID in
//!   the directory on save ("a user or group that does not resolve" is named), and write every
//!   change to the portal's audit log.

use std::collections::HashMap;

use shared::profiles::{
    AccessScope, ConsentPolicy, PrincipalKind, Profile, ProfileAclEntry, ProfileDevice, ProfileProblem, ProfileSummary,
    Realm, RedirectionPolicy, SaveOutcome, TlsPolicy,
};
use sqlx::{Row, SqlitePool};

use crate::AppState;
use crate::auth::SessionUser;

/// What the profile store can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be read or written.
    #[error("the portal's database could not be used: {0}")]
    Database(#[from] sqlx::Error),
    /// No such profile.
    #[error("there is no profile number {0}: it may have been deleted; reload the list")]
    NotFound(i64),
    /// No such device.
    #[error("there is no device number {0} in the registry: reload the page")]
    UnknownDevice(i64),
    /// Another profile has the name.
    #[error("another profile is already called \"{0}\": choose another name")]
    NameTaken(String),
    /// Devices use the profile.
    #[error("the profile \"{profile}\" is used by {}: assign them another profile (or none) first", .devices.join(", "))]
    InUse {
        /// The profile's name.
        profile: String,
        /// FQDNs of the devices using it.
        devices: Vec<String>,
    },
}

#[derive(sqlx::FromRow)]
struct Row_ {
    id: i64,
    name: String,
    description: String,
    device_ou: String,
    clock_tolerance_minutes: i64,
    tls: String,
    redirection_sol: bool,
    redirection_storage: bool,
    redirection_kvm: bool,
    consent: String,
    time_sync_hours: i64,
}

const COLUMNS: &str = "id, name, description, device_ou, clock_tolerance_minutes, tls, redirection_sol, \
     redirection_storage, redirection_kvm, consent, time_sync_hours";

fn kind_of(id: &str) -> PrincipalKind {
    if id == "group" {
        PrincipalKind::Group
    } else {
        PrincipalKind::User
    }
}

fn realms_text(realms: &[Realm]) -> String {
    realms
        .iter()
        .map(|r| r.value().to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn realms_of(text: &str) -> Vec<Realm> {
    text.split(',')
        .filter_map(|v| v.trim().parse::<u8>().ok())
        .filter_map(Realm::from_value)
        .collect()
}

async fn acl_of(pool: &SqlitePool, profile_id: i64) -> Result<Vec<ProfileAclEntry>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT sid, name, kind, realms, access FROM profile_acl_entries WHERE profile_id = ? ORDER BY position",
    )
    .bind(profile_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ProfileAclEntry {
            sid: r.get("sid"),
            name: r.get("name"),
            kind: kind_of(r.get::<String, _>("kind").as_str()),
            realms: realms_of(r.get::<String, _>("realms").as_str()),
            access: AccessScope::from_value(r.get::<i64, _>("access") as u8).unwrap_or_default(),
        })
        .collect())
}

async fn profile_of(pool: &SqlitePool, row: Row_) -> Result<Profile, sqlx::Error> {
    Ok(Profile {
        acl: acl_of(pool, row.id).await?,
        id: row.id,
        name: row.name,
        description: row.description,
        device_ou: row.device_ou,
        clock_tolerance_minutes: row.clock_tolerance_minutes.clamp(0, 255) as u8,
        tls: TlsPolicy::from_id(&row.tls).unwrap_or_default(),
        redirection: RedirectionPolicy {
            sol: row.redirection_sol,
            storage: row.redirection_storage,
            kvm: row.redirection_kvm,
        },
        consent: ConsentPolicy::from_id(&row.consent).unwrap_or_default(),
        time_sync_hours: row.time_sync_hours.clamp(0, i64::from(u16::MAX)) as u16,
    })
}

/// Every profile with its entry count and the devices using it, by name.
pub async fn list(pool: &SqlitePool) -> Result<Vec<ProfileSummary>, StoreError> {
    let rows = sqlx::query(
        "SELECT p.id, p.name, p.description, p.updated_by, p.updated_at,
                (SELECT COUNT(*) FROM profile_acl_entries e WHERE e.profile_id = p.id) AS entries
         FROM profiles p ORDER BY p.name COLLATE NOCASE",
    )
    .fetch_all(pool)
    .await?;
    let mut devices: HashMap<i64, Vec<String>> = HashMap::new();
    for r in sqlx::query("SELECT profile_id, fqdn FROM devices WHERE profile_id IS NOT NULL ORDER BY fqdn")
        .fetch_all(pool)
        .await?
    {
        devices.entry(r.get("profile_id")).or_default().push(r.get("fqdn"));
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let id: i64 = r.get("id");
            ProfileSummary {
                id,
                name: r.get("name"),
                description: r.get("description"),
                entries: r.get::<i64, _>("entries") as usize,
                devices: devices.remove(&id).unwrap_or_default(),
                updated_by: r.get("updated_by"),
                updated_at: r.get("updated_at"),
            }
        })
        .collect())
}

/// The profile `id`, with its ACL entries in order.
pub async fn get(pool: &SqlitePool, id: i64) -> Result<Option<Profile>, StoreError> {
    let row = sqlx::query_as::<_, Row_>(&format!("SELECT {COLUMNS} FROM profiles WHERE id = ?"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(match row {
        Some(r) => Some(profile_of(pool, r).await?),
        None => None,
    })
}

/// The profile assigned to device `device_id`, if any (what the apply run provisions it with).
pub async fn for_device(pool: &SqlitePool, device_id: i64) -> Result<Option<Profile>, StoreError> {
    let profile_id: Option<Option<i64>> = sqlx::query_scalar("SELECT profile_id FROM devices WHERE id = ?")
        .bind(device_id)
        .fetch_optional(pool)
        .await?;
    match profile_id {
        None => Err(StoreError::UnknownDevice(device_id)),
        Some(None) => Ok(None),
        Some(Some(p)) => get(pool, p).await,
    }
}

/// Inserts (`profile.id == 0`) or replaces profile `profile.id` with its entries, as `by`; returns
/// its id. Does not validate: callers run [`Profile::validate`] first.
pub async fn save(pool: &SqlitePool, profile: &Profile, by: &str) -> Result<i64, StoreError> {
    let name = profile.name.trim();
    let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM profiles WHERE name = ? AND id != ?")
        .bind(name)
        .bind(profile.id)
        .fetch_optional(pool)
        .await?;
    if taken.is_some() {
        return Err(StoreError::NameTaken(name.to_string()));
    }
    let mut tx = pool.begin().await?;
    let values = |q: sqlx::query::Query<'static, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'static>>| {
        q.bind(name.to_string())
            .bind(profile.description.trim().to_string())
            .bind(profile.device_ou.trim().to_string())
            .bind(i64::from(profile.clock_tolerance_minutes))
            .bind(profile.tls.id())
            .bind(profile.redirection.sol)
            .bind(profile.redirection.storage)
            .bind(profile.redirection.kvm)
            .bind(profile.consent.id())
            .bind(i64::from(profile.time_sync_hours))
            .bind(by.to_string())
    };
    let id = if profile.id == 0 {
        values(sqlx::query(
            "INSERT INTO profiles (name, description, device_ou, clock_tolerance_minutes, tls, redirection_sol,
               redirection_storage, redirection_kvm, consent, time_sync_hours, updated_by)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ))
        .execute(&mut *tx)
        .await?
        .last_insert_rowid()
    } else {
        let done = values(sqlx::query(
            "UPDATE profiles SET name = ?, description = ?, device_ou = ?, clock_tolerance_minutes = ?, tls = ?,
               redirection_sol = ?, redirection_storage = ?, redirection_kvm = ?, consent = ?, time_sync_hours = ?,
               updated_by = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
             WHERE id = ?",
        ))
        .bind(profile.id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(profile.id));
        }
        profile.id
    };
    sqlx::query("DELETE FROM profile_acl_entries WHERE profile_id = ?")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    for (position, e) in profile.acl.iter().enumerate() {
        sqlx::query(
            "INSERT INTO profile_acl_entries (profile_id, position, sid, name, kind, realms, access)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(position as i64)
        .bind(&e.sid)
        .bind(&e.name)
        .bind(e.kind.id())
        .bind(realms_text(&e.realms))
        .bind(i64::from(e.access.value()))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// FQDNs of the devices using profile `id`.
pub async fn devices_of(pool: &SqlitePool, id: i64) -> Result<Vec<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT fqdn FROM devices WHERE profile_id = ? ORDER BY fqdn")
            .bind(id)
            .fetch_all(pool)
            .await?,
    )
}

/// Deletes profile `id` unless devices use it (they are named); returns its name.
pub async fn delete(pool: &SqlitePool, id: i64) -> Result<String, StoreError> {
    let name: String = sqlx::query_scalar("SELECT name FROM profiles WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound(id))?;
    let devices = devices_of(pool, id).await?;
    if !devices.is_empty() {
        return Err(StoreError::InUse { profile: name, devices });
    }
    sqlx::query("DELETE FROM profiles WHERE id = ?")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(name)
}

/// Gives `device_ids` the profile `profile_id` (`None`: no profile); returns their FQDNs. All or
/// nothing: an unknown device or profile changes none.
pub async fn assign(pool: &SqlitePool, device_ids: &[i64], profile_id: Option<i64>) -> Result<Vec<String>, StoreError> {
    let mut tx = pool.begin().await?;
    if let Some(p) = profile_id {
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM profiles WHERE id = ?")
            .bind(p)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound(p));
        }
    }
    let mut fqdns = Vec::new();
    for &d in device_ids {
        let fqdn: Option<String> = sqlx::query_scalar(
            "UPDATE devices SET profile_id = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ? RETURNING fqdn",
        )
        .bind(profile_id)
        .bind(d)
        .fetch_optional(&mut *tx)
        .await?;
        fqdns.push(fqdn.ok_or(StoreError::UnknownDevice(d))?);
    }
    tx.commit().await?;
    Ok(fqdns)
}

/// Every registered device with the profile it uses.
pub async fn devices(pool: &SqlitePool) -> Result<Vec<ProfileDevice>, StoreError> {
    let rows = sqlx::query(
        "SELECT d.id, d.fqdn, p.id AS pid, p.name AS pname FROM devices d LEFT JOIN profiles p ON p.id = d.profile_id
         ORDER BY d.fqdn",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ProfileDevice {
            id: r.get("id"),
            fqdn: r.get("fqdn"),
            profile: r.get::<Option<i64>, _>("pid").zip(r.get::<Option<String>, _>("pname")),
        })
        .collect())
}

/// The problems of entries whose SID the directory does not know (`known`: what it resolved).
/// Malformed SIDs are left out: [`Profile::validate`] already names them.
pub fn unresolved(profile: &Profile, known: &HashMap<String, shared::profiles::Principal>) -> Vec<ProfileProblem> {
    profile
        .acl
        .iter()
        .enumerate()
        .filter(|(_, e)| shared::profiles::sid_is_well_formed(&e.sid) && !known.contains_key(&e.sid))
        .map(|(i, e)| ProfileProblem {
            field: format!("acl.{i}"),
            message: format!(
                "Entry {} ({} {}) is a user or group that does not resolve in the directory: it was deleted, renamed into another domain, or never existed. Remove the entry, or search for the user or group again.",
                i + 1,
                e.name,
                e.sid
            ),
        })
        .collect()
}

impl AppState {
    async fn require_admin(&self, user: &SessionUser) -> Result<(), String> {
        if self.is_admin(user).await {
            Ok(())
        } else {
            Err(self.not_admin_profiles())
        }
    }

    /// The refusal for a non-administrator on the profile pages.
    pub fn not_admin_profiles(&self) -> String {
        format!(
            "only members of {} may see and change provisioning profiles; ask one of them",
            self.config.admin_groups.join(" or ")
        )
    }

    /// The profiles list (administrators only).
    pub async fn profiles_list(&self, user: &SessionUser) -> Result<Vec<ProfileSummary>, String> {
        self.require_admin(user).await?;
        list(&self.pool).await.map_err(|e| e.to_string())
    }

    /// Profile `id` (administrators only); `0` gives a new profile with the defaults.
    pub async fn profile(&self, user: &SessionUser, id: i64) -> Result<Profile, String> {
        self.require_admin(user).await?;
        if id == 0 {
            return Ok(Profile::default());
        }
        get(&self.pool, id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| StoreError::NotFound(id).to_string())
    }

    /// Users and groups for the editor's type-ahead (administrators only).
    pub async fn search_principals(
        &self,
        user: &SessionUser,
        query: &str,
    ) -> Result<Vec<shared::profiles::Principal>, String> {
        self.require_admin(user).await?;
        let dir = self.directory.as_ref().ok_or(NO_DIRECTORY)?;
        dir.search_principals(query).await
    }

    /// Validates and saves `profile` (administrators only): every problem by its field, or the
    /// saved id. Every entry's SID must still resolve in the directory; names and kinds are
    /// refreshed from it. Audited.
    pub async fn save_profile(&self, user: &SessionUser, mut profile: Profile) -> Result<SaveOutcome, String> {
        self.require_admin(user).await?;
        let mut problems = profile.validate();
        if problems.iter().all(|p| p.field != "acl") && !profile.acl.is_empty() {
            let dir = self.directory.as_ref().ok_or(NO_DIRECTORY)?;
            let sids: Vec<String> = profile.acl.iter().map(|e| e.sid.clone()).collect();
            let known = dir.resolve_sids(&sids).await.map_err(|e| {
                format!("the users and groups could not be checked in the directory, so nothing was saved: {e}")
            })?;
            problems.extend(unresolved(&profile, &known));
            for e in &mut profile.acl {
                if let Some(p) = known.get(&e.sid) {
                    e.name = p.name.clone();
                    e.kind = p.kind;
                }
            }
        }
        problems.sort_by_key(|p| field_order(&p.field));
        if !problems.is_empty() {
            crate::audit::record(
                &self.pool,
                Some(&user.principal),
                "profile: save",
                Some(profile.name.trim()),
                "refused",
                Some(
                    &problems
                        .iter()
                        .map(|p| p.message.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
            )
            .await;
            return Ok(SaveOutcome::Problems(problems));
        }
        let id = match save(&self.pool, &profile, &user.principal).await {
            Ok(id) => id,
            Err(StoreError::NameTaken(n)) => {
                return Ok(SaveOutcome::Problems(vec![ProfileProblem {
                    field: "name".into(),
                    message: StoreError::NameTaken(n).to_string(),
                }]));
            }
            Err(e) => return Err(e.to_string()),
        };
        let detail = format!(
            "{} entries: {}; OU {}; tolerance {} min; TLS {}; consent {}; clock sync every {} h",
            profile.acl.len(),
            profile
                .acl
                .iter()
                .map(|e| format!(
                    "{} ({}) {}",
                    e.name,
                    e.access.name(),
                    e.realms.iter().map(|r| r.name()).collect::<Vec<_>>().join("+")
                ))
                .collect::<Vec<_>>()
                .join(", "),
            profile.device_ou.trim(),
            profile.clock_tolerance_minutes,
            profile.tls.id(),
            profile.consent.id(),
            profile.time_sync_hours
        );
        crate::audit::record(
            &self.pool,
            Some(&user.principal),
            if profile.id == 0 {
                "profile: create"
            } else {
                "profile: update"
            },
            Some(profile.name.trim()),
            "ok",
            Some(&detail),
        )
        .await;
        tracing::info!(user.principal = %user.principal, profile.id = id, "profile saved");
        Ok(SaveOutcome::Saved {
            id,
            message: format!("The profile \"{}\" is saved.", profile.name.trim()),
        })
    }

    /// Deletes profile `id` unless devices use it (administrators only); audited.
    pub async fn delete_profile(&self, user: &SessionUser, id: i64) -> Result<String, String> {
        self.require_admin(user).await?;
        let outcome = delete(&self.pool, id).await;
        let (result, detail) = match &outcome {
            Ok(_) => ("ok", None),
            Err(e) => ("refused", Some(e.to_string())),
        };
        let target = match &outcome {
            Ok(name) | Err(StoreError::InUse { profile: name, .. }) => name.clone(),
            Err(_) => format!("profile {id}"),
        };
        crate::audit::record(
            &self.pool,
            Some(&user.principal),
            "profile: delete",
            Some(&target),
            result,
            detail.as_deref(),
        )
        .await;
        outcome
            .map(|name| format!("The profile \"{name}\" is deleted."))
            .map_err(|e| e.to_string())
    }

    /// Every device with its profile, for the "assign devices" list (administrators only).
    pub async fn profile_devices(&self, user: &SessionUser) -> Result<Vec<ProfileDevice>, String> {
        self.require_admin(user).await?;
        devices(&self.pool).await.map_err(|e| e.to_string())
    }

    /// Gives `device_ids` the profile `profile_id` (`None`: none) (administrators only); one
    /// audit row per device. The profile takes effect when the device is next provisioned.
    pub async fn assign_profile(
        &self,
        user: &SessionUser,
        profile_id: Option<i64>,
        device_ids: &[i64],
    ) -> Result<String, String> {
        self.require_admin(user).await?;
        if device_ids.is_empty() {
            return Err("choose at least one device".into());
        }
        let name = match profile_id {
            Some(p) => Some(
                get(&self.pool, p)
                    .await
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| StoreError::NotFound(p).to_string())?
                    .name,
            ),
            None => None,
        };
        let fqdns = assign(&self.pool, device_ids, profile_id)
            .await
            .map_err(|e| e.to_string())?;
        let what = name
            .as_deref()
            .map(|n| format!("profile \"{n}\""))
            .unwrap_or_else(|| "no profile".into());
        for f in &fqdns {
            crate::audit::record(
                &self.pool,
                Some(&user.principal),
                "profile: assign",
                Some(f),
                "ok",
                Some(&what),
            )
            .await;
        }
        Ok(format!(
            "{} now {} {what}; it takes effect when {} provisioned.",
            fqdns.join(", "),
            if fqdns.len() == 1 { "has" } else { "have" },
            if fqdns.len() == 1 {
                "the device is next"
            } else {
                "each is next"
            },
        ))
    }

    /// The device page's profile chooser: whether `user` may change it, the device's profile,
    /// every profile by name.
    pub async fn device_profile(
        &self,
        user: &SessionUser,
        device_id: i64,
    ) -> Result<shared::profiles::DeviceProfileView, String> {
        if !self.is_admin(user).await {
            return Ok(shared::profiles::DeviceProfileView::default());
        }
        let current = for_device(&self.pool, device_id).await.map_err(|e| e.to_string())?;
        let profiles = list(&self.pool).await.map_err(|e| e.to_string())?;
        Ok(shared::profiles::DeviceProfileView {
            allowed: true,
            current: current.map(|p| p.id),
            profiles: profiles.into_iter().map(|p| (p.id, p.name)).collect(),
        })
    }
}

/// The refusal when no directory is configured.
const NO_DIRECTORY: &str = "profiles need the directory to find users and groups: set PORTAL_LDAP_URL";

/// Problems in the order of the form.
fn field_order(field: &str) -> (u8, usize) {
    let (head, index) = match field.split_once('.') {
        Some((h, i)) => (h, i.parse().unwrap_or(0) + 1),
        None => (field, 0),
    };
    let rank = [
        "name",
        "description",
        "acl",
        "device_ou",
        "clock_tolerance_minutes",
        "tls",
        "redirection",
        "consent",
        "time_sync_hours",
    ]
    .iter()
    .position(|f| *f == head)
    .unwrap_or(99) as u8;
    (rank, index)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn pool(name: &str) -> SqlitePool {
        let dir = std::env::temp_dir().join(format!("profiles-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let pool = crate::db::open(&dir.join("p.sqlite")).await.unwrap();
        crate::registry::import_csv(&pool, "fqdn\namt1.example.test\namt2.example.test\n")
            .await
            .unwrap();
        pool
    }

    fn profile(name: &str) -> Profile {
        Profile {
            name: name.into(),
            acl: vec![
                ProfileAclEntry {
                    sid: "S-1-5-21-1-2-3-1118".into(),
                    name: "AMT Admins".into(),
                    kind: PrincipalKind::Group,
                    realms: Realm::ADMINISTRATOR.to_vec(),
                    access: AccessScope::Both,
                },
                ProfileAclEntry {
                    sid: "S-1-5-21-1-2-3-1119".into(),
                    name: "AMT Helpdesk".into(),
                    kind: PrincipalKind::Group,
                    realms: Realm::HELPDESK.to_vec(),
                    access: AccessScope::Network,
                },
            ],
            device_ou: "OU=AMT Devices,DC=example,DC=test".into(),
            redirection: RedirectionPolicy {
                sol: true,
                storage: true,
                kvm: true,
            },
            consent: ConsentPolicy::Kvm,
            tls: TlsPolicy::Required,
            clock_tolerance_minutes: 3,
            time_sync_hours: 12,
            ..Profile::default()
        }
    }

    #[tokio::test]
    async fn a_profile_round_trips_with_its_entries_in_order() {
        let pool = pool("roundtrip").await;
        let mut p = profile("Lab");
        let id = save(&pool, &p, "alice").await.unwrap();
        p.id = id;
        assert_eq!(get(&pool, id).await.unwrap().unwrap(), p);
        p.acl.reverse();
        p.acl[0].realms = Realm::READ.to_vec();
        p.description = "changed".into();
        assert_eq!(save(&pool, &p, "alice").await.unwrap(), id);
        assert_eq!(get(&pool, id).await.unwrap().unwrap(), p);
        assert!(get(&pool, 99).await.unwrap().is_none());
        let mut missing = p.clone();
        missing.id = 99;
        missing.name = "Gone".into();
        assert!(matches!(
            save(&pool, &missing, "a").await,
            Err(StoreError::NotFound(99))
        ));
        let mut twin = profile("LAB");
        twin.id = 0;
        let e = save(&pool, &twin, "a").await.unwrap_err();
        assert!(e.to_string().contains("already called \"LAB\""), "{e}");
    }

    #[tokio::test]
    async fn devices_are_assigned_and_a_used_profile_is_not_deleted() {
        let pool = pool("assign").await;
        let id = save(&pool, &profile("Lab"), "alice").await.unwrap();
        assert_eq!(for_device(&pool, 1).await.unwrap(), None);
        assert_eq!(
            assign(&pool, &[1, 2], Some(id)).await.unwrap(),
            ["amt1.example.test", "amt2.example.test"]
        );
        assert_eq!(for_device(&pool, 2).await.unwrap().unwrap().name, "Lab");
        assert!(matches!(for_device(&pool, 9).await, Err(StoreError::UnknownDevice(9))));
        let e = delete(&pool, id).await.unwrap_err();
        assert_eq!(
            e.to_string(),
            "the profile \"Lab\" is used by amt1.example.test, amt2.example.test: assign them another profile (or none) first"
        );
        let listed = list(&pool).await.unwrap();
        assert_eq!((listed[0].entries, listed[0].devices.len()), (2, 2));
        assert!(matches!(
            assign(&pool, &[1, 77], None).await,
            Err(StoreError::UnknownDevice(77))
        ));
        assert_eq!(devices_of(&pool, id).await.unwrap().len(), 2, "all or nothing");
        assert!(matches!(
            assign(&pool, &[1], Some(42)).await,
            Err(StoreError::NotFound(42))
        ));
        assign(&pool, &[1, 2], None).await.unwrap();
        assert_eq!(delete(&pool, id).await.unwrap(), "Lab");
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM profile_acl_entries")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(left, 0, "entries go with their profile");
        assert!(matches!(delete(&pool, id).await, Err(StoreError::NotFound(_))));
    }

    #[tokio::test]
    async fn the_database_refuses_deleting_a_used_profile_too() {
        let pool = pool("restrict").await;
        let id = save(&pool, &profile("Lab"), "alice").await.unwrap();
        assign(&pool, &[1], Some(id)).await.unwrap();
        let r = sqlx::query("DELETE FROM profiles WHERE id = ?")
            .bind(id)
            .execute(&pool)
            .await;
        assert!(r.is_err(), "ON DELETE RESTRICT with foreign keys on");
    }

    #[test]
    fn unresolved_entries_are_named() {
        let p = profile("Lab");
        let mut known = HashMap::new();
        known.insert(
            p.acl[0].sid.clone(),
            shared::profiles::Principal {
                sid: p.acl[0].sid.clone(),
                name: "AMT Admins".into(),
                kind: PrincipalKind::Group,
                detail: String::new(),
            },
        );
        let problems = unresolved(&p, &known);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].field, "acl.1");
        assert!(problems[0].message.contains("AMT Helpdesk S-1-5-21-1-2-3-1119"));
        assert!(problems[0].message.contains("does not resolve"));
        assert!(field_order("acl.1") < field_order("device_ou"));
        assert!(field_order("acl") < field_order("acl.0"));
    }
}
