//! The document tree both CRS-file syntaxes (TOML and JSON) are read into: tables, arrays and
//! scalars, each with the line and column where it starts, so that every error can name the
//! file, line and field.

/// A position in the file: 1-based line and column (column in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Pos {
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1, in characters.
    pub column: u32,
}

/// A value with where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    /// Where the value starts.
    pub pos: Pos,
    /// The value.
    pub value: Value,
}

/// A table entry: key, where the key is, value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    /// The key as written (unescaped).
    pub key: String,
    /// Where the key is.
    pub pos: Pos,
    /// The value.
    pub node: Node,
}

/// A document value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// A table / JSON object, entries in file order (keys unique: a duplicate key is a syntax
    /// error in both formats).
    Table(Vec<Entry>),
    /// An array.
    Array(Vec<Node>),
    /// A string.
    String(String),
    /// A number (TOML integer or float, JSON number), as a 64-bit float.
    Number(f64),
    /// A boolean.
    Bool(bool),
    /// A value of a type CRS files never use (TOML date-time, JSON null): its type name.
    Other(&'static str),
}

/// A syntax error: where, and what (never quoting the text, which may hold confidential
/// parameter values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    /// Where the error is.
    pub pos: Pos,
    /// What is wrong, e.g. "expected ',' or '}'".
    pub message: String,
}

/// The 1-based line and column of byte offset `offset` in `text` (clamped to the text).
pub(crate) fn position(text: &str, offset: usize) -> Pos {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    Pos {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(column).unwrap_or(u32::MAX),
    }
}

/// Byte offsets → line and column in `O(log n)` each, for a parser whose positions come in any
/// order (the `toml` crate's spans): the start of every line, plus the number of characters
/// before every [`LineIndex::STRIDE`]-th byte, built in one pass over the text. A lookup is a
/// binary search plus a scan of at most `STRIDE` bytes, so a file's positions cost
/// `O(n log n)` overall, never the `O(n²)` of recounting from the start of the file (4,000
/// `[[crs]]` entries took 20 s that way).
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    /// Byte offset where each line starts (the first is 0).
    line_starts: Vec<usize>,
    /// Characters in `text[..k * STRIDE]`, for every `k`.
    chars_before: Vec<usize>,
    /// Bytes scanned by lookups so far (the structural proof of the bound, in tests).
    #[cfg(test)]
    pub(crate) scanned: std::cell::Cell<usize>,
}

impl<'a> LineIndex<'a> {
    /// Bytes between character-count checkpoints.
    pub(crate) const STRIDE: usize = 256;

    /// Indexes `text` (one linear pass).
    pub(crate) fn new(text: &'a str) -> Self {
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        let mut chars_before = Vec::with_capacity(bytes.len() / Self::STRIDE + 1);
        let mut chars = 0usize;
        for (i, &b) in bytes.iter().enumerate() {
            if i % Self::STRIDE == 0 {
                chars_before.push(chars);
            }
            if b == b'\n' {
                line_starts.push(i + 1);
            }
            if b & 0xC0 != 0x80 {
                chars += 1;
            }
        }
        if bytes.len().is_multiple_of(Self::STRIDE) {
            chars_before.push(chars); // the checkpoint of the end itself
        }
        Self {
            text,
            line_starts,
            chars_before,
            #[cfg(test)]
            scanned: std::cell::Cell::new(0),
        }
    }

    /// The indexed text.
    pub(crate) fn text(&self) -> &'a str {
        self.text
    }

    /// Characters in `text[..offset]` (`offset` a character boundary within the text).
    fn chars_to(&self, offset: usize) -> usize {
        let k = offset / Self::STRIDE;
        let from = k * Self::STRIDE;
        let base = self.chars_before[k];
        let tail = &self.text.as_bytes()[from..offset];
        #[cfg(test)]
        self.scanned.set(self.scanned.get() + tail.len());
        base + tail.iter().filter(|&&b| b & 0xC0 != 0x80).count()
    }

    /// The same result as [`position`], without rescanning the text.
    pub(crate) fn position(&self, offset: usize) -> Pos {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        // The last line start at or before `offset`.
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let line_start = self.line_starts[line - 1];
        let column = self.chars_to(offset) - self.chars_to(line_start) + 1;
        Pos {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn line_index_matches_position(
            text in "[a中\n\"]{0,700}",
            cuts in prop::collection::vec(0usize..2200, 0..16),
        ) {
            let index = LineIndex::new(&text);
            for &cut in &cuts {
                prop_assert_eq!(index.position(cut), position(&text, cut));
            }
            prop_assert_eq!(index.position(usize::MAX), position(&text, usize::MAX));
        }
    }
}
