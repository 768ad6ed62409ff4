//! A Serial-over-LAN console session with one device (redirection protocol, reference §4).
//!
//! [`connect`] opens TCP to the redirection port (16994, or TLS on 16995 through
//! [`Connector::Tls`]), starts a `SOL ` redirection session, asks which authentication methods
//! the device offers, authenticates with the user's Kerberos ticket (type 2: the base64 text of
//! the token for `HTTP/<fqdn>:<port>`, from the same [`NegotiateTokens`] as WS-Man) or with
//! Digest (type 4, the admin account), and starts SOL. The [`SolSession`] then splits into a
//! [`SolReader`] (serial output and line status; answers keep-alives, sends heartbeats, ends on
//! the device's 0x23) and a cloneable [`SolWriter`] (keystrokes, orderly end).
//!
//! Tolerated variations: zero or repeated sequence numbers from the device, heartbeats and
//! keep-alives at any time, a stray 0x21/0x27, the device's data length on the auth reply.
//!
//! Refusals are typed ([`SolError`]) with sentences a helpdesk engineer can act on. Where the
//! firmware's status byte is not documented (SOL disabled, user consent), the codes follow the
//! simulator's convention, stated on [`start_sol_status`]. Nothing here logs a ticket, a
//! password or console bytes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::TcpStream;

use crate::client::{Connector, NegotiateTokens};
use crate::redirection::{AuthData, Decoder, Direction, Message, RedirError, SOL, SolSettings};

/// The plain redirection port.
pub const PORT: u16 = 16994;
/// The TLS redirection port.
pub const TLS_PORT: u16 = 16995;
/// The Kerberos token limit of AMT 2–5 on the redirection port, in base64 characters
/// (BLOG-KRB: 3 KB for SOL/IDER, 4 KB for HTTP).
pub const OLD_FIRMWARE_REDIRECTION_TOKEN_LIMIT: usize = 3072;

/// Status bytes of StartSOLRedirectionReply (0x21) besides 0 = success. Intel documents only
/// 0; these are the simulator's convention (UNCONFIRMED on hardware), and any other non-zero
/// value is reported as [`SolError::StartRefused`].
pub mod start_sol_status {
    /// SOL is not enabled (AMT_RedirectionService EnabledState without the SOL bit).
    pub const SOL_DISABLED: u8 = 1;
    /// User consent is required and has not been given (IPS_OptInService).
    pub const CONSENT_REQUIRED: u8 = 2;
}

/// How to authenticate on the redirection port.
#[derive(Clone)]
pub enum SolAuth {
    /// Kerberos (auth type 2) with the user's tokens.
    Kerberos(Arc<dyn NegotiateTokens>),
    /// Digest (auth type 4), the admin account.
    Digest {
        /// User name.
        user: String,
        /// Password.
        password: String,
    },
}

impl SolAuth {
    fn method(&self) -> &'static str {
        match self {
            SolAuth::Kerberos(_) => "Kerberos",
            SolAuth::Digest { .. } => "Digest",
        }
    }
}

impl std::fmt::Debug for SolAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SolAuth::Kerberos(_) => f.write_str("Kerberos"),
            SolAuth::Digest { user, .. } => write!(f, "Digest({user}, <redacted>)"),
        }
    }
}

/// Settings of a SOL connection.
#[derive(Debug, Clone)]
pub struct SolConfig {
    /// Host name or address to connect to.
    pub host: String,
    /// Port (16994 plain, 16995 TLS).
    pub port: u16,
    /// FQDN for the SPN and the TLS name (defaults to `host`).
    pub fqdn: Option<String>,
    /// Authentication.
    pub auth: SolAuth,
    /// Transport.
    pub connector: Connector,
    /// SOL settings sent in StartSOLRedirection.
    pub settings: SolSettings,
    /// Limit for connecting and the whole handshake.
    pub timeout: Duration,
}

impl SolConfig {
    /// Defaults: port 16994, amtterm's SOL settings, 15 s handshake timeout.
    pub fn new(host: &str, auth: SolAuth) -> Self {
        SolConfig {
            host: host.to_owned(),
            port: PORT,
            fqdn: None,
            auth,
            connector: Connector::Plain,
            settings: SolSettings::default(),
            timeout: Duration::from_secs(15),
        }
    }

    /// Switches to TLS on port 16995.
    pub fn with_tls(mut self, connector: Connector) -> Self {
        self.connector = connector;
        self.port = TLS_PORT;
        self
    }

    /// The SPN the Kerberos ticket is for: `HTTP/<fqdn>:<port>` (the service class is HTTP
    /// on the TLS port too, reference §3).
    pub fn spn(&self) -> String {
        format!("HTTP/{}:{}", self.fqdn.as_deref().unwrap_or(&self.host), self.port)
    }

    fn name(&self) -> &str {
        self.fqdn.as_deref().unwrap_or(&self.host)
    }

    /// How long the reader waits without a byte from the device before giving up: four
    /// heartbeat intervals (as amtterm), at least 20 s.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(u64::from(self.settings.heartbeat_interval) * 4).max(Duration::from_secs(20))
    }
}

/// Why a SOL session could not start or ended badly, in plain words.
#[derive(Debug, thiserror::Error)]
pub enum SolError {
    /// Nothing listens on the port.
    #[error(
        "the device refused the connection on port {0}: AMT is off or unreachable, or its redirection listener is off"
    )]
    ConnectRefused(u16),
    /// Other socket error while connecting.
    #[error("could not reach the device's redirection port: {0}")]
    Io(#[source] std::io::Error),
    /// The TLS handshake failed.
    #[error("the TLS handshake with the device failed: {0}")]
    Tls(String),
    /// The device accepted the connection and closed it without a word.
    #[error(
        "the device closed its redirection port without answering: its redirection listener is off \
         (AMT_RedirectionService ListenerEnabled). A user with the Redirection realm can switch it on."
    )]
    ListenerOff,
    /// SOL is disabled on the device.
    #[error(
        "Serial-over-LAN is disabled on the device (AMT_RedirectionService EnabledState). It must be allowed in \
         the device's MEBx and enabled by a user with the Redirection realm."
    )]
    SolDisabled,
    /// Another console holds the device's SOL session.
    #[error("another console already has a Serial-over-LAN session open on the device; only one is allowed at a time")]
    Busy,
    /// User consent is needed first.
    #[error(
        "the device requires user consent: someone at the machine must read out the code shown on its screen before a console may start"
    )]
    ConsentRequired,
    /// The ticket is over the old-firmware limit (and the device refused it).
    #[error(
        "your Kerberos ticket is {len} characters as base64 and old AMT firmware (versions 2 to 5) accepts at most {limit} \
         on the console port: membership in fewer groups makes it smaller"
    )]
    TicketTooLarge {
        /// The token's base64 length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// The device does not offer the method.
    #[error("the device does not accept {method} sign-in on its console port (it offers: {offered})")]
    MethodNotOffered {
        /// Kerberos or Digest.
        method: &'static str,
        /// The methods it lists.
        offered: String,
    },
    /// The device refused the credentials.
    #[error(
        "the device refused the {method} sign-in on its console port: neither your account nor any of your groups holds \
         the Redirection realm there, or the device's clock or Kerberos settings are wrong"
    )]
    AuthRefused {
        /// Kerberos or Digest.
        method: &'static str,
    },
    /// No Kerberos token could be obtained.
    #[error("could not get a Kerberos ticket for {spn}: {source}")]
    Negotiate {
        /// The SPN.
        spn: String,
        /// The provider's error, whole, for downcasting.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The session manager refused the session for another reason.
    #[error("the device refused the console session (status {0:#04x})")]
    SessionRefused(u8),
    /// StartSOLRedirection failed for another reason.
    #[error("the device refused to start Serial-over-LAN (status {0:#04x})")]
    StartRefused(u8),
    /// The connection broke.
    #[error("the connection to the device dropped")]
    Dropped,
    /// The device went silent.
    #[error("the device did not answer within {} seconds", .0.as_secs())]
    Timeout(Duration),
    /// Bytes that are not the redirection protocol.
    #[error("the device sent something that is not the redirection protocol: {0}")]
    Protocol(String),
}

impl From<RedirError> for SolError {
    fn from(e: RedirError) -> Self {
        SolError::Protocol(e.to_string())
    }
}

impl SolError {
    /// A stable short code (`busy`, `sol_disabled`, …) for events and logs.
    pub fn code(&self) -> &'static str {
        match self {
            SolError::ConnectRefused(_) | SolError::Io(_) => "unreachable",
            SolError::Tls(_) => "tls",
            SolError::ListenerOff => "listener_off",
            SolError::SolDisabled => "sol_disabled",
            SolError::Busy => "busy",
            SolError::ConsentRequired => "consent_required",
            SolError::TicketTooLarge { .. } => "ticket_too_large",
            SolError::MethodNotOffered { .. } | SolError::AuthRefused { .. } => "auth_refused",
            SolError::Negotiate { .. } => "no_ticket",
            SolError::SessionRefused(_) | SolError::StartRefused(_) => "refused",
            SolError::Dropped => "device_closed",
            SolError::Timeout(_) => "timeout",
            SolError::Protocol(_) => "protocol",
        }
    }
}

/// What the device said about the session once SOL runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// `Kerberos` or `Digest`.
    pub method: &'static str,
    /// Session-manager firmware version from the 0x11 reply.
    pub firmware_version: (u8, u8),
}

/// Something the host's serial port did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SolEvent {
    /// Bytes the host wrote (0x2A).
    Data(Vec<u8>),
    /// Modem lines and status (0x29): control RTS=1 DTR=2 BREAK=4; status bit 4 = host powered.
    LineStatus {
        /// Control bits.
        control: u8,
        /// Status bits.
        status: u8,
    },
}

/// A plain or TLS stream.
pub trait SolStream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> SolStream for T {}

type BoxStream = Box<dyn SolStream>;

/// A running SOL session, before [`SolSession::split`].
pub struct SolSession {
    reader: SolReader,
    writer: SolWriter,
    info: SessionInfo,
}

impl std::fmt::Debug for SolSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SolSession").field("info", &self.info).finish()
    }
}

struct WriterShared {
    wr: tokio::sync::Mutex<WriteHalf<BoxStream>>,
    seq: AtomicU32,
    ended: AtomicBool,
    max_chunk: usize,
}

/// Sends keystrokes and ends the session; cheap to clone.
#[derive(Clone)]
pub struct SolWriter(Arc<WriterShared>);

impl std::fmt::Debug for SolWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SolWriter")
    }
}

/// Receives serial output; also answers keep-alives and sends heartbeats, so keep calling
/// [`SolReader::next`] for as long as the session should live.
pub struct SolReader {
    rd: ReadHalf<BoxStream>,
    dec: Decoder,
    writer: SolWriter,
    heartbeat: Option<tokio::time::Interval>,
    idle: Duration,
    done: bool,
}

impl std::fmt::Debug for SolReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SolReader")
    }
}

/// Connects to the device and runs the handshake; see the module documentation.
pub async fn connect(cfg: &SolConfig) -> Result<SolSession, SolError> {
    let stream = tokio::time::timeout(cfg.timeout, open_stream(cfg))
        .await
        .map_err(|_| SolError::Timeout(cfg.timeout))??;
    SolSession::handshake(stream, cfg).await
}

async fn open_stream(cfg: &SolConfig) -> Result<BoxStream, SolError> {
    let s = TcpStream::connect((cfg.host.as_str(), cfg.port))
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::ConnectionRefused => SolError::ConnectRefused(cfg.port),
            _ => SolError::Io(e),
        })?;
    let _ = s.set_nodelay(true);
    Ok(match &cfg.connector {
        Connector::Plain => Box::new(s),
        Connector::Tls(config) => {
            let name = cfg.name();
            let server_name = crate::tls::server_name(name)
                .ok_or_else(|| SolError::Tls(format!("{name:?} is not a valid DNS name or IP address")))?;
            let tls = tokio_rustls::TlsConnector::from(config.clone())
                .connect(server_name, s)
                .await
                .map_err(|e| SolError::Tls(e.to_string()))?;
            Box::new(tls)
        }
    })
}

/// Reads one message during the handshake (EOF before any reply means the listener is off).
async fn read_msg(rd: &mut ReadHalf<BoxStream>, dec: &mut Decoder, first: bool) -> Result<Message, SolError> {
    let mut buf = [0u8; 4096];
    loop {
        if let Some(m) = dec.next_message()? {
            return Ok(m);
        }
        let n = rd.read(&mut buf).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::ConnectionReset if first => SolError::ListenerOff,
            _ => SolError::Dropped,
        })?;
        if n == 0 {
            return Err(if first {
                SolError::ListenerOff
            } else {
                SolError::Dropped
            });
        }
        dec.push(&buf[..n]);
    }
}

async fn write_msg(wr: &mut WriteHalf<BoxStream>, m: &Message) -> Result<(), SolError> {
    wr.write_all(&m.encode()).await.map_err(|_| SolError::Dropped)?;
    wr.flush().await.map_err(|_| SolError::Dropped)
}

fn offered_names(types: &[u8]) -> String {
    let names: Vec<&str> = types
        .iter()
        .map(|t| match t {
            1 => "password",
            2 => "Kerberos",
            3 => "Digest (RFC 2069)",
            4 => "Digest",
            _ => "other",
        })
        .collect();
    if names.is_empty() {
        "nothing".into()
    } else {
        names.join(", ")
    }
}

impl SolSession {
    /// Runs the handshake over an already connected stream (plain, TLS, or a test pipe).
    pub async fn handshake<S: SolStream>(stream: S, cfg: &SolConfig) -> Result<SolSession, SolError> {
        let boxed: BoxStream = Box::new(stream);
        tokio::time::timeout(cfg.timeout, Self::handshake_inner(boxed, cfg))
            .await
            .map_err(|_| SolError::Timeout(cfg.timeout))?
    }

    async fn handshake_inner(stream: BoxStream, cfg: &SolConfig) -> Result<SolSession, SolError> {
        let (mut rd, mut wr) = tokio::io::split(stream);
        let mut dec = Decoder::new(Direction::ToConsole);
        write_msg(
            &mut wr,
            &Message::StartRedirectionSession {
                flags: 0,
                protocol: SOL,
            },
        )
        .await
        .map_err(|_| SolError::ListenerOff)?;
        let firmware_version = match read_msg(&mut rd, &mut dec, true).await? {
            Message::StartRedirectionSessionReply {
                status,
                firmware_version,
                ..
            } => match status {
                0 => firmware_version,
                2 => return Err(SolError::Busy),
                3 => return Err(SolError::SolDisabled),
                s => return Err(SolError::SessionRefused(s)),
            },
            other => return Err(SolError::Protocol(format!("expected the session reply, got {other:?}"))),
        };

        // Which methods does the device offer?
        write_msg(&mut wr, &Message::AuthenticateSession(AuthData::Query(Vec::new()))).await?;
        let offered = match read_msg(&mut rd, &mut dec, false).await? {
            Message::AuthenticateSessionReply {
                auth: AuthData::Query(types),
                ..
            } => types,
            other => {
                return Err(SolError::Protocol(format!(
                    "expected the list of sign-in methods, got {other:?}"
                )));
            }
        };
        let method = cfg.auth.method();
        let wanted = match cfg.auth {
            SolAuth::Kerberos(_) => 2,
            SolAuth::Digest { .. } => 4,
        };
        if !offered.contains(&wanted) {
            return Err(SolError::MethodNotOffered {
                method,
                offered: offered_names(&offered),
            });
        }

        match &cfg.auth {
            SolAuth::Kerberos(tokens) => {
                let spn = cfg.spn();
                let token = tokens.token(&spn).map_err(|source| SolError::Negotiate {
                    spn: spn.clone(),
                    source,
                })?;
                let text = B64.encode(token);
                let len = text.len();
                write_msg(
                    &mut wr,
                    &Message::AuthenticateSession(AuthData::Kerberos(text.into_bytes())),
                )
                .await?;
                match read_msg(&mut rd, &mut dec, false).await {
                    Ok(Message::AuthenticateSessionReply { status: 0, .. }) => {}
                    // Old firmware may simply hang up on a ticket it cannot take.
                    Ok(Message::AuthenticateSessionReply { .. }) | Err(SolError::Dropped)
                        if len > OLD_FIRMWARE_REDIRECTION_TOKEN_LIMIT =>
                    {
                        return Err(SolError::TicketTooLarge {
                            len,
                            limit: OLD_FIRMWARE_REDIRECTION_TOKEN_LIMIT,
                        });
                    }
                    Ok(Message::AuthenticateSessionReply { .. }) => return Err(SolError::AuthRefused { method }),
                    Ok(other) => return Err(SolError::Protocol(format!("expected the sign-in reply, got {other:?}"))),
                    Err(e) => return Err(e),
                }
            }
            SolAuth::Digest { user, password } => {
                write_msg(&mut wr, &Message::AuthenticateSession(AuthData::digest_initial(user))).await?;
                let (realm, nonce) = match read_msg(&mut rd, &mut dec, false).await? {
                    Message::AuthenticateSessionReply {
                        status: 1,
                        auth: AuthData::Digest { fields, .. },
                    } if fields.len() >= 2 => (fields[0].clone(), fields[1].clone()),
                    Message::AuthenticateSessionReply { .. } => return Err(SolError::AuthRefused { method }),
                    other => {
                        return Err(SolError::Protocol(format!(
                            "expected a Digest challenge, got {other:?}"
                        )));
                    }
                };
                let cnonce = crate::digest::new_cnonce();
                let resp = AuthData::digest_response(user, password, &realm, &nonce, &cnonce, "00000002");
                write_msg(&mut wr, &Message::AuthenticateSession(resp)).await?;
                match read_msg(&mut rd, &mut dec, false).await? {
                    Message::AuthenticateSessionReply { status: 0, .. } => {}
                    Message::AuthenticateSessionReply { .. } => return Err(SolError::AuthRefused { method }),
                    other => return Err(SolError::Protocol(format!("expected the sign-in reply, got {other:?}"))),
                }
            }
        }

        write_msg(
            &mut wr,
            &Message::StartSol {
                seq: 1,
                settings: cfg.settings,
            },
        )
        .await?;
        loop {
            match read_msg(&mut rd, &mut dec, false).await? {
                Message::StartSolReply { status: 0, .. } => break,
                Message::StartSolReply { status, .. } => {
                    return Err(match status {
                        start_sol_status::SOL_DISABLED => SolError::SolDisabled,
                        start_sol_status::CONSENT_REQUIRED => SolError::ConsentRequired,
                        s => SolError::StartRefused(s),
                    });
                }
                // Heartbeats may come early.
                Message::Heartbeat { .. } | Message::KeepAlivePing { .. } | Message::KeepAlivePong { .. } => {}
                other => {
                    return Err(SolError::Protocol(format!(
                        "expected the SOL start reply, got {other:?}"
                    )));
                }
            }
        }

        let writer = SolWriter(Arc::new(WriterShared {
            wr: tokio::sync::Mutex::new(wr),
            seq: AtomicU32::new(2),
            ended: AtomicBool::new(false),
            max_chunk: usize::from(cfg.settings.max_tx_buffer).clamp(16, 4096),
        }));
        let heartbeat = match cfg.settings.heartbeat_interval {
            0 => None,
            ms => {
                let period = Duration::from_millis(u64::from(ms));
                let mut i = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
                i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                Some(i)
            }
        };
        Ok(SolSession {
            reader: SolReader {
                rd,
                dec,
                writer: writer.clone(),
                heartbeat,
                idle: cfg.idle_timeout(),
                done: false,
            },
            writer,
            info: SessionInfo {
                method,
                firmware_version,
            },
        })
    }

    /// What the device said about the session.
    pub fn info(&self) -> &SessionInfo {
        &self.info
    }

    /// The reading and writing halves.
    pub fn split(self) -> (SolReader, SolWriter) {
        (self.reader, self.writer)
    }
}

impl SolWriter {
    fn next_seq(&self) -> u32 {
        self.0.seq.fetch_add(1, Ordering::Relaxed)
    }

    async fn send(&self, m: &Message) -> Result<(), SolError> {
        let mut wr = self.0.wr.lock().await;
        write_msg(&mut wr, m).await
    }

    /// Sends keystrokes to the host's serial port (0x28, in chunks of MaxTxBuffer).
    pub async fn send_keys(&self, keys: &[u8]) -> Result<(), SolError> {
        if self.0.ended.load(Ordering::Relaxed) {
            return Err(SolError::Dropped);
        }
        for chunk in keys.chunks(self.0.max_chunk) {
            let seq = self.next_seq();
            self.send(&Message::SolDataToHost {
                seq,
                data: chunk.to_vec(),
            })
            .await?;
        }
        Ok(())
    }

    /// Asks the device to end SOL (0x22); the reader finishes the session when 0x23 comes.
    pub async fn end(&self) -> Result<(), SolError> {
        if self.0.ended.swap(true, Ordering::Relaxed) {
            return Ok(());
        }
        let seq = self.next_seq();
        self.send(&Message::EndSol { seq }).await
    }

    /// True once [`SolWriter::end`] was called.
    pub fn is_ending(&self) -> bool {
        self.0.ended.load(Ordering::Relaxed)
    }

    async fn shutdown(&self) {
        let mut wr = self.0.wr.lock().await;
        let _ = wr.shutdown().await;
    }
}

impl SolReader {
    /// The next serial event; `Ok(None)` once the session ended in order (after
    /// [`SolWriter::end`] and the device's 0x23). Errors: [`SolError::Dropped`] when the
    /// device hangs up unasked, [`SolError::Timeout`] when it goes silent.
    pub async fn next(&mut self) -> Result<Option<SolEvent>, SolError> {
        let mut buf = [0u8; 8192];
        loop {
            if self.done {
                return Ok(None);
            }
            while let Some(m) = self.dec.next_message()? {
                match m {
                    Message::SolDataFromHost { data, .. } => return Ok(Some(SolEvent::Data(data))),
                    Message::SolControls { control, status, .. } => {
                        return Ok(Some(SolEvent::LineStatus { control, status }));
                    }
                    Message::KeepAlivePing { seq } => {
                        self.writer.send(&Message::KeepAlivePong { seq }).await?;
                    }
                    Message::EndSolReply { .. } => {
                        // Orderly end: close the redirection session and the connection.
                        let _ = self.writer.send(&Message::EndRedirectionSession).await;
                        self.writer.shutdown().await;
                        self.done = true;
                        return Ok(None);
                    }
                    // Heartbeats, pongs and stray replies carry nothing for the user.
                    _ => {}
                }
            }
            let heartbeat = self.heartbeat.as_mut();
            let tick = async move {
                match heartbeat {
                    Some(i) => {
                        i.tick().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                r = tokio::time::timeout(self.idle, self.rd.read(&mut buf)) => {
                    let n = match r {
                        Err(_) => return Err(SolError::Timeout(self.idle)),
                        Ok(Err(_)) => return Err(SolError::Dropped),
                        Ok(Ok(n)) => n,
                    };
                    if n == 0 {
                        self.done = true;
                        return if self.writer.is_ending() { Ok(None) } else { Err(SolError::Dropped) };
                    }
                    self.dec.push(&buf[..n]);
                }
                _ = tick => {
                    let seq = self.writer.next_seq();
                    self.writer.send(&Message::Heartbeat { seq }).await?;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::DuplexStream;

    struct Fixed(Result<Vec<u8>, String>);
    impl NegotiateTokens for Fixed {
        fn token(&self, _spn: &str) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
            self.0.clone().map_err(|e| e.into())
        }
    }

    fn cfg(auth: SolAuth) -> SolConfig {
        let mut c = SolConfig::new("127.0.0.1", auth);
        c.fqdn = Some("amt1.example.test".into());
        c.timeout = Duration::from_secs(2);
        c
    }

    fn kerberos(token: &[u8]) -> SolConfig {
        cfg(SolAuth::Kerberos(Arc::new(Fixed(Ok(token.to_vec())))))
    }

    /// Reads exactly `n` bytes from the device side.
    async fn expect(dev: &mut DuplexStream, want: &[u8]) {
        let mut got = vec![0u8; want.len()];
        dev.read_exact(&mut got).await.expect("bytes from the console");
        assert_eq!(got, want, "console sent {got:02x?}, expected {want:02x?}");
    }

    async fn read_n(dev: &mut DuplexStream, n: usize) -> Vec<u8> {
        let mut got = vec![0u8; n];
        dev.read_exact(&mut got).await.expect("bytes from the console");
        got
    }

    const SESSION_OK: [u8; 13] = [0x11, 0, 0, 0, 1, 0, 2, 0, 0x57, 0x01, 0, 0, 0];
    const QUERY: [u8; 9] = [0x13, 0, 0, 0, 0, 0, 0, 0, 0];

    fn supported(types: &[u8]) -> Vec<u8> {
        let mut v = vec![0x14, 0, 0, 0, 0, types.len() as u8, 0, 0, 0];
        v.extend_from_slice(types);
        v
    }

    fn sol_reply(status: u8) -> Vec<u8> {
        let mut v = vec![0x21, status];
        v.extend_from_slice(&[0; 21]);
        v
    }

    /// The device side up to (and including) the Kerberos sign-in; returns the token text.
    async fn device_until_kerberos(dev: &mut DuplexStream, reply_status: u8) -> Vec<u8> {
        expect(dev, &[0x10, 0, 0, 0, b'S', b'O', b'L', b' ']).await;
        dev.write_all(&SESSION_OK).await.unwrap();
        expect(dev, &QUERY).await;
        dev.write_all(&supported(&[2, 3, 4])).await.unwrap();
        let hdr = read_n(dev, 9).await;
        assert_eq!(&hdr[..5], &[0x13, 0, 0, 0, 2]);
        let len = u32::from_le_bytes([hdr[5], hdr[6], hdr[7], hdr[8]]) as usize;
        let token = read_n(dev, len).await;
        dev.write_all(&[0x14, reply_status, 0, 0, 2, 0, 0, 0, 0]).await.unwrap();
        token
    }

    #[tokio::test]
    async fn kerberos_session_bytes_keys_output_heartbeats_and_orderly_end() {
        let (console, mut dev) = tokio::io::duplex(1 << 16);
        let c = kerberos(b"\x60\x82token");
        let device = tokio::spawn(async move {
            let token = device_until_kerberos(&mut dev, 0).await;
            assert_eq!(
                token,
                B64.encode(b"\x60\x82token").as_bytes(),
                "base64 text of the token"
            );
            // StartSOLRedirection with amtterm's settings, sequence 1.
            let start = read_n(&mut dev, 24).await;
            assert_eq!(
                start,
                [
                    0x20, 0, 0, 0, 1, 0, 0, 0, 0xE8, 0x03, 100, 0, 0, 0, 0x10, 0x27, 0, 0, 0x88, 0x13, 0, 0, 0, 0
                ]
            );
            dev.write_all(&sol_reply(0)).await.unwrap();
            // Line status, a heartbeat with sequence 0, a keep-alive ping, then output in two pieces.
            dev.write_all(&[0x29, 0, 0, 0, 0, 0, 0, 0, 0x03, 0x04]).await.unwrap();
            dev.write_all(&[0x2B, 0, 0, 0, 0, 0, 0, 0]).await.unwrap();
            dev.write_all(&[0x24, 0, 0, 0, 7, 0, 0, 0]).await.unwrap();
            dev.write_all(&[0x2A, 0, 0, 0, 0, 0, 0, 0, 5, 0, b'l', b'o'])
                .await
                .unwrap();
            dev.write_all(b"gin").await.unwrap();
            // The console answers the ping with a pong of the same sequence.
            expect(&mut dev, &[0x25, 0, 0, 0, 7, 0, 0, 0]).await;
            // Keystrokes.
            expect(&mut dev, &[0x28, 0, 0, 0, 2, 0, 0, 0, 3, 0, b'l', b's', b'\r']).await;
            // Orderly end: 0x22, the device answers 0x23, the console closes with 0x12.
            expect(&mut dev, &[0x22, 0, 0, 0, 3, 0, 0, 0]).await;
            dev.write_all(&[0x23, 0, 0, 0, 0, 0, 0, 0]).await.unwrap();
            expect(&mut dev, &[0x12, 0, 0, 0]).await;
            let mut rest = Vec::new();
            dev.read_to_end(&mut rest).await.unwrap();
            assert!(rest.is_empty(), "nothing after EndRedirectionSession: {rest:02x?}");
        });
        let s = SolSession::handshake(console, &c).await.expect("session starts");
        assert_eq!(s.info().method, "Kerberos");
        assert_eq!(s.info().firmware_version, (2, 0));
        let (mut r, w) = s.split();
        assert_eq!(
            r.next().await.unwrap(),
            Some(SolEvent::LineStatus { control: 3, status: 4 })
        );
        let mut out = Vec::new();
        while out.len() < 5 {
            match r.next().await.unwrap() {
                Some(SolEvent::Data(d)) => out.extend(d),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(out, b"login");
        w.send_keys(b"ls\r").await.unwrap();
        w.end().await.unwrap();
        assert_eq!(r.next().await.unwrap(), None, "orderly end");
        device.await.unwrap();
    }

    #[tokio::test]
    async fn digest_exchange_matches_the_documented_bytes() {
        let (console, mut dev) = tokio::io::duplex(1 << 16);
        let c = cfg(SolAuth::Digest {
            user: "admin".into(),
            password: "P@ssw0rd".into(),
        });
        let device = tokio::spawn(async move {
            expect(&mut dev, &[0x10, 0, 0, 0, b'S', b'O', b'L', b' ']).await;
            dev.write_all(&SESSION_OK).await.unwrap();
            expect(&mut dev, &QUERY).await;
            dev.write_all(&supported(&[1, 3, 4])).await.unwrap();
            let mut first = vec![0x13, 0, 0, 0, 4, 5 + 19 + 8, 0, 0, 0, 5];
            first.extend_from_slice(b"admin");
            first.extend_from_slice(&[0, 0, 19]);
            first.extend_from_slice(b"/RedirectionService");
            first.extend_from_slice(&[0, 0, 0, 0]);
            expect(&mut dev, &first).await;
            let realm = "Digest:ABCDEF";
            let nonce = "n0nce";
            let mut ch = Vec::new();
            for s in [realm, nonce, "auth"] {
                ch.push(s.len() as u8);
                ch.extend_from_slice(s.as_bytes());
            }
            let mut msg = vec![0x14, 1, 0, 0, 4, ch.len() as u8, 0, 0, 0];
            msg.extend(ch);
            dev.write_all(&msg).await.unwrap();
            let hdr = read_n(&mut dev, 9).await;
            let len = u32::from_le_bytes([hdr[5], hdr[6], hdr[7], hdr[8]]) as usize;
            let data = read_n(&mut dev, len).await;
            let mut all = hdr.clone();
            all.extend(data);
            let Some((Message::AuthenticateSession(AuthData::Digest { auth_type: 4, fields }), _)) =
                crate::redirection::decode(&all, Direction::ToDevice).unwrap()
            else {
                panic!("not a digest request");
            };
            assert_eq!(fields.len(), 8);
            assert_eq!(&fields[..4], ["admin", realm, nonce, "/RedirectionService"]);
            assert_eq!(fields[5], "00000002");
            assert_eq!(fields[7], "auth");
            let want =
                crate::digest::redirection_response("admin", realm, "P@ssw0rd", nonce, "00000002", &fields[4], "auth");
            assert_eq!(fields[6], want);
            dev.write_all(&[0x14, 0, 0, 0, 4, 0, 0, 0, 0]).await.unwrap();
            let _start = read_n(&mut dev, 24).await;
            // A heartbeat before the reply is tolerated.
            dev.write_all(&[0x2B, 0, 0, 0, 0, 0, 0, 0]).await.unwrap();
            dev.write_all(&sol_reply(0)).await.unwrap();
            // Then the device hangs up unasked.
            drop(dev);
        });
        let s = SolSession::handshake(console, &c).await.expect("digest session");
        assert_eq!(s.info().method, "Digest");
        let (mut r, _w) = s.split();
        let e = r.next().await.expect_err("dropped");
        assert!(matches!(e, SolError::Dropped), "{e:?}");
        assert_eq!(e.code(), "device_closed");
        device.await.unwrap();
    }

    async fn refused_with<F, Fut>(device_script: F, c: SolConfig) -> SolError
    where
        F: FnOnce(DuplexStream) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let (console, dev) = tokio::io::duplex(1 << 16);
        let d = tokio::spawn(device_script(dev));
        let e = SolSession::handshake(console, &c).await.expect_err("refused");
        let _ = d.await;
        e
    }

    #[tokio::test]
    async fn refusals_are_typed_and_worded() {
        // Busy: status 2 on the session reply.
        let e = refused_with(
            |mut dev: DuplexStream| async move {
                let _ = read_n(&mut dev, 8).await;
                let mut r = SESSION_OK;
                r[1] = 2;
                dev.write_all(&r).await.unwrap();
            },
            kerberos(b"t"),
        )
        .await;
        assert!(matches!(e, SolError::Busy), "{e:?}");
        assert!(e.to_string().contains("only one is allowed"), "{e}");

        // Listener off: accepted and closed without a word.
        let e = refused_with(|dev: DuplexStream| async move { drop(dev) }, kerberos(b"t")).await;
        assert!(matches!(e, SolError::ListenerOff), "{e:?}");
        assert!(e.to_string().contains("Redirection realm"), "{e}");

        // SOL disabled and consent required, from the 0x21 status.
        for (status, code) in [(1u8, "sol_disabled"), (2, "consent_required"), (9, "refused")] {
            let e = refused_with(
                move |mut dev: DuplexStream| async move {
                    let _ = device_until_kerberos(&mut dev, 0).await;
                    let _ = read_n(&mut dev, 24).await;
                    dev.write_all(&sol_reply(status)).await.unwrap();
                },
                kerberos(b"t"),
            )
            .await;
            assert_eq!(e.code(), code, "{e:?}");
        }

        // Kerberos refused: a small ticket is an authorisation problem …
        let e = refused_with(
            |mut dev: DuplexStream| async move {
                let _ = device_until_kerberos(&mut dev, 1).await;
            },
            kerberos(&[7u8; 100]),
        )
        .await;
        assert!(matches!(e, SolError::AuthRefused { method: "Kerberos" }), "{e:?}");
        // … a ticket over 3 KB as base64 is named as the cause.
        let e = refused_with(
            |mut dev: DuplexStream| async move {
                let _ = device_until_kerberos(&mut dev, 1).await;
            },
            kerberos(&[7u8; 2400]),
        )
        .await;
        assert!(
            matches!(e, SolError::TicketTooLarge { len: 3200, limit: 3072 }),
            "{e:?}"
        );

        // Kerberos not offered.
        let e = refused_with(
            |mut dev: DuplexStream| async move {
                let _ = read_n(&mut dev, 8).await;
                dev.write_all(&SESSION_OK).await.unwrap();
                let _ = read_n(&mut dev, 9).await;
                dev.write_all(&supported(&[1, 3, 4])).await.unwrap();
            },
            kerberos(b"t"),
        )
        .await;
        assert!(
            e.to_string().contains("it offers: password, Digest (RFC 2069), Digest"),
            "{e}"
        );

        // No ticket: the provider's error is kept.
        let e = refused_with(
            |mut dev: DuplexStream| async move {
                let _ = read_n(&mut dev, 8).await;
                dev.write_all(&SESSION_OK).await.unwrap();
                let _ = read_n(&mut dev, 9).await;
                dev.write_all(&supported(&[2, 4])).await.unwrap();
            },
            cfg(SolAuth::Kerberos(Arc::new(Fixed(Err("no TGT".into()))))),
        )
        .await;
        assert!(
            matches!(&e, SolError::Negotiate { spn, .. } if spn == "HTTP/amt1.example.test:16994"),
            "{e:?}"
        );

        // Silence: the handshake times out instead of hanging.
        let mut c = kerberos(b"t");
        c.timeout = Duration::from_millis(200);
        let e = refused_with(
            |mut dev: DuplexStream| async move {
                let _ = read_n(&mut dev, 8).await;
                tokio::time::sleep(Duration::from_secs(1)).await;
            },
            c,
        )
        .await;
        assert!(matches!(e, SolError::Timeout(_)), "{e:?}");
    }

    #[tokio::test]
    async fn connect_refused_and_tls_spn() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let mut c = kerberos(b"t");
        c.port = port;
        let e = connect(&c).await.expect_err("nothing listens");
        assert!(matches!(e, SolError::ConnectRefused(p) if p == port), "{e:?}");
        let tls = c.with_tls(Connector::Plain);
        assert_eq!(tls.spn(), "HTTP/amt1.example.test:16995");
    }
}
