//! Server functions: thin, authenticated, and backed by the server's [`ssr::Portal`] service.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use shared::{
    AdminModeView, BulkReport, DeviceOutcome, DeviceRow, DiscoveryView, FleetPage, FleetQuery, Me, PowerAction,
    PowerView, RefreshProgress,
};

/// The signed-in user: identity, groups and Kerberos facts. `None` when the session has ended.
#[server(prefix = "/api", endpoint = "me")]
pub async fn get_me() -> Result<Option<Me>, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.me(parts).await.map_err(ServerFnError::new)
}

/// The registered devices (any signed-in user may see the list; what they may do is per device).
#[server(prefix = "/api", endpoint = "devices")]
pub async fn list_devices() -> Result<Vec<DeviceRow>, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.devices(parts).await.map_err(ServerFnError::new)
}

/// One page of the fleet list: search, filter, sort and paging over every registered device with
/// its last known status (from the portal's background checks).
#[server(prefix = "/api", endpoint = "fleet", input = Json)]
pub async fn fleet_list(query: FleetQuery) -> Result<FleetPage, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.fleet_page(parts, query).await.map_err(ServerFnError::new)
}

/// Starts checking every device now (or joins the check under way); returns its progress.
#[server(prefix = "/api", endpoint = "fleet-refresh")]
pub async fn fleet_refresh() -> Result<RefreshProgress, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.fleet_refresh(parts).await.map_err(ServerFnError::new)
}

/// A power action on several devices, as the signed-in user; one result per device.
#[server(prefix = "/api", endpoint = "bulk-power", input = Json)]
pub async fn bulk_power(ids: Vec<i64>, action: PowerAction) -> Result<BulkReport, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.bulk_power(parts, ids, action).await.map_err(ServerFnError::new)
}

/// Turns on a device's redirection listener and Serial-over-LAN, as the signed-in user.
#[server(prefix = "/api", endpoint = "enable-console")]
pub async fn enable_console(id: i64) -> Result<DeviceOutcome<String>, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.enable_console(parts, id).await.map_err(ServerFnError::new)
}

/// Adds (or updates, by FQDN) one device in the registry (registry administrators only).
#[server(prefix = "/api", endpoint = "add-device", input = Json)]
pub async fn add_device(device: shared::NewDeviceForm) -> Result<String, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.add_device(parts, device).await.map_err(ServerFnError::new)
}

/// Registers the devices found in the Active Directory OU (registry administrators only).
#[server(prefix = "/api", endpoint = "discover-devices")]
pub async fn discover_devices() -> Result<DiscoveryView, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.discover_devices(parts).await.map_err(ServerFnError::new)
}

/// The console transcripts of a device: its policy, and the transcripts for auditors.
#[server(prefix = "/api", endpoint = "transcripts")]
pub async fn console_transcripts(id: i64) -> Result<shared::console::TranscriptsView, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.transcripts(parts, id).await.map_err(ServerFnError::new)
}

/// Keeps (or stops keeping) transcripts of a device's console sessions (registry administrators).
#[server(prefix = "/api", endpoint = "transcript-policy")]
pub async fn set_transcript_policy(id: i64, keep: bool) -> Result<String, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal
        .set_transcript_policy(parts, id, keep)
        .await
        .map_err(ServerFnError::new)
}

/// Admin mode on a device: whether the user may use it and which account is stored.
#[server(prefix = "/api", endpoint = "admin-mode")]
pub async fn admin_mode(id: i64) -> Result<AdminModeView, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.admin_mode(parts, id).await.map_err(ServerFnError::new)
}

/// Stores a device's Digest admin account, sealed (registry administrators only).
#[server(prefix = "/api", endpoint = "admin-account")]
pub async fn set_admin_account(id: i64, username: String, password: String) -> Result<String, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal
        .set_admin_account(parts, id, username, password)
        .await
        .map_err(ServerFnError::new)
}

/// Forgets a device's stored Digest admin account.
#[server(prefix = "/api", endpoint = "admin-account-forget")]
pub async fn forget_admin_account(id: i64) -> Result<String, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.forget_admin_account(parts, id).await.map_err(ServerFnError::new)
}

/// A power action with the device's stored Digest admin account (explicit admin mode, audited).
#[server(prefix = "/api", endpoint = "admin-power-action")]
pub async fn admin_power_action(id: i64, action: PowerAction) -> Result<DeviceOutcome<String>, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal
        .admin_power_action(parts, id, action)
        .await
        .map_err(ServerFnError::new)
}

/// A device's power state, read as the signed-in user.
#[server(prefix = "/api", endpoint = "power")]
pub async fn device_power(id: i64) -> Result<DeviceOutcome<PowerView>, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.power(parts, id).await.map_err(ServerFnError::new)
}

/// A power action on a device, as the signed-in user.
#[server(prefix = "/api", endpoint = "power-action")]
pub async fn run_power_action(id: i64, action: PowerAction) -> Result<DeviceOutcome<String>, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.power_action(parts, id, action).await.map_err(ServerFnError::new)
}

/// Everything the device page shows (inventory, logs, clock, rights), read as the signed-in user.
#[server(prefix = "/api", endpoint = "device-details")]
pub async fn device_details(id: i64) -> Result<DeviceOutcome<shared::DeviceDetails>, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.device_details(parts, id).await.map_err(ServerFnError::new)
}

/// Sets a device's clock to the portal's, as the signed-in user.
#[server(prefix = "/api", endpoint = "sync-clock")]
pub async fn sync_device_clock(id: i64) -> Result<DeviceOutcome<String>, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.sync_clock(parts, id).await.map_err(ServerFnError::new)
}

/// One page of the portal's own audit log (auditors only; others get the reason).
#[server(prefix = "/api", endpoint = "audit-log")]
pub async fn audit_log(filter: shared::AuditFilter) -> Result<DeviceOutcome<shared::AuditPage>, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.audit_log(parts, filter).await.map_err(ServerFnError::new)
}

/// Every provisioning profile with its entry count and devices (administrators; others get the reason).
#[server(prefix = "/api", endpoint = "profiles")]
pub async fn list_profiles() -> Result<DeviceOutcome<Vec<shared::profiles::ProfileSummary>>, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.profiles(parts).await.map_err(ServerFnError::new)
}

/// One profile to edit (`0`: a new one with the defaults); administrators only.
#[server(prefix = "/api", endpoint = "profile")]
pub async fn get_profile(id: i64) -> Result<DeviceOutcome<shared::profiles::Profile>, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.profile(parts, id).await.map_err(ServerFnError::new)
}

/// Validates and saves a profile: its id, or every problem by its field (administrators only).
#[server(prefix = "/api", endpoint = "profile-save", input = Json)]
pub async fn save_profile(profile: shared::profiles::Profile) -> Result<shared::profiles::SaveOutcome, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.save_profile(parts, profile).await.map_err(ServerFnError::new)
}

/// Deletes a profile no device uses (administrators only).
#[server(prefix = "/api", endpoint = "profile-delete")]
pub async fn delete_profile(id: i64) -> Result<String, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.delete_profile(parts, id).await.map_err(ServerFnError::new)
}

/// AD users and groups whose name starts with `query`, for the profile editor (administrators only).
#[server(prefix = "/api", endpoint = "principals")]
pub async fn search_principals(query: String) -> Result<Vec<shared::profiles::Principal>, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.search_principals(parts, query).await.map_err(ServerFnError::new)
}

/// Every device with the profile it uses, for "assign devices" (administrators only).
#[server(prefix = "/api", endpoint = "profile-devices")]
pub async fn profile_devices() -> Result<Vec<shared::profiles::ProfileDevice>, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.profile_devices(parts).await.map_err(ServerFnError::new)
}

/// Gives devices a profile (`None`: no profile); administrators only, audited per device.
#[server(prefix = "/api", endpoint = "profile-assign", input = Json)]
pub async fn assign_profile(profile_id: Option<i64>, device_ids: Vec<i64>) -> Result<String, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal
        .assign_profile(parts, profile_id, device_ids)
        .await
        .map_err(ServerFnError::new)
}

/// The device page's profile chooser (filled for administrators only).
#[server(prefix = "/api", endpoint = "device-profile")]
pub async fn device_profile(id: i64) -> Result<shared::profiles::DeviceProfileView, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.device_profile(parts, id).await.map_err(ServerFnError::new)
}

/// Whether the signed-in user may manage profiles (for the navigation link).
#[server(prefix = "/api", endpoint = "can-manage-profiles")]
pub async fn can_manage_profiles() -> Result<bool, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.can_manage_profiles(parts).await.map_err(ServerFnError::new)
}

/// Kerberos health of the signed-in user (real tickets), and of `device` when given.
#[server(prefix = "/api", endpoint = "health")]
pub async fn kerberos_health(device: Option<i64>) -> Result<shared::HealthReport, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.health(parts, device).await.map_err(ServerFnError::new)
}

/// Kerberos health estimate for another user, by account name (registry administrators only).
#[server(prefix = "/api", endpoint = "health-estimate")]
pub async fn kerberos_health_estimate(
    account: String,
    device: Option<i64>,
) -> Result<shared::HealthReport, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal
        .health_estimate(parts, account, device)
        .await
        .map_err(ServerFnError::new)
}

/// The provisioning part of a device page: may the user apply, the runs, the requests.
#[server(prefix = "/api", endpoint = "device-provisioning")]
pub async fn device_provisioning(id: i64) -> Result<shared::provision::DeviceProvisioning, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.device_provisioning(parts, id).await.map_err(ServerFnError::new)
}

/// Applies each device's profile (administrators only): one run per device, started now.
#[server(prefix = "/api", endpoint = "apply-profile", input = Json)]
pub async fn apply_profile(ids: Vec<i64>) -> Result<shared::provision::ApplyReport, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.apply_profile(parts, ids).await.map_err(ServerFnError::new)
}

/// Runs a finished provisioning run again from the start (administrators only).
#[server(prefix = "/api", endpoint = "retry-run")]
pub async fn retry_run(id: i64) -> Result<i64, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.retry_run(parts, id).await.map_err(ServerFnError::new)
}

/// One provisioning run with its steps (polled while it runs).
#[server(prefix = "/api", endpoint = "provision-run")]
pub async fn provision_run(id: i64) -> Result<shared::provision::RunView, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.provision_run(parts, id).await.map_err(ServerFnError::new)
}

/// The latest provisioning runs of all devices (administrators and approvers).
#[server(prefix = "/api", endpoint = "provision-runs")]
pub async fn provision_runs() -> Result<Vec<shared::provision::RunView>, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.provision_runs(parts).await.map_err(ServerFnError::new)
}

/// Files a self-service reprovision request.
#[server(prefix = "/api", endpoint = "request-reprovision", input = Json)]
pub async fn request_reprovision(form: shared::provision::NewRequest) -> Result<String, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal
        .request_reprovision(parts, form)
        .await
        .map_err(ServerFnError::new)
}

/// Approves (starting the apply run) or denies a reprovision request (approvers only).
#[server(prefix = "/api", endpoint = "decide-request")]
pub async fn decide_request(id: i64, approve: bool, comment: String) -> Result<String, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal
        .decide_request(parts, id, approve, comment)
        .await
        .map_err(ServerFnError::new)
}

/// The user's reprovision requests, and the pending ones for approvers.
#[server(prefix = "/api", endpoint = "my-requests")]
pub async fn my_requests() -> Result<shared::provision::RequestsPage, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.my_requests(parts).await.map_err(ServerFnError::new)
}

/// The AD settings page's data (registry administrators only).
#[server(prefix = "/api", endpoint = "ad-settings")]
pub async fn ad_settings() -> Result<shared::ad::AdSettingsView, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.ad_settings(parts).await.map_err(ServerFnError::new)
}

/// Saves the AD settings (registry administrators only; audited).
#[server(prefix = "/api", endpoint = "ad-settings-save", input = Json)]
pub async fn save_ad_settings(form: shared::ad::AdSettingsForm) -> Result<String, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.save_ad_settings(parts, form).await.map_err(ServerFnError::new)
}

/// Tests the AD settings as typed: DCs, bind, OU, delegated rights (administrators; audited).
#[server(prefix = "/api", endpoint = "ad-settings-test", input = Json)]
pub async fn test_ad_settings(form: shared::ad::AdSettingsForm) -> Result<shared::ad::AdTestReport, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.test_ad_settings(parts, form).await.map_err(ServerFnError::new)
}

/// What the server provides to server functions (it owns sessions, credentials, the directory).
#[cfg(feature = "ssr")]
pub mod ssr {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;

    use shared::{
        AdminModeView, BulkReport, DeviceOutcome, DeviceRow, DiscoveryView, FleetPage, FleetQuery, Me, PowerAction,
        PowerView, RefreshProgress,
    };

    /// A boxed future, as the trait must be object-safe.
    pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

    /// The portal's services, implemented by the server crate.
    pub trait Portal: Send + Sync + 'static {
        /// The signed-in user of the request (session from the request's extensions).
        fn me(&self, parts: http::request::Parts) -> BoxFuture<'_, Result<Option<Me>, String>>;
        /// The device registry (signed-in users only).
        fn devices(&self, parts: http::request::Parts) -> BoxFuture<'_, Result<Vec<DeviceRow>, String>>;
        /// One page of the fleet list (signed-in users only).
        fn fleet_page(
            &self,
            parts: http::request::Parts,
            query: FleetQuery,
        ) -> BoxFuture<'_, Result<FleetPage, String>>;
        /// Starts (or joins) a check of every device.
        fn fleet_refresh(&self, parts: http::request::Parts) -> BoxFuture<'_, Result<RefreshProgress, String>>;
        /// A power action on several devices, as the user.
        fn bulk_power(
            &self,
            parts: http::request::Parts,
            ids: Vec<i64>,
            action: PowerAction,
        ) -> BoxFuture<'_, Result<BulkReport, String>>;
        /// Registers the devices found in the AD OU (administrators only).
        fn discover_devices(&self, parts: http::request::Parts) -> BoxFuture<'_, Result<DiscoveryView, String>>;
        /// Turns on a device's listener and SOL, as the user.
        fn enable_console(
            &self,
            parts: http::request::Parts,
            id: i64,
        ) -> BoxFuture<'_, Result<DeviceOutcome<String>, String>>;
        /// Adds or updates one device (administrators only).
        fn add_device(
            &self,
            parts: http::request::Parts,
            device: shared::NewDeviceForm,
        ) -> BoxFuture<'_, Result<String, String>>;
        /// A device's console transcripts (policy for all; the list for auditors).
        fn transcripts(
            &self,
            parts: http::request::Parts,
            id: i64,
        ) -> BoxFuture<'_, Result<shared::console::TranscriptsView, String>>;
        /// Sets a device's transcript policy (administrators only).
        fn set_transcript_policy(
            &self,
            parts: http::request::Parts,
            id: i64,
            keep: bool,
        ) -> BoxFuture<'_, Result<String, String>>;
        /// Admin mode on a device, for the user.
        fn admin_mode(&self, parts: http::request::Parts, id: i64) -> BoxFuture<'_, Result<AdminModeView, String>>;
        /// Stores a device's Digest admin account (administrators only).
        fn set_admin_account(
            &self,
            parts: http::request::Parts,
            id: i64,
            username: String,
            password: String,
        ) -> BoxFuture<'_, Result<String, String>>;
        /// Forgets a device's Digest admin account (administrators only).
        fn forget_admin_account(&self, parts: http::request::Parts, id: i64) -> BoxFuture<'_, Result<String, String>>;
        /// A power action in admin mode (administrators only).
        fn admin_power_action(
            &self,
            parts: http::request::Parts,
            id: i64,
            action: PowerAction,
        ) -> BoxFuture<'_, Result<DeviceOutcome<String>, String>>;
        /// A device's power state, as the user.
        fn power(
            &self,
            parts: http::request::Parts,
            id: i64,
        ) -> BoxFuture<'_, Result<DeviceOutcome<PowerView>, String>>;
        /// A power action, as the user.
        fn power_action(
            &self,
            parts: http::request::Parts,
            id: i64,
            action: PowerAction,
        ) -> BoxFuture<'_, Result<DeviceOutcome<String>, String>>;
        /// The device page's reads, as the user.
        fn device_details(
            &self,
            parts: http::request::Parts,
            id: i64,
        ) -> BoxFuture<'_, Result<DeviceOutcome<shared::DeviceDetails>, String>>;
        /// Clock synchronisation, as the user.
        fn sync_clock(
            &self,
            parts: http::request::Parts,
            id: i64,
        ) -> BoxFuture<'_, Result<DeviceOutcome<String>, String>>;
        /// A page of the portal's audit log, for auditors.
        fn audit_log(
            &self,
            parts: http::request::Parts,
            filter: shared::AuditFilter,
        ) -> BoxFuture<'_, Result<DeviceOutcome<shared::AuditPage>, String>>;
        /// Every profile (administrators only).
        fn profiles(
            &self,
            parts: http::request::Parts,
        ) -> BoxFuture<'_, Result<DeviceOutcome<Vec<shared::profiles::ProfileSummary>>, String>>;
        /// One profile, `0` for a new one (administrators only).
        fn profile(
            &self,
            parts: http::request::Parts,
            id: i64,
        ) -> BoxFuture<'_, Result<DeviceOutcome<shared::profiles::Profile>, String>>;
        /// Validates and saves a profile (administrators only).
        fn save_profile(
            &self,
            parts: http::request::Parts,
            profile: shared::profiles::Profile,
        ) -> BoxFuture<'_, Result<shared::profiles::SaveOutcome, String>>;
        /// Deletes an unused profile (administrators only).
        fn delete_profile(&self, parts: http::request::Parts, id: i64) -> BoxFuture<'_, Result<String, String>>;
        /// Directory type-ahead of users and groups (administrators only).
        fn search_principals(
            &self,
            parts: http::request::Parts,
            query: String,
        ) -> BoxFuture<'_, Result<Vec<shared::profiles::Principal>, String>>;
        /// Every device with its profile (administrators only).
        fn profile_devices(
            &self,
            parts: http::request::Parts,
        ) -> BoxFuture<'_, Result<Vec<shared::profiles::ProfileDevice>, String>>;
        /// Gives devices a profile (administrators only).
        fn assign_profile(
            &self,
            parts: http::request::Parts,
            profile_id: Option<i64>,
            device_ids: Vec<i64>,
        ) -> BoxFuture<'_, Result<String, String>>;
        /// The device page's profile chooser.
        fn device_profile(
            &self,
            parts: http::request::Parts,
            id: i64,
        ) -> BoxFuture<'_, Result<shared::profiles::DeviceProfileView, String>>;
        /// Whether the user may manage profiles.
        fn can_manage_profiles(&self, parts: http::request::Parts) -> BoxFuture<'_, Result<bool, String>>;
        /// Kerberos health of the signed-in user, and of a device when given.
        fn health(
            &self,
            parts: http::request::Parts,
            device: Option<i64>,
        ) -> BoxFuture<'_, Result<shared::HealthReport, String>>;
        /// Kerberos health estimate for another user (administrators only).
        fn health_estimate(
            &self,
            parts: http::request::Parts,
            account: String,
            device: Option<i64>,
        ) -> BoxFuture<'_, Result<shared::HealthReport, String>>;
        /// The provisioning part of a device page.
        fn device_provisioning(
            &self,
            parts: http::request::Parts,
            id: i64,
        ) -> BoxFuture<'_, Result<shared::provision::DeviceProvisioning, String>>;
        /// Applies each device's profile (administrators only).
        fn apply_profile(
            &self,
            parts: http::request::Parts,
            ids: Vec<i64>,
        ) -> BoxFuture<'_, Result<shared::provision::ApplyReport, String>>;
        /// Runs a provisioning run again (administrators only).
        fn retry_run(&self, parts: http::request::Parts, id: i64) -> BoxFuture<'_, Result<i64, String>>;
        /// One provisioning run.
        fn provision_run(
            &self,
            parts: http::request::Parts,
            id: i64,
        ) -> BoxFuture<'_, Result<shared::provision::RunView, String>>;
        /// The latest provisioning runs.
        fn provision_runs(
            &self,
            parts: http::request::Parts,
        ) -> BoxFuture<'_, Result<Vec<shared::provision::RunView>, String>>;
        /// Files a reprovision request.
        fn request_reprovision(
            &self,
            parts: http::request::Parts,
            form: shared::provision::NewRequest,
        ) -> BoxFuture<'_, Result<String, String>>;
        /// Decides a reprovision request (approvers only).
        fn decide_request(
            &self,
            parts: http::request::Parts,
            id: i64,
            approve: bool,
            comment: String,
        ) -> BoxFuture<'_, Result<String, String>>;
        /// The user's requests and, for approvers, the pending ones.
        fn my_requests(
            &self,
            parts: http::request::Parts,
        ) -> BoxFuture<'_, Result<shared::provision::RequestsPage, String>>;
        /// The AD settings page's data (administrators only).
        fn ad_settings(&self, parts: http::request::Parts)
        -> BoxFuture<'_, Result<shared::ad::AdSettingsView, String>>;
        /// Saves the AD settings (administrators only).
        fn save_ad_settings(
            &self,
            parts: http::request::Parts,
            form: shared::ad::AdSettingsForm,
        ) -> BoxFuture<'_, Result<String, String>>;
        /// Tests the AD settings as typed (administrators only).
        fn test_ad_settings(
            &self,
            parts: http::request::Parts,
            form: shared::ad::AdSettingsForm,
        ) -> BoxFuture<'_, Result<shared::ad::AdTestReport, String>>;
    }

    /// How server functions find the portal: `expect_context::<PortalHandle>()`.
    pub type PortalHandle = Arc<dyn Portal>;
}
