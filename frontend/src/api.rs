//! Server functions: thin, authenticated, and backed by the server's [`ssr::Portal`] service.

use leptos::prelude::*;
use shared::Me;

/// The signed-in user: identity, groups and Kerberos facts. `None` when the session has ended.
#[server(prefix = "/api", endpoint = "me")]
pub async fn get_me() -> Result<Option<Me>, ServerFnError> {
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let portal = expect_context::<ssr::PortalHandle>();
    portal.me(parts).await.map_err(ServerFnError::new)
}

/// What the server provides to server functions (it owns sessions, credentials, the directory).
#[cfg(feature = "ssr")]
pub mod ssr {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;

    use shared::Me;

    /// A boxed future, as the trait must be object-safe.
    pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

    /// The portal's services, implemented by the server crate.
    pub trait Portal: Send + Sync + 'static {
        /// The signed-in user of the request (session from the request's extensions).
        fn me(&self, parts: http::request::Parts) -> BoxFuture<'_, Result<Option<Me>, String>>;
    }

    /// How server functions find the portal: `expect_context::<PortalHandle>()`.
    pub type PortalHandle = Arc<dyn Portal>;
}
