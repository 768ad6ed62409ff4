//! Async WS-Management client for one AMT device over HTTP/1.1 (port 16992).
//!
//! * Authentication: Digest ([`Auth::Digest`]) with the nonce reused across requests and one
//!   retry on a 401 (first challenge, or `stale=true`); or Negotiate ([`Auth::Negotiate`]) with
//!   a caller-provided [`NegotiateTokens`], sending `Authorization: Negotiate <base64>` on the
//!   first request of each connection, for SPN `HTTP/<fqdn>:<port>`.
//! * Connections are kept alive in a small pool; a semaphore bounds requests in flight per
//!   device; every request has a timeout. A kept-alive connection the device closed while it
//!   was idle is replaced once, transparently; so is a Negotiate session the device no longer
//!   knows (a 401 to a request sent without a token on an authenticated connection).
//! * Errors are typed ([`ClientError`]): connect refused, timeout, 401 with offered schemes,
//!   HTTP 500, malformed XML, SOAP fault, non-success return code.
//! * Transport: plain TCP (16992) or TLS (16993) with rustls ([`Connector::tls`], trust from
//!   [`crate::tls::Trust`]); the certificate is checked against the FQDN when one is set.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use crate::digest::{Challenge, DigestSession};
use crate::fault::Fault;
use crate::http::{Connection, HttpError, HttpResponse};
use crate::models::Model;
use crate::ns;
use crate::status::ReturnCode;
use crate::wsman::parse::{ParseError, return_value};
use crate::wsman::{Element, Envelope, Request};

/// Produces Kerberos/SPNEGO tokens for an SPN (the portal implements it with GSSAPI).
pub trait NegotiateTokens: Send + Sync {
    /// The token for `spn` (e.g. `HTTP/amt1.lab.example:16992`).
    fn token(&self, spn: &str) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>>;
}

/// How to authenticate.
#[derive(Clone)]
pub enum Auth {
    /// HTTP Digest with a user and password.
    Digest {
        /// User name.
        user: String,
        /// Password.
        password: String,
    },
    /// HTTP Negotiate (Kerberos) with tokens from the caller.
    Negotiate(Arc<dyn NegotiateTokens>),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Digest { user, .. } => write!(f, "Digest({user}, <redacted>)"),
            Auth::Negotiate(_) => f.write_str("Negotiate"),
        }
    }
}

/// How connections are made.
#[derive(Clone, Default)]
pub enum Connector {
    /// Plain TCP (port 16992).
    #[default]
    Plain,
    /// TLS over TCP (port 16993).
    Tls(Arc<tokio_rustls::rustls::ClientConfig>),
}

impl Connector {
    /// TLS trusting `trust` (a CA file, the system roots, or — labs only — anything).
    pub fn tls(trust: &crate::tls::Trust) -> Result<Self, crate::tls::TlsError> {
        Ok(Connector::Tls(crate::tls::client_config(trust)?))
    }
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Connector::Plain => f.write_str("Plain"),
            Connector::Tls(_) => f.write_str("Tls"),
        }
    }
}

/// Settings of a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Host name or address to connect to.
    pub host: String,
    /// Port (16992 plain).
    pub port: u16,
    /// FQDN used for the Kerberos SPN (defaults to `host`).
    pub fqdn: Option<String>,
    /// Authentication.
    pub auth: Auth,
    /// Per-request timeout (connect + exchange).
    pub timeout: Duration,
    /// Requests in flight at once for this device.
    pub max_in_flight: usize,
    /// Transport.
    pub connector: Connector,
}

impl ClientConfig {
    /// Defaults: port 16992, 30 s timeout, 2 requests in flight.
    pub fn new(host: &str, auth: Auth) -> Self {
        ClientConfig {
            host: host.to_owned(),
            port: 16992,
            fqdn: None,
            auth,
            timeout: Duration::from_secs(30),
            max_in_flight: 2,
            connector: Connector::Plain,
        }
    }

    /// Switches to TLS on port 16993 with `connector` (from [`Connector::tls`]).
    pub fn with_tls(mut self, connector: Connector) -> Self {
        self.connector = connector;
        self.port = 16993;
        self
    }

    /// The SPN AMT expects: `HTTP/<fqdn>:<port>`.
    pub fn spn(&self) -> String {
        format!("HTTP/{}:{}", self.fqdn.as_deref().unwrap_or(&self.host), self.port)
    }
}

/// Errors of a WS-Man call, in plain words.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing listens on the port.
    #[error("the device refused the connection (is AMT enabled and reachable on port {0}?)")]
    ConnectRefused(u16),
    /// Other connect or socket error.
    #[error("could not talk to the device: {0}")]
    Http(#[from] HttpError),
    /// The request took longer than the timeout.
    #[error("the device did not answer within {0:?}")]
    Timeout(Duration),
    /// Authentication failed; the schemes the device offers are listed.
    #[error("the device rejected the credentials (it offers: {})", schemes.join(", "))]
    Unauthorized {
        /// Schemes from `WWW-Authenticate` (e.g. `Digest`, `Negotiate`).
        schemes: Vec<String>,
    },
    /// The Negotiate token could not be obtained.
    #[error("could not get a Kerberos ticket for {spn}: {source}")]
    Negotiate {
        /// The SPN asked for.
        spn: String,
        /// The provider's own error, kept whole so callers can downcast it to their type.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The TLS handshake failed (untrusted or mismatched certificate, no TLS on the port, …).
    #[error("the TLS handshake with the device failed: {0}")]
    Tls(String),
    /// HTTP 500 without a SOAP fault.
    #[error("the device had an internal error (HTTP 500)")]
    ServerError,
    /// Another unexpected HTTP status.
    #[error("the device answered with HTTP {0}")]
    Status(u16),
    /// The response is not a valid WS-Man envelope.
    #[error("the device sent an unreadable response: {0}")]
    Malformed(#[from] ParseError),
    /// A SOAP fault.
    #[error("{0}")]
    Fault(Fault),
    /// A method returned a non-zero code.
    #[error("{method} failed: {code}")]
    ReturnCode {
        /// Method name.
        method: String,
        /// The code.
        code: ReturnCode,
    },
}

/// A plain or TLS stream.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

struct Pooled {
    conn: Connection<Box<dyn Io>>,
    negotiated: bool,
    /// True once the connection has carried a request and waited in the pool.
    reused: bool,
}

/// A WS-Man client for one device. Cheap to share behind an `Arc`.
pub struct Client {
    cfg: ClientConfig,
    pool: std::sync::Mutex<Vec<Pooled>>,
    digest: std::sync::Mutex<Option<DigestSession>>,
    in_flight: Semaphore,
    next_id: AtomicU64,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("cfg", &self.cfg).finish()
    }
}

fn schemes(resp: &HttpResponse) -> Vec<String> {
    resp.headers_named("www-authenticate")
        .filter_map(|v| v.split_whitespace().next())
        .map(|s| s.trim_end_matches(',').to_owned())
        .collect()
}

impl Client {
    /// A client; no connection is made until the first request.
    pub fn new(cfg: ClientConfig) -> Self {
        let digest = match &cfg.auth {
            Auth::Digest { user, password } => Some(DigestSession::new(user, password)),
            Auth::Negotiate(_) => None,
        };
        Client {
            in_flight: Semaphore::new(cfg.max_in_flight.max(1)),
            cfg,
            pool: std::sync::Mutex::new(Vec::new()),
            digest: std::sync::Mutex::new(digest),
            next_id: AtomicU64::new(1),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    async fn connect(&self) -> Result<Pooled, ClientError> {
        if let Some(p) = self.pool.lock().ok().and_then(|mut p| p.pop()) {
            return Ok(p);
        }
        let s = TcpStream::connect((self.cfg.host.as_str(), self.cfg.port))
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::ConnectionRefused => ClientError::ConnectRefused(self.cfg.port),
                _ => ClientError::Http(HttpError::Io(e)),
            })?;
        let _ = s.set_nodelay(true);
        let stream: Box<dyn Io> = match &self.cfg.connector {
            Connector::Plain => Box::new(s),
            Connector::Tls(config) => {
                let name = self.cfg.fqdn.as_deref().unwrap_or(&self.cfg.host);
                let server_name = crate::tls::server_name(name)
                    .ok_or_else(|| ClientError::Tls(format!("{name:?} is not a valid DNS name or IP address")))?;
                let tls = tokio_rustls::TlsConnector::from(config.clone())
                    .connect(server_name, s)
                    .await
                    .map_err(|e| ClientError::Tls(e.to_string()))?;
                Box::new(tls)
            }
        };
        Ok(Pooled {
            conn: Connection::new(stream),
            negotiated: false,
            reused: false,
        })
    }

    fn give_back(&self, mut p: Pooled) {
        p.reused = true;
        if let Ok(mut pool) = self.pool.lock()
            && pool.len() < self.cfg.max_in_flight.max(1)
        {
            pool.push(p);
        }
    }

    /// Drops every idle connection: when one turned out stale, its idle siblings likely are too.
    fn drop_idle(&self) {
        if let Ok(mut pool) = self.pool.lock() {
            pool.clear();
        }
    }

    async fn exchange(&self, body: &[u8]) -> Result<HttpResponse, ClientError> {
        let host = format!("{}:{}", self.cfg.host, self.cfg.port);
        let mut tried_challenge = false;
        let mut replaced_stale = false;
        loop {
            let mut p = self.connect().await?;
            let mut headers: Vec<(&str, String)> = Vec::new();
            match &self.cfg.auth {
                Auth::Digest { .. } => {
                    let h = self
                        .digest
                        .lock()
                        .ok()
                        .and_then(|mut d| d.as_mut().and_then(|d| d.authorization("POST", "/wsman")));
                    if let Some(h) = h {
                        headers.push(("Authorization", h));
                    }
                }
                Auth::Negotiate(provider) => {
                    if !p.negotiated {
                        let spn = self.cfg.spn();
                        let token = provider.token(&spn).map_err(|source| ClientError::Negotiate {
                            spn: spn.clone(),
                            source,
                        })?;
                        headers.push(("Authorization", format!("Negotiate {}", B64.encode(token))));
                    }
                }
            }
            let resp = match p.conn.post(&host, "/wsman", &headers, body).await {
                Ok(r) => r,
                // A kept-alive connection the device closed while it sat idle (firmware and
                // proxies close idle connections): no answer came, so send again on a new one.
                Err(HttpError::Closed | HttpError::Io(_)) if p.reused && !replaced_stale => {
                    replaced_stale = true;
                    self.drop_idle();
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            if resp.status == 401 {
                // The device no longer knows this connection's Negotiate session (it restarted
                // it, or its ACL changed): authenticate once more, with a fresh token.
                if matches!(self.cfg.auth, Auth::Negotiate(_)) && headers.is_empty() && !tried_challenge {
                    tried_challenge = true;
                    self.drop_idle();
                    continue;
                }
                if let Auth::Digest { .. } = self.cfg.auth {
                    let challenge = resp
                        .headers_named("www-authenticate")
                        .find_map(|v| Challenge::parse(v).ok());
                    let had_auth = !headers.is_empty();
                    if let Some(c) = challenge
                        && (!tried_challenge && (!had_auth || c.stale))
                    {
                        tried_challenge = true;
                        if let Ok(mut d) = self.digest.lock()
                            && let Some(d) = d.as_mut()
                        {
                            d.set_challenge(c).map_err(|_| ClientError::Unauthorized {
                                schemes: schemes(&resp),
                            })?;
                        }
                        if !resp.wants_close() {
                            self.give_back(p);
                        }
                        continue;
                    }
                    if let Ok(mut d) = self.digest.lock()
                        && let Some(d) = d.as_mut()
                    {
                        d.clear();
                    }
                }
                return Err(ClientError::Unauthorized {
                    schemes: schemes(&resp),
                });
            }
            p.negotiated = true;
            if !resp.wants_close() {
                self.give_back(p);
            }
            return Ok(resp);
        }
    }

    /// Sends a request and returns the parsed envelope; faults become [`ClientError::Fault`].
    pub async fn send(&self, req: &Request) -> Result<Envelope, ClientError> {
        let _permit = self.in_flight.acquire().await.map_err(|_| ClientError::Status(0))?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = req.to_xml(id);
        let resp = tokio::time::timeout(self.cfg.timeout, self.exchange(body.as_bytes()))
            .await
            .map_err(|_| ClientError::Timeout(self.cfg.timeout))??;
        let text = String::from_utf8_lossy(&resp.body);
        match resp.status {
            200 | 400 | 500 => {
                let env = match Envelope::parse(&text) {
                    Ok(e) => e,
                    Err(_) if resp.status == 500 => return Err(ClientError::ServerError),
                    Err(_) if resp.status == 400 => return Err(ClientError::Status(400)),
                    Err(e) => return Err(e.into()),
                };
                if let Some(f) = env.fault() {
                    return Err(ClientError::Fault(f));
                }
                match resp.status {
                    200 => Ok(env),
                    500 => Err(ClientError::ServerError),
                    s => Err(ClientError::Status(s)),
                }
            }
            s => Err(ClientError::Status(s)),
        }
    }

    /// Get of a class's (single) instance.
    pub async fn get<T: Model>(&self) -> Result<T, ClientError> {
        self.get_with(Request::get(T::CLASS)).await
    }

    /// Get with a prepared request (e.g. with selectors).
    pub async fn get_with<T: Model>(&self, req: Request) -> Result<T, ClientError> {
        let env = self.send(&req).await?;
        Ok(T::read(env.instance(&T::resource_uri())?)?)
    }

    /// Enumerate + Pull until EndOfSequence; returns the raw items.
    pub async fn enumerate_elements(&self, class_or_uri: &str) -> Result<Vec<Element>, ClientError> {
        let env = self.send(&Request::enumerate(class_or_uri)).await?;
        let mut context = env.enumeration_context()?;
        let mut items = Vec::new();
        for _ in 0..10_000 {
            let res = self.send(&Request::pull(class_or_uri, &context)).await?.pull_result()?;
            items.extend(res.items);
            match res.context {
                Some(c) if !res.end_of_sequence => context = c,
                _ => return Ok(items),
            }
        }
        Ok(items)
    }

    /// Enumerate + Pull of a class, typed.
    pub async fn enumerate<T: Model>(&self) -> Result<Vec<T>, ClientError> {
        let items = self.enumerate_elements(T::CLASS).await?;
        Ok(items.iter().map(T::read).collect::<Result<Vec<_>, _>>()?)
    }

    /// Invokes a method and returns its `*_OUTPUT` element; a non-zero `ReturnValue` is an error.
    pub async fn invoke(&self, req: &Request) -> Result<Element, ClientError> {
        let out = self.invoke_unchecked(req).await?;
        let code = return_value(&out)?;
        if code != 0 {
            let method = match &req.operation {
                crate::wsman::Operation::Invoke { method, .. } => method.clone(),
                _ => String::new(),
            };
            return Err(ClientError::ReturnCode {
                method,
                code: ReturnCode::for_class(ns::class_name(&req.resource_uri), code),
            });
        }
        Ok(out)
    }

    /// Invokes a method and returns its `*_OUTPUT` element without checking `ReturnValue`.
    pub async fn invoke_unchecked(&self, req: &Request) -> Result<Element, ClientError> {
        let method = match &req.operation {
            crate::wsman::Operation::Invoke { method, .. } => method.clone(),
            _ => return Err(ParseError::Missing("method name in request".into()).into()),
        };
        let env = self.send(req).await?;
        Ok(env.method_output(&method)?.clone())
    }

    /// The current power state (Get `CIM_AssociatedPowerManagementService`).
    pub async fn power_state(&self) -> Result<crate::models::power::AssociatedPowerManagementService, ClientError> {
        self.get().await
    }

    /// Requests a power state change; a non-zero CIM code is an error.
    pub async fn request_power_state_change(&self, state: crate::models::power::PowerState) -> Result<(), ClientError> {
        self.invoke(&crate::models::power::request_power_state_change(state))
            .await
            .map(|_| ())
    }

    /// The AMT firmware version (`CIM_SoftwareIdentity` InstanceID `AMT`).
    pub async fn amt_version(&self) -> Result<Option<String>, ClientError> {
        let items: Vec<crate::models::inventory::SoftwareIdentity> = self.enumerate().await?;
        Ok(crate::models::inventory::SoftwareIdentity::amt_version(&items).map(str::to_owned))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::{self, MessageIds};
    use crate::digest::{DigestServer, Verification};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    async fn read_request(s: &mut TcpStream) -> Option<(String, String)> {
        let mut buf = Vec::new();
        let mut tmp = [0u8; 4096];
        loop {
            let n = s.read(&mut tmp).await.ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&tmp[..n]);
            let text = String::from_utf8_lossy(&buf).to_string();
            if let Some(i) = text.find("\r\n\r\n") {
                let head = text[..i].to_owned();
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap_or(0))
                    })
                    .unwrap_or(0);
                if buf.len() >= i + 4 + len {
                    return Some((head, text[i + 4..i + 4 + len].to_owned()));
                }
            }
        }
    }

    #[tokio::test]
    async fn digest_round_trip_against_a_tiny_device() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = Arc::new(DigestServer::with_realm("Digest:F3EB554784E729164447A89F60B641C5"));
        let srv = server.clone();
        tokio::spawn(async move {
            let ids = Arc::new(MessageIds::default());
            while let Ok((mut s, _)) = listener.accept().await {
                let srv = srv.clone();
                let ids = ids.clone();
                tokio::spawn(async move {
                    while let Some((head, body)) = read_request(&mut s).await {
                        let auth = head
                            .lines()
                            .find_map(|l| l.strip_prefix("Authorization: "))
                            .map(str::to_owned);
                        let ok = auth.map(|a| srv.verify(&a, "POST", |u| (u == "admin").then(|| "pw".to_owned())));
                        if !matches!(ok, Some(Verification::Ok(_))) {
                            let ch = srv.challenge(matches!(ok, Some(Verification::Stale)));
                            let msg = format!(
                                "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: {}\r\nContent-Length: 0\r\n\r\n",
                                ch.to_header()
                            );
                            let _ = s.write_all(msg.as_bytes()).await;
                            continue;
                        }
                        let req = device::parse_request(&body).expect("request");
                        let xml = device::get_response(
                            &ids,
                            &req.reply(),
                            &req.resource_uri,
                            &crate::wsman::Properties::new().text("PowerState", 2),
                        );
                        let mut chunked = String::new();
                        for part in xml.as_bytes().chunks(100) {
                            chunked.push_str(&format!("{:x}\r\n{}\r\n", part.len(), String::from_utf8_lossy(part)));
                        }
                        let msg = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{chunked}0\r\n\r\n");
                        let _ = s.write_all(msg.as_bytes()).await;
                    }
                });
            }
        });
        let mut cfg = ClientConfig::new(
            "127.0.0.1",
            Auth::Digest {
                user: "admin".into(),
                password: "pw".into(),
            },
        );
        cfg.port = port;
        let client = Client::new(cfg);
        let a = client.power_state().await.expect("first");
        assert_eq!(a.power_state, Some(crate::models::power::PowerState::On));
        client.power_state().await.expect("second reuses the nonce");
        server.expire_all();
        client.power_state().await.expect("stale nonce is retried");

        let mut bad = ClientConfig::new(
            "127.0.0.1",
            Auth::Digest {
                user: "admin".into(),
                password: "nope".into(),
            },
        );
        bad.port = port;
        let err = Client::new(bad).power_state().await.expect_err("denied");
        assert!(
            matches!(err, ClientError::Unauthorized { ref schemes } if schemes == &["Digest"]),
            "{err}"
        );
    }

    /// A device that answers `Get`s with `PowerState` 2. It closes every connection after
    /// `per_connection` answers (as firmware closing idle keep-alive connections does), and,
    /// when `needs_negotiate`, answers 401 to a connection's first request unless it carries
    /// `Authorization: Negotiate`, and to any request without it once `forget` is set.
    async fn tiny_device(
        per_connection: usize,
        needs_negotiate: bool,
        forget: Arc<std::sync::atomic::AtomicBool>,
    ) -> (u16, Arc<AtomicU64>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let connections = Arc::new(AtomicU64::new(0));
        let count = connections.clone();
        tokio::spawn(async move {
            let ids = Arc::new(MessageIds::default());
            while let Ok((mut s, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::Relaxed);
                let (ids, forget) = (ids.clone(), forget.clone());
                tokio::spawn(async move {
                    let mut authenticated = false;
                    for _ in 0..per_connection {
                        let Some((head, body)) = read_request(&mut s).await else {
                            return;
                        };
                        if head.contains("Authorization: Negotiate ") {
                            authenticated = true;
                        } else if forget.load(Ordering::Relaxed) {
                            authenticated = false;
                        }
                        if needs_negotiate && !authenticated {
                            let msg = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Negotiate\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
                            let _ = s.write_all(msg.as_bytes()).await;
                            return;
                        }
                        let req = device::parse_request(&body).expect("request");
                        let xml = device::get_response(
                            &ids,
                            &req.reply(),
                            &req.resource_uri,
                            &crate::wsman::Properties::new().text("PowerState", 2),
                        );
                        let msg = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{xml}", xml.len());
                        let _ = s.write_all(msg.as_bytes()).await;
                    }
                    // Dropping the socket without `Connection: close`: the client finds out on reuse.
                });
            }
        });
        (port, connections)
    }

    struct CountingTokens(AtomicU64);

    impl NegotiateTokens for CountingTokens {
        fn token(&self, _spn: &str) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
            Ok(format!("token-{}", self.0.fetch_add(1, Ordering::Relaxed)).into_bytes())
        }
    }

    #[tokio::test]
    async fn a_kept_alive_connection_closed_by_the_device_is_replaced_once() {
        let (port, connections) = tiny_device(1, false, Arc::default()).await;
        let mut cfg = ClientConfig::new(
            "127.0.0.1",
            Auth::Digest {
                user: "admin".into(),
                password: "pw".into(),
            },
        );
        cfg.port = port;
        let client = Client::new(cfg);
        for i in 0..3 {
            client
                .power_state()
                .await
                .unwrap_or_else(|e| panic!("request {i} over a stale pooled connection: {e}"));
        }
        assert_eq!(connections.load(Ordering::Relaxed), 3, "one new connection per request");
    }

    #[tokio::test]
    async fn a_negotiate_session_the_device_forgot_is_authenticated_again() {
        let forget = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (port, connections) = tiny_device(100, true, forget.clone()).await;
        let tokens = Arc::new(CountingTokens(AtomicU64::new(0)));
        let mut cfg = ClientConfig::new("127.0.0.1", Auth::Negotiate(tokens.clone()));
        cfg.port = port;
        let client = Client::new(cfg);
        client.power_state().await.expect("first request, with a token");
        client
            .power_state()
            .await
            .expect("second request, on the authenticated connection");
        assert_eq!(tokens.0.load(Ordering::Relaxed), 1, "one token for one connection");
        forget.store(true, Ordering::Relaxed);
        client
            .power_state()
            .await
            .expect("the device forgot the session: a new connection with a new token");
        assert_eq!(tokens.0.load(Ordering::Relaxed), 2);
        assert_eq!(connections.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn connect_refused_and_timeout() {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = l.local_addr().expect("addr").port();
        drop(l);
        let mut cfg = ClientConfig::new(
            "127.0.0.1",
            Auth::Digest {
                user: "a".into(),
                password: "b".into(),
            },
        );
        cfg.port = port;
        let e = Client::new(cfg.clone()).power_state().await.expect_err("refused");
        assert!(matches!(e, ClientError::ConnectRefused(_)), "{e}");
        let silent = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        cfg.port = silent.local_addr().expect("addr").port();
        cfg.timeout = Duration::from_millis(200);
        let e = Client::new(cfg).power_state().await.expect_err("timeout");
        assert!(matches!(e, ClientError::Timeout(_)), "{e}");
        drop(silent);
    }
}
