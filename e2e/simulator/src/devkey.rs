//! Keys written over WS-Man: a device given a key by `Put AMT_KerberosSettingData`
//! (`MasterKey`, or `Passphrase` + `Salt` + `IterationCount`, reference §2.8, §3) accepts
//! tickets encrypted with THAT key, and no longer with the fleet's shared keytab.
//!
//! The keys are derived as firmware does (RC4 from the master key; AES128/AES256 by the
//! RFC 3962 string-to-key of passphrase + salt + iterations, in libkrb5) and kept in an
//! in-process MIT `MEMORY:` keytab for `HTTP/<fqdn>:16992..16995@<realm>` with the written
//! KeyVersion, open for as long as the device holds the key. Nothing goes to disk or logs.

use std::sync::Arc;

use kerberos::keys::{Enctype, MemoryKeytab};

use crate::auth::{KeytabVerifier, SharedVerifier, TicketVerifier, VerifiedTicket};

/// The ports whose SPNs share the device's key.
const PORTS: [u16; 4] = [16992, 16993, 16994, 16995];

/// Key fields of a Put, as written.
pub enum WrittenKey<'a> {
    /// `MasterKey`, decoded (16 bytes).
    MasterKey(&'a [u8]),
    /// `Passphrase`, `Salt`, `IterationCount`.
    Passphrase {
        /// The passphrase.
        passphrase: &'a str,
        /// The salt.
        salt: &'a str,
        /// The iteration count.
        iterations: u32,
    },
}

/// A verifier over the device's own memory keytab (the keytab outlives the acceptor).
struct OwnKeyVerifier {
    verifier: KeytabVerifier,
    _keytab: MemoryKeytab,
}

impl TicketVerifier for OwnKeyVerifier {
    fn verify(&self, token: &[u8]) -> Result<VerifiedTicket, String> {
        self.verifier.verify(token)
    }
}

/// The key a device was given, ready to verify tickets.
pub struct DeviceKey {
    verifier: SharedVerifier,
    /// What was written, without secrets (for the control view and logs).
    pub summary: String,
}

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceKey").field("summary", &self.summary).finish()
    }
}

impl DeviceKey {
    /// Derives the keys for `fqdn` in `realm` with `kvno`; `configured` are the
    /// ConfiguredEncryptionAlgorithms (0 RC4, 1 AES128, 2 AES256). A master key serves RC4 only.
    pub fn derive(
        fqdn: &str,
        realm: &str,
        kvno: u32,
        key: &WrittenKey<'_>,
        configured: &[u16],
    ) -> Result<DeviceKey, String> {
        let realm = realm.trim().to_uppercase();
        let mut keytab = MemoryKeytab::new("amt-sim-device").map_err(|e| e.to_string())?;
        let principals: Vec<String> = PORTS.iter().map(|p| format!("HTTP/{fqdn}:{p}@{realm}")).collect();
        let mut kinds = Vec::new();
        match key {
            WrittenKey::MasterKey(k) => {
                for p in &principals {
                    keytab
                        .add_key(p, kvno, Enctype::Rc4Hmac, k)
                        .map_err(|e| e.to_string())?;
                }
                kinds.push("RC4 master key");
            }
            WrittenKey::Passphrase {
                passphrase,
                salt,
                iterations,
            } => {
                let wanted: &[u16] = if configured.is_empty() { &[1, 2] } else { configured };
                for (n, enctype, name) in [
                    (0u16, Enctype::Rc4Hmac, "RC4"),
                    (1, Enctype::Aes128, "AES128"),
                    (2, Enctype::Aes256, "AES256"),
                ] {
                    if !wanted.contains(&n) {
                        continue;
                    }
                    for p in &principals {
                        keytab
                            .add_password_key(p, kvno, enctype, passphrase, salt, Some(*iterations))
                            .map_err(|e| e.to_string())?;
                    }
                    kinds.push(name);
                }
            }
        }
        let acceptor = kerberos::Acceptor::from_keytab_name(keytab.name(), None).map_err(|e| e.to_string())?;
        let summary = match key {
            WrittenKey::MasterKey(_) => format!("{} (KeyVersion {kvno})", kinds.join(", ")),
            WrittenKey::Passphrase { salt, iterations, .. } => format!(
                "{} from the passphrase (salt {salt}, {iterations} iterations, KeyVersion {kvno})",
                kinds.join(", ")
            ),
        };
        Ok(DeviceKey {
            verifier: Arc::new(OwnKeyVerifier {
                verifier: KeytabVerifier(acceptor),
                _keytab: keytab,
            }),
            summary,
        })
    }

    /// The verifier for tickets to this device.
    pub fn verifier(&self) -> SharedVerifier {
        self.verifier.clone()
    }
}
