//! Turning a device's serial console on, for a user who holds the Redirection realm: the
//! redirection listener (`AMT_RedirectionService.ListenerEnabled`, ports 16994/16995) and SOL
//! (`RequestStateChange` to an EnabledState with SOL on, IDER left as it was). Run as the user
//! like every action, and audited. The console page offers it when a connection was refused
//! because either was off.

use amt::client::ClientError;
use amt::models::redirection::{RedirectionService, RedirectionState, redirection_request_state_change};
use shared::DeviceOutcome;

use crate::AppState;
use crate::auth::SessionUser;

impl AppState {
    /// Turns on the listener and SOL of device `id` as `user`; says what changed.
    pub async fn enable_console(&self, user: &SessionUser, id: i64) -> DeviceOutcome<String> {
        let (device, source) = match self.device_and_user(user, id).await {
            Ok(x) => x,
            Err(r) => return r.into(),
        };
        let client = self.client_for(&device, source);
        let result: Result<Vec<&str>, ClientError> = async {
            let mut svc: RedirectionService = client.get().await?;
            let mut changed = Vec::new();
            if svc.listener_enabled != Some(true) {
                svc.listener_enabled = Some(true);
                client.send(&svc.put_request()).await?;
                changed.push("the redirection listener");
            }
            let state = svc.enabled_state.unwrap_or(RedirectionState::Disabled);
            if !state.sol() {
                client
                    .invoke(&redirection_request_state_change(RedirectionState::from_flags(
                        state.ider(),
                        true,
                    )))
                    .await?;
                changed.push("Serial-over-LAN");
            }
            Ok(changed)
        }
        .await;
        let what = "console: turn on";
        match result {
            Ok(changed) => {
                let message = if changed.is_empty() {
                    format!("{}: the listener and Serial-over-LAN were already on.", device.fqdn)
                } else {
                    format!("{}: turned on {}.", device.fqdn, changed.join(" and "))
                };
                crate::audit::record(
                    &self.pool,
                    Some(&user.principal),
                    what,
                    Some(&device.fqdn),
                    "ok",
                    Some(&message),
                )
                .await;
                DeviceOutcome::Ok(message)
            }
            Err(e) => self.refuse_audited(&device, user, e, "Redirection", what).await.into(),
        }
    }
}
