//! The AMT portal's server: axum routes for sign-in and sign-out next to the Leptos pages.
//!
//! - [`config`]: the typed, validated configuration.
//! - [`auth`]: Negotiate, password sign-in, sign-out, the 401 help page.
//! - [`credentials`]: delegated credentials, in memory only.
//! - [`directory`]: LDAP lookups (group names, DC clock).
//! - [`security`]: origin checks, security headers, sign-in requirement.
//! - [`sessions`]: the sessions, in memory (like the delegated credentials).
//! - [`portal`]: the services behind the UI's server functions.
//! - [`db`], [`audit`]: SQLite and the portal's audit log.
//! - [`ad`]: AD settings, the "test" action, device computer objects and their per-DC check.
//! - [`admin_mode`]: the explicit, audited Digest admin mode (stored accounts sealed).
//! - [`db`], [`audit`]: SQLite and the portal's audit log; [`audit_view`]: its search and CSV export.
//! - [`registry`]: the device registry, the only source of device addresses.
//! - [`roles`]: portal roles (registry administrators) from AD groups.
//! - [`device_access`]: acting on a device as the signed-in user (delegated TGT or S4U2Proxy).
//! - [`fleet`]: every device's last known status in memory, background checks, list queries.
//! - [`device_clients`]: device clients kept between clicks, per user credential and device.
//! - [`routes`]: protocol routes beside the pages (the serial console's WebSocket).
//! - [`console_setup`]: turning a device's console (redirection listener, SOL) on, as the user.
//! - [`transcripts`]: console transcripts kept per device policy, read by auditors.
//! - [`device_page`]: the device page's reads (inventory, logs, clock) and its clock and boot actions.
//! - [`profiles`]: provisioning profiles (SQLite) and the administrators' services on them.
//! - [`provision`]: applying a profile to devices (reprovision runs), self-service requests, key rotation.
//!
//! [`app`] builds the whole router from an [`AppState`]; `main` and the tests both use it.

pub mod ad;
pub mod admin_mode;
pub mod audit;
pub mod audit_view;
pub mod auth;
pub mod config;
pub mod console_setup;
pub mod credentials;
pub mod db;
pub mod device_access;
pub mod device_clients;
pub mod device_page;
pub mod directory;
pub mod fleet;
pub mod health;
pub mod portal;
pub mod profiles;
pub mod provision;
pub mod registry;
pub mod roles;
pub mod routes;
pub mod security;
pub mod sessions;
pub mod transcripts;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::FromRef;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use sqlx::SqlitePool;
use tower_http::services::ServeDir;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::config::Config;
use crate::credentials::CredentialStore;
use crate::directory::Directory;

/// Everything handlers need, cheap to clone.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// Leptos rendering options.
    pub leptos_options: LeptosOptions,
    /// The database.
    pub pool: SqlitePool,
    /// The validated configuration.
    pub config: Arc<Config>,
    /// Accepts Negotiate tokens with the portal's keytab.
    pub acceptor: Arc<kerberos::Acceptor>,
    /// Delegated credentials, in memory.
    pub creds: Arc<CredentialStore>,
    /// The directory, when configured.
    pub directory: Option<Arc<Directory>>,
    /// The portal's own identity for constrained delegation, when its keytab allows it.
    pub service_identity: Option<Arc<kerberos::ServiceIdentity>>,
    /// The registry and every device's last known status, in memory.
    pub fleet: Arc<fleet::Fleet>,
    /// Seals stored Digest admin passwords; `None` when no key is configured (admin mode off).
    pub sealer: Option<Arc<admin_mode::Sealer>>,
    /// Device clients kept between a user's clicks.
    pub device_clients: Arc<device_clients::DeviceClients>,
    /// The sessions, in memory.
    pub sessions: sessions::Sessions,
    /// Batched audit rows (sign-ins); [`audit::record`] writes other rows at once.
    pub audit: audit::Writer,
    /// Provisioning runs under way (bounded concurrency, one per device).
    pub provision: Arc<provision::Runner>,
}

impl AppState {
    /// Opens the database and the keytab for `config`.
    pub async fn new(config: Config, leptos_options: LeptosOptions) -> Result<AppState, String> {
        let pool = db::open(&config.database).await?;
        let acceptor = kerberos::Acceptor::from_keytab_with_rcache(&config.keytab, config.rcache.as_deref())
            .map_err(|e| format!("keytab {}: {e}", config.keytab.display()))?;
        let sealer = match &config.secret_key_file {
            Some(p) => {
                let text =
                    std::fs::read_to_string(p).map_err(|e| format!("PORTAL_SECRET_KEY_FILE={}: {e}", p.display()))?;
                Some(Arc::new(
                    admin_mode::Sealer::from_key_text(&text)
                        .map_err(|e| format!("PORTAL_SECRET_KEY_FILE={}: {e}", p.display()))?,
                ))
            }
            None => None,
        };
        let service_identity = match kerberos::ServiceIdentity::from_keytab(&config.keytab, &config.service_principal) {
            Ok(s) => Some(Arc::new(s)),
            Err(e) => {
                tracing::warn!(error = %e, "constrained delegation unavailable: users whose browser delegates nothing cannot act on devices");
                None
            }
        };
        Ok(AppState {
            service_identity,
            leptos_options,
            pool: pool.clone(),
            directory: config.ldap.clone().map(|l| Arc::new(Directory::new(l))),
            config: Arc::new(config),
            acceptor: Arc::new(acceptor),
            creds: Arc::new(CredentialStore::default()),
            fleet: Arc::new(fleet::Fleet::default()),
            sealer,
            device_clients: Arc::new(device_clients::DeviceClients::default()),
            sessions: sessions::Sessions::default(),
            audit: audit::Writer::spawn(pool.clone()),
            provision: Arc::new(provision::Runner::default()),
        })
    }
}

/// The whole portal as a router.
pub async fn app(state: AppState) -> Result<Router, String> {
    let store = state.sessions.clone();
    let tls = state.config.tls.is_some();
    let sessions = SessionManagerLayer::new(store)
        // `__Host-` binds the cookie to this exact origin (requires Secure and Path=/).
        .with_name(if tls { "__Host-amt-portal" } else { "amt-portal" })
        .with_secure(tls)
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(state.config.session_hours)));

    let routes = generate_route_list(frontend::App);
    let portal: frontend::api::ssr::PortalHandle = Arc::new(state.clone());
    let pages = Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(portal.clone());
                // Leptos puts a fresh nonce on this page's scripts: the CSP allows exactly those.
                if let (Some(nonce), Some(res)) = (
                    leptos::nonce::use_nonce(),
                    use_context::<leptos_axum::ResponseOptions>(),
                ) && let Ok(v) = axum::http::HeaderValue::from_str(&security::csp(Some(&nonce)))
                {
                    res.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, v);
                }
            },
            {
                let opts = state.leptos_options.clone();
                move || frontend::shell(opts.clone())
            },
        )
        .route_layer(from_fn(security::require_user));

    let pkg = format!(
        "{}/{}",
        state.leptos_options.site_root, state.leptos_options.site_pkg_dir
    );
    let router = Router::new()
        .route("/signin", get(auth::negotiate::signin))
        .route("/signin/password", post(auth::password::signin_password))
        .route("/signout", post(auth::signout::signout))
        .route("/signed-out", get(auth::signout::signed_out))
        .route("/healthz", get(|| async { "ok" }))
        .route("/devices/{id}/console", get(routes::console::console))
        .route("/audit.csv", get(audit_view::export_csv))
        .route("/devices/{id}/transcripts/{tid}", get(transcripts::download))
        .merge(pages)
        .nest_service("/pkg", ServeDir::new(pkg))
        .layer(sessions)
        .layer(from_fn_with_state(state.clone(), security::origin_guard))
        .layer(from_fn_with_state(state.clone(), security::security_headers))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::GATEWAY_TIMEOUT,
            Duration::from_secs(60),
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state);
    Ok(router)
}

/// Sweeps expired credentials every minute.
pub fn spawn_sweeper(creds: Arc<CredentialStore>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            let n = creds.sweep();
            if n > 0 {
                tracing::info!(dropped = n, "expired delegated credentials destroyed");
            }
        }
    });
}
