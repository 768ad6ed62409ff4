//! The fleet list: every registered device with its last known state, a picture of the fleet's
//! health, search (`/` focuses it), filter by state, sortable columns, paging, a refresh with
//! progress, and power actions on a selection with one result per device.
//!
//! The list is served a page at a time by the server (`fleet_page`), so it stays fast with
//! 10,000 devices. States come from the portal's background checks; power actions run as the
//! signed-in user, like on the device page.

use std::collections::BTreeSet;

use leptos::prelude::*;
use shared::{BulkReport, DeviceOutcome, FleetPage, FleetQuery, Health, PowerAction, RefreshProgress, SortKey};

use crate::api::{AddDevice, BulkPower, DiscoverDevices, FleetRefresh, fleet_list};
use crate::components::topbar::Nav;

/// `/devices`.
#[component]
pub fn DevicesPage() -> impl IntoView {
    let search = RwSignal::new(String::new());
    let health = RwSignal::new(None::<Health>);
    let sort = RwSignal::new(SortKey::Name);
    let descending = RwSignal::new(false);
    let page_no = RwSignal::new(0u32);
    let page_size = RwSignal::new(100u32);
    // Bumped to re-read the page (refresh progress, after actions).
    let tick = RwSignal::new(0u32);
    let selected = RwSignal::new(BTreeSet::<i64>::new());

    let query = Memo::new(move |_| FleetQuery {
        search: search.get(),
        health: health.get(),
        sort: sort.get(),
        descending: descending.get(),
        page: page_no.get(),
        page_size: page_size.get(),
    });
    let page = Resource::new(move || (query.get(), tick.get()), |(q, _)| fleet_list(q));
    let refresh = ServerAction::<FleetRefresh>::new();
    let discover = ServerAction::<DiscoverDevices>::new();
    let add = ServerAction::<AddDevice>::new();
    // New devices appear in the list as soon as discovery or the form returns.
    Effect::new(move |_| {
        if discover.version().get() + add.version().get() > 0 {
            tick.update(|t| *t += 1);
        }
    });
    let bulk = ServerAction::<BulkPower>::new();

    // While a refresh runs, re-read the page every 700 ms to show progress and new states.
    Effect::new(move |_| {
        let running = page
            .get()
            .and_then(Result::ok)
            .and_then(|p| p.refresh)
            .is_some_and(|r| r.running)
            || refresh.value().get().and_then(Result::ok).is_some_and(|r| r.running) && refresh.version().get() > 0;
        if running {
            set_timeout(move || tick.update(|t| *t += 1), std::time::Duration::from_millis(700));
        }
    });
    // After a bulk action, show the new states (the portal re-checks those devices).
    Effect::new(move |_| {
        if bulk.version().get() > 0 {
            set_timeout(move || tick.update(|t| *t += 1), std::time::Duration::from_millis(1500));
        }
    });
    // `/` focuses the search box, as in most admin tools.
    let search_box = NodeRef::<leptos::html::Input>::new();
    let _ = window_event_listener(leptos::ev::keydown, move |ev| {
        let typing = ev
            .target()
            .and_then(|t| leptos::wasm_bindgen::JsCast::dyn_into::<leptos::web_sys::Element>(t).ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA"));
        if ev.key() == "/"
            && !typing
            && let Some(input) = search_box.get()
        {
            ev.prevent_default();
            let _ = input.focus();
        }
    });

    let set_sort = move |key: SortKey| {
        if sort.get_untracked() == key {
            descending.update(|d| *d = !*d);
        } else {
            sort.set(key);
            descending.set(false);
        }
        page_no.set(0);
    };

    view! {
        <Nav/>
        <section class="card" id="fleet-card">
            <div class="fleet-head">
                <h1>"Devices"</h1>
                <button type="button" id="refresh" class="secondary"
                    on:click=move |_| { refresh.dispatch(FleetRefresh {}); tick.update(|t| *t += 1); }
                    disabled=move || refresh.pending().get()>
                    "Check all devices now"
                </button>
            </div>
            <Transition fallback=|| ()>
                {move || page.get().and_then(Result::ok).filter(|p| p.can_manage).map(|p| view! {
                    <div class="admin-tools">
                        {p.discovery_configured.then(|| view! {
                            <button type="button" id="discover" class="secondary" disabled=move || discover.pending().get()
                                on:click=move |_| { discover.dispatch(DiscoverDevices {}); }>
                                "Discover devices in Active Directory"
                            </button>
                        })}
                        <AddDeviceForm add=add/>
                    </div>
                })}
            </Transition>
            {move || discover.value().get().map(|r| match r {
                Ok(d) => view! {
                    <div class="card-inline" id="discovery-result" aria-live="polite">
                        <p class="ok">{format!("{}: {} found, {} new, {} already registered", d.ou, d.found, d.added, d.known)}</p>
                        {(!d.rejected.is_empty()).then(|| view! {
                            <p class="bad">{format!("{} objects could not be used:", d.rejected.len())}</p>
                            <ul class="results">
                                {d.rejected.into_iter().map(|(dn, why)| view! { <li><code>{dn}</code>": "{why}</li> }).collect_view()}
                            </ul>
                        })}
                    </div>
                }.into_any(),
                Err(e) => view! { <p class="bad" role="alert" id="discovery-error">{e.to_string()}</p> }.into_any(),
            })}
            <Transition fallback=|| view! { <p class="muted">"Loading the registry…"</p> }>
                {move || page.get().map(|r| match r {
                    Ok(p) => view! {
                        <FleetPicture page=p.clone() health=health page_no=page_no/>
                        {p.refresh.clone().map(|r| view! { <RefreshLine progress=r/> })}
                    }.into_any(),
                    Err(e) => view! { <p class="bad" role="alert" id="fleet-error">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
            {move || refresh.value().get().and_then(Result::err).map(|e| view! {
                <p class="bad" role="alert" id="refresh-error">{e.to_string()}</p>
            })}
            <div class="fleet-tools">
                <label class="search">
                    <span class="sr-only">"Search devices"</span>
                    <input type="search" id="search" node_ref=search_box autocomplete="off"
                        placeholder="Search name, site, tag, version or error   ( / )"
                        prop:value=move || search.get()
                        on:input=move |ev| { search.set(event_target_value(&ev)); page_no.set(0); }/>
                </label>
                <label>"Rows "
                    <select id="page-size" on:change=move |ev| {
                        page_size.set(event_target_value(&ev).parse().unwrap_or(100));
                        page_no.set(0);
                    }>
                        {[25u32, 50, 100, 200, 500].into_iter().map(|n| view! {
                            <option value=n.to_string() selected=move || page_size.get() == n>{n.to_string()}</option>
                        }).collect_view()}
                    </select>
                </label>
            </div>
            <BulkBar selected=selected bulk=bulk/>
            <Transition fallback=|| ()>
                {move || page.get().and_then(Result::ok).map(|p| {
                    let ids: Vec<i64> = p.rows.iter().map(|r| r.id).collect();
                    let all_ids = ids.clone();
                    let all_selected = move || !all_ids.is_empty() && selected.with(|s| all_ids.iter().all(|i| s.contains(i)));
                    if p.total == 0 {
                        return view! { <p id="no-devices">"No device is registered yet. An administrator imports them: amt-portal import-devices devices.csv"</p> }.into_any();
                    }
                    view! {
                        <table class="fleet" id="fleet">
                            <thead><tr>
                                <th class="pick">
                                    <input type="checkbox" id="select-page" aria-label="Select every device on this page"
                                        prop:checked=all_selected
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            selected.update(|s| for i in &ids { if on { s.insert(*i); } else { s.remove(i); } });
                                        }/>
                                </th>
                                {SortKey::ALL.into_iter().map(|k| view! {
                                    <th aria-sort=move || if sort.get() != k { "none" } else if descending.get() { "descending" } else { "ascending" }>
                                        <button type="button" class="sort" id=format!("sort-{}", k.id()) on:click=move |_| set_sort(k)>
                                            {k.label()}
                                            {move || (sort.get() == k).then(|| if descending.get() { " ▼" } else { " ▲" })}
                                        </button>
                                    </th>
                                }).collect_view()}
                                <th>"Control mode"</th>
                                <th>"Last problem"</th>
                            </tr></thead>
                            <tbody>
                                {p.rows.into_iter().map(|d| {
                                    let id = d.id;
                                    let short = d.fqdn.split('.').next().unwrap_or_default().to_string();
                                    view! {
                                        <tr id=format!("row-{short}") data-health=d.health.id()>
                                            <td class="pick">
                                                <input type="checkbox" id=format!("pick-{short}") aria-label=format!("Select {}", d.fqdn)
                                                    prop:checked=move || selected.with(|s| s.contains(&id))
                                                    on:change=move |ev| {
                                                        let on = event_target_checked(&ev);
                                                        selected.update(|s| { if on { s.insert(id); } else { s.remove(&id); } });
                                                    }/>
                                            </td>
                                            <td><a href=format!("/devices/{id}") id=format!("device-{short}")>{d.fqdn.clone()}</a></td>
                                            <td class="state">
                                                <span class=format!("dot health-{}", d.health.id()) aria-hidden="true"></span>
                                                <span class="state-text">{d.power.clone().unwrap_or_else(|| d.health.label().to_string())}</span>
                                            </td>
                                            <td>{d.amt_version.clone().unwrap_or_default()}</td>
                                            <td>{d.site.clone()}
                                                {(!d.tags.is_empty()).then(|| view! { <span class="tags muted">{format!(" · {}", d.tags)}</span> })}
                                            </td>
                                            <td class="muted nowrap" title=d.checked_at.clone().unwrap_or_default()>
                                                {d.checked_at.as_deref().map(shared::human_time).unwrap_or_else(|| "never".into())}
                                            </td>
                                            <td class="muted">{d.control_mode.clone().unwrap_or_default()}</td>
                                            <td class="problem">{d.error.clone().unwrap_or_default()}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        <Pager page=p.page page_size=p.page_size matching=p.matching total=p.total page_no=page_no/>
                    }.into_any()
                })}
            </Transition>
        </section>
    }
}

/// "Add a device": the registry's fields, checked on the server (the reason names the field).
#[component]
fn AddDeviceForm(add: ServerAction<AddDevice>) -> impl IntoView {
    let form = RwSignal::new(shared::NewDeviceForm::default());
    let field = move |label: &'static str,
                      id: &'static str,
                      hint: &'static str,
                      get: fn(&shared::NewDeviceForm) -> String,
                      set: fn(&mut shared::NewDeviceForm, String)| {
        view! {
            <label for=id>{label}</label>
            <input id=id placeholder=hint autocomplete="off" prop:value=move || form.with(get)
                on:input=move |ev| { let v = event_target_value(&ev); form.update(|f| set(f, v)); }/>
        }
    };
    view! {
        <details class="add-device" id="add-device">
            <summary>"Add a device"</summary>
            <form class="inline" on:submit=move |ev| { ev.prevent_default(); add.dispatch(AddDevice { device: form.get_untracked() }); }>
                {field("FQDN", "new-fqdn", "amt9.example.com", |f| f.fqdn.clone(), |f, v| f.fqdn = v)}
                {field("Address", "new-address", "same as the FQDN", |f| f.address.clone(), |f, v| f.address = v)}
                {field("Port", "new-port", "16992", |f| f.port.clone(), |f, v| f.port = v)}
                <label><input type="checkbox" id="new-tls" prop:checked=move || form.with(|f| f.tls)
                    on:change=move |ev| { let on = event_target_checked(&ev); form.update(|f| f.tls = on); }/>" TLS"</label>
                {field("Site", "new-site", "", |f| f.site.clone(), |f, v| f.site = v)}
                {field("Tags", "new-tags", "desk, floor2", |f| f.tags.clone(), |f, v| f.tags = v)}
                <button type="submit" id="new-submit" disabled=move || add.pending().get()>"Add"</button>
            </form>
            {move || add.value().get().map(|r| match r {
                Ok(m) => view! { <p class="ok" id="add-outcome">{m}</p> }.into_any(),
                Err(e) => view! { <p class="bad" id="add-outcome" role="alert">{e.to_string()}</p> }.into_any(),
            })}
        </details>
    }
}

/// The fleet's health as one stacked bar, with a legend whose entries filter the list.
#[component]
fn FleetPicture(page: FleetPage, health: RwSignal<Option<Health>>, page_no: RwSignal<u32>) -> impl IntoView {
    let total = page.total.max(1) as f64;
    let counts = page.counts.counts.clone();
    let summary = counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(h, n)| format!("{n} {}", h.label()))
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <div class="fleet-picture" id="fleet-picture" role="img"
            aria-label=summary>
            {counts.iter().filter(|(_, n)| *n > 0).map(|(h, n)| view! {
                <span class=format!("seg health-{}", h.id()) style=format!("width:{:.3}%", *n as f64 * 100.0 / total)></span>
            }).collect_view()}
        </div>
        <div class="legend" role="group" aria-label="Show only devices in one state">
            <button type="button" id="filter-all" class:active=move || health.get().is_none()
                on:click=move |_| { health.set(None); page_no.set(0); }>
                {format!("All {}", page.total)}
            </button>
            {counts.into_iter().filter(|(h, n)| *n > 0 || *h == Health::On).map(|(h, n)| view! {
                <button type="button" id=format!("filter-{}", h.id()) class:active=move || health.get() == Some(h)
                    on:click=move |_| { health.set(Some(h)); page_no.set(0); }>
                    <span class=format!("dot health-{}", h.id()) aria-hidden="true"></span>
                    {format!("{} {n}", h.label())}
                </button>
            }).collect_view()}
        </div>
    }
}

/// "Checked 120 of 10,000 devices (3 failed)" with a bar, while a refresh runs, then its summary.
#[component]
fn RefreshLine(progress: RefreshProgress) -> impl IntoView {
    let pct = if progress.total == 0 {
        100.0
    } else {
        progress.done as f64 * 100.0 / progress.total as f64
    };
    let text = if progress.running {
        format!(
            "Checking devices: {} of {} done, {} failed",
            progress.done, progress.total, progress.failed
        )
    } else {
        format!(
            "Last check: {} devices, {} failed, finished {} ({})",
            progress.total,
            progress.failed,
            progress
                .finished_at
                .as_deref()
                .map(shared::human_time)
                .unwrap_or_default(),
            progress.started_by
        )
    };
    view! {
        <div class="refresh-line" id="refresh-progress" data-running=progress.running.to_string() aria-live="polite">
            {progress.running.then(|| view! {
                <progress max=progress.total.to_string() value=progress.done.to_string()>{format!("{pct:.0}%")}</progress>
            })}
            <span class="muted">{text}</span>
        </div>
    }
}

/// Previous / next with "101–200 of 10,000".
#[component]
fn Pager(page: u32, page_size: u32, matching: usize, total: usize, page_no: RwSignal<u32>) -> impl IntoView {
    let first = page as usize * page_size as usize;
    let last = (first + page_size as usize).min(matching);
    let has_next = last < matching;
    let text = if matching == 0 {
        format!("No device matches (of {total})")
    } else if matching == total {
        format!("{}–{last} of {total}", first + 1)
    } else {
        format!("{}–{last} of {matching} matching ({total} in all)", first + 1)
    };
    view! {
        <nav class="pager" aria-label="Pages">
            <button type="button" id="page-prev" disabled=page == 0 on:click=move |_| page_no.update(|p| *p = p.saturating_sub(1))>"← Previous"</button>
            <span id="page-info">{text}</span>
            <button type="button" id="page-next" disabled=!has_next on:click=move |_| page_no.update(|p| *p += 1)>"Next →"</button>
        </nav>
    }
}

/// The selection's actions: choose, confirm, then one result per device.
#[component]
fn BulkBar(selected: RwSignal<BTreeSet<i64>>, bulk: ServerAction<BulkPower>) -> impl IntoView {
    let action = RwSignal::new(PowerAction::On);
    let confirming = RwSignal::new(false);
    let run = move || {
        confirming.set(false);
        let ids: Vec<i64> = selected.get_untracked().into_iter().collect();
        bulk.dispatch(BulkPower {
            ids,
            action: action.get_untracked(),
        });
    };
    view! {
        <div class="bulk" id="bulk" class:hidden=move || selected.with(BTreeSet::is_empty) && bulk.value().get().is_none()>
            {move || {
                let n = selected.with(BTreeSet::len);
                (n > 0).then(|| view! {
                    <span id="selected-count">{format!("{n} selected")}</span>
                    <label class="sr-only" for="bulk-action">"Power action"</label>
                    <select id="bulk-action" on:change=move |ev| {
                        let id = event_target_value(&ev);
                        if let Some(a) = PowerAction::ALL.into_iter().find(|a| a.id() == id) { action.set(a); }
                    }>
                        {PowerAction::ALL.into_iter().map(|a| view! {
                            <option value=a.id() selected=move || action.get() == a>{a.label()}</option>
                        }).collect_view()}
                    </select>
                    <button type="button" id="bulk-run" disabled=move || bulk.pending().get()
                        on:click=move |_| if action.get_untracked().is_disruptive() { confirming.set(true) } else { run() }>
                        "Run on selection"
                    </button>
                    <button type="button" class="link" id="bulk-clear" on:click=move |_| selected.set(BTreeSet::new())>"Clear selection"</button>
                })
            }}
            {move || confirming.get().then(|| view! {
                <div class="confirm" role="alertdialog" aria-labelledby="bulk-confirm-text">
                    <p id="bulk-confirm-text">{format!("{} on {} devices? Running operating systems are interrupted.",
                        action.get().label(), selected.with(BTreeSet::len))}</p>
                    <button type="button" id="bulk-confirm" autofocus on:click=move |_| run()>
                        {format!("Yes, {}", action.get().label().to_lowercase())}
                    </button>
                    <button type="button" id="bulk-cancel" on:click=move |_| confirming.set(false)>"Cancel"</button>
                </div>
            })}
            <div aria-live="polite">
                {move || bulk.pending().get().then(|| view! {
                    <p class="muted" id="bulk-working">"Working on the selected devices, as you…"</p>
                })}
                {move || bulk.value().get().map(|r| match r {
                    Ok(report) => view! { <BulkResults report/> }.into_any(),
                    Err(e) => view! { <p class="bad" id="bulk-error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </div>
        </div>
    }
}

/// One line per device: done, or refused with the reason.
#[component]
fn BulkResults(report: BulkReport) -> impl IntoView {
    let ok = report.succeeded();
    let n = report.results.len();
    view! {
        <div id="bulk-results">
            <p class=if ok == n { "ok" } else { "bad" } id="bulk-summary">
                {format!("{}: {ok} of {n} devices done", report.action.label())}
            </p>
            <ul class="results">
                {report.results.into_iter().map(|r| {
                    let short = r.fqdn.split('.').next().unwrap_or_default().to_string();
                    match r.outcome {
                        DeviceOutcome::Ok(msg) => view! {
                            <li class="ok" id=format!("result-{short}") data-code="ok">{msg}</li>
                        }.into_any(),
                        DeviceOutcome::Refused { code, message } => view! {
                            <li class="bad" id=format!("result-{short}") data-code=code>{message}</li>
                        }.into_any(),
                    }
                }).collect_view()}
            </ul>
        </div>
    }
}
