//! HTTP Digest authentication (RFC 2617 / RFC 7616 with MD5), client and server side, plus
//! the redirection-protocol Digest response (§4.2).
//!
//! Client: [`Challenge::parse`] reads a `WWW-Authenticate: Digest …` value (qop lists such as
//! `"auth-int, auth"` are accepted; `auth` is always chosen), [`DigestSession`] keeps the nonce
//! and increments `nc` for each request so the nonce is reused until the server says
//! `stale=true`. Server: [`DigestServer`] issues challenges with realm `Digest:<32 hex>` and
//! verifies `Authorization` headers, telling a stale nonce apart from a wrong password.

use std::collections::HashMap;
use std::fmt::Write as _;

use md5::{Digest as _, Md5};
use rand::RngCore;

/// Errors of Digest parsing and verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    /// The header is not a Digest header.
    #[error("not a Digest header")]
    NotDigest,
    /// A required parameter is missing.
    #[error("Digest header lacks {0}")]
    Missing(&'static str),
    /// The server offers no qop the client supports (only `auth` is supported when a qop is sent).
    #[error("the server offers no supported qop ({0})")]
    UnsupportedQop(String),
}

/// Lower-case hex MD5.
pub fn md5_hex(data: &str) -> String {
    let mut h = Md5::new();
    h.update(data.as_bytes());
    hex::encode(h.finalize())
}

/// Parses `key=value, key="quoted, value"` pairs (keys lower-cased).
pub fn parse_params(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i] == b' ' || b[i] == b',' || b[i] == b'\t') {
            i += 1;
        }
        let ks = i;
        while i < b.len() && b[i] != b'=' && b[i] != b',' {
            i += 1;
        }
        let key = s[ks..i].trim().to_ascii_lowercase();
        if i >= b.len() || b[i] == b',' {
            if !key.is_empty() {
                out.insert(key, String::new());
            }
            continue;
        }
        i += 1; // '='
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        let mut val = String::new();
        if i < b.len() && b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                }
                let ch_len = s[i..].chars().next().map_or(1, char::len_utf8);
                val.push_str(&s[i..i + ch_len]);
                i += ch_len;
            }
            i += 1;
        } else {
            let vs = i;
            while i < b.len() && b[i] != b',' {
                i += 1;
            }
            val = s[vs..i].trim().to_owned();
        }
        if !key.is_empty() {
            out.insert(key, val);
        }
    }
    out
}

/// A parsed Digest challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Realm (`Digest:<32 hex>` on AMT).
    pub realm: String,
    /// Server nonce.
    pub nonce: String,
    /// Opaque value to echo.
    pub opaque: Option<String>,
    /// Offered qop values (e.g. `["auth-int", "auth"]`); empty = RFC 2069 style.
    pub qop: Vec<String>,
    /// `stale=true`: the nonce expired but the credentials were right.
    pub stale: bool,
    /// Algorithm (only MD5 is supported).
    pub algorithm: Option<String>,
}

impl Challenge {
    /// Parses a `WWW-Authenticate` value starting with `Digest`.
    pub fn parse(header: &str) -> Result<Self, DigestError> {
        let h = header.trim();
        let rest = h
            .get(..6)
            .filter(|p| p.eq_ignore_ascii_case("digest"))
            .map(|_| &h[6..])
            .ok_or(DigestError::NotDigest)?;
        let p = parse_params(rest);
        Ok(Challenge {
            realm: p.get("realm").cloned().ok_or(DigestError::Missing("realm"))?,
            nonce: p.get("nonce").cloned().ok_or(DigestError::Missing("nonce"))?,
            opaque: p.get("opaque").cloned(),
            qop: p
                .get("qop")
                .map(|q| {
                    q.split(',')
                        .map(|x| x.trim().to_owned())
                        .filter(|x| !x.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            stale: p.get("stale").is_some_and(|s| s.eq_ignore_ascii_case("true")),
            algorithm: p.get("algorithm").cloned(),
        })
    }

    /// Renders the header value (server side), AMT style.
    pub fn to_header(&self) -> String {
        let mut s = format!(
            "Digest realm=\"{}\", nonce=\"{}\",stale=\"{}\"",
            self.realm, self.nonce, self.stale
        );
        if !self.qop.is_empty() {
            let _ = write!(s, ",qop=\"{}\"", self.qop.join(", "));
        }
        if let Some(o) = &self.opaque {
            let _ = write!(s, ",opaque=\"{o}\"");
        }
        s
    }
}

/// Computes the Digest `response` (qop `auth`, or RFC 2069 when `qop` is `None`).
#[expect(clippy::too_many_arguments, reason = "mirrors the RFC's inputs one to one")]
pub fn compute_response(
    user: &str,
    realm: &str,
    password: &str,
    method: &str,
    uri: &str,
    nonce: &str,
    nc: &str,
    cnonce: &str,
    qop: Option<&str>,
) -> String {
    let ha1 = md5_hex(&format!("{user}:{realm}:{password}"));
    let ha2 = md5_hex(&format!("{method}:{uri}"));
    match qop {
        Some(q) => md5_hex(&format!("{ha1}:{nonce}:{nc}:{cnonce}:{q}:{ha2}")),
        None => md5_hex(&format!("{ha1}:{nonce}:{ha2}")),
    }
}

/// The redirection (auth type 4) response: MD5hex(HA1:nonce:nc:cnonce:qop:MD5hex("POST:/RedirectionService")).
pub fn redirection_response(
    user: &str,
    realm: &str,
    password: &str,
    nonce: &str,
    nc: &str,
    cnonce: &str,
    qop: &str,
) -> String {
    compute_response(
        user,
        realm,
        password,
        "POST",
        "/RedirectionService",
        nonce,
        nc,
        cnonce,
        Some(qop),
    )
}

/// A random 32-hex-digit cnonce.
pub fn new_cnonce() -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Client-side Digest state for one device: the current challenge and the nonce count.
#[derive(Debug, Clone)]
pub struct DigestSession {
    user: String,
    password: String,
    challenge: Option<Challenge>,
    nc: u32,
}

impl DigestSession {
    /// New session without a challenge yet.
    pub fn new(user: &str, password: &str) -> Self {
        DigestSession {
            user: user.to_owned(),
            password: password.to_owned(),
            challenge: None,
            nc: 0,
        }
    }

    /// Stores a new challenge (from a 401) and resets the nonce count.
    pub fn set_challenge(&mut self, c: Challenge) -> Result<(), DigestError> {
        if !c.qop.is_empty() && !c.qop.iter().any(|q| q == "auth") {
            return Err(DigestError::UnsupportedQop(c.qop.join(", ")));
        }
        self.challenge = Some(c);
        self.nc = 0;
        Ok(())
    }

    /// True once a challenge is known (requests can be authenticated up front).
    pub fn has_challenge(&self) -> bool {
        self.challenge.is_some()
    }

    /// Forgets the challenge (e.g. after a non-stale 401).
    pub fn clear(&mut self) {
        self.challenge = None;
    }

    /// The `Authorization` header value for the next request, reusing the nonce with an
    /// incremented `nc`; `None` before the first challenge.
    pub fn authorization(&mut self, method: &str, uri: &str) -> Option<String> {
        let c = self.challenge.as_ref()?;
        self.nc = self.nc.wrapping_add(1);
        let nc = format!("{:08x}", self.nc);
        let cnonce = new_cnonce();
        Some(authorization_header(
            &self.user,
            &self.password,
            c,
            method,
            uri,
            &nc,
            &cnonce,
        ))
    }
}

/// Builds an `Authorization: Digest …` value for a challenge with given nc/cnonce.
pub fn authorization_header(
    user: &str,
    password: &str,
    c: &Challenge,
    method: &str,
    uri: &str,
    nc: &str,
    cnonce: &str,
) -> String {
    let qop = if c.qop.is_empty() { None } else { Some("auth") };
    let response = compute_response(user, &c.realm, password, method, uri, &c.nonce, nc, cnonce, qop);
    let mut s = format!(
        "Digest username=\"{user}\", realm=\"{}\", nonce=\"{}\", uri=\"{uri}\", response=\"{response}\"",
        c.realm, c.nonce
    );
    if let Some(q) = qop {
        let _ = write!(s, ", qop={q}, nc={nc}, cnonce=\"{cnonce}\"");
    }
    if let Some(o) = &c.opaque {
        let _ = write!(s, ", opaque=\"{o}\"");
    }
    s
}

/// Result of [`DigestServer::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Credentials correct and nonce current; carries the user name.
    Ok(String),
    /// Credentials correct but the nonce is unknown or expired: answer 401 with `stale=true`.
    Stale,
    /// Wrong user, password, realm or malformed header.
    Denied,
}

/// Server-side Digest (for the simulator): issues nonces and verifies responses.
#[derive(Debug)]
pub struct DigestServer {
    realm: String,
    nonces: std::sync::Mutex<std::collections::VecDeque<String>>,
    max_nonces: usize,
}

impl DigestServer {
    /// A server with a random realm `Digest:<32 hex>`.
    pub fn new() -> Self {
        let mut b = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut b);
        Self::with_realm(&format!("Digest:{}", hex::encode_upper(b)))
    }

    /// A server with a given realm.
    pub fn with_realm(realm: &str) -> Self {
        DigestServer {
            realm: realm.to_owned(),
            nonces: std::sync::Mutex::new(std::collections::VecDeque::new()),
            max_nonces: 64,
        }
    }

    /// The realm.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// A new challenge (qop `auth`), remembering its nonce.
    pub fn challenge(&self, stale: bool) -> Challenge {
        let mut b = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut b);
        let nonce = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b);
        if let Ok(mut n) = self.nonces.lock() {
            n.push_back(nonce.clone());
            while n.len() > self.max_nonces {
                n.pop_front();
            }
        }
        Challenge {
            realm: self.realm.clone(),
            nonce,
            opaque: None,
            qop: vec!["auth".to_owned()],
            stale,
            algorithm: None,
        }
    }

    /// Forgets every nonce (e.g. to simulate a firmware nonce reset).
    pub fn expire_all(&self) {
        if let Ok(mut n) = self.nonces.lock() {
            n.clear();
        }
    }

    /// Verifies an `Authorization` header for `method`; `password_of` looks up a user's password.
    pub fn verify(&self, header: &str, method: &str, password_of: impl Fn(&str) -> Option<String>) -> Verification {
        let h = header.trim();
        let Some(rest) = h.get(..6).filter(|p| p.eq_ignore_ascii_case("digest")).map(|_| &h[6..]) else {
            return Verification::Denied;
        };
        let p = parse_params(rest);
        let (Some(user), Some(realm), Some(nonce), Some(uri), Some(resp)) = (
            p.get("username"),
            p.get("realm"),
            p.get("nonce"),
            p.get("uri"),
            p.get("response"),
        ) else {
            return Verification::Denied;
        };
        if realm != &self.realm {
            return Verification::Denied;
        }
        let Some(password) = password_of(user) else {
            return Verification::Denied;
        };
        let qop = p.get("qop").map(String::as_str);
        let expected = compute_response(
            user,
            realm,
            &password,
            method,
            uri,
            nonce,
            p.get("nc").map_or("", String::as_str),
            p.get("cnonce").map_or("", String::as_str),
            qop,
        );
        if !expected.eq_ignore_ascii_case(resp) {
            return Verification::Denied;
        }
        let known = self
            .nonces
            .lock()
            .map(|n| n.iter().any(|x| x == nonce))
            .unwrap_or(false);
        if known {
            Verification::Ok(user.clone())
        } else {
            Verification::Stale
        }
    }
}

impl Default for DigestServer {
    fn default() -> Self {
        Self::new()
    }
}

/// Raw HA1 = MD5(user:realm:password): what AMT stores for ACL users (`DigestPassword` is its
/// base64) and what a device verifies responses against.
pub fn ha1(user: &str, realm: &str, password: &str) -> [u8; 16] {
    Md5::digest(format!("{user}:{realm}:{password}").as_bytes()).into()
}

/// HA1 as lower-case hex.
pub fn ha1_hex(user: &str, realm: &str, password: &str) -> String {
    hex::encode(ha1(user, realm, password))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The fields of an `Authorization: Digest …` header, for a device that stores HA1 values
/// rather than passwords (AMT does).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// username
    pub username: String,
    /// realm
    pub realm: String,
    /// nonce
    pub nonce: String,
    /// uri
    pub uri: String,
    /// response (32 hex)
    pub response: String,
    /// qop (`auth`), absent for RFC 2069 style
    pub qop: Option<String>,
    /// nonce count
    pub nc: String,
    /// client nonce
    pub cnonce: String,
}

impl Credentials {
    /// Reads the header value after `Digest `; `None` when a required field is missing or
    /// the algorithm is not MD5.
    pub fn parse(params: &str) -> Option<Credentials> {
        let mut p = parse_params(params);
        if p.get("algorithm").is_some_and(|a| !a.eq_ignore_ascii_case("MD5")) {
            return None;
        }
        let mut take = |k: &str| p.remove(k).unwrap_or_default();
        let c = Credentials {
            username: take("username"),
            realm: take("realm"),
            nonce: take("nonce"),
            uri: take("uri"),
            response: take("response"),
            qop: Some(take("qop")).filter(|q| !q.is_empty()),
            nc: take("nc"),
            cnonce: take("cnonce"),
        };
        (!c.username.is_empty() && !c.nonce.is_empty() && !c.response.is_empty()).then_some(c)
    }

    /// True when `response` matches the HA1 (hex) for this method (constant-time compare).
    pub fn verify(&self, ha1_hex: &str, method: &str) -> bool {
        let ha2 = md5_hex(&format!("{method}:{}", self.uri));
        let expected = match self.qop.as_deref() {
            Some("auth") => md5_hex(&format!(
                "{ha1_hex}:{}:{}:{}:auth:{ha2}",
                self.nonce, self.nc, self.cnonce
            )),
            Some(_) => return false,
            None => md5_hex(&format!("{ha1_hex}:{}:{ha2}", self.nonce)),
        };
        constant_time_eq(expected.as_bytes(), self.response.to_ascii_lowercase().as_bytes())
    }
}

/// What a [`NonceIssuer`] check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceCheck {
    /// Issued here and fresh.
    Valid,
    /// Issued here but too old: challenge again with `stale=true`.
    Stale,
    /// Not one of ours.
    Invalid,
}

/// Stateless nonces: a timestamp and a keyed MD5 tag, 18 bytes in base64 (24 characters,
/// like AMT's). Nothing is stored per nonce, so ten thousand simulated devices cost nothing.
#[derive(Debug, Clone)]
pub struct NonceIssuer {
    secret: [u8; 16],
}

impl NonceIssuer {
    /// A new issuer with a random secret.
    pub fn new() -> NonceIssuer {
        let mut secret = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut secret);
        NonceIssuer { secret }
    }

    fn tag(&self, ts: u32) -> [u8; 16] {
        let mut h = Md5::new();
        h.update(self.secret);
        h.update(ts.to_be_bytes());
        h.finalize().into()
    }

    /// A nonce for time `now` (seconds).
    pub fn issue(&self, now: u64) -> String {
        let ts = now as u32;
        let mut raw = [0u8; 18];
        raw[..4].copy_from_slice(&ts.to_be_bytes());
        raw[4..].copy_from_slice(&self.tag(ts)[..14]);
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, raw)
    }

    /// Checks a nonce at time `now`; nonces live `max_age` seconds.
    pub fn check(&self, nonce: &str, now: u64, max_age: u64) -> NonceCheck {
        let Ok(raw) = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, nonce) else {
            return NonceCheck::Invalid;
        };
        if raw.len() != 18 {
            return NonceCheck::Invalid;
        }
        let ts = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
        if !constant_time_eq(&raw[4..], &self.tag(ts)[..14]) {
            return NonceCheck::Invalid;
        }
        if (now as u32).wrapping_sub(ts) as u64 > max_age {
            NonceCheck::Stale
        } else {
            NonceCheck::Valid
        }
    }

    /// An AMT-style challenge (`qop="auth"`) with a fresh nonce.
    pub fn challenge(&self, realm: &str, now: u64, stale: bool) -> Challenge {
        Challenge {
            realm: realm.to_owned(),
            nonce: self.issue(now),
            opaque: None,
            qop: vec!["auth".to_owned()],
            stale,
            algorithm: None,
        }
    }
}

impl Default for NonceIssuer {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc2617_example() {
        // RFC 2617 §3.5.
        let r = compute_response(
            "Mufasa",
            "testrealm@host.com",
            "Circle Of Life",
            "GET",
            "/dir/index.html",
            "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            "00000001",
            "0a4f113b",
            Some("auth"),
        );
        assert_eq!(r, "6629fae49393a05397450978507c4ef1");
    }

    #[test]
    fn amt_challenges() {
        let c = Challenge::parse(r#"Digest realm="Digest:34BF4B5A0561F95248F58509A406E046", nonce="bQali2IAAAAAAAAAn0xaWCOcxNsRcEHX",stale="false",qop="auth""#).expect("parses");
        assert_eq!(c.realm, "Digest:34BF4B5A0561F95248F58509A406E046");
        assert_eq!(c.qop, vec!["auth"]);
        assert!(!c.stale);
        let c2 = Challenge::parse(r#"Digest realm="Digest:X", nonce="n", stale="true", qop="auth-int, auth""#)
            .expect("parses");
        assert!(c2.stale);
        assert_eq!(c2.qop, vec!["auth-int", "auth"]);
        assert_eq!(Challenge::parse("Negotiate"), Err(DigestError::NotDigest));
        assert!(Challenge::parse("Digest nonce=\"x\"").is_err());
        assert!(Challenge::parse("Digest realm=\"unterminated").is_err());
    }

    #[test]
    fn client_server_round_trip_with_nonce_reuse_and_stale() {
        let server = DigestServer::with_realm("Digest:F3EB554784E729164447A89F60B641C5");
        let mut s = DigestSession::new("admin", "P@ssw0rd");
        assert!(s.authorization("POST", "/wsman").is_none());
        let ch = Challenge::parse(&server.challenge(false).to_header()).expect("parses");
        s.set_challenge(ch).expect("auth qop");
        let pw = |u: &str| (u == "admin").then(|| "P@ssw0rd".to_owned());
        let a1 = s.authorization("POST", "/wsman").expect("header");
        let a2 = s.authorization("POST", "/wsman").expect("header");
        assert!(a1.contains("nc=00000001") && a2.contains("nc=00000002"));
        assert_eq!(server.verify(&a1, "POST", pw), Verification::Ok("admin".into()));
        assert_eq!(server.verify(&a2, "POST", pw), Verification::Ok("admin".into()));
        server.expire_all();
        assert_eq!(server.verify(&a2, "POST", pw), Verification::Stale);
        let mut bad = DigestSession::new("admin", "wrong");
        bad.set_challenge(server.challenge(false)).expect("ok");
        let h = bad.authorization("POST", "/wsman").expect("h");
        assert_eq!(server.verify(&h, "POST", pw), Verification::Denied);
        assert_eq!(server.verify("garbage", "POST", pw), Verification::Denied);
        assert!(server.realm().starts_with("Digest:"));
        assert_eq!(DigestServer::new().realm().len(), 7 + 32);
    }

    #[test]
    fn stateless_nonces_and_ha1_verification() {
        let issuer = NonceIssuer::new();
        let ch = issuer.challenge("Digest:ABC", 1000, false);
        assert_eq!(ch.nonce.len(), 24);
        assert_eq!(
            ch.to_header(),
            format!(
                "Digest realm=\"Digest:ABC\", nonce=\"{}\",stale=\"false\",qop=\"auth\"",
                ch.nonce
            )
        );
        let mut s = DigestSession::new("admin", "pw");
        s.set_challenge(Challenge::parse(&ch.to_header()).expect("parses"))
            .expect("auth");
        let h = s.authorization("POST", "/wsman").expect("header");
        let creds = Credentials::parse(&h["Digest ".len()..]).expect("credentials");
        assert_eq!(creds.username, "admin");
        assert_eq!(issuer.check(&creds.nonce, 1010, 300), NonceCheck::Valid);
        assert_eq!(issuer.check(&creds.nonce, 2000, 300), NonceCheck::Stale);
        assert_eq!(NonceIssuer::new().check(&creds.nonce, 1000, 300), NonceCheck::Invalid);
        assert!(creds.verify(&ha1_hex("admin", "Digest:ABC", "pw"), "POST"));
        assert!(!creds.verify(&ha1_hex("admin", "Digest:ABC", "bad"), "POST"));
        assert!(!creds.verify(&ha1_hex("admin", "Digest:ABC", "pw"), "GET"));
        assert_eq!(ha1("u", "r", "p").to_vec(), hex::decode(md5_hex("u:r:p")).unwrap());
        assert!(Credentials::parse("username=\"a\", nonce=\"n\", response=\"r\", algorithm=SHA-256").is_none());
    }

    #[test]
    fn redirection_formula() {
        let ha1 = md5_hex("u:r:p");
        let ha2 = md5_hex("POST:/RedirectionService");
        assert_eq!(
            redirection_response("u", "r", "p", "n", "00000002", "c", "auth"),
            md5_hex(&format!("{ha1}:n:00000002:c:auth:{ha2}"))
        );
    }
}
