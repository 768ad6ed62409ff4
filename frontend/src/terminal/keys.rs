//! Keyboard to serial bytes: what a browser `KeyboardEvent` (its `key`, `code` and modifiers)
//! sends to the host, the special keys of the toolbar, and pasted text.
//!
//! The sequences are xterm's (the de-facto VT100/VT220 superset that Linux consoles, getty and
//! UEFI/BIOS console redirection all accept): cursor keys `ESC [ A`…`D` (`ESC O A`… in
//! application mode), F1–F4 `ESC O P`…`S`, F5–F12 `ESC [ 15 ~`…`ESC [ 24 ~`, editing keys
//! `ESC [ 2 ~` (Insert), `ESC [ 3 ~` (Delete), `ESC [ 5 ~`/`6 ~` (Page Up/Down), Home/End
//! `ESC [ H`/`ESC [ F`.
//!
//! Backspace sends BS (0x08), not DEL (0x7F): UEFI/BIOS console redirection in its VT100 modes
//! reads 0x7F as the *Delete* key (EDK2's TerminalDxe maps DEL to `SCAN_DELETE`), so DEL would
//! delete forwards in setup fields; Linux accepts 0x08 as well (agetty's login prompt takes both
//! erase characters, and readline binds Ctrl-H to backward-delete-char). Ctrl+Backspace sends
//! DEL for the rare host that wants it.
//!
//! Ctrl-Alt-Del cannot be typed into a browser (the operating system takes it), so it is a
//! button sending `ESC R ESC r ESC R`: the VT100+ sequence of the serial console redirection
//! convention that BIOSes implement (EDK2's TerminalDxe, AMI and Phoenix console redirection)
//! to reset the machine. A running operating system ignores it; the power actions next to the
//! terminal reset it instead.

/// Modifier keys held with a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mods {
    /// Control.
    pub ctrl: bool,
    /// Alt (Option).
    pub alt: bool,
    /// Shift.
    pub shift: bool,
    /// Meta (Windows / Command): left to the browser.
    pub meta: bool,
}

/// The `ESC R ESC r ESC R` Ctrl-Alt-Del of serial console redirection.
pub const CTRL_ALT_DEL: &[u8] = b"\x1bR\x1br\x1bR";

/// Keys of the toolbar (those a browser or the operating system would otherwise take).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialKey {
    /// F1–F12.
    F(u8),
    /// Escape.
    Esc,
    /// Tab.
    Tab,
    /// Ctrl-Alt-Del (reset request to a BIOS).
    CtrlAltDel,
}

impl SpecialKey {
    /// The toolbar, in order.
    pub const TOOLBAR: [SpecialKey; 15] = [
        SpecialKey::Esc,
        SpecialKey::Tab,
        SpecialKey::F(1),
        SpecialKey::F(2),
        SpecialKey::F(3),
        SpecialKey::F(4),
        SpecialKey::F(5),
        SpecialKey::F(6),
        SpecialKey::F(7),
        SpecialKey::F(8),
        SpecialKey::F(9),
        SpecialKey::F(10),
        SpecialKey::F(11),
        SpecialKey::F(12),
        SpecialKey::CtrlAltDel,
    ];

    /// Button label.
    pub fn label(self) -> String {
        match self {
            SpecialKey::F(n) => format!("F{n}"),
            SpecialKey::Esc => "Esc".into(),
            SpecialKey::Tab => "Tab".into(),
            SpecialKey::CtrlAltDel => "Ctrl-Alt-Del".into(),
        }
    }

    /// Stable id for tests (`key-f2`, `key-esc`, `key-ctrl-alt-del`).
    pub fn id(self) -> String {
        match self {
            SpecialKey::F(n) => format!("key-f{n}"),
            SpecialKey::Esc => "key-esc".into(),
            SpecialKey::Tab => "key-tab".into(),
            SpecialKey::CtrlAltDel => "key-ctrl-alt-del".into(),
        }
    }

    /// The bytes the key sends.
    pub fn bytes(self) -> Vec<u8> {
        match self {
            SpecialKey::F(n) => function_key(n, 1).unwrap_or_default(),
            SpecialKey::Esc => vec![0x1b],
            SpecialKey::Tab => vec![b'\t'],
            SpecialKey::CtrlAltDel => CTRL_ALT_DEL.to_vec(),
        }
    }
}

/// xterm's modifier parameter: 1 + Shift 1 + Alt 2 + Ctrl 4.
fn modifier_param(m: Mods) -> u8 {
    1 + u8::from(m.shift) + 2 * u8::from(m.alt) + 4 * u8::from(m.ctrl)
}

/// F1–F12 with xterm's modifier parameter `m` (1 = none).
fn function_key(n: u8, m: u8) -> Option<Vec<u8>> {
    let s = match n {
        1..=4 => {
            let f = char::from(b'P' + (n - 1));
            if m > 1 {
                format!("\x1b[1;{m}{f}")
            } else {
                format!("\x1bO{f}")
            }
        }
        5..=12 => {
            let code = [15, 17, 18, 19, 20, 21, 23, 24][usize::from(n - 5)];
            if m > 1 {
                format!("\x1b[{code};{m}~")
            } else {
                format!("\x1b[{code}~")
            }
        }
        _ => return None,
    };
    Some(s.into_bytes())
}

/// A cursor-style key (final byte `f`): `ESC [ f`, `ESC O f` in application mode, or
/// `ESC [ 1 ; m f` with modifiers.
fn cursor_key(f: char, m: u8, app: bool) -> Vec<u8> {
    let s = if m > 1 {
        format!("\x1b[1;{m}{f}")
    } else if app {
        format!("\x1bO{f}")
    } else {
        format!("\x1b[{f}")
    };
    s.into_bytes()
}

/// An editing key `ESC [ n ~` (with modifiers `ESC [ n ; m ~`).
fn tilde_key(n: u8, m: u8) -> Vec<u8> {
    if m > 1 {
        format!("\x1b[{n};{m}~")
    } else {
        format!("\x1b[{n}~")
    }
    .into_bytes()
}

/// The bytes a key press sends, or `None` when the page should leave the key to the browser
/// (Meta shortcuts, Ctrl+Shift+C/V for copy and paste, modifier keys alone, dead keys).
/// `app_cursor` is the terminal's application-cursor-keys mode.
pub fn encode_key(key: &str, code: &str, mods: Mods, app_cursor: bool) -> Option<Vec<u8>> {
    if mods.meta {
        return None;
    }
    if mods.ctrl && mods.shift && matches!(code, "KeyC" | "KeyV") {
        return None;
    }
    let m = modifier_param(mods);
    let named = match key {
        "Enter" => Some(vec![b'\r']),
        "Backspace" => Some(vec![if mods.ctrl { 0x7f } else { 0x08 }]),
        "Tab" => Some(if mods.shift { b"\x1b[Z".to_vec() } else { vec![b'\t'] }),
        "Escape" => Some(vec![0x1b]),
        "ArrowUp" => Some(cursor_key('A', m, app_cursor)),
        "ArrowDown" => Some(cursor_key('B', m, app_cursor)),
        "ArrowRight" => Some(cursor_key('C', m, app_cursor)),
        "ArrowLeft" => Some(cursor_key('D', m, app_cursor)),
        "Home" => Some(cursor_key('H', m, app_cursor)),
        "End" => Some(cursor_key('F', m, app_cursor)),
        "Insert" => Some(tilde_key(2, m)),
        "Delete" => Some(tilde_key(3, m)),
        "PageUp" => Some(tilde_key(5, m)),
        "PageDown" => Some(tilde_key(6, m)),
        _ => None,
    };
    if named.is_some() {
        return named;
    }
    if let Some(n) = key.strip_prefix('F').and_then(|n| n.parse::<u8>().ok()) {
        return function_key(n, m);
    }
    let mut chars = key.chars();
    let (Some(ch), None) = (chars.next(), chars.next()) else {
        // "Shift", "Control", "Dead", "Unidentified", "CapsLock", media keys...
        return None;
    };
    // AltGr arrives as Ctrl+Alt on Windows; a character that is not a letter is what AltGr
    // made (`@`, `\`, `{` on European layouts): send it as typed.
    let altgr = mods.ctrl && mods.alt && !ch.is_ascii_alphabetic();
    if mods.ctrl && !altgr {
        let c = control_byte(ch, code)?;
        return Some(if mods.alt { vec![0x1b, c] } else { vec![c] });
    }
    let mut out = Vec::with_capacity(5);
    if mods.alt && !altgr {
        out.push(0x1b); // Alt as Meta: ESC prefix, as xterm's metaSendsEscape
    }
    let mut buf = [0u8; 4];
    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    Some(out)
}

/// Ctrl with a character: letters give 0x01–0x1A (by physical key when the layout is not
/// Latin), and the classic `@ [ \ ] ^ _ ?` and Space give their C0 controls.
fn control_byte(ch: char, code: &str) -> Option<u8> {
    let letter = if ch.is_ascii_alphabetic() {
        Some(ch.to_ascii_lowercase())
    } else {
        code.strip_prefix("Key")
            .and_then(|k| k.chars().next())
            .filter(|c| c.is_ascii_uppercase() && code.len() == 4)
            .map(|c| c.to_ascii_lowercase())
    };
    if let Some(l) = letter {
        return Some(l as u8 - b'a' + 1);
    }
    match ch {
        '@' | ' ' | '2' => Some(0x00),
        '[' | '3' => Some(0x1b),
        '\\' | '4' => Some(0x1c),
        ']' | '5' => Some(0x1d),
        '^' | '6' => Some(0x1e),
        '_' | '-' | '7' => Some(0x1f),
        '?' | '8' => Some(0x7f),
        _ => None,
    }
}

/// Pasted text as the host should receive it: line ends become CR (what Enter sends), and
/// NUL bytes are dropped.
pub fn paste_bytes(text: &str) -> Vec<u8> {
    let text = text.replace("\r\n", "\r").replace('\n', "\r");
    text.bytes().filter(|&b| b != 0).collect()
}

/// Leaving the terminal by keyboard: Esc pressed twice within this many milliseconds leaves
/// it (the first Esc is still sent: BIOS menus need Esc).
pub const DOUBLE_ESC_MS: f64 = 600.0;

/// Tracks Esc presses to recognise Esc+Esc.
#[derive(Debug, Clone, Copy, Default)]
pub struct EscTracker {
    last_esc: Option<f64>,
}

impl EscTracker {
    /// A key was pressed at `now_ms`; true when it is the second Esc of a quick pair (the
    /// page then leaves the terminal instead of sending it).
    pub fn leave_on(&mut self, key: &str, mods: Mods, now_ms: f64) -> bool {
        let plain_esc = key == "Escape" && mods == Mods::default();
        if !plain_esc {
            self.last_esc = None;
            return false;
        }
        match self.last_esc {
            Some(t) if now_ms - t >= 0.0 && now_ms - t <= DOUBLE_ESC_MS => {
                self.last_esc = None;
                true
            }
            _ => {
                self.last_esc = Some(now_ms);
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: Mods = Mods {
        ctrl: false,
        alt: false,
        shift: false,
        meta: false,
    };
    const CTRL: Mods = Mods { ctrl: true, ..NONE };
    const SHIFT: Mods = Mods { shift: true, ..NONE };
    const ALT: Mods = Mods { alt: true, ..NONE };

    fn k(key: &str, code: &str, mods: Mods) -> Option<Vec<u8>> {
        encode_key(key, code, mods, false)
    }

    #[test]
    fn printable_keys_send_their_utf8() {
        assert_eq!(k("a", "KeyA", NONE), Some(b"a".to_vec()));
        assert_eq!(k("A", "KeyA", SHIFT), Some(b"A".to_vec()));
        assert_eq!(k(" ", "Space", NONE), Some(b" ".to_vec()));
        assert_eq!(k("é", "Digit2", NONE), Some("é".as_bytes().to_vec()));
        assert_eq!(k("x", "KeyX", ALT), Some(b"\x1bx".to_vec()), "Alt is an ESC prefix");
    }

    #[test]
    fn enter_backspace_tab_escape() {
        assert_eq!(k("Enter", "Enter", NONE), Some(vec![b'\r']));
        assert_eq!(k("Backspace", "Backspace", NONE), Some(vec![0x08]));
        assert_eq!(k("Backspace", "Backspace", CTRL), Some(vec![0x7f]));
        assert_eq!(k("Tab", "Tab", NONE), Some(vec![b'\t']));
        assert_eq!(k("Tab", "Tab", SHIFT), Some(b"\x1b[Z".to_vec()));
        assert_eq!(k("Escape", "Escape", NONE), Some(vec![0x1b]));
    }

    #[test]
    fn cursor_and_editing_keys() {
        assert_eq!(k("ArrowUp", "ArrowUp", NONE), Some(b"\x1b[A".to_vec()));
        assert_eq!(k("ArrowDown", "ArrowDown", NONE), Some(b"\x1b[B".to_vec()));
        assert_eq!(k("ArrowRight", "ArrowRight", NONE), Some(b"\x1b[C".to_vec()));
        assert_eq!(k("ArrowLeft", "ArrowLeft", NONE), Some(b"\x1b[D".to_vec()));
        assert_eq!(
            encode_key("ArrowUp", "ArrowUp", NONE, true),
            Some(b"\x1bOA".to_vec()),
            "application mode"
        );
        assert_eq!(k("ArrowLeft", "ArrowLeft", CTRL), Some(b"\x1b[1;5D".to_vec()));
        assert_eq!(k("Home", "Home", NONE), Some(b"\x1b[H".to_vec()));
        assert_eq!(k("End", "End", NONE), Some(b"\x1b[F".to_vec()));
        assert_eq!(k("Insert", "Insert", NONE), Some(b"\x1b[2~".to_vec()));
        assert_eq!(k("Delete", "Delete", NONE), Some(b"\x1b[3~".to_vec()));
        assert_eq!(k("PageUp", "PageUp", NONE), Some(b"\x1b[5~".to_vec()));
        assert_eq!(k("PageDown", "PageDown", NONE), Some(b"\x1b[6~".to_vec()));
        assert_eq!(k("Delete", "Delete", SHIFT), Some(b"\x1b[3;2~".to_vec()));
    }

    #[test]
    fn function_keys() {
        let want: [&[u8]; 12] = [
            b"\x1bOP",
            b"\x1bOQ",
            b"\x1bOR",
            b"\x1bOS",
            b"\x1b[15~",
            b"\x1b[17~",
            b"\x1b[18~",
            b"\x1b[19~",
            b"\x1b[20~",
            b"\x1b[21~",
            b"\x1b[23~",
            b"\x1b[24~",
        ];
        for (i, w) in want.iter().enumerate() {
            let name = format!("F{}", i + 1);
            assert_eq!(k(&name, &name, NONE).as_deref(), Some(*w), "{name}");
            assert_eq!(SpecialKey::F(i as u8 + 1).bytes(), w.to_vec(), "toolbar {name}");
        }
        assert_eq!(k("F2", "F2", SHIFT), Some(b"\x1b[1;2Q".to_vec()));
        assert_eq!(k("F5", "F5", CTRL), Some(b"\x1b[15;5~".to_vec()));
        assert_eq!(k("F13", "F13", NONE), None);
    }

    #[test]
    fn control_keys() {
        assert_eq!(k("c", "KeyC", CTRL), Some(vec![0x03]));
        assert_eq!(
            k("C", "KeyC", Mods { shift: true, ..CTRL }),
            None,
            "Ctrl+Shift+C is copy"
        );
        assert_eq!(
            k("V", "KeyV", Mods { shift: true, ..CTRL }),
            None,
            "Ctrl+Shift+V is paste"
        );
        assert_eq!(k("a", "KeyA", CTRL), Some(vec![0x01]));
        assert_eq!(k("z", "KeyZ", CTRL), Some(vec![0x1a]));
        assert_eq!(
            k("с", "KeyC", CTRL),
            Some(vec![0x03]),
            "Cyrillic layout: the physical key counts"
        );
        assert_eq!(k("[", "BracketLeft", CTRL), Some(vec![0x1b]));
        assert_eq!(k(" ", "Space", CTRL), Some(vec![0x00]));
        assert_eq!(k("d", "KeyD", Mods { alt: true, ..CTRL }), Some(vec![0x1b, 0x04]));
        assert_eq!(
            k("@", "KeyQ", Mods { alt: true, ..CTRL }),
            Some(b"@".to_vec()),
            "AltGr+Q on a German layout"
        );
        assert_eq!(
            k("é", "Digit2", CTRL),
            None,
            "no control code for it: left to the browser"
        );
    }

    #[test]
    fn keys_left_to_the_browser() {
        assert_eq!(k("Shift", "ShiftLeft", SHIFT), None);
        assert_eq!(k("Control", "ControlLeft", CTRL), None);
        assert_eq!(k("Dead", "BracketLeft", NONE), None);
        assert_eq!(k("Unidentified", "", NONE), None);
        assert_eq!(k("r", "KeyR", Mods { meta: true, ..NONE }), None);
    }

    #[test]
    fn special_keys_and_ctrl_alt_del() {
        assert_eq!(SpecialKey::CtrlAltDel.bytes(), b"\x1bR\x1br\x1bR".to_vec());
        assert_eq!(SpecialKey::Esc.bytes(), vec![0x1b]);
        assert_eq!(SpecialKey::CtrlAltDel.id(), "key-ctrl-alt-del");
        assert_eq!(SpecialKey::F(2).label(), "F2");
        assert_eq!(SpecialKey::TOOLBAR.len(), 15);
    }

    #[test]
    fn paste_turns_line_ends_into_enter() {
        assert_eq!(paste_bytes("ls -l\r\necho hi\nexit"), b"ls -l\recho hi\rexit".to_vec());
        assert_eq!(paste_bytes("a\0b"), b"ab".to_vec());
        assert_eq!(paste_bytes("grüße"), "grüße".as_bytes().to_vec());
    }

    #[test]
    fn double_escape_leaves() {
        let mut t = EscTracker::default();
        assert!(!t.leave_on("Escape", NONE, 1000.0), "the first Esc is sent");
        assert!(t.leave_on("Escape", NONE, 1300.0), "the second within 600 ms leaves");
        assert!(!t.leave_on("Escape", NONE, 1400.0), "and the pair is consumed");
        assert!(!t.leave_on("Escape", NONE, 2500.0), "too slow: a new first Esc");
        assert!(!t.leave_on("a", NONE, 2600.0));
        assert!(!t.leave_on("Escape", NONE, 2700.0), "another key in between resets");
        assert!(!t.leave_on("Escape", SHIFT, 2800.0), "Shift+Esc is not a plain Esc");
    }
}
