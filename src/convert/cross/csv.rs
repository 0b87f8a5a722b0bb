//! CSV and TSV in conversions between formats.
//!
//! **Reading.** The coordinate columns are found as for a same-format conversion
//! ([`csv`](super::super::csv): names, `--x-col` / `--y-col` / `--z-col`, encodings, byte-order
//! marks); each row is a point feature (z when its z cell has a value), a row with empty x and
//! y a feature without geometry, a row whose coordinates cannot be read a failure of its line.
//! A table without coordinate columns but with a `wkt` column (as this writer and GDAL's
//! `GEOMETRY=AS_WKT` write it) has its geometries there, read by the parser of `.wkt` files
//! ([`wkt`](super::super::wkt)): any simple-feature type, 2D or Z (`POINT Z`, `POINTZ`, untagged
//! 3-number tuples; M dropped with a warning), an empty cell for none, a cell that is not WKT a
//! failure of its line. An EWKT `SRID=n;` prefix must name the source CRS (EPSG:n = `--from`),
//! else the line fails.
//! Every other column is an attribute, named by the header. Types are inferred over the whole
//! file in a first pass, and only where they change no cell's text: a column is **integer** if
//! every non-empty cell is a 64-bit integer written the way it reads back (`42`, `-7`; not
//! `007` or `+1`), **real** if every non-empty cell is a number written in the shortest form
//! that reads back exactly (`3.5`, `116.404`, integers too; not `3.50`), else **text** (which
//! keeps `007` and `3.50` as they are). An empty cell is null. Cells past the header's columns
//! are not carried (a warning counts the rows). A column name the header repeats becomes
//! `name_2`, `name_3`, ... (a warning says so).
//!
//! **Writing.** UTF-8 without a byte-order mark, comma-separated (tab for `.tsv`), LF line
//! endings, fields quoted only when they hold the delimiter, a quote or a line break (RFC 4180).
//! When every geometry is a point (or there is none): columns `x,y` (and `z` when a geometry
//! has heights; empty for a point without one) first, then the attributes — as GDAL's
//! `GEOMETRY=AS_XY`, and read back by this reader. Otherwise a first column `wkt` with the
//! geometry as WKT (GDAL reads a column named WKT as the geometry), then the attributes. A
//! feature without geometry has empty coordinate cells. Null is an empty cell, integers in
//! decimal, reals in the shortest round-trip form, booleans `true` / `false`, dates
//! `YYYY-MM-DD`. Coordinates: shortest round-trip form, or
//! [`ConvertOptions::precision`](super::super::ConvertOptions::precision). An attribute named
//! like a coordinate column (`x`, `y`, `z` or `wkt`, any case) is refused (it could not be told
//! apart when read back). CSV declares no CRS: a warning names the output's.

use super::super::atomic::AtomicFile;
use super::super::csv::Table;
use super::super::features::{
    Feature, FeatureReader, FeatureWriter, Field, FieldType, Geometry, Read, Schema, Shape, Value,
};
use super::super::text::Number;
use super::super::wkt::{read_geometry, WktGeometry};
use super::super::{ConvertError, ConvertReport, Failure, FileFormat, Job};
use super::Digits;
use std::io::Write;
use std::path::PathBuf;

/// The reader of a CSV / TSV input (see the module docs).
pub(crate) fn reader<'a>(job: &Job<'a>) -> Result<Box<dyn FeatureReader + 'a>, ConvertError> {
    // First pass: the attribute columns' types, and whether points have heights.
    let mut table = Table::open(job.input, job.options)?;
    let coordinates = table.coordinate_columns();
    let wkt = match coordinates {
        [None, None, None] => table.names.iter().position(|n| n.trim().eq_ignore_ascii_case("wkt")),
        _ => None,
    };
    let attributes: Vec<usize> = (0..table.names.len())
        .filter(|i| !coordinates.contains(&Some(*i)) && wkt != Some(*i))
        .collect();
    let mut types: Vec<Option<FieldType>> = vec![None; attributes.len()];
    let mut schema = Schema::default();
    while let Some(row) = table.next_row()? {
        if let Ok(Some((_, z))) = row.point {
            schema.add_geometry(&Geometry { shape: Shape::Point([0.0; 3]), has_z: z });
        }
        if let Some(Some(Some(cell))) = wkt.map(|i| row.cells.get(i)) {
            if let Ok(WktGeometry { geometry: Some(g), .. }) = read_geometry(cell) {
                schema.add_geometry(&g);
            }
        }
        for (t, &col) in types.iter_mut().zip(&attributes) {
            if let Some(Some(cell)) = row.cells.get(col) {
                if !cell.is_empty() {
                    let k = infer(cell);
                    *t = Some(t.map_or(k, |t| t.unify(k)));
                }
            }
        }
    }
    schema.fields = attributes
        .iter()
        .zip(&types)
        .map(|(&i, t)| Field {
            name: table.names.get(i).cloned().unwrap_or_default(),
            kind: t.unwrap_or(FieldType::Text),
        })
        .collect();
    // A name the header repeats: `name_2`, `name_3`, ... (a field name is a key elsewhere).
    let renamed = schema.rename_repeated(|i| attributes.get(i).map_or(0, |c| c + 1).to_string());
    let table = Table::open(job.input, job.options)?;
    Ok(Box::new(Reader {
        table,
        attributes,
        wkt,
        epsg: job.source.epsg(),
        source: job.source.id().to_string(),
        schema,
        long_rows: 0,
        m_dropped: 0,
        renamed,
    }))
}

/// The sanity check's sample of a table with a `wkt` column and no coordinate columns: up to
/// `max` positions `[x, y, z]` from its first geometries; `None` if the table has no such
/// column (the caller's error stands).
pub(crate) fn wkt_sample(job: &Job<'_>, max: usize) -> Option<Result<Vec<[f64; 3]>, ConvertError>> {
    let mut table = match Table::open(job.input, job.options) {
        Ok(t) => t,
        Err(e) => return Some(Err(e)),
    };
    if table.coordinate_columns() != [None; 3] {
        return None;
    }
    let column = table.names.iter().position(|n| n.trim().eq_ignore_ascii_case("wkt"))?;
    let mut out = Vec::new();
    while out.len() < max {
        let row = match table.next_row() {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(e) => return Some(Err(e)),
        };
        if let Some(Some(cell)) = row.cells.get(column) {
            if let Ok(WktGeometry { geometry: Some(g), .. }) = read_geometry(cell) {
                g.shape.for_each(&mut |c| out.push(*c));
            }
        }
    }
    out.truncate(max);
    Some(Ok(out))
}

/// The geometry of a table's `wkt` cell (CSV, and an Excel sheet's, [`xlsx`](super::xlsx)):
/// `None` for a blank cell or `POINT EMPTY`; an EWKT `SRID=` must name the source's EPSG code
/// (`source`: that code and the source's id); positions with m values are counted in `m`.
pub(super) fn wkt_cell(
    cell: &str,
    source: (Option<u32>, &str),
    m: &mut u64,
) -> Result<Option<Geometry>, String> {
    match cell.trim() {
        "" => Ok(None),
        text => match read_geometry(text) {
            Ok(WktGeometry { srid: Some(srid), .. }) if Some(srid) != source.0 => Err(format!(
                "wkt: SRID={srid} says EPSG:{srid}, but the source CRS (--from) is {}",
                source.1
            )),
            Ok(w) => {
                *m += u64::from(w.m);
                Ok(w.geometry)
            }
            Err(e) => Err(format!("wkt: {e}")),
        },
    }
}

/// The narrowest type that keeps `cell`'s text (see the module docs): integer, real or text
/// (columns of several are unified by [`FieldType::unify`]).
fn infer(cell: &str) -> FieldType {
    if cell.parse::<i64>().is_ok_and(|i| i.to_string() == cell) {
        return FieldType::Integer;
    }
    match cell.parse::<f64>() {
        Ok(v) if v.is_finite() && Number(v).to_string() == cell => FieldType::Real,
        _ => FieldType::Text,
    }
}

struct Reader<'p> {
    table: Table<'p>,
    attributes: Vec<usize>,
    /// The `wkt` column, for a table without coordinate columns.
    wkt: Option<usize>,
    /// The source CRS's EPSG code (an EWKT `SRID=` must name it) and id.
    epsg: Option<u32>,
    source: String,
    m_dropped: u64,
    schema: Schema,
    long_rows: u64,
    renamed: Vec<String>,
}

impl FeatureReader for Reader<'_> {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn next(&mut self) -> Result<Option<Read>, ConvertError> {
        let Some(row) = self.table.next_row()? else { return Ok(None) };
        let location = format!("line {}", row.line);
        if row.cells.len() > self.table.names.len() {
            self.long_rows += 1;
        }
        let geometry = match (row.point, self.wkt) {
            (Ok(Some((c, has_z))), _) => Some(Geometry { shape: Shape::Point(c), has_z }),
            (Ok(None), Some(i)) => {
                let cell = row.cells.get(i).and_then(Option::as_deref).unwrap_or("");
                match wkt_cell(cell, (self.epsg, &self.source), &mut self.m_dropped) {
                    Ok(g) => g,
                    Err(reason) => return Ok(Some(Err(Failure { location, reason }))),
                }
            }
            (Ok(None), None) => None,
            (Err(reason), _) => return Ok(Some(Err(Failure { location, reason }))),
        };
        let mut attributes = Vec::with_capacity(self.attributes.len());
        for (field, &col) in self.schema.fields.iter().zip(&self.attributes) {
            let cell = row.cells.get(col).and_then(Option::as_deref).unwrap_or("");
            attributes.push(if cell.is_empty() {
                Value::Null
            } else {
                match field.kind {
                    FieldType::Integer => cell.parse().map_or(Value::Null, Value::Integer),
                    FieldType::Real => cell.parse().map_or(Value::Null, Value::Real),
                    _ => Value::Text(cell.to_string()),
                }
            });
        }
        Ok(Some(Ok(Feature { location, geometry, attributes })))
    }

    fn consumed(&self) -> u64 {
        self.table.consumed()
    }

    fn warnings(&mut self) -> Vec<String> {
        let mut w = std::mem::take(&mut self.renamed);
        if self.m_dropped > 0 {
            w.push(format!("{} WKT geometries had m values; they are dropped", self.m_dropped));
        }
        if self.long_rows == 0 {
            return w;
        }
        w.push(format!(
            "{} row(s) have more fields than the header; the cells past the header's {} columns \
             are not carried",
            self.long_rows,
            self.table.names.len()
        ));
        w
    }
}

/// The writer of a CSV / TSV output (see the module docs).
pub(crate) fn writer(
    job: &Job<'_>,
    schema: &Schema,
) -> Result<Box<dyn FeatureWriter>, ConvertError> {
    let path = job.output.to_path_buf();
    let delimiter =
        if FileFormat::from_path(job.output) == Some(FileFormat::Tsv) { b'\t' } else { b',' };
    let points = schema.points_only();
    let mut coordinate_names: Vec<&str> = if points { vec!["x", "y"] } else { vec!["wkt"] };
    if points && schema.has_z {
        coordinate_names.push("z");
    }
    if let Some(f) = schema
        .fields
        .iter()
        .find(|f| ["x", "y", "z", "wkt"].iter().any(|n| f.name.trim().eq_ignore_ascii_case(n)))
    {
        return Err(ConvertError::Options {
            path: job.input.to_path_buf(),
            message: format!(
                "the attribute '{}' has the name of a coordinate column of a CSV output (x, y, \
                 z, wkt); rename it, or convert to another format",
                f.name
            ),
        });
    }
    let io = |source| ConvertError::Io { path: path.clone(), source };
    let mut file = AtomicFile::create(job.output).map_err(io)?;
    let mut head = Vec::new();
    let names =
        coordinate_names.iter().copied().chain(schema.fields.iter().map(|f| f.name.as_str()));
    for (i, name) in names.enumerate() {
        if i > 0 {
            head.push(delimiter);
        }
        push_field(&mut head, name, delimiter);
    }
    head.push(b'\n');
    file.writer().write_all(&head).map_err(io)?;
    let warnings = vec![format!(
        "{} declares no CRS: the output's coordinates are in {} (keep that with the file)",
        if delimiter == b'\t' { "TSV" } else { "CSV" },
        job.target.id()
    )];
    Ok(Box::new(Writer {
        file,
        path,
        delimiter,
        points,
        z: schema.has_z,
        digits: Digits::of(job),
        warnings,
        buf: Vec::new(),
    }))
}

struct Writer {
    file: AtomicFile,
    path: PathBuf,
    delimiter: u8,
    points: bool,
    z: bool,
    digits: Digits,
    warnings: Vec<String>,
    buf: Vec<u8>,
}

impl FeatureWriter for Writer {
    fn write(&mut self, features: &[Feature]) -> Result<(), ConvertError> {
        let d = self.delimiter;
        self.buf.clear();
        let mut wkt = Vec::new();
        for f in features {
            let out = &mut self.buf;
            if self.points {
                match &f.geometry {
                    Some(Geometry { shape: Shape::Point(c), has_z })
                        if !(c[0].is_nan() && c[1].is_nan()) =>
                    {
                        self.digits.push_xy(out, c[0]);
                        out.push(d);
                        self.digits.push_xy(out, c[1]);
                        if self.z {
                            out.push(d);
                            if *has_z {
                                self.digits.push_z(out, c[2]);
                            }
                        }
                    }
                    _ => {
                        out.push(d);
                        if self.z {
                            out.push(d);
                        }
                    }
                }
            } else if let Some(g) = &f.geometry {
                wkt.clear();
                super::wkb::write_wkt(g, self.digits, &mut wkt);
                // WKT is ASCII: quoted when it holds the delimiter (a comma between positions).
                push_field(out, std::str::from_utf8(&wkt).unwrap_or_default(), d);
            }
            for v in &f.attributes {
                out.push(d);
                match v {
                    Value::Null => {}
                    Value::Text(t) | Value::Date(t) => push_field(out, t, d),
                    v => out.extend_from_slice(v.to_string().as_bytes()),
                }
            }
            out.push(b'\n');
        }
        super::append(&mut self.file, &self.path, &self.buf)
    }

    fn finish(mut self: Box<Self>, report: &mut ConvertReport) -> Result<(), ConvertError> {
        super::commit(self.file, self.path, &mut self.warnings, report)
    }
}

/// Appends `text` as one field, quoted (quotes doubled) if it holds the delimiter, a quote or a
/// line break, or starts with a quote.
fn push_field(out: &mut Vec<u8>, text: &str, delimiter: u8) {
    let needs = text.bytes().any(|b| b == delimiter || b == b'"' || b == b'\n' || b == b'\r');
    if !needs {
        out.extend_from_slice(text.as_bytes());
        return;
    }
    out.push(b'"');
    for b in text.bytes() {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inference_keeps_every_cell_text() {
        assert_eq!(infer("42"), FieldType::Integer);
        assert_eq!(infer("-7"), FieldType::Integer);
        assert_eq!(infer("007"), FieldType::Text);
        assert_eq!(infer("+1"), FieldType::Text);
        assert_eq!(infer("3.5"), FieldType::Real);
        assert_eq!(infer("3.50"), FieldType::Text);
        assert_eq!(infer("1e300"), FieldType::Real);
        assert_eq!(infer("nan"), FieldType::Text);
        assert_eq!(FieldType::Integer.unify(FieldType::Real), FieldType::Real);
        let mut out = Vec::new();
        push_field(&mut out, "a,\"b\"", b',');
        assert_eq!(out, b"\"a,\"\"b\"\"\"");
    }
}
