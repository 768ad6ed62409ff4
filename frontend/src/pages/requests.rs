//! `/requests`: the user's reprovision requests and their states ("My requests"), and for
//! approvers the pending requests with "Approve" and "Deny" (a comment is required to deny).
//! Re-read every 2 seconds while one of the user's requests is being carried out.

use leptos::prelude::*;
use shared::provision::{RequestState, RequestView};

use crate::api::{DecideRequest, my_requests};
use crate::components::provisioning::request_line;
use crate::components::topbar::Nav;

fn decide_form(r: &RequestView, decide: ServerAction<DecideRequest>) -> impl IntoView + use<> {
    let id = r.id;
    let comment = RwSignal::new(String::new());
    view! {
        // `request_line` is an <li> itself: it gets its own list (an <li> directly inside an <li>
        // is invalid HTML, which the browser's parser rearranges and hydration then trips on).
        <li class="request pending" id=format!("pending-{id}")>
            <ul class="requests">{request_line(r)}</ul>
            <label for=format!("comment-{id}")>"Comment"</label>
            <input id=format!("comment-{id}") maxlength="500" prop:value=move || comment.get()
                on:input=move |ev| comment.set(event_target_value(&ev))/>
            <button type="button" id=format!("approve-{id}") on:click=move |_| {
                decide.dispatch(DecideRequest { id, approve: true, comment: comment.get_untracked() });
            }>"Approve and reprovision"</button>
            <button type="button" id=format!("deny-{id}") on:click=move |_| {
                decide.dispatch(DecideRequest { id, approve: false, comment: comment.get_untracked() });
            }>"Deny"</button>
        </li>
    }
}

/// `/requests`.
#[component]
pub fn RequestsPage() -> impl IntoView {
    let decide = ServerAction::<DecideRequest>::new();
    let tick = RwSignal::new(0u32);
    let page = Resource::new(move || (tick.get(), decide.version().get()), |_| my_requests());
    Effect::new(move |_| {
        let busy = page
            .get()
            .and_then(Result::ok)
            .is_some_and(|p| p.mine.iter().any(|r| r.state == RequestState::Running));
        if busy {
            set_timeout(move || tick.update(|t| *t += 1), std::time::Duration::from_millis(2000));
        }
    });
    view! {
        <Nav/>
        <Transition fallback=|| view! { <p class="muted">"Loading requests…"</p> }>
            {move || page.get().map(|r| match r {
                Ok(p) => view! {
                    <section class="card" id="my-requests" aria-labelledby="mine-h">
                        <h1 id="mine-h">"My reprovision requests"</h1>
                        <p class="muted">"Request reprovisioning from a device's page. The state changes here when an approver decides and when the run ends."</p>
                        {if p.mine.is_empty() {
                            view! { <p id="no-requests">"You have no requests."</p> }.into_any()
                        } else {
                            view! { <ul class="requests">{p.mine.iter().map(request_line).collect_view()}</ul> }.into_any()
                        }}
                    </section>
                    {p.is_approver.then(|| view! {
                        <section class="card" id="pending-requests" aria-labelledby="pending-h">
                            <h2 id="pending-h">"Waiting for your decision"</h2>
                            <div aria-live="polite">
                                {move || decide.value().get().map(|r| match r {
                                    Ok(m) => view! { <p class="ok" id="decide-outcome">{m}</p> }.into_any(),
                                    Err(e) => view! { <p class="bad" id="decide-outcome" role="alert">{e.to_string()}</p> }.into_any(),
                                })}
                            </div>
                            {if p.pending.is_empty() {
                                view! { <p id="no-pending">"No request is waiting."</p> }.into_any()
                            } else {
                                view! { <ul class="requests">{p.pending.iter().map(|r| decide_form(r, decide)).collect_view()}</ul> }.into_any()
                            }}
                        </section>
                    })}
                }.into_any(),
                Err(e) => view! { <section class="card error" role="alert"><p>{e.to_string()}</p></section> }.into_any(),
            })}
        </Transition>
    }
}
