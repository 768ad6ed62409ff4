//! The list of the user's AD groups, AMT groups first.

use leptos::prelude::*;
use shared::AdGroup;

/// Groups with their names where the directory resolved them, else their SIDs.
#[component]
pub fn GroupList(groups: Vec<AdGroup>) -> impl IntoView {
    let mut groups = groups;
    // AMT groups first, then named groups alphabetically, then unresolved SIDs.
    groups.sort_by_key(|g| {
        let name = g.name.clone().unwrap_or_default();
        (
            !name.starts_with("AMT "),
            g.name.is_none(),
            name.to_lowercase(),
            g.sid.clone(),
        )
    });
    let count = groups.len();
    view! {
        <p class="muted">{format!("{count} groups in your ticket")}</p>
        <ul class="groups" id="groups">
            {groups.into_iter().map(|g| {
                let amt = g.name.as_deref().is_some_and(|n| n.starts_with("AMT "));
                view! {
                    <li class:amt=amt title=g.sid.clone()>
                        {g.name.clone().unwrap_or_else(|| g.sid.clone())}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
