//! Acting on a device as the signed-in user.
//!
//! For every call the portal presents a Kerberos ticket *of the user* for the device's SPN
//! `HTTP/<fqdn>:<port>`: from the TGT the browser forwarded (or the password sign-in produced),
//! else by constrained delegation (S4U2Self + S4U2Proxy) through the portal's service account.
//! There is no fallback to a shared account: when neither works, the user is told why. Service
//! tickets are cached by GSSAPI inside the user's in-memory credential, so the KDC is asked once
//! per user, device and ticket lifetime, not per click.
//!
//! The device's answer is then explained in plain words: a 401 means the device did not accept
//! the ticket (too large for old firmware, clock skew, Kerberos not set up on it); an AccessDenied
//! fault means none of the user's ACL entries grants the realm the action needs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use amt::client::{Auth, Client, ClientConfig, ClientError, NegotiateTokens};
use amt::fault::FaultSubcode;
use kerberos::Cred;
use shared::{BulkReport, BulkResult, DeviceOutcome, DeviceRow, MAX_BULK, PowerAction, PowerView};

use crate::AppState;
use crate::auth::SessionUser;
use crate::device_clients::{DeviceKey, Owner};
use crate::registry::Device;

/// Where the user's tickets come from.
#[derive(Clone)]
pub(crate) enum TokenSource {
    /// The user's own TGT (forwarded by the browser, or from the password sign-in), with its
    /// handle in the credential store and when it expires.
    Own {
        cred: Cred,
        handle: String,
        expires: Instant,
    },
    /// Constrained delegation through the portal's service identity.
    S4u(Arc<kerberos::ServiceIdentity>, String),
    /// The portal's own account: background reads only (the fleet checks), never a user's action.
    Portal(Arc<kerberos::ServiceIdentity>),
}

impl TokenSource {
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            TokenSource::Own { .. } => "your own Kerberos ticket",
            TokenSource::S4u(..) => "constrained delegation (S4U2Proxy) on your behalf",
            TokenSource::Portal(_) => "the portal's own account (read-only checks)",
        }
    }
}

struct UserTokens(TokenSource);

impl NegotiateTokens for UserTokens {
    fn token(&self, spn: &str) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
        let get = || match &self.0 {
            TokenSource::Own { cred, .. } => kerberos::token_for(cred, spn, false),
            TokenSource::S4u(svc, user) => svc.token_as(user, spn),
            TokenSource::Portal(svc) => svc.own_token(spn),
        };
        // GSSAPI blocks (it may ask the KDC); keep the async workers free.
        let result = match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(get),
            _ => get(),
        };
        result.map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
    }
}

/// How the fleet checks authenticate: Kerberos as the portal's own account.
pub fn portal_auth(svc: Arc<kerberos::ServiceIdentity>) -> Auth {
    Auth::Negotiate(Arc::new(UserTokens(TokenSource::Portal(svc))))
}

/// Why a device call did not happen or did not succeed, in words for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Stable code.
    pub code: &'static str,
    /// The explanation.
    pub message: String,
}

impl<T> From<Refusal> for DeviceOutcome<T> {
    fn from(r: Refusal) -> Self {
        DeviceOutcome::Refused {
            code: r.code.to_string(),
            message: r.message,
        }
    }
}

impl AppState {
    /// Where `user`'s tickets come from: their own TGT if held, else constrained delegation.
    pub(crate) fn token_source(&self, user: &SessionUser) -> Result<TokenSource, Refusal> {
        if let Some(handle) = user.cred_handle.as_deref()
            && let Some((d, left)) = self.creds.get(handle)
        {
            return Ok(TokenSource::Own {
                cred: d.cred,
                handle: handle.to_string(),
                expires: Instant::now() + left,
            });
        }
        if let Some(svc) = &self.service_identity {
            return Ok(TokenSource::S4u(svc.clone(), user.principal.clone()));
        }
        Err(Refusal {
            code: "no_credential",
            message: format!(
                "The portal holds no Kerberos credential for you, so it cannot act as you: {} \
                 Sign in again with the password form, or ask an administrator to allow your browser to delegate to this site.",
                user.no_delegation_reason
                    .clone()
                    .unwrap_or_else(|| "your delegated ticket has expired.".into())
            ),
        })
    }

    /// The user's kept client for `device` (see [`crate::device_clients`]), or a new one.
    pub(crate) fn client_for(&self, device: &Device, source: TokenSource) -> Arc<Client> {
        let (owner, expires) = match &source {
            TokenSource::Own { handle, expires, .. } => (Owner::Credential(handle.clone()), Some(*expires)),
            TokenSource::S4u(_, user) => (Owner::Delegation(user.clone()), None),
            // The fleet checks make their own clients (`fleet::poll`); this is for completeness.
            TokenSource::Portal(_) => (Owner::Delegation("<the portal itself>".into()), None),
        };
        self.device_clients.client(owner, expires, DeviceKey::from(device), || {
            let mut cfg = ClientConfig::new(&device.address, Auth::Negotiate(Arc::new(UserTokens(source))));
            cfg.port = device.wsman_port as u16;
            cfg.fqdn = Some(device.fqdn.clone());
            cfg.timeout = self.config.device_timeout;
            Client::new(cfg)
        })
    }

    /// Says exactly why the domain refused constrained delegation for `user` towards `spn`.
    pub(crate) async fn why_no_delegation(&self, user: &SessionUser, spn: &str) -> Refusal {
        const PROTECTED_USERS_RID: &str = "-525";
        const NOT_DELEGATED: u32 = 0x0010_0000;
        let message = if user
            .group_sids
            .iter()
            .any(|g| g.starts_with("S-1-5-21-") && g.ends_with(PROTECTED_USERS_RID))
        {
            "your account is in the Protected Users group, whose members can never be delegated. \
             Sign in with the password form (the portal then holds your own ticket), or use an account outside Protected Users for AMT work."
                .to_string()
        } else {
            let uac = match (&self.directory, &user.sid) {
                (Some(dir), Some(sid)) => dir.user_account_control(sid).await.ok().flatten(),
                _ => None,
            };
            match uac {
                Some(flags) if flags & NOT_DELEGATED != 0 => "your account is marked \"sensitive and cannot be delegated\" in Active Directory. \
                     Sign in with the password form (the portal then holds your own ticket), or ask an administrator whether the flag is needed."
                    .to_string(),
                Some(_) => format!(
                    "the portal's service account ({}) is not trusted to delegate to {spn}. An Active Directory administrator must add {spn} \
                     to its msDS-AllowedToDelegateTo (Delegation tab: \"Trust this user for delegation to specified services only\", any protocol).",
                    self.config.service_principal
                ),
                None => format!(
                    "either your account cannot be delegated (sensitive, or in Protected Users) or the portal's service account is not trusted to delegate to {spn}; \
                     the directory could not be asked which."
                ),
            }
        };
        Refusal {
            code: "delegation_refused",
            message: format!(
                "Your browser delegated no ticket and the domain refused to let the portal act as you: {message}"
            ),
        }
    }

    /// Explains a failed action (see [`AppState::explain`]) and writes it to the portal's audit
    /// log as refused, under `what`: one place for every action's refusal.
    pub(crate) async fn refuse_audited(
        &self,
        device: &Device,
        user: &SessionUser,
        e: ClientError,
        realm: &str,
        what: &str,
    ) -> Refusal {
        let r = self.explain(device, user, e, realm).await;
        crate::audit::record(
            &self.pool,
            Some(&user.principal),
            what,
            Some(&device.fqdn),
            "refused",
            Some(&r.message),
        )
        .await;
        r
    }

    /// When the device's Kerberos key was last written by a provisioning run, if that was after
    /// `since` (RFC 3339 UTC): a held credential may then still carry a service ticket for the
    /// device under its old key.
    async fn rekeyed_since(&self, device_id: i64, since: &str) -> Option<String> {
        sqlx::query_scalar(
            "SELECT s.finished_at FROM provision_steps s JOIN provision_runs r ON r.id = s.run_id \
             WHERE r.device_id = ? AND s.step = 'kerberos_settings' AND s.outcome = 'done' AND s.finished_at >= ? \
             ORDER BY s.finished_at DESC LIMIT 1",
        )
        .bind(device_id)
        .bind(since)
        .fetch_optional(&self.pool)
        .await
        .ok()
        .flatten()
    }

    /// Explains a device error for the user; `realm` is what the action needed.
    pub(crate) async fn explain(&self, device: &Device, user: &SessionUser, e: ClientError, realm: &str) -> Refusal {
        let name = &device.fqdn;
        match e {
            ClientError::Negotiate { spn, source }
                if matches!(
                    source.downcast_ref::<kerberos::Error>(),
                    Some(kerberos::Error::DelegationRefused { .. })
                ) =>
            {
                self.why_no_delegation(user, &spn).await
            }
            ClientError::Fault(f) if f.subcode == Some(FaultSubcode::AccessDenied) => Refusal {
                code: "access_denied",
                message: format!("{name} refused: none of your groups has the {realm} realm on this device."),
            },
            ClientError::Unauthorized { .. } => {
                if let Some(at) = self.rekeyed_since(device.id, &user.signed_in_at).await {
                    return Refusal {
                        code: "device_rekeyed",
                        message: format!(
                            "{name} got a new Kerberos key at {} (it was reprovisioned), after you signed in: your portal session still \
                             holds a ticket for it under the old key, which the device can no longer read. Sign out and sign in again, then retry.",
                            shared::human_time(&at)
                        ),
                    };
                }
                let size = user.ticket_bytes.map(kerberos::token::base64_len).unwrap_or(0);
                let hint = if size > shared::AMT_OLD_FIRMWARE_TOKEN_LIMIT {
                    format!(
                        " Your Kerberos ticket is {} bytes as base64 and old AMT firmware (versions 2 to 5) accepts at most {}: membership in fewer groups makes it smaller.",
                        size,
                        shared::AMT_OLD_FIRMWARE_TOKEN_LIMIT
                    )
                } else {
                    String::new()
                };
                Refusal {
                    code: "device_refused_ticket",
                    message: format!(
                        "{name} did not let you in.{hint} Most often neither your account nor any of your groups is in the device's access list: ask an AMT administrator which groups it grants. \
                         Other causes: the device's clock is more than its tolerance away from the domain's, or Kerberos is not set up on it (reprovision it)."
                    ),
                }
            }
            ClientError::Negotiate { source, .. } => Refusal {
                code: "no_ticket",
                message: format!("The portal could not get a Kerberos ticket for {name} as you: {source}"),
            },
            ClientError::ConnectRefused(port) => Refusal {
                code: "unreachable",
                message: format!(
                    "{name} refused the connection on port {port}: AMT is off, not provisioned, or a firewall blocks it."
                ),
            },
            ClientError::Timeout(t) => Refusal {
                code: "timeout",
                message: format!("{name} did not answer within {} seconds.", t.as_secs()),
            },
            other => Refusal {
                code: "device_error",
                message: format!("{name}: {other}"),
            },
        }
    }

    pub(crate) async fn device_and_user(&self, user: &SessionUser, id: i64) -> Result<(Device, TokenSource), Refusal> {
        let device = crate::registry::get(&self.pool, id)
            .await
            .map_err(|e| Refusal {
                code: "database",
                message: format!("the device registry could not be read: {e}"),
            })?
            .ok_or(Refusal {
                code: "unknown_device",
                message: format!("there is no device number {id} in the registry"),
            })?;
        let source = self.token_source(user)?;
        Ok((device, source))
    }

    /// For the serial console: the registered device, the user's Kerberos tokens (own TGT or
    /// S4U2Proxy, never a shared account), how they were obtained, and when the held credential
    /// runs out (`None` for delegation through the portal's identity).
    pub(crate) async fn console_access(
        &self,
        user: &SessionUser,
        id: i64,
    ) -> Result<(Device, Arc<dyn NegotiateTokens>, &'static str, Option<Duration>), Refusal> {
        let (device, source) = self.device_and_user(user, id).await?;
        let left = match &source {
            TokenSource::Own { expires, .. } => Some(expires.saturating_duration_since(Instant::now())),
            TokenSource::S4u(..) | TokenSource::Portal(_) => None,
        };
        let describe = source.describe();
        Ok((device, Arc::new(UserTokens(source)), describe, left))
    }

    /// Reads the power state and the boot capabilities (both need Remote Control) as the power
    /// view: the actions offered are those whose power state the device allows now and, for
    /// boot actions, whose boot option it supports.
    pub(crate) async fn read_power(
        &self,
        device: &Device,
        client: &Client,
        acting_as: &str,
    ) -> Result<PowerView, ClientError> {
        let (p, caps) = tokio::join!(
            client.power_state(),
            client.get::<amt::models::boot::BootCapabilities>()
        );
        let p = p?;
        // Firmware without boot capabilities offers no boot actions; plain power actions remain.
        let caps = caps.unwrap_or_default();
        let state = p.power_state.unwrap_or(amt::models::power::PowerState::from_value(0));
        let available = PowerAction::ALL
            .into_iter()
            .filter(|a| {
                p.available_requested_power_states
                    .iter()
                    .any(|s| s.value() == a.power_state())
            })
            .filter(|a| match a.boot_target() {
                None => true,
                Some(shared::BootTarget::BiosSetup) => caps.bios_setup == Some(true),
                Some(shared::BootTarget::Pxe) => caps.force_pxe_boot == Some(true),
            })
            .collect();
        Ok(PowerView {
            device: DeviceRow::from(device),
            state: state.name().to_string(),
            on: state.is_on().unwrap_or(false),
            available,
            acting_as: acting_as.to_string(),
        })
    }

    /// Reads a device's power state as `user`.
    pub async fn power_view(&self, user: &SessionUser, id: i64) -> DeviceOutcome<PowerView> {
        let (device, source) = match self.device_and_user(user, id).await {
            Ok(x) => x,
            Err(r) => return r.into(),
        };
        let acting_as = source.describe().to_string();
        let client = self.client_for(&device, source);
        match self.read_power(&device, &client, &acting_as).await {
            Ok(v) => DeviceOutcome::Ok(v),
            // Reading the power service needs the Remote Control realm, like changing it.
            Err(e) => self.explain(&device, user, e, "Remote Control").await.into(),
        }
    }

    /// Runs a power action as `user`, audited.
    pub async fn power_action(&self, user: &SessionUser, id: i64, action: PowerAction) -> DeviceOutcome<String> {
        let (device, source) = match self.device_and_user(user, id).await {
            Ok(x) => x,
            Err(r) => return r.into(),
        };
        let client = self.client_for(&device, source);
        let state = amt::models::power::PowerState::from_value(action.power_state());
        let what = format!("power: {}", action.label());
        // Boot actions first set the boot options (same realm), then change the power state.
        let result = match action.boot_target() {
            Some(target) => crate::device_page::set_boot_target(&client, target).await,
            None => Ok(()),
        };
        let result = match result {
            Ok(()) => client.request_power_state_change(state).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => {
                crate::audit::record(&self.pool, Some(&user.principal), &what, Some(&device.fqdn), "ok", None).await;
                tracing::info!(user.principal = %user.principal, device.fqdn = %device.fqdn, action = action.id(), "power action done");
                DeviceOutcome::Ok(format!("{}: {} done.", device.fqdn, action.label()))
            }
            Err(e) => self
                .refuse_audited(&device, user, e, "Remote Control", &what)
                .await
                .into(),
        }
    }
}

/// Power actions on many devices at once run this many at a time.
const BULK_CONCURRENCY: usize = 16;

impl AppState {
    /// Runs `action` on every device in `ids` as `user`, a few at a time; one result per device
    /// (each audited like a single action). A device that hangs costs its own timeout only.
    pub async fn bulk_power(
        &self,
        user: &SessionUser,
        ids: Vec<i64>,
        action: PowerAction,
    ) -> Result<BulkReport, String> {
        let mut seen = std::collections::HashSet::new();
        let ids: Vec<i64> = ids.into_iter().filter(|id| seen.insert(*id)).collect();
        if ids.is_empty() {
            return Err("select at least one device".into());
        }
        if ids.len() > MAX_BULK {
            return Err(format!(
                "{} devices selected: one bulk action takes at most {MAX_BULK}; narrow the selection (search or filter) and repeat",
                ids.len()
            ));
        }
        let permits = Arc::new(tokio::sync::Semaphore::new(BULK_CONCURRENCY));
        let mut tasks = tokio::task::JoinSet::new();
        for (i, id) in ids.iter().copied().enumerate() {
            let (state, user, permits) = (self.clone(), user.clone(), permits.clone());
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                let outcome = state.power_action(&user, id, action).await;
                (i, id, outcome)
            });
        }
        let mut results: Vec<Option<BulkResult>> = vec![None; ids.len()];
        let names: std::collections::HashMap<i64, String> = self
            .fleet
            .devices(&self.pool)
            .await
            .map(|all| all.iter().map(|d| (d.id, d.fqdn.clone())).collect())
            .unwrap_or_default();
        while let Some(done) = tasks.join_next().await {
            if let Ok((i, id, outcome)) = done {
                results[i] = Some(BulkResult {
                    id,
                    fqdn: names.get(&id).cloned().unwrap_or_else(|| format!("device {id}")),
                    outcome,
                });
            }
        }
        let results = results
            .into_iter()
            .zip(&ids)
            .map(|(r, id)| {
                r.unwrap_or_else(|| BulkResult {
                    id: *id,
                    fqdn: names.get(id).cloned().unwrap_or_else(|| format!("device {id}")),
                    outcome: DeviceOutcome::Refused {
                        code: "internal".into(),
                        message: "the action stopped unexpectedly; check the device and the portal's log".into(),
                    },
                })
            })
            .collect();
        // Show the new power states on the list soon, without waiting for the next scheduled check.
        self.recheck(ids);
        Ok(BulkReport { action, results })
    }
}
