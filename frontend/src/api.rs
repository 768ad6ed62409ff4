//! Server functions: thin, authenticated, and backed by the server's [`ssr::Portal`] service.

use leptos::prelude::*;
use shared::{DeviceOutcome, DeviceRow, Me, PowerAction, PowerView};

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

/// What the server provides to server functions (it owns sessions, credentials, the directory).
#[cfg(feature = "ssr")]
pub mod ssr {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;

    use shared::{DeviceOutcome, DeviceRow, Me, PowerAction, PowerView};

    /// A boxed future, as the trait must be object-safe.
    pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

    /// The portal's services, implemented by the server crate.
    pub trait Portal: Send + Sync + 'static {
        /// The signed-in user of the request (session from the request's extensions).
        fn me(&self, parts: http::request::Parts) -> BoxFuture<'_, Result<Option<Me>, String>>;
        /// The device registry (signed-in users only).
        fn devices(&self, parts: http::request::Parts) -> BoxFuture<'_, Result<Vec<DeviceRow>, String>>;
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
    }

    /// How server functions find the portal: `expect_context::<PortalHandle>()`.
    pub type PortalHandle = Arc<dyn Portal>;
}
