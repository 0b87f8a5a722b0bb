//! MapInfo MIF/MID sets in conversions between formats.
//!
//! **Reading.** Each object of the `.mif` is a feature, its attributes the `.mid` row of the
//! same position, typed by the header's `Columns`: `Integer`, `SmallInt`, `LargeInt` →
//! integer; `Float`, `Decimal` → real; `Logical` (`T`/`F`) → boolean; `Date` (`YYYYMMDD`) →
//! date; `Char` and every other type → text. An empty cell is null (MapInfo has no null: an
//! empty `Char` reads as null too); a cell that is not of its column's type fails its
//! feature. Text is decoded in the header's `Charset` (`WindowsSimpChinese`: GBK; `UTF-8`;
//! anything else as UTF-8, falling back to GB 18030), or in
//! [`ConvertOptions::encoding`](super::super::ConvertOptions::encoding) when given. A missing
//! `.mid` gives null attributes (a warning says so); a `.mid` with fewer rows than objects,
//! null attributes for the objects past its end (a warning counts them).
//!
//! Objects: `Point` → point; `Line` → line string; `Pline` → line string, `Pline Multiple` →
//! multi-line string; `Region` → polygon, or multi-polygon when it holds several outer rings
//! (each ring is an outer ring or a hole by how many other rings contain its first vertex: an
//! odd number makes it a hole of the innermost outer ring around it; rings are closed when
//! their last point is not their first); `Multipoint` → multi-point; `Rect` → its box as a
//! polygon; `Collection` → a geometry collection of its parts; `None` → no geometry. Refused
//! (each a failure `line 12 (object 5, Arc)`; [`ConvertOptions::skip_invalid`] leaves it out and
//! lists it): `Arc`, `Ellipse` and `RoundRect`, which are curves (not densified: convert them to
//! regions or polylines in MapInfo first), and `Text` (a label, not a map feature). Style
//! clauses (`Pen`, `Brush`, `Symbol`, `Smooth`, `Center`, `Label`) are not carried (a warning
//! counts the objects with a `Center` or `Label` point). MIF is 2D.
//!
//! **Writing.** `Version 300`, `Charset "WindowsSimpChinese"` (text in GBK, as Chinese
//! MapInfo and GDAL read it; a text GBK cannot hold stops the conversion naming the feature),
//! `Delimiter ","`, the target's `CoordSys` (as a same-format conversion writes it; a target
//! with only a NonEarth CoordSys is refused here), `Columns` from the fields (`FID Integer`,
//! the feature's number, when there are none): integer →
//! `Integer` (a value beyond 32 bits stops the conversion), real → `Float`, text → `Char(254)`
//! (a longer text stops it), boolean → `Logical`, date → `Date`. A field name is kept when it
//! is letters, digits and `_` (at most 31 characters, not starting with a digit); otherwise
//! the other characters become `_` (a warning lists the renamed fields). Geometries: point →
//! `Point`, line string → `Pline`, multi-line string → `Pline Multiple`, polygon and
//! multi-polygon → `Region` with all their rings, multi-point → `Multipoint`, a collection →
//! `Collection` of at most one `Region`, one `Pline Multiple` and one `Multipoint` (its
//! members merged by type, nested collections flattened), no geometry → `None`. Heights are
//! not written (MIF has no z; a warning counts the 3D geometries). The `.mid` gets one row a
//! feature: numbers as text (reals in the shortest round-trip form), text quoted with `"`
//! doubled, booleans `T`/`F`, dates `YYYYMMDD`, null as an empty cell. Coordinates: the
//! shortest round-trip form, or [`ConvertOptions::precision`]. The set is written through an
//! [`AtomicSet`]: nothing is left behind on failure.
//!
//! [`ConvertOptions::skip_invalid`]: super::super::ConvertOptions::skip_invalid
//! [`ConvertOptions::precision`]: super::super::ConvertOptions::precision

use super::super::atomic::AtomicSet;
use super::super::features::{
    Coord, Counted, Counter, Feature, FeatureReader, FeatureWriter, Field, FieldType, Geometry,
    Read, Schema, Shape, Value,
};
use super::super::mif::{
    mid_of, read_header, target_coordsys, tokens, Lines, MifObject, ObjectReader, Piece,
    TargetCoordSys, SET_FAMILY,
};
use super::super::text::{self, UTF8_BOM};
use super::super::{ConvertError, ConvertReport, Failure, Job, TextEncoding, MAX_RECORD_BYTES};
use super::Digits;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

// ------------------------------------------------------------------------------------------
// Reading.

/// What the header says about the attributes.
struct Layout {
    columns: Vec<FieldType>,
    delimiter: u8,
    encoding: TextEncoding,
}

/// The `.mif`'s objects, from after `Data`.
type Objects<'p> = ObjectReader<'p, BufReader<Counted<std::fs::File>>>;

/// The objects, the layout, and the counter of the `.mif`'s bytes read.
fn open<'a>(job: &Job<'a>) -> Result<(Objects<'a>, Layout, Counter), ConvertError> {
    super::super::format::of(super::super::FileFormat::Mif).require_regular_members(job.input)?;
    let (file, read) = Counted::new(super::super::open_regular(job.input)?);
    let mut lines = Lines::new(BufReader::with_capacity(1 << 20, file), job.input);
    let header = read_header(&mut lines)?;
    let mut all = header.before.clone();
    all.extend_from_slice(&header.after);
    let layout = layout(&all, job.options.encoding);
    Ok((ObjectReader { lines }, layout, read))
}

/// The columns, delimiter and charset of a header's text.
fn layout(header: &[u8], encoding: Option<TextEncoding>) -> Layout {
    let mut layout = Layout { columns: Vec::new(), delimiter: b'\t', encoding: TextEncoding::Utf8 };
    let mut charset = String::new();
    let mut columns_left = 0usize;
    let mut toks = Vec::new();
    for line in header.split(|&b| b == b'\n') {
        let line = line.strip_prefix(UTF8_BOM).unwrap_or(line);
        toks.clear();
        tokens(line, 0, &mut toks);
        let word = |i: usize| toks.get(i).map(|t| &line[t.range.clone()]);
        let unquote = |w: &[u8]| {
            let w = w.strip_prefix(b"\"").unwrap_or(w);
            w.strip_suffix(b"\"").unwrap_or(w).to_vec()
        };
        if columns_left > 0 {
            columns_left -= 1;
            let kind = word(1).map(|w| String::from_utf8_lossy(w).to_ascii_lowercase());
            let kind = match kind.as_deref() {
                Some("integer" | "smallint" | "largeint") => FieldType::Integer,
                Some("float" | "decimal") => FieldType::Real,
                Some("logical") => FieldType::Boolean,
                Some("date") => FieldType::Date,
                _ => FieldType::Text,
            };
            layout.columns.push(kind);
            continue;
        }
        let keyword = word(0).map(|w| String::from_utf8_lossy(w).to_ascii_lowercase());
        match keyword.as_deref() {
            Some("charset") => {
                charset = String::from_utf8_lossy(&unquote(word(1).unwrap_or_default()))
                    .to_ascii_lowercase()
            }
            Some("delimiter") => {
                if let Some(&d) = unquote(word(1).unwrap_or_default()).first() {
                    layout.delimiter = d;
                }
            }
            Some("columns") => {
                columns_left = word(1)
                    .and_then(|w| std::str::from_utf8(w).ok())
                    .and_then(|w| w.parse().ok())
                    .unwrap_or(0)
            }
            _ => {}
        }
    }
    layout.encoding = encoding.unwrap_or(match charset.as_str() {
        "windowssimpchinese" => TextEncoding::Gbk,
        _ => TextEncoding::Utf8,
    });
    layout
}

/// `raw` in `encoding`, or UTF-8 falling back to GB 18030, or lossily.
fn decode_lenient(raw: &[u8], encoding: Option<TextEncoding>) -> String {
    let tries = match encoding {
        Some(e) => vec![e],
        None => vec![TextEncoding::Utf8, TextEncoding::Gb18030],
    };
    for e in tries {
        if let Ok(t) = text::decode(raw, e) {
            return t.into_owned();
        }
    }
    String::from_utf8_lossy(raw).into_owned()
}

/// The reader of a MIF/MID input (see the module docs).
pub(crate) fn reader<'a>(job: &Job<'a>) -> Result<Box<dyn FeatureReader + 'a>, ConvertError> {
    let (mut first, layout, _) = open(job)?;
    let mut schema = Schema::default();
    while let Some(object) = first.next()? {
        if let Ok(Some(g)) = geometry(&object) {
            schema.add_geometry(&g);
        }
    }
    // Column names in the header's charset.
    let file = super::super::open_regular(job.input)?;
    let mut raw_header = Vec::new();
    {
        let mut lines = Lines::new(BufReader::new(file), job.input);
        let h = read_header(&mut lines)?;
        raw_header.extend_from_slice(&h.before);
        raw_header.extend_from_slice(&h.after);
    }
    let names = column_names(&raw_header, layout.encoding);
    schema.fields = layout
        .columns
        .iter()
        .enumerate()
        .map(|(i, kind)| Field { name: names.get(i).cloned().unwrap_or_default(), kind: *kind })
        .collect();
    let (objects, _, read) = open(job)?;
    let mut warnings = Vec::new();
    let mid = match mid_of(job.input) {
        Some(path) => Some(MidRows::open(path, layout.delimiter)?),
        None => {
            warnings.push(format!(
                "{}: no .mid beside the .mif: the features have null attributes",
                job.input.display()
            ));
            None
        }
    };
    Ok(Box::new(Reader {
        objects,
        read,
        layout,
        schema,
        mid,
        index: 0,
        missing_rows: 0,
        clauses: 0,
        warnings,
    }))
}

/// The column names of a header, decoded in `encoding`.
fn column_names(header: &[u8], encoding: TextEncoding) -> Vec<String> {
    let mut out = Vec::new();
    let mut left = 0usize;
    let mut toks = Vec::new();
    for line in header.split(|&b| b == b'\n') {
        toks.clear();
        tokens(line, 0, &mut toks);
        let word = |i: usize| toks.get(i).map(|t| &line[t.range.clone()]);
        if left > 0 {
            left -= 1;
            out.push(decode_lenient(word(0).unwrap_or_default(), Some(encoding)));
            continue;
        }
        if word(0).is_some_and(|w| w.eq_ignore_ascii_case(b"columns")) {
            left = word(1)
                .and_then(|w| std::str::from_utf8(w).ok())
                .and_then(|w| w.parse().ok())
                .unwrap_or(0);
        }
    }
    out
}

/// A `.mid` row: its cells and its first line.
type Row = (Vec<Vec<u8>>, u64);

/// The rows of a `.mid`.
struct MidRows {
    input: BufReader<std::fs::File>,
    path: PathBuf,
    delimiter: u8,
    line: u64,
}

impl MidRows {
    fn open(path: PathBuf, delimiter: u8) -> Result<Self, ConvertError> {
        let file = super::super::open_regular(&path)?;
        Ok(Self { input: BufReader::with_capacity(1 << 20, file), path, delimiter, line: 0 })
    }

    /// The next row's cells (quotes removed, `""` → `"`), and its line; `None` at the end.
    fn next(&mut self) -> Result<Option<Row>, ConvertError> {
        let mut row = Vec::new();
        let start = self.line + 1;
        loop {
            let at = row.len();
            let n = text::read_line_bounded(&mut self.input, &mut row, MAX_RECORD_BYTES)
                .map_err(|source| ConvertError::Io { path: self.path.clone(), source })?;
            if n == 0 {
                if row.is_empty() {
                    return Ok(None);
                }
                break;
            }
            self.line += 1;
            if row.len() - at >= MAX_RECORD_BYTES as usize && !row.ends_with(b"\n") {
                return Err(ConvertError::Malformed {
                    path: self.path.clone(),
                    location: format!("line {}", self.line),
                    message: format!("a row longer than {} MiB", MAX_RECORD_BYTES >> 20),
                });
            }
            // A quote left open continues the row on the next line.
            if row.iter().filter(|&&b| b == b'"').count() % 2 == 0 {
                break;
            }
        }
        if self.line == start && start == 1 {
            if let Some(rest) = row.strip_prefix(UTF8_BOM) {
                row = rest.to_vec();
            }
        }
        while matches!(row.last(), Some(b'\n' | b'\r')) {
            row.pop();
        }
        let mut cells = vec![Vec::new()];
        let mut quoted = false;
        let mut i = 0;
        while i < row.len() {
            let b = row[i];
            let cell = cells.last_mut();
            match (b, quoted) {
                (b'"', true) if row.get(i + 1) == Some(&b'"') => {
                    if let Some(c) = cell {
                        c.push(b'"');
                    }
                    i += 1;
                }
                (b'"', _) => quoted = !quoted,
                (d, false) if d == self.delimiter => cells.push(Vec::new()),
                (b, _) => {
                    if let Some(c) = cell {
                        c.push(b);
                    }
                }
            }
            i += 1;
        }
        Ok(Some((cells, start)))
    }
}

struct Reader<'p> {
    objects: Objects<'p>,
    /// Bytes of the `.mif` read.
    read: Counter,
    layout: Layout,
    schema: Schema,
    mid: Option<MidRows>,
    /// Objects read so far.
    index: u64,
    missing_rows: u64,
    /// Objects with a `Center` or `Label` point.
    clauses: u64,
    warnings: Vec<String>,
}

impl FeatureReader for Reader<'_> {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn consumed(&self) -> u64 {
        self.read.get()
    }

    fn next(&mut self) -> Result<Option<Read>, ConvertError> {
        let object = loop {
            let Some(o) = self.objects.next()? else { return Ok(None) };
            if !o.kind.is_empty() {
                break o; // not the blank lines at the end
            }
        };
        self.index += 1;
        let location = format!("line {} (object {}, {})", object.line, self.index, object.kind);
        let row = match &mut self.mid {
            Some(mid) => mid.next()?,
            None => None,
        };
        if row.is_none() && self.mid.is_some() {
            self.missing_rows += 1;
        }
        let geometry = match geometry(&object) {
            Ok(g) => g,
            Err(reason) => return Ok(Some(Err(Failure { location, reason }))),
        };
        let used: usize = object.pieces.iter().map(|p| 2 * p.counts.iter().sum::<usize>()).sum();
        self.clauses += u64::from(object.values.len() > used);
        let mut attributes = Vec::with_capacity(self.schema.fields.len());
        for (i, field) in self.schema.fields.iter().enumerate() {
            let cell = row.as_ref().and_then(|(cells, _)| cells.get(i));
            let raw = cell.map(|c| c.trim_ascii()).unwrap_or_default();
            match cell_value(raw, field.kind, self.layout.encoding) {
                Ok(v) => attributes.push(v),
                Err(why) => {
                    let at = row.as_ref().map_or(0, |(_, l)| *l);
                    let reason = format!(".mid line {at}, column '{}': {why}", field.name);
                    return Ok(Some(Err(Failure { location, reason })));
                }
            }
        }
        Ok(Some(Ok(Feature { location, geometry, attributes })))
    }

    fn warnings(&mut self) -> Vec<String> {
        let mut w = std::mem::take(&mut self.warnings);
        if self.missing_rows > 0 {
            w.push(format!(
                "the .mid has {} row(s) fewer than the .mif has objects: those objects have null \
                 attributes",
                self.missing_rows
            ));
        }
        if self.clauses > 0 {
            w.push(format!(
                "{} object(s) have a Center or Label point (display settings), not carried",
                self.clauses
            ));
        }
        w
    }
}

/// A `.mid` cell as a value of a field of type `kind`.
fn cell_value(raw: &[u8], kind: FieldType, encoding: TextEncoding) -> Result<Value, String> {
    if raw.is_empty() {
        return Ok(Value::Null);
    }
    let ascii = || String::from_utf8_lossy(raw).into_owned();
    let bad = |what: &str| format!("'{}' is not {what}", text::shown(raw));
    Ok(match kind {
        FieldType::Integer => Value::Integer(ascii().parse().map_err(|_| bad("an integer"))?),
        FieldType::Real => Value::Real(
            ascii().parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| bad("a number"))?,
        ),
        FieldType::Boolean => match raw {
            b"T" | b"t" | b"1" => Value::Boolean(true),
            b"F" | b"f" | b"0" => Value::Boolean(false),
            _ => return Err(bad("a logical value (T or F)")),
        },
        FieldType::Date => {
            let s = ascii();
            if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("a date (YYYYMMDD)"));
            }
            Value::Date(format!("{}-{}-{}", &s[..4], &s[4..6], &s[6..]))
        }
        FieldType::Text => Value::Text(
            text::decode(raw, encoding)
                .map(|t| t.into_owned())
                .map_err(|_| bad("text in the file's charset"))?,
        ),
    })
}

/// The geometry of an object; `Err`: why it is refused.
fn geometry(object: &MifObject) -> Result<Option<Geometry>, String> {
    let pieces = &object.pieces;
    let shape = match pieces.last() {
        None => return Ok(None),
        Some(p) if p.kind == "collection" => {
            let parts = &pieces[..pieces.len() - 1];
            let shapes: Result<Vec<Shape>, String> =
                parts.iter().filter_map(|p| piece_shape(object, p).transpose()).collect();
            Shape::GeometryCollection(shapes?)
        }
        Some(p) => match piece_shape(object, p)? {
            Some(s) => s,
            None => return Ok(None),
        },
    };
    Ok(Some(Geometry { shape, has_z: false }))
}

/// The shape of one piece of `object`.
fn piece_shape(object: &MifObject, piece: &Piece) -> Result<Option<Shape>, String> {
    let v = &object.values;
    let point = |i: usize| -> Coord {
        let at = piece.start + 2 * i;
        [v.get(at).copied().unwrap_or(f64::NAN), v.get(at + 1).copied().unwrap_or(f64::NAN), 0.0]
    };
    let mut sections = Vec::with_capacity(piece.counts.len());
    let mut next = 0;
    for &n in &piece.counts {
        sections.push((next..next + n).map(point).collect::<Vec<Coord>>());
        next += n;
    }
    let mut sections = sections.into_iter();
    let first = |s: &mut std::vec::IntoIter<Vec<Coord>>| s.next().unwrap_or_default();
    Ok(Some(match piece.kind {
        "none" => return Ok(None),
        "point" => Shape::Point(point(0)),
        "line" | "pline" => Shape::LineString(first(&mut sections)),
        "pline multiple" => Shape::MultiLineString(sections.collect()),
        "multipoint" => Shape::MultiPoint(first(&mut sections)),
        "region" => region(sections.collect()),
        "rect" => {
            let (a, b) = (point(0), point(1));
            let ring = vec![
                [a[0], a[1], 0.0],
                [b[0], a[1], 0.0],
                [b[0], b[1], 0.0],
                [a[0], b[1], 0.0],
                [a[0], a[1], 0.0],
            ];
            Shape::Polygon(vec![ring])
        }
        "arc" | "ellipse" | "roundrect" => {
            return Err(format!(
                "{}: a curve, not densified into a feature; convert it to a region or polyline \
                 in MapInfo first, or leave it out (--skip-invalid)",
                object.kind
            ))
        }
        "text" => {
            return Err(
                "a Text object is a label, not a map feature: not read into features; leave \
                 it out (--skip-invalid)"
                    .into(),
            )
        }
        other => return Err(format!("{other}: not read into features")),
    }))
}

/// A region's rings as a polygon or multi-polygon (see the module docs).
fn region(mut rings: Vec<Vec<Coord>>) -> Shape {
    for r in &mut rings {
        if let (Some(&f), Some(&l)) = (r.first(), r.last()) {
            if f != l {
                r.push(f);
            }
        }
    }
    let depth: Vec<usize> = (0..rings.len())
        .map(|i| {
            let Some(p) = rings[i].first() else { return 0 };
            (0..rings.len()).filter(|&j| j != i && inside(p, &rings[j])).count()
        })
        .collect();
    let mut polygons: Vec<(usize, Vec<Vec<Coord>>)> = Vec::new();
    for (i, r) in rings.iter().enumerate() {
        if depth[i].is_multiple_of(2) {
            polygons.push((i, vec![r.clone()]));
        }
    }
    for (i, r) in rings.iter().enumerate() {
        if !depth[i].is_multiple_of(2) {
            // The innermost outer ring around it: the deepest one that contains it.
            let Some(p) = r.first() else { continue };
            let host = polygons
                .iter_mut()
                .filter(|(j, rs)| depth[*j] < depth[i] && rs.first().is_some_and(|o| inside(p, o)))
                .max_by_key(|(j, _)| depth[*j]);
            match host {
                Some((_, rs)) => rs.push(r.clone()),
                None => polygons.push((i, vec![r.clone()])),
            }
        }
    }
    let mut polygons: Vec<Vec<Vec<Coord>>> = polygons.into_iter().map(|(_, p)| p).collect();
    if polygons.len() == 1 {
        Shape::Polygon(polygons.pop().unwrap_or_default())
    } else {
        Shape::MultiPolygon(polygons)
    }
}

/// Whether `p` is inside `ring` (even-odd rule).
fn inside(p: &Coord, ring: &[Coord]) -> bool {
    let mut c = false;
    for w in ring.windows(2) {
        let (a, b) = (w[0], w[1]);
        if (a[1] > p[1]) != (b[1] > p[1]) {
            let x = a[0] + (p[1] - a[1]) * (b[0] - a[0]) / (b[1] - a[1]);
            if p[0] < x {
                c = !c;
            }
        }
    }
    c
}

// ------------------------------------------------------------------------------------------
// Writing.

/// The writer of a MIF/MID output (see the module docs).
pub(crate) fn writer(
    job: &Job<'_>,
    schema: &Schema,
) -> Result<Box<dyn FeatureWriter>, ConvertError> {
    let clause = match target_coordsys(job.target) {
        Ok(TargetCoordSys::Earth(clause, warning)) => (clause, warning),
        Ok(TargetCoordSys::NonEarth(why)) => {
            return Err(ConvertError::Options {
                path: job.output.to_path_buf(),
                message: format!(
                    "{} has no MapInfo earth CoordSys ({why}); a conversion from another format \
                     does not write NonEarth MIF: convert to another CRS or format",
                    job.target.id()
                ),
            })
        }
        Err(why) => {
            return Err(ConvertError::Options {
                path: job.output.to_path_buf(),
                message: format!(
                    "{} cannot be written as a MapInfo CoordSys: {why}",
                    job.target.id()
                ),
            })
        }
    };
    let io_at = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ConvertError::Io { path, source }
    };
    let mut warnings = Vec::new();
    warnings.extend(clause.1);
    // Column names.
    let mut names: Vec<String> = Vec::new();
    let mut renamed = Vec::new();
    for f in &schema.fields {
        let mut n: String = f
            .name
            .chars()
            .map(|c| if c.is_alphanumeric() || c == '_' { c } else { '_' })
            .take(31)
            .collect();
        if n.is_empty() || n.starts_with(|c: char| c.is_ascii_digit()) {
            n.insert(0, '_');
            n = n.chars().take(31).collect();
        }
        let base = n.clone();
        let mut k = 2;
        while names.iter().any(|m| m.eq_ignore_ascii_case(&n)) {
            n = format!("{}_{k}", base.chars().take(27).collect::<String>());
            k += 1;
        }
        if n != f.name {
            renamed.push(format!("'{}' as '{n}'", f.name));
        }
        names.push(n);
    }
    if !renamed.is_empty() {
        warnings.push(format!(
            "MIF column names are letters, digits and _ (at most 31): written {}",
            renamed.join(", ")
        ));
    }
    let mut header = String::from("Version 300\nCharset \"WindowsSimpChinese\"\nDelimiter \",\"\n");
    header.push_str(&clause.0);
    header.push('\n');
    // MapInfo needs at least one column: a dataset without attributes gets `FID Integer`, the
    // feature's number (as GDAL writes it).
    let fid = schema.fields.is_empty();
    header.push_str(&format!("Columns {}\n", schema.fields.len().max(1)));
    if fid {
        header.push_str("  FID Integer\n");
    }
    for (f, n) in schema.fields.iter().zip(&names) {
        let t = match f.kind {
            FieldType::Integer => "Integer",
            FieldType::Real => "Float",
            FieldType::Text => "Char(254)",
            FieldType::Boolean => "Logical",
            FieldType::Date => "Date",
        };
        header.push_str(&format!("  {n} {t}\n"));
    }
    header.push_str("Data\n\n");
    let header = text::encode(&header, TextEncoding::Gbk).map_err(|c| ConvertError::Options {
        path: job.output.to_path_buf(),
        message: format!(
            "a field name holds '{c}', which GBK (the MIF charset written) cannot hold"
        ),
    })?;
    let recovered = super::super::atomic::recover_leftovers(job.output, &SET_FAMILY)
        .map_err(io_at(job.output))?;
    warnings.extend(recovered);
    let mut set = AtomicSet::new(job.output, &SET_FAMILY).map_err(io_at(job.output))?;
    let mif_path = job.output.to_path_buf();
    let upper = mif_path.extension().and_then(|e| e.to_str()) == Some("MIF");
    let mid_path = job.output.with_extension(if upper { "MID" } else { "mid" });
    let mif = set.create(&mif_path).map_err(io_at(&mif_path))?;
    let mid = set.create(&mid_path).map_err(io_at(&mid_path))?;
    set.file(mif).writer().write_all(&header).map_err(io_at(&mif_path))?;
    Ok(Box::new(Writer {
        set: Some(set),
        mif,
        mid,
        mif_path,
        mid_path,
        kinds: schema.fields.iter().map(|f| f.kind).collect(),
        names: schema.fields.iter().map(|f| f.name.clone()).collect(),
        digits: Digits::of(job),
        warnings,
        three_d: 0,
        fid: fid.then_some(0),
        objects: Vec::new(),
        rows: Vec::new(),
    }))
}

struct Writer {
    set: Option<AtomicSet>,
    mif: usize,
    mid: usize,
    mif_path: PathBuf,
    mid_path: PathBuf,
    kinds: Vec<FieldType>,
    names: Vec<String>,
    digits: Digits,
    warnings: Vec<String>,
    three_d: u64,
    /// Without attributes: the number of the last feature written (the `FID` column).
    fid: Option<u64>,
    objects: Vec<u8>,
    rows: Vec<u8>,
}

impl Writer {
    fn refuse(&self, f: &Feature, message: String) -> ConvertError {
        ConvertError::Options {
            path: self.mif_path.clone(),
            message: format!("{}: {message}", f.location),
        }
    }

    fn pairs(&mut self, cs: &[Coord]) {
        for c in cs {
            self.digits.push_xy(&mut self.objects, c[0]);
            self.objects.push(b' ');
            self.digits.push_xy(&mut self.objects, c[1]);
            self.objects.push(b'\n');
        }
    }

    fn sections(&mut self, sections: &[&Vec<Coord>]) {
        for s in sections {
            self.objects.extend_from_slice(format!("  {}\n", s.len()).as_bytes());
            self.pairs(s);
        }
    }

    fn shape(&mut self, shape: &Shape) {
        match shape {
            Shape::Point(c) if c[0].is_nan() && c[1].is_nan() => {
                self.objects.extend_from_slice(b"None\n")
            }
            Shape::Point(c) => {
                self.objects.extend_from_slice(b"Point ");
                self.digits.push_xy(&mut self.objects, c[0]);
                self.objects.push(b' ');
                self.digits.push_xy(&mut self.objects, c[1]);
                self.objects.push(b'\n');
            }
            Shape::LineString(cs) => {
                self.objects.extend_from_slice(format!("Pline {}\n", cs.len()).as_bytes());
                self.pairs(cs);
            }
            Shape::MultiLineString(ls) => {
                self.objects.extend_from_slice(format!("Pline Multiple {}\n", ls.len()).as_bytes());
                self.sections(&ls.iter().collect::<Vec<_>>());
            }
            Shape::Polygon(rings) => {
                self.objects.extend_from_slice(format!("Region {}\n", rings.len()).as_bytes());
                self.sections(&rings.iter().collect::<Vec<_>>());
            }
            Shape::MultiPolygon(ps) => {
                let rings: Vec<&Vec<Coord>> = ps.iter().flatten().collect();
                self.objects.extend_from_slice(format!("Region {}\n", rings.len()).as_bytes());
                self.sections(&rings);
            }
            Shape::MultiPoint(cs) => {
                let cs: Vec<Coord> =
                    cs.iter().filter(|c| !(c[0].is_nan() && c[1].is_nan())).copied().collect();
                self.objects.extend_from_slice(format!("Multipoint {}\n", cs.len()).as_bytes());
                self.pairs(&cs);
            }
            Shape::GeometryCollection(_) => {
                let (mut rings, mut lines, mut points) = (Vec::new(), Vec::new(), Vec::new());
                flatten(shape, &mut rings, &mut lines, &mut points);
                let parts = usize::from(!rings.is_empty())
                    + usize::from(!lines.is_empty())
                    + usize::from(!points.is_empty());
                self.objects.extend_from_slice(format!("Collection {parts}\n").as_bytes());
                if !rings.is_empty() {
                    self.shape(&Shape::MultiPolygon(vec![rings]));
                }
                if !lines.is_empty() {
                    self.shape(&Shape::MultiLineString(lines));
                }
                if !points.is_empty() {
                    self.shape(&Shape::MultiPoint(points));
                }
            }
        }
    }

    /// Appends the `.mid` row of `f`.
    fn row(&mut self, f: &Feature) -> Result<(), ConvertError> {
        if let Some(n) = self.fid.as_mut() {
            *n += 1;
            self.rows.extend_from_slice(format!("{n}\n").as_bytes());
            return Ok(());
        }
        for (i, v) in f.attributes.iter().enumerate() {
            if i > 0 {
                self.rows.push(b',');
            }
            let kind = self.kinds.get(i).copied().unwrap_or(FieldType::Text);
            let name = self.names.get(i).cloned().unwrap_or_default();
            match (kind, v) {
                (FieldType::Text, Value::Null) => self.rows.extend_from_slice(b"\"\""),
                (_, Value::Null) => {}
                (FieldType::Integer, Value::Integer(n)) => {
                    if i32::try_from(*n).is_err() {
                        return Err(self.refuse(
                            f,
                            format!("'{name}' = {n} is beyond a MIF Integer (32 bits)"),
                        ));
                    }
                    self.rows.extend_from_slice(n.to_string().as_bytes());
                }
                (FieldType::Boolean, Value::Boolean(b)) => {
                    self.rows.push(if *b { b'T' } else { b'F' })
                }
                (FieldType::Date, Value::Date(d)) => {
                    self.rows.extend_from_slice(d.replace('-', "").as_bytes())
                }
                (FieldType::Text, v) => {
                    let t = v.to_string();
                    let bytes = text::encode(&t, TextEncoding::Gbk).map_err(|c| {
                        self.refuse(
                            f,
                            format!("'{name}' holds '{c}', which GBK (the MIF charset written) cannot hold"),
                        )
                    })?;
                    if bytes.len() > 254 {
                        return Err(self.refuse(
                            f,
                            format!("'{name}' is {} bytes long; a MIF Char holds 254", bytes.len()),
                        ));
                    }
                    self.rows.push(b'"');
                    for &b in bytes.iter() {
                        if b == b'"' {
                            self.rows.push(b'"');
                        }
                        self.rows.push(b);
                    }
                    self.rows.push(b'"');
                }
                (_, v) => self.rows.extend_from_slice(v.to_string().as_bytes()),
            }
        }
        self.rows.push(b'\n');
        Ok(())
    }
}

/// The members of a collection by type: polygon rings, lines, points.
fn flatten(
    shape: &Shape,
    polygons: &mut Vec<Vec<Coord>>,
    lines: &mut Vec<Vec<Coord>>,
    points: &mut Vec<Coord>,
) {
    match shape {
        Shape::Point(c) => points.push(*c),
        Shape::MultiPoint(cs) => points.extend(cs),
        Shape::LineString(cs) => lines.push(cs.clone()),
        Shape::MultiLineString(ls) => lines.extend(ls.iter().cloned()),
        Shape::Polygon(rs) => polygons.extend(rs.iter().cloned()),
        Shape::MultiPolygon(ps) => polygons.extend(ps.iter().flatten().cloned()),
        Shape::GeometryCollection(ss) => {
            for s in ss {
                flatten(s, polygons, lines, points);
            }
        }
    }
}

impl FeatureWriter for Writer {
    fn write(&mut self, features: &[Feature]) -> Result<(), ConvertError> {
        self.objects.clear();
        self.rows.clear();
        for f in features {
            match &f.geometry {
                None => self.objects.extend_from_slice(b"None\n"),
                Some(g) => {
                    self.three_d += u64::from(g.has_z);
                    self.shape(&g.shape);
                }
            }
            self.row(f)?;
        }
        let Some(set) = self.set.as_mut() else { return Ok(()) };
        let (mif, mid) = (self.mif, self.mid);
        set.file(mif)
            .writer()
            .write_all(&self.objects)
            .map_err(|source| ConvertError::Io { path: self.mif_path.clone(), source })?;
        set.file(mid)
            .writer()
            .write_all(&self.rows)
            .map_err(|source| ConvertError::Io { path: self.mid_path.clone(), source })
    }

    fn finish(mut self: Box<Self>, report: &mut ConvertReport) -> Result<(), ConvertError> {
        if self.three_d > 0 {
            self.warnings.push(format!(
                "{} geometries have heights, which MIF cannot hold: written in 2D",
                self.three_d
            ));
        }
        report.warnings.append(&mut self.warnings);
        if let Some(set) = self.set.take() {
            report.outputs = set
                .commit()
                .map_err(|source| ConvertError::Io { path: self.mif_path.clone(), source })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_rings_become_polygons_with_holes() {
        let square = |x0: f64, s: f64| {
            vec![[x0, x0, 0.0], [x0 + s, x0, 0.0], [x0 + s, x0 + s, 0.0], [x0, x0 + s, 0.0]]
        };
        let Shape::Polygon(p) = region(vec![square(0.0, 10.0), square(2.0, 2.0)]) else {
            panic!("one polygon with a hole")
        };
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].first(), p[0].last(), "closed");
        let Shape::MultiPolygon(m) = region(vec![square(0.0, 1.0), square(5.0, 1.0)]) else {
            panic!("two polygons")
        };
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn mid_cells_by_type() {
        assert_eq!(
            cell_value(b"20240131", FieldType::Date, TextEncoding::Gbk),
            Ok(Value::Date("2024-01-31".into()))
        );
        assert_eq!(
            cell_value(b"T", FieldType::Boolean, TextEncoding::Gbk),
            Ok(Value::Boolean(true))
        );
        assert_eq!(
            cell_value(b"\xb5\xe3", FieldType::Text, TextEncoding::Gbk),
            Ok(Value::Text("点".into()))
        );
        assert_eq!(cell_value(b"", FieldType::Integer, TextEncoding::Gbk), Ok(Value::Null));
        assert!(cell_value(b"x", FieldType::Integer, TextEncoding::Gbk).is_err());
    }
}
