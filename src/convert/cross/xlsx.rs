//! Excel workbooks (`.xlsx`) in conversions between formats.
//!
//! **Reading** (through the `calamine` crate). The first sheet, its header and coordinate
//! columns found as for a same-format conversion ([`xlsx`](super::super::xlsx): the first of
//! the first [`HEADER_ROWS`] rows holding a value in which the
//! columns are found, the CSV names and `--x-col` / `--y-col` / `--z-col`). Each row after the
//! header with a value is a point feature (z when its z cell has a value), a row with empty x
//! and y a feature without geometry, a row whose coordinate cell is not a number (or a text
//! holding one) a failure naming the cell. A sheet without coordinate columns but with one
//! column named `wkt` (as the writer below writes lines and polygons) has any geometry there,
//! read as a CSV `wkt` cell is (an EWKT `SRID=` must be the source's). Every other column with
//! a header name is an
//! attribute; its type is decided over the whole sheet in a first pass: **integer** if every
//! value is a whole number (Excel stores numbers as doubles: `101` is a whole double) within
//! ±2^53, **real** for numbers otherwise, **boolean** for booleans, **date** for cells with a
//! date format and no time of day, else **text** (a date with a time of day as
//! `YYYY-MM-DD HH:MM:SS`, an error value as its code `#N/A`, a number among texts in its
//! shortest form). Cells in columns without a header name are not carried (a warning counts
//! them). A name the header repeats becomes `name_2`, `name_3`, .... Rows are streamed from a
//! reading thread in batches, so memory stays bounded.
//!
//! **Writing** (through the `rust_xlsxwriter` crate, rows streamed to a temporary file as they
//! come: its constant-memory mode). One sheet named after the output file (`Sheet1` if the
//! name is not a valid sheet name): a header row, then one row per feature. When every
//! geometry is a point (or there is none): columns `x`, `y` (and `z` when a geometry has
//! heights) first, then the attributes — read back by this reader; otherwise a first column
//! `wkt` with the geometry as WKT text. Numbers are written as numeric cells (doubles, in the
//! shortest form that reads back exactly; integers beyond ±2^53, which a double cannot hold,
//! as text with a warning), text as text cells, booleans as boolean cells, dates as date cells
//! formatted `yyyy-mm-dd`. What a sheet cannot hold is refused with the feature's location:
//! more than 1,048,575 features, more than 16,384 columns, a text or WKT longer than 32,767
//! characters. An attribute named like a coordinate column (`x`, `y`, `z`, `wkt`, any case) is
//! refused as for CSV. A workbook declares no CRS: a warning names the output's.

use super::super::atomic::AtomicFile;
use super::super::csv::{find_columns, wkt_column, Columns};
use super::super::features::{
    Feature, FeatureReader, FeatureWriter, Field, FieldType, Geometry, Read, Schema, Shape, Value,
};
use super::super::text::{self, Number};
use super::super::xlsx::{self as sheet, HEADER_ROWS};
use super::super::{ConvertError, ConvertReport, Failure, Job};
use super::Digits;
use calamine::{DataRef, Reader as _, Xlsx};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};
use std::thread::JoinHandle;

/// Rows sent from the reading thread at a time.
const BATCH: usize = 4096;
/// The most rows a sheet holds.
const MAX_ROWS: u32 = 1_048_576;
/// The most columns a sheet holds.
const MAX_COLUMNS: usize = 16_384;
/// The longest text a cell holds, in characters.
const MAX_CELL_CHARS: usize = 32_767;
/// The largest integer a double holds exactly.
const MAX_EXACT: i64 = 1 << 53;

/// A cell's value, owned.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Number(f64),
    Integer(i64),
    Text(String),
    Boolean(bool),
    /// `YYYY-MM-DD`.
    Date(String),
    /// Anything else shown as text: a date with a time, an error value, a duration.
    Other(String),
}

impl Cell {
    fn from_data(d: &DataRef<'_>) -> Option<Cell> {
        Some(match d {
            DataRef::Empty => return None,
            DataRef::Int(i) => Cell::Integer(*i),
            DataRef::Float(f) => Cell::Number(*f),
            DataRef::String(s) => Cell::Text(s.clone()),
            DataRef::SharedString(s) => Cell::Text((*s).to_string()),
            DataRef::Bool(b) => Cell::Boolean(*b),
            DataRef::DateTime(dt) if dt.is_datetime() => {
                let (y, mo, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
                if (h, mi, s, ms) == (0, 0, 0, 0) {
                    Cell::Date(format!("{y:04}-{mo:02}-{d:02}"))
                } else {
                    Cell::Other(format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}"))
                }
            }
            DataRef::DateTime(dt) => Cell::Number(dt.as_f64()),
            DataRef::DateTimeIso(s) if s.len() == 10 => Cell::Date(s.clone()),
            DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Cell::Other(s.clone()),
            DataRef::Error(e) => Cell::Other(e.to_string()),
        })
    }

    /// The text the cell shows.
    fn text(&self) -> String {
        match self {
            Cell::Number(f) => Number(*f).to_string(),
            Cell::Integer(i) => i.to_string(),
            Cell::Text(t) | Cell::Date(t) | Cell::Other(t) => t.clone(),
            Cell::Boolean(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        }
    }

    fn kind(&self) -> FieldType {
        match self {
            Cell::Integer(_) => FieldType::Integer,
            Cell::Number(f) if f.fract() == 0.0 && f.abs() <= MAX_EXACT as f64 => {
                FieldType::Integer
            }
            Cell::Number(_) => FieldType::Real,
            Cell::Boolean(_) => FieldType::Boolean,
            Cell::Date(_) => FieldType::Date,
            Cell::Text(_) | Cell::Other(_) => FieldType::Text,
        }
    }

    fn value(&self, kind: FieldType) -> Value {
        let v = match self {
            Cell::Integer(i) => Value::Integer(*i),
            Cell::Number(f) if kind == FieldType::Integer => Value::Integer(*f as i64),
            Cell::Number(f) => Value::Real(*f),
            Cell::Boolean(b) => Value::Boolean(*b),
            Cell::Date(d) => Value::Date(d.clone()),
            Cell::Text(t) | Cell::Other(t) => Value::Text(t.clone()),
        };
        match (kind, v) {
            (FieldType::Text, Value::Real(r)) => Value::Text(Number(r).to_string()),
            (FieldType::Text, Value::Boolean(b)) => {
                Value::Text(if b { "TRUE" } else { "FALSE" }.to_string())
            }
            (k, v) => k.coerce(v),
        }
    }
}

/// A row: its number (1-based) and its cells by 0-based column.
type Row = (u32, Vec<(u32, Cell)>);

/// The rows of the first sheet `name` of `path`, read by a thread and sent in batches.
fn spawn_rows(path: &Path, name: String) -> (Receiver<Result<Vec<Row>, String>>, JoinHandle<()>) {
    let (tx, rx) = sync_channel::<Result<Vec<Row>, String>>(2);
    let path = path.to_path_buf();
    let handle = std::thread::spawn(move || {
        let run = || -> Result<(), String> {
            let file = File::open(&path).map_err(|e| e.to_string())?;
            let mut book: Xlsx<_> = Xlsx::new(BufReader::new(file)).map_err(|e| e.to_string())?;
            let mut cells = book.worksheet_cells_reader(&name).map_err(|e| e.to_string())?;
            let mut batch: Vec<Row> = Vec::with_capacity(BATCH);
            let mut row: Option<Row> = None;
            while let Some(cell) = cells.next_cell().map_err(|e| e.to_string())? {
                let (r, c) = cell.get_position();
                let Some(value) = Cell::from_data(cell.get_value()) else { continue };
                match row.as_mut() {
                    Some((n, cells)) if *n == r + 1 => cells.push((c, value)),
                    _ => {
                        if let Some(done) = row.replace((r + 1, vec![(c, value)])) {
                            batch.push(done);
                            if batch.len() >= BATCH {
                                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                                if tx.send(Ok(full)).is_err() {
                                    return Ok(()); // the reader is gone
                                }
                            }
                        }
                    }
                }
            }
            batch.extend(row);
            if !batch.is_empty() {
                let _ = tx.send(Ok(batch));
            }
            Ok(())
        };
        if let Err(e) = run() {
            let _ = tx.send(Err(e));
        }
    });
    (rx, handle)
}

/// Rows one by one from [`spawn_rows`].
struct Rows {
    rx: Receiver<Result<Vec<Row>, String>>,
    /// The reading thread, joined at the end: a panic in it is an error, not an early end.
    thread: Option<JoinHandle<()>>,
    batch: std::vec::IntoIter<Row>,
    path: PathBuf,
}

impl Rows {
    fn open(path: &Path, sheet: &str) -> Self {
        let (rx, thread) = spawn_rows(path, sheet.to_string());
        Rows { rx, thread: Some(thread), batch: Vec::new().into_iter(), path: path.to_path_buf() }
    }

    fn next(&mut self) -> Result<Option<Row>, ConvertError> {
        loop {
            if let Some(row) = self.batch.next() {
                return Ok(Some(row));
            }
            match self.rx.recv() {
                Ok(Ok(batch)) => self.batch = batch.into_iter(),
                Ok(Err(message)) => {
                    return Err(ConvertError::Malformed {
                        path: self.path.clone(),
                        location: "workbook".into(),
                        message,
                    })
                }
                Err(_) => {
                    if self.thread.take().is_some_and(|t| t.join().is_err()) {
                        return Err(ConvertError::Malformed {
                            path: self.path.clone(),
                            location: "workbook".into(),
                            message: "the workbook reader (calamine) failed".into(),
                        });
                    }
                    return Ok(None);
                }
            }
        }
    }
}

/// The header names of a row, by column (gaps as empty names).
fn names_of(cells: &[(u32, Cell)]) -> Vec<String> {
    let mut names = Vec::new();
    for (col, cell) in cells {
        let col = *col as usize;
        if col >= MAX_COLUMNS {
            continue;
        }
        if names.len() <= col {
            names.resize(col + 1, String::new());
        }
        if let Some(slot) = names.get_mut(col) {
            *slot = cell.text().trim().to_string();
        }
    }
    names
}

/// Where a sheet's geometries are.
enum Geom {
    /// In coordinate columns.
    Points(Columns),
    /// As WKT text in the column at this index (no coordinate columns named or found, and a
    /// column named `wkt`, as this library writes a sheet of lines or polygons).
    Wkt(usize),
}

impl Geom {
    /// The columns that hold geometry (not attributes).
    fn columns(&self) -> [Option<usize>; 3] {
        match self {
            Geom::Points(c) => [Some(c.x), Some(c.y), c.z],
            Geom::Wkt(i) => [Some(*i), None, None],
        }
    }
}

/// Reads rows up to the header; the header row's number, names and geometry columns.
fn header(
    rows: &mut Rows,
    job: &Job<'_>,
    sheet_name: &str,
    sheets: &str,
) -> Result<(u32, Vec<String>, Geom), ConvertError> {
    let o = job.options;
    let mut first_error = None;
    let mut seen = 0;
    while let Some((number, cells)) = rows.next()? {
        let names = names_of(&cells);
        if names.iter().all(String::is_empty) {
            continue;
        }
        seen += 1;
        match find_columns(&names, o.x_col.as_deref(), o.y_col.as_deref(), o.z_col.as_deref()) {
            Ok(c) => return Ok((number, names, Geom::Points(c))),
            Err(m) => {
                if let Some(i) = wkt_column(&names, o) {
                    return Ok((number, names, Geom::Wkt(i)));
                }
                first_error.get_or_insert(m);
            }
        }
        if seen >= HEADER_ROWS {
            break;
        }
    }
    match first_error {
        None => Err(ConvertError::Malformed {
            path: job.input.to_path_buf(),
            location: format!("sheet '{sheet_name}'"),
            message: "the sheet is empty (no header row): nothing to convert".into(),
        }),
        Some(m) => Err(ConvertError::Options {
            path: job.input.to_path_buf(),
            message: format!(
                "sheet '{sheet_name}' (geounify converts the first sheet; the workbook's \
                 sheets: {sheets}), none of its first {HEADER_ROWS} rows is a header with \
                 coordinate columns; first row: {m}"
            ),
        }),
    }
}

/// The geometry of a row: its point, or its `wkt` cell's geometry (see
/// [`wkt_cell`](super::csv::wkt_cell)); `Ok(None)` without one.
fn geometry(
    cells: &[(u32, Cell)],
    geom: &Geom,
    row: u32,
    source: (Option<u32>, &str),
    m: &mut u64,
) -> Result<Option<Geometry>, String> {
    match geom {
        Geom::Points(columns) => Ok(point(cells, columns, row)?
            .map(|(c, has_z)| Geometry { shape: Shape::Point(c), has_z })),
        Geom::Wkt(col) => match cells.iter().find(|(c, _)| *c as usize == *col) {
            None => Ok(None),
            Some((_, Cell::Text(t))) => super::csv::wkt_cell(t, source, m),
            Some((_, other)) => Err(format!(
                "cell {} (the wkt column) holds '{}', not WKT text",
                sheet::cell_ref(*col as u32, row),
                other.text()
            )),
        },
    }
}

/// The point of a row: `Ok(None)` without x and y.
fn point(
    cells: &[(u32, Cell)],
    columns: &Columns,
    row: u32,
) -> Result<Option<([f64; 3], bool)>, String> {
    let number = |role: usize, col: Option<usize>| -> Result<Option<f64>, String> {
        let Some(col) = col else { return Ok(None) };
        let Some((_, cell)) = cells.iter().find(|(c, _)| *c as usize == col) else {
            return Ok(None);
        };
        let describe = || {
            format!(
                "cell {} ({} column '{}')",
                sheet::cell_ref(col as u32, row),
                ["x", "y", "z"].get(role).copied().unwrap_or("z"),
                columns.names.get(role).map_or("", String::as_str)
            )
        };
        match cell {
            Cell::Number(f) if f.is_finite() => Ok(Some(*f)),
            Cell::Integer(i) => Ok(Some(*i as f64)),
            Cell::Text(t) if t.trim().is_empty() => Ok(None),
            Cell::Text(t) => text::parse_coordinate(t)
                .map(Some)
                .ok_or_else(|| format!("{}: '{}' is not a number", describe(), t.trim())),
            other => Err(format!("{} holds '{}', not a number", describe(), other.text())),
        }
    };
    let x = number(0, Some(columns.x))?;
    let y = number(1, Some(columns.y))?;
    let (x, y) = match (x, y) {
        (None, None) => return Ok(None),
        (Some(x), Some(y)) => (x, y),
        (None, Some(_)) => return Err("x is empty but y is not".into()),
        (Some(_), None) => return Err("y is empty but x is not".into()),
    };
    let z = number(2, columns.z)?;
    Ok(Some(([x, y, z.unwrap_or(0.0)], z.is_some())))
}

/// The sanity check's sample of a sheet with a `wkt` column and no coordinate columns: up to
/// `max` positions `[x, y, z]` from its first geometries; `None` if the sheet cannot be read so
/// (the caller's error stands).
pub(crate) fn wkt_sample(job: &Job<'_>, max: usize) -> Option<Result<Vec<[f64; 3]>, ConvertError>> {
    let mut reader = reader(job).ok()?;
    let mut out = Vec::new();
    while out.len() < max {
        match reader.next() {
            Ok(Some(Ok(Feature { geometry: Some(g), .. }))) => {
                g.shape.for_each(&mut |c| out.push(*c))
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => return Some(Err(e)),
        }
    }
    out.truncate(max);
    Some(Ok(out))
}

/// The reader of an `.xlsx` input (see the module docs).
pub(crate) fn reader<'a>(job: &Job<'a>) -> Result<Box<dyn FeatureReader + 'a>, ConvertError> {
    // Our own look at the archive first: the same errors as a same-format conversion (not a
    // zip, not a workbook, a chart sheet first).
    let book = sheet::open(job.input)?;
    let (sheet_name, list) = book.first_sheet_names(job.input)?;
    drop(book);
    // First pass: the header, the attribute types, heights.
    let mut rows = Rows::open(job.input, &sheet_name);
    let (header_row, names, geom) = header(&mut rows, job, &sheet_name, &list)?;
    let coordinates = geom.columns();
    let source = (job.source.epsg(), job.source.id().to_string());
    let attributes: Vec<usize> = (0..names.len())
        .filter(|i| !coordinates.contains(&Some(*i)))
        .filter(|&i| names.get(i).is_some_and(|n| !n.is_empty()))
        .collect();
    let mut types: Vec<Option<FieldType>> = vec![None; attributes.len()];
    let mut schema = Schema::default();
    while let Some((number, cells)) = rows.next()? {
        if let Ok(Some(g)) = geometry(&cells, &geom, number, (source.0, &source.1), &mut 0) {
            schema.add_geometry(&g);
        }
        for (t, &col) in types.iter_mut().zip(&attributes) {
            if let Some((_, cell)) = cells.iter().find(|(c, _)| *c as usize == col) {
                let k = cell.kind();
                *t = Some(t.map_or(k, |t| t.unify(k)));
            }
        }
    }
    schema.fields = attributes
        .iter()
        .zip(&types)
        .map(|(&i, t)| Field {
            name: names.get(i).cloned().unwrap_or_default(),
            kind: t.unwrap_or(FieldType::Text),
        })
        .collect();
    let renamed = schema.rename_repeated(|i| {
        let cell = sheet::cell_ref(attributes.get(i).map_or(0, |&c| c as u32), header_row);
        cell.trim_end_matches(|c: char| c.is_ascii_digit()).to_string()
    });
    // Second pass: the features.
    let mut rows = Rows::open(job.input, &sheet_name);
    while let Some((number, _)) = rows.next()? {
        if number == header_row {
            break;
        }
    }
    Ok(Box::new(Reader {
        rows,
        sheet: sheet_name,
        geom,
        source,
        m_dropped: 0,
        attributes,
        schema,
        names: names.len(),
        uncarried: 0,
        renamed,
    }))
}

struct Reader {
    rows: Rows,
    sheet: String,
    geom: Geom,
    /// The source CRS's EPSG code (an EWKT `SRID=` must name it) and id.
    source: (Option<u32>, String),
    /// WKT geometries whose m values were dropped.
    m_dropped: u64,
    attributes: Vec<usize>,
    schema: Schema,
    /// The header's width.
    names: usize,
    /// Rows with values in columns without a header name.
    uncarried: u64,
    renamed: Vec<String>,
}

impl FeatureReader for Reader {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn next(&mut self) -> Result<Option<Read>, ConvertError> {
        let Some((number, cells)) = self.rows.next()? else { return Ok(None) };
        let location = format!("sheet '{}', row {number}", self.sheet);
        let coordinates = self.geom.columns();
        let carried = |c: usize| {
            c < self.names && (self.attributes.contains(&c) || coordinates.contains(&Some(c)))
        };
        if cells.iter().any(|(c, _)| !carried(*c as usize)) {
            self.uncarried += 1;
        }
        let source = (self.source.0, self.source.1.as_str());
        let geometry = match geometry(&cells, &self.geom, number, source, &mut self.m_dropped) {
            Ok(g) => g,
            Err(reason) => return Ok(Some(Err(Failure { location, reason }))),
        };
        let attributes = self
            .schema
            .fields
            .iter()
            .zip(&self.attributes)
            .map(|(field, &col)| match cells.iter().find(|(c, _)| *c as usize == col) {
                Some((_, cell)) => cell.value(field.kind),
                None => Value::Null,
            })
            .collect();
        Ok(Some(Ok(Feature { location, geometry, attributes })))
    }

    fn warnings(&mut self) -> Vec<String> {
        let mut w = std::mem::take(&mut self.renamed);
        if self.m_dropped > 0 {
            w.push(format!("{} WKT geometries had m values; they are dropped", self.m_dropped));
        }
        if self.uncarried > 0 {
            w.push(format!(
                "{} row(s) have values in columns without a header name; those cells are not \
                 carried",
                self.uncarried
            ));
        }
        w
    }
}

/// The writer of an `.xlsx` output (see the module docs).
pub(crate) fn writer(
    job: &Job<'_>,
    schema: &Schema,
) -> Result<Box<dyn FeatureWriter>, ConvertError> {
    let path = job.output.to_path_buf();
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
                "the attribute '{}' has the name of a coordinate column of an Excel output (x, \
                 y, z, wkt); rename it, or convert to another format",
                f.name
            ),
        });
    }
    let width = coordinate_names.len() + schema.fields.len();
    if width > MAX_COLUMNS {
        return Err(ConvertError::Options {
            path: job.input.to_path_buf(),
            message: format!(
                "{width} columns: an Excel sheet holds at most {MAX_COLUMNS}; convert to \
                 another format"
            ),
        });
    }
    let xlsx = |e: rust_xlsxwriter::XlsxError| ConvertError::Io {
        path: path.clone(),
        source: std::io::Error::other(format!("writing the workbook: {e}")),
    };
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet_with_constant_memory().map_err(xlsx)?;
    let stem = job.output.file_stem().and_then(|s| s.to_str()).unwrap_or("Sheet1");
    if sheet.set_name(stem).is_err() {
        sheet.set_name("Sheet1").map_err(xlsx)?;
    }
    let names =
        coordinate_names.iter().copied().chain(schema.fields.iter().map(|f| f.name.as_str()));
    for (col, name) in names.enumerate() {
        sheet.write_string(0, col as u16, name).map_err(xlsx)?;
    }
    let mut warnings = vec![format!(
        "an Excel workbook declares no CRS: the output's coordinates are in {} (keep that \
         with the file)",
        job.target.id()
    )];
    if points {
        warnings.extend(super::precision_unused(job, "Excel"));
    }
    Ok(Box::new(Writer {
        workbook,
        path,
        points,
        z: schema.has_z,
        row: 1,
        offset: coordinate_names.len() as u16,
        date: Format::new().set_num_format("yyyy-mm-dd"),
        digits: Digits::of(job),
        big_integers: 0,
        warnings,
    }))
}

struct Writer {
    workbook: Workbook,
    path: PathBuf,
    points: bool,
    z: bool,
    /// The next row (0-based; row 0 is the header).
    row: u32,
    /// The first attribute column.
    offset: u16,
    date: Format,
    /// The WKT column's coordinates (`--precision`).
    digits: Digits,
    big_integers: u64,
    warnings: Vec<String>,
}

impl Writer {
    fn too_long(&self, f: &Feature, what: &str) -> ConvertError {
        ConvertError::Options {
            path: self.path.clone(),
            message: format!(
                "{}: {what} longer than {MAX_CELL_CHARS} characters, which an Excel cell cannot \
                 hold; convert to another format",
                f.location
            ),
        }
    }
}

impl FeatureWriter for Writer {
    fn write(&mut self, features: &[Feature]) -> Result<(), ConvertError> {
        let path = self.path.clone();
        let xlsx = |e: rust_xlsxwriter::XlsxError| ConvertError::Io {
            path: path.clone(),
            source: std::io::Error::other(format!("writing the workbook: {e}")),
        };
        let mut wkt = Vec::new();
        for f in features {
            if self.row >= MAX_ROWS {
                return Err(ConvertError::Options {
                    path: self.path.clone(),
                    message: format!(
                        "{}: an Excel sheet holds at most {} rows ({} features after the \
                         header); convert to another format",
                        f.location,
                        MAX_ROWS,
                        MAX_ROWS - 1
                    ),
                });
            }
            let row = self.row;
            let (points, z, offset) = (self.points, self.z, self.offset);
            if !points {
                if let Some(g) = &f.geometry {
                    wkt.clear();
                    super::wkb::write_wkt(g, self.digits, &mut wkt);
                    if wkt.len() > MAX_CELL_CHARS {
                        return Err(self.too_long(f, "a WKT geometry"));
                    }
                }
            }
            for v in &f.attributes {
                if let Value::Text(t) = v {
                    if t.len() > MAX_CELL_CHARS && t.chars().count() > MAX_CELL_CHARS {
                        return Err(self.too_long(f, "a text"));
                    }
                }
            }
            let sheet = self.workbook.worksheet_from_index(0).map_err(xlsx)?;
            if points {
                if let Some(Geometry { shape: Shape::Point(c), has_z }) = &f.geometry {
                    if !(c[0].is_nan() && c[1].is_nan()) {
                        sheet.write_number(row, 0, c[0]).map_err(xlsx)?;
                        sheet.write_number(row, 1, c[1]).map_err(xlsx)?;
                        if z && *has_z {
                            sheet.write_number(row, 2, c[2]).map_err(xlsx)?;
                        }
                    }
                }
            } else if f.geometry.is_some() {
                sheet.write_string(row, 0, String::from_utf8_lossy(&wkt)).map_err(xlsx)?;
            }
            for (i, v) in f.attributes.iter().enumerate() {
                let col = offset + i as u16;
                match v {
                    Value::Null => {}
                    Value::Integer(n) if n.unsigned_abs() <= MAX_EXACT as u64 => {
                        sheet.write_number(row, col, *n as f64).map_err(xlsx)?;
                    }
                    Value::Integer(n) => {
                        self.big_integers += 1;
                        sheet.write_string(row, col, n.to_string()).map_err(xlsx)?;
                    }
                    Value::Real(r) => {
                        sheet.write_number(row, col, *r).map_err(xlsx)?;
                    }
                    Value::Text(t) => {
                        sheet.write_string(row, col, t).map_err(xlsx)?;
                    }
                    Value::Boolean(b) => {
                        sheet.write_boolean(row, col, *b).map_err(xlsx)?;
                    }
                    Value::Date(d) => match ExcelDateTime::parse_from_str(d) {
                        Ok(dt) => {
                            sheet
                                .write_datetime_with_format(row, col, dt, &self.date)
                                .map_err(xlsx)?;
                        }
                        Err(_) => {
                            sheet.write_string(row, col, d).map_err(xlsx)?;
                        }
                    },
                }
            }
            self.row += 1;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>, report: &mut ConvertReport) -> Result<(), ConvertError> {
        let path = self.path.clone();
        let io = |source| ConvertError::Io { path: path.clone(), source };
        if self.big_integers > 0 {
            self.warnings.push(format!(
                "{} integer(s) beyond ±2^53, which an Excel number cannot hold exactly, were \
                 written as text",
                self.big_integers
            ));
        }
        let mut file = AtomicFile::create(&self.path).map_err(io)?;
        self.workbook
            .save_to_writer(file.writer())
            .map_err(|e| io(std::io::Error::other(format!("writing the workbook: {e}"))))?;
        report.warnings.append(&mut self.warnings);
        report.outputs.push(file.commit().map_err(io)?);
        Ok(())
    }
}
