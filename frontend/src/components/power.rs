//! The power buttons of one device and their confirmation step, shared by the device page and
//! the console page: disruptive actions ask first (a second, explicit button, reachable by
//! keyboard); every action runs as the signed-in user through `run_power_action`.

use leptos::prelude::*;
use shared::PowerAction;

use crate::api::RunPowerAction;

/// One button per action in `available`, and the confirmation of a disruptive one.
#[component]
pub fn PowerButtons(
    /// Registry id of the device.
    id: i64,
    /// Its FQDN, for the confirmation sentence.
    fqdn: String,
    /// The actions the device offers now.
    available: Vec<PowerAction>,
    /// The action that runs them (its value is the outcome the page shows).
    act: ServerAction<RunPowerAction>,
    /// The action waiting for confirmation.
    pending: RwSignal<Option<PowerAction>>,
) -> impl IntoView {
    view! {
        <div class="actions">
            {available.into_iter().map(|a| view! {
                <button type="button" id=format!("action-{}", a.id())
                    on:click=move |_| if a.is_disruptive() { pending.set(Some(a)) } else { act.dispatch(RunPowerAction { id, action: a }); }>
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
                        on:click=move |_| { pending.set(None); act.dispatch(RunPowerAction { id, action: a }); }>
                        {format!("Yes, {}", a.label().to_lowercase())}
                    </button>
                    <button type="button" id="cancel" on:click=move |_| pending.set(None)>"Cancel"</button>
                </div>
            }
        })}
    }
}
