//! A strict JSON (RFC 8259) reader into the position-carrying [`tree`](super::tree), so that a
//! CRS file written in JSON gets the same line-and-field errors as one written in TOML.
//!
//! serde_json reports positions for syntax errors only, not for the values it reads; this reader
//! records where every key and value starts. It accepts exactly the RFC 8259 grammar: no
//! comments, trailing commas, single quotes, `NaN`/`Infinity`, hexadecimal or leading `+`.
//! Duplicate keys in one object are refused. Error messages say what was expected and never quote
//! the document (parameter values may be confidential); only a duplicate key is named.
//!
//! Robustness: any `&str` gives `Ok` or `Err` in time linear in its length (duplicate keys are
//! found with a hash set); nesting deeper than [`MAX_DEPTH`] is an error, not a stack overflow.

use std::collections::HashSet;

use super::tree::{position, Entry, Node, Pos, SyntaxError, Value};

/// The deepest nesting of objects and arrays accepted (a CRS file needs about 4).
pub(crate) const MAX_DEPTH: usize = 128;

/// Reads `text` as one JSON value.
///
/// A UTF-8 byte-order mark at the start is skipped, and positions are counted after it (as
/// editors show them): line and column from 1, the column in characters. Every [`Node`] carries
/// the position of the first character of its value (`{`, `[`, the opening `"`, the sign or first
/// digit, the `t`/`f`/`n` of a literal); every [`Entry`] the position of its key's opening `"`.
/// Objects keep their entries in file order. Numbers are converted correctly rounded to `f64`;
/// `null` becomes `Value::Other("null")`.
///
/// # Errors
/// A [`SyntaxError`] at the offending character (at the end of the text for a truncated
/// document; at the opening quote for an unterminated string; at the start of a number that
/// overflows `f64`).
pub(crate) fn parse(text: &str) -> Result<Node, SyntaxError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        i: 0,
        depth: 0,
        cached: (0, Pos { line: 1, column: 1 }),
    };
    let node = parser.value()?;
    parser.skip_whitespace();
    if parser.i < parser.bytes.len() {
        return Err(parser.error_at(parser.i, "trailing characters after the document"));
    }
    Ok(node)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    /// Byte offset of the next unread byte (always on a character boundary between tokens).
    i: usize,
    /// Objects and arrays currently open.
    depth: usize,
    /// A byte offset already converted to a position: positions are asked for in increasing
    /// order, so each is found by scanning on from the previous one (linear overall).
    cached: (usize, Pos),
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.i).copied()
    }

    /// The position of byte offset `offset` (a character boundary), same result as
    /// [`position`].
    fn pos_at(&mut self, offset: usize) -> Pos {
        let offset = offset.min(self.bytes.len());
        let (from, mut pos) = self.cached;
        if offset < from {
            return position(self.text, offset);
        }
        for &b in &self.bytes[from..offset] {
            if b == b'\n' {
                pos.line = pos.line.saturating_add(1);
                pos.column = 1;
            } else if b & 0xC0 != 0x80 {
                // Not a UTF-8 continuation byte: a new character.
                pos.column = pos.column.saturating_add(1);
            }
        }
        self.cached = (offset, pos);
        pos
    }

    fn error_at(&mut self, offset: usize, message: &str) -> SyntaxError {
        SyntaxError { pos: self.pos_at(offset), message: message.to_string() }
    }

    /// "expected {what}" at the current byte, or "unexpected end of input, expected {what}" if
    /// there is none.
    fn expected(&mut self, what: &str) -> SyntaxError {
        let message = if self.i >= self.bytes.len() {
            format!("unexpected end of input, expected {what}")
        } else {
            format!("expected {what}")
        };
        self.error_at(self.i, &message)
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn value(&mut self) -> Result<Node, SyntaxError> {
        self.skip_whitespace();
        let start = self.i;
        // The position before the children's: positions are found scanning forward.
        let pos = self.pos_at(start);
        let value = match self.peek() {
            Some(b'{') => self.object()?,
            Some(b'[') => self.array()?,
            Some(b'"') => Value::String(self.string()?),
            Some(b'-' | b'0'..=b'9') => Value::Number(self.number()?),
            Some(b't') => self.literal("true", Value::Bool(true))?,
            Some(b'f') => self.literal("false", Value::Bool(false))?,
            Some(b'n') => self.literal("null", Value::Other("null"))?,
            Some(b'\'') => return Err(self.expected("a value (JSON strings use double quotes)")),
            Some(b'/') => return Err(self.expected("a value (comments are not allowed in JSON)")),
            _ => return Err(self.expected("a value")),
        };
        Ok(Node { pos, value })
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, SyntaxError> {
        if self.bytes[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(value)
        } else if word.as_bytes().starts_with(&self.bytes[self.i..]) {
            Err(self.error_at(
                self.bytes.len(),
                "unexpected end of input, expected true, false or null",
            ))
        } else {
            Err(self.expected("a value (true, false, null, a number, a string, '{' or '[')"))
        }
    }

    /// Opens an object or array at the current byte.
    fn enter(&mut self) -> Result<(), SyntaxError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error_at(
                self.i,
                &format!("objects and arrays nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        self.depth += 1;
        self.i += 1;
        Ok(())
    }

    fn object(&mut self) -> Result<Value, SyntaxError> {
        self.enter()?;
        let mut entries: Vec<Entry> = Vec::new();
        let mut keys: HashSet<String> = HashSet::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.i += 1;
            self.depth -= 1;
            return Ok(Value::Table(entries));
        }
        loop {
            self.skip_whitespace();
            let key_start = self.i;
            match self.peek() {
                Some(b'"') => {}
                Some(b'}') if !entries.is_empty() => {
                    return Err(self.error_at(self.i, "trailing comma before '}'"));
                }
                Some(b'\'') => {
                    return Err(self.expected("a key in double quotes (single quotes are not JSON)"))
                }
                Some(b'/') => {
                    return Err(self.expected("a key (comments are not allowed in JSON)"));
                }
                _ => return Err(self.expected("a key in double quotes")),
            }
            let key_pos = self.pos_at(key_start);
            let key = self.string()?;
            if !keys.insert(key.clone()) {
                return Err(
                    self.error_at(key_start, &format!("duplicate key '{}'", key.escape_debug()))
                );
            }
            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return Err(self.expected("':' after key"));
            }
            self.i += 1;
            let node = self.value()?;
            entries.push(Entry { key, pos: key_pos, node });
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    self.depth -= 1;
                    return Ok(Value::Table(entries));
                }
                _ => return Err(self.expected("',' or '}' after an object entry")),
            }
        }
    }

    fn array(&mut self) -> Result<Value, SyntaxError> {
        self.enter()?;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.i += 1;
            self.depth -= 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_whitespace();
            if self.peek() == Some(b']') && !items.is_empty() {
                return Err(self.error_at(self.i, "trailing comma before ']'"));
            }
            items.push(self.value()?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    self.depth -= 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.expected("',' or ']' after an array element")),
            }
        }
    }

    /// Reads a string whose opening quote is the current byte; returns it unescaped.
    fn string(&mut self) -> Result<String, SyntaxError> {
        let open = self.i;
        self.i += 1;
        let mut out = String::new();
        loop {
            let run = self.i;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.i += 1;
            }
            // The run stops only at an ASCII byte or the end: both are character boundaries.
            out.push_str(&self.text[run..self.i]);
            match self.peek() {
                None => return Err(self.error_at(open, "unterminated string")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => out.push(self.escape(open)?),
                Some(_) => {
                    return Err(self.error_at(
                        self.i,
                        "control character in string (must be written as an escape)",
                    ))
                }
            }
        }
    }

    /// Reads the escape whose backslash is the current byte (in the string opened at `open`).
    fn escape(&mut self, open: usize) -> Result<char, SyntaxError> {
        let backslash = self.i;
        let c = match self.bytes.get(backslash + 1) {
            None => return Err(self.error_at(open, "unterminated string")),
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let unit = self.hex4(open, backslash + 2)?;
                let code = match unit {
                    0xD800..=0xDBFF => {
                        // A high surrogate: must be followed by an escaped low surrogate.
                        let next = backslash + 6;
                        let low = if self.bytes.get(next..next + 2) == Some(&b"\\u"[..]) {
                            self.hex4(open, next + 2)?
                        } else {
                            0
                        };
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(self.error_at(
                                backslash,
                                "invalid escape: high surrogate not followed by a low surrogate",
                            ));
                        }
                        self.i = next + 6;
                        0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    }
                    0xDC00..=0xDFFF => {
                        return Err(self.error_at(
                            backslash,
                            "invalid escape: low surrogate without a high surrogate",
                        ));
                    }
                    _ => {
                        self.i = backslash + 6;
                        unit
                    }
                };
                return char::from_u32(code)
                    .ok_or_else(|| self.error_at(backslash, "invalid escape"));
            }
            Some(_) => {
                return Err(self.error_at(
                    backslash,
                    "invalid escape (expected \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX)",
                ))
            }
        };
        self.i = backslash + 2;
        Ok(c)
    }

    /// The four hex digits at byte `at` (of a `\u` escape whose backslash is at `at - 2`, in the
    /// string opened at `open`).
    fn hex4(&mut self, open: usize, at: usize) -> Result<u32, SyntaxError> {
        let mut unit = 0;
        for k in 0..4 {
            let digit = match self.bytes.get(at + k) {
                Some(&b) => (b as char).to_digit(16),
                None => None,
            };
            match digit {
                Some(d) => unit = unit * 16 + d,
                None if at + k >= self.bytes.len() => {
                    return Err(self.error_at(open, "unterminated string"));
                }
                None => {
                    return Err(self.error_at(
                        at - 2,
                        "invalid escape: \\u must be followed by four hex digits",
                    ))
                }
            }
        }
        Ok(unit)
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        self.i - start
    }

    /// Reads a number starting at the current byte (`-` or a digit).
    fn number(&mut self) -> Result<f64, SyntaxError> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.i += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.error_at(self.i, "leading zeros are not allowed in numbers"));
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.expected("a digit after '-'")),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(self.expected("a digit after '.'"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(self.expected("a digit in the exponent"));
            }
        }
        // The lexeme matches the JSON grammar, a subset of what `f64::from_str` accepts, which
        // rounds correctly for any number of digits.
        match self.text[start..self.i].parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(x),
            Ok(_) => Err(self.error_at(start, "number out of range")),
            Err(_) => Err(self.error_at(start, "invalid number")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(line: u32, column: u32) -> Pos {
        Pos { line, column }
    }

    fn err(text: &str) -> SyntaxError {
        match parse(text) {
            Err(e) => e,
            Ok(node) => panic!("{text:?} parsed as {node:?}"),
        }
    }

    /// The error's message contains `part`, and its position is (line, column).
    #[track_caller]
    fn assert_err(text: &str, part: &str, line: u32, column: u32) {
        let e = err(text);
        assert!(e.message.contains(part), "{text:?}: message {:?} lacks {part:?}", e.message);
        assert_eq!(e.pos, p(line, column), "{text:?}: {}", e.message);
    }

    fn value(text: &str) -> Value {
        match parse(text) {
            Ok(node) => node.value,
            Err(e) => panic!("{text:?}: {e:?}"),
        }
    }

    fn number(text: &str) -> f64 {
        match value(text) {
            Value::Number(x) => x,
            v => panic!("{text:?} gave {v:?}"),
        }
    }

    fn string(text: &str) -> String {
        match value(text) {
            Value::String(s) => s,
            v => panic!("{text:?} gave {v:?}"),
        }
    }

    /// The same tree with every position zeroed, to compare structure only.
    fn strip(node: &Node) -> Node {
        let value = match &node.value {
            Value::Table(entries) => Value::Table(
                entries
                    .iter()
                    .map(|e| Entry {
                        key: e.key.clone(),
                        pos: Pos::default(),
                        node: strip(&e.node),
                    })
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(strip).collect()),
            v => v.clone(),
        };
        Node { pos: Pos::default(), value }
    }

    fn n(value: Value) -> Node {
        Node { pos: Pos::default(), value }
    }

    fn e(key: &str, value: Value) -> Entry {
        Entry { key: key.to_string(), pos: Pos::default(), node: n(value) }
    }

    fn s(text: &str) -> Value {
        Value::String(text.to_string())
    }

    const EXAMPLE: &str = r#"{
  "datum": [
    { "id": "bj54-city", "ellipsoid": "krassovsky",
      "to_cgcs2000": { "method": "helmert7", "convention": "coordinate_frame",
                       "tx": -12.7, "ty": 131.2, "tz": 47.6, "rx": 0.41, "ry": -0.16, "rz": 1.05, "s": -2.7 } }
  ],
  "crs": [
    { "id": "city:bj54-gk117", "name": "City Beijing 1954 / Gauss-Kruger CM 117E", "datum": "bj54-city",
      "projection": { "method": "gauss-kruger", "lon0": 117.0, "k0": 1.0, "x0": 500000.0, "y0": 0.0 } }
  ]
}
"#;

    #[test]
    fn example_crs_document() {
        let doc = parse(EXAMPLE).unwrap();
        let num = Value::Number;
        let expected = n(Value::Table(vec![
            e(
                "datum",
                Value::Array(vec![n(Value::Table(vec![
                    e("id", s("bj54-city")),
                    e("ellipsoid", s("krassovsky")),
                    e(
                        "to_cgcs2000",
                        Value::Table(vec![
                            e("method", s("helmert7")),
                            e("convention", s("coordinate_frame")),
                            e("tx", num(-12.7)),
                            e("ty", num(131.2)),
                            e("tz", num(47.6)),
                            e("rx", num(0.41)),
                            e("ry", num(-0.16)),
                            e("rz", num(1.05)),
                            e("s", num(-2.7)),
                        ]),
                    ),
                ]))]),
            ),
            e(
                "crs",
                Value::Array(vec![n(Value::Table(vec![
                    e("id", s("city:bj54-gk117")),
                    e("name", s("City Beijing 1954 / Gauss-Kruger CM 117E")),
                    e("datum", s("bj54-city")),
                    e(
                        "projection",
                        Value::Table(vec![
                            e("method", s("gauss-kruger")),
                            e("lon0", num(117.0)),
                            e("k0", num(1.0)),
                            e("x0", num(500000.0)),
                            e("y0", num(0.0)),
                        ]),
                    ),
                ]))]),
            ),
        ]));
        assert_eq!(strip(&doc), expected);

        // Positions, counted by hand in EXAMPLE.
        assert_eq!(doc.pos, p(1, 1));
        let Value::Table(top) = &doc.value else { panic!() };
        assert_eq!((top[0].pos, top[0].node.pos), (p(2, 3), p(2, 12)));
        assert_eq!((top[1].pos, top[1].node.pos), (p(7, 3), p(7, 10)));
        let Value::Array(datums) = &top[0].node.value else { panic!() };
        assert_eq!(datums[0].pos, p(3, 5));
        let Value::Table(datum) = &datums[0].value else { panic!() };
        assert_eq!((datum[1].pos, datum[1].node.pos), (p(3, 26), p(3, 39)));
        let Value::Table(helmert) = &datum[2].node.value else { panic!() };
        assert_eq!(datum[2].node.pos, p(4, 22));
        // "tx": -12.7 on line 5.
        assert_eq!(helmert[2].key, "tx");
        assert_eq!((helmert[2].pos, helmert[2].node.pos), (p(5, 24), p(5, 30)));
        // "s": -2.7, the last entry.
        assert_eq!(helmert[8].key, "s");
        assert_eq!((helmert[8].pos, helmert[8].node.pos), (p(5, 99), p(5, 104)));
    }

    #[test]
    fn positions_count_characters_not_bytes() {
        // Chinese characters are 3 bytes in UTF-8 but one column each.
        let doc = parse("{\"名称\": \"北京\", \"k\":\n\t[true, null]}").unwrap();
        let Value::Table(entries) = &doc.value else { panic!() };
        assert_eq!(entries[0].key, "名称");
        assert_eq!((entries[0].pos, entries[0].node.pos), (p(1, 2), p(1, 8)));
        assert_eq!((entries[1].pos, entries[1].node.pos), (p(1, 14), p(2, 2)));
        let Value::Array(items) = &entries[1].node.value else { panic!() };
        assert_eq!(items[0], Node { pos: p(2, 3), value: Value::Bool(true) });
        assert_eq!(items[1], Node { pos: p(2, 9), value: Value::Other("null") });
        // Error positions too: the '}' missing after '北京' is reported at the '!'.
        assert_err("{\"名称\": \"北京\" !", "expected ',' or '}'", 1, 13);
    }

    #[test]
    fn bom_is_skipped_and_not_counted() {
        let doc = parse("\u{feff}{\"a\": 1}").unwrap();
        assert_eq!(doc.pos, p(1, 1));
        assert_eq!(strip(&doc), n(Value::Table(vec![e("a", Value::Number(1.0))])));
        // Only at the start.
        assert_err("{\"a\": \u{feff}1}", "expected a value", 1, 7);
    }

    #[test]
    fn scalars() {
        assert_eq!(value("true"), Value::Bool(true));
        assert_eq!(value(" false "), Value::Bool(false));
        assert_eq!(value("\r\n\tnull"), Value::Other("null"));
        assert_eq!(value("[]"), Value::Array(vec![]));
        assert_eq!(value("{}"), Value::Table(vec![]));
        assert_eq!(value("\"\""), s(""));
    }

    #[test]
    fn numbers_are_correctly_rounded() {
        // Expected values are Rust f64 literals, themselves correctly rounded by the compiler.
        assert_eq!(number("0.1"), 0.1);
        assert_eq!(number("1e-7"), 1e-7);
        assert_eq!(number("1E-7"), 1e-7);
        assert_eq!(number("1e+2"), 100.0);
        assert_eq!(number("-12.7"), -12.7);
        assert_eq!(number("500000.0"), 500_000.0);
        assert_eq!(number("0"), 0.0);
        let zero = number("-0");
        assert!(zero == 0.0 && zero.is_sign_negative());
        // 20 digits, more than a double holds: the nearest double, 12345678901234567168 (bits
        // checked with Python's float(), itself correctly rounded).
        assert_eq!(number("12345678901234567890"), 12_345_678_901_234_567_890.0);
        assert_eq!(number("12345678901234567890").to_bits(), 0x43E5_6A95_319D_63E1);
        // The smallest normal f64, and the largest finite one.
        assert_eq!(number("2.2250738585072014e-308"), f64::MIN_POSITIVE);
        assert_eq!(number("1.7976931348623157e308"), f64::MAX);
        // A subnormal and an underflow to zero are fine (not out of range).
        assert_eq!(number("5e-324"), 5e-324);
        assert_eq!(number("1e-400"), 0.0);
        // 2^53 + 1 lies exactly halfway between two doubles: ties to even, 2^53.
        assert_eq!(number("9007199254740993"), 9_007_199_254_740_992.0, "2^53 + 1 ties to even");
    }

    #[test]
    fn number_grammar_is_strict() {
        assert_err("1e400", "number out of range", 1, 1);
        assert_err("[-1.8e308]", "number out of range", 1, 2);
        assert_err("01", "leading zeros", 1, 2);
        assert_err("-01", "leading zeros", 1, 3);
        assert_err("-", "unexpected end of input", 1, 2);
        assert_err("-a", "expected a digit after '-'", 1, 2);
        assert_err("1.", "expected a digit after '.'", 1, 3);
        assert_err("1.e5", "expected a digit after '.'", 1, 3);
        assert_err(".5", "expected a value", 1, 1);
        assert_err("1e", "expected a digit in the exponent", 1, 3);
        assert_err("1e+", "expected a digit in the exponent", 1, 4);
        assert_err("+1", "expected a value", 1, 1);
        assert_err("NaN", "expected a value", 1, 1);
        assert_err("Infinity", "expected a value", 1, 1);
        assert_err("-Infinity", "expected a digit after '-'", 1, 2);
        assert_err("0x10", "trailing characters", 1, 2);
        assert_err("1 2", "trailing characters", 1, 3);
    }

    #[test]
    fn string_escapes() {
        assert_eq!(string(r#""a\"b\\c\/d\be\ff\ng\rh\ti""#), "a\"b\\c/d\u{8}e\u{c}f\ng\rh\ti");
        assert_eq!(string(r#""\u0041\u00e9\u4E2D""#), "Aé中");
        // A surrogate pair: U+1F600.
        assert_eq!(string(r#""\uD83D\uDE00""#), "\u{1F600}");
        assert_eq!(string(r#""\ud83d\ude00x""#), "\u{1F600}x");
        // UTF-8 passes through.
        assert_eq!(string("\"北京 1954 / 高斯-克吕格\""), "北京 1954 / 高斯-克吕格");
        assert_eq!(string("\"\u{1F600}\u{7f}\""), "\u{1F600}\u{7f}");
    }

    #[test]
    fn string_errors() {
        assert_err(r#"["\x"]"#, "invalid escape", 1, 3);
        assert_err(r#"["ab\u12G4"]"#, "invalid escape", 1, 5);
        assert_err(r#""\uD83D""#, "invalid escape: high surrogate", 1, 2);
        assert_err(r#""\uD83Dx""#, "invalid escape: high surrogate", 1, 2);
        assert_err(r#""\uD83D\u0041""#, "invalid escape: high surrogate", 1, 2);
        assert_err(r#""\uD83D\uD83D""#, "invalid escape: high surrogate", 1, 2);
        assert_err(r#""a\uDE00""#, "invalid escape: low surrogate", 1, 3);
        assert_err("\"a\nb\"", "control character", 1, 3);
        assert_err("\"a\tb\"", "control character", 1, 3);
        assert_err("\"a\u{0}\"", "control character", 1, 3);
        assert_err("[1, \"abc", "unterminated string", 1, 5);
        assert_err("[1, \"abc\\", "unterminated string", 1, 5);
        assert_err("[1, \"abc\\u12", "unterminated string", 1, 5);
        assert_err("[1, \"abc\\uD83D\\u12", "unterminated string", 1, 5);
        assert_err("['a']", "double quotes", 1, 2);
    }

    #[test]
    fn structure_errors() {
        assert_err("", "unexpected end of input, expected a value", 1, 1);
        assert_err("  \n ", "unexpected end of input", 2, 2);
        assert_err("{\"a\" 1}", "expected ':' after key", 1, 6);
        assert_err("{\"a\"", "unexpected end of input, expected ':' after key", 1, 5);
        assert_err("{\"a\":}", "expected a value", 1, 6);
        assert_err("{\"a\":1", "unexpected end of input, expected ',' or '}'", 1, 7);
        assert_err("{\"a\":1 \"b\":2}", "expected ',' or '}'", 1, 8);
        assert_err("{a:1}", "expected a key", 1, 2);
        assert_err("{'a':1}", "double quotes", 1, 2);
        assert_err("{1:1}", "expected a key", 1, 2);
        assert_err("[1 2]", "expected ',' or ']'", 1, 4);
        assert_err("[1,", "unexpected end of input", 1, 4);
        assert_err("[", "unexpected end of input", 1, 2);
        assert_err("]", "expected a value", 1, 1);
        assert_err("{\"a\":1}}", "trailing characters after the document", 1, 8);
        assert_err("{\"a\":1}\n\nx", "trailing characters after the document", 3, 1);
        assert_err("tru", "unexpected end of input", 1, 4);
        assert_err("trUe", "expected a value", 1, 1);
        assert_err("nul", "unexpected end of input", 1, 4);
        assert_err("True", "expected a value", 1, 1);
        // Only space, tab, CR and LF are whitespace.
        assert_err("\u{a0}1", "expected a value", 1, 1);
        assert_err("[1,\u{c}2]", "expected a value", 1, 4);
        assert_err("[1,\u{3000}2]", "expected a value", 1, 4);
    }

    #[test]
    fn trailing_commas_and_comments_are_errors() {
        assert_err("[1, 2,]", "trailing comma before ']'", 1, 7);
        assert_err("{\"a\": 1,\n }", "trailing comma before '}'", 2, 2);
        assert_err("[,]", "expected a value", 1, 2);
        assert_err("{,}", "expected a key", 1, 2);
        assert_err("[1,,2]", "expected a value", 1, 4);
        assert_err("// c\n1", "comments are not allowed", 1, 1);
        assert_err("[1, /* c */ 2]", "comments are not allowed", 1, 5);
        assert_err("{/* c */}", "comments are not allowed", 1, 2);
        assert_err("1 # c", "trailing characters", 1, 3);
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let e = err("{\"name\": \"x\",\n \"id\": 1,\n \"name\": \"y\"}");
        assert_eq!(e.message, "duplicate key 'name'");
        assert_eq!(e.pos, p(3, 2));
        // Equal after unescaping.
        assert_err(r#"{"ab": 1, "a\u0062": 2}"#, "duplicate key 'ab'", 1, 11);
        // The same key in different objects is fine.
        assert!(parse(r#"{"a": {"a": 1}, "b": {"a": 2}}"#).is_ok());
    }

    #[test]
    fn messages_never_quote_values() {
        let secret = "31415926";
        for text in [
            "{\"tx\": 31415926.",
            "{\"tx\": 31415926 31415926}",
            "{\"tx\": \"31415926\\q\"}",
            "{\"tx\": 31415926e999}",
            "[31415926,]",
            "{\"tx\": 31415926}31415926",
        ] {
            let e = err(text);
            assert!(!e.message.contains(secret), "{text:?}: {}", e.message);
        }
    }

    #[test]
    fn nesting_depth_is_limited() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_err(&deep, "nested deeper than 128", 1, 129);
        let objects = "{\"a\":".repeat(MAX_DEPTH + 1);
        assert_err(&objects, "nested deeper than 128", 1, 5 * MAX_DEPTH as u32 + 1);
        // Far too deep: an error, not a stack overflow.
        assert!(parse(&"[".repeat(1_000_000)).is_err());
        assert!(parse(&"{\"\":".repeat(1_000_000)).is_err());
    }

    #[test]
    fn every_truncation_of_the_example_is_an_error() {
        let text = EXAMPLE.trim_end();
        for (cut, _) in text.char_indices() {
            let e = err(&text[..cut]);
            assert!(!e.message.is_empty());
        }
        assert!(parse(text).is_ok());
    }

    #[test]
    fn large_inputs_are_linear() {
        // 200 000 keys on one line: positions and duplicate detection must stay linear (a
        // quadratic scan would take minutes). No timing: it either finishes or the test hangs.
        let body: Vec<String> = (0..200_000).map(|k| format!("\"k{k}\":{k}")).collect();
        let text = format!("{{{}}}", body.join(","));
        let doc = parse(&text).unwrap();
        let Value::Table(entries) = &doc.value else { panic!() };
        assert_eq!(entries.len(), 200_000);
        let last = &entries[199_999];
        assert_eq!(last.pos, position(&text, text.rfind("\"k199999\"").unwrap()));
        // A huge string.
        let big = format!("\"{}\"", "中".repeat(1 << 20));
        assert_eq!(string(&big).chars().count(), 1 << 20);
    }

    // ---- property tests ----

    /// A tiny JSON writer for the round-trip property: `ws` is put between tokens.
    fn write(node: &Node, ws: &str, out: &mut String) {
        match &node.value {
            Value::Table(entries) => {
                out.push('{');
                for (k, e) in entries.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    out.push_str(ws);
                    write_string(&e.key, out);
                    out.push_str(ws);
                    out.push(':');
                    out.push_str(ws);
                    write(&e.node, ws, out);
                    out.push_str(ws);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (k, item) in items.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    out.push_str(ws);
                    write(item, ws, out);
                    out.push_str(ws);
                }
                out.push(']');
            }
            Value::String(s) => write_string(s, out),
            // `{:?}` is the shortest representation that reads back exactly, and for finite
            // values it is in the JSON grammar ("1.0", "1e-7", "-0.0", "1e300").
            Value::Number(x) => out.push_str(&format!("{x:?}")),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Other(_) => out.push_str("null"),
        }
    }

    fn write_string(s: &str, out: &mut String) {
        out.push('"');
        for (k, c) in s.chars().enumerate() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                // Alternate escape styles, including surrogate pairs for astral characters.
                c if (c as u32) < 0x20 || (k % 3 == 0 && !c.is_ascii()) => {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        out.push_str(&format!("\\u{unit:04x}"));
                    }
                }
                '/' if k % 2 == 0 => out.push_str("\\/"),
                c => out.push(c),
            }
        }
        out.push('"');
    }

    fn tree() -> impl Strategy<Value = Node> {
        let leaf = prop_oneof![
            any::<bool>().prop_map(Value::Bool),
            Just(Value::Other("null")),
            any::<f64>().prop_filter("finite", |x| x.is_finite()).prop_map(Value::Number),
            (-1000i32..1000).prop_map(|k| Value::Number(f64::from(k))),
            any::<String>().prop_map(Value::String),
            "[a-z\"\\\\/ 中\u{1F600}\n\t]{0,8}".prop_map(Value::String),
        ]
        .prop_map(n);
        leaf.prop_recursive(5, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(|v| n(Value::Array(v))),
                prop::collection::vec(("[a-z\u{4e2d}\"]{0,4}", inner), 0..6).prop_map(|kv| {
                    // Unique keys: later duplicates dropped.
                    let mut seen = HashSet::new();
                    let entries = kv
                        .into_iter()
                        .filter(|(k, _)| seen.insert(k.clone()))
                        .map(|(key, node)| Entry { key, pos: Pos::default(), node })
                        .collect();
                    n(Value::Table(entries))
                }),
            ]
        })
    }

    /// The character at a 1-based (line, column), lines split at '\n' like [`position`].
    fn char_at(text: &str, pos: Pos) -> Option<char> {
        text.split('\n').nth(pos.line as usize - 1)?.chars().nth(pos.column as usize - 1)
    }

    /// Every key position points at a '"', every value position at its first character.
    fn check_positions(text: &str, node: &Node) {
        let first = char_at(text, node.pos);
        let ok = match &node.value {
            Value::Table(entries) => {
                for e in entries {
                    assert_eq!(char_at(text, e.pos), Some('"'), "key {:?}", e.key);
                    check_positions(text, &e.node);
                }
                first == Some('{')
            }
            Value::Array(items) => {
                items.iter().for_each(|item| check_positions(text, item));
                first == Some('[')
            }
            Value::String(_) => first == Some('"'),
            Value::Number(_) => matches!(first, Some('-' | '0'..='9')),
            Value::Bool(b) => first == Some(if *b { 't' } else { 'f' }),
            Value::Other(_) => first == Some('n'),
        };
        assert!(ok, "{:?} at {:?} starts with {first:?}", node.value, node.pos);
    }

    proptest! {
        #[test]
        fn round_trip(doc in tree(), ws in prop_oneof![
            Just(""), Just(" "), Just("\n"), Just("\r\n\t"), Just(" \n  ")
        ]) {
            let mut text = String::new();
            write(&doc, ws, &mut text);
            let parsed = parse(&text).unwrap();
            prop_assert_eq!(strip(&parsed), doc);
            check_positions(&text, &parsed);
        }

        #[test]
        fn arbitrary_strings_never_panic(text in any::<String>()) {
            let _ = parse(&text);
        }

        #[test]
        fn json_like_strings_never_panic(
            text in "[\\[\\]{}\",:\\\\ \n0-9.eE+\\-tfnrulsaDd\u{feff}中/*]{0,40}"
        ) {
            if let Err(e) = parse(&text) {
                // The position is inside the text (or just after its end).
                let end = position(text.strip_prefix('\u{feff}').unwrap_or(&text), usize::MAX);
                prop_assert!((e.pos.line, e.pos.column) <= (end.line, end.column));
            }
        }

        #[test]
        fn cached_positions_match_position(text in "[a中\n\"]{0,30}", cuts in prop::collection::vec(0usize..40, 0..8)) {
            let mut parser = Parser {
                text: &text,
                bytes: text.as_bytes(),
                i: 0,
                depth: 0,
                cached: (0, Pos { line: 1, column: 1 }),
            };
            for cut in cuts {
                let mut cut = cut.min(text.len());
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                prop_assert_eq!(parser.pos_at(cut), position(&text, cut));
            }
        }
    }
}
