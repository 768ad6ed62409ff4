//! `GET /devices/{id}/console`: the serial console's WebSocket, bridging the browser to the
//! device's Serial-over-LAN (redirection protocol, `amt::sol`).
//!
//! * Before the upgrade: the `Origin` must be the portal's own (the origin guard only covers
//!   state-changing methods, and a WebSocket handshake is a GET that browsers send cross-site
//!   with cookies), and the session must be signed in.
//! * The device comes from the registry only. The portal authenticates to it as the user:
//!   Kerberos auth type 2 with a ticket for `HTTP/<fqdn>:16994` (16995 for TLS devices) from
//!   the user's own TGT or constrained delegation ([`crate::device_access`]). The browser never
//!   sees a device credential, only serial bytes (binary frames) and [`ConsoleEvent`]s (text).
//! * The relay ([`relay`]) is generic over the browser's `Sink`/`Stream` of [`Frame`]s, so it is
//!   unit-tested with channels. It ends when the browser closes, the device ends or drops the
//!   session, the user's held credential expires, or the portal session ends (signed out or
//!   expired; checked every few seconds), and says which in a final event.
//! * The portal's audit log gets a row when a console starts (or is refused) and when it ends,
//!   with the user, the device and the duration. Console bytes are never logged.

use std::future::Future;
use std::time::{Duration, Instant};

use amt::sol::{SolAuth, SolConfig, SolError, SolEvent, SolReader, SolWriter};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::{Sink, SinkExt, Stream, StreamExt};
use shared::console::{ConsoleEvent, ConsoleState};
use tower_sessions::Session;

use crate::AppState;
use crate::auth::SessionUser;
use crate::config::origin_of;
use crate::device_access::Refusal;
use crate::registry::Device;

/// How often the portal session is checked while a console runs.
const SESSION_CHECK: Duration = Duration::from_secs(5);
/// Largest keystroke frame accepted from the browser (a paste); larger frames are cut.
const MAX_INPUT_FRAME: usize = 64 * 1024;

/// One WebSocket frame as the relay sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Serial bytes: to the browser, the host's output; from the browser, keystrokes.
    Data(Vec<u8>),
    /// A status or error event (portal → browser only).
    Event(ConsoleEvent),
    /// The other side closes.
    Close,
}

/// Why the portal stops a running console on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The user's held Kerberos credential expired.
    CredentialExpired,
    /// The portal session ended (signed out or expired).
    SessionEnded,
}

/// How a console ended.
#[derive(Debug)]
pub enum Ended {
    /// The browser closed the socket (the user left or pressed disconnect).
    BrowserClosed,
    /// The device ended SOL in order.
    DeviceEnded,
    /// The device connection failed.
    Device(SolError),
    /// The portal stopped it.
    Stopped(Stop),
}

impl Ended {
    fn describe(&self) -> String {
        match self {
            Ended::BrowserClosed => "closed by the user".into(),
            Ended::DeviceEnded => "ended by the device".into(),
            Ended::Device(e) => format!("device connection lost: {e}"),
            Ended::Stopped(Stop::CredentialExpired) => "the user's Kerberos credential expired".into(),
            Ended::Stopped(Stop::SessionEnded) => "the portal session ended".into(),
        }
    }
}

fn status(state: ConsoleState, message: impl Into<String>) -> Frame {
    Frame::Event(ConsoleEvent::Status {
        state,
        message: message.into(),
    })
}

fn error(code: &str, message: impl Into<String>) -> Frame {
    Frame::Event(ConsoleEvent::Error {
        code: code.into(),
        message: message.into(),
    })
}

/// Relays between the browser and a running SOL session until one side ends or `stop` fires;
/// sends the closing event itself. Keystrokes go out in order; output is forwarded as it comes.
pub async fn relay<S, R>(
    to_browser: &mut S,
    from_browser: &mut R,
    mut reader: SolReader,
    writer: SolWriter,
    name: &str,
    stop: impl Future<Output = Stop>,
    mut transcript: Option<&mut crate::transcripts::Recorder>,
) -> Ended
where
    S: Sink<Frame> + Unpin,
    R: Stream<Item = Frame> + Unpin,
{
    tokio::pin!(stop);
    let ended = loop {
        tokio::select! {
            ev = reader.next() => match ev {
                Ok(Some(SolEvent::Data(d))) => {
                    if let Some(t) = transcript.as_deref_mut() {
                        t.output(&d);
                    }
                    if to_browser.send(Frame::Data(d)).await.is_err() {
                        break Ended::BrowserClosed;
                    }
                }
                Ok(Some(SolEvent::LineStatus { .. })) => {}
                Ok(None) => break Ended::DeviceEnded,
                Err(e) => break Ended::Device(e),
            },
            f = from_browser.next() => match f {
                Some(Frame::Data(keys)) => {
                    let keys = &keys[..keys.len().min(MAX_INPUT_FRAME)];
                    if let Err(e) = writer.send_keys(keys).await {
                        break Ended::Device(e);
                    }
                }
                Some(Frame::Event(_)) => {}
                Some(Frame::Close) | None => break Ended::BrowserClosed,
            },
            s = &mut stop => break Ended::Stopped(s),
        }
    };
    let last = match &ended {
        Ended::BrowserClosed => None,
        Ended::DeviceEnded => Some(error("device_closed", format!("{name} ended the console session."))),
        Ended::Device(SolError::Timeout(t)) => Some(error(
            "device_closed",
            format!(
                "{name} stopped answering (nothing for {} seconds), so the console was closed. Reconnect to try again.",
                t.as_secs()
            ),
        )),
        Ended::Device(e) => Some(error(
            "device_closed",
            format!("The connection to {name} was lost ({e}). Reconnect to try again."),
        )),
        Ended::Stopped(Stop::CredentialExpired) => Some(error(
            "session_ended",
            "Your Kerberos credential has expired, so the portal can no longer act as you. Sign in again to reopen the console.",
        )),
        Ended::Stopped(Stop::SessionEnded) => Some(error(
            "session_ended",
            "Your portal session has ended (signed out or expired). Sign in again to reopen the console.",
        )),
    };
    // End SOL in order where the device is still there; never wait long for it.
    if !matches!(ended, Ended::Device(_) | Ended::DeviceEnded) {
        let _ = writer.end().await;
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while let Ok(Some(_)) = reader.next().await {}
        })
        .await;
    }
    if let Some(ev) = last {
        let _ = to_browser.send(ev).await;
        let _ = to_browser
            .send(status(ConsoleState::Closed, "The console is closed."))
            .await;
    }
    let _ = to_browser.send(Frame::Close).await;
    ended
}

/// Words for a console that could not start.
async fn explain(state: &AppState, user: &SessionUser, device: &Device, e: SolError) -> Refusal {
    let name = &device.fqdn;
    let (code, message) = match e {
        SolError::Negotiate { spn, source }
            if matches!(
                source.downcast_ref::<kerberos::Error>(),
                Some(kerberos::Error::DelegationRefused { .. })
            ) =>
        {
            return state.why_no_delegation(user, &spn).await;
        }
        SolError::AuthRefused { .. } => (
            "access_denied",
            format!(
                "{name} refused to open a console for you: none of your groups has the Redirection realm on this device \
                 (or its clock or Kerberos settings are wrong). Ask an AMT administrator which groups it grants."
            ),
        ),
        SolError::ListenerOff => (
            "listener_off",
            format!(
                "{name} does not accept console connections: its redirection listener is off. A user with the Redirection realm \
                 can switch it on (AMT_RedirectionService ListenerEnabled), then try again."
            ),
        ),
        e @ (SolError::ConnectRefused(_) | SolError::Io(_)) => ("unreachable", format!("{name}: {e}.")),
        e => (e.code(), format!("{name}: {e}.")),
    };
    Refusal { code, message }
}

fn sol_config(device: &Device, tokens: std::sync::Arc<dyn amt::client::NegotiateTokens>) -> Result<SolConfig, Refusal> {
    let mut cfg = SolConfig::new(&device.address, SolAuth::Kerberos(tokens));
    cfg.fqdn = Some(device.fqdn.clone());
    if device.tls {
        let connector = amt::client::Connector::tls(&amt::tls::Trust::SystemRoots).map_err(|e| Refusal {
            code: "tls",
            message: format!("{}: TLS cannot be set up for its console port: {e}", device.fqdn),
        })?;
        cfg = cfg.with_tls(connector);
    }
    Ok(cfg)
}

/// Resolves when the credential runs out or the portal session is gone.
async fn watch_session(state: AppState, session_id: Option<String>, credential_left: Option<Duration>) -> Stop {
    let expires = credential_left.map(|d| tokio::time::Instant::now() + d);
    let mut tick = tokio::time::interval(SESSION_CHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = async {
                match expires {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            } => return Stop::CredentialExpired,
            _ = tick.tick() => {
                if !session_alive(&state, session_id.as_deref()).await {
                    return Stop::SessionEnded;
                }
            }
        }
    }
}

/// True while the session exists and has not expired.
async fn session_alive(state: &AppState, id: Option<&str>) -> bool {
    id.is_some_and(|id| state.sessions.alive(id))
}

/// Opens a transcript when the device's policy keeps them. A transcript that cannot be opened
/// does not stop the console (the failure is logged and audited).
async fn start_transcript(
    state: &AppState,
    user: &SessionUser,
    device: &Device,
) -> Option<crate::transcripts::Recorder> {
    match crate::transcripts::policy(&state.pool, device.id).await {
        Ok(true) => {}
        Ok(false) => return None,
        Err(e) => {
            tracing::warn!(error = %e, "transcript policy unreadable; console not recorded");
            return None;
        }
    }
    match crate::transcripts::Recorder::start(&state.pool, device.id, &device.fqdn, &user.principal).await {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::error!(error = %e, device.fqdn = %device.fqdn, "console transcript could not be opened");
            crate::audit::record(
                &state.pool,
                Some(&user.principal),
                "console: transcript",
                Some(&device.fqdn),
                "error",
                Some(&format!(
                    "the device's policy keeps transcripts, but this one could not be opened: {e}"
                )),
            )
            .await;
            None
        }
    }
}

/// Runs one console for `user` on device `id` over the browser's frames.
pub async fn run<S, R>(state: AppState, user: SessionUser, session_id: Option<String>, id: i64, mut tx: S, mut rx: R)
where
    S: Sink<Frame> + Unpin,
    R: Stream<Item = Frame> + Unpin,
{
    let (device, tokens, how, left) = match state.console_access(&user, id).await {
        Ok(x) => x,
        Err(r) => {
            let _ = tx.send(error(r.code, r.message)).await;
            let _ = tx.send(Frame::Close).await;
            return;
        }
    };
    let name = device.fqdn.clone();
    let cfg = match sol_config(&device, tokens) {
        Ok(c) => c,
        Err(r) => {
            let _ = tx.send(error(r.code, r.message)).await;
            let _ = tx.send(Frame::Close).await;
            return;
        }
    };
    let _ = tx
        .send(status(
            ConsoleState::Connecting,
            format!("Connecting to {name} (port {})…", cfg.port),
        ))
        .await;
    let _ = tx
        .send(status(
            ConsoleState::Authenticating,
            format!("Signing in to {name} as {} with {how}…", user.principal),
        ))
        .await;
    // The handshake may block on the KDC (GSSAPI) inside the token provider; it runs on this
    // task with block_in_place there, bounded by the config's timeout.
    let session = tokio::select! {
        s = amt::sol::connect(&cfg) => s,
        // The user gave up while the device was being reached.
        _ = async { while let Some(f) = rx.next().await { if f == Frame::Close { break; } } } => {
            return;
        }
    };
    let session = match session {
        Ok(s) => s,
        Err(e) => {
            let r = explain(&state, &user, &device, e).await;
            tracing::info!(user.principal = %user.principal, device.fqdn = %name, code = r.code, "console refused");
            crate::audit::record(
                &state.pool,
                Some(&user.principal),
                "console",
                Some(&name),
                "refused",
                Some(&r.message),
            )
            .await;
            let _ = tx.send(error(r.code, r.message)).await;
            let _ = tx.send(status(ConsoleState::Closed, "The console is closed.")).await;
            let _ = tx.send(Frame::Close).await;
            return;
        }
    };
    let started = Instant::now();
    let method = session.info().method;
    crate::audit::record(
        &state.pool,
        Some(&user.principal),
        "console: start",
        Some(&name),
        "ok",
        Some(&format!(
            "Serial-over-LAN opened on port {} ({method}, {how})",
            cfg.port
        )),
    )
    .await;
    tracing::info!(user.principal = %user.principal, device.fqdn = %name, "console opened");
    let mut transcript = start_transcript(&state, &user, &device).await;
    let recorded = if transcript.is_some() {
        " This device's policy keeps a transcript of what the console shows (not what you type)."
    } else {
        ""
    };
    let _ = tx
        .send(status(
            ConsoleState::Open,
            format!("Connected to {name} as {}.{recorded}", user.principal),
        ))
        .await;
    let (reader, writer) = session.split();
    let stop = watch_session(state.clone(), session_id, left);
    let ended = relay(&mut tx, &mut rx, reader, writer, &name, stop, transcript.as_mut()).await;
    let secs = started.elapsed().as_secs();
    let how_ended = ended.describe();
    if let Some(t) = transcript {
        t.finish(&how_ended).await;
    }
    tracing::info!(user.principal = %user.principal, device.fqdn = %name, duration_s = secs, reason = %how_ended, "console closed");
    crate::audit::record(
        &state.pool,
        Some(&user.principal),
        "console: end",
        Some(&name),
        if matches!(ended, Ended::Device(_)) {
            "error"
        } else {
            "ok"
        },
        Some(&format!("after {secs} s: {how_ended}")),
    )
    .await;
}

/// WebSocket read and write buffers of one console (axum's default is 128 KiB each). Console
/// traffic is keystrokes one way and serial output at serial speeds the other: 8 KiB holds it,
/// and 500 consoles then take about 21 MiB instead of 81 MiB (docs/BENCHMARKS.md).
pub const WS_BUFFER: usize = 8 * 1024;

/// Largest message the browser may send (a paste): anything larger closes the socket.
pub const MAX_BROWSER_MESSAGE: usize = 1024 * 1024;

/// The WebSocket handler.
pub async fn console(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if origin.and_then(origin_of).as_deref() != Some(state.config.public_origin.as_str()) {
        tracing::warn!(origin = ?origin, "console socket from another origin refused");
        return (
            StatusCode::FORBIDDEN,
            "Refused: the console can only be opened from the portal's own pages.",
        )
            .into_response();
    }
    let Some(user) = crate::auth::current_user(&session).await else {
        return (StatusCode::UNAUTHORIZED, "Sign in to the portal first.").into_response();
    };
    let session_id = session.id().map(|i| i.to_string());
    let ws = ws
        .read_buffer_size(WS_BUFFER)
        .write_buffer_size(WS_BUFFER)
        .max_message_size(MAX_BROWSER_MESSAGE);
    ws.on_upgrade(move |socket: WebSocket| async move {
        let (sink, stream) = socket.split();
        let tx = Box::pin(sink.with(|f: Frame| async move {
            Ok::<_, axum::Error>(match f {
                Frame::Data(d) => Message::Binary(d.into()),
                Frame::Event(e) => Message::Text(serde_json::to_string(&e).unwrap_or_default().into()),
                Frame::Close => Message::Close(None),
            })
        }));
        let rx = stream
            .take_while(|m| std::future::ready(!matches!(m, Ok(Message::Close(_)) | Err(_))))
            .filter_map(|m| async move {
                match m {
                    Ok(Message::Binary(b)) => Some(Frame::Data(b.to_vec())),
                    _ => None,
                }
            });
        run(state, user, session_id, id, tx, Box::pin(rx)).await;
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use amt::client::NegotiateTokens;
    use futures::channel::mpsc;
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

    struct Token;
    impl NegotiateTokens for Token {
        fn token(&self, _spn: &str) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
            Ok(b"ticket".to_vec())
        }
    }

    /// A device that accepts Kerberos and starts SOL, then runs `after`.
    async fn device_handshake(dev: &mut DuplexStream) {
        let mut b = [0u8; 8];
        dev.read_exact(&mut b).await.unwrap();
        dev.write_all(&[0x11, 0, 0, 0, 1, 0, 2, 0, 0x57, 1, 0, 0, 0])
            .await
            .unwrap();
        let mut q = [0u8; 9];
        dev.read_exact(&mut q).await.unwrap();
        dev.write_all(&[0x14, 0, 0, 0, 0, 1, 0, 0, 0, 2]).await.unwrap();
        let mut h = [0u8; 9];
        dev.read_exact(&mut h).await.unwrap();
        let mut tok = vec![0u8; u32::from_le_bytes([h[5], h[6], h[7], h[8]]) as usize];
        dev.read_exact(&mut tok).await.unwrap();
        dev.write_all(&[0x14, 0, 0, 0, 2, 0, 0, 0, 0]).await.unwrap();
        let mut s = [0u8; 24];
        dev.read_exact(&mut s).await.unwrap();
        let mut r = vec![0x21, 0];
        r.extend_from_slice(&[0; 21]);
        dev.write_all(&r).await.unwrap();
    }

    async fn session(console: DuplexStream) -> (SolReader, SolWriter) {
        let mut cfg = SolConfig::new("127.0.0.1", SolAuth::Kerberos(Arc::new(Token)));
        cfg.fqdn = Some("amt1.example.test".into());
        amt::sol::SolSession::handshake(console, &cfg)
            .await
            .expect("session")
            .split()
    }

    fn data(d: &[u8]) -> Vec<u8> {
        let mut v = vec![0x2A, 0, 0, 0, 0, 0, 0, 0];
        v.extend_from_slice(&(d.len() as u16).to_le_bytes());
        v.extend_from_slice(d);
        v
    }

    #[tokio::test]
    async fn bytes_flow_both_ways_and_the_browser_closing_ends_sol_in_order() {
        let (console, mut dev) = tokio::io::duplex(1 << 16);
        let device = tokio::spawn(async move {
            device_handshake(&mut dev).await;
            dev.write_all(&data(b"amt1 login: ")).await.unwrap();
            // Keystrokes from the browser arrive as 0x28 with the bytes unchanged.
            let mut h = [0u8; 10];
            dev.read_exact(&mut h).await.unwrap();
            assert_eq!(h[0], 0x28);
            let mut k = vec![0u8; usize::from(u16::from_le_bytes([h[8], h[9]]))];
            dev.read_exact(&mut k).await.unwrap();
            assert_eq!(k, b"root\r\x1b[A");
            dev.write_all(&data(b"root\r\n")).await.unwrap();
            // The browser leaves: EndSOL, answered, then EndRedirectionSession.
            let mut e = [0u8; 8];
            dev.read_exact(&mut e).await.unwrap();
            assert_eq!(e[0], 0x22);
            dev.write_all(&[0x23, 0, 0, 0, 0, 0, 0, 0]).await.unwrap();
            let mut end = [0u8; 4];
            dev.read_exact(&mut end).await.unwrap();
            assert_eq!(end, [0x12, 0, 0, 0]);
        });
        let (reader, writer) = session(console).await;
        let (mut to_browser, mut browser_sees) = mpsc::unbounded::<Frame>();
        let (browser_types, mut from_browser) = mpsc::unbounded::<Frame>();
        let relay_task = tokio::spawn(async move {
            relay(
                &mut to_browser,
                &mut from_browser,
                reader,
                writer,
                "amt1.example.test",
                std::future::pending(),
                None,
            )
            .await
        });
        assert_eq!(browser_sees.next().await, Some(Frame::Data(b"amt1 login: ".to_vec())));
        browser_types
            .unbounded_send(Frame::Data(b"root\r\x1b[A".to_vec()))
            .unwrap();
        assert_eq!(browser_sees.next().await, Some(Frame::Data(b"root\r\n".to_vec())));
        browser_types.unbounded_send(Frame::Close).unwrap();
        let ended = relay_task.await.unwrap();
        assert!(matches!(ended, Ended::BrowserClosed), "{ended:?}");
        assert_eq!(
            browser_sees.next().await,
            Some(Frame::Close),
            "no error event when the user leaves"
        );
        device.await.unwrap();
    }

    #[tokio::test]
    async fn a_dropped_device_ends_with_a_message_and_nothing_hangs() {
        let (console, mut dev) = tokio::io::duplex(1 << 16);
        let device = tokio::spawn(async move {
            device_handshake(&mut dev).await;
            dev.write_all(&data(b"x")).await.unwrap();
            drop(dev);
        });
        let (reader, writer) = session(console).await;
        let (mut to_browser, browser_sees) = mpsc::unbounded::<Frame>();
        let (_browser_types, mut from_browser) = mpsc::unbounded::<Frame>();
        let ended = tokio::time::timeout(
            Duration::from_secs(5),
            relay(
                &mut to_browser,
                &mut from_browser,
                reader,
                writer,
                "amt1.example.test",
                std::future::pending(),
                None,
            ),
        )
        .await
        .expect("ends promptly");
        assert!(matches!(ended, Ended::Device(SolError::Dropped)), "{ended:?}");
        drop(to_browser);
        let frames: Vec<Frame> = browser_sees.collect().await;
        assert_eq!(frames[0], Frame::Data(b"x".to_vec()));
        match &frames[1] {
            Frame::Event(ConsoleEvent::Error { code, message }) => {
                assert_eq!(code, "device_closed");
                assert!(
                    message.contains("The connection to amt1.example.test was lost"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            &frames[2],
            Frame::Event(ConsoleEvent::Status {
                state: ConsoleState::Closed,
                ..
            })
        ));
        assert_eq!(frames[3], Frame::Close);
        device.await.unwrap();
    }

    #[tokio::test]
    async fn an_expired_credential_stops_the_console_with_a_reason() {
        let (console, mut dev) = tokio::io::duplex(1 << 16);
        let device = tokio::spawn(async move {
            device_handshake(&mut dev).await;
            let mut e = [0u8; 8];
            dev.read_exact(&mut e).await.unwrap();
            assert_eq!(e[0], 0x22, "SOL ended in order");
            dev.write_all(&[0x23, 0, 0, 0, 0, 0, 0, 0]).await.unwrap();
        });
        let (reader, writer) = session(console).await;
        let (mut to_browser, browser_sees) = mpsc::unbounded::<Frame>();
        let (_browser_types, mut from_browser) = mpsc::unbounded::<Frame>();
        let ended = relay(
            &mut to_browser,
            &mut from_browser,
            reader,
            writer,
            "amt1.example.test",
            async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Stop::CredentialExpired
            },
            None,
        )
        .await;
        assert!(matches!(ended, Ended::Stopped(Stop::CredentialExpired)), "{ended:?}");
        drop(to_browser);
        let frames: Vec<Frame> = browser_sees.collect().await;
        assert!(
            matches!(&frames[0], Frame::Event(ConsoleEvent::Error { code, .. }) if code == "session_ended"),
            "{frames:?}"
        );
        device.await.unwrap();
    }
}
