//! The fleet: one tokio listener per device on `127.1.x.y:<port>`, HTTP/1.1 `POST /wsman`
//! answered like AMT firmware (headers, chunked bodies, 401 page, faults), plus the
//! in-process control functions tests use (`Fleet::device`, `Device::patch`, …).

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{CONNECTION, CONTENT_TYPE, HeaderValue, SERVER, WWW_AUTHENTICATE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpSocket;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::auth::{self, AuthError, Principal, SharedVerifier};
use crate::ops::{self, OpCtx};
use crate::seed::FleetSeed;
use crate::state::Initiator;
use crate::state::{DeviceState, Faults};
use amt::device::{MessageIds, RequestKind, fault_response, faults, identify_response, parse_request};
use amt::digest::NonceIssuer;

/// Response body type.
pub type Body = BoxBody<Bytes, Infallible>;

/// The HTML page AMT sends with a 401.
pub const LOGON_FAILED_HTML: &str = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\">\n<html><head><link rel=stylesheet href=/styles.css>\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\n<title>Intel&reg; Active Management Technology</title></head>\n<body>\n<table class=header>\n<tr><td valign=top nowrap>\n<p class=top1>Intel<font class=r><sup>&reg;</sup></font> Active Management Technology\n<td valign=\"top\"><img src=\"logo.gif\" align=\"right\" alt=\"Intel\">\n</table>\n<br />\n<h2 class=warn>Log on failed. Incorrect user name or password, or user account temporarily locked.</h2>\n\n<p>\n<form METHOD=\"GET\" action=\"index.htm\"><h2><input type=submit value=\"Try again\">\n</h2></form>\n<p>\n\n</body>\n</html>\n";

/// Errors starting a fleet.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address.
        addr: SocketAddr,
        /// Cause.
        source: std::io::Error,
    },
    /// The seed is invalid.
    #[error(transparent)]
    Seed(#[from] crate::seed::SeedError),
    /// The TLS certificate or key is unusable.
    #[error("TLS: {0}")]
    Tls(String),
}

/// TLS on a second port of every device (AMT's 16993), one certificate for the whole fleet
/// (the lab's `devices.crt` names amt1..amt8 and their addresses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// Port (16993 on real devices; 0 picks a free one).
    pub port: u16,
}

impl TlsConfig {
    /// The rustls server configuration (ring provider, TLS 1.2 and 1.3).
    pub fn server_config(&self) -> Result<Arc<tokio_rustls::rustls::ServerConfig>, FleetError> {
        use tokio_rustls::rustls;
        let open = |p: &PathBuf| {
            std::fs::File::open(p)
                .map(std::io::BufReader::new)
                .map_err(|e| FleetError::Tls(format!("cannot read {}: {e}", p.display())))
        };
        let certs = rustls_pemfile::certs(&mut open(&self.cert)?)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| FleetError::Tls(format!("{}: {e}", self.cert.display())))?;
        if certs.is_empty() {
            return Err(FleetError::Tls(format!("no certificate in {}", self.cert.display())));
        }
        let key = rustls_pemfile::private_key(&mut open(&self.key)?)
            .map_err(|e| FleetError::Tls(format!("{}: {e}", self.key.display())))?
            .ok_or_else(|| FleetError::Tls(format!("no private key in {}", self.key.display())))?;
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
            .map_err(|e| FleetError::Tls(e.to_string()))?;
        Ok(Arc::new(config))
    }
}

/// The loopback address of device `index` (1-based): 127.1.0.1, 127.1.0.2, …
pub fn device_ip(index: u32) -> Ipv4Addr {
    Ipv4Addr::new(127, 1, ((index >> 8) & 0xFF) as u8, (index & 0xFF) as u8)
}

/// What a console notices of the host's power (published after every state change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowerSnap {
    /// The host is running.
    pub on: bool,
    /// Boots so far (a change means power-on, reset or cycle).
    pub boots: u32,
    /// The last boot went into BIOS setup.
    pub into_setup: bool,
}

impl PowerSnap {
    fn of(st: &DeviceState) -> PowerSnap {
        PowerSnap {
            on: st.is_on(),
            boots: st.boot.boot_count,
            into_setup: st.boot.last_boot == "BIOS setup",
        }
    }
}

/// Redirection ports of every device (AMT's 16994, and 16995 beside TLS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedirectionPorts {
    /// Plain port (16994 on real devices; 0 picks a free one).
    pub port: u16,
    /// TLS port (16995), used only when the fleet has a [`TlsConfig`].
    pub tls_port: Option<u16>,
}

/// One simulated device.
pub struct Device {
    /// 1-based index.
    pub index: u32,
    /// WS-Man address.
    pub addr: SocketAddr,
    /// WS-Man over TLS address, when the fleet serves TLS.
    pub tls_addr: Option<SocketAddr>,
    /// Redirection (SOL) address, when the fleet serves redirection.
    pub redir_addr: Option<SocketAddr>,
    /// Redirection over TLS address.
    pub redir_tls_addr: Option<SocketAddr>,
    /// A redirection connection holds (or is negotiating) the device's one SOL session.
    pub(crate) sol_claim: std::sync::atomic::AtomicBool,
    power: watch::Sender<PowerSnap>,
    sol_drop: watch::Sender<u64>,
    state: Mutex<DeviceState>,
    ids: MessageIds,
    nonces: NonceIssuer,
    acl_generation: AtomicU64,
    seed: Arc<FleetSeed>,
    last_refusal: Mutex<Option<String>>,
}

impl Device {
    fn new(index: u32, addrs: [Option<SocketAddr>; 3], addr: SocketAddr, seed: Arc<FleetSeed>) -> Device {
        let state = DeviceState::from_seed(index, &seed.device(index));
        Device {
            index,
            addr,
            tls_addr: addrs[0],
            redir_addr: addrs[1],
            redir_tls_addr: addrs[2],
            sol_claim: std::sync::atomic::AtomicBool::new(false),
            power: watch::channel(PowerSnap::of(&state)).0,
            sol_drop: watch::channel(0).0,
            state: Mutex::new(state),
            ids: MessageIds::starting_at(0x100 + index as u64 * 0x10),
            nonces: NonceIssuer::new(),
            acl_generation: AtomicU64::new(0),
            seed,
            last_refusal: Mutex::new(None),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, DeviceState> {
        // A panic while holding the lock cannot leave the state half-written in a way
        // that matters to a simulator; keep serving.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Why the last refused authentication was refused (plain words, never a token), for
    /// tests and the control API; the client only ever sees the 401.
    pub fn last_refusal(&self) -> Option<String> {
        self.last_refusal.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn set_last_refusal(&self, why: String) {
        *self.last_refusal.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
    }

    pub(crate) fn nonces(&self) -> &NonceIssuer {
        &self.nonces
    }

    /// Tells open consoles about a power change, if there was one.
    pub fn publish_power(&self) {
        let now = PowerSnap::of(&self.lock());
        let _ = self.power.send_if_modified(|p| {
            let changed = *p != now;
            *p = now;
            changed
        });
    }

    /// Power changes as consoles see them.
    pub fn power_rx(&self) -> watch::Receiver<PowerSnap> {
        self.power.subscribe()
    }

    pub(crate) fn sol_drop_rx(&self) -> watch::Receiver<u64> {
        self.sol_drop.subscribe()
    }

    /// True while a SOL console is connected (from session start to its end).
    pub fn sol_connected(&self) -> bool {
        self.sol_claim.load(Ordering::SeqCst)
    }

    /// Cuts the SOL connection without a word, as a network failure would; false when none
    /// was open.
    pub fn drop_sol(&self) -> bool {
        let open = self.sol_connected();
        self.sol_drop.send_modify(|g| *g += 1);
        open
    }

    /// A copy of the current state.
    pub fn snapshot(&self) -> DeviceState {
        self.lock().clone()
    }

    /// Runs `f` on the state (for tests that need fine control).
    pub fn with_state<R>(&self, f: impl FnOnce(&mut DeviceState) -> R) -> R {
        let r = f(&mut self.lock());
        self.acl_generation.fetch_add(1, Ordering::Relaxed);
        self.publish_power();
        r
    }

    /// The control view: the state as JSON, with the address, SPN and decoded audit log.
    pub fn view(&self) -> serde_json::Value {
        let st = self.snapshot();
        let mut v = serde_json::to_value(&st).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("address".into(), self.addr.to_string().into());
            o.insert("spn".into(), format!("HTTP/{}:{}", st.fqdn, self.addr.port()).into());
            let audit: Vec<serde_json::Value> = st
                .audit_log
                .iter()
                .map(|r| {
                    let mut a = serde_json::to_value(r).unwrap_or_default();
                    if let Some(m) = a.as_object_mut() {
                        m.insert("event".into(), r.event_number().into());
                    }
                    a
                })
                .collect();
            o.insert("audit_log".into(), audit.into());
            o.insert("last_refusal".into(), self.last_refusal().into());
            o.insert("sol_connected".into(), self.sol_connected().into());
            if let Some(a) = self.redir_addr {
                o.insert("redirection_address".into(), a.to_string().into());
            }
        }
        v
    }

    /// Applies a JSON merge patch (RFC 7386) to the state.
    pub fn patch(&self, patch: &serde_json::Value) -> Result<(), serde_json::Error> {
        let mut st = self.lock();
        let mut v = serde_json::to_value(&*st)?;
        merge_patch(&mut v, patch);
        let mut new: DeviceState = serde_json::from_value(v)?;
        new.index = st.index;
        new.enum_contexts = std::mem::take(&mut st.enum_contexts);
        // The written key is not in the JSON: it stays unless the patch clears its summary.
        if new.kerberos.written_key.is_some() {
            new.device_key = st.device_key.take();
        }
        new.next_context = st.next_context;
        *st = new;
        drop(st);
        self.acl_generation.fetch_add(1, Ordering::Relaxed);
        self.publish_power();
        Ok(())
    }

    /// Sets the fault injection.
    pub fn set_faults(&self, faults: Faults) {
        self.lock().faults = faults;
    }

    /// Opens or closes the simulated redirection (SOL) session, auditing 1804/1805.
    pub fn set_redirection_session(&self, open: bool) -> Result<(), &'static str> {
        let mut st = self.lock();
        if open && (st.redirection.enabled_state & 2 == 0 || !st.redirection.listener_enabled) {
            return Err("SOL is not enabled (EnabledState bit 1 and ListenerEnabled)");
        }
        if st.redirection.session_open != open {
            st.redirection.session_open = open;
            let ev = if open { 4 } else { 5 };
            st.audit(18, ev, Initiator::Local, None, Vec::new());
        }
        Ok(())
    }

    /// Restores the seeded state.
    pub fn reset(&self) {
        *self.lock() = DeviceState::from_seed(self.index, &self.seed.device(self.index));
        self.acl_generation.fetch_add(1, Ordering::Relaxed);
        self.publish_power();
    }
}

/// RFC 7386 JSON merge patch.
pub fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    match patch {
        serde_json::Value::Object(p) => {
            if !target.is_object() {
                *target = serde_json::Value::Object(Default::default());
            }
            if let Some(t) = target.as_object_mut() {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(serde_json::Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// How to start a fleet.
#[derive(Clone)]
pub struct FleetConfig {
    /// The fleet description.
    pub seed: FleetSeed,
    /// WS-Man port of every device; 0 picks a free one (tests).
    pub port: u16,
    /// Negotiate verifier; without one, Negotiate is refused (Digest-only fleet).
    pub verifier: Option<SharedVerifier>,
    /// Index of the first device (default 1): the fleet serves devices
    /// `first_index..first_index + seed.count`, so tests can share the lab's fixed
    /// addresses and port (`amtN` on 127.1.0.N:16992) without colliding.
    pub first_index: u32,
    /// TLS listeners besides the plain ones, when set.
    pub tls: Option<TlsConfig>,
    /// Redirection (SOL) listeners, when set.
    pub redirection: Option<RedirectionPorts>,
}

impl FleetConfig {
    /// A config with `count` built-in devices on a free port, without redirection listeners
    /// (set `redirection` for console tests).
    pub fn for_tests(count: u32) -> FleetConfig {
        FleetConfig {
            seed: FleetSeed::with_count(count),
            port: 0,
            verifier: None,
            first_index: 1,
            tls: None,
            redirection: None,
        }
    }
}

pub(crate) struct Shared {
    pub(crate) verifier: Option<SharedVerifier>,
    pub(crate) shutdown: watch::Receiver<bool>,
}

/// A running fleet.
pub struct Fleet {
    devices: Vec<Arc<Device>>,
    first: u32,
    port: u16,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let s = TcpSocket::new_v4()?;
    s.set_reuseaddr(true)?;
    s.bind(addr)?;
    s.listen(1024)
}

/// Listeners of one kind for every device, with their port.
type Bound = (u16, Vec<tokio::net::TcpListener>);

/// Every listener of a fleet: WS-Man plain/TLS, redirection plain/TLS.
struct Listeners {
    wsman: Bound,
    wsman_tls: Option<Bound>,
    redir: Option<Bound>,
    redir_tls: Option<Bound>,
}

impl Fleet {
    /// Binds every device and starts serving.
    pub async fn start(config: FleetConfig) -> Result<Fleet, FleetError> {
        let first = config.first_index.max(1);
        config.seed.validate_from(first)?;
        let seed = Arc::new(config.seed);
        let tls = match &config.tls {
            Some(t) => Some((TlsAcceptor::from(t.server_config()?), t.port)),
            None => None,
        };
        let redir = config.redirection;
        let any_free_port = config.port == 0
            || config.tls.as_ref().is_some_and(|t| t.port == 0)
            || redir.is_some_and(|r| r.port == 0 || r.tls_port == Some(0));
        let mut attempt = 0;
        loop {
            attempt += 1;
            let bound = (|| -> Result<Listeners, FleetError> {
                let wsman = Self::bind_all(&seed, first, config.port)?;
                let wsman_tls = match &tls {
                    Some((_, p)) => Some(Self::bind_all(&seed, first, *p)?),
                    None => None,
                };
                let redir_plain = match redir {
                    Some(r) => Some(Self::bind_all(&seed, first, r.port)?),
                    None => None,
                };
                let redir_tls = match (redir.and_then(|r| r.tls_port), &tls) {
                    (Some(p), Some(_)) => Some(Self::bind_all(&seed, first, p)?),
                    _ => None,
                };
                Ok(Listeners {
                    wsman,
                    wsman_tls,
                    redir: redir_plain,
                    redir_tls,
                })
            })();
            match bound {
                Ok(l) => return Ok(Self::serve(seed, first, l, tls.map(|t| t.0), config.verifier)),
                Err(e) if any_free_port && attempt < 5 => {
                    tracing::debug!(error = %e, "port clash, retrying with another port");
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn bind_all(seed: &FleetSeed, first: u32, port: u16) -> Result<Bound, FleetError> {
        let mut port = port;
        let mut listeners = Vec::with_capacity(seed.count as usize);
        for index in first..first + seed.count {
            let addr = SocketAddr::new(IpAddr::V4(device_ip(index)), port);
            let l = bind(addr).map_err(|source| FleetError::Bind { addr, source })?;
            if port == 0 {
                port = l.local_addr().map(|a| a.port()).unwrap_or(0);
            }
            listeners.push(l);
        }
        Ok((port, listeners))
    }

    fn serve(
        seed: Arc<FleetSeed>,
        first: u32,
        l: Listeners,
        acceptor: Option<TlsAcceptor>,
        verifier: Option<SharedVerifier>,
    ) -> Fleet {
        let (tx, rx) = watch::channel(false);
        let shared = Arc::new(Shared { verifier, shutdown: rx });
        let port = l.wsman.0;
        let count = l.wsman.1.len();
        let split = |b: Option<Bound>| -> (Option<u16>, Vec<Option<tokio::net::TcpListener>>) {
            let (p, mut v) = match b {
                Some((p, ls)) => (Some(p), ls.into_iter().map(Some).collect::<Vec<_>>()),
                None => (None, Vec::new()),
            };
            v.resize_with(count, || None);
            (p, v)
        };
        let (tls_port, tls_ls) = split(l.wsman_tls);
        let (redir_port, redir_ls) = split(l.redir);
        let (redir_tls_port, redir_tls_ls) = split(l.redir_tls);
        let mut devices = Vec::with_capacity(count);
        let mut tasks = Vec::with_capacity(count);
        let lists = l.wsman.1.into_iter().zip(tls_ls).zip(redir_ls).zip(redir_tls_ls);
        for (i, (((wl, tl), rl), rtl)) in lists.enumerate() {
            let index = i as u32 + first;
            let ip = IpAddr::V4(device_ip(index));
            let at = |p: Option<u16>| p.map(|p| SocketAddr::new(ip, p));
            let dev = Arc::new(Device::new(
                index,
                [at(tls_port), at(redir_port), at(redir_tls_port)],
                SocketAddr::new(ip, port),
                seed.clone(),
            ));
            devices.push(dev.clone());
            let mut spawn = |listener: Option<tokio::net::TcpListener>, tls: bool, kind: Kind| {
                if let Some(listener) = listener {
                    let acceptor = if tls { acceptor.clone() } else { None };
                    tasks.push(tokio::spawn(accept_loop(
                        listener,
                        acceptor,
                        dev.clone(),
                        shared.clone(),
                        kind,
                    )));
                }
            };
            spawn(Some(wl), false, Kind::Wsman);
            spawn(tl, true, Kind::Wsman);
            spawn(rl, false, Kind::Redirection);
            spawn(rtl, true, Kind::Redirection);
        }
        Fleet {
            devices,
            first,
            port,
            shutdown: tx,
            tasks,
        }
    }

    /// Device `n` (its index, 1-based: `amtN`).
    pub fn device(&self, n: u32) -> Option<&Arc<Device>> {
        n.checked_sub(self.first).and_then(|i| self.devices.get(i as usize))
    }

    /// All devices.
    pub fn devices(&self) -> &[Arc<Device>] {
        &self.devices
    }

    /// The WS-Man port shared by all devices.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Restores every device's seeded state.
    pub fn reset(&self) {
        for d in &self.devices {
            d.reset();
        }
    }

    /// A handle for the control API.
    pub fn handle(&self) -> FleetHandle {
        FleetHandle {
            devices: Arc::new(self.devices.clone()),
            first: self.first,
            shutdown: self.shutdown.subscribe(),
        }
    }

    /// Stops every listener and open connection.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// A cheap clone of the device list for the control server.
#[derive(Clone)]
pub struct FleetHandle {
    /// Devices.
    pub devices: Arc<Vec<Arc<Device>>>,
    /// Index of the first device.
    pub first: u32,
    /// Fleet shutdown signal.
    pub shutdown: watch::Receiver<bool>,
}

impl FleetHandle {
    /// Device `n` (its index, 1-based).
    pub fn device(&self, n: u32) -> Option<&Arc<Device>> {
        n.checked_sub(self.first).and_then(|i| self.devices.get(i as usize))
    }
}

/// What a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// HTTP `POST /wsman` (16992/16993).
    Wsman,
    /// The redirection protocol (16994/16995).
    Redirection,
}

async fn dispatch<S>(stream: S, peer: SocketAddr, port: u16, dev: Arc<Device>, shared: Arc<Shared>, kind: Kind)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    match kind {
        Kind::Wsman => serve_connection(stream, peer, port, dev, shared).await,
        Kind::Redirection => crate::redir::serve(stream, peer, port, dev, shared).await,
    }
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    tls: Option<TlsAcceptor>,
    dev: Arc<Device>,
    shared: Arc<Shared>,
    kind: Kind,
) {
    let mut shutdown = shared.shutdown.clone();
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let (dev, shared) = (dev.clone(), shared.clone());
                    match &tls {
                        None => {
                            tokio::spawn(dispatch(stream, peer, port, dev, shared, kind));
                        }
                        Some(acceptor) => {
                            let accept = acceptor.accept(stream);
                            tokio::spawn(async move {
                                match tokio::time::timeout(Duration::from_secs(10), accept).await {
                                    Ok(Ok(s)) => dispatch(s, peer, port, dev, shared, kind).await,
                                    Ok(Err(e)) => tracing::info!(device.index = dev.index, peer = %peer.ip(), error = %e, "TLS handshake failed"),
                                    Err(_) => tracing::info!(device.index = dev.index, peer = %peer.ip(), "TLS handshake timed out"),
                                }
                            });
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(device.index = dev.index, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = shutdown.changed() => break,
        }
    }
}

/// Per-connection Kerberos session (AMT admits later requests on the same connection).
#[derive(Default)]
struct ConnSession {
    kerberos: Mutex<Option<(Principal, u64)>>,
}

async fn serve_connection<S>(stream: S, peer: SocketAddr, port: u16, dev: Arc<Device>, shared: Arc<Shared>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let session = Arc::new(ConnSession::default());
    let svc = {
        let shared = shared.clone();
        service_fn(move |req| handle_http(req, peer, port, dev.clone(), shared.clone(), session.clone()))
    };
    let conn = http1::Builder::new()
        .title_case_headers(true)
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), svc);
    let mut shutdown = shared.shutdown.clone();
    tokio::select! {
        _ = conn => {}
        _ = shutdown.changed() => {}
    }
}

fn server_header(st: &DeviceState) -> String {
    format!(
        "Intel(R) Active Management Technology {}.{}",
        st.amt_version, st.build_number
    )
}

fn chunked(s: String) -> Body {
    StreamBody::new(futures_util::stream::iter([Ok::<_, Infallible>(Frame::data(
        Bytes::from(s),
    ))]))
    .boxed()
}

fn soap_response(status: StatusCode, server: &str, body: String) -> Response<Body> {
    let mut r = Response::new(chunked(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        SERVER,
        HeaderValue::from_str(server).unwrap_or(HeaderValue::from_static("Intel(R) Active Management Technology")),
    );
    h.insert("X-Frame-Options", HeaderValue::from_static("DENY"));
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/soap+xml; charset=UTF-8"),
    );
    r
}

fn plain(status: StatusCode, server: &str, text: &'static str) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from_static(text.as_bytes())).boxed());
    *r.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(server) {
        r.headers_mut().insert(SERVER, v);
    }
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
    r
}

fn unauthorized(dev: &Device, stale: bool) -> Response<Body> {
    let st = dev.lock();
    let now = crate::state::unix_now() as u64;
    let challenge = auth::digest_challenge(&st, &dev.nonces, now, stale);
    let mut r = plain(StatusCode::UNAUTHORIZED, &server_header(&st), LOGON_FAILED_HTML);
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        h.append(WWW_AUTHENTICATE, v);
    }
    if st.kerberos.enabled {
        h.append(WWW_AUTHENTICATE, HeaderValue::from_static("Negotiate"));
    }
    h.insert(CONNECTION, HeaderValue::from_static("close"));
    r
}

/// A dropped connection: hyper closes the socket without writing a response.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by fault injection")]
struct Dropped;

async fn handle_http(
    req: hyper::Request<Incoming>,
    peer: SocketAddr,
    port: u16,
    dev: Arc<Device>,
    shared: Arc<Shared>,
    session: Arc<ConnSession>,
) -> Result<Response<Body>, Dropped> {
    let (faults, server) = {
        let st = dev.lock();
        (st.faults.clone(), server_header(&st))
    };
    if !faults.is_clear() {
        if faults.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
        }
        if faults.drop_connection {
            return Err(Dropped);
        }
        if faults.hang {
            let mut s = shared.shutdown.clone();
            let _ = s.wait_for(|v| *v).await;
            return Err(Dropped);
        }
        if faults.http_500 {
            return Ok(plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                &server,
                "<html><body>Internal Server Error</body></html>",
            ));
        }
        if faults.busy {
            let body = fault_response(&dev.ids, "0", &faults::quota_limit());
            return Ok(soap_response(StatusCode::BAD_REQUEST, &server, body));
        }
    }
    if req.uri().path() != "/wsman" {
        return Ok(plain(
            StatusCode::NOT_FOUND,
            &server,
            "<html><body>Not Found</body></html>",
        ));
    }
    if req.method() != hyper::Method::POST {
        return Ok(plain(
            StatusCode::METHOD_NOT_ALLOWED,
            &server,
            "<html><body>Method Not Allowed</body></html>",
        ));
    }
    let authorization = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = match Limited::new(req.into_body(), 512 * 1024).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Err(Dropped),
    };
    let text = String::from_utf8_lossy(&body);
    let parsed = parse_request(&text);

    if let Ok(r) = &parsed
        && r.kind == RequestKind::Identify
    {
        let version = {
            let st = dev.lock();
            format!(
                "AMT {}",
                st.amt_version.split('.').take(2).collect::<Vec<_>>().join(".")
            )
        };
        return Ok(soap_response(
            StatusCode::OK,
            &server,
            identify_response("Intel Corporation", &version),
        ));
    }

    let (principal, response_token) = match authenticate(&dev, port, &shared, &session, authorization.as_deref()).await
    {
        Ok(p) => p,
        Err(AuthError::Stale) => return Ok(unauthorized(&dev, true)),
        Err(AuthError::Missing) => return Ok(unauthorized(&dev, false)),
        Err(e) => {
            tracing::info!(device.index = dev.index, peer = %peer.ip(), reason = %e, "authentication failed");
            dev.set_last_refusal(e.to_string());
            return Ok(unauthorized(&dev, false));
        }
    };

    let (status, mut out) = match parsed {
        Err(e) => {
            tracing::debug!(device.index = dev.index, error = %e, "unusable request");
            let body = fault_response(&dev.ids, "0", &faults::schema_validation());
            (StatusCode::BAD_REQUEST, body)
        }
        Ok(r) => {
            let outcome = {
                let mut st = dev.lock();
                let ctx = OpCtx {
                    principal: &principal,
                    peer: Some(peer.ip().to_string()),
                };
                ops::handle(&mut st, &r, &ctx, &dev.ids)
            };
            if outcome.acl_changed {
                dev.acl_generation.fetch_add(1, Ordering::Relaxed);
            }
            dev.publish_power();
            match outcome.body {
                Ok(b) => (StatusCode::OK, b),
                // AMT answers faults with HTTP 400 (a 401 would read as "log on again").
                Err(f) => (StatusCode::BAD_REQUEST, fault_response(&dev.ids, &r.message_id, &f)),
            }
        }
    };
    if faults.malformed_xml {
        let cut = out.len() / 2;
        let cut = (0..=cut).rev().find(|i| out.is_char_boundary(*i)).unwrap_or(0);
        out.truncate(cut);
        out.push_str("<a:Bo");
    }
    let mut resp = soap_response(status, &server, out);
    if let Some(tok) = response_token
        && let Ok(v) = HeaderValue::from_str(&format!("Negotiate {}", B64.encode(tok)))
    {
        resp.headers_mut().insert(WWW_AUTHENTICATE, v);
    }
    Ok(resp)
}

/// The verifier of tickets to `dev`: the key written to it over WS-Man when there is one
/// (then only that key opens tickets), else the fleet's shared keytab.
pub(crate) fn verifier_for(dev: &Device, shared: &Shared) -> Option<SharedVerifier> {
    let own = dev.lock().device_key.as_ref().map(|k| k.verifier());
    own.or_else(|| shared.verifier.clone())
}

async fn authenticate(
    dev: &Arc<Device>,
    port: u16,
    shared: &Shared,
    session: &ConnSession,
    authorization: Option<&str>,
) -> Result<(Principal, Option<Vec<u8>>), AuthError> {
    let generation = dev.acl_generation.load(Ordering::Relaxed);
    let Some(h) = authorization else {
        let cached = session.kerberos.lock().unwrap_or_else(|p| p.into_inner()).clone();
        return match cached {
            Some((p, g)) if g == generation => Ok((p, None)),
            _ => Err(AuthError::Missing),
        };
    };
    let (scheme, rest) = h.split_once(' ').unwrap_or((h, ""));
    if scheme.eq_ignore_ascii_case("Digest") {
        let st = dev.lock();
        let now = crate::state::unix_now() as u64;
        return auth::check_digest(&st, &dev.nonces, rest, now).map(|p| (p, None));
    }
    if !scheme.eq_ignore_ascii_case("Negotiate") {
        return Err(AuthError::Missing);
    }
    let token_b64 = rest.trim();
    {
        let st = dev.lock();
        if let Err(e) = auth::precheck_negotiate(&st, token_b64) {
            tracing::warn!(device.index = dev.index, reason = %e, "Negotiate refused before decryption");
            return Err(e);
        }
    }
    let token = B64
        .decode(token_b64)
        .map_err(|_| AuthError::Kerberos("token is not base64".into()))?;
    let verifier = verifier_for(dev, shared).ok_or_else(|| AuthError::Kerberos("simulator has no keytab".into()))?;
    let ticket = tokio::task::spawn_blocking(move || verifier.verify(&token))
        .await
        .map_err(|_| AuthError::Kerberos("verifier failed".into()))?
        .map_err(AuthError::Kerberos)?;
    let principal = {
        let st = dev.lock();
        auth::authorize_ticket(&st, port, &ticket)?
    };
    tracing::info!(device.index = dev.index, user.principal = %principal.name(), "Kerberos user authenticated");
    *session.kerberos.lock().unwrap_or_else(|p| p.into_inner()) = Some((principal.clone(), generation));
    Ok((principal, ticket.response_token))
}
