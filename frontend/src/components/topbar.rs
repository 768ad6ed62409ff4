//! The bar at the top: product name, who is signed in, sign-out.

use leptos::prelude::*;

/// Top bar with a sign-out button (a plain form POST, so it works before hydration too).
#[component]
pub fn TopBar(name: String, account: String) -> impl IntoView {
    view! {
        <header class="topbar">
            <a class="brand" href="/">"AMT Portal"</a>
            <span class="who" title=account>{name}</span>
            <form method="post" action="/signout">
                <button type="submit" id="sign-out" accesskey="q">"Sign out"</button>
            </form>
        </header>
    }
}
