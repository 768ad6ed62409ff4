//! From cells to what the page draws: each row becomes runs of text sharing one style, each
//! run with the CSS classes of style/main.css (`f0`–`f15` foreground, `b0`–`b15` background,
//! `fbg`/`bfg` for inverted defaults, `bo` bold, `ul` underline, `bl` blink, `cur` cursor).

use super::cell::{Cell, Color, Style};

/// Text of one style, as one `<span>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// The characters (spaces included: the grid keeps its columns).
    pub text: String,
    /// Space-separated CSS classes; empty for the default style.
    pub class: String,
}

/// The CSS classes for a style, the cursor drawn on top when `cursor` is set.
pub fn style_class(style: Style, cursor: bool) -> String {
    // Bold brightens the eight normal colours, as VGA text mode and xterm do.
    let fg = match style.fg {
        Color::Ansi(n) if style.bold && n < 8 => Color::Ansi(n + 8),
        c => c,
    };
    let mut classes: Vec<String> = Vec::with_capacity(5);
    if style.inverse {
        classes.push(match style.bg {
            Color::Ansi(n) => format!("f{n}"),
            Color::Default => "fbg".to_string(),
        });
        classes.push(match fg {
            Color::Ansi(n) => format!("b{n}"),
            Color::Default => "bfg".to_string(),
        });
    } else {
        if let Color::Ansi(n) = fg {
            classes.push(format!("f{n}"));
        }
        if let Color::Ansi(n) = style.bg {
            classes.push(format!("b{n}"));
        }
    }
    if style.bold {
        classes.push("bo".into());
    }
    if style.underline {
        classes.push("ul".into());
    }
    if style.blink {
        classes.push("bl".into());
    }
    if cursor {
        classes.push("cur".into());
    }
    classes.join(" ")
}

/// A row as runs of equal style; the cell at `cursor` (a column) gets a run of its own.
pub fn row_runs(cells: &[Cell], cursor: Option<usize>) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    let mut current: Option<(Style, bool)> = None;
    for (i, cell) in cells.iter().enumerate() {
        let is_cursor = cursor == Some(i);
        let key = (cell.style, is_cursor);
        match (current, runs.last_mut()) {
            (Some(k), Some(run)) if k == key => run.text.push(cell.ch),
            _ => {
                runs.push(Run {
                    text: cell.ch.to_string(),
                    class: style_class(cell.style, is_cursor),
                });
                current = Some(key);
            }
        }
        // The cursor cell always stands alone.
        if is_cursor {
            current = None;
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(ch: char, style: Style) -> Cell {
        Cell { ch, style }
    }

    #[test]
    fn equal_styles_merge_and_the_cursor_stands_alone() {
        let red = Style {
            fg: Color::Ansi(1),
            ..Style::default()
        };
        let cells = [
            cell('a', Style::default()),
            cell('b', Style::default()),
            cell('c', red),
            cell('d', red),
            cell('e', red),
            cell(' ', Style::default()),
        ];
        let runs = row_runs(&cells, Some(3));
        let got: Vec<(&str, &str)> = runs.iter().map(|r| (r.text.as_str(), r.class.as_str())).collect();
        assert_eq!(
            got,
            vec![("ab", ""), ("c", "f1"), ("d", "f1 cur"), ("e", "f1"), (" ", "")]
        );
        let joined: String = runs.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(joined, "abcde ");
    }

    #[test]
    fn classes_for_bold_inverse_and_defaults() {
        let s = Style {
            fg: Color::Ansi(7),
            bg: Color::Ansi(4),
            bold: true,
            ..Style::default()
        };
        assert_eq!(style_class(s, false), "f15 b4 bo", "bold brightens light grey to white");
        let inv = Style {
            inverse: true,
            ..Style::default()
        };
        assert_eq!(style_class(inv, false), "fbg bfg");
        let inv_col = Style {
            fg: Color::Ansi(14),
            bg: Color::Ansi(1),
            inverse: true,
            underline: true,
            blink: true,
            ..Style::default()
        };
        assert_eq!(style_class(inv_col, true), "f1 b14 ul bl cur");
        assert_eq!(style_class(Style::default(), false), "");
    }
}
