//! FlatGeobuf in conversions between formats.
//!
//! **Reading**: the header's columns are the fields, typed: `Byte`, `UByte`, `Short`,
//! `UShort`, `Int`, `UInt`, `Long`, `ULong` → integer (a `ULong` value beyond 2⁶³ − 1 fails its
//! feature, naming the column), `Bool` → boolean, `Float`, `Double` → real, `String` and `Json`
//! → text (JSON kept as its text), `DateTime` → date when every value of the column is a plain
//! `YYYY-MM-DD` (checked in the first pass), otherwise text (the ISO 8601 value as written);
//! `Binary` columns cannot be carried by the model and are refused, naming the column (a
//! conversion into FlatGeobuf keeps them). A first pass reads the geometry types (when the
//! header says `Unknown`) and the date columns. Geometries: the seven simple-feature types
//! with `z` when present; `m` values are dropped with a warning; curves, surfaces, TINs and
//! triangles fail their feature with the type's name. A feature with its own `columns` is
//! refused. Features are read one by one from the stream (bounded memory).
//!
//! **Writing**: one layer named after the output file (`roads.fgb` → `roads`); columns
//! integer → `Long`, real → `Double`, text → `String`, boolean → `Bool`, date → `DateTime`
//! (the `YYYY-MM-DD` text); the geometry type when there is one, else `Unknown` with each
//! geometry's own type; `has_z` from the schema; the target's `crs` as a same-format conversion
//! writes it; the envelope; and the packed R-tree index (node size 16, as GDAL writes by
//! default) in the input's feature order. The features are written into a temporary file
//! first (the index comes before them in the file), then the output is assembled and renamed
//! into place; dropped unfinished, both temporaries are removed.

use super::super::atomic::AtomicFile;
use super::super::features::{
    Coord, Feature, FeatureReader, FeatureWriter, Field, FieldType, Geometry, GeometryKind, Read,
    Schema, Shape, Value,
};
use super::super::fgb::{
    build_index, column_type as ct, f64_at, feature_geometry, finish, u32_at, Column, CrsInfo,
    Header, Input, Node, Obj, Table, Val, MAGIC, MAX_DEPTH,
};
use super::super::{ConvertError, ConvertReport, Failure, Job};
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The name of a FlatGeobuf geometry type.
fn type_name(t: u8) -> &'static str {
    match t {
        0 => "Unknown",
        1 => "Point",
        2 => "LineString",
        3 => "Polygon",
        4 => "MultiPoint",
        5 => "MultiLineString",
        6 => "MultiPolygon",
        7 => "GeometryCollection",
        8 => "CircularString",
        9 => "CompoundCurve",
        10 => "CurvePolygon",
        11 => "MultiCurve",
        12 => "MultiSurface",
        13 => "Curve",
        14 => "Surface",
        15 => "PolyhedralSurface",
        16 => "TIN",
        17 => "Triangle",
        _ => "an unknown type",
    }
}

fn kind_of(t: u8) -> Option<GeometryKind> {
    GeometryKind::from_wkb_code(u32::from(t))
}

fn malformed(path: &Path, location: String, message: String) -> ConvertError {
    ConvertError::Malformed { path: path.to_path_buf(), location, message }
}

fn is_plain_date(s: &[u8]) -> bool {
    s.len() == 10
        && s.iter()
            .enumerate()
            .all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() })
}

/// Walks a feature's properties: `f(column index, value bytes)`.
fn walk_properties(
    b: &[u8],
    columns: &[Column],
    mut f: impl FnMut(usize, &[u8]) -> Result<(), String>,
) -> Result<(), String> {
    let mut at = 0;
    while at < b.len() {
        let i = b
            .get(at..at + 2)
            .map(|s| u16::from_le_bytes([s[0], s[1]]) as usize)
            .ok_or("properties end inside a column index")?;
        at += 2;
        let c =
            columns.get(i).ok_or_else(|| format!("property of column {i}, beyond the columns"))?;
        let size = match c.kind {
            ct::BYTE | ct::UBYTE | ct::BOOL => 1,
            ct::SHORT | ct::USHORT => 2,
            ct::INT | ct::UINT | ct::FLOAT => 4,
            ct::LONG | ct::ULONG | ct::DOUBLE => 8,
            ct::STRING | ct::JSON | ct::DATETIME | ct::BINARY => {
                let n = u32_at(b, at).ok_or("properties end inside a length")? as usize;
                at += 4;
                n
            }
            k => return Err(format!("column {i} has unknown type {k}")),
        };
        let end = at.checked_add(size).filter(|e| *e <= b.len()).ok_or_else(|| {
            format!(
                "the value of column '{}' runs past the properties",
                String::from_utf8_lossy(&c.name)
            )
        })?;
        f(i, &b[at..end])?;
        at = end;
    }
    Ok(())
}

/// The reader of a FlatGeobuf input (see the module docs).
pub(crate) fn reader<'a>(job: &Job<'a>) -> Result<Box<dyn FeatureReader + 'a>, ConvertError> {
    let path = job.input;
    let mut first = Input::open(path)?;
    let header = first.header.clone();
    for c in &header.columns {
        if c.kind == ct::BINARY {
            return Err(ConvertError::Options {
                path: path.to_path_buf(),
                message: format!(
                    "column '{}' is binary, which conversions between formats cannot carry; \
                     convert into FlatGeobuf (.fgb) to keep it",
                    String::from_utf8_lossy(&c.name)
                ),
            });
        }
    }
    let mut schema = Schema { has_z: header.has_z, ..Schema::default() };
    let mut dates: Vec<bool> = header.columns.iter().map(|c| c.kind == ct::DATETIME).collect();
    let mut b = Vec::new();
    let header_kind = kind_of(header.geometry_type);
    if let Some(k) = header_kind {
        schema.kinds.push(k);
    }
    while {
        b.clear();
        first.next_into(&mut b)?
    } {
        let location = format!("feature {}", first.read);
        let bad = |m: String| malformed(path, location.clone(), m);
        if dates.iter().any(|d| *d) {
            let props = Table::root(&b).and_then(|f| f.bytes(1)).map_err(bad)?;
            walk_properties(props.unwrap_or_default(), &header.columns, |i, v| {
                if dates[i] && !is_plain_date(v) {
                    dates[i] = false;
                }
                Ok(())
            })
            .map_err(bad)?;
        }
        if header_kind.is_none() {
            if let Some(g) = feature_geometry(&b).map_err(bad)? {
                let t = g.u8(6, 0).map_err(bad)?;
                if let Some(k) = kind_of(t) {
                    if !schema.kinds.contains(&k) {
                        schema.kinds.push(k);
                    }
                }
                schema.has_z |= g.f64s(2).map_err(bad)?.is_some();
            }
        }
    }
    let mut fields = Vec::new();
    for (c, date) in header.columns.iter().zip(&dates) {
        let kind = match c.kind {
            ct::BYTE
            | ct::UBYTE
            | ct::SHORT
            | ct::USHORT
            | ct::INT
            | ct::UINT
            | ct::LONG
            | ct::ULONG => FieldType::Integer,
            ct::BOOL => FieldType::Boolean,
            ct::FLOAT | ct::DOUBLE => FieldType::Real,
            ct::DATETIME if *date => FieldType::Date,
            _ => FieldType::Text,
        };
        fields.push(Field { name: String::from_utf8_lossy(&c.name).into_owned(), kind });
    }
    schema.fields = fields;
    Ok(Box::new(Reader {
        input: Input::open(path)?,
        path: path.to_path_buf(),
        header,
        schema,
        buf: Vec::new(),
        m_dropped: 0,
    }))
}

struct Reader {
    input: Input,
    path: PathBuf,
    header: Header,
    schema: Schema,
    buf: Vec<u8>,
    m_dropped: u64,
}

/// A geometry that cannot be read into the model (a curve type, ...): fails its feature.
struct Unsupported(String);

fn coords(g: &Table<'_>, has_z: bool) -> Result<Vec<Coord>, String> {
    let b = g.buffer();
    let Some((xy, len)) = g.f64s(1)? else { return Ok(Vec::new()) };
    if len % 2 != 0 {
        return Err(format!("an xy array of {len} values (pairs expected)"));
    }
    let n = len / 2;
    let z = match g.f64s(2)? {
        Some((z, zn)) if zn == n => Some(z),
        Some((_, zn)) => return Err(format!("{zn} z values for {n} points")),
        None => None,
    };
    Ok((0..n)
        .map(|i| {
            let x = f64_at(b, xy + 16 * i).unwrap_or(f64::NAN);
            let y = f64_at(b, xy + 16 * i + 8).unwrap_or(f64::NAN);
            let z = if has_z { z.and_then(|z| f64_at(b, z + 8 * i)).unwrap_or(0.0) } else { 0.0 };
            [x, y, z]
        })
        .collect())
}

fn split(g: &Table<'_>, c: Vec<Coord>) -> Result<Vec<Vec<Coord>>, String> {
    let Some((at, n)) = g.vector(0, 4)? else {
        return Ok(if c.is_empty() { Vec::new() } else { vec![c] });
    };
    let mut out = Vec::with_capacity(n);
    let mut start = 0usize;
    for i in 0..n {
        let end = u32_at(g.buffer(), at + 4 * i).unwrap_or(0) as usize;
        if end < start || end > c.len() {
            return Err(format!("part end {end} outside 0..{} or before {start}", c.len()));
        }
        out.push(c[start..end].to_vec());
        start = end;
    }
    Ok(out)
}

fn shape(
    g: &Table<'_>,
    t: u8,
    has_z: bool,
    depth: usize,
    m: &mut bool,
) -> Result<Result<Shape, Unsupported>, String> {
    if depth > MAX_DEPTH {
        return Err(format!("geometry parts nested deeper than {MAX_DEPTH}"));
    }
    *m |= g.f64s(3)?.is_some();
    let parts = |m: &mut bool| -> Result<Result<Vec<(u8, Shape)>, Unsupported>, String> {
        let mut out = Vec::new();
        for p in g.tables(7)? {
            let pt = if t == 6 { p.u8(6, 3)? } else { p.u8(6, 0)? };
            match shape(&p, pt, has_z, depth + 1, m)? {
                Ok(s) => out.push((pt, s)),
                Err(u) => return Ok(Err(u)),
            }
        }
        Ok(Ok(out))
    };
    Ok(Ok(match t {
        1 => Shape::Point(coords(g, has_z)?.first().copied().unwrap_or([f64::NAN, f64::NAN, 0.0])),
        2 => Shape::LineString(coords(g, has_z)?),
        3 => Shape::Polygon(split(g, coords(g, has_z)?)?),
        4 => Shape::MultiPoint(coords(g, has_z)?),
        5 => Shape::MultiLineString(split(g, coords(g, has_z)?)?),
        6 => {
            let list = match parts(m)? {
                Ok(l) => l,
                Err(u) => return Ok(Err(u)),
            };
            let mut polygons = Vec::new();
            for (_, s) in list {
                match s {
                    Shape::Polygon(rings) => polygons.push(rings),
                    other => {
                        return Err(format!("a {} part in a MultiPolygon", other.kind().name()))
                    }
                }
            }
            if polygons.is_empty() && g.f64s(1)?.is_some() {
                polygons.push(split(g, coords(g, has_z)?)?);
            }
            Shape::MultiPolygon(polygons)
        }
        7 => match parts(m)? {
            Ok(l) => Shape::GeometryCollection(l.into_iter().map(|(_, s)| s).collect()),
            Err(u) => return Ok(Err(u)),
        },
        other => {
            return Ok(Err(Unsupported(format!(
                "{} geometries are not supported in conversions between formats",
                type_name(other)
            ))))
        }
    }))
}

impl Reader {
    fn feature(&mut self, location: String) -> Result<Read, ConvertError> {
        let path = self.path.clone();
        let bad = |m: String| malformed(&path, location.clone(), m);
        let b = &self.buf;
        let f = Table::root(b).map_err(bad)?;
        let geometry = match feature_geometry(b).map_err(bad)? {
            None => None,
            Some(g) => {
                let t = if self.header.geometry_type == 0 {
                    g.u8(6, 0).map_err(bad)?
                } else {
                    self.header.geometry_type
                };
                let has_z = self.header.has_z || g.f64s(2).map_err(bad)?.is_some();
                let mut m = false;
                match shape(&g, t, has_z, 0, &mut m).map_err(bad)? {
                    Err(Unsupported(reason)) => return Ok(Err(Failure { location, reason })),
                    Ok(s) => {
                        self.m_dropped += u64::from(m);
                        match s {
                            Shape::Point(c) if c[0].is_nan() && c[1].is_nan() => None,
                            s => Some(Geometry { shape: s, has_z }),
                        }
                    }
                }
            }
        };
        let mut attributes = vec![Value::Null; self.schema.fields.len()];
        let props = f.bytes(1).map_err(bad)?.unwrap_or_default();
        let columns = &self.header.columns;
        let fields = &self.schema.fields;
        let mut failure = None;
        walk_properties(props, columns, |i, v| {
            let c = &columns[i];
            let int = |v: &[u8]| -> i64 {
                let mut a = [0u8; 8];
                let signed = matches!(c.kind, ct::BYTE | ct::SHORT | ct::INT | ct::LONG);
                let fill = if signed && v.last().is_some_and(|x| x & 0x80 != 0) { 0xff } else { 0 };
                a.fill(fill);
                a[..v.len()].copy_from_slice(v);
                i64::from_le_bytes(a)
            };
            let value = match c.kind {
                ct::BOOL => Value::Boolean(v.first().is_some_and(|x| *x != 0)),
                ct::ULONG => {
                    let u = int(v) as u64;
                    match i64::try_from(u) {
                        Ok(i) => Value::Integer(i),
                        Err(_) => {
                            failure = Some(format!(
                                "column '{}': {u} is beyond the 64-bit signed integers",
                                fields[i].name
                            ));
                            Value::Null
                        }
                    }
                }
                ct::BYTE | ct::UBYTE | ct::SHORT | ct::USHORT | ct::INT | ct::UINT | ct::LONG => {
                    Value::Integer(int(v))
                }
                ct::FLOAT => Value::Real(f64::from(f32::from_le_bytes([v[0], v[1], v[2], v[3]]))),
                ct::DOUBLE => Value::Real(f64_at(v, 0).unwrap_or(f64::NAN)),
                _ => {
                    let t = std::str::from_utf8(v).map_err(|e| {
                        format!("column '{}': text that is not UTF-8: {e}", fields[i].name)
                    })?;
                    match fields[i].kind {
                        FieldType::Date => Value::Date(t.to_string()),
                        _ => Value::Text(t.to_string()),
                    }
                }
            };
            attributes[i] = value;
            Ok(())
        })
        .map_err(bad)?;
        if let Some(reason) = failure {
            return Ok(Err(Failure { location, reason }));
        }
        Ok(Ok(Feature { location, geometry, attributes }))
    }
}

impl FeatureReader for Reader {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn consumed(&self) -> u64 {
        self.input.position()
    }

    fn next(&mut self) -> Result<Option<Read>, ConvertError> {
        self.buf.clear();
        if !self.input.next_into(&mut self.buf)? {
            return Ok(None);
        }
        let location = format!("feature {}", self.input.read);
        self.feature(location).map(Some)
    }

    fn warnings(&mut self) -> Vec<String> {
        if self.m_dropped > 0 {
            vec![format!("{} geometries had m values; they are dropped", self.m_dropped)]
        } else {
            Vec::new()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

/// A geometry laid out as FlatGeobuf stores it.
struct Flat {
    kind: u8,
    xy: Vec<f64>,
    z: Vec<f64>,
    ends: Vec<u32>,
    parts: Vec<Flat>,
}

fn code(k: GeometryKind) -> u8 {
    k.wkb_code() as u8
}

fn flat(s: &Shape, has_z: bool) -> Flat {
    let mut f = Flat {
        kind: code(s.kind()),
        xy: Vec::new(),
        z: Vec::new(),
        ends: Vec::new(),
        parts: Vec::new(),
    };
    let push = |f: &mut Flat, c: &Coord| {
        f.xy.push(c[0]);
        f.xy.push(c[1]);
        if has_z {
            f.z.push(c[2]);
        }
    };
    match s {
        Shape::Point(c) => push(&mut f, c),
        Shape::LineString(cs) | Shape::MultiPoint(cs) => cs.iter().for_each(|c| push(&mut f, c)),
        Shape::Polygon(rings) | Shape::MultiLineString(rings) => {
            for r in rings {
                r.iter().for_each(|c| push(&mut f, c));
                f.ends.push((f.xy.len() / 2) as u32);
            }
        }
        Shape::MultiPolygon(polygons) => {
            f.parts = polygons.iter().map(|p| flat(&Shape::Polygon(p.clone()), has_z)).collect();
        }
        Shape::GeometryCollection(shapes) => {
            f.parts = shapes.iter().map(|s| flat(s, has_z)).collect();
        }
    }
    f
}

fn geometry_obj(f: &Flat) -> Obj<'_> {
    let mut o = Obj::default();
    if !f.ends.is_empty() {
        o = o.with(0, Val::U32s(&f.ends));
    }
    if !f.xy.is_empty() {
        o = o.with(1, Val::F64s(&f.xy));
    }
    if !f.z.is_empty() {
        o = o.with(2, Val::F64s(&f.z));
    }
    o = o.with(6, Val::U8(f.kind));
    if !f.parts.is_empty() {
        o = o.with(7, Val::Tables(f.parts.iter().map(geometry_obj).collect()));
    }
    o
}

/// The writer of a FlatGeobuf output (see the module docs).
pub(crate) fn writer(
    job: &Job<'_>,
    schema: &Schema,
) -> Result<Box<dyn FeatureWriter>, ConvertError> {
    let path = job.output.to_path_buf();
    if schema.fields.len() > usize::from(u16::MAX) {
        return Err(ConvertError::Options {
            path,
            message: format!(
                "{} fields; FlatGeobuf holds at most {}",
                schema.fields.len(),
                u16::MAX
            ),
        });
    }
    let io = |source| ConvertError::Io { path: job.output.to_path_buf(), source };
    let features = AtomicFile::create(job.output).map_err(io)?;
    let mut warnings = Vec::new();
    if let Some(w) = super::precision_unused(job, "FlatGeobuf") {
        warnings.push(w);
    }
    let (crs, warning) = CrsInfo::for_target(job.target);
    warnings.extend(warning);
    let columns = schema
        .fields
        .iter()
        .map(|f| {
            let kind = match f.kind {
                FieldType::Integer => ct::LONG,
                FieldType::Real => ct::DOUBLE,
                FieldType::Text => ct::STRING,
                FieldType::Boolean => ct::BOOL,
                FieldType::Date => ct::DATETIME,
            };
            Column::new(&f.name, kind)
        })
        .collect();
    let name = job
        .output
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "features".into());
    let header = Header {
        name: Some(name.into_bytes()),
        geometry_type: match schema.kinds.as_slice() {
            [one] => code(*one),
            _ => 0,
        },
        has_z: schema.has_z,
        columns,
        index_node_size: 16,
        crs: Some(crs),
        ..Header::default()
    };
    Ok(Box::new(Writer {
        features: Some(features),
        path,
        header,
        kinds: schema.fields.iter().map(|f| f.kind).collect(),
        leaves: Vec::new(),
        offset: 0,
        warnings,
    }))
}

struct Writer {
    features: Option<AtomicFile>,
    path: PathBuf,
    header: Header,
    kinds: Vec<FieldType>,
    leaves: Vec<Node>,
    offset: u64,
    warnings: Vec<String>,
}

impl Writer {
    fn properties(&self, f: &Feature) -> Result<Vec<u8>, ConvertError> {
        let mut p = Vec::new();
        for (i, (v, kind)) in f.attributes.iter().zip(&self.kinds).enumerate() {
            if v.is_null() {
                continue;
            }
            p.extend((i as u16).to_le_bytes());
            match (kind, kind.coerce(v.clone())) {
                (FieldType::Integer, Value::Integer(x)) => p.extend(x.to_le_bytes()),
                (FieldType::Real, Value::Real(x)) => p.extend(x.to_le_bytes()),
                (FieldType::Boolean, Value::Boolean(x)) => p.push(u8::from(x)),
                (FieldType::Text | FieldType::Date, Value::Text(t) | Value::Date(t)) => {
                    p.extend((t.len() as u32).to_le_bytes());
                    p.extend_from_slice(t.as_bytes());
                }
                (k, other) => {
                    return Err(ConvertError::Options {
                        path: self.path.clone(),
                        message: format!(
                            "{}: value {other} in the {k:?} column '{}'",
                            f.location,
                            String::from_utf8_lossy(&self.header.columns[i].name)
                        ),
                    })
                }
            }
        }
        Ok(p)
    }
}

impl FeatureWriter for Writer {
    fn write(&mut self, features: &[Feature]) -> Result<(), ConvertError> {
        let path = self.path.clone();
        let io = |source| ConvertError::Io { path: path.clone(), source };
        for f in features {
            let props = self.properties(f)?;
            let mut node = Node::empty(self.offset);
            let fl = f.geometry.as_ref().map(|g| {
                g.shape.for_each(&mut |c| {
                    if !(c[0].is_nan() && c[1].is_nan()) {
                        node.expand(&Node {
                            min_x: c[0],
                            min_y: c[1],
                            max_x: c[0],
                            max_y: c[1],
                            offset: 0,
                        });
                    }
                });
                flat(&g.shape, g.has_z)
            });
            let mut o = Obj::default();
            if let Some(fl) = &fl {
                o = o.with(0, Val::Table(geometry_obj(fl)));
            }
            if !props.is_empty() {
                o = o.with(1, Val::Bytes(&props));
            }
            let b = finish(&o);
            let Some(out) = self.features.as_mut() else { return Ok(()) };
            out.writer().write_all(&b).map_err(io)?;
            self.leaves.push(node);
            self.offset += b.len() as u64;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>, report: &mut ConvertReport) -> Result<(), ConvertError> {
        let path = self.path.clone();
        let io = |source| ConvertError::Io { path: path.clone(), source };
        let Some(mut features) = self.features.take() else { return Ok(()) };
        features.writer().flush().map_err(io)?;
        let mut extent = Node::empty(0);
        for l in &self.leaves {
            extent.expand(l);
        }
        let mut h = self.header.clone();
        h.features_count = self.leaves.len() as u64;
        if !self.leaves.is_empty() {
            h.envelope = Some(vec![extent.min_x, extent.min_y, extent.max_x, extent.max_y]);
        } else {
            h.index_node_size = 0;
        }
        let (head, _, _) = h.write();
        let mut out = AtomicFile::create(&self.path).map_err(io)?;
        let w = out.writer();
        w.write_all(&MAGIC).and_then(|_| w.write_all(&[1])).map_err(io)?;
        w.write_all(&head).map_err(io)?;
        if !self.leaves.is_empty() {
            w.write_all(&build_index(&self.leaves, h.index_node_size)).map_err(io)?;
        }
        let mut from = File::open(features.temp_path()).map_err(io)?;
        from.seek(SeekFrom::Start(0)).map_err(io)?;
        std::io::copy(&mut from, w).map_err(io)?;
        drop(features);
        report.warnings.append(&mut self.warnings);
        report.outputs.push(out.commit().map_err(io)?);
        Ok(())
    }
}
