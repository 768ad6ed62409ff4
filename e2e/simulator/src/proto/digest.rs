//! HTTP Digest (RFC 2617, MD5, qop=auth) for both sides, as AMT uses it (reference §1.1).
//!
//! The device side issues stateless nonces (a timestamp and a keyed MD5 tag, 18 bytes in
//! base64: 24 characters like AMT's) and checks responses against the stored HA1
//! (AMT stores exactly that for ACL users: `DigestPassword` is base64 of MD5(user:realm:pw)).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use md5::{Digest as _, Md5};

/// MD5 as lowercase hex.
pub fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

/// Raw HA1 = MD5(user:realm:password).
pub fn ha1_raw(user: &str, realm: &str, password: &str) -> [u8; 16] {
    Md5::digest(format!("{user}:{realm}:{password}").as_bytes()).into()
}

/// HA1 as lowercase hex.
pub fn ha1_hex(user: &str, realm: &str, password: &str) -> String {
    hex::encode(ha1_raw(user, realm, password))
}

/// Splits `k=v, k="v, w"` parameter lists (the part after `Digest `).
pub fn parse_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let Some(eq) = rest.find('=') else { break };
        let key = rest[..eq].trim().trim_start_matches(',').trim().to_ascii_lowercase();
        rest = rest[eq + 1..].trim_start();
        let value;
        if let Some(r) = rest.strip_prefix('"') {
            let mut v = String::new();
            let mut chars = r.char_indices();
            let mut end = r.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            v.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    _ => v.push(c),
                }
            }
            value = v;
            rest = r.get(end..).unwrap_or("");
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            value = rest[..end].trim().to_string();
            rest = &rest[end..];
        }
        rest = rest.trim_start().trim_start_matches(',').trim_start();
        out.push((key, value));
    }
    out
}

/// The fields of an `Authorization: Digest …` header.
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
    /// Reads the header value after `Digest `.
    pub fn parse(params: &str) -> Option<Credentials> {
        let mut c = Credentials::default();
        for (k, v) in parse_params(params) {
            match k.as_str() {
                "username" => c.username = v,
                "realm" => c.realm = v,
                "nonce" => c.nonce = v,
                "uri" => c.uri = v,
                "response" => c.response = v,
                "qop" => c.qop = Some(v),
                "nc" => c.nc = v,
                "cnonce" => c.cnonce = v,
                "algorithm" if !v.eq_ignore_ascii_case("MD5") => return None,
                _ => {}
            }
        }
        (!c.username.is_empty() && !c.nonce.is_empty() && !c.response.is_empty()).then_some(c)
    }

    /// True when `response` matches the HA1 (hex) for this method.
    pub fn verify(&self, ha1_hex: &str, method: &str) -> bool {
        let ha2 = md5_hex(format!("{method}:{}", self.uri).as_bytes());
        let expected = match self.qop.as_deref() {
            Some("auth") => {
                md5_hex(format!("{ha1_hex}:{}:{}:{}:auth:{ha2}", self.nonce, self.nc, self.cnonce).as_bytes())
            }
            Some(_) => return false,
            None => md5_hex(format!("{ha1_hex}:{}:{ha2}", self.nonce).as_bytes()),
        };
        constant_time_eq(expected.as_bytes(), self.response.to_ascii_lowercase().as_bytes())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `WWW-Authenticate` value AMT sends (AMT 15 form, qop="auth").
pub fn challenge(realm: &str, nonce: &str, stale: bool) -> String {
    format!("Digest realm=\"{realm}\", nonce=\"{nonce}\",stale=\"{stale}\",qop=\"auth\"")
}

/// What a nonce check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceCheck {
    /// Issued by this device and fresh.
    Valid,
    /// Issued by this device but too old: challenge again with stale=true.
    Stale,
    /// Not one of ours.
    Invalid,
}

/// Issues and checks stateless nonces with a per-device secret.
#[derive(Debug, Clone)]
pub struct NonceIssuer {
    secret: [u8; 16],
}

impl NonceIssuer {
    /// A new issuer with a random secret.
    pub fn new() -> NonceIssuer {
        NonceIssuer { secret: rand::random() }
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
        B64.encode(raw)
    }

    /// Checks a nonce at time `now`; nonces live `max_age` seconds.
    pub fn check(&self, nonce: &str, now: u64, max_age: u64) -> NonceCheck {
        let Ok(raw) = B64.decode(nonce) else {
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
}

impl Default for NonceIssuer {
    fn default() -> Self {
        Self::new()
    }
}

/// Client side: the `Authorization` header value answering a challenge.
pub fn authorization(
    user: &str,
    password: &str,
    challenge_params: &str,
    method: &str,
    uri: &str,
    nc: u32,
) -> Option<String> {
    let params = parse_params(challenge_params);
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let realm = get("realm")?;
    let nonce = get("nonce")?;
    let ha1 = ha1_hex(user, realm, password);
    let ha2 = md5_hex(format!("{method}:{uri}").as_bytes());
    let cnonce = hex::encode(rand::random::<[u8; 16]>());
    let nc = format!("{nc:08x}");
    let response = md5_hex(format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}").as_bytes());
    Some(format!(
        "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", qop=auth, nc={nc}, cnonce=\"{cnonce}\", response=\"{response}\""
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_and_server_agree() {
        let issuer = NonceIssuer::new();
        let nonce = issuer.issue(1000);
        assert_eq!(nonce.len(), 24);
        let ch = challenge("Digest:ABC", &nonce, false);
        let auth = authorization("admin", "pw", &ch["Digest ".len()..], "POST", "/wsman", 1).unwrap();
        let creds = Credentials::parse(&auth["Digest ".len()..]).unwrap();
        assert_eq!(creds.username, "admin");
        assert_eq!(issuer.check(&creds.nonce, 1010, 300), NonceCheck::Valid);
        assert_eq!(issuer.check(&creds.nonce, 2000, 300), NonceCheck::Stale);
        assert!(creds.verify(&ha1_hex("admin", "Digest:ABC", "pw"), "POST"));
        assert!(!creds.verify(&ha1_hex("admin", "Digest:ABC", "bad"), "POST"));
        assert_eq!(NonceIssuer::new().check(&nonce, 1000, 300), NonceCheck::Invalid);
    }

    #[test]
    fn parses_real_amt_challenge() {
        let p = parse_params(
            "realm=\"Digest:34BF4B5A0561F95248F58509A406E046\", nonce=\"bQali2IAAAAAAAAAn0xaWCOcxNsRcEHX\",stale=\"false\",qop=\"auth\"",
        );
        assert_eq!(p.len(), 4);
        assert_eq!(p[1].1, "bQali2IAAAAAAAAAn0xaWCOcxNsRcEHX");
        assert_eq!(p[3], ("qop".into(), "auth".into()));
    }
}
