//! One device: its power state at a glance, and the power actions it offers, run as the user.
//!
//! Disruptive actions ask for a confirmation step (a second, explicit button, reachable by
//! keyboard); the outcome, or the device's refusal explained, is shown under the buttons.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use shared::{DeviceOutcome, PowerAction};

use crate::api::{RunPowerAction, device_power};
use crate::components::admin_mode::AdminModePanel;
use crate::components::topbar::Nav;

/// `/devices/:id`.
#[component]
pub fn DevicePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
    let act = ServerAction::<RunPowerAction>::new();
    // Re-read the power state after each action.
    let power = Resource::new(move || (id(), act.version().get()), |(id, _)| device_power(id));
    let pending = RwSignal::new(None::<PowerAction>);

    view! {
        <Nav/>
        <Suspense fallback=|| view! { <p class="muted">"Asking the device, as you…"</p> }>
            {move || power.get().map(|r| match r {
                Ok(DeviceOutcome::Ok(p)) => {
                    let fqdn = p.device.fqdn.clone();
                    view! {
                        <section class="card" id="device">
                            <h1>{p.device.fqdn.clone()}</h1>
                            <p><a href=crate::pages::console::console_href(p.device.id) id="open-console">"Open console"</a></p>
                            <p class="power">
                                <span class="power-dot" class:on=p.on aria-hidden="true"></span>
                                <span id="power-state">{p.state.clone()}</span>
                            </p>
                            <p class="muted" id="acting-as">{format!("Read with {}.", p.acting_as)}</p>
                            <h2>"Power"</h2>
                            <div class="actions">
                                {p.available.clone().into_iter().map(|a| view! {
                                    <button type="button" id=format!("action-{}", a.id())
                                        on:click=move |_| if a.is_disruptive() { pending.set(Some(a)) } else { act.dispatch(RunPowerAction { id: id(), action: a }); }>
                                        {a.label()}
                                    </button>
                                }).collect_view()}
                            </div>
                            {move || pending.get().map(|a| {
                                let fqdn = fqdn.clone();
                                view! {
                                    <div class="confirm" role="alertdialog" aria-labelledby="confirm-text">
                                        <p id="confirm-text">{format!("{} {}? A running operating system is interrupted.", a.label(), fqdn)}</p>
                                        <button type="button" id="confirm" autofocus
                                            on:click=move |_| { pending.set(None); act.dispatch(RunPowerAction { id: id(), action: a }); }>
                                            {format!("Yes, {}", a.label().to_lowercase())}
                                        </button>
                                        <button type="button" id="cancel" on:click=move |_| pending.set(None)>"Cancel"</button>
                                    </div>
                                }
                            })}
                        </section>
                    }.into_any()
                }
                Ok(DeviceOutcome::Refused { code, message }) => view! {
                    <section class="card error" id="device-refused" data-code=code role="alert">
                        <h1>"The device could not be read as you"</h1><p id="refusal">{message}</p>
                    </section>
                }.into_any(),
                Err(e) => view! { <section class="card error" role="alert"><p>{e.to_string()}</p></section> }.into_any(),
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
        {move || (id() > 0).then(|| view! { <AdminModePanel id=id()/> })}
    }
}
