//! TOML → the position-carrying document tree (`tree.rs`), through the `toml` crate's spanned
//! parser (no serde).

use super::tree::{Entry, LineIndex, Node, Pos, SyntaxError, Value};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// Parses a TOML document into a tree whose root is a table.
///
/// Positions come from one [`LineIndex`] of the text: `O(log n)` each, whatever order the
/// parser reports them in.
pub(crate) fn parse(text: &str) -> Result<Node, SyntaxError> {
    parse_indexed(&LineIndex::new(text))
}

fn parse_indexed(index: &LineIndex<'_>) -> Result<Node, SyntaxError> {
    match DeTable::parse(index.text()) {
        Ok(table) => {
            let pos = index.position(table.span().start);
            Ok(Node { pos, value: table_value(index, table.get_ref()) })
        }
        Err(error) => Err(SyntaxError {
            pos: error.span().map_or(Pos::default(), |span| index.position(span.start)),
            // The parser's own message only (its Display would quote the offending line, which
            // may hold confidential parameter values).
            message: error.message().trim_end().to_string(),
        }),
    }
}

fn table_value(index: &LineIndex<'_>, table: &DeTable<'_>) -> Value {
    Value::Table(
        table
            .iter()
            .map(|(key, value)| Entry {
                key: key.get_ref().to_string(),
                pos: index.position(key.span().start),
                node: node(index, value),
            })
            .collect(),
    )
}

fn node(index: &LineIndex<'_>, value: &Spanned<DeValue<'_>>) -> Node {
    let pos = index.position(value.span().start);
    let value = match value.get_ref() {
        DeValue::String(s) => Value::String(s.to_string()),
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            // Integers of CRS files are small; beyond 2^53 the nearest double is taken.
            #[allow(clippy::cast_precision_loss)]
            Ok(v) => Value::Number(v as f64),
            Err(_) => Value::Other("integer out of range"),
        },
        DeValue::Float(f) => match f.as_str().parse::<f64>() {
            Ok(v) => Value::Number(v),
            Err(_) => Value::Other("float"),
        },
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(_) => Value::Other("date-time"),
        DeValue::Array(items) => Value::Array(items.iter().map(|v| node(index, v)).collect()),
        DeValue::Table(t) => table_value(index, t),
    };
    Node { pos, value }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values_carry_their_lines() {
        let text = "# comment\n[[crs]]\nid = \"a\"\nplanar = { method = \"helmert4\", dx = 1 }\n\n[[crs]]\nid = \"b\"\n";
        let root = parse(text).unwrap();
        let Value::Table(top) = &root.value else { panic!() };
        assert_eq!(top[0].key, "crs");
        let Value::Array(crss) = &top[0].node.value else { panic!() };
        assert_eq!(crss.len(), 2);
        let Value::Table(first) = &crss[0].value else { panic!() };
        assert_eq!((first[0].key.as_str(), first[0].pos.line), ("id", 3));
        assert_eq!(first[0].node.value, Value::String("a".into()));
        let Value::Table(planar) = &first[1].node.value else { panic!() };
        assert_eq!(planar[1].key, "dx");
        assert_eq!(planar[1].node.value, Value::Number(1.0));
        assert_eq!(planar[1].node.pos, Pos { line: 4, column: 38 });
        let Value::Table(second) = &crss[1].value else { panic!() };
        assert_eq!(second[0].pos.line, 7);
    }

    /// Positions cost `O(log n)` each: for a 40,000-entry file the bytes scanned to find all
    /// of them stay within two strides per position (recounting from the start of the file,
    /// as before, scanned the whole prefix for each: about 10¹¹ bytes here).
    #[test]
    fn positions_do_not_rescan_the_file() {
        let mut text = String::new();
        for i in 0..40_000 {
            text.push_str(&format!(
                "[[crs]]\nid = \"city:g{i}\"\ndatum = \"CGCS2000\"\n\
                 projection = {{ method = \"gauss-kruger\", lon0 = 117.0 }}\n\n"
            ));
        }
        let index = LineIndex::new(&text);
        let root = parse_indexed(&index).unwrap();
        let Value::Table(top) = &root.value else { panic!() };
        let Value::Array(crss) = &top[0].node.value else { panic!() };
        assert_eq!(crss.len(), 40_000);
        let Value::Table(last) = &crss[39_999].value else { panic!() };
        assert_eq!(last[0].pos, Pos { line: 39_999 * 5 + 2, column: 1 });
        // 1 root + per entry: the table, 4 keys, 4 values, 2 inner keys and values.
        let positions = 1 + 1 + 40_000 * 13;
        let scanned = index.scanned.get();
        assert!(
            scanned <= positions * 2 * LineIndex::STRIDE,
            "{scanned} bytes scanned for {positions} positions in {} bytes",
            text.len()
        );
    }

    #[test]
    fn syntax_errors_give_a_position_and_no_text() {
        let err = parse("[[crs]]\nid = \"a\"\ntheta = 12.5.3\n").unwrap_err();
        assert_eq!(err.pos.line, 3);
        assert!(!err.message.contains("12.5"), "{}", err.message);
        let err = parse("a = 1\na = 2\n").unwrap_err();
        assert_eq!(err.pos.line, 2, "{}", err.message);
    }
}
