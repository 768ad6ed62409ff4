//! Device access benchmarks of issue 4, against the lab Active Directory and one simulated
//! device (docs/BENCHMARKS.md, "Device access (issue 4)"). Prints figures; asserts nothing
//! about time.
//!
//! Run with the lab up (e2e/lab/README.md):
//!
//! ```sh
//! set -a; . /work/main/.lab/lab.env; set +a
//! LAB_ENV=$LAB_DIR/lab.env cargo run --release -p server --example device_access_bench [-- N]
//! ```
//!
//! One process holds everything: the simulated twin of lab device `amt7` (its SPNs are in the
//! lab AD) on 127.1.0.227:16992, verifying tickets with the lab's device keytab, its ACL giving
//! AMT Admins the Remote Control realm; and the real portal router (`server::app`) twice on
//! loopback plain HTTP, sharing one state: once keeping device clients between clicks (the
//! portal as built), once making a new client per action (`DeviceClients::disabled()`, the
//! portal before the fix). alice signs in for real, by Negotiate with a forwarded TGT (the
//! portal then holds her TGT) and by Negotiate without one (the portal then uses S4U2Proxy).
//!
//! 1. Latency: N (default 2000) sequential power-state reads for each way, in 10 interleaved
//!    rounds so that load from other processes hits all alike: `POST /api/power` with her
//!    cookie and the portal's Origin over one keep-alive HTTP/1.1 connection, against the same
//!    read made directly with `amt::client::Client` on one keep-alive connection with a token
//!    from her TGT, as a console does. p50/p90/p99 and the added latency at the median.
//! 2. KDC requests: the process runs itself again with `KRB5_TRACE` set before any Kerberos
//!    call, and for each way counts the requests sent to the KDC (`Sending request` lines of
//!    MIT's trace) while alice takes 100 actions (90 reads, 10 power cycles) on the device,
//!    after a fresh sign-in. It also counts the tickets the device verified and the portal's
//!    S4U2Self exchanges.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use amt::client::{Auth, Client, ClientConfig, NegotiateTokens};
use amt_sim::auth::{KeytabVerifier, TicketVerifier, VerifiedTicket};
use amt_sim::fleet::{Fleet, FleetConfig, device_ip};
use amt_sim::seed::{AclSeed, FleetSeed};
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use leptos::config::LeptosOptions;
use server::AppState;
use server::config::Config;
use server::device_clients::DeviceClients;

/// Lab device `amt7`, served on 127.1.0.227 (not an address the lab tests or the demo use).
const DEVICE: u32 = 7;
const TWIN_INDEX: u32 = 220 + DEVICE;
const ORIGIN: &str = "http://portal.example.test";
/// Set in the re-executed child that counts KDC requests.
const CHILD: &str = "DEVICE_BENCH_KDC_CHILD";
const ACTIONS: usize = 100;
const ROUNDS: usize = 10;

type Lab = HashMap<String, String>;

fn main() -> ExitCode {
    let Some(lab) = lab_env::load() else {
        eprintln!("set LAB_ENV (and source lab.env) first: see the header of this file");
        return ExitCode::from(2);
    };
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
    if std::env::var_os(CHILD).is_some() {
        let trace = PathBuf::from(std::env::var("KRB5_TRACE").unwrap_or_default());
        return exit(rt.block_on(kdc_requests(&lab, &trace)));
    }
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    if let Err(e) = rt.block_on(latency(&lab, n)) {
        eprintln!("latency benchmark: {e}");
        return ExitCode::FAILURE;
    }
    drop(rt);
    // KRB5_TRACE must be in the environment before MIT's first context: a fresh process.
    let trace = std::env::temp_dir().join(format!("device-bench-{}.krb5trace", std::process::id()));
    let _ = std::fs::remove_file(&trace);
    let status = std::env::current_exe().and_then(|exe| {
        std::process::Command::new(exe)
            .env(CHILD, "1")
            .env("KRB5_TRACE", &trace)
            .status()
    });
    let _ = std::fs::remove_file(&trace);
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(s) => {
            eprintln!("KDC request count failed: {s}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("cannot run the KDC request count: {e}");
            ExitCode::FAILURE
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

/// The device's verifier, counting the tickets it is given.
struct Counting {
    inner: KeytabVerifier,
    verified: AtomicUsize,
    /// Total time spent verifying, in microseconds.
    micros: AtomicU64,
}

impl TicketVerifier for Counting {
    fn verify(&self, token: &[u8]) -> Result<VerifiedTicket, String> {
        self.verified.fetch_add(1, Ordering::Relaxed);
        let t = Instant::now();
        let r = self.inner.verify(token);
        self.micros.fetch_add(t.elapsed().as_micros() as u64, Ordering::Relaxed);
        r
    }
}

/// alice's TGT, as tokens for the device (the direct client's source).
struct Tickets(kerberos::Cred);

impl NegotiateTokens for Tickets {
    fn token(&self, spn: &str) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
        Ok(kerberos::token_for(&self.0, spn, false)?)
    }
}

/// Everything running: the device, the portal twice, alice's TGT.
struct Bench {
    fleet: Fleet,
    verifier: Arc<Counting>,
    state: AppState,
    /// The portal as built (device clients kept) and as before the fix (a client per action).
    kept: SocketAddr,
    per_action: SocketAddr,
    device_id: i64,
    alice: kerberos::Cred,
    dir: PathBuf,
}

impl Bench {
    async fn start(lab: &Lab, tag: &str) -> Result<Bench, String> {
        let dir = std::env::temp_dir().join(format!("device-bench-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;

        // The device.
        let verifier = Arc::new(Counting {
            inner: KeytabVerifier::from_keytab_with_rcache(
                Path::new(&lab["LAB_DEVICES_KEYTAB"]),
                Some(&format!("file2:{}", dir.join("device.rcache2").display())),
            )
            .map_err(|e| format!("devices keytab: {e}"))?,
            verified: AtomicUsize::new(0),
            micros: AtomicU64::new(0),
        });
        let mut seed = FleetSeed::with_count(1);
        seed.defaults.krb_enabled = Some(true);
        seed.defaults.fqdn = Some(format!("amt{DEVICE}.example.test"));
        seed.defaults.acl = Some(vec![AclSeed {
            sid: Some(lab["LAB_SID_AMT_ADMINS"].clone()),
            realms: vec![2, 4, 5, 13, 19, 20],
            ..AclSeed::default()
        }]);
        let fleet = Fleet::start(FleetConfig {
            seed,
            port: 16992,
            verifier: Some(verifier.clone()),
            first_index: TWIN_INDEX,
            tls: None,
            redirection: None,
        })
        .await
        .map_err(|e| format!("simulated amt{DEVICE}: {e}"))?;

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
        let state = AppState::new(config, leptos).await?;
        let new = server::registry::NewDevice::parse(
            &format!("amt{DEVICE}.example.test"),
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
        let kept = serve(state.clone()).await?;
        let mut before = state.clone();
        before.device_clients = Arc::new(DeviceClients::disabled());
        let per_action = serve(before).await?;

        // alice's TGT (AS exchange, checked against the portal's keytab).
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
        Ok(Bench {
            fleet,
            verifier,
            state,
            kept,
            per_action,
            device_id,
            alice,
            dir,
        })
    }

    /// Signs alice in at `portal` by Negotiate, forwarding her TGT or not; returns the cookie.
    async fn sign_in(&self, portal: &mut Portal, forward: bool) -> Result<String, String> {
        let (cred, spn) = (self.alice.clone(), "HTTP/portal.example.test".to_string());
        let token = tokio::task::spawn_blocking(move || kerberos::token_for(&cred, &spn, forward))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("token for the portal: {e}"))?;
        let auth = format!("Negotiate {}", base64::engine::general_purpose::STANDARD.encode(token));
        let req = hyper::Request::get("/signin")
            .header("host", "portal.example.test")
            .header("authorization", auth)
            .body(Full::new(Bytes::new()))
            .map_err(|e| e.to_string())?;
        let resp = portal.send(req).await?;
        if resp.0 != 303 {
            return Err(format!("sign-in answered {}: {}", resp.0, resp.2));
        }
        resp.1.ok_or_else(|| "sign-in set no session cookie".to_string())
    }

    /// A direct client for the device with alice's tickets, one keep-alive connection.
    fn direct(&self) -> Client {
        let mut cfg = ClientConfig::new(
            &device_ip(TWIN_INDEX).to_string(),
            Auth::Negotiate(Arc::new(Tickets(self.alice.clone()))),
        );
        cfg.fqdn = Some(format!("amt{DEVICE}.example.test"));
        cfg.max_in_flight = 1;
        cfg.timeout = Duration::from_secs(10);
        Client::new(cfg)
    }

    async fn stop(self) {
        self.fleet.shutdown().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn serve(state: AppState) -> Result<SocketAddr, String> {
    let router = server::app(state).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("portal listener: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await;
    });
    Ok(addr)
}

/// One keep-alive HTTP/1.1 connection to the portal, as a browser tab holds.
struct Portal {
    sender: SendRequest<Full<Bytes>>,
}

impl Portal {
    async fn connect(addr: SocketAddr) -> Result<Portal, String> {
        let tcp = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("portal {addr}: {e}"))?;
        let _ = tcp.set_nodelay(true);
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        Ok(Portal { sender })
    }

    /// Status, the session cookie set (if any), body.
    async fn send(&mut self, req: hyper::Request<Full<Bytes>>) -> Result<(u16, Option<String>, String), String> {
        self.sender.ready().await.map_err(|e| e.to_string())?;
        let resp = self.sender.send_request(req).await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let cookie = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("amt-portal="))
            .and_then(|v| v.split(';').next())
            .map(str::to_string);
        let body = resp.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
        Ok((status, cookie, String::from_utf8_lossy(&body).into_owned()))
    }

    /// Calls a server function (`/api/<endpoint>`) as the browser does; the body must be an Ok outcome.
    async fn call(&mut self, cookie: &str, endpoint: &str, form: &str) -> Result<(), String> {
        let req = hyper::Request::post(format!("/api/{endpoint}"))
            .header("host", "portal.example.test")
            .header("origin", ORIGIN)
            .header("cookie", cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(Full::new(Bytes::from(form.to_string())))
            .map_err(|e| e.to_string())?;
        let (status, _, body) = self.send(req).await?;
        if status != 200 || !body.starts_with("{\"Ok\"") {
            return Err(format!("/api/{endpoint} answered {status}: {body}"));
        }
        Ok(())
    }
}

/// One way of reading the power state, timed.
struct Way {
    name: &'static str,
    samples: Vec<Duration>,
    run: WayKind,
}

enum WayKind {
    Direct(Box<Client>),
    Portal {
        conn: Portal,
        cookie: String,
    },
    /// `GET /healthz` on the portal's connection: its HTTP stack, no session, no device.
    Health(Portal),
}

impl Way {
    async fn once(&mut self, device_id: i64) -> Result<Duration, String> {
        let t = Instant::now();
        match &mut self.run {
            WayKind::Direct(c) => {
                c.power_state().await.map_err(|e| format!("direct read: {e}"))?;
            }
            WayKind::Portal { conn, cookie } => {
                conn.call(cookie, "power", &format!("id={device_id}")).await?;
            }
            WayKind::Health(conn) => {
                let req = hyper::Request::get("/healthz")
                    .header("host", "portal.example.test")
                    .body(Full::new(Bytes::new()))
                    .map_err(|e| e.to_string())?;
                let (status, _, _) = conn.send(req).await?;
                if status != 200 {
                    return Err(format!("/healthz answered {status}"));
                }
            }
        }
        Ok(t.elapsed())
    }
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

async fn latency(lab: &Lab, n: usize) -> Result<(), String> {
    let b = Bench::start(lab, "latency").await?;
    println!("# Device access latency: one power-state read of amt{DEVICE} (simulated, 127.1.0.{TWIN_INDEX}) as alice");
    println!(
        "load average at start: {}; {n} reads per way in {ROUNDS} interleaved rounds",
        load()
    );
    let mut ways = Vec::new();
    ways.push(Way {
        name: "direct (amt client, one keep-alive connection, one token)",
        samples: Vec::new(),
        run: WayKind::Direct(Box::new(b.direct())),
    });
    for (name, addr, forward) in [
        ("portal, kept clients, her forwarded TGT", b.kept, true),
        ("portal, kept clients, S4U2Proxy", b.kept, false),
        (
            "portal, client per action (before), her forwarded TGT",
            b.per_action,
            true,
        ),
        ("portal, client per action (before), S4U2Proxy", b.per_action, false),
    ] {
        let mut conn = Portal::connect(addr).await?;
        let cookie = b.sign_in(&mut conn, forward).await?;
        ways.push(Way {
            name,
            samples: Vec::new(),
            run: WayKind::Portal { conn, cookie },
        });
    }
    ways.push(Way {
        name: "portal `GET /healthz` (its HTTP stack alone, for reference)",
        samples: Vec::new(),
        run: WayKind::Health(Portal::connect(b.kept).await?),
    });
    // Warm-up: tickets fetched, connections open, code paths hot.
    for w in ways.iter_mut() {
        for _ in 0..20 {
            w.once(b.device_id).await?;
        }
    }
    let per_round = n.div_ceil(ROUNDS);
    for _ in 0..ROUNDS {
        for w in ways.iter_mut() {
            for _ in 0..per_round {
                let d = w.once(b.device_id).await?;
                w.samples.push(d);
            }
        }
    }
    println!("load average at end: {}", load());
    println!();
    println!("| way | reads | p50 ms | p90 ms | p99 ms | added at p50 ms |");
    println!("|---|---|---|---|---|---|");
    let mut base = f64::NAN;
    for w in ways.iter_mut() {
        w.samples.sort();
        let p50 = pct(&w.samples, 0.5);
        if base.is_nan() {
            base = p50;
        }
        println!(
            "| {} | {} | {:.3} | {:.3} | {:.3} | {} |",
            w.name,
            w.samples.len(),
            p50,
            pct(&w.samples, 0.9),
            pct(&w.samples, 0.99),
            if !matches!(w.run, WayKind::Portal { .. }) {
                "-".to_string()
            } else {
                format!("{:+.3}", p50 - base)
            }
        );
    }
    let verified = b.verifier.verified.load(Ordering::Relaxed);
    println!(
        "\ntickets the device verified: {verified} (kept clients: once per connection; per action: once per read), \
         {:.3} ms each on average",
        b.verifier.micros.load(Ordering::Relaxed) as f64 / 1000.0 / verified.max(1) as f64
    );
    // What a client per action adds on the portal's side: a token from the cached service ticket.
    let mut tokens = Vec::with_capacity(500);
    for _ in 0..500 {
        let cred = b.alice.clone();
        let spn = format!("HTTP/amt{DEVICE}.example.test:16992");
        let t = Instant::now();
        tokio::task::spawn_blocking(move || kerberos::token_for(&cred, &spn, false))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("token: {e}"))?;
        tokens.push(t.elapsed());
    }
    tokens.sort();
    println!(
        "a token for the device from the cached service ticket (kerberos::token_for on a blocking thread): p50 {:.3} ms, p90 {:.3} ms",
        pct(&tokens, 0.5),
        pct(&tokens, 0.9)
    );
    b.stop().await;
    Ok(())
}

/// What MIT's trace says happened with the KDC in a slice of the trace.
fn kdc_summary(trace: &str) -> (usize, BTreeMap<String, usize>) {
    let mut requests = 0;
    let mut what = BTreeMap::new();
    for line in trace.lines() {
        // "[pid] time: message"
        let msg = line.split_once(": ").map(|(_, m)| m).unwrap_or(line);
        if msg.starts_with("Sending request (") {
            requests += 1;
        } else if let Some(rest) = msg.strip_prefix("TGS reply is for ") {
            let names = rest.split(" with session key").next().unwrap_or(rest);
            *what.entry(format!("TGS reply {names}")).or_insert(0) += 1;
        } else if let Some(who) = msg.strip_prefix("Getting initial credentials for ") {
            *what.entry(format!("AS request (a TGT) for {who}")).or_insert(0) += 1;
        }
    }
    (requests, what)
}

async fn kdc_requests(lab: &Lab, trace: &Path) -> Result<(), String> {
    if trace.as_os_str().is_empty() {
        return Err("KRB5_TRACE is not set".into());
    }
    let b = Bench::start(lab, "kdc").await?;
    let svc = b
        .state
        .service_identity
        .clone()
        .ok_or("the portal has no service identity (constrained delegation unavailable)")?;
    println!();
    println!(
        "# KDC requests while alice takes {ACTIONS} actions on amt{DEVICE} (90 reads, 10 power cycles), after a fresh sign-in"
    );
    println!("load average: {}", load());
    println!();
    println!(
        "| portal | acting as alice by | actions ok | KDC requests | of which tickets for HTTP/amt{DEVICE}.example.test:16992 | S4U2Self | tickets the device verified |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut details = Vec::new();
    for (portal_name, addr) in [("client per action (before)", b.per_action), ("kept clients", b.kept)] {
        for (by, forward) in [("her forwarded TGT", true), ("S4U2Proxy", false)] {
            let mut conn = Portal::connect(addr).await?;
            // A fresh start: a new forwarded TGT (no device ticket in it yet), no impersonation kept.
            svc.forget();
            let cookie = b.sign_in(&mut conn, forward).await?;
            let offset = std::fs::metadata(trace).map(|m| m.len()).unwrap_or(0);
            let (s4u0, verified0) = (svc.s4u2self_requests(), b.verifier.verified.load(Ordering::Relaxed));
            let mut ok = 0;
            for i in 0..ACTIONS {
                let r = if i % 10 == 9 {
                    conn.call(&cookie, "power-action", &format!("id={}&action=Cycle", b.device_id))
                        .await
                } else {
                    conn.call(&cookie, "power", &format!("id={}", b.device_id)).await
                };
                match r {
                    Ok(()) => ok += 1,
                    Err(e) => eprintln!("action {i}: {e}"),
                }
            }
            let text = std::fs::read(trace).map_err(|e| format!("{}: {e}", trace.display()))?;
            let slice = String::from_utf8_lossy(text.get(offset as usize..).unwrap_or_default()).into_owned();
            let (requests, what) = kdc_summary(&slice);
            let device_tickets: usize = what
                .iter()
                .filter(|(k, _)| k.contains(&format!("-> HTTP/amt{DEVICE}.example.test:16992@")))
                .map(|(_, n)| n)
                .sum();
            println!(
                "| {portal_name} | {by} | {ok}/{ACTIONS} | {requests} | {device_tickets} | {} | {} |",
                svc.s4u2self_requests() - s4u0,
                b.verifier.verified.load(Ordering::Relaxed) - verified0
            );
            details.push((portal_name, by, what));
        }
    }
    println!("\nKDC replies seen in each run (from MIT's trace):");
    for (portal_name, by, what) in details {
        println!("- {portal_name}, {by}:");
        for (k, n) in what {
            println!("  - {n} x {k}");
        }
    }
    b.stop().await;
    Ok(())
}
