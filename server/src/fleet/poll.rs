//! Checking devices: one device ([`check`]), and many at once ([`refresh`]) with a bound on
//! the checks in flight, progress counted as they finish, and every device's error kept on its
//! own row: a device that hangs or answers garbage costs one slot for one timeout, never the
//! rest of the fleet.
//!
//! A check reads the power state (`CIM_AssociatedPowerManagementService`), and, the first time
//! or while unknown, the AMT version (`CIM_SoftwareIdentity` InstanceID `AMT`) and the control
//! mode (`IPS_HostBasedSetupService`): one request per device per refresh in the steady state,
//! over one connection.

use std::sync::Arc;
use std::time::Duration;

use amt::client::{Auth, Client, ClientConfig, ClientError};
use amt::fault::FaultSubcode;
use amt::http::HttpError;
use amt::models::Model;
use amt::models::inventory::SoftwareIdentity;
use amt::models::setup::HostBasedSetupService;
use amt::wsman::Request;
use shared::Health;
use tokio::task::JoinSet;

use super::{DeviceStatus, Fleet, RefreshJob, now_rfc3339};
use crate::registry::Device;

/// How a refresh runs.
#[derive(Debug, Clone, Copy)]
pub struct PollSettings {
    /// Devices checked at once.
    pub concurrency: usize,
    /// Per-request timeout.
    pub timeout: Duration,
}

/// How the poller authenticates to a device (the portal's own Kerberos identity in the portal;
/// Digest in the scale benchmark, whose 10,000 simulated devices have no SPNs in the lab AD).
pub type AuthFor = Arc<dyn Fn(&Device) -> Auth + Send + Sync>;

/// A client for `device` as the poller.
pub fn client_for(device: &Device, auth: Auth, timeout: Duration) -> Client {
    let mut cfg = ClientConfig::new(&device.address, auth);
    cfg.port = device.wsman_port as u16;
    cfg.fqdn = Some(device.fqdn.clone());
    cfg.timeout = timeout;
    cfg.max_in_flight = 1;
    Client::new(cfg)
}

/// What an error means for the fleet list: the device's health and a sentence for its row.
pub fn classify(e: &ClientError) -> (Health, String) {
    match e {
        ClientError::ConnectRefused(port) => (
            Health::Unreachable,
            format!("refused the connection on port {port}: AMT is off, not provisioned, or a firewall blocks it"),
        ),
        ClientError::Timeout(t) => (
            Health::Unreachable,
            format!("did not answer within {} s (the device hangs, or the network drops packets)", t.as_secs().max(1)),
        ),
        ClientError::Http(HttpError::Io(io)) => (Health::Unreachable, format!("could not be reached: {io}")),
        ClientError::Http(HttpError::Closed) => (
            Health::Error,
            "closed the connection without answering (AMT busy or restarting: try again)".into(),
        ),
        ClientError::Http(HttpError::Malformed(_)) | ClientError::Malformed(_) | ClientError::Status(_) => (
            Health::Error,
            format!("answered with something that is not WS-Management ({e}): check that the registered address and port are the device's AMT"),
        ),
        ClientError::ServerError => (Health::Error, "had an internal error (HTTP 500): AMT may need a restart".into()),
        ClientError::Unauthorized { .. } => (
            Health::Error,
            "did not accept the portal's own Kerberos ticket: grant the portal's service account read realms in the device's ACL (its profile), \
             and check the device's clock and Kerberos settings"
                .into(),
        ),
        ClientError::Negotiate { spn, source } => (
            Health::Error,
            format!("the portal could not get a Kerberos ticket for {spn}: {source} (is the SPN registered on the device's AD object?)"),
        ),
        ClientError::Tls(t) => (Health::Error, format!("TLS failed: {t}")),
        ClientError::Fault(f) => (Health::Error, format!("refused the request: {f}")),
        ClientError::ReturnCode { .. } => (Health::Error, e.to_string()),
    }
}

fn is_access_denied(e: &ClientError) -> bool {
    matches!(e, ClientError::Fault(f) if f.subcode == Some(FaultSubcode::AccessDenied))
}

/// Checks one device; `previous` saves re-reading what rarely changes.
pub async fn check(client: &Client, previous: Option<&DeviceStatus>) -> DeviceStatus {
    let mut status = DeviceStatus {
        health: Health::Unknown,
        power: None,
        amt_version: previous.and_then(|p| p.amt_version.clone()),
        control_mode: previous.and_then(|p| p.control_mode.clone()),
        error: None,
        checked_at: now_rfc3339(),
    };
    match client.power_state().await {
        Ok(p) => {
            let state = p.power_state;
            status.power = state.map(|s| s.name().to_string());
            status.health = match state.and_then(|s| s.is_on()) {
                Some(true) => Health::On,
                Some(false) => Health::Off,
                None => Health::Reachable,
            };
        }
        Err(e) if is_access_denied(&e) => {
            status.health = Health::Reachable;
            status.error = Some(
                "the portal's service account may not read the power state here (its ACL entry lacks the Remote Control realm)".into(),
            );
        }
        Err(e) => {
            let (health, message) = classify(&e);
            status.health = health;
            status.error = Some(message);
            return status;
        }
    }
    if status.amt_version.is_none() {
        let req = Request::get(SoftwareIdentity::CLASS).selector("InstanceID", "AMT");
        if let Ok(s) = client.get_with::<SoftwareIdentity>(req).await {
            status.amt_version = s.version_string;
        }
    }
    if status.control_mode.is_none() {
        status.control_mode = match client.get::<HostBasedSetupService>().await {
            Ok(h) => h.current_control_mode.map(|m| m.name().to_string()),
            // AMT before 6 has no host-based setup: such devices are always in admin mode.
            Err(ClientError::Fault(f)) if f.subcode == Some(FaultSubcode::DestinationUnreachable) => {
                Some("Admin Control Mode".into())
            }
            Err(_) => None,
        };
    }
    status
}

/// Checks `devices`, at most `settings.concurrency` at once, storing each result in `fleet` as
/// it arrives and counting it in `job`. Returns when all are done.
pub async fn refresh(
    fleet: Arc<Fleet>,
    devices: Arc<Vec<Device>>,
    auth: AuthFor,
    settings: PollSettings,
    job: Arc<RefreshJob>,
) {
    let mut next = 0;
    let mut running = JoinSet::new();
    let limit = settings.concurrency.max(1);
    loop {
        while running.len() < limit && next < devices.len() {
            let device = devices[next].clone();
            next += 1;
            let fleet = fleet.clone();
            let auth = auth.clone();
            running.spawn(async move {
                let client = client_for(&device, auth(&device), settings.timeout);
                let previous = fleet.status(device.id);
                let status = check(&client, previous.as_ref()).await;
                let failed = matches!(status.health, Health::Unreachable | Health::Error);
                fleet.set_status(device.id, status);
                failed
            });
        }
        match running.join_next().await {
            Some(Ok(failed)) => job.tick(failed),
            Some(Err(e)) => {
                tracing::error!(error = %e, "a device check task failed");
                job.tick(true);
            }
            None => break,
        }
    }
    job.finish();
}
