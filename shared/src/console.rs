//! The serial console's WebSocket protocol between the browser and the portal.
//!
//! The browser opens `GET /devices/{id}/console` (WebSocket, same origin, signed-in session).
//! Binary frames carry raw serial bytes: from the portal, what the device's host wrote to its
//! serial port; from the browser, keystrokes to send to it. Text frames carry one JSON
//! [`ConsoleEvent`] each, from the portal only, saying what is happening: the browser never sees
//! a device credential, only these events and the serial bytes.

use serde::{Deserialize, Serialize};

/// Where a console connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsoleState {
    /// Connecting to the device's redirection port.
    Connecting,
    /// Authenticating to the device as the signed-in user.
    Authenticating,
    /// Serial-over-LAN is running: bytes flow both ways.
    Open,
    /// The session ended (the reason is in `message`).
    Closed,
}

/// A status message from the portal, sent as a JSON text frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ConsoleEvent {
    /// The connection moved to `state`; `message` is a sentence for the user.
    Status {
        /// The new state.
        state: ConsoleState,
        /// What happened, for people ("Connected to amt1.example.test as alice@EXAMPLE.TEST").
        message: String,
    },
    /// Something went wrong; the session ends after this. `code` is stable (tests, logs).
    Error {
        /// Stable code: `access_denied`, `busy`, `sol_disabled`, `listener_off`,
        /// `ticket_too_large`, `auth_refused`, `unreachable`, `device_closed`, `session_ended`, ...
        code: String,
        /// What went wrong and what to do, in words.
        message: String,
    },
}

/// One kept console transcript, as the device page lists it for auditors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptRow {
    pub id: i64,
    /// Who ran the console.
    pub principal: String,
    /// RFC 3339 UTC.
    pub started_at: String,
    /// `None` while the console is still open.
    pub ended_at: Option<String>,
    /// How it ended ("closed by the user").
    pub end_reason: Option<String>,
    /// Output bytes kept.
    pub bytes: u64,
    /// The output went past the portal's limit and the rest was not kept.
    pub truncated: bool,
}

/// The console transcripts part of a device page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptsView {
    /// The device's policy keeps transcripts of its console sessions.
    pub keep: bool,
    /// The user may change the policy (registry administrators).
    pub may_change: bool,
    /// The newest transcripts (auditors only; empty otherwise).
    pub items: Vec<TranscriptRow>,
    /// Why the user may not read them, when they may not.
    pub why_not: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_tagged_json() {
        let e = ConsoleEvent::Status {
            state: ConsoleState::Open,
            message: "SOL open".into(),
        };
        let s = serde_json::to_string(&e).expect("serialises");
        assert_eq!(s, r#"{"type":"status","state":"open","message":"SOL open"}"#);
        let back: ConsoleEvent =
            serde_json::from_str(r#"{"type":"error","code":"busy","message":"x"}"#).expect("parses");
        assert_eq!(
            back,
            ConsoleEvent::Error {
                code: "busy".into(),
                message: "x".into()
            }
        );
    }
}
