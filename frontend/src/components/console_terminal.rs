//! The serial console in the page: the terminal screen, its keyboard, copy and paste, the
//! special-keys toolbar, the status line and reconnecting.
//!
//! Everything that decides something lives in [`crate::terminal`] (pure Rust, unit-tested);
//! this module wires it to the DOM and the WebSocket. The server renders the blank screen and
//! the status line; the socket opens after hydration (effects run in the browser only). The
//! screen is 25 rows of spans: after each chunk of serial data only the rows the emulator marks
//! dirty are rebuilt. Keys are captured only while the screen has focus; Esc Esc (or the
//! "Release keyboard" button) gives focus back to the page.

use leptos::ev::{ClipboardEvent, KeyboardEvent};
use leptos::html;
use leptos::prelude::*;
use shared::DeviceOutcome;

use crate::api::EnableConsole;
use crate::terminal::keys::{EscTracker, Mods, SpecialKey, encode_key, paste_bytes};
use crate::terminal::link::{AfterClose, Phase, Status, after_close, close_message};
use crate::terminal::render::{Run, row_runs};
use crate::terminal::{Terminal, emulator};

/// What the Ctrl-Alt-Del button does, for its tooltip.
const CAD_TITLE: &str =
    "Sends ESC R ESC r ESC R: BIOS console redirection resets the machine; an operating system ignores it";

/// Everything the callbacks share; all handles, so it is `Copy`.
#[derive(Clone, Copy)]
struct Console {
    device: i64,
    term: StoredValue<Terminal>,
    rows: StoredValue<Vec<RwSignal<Vec<Run>>>>,
    status: RwSignal<Status>,
    /// The last drop or refusal, kept visible after a reconnect succeeds.
    notice: RwSignal<Option<String>>,
    /// Feedback about copy, paste and keys that could not be sent.
    hint: RwSignal<Option<String>>,
    scrollback_version: RwSignal<u64>,
    retries: StoredValue<u32>,
    was_open: StoredValue<bool>,
    timer: StoredValue<Option<TimeoutHandle>>,
    socket: client::SocketSlot,
}

#[cfg_attr(
    not(feature = "hydrate"),
    expect(
        dead_code,
        reason = "the browser socket's handlers call these; the server has no socket"
    )
)]
impl Console {
    /// Rebuild the rows the emulator marks dirty.
    fn redraw(self) {
        let changed = self.term.try_update_value(|t| {
            let (cr, cc) = t.cursor();
            let visible = t.cursor_visible();
            t.take_dirty()
                .into_iter()
                .map(|r| (r, row_runs(t.row(r), (visible && r == cr).then_some(cc))))
                .collect::<Vec<_>>()
        });
        let Some(changed) = changed else { return };
        self.rows.with_value(|rows| {
            for (r, runs) in changed {
                if let Some(sig) = rows.get(r) {
                    sig.set(runs);
                }
            }
        });
        let total = self.term.with_value(|t| t.scrolled_total());
        if total != self.scrollback_version.get_untracked() {
            self.scrollback_version.set(total);
        }
    }

    /// Serial bytes from the device.
    fn on_data(self, bytes: &[u8]) {
        let answers = self.term.try_update_value(|t| {
            t.feed(bytes);
            t.take_responses()
        });
        if let Some(answers) = answers.filter(|a| !a.is_empty()) {
            self.send_raw(&answers);
        }
        self.redraw();
    }

    /// A status event (JSON text frame) from the portal.
    fn on_text(self, text: &str) {
        self.status.update(|s| s.apply_text(text));
        if self.status.with_untracked(|s| s.phase == Phase::Open) {
            self.was_open.set_value(true);
            self.retries.set_value(0);
        }
    }

    /// The socket closed: say what happened, and reconnect by itself if it was a drop.
    fn on_close(self, code: u16) {
        let status = self.status.get_untracked();
        let decision = after_close(
            status.code.as_deref(),
            self.retries.get_value(),
            self.was_open.get_value(),
        );
        let message = close_message(&status, code, &decision);
        if self.was_open.get_value() {
            self.notice.set(Some(message.clone()));
        }
        self.was_open.set_value(false);
        self.status.set(Status {
            phase: Phase::Closed,
            message,
            code: status.code,
        });
        if let AfterClose::Retry { delay_ms, .. } = decision {
            self.retries.update_value(|r| *r += 1);
            let handle = set_timeout_with_handle(
                move || self.connect(),
                std::time::Duration::from_millis(u64::from(delay_ms)),
            );
            self.timer.set_value(handle.ok());
        }
    }

    /// Open (or reopen) the socket.
    fn connect(self) {
        if let Some(t) = self.timer.try_update_value(Option::take).flatten() {
            t.clear();
        }
        // Dropping the previous socket detaches its handlers and closes it.
        self.socket.set_value(None);
        self.status.set(Status::connecting());
        match client::Socket::open(self) {
            Ok(s) => self.socket.set_value(Some(s)),
            Err(e) => self.status.set(Status {
                phase: Phase::Closed,
                message: format!("The browser could not open the console connection ({e})."),
                code: None,
            }),
        }
    }

    /// The user pressed Reconnect: a fresh start, with fresh automatic attempts.
    fn reconnect(self) {
        self.retries.set_value(0);
        self.connect();
    }
}

impl Console {
    fn send_raw(self, bytes: &[u8]) -> bool {
        self.socket.with_value(|s| s.as_ref().is_some_and(|s| s.send(bytes)))
    }

    /// Keys to the device; says so when they cannot be sent.
    fn send(self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.send_raw(bytes) {
            self.hint.set(None);
        } else {
            self.hint
                .set(Some("Not connected: keys are not sent. Press Reconnect first.".into()));
        }
    }

    fn paste_text(self, text: &str) {
        self.send(&paste_bytes(text));
    }
}

/// The console of device `device`.
#[component]
pub fn ConsoleTerminal(device: i64) -> impl IntoView {
    let fresh = Terminal::default();
    let rows: Vec<RwSignal<Vec<Run>>> = (0..fresh.rows())
        .map(|r| {
            let cursor = (fresh.cursor().0 == r && fresh.cursor_visible()).then_some(fresh.cursor().1);
            RwSignal::new(row_runs(fresh.row(r), cursor))
        })
        .collect();
    let console = Console {
        device,
        term: StoredValue::new(fresh),
        rows: StoredValue::new(rows.clone()),
        status: RwSignal::new(Status::default()),
        notice: RwSignal::new(None),
        hint: RwSignal::new(None),
        scrollback_version: RwSignal::new(0),
        retries: StoredValue::new(0),
        was_open: StoredValue::new(false),
        timer: StoredValue::new(None),
        socket: client::new_slot(),
    };
    // Mark the initial screen as drawn (it was rendered from the same state).
    console.term.update_value(|t| {
        t.take_dirty();
    });

    // Effects run in the browser only: the socket opens after hydration.
    Effect::new(move |_| console.connect());
    // Browser only: the server disposes pages on another thread, where the socket's
    // thread-local slot must not be touched (and there is no socket to close).
    #[cfg(feature = "hydrate")]
    on_cleanup(move || {
        if let Some(t) = console.timer.try_update_value(Option::take).flatten() {
            t.clear();
        }
        console.socket.try_set_value(None);
    });

    let screen = NodeRef::<html::Div>::new();
    let release = NodeRef::<html::Button>::new();
    let focused = RwSignal::new(false);
    let esc = StoredValue::new(EscTracker::default());
    let show_scrollback = RwSignal::new(false);

    let leave = move || {
        if let Some(el) = screen.get_untracked() {
            let _ = el.blur();
        }
        if let Some(b) = release.get_untracked() {
            let _ = b.focus();
        }
    };

    let on_keydown = move |ev: KeyboardEvent| {
        let mods = Mods {
            ctrl: ev.ctrl_key(),
            alt: ev.alt_key(),
            shift: ev.shift_key(),
            meta: ev.meta_key(),
        };
        let key = ev.key();
        let code = ev.code();
        let now = ev.time_stamp();
        if esc.try_update_value(|e| e.leave_on(&key, mods, now)).unwrap_or(false) {
            ev.prevent_default();
            leave();
            return;
        }
        if mods.ctrl && mods.shift && code == "KeyC" {
            ev.prevent_default();
            let text = client::selection_text().unwrap_or_default();
            copy(console, text, "Copied the selection.");
            return;
        }
        if mods.ctrl && mods.shift && code == "KeyV" {
            ev.prevent_default();
            paste_from_clipboard(console);
            return;
        }
        let app = console.term.with_value(|t| t.application_cursor_keys());
        if let Some(bytes) = encode_key(&key, &code, mods, app) {
            ev.prevent_default();
            console.send(&bytes);
        }
    };

    let on_paste = move |ev: ClipboardEvent| {
        if let Some(text) = client::pasted_text(&ev) {
            ev.prevent_default();
            console.paste_text(&text);
        }
    };

    let phase = move || console.status.with(|s| s.phase);
    let scrollback_text = move || {
        if !show_scrollback.get() {
            return String::new();
        }
        console.scrollback_version.track();
        console.term.with_value(|t| {
            let lines: Vec<String> = t
                .scrollback()
                .iter()
                .map(|l| l.iter().map(|c| c.ch).collect::<String>().trim_end().to_string())
                .collect();
            lines.join("\n")
        })
    };

    // "Turn the console on" when the device's listener or SOL is off; reconnect once it is on.
    let enable = ServerAction::<EnableConsole>::new();
    Effect::new(move |_| {
        if let Some(Ok(DeviceOutcome::Ok(_))) = enable.value().get() {
            console.reconnect();
        }
    });

    view! {
        <div class="console" id="console" data-device=device>
            <p class="console-status" id="console-status" role="status" aria-live="polite"
                data-phase=move || phase().name() data-code=move || console.status.with(|s| s.code.clone().unwrap_or_default())>
                <span class="console-dot" aria-hidden="true"></span>
                <span id="console-message">{move || console.status.with(|s| s.message.clone())}</span>
                <button type="button" id="reconnect" on:click=move |_| console.reconnect()
                    disabled=move || matches!(phase(), Phase::Connecting | Phase::Authenticating)>
                    {move || if phase() == Phase::Open { "Reconnect" } else { "Reconnect now" }}
                </button>
            </p>
            {move || console.status.with(|s| matches!(s.code.as_deref(), Some("listener_off" | "sol_disabled"))).then(|| view! {
                <p class="console-enable">
                    <button type="button" id="enable-console" disabled=move || enable.pending().get()
                        on:click=move |_| { enable.dispatch(EnableConsole { id: device }); }>
                        "Turn the console on (needs the Redirection realm)"
                    </button>
                </p>
            })}
            {move || enable.value().get().map(|r| match r {
                Ok(DeviceOutcome::Ok(m)) => view! { <p class="ok" id="enable-outcome">{m}</p> }.into_any(),
                Ok(DeviceOutcome::Refused { code, message }) => view! { <p class="bad" id="enable-outcome" data-code=code>{message}</p> }.into_any(),
                Err(e) => view! { <p class="bad" id="enable-outcome">{e.to_string()}</p> }.into_any(),
            })}
            {move || console.notice.get().map(|n| view! {
                <p class="console-notice" id="console-notice" role="alert">
                    {n}
                    <button type="button" class="link" on:click=move |_| console.notice.set(None)>"Dismiss"</button>
                </p>
            })}
            <div class="toolbar" role="toolbar" aria-label="Special keys">
                {SpecialKey::TOOLBAR.into_iter().map(|k| view! {
                    <button type="button" id=k.id() class:danger={k == SpecialKey::CtrlAltDel}
                        title={if k == SpecialKey::CtrlAltDel { CAD_TITLE } else { "" }}
                        on:click=move |_| console.send(&k.bytes())>
                        {k.label()}
                    </button>
                }).collect_view()}
            </div>
            <div class="screen" class:focused=move || focused.get() id="screen" node_ref=screen tabindex="0"
                role="application" aria-roledescription="terminal"
                aria-label="Serial console screen: click or tab here to type into the device"
                on:keydown=on_keydown on:paste=on_paste
                on:focus=move |_| focused.set(true) on:blur=move |_| focused.set(false)>
                {rows.into_iter().enumerate().map(|(i, row)| view! {
                    <div class="row" data-row=i>
                        {move || row.get().into_iter().map(|r| view! { <span class=r.class>{r.text}</span> }).collect_view()}
                    </div>
                }).collect_view()}
            </div>
            <div class="console-help">
                <span class="muted" id="focus-hint">
                    {move || if focused.get() {
                        "Typing goes to the device. Esc Esc or Release keyboard gives the keyboard back to the page."
                    } else {
                        "Click the screen (or Tab to it) to type. Ctrl+Shift+V pastes, Ctrl+Shift+C copies the selection."
                    }}
                </span>
                <button type="button" id="release-keyboard" node_ref=release on:click=move |_| leave()>"Release keyboard"</button>
                <button type="button" id="copy-screen" on:click=move |_| {
                    let text = console.term.with_value(|t| t.text());
                    copy(console, text, "Copied the screen.");
                }>"Copy screen"</button>
                <button type="button" id="paste" on:click=move |_| paste_from_clipboard(console)>"Paste"</button>
            </div>
            {move || console.hint.get().map(|h| view! { <p class="muted" id="console-hint" aria-live="polite">{h}</p> })}
            <details class="scrollback" on:toggle=move |ev| show_scrollback.set(event_target_open(&ev))>
                <summary>{move || format!("Scrollback ({} lines scrolled off the top)", console.scrollback_version.get().min(emulator::DEFAULT_SCROLLBACK as u64))}</summary>
                <pre id="scrollback">{scrollback_text}</pre>
            </details>
        </div>
    }
}

/// Whether the `<details>` that sent a toggle event is open.
fn event_target_open(ev: &leptos::ev::Event) -> bool {
    client::details_open(ev)
}

fn copy(console: Console, text: String, done: &'static str) {
    if text.is_empty() {
        console.hint.set(Some(
            "Nothing selected: select text on the screen first, or use Copy screen.".into(),
        ));
        return;
    }
    leptos::task::spawn_local(async move {
        let hint = match client::write_clipboard(&text).await {
            Ok(()) => done.to_string(),
            Err(()) => "The browser did not allow copying: select the text and press Ctrl+C outside the screen.".into(),
        };
        console.hint.set(Some(hint));
    });
}

fn paste_from_clipboard(console: Console) {
    leptos::task::spawn_local(async move {
        match client::read_clipboard().await {
            Ok(text) => console.paste_text(&text),
            Err(()) => console.hint.set(Some(
                "The browser did not allow reading the clipboard: click the screen and press Ctrl+Shift+V.".into(),
            )),
        }
    });
}

/// The browser side: WebSocket, clipboard, selection. Only the wasm build has a browser; the
/// server build gets inert stand-ins (these are only called from effects and event handlers,
/// which never run on the server).
#[cfg(feature = "hydrate")]
mod client {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

    use leptos::prelude::{LocalStorage, StoredValue};

    use super::Console;
    use crate::terminal::link::socket_url;

    /// Where the page keeps its socket: browser objects stay on the browser's one thread.
    pub type SocketSlot = StoredValue<Option<Socket>, LocalStorage>;

    /// An empty slot.
    pub fn new_slot() -> SocketSlot {
        StoredValue::new_local(None)
    }

    /// An open console socket; dropping it detaches the handlers and closes it.
    pub struct Socket {
        ws: WebSocket,
        _on_message: Closure<dyn FnMut(MessageEvent)>,
        _on_close: Closure<dyn FnMut(CloseEvent)>,
    }

    impl Socket {
        /// Open the console socket of `console.device` on this page's origin.
        pub fn open(console: Console) -> Result<Socket, String> {
            let location = web_sys::window().ok_or("no window")?.location();
            let protocol = location.protocol().map_err(|_| "no page address")?;
            let host = location.host().map_err(|_| "no page address")?;
            let ws = WebSocket::new(&socket_url(&protocol, &host, console.device))
                .map_err(|e| e.as_string().unwrap_or_else(|| "refused by the browser".into()))?;
            ws.set_binary_type(BinaryType::Arraybuffer);
            let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
                let data = ev.data();
                if let Some(text) = data.as_string() {
                    console.on_text(&text);
                } else if let Ok(buf) = data.dyn_into::<js_sys::ArrayBuffer>() {
                    console.on_data(&js_sys::Uint8Array::new(&buf).to_vec());
                }
            });
            ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            // The handler must not drop this socket (its own closure): the next connect does.
            let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |ev: CloseEvent| console.on_close(ev.code()));
            ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
            Ok(Socket {
                ws,
                _on_message: on_message,
                _on_close: on_close,
            })
        }

        /// Send bytes as one binary frame; false when the socket is not open.
        pub fn send(&self, bytes: &[u8]) -> bool {
            self.ws.ready_state() == WebSocket::OPEN && self.ws.send_with_u8_array(bytes).is_ok()
        }
    }

    impl Drop for Socket {
        fn drop(&mut self) {
            self.ws.set_onmessage(None);
            self.ws.set_onclose(None);
            let _ = self.ws.close();
        }
    }

    /// The text of the page's current selection.
    pub fn selection_text() -> Option<String> {
        let sel = web_sys::window()?.get_selection().ok()??;
        Some(String::from(sel.to_string()))
    }

    /// The text of a paste event.
    pub fn pasted_text(ev: &web_sys::ClipboardEvent) -> Option<String> {
        ev.clipboard_data()?.get_data("text").ok()
    }

    /// Whether the event's target is an open `<details>`.
    pub fn details_open(ev: &web_sys::Event) -> bool {
        ev.target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlDetailsElement>().ok())
            .is_some_and(|d| d.open())
    }

    /// Put text on the clipboard.
    pub async fn write_clipboard(text: &str) -> Result<(), ()> {
        let clipboard = web_sys::window().ok_or(())?.navigator().clipboard();
        JsFuture::from(clipboard.write_text(text))
            .await
            .map(|_| ())
            .map_err(|_| ())
    }

    /// Read text from the clipboard (the browser may ask the user first).
    pub async fn read_clipboard() -> Result<String, ()> {
        let clipboard = web_sys::window().ok_or(())?.navigator().clipboard();
        let v = JsFuture::from(clipboard.read_text()).await.map_err(|_| ())?;
        v.as_string().ok_or(())
    }
}

/// Server build: no browser. See the `hydrate` version.
#[cfg(not(feature = "hydrate"))]
mod client {
    use leptos::prelude::StoredValue;

    use super::Console;

    /// Stand-in: the server never opens sockets for the page.
    pub struct Socket;

    /// Thread-safe storage here: the server renders and disposes a page on different threads,
    /// and thread-local storage would panic when dropped on another one.
    pub type SocketSlot = StoredValue<Option<Socket>>;

    /// An empty slot.
    pub fn new_slot() -> SocketSlot {
        StoredValue::new(None)
    }

    impl Socket {
        /// Never called on the server.
        pub fn open(console: Console) -> Result<Socket, String> {
            Err(format!("no browser to open the console of device {}", console.device))
        }

        /// Never called on the server.
        pub fn send(&self, _bytes: &[u8]) -> bool {
            false
        }
    }

    /// Stand-in.
    pub fn selection_text() -> Option<String> {
        None
    }

    /// Stand-in.
    pub fn pasted_text(_ev: &leptos::ev::ClipboardEvent) -> Option<String> {
        None
    }

    /// Stand-in.
    pub fn details_open(_ev: &leptos::ev::Event) -> bool {
        false
    }

    /// Stand-in.
    pub async fn write_clipboard(_text: &str) -> Result<(), ()> {
        Err(())
    }

    /// Stand-in.
    pub async fn read_clipboard() -> Result<String, ()> {
        Err(())
    }
}
