//! One character cell of the screen: a character and its style (colours, bold, underline,
//! blink, inverse), and the 16-colour palette everything is mapped to.
//!
//! The page draws 16 colours through CSS classes, so 256-colour and true-colour requests are
//! mapped to the nearest of the 16 VGA colours that BIOS screens were designed for.

/// A colour: the terminal's default, or one of the 16 ANSI colours (0–7 normal, 8–15 bright).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Color {
    /// The default foreground or background (set by the stylesheet).
    #[default]
    Default,
    /// ANSI colour 0–15.
    Ansi(u8),
}

/// How a character is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Style {
    /// Foreground colour.
    pub fg: Color,
    /// Background colour.
    pub bg: Color,
    /// Bold (also brightens colours 0–7, as VGA text mode and xterm do).
    pub bold: bool,
    /// Underlined.
    pub underline: bool,
    /// Blinking (drawn as a gentle blink, or not at all with reduced motion).
    pub blink: bool,
    /// Foreground and background swapped.
    pub inverse: bool,
}

/// One cell of the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cell {
    /// The character shown (a space when empty).
    pub ch: char,
    /// Its style.
    pub style: Style,
}

impl Default for Cell {
    fn default() -> Self {
        Cell {
            ch: ' ',
            style: Style::default(),
        }
    }
}

impl Cell {
    /// An empty cell that keeps the background colour of `style` (xterm's "background colour
    /// erase": BIOS screens clear to blue by setting the background, then erasing).
    pub fn blank(style: Style) -> Self {
        Cell {
            ch: ' ',
            style: Style {
                bg: style.bg,
                ..Style::default()
            },
        }
    }
}

/// The 16 VGA text-mode colours (RGB), in ANSI order; style/main.css uses the same values.
pub const PALETTE: [(u8, u8, u8); 16] = [
    (0x00, 0x00, 0x00),
    (0xAA, 0x00, 0x00),
    (0x00, 0xAA, 0x00),
    (0xAA, 0x55, 0x00),
    (0x00, 0x00, 0xAA),
    (0xAA, 0x00, 0xAA),
    (0x00, 0xAA, 0xAA),
    (0xAA, 0xAA, 0xAA),
    (0x55, 0x55, 0x55),
    (0xFF, 0x55, 0x55),
    (0x55, 0xFF, 0x55),
    (0xFF, 0xFF, 0x55),
    (0x55, 0x55, 0xFF),
    (0xFF, 0x55, 0xFF),
    (0x55, 0xFF, 0xFF),
    (0xFF, 0xFF, 0xFF),
];

/// The palette colour closest to an RGB value (weighted distance: the eye is most sensitive
/// to green, least to blue).
pub fn nearest_16(r: u8, g: u8, b: u8) -> u8 {
    let mut best = 0u8;
    let mut best_d = u32::MAX;
    for (i, &(pr, pg, pb)) in PALETTE.iter().enumerate() {
        let dr = u32::from(r.abs_diff(pr));
        let dg = u32::from(g.abs_diff(pg));
        let db = u32::from(b.abs_diff(pb));
        let d = 2 * dr * dr + 4 * dg * dg + 3 * db * db;
        if d < best_d {
            best_d = d;
            best = i as u8;
        }
    }
    best
}

/// An xterm 256-colour index mapped to the nearest of the 16: 0–15 are themselves, 16–231 the
/// 6×6×6 colour cube, 232–255 the grey ramp.
pub fn xterm256_to_16(n: u8) -> u8 {
    match n {
        0..=15 => n,
        16..=231 => {
            const LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
            let i = usize::from(n - 16);
            nearest_16(LEVELS[i / 36], LEVELS[(i / 6) % 6], LEVELS[i % 6])
        }
        232..=255 => {
            let v = 8 + 10 * (n - 232);
            nearest_16(v, v, v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palette_colours_map_to_themselves() {
        for (i, &(r, g, b)) in PALETTE.iter().enumerate() {
            assert_eq!(nearest_16(r, g, b), i as u8);
        }
    }

    #[test]
    fn true_colours_go_to_the_obvious_neighbour() {
        assert_eq!(nearest_16(255, 0, 0), 1, "pure red is VGA red");
        assert_eq!(nearest_16(0, 0, 255), 4, "pure blue is VGA blue");
        assert_eq!(nearest_16(250, 250, 250), 15);
        assert_eq!(nearest_16(10, 10, 10), 0);
        assert_eq!(nearest_16(255, 255, 80), 11, "light yellow");
    }

    #[test]
    fn the_256_colour_cube_and_greys() {
        for n in 0..16u8 {
            assert_eq!(xterm256_to_16(n), n);
        }
        assert_eq!(xterm256_to_16(196), 1, "cube red");
        assert_eq!(xterm256_to_16(21), 4, "cube blue");
        assert_eq!(xterm256_to_16(46), 2, "cube green");
        assert_eq!(xterm256_to_16(231), 15, "cube white");
        assert_eq!(xterm256_to_16(16), 0, "cube black");
        assert_eq!(xterm256_to_16(232), 0, "darkest grey");
        assert_eq!(xterm256_to_16(248), 7, "grey 168 is light grey");
        assert_eq!(xterm256_to_16(255), 15, "grey 238 is nearly white");
        assert_eq!(xterm256_to_16(240), 8, "mid-dark grey");
    }

    #[test]
    fn blank_keeps_only_the_background() {
        let s = Style {
            fg: Color::Ansi(3),
            bg: Color::Ansi(4),
            bold: true,
            underline: true,
            blink: false,
            inverse: true,
        };
        let b = Cell::blank(s);
        assert_eq!(b.ch, ' ');
        assert_eq!(b.style.bg, Color::Ansi(4));
        assert_eq!(b.style.fg, Color::Default);
        assert!(!b.style.bold && !b.style.underline && !b.style.inverse);
    }
}
