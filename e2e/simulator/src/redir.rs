//! The redirection listener of one device (ports 16994/16995, reference §4): session start,
//! authentication as AMT does it, and Serial-over-LAN to the simulated [`Host`].
//!
//! * Listener off (ListenerEnabled false): the connection is closed without a byte.
//! * Only `SOL ` sessions; `IDER`/`KVMR` get status 3 (unsupported), other tags status 1.
//! * One SOL session per device: a second connection gets StartRedirectionSessionReply
//!   status 2 (busy), also while the control API's `redirection-open` flag is set.
//! * Authentication: the query lists 4 (Digest) and, when Kerberos is enabled, 2. Digest
//!   (type 4) with `/RedirectionService` for the admin account or an ACL Digest user; Kerberos
//!   (type 2, the base64 text of a SPNEGO or raw krb5 token) through the fleet's verifier, for
//!   `HTTP/<fqdn>:<this port>`, with the same device checks as WS-Man (clock, PAC SIDs against
//!   the ACL) and AMT 2–5's 3 KB limit on redirection. Either way the user needs the
//!   Redirection realm (PT Administration implies it). A refusal is status 1 with no data.
//! * StartSOLRedirection: status 1 when SOL is disabled (EnabledState without bit 1), 2 when
//!   user consent is required (OptInRequired = all and no consent given): the simulator's
//!   convention, see `amt::sol::start_sol_status`. On success the device's `redirection` flag
//!   is set (power off/cycle refused), audit 1804 is written with the user as initiator, and
//!   the host's current screen is sent; 1805 when the session ends, however it ends.
//! * Then: keystrokes (0x28) go to the host, its output comes back as 0x2A, power events are
//!   shown, line status (0x29) reports host power, heartbeats (0x2B) at the console's
//!   interval, keep-alive pings answered, 0x27 and sequence numbers ignored; 0x22 → 0x23.
//! * `Device::drop_sol` (control API `sol-drop`) cuts the connection without a word.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use amt::redirection::{AuthData, Decoder, Direction, Message, SOL};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::auth::{self, AuthError, Principal, Who, realm_mask};
use crate::fleet::{Device, Shared};
use crate::host::{Host, PowerEvent};
use crate::state::realm;

/// AMT 2–5 accept at most this many base64 characters of Kerberos token on redirection.
pub const OLD_GENERATION_REDIRECTION_TOKEN_LIMIT: usize = 3072;

/// Releases the device's SOL claim (and closes the audited session) however the task ends.
struct Claim {
    dev: Arc<Device>,
    session: Option<(Principal, String)>,
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Some((p, peer)) = self.session.take() {
            let mut st = self.dev.lock();
            st.redirection.session_open = false;
            st.audit(18, 5, p.initiator(), Some(peer), Vec::new());
        }
        self.dev.sol_claim.store(false, Ordering::SeqCst);
    }
}

struct Conn<S> {
    io: S,
    dec: Decoder,
    seq: u32,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    async fn read(&mut self) -> Option<Message> {
        let mut buf = [0u8; 4096];
        loop {
            match self.dec.next_message() {
                Ok(Some(m)) => return Some(m),
                Ok(None) => {}
                Err(_) => return None,
            }
            let n = self.io.read(&mut buf).await.ok()?;
            if n == 0 {
                return None;
            }
            self.dec.push(&buf[..n]);
        }
    }

    async fn send(&mut self, m: &Message) -> Option<()> {
        self.io.write_all(&m.encode()).await.ok()?;
        self.io.flush().await.ok()
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    async fn output(&mut self, data: Vec<u8>) -> Option<()> {
        for chunk in data.chunks(4000) {
            let seq = self.next_seq();
            self.send(&Message::SolDataFromHost {
                seq,
                data: chunk.to_vec(),
            })
            .await?;
        }
        Some(())
    }

    async fn line_status(&mut self, on: bool) -> Option<()> {
        let seq = self.next_seq();
        self.send(&Message::SolControls {
            seq,
            control: 0x03,
            status: if on { 0x04 } else { 0 },
        })
        .await
    }
}

fn session_reply(status: u8) -> Message {
    Message::StartRedirectionSessionReply {
        status,
        protocol_version: (1, 0),
        firmware_version: (2, 0),
        // Intel's IANA enterprise number.
        iana: 343,
        oem: Vec::new(),
    }
}

fn auth_reply(status: u8, auth: AuthData) -> Message {
    Message::AuthenticateSessionReply { status, auth }
}

fn refuse(dev: &Device, peer: SocketAddr, why: String) {
    tracing::info!(device.index = dev.index, peer = %peer.ip(), reason = %why, "redirection authentication failed");
    dev.set_last_refusal(why);
}

/// Serves one connection on a redirection port.
pub(crate) async fn serve<S>(stream: S, peer: SocketAddr, port: u16, dev: Arc<Device>, shared: Arc<Shared>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut shutdown = shared.shutdown.clone();
    tokio::select! {
        _ = run(stream, peer, port, dev, shared.clone()) => {}
        _ = shutdown.changed() => {}
    }
}

async fn run<S>(stream: S, peer: SocketAddr, port: u16, dev: Arc<Device>, shared: Arc<Shared>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    if !dev.lock().redirection.listener_enabled {
        // A real device does not listen at all; closing at once is the nearest a shared socket gets.
        return;
    }
    let mut c = Conn {
        io: stream,
        dec: Decoder::new(Direction::ToDevice),
        seq: 0,
    };
    let handshake = Duration::from_secs(30);
    let Ok(Some(Message::StartRedirectionSession { protocol, .. })) = tokio::time::timeout(handshake, c.read()).await
    else {
        return;
    };
    if protocol != SOL {
        let status = if protocol == amt::redirection::IDER || protocol == amt::redirection::KVM {
            3
        } else {
            1
        };
        let _ = c.send(&session_reply(status)).await;
        return;
    }
    if dev.lock().redirection.session_open || dev.sol_claim.swap(true, Ordering::SeqCst) {
        let _ = c.send(&session_reply(2)).await;
        return;
    }
    let mut claim = Claim {
        dev: dev.clone(),
        session: None,
    };
    if c.send(&session_reply(0)).await.is_none() {
        return;
    }

    // Authentication: up to three attempts, then the connection is closed.
    let mut principal = None;
    let mut failures = 0;
    while principal.is_none() {
        let Ok(Some(m)) = tokio::time::timeout(handshake, c.read()).await else {
            return;
        };
        let reply = match m {
            Message::AuthenticateSession(AuthData::Query(_)) => {
                let mut types = Vec::new();
                if dev.lock().kerberos.enabled {
                    types.push(2);
                }
                types.push(4);
                auth_reply(0, AuthData::Query(types))
            }
            Message::AuthenticateSession(AuthData::Digest { auth_type: 4, fields }) => match digest(&dev, &fields) {
                DigestStep::Challenge(ch) => ch,
                DigestStep::Done(Ok(p)) => {
                    principal = Some(p);
                    auth_reply(
                        0,
                        AuthData::Digest {
                            auth_type: 4,
                            fields: Vec::new(),
                        },
                    )
                }
                DigestStep::Done(Err(why)) => {
                    refuse(&dev, peer, why);
                    failures += 1;
                    auth_reply(
                        1,
                        AuthData::Digest {
                            auth_type: 4,
                            fields: Vec::new(),
                        },
                    )
                }
            },
            Message::AuthenticateSession(AuthData::Kerberos(text)) => {
                match kerberos(&dev, port, &shared, &text).await {
                    Ok(p) => {
                        principal = Some(p);
                        auth_reply(0, AuthData::Kerberos(Vec::new()))
                    }
                    Err(why) => {
                        refuse(&dev, peer, why);
                        failures += 1;
                        auth_reply(1, AuthData::Kerberos(Vec::new()))
                    }
                }
            }
            Message::AuthenticateSession(other) => auth_reply(2, AuthData::Other(other.auth_type(), Vec::new())),
            Message::EndRedirectionSession => return,
            // Anything else before authentication ends the connection.
            _ => return,
        };
        if c.send(&reply).await.is_none() || failures >= 3 {
            return;
        }
    }
    let Some(principal) = principal else { return };

    // StartSOLRedirection (a stray 0x27 or heartbeat before it is ignored).
    let settings = loop {
        let Ok(Some(m)) = tokio::time::timeout(handshake, c.read()).await else {
            return;
        };
        match m {
            Message::StartSol { settings, .. } => break settings,
            Message::SolSettings27 { .. } | Message::Heartbeat { .. } | Message::KeepAlivePing { .. } => {}
            _ => return,
        }
    };
    let refusal = {
        let st = dev.lock();
        if st.redirection.enabled_state & 2 == 0 {
            Some(amt::sol::start_sol_status::SOL_DISABLED)
        } else if st.opt_in_required == u32::MAX && !matches!(st.opt_in_state, 3 | 4) {
            Some(amt::sol::start_sol_status::CONSENT_REQUIRED)
        } else {
            None
        }
    };
    if let Some(status) = refusal {
        let _ = c.send(&Message::StartSolReply { status, rest: [0; 21] }).await;
        return;
    }
    // Not `with_state`: that would also end cached Kerberos WS-Man sessions.
    let (on, in_setup) = {
        let mut st = dev.lock();
        st.redirection.session_open = true;
        st.audit(18, 4, principal.initiator(), Some(peer.ip().to_string()), Vec::new());
        (st.is_on(), st.boot.last_boot == "BIOS setup")
    };
    tracing::info!(device.index = dev.index, user.principal = %principal.name(), "SOL session opened");
    claim.session = Some((principal, peer.ip().to_string()));
    let name = dev.lock().fqdn.split('.').next().unwrap_or("host").to_owned();
    let mut host = Host::new(&name, on, in_setup);
    if c.send(&Message::StartSolReply {
        status: 0,
        rest: [0; 21],
    })
    .await
    .is_none()
        || c.line_status(on).await.is_none()
        || c.output(host.attach()).await.is_none()
    {
        return;
    }
    let _ = sol_loop(&mut c, &dev, &mut host, settings.heartbeat_interval).await;
    drop(claim);
}

/// Runs SOL until either side ends it; `None` when the connection failed.
async fn sol_loop<S>(c: &mut Conn<S>, dev: &Device, host: &mut Host, heartbeat_ms: u16) -> Option<()>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut power = dev.power_rx();
    let mut last = *power.borrow_and_update();
    let mut drop_rx = dev.sol_drop_rx();
    drop_rx.borrow_and_update();
    let period = Duration::from_millis(u64::from(if heartbeat_ms == 0 { 5000 } else { heartbeat_ms }));
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    let mut buf = [0u8; 4096];
    loop {
        // Messages already buffered first.
        loop {
            match c.dec.next_message() {
                Ok(Some(m)) => match m {
                    Message::SolDataToHost { data, .. } => {
                        let out = host.input(&data, std::time::Instant::now());
                        if !out.is_empty() && c.output(out).await.is_none() {
                            return None;
                        }
                    }
                    Message::KeepAlivePing { seq } => c.send(&Message::KeepAlivePong { seq }).await?,
                    Message::EndSol { seq } => {
                        let _ = c.send(&Message::EndSolReply { seq }).await;
                        // Wait briefly for EndRedirectionSession, then close.
                        let _ = tokio::time::timeout(Duration::from_secs(2), c.read()).await;
                        return Some(());
                    }
                    Message::EndRedirectionSession => return Some(()),
                    _ => {}
                },
                Ok(None) => break,
                Err(_) => return None,
            }
        }
        let deadline = host.deadline().map(tokio::time::Instant::from_std);
        let timer = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = c.io.read(&mut buf) => match r {
                Ok(0) | Err(_) => return None,
                Ok(n) => c.dec.push(&buf[..n]),
            },
            _ = timer => {
                let out = host.on_timer(std::time::Instant::now());
                if !out.is_empty() && c.output(out).await.is_none() {
                    return None;
                }
            }
            r = power.changed() => {
                if r.is_err() {
                    return None;
                }
                let now = *power.borrow_and_update();
                let ev = if now.boots != last.boots && now.on {
                    Some(PowerEvent::Boot { into_setup: now.into_setup })
                } else if !now.on && last.on {
                    Some(PowerEvent::Off)
                } else {
                    None
                };
                last = now;
                if let Some(ev) = ev {
                    let out = host.power(ev, std::time::Instant::now());
                    c.line_status(host.is_on()).await?;
                    c.output(out).await?;
                }
            }
            _ = drop_rx.changed() => {
                tracing::info!(device.index = dev.index, "SOL connection dropped on request");
                return None;
            }
            _ = heartbeat.tick() => {
                let seq = c.next_seq();
                c.send(&Message::Heartbeat { seq }).await?;
            }
        }
    }
}

enum DigestStep {
    Challenge(Message),
    Done(Result<Principal, String>),
}

fn digest(dev: &Device, fields: &[String]) -> DigestStep {
    let st = dev.lock();
    let now = crate::state::unix_now() as u64;
    let get = |i: usize| fields.get(i).map(String::as_str).unwrap_or_default();
    let (user, nonce) = (get(0), get(2));
    if nonce.is_empty() {
        let nonce = dev.nonces().issue(now);
        return DigestStep::Challenge(auth_reply(
            1,
            AuthData::Digest {
                auth_type: 4,
                fields: vec![st.digest_realm.clone(), nonce, "auth".into()],
            },
        ));
    }
    let (realm_, uri, cnonce, nc, response, qop) = (get(1), get(3), get(4), get(5), get(6), get(7));
    let (ha1, principal) = if user == st.admin_user {
        (
            st.admin_ha1.clone(),
            Principal {
                who: Who::Admin(user.to_owned()),
                realms: u32::MAX,
            },
        )
    } else {
        match st
            .acl
            .iter()
            .find(|e| e.username.as_deref() == Some(user))
            .filter(|e| e.network_allowed())
        {
            Some(e) => (
                e.ha1.clone().unwrap_or_default(),
                Principal {
                    who: Who::Digest(user.to_owned()),
                    realms: realm_mask(&e.realms),
                },
            ),
            None => return DigestStep::Done(Err(format!("no Digest user {user:?}"))),
        }
    };
    if realm_ != st.digest_realm {
        return DigestStep::Done(Err("wrong Digest realm".into()));
    }
    let ha2 = amt::digest::md5_hex(&format!("POST:{uri}"));
    let expected = amt::digest::md5_hex(&format!("{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}"));
    if !expected.eq_ignore_ascii_case(response) {
        return DigestStep::Done(Err("digest credentials rejected".into()));
    }
    if !matches!(
        dev.nonces().check(nonce, now, auth::NONCE_LIFETIME_SECS),
        amt::digest::NonceCheck::Valid
    ) {
        return DigestStep::Done(Err("stale or unknown nonce".into()));
    }
    if !principal.has_realm(realm::REDIRECTION) {
        return DigestStep::Done(Err(format!("{user} lacks the Redirection realm")));
    }
    DigestStep::Done(Ok(principal))
}

async fn kerberos(dev: &Device, port: u16, shared: &Shared, text: &[u8]) -> Result<Principal, String> {
    let token_b64 = std::str::from_utf8(text)
        .map_err(|_| "token is not base64 text".to_string())?
        .trim();
    {
        let st = dev.lock();
        if st.old_generation() && token_b64.len() > OLD_GENERATION_REDIRECTION_TOKEN_LIMIT {
            return Err(format!(
                "kerberos refused: ticket of {} bytes (base64) exceeds the {OLD_GENERATION_REDIRECTION_TOKEN_LIMIT}-byte redirection limit of AMT {}",
                token_b64.len(),
                st.amt_version
            ));
        }
        auth::precheck_negotiate(&st, token_b64).map_err(|e| e.to_string())?;
    }
    let token = B64
        .decode(token_b64)
        .map_err(|_| AuthError::Kerberos("token is not base64".into()).to_string())?;
    let verifier = crate::fleet::verifier_for(dev, shared)
        .ok_or_else(|| AuthError::Kerberos("simulator has no keytab".into()).to_string())?;
    let ticket = tokio::task::spawn_blocking(move || verifier.verify(&token))
        .await
        .map_err(|_| "verifier failed".to_string())?
        .map_err(|e| AuthError::Kerberos(e).to_string())?;
    let principal = {
        let st = dev.lock();
        auth::authorize_ticket(&st, port, &ticket).map_err(|e| e.to_string())?
    };
    if !principal.has_realm(realm::REDIRECTION) {
        return Err(format!(
            "kerberos refused: {} lacks the Redirection realm",
            principal.name()
        ));
    }
    Ok(principal)
}
