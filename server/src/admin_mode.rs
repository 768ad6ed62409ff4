//! Digest admin mode: for devices not yet provisioned for Kerberos, a registry administrator may
//! store the device's Digest admin account and then act with it, explicitly and audited.
//!
//! - The password is sealed at rest with AES-256-GCM ([`Sealer`]); the key comes from
//!   `PORTAL_SECRET_KEY_FILE` (64 hex characters, readable by the portal's account only), and the
//!   device's FQDN is the associated data, so a sealed value copied to another device's row does
//!   not open. Without the key, admin mode is unavailable and the UI says why.
//! - Only members of `PORTAL_ADMIN_GROUPS` may store an account or act with it. Every use is in
//!   the portal's audit log with the person's name: the device's own log sees only "admin".
//! - Nothing here is ever a fallback: actions of the device page run as the signed-in user; admin
//!   mode is a separate, labelled action.

use std::sync::Arc;

use amt::client::{Auth, Client, ClientConfig, ClientError};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use shared::{AdminModeView, DeviceOutcome, PowerAction};

use crate::AppState;
use crate::auth::SessionUser;
use crate::registry::Device;

/// Seals and opens secrets with the portal's key.
pub struct Sealer {
    key: LessSafeKey,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(<key>)")
    }
}

impl Sealer {
    /// A sealer from 32 key bytes.
    pub fn new(key: &[u8; 32]) -> Sealer {
        let unbound = UnboundKey::new(&AES_256_GCM, key).unwrap_or_else(|_| unreachable!("AES-256 takes 32-byte keys"));
        Sealer {
            key: LessSafeKey::new(unbound),
        }
    }

    /// A sealer from the text of a key file: 64 hexadecimal characters (whitespace ignored).
    pub fn from_key_text(text: &str) -> Result<Sealer, String> {
        let hex_text: String = text.split_whitespace().collect();
        let bytes = hex::decode(&hex_text)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or(
                "it must hold exactly 64 hexadecimal characters (32 random bytes), e.g. from `openssl rand -hex 32`",
            )?;
        Ok(Sealer::new(&bytes))
    }

    /// `nonce || ciphertext+tag` of `secret`, bound to `context` (the device's FQDN).
    pub fn seal(&self, context: &str, secret: &str) -> Vec<u8> {
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let mut data = secret.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(context.as_bytes()),
                &mut data,
            )
            .unwrap_or_else(|_| unreachable!("sealing only fails for inputs larger than 64 GiB"));
        let mut out = nonce_bytes.to_vec();
        out.extend(data);
        out
    }

    /// The secret sealed by [`Sealer::seal`] for the same `context`.
    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<String, String> {
        let refuse = || {
            "the stored admin password cannot be opened (the secret key changed, or the value was altered): store the account again".to_string()
        };
        if sealed.len() < NONCE_LEN {
            return Err(refuse());
        }
        let (nonce, data) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| refuse())?;
        let mut data = data.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut data)
            .map_err(|_| refuse())?;
        String::from_utf8(plain.to_vec()).map_err(|_| refuse())
    }
}

/// Checks an AMT admin account as typed: AMT user names are at most 16 ASCII characters;
/// passwords 8 to 32 printable ASCII characters (AMT's own limits).
pub fn validate_account(username: &str, password: &str) -> Result<(), String> {
    if username.is_empty() || username.len() > 16 || !username.chars().all(|c| c.is_ascii_graphic()) {
        return Err(
            "the user name must be 1 to 16 ASCII characters without spaces (AMT's admin is usually \"admin\")".into(),
        );
    }
    if !(8..=32).contains(&password.len()) || !password.chars().all(|c| c.is_ascii() && !c.is_ascii_control()) {
        return Err("the password must be 8 to 32 printable ASCII characters, as AMT requires".into());
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Stored {
    username: String,
    sealed: Vec<u8>,
    set_by: String,
    set_at: String,
}

async fn stored(pool: &sqlx::SqlitePool, device_id: i64) -> Result<Option<Stored>, String> {
    sqlx::query_as::<_, Stored>(
        "SELECT username, sealed, set_by, set_at FROM device_admin_credentials WHERE device_id = ?",
    )
    .bind(device_id)
    .fetch_optional(pool)
    .await
    .map_err(|e| format!("the portal's database could not be read: {e}"))
}

/// A client for `device` that signs in with its Digest admin account (admin mode only).
fn digest_client(device: &Device, user: String, password: String, timeout: std::time::Duration) -> Client {
    let mut cfg = ClientConfig::new(&device.address, Auth::Digest { user, password });
    cfg.port = device.wsman_port as u16;
    cfg.fqdn = Some(device.fqdn.clone());
    cfg.timeout = timeout;
    Client::new(cfg)
}

impl AppState {
    /// A client for `device` with its stored Digest admin account (for the provisioning run),
    /// and the account's name; `Ok(None)` when none is stored. The password stays in memory.
    pub(crate) async fn stored_admin_client(&self, device: &Device) -> Result<Option<(Client, String)>, String> {
        let Some(s) = stored(&self.pool, device.id).await? else {
            return Ok(None);
        };
        let password = self.sealer()?.open(&device.fqdn, &s.sealed)?;
        Ok(Some((
            digest_client(device, s.username.clone(), password, self.config.device_timeout),
            s.username,
        )))
    }

    fn sealer(&self) -> Result<Arc<Sealer>, String> {
        self.sealer.clone().ok_or_else(|| {
            "admin mode is off on this portal: it needs a secret key to protect stored passwords (set PORTAL_SECRET_KEY_FILE)".to_string()
        })
    }

    async fn admin_device(&self, user: &SessionUser, id: i64) -> Result<(Device, Arc<Sealer>), String> {
        if !self.is_admin(user).await {
            return Err(self.not_admin());
        }
        let sealer = self.sealer()?;
        let device = crate::registry::get(&self.pool, id)
            .await
            .map_err(|e| format!("the device registry could not be read: {e}"))?
            .ok_or_else(|| format!("there is no device number {id} in the registry"))?;
        Ok((device, sealer))
    }

    /// What the device page shows about admin mode for `user`.
    pub async fn admin_mode_view(&self, user: &SessionUser, id: i64) -> Result<AdminModeView, String> {
        let allowed = self.is_admin(user).await;
        let s = if allowed { stored(&self.pool, id).await? } else { None };
        Ok(AdminModeView {
            allowed,
            unavailable: self.sealer().err(),
            username: s.as_ref().map(|s| s.username.clone()),
            set_by: s.as_ref().map(|s| s.set_by.clone()),
            set_at: s.map(|s| s.set_at),
        })
    }

    /// Stores (or replaces) device `id`'s Digest admin account, sealed; audited.
    pub async fn set_admin_account(
        &self,
        user: &SessionUser,
        id: i64,
        username: &str,
        password: &str,
    ) -> Result<String, String> {
        let (device, sealer) = self.admin_device(user, id).await?;
        validate_account(username, password)?;
        let sealed = sealer.seal(&device.fqdn, password);
        sqlx::query(
            "INSERT INTO device_admin_credentials (device_id, username, sealed, set_by) VALUES (?, ?, ?, ?)
             ON CONFLICT (device_id) DO UPDATE SET username = excluded.username, sealed = excluded.sealed,
               set_by = excluded.set_by, set_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
        )
        .bind(id)
        .bind(username)
        .bind(sealed)
        .bind(&user.principal)
        .execute(&self.pool)
        .await
        .map_err(|e| format!("the account could not be stored: {e}"))?;
        crate::audit::record(
            &self.pool,
            Some(&user.principal),
            "admin mode: store Digest admin account",
            Some(&device.fqdn),
            "ok",
            Some(username),
        )
        .await;
        Ok(format!(
            "The admin account {username} of {} is stored, sealed.",
            device.fqdn
        ))
    }

    /// Forgets device `id`'s stored admin account; audited.
    pub async fn forget_admin_account(&self, user: &SessionUser, id: i64) -> Result<String, String> {
        if !self.is_admin(user).await {
            return Err(self.not_admin());
        }
        let device = crate::registry::get(&self.pool, id)
            .await
            .map_err(|e| format!("the device registry could not be read: {e}"))?
            .ok_or_else(|| format!("there is no device number {id} in the registry"))?;
        sqlx::query("DELETE FROM device_admin_credentials WHERE device_id = ?")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(|e| format!("the account could not be removed: {e}"))?;
        crate::audit::record(
            &self.pool,
            Some(&user.principal),
            "admin mode: forget Digest admin account",
            Some(&device.fqdn),
            "ok",
            None,
        )
        .await;
        Ok(format!("The stored admin account of {} is gone.", device.fqdn))
    }

    /// Runs a power action with device `id`'s stored Digest admin account, for `user` (an
    /// administrator), audited with both names.
    pub async fn admin_power_action(&self, user: &SessionUser, id: i64, action: PowerAction) -> DeviceOutcome<String> {
        let refused = |code: &str, message: String| DeviceOutcome::Refused {
            code: code.to_string(),
            message,
        };
        if action.boot_target().is_some() {
            return refused(
                "not_in_admin_mode",
                format!(
                    "{} is not offered in admin mode: admin mode changes power only, it sets no boot options",
                    action.label()
                ),
            );
        }
        let (device, sealer) = match self.admin_device(user, id).await {
            Ok(x) => x,
            Err(e) => return refused("not_allowed", e),
        };
        let s = match stored(&self.pool, id).await {
            Ok(Some(s)) => s,
            Ok(None) => {
                return refused(
                    "no_admin_account",
                    format!("no admin account is stored for {}: store it first", device.fqdn),
                );
            }
            Err(e) => return refused("database", e),
        };
        let password = match sealer.open(&device.fqdn, &s.sealed) {
            Ok(p) => p,
            Err(e) => return refused("sealed", e),
        };
        let client = digest_client(&device, s.username.clone(), password, self.config.device_timeout);
        let what = format!("admin mode power: {}", action.label());
        let detail = format!("as the device's Digest account {}", s.username);
        let state = amt::models::power::PowerState::from_value(action.power_state());
        let outcome = match client.request_power_state_change(state).await {
            Ok(()) => DeviceOutcome::Ok(format!(
                "{}: {} done with the admin account {} (admin mode, recorded under your name).",
                device.fqdn,
                action.label(),
                s.username
            )),
            Err(ClientError::Unauthorized { .. }) => refused(
                "admin_account_refused",
                format!(
                    "{} refused the stored admin account {}: its password was probably changed; store the current one",
                    device.fqdn, s.username
                ),
            ),
            Err(e) => {
                let (_, message) = crate::fleet::poll::classify(&e);
                refused("device_error", format!("{} {message}", device.fqdn))
            }
        };
        let (result, more) = match &outcome {
            DeviceOutcome::Ok(_) => ("ok", detail),
            DeviceOutcome::Refused { message, .. } => ("refused", format!("{detail}: {message}")),
        };
        crate::audit::record(
            &self.pool,
            Some(&user.principal),
            &what,
            Some(&device.fqdn),
            result,
            Some(&more),
        )
        .await;
        tracing::info!(user.principal = %user.principal, device.fqdn = %device.fqdn, action = action.id(), result, "admin mode power action");
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn sealed_secrets_open_only_with_the_same_key_and_device() {
        let s = Sealer::from_key_text(&format!("{KEY}\n")).unwrap();
        let sealed = s.seal("amt1.example.test", "Adm1n!AMT");
        assert!(!sealed.windows(9).any(|w| w == b"Adm1n!AMT"), "never in clear");
        assert_ne!(
            sealed,
            s.seal("amt1.example.test", "Adm1n!AMT"),
            "a fresh nonce each time"
        );
        assert_eq!(s.open("amt1.example.test", &sealed).unwrap(), "Adm1n!AMT");
        assert!(
            s.open("amt2.example.test", &sealed)
                .unwrap_err()
                .contains("cannot be opened"),
            "bound to its device"
        );
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(s.open("amt1.example.test", &tampered).is_err());
        assert!(s.open("amt1.example.test", &sealed[..5]).is_err());
        let other = Sealer::from_key_text(&KEY.replace('0', "1")).unwrap();
        assert!(
            other.open("amt1.example.test", &sealed).is_err(),
            "another key does not open it"
        );
    }

    #[test]
    fn key_text_and_accounts_are_checked() {
        assert!(Sealer::from_key_text("abc").unwrap_err().contains("64 hexadecimal"));
        assert!(Sealer::from_key_text(&KEY[..62]).is_err());
        assert!(validate_account("admin", "Adm1n!AMT").is_ok());
        assert!(validate_account("", "Adm1n!AMT").unwrap_err().contains("user name"));
        assert!(validate_account("a very long admin name", "Adm1n!AMT").is_err());
        assert!(validate_account("admin", "short").unwrap_err().contains("8 to 32"));
    }

    #[tokio::test]
    async fn the_database_holds_only_the_sealed_password() {
        let dir = std::env::temp_dir().join(format!("admin-mode-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pool = crate::db::open(&dir.join("a.sqlite")).await.unwrap();
        crate::registry::import_csv(&pool, "fqdn\namt1.example.test\n")
            .await
            .unwrap();
        let s = Sealer::from_key_text(KEY).unwrap();
        sqlx::query("INSERT INTO device_admin_credentials (device_id, username, sealed, set_by) VALUES (1, 'admin', ?, 'alice')")
            .bind(s.seal("amt1.example.test", "Adm1n!AMT"))
            .execute(&pool)
            .await
            .unwrap();
        let row = stored(&pool, 1).await.unwrap().unwrap();
        assert_eq!((row.username.as_str(), row.set_by.as_str()), ("admin", "alice"));
        assert_eq!(s.open("amt1.example.test", &row.sealed).unwrap(), "Adm1n!AMT");
        let file = std::fs::read(dir.join("a.sqlite")).unwrap();
        let wal = std::fs::read(dir.join("a.sqlite-wal")).unwrap_or_default();
        for bytes in [file, wal] {
            assert!(
                !bytes.windows(9).any(|w| w == b"Adm1n!AMT"),
                "the password is not on disk in clear"
            );
        }
    }
}
