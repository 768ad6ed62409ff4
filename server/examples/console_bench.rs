//! Serial console benchmarks of issue 5 (docs/BENCHMARKS.md, "Serial console (issue 5)").
//! Prints figures; asserts nothing about time.
//!
//! ```sh
//! # 1. Keystroke round trip, through the portal and direct (needs the lab up):
//! set -a; . /work/main/.lab/lab.env; set +a
//! LAB_ENV=$LAB_DIR/lab.env cargo run --release -p server --example console_bench -- latency [N]
//! # 2. Concurrent consoles streaming output (no lab needed):
//! cargo run --release -p server --example console_bench -- stream [SESSIONS] [SECONDS] [INTERVAL_MS]
//! ```
//!
//! 1. `latency`: two simulated twins of lab device `amt8` (its SPNs are in the lab AD) on
//!    127.1.0.235 and 127.1.0.236 (WS-Man 16992, redirection 16994), verifying tickets with the
//!    lab's device keytab; the real portal router (`server::app`) on loopback plain HTTP with
//!    alice signed in by password (the portal holds her TGT). One console through the portal
//!    (`GET /devices/{id}/console`, a tokio-tungstenite client with her cookie and the
//!    portal's Origin, as the browser's socket) to the first twin, one `amt::sol` session
//!    straight to the second with a ticket from her TGT (a device allows one SOL session, so
//!    each way has its own twin). At the login prompt the simulated host echoes what is typed;
//!    each keystroke alternates `x` (echo `x`) and DEL (echo `BS SP BS`), and the time from
//!    sending it to having its whole echo is one sample. N (default 2000) keystrokes per way in
//!    10 interleaved rounds.
//! 2. `stream`: this process is the portal side only: an axum WebSocket endpoint doing what
//!    the portal's console route does after its checks (the same frame mapping, the portal's
//!    own `routes::console::relay`, an `amt::sol` session per socket), but authenticating to
//!    the device with Digest (admin account): the lab AD has SPNs for amt1..amt8 only, so 500
//!    Kerberos devices cannot exist. Not measured therefore: the sign-in, ticket fetch and
//!    audit rows done once per console at its start, and the 5-second session check. A child
//!    process (this program again) runs the 500 simulated devices (Digest only, 127.1.2.1..,
//!    WS-Man 16992, redirection 16994) and the 500 browser sockets: each signs in at the host's
//!    login prompt, then types `echo` with 200 characters every INTERVAL_MS (default 100), so
//!    the host prints the echoed line, the output and a prompt (about 430 bytes). The portal
//!    side's CPU (from /proc/self/stat) and RSS (VmRSS) are sampled over SECONDS (default 30)
//!    once every console streams, with the bytes it relayed to the browsers.
//!    The WebSocket buffers are the portal's (`routes::console::WS_BUFFER`);
//!    `CONSOLE_BENCH_WS_BUFFER=<bytes>` sets others (131072 is axum's default).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path as FsPath, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use amt::client::NegotiateTokens;
use amt::sol::{SolAuth, SolConfig, SolEvent, SolReader, SolWriter};
use amt_sim::auth::KeytabVerifier;
use amt_sim::fleet::{Fleet, FleetConfig, RedirectionPorts, device_ip};
use amt_sim::seed::{AclSeed, FleetSeed};
use axum::extract::ws::{Message as AxMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use leptos::config::LeptosOptions;
use server::config::Config;
use server::routes::console::{Frame, relay};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const ORIGIN: &str = "http://portal.example.test";
/// Twins of lab device amt8: 127.1.0.235 (through the portal) and .236 (direct).
const TWIN_INDEX: u32 = 235;
const TWIN_FQDN: &str = "amt8.example.test";
/// First simulated device of the streaming fleet: 127.1.2.1.
const FLEET_FIRST: u32 = 2 * 256 + 1;
/// Set in the child that runs the streaming fleet and the browsers (the portal's address).
const CHILD: &str = "CONSOLE_BENCH_STREAM_CHILD";
const ROUNDS: usize = 10;
/// When set (bytes), the streaming benchmark's WebSocket read and write buffers take this size
/// instead of axum's default 128 KiB each, to see what the buffers cost.
const WS_BUFFER: &str = "CONSOLE_BENCH_WS_BUFFER";
/// Characters `echo`ed per command in the streaming benchmark (the host's line holds 256).
const ECHO_CHARS: usize = 200;

type Lab = HashMap<String, String>;
type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: u64| -> u64 { args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default) };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Ok(portal) = std::env::var(CHILD) {
        return exit(rt.block_on(stream_child(portal, arg(1, 500) as u32, arg(3, 100))));
    }
    match args.first().map(String::as_str) {
        Some("latency") => {
            let Some(lab) = lab_env::load() else {
                eprintln!("set LAB_ENV (and source lab.env) first: see the header of this file");
                return ExitCode::from(2);
            };
            exit(rt.block_on(latency(&lab, arg(1, 2000) as usize)))
        }
        Some("stream") => exit(rt.block_on(stream(arg(1, 500) as u32, arg(2, 30), arg(3, 100)))),
        _ => {
            eprintln!("usage: console_bench latency [N] | stream [SESSIONS] [SECONDS] [INTERVAL_MS]");
            ExitCode::from(2)
        }
    }
}

fn exit(r: Result<(), String>) -> ExitCode {
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

fn uptime() -> String {
    std::process::Command::new("uptime")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// 1. Keystroke round trip

/// alice's TGT, as tokens for the device (the direct session's source).
struct Tickets(kerberos::Cred);

impl NegotiateTokens for Tickets {
    fn token(&self, spn: &str) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
        Ok(kerberos::token_for(&self.0, spn, false)?)
    }
}

/// Form-encodes a value.
fn form(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Signs `user` in by password over one plain HTTP/1.1 request; returns the session cookie.
async fn sign_in(addr: SocketAddr, user: &str, password: &str) -> Result<String, String> {
    let body = format!("username={}&password={}", form(user), form(password));
    let req = format!(
        "POST /signin/password HTTP/1.1\r\nHost: portal.example.test\r\nOrigin: {ORIGIN}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut s = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("portal {addr}: {e}"))?;
    s.write_all(req.as_bytes()).await.map_err(|e| e.to_string())?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).await.map_err(|e| e.to_string())?;
    let resp = String::from_utf8_lossy(&resp);
    if !resp.starts_with("HTTP/1.1 303") {
        return Err(format!(
            "{user}'s sign-in was not accepted: {}",
            resp.lines().next().unwrap_or("")
        ));
    }
    resp.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("set-cookie")
                .then(|| v.trim().split(';').next().unwrap_or("").to_string())
        })
        .ok_or_else(|| "sign-in set no session cookie".to_string())
}

async fn open_ws(url: &str, cookie: Option<&str>) -> Result<Ws, String> {
    let mut req = url.into_client_request().map_err(|e| e.to_string())?;
    req.headers_mut()
        .insert("Origin", ORIGIN.parse().map_err(|_| "origin header")?);
    if let Some(c) = cookie {
        req.headers_mut()
            .insert("Cookie", c.parse().map_err(|_| "cookie header")?);
    }
    let (ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    // As a browser's socket.
    if let tokio_tungstenite::MaybeTlsStream::Plain(s) = ws.get_ref() {
        let _ = s.set_nodelay(true);
    }
    Ok(ws)
}

/// Reads binary frames until their bytes end with `want`; text frames (events) are skipped.
async fn ws_until(ws: &mut Ws, want: &[u8]) -> Result<(), String> {
    let mut seen = Vec::new();
    while !seen.ends_with(want) {
        match tokio::time::timeout(Duration::from_secs(20), ws.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) => seen.extend_from_slice(&b),
            Ok(Some(Ok(Message::Text(t)))) if t.contains("\"error\"") => {
                return Err(format!("the portal refused the console: {t}"));
            }
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(e))) => return Err(format!("console socket: {e}")),
            Ok(None) => return Err("the console socket closed".into()),
            Err(_) => {
                return Err(format!(
                    "no {:?} after 20 s (got {:?})",
                    String::from_utf8_lossy(want),
                    String::from_utf8_lossy(&seen)
                ));
            }
        }
    }
    Ok(())
}

/// Reads serial data until it ends with `want`.
async fn sol_until(reader: &mut SolReader, want: &[u8]) -> Result<(), String> {
    let mut seen = Vec::new();
    while !seen.ends_with(want) {
        match tokio::time::timeout(Duration::from_secs(20), reader.next()).await {
            Ok(Ok(Some(SolEvent::Data(d)))) => seen.extend_from_slice(&d),
            Ok(Ok(Some(_))) => {}
            Ok(Ok(None)) => return Err("the device ended the session".into()),
            Ok(Err(e)) => return Err(format!("direct session: {e}")),
            Err(_) => {
                return Err(format!(
                    "no {:?} from the device after 20 s",
                    String::from_utf8_lossy(want)
                ));
            }
        }
    }
    Ok(())
}

/// The keystroke of sample `i` and the echo it gets at the login prompt.
fn keystroke(i: usize) -> (&'static [u8], &'static [u8]) {
    if i.is_multiple_of(2) {
        (b"x", b"x")
    } else {
        (b"\x7f", b"\x08 \x08")
    }
}

async fn latency(lab: &Lab, n: usize) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("console-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let result = latency_in(lab, n, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn latency_in(lab: &Lab, n: usize, dir: &FsPath) -> Result<(), String> {
    // The two twins.
    let verifier = KeytabVerifier::from_keytab_with_rcache(
        FsPath::new(&lab["LAB_DEVICES_KEYTAB"]),
        Some(&format!("file2:{}", dir.join("device.rcache2").display())),
    )
    .map_err(|e| format!("devices keytab: {e}"))?;
    let mut seed = FleetSeed::with_count(2);
    seed.defaults.krb_enabled = Some(true);
    seed.defaults.fqdn = Some(TWIN_FQDN.into());
    seed.defaults.acl = Some(vec![AclSeed {
        sid: Some(lab["LAB_SID_AMT_ADMINS"].clone()),
        realms: vec![2, 4, 5, 13, 19, 20],
        ..AclSeed::default()
    }]);
    let fleet = Fleet::start(FleetConfig {
        seed,
        port: 16992,
        verifier: Some(Arc::new(verifier)),
        first_index: TWIN_INDEX,
        tls: None,
        redirection: Some(RedirectionPorts {
            port: 16994,
            tls_port: None,
        }),
    })
    .await
    .map_err(|e| format!("simulated {TWIN_FQDN}: {e}"))?;

    // The portal.
    let vars: HashMap<&str, String> = HashMap::from([
        ("PORTAL_LISTEN", "127.0.0.1:8443".to_string()),
        ("PORTAL_PUBLIC_URL", ORIGIN.to_string()),
        ("PORTAL_KEYTAB", lab["LAB_PORTAL_KEYTAB"].clone()),
        ("PORTAL_DATABASE", dir.join("portal.sqlite").display().to_string()),
        (
            "PORTAL_RCACHE",
            format!("file2:{}", dir.join("portal.rcache2").display()),
        ),
    ]);
    let config = Config::from_lookup(|k| vars.get(k).cloned()).map_err(|e| e.to_string())?;
    let leptos = LeptosOptions::builder()
        .output_name("portal")
        .site_root("target/site")
        .build();
    let state = server::AppState::new(config, leptos).await?;
    let new = server::registry::NewDevice::parse(
        TWIN_FQDN,
        &device_ip(TWIN_INDEX).to_string(),
        "16992",
        "false",
        "bench",
        "",
    )?;
    server::registry::upsert(&state.pool, &new, "manual")
        .await
        .map_err(|e| format!("registry: {e}"))?;
    let device_id = server::registry::list(&state.pool)
        .await
        .map_err(|e| format!("registry: {e}"))?
        .into_iter()
        .find(|d| d.fqdn == new.fqdn)
        .map(|d| d.id)
        .ok_or("the device was not registered")?;
    let router = server::app(state).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("portal listener: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await;
    });

    // Through the portal, as alice's browser.
    let cookie = sign_in(addr, "alice", &lab["LAB_PASSWORD"]).await?;
    let mut ws = open_ws(&format!("ws://{addr}/devices/{device_id}/console"), Some(&cookie)).await?;
    ws_until(&mut ws, b" login: ").await?;

    // Direct, with a ticket from alice's TGT.
    let (keytab, spn, pw) = (
        PathBuf::from(&lab["LAB_PORTAL_KEYTAB"]),
        lab["LAB_PORTAL_SPN"].clone(),
        lab["LAB_PASSWORD"].clone(),
    );
    let alice = tokio::task::spawn_blocking(move || {
        let acceptor = kerberos::Acceptor::from_keytab(&keytab).map_err(|e| e.to_string())?;
        kerberos::password_sign_in(&acceptor, &spn, "alice", &pw)
            .map(|(_, tgt)| tgt.cred)
            .map_err(|e| format!("alice's password sign-in: {e}"))
    })
    .await
    .map_err(|e| e.to_string())??;
    let mut cfg = SolConfig::new(
        &device_ip(TWIN_INDEX + 1).to_string(),
        SolAuth::Kerberos(Arc::new(Tickets(alice))),
    );
    cfg.fqdn = Some(TWIN_FQDN.into());
    let (mut reader, writer) = amt::sol::connect(&cfg)
        .await
        .map_err(|e| format!("direct session: {e}"))?
        .split();
    sol_until(&mut reader, b" login: ").await?;

    println!("# Keystroke round trip at the login prompt of {TWIN_FQDN} (simulated) as alice");
    println!("uptime at start: {}", uptime());
    println!("{n} keystrokes per way in {ROUNDS} interleaved rounds");
    let mut portal = Vec::with_capacity(n);
    let mut direct = Vec::with_capacity(n);
    let per_round = n.div_ceil(ROUNDS);
    // Warm-up, then the rounds; an even count per round keeps each line short.
    for i in 0..40 {
        let (k, echo) = keystroke(i);
        ws.send(Message::Binary(k.to_vec().into()))
            .await
            .map_err(|e| e.to_string())?;
        ws_until(&mut ws, echo).await?;
        writer.send_keys(k).await.map_err(|e| e.to_string())?;
        sol_until(&mut reader, echo).await?;
    }
    for _ in 0..ROUNDS {
        for i in 0..per_round {
            let (k, echo) = keystroke(i);
            let t = Instant::now();
            ws.send(Message::Binary(k.to_vec().into()))
                .await
                .map_err(|e| e.to_string())?;
            ws_until(&mut ws, echo).await?;
            portal.push(t.elapsed());
        }
        for i in 0..per_round {
            let (k, echo) = keystroke(i);
            let t = Instant::now();
            writer.send_keys(k).await.map_err(|e| e.to_string())?;
            sol_until(&mut reader, echo).await?;
            direct.push(t.elapsed());
        }
    }
    portal.sort();
    direct.sort();
    println!("{:<58} {:>9} {:>9} {:>9}", "way", "p50 ms", "p90 ms", "p99 ms");
    for (name, s) in [
        ("direct (amt::sol session to the simulator)", &direct),
        ("through the portal (WebSocket -> portal -> SOL)", &portal),
    ] {
        println!(
            "{name:<58} {:>9.3} {:>9.3} {:>9.3}",
            pct(s, 0.5),
            pct(s, 0.9),
            pct(s, 0.99)
        );
    }
    println!(
        "added by the portal at the median: {:.3} ms (p90: {:.3} ms)",
        pct(&portal, 0.5) - pct(&direct, 0.5),
        pct(&portal, 0.9) - pct(&direct, 0.9)
    );
    println!("uptime at end: {}", uptime());
    let _ = ws.close(None).await;
    let _ = writer.end().await;
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Ok(Some(_)) = reader.next().await {}
    })
    .await;
    fleet.shutdown().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 2. Concurrent consoles streaming

/// The portal side of the streaming benchmark.
#[derive(Clone)]
struct Side {
    /// Serial bytes sent to browsers.
    relayed: Arc<AtomicU64>,
    /// Consoles open now.
    open: Arc<AtomicUsize>,
    /// Consoles that could not start.
    failed: Arc<AtomicUsize>,
}

/// `GET /console/{n}`: the portal's console socket after its checks, with Digest to device n.
async fn bench_console(State(side): State<Side>, Path(n): Path<u32>, ws: WebSocketUpgrade) -> Response {
    // The portal's buffer sizes, unless a what-if asks for others.
    let size = std::env::var(WS_BUFFER)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(server::routes::console::WS_BUFFER);
    let ws = ws.read_buffer_size(size).write_buffer_size(size);
    ws.on_upgrade(move |socket: WebSocket| async move {
        let (sink, stream) = socket.split();
        let relayed = side.relayed.clone();
        // The portal's frame mapping (routes::console::console), counting serial bytes.
        let mut tx = Box::pin(sink.with(move |f: Frame| {
            let relayed = relayed.clone();
            async move {
                Ok::<_, axum::Error>(match f {
                    Frame::Data(d) => {
                        relayed.fetch_add(d.len() as u64, Ordering::Relaxed);
                        AxMessage::Binary(d.into())
                    }
                    Frame::Event(e) => AxMessage::Text(serde_json::to_string(&e).unwrap_or_default().into()),
                    Frame::Close => AxMessage::Close(None),
                })
            }
        }));
        let mut rx = Box::pin(
            stream
                .take_while(|m| std::future::ready(!matches!(m, Ok(AxMessage::Close(_)) | Err(_))))
                .filter_map(|m| async move {
                    match m {
                        Ok(AxMessage::Binary(b)) => Some(Frame::Data(b.to_vec())),
                        _ => None,
                    }
                }),
        );
        let cfg = SolConfig::new(
            &device_ip(FLEET_FIRST + n).to_string(),
            SolAuth::Digest {
                user: "admin".into(),
                password: "P@ssw0rd".into(),
            },
        );
        let (reader, writer): (SolReader, SolWriter) = match amt::sol::connect(&cfg).await {
            Ok(s) => s.split(),
            Err(e) => {
                side.failed.fetch_add(1, Ordering::Relaxed);
                let _ = tx
                    .send(Frame::Event(shared::console::ConsoleEvent::Error {
                        code: e.code().into(),
                        message: e.to_string(),
                    }))
                    .await;
                let _ = tx.send(Frame::Close).await;
                return;
            }
        };
        side.open.fetch_add(1, Ordering::Relaxed);
        let name = format!("device {n}");
        relay(&mut tx, &mut rx, reader, writer, &name, std::future::pending(), None).await;
        side.open.fetch_sub(1, Ordering::Relaxed);
    })
}

/// CPU seconds (user + system) of this process so far.
fn cpu_seconds(ticks_per_s: f64) -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which ends with ')'): utime is the 12th, stime the 13th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / ticks_per_s
}

/// Resident set size of this process, in MiB.
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

async fn stream(sessions: u32, secs: u64, interval_ms: u64) -> Result<(), String> {
    let limit = rlimit::increase_nofile_limit(u64::MAX).map_err(|e| format!("open files limit: {e}"))?;
    let ticks: f64 = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0);
    let side = Side {
        relayed: Arc::new(AtomicU64::new(0)),
        open: Arc::new(AtomicUsize::new(0)),
        failed: Arc::new(AtomicUsize::new(0)),
    };
    let router = axum::Router::new()
        .route("/console/{n}", axum::routing::get(bench_console))
        .with_state(side.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("portal listener: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let rss_idle = rss_mib();

    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = tokio::process::Command::new(exe)
        .env(CHILD, addr.to_string())
        .args([
            "stream",
            &sessions.to_string(),
            &secs.to_string(),
            &interval_ms.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start the simulated fleet: {e}"))?;
    let mut lines = BufReader::new(child.stdout.take().ok_or("child stdout")?).lines();
    let started = Instant::now();
    // The child says "streaming K" once K consoles are signed in and typing.
    let ready = loop {
        match lines.next_line().await.map_err(|e| e.to_string())? {
            Some(l) if l.starts_with("streaming ") => break l,
            Some(l) => println!("fleet: {l}"),
            None => return Err("the simulated fleet stopped before streaming".into()),
        }
    };
    println!("# {sessions} concurrent consoles streaming through the portal side (Digest, see the header)");
    println!(
        "open files limit {limit}; {ready} after {:.1} s; {} consoles open, {} failed",
        started.elapsed().as_secs_f64(),
        side.open.load(Ordering::Relaxed),
        side.failed.load(Ordering::Relaxed)
    );
    println!("uptime at start: {}", uptime());
    // Settle, then measure.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (cpu0, bytes0, t0) = (cpu_seconds(ticks), side.relayed.load(Ordering::Relaxed), Instant::now());
    let mut rss = Vec::new();
    while t0.elapsed() < Duration::from_secs(secs) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        rss.push(rss_mib());
    }
    let (cpu1, bytes1, dt) = (
        cpu_seconds(ticks),
        side.relayed.load(Ordering::Relaxed),
        t0.elapsed().as_secs_f64(),
    );
    let open = side.open.load(Ordering::Relaxed);
    // Stop the child: it prints what its browsers received and its own CPU.
    drop(child.stdin.take());
    let mut child_said = Vec::new();
    while let Ok(Ok(Some(l))) = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await {
        child_said.push(l);
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
    let mean_rss = rss.iter().sum::<f64>() / rss.len().max(1) as f64;
    let max_rss = rss.iter().copied().fold(f64::NAN, f64::max);
    println!("measured over {dt:.1} s with {open} consoles open:");
    println!(
        "  portal side CPU: {:.1} % of one core ({:.2} CPU-s)",
        (cpu1 - cpu0) / dt * 100.0,
        cpu1 - cpu0
    );
    println!(
        "  portal side RSS: {rss_idle:.1} MiB before any console, {mean_rss:.1} MiB mean / {max_rss:.1} MiB max while streaming"
    );
    println!(
        "  relayed to the browsers: {:.2} MB/s ({:.1} KB/s per console)",
        (bytes1 - bytes0) as f64 / dt / 1e6,
        (bytes1 - bytes0) as f64 / dt / 1e3 / open.max(1) as f64
    );
    for l in child_said {
        println!("  fleet + browsers: {l}");
    }
    println!("uptime at end: {}", uptime());
    Ok(())
}

/// The child: the simulated fleet and the browsers, until stdin closes.
async fn stream_child(portal: String, sessions: u32, interval_ms: u64) -> Result<(), String> {
    rlimit::increase_nofile_limit(u64::MAX).map_err(|e| format!("open files limit: {e}"))?;
    let ticks: f64 = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0);
    let fleet = Fleet::start(FleetConfig {
        seed: FleetSeed::with_count(sessions),
        port: 16992,
        verifier: None,
        first_index: FLEET_FIRST,
        tls: None,
        redirection: Some(RedirectionPorts {
            port: 16994,
            tls_port: None,
        }),
    })
    .await
    .map_err(|e| format!("simulated fleet: {e}"))?;
    let received = Arc::new(AtomicU64::new(0));
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::unbounded_channel::<Result<(), String>>();
    // Open the consoles 50 at a time, as a crowd would not all press at once.
    let gate = Arc::new(tokio::sync::Semaphore::new(50));
    let command = format!("echo {}\r", "x".repeat(ECHO_CHARS));
    for n in 0..sessions {
        let (received, ready_tx, gate, command, portal) = (
            received.clone(),
            ready_tx.clone(),
            gate.clone(),
            command.clone(),
            portal.clone(),
        );
        tokio::spawn(async move {
            let permit = gate.acquire_owned().await;
            let ws = async {
                let mut ws = open_ws(&format!("ws://{portal}/console/{n}"), None).await?;
                ws_until(&mut ws, b" login: ").await?;
                ws.send(Message::Binary(b"bench\r".to_vec().into()))
                    .await
                    .map_err(|e| e.to_string())?;
                ws_until(&mut ws, b":~$ ").await?;
                Ok::<_, String>(ws)
            }
            .await;
            drop(permit);
            let ws = match ws {
                Ok(ws) => ws,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            let _ = ready_tx.send(Ok(()));
            let (mut w, mut r) = ws.split();
            tokio::spawn(async move {
                while let Some(Ok(m)) = r.next().await {
                    if let Message::Binary(b) = m {
                        received.fetch_add(b.len() as u64, Ordering::Relaxed);
                    }
                }
            });
            let mut tick = tokio::time::interval(Duration::from_millis(interval_ms));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if w.send(Message::Binary(command.as_bytes().to_vec().into()))
                    .await
                    .is_err()
                {
                    break;
                }
            }
        });
    }
    drop(ready_tx);
    let (mut ok, mut failed) = (0u32, Vec::new());
    while ok + (failed.len() as u32) < sessions {
        match ready_rx.recv().await {
            Some(Ok(())) => ok += 1,
            Some(Err(e)) => failed.push(e),
            None => break,
        }
    }
    for e in failed.iter().take(3) {
        println!("a console failed: {e}");
    }
    println!("streaming {ok} of {sessions} consoles");
    let cpu0 = cpu_seconds(ticks);
    let (bytes0, t0) = (received.load(Ordering::Relaxed), Instant::now());
    // Until the parent closes stdin.
    let mut stdin = tokio::io::stdin();
    let mut buf = [0u8; 64];
    while let Ok(k) = stdin.read(&mut buf).await {
        if k == 0 {
            break;
        }
    }
    let dt = t0.elapsed().as_secs_f64();
    println!(
        "browsers received {:.2} MB/s; this process ({sessions} simulated devices and hosts, the browser sockets) used {:.1} % of one core",
        (received.load(Ordering::Relaxed) - bytes0) as f64 / dt / 1e6,
        (cpu_seconds(ticks) - cpu0) / dt * 100.0
    );
    drop(fleet);
    // Exit at once: the open sockets and device tasks need no orderly end here.
    std::process::exit(0)
}
