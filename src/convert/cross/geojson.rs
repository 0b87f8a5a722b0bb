//! GeoJSON and newline-delimited GeoJSON in conversions between formats.
//!
//! **Reading.** A FeatureCollection is streamed feature by feature (each feature at most
//! [`super::super::MAX_RECORD_BYTES`] of text, refused beyond); a top-level
//! Feature or bare geometry is one feature; newline-delimited GeoJSON is one feature (or
//! geometry) per line (RFC 8142 record separators and blank lines skipped). The input is read
//! twice: a first pass finds the schema — the property names in the order of their first
//! appearance, each with one type for the whole file (JSON numbers that are integers of 64 bits
//! → integer, other numbers → real, integer with real → real, strings → text, booleans →
//! boolean, any mix with text or booleans → text; arrays and objects → text holding their JSON)
//! and the geometry types — and the second converts. A feature's `id` member becomes an
//! attribute `id` (unless its properties have one). Other members (foreign members, `bbox`) are
//! not carried: a warning counts the features that had them. A geometry whose positions mix 2
//! and 3 coordinates fails (its feature is left out with `skip_invalid`); a fourth coordinate
//! (m) is dropped with a warning. `null` geometries and empty points are features without
//! geometry.
//!
//! **Writing.** A FeatureCollection with one feature per line, or one feature per line for
//! `.geojsonl` / `.ndjson`: `{"type":"Feature","properties":{...},"geometry":{...}}`, the
//! properties in the schema's order, each value of its field's type (null as `null`, reals in
//! the shortest round-trip form, non-finite reals as `null`). Coordinates: shortest round-trip
//! form, or [`ConvertOptions::precision`](super::super::ConvertOptions::precision). The target
//! CRS is declared as a same-format conversion declares it: no `crs` member for EPSG:4326, else
//! GDAL's `crs` member (with RFC 7946's warning); newline-delimited GeoJSON has no `crs` member
//! (the warning says the CRS is not recorded).

use super::super::atomic::AtomicFile;
use super::super::features::{
    Feature, FeatureReader, FeatureWriter, Field, FieldType, Geometry, Read, Schema, Shape, Value,
};
use super::super::{text, ConvertError, ConvertReport, FileFormat, Job, MAX_RECORD_BYTES};
use super::Digits;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::Value as Json;
use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};

/// GeometryCollections nested deeper than this are refused (as in the same-format path).
const MAX_DEPTH: usize = super::super::geojson::MAX_COLLECTION_DEPTH;

/// Features read ahead of the conversion by the second pass's parsing thread.
const READ_AHEAD: usize = 256;

/// The reader of a GeoJSON or newline-delimited GeoJSON input (see the module docs).
pub(crate) fn reader<'a>(job: &Job<'a>) -> Result<Box<dyn FeatureReader + 'a>, ConvertError> {
    if let Some(e) = job.options.encoding.filter(|e| *e != super::super::TextEncoding::Utf8) {
        return Err(ConvertError::Options {
            path: job.input.to_path_buf(),
            message: format!("GeoJSON is UTF-8 (RFC 8259); --encoding {e:?} does not apply"),
        });
    }
    let path = job.input.to_path_buf();
    let seq = FileFormat::from_path(job.input) == Some(FileFormat::GeoJsonSeq);
    let mut schema = SchemaBuilder::default();
    let mut n = 0u64;
    let mut on = |v: Json, location: String| -> Result<(), ConvertError> {
        n += 1;
        let parts = parts(v).map_err(|m| malformed(&path, &location, m))?;
        schema.add(&parts);
        Ok(())
    };
    if seq {
        let mut lines = Lines::open(&path)?;
        while let Some((v, location)) = lines.next()? {
            on(v, location)?;
        }
    } else {
        walk_file(|| open(&path), &path, &mut on)?;
    }
    let (schema, index) = schema.finish();
    let read = Arc::new(AtomicU64::new(0));
    let source = if seq {
        Source::Lines(Lines::open(&path)?)
    } else {
        let (tx, rx) = mpsc::sync_channel(READ_AHEAD);
        let thread_path = path.clone();
        super::super::open_regular(&path)?; // errors now, not in the thread
        let counter = read.clone();
        let open_counted = move |path: &Path| -> Result<_, ConvertError> {
            // A second reading (see `walk_file`) counts from the start again.
            counter.store(0, Ordering::Relaxed);
            let file = super::super::open_regular(path)?;
            let counted = Counted { inner: file, read: counter.clone() };
            skip_bom(BufReader::with_capacity(1 << 20, counted), path)
        };
        std::thread::spawn(move || {
            let tx2 = tx.clone();
            let mut send = |v: Json, location: String| -> Result<(), ConvertError> {
                tx2.send(Ok((v, location))).map_err(|_| ConvertError::Options {
                    path: thread_path.clone(),
                    message: "stopped".into(),
                })
            };
            if let Err(e) = walk_file(|| open_counted(&thread_path), &thread_path, &mut send) {
                let _ = tx.send(Err(e));
            }
        });
        Source::Thread(rx)
    };
    Ok(Box::new(Reader { path, read, schema, index, source, foreign: 0, m_dropped: 0 }))
}

/// The document at `path`, past a UTF-8 byte-order mark (which same-format conversions keep
/// and JSON parsers refuse).
fn open(path: &Path) -> Result<BufReader<File>, ConvertError> {
    let file = super::super::open_regular(path)?;
    skip_bom(BufReader::with_capacity(1 << 20, file), path)
}

fn skip_bom<R: BufRead>(mut input: R, path: &Path) -> Result<R, ConvertError> {
    let io = |source| ConvertError::Io { path: path.to_path_buf(), source };
    if input.fill_buf().map_err(io)?.starts_with(b"\xEF\xBB\xBF") {
        input.consume(3);
    }
    Ok(input)
}

fn malformed(path: &Path, location: &str, message: String) -> ConvertError {
    ConvertError::Malformed { path: path.to_path_buf(), location: location.into(), message }
}

/// A feature's parts, as JSON values: its geometry (`Json::Null` if none), its attributes (in
/// the feature's order), whether it had members that are not carried.
struct Parts {
    geometry: Json,
    attributes: Vec<(String, Json)>,
    foreign: bool,
}

/// Splits a feature (or a bare geometry) into its parts. Errors: not a Feature or geometry.
fn parts(v: Json) -> Result<Parts, String> {
    let Json::Object(mut members) = v else {
        return Err(format!("a feature must be an object, not {}", json_kind(&v)));
    };
    let kind = members.get("type").and_then(Json::as_str).map(str::to_string);
    match kind.as_deref() {
        Some("Feature") => {}
        Some(t) if is_geometry_type(t) => {
            return Ok(Parts {
                geometry: Json::Object(members),
                attributes: Vec::new(),
                foreign: false,
            })
        }
        Some(t) => return Err(format!("\"type\": \"{t}\" is neither a Feature nor a geometry")),
        None => return Err("a feature without a \"type\" member".into()),
    }
    let geometry = members.shift_remove("geometry").unwrap_or(Json::Null);
    let properties = members.shift_remove("properties").unwrap_or(Json::Null);
    let id = members.shift_remove("id");
    members.shift_remove("type");
    members.shift_remove("bbox");
    let mut attributes: Vec<(String, Json)> = match properties {
        Json::Object(map) => map.into_iter().collect(),
        Json::Null => Vec::new(),
        other => {
            return Err(format!("\"properties\" must be an object, not {}", json_kind(&other)))
        }
    };
    if let Some(id) = id {
        if !attributes.iter().any(|(k, _)| k == "id") {
            attributes.insert(0, ("id".into(), id));
        }
    }
    Ok(Parts { geometry, attributes, foreign: !members.is_empty() })
}

fn is_geometry_type(t: &str) -> bool {
    matches!(
        t,
        "Point"
            | "LineString"
            | "Polygon"
            | "MultiPoint"
            | "MultiLineString"
            | "MultiPolygon"
            | "GeometryCollection"
    )
}

fn json_kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// The value of a property, untyped.
fn value_of(v: Json) -> Value {
    match v {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Boolean(b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i),
            None => n.as_f64().map_or(Value::Text(n.to_string()), Value::Real),
        },
        Json::String(s) => Value::Text(s),
        other => Value::Text(other.to_string()),
    }
}

/// The geometry of a GeoJSON geometry object (`Ok(None)`: null, or an empty point). `m` is set
/// when a position had a fourth coordinate (dropped).
fn geometry_of(v: &Json, m: &mut bool) -> Result<Option<Geometry>, String> {
    if v.is_null() {
        return Ok(None);
    }
    let mut z = None;
    let shape = shape_of(v, 0, &mut z, m)?;
    if let Shape::Point(c) = &shape {
        if c[0].is_nan() {
            return Ok(None);
        }
    }
    Ok(Some(Geometry { shape, has_z: z.unwrap_or(false) }))
}

fn shape_of(v: &Json, depth: usize, z: &mut Option<bool>, m: &mut bool) -> Result<Shape, String> {
    let Json::Object(o) = v else {
        return Err(format!("a geometry must be an object, not {}", json_kind(v)));
    };
    let kind = o.get("type").and_then(Json::as_str).ok_or("a geometry without \"type\"")?;
    if kind == "GeometryCollection" {
        if depth >= MAX_DEPTH {
            return Err(format!("GeometryCollections nested deeper than {MAX_DEPTH}"));
        }
        let parts = o
            .get("geometries")
            .and_then(Json::as_array)
            .ok_or("a GeometryCollection without a \"geometries\" array")?;
        return parts
            .iter()
            .map(|p| shape_of(p, depth + 1, z, m))
            .collect::<Result<_, _>>()
            .map(Shape::GeometryCollection);
    }
    let c = o.get("coordinates").ok_or_else(|| format!("a {kind} without \"coordinates\""))?;
    let mut pos = |p: &Json| position(p, z, m);
    let list = |v: &Json, pos: &mut dyn FnMut(&Json) -> Result<[f64; 3], String>| {
        array(v)?.iter().map(pos).collect::<Result<Vec<_>, _>>()
    };
    let lists = |v: &Json, pos: &mut dyn FnMut(&Json) -> Result<[f64; 3], String>| {
        array(v)?.iter().map(|l| list(l, pos)).collect::<Result<Vec<_>, _>>()
    };
    Ok(match kind {
        "Point" => match array(c)?.is_empty() {
            true => Shape::Point([f64::NAN, f64::NAN, 0.0]),
            false => Shape::Point(pos(c)?),
        },
        "LineString" => Shape::LineString(list(c, &mut pos)?),
        "MultiPoint" => Shape::MultiPoint(list(c, &mut pos)?),
        "Polygon" => Shape::Polygon(lists(c, &mut pos)?),
        "MultiLineString" => Shape::MultiLineString(lists(c, &mut pos)?),
        "MultiPolygon" => Shape::MultiPolygon(
            array(c)?.iter().map(|p| lists(p, &mut pos)).collect::<Result<Vec<_>, _>>()?,
        ),
        other => return Err(format!("unknown geometry type \"{other}\"")),
    })
}

fn array(v: &Json) -> Result<&Vec<Json>, String> {
    v.as_array().ok_or_else(|| format!("coordinates: expected an array, found {}", json_kind(v)))
}

fn position(p: &Json, z: &mut Option<bool>, m: &mut bool) -> Result<[f64; 3], String> {
    let items = array(p)?;
    let number = |i: usize| -> Result<f64, String> {
        items
            .get(i)
            .and_then(Json::as_f64)
            .ok_or_else(|| format!("position {p} does not start with two numbers"))
    };
    let (x, y) = (number(0)?, number(1)?);
    let has_z = items.len() >= 3;
    let zv = if has_z { number(2)? } else { 0.0 };
    *m |= items.len() > 3;
    match z {
        None => *z = Some(has_z),
        Some(seen) if *seen != has_z => {
            return Err("positions with and without a height in one geometry".into())
        }
        Some(_) => {}
    }
    Ok([x, y, zv])
}

/// The schema, found in the first pass.
#[derive(Default)]
struct SchemaBuilder {
    schema: Schema,
    types: Vec<Option<FieldType>>,
    index: HashMap<String, usize>,
}

impl SchemaBuilder {
    fn add(&mut self, parts: &Parts) {
        for (name, v) in &parts.attributes {
            let i = *self.index.entry(name.clone()).or_insert_with(|| {
                self.schema.fields.push(Field { name: name.clone(), kind: FieldType::Text });
                self.types.push(None);
                self.types.len() - 1
            });
            if let (Some(slot), Some(t)) =
                (self.types.get_mut(i), FieldType::of(&value_of(v.clone())))
            {
                *slot = Some(slot.map_or(t, |s| s.unify(t)));
            }
        }
        let mut m = false;
        if let Ok(Some(g)) = geometry_of(&parts.geometry, &mut m) {
            self.schema.add_geometry(&g);
        }
    }

    fn finish(mut self) -> (Schema, HashMap<String, usize>) {
        for (f, t) in self.schema.fields.iter_mut().zip(&self.types) {
            f.kind = t.unwrap_or(FieldType::Text);
        }
        (self.schema, self.index)
    }
}

enum Source {
    Lines(Lines),
    Thread(mpsc::Receiver<Result<(Json, String), ConvertError>>),
}

struct Reader {
    path: PathBuf,
    /// Bytes the reading thread has taken from the file.
    read: Arc<AtomicU64>,
    schema: Schema,
    index: HashMap<String, usize>,
    source: Source,
    foreign: u64,
    m_dropped: u64,
}

impl FeatureReader for Reader {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn next(&mut self) -> Result<Option<Read>, ConvertError> {
        let (v, location) = match &mut self.source {
            Source::Lines(lines) => match lines.next()? {
                Some(x) => x,
                None => return Ok(None),
            },
            Source::Thread(rx) => match rx.recv() {
                Ok(x) => x?,
                Err(_) => return Ok(None),
            },
        };
        let parts = parts(v).map_err(|m| malformed(&self.path, &location, m))?;
        self.foreign += u64::from(parts.foreign);
        let mut attributes = vec![Value::Null; self.schema.fields.len()];
        for (name, v) in parts.attributes {
            if let (Some(&i), v) = (self.index.get(&name), value_of(v)) {
                if let (Some(slot), Some(f)) = (attributes.get_mut(i), self.schema.fields.get(i)) {
                    *slot = f.kind.coerce(v);
                }
            }
        }
        let mut m = false;
        let geometry = match geometry_of(&parts.geometry, &mut m) {
            Ok(g) => g,
            Err(reason) if reason.contains("with and without a height") => {
                return Ok(Some(Err(super::super::Failure { location, reason })))
            }
            Err(message) => return Err(malformed(&self.path, &location, message)),
        };
        self.m_dropped += u64::from(m);
        Ok(Some(Ok(Feature { location, geometry, attributes })))
    }

    fn consumed(&self) -> u64 {
        match &self.source {
            Source::Lines(lines) => lines.bytes,
            Source::Thread(_) => self.read.load(Ordering::Relaxed),
        }
    }

    fn warnings(&mut self) -> Vec<String> {
        let mut w = Vec::new();
        if self.foreign > 0 {
            w.push(format!(
                "{} feature(s) have members other than type, id, properties, geometry and bbox; \
                 they are not carried into the output format",
                self.foreign
            ));
        }
        if self.m_dropped > 0 {
            w.push(format!(
                "{} geometries have positions with more than 3 numbers; the 4th and later are \
                 dropped",
                self.m_dropped
            ));
        }
        w
    }
}

/// Newline-delimited GeoJSON, one value per line.
struct Lines {
    input: BufReader<File>,
    path: PathBuf,
    line: u64,
    /// Bytes read so far.
    bytes: u64,
    buf: Vec<u8>,
}

impl Lines {
    fn open(path: &Path) -> Result<Self, ConvertError> {
        Ok(Self {
            input: open(path)?,
            path: path.to_path_buf(),
            line: 0,
            bytes: 0,
            buf: Vec::new(),
        })
    }

    fn next(&mut self) -> Result<Option<(Json, String)>, ConvertError> {
        loop {
            self.buf.clear();
            let n = text::read_line_bounded(&mut self.input, &mut self.buf, MAX_RECORD_BYTES)
                .map_err(|source| ConvertError::Io { path: self.path.clone(), source })?;
            if n == 0 {
                return Ok(None);
            }
            self.bytes += n as u64;
            self.line += 1;
            let location = format!("line {}", self.line);
            if n as u64 >= MAX_RECORD_BYTES && self.buf.last() != Some(&b'\n') {
                let m = format!("a line longer than {} MiB", MAX_RECORD_BYTES >> 20);
                return Err(malformed(&self.path, &location, m));
            }
            let mut body: &[u8] = &self.buf;
            if self.line == 1 {
                body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
            }
            let body = body.trim_ascii();
            let body = body.strip_prefix(b"\x1e").unwrap_or(body).trim_ascii();
            if body.is_empty() {
                continue;
            }
            let v: Json = serde_json::from_slice(body)
                .map_err(|e| malformed(&self.path, &location, e.to_string()))?;
            return Ok(Some((v, location)));
        }
    }
}

/// Counts the bytes read from `inner` into `read` (for the progress bar, read from another
/// thread).
struct Counted<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: io::Read> io::Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Reads through a budget of [`MAX_RECORD_BYTES`] per record, reset as each record starts.
struct Capped<R> {
    inner: R,
    used: Rc<Cell<u64>>,
}

impl<R: io::Read> io::Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let used = self.used.get();
        if used >= MAX_RECORD_BYTES {
            return Err(io::Error::other(TOO_LONG));
        }
        let room = usize::try_from(MAX_RECORD_BYTES - used).unwrap_or(usize::MAX);
        let len = buf.len().min(room);
        let n = self.inner.read(&mut buf[..len])?;
        self.used.set(used + n as u64);
        Ok(n)
    }
}

const TOO_LONG: &str = "longer than the 64 MiB a record may hold";

/// [`walk`] over the file `open` opens, through the block scanner first ([`walk_fast`]); where
/// that stops, the file is opened again and [`walk`] goes on past the features already given
/// (or gives the error with its line and column).
fn walk_file<R: BufRead>(
    open: impl Fn() -> Result<R, ConvertError>,
    path: &Path,
    on: &mut dyn FnMut(Json, String) -> Result<(), ConvertError>,
) -> Result<(), ConvertError> {
    let given = match walk_fast(open()?, path, on)? {
        None => return Ok(()),
        Some(given) => given,
    };
    let mut seen = 0u64;
    walk(open()?, path, &mut |v, location| {
        seen += 1;
        if seen <= given {
            Ok(())
        } else {
            on(v, location)
        }
    })
}

/// The fast path of [`walk`]: a FeatureCollection whose members and features the block scanner
/// ([`scan`](super::super::geojson::scan)) cuts out and serde_json parses from slices (many
/// times faster than serde_json reading an `io::Read` byte by byte), giving `on` the same
/// features with the same locations. `Ok(None)` when the whole document was walked;
/// `Ok(Some(n))` when it stopped at something it does not take — a document
/// that is not a collection, JSON the scanner or serde_json refuses, a value over half the
/// record cap, text after the document — having given `n` features: [`walk`] then reads the
/// file from the start, skips those and reports any error exactly. Errors: I/O, `on`'s.
fn walk_fast(
    input: impl BufRead,
    path: &Path,
    on: &mut dyn FnMut(Json, String) -> Result<(), ConvertError>,
) -> Result<Option<u64>, ConvertError> {
    let cap = usize::try_from(MAX_RECORD_BYTES).unwrap_or(usize::MAX) / 2;
    let io = |source| ConvertError::Io { path: path.to_path_buf(), source };
    let mut s = super::super::geojson::scan::Scanner::new(input);
    let mut given = 0u64;
    let mut text = Vec::new();
    let mut kind = None;
    let mut collection = false;
    if s.skip_ws().map_err(io)? != Some(b'{') {
        return Ok(Some(0));
    }
    s.bump();
    loop {
        if s.skip_ws().map_err(io)? != Some(b'"') {
            return Ok(Some(given)); // `{}` too: not a collection
        }
        text.clear();
        if !s.value(&mut text, cap).map_err(io)? {
            return Ok(Some(given));
        }
        let Ok(key) = serde_json::from_slice::<String>(&text) else { return Ok(Some(given)) };
        if s.skip_ws().map_err(io)? != Some(b':') {
            return Ok(Some(given));
        }
        s.bump();
        if key == "features" {
            collection = true;
            if s.skip_ws().map_err(io)? != Some(b'[') {
                return Ok(Some(given));
            }
            s.bump();
            if s.skip_ws().map_err(io)? == Some(b']') {
                s.bump();
            } else {
                loop {
                    text.clear();
                    if !s.value(&mut text, cap).map_err(io)? {
                        return Ok(Some(given));
                    }
                    let Ok(v) = serde_json::from_slice::<Json>(&text) else {
                        return Ok(Some(given));
                    };
                    given += 1;
                    on(v, format!("feature {given}"))?;
                    match s.skip_ws().map_err(io)? {
                        Some(b',') => s.bump(),
                        Some(b']') => {
                            s.bump();
                            break;
                        }
                        _ => return Ok(Some(given)),
                    }
                }
            }
        } else {
            text.clear();
            if !s.value(&mut text, cap).map_err(io)? {
                return Ok(Some(given));
            }
            let Ok(v) = serde_json::from_slice::<Json>(&text) else { return Ok(Some(given)) };
            if key == "type" {
                kind = v.as_str().map(str::to_string);
            }
        }
        match s.skip_ws().map_err(io)? {
            Some(b',') => s.bump(),
            Some(b'}') => {
                s.bump();
                break;
            }
            _ => return Ok(Some(given)),
        }
    }
    let done = collection
        && kind.as_deref() == Some("FeatureCollection")
        && s.skip_ws().map_err(io)?.is_none();
    Ok(if done { None } else { Some(given) })
}

/// Streams the features of a GeoJSON document to `on` (with their location), a Feature or
/// geometry document as one feature. Errors: malformed JSON or structure, `on`'s error.
fn walk(
    input: impl BufRead,
    path: &Path,
    on: &mut dyn FnMut(Json, String) -> Result<(), ConvertError>,
) -> Result<(), ConvertError> {
    let used = Rc::new(Cell::new(0));
    let capped = Capped { inner: input, used: used.clone() };
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(64 << 10, capped));
    let mut stop = None;
    let mut count = 0u64;
    let mut after = false;
    let top = Top { on, stop: &mut stop, used: &used, count: &mut count, after: &mut after };
    let result = serde::Deserializer::deserialize_any(&mut de, top);
    if let Some(e) = stop {
        return Err(e);
    }
    let location =
        || if count > 0 && !after { format!("feature {count}") } else { "top level".into() };
    match result {
        Ok(None) => Err(malformed(
            path,
            "line 1",
            "the file is empty or holds no GeoJSON object: nothing to convert".into(),
        )),
        Ok(Some(())) => de.end().map_err(|e| malformed(path, &location(), e.to_string())),
        Err(e) if used.get() >= MAX_RECORD_BYTES => {
            let _ = e;
            Err(malformed(path, &location(), format!("a feature {TOO_LONG}")))
        }
        Err(e) if e.is_eof() && e.line() <= 1 && e.column() == 0 => {
            Err(malformed(path, "line 1", "the file is empty: nothing to convert".into()))
        }
        Err(e) => Err(malformed(path, &location(), e.to_string())),
    }
}

struct Top<'a> {
    on: &'a mut dyn FnMut(Json, String) -> Result<(), ConvertError>,
    stop: &'a mut Option<ConvertError>,
    used: &'a Rc<Cell<u64>>,
    count: &'a mut u64,
    after: &'a mut bool,
}

impl<'de> Visitor<'de> for Top<'_> {
    type Value = Option<()>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a GeoJSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kept = serde_json::Map::new();
        let mut streamed = false;
        loop {
            self.used.set(0);
            let Some(key) = map.next_key::<String>()? else { break };
            if key == "features" {
                streamed = true;
                map.next_value_seed(Features {
                    on: &mut *self.on,
                    stop: &mut *self.stop,
                    used: self.used,
                    count: &mut *self.count,
                    after: &mut *self.after,
                })?;
            } else {
                let v: Json = map.next_value()?;
                kept.insert(key, v);
            }
        }
        let kind = kept.get("type").and_then(Json::as_str).unwrap_or("").to_string();
        if streamed {
            if kind != "FeatureCollection" {
                return Err(de::Error::custom(format!(
                    "a \"features\" member in an object of type \"{kind}\" (a FeatureCollection \
                     is expected)"
                )));
            }
            return Ok(Some(()));
        }
        if kind == "FeatureCollection" {
            return Err(de::Error::custom("a FeatureCollection without \"features\""));
        }
        *self.count += 1;
        if let Err(e) = (self.on)(Json::Object(kept), "feature 1".into()) {
            *self.stop = Some(e);
            return Err(de::Error::custom("stopped"));
        }
        Ok(Some(()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

struct Features<'a> {
    on: &'a mut dyn FnMut(Json, String) -> Result<(), ConvertError>,
    stop: &'a mut Option<ConvertError>,
    used: &'a Rc<Cell<u64>>,
    count: &'a mut u64,
    /// The array has ended.
    after: &'a mut bool,
}

impl<'de> DeserializeSeed<'de> for Features<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Features<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of features")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            self.used.set(0);
            // Counted before it is read, so that a parse error names it; uncounted at the end.
            *self.count += 1;
            let Some(v) = seq.next_element::<Json>()? else {
                *self.count -= 1;
                *self.after = true;
                return Ok(());
            };
            if let Err(e) = (self.on)(v, format!("feature {}", *self.count)) {
                *self.stop = Some(e);
                return Err(de::Error::custom("stopped"));
            }
        }
    }
}

/// The writer of a GeoJSON (or newline-delimited GeoJSON, by the output's extension) output.
pub(crate) fn writer(
    job: &Job<'_>,
    schema: &Schema,
) -> Result<Box<dyn FeatureWriter>, ConvertError> {
    let path = job.output.to_path_buf();
    let seq = FileFormat::from_path(job.output) == Some(FileFormat::GeoJsonSeq);
    let mut file = AtomicFile::create(job.output)
        .map_err(|source| ConvertError::Io { path: path.clone(), source })?;
    let (crs, mut warnings) = super::super::geojson::crs_member_for(job.target);
    let mut head = Vec::new();
    if seq {
        if crs.is_some() {
            warnings = vec![format!(
                "newline-delimited GeoJSON cannot declare a CRS: the output is in {} but does \
                 not say so (RFC 7946 expects WGS84 longitude/latitude)",
                job.target.id()
            )];
        }
    } else {
        head.extend_from_slice(b"{\"type\":\"FeatureCollection\",");
        if let Some(crs) = crs {
            head.extend_from_slice(b"\"crs\":");
            head.extend_from_slice(crs.as_bytes());
            head.push(b',');
        }
        head.extend_from_slice(b"\"features\":[");
    }
    file.writer()
        .write_all(&head)
        .map_err(|source| ConvertError::Io { path: path.clone(), source })?;
    let keys =
        schema.fields.iter().map(|f| serde_json::to_string(&f.name).unwrap_or_default()).collect();
    Ok(Box::new(Writer {
        file,
        path,
        seq,
        keys,
        digits: Digits::of(job),
        first: true,
        warnings,
        buf: Vec::new(),
    }))
}

struct Writer {
    file: AtomicFile,
    path: PathBuf,
    seq: bool,
    /// The property names, as JSON strings.
    keys: Vec<String>,
    digits: Digits,
    first: bool,
    warnings: Vec<String>,
    buf: Vec<u8>,
}

impl FeatureWriter for Writer {
    fn write(&mut self, features: &[Feature]) -> Result<(), ConvertError> {
        self.buf.clear();
        for f in features {
            if !self.seq {
                self.buf.extend_from_slice(if self.first { b"\n" } else { b",\n" });
            }
            self.first = false;
            self.buf.extend_from_slice(b"{\"type\":\"Feature\",\"properties\":{");
            for (i, (key, v)) in self.keys.iter().zip(&f.attributes).enumerate() {
                if i > 0 {
                    self.buf.push(b',');
                }
                self.buf.extend_from_slice(key.as_bytes());
                self.buf.push(b':');
                push_value(&mut self.buf, v);
            }
            self.buf.extend_from_slice(b"},\"geometry\":");
            match &f.geometry {
                Some(g) => push_geometry(&mut self.buf, &g.shape, g.has_z, self.digits),
                None => self.buf.extend_from_slice(b"null"),
            }
            self.buf.push(b'}');
            if self.seq {
                self.buf.push(b'\n');
            }
        }
        let path = &self.path;
        self.file
            .writer()
            .write_all(&self.buf)
            .map_err(|source| ConvertError::Io { path: path.clone(), source })
    }

    fn finish(mut self: Box<Self>, report: &mut ConvertReport) -> Result<(), ConvertError> {
        let io = |source| ConvertError::Io { path: self.path.clone(), source };
        if !self.seq {
            let tail: &[u8] = if self.first { b"]}\n" } else { b"\n]}\n" };
            self.file.writer().write_all(tail).map_err(io)?;
        }
        report.warnings.append(&mut self.warnings);
        let path = self.path.clone();
        report
            .outputs
            .push(self.file.commit().map_err(|source| ConvertError::Io { path, source })?);
        Ok(())
    }
}

fn push_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Real(r) if r.is_finite() => text::Number(*r).push_to(out),
        Value::Real(_) => out.extend_from_slice(b"null"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Text(t) | Value::Date(t) => {
            out.extend_from_slice(serde_json::to_string(t).unwrap_or_default().as_bytes())
        }
    }
}

fn push_geometry(out: &mut Vec<u8>, s: &Shape, z: bool, d: Digits) {
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(s.kind().name().as_bytes());
    if let Shape::GeometryCollection(parts) = s {
        out.extend_from_slice(b"\",\"geometries\":[");
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_geometry(out, p, z, d);
        }
        out.extend_from_slice(b"]}");
        return;
    }
    out.extend_from_slice(b"\",\"coordinates\":");
    let pos = |out: &mut Vec<u8>, c: &[f64; 3]| {
        out.push(b'[');
        d.push_xy(out, c[0]);
        out.push(b',');
        d.push_xy(out, c[1]);
        if z {
            out.push(b',');
            d.push_z(out, c[2]);
        }
        out.push(b']');
    };
    let list = |out: &mut Vec<u8>, cs: &[[f64; 3]]| {
        out.push(b'[');
        for (i, c) in cs.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            pos(out, c);
        }
        out.push(b']');
    };
    let lists = |out: &mut Vec<u8>, ls: &[Vec<[f64; 3]>]| {
        out.push(b'[');
        for (i, l) in ls.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            list(out, l);
        }
        out.push(b']');
    };
    match s {
        Shape::Point(c) if c[0].is_nan() && c[1].is_nan() => out.extend_from_slice(b"[]"),
        Shape::Point(c) => pos(out, c),
        Shape::LineString(cs) | Shape::MultiPoint(cs) => list(out, cs),
        Shape::Polygon(ls) | Shape::MultiLineString(ls) => lists(out, ls),
        Shape::MultiPolygon(ps) => {
            out.push(b'[');
            for (i, p) in ps.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                lists(out, p);
            }
            out.push(b']');
        }
        Shape::GeometryCollection(_) => {}
    }
    out.push(b'}');
}
