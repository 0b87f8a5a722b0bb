//! Shapefile sets in conversions between formats.
//!
//! **Reading.** The `.shp` and `.shx` are read and checked as for a same-format conversion.
//! Points are points; a multipoint a MultiPoint; a polyline of one part a LineString, of more a
//! MultiLineString; a polygon's rings are grouped by their orientation, as the format defines
//! them: a clockwise ring starts a polygon, each counter-clockwise ring after it is one of its
//! holes (a counter-clockwise ring before any clockwise one starts a polygon too); one polygon
//! is a Polygon, more a MultiPolygon. Z types give 3D geometries; M values are dropped (a
//! warning says so); MultiPatch is refused. A null shape is a feature without geometry. A first
//! pass over the `.shp` finds the geometry types.
//!
//! The `.dbf` (dBASE III): fields `C` → text, `N` / `F` without decimals and at most 18 wide →
//! integer, other `N` / `F` → real, `L` → boolean (`?` or blank: null), `D` → date
//! (`YYYYMMDD` → `YYYY-MM-DD`, blank: null), other types (memo, ...) not carried (a warning).
//! Blank values are null (as GDAL reads them); text is trimmed of its padding spaces. Text is decoded in
//! [`ConvertOptions::encoding`](super::super::ConvertOptions::encoding), else the `.cpg`'s
//! (UTF-8, GBK / CP936 / 936, GB18030), else the language driver byte (0x4D, 0x7A: GBK), else
//! UTF-8; a value that is not valid there is `Malformed` naming the record and field. Rows pair
//! with records by position; a missing `.dbf` gives features without attributes (a warning).
//!
//! **Writing.** `.shp`, `.shx`, `.dbf`, `.cpg` (`UTF-8`) and `.prj` (the target's WKT 1, as a
//! same-format conversion writes it; none, with a warning, when WKT cannot express the
//! target), into a temporary folder committed as a set ([`AtomicSet`]), stale sidecars of an
//! older set removed. One geometry type per file, from the first feature with a geometry:
//! Point → Point, MultiPoint → MultiPoint, LineString and MultiLineString → PolyLine, Polygon and
//! MultiPolygon → Polygon (Z types when any geometry has z; a 2D geometry in a Z file gets
//! z = 0, counted in a warning). A feature of another type stops the conversion with an error
//! naming it (nothing written); GeometryCollections cannot be written. Polygon rings are
//! written clockwise (exteriors) and counter-clockwise (holes), reversed where needed. A feature
//! without geometry (or an empty one) is a null shape.
//!
//! The `.dbf` is UTF-8: text `C` 254 bytes (longer text is cut at a character boundary, with a
//! warning), integer `N` 18.0, real `N` 24.15 (the value in the shortest round-trip form, as
//! GDAL reads it), boolean `L`, date `D`. Field names hold at most 10 bytes: a longer name is cut
//! at a character boundary, and a name taken (ignoring case) gets a `_2`, `_3`, ... suffix within
//! the 10 bytes; each renamed field is reported in a warning. An integer of more than 18
//! characters, or a date not written `YYYY-MM-DD`, cannot be stored and stops the conversion
//! with an error naming the feature.

use super::super::atomic::AtomicSet;
use super::super::features::{
    Coord, Feature, FeatureReader, FeatureWriter, Field, FieldType, Geometry, GeometryKind, Read,
    Schema, Shape, Value,
};
use super::super::shapefile::{
    output_sibling, refuse_folders_in_the_set, RecordShape, Records, SET_FAMILY,
};
use super::super::text::{self, Number};
use super::super::wkb::Envelope;
use super::super::{ConvertError, ConvertReport, Job, TextEncoding};
use std::fs::File;
use std::io::{self, BufReader, Read as _, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The reader of a Shapefile set (see the module docs).
pub(crate) fn reader<'a>(job: &Job<'a>) -> Result<Box<dyn FeatureReader + 'a>, ConvertError> {
    let input = job.input;
    let mut records = Records::open(job)?;
    let file_type = records.file_type();
    if file_type == 31 {
        return Err(ConvertError::Options {
            path: input.to_path_buf(),
            message: "MultiPatch shapes are not converted into other formats".into(),
        });
    }
    let mut schema = Schema::default();
    while let Some((_, shape)) = records.next(input)? {
        if let Some(Ok(g)) = shape.map(geometry) {
            schema.add_geometry(&g);
        }
    }
    let records = Records::open(job)?;
    let mut warnings = Vec::new();
    if matches!(file_type, 21 | 23 | 25 | 28) {
        warnings.push("the Shapefile's M values are not carried (dropped)".to_string());
    }
    let dbf = match &records.dbf {
        Some(path) => {
            let encoding = job.options.encoding.or_else(|| cpg_encoding(records.cpg.as_deref()));
            Some(Dbf::open(path, encoding, &mut warnings)?)
        }
        None => {
            warnings.push(format!(
                "{}: no .dbf beside the .shp; the features have no attributes",
                input.display()
            ));
            None
        }
    };
    if let Some(d) = &dbf {
        schema.fields = d.fields.iter().map(|f| f.field.clone()).collect();
    }
    Ok(Box::new(Reader { input, records, dbf, schema, warnings, rows_missing: 0 }))
}

/// The encoding a `.cpg` names, if it names one geounify reads.
fn cpg_encoding(cpg: Option<&Path>) -> Option<TextEncoding> {
    let text = std::fs::read(cpg?).ok()?;
    let name = String::from_utf8_lossy(text.get(..text.len().min(64))?).trim().to_string();
    TextEncoding::parse(&name).or_else(|| {
        let n = name.to_ascii_uppercase();
        (n == "CP936" || n == "936" || n == "GBK").then_some(TextEncoding::Gbk)
    })
}

/// A record's geometry (`Err`: malformed parts).
fn geometry(s: RecordShape) -> Result<Geometry, String> {
    let has_z = matches!(s.shape_type, 11 | 13 | 15 | 18);
    let parts = || -> Result<Vec<Vec<Coord>>, String> {
        let mut out = Vec::with_capacity(s.parts.len());
        for (i, &start) in s.parts.iter().enumerate() {
            let end = s.parts.get(i + 1).copied().unwrap_or(s.points.len());
            let part = s
                .points
                .get(start..end)
                .ok_or_else(|| format!("part {} starts after the next part", i + 1))?;
            out.push(part.to_vec());
        }
        Ok(out)
    };
    let shape = match s.shape_type {
        1 | 11 | 21 => Shape::Point(s.points.first().copied().unwrap_or([f64::NAN; 3])),
        8 | 18 | 28 => Shape::MultiPoint(s.points.clone()),
        3 | 13 | 23 => {
            let mut lines = parts()?;
            if lines.len() == 1 {
                Shape::LineString(lines.pop().unwrap_or_default())
            } else {
                Shape::MultiLineString(lines)
            }
        }
        _ => {
            let mut polygons: Vec<Vec<Vec<Coord>>> = Vec::new();
            for ring in parts()? {
                match polygons.last_mut() {
                    Some(p) if signed_area(&ring) > 0.0 => p.push(ring),
                    _ => polygons.push(vec![ring]),
                }
            }
            if polygons.len() == 1 {
                Shape::Polygon(polygons.pop().unwrap_or_default())
            } else {
                Shape::MultiPolygon(polygons)
            }
        }
    };
    Ok(Geometry { shape, has_z })
}

/// Twice the signed area of a ring in x/y: positive counter-clockwise, negative clockwise.
fn signed_area(ring: &[Coord]) -> f64 {
    ring.windows(2).map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1]).sum()
}

struct Reader<'p> {
    input: &'p Path,
    records: Records,
    dbf: Option<Dbf>,
    schema: Schema,
    warnings: Vec<String>,
    rows_missing: u64,
}

impl FeatureReader for Reader<'_> {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn next(&mut self) -> Result<Option<Read>, ConvertError> {
        let Some((n, shape)) = self.records.next(self.input)? else { return Ok(None) };
        let location = format!("record {n}");
        let geometry = match shape.map(geometry) {
            None => None,
            Some(Ok(g)) => Some(g),
            Some(Err(message)) => {
                return Err(ConvertError::Malformed {
                    path: self.input.to_path_buf(),
                    location,
                    message,
                })
            }
        };
        let attributes = match self.dbf.as_mut() {
            Some(d) => match d.row(n)? {
                Some(values) => values,
                None => {
                    self.rows_missing += 1;
                    vec![Value::Null; self.schema.fields.len()]
                }
            },
            None => Vec::new(),
        };
        Ok(Some(Ok(Feature { location, geometry, attributes })))
    }

    fn consumed(&self) -> u64 {
        self.records.consumed()
    }

    fn warnings(&mut self) -> Vec<String> {
        let mut w = std::mem::take(&mut self.warnings);
        if self.rows_missing > 0 {
            w.push(format!(
                "the .dbf has fewer rows than the .shp has records: {} feature(s) have null \
                 attributes",
                self.rows_missing
            ));
        }
        w
    }
}

/// A field of a `.dbf` being read.
struct DbfField {
    field: Field,
    /// `C`, `N`, `F`, `L`, `D`; others are skipped.
    code: u8,
    offset: usize,
    width: usize,
    carried: bool,
}

/// A `.dbf` read row by row.
struct Dbf {
    path: PathBuf,
    input: BufReader<File>,
    fields: Vec<DbfField>,
    rows: u64,
    encoding: TextEncoding,
    buf: Vec<u8>,
}

impl Dbf {
    fn open(
        path: &Path,
        encoding: Option<TextEncoding>,
        warnings: &mut Vec<String>,
    ) -> Result<Self, ConvertError> {
        let io = |source| ConvertError::Io { path: path.to_path_buf(), source };
        let malformed = |message: String| ConvertError::Malformed {
            path: path.to_path_buf(),
            location: "header".into(),
            message,
        };
        let mut input = BufReader::new(super::super::open_regular(path)?);
        let size = input.get_ref().metadata().map_err(io)?.len();
        let mut head = [0u8; 32];
        input
            .read_exact(&mut head)
            .map_err(|_| malformed(format!("{size} bytes is no dBASE file")))?;
        let rows = u64::from(u32::from_le_bytes([head[4], head[5], head[6], head[7]]));
        let header_len = usize::from(u16::from_le_bytes([head[8], head[9]]));
        let row_len = usize::from(u16::from_le_bytes([head[10], head[11]]));
        if header_len < 33 || (header_len as u64 + rows * row_len as u64) > size {
            return Err(malformed(format!(
                "the header declares {rows} rows of {row_len} bytes after {header_len} bytes, \
                 more than the file's {size}"
            )));
        }
        let encoding = encoding.unwrap_or(match head[29] {
            0x4D | 0x7A => TextEncoding::Gbk,
            _ => TextEncoding::Utf8,
        });
        let mut descriptors = vec![0u8; header_len - 32];
        input.read_exact(&mut descriptors).map_err(io)?;
        let mut all = Vec::new();
        let mut offset = 1;
        for d in descriptors.chunks_exact(32) {
            if d[0] == 0x0D {
                break;
            }
            let raw_name = &d[..11];
            let end = raw_name.iter().position(|&b| b == 0).unwrap_or(11);
            let name = text::decode(&raw_name[..end], encoding)
                .map(|n| n.trim().to_string())
                .unwrap_or_else(|_| String::from_utf8_lossy(&raw_name[..end]).trim().to_string());
            let (code, width, decimals) = (d[11], usize::from(d[16]), d[17]);
            let kind = match code {
                b'C' => Some(FieldType::Text),
                b'N' | b'F' if decimals == 0 && width <= 18 => Some(FieldType::Integer),
                b'N' | b'F' => Some(FieldType::Real),
                b'L' => Some(FieldType::Boolean),
                b'D' => Some(FieldType::Date),
                _ => None,
            };
            if kind.is_none() {
                warnings.push(format!(
                    "{}: field {name} of type '{}' is not carried",
                    path.display(),
                    char::from(code)
                ));
            }
            all.push(DbfField {
                field: Field { name, kind: kind.unwrap_or(FieldType::Text) },
                code,
                offset,
                width,
                carried: kind.is_some(),
            });
            offset += width;
        }
        if offset > row_len.max(1) {
            return Err(malformed(format!(
                "the fields take {offset} bytes but a row has {row_len}"
            )));
        }
        input.seek(SeekFrom::Start(header_len as u64)).map_err(io)?;
        let fields = all.into_iter().filter(|f| f.carried).collect();
        Ok(Self { path: path.to_path_buf(), input, fields, rows, encoding, buf: vec![0; row_len] })
    }

    /// Row `n` (1-based; rows are read in order), `None` past the last row.
    fn row(&mut self, n: u64) -> Result<Option<Vec<Value>>, ConvertError> {
        if n > self.rows {
            return Ok(None);
        }
        let path = self.path.clone();
        self.input
            .read_exact(&mut self.buf)
            .map_err(|source| ConvertError::Io { path: path.clone(), source })?;
        let mut values = Vec::with_capacity(self.fields.len());
        for f in &self.fields {
            let raw = self.buf.get(f.offset..f.offset + f.width).unwrap_or_default();
            let malformed = |message: String| ConvertError::Malformed {
                path: path.clone(),
                location: format!("record {n}, field {}", f.field.name),
                message,
            };
            let ascii = || String::from_utf8_lossy(raw).trim().to_string();
            let v = match f.code {
                b'C' => {
                    let t = text::decode(raw, self.encoding).map_err(|at| {
                        malformed(format!(
                            "text that is not valid {:?} (byte {}); give the encoding with \
                             --encoding",
                            self.encoding,
                            at + 1
                        ))
                    })?;
                    // Blank is null, as GDAL reads it (dBASE has no null text).
                    match t.trim_end_matches([' ', '\0']) {
                        "" => Value::Null,
                        t => Value::Text(t.to_string()),
                    }
                }
                b'N' | b'F' => {
                    let t = ascii();
                    if t.is_empty() || t.chars().all(|c| c == '*') {
                        Value::Null
                    } else if f.field.kind == FieldType::Integer {
                        match t.parse::<i64>() {
                            Ok(i) => Value::Integer(i),
                            Err(_) => t
                                .parse::<f64>()
                                .map(Value::Real)
                                .map_err(|_| malformed(format!("'{t}' is not a number")))?,
                        }
                    } else {
                        t.parse::<f64>()
                            .map(Value::Real)
                            .map_err(|_| malformed(format!("'{t}' is not a number")))?
                    }
                }
                b'L' => match ascii().as_str() {
                    "T" | "t" | "Y" | "y" => Value::Boolean(true),
                    "F" | "f" | "N" | "n" => Value::Boolean(false),
                    _ => Value::Null,
                },
                b'D' => {
                    let t = ascii();
                    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
                        Value::Date(format!("{}-{}-{}", &t[..4], &t[4..6], &t[6..]))
                    } else if t.is_empty() || t.bytes().all(|b| b == b'0') {
                        Value::Null
                    } else {
                        Value::Text(t)
                    }
                }
                _ => Value::Null,
            };
            values.push(v);
        }
        Ok(Some(values))
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

const HEADER_LEN: usize = 100;

/// The writer of a Shapefile set (see the module docs).
pub(crate) fn writer(
    job: &Job<'_>,
    schema: &Schema,
) -> Result<Box<dyn FeatureWriter>, ConvertError> {
    let output = job.output;
    let io_at = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ConvertError::Io { path, source }
    };
    let first = schema.kinds.first().copied();
    if first == Some(GeometryKind::GeometryCollection) {
        return Err(ConvertError::Options {
            path: output.to_path_buf(),
            message: "a Shapefile cannot hold GeometryCollections; convert to GeoPackage or \
                      GeoJSON"
                .into(),
        });
    }
    let base = match first {
        None | Some(GeometryKind::Point) => 1,
        Some(GeometryKind::MultiPoint) => 8,
        Some(GeometryKind::LineString | GeometryKind::MultiLineString) => 3,
        Some(_) => 5,
    };
    let shape_type = if schema.has_z { base + 10 } else { base };
    refuse_folders_in_the_set(output)?;
    let mut warnings =
        super::super::atomic::recover_leftovers(output, &SET_FAMILY).map_err(io_at(output))?;
    if let Some(w) = super::precision_unused(job, "a Shapefile") {
        warnings.push(w);
    }
    let mut set = AtomicSet::new(output, &SET_FAMILY).map_err(io_at(output))?;
    let paths: Vec<PathBuf> =
        ["shp", "shx", "dbf"].iter().map(|e| output_sibling(output, e)).collect();
    let mut index = [0usize; 3];
    for (i, p) in paths.iter().enumerate() {
        index[i] = set.create(p).map_err(io_at(p))?;
    }
    for i in 0..2 {
        set.file(index[i]).writer().write_all(&[0u8; HEADER_LEN]).map_err(io_at(&paths[i]))?;
    }
    let fields = dbf_fields(&schema.fields, &mut warnings);
    // The header's length and the row length are 16-bit numbers: what does not fit is refused
    // before anything is written (it would be a corrupt table).
    let row_len = 1 + fields.iter().map(|f| f.width).sum::<usize>();
    if 32 + 32 * fields.len() + 1 > usize::from(u16::MAX) || row_len > usize::from(u16::MAX) {
        return Err(ConvertError::Options {
            path: output.to_path_buf(),
            message: format!(
                "{} attributes ({row_len} bytes a row) do not fit a dBASE table (at most 2046                  fields and 65,535 bytes a row); convert to GeoPackage or GeoJSON instead",
                fields.len()
            ),
        });
    }
    let dbf_header = dbf_header(&fields, 0);
    set.file(index[2]).writer().write_all(&dbf_header).map_err(io_at(&paths[2]))?;
    for (ext, bytes) in [("cpg", Some(b"UTF-8".to_vec())), ("prj", None)] {
        let bytes = match bytes {
            Some(b) => b,
            None => match job.target.to_wkt() {
                Ok(wkt) => wkt.into_bytes(),
                Err(e) => {
                    warnings.push(format!("no .prj written: {e}"));
                    continue;
                }
            },
        };
        let p = output_sibling(output, ext);
        let i = set.create(&p).map_err(io_at(&p))?;
        set.file(i).writer().write_all(&bytes).map_err(io_at(&p))?;
    }
    Ok(Box::new(Writer {
        set: Some(set),
        paths,
        index,
        shape_type,
        first_kind: first,
        fields,
        records: 0,
        pos: HEADER_LEN as u64,
        envelope: Envelope::default(),
        warnings,
        flat_in_z: 0,
        cut_text: 0,
        content: Vec::new(),
        row: Vec::new(),
    }))
}

/// A `.dbf` field being written.
struct OutField {
    name: [u8; 11],
    code: u8,
    width: usize,
    decimals: u8,
}

/// The `.dbf` fields of `fields`: names cut to 10 bytes and made unique (warnings), types.
fn dbf_fields(fields: &[Field], warnings: &mut Vec<String>) -> Vec<OutField> {
    let mut taken: Vec<String> = Vec::new();
    fields
        .iter()
        .map(|f| {
            let base = cut(&f.name, 10).to_string();
            let mut name = base.clone();
            let mut k = 1;
            while taken.iter().any(|t| t.eq_ignore_ascii_case(&name)) || name.is_empty() {
                k += 1;
                let suffix = format!("_{k}");
                name = format!("{}{suffix}", cut(&base, 10 - suffix.len()));
            }
            if name != f.name {
                warnings.push(format!(
                    "field '{}' is written as '{name}' (dBASE field names hold 10 bytes and are \
                     unique ignoring case)",
                    f.name
                ));
            }
            taken.push(name.clone());
            let mut bytes = [0u8; 11];
            for (b, s) in bytes.iter_mut().zip(name.as_bytes()) {
                *b = *s;
            }
            let (code, width, decimals) = match f.kind {
                FieldType::Integer => (b'N', 18, 0),
                FieldType::Real => (b'N', 24, 15),
                FieldType::Text => (b'C', 254, 0),
                FieldType::Boolean => (b'L', 1, 0),
                FieldType::Date => (b'D', 8, 0),
            };
            OutField { name: bytes, code, width, decimals }
        })
        .collect()
}

/// `s` cut to at most `max` bytes at a character boundary.
fn cut(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A dBASE III header for `fields` and `rows` rows (language driver 0: the `.cpg` says UTF-8).
fn dbf_header(fields: &[OutField], rows: u32) -> Vec<u8> {
    let header_len = 32 + 32 * fields.len() + 1;
    let row_len = 1 + fields.iter().map(|f| f.width).sum::<usize>();
    let mut h = vec![0u8; 32];
    h[0] = 0x03;
    let (y, m, d) = today();
    h[1] = y;
    h[2] = m;
    h[3] = d;
    h[4..8].copy_from_slice(&rows.to_le_bytes());
    // Both fit (checked by `writer`).
    h[8..10].copy_from_slice(&u16::try_from(header_len).unwrap_or(u16::MAX).to_le_bytes());
    h[10..12].copy_from_slice(&u16::try_from(row_len).unwrap_or(u16::MAX).to_le_bytes());
    for f in fields {
        let mut d = [0u8; 32];
        d[..11].copy_from_slice(&f.name);
        d[11] = f.code;
        d[16] = f.width as u8;
        d[17] = f.decimals;
        h.extend_from_slice(&d);
    }
    h.push(0x0D);
    h
}

/// Today's date as dBASE stores it (years since 1900, month, day), in UTC.
fn today() -> (u8, u8, u8) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    ((y - 1900).clamp(0, 255) as u8, m as u8, d as u8)
}

struct Writer {
    set: Option<AtomicSet>,
    paths: Vec<PathBuf>,
    index: [usize; 3],
    shape_type: i32,
    first_kind: Option<GeometryKind>,
    fields: Vec<OutField>,
    records: u64,
    pos: u64,
    envelope: Envelope,
    warnings: Vec<String>,
    flat_in_z: u64,
    cut_text: u64,
    content: Vec<u8>,
    row: Vec<u8>,
}

fn fits(file_kind: Option<GeometryKind>, kind: GeometryKind) -> bool {
    use GeometryKind as K;
    match file_kind {
        None => true,
        Some(K::LineString | K::MultiLineString) => {
            matches!(kind, K::LineString | K::MultiLineString)
        }
        Some(K::Polygon | K::MultiPolygon) => matches!(kind, K::Polygon | K::MultiPolygon),
        Some(k) => k == kind,
    }
}

impl Writer {
    /// The record content of `g` (a null shape for an empty geometry) into `self.content`.
    fn content(&mut self, g: Option<&Geometry>) {
        let c = &mut self.content;
        c.clear();
        let z = self.shape_type > 10;
        let mut points: Vec<Coord> = Vec::new();
        let mut parts: Vec<usize> = Vec::new();
        if let Some(g) = g {
            match &g.shape {
                Shape::Point(p) if !(p[0].is_nan() && p[1].is_nan()) => points.push(*p),
                Shape::Point(_) => {}
                Shape::MultiPoint(ps) => points.extend(ps.iter().copied()),
                Shape::LineString(l) => {
                    parts.push(0);
                    points.extend(l.iter().copied());
                }
                Shape::MultiLineString(ls) => {
                    for l in ls {
                        parts.push(points.len());
                        points.extend(l.iter().copied());
                    }
                }
                Shape::Polygon(rings) => push_rings(rings, &mut parts, &mut points),
                Shape::MultiPolygon(ps) => {
                    for rings in ps {
                        push_rings(rings, &mut parts, &mut points);
                    }
                }
                Shape::GeometryCollection(_) => {}
            }
        }
        if points.is_empty() {
            c.extend(0i32.to_le_bytes());
            return;
        }
        let mut e = Envelope::default();
        for p in &points {
            e.add(p[0], p[1], z.then_some(p[2]), None);
        }
        self.envelope.extend(&e);
        c.extend(self.shape_type.to_le_bytes());
        let base = self.shape_type % 10;
        if base == 1 {
            let p = points[0];
            c.extend(p[0].to_le_bytes());
            c.extend(p[1].to_le_bytes());
            if z {
                c.extend(p[2].to_le_bytes()); // no M: a PointZ of 28 bytes
            }
            return;
        }
        let (x, y) = (e.x.unwrap_or_default(), e.y.unwrap_or_default());
        for v in [x.0, y.0, x.1, y.1] {
            c.extend(v.to_le_bytes());
        }
        if base != 8 {
            c.extend((parts.len() as i32).to_le_bytes());
        }
        c.extend((points.len() as i32).to_le_bytes());
        for p in &parts {
            c.extend((*p as i32).to_le_bytes());
        }
        for p in &points {
            c.extend(p[0].to_le_bytes());
            c.extend(p[1].to_le_bytes());
        }
        if z {
            let zr = e.z.unwrap_or_default();
            c.extend(zr.0.to_le_bytes());
            c.extend(zr.1.to_le_bytes());
            for p in &points {
                c.extend(p[2].to_le_bytes());
            }
        }
    }

    /// The `.dbf` row of `attributes` into `self.row`. Errors: a value the field cannot hold.
    fn row(&mut self, f: &Feature) -> Result<(), String> {
        let r = &mut self.row;
        r.clear();
        r.push(b' ');
        for (field, v) in self.fields.iter().zip(&f.attributes) {
            let start = r.len();
            let name = String::from_utf8_lossy(&field.name).trim_end_matches('\0').to_string();
            let text: String = match (field.code, v) {
                (_, Value::Null) => String::new(),
                (b'L', Value::Boolean(b)) => (if *b { "T" } else { "F" }).into(),
                (b'D', Value::Date(d) | Value::Text(d)) => {
                    let digits: String = d.chars().filter(|c| *c != '-').collect();
                    if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(format!(
                            "field {name}: the date '{d}' is not written YYYY-MM-DD"
                        ));
                    }
                    digits
                }
                (b'N', Value::Real(x)) if !x.is_finite() => String::new(),
                (b'N', Value::Real(x)) => Number(*x).to_string(),
                (b'N', Value::Integer(i)) => i.to_string(),
                // A cell of another type in a numeric or logical column (a GeoPackage stores
                // what it is given) would be a corrupt dBASE value.
                (b'N' | b'L', v) => {
                    return Err(format!("field {name}: '{v}' is not a value of its column's type"))
                }
                (_, v) => v.to_string(),
            };
            let bytes = text.as_bytes();
            if field.code == b'C' {
                let kept = cut(&text, field.width);
                if kept.len() < bytes.len() {
                    self.cut_text += 1;
                }
                r.extend_from_slice(kept.as_bytes());
                r.resize(start + field.width, b' ');
            } else {
                if bytes.len() > field.width {
                    return Err(format!(
                        "field {name}: '{text}' is longer than the {} characters a dBASE \
                         number field holds",
                        field.width
                    ));
                }
                r.resize(start + field.width - bytes.len(), b' ');
                r.extend_from_slice(bytes);
            }
        }
        Ok(())
    }
}

/// Appends a polygon's rings as parts: the exterior clockwise, holes counter-clockwise.
fn push_rings(rings: &[Vec<Coord>], parts: &mut Vec<usize>, points: &mut Vec<Coord>) {
    for (i, ring) in rings.iter().enumerate() {
        parts.push(points.len());
        let clockwise = signed_area(ring) < 0.0;
        if (i == 0) == clockwise {
            points.extend(ring.iter().copied());
        } else {
            points.extend(ring.iter().rev().copied());
        }
    }
}

impl FeatureWriter for Writer {
    fn write(&mut self, features: &[Feature]) -> Result<(), ConvertError> {
        let output = self.paths[0].clone();
        for f in features {
            if let Some(g) = &f.geometry {
                let kind = g.shape.kind();
                if !fits(self.first_kind, kind) || kind == GeometryKind::GeometryCollection {
                    return Err(ConvertError::Options {
                        path: output,
                        message: format!(
                            "a Shapefile holds one geometry type: {} is a {} but the first \
                             geometry is a {}; convert to GeoPackage or GeoJSON, or split the \
                             data by type",
                            f.location,
                            kind.name(),
                            self.first_kind.map_or("", |k| k.name())
                        ),
                    });
                }
                if self.shape_type > 10 && !g.has_z {
                    self.flat_in_z += 1;
                }
            }
            self.content(f.geometry.as_ref());
            self.row(f).map_err(|message| ConvertError::Options {
                path: output.clone(),
                message: format!("{}: {message}", f.location),
            })?;
            self.records += 1;
            let Some(set) = self.set.as_mut() else { return Ok(()) };
            let words = (self.content.len() / 2) as i32;
            let number = i32::try_from(self.records).unwrap_or(i32::MAX);
            let io = |i: usize, paths: &[PathBuf]| {
                let path = paths.get(i).cloned().unwrap_or_default();
                move |source| ConvertError::Io { path, source }
            };
            let w = set.file(self.index[0]).writer();
            w.write_all(&number.to_be_bytes())
                .and_then(|_| w.write_all(&words.to_be_bytes()))
                .and_then(|_| w.write_all(&self.content))
                .map_err(io(0, &self.paths))?;
            let w = set.file(self.index[1]).writer();
            w.write_all(&((self.pos / 2) as i32).to_be_bytes())
                .and_then(|_| w.write_all(&words.to_be_bytes()))
                .map_err(io(1, &self.paths))?;
            set.file(self.index[2]).writer().write_all(&self.row).map_err(io(2, &self.paths))?;
            self.pos += 8 + self.content.len() as u64;
            if self.pos > i32::MAX as u64 * 2 {
                return Err(ConvertError::Options {
                    path: output,
                    message: "the .shp would pass 4 GiB, the format's limit; convert to \
                              GeoPackage"
                        .into(),
                });
            }
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>, report: &mut ConvertReport) -> Result<(), ConvertError> {
        let Some(mut set) = self.set.take() else { return Ok(()) };
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source: io::Error| ConvertError::Io { path, source }
        };
        let mut header = [0u8; HEADER_LEN];
        header[0..4].copy_from_slice(&9994i32.to_be_bytes());
        header[28..32].copy_from_slice(&1000i32.to_le_bytes());
        header[32..36].copy_from_slice(&self.shape_type.to_le_bytes());
        let (x, y) = (self.envelope.x.unwrap_or_default(), self.envelope.y.unwrap_or_default());
        for (k, v) in [x.0, y.0, x.1, y.1].into_iter().enumerate() {
            header[36 + 8 * k..44 + 8 * k].copy_from_slice(&v.to_le_bytes());
        }
        if self.shape_type > 10 {
            let z = self.envelope.z.unwrap_or_default();
            header[68..76].copy_from_slice(&z.0.to_le_bytes());
            header[76..84].copy_from_slice(&z.1.to_le_bytes());
        }
        let shx_len = HEADER_LEN as u64 + 8 * self.records;
        for (i, len) in [(0, self.pos), (1, shx_len)] {
            let mut h = header;
            h[24..28].copy_from_slice(&((len / 2) as i32).to_be_bytes());
            let w = set.file(self.index[i]).writer();
            w.seek(SeekFrom::Start(0))
                .and_then(|_| w.write_all(&h))
                .and_then(|_| w.seek(SeekFrom::End(0)).map(|_| ()))
                .map_err(io(&self.paths[i]))?;
        }
        let rows = u32::try_from(self.records).unwrap_or(u32::MAX);
        let h = dbf_header(&self.fields, rows);
        let w = set.file(self.index[2]).writer();
        w.write_all(&[0x1A])
            .and_then(|_| w.seek(SeekFrom::Start(0)))
            .and_then(|_| w.write_all(&h))
            .and_then(|_| w.seek(SeekFrom::End(0)).map(|_| ()))
            .map_err(io(&self.paths[2]))?;
        if self.flat_in_z > 0 {
            self.warnings.push(format!(
                "{} geometries without heights are written with z = 0 in a Shapefile with Z \
                 (other geometries have heights)",
                self.flat_in_z
            ));
        }
        if self.cut_text > 0 {
            self.warnings.push(format!(
                "{} text value(s) longer than 254 bytes are cut to 254 bytes (the longest a \
                 dBASE text field holds)",
                self.cut_text
            ));
        }
        report.warnings.append(&mut self.warnings);
        let first = self.paths[0].clone();
        report.outputs.extend(set.commit().map_err(io(&first))?);
        Ok(())
    }
}
