//! "My Kerberos": principal, ticket size against AMT's limit, delegation, clock offset.

use leptos::prelude::*;
use shared::KerberosView;

/// The panel, with a bar for the ticket size so a too-large ticket is seen at a glance.
#[component]
pub fn KerberosPanel(k: KerberosView) -> impl IntoView {
    let size = k.ticket_base64_len.unwrap_or(0);
    let pct = ((size as f64 / k.amt_limit as f64) * 100.0).min(100.0);
    let over = size > k.amt_limit;
    let size_text = match (k.ticket_bytes, k.ticket_base64_len) {
        (Some(b), Some(b64)) => format!(
            "{b} bytes ({b64} as base64) of {} allowed by old AMT firmware",
            k.amt_limit
        ),
        _ => "not measured".to_string(),
    };
    let verdict = if over {
        "Too large for AMT 2–5 devices: they will refuse it. Fewer group memberships make it smaller."
    } else {
        "Within the limit of every AMT generation."
    };
    let skew = match (k.kdc_clock_offset_secs, k.kdc_clock_problem.clone()) {
        (Some(s), _) => {
            let bad = s.abs() > shared::MAX_CLOCK_SKEW_SECS;
            view! { <span class:bad=bad id="clock-offset">{format!("{s:+} s")}</span>
                <span class="muted">{if bad { " portal ahead of the domain controller; more than Kerberos allows (5 minutes)" } else { " portal vs. domain controller (Kerberos allows 5 minutes)" }}</span> }.into_any()
        }
        (None, Some(p)) => {
            view! { <span class="muted" id="clock-offset">{format!("not measured: {p}")}</span> }.into_any()
        }
        (None, None) => view! { <span class="muted" id="clock-offset">"not measured"</span> }.into_any(),
    };
    view! {
        <section class="card" id="my-kerberos">
            <h2>"My Kerberos"</h2>
            <dl>
                <dt>"Principal"</dt><dd id="principal"><code>{k.principal.clone()}</code></dd>
                <dt>"Ticket size"</dt>
                <dd id="ticket-size">
                    <div class="meter" role="meter" aria-valuemin="0" aria-valuemax=k.amt_limit aria-valuenow=size>
                        <div class="fill" class:over=over style=format!("width:{pct:.0}%")></div>
                    </div>
                    {size_text}<br/><span class="muted">{verdict}</span>
                    {k.token_bytes.map(|t| view! { <br/><span class="muted">{format!("Whole Negotiate token received: {t} bytes")}</span> })}
                </dd>
                <dt>"Delegated credential"</dt>
                <dd id="delegation">
                    {match (k.delegation.clone(), k.no_delegation_reason.clone()) {
                        (Some(d), _) => view! {
                            <span class="ok">"Yes: " {d.kind.clone()}</span>
                            <span class="muted">{format!(" · valid until {} ({} min left)", shared::human_time(&d.valid_until), d.seconds_left / 60)}</span>
                        }.into_any(),
                        (None, reason) => view! {
                            <span class="bad">"None"</span>
                            <span class="muted">{format!(" · {}", reason.unwrap_or_default())}</span>
                        }.into_any(),
                    }}
                </dd>
                <dt>"Clock offset"</dt>
                <dd>{skew}</dd>
            </dl>
        </section>
    }
}
