//! The AD settings page's services: read, save and test the settings. Registry administrators
//! only (`PORTAL_ADMIN_GROUPS`); every save and test is in the portal's audit log (never the
//! password). Other parts of the portal read the settings in force with [`AppState::ad_settings`].

use shared::ad::{AdSettingsForm, AdSettingsView, AdTestReport, BindMethod};

use super::error::AdError;
use super::settings::{self, AdSettings};
use crate::AppState;
use crate::auth::SessionUser;

/// Why passwords cannot be stored on this portal.
const NO_SEALER: &str = "this portal has no secret key (PORTAL_SECRET_KEY_FILE), so it cannot store a bind password: use the portal's service account (Kerberos)";

/// A one-line summary of a form for the audit log (no password).
fn summary(form: &AdSettingsForm) -> String {
    let dcs: Vec<&str> = form
        .domain_controllers
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let mut s = format!(
        "DCs: {}; base DN: {}; OU: {}; bind: {}",
        dcs.join(", "),
        form.base_dn.trim(),
        form.device_ou.trim(),
        form.bind.key()
    );
    if form.bind != BindMethod::Kerberos {
        s.push_str(&format!(" as {}", form.bind_user.trim()));
        if !form.bind_password.is_empty() {
            s.push_str(" (new password)");
        }
    }
    if form.allow_insecure {
        s.push_str("; insecure allowed");
    }
    s.push_str(&format!(
        "; approvers: {}",
        form.approver_groups
            .split(['\n', ','])
            .map(str::trim)
            .filter(|g| !g.is_empty())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    s
}

impl AppState {
    /// The AD settings in force (saved, else from the configuration), for the apply run,
    /// approvals and health checks.
    pub async fn ad_settings(&self) -> Result<AdSettings, AdError> {
        settings::load(&self.pool, &self.config, self.sealer.as_deref()).await
    }

    /// The settings page's data (administrators only).
    pub async fn ad_settings_view(&self, user: &SessionUser) -> Result<AdSettingsView, String> {
        if !self.is_admin(user).await {
            return Err(self.not_admin());
        }
        let stored = settings::stored(&self.pool).await?;
        let sealing_unavailable = self.sealer.is_none().then(|| NO_SEALER.to_string());
        Ok(match stored {
            Some(s) => AdSettingsView {
                form: s.form,
                password_stored: s.sealed_password.is_some(),
                saved_by: Some(s.saved_by),
                saved_at: Some(s.saved_at),
                sealing_unavailable,
            },
            None => AdSettingsView {
                form: settings::defaults(&self.config),
                password_stored: false,
                saved_by: None,
                saved_at: None,
                sealing_unavailable,
            },
        })
    }

    /// Validates and saves the settings (administrators only); audited.
    pub async fn save_ad_settings(&self, user: &SessionUser, form: &AdSettingsForm) -> Result<String, String> {
        if !self.is_admin(user).await {
            return Err(self.not_admin());
        }
        let result = settings::save(&self.pool, form, self.sealer.as_deref(), &user.principal).await;
        crate::audit::record(
            &self.pool,
            Some(&user.principal),
            "AD settings: save",
            None,
            if result.is_ok() { "ok" } else { "refused" },
            Some(&match &result {
                Ok(_) => summary(form),
                Err(e) => format!("{e} ({})", summary(form)),
            }),
        )
        .await;
        result.map(|s| {
            format!(
                "The AD settings are saved: {} domain controller(s), AMT objects in {}.",
                s.domain_controllers.len(),
                s.device_ou
            )
        })
    }

    /// Runs the "test" action on the settings as typed (an empty password uses the stored one),
    /// without saving them (administrators only); audited.
    pub async fn test_ad_settings(&self, user: &SessionUser, form: &AdSettingsForm) -> Result<AdTestReport, String> {
        if !self.is_admin(user).await {
            return Err(self.not_admin());
        }
        let stored_pw = if form.bind_password.is_empty() && form.bind != BindMethod::Kerberos {
            let sealed = settings::stored(&self.pool).await?.and_then(|s| s.sealed_password);
            match (sealed, self.sealer.as_deref()) {
                (Some(s), Some(sealer)) => settings::open_stored_password(sealer, &s).ok(),
                _ => None,
            }
        } else {
            None
        };
        // Testing does not store the password: a sealer is not needed to try one.
        let validated = settings::validate(form, stored_pw, true);
        let report = match validated {
            Ok(s) => super::probe::run(&s).await,
            Err(e) => {
                crate::audit::record(
                    &self.pool,
                    Some(&user.principal),
                    "AD settings: test",
                    None,
                    "refused",
                    Some(&e),
                )
                .await;
                return Err(e);
            }
        };
        let failed: Vec<String> = report
            .checks
            .iter()
            .filter(|c| c.outcome == shared::ad::CheckOutcome::Failed)
            .map(|c| c.detail.clone())
            .collect();
        crate::audit::record(
            &self.pool,
            Some(&user.principal),
            "AD settings: test",
            None,
            if failed.is_empty() { "ok" } else { "failed" },
            Some(&if failed.is_empty() {
                summary(form)
            } else {
                format!("{} ({})", failed.join("; "), summary(form))
            }),
        )
        .await;
        Ok(report)
    }
}
