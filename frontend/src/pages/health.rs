//! The "Kerberos health" page (`/health`): the signed-in user's findings, optionally for one
//! device (`/health?device=3`, linked from the device page), and, for administrators, an
//! estimate for a user who has not signed in (by account name). Findings are grouped by family,
//! each with a severity icon, what was measured and how to fix it.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use shared::{CheckFamily, Finding, HealthReport, HealthSubject, Severity};

use crate::api::{KerberosHealthEstimate, kerberos_health, list_devices};
use crate::components::topbar::Nav;

/// The icon of a severity (the word is next to it for screen readers and for print).
fn icon(s: Severity) -> &'static str {
    match s {
        Severity::Ok => "✔",
        Severity::Warning => "⚠",
        Severity::Problem => "✖",
    }
}

fn class(s: Severity) -> &'static str {
    match s {
        Severity::Ok => "finding sev-ok",
        Severity::Warning => "finding sev-warning",
        Severity::Problem => "finding sev-problem",
    }
}

const FAMILIES: [CheckFamily; 6] = [
    CheckFamily::Clock,
    CheckFamily::TicketSize,
    CheckFamily::Spn,
    CheckFamily::DeviceAccount,
    CheckFamily::DcConsistency,
    CheckFamily::BrowserSso,
];

fn finding_view(f: Finding) -> impl IntoView {
    view! {
        <li class=class(f.severity) data-code=f.code.clone()>
            <span class="severity" aria-hidden="true">{icon(f.severity)}</span>
            " "<strong>{f.severity.label()}": "</strong>{f.title.clone()}
            <div class="measured">{f.measured.clone()}</div>
            {(!f.fix.is_empty()).then(|| view! { <div class="fix"><strong>"Fix: "</strong>{f.fix.clone()}</div> })}
        </li>
    }
}

/// One report: a summary line, then the findings grouped by family (worst first in each group).
#[component]
fn Report(report: HealthReport) -> impl IntoView {
    let whom = match &report.subject {
        HealthSubject::Me { principal } => format!("You ({principal})"),
        HealthSubject::Estimate { account } => format!("{account} (estimate from the directory; not signed in)"),
    };
    let device = report.device.clone().unwrap_or_else(|| "no device chosen".into());
    let worst = report.worst();
    let groups = FAMILIES
        .into_iter()
        .filter_map(|fam| {
            let mut fs: Vec<Finding> = report.findings.iter().filter(|f| f.family == fam).cloned().collect();
            if fs.is_empty() {
                return None;
            }
            fs.sort_by_key(|f| std::cmp::Reverse(f.severity));
            Some(view! {
                <section class="finding-group" aria-label=fam.title()>
                    <h3>{fam.title()}</h3>
                    <ul>{fs.into_iter().map(finding_view).collect_view()}</ul>
                </section>
            })
        })
        .collect_view();
    view! {
        <div class="health-report">
            <p class=class(worst) role="status">
                <span aria-hidden="true">{icon(worst)}</span>" "
                {format!("{whom} · {device} · overall: {} · checked {}", worst.label(), shared::human_time(&report.checked_at))}
            </p>
            {groups}
        </div>
    }
}

/// `/health`.
#[component]
pub fn HealthPage() -> impl IntoView {
    let query = use_query_map();
    let initial = query.with_untracked(|q| q.get("device")).unwrap_or_default();
    let choice = RwSignal::new(initial.clone());
    let checked = RwSignal::new(initial.parse::<i64>().ok());
    let devices = Resource::new(|| (), |_| list_devices());
    let report = Resource::new(move || checked.get(), kerberos_health);
    let estimate = ServerAction::<KerberosHealthEstimate>::new();
    let account = RwSignal::new(String::new());

    let check = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        checked.set(choice.get_untracked().parse::<i64>().ok());
        report.refetch();
    };
    let check_other = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        estimate.dispatch(KerberosHealthEstimate {
            account: account.get_untracked(),
            device: choice.get_untracked().parse::<i64>().ok(),
        });
    };

    view! {
        <Nav/>
        <section class="card" id="health-page">
            <h1>"Kerberos health"</h1>
            <p class="muted">"Why Kerberos to a device works or not: clocks, your ticket's size against the device's firmware, its service names and account in Active Directory, and your browser's single sign-on."</p>
            <form class="filters" on:submit=check aria-label="Choose a device to check">
                <div class="field">
                    <label for="health-device">"Device"</label>
                    <select id="health-device" prop:value=move || choice.get()
                        on:change=move |ev| choice.set(event_target_value(&ev))>
                        <option value="">"no device (my sign-in only)"</option>
                        <Transition fallback=|| ()>
                            {move || devices.get().map(|r| r.unwrap_or_default().into_iter().map(|d| {
                                let id = d.id.to_string();
                                view! { <option value=id.clone() selected=choice.get_untracked() == id>{d.fqdn}</option> }
                            }).collect_view())}
                        </Transition>
                    </select>
                </div>
                <button type="submit" id="health-check" accesskey="c">"Check"</button>
            </form>
            <h2>"My findings"</h2>
            <Transition fallback=|| view! { <p class="muted">"Checking… (this asks the domain controller and the device)"</p> }>
                {move || report.get().map(|r| match r {
                    Ok(rep) => view! { <div id="my-health"><Report report=rep/></div> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </section>
        <section class="card" id="health-other">
            <h2>"Check another user (administrators)"</h2>
            <p class="muted">"For a user who has not signed in: their ticket size estimated from their groups in Active Directory (Microsoft's TokenSZ formula), against the device chosen above."</p>
            <form class="filters" on:submit=check_other aria-label="Check another user">
                <div class="field">
                    <label for="health-account">"Account"</label>
                    <input id="health-account" type="text" placeholder="frank" prop:value=move || account.get()
                        on:input=move |ev| account.set(event_target_value(&ev))/>
                </div>
                <button type="submit" id="health-estimate" disabled=move || estimate.pending().get()>"Estimate"</button>
            </form>
            {move || estimate.value().get().map(|r| match r {
                Ok(rep) => view! { <div id="other-health"><Report report=rep/></div> }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
            })}
        </section>
    }
}
