//! Provisioning on the device page: "Apply the profile" for administrators, the device's runs
//! with every step and its outcome (re-read every second while a run is under way), "Retry" for
//! a failed run, and the self-service request form with the device's requests and their states.

use leptos::prelude::*;
use shared::provision::{NewRequest, RequestView, RunState, RunView, StepOutcome};

use crate::api::{ApplyProfile, RequestReprovision, RetryRun, device_provisioning};

/// A run's steps, as an ordered list with each outcome and sentence.
pub fn run_view(run: &RunView, retry: Option<ServerAction<RetryRun>>) -> impl IntoView + use<> {
    let id = run.id;
    let state = run.state.id();
    let title = format!(
        "Run {} — {} of \"{}\" by {}, {}",
        run.id,
        if run.kind == "rotate" { "key rotation" } else { "apply" },
        run.profile_name,
        run.actor,
        shared::human_time(&run.started_at)
    );
    view! {
        <article class="run" id=format!("run-{id}") data-state=state>
            <h3>{title}</h3>
            <p class="run-state"><strong>{match run.state {
                RunState::Queued => "Waiting for a free slot…",
                RunState::Running => "Running…",
                RunState::Done => "Done.",
                RunState::Failed => "Failed.",
            }}</strong>" "<span class="run-summary">{run.summary.clone()}</span></p>
            <ol class="steps">
                {run.steps.iter().map(|s| {
                    let mark = match s.outcome {
                        StepOutcome::Done => "✓",
                        StepOutcome::Failed => "✗",
                        StepOutcome::Running => "…",
                        StepOutcome::Pending | StepOutcome::NotRun => "·",
                    };
                    view! {
                        <li class=format!("step {}", s.outcome.id()) data-step=s.step.id() data-outcome=s.outcome.id()>
                            <span aria-hidden="true">{mark}" "</span>
                            <strong>{s.title.clone()}</strong>{format!(" — {}", s.outcome.label())}
                            {s.changed.then_some(" (changed)")}
                            {(!s.message.is_empty()).then(|| view! { <br/><span class="muted">{s.message.clone()}</span> })}
                        </li>
                    }
                }).collect_view()}
            </ol>
            {(run.state == RunState::Failed).then_some(retry).flatten().map(|retry| view! {
                <button type="button" class="retry" id=format!("retry-{id}") on:click=move |_| { retry.dispatch(RetryRun { id }); }>
                    "Retry from the start"
                </button>
            })}
        </article>
    }
}

/// A request's line: who, why, state, decision.
pub fn request_line(r: &RequestView) -> impl IntoView + use<> {
    let who = match &r.on_behalf_by {
        Some(by) => format!("for {} (filed by {by})", r.requester),
        None => format!("by {}", r.requester),
    };
    let decided = match (&r.decided_by, &r.comment) {
        (Some(by), Some(c)) => format!(" — {by}: \"{c}\""),
        (Some(by), None) => format!(" — decided by {by}"),
        _ => String::new(),
    };
    view! {
        <li class="request" id=format!("request-{}", r.id) data-state=r.state.id()>
            <strong>{format!("Request {} — {}", r.id, r.fqdn)}</strong>
            {format!(" {who}, {}: \"{}\". ", shared::human_time(&r.created_at), r.reason)}
            <span class="request-state">{r.state.label()}</span>{decided}
        </li>
    }
}

/// The provisioning panel of device `id`.
#[component]
pub fn ProvisioningPanel(id: i64) -> impl IntoView {
    let apply = ServerAction::<ApplyProfile>::new();
    let retry = ServerAction::<RetryRun>::new();
    let request = ServerAction::<RequestReprovision>::new();
    let tick = RwSignal::new(0u32);
    let data = Resource::new(
        move || {
            (
                tick.get(),
                apply.version().get(),
                retry.version().get(),
                request.version().get(),
            )
        },
        move |_| device_provisioning(id),
    );
    // While a run of this device (or a request) is under way, re-read every second.
    Effect::new(move |_| {
        let busy = data.get().and_then(Result::ok).is_some_and(|d| {
            d.runs.iter().any(|r| !r.state.finished())
                || d.requests
                    .iter()
                    .any(|r| r.state == shared::provision::RequestState::Running)
        });
        if busy {
            set_timeout(move || tick.update(|t| *t += 1), std::time::Duration::from_millis(1000));
        }
    });
    let confirming = RwSignal::new(false);
    let reason = RwSignal::new(String::new());
    let on_behalf = RwSignal::new(String::new());

    view! {
        <Transition fallback=|| ()>
            {move || data.get().map(|r| match r {
                Ok(d) => view! {
                    <section class="card" id="provisioning" aria-labelledby="provisioning-h">
                        <h2 id="provisioning-h">"Provisioning"</h2>
                        {d.can_apply.then(|| view! {
                            <p class="muted">"Applies the device's profile: its AD computer object and a fresh key, the Kerberos settings, the access list, redirection, the clock, then a Kerberos call to prove it. Every step is shown as it runs."</p>
                            <button type="button" id="apply-profile" on:click=move |_| confirming.set(true)>"Apply the profile…"</button>
                            {move || confirming.get().then(|| view! {
                                <div class="confirm" role="alertdialog" aria-labelledby="apply-confirm-text">
                                    <p id="apply-confirm-text">"Apply the profile now? The device gets a new key: tickets issued before stop working on it, and its access list becomes the profile's."</p>
                                    <button type="button" id="apply-confirm" autofocus on:click=move |_| {
                                        confirming.set(false);
                                        apply.dispatch(ApplyProfile { ids: vec![id] });
                                    }>"Yes, apply it"</button>
                                    <button type="button" id="apply-cancel" on:click=move |_| confirming.set(false)>"Cancel"</button>
                                </div>
                            })}
                            <div aria-live="polite">
                                {move || apply.value().get().map(|r| match r {
                                    Ok(rep) if rep.refused.is_empty() => view! { <p class="ok" id="apply-outcome">{format!("Run {} started.", rep.runs.iter().map(i64::to_string).collect::<Vec<_>>().join(", "))}</p> }.into_any(),
                                    Ok(rep) => view! { <p class="bad" id="apply-outcome" role="alert">{rep.refused.join(" ")}</p> }.into_any(),
                                    Err(e) => view! { <p class="bad" id="apply-outcome" role="alert">{e.to_string()}</p> }.into_any(),
                                })}
                                {move || retry.value().get().map(|r| match r {
                                    Ok(run) => view! { <p class="ok" id="retry-outcome">{format!("Run {run} started.")}</p> }.into_any(),
                                    Err(e) => view! { <p class="bad" id="retry-outcome" role="alert">{e.to_string()}</p> }.into_any(),
                                })}
                            </div>
                        })}
                        {(!d.runs.is_empty()).then(|| view! {
                            <h3>"Runs"</h3>
                            <div id="runs">{d.runs.iter().map(|r| run_view(r, d.can_apply.then_some(retry))).collect_view()}</div>
                        })}
                        <h3>"Request reprovisioning"</h3>
                        <form id="request-form" on:submit=move |ev| {
                            ev.prevent_default();
                            request.dispatch(RequestReprovision { form: NewRequest {
                                device_id: id,
                                reason: reason.get_untracked(),
                                on_behalf_of: on_behalf.get_untracked(),
                            }});
                        }>
                            <label for="request-reason">"Why does this device need reprovisioning?"</label>
                            <textarea id="request-reason" maxlength="500" prop:value=move || reason.get()
                                on:input=move |ev| reason.set(event_target_value(&ev))></textarea>
                            {d.is_helpdesk.then(|| view! {
                                <label for="request-for">"For user (helpdesk; empty for yourself)"</label>
                                <input id="request-for" autocomplete="off" prop:value=move || on_behalf.get()
                                    on:input=move |ev| on_behalf.set(event_target_value(&ev))/>
                            })}
                            <button type="submit" id="request-submit">"Send the request"</button>
                        </form>
                        <div aria-live="polite">
                            {move || request.value().get().map(|r| match r {
                                Ok(m) => view! { <p class="ok" id="request-outcome">{m}</p> }.into_any(),
                                Err(e) => view! { <p class="bad" id="request-outcome" role="alert">{e.to_string()}</p> }.into_any(),
                            })}
                        </div>
                        {(!d.requests.is_empty()).then(|| view! {
                            <ul class="requests" id="device-requests">{d.requests.iter().map(request_line).collect_view()}</ul>
                        })}
                    </section>
                }.into_any(),
                Err(e) => view! { <section class="card error" role="alert"><p>{e.to_string()}</p></section> }.into_any(),
            })}
        </Transition>
    }
}
