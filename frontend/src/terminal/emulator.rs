//! A VT100/ANSI terminal emulator without any DOM: bytes in, a screen of [`Cell`]s out.
//!
//! It covers what BIOS console redirection and Linux consoles send: C0 controls (CR, LF, BS,
//! TAB, BEL, SO/SI), CSI cursor movement, erasing, SGR colours (16, 256 and true colour mapped
//! to 16), scrolling regions, insert/delete of lines and characters, saved cursors, the DEC line
//! drawing set, code page 437 bytes, UTF-8 split across chunks, and the alternate screen.
//! Answers the host asks for (cursor position, device attributes) are queued for
//! [`Terminal::take_responses`].
//!
//! Conventions: input never makes it panic (unknown or malformed sequences are dropped, every
//! count is clamped to the screen); each screen row has a dirty flag so the page redraws only
//! rows that changed ([`Terminal::take_dirty`]); lines scrolled off the top of a full-screen
//! scrolling region go to a bounded scrollback.

use std::collections::VecDeque;

use super::cell::{Cell, Color, Style, nearest_16, xterm256_to_16};
use super::charset::{Charset, cp437};

/// Default screen size of a serial console (BIOS console redirection uses 80×25).
pub const DEFAULT_COLS: usize = 80;
/// Default number of rows.
pub const DEFAULT_ROWS: usize = 25;
/// Default number of scrollback lines kept.
pub const DEFAULT_SCROLLBACK: usize = 1000;

/// At most this many CSI parameters are kept; more are ignored.
const MAX_PARAMS: usize = 16;

/// Where the escape-sequence parser is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Printing text.
    Ground,
    /// After ESC.
    Escape,
    /// After ESC and an intermediate byte (`(`, `)`, `#`, `%`, ...).
    EscapeIntermediate(u8),
    /// Inside `ESC [` ... final byte.
    Csi,
    /// A malformed CSI: skipped up to its final byte.
    CsiIgnore,
    /// Inside an operating system command (`ESC ]` ... BEL or ST): ignored.
    Osc,
    /// Inside DCS, SOS, PM or APC (`ESC P`, `ESC X`, `ESC ^`, `ESC _` ... ST): ignored.
    String,
    /// ESC seen inside an OSC or string: `\` ends it.
    StringEscape,
}

/// How bytes 0x80–0xFF are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// UTF-8 until a byte proves otherwise; then code page 437.
    Auto,
    /// Code page 437 (a BIOS was detected), until a reset or a full clear.
    Cp437,
}

/// The cursor state saved by `ESC 7` / `CSI s` and restored by `ESC 8` / `CSI u`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Saved {
    row: usize,
    col: usize,
    style: Style,
    origin: bool,
    charsets: [Charset; 2],
    shift_out: bool,
}

/// A terminal: the screen, the cursor, the modes and the parser.
#[derive(Debug, Clone)]
pub struct Terminal {
    cols: usize,
    rows: usize,
    grid: Vec<Vec<Cell>>,
    /// The other screen while the alternate screen (`CSI ? 1049 h`) is shown.
    other_grid: Option<Vec<Vec<Cell>>>,
    dirty: Vec<bool>,
    scrollback: VecDeque<Vec<Cell>>,
    scrollback_limit: usize,
    scrolled_total: u64,
    row: usize,
    col: usize,
    /// The cursor is past the last column: the next character wraps first (xterm behaviour,
    /// so that writing the bottom-right cell does not scroll the screen).
    pending_wrap: bool,
    style: Style,
    saved: Option<Saved>,
    top: usize,
    bottom: usize,
    autowrap: bool,
    origin: bool,
    insert: bool,
    newline_mode: bool,
    cursor_visible: bool,
    app_cursor: bool,
    tabs: Vec<bool>,
    charsets: [Charset; 2],
    shift_out: bool,
    state: State,
    params: [u16; MAX_PARAMS],
    nparams: usize,
    private: Option<u8>,
    intermediate: Option<u8>,
    encoding: Encoding,
    utf8: [u8; 4],
    utf8_len: usize,
    utf8_need: usize,
    responses: Vec<u8>,
    bells: u32,
    reported_cursor: (usize, usize, bool),
}

impl Default for Terminal {
    fn default() -> Self {
        Terminal::new(DEFAULT_COLS, DEFAULT_ROWS)
    }
}

impl Terminal {
    /// A blank terminal of `cols` × `rows` (each at least 2 and at most 500).
    pub fn new(cols: usize, rows: usize) -> Self {
        let cols = cols.clamp(2, 500);
        let rows = rows.clamp(2, 500);
        Terminal {
            cols,
            rows,
            grid: vec![vec![Cell::default(); cols]; rows],
            other_grid: None,
            dirty: vec![true; rows],
            scrollback: VecDeque::new(),
            scrollback_limit: DEFAULT_SCROLLBACK,
            scrolled_total: 0,
            row: 0,
            col: 0,
            pending_wrap: false,
            style: Style::default(),
            saved: None,
            top: 0,
            bottom: rows - 1,
            autowrap: true,
            origin: false,
            insert: false,
            newline_mode: false,
            cursor_visible: true,
            app_cursor: false,
            tabs: default_tabs(cols),
            charsets: [Charset::Ascii; 2],
            shift_out: false,
            state: State::Ground,
            params: [0; MAX_PARAMS],
            nparams: 0,
            private: None,
            intermediate: None,
            encoding: Encoding::Auto,
            utf8: [0; 4],
            utf8_len: 0,
            utf8_need: 0,
            responses: Vec::new(),
            bells: 0,
            reported_cursor: (usize::MAX, usize::MAX, false),
        }
    }

    /// Keep at most `lines` lines of scrollback (0 keeps none).
    pub fn set_scrollback_limit(&mut self, lines: usize) {
        self.scrollback_limit = lines;
        while self.scrollback.len() > lines {
            self.scrollback.pop_front();
        }
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The cells of screen row `row` (0-based); an empty slice past the last row.
    pub fn row(&self, row: usize) -> &[Cell] {
        self.grid.get(row).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The cursor as (row, column), 0-based.
    pub fn cursor(&self) -> (usize, usize) {
        (self.row, self.col)
    }

    /// Whether the host wants the cursor shown (`CSI ? 25 h/l`).
    pub fn cursor_visible(&self) -> bool {
        self.cursor_visible
    }

    /// Whether cursor keys must be sent in application mode (`ESC O A`; `CSI ? 1 h`).
    pub fn application_cursor_keys(&self) -> bool {
        self.app_cursor
    }

    /// Lines scrolled off the top, oldest first (bounded).
    pub fn scrollback(&self) -> &VecDeque<Vec<Cell>> {
        &self.scrollback
    }

    /// How many lines have ever gone to the scrollback (also counts those since dropped), so a
    /// view can tell which lines are new.
    pub fn scrolled_total(&self) -> u64 {
        self.scrolled_total
    }

    /// How many times BEL was received since the last call.
    pub fn take_bells(&mut self) -> u32 {
        std::mem::take(&mut self.bells)
    }

    /// Bytes the terminal must send back to the host (answers to status queries).
    pub fn take_responses(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.responses)
    }

    /// The rows changed since the last call (including the rows the cursor left and entered),
    /// in ascending order; the flags are cleared.
    pub fn take_dirty(&mut self) -> Vec<usize> {
        let now = (self.row, self.col, self.cursor_visible);
        if now != self.reported_cursor {
            if let Some(d) = self.dirty.get_mut(self.reported_cursor.0) {
                *d = true;
            }
            self.dirty[self.row] = true;
            self.reported_cursor = now;
        }
        let mut out = Vec::new();
        for (i, d) in self.dirty.iter_mut().enumerate() {
            if *d {
                out.push(i);
                *d = false;
            }
        }
        out
    }

    /// The screen as text: one line per row, trailing spaces removed.
    pub fn text(&self) -> String {
        let mut s = String::with_capacity(self.rows * (self.cols + 1));
        for (i, row) in self.grid.iter().enumerate() {
            if i > 0 {
                s.push('\n');
            }
            let line: String = row.iter().map(|c| c.ch).collect();
            s.push_str(line.trim_end());
        }
        s
    }

    /// Feed bytes received from the host. Sequences and UTF-8 characters may be split
    /// anywhere across calls.
    pub fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.byte(b);
        }
    }

    fn byte(&mut self, b: u8) {
        // A pending UTF-8 sequence is settled before anything that is not its continuation.
        if self.utf8_len > 0 && !(self.state == State::Ground && (0x80..=0xBF).contains(&b)) {
            self.flush_invalid_utf8();
        }
        match self.state {
            State::Osc | State::String => match b {
                0x07 if self.state == State::Osc => self.state = State::Ground,
                0x18 | 0x1A => self.state = State::Ground,
                0x1B => self.state = State::StringEscape,
                _ => {}
            },
            State::StringEscape => {
                // `ESC \` ends the string; any other ESC sequence ends it and starts anew.
                self.state = State::Ground;
                if b != b'\\' {
                    self.state = State::Escape;
                    self.intermediate = None;
                    self.byte(b);
                }
            }
            _ if b < 0x20 => self.control(b),
            State::Ground => self.ground(b),
            State::Escape => self.escape(b),
            State::EscapeIntermediate(i) => self.escape_intermediate(i, b),
            State::Csi => self.csi_byte(b),
            State::CsiIgnore => {
                if (0x40..=0x7E).contains(&b) {
                    self.state = State::Ground;
                }
            }
        }
    }

    /// C0 controls; inside a CSI they act without ending it, as on a VT100.
    fn control(&mut self, b: u8) {
        match b {
            0x07 => self.bells = self.bells.saturating_add(1),
            0x08 => {
                self.pending_wrap = false;
                self.col = self.col.saturating_sub(1);
            }
            0x09 => self.tab(1),
            0x0A..=0x0C => {
                self.linefeed();
                if self.newline_mode {
                    self.col = 0;
                }
            }
            0x0D => {
                self.pending_wrap = false;
                self.col = 0;
            }
            0x0E => self.shift_out = true,
            0x0F => self.shift_out = false,
            0x18 | 0x1A => self.state = State::Ground,
            0x1B => {
                self.state = State::Escape;
                self.intermediate = None;
            }
            _ => {}
        }
    }

    fn ground(&mut self, b: u8) {
        match b {
            0x20..=0x7E => {
                let set = self.charsets[usize::from(self.shift_out)];
                self.print(set.map(b));
            }
            0x7F => {}
            _ => self.high_byte(b),
        }
    }

    /// Bytes 0x80–0xFF: UTF-8 when they form it, code page 437 otherwise.
    fn high_byte(&mut self, b: u8) {
        if self.utf8_len > 0 {
            // A continuation byte (anything else was flushed in `byte`).
            self.utf8[self.utf8_len] = b;
            self.utf8_len += 1;
            if self.utf8_len == self.utf8_need {
                match std::str::from_utf8(&self.utf8[..self.utf8_len]) {
                    Ok(s) => {
                        let chars: Vec<char> = s.chars().collect();
                        self.utf8_len = 0;
                        for c in chars {
                            self.print(c);
                        }
                    }
                    Err(_) => self.flush_invalid_utf8(),
                }
            }
            return;
        }
        if self.encoding == Encoding::Cp437 {
            self.print(cp437(b));
            return;
        }
        let need = match b {
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => 0,
        };
        if need == 0 {
            self.encoding = Encoding::Cp437;
            self.print(cp437(b));
        } else {
            self.utf8[0] = b;
            self.utf8_len = 1;
            self.utf8_need = need;
        }
    }

    /// The held bytes were not UTF-8: show them as code page 437 and read further high bytes
    /// that way.
    fn flush_invalid_utf8(&mut self) {
        let held = self.utf8;
        let n = std::mem::take(&mut self.utf8_len);
        self.encoding = Encoding::Cp437;
        for &b in &held[..n] {
            self.print(cp437(b));
        }
    }

    fn escape(&mut self, b: u8) {
        self.state = State::Ground;
        match b {
            0x20..=0x2F => self.state = State::EscapeIntermediate(b),
            b'[' => {
                self.state = State::Csi;
                self.nparams = 0;
                self.params = [0; MAX_PARAMS];
                self.private = None;
                self.intermediate = None;
            }
            b']' => self.state = State::Osc,
            b'P' | b'X' | b'^' | b'_' => self.state = State::String,
            b'7' => self.save_cursor(),
            b'8' => self.restore_cursor(),
            b'c' => self.reset(),
            b'D' => self.linefeed(),
            b'E' => {
                self.linefeed();
                self.col = 0;
            }
            b'M' => self.reverse_index(),
            b'H' => {
                if let Some(t) = self.tabs.get_mut(self.col) {
                    *t = true;
                }
            }
            // Keypad modes, single shifts, and the rest: nothing to draw.
            _ => {}
        }
    }

    fn escape_intermediate(&mut self, i: u8, b: u8) {
        if (0x20..=0x2F).contains(&b) {
            return; // further intermediates: keep the first
        }
        self.state = State::Ground;
        match (i, b) {
            (b'(', f) => self.charsets[0] = Charset::from_final(f),
            (b')', f) => self.charsets[1] = Charset::from_final(f),
            (b'#', b'8') => {
                // DECALN: fill the screen with E (alignment test).
                for r in 0..self.rows {
                    for c in self.grid[r].iter_mut() {
                        *c = Cell {
                            ch: 'E',
                            style: Style::default(),
                        };
                    }
                    self.dirty[r] = true;
                }
                self.set_cursor(0, 0);
            }
            _ => {}
        }
    }

    fn csi_byte(&mut self, b: u8) {
        match b {
            b'0'..=b'9' => {
                if self.intermediate.is_some() {
                    self.state = State::CsiIgnore;
                    return;
                }
                if self.nparams == 0 {
                    self.nparams = 1;
                }
                if let Some(p) = self.params.get_mut(self.nparams - 1) {
                    *p = p.saturating_mul(10).saturating_add(u16::from(b - b'0'));
                }
            }
            b';' | b':' => {
                if self.intermediate.is_some() {
                    self.state = State::CsiIgnore;
                    return;
                }
                if self.nparams == 0 {
                    self.nparams = 1;
                }
                // Parameters past the limit are dropped (nparams stops growing).
                if self.nparams < MAX_PARAMS {
                    self.nparams += 1;
                } else {
                    self.nparams = MAX_PARAMS + 1;
                }
            }
            b'<'..=b'?' => {
                if self.nparams > 0 || self.private.is_some() || self.intermediate.is_some() {
                    self.state = State::CsiIgnore;
                } else {
                    self.private = Some(b);
                }
            }
            0x20..=0x2F => self.intermediate = Some(b),
            0x40..=0x7E => {
                self.state = State::Ground;
                if self.nparams > MAX_PARAMS {
                    self.nparams = MAX_PARAMS;
                }
                self.csi_dispatch(b);
            }
            _ => self.state = State::CsiIgnore,
        }
    }

    /// Parameter `i`, or `default` when absent or zero.
    fn param(&self, i: usize, default: u16) -> u16 {
        match self.params.get(i) {
            Some(&p) if i < self.nparams && p != 0 => p,
            _ => default,
        }
    }

    /// Parameter `i` as a count of at least 1.
    fn count(&self, i: usize) -> usize {
        usize::from(self.param(i, 1))
    }

    fn csi_dispatch(&mut self, f: u8) {
        if self.intermediate.is_some() {
            // DECSCUSR (`CSI 2 SP q`), soft reset (`CSI ! p`) and the like: nothing to draw.
            return;
        }
        match (self.private, f) {
            (None, b'A') => self.cursor_up(self.count(0)),
            (None, b'B' | b'e') => self.cursor_down(self.count(0)),
            (None, b'C' | b'a') => {
                self.pending_wrap = false;
                self.col = (self.col + self.count(0)).min(self.cols - 1);
            }
            (None, b'D') => {
                self.pending_wrap = false;
                self.col = self.col.saturating_sub(self.count(0));
            }
            (None, b'E') => {
                self.cursor_down(self.count(0));
                self.col = 0;
            }
            (None, b'F') => {
                self.cursor_up(self.count(0));
                self.col = 0;
            }
            (None, b'G' | b'`') => {
                self.pending_wrap = false;
                self.col = (self.count(0) - 1).min(self.cols - 1);
            }
            (None, b'd') => {
                let col = self.col;
                self.goto(self.count(0) - 1, col);
            }
            (None, b'H' | b'f') => self.goto(self.count(0) - 1, self.count(1) - 1),
            (None | Some(b'?'), b'J') => self.erase_display(self.param(0, 0)),
            (None | Some(b'?'), b'K') => self.erase_line(self.param(0, 0)),
            (None, b'L') => self.insert_lines(self.count(0)),
            (None, b'M') => self.delete_lines(self.count(0)),
            (None, b'@') => self.insert_chars(self.count(0)),
            (None, b'P') => self.delete_chars(self.count(0)),
            (None, b'X') => self.erase_chars(self.count(0)),
            (None, b'S') => self.scroll_up(self.top, self.bottom, self.count(0)),
            (None, b'T') if self.nparams <= 1 => self.scroll_down(self.top, self.bottom, self.count(0)),
            (None, b'm') => self.sgr(),
            (None, b'r') => self.set_region(),
            (None, b's') => self.save_cursor(),
            (None, b'u') => self.restore_cursor(),
            (None, b'g') => match self.param(0, 0) {
                0 => {
                    if let Some(t) = self.tabs.get_mut(self.col) {
                        *t = false;
                    }
                }
                3 => self.tabs.iter_mut().for_each(|t| *t = false),
                _ => {}
            },
            (None, b'I') => self.tab(self.count(0)),
            (None, b'Z') => self.back_tab(self.count(0)),
            (None, b'h') => self.set_ansi_modes(true),
            (None, b'l') => self.set_ansi_modes(false),
            (Some(b'?'), b'h') => self.set_dec_modes(true),
            (Some(b'?'), b'l') => self.set_dec_modes(false),
            (None, b'n') => match self.param(0, 0) {
                5 => self.responses.extend_from_slice(b"\x1b[0n"),
                6 => self.report_cursor(false),
                _ => {}
            },
            (Some(b'?'), b'n') if self.param(0, 0) == 6 => self.report_cursor(true),
            (None, b'c') if self.param(0, 0) == 0 => {
                // "VT100 with advanced video option", what BIOS-era software expects.
                self.responses.extend_from_slice(b"\x1b[?1;2c");
            }
            _ => {}
        }
    }

    fn report_cursor(&mut self, dec: bool) {
        let row = if self.origin {
            self.row.saturating_sub(self.top)
        } else {
            self.row
        } + 1;
        let col = self.col + 1;
        let answer = if dec {
            format!("\x1b[?{row};{col}R")
        } else {
            format!("\x1b[{row};{col}R")
        };
        self.responses.extend_from_slice(answer.as_bytes());
    }

    fn set_ansi_modes(&mut self, on: bool) {
        for i in 0..self.nparams {
            match self.params[i] {
                4 => self.insert = on,
                20 => self.newline_mode = on,
                _ => {}
            }
        }
    }

    fn set_dec_modes(&mut self, on: bool) {
        for i in 0..self.nparams {
            match self.params[i] {
                1 => self.app_cursor = on,
                6 => {
                    self.origin = on;
                    self.goto(0, 0);
                }
                7 => {
                    self.autowrap = on;
                    if !on {
                        self.pending_wrap = false;
                    }
                }
                25 => self.cursor_visible = on,
                47 | 1047 | 1049 => self.alternate_screen(on, self.params[i] == 1049),
                _ => {}
            }
        }
    }

    fn alternate_screen(&mut self, on: bool, save_cursor: bool) {
        if on == self.other_grid.is_some() {
            return;
        }
        if on && save_cursor {
            self.save_cursor();
        }
        let blank = vec![vec![Cell::default(); self.cols]; self.rows];
        if on {
            self.other_grid = Some(std::mem::replace(&mut self.grid, blank));
        } else if let Some(primary) = self.other_grid.take() {
            self.grid = primary;
            if save_cursor {
                self.restore_cursor();
            }
        }
        self.dirty.iter_mut().for_each(|d| *d = true);
    }

    fn sgr(&mut self) {
        let n = self.nparams.max(1);
        let mut i = 0;
        while i < n {
            let p = if i < self.nparams { self.params[i] } else { 0 };
            match p {
                0 => self.style = Style::default(),
                1 => self.style.bold = true,
                2 | 22 => self.style.bold = false,
                4 => self.style.underline = true,
                5 | 6 => self.style.blink = true,
                7 => self.style.inverse = true,
                24 => self.style.underline = false,
                25 => self.style.blink = false,
                27 => self.style.inverse = false,
                30..=37 => self.style.fg = Color::Ansi((p - 30) as u8),
                39 => self.style.fg = Color::Default,
                40..=47 => self.style.bg = Color::Ansi((p - 40) as u8),
                49 => self.style.bg = Color::Default,
                90..=97 => self.style.fg = Color::Ansi((p - 90 + 8) as u8),
                100..=107 => self.style.bg = Color::Ansi((p - 100 + 8) as u8),
                38 | 48 => {
                    let (colour, used) = self.extended_colour(i + 1);
                    if let Some(c) = colour {
                        if p == 38 {
                            self.style.fg = c;
                        } else {
                            self.style.bg = c;
                        }
                    }
                    i += used;
                }
                _ => {}
            }
            i += 1;
        }
    }

    /// `5;n` or `2;r;g;b` after 38/48, starting at parameter `i`: the colour and how many
    /// parameters it used.
    fn extended_colour(&self, i: usize) -> (Option<Color>, usize) {
        let get = |k: usize| (k < self.nparams).then(|| self.params[k]);
        let clamp = |v: u16| u8::try_from(v).unwrap_or(u8::MAX);
        match get(i) {
            Some(5) => match get(i + 1) {
                Some(n) => (Some(Color::Ansi(xterm256_to_16(clamp(n)))), 2),
                None => (None, 1),
            },
            Some(2) => match (get(i + 1), get(i + 2), get(i + 3)) {
                (Some(r), Some(g), Some(b)) => (Some(Color::Ansi(nearest_16(clamp(r), clamp(g), clamp(b)))), 4),
                _ => (None, self.nparams.saturating_sub(i)),
            },
            _ => (None, 0),
        }
    }

    fn set_region(&mut self) {
        let top = usize::from(self.param(0, 1)) - 1;
        let bottom = (usize::from(self.param(1, self.rows as u16)) - 1).min(self.rows - 1);
        if top < bottom {
            self.top = top;
            self.bottom = bottom;
            self.goto(0, 0);
        }
    }

    fn save_cursor(&mut self) {
        self.saved = Some(Saved {
            row: self.row,
            col: self.col,
            style: self.style,
            origin: self.origin,
            charsets: self.charsets,
            shift_out: self.shift_out,
        });
    }

    fn restore_cursor(&mut self) {
        let s = self.saved.unwrap_or(Saved {
            row: 0,
            col: 0,
            style: Style::default(),
            origin: false,
            charsets: [Charset::Ascii; 2],
            shift_out: false,
        });
        self.style = s.style;
        self.origin = s.origin;
        self.charsets = s.charsets;
        self.shift_out = s.shift_out;
        self.set_cursor(s.row, s.col);
    }

    /// `ESC c`: back to the power-on state (the scrollback stays).
    fn reset(&mut self) {
        let scrollback = std::mem::take(&mut self.scrollback);
        let total = self.scrolled_total;
        let limit = self.scrollback_limit;
        let responses = std::mem::take(&mut self.responses);
        let bells = self.bells;
        *self = Terminal::new(self.cols, self.rows);
        self.scrollback = scrollback;
        self.scrolled_total = total;
        self.scrollback_limit = limit;
        self.responses = responses;
        self.bells = bells;
    }

    /// Absolute cursor placement, clamped to the screen.
    fn set_cursor(&mut self, row: usize, col: usize) {
        self.pending_wrap = false;
        self.row = row.min(self.rows - 1);
        self.col = col.min(self.cols - 1);
    }

    /// Cursor placement as the host addresses it (relative to the region in origin mode).
    fn goto(&mut self, row: usize, col: usize) {
        if self.origin {
            let row = (self.top + row).min(self.bottom);
            self.set_cursor(row, col);
        } else {
            self.set_cursor(row, col);
        }
    }

    fn cursor_up(&mut self, n: usize) {
        let limit = if self.row >= self.top { self.top } else { 0 };
        self.pending_wrap = false;
        self.row = self.row.saturating_sub(n).max(limit);
    }

    fn cursor_down(&mut self, n: usize) {
        let limit = if self.row <= self.bottom {
            self.bottom
        } else {
            self.rows - 1
        };
        self.pending_wrap = false;
        self.row = (self.row + n).min(limit);
    }

    fn tab(&mut self, n: usize) {
        self.pending_wrap = false;
        for _ in 0..n.min(self.cols) {
            let next = (self.col + 1..self.cols).find(|&c| self.tabs[c]);
            self.col = next.unwrap_or(self.cols - 1);
        }
    }

    fn back_tab(&mut self, n: usize) {
        self.pending_wrap = false;
        for _ in 0..n.min(self.cols) {
            let prev = (0..self.col).rev().find(|&c| self.tabs[c]);
            self.col = prev.unwrap_or(0);
        }
    }

    fn print(&mut self, ch: char) {
        if self.pending_wrap {
            self.pending_wrap = false;
            self.col = 0;
            self.linefeed();
        }
        let row = &mut self.grid[self.row];
        if self.insert {
            row.pop();
            row.insert(self.col, Cell::default());
        }
        row[self.col] = Cell { ch, style: self.style };
        self.dirty[self.row] = true;
        if self.col + 1 >= self.cols {
            if self.autowrap {
                self.pending_wrap = true;
            }
        } else {
            self.col += 1;
        }
    }

    /// LF / IND: down one row, scrolling the region at its bottom.
    fn linefeed(&mut self) {
        self.pending_wrap = false;
        if self.row == self.bottom {
            self.scroll_up(self.top, self.bottom, 1);
        } else if self.row + 1 < self.rows {
            self.row += 1;
        }
    }

    /// RI: up one row, scrolling the region down at its top.
    fn reverse_index(&mut self) {
        self.pending_wrap = false;
        if self.row == self.top {
            self.scroll_down(self.top, self.bottom, 1);
        } else if self.row > 0 {
            self.row -= 1;
        }
    }

    fn blank_row(&self) -> Vec<Cell> {
        vec![Cell::blank(self.style); self.cols]
    }

    /// Rows `top..=bottom` move up by `n`; blank rows enter at the bottom. Lines leaving a
    /// full-screen region of the main screen go to the scrollback.
    fn scroll_up(&mut self, top: usize, bottom: usize, n: usize) {
        let n = n.min(bottom + 1 - top);
        let to_scrollback = top == 0 && bottom == self.rows - 1 && self.other_grid.is_none();
        for _ in 0..n {
            let line = self.grid.remove(top);
            if to_scrollback && self.scrollback_limit > 0 {
                if self.scrollback.len() >= self.scrollback_limit {
                    self.scrollback.pop_front();
                }
                self.scrollback.push_back(line);
                self.scrolled_total += 1;
            }
            let blank = self.blank_row();
            self.grid.insert(bottom, blank);
        }
        self.dirty[top..=bottom].iter_mut().for_each(|d| *d = true);
    }

    /// Rows `top..=bottom` move down by `n`; blank rows enter at the top.
    fn scroll_down(&mut self, top: usize, bottom: usize, n: usize) {
        let n = n.min(bottom + 1 - top);
        for _ in 0..n {
            self.grid.remove(bottom);
            let blank = self.blank_row();
            self.grid.insert(top, blank);
        }
        self.dirty[top..=bottom].iter_mut().for_each(|d| *d = true);
    }

    fn insert_lines(&mut self, n: usize) {
        if (self.top..=self.bottom).contains(&self.row) {
            self.scroll_down(self.row, self.bottom, n);
            self.set_cursor(self.row, 0);
        }
    }

    fn delete_lines(&mut self, n: usize) {
        if (self.top..=self.bottom).contains(&self.row) {
            self.scroll_up_no_scrollback(self.row, self.bottom, n);
            self.set_cursor(self.row, 0);
        }
    }

    fn scroll_up_no_scrollback(&mut self, top: usize, bottom: usize, n: usize) {
        let n = n.min(bottom + 1 - top);
        for _ in 0..n {
            self.grid.remove(top);
            let blank = self.blank_row();
            self.grid.insert(bottom, blank);
        }
        self.dirty[top..=bottom].iter_mut().for_each(|d| *d = true);
    }

    fn insert_chars(&mut self, n: usize) {
        let blank = Cell::blank(self.style);
        let (col, cols) = (self.col, self.cols);
        let n = n.min(cols - col);
        let row = &mut self.grid[self.row];
        row.truncate(cols - n);
        row.splice(col..col, std::iter::repeat_n(blank, n));
        self.pending_wrap = false;
        self.dirty[self.row] = true;
    }

    fn delete_chars(&mut self, n: usize) {
        let blank = Cell::blank(self.style);
        let (col, cols) = (self.col, self.cols);
        let n = n.min(cols - col);
        let row = &mut self.grid[self.row];
        row.drain(col..col + n);
        row.extend(std::iter::repeat_n(blank, n));
        self.pending_wrap = false;
        self.dirty[self.row] = true;
    }

    fn erase_chars(&mut self, n: usize) {
        let end = (self.col + n).min(self.cols);
        self.erase_cells(self.row, self.col, end);
    }

    /// Blank cells `from..to` of `row` with the current background.
    fn erase_cells(&mut self, row: usize, from: usize, to: usize) {
        let blank = Cell::blank(self.style);
        if let Some(r) = self.grid.get_mut(row) {
            let to = to.min(r.len());
            if from < to {
                r[from..to].iter_mut().for_each(|c| *c = blank);
            }
            self.dirty[row] = true;
        }
    }

    fn erase_line(&mut self, mode: u16) {
        match mode {
            0 => self.erase_cells(self.row, self.col, self.cols),
            1 => self.erase_cells(self.row, 0, self.col + 1),
            2 => self.erase_cells(self.row, 0, self.cols),
            _ => {}
        }
    }

    fn erase_display(&mut self, mode: u16) {
        match mode {
            0 => {
                self.erase_cells(self.row, self.col, self.cols);
                for r in self.row + 1..self.rows {
                    self.erase_cells(r, 0, self.cols);
                }
            }
            1 => {
                for r in 0..self.row {
                    self.erase_cells(r, 0, self.cols);
                }
                self.erase_cells(self.row, 0, self.col + 1);
            }
            2 | 3 => {
                for r in 0..self.rows {
                    self.erase_cells(r, 0, self.cols);
                }
                if mode == 3 {
                    self.scrollback.clear();
                }
                // A cleared screen is a new start: read high bytes as UTF-8 again until proven
                // otherwise (a BIOS hands over to an operating system this way).
                self.encoding = Encoding::Auto;
            }
            _ => {}
        }
    }
}

/// Tab stops every 8 columns.
fn default_tabs(cols: usize) -> Vec<bool> {
    (0..cols).map(|c| c % 8 == 0 && c > 0).collect()
}

#[cfg(test)]
#[path = "emulator_tests.rs"]
mod tests;
