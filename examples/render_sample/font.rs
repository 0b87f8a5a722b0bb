//! A small bitmap font for the picture's text: every printable ASCII character (U+0020 to
//! U+007E) as a 5 × 9 grid of pixels (capitals and digits 7 high, 2 rows below the baseline for
//! descenders), drawn as filled squares of `scale` × `scale` pixels through plotters' drawing
//! area. Drawn for this example (no font files, no system libraries: plotters' own text needs
//! fontconfig and FreeType, or a TrueType font to embed).

use plotters::coord::Shift;
use plotters::prelude::*;

/// A glyph's width and height, and the height of capitals and digits (the rest is for
/// descenders), font pixels.
pub const GLYPH_WIDTH: i32 = 5;
pub const GLYPH_HEIGHT: i32 = 9;
pub const CAPITAL_HEIGHT: i32 = 7;
/// The distance from one character to the next (one empty column between glyphs) and from one
/// line to the next, font pixels.
pub const ADVANCE: i32 = GLYPH_WIDTH + 1;
pub const LINE_HEIGHT: i32 = GLYPH_HEIGHT + 2;

/// The first character of the sheet; the others follow in code point order.
const FIRST: char = ' ';
/// How many characters the sheet holds: U+0020 to U+007E.
const COUNT: usize = 95;

/// The glyphs, twelve to a block: a line naming the block's characters (each above its glyph),
/// then the glyphs' nine rows, `#` a pixel drawn, `.` one left blank. Every line starts with `|`
/// so that the leading spaces stay visible.
const SHEET: &str = r##"
|      !     "     #     $     %     &     '     (     )     *     +
|..... ..#.. .#.#. .#.#. ..#.. ##... .##.. ..#.. ...#. .#... ..... .....
|..... ..#.. .#.#. .#.#. .#### ##..# #..#. ..#.. ..#.. ..#.. ..#.. ..#..
|..... ..#.. .#.#. ##### #.#.. ...#. #.#.. ..#.. .#... ...#. #.#.# ..#..
|..... ..#.. ..... .#.#. .###. ..#.. .#... ..... .#... ...#. .###. #####
|..... ..#.. ..... ##### ..#.# .#... #.#.# ..... .#... ...#. #.#.# ..#..
|..... ..... ..... .#.#. ####. #..## #..#. ..... ..#.. ..#.. ..#.. ..#..
|..... ..#.. ..... .#.#. ..#.. ...## .##.# ..... ...#. .#... ..... .....
|..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....
|..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....
|,     -     .     /     0     1     2     3     4     5     6     7
|..... ..... ..... ..... .###. ..#.. .###. ##### ...#. ##### ..##. #####
|..... ..... ..... ....# #...# .##.. #...# ...#. ..##. #.... .#... ....#
|..... ..... ..... ...#. #..## ..#.. ....# ..#.. .#.#. ####. #.... ...#.
|..... ##### ..... ..#.. #.#.# ..#.. ...#. ...#. #..#. ....# ####. ..#..
|..... ..... ..... .#... ##..# ..#.. ..#.. ....# ##### ....# #...# .#...
|.##.. ..... .##.. #.... #...# ..#.. .#... #...# ...#. #...# #...# .#...
|.##.. ..... .##.. ..... .###. .###. ##### .###. ...#. .###. .###. .#...
|..#.. ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....
|.#... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....
|8     9     :     ;     <     =     >     ?     @     A     B     C
|.###. .###. ..... ..... ...#. ..... .#... .###. .###. .###. ####. .###.
|#...# #...# .##.. .##.. ..#.. ..... ..#.. #...# #...# #...# #...# #...#
|#...# #...# .##.. .##.. .#... ##### ...#. ....# #.### #...# #...# #....
|.###. .#### ..... ..... #.... ..... ....# ...#. #.#.# ##### ####. #....
|#...# ....# .##.. .##.. .#... ##### ...#. ..#.. #.### #...# #...# #....
|#...# ...#. .##.. .##.. ..#.. ..... ..#.. ..... #.... #...# #...# #...#
|.###. .##.. ..... ..#.. ...#. ..... .#... ..#.. .###. #...# ####. .###.
|..... ..... ..... .#... ..... ..... ..... ..... ..... ..... ..... .....
|..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....
|D     E     F     G     H     I     J     K     L     M     N     O
|###.. ##### ##### .###. #...# .###. ..### #...# #.... #...# #...# .###.
|#..#. #.... #.... #...# #...# ..#.. ...#. #..#. #.... ##.## #...# #...#
|#...# #.... #.... #.... #...# ..#.. ...#. #.#.. #.... #.#.# ##..# #...#
|#...# ####. ####. #.### ##### ..#.. ...#. ##... #.... #.#.# #.#.# #...#
|#...# #.... #.... #...# #...# ..#.. ...#. #.#.. #.... #...# #..## #...#
|#..#. #.... #.... #...# #...# ..#.. #..#. #..#. #.... #...# #...# #...#
|###.. ##### #.... .#### #...# .###. .##.. #...# ##### #...# #...# .###.
|..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....
|..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....
|P     Q     R     S     T     U     V     W     X     Y     Z     [
|####. .###. ####. .#### ##### #...# #...# #...# #...# #...# ##### .###.
|#...# #...# #...# #.... ..#.. #...# #...# #...# #...# #...# ....# .#...
|#...# #...# #...# #.... ..#.. #...# #...# #...# .#.#. .#.#. ...#. .#...
|####. #...# ####. .###. ..#.. #...# #...# #.#.# ..#.. ..#.. ..#.. .#...
|#.... #.#.# #.#.. ....# ..#.. #...# #...# #.#.# .#.#. ..#.. .#... .#...
|#.... #..#. #..#. ....# ..#.. #...# .#.#. #.#.# #...# ..#.. #.... .#...
|#.... .##.# #...# ####. ..#.. .###. ..#.. .#.#. #...# ..#.. ##### .###.
|..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....
|..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....
|\     ]     ^     _     `     a     b     c     d     e     f     g
|..... .###. ..#.. ..... .#... ..... #.... ..... ....# ..... ..##. .....
|#.... ...#. .#.#. ..... ..#.. ..... #.... ..... ....# ..... .#..# .....
|.#... ...#. #...# ..... ..... .###. ####. .###. .#### .###. .#... .####
|..#.. ...#. ..... ..... ..... ....# #...# #.... #...# #...# ###.. #...#
|...#. ...#. ..... ..... ..... .#### #...# #.... #...# ##### .#... #...#
|....# ...#. ..... ..... ..... #...# #...# #...# #...# #.... .#... #...#
|..... .###. ..... ..... ..... .#### ####. .###. .#### .###. .#... .####
|..... ..... ..... ##### ..... ..... ..... ..... ..... ..... ..... ....#
|..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .###.
|h     i     j     k     l     m     n     o     p     q     r     s
|#.... ..#.. ...#. #.... .##.. ..... ..... ..... ..... ..... ..... .....
|#.... ..... ..... #.... ..#.. ..... ..... ..... ..... ..... ..... .....
|#.##. .##.. ..##. #..#. ..#.. ##.#. #.##. .###. ####. .#### #.##. .####
|##..# ..#.. ...#. #.#.. ..#.. #.#.# ##..# #...# #...# #...# ##..# #....
|#...# ..#.. ...#. ##... ..#.. #.#.# #...# #...# #...# #...# #.... .###.
|#...# ..#.. ...#. #.#.. ..#.. #.#.# #...# #...# #...# #...# #.... ....#
|#...# .###. ...#. #..#. .###. #.#.# #...# .###. ####. .#### #.... ####.
|..... ..... #..#. ..... ..... ..... ..... ..... #.... ....# ..... .....
|..... ..... .##.. ..... ..... ..... ..... ..... #.... ....# ..... .....
|t     u     v     w     x     y     z     {     |     }     ~
|.#... ..... ..... ..... ..... ..... ..... ...#. ..#.. .#... .....
|.#... ..... ..... ..... ..... ..... ..... ..#.. ..#.. ..#.. .....
|###.. #...# #...# #...# #...# #...# ##### ..#.. ..#.. ..#.. .#...
|.#... #...# #...# #...# .#.#. #...# ...#. .#... ..#.. ...#. #.#.#
|.#... #...# #...# #.#.# ..#.. #...# ..#.. ..#.. ..#.. ..#.. ...#.
|.#..# #..## .#.#. #.#.# .#.#. #...# .#... ..#.. ..#.. ..#.. .....
|..##. .##.# ..#.. .#.#. #...# .#### ##### ...#. ..#.. .#... .....
|..... ..... ..... ..... ..... ....# ..... ..... ..#.. ..... .....
|..... ..... ..... ..... ..... .###. ..... ..... ..#.. ..... .....
"##;

/// The parsed sheet: one entry per character, nine rows each, bit 4 the leftmost column.
pub struct Font {
    glyphs: Vec<[u8; GLYPH_HEIGHT as usize]>,
}

impl Font {
    /// Parses [`SHEET`], checking each block's names against the expected characters.
    pub fn new() -> Result<Font, String> {
        let lines: Vec<&str> = SHEET
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| l.strip_prefix('|').ok_or_else(|| format!("sheet line {l:?} has no '|'")))
            .collect::<Result<_, _>>()?;
        let mut glyphs = Vec::with_capacity(COUNT);
        let mut expected = (FIRST..).take(COUNT);
        for block in lines.chunks(1 + GLYPH_HEIGHT as usize) {
            let (names, rows) = block.split_first().ok_or("empty block")?;
            if rows.len() != GLYPH_HEIGHT as usize {
                return Err(format!("block {names:?}: {} rows, not {GLYPH_HEIGHT}", rows.len()));
            }
            let cells = names.chars().step_by(ADVANCE as usize);
            for (column, name) in cells.enumerate() {
                let want = expected.next().ok_or("more glyphs than characters")?;
                if name != want {
                    return Err(format!("glyph {} is named {name:?}, not {want:?}", glyphs.len()));
                }
                let mut glyph = [0u8; GLYPH_HEIGHT as usize];
                for (bits, row) in glyph.iter_mut().zip(rows) {
                    let start = column * ADVANCE as usize;
                    let cell = row
                        .get(start..start + GLYPH_WIDTH as usize)
                        .ok_or_else(|| format!("{want:?}: short row {row:?}"))?;
                    for pixel in cell.chars() {
                        *bits = (*bits << 1)
                            | match pixel {
                                '#' => 1,
                                '.' => 0,
                                other => return Err(format!("{want:?}: pixel {other:?}")),
                            };
                    }
                }
                glyphs.push(glyph);
            }
        }
        match expected.next() {
            None => Ok(Font { glyphs }),
            Some(c) => Err(format!("no glyph for {c:?} and after")),
        }
    }

    /// The glyph of `c`, if the font has one.
    pub fn glyph(&self, c: char) -> Option<&[u8; GLYPH_HEIGHT as usize]> {
        let index = u32::from(c).checked_sub(u32::from(FIRST))?;
        self.glyphs.get(usize::try_from(index).ok()?)
    }

    /// The width of `text` drawn at `scale`, pixels (no space after the last character).
    pub fn width(text: &str, scale: i32) -> i32 {
        let n = text.chars().count() as i32;
        (n * ADVANCE - 1).max(0) * scale
    }

    /// Draws `text` with its top left corner at `(x, y)`, each font pixel a `scale` × `scale`
    /// square. A character the font lacks is an error.
    pub fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        text: &str,
        (x, y): (i32, i32),
        scale: i32,
        color: &RGBColor,
    ) -> Result<(), Box<dyn std::error::Error>>
    where
        DB::ErrorType: 'static,
    {
        for (i, c) in (0..).zip(text.chars()) {
            let glyph = self.glyph(c).ok_or_else(|| format!("no glyph for {c:?} in {text:?}"))?;
            let left = x + i * ADVANCE * scale;
            for (row, bits) in (0..).zip(glyph) {
                for column in 0..GLYPH_WIDTH {
                    if bits >> (GLYPH_WIDTH - 1 - column) & 1 == 1 {
                        let (px, py) = (left + column * scale, y + row * scale);
                        for dy in 0..scale {
                            for dx in 0..scale {
                                area.draw_pixel((px + dx, py + dy), color)?;
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
