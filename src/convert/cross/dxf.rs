//! ASCII DXF drawings in conversions between formats.
//!
//! **Reading.** The entities of the ENTITIES section in model space become features, with
//! the text attributes `layer` (group 8), `handle` (5), `entity` (the type), `text` and
//! `block` (null where they do not apply):
//!
//! | entity | feature |
//! |---|---|
//! | POINT | a point at 10/20/30 |
//! | LINE | a line string 10 → 11 |
//! | LWPOLYLINE | a line string through its vertices at elevation 38; closed (70 bit 1): a polygon |
//! | POLYLINE + VERTEX (2D or 3D) | the same, through its vertices (2D: at elevation 30) |
//! | TEXT, MTEXT | a point at the insertion point 10, `text` = its string (1, MTEXT 3 + 1; formatting codes kept) |
//! | INSERT | a point at the insertion point 10, `block` = the block's name (2); its ATTRIBs are not carried (a warning counts them) |
//!
//! A geometry has z when a z value of it is not 0 (a drawing in the plane writes 30 = 0
//! everywhere, which would make every geometry 3D; GDAL's DXF reader makes a POINT or LINE
//! with a 30 group 3D even at z = 0, its polylines 3D only when a z is not 0). **Refused** (each a failure `line 12, CIRCLE handle 2F`
//! with the reason; [`ConvertOptions::skip_invalid`](super::super::ConvertOptions::skip_invalid)
//! leaves it out and lists it): curves — CIRCLE, ARC, ELLIPSE, SPLINE, polylines with bulges
//! (arc segments) — which are not densified (a densified curve is a choice of tolerance the
//! user should make in the CAD program: explode or flatten first); every other type (HATCH,
//! DIMENSION, 3DFACE, SOLID, meshes and polyface meshes, ...); entities drawn in a plane other
//! than x-y (an extrusion other than (0, 0, 1)). Paper-space entities (67 = 1, sheet
//! coordinates) are not map data: left out with a warning counting them. Text is decoded as
//! UTF-8 from AutoCAD 2007 (`$ACADVER` ≥ AC1021), before that in the drawing's
//! `$DWGCODEPAGE` (`ANSI_936`: GBK); [`ConvertOptions::encoding`](super::super::ConvertOptions::encoding)
//! overrides both. Binary DXF, a file that is not group-code/value pairs and a truncated file
//! are refused as in a same-format conversion.
//!
//! **Writing.** An AutoCAD R12 DXF (`AC1009`, code page `ANSI_936`: names in GBK, as Chinese
//! CAD programs read them; no handles, no tables — every CAD program and GDAL read such a file):
//! a point is a POINT, a line string a POLYLINE with its VERTEXes (a 3D polyline when the
//! geometry has z), a polygon one closed POLYLINE per ring (holes included: DXF has no polygon
//! with holes; read back, each ring is a polygon), multi-geometries and collections one entity
//! per part. The layer is the attribute `layer` (any case) when there is one and it is not
//! null, else `0`; characters a layer name cannot hold (`<>/\":;?*|=` and control characters)
//! become `_` (a warning says so). Every other attribute is not carried: a warning names them.
//! A feature without geometry has nothing to draw: not written, with a warning counting them.
//! Numbers: the shortest form that reads back exactly, or
//! [`ConvertOptions::precision`](super::super::ConvertOptions::precision). DXF declares no CRS:
//! a warning names the output's.

use super::super::atomic::AtomicFile;
use super::super::dxf::{
    check_magic, describe, group_pairs, number, skip_bom, Groups, Pair, PairReader,
};
use super::super::features::{
    Coord, Counted, Counter, Feature, FeatureReader, FeatureWriter, Field, FieldType, Geometry,
    Read, Schema, Shape, Value,
};
use super::super::runner::RecordSource;
use super::super::text;
use super::super::{ConvertError, ConvertReport, Failure, Job, TextEncoding};
use super::Digits;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

/// The attribute fields of a DXF input.
const FIELDS: [&str; 5] = ["layer", "handle", "entity", "text", "block"];

/// The reader of a DXF input (see the module docs).
pub(crate) fn reader<'a>(job: &Job<'a>) -> Result<Box<dyn FeatureReader + 'a>, ConvertError> {
    let mut schema = Schema {
        fields: FIELDS.iter().map(|n| Field { name: (*n).into(), kind: FieldType::Text }).collect(),
        ..Schema::default()
    };
    // First pass: the geometry types and heights.
    let mut first = Entities::open(job.input, job.options.encoding)?;
    while let Some(read) = first.next()? {
        if let Ok(Feature { geometry: Some(g), .. }) = read {
            schema.add_geometry(&g);
        }
    }
    let entities = Entities::open(job.input, job.options.encoding)?;
    Ok(Box::new(Reader { entities, schema }))
}

/// The entities of a drawing, one group (an entity with its sub-entities) at a time.
struct Entities<'p> {
    pairs: PairReader<'p, BufReader<Counted<std::fs::File>>>,
    /// Bytes read from the file.
    read: Counter,
    /// Where the ENTITIES section is being read; `None` before it and after it.
    inside: bool,
    done: bool,
    path: &'p Path,
    encoding: TextEncoding,
    /// The line of the ENTITIES section.
    opened: u64,
    /// The pair that starts the next group, read ahead.
    ahead: Option<(Vec<u8>, u64)>,
    buf: Vec<u8>,
    pairs_of: Vec<Pair>,
    paper: u64,
    attribs: u64,
}

impl<'p> Entities<'p> {
    fn open(path: &'p Path, encoding: Option<TextEncoding>) -> Result<Self, ConvertError> {
        let (file, read) = Counted::new(super::super::open_regular(path)?);
        let mut input = BufReader::with_capacity(1 << 20, file);
        check_magic(&mut input, path)?;
        skip_bom(&mut input, path)?;
        let mut pairs = PairReader::new(input, path);
        // The header's code page, then the ENTITIES section.
        let mut buf = Vec::new();
        let (mut version, mut codepage) = (Vec::new(), Vec::new());
        let mut variable = Vec::new();
        let mut inside = false;
        let mut opened = 0;
        let mut first = true;
        loop {
            buf.clear();
            let Some(p) = pairs.next(&mut buf)? else {
                if first {
                    return Err(malformed(path, 1, "the file is empty: nothing to convert"));
                }
                break;
            };
            first = false;
            match (p.code, p.text(&buf)) {
                (0, b"EOF") => break,
                (2, b"ENTITIES") => {
                    inside = true;
                    opened = p.line.saturating_sub(2);
                    break;
                }
                (9, name) => variable = name.to_vec(),
                (1, v) if variable == b"$ACADVER" => version = v.to_vec(),
                (3, v) if variable == b"$DWGCODEPAGE" => codepage = v.to_ascii_uppercase(),
                _ => {}
            }
        }
        let encoding = encoding.unwrap_or(if version.as_slice() >= b"AC1021".as_slice() {
            TextEncoding::Utf8
        } else if codepage == b"ANSI_936" {
            TextEncoding::Gbk
        } else {
            TextEncoding::Utf8
        });
        Ok(Self {
            read,
            pairs,
            inside,
            done: !inside,
            opened,
            path,
            encoding,
            ahead: None,
            buf: Vec::new(),
            pairs_of: Vec::new(),
            paper: 0,
            attribs: 0,
        })
    }

    /// The next entity as a feature; paper-space entities and comments passed over.
    fn next(&mut self) -> Result<Option<Read>, ConvertError> {
        loop {
            if self.done || !self.inside {
                return Ok(None);
            }
            self.buf.clear();
            let opened = self.opened;
            let mut groups = Groups::resume(&mut self.pairs, self.path, opened, self.ahead.take());
            let rec = groups.next_record(&mut self.buf)?;
            let (ahead, ended) = groups.suspend();
            self.ahead = ahead;
            let Some(rec) = rec else {
                self.done = true;
                return Ok(None);
            };
            if ended {
                self.inside = false; // the next call ends
            }
            self.pairs_of.clear();
            group_pairs(&self.buf, &rec, &mut self.pairs_of);
            let pairs = &self.pairs_of;
            if pairs.first().is_none_or(|p| p.code != 0) {
                continue; // comments before the first entity
            }
            let location = format!("line {}{}", rec.line, describe(&self.buf, pairs));
            let g = Group { buf: &self.buf, pairs };
            if g.text_of(67).as_deref() == Some("1") {
                self.paper += 1;
                continue;
            }
            self.attribs += g.sub_entities(b"ATTRIB");
            let feature = g.feature(self.encoding, location.clone());
            return Ok(Some(feature.map_err(|reason| Failure { location, reason })));
        }
    }
}

fn malformed(path: &Path, line: u64, message: &str) -> ConvertError {
    ConvertError::Malformed {
        path: path.to_path_buf(),
        location: format!("line {line}"),
        message: message.into(),
    }
}

/// An entity group's pairs in their buffer.
struct Group<'a> {
    buf: &'a [u8],
    pairs: &'a [Pair],
}

impl Group<'_> {
    /// The pairs of the main entity (before its first sub-entity).
    fn main(&self) -> &[Pair] {
        let end =
            self.pairs.iter().skip(1).position(|p| p.code == 0).map_or(self.pairs.len(), |i| i + 1);
        &self.pairs[..end]
    }

    fn text_of(&self, code: i32) -> Option<String> {
        self.main()
            .iter()
            .find(|p| p.code == code)
            .map(|p| String::from_utf8_lossy(p.text(self.buf)).into_owned())
    }

    /// How many sub-entities of `kind` the group holds.
    fn sub_entities(&self, kind: &[u8]) -> u64 {
        self.pairs.iter().skip(1).filter(|p| p.code == 0 && p.text(self.buf) == kind).count() as u64
    }

    /// The first value of `code` in `pairs` as a number (`default` if absent).
    fn num(&self, pairs: &[Pair], code: i32, default: f64) -> Result<f64, String> {
        match pairs.iter().find(|p| p.code == code) {
            None => Ok(default),
            Some(p) => number(self.buf, p).ok_or_else(|| {
                format!(
                    "line {}: group {code} '{}' is not a number",
                    p.line,
                    text::shown(p.text(self.buf))
                )
            }),
        }
    }

    /// The point `10 + k` / `20 + k` / `30 + k` of `pairs` (z = `z0` when absent).
    fn point(&self, pairs: &[Pair], k: i32, z0: f64) -> Result<Coord, String> {
        let x = pairs.iter().find(|p| p.code == 10 + k);
        if x.is_none() {
            return Err(format!("it has no point {} (group {})", k, 10 + k));
        }
        Ok([
            self.num(pairs, 10 + k, 0.0)?,
            self.num(pairs, 20 + k, 0.0)?,
            self.num(pairs, 30 + k, z0)?,
        ])
    }

    /// Refuses an entity drawn outside the x-y plane.
    fn flat(&self, pairs: &[Pair]) -> Result<(), String> {
        let n =
            [self.num(pairs, 210, 0.0)?, self.num(pairs, 220, 0.0)?, self.num(pairs, 230, 1.0)?];
        if n == [0.0, 0.0, 1.0] {
            Ok(())
        } else {
            Err(format!(
                "it is drawn in the plane of extrusion ({}, {}, {}), not in map coordinates",
                n[0], n[1], n[2]
            ))
        }
    }

    fn decode(&self, p: &Pair, encoding: TextEncoding) -> String {
        let raw = p.text(self.buf);
        text::decode(raw, encoding)
            .map(|t| t.into_owned())
            .unwrap_or_else(|_| String::from_utf8_lossy(raw).into_owned())
    }

    /// The group as a feature; `Err`: why it is refused.
    fn feature(&self, encoding: TextEncoding, location: String) -> Result<Feature, String> {
        let main = self.main();
        let kind = String::from_utf8_lossy(main[0].text(self.buf)).into_owned();
        let value = |code: i32| {
            main.iter()
                .find(|p| p.code == code)
                .map_or(Value::Null, |p| Value::Text(self.decode(p, encoding)))
        };
        let (mut text, mut block) = (Value::Null, Value::Null);
        let bulge = |pairs: &[Pair]| -> Result<bool, String> {
            for p in pairs.iter().filter(|p| p.code == 42) {
                if number(self.buf, p) != Some(0.0) {
                    return Ok(true);
                }
            }
            Ok(false)
        };
        let curve = |what: &str| {
            format!(
                "{what}: curves are not densified into features; flatten or explode them in the \
                 CAD program first, or leave them out (--skip-invalid)"
            )
        };
        let shape = match kind.as_str() {
            "POINT" => Shape::Point(self.point(main, 0, 0.0)?),
            "LINE" => Shape::LineString(vec![self.point(main, 0, 0.0)?, self.point(main, 1, 0.0)?]),
            "LWPOLYLINE" => {
                self.flat(main)?;
                if bulge(main)? {
                    return Err(curve("a polyline with bulges (arc segments)"));
                }
                let z = self.num(main, 38, 0.0)?;
                let mut vertices = Vec::new();
                let mut x = None;
                for p in main {
                    match p.code {
                        10 => x = Some(number(self.buf, p).ok_or_else(|| bad(self.buf, p))?),
                        20 => {
                            let y = number(self.buf, p).ok_or_else(|| bad(self.buf, p))?;
                            let Some(x) = x.take() else {
                                return Err(format!(
                                    "line {}: a y (20) without its x (10)",
                                    p.line
                                ));
                            };
                            vertices.push([x, y, z]);
                        }
                        _ => {}
                    }
                }
                let closed = (self.num(main, 70, 0.0)? as i64) & 1 != 0;
                polyline(vertices, closed)
            }
            "POLYLINE" => {
                let flags = self.num(main, 70, 0.0)? as i64;
                if flags & (16 | 64) != 0 {
                    return Err("a polygon or polyface mesh is not read into features (it is a surface); explode it first, or leave it out (--skip-invalid)".into());
                }
                let three_d = flags & 8 != 0;
                if !three_d {
                    self.flat(main)?;
                }
                let z0 = if three_d { 0.0 } else { self.num(main, 30, 0.0)? };
                let mut vertices = Vec::new();
                let mut rest = &self.pairs[main.len()..];
                while let Some(first) = rest.first() {
                    let end =
                        rest.iter().skip(1).position(|p| p.code == 0).map_or(rest.len(), |i| i + 1);
                    let (vertex, after) = rest.split_at(end);
                    rest = after;
                    if first.text(self.buf) != b"VERTEX" {
                        continue;
                    }
                    if bulge(vertex)? {
                        return Err(curve("a polyline with bulges (arc segments)"));
                    }
                    let mut p = self.point(vertex, 0, z0)?;
                    if !three_d {
                        p[2] = z0;
                    }
                    vertices.push(p);
                }
                polyline(vertices, flags & 1 != 0)
            }
            "TEXT" | "MTEXT" => {
                let mut s = String::new();
                for p in main.iter().filter(|p| p.code == 3) {
                    s.push_str(&self.decode(p, encoding));
                }
                if let Some(p) = main.iter().find(|p| p.code == 1) {
                    s.push_str(&self.decode(p, encoding));
                }
                text = Value::Text(s);
                if kind == "TEXT" {
                    self.flat(main)?;
                }
                Shape::Point(self.point(main, 0, 0.0)?)
            }
            "INSERT" => {
                self.flat(main)?;
                block = value(2);
                Shape::Point(self.point(main, 0, 0.0)?)
            }
            "CIRCLE" | "ARC" | "ELLIPSE" | "SPLINE" => return Err(curve(&format!("a {kind}"))),
            _ => {
                return Err(format!(
                    "{} entities are not read into features (only POINT, LINE, LWPOLYLINE, \
                     POLYLINE, TEXT, MTEXT and INSERT); explode them first, or leave them out \
                     (--skip-invalid)",
                    text::shorten(&kind)
                ))
            }
        };
        let mut has_z = false;
        shape.for_each(&mut |c| has_z |= c[2] != 0.0);
        let attributes = vec![value(8), value(5), Value::Text(kind), text, block];
        Ok(Feature { location, geometry: Some(Geometry { shape, has_z }), attributes })
    }
}

fn bad(buf: &[u8], p: &Pair) -> String {
    format!("line {}: group {} '{}' is not a number", p.line, p.code, text::shown(p.text(buf)))
}

/// A polyline's shape: a line string, or a polygon when closed (the ring closed).
fn polyline(mut vertices: Vec<Coord>, closed: bool) -> Shape {
    if closed && vertices.len() >= 3 {
        if vertices.first() != vertices.last() {
            if let Some(&first) = vertices.first() {
                vertices.push(first);
            }
        }
        Shape::Polygon(vec![vertices])
    } else {
        Shape::LineString(vertices)
    }
}

struct Reader<'p> {
    entities: Entities<'p>,
    schema: Schema,
}

impl FeatureReader for Reader<'_> {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn consumed(&self) -> u64 {
        self.entities.read.get()
    }

    fn next(&mut self) -> Result<Option<Read>, ConvertError> {
        self.entities.next()
    }

    fn warnings(&mut self) -> Vec<String> {
        let mut w = Vec::new();
        if self.entities.paper > 0 {
            w.push(format!(
                "{} paper-space entities (group 67 = 1, sheet coordinates) are not map data: \
                 left out",
                self.entities.paper
            ));
        }
        if self.entities.attribs > 0 {
            w.push(format!(
                "{} block attributes (ATTRIB) of INSERTs are not carried (the INSERT is a point \
                 with its block name)",
                self.entities.attribs
            ));
        }
        w
    }
}

/// Characters a layer name cannot hold.
const LAYER_FORBIDDEN: &str = "<>/\\\":;?*|='";

/// The writer of a DXF output (see the module docs).
pub(crate) fn writer(
    job: &Job<'_>,
    schema: &Schema,
) -> Result<Box<dyn FeatureWriter>, ConvertError> {
    let layer = schema.fields.iter().position(|f| f.name.trim().eq_ignore_ascii_case("layer"));
    let mut warnings = vec![format!(
        "DXF declares no CRS: the output's coordinates are in {} (keep that with the file)",
        job.target.id()
    )];
    let dropped: Vec<&str> = schema
        .fields
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != layer)
        .map(|(_, f)| f.name.as_str())
        .collect();
    if !dropped.is_empty() {
        warnings.push(format!(
            "DXF entities carry a layer only: the attribute(s) {} are not carried",
            dropped.join(", ")
        ));
    }
    let path = job.output.to_path_buf();
    let io = |source| ConvertError::Io { path: path.clone(), source };
    let mut file = AtomicFile::create(job.output).map_err(io)?;
    file.writer()
        .write_all(
            b"  0\r\nSECTION\r\n  2\r\nHEADER\r\n  9\r\n$ACADVER\r\n  1\r\nAC1009\r\n  9\r\n\
              $DWGCODEPAGE\r\n  3\r\nANSI_936\r\n  0\r\nENDSEC\r\n  0\r\nSECTION\r\n  2\r\n\
              ENTITIES\r\n",
        )
        .map_err(io)?;
    Ok(Box::new(Writer {
        file,
        path,
        layer,
        digits: Digits::of(job),
        warnings,
        without_geometry: 0,
        renamed_layers: 0,
        buf: Vec::new(),
    }))
}

struct Writer {
    file: AtomicFile,
    path: PathBuf,
    layer: Option<usize>,
    digits: Digits,
    warnings: Vec<String>,
    without_geometry: u64,
    renamed_layers: u64,
    buf: Vec<u8>,
}

impl Writer {
    /// The layer name of `f`, in GBK.
    fn layer(&mut self, f: &Feature) -> Result<Vec<u8>, ConvertError> {
        let name = match self.layer.and_then(|i| f.attributes.get(i)) {
            None | Some(Value::Null) => return Ok(b"0".to_vec()),
            Some(v) => v.to_string(),
        };
        let clean: String = name
            .chars()
            .map(|c| if c.is_control() || LAYER_FORBIDDEN.contains(c) { '_' } else { c })
            .collect();
        if clean != name {
            self.renamed_layers += 1;
        }
        let clean = if clean.trim().is_empty() { "0".to_string() } else { clean };
        text::encode(&clean, TextEncoding::Gbk).map(|b| b.into_owned()).map_err(|c| {
            ConvertError::Options {
                path: self.path.clone(),
                message: format!(
                    "{}: its layer '{}' holds '{c}', which the drawing's code page (ANSI_936, \
                     GBK) cannot hold",
                    f.location,
                    text::shorten(&clean)
                ),
            }
        })
    }

    fn pair(&mut self, code: i32, value: &[u8]) {
        self.buf.extend_from_slice(format!("{code:>3}\r\n").as_bytes());
        self.buf.extend_from_slice(value);
        self.buf.extend_from_slice(b"\r\n");
    }

    fn coords(&mut self, c: &Coord, z: bool) {
        for (code, v, xy) in [(10, c[0], true), (20, c[1], true), (30, c[2], false)] {
            if !xy && !z {
                break;
            }
            let mut text = Vec::new();
            if xy {
                self.digits.push_xy(&mut text, v);
            } else {
                self.digits.push_z(&mut text, v);
            }
            self.pair(code, &text);
        }
    }

    fn shape(&mut self, shape: &Shape, z: bool, layer: &[u8]) {
        match shape {
            Shape::Point(c) => {
                if c[0].is_nan() && c[1].is_nan() {
                    return; // an empty point: nothing to draw
                }
                self.pair(0, b"POINT");
                self.pair(8, layer);
                self.coords(c, z);
            }
            Shape::LineString(cs) => self.polyline(cs, false, z, layer),
            Shape::Polygon(rings) => {
                for r in rings {
                    let open = match r.split_last() {
                        Some((last, rest)) if rest.first() == Some(last) => rest,
                        _ => r.as_slice(),
                    };
                    self.polyline(open, true, z, layer);
                }
            }
            Shape::MultiPoint(cs) => {
                for c in cs {
                    self.shape(&Shape::Point(*c), z, layer);
                }
            }
            Shape::MultiLineString(lines) => {
                for l in lines {
                    self.polyline(l, false, z, layer);
                }
            }
            Shape::MultiPolygon(polygons) => {
                for p in polygons {
                    self.shape(&Shape::Polygon(p.clone()), z, layer);
                }
            }
            Shape::GeometryCollection(shapes) => {
                for s in shapes {
                    self.shape(s, z, layer);
                }
            }
        }
    }

    /// A POLYLINE (3D when `z`) with its VERTEXes and SEQEND.
    fn polyline(&mut self, cs: &[Coord], closed: bool, z: bool, layer: &[u8]) {
        if cs.is_empty() {
            return;
        }
        let flags = i32::from(closed) | if z { 8 } else { 0 };
        self.pair(0, b"POLYLINE");
        self.pair(8, layer);
        self.pair(66, b"1");
        self.pair(10, b"0");
        self.pair(20, b"0");
        self.pair(30, b"0");
        self.pair(70, flags.to_string().as_bytes());
        for c in cs {
            self.pair(0, b"VERTEX");
            self.pair(8, layer);
            self.coords(c, z);
            if z {
                self.pair(70, b"32");
            }
        }
        self.pair(0, b"SEQEND");
        self.pair(8, layer);
    }
}

impl FeatureWriter for Writer {
    fn write(&mut self, features: &[Feature]) -> Result<(), ConvertError> {
        self.buf.clear();
        for f in features {
            let Some(g) = &f.geometry else {
                self.without_geometry += 1;
                continue;
            };
            let layer = self.layer(f)?;
            self.shape(&g.shape, g.has_z, &layer);
        }
        let path = &self.path;
        self.file
            .writer()
            .write_all(&self.buf)
            .map_err(|source| ConvertError::Io { path: path.clone(), source })
    }

    fn finish(mut self: Box<Self>, report: &mut ConvertReport) -> Result<(), ConvertError> {
        let path = self.path.clone();
        let io = |source| ConvertError::Io { path: path.clone(), source };
        self.file.writer().write_all(b"  0\r\nENDSEC\r\n  0\r\nEOF\r\n").map_err(io)?;
        if self.without_geometry > 0 {
            self.warnings.push(format!(
                "{} feature(s) without geometry are not written (a DXF entity has a position)",
                self.without_geometry
            ));
        }
        if self.renamed_layers > 0 {
            self.warnings.push(format!(
                "{} layer name(s) held characters a DXF layer name cannot (<>/\\\":;?*|=' or \
                 control characters): written with _ in their place",
                self.renamed_layers
            ));
        }
        report.warnings.append(&mut self.warnings);
        report.outputs.push(self.file.commit().map_err(io)?);
        Ok(())
    }
}
