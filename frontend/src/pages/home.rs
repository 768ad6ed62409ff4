//! The start page: who you are, your AD groups, and your Kerberos facts.

use leptos::prelude::*;

use crate::api::get_me;
use crate::components::{groups::GroupList, kerberos::KerberosPanel, topbar::TopBar};

/// Home page of a signed-in user.
#[component]
pub fn HomePage() -> impl IntoView {
    let me = Resource::new(|| (), |_| get_me());
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading your profile…"</p> }>
            {move || me.get().map(|r| match r {
                Ok(Some(me)) => view! {
                    <TopBar name=me.display_name.clone() account=me.account.clone()/>
                    <div class="grid">
                        <section class="card" id="identity">
                            <h1 id="welcome">"Signed in as " <span id="display-name">{me.display_name.clone()}</span></h1>
                            <p class="muted">
                                {match me.method {
                                    shared::SignInMethod::Negotiate => "Single sign-on (Kerberos), nothing typed",
                                    shared::SignInMethod::Password => "Password sign-in, verified by a Kerberos exchange",
                                }}
                                " · since " {shared::human_time(&me.signed_in_at)}
                            </p>
                            <p>"SID: " <code id="user-sid">{me.sid.clone().unwrap_or_else(|| "unknown".into())}</code></p>
                            <h2>"Your Active Directory groups"</h2>
                            <GroupList groups=me.groups.clone()/>
                        </section>
                        <KerberosPanel k=me.kerberos.clone()/>
                    </div>
                }.into_any(),
                Ok(None) => view! {
                    <section class="card"><h1>"Your session has ended"</h1>
                    <p><a href="/signin">"Sign in again"</a></p></section>
                }.into_any(),
                Err(e) => view! {
                    <section class="card error" role="alert"><h1>"The portal could not load your profile"</h1>
                    <p>{e.to_string()}</p><p>"Reload the page; if it persists, tell your portal administrator."</p></section>
                }.into_any(),
            })}
        </Suspense>
    }
}
