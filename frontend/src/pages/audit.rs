//! The portal's own audit log (`/audit`), for the groups in `PORTAL_AUDITOR_GROUPS`: who did
//! what to which device, with what result and when; filtered and paged on the server, and
//! exported as CSV with the same filter.

use leptos::prelude::*;
use shared::DeviceOutcome;
use shared::audit::AuditFilter;

use crate::api::audit_log;
use crate::components::topbar::Nav;

/// `/audit`.
#[component]
pub fn AuditPage() -> impl IntoView {
    let filter = RwSignal::new(AuditFilter::default());
    let user = RwSignal::new(String::new());
    let device = RwSignal::new(String::new());
    let action = RwSignal::new(String::new());
    let result = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let rows = Resource::new(move || filter.get(), audit_log);
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        filter.set(AuditFilter {
            user: user.get_untracked(),
            device: device.get_untracked(),
            action: action.get_untracked(),
            result: result.get_untracked(),
            from: from.get_untracked(),
            to: to.get_untracked(),
            page: 0,
        });
    };
    let field = |id: &'static str, label: &'static str, hint: &'static str, sig: RwSignal<String>| {
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id type="text" placeholder=hint prop:value=move || sig.get()
                    on:input=move |ev| sig.set(event_target_value(&ev))/>
            </div>
        }
    };

    view! {
        <Nav/>
        <section class="card" id="audit-page">
            <h1>"Portal audit log"</h1>
            <p class="muted">"Every sign-in and every action taken through the portal. Times are UTC."</p>
            <form class="filters" on:submit=apply aria-label="Filter the audit log">
                {field("f-user", "Who", "alice", user)}
                {field("f-device", "Device", "amt1", device)}
                {field("f-action", "What", "power", action)}
                <div class="field">
                    <label for="f-result">"Result"</label>
                    <select id="f-result" prop:value=move || result.get() on:change=move |ev| result.set(event_target_value(&ev))>
                        <option value="">"any"</option>
                        <option value="ok">"ok"</option>
                        <option value="refused">"refused"</option>
                    </select>
                </div>
                {field("f-from", "From", "2026-12-05 or 2026-12-05T14:30", from)}
                {field("f-to", "To", "2026-12-05T18:00", to)}
                <button type="submit" id="apply">"Apply"</button>
            </form>
            <Transition fallback=|| view! { <p class="muted">"Reading the audit log…"</p> }>
                {move || rows.get().map(|r| match r {
                    Ok(DeviceOutcome::Ok(page)) => {
                        let f = filter.get_untracked();
                        let query = f.to_query();
                        let pages = ((page.total + i64::from(page.page_size) - 1) / i64::from(page.page_size)).max(1);
                        let current = page.page;
                        let has_next = i64::from(current) + 1 < pages;
                        view! {
                            <p id="audit-count">{format!("{} matching entries; page {} of {}.", page.total, current + 1, pages)}</p>
                            <p>
                                <a id="export-csv" href=format!("/audit.csv{}{query}", if query.is_empty() { "" } else { "?" }) download="portal-audit.csv">
                                    "Export CSV"
                                </a>
                                " (all matching entries)"
                            </p>
                            <table class="fleet" id="audit-table">
                                <thead><tr><th>"When"</th><th>"Who"</th><th>"Device"</th><th>"What"</th><th>"Result"</th><th>"Detail"</th></tr></thead>
                                <tbody>
                                    {page.rows.into_iter().map(|row| {
                                        let class = if row.result == "ok" { "ok" } else { "bad" };
                                        view! {
                                        <tr data-id=row.id.to_string()>
                                            <td>{row.at.replacen('T', " ", 1).trim_end_matches('Z').to_string()}</td>
                                            <td>{row.principal.unwrap_or_default()}</td>
                                            <td>{row.target.unwrap_or_default()}</td>
                                            <td>{row.action}</td>
                                            <td class=class>{row.result}</td>
                                            <td class="muted">{row.detail.unwrap_or_default()}</td>
                                        </tr>
                                    }}).collect_view()}
                                </tbody>
                            </table>
                            <div class="actions pager">
                                <button type="button" id="prev" disabled={current == 0}
                                    on:click=move |_| filter.update(|f| f.page = f.page.saturating_sub(1))>"Newer"</button>
                                <button type="button" id="next" disabled={!has_next}
                                    on:click=move |_| filter.update(|f| f.page += 1)>"Older"</button>
                            </div>
                        }.into_any()
                    }
                    Ok(DeviceOutcome::Refused { code, message }) => view! {
                        <p class="bad" id="audit-refused" data-code=code role="alert">{message}</p>
                    }.into_any(),
                    Err(e) => view! { <p class="bad" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}
