//! The page for paths the portal does not have.

use leptos::prelude::*;

/// 404 page.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <p>"This address is not part of the portal. " <a href="/">"Go to the start page"</a>"."</p>
        </section>
    }
}
