//! The device page's profile chooser, for registry administrators: which provisioning profile
//! the device is provisioned with (none until one is chosen). Others see nothing.

use leptos::prelude::*;

use crate::api::{AssignProfile, device_profile};

/// The profile of device `id`.
#[component]
pub fn DeviceProfilePanel(id: i64) -> impl IntoView {
    let assign = ServerAction::<AssignProfile>::new();
    let view_of = Resource::new(move || assign.version().get(), move |_| device_profile(id));
    let chosen = RwSignal::new(String::new());
    view! {
        <Transition fallback=|| ()>
            {move || view_of.get().and_then(Result::ok).filter(|v| v.allowed).map(|v| {
                chosen.set(v.current.map(|c| c.to_string()).unwrap_or_default());
                view! {
                    <section class="card" id="device-profile" aria-labelledby="device-profile-h">
                        <h2 id="device-profile-h">"Provisioning profile"</h2>
                        <p class="muted">
                            "Which AD users and groups get which realms on this device, and its settings, when it is next provisioned. "
                            <a href="/profiles">"Manage profiles"</a>
                        </p>
                        <form class="inline" on:submit=move |ev| {
                            ev.prevent_default();
                            let profile_id = chosen.get_untracked().parse::<i64>().ok();
                            assign.dispatch(AssignProfile { profile_id, device_ids: vec![id] });
                        }>
                            <label for="device-profile-select">"Profile"</label>
                            <select id="device-profile-select" on:change=move |ev| chosen.set(event_target_value(&ev))>
                                <option value="" selected=v.current.is_none()>"none"</option>
                                {v.profiles.iter().map(|(pid, name)| view! {
                                    <option value=pid.to_string() selected=v.current == Some(*pid)>{name.clone()}</option>
                                }).collect_view()}
                            </select>
                            <button type="submit" id="device-profile-save">"Use this profile"</button>
                        </form>
                    </section>
                }
            })}
        </Transition>
        <div aria-live="polite">
            {move || assign.value().get().map(|r| match r {
                Ok(m) => view! { <p class="ok" id="device-profile-outcome">{m}</p> }.into_any(),
                Err(e) => view! { <p class="bad" id="device-profile-outcome" role="alert">{e.to_string()}</p> }.into_any(),
            })}
        </div>
    }
}
