//! Character sets a serial console meets: the DEC special graphics set (`ESC ( 0`, line
//! drawing on VT100s and Linux), the UK set (`ESC ( A`), and code page 437, the PC's own
//! character set that BIOS console redirection sends as raw bytes 0x80–0xFF.

/// A 94-character set designated into G0 or G1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Charset {
    /// US ASCII (`ESC ( B`).
    #[default]
    Ascii,
    /// DEC special graphics (`ESC ( 0`): lines, corners, a few symbols.
    DecGraphics,
    /// UK (`ESC ( A`): `#` is `£`.
    Uk,
}

impl Charset {
    /// The set named by the final byte of a designation (`ESC ( <final>`); unknown sets are ASCII.
    pub fn from_final(b: u8) -> Self {
        match b {
            b'0' => Charset::DecGraphics,
            b'A' => Charset::Uk,
            _ => Charset::Ascii,
        }
    }

    /// The character a printable ASCII byte (0x20–0x7E) stands for in this set.
    pub fn map(self, b: u8) -> char {
        match self {
            Charset::Ascii => char::from(b),
            Charset::Uk => {
                if b == b'#' {
                    '£'
                } else {
                    char::from(b)
                }
            }
            Charset::DecGraphics => dec_graphics(b),
        }
    }
}

/// DEC special graphics for 0x5F–0x7E; other bytes are themselves.
fn dec_graphics(b: u8) -> char {
    match b {
        b'_' => ' ',
        b'`' => '◆',
        b'a' => '▒',
        b'b' => '␉',
        b'c' => '␌',
        b'd' => '␍',
        b'e' => '␊',
        b'f' => '°',
        b'g' => '±',
        b'h' => '␤',
        b'i' => '␋',
        b'j' => '┘',
        b'k' => '┐',
        b'l' => '┌',
        b'm' => '└',
        b'n' => '┼',
        b'o' => '⎺',
        b'p' => '⎻',
        b'q' => '─',
        b'r' => '⎼',
        b's' => '⎽',
        b't' => '├',
        b'u' => '┤',
        b'v' => '┴',
        b'w' => '┬',
        b'x' => '│',
        b'y' => '≤',
        b'z' => '≥',
        b'{' => 'π',
        b'|' => '≠',
        b'}' => '£',
        b'~' => '·',
        _ => char::from(b),
    }
}

/// Code page 437, bytes 0x80–0xFF: accented letters, then shades and box drawing (0xB0–0xDF,
/// what BIOS setup screens draw their frames with), then Greek and mathematics.
const CP437_HIGH: [char; 128] = [
    'Ç', 'ü', 'é', 'â', 'ä', 'à', 'å', 'ç', 'ê', 'ë', 'è', 'ï', 'î', 'ì', 'Ä', 'Å', //
    'É', 'æ', 'Æ', 'ô', 'ö', 'ò', 'û', 'ù', 'ÿ', 'Ö', 'Ü', '¢', '£', '¥', '₧', 'ƒ', //
    'á', 'í', 'ó', 'ú', 'ñ', 'Ñ', 'ª', 'º', '¿', '⌐', '¬', '½', '¼', '¡', '«', '»', //
    '░', '▒', '▓', '│', '┤', '╡', '╢', '╖', '╕', '╣', '║', '╗', '╝', '╜', '╛', '┐', //
    '└', '┴', '┬', '├', '─', '┼', '╞', '╟', '╚', '╔', '╩', '╦', '╠', '═', '╬', '╧', //
    '╨', '╤', '╥', '╙', '╘', '╒', '╓', '╫', '╪', '┘', '┌', '█', '▄', '▌', '▐', '▀', //
    'α', 'ß', 'Γ', 'π', 'Σ', 'σ', 'µ', 'τ', 'Φ', 'Θ', 'Ω', 'δ', '∞', 'φ', 'ε', '∩', //
    '≡', '±', '≥', '≤', '⌠', '⌡', '÷', '≈', '°', '∙', '·', '√', 'ⁿ', '²', '■', '\u{a0}',
];

/// The character a byte 0x80–0xFF stands for in code page 437 (bytes below 0x80 are ASCII).
pub fn cp437(b: u8) -> char {
    if b < 0x80 {
        char::from(b)
    } else {
        CP437_HIGH[usize::from(b - 0x80)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dec_line_drawing() {
        let s: String = b"lqqkxmj".iter().map(|&b| Charset::DecGraphics.map(b)).collect();
        assert_eq!(s, "┌──┐│└┘");
        assert_eq!(Charset::DecGraphics.map(b'A'), 'A', "letters below 0x5F are unchanged");
        assert_eq!(Charset::from_final(b'0'), Charset::DecGraphics);
        assert_eq!(Charset::from_final(b'B'), Charset::Ascii);
        assert_eq!(
            Charset::from_final(b'Z'),
            Charset::Ascii,
            "unknown sets fall back to ASCII"
        );
        assert_eq!(Charset::Uk.map(b'#'), '£');
    }

    #[test]
    fn cp437_box_drawing() {
        assert_eq!(cp437(0xC9), '╔');
        assert_eq!(cp437(0xCD), '═');
        assert_eq!(cp437(0xBB), '╗');
        assert_eq!(cp437(0xBA), '║');
        assert_eq!(cp437(0xC8), '╚');
        assert_eq!(cp437(0xBC), '╝');
        assert_eq!(cp437(0xDA), '┌');
        assert_eq!(cp437(0xC4), '─');
        assert_eq!(cp437(0xBF), '┐');
        assert_eq!(cp437(0xB3), '│');
        assert_eq!(cp437(0xC0), '└');
        assert_eq!(cp437(0xD9), '┘');
        assert_eq!(cp437(0xB0), '░');
        assert_eq!(cp437(0xDB), '█');
        assert_eq!(cp437(0xDF), '▀');
        assert_eq!(cp437(0x80), 'Ç');
        assert_eq!(cp437(0xE1), 'ß');
        assert_eq!(cp437(b'A'), 'A');
    }
}
