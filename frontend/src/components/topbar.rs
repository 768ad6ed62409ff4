//! The bar at the top: product name, who is signed in, sign-out.

use leptos::prelude::*;

use crate::api::can_manage_profiles;

/// "Profiles", for registry administrators only.
#[component]
fn AdminLinks() -> impl IntoView {
    let allowed = Resource::new(|| (), |_| can_manage_profiles());
    view! {
        <Transition fallback=|| ()>
            {move || allowed.get().and_then(Result::ok).filter(|a| *a).map(|_| view! {
                " "<a href="/profiles" id="nav-profiles" accesskey="p">"Profiles"</a>
                " "<a href="/settings/ad" id="nav-ad-settings">"AD settings"</a>
                " "<a href="/provisioning" id="nav-provisioning">"Provisioning"</a>
            })}
        </Transition>
    }
}

/// Top bar with a sign-out button (a plain form POST, so it works before hydration too).
#[component]
pub fn TopBar(name: String, account: String) -> impl IntoView {
    view! {
        <header class="topbar">
            <a class="brand" href="/">"AMT Portal"</a>
            <nav><a href="/devices" accesskey="d">"Devices"</a>" "<a href="/audit" accesskey="a">"Audit log"</a>" "<a href="/health" accesskey="k">"Kerberos health"</a>" "<a href="/requests" id="nav-requests">"Requests"</a><AdminLinks/></nav>
            <span class="who" title=account>{name}</span>
            <form method="post" action="/signout">
                <button type="submit" id="sign-out" accesskey="q">"Sign out"</button>
            </form>
        </header>
    }
}

/// The top bar for pages that do not load the user's profile: navigation and sign-out only.
#[component]
pub fn Nav() -> impl IntoView {
    view! {
        <header class="topbar">
            <a class="brand" href="/">"AMT Portal"</a>
            <nav><a href="/devices" accesskey="d">"Devices"</a>" "<a href="/audit" accesskey="a">"Audit log"</a>" "<a href="/health" accesskey="k">"Kerberos health"</a>" "<a href="/requests" id="nav-requests">"Requests"</a><AdminLinks/></nav>
            <form method="post" action="/signout">
                <button type="submit" id="sign-out">"Sign out"</button>
            </form>
        </header>
    }
}
