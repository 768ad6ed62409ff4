//! `amt-portal`: reads the configuration, sets the Kerberos environment while the process is
//! still single-threaded, then serves HTTPS (or HTTP on loopback for tests). On SIGTERM or
//! Ctrl-C it stops taking connections, lets requests in flight finish (10 s at most), and
//! writes the audit rows still queued before it exits.

use std::net::SocketAddr;
use std::process::ExitCode;

use leptos::prelude::get_configuration;
use server::config::Config;

/// mimalloc instead of glibc malloc: sign-ins allocate on async workers and free on blocking
/// threads (and back), where glibc's per-thread arenas contend (docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("amt-portal: {e}");
            return ExitCode::from(2);
        }
    };
    set_kerberos_environment(&config);
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "server=info,tower_http=warn".into()),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("amt-portal: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let [cmd, file] = args.as_slice()
        && cmd == "import-devices"
    {
        return runtime.block_on(import_devices(config, file));
    }
    if let [cmd] = args.as_slice()
        && cmd == "discover-devices"
    {
        return runtime.block_on(discover_devices(config));
    }
    if !args.is_empty() {
        eprintln!(
            "usage: amt-portal                       serve (settings from PORTAL_* variables)\n       amt-portal import-devices FILE   add or update devices from CSV (fqdn,address,port,tls,site,tags)\n       amt-portal discover-devices      register the AMT devices found in PORTAL_DEVICE_OU"
        );
        return ExitCode::from(2);
    }
    let served = runtime.block_on(run(config));
    // Background work (device polls, blocking calls) does not hold the exit up.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("amt-portal: {e}");
            ExitCode::FAILURE
        }
    }
}

/// MIT Kerberos reads these once per process; they must be set before any thread starts.
#[expect(
    unsafe_code,
    reason = "set_var before the runtime starts: the process has one thread here"
)]
fn set_kerberos_environment(config: &Config) {
    // SAFETY: called from main before any other thread exists.
    unsafe {
        if let Some(k) = &config.krb5_config {
            std::env::set_var("KRB5_CONFIG", k);
        }
        // The portal's own identity (LDAP binds, later S4U) comes from its keytab, into a
        // MEMORY cache: nothing is written to disk.
        std::env::set_var("KRB5_CLIENT_KTNAME", &config.keytab);
        std::env::set_var("KRB5CCNAME", "MEMORY:amt-portal");
    }
}

/// `amt-portal import-devices FILE`: imports a CSV into the registry and reports every bad row.
async fn import_devices(config: Config, file: &str) -> ExitCode {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("amt-portal: cannot read {file}: {e}");
            return ExitCode::from(2);
        }
    };
    let pool = match server::db::open(&config.database).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("amt-portal: {e}");
            return ExitCode::FAILURE;
        }
    };
    match server::registry::import_csv(&pool, &text).await {
        Ok(r) => {
            println!(
                "{file}: {} added, {} updated, {} rejected",
                r.added,
                r.updated,
                r.rejected.len()
            );
            for (line, why) in &r.rejected {
                println!("  line {line}: {why}");
            }
            if r.rejected.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("amt-portal: {file}: {e}");
            ExitCode::from(2)
        }
    }
}

/// `amt-portal discover-devices`: registers the devices of the AD OU and reports what it found.
async fn discover_devices(config: Config) -> ExitCode {
    let leptos = leptos::prelude::LeptosOptions::builder().output_name("portal").build();
    let state = match server::AppState::new(config, leptos).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("amt-portal: {e}");
            return ExitCode::FAILURE;
        }
    };
    match state.discover_devices("cli").await {
        Ok(r) => {
            println!(
                "{}: {} found, {} added, {} already registered, {} rejected",
                r.ou,
                r.found,
                r.added,
                r.known,
                r.rejected.len()
            );
            for (dn, why) in &r.rejected {
                println!("  {dn}: {why}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("amt-portal: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> Result<(), String> {
    let mut leptos = get_configuration(None)
        .map_err(|e| format!("Leptos configuration: {e}"))?
        .leptos_options;
    leptos.output_name = "portal".into();
    if std::env::var_os("LEPTOS_SITE_ROOT").is_none() {
        leptos.site_root = "target/site".into();
    }
    leptos.site_addr = config.listen;
    let listen = config.listen;
    let tls = config.tls.clone();
    let public_url = config.public_url.clone();
    let state = server::AppState::new(config, leptos).await?;
    let audit = state.audit.clone();
    server::spawn_sweeper(state.creds.clone());
    server::sessions::spawn_sweeper(state.sessions.clone());
    state.spawn_fleet_poller();
    server::transcripts::spawn_retention(state.pool.clone(), state.config.transcript_days);
    server::device_clients::spawn_sweeper(state.device_clients.clone(), state.creds.clone());
    server::provision::spawn_schedule(state.clone());
    let app = server::app(state)
        .await?
        .into_make_service_with_connect_info::<SocketAddr>();
    // Set to true on SIGTERM or Ctrl-C.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    };
    let served = match tls {
        Some((cert, key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key)
                .await
                .map_err(|e| format!("TLS certificate {} / key {}: {e}", cert.display(), key.display()))?;
            tracing::info!(%listen, url = %public_url, "portal listening (HTTPS)");
            println!("AMT portal listening on {listen}: open {public_url}");
            let handle = axum_server::Handle::new();
            let stopper = handle.clone();
            let stop = stopped();
            tokio::spawn(async move {
                stop.await;
                stopper.graceful_shutdown(Some(GRACE));
            });
            axum_server::bind_rustls(listen, tls)
                .handle(handle)
                .serve(app)
                .await
                .map_err(|e| format!("server: {e}"))
        }
        None => {
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
            tracing::info!(%listen, url = %public_url, "portal listening (HTTP, loopback only)");
            println!("AMT portal listening on {listen}: open {public_url}");
            let server = axum::serve(listener, app).with_graceful_shutdown(stopped());
            let grace = stopped();
            // Requests in flight (and open consoles) get GRACE to finish.
            tokio::select! {
                r = server => r.map_err(|e| format!("server: {e}")),
                () = async {
                    grace.await;
                    tokio::time::sleep(GRACE).await;
                } => Ok(()),
            }
        }
    };
    // Whatever way the server stopped, the queued audit rows are written before exiting.
    audit.close().await;
    tracing::info!("portal stopped; audit log written");
    served
}

/// How long requests in flight may take to finish once a stop is asked for.
const GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Resolves on SIGTERM or Ctrl-C (SIGINT).
async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
    tracing::info!("stopping: no new connections; finishing requests in flight");
}
