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
