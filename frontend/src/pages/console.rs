//! A device's serial console beside its power actions, so that a reset (into BIOS setup, for
//! instance) is seen in the terminal as it happens.
//!
//! The page lives at `/devices/:id/terminal`: the portal's WebSocket bridge already answers
//! `GET /devices/{id}/console` (see `shared::console`), and one path cannot be both a page and
//! a socket. The power panel reuses the device page's server functions and its confirmation
//! step for disruptive actions, and shows whatever actions the device offers now.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use shared::{DeviceOutcome, PowerAction};

use crate::api::{RunPowerAction, device_power};
use crate::components::console_terminal::ConsoleTerminal;
use crate::components::power::PowerButtons;
use crate::components::topbar::Nav;

/// The page's path for a device (what links use).
pub fn console_href(device: i64) -> String {
    format!("/devices/{device}/terminal")
}

/// `/devices/:id/terminal`.
#[component]
pub fn ConsolePage() -> impl IntoView {
    let params = use_params_map();
    let id = params
        .read_untracked()
        .get("id")
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or(0);
    view! {
        <Nav/>
        <div class="console-page">
            <section class="card console-card">
                <h1>"Serial console " <a class="muted small" href=format!("/devices/{id}")>"device page"</a></h1>
                <ConsoleTerminal device=id/>
            </section>
            <ConsolePower id=id/>
        </div>
    }
}

/// The device's power state and actions, run as the user, with the same confirmation as the
/// device page.
#[component]
fn ConsolePower(id: i64) -> impl IntoView {
    let act = ServerAction::<RunPowerAction>::new();
    // Re-read the power state after each action.
    let power = Resource::new(move || act.version().get(), move |_| device_power(id));
    let pending = RwSignal::new(None::<PowerAction>);
    view! {
        <section class="card console-power" id="console-power" aria-labelledby="power-title">
            <h2 id="power-title">"Power"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Asking the device, as you…"</p> }>
                {move || power.get().map(|r| match r {
                    Ok(DeviceOutcome::Ok(p)) => {
                        let fqdn = p.device.fqdn.clone();
                        view! {
                            <p class="device-name" id="console-device">{p.device.fqdn.clone()}</p>
                            <p class="power">
                                <span class="power-dot" class:on=p.on aria-hidden="true"></span>
                                <span id="power-state">{p.state.clone()}</span>
                            </p>
                            <PowerButtons id=id fqdn=fqdn available=p.available.clone() act=act pending=pending/>
                        }.into_any()
                    }
                    Ok(DeviceOutcome::Refused { code, message }) => view! {
                        <p class="bad" id="power-refused" data-code=code role="alert">{message}</p>
                    }.into_any(),
                    Err(e) => view! { <p class="bad" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Suspense>
            <div aria-live="polite">
                {move || act.pending().get().then(|| view! { <p class="muted" id="working">"Working…"</p> })}
                {move || act.value().get().map(|r| match r {
                    Ok(DeviceOutcome::Ok(msg)) => view! { <p class="ok" id="outcome">{msg}</p> }.into_any(),
                    Ok(DeviceOutcome::Refused { code, message }) => view! { <p class="bad" id="outcome" data-code=code>{message}</p> }.into_any(),
                    Err(e) => view! { <p class="bad" id="outcome">{e.to_string()}</p> }.into_any(),
                })}
            </div>
        </section>
    }
}
