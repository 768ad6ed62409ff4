//! The HTML shell (rendered on the server only) and the client-side router.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::pages::ad_settings::AdSettingsPage;
use crate::pages::profiles::{ProfileEditorPage, ProfilesPage};
use crate::pages::{
    audit::AuditPage, console::ConsolePage, device::DevicePage, devices::DevicesPage, health::HealthPage,
    home::HomePage, not_found::NotFound,
};
use crate::pages::{provisioning::ProvisioningPage, requests::RequestsPage};

/// The document around the app: head, hydration scripts, body.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="data:,"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: header, and the page for the current path.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="portal" href="/pkg/portal.css"/>
        <Title text="AMT Portal"/>
        <Router>
            <main>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=HomePage/>
                    <Route path=path!("/devices") view=DevicesPage/>
                    <Route path=path!("/devices/:id") view=DevicePage/>
                    <Route path=path!("/devices/:id/terminal") view=ConsolePage/>
                    <Route path=path!("/audit") view=AuditPage/>
                    <Route path=path!("/provisioning") view=ProvisioningPage/>
                    <Route path=path!("/requests") view=RequestsPage/>
                    <Route path=path!("/profiles") view=ProfilesPage/>
                    <Route path=path!("/profiles/new") view=ProfileEditorPage/>
                    <Route path=path!("/profiles/:id") view=ProfileEditorPage/>
                    <Route path=path!("/health") view=HealthPage/>
                    <Route path=path!("/settings/ad") view=AdSettingsPage/>
                </Routes>
            </main>
        </Router>
    }
}
