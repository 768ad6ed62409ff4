//! The console connection as the page shows it: the socket address, the status line built
//! from the portal's [`ConsoleEvent`]s, and when to reconnect by itself after a drop.
//!
//! Refusals that another attempt cannot fix (no right to the console, SOL disabled, a ticket
//! too large, the portal session ended, someone else's session) are not retried: the user
//! reads why and may press "Reconnect". Drops (the device or the network went away, the
//! socket closed without a word) are retried a few times with growing pauses.

use shared::{ConsoleEvent, ConsoleState};

/// Automatic reconnect attempts after a drop, before waiting for the user.
pub const MAX_AUTO_RETRIES: u32 = 5;

/// The WebSocket address of a device's console, from the page's `location.protocol` and
/// `location.host`: `wss:` when the page came over HTTPS.
pub fn socket_url(protocol: &str, host: &str, device: i64) -> String {
    let scheme = if protocol == "https:" { "wss" } else { "ws" };
    format!("{scheme}://{host}{}", socket_path(device))
}

/// The path of the console WebSocket (served by the portal's bridge; see shared::console).
pub fn socket_path(device: i64) -> String {
    format!("/devices/{device}/console")
}

/// The phase of the connection, for the status line and its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Not connected yet (the page has not hydrated, or the user has not asked).
    Idle,
    /// Opening the socket, or the portal is connecting to the device.
    Connecting,
    /// The portal is authenticating to the device as the user.
    Authenticating,
    /// Serial-over-LAN is running.
    Open,
    /// Ended; see the message.
    Closed,
}

impl Phase {
    /// Stable name (CSS class and `data-phase` for tests).
    pub fn name(self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Connecting => "connecting",
            Phase::Authenticating => "authenticating",
            Phase::Open => "open",
            Phase::Closed => "closed",
        }
    }
}

/// What the status line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Where the connection is.
    pub phase: Phase,
    /// A sentence for people.
    pub message: String,
    /// The portal's stable error code, when it reported one.
    pub code: Option<String>,
}

impl Default for Status {
    fn default() -> Self {
        Status {
            phase: Phase::Idle,
            message: "The console connects once the page has loaded.".into(),
            code: None,
        }
    }
}

impl Status {
    /// The socket is being opened.
    pub fn connecting() -> Self {
        Status {
            phase: Phase::Connecting,
            message: "Connecting to the portal…".into(),
            code: None,
        }
    }

    /// Take in an event from the portal.
    pub fn apply(&mut self, event: ConsoleEvent) {
        match event {
            // The portal follows an error with "closed": the error says more, keep it.
            ConsoleEvent::Status {
                state: ConsoleState::Closed,
                ..
            } if self.code.is_some() => self.phase = Phase::Closed,
            ConsoleEvent::Status { state, message } => {
                self.phase = match state {
                    ConsoleState::Connecting => Phase::Connecting,
                    ConsoleState::Authenticating => Phase::Authenticating,
                    ConsoleState::Open => Phase::Open,
                    ConsoleState::Closed => Phase::Closed,
                };
                self.message = message;
                self.code = None;
            }
            ConsoleEvent::Error { code, message } => {
                self.phase = Phase::Closed;
                self.message = message;
                self.code = Some(code);
            }
        }
    }

    /// Take in a text frame; a frame that is not an event is reported, not fatal.
    pub fn apply_text(&mut self, text: &str) {
        match serde_json::from_str::<ConsoleEvent>(text) {
            Ok(event) => self.apply(event),
            Err(_) => {
                self.message = "The portal sent a status this page does not understand; reload the page \
                                if the console misbehaves."
                    .into();
            }
        }
    }
}

/// What to do when the socket has closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterClose {
    /// Try again after this many milliseconds (attempt number `attempt`, from 1).
    Retry {
        /// The pause.
        delay_ms: u32,
        /// Which attempt this will be.
        attempt: u32,
    },
    /// Wait for the user to press "Reconnect".
    Wait,
}

/// Whether an error reported by the portal is worth an automatic new attempt.
pub fn retryable(code: Option<&str>) -> bool {
    match code {
        // Closed without an explanation: the network, a portal restart, a dropped device link.
        None => true,
        Some(c) => matches!(c, "device_closed" | "unreachable" | "dropped" | "timeout"),
    }
}

/// The decision after a close: `retries` automatic attempts have been made since the console
/// was last open; `code` is the error the portal reported, if any; `was_open` says whether
/// serial data was flowing (a refusal before that is not a drop).
pub fn after_close(code: Option<&str>, retries: u32, was_open: bool) -> AfterClose {
    if !retryable(code) || retries >= MAX_AUTO_RETRIES || (!was_open && code.is_none() && retries > 0) {
        return AfterClose::Wait;
    }
    let delay_ms = 1000u32.saturating_mul(1 << retries.min(4)).min(15_000);
    AfterClose::Retry {
        delay_ms,
        attempt: retries + 1,
    }
}

/// The status line after a close, saying what happened and what comes next.
pub fn close_message(status: &Status, close_code: u16, decision: &AfterClose) -> String {
    let what = match (&status.code, status.phase) {
        // The portal explained itself: keep its words.
        (Some(_), _) => status.message.clone(),
        (None, Phase::Closed) if !status.message.is_empty() => status.message.clone(),
        (None, Phase::Open) => "The connection to the console dropped.".to_string(),
        (None, _) => format!(
            "The portal closed the console connection before it opened (WebSocket code {close_code}). \
             If this repeats, reload the page: your sign-in may have ended."
        ),
    };
    match decision {
        AfterClose::Retry { delay_ms, attempt } => format!(
            "{what} Reconnecting in {} s (attempt {attempt} of {MAX_AUTO_RETRIES})…",
            delay_ms.div_ceil(1000)
        ),
        // The portal's own sentence may already say what to do.
        AfterClose::Wait if what.contains("econnect") || what.contains("Sign in") => what,
        AfterClose::Wait => format!("{what} Press Reconnect to try again."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_follows_the_page_scheme() {
        assert_eq!(
            socket_url("https:", "portal.example.test:8443", 3),
            "wss://portal.example.test:8443/devices/3/console"
        );
        assert_eq!(
            socket_url("http:", "127.0.0.1:3000", 12),
            "ws://127.0.0.1:3000/devices/12/console"
        );
    }

    #[test]
    fn events_drive_the_status() {
        let mut s = Status::connecting();
        s.apply_text(r#"{"type":"status","state":"authenticating","message":"Signing in to amt1 as alice"}"#);
        assert_eq!(s.phase, Phase::Authenticating);
        assert_eq!(s.message, "Signing in to amt1 as alice");
        s.apply_text(r#"{"type":"status","state":"open","message":"Serial-over-LAN open"}"#);
        assert_eq!(s.phase, Phase::Open);
        s.apply_text(r#"{"type":"error","code":"busy","message":"Someone else has the console of amt1."}"#);
        assert_eq!(s.phase, Phase::Closed);
        assert_eq!(s.code.as_deref(), Some("busy"));
        s.apply_text("not json");
        assert_eq!(s.phase, Phase::Closed, "garbage does not change the phase");
        assert!(s.message.contains("does not understand"));
    }

    #[test]
    fn refusals_wait_for_the_user_and_drops_retry() {
        for code in [
            "access_denied",
            "busy",
            "sol_disabled",
            "listener_off",
            "ticket_too_large",
            "auth_refused",
            "session_ended",
        ] {
            assert_eq!(after_close(Some(code), 0, true), AfterClose::Wait, "{code}");
        }
        assert_eq!(
            after_close(Some("device_closed"), 0, true),
            AfterClose::Retry {
                delay_ms: 1000,
                attempt: 1
            }
        );
        assert_eq!(
            after_close(None, 1, true),
            AfterClose::Retry {
                delay_ms: 2000,
                attempt: 2
            }
        );
        assert_eq!(
            after_close(None, 4, true),
            AfterClose::Retry {
                delay_ms: 15_000,
                attempt: 5
            }
        );
        assert_eq!(after_close(None, 5, true), AfterClose::Wait, "gives up after five");
        assert_eq!(
            after_close(None, 0, false),
            AfterClose::Retry {
                delay_ms: 1000,
                attempt: 1
            },
            "one retry if it never opened"
        );
        assert_eq!(
            after_close(None, 1, false),
            AfterClose::Wait,
            "then waits: the endpoint refuses"
        );
    }

    #[test]
    fn close_messages_say_what_happened_and_what_next() {
        let mut s = Status::connecting();
        s.apply(ConsoleEvent::Error {
            code: "device_closed".into(),
            message: "amt1 ended the Serial-over-LAN session.".into(),
        });
        s.apply(ConsoleEvent::Status {
            state: ConsoleState::Closed,
            message: "The console is closed.".into(),
        });
        assert_eq!(
            s.message, "amt1 ended the Serial-over-LAN session.",
            "the error's words are kept"
        );
        let d = after_close(s.code.as_deref(), 0, true);
        assert_eq!(
            close_message(&s, 1000, &d),
            "amt1 ended the Serial-over-LAN session. Reconnecting in 1 s (attempt 1 of 5)…"
        );
        let mut open = Status::connecting();
        open.apply(ConsoleEvent::Status {
            state: ConsoleState::Open,
            message: "open".into(),
        });
        assert_eq!(
            close_message(&open, 1006, &AfterClose::Wait),
            "The connection to the console dropped. Press Reconnect to try again."
        );
        let mut refused = Status::connecting();
        refused.apply(ConsoleEvent::Error {
            code: "session_ended".into(),
            message: "Your portal session has ended. Sign in again to reopen the console.".into(),
        });
        assert_eq!(
            close_message(&refused, 1000, &AfterClose::Wait),
            "Your portal session has ended. Sign in again to reopen the console.",
            "no second instruction"
        );
        let never = Status::connecting();
        assert!(close_message(&never, 1006, &AfterClose::Wait).contains("WebSocket code 1006"));
    }
}
