//! `amt-sim`: runs a fleet of simulated AMT devices.
//!
//! ```text
//! amt-sim --devices N [--seed FILE] --control 127.0.0.1:PORT [--keytab devices.keytab [--rcache file2:PATH]] [--port 16992]
//!         [--tls-cert devices.crt --tls-key devices.key [--tls-port 16993]]
//!         [--redir-port 16994] [--redir-tls-port 16995] [--no-redirection]
//! ```
//! Every device also serves the redirection protocol (Serial-over-LAN) on 16994, and on 16995
//! with the TLS certificate when TLS is configured; `--no-redirection` turns that off.
//! With `--keytab`, `Authorization: Negotiate` tickets are verified with GSSAPI (MIT krb5;
//! `KRB5_CONFIG` names the realm); without it the fleet is Digest-only.
//!
//! Prints one line per listener range, then `ready`; stops cleanly on SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use amt_sim::fleet::{Fleet, FleetConfig, RedirectionPorts, TlsConfig, device_ip};
use amt_sim::seed::FleetSeed;
use anyhow::{Context, bail};

struct Args {
    devices: Option<u32>,
    seed: Option<PathBuf>,
    control: SocketAddr,
    keytab: Option<PathBuf>,
    rcache: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    tls_port: u16,
    port: Option<u16>,
    redir_port: u16,
    redir_tls_port: u16,
    redirection: bool,
}

const USAGE: &str = "usage: amt-sim --devices N [--seed FILE] --control 127.0.0.1:PORT [--keytab FILE [--rcache file2:PATH]] [--port 16992] [--tls-cert PEM --tls-key PEM [--tls-port 16993]] [--redir-port 16994] [--redir-tls-port 16995] [--no-redirection]";

fn parse_args() -> anyhow::Result<Args> {
    let mut it = std::env::args().skip(1);
    let mut a = Args {
        devices: None,
        seed: None,
        control: "127.0.0.1:16990".parse()?,
        keytab: None,
        rcache: None,
        tls_cert: None,
        tls_key: None,
        tls_port: 16993,
        port: None,
        redir_port: 16994,
        redir_tls_port: 16995,
        redirection: true,
    };
    while let Some(k) = it.next() {
        let mut v = || it.next().with_context(|| format!("{k} needs a value\n{USAGE}"));
        match k.as_str() {
            "--devices" => a.devices = Some(v()?.parse().context("--devices")?),
            "--seed" => a.seed = Some(v()?.into()),
            "--control" => a.control = v()?.parse().context("--control")?,
            "--keytab" => a.keytab = Some(v()?.into()),
            "--rcache" => a.rcache = Some(v()?),
            "--tls-cert" => a.tls_cert = Some(v()?.into()),
            "--tls-key" => a.tls_key = Some(v()?.into()),
            "--tls-port" => a.tls_port = v()?.parse().context("--tls-port")?,
            "--port" => a.port = Some(v()?.parse().context("--port")?),
            "--redir-port" => a.redir_port = v()?.parse().context("--redir-port")?,
            "--redir-tls-port" => a.redir_tls_port = v()?.parse().context("--redir-tls-port")?,
            "--no-redirection" => a.redirection = false,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}\n{USAGE}"),
        }
    }
    Ok(a)
}

/// Raises the open-file soft limit to the hard limit (one socket per device at least).
fn raise_fd_limit(devices: u32) {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) if n < devices as u64 + 256 => tracing::warn!(
            limit = n,
            devices,
            "open-file limit may be too low for this many devices"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot raise the open-file limit"),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "amt_sim=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = parse_args()?;
    let mut seed = match &args.seed {
        Some(p) => FleetSeed::load(p)?,
        None => FleetSeed::default(),
    };
    if let Some(n) = args.devices {
        seed.count = n;
    }
    if seed.count == 0 {
        bail!("no devices: give --devices N or count in the seed\n{USAGE}");
    }
    let port = args.port.or(seed.port).unwrap_or(16992);
    raise_fd_limit(seed.count);
    let verifier = match &args.keytab {
        None => None,
        Some(path) => Some(load_verifier(path, args.rcache.as_deref())?),
    };
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsConfig {
            cert,
            key,
            port: args.tls_port,
        }),
        (None, None) => None,
        _ => bail!("--tls-cert and --tls-key go together\n{USAGE}"),
    };
    let count = seed.count;
    let fleet = Fleet::start(FleetConfig {
        seed,
        port,
        verifier,
        first_index: 1,
        tls,
        redirection: args.redirection.then_some(RedirectionPorts {
            port: args.redir_port,
            tls_port: Some(args.redir_tls_port),
        }),
    })
    .await?;
    let mut start = 1;
    while start <= count {
        let end = count.min(start | 0xFF);
        println!(
            "listening: devices {start}-{end} on {}-{} port {}",
            device_ip(start),
            device_ip(end),
            fleet.port()
        );
        if let Some(tls) = fleet.devices().first().and_then(|d| d.tls_addr) {
            println!(
                "listening: devices {start}-{end} on {}-{} port {} (TLS)",
                device_ip(start),
                device_ip(end),
                tls.port()
            );
        }
        let first = fleet.devices().first();
        for (addr, what) in [
            (first.and_then(|d| d.redir_addr), "redirection"),
            (first.and_then(|d| d.redir_tls_addr), "redirection, TLS"),
        ] {
            if let Some(a) = addr {
                println!(
                    "listening: devices {start}-{end} on {}-{} port {} ({what})",
                    device_ip(start),
                    device_ip(end),
                    a.port()
                );
            }
        }
        start = end + 1;
    }
    let control = amt_sim::control::serve(args.control, fleet.handle()).await?;
    println!("control: http://{control}");
    println!("ready");
    shutdown_signal().await;
    tracing::info!("shutting down");
    fleet.shutdown().await;
    Ok(())
}

fn load_verifier(path: &std::path::Path, rcache: Option<&str>) -> anyhow::Result<amt_sim::auth::SharedVerifier> {
    let v = amt_sim::auth::KeytabVerifier::from_keytab_with_rcache(path, rcache)
        .map_err(|e| anyhow::anyhow!("keytab {}: {e}", path.display()))?;
    Ok(std::sync::Arc::new(v))
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
