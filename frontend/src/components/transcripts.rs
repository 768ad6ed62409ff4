//! The device page's console transcripts panel: whether the device's policy keeps transcripts of
//! its console sessions (administrators may switch it), and, for the portal's auditors, the
//! newest transcripts with their downloads (raw terminal output to replay with `cat`, or text).

use leptos::prelude::*;

use crate::api::{SetTranscriptPolicy, console_transcripts};

/// Transcripts of device `id`.
#[component]
pub fn TranscriptsPanel(id: i64) -> impl IntoView {
    let set = ServerAction::<SetTranscriptPolicy>::new();
    let view_of = Resource::new(move || set.version().get(), move |_| console_transcripts(id));
    view! {
        <Transition fallback=|| ()>
            {move || view_of.get().map(|r| match r {
                Err(e) => view! {
                    <section class="card" id="transcripts"><p class="bad" role="alert">{e.to_string()}</p></section>
                }.into_any(),
                Ok(v) => {
                    let keep = v.keep;
                    view! {
                        <section class="card" id="transcripts" aria-labelledby="transcripts-h">
                            <h2 id="transcripts-h">"Console transcripts"</h2>
                            <p id="transcript-policy" data-keep=keep.to_string()>{if keep {
                                "This device's policy keeps a transcript of every console session: what the console showed, not what was typed."
                            } else {
                                "Console sessions on this device are audited (who, when, how long) but their output is not kept."
                            }}</p>
                            {v.may_change.then(|| view! {
                                <button type="button" id="transcript-toggle" on:click=move |_| {
                                    set.dispatch(SetTranscriptPolicy { id, keep: !keep });
                                }>{if keep { "Stop keeping transcripts" } else { "Keep transcripts of console sessions" }}</button>
                            })}
                            {move || set.value().get().map(|r| match r {
                                Ok(m) => view! { <p class="ok" id="transcript-outcome">{m}</p> }.into_any(),
                                Err(e) => view! { <p class="bad" id="transcript-outcome" role="alert">{e.to_string()}</p> }.into_any(),
                            })}
                            {match v.why_not.clone() {
                                Some(why) => view! { <p class="muted" id="transcripts-not-allowed">{why}</p> }.into_any(),
                                None if v.items.is_empty() => view! { <p class="muted" id="transcripts-none">"No transcripts kept for this device."</p> }.into_any(),
                                None => view! {
                                    <table id="transcript-list">
                                        <thead><tr><th>"Who"</th><th>"Started"</th><th>"Ended"</th><th>"Output"</th><th>"Download"</th></tr></thead>
                                        <tbody>
                                            {v.items.into_iter().map(|t| {
                                                let raw = format!("/devices/{id}/transcripts/{}", t.id);
                                                let text = format!("{raw}?text=1");
                                                view! {
                                                    <tr data-transcript=t.id>
                                                        <td>{t.principal}</td>
                                                        <td>{shared::human_time(&t.started_at)}</td>
                                                        <td>{match (t.ended_at, t.end_reason) {
                                                            (Some(at), Some(why)) => format!("{}: {why}", shared::human_time(&at)),
                                                            (Some(at), None) => shared::human_time(&at),
                                                            _ => "still open".to_string(),
                                                        }}</td>
                                                        <td>{format!("{} bytes{}", t.bytes, if t.truncated { " (cut at the limit)" } else { "" })}</td>
                                                        <td><a href=text rel="external">"text"</a>" · "<a href=raw rel="external">"raw"</a></td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                }.into_any(),
                            }}
                        </section>
                    }.into_any()
                }
            })}
        </Transition>
    }
}
