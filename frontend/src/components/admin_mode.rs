//! The device page's admin-mode panel, shown to registry administrators only: store the device's
//! Digest admin account (sealed on the server) and run a power action with it, explicitly. The
//! panel says, before anything runs, that the device will see "admin" and the portal's audit log
//! records the person.

use leptos::prelude::*;
use shared::{DeviceOutcome, PowerAction};

use crate::api::{AdminPowerAction, ForgetAdminAccount, SetAdminAccount, admin_mode};

/// Admin mode for device `id`.
#[component]
pub fn AdminModePanel(id: i64) -> impl IntoView {
    let set = ServerAction::<SetAdminAccount>::new();
    let forget = ServerAction::<ForgetAdminAccount>::new();
    let act = ServerAction::<AdminPowerAction>::new();
    let view_of = Resource::new(
        move || (set.version().get(), forget.version().get()),
        move |_| admin_mode(id),
    );
    let action = RwSignal::new(PowerAction::On);
    let confirming = RwSignal::new(false);
    let username = RwSignal::new("admin".to_string());
    let password = RwSignal::new(String::new());

    view! {
        <Transition fallback=|| ()>
            {move || view_of.get().and_then(Result::ok).filter(|v| v.allowed).map(|v| view! {
                <section class="card warn" id="admin-mode" aria-labelledby="admin-mode-title">
                    <h2 id="admin-mode-title">"Admin mode (Digest)"</h2>
                    <p class="muted">
                        "For devices not yet provisioned for Kerberos. Actions here use the device's own admin account, "
                        "not your identity: the device's log will show that account, and the portal's audit log records you."
                    </p>
                    {match v.unavailable.clone() {
                        Some(why) => view! { <p class="bad" id="admin-mode-off">{why}</p> }.into_any(),
                        None => view! {
                            <p id="admin-account">{match (&v.username, &v.set_by) {
                                (Some(u), Some(by)) => format!("Stored account: {u} (stored by {by}, {}).",
                                    v.set_at.as_deref().map(shared::human_time).unwrap_or_default()),
                                _ => "No admin account is stored for this device.".to_string(),
                            }}</p>
                            <form class="inline" on:submit=move |ev| {
                                ev.prevent_default();
                                set.dispatch(SetAdminAccount { id, username: username.get_untracked(), password: password.get_untracked() });
                                password.set(String::new());
                            }>
                                <label for="admin-user">"User"</label>
                                <input id="admin-user" autocomplete="off" maxlength="16" prop:value=move || username.get()
                                    on:input=move |ev| username.set(event_target_value(&ev))/>
                                <label for="admin-password">"Password"</label>
                                <input id="admin-password" type="password" autocomplete="new-password" maxlength="32"
                                    prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
                                <button type="submit" id="admin-store">"Store sealed"</button>
                                {v.username.is_some().then(|| view! {
                                    <button type="button" id="admin-forget" class="link" on:click=move |_| { forget.dispatch(ForgetAdminAccount { id }); }>"Forget it"</button>
                                })}
                            </form>
                            {move || set.value().get().or_else(|| forget.value().get()).map(|r| match r {
                                Ok(m) => view! { <p class="ok" id="admin-account-outcome">{m}</p> }.into_any(),
                                Err(e) => view! { <p class="bad" id="admin-account-outcome" role="alert">{e.to_string()}</p> }.into_any(),
                            })}
                            {v.username.is_some().then(|| view! {
                                <div class="actions">
                                    <label class="sr-only" for="admin-action">"Power action in admin mode"</label>
                                    <select id="admin-action" on:change=move |ev| {
                                        let v = event_target_value(&ev);
                                        if let Some(a) = PowerAction::ALL.into_iter().find(|a| a.id() == v) { action.set(a); }
                                    }>
                                        {PowerAction::ALL.into_iter().filter(|a| a.boot_target().is_none())
                                            .map(|a| view! { <option value=a.id()>{a.label()}</option> }).collect_view()}
                                    </select>
                                    <button type="button" id="admin-run" on:click=move |_| confirming.set(true)>"Run in admin mode…"</button>
                                </div>
                            })}
                            {move || confirming.get().then(|| view! {
                                <div class="confirm" role="alertdialog" aria-labelledby="admin-confirm-text">
                                    <p id="admin-confirm-text">{format!(
                                        "{} with the device's admin account, not as you? The device will not know who you are; the portal records it under your name.",
                                        action.get().label())}</p>
                                    <button type="button" id="admin-confirm" autofocus on:click=move |_| {
                                        confirming.set(false);
                                        act.dispatch(AdminPowerAction { id, action: action.get_untracked() });
                                    }>{format!("Yes, {} in admin mode", action.get().label().to_lowercase())}</button>
                                    <button type="button" id="admin-cancel" on:click=move |_| confirming.set(false)>"Cancel"</button>
                                </div>
                            })}
                            <div aria-live="polite">
                                {move || act.value().get().map(|r| match r {
                                    Ok(DeviceOutcome::Ok(m)) => view! { <p class="ok" id="admin-outcome">{m}</p> }.into_any(),
                                    Ok(DeviceOutcome::Refused { code, message }) => view! { <p class="bad" id="admin-outcome" data-code=code>{message}</p> }.into_any(),
                                    Err(e) => view! { <p class="bad" id="admin-outcome">{e.to_string()}</p> }.into_any(),
                                })}
                            </div>
                        }.into_any(),
                    }}
                </section>
            })}
        </Transition>
    }
}
