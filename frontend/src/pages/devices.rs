//! The fleet list: every registered device, with a link to act on it.

use leptos::prelude::*;

use crate::api::list_devices;
use crate::components::topbar::Nav;

/// `/devices`.
#[component]
pub fn DevicesPage() -> impl IntoView {
    let devices = Resource::new(|| (), |_| list_devices());
    view! {
        <Nav/>
        <section class="card">
            <h1>"Devices"</h1>
            <Suspense fallback=|| view! { <p class="muted">"Loading the registry…"</p> }>
                {move || devices.get().map(|r| match r {
                    Ok(list) if list.is_empty() => view! {
                        <p id="no-devices">"No device is registered yet."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <table class="fleet" id="fleet">
                            <thead><tr><th>"Device"</th><th>"Site"</th><th>"Tags"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|d| view! {
                                    <tr>
                                        <td><a href=format!("/devices/{}", d.id) id=format!("device-{}", d.fqdn.split('.').next().unwrap_or_default())>{d.fqdn.clone()}</a></td>
                                        <td>{d.site.clone()}</td>
                                        <td class="muted">{d.tags.clone()}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <p class="bad" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}
