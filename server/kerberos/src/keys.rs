//! Service keys held in memory: derived from a password (RFC 3961/3962 string-to-key, as
//! AMT does from the Passphrase/Salt/IterationCount written to it) or given raw (an RC4
//! master key), kept in an MIT `MEMORY:` keytab that an [`crate::Acceptor`] accepts with
//! ([`crate::Acceptor::from_keytab_name`]). Nothing is written to disk; the keytab lives as
//! long as its [`MemoryKeytab`].

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{self, Error};
use crate::ffi;

/// Kerberos encryption types (RFC 3961 numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enctype {
    /// RC4-HMAC (23): the key is MD4 of the UTF-16LE password (RFC 4757).
    Rc4Hmac,
    /// AES128-CTS-HMAC-SHA1-96 (17).
    Aes128,
    /// AES256-CTS-HMAC-SHA1-96 (18).
    Aes256,
}

impl Enctype {
    /// The RFC 3961 number.
    pub fn number(self) -> i32 {
        match self {
            Enctype::Rc4Hmac => 23,
            Enctype::Aes128 => 17,
            Enctype::Aes256 => 18,
        }
    }
}

/// An in-process MIT `MEMORY:` keytab with a unique name.
pub struct MemoryKeytab(ffi::MemoryKeytab);

impl std::fmt::Debug for MemoryKeytab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("MemoryKeytab").field(&self.0.name()).finish()
    }
}

fn keytab_error(detail: String) -> Error {
    Error::Keytab {
        detail: error::sanitize(&detail),
    }
}

impl MemoryKeytab {
    /// A new, empty memory keytab named after `tag` (made unique in this process).
    pub fn new(tag: &str) -> Result<MemoryKeytab, Error> {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        ffi::MemoryKeytab::open(&format!("{tag}-{}-{n}", std::process::id()))
            .map(MemoryKeytab)
            .map_err(keytab_error)
    }

    /// The keytab name for GSSAPI (`MEMORY:…`).
    pub fn name(&self) -> &str {
        self.0.name()
    }

    /// Adds a raw key (e.g. a 16-byte RC4 master key) for `principal` (`HTTP/host:16992@REALM`).
    pub fn add_key(&mut self, principal: &str, kvno: u32, enctype: Enctype, key: &[u8]) -> Result<(), Error> {
        self.0
            .add_key(principal, kvno, enctype.number(), key)
            .map_err(keytab_error)
    }

    /// Derives the key of `enctype` from `password` and `salt` (AES: RFC 3962 PBKDF2 with
    /// `iterations`, 4096 when `None`) and adds it for `principal`.
    pub fn add_password_key(
        &mut self,
        principal: &str,
        kvno: u32,
        enctype: Enctype,
        password: &str,
        salt: &str,
        iterations: Option<u32>,
    ) -> Result<(), Error> {
        let iterations = match enctype {
            Enctype::Rc4Hmac => None,
            _ => Some(iterations.unwrap_or(4096)),
        };
        self.0
            .add_password_key(
                principal,
                kvno,
                enctype.number(),
                password.as_bytes(),
                salt.as_bytes(),
                iterations,
            )
            .map_err(keytab_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    /// MIT refuses the RFC 3962 vectors' low iteration counts (below 4096), so the AES
    /// expectations come from an independent RFC 3962 implementation (Python: PBKDF2-HMAC-SHA1,
    /// then DK with AES and n-fold("kerberos")), checked against the RFC's 1-iteration vector.
    #[test]
    fn string_to_key_known_answers() {
        let kt = MemoryKeytab::new("test-vectors").expect("keytab");
        let salt = b"EXAMPLE.TESThostamt9.example.test";
        let aes128 = kt.0.string_to_key(17, b"password", salt, Some(4096)).expect("aes128");
        assert_eq!(hex(&aes128), "be3e03df60ac4cb982639c2426aa6597");
        let aes256 = kt.0.string_to_key(18, b"password", salt, Some(4096)).expect("aes256");
        assert_eq!(
            hex(&aes256),
            "a7ef8dd92510aa8b2aed982c7dc6a9497240393d377b2bd41cee8f86aa84cbcd"
        );
        // RC4-HMAC: MD4 of the UTF-16LE password (the NT hash), salt ignored.
        let rc4 = kt.0.string_to_key(23, b"password", b"", None).expect("rc4");
        assert_eq!(hex(&rc4), "8846f7eaee8fb117ad06bdd830b7586c");
        assert!(
            kt.0.string_to_key(17, b"password", salt, Some(1)).is_err(),
            "MIT refuses weak counts"
        );
    }

    #[test]
    fn a_memory_keytab_with_keys_gives_an_acceptor() {
        let mut kt = MemoryKeytab::new("test-acceptor").expect("keytab");
        assert!(kt.name().starts_with("MEMORY:test-acceptor-"));
        let p = "HTTP/amt9.example.test:16992@EXAMPLE.TEST";
        kt.add_password_key(
            p,
            2,
            Enctype::Aes256,
            "pw",
            "EXAMPLE.TESThostamt9.example.test",
            Some(4096),
        )
        .expect("aes key");
        kt.add_key(p, 2, Enctype::Rc4Hmac, &[7u8; 16]).expect("rc4 key");
        crate::Acceptor::from_keytab_name(kt.name(), None).expect("acceptor over the memory keytab");
    }
}
