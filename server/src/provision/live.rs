//! The live steps of an apply run: the registry, the profile, the device (as an administrator),
//! Active Directory. Each step is safe to repeat; each says in a sentence what it did or why it
//! failed, and whether it changed something. Secrets (the stored Digest password, the device
//! object's new password and the key derived from it) stay in this value's memory only.
//!
//! Who acts: the device is reached with its stored Digest admin account when there is one (a
//! fresh device has nothing else), else with the acting administrator's own Kerberos identity
//! (their TGT, or constrained delegation). The proof is a Kerberos call as the acting user
//! (through `device_access`, after the kept clients for the device are dropped and the portal's
//! cached delegation tickets forgotten, so no ticket issued under the old key is reused); a
//! key rotation (no user) proves with the portal's own account.

use std::sync::Arc;

use amt::client::{Client, ClientError};
use amt::fault::FaultSubcode;
use shared::profiles::Profile;
use shared::provision::StepKind;

use super::deps;
use super::engine::{BoxFuture, StepOps, StepResult};
use crate::AppState;
use crate::ad::DeviceObject;
use crate::auth::SessionUser;
use crate::registry::Device;

/// One run's live steps and what they keep for the next ones.
pub struct LiveSteps {
    state: AppState,
    run_id: i64,
    device_id: i64,
    /// The acting user; `None` for a scheduled key rotation.
    actor: Option<SessionUser>,
    device: Option<Device>,
    profile: Option<Profile>,
    admin: Option<Arc<Client>>,
    aes: bool,
    amt_version: Option<String>,
    object: Option<DeviceObject>,
}

impl LiveSteps {
    /// The steps of run `run_id` on device `device_id`, acting as `actor`.
    pub fn new(state: AppState, run_id: i64, device_id: i64, actor: Option<SessionUser>) -> Self {
        LiveSteps {
            state,
            run_id,
            device_id,
            actor,
            device: None,
            profile: None,
            admin: None,
            aes: true,
            amt_version: None,
            object: None,
        }
    }

    fn fqdn(&self) -> String {
        self.device
            .as_ref()
            .map_or_else(|| format!("device {}", self.device_id), |d| d.fqdn.clone())
    }

    async fn check_profile(&mut self) -> StepResult {
        let device = match crate::registry::get(&self.state.pool, self.device_id).await {
            Ok(Some(d)) => d,
            Ok(None) => {
                return StepResult::failed(
                    false,
                    format!("there is no device number {} in the registry", self.device_id),
                );
            }
            Err(e) => return StepResult::failed(false, format!("the device registry could not be read: {e}")),
        };
        self.device = Some(device.clone());
        let profile = match deps::profile_for_device(&self.state, device.id).await {
            Ok(Some(p)) => p,
            Ok(None) => {
                return StepResult::failed(
                    false,
                    format!(
                        "{} has no provisioning profile: assign one on the device page or the profile's page, then retry",
                        device.fqdn
                    ),
                );
            }
            Err(e) => return StepResult::failed(false, e),
        };
        let problems = deps::profile_problems(&profile);
        if !problems.is_empty() {
            return StepResult::failed(
                false,
                format!(
                    "the profile \"{}\" cannot be applied as it is: {}",
                    profile.name,
                    problems.join("; ")
                ),
            );
        }
        if let Err(e) = super::record::set_profile(&self.state.pool, self.run_id, profile.id, &profile.name).await {
            tracing::warn!(error = %e, "run's profile not recorded");
        }
        let msg = format!(
            "{} is registered; its profile \"{}\" has {} access-list {} and puts its AD object in {}.",
            device.fqdn,
            profile.name,
            profile.acl.len(),
            if profile.acl.len() == 1 { "entry" } else { "entries" },
            profile.device_ou
        );
        self.profile = Some(profile);
        StepResult::done(false, msg)
    }

    async fn reach(&mut self) -> StepResult {
        let Some(device) = self.device.clone() else {
            return StepResult::failed(false, "the device is not known (the check before did not run)");
        };
        let (client, how) = match self.state.stored_admin_client(&device).await {
            Ok(Some((client, user))) => (Arc::new(client), format!("its stored Digest admin account {user}")),
            Ok(None) => match &self.actor {
                Some(user) => match self.state.token_source(user) {
                    Ok(source) => {
                        let how = format!("{} ({})", user.principal, source.describe());
                        (self.state.client_for(&device, source), how)
                    }
                    Err(r) => {
                        return StepResult::failed(
                            false,
                            format!(
                                "no Digest admin account is stored for {} and {}",
                                device.fqdn, r.message
                            ),
                        );
                    }
                },
                None => {
                    return StepResult::failed(
                        false,
                        format!(
                            "no Digest admin account is stored for {} and a scheduled run has no user to act as: store the account (admin mode) or apply the profile by hand",
                            device.fqdn
                        ),
                    );
                }
            },
            Err(e) => return StepResult::failed(false, e),
        };
        match client.amt_version().await {
            Ok(version) => {
                let major = version
                    .as_deref()
                    .and_then(|v| v.split('.').next())
                    .and_then(|m| m.parse::<u32>().ok());
                // AMT 8 and later take the AES passphrase fields; older firmware the RC4 master key.
                self.aes = major.is_none_or(|m| m >= 8);
                self.amt_version = version.clone();
                self.admin = Some(client);
                StepResult::done(
                    false,
                    format!(
                        "{} answered {how} (AMT {}; its key will be {}).",
                        device.fqdn,
                        version.as_deref().unwrap_or("version unknown"),
                        if self.aes {
                            "AES from a passphrase"
                        } else {
                            "an RC4 master key"
                        }
                    ),
                )
            }
            Err(e) => StepResult::failed(
                false,
                format!("{} could not be reached with {how}: {}", device.fqdn, device_error(&e)),
            ),
        }
    }

    async fn ad_object(&mut self) -> StepResult {
        let (Some(device), Some(profile)) = (&self.device, &self.profile) else {
            return StepResult::failed(false, "the device or its profile is not known");
        };
        match deps::ensure_device_object(&self.state, &device.fqdn, &profile.device_ou, self.aes).await {
            Ok(o) => {
                let msg = format!(
                    "{} {} with its SPNs HTTP/{}:16992 to :16995 and a fresh random password (key version {}).",
                    if o.created { "Created" } else { "Updated" },
                    o.dn,
                    device.fqdn,
                    o.key_version
                );
                self.object = Some(o);
                StepResult::done(true, msg)
            }
            Err(e) => StepResult::failed(false, e),
        }
    }

    async fn check_dcs(&mut self) -> StepResult {
        let Some(o) = &self.object else {
            return StepResult::failed(false, "the computer object is not known");
        };
        match deps::check_on_every_dc(&self.state, o).await {
            Ok(m) => StepResult::done(false, m),
            Err(e) => StepResult::failed(false, e),
        }
    }

    async fn kerberos(&mut self) -> StepResult {
        let (Some(client), Some(o), Some(p)) = (&self.admin, &self.object, &self.profile) else {
            return StepResult::failed(false, "the device or its new AD password is not known");
        };
        match deps::write_kerberos(client, o, p.clock_tolerance_minutes, self.amt_version.as_deref()).await {
            Ok(m) => StepResult::done(true, m),
            Err(e) => StepResult::failed(false, e),
        }
    }

    async fn acl(&mut self) -> StepResult {
        let (Some(client), Some(p)) = (&self.admin, &self.profile) else {
            return StepResult::failed(false, "the device or its profile is not known");
        };
        match deps::write_acl(client, &p.acl).await {
            Ok((m, changed)) => StepResult::done(changed, m),
            Err((m, changed)) => StepResult::failed(changed, m),
        }
    }

    async fn redirection(&mut self) -> StepResult {
        let (Some(client), Some(p)) = (&self.admin, &self.profile) else {
            return StepResult::failed(false, "the device or its profile is not known");
        };
        match deps::write_redirection(client, p.redirection, p.consent).await {
            Ok(m) => StepResult::done(true, m),
            Err(e) => StepResult::failed(false, e),
        }
    }

    async fn clock(&mut self) -> StepResult {
        let Some(client) = &self.admin else {
            return StepResult::failed(false, "the device is not reached");
        };
        match crate::device_page::set_clock(client).await {
            Ok(offset) => StepResult::done(
                true,
                format!(
                    "Clock set to the portal's (it was {}).",
                    shared::details::describe_offset(offset)
                ),
            ),
            Err(e) => StepResult::failed(false, format!("the clock could not be set: {}", device_error(&e))),
        }
    }

    async fn prove(&mut self) -> StepResult {
        let Some(device) = self.device.clone() else {
            return StepResult::failed(false, "the device is not known");
        };
        // Nothing made before the new key may stand for it: kept connections, cached tickets.
        self.admin = None;
        let dropped = self.state.device_clients.forget_device(device.id);
        if let Some(svc) = &self.state.service_identity {
            svc.forget();
        }
        let (client, who) = match &self.actor {
            Some(user) => match self.state.token_source(user) {
                Ok(source) => (self.state.client_for(&device, source), user.principal.clone()),
                Err(r) => return StepResult::failed(false, r.message),
            },
            None => match &self.state.service_identity {
                Some(svc) => {
                    let mut cfg =
                        amt::client::ClientConfig::new(&device.address, crate::device_access::portal_auth(svc.clone()));
                    cfg.port = device.wsman_port as u16;
                    cfg.fqdn = Some(device.fqdn.clone());
                    cfg.timeout = self.state.config.device_timeout;
                    (Arc::new(Client::new(cfg)), self.state.config.service_principal.clone())
                }
                None => {
                    return StepResult::failed(
                        false,
                        "the portal has no Kerberos identity of its own to prove the key with",
                    );
                }
            },
        };
        let result = client.amt_version().await;
        // The proof's client must not outlive it either (it holds a connection authenticated now).
        self.state.device_clients.forget_device(device.id);
        tracing::debug!(dropped, "kept device clients dropped after reprovisioning");
        match result {
            Ok(_) => StepResult::done(
                false,
                format!(
                    "{} accepted a Kerberos ticket of {who} and answered: the new key and access list work.",
                    device.fqdn
                ),
            ),
            Err(ClientError::Fault(f)) if f.subcode == Some(FaultSubcode::AccessDenied) => StepResult::done(
                false,
                format!(
                    "{} accepted the Kerberos ticket of {who} (the new key works), but {who}'s groups have no General Info realm there: check the profile's entries if they should.",
                    device.fqdn
                ),
            ),
            Err(ClientError::Unauthorized { .. }) => StepResult::failed(
                false,
                format!(
                    "{} refused the Kerberos ticket of {who}: the key written may not match the AD object's password, the clocks differ, or {who} is in none of its entries. If {who} signed in before the key changed, sign out and in again (your cached ticket predates the new key), then retry.",
                    device.fqdn
                ),
            ),
            Err(e) => StepResult::failed(
                false,
                format!("the Kerberos call as {who} failed: {}", device_error(&e)),
            ),
        }
    }
}

/// A device error in words (no secrets in `ClientError`'s text).
fn device_error(e: &ClientError) -> String {
    match e {
        ClientError::Unauthorized { .. } => "the device refused the credentials".into(),
        ClientError::ConnectRefused(port) => {
            format!("the connection to port {port} was refused (AMT off or a firewall)")
        }
        ClientError::Timeout(t) => format!("no answer within {} seconds", t.as_secs()),
        other => other.to_string(),
    }
}

impl StepOps for LiveSteps {
    fn run(&mut self, step: StepKind) -> BoxFuture<'_, StepResult> {
        Box::pin(async move {
            let r = match step {
                StepKind::CheckProfile => self.check_profile().await,
                StepKind::ReachDevice => self.reach().await,
                StepKind::AdObject => self.ad_object().await,
                StepKind::AdCheckDcs => self.check_dcs().await,
                StepKind::KerberosSettings => self.kerberos().await,
                StepKind::AclEntries => self.acl().await,
                StepKind::Redirection => self.redirection().await,
                StepKind::Clock => self.clock().await,
                StepKind::Prove => self.prove().await,
            };
            tracing::debug!(device = %self.fqdn(), step = step.id(), ok = r.ok, "step ended");
            r
        })
    }
}
