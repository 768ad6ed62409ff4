//! Tests of the emulator: each control and sequence on its own, then whole screens (a BIOS
//! setup screen drawn the way BIOS console redirection draws it, a Linux login), then random
//! bytes (it must never panic and must keep its invariants).

use super::*;

fn term() -> Terminal {
    Terminal::new(80, 25)
}

fn fed(bytes: &[u8]) -> Terminal {
    let mut t = term();
    t.feed(bytes);
    t
}

/// Row `r` as text, trailing spaces removed.
fn line(t: &Terminal, r: usize) -> String {
    let s: String = t.row(r).iter().map(|c| c.ch).collect();
    s.trim_end().to_string()
}

fn at(t: &Terminal, r: usize, c: usize) -> Cell {
    t.row(r)[c]
}

#[test]
fn text_and_the_basic_controls() {
    let t = fed(b"Hello\r\nWorld\x08\x08XY\tZ");
    assert_eq!(line(&t, 0), "Hello");
    assert_eq!(line(&t, 1), "WorXY   Z");
    assert_eq!(t.cursor(), (1, 9));
    let mut t = fed(b"ab\x07\x07");
    assert_eq!(t.take_bells(), 2);
    assert_eq!(t.take_bells(), 0);
    let t = fed(b"a\nb");
    assert_eq!(line(&t, 1), " b", "LF keeps the column (no newline mode)");
    let t = fed(b"\x1b[20ha\nb");
    assert_eq!(line(&t, 1), "b", "newline mode: LF also returns");
}

#[test]
fn cursor_movement() {
    let t = fed(b"\x1b[5;10HX\x1b[2AY\x1b[3BZ\x1b[4CW\x1b[20DV");
    assert_eq!(at(&t, 4, 9).ch, 'X');
    assert_eq!(at(&t, 2, 10).ch, 'Y');
    assert_eq!(at(&t, 5, 11).ch, 'Z');
    assert_eq!(at(&t, 5, 16).ch, 'W');
    assert_eq!(at(&t, 5, 0).ch, 'V', "CUB stops at column 0");
    let t = fed(b"\x1b[10;10f\x1b[30GA\x1b[3dB");
    assert_eq!(at(&t, 9, 29).ch, 'A', "CHA is absolute column");
    assert_eq!(at(&t, 2, 30).ch, 'B', "VPA is absolute row");
    let t = fed(b"\x1b[H\x1b[999;999HQ");
    assert_eq!(at(&t, 24, 79).ch, 'Q', "CUP clamps to the screen");
    let t = fed(b"\x1b[;5H*");
    assert_eq!(at(&t, 0, 4).ch, '*', "an empty parameter is the default");
    let t = fed(b"\x1b[0;0H*");
    assert_eq!(at(&t, 0, 0).ch, '*', "zero means one");
    let t = fed(b"\x1b[3;3H\x1b[2E*\x1b[1F+");
    assert_eq!(at(&t, 4, 0).ch, '*');
    assert_eq!(at(&t, 3, 0).ch, '+');
    let t = fed(b"\x1b[99A\x1b[99D*");
    assert_eq!(t.cursor(), (0, 1));
}

#[test]
fn erase_in_display_and_line() {
    let full = {
        let mut v = Vec::new();
        for _ in 0..25 {
            v.extend_from_slice(&[b'x'; 80]);
        }
        v
    };
    let mut t = term();
    t.feed(&full);
    t.feed(b"\x1b[3;5H\x1b[0J");
    assert_eq!(line(&t, 2), "xxxx");
    assert_eq!(line(&t, 3), "");
    assert_eq!(line(&t, 1).len(), 80);

    let mut t = term();
    t.feed(&full);
    t.feed(b"\x1b[3;5H\x1b[1J");
    assert_eq!(line(&t, 0), "");
    assert_eq!(t.row(2)[..5].iter().map(|c| c.ch).collect::<String>(), "     ");
    assert_eq!(at(&t, 2, 5).ch, 'x');
    assert_eq!(line(&t, 24).len(), 80);

    let mut t = term();
    t.feed(&full);
    t.feed(b"\x1b[2J");
    assert_eq!(t.text().trim(), "", "2J clears everything");

    let mut t = fed(b"abcdefgh\x1b[4G\x1b[K");
    assert_eq!(line(&t, 0), "abc");
    t.feed(b"\rabcdefgh\x1b[4G\x1b[1K");
    assert_eq!(line(&t, 0), "    efgh");
    t.feed(b"\x1b[2K");
    assert_eq!(line(&t, 0), "");
    let t = fed(b"abcdefgh\x1b[2G\x1b[3X");
    assert_eq!(line(&t, 0), "a   efgh", "ECH blanks without moving the rest");
}

#[test]
fn erase_uses_the_current_background() {
    let t = fed(b"\x1b[37;44m\x1b[2J");
    for r in 0..25 {
        assert!(
            t.row(r).iter().all(|c| c.style.bg == Color::Ansi(4) && c.ch == ' '),
            "row {r} blue"
        );
    }
    assert_eq!(
        at(&t, 0, 0).style.fg,
        Color::Default,
        "erased cells keep only the background"
    );
}

#[test]
fn sgr_attributes_and_colours() {
    let t = fed(b"\x1b[1;4;5;7;31;42mA\x1b[22;24;25;27mB\x1b[39;49mC\x1b[0m");
    let a = at(&t, 0, 0).style;
    assert!(a.bold && a.underline && a.blink && a.inverse);
    assert_eq!((a.fg, a.bg), (Color::Ansi(1), Color::Ansi(2)));
    let b = at(&t, 0, 1).style;
    assert!(!b.bold && !b.underline && !b.blink && !b.inverse);
    assert_eq!((b.fg, b.bg), (Color::Ansi(1), Color::Ansi(2)));
    assert_eq!(at(&t, 0, 2).style, Style::default());

    let t = fed(b"\x1b[93;104mA\x1b[38;5;196;48;5;21mB\x1b[38;2;0;170;0mC\x1b[mD\x1b[1;mE");
    assert_eq!(at(&t, 0, 0).style.fg, Color::Ansi(11));
    assert_eq!(at(&t, 0, 0).style.bg, Color::Ansi(12));
    assert_eq!(at(&t, 0, 1).style.fg, Color::Ansi(1), "256-colour red");
    assert_eq!(at(&t, 0, 1).style.bg, Color::Ansi(4), "256-colour blue");
    assert_eq!(at(&t, 0, 2).style.fg, Color::Ansi(2), "true-colour green");
    assert_eq!(at(&t, 0, 3).style, Style::default(), "CSI m resets");
    assert_eq!(at(&t, 0, 4).style, Style::default(), "1;<empty> sets bold then resets");

    // Truncated extended colours are ignored without disturbing what follows.
    let t = fed(b"\x1b[38;5mA\x1b[38;2;1;2mB\x1b[38mC\x1b[4mD");
    assert_eq!(at(&t, 0, 0).style, Style::default());
    assert_eq!(at(&t, 0, 2).style, Style::default());
    assert!(at(&t, 0, 3).style.underline);
}

#[test]
fn autowrap_is_deferred_at_the_last_column() {
    let mut t = term();
    t.feed(b"\x1b[25;80HX");
    assert_eq!(at(&t, 24, 79).ch, 'X');
    assert_eq!(t.scrolled_total(), 0, "writing the bottom-right cell does not scroll");
    assert_eq!(t.cursor(), (24, 79));
    t.feed(b"Y");
    assert_eq!(t.scrolled_total(), 1, "the next character wraps and scrolls");
    assert_eq!(line(&t, 24), "Y");
    assert_eq!(line(&t, 23).chars().last(), Some('X'));

    let mut t = fed(b"\x1b[?7l\x1b[1;79HABCD");
    assert_eq!(line(&t, 0).trim(), "AD", "no autowrap: the last column is overwritten");
    assert_eq!(line(&t, 1), "");
    t.feed(b"\x1b[?7h\x1b[1;80HZ\r\n");
    assert_eq!(t.cursor(), (1, 0), "CR clears the pending wrap");
}

#[test]
fn scrolling_and_scrollback() {
    let mut t = term();
    for i in 0..30 {
        t.feed(format!("line {i}\r\n").as_bytes());
    }
    assert_eq!(line(&t, 0), "line 6");
    assert_eq!(line(&t, 23), "line 29");
    assert_eq!(t.scrollback().len(), 6);
    assert_eq!(t.scrolled_total(), 6);
    let first: String = t.scrollback()[0].iter().map(|c| c.ch).collect();
    assert_eq!(first.trim_end(), "line 0");

    t.set_scrollback_limit(3);
    assert_eq!(t.scrollback().len(), 3);
    t.feed(b"a\r\nb\r\n");
    assert_eq!(t.scrollback().len(), 3, "bounded");
    assert_eq!(t.scrolled_total(), 8, "the total keeps counting");

    let mut t = fed(b"\x1b[1;1Htop\x1b[25;1Hbottom\x1b[S");
    assert_eq!(line(&t, 23), "bottom", "SU scrolls up");
    t.feed(b"\x1b[2T");
    assert_eq!(line(&t, 2), "", "SD scrolls down");
    assert_eq!(line(&t, 25 - 1), "");
    assert_eq!(line(&t, 1), "", "the top line went to the scrollback with SU");

    let mut t = fed(b"\x1b[1;1Hfirst\x1b[2;1Hsecond\x1b[1;1H\x1bM");
    assert_eq!(line(&t, 1), "first", "RI at the top scrolls down");
    assert_eq!(line(&t, 0), "");
    t.feed(b"\x1bD\x1bD\x1bE*");
    assert_eq!(t.cursor(), (3, 1), "IND and NEL move down");
}

#[test]
fn scrolling_region() {
    let mut t = term();
    t.feed(b"\x1b[1;1Hheader\x1b[25;1Hfooter\x1b[2;24r");
    assert_eq!(t.cursor(), (0, 0), "DECSTBM homes the cursor");
    t.feed(b"\x1b[24;1H");
    for i in 0..5 {
        t.feed(format!("\r\nmsg {i}").as_bytes());
    }
    assert_eq!(line(&t, 0), "header", "rows above the region stay");
    assert_eq!(line(&t, 24), "footer", "rows below the region stay");
    assert_eq!(line(&t, 23), "msg 4");
    assert_eq!(line(&t, 19), "msg 0");
    assert_eq!(t.scrollback().len(), 0, "a partial region does not feed the scrollback");

    // Origin mode addresses rows relative to the region; cursor stays inside it.
    t.feed(b"\x1b[?6h\x1b[1;1HO\x1b[99;1HP");
    assert_eq!(at(&t, 1, 0).ch, 'O');
    assert_eq!(at(&t, 23, 0).ch, 'P');
    t.feed(b"\x1b[6n");
    assert_eq!(
        t.take_responses(),
        b"\x1b[23;2R".to_vec(),
        "the report is region-relative too"
    );
    t.feed(b"\x1b[?6l\x1b[r");
    t.feed(b"\x1b[25;1H\n");
    assert_eq!(line(&t, 0), "O", "after DECSTBM reset the whole screen scrolls");

    let mut t = term();
    t.feed(b"\x1b[5;2r"); // top > bottom: ignored
    t.feed(b"\x1b[25;1H\n");
    assert_eq!(t.scrolled_total(), 1);
}

#[test]
fn insert_and_delete_lines_and_characters() {
    let mut t = term();
    for i in 0..5 {
        t.feed(format!("\x1b[{};1Hrow{i}", i + 1).as_bytes());
    }
    t.feed(b"\x1b[2;3H\x1b[2L");
    assert_eq!(
        (line(&t, 1), line(&t, 2), line(&t, 3)),
        ("".into(), "".into(), "row1".into())
    );
    assert_eq!(t.cursor(), (1, 0), "IL moves to column 0");
    t.feed(b"\x1b[3M");
    assert_eq!(line(&t, 1), "row2");
    assert_eq!(line(&t, 3), "row4");
    assert_eq!(t.scrollback().len(), 0, "DL does not feed the scrollback");

    let mut t = fed(b"abcdef\x1b[3G\x1b[2@");
    assert_eq!(line(&t, 0), "ab  cdef");
    t.feed(b"\x1b[3P");
    assert_eq!(line(&t, 0), "abdef");
    t.feed(b"\x1b[1G\x1b[999P");
    assert_eq!(line(&t, 0), "", "counts are clamped");
    let mut t = fed(b"\x1b[1;78Habc\x1b[1;1H\x1b[5@");
    assert_eq!(t.row(0).len(), 80, "rows keep their width");
    assert_eq!(line(&t, 0), "", "characters pushed past the edge are gone");
    t.feed(b"\x1b[1;1Habcd\x1b[1;1H\x1b[4hXY\x1b[4lZ");
    assert_eq!(
        line(&t, 0),
        "XYZbcd",
        "insert mode shifts right; replace mode overwrites"
    );
}

#[test]
fn save_and_restore_cursor() {
    let t = fed(b"\x1b[5;5H\x1b[31m\x1b7\x1b[1;1H\x1b[0mA\x1b8B");
    assert_eq!(at(&t, 4, 4).ch, 'B');
    assert_eq!(
        at(&t, 4, 4).style.fg,
        Color::Ansi(1),
        "ESC 8 restores the attributes too"
    );
    let t = fed(b"\x1b[10;20H\x1b[s\x1b[1;1HA\x1b[uB");
    assert_eq!(at(&t, 9, 19).ch, 'B');
    let t = fed(b"\x1b[3;3H\x1b8X");
    assert_eq!(at(&t, 0, 0).ch, 'X', "restore without save goes home");
}

#[test]
fn reset_clears_everything_but_the_scrollback() {
    let mut t = term();
    for _ in 0..30 {
        t.feed(b"x\r\n");
    }
    t.feed(b"\x1b[31;44m\x1b[5;10r\x1b[?25l\x1b(0\x1bc");
    assert_eq!(t.text().trim(), "");
    assert_eq!(t.cursor(), (0, 0));
    assert!(t.cursor_visible());
    assert_eq!(t.scrollback().len(), 6);
    t.feed(b"\x1b[25;1Hq\n");
    assert_eq!(at(&t, 23, 0).ch, 'q', "charset and region are back to normal");
    assert_eq!(at(&t, 23, 0).style, Style::default());
}

#[test]
fn dec_line_drawing_and_shift_out() {
    let t = fed(b"\x1b(0lqqk\x1b(B lqk");
    assert_eq!(line(&t, 0), "┌──┐ lqk");
    let t = fed(b"\x1b)0a\x0eqx\x0fq");
    assert_eq!(line(&t, 0), "a─│q", "SO selects G1, SI back to G0");
    let t = fed(b"\x1b(A#");
    assert_eq!(line(&t, 0), "£");
}

#[test]
fn cp437_bytes_from_a_bios() {
    let t = fed(b"\xc9\xcd\xcd\xbb\r\n\xba  \xba\r\n\xc8\xcd\xcd\xbc \xb0\xb1\xb2\xdb");
    assert_eq!(line(&t, 0), "╔══╗");
    assert_eq!(line(&t, 1), "║  ║");
    assert_eq!(line(&t, 2), "╚══╝ ░▒▓█");
    let t = fed(b"\xda\xc4\xc4\xbf\r\n\xc0\xc4\xc4\xd9");
    assert_eq!(line(&t, 0), "┌──┐");
    assert_eq!(line(&t, 1), "└──┘");
}

#[test]
fn utf8_across_chunk_boundaries() {
    let text = "Grüße ─ ╔═╗ 日本 😀".as_bytes();
    for split in 0..text.len() {
        let mut t = term();
        t.feed(&text[..split]);
        t.feed(&text[split..]);
        assert_eq!(line(&t, 0), "Grüße ─ ╔═╗ 日本 😀", "split at {split}");
    }
    // Byte by byte as well.
    let mut t = term();
    for b in text {
        t.feed(std::slice::from_ref(b));
    }
    assert_eq!(line(&t, 0), "Grüße ─ ╔═╗ 日本 😀");
}

#[test]
fn invalid_utf8_falls_back_to_cp437_until_the_screen_is_cleared() {
    // A lone continuation byte, then an interrupted sequence.
    let mut t = fed(b"\xb3x\xe2\x94y");
    assert_eq!(line(&t, 0), "│xΓöy");
    // Now the stream is known to be CP437: an ambiguous pair stays CP437.
    t.feed(b"\r\n\xc3\xb3");
    assert_eq!(line(&t, 1), "├│");
    // A full clear starts over with UTF-8 (a BIOS handing over to Linux).
    t.feed(b"\x1b[2J\x1b[H\xc3\xb3");
    assert_eq!(line(&t, 0), "ó");
    // A control in the middle of a sequence settles it.
    let t = fed(b"\xe2\x1b[1mA");
    assert_eq!(line(&t, 0), "ΓA");
    assert!(at(&t, 0, 1).style.bold);
}

#[test]
fn tabs() {
    let t = fed(b"\tA\tB\x1b[3gC\tD");
    assert_eq!(at(&t, 0, 8).ch, 'A');
    assert_eq!(at(&t, 0, 16).ch, 'B');
    assert_eq!(at(&t, 0, 79).ch, 'D', "all stops cleared: tab goes to the last column");
    let t = fed(b"\x1b[1;5H\x1bH\r\tX\x1b[1;30H\x1b[2ZY");
    assert_eq!(at(&t, 0, 4).ch, 'X', "ESC H sets a stop");
    assert_eq!(at(&t, 0, 16).ch, 'Y', "CBT goes back two stops");
    let t = fed(b"\x1b[2IZ");
    assert_eq!(at(&t, 0, 16).ch, 'Z', "CHT goes forward two stops");
}

#[test]
fn modes_and_reports() {
    let mut t = fed(b"\x1b[?25l\x1b[?1h");
    assert!(!t.cursor_visible());
    assert!(t.application_cursor_keys());
    t.feed(b"\x1b[?25;1l");
    assert!(
        !t.cursor_visible() && !t.application_cursor_keys(),
        "several modes in one sequence"
    );
    t.feed(b"\x1b[?25h");
    assert!(t.cursor_visible());
    t.feed(b"\x1b[3;7H\x1b[6n\x1b[5n\x1b[c\x1b[>c\x1b[?6n");
    assert_eq!(t.take_responses(), b"\x1b[3;7R\x1b[0n\x1b[?1;2c\x1b[?3;7R".to_vec());
    assert!(t.take_responses().is_empty());
}

#[test]
fn alternate_screen() {
    let mut t = fed(b"shell prompt$ \x1b[?1049h");
    assert_eq!(line(&t, 0), "", "the alternate screen starts blank");
    t.feed(b"\x1b[1;1Heditor");
    t.feed(b"\x1b[?1049l");
    assert_eq!(line(&t, 0), "shell prompt$", "the main screen comes back");
    assert_eq!(t.cursor(), (0, 14), "with its cursor");
}

#[test]
fn strings_and_unknown_sequences_are_ignored() {
    let t = fed(b"a\x1b]0;title\x07b\x1b]2;t\x1b\\c\x1bPdcs data\x1b\\d\x1b_apc\x1b\\e");
    assert_eq!(line(&t, 0), "abcde");
    let t = fed(b"a\x1b[?1000;1006hb\x1b[>4;2mc\x1b[2 qd\x1b[!pe\x1b#8");
    assert_eq!(at(&t, 0, 0).ch, 'E', "DECALN fills with E");
    let t = fed(b"a\x1b[1;2$zb\x1b[=5hc\x1b[12;3?Xd\x1b%Ge\x1b=f\x1b>g\x1bNh");
    assert_eq!(line(&t, 0), "abcdefgh");
    let t = fed(b"a\x1b[5\x18b\x1b[3\x1ac");
    assert_eq!(line(&t, 0), "abc", "CAN and SUB abort a sequence");
    let t = fed(b"x\x1b[1;5H\x1b[2\rA");
    assert_eq!(line(&t, 0), "x");
    assert_eq!(
        t.cursor(),
        (0, 0),
        "CR inside a CSI executes, and the CSI still ends at A"
    );
}

#[test]
fn huge_and_many_parameters_are_harmless() {
    let t = fed(b"\x1b[99999999999999999999;99999999999999999999HX");
    assert_eq!(at(&t, 24, 79).ch, 'X');
    let mut many = b"\x1b[".to_vec();
    for i in 0..100 {
        many.extend_from_slice(format!("{};", i % 50).as_bytes());
    }
    many.extend_from_slice(b"mY");
    let t = fed(&many);
    assert_eq!(at(&t, 0, 0).ch, 'Y');
    let t =
        fed(b"\x1b[65535L\x1b[65535M\x1b[65535@\x1b[65535P\x1b[65535S\x1b[65535T\x1b[65535X\x1b[65535I\x1b[65535ZZ");
    assert_eq!(at(&t, 0, 0).ch, 'Z');
}

#[test]
fn dirty_rows_track_changes_and_the_cursor() {
    let mut t = term();
    assert_eq!(t.take_dirty().len(), 25, "everything is new at first");
    assert!(t.take_dirty().is_empty());
    t.feed(b"\x1b[3;1Habc");
    assert_eq!(t.take_dirty(), vec![0, 2], "row 2 changed; the cursor left row 0");
    t.feed(b"\x1b[10;1H");
    assert_eq!(t.take_dirty(), vec![2, 9], "cursor moves redraw both rows");
    t.feed(b"\x1b[?25l");
    assert_eq!(t.take_dirty(), vec![9], "hiding the cursor redraws its row");
    t.feed(b"\x1b[25;1H\n");
    assert_eq!(t.take_dirty().len(), 25, "a scroll redraws every row");
}

/// A BIOS setup screen drawn the way console redirection draws one (VT100 with colours, CP437
/// frames, absolute positioning, a highlighted item), and what the page must show.
#[test]
fn a_bios_setup_screen() {
    let mut screen: Vec<u8> = Vec::new();
    // Blue background, light grey text, clear, hide the cursor.
    screen.extend_from_slice(b"\x1b[0m\x1b[37;44m\x1b[2J\x1b[?25l");
    // Title bar: cyan on blue, bold.
    screen.extend_from_slice(b"\x1b[1;1H\x1b[1;36;44m");
    screen.extend_from_slice(format!("{:^80}", "Aptio Setup Utility - Copyright (C) 2026").as_bytes());
    // Menu bar, inverted item for the current tab.
    screen.extend_from_slice(b"\x1b[2;1H\x1b[0;37;44m  \x1b[7m Main \x1b[27m  Advanced  Boot  Security  Save & Exit");
    // Frame with CP437 double lines.
    screen.extend_from_slice(b"\x1b[3;1H\x1b[0;37;44m\xc9");
    screen.extend_from_slice(&[0xcd; 78]);
    screen.extend_from_slice(b"\xbb");
    for r in 4..=22 {
        screen.extend_from_slice(format!("\x1b[{r};1H").as_bytes());
        screen.push(0xba);
        screen.extend_from_slice(format!("\x1b[{r};80H").as_bytes());
        screen.push(0xba);
    }
    screen.extend_from_slice(b"\x1b[23;1H\xc8");
    screen.extend_from_slice(&[0xcd; 78]);
    screen.extend_from_slice(b"\xbc");
    // Items; the second is highlighted (white on cyan).
    screen.extend_from_slice(b"\x1b[5;3HBIOS Version\x1b[5;30H2.17.1246");
    screen.extend_from_slice(b"\x1b[6;3H\x1b[1;37;46mSystem Date\x1b[0;37;44m\x1b[6;30H[Sat 12/05/2026]");
    screen.extend_from_slice(b"\x1b[7;3HSystem Time\x1b[7;30H[15:20:07]");
    // Help line in yellow at the bottom, then the cursor parked at the last cell.
    screen.extend_from_slice(
        b"\x1b[24;1H\x1b[1;33m\x1b[2K  \x18\x19: Select  Enter: Select  F10: Save & Exit  ESC: Exit",
    );
    screen.extend_from_slice(b"\x1b[25;80H ");

    // Fed in small odd-sized chunks, as serial data arrives.
    let mut t = term();
    for chunk in screen.chunks(7) {
        t.feed(chunk);
    }

    let text = t.text();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows[0].trim(), "Aptio Setup Utility - Copyright (C) 2026");
    assert_eq!(rows[1], "   Main   Advanced  Boot  Security  Save & Exit");
    assert_eq!(rows[2], format!("╔{}╗", "═".repeat(78)));
    assert_eq!(rows[3], format!("║{}║", " ".repeat(78)));
    assert_eq!(
        rows[4],
        format!("║ BIOS Version{}2.17.1246{}║", " ".repeat(15), " ".repeat(41))
    );
    assert!(rows[5].starts_with(&format!("║ System Date{}[Sat 12/05/2026]", " ".repeat(16))));
    assert_eq!(rows[22], format!("╚{}╝", "═".repeat(78)));
    assert_eq!(
        rows[23], "  : Select  Enter: Select  F10: Save & Exit  ESC: Exit",
        "C0 arrows are controls, not glyphs"
    );
    assert_eq!(
        t.scrolled_total(),
        0,
        "nothing scrolled: the last cell was written in place"
    );

    // Colours as drawn.
    assert_eq!(at(&t, 0, 5).style.fg, Color::Ansi(6));
    assert!(at(&t, 0, 5).style.bold);
    assert!(at(&t, 1, 3).style.inverse, "the current tab is inverted");
    assert!(!at(&t, 1, 10).style.inverse);
    let item = at(&t, 5, 2).style;
    assert_eq!((item.fg, item.bg, item.bold), (Color::Ansi(7), Color::Ansi(6), true));
    assert_eq!(at(&t, 5, 29).style.bg, Color::Ansi(4));
    assert_eq!(at(&t, 12, 40).style.bg, Color::Ansi(4), "cleared to blue");
    assert_eq!(at(&t, 23, 70).style.bg, Color::Ansi(4), "EL keeps the blue background");
    assert_eq!(at(&t, 23, 2).style.fg, Color::Ansi(3));
    assert!(!t.cursor_visible());

    // What the page draws for the highlighted row: the item white on cyan, all else on blue.
    let runs = crate::terminal::render::row_runs(t.row(5), None);
    let joined: String = runs.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(joined.trim_end(), rows[5]);
    let item = runs
        .iter()
        .find(|r| r.text == "System Date")
        .expect("the item is one run");
    assert_eq!(item.class, "f15 b6 bo", "bold light grey is drawn white");
    assert!(
        runs.iter()
            .filter(|r| *r != item)
            .all(|r| r.class.split(' ').any(|c| c == "b4"))
    );
}

/// A Linux boot handing over: kernel lines, then agetty clears and shows a login prompt.
#[test]
fn a_linux_login() {
    let mut t = term();
    t.feed(b"\x1b[2J\x1b[HBooting from Hard Disk...\r\n");
    for i in 0..40 {
        t.feed(format!("[    {i}.000000] systemd[1]: Started unit {i}.\r\n").as_bytes());
    }
    t.feed(b"\x1b[H\x1b[2J\r\nDebian GNU/Linux 13 amt1 ttyS0\r\n\r\namt1 login: ");
    assert_eq!(line(&t, 1), "Debian GNU/Linux 13 amt1 ttyS0");
    assert_eq!(line(&t, 3), "amt1 login:");
    assert_eq!(t.cursor(), (3, 12));
    assert!(t.scrolled_total() >= 16);
    let last: String = t
        .scrollback()
        .back()
        .map(|l| l.iter().map(|c| c.ch).collect())
        .unwrap_or_default();
    assert!(last.contains("systemd[1]"), "the boot log is in the scrollback");
}

/// A small xorshift generator: the test needs arbitrary bytes, not a crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn check_invariants(t: &Terminal) {
    assert_eq!(
        (0..t.rows()).map(|r| t.row(r).len()).collect::<Vec<_>>(),
        vec![t.cols(); t.rows()]
    );
    let (r, c) = t.cursor();
    assert!(r < t.rows() && c < t.cols());
    assert!(t.scrollback().len() <= DEFAULT_SCROLLBACK);
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // Pure noise, and noise biased towards escape sequences, in random chunk sizes.
    for round in 0..200 {
        let mut t = Terminal::new(80 - (round % 7), 25 - (round % 5));
        let mut buf = Vec::new();
        for _ in 0..4000 {
            let x = rng.next();
            let b = match x % 8 {
                0 => 0x1b,
                1 => b"[;?0123456789"[(x >> 8) as usize % 13],
                2 => b"ABCDHJKLMPSTXZ@`abcdfghlmnrsu"[(x >> 8) as usize % 29],
                3 => b"()#%]P\\\x07\x18\x0e\x0f"[(x >> 8) as usize % 11],
                _ => (x >> 16) as u8,
            };
            buf.push(b);
        }
        let mut i = 0;
        while i < buf.len() {
            let n = 1 + (rng.next() % 64) as usize;
            let end = (i + n).min(buf.len());
            t.feed(&buf[i..end]);
            i = end;
        }
        check_invariants(&t);
        let _ = t.take_dirty();
        let _ = t.take_responses();
        let _ = t.text();
    }
}

#[test]
fn throughput_of_mixed_text_and_escapes() {
    // About 1 MB of what a busy console sends: coloured text, cursor moves, clears, UTF-8,
    // CP437 frames and scrolling. Prints the figure; the assertion is on the result only.
    let mut chunk = Vec::new();
    for i in 0..200 {
        chunk.extend_from_slice(
            format!(
                "\x1b[{};{}H\x1b[1;3{}mItem {i:03}\x1b[0m ─ Grüße ",
                i % 25 + 1,
                i % 60 + 1,
                i % 8
            )
            .as_bytes(),
        );
        chunk.extend_from_slice(b"\xc9\xcd\xcd\xbb plain text for the line, long enough to matter\r\n");
        if i % 50 == 0 {
            chunk.extend_from_slice(b"\x1b[2J\x1b[5;20r\x1b[K\x1b[2L\x1b[3P\x1b[r");
        }
    }
    let mut data = Vec::with_capacity(1 << 20);
    while data.len() < 1 << 20 {
        data.extend_from_slice(&chunk);
    }
    let mut t = term();
    let start = std::time::Instant::now();
    for piece in data.chunks(4096) {
        t.feed(piece);
    }
    let _ = t.take_dirty();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "terminal throughput: {} bytes in {:.1} ms = {:.1} MB/s (this build's profile)",
        data.len(),
        secs * 1000.0,
        data.len() as f64 / secs / 1e6
    );
    assert!(t.scrolled_total() > 0);
    check_invariants(&t);
}
