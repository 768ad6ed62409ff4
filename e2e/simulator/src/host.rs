//! The simulated host behind a device's serial port, as a Serial-over-LAN console sees it.
//!
//! A pure state machine: bytes typed on the console go in ([`Host::input`]), power events come
//! from the device ([`Host::power`]), timers are reported as a deadline ([`Host::deadline`],
//! [`Host::on_timer`]); every call returns the bytes the host writes to its serial port. The
//! redirection listener (`redir`) drives it with tokio timers; tests drive it directly.
//!
//! What it shows, drawn with VT100/ANSI sequences (clear screen, colours, cursor positioning):
//!
//! * after power-on or reset, a POST screen ending "Press F2 or DEL for setup" for
//!   [`POST_WINDOW`];
//! * the setup utility (blue screen, arrow keys move the highlighted item, Esc leaves) when F2
//!   (`ESC O Q` or `ESC [12~`) or DEL (`0x7F`, `ESC [3~`) is pressed during POST, or when the
//!   boot was "into BIOS setup" (AMT_BootSettingData BIOSSetup);
//! * otherwise a boot message, then `amtN login:` and a tiny shell (echo, help, uname, exit);
//! * `[power off]` and silence once the host is off.

use std::time::{Duration, Instant};

/// How long POST waits for F2/DEL.
pub const POST_WINDOW: Duration = Duration::from_millis(1000);
/// How long the boot loader message stays before the login prompt.
pub const BOOT_DELAY: Duration = Duration::from_millis(200);
/// How long POST shows before an "into setup" boot enters setup.
pub const SETUP_DELAY: Duration = Duration::from_millis(300);

/// Items of the setup utility's Main page.
pub const SETUP_ITEMS: [&str; 6] = [
    "System Date                [Sat 12/05/2026]",
    "Boot Mode                  [UEFI]",
    "Intel(R) AMT               [Enabled]",
    "Serial Port Console        [Enabled]",
    "Wake on LAN                [Disabled]",
    "Save Changes and Exit",
];
const SETUP_TOP: usize = 5;

/// A power event the host notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerEvent {
    /// The host went off.
    Off,
    /// Power-on, reset or power cycle: the firmware starts; `into_setup` when the boot
    /// options asked for BIOS setup.
    Boot {
        /// Enter setup after POST.
        into_setup: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    Off,
    Post { setup: bool, until: Instant },
    Setup { selected: usize },
    Booting { until: Instant },
    Login { line: String },
    Shell { user: String, line: String },
}

/// The host of one device.
#[derive(Debug, Clone)]
pub struct Host {
    name: String,
    mode: Mode,
}

const CLEAR: &str = "\x1b[0m\x1b[2J\x1b[H";

fn at(row: usize, col: usize) -> String {
    format!("\x1b[{row};{col}H")
}

impl Host {
    /// A host named `name` (`amt1`), found running at the login prompt, in setup (when the
    /// last boot went into setup), or off.
    pub fn new(name: &str, powered_on: bool, in_setup: bool) -> Host {
        let mode = match (powered_on, in_setup) {
            (false, _) => Mode::Off,
            (true, true) => Mode::Setup { selected: 0 },
            (true, false) => Mode::Login { line: String::new() },
        };
        Host {
            name: name.to_owned(),
            mode,
        }
    }

    /// True while the host is powered.
    pub fn is_on(&self) -> bool {
        self.mode != Mode::Off
    }

    /// What a console that just attached gets: the current screen or prompt.
    pub fn attach(&self) -> Vec<u8> {
        match &self.mode {
            Mode::Off => Vec::new(),
            Mode::Post { .. } => self.post_screen(),
            Mode::Setup { selected } => self.setup_screen(*selected),
            Mode::Booting { .. } => b"\r\n".to_vec(),
            Mode::Login { line } => format!("\r\n{} login: {line}", self.name).into_bytes(),
            Mode::Shell { user, line } => format!("\r\n{}{line}", self.prompt(user)).into_bytes(),
        }
    }

    /// When the next timer fires, if one is pending.
    pub fn deadline(&self) -> Option<Instant> {
        match &self.mode {
            Mode::Post { until, .. } | Mode::Booting { until } => Some(*until),
            _ => None,
        }
    }

    /// Runs timers due at `now`.
    pub fn on_timer(&mut self, now: Instant) -> Vec<u8> {
        match self.mode.clone() {
            Mode::Post { setup, until } if now >= until => {
                if setup {
                    self.mode = Mode::Setup { selected: 0 };
                    self.setup_screen(0)
                } else {
                    self.mode = Mode::Booting {
                        until: now + BOOT_DELAY,
                    };
                    format!("{CLEAR}Booting from Hard Disk...\r\n").into_bytes()
                }
            }
            Mode::Booting { until } if now >= until => self.login_screen(),
            _ => Vec::new(),
        }
    }

    /// A power event.
    pub fn power(&mut self, ev: PowerEvent, now: Instant) -> Vec<u8> {
        match ev {
            PowerEvent::Off => {
                let was_on = self.is_on();
                self.mode = Mode::Off;
                if was_on {
                    b"\x1b[0m\r\n[power off]\r\n".to_vec()
                } else {
                    Vec::new()
                }
            }
            PowerEvent::Boot { into_setup } => {
                let until = now + if into_setup { SETUP_DELAY } else { POST_WINDOW };
                self.mode = Mode::Post {
                    setup: into_setup,
                    until,
                };
                self.post_screen()
            }
        }
    }

    /// Keystrokes from the console.
    pub fn input(&mut self, bytes: &[u8], now: Instant) -> Vec<u8> {
        let _ = now;
        match self.mode.clone() {
            Mode::Off | Mode::Booting { .. } => Vec::new(),
            Mode::Post { until, .. } => {
                if is_setup_key(bytes) {
                    self.mode = Mode::Post { setup: true, until };
                    format!("{}\x1b[1;33mEntering Setup...\x1b[0m\x1b[K", at(23, 1)).into_bytes()
                } else {
                    Vec::new()
                }
            }
            Mode::Setup { selected } => self.setup_input(selected, bytes),
            Mode::Login { line } => {
                let (line, out, done) = edit_line(line, bytes);
                match done {
                    Some(user) if !user.trim().is_empty() => {
                        let user = user.trim().to_owned();
                        let mut o = out;
                        o.extend_from_slice(format!("\r\nLast login: never\r\n{}", self.prompt(&user)).as_bytes());
                        self.mode = Mode::Shell {
                            user,
                            line: String::new(),
                        };
                        o
                    }
                    Some(_) => {
                        let mut o = out;
                        o.extend_from_slice(format!("\r\n{} login: ", self.name).as_bytes());
                        self.mode = Mode::Login { line: String::new() };
                        o
                    }
                    None => {
                        self.mode = Mode::Login { line };
                        out
                    }
                }
            }
            Mode::Shell { user, line } => {
                let (line, mut out, done) = edit_line(line, bytes);
                match done {
                    Some(cmd) => {
                        out.extend_from_slice(b"\r\n");
                        if cmd.trim() == "exit" {
                            out.extend_from_slice(format!("logout\r\n\r\n{} login: ", self.name).as_bytes());
                            self.mode = Mode::Login { line: String::new() };
                        } else {
                            out.extend_from_slice(self.run(&cmd).as_bytes());
                            out.extend_from_slice(self.prompt(&user).as_bytes());
                            self.mode = Mode::Shell {
                                user,
                                line: String::new(),
                            };
                        }
                        out
                    }
                    None => {
                        self.mode = Mode::Shell { user, line };
                        out
                    }
                }
            }
        }
    }

    fn prompt(&self, user: &str) -> String {
        format!("{user}@{}:~$ ", self.name)
    }

    fn run(&self, cmd: &str) -> String {
        let cmd = cmd.trim();
        let (word, rest) = cmd.split_once(' ').unwrap_or((cmd, ""));
        match word {
            "" => String::new(),
            "echo" => format!("{rest}\r\n"),
            "help" => "commands: echo TEXT, help, uname [-a], exit\r\n".into(),
            "uname" if rest.trim() == "-a" => format!("Linux {} 6.8.0-sim #1 SMP x86_64 GNU/Linux\r\n", self.name),
            "uname" => "Linux\r\n".into(),
            other => format!("{other}: command not found\r\n"),
        }
    }

    fn login_screen(&mut self) -> Vec<u8> {
        self.mode = Mode::Login { line: String::new() };
        format!(
            "\r\nSimulated Linux 6.8 {name} ttyS0\r\n\r\n{name} login: ",
            name = self.name
        )
        .into_bytes()
    }

    fn post_screen(&self) -> Vec<u8> {
        let mut s = String::from(CLEAR);
        s.push_str("\x1b[1;37;44m Simulated BIOS v2.21.1278   (C) 2026 amt-sim \x1b[K\x1b[0m");
        s.push_str(&at(3, 1));
        s.push_str("\x1b[1mIntel(R) Core(TM) i7-9850H vPro(TM) CPU @ 2.60GHz\x1b[0m");
        s.push_str(&at(4, 1));
        s.push_str("Memory Test: 16384 MB \x1b[32mOK\x1b[0m");
        s.push_str(&at(5, 1));
        s.push_str(&format!("Intel(R) AMT: enabled   Host: {}", self.name));
        s.push_str(&at(24, 1));
        s.push_str("\x1b[1;33mPress F2 or DEL for setup\x1b[0m");
        s.into_bytes()
    }

    fn setup_line(&self, i: usize, selected: usize) -> String {
        let item = SETUP_ITEMS.get(i).copied().unwrap_or_default();
        let attr = if i == selected { "\x1b[30;47m" } else { "\x1b[37;44m" };
        format!("{}{attr}  {item:<48}\x1b[37;44m", at(SETUP_TOP + i, 3))
    }

    fn setup_screen(&self, selected: usize) -> Vec<u8> {
        let mut s = String::from("\x1b[0m\x1b[37;44m\x1b[2J\x1b[H");
        s.push_str("\x1b[1;37;46m");
        s.push_str(&format!("{:^80}", "Aptio Setup Utility (simulated)"));
        s.push_str(&at(2, 1));
        s.push_str("\x1b[0;37;44m  Main   Advanced   Boot   Security   Save & Exit");
        for i in 0..SETUP_ITEMS.len() {
            s.push_str(&self.setup_line(i, selected));
        }
        s.push_str(&at(22, 3));
        s.push_str("\x1b[1;33m\u{2191}\u{2193}: Select Item   Enter: Select   Esc: Exit\x1b[0;37;44m");
        s.into_bytes()
    }

    fn setup_input(&mut self, selected: usize, bytes: &[u8]) -> Vec<u8> {
        let mut sel = selected;
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            let rest = &bytes[i..];
            let (key, used) = key_at(rest);
            i += used;
            match key {
                Key::Up | Key::Down => {
                    let new = match key {
                        Key::Up => sel.checked_sub(1).unwrap_or(SETUP_ITEMS.len() - 1),
                        _ => (sel + 1) % SETUP_ITEMS.len(),
                    };
                    out.extend_from_slice(self.setup_line(sel, new).as_bytes());
                    out.extend_from_slice(self.setup_line(new, new).as_bytes());
                    sel = new;
                }
                Key::Escape => return self.leave_setup(out, "Exit Discarding Changes"),
                Key::Enter if sel == SETUP_ITEMS.len() - 1 => {
                    return self.leave_setup(out, "Saving changes and exiting");
                }
                Key::Enter => {
                    let item = SETUP_ITEMS[sel].split('[').next().unwrap_or_default().trim();
                    out.extend_from_slice(
                        format!(
                            "{}\x1b[1;37;44m{item}: this setting is fixed in the simulator\x1b[K",
                            at(20, 3)
                        )
                        .as_bytes(),
                    );
                }
                Key::Other => {}
            }
        }
        self.mode = Mode::Setup { selected: sel };
        out
    }

    fn leave_setup(&mut self, mut out: Vec<u8>, why: &str) -> Vec<u8> {
        out.extend_from_slice(format!("{CLEAR}{why}...\r\nBooting from Hard Disk...\r\n").as_bytes());
        out.extend(self.login_screen());
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Up,
    Down,
    Enter,
    Escape,
    Other,
}

/// The key at the start of `b` and how many bytes it used.
fn key_at(b: &[u8]) -> (Key, usize) {
    match b {
        [0x1b, b'[' | b'O', b'A', ..] => (Key::Up, 3),
        [0x1b, b'[' | b'O', b'B', ..] => (Key::Down, 3),
        [0x1b, b'[' | b'O', ..] => {
            // Another sequence: skip to its final byte.
            let end = b[2..]
                .iter()
                .position(|c| (0x40..=0x7e).contains(c))
                .map_or(b.len(), |p| p + 3);
            (Key::Other, end)
        }
        [0x1b, ..] => (Key::Escape, 1),
        [b'\r' | b'\n', ..] => (Key::Enter, 1),
        _ => (Key::Other, 1),
    }
}

/// F2 (`ESC O Q`, `ESC [12~`) or DEL (`0x7F`, `ESC [3~`) anywhere in `b`.
fn is_setup_key(b: &[u8]) -> bool {
    let has = |pat: &[u8]| b.windows(pat.len()).any(|w| w == pat);
    has(b"\x1bOQ") || has(b"\x1b[12~") || has(b"\x1b[3~") || b.contains(&0x7f)
}

/// Line editing with echo: returns the new line, the echo, and the finished line on Enter.
fn edit_line(mut line: String, bytes: &[u8]) -> (String, Vec<u8>, Option<String>) {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\r' | b'\n' => {
                // The rest of the chunk after Enter is dropped, as a line discipline in raw-ish
                // mode would lose type-ahead on a prompt change; keep it simple.
                return (String::new(), out, Some(line));
            }
            0x7f | 0x08 if line.pop().is_some() => out.extend_from_slice(b"\x08 \x08"),
            0x1b => {
                // Ignore escape sequences (arrows, F-keys) at a prompt.
                let (_, used) = key_at(&bytes[i..]);
                i += used;
                continue;
            }
            c if (0x20..0x7f).contains(&c) && line.len() < 256 => {
                line.push(char::from(c));
                out.push(c);
            }
            _ => {}
        }
        i += 1;
    }
    (line, out, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(b: &[u8]) -> String {
        String::from_utf8_lossy(b).into_owned()
    }

    #[test]
    fn boot_shows_post_then_login_and_the_shell_answers() {
        let t0 = Instant::now();
        let mut h = Host::new("amt1", true, false);
        let post = text(&h.power(PowerEvent::Boot { into_setup: false }, t0));
        assert!(post.starts_with("\x1b[0m\x1b[2J\x1b[H"), "clears the screen");
        assert!(post.contains("Press F2 or DEL for setup") && post.contains("\x1b[24;1H"));
        assert_eq!(h.deadline(), Some(t0 + POST_WINDOW));
        assert!(h.on_timer(t0 + Duration::from_millis(10)).is_empty(), "not yet");
        assert!(text(&h.on_timer(t0 + POST_WINDOW)).contains("Booting from Hard Disk"));
        let login = text(&h.on_timer(t0 + POST_WINDOW + BOOT_DELAY));
        assert!(login.ends_with("amt1 login: "), "{login:?}");
        assert_eq!(text(&h.input(b"alic", t0)), "alic");
        assert_eq!(text(&h.input(b"\x7f", t0)), "\x08 \x08");
        let shell = text(&h.input(b"ce\r", t0));
        assert!(
            shell.ends_with("ce\r\nLast login: never\r\nalice@amt1:~$ "),
            "{shell:?}"
        );
        let out = text(&h.input(b"echo hello world\r", t0));
        assert_eq!(out, "echo hello world\r\nhello world\r\nalice@amt1:~$ ");
        assert!(text(&h.input(b"uname -a\r", t0)).contains("Linux amt1 6.8.0-sim"));
        assert!(text(&h.input(b"frob\r", t0)).contains("frob: command not found"));
        assert!(text(&h.input(b"exit\r", t0)).ends_with("logout\r\n\r\namt1 login: "));
    }

    #[test]
    fn f2_during_post_and_into_setup_boots_show_the_setup_menu() {
        let t0 = Instant::now();
        let mut h = Host::new("amt2", true, false);
        h.power(PowerEvent::Boot { into_setup: false }, t0);
        assert!(text(&h.input(b"\x1bOQ", t0)).contains("Entering Setup"));
        let setup = text(&h.on_timer(t0 + POST_WINDOW));
        assert!(
            setup.contains("Aptio Setup Utility") && setup.contains("\x1b[37;44m"),
            "blue screen"
        );
        assert!(
            setup.contains(&format!("\x1b[30;47m  {:<48}", SETUP_ITEMS[0])),
            "first item highlighted"
        );
        // Down arrow: item 0 redrawn plain, item 1 highlighted, by cursor positioning.
        let down = text(&h.input(b"\x1b[B", t0));
        assert!(
            down.contains(&format!("\x1b[5;3H\x1b[37;44m  {:<48}", SETUP_ITEMS[0])),
            "{down:?}"
        );
        assert!(
            down.contains(&format!("\x1b[6;3H\x1b[30;47m  {:<48}", SETUP_ITEMS[1])),
            "{down:?}"
        );
        // Up from the top wraps to the last item.
        h.input(b"\x1b[A", t0);
        let up = text(&h.input(b"\x1bOA", t0));
        assert!(up.contains(&format!("\x1b[30;47m  {:<48}", SETUP_ITEMS[5])), "{up:?}");
        // Esc leaves setup and boots to the login prompt.
        let out = text(&h.input(b"\x1b", t0));
        assert!(
            out.contains("Exit Discarding Changes") && out.ends_with("amt2 login: "),
            "{out:?}"
        );

        let mut h = Host::new("amt2", true, false);
        h.power(PowerEvent::Boot { into_setup: true }, t0);
        assert_eq!(h.deadline(), Some(t0 + SETUP_DELAY));
        assert!(text(&h.on_timer(t0 + SETUP_DELAY)).contains("Aptio Setup Utility"));
        assert!(
            Host::new("amt2", true, true)
                .attach()
                .starts_with(b"\x1b[0m\x1b[37;44m\x1b[2J")
        );
        assert!(text(&h.input(b"\x1b[12~", t0)).is_empty(), "F2 in setup does nothing");
        assert!(Host::new("amt2", true, false).attach().ends_with(b"amt2 login: "));
        assert!(
            is_setup_key(b"\x1b[3~") && is_setup_key(b"\x7f"),
            "DEL enters setup too"
        );
    }

    #[test]
    fn power_off_prints_a_line_then_silence() {
        let t0 = Instant::now();
        let mut h = Host::new("amt3", true, false);
        assert_eq!(text(&h.power(PowerEvent::Off, t0)), "\x1b[0m\r\n[power off]\r\n");
        assert!(h.input(b"root\r", t0).is_empty());
        assert!(h.attach().is_empty() && h.deadline().is_none());
        assert!(h.power(PowerEvent::Off, t0).is_empty());
        assert!(!h.power(PowerEvent::Boot { into_setup: false }, t0).is_empty());
        assert!(h.is_on());
    }
}
