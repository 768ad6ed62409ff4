//! Portal roles from Active Directory groups: a user holds a role when one of the groups in
//! their ticket (PAC group SIDs) is named in the role's setting, by SID or by name. Rights are
//! cumulative across groups, like AMT's own ACL.
//!
//! Names are resolved through the directory ([`crate::directory`]); when it cannot be asked,
//! only SIDs in the setting match, and the refusal says so.

use crate::AppState;
use crate::auth::SessionUser;

/// Whether one of `wanted` (a SID, or a group name) is among the user's group SIDs or names.
pub fn in_groups(wanted: &[String], user_sids: &[String], user_group_names: &[String]) -> bool {
    wanted.iter().any(|w| {
        if w.to_ascii_uppercase().starts_with("S-1-") {
            user_sids.iter().any(|s| s.eq_ignore_ascii_case(w))
        } else {
            user_group_names.iter().any(|n| n.eq_ignore_ascii_case(w))
        }
    })
}

impl AppState {
    /// Whether `user` is in one of `groups` (SIDs `S-1-…` or group names, case-insensitive).
    pub async fn member_of_any(&self, user: &SessionUser, groups: &[String]) -> bool {
        if groups
            .iter()
            .any(|g| user.group_sids.iter().any(|s| s.eq_ignore_ascii_case(g)))
        {
            return true;
        }
        let names: Vec<&String> = groups.iter().filter(|g| !g.starts_with("S-1-")).collect();
        if names.is_empty() {
            return false;
        }
        let Some(dir) = &self.directory else { return false };
        match dir.names_for(&user.group_sids).await {
            Ok(map) => map.values().any(|n| names.iter().any(|g| g.eq_ignore_ascii_case(n))),
            Err(e) => {
                tracing::warn!(error = %e, "group names unavailable: only group SIDs in the settings can match");
                false
            }
        }
    }

    /// Whether `user` may change the device registry (`PORTAL_ADMIN_GROUPS`).
    pub async fn is_admin(&self, user: &SessionUser) -> bool {
        self.member_of_any(user, &self.config.admin_groups).await
    }

    /// The refusal for a user who is not an administrator.
    pub fn not_admin(&self) -> String {
        format!(
            "only members of {} may change the device registry; ask one of them, or an administrator to add your group to PORTAL_ADMIN_GROUPS",
            self.config.admin_groups.join(" or ")
        )
    }
}
