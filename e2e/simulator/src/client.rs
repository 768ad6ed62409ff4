//! A minimal WS-Man HTTP client for tests and benchmarks (Digest with nonce reuse, or a
//! fixed Negotiate token), over one keep-alive HTTP/1.1 connection.
//!
//! The portal uses the `amt` crate's client; this one exists so the simulator's tests do
//! not depend on a crate that is still being written.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::HeaderMap;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, WWW_AUTHENTICATE};
use hyper_util::rt::TokioIo;

use amt::digest::{Challenge, DigestSession};

/// Client errors.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Connect or I/O failure (including a dropped connection).
    #[error("connection failed: {0}")]
    Connect(#[from] std::io::Error),
    /// HTTP failure (including the server closing without an answer).
    #[error("http error: {0}")]
    Http(#[from] hyper::Error),
    /// No answer in time.
    #[error("timed out")]
    Timeout,
}

/// How the client authenticates.
#[derive(Debug, Clone)]
pub enum ClientAuth {
    /// No Authorization header.
    None,
    /// Digest user and password.
    Digest {
        /// User.
        user: String,
        /// Password.
        password: String,
    },
    /// `Authorization: Negotiate <token>` on the first request of each connection.
    Negotiate(String),
}

/// An HTTP reply.
#[derive(Debug, Clone)]
pub struct HttpReply {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// Body text.
    pub body: String,
}

/// One device connection.
pub struct WsmanClient {
    addr: SocketAddr,
    auth: ClientAuth,
    sender: Option<SendRequest<Full<Bytes>>>,
    digest: Option<DigestSession>,
    negotiated: bool,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl WsmanClient {
    /// A client for `addr`.
    pub fn new(addr: SocketAddr, auth: ClientAuth) -> WsmanClient {
        WsmanClient {
            addr,
            auth,
            sender: None,
            digest: None,
            negotiated: false,
            timeout: Duration::from_secs(10),
        }
    }

    /// A Digest client.
    pub fn digest(addr: SocketAddr, user: &str, password: &str) -> WsmanClient {
        Self::new(
            addr,
            ClientAuth::Digest {
                user: user.into(),
                password: password.into(),
            },
        )
    }

    async fn connect(&mut self) -> Result<(), ClientError> {
        let stream = tokio::net::TcpStream::connect(self.addr).await?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        self.sender = Some(sender);
        self.negotiated = false;
        Ok(())
    }

    /// Sends one request without retrying on 401.
    pub async fn post_once(&mut self, xml: &str) -> Result<HttpReply, ClientError> {
        tokio::time::timeout(self.timeout, self.post_inner(xml))
            .await
            .map_err(|_| ClientError::Timeout)?
    }

    async fn post_inner(&mut self, xml: &str) -> Result<HttpReply, ClientError> {
        if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
            self.connect().await?;
        }
        let mut req = hyper::Request::post("/wsman")
            .header(HOST, self.addr.to_string())
            .header(CONTENT_TYPE, "application/soap+xml; charset=utf-8");
        match &self.auth {
            ClientAuth::Digest { .. } => {
                if let Some(a) = self.digest.as_mut().and_then(|d| d.authorization("POST", "/wsman")) {
                    req = req.header(AUTHORIZATION, a);
                }
            }
            ClientAuth::Negotiate(tok) if !self.negotiated => {
                req = req.header(AUTHORIZATION, format!("Negotiate {tok}"));
            }
            _ => {}
        }
        let req = req
            .body(Full::new(Bytes::copy_from_slice(xml.as_bytes())))
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let Some(sender) = self.sender.as_mut() else {
            return Err(ClientError::Connect(std::io::Error::other("not connected")));
        };
        sender.ready().await?;
        let resp = sender.send_request(req).await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await?.to_bytes();
        if matches!(self.auth, ClientAuth::Negotiate(_)) && status != 401 {
            self.negotiated = true;
        }
        if headers
            .get(hyper::header::CONNECTION)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"))
        {
            self.sender = None;
        }
        Ok(HttpReply {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }

    /// Sends a request; on a Digest 401 answers the challenge once.
    pub async fn post(&mut self, xml: &str) -> Result<HttpReply, ClientError> {
        let r = self.post_once(xml).await?;
        if let ClientAuth::Digest { user, password } = &self.auth
            && r.status == 401
        {
            let ch = r
                .headers
                .get_all(WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(|v| Challenge::parse(v).ok());
            if let Some(ch) = ch {
                let mut session = DigestSession::new(user, password);
                if session.set_challenge(ch).is_ok() {
                    self.digest = Some(session);
                    return self.post_once(xml).await;
                }
            }
        }
        Ok(r)
    }
}
