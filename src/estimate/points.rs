//! The control-point file of `geounify estimate`: comma-, tab- or whitespace-separated text
//! (a line containing a comma is split at commas, others at whitespace); blank lines and lines
//! starting with `#` are skipped; the first other line is a header if one of its numeric
//! columns does not parse. Ids are any UTF-8 text and must be unique.
//!
//! Columns: `id,x1,y1,x2,y2` (planar, or 2D coordinates of CRSs: heights 0) or
//! `id,x1,y1,z1,x2,y2,z2` (3D); 1 is the source system, 2 the target. Errors name the line and
//! the point id, never a coordinate value.

use std::collections::HashMap;
use std::fmt;

/// Which column layouts a control-point file may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointColumns {
    /// `id,x1,y1,x2,y2` only (the planar models).
    Planar,
    /// `id,x1,y1,z1,x2,y2,z2` only (geocentric coordinates).
    Geocentric,
    /// Either (coordinates of CRSs: 2D rows get heights 0).
    Either,
}

impl PointColumns {
    fn accepts(self, n: usize) -> bool {
        match self {
            PointColumns::Planar => n == 5,
            PointColumns::Geocentric => n == 7,
            PointColumns::Either => n == 5 || n == 7,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            PointColumns::Planar => "5 columns (id,x1,y1,x2,y2)",
            PointColumns::Geocentric => "7 columns (id,x1,y1,z1,x2,y2,z2)",
            PointColumns::Either => "7 columns (id,x1,y1,z1,x2,y2,z2) or 5 (id,x1,y1,x2,y2)",
        }
    }
}

/// One data line of a control-point file.
#[derive(Debug, Clone, PartialEq)]
pub struct PointRow {
    /// Its line number (1-based).
    pub line: usize,
    /// The point id (column 1), non-empty.
    pub id: String,
    /// Source coordinates `[x1, y1, z1]` as written (z1 = 0 in a 5-column row); finite.
    pub source: [f64; 3],
    /// Target coordinates `[x2, y2, z2]` as written (z2 = 0 in a 5-column row); finite.
    pub target: [f64; 3],
}

/// Why a control-point file was refused: the line (1-based) and the reason, which names the
/// column and point id but never a coordinate value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointsError {
    /// The line number (1-based).
    pub line: usize,
    /// The reason.
    pub message: String,
}

impl fmt::Display for PointsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for PointsError {}

/// The bytes of a control-point file as text: an error naming the first line that is not UTF-8.
pub fn control_points_text(bytes: Vec<u8>) -> Result<String, PointsError> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        PointsError { line, message: "not UTF-8 text".into() }
    })
}

/// Parses the data lines of a control-point file (format in the [module docs](self)). Errors:
/// a row with a column count `columns` does not accept, an empty id, a value that is not a
/// number or not finite, an id used twice. Never panics.
pub fn parse_control_points(
    text: &str,
    columns: PointColumns,
) -> Result<Vec<PointRow>, PointsError> {
    let mut rows = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut first = true;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let fail = |message: String| PointsError { line, message };
        let trimmed = raw.trim_start_matches('\u{feff}').trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = if trimmed.contains(',') {
            trimmed.split(',').map(str::trim).collect()
        } else {
            trimmed.split_whitespace().collect()
        };
        let is_first = std::mem::replace(&mut first, false);
        let numbers: Vec<Option<f64>> =
            fields.iter().skip(1).map(|f| f.parse::<f64>().ok()).collect();
        if is_first && numbers.iter().any(Option::is_none) {
            continue; // header
        }
        if !columns.accepts(fields.len()) {
            return Err(fail(format!("expected {}, found {}", columns.describe(), fields.len())));
        }
        let id = fields[0].to_string();
        if id.is_empty() {
            return Err(fail("the point id (column 1) is empty".into()));
        }
        let mut values = Vec::with_capacity(6);
        for (k, n) in numbers.iter().enumerate() {
            match n {
                Some(v) if v.is_finite() => values.push(*v),
                Some(_) => {
                    return Err(fail(format!("column {} of point '{id}' is not finite", k + 2)))
                }
                None => {
                    return Err(fail(format!("column {} of point '{id}' is not a number", k + 2)))
                }
            }
        }
        if let Some(previous) = seen.insert(id.clone(), line) {
            return Err(fail(format!("point id '{id}' is already used on line {previous}")));
        }
        let (source, target) = match values[..] {
            [x1, y1, z1, x2, y2, z2] => ([x1, y1, z1], [x2, y2, z2]),
            [x1, y1, x2, y2] => ([x1, y1, 0.0], [x2, y2, 0.0]),
            _ => return Err(fail(format!("expected {}", columns.describe()))),
        };
        rows.push(PointRow { line, id, source, target });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_comments_and_both_separators() {
        let text = "\u{feff}# survey\nid,x1,y1,x2,y2\nA, 1, 2, 3, 4\n\nB 5 6 7 8\n";
        let rows = parse_control_points(text, PointColumns::Planar).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].line, rows[0].id.as_str()), (3, "A"));
        assert_eq!(rows[1].source, [5.0, 6.0, 0.0]);
        assert_eq!(rows[1].target, [7.0, 8.0, 0.0]);
    }

    #[test]
    fn errors_name_line_and_id() {
        let e = parse_control_points("A,1,2,3,4\nA,1,2,3,5\n", PointColumns::Planar).unwrap_err();
        assert_eq!(e.to_string(), "line 2: point id 'A' is already used on line 1");
        let e = parse_control_points("A,1,2,3,4\nB,1,inf,3,5\n", PointColumns::Planar);
        assert_eq!(e.unwrap_err().message, "column 3 of point 'B' is not finite");
        let e = parse_control_points("A,1,2,3,4,5,6\n", PointColumns::Planar).unwrap_err();
        assert_eq!(e.message, "expected 5 columns (id,x1,y1,x2,y2), found 7");
        let e = control_points_text(b"a\nb\xff\n".to_vec()).unwrap_err();
        assert_eq!(e.to_string(), "line 2: not UTF-8 text");
    }
}
