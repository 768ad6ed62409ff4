//! One device on one screen: what the user may do here, power (with boot to BIOS setup or
//! PXE), status and inventory, clock, event log and audit log, all read as the user.
//!
//! Each part the user's realms do not allow says so in its place ("not allowed: needs the
//! Hardware Asset realm"); buttons the user lacks the realm for are shown disabled with the
//! reason. Disruptive actions ask for a confirmation step (a second, explicit button, reachable
//! by keyboard); the outcome, or the device's refusal explained, is shown under the buttons.
//! The section links at the top are plain anchors, so the page works by keyboard alone.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use shared::details::{ClockSeverity, DeviceDetails, Part, describe_offset, realms};
use shared::{DeviceOutcome, PowerAction};

use crate::api::{RunPowerAction, SyncDeviceClock, device_details};
use crate::components::admin_mode::AdminModePanel;
use crate::components::device_profile::DeviceProfilePanel;
use crate::components::power::PowerButtons;
use crate::components::provisioning::ProvisioningPanel;
use crate::components::topbar::Nav;
use crate::components::transcripts::TranscriptsPanel;

/// `2026-12-05T15:30:12Z` as `2026-12-05 15:30:12 UTC`.
fn when(rfc3339: &str) -> String {
    match rfc3339.strip_suffix('Z') {
        Some(t) => format!("{} UTC", t.replacen('T', " ", 1)),
        None => rfc3339.to_string(),
    }
}

fn yes_no(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

/// A part that could not be read, in its place.
fn not_shown<T>(id: &'static str, part: &Part<T>) -> AnyView {
    match part {
        Part::Ok(_) => ().into_any(),
        Part::NotAllowed { realm, message } => {
            view! { <p class="muted not-allowed" id=format!("{id}-refused") data-realm=realm.clone()>{message.clone()}</p> }
                .into_any()
        }
        Part::Failed { message } => {
            view! { <p class="bad" id=format!("{id}-failed") role="alert">{message.clone()}</p> }.into_any()
        }
    }
}

/// `/devices/:id`.
#[component]
pub fn DevicePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
    let act = ServerAction::<RunPowerAction>::new();
    let sync = ServerAction::<SyncDeviceClock>::new();
    // Re-read everything after each action.
    let details = Resource::new(
        move || (id(), act.version().get(), sync.version().get()),
        |(id, _, _)| device_details(id),
    );
    let pending = RwSignal::new(None::<PowerAction>);

    view! {
        <Nav/>
        <Transition fallback=|| view! { <p class="muted">"Asking the device, as you…"</p> }>
            {move || details.get().map(|r| match r {
                Ok(DeviceOutcome::Ok(d)) => device_view(d, id(), act, sync, pending).into_any(),
                Ok(DeviceOutcome::Refused { code, message }) => view! {
                    <section class="card error" id="device-refused" data-code=code role="alert">
                        <h1>"The device could not be read as you"</h1><p id="refusal">{message}</p>
                        <p><a href=format!("/health?device={}", id()) id="device-health-link">"Check Kerberos health for this device"</a></p>
                    </section>
                }.into_any(),
                Err(e) => view! { <section class="card error" role="alert"><p>{e.to_string()}</p></section> }.into_any(),
            })}
        </Transition>
        {move || (id() > 0).then(|| view! { <TranscriptsPanel id=id()/> })}
        {move || (id() > 0).then(|| view! { <AdminModePanel id=id()/> })}
        {move || (id() > 0).then(|| view! { <DeviceProfilePanel id=id()/> })}
        {move || (id() > 0).then(|| view! { <ProvisioningPanel id=id()/> })}
    }
}

fn device_view(
    d: DeviceDetails,
    id: i64,
    act: ServerAction<RunPowerAction>,
    sync: ServerAction<SyncDeviceClock>,
    pending: RwSignal<Option<PowerAction>>,
) -> impl IntoView {
    view! {
        <section class="card" id="device">
            <h1>{d.device.fqdn.clone()}</h1>
            <p class="muted" id="acting-as">{format!("Read with {}.", d.acting_as)}</p>
            <p><a href=crate::pages::console::console_href(id) id="open-console" class="button-link">"Open the serial console"</a></p>
            <nav class="sections" aria-label="Sections of this page">
                <a href="#rights">"What you may do"</a>
                <a href="#power">"Power"</a>
                <a href=format!("/health?device={id}") id="device-health-link">"Kerberos health"</a>
                <a href="#inventory">"Status and inventory"</a>
                <a href="#clock">"Clock"</a>
                <a href="#transcripts">"Console transcripts"</a>
                <a href="#events">"Event log"</a>
                <a href="#audit">"Audit log"</a>
            </nav>
        </section>
        {rights_view(&d)}
        {power_view(&d, id, act, pending)}
        {inventory_view(&d)}
        {clock_view(&d, id, sync)}
        {events_view(&d)}
        {audit_view(&d)}
    }
}

fn rights_view(d: &DeviceDetails) -> impl IntoView + use<> {
    view! {
        <section class="card" id="rights" aria-labelledby="rights-h">
            <h2 id="rights-h">"What you may do here"</h2>
            <p class="muted">"From what the device just answered you, before you try anything."</p>
            <ul class="rights">
                {d.rights.iter().map(|r| {
                    let (mark, state, why) = match r.allowed {
                        Some(true) => ("✓", "yes", String::new()),
                        Some(false) => ("✗", "no", format!(" — not allowed: needs the {} realm", r.realm)),
                        None => ("?", "unknown", " — not known: the device did not answer this read".to_string()),
                    };
                    view! {
                        <li id=format!("right-{}", r.id) data-allowed=state>
                            <span aria-hidden="true">{mark}" "</span>
                            <strong>{r.realm.clone()}</strong>": "{r.what.clone()}{why}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

fn power_view(
    d: &DeviceDetails,
    id: i64,
    act: ServerAction<RunPowerAction>,
    pending: RwSignal<Option<PowerAction>>,
) -> impl IntoView + use<> {
    let fqdn = d.device.fqdn.clone();
    let body = match &d.power {
        Part::Ok(p) => {
            let fqdn = fqdn.clone();
            view! {
                <p class="power">
                    <span class="power-dot" class:on=p.on aria-hidden="true"></span>
                    <span id="power-state">{p.state.clone()}</span>
                </p>
                <PowerButtons id=id fqdn=fqdn available=p.available.clone() act=act pending=pending/>
                <p class="muted">"Actions the device does not offer in its current state are not shown."</p>
            }
            .into_any()
        }
        Part::NotAllowed { realm, .. } => {
            let reason = format!("needs the {realm} realm");
            view! {
                <p class="bad" id="power-refused" data-code="access_denied">
                    {format!("{fqdn} refused: none of your groups has the {realm} realm on this device.")}
                </p>
                <div class="actions">
                    {PowerAction::ALL.into_iter().map(|a| view! {
                        <button type="button" id=format!("action-{}", a.id()) disabled=true title=reason.clone()
                            aria-describedby="power-reason">{a.label()}</button>
                    }).collect_view()}
                </div>
                <p class="muted" id="power-reason">{format!("These buttons are disabled: {reason}.")}</p>
            }
            .into_any()
        }
        Part::Failed { message } => {
            view! { <p class="bad" id="power-failed" role="alert">{message.clone()}</p> }.into_any()
        }
    };
    view! {
        <section class="card" id="power" aria-labelledby="power-h">
            <h2 id="power-h">"Power"</h2>
            {body}
            <div aria-live="polite">
                {move || act.pending().get().then(|| view! { <p class="muted" id="working">"Working…"</p> })}
                {move || act.value().get().map(|r| match r {
                    Ok(DeviceOutcome::Ok(msg)) => view! { <p class="ok" id="outcome">{msg}</p> }.into_any(),
                    Ok(DeviceOutcome::Refused { code, message }) => view! { <p class="bad" id="outcome" data-code=code>{message}</p> }.into_any(),
                    Err(e) => view! { <p class="bad" id="outcome">{e.to_string()}</p> }.into_any(),
                })}
            </div>
        </section>
    }
}

fn inventory_view(d: &DeviceDetails) -> impl IntoView + use<> {
    let general = d.general.ok().cloned().map(|g| {
        view! {
            <h3>"Firmware and provisioning"</h3>
            <dl>
                <dt>"AMT version"</dt><dd id="fw-version">{g.amt_version}</dd>
                <dt>"Build"</dt><dd id="fw-build">{g.build}</dd>
                <dt>"Provisioning"</dt><dd id="provisioning">{g.provisioning_state}</dd>
                <dt>"Control mode"</dt><dd id="control-mode">{g.control_mode}</dd>
                <dt>"AMT host name"</dt><dd id="amt-hostname">{g.host_name}</dd>
                <dt>"AMT domain"</dt><dd id="amt-domain">{g.domain_name}</dd>
            </dl>
        }
    });
    let hardware = d.hardware.ok().cloned().map(|h| {
        view! {
            <h3>"System"</h3>
            <dl>
                <dt>"Manufacturer"</dt><dd id="inv-manufacturer">{h.manufacturer}</dd>
                <dt>"Model"</dt><dd id="inv-model">{h.model}</dd>
                <dt>"Serial number"</dt><dd id="inv-serial">{h.serial}</dd>
                <dt>"Platform GUID"</dt><dd id="inv-guid"><code>{h.platform_guid}</code></dd>
                <dt>"BIOS"</dt><dd id="inv-bios">{format!("{} {} ({})", h.bios_vendor, h.bios_version, h.bios_date)}</dd>
            </dl>
            <h3>"Processors"</h3>
            <table class="fleet" id="inv-cpus">
                <thead><tr><th>"Processor"</th><th>"Max speed"</th><th>"Current speed"</th><th>"Stepping"</th></tr></thead>
                <tbody>
                    {h.processors.into_iter().map(|p| view! {
                        <tr>
                            <td>{p.id}</td>
                            <td>{p.max_mhz.map(|m| format!("{m} MHz")).unwrap_or_default()}</td>
                            <td>{p.current_mhz.map(|m| format!("{m} MHz")).unwrap_or_default()}</td>
                            <td>{p.stepping}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <h3>"Memory"</h3>
            <table class="fleet" id="inv-memory">
                <thead><tr><th>"Bank"</th><th>"Size"</th><th>"Speed"</th><th>"Maker"</th><th>"Part number"</th><th>"Serial"</th></tr></thead>
                <tbody>
                    {h.memory.into_iter().map(|m| view! {
                        <tr>
                            <td>{m.bank}</td>
                            <td>{m.capacity_bytes.map(|b| format!("{} GiB", b / (1 << 30))).unwrap_or_default()}</td>
                            <td>{m.speed_mhz.map(|s| format!("{s} MHz")).unwrap_or_default()}</td>
                            <td>{m.manufacturer}</td>
                            <td>{m.part_number}</td>
                            <td>{m.serial}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <h3>"Network"</h3>
            <table class="fleet" id="inv-network">
                <thead><tr><th>"Interface"</th><th>"MAC"</th><th>"IP address"</th><th>"DHCP"</th><th>"Link up"</th></tr></thead>
                <tbody>
                    {h.network.into_iter().map(|n| view! {
                        <tr>
                            <td>{n.kind}</td>
                            <td><code>{n.mac}</code></td>
                            <td>{if n.ip.is_empty() { "—".to_string() } else { n.ip }}</td>
                            <td>{yes_no(n.dhcp)}</td>
                            <td>{yes_no(n.link_up)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
    });
    view! {
        <section class="card" id="inventory" aria-labelledby="inventory-h">
            <h2 id="inventory-h">"Status and inventory"</h2>
            {general}
            {not_shown("general", &d.general)}
            {hardware}
            {not_shown("hardware", &d.hardware)}
        </section>
    }
}

fn clock_view(d: &DeviceDetails, id: i64, sync: ServerAction<SyncDeviceClock>) -> impl IntoView + use<> {
    let body = d.clock.ok().cloned().map(|c| {
        let severity = c.severity();
        let class = match severity {
            ClockSeverity::Fine => "ok",
            ClockSeverity::Drifting => "warn-text",
            ClockSeverity::Broken => "bad",
        };
        let note = match severity {
            ClockSeverity::Fine => "In step with the portal.",
            ClockSeverity::Drifting => {
                "Drifting: at more than 5 minutes (the device's Kerberos tolerance) sign-in to the device fails. Synchronize it now."
            }
            ClockSeverity::Broken => {
                "More than 5 minutes off: Kerberos sign-in to the device fails (its tickets look expired or not yet valid), and its event and audit log times are wrong."
            }
        };
        view! {
            <dl>
                <dt>"Device time"</dt><dd id="device-time">{when(&c.device_time)}</dd>
                <dt>"Portal time"</dt><dd id="portal-time">{when(&c.portal_time)}</dd>
                <dt>"Offset"</dt>
                <dd id="clock-offset" class=class data-offset=c.offset_secs.to_string()>{describe_offset(c.offset_secs)}</dd>
            </dl>
            <p id="clock-note" class=class>{note}</p>
        }
    });
    let disabled = matches!(d.clock, Part::NotAllowed { .. });
    let reason = format!("needs the {} realm", realms::NETWORK_TIME);
    view! {
        <section class="card" id="clock" aria-labelledby="clock-h">
            <h2 id="clock-h">"Clock"</h2>
            {body}
            {not_shown("clock", &d.clock)}
            <div class="actions">
                <button type="button" id="sync-clock" disabled=disabled title=disabled.then(|| reason.clone())
                    on:click=move |_| { sync.dispatch(SyncDeviceClock { id }); }>
                    "Synchronize clock"
                </button>
            </div>
            {disabled.then(|| view! { <p class="muted" id="sync-reason">{format!("Disabled: {reason}.")}</p> })}
            <div aria-live="polite">
                {move || sync.pending().get().then(|| view! { <p class="muted">"Setting the device clock…"</p> })}
                {move || sync.value().get().map(|r| match r {
                    Ok(DeviceOutcome::Ok(msg)) => view! { <p class="ok" id="clock-outcome">{msg}</p> }.into_any(),
                    Ok(DeviceOutcome::Refused { code, message }) => view! { <p class="bad" id="clock-outcome" data-code=code>{message}</p> }.into_any(),
                    Err(e) => view! { <p class="bad" id="clock-outcome">{e.to_string()}</p> }.into_any(),
                })}
            </div>
        </section>
    }
}

fn events_view(d: &DeviceDetails) -> impl IntoView + use<> {
    let table = d.events.ok().cloned().map(|events| {
        if events.is_empty() {
            return view! { <p id="event-log-empty" class="muted">"The event log is empty."</p> }.into_any();
        }
        view! {
            <table class="fleet" id="event-log">
                <thead><tr><th>"When (device clock)"</th><th>"Severity"</th><th>"Source"</th><th>"Event"</th></tr></thead>
                <tbody>
                    {events.into_iter().map(|e| view! {
                        <tr><td>{when(&e.time)}</td><td>{e.severity}</td><td>{e.source}</td><td>{e.description}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
        .into_any()
    });
    view! {
        <section class="card" id="events" aria-labelledby="events-h">
            <h2 id="events-h">"Event log"</h2>
            {table}
            {not_shown("events", &d.events)}
        </section>
    }
}

fn audit_view(d: &DeviceDetails) -> impl IntoView + use<> {
    let table = d.audit.ok().cloned().map(|a| {
        view! {
            <p class="muted">{format!("The newest {} of {} records, newest first.", a.entries.len(), a.total)}</p>
            <table class="fleet" id="audit-log">
                <thead><tr><th>"When (device clock)"</th><th>"Event"</th><th>"By"</th><th>"From"</th></tr></thead>
                <tbody>
                    {a.entries.into_iter().map(|e| view! {
                        <tr>
                            <td>{when(&e.time)}</td>
                            <td>{e.event}</td>
                            <td class="initiator" title=e.initiator_sid.clone().unwrap_or_default()>{e.initiator}</td>
                            <td>{e.address}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
    });
    view! {
        <section class="card" id="audit" aria-labelledby="audit-h">
            <h2 id="audit-h">"Audit log"</h2>
            {table}
            {not_shown("audit", &d.audit)}
        </section>
    }
}
