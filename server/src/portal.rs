//! The services behind the UI's server functions (`frontend::api::ssr::Portal`), implemented on
//! the server's state. Server functions stay thin: they call these and nothing else.

use frontend::api::ssr::{BoxFuture, Portal};
use shared::{
    AdGroup, AdminModeView, BulkReport, DelegationView, DeviceOutcome, DeviceRow, DiscoveryView, FleetPage, FleetQuery,
    KerberosView, Me, PowerAction, PowerView, RefreshProgress,
};
use tower_sessions::Session;

use crate::AppState;
use crate::auth::{SessionUser, current_user};

/// The signed-in user of a request, if any (the session is in the request's extensions).
async fn session_user(parts: &http::request::Parts) -> Result<Option<SessionUser>, String> {
    let session = parts
        .extensions
        .get::<Session>()
        .cloned()
        .ok_or("the request has no session (portal misconfiguration)")?;
    Ok(current_user(&session).await)
}

/// The signed-in user of a request, or an error server functions turn into "sign in again".
async fn user_of(parts: &http::request::Parts) -> Result<SessionUser, String> {
    session_user(parts)
        .await?
        .ok_or_else(|| "you are not signed in (your session may have ended): reload the page".to_string())
}

impl Portal for AppState {
    fn ad_settings(&self, parts: http::request::Parts) -> BoxFuture<'_, Result<shared::ad::AdSettingsView, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            self.ad_settings_view(&user).await
        })
    }

    fn save_ad_settings(
        &self,
        parts: http::request::Parts,
        form: shared::ad::AdSettingsForm,
    ) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            AppState::save_ad_settings(self, &user, &form).await
        })
    }

    fn test_ad_settings(
        &self,
        parts: http::request::Parts,
        form: shared::ad::AdSettingsForm,
    ) -> BoxFuture<'_, Result<shared::ad::AdTestReport, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            AppState::test_ad_settings(self, &user, &form).await
        })
    }

    fn devices(&self, parts: http::request::Parts) -> BoxFuture<'_, Result<Vec<DeviceRow>, String>> {
        Box::pin(async move {
            user_of(&parts).await?;
            let all = crate::registry::list(&self.pool)
                .await
                .map_err(|e| format!("the device registry could not be read: {e}"))?;
            Ok(all.iter().map(DeviceRow::from).collect())
        })
    }

    fn fleet_page(&self, parts: http::request::Parts, query: FleetQuery) -> BoxFuture<'_, Result<FleetPage, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            let mut page = self
                .fleet
                .page(&self.pool, &query)
                .await
                .map_err(|e| format!("the device registry could not be read: {e}"))?;
            page.can_manage = self.is_admin(&user).await;
            page.discovery_configured = self.config.device_ou.is_some() && self.directory.is_some();
            Ok(page)
        })
    }

    fn enable_console(
        &self,
        parts: http::request::Parts,
        id: i64,
    ) -> BoxFuture<'_, Result<DeviceOutcome<String>, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            Ok(AppState::enable_console(self, &user, id).await)
        })
    }

    fn add_device(
        &self,
        parts: http::request::Parts,
        device: shared::NewDeviceForm,
    ) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            if !self.is_admin(&user).await {
                return Err(self.not_admin());
            }
            self.add_device(&user.principal, &device).await
        })
    }

    fn discover_devices(&self, parts: http::request::Parts) -> BoxFuture<'_, Result<DiscoveryView, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            if !self.is_admin(&user).await {
                return Err(self.not_admin());
            }
            AppState::discover_devices(self, &user.principal).await
        })
    }

    fn fleet_refresh(&self, parts: http::request::Parts) -> BoxFuture<'_, Result<RefreshProgress, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            self.refresh_fleet(&user.principal).await
        })
    }

    fn bulk_power(
        &self,
        parts: http::request::Parts,
        ids: Vec<i64>,
        action: PowerAction,
    ) -> BoxFuture<'_, Result<BulkReport, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            AppState::bulk_power(self, &user, ids, action).await
        })
    }

    fn transcripts(
        &self,
        parts: http::request::Parts,
        id: i64,
    ) -> BoxFuture<'_, Result<shared::console::TranscriptsView, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            self.transcripts_view(&user, id).await
        })
    }

    fn set_transcript_policy(
        &self,
        parts: http::request::Parts,
        id: i64,
        keep: bool,
    ) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            AppState::set_transcript_policy(self, &user, id, keep).await
        })
    }

    fn admin_mode(&self, parts: http::request::Parts, id: i64) -> BoxFuture<'_, Result<AdminModeView, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            self.admin_mode_view(&user, id).await
        })
    }

    fn set_admin_account(
        &self,
        parts: http::request::Parts,
        id: i64,
        username: String,
        password: String,
    ) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            AppState::set_admin_account(self, &user, id, username.trim(), &password).await
        })
    }

    fn forget_admin_account(&self, parts: http::request::Parts, id: i64) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            AppState::forget_admin_account(self, &user, id).await
        })
    }

    fn admin_power_action(
        &self,
        parts: http::request::Parts,
        id: i64,
        action: PowerAction,
    ) -> BoxFuture<'_, Result<DeviceOutcome<String>, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            Ok(AppState::admin_power_action(self, &user, id, action).await)
        })
    }

    fn power(&self, parts: http::request::Parts, id: i64) -> BoxFuture<'_, Result<DeviceOutcome<PowerView>, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            Ok(self.power_view(&user, id).await)
        })
    }

    fn power_action(
        &self,
        parts: http::request::Parts,
        id: i64,
        action: PowerAction,
    ) -> BoxFuture<'_, Result<DeviceOutcome<String>, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            Ok(AppState::power_action(self, &user, id, action).await)
        })
    }

    fn device_details(
        &self,
        parts: http::request::Parts,
        id: i64,
    ) -> BoxFuture<'_, Result<DeviceOutcome<shared::DeviceDetails>, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            Ok(AppState::device_details(self, &user, id).await)
        })
    }

    fn sync_clock(&self, parts: http::request::Parts, id: i64) -> BoxFuture<'_, Result<DeviceOutcome<String>, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            Ok(AppState::sync_clock(self, &user, id).await)
        })
    }

    fn audit_log(
        &self,
        parts: http::request::Parts,
        filter: shared::AuditFilter,
    ) -> BoxFuture<'_, Result<DeviceOutcome<shared::AuditPage>, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            if let Err(message) = self.auditor_check(&user).await {
                return Ok(DeviceOutcome::Refused {
                    code: "not_auditor".into(),
                    message,
                });
            }
            // Sign-ins are written in batches: include every one queued before this request.
            self.audit.flush().await;
            Ok(match crate::audit_view::search(&self.pool, &filter).await {
                Ok(page) => DeviceOutcome::Ok(page),
                Err(message) => DeviceOutcome::Refused {
                    code: "bad_filter".into(),
                    message,
                },
            })
        })
    }

    fn health(
        &self,
        parts: http::request::Parts,
        device: Option<i64>,
    ) -> BoxFuture<'_, Result<shared::HealthReport, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            let seen = crate::health::sso::seen(&parts.headers);
            Ok(self.health_me(&user, seen, device).await)
        })
    }

    fn health_estimate(
        &self,
        parts: http::request::Parts,
        account: String,
        device: Option<i64>,
    ) -> BoxFuture<'_, Result<shared::HealthReport, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            if !self.is_admin(&user).await {
                return Err(self.not_admin());
            }
            self.health_estimate(&user, account.trim(), device).await
        })
    }

    fn me(&self, parts: http::request::Parts) -> BoxFuture<'_, Result<Option<Me>, String>> {
        Box::pin(async move {
            match session_user(&parts).await? {
                Some(user) => Ok(Some(self.me_view(user).await)),
                None => Ok(None),
            }
        })
    }

    fn profiles(
        &self,
        parts: http::request::Parts,
    ) -> BoxFuture<'_, Result<DeviceOutcome<Vec<shared::profiles::ProfileSummary>>, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            Ok(refused_as_not_admin(self.profiles_list(&user).await, self))
        })
    }

    fn profile(
        &self,
        parts: http::request::Parts,
        id: i64,
    ) -> BoxFuture<'_, Result<DeviceOutcome<shared::profiles::Profile>, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            Ok(refused_as_not_admin(AppState::profile(self, &user, id).await, self))
        })
    }

    fn save_profile(
        &self,
        parts: http::request::Parts,
        profile: shared::profiles::Profile,
    ) -> BoxFuture<'_, Result<shared::profiles::SaveOutcome, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            AppState::save_profile(self, &user, profile).await
        })
    }

    fn delete_profile(&self, parts: http::request::Parts, id: i64) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            AppState::delete_profile(self, &user, id).await
        })
    }

    fn search_principals(
        &self,
        parts: http::request::Parts,
        query: String,
    ) -> BoxFuture<'_, Result<Vec<shared::profiles::Principal>, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            AppState::search_principals(self, &user, &query).await
        })
    }

    fn profile_devices(
        &self,
        parts: http::request::Parts,
    ) -> BoxFuture<'_, Result<Vec<shared::profiles::ProfileDevice>, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            AppState::profile_devices(self, &user).await
        })
    }

    fn assign_profile(
        &self,
        parts: http::request::Parts,
        profile_id: Option<i64>,
        device_ids: Vec<i64>,
    ) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            AppState::assign_profile(self, &user, profile_id, &device_ids).await
        })
    }

    fn device_profile(
        &self,
        parts: http::request::Parts,
        id: i64,
    ) -> BoxFuture<'_, Result<shared::profiles::DeviceProfileView, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            AppState::device_profile(self, &user, id).await
        })
    }

    fn can_manage_profiles(&self, parts: http::request::Parts) -> BoxFuture<'_, Result<bool, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            Ok(self.is_admin(&user).await)
        })
    }

    fn device_provisioning(
        &self,
        parts: http::request::Parts,
        id: i64,
    ) -> BoxFuture<'_, Result<shared::provision::DeviceProvisioning, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            self.device_provisioning_view(&user, id).await
        })
    }

    fn apply_profile(
        &self,
        parts: http::request::Parts,
        ids: Vec<i64>,
    ) -> BoxFuture<'_, Result<shared::provision::ApplyReport, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            let (runs, refused) = self.apply_profiles(&user, ids).await?;
            Ok(shared::provision::ApplyReport { runs, refused })
        })
    }

    fn retry_run(&self, parts: http::request::Parts, id: i64) -> BoxFuture<'_, Result<i64, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            AppState::retry_run(self, &user, id).await
        })
    }

    fn provision_run(
        &self,
        parts: http::request::Parts,
        id: i64,
    ) -> BoxFuture<'_, Result<shared::provision::RunView, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            self.run_view(&user, id).await
        })
    }

    fn provision_runs(
        &self,
        parts: http::request::Parts,
    ) -> BoxFuture<'_, Result<Vec<shared::provision::RunView>, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            self.runs(&user, None).await
        })
    }

    fn request_reprovision(
        &self,
        parts: http::request::Parts,
        form: shared::provision::NewRequest,
    ) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            AppState::request_reprovision(self, &user, form).await
        })
    }

    fn decide_request(
        &self,
        parts: http::request::Parts,
        id: i64,
        approve: bool,
        comment: String,
    ) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            AppState::decide_request(self, &user, id, approve, comment).await
        })
    }

    fn my_requests(
        &self,
        parts: http::request::Parts,
    ) -> BoxFuture<'_, Result<shared::provision::RequestsPage, String>> {
        Box::pin(async move {
            let user = user_of(&parts).await?;
            self.requests_page(&user).await
        })
    }
}

/// A profile service's answer as the pages show it: a refusal for non-administrators (code
/// `not_admin`), other failures as errors.
fn refused_as_not_admin<T>(r: Result<T, String>, state: &AppState) -> DeviceOutcome<T> {
    match r {
        Ok(v) => DeviceOutcome::Ok(v),
        Err(message) => DeviceOutcome::Refused {
            code: if message == state.not_admin_profiles() {
                "not_admin"
            } else {
                "failed"
            }
            .into(),
            message,
        },
    }
}

/// Names of the well-known SIDs that appear in AD tickets but are not directory objects.
fn well_known_sid(sid: &str) -> Option<&'static str> {
    Some(match sid {
        "S-1-1-0" => "Everyone",
        "S-1-5-11" => "Authenticated Users",
        "S-1-5-32-545" => "Users",
        "S-1-18-1" => "Authentication authority asserted identity",
        "S-1-18-2" => "Service asserted identity",
        "S-1-5-65-1" => "This Organization Certificate",
        _ => return None,
    })
}

impl AppState {
    /// Builds the home page's view of `user`: names from the directory, live credential state.
    pub async fn me_view(&self, user: SessionUser) -> Me {
        let (names, clock) = match &self.directory {
            Some(dir) => {
                let (names, clock) = tokio::join!(dir.names_for(&user.group_sids), dir.dc_clock_offset());
                (
                    names.unwrap_or_else(|e| {
                        tracing::warn!(error = %e, "group names not resolved");
                        Default::default()
                    }),
                    clock,
                )
            }
            None => (
                Default::default(),
                Err("no directory configured (PORTAL_LDAP_URL)".to_string()),
            ),
        };
        let delegation = user
            .cred_handle
            .as_deref()
            .and_then(|h| self.creds.get(h))
            .map(|(d, left)| {
                let until = time::OffsetDateTime::now_utc() + left;
                DelegationView {
                    kind: match d.kind {
                        kerberos::DelegationKind::ForwardedTgt => {
                            "ticket-granting ticket forwarded by your browser".into()
                        }
                        kerberos::DelegationKind::PasswordTgt => {
                            "ticket-granting ticket from your password sign-in".into()
                        }
                    },
                    valid_until: until
                        .replace_nanosecond(0)
                        .ok()
                        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
                        .unwrap_or_default(),
                    seconds_left: left.as_secs() as i64,
                }
            });
        let no_delegation_reason = if delegation.is_none() {
            Some(
                user.no_delegation_reason
                    .clone()
                    .unwrap_or_else(|| "the delegated credential has expired: sign out and in again".into()),
            )
        } else {
            None
        };
        let (kdc_clock_offset_secs, kdc_clock_problem) = match clock {
            Ok(s) => (Some(s), None),
            Err(e) => (None, Some(e)),
        };
        Me {
            display_name: user.display_name.clone(),
            account: user.account.clone(),
            sid: user.sid.clone(),
            groups: user
                .group_sids
                .iter()
                .map(|s| AdGroup {
                    sid: s.clone(),
                    name: names.get(s).cloned().or_else(|| well_known_sid(s).map(str::to_string)),
                })
                .collect(),
            method: user.method,
            signed_in_at: user.signed_in_at.clone(),
            kerberos: KerberosView {
                principal: user.principal.clone(),
                ticket_bytes: user.ticket_bytes,
                ticket_base64_len: user.ticket_bytes.map(kerberos::token::base64_len),
                amt_limit: shared::AMT_OLD_FIRMWARE_TOKEN_LIMIT,
                token_bytes: user.token_bytes,
                delegation,
                no_delegation_reason,
                kdc_clock_offset_secs,
                kdc_clock_problem,
            },
        }
    }
}
