//! The Active Directory settings page (`/settings/ad`, registry administrators): domain
//! controllers, base DN, the OU for AMT objects, how the portal binds, approver groups; "Save"
//! and "Test" (every DC answers, the bind works, the OU exists, the delegated rights work),
//! each check shown with its outcome and what to do.

use leptos::prelude::*;
use shared::ad::{AdSettingsForm, AdSettingsView, AdTestReport, BindMethod, CheckOutcome};

use crate::api::{ad_settings, save_ad_settings, test_ad_settings};
use crate::components::topbar::Nav;

/// `/settings/ad`.
#[component]
pub fn AdSettingsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| ad_settings());
    view! {
        <Nav/>
        <section class="card" id="ad-settings-page">
            <h1>"Active Directory settings"</h1>
            <p class="muted">
                "Where the devices' computer objects are created when a profile is applied, how the portal signs in to the "
                "domain controllers, and who approves self-service reprovision requests."
            </p>
            <Suspense fallback=|| view! { <p class="muted">"Reading the settings…"</p> }>
                {move || data.get().map(|r| match r {
                    Ok(view) => view! { <AdForm view/> }.into_any(),
                    Err(e) => view! { <p class="bad" id="ad-refused" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

fn outcome_label(o: CheckOutcome) -> (&'static str, &'static str) {
    match o {
        CheckOutcome::Ok => ("ok", "OK"),
        CheckOutcome::Warning => ("warn", "Warning"),
        CheckOutcome::Failed => ("bad", "Failed"),
        CheckOutcome::Skipped => ("muted", "Not run"),
    }
}

#[component]
fn Checks(report: AdTestReport) -> impl IntoView {
    let ok = report.ok();
    view! {
        <p id="ad-test-summary" class=if ok { "ok" } else { "bad" } role="status">
            {if ok { "Every check passed." } else { "Some checks failed: see what to do below." }}
        </p>
        <table class="fleet" id="ad-checks">
            <thead><tr><th>"Check"</th><th>"Outcome"</th><th>"Detail"</th></tr></thead>
            <tbody>
                {report.checks.into_iter().map(|c| {
                    let (class, label) = outcome_label(c.outcome);
                    view! {
                        <tr data-outcome=class>
                            <td>{c.name}</td>
                            <td class=class>{label}</td>
                            <td>{c.detail}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn AdForm(view: AdSettingsView) -> impl IntoView {
    let f = view.form.clone();
    let dcs = RwSignal::new(f.domain_controllers);
    let base_dn = RwSignal::new(f.base_dn);
    let ou = RwSignal::new(f.device_ou);
    let bind = RwSignal::new(f.bind);
    let user = RwSignal::new(f.bind_user);
    let password = RwSignal::new(String::new());
    let insecure = RwSignal::new(f.allow_insecure);
    let ca_file = RwSignal::new(f.ca_file);
    let approvers = RwSignal::new(f.approver_groups);
    let password_stored = view.password_stored;
    let form = move || AdSettingsForm {
        domain_controllers: dcs.get_untracked(),
        base_dn: base_dn.get_untracked(),
        device_ou: ou.get_untracked(),
        bind: bind.get_untracked(),
        bind_user: user.get_untracked(),
        bind_password: password.get_untracked(),
        allow_insecure: insecure.get_untracked(),
        ca_file: ca_file.get_untracked(),
        approver_groups: approvers.get_untracked(),
    };
    let save = Action::new(|f: &AdSettingsForm| save_ad_settings(f.clone()));
    let test = Action::new(|f: &AdSettingsForm| test_ad_settings(f.clone()));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(form());
        password.set(String::new());
    };
    let origin = match &view.saved_by {
        Some(by) => format!(
            "Saved by {by} on {}.",
            view.saved_at.as_deref().map(shared::human_time).unwrap_or_default()
        ),
        None => {
            "Nothing saved yet: these values come from the portal's configuration (PORTAL_LDAP_URL, PORTAL_DEVICE_OU)."
                .into()
        }
    };
    let simple = move || bind.get() != BindMethod::Kerberos;
    let text = |id: &'static str, label: &'static str, hint: &'static str, sig: RwSignal<String>| {
        view! {
            <label for=id>{label}</label>
            <input id=id type="text" placeholder=hint prop:value=move || sig.get()
                on:input=move |ev| sig.set(event_target_value(&ev))/>
        }
    };
    view! {
        <p class="muted" id="ad-origin">{origin}</p>
        {view.sealing_unavailable.map(|m| view! { <p class="muted" id="ad-no-sealer">{m}</p> })}
        <form id="ad-form" on:submit=on_submit aria-label="Active Directory settings">
            <label for="ad-dcs">"Domain controllers (one per line: URL, then the DC's DNS name if the URL holds an address)"</label>
            <textarea id="ad-dcs" rows="3" cols="60" placeholder="ldap://dc1.example.test"
                prop:value=move || dcs.get() on:input=move |ev| dcs.set(event_target_value(&ev))></textarea>
            {text("ad-base-dn", "Base DN", "DC=example,DC=test", base_dn)}
            {text("ad-ou", "OU for AMT computer objects", "OU=AMT Devices,DC=example,DC=test", ou)}
            <label for="ad-bind">"How the portal signs in"</label>
            <select id="ad-bind" prop:value=move || bind.get().key()
                on:change=move |ev| bind.set(BindMethod::from_key(&event_target_value(&ev)).unwrap_or_default())>
                {[BindMethod::Kerberos, BindMethod::SimpleTls, BindMethod::SimplePlain].into_iter().map(|m| view! {
                    <option value=m.key() selected=move || bind.get() == m>{m.label()}</option>
                }).collect_view()}
            </select>
            <div class:hidden=move || !simple()>
                {text("ad-user", "Bind user", "svc-amt@example.test", user)}
                <label for="ad-password">"Bind password"</label>
                <input id="ad-password" type="password" autocomplete="new-password"
                    placeholder=if password_stored { "stored (leave empty to keep it)" } else { "" }
                    prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
                {text("ad-ca", "CA file for LDAPS/StartTLS (on the portal's host; empty: the system's CAs)", "/etc/ssl/corp-ca.pem", ca_file)}
                <label class="check">
                    <input id="ad-insecure" type="checkbox" prop:checked=move || insecure.get()
                        on:change=move |ev| insecure.set(event_target_checked(&ev))/>
                    " Allow a simple bind without TLS (lab only: the password crosses the network in clear)"
                </label>
            </div>
            <label for="ad-approvers">"Approver groups for reprovision requests (names or SIDs, one per line)"</label>
            <textarea id="ad-approvers" rows="2" cols="60" placeholder="AMT Approvers"
                prop:value=move || approvers.get() on:input=move |ev| approvers.set(event_target_value(&ev))></textarea>
            <div class="actions">
                <button type="submit" id="ad-save" disabled=move || save.pending().get()>"Save"</button>
                <button type="button" id="ad-test" class="secondary" disabled=move || test.pending().get()
                    on:click=move |_| { test.dispatch(form()); }>"Test"</button>
            </div>
        </form>
        {move || save.value().get().map(|r| match r {
            Ok(m) => view! { <p class="ok" id="ad-saved" role="status">{m}</p> }.into_any(),
            Err(e) => view! { <p class="bad" id="ad-save-error" role="alert">{e.to_string()}</p> }.into_any(),
        })}
        <div id="ad-test-result" aria-live="polite">
            {move || test.pending().get().then(|| view! {
                <p class="muted" id="ad-testing" aria-busy="true">
                    "Testing: each domain controller, the sign-in, the OU, then a probe computer object (create, change, password, delete)…"
                </p>
            })}
            {move || (!test.pending().get()).then(|| test.value().get().map(|r| match r {
                Ok(report) => view! { <Checks report/> }.into_any(),
                Err(e) => view! { <p class="bad" id="ad-test-error" role="alert">{e.to_string()}</p> }.into_any(),
            })).flatten()}
        </div>
    }
}
