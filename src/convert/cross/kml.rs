//! KML and KMZ in conversions between formats.
//!
//! **Reading.** Every `Placemark` (in any `Document` or `Folder`) is a feature. Its geometry:
//! `Point` → point, `LineString` → line, a lone `LinearRing` → line (its closed ring), `Polygon`
//! → polygon (`outerBoundaryIs` first, then each `innerBoundaryIs`), `gx:Track` → line of its
//! `gx:coord`s, `gx:MultiTrack` → multi-line, `MultiGeometry` → the multi-type of its parts when
//! they are all of one kind (points, lines or polygons), else a geometry collection (nested at
//! most 32 deep); a Placemark without one is a feature without geometry. A third number in the
//! tuples is the altitude, the z: a geometry whose tuples mix 2 and 3 numbers fails (its
//! feature is left out with `skip_invalid`), as does a tuple that is not `lon,lat[,alt]` in
//! range (`line 12, Placemark 5: point 3: ...`). The attributes, all text: `name` and
//! `description` (when the file has them), then the `ExtendedData` values — `<Data
//! name="…"><value>` and `<SchemaData><SimpleData name="…">` — by name in the order of their
//! first appearance. Other Placemark children (styles, times, views, addresses) and the
//! features that are not Placemarks (overlays) are not carried: a warning counts them. The file
//! is read twice (the schema first); a Placemark may be at most 64 MiB (`Malformed` beyond). A KMZ's KML is its first `.kml` entry (the KMZ convention
//! for the root document), decompressed into a temporary file beside the output; other `.kml`
//! entries are not read (a warning names how many).
//!
//! **Writing.** KML 2.2, UTF-8: a `Document` with one `Placemark` per feature: the attribute
//! named `name` (any case) as `<name>`, `description` as `<description>`, every other non-null
//! attribute as `<ExtendedData><Data name="…"><value>…</value></Data>` (untyped, as Google Earth
//! shows it); points as `Point`, lines as `LineString`, polygons as `Polygon` with their rings,
//! multi-geometries and collections as `MultiGeometry`; z as the tuples' third number (with no
//! `altitudeMode`: the KML default, clamped to the ground, shows them on the ground, the heights
//! kept). A feature without geometry is a Placemark without one. A KMZ holds the document as
//! `doc.kml` (deflated). Coordinates: plain decimals in the shortest round-trip form, or
//! [`ConvertOptions::precision`](super::super::ConvertOptions::precision).
//!
//! **CRS.** KML is WGS84 longitude/latitude by definition and declares nothing: reading needs
//! `--from` (the GCJ-02 trap) and a longitude/latitude source; the target of an output must be
//! longitude/latitude, and one outside the WGS84 frame (GCJ-02, BD-09) is written with a warning
//! (the rule of a conversion into the format itself).

use super::super::atomic::AtomicFile;
use super::super::features::{
    Coord, Counted, Counter, Feature, FeatureReader, FeatureWriter, Field, FieldType, Geometry,
    GeometryKind, Read, Schema, Shape, Value,
};
use super::super::kml::{parse_tuples, Tuple};
use super::super::text::degree_decimals;
use super::super::xml::{self, Attribute, Kind, Walk};
use super::super::{ConvertError, ConvertReport, Failure, FileFormat, Job};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read as _, Write};
use std::path::{Path, PathBuf};

/// Geometry collections nested deeper than this fail their feature (as GeoJSON's are refused).
const MAX_DEPTH: usize = super::super::geojson::MAX_COLLECTION_DEPTH;

/// The reader of a KML or KMZ input (see the module docs).
pub(crate) fn reader<'a>(job: &Job<'a>) -> Result<Box<dyn FeatureReader + 'a>, ConvertError> {
    xml::check_input(job, "KML")?;
    let (file, warnings) = if FileFormat::from_path(job.input) == Some(FileFormat::Kmz) {
        let (f, w) = unpack(job)?;
        (Some(f), w)
    } else {
        (None, Vec::new())
    };
    let source = file.as_ref().map_or(job.input.to_path_buf(), |f| f.temp_path().to_path_buf());
    let mut first = Placemarks::open(&source, job.input)?;
    let mut standard = [false; 2];
    let mut data: Vec<String> = Vec::new();
    let mut schema = Schema::default();
    while let Some(raw) = first.next()? {
        for (name, _) in &raw.fields {
            match name.as_str() {
                "name" if raw.standard.0 => standard[0] = true,
                "description" if raw.standard.1 => standard[1] = true,
                _ => {}
            }
        }
        for (name, _) in &raw.data {
            if !data.contains(name) {
                data.push(name.clone());
            }
        }
        if let Ok(Some(g)) = raw.geometry() {
            schema.add_geometry(&g);
        }
    }
    let mut names: Vec<String> = ["name", "description"]
        .iter()
        .zip(standard)
        .filter(|(_, used)| *used)
        .map(|(n, _)| n.to_string())
        .collect();
    for d in data {
        if !names.contains(&d) {
            names.push(d);
        }
    }
    schema.fields = names.into_iter().map(|name| Field { name, kind: FieldType::Text }).collect();
    let index = schema.fields.iter().enumerate().map(|(i, f)| (f.name.clone(), i)).collect();
    let placemarks = Placemarks::open(&source, job.input)?;
    Ok(Box::new(Reader { placemarks, schema, index, _unpacked: file, warnings }))
}

/// A KMZ's first `.kml` entry, decompressed into a temporary file beside the output (removed
/// when the reader is dropped); a warning if there are more.
fn unpack(job: &Job<'_>) -> Result<(AtomicFile, Vec<String>), ConvertError> {
    let input = job.input;
    let malformed = |message: String| ConvertError::Malformed {
        path: input.to_path_buf(),
        location: "archive".into(),
        message,
    };
    let file = super::super::open_regular(input)?;
    let mut archive = zip::ZipArchive::new(BufReader::new(file)).map_err(|e| match e {
        zip::result::ZipError::Io(source) => ConvertError::Io { path: input.to_path_buf(), source },
        e => malformed(format!("not a KMZ (zip) archive: {e}")),
    })?;
    let mut kml = Vec::new();
    for i in 0..archive.len() {
        let name = archive
            .by_index_raw(i)
            .map(|f| f.name_raw().to_vec())
            .map_err(|e| malformed(e.to_string()))?;
        if name.len() > 4
            && name.get(name.len() - 4..).is_some_and(|e| e.eq_ignore_ascii_case(b".kml"))
        {
            kml.push(i);
        }
    }
    let Some(&first) = kml.first() else {
        return Err(malformed("no .kml entry in the archive".into()));
    };
    let io_out = |source| ConvertError::Io { path: job.output.to_path_buf(), source };
    let mut temp = AtomicFile::create(job.output).map_err(io_out)?;
    let mut entry = archive.by_index(first).map_err(|e| malformed(e.to_string()))?;
    std::io::copy(&mut entry, temp.writer())
        .map_err(|source| ConvertError::Io { path: input.to_path_buf(), source })?;
    temp.writer().flush().map_err(io_out)?;
    let mut warnings = Vec::new();
    if kml.len() > 1 {
        warnings.push(format!(
            "the KMZ holds {} .kml entries; only the first ({}) is read",
            kml.len(),
            String::from_utf8_lossy(entry.name_raw())
        ));
    }
    Ok((temp, warnings))
}

struct Reader<'a> {
    placemarks: Placemarks<'a>,
    schema: Schema,
    index: HashMap<String, usize>,
    /// A KMZ's KML, kept until the reader is done.
    _unpacked: Option<AtomicFile>,
    warnings: Vec<String>,
}

impl FeatureReader for Reader<'_> {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn next(&mut self) -> Result<Option<Read>, ConvertError> {
        let Some(raw) = self.placemarks.next()? else { return Ok(None) };
        let location = format!("line {}, Placemark {}", raw.line, raw.ordinal);
        let geometry = match raw.geometry() {
            Ok(g) => g,
            Err(reason) => return Ok(Some(Err(Failure { location, reason }))),
        };
        let mut attributes = vec![Value::Null; self.schema.fields.len()];
        for (name, text) in raw.fields.into_iter().chain(raw.data) {
            if let Some(slot) = self.index.get(&name).and_then(|&i| attributes.get_mut(i)) {
                if slot.is_null() {
                    *slot = Value::Text(text);
                }
            }
        }
        Ok(Some(Ok(Feature { location, geometry, attributes })))
    }

    fn consumed(&self) -> u64 {
        self.placemarks.read.get()
    }

    fn warnings(&mut self) -> Vec<String> {
        let mut w = std::mem::take(&mut self.warnings);
        w.extend(self.placemarks.warnings());
        w
    }
}

/// A geometry being read: its element's level and what it has gathered.
struct Frame {
    level: usize,
    kind: FrameKind,
    /// Tuples of a Point / LineString / LinearRing / gx:Track.
    coords: Vec<Coord>,
    /// Rings of a Polygon (the outer first, when met).
    rings: Vec<Vec<Coord>>,
    outer: Option<Vec<Coord>>,
    /// Parts of a MultiGeometry / gx:MultiTrack.
    parts: Vec<Shape>,
}

#[derive(Clone, Copy, PartialEq)]
enum FrameKind {
    Point,
    LineString,
    LinearRing,
    Polygon,
    Multi,
    Track,
    MultiTrack,
}

impl FrameKind {
    fn of(local: &str, prefixed: bool) -> Option<Self> {
        Some(match (local, prefixed) {
            ("Point", _) => FrameKind::Point,
            ("LineString", _) => FrameKind::LineString,
            ("LinearRing", _) => FrameKind::LinearRing,
            ("Polygon", _) => FrameKind::Polygon,
            ("MultiGeometry", _) => FrameKind::Multi,
            ("Track", true) => FrameKind::Track,
            ("MultiTrack", true) => FrameKind::MultiTrack,
            _ => return None,
        })
    }
}

/// A Placemark as read.
struct RawPlacemark {
    line: u64,
    ordinal: u64,
    /// `name` and `description`, and whether each was met.
    fields: Vec<(String, String)>,
    standard: (bool, bool),
    /// ExtendedData values by name.
    data: Vec<(String, String)>,
    shape: Option<Shape>,
    /// Tuples with 2 and with 3 numbers met.
    dims: (bool, bool),
    /// The first problem: the reason (with the line).
    error: Option<String>,
}

impl RawPlacemark {
    fn geometry(&self) -> Result<Option<Geometry>, String> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.dims.0 && self.dims.1 {
            return Err("tuples with and without an altitude in one geometry: a height cannot \
                        be invented or dropped"
                .into());
        }
        Ok(self.shape.clone().map(|shape| Geometry { shape, has_z: self.dims.1 }))
    }

    fn fail(&mut self, line: u64, reason: String) {
        if self.error.is_none() {
            self.error = Some(format!("line {line}: {reason}"));
        }
    }
}

/// What the text being read belongs to.
enum Capture {
    Field(String),
    Data(String),
    Coordinates { spaces: bool },
}

/// The Placemarks of a KML file, one by one.
struct Placemarks<'a> {
    walk: Walk<'a, BufReader<Counted<File>>>,
    /// Bytes read from the file (a `.kml` input; a KMZ's entry is not counted).
    read: Counter,
    attrs: Vec<Attribute>,
    count: u64,
    /// Placemark children and other features not carried.
    dropped: u64,
    overlays: u64,
}

impl<'a> Placemarks<'a> {
    fn open(source: &Path, input: &'a Path) -> Result<Self, ConvertError> {
        let (file, counter) = Counted::new(if source == input {
            super::super::open_regular(source)?
        } else {
            File::open(source)
                .map_err(|e| ConvertError::Io { path: source.to_path_buf(), source: e })?
        });
        // A KMZ's KML is an extracted temporary file, not the input: its bytes are not the
        // input's, so the bar moves at the end only.
        let read = if source == input { counter } else { Counter::default() };
        Ok(Self {
            walk: Walk::new(BufReader::with_capacity(1 << 20, file), input, "kml", "KML"),
            read,
            attrs: Vec::new(),
            count: 0,
            dropped: 0,
            overlays: 0,
        })
    }

    fn warnings(&mut self) -> Vec<String> {
        let mut w = Vec::new();
        if self.dropped > 0 {
            w.push(format!(
                "{} Placemark element(s) other than name, description, ExtendedData and the \
                 geometry (styles, times, views) are not carried into the output format",
                std::mem::take(&mut self.dropped)
            ));
        }
        if self.overlays > 0 {
            w.push(format!(
                "{} ground or photo overlay(s) are not carried: only Placemarks are features in \
                 other formats",
                std::mem::take(&mut self.overlays)
            ));
        }
        w
    }

    fn malformed(&self, line: u64, m: impl Into<String>) -> ConvertError {
        xml::malformed(self.walk.path(), line, m)
    }

    /// The next Placemark; `None` at the end (the structure checked complete).
    fn next(&mut self) -> Result<Option<RawPlacemark>, ConvertError> {
        let mut pm: Option<RawPlacemark> = None;
        let mut level = 0usize;
        let mut frames: Vec<Frame> = Vec::new();
        let mut capture: Option<(usize, Capture, String, u64)> = None;
        let mut boundary: Option<bool> = None;
        let mut data_name: Option<(usize, String)> = None;
        let mut tuples: Vec<Tuple> = Vec::new();
        // The bytes of the open feature so far (capped as a GeoJSON feature is).
        let mut size = 0u64;
        while let Some(step) = self.walk.next()? {
            if let Some(p) = &pm {
                self.walk.count(&mut size, &step, p.line, "a Placemark")?;
            }
            let (item, el) = (&step.item, step.level);
            let bytes = self.walk.bytes(&step);
            let opening = matches!(item.kind, Kind::Start | Kind::Empty);
            let qname = xml::name(bytes);
            let prefixed = qname.contains(&b':');
            let local = String::from_utf8_lossy(xml::local(qname)).into_owned();
            let Some(p) = pm.as_mut() else {
                if opening && local == "Placemark" {
                    self.count += 1;
                    let raw = RawPlacemark {
                        line: item.line,
                        ordinal: self.count,
                        fields: Vec::new(),
                        standard: (false, false),
                        data: Vec::new(),
                        shape: None,
                        dims: (false, false),
                        error: None,
                    };
                    if item.kind == Kind::Empty {
                        return Ok(Some(raw));
                    }
                    level = el;
                    pm = Some(raw);
                } else if opening && matches!(local.as_str(), "GroundOverlay" | "PhotoOverlay") {
                    self.overlays += 1;
                }
                continue;
            };
            match item.kind {
                Kind::Start | Kind::Empty => {
                    let r = el - level;
                    let in_data = data_name.as_ref().map(|(l, n)| (*l, n.clone()));
                    if let Some(kind) = FrameKind::of(&local, prefixed) {
                        let nested = frames.iter().filter(|f| f.kind == FrameKind::Multi).count();
                        if nested >= MAX_DEPTH {
                            p.fail(
                                item.line,
                                format!("MultiGeometry nested deeper than {MAX_DEPTH}"),
                            );
                        }
                        frames.push(Frame {
                            level: el,
                            kind,
                            coords: Vec::new(),
                            rings: Vec::new(),
                            outer: None,
                            parts: Vec::new(),
                        });
                        if item.kind == Kind::Empty {
                            close_frame(p, &mut frames, boundary);
                        }
                    } else if !frames.is_empty() {
                        match local.as_str() {
                            "coordinates" => {
                                capture = Some((
                                    el,
                                    Capture::Coordinates { spaces: false },
                                    String::new(),
                                    item.line,
                                ))
                            }
                            "coord" if prefixed => {
                                capture = Some((
                                    el,
                                    Capture::Coordinates { spaces: true },
                                    String::new(),
                                    item.line,
                                ))
                            }
                            "outerBoundaryIs" => boundary = Some(true),
                            "innerBoundaryIs" => boundary = Some(false),
                            _ => {}
                        }
                    } else if r == 1 && (local == "name" || local == "description") && !prefixed {
                        capture = Some((el, Capture::Field(local), String::new(), item.line));
                    } else if r == 2 && matches!(local.as_str(), "Data" | "SchemaData") {
                        if local == "Data" {
                            xml::attributes(bytes, &mut self.attrs)
                                .map_err(|m| self.malformed(item.line, m))?;
                            let name = xml::find(bytes, &self.attrs, b"name")
                                .and_then(|a| bytes.get(a.value.clone()))
                                .map(|v| {
                                    xml::unescape(v)
                                        .map(|v| String::from_utf8_lossy(&v).into_owned())
                                })
                                .transpose()
                                .map_err(|m| self.malformed(item.line, m))?;
                            if let Some(name) = name {
                                data_name = Some((el, name));
                            }
                        }
                    } else if let (Some((dl, name)), true) = (in_data, local == "value") {
                        if el == dl + 1 {
                            capture = Some((el, Capture::Data(name), String::new(), item.line));
                        }
                    } else if r == 3 && local == "SimpleData" {
                        xml::attributes(bytes, &mut self.attrs)
                            .map_err(|m| self.malformed(item.line, m))?;
                        let name = xml::find(bytes, &self.attrs, b"name")
                            .and_then(|a| bytes.get(a.value.clone()))
                            .map(|v| {
                                xml::unescape(v).map(|v| String::from_utf8_lossy(&v).into_owned())
                            })
                            .transpose()
                            .map_err(|m| self.malformed(item.line, m))?;
                        if let Some(name) = name {
                            capture = Some((el, Capture::Data(name), String::new(), item.line));
                        }
                    } else if r == 1 && local != "ExtendedData" {
                        self.dropped += 1;
                    }
                    if item.kind == Kind::Empty {
                        if let Some((_, c, text, line)) = capture.take_if(|c| c.0 == el) {
                            settle(p, &mut frames, c, text, line, &mut tuples);
                        }
                    }
                }
                Kind::Text | Kind::CData => {
                    if let Some((cl, _, text, _)) = capture.as_mut() {
                        if el == *cl {
                            xml::push_content(item, bytes, text)
                                .map_err(|m| self.malformed(item.line, m))?;
                        }
                    }
                }
                Kind::End => {
                    if let Some((_, c, text, line)) = capture.take_if(|c| c.0 == el) {
                        settle(p, &mut frames, c, text, line, &mut tuples);
                    } else if frames.last().is_some_and(|f| f.level == el) {
                        close_frame(p, &mut frames, boundary);
                    } else if data_name.as_ref().is_some_and(|(l, _)| *l == el) {
                        data_name = None;
                    } else if matches!(local.as_str(), "outerBoundaryIs" | "innerBoundaryIs") {
                        boundary = None;
                    }
                    if el == level {
                        return Ok(pm);
                    }
                }
                _ => {}
            }
        }
        Ok(None)
    }
}

/// A field's, a value's or a coordinates element's text read.
fn settle(
    p: &mut RawPlacemark,
    frames: &mut [Frame],
    capture: Capture,
    text: String,
    line: u64,
    tuples: &mut Vec<Tuple>,
) {
    match capture {
        Capture::Field(name) => {
            if name == "name" {
                p.standard.0 = true;
            } else {
                p.standard.1 = true;
            }
            if !p.fields.iter().any(|(n, _)| *n == name) {
                p.fields.push((name, text));
            }
        }
        Capture::Data(name) => {
            if !p.data.iter().any(|(n, _)| *n == name) {
                p.data.push((name, text));
            }
        }
        Capture::Coordinates { spaces } => {
            tuples.clear();
            let bytes = text.as_bytes();
            if let Err((at, reason)) = parse_tuples(bytes, 0..bytes.len(), spaces, tuples) {
                let before = bytes.get(..at).unwrap_or_default();
                let at_line = line + before.iter().filter(|&&b| b == b'\n').count() as u64;
                p.fail(at_line, reason);
                return;
            }
            let Some(frame) = frames.last_mut() else { return };
            for t in tuples.iter() {
                p.dims.0 |= t.count == 2;
                p.dims.1 |= t.count == 3;
                let z = if t.count == 3 { t.values[2].1 } else { 0.0 };
                frame.coords.push([t.values[0].1, t.values[1].1, z]);
            }
        }
    }
}

/// Closes the innermost geometry: its shape goes to the frame around it, or is the
/// Placemark's.
fn close_frame(p: &mut RawPlacemark, frames: &mut Vec<Frame>, boundary: Option<bool>) {
    let Some(f) = frames.pop() else { return };
    let shape = match f.kind {
        FrameKind::Point => match f.coords.first() {
            Some(c) if f.coords.len() == 1 => Some(Shape::Point(*c)),
            Some(_) => {
                p.fail(p.line, format!("a Point with {} tuples", f.coords.len()));
                None
            }
            None => None,
        },
        FrameKind::LineString | FrameKind::Track => Some(Shape::LineString(f.coords)),
        FrameKind::LinearRing => {
            if let Some(parent) = frames.last_mut().filter(|x| x.kind == FrameKind::Polygon) {
                match boundary {
                    Some(true) if parent.outer.is_none() => parent.outer = Some(f.coords),
                    _ => parent.rings.push(f.coords),
                }
                return;
            }
            Some(Shape::LineString(f.coords))
        }
        FrameKind::Polygon => {
            let mut rings = Vec::with_capacity(f.rings.len() + 1);
            rings.extend(f.outer);
            rings.extend(f.rings);
            Some(Shape::Polygon(rings))
        }
        FrameKind::MultiTrack => Some(Shape::MultiLineString(
            f.parts
                .into_iter()
                .filter_map(|s| match s {
                    Shape::LineString(l) => Some(l),
                    _ => None,
                })
                .collect(),
        )),
        FrameKind::Multi => Some(multi(f.parts)),
    };
    let Some(shape) = shape else { return };
    match frames.last_mut() {
        Some(parent) => parent.parts.push(shape),
        None => {
            if p.shape.is_none() {
                p.shape = Some(shape);
            } else {
                p.fail(p.line, "a Placemark with more than one geometry".into());
            }
        }
    }
}

/// A MultiGeometry's parts as the multi-type of their one kind, else a collection.
fn multi(parts: Vec<Shape>) -> Shape {
    let kinds = |k: GeometryKind| !parts.is_empty() && parts.iter().all(|s| s.kind() == k);
    if kinds(GeometryKind::Point) {
        Shape::MultiPoint(
            parts
                .into_iter()
                .filter_map(|s| match s {
                    Shape::Point(c) => Some(c),
                    _ => None,
                })
                .collect(),
        )
    } else if kinds(GeometryKind::LineString) {
        Shape::MultiLineString(
            parts
                .into_iter()
                .filter_map(|s| match s {
                    Shape::LineString(l) => Some(l),
                    _ => None,
                })
                .collect(),
        )
    } else if kinds(GeometryKind::Polygon) {
        Shape::MultiPolygon(
            parts
                .into_iter()
                .filter_map(|s| match s {
                    Shape::Polygon(r) => Some(r),
                    _ => None,
                })
                .collect(),
        )
    } else {
        Shape::GeometryCollection(parts)
    }
}

// ---- Writing ----

/// The writer of a KML or KMZ output (see the module docs).
pub(crate) fn writer(
    job: &Job<'_>,
    schema: &Schema,
) -> Result<Box<dyn FeatureWriter>, ConvertError> {
    let warnings = xml::lonlat_target(job, "KML")?;
    let path = job.output.to_path_buf();
    let io = |source| ConvertError::Io { path: path.clone(), source };
    let mut file = AtomicFile::create(job.output).map_err(io)?;
    file.writer()
        .write_all(
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<kml \
              xmlns=\"http://www.opengis.net/kml/2.2\">\n<Document>\n",
        )
        .map_err(io)?;
    let roles = schema
        .fields
        .iter()
        .map(|f| match f.name.to_ascii_lowercase().as_str() {
            "name" => Role::Name,
            "description" => Role::Description,
            _ => Role::Data,
        })
        .collect::<Vec<_>>();
    // The first field of each role takes the element; another one of the same name is data.
    let mut seen = (false, false);
    let roles = roles
        .into_iter()
        .map(|r| match r {
            Role::Name if !seen.0 => {
                seen.0 = true;
                Role::Name
            }
            Role::Description if !seen.1 => {
                seen.1 = true;
                Role::Description
            }
            _ => Role::Data,
        })
        .collect();
    let mut names = Vec::new();
    for f in &schema.fields {
        let mut n = Vec::new();
        xml::push_escaped(&f.name, &mut n);
        names.push(n);
    }
    Ok(Box::new(KmlWriter {
        file,
        kmz: FileFormat::from_path(job.output) == Some(FileFormat::Kmz),
        path,
        roles,
        names,
        decimals: job.options.precision.map(|n| degree_decimals(usize::from(n))),
        z_decimals: job.options.precision.map(usize::from),
        warnings,
        buf: Vec::new(),
    }))
}

#[derive(Clone, Copy)]
enum Role {
    Name,
    Description,
    Data,
}

struct KmlWriter {
    /// The KML (for a KMZ, the document zipped at the end).
    file: AtomicFile,
    kmz: bool,
    path: PathBuf,
    roles: Vec<Role>,
    /// The field names, escaped.
    names: Vec<Vec<u8>>,
    decimals: Option<usize>,
    z_decimals: Option<usize>,
    warnings: Vec<String>,
    buf: Vec<u8>,
}

impl KmlWriter {
    fn push_tuples(&self, out: &mut Vec<u8>, cs: &[Coord], z: bool) {
        out.extend_from_slice(b"<coordinates>");
        for (i, c) in cs.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            if c[0].is_nan() && c[1].is_nan() {
                continue; // an empty point
            }
            xml::push_coordinate(c[0], self.decimals, out);
            out.push(b',');
            xml::push_coordinate(c[1], self.decimals, out);
            if z {
                out.push(b',');
                xml::push_coordinate(c[2], self.z_decimals, out);
            }
        }
        out.extend_from_slice(b"</coordinates>");
    }

    fn push_shape(&self, out: &mut Vec<u8>, s: &Shape, z: bool) {
        let ring = |out: &mut Vec<u8>, r: &[Coord]| {
            out.extend_from_slice(b"<LinearRing>");
            self.push_tuples(out, r, z);
            out.extend_from_slice(b"</LinearRing>");
        };
        let polygon = |out: &mut Vec<u8>, rings: &[Vec<Coord>]| {
            out.extend_from_slice(b"<Polygon>");
            for (i, r) in rings.iter().enumerate() {
                out.extend_from_slice(if i == 0 {
                    b"<outerBoundaryIs>"
                } else {
                    b"<innerBoundaryIs>"
                });
                ring(out, r);
                out.extend_from_slice(if i == 0 {
                    b"</outerBoundaryIs>"
                } else {
                    b"</innerBoundaryIs>"
                });
            }
            out.extend_from_slice(b"</Polygon>");
        };
        let line = |out: &mut Vec<u8>, l: &[Coord]| {
            out.extend_from_slice(b"<LineString>");
            self.push_tuples(out, l, z);
            out.extend_from_slice(b"</LineString>");
        };
        let point = |out: &mut Vec<u8>, c: &Coord| {
            out.extend_from_slice(b"<Point>");
            self.push_tuples(out, std::slice::from_ref(c), z);
            out.extend_from_slice(b"</Point>");
        };
        match s {
            Shape::Point(c) => point(out, c),
            Shape::LineString(l) => line(out, l),
            Shape::Polygon(rings) => polygon(out, rings),
            Shape::MultiPoint(cs) => {
                out.extend_from_slice(b"<MultiGeometry>");
                cs.iter().for_each(|c| point(out, c));
                out.extend_from_slice(b"</MultiGeometry>");
            }
            Shape::MultiLineString(ls) => {
                out.extend_from_slice(b"<MultiGeometry>");
                ls.iter().for_each(|l| line(out, l));
                out.extend_from_slice(b"</MultiGeometry>");
            }
            Shape::MultiPolygon(ps) => {
                out.extend_from_slice(b"<MultiGeometry>");
                ps.iter().for_each(|p| polygon(out, p));
                out.extend_from_slice(b"</MultiGeometry>");
            }
            Shape::GeometryCollection(parts) => {
                out.extend_from_slice(b"<MultiGeometry>");
                parts.iter().for_each(|p| self.push_shape(out, p, z));
                out.extend_from_slice(b"</MultiGeometry>");
            }
        }
    }

    fn io(&self, source: std::io::Error) -> ConvertError {
        ConvertError::Io { path: self.path.clone(), source }
    }
}

impl FeatureWriter for KmlWriter {
    fn write(&mut self, features: &[Feature]) -> Result<(), ConvertError> {
        let mut out = std::mem::take(&mut self.buf);
        out.clear();
        for f in features {
            out.extend_from_slice(b"<Placemark>");
            let values = || self.roles.iter().zip(&self.names).zip(&f.attributes);
            for (tag, want) in [(&b"name"[..], 0), (&b"description"[..], 1)] {
                let found = values().find(|((r, _), v)| {
                    !v.is_null() && matches!((r, want), (Role::Name, 0) | (Role::Description, 1))
                });
                if let Some((_, v)) = found {
                    out.push(b'<');
                    out.extend_from_slice(tag);
                    out.push(b'>');
                    xml::push_escaped(&v.to_string(), &mut out);
                    out.extend_from_slice(b"</");
                    out.extend_from_slice(tag);
                    out.push(b'>');
                }
            }
            let mut open = false;
            for ((role, name), v) in values() {
                if !matches!(role, Role::Data) || v.is_null() {
                    continue;
                }
                if !open {
                    out.extend_from_slice(b"<ExtendedData>");
                    open = true;
                }
                out.extend_from_slice(b"<Data name=\"");
                out.extend_from_slice(name);
                out.extend_from_slice(b"\"><value>");
                xml::push_escaped(&v.to_string(), &mut out);
                out.extend_from_slice(b"</value></Data>");
            }
            if open {
                out.extend_from_slice(b"</ExtendedData>");
            }
            if let Some(g) = &f.geometry {
                self.push_shape(&mut out, &g.shape, g.has_z);
            }
            out.extend_from_slice(b"</Placemark>\n");
        }
        let result = self.file.writer().write_all(&out);
        self.buf = out;
        result.map_err(|e| self.io(e))
    }

    fn finish(mut self: Box<Self>, report: &mut ConvertReport) -> Result<(), ConvertError> {
        self.file.writer().write_all(b"</Document>\n</kml>\n").map_err(|e| self.io(e))?;
        report.warnings.append(&mut self.warnings);
        let path = self.path.clone();
        let io = |source| ConvertError::Io { path: path.clone(), source };
        if !self.kmz {
            report.outputs.push(self.file.commit().map_err(io)?);
            return Ok(());
        }
        self.file.writer().flush().map_err(io)?;
        let mut kml = File::open(self.file.temp_path()).map_err(io)?;
        let mut zipped = AtomicFile::create(&path).map_err(io)?;
        let zip_err = |e: zip::result::ZipError| {
            io(std::io::Error::other(format!("writing the archive: {e}")))
        };
        let mut zip = zip::ZipWriter::new(zipped.writer());
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(kml.metadata().map_err(io)?.len() >= 1 << 31);
        zip.start_file("doc.kml", options).map_err(zip_err)?;
        let mut chunk = vec![0u8; 1 << 20];
        loop {
            let n = kml.read(&mut chunk).map_err(io)?;
            if n == 0 {
                break;
            }
            zip.write_all(chunk.get(..n).unwrap_or_default()).map_err(io)?;
        }
        zip.finish().map_err(zip_err)?;
        report.outputs.push(zipped.commit().map_err(io)?);
        Ok(())
    }
}
