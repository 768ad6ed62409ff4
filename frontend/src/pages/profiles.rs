//! Provisioning profiles, for registry administrators: the list (`/profiles`) and the editor
//! (`/profiles/new`, `/profiles/:id`).
//!
//! The editor keeps the whole profile in one signal: a refused save shows each problem next to
//! its field and nothing typed is lost. ACL entries are picked by searching the directory
//! (type-ahead; Enter adds the first match, every match is a button); realms are checkboxes with
//! their plain names and meaning, with presets. A saved profile's page also assigns devices.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};
use shared::DeviceOutcome;
use shared::profiles::{
    AccessScope, ConsentPolicy, MAX_KERBEROS_ACL_ENTRIES, Principal, PrincipalKind, Profile, ProfileAclEntry,
    ProfileProblem, Realm, SaveOutcome, TlsPolicy,
};

use crate::api::{
    AssignProfile, DeleteProfile, SaveProfile, get_profile, list_profiles, profile_devices, search_principals,
};
use crate::components::topbar::Nav;

/// `/profiles`.
#[component]
pub fn ProfilesPage() -> impl IntoView {
    let rows = Resource::new(|| (), |_| list_profiles());
    view! {
        <Nav/>
        <section class="card" id="profiles-page">
            <div class="fleet-head">
                <h1>"Provisioning profiles"</h1>
                <a href="/profiles/new" id="new-profile" class="button-link">"New profile"</a>
            </div>
            <p class="muted">
                "A profile says which AD users and groups get which AMT realms on a device, where the device's "
                "computer object lives, and the device settings applied with it. It takes effect when a device is provisioned."
            </p>
            <Transition fallback=|| view! { <p class="muted">"Reading the profiles…"</p> }>
                {move || rows.get().map(|r| match r {
                    Ok(DeviceOutcome::Ok(list)) if list.is_empty() => view! {
                        <p id="no-profiles">"No profile yet: create one with \"New profile\"."</p>
                    }.into_any(),
                    Ok(DeviceOutcome::Ok(list)) => view! {
                        <table class="fleet" id="profiles-table">
                            <thead><tr><th>"Name"</th><th>"Entries"</th><th>"Devices using it"</th><th>"Last change"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|p| view! {
                                    <tr data-id=p.id.to_string()>
                                        <td><a href=format!("/profiles/{}", p.id)>{p.name}</a>
                                            <div class="muted">{p.description}</div></td>
                                        <td class="entries">{p.entries}</td>
                                        <td class="devices">{if p.devices.is_empty() { "none".to_string() } else { p.devices.join(", ") }}</td>
                                        <td class="muted">{format!("{} by {}", shared::human_time(&p.updated_at), p.updated_by)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Ok(DeviceOutcome::Refused { code, message }) => view! {
                        <p class="bad" id="profiles-refused" data-code=code role="alert">{message}</p>
                    }.into_any(),
                    Err(e) => view! { <p class="bad" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

/// The problem of `field`, shown under it.
fn problem_of(problems: RwSignal<Vec<ProfileProblem>>, field: String) -> impl IntoView {
    move || {
        problems.with(|ps| {
            ps.iter()
                .filter(|p| p.field == field)
                .map(|p| {
                    view! { <p class="bad problem" data-field=p.field.clone() role="alert">{p.message.clone()}</p> }
                })
                .collect_view()
        })
    }
}

/// `/profiles/new` and `/profiles/:id`.
#[component]
pub fn ProfileEditorPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
    let loaded = Resource::new(id, get_profile);
    view! {
        <Nav/>
        <p><a href="/profiles">"← All profiles"</a></p>
        <Transition fallback=|| view! { <p class="muted">"Reading the profile…"</p> }>
            {move || loaded.get().map(|r| match r {
                Ok(DeviceOutcome::Ok(p)) => view! { <Editor profile=p/> }.into_any(),
                Ok(DeviceOutcome::Refused { code, message }) => view! {
                    <section class="card error" id="profile-refused" data-code=code role="alert"><p>{message}</p></section>
                }.into_any(),
                Err(e) => view! { <section class="card error" role="alert"><p>{e.to_string()}</p></section> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn Editor(profile: Profile) -> impl IntoView {
    let id = profile.id;
    let tolerance = RwSignal::new(profile.clock_tolerance_minutes.to_string());
    let sync_hours = RwSignal::new(profile.time_sync_hours.to_string());
    let p = RwSignal::new(profile);
    let problems = RwSignal::new(Vec::<ProfileProblem>::new());
    let save = ServerAction::<SaveProfile>::new();
    let delete = ServerAction::<DeleteProfile>::new();
    let navigate = use_navigate();

    Effect::new(move |_| {
        if let Some(r) = save.value().get() {
            match r {
                Ok(SaveOutcome::Saved { id: new_id, .. }) => {
                    problems.set(Vec::new());
                    if id == 0 {
                        navigate(&format!("/profiles/{new_id}"), Default::default());
                    }
                }
                Ok(SaveOutcome::Problems(ps)) => problems.set(ps),
                Err(_) => problems.set(Vec::new()),
            }
        }
    });
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = delete.value().get() {
            navigate("/profiles", Default::default());
        }
    });

    let number = |s: &str| s.trim().parse::<u64>().ok().map(|v| v.min(u64::from(u16::MAX)));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut profile = p.get_untracked();
        profile.clock_tolerance_minutes = number(&tolerance.get_untracked()).map_or(0, |v| v.min(255) as u8);
        profile.time_sync_hours = number(&sync_hours.get_untracked()).map_or(0, |v| v as u16);
        save.dispatch(SaveProfile { profile });
    };
    let text = move |field: &'static str, get: fn(&Profile) -> String, set: fn(&mut Profile, String)| {
        move || {
            view! {
                <input id=field name=field type="text" prop:value=move || p.with(get)
                    aria-describedby=format!("{field}-hint")
                    aria-invalid=move || problems.with(|ps| ps.iter().any(|x| x.field == field)).to_string()
                    on:input=move |ev| p.update(|x| set(x, event_target_value(&ev)))/>
            }
        }
    };

    let head = view! {
            <h1>{if id == 0 { "New profile".to_string() } else { format!("Profile: {}", p.get_untracked().name) }}</h1>
            <label for="name">"Name"</label>
            {text("name", |x| x.name.clone(), |x, v| x.name = v)}
            <span class="muted hint" id="name-hint">"1 to 64 characters."</span>
            {problem_of(problems, "name".into())}
            <label for="description">"Description"</label>
            {text("description", |x| x.description.clone(), |x, v| x.description = v)}
            <span class="muted hint" id="description-hint">"Optional: what the profile is for."</span>
            {problem_of(problems, "description".into())}
    }
    .into_any();
    let acl = view! {
            <h2>"Who gets which realms"</h2>
            <p class="muted">
                {format!("AD users and groups, stored by SID; at most {MAX_KERBEROS_ACL_ENTRIES} entries (SCS and AMT allow no more). \
                A person who matches several entries gets the realms of all of them.")}
            </p>
            <PrincipalSearch p=p/>
            {problem_of(problems, "acl".into())}
            <AclEntries p=p problems=problems/>
    }
    .into_any();
    let settings = view! {
            <h2>"Device settings"</h2>
            <label for="device_ou">"OU for the devices' computer objects"</label>
            {text("device_ou", |x| x.device_ou.clone(), |x, v| x.device_ou = v)}
            <span class="muted hint" id="device_ou-hint">"Distinguished name, e.g. OU=AMT Devices,DC=example,DC=com."</span>
            {problem_of(problems, "device_ou".into())}

            <label for="clock_tolerance_minutes">"Maximum clock tolerance (minutes)"</label>
            <input id="clock_tolerance_minutes" type="number" inputmode="numeric" min="1" max="5"
                aria-describedby="clock_tolerance_minutes-hint"
                aria-invalid=move || problems.with(|ps| ps.iter().any(|x| x.field == "clock_tolerance_minutes")).to_string()
                prop:value=move || tolerance.get() on:input=move |ev| tolerance.set(event_target_value(&ev))/>
            <span class="muted hint" id="clock_tolerance_minutes-hint">"1 to 5; Kerberos and AMT allow at most 5."</span>
            {problem_of(problems, "clock_tolerance_minutes".into())}

            <label for="time_sync_hours">"Synchronize the device clock every (hours)"</label>
            <input id="time_sync_hours" type="number" inputmode="numeric" min="1" max="168"
                aria-describedby="time_sync_hours-hint"
                aria-invalid=move || problems.with(|ps| ps.iter().any(|x| x.field == "time_sync_hours")).to_string()
                prop:value=move || sync_hours.get() on:input=move |ev| sync_hours.set(event_target_value(&ev))/>
            <span class="muted hint" id="time_sync_hours-hint">"1 to 168 (a week)."</span>
            {problem_of(problems, "time_sync_hours".into())}
    }
    .into_any();
    let policies = view! {
            <label for="tls">"TLS"</label>
            <select id="tls" on:change=move |ev| {
                if let Some(t) = TlsPolicy::from_id(&event_target_value(&ev)) { p.update(|x| x.tls = t) }
            }>
                {TlsPolicy::ALL.into_iter().map(|t| view! {
                    <option value=t.id() selected=move || p.with(|x| x.tls == t)>{t.name()}</option>
                }).collect_view()}
            </select>
            {problem_of(problems, "tls".into())}

            <fieldset class="redirection">
                <legend>"Redirection"</legend>
                {[("sol", "Serial-over-LAN (SOL)", 0u8), ("storage", "Storage (IDE-R / USB-R)", 1), ("kvm", "KVM (remote screen)", 2)]
                    .into_iter().map(|(key, label, which)| {
                        let get = move |x: &Profile| match which { 0 => x.redirection.sol, 1 => x.redirection.storage, _ => x.redirection.kvm };
                        view! {
                            <label class="check">
                                <input type="checkbox" id=format!("redirection-{key}") prop:checked=move || p.with(get)
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        p.update(|x| match which { 0 => x.redirection.sol = on, 1 => x.redirection.storage = on, _ => x.redirection.kvm = on });
                                    }/>
                                {label}
                            </label>
                        }
                    }).collect_view()}
            </fieldset>
            {problem_of(problems, "redirection".into())}

            <label for="consent">"User consent"</label>
            <select id="consent" on:change=move |ev| {
                if let Some(c) = ConsentPolicy::from_id(&event_target_value(&ev)) { p.update(|x| x.consent = c) }
            }>
                {ConsentPolicy::ALL.into_iter().map(|c| view! {
                    <option value=c.id() selected=move || p.with(|x| x.consent == c)>{c.name()}</option>
                }).collect_view()}
            </select>
            {problem_of(problems, "consent".into())}
    }
    .into_any();
    let actions = view! {
            <div class="actions form-actions">
                <button type="submit" id="save-profile">"Save profile"</button>
                {(id != 0).then(|| view! {
                    <button type="button" id="delete-profile" class="secondary"
                        on:click=move |_| { delete.dispatch(DeleteProfile { id }); }>"Delete profile"</button>
                })}
            </div>
            <div aria-live="polite">
                {move || save.value().get().map(|r| match r {
                    Ok(SaveOutcome::Saved { message, .. }) => view! { <p class="ok" id="save-outcome">{message}</p> }.into_any(),
                    Ok(SaveOutcome::Problems(ps)) => view! {
                        <p class="bad" id="save-outcome" role="alert">{format!(
                            "Not saved: {} to fix (shown by {}).", if ps.len() == 1 { "one thing".to_string() } else { format!("{} things", ps.len()) },
                            if ps.len() == 1 { "its field" } else { "their fields" })}</p>
                    }.into_any(),
                    Err(e) => view! { <p class="bad" id="save-outcome" role="alert">{e.to_string()}</p> }.into_any(),
                })}
                {move || delete.value().get().and_then(Result::err).map(|e| view! {
                    <p class="bad" id="delete-outcome" role="alert">{e.to_string()}</p>
                })}
            </div>
    }
    .into_any();
    view! {
        <form class="card profile-form" id="profile-form" on:submit=on_submit novalidate>
            {head}{acl}{settings}{policies}{actions}
        </form>
        {(id != 0).then(|| view! { <AssignDevices id=id/> })}
    }
}

/// The directory search that adds entries.
#[component]
fn PrincipalSearch(p: RwSignal<Profile>) -> impl IntoView {
    let query = RwSignal::new(String::new());
    let note = RwSignal::new(None::<String>);
    let found = Resource::new(
        move || query.get(),
        |q| async move {
            if q.trim().is_empty() {
                Ok(Vec::new())
            } else {
                search_principals(q).await
            }
        },
    );
    let add = move |who: Principal| {
        let mut message = None;
        p.update(|x| {
            if x.acl.iter().any(|e| e.sid.eq_ignore_ascii_case(&who.sid)) {
                message = Some(format!("{} is already in the profile.", who.name));
            } else {
                x.acl.push(ProfileAclEntry {
                    sid: who.sid.clone(),
                    name: who.name.clone(),
                    kind: who.kind,
                    realms: Realm::READ.to_vec(),
                    access: AccessScope::Both,
                });
                message = Some(format!(
                    "{} added with the read realms: choose its realms below.",
                    who.name
                ));
            }
        });
        note.set(message);
        query.set(String::new());
    };
    let first = move || {
        found
            .get_untracked()
            .and_then(Result::ok)
            .and_then(|v| v.into_iter().next())
    };
    view! {
        <div class="principal-search">
            <label for="principal-search">"Add a user or group"</label>
            <input id="principal-search" type="search" autocomplete="off" placeholder="Start typing a name: AMT Help…"
                aria-describedby="principal-search-hint" aria-controls="principal-results"
                prop:value=move || query.get()
                on:input=move |ev| query.set(event_target_value(&ev))
                on:keydown=move |ev| {
                    if ev.key() == "Enter" {
                        ev.prevent_default();
                        if let Some(who) = first() { add(who); }
                    }
                }/>
            <span class="muted hint" id="principal-search-hint">"Enter adds the first match; Tab reaches each match."</span>
            <Transition fallback=|| ()>
                {move || found.get().map(|r| match r {
                    Ok(list) if list.is_empty() && !query.get_untracked().trim().is_empty() => view! {
                        <p class="muted" id="principal-results">"No user or group starts with that."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <ul class="principal-results" id="principal-results" aria-label="Matches in the directory">
                            {list.into_iter().map(|who| {
                                let label = format!("{} {}", match who.kind { PrincipalKind::Group => "group", PrincipalKind::User => "user" }, who.name);
                                let detail = who.detail.clone();
                                let sid = who.sid.clone();
                                view! {
                                    <li>
                                        <button type="button" class="secondary principal" data-sid=sid.clone()
                                            on:click=move |_| add(who.clone())>{format!("Add {label}")}</button>
                                        " "<span class="muted">{detail}" "<code>{sid}</code></span>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <p class="bad" id="principal-results" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
            <p class="muted" id="principal-note" aria-live="polite">{move || note.get()}</p>
        </div>
    }
}

/// The entries, each with its realms, presets and access.
#[component]
fn AclEntries(p: RwSignal<Profile>, problems: RwSignal<Vec<ProfileProblem>>) -> impl IntoView {
    let sids = move || p.with(|x| x.acl.iter().map(|e| e.sid.clone()).collect::<Vec<_>>());
    view! {
        <ol class="acl-entries" id="acl-entries">
            <For each=sids key=|s| s.clone() children=move |sid| entry_row(p, problems, sid)/>
        </ol>
    }
}

fn entry_row(p: RwSignal<Profile>, problems: RwSignal<Vec<ProfileProblem>>, sid: String) -> impl IntoView {
    // Copy closures (the SID is kept in a StoredValue): every control of the row uses them.
    let key = StoredValue::new(sid.clone());
    let index = move || key.with_value(|k| p.with(|x| x.acl.iter().position(|e| e.sid == *k)));
    let (name, kind) = p.with_untracked(|x| {
        x.acl
            .iter()
            .find(|e| e.sid == sid)
            .map(|e| (e.name.clone(), e.kind))
            .unwrap_or((sid.clone(), PrincipalKind::Group))
    });
    let update = move |f: &dyn Fn(&mut ProfileAclEntry)| {
        if let Some(i) = index() {
            p.update(|x| f(&mut x.acl[i]));
        }
    };
    let has = move |r: Realm| {
        index()
            .and_then(|i| p.with(|x| x.acl.get(i).map(|e| e.realms.contains(&r))))
            .unwrap_or(false)
    };
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let field = move || format!("acl.{}", index().unwrap_or(0));
    let preset = move |realms: &'static [Realm]| move |_| update(&|e| e.realms = realms.to_vec());
    let remove = move |_| key.with_value(|k| p.update(|x| x.acl.retain(|e| e.sid != *k)));
    view! {
        <li class="acl-entry" data-sid=sid.clone() data-name=name.clone()>
            <div class="entry-head">
                <strong>{name.clone()}</strong>" "
                <span class="muted">{match kind { PrincipalKind::Group => "group", PrincipalKind::User => "user" }}" "<code>{sid.clone()}</code></span>
                <button type="button" class="link remove" aria-label=format!("Remove {name}") on:click=remove>"Remove"</button>
            </div>
            <div class="presets" role="group" aria-label=format!("Presets for {name}")>
                <span class="muted">"Presets: "</span>
                <button type="button" class="secondary preset" data-preset="administrator" on:click=preset(&Realm::ADMINISTRATOR)>"Administrator (all realms)"</button>
                <button type="button" class="secondary preset" data-preset="helpdesk" on:click=preset(&Realm::HELPDESK)>"Helpdesk"</button>
                <button type="button" class="secondary preset" data-preset="viewer" on:click=preset(&Realm::READ)>"Viewer"</button>
            </div>
            <fieldset class="realms">
                <legend>{format!("Realms for {name}")}</legend>
                {Realm::ALL.into_iter().map(|r| {
                    let id = format!("realm-{slug}-{}", r.id());
                    view! {
                        <label class="check realm" for=id.clone() title=r.meaning()>
                            <input type="checkbox" id=id.clone() data-realm=r.id() prop:checked=move || has(r)
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    update(&|e| {
                                        e.realms.retain(|x| *x != r);
                                        if on { e.realms.push(r); }
                                    });
                                }/>
                            <span class="realm-name">{r.name()}</span>
                            <span class="muted realm-meaning">{format!(" — {}", r.meaning())}</span>
                        </label>
                    }
                }).collect_view()}
            </fieldset>
            <label for=format!("access-{slug}")>"Access"</label>
            <select id=format!("access-{slug}") class="access" on:change=move |ev| {
                if let Some(a) = event_target_value(&ev).parse::<u8>().ok().and_then(AccessScope::from_value) {
                    update(&|e| e.access = a);
                }
            }>
                {AccessScope::ALL.into_iter().map(|a| view! {
                    <option value=a.value().to_string()
                        selected=move || index().and_then(|i| p.with(|x| x.acl.get(i).map(|e| e.access == a))).unwrap_or(false)>
                        {a.name()}
                    </option>
                }).collect_view()}
            </select>
            {move || problem_of(problems, field())}
        </li>
    }
    .into_any()
}

/// "Assign devices" on a saved profile's page.
#[component]
fn AssignDevices(id: i64) -> impl IntoView {
    let assign = ServerAction::<AssignProfile>::new();
    let unassign = ServerAction::<AssignProfile>::new();
    let list = Resource::new(
        move || (assign.version().get(), unassign.version().get()),
        |_| profile_devices(),
    );
    let chosen = RwSignal::new(BTreeSet::<i64>::new());
    // The devices that used this profile when the list was read: unticking one takes it away.
    let had = RwSignal::new(BTreeSet::<i64>::new());
    let apply = move |_| {
        let now = chosen.get_untracked();
        let gone: Vec<i64> = had.get_untracked().difference(&now).copied().collect();
        if !now.is_empty() {
            assign.dispatch(AssignProfile {
                profile_id: Some(id),
                device_ids: now.into_iter().collect(),
            });
        }
        if !gone.is_empty() {
            unassign.dispatch(AssignProfile {
                profile_id: None,
                device_ids: gone,
            });
        }
    };
    view! {
        <section class="card" id="assign-devices" aria-labelledby="assign-h">
            <h2 id="assign-h">"Assign devices"</h2>
            <p class="muted">"Tick the devices that should use this profile (untick one to leave it without a profile). It takes effect when each is next provisioned."</p>
            <Transition fallback=|| view! { <p class="muted">"Reading the devices…"</p> }>
                {move || list.get().map(|r| match r {
                    Ok(devices) if devices.is_empty() => view! { <p>"No device is registered."</p> }.into_any(),
                    Ok(devices) => {
                        let using: BTreeSet<i64> = devices.iter().filter(|d| d.profile.as_ref().is_some_and(|(p, _)| *p == id)).map(|d| d.id).collect();
                        had.set(using.clone());
                        chosen.set(using);
                        view! {
                            <ul class="assign-list">
                                {devices.into_iter().map(|d| {
                                    let device = d.id;
                                    let now = match &d.profile {
                                        Some((p, _)) if *p == id => "uses this profile".to_string(),
                                        Some((_, name)) => format!("uses \"{name}\""),
                                        None => "no profile".to_string(),
                                    };
                                    view! {
                                        <li>
                                            <label class="check">
                                                <input type="checkbox" class="assign" data-fqdn=d.fqdn.clone()
                                                    prop:checked=move || chosen.with(|c| c.contains(&device))
                                                    on:change=move |ev| {
                                                        let on = event_target_checked(&ev);
                                                        chosen.update(|c| { if on { c.insert(device); } else { c.remove(&device); } });
                                                    }/>
                                                {d.fqdn.clone()}
                                            </label>
                                            " "<span class="muted">{now}</span>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                    Err(e) => view! { <p class="bad" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
            <button type="button" id="assign-selected" class="secondary"
                on:click=apply>
                "Assign the ticked devices"
            </button>
            <div aria-live="polite">
                {move || [assign.value().get(), unassign.value().get()].into_iter().flatten().map(|r| match r {
                    Ok(m) => view! { <p class="ok assign-outcome">{m}</p> }.into_any(),
                    Err(e) => view! { <p class="bad assign-outcome" role="alert">{e.to_string()}</p> }.into_any(),
                }).collect_view()}
            </div>
        </section>
    }
}
