//! `/provisioning`: the latest provisioning runs of every device (administrators and
//! approvers), each with its steps; re-read every second while one is under way.

use leptos::prelude::*;

use crate::api::{RetryRun, provision_runs};
use crate::components::provisioning::run_view;
use crate::components::topbar::Nav;

/// `/provisioning`.
#[component]
pub fn ProvisioningPage() -> impl IntoView {
    let retry = ServerAction::<RetryRun>::new();
    let tick = RwSignal::new(0u32);
    let runs = Resource::new(move || (tick.get(), retry.version().get()), |_| provision_runs());
    Effect::new(move |_| {
        if runs
            .get()
            .and_then(Result::ok)
            .is_some_and(|rs| rs.iter().any(|r| !r.state.finished()))
        {
            set_timeout(move || tick.update(|t| *t += 1), std::time::Duration::from_millis(1000));
        }
    });
    view! {
        <Nav/>
        <section class="card" id="provisioning-runs" aria-labelledby="runs-h">
            <h1 id="runs-h">"Provisioning runs"</h1>
            <div aria-live="polite">
                {move || retry.value().get().map(|r| match r {
                    Ok(run) => view! { <p class="ok" id="retry-outcome">{format!("Run {run} started.")}</p> }.into_any(),
                    Err(e) => view! { <p class="bad" id="retry-outcome" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading runs…"</p> }>
                {move || runs.get().map(|r| match r {
                    Ok(rs) if rs.is_empty() => view! { <p id="no-runs">"No run yet: apply a profile from a device's page."</p> }.into_any(),
                    Ok(rs) => rs.iter().map(|r| run_view(r, Some(retry))).collect_view().into_any(),
                    Err(e) => view! { <p class="bad" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}
